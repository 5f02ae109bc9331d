//! The `ducha` binary itself: serve, demo, regions import, household show.

use std::process::Stdio;
use std::time::Duration;

use ducha_storage::Backend;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::regions::OTHER_CITY;
use crate::support::{TestDb, anchor_args, sees};

fn ducha() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ducha"));
    c.env_remove("DUCHA_DATABASE_URL").env("DUCHA_LOG", "warn").kill_on_drop(true);
    c
}

pub async fn run(args: &[&str], db: &str) -> (bool, String, String) {
    run_plain(&[args, &anchor_args(db).iter().map(String::as_str).collect::<Vec<_>>()].concat(), db).await
}

/// The binary with only the arguments given (and `--db`): the audit key where `args` say, or at
/// the default place.
pub async fn run_plain(args: &[&str], db: &str) -> (bool, String, String) {
    let out = ducha().args(args).arg("--db").arg(db).output().await.expect("ducha runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_demo_answers_on_its_address() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let mut child = ducha()
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--db", &test_db.url])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ducha serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(url) = line.strip_prefix("ducha 已启动：") {
                return url.trim_end_matches('/').to_string();
            }
        }
        panic!("ducha serve stopped without saying where it listens");
    })
    .await
    .expect("ducha serve starts within two minutes");
    let client = reqwest::Client::new();
    let districts: serde_json::Value =
        client.get(format!("{base}/api/v1/regions?level=district")).send().await.unwrap().json().await.unwrap();
    assert_eq!(districts.as_array().unwrap().len(), 7);
    let towns: serde_json::Value =
        client.get(format!("{base}/api/v1/regions?level=town")).send().await.unwrap().json().await.unwrap();
    assert_eq!(towns.as_array().unwrap().len(), 82);
    // Pages need a login: the home page leads to the login form.
    let login = client.get(format!("{base}/")).send().await.unwrap();
    assert!(login.url().path().starts_with("/login"), "{}", login.url());
    assert!(login.text().await.unwrap().contains("用户名"));
    // What it printed names the demo accounts.
    let mut rest = String::new();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert!(rest.contains("haiyan") && rest.contains("ducha2017"), "{rest}");
    child.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_region_file_is_refused_whole_with_line_and_field() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    // Line 4 has a letter in its code, line 5 a village code where a town should be.
    std::fs::write(&bad, format!("{OTHER_CITY}44990X,坏区,district,4499\n449901102001,错级,town,449901\n")).unwrap();
    let (ok, _, err) = run(&["regions", "import", bad.to_str().unwrap()], &test_db.url).await;
    assert!(!ok);
    assert!(err.contains("第 7 行“code”"), "{err}");
    assert!(err.contains("第 8 行“level”"), "{err}");
    assert!(err.contains("未写入任何数据"), "{err}");
    let db = test_db.open().await;
    assert!(db.system().regions().get("449901").await.unwrap().is_none(), "the good rows were not written either");

    let good = dir.path().join("good.csv");
    std::fs::write(&good, OTHER_CITY).unwrap();
    let (ok, out, err) = run(&["regions", "import", good.to_str().unwrap()], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("已导入区划 5 个"), "{out}");
    assert_eq!(db.system().regions().get("449901101201").await.unwrap().map(|r| r.name).as_deref(), Some("丙村委会"));
}

