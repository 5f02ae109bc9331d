//! Data-quality checks: the demo city's planted problems found and nothing else; a save re-checks
//! its household at once; exemptions last until the facts change; parameters change what is found.

use ducha_domain::access::{Actor, Scope};
use ducha_domain::demo::DemoConfig;
use ducha_storage::checks::FindingFilter;
use ducha_storage::{Backend, Db, registry};

use crate::support::TestDb;

/// Run the catalogue over the demo city and hold it against what was planted.
pub async fn demo_findings_are_the_planted_problems(db: &Db) -> Vec<(String, i64, Option<i64>, String)> {
    let (summary, _) = db.scoped(&Actor::command_line("test")).checks().run(&Scope::All, |_| {}).await.unwrap();
    assert!(summary.households > 0);
    let cmp = db.system().demo_findings().compare().await.unwrap();
    assert!(
        cmp.unexplained.is_empty(),
        "findings on clean records: {:#?}",
        &cmp.unexplained[..cmp.unexplained.len().min(10)]
    );
    for k in &cmp.kinds {
        assert!(k.planted > 0, "{} was never planted", k.label);
        assert_eq!(k.found, k.planted, "{}: planted {}, found {}", k.label, k.planted, k.found);
    }
    let mut all: Vec<_> = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .findings(&FindingFilter::default(), 1_000_000, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.rule, f.household_id, f.member_id, f.message))
        .collect();
    all.sort();
    all
}

both_backends!(a_save_rechecks_its_household_and_exemptions_hold_until_the_facts_change);

