//! A campaign under way is sealed from everyone outside it. The demo's covert campaign 3 (演示：
//! 本周暗访) gives a town office whose town was drawn and one whose town was not the same answer
//! on every campaign route of the application's own list (so a new route is walked too), on the
//! rectification pages and on the evidence that come from it; the district office, a leader, a
//! help cadre and an inspector of no team of it get the same statuses. None of them is shown a
//! drawn town, the seed, the campaign's name or what its team found. The city office and the
//! campaign's own team still see everything.

use ducha_domain::access::{Actor, Role};
use ducha_domain::labelled::Labelled;
use ducha_storage::Backend;
use ducha_storage::accounts::NewUser;
use ducha_storage::campaigns::fieldwork::{Observation, VisitInput};
use ducha_storage::campaigns::problems::ProblemInput;
use ducha_storage::evidence::Upload;
use sea_orm::ConnectionTrait;

use crate::support::{Browser, TestApp, csrf_of};

both_backends!(a_campaign_under_way_tells_no_one_outside_it_what_it_drew);

const SEED: &str = "20261127";
const NAME: &str = "演示：本周暗访";
const FOUND: &str = "暗访发现：村务公开栏未公示帮扶资金";
const PHOTO: &str = "暗访走访照片.png";
const PROBLEM_PHOTO: &str = "暗访问题照片.png";

async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let stmt = sea_orm::Statement::from_string(app.db.conn().get_database_backend(), sql.to_string());
    let rows = app.db.conn().query_all_raw(stmt).await.unwrap();
    rows.iter()
        .map(|r| {
            r.try_get_by_index::<String>(0).or_else(|_| r.try_get_by_index::<i64>(0).map(|n| n.to_string())).unwrap()
        })
        .collect()
}

async fn one(app: &TestApp, sql: &str) -> String {
    column(app, sql).await.into_iter().next().unwrap_or_else(|| panic!("a row for {sql}"))
}

/// What the walk must never find in an outsider's answer.
fn leaks<'a>(body: &str, secrets: &'a [String]) -> Option<&'a String> {
    secrets.iter().find(|s| body.contains(s.as_str()))
}

/// One outsider: who, their town (if a town office), and the household they ask about.
struct Outsider {
    name: &'static str,
    browser: Browser,
    csrf: String,
    own: Vec<String>,
    town: String,
    household: String,
}

impl Outsider {
    /// The body with what is the user's own (their town's name and code, their CSRF token)
    /// replaced, so that two town offices' answers can be compared.
    fn normalise(&self, body: &str) -> String {
        let mut b = body.replace(&self.csrf, "〈令牌〉");
        // Every request has its own id, shown on error pages for the administrator.
        let tag = "<code id=\"request-id\">";
        if let Some(start) = b.find(tag).map(|i| i + tag.len())
            && let Some(len) = b[start..].find("</code>")
        {
            b.replace_range(start..start + len, "〈编号〉");
        }
        for (k, s) in self.own.iter().enumerate() {
            b = b.replace(s.as_str(), &format!("〈本人{k}〉"));
        }
        b
    }
}

