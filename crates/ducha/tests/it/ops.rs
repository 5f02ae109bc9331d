//! Running ducha as an office runs it (issue 21), against the real binary: a clean stop on
//! SIGTERM with requests and imports in flight, and an import cut by a crash.

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ducha_domain::access::Actor;
use ducha_storage::{Backend, Db, registry};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::support::{Browser, TestDb, anchor_args, csrf_of};

/// The password of the accounts these tests add.
const PASSWORD: &str = "ops-test-2017";

/// A `ducha serve` child process.
pub struct Served {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
    pub base: String,
    pub addr: SocketAddr,
}

/// A port free now on 127.0.0.1 (for a server that must come back on the same address).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address")
}

impl Served {
    /// `ducha serve` on `addr` over `db` (with the test's audit key), with `extra` flags; returns
    /// once it says where it listens.
    pub async fn start(db: &str, addr: SocketAddr, extra: &[&str]) -> Served {
        Served::start_with(db, addr, extra, &[("DUCHA_LOG", "warn")]).await.0
    }

    /// The same with environment variables, and what the process logs (its stderr), kept as it
    /// comes.
    pub async fn start_with(
        db: &str,
        addr: SocketAddr,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (Served, std::sync::Arc<std::sync::Mutex<String>>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ducha"))
            .env_remove("DUCHA_DATABASE_URL")
            .env_remove("DUCHA_LOG_FORMAT")
            .envs(env.iter().copied())
            .args(["--db", db])
            .args(anchor_args(db))
            .args(["serve", "--addr", &addr.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("ducha serve starts");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let keep = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                eprintln!("{line}");
                if let Ok(mut l) = keep.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = out.next_line().await.expect("read stdout") {
                if let Some(url) = line.strip_prefix("ducha 已启动：") {
                    return url.trim_end_matches('/').to_string();
                }
            }
            panic!("ducha serve stopped without saying where it listens");
        })
        .await
        .expect("ducha serve starts within two minutes");
        (Served { child, out, base, addr }, log)
    }

    /// Send a signal by name (TERM, INT, KILL), as systemd or an operator would.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let ok = std::process::Command::new("kill").args(["-s", name, &pid]).status().expect("kill runs");
        assert!(ok.success(), "kill -s {name} {pid}");
    }

    /// Wait for the process to end (at most `limit`): its exit status, how long it took, and what
    /// it printed meanwhile.
    pub async fn ends_within(mut self, limit: Duration) -> (ExitStatus, Duration, String) {
        let started = Instant::now();
        let mut printed = String::new();
        let status = tokio::time::timeout(limit, async {
            while let Ok(Some(line)) = self.out.next_line().await {
                printed.push_str(&line);
                printed.push('\n');
            }
            self.child.wait().await.expect("wait")
        })
        .await
        .unwrap_or_else(|_| panic!("ducha serve still running {limit:?} after the signal; printed:\n{printed}"));
        (status, started.elapsed(), printed)
    }
}

/// A city-wide account to act through the pages with.
async fn add_clerk(db: &str) {
    let (ok, _, err) =
        crate::cli::run(&["user", "add", "clerk", "--role", "city", "--name", "市扶贫办", "--password", PASSWORD], db)
            .await;
    assert!(ok, "{err}");
}

/// An import file of `n` new households, in the template's layout (the export of a clean demo).
async fn households_file(n: u64) -> Vec<u8> {
    households_file_numbered(n, false).await
}

/// [`households_file`]; with `apart`, numbered apart from a demo register's (the sequence in the
/// village starts at 90000) and of people of another seed, so that importing it into a demo
/// register only adds households.
async fn households_file_numbered(n: u64, apart: bool) -> Vec<u8> {
    use sea_orm::ConnectionTrait;
    let src = TestDb::new(Backend::Sqlite).await;
    let db = src.open().await;
    db.system().regions().ensure_default().await.expect("regions");
    let seed = if apart { 7 } else { ducha_domain::demo::DemoConfig::default().seed };
    let config = ducha_domain::demo::DemoConfig { households: n, defects: false, seed, ..Default::default() };
    db.scoped(&Actor::system()).demo().load(config, |_, _| {}).await.expect("demo");
    if apart {
        db.conn()
            .execute_unprepared("UPDATE households SET number = substr(number, 1, 12) || '9' || substr(number, 14)")
            .await
            .expect("renumbered");
    }
    let filter = registry::HouseholdFilter::default();
    let (bytes, count) = ducha_reports::exchange::export(&db.scoped(&Actor::command_line("test")), &filter, |_| {})
        .await
        .expect("export");
    assert_eq!(count.households, n);
    bytes
}

