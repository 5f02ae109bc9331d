//! Personal data as each role meets it: a masked ID number is never given back by what stands
//! beside it (birth dates, ages, finding messages, audit diffs, exports, a search), and full
//! personal data leaves only for roles with the right, each time with an audit record.

use chrono::{Datelike, NaiveDate};
use ducha_domain::access::{Actor, Scope};
use ducha_domain::id_number::check_char;
use ducha_storage::Backend;
use sea_orm::ConnectionTrait;

use crate::accounts::app_first_household;
use crate::support::{Browser, TestApp};

both_backends!(masked_views_never_give_an_id_number_back, full_personal_data_leaves_only_with_a_record);

/// A member as stored: what must never show in full where the ID number is masked.
struct Person {
    id_number: String,
    births: Vec<NaiveDate>,
}

/// Valid ID numbers that fit what a masked view shows: the first six and last four characters
/// and the birth year.
fn candidates(id: &str, year: i32) -> usize {
    let (area, tail) = (&id[..6], &id[14..]);
    let mut n = 0;
    let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    while day.year() == year {
        let first17 = format!("{area}{}{}", day.format("%Y%m%d"), &tail[..3]);
        n += usize::from(check_char(first17.as_bytes()).to_string() == tail[3..]);
        day = day.succ_opt().unwrap();
    }
    n
}

fn assert_gives_nothing_back(what: &str, body: &str, people: &[Person]) {
    for p in people {
        assert!(!body.contains(&p.id_number), "{what} shows the full ID number {}", p.id_number);
        for d in &p.births {
            for shown in [
                d.format("%Y-%m-%d").to_string(),
                d.format("%Y%m%d").to_string(),
                d.format("%Y/%m/%d").to_string(),
                d.format("%Y.%m.%d").to_string(),
                format!("{}年{}月{}日", d.year(), d.month(), d.day()),
                d.format("%Y年%m月%d日").to_string(),
            ] {
                assert!(!body.contains(&shown), "{what} shows the birth date {shown} beside a masked ID number");
            }
        }
        // What stays visible (area code, last four, year) fits many numbers.
        let fits = candidates(&p.id_number, p.births[0].year());
        assert!(fits >= 10, "{} fits only {fits} numbers", p.id_number);
    }
    assert!(!body.contains("周岁，"), "{what} gives an exact age beside a birth year: {body}");
}

/// Everything one signed-in user can read about one household, as text (pages, API, the
/// household list export opened with a real reader).
async fn everything_shown(b: &Browser, hid: i64, number: &str, with_export: bool) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    for path in [
        format!("/households?q={number}"),
        format!("/households/{hid}"),
        format!("/api/v1/households?q={number}"),
        format!("/api/v1/households/{hid}"),
        format!("/api/v1/households/{hid}/audit"),
        format!("/api/v1/checks/findings?household={hid}&status=all"),
        format!("/checks/findings?household={hid}&status=all"),
    ] {
        let (status, body) = b.get_text(&path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        shown.push((path, body));
    }
    if with_export {
        let path = format!("/households/export.xlsx?q={number}");
        let bytes = b.get(&path).await.bytes().await.unwrap().to_vec();
        shown.push((path, xlsx_text(&bytes)));
    }
    shown
}

/// Every cell of a workbook, as text, by a real reader.
pub fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
    let mut out = String::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for row in range.rows() {
            for c in row {
                out.push_str(&c.to_string());
                out.push('\t');
            }
            out.push('\n');
        }
    }
    out
}

