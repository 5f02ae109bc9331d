//! `ducha backup`, `ducha restore` and the nightly backup of `serve`. A backup is one consistent
//! copy (SQLite: VACUUM INTO; PostgreSQL: pg_dump's custom format on a snapshot whose audit
//! chain head is read in it), readable by its owner only, with the chain's head written beside
//! it (`FILE.audit-head`). The audit key is never in a backup: keep it apart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use ducha_storage::backup::{self as store, Head};
use ducha_storage::{Backend, Db};

/// Beijing time (UTC+8, no summer time).
pub(crate) fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The file beside a backup that names the audit chain's head in it.
pub fn head_path(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".audit-head");
    PathBuf::from(p)
}

/// Take a backup of `db` (at `url`) into the new file `out`.
pub async fn backup(db: &Db, url: &str, out: &Path) -> Result<Head> {
    if out.exists() {
        bail!("备份文件 {} 已经存在：请换一个文件名（备份不覆盖已有的文件）", out.display());
    }
    let head = match db.backend() {
        Backend::Sqlite => db.system().backup().sqlite_into(out).await?,
        Backend::Postgres => {
            which_pg("pg_dump").await?;
            let (txn, snapshot, head) = db.system().backup().pg_snapshot().await?;
            store::create_private(out)?;
            let status = tokio::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-privileges"])
                .arg(format!("--snapshot={snapshot}"))
                .arg(format!("--file={}", out.display()))
                .arg(format!("--dbname={url}"))
                // A scheduled backup cut at a stop ends its pg_dump too.
                .kill_on_drop(true)
                .status()
                .await
                .context("无法运行 pg_dump")?;
            drop(txn);
            if !status.success() {
                let _ = std::fs::remove_file(out);
                bail!("pg_dump 失败（{status}），没有留下备份文件；它的报错见上");
            }
            head
        }
    };
    crate::files::write_private(&head_path(out), format!("{}\t{}\n", head.id, head.hash))?;
    Ok(head)
}

/// pg_dump and pg_restore come with PostgreSQL's client, not with ducha.
async fn which_pg(tool: &str) -> Result<()> {
    match tokio::process::Command::new(tool).arg("--version").output().await {
        Ok(o) if o.status.success() => Ok(()),
        _ => bail!(
            "没有找到 {tool}：备份和恢复 PostgreSQL 数据库需要 PostgreSQL 的客户端程序（Debian：apt-get install postgresql-client，版本不低于服务器）"
        ),
    }
}

/// Restore `file` into the empty database at `url`, which must hold no table yet.
pub async fn restore(url: &str, file: &Path) -> Result<()> {
    let mut magic = [0u8; 16];
    let read = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut magic))
        .with_context(|| format!("无法读取备份文件 {}", file.display()))?;
    let sqlite_file = read == 16 && &magic == b"SQLite format 3\0";
    let pg_dump = magic.starts_with(b"PGDMP");
    let db = Db::connect(url).await?;
    if !db.system().backup().is_empty().await? {
        bail!(
            "目标数据库 {} 不是空的：恢复只写入空的数据库（新建一个，或先移走原来的文件）",
            ducha_storage::db_redact(url)
        );
    }
    match db.backend() {
        Backend::Sqlite => {
            if !sqlite_file {
                bail!("{} 不是 SQLite 数据库的备份（ducha backup 在 SQLite 上写出的文件）", file.display());
            }
            db.close().await?;
            let target = sqlite_path(url).context("无法从数据库地址得到 SQLite 文件")?;
            for extra in ["-wal", "-shm"] {
                let mut p = target.as_os_str().to_owned();
                p.push(extra);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            let bytes = std::fs::read(file).with_context(|| format!("无法读取备份文件 {}", file.display()))?;
            // Written beside the target and renamed over it: whole or not at all.
            let mut tmp = target.as_os_str().to_owned();
            tmp.push(".restoring");
            let tmp = PathBuf::from(tmp);
            crate::files::write_private(&tmp, bytes)?;
            std::fs::rename(&tmp, &target).with_context(|| format!("无法写入 {}", target.display()))?;
        }
        Backend::Postgres => {
            if !pg_dump {
                bail!(
                    "{} 不是 PostgreSQL 数据库的备份（ducha backup 在 PostgreSQL 上写出的 pg_dump 文件）",
                    file.display()
                );
            }
            db.close().await?;
            which_pg("pg_restore").await?;
            let status = tokio::process::Command::new("pg_restore")
                .args(["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"])
                .arg(format!("--dbname={url}"))
                .arg(file)
                .status()
                .await
                .context("无法运行 pg_restore")?;
            if !status.success() {
                bail!("pg_restore 失败（{status}），数据库未写入任何内容；它的报错见上");
            }
        }
    }
    Ok(())
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// When `serve` takes its backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Once a day, at this hour (0–23) Beijing time: `--backup-hour`.
    Daily { hour: u32 },
    /// Every so often from the start: `--backup-every-seconds` (an office that wants several
    /// backups a day, or an operator trying the schedule out).
    Every(Duration),
}

