//! Town platforms: the demo's districts behave as the seed found them (on the page, in the API,
//! in the xlsx and in the checks); check-ins and postings refuse bad input and change nothing;
//! every save re-checks the platform rules at once.

use chrono::NaiveDate;
use ducha_domain::RegionCode;
use ducha_domain::access::Scope;
use ducha_domain::platform::{Institution, InstitutionLevel, Posting};
use ducha_storage::checks::{self, FindingFilter};
use ducha_storage::platform::Place;
use ducha_storage::{Backend, Db};

use crate::support::{TestApp, sees};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn open_rules(db: &Db, scope: &Scope, rule: &str) -> Vec<checks::StoredFinding> {
    let f = FindingFilter { rule: Some(rule.into()), status: Some("open".into()), ..Default::default() };
    db.scoped(&sees(scope)).checks().findings(&f, 10_000, 0).await.unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let r = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            db.conn().get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    r.try_get_by_index::<i64>(0).unwrap()
}

both_backends!(the_demo_districts_attend_as_the_seed_found_them, bad_check_ins_change_nothing_and_saves_recheck);

async fn the_demo_districts_attend_as_the_seed_found_them(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 600).await;
    let by_district =
        app.db.system().platform().attendance().by_region(ducha_domain::RegionLevel::District).await.unwrap();
    assert_eq!(by_district.len(), 7, "{by_district:?}");
    let rate = |name: &str| by_district.iter().find(|s| s.name == name).unwrap().rate_percent.unwrap();
    let row = |name: &str| by_district.iter().find(|s| s.name == name).unwrap().clone();
    assert_eq!(rate("蓬江区"), 0, "蓬江's postings are on paper");
    assert_eq!(row("蓬江区").on_paper, row("蓬江区").postings);
    for n in ["江海区", "新会区", "开平市"] {
        assert!((35..=55).contains(&rate(n)), "{n}: {}", rate(n));
        assert_eq!(row(n).full_time, 0, "{n}: not full-time");
    }
    for n in ["鹤山市", "台山市", "恩平市"] {
        assert!(rate(n) >= 90, "{n}: {}", rate(n));
        assert_eq!(row(n).full_time, row(n).postings);
    }

    // The checks name the same districts, and only those.
    let districts = |fs: &[checks::StoredFinding]| {
        let mut v: Vec<String> = fs.iter().map(|f| f.village_code[..6].to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(districts(&open_rules(&app.db, &Scope::All, "T-PST-02").await), ["440703"]);
    assert_eq!(districts(&open_rules(&app.db, &Scope::All, "T-PST-01").await), ["440704", "440705", "440783"]);
    assert_eq!(districts(&open_rules(&app.db, &Scope::All, "T-PST-03").await), ["440704", "440705", "440783"]);
    assert!(open_rules(&app.db, &Scope::All, "T-PST-04").await.is_empty(), "every town has a cadre");
    let off = open_rules(&app.db, &Scope::All, "D-MED-01").await;
    assert_eq!(districts(&off), ["440705", "440781"]);
    let online = app.db.system().platform().institutions().online_by_district().await.unwrap();
    for s in &online {
        let expected_off = off.iter().filter(|f| f.village_code == s.code).count() as i64;
        assert_eq!(s.institutions - s.online, expected_off, "{}", s.name);
    }

    // The page and the API show the city office the same figures.
    let city = app.login("city").await;
    let (status, page) = city.get_text("/platform/postings").await;
    assert_eq!(status, 200);
    for s in &by_district {
        assert!(page.contains(&format!("<td>{}</td>", s.name)), "{}", s.name);
        assert!(page.contains(&format!("{}%", s.rate_percent.unwrap())));
    }
    let resp = city.get("/api/v1/attendance").await;
    assert_eq!(resp.status().as_u16(), 200);
    let api: serde_json::Value = resp.json().await.unwrap();
    let pengjiang = api["by_region"].as_array().unwrap().iter().find(|r| r["name"] == "蓬江区").unwrap();
    assert_eq!(pengjiang["rate_percent"], 0);

    // The xlsx, read back: one summary row per district with the same rate.
    let resp = city.get("/platform/attendance.xlsx").await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = wb.worksheet_range("驻点考勤汇总").unwrap();
        for s in &by_district {
            let r = sheet.rows().find(|r| r[0].to_string() == s.name).unwrap_or_else(|| panic!("{}", s.name));
            assert_eq!(r[6].to_string(), format!("{}%", s.rate_percent.unwrap()));
            assert_eq!(r[1].to_string(), s.postings.to_string());
        }
        let names = wb.worksheet_range("派驻干部").unwrap();
        let postings = app.db.system().platform().postings().list().await.unwrap();
        assert_eq!(names.rows().count() - 2, postings.len());
    }

    // A district office sees its own towns only.
    let taishan = app.login("taishan").await;
    let (_, page) = taishan.get_text("/platform/postings").await;
    assert!(page.contains("海宴镇") && !page.contains("那吉镇"));
}