async fn masked_views_never_give_an_id_number_back(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let hid = app_first_household(&app, "440781111").await;
    let rec = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    let number = rec.household.number.clone();
    let town = app.login("haiyan").await;

    // The town office corrects a member's ID number (a new birth date with it), through the API,
    // sending back what it read masked for the fields it does not change: the audit trail now
    // holds a birth date before and after.
    let m = &rec.members[0];
    let new_birth = m.birth_date.with_day(if m.birth_date.day() == 9 { 10 } else { 9 }).unwrap();
    let first17 = format!("{}{}{}", &m.id_number[..6], new_birth.format("%Y%m%d"), &m.id_number[14..17]);
    let new_id = format!("{first17}{}", check_char(first17.as_bytes()));
    let (_, shown) = town.get_text(&format!("/api/v1/households/{hid}")).await;
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let read = shown["members"].as_array().unwrap().iter().find(|x| x["id"] == m.id).unwrap().clone();
    assert_eq!(read["birth_date"], format!("{}年", m.birth_date.year()), "the API gives the year only");
    let csrf = crate::support::csrf_of(&town.get_text("/").await.1);
    let mut body = read.clone();
    body["id_number"] = new_id.clone().into();
    body["relation"] = m.relation.clone().into();
    body["education"] = m.education.clone().into();
    body["school_stage"] = m.school_stage.clone().into();
    body["health"] = m.health.as_str().into();
    body["labour_ability"] = m.labour_ability.clone().into();
    body["sex"] = "".into();
    body["medical_insurance"] = if m.medical_insurance { "是" } else { "否" }.into();
    let r = town
        .client
        .put(format!("{}/api/v1/members/{}", app.base, m.id))
        .header("X-CSRF-Token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    // And another member's registered birth date drifts from the one in the ID number (a
    // planted error the checks find and name).
    let other = &rec.members[rec.members.len() - 1];
    let drifted = other.birth_date.with_day(if other.birth_date.day() == 3 { 4 } else { 3 }).unwrap();
    app.db
        .conn()
        .execute_unprepared(&format!("UPDATE members SET birth_date = '{drifted}' WHERE id = {}", other.id))
        .await
        .unwrap();
    app.db.scoped(&Actor::system()).checks().run(&Scope::All, |_| {}).await.unwrap();
    let findings = app
        .db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .findings(&Default::default(), 100_000, 0)
        .await
        .unwrap();
    assert!(findings.iter().any(|f| f.rule == "M-ID-04" && f.household_id == hid), "the drifted birth date is found");

    let after = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    let mut people: Vec<Person> = after
        .members
        .iter()
        .map(|x| Person { id_number: x.id_number.to_string(), births: vec![x.birth_date] })
        .collect();
    people.push(Person { id_number: m.id_number.to_string(), births: vec![m.birth_date] });
    if let Some(p) = people.iter_mut().find(|p| other.id_number == p.id_number) {
        p.births.push(other.birth_date);
    }

    // Roles without the right, and the masked views of those with it.
    for (user, export) in [("leader", true), ("cadre", true), ("haiyan", false)] {
        let b = if user == "haiyan" { app.login("haiyan").await } else { app.login(user).await };
        let views = everything_shown(&b, hid, &number, export).await;
        let detail = &views[1].1;
        let masked_id = ducha_domain::privacy::mask_id(&new_id);
        assert!(detail.contains(&masked_id), "{user}: the household page shows the masked number");
        for (path, body) in &views {
            assert_gives_nothing_back(&format!("{user} {path}"), body, &people);
        }
    }
    // A search by a full ID number is an oracle for a role that may not see it.
    let leader = app.login("leader").await;
    let (status, _) = leader.get_text(&format!("/households?q={new_id}")).await;
    assert_eq!(status, 403);
    let (status, _) = leader.get_text(&format!("/api/v1/households?q={new_id}")).await;
    assert_eq!(status, 403);
    let (status, page) = town.get_text(&format!("/households?q={new_id}")).await;
    assert!(status == 200 && page.contains(&number), "the office finds a person by number");
}

async fn full_personal_data_leaves_only_with_a_record(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let town_scope = Scope::Region(ducha_domain::RegionCode::parse("440781111").unwrap());
    let (households, persons) = app.db.scoped(&crate::support::sees(&town_scope)).registry().totals().await.unwrap();
    let exports = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            db.conn()
                .query_all_raw(sea_orm::Statement::from_sql_and_values(
                    db.conn().get_database_backend(),
                    "SELECT actor, after FROM audit_log WHERE action = 'export_personal' ORDER BY id",
                    vec![],
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get::<String>("", "actor").unwrap(), r.try_get::<String>("", "after").unwrap()))
                .collect::<Vec<_>>()
        }
    };
    let hid = app_first_household(&app, "440781111").await;
    let rec = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    let head_id = rec.members[0].id_number.to_string();

    // A help cadre sees one person at a time: the town's list is masked, and not recorded.
    let cadre = app.login("cadre").await;
    let text = xlsx_text(&cadre.get("/households/export.xlsx").await.bytes().await.unwrap());
    assert!(text.contains(&ducha_domain::privacy::mask_id(&head_id)) && !text.contains(&head_id));
    assert!(exports(&app).await.is_empty());

    // The town office's export is full, and recorded with its scope and how many persons.
    let town = app.login("haiyan").await;
    let text = xlsx_text(&town.get("/households/export.xlsx").await.bytes().await.unwrap());
    assert!(text.contains(&head_id));
    let recorded = exports(&app).await;
    assert_eq!(recorded.len(), 1);
    let (actor, after) = &recorded[0];
    let after: serde_json::Value = serde_json::from_str(after).unwrap();
    assert_eq!(actor, "haiyan");
    assert_eq!(after["scope"], "440781111");
    assert_eq!(after["households"], households);
    assert_eq!(after["persons"], persons);

    // The household's edit form shows phone and bank account masked, as lists do; saved
    // unchanged they keep what is stored, and typed anew they change.
    let h = &rec.household;
    let (phone, account) = (h.phone.clone().unwrap().to_string(), h.bank_account.clone().unwrap().to_string());
    let (_, form) = town.get_text(&format!("/households/{hid}/edit")).await;
    assert!(!form.contains(&phone) && !form.contains(&account), "the form shows them masked");
    let masked_phone = ducha_domain::privacy::mask_phone(&phone);
    let masked_account = ducha_domain::privacy::mask_account(&account);
    assert!(form.contains(&masked_phone) && form.contains(&masked_account));
    // Saved from the form as it is (its version read afresh), with this phone.
    let save = |phone: String| {
        let (town, village, masked_account) = (&town, h.village_code.clone(), masked_account.clone());
        async move {
            let (_, form) = town.get_text(&format!("/households/{hid}/edit")).await;
            let version =
                form.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            town.submit(
                &format!("/households/{hid}/edit"),
                &[
                    ("version", version.as_str()),
                    ("village_code", village.as_str()),
                    ("household_type", "一般贫困户"),
                    ("main_cause", "因病"),
                    ("identified_on", "2016-05-01"),
                    ("address", "新住址"),
                    ("phone", phone.as_str()),
                    ("bank_account", masked_account.as_str()),
                    ("food_clothing", "是"),
                ],
            )
            .await
        }
    };
    let r = save(masked_phone.clone()).await;
    assert!(r.url().query().unwrap_or("").contains("saved=1"), "{}", r.text().await.unwrap());
    let stored =
        app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap().household;
    assert_eq!((stored.address.as_str(), stored.phone.as_deref()), ("新住址", Some(phone.as_str())));
    assert_eq!(stored.bank_account.as_deref(), Some(account.as_str()), "the masked account kept what was stored");
    let r = save("13900001111".into()).await;
    assert!(r.url().query().unwrap_or("").contains("saved=1"));
    let stored =
        app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap().household;
    assert_eq!(stored.phone.as_deref(), Some("13900001111"));

    // The command line: an export is written for its owner only and recorded; a full view of
    // a household is recorded in that household's trail.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("全部.xlsx");
    let out_path = out.display().to_string();
    let (ok, _, err) = crate::cli::run(&["export", "households", "--out", &out_path], app.db_url()).await;
    assert!(ok, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(exports(&app).await.len(), 2);
    let (ok, shown, _) = crate::cli::run(&["household", "show", &h.number, "--full"], app.db_url()).await;
    assert!(ok && shown.contains(&head_id));
    let trail = app.db.system().audit().for_household(hid, 5).await.unwrap().expect("the household is in scope");
    assert!(trail.iter().any(|r| r.action == "view_personal" && r.actor.starts_with("cli:")), "{trail:?}");
    let (_, masked, _) = crate::cli::run(&["household", "show", &h.number], app.db_url()).await;
    assert!(!masked.contains(&head_id) && !masked.contains(&rec.members[0].birth_date.to_string()), "{masked}");
}
