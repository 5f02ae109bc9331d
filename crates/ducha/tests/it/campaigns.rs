//! Campaigns: the draw is the same for the same seed on SQLite and PostgreSQL, honours quotas and
//! exclusions, and changes with the seed; the demo's November campaign shows the seed's figures
//! on its page, in the API and on the command line; visits refuse bad input and a resubmitted
//! visit is recorded once; inspectors' access ends with the campaign.

use chrono::NaiveDate;
use ducha_domain::access::Actor;
use ducha_domain::campaigns::scoring::Weights;
use ducha_domain::campaigns::{CampaignKind, Quota, SamplePlan, Wanted};
use ducha_storage::campaigns::{self, CampaignInput, sample};
use ducha_storage::{Backend, Db};
use sea_orm::ConnectionTrait;

use crate::support::{TestApp, TestDb};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn campaign(db: &Db, name: &str, starts: &str) -> i64 {
    let input = CampaignInput {
        name: name.into(),
        kind: CampaignKind::Special,
        starts_on: day(starts),
        ends_on: day(starts) + chrono::Days::new(2),
        focus: vec!["扶贫责任落实".into()],
        lead_units: "市扶贫办".into(),
        guided_by: String::new(),
        member_units: String::new(),
        weights: Weights::default(),
    };
    campaigns::create(db, &Actor::command_line("test"), &input).await.unwrap()
}

fn plan(seed: u64, exclude_months: u32) -> SamplePlan {
    let q = |d: &str, wanted| Quota { district: d.into(), wanted, count: 2 };
    SamplePlan {
        seed,
        quotas: vec![
            q("440705", Wanted::Any),
            q("440781", Wanted::Town),
            q("440783", Wanted::Any),
            q("440785", Wanted::Town),
        ],
        revisit_from: None,
        revisit_per_district: 0,
        exclude_months,
        households_per_town: 4,
        weight_findings: true,
        chosen_towns: vec![],
        chosen_households: vec![],
    }
}

/// The stored sample as (town, household numbers), in order.
async fn stored(db: &Db, id: i64) -> Vec<(String, Vec<String>)> {
    let all = ducha_domain::campaigns::CampaignAccess { within: None, fieldwork: false, plans: false };
    sample::stored(db, db.conn(), id, &all)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.households.into_iter().map(|h| h.number).collect()))
        .collect()
}

