//! Projects and funds on both databases: every stage rule and every payment rule, each refusal
//! with its reason at its field and nothing written; allocations in scope; spending progress.

use chrono::NaiveDate;
use ducha_domain::RegionCode;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::funds::{Allocation, DocumentKind, FundSource, Project, ProjectType, Stage};
use ducha_domain::money::Money;
use ducha_storage::evidence::Upload;
use ducha_storage::{Backend, Db, StorageError};

use crate::support::{TestDb, sees};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn file(name: &str) -> Upload {
    Upload { filename: name.into(), bytes: crate::help::PNG.to_vec() }
}

/// The message at `field` of a refusal, or a panic naming what came instead.
fn refused<T: std::fmt::Debug>(r: Result<T, StorageError>, field: &str) -> String {
    match r {
        Err(StorageError::Invalid(e)) => e.get(field).unwrap_or_else(|| panic!("no error at {field}: {e}")).to_string(),
        other => panic!("expected a refusal at {field}, got {other:?}"),
    }
}

async fn written(db: &Db) -> (i64, usize) {
    let all = db.system().funds().projects().list().await.unwrap();
    let paid: i64 = all.iter().map(|p| p.paid.fen()).sum();
    (db.system().audit().count().await.unwrap(), all.len() + paid as usize)
}

fn alloc(source: FundSource, region: &str, amount: Money, arrived_on: Option<NaiveDate>) -> Allocation {
    Allocation { year: 2017, source, region_code: region.into(), amount, allocated_on: d(2017, 1, 10), arrived_on }
}

async fn user(db: &Db, name: &str) -> Actor {
    db.system().accounts().find_user(name).await.unwrap().unwrap().actor(None)
}

fn project(place: &str) -> Project {
    Project {
        name: "海宴镇光伏扶贫电站".into(),
        kind: ProjectType::Photovoltaic,
        income_generating: true,
        place_code: place.into(),
        unit: "海宴镇人民政府".into(),
        performance_target: "带动 2 户贫困户每户年增收 3000 元".into(),
        budget: vec![(FundSource::Provincial, Money::from_yuan(80_000)), (FundSource::City, Money::from_yuan(20_000))],
        public_benefit: String::new(),
    }
}

both_backends!(stages_need_their_documents_and_payments_follow_projects);

