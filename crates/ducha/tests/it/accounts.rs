//! Signing in and out, throttling, CSRF and cross-site refusal, API tokens.

use ducha_domain::access::Actor;
use ducha_storage::{Backend, accounts};

use crate::support::{Browser, TestApp, csrf_of};

both_backends!(sign_in_and_out, wrong_passwords_look_alike_and_slow_down, forms_need_the_session_token_and_this_site);

async fn sign_in_and_out(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 300).await;
    let b = app.login("haiyan").await;
    let (status, home) = b.get_text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("海宴镇建档立卡贫困户概况"), "{home}");
    assert!(home.contains("海宴镇扶贫办（镇(街)扶贫办，海宴镇）"));
    let csrf = csrf_of(&home);
    let out = b.post_form("/logout", &[("_csrf", &csrf)]).await;
    assert!(out.url().path().starts_with("/login"));
    let after = b.get("/households").await;
    assert!(after.url().path().starts_with("/login"), "signed out: pages lead to the login form");
    let (status, body) = app.get_json("/api/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "请先登录");
}

async fn wrong_passwords_look_alike_and_slow_down(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 100).await;
    let b = Browser::new(&app.base);
    let unknown = b.login("nobody", "whatever1").await;
    assert_eq!(unknown.status().as_u16(), 401);
    let unknown = unknown.text().await.unwrap();
    let wrong = b.login("naji", "wrong-password").await.text().await.unwrap();
    assert!(unknown.contains("用户名或密码错误") && wrong.contains("用户名或密码错误"));
    // Third failure for naji (this address has had three), then every attempt must wait,
    // even with the right password.
    b.login("naji", "wrong-again").await;
    let waiting = b.login("naji", ducha_storage::demo::DEMO_PASSWORD).await.text().await.unwrap();
    assert!(waiting.contains("登录失败次数过多"), "{waiting}");
    // The wait is the same for a name that does not exist.
    let other = Browser::new(&app.base);
    let ghost = other.login("ghost", "x12345678").await.text().await.unwrap();
    assert!(ghost.contains("登录失败次数过多") || ghost.contains("用户名或密码错误"));
    assert_eq!(accounts::throttle_delay(2).num_seconds(), 0);
    assert_eq!(accounts::throttle_delay(3).num_seconds(), 1);
    assert_eq!(accounts::throttle_delay(5).num_seconds(), 4);
    assert_eq!(accounts::throttle_delay(40).num_seconds(), 300);
}

async fn forms_need_the_session_token_and_this_site(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let b = app.login("haiyan").await;
    let page = app_first_household(&app, "440781111").await;
    // No token.
    let r = b.post_form(&format!("/households/{page}/members/new"), &[("name", "无令牌")]).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("页面已过期或来源不明"));
    // Another site's page posting into ducha.
    let (_, html) = b.get_text("/").await;
    let csrf = csrf_of(&html);
    let r = b
        .client
        .post(format!("{}/households/{page}/members/new", app.base))
        .header("Origin", "http://evil.example")
        .form(&[("_csrf", csrf.as_str()), ("name", "跨站")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("来源不明的请求已被拒绝"));
    // The API from the browser session needs the header token.
    let r = b.client.post(format!("{}/api/v1/households", app.base)).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let audit_before = ducha_storage::audit::count(&app.db).await.unwrap();
    assert_eq!(audit_before, ducha_storage::audit::count(&app.db).await.unwrap());
}

pub async fn app_first_household(app: &TestApp, town: &str) -> i64 {
    use ducha_domain::access::Scope;
    use ducha_domain::region::RegionCode;
    let scope = Scope::Region(RegionCode::parse(town).unwrap());
    let page =
        ducha_storage::registry::list_households(&app.db, &scope, &Default::default(), None, None, 1).await.unwrap();
    page.rows.first().expect("the demo town has households").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_as_its_user_and_stops_when_the_user_is_disabled() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 200).await;
    let admin = Actor::system();
    let token = accounts::issue_token(&app.db, &admin, "taishan", "测试脚本").await.unwrap();
    let me = app.client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "taishan");
    assert_eq!(me["region_code"], "440781");
    let list: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/households", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["total"].as_i64().unwrap() > 0);
    let bad = app.client.get(format!("{}/api/v1/me", app.base)).bearer_auth("ducha_wrong").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    accounts::disable_user(&app.db, &admin, "taishan").await.unwrap();
    let gone = app.client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 401);
}