/// Upload `file` as the clerk, confirm it, and wait until its writing has begun: the job's path.
async fn running_import(base: &str, file: Vec<u8>) -> (Browser, String) {
    let b = Browser::new(base);
    let r = b.login("clerk", PASSWORD).await;
    assert_ne!(r.url().path(), "/login", "the clerk signs in");
    let (status, job, page) = b.upload(vec![("户.xlsx", file)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("检查通过"), "{page}");
    let r = b.submit(&format!("{job}/commit"), &[]).await;
    assert!(r.status().is_success());
    for _ in 0..600 {
        let (_, page) = b.get_text(&job).await;
        if page.contains("正在导入") {
            return (b, job);
        }
        assert!(!page.contains("导入完成"), "the import must still be running when the server is stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import did not start");
}

async fn job_status(db: &Db, job: &str) -> String {
    let id: i64 = job.rsplit('/').next().and_then(|s| s.parse().ok()).expect("a job id");
    let clerk = db.system().accounts().find_user("clerk").await.expect("read").expect("clerk");
    db.scoped(&clerk.actor(None)).import_jobs().get(id).await.expect("read").expect("the job").status
}

/// The login form's cookie and token, as a browser would have them before it signs in.
async fn login_form(base: &str) -> (String, String) {
    let r = reqwest::get(format!("{base}/login")).await.expect("login page");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ducha_login_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("the login form's cookie")
        .to_string();
    let token = csrf_of(&r.text().await.expect("page"));
    (cookie, token)
}

/// A sign-in whose body is sent in two halves, over a plain connection: the request is in flight
/// between them. Returns the connection and the second half.
async fn half_sent_login(s: &Served) -> (tokio::net::TcpStream, Vec<u8>) {
    let (cookie, token) = login_form(&s.base).await;
    let body = format!("_csrf={token}&username=clerk&password={PASSWORD}&next=%2F");
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        s.addr,
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.expect("connect");
    let (first, second) = body.as_bytes().split_at(body.len() / 2);
    conn.write_all(head.as_bytes()).await.expect("send");
    conn.write_all(first).await.expect("send");
    conn.flush().await.expect("send");
    (conn, second.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_a_request_in_flight_refuses_new_ones_and_exits_0() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    add_clerk(&test_db.url).await;
    let s = Served::start(&test_db.url, free_addr(), &["--stop-seconds", "20"]).await;
    let (mut conn, rest) = half_sent_login(&s).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.signal("TERM");
    // Stopping: new connections are refused at once ...
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if tokio::net::TcpStream::connect(s.addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "a stopping server accepts no new connection");
    // ... while the sign-in sent before the signal is answered in full: signed in.
    conn.write_all(&rest).await.expect("the rest of the body is taken");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.expect("the answer");
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(answer.contains("ducha_session="), "the clerk is signed in: {answer}");
    let (status, took, printed) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "a clean stop exits 0 ({status}); printed:\n{printed}");
    assert!(printed.contains("收到 SIGTERM") && printed.contains("已停止"), "{printed}");
    eprintln!("stopped {took:?} after the request was answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_never_ends_is_cut_at_the_bound_and_sigint_stops_alike() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    add_clerk(&test_db.url).await;
    let s = Served::start(&test_db.url, free_addr(), &["--stop-seconds", "2"]).await;
    // A client that sends half its request and then nothing.
    let (_stalled, _) = half_sent_login(&s).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.signal("INT");
    let (status, took, printed) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "{status}; printed:\n{printed}");
    assert!(printed.contains("收到 SIGINT"), "{printed}");
    assert!(took >= Duration::from_millis(1_500), "the request in flight was waited for ({took:?})");
    assert!(took < Duration::from_secs(8), "but only for the bound of 2 s ({took:?})");
}

/// SIGTERM while an import is being written: the stop waits for it, it is written whole, the
/// process exits 0 and the audit chain verifies.
async fn sigterm_lets_a_running_import_finish(backend: Backend) {
    let file = households_file(400).await;
    let test_db = TestDb::new(backend).await;
    add_clerk(&test_db.url).await;
    let s = Served::start(&test_db.url, free_addr(), &["--stop-seconds", "300"]).await;
    let (_b, job) = running_import(&s.base, file).await;
    s.signal("TERM");
    let (status, took, printed) = s.ends_within(Duration::from_secs(300)).await;
    assert_eq!(status.code(), Some(0), "{status}; printed:\n{printed}");
    eprintln!("{}: the import finished and the server stopped {took:?} after SIGTERM", backend.name());
    let db = test_db.open().await;
    assert_eq!(job_status(&db, &job).await, "done");
    assert_eq!(
        db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.expect("count").0,
        400
    );
    db.close().await.ok();
    let (ok, out, err) = crate::cli::run(&["audit-log", "verify"], &test_db.url).await;
    assert!(ok, "{out}{err}");
}

/// An import still running when the stop's bound passes is rolled back and reads 已中断; so is
/// one whose server was killed (a crash), at the server's next start. Nothing of either is
/// written, and the audit chain verifies.
async fn an_import_cut_by_the_bound_or_a_crash_is_interrupted_and_writes_nothing(backend: Backend) {
    let file = households_file(4_000).await;
    let test_db = TestDb::new(backend).await;
    add_clerk(&test_db.url).await;
    let addr = free_addr();

    let s = Served::start(&test_db.url, addr, &["--stop-seconds", "1"]).await;
    let (_, cut) = running_import(&s.base, file.clone()).await;
    s.signal("TERM");
    let (status, took, printed) = s.ends_within(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "{status}; printed:\n{printed}");
    assert!(took < Duration::from_secs(15), "the bound of 1 s holds ({took:?})");

    // A crash: the process is killed in the middle of the writing.
    let s = Served::start(&test_db.url, addr, &[]).await;
    let (_, crashed) = running_import(&s.base, file).await;
    s.signal("KILL");
    let (status, ..) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), None, "killed");

    // The next start on the same address knows both ended unfinished, and says so.
    let s = Served::start(&test_db.url, addr, &[]).await;
    let b = Browser::new(&s.base);
    b.login("clerk", PASSWORD).await;
    for job in [&cut, &crashed] {
        let (status, page) = b.get_text(job).await;
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("已中断") && page.contains("未写入任何数据"), "{page}");
    }
    let (_, list) = b.get_text("/imports").await;
    assert!(!list.contains("正在导入"), "no import reads as running forever: {list}");
    s.signal("TERM");
    let (status, ..) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));

    let db = test_db.open().await;
    assert_eq!(
        db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.expect("count").0,
        0,
        "nothing written"
    );
    assert_eq!(job_status(&db, &cut).await, "interrupted");
    db.close().await.ok();
    let (ok, out, err) = crate::cli::run(&["audit-log", "verify"], &test_db.url).await;
    assert!(ok, "{out}{err}");
}

both_backends!(
    sigterm_lets_a_running_import_finish,
    an_import_cut_by_the_bound_or_a_crash_is_interrupted_and_writes_nothing
);

/// The test database's address over TCP to 127.0.0.1:5432 (the suite itself prefers the Unix
/// socket where there is one), with `query` added.
fn over_tcp(url: &str, query: &str) -> String {
    let name = url.split('?').next().and_then(|u| u.rsplit('/').next()).expect("a database name");
    let sep = if query.is_empty() { "" } else { "?" };
    format!("postgres://postgres@127.0.0.1:5432/{name}{sep}{query}")
}

/// The descriptor of this process's TCP socket from local `port` to PostgreSQL's 5432 (found by
/// its inode in /proc/net/tcp), or `None`.
fn socket_on_local_port(port: u16) -> Option<std::os::fd::RawFd> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …", addresses in hex.
    let inode = table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let port_of = |col: usize| u16::from_str_radix(cols.get(col)?.rsplit(':').next()?, 16).ok();
        (port_of(1)? == port && port_of(2)? == 5432).then(|| cols.get(9).map(|s| s.to_string()))?
    })?;
    let wanted = format!("socket:[{inode}]");
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").find_map(|e| {
        let e = e.ok()?;
        let fd = e.file_name().to_str()?.parse().ok()?;
        (std::fs::read_link(e.path()).ok()?.to_string_lossy() == wanted).then_some(fd)
    })
}

