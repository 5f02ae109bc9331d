//! Campaigns: the draw is the same for the same seed on SQLite and PostgreSQL, honours quotas and
//! exclusions, and changes with the seed; the demo's November campaign shows the seed's figures
//! on its page, in the API and on the command line; visits refuse bad input and a resubmitted
//! visit is recorded once; inspectors' access ends with the campaign.

use chrono::NaiveDate;
use ducha_domain::access::Actor;
use ducha_domain::campaigns::scoring::Weights;
use ducha_domain::campaigns::{CampaignKind, Quota, SamplePlan, Wanted};
use ducha_storage::campaigns::CampaignInput;
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
    db.scoped(&Actor::command_line("test")).campaigns().create(&input).await.unwrap()
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
    let opened = db.scoped(&Actor::command_line("test")).campaigns().open(id).await.unwrap();
    opened
        .sample()
        .stored()
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
    db.scoped(&Actor::system()).demo().load(config, |_, _| {}).await.unwrap();
    db.scoped(&Actor::system()).checks().run(&ducha_domain::access::Scope::All, |_| {}).await.unwrap();
    (t, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_draws_the_same_sample_on_both_databases() {
    let ((_a, sqlite), (_b, pg)) = tokio::join!(demo_db(Backend::Sqlite), demo_db(Backend::Postgres));
    let cli = Actor::command_line("test");
    let mut samples = Vec::new();
    for db in [&sqlite, &pg] {
        let id = campaign(db, "十一月督查", "2017-11-06").await;
        db.scoped(&cli).campaigns().draw_sample(id, &plan(42, 6)).await.unwrap();
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
    let city = sqlite.scoped(&cli);
    let c = city.campaigns().open(1).await.unwrap();
    let again = c.sample().preview(&plan(42, 6)).await.unwrap();
    assert_eq!(
        again.towns.iter().map(|t| t.code.clone()).collect::<Vec<_>>(),
        s.iter().map(|t| t.0.clone()).collect::<Vec<_>>()
    );
    let other = c.sample().preview(&plan(43, 6)).await.unwrap();
    assert_ne!(other.towns.iter().map(|t| &t.code).collect::<Vec<_>>(), s.iter().map(|t| &t.0).collect::<Vec<_>>());

    // A campaign a month later excludes the towns inspected within six months.
    let later = campaign(&sqlite, "十二月督查", "2017-12-04").await;
    city.campaigns().draw_sample(later, &plan(42, 6)).await.unwrap();
    let second = stored(&sqlite, later).await;
    for (t, _) in &second {
        assert!(!s.iter().any(|(u, _)| u == t), "{t} was inspected in November and is excluded");
    }
    let steps = city.campaigns().open(later).await.unwrap().sample().steps().await.unwrap();
    assert!(steps.iter().any(|st| st.excluded.iter().any(|(_, why)| why.contains("近期已督查（十一月督查"))));

    // A sample that cannot be drawn says why and stores nothing.
    let mut short = plan(1, 0);
    short.quotas = vec![Quota { district: "440703".into(), wanted: Wanted::Street, count: 50 }];
    let err = city.campaigns().draw_sample(later, &short).await.unwrap_err().to_string();
    assert!(err.contains("蓬江区可抽取的街道只有"), "{err}");
    let mut few = plan(1, 0);
    few.households_per_town = 3;
    let err = city.campaigns().draw_sample(later, &few).await.unwrap_err().to_string();
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
            .text("visited_on", ducha_storage::beijing_today().to_string())
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
    let outside = count(&app.db, "SELECT MIN(id) FROM households WHERE district_code = '440705' AND id NOT IN (SELECT household_id FROM campaign_households WHERE campaign_id = 3)").await;
    let r = send(outside, "key-outside-0001", "5").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("不在本次督查的抽查名单中"));
    // Outside the team's districts, sampled or not, a household is not found: the answer tells
    // nothing of another team's sample.
    let other_team = |sampled: bool| {
        format!(
            "SELECT MIN(id) FROM households WHERE district_code = '440781' AND id {} (SELECT household_id FROM campaign_households WHERE campaign_id = 3)",
            if sampled { "IN" } else { "NOT IN" }
        )
    };
    for (sampled, key) in [(true, "key-other-team-01"), (false, "key-other-team-02")] {
        let r = send(count(&app.db, &other_team(sampled)).await, key, "5").await.unwrap();
        assert_eq!(r.status(), 404, "sampled: {sampled}");
    }
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
    // A script with the inspector's token sends a visit as JSON.
    let cli = Actor::command_line("test");
    let token = app.db.scoped(&cli).accounts().issue_token("inspector", "走访同步").await.unwrap();
    let body = serde_json::json!({
        "household_id": sampled[1].0, "client_key": "script-visit-0001",
        "visited_on": ducha_storage::beijing_today().to_string(),
        "observations": [{ "key": "cadre", "matches": false, "observed": "帮扶责任人已调离" }],
        "answers": [{ "question_id": scale_q, "values": ["5"] }],
    });
    let r: serde_json::Value = app
        .client
        .post(format!("{}/api/v1/campaigns/3/visits", app.base))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["outcome"], "recorded", "{r}");
    assert_eq!(count(&app.db, visits).await, 2);
    let r = send(hid, "key-other-000001", "4").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("不能重复登记"));
    // The town page lists the visit and its problem.
    let (_, town_page) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    assert!(town_page.contains("家庭人口，系统登记为"), "the difference became a problem of the town");

    // Audit findings of the sampled towns come in as proposed problems, to confirm or dismiss.
    let (_, problems_page) = inspector.get_text("/campaigns/3/problems").await;
    let csrf = crate::support::csrf_of(&problems_page);
    let r = inspector.post_form("/campaigns/3/problems/propose", &[("_csrf", csrf.as_str())]).await;
    assert!(r.status().is_success(), "{}", r.status());
    let proposed =
        count(&app.db, "SELECT COUNT(*) FROM campaign_problems WHERE campaign_id = 3 AND status = 'proposed'").await;
    let in_sample = count(
        &app.db,
        "SELECT COUNT(*) FROM check_findings f WHERE f.status = 'open' AND f.town_code IN \
         (SELECT t.town_code FROM campaign_towns t JOIN campaign_team_districts d ON d.campaign_id = t.campaign_id \
          AND d.district_code = t.district_code JOIN campaign_teams tm ON tm.id = d.team_id WHERE t.campaign_id = 3 AND tm.name = '第一督查组')",
    )
    .await;
    assert!(
        proposed > 0 && proposed == in_sample,
        "every open finding of the team's sampled towns is proposed once: {proposed} of {in_sample}"
    );
    inspector.post_form("/campaigns/3/problems/propose", &[("_csrf", csrf.as_str())]).await;
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM campaign_problems WHERE campaign_id = 3 AND status = 'proposed'").await,
        proposed,
        "proposed once"
    );
    let first =
        count(&app.db, "SELECT MIN(id) FROM campaign_problems WHERE campaign_id = 3 AND status = 'proposed'").await;
    let second =
        count(&app.db, "SELECT MAX(id) FROM campaign_problems WHERE campaign_id = 3 AND status = 'proposed'").await;
    let decide = |id: i64, decision: &'static str, reason: &'static str| {
        let path = format!("/campaigns/3/problems/{id}/decide");
        let csrf = csrf.clone();
        let b = &inspector;
        async move { b.post_form(&path, &[("_csrf", csrf.as_str()), ("decision", decision), ("reason", reason)]).await }
    };
    let r = decide(first, "dismiss", "").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    // The decision again, its reason asked for beside the field, the choice kept.
    assert!(page.contains(r#"id="reason-error""#) && page.contains("排除一个问题请写明理由"), "{page}");
    assert!(page.contains(r#"name="decision" value="dismiss""#) && !page.contains("reason："), "{page}");
    decide(first, "dismiss", "入户核实，信息无误").await;
    decide(second, "confirm", "").await;
    let status_of = |id: i64| {
        format!(
            "SELECT CASE status WHEN 'dismissed' THEN 1 WHEN 'confirmed' THEN 2 ELSE 0 END FROM campaign_problems WHERE id = {id}"
        )
    };
    assert_eq!(count(&app.db, &status_of(first)).await, 1);
    assert_eq!(count(&app.db, &status_of(second)).await, 2);

    // Document review through the page's form: a failure needs its note, then becomes a problem.
    let item = count(&app.db, "SELECT id FROM checklist_items WHERE position = 6").await;
    let review = |note: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text(format!("result_{item}"), "不符合")
            .text(format!("note_{item}"), note);
        inspector.client.post(format!("{}/campaigns/3/towns/{town}/review", app.base)).multipart(form).send()
    };
    let r = review("").await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM campaign_reviews WHERE campaign_id = 3").await, 0);
    review("帮扶记录本未按省格式设置").await.unwrap();
    let (_, town_page) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    assert!(town_page.contains("帮扶记录本未按省格式设置（查阅资料“贫困户帮扶记录本按省、市要求设置并填写”不符合）"));

    // The city office changes the scoring model: a wrong number is refused at its field.
    let (_, page) = city.get_text("/campaigns/2").await;
    let csrf = crate::support::csrf_of(&page);
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("per_error", "6"),
        ("per_warning", "3"),
        ("per_notice", "1"),
        ("checklist", "40"),
    ];
    fields.extend([("satisfaction", "0.5"), ("satisfaction_par", "90"), ("average_min", "60")]);
    let mut bad = fields.clone();
    bad.push(("outstanding_min", "九十"));
    let r = city.post_form("/campaigns/2/weights", &bad).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("“表现突出”分数线应为数字") && page.contains(r#"id="outstanding_min-error""#), "{page}");
    assert!(page.contains(r#"value="九十""#) && page.contains(r#"value="0.5""#), "the weights as typed: {page}");
    let mut strict = fields.clone();
    strict.push(("outstanding_min", "99.5"));
    city.post_form("/campaigns/2/weights", &strict).await;
    let (_, html) = city.get_text("/campaigns/2").await;
    assert_eq!(by_id(&html, "rating-outstanding"), "—", "no district reaches 99.5");
    let trail = count(&app.db, "SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND action = 'weights'").await;
    assert_eq!(trail, 1, "the change is in the audit trail");
    // The city office extends the questionnaire and the checklist; a choice question with one
    // option is refused at its field; what it adds appears on the forms.
    let (_, page) = city.get_text("/campaigns/templates").await;
    let csrf = crate::support::csrf_of(&page);
    let r = city
        .post_form(
            "/campaigns/templates/questions",
            &[("_csrf", csrf.as_str()), ("kind", "单选"), ("text", "是否知道帮扶责任人电话？"), ("options", "知道")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("至少要有两个选项"));
    let r = city
        .post_form(
            "/campaigns/templates/questions",
            &[
                ("_csrf", csrf.as_str()),
                ("kind", "量表"),
                ("text", "您对住房安全保障的满意程度"),
                ("topic", "住房安全"),
                ("satisfied", "4"),
            ],
        )
        .await;
    assert!(r.status().is_success());
    city.post_form(
        "/campaigns/templates/items",
        &[("_csrf", csrf.as_str()), ("section", "档案资料"), ("text", "贫困户档案一户一档")],
    )
    .await;
    let unvisited = count(
        &app.db,
        "SELECT MAX(household_id) FROM campaign_households WHERE campaign_id = 3 AND town_code LIKE '440705%'",
    )
    .await;
    let (_, form) = inspector.get_text(&format!("/campaigns/3/households/{unvisited}")).await;
    assert!(form.contains("您对住房安全保障的满意程度"), "the new question is on the visit form");
    let (_, town_form) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    assert!(town_form.contains("贫困户档案一户一档"), "the new item is on the review form");
    // A problem the team enters by hand, with a photo as evidence.
    let (_, town_page) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    let csrf = crate::support::csrf_of(&town_page);
    let photo = reqwest::multipart::Part::bytes(crate::help::PNG.to_vec()).file_name("现场照片.png");
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("category", "帮扶措施不多或落实不到位")
        .text("severity", "警告")
        .text("text", "村内光伏项目未带动贫困户增收")
        .text("responsible_unit", "镇扶贫办")
        .part("files", photo);
    let r = inspector
        .client
        .post(format!("{}/campaigns/3/towns/{town}/problems", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (_, town_page) = inspector.get_text(&format!("/campaigns/3/towns/{town}")).await;
    assert!(town_page.contains("村内光伏项目未带动贫困户增收") && town_page.contains("现场照片.png"));
    // The inspector opens the photo: a campaign's file in their team's district, today.
    let href = town_page.split("href=\"/evidence/").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    let r = inspector.get(&format!("/evidence/{href}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), crate::help::PNG.len());

    // A district office reads its own part of a campaign, and nothing of another district's.
    let pengjiang = app.login("pengjiang").await;
    let (status, html) = pengjiang.get_text("/campaigns/2").await;
    assert_eq!(status, 200);
    assert!(html.contains("环市街道") && !html.contains("三江镇"), "only 蓬江's towns");
    let (status, _) = pengjiang.get_text("/campaigns/2/towns/440705108").await;
    assert_eq!(status, 404);
}

/// Run a converter (soffice, pdftoppm) and insist that it worked: these tools are installed by
/// scripts/test.sh, and a missing one is a failure, not a skip.
fn run_tool(program: &str, package: &str, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} ({package}) is needed by this test: {e}"));
    assert!(out.status.success(), "{program} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// LibreOffice with a profile of its own (two at once would wait on one profile).
fn soffice(file: &std::path::Path, to: &str, dir: &std::path::Path) {
    let profile = format!("-env:UserInstallation=file://{}", dir.join("lo-profile").display());
    let out = dir.to_str().unwrap();
    run_tool(
        "soffice",
        "libreoffice-writer-nogui",
        &[&profile, "--headless", "--convert-to", to, "--outdir", out, file.to_str().unwrap()],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_november_circular_opens_in_libreoffice_with_the_seeds_figures() {
    let app = TestApp::spawn_demo_campaigns().await;
    let city = app.login("city").await;
    let dir = tempfile::tempdir().unwrap();
    let get = |path: &'static str| {
        let b = &city;
        async move {
            let r = b.get(path).await;
            assert_eq!(r.status(), 200, "{path}");
            r.bytes().await.unwrap().to_vec()
        }
    };
    let docx = dir.path().join("circular.docx");
    std::fs::write(&docx, get("/campaigns/2/circular.docx").await).unwrap();
    soffice(&docx, "txt:Text", dir.path());
    let text = std::fs::read_to_string(dir.path().join("circular.txt")).unwrap();
    for expected in [
        "江门市扶贫开发领导小组文件",
        "江扶字〔2017〕14号",
        "江门市2017年脱贫攻坚专项督查工作情况通报",
        "11月6日-8日",
        "组成 2 个督查组",
        "共抽查了 19 个镇（街）",
        "从蓬江区、江海区各抽查 1 个街道，从新会区、台山市、开平市、鹤山市、恩平市各抽查 2 个镇（街）",
        "从回头看抽查 7 个镇（街）来看，环市街道、江南街道、海宴镇、宅梧镇、那吉镇对上次督查发现的问题都已落实了整改",
        "三江镇、苍城镇对上次督查发现的问题虽有行动，但有的地方整改不到位",
        "总体表现突出的有台山市、鹤山市、恩平市",
        "总体表现一般的有蓬江区、江海区、新会区、开平市",
        "（一）镇（街）扶贫工作平台建设仍须加强",
        "（二）镇（街）扶贫办责任压得不实",
        "（三）扶贫数据信息不够精准",
        "（四）帮扶措施不多或落实不到位",
        "（五）帮扶资金使用进度缓慢",
        "三、下一步工作",
        "附件：2017年脱贫攻坚专项督查问题清单",
        "2017年12月3日",
        "序号",
        "整改时限",
        "派驻干部只停留在文件上，没有实质性参与扶贫工作",
        "2018年1月2日",
    ] {
        assert!(text.contains(expected), "the circular says {expected}");
    }
    // The same circular as PDF (typeset by ducha) and as LibreOffice prints the docx: page images
    // for a person to look at.
    let pdf = dir.path().join("ducha.pdf");
    std::fs::write(&pdf, get("/campaigns/2/circular.pdf").await).unwrap();
    soffice(&docx, "pdf", dir.path());
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for (file, prefix) in [(pdf, "60-circular-pdf"), (dir.path().join("circular.pdf"), "61-circular-docx")] {
        let prefix = artifacts.join(prefix);
        run_tool("pdftoppm", "poppler-utils", &["-r", "60", "-png", file.to_str().unwrap(), prefix.to_str().unwrap()]);
    }
    assert!(artifacts.join("60-circular-pdf-01.png").exists());
    // The problem list: one row per confirmed problem.
    let xlsx = get("/campaigns/2/problems.xlsx").await;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range("问题清单").unwrap();
    let confirmed =
        count(&app.db, "SELECT COUNT(*) FROM campaign_problems WHERE campaign_id = 2 AND status = 'confirmed'").await;
    let numbered = sheet.rows().filter(|r| r.first().is_some_and(|c| c.to_string().parse::<i64>().is_ok())).count();
    assert_eq!(numbered as i64, confirmed);
    // A campaign with nothing confirmed yet still gets its circular, saying so.
    let empty = dir.path().join("empty.docx");
    std::fs::write(&empty, get("/campaigns/3/circular.docx").await).unwrap();
    soffice(&empty, "txt:Text", dir.path());
    let text = std::fs::read_to_string(dir.path().join("empty.txt")).unwrap();
    assert!(text.contains("本次督查尚未确认问题"), "{text}");
    assert!(get("/campaigns/3/circular.pdf").await.starts_with(b"%PDF"));
    // And in the browser, as HTML.
    let (_, html) = city.get_text("/campaigns/2/circular").await;
    assert!(html.contains("江扶字〔2017〕14号") && html.contains("三江镇、苍城镇"));
}

/// A refused form comes back as itself (issue 17): each error beside its field in Chinese, what
/// was typed kept, never a page of raw field keys; and an error page offers the way back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_forms_come_back_with_errors_beside_their_fields() {
    let app = TestApp::spawn_demo_campaigns().await;
    // A leader is refused the form itself, not only after filling it in.
    let (status, page) = app.login("leader").await.get_text("/campaigns/new").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains(r#"name="lead_units""#));
    let city = app.login("city").await;
    let (_, page) = city.get_text("/campaigns/new").await;
    let csrf = crate::support::csrf_of(&page);
    assert!(page.contains(r#"name="lead_units""#) && page.contains("市扶贫办、市民政局"), "a fresh form, filled");
    let r = city
        .post_form(
            "/campaigns/new",
            &[
                ("_csrf", csrf.as_str()),
                ("name", ""),
                ("kind", "专项督查"),
                ("starts_on", "2017-12-20"),
                ("ends_on", "2017-12-18"),
                ("focus", "资金使用安全与进度"),
                ("lead_units", "市扶贫办（测试）"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    for field in ["name", "ends_on"] {
        assert!(page.contains(&format!(r#"id="{field}-error""#)), "{field}'s error beside it: {page}");
        assert!(!page.contains(&format!("{field}：")), "no raw field key: {page}");
    }
    assert!(page.contains("市扶贫办（测试）") && page.contains("2017-12-20"), "what was typed is kept: {page}");
    assert!(page.contains(r#"href="/campaigns""#), "a way back: {page}");
    let before = count(&app.db, "SELECT COUNT(*) FROM campaigns").await;

    // A rectification submitted with neither text nor evidence.
    let problem = count(
        &app.db,
        "SELECT MIN(id) FROM campaign_problems WHERE campaign_id = 2 AND town_code = '440781111' AND status = 'confirmed'",
    )
    .await;
    let town = app.login("haiyan").await;
    let path = format!("/rectification/{problem}");
    let (_, page) = town.get_text(&path).await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", crate::support::csrf_of(&page))
        .text("action", "submit")
        .text("text", "   ");
    let r = town.client.post(format!("{}{path}", town.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="text-error""#) && page.contains("请写明整改情况"), "{page}");
    assert!(page.contains("如有附件，请重新选择") && !page.contains("description："), "{page}");
    assert!(page.contains(r#"enctype="multipart/form-data""#) && page.contains(r#"name="action" value="submit""#));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM campaigns").await, before, "nothing saved");

    // A finding exempted without a reason; a town office's staff member with a date that is none.
    let finding = count(&app.db, "SELECT MIN(id) FROM check_findings WHERE status = 'open'").await;
    let (_, page) = city.get_text("/checks/findings").await;
    let r = city
        .post_form(
            &format!("/checks/findings/{finding}/exempt"),
            &[("_csrf", crate::support::csrf_of(&page).as_str()), ("reason", " "), ("back", "/checks/findings")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"id="reason-error""#) && page.contains(r#"name="back" value="/checks/findings""#),
        "{page}"
    );
    let (_, page) = town.get_text("/platform/offices/440781111").await;
    let r = town
        .post_form(
            "/platform/offices/440781111/staff",
            &[
                ("_csrf", crate::support::csrf_of(&page).as_str()),
                ("name", "李明"),
                ("position", "扶贫专干"),
                ("started_on", "2017年13月"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="started_on-error""#) && page.contains(r#"value="李明""#), "{page}");
    assert!(page.contains(r#"href="/platform/offices/440781111""#), "a way back to the office: {page}");

    // A team whose member is no inspector; a problem for a household the town does not have.
    let (_, page) = city.get_text("/campaigns/3").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", crate::support::csrf_of(&page))
        .text("name", "第九督查组")
        .text("members", "city")
        .text("districts", "440703");
    let r = city.client.post(format!("{}/campaigns/3/teams", city.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="members-error""#) && page.contains(r#"value="第九督查组""#), "{page}");
    assert!(page.contains(r#"value="440703" style="width:auto" checked"#), "the district stays chosen: {page}");
    let town_code =
        count(&app.db, "SELECT MIN(CAST(town_code AS BIGINT)) FROM campaign_towns WHERE campaign_id = 3").await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", crate::support::csrf_of(&page))
        .text("category", "帮扶措施不多或落实不到位")
        .text("severity", "警告")
        .text("household_number", "000")
        .text("text", "帮扶措施与致贫原因不符");
    let r = city
        .client
        .post(format!("{}/campaigns/3/towns/{town_code}/problems", city.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="household_number-error""#) && page.contains("帮扶措施与致贫原因不符"), "{page}");

    // The circular's settings with a date that does not exist.
    let (_, page) = city.get_text("/campaigns/3/circular").await;
    let r = city
        .post_form(
            "/campaigns/3/circular",
            &[
                ("_csrf", crate::support::csrf_of(&page).as_str()),
                ("number", "江扶督〔2017〕9号"),
                ("title", "关于督查情况的通报（测试）"),
                ("issued_on", "2017-02-30"),
                ("deadline_days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"id="issued_on-error""#) && page.contains("关于督查情况的通报（测试）"), "{page}");

    // Any other refusal is a page that leads back to where the user was.
    let r = town
        .client
        .post(format!("{}/campaigns/new", town.base))
        .header("Referer", format!("{}/campaigns", town.base))
        .form(&[("_csrf", crate::support::csrf_of(&page).as_str()), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"<a href="/campaigns">返回上一页</a>"#), "{page}");
}