async fn bad_check_ins_change_nothing_and_saves_recheck(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let district = db.system().accounts().find_user("taishan").await.unwrap().unwrap().actor(None);
    let town = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    let other_town = db.system().accounts().find_user("naji").await.unwrap().unwrap().actor(None);
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());

    // A town office may not post; a district may not post outside itself; fields are named.
    let p = Posting {
        name: "陈志强".into(),
        unit: "台山市水务局".into(),
        town_code: "440781111".into(),
        full_time: true,
        started_on: d(2017, 1, 3),
        ended_on: Some(d(2017, 6, 30)),
    };
    assert!(matches!(
        db.scoped(&town).platform().postings().add(&p).await,
        Err(ducha_storage::StorageError::Forbidden(_))
    ));
    let elsewhere = Posting { town_code: "440785107".into(), ..p.clone() };
    match db.scoped(&district).platform().postings().add(&elsewhere).await {
        Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("town_code").unwrap().contains("本辖区")),
        other => panic!("{other:?}"),
    }

    // Posted, with no check-in: "only on paper" at once (the save re-checks).
    let id = db.scoped(&district).platform().postings().add(&p).await.unwrap();
    let paper = open_rules(db, &haiyan, "T-PST-02").await;
    assert!(paper.iter().any(|f| f.member_id == Some(id) && f.message.contains("陈志强")), "{paper:?}");

    // Refused, each with its reason, and nothing written.
    let before = (count(db, "attendance").await, db.system().audit().count().await.unwrap());
    let place = Place { text: Some("海宴镇扶贫办".into()), latitude: Some(21.8), longitude: Some(112.6) };
    let refusals =
        [(d(2017, 7, 3), "已于 2017-06-30 结束"), (d(2016, 12, 30), "早于派驻开始日期"), (d(2099, 1, 5), "还没有到")];
    for (day, why) in refusals {
        match db.scoped(&town).platform().attendance().check_in(id, day, &place).await {
            Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("on_date").unwrap().contains(why), "{e}"),
            other => panic!("{day}: {other:?}"),
        }
    }
    let bad_place = Place { latitude: Some(210.0), ..place.clone() };
    assert!(matches!(
        db.scoped(&town).platform().attendance().check_in(id, d(2017, 3, 1), &bad_place).await,
        Err(ducha_storage::StorageError::Invalid(_))
    ));
    // Another town's office does not find the posting.
    assert!(matches!(
        db.scoped(&other_town).platform().attendance().check_in(id, d(2017, 3, 1), &place).await,
        Err(ducha_storage::StorageError::NotFound)
    ));
    assert_eq!((count(db, "attendance").await, db.system().audit().count().await.unwrap()), before, "nothing written");

    // A check-in: no longer on paper, but far below the minimum; the same day twice is refused.
    db.scoped(&town).platform().attendance().check_in(id, d(2017, 3, 1), &place).await.unwrap();
    assert!(!open_rules(db, &haiyan, "T-PST-02").await.iter().any(|f| f.member_id == Some(id)));
    let low = open_rules(db, &haiyan, "T-PST-03").await;
    assert!(low.iter().any(|f| f.member_id == Some(id) && f.message.contains("考勤 1 天")), "{low:?}");
    match db.scoped(&town).platform().attendance().check_in(id, d(2017, 3, 1), &place).await {
        Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("on_date").unwrap().contains("已经签到")),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(db, "attendance").await, before.0 + 1);

    // A Saturday on post is recorded but not counted against the working days.
    db.scoped(&town).platform().attendance().check_in(id, d(2017, 3, 4), &place).await.unwrap();
    let (row, list) = db.scoped(&sees(&haiyan)).platform().postings().get(id).await.unwrap().unwrap();
    assert_eq!((row.days_present, list.len()), (1, 2));

    // A run over one village (its platform is its town's) finds and keeps nothing twice.
    let village = Scope::Region(RegionCode::parse("440781111200").unwrap());
    db.scoped(&town).checks().run(&village, |_| {}).await.unwrap();
    db.scoped(&town).checks().run(&village, |_| {}).await.unwrap();
    assert!(db.scoped(&sees(&village)).platform().postings().list().await.unwrap().is_empty());

    // Ending a posting before its last check-in is refused.
    match db.scoped(&district).platform().postings().end(id, d(2017, 2, 1)).await {
        Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("ended_on").unwrap().contains("签到")),
        other => panic!("{other:?}"),
    }

    // An institution off the platform goes online: its finding is fixed in the same save.
    let taishan = Scope::Region(RegionCode::parse("440781").unwrap());
    let off = open_rules(db, &taishan, "D-MED-01").await;
    assert!(!off.is_empty());
    let inst_id = off[0].member_id.unwrap();
    let row = db
        .scoped(&sees(&taishan))
        .platform()
        .institutions()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == inst_id)
        .unwrap();
    let online = Institution { one_stop_online: true, online_since: Some(d(2017, 10, 9)), ..row.institution.clone() };
    assert!(matches!(
        db.scoped(&town).platform().institutions().update(inst_id, &online).await,
        Err(ducha_storage::StorageError::NotFound)
    ));
    db.scoped(&district).platform().institutions().update(inst_id, &online).await.unwrap();
    let fixed = FindingFilter { rule: Some("D-MED-01".into()), status: Some("fixed".into()), ..Default::default() };
    assert!(
        db.scoped(&sees(&taishan)).checks().findings(&fixed, 100, 0).await.unwrap().iter().any(|f| f.id == off[0].id)
    );
    let new_one = Institution {
        name: "台山市妇幼保健院".into(),
        district_code: "440781".into(),
        level: InstitutionLevel::Secondary,
        one_stop_online: false,
        online_since: None,
    };
    let new_id = db.scoped(&district).platform().institutions().add(&new_one).await.unwrap();
    assert!(open_rules(db, &taishan, "D-MED-01").await.iter().any(|f| f.member_id == Some(new_id)));
}