/// Over TCP, ducha's connections to PostgreSQL have Nagle's algorithm off (TCP_NODELAY), so a
/// small write (begin, update, select, commit: a form's save) is never held back waiting for a
/// delayed ACK (40 ms a statement where it happens). The README's advice on TCP rests on this.
/// How long such writes take is measured in bench/SMALL-WRITES.md, not here: on the loopback the
/// stall shows without TCP_NODELAY only now and then, no more often than a busy machine's own
/// pauses, so a timing test could not fail or would fail by chance. This checks the option itself
/// on the pool's own socket, and fails if sqlx stops setting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_tcp_have_nagle_off() {
    use sea_orm::ConnectionTrait;
    let test_db = TestDb::new(Backend::Postgres).await;
    let options = ducha_storage::DbOptions { pool: Some(1), ..Default::default() };
    let db = Db::open_with(&over_tcp(&test_db.url, ""), options).await.expect("PostgreSQL over TCP");
    let row = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT inet_client_port() AS port",
        ))
        .await
        .expect("the client's port")
        .expect("a row");
    let port = u16::try_from(row.try_get::<i32>("", "port").expect("port")).expect("a port");
    let fd = socket_on_local_port(port).expect("the pool's socket in this process");
    // SAFETY: the pool (one connection, held by `db`) keeps this socket open while it is read.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let nodelay = socket2::SockRef::from(&borrowed).tcp_nodelay().expect("TCP_NODELAY");
    assert!(nodelay, "the connection to PostgreSQL over TCP (local port {port}) has Nagle's algorithm on");
    db.close().await.ok();
}

/// The CA that signed the local PostgreSQL's certificate: made by scripts/test.sh, which turns
/// TLS on for the local cluster (or given by DUCHA_TEST_PG_CA for another server).
fn test_ca() -> String {
    let ca = std::env::var("DUCHA_TEST_PG_CA").unwrap_or_else(|_| "/var/lib/postgresql/ducha-test-tls/ca.crt".into());
    assert!(
        std::path::Path::new(&ca).exists(),
        "没有测试用的 PostgreSQL CA 证书 {ca}：请用 scripts/test.sh 运行（它为本机 PostgreSQL 打开 TLS），\
         或用 DUCHA_TEST_PG_CA 指定签发服务器证书的 CA"
    );
    ca
}

/// Whether the pool's connection is encrypted, as the server sees it.
async fn encrypted(db: &Db) -> bool {
    use sea_orm::ConnectionTrait;
    let row = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .expect("pg_stat_ssl")
        .expect("a row");
    row.try_get::<bool>("", "ssl").expect("ssl")
}

/// PostgreSQL as deployed, over TCP with TLS: sslmode=require encrypts; verify-full with the CA
/// that signed the server's certificate encrypts and checks who answers; the binary migrates and
/// serves that way; a certificate no trusted CA signed is refused in one sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_require_and_verify_full() {
    let ca = test_ca();
    let test_db = TestDb::new(Backend::Postgres).await;
    let plain = Db::connect(&over_tcp(&test_db.url, "sslmode=disable")).await.expect("plain TCP");
    assert!(!encrypted(&plain).await, "sslmode=disable is plain: the check can tell");
    plain.close().await.ok();
    for query in ["sslmode=require".to_string(), format!("sslmode=verify-full&sslrootcert={ca}")] {
        let url = over_tcp(&test_db.url, &query);
        let db = Db::open(&url).await.unwrap_or_else(|e| panic!("{query}: {e}"));
        assert!(encrypted(&db).await, "{query} encrypts");
        db.close().await.ok();
    }
    // The binary over verify-full, with the connection settings.
    let url = over_tcp(&test_db.url, &format!("sslmode=verify-full&sslrootcert={ca}"));
    let (ok, out, err) = crate::cli::run(
        &["migrate", "--db-pool", "4", "--db-connect-timeout", "5", "--db-statement-timeout", "60"],
        &url,
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("数据库结构已是最新"), "{out}");
    // Another CA (the system's public ones) did not sign the test server's certificate.
    let wrong = over_tcp(&test_db.url, "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt");
    let (ok, _, err) = crate::cli::run(&["migrate"], &wrong).await;
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    assert!(err.contains("无法连接数据库") && err.contains("加密连接（TLS）没有建立"), "{err}");
}

/// A database that cannot be reached, or refuses, is one sentence in Chinese, said once, naming
/// where and why, with the password masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_one_sentence_with_the_password_masked() {
    let closed = free_addr();
    let url = format!("postgres://ducha:s3cret-pw@{closed}/ducha");
    let (ok, out, err) = crate::cli::run_plain(&["migrate"], &url).await;
    assert!(!ok, "{out}");
    assert_eq!(err.trim().lines().count(), 1, "said once: {err}");
    assert!(err.contains(&format!("无法连接数据库 postgres://ducha:***@{closed}/ducha")), "{err}");
    assert!(err.contains("拒绝连接"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");

    let missing = over_tcp("postgres://x/ducha_no_such_database", "password=s3cret-pw");
    let (ok, _, err) = crate::cli::run_plain(&["migrate"], &missing).await;
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "said once: {err}");
    assert!(err.contains("数据库不存在") && err.contains("password=***"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
}

/// Every request has an id: sent back as X-Request-Id, named on its error page for the clerk to
/// pass on, and in the span of each of its log lines, which are JSON with DUCHA_LOG_FORMAT=json.
/// An id a proxy in front gave is kept when it is a plain token, and replaced when it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_is_on_the_error_page_and_in_every_log_line_of_it() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    add_clerk(&test_db.url).await;
    let (ok, token, err) = crate::cli::run(&["user", "token", "clerk", "--name", "日志测试"], &test_db.url).await;
    assert!(ok, "{err}");
    let token = token.trim().lines().last().expect("the token").trim().to_string();
    let env = [("DUCHA_LOG", "info,sqlx=error,sea_orm=warn,sea_orm_migration=warn"), ("DUCHA_LOG_FORMAT", "json")];
    let (s, log) = Served::start_with(&test_db.url, free_addr(), &[], &env).await;
    let client = reqwest::Client::new();
    // A signed-in request: its log lines say who acted, with which role, over which region.
    let r = client.get(format!("{}/api/v1/projects", s.base)).bearer_auth(&token).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let signed_in = r.headers()["x-request-id"].to_str().expect("an id").to_string();
    let r = client.get(format!("{}/no-such-page", s.base)).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 404);
    let id = r.headers()["x-request-id"].to_str().expect("an id").to_string();
    let page = r.text().await.expect("page");
    assert!(page.contains(&format!("请将此编号告诉管理员：<code id=\"request-id\">{id}</code>")), "{page}");

    let r = client.get(format!("{}/healthz", s.base)).header("x-request-id", "nginx-7f3a9c2e").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "nginx-7f3a9c2e", "the proxy's id is kept");
    let r = client.get(format!("{}/healthz", s.base)).header("x-request-id", "a b<script>").send().await.unwrap();
    let replaced = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(replaced != "a b<script>" && replaced.len() == 36, "{replaced}");

    s.signal("TERM");
    let (status, ..) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));
    let log = log.lock().expect("log").clone();
    // Log lines are JSON; the lines for people the command prints (where the audit key was
    // made) are not log lines.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{') || l.contains("Z ") || l.contains(" INFO ") || l.contains(" WARN "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("a log line that is not JSON: {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    let of_request: Vec<&serde_json::Value> = lines.iter().filter(|l| l["span"]["id"] == id.as_str()).collect();
    assert!(!of_request.is_empty(), "the 404's log line names its id: {log}");
    assert!(of_request.iter().any(|l| l["fields"]["status"] == 404), "{log}");
    assert!(lines.iter().any(|l| l["span"]["id"] == "nginx-7f3a9c2e"), "{log}");
    let of_clerk: Vec<&serde_json::Value> = lines.iter().filter(|l| l["span"]["id"] == signed_in.as_str()).collect();
    assert!(!of_clerk.is_empty(), "{log}");
    for l in of_clerk {
        assert_eq!(l["span"]["user"], "clerk", "{l}");
        assert_eq!(l["span"]["role"], "city", "{l}");
        assert_eq!(l["span"]["scope"], "all", "a city office without a region sees everything: {l}");
    }
}

