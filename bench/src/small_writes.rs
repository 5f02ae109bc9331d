//! Small writes to PostgreSQL over TCP, with and without Nagle's algorithm (not a test: see
//! bench/SMALL-WRITES.md). Usage: `small-writes-bench URL [ROUNDS]`, URL a PostgreSQL database
//! reached over TCP (`postgres://USER@127.0.0.1:5432/DB`); it is migrated, and one row of its
//! settings is written and removed again.
//!
//! Each round is what a form's save is: begin, update, select, commit, in one transaction, timed
//! from begin to commit; every other update sends a 100 KB value (longer than a loopback segment,
//! as an import's batch is), whose last part is what Nagle's algorithm would hold back. The same
//! rounds run with TCP_NODELAY as sqlx sets it (on), then with it turned off on the pool's one
//! socket, which is how the stall the README once warned of would show.

use std::os::fd::{BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ducha_storage::{Db, DbOptions};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait, Value};

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

/// The descriptor of this process's TCP socket from local `port` to `remote` (by its inode in
/// /proc/net/tcp).
fn socket_on_local_port(port: u16, remote: u16) -> Result<RawFd> {
    let table = std::fs::read_to_string("/proc/net/tcp")?;
    let inode = table
        .lines()
        .skip(1)
        .find_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let port_of = |col: usize| u16::from_str_radix(cols.get(col)?.rsplit(':').next()?, 16).ok();
            (port_of(1)? == port && port_of(2)? == remote).then(|| cols.get(9).map(|s| s.to_string()))?
        })
        .context("the pool's connection is not in /proc/net/tcp (not over TCP?)")?;
    let wanted = format!("socket:[{inode}]");
    for e in std::fs::read_dir("/proc/self/fd")? {
        let e = e?;
        if std::fs::read_link(e.path())?.to_string_lossy() == wanted {
            return e.file_name().to_str().and_then(|s| s.parse().ok()).context("a descriptor");
        }
    }
    bail!("no descriptor of this process is the pool's socket")
}

/// `rounds` small writes; their times, sorted.
async fn rounds(db: &Db, rounds: usize) -> Result<Vec<Duration>> {
    let mut took = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let value = if i % 2 == 0 { i.to_string() } else { format!("{i}{}", "0".repeat(100_000)) };
        let t = Instant::now();
        let txn = db.conn().begin().await?;
        txn.execute_raw(stmt(
            "UPDATE settings SET value = $1 WHERE key = $2",
            vec![value.into(), "bench.small_writes".into()],
        ))
        .await?;
        txn.query_one_raw(stmt("SELECT value FROM settings WHERE key = $1", vec!["bench.small_writes".into()])).await?;
        txn.commit().await?;
        took.push(t.elapsed());
    }
    took.sort();
    Ok(took)
}

fn report(label: &str, took: &[Duration]) {
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    let over_40ms = took.iter().filter(|d| **d >= Duration::from_millis(40)).count();
    println!(
        "{label} rounds={} median_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} over_40ms={over_40ms}",
        took.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        took[took.len() - 1].as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().context("usage: small-writes-bench URL [ROUNDS]")?;
    let n: usize = args.get(1).map_or(Ok(200), |s| s.parse())?;
    // One connection, so that every round goes over the socket whose option is set below.
    let db = Db::open_with(url, DbOptions { pool: Some(1), ..Default::default() }).await?;
    db.conn()
        .execute_raw(stmt(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            vec!["bench.small_writes".into(), "0".into()],
        ))
        .await?;
    let row = db
        .conn()
        .query_one_raw(stmt("SELECT inet_client_port() AS port", vec![]))
        .await?
        .context("the client's port")?;
    let port = u16::try_from(row.try_get::<i32>("", "port")?)?;
    let row = db
        .conn()
        .query_one_raw(stmt("SELECT inet_server_port() AS port", vec![]))
        .await?
        .context("the server's port")?;
    let server_port = u16::try_from(row.try_get::<i32>("", "port")?)?;
    let fd = socket_on_local_port(port, server_port)?;
    // SAFETY: the pool's one connection, held open by `db` until the end of main.
    let socket = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&socket);
    println!("connection local_port={port} tcp_nodelay={}", sock.tcp_nodelay()?);
    rounds(&db, 20).await?; // warm-up
    report("nodelay=on", &rounds(&db, n).await?);
    sock.set_tcp_nodelay(false)?;
    // Read back as ops::connections_over_tcp_have_nagle_off reads it: that check would fail now.
    println!("connection local_port={port} tcp_nodelay={}", sock.tcp_nodelay()?);
    report("nodelay=off", &rounds(&db, n).await?);
    sock.set_tcp_nodelay(true)?;
    db.conn().execute_raw(stmt("DELETE FROM settings WHERE key = $1", vec!["bench.small_writes".into()])).await?;
    db.close().await?;
    Ok(())
}
