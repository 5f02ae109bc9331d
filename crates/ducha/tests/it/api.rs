//! The JSON API: writes with field errors, optimistic locking, personal data, bad requests in
//! Chinese, and the OpenAPI document.

use ducha_domain::access::Actor;
use ducha_domain::id_number::check_char;
use ducha_storage::Backend;
use serde_json::{Value, json};

use crate::support::TestApp;

both_backends!(the_api_writes_in_scope_with_field_errors_and_versions);

async fn call(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn valid_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()))
}

async fn the_api_writes_in_scope_with_field_errors_and_versions(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 100).await;
    let token = app.db.scoped(&Actor::system()).accounts().issue_token("haiyan", "测试").await.unwrap();
    let post = reqwest::Method::POST;
    let (status, created) = call(
        &app,
        &token,
        post.clone(),
        "/api/v1/households",
        Some(&json!({
            "village_code": "440781111210", "household_type": "低保贫困户", "main_cause": "因病", "other_cause_1": "缺技术",
            "identified_on": "2017-03-01", "address": "春场村 8 号", "phone": "13812345678",
            "food_clothing": true, "compulsory_education": true, "basic_medical": true, "safe_housing": false, "safe_water": true
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let hid = created["id"].as_i64().unwrap();
    let (status, h) = call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(h["status"], "identified");
    assert_eq!(h["path"], "江门市/台山市/海宴镇/春场村委会");
    assert_eq!(h["phone"], "138****5678", "masked in the detail too");
    assert!(h["number"].as_str().unwrap().starts_with("440781111210"));

    // A member with a wrong check digit: 422, the error at id_number, nothing saved.
    let good = valid_id("44078119800101123");
    let bad = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
    let member = |id: &str| json!({"name": "陈大文", "id_number": id, "relation": "户主", "education": "初中", "school_stage": "非在校生", "health": "健康", "labour_ability": "有劳动能力", "medical_insurance": true});
    let (status, err) =
        call(&app, &token, post.clone(), &format!("/api/v1/households/{hid}/members"), Some(&member(&bad))).await;
    assert_eq!(status, 422, "{err}");
    let fields = err["fields"].as_array().unwrap();
    assert!(
        fields.iter().any(|f| f["field"] == "id_number" && f["message"].as_str().unwrap().contains("校验位")),
        "{err}"
    );
    let (_, h) = call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}"), None).await;
    assert_eq!(h["members"].as_array().unwrap().len(), 0);
    let (status, m) = call(
        &app,
        &token,
        post.clone(),
        &format!("/api/v1/households/{hid}/members"),
        Some(&member(&good.to_lowercase())),
    )
    .await;
    assert_eq!(status, 201, "{m}");
    let mid = m["id"].as_i64().unwrap();
    // The same ID again is refused and says where it is registered.
    let (status, dup) =
        call(&app, &token, post.clone(), &format!("/api/v1/households/{hid}/members"), Some(&member(&good))).await;
    assert_eq!(status, 422);
    assert!(dup["fields"][0]["message"].as_str().unwrap().contains("身份证号已登记在户"), "{dup}");

    // Full personal data: one call, and it is recorded.
    let (status, p) = call(&app, &token, post.clone(), &format!("/api/v1/members/{mid}/personal"), None).await;
    assert_eq!(status, 200);
    assert_eq!(p["id_number"], good);
    let (_, trail) = call(&app, &token, reqwest::Method::GET, &format!("/api/v1/households/{hid}/audit"), None).await;
    let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["查看完整个人信息", "新增", "新增"], "{trail}");

    // Optimistic locking: the version read before the member was added is stale now.
    let update = json!({"version": 1, "village_code": "440781111210", "household_type": "一般贫困户", "main_cause": "因病", "identified_on": "2017-03-01"});
    let (status, conflict) =
        call(&app, &token, reqwest::Method::PUT, &format!("/api/v1/households/{hid}"), Some(&update)).await;
    assert_eq!(status, 409, "{conflict}");
    assert!(conflict["error"].as_str().unwrap().contains("已被他人修改"));

    // A leader reads but does not write.
    let leader = app.db.scoped(&Actor::system()).accounts().issue_token("leader", "测试").await.unwrap();
    let (status, _) = call(&app, &leader, reqwest::Method::GET, &format!("/api/v1/households/{hid}"), None).await;
    assert_eq!(status, 200);
    let (status, e) = call(
        &app,
        &leader,
        post.clone(),
        &format!("/api/v1/households/{hid}/members"),
        Some(&member(&valid_id("44078119900101123"))),
    )
    .await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = call(&app, &leader, post.clone(), &format!("/api/v1/members/{mid}/personal"), None).await;
    assert_eq!(status, 403, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_chinese_4xx_and_change_nothing() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 50).await;
    let token = app.db.scoped(&Actor::system()).accounts().issue_token("haiyan", "测试").await.unwrap();
    let before = app.db.system().audit().count().await.unwrap();
    let url = format!("{}/api/v1/households", app.base);
    let send = |body: reqwest::Body, ct: &'static str| {
        app.client.post(&url).bearer_auth(&token).header("Content-Type", ct).body(body).send()
    };
    let r = send("{\"village_code\": ".into(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("JSON 格式不正确"));
    let r = send("[1,2]".into(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("JSON 对象"));
    let r = send("a=b".into(), "text/plain").await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let big = format!("{{\"address\": \"{}\"}}", "很".repeat(1_100_000));
    let r = send(big.into(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("请求内容过大"));
    let r = send("{}".into(), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"village_code") && fields.contains(&"identified_on"), "{v}");
    let r = app.client.delete(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "不支持此操作方式");
    let r = app.client.get(format!("{}/api/v1/nothing", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("没有找到"));
    // A page route with a wrong method answers with a Chinese page.
    let r = app.client.delete(format!("{}/households", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.text().await.unwrap().contains("不支持此操作方式"));
    assert_eq!(app.db.system().audit().count().await.unwrap(), before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_api_route() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ducha_web::route_list() {
        if path.starts_with("/api/") {
            let m = method.as_str().to_lowercase();
            assert!(
                paths.get(path).and_then(|p| p.get(&m)).is_some(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let household = &paths["/api/v1/households"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    for field in ["village_code", "identified_on", "safe_water"] {
        assert!(household["properties"][field].is_object(), "{field} in {household}");
    }
    let project = &paths["/api/v1/projects"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert!(project["properties"]["households"]["items"]["properties"]["expected_benefit"].is_object(), "{project}");
    // Every request body names its media types (schemathesis refused the visit's, whose only
    // content type was ""): a client generated from the document must know what to send.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if let Some(content) = op["requestBody"]["content"].as_object() {
                assert!(!content.is_empty(), "{method} {path}: a request body without content");
                for media in content.keys() {
                    assert!(
                        ["application/json", "multipart/form-data"].contains(&media.as_str()),
                        "{method} {path}: request body media type {media:?}"
                    );
                }
                // A JSON body lists its fields (a client, or schemathesis, sends those).
                let json = &content["application/json"]["schema"]["properties"];
                assert!(json.as_object().is_some_and(|p| !p.is_empty()), "{method} {path}: no fields in {content:?}");
            }
        }
    }
}
