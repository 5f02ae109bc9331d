//! The audit trail: every change recorded, chained, and `verify` finding the first altered or
//! removed record.

use ducha_storage::{Backend, audit};
use sea_orm::ConnectionTrait;

use crate::accounts::app_first_household;
use crate::cli::{run, run_plain};
use crate::support::{Setup, TestApp};

both_backends!(edits_are_recorded_and_tampering_is_found_at_the_exact_record);

async fn edits_are_recorded_and_tampering_is_found_at_the_exact_record(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let report = app.db.system().audit().verify().await.unwrap();
    assert!(report.broken.is_none(), "a clean database verifies: {report:?}");
    let clean = report.checked;
    assert!(clean >= 3, "region import, demo load and accounts are recorded");

    // Three edits through the pages, each one record.
    let b = app.login("haiyan").await;
    let hid = app_first_household(&app, "440781111").await;
    for addr in ["一号", "二号", "三号"] {
        let (_, form) = b.get_text(&format!("/households/{hid}/edit")).await;
        let version = form.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let village = form
            .split("<option value=\"")
            .skip(1)
            .find(|o| o.contains(" selected"))
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = b
            .submit(
                &format!("/households/{hid}/edit"),
                &[
                    ("version", version.as_str()),
                    ("village_code", village.as_str()),
                    ("household_type", "一般贫困户"),
                    ("main_cause", "因病"),
                    ("identified_on", "2016-05-01"),
                    ("address", addr),
                    ("food_clothing", "是"),
                ],
            )
            .await;
        assert!(r.url().query().unwrap_or("").contains("saved=1"), "{}", r.text().await.unwrap());
    }
    let trail = app.db.system().audit().for_household(hid, 10).await.unwrap().expect("the household is in scope");
    assert_eq!(trail.len(), 3);
    assert!(trail.iter().all(|r| r.actor == "haiyan" && r.action == "update"));
    assert!(trail[0].after.as_deref().unwrap().contains("三号"));
    assert!(trail[0].before.as_deref().unwrap().contains("二号"));
    let ok = app.db.system().audit().verify().await.unwrap();
    assert_eq!((ok.checked, ok.broken), (clean + 3, None));

    // Someone edits the middle record by hand in SQL: verify names exactly that record.
    let target = trail[1].id;
    app.db
        .conn()
        .execute_unprepared(&format!("UPDATE audit_log SET after = REPLACE(after, '二号', '八号') WHERE id = {target}"))
        .await
        .unwrap();
    let bad = app.db.system().audit().verify().await.unwrap();
    let (id, why) = bad.broken.expect("the change is found");
    assert_eq!(id, target);
    assert!(why.contains("已被改动"), "{why}");

    // Put it back, then delete a record: the gap is named.
    app.db
        .conn()
        .execute_unprepared(&format!("UPDATE audit_log SET after = REPLACE(after, '八号', '二号') WHERE id = {target}"))
        .await
        .unwrap();
    assert!(app.db.system().audit().verify().await.unwrap().broken.is_none());
    app.db.conn().execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {target}")).await.unwrap();
    let (id, why) = app.db.system().audit().verify().await.unwrap().broken.expect("the removal is found");
    assert_eq!(id, target);
    assert!(why.contains("缺失"), "{why}");

    // Removing the newest record leaves the chain head pointing past the end.
    let last = trail[0].id;
    app.db.conn().execute_unprepared(&format!("DELETE FROM audit_log WHERE id >= {target}")).await.unwrap();
    let (id, _) = app.db.system().audit().verify().await.unwrap().broken.expect("removal at the end is found");
    assert_eq!(id, target);
    assert!(last > target);
}

// The chain anchored outside the database: a key the database never holds signs every record,
// and a witness file keeps the head. Both attacks a database writer can make without them are
// found, through the real binary on real files.

both_backends!(a_demo_database_keeps_verifying_once_signed_and_a_cut_off_end_is_found);

/// Cut records off the end and reset the head to the new last record, as someone who can write
/// the database would, so that the chain and its head agree.
async fn truncate_with_head(db: &ducha_storage::Db, keep: i64) {
    let last = db.system().audit().range(keep, 1).await.unwrap().remove(0);
    db.conn().execute_unprepared(&format!("DELETE FROM audit_log WHERE id > {keep}")).await.unwrap();
    db.conn()
        .execute_unprepared(&format!(
            "UPDATE audit_head SET last_id = {keep}, last_hash = '{}' WHERE id = 1",
            last.hash
        ))
        .await
        .unwrap();
}

