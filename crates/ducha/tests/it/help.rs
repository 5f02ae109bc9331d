//! Help records: plans (a first plan starts the help), measures, logs with evidence, cadres, the
//! record book; all in scope.

use ducha_domain::access::{Actor, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::HouseholdStatus;
use ducha_storage::Backend;
use serde_json::{Value, json};

use crate::support::{TestApp, csrf_of};

both_backends!(help_records_are_kept_dated_and_in_scope);

/// The smallest valid PNG: a 1×1 pixel.
pub const PNG: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn call(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn help_records_are_kept_dated_and_in_scope(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 2_000).await;
    let token = app.db.scoped(&Actor::system()).accounts().issue_token("haiyan", "t").await.unwrap();
    let post = reqwest::Method::POST;

    // A new identification approved, so that the household starts as 识别.
    let town = app.db.system().accounts().find_user("haiyan").await.unwrap().unwrap().actor(None);
    let district = app.db.system().accounts().find_user("taishan").await.unwrap().unwrap().actor(None);
    let first17 = "44078119800202236";
    let head_id = format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()));
    let tree = app.db.system().regions().tree().await.unwrap();
    let household = ducha_domain::registry::HouseholdForm {
        village_code: "440781111210".into(),
        household_type: "一般贫困户".into(),
        main_cause: "缺技术".into(),
        identified_on: "2017-09-01".into(),
        ..Default::default()
    }
    .validate(&tree, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    .unwrap();
    let head = ducha_domain::registry::MemberForm {
        name: "黄帮扶".into(),
        id_number: head_id,
        relation: "户主".into(),
        education: "初中".into(),
        school_stage: "非在校生".into(),
        health: "健康".into(),
        labour_ability: "有劳动能力".into(),
        medical_insurance: "是".into(),
        ..Default::default()
    }
    .validate(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    .unwrap();
    let payload = ducha_domain::registry::ChangePayload::NewIdentification { household, head };
    let on = chrono::NaiveDate::from_ymd_opt(2017, 9, 1).unwrap();
    let cid = app.db.scoped(&town).registry().changes().submit(None, &payload, "评议公示", on, &[]).await.unwrap();
    let done = app.db.scoped(&district).registry().changes().decide(cid, true, "").await.unwrap();
    let hid = done.result_household_id.unwrap();

    // A cadre of the town, assigned; a cadre of another town is refused.
    let (status, k) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/cadres",
        Some(json!({"name": "冯志明", "unit": "台山市农业局", "phone": "13800001111", "town_code": "440781111"})),
    )
    .await;
    assert_eq!(status, 201, "{k}");
    let cadre_id = k["id"].as_i64().unwrap();
    let (status, e) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/cadres",
        Some(json!({"name": "越界", "unit": "某单位", "town_code": "440785107"})),
    )
    .await;
    assert_eq!(status, 422, "{e}");

    // The first plan: the household is now being helped.
    let (status, p) = call(&app, &token, post.clone(), &format!("/api/v1/households/{hid}/plans"),
        Some(json!({"year": 2017, "target_income": "8500", "cadre_id": cadre_id, "categories": ["产业帮扶", "就业帮扶"]}))).await;
    assert_eq!(status, 201, "{p}");
    let rec = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    assert_eq!(rec.household.status, HouseholdStatus::Helping.code());
    assert_eq!(rec.history.last().unwrap().note.as_deref(), Some("制定帮扶计划，开始帮扶"));
    // The same year again replaces the plan rather than adding a second.
    let (status, _) = call(
        &app,
        &token,
        post.clone(),
        &format!("/api/v1/households/{hid}/plans"),
        Some(json!({"year": 2017, "target_income": "9000", "cadre_id": cadre_id, "categories": ["产业帮扶"]})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, bad) = call(
        &app,
        &token,
        post.clone(),
        &format!("/api/v1/households/{hid}/plans"),
        Some(json!({"year": 2017, "target_income": "-5", "categories": []})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");

    let (status, _) = call(&app, &token, post.clone(), &format!("/api/v1/households/{hid}/measures"),
        Some(json!({"delivered_on": "2017-10-08", "category": "产业帮扶", "description": "入股光伏扶贫项目", "amount": "3000", "income_generating": true}))).await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &app,
        &token,
        post.clone(),
        &format!("/api/v1/households/{hid}/logs"),
        Some(json!({"visited_on": "2017-10-20", "content": "入户核实收入", "location": "入户"})),
    )
    .await;
    assert_eq!(status, 201);

    let (status, help) =
        call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}/help"), None).await;
    assert_eq!(status, 200);
    assert_eq!(help["plans"].as_array().unwrap().len(), 1);
    assert_eq!(help["plans"][0]["target_income"], "9000.00");
    assert_eq!(help["plans"][0]["categories"], "产业帮扶");
    assert_eq!(help["measures"][0]["income_generating"], "是");
    assert!(
        help["logs"][0]["cadre"].as_str().unwrap().starts_with("冯志明"),
        "the log falls to the plan's cadre: {help}"
    );

    // A log with a photo through the page; the photo downloads in scope and nowhere else.
    let b = app.login("haiyan").await;
    let (_, page) = b.get_text(&format!("/households/{hid}/logs/new")).await;
    let csrf = csrf_of(&page);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("visited_on", "2017-11-02")
        .text("content", "送去鸡苗 30 只，查看养殖情况")
        .text("location", "村委会")
        .part(
            "files",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("现场照片.png").mime_str("image/png").unwrap(),
        );
    let r = b.client.post(format!("{}/households/{hid}/logs/new", app.base)).multipart(form).send().await.unwrap();
    assert!(r.url().query().unwrap_or("").contains("saved=1"), "{}", r.text().await.unwrap());
    let (_, detail) = b.get_text(&format!("/households/{hid}")).await;
    assert!(
        detail.contains("送去鸡苗 30 只") && detail.contains("现场照片.png"),
        "the log and its photo are on the page"
    );
    let href = detail.split("href=\"/evidence/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let photo = b.get(&format!("/evidence/{href}")).await;
    assert_eq!(photo.status().as_u16(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(photo.bytes().await.unwrap().as_ref(), &PNG[..]);
    let other = app.login("naji").await;
    assert_eq!(other.get(&format!("/evidence/{href}")).await.status().as_u16(), 404);

    // A file that is not a photo is refused at the field, and nothing is saved.
    let logs_before =
        app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    let _ = logs_before;
    let (_, page) = b.get_text(&format!("/households/{hid}/logs/new")).await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf_of(&page))
        .text("visited_on", "2017-11-03")
        .text("content", "不该保存")
        .part("files", reqwest::multipart::Part::bytes(b"MZ\x90\x00 not a photo".to_vec()).file_name("virus.jpg"));
    let r = b.client.post(format!("{}/households/{hid}/logs/new", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("类型不受支持"));
    let (_, help) = call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}/help"), None).await;
    assert!(!help["logs"].as_array().unwrap().iter().any(|l| l["content"] == "不该保存"));

    // The record book: a check date that is no date comes back as the form, as typed.
    let (_, page) = b.get_text(&format!("/households/{hid}")).await;
    let r = b
        .post_form(
            &format!("/households/{hid}/record-book"),
            &[("_csrf", &csrf_of(&page)), ("issued", "是"), ("last_checked", "2017-13-45")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let form = r.text().await.unwrap();
    assert!(form.contains(r#"id="last_checked-error""#) && form.contains(r#"value="2017-13-45""#), "{form}");
    assert!(form.contains(r#"name="issued" value="是" style="width:auto" checked"#), "{form}");
    let r = b
        .post_form(
            &format!("/households/{hid}/record-book"),
            &[
                ("_csrf", &csrf_of(&page)),
                ("issued", "是"),
                ("provincial_format", "是"),
                ("last_checked", "2017-11-01"),
            ],
        )
        .await;
    assert!(r.status().is_success());
    let (_, help) = call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}/help"), None).await;
    assert_eq!(help["record_book"]["provincial_format"], true);
    assert_eq!(help["record_book"]["last_checked"], "2017-11-01");
}