async fn demo_then_show(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (ok, out, err) = run(&["demo", "--households", "300"], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("贫困户 300 户"), "{out}");
    let db = test_db.open().await;
    let scope = ducha_domain::access::Scope::All;
    let number = db.scoped(&crate::support::sees(&scope)).registry().household_numbers(1).await.unwrap().remove(0);
    let (ok, out, err) = run(&["household", "show", &number], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("户编号：{number}")), "{out}");
    assert!(out.contains("所在地：江门市/"), "{out}");
    assert!(out.contains("********"), "ID numbers are masked by default: {out}");
    let (ok, _, err) = run(&["household", "show", "0000"], &test_db.url).await;
    assert!(!ok);
    assert!(err.contains("没有户编号为“0000”的贫困户"), "{err}");

    // The data-quality audit: JSON names each finding's rule; the planted problems are all found.
    let (ok, out, err) = run(&["audit", "--format", "json", "--against-demo"], &test_db.url).await;
    assert!(ok, "{err}");
    let body: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    let findings = body["findings"].as_array().unwrap();
    assert_eq!(findings.len() as u64, body["run"]["open"].as_u64().unwrap());
    assert!(findings.len() > 50, "{}", findings.len());
    for f in findings {
        let code = f["rule"].as_str().unwrap();
        assert!(ducha_domain::checks::rule(code).is_some(), "{code}");
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
    assert!(err.contains("没有设置问题的记录上查出的问题：0 条"), "{err}");
    let (ok, out, _) = run(&["audit", "rules", "--format", "json"], &test_db.url).await;
    assert!(ok);
    let rules: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rules.as_array().unwrap().len(), ducha_domain::checks::CATALOGUE.len());
    assert!(ducha_domain::checks::CATALOGUE.len() >= 40);

    // The per-town problem list, read back by a real reader: a summary, then a sheet per town.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("问题清单.xlsx");
    let (ok, out, err) =
        run(&["audit", "--region", "440781", "--format", "xlsx", "--out", file.to_str().unwrap()], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("江门市/台山市"), "{out}");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&file).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names[0], "汇总");
    assert!(names.len() > 2, "{names:?}");
    // The district's own sheet (its designated institutions) comes first, then its towns.
    let district = wb.worksheet_range(&names[1]).unwrap();
    let title = district.get_value((0, 0)).unwrap().to_string();
    assert!(title.starts_with("江门市/台山市") && title.ends_with("数据质量问题清单"), "{title}");
    assert_eq!(district.get_value((2, 2)).unwrap().to_string(), "（定点医疗机构）");
    let town = wb.worksheet_range(&names[2]).unwrap();
    let title = town.get_value((0, 0)).unwrap().to_string();
    assert!(title.starts_with("江门市/台山市/") && title.ends_with("数据质量问题清单"), "{title}");
    assert_eq!(town.get_value((1, 2)).unwrap().to_string(), "户编号");
    // The town's own records (projects, postings) are listed by kind; households by number.
    let numbers: Vec<String> =
        (2..town.height() as u32).filter_map(|r| town.get_value((r, 2)).map(|v| v.to_string())).collect();
    assert!(numbers.iter().all(|n| n.starts_with("440781") || n.starts_with('（')), "{numbers:?}");
    let number = numbers.iter().find(|n| n.starts_with("440781")).unwrap().clone();
    // Every listed row is a finding the JSON also reports.
    let listed = (2..town.height() as u32).filter(|r| town.get_value((*r, 4)).is_some()).count();
    let in_json = findings.iter().filter(|f| f["household_number"].as_str() == Some(number.as_str())).count();
    assert!(listed > 0 && in_json > 0, "{listed} {in_json}");

    // Posted cadres' attendance by district, and the workbook.
    let sheet = dir.path().join("考勤.xlsx");
    let (ok, out, err) = run(&["platform", "attendance", "--out", sheet.to_str().unwrap()], &test_db.url).await;
    assert!(ok, "{err}");
    let pengjiang = out.lines().find(|l| l.starts_with("蓬江区")).unwrap_or_else(|| panic!("{out}"));
    assert!(pengjiang.trim_end().ends_with(" 0%"), "{pengjiang}");
    let wb: calamine::Xlsx<_> = calamine::open_workbook(&sheet).unwrap();
    assert_eq!(wb.sheet_names(), ["驻点考勤汇总", "派驻干部", "一站式结算"]);
    let (ok, out, err) = run(&["platform", "institutions", "--as", "taishan"], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("台山市") && !out.contains("蓬江区"), "{out}");

    // Spending progress by district, every district behind the curve.
    let (ok, out, err) = run(&["funds", "progress"], &test_db.url).await;
    assert!(ok, "{err}");
    let pengjiang = out.lines().find(|l| l.starts_with("蓬江区")).unwrap_or_else(|| panic!("{out}"));
    assert!(pengjiang.contains("40%") && pengjiang.contains("滞后"), "{pengjiang}");

    let (ok, _, err) = run(&["audit", "--format", "pdf"], &test_db.url).await;
    assert!(!ok && err.contains("不认识的输出格式“pdf”"), "{err}");
    let (ok, _, err) = run(&["audit", "--as", "haiyan", "--region", "440785"], &test_db.url).await;
    assert!(!ok && err.contains("不在 haiyan 的辖区内"), "{err}");
}