impl Schedule {
    /// How long after `now` the next backup is due: the clock is given, so that the schedule can
    /// be checked at any instant without waiting for it.
    pub fn wait_from(self, now: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(period) => period.max(Duration::from_secs(1)),
            Schedule::Daily { hour } => {
                let now = now.with_timezone(&beijing());
                let today = now.date_naive().and_hms_opt(hour.min(23), 0, 0);
                let at = today
                    .and_then(|t| beijing().from_local_datetime(&t).single())
                    .map(|t| if t > now { t } else { t + chrono::Duration::days(1) });
                at.and_then(|t| (t - now).to_std().ok()).unwrap_or(Duration::from_secs(3600))
            }
        }
    }

    /// The schedule in words, for what `serve` prints at its start.
    pub fn describe(self) -> String {
        match self {
            Schedule::Daily { hour } => format!("每天北京时间 {hour} 点"),
            Schedule::Every(period) => format!("每 {} 秒（代替每天定点）", period.as_secs()),
        }
    }
}

/// The scheduled backups of `serve`: by `schedule`, into `dir`, keeping the newest `keep`, until
/// `stop` says the server has stopped. A backup under way when the stop comes is let finish (the
/// caller bounds how long it waits); one cut anyway leaves only a hidden `.…partial` file, which
/// the next run removes.
pub fn nightly(
    db: Db,
    url: String,
    dir: PathBuf,
    schedule: Schedule,
    keep: usize,
    mut stop: tokio::sync::watch::Receiver<Option<std::time::Instant>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(schedule.wait_from(Utc::now())) => {}
                _ = stop.wait_for(Option::is_some) => return,
            }
            match scheduled(&db, &url, &dir).await {
                Ok((out, head)) => {
                    tracing::info!(file = %out.display(), audit_head = head.id, "scheduled backup written")
                }
                Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduled backup failed"),
            }
            prune(&dir, keep);
        }
    })
}

/// One scheduled backup, `ducha-YYYYMMDD-HHMMSS.db` (or `.pgdump`) with its head beside it. It is
/// written under a hidden name and renamed when whole, head first: a file named `ducha-…` is
/// always a complete backup with its head (what `/metrics` and the pruning count).
async fn scheduled(db: &Db, url: &str, dir: &Path) -> Result<(PathBuf, Head)> {
    let stamp = Utc::now().with_timezone(&beijing()).format("%Y%m%d-%H%M%S");
    let ext = if db.backend() == Backend::Sqlite { "db" } else { "pgdump" };
    let name = format!("ducha-{stamp}.{ext}");
    let out = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let written = async {
        let head = backup(db, url, &partial).await?;
        std::fs::rename(head_path(&partial), head_path(&out))
            .with_context(|| format!("无法写入 {}", head_path(&out).display()))?;
        std::fs::rename(&partial, &out).with_context(|| format!("无法写入 {}", out.display()))?;
        Ok(head)
    }
    .await;
    match written {
        Ok(head) => Ok((out, head)),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(head_path(&partial));
            Err(e)
        }
    }
}

