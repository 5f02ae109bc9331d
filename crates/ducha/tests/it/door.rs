//! Storage has one door (issue 15): the web crate holds no database crate, an unscoped read does
//! not compile outside storage (the compile-fail example in storage's lib.rs), and a household's
//! page costs a few queries, however many plans the household has.

use ducha_domain::access::Actor;
use ducha_storage::Backend;
use serde_json::json;

use crate::support::TestApp;

both_backends!(a_household_page_costs_few_queries_however_many_plans);

/// At most this many statements for one household's page, the session and sign-in check
/// included. Measured on both databases: 18 before issue 15 (one query per part of the page,
/// the division tree's version twice), 7 after (session, user, the household with everything
/// under it in one statement, its audit trail, change requests, the check period, findings).
const HOUSEHOLD_PAGE_QUERIES: u64 = 7;

async fn a_household_page_costs_few_queries_however_many_plans(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let system = app.db.system();
    let number = system.registry().household_numbers(1).await.expect("read").remove(0);
    let hid = system.registry().household_by_number(&number).await.expect("read").expect("the household").household.id;
    let b = app.login("city").await;
    let path = format!("/households/{hid}");
    // The fewest of three loads: the server's background tasks (the key watcher every second,
    // the jobs' heartbeat) run their own statements on the same pool now and then.
    let cost = || async {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.db.statements();
            let resp = b.get(&path).await;
            assert_eq!(resp.status().as_u16(), 200);
            let _ = resp.text().await;
            fewest = fewest.min(app.db.statements() - before);
        }
        fewest
    };
    cost().await; // the division tree and the sign-in are cached after the first request
    let few = cost().await;

    // Three more plans, through the API as an office would add them.
    let token = app.db.scoped(&Actor::system()).accounts().issue_token("city", "计数").await.expect("token");
    for year in [2016, 2017, 2018] {
        let resp = app
            .client
            .post(format!("{}/api/v1/households/{hid}/plans", app.base))
            .bearer_auth(&token)
            .json(&json!({"year": year, "target_income": "8500", "categories": ["产业帮扶"]}))
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "plan {year}: {}", resp.text().await.unwrap_or_default());
    }
    let many = cost().await;
    println!("{backend:?}: a household page costs {few} statements; with three more plans {many}");
    assert_eq!(few, many, "the page's cost does not grow with the household's plans");
    assert!(
        few <= HOUSEHOLD_PAGE_QUERIES,
        "a household page costs {few} statements (at most {HOUSEHOLD_PAGE_QUERIES})"
    );
}

/// The web crate reaches the database only through storage's door: it depends on no database
/// crate, so it cannot name a connection, an entity's query or raw SQL.
#[test]
fn the_web_crate_holds_no_database_crate() {
    // Its own dependencies, one level down: storage brings sea-orm with it, but the web crate
    // must not name it itself.
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "ducha-web",
            "-e",
            "normal",
            "--depth",
            "1",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let own = String::from_utf8_lossy(&out.stdout);
    for db_crate in ["sea-orm", "sea-query", "sqlx"] {
        assert!(
            !own.lines().any(|l| l.starts_with(&format!("{db_crate} "))),
            "ducha-web depends on {db_crate} itself:\n{own}"
        );
    }
    assert!(
        own.lines().any(|l| l.starts_with("ducha-storage ")),
        "the listing names the web crate's dependencies:\n{own}"
    );
}
