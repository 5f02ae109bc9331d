//! The pages in headless Chromium (Debian's chromium and chromium-driver): sign in, filter the
//! list, open a household, enter a member with a bad ID number (the error shows at the field and
//! nothing is saved), fix it (saved, and the audit trail says who changed what), and a user of
//! another town who cannot open the household by its URL. Screenshots of the main pages go to
//! `test-artifacts/`.

use std::process::Stdio;
use std::time::Duration;

use ducha_domain::id_number::check_char;
use ducha_storage::Backend;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::process::{Child, Command};

use crate::accounts::app_first_household;
use crate::support::{TestApp, sees};

/// A chromedriver on a free port, and a headless Chromium session through it.
struct Chrome {
    client: Client,
    /// chromedriver's address, for what WebDriver itself does not offer (network conditions).
    driver_url: String,
    _driver: Child,
    _profile: tempfile::TempDir,
}

fn artifacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir
}

impl Chrome {
    async fn start(width: u32, height: u32) -> Chrome {
        Self::start_with(width, height, false).await
    }

    /// A phone: Chrome's device emulation at `width` CSS pixels (a desktop window cannot be
    /// made narrower than about 500 px).
    async fn phone(width: u32, height: u32) -> Chrome {
        Self::start_with(width, height, true).await
    }

