//! `ducha backup`, `ducha restore` and the nightly backup of `serve`. A backup is one consistent
//! copy (SQLite: VACUUM INTO; PostgreSQL: pg_dump's custom format on a snapshot whose audit
//! chain head is read in it), readable by its owner only, with the chain's head written beside
//! it (`FILE.audit-head`). The audit key is never in a backup: keep it apart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{FixedOffset, Offset, TimeZone, Utc};
use ducha_storage::backup::{self as store, Head};
use ducha_storage::{Backend, Db};

/// Beijing time (UTC+8, no summer time).
fn beijing() -> FixedOffset {
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

/// When the nightly backup is due next: the next `hour`:00 Beijing time after now.
fn next_run(hour: u32) -> Duration {
    let now = Utc::now().with_timezone(&beijing());
    let today = now.date_naive().and_hms_opt(hour.min(23), 0, 0);
    let at = today
        .and_then(|t| beijing().from_local_datetime(&t).single())
        .map(|t| if t > now { t } else { t + chrono::Duration::days(1) });
    at.and_then(|t| (t - now).to_std().ok()).unwrap_or(Duration::from_secs(3600))
}

/// The nightly backup of `serve`: at `hour` Beijing time, into `dir`, keeping the newest `keep`.
pub fn nightly(db: Db, url: String, dir: PathBuf, hour: u32, keep: usize) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(next_run(hour)).await;
            let stamp = Utc::now().with_timezone(&beijing()).format("%Y%m%d-%H%M%S");
            let ext = if db.backend() == Backend::Sqlite { "db" } else { "pgdump" };
            let out = dir.join(format!("ducha-{stamp}.{ext}"));
            match backup(&db, &url, &out).await {
                Ok(head) => tracing::info!(file = %out.display(), audit_head = head.id, "nightly backup written"),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "nightly backup failed"),
            }
            prune(&dir, keep);
        }
    })
}

/// Keep the newest `keep` backups in `dir` (with their head files).
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut backups: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with("ducha-") && (name.ends_with(".db") || name.ends_with(".pgdump"))
        })
        .collect();
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
    #[test]
    fn the_next_run_is_within_a_day() {
        for h in [0, 2, 23] {
            let d = super::next_run(h);
            assert!(d > std::time::Duration::ZERO && d <= std::time::Duration::from_secs(86_400), "{h}: {d:?}");
        }
    }
}
