//! Uploads as a hostile or careless office sends them: every reader is bounded and a file beyond
//! a bound is refused with the limit named, writing nothing; checks wait their turn off the async
//! workers while pages go on answering; uploaded files are not kept longer than they are needed.

use std::time::{Duration, Instant};

use chrono::Utc;
use ducha_reports::sheet::hostile;
use ducha_storage::{Backend, import_jobs};
use sea_orm::ConnectionTrait;

use crate::support::{Browser, TestApp, csrf_of};

both_backends!(old_uploads_are_cleaned_on_schedule);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workbooks_are_refused_by_the_page_and_the_command_line() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 100).await;
    let b = app.login("haiyan").await;
    let before =
        app.db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.unwrap();
    // The 1.6 KB file that stopped the server: its one cell is at column ZZZZZZ.
    let far = hostile::workbook(r#"<row r="3"><c r="ZZZZZZ3"><v>1</v></c></row>"#, None);
    // A workbook that announces more shared strings than memory holds.
    let sst = hostile::workbook(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#,
        Some(r#"<sst uniqueCount="1000000000000"><si><t>户编号</t></si></sst>"#),
    );
    // A zip bomb: 600 MB of one row, a few hundred KB packed.
    let row = r#"<row r="9"><c r="A9"><v>1</v></c></row>"#;
    let bomb = hostile::workbook(&row.repeat(600 * 1024 * 1024 / row.len()), None);
    assert!(far.len() < 2_000 && bomb.len() < 2 * 1024 * 1024, "{} {}", far.len(), bomb.len());
    for (name, bytes, why) in [
        ("远.xlsx", far, "第 3 行第 ZZZZZZ 列有内容，超出了 256 列"),
        ("字.xlsx", sst, "1000000000000 个不同的文字"),
        ("炸.xlsx", bomb, "解压后超过 512 MB 的上限"),
    ] {
        let (status, _, page) = b.upload(vec![(name, bytes.clone())]).await;
        assert_eq!(status, 422, "{name}: {page}");
        assert!(page.contains(why), "{name}: {page}");
        assert_eq!(b.get("/healthz").await.status().as_u16(), 200, "the server answers after {name}");
        // The command line reads through the same reader: a refusal, not an abort.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let path = path.display().to_string();
        let (ok, _, stderr) = crate::cli::run(&["import", "households", &path, "--dry-run"], app.db_url()).await;
        // A refusal the binary explains, not an abort (which would print no Chinese reason).
        assert!(!ok, "{name}");
        assert!(stderr.contains(why), "{name}: {stderr}");
    }
    let after =
        app.db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.unwrap();
    assert_eq!(before, after, "nothing was written");
}

/// Post files on the import page without waiting for the check: the job's path and first page.
async fn send(b: &Browser, name: &str, bytes: Vec<u8>) -> (u16, String, String) {
    let (_, page) = b.get_text("/imports").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf_of(&page))
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r = b.client.post(format!("{}/imports", b.base)).multipart(form).send().await.unwrap();
    (r.status().as_u16(), r.url().path().to_string(), r.text().await.unwrap())
}