both_backends!(demo_then_show);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_verify_passes_clean_and_names_the_record_edited_in_sql() {
    use sea_orm::ConnectionTrait;
    let test_db = TestDb::new(Backend::Sqlite).await;
    let (ok, _, err) = run(&["demo", "--households", "100"], &test_db.url).await;
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["audit-log", "verify"], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("审计链完好"), "{out}");
    // The demo's accounts are records 3 onwards; alter the fifth by hand.
    let db = test_db.open().await;
    db.conn().execute_unprepared("UPDATE audit_log SET actor = 'mallory' WHERE id = 5").await.unwrap();
    let (ok, _, err) = run(&["audit-log", "verify"], &test_db.url).await;
    assert!(!ok);
    assert!(err.contains("审计链在第 5 条处断开") && err.contains("此前 4 条完好"), "{err}");
}

async fn help_plans_and_logs_import_from_csv(backend: Backend) {
    use ducha_domain::access::Scope;
    use ducha_domain::region::RegionCode;
    let test_db = TestDb::new(backend).await;
    let (ok, _, err) = run(&["demo", "--households", "400"], &test_db.url).await;
    assert!(ok, "{err}");
    let db = test_db.open().await;
    let town = Scope::Region(RegionCode::parse("440781111").unwrap());
    let numbers = db.scoped(&crate::support::sees(&town)).registry().household_numbers(2).await.unwrap();
    let rec =
        db.scoped(&crate::support::sees(&town)).registry().household_by_number(&numbers[0]).await.unwrap().unwrap();
    let cadre = db
        .scoped(&crate::support::sees(&town))
        .help()
        .for_household(rec.household.id)
        .await
        .unwrap()
        .unwrap()
        .town_cadres[0]
        .name
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("计划.csv");
    std::fs::write(
        &plans,
        format!(
            "户编号,年度,目标人均纯收入,帮扶责任人,计划措施\n{},2018,9500,{cadre},产业帮扶、就业帮扶\n{},2018,9000,,金融帮扶\n",
            numbers[0], numbers[1]
        ),
    )
    .unwrap();
    let (ok, out, err) = run(&["import", "plans", plans.to_str().unwrap()], &test_db.url).await;
    assert!(ok, "{err}");
    assert!(out.contains("已导入帮扶计划：新增 2、修改 0、未变 0"), "{out}");
    let (ok, out, _) = run(&["import", "plans", plans.to_str().unwrap()], &test_db.url).await;
    assert!(ok && out.contains("新增 0、修改 0、未变 2"), "the same file again changes nothing: {out}");
    // The wrong template for the command, and a cadre who does not exist: refused whole.
    let (ok, _, err) = run(&["import", "households", plans.to_str().unwrap()], &test_db.url).await;
    assert!(!ok && err.contains("是帮扶计划的格式"), "{err}");
    let logs = dir.path().join("日志.csv");
    std::fs::write(
        &logs,
        format!(
            "户编号,日期,帮扶责任人,地点,内容\n{0},2017-10-09,{cadre},入户,送鸡苗\n{0},2017-10-10,无此人,入户,回访\n",
            numbers[0]
        ),
    )
    .unwrap();
    let (ok, _, err) = run(&["import", "logs", logs.to_str().unwrap()], &test_db.url).await;
    assert!(!ok);
    assert!(err.contains("第 3 行 C 列（帮扶责任人）") && err.contains("没有名为“无此人”"), "{err}");
    let help = db.scoped(&crate::support::sees(&town)).help().for_household(rec.household.id).await.unwrap().unwrap();
    assert!(!help.logs.iter().any(|(l, _)| l.content == "送鸡苗"), "nothing of the refused file was written");
    std::fs::write(
        &logs,
        format!("户编号,日期,帮扶责任人,地点,内容\n{0},2017-10-09,{cadre},入户,送鸡苗\n", numbers[0]),
    )
    .unwrap();
    let (ok, out, err) = run(&["import", "logs", logs.to_str().unwrap()], &test_db.url).await;
    assert!(ok && out.contains("已导入帮扶日志：新增 1"), "{out}{err}");
    let help = db.scoped(&crate::support::sees(&town)).help().for_household(rec.household.id).await.unwrap().unwrap();
    assert!(help.plans.iter().any(|(p, cats)| p.year == 2018 && cats.len() == 2));
    assert!(help.logs.iter().any(|(l, name)| l.content == "送鸡苗" && name.as_deref() == Some(cadre.as_str())));

    // A district's disbursement ledger with its voucher file: without the file it is refused at
    // its row; with it, imported.
    let taishan = Scope::Region(RegionCode::parse("440781").unwrap());
    let p = db
        .scoped(&sees(&taishan))
        .funds()
        .projects()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.stage == ducha_domain::funds::Stage::Implementation && p.budget > p.paid)
        .expect("a project in implementation");
    let ledger = dir.path().join("拨付台账.csv");
    std::fs::write(
        &ledger,
        format!(
            "项目名称,所在镇（街）,拨付日期,金额（元）,收款单位,凭证文件\n{},{},2017-09-01,0.5,施工单位,回单.png\n",
            p.name,
            &p.place_code[..9]
        ),
    )
    .unwrap();
    let voucher = dir.path().join("回单.png");
    std::fs::write(&voucher, crate::help::PNG).unwrap();
    let args = |with: bool| {
        let mut a = vec!["import", "payments", ledger.to_str().unwrap()];
        if with {
            a.push(voucher.to_str().unwrap());
        }
        a.extend(["--as", "taishan"]);
        a
    };
    let (ok, _, err) = run(&args(false), &test_db.url).await;
    assert!(!ok && err.contains("第 2 行 F 列（凭证文件）") && err.contains("回单.png"), "{err}");
    let (ok, out, err) = run(&args(true), &test_db.url).await;
    assert!(ok && out.contains("已导入资金拨付台账：新增 1"), "{out}{err}");
    let (ok, out, _) = run(&args(true), &test_db.url).await;
    assert!(ok && out.contains("新增 0、修改 0、未变 1"), "the same ledger again adds nothing: {out}");
    // The ledger exported and its template, from the CLI too.
    let exported = dir.path().join("台账导出.xlsx");
    let (ok, out, err) =
        run(&["export", "payments", "--out", exported.to_str().unwrap(), "--as", "taishan"], &test_db.url).await;
    assert!(ok && out.contains("已写出资金拨付台账"), "{out}{err}");
    let (ok, out, _) = run(&["import", "payments", exported.to_str().unwrap(), "--as", "taishan"], &test_db.url).await;
    assert!(ok && out.contains("新增 0"), "the exported ledger imports unchanged: {out}");
    let template = dir.path().join("模板.xlsx");
    let (ok, _, err) =
        run(&["export", "platform-template", "postings", "--out", template.to_str().unwrap()], &test_db.url).await;
    assert!(ok, "{err}");
    let tables = ducha_reports::sheet::read("模板.xlsx", &std::fs::read(&template).unwrap(), "").unwrap();
    assert_eq!(ducha_reports::help_sheets::detect(&tables[0]), ducha_reports::help_sheets::Kind::Postings);
    let (ok, _, err) = run(&["export", "platform-template", "nothing", "--out", "/tmp/x.xlsx"], &test_db.url).await;
    assert!(!ok && err.contains("没有“nothing”模板"), "{err}");
}

both_backends!(help_plans_and_logs_import_from_csv);