async fn stages_need_their_documents_and_payments_follow_projects(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.open().await;
    let system = Actor::system();
    db.scoped(&system)
        .demo()
        .load(ducha_domain::demo::DemoConfig { households: 300, ..Default::default() }, |_, _| {})
        .await
        .unwrap();
    db.scoped(&system).demo().create_demo_users().await.unwrap();
    let (town, district, other_town, other_district) =
        (user(&db, "haiyan").await, user(&db, "taishan").await, user(&db, "naji").await, user(&db, "enping").await);
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());
    let mine: Vec<i64> = db
        .scoped(&sees(&haiyan))
        .registry()
        .list(&Default::default(), None, None, 2)
        .await
        .unwrap()
        .rows
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(mine.len(), 2);
    let naji = Scope::Region(RegionCode::parse("440785107").unwrap());
    let theirs = db.scoped(&sees(&naji)).registry().list(&Default::default(), None, None, 1).await.unwrap().rows[0].id;

    // Entering the library: another town's household is refused by name, and nothing is written.
    let before = written(&db).await;
    let serves = [(mine[0], Money::from_yuan(3000)), (theirs, Money::from_yuan(3000))];
    let why = refused(
        db.scoped(&town).funds().projects().add(2017, &project("440781111"), &serves, d(2017, 2, 1)).await,
        "households",
    );
    assert!(why.contains(&theirs.to_string()) && why.contains("辖区"), "{why}");
    let why = refused(
        db.scoped(&town).funds().projects().add(2017, &project("440785107"), &[], d(2017, 2, 1)).await,
        "place_code",
    );
    assert!(why.contains("辖区"));
    assert_eq!(written(&db).await, before);
    let serves = [(mine[0], Money::from_yuan(3000)), (mine[1], Money::from_yuan(3000))];
    let id =
        db.scoped(&town).funds().projects().add(2017, &project("440781111"), &serves, d(2017, 2, 1)).await.unwrap();
    let p = db.scoped(&sees(&haiyan)).funds().projects().get(id).await.unwrap().unwrap();
    assert_eq!((p.row.stage, p.row.budget, p.households.len()), (Stage::Screening, Money::from_yuan(100_000), 2));
    assert!(
        db.scoped(&sees(&naji)).funds().projects().get(id).await.unwrap().is_none(),
        "another town does not see it"
    );
    // The town's library knows a project by its name (the ledger names it so): no second of one name.
    let again = db.scoped(&town).funds().projects().add(2017, &project("440781111"), &serves, d(2017, 2, 2)).await;
    assert!(refused(again, "name").contains("已有"));

    // Paying before implementation is refused.
    let why = refused(
        db.scoped(&district)
            .funds()
            .payments()
            .pay(id, Money::from_yuan(10), d(2017, 5, 1), "施工方", &[file("回单.png")])
            .await,
        "project",
    );
    assert!(why.contains("尚未批准实施"), "{why}");

    // Stages: the town cannot move them; another district does not find the project; no skipping.
    assert!(matches!(
        db.scoped(&town).funds().projects().advance(id, Stage::Planning, d(2017, 2, 10)).await,
        Err(StorageError::Forbidden(_))
    ));
    assert!(matches!(
        db.scoped(&other_district).funds().projects().advance(id, Stage::Planning, d(2017, 2, 10)).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.scoped(&other_town).funds().projects().add_document(id, DocumentKind::Plan, &file("方案.png")).await,
        Err(StorageError::NotFound)
    ));
    assert!(
        refused(db.scoped(&district).funds().projects().advance(id, Stage::Approval, d(2017, 2, 10)).await, "stage")
            .contains("下一阶段")
    );
    db.scoped(&district).funds().projects().advance(id, Stage::Planning, d(2017, 2, 10)).await.unwrap();
    // Planning → Approval needs the plan.
    let before = written(&db).await;
    assert!(
        refused(db.scoped(&district).funds().projects().advance(id, Stage::Approval, d(2017, 3, 1)).await, "stage")
            .contains("缺少“项目方案”")
    );
    assert_eq!(written(&db).await, before, "a refused move writes nothing");
    db.scoped(&town).funds().projects().add_document(id, DocumentKind::Plan, &file("项目方案.png")).await.unwrap();
    db.scoped(&district).funds().projects().advance(id, Stage::Approval, d(2017, 3, 1)).await.unwrap();
    // Approval → Implementation needs the approval and its public notice.
    assert!(
        refused(
            db.scoped(&district).funds().projects().advance(id, Stage::Implementation, d(2017, 4, 1)).await,
            "stage"
        )
        .contains("立项批复")
    );
    db.scoped(&district).funds().projects().add_document(id, DocumentKind::Approval, &file("批复.png")).await.unwrap();
    assert!(
        refused(
            db.scoped(&district).funds().projects().advance(id, Stage::Implementation, d(2017, 4, 1)).await,
            "stage"
        )
        .contains("公示")
    );
    assert!(
        refused(
            db.scoped(&town).funds().projects().record_notice(id, Stage::Approval, d(2099, 1, 1)).await,
            "noticed_on"
        )
        .contains("还没有到")
    );
    db.scoped(&town).funds().projects().record_notice(id, Stage::Approval, d(2017, 3, 20)).await.unwrap();
    db.scoped(&district).funds().projects().advance(id, Stage::Implementation, d(2017, 4, 1)).await.unwrap();

    // Payments: only the offices above the town; never over budget, without a voucher, negative,
    // in the future; nothing written when refused.
    let before = written(&db).await;
    let v = [file("银行回单.png")];
    assert!(matches!(
        db.scoped(&town).funds().payments().pay(id, Money::from_yuan(10), d(2017, 5, 1), "施工方", &v).await,
        Err(StorageError::Forbidden(_))
    ));
    assert!(
        refused(
            db.scoped(&district)
                .funds()
                .payments()
                .pay(id, Money::from_yuan(100_001), d(2017, 5, 1), "施工方", &v)
                .await,
            "amount"
        )
        .contains("超出 1.00 元")
    );
    assert!(
        refused(
            db.scoped(&district).funds().payments().pay(id, Money::from_yuan(10), d(2017, 5, 1), "施工方", &[]).await,
            "files"
        )
        .contains("凭证")
    );
    assert!(
        refused(
            db.scoped(&district).funds().payments().pay(id, Money::from_fen(-100), d(2017, 5, 1), "施工方", &v).await,
            "amount"
        )
        .contains("大于 0")
    );
    assert!(
        refused(
            db.scoped(&district).funds().payments().pay(id, Money::from_yuan(10), d(2099, 5, 1), "施工方", &v).await,
            "paid_on"
        )
        .contains("还没有到")
    );
    assert!(
        refused(
            db.scoped(&district).funds().payments().pay(id, Money::from_yuan(10), d(2017, 5, 1), " ", &v).await,
            "payee"
        )
        .contains("收款")
    );
    assert_eq!(written(&db).await, before);
    db.scoped(&district)
        .funds()
        .payments()
        .pay(id, Money::from_yuan(60_000), d(2017, 5, 1), "江门某光伏公司", &v)
        .await
        .unwrap();
    let why = refused(
        db.scoped(&district)
            .funds()
            .payments()
            .pay(id, Money::from_yuan(40_001), d(2017, 6, 1), "江门某光伏公司", &v)
            .await,
        "amount",
    );
    assert!(why.contains("已拨付 60000.00 元") && why.contains("超出 1.00 元"), "{why}");
    db.scoped(&district)
        .funds()
        .payments()
        .pay(id, Money::from_yuan(40_000), d(2017, 6, 1), "江门某光伏公司", &v)
        .await
        .unwrap();
    let p = db.scoped(&sees(&haiyan)).funds().projects().get(id).await.unwrap().unwrap();
    assert_eq!(p.row.paid, Money::from_yuan(100_000));
    assert_eq!(p.payments.len(), 2);
    assert!(p.payments.iter().all(|x| x.vouchers.len() == 1), "each payment keeps its voucher");

    // Acceptance → Archived needs the acceptance report and its notice; archived, no more payments.
    db.scoped(&district).funds().projects().advance(id, Stage::Acceptance, d(2017, 9, 1)).await.unwrap();
    assert!(
        refused(db.scoped(&district).funds().projects().advance(id, Stage::Archived, d(2017, 10, 1)).await, "stage")
            .contains("验收报告")
    );
    db.scoped(&town)
        .funds()
        .projects()
        .add_document(id, DocumentKind::Acceptance, &file("验收报告.png"))
        .await
        .unwrap();
    assert!(
        refused(db.scoped(&district).funds().projects().advance(id, Stage::Archived, d(2017, 10, 1)).await, "stage")
            .contains("公示")
    );
    db.scoped(&town).funds().projects().record_notice(id, Stage::Acceptance, d(2017, 9, 20)).await.unwrap();
    db.scoped(&district).funds().projects().advance(id, Stage::Archived, d(2017, 10, 1)).await.unwrap();
    assert!(
        refused(
            db.scoped(&district).funds().payments().pay(id, Money::from_yuan(1), d(2017, 10, 2), "施工方", &v).await,
            "project"
        )
        .contains("归档")
    );

    // A project serving nobody, with no public benefit stated, does not pass planning.
    let road = Project {
        name: "通村道路".into(),
        kind: ProjectType::Infrastructure,
        income_generating: false,
        ..project("440781111")
    };
    let rid = db.scoped(&town).funds().projects().add(2017, &road, &[], d(2017, 2, 1)).await.unwrap();
    let nobody = ducha_storage::checks::FindingFilter {
        rule: Some("P-PRJ-02".into()),
        status: Some("open".into()),
        ..Default::default()
    };
    let found = db.scoped(&sees(&haiyan)).checks().findings(&nobody, 10, 0).await.unwrap();
    assert!(found.iter().any(|f| f.member_id == Some(rid)), "found on save: {found:?}");
    db.scoped(&district).funds().projects().advance(rid, Stage::Planning, d(2017, 2, 2)).await.unwrap();
    db.scoped(&town).funds().projects().add_document(rid, DocumentKind::Plan, &file("方案.png")).await.unwrap();
    assert!(
        refused(db.scoped(&district).funds().projects().advance(rid, Stage::Approval, d(2017, 3, 1)).await, "stage")
            .contains("没有受益贫困户")
    );

    // Allocations: in scope, positive, to a district or town; spending progress from them.
    let elsewhere = alloc(FundSource::Provincial, "440785", Money::from_yuan(1), None);
    assert!(
        refused(db.scoped(&district).funds().allocations().allocate(&elsewhere).await, "region_code").contains("辖区")
    );
    let nothing = alloc(FundSource::Provincial, "440781111", Money::ZERO, None);
    assert!(refused(db.scoped(&district).funds().allocations().allocate(&nothing).await, "amount").contains("大于 0"));
    let by_town_office = alloc(FundSource::Town, "440781111", Money::from_yuan(1), None);
    assert!(matches!(
        db.scoped(&town).funds().allocations().allocate(&by_town_office).await,
        Err(StorageError::Forbidden(_))
    ));
    // What the demo passed down to the town already, and then 400,000 more sent to it directly.
    let base = db
        .scoped(&sees(&haiyan))
        .funds()
        .spending()
        .by_region(d(2017, 11, 1), 12)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap_or_default();
    let provincial = alloc(FundSource::Provincial, "440781111", Money::from_yuan(400_000), Some(d(2017, 2, 1)));
    db.scoped(&district).funds().allocations().allocate(&provincial).await.unwrap();
    let by_town = db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap();
    let s = by_town.iter().find(|s| s.code == "440781111").unwrap();
    let allocated = base.allocated + Money::from_yuan(400_000);
    assert_eq!(
        (s.allocated, s.arrived, s.paid, s.percent),
        (
            allocated,
            base.arrived + Money::from_yuan(400_000),
            Money::from_yuan(100_000),
            Some(Money::from_yuan(100_000).fen() * 100 / allocated.fen())
        )
    );
    assert_eq!(s.committed, Money::from_yuan(100_000), "the archived project's budget");
    assert_eq!(s.target_percent, ducha_domain::funds::target_percent(2017, d(2017, 11, 1), 12));
    // On 1 May nothing was paid yet.
    let early = db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 4, 30), 12).await.unwrap();
    assert_eq!(early.iter().find(|s| s.code == "440781111").unwrap().paid, Money::ZERO);
}