async fn a_save_rechecks_its_household_and_exemptions_hold_until_the_facts_change(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.open().await;
    let system = Actor::system();
    db.scoped(&system).demo().load(DemoConfig { households: 600, ..Default::default() }, |_, _| {}).await.unwrap();
    db.scoped(&system).demo().create_demo_users().await.unwrap();
    let cli = Actor::command_line("test");
    let (first, _) = db.scoped(&cli).checks().run(&Scope::All, |_| {}).await.unwrap();
    assert!(first.open > 0 && first.new == first.open && first.fixed == 0, "{first:?}");
    // A second run over unchanged data: nothing new, nothing fixed.
    let (second, _) = db.scoped(&cli).checks().run(&Scope::All, |_| {}).await.unwrap();
    assert_eq!((second.open, second.new, second.fixed), (first.open, 0, 0));

    // An uninsured member: insuring them fixes the finding in the same save.
    let filter = FindingFilter { rule: Some("M-MED-01".into()), status: Some("open".into()), ..Default::default() };
    let f = db.scoped(&crate::support::sees(&Scope::All)).checks().findings(&filter, 1, 0).await.unwrap().remove(0);
    let member_id = f.member_id.expect("a member finding");
    let record = db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(f.household_number.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    let town = db.system().accounts().find_user("city").await.unwrap().unwrap().actor(None);
    let model = record.members.iter().find(|m| m.id == member_id).unwrap();
    let mut member = registry::to_member(model).unwrap();
    member.medical_insurance = true;
    db.scoped(&town).registry().update_member(member_id, &member).await.unwrap();
    let now = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .findings(
            &FindingFilter { household_id: Some(f.household_id), rule: Some("M-MED-01".into()), ..Default::default() },
            10,
            0,
        )
        .await
        .unwrap();
    let same = now.iter().find(|x| x.id == f.id).unwrap();
    assert_eq!(same.status, "fixed", "fixed on save");
    assert!(same.fixed_at.is_some());
    // The next run counts it as fixed no more (it already is) and finds nothing new.
    let (third, _) = db.scoped(&cli).checks().run(&Scope::All, |_| {}).await.unwrap();
    assert_eq!(third.open, first.open - 1);

    // A minor recorded as able to work, judged a false alarm by the district: exempted, and it
    // stays exempted in later runs while the facts are the same.
    let filter = FindingFilter { rule: Some("M-AGE-01".into()), status: Some("open".into()), ..Default::default() };
    let f = db.scoped(&crate::support::sees(&Scope::All)).checks().findings(&filter, 1, 0).await.unwrap().remove(0);
    let district_code = &f.village_code[..6];
    let district_user = ducha_storage::demo::DEMO_ACCOUNTS.iter().find(|a| a.3 == Some(district_code)).unwrap().0;
    let district = db.system().accounts().find_user(district_user).await.unwrap().unwrap().actor(None);
    let haiyan = db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    assert!(db.scoped(&haiyan).checks().exempt(f.id, "已核实").await.is_err(), "a town office cannot exempt");
    let err = db.scoped(&district).checks().exempt(f.id, "  ").await.unwrap_err();
    assert!(err.to_string().contains("豁免理由"), "{err}");
    db.scoped(&district).checks().exempt(f.id, "经入户核实，该生已满16周岁，出生日期待户籍部门更正").await.unwrap();
    let (fourth, _) = db.scoped(&cli).checks().run(&Scope::All, |_| {}).await.unwrap();
    assert_eq!(fourth.open, third.open - 1);
    assert_eq!(fourth.exempted, 1);
    let after = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .findings(&FindingFilter { household_id: Some(f.household_id), ..Default::default() }, 50, 0)
        .await
        .unwrap();
    assert_eq!(after.iter().find(|x| x.id == f.id).unwrap().status, "exempted");
    let audit = db.system().audit().for_entity("check_finding", &f.id.to_string(), 10).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "exempt" && a.actor == district.username), "{audit:?}");
    // The facts change (the birth date moves a year): the finding is back, open.
    let record = db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(f.household_number.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    let model = record.members.iter().find(|m| Some(m.id) == f.member_id).unwrap();
    let mut member = registry::to_member(model).unwrap();
    member.birth_date = member.birth_date.checked_add_signed(chrono::Duration::days(-365)).unwrap();
    let age = ducha_domain::registry::age_on(member.birth_date, DemoConfig::default().as_of());
    db.scoped(&town).registry().update_member(model.id, &member).await.unwrap();
    let again = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .findings(
            &FindingFilter { household_id: Some(f.household_id), rule: Some("M-AGE-01".into()), ..Default::default() },
            50,
            0,
        )
        .await
        .unwrap();
    let status = &again.iter().find(|x| x.id == f.id).unwrap().status;
    if age < 16 {
        assert_eq!(status, "open", "facts changed: the exemption no longer covers it");
    } else {
        assert_eq!(status, "fixed");
    }

    // A parameter: a stricter log rule (30 days) finds more stale logs after the re-run.
    let stale_before = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .counts(ducha_domain::RegionLevel::District)
        .await
        .unwrap();
    let count = |c: &[(String, String, i64)]| c.iter().filter(|x| x.0 == "H-LOG-01").map(|x| x.2).sum::<i64>();
    let city = db.system().accounts().find_user("city").await.unwrap().unwrap().actor(None);
    assert!(
        db.scoped(&district).checks().set_param(2017, "log_stale_days", 30).await.is_err(),
        "only the city sets parameters"
    );
    let err = db.scoped(&city).checks().set_param(2017, "log_stale_days", -3).await.unwrap_err();
    assert!(err.to_string().contains("天"), "{err}");
    db.scoped(&city).checks().set_param(2017, "log_stale_days", 30).await.unwrap();
    db.scoped(&cli).checks().run(&Scope::All, |_| {}).await.unwrap();
    let stale_after = db
        .scoped(&crate::support::sees(&Scope::All))
        .checks()
        .counts(ducha_domain::RegionLevel::District)
        .await
        .unwrap();
    assert!(count(&stale_after) > count(&stale_before), "{} → {}", count(&stale_before), count(&stale_after));

    // A town sees only its own findings.
    let town_scope = haiyan.scope.clone();
    let mine = db
        .scoped(&crate::support::sees(&town_scope))
        .checks()
        .findings(&FindingFilter::default(), 100_000, 0)
        .await
        .unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|f| f.village_code.starts_with("440781111")));
}

both_backends!(a_years_income_is_corrected_on_its_form_and_the_check_closes);