async fn a_demo_database_keeps_verifying_once_signed_and_a_cut_off_end_is_found(backend: Backend) {
    // A database from before the key: the demo loaded by a process without one.
    let app = TestApp::spawn_demo(backend, 100).await;
    let url = app.db_url().to_string();
    let paths = app.test_db().anchor_paths();
    let before_key = app.db.system().audit().count().await.unwrap();
    assert!(before_key >= 3 && !paths.key.exists());

    // Without a key, verify says what it cannot rule out and fails, after checking the hashes.
    let (ok, out, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("哈希链逐条校验通过：共 {before_key} 条记录")) && !out.contains("完好"), "{out}");
    assert!(err.contains("找不到审计密钥文件") && err.contains("还没有用密钥签名"), "{err}");

    // The upgrade's `ducha migrate` makes the key beside the database, readable by its owner only,
    // and signs from the next record on. The database holds its fingerprint, never the key.
    let (ok, _, err) = run(&["migrate"], &url).await;
    assert!(ok, "{err}");
    assert!(err.contains("已建立审计密钥文件") && err.contains(&format!("自第 {} 条", before_key + 1)), "{err}");
    let key_text = std::fs::read_to_string(&paths.key).unwrap();
    let key_hex = key_text.lines().find_map(|l| l.strip_prefix("key=")).unwrap().to_string();
    assert_eq!(key_hex.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&paths.key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let db = app.test_db().open().await;
    for (table, column) in
        [("audit_head", "key_id"), ("settings", "value"), ("audit_log", "after"), ("audit_log", "mac")]
    {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} LIKE '%{key_hex}%'");
        let row = db.conn().query_one_raw(sea_orm::Statement::from_string(db.conn().get_database_backend(), sql));
        let n: i64 = row.await.unwrap().unwrap().try_get("", "n").unwrap();
        assert_eq!(n, 0, "the key is nowhere in {table}.{column}");
    }

    // Signed records through the binary, a witness, more records: all verify, and the report
    // says from which record the key signs.
    for name in ["keyed1", "keyed2", "keyed3", "keyed4"] {
        let (ok, _, err) =
            run(&["user", "add", name, "--role", "city", "--name", "测试", "--password", "password123"], &url).await;
        assert!(ok, "{err}");
    }
    let (ok, out, err) = run(&["audit-log", "witness"], &url).await;
    assert!(ok && out.contains("已写入审计见证"), "{out}{err}");
    let (ok, out, _) = run(&["audit-log", "witness"], &url).await;
    assert!(ok && out.contains("无需再写"), "an unchanged head is not written twice: {out}");
    let witnessed = db.system().audit().count().await.unwrap();
    let (ok, _, err) = run(&["user", "disable", "keyed4"], &url).await;
    assert!(ok, "{err}");
    let total = db.system().audit().count().await.unwrap();
    assert!(total > witnessed);
    let signed = db.system().audit().range(before_key + 1, 100).await.unwrap();
    assert!(signed.iter().all(|r| r.mac.as_deref().is_some_and(|m| m.len() == 64)), "every new record is signed");
    let (ok, out, err) = run(&["audit-log", "verify"], &url).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("审计链完好：共 {total} 条记录")), "{out}");
    assert!(out.contains(&format!("第 1 至 {before_key} 条写于启用审计密钥之前")), "{out}");
    assert!(out.contains(&format!("第 {} 条起由审计密钥签名，签名校验通过", before_key + 1)), "{out}");
    assert!(out.contains(&format!("审计链到第 {witnessed} 条，与数据库一致")), "{out}");

    // Records cut off the end, the head reset to match: the chain and head agree, the witness
    // does not.
    truncate_with_head(&db, witnessed - 2).await;
    let (ok, _, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok);
    assert!(err.contains(&format!("审计链在第 {} 条处断开", witnessed - 1)), "{err}");
    assert!(err.contains(&format!("见证时审计链已到第 {witnessed} 条")), "{err}");

    // Cut below the record the key began at: found from the key file alone, witness or not.
    std::fs::remove_file(&paths.witness).unwrap();
    truncate_with_head(&db, before_key - 1).await;
    let (ok, _, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok);
    assert!(err.contains(&format!("审计链在第 {before_key} 条处断开")) && err.contains("启用审计密钥时"), "{err}");
}

both_backends!(a_chain_recomputed_without_the_key_is_found_and_no_keyless_process_appends);