both_backends!(town_offices_as_the_seed_found_them_and_their_checklist);

async fn town_offices_as_the_seed_found_them_and_their_checklist(backend: Backend) {
    use ducha_storage::platform::offices::Judgement;
    let app = TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let districts = |fs: &[checks::StoredFinding]| {
        let mut v: Vec<String> = fs.iter().map(|f| f.village_code[..6].to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    let gaps = open_rules(db, &Scope::All, "T-OFF-01").await;
    assert_eq!(districts(&gaps), ["440703", "440704"], "蓬江 and 江海 lack the rules");
    assert!(gaps.iter().all(|f| f.message.contains("有制度")));
    let all = db.system().platform().offices().list(2017).await.unwrap();
    let in_gap_districts =
        all.iter().filter(|o| o.town_code.starts_with("440703") || o.town_code.starts_with("440704")).count();
    assert_eq!(gaps.len(), in_gap_districts, "every town of them");
    let churn = open_rules(db, &Scope::All, "T-OFF-02").await;
    assert_eq!(districts(&churn), ["440705", "440783"]);
    assert_eq!(churn.len(), 2);
    assert!(churn[0].message.contains("3 名工作人员离岗"));

    // Judging is the district's; a gap needs its note; another district does not find the town.
    let pengjiang = db.system().accounts().find_user("pengjiang").await.unwrap().unwrap().actor(None);
    let town_office = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    let town = gaps[0].village_code.clone();
    let rules_item =
        db.system().platform().offices().items().await.unwrap().into_iter().find(|i| i.name == "有制度").unwrap().id;
    let j = |met: bool, note: &str| Judgement {
        town: town.clone(),
        year: 2017,
        item_id: rules_item,
        met,
        note: note.into(),
        on: d(2017, 11, 1),
    };
    assert!(matches!(
        db.scoped(&town_office).platform().offices().judge(&j(true, "")).await,
        Err(ducha_storage::StorageError::NotFound)
    ));
    let taishan = db.system().accounts().find_user("taishan").await.unwrap().unwrap().actor(None);
    assert!(matches!(
        db.scoped(&taishan).platform().offices().judge(&j(true, "")).await,
        Err(ducha_storage::StorageError::NotFound)
    ));
    match db.scoped(&pengjiang).platform().offices().judge(&j(false, " ")).await {
        Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("note").unwrap().contains("差距")),
        other => panic!("{other:?}"),
    }
    db.scoped(&pengjiang).platform().offices().judge(&j(true, "制度已上墙")).await.unwrap();
    let scope = Scope::Region(RegionCode::parse(&town).unwrap());
    assert!(open_rules(db, &scope, "T-OFF-01").await.is_empty(), "fixed on save");
    // The trail keeps what the judgement replaced: the demo's gap.
    let trail = db.system().audit().for_entity("office_check", &town, 1).await.unwrap();
    let before = trail[0].before.as_deref().expect("the earlier judgement is kept");
    assert!(before.contains("\"met\":false") && trail[0].after.as_deref().unwrap().contains("制度已上墙"), "{before}");

    // Staff: a leaving date before the start is refused; three leaving in a year sets off T-OFF-02.
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());
    let office = db.scoped(&sees(&haiyan)).platform().offices().list(2017).await.unwrap().remove(0);
    assert_eq!(office.on_staff, 3);
    match db.scoped(&town_office).platform().offices().staff_left(office.staff[0].id, d(2015, 1, 1)).await {
        Err(ducha_storage::StorageError::Invalid(e)) => assert!(e.get("ended_on").unwrap().contains("早于")),
        other => panic!("{other:?}"),
    }
    for (i, s) in office.staff.iter().enumerate() {
        db.scoped(&town_office).platform().offices().staff_left(s.id, d(2017, 4 + i as u32, 1)).await.unwrap();
    }
    assert_eq!(open_rules(db, &haiyan, "T-OFF-02").await.len(), 1);
    let naji = db.system().accounts().find_user("naji").await.unwrap().unwrap().actor(None);
    let newcomer = ducha_domain::platform::Staff {
        town_code: "440781111".into(),
        name: "李新".into(),
        position: "专职人员".into(),
        started_on: d(2017, 9, 1),
    };
    assert!(matches!(
        db.scoped(&naji).platform().offices().add_staff(&newcomer).await,
        Err(ducha_storage::StorageError::NotFound)
    ));
    db.scoped(&town_office).platform().offices().add_staff(&newcomer).await.unwrap();

    // The checklist is the city's to edit: a new item counts from then on.
    assert!(matches!(
        db.scoped(&pengjiang).platform().offices().set_item(None, "有网络", "接入政务网", true).await,
        Err(ducha_storage::StorageError::Forbidden(_))
    ));
    let city = db.system().accounts().find_user("city").await.unwrap().unwrap().actor(None);
    db.scoped(&city).platform().offices().set_item(None, "有网络", "接入政务网", true).await.unwrap();
    assert_eq!(db.scoped(&sees(&haiyan)).platform().offices().list(2017).await.unwrap()[0].items_total, 8);

    // The page lists the district's towns with what they lack.
    let (_, page) = app.login("pengjiang").await.get_text("/platform/offices").await;
    assert!(page.contains("有制度"));
}

