//! Personal data at rest (issue 22): after the demo is loaded, no ID number, phone number or
//! bank account of it is anywhere in the database in clear — not in the SQLite file's bytes (nor
//! its write-ahead log), not in any PostgreSQL table as its superuser reads it, not in the audit
//! trail — while the pages still show them to those who may see them.

use std::collections::HashSet;

use ducha_storage::Backend;

use ducha_storage::datakeys::Suite;

use crate::support::{Setup, TestApp};

both_backends!(no_personal_value_of_the_demo_is_stored_in_clear, nor_under_the_national_suite);
both_backends!(every_column_named_for_personal_data_is_sealed);

/// Every run of ID-number characters in `text`, and each of its windows as long as a secret.
fn found(text: &[u8], secrets: &HashSet<String>) -> Vec<String> {
    let lengths: HashSet<usize> = secrets.iter().map(String::len).collect();
    let mut hits = Vec::new();
    for run in text.split(|b| !(b.is_ascii_digit() || *b == b'X')) {
        for len in &lengths {
            for w in run.windows(*len) {
                if let Ok(s) = std::str::from_utf8(w)
                    && secrets.contains(s)
                {
                    hits.push(s.to_string());
                }
            }
        }
    }
    hits
}

/// What the database holds, as an attacker with a copy of it reads it.
async fn raw_database(app: &TestApp, backend: Backend) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let url = &app.test_db().url;
            let file = url.trim_start_matches("sqlite://").to_string();
            let mut bytes = std::fs::read(&file).expect("the database file");
            if let Ok(wal) = std::fs::read(format!("{file}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Backend::Postgres => {
            use sea_orm::ConnectionTrait;
            let conn = app.db.conn();
            let tables: Vec<String> = conn
                .query_all_raw(sea_orm::Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                ))
                .await
                .expect("tables")
                .iter()
                .map(|r| r.try_get::<String>("", "table_name").expect("name"))
                .collect();
            assert!(tables.len() > 20, "{tables:?}");
            let mut text = String::new();
            for t in tables {
                for r in conn
                    .query_all_raw(sea_orm::Statement::from_string(
                        conn.get_database_backend(),
                        format!("SELECT t::text AS row FROM \"{t}\" t"),
                    ))
                    .await
                    .expect("rows")
                {
                    text.push_str(&r.try_get::<String>("", "row").expect("row"));
                    text.push('\n');
                }
            }
            text.into_bytes()
        }
    }
}

async fn no_personal_value_of_the_demo_is_stored_in_clear(backend: Backend) {
    scan_for_clear_values(backend, Suite::Intl).await;
}

/// The same with the national suite chosen (SM4-GCM, HMAC-SM3), and the audit chain hashed with
/// SM3 from the data keys on.
async fn nor_under_the_national_suite(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = scan_for_clear_values(backend, Suite::Sm).await;
    let conn = app.db.conn();
    let counts = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n, SUM(CASE WHEN hash LIKE 'sm3:%' THEN 1 ELSE 0 END) AS sm3 FROM audit_log",
        ))
        .await
        .expect("count")
        .expect("row");
    let (n, sm3): (i64, i64) = (counts.try_get("", "n").unwrap(), counts.try_get("", "sm3").unwrap());
    // Only the record that made the keys was written before them.
    assert!(sm3 >= 10 && sm3 == n - 1, "{sm3} of {n} records hashed with SM3");
    let suites = conn
        .query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), "SELECT suite FROM data_keys"))
        .await
        .expect("keys");
    assert!(suites.iter().all(|r| r.try_get::<String>("", "suite").unwrap() == "sm"));
    let report = app.db.system().audit().verify().await.expect("verify");
    assert!(report.broken.is_none(), "{report:?}");
}

async fn scan_for_clear_values(backend: Backend, suite: Suite) -> TestApp {
    let setup = Setup { suite: Some(suite), ..Default::default() };
    let app = TestApp::spawn_demo_with(backend, 300, setup).await;
    // The secrets, read back through the door (opened with the keys).
    let system = app.db.system();
    let mut secrets = HashSet::new();
    for number in system.registry().household_numbers(1000).await.expect("numbers") {
        let rec = system.registry().household_by_number(&number).await.expect("read").expect("household");
        for m in &rec.members {
            secrets.insert(m.id_number.to_string());
            secrets.extend(m.phone.as_ref().map(|p| p.to_string()));
        }
        secrets.extend(rec.household.phone.as_ref().map(|p| p.to_string()));
        secrets.extend(rec.household.bank_account.as_ref().map(|p| p.to_string()));
    }
    for c in system.help().cadres().await.expect("cadres") {
        secrets.extend(c.cadre.phone.as_ref().map(|p| p.to_string()));
    }
    secrets.retain(|s| s.len() >= 11);
    assert!(secrets.len() > 900, "the demo's ID numbers, phones and accounts: {}", secrets.len());

    // A sheet uploaded for import holds them by the thousand: it is kept sealed until imported.
    let city = system.accounts().find_user("city").await.expect("read").expect("the city account");
    let sheet: String = secrets.iter().map(|s| format!("{s},\n")).collect();
    let jobs = app.db.scoped(&city.actor(None));
    let job = jobs.import_jobs().create("户.csv", sheet.as_bytes(), "checked", "", 1).await.expect("a job");
    assert_eq!(jobs.import_jobs().file(job).await.expect("its file").1, sheet.as_bytes(), "it opens whole");

    let raw = raw_database(&app, backend).await;
    let leaked = found(&raw, &secrets);
    assert!(
        leaked.is_empty(),
        "{} personal values in clear in the database, e.g. {:?}",
        leaked.len(),
        &leaked[..3.min(leaked.len())]
    );

    // The scan sees a value that is there in clear: one ID number written as plain text.
    let one = secrets.iter().find(|s| s.len() == 18).expect("an ID number").clone();
    system.settings().set(app.db.conn(), "scan_control", &one).await.expect("a clear value");
    assert!(found(&raw_database(&app, backend).await, &secrets).contains(&one), "the scan finds a clear value");
    app
}

