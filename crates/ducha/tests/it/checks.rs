//! Data-quality checks: the demo city's planted problems found and nothing else; a save re-checks
//! its household at once; exemptions last until the facts change; parameters change what is found.

use ducha_domain::access::{Actor, Scope};
use ducha_domain::demo::DemoConfig;
use ducha_storage::checks::{self, FindingFilter};
use ducha_storage::{Backend, Db, demo, registry};

use crate::support::TestDb;

/// Run the catalogue over the demo city and hold it against what was planted.
pub async fn demo_findings_are_the_planted_problems(db: &Db) -> Vec<(String, i64, Option<i64>, String)> {
    let (summary, _) = checks::run(db, &Actor::command_line("test"), &Scope::All, |_| {}).await.unwrap();
    assert!(summary.households > 0);
    let cmp = checks::demo::compare(db).await.unwrap();
    assert!(
        cmp.unexplained.is_empty(),
        "findings on clean records: {:#?}",
        &cmp.unexplained[..cmp.unexplained.len().min(10)]
    );
    for k in &cmp.kinds {
        assert!(k.planted > 0, "{} was never planted", k.label);
        assert_eq!(k.found, k.planted, "{}: planted {}, found {}", k.label, k.planted, k.found);
    }
    let mut all: Vec<_> = checks::findings(db, &Scope::All, &FindingFilter::default(), 1_000_000, 0)
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
    demo::load(&db, &system, DemoConfig { households: 600, ..Default::default() }, |_, _| {}).await.unwrap();
    ducha_storage::demo::create_demo_users(&db, &system).await.unwrap();
    let cli = Actor::command_line("test");
    let (first, _) = checks::run(&db, &cli, &Scope::All, |_| {}).await.unwrap();
    assert!(first.open > 0 && first.new == first.open && first.fixed == 0, "{first:?}");
    // A second run over unchanged data: nothing new, nothing fixed.
    let (second, _) = checks::run(&db, &cli, &Scope::All, |_| {}).await.unwrap();
    assert_eq!((second.open, second.new, second.fixed), (first.open, 0, 0));

    // An uninsured member: insuring them fixes the finding in the same save.
    let filter = FindingFilter { rule: Some("M-MED-01".into()), status: Some("open".into()), ..Default::default() };
    let f = checks::findings(&db, &Scope::All, &filter, 1, 0).await.unwrap().remove(0);
    let member_id = f.member_id.expect("a member finding");
    let record =
        registry::household_by_number(&db, &Scope::All, f.household_number.as_deref().unwrap()).await.unwrap().unwrap();
    let town = ducha_storage::accounts::find_user(&db, "city").await.unwrap().unwrap().actor(None);
    let model = record.members.iter().find(|m| m.id == member_id).unwrap();
    let mut member = registry::to_member(model).unwrap();
    member.medical_insurance = true;
    registry::update_member(&db, &town, member_id, &member).await.unwrap();
    let now = checks::findings(
        &db,
        &Scope::All,
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
    let (third, _) = checks::run(&db, &cli, &Scope::All, |_| {}).await.unwrap();
    assert_eq!(third.open, first.open - 1);

    // A minor recorded as able to work, judged a false alarm by the district: exempted, and it
    // stays exempted in later runs while the facts are the same.
    let filter = FindingFilter { rule: Some("M-AGE-01".into()), status: Some("open".into()), ..Default::default() };
    let f = checks::findings(&db, &Scope::All, &filter, 1, 0).await.unwrap().remove(0);
    let district_code = &f.village_code[..6];
    let district_user = ducha_storage::demo::DEMO_ACCOUNTS.iter().find(|a| a.3 == Some(district_code)).unwrap().0;
    let district = ducha_storage::accounts::find_user(&db, district_user).await.unwrap().unwrap().actor(None);
    let haiyan = ducha_storage::accounts::find_user(&db, "haiyan").await.unwrap().unwrap().actor(None);
    assert!(checks::exempt(&db, &haiyan, f.id, "已核实").await.is_err(), "a town office cannot exempt");
    let err = checks::exempt(&db, &district, f.id, "  ").await.unwrap_err();
    assert!(err.to_string().contains("豁免理由"), "{err}");
    checks::exempt(&db, &district, f.id, "经入户核实，该生已满16周岁，出生日期待户籍部门更正").await.unwrap();
    let (fourth, _) = checks::run(&db, &cli, &Scope::All, |_| {}).await.unwrap();
    assert_eq!(fourth.open, third.open - 1);
    assert_eq!(fourth.exempted, 1);
    let after = checks::findings(
        &db,
        &Scope::All,
        &FindingFilter { household_id: Some(f.household_id), ..Default::default() },
        50,
        0,
    )
    .await
    .unwrap();
    assert_eq!(after.iter().find(|x| x.id == f.id).unwrap().status, "exempted");
    let audit = ducha_storage::audit::for_entity(&db, "check_finding", &f.id.to_string(), 10).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "exempt" && a.actor == district.username), "{audit:?}");
    // The facts change (the birth date moves a year): the finding is back, open.
    let record =
        registry::household_by_number(&db, &Scope::All, f.household_number.as_deref().unwrap()).await.unwrap().unwrap();
    let model = record.members.iter().find(|m| Some(m.id) == f.member_id).unwrap();
    let mut member = registry::to_member(model).unwrap();
    member.birth_date = member.birth_date.checked_add_signed(chrono::Duration::days(-365)).unwrap();
    let age = ducha_domain::registry::age_on(member.birth_date, DemoConfig::default().as_of());
    registry::update_member(&db, &town, model.id, &member).await.unwrap();
    let again = checks::findings(
        &db,
        &Scope::All,
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
    let stale_before = checks::counts(&db, &Scope::All, ducha_domain::RegionLevel::District).await.unwrap();
    let count = |c: &[(String, String, i64)]| c.iter().filter(|x| x.0 == "H-LOG-01").map(|x| x.2).sum::<i64>();
    let city = ducha_storage::accounts::find_user(&db, "city").await.unwrap().unwrap().actor(None);
    assert!(
        checks::set_param(&db, &district, 2017, "log_stale_days", 30).await.is_err(),
        "only the city sets parameters"
    );
    let err = checks::set_param(&db, &city, 2017, "log_stale_days", -3).await.unwrap_err();
    assert!(err.to_string().contains("天"), "{err}");
    checks::set_param(&db, &city, 2017, "log_stale_days", 30).await.unwrap();
    checks::run(&db, &cli, &Scope::All, |_| {}).await.unwrap();
    let stale_after = checks::counts(&db, &Scope::All, ducha_domain::RegionLevel::District).await.unwrap();
    assert!(count(&stale_after) > count(&stale_before), "{} → {}", count(&stale_before), count(&stale_after));

    // A town sees only its own findings.
    let town_scope = haiyan.scope.clone();
    let mine = checks::findings(&db, &town_scope, &FindingFilter::default(), 100_000, 0).await.unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|f| f.village_code.starts_with("440781111")));
}