/// Alter record `at` and recompute every hash from it with plain SHA-256, as someone without the
/// key would; `strip` also drops every signature and the head's key registration.
async fn recompute_from(db: &ducha_storage::Db, at: i64, strip: bool) {
    if strip {
        db.conn().execute_unprepared("UPDATE audit_log SET mac = NULL").await.unwrap();
    }
    let mut prev = db.system().audit().range(at - 1, 1).await.unwrap().remove(0).hash;
    let mut records = db.system().audit().range(at, 100_000).await.unwrap();
    records[0].actor = "mallory".into();
    for r in &mut records {
        r.prev_hash = prev.clone();
        r.hash = audit::record_hash(r);
        prev = r.hash.clone();
        let sql = format!(
            "UPDATE audit_log SET actor = '{}', prev_hash = '{}', hash = '{}' WHERE id = {}",
            r.actor, r.prev_hash, r.hash, r.id
        );
        db.conn().execute_unprepared(&sql).await.unwrap();
    }
    let strip_head = if strip { ", key_id = NULL, keyed_from = NULL" } else { "" };
    db.conn()
        .execute_unprepared(&format!("UPDATE audit_head SET last_hash = '{prev}'{strip_head} WHERE id = 1"))
        .await
        .unwrap();
}

async fn a_chain_recomputed_without_the_key_is_found_and_no_keyless_process_appends(backend: Backend) {
    use ducha_domain::access::{Actor, Role};
    use ducha_storage::accounts::NewUser;
    // A server that signs from its first record, as a new `ducha serve` does.
    let mut app = TestApp::spawn_with(backend, Setup { anchored: true, ..Default::default() }).await;
    let url = app.db_url().to_string();
    let paths = app.test_db().anchor_paths();
    for n in 0..4 {
        let user = NewUser {
            username: format!("signed{n}"),
            display_name: "测试".into(),
            role: Role::CityOffice,
            region_code: None,
            password: "password123".into(),
        };
        app.db.scoped(&Actor::system()).accounts().add_user(&user).await.unwrap();
    }
    // The server writes the head to the witness as it stops.
    app.stop().await;
    let total = app.db.system().audit().count().await.unwrap();
    let last_line = std::fs::read_to_string(&paths.witness).unwrap().lines().last().unwrap().to_string();
    assert_eq!(last_line.split('\t').nth(1), Some(total.to_string().as_str()), "{last_line}");
    let (ok, out, err) = run(&["audit-log", "verify"], &url).await;
    assert!(ok, "{err}");
    assert!(out.contains("全部记录均由审计密钥签名"), "{out}");

    // A process without the key, or with another one, cannot append to the signed chain.
    let keyless = ducha_storage::Db::open(&url).await.unwrap();
    let e = keyless.scoped(&Actor::system()).accounts().disable_user("signed0").await.unwrap_err().to_string();
    assert!(e.contains("没有载入审计密钥"), "{e}");
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("other.audit-key");
    let with_other = |args: &[&str]| {
        let mut all = vec!["--audit-key", other.to_str().unwrap()];
        all.extend_from_slice(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    // A second host without the key file: it refuses to start rather than make a second key.
    let args = with_other(&["user", "disable", "signed0"]);
    let (ok, _, err) = run_plain(&args.iter().map(String::as_str).collect::<Vec<_>>(), &url).await;
    assert!(!ok && err.contains("找不到密钥文件") && !other.exists(), "{err}");
    std::fs::copy(&paths.key, &other).unwrap();
    let text = std::fs::read_to_string(&other).unwrap();
    let forged =
        text.lines().map(|l| if l.starts_with("key=") { format!("key={}", "ab".repeat(32)) } else { l.to_string() });
    std::fs::write(&other, forged.collect::<Vec<_>>().join("\n")).unwrap();
    let (ok, _, err) = run_plain(&args.iter().map(String::as_str).collect::<Vec<_>>(), &url).await;
    assert!(!ok && err.contains("与数据库登记的密钥不符"), "{err}");

    // Record 3 altered and every hash after it recomputed with SHA-256: a consistent hash chain
    // with a consistent head, and every signature from record 3 on now wrong.
    let db = app.test_db().open().await;
    recompute_from(&db, 3, false).await;
    let (ok, _, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok);
    assert!(err.contains("审计链在第 3 条处断开") && err.contains("签名不符"), "{err}");

    // The same with every signature and the key's registration removed, as if never signed.
    recompute_from(&db, 2, true).await;
    let (ok, _, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok);
    assert!(err.contains("审计链在第 1 条处断开") && err.contains("没有签名"), "{err}");

    // Without the key file, verify refuses to call the chain whole, whatever the head row says.
    std::fs::remove_file(&paths.key).unwrap();
    let (ok, _, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok && err.contains("找不到审计密钥文件") && err.contains("不能排除整条链被重算"), "{err}");
    db.conn().execute_unprepared("UPDATE audit_head SET keyed_from = 1 WHERE id = 1").await.unwrap();
    let (ok, out, err) = run(&["audit-log", "verify"], &url).await;
    assert!(!ok && !out.contains("完好"), "{out}");
    assert!(err.contains("找不到审计密钥文件") && err.contains("没有密钥无法校验"), "{err}");
}