both_backends!(a_tampered_value_is_refused_not_shown);

/// A sealed ID number altered in the database (one character of its ciphertext) is refused when
/// read: the household's page is an error, not a wrong number; the others still open.
async fn a_tampered_value_is_refused_not_shown(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_demo(backend, 20).await;
    let system = app.db.system();
    let numbers = system.registry().household_numbers(2).await.expect("numbers");
    let rec = system.registry().household_by_number(&numbers[0]).await.expect("read").expect("household");
    let (hid, mid) = (rec.household.id, rec.members[0].id);
    let conn = app.db.conn();
    let stmt = |sql: String| sea_orm::Statement::from_string(conn.get_database_backend(), sql);
    let row =
        conn.query_one_raw(stmt(format!("SELECT id_number FROM members WHERE id = {mid}"))).await.unwrap().unwrap();
    let sealed: String = row.try_get("", "id_number").unwrap();
    assert!(sealed.starts_with("dv1:"), "stored sealed: {sealed}");
    // One character in the middle of the ciphertext changed for another of base64's.
    let mid_at = sealed.len() - 20;
    let was = sealed.as_bytes()[mid_at];
    let tampered = format!("{}{}{}", &sealed[..mid_at], if was == b'A' { 'B' } else { 'A' }, &sealed[mid_at + 1..]);
    conn.execute_unprepared(&format!("UPDATE members SET id_number = '{tampered}' WHERE id = {mid}")).await.unwrap();

    let read = system.registry().household_by_number(&numbers[0]).await;
    assert!(read.is_err(), "refused through the door: {sealed} -> {tampered}: {read:?}");
    // A damaged one (its base64 broken at the end) is refused too, not shown as if in clear.
    let broken = format!("{}!", &sealed[..sealed.len() - 1]);
    conn.execute_unprepared(&format!("UPDATE members SET id_number = '{broken}' WHERE id = {mid}")).await.unwrap();
    assert!(system.registry().household_by_number(&numbers[0]).await.is_err(), "refused: {broken}");
    let b = app.login("city").await;
    let resp = b.get(&format!("/households/{hid}")).await;
    assert_eq!(resp.status().as_u16(), 500);
    let page = resp.text().await.unwrap();
    assert!(!page.contains(rec.members[0].id_number.as_str()) && !page.contains("dv1:"), "{page}");
    let other = system.registry().household_by_number(&numbers[1]).await.expect("read").expect("household");
    assert_eq!(b.get(&format!("/households/{}", other.household.id)).await.status().as_u16(), 200);
}

/// The schema holds no personal column that is not sealed: every column whose name says it keeps
/// an ID number, a phone or an account is one of `SEALED_COLUMNS`, and after the demo each of
/// those holds only ciphertext (health facts included).
async fn every_column_named_for_personal_data_is_sealed(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_demo(backend, 30).await;
    let conn = app.db.conn();
    let stmt = |sql: &str| sea_orm::Statement::from_string(conn.get_database_backend(), sql.to_string());
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
        }
        Backend::Postgres => {
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public'"
        }
    };
    let columns: Vec<(String, String)> = conn
        .query_all_raw(stmt(sql))
        .await
        .expect("columns")
        .iter()
        .map(|r| (r.try_get("", "t").expect("table"), r.try_get("", "c").expect("column")))
        .collect();
    assert!(columns.len() > 100, "{}", columns.len());
    let sealed = ducha_storage::personal::SEALED_COLUMNS;
    let personal_name =
        |c: &str| ["id_number", "phone", "account", "mobile", "tel", "health", "disab"].iter().any(|k| c.contains(k));
    for (t, c) in &columns {
        if personal_name(c) && c != "id_lookup" {
            assert!(sealed.contains(&(t.as_str(), c.as_str())), "{t}.{c} looks personal but is not sealed");
        }
    }
    for (t, c) in sealed {
        assert!(columns.iter().any(|(a, b)| a == t && b == c), "{t}.{c} is in the schema");
        let rows = conn
            .query_all_raw(stmt(&format!("SELECT {c} AS v FROM {t} WHERE {c} IS NOT NULL AND {c} <> ''")))
            .await
            .expect("values");
        assert!(!rows.is_empty(), "the demo fills {t}.{c}");
        for r in rows {
            let v: String = r.try_get("", "v").expect("text");
            assert!(v.starts_with("dv1:"), "{t}.{c} holds a value in clear");
        }
    }
}