/// Whether a job's check has ended (its page no longer says it waits or checks).
async fn checked(b: &Browser, job: &str) -> bool {
    let (_, page) = b.get_text(job).await;
    !(page.contains("排队等候检查") || page.contains("正在检查文件"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_while_two_large_uploads_are_checked_in_turn() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 200).await;
    // A large sheet that is read whole before it is refused for its header: 500,000 rows of
    // three cells, every one of which the reader must parse.
    let data: String = (1..=500_000)
        .map(|r| {
            format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>2</v></c><c r="C{r}"><v>3</v></c></row>"#)
        })
        .collect();
    let big = hostile::workbook(&data, None);
    drop(data);
    let town = app.login("haiyan").await;
    let reader = app.login("taishan").await;

    let (s1, first, _) = send(&town, "一.xlsx", big.clone()).await;
    let (s2, second, page) = send(&town, "二.xlsx", big.clone()).await;
    assert_eq!((s1, s2), (200, 200));
    // The second waits behind the first, and says so.
    assert!(page.contains("排队等候检查") && page.contains("前面还有 1 项工作"), "{page}");
    // A third while two wait is refused, with the reason.
    let (status, _, page) = send(&town, "三.xlsx", b"x".to_vec()).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("2 个文件在排队或检查中"), "{page}");

    // Meanwhile /healthz and a page of the registry answer at once.
    let (mut health, mut pages) = (Vec::new(), Vec::new());
    let started = Instant::now();
    loop {
        let t = Instant::now();
        assert_eq!(reader.get("/healthz").await.status().as_u16(), 200);
        health.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(reader.get("/households").await.status().as_u16(), 200);
        pages.push(t.elapsed());
        if checked(&town, &second).await {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the checks end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(checked(&town, &first).await);
    for job in [&first, &second] {
        let (status, page) = town.get_text(job).await;
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("表头"), "read to the end and refused for its header: {page}");
    }
    health.sort();
    pages.sort();
    let (h_max, p_max) = (health[health.len() - 1], pages[pages.len() - 1]);
    eprintln!(
        "two checks took {:?}: /healthz max {h_max:?} (median {:?}), /households max {p_max:?} (median {:?}), {} samples",
        started.elapsed(),
        health[health.len() / 2],
        pages[pages.len() / 2],
        health.len()
    );
    assert!(health.len() >= 10, "the checks took long enough to be measured ({} samples)", health.len());
    assert!(h_max < Duration::from_millis(100), "/healthz took {h_max:?} while files were checked");
    assert!(p_max < Duration::from_millis(1_000), "a page took {p_max:?} while files were checked");
}

async fn old_uploads_are_cleaned_on_schedule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.db;
    let user = db.scoped(&ducha_domain::access::Actor::system()).demo().create_demo_users().await;
    user.unwrap();
    let haiyan = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    let file = b"personal data".to_vec();
    let now = Utc::now();
    let mut jobs = Vec::new();
    // (status, uploaded, finished) hours ago
    for (status, uploaded, finished) in [
        ("refused", 30, Some(30)),
        ("refused", 2, Some(2)),
        ("done", 26, Some(25)),
        ("checked", 24 * 8, Some(24 * 8)),
        ("checked", 24, Some(24)),
        ("queued", 3, None),
        ("failed", 24 * 31, Some(24 * 31)),
    ] {
        let id = db.scoped(&haiyan).import_jobs().create("户.xlsx", &file, status, "{}", 0).await.unwrap();
        let at = now - chrono::Duration::hours(uploaded);
        let done = finished.map(|h| now - chrono::Duration::hours(h));
        db.conn()
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                db.conn().get_database_backend(),
                "UPDATE import_jobs SET created_at = $1, finished_at = $2 WHERE id = $3",
                vec![at.into(), done.into(), id.into()],
            ))
            .await
            .unwrap();
        jobs.push(id);
    }
    let cleaned = db.system().import_jobs().clean(import_jobs::Retention::default(), now).await.unwrap();
    assert_eq!(
        cleaned,
        import_jobs::Cleaned { interrupted: 1, files: 2, expired: 1, jobs: 1 },
        "a queued job of a stopped server, two finished files, a check nobody confirmed, a month-old job"
    );
    let kept = |i: usize| {
        let (s, system) = (db.scoped(&haiyan), db.system());
        let id = jobs[i];
        async move {
            let job = s.import_jobs().get(id).await.unwrap();
            // The file as the server's schedule sees it (a removed job's is empty).
            let (_, bytes) = system.import_jobs().file(id).await.unwrap();
            (job.map(|j| j.status), bytes.len())
        }
    };
    assert_eq!(kept(0).await, (Some("refused".into()), 0), "a day-old refusal keeps its report, not the file");
    assert_eq!(kept(1).await, (Some("refused".into()), file.len()), "a recent one keeps its file");
    assert_eq!(kept(2).await, (Some("done".into()), 0));
    assert_eq!(kept(3).await, (Some("expired".into()), 0), "a week unconfirmed");
    assert_eq!(kept(4).await, (Some("checked".into()), file.len()), "still to be confirmed");
    assert_eq!(kept(5).await.0, Some("interrupted".into()), "left by a server that stopped");
    assert_eq!(kept(6).await, (None, 0), "a month old: gone");
    // The expired and interrupted say so on their pages.
    let b = app.login("haiyan").await;
    let (_, page) = b.get_text(&format!("/imports/{}", jobs[3])).await;
    assert!(page.contains("检查结果已过期"), "{page}");
    let (_, page) = b.get_text(&format!("/imports/{}", jobs[5])).await;
    assert!(page.contains("已中断") && page.contains("未写入任何数据"), "{page}");
}