/// `/readyz` says whether the database answers with this binary's schema; `/metrics` is in
/// Prometheus' text format with requests by route and status, latency, the pool, import jobs and
/// the audit chain, and answers only the configured addresses (here the host itself), never
/// another address nor a request relayed by a proxy.
async fn readyz_and_metrics_for_the_monitor_only(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = crate::support::TestApp::spawn(backend).await;
    let get = |path: &'static str| {
        let c = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let r = c.get(url).send().await.expect("request");
            (r.status().as_u16(), r.text().await.expect("body"))
        }
    };
    assert_eq!(get("/readyz").await, (200, "ready".to_string()));
    let exec = |sql: String| {
        let db = app.db.clone();
        async move { db.conn().execute_unprepared(&sql).await.expect("sql") }
    };
    exec("DELETE FROM seaql_migrations WHERE version = 'm0001_registry'".into()).await;
    let (status, text) = get("/readyz").await;
    assert_eq!(status, 503);
    assert!(text.contains("数据库结构不是最新"), "{text}");
    exec("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m0001_registry', 0)".into()).await;
    exec("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m9999_future', 0)".into()).await;
    let (status, text) = get("/readyz").await;
    assert_eq!(status, 503);
    assert!(text.contains("比本程序新") && text.contains("m9999_future"), "{text}");
    exec("DELETE FROM seaql_migrations WHERE version = 'm9999_future'".into()).await;
    assert_eq!(get("/readyz").await.0, 200);

    let (status, text) = get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    for series in [
        r#"ducha_http_requests_total{method="GET",route="/readyz",status="503"} 2"#,
        r#"ducha_http_request_duration_seconds_bucket{le="0.005",route="/readyz"}"#,
        r#"ducha_db_pool_connections{state="in_use"}"#,
        r#"ducha_audit_records "#,
        r#"ducha_import_jobs{state="running"} 0"#,
        "ducha_audit_witness_age_seconds",
    ] {
        assert!(text.contains(series), "{series} in:\n{text}");
    }
    let elsewhere = Browser::from_address(&app.base, "127.0.0.2");
    let (status, page) = elsewhere.get_text("/metrics").await;
    assert_eq!(status, 404, "{page}");
    let relayed =
        app.client.get(format!("{}/metrics", app.base)).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
    assert_eq!(relayed.status().as_u16(), 404);
}

both_backends!(readyz_and_metrics_for_the_monitor_only);