/// Keep the newest `keep` backups in `dir` (with their head files), and remove what a backup cut
/// by a stop or a crash left.
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut backups = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with(".ducha-") && (name.ends_with(".partial") || name.ends_with(".partial.audit-head")) {
            let _ = std::fs::remove_file(&path);
        } else if name.starts_with("ducha-") && (name.ends_with(".db") || name.ends_with(".pgdump")) {
            backups.push(path);
        }
    }
    backups.sort();
    let excess = backups.len().saturating_sub(keep.max(1));
    for old in backups.into_iter().take(excess) {
        let _ = std::fs::remove_file(head_path(&old));
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(error = %e, file = %old.display(), "could not remove an old backup");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, Utc};

    use super::Schedule;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).map(|t| t.with_timezone(&Utc)).expect("a time")
    }

    #[test]
    fn the_daily_backup_is_due_at_its_beijing_hour() {
        let two = Schedule::Daily { hour: 2 };
        // 01:59:59 in Beijing is 17:59:59 UTC the day before.
        assert_eq!(two.wait_from(at("2026-12-06T17:59:59Z")), Duration::from_secs(1));
        // At 02:00 exactly it has just been taken: the next is a day on.
        assert_eq!(two.wait_from(at("2026-12-06T18:00:00Z")), Duration::from_secs(86_400));
        // 04:30 Beijing: 21 h 30 min to go.
        assert_eq!(two.wait_from(at("2026-12-06T20:30:00Z")), Duration::from_secs(21 * 3600 + 1800));
        // Midnight Beijing is 16:00 UTC; 30 s before it.
        assert_eq!(Schedule::Daily { hour: 0 }.wait_from(at("2026-12-06T15:59:30Z")), Duration::from_secs(30));
        // 23:00 Beijing when it is 23:00:01: nearly a day.
        assert_eq!(Schedule::Daily { hour: 23 }.wait_from(at("2026-12-06T15:00:01Z")), Duration::from_secs(86_399));
        for h in 0..24 {
            let d = Schedule::Daily { hour: h }.wait_from(Utc::now());
            assert!(d > Duration::ZERO && d <= Duration::from_secs(86_400), "{h}: {d:?}");
        }
    }

    #[test]
    fn a_period_is_waited_whole_and_never_less_than_a_second() {
        let now = at("2026-12-06T17:59:59Z");
        assert_eq!(Schedule::Every(Duration::from_secs(21_600)).wait_from(now), Duration::from_secs(21_600));
        assert_eq!(Schedule::Every(Duration::ZERO).wait_from(now), Duration::from_secs(1));
    }

    #[test]
    fn pruning_keeps_the_newest_with_their_heads_and_removes_cut_ones() {
        let dir = tempfile::tempdir().expect("directory");
        let names = ["ducha-20261204-020000.db", "ducha-20261205-020000.db", "ducha-20261206-020000.db"];
        for n in names {
            std::fs::write(dir.path().join(n), b"x").expect("write");
            std::fs::write(dir.path().join(format!("{n}.audit-head")), b"1\th\n").expect("write");
        }
        for n in [".ducha-20261207-020000.db.partial", ".ducha-20261207-020000.db.partial.audit-head", "notes.txt"] {
            std::fs::write(dir.path().join(n), b"x").expect("write");
        }
        super::prune(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "ducha-20261205-020000.db",
                "ducha-20261205-020000.db.audit-head",
                "ducha-20261206-020000.db",
                "ducha-20261206-020000.db.audit-head",
                "notes.txt"
            ]
        );
    }
}