both_backends!(the_demo_spends_slowly_as_the_seed_found);

/// Every district below the target curve, each at its planted rate: on the page, in the API and
/// in the xlsx; the project stuck in planning shows it has no plan.
async fn the_demo_spends_slowly_as_the_seed_found(backend: Backend) {
    let app = crate::support::TestApp::spawn_demo(backend, 600).await;
    let on = d(2017, 11, 1);
    let by_district = app.db.system().funds().spending().by_region(on, 12).await.unwrap();
    assert_eq!(by_district.len(), 7);
    let target = ducha_domain::funds::target_percent(2017, on, 12);
    for (name, per_mille) in ducha_domain::demo::funds::PAID_PER_MILLE {
        let s = by_district.iter().find(|s| s.name == name).unwrap();
        assert_eq!(s.percent, Some(per_mille / 10), "{name}");
        assert_eq!(s.lag(), Some(target - per_mille / 10), "{name} is behind the curve");
        assert_eq!(s.arrived, s.allocated);
    }
    let city = app.login("city").await;
    let (status, page) = city.get_text("/funds").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("滞后 {} 个百分点", target - 40)), "蓬江");
    let resp = city.get("/api/v1/funds/progress").await;
    let api: serde_json::Value = resp.json().await.unwrap();
    let pj = api["regions"].as_array().unwrap().iter().find(|r| r["name"] == "蓬江区").unwrap();
    assert_eq!(pj["percent"], 40);
    // By fund source: the same money, counted once. Every district's budgets follow its
    // allocations' mix, so each source stands where the city does.
    let sources = app.db.system().funds().spending().by_source(on, 12).await.unwrap();
    let sum = |rows: &[ducha_storage::funds::Spending], f: fn(&ducha_storage::funds::Spending) -> Money| {
        rows.iter().fold(Money::ZERO, |a, s| a + f(s))
    };
    assert_eq!(sum(&sources, |s| s.paid), sum(&by_district, |s| s.paid));
    assert_eq!(sum(&sources, |s| s.allocated), sum(&by_district, |s| s.allocated));
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["省级", "市级", "市(区)级"]);
    let city_rate = sum(&by_district, |s| s.paid).fen() * 100 / sum(&by_district, |s| s.allocated).fen();
    for s in &sources {
        assert!(s.percent.is_some_and(|p| (p - city_rate).abs() <= 1), "{}: {:?} vs {city_rate}", s.name, s.percent);
    }
    assert_eq!(api["sources"].as_array().unwrap().len(), 3);
    assert!(page.contains("按资金来源"));
    // Another day: on 30 June only the first payments were made; a date that is none is refused.
    let (status, june) = city.get_text("/funds?on=2017-06-30").await;
    assert_eq!(status, 200);
    assert!(june.contains("截至 2017-06-30"), "the page reads the day asked");
    let in_june = app.db.system().funds().spending().by_region(d(2017, 6, 30), 12).await.unwrap();
    assert!(sum(&in_june, |s| s.paid) < sum(&by_district, |s| s.paid));
    let (status, refused) = city.get_text("/api/v1/funds/progress?on=2017-13-45").await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("2017-13-45"));
    let bytes = city.get("/funds/progress.xlsx").await.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = wb.worksheet_range("资金使用进度").unwrap();
        for (name, per_mille) in ducha_domain::demo::funds::PAID_PER_MILLE {
            let r = sheet.rows().find(|r| r[0] == name).unwrap();
            assert_eq!(r[5].to_string(), format!("{}%", per_mille / 10));
        }
        // Every allocation is listed, those passed down to towns marked so.
        let listed = wb.worksheet_range("资金下达").unwrap();
        let all = app.db.system().funds().allocations().list().await.unwrap();
        assert_eq!(listed.rows().count() - 2, all.len());
        let passed = listed.rows().skip(2).filter(|r| r[5] == "是").count();
        assert_eq!(passed, all.iter().filter(|a| a.parent_id.is_some()).count());
        assert!(passed > 0);
    }
    // A district office sees its own projects; the one stuck in planning has no plan on file.
    let taishan = app.login("taishan").await;
    let projects = app
        .db
        .scoped(&sees(&Scope::Region(RegionCode::parse("440781").unwrap())))
        .funds()
        .projects()
        .list()
        .await
        .unwrap();
    assert_eq!(projects.len(), 4);
    let stuck = projects.iter().find(|p| p.stage == Stage::Planning).unwrap();
    let (_, page) = taishan.get_text(&format!("/funds/projects/{}", stuck.id)).await;
    assert!(page.contains("缺少项目方案"));
    let running = projects.iter().find(|p| p.stage == Stage::Implementation).unwrap();
    let (_, page) = taishan.get_text(&format!("/funds/projects/{}", running.id)).await;
    assert!(page.contains("立项批复") && page.contains("拨付凭证"));
    let (status, _) = app.login("enping").await.get_text(&format!("/funds/projects/{}", running.id)).await;
    assert_eq!(status, 404, "another district");

    // The API: a town enters a project (a household of another town refused by line), the district
    // moves it on (refused with what is missing), allocates funds.
    let token = |who: &'static str| {
        let db = app.db.clone();
        async move { db.system().accounts().issue_token(who, "测试").await.unwrap() }
    };
    let post = |tok: String, path: String, body: serde_json::Value| {
        let (client, base) = (app.client.clone(), app.base.clone());
        async move {
            let r = client.post(format!("{base}{path}")).bearer_auth(tok).json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let haiyan_scope = Scope::Region(RegionCode::parse("440781111").unwrap());
    let mine =
        app.db.scoped(&sees(&haiyan_scope)).registry().list(&Default::default(), None, None, 1).await.unwrap().rows[0]
            .number
            .clone();
    let body = serde_json::json!({
        "name": "海宴镇扶贫车间", "kind": "扶贫车间", "place_code": "440781111", "unit": "海宴镇人民政府",
        "performance_target": "带动 1 户贫困户每户年增收 3000 元", "budget_city": 50000,
        "households": [{"number": mine, "expected_benefit": 3000}, {"number": "440785107200001", "expected_benefit": 3000}],
    });
    let (status, refused) = post(token("haiyan").await, "/api/v1/projects".into(), body.clone()).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["fields"].to_string().contains("第 2 行"), "{refused}");
    let mut ok = body.clone();
    ok["households"].as_array_mut().unwrap().pop();
    let (status, created) = post(token("haiyan").await, "/api/v1/projects".into(), ok).await;
    assert_eq!(status, 200, "{created}");
    let pid = created["id"].as_i64().unwrap();
    let district_token = token("taishan").await;
    let advance = format!("/api/v1/projects/{pid}/advance");
    assert_eq!(post(district_token.clone(), advance.clone(), serde_json::json!({"to": "计划编报"})).await.0, 204);
    let (status, why) = post(district_token.clone(), advance.clone(), serde_json::json!({"to": "审批"})).await;
    assert_eq!(status, 422);
    assert!(why.to_string().contains("项目方案"), "{why}");
    let (status, _) = post(token("enping").await, advance, serde_json::json!({"to": "审批"})).await;
    assert_eq!(status, 404, "another district");
    let alloc_body =
        serde_json::json!({"source": "省级", "region_code": "440781", "amount": "12000", "allocated_on": "2017-03-01"});
    assert_eq!(post(district_token.clone(), "/api/v1/allocations".into(), alloc_body.clone()).await.0, 200);
    assert_eq!(post(token("haiyan").await, "/api/v1/allocations".into(), alloc_body).await.0, 403);

    // The checks name every district behind the curve, and each district's stuck project.
    let open = |rule: &str| ducha_storage::checks::FindingFilter {
        rule: Some(rule.into()),
        status: Some("open".into()),
        ..Default::default()
    };
    let behind = app.db.system().checks().findings(&open("F-SPD-01"), 100, 0).await.unwrap();
    assert_eq!(behind.len(), 7);
    let stuck_found = app.db.system().checks().findings(&open("P-PRJ-01"), 100, 0).await.unwrap();
    assert_eq!(stuck_found.len(), 7);
    assert!(stuck_found.iter().any(|f| f.member_id == Some(stuck.id)));
    for rule in ["P-PRJ-02", "P-PRJ-03", "P-PAY-01", "P-PAY-02"] {
        let n = app.db.system().checks().count_findings(&open(rule)).await.unwrap();
        assert_eq!(n, 0, "{rule}: the demo's other projects are sound");
    }
}