/// Debian's nginx, on a free port of its own, in front of `upstream`, configured as DEPLOY.md
/// says (the proxy headers; TLS is left out here).
struct Nginx {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    async fn start(upstream: SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().expect("temporary directory");
        let addr = free_addr();
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               server {{\n    listen {addr};\n    client_max_body_size 40m;\n    location / {{\n\
                 proxy_pass http://{upstream};\n      proxy_set_header Host $host;\n\
                 proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                 proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_set_header X-Request-Id $request_id;\n\
                 proxy_read_timeout 300s;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("nginx.conf");
        let nginx =
            ["/usr/sbin/nginx", "nginx"].into_iter().find(|n| std::path::Path::new(n).exists()).unwrap_or("nginx");
        let child = std::process::Command::new(nginx)
            .args(["-p", &dir.path().display().to_string(), "-c", &dir.path().join("nginx.conf").display().to_string()])
            .spawn()
            .unwrap_or_else(|e| panic!("没有 nginx（{e}）：请用 scripts/test.sh 运行（它会安装 nginx-light）"));
        // Owned at once, so that Drop stops it whatever happens below.
        let nginx = Nginx { child, base: format!("http://{addr}"), _dir: dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return nginx;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM to the master, which ends its workers too.
        let _ = std::process::Command::new("kill").args(["-s", "TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// A client on another machine: its connections come from `ip`.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().unwrap()).build().unwrap()
}

/// Behind nginx: the audit trail records the browser's address and not the proxy's; the login
/// throttle counts each browser's address apart; a header forged by a client (through the proxy,
/// or straight to ducha from an address that is no trusted proxy) is ignored; a trusted proxy
/// that says https gets Secure cookies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_the_client_address_is_the_browsers_and_forged_headers_are_ignored() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    add_clerk(&test_db.url).await;
    let (ok, token, err) = crate::cli::run(&["user", "token", "clerk", "--name", "代理测试"], &test_db.url).await;
    assert!(ok, "{err}");
    let token = token.trim().lines().last().expect("the token").trim().to_string();
    let s = Served::start(&test_db.url, free_addr(), &["--trusted-proxies", "127.0.0.1/32"]).await;
    let nginx = Nginx::start(s.addr).await;
    let db = test_db.open().await;
    let last_origin = || async {
        use sea_orm::ConnectionTrait;
        let r = db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                db.conn().get_database_backend(),
                "SELECT origin FROM audit_log ORDER BY id DESC LIMIT 1",
            ))
            .await
            .unwrap()
            .unwrap();
        r.try_get::<Option<String>>("", "origin").unwrap().unwrap_or_default()
    };
    let set_param = |base: String, from: &'static str, value: &'static str| {
        let token = token.clone();
        async move {
            let r = client_from(from)
                .put(format!("{base}/api/v1/checks/params/attendance_min_percent"))
                .bearer_auth(token)
                .header("x-forwarded-for", "6.6.6.6")
                .json(&serde_json::json!({ "value": value }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());
        }
    };
    // Through nginx from 127.0.0.2, with a forged header nginx passes on to the left of its own.
    set_param(nginx.base.clone(), "127.0.0.2", "75").await;
    assert_eq!(last_origin().await, "127.0.0.2", "the browser's address, not nginx's nor the forged one");
    // Straight to ducha from 127.0.0.3, which is no proxy: its header is not believed.
    set_param(s.base.clone(), "127.0.0.3", "70").await;
    assert_eq!(last_origin().await, "127.0.0.3");

    // The throttle: three wrong passwords from one browser make it wait; another browser behind
    // the same nginx signs in at once.
    let wrong = Browser::from_address(&nginx.base, "127.0.0.4");
    for _ in 0..3 {
        assert_eq!(wrong.login("clerk", "not-the-password").await.status().as_u16(), 401);
    }
    let r = wrong.login("clerk", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429, "that browser waits");
    let other = Browser::from_address(&nginx.base, "127.0.0.5");
    let r = other.login("clerk", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_ne!(r.url().path(), "/login", "another browser behind the same proxy signs in");

    // https as the trusted proxy says; the same claim from elsewhere changes nothing.
    let cookie_of = |from: &'static str| {
        let base = s.base.clone();
        async move {
            let r = client_from(from)
                .get(format!("{base}/login"))
                .header("x-forwarded-proto", "https")
                .send()
                .await
                .unwrap();
            r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
        }
    };
    assert!(cookie_of("127.0.0.1").await.contains("; Secure"), "behind an https proxy cookies are Secure");
    assert!(!cookie_of("127.0.0.3").await.contains("Secure"), "a claim from no proxy is ignored");
    db.close().await.ok();
    drop(nginx);
    s.signal("TERM");
    let (status, ..) = s.ends_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0));
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

async fn households_in(db: &Db) -> (i64, i64) {
    db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.expect("count")
}

/// A backup taken while an import is being written restores, into an empty database, to the
/// registry before the import or after it, never half of it; the copy and its head file are the
/// owner's only; after the restore (with the audit key put in place) the audit chain verifies;
/// a restore into a database that is not empty is refused. The SQLite database itself is made
/// owner-only.
async fn a_backup_during_an_import_restores_wholly_or_not_at_all(backend: Backend) {
    let file = households_file(1_500).await;
    let test_db = TestDb::new(backend).await;
    add_clerk(&test_db.url).await;
    if backend == Backend::Sqlite {
        let path = test_db.url.trim_start_matches("sqlite://");
        assert_eq!(mode_of(std::path::Path::new(path)), 0o600, "the database file is the owner's only");
    }
    let s = Served::start(&test_db.url, free_addr(), &[]).await;
    if backend == Backend::Sqlite {
        let wal = format!("{}-wal", test_db.url.trim_start_matches("sqlite://"));
        assert_eq!(mode_of(std::path::Path::new(&wal)), 0o600, "and so is its write-ahead log");
    }
    let (b, job) = running_import(&s.base, file).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("nightly.backup");
    let (ok, said, err) = crate::cli::run(&["backup", "--out", &out.display().to_string()], &test_db.url).await;
    assert!(ok, "{said}{err}");
    let (_, page) = b.get_text(&job).await;
    let mid_import = page.contains("正在导入");
    for _ in 0..1200 {
        if b.get_text(&job).await.1.contains("导入完成") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let source = test_db.open().await;
    let after = households_in(&source).await;
    assert_eq!(after.0, 1_500, "the import finished");
    source.close().await.ok();
    let head_file = dir.path().join("nightly.backup.audit-head");
    assert_eq!((mode_of(&out), mode_of(&head_file)), (0o600, 0o600), "backups are the owner's only");

    let target = TestDb::new(backend).await;
    let _ = std::fs::remove_file(target.anchor_paths().key.clone());
    std::fs::copy(test_db.anchor_paths().key, target.anchor_paths().key).expect("the audit key is put in place");
    let (ok, said, err) = crate::cli::run(&["restore", &out.display().to_string()], &target.url).await;
    assert!(ok, "{said}{err}");
    // The backup holds ciphertext: without the master key the copy does not open, and says why.
    let (ok, _, err) = crate::cli::run(&["user", "list"], &target.url).await;
    assert!(!ok && err.contains("找不到主密钥文件"), "{err}");
    std::fs::copy(test_db.anchor_paths().master, target.anchor_paths().master).expect("the master key is put in place");
    let restored = target.open().await;
    let counts = households_in(&restored).await;
    eprintln!("{}: backup taken mid-import: {mid_import}; restored {counts:?} of {after:?}", backend.name());
    assert!(counts == (0, 0) || counts == after, "wholly or not at all: {counts:?} (the import wrote {after:?})");
    let head = restored.system().backup().head().await.expect("head");
    let beside = std::fs::read_to_string(&head_file).expect("head file");
    assert_eq!(beside.trim(), format!("{}\t{}", head.id, head.hash), "the head beside the backup is the backup's");
    restored.close().await.ok();
    let (ok, out_text, err) = crate::cli::run(&["audit-log", "verify"], &target.url).await;
    assert!(ok, "{out_text}{err}");
    assert!(out_text.contains("审计链完好"), "{out_text}");

    let (ok, _, err) = crate::cli::run(&["restore", &out.display().to_string()], &target.url).await;
    assert!(!ok && err.contains("不是空的"), "{err}");
    s.signal("TERM");
    let (status, ..) = s.ends_within(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0));
}

both_backends!(a_backup_during_an_import_restores_wholly_or_not_at_all);

/// A small synthetic database as ducha 0.1.0 (schema m0014_security) left it: `ducha demo
/// --households 200`, an account added, a token made, an account disabled, the witness written;
/// the SQLite file, and the same on PostgreSQL as pg_dump's plain SQL, with their audit keys.
const KEPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/upgrade-0.1.0");

/// This binary upgrades the kept database of the earlier version with nothing lost: `migrate
/// --dry-run` lists what would run and changes nothing, `migrate` runs it, the counts and a
/// sample of records are as they were, the audit chain verifies with the old key and witness.
/// A database that a newer version migrated is refused, in words. `--version` names the schema.
async fn the_kept_database_of_0_1_0_upgrades_with_nothing_lost(backend: Backend) {
    let kept = std::path::Path::new(KEPT);
    let dir = tempfile::tempdir().expect("temporary directory");
    let test_db = TestDb::new(backend).await;
    let url = match backend {
        Backend::Sqlite => {
            for f in ["ducha.db", "ducha.db.audit-key", "ducha.db.audit-witness"] {
                std::fs::copy(kept.join(f), dir.path().join(f)).expect("copy the kept database");
            }
            format!("sqlite://{}", dir.path().join("ducha.db").display())
        }
        Backend::Postgres => {
            use sea_orm::ConnectionTrait;
            let sql = std::fs::read_to_string(kept.join("ducha-pg.sql")).expect("the kept dump");
            let db = Db::connect(&test_db.url).await.expect("connect");
            db.conn().execute_unprepared(&sql).await.expect("the kept dump loads");
            db.close().await.ok();
            let p = test_db.anchor_paths();
            std::fs::copy(kept.join("pg.audit-key"), p.key).expect("key");
            std::fs::copy(kept.join("pg.audit-witness"), p.witness).expect("witness");
            test_db.url.clone()
        }
    };
    let run = |args: &'static [&'static str]| {
        let url = url.clone();
        async move {
            if backend == Backend::Sqlite {
                crate::cli::run_plain(args, &url).await
            } else {
                crate::cli::run(args, &url).await
            }
        }
    };
    let new_migrations = ["m0015_job_owner"];
    for _ in 0..2 {
        let (ok, out, err) = run(&["migrate", "--dry-run"]).await;
        assert!(ok, "{err}");
        assert!(out.contains("m0014_security") && new_migrations.iter().all(|m| out.contains(m)), "{out}");
    }
    let (ok, out, err) = run(&["migrate"]).await;
    assert!(ok, "{out}{err}");
    let (ok, out, _) = run(&["migrate", "--dry-run"]).await;
    assert!(ok && out.contains("已是最新"), "{out}");

    let master = match backend {
        Backend::Sqlite => dir.path().join("ducha.db.master-key"),
        Backend::Postgres => test_db.anchor_paths().master,
    };
    let db = Db::connect(&url).await.expect("connect");
    let (db, _) = ducha_storage::datakeys::open(db, &master, false).await.expect("the keys the upgrade made");
    assert_eq!(households_in(&db).await, (200, 633), "every household and member");
    let users = db.system().accounts().list_users().await.expect("users");
    assert_eq!(users.len(), 16);
    assert!(users.iter().any(|u| u.username == "zhang" && u.active), "the account added");
    assert!(users.iter().any(|u| u.username == "jianghai" && !u.active), "the account disabled");
    let one = db
        .scoped(&crate::support::sees(&ducha_domain::access::Scope::All))
        .registry()
        .household_by_number("44070310221200001")
        .await
        .expect("read")
        .expect("a household of the kept database");
    assert!(!one.members.is_empty());
    // What the old version kept in clear is sealed by the upgrade, and still found by ID number.
    {
        use sea_orm::ConnectionTrait;
        let conn = db.conn();
        let clear = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM members WHERE id_number NOT LIKE 'dv1:%' OR id_lookup IS NULL",
            ))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(clear.try_get::<i64>("", "n").expect("n"), 0, "every member's ID number sealed, with its lookup");
    }
    let filter = ducha_storage::registry::HouseholdFilter {
        q: Some(one.members[0].id_number.to_string()),
        ..Default::default()
    };
    let found = db
        .scoped(&crate::support::sees(&ducha_domain::access::Scope::All))
        .registry()
        .list(&filter, None, None, 10)
        .await
        .expect("search");
    assert_eq!(found.rows.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(), ["44070310221200001"]);
    db.close().await.ok();
    let (ok, out, err) = run(&["audit-log", "verify"]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("审计链完好") && out.contains("签名校验通过"), "{out}");
    let (ok, out, _) = run(&["household", "show", "44070310221200001"]).await;
    assert!(ok && out.contains("44070310221200001"), "{out}");

    // A newer version's migration in the database: this binary refuses it, and says why.
    use sea_orm::ConnectionTrait;
    let db = Db::connect(&url).await.expect("connect");
    db.conn()
        .execute_unprepared("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m0999_from_the_future', 0)")
        .await
        .expect("insert");
    db.close().await.ok();
    for args in [&["migrate"][..], &["migrate", "--dry-run"], &["serve", "--addr", "127.0.0.1:0"]] {
        let (ok, _, err) = run(args).await;
        assert!(!ok, "{args:?}");
        assert!(err.contains("已由更新版本的 ducha 升级") && err.contains("m0999_from_the_future"), "{args:?}: {err}");
    }
    if backend == Backend::Sqlite {
        let (ok, out, _) = run(&["--version"]).await;
        assert!(ok && out.contains(&ducha_storage::schema_version()), "{out}");
    }
}

both_backends!(the_kept_database_of_0_1_0_upgrades_with_nothing_lost);

/// The scheduled backups of `ducha serve` in `dir`: `ducha-….db` or `.pgdump`, sorted (oldest
/// first, by the time in their names).
fn scheduled_backups(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.starts_with("ducha-") && (n.ends_with(".db") || n.ends_with(".pgdump")))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Watch `dir` until `n` scheduled backups have been seen in it (`seen` keeps every one seen, also
/// those pruned since); a schedule that does not fire fails here.
async fn wait_for_backups(dir: &std::path::Path, seen: &mut std::collections::BTreeSet<String>, n: usize) {
    let started = Instant::now();
    loop {
        seen.extend(scheduled_backups(dir));
        if seen.len() >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the schedule did not fire: {} backups seen in 90 s, {n} awaited ({seen:?})",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of a gauge without labels in a `/metrics` answer.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `serve`'s backup schedule, run by the real binary: with `--backup-every-seconds 2` (the
/// documented setting that replaces the daily hour) backups appear in the directory, each with the
/// audit chain's head beside it, owner-only; only the newest `--backup-keep 2` are kept; a change
/// made while serving is in the next backup; `/metrics` shows the newest backup's age; after the
/// stop nothing partial is left, and the newest backup restores into an empty database whose
/// audit chain verifies. Waiting for backups that never come fails the test.
async fn scheduled_backups_appear_keep_the_newest_and_restore(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    add_clerk(&test_db.url).await;
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("backups");
    let dir_arg = dir.display().to_string();
    let (s, _log) = Served::start_with(
        &test_db.url,
        free_addr(),
        &["--backup-dir", &dir_arg, "--backup-keep", "2"],
        &[("DUCHA_LOG", "warn"), ("DUCHA_BACKUP_EVERY_SECONDS", "2")],
    )
    .await;
    let metrics = || async {
        let r = reqwest::get(format!("{}/metrics", s.base)).await.expect("metrics");
        assert_eq!(r.status().as_u16(), 200);
        r.text().await.expect("body")
    };
    let mut seen = std::collections::BTreeSet::new();
    wait_for_backups(&dir, &mut seen, 1).await;
    let first = seen.iter().next().cloned().expect("a backup");
    let age = gauge(&metrics().await, "ducha_backup_age_seconds").expect("ducha_backup_age_seconds in /metrics");
    assert!((0.0..30.0).contains(&age), "the newest backup's age: {age}");

    // A change while serving is in a later backup.
    let (ok, _, err) = crate::cli::run(
        &["user", "add", "later", "--role", "city", "--name", "后来的账号", "--password", PASSWORD],
        &test_db.url,
    )
    .await;
    assert!(ok, "{err}");
    // A backup under way now may have begun before the change; the one after it has it.
    seen.extend(scheduled_backups(&dir));
    let before_change = seen.len();
    wait_for_backups(&dir, &mut seen, before_change + 2).await;
    wait_for_backups(&dir, &mut seen, 4).await;
    let age = gauge(&metrics().await, "ducha_backup_age_seconds").expect("ducha_backup_age_seconds");
    assert!((0.0..30.0).contains(&age), "the newest backup's age: {age}");

    s.signal("TERM");
    let (status, _, printed) = s.ends_within(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "{status}; printed:\n{printed}");
    seen.extend(scheduled_backups(&dir));
    let kept = scheduled_backups(&dir);
    let newest: Vec<String> = seen.iter().rev().take(2).rev().cloned().collect();
    assert_eq!(kept, newest, "only the newest two are kept, of {seen:?}");
    assert!(!kept.contains(&first), "the first backup was pruned");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    files.sort();
    let with_heads: Vec<String> = kept.iter().flat_map(|k| [k.clone(), format!("{k}.audit-head")]).collect();
    assert_eq!(files, with_heads, "each backup with its audit head, nothing partial left");
    for f in &files {
        assert_eq!(mode_of(&dir.join(f)), 0o600, "{f} is the owner's only");
    }
    let ext = if backend == Backend::Sqlite { ".db" } else { ".pgdump" };
    assert!(kept.iter().all(|k| k.ends_with(ext)), "{kept:?}");

    // The newest restores into an empty database, with the audit key put in place.
    let newest = dir.join(kept.last().expect("a backup"));
    let target = TestDb::new(backend).await;
    let _ = std::fs::remove_file(target.anchor_paths().key);
    std::fs::copy(test_db.anchor_paths().key, target.anchor_paths().key).expect("the audit key is put in place");
    let (ok, said, err) = crate::cli::run(&["restore", &newest.display().to_string()], &target.url).await;
    assert!(ok, "{said}{err}");
    std::fs::copy(test_db.anchor_paths().master, target.anchor_paths().master).expect("the master key is put in place");
    let restored = target.open().await;
    let users = restored.system().accounts().list_users().await.expect("users");
    assert!(users.iter().any(|u| u.username == "clerk"), "the account made before serving");
    assert!(users.iter().any(|u| u.username == "later"), "the account made while serving");
    let head = restored.system().backup().head().await.expect("head");
    let beside = std::fs::read_to_string(head_file(&newest)).expect("head file");
    assert_eq!(beside.trim(), format!("{}\t{}", head.id, head.hash), "the head beside it is the backup's");
    restored.close().await.ok();
    let (ok, out, err) = crate::cli::run(&["audit-log", "verify"], &target.url).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("审计链完好"), "{out}");
}

fn head_file(backup: &std::path::Path) -> std::path::PathBuf {
    let mut p = backup.as_os_str().to_owned();
    p.push(".audit-head");
    p.into()
}

both_backends!(scheduled_backups_appear_keep_the_newest_and_restore);

/// Every household's personal values as the door opens them, by number: (household id, text).
async fn personal_snapshot(db: &Db) -> std::collections::BTreeMap<String, (i64, String)> {
    let system = db.system();
    let mut out = std::collections::BTreeMap::new();
    for number in system.registry().household_numbers(100_000).await.expect("numbers") {
        let rec = system.registry().household_by_number(&number).await.expect("opens").expect("household");
        let h = &rec.household;
        let mut text = format!("{}|{}|", h.phone.as_deref().unwrap_or(""), h.bank_account.as_deref().unwrap_or(""));
        for m in &rec.members {
            text.push_str(&format!(
                "{}:{}:{}:{};",
                m.name,
                m.id_number.as_str(),
                m.phone.as_deref().unwrap_or(""),
                m.health.as_str()
            ));
        }
        out.insert(number, (h.id, text));
    }
    out
}

/// What the key table holds: (id, suite, purpose, retired).
async fn key_table(db: &Db) -> Vec<(i64, String, String, bool)> {
    use sea_orm::ConnectionTrait;
    let conn = db.conn();
    conn.query_all_raw(sea_orm::Statement::from_string(
        conn.get_database_backend(),
        "SELECT id, suite, purpose, retired_at IS NOT NULL AS retired FROM data_keys ORDER BY id",
    ))
    .await
    .expect("keys")
    .iter()
    .map(|r| {
        (
            r.try_get("", "id").expect("id"),
            r.try_get("", "suite").expect("suite"),
            r.try_get("", "purpose").expect("purpose"),
            r.try_get("", "retired").expect("retired"),
        )
    })
    .collect()
}

/// A key rotation to the national suite while ducha serves (issue 22): `ducha keys rotate --suite
/// sm` runs beside a serving process, with a clerk's import writing and pages (a search by ID
/// number among them) answering throughout; it is killed part-way and run again, and takes up
/// where it stopped. At the end every personal value is sealed under the new SM4 key, every
/// household not touched by the import reads exactly as before, searches by ID number find
/// their households under the new lookup key, and the audit chain (now hashed with SM3)
/// verifies.
async fn keys_rotate_while_ducha_serves_and_a_kill_loses_nothing(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let file = households_file_numbered(1_500, true).await;
    let test_db = TestDb::new(backend).await;
    let (ok, _, err) = crate::cli::run(&["demo", "--households", "1500"], &test_db.url).await;
    assert!(ok, "{err}");
    add_clerk(&test_db.url).await;
    let db = test_db.open().await;
    let before = personal_snapshot(&db).await;
    assert_eq!(before.len(), 1_500);
    let keys_before = key_table(&db).await;
    assert!(keys_before.iter().all(|k| k.1 == "intl" && !k.3), "{keys_before:?}");

    let s = Served::start(&test_db.url, free_addr(), &[]).await;
    // A search by ID number and a household's page, over and over, until told to stop.
    let (probe_number, (probe_id, probe_text)) =
        before.iter().next().map(|(n, v)| (n.clone(), v.clone())).expect("one");
    let probe_id_number = probe_text_id(&probe_text);
    let reader = Browser::new(&s.base);
    reader.login("clerk", PASSWORD).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pages = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, page) = reader.get_text(&format!("/households?q={probe_id_number}")).await;
                assert_eq!(status, 200, "{page}");
                assert!(page.contains(&probe_number), "the search by ID number finds its household mid-rotation");
                let (status, page) = reader.get_text(&format!("/households/{probe_id}")).await;
                assert_eq!(status, 200, "{page}");
                answered += 2;
            }
            answered
        }
    });
    let (importer, job) = running_import(&s.base, file).await;

    // The rotation, killed once it has re-sealed a few batches.
    let conn = db.conn();
    let count = |sql: &'static str| async move {
        conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("n")
    };
    let reseals = "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'data_keys' AND action = 'reseal'";
    let mut rotating = tokio::process::Command::new(env!("CARGO_BIN_EXE_ducha"))
        .env_remove("DUCHA_DATABASE_URL")
        .env("DUCHA_LOG", "warn")
        .args(["--db", &test_db.url])
        .args(anchor_args(&test_db.url))
        .args(["keys", "rotate", "--suite", "sm", "--batch", "20"])
        .kill_on_drop(true)
        .spawn()
        .expect("ducha keys rotate starts");
    let started = Instant::now();
    while count(reseals).await < 3 {
        assert!(rotating.try_wait().expect("wait").is_none(), "the rotation is still running when it is cut");
        assert!(started.elapsed() < Duration::from_secs(120), "the rotation re-seals");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rotating.start_kill().expect("kill");
    rotating.wait().await.expect("killed");
    let (ok, out, err) = crate::cli::run(&["keys", "status"], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("密钥轮换未完成") && out.contains("国密"), "{out}");

    // Run again: it takes the rotation up where it stopped.
    let (ok, out, err) = crate::cli::run(&["keys", "rotate", "--batch", "200"], &test_db.url).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("接着上次中断的密钥轮换继续") && out.contains("密钥轮换完成"), "{out}");

    // The import ends as it would have without the rotation.
    let started = Instant::now();
    loop {
        let (_, page) = importer.get_text(&job).await;
        if page.contains("导入完成") {
            break;
        }
        assert!(!page.contains("已中断") && !page.contains("失败"), "{page}");
        assert!(started.elapsed() < Duration::from_secs(300), "the import ends");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = pages.await.expect("every page answered 200");
    assert!(answered >= 10, "pages answered throughout ({answered})");
    // Anything the import sealed under the old key while the rotation ran is found by a last run.
    let (ok, out, err) = crate::cli::run(&["keys", "rotate"], &test_db.url).await;
    assert!(ok, "{out}{err}");

    // Every value under the new SM4 key; the old field key kept retired, the old lookup key gone.
    let keys_after = key_table(&db).await;
    let current: Vec<_> = keys_after.iter().filter(|k| !k.3).collect();
    assert_eq!(current.len(), 2, "{keys_after:?}");
    assert!(current.iter().all(|k| k.1 == "sm"), "{keys_after:?}");
    assert!(keys_after.iter().all(|k| !k.3 || k.2 == "field"), "old lookup keys dropped: {keys_after:?}");
    let field = current.iter().find(|k| k.2 == "field").expect("a field key").0;
    for (table, column) in ducha_storage::personal::SEALED_COLUMNS {
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT {column} AS v FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"),
            ))
            .await
            .expect("values");
        for r in rows {
            let v: String = r.try_get("", "v").expect("text");
            assert!(v.starts_with(&format!("dv1:{field}:")), "{table}.{column} under key {field}: {v}");
        }
    }
    let (ok, out, err) = crate::cli::run(&["keys", "status"], &test_db.url).await;
    assert!(ok && out.contains("全部个人信息都在现行密钥下"), "{out}{err}");

    // Nothing lost: every household the import did not touch reads as before.
    ducha_storage::datakeys::reload(&db).await.expect("the new keys load");
    let touched: std::collections::HashSet<String> = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT DISTINCT entity_id FROM audit_log WHERE action LIKE 'import_%'",
        ))
        .await
        .expect("touched")
        .iter()
        .map(|r| r.try_get("", "entity_id").expect("id"))
        .collect();
    let after = personal_snapshot(&db).await;
    let mut compared = 0;
    for (number, (id, text)) in &before {
        if touched.contains(&id.to_string()) {
            continue;
        }
        assert_eq!(after.get(number).map(|v| &v.1), Some(text), "household {number} reads as before");
        compared += 1;
    }
    assert!(compared >= 100, "households compared: {compared}");
    assert!(after.len() >= before.len());
    // Found by ID number under the new lookup key, through the door.
    let rows = db
        .scoped(&crate::support::sees(&ducha_domain::access::Scope::All))
        .registry()
        .list(&registry::HouseholdFilter { q: Some(probe_text_id(&probe_text)), ..Default::default() }, None, None, 10)
        .await
        .expect("search");
    assert_eq!(rows.rows.len(), 1);
    s.signal("TERM");
    db.close().await.ok();
    let (ok, out, err) = crate::cli::run(&["audit-log", "verify"], &test_db.url).await;
    assert!(ok, "{out}{err}");
}

/// The first member's ID number in a snapshot's text.
fn probe_text_id(text: &str) -> String {
    text.split('|').nth(2).and_then(|m| m.split(':').nth(1)).expect("an ID number").to_string()
}

both_backends!(keys_rotate_while_ducha_serves_and_a_kill_loses_nothing);