    async fn start_with(width: u32, height: u32, mobile: bool) -> Chrome {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let browser_bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            std::path::Path::new(&driver_bin).exists() && std::path::Path::new(&browser_bin).exists(),
            "浏览器测试需要 chromium 和 chromium-driver（apt-get install chromium chromium-driver；scripts/test.sh 会自动安装）"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": browser_bin,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                    "--lang=zh-CN",
                ]
            }
        });
        let mut caps = caps.as_object().unwrap().clone();
        if mobile {
            caps["goog:chromeOptions"]["mobileEmulation"] = serde_json::json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "touch": true } });
        }
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = None;
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return Chrome { client, driver_url: url, _driver: driver, _profile: profile },
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("could not start a Chromium session: {last_err:?}");
    }

    /// Cut the browser off the network, or connect it again (chromedriver's network conditions).
    async fn set_offline(&self, offline: bool) {
        let session = self.client.session_id().await.unwrap().expect("a session");
        let body = serde_json::json!({ "network_conditions": {
            "offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1 } });
        let r = reqwest::Client::new()
            .post(format!("{}/session/{session}/chromium/network_conditions", self.driver_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "network conditions: {}", r.text().await.unwrap_or_default());
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts().join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    async fn fill(&self, name: &str, value: &str) {
        let el = self.client.find(Locator::Css(&format!("[name=\"{name}\"]"))).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    /// A date field: typed keys depend on the browser's locale, so the value is set as a script would.
    async fn set_date(&self, name: &str, value: &str) {
        let js = format!("document.querySelector('[name=\"{name}\"]').value = arguments[0];");
        self.client.execute(&js, vec![serde_json::json!(value)]).await.unwrap();
    }

    async fn choose(&self, name: &str, label: &str) {
        let select = self.client.find(Locator::Css(&format!("select[name=\"{name}\"]"))).await.unwrap();
        select.select_by_label(label).await.unwrap();
    }

    /// Click and wait for the next page: until the old page's root is gone (so that what follows
    /// does not read the page being left), then for the new page's main element.
    async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
        for _ in 0..200 {
            if old.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.client.wait().for_element(Locator::Css("main")).await.unwrap();
    }

    /// On an import's page: until the file's check has run (the page refreshes itself).
    async fn wait_for_check(&self) {
        for _ in 0..300 {
            let status = match self.client.find(Locator::Css("#job-status")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if !status.is_empty() && !status.contains("排队") && !status.contains("正在检查") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the uploaded file was not checked within 30 s");
    }

    async fn login(&self, base: &str, username: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.fill("username", username).await;
        self.fill("password", ducha_storage::demo::DEMO_PASSWORD).await;
        self.submit("form[action='/login'] button[type=submit]").await;
    }

    async fn logout(&self) {
        self.submit("form[action='/logout'] button").await;
    }

    /// Whether the page is wider than the window (content cut off on a phone).
    async fn overflows(&self) -> bool {
        let v = self
            .client
            .execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![])
            .await
            .unwrap();
        v.as_bool().unwrap_or(true)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_town_office_works_in_the_browser_and_another_town_cannot_look() {
    let app = TestApp::spawn_demo(Backend::Postgres, 1_500).await;
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    assert!(chrome.text("h1").await.contains("海宴镇建档立卡贫困户概况"));
    chrome.shot("01-home").await;

    // Filter the list.
    c.goto(&format!("{}/households", app.base)).await.unwrap();
    let all = chrome.text("#total").await;
    chrome.choose("status", "帮扶中").await;
    chrome.submit("form.filters button[type=submit]").await;
    let filtered = chrome.text("#total").await;
    assert_ne!(all, filtered);
    let statuses = c.find_all(Locator::Css("#households tbody tr td:nth-child(7)")).await.unwrap();
    assert!(!statuses.is_empty());
    for s in statuses {
        assert_eq!(s.text().await.unwrap(), "帮扶中");
    }
    chrome.shot("02-list-filtered").await;

    // Open a household.
    c.find(Locator::Css("#households tbody tr td a")).await.unwrap().click().await.unwrap();
    let h1 = chrome.text("h1").await;
    assert!(h1.starts_with("贫困户 440781111"), "{h1}");
    let household_url = c.current_url().await.unwrap();
    let hid: i64 = household_url.path().rsplit('/').next().unwrap().parse().unwrap();
    let members_before = app
        .db
        .scoped(&crate::support::sees(&ducha_domain::access::Scope::All))
        .registry()
        .household(hid)
        .await
        .unwrap()
        .unwrap()
        .members
        .len();
    chrome.shot("03-household").await;

    // A member with a wrong check digit: the error is at the field, nothing is saved.
    c.find(Locator::LinkText("添加家庭成员")).await.unwrap().click().await.unwrap();
    let first17 = "44078120100203233"; // odd sequence digit: a boy, as 之子 says
    let good = format!("{first17}{}", check_char(first17.as_bytes()));
    let bad = format!("{first17}{}", if good.ends_with('0') { '1' } else { '0' });
    chrome.fill("name", "陈小明").await;
    chrome.fill("id_number", &bad).await;
    chrome.choose("relation", "之子").await;
    chrome.choose("education", "小学").await;
    chrome.choose("school_stage", "小学").await;
    chrome.choose("labour_ability", "无劳动能力").await;
    chrome.submit("form.edit button[type=submit]").await;
    let err = chrome.text("#id_number-error").await;
    assert!(err.contains("校验位"), "{err}");
    assert!(chrome.text(".notice.error").await.contains("本次未保存任何内容"));
    chrome.shot("04-member-bad-id").await;
    let now = app
        .db
        .scoped(&crate::support::sees(&ducha_domain::access::Scope::All))
        .registry()
        .household(hid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.members.len(), members_before, "nothing saved");

    // Fix it: saved, and the audit trail names who added what.
    chrome.fill("id_number", &good).await;
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text(".notice.ok").await.contains("已保存"));
    assert!(chrome.text("#members").await.contains("陈小明"));
    let trail = chrome.text("#audit tbody").await;
    assert!(
        trail.contains("haiyan")
            && trail.contains("家庭成员")
            && trail.contains("新增")
            && trail.contains("姓名：陈小明"),
        "{trail}"
    );
    assert!(!trail.contains(&good), "the trail masks the ID number");
    chrome.shot("05-member-saved").await;

    // Another town's office opens the same household by its URL: 404, nothing shown.
    chrome.logout().await;
    chrome.login(&app.base, "naji").await;
    c.goto(household_url.as_str()).await.unwrap();
    assert!(chrome.text("h1").await.contains("没有找到"));
    assert!(!c.source().await.unwrap().contains("陈小明"));
    chrome.shot("06-other-town-404").await;
    let naji_first = app_first_household(&app, "440785107").await;
    c.goto(&format!("{}/households/{naji_first}", app.base)).await.unwrap();
    assert!(chrome.text("h1").await.starts_with("贫困户 440785107"));
    chrome.client.clone().close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_screen() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 600).await;
    let chrome = Chrome::phone(390, 844).await;
    chrome.login(&app.base, "taishan").await;
    let width = chrome.client.execute("return window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(width.as_i64(), Some(390), "the page is laid out at a phone's width");
    assert!(!chrome.overflows().await, "home fits 390 px");
    chrome.shot("10-phone-home").await;
    chrome.client.goto(&format!("{}/households", app.base)).await.unwrap();
    assert!(!chrome.overflows().await, "the list scrolls inside its table, not the page");
    chrome.shot("11-phone-list").await;
    let hid = app_first_household(&app, "440781").await;
    chrome.client.goto(&format!("{}/households/{hid}", app.base)).await.unwrap();
    assert!(!chrome.overflows().await, "the household page fits");
    chrome.shot("12-phone-household").await;
    chrome.client.goto(&format!("{}/households/{hid}/edit", app.base)).await.unwrap();
    assert!(!chrome.overflows().await, "the edit form fits");
    chrome.shot("13-phone-edit").await;
    chrome.client.clone().close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_is_asked_by_the_town_and_approved_by_the_district() {
    use ducha_domain::registry::HouseholdStatus;
    let app = TestApp::spawn_demo(Backend::Sqlite, 3_000).await;
    let pre = crate::changes::household_with(&app, HouseholdStatus::PreExit).await;
    let hid = pre.household.id;
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/households/{hid}", app.base)).await.unwrap();
    c.find(Locator::LinkText("申请脱贫")).await.unwrap().click().await.unwrap();
    assert!(chrome.text("h1").await.starts_with("申请脱贫"));
    chrome.fill("year", "2017").await;
    chrome.fill("reason", "务工收入稳定，人均纯收入超过标准").await;
    // The income proof as evidence of the request.
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("收入证明.png");
    std::fs::write(&proof, crate::help::PNG).unwrap();
    c.find(Locator::Css("input[type=file][name=files]"))
        .await
        .unwrap()
        .send_keys(proof.to_str().unwrap())
        .await
        .unwrap();
    chrome.shot("20-exit-request").await;
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text(".notice.ok").await.contains("等待市(区)扶贫办审核"));
    assert!(chrome.text("dl.facts").await.contains("收入证明.png"));
    assert_eq!(chrome.text("#change-status").await, "待审核");
    let change_url = c.current_url().await.unwrap();
    // The town office cannot decide its own request.
    assert!(c.find(Locator::Css("form#decide")).await.is_err());
    chrome.logout().await;

    chrome.login(&app.base, "taishan").await;
    c.goto("about:blank").await.unwrap();
    c.goto(&format!("{}/changes", app.base)).await.unwrap();
    assert!(chrome.text("#changes").await.contains(&pre.household.number));
    c.goto(change_url.as_str()).await.unwrap();
    chrome.fill("comment", "经核实，同意脱贫").await;
    chrome.shot("21-exit-approve").await;
    chrome.submit("form#decide button[formaction$='/approve']").await;
    assert_eq!(chrome.text("#change-status").await, "已批准");
    c.goto(&format!("{}/households/{hid}", app.base)).await.unwrap();
    let facts = chrome.text("dl.facts").await;
    assert!(facts.contains("已脱贫"), "{facts}");
    let history = chrome.text("#status-history").await;
    assert!(history.contains("已脱贫") && history.contains("taishan"), "{history}");
    let trail = chrome.text("#audit").await;
    assert!(trail.contains("taishan"), "{trail}");
    chrome.shot("22-exited-household").await;
    chrome.client.clone().close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_help_log_is_written_with_a_photo() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 1_500).await;
    let hid = app_first_household(&app, "440781111").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("入户照片.png");
    std::fs::write(&photo, crate::help::PNG).unwrap();
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/households/{hid}", app.base)).await.unwrap();
    c.find(Locator::LinkText("填写帮扶日志")).await.unwrap().click().await.unwrap();
    chrome.fill("content", "入户走访，拍照记录新建的鸡舍").await;
    chrome.fill("location", "入户").await;
    c.find(Locator::Css("input[type=file][name=files]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    chrome.shot("30-help-log-form").await;
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text(".notice.ok").await.contains("已保存"));
    let logs = chrome.text("#logs").await;
    assert!(logs.contains("拍照记录新建的鸡舍") && logs.contains("入户照片.png"), "{logs}");
    let trail = chrome.text("#audit").await;
    assert!(trail.contains("帮扶日志") && trail.contains("佐证材料"), "{trail}");
    chrome.shot("31-help-log-saved").await;
    // The photo link downloads the same bytes (fetched with the browser's own session).
    let href = c.find(Locator::Css("#logs a[href^='/evidence/']")).await.unwrap().attr("href").await.unwrap().unwrap();
    let size = c
        .execute_async(
            "const [url, done] = arguments; fetch(url).then(r => r.arrayBuffer()).then(b => done(b.byteLength));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(size.as_u64(), Some(crate::help::PNG.len() as u64));
    chrome.client.clone().close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_errors_is_previewed_and_writes_nothing() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 300).await;
    let dir = tempfile::tempdir().unwrap();
    // A file with one good household and one whose member has a wrong check digit.
    let headers: Vec<&str> = ducha_reports::households::COLUMNS.iter().map(|c| c.0).collect();
    let first17 = "44078119650302123";
    let good = format!("{first17}{}", check_char(first17.as_bytes()));
    let bad = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
    let mut csv = headers.join(",") + "\n";
    for (number, name, id) in [("44078111121077701", "甲", good.as_str()), ("44078111121077702", "乙", bad.as_str())]
    {
        let mut r = vec![String::new(); headers.len()];
        let mut set = |h: &str, v: &str| r[headers.iter().position(|x| *x == h).unwrap()] = v.to_string();
        for (h, v) in [
            ("户编号", number),
            ("所在村代码", "440781111210"),
            ("贫困户属性", "一般贫困户"),
            ("主要致贫原因", "因病"),
            ("识别日期", "2016-04-12"),
            ("成员序号", "1"),
            ("姓名", name),
            ("身份证号", id),
            ("与户主关系", "户主"),
            ("文化程度", "初中"),
            ("在校生状况", "非在校生"),
            ("健康状况", "健康"),
            ("劳动能力", "有劳动能力"),
        ] {
            set(h, v);
        }
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    let path = dir.path().join("新户.csv");
    std::fs::write(&path, csv).unwrap();
    let before =
        app.db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.unwrap();

    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/imports", app.base)).await.unwrap();
    c.find(Locator::Css("input[type=file][name=file]")).await.unwrap().send_keys(path.to_str().unwrap()).await.unwrap();
    chrome.submit("form.edit button[type=submit]").await;
    chrome.wait_for_check().await;
    assert!(chrome.text("#job-status").await.contains("文件有错误，未写入任何数据"));
    let errors = chrome.text("#errors").await;
    assert!(errors.contains("S") && errors.contains("身份证号") && errors.contains("校验位"), "{errors}");
    assert!(errors.contains('3'), "the error is on row 3: {errors}");
    assert!(c.find(Locator::Css("#confirm")).await.is_err(), "nothing to confirm");
    chrome.shot("40-import-errors").await;
    let after =
        app.db.scoped(&crate::support::sees(&ducha_domain::access::Scope::All)).registry().totals().await.unwrap();
    assert_eq!(before, after, "nothing was written");
    chrome.client.clone().close().await.ok();
}

/// The checks in the browser: a district office reads its problems by town and rule, exempts a
/// false alarm with a reason (refused without one), exports the per-town list; the city office
/// changes a parameter and the whole city is checked again; a household page lists its problems.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_are_read_exempted_and_reparametrised_in_the_browser() {
    use ducha_domain::access::Scope;
    use ducha_storage::checks::FindingFilter;
    let app = TestApp::spawn_demo(Backend::Sqlite, 1_500).await;
    let taishan = Scope::Region(ducha_domain::RegionCode::parse("440781").unwrap());
    let open =
        |rule: &str| FindingFilter { rule: Some(rule.into()), status: Some("open".into()), ..Default::default() };
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "taishan").await;
    c.goto(&format!("{}/checks", app.base)).await.unwrap();
    assert!(chrome.text("h1").await.starts_with("数据质量核查（2017 年"));
    let total = app
        .db
        .scoped(&crate::support::sees(&taishan))
        .checks()
        .count_findings(&FindingFilter { status: Some("open".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(total > 0);
    assert!(chrome.text("#open-total").await.contains(&total.to_string()), "the card shows the district's open count");
    let by_region = chrome.text("#by-region tbody").await;
    assert!(by_region.contains("海宴镇"), "{by_region}");
    assert!(!by_region.contains("那吉镇"), "only the district's own towns");
    chrome.shot("30-checks-overview").await;

    // Drill down: the uninsured members of the district.
    let rule = "M-MED-01";
    let before = app.db.scoped(&crate::support::sees(&taishan)).checks().count_findings(&open(rule)).await.unwrap();
    assert!(before > 0, "the demo plants uninsured members");
    c.find(Locator::Css(&format!("#by-rule a[href='/checks/findings?rule={rule}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(chrome.text("#total").await.starts_with(&format!("共 {before} 条")));
    for cell in c.find_all(Locator::Css("#findings tbody tr td:first-child")).await.unwrap() {
        assert_eq!(cell.text().await.unwrap(), rule);
    }
    chrome.shot("31-checks-findings").await;

    // Exempt the first one: no reason, refused and nothing changes; with a reason, it leaves the list.
    chrome.submit("#findings form.exempt button").await;
    let refused = c.source().await.unwrap();
    assert!(refused.contains("理由"), "the refusal names the missing reason");
    assert_eq!(
        app.db.scoped(&crate::support::sees(&taishan)).checks().count_findings(&open(rule)).await.unwrap(),
        before
    );
    c.back().await.unwrap();
    chrome.fill("reason", "该成员已在外省参保，有参保凭证").await;
    chrome.submit("#findings form.exempt button").await;
    assert!(chrome.text("#total").await.starts_with(&format!("共 {} 条", before - 1)));
    assert_eq!(
        app.db.scoped(&crate::support::sees(&taishan)).checks().count_findings(&open(rule)).await.unwrap(),
        before - 1
    );
    let exempted = app
        .db
        .scoped(&crate::support::sees(&taishan))
        .checks()
        .findings(
            &FindingFilter { rule: Some(rule.into()), status: Some("exempted".into()), ..Default::default() },
            10,
            0,
        )
        .await
        .unwrap();
    assert_eq!(exempted.len(), 1);
    assert_eq!(exempted[0].exempt_note.as_deref(), Some("该成员已在外省参保，有参保凭证（taishan）"));

    // The household page lists what is still open for it.
    let with_problem =
        app.db.scoped(&crate::support::sees(&taishan)).checks().findings(&open(rule), 1, 0).await.unwrap().remove(0);
    c.goto(&format!("{}/households/{}", app.base, with_problem.household_id)).await.unwrap();
    assert!(chrome.text("#household-findings").await.contains(&with_problem.message));

    // The export: one printable sheet per town with problems, as many rows as open problems.
    let http = crate::support::Browser::new(&app.base);
    http.login("taishan", ducha_storage::demo::DEMO_PASSWORD).await;
    let resp = http.get("/checks/export.xlsx").await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let names = wb.sheet_names();
        assert!(names.iter().any(|n| n.contains("海宴镇")), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("那吉镇")), "{names:?}");
        let rows: usize = names[1..]
            .iter()
            .map(|n| {
                let r = wb.worksheet_range(n).unwrap();
                r.rows().filter(|row| row.first().is_some_and(|c| c.to_string().parse::<u64>().is_ok())).count()
            })
            .sum();
        let open_now = app
            .db
            .scoped(&crate::support::sees(&taishan))
            .checks()
            .count_findings(&FindingFilter { status: Some("open".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(rows as i64, open_now, "each open problem is one numbered row");
    }

    // A district office sees the parameters but cannot change them.
    c.goto(&format!("{}/checks/params", app.base)).await.unwrap();
    assert!(c.find(Locator::Css("form#params")).await.is_err());
    assert!(chrome.text("table#params").await.contains("帮扶日志过期天数"));
    chrome.logout().await;

    // The city office allows 400 days between help logs: the city is checked again, and no
    // stale-log finding is left whose last log is younger than that.
    chrome.login(&app.base, "city").await;
    let stale_before =
        app.db.scoped(&crate::support::sees(&Scope::All)).checks().count_findings(&open("H-LOG-01")).await.unwrap();
    assert!(stale_before > 0);
    c.goto(&format!("{}/checks/params", app.base)).await.unwrap();
    chrome.fill("log_stale_days", "abc").await;
    chrome.submit("form#params button[type=submit]").await;
    assert!(c.source().await.unwrap().contains("帮扶日志过期天数应为整数"));
    chrome.fill("log_stale_days", "4000").await;
    chrome.submit("form#params button[type=submit]").await;
    chrome.shot("32-checks-params").await;
    assert!(chrome.text("#notice").await.contains("重新核查"), "the save re-runs the checks");
    assert_eq!(chrome.text("#p-log_stale_days").await, "");
    let value = c.find(Locator::Css("#p-log_stale_days")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("4000"));
    let stale_after =
        app.db.scoped(&crate::support::sees(&Scope::All)).checks().count_findings(&open("H-LOG-01")).await.unwrap();
    assert!(stale_after < stale_before, "{stale_before} → {stale_after}");
    // The overview counts them as fixed by the latest run (nothing else changed).
    c.goto(&format!("{}/checks", app.base)).await.unwrap();
    assert_eq!(chrome.text("#fixed-since b").await, (stale_before - stale_after).to_string());
    assert_eq!(chrome.text("#new-since b").await, "0");
    chrome.shot("32-checks-params").await;
    chrome.client.clone().close().await.ok();
}

/// A town office records a posted cadre's day on post from a phone: a day before the posting is
/// refused at the field with nothing saved; a free working day is saved and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_town_office_records_a_check_in_on_a_phone() {
    use ducha_domain::access::Scope;
    let app = TestApp::spawn_demo(Backend::Sqlite, 300).await;
    let haiyan = Scope::Region(ducha_domain::RegionCode::parse("440781111").unwrap());
    let posting = app.db.scoped(&sees(&haiyan)).platform().postings().list().await.unwrap().remove(0);
    let (_, taken) = app.db.scoped(&sees(&haiyan)).platform().postings().get(posting.id).await.unwrap().unwrap();
    let free = (1..=31)
        .filter_map(|d| chrono::NaiveDate::from_ymd_opt(2017, 10, d))
        .find(|d| ducha_domain::platform::is_workday(*d) && !taken.iter().any(|c| c.on_date == *d))
        .expect("a free working day in October");

    let chrome = Chrome::phone(390, 844).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/platform/postings", app.base)).await.unwrap();
    assert!(!chrome.overflows().await, "the list fits a phone");
    c.find(Locator::LinkText(&posting.posting.name)).await.unwrap().click().await.unwrap();
    let before = chrome.text("#attendance").await;
    assert!(before.starts_with(&format!("{} 天", posting.days_present)), "{before}");
    c.find(Locator::Css("#check-in")).await.unwrap().click().await.unwrap();
    chrome.set_date("on_date", "2016-12-01").await;
    chrome.fill("place", "海宴镇扶贫办").await;
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text("#on_date-error").await.contains("早于派驻开始日期"));
    chrome.shot("40-phone-check-in-refused").await;
    let (_, still) = app.db.scoped(&sees(&haiyan)).platform().postings().get(posting.id).await.unwrap().unwrap();
    assert_eq!(still.len(), taken.len(), "nothing saved");

    chrome.set_date("on_date", &free.to_string()).await;
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text("#notice").await.contains("已保存"));
    assert!(chrome.text("#attendance").await.starts_with(&format!("{} 天", posting.days_present + 1)));
    assert!(chrome.text("#check-ins").await.contains(&free.to_string()));
    assert!(!chrome.overflows().await);
    chrome.shot("41-phone-check-in-saved").await;
    chrome.client.clone().close().await.ok();
}

/// A district office moves a project on in the browser: refused without its plan (the page names
/// what is missing), accepted once the plan is uploaded; a payment over budget is refused at its
/// field, one within it is saved with its voucher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_moves_a_project_on_and_pays_with_a_voucher() {
    use ducha_domain::access::Scope;
    use ducha_domain::funds::Stage;
    let app = TestApp::spawn_demo(Backend::Sqlite, 300).await;
    let taishan = Scope::Region(ducha_domain::RegionCode::parse("440781").unwrap());
    let projects = app.db.scoped(&sees(&taishan)).funds().projects().list().await.unwrap();
    let stuck = projects.iter().find(|p| p.stage == Stage::Planning).unwrap();
    let running = projects.iter().find(|p| p.stage == Stage::Implementation).unwrap();
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "taishan").await;
    c.goto(&format!("{}/funds", app.base)).await.unwrap();
    assert!(chrome.text("#spending").await.contains("滞后"));
    chrome.shot("50-funds").await;

    c.goto(&format!("{}/funds/projects/{}", app.base, stuck.id)).await.unwrap();
    chrome.submit("#advance button").await;
    assert!(chrome.text("#notice").await.contains("缺少“项目方案”"));
    assert_eq!(chrome.text("#stage").await.split('（').next().unwrap(), "计划编报");
    c.find(Locator::LinkText("上传项目材料")).await.unwrap().click().await.unwrap();
    chrome.choose("kind", "项目方案").await;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("项目方案.png");
    std::fs::write(&plan, crate::help::PNG).unwrap();
    c.find(Locator::Css("input[type=file][name=files]"))
        .await
        .unwrap()
        .send_keys(plan.to_str().unwrap())
        .await
        .unwrap();
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text("#documents").await.contains("项目方案.png"));
    chrome.submit("#advance button").await;
    assert!(chrome.text("#stage").await.starts_with("审批"));
    chrome.shot("51-project-advanced").await;

    c.goto(&format!("{}/funds/projects/{}/pay", app.base, running.id)).await.unwrap();
    let left = running.budget - running.paid;
    chrome.fill("amount", &(left + ducha_domain::money::Money::from_yuan(1)).to_string()).await;
    chrome.fill("payee", "承建单位").await;
    let voucher = dir.path().join("银行回单.png");
    std::fs::write(&voucher, crate::help::PNG).unwrap();
    c.find(Locator::Css("input[type=file][name=files]"))
        .await
        .unwrap()
        .send_keys(voucher.to_str().unwrap())
        .await
        .unwrap();
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text("#amount-error").await.contains("超出 1.00 元"));
    chrome.fill("amount", &left.to_string()).await;
    c.find(Locator::Css("input[type=file][name=files]"))
        .await
        .unwrap()
        .send_keys(voucher.to_str().unwrap())
        .await
        .unwrap();
    chrome.submit("form.edit button[type=submit]").await;
    assert!(chrome.text("#paid").await.starts_with(&running.budget.to_string()));
    assert!(chrome.text("#payments").await.contains("银行回单.png"));
    chrome.shot("52-project-paid").await;
    chrome.client.clone().close().await.ok();
}

/// An inspector on a phone opens a sampled household of the campaign under way, records a visit
/// with a difference from the registry and a photo, answers the questionnaire, and sees the
/// problem it made; then records another with the connection gone, and it is sent when the
/// connection returns, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_records_visits_on_a_phone_online_and_offline() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_demo_campaigns().await;
    let q = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            let r =
                db.conn().query_all_raw(sea_orm::Statement::from_string(db.conn().get_database_backend(), sql)).await;
            r.unwrap().iter().map(|r| r.try_get_by_index::<i64>(0).unwrap()).collect::<Vec<i64>>()
        }
    };
    let visits = || q("SELECT COUNT(*) FROM campaign_visits WHERE campaign_id = 3");
    let households = q("SELECT household_id FROM campaign_households WHERE campaign_id = 3 AND town_code LIKE '440705%' ORDER BY household_id").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("走访照片.png");
    std::fs::write(&photo, crate::help::PNG).unwrap();

    let chrome = Chrome::phone(390, 844).await;
    let c = &chrome.client;
    chrome.login(&app.base, "inspector").await;
    c.goto(&format!("{}/campaigns", app.base)).await.unwrap();
    chrome.submit("#campaigns a[href='/campaigns/3']").await;
    assert!(!chrome.overflows().await, "the campaign page fits the phone");
    fill_visit(&chrome, &app.base, households[0]).await;
    c.find(Locator::Css("input[type=file][name=photos]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    assert!(!chrome.overflows().await, "the visit form fits the phone");
    chrome.shot("50-phone-visit-form").await;
    chrome.submit("#visit-form button[type=submit]").await;
    let done = chrome.text("#visited").await;
    assert!(done.contains("走访登记"), "{done}");
    let found = chrome.text("#visit-problems").await;
    assert!(found.contains("家庭人口") && found.contains("实际 6 人"), "{found}");
    assert!(chrome.text("#observations").await.contains("不符：实际 6 人"));
    chrome.shot("51-phone-visit-recorded").await;
    assert_eq!(visits().await, [1]);
    assert_eq!(q("SELECT COUNT(*) FROM evidence WHERE owner_kind = 'campaign_visit'").await, [1], "the photo is kept");

    // The second household, with the connection gone.
    fill_visit(&chrome, &app.base, households[1]).await;
    chrome.set_offline(true).await;
    c.find(Locator::Css("#visit-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let mut status = String::new();
    for _ in 0..100 {
        status = chrome.text("#offline-status").await;
        if status.contains("已保存在本机") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(status.contains("已保存在本机（待提交 1 条）"), "{status}");
    chrome.shot("52-phone-visit-offline").await;
    assert_eq!(visits().await, [1], "nothing reached the server while offline");

    // The connection returns: the page sends what it kept, once.
    chrome.set_offline(false).await;
    let mut sent = false;
    for i in 0..100 {
        if visits().await == [2] {
            sent = true;
            break;
        }
        // Should the browser not announce the connection, the next page it opens sends the queue.
        if i == 50 {
            c.goto(&format!("{}/campaigns/3", app.base)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "the visit kept offline was sent when the connection returned");
    c.goto(&format!("{}/campaigns/3/households/{}", app.base, households[1])).await.unwrap();
    assert!(chrome.text("#visit-problems").await.contains("实际 6 人"));
    // Opening another page sends nothing again: the queue is empty.
    c.goto(&format!("{}/campaigns/3", app.base)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(visits().await, [2]);
    chrome.shot("53-phone-visit-sent").await;
    chrome.client.clone().close().await.ok();
}

/// Open a sampled household's visit form and fill it in: the household's size differs from the
/// registry, and every choice or scale question gets its first option.
async fn fill_visit(chrome: &Chrome, base: &str, household: i64) {
    let c = &chrome.client;
    c.goto(&format!("{base}/campaigns/3/households/{household}")).await.unwrap();
    c.find(Locator::Css("input[name=match_size][value='否']")).await.unwrap().click().await.unwrap();
    chrome.fill("obs_size", "实际 6 人，儿子已分户").await;
    let names = c
        .execute(
            "return [...new Set([...document.querySelectorAll('fieldset.question input')].map(i => i.name))];",
            vec![],
        )
        .await
        .unwrap();
    for name in names.as_array().unwrap() {
        let css = format!("fieldset.question input[name='{}']", name.as_str().unwrap());
        c.find(Locator::Css(&css)).await.unwrap().click().await.unwrap();
    }
}

/// A town office submits a rectification with evidence; the city office sends it back; the town
/// submits again; the city office closes it (销号). A submission without evidence is refused, and
/// the town office cannot close its own problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rectification_is_submitted_sent_back_and_closed() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_demo_campaigns().await;
    let one = |sql: String| {
        let db = app.db.clone();
        async move {
            let r =
                db.conn().query_one_raw(sea_orm::Statement::from_string(db.conn().get_database_backend(), sql)).await;
            r.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap()
        }
    };
    let problem = one("SELECT MIN(id) FROM campaign_problems WHERE campaign_id = 2 AND town_code = '440781111' AND status = 'confirmed'".into()).await;
    let audit =
        || one(format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'rectification' AND entity_id = '{problem}'"));
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("整改照片.png");
    std::fs::write(&photo, crate::help::PNG).unwrap();
    let chrome = Chrome::start(1280, 900).await;
    let c = &chrome.client;
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/rectification", app.base)).await.unwrap();
    let overdue_before: i64 = chrome.text("#overdue-count").await.parse().unwrap();
    assert!(overdue_before > 0, "the demo's deadlines (2018-01-02) have passed");
    chrome.submit(&format!("#rectifications a[href='/rectification/{problem}']")).await;
    assert_eq!(chrome.text("#rect-status").await, "已交办");
    // Without evidence: refused, nothing recorded.
    chrome.fill("text", "已加快资金拨付进度").await;
    chrome.submit("#submit-form button[type=submit]").await;
    assert!(chrome.text("main").await.contains("请上传整改佐证材料"));
    assert_eq!(audit().await, 0);
    c.goto(&format!("{}/rectification/{problem}", app.base)).await.unwrap();
    chrome.fill("text", "已加快资金拨付进度，拨付凭证见附件").await;
    c.find(Locator::Css("#submit-form input[type=file]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    chrome.shot("70-rectification-submit").await;
    chrome.submit("#submit-form button[type=submit]").await;
    assert_eq!(chrome.text("#rect-status").await, "已报送待核实");
    assert!(chrome.text("#rect-files").await.contains("整改照片.png"));
    assert!(c.find(Locator::Css("#verify-form")).await.is_err(), "a town office cannot close its own problem");
    chrome.logout().await;

    // The city office sends it back with a reason.
    chrome.login(&app.base, "city").await;
    c.goto(&format!("{}/rectification/{problem}", app.base)).await.unwrap();
    chrome.submit("#verify-form button[value=return]").await;
    assert!(chrome.text("main").await.contains("退回请写明整改不到位之处"));
    c.goto(&format!("{}/rectification/{problem}", app.base)).await.unwrap();
    chrome.fill("text", "拨付进度仍未达到序时进度").await;
    chrome.submit("#verify-form button[value=return]").await;
    assert_eq!(chrome.text("#rect-status").await, "退回（整改不到位）");
    assert!(chrome.text("#rect-reason").await.contains("仍未达到序时进度"));
    chrome.shot("71-rectification-returned").await;
    chrome.logout().await;

    // The town submits again (its evidence is kept); the city office closes it.
    chrome.login(&app.base, "haiyan").await;
    c.goto(&format!("{}/rectification/{problem}", app.base)).await.unwrap();
    chrome.fill("text", "资金已全部拨付到位").await;
    chrome.submit("#submit-form button[type=submit]").await;
    assert_eq!(chrome.text("#rect-status").await, "已报送待核实");
    chrome.logout().await;
    chrome.login(&app.base, "city").await;
    c.goto(&format!("{}/rectification/{problem}", app.base)).await.unwrap();
    chrome.submit("#verify-form button[value=close]").await;
    assert_eq!(chrome.text("#rect-status").await, "已销号");
    chrome.shot("72-rectification-closed").await;
    assert_eq!(audit().await, 4, "submit, return, submit, close: each in the audit trail");
    c.goto(&format!("{}/rectification", app.base)).await.unwrap();
    let city_overdue: i64 = chrome.text("#overdue-count").await.parse().unwrap();
    let all_overdue = one("SELECT COUNT(*) FROM campaign_problems WHERE status = 'confirmed'".into()).await - 1;
    assert_eq!(city_overdue, all_overdue, "every problem but the closed one is overdue");
    let taishan = chrome.text("#by-district").await;
    assert!(taishan.contains("台山市"), "{taishan}");
    // The dashboard's charts are drawn by the server: problems by district and category, the
    // rate by district, and the rate and overdue share over time.
    let svgs = c.find_all(Locator::Css("#charts svg")).await.unwrap();
    assert_eq!(svgs.len(), 3);
    let first = c.find(Locator::Css("#charts")).await.unwrap().html(false).await.unwrap();
    assert!(first.contains("恩平市") && first.contains("整改率"), "charts name the districts");
    chrome.shot("73-rectification-dashboard").await;
    chrome.client.clone().close().await.ok();
}