both_backends!(an_attendance_sheet_is_imported_all_or_nothing);

/// The town office's attendance sheet, typed up as a file: checked whole (an unknown cadre, a day
/// outside the posting refused by row), then written once; importing it again adds nothing.
async fn an_attendance_sheet_is_imported_all_or_nothing(backend: Backend) {
    use ducha_reports::exchange;
    let app = TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let town = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    let haiyan = Scope::Region(RegionCode::parse("440781111").unwrap());
    let posting = db.scoped(&sees(&haiyan)).platform().postings().list().await.unwrap().remove(0);
    let (_, taken) = db.scoped(&sees(&haiyan)).platform().postings().get(posting.id).await.unwrap().unwrap();
    let free: Vec<NaiveDate> = (1..=300)
        .map(|x| d(2017, 2, 1) + chrono::Duration::days(x))
        .filter(|x| ducha_domain::platform::is_workday(*x) && !taken.iter().any(|c| c.on_date == *x))
        .take(2)
        .collect();
    assert_eq!(free.len(), 2);
    let name = &posting.posting.name;
    let bad = format!(
        "派驻干部,镇（街）,日期,地点\n{name},海宴镇,{},镇扶贫办\n无此人,海宴镇,{},镇扶贫办\n{name},海宴镇,2016-12-01,镇扶贫办\n",
        free[0], free[1]
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let before = count(db, "attendance").await;
    let outcome = exchange::import(&db.scoped_on(&town, today), "考勤.csv", bad.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(at, [(3, "派驻干部".to_string()), (4, "日期".to_string())], "{:?}", outcome.errors);
    assert!(outcome.errors[1].message.contains("早于派驻开始日期"));
    assert_eq!(count(db, "attendance").await, before, "nothing written");

    let good = format!(
        "派驻干部,镇（街）,日期,地点\n{name},海宴镇,{},镇扶贫办\n{name},海宴,{},村委会\n{name},海宴镇,{},镇扶贫办\n",
        free[0], free[1], free[1]
    );
    let outcome = exchange::import(&db.scoped_on(&town, today), "考勤.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    assert_eq!(outcome.help.unwrap().new, 2, "a day given twice counts once");
    assert_eq!(count(db, "attendance").await, before + 2);
    let again = exchange::import(&db.scoped_on(&town, today), "考勤.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!((again.help.unwrap().new, again.help.unwrap().unchanged), (0, 2));
    assert_eq!(count(db, "attendance").await, before + 2);
    // Another town's office cannot record this town's cadre.
    let naji = db.system().accounts().find_user("naji").await.unwrap().unwrap().actor(None);
    let outcome = exchange::check(&db.scoped_on(&naji, today), "考勤.csv", good.as_bytes()).await.unwrap();
    assert!(outcome.errors.iter().all(|e| e.header == "镇（街）"), "{:?}", outcome.errors);
    assert!(outcome.errors[0].message.contains("不在您的辖区内"), "{:?}", outcome.errors);

    // A namesake posted to the same town by another unit: a day both hold is not guessed; the
    // sheet's 派出单位 column says whose it is, and the day goes to that posting, not the first.
    let taishan = db.system().accounts().find_user("taishan").await.unwrap().unwrap().actor(None);
    let second = Posting {
        name: name.clone(),
        unit: "台山市财政局".into(),
        town_code: "440781111".into(),
        full_time: true,
        started_on: d(2017, 10, 1),
        ended_on: None,
    };
    let second_id = db.scoped(&taishan).platform().postings().add(&second).await.unwrap();
    let day = (1..=40)
        .map(|x| d(2017, 10, 1) + chrono::Duration::days(x))
        .find(|x| ducha_domain::platform::is_workday(*x) && posting.posting.ended_on.is_none_or(|e| *x <= e))
        .unwrap();
    let plain = format!("派驻干部,镇（街）,日期,地点\n{name},海宴镇,{day},镇扶贫办\n");
    let outcome = exchange::check(&db.scoped_on(&town, today), "考勤.csv", plain.as_bytes()).await.unwrap();
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].header, "派出单位");
    assert!(outcome.errors[0].message.contains("台山市财政局"), "{:?}", outcome.errors);
    let with_unit = format!("派驻干部,镇（街）,日期,地点,派出单位\n{name},海宴镇,{day},镇扶贫办,台山市财政局\n");
    let outcome =
        exchange::import(&db.scoped_on(&town, today), "考勤.csv", with_unit.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    let (_, days) = db.scoped(&sees(&haiyan)).platform().postings().get(second_id).await.unwrap().unwrap();
    assert_eq!(days.iter().map(|c| c.on_date).collect::<Vec<_>>(), [day], "the namesake's posting has the day");
}

both_backends!(rosters_of_postings_and_institutions_import_all_or_nothing);

/// A district's roster of posted cadres and its list of designated institutions, as sheets:
/// refused whole with each problem at its row and column (another district's town, a yes/no
/// that is neither, an end before the start, an end before the last check-in, an unknown level),
/// nothing written; then a new posting added and a known one updated (audited with what it was),
/// an institution gone online updated so that its finding closes; the same sheets again change
/// nothing.
async fn rosters_of_postings_and_institutions_import_all_or_nothing(backend: Backend) {
    use ducha_reports::exchange;
    let app = TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let today = d(2026, 11, 27);
    let city = db.system().accounts().find_user("city").await.unwrap().unwrap().actor(None);
    let taishan = db.system().accounts().find_user("taishan").await.unwrap().unwrap().actor(None);
    let known = db
        .scoped(&sees(&taishan.scope))
        .platform()
        .postings()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.last_check_in.is_some_and(|l| l > p.posting.started_on) && p.posting.ended_on.is_none())
        .expect("a posting in 台山 with check-ins");
    let k = &known.posting;
    let yes_no = |b: bool| if b { "是" } else { "否" };
    let early_end = known.last_check_in.unwrap() - chrono::Duration::days(1);
    let head = "姓名,派出单位,镇（街）,是否全职,开始日期,结束日期\n";
    let bad = format!(
        "{head}李新,台山市农业局,台山市海宴镇,是,2017-03-01,\n\
         李新,台山市农业局,那吉镇,是,2017-03-01,\n\
         王五,台山市财政局,海宴镇,也许,2017-03-01,\n\
         赵六,台山市财政局,海宴镇,否,2017-05-01,2017-04-01\n\
         {},{},{},{},{},{early_end}\n",
        k.name,
        k.unit,
        k.town_code,
        yes_no(k.full_time),
        k.started_on
    );
    let postings_before = count(db, "postings").await;
    let audits_before = db.system().audit().count().await.unwrap();
    let outcome =
        exchange::import(&db.scoped_on(&taishan, today), "派驻干部名单.csv", bad.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(
        at,
        [
            (3, "镇（街）".to_string()),
            (4, "是否全职".to_string()),
            (5, "结束日期".to_string()),
            (6, "结束日期".to_string())
        ],
        "{:?}",
        outcome.errors
    );
    assert!(outcome.errors[3].message.contains("最后一次签到"), "{:?}", outcome.errors[3]);
    assert_eq!(count(db, "postings").await, postings_before, "nothing written");
    assert_eq!(db.system().audit().count().await.unwrap(), audits_before);

    // A town office keeps no roster.
    let haiyan = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    assert!(exchange::check(&db.scoped_on(&haiyan, today), "派驻干部名单.csv", bad.as_bytes()).await.is_err());

    let good = format!(
        "{head}李新,台山市农业局,台山市海宴镇,是,2017-03-01,\n{},{},{},{},{},\n",
        k.name,
        k.unit,
        k.town_code,
        yes_no(!k.full_time),
        k.started_on
    );
    let outcome =
        exchange::import(&db.scoped_on(&taishan, today), "派驻干部名单.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    let h = outcome.help.unwrap();
    assert_eq!((h.new, h.changed, h.unchanged), (1, 1, 0));
    assert_eq!(count(db, "postings").await, postings_before + 1);
    let (row, _) = db.scoped(&sees(&taishan.scope)).platform().postings().get(known.id).await.unwrap().unwrap();
    assert_eq!(row.posting.full_time, !k.full_time);
    let trail = db.system().audit().for_entity("posting", &known.id.to_string(), 1).await.unwrap();
    let last = trail.first().expect("the change is audited");
    assert_eq!(last.action, "update");
    assert!(last.before.as_deref().is_some_and(|b| b.contains(&format!("\"full_time\":{}", k.full_time))), "{last:?}");
    let again =
        exchange::import(&db.scoped_on(&taishan, today), "派驻干部名单.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    let h = again.help.unwrap();
    assert_eq!((h.new, h.changed, h.unchanged), (0, 0, 2));
    // A posting ended on the page stays ended when the roster, with its end left blank, comes again.
    let ended = known.last_check_in.unwrap() + chrono::Duration::days(1);
    db.scoped(&taishan).platform().postings().end(known.id, ended).await.unwrap();
    let again =
        exchange::import(&db.scoped_on(&taishan, today), "派驻干部名单.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(again.help.unwrap().unchanged, 2);
    let (row, _) = db.scoped(&sees(&taishan.scope)).platform().postings().get(known.id).await.unwrap().unwrap();
    assert_eq!(row.posting.ended_on, Some(ended));

    // Institutions: one not yet online goes online; a new clinic; bad rows at their cells.
    let offline = db
        .system()
        .platform()
        .institutions()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|i| !i.institution.one_stop_online)
        .expect("the demo has an institution not online");
    let i = &offline.institution;
    let open_before = open_rules(db, &Scope::All, "D-MED-01").await.len();
    let head = "机构名称,市（区）,级别,一站式结算,上线日期\n";
    let level = |l: InstitutionLevel| l.to_string();
    let bad = format!(
        "{head}{},{},{},是,2017-10-01\n新开诊所,{},四级,否,\n新开诊所,不存在市,一级,否,\n",
        i.name,
        offline.district_name,
        level(i.level),
        offline.district_name
    );
    let outcome =
        exchange::import(&db.scoped_on(&city, today), "定点医疗机构.csv", bad.as_bytes(), |_, _| {}).await.unwrap();
    assert!(!outcome.committed);
    let at: Vec<(usize, String)> = outcome.errors.iter().map(|e| (e.row, e.header.clone())).collect();
    assert_eq!(at, [(3, "级别".to_string()), (4, "市（区）".to_string())], "{:?}", outcome.errors);
    let good = format!(
        "{head}{},{},{},是,2017-10-01\n新开诊所,{},一级,否,\n",
        i.name,
        offline.district_name,
        level(i.level),
        offline.district_name
    );
    let outcome =
        exchange::import(&db.scoped_on(&city, today), "定点医疗机构.csv", good.as_bytes(), |_, _| {}).await.unwrap();
    assert!(outcome.committed, "{:?}", outcome.errors);
    let h = outcome.help.unwrap();
    assert_eq!((h.new, h.changed), (1, 1));
    let now = db.system().platform().institutions().list().await.unwrap();
    let updated = now.iter().find(|x| x.id == offline.id).unwrap();
    assert_eq!((updated.institution.one_stop_online, updated.institution.online_since), (true, Some(d(2017, 10, 1))));
    // One institution went online, one not online was added: the count of open findings holds,
    // but the updated one's is closed.
    assert_eq!(open_rules(db, &Scope::All, "D-MED-01").await.len(), open_before);
    assert!(!open_rules(db, &Scope::All, "D-MED-01").await.iter().any(|f| f.member_id == Some(offline.id)));
}

both_backends!(a_low_attendance_exemption_holds_while_its_counts_move);

/// T-PST-03's message carries the day counts, which move with every check-in and every working
/// day: an exemption given for a posting (a cadre on sick leave, say) holds for the year through
/// them, while another rule's exemption still lapses when its facts change.
async fn a_low_attendance_exemption_holds_while_its_counts_move(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let db = &app.db;
    let low = open_rules(db, &Scope::All, "T-PST-03").await;
    let f = low.first().expect("the demo plants low attendance");
    let mut office = None;
    for name in ["pengjiang", "jianghai", "xinhui", "taishan", "kaiping", "heshan", "enping"] {
        let a = db.system().accounts().find_user(name).await.unwrap().unwrap().actor(None);
        if a.scope.contains(&f.village_code) {
            office = Some(a);
        }
    }
    let district = office.expect("its district office");
    db.scoped(&district).checks().exempt(f.id, "该干部病假，经区扶贫办核实").await.unwrap();
    // Another day on post is recorded: the counts in the message move.
    let posting = f.member_id.expect("a posting's finding names the posting");
    let scope = Scope::Region(ducha_domain::RegionCode::parse(&f.village_code[..9]).unwrap());
    let (row, taken) = db.scoped(&sees(&scope)).platform().postings().get(posting).await.unwrap().unwrap();
    let day = (1..=300)
        .map(|x| row.posting.started_on + chrono::Duration::days(x))
        .find(|x| {
            ducha_domain::platform::is_workday(*x)
                && *x <= d(2017, 11, 1)
                && row.posting.ended_on.is_none_or(|e| *x <= e)
                && !taken.iter().any(|c| c.on_date == *x)
        })
        .expect("a free working day");
    db.scoped(&district).platform().attendance().check_in(posting, day, &Place::default()).await.unwrap();
    let exempted =
        FindingFilter { rule: Some("T-PST-03".into()), status: Some("exempted".into()), ..Default::default() };
    let now = db.system().checks().findings(&exempted, 10_000, 0).await.unwrap();
    let same = now.iter().find(|x| x.member_id == Some(posting)).expect("still exempted after the check-in");
    assert_ne!(same.message, f.message, "the counts moved: {}", same.message);
    assert!(!open_rules(db, &Scope::All, "T-PST-03").await.iter().any(|x| x.member_id == Some(posting)));
}