async fn demo_db(backend: Backend) -> (TestDb, Db) {
    let t = TestDb::new(backend).await;
    let db = t.open().await;
    let config = ducha_domain::demo::DemoConfig { households: 3_000, ..Default::default() };
    ducha_storage::demo::load(&db, &Actor::system(), config, |_, _| {}).await.unwrap();
    ducha_storage::checks::run(&db, &Actor::system(), &ducha_domain::access::Scope::All, |_| {}).await.unwrap();
    (t, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_draws_the_same_sample_on_both_databases() {
    let ((_a, sqlite), (_b, pg)) = tokio::join!(demo_db(Backend::Sqlite), demo_db(Backend::Postgres));
    let cli = Actor::command_line("test");
    let mut samples = Vec::new();
    for db in [&sqlite, &pg] {
        let id = campaign(db, "十一月督查", "2017-11-06").await;
        sample::draw(db, &cli, id, &plan(42, 6)).await.unwrap();
        samples.push(stored(db, id).await);
    }
    assert_eq!(samples[0], samples[1], "SQLite and PostgreSQL drew the same towns and households");
    let s = &samples[0];
    // Quotas: two towns in each of the four districts, four households in each town.
    assert_eq!(s.len(), 8);
    for d in ["440705", "440781", "440783", "440785"] {
        assert_eq!(s.iter().filter(|(t, _)| t.starts_with(d)).count(), 2, "{d}");
    }
    assert!(s.iter().all(|(_, h)| h.len() == 4));
    // 台山 and 恩平 asked for towns (镇), not streets: codes 100–199 or townships.
    for (t, _) in s.iter().filter(|(t, _)| t.starts_with("440781") || t.starts_with("440785")) {
        assert!(t[6..].parse::<u32>().unwrap() >= 100, "{t} is a town");
    }

    // Another seed gives another sample; the same seed again gives the same.
    let c = campaigns::get(&sqlite, sqlite.conn(), 1).await.unwrap();
    let again = sample::preview(&sqlite, sqlite.conn(), &c, &plan(42, 6)).await.unwrap();
    assert_eq!(
        again.towns.iter().map(|t| t.code.clone()).collect::<Vec<_>>(),
        s.iter().map(|t| t.0.clone()).collect::<Vec<_>>()
    );
    let other = sample::preview(&sqlite, sqlite.conn(), &c, &plan(43, 6)).await.unwrap();
    assert_ne!(other.towns.iter().map(|t| &t.code).collect::<Vec<_>>(), s.iter().map(|t| &t.0).collect::<Vec<_>>());

    // A campaign a month later excludes the towns inspected within six months.
    let later = campaign(&sqlite, "十二月督查", "2017-12-04").await;
    sample::draw(&sqlite, &cli, later, &plan(42, 6)).await.unwrap();
    let second = stored(&sqlite, later).await;
    for (t, _) in &second {
        assert!(!s.iter().any(|(u, _)| u == t), "{t} was inspected in November and is excluded");
    }
    let steps = sample::steps(&sqlite, later).await.unwrap();
    assert!(steps.iter().any(|st| st.excluded.iter().any(|(_, why)| why.contains("近期已督查（十一月督查"))));

    // A sample that cannot be drawn says why and stores nothing.
    let mut short = plan(1, 0);
    short.quotas = vec![Quota { district: "440703".into(), wanted: Wanted::Street, count: 50 }];
    let err = sample::draw(&sqlite, &cli, later, &short).await.unwrap_err().to_string();
    assert!(err.contains("蓬江区可抽取的街道只有"), "{err}");
    let mut few = plan(1, 0);
    few.households_per_town = 3;
    let err = sample::draw(&sqlite, &cli, later, &few).await.unwrap_err().to_string();
    assert_eq!(err, "每个镇(街)至少走访 4 户");
    assert_eq!(stored(&sqlite, later).await, second, "a refused draw keeps the sample");
}

async fn count(db: &Db, sql: &str) -> i64 {
    let r = db.conn().query_one_raw(sea_orm::Statement::from_string(db.conn().get_database_backend(), sql)).await;
    r.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap()
}

/// The text of the element with this id on a page.
fn by_id(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} on the page"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find("</").unwrap();
    rest[open..open + close].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_november_campaign_shows_the_seeds_figures() {
    let app = TestApp::spawn_demo_campaigns().await;
    let city = app.login("city").await;
    let (status, html) = city.get_text("/campaigns/2").await;
    assert_eq!(status, 200);
    assert!(html.contains("11月6日-8日"));
    assert_eq!(by_id(&html, "team-count"), "2");
    assert_eq!(by_id(&html, "towns-total"), "19");
    assert_eq!(by_id(&html, "towns-fresh"), "12");
    assert_eq!(by_id(&html, "towns-revisit"), "7");
    assert!(by_id(&html, "min-households").parse::<u32>().unwrap() >= 4);
    assert_eq!(by_id(&html, "visited"), by_id(&html, "households"));
    assert_eq!(by_id(&html, "verdict-rectified"), "环市街道、江南街道、海宴镇、宅梧镇、那吉镇");
    assert_eq!(by_id(&html, "verdict-partly"), "三江镇、苍城镇");
    assert_eq!(by_id(&html, "rating-outstanding"), "台山市、鹤山市、恩平市");
    assert_eq!(by_id(&html, "rating-average"), "蓬江区、江海区、新会区、开平市");
    for category in
        ["镇（街）扶贫工作平台建设", "责任落实", "扶贫数据信息不够精准", "帮扶措施不多或落实不到位", "帮扶资金使用进度"]
    {
        assert!(html.contains(category), "{category}");
    }

    // The API says the same.
    let api: serde_json::Value = city.get("/api/v1/campaigns/2").await.json().await.unwrap();
    assert_eq!(api["towns"].as_array().unwrap().len(), 19);
    assert_eq!(api["towns_revisit"], 7);
    let outstanding: Vec<&str> = api["scores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rating"] == "outstanding")
        .map(|s| s["facts"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(outstanding, ["台山市", "鹤山市", "恩平市"]);

    // The page that explains the draw names the seed, and the command line draws the same again.
    let (_, explain) = city.get_text("/campaigns/2/sample").await;
    assert!(explain.contains("20171106"), "the seed is printed");
    assert!(explain.contains("近期已督查"), "exclusions are explained");
    let run = |args: Vec<String>| {
        let url = app.db_url().to_string();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ducha"))
                .args(&args)
                .arg("--db")
                .arg(url)
                .env_remove("DUCHA_DATABASE_URL")
                .output()
                .await
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let list = run(vec!["campaign".into(), "list".into()]).await;
    assert!(list.contains("2017年脱贫攻坚专项督查") && list.contains("2017-11-06 至 2017-11-08"), "{list}");
    let show = run(vec!["campaign".into(), "show".into(), "2".into()]).await;
    assert!(show.contains("抽查镇(街) 19 个：新抽查 12 个、回头看 7 个"), "{show}");
    assert!(show.contains("表现突出：台山市、鹤山市、恩平市"), "{show}");
    let stored_sample = run(vec!["campaign".into(), "sample".into(), "2".into()]).await;
    let redrawn = run(vec!["campaign".into(), "sample".into(), "2".into(), "--seed".into(), "20171106".into()]).await;
    let towns = |s: &str| {
        s.lines()
            .filter_map(|l| l.split_whitespace().next().filter(|w| w.len() == 9))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let mut a = towns(&stored_sample);
    let mut b = towns(&redrawn);
    a.sort();
    b.sort();
    assert_eq!(a.len(), 19);
    assert_eq!(a, b, "the same seed draws the same towns");

    // An inspector reaches only a campaign under way, and only their team's districts.
    let inspector = app.login("inspector").await;
    let (status, body) = inspector.get_text("/campaigns/2").await;
    assert_eq!(status, 403);
    assert!(body.contains("已到期"), "{body}");
    let (status, _) = inspector.get_text("/campaigns/3").await;
    assert_eq!(status, 200);
    let (_, households) = inspector.get_text("/households").await;
    assert!(!households.contains("/households/1\""), "an inspector has no standing access to the registry");

    // Visits: outside the sample, out of range, and twice.
    let sampled: Vec<(i64, String)> = {
        let rows = app
            .db
            .conn()
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.conn().get_database_backend(),
                "SELECT household_id, town_code FROM campaign_households WHERE campaign_id = 3 AND town_code LIKE '440705%' ORDER BY household_id",
            ))
            .await
            .unwrap();
        rows.iter().map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap())).collect()
    };
    let (hid, town) = sampled[0].clone();
    let page = format!("/campaigns/3/households/{hid}");
    let (status, html) = inspector.get_text(&page).await;
    assert_eq!(status, 200, "{html}");
    let csrf = crate::support::csrf_of(&html);
    let scale_q: i64 = count(&app.db, "SELECT id FROM questions WHERE kind = 'scale' ORDER BY position LIMIT 1").await;
    let send = |household: i64, key: &str, scale: &str| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("client_key", key.to_string())
            .text("household_id", household.to_string())
            .text("visited_on", chrono::Local::now().date_naive().to_string())
            .text("match_size", "否")
            .text("obs_size", "实际 7 人")
            .text(format!("q{scale_q}"), scale.to_string());
        inspector
            .client
            .post(format!("{}/api/v1/campaigns/3/visits", app.base))
            .header("X-CSRF-Token", csrf.clone())
            .multipart(form)
            .send()
    };
    let visits = "SELECT COUNT(*) FROM campaign_visits WHERE campaign_id = 3";
    let outside = count(&app.db, "SELECT MIN(id) FROM households WHERE id NOT IN (SELECT household_id FROM campaign_households WHERE campaign_id = 3)").await;
    let r = send(outside, "key-outside-0001", "5").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("不在本次督查的抽查名单中"));
    let r = send(hid, "key-range-000001", "9").await.unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], format!("q{scale_q}"));
    assert!(body["fields"][0]["message"].as_str().unwrap().contains("应填 1 至 5 的整数"));
    assert_eq!(count(&app.db, visits).await, 0, "refused visits write nothing");
    let r: serde_json::Value = send(hid, "key-good-0000001", "4").await.unwrap().json().await.unwrap();
    assert_eq!(r["outcome"], "recorded");
    assert_eq!(r["problems"].as_array().unwrap().len(), 1, "the household size differs from the registry");
    let problems = count(&app.db, "SELECT COUNT(*) FROM campaign_problems WHERE campaign_id = 3").await;
    let r: serde_json::Value = send(hid, "key-good-0000001", "4").await.unwrap().json().await.unwrap();
    assert_eq!(r["outcome"], "already_received");
    assert_eq!(count(&app.db, visits).await, 1);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM campaign_problems WHERE campaign_id = 3").await, problems);
    let r = send(hid, "key-other-000001", "4").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("不能重复登记"));
    // The town page lists the visit and its problem.
    let (_, town_page) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    assert!(town_page.contains("家庭人口，系统登记为"), "the difference became a problem of the town");
}
