//! Import and export through the template: round trips that change nothing, all-or-nothing on
//! errors, a file written by LibreOffice, the web preview.

use ducha_domain::access::{Actor, Scope};
use ducha_reports::exchange;
use ducha_reports::households::{self, ExportHousehold, Exporter};
use ducha_storage::Backend;
use ducha_storage::registry::HouseholdFilter;

use crate::support::{TestApp, TestDb};

both_backends!(export_then_import_changes_nothing_and_edits_come_back_as_changes);

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn id(first17: &str) -> String {
    format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()))
}

async fn export_then_import_changes_nothing_and_edits_come_back_as_changes(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 1_500).await;
    let office = Actor::command_line("test");
    let all = HouseholdFilter::default();
    let (bytes, n) = exchange::export(&app.db.scoped(&office), &all, |_| {}).await.unwrap();
    assert_eq!(n.households, 1_500);
    let audit_before = app.db.system().audit().count().await.unwrap();
    let o = exchange::import(&app.db.scoped_on(&office, today()), "导出.xlsx", &bytes, |_, _| {}).await.unwrap();
    assert!(o.errors.is_empty(), "{:?}", &o.errors[..o.errors.len().min(5)]);
    assert_eq!((o.summary.households_new, o.summary.households_changed, o.summary.households_unchanged), (0, 0, 1_500));
    assert_eq!((o.summary.members_new, o.summary.members_changed), (0, 0));
    assert_eq!(
        app.db.system().audit().count().await.unwrap(),
        audit_before,
        "a round trip writes nothing, not even audit records"
    );

    // Edit the export as a user would: one address, one new member, one new household.
    let tree = app.db.system().regions().tree().await.unwrap();
    let parsed = households::parse("导出.xlsx", &bytes, &tree, today()).unwrap();
    let mut edited: Vec<ExportHousehold> = parsed
        .households
        .iter()
        .take(20)
        .map(|h| ExportHousehold {
            household: h.household.clone(),
            village_name: String::new(),
            members: h.members.iter().map(|m| (m.seq.unwrap_or(1), m.member.clone())).collect(),
        })
        .collect();
    edited[0].household.address = "新地址 1 号".into();
    let baby = ducha_domain::registry::MemberForm {
        name: "新成员".into(),
        id_number: id("44078120160101123"),
        relation: "其他".into(),
        education: "学龄前儿童".into(),
        school_stage: "非在校生".into(),
        health: "健康".into(),
        labour_ability: "无劳动能力".into(),
        medical_insurance: "是".into(),
        ..Default::default()
    }
    .validate(today())
    .unwrap();
    edited[1].members.push((99, baby));
    let mut fresh = edited[2].clone();
    fresh.household.number = "44078111121099999".into();
    fresh.members = vec![(
        1,
        ducha_domain::registry::MemberForm {
            id_number: id("44078119660606123"),
            name: "新户主".into(),
            relation: "户主".into(),
            ..ducha_domain::registry::MemberForm {
                education: "小学".into(),
                school_stage: "非在校生".into(),
                health: "健康".into(),
                labour_ability: "有劳动能力".into(),
                medical_insurance: "是".into(),
                ..Default::default()
            }
        }
        .validate(today())
        .unwrap(),
    )];
    edited.push(fresh);
    // Keep only valid members in this hand-made file (legacy problems are not the subject here).
    for h in edited.iter_mut() {
        h.members.retain(|(_, m)| {
            ducha_domain::IdNumber::parse(&m.id_number)
                .is_ok_and(|i| i.sex() == m.sex && i.birth_date() == m.birth_date)
        });
    }
    let mut x = Exporter::new(false);
    for h in &edited {
        x.push(h).unwrap();
    }
    let file = x.finish().unwrap();
    let o = exchange::import(&app.db.scoped_on(&office, today()), "修改.xlsx", &file, |_, _| {}).await.unwrap();
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert_eq!((o.summary.households_new, o.summary.households_changed), (1, 1));
    assert_eq!(o.summary.members_new, 2);
    let h0 = app
        .db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(&edited[0].household.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h0.household.address, "新地址 1 号");
    let trail =
        app.db.system().audit().for_household(h0.household.id, 5).await.unwrap().expect("the household is in scope");
    assert_eq!(trail[0].action, "import_update");
    assert!(trail[0].before.as_deref().unwrap().contains("\"address\""));
    // The same file again: nothing more.
    let o = exchange::import(&app.db.scoped_on(&office, today()), "修改.xlsx", &file, |_, _| {}).await.unwrap();
    assert_eq!(
        (o.summary.households_new, o.summary.households_changed, o.summary.members_new, o.summary.members_changed),
        (0, 0, 0, 0)
    );

    // One bad row anywhere: nothing of the file is written.
    let mut bad = edited.clone();
    bad[3].household.address = "不该写入".into();
    let mut broken = bad[4].clone();
    broken.household.number = "44078111121088888".into();
    broken.members[0].1.id_number = format!("{}0", &broken.members[0].1.id_number[..17]);
    if ducha_domain::IdNumber::parse(&broken.members[0].1.id_number).is_ok() {
        broken.members[0].1.id_number = format!("{}1", &broken.members[0].1.id_number[..17]);
    }
    bad.push(broken);
    let mut x = Exporter::new(false);
    for h in &bad {
        x.push(h).unwrap();
    }
    let audit_before = app.db.system().audit().count().await.unwrap();
    let o = exchange::import(&app.db.scoped_on(&office, today()), "坏.xlsx", &x.finish().unwrap(), |_, _| {})
        .await
        .unwrap();
    assert!(!o.committed);
    assert!(o.errors.iter().any(|e| e.column == "S" && e.message.contains("校验位")), "{:?}", o.errors);
    assert_eq!(app.db.system().audit().count().await.unwrap(), audit_before);
    let h3 = app
        .db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(&bad[3].household.number)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(h3.household.address, "不该写入");
    assert!(
        app.db
            .scoped(&crate::support::sees(&Scope::All))
            .registry()
            .household_by_number("44078111121088888")
            .await
            .unwrap()
            .is_none()
    );

    // A town office imports only into its town.
    let haiyan = app.db.system().accounts().find_user("naji").await.unwrap().unwrap().actor(None);
    let o = exchange::check(&app.db.scoped_on(&haiyan, today()), "修改.xlsx", &file).await.unwrap();
    assert!(o.errors.iter().any(|e| e.message.contains("辖区")), "{:?}", &o.errors[..1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_by_libreoffice_imports_and_round_trips() {
    let soffice = ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| std::process::Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("这个测试需要 LibreOffice（apt-get install libreoffice-calc-nogui；scripts/test.sh 会自动安装）");
    let test_db = TestDb::new(Backend::Postgres).await;
    let db = test_db.open().await;
    db.system().regions().ensure_default().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let headers: Vec<&str> = households::COLUMNS.iter().map(|c| c.0).collect();
    let mut csv = headers.join(",") + "\n";
    let rows = [
        ("44078510720000001", "440785107200", "黄大伟", id("44078519650302123"), "户主", "1"),
        ("44078510720000001", "", "黄小芳", id("44078520051108124"), "之女", "2"),
        ("44078510720000002", "440785107200", "梁永", id("44078519580715123"), "户主", "1"),
    ];
    for (number, village, name, idn, rel, seq) in rows {
        let mut r = vec![String::new(); headers.len()];
        let set = |r: &mut Vec<String>, h: &str, v: &str| {
            let k = households::COLUMNS.iter().position(|c| c.0 == h).unwrap();
            r[k] = v.to_string();
        };
        set(&mut r, "户编号", number);
        if !village.is_empty() {
            set(&mut r, "所在村代码", village);
            set(&mut r, "贫困户属性", "一般贫困户");
            set(&mut r, "主要致贫原因", "缺资金");
            set(&mut r, "识别日期", "2016-04-12");
            set(&mut r, "不愁吃穿", "是");
        }
        set(&mut r, "成员序号", seq);
        set(&mut r, "姓名", name);
        set(&mut r, "身份证号", &idn);
        set(&mut r, "与户主关系", rel);
        set(&mut r, "文化程度", "初中");
        set(&mut r, "在校生状况", "非在校生");
        set(&mut r, "健康状况", "健康");
        set(&mut r, "劳动能力", "有劳动能力");
        set(&mut r, "参加基本医疗保险", "是");
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    let csv_path = dir.path().join("households.csv");
    std::fs::write(&csv_path, csv).unwrap();
    // LibreOffice reads the CSV as UTF-8 with text columns, and writes an xlsx (Calc MS Excel 2007 XML).
    let out = std::process::Command::new(soffice)
        .args(["--headless", "--norestore", "--infilter=CSV:44,34,76,1,1/2/2/2/3/2/4/2/5/2/6/2/7/2/8/2/9/2/10/2/11/2/12/2/13/2/14/2/15/2/16/2/17/2/18/2/19/2/20/2/21/2/22/2/23/2/24/2/25/2/26/2/27/2/28/2/29/2", "--convert-to", "xlsx", "--outdir"])
        .arg(dir.path())
        .arg(&csv_path)
        .env("HOME", dir.path())
        .output()
        .expect("LibreOffice runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let xlsx = std::fs::read(dir.path().join("households.xlsx")).expect("LibreOffice wrote the xlsx");
    let office = Actor::command_line("test");
    let o = exchange::import(&db.scoped_on(&office, today()), "households.xlsx", &xlsx, |_, _| {}).await.unwrap();
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert!(o.committed);
    assert_eq!((o.summary.households_new, o.summary.members_new), (2, 3));
    let h = db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number("44078510720000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.members.len(), 2);
    assert_eq!(h.members[1].name, "黄小芳");
    // ... and exports and imports again with no change.
    let (again, _) = exchange::export(&db.scoped(&office), &HouseholdFilter::default(), |_| {}).await.unwrap();
    let o = exchange::import(&db.scoped_on(&office, today()), "again.xlsx", &again, |_, _| {}).await.unwrap();
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    assert_eq!((o.summary.households_new, o.summary.households_changed, o.summary.households_unchanged), (0, 0, 2));
    assert_eq!((o.summary.members_new, o.summary.members_changed, o.summary.members_unchanged), (0, 0, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_import_previews_confirms_and_refuses_what_is_not_a_spreadsheet() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 600).await;
    let b = app.login("taishan").await;
    let upload = |name: &'static str, bytes: Vec<u8>| b.upload(vec![(name, bytes)]);
    let (status, _, page) = upload("notes.xlsx", b"this is not a workbook".to_vec()).await;
    assert_eq!(status, 422);
    assert!(page.contains("不是有效的 Excel 工作簿"), "{page}");
    // Too big for the web: a clear refusal.
    let r = upload("big.xlsx", vec![b'x'; 40 * 1024 * 1024]).await;
    assert_eq!(r.0, 413);
    assert!(r.2.contains("上限 32 MB"), "{}", r.2);

    // The district's own export: checked, confirmed, done, nothing changed.
    let export = b.get("/households/export.xlsx?status=helping").await;
    assert_eq!(export.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = export.bytes().await.unwrap().to_vec();
    let (status, path, page) = upload("台山.xlsx", bytes).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("检查通过"), "{page}");
    let id = path.rsplit('/').next().unwrap().to_string();
    let r = b.submit(&format!("/imports/{id}/commit"), &[]).await;
    assert!(r.status().is_success());
    let mut done = String::new();
    for _ in 0..100 {
        let (_, p) = b.get_text(&format!("/imports/{id}")).await;
        if p.contains("导入完成") {
            done = p;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done.contains("导入完成"), "the import finishes");
    // Another user cannot see this job.
    let other = app.login("kaiping").await;
    assert_eq!(other.get(&format!("/imports/{id}")).await.status().as_u16(), 404);
}