async fn a_campaign_under_way_tells_no_one_outside_it_what_it_drew(backend: Backend) {
    let app = TestApp::spawn_demo_campaigns_on(backend).await;
    let system = Actor::system();
    let today = ducha_storage::beijing_today();
    assert_eq!(one(&app, "SELECT name FROM campaigns WHERE id = 3").await, NAME);
    assert!(one(&app, "SELECT sample_plan FROM campaigns WHERE id = 3").await.contains(SEED));

    // A town of 新会 (the demo inspector's team's district) that was drawn, and one that was not.
    let drawn = one(
        &app,
        "SELECT town_code FROM campaign_towns WHERE campaign_id = 3 AND district_code = '440705' ORDER BY town_code",
    )
    .await;
    let undrawn = one(
        &app,
        "SELECT MIN(town_code) FROM households WHERE district_code = '440705' AND town_code NOT IN \
         (SELECT town_code FROM campaign_towns WHERE campaign_id = 3)",
    )
    .await;
    let name_of = |code: String| {
        let app = &app;
        async move { one(app, &format!("SELECT name FROM regions WHERE code = '{code}'")).await }
    };
    let (drawn_name, undrawn_name) = (name_of(drawn.clone()).await, name_of(undrawn.clone()).await);
    let drawn_towns: Vec<String> = column(
        &app,
        "SELECT r.name FROM campaign_towns t JOIN regions r ON r.code = t.town_code WHERE t.campaign_id = 3",
    )
    .await;
    assert!(drawn_towns.len() >= 12, "the demo's campaign under way drew its towns: {drawn_towns:?}");
    for (username, role, region) in [
        ("drawn", Role::TownOffice, Some(&drawn)),
        ("undrawn", Role::TownOffice, Some(&undrawn)),
        ("outsider", Role::Inspector, None),
    ] {
        let new = NewUser {
            username: username.into(),
            display_name: "测试账号".into(),
            role,
            region_code: region.cloned(),
            password: ducha_storage::demo::DEMO_PASSWORD.into(),
        };
        app.db.scoped(&system).accounts().add_user(&new).await.unwrap();
    }

    // The team works in the drawn town: a visit with a difference and a photo, and a problem with
    // its evidence.
    let inspector = app.db.system().accounts().find_user("inspector").await.unwrap().unwrap().actor(None);
    let visited = one(
        &app,
        &format!("SELECT MIN(household_id) FROM campaign_households WHERE campaign_id = 3 AND town_code = '{drawn}'"),
    )
    .await;
    let photo = |name: &str| Upload { filename: name.into(), bytes: crate::help::PNG.to_vec() };
    let visit = VisitInput {
        household_id: visited.parse().unwrap(),
        client_key: "secrecy-visit-0001".into(),
        visited_on: Some(today),
        observations: vec![Observation { key: "size".into(), matches: false, observed: "实际 9 人".into() }],
        note: String::new(),
        answers: vec![],
        photos: vec![photo(PHOTO)],
    };
    app.db.scoped(&inspector).campaigns().submit_visit(3, &visit).await.unwrap();
    let problem = ProblemInput {
        town: drawn.clone(),
        household_id: None,
        category: ducha_domain::checks::Category::Funds.label().into(),
        severity: "警告".into(),
        text: FOUND.into(),
        responsible_unit: format!("{drawn_name}扶贫办"),
    };
    let problem = app
        .db
        .scoped(&inspector)
        .campaigns()
        .add_problem(3, &problem, &[photo(PROBLEM_PHOTO)])
        .await
        .unwrap()
        .to_string();
    let visit_photo = one(&app, "SELECT MIN(id) FROM evidence WHERE owner_kind = 'campaign_visit'").await;
    let fingerprint = || {
        let app = &app;
        async move {
            column(
                app,
                "SELECT CAST((SELECT COUNT(*) FROM audit_log) AS VARCHAR(20)) || '/' || \
                 CAST((SELECT COUNT(*) FROM campaign_visits) AS VARCHAR(20)) || '/' || \
                 CAST((SELECT COUNT(*) FROM campaign_problems) AS VARCHAR(20)) || '/' || \
                 CAST((SELECT COUNT(*) FROM campaign_teams) AS VARCHAR(20)) || '/' || \
                 CAST((SELECT COUNT(*) FROM campaign_reviews) AS VARCHAR(20))",
            )
            .await
        }
    };

    // The outsiders: two town offices of 新会, its district office, a leader, a help cadre and an
    // inspector of no team of this campaign.
    let undrawn_household = one(&app, &format!("SELECT MIN(id) FROM households WHERE town_code = '{undrawn}'")).await;
    // Each one's own region is named in the page header: not a leak, normalised away.
    let cadre_town = name_of("440781111".to_string()).await;
    let mut outsiders = Vec::new();
    for (name, own, town, household) in [
        ("drawn", vec![drawn_name.clone(), drawn.clone()], drawn.clone(), visited.clone()),
        ("undrawn", vec![undrawn_name.clone(), undrawn.clone()], undrawn.clone(), undrawn_household.clone()),
        ("xinhui", vec![], drawn.clone(), visited.clone()),
        ("leader", vec![], drawn.clone(), visited.clone()),
        ("cadre", vec![cadre_town, "440781111".to_string()], drawn.clone(), visited.clone()),
        ("outsider", vec![], drawn.clone(), visited.clone()),
    ] {
        let browser = app.login(name).await;
        let csrf = csrf_of(&browser.get_text("/").await.1);
        outsiders.push(Outsider { name, browser, csrf, own, town, household });
    }
    let before = fingerprint().await;
    // What no outsider may be shown: anywhere, the campaign's name, its seed, what its team found;
    // on its own pages, any town it drew (a town office's own name is normalised away first).
    let secrets: Vec<String> =
        [NAME, SEED, FOUND, PHOTO, PROBLEM_PHOTO, "实际 9 人"].iter().map(|s| s.to_string()).collect();
    let campaign_secrets: Vec<String> = secrets.iter().cloned().chain(drawn_towns.iter().cloned()).collect();

    let mut walked = 0;
    for (method, path) in ducha_web::route_list() {
        let campaign_route = path.starts_with("/campaigns") || path.starts_with("/api/v1/campaigns");
        let derived = path.starts_with("/rectification") || path.contains("/evidence/");
        if !campaign_route && !derived {
            continue;
        }
        walked += 1;
        let mut answers = Vec::new();
        for o in &outsiders {
            let id = if path.starts_with("/rectification") {
                problem.as_str()
            } else if path.contains("/evidence/") {
                visit_photo.as_str()
            } else {
                "3"
            };
            let url = path
                .replace("{id}", id)
                .replace("{town}", &o.town)
                .replace("{household}", &o.household)
                .replace("{problem}", &problem);
            assert!(!url.contains('{'), "the walk does not know how to fill {path}");
            let b = &o.browser;
            let full = format!("{}{url}", app.base);
            let resp = match method.as_str() {
                "GET" => b.get(&url).await,
                "POST" if url.starts_with("/api/") => {
                    let body = serde_json::json!({
                        "household_id": o.household.parse::<i64>().unwrap(), "client_key": "outsider-visit-0001",
                        "visited_on": today.to_string(), "observations": [], "answers": [],
                    });
                    b.client.post(&full).header("X-CSRF-Token", &o.csrf).json(&body).send().await.unwrap()
                }
                "POST"
                    if ["/teams", "/sample", "/review", "/problems", "/visit"].iter().any(|s| url.ends_with(s))
                        || url.starts_with("/rectification/") =>
                {
                    let form = reqwest::multipart::Form::new()
                        .text("_csrf", o.csrf.clone())
                        .text("household_id", o.household.clone())
                        .text("client_key", "outsider-visit-0002")
                        .text("visited_on", today.to_string())
                        .text("seed", "1")
                        .text("name", "越权")
                        .text("category", "帮扶资金使用进度")
                        .text("severity", "警告")
                        .text("text", "越权")
                        .text("action", "submit")
                        .text("responsible_unit", "越权");
                    b.client.post(&full).multipart(form).send().await.unwrap()
                }
                "POST" => {
                    let fields = [
                        ("_csrf", o.csrf.as_str()),
                        ("decision", "confirm"),
                        ("result", "已整改"),
                        ("town", o.town.as_str()),
                        ("name", "越权"),
                        ("kind", "暗访"),
                        ("starts_on", "2017-01-01"),
                        ("ends_on", "2017-01-02"),
                        ("section", "越权"),
                        ("text", "越权"),
                    ];
                    b.client.post(&full).form(&fields).send().await.unwrap()
                }
                m => panic!("the walk does not know method {m} of {path}"),
            };
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            let normalised = o.normalise(&body);
            let secrets = if campaign_route { &campaign_secrets } else { &secrets };
            if let Some(s) = leaks(&normalised, secrets) {
                panic!("{method} {url} shows {} “{s}” of the campaign under way: {body}", o.name);
            }
            if path.contains("{id}") {
                assert_eq!(status, 404, "{method} {url} as {}: {body}", o.name);
            }
            answers.push((o.name, status, normalised));
        }
        // The two town offices: the very same answer, drawn or not.
        if campaign_route || path.contains("/evidence/") || path.contains("{id}") {
            assert_eq!(
                (answers[0].1, &answers[0].2),
                (answers[1].1, &answers[1].2),
                "{method} {path}: a drawn town and an undrawn one are told apart"
            );
        }
        for (name, status, _) in &answers[2..] {
            assert_eq!(*status, answers[0].1, "{method} {path}: {name} is answered unlike the town offices");
        }
    }
    assert!(walked >= 25, "walked {walked} routes");
    assert_eq!(fingerprint().await, before, "nothing was written");

    // The lists: the covert campaign is not there, the ended ones are.
    let drawn_office = &outsiders[0];
    let (_, list) = drawn_office.browser.get_text("/api/v1/campaigns").await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 1], "{list}");
    // The household the team visited: its page, help records and audit trail say nothing of it.
    for path in [
        format!("/households/{visited}"),
        format!("/api/v1/households/{visited}/help"),
        format!("/api/v1/households/{visited}/audit"),
    ] {
        let (status, body) = drawn_office.browser.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(leaks(&body, &secrets).is_none() && !body.contains("campaign_"), "{path} tells of the visit: {body}");
    }

    // An announced inspection under way is listed to the offices with its dates only.
    let cli = Actor::command_line("test");
    let input = ducha_storage::campaigns::CampaignInput {
        name: "本周专项督查".into(),
        kind: ducha_domain::campaigns::CampaignKind::Special,
        starts_on: today,
        ends_on: today + chrono::Days::new(1),
        focus: vec![],
        lead_units: "市扶贫办".into(),
        guided_by: String::new(),
        member_units: String::new(),
        weights: Default::default(),
    };
    let announced = app.db.scoped(&cli).campaigns().create(&input).await.unwrap();
    for o in &outsiders[..2] {
        let (_, list) = o.browser.get_text("/api/v1/campaigns").await;
        let rows: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
        let row = rows.iter().find(|r| r["id"] == announced).expect("the announced campaign is listed");
        assert_eq!((row["sealed"].as_bool(), row["towns"].is_null()), (Some(true), true), "{row}");
        let (_, page) = o.browser.get_text("/campaigns").await;
        assert!(page.contains("本周专项督查（进行中）") && !page.contains(&format!("/campaigns/{announced}\"")));
        assert_eq!(o.browser.get(&format!("/campaigns/{announced}")).await.status(), 404);
    }

    // The city office and the campaign's own team see it all.
    let city = app.login("city").await;
    let (status, sample) = city.get_text("/campaigns/3/sample").await;
    assert_eq!(status, 200);
    assert!(sample.contains(SEED) && drawn_towns.iter().all(|t| sample.contains(t.as_str())), "the city sees the draw");
    let (_, rect) = city.get_text(&format!("/rectification/{problem}")).await;
    assert!(rect.contains(FOUND));
    let team = app.login("inspector").await;
    let (status, sample) = team.get_text("/campaigns/3/sample").await;
    assert_eq!(status, 200);
    assert!(sample.contains(SEED) && sample.contains(&drawn_name), "the team sees its plan and seed");
    let (status, town) = team.get_text(&format!("/campaigns/3/towns/{drawn}")).await;
    assert_eq!(status, 200);
    assert!(town.contains(FOUND) && town.contains(PROBLEM_PHOTO));
    assert_eq!(team.get(&format!("/evidence/{visit_photo}")).await.status(), 200);
    let api: serde_json::Value = team.get("/api/v1/campaigns/3").await.json().await.unwrap();
    assert!(api["towns"].as_array().unwrap().iter().any(|t| t["code"] == drawn.as_str()));
    let (_, rects) = team.get_text("/rectification").await;
    assert!(rects.contains(FOUND), "the team follows what it found");
}
