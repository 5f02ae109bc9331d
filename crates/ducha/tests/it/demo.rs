//! The demo city on both databases.

use ducha_domain::access::{Actor, Scope};
use ducha_domain::demo::DemoConfig;
use ducha_domain::region::RegionCode;
use ducha_storage::{Backend, registry};

use crate::support::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_city_on_sqlite_and_postgresql() {
    let (sqlite, postgres) = tokio::join!(TestDb::new(Backend::Sqlite), TestDb::new(Backend::Postgres));
    let (a, b) = tokio::join!(sqlite.open(), postgres.open());
    let config = DemoConfig::default();
    let system = Actor::system();
    let (on_a, on_b) = (a.scoped(&system), b.scoped(&system));
    let (demo_a, demo_b) = (on_a.demo(), on_b.demo());
    let (sa, sb) = tokio::join!(demo_a.load(config, |_, _| {}), demo_b.load(config, |_, _| {}));
    let (sa, sb) = (sa.unwrap(), sb.unwrap());
    assert_eq!(sa, sb);
    assert_eq!(sa.households, 12_000);
    // PostgreSQL's planner knows the tables were filled (without it, a campaign draw over a
    // million households takes minutes per town).
    use sea_orm::ConnectionTrait;
    let analysed = b
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            b.conn().get_database_backend(),
            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname IN ('households', 'members') AND last_analyze IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(analysed, 2, "the demo load ends with ANALYZE");

    let ca = a.scoped(&crate::support::sees(&Scope::All)).registry().counts_by_district().await.unwrap();
    let cb = b.scoped(&crate::support::sees(&Scope::All)).registry().counts_by_district().await.unwrap();
    assert_eq!(ca.len(), 7, "all 7 districts have households");
    assert_eq!(ca, cb, "households and members per district agree");
    let members: i64 = ca.iter().map(|c| c.members).sum();
    assert!((33_000..39_000).contains(&members), "about 36,000 members, got {members}");
    assert_eq!(
        a.scoped(&crate::support::sees(&Scope::All)).registry().counts_by_status().await.unwrap(),
        b.scoped(&crate::support::sees(&Scope::All)).registry().counts_by_status().await.unwrap()
    );
    assert_eq!(a.system().demo().defect_counts().await.unwrap(), b.system().demo().defect_counts().await.unwrap());
    // The checks find exactly the planted problems, the same on both databases.
    let (fa, fb) = tokio::join!(
        crate::checks::demo_findings_are_the_planted_problems(&a),
        crate::checks::demo_findings_are_the_planted_problems(&b)
    );
    assert_eq!(fa, fb);

    // The same household reads back the same, members in order.
    let number = "44078111121000001";
    let ha = a
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(number)
        .await
        .unwrap()
        .expect("in SQLite");
    let hb = b
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household_by_number(number)
        .await
        .unwrap()
        .expect("in PostgreSQL");
    let key = |r: &registry::HouseholdRecord| {
        (
            r.household.status.clone(),
            r.members.iter().map(|m| (m.seq, m.name.clone(), m.id_number.clone(), m.birth_date)).collect::<Vec<_>>(),
            r.finances.iter().map(|f| (f.year, f.wage_income, f.transfer_income)).collect::<Vec<_>>(),
            r.history.iter().map(|h| (h.status.clone(), h.effective_on)).collect::<Vec<_>>(),
        )
    };
    assert_eq!(key(&ha), key(&hb));
}

both_backends!(a_scope_outside_the_household_finds_nothing_and_demo_refuses_a_full_registry);

async fn a_scope_outside_the_household_finds_nothing_and_demo_refuses_a_full_registry(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.open().await;
    let small = DemoConfig { households: 400, ..Default::default() };
    db.scoped(&Actor::system()).demo().load(small, |_, _| {}).await.unwrap();
    let taishan = Scope::Region(RegionCode::parse("440781").unwrap());
    let numbers = db.scoped(&crate::support::sees(&taishan)).registry().household_numbers(5).await.unwrap();
    assert_eq!(numbers.len(), 5);
    let number = numbers[0].clone();
    assert!(number.starts_with("440781"));
    let own_town = Scope::Region(RegionCode::parse(&number[..9]).unwrap());
    let other_town = Scope::Region(RegionCode::parse("440781109").unwrap());
    let own_district = Scope::Region(RegionCode::parse("440781").unwrap());
    let city = Scope::Region(RegionCode::parse("4407").unwrap());
    assert!(
        db.scoped(&crate::support::sees(&own_town)).registry().household_by_number(&number).await.unwrap().is_some()
    );
    assert!(
        db.scoped(&crate::support::sees(&own_district))
            .registry()
            .household_by_number(&number)
            .await
            .unwrap()
            .is_some()
    );
    assert!(db.scoped(&crate::support::sees(&city)).registry().household_by_number(&number).await.unwrap().is_some());
    assert!(
        db.scoped(&crate::support::sees(&other_town)).registry().household_by_number(&number).await.unwrap().is_none()
    );
    let (h_city, _) = db.scoped(&crate::support::sees(&city)).registry().totals().await.unwrap();
    assert_eq!(h_city, 400);
    let (h_town, _) = db.scoped(&crate::support::sees(&own_town)).registry().totals().await.unwrap();
    assert!(h_town > 0 && h_town < 400);

    let err = db.scoped(&Actor::system()).demo().load(small, |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("只能装入空库"), "{err}");
    assert_eq!(
        db.scoped(&crate::support::sees(&Scope::All)).registry().totals().await.unwrap().0,
        400,
        "nothing was added"
    );
}
