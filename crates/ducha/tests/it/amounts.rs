//! Every amount a form or the API takes is bounded by what it measures, and refused at its field
//! with a Chinese message naming the field and the limit, writing nothing: help plans and
//! measures, a year's finances (1000 万元), project budgets, payments and transfers (10 亿元),
//! allocations (100 亿元); a project names at most 5000 households. A measure's project must be
//! one in the user's own project library.

use ducha_domain::access::Actor;
use ducha_storage::Backend;
use serde_json::{Value, json};

use crate::support::{TestApp, csrf_of, sees};

both_backends!(amounts_are_bounded_and_a_measure_names_a_real_project);

async fn call(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = app.client.post(format!("{}{path}", app.base)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The message refusing `field`.
fn refusal(body: &Value, field: &str) -> String {
    body["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no refusal at {field}: {body}"))
        .to_string()
}

async fn amounts_are_bounded_and_a_measure_names_a_real_project(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 2_000).await;
    let system = Actor::system();
    let haiyan = app.db.scoped(&system).accounts().issue_token("haiyan", "t").await.unwrap();
    let taishan = app.db.scoped(&system).accounts().issue_token("taishan", "t").await.unwrap();
    let scope = |code: &str| ducha_domain::access::Scope::Region(ducha_domain::RegionCode::parse(code).unwrap());
    let household = app
        .db
        .scoped(&sees(&scope("440781111")))
        .registry()
        .list(&Default::default(), None, None, 1)
        .await
        .unwrap()
        .rows[0]
        .id;
    let trail = || async { app.db.system().audit().count().await };
    let before = trail().await.unwrap();

    // A plan's target and a measure's amount: a household's figure, at most 1000 万元.
    let (status, body) = call(
        &app,
        &haiyan,
        &format!("/api/v1/households/{household}/plans"),
        json!({ "year": "2017", "target_income": "100000000", "categories": ["industry"] }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "target_income"), "目标人均纯收入不能超过 1000 万元，填的是“100000000”");
    let measure = |amount: &str, project: &str| {
        json!({ "delivered_on": "2017-10-01", "category": "industry", "description": "发放鸡苗",
                "amount": amount, "income_generating": "是", "project_id": project })
    };
    let path = format!("/api/v1/households/{household}/measures");
    let (status, body) = call(&app, &haiyan, &path, measure("12345678901234", "")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "amount"), "帮扶金额不能超过 1000 万元，填的是“12345678901234”");
    // The same through the page's form.
    let b = app.login("haiyan").await;
    let (_, page) = b.get_text(&format!("/households/{household}/measures/new")).await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf_of(&page))
        .text("delivered_on", "2017-10-01")
        .text("category", "industry")
        .text("description", "发放鸡苗")
        .text("amount", "99999999999")
        .text("income_generating", "是");
    let r = b
        .client
        .post(format!("{}/households/{household}/measures/new", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("帮扶金额不能超过 1000 万元"));

    // A measure's project: one that does not exist, and one of another district, are refused alike.
    let all = app.db.system().funds().projects().list().await.unwrap();
    let elsewhere = all.iter().find(|p| !p.place_code.starts_with("440781111")).expect("a project elsewhere").id;
    for project in ["99999999".to_string(), elsewhere.to_string()] {
        let (status, body) = call(&app, &haiyan, &path, measure("300", &project)).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            refusal(&body, "project_id"),
            format!("项目编号 {project} 不存在或不在您的辖区内：请填写项目库中的项目编号")
        );
    }
    // Funds: a year's income, a project's budget, its households, an allocation.
    let (status, body) = call(
        &app,
        &haiyan,
        &format!("/api/v1/households/{household}/finances"),
        json!({ "year": "2017", "household_size": "3", "wage_income": "20000000" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "wage_income"), "工资性收入不能超过 1000 万元，填的是“20000000”");
    let project = |budget: &str, households: Vec<Value>| {
        json!({ "name": "光伏扶贫电站", "kind": "光伏", "place_code": "440781111", "unit": "海宴镇政府",
                "performance_target": "带动 20 户贫困户每户年增收 3000 元", "budget_city": budget, "households": households })
    };
    let (status, body) = call(&app, &taishan, "/api/v1/projects", project("1000000000.01", vec![])).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "budget_city"), "市级资金不能超过 10 亿元，填的是“1000000000.01”");
    let many: Vec<Value> = (0..5_001).map(|i| json!({ "number": format!("X{i}"), "expected_benefit": "1" })).collect();
    let (status, body) = call(&app, &taishan, "/api/v1/projects", project("100000", many)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "households"), "受益贫困户最多 5000 户，填了 5001 户：请分成几个项目");
    let one_household = vec![json!({ "number": "nobody", "expected_benefit": "20000000" })];
    let (status, body) = call(&app, &taishan, "/api/v1/projects", project("100000", one_household)).await;
    assert_eq!(status, 422, "{body}");
    assert!(refusal(&body, "households").contains("预期年增收不能超过 1000 万元"), "{body}");
    let (status, body) = call(
        &app,
        &taishan,
        "/api/v1/allocations",
        json!({ "source": "市级", "region_code": "440781", "amount": "20000000000", "allocated_on": "2017-03-01" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "amount"), "下达金额不能超过 100 亿元，填的是“20000000000”");
    let allocation = app.db.scoped(&sees(&scope("440781"))).funds().allocations().list().await.unwrap();
    let district = allocation.iter().find(|a| a.allocation.region_code == "440781").expect("an allocation to 台山");
    let (status, body) = call(
        &app,
        &taishan,
        &format!("/api/v1/allocations/{}/transfers", district.id),
        json!({ "town_code": "440781111", "amount": "1000000001", "on": "2017-06-01" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(refusal(&body, "amount"), "下拨金额不能超过 10 亿元，填的是“1000000001”");
    assert_eq!(trail().await.unwrap(), before, "nothing refused was written");

    // Within the bounds, a measure naming a project of the town's own library is recorded.
    let (status, body) = call(&app, &taishan, "/api/v1/projects", project("1000000000", vec![])).await;
    assert_eq!(status, 200, "{body}");
    let own = body["id"].as_i64().unwrap();
    let (status, body) = call(&app, &haiyan, &path, measure("10000000", &own.to_string())).await;
    assert!(status == 200 || status == 201, "{status} {body}");
}

both_backends!(a_campaigns_counts_are_bounded);

/// The counts a campaign's forms take: never cut down to fit (4294967300 households per town is
/// not 4), each refused at its field with its range; a questionnaire's scale has at most 11 points.
async fn a_campaigns_counts_are_bounded(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let today = ducha_storage::beijing_today();
    let input = ducha_storage::campaigns::CampaignInput {
        name: "十二月督查".into(),
        kind: ducha_domain::campaigns::CampaignKind::Special,
        starts_on: today,
        ends_on: today,
        focus: vec![],
        lead_units: "市扶贫办".into(),
        guided_by: String::new(),
        member_units: String::new(),
        weights: Default::default(),
    };
    let id = app.db.scoped(&Actor::command_line("test")).campaigns().create(&input).await.unwrap();
    let city = app.login("city").await;
    let (_, page) = city.get_text(&format!("/campaigns/{id}/sample")).await;
    let before = app.db.system().audit().count().await.unwrap();
    for (field, value, message) in [
        ("households_per_town", "4294967300", "每镇(街)抽查户数应为 0 至 200 之间的整数，填的是“4294967300”"),
        ("quota_440705", "101", "抽查数量应为 0 至 100 之间的整数，填的是“101”"),
        ("exclude_months", "99999", "排除月数应为 0 至 120 之间的整数，填的是“99999”"),
    ] {
        let mut form = reqwest::multipart::Form::new().text("_csrf", csrf_of(&page));
        for (k, v) in [
            ("seed", "42"),
            ("households_per_town", "4"),
            ("exclude_months", "0"),
            ("revisit_per_district", "0"),
            ("weight_findings", "否"),
            ("quota_440705", "1"),
            ("kind_440705", "any"),
        ] {
            form = form.text(k, if k == field { value } else { v });
        }
        let r = city.client.post(format!("{}/campaigns/{id}/sample", app.base)).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 422, "{field}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{field}: {body}");
    }
    let (_, page) = city.get_text("/campaigns/templates").await;
    for ((min, max), refusal) in [(("1", "1000000"), "量表最高分应在 0 至 100 之间"), (("0", "50"), "量表最多 11 档")]
    {
        let r = city
            .post_form(
                "/campaigns/templates/questions",
                &[
                    ("_csrf", csrf_of(&page).as_str()),
                    ("kind", "量表"),
                    ("text", "您对帮扶工作的满意程度"),
                    ("scale_min", min),
                    ("scale_max", max),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains(refusal));
    }
    assert_eq!(app.db.system().audit().count().await.unwrap(), before, "nothing refused was written");
}