both_backends!(a_project_sheet_is_imported_all_or_nothing);

/// A project library sheet: refused whole with each problem at its row and column (no target,
/// another town's household, an unknown town), then entered at 筛选; importing again adds nothing.
async fn a_project_sheet_is_imported_all_or_nothing(backend: Backend) {
    use ducha_reports::exchange;
    let app = crate::support::TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let town = user(db, "haiyan").await;
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());
    let mine = db.scoped(&sees(&haiyan)).registry().list(&Default::default(), None, None, 2).await.unwrap().rows;
    let naji = Scope::Region(RegionCode::parse("440785107").unwrap());
    let theirs = db.scoped(&sees(&naji)).registry().list(&Default::default(), None, None, 1).await.unwrap().rows;
    let head = "项目名称,项目类型,造血型,所在镇（街）,责任单位,绩效目标,中央资金,省级资金,市级资金,市(区)级资金,镇(街)级资金,社会帮扶资金,受益户,公共受益\n";
    let bad = format!(
        "{head}海宴镇光伏电站,光伏,,海宴镇,海宴镇人民政府,,,80000,,,,,{},\n海宴镇扶贫车间,扶贫车间,是,海宴镇,海宴镇人民政府,带动贫困户就业增收,,,50000,,,,{},\n通村道路,基础设施,否,无此镇,海宴镇人民政府,道路硬化 3 公里,,,,100000,,,,惠及全村\n那吉镇饮水工程,基础设施,否,那吉镇,那吉镇人民政府,解决 300 人饮水,,,,100000,,,,惠及全村\n",
        mine[0].number, theirs[0].number
    );
    let today = d(2026, 11, 27);
    let before = db.system().funds().projects().list().await.unwrap().len();
    let outcome = exchange::import(&db.scoped_on(&town, today), "项目库.csv", bad.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(
        at,
        [
            (2, "绩效目标".to_string()),
            (3, "受益户".to_string()),
            (4, "所在镇（街）".to_string()),
            (5, "所在镇（街）".to_string())
        ],
        "{:?}",
        outcome.errors
    );
    assert_eq!(db.system().funds().projects().list().await.unwrap().len(), before, "nothing written");

    let good = format!(
        "{head}海宴镇光伏电站,光伏,,海宴镇,海宴镇人民政府,带动 2 户贫困户每户年增收 3000 元,,80000,,,,,\"{}，{}\",\n",
        mine[0].number, mine[1].number
    );
    let outcome =
        exchange::import(&db.scoped_on(&town, today), "项目库.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    assert_eq!(outcome.help.unwrap().new, 1);
    let p = db
        .scoped(&sees(&haiyan))
        .funds()
        .projects()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "海宴镇光伏电站")
        .unwrap();
    assert_eq!(
        (p.stage, p.households, p.budget, p.income_generating),
        (Stage::Screening, 2, Money::from_yuan(80_000), true)
    );
    let again = exchange::import(&db.scoped_on(&town, today), "项目库.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!((again.help.unwrap().new, again.help.unwrap().unchanged), (0, 1));
}

both_backends!(a_disbursement_ledger_is_imported_with_its_vouchers_all_or_nothing);

/// A district office's ledger (拨付台账) sent with its vouchers: refused whole with each problem at
/// its row and column (the sheet's rows together over the budget, a voucher not sent, another
/// district's town, a negative amount, no voucher at all), nothing written; then imported with
/// the vouchers attached, once; a town office may not import one. Through the import page too:
/// the ledger and its vouchers chosen together, checked, confirmed, shown on the project.
async fn a_disbursement_ledger_is_imported_with_its_vouchers_all_or_nothing(backend: Backend) {
    use ducha_reports::{bundle, exchange};
    let app = crate::support::TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let district = user(db, "taishan").await;
    let p = db
        .scoped(&sees(&district.scope))
        .funds()
        .projects()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.stage == Stage::Implementation && p.budget > p.paid + Money::from_yuan(2_000))
        .expect("a demo project in implementation with money left");
    let town = p.place_code.get(..9).unwrap().to_string();
    let left = p.budget - p.paid;
    let head = "项目名称,所在镇（街）,拨付日期,金额（元）,收款单位,凭证文件\n";
    let over = Money::from_fen(left.fen() - 100_000 + 1);
    let bad = format!(
        "{head}{n},{town},2017-06-30,1000,施工单位甲,回单1.png\n\
         {n},{town},2017-07-01,{over},施工单位甲,回单2.png\n\
         {n},{town},2017-07-02,10,施工单位甲,缺失.pdf\n\
         {n},440785107,2017-07-03,10,施工单位甲,回单1.png\n\
         {n},{town},2017-07-04,-5,施工单位甲,回单1.png\n\
         {n},{town},2017-07-05,10,施工单位甲,\n",
        n = p.name,
        over = over.to_string().replace(',', "")
    );
    let png = |name: &str| Upload { filename: name.into(), bytes: crate::help::PNG.to_vec() };
    let files =
        [Upload { filename: "拨付台账.csv".into(), bytes: bad.into_bytes() }, png("回单1.png"), png("回单2.png")];
    let zip = bundle::pack(&files).unwrap().unwrap();
    let today = d(2026, 11, 27);
    let before = written(db).await;
    let outcome = exchange::import(&db.scoped_on(&district, today), "拨付台账.zip", &zip, |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(
        at,
        [
            (3, "金额（元）".to_string()),
            (4, "凭证文件".to_string()),
            (5, "所在镇（街）".to_string()),
            (6, "金额（元）".to_string()),
            (7, "凭证文件".to_string())
        ],
        "{:?}",
        outcome.errors
    );
    let over_budget = &outcome.errors[0].message;
    assert!(over_budget.contains("超出预算") && over_budget.contains("超出 0.01 元"), "{over_budget}");
    assert!(outcome.errors[1].message.contains("缺失.pdf"));
    assert_eq!(written(db).await, before, "nothing written");

    let good = format!(
        "{head}{n},{town},2017-06-30,1000,施工单位甲,回单1.png\n{n},{town},2017-07-01,500.5,施工单位乙,回单1.png、回单2.png\n",
        n = p.name
    );
    let files = [
        Upload { filename: "拨付台账.csv".into(), bytes: good.clone().into_bytes() },
        png("回单1.png"),
        png("回单2.png"),
        png("多余.png"),
    ];
    let zip = bundle::pack(&files).unwrap().unwrap();
    // A town office keeps no ledger.
    let haiyan = user(db, "haiyan").await;
    assert!(matches!(
        exchange::check(&db.scoped_on(&haiyan, today), "拨付台账.zip", &zip).await,
        Err(exchange::ExchangeError::Storage(StorageError::Forbidden(_)))
    ));
    let outcome = exchange::import(&db.scoped_on(&district, today), "拨付台账.zip", &zip, |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    assert_eq!(outcome.help.unwrap().new, 2);
    assert!(outcome.parsed.notes.iter().any(|n| n.contains("多余.png")), "{:?}", outcome.parsed.notes);
    let detail = db.scoped(&sees(&district.scope)).funds().projects().get(p.id).await.unwrap().unwrap();
    assert_eq!(detail.row.paid, p.paid + Money::from_fen(150_050));
    let new: Vec<_> = detail.payments.iter().filter(|x| x.payee.starts_with("施工单位")).collect();
    assert_eq!(new.iter().map(|x| x.vouchers.len()).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(db.system().audit().count().await.unwrap(), before.0 + 2 + 3, "a payment and its vouchers each audited");
    // The same ledger again writes nothing.
    let again = exchange::import(&db.scoped_on(&district, today), "拨付台账.zip", &zip, |_, _| {}).await.unwrap();
    assert_eq!((again.help.unwrap().new, again.help.unwrap().unchanged), (0, 2));
    assert_eq!(
        db.scoped(&sees(&district.scope)).funds().projects().get(p.id).await.unwrap().unwrap().payments.len(),
        detail.payments.len()
    );

    // The page: the template, then a ledger chosen with its voucher, checked, confirmed, shown.
    let b = app.login("taishan").await;
    let template = b.get("/imports/payments/template.xlsx").await.bytes().await.unwrap();
    let tables = ducha_reports::sheet::read("模板.xlsx", &template, "").unwrap();
    assert_eq!(ducha_reports::help_sheets::detect(&tables[0]), ducha_reports::help_sheets::Kind::Payments);
    let ledger = format!("{head}{n},{town},2017-08-01,300,施工单位丙,回单3.png\n", n = p.name);
    let (_, path, page) =
        b.upload(vec![("拨付台账.csv", ledger.into_bytes()), ("回单3.png", crate::help::PNG.to_vec())]).await;
    assert!(page.contains("检查通过") && page.contains("资金拨付"), "{page}");
    assert!(page.contains("拨付台账.csv（附 1 个文件）"), "{page}");
    let id = path.rsplit('/').next().unwrap().to_string();
    assert!(b.submit(&format!("/imports/{id}/commit"), &[]).await.status().is_success());
    let mut done = false;
    for _ in 0..100 {
        if b.get_text(&format!("/imports/{id}")).await.1.contains("导入完成") {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "the import finishes");
    let (_, shown) = b.get_text(&format!("/funds/projects/{}", p.id)).await;
    assert!(shown.contains("施工单位丙") && shown.contains("回单3.png"), "{shown}");

    // The district's ledger exported in the import's layout: every payment of its projects, with
    // its vouchers named; sent back as it is (no voucher files needed), nothing changes.
    let exported = b.get("/funds/payments.xlsx").await.bytes().await.unwrap().to_vec();
    let tables = ducha_reports::sheet::read("拨付台账.xlsx", &exported, "").unwrap();
    let mut payments = 0;
    for x in db.scoped(&sees(&district.scope)).funds().projects().list().await.unwrap() {
        payments +=
            db.scoped(&sees(&district.scope)).funds().projects().get(x.id).await.unwrap().unwrap().payments.len();
    }
    let data_rows = tables[0].rows.iter().filter(|(_, c)| c.iter().any(|x| !x.is_empty())).count() - 1;
    assert_eq!(data_rows, payments);
    let back = exchange::import(&db.scoped_on(&district, today), "拨付台账.xlsx", &exported, |_, _| {}).await.unwrap();
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    let h = back.help.unwrap();
    assert_eq!((h.new, h.unchanged), (0, payments as u64));
}

both_backends!(allocations_are_checked_for_their_division_and_dates_and_import_from_a_sheet);

/// An allocation to a code that is no division, to a village, or dated outside the year is
/// refused at its field; a sheet of allocations is refused whole with each problem at its cell,
/// then imported, and imported again with the arrival dates filled in (changed, not added).
async fn allocations_are_checked_for_their_division_and_dates_and_import_from_a_sheet(backend: Backend) {
    use ducha_reports::exchange;
    let app = crate::support::TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let district = user(db, "taishan").await;
    let before = written(db).await;
    let a = |region: &str| alloc(FundSource::Provincial, region, Money::from_yuan(10_000), None);
    assert!(
        refused(db.scoped(&district).funds().allocations().allocate(&a("440781999")).await, "region_code")
            .contains("不存在")
    );
    let tree = db.system().regions().tree().await.unwrap();
    let village = tree.descendants("440781111", Some(ducha_domain::RegionLevel::Village))[0].code.as_str().to_string();
    assert!(
        refused(db.scoped(&district).funds().allocations().allocate(&a(&village)).await, "region_code")
            .contains("市(区)或镇(街)")
    );
    let early = Allocation { allocated_on: d(2015, 6, 1), ..a("440781") };
    assert!(
        refused(db.scoped(&district).funds().allocations().allocate(&early).await, "allocated_on")
            .contains("不在 2017 年度")
    );
    assert_eq!(written(db).await.0, before.0, "nothing audited");

    let head = "资金来源,下达到,金额（元）,下达日期,到位日期\n";
    let bad = format!(
        "{head}省级,台山市海宴镇,50000,2017-03-01,\n国外,台山市,1000,2017-03-01,\n省级,恩平市,1000,2017-03-01,\n\
         省级,台山市,1000,2015-03-01,\n省级,台山市,1000,2017-03-01,2017-02-01\n"
    );
    let today = d(2026, 11, 27);
    let audits = db.system().audit().count().await.unwrap();
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", bad.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(
        at,
        [
            (3, "资金来源".to_string()),
            (4, "下达到".to_string()),
            (5, "下达日期".to_string()),
            (6, "到位日期".to_string())
        ],
        "{:?}",
        outcome.errors
    );
    assert_eq!(db.system().audit().count().await.unwrap(), audits, "nothing written");
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());
    let spent =
        |s: Vec<ducha_storage::funds::Spending>| s.into_iter().find(|s| s.code == "440781111").unwrap_or_default();
    let town_before = spent(db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap());

    let good = format!("{head}省级,台山市海宴镇,50000,2017-03-01,\n");
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    assert_eq!(outcome.help.unwrap().new, 1);
    let town = spent(db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap());
    assert_eq!(town.allocated, town_before.allocated + Money::from_yuan(50_000));
    assert_eq!(town.arrived, town_before.arrived, "not arrived yet");
    let arrived = format!("{head}省级,台山市海宴镇,50000,2017-03-01,2017-03-20\n");
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", arrived.as_bytes(), |_, _| {}).await.unwrap();
    let h = outcome.help.unwrap();
    assert_eq!((h.new, h.changed), (0, 1));
    let town = spent(db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap());
    assert_eq!(
        (town.allocated, town.arrived),
        (town_before.allocated + Money::from_yuan(50_000), town_before.arrived + Money::from_yuan(50_000))
    );
    // A recorded arrival is never cleared by a blank, nor moved by another date.
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(outcome.help.unwrap().unchanged, 1, "{:?}", outcome.errors);
    let moved = format!("{head}省级,台山市海宴镇,50000,2017-03-01,2017-04-01\n");
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", moved.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    assert_eq!(outcome.errors[0].header, "到位日期");
    assert!(outcome.errors[0].message.contains("2017-03-20"), "{:?}", outcome.errors);

    // Rows the district passes down from its own funds: counted for the town, not again for the
    // district; more than is left refused at its amount.
    let taishan = Scope::Region(RegionCode::parse("440781").unwrap());
    let district_line = |db: Db| {
        let scope = taishan.clone();
        async move { db.scoped(&sees(&scope)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap().remove(0) }
    };
    let district_before = district_line(db.clone()).await;
    let parent = db
        .scoped(&sees(&taishan))
        .funds()
        .allocations()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.allocation.region_code == "440781" && a.allocation.source == FundSource::City)
        .unwrap();
    let head_down = "资金来源,下达到,金额（元）,下达日期,到位日期,由市(区)下拨\n";
    let too_much = format!("{head_down}市级,海宴镇,{},2017-04-10,,是\n", parent.left() + Money::from_fen(1));
    let outcome = exchange::import(&db.scoped_on(&district, today), "资金下达.csv", too_much.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert!(!outcome.committed);
    assert_eq!(outcome.errors[0].header, "金额（元）");
    assert!(outcome.errors[0].message.contains("超出可下拨金额"), "{:?}", outcome.errors);
    let down = format!("{head_down}市级,海宴镇,8000,2017-04-10,,是\n市级,海宴镇,2000,2017-04-11,,是\n");
    let outcome =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", down.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    assert_eq!(outcome.help.unwrap().new, 2);
    let town_now = spent(db.scoped(&sees(&haiyan)).funds().spending().by_region(d(2017, 11, 1), 12).await.unwrap());
    assert_eq!(town_now.allocated, town.allocated + Money::from_yuan(10_000));
    assert_eq!(town_now.arrived, town.arrived + Money::from_yuan(10_000), "arrived the day it was passed");
    let district_now = district_line(db.clone()).await;
    assert_eq!(district_now.allocated, district_before.allocated, "not counted twice");
    let parent_now = db.scoped(&sees(&taishan)).funds().allocations().get(parent.id).await.unwrap().unwrap();
    assert_eq!(parent_now.passed_down, parent.passed_down + Money::from_yuan(10_000));
    let again =
        exchange::import(&db.scoped_on(&district, today), "资金下达.csv", down.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(again.help.unwrap().unchanged, 2, "{:?}", again.errors);
}

both_backends!(a_districts_funds_pass_down_to_its_towns_without_counting_twice);

/// The demo passes each district's funds down to its project towns: a town's own progress is
/// its payments against what reached it, and the district's is unchanged. A transfer over what
/// is left, before the funds arrived, to another district's town, or by a town office is refused;
/// one that fits is recorded once, audited, shown on the page, and leaves the district's figures
/// as they were. The API takes the same.
async fn a_districts_funds_pass_down_to_its_towns_without_counting_twice(backend: Backend) {
    let app = crate::support::TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let on = d(2017, 11, 1);
    let district = user(db, "taishan").await;
    let by_district = |db: Db| async move { db.system().funds().spending().by_region(on, 12).await.unwrap() };
    let before = by_district(db.clone()).await;
    let taishan_before = before.iter().find(|s| s.code == "440781").unwrap().clone();
    assert_eq!(taishan_before.percent, Some(60), "the planted rate counts each yuan once");
    // A project town's own line: what reached it, and what it paid.
    let project = db
        .scoped(&sees(&district.scope))
        .funds()
        .projects()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.stage == Stage::Implementation)
        .unwrap();
    let town = project.place_code[..9].to_string();
    let town_scope = Scope::Region(RegionCode::parse(&town).unwrap());
    let mine = db.scoped(&sees(&town_scope)).funds().spending().by_region(on, 12).await.unwrap().remove(0);
    let received: Vec<_> = db.scoped(&sees(&town_scope)).funds().allocations().list().await.unwrap();
    assert!(!received.is_empty() && received.iter().all(|a| a.parent_id.is_some()), "passed down, all of it");
    let reached = received.iter().fold(Money::ZERO, |sum, a| sum + a.allocation.amount);
    assert_eq!(mine.allocated, reached);
    assert!(reached < project.budget, "the district keeps a reserve");
    assert_eq!(mine.percent, Some(project.paid.fen() * 100 / reached.fen()));

    let parent = db
        .scoped(&sees(&district.scope))
        .funds()
        .allocations()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.allocation.region_code == "440781" && a.allocation.source == FundSource::Provincial)
        .unwrap();
    assert!(parent.passed_down > Money::ZERO && parent.left() > Money::ZERO);
    let arrived = parent.allocation.arrived_on.unwrap();
    let after_arrival = arrived + chrono::Duration::days(5);
    let audits = db.system().audit().count().await.unwrap();
    let over = parent.left() + Money::from_fen(1);
    let why = refused(
        db.scoped(&district).funds().allocations().transfer(parent.id, "440781111", over, after_arrival).await,
        "amount",
    );
    assert!(why.contains("超出可下拨金额"), "{why}");
    let early = arrived - chrono::Duration::days(1);
    let one = Money::from_yuan(1_000);
    assert!(
        refused(db.scoped(&district).funds().allocations().transfer(parent.id, "440781111", one, early).await, "on")
            .contains("到位")
    );
    assert!(
        refused(
            db.scoped(&district).funds().allocations().transfer(parent.id, "440785107", one, after_arrival).await,
            "town_code"
        )
        .contains("所辖")
    );
    let haiyan = user(db, "haiyan").await;
    assert!(matches!(
        db.scoped(&haiyan).funds().allocations().transfer(parent.id, "440781111", one, after_arrival).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(db.system().audit().count().await.unwrap(), audits, "nothing written");

    let haiyan_scope = Scope::Region(RegionCode::parse("440781111").unwrap());
    let town_line = |db: Db| {
        let scope = haiyan_scope.clone();
        async move {
            db.scoped(&sees(&scope))
                .funds()
                .spending()
                .by_region(on, 12)
                .await
                .unwrap()
                .into_iter()
                .next()
                .unwrap_or_default()
        }
    };
    let haiyan_before = town_line(db.clone()).await;
    // The demo's town account has no project: what reached it lies unspent, and its page says so.
    assert!(haiyan_before.allocated > Money::ZERO);
    assert_eq!((haiyan_before.paid, haiyan_before.percent), (Money::ZERO, Some(0)));
    let (_, town_page) = app.login("haiyan").await.get_text("/funds").await;
    assert!(town_page.contains("由市(区)下拨") && town_page.contains("滞后"), "{town_page}");
    db.scoped(&district).funds().allocations().transfer(parent.id, "440781111", one, after_arrival).await.unwrap();
    assert_eq!(db.system().audit().count().await.unwrap(), audits + 1);
    let haiyan_after = town_line(db.clone()).await;
    assert_eq!(haiyan_after.allocated, haiyan_before.allocated + one);
    assert_eq!(haiyan_after.arrived, haiyan_before.arrived + one);
    let after = by_district(db.clone()).await;
    let taishan_after = after.iter().find(|s| s.code == "440781").unwrap();
    assert_eq!((taishan_after.allocated, taishan_after.percent), (taishan_before.allocated, taishan_before.percent));
    let parent_now = db.scoped(&sees(&district.scope)).funds().allocations().get(parent.id).await.unwrap().unwrap();
    assert_eq!(parent_now.passed_down, parent.passed_down + one);

    // The page lists it and refuses too much at its field; the API passes down the rest.
    let b = app.login("taishan").await;
    let (_, page) = b.get_text("/funds").await;
    assert!(page.contains("由市(区)下拨") && page.contains(&format!("/funds/allocations/{}/transfer", parent.id)));
    let r = b
        .submit(
            &format!("/funds/allocations/{}/transfer", parent.id),
            &[("town_code", "440781111"), ("amount", &parent_now.left().to_string()), ("on", "2017-02-01")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("早于资金到位日期"));
    let tok = db.system().accounts().issue_token("taishan", "测试").await.unwrap();
    let body = serde_json::json!({"town_code": "440781111", "amount": parent_now.left().to_string(), "on": after_arrival.to_string()});
    let r = app
        .client
        .post(format!("{}/api/v1/allocations/{}/transfers", app.base, parent.id))
        .bearer_auth(tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        db.scoped(&sees(&district.scope)).funds().allocations().get(parent.id).await.unwrap().unwrap().left(),
        Money::ZERO
    );
}