/// A household whose declared yearly total disagrees with its parts (H-INC-03): the district
/// office corrects the year on its form; bad figures are refused at their fields with nothing
/// written, another district gets 404, the correction is audited with the old figures, and the
/// finding is fixed the moment it is saved. The API takes the same form.
async fn a_years_income_is_corrected_on_its_form_and_the_check_closes(backend: Backend) {
    let app = crate::support::TestApp::spawn_demo(backend, 600).await;
    let db = &app.db;
    let open =
        |rule: &str| FindingFilter { rule: Some(rule.into()), status: Some("open".into()), ..Default::default() };
    let found =
        db.scoped(&crate::support::sees(&Scope::All)).checks().findings(&open("H-INC-03"), 100, 0).await.unwrap();
    let f = found.first().expect("the demo plants a declared total that disagrees with its parts");
    // The district office the household belongs to.
    let mut office = None;
    for name in ["pengjiang", "jianghai", "xinhui", "taishan", "kaiping", "heshan", "enping"] {
        let u = db.system().accounts().find_user(name).await.unwrap().unwrap();
        if u.actor(None).scope.contains(&f.village_code) {
            office = Some((name, u.actor(None)));
        }
    }
    let (name, actor) = office.expect("a district office");
    let rec =
        db.scoped(&crate::support::sees(&actor.scope)).registry().household(f.household_id).await.unwrap().unwrap();
    let year = f.year;
    let row = rec.finances.iter().find(|x| x.year == year).expect("the year's figures");
    let b = app.login(name).await;
    let page = format!("/households/{}/finance?year={year}", f.household_id);
    let (status, form) = b.get_text(&page).await;
    assert_eq!(status, 200);
    let wage = ducha_domain::Money::from_fen(row.wage_income).to_string();
    assert!(form.contains(&format!("value=\"{wage}\"")), "the form shows the recorded figures");
    let parts = row.wage_income + row.business_income + row.property_income + row.transfer_income;
    let yuan = |fen: i64| ducha_domain::Money::from_fen(fen).to_string();
    let fields = |wage: &str, declared: String| {
        vec![
            ("year", year.to_string()),
            ("household_size", row.household_size.to_string()),
            ("wage_income", wage.to_string()),
            ("business_income", yuan(row.business_income)),
            ("property_income", yuan(row.property_income)),
            ("transfer_income", yuan(row.transfer_income)),
            ("production_costs", yuan(row.production_costs)),
            ("declared_total_income", declared),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let b = &b;
        let path = format!("/households/{}/finance", f.household_id);
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = b.submit(&path, &borrowed).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let audits = db.system().audit().count().await.unwrap();
    let (status, refused) = post(fields("-5", yuan(parts))).await;
    assert_eq!(status, 422);
    assert!(refused.contains("工资性收入不能为负数"), "{refused}");
    assert_eq!(db.system().audit().count().await.unwrap(), audits, "nothing written");
    let (status, _) = post(fields(&wage, yuan(parts))).await;
    assert_eq!(status, 200, "saved, then the household's page");
    let fixed =
        db.scoped(&crate::support::sees(&Scope::All)).checks().findings(&open("H-INC-03"), 100, 0).await.unwrap();
    assert!(!fixed.iter().any(|x| x.household_id == f.household_id), "the finding closed on save");
    let trail = db.system().audit().for_entity("household_finance", &row.id.to_string(), 1).await.unwrap();
    let last = trail.first().expect("audited");
    assert_eq!(last.action, "update");
    assert!(last.before.as_deref().is_some_and(|b| b.contains("declared_total_income")), "{last:?}");
    // Another district's office cannot reach it; the API refuses a year to come at its field.
    let other = if name == "enping" { "kaiping" } else { "enping" };
    assert_eq!(app.login(other).await.get(&page).await.status().as_u16(), 404);
    // Each call through the API with a fresh token of the district office (one audit record each).
    let api = |body: serde_json::Value| {
        let (client, url) = (app.client.clone(), format!("{}/api/v1/households/{}/finances", app.base, f.household_id));
        async move {
            let tok = db.scoped(&Actor::system()).accounts().issue_token(name, "测试").await.unwrap();
            client.post(url).bearer_auth(tok).json(&body).send().await.unwrap()
        }
    };
    let r = api(serde_json::json!({"year": "2099", "household_size": "3", "wage_income": "100"})).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("year"));
    // The household's history shows the correction.
    let history =
        db.system().audit().for_household(f.household_id, 100).await.unwrap().expect("the household is in scope");
    assert!(history.iter().any(|a| a.entity == "household_finance" && a.action == "update"));
    // Through the API a number is taken as the form's text, and what is left out stays as recorded.
    let body = serde_json::json!({"year": year, "wage_income": 12345});
    let r = api(body.clone()).await;
    assert_eq!(r.status().as_u16(), 204, "{}", r.text().await.unwrap_or_default());
    let rec =
        db.scoped(&crate::support::sees(&actor.scope)).registry().household(f.household_id).await.unwrap().unwrap();
    let now = rec.finances.iter().find(|x| x.year == year).unwrap();
    assert_eq!(now.wage_income, 1_234_500);
    assert_eq!((now.business_income, now.transfer_income), (row.business_income, row.transfer_income));
    // The same sent again changes nothing and leaves no record.
    let audits = db.system().audit().count().await.unwrap();
    let r = api(body).await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(db.system().audit().count().await.unwrap(), audits + 1, "only the token's own record");
}
