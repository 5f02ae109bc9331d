//! Signing in and out, throttling, CSRF and cross-site refusal, API tokens.

use ducha_domain::access::Actor;
use ducha_storage::{Backend, accounts};
use sea_orm::ConnectionTrait;

use crate::support::{Browser, Setup, TestApp, csrf_of};

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
    // Three failures of naji from this address: the next attempt from here waits, even with the
    // right password.
    b.login("naji", "wrong-again").await;
    b.login("naji", "wrong-thrice").await;
    let waiting = b.login("naji", ducha_storage::demo::DEMO_PASSWORD).await;
    assert_eq!(waiting.status().as_u16(), 429);
    let waiting = waiting.text().await.unwrap();
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
    let audit_before = app.db.system().audit().count().await.unwrap();
    assert_eq!(audit_before, app.db.system().audit().count().await.unwrap());
}

pub async fn app_first_household(app: &TestApp, town: &str) -> i64 {
    use ducha_domain::access::Scope;
    use ducha_domain::region::RegionCode;
    let scope = Scope::Region(RegionCode::parse(town).unwrap());
    let page =
        app.db.scoped(&crate::support::sees(&scope)).registry().list(&Default::default(), None, None, 1).await.unwrap();
    page.rows.first().expect("the demo town has households").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_as_its_user_and_stops_when_the_user_is_disabled() {
    let app = TestApp::spawn_demo(Backend::Sqlite, 200).await;
    let admin = Actor::system();
    let token = app.db.scoped(&admin).accounts().issue_token("taishan", "测试脚本").await.unwrap();
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
    app.db.scoped(&admin).accounts().disable_user("taishan").await.unwrap();
    let gone = app.client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 401);
}

async fn add_account(app: &TestApp, username: &str, password: &str) {
    let user = accounts::NewUser {
        username: username.into(),
        display_name: "测试".into(),
        role: ducha_domain::access::Role::CityOffice,
        region_code: None,
        password: password.into(),
    };
    app.db.scoped(&Actor::system()).accounts().add_user(&user).await.unwrap();
}

/// The login form's token for a browser (its cookie is kept by the browser).
async fn login_token(b: &Browser) -> String {
    csrf_of(&b.get_text("/login").await.1)
}

both_backends!(parallel_wrong_logins_check_few_passwords_and_lock_out_no_one_else);

async fn parallel_wrong_logins_check_few_passwords_and_lock_out_no_one_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_account(&app, "owner", "owner-password-1").await;
    add_account(&app, "colleague", "colleague-password-1").await;
    // 100 wrong passwords for the owner at once, from one address.
    let attacker = Browser::from_address(&app.base, "127.0.0.2");
    let token = login_token(&attacker).await;
    let before = app.passwords.checks();
    let started = std::time::Instant::now();
    let mut tries = Vec::new();
    for i in 0..100 {
        let (client, base, token) = (attacker.client.clone(), app.base.clone(), token.clone());
        tries.push(tokio::spawn(async move {
            let guess = format!("guess-{i}");
            let form = [("_csrf", token.as_str()), ("username", "owner"), ("password", guess.as_str()), ("next", "/")];
            let r = client.post(format!("{base}/login")).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut statuses = Vec::new();
    for t in tries {
        let (status, body) = t.await.unwrap();
        // Refused before any password check, saying why.
        assert!(status != 429 || body.contains("登录失败次数过多"), "{body}");
        statuses.push(status);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let checks = app.passwords.checks() - before;
    // Three free attempts, then one more each time a wait (1 s, 2 s, 4 s, …) has passed.
    let mut allowed = accounts::FREE_FAILURES as u64;
    let mut waited = 0.0;
    let mut wait = 1.0;
    while waited + wait <= elapsed {
        waited += wait;
        wait *= 2.0;
        allowed += 1;
    }
    assert!(checks >= 3 && checks <= allowed, "{checks} password checks in {elapsed:.1} s (allowed {allowed})");
    let failed = statuses.iter().filter(|s| **s == 401).count() as u64;
    let refused = statuses.iter().filter(|s| **s == 429).count() as u64;
    assert_eq!((failed, failed + refused), (checks, 100), "{statuses:?}");

    // The owner, from another address, signs in at once.
    let owner = Browser::from_address(&app.base, "127.0.0.3");
    let t = std::time::Instant::now();
    let r = owner.login("owner", "owner-password-1").await;
    assert_eq!(r.url().path(), "/", "the owner signs in: {}", r.status());
    assert!(t.elapsed() < accounts::MAX_SOFT_DELAY, "without waiting out the attacker's failures");
    // A colleague behind the attacker's address signs in too.
    let colleague = Browser::from_address(&app.base, "127.0.0.2");
    let r = colleague.login("colleague", "colleague-password-1").await;
    assert_eq!(r.url().path(), "/", "the colleague signs in: {}", r.status());

    // Failures for many names from one address delay its next check; they do not refuse it.
    let sprayer = Browser::from_address(&app.base, "127.0.0.4");
    for i in 0..accounts::SOFT_FREE_FAILURES {
        let r = sprayer.login(&format!("nobody{i}"), "wrong-password").await;
        assert_eq!(r.status().as_u16(), 401);
    }
    let t = std::time::Instant::now();
    let r = sprayer.login("colleague", "colleague-password-1").await;
    assert_eq!(r.url().path(), "/", "a right password from a failing address still signs in");
    assert!(t.elapsed() >= accounts::soft_delay(accounts::SOFT_FREE_FAILURES), "after a delay");
}

both_backends!(a_flood_of_logins_waits_in_a_short_queue_or_is_told_busy);

async fn a_flood_of_logins_waits_in_a_short_queue_or_is_told_busy(backend: Backend) {
    // One password check at a time, two waiting.
    let setup = Setup { passwords: Some(accounts::PasswordPool::new(1, 2)), ..Default::default() };
    let app = TestApp::spawn_with(backend, setup).await;
    let b = Browser::from_address(&app.base, "127.0.0.5");
    let token = login_token(&b).await;
    let mut tries = Vec::new();
    for i in 0..40 {
        let (client, base, token) = (b.client.clone(), app.base.clone(), token.clone());
        tries.push(tokio::spawn(async move {
            let name = format!("flood{i}");
            let form = [("_csrf", token.as_str()), ("username", name.as_str()), ("password", "wrong-password")];
            let r = client.post(format!("{base}/login")).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for t in tries {
        answers.push(t.await.unwrap());
    }
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "some are told to come back");
    assert!(busy.iter().all(|(_, body)| body.contains("正在登录的人较多")));
    assert!(
        answers.iter().all(|(s, _)| *s == 401 || *s == 503),
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(app.passwords.peak(), 1, "never more than one hash at once");
    assert_eq!(app.passwords.checks(), answers.iter().filter(|(s, _)| *s == 401).count() as u64);
}

both_backends!(after_signing_in_the_browser_stays_on_this_site);

async fn after_signing_in_the_browser_stays_on_this_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_account(&app, "walker", "walker-password-1").await;
    let base = reqwest::Url::parse(&app.base).unwrap();
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let b = Browser { base: app.base.clone(), client };
    // Each `next` as the query of a link to the login page (percent-encoded as it would be typed).
    let hostile = [
        "/%09/evil.example/x",
        "/%0A/evil.example/x",
        "/%0D%0A/evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "/%5C/evil.example",
        "%2F%2Fevil.example",
        "//evil.example",
        "///evil.example",
        "/%20/evil.example",
        "%20//evil.example",
        "/%E3%80%80/evil.example",
        "/.//evil.example",
        "/x/..//evil.example",
        "/%00/evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/@evil.example",
    ];
    for next in hostile {
        // The form the link shows carries a `next` that stays here…
        let (_, page) = b.get_text(&format!("/login?next={next}")).await;
        let shown = page.split("name=\"next\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let raw = percent_decode(next);
        for sent in [shown.as_str(), raw.as_str()] {
            // …and so does the place signing in leads to, whatever the form sends.
            let token = csrf_of(&b.get_text("/login").await.1);
            let r = b
                .post_form(
                    "/login",
                    &[("_csrf", &token), ("username", "walker"), ("password", "walker-password-1"), ("next", sent)],
                )
                .await;
            assert_eq!(r.status().as_u16(), 303, "{next:?}");
            let location = r.headers()[reqwest::header::LOCATION].to_str().unwrap().to_string();
            // As a browser reads it: tab, newline and carriage return dropped, `\` as `/`.
            let browser_reads: String = location.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
            let target = base.join(&browser_reads.replace('\\', "/")).unwrap();
            assert_eq!(target.host_str(), Some("127.0.0.1"), "{next:?} sent as {sent:?} leads to {location:?}");
            assert_eq!(target.port(), base.port());
            assert!(location.starts_with('/') && !location.starts_with("//"), "{location:?}");
        }
    }
    // A path on this site is kept, query and all.
    let token = csrf_of(&b.get_text("/login").await.1);
    let r = b
        .post_form(
            "/login",
            &[
                ("_csrf", &token),
                ("username", "walker"),
                ("password", "walker-password-1"),
                ("next", "/households?status=帮扶中&page=2"),
            ],
        )
        .await;
    let location = r.headers()[reqwest::header::LOCATION].to_str().unwrap().to_string();
    let target = base.join(&location).unwrap();
    assert_eq!(target.path(), "/households");
    let q: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    assert_eq!(q, [("status".into(), "帮扶中".into()), ("page".into(), "2".into())]);
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

both_backends!(an_anonymous_login_page_stores_nothing_and_its_form_still_needs_its_token);

async fn an_anonymous_login_page_stores_nothing_and_its_form_still_needs_its_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_account(&app, "visitor", "visitor-password-1").await;
    let sessions = || async {
        let row = app
            .db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.conn().get_database_backend(),
                "SELECT COUNT(*) AS n FROM sessions",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    // One visit first (a secret may be made once for all), then fifty more, each a new visitor.
    let _ = Browser::new(&app.base).get_text("/login").await;
    let before = sessions().await;
    for _ in 0..50 {
        let (status, page) = Browser::new(&app.base).get_text("/login").await;
        assert_eq!(status, 200);
        assert!(!csrf_of(&page).is_empty(), "the form carries its token");
    }
    assert_eq!(sessions().await, before, "anonymous visits store no session");

    let b = Browser::new(&app.base);
    let token = login_token(&b).await;
    let fields = |t: &str| {
        vec![
            ("_csrf".to_string(), t.to_string()),
            ("username".into(), "visitor".into()),
            ("password".into(), "visitor-password-1".into()),
        ]
    };
    // No token, a made-up one, and another browser's (without its cookie): refused, nothing stored.
    let other = login_token(&Browser::new(&app.base)).await;
    let forged = format!("{}.{}.{}", "0".repeat(32), chrono::Utc::now().timestamp(), "f".repeat(64));
    for t in ["", forged.as_str(), other.as_str()] {
        let r = b.client.post(format!("{}/login", app.base)).form(&fields(t)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "token {t:?}");
        assert!(r.text().await.unwrap().contains("页面已过期或来源不明"));
    }
    // A cookie and form that match but were not signed by the server: refused.
    let bare = reqwest::Client::new();
    let r = bare
        .post(format!("{}/login", app.base))
        .header(reqwest::header::COOKIE, format!("ducha_login_csrf={forged}"))
        .form(&fields(&forged))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(sessions().await, before);
    // With its own token, the browser signs in: one session now.
    let r = b.client.post(format!("{}/login", app.base)).form(&fields(&token)).send().await.unwrap();
    assert_eq!(r.url().path(), "/");
    assert_eq!(sessions().await, before + 1);
}

both_backends!(a_reset_or_a_disable_ends_sessions_and_tokens_and_tokens_expire);

async fn a_reset_or_a_disable_ends_sessions_and_tokens_and_tokens_expire(backend: Backend) {
    use crate::cli::run;
    let app = TestApp::spawn(backend).await;
    let url = app.db_url().to_string();
    for name in ["resetme", "disableme"] {
        let (ok, _, err) =
            run(&["user", "add", name, "--role", "city", "--name", "测试", "--password", "first-password"], &url).await;
        assert!(ok, "{err}");
    }
    let me = |b: &Browser| {
        let b = b.client.clone();
        let base = app.base.clone();
        async move { b.get(format!("{base}/api/v1/me")).send().await.unwrap().status().as_u16() }
    };
    let token_ok = |t: String| {
        let base = app.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let issue = |user: &'static str, name: &'static str, days: &'static str| {
        let url = url.clone();
        async move {
            let (ok, out, err) = run(&["user", "token", user, "--name", name, "--days", days], &url).await;
            assert!(ok, "{err}");
            assert!(err.contains("到期"), "{err}");
            out.trim().to_string()
        }
    };

    // A signed-in browser and two tokens for each account.
    let mut browsers = Vec::new();
    let mut tokens = Vec::new();
    for user in ["resetme", "disableme"] {
        let b = Browser::new(&app.base);
        assert_eq!(b.login(user, "first-password").await.url().path(), "/");
        assert_eq!(me(&b).await, 200);
        browsers.push(b);
        tokens.push((issue(user, "同步", "30").await, issue(user, "报表", "1").await));
    }
    for (a, b) in &tokens {
        assert_eq!((token_ok(a.clone()).await, token_ok(b.clone()).await), (200, 200));
    }

    // A password reset ends the sessions and revokes the tokens of that user only.
    let (ok, out, err) = run(&["user", "reset-password", "resetme", "--password", "second-password"], &url).await;
    assert!(ok && out.contains("会话已结束"), "{out}{err}");
    assert_eq!(me(&browsers[0]).await, 401, "the reset user's session has ended");
    assert_eq!(token_ok(tokens[0].0.clone()).await, 401);
    assert_eq!(token_ok(tokens[0].1.clone()).await, 401);
    assert_eq!(me(&browsers[1]).await, 200, "another user's session goes on");
    assert_eq!(token_ok(tokens[1].0.clone()).await, 200);
    let (_, listed, _) = run(&["user", "tokens", "resetme"], &url).await;
    assert_eq!(listed.matches("已撤销").count(), 2, "{listed}");

    // A disable does the same.
    let (ok, _, err) = run(&["user", "disable", "disableme"], &url).await;
    assert!(ok, "{err}");
    assert_eq!(me(&browsers[1]).await, 401);
    assert_eq!(token_ok(tokens[1].0.clone()).await, 401);
    assert_eq!(token_ok(tokens[1].1.clone()).await, 401);
    let trail = app.db.system().audit().range(1, 1000).await.unwrap();
    let ended: Vec<_> = trail.iter().filter(|r| r.action == "end_access").collect();
    assert_eq!(ended.len(), 2, "each is recorded");
    assert!(ended.iter().all(|r| r.before.as_deref().unwrap().contains("\"sessions\":1")), "{ended:?}");
    assert!(ended.iter().all(|r| r.before.as_deref().unwrap().contains("同步")));

    // Tokens expire: one whose day has passed answers 401; revoked by name or all at once.
    let (ok, _, err) =
        run(&["user", "add", "scripts", "--role", "city", "--name", "测试", "--password", "first-password"], &url)
            .await;
    assert!(ok, "{err}");
    let daily = issue("scripts", "日报", "1").await;
    let weekly = issue("scripts", "周报", "7").await;
    let yearly = issue("scripts", "年报", "365").await;
    assert_eq!(token_ok(daily.clone()).await, 200);
    app.db
        .conn()
        .execute_unprepared("UPDATE api_tokens SET expires_at = created_at WHERE name = '日报'")
        .await
        .unwrap();
    assert_eq!(token_ok(daily.clone()).await, 401, "an expired token is refused");
    let (_, listed, _) = run(&["user", "tokens", "scripts"], &url).await;
    assert!(listed.contains("已过期") && listed.contains("有效"), "{listed}");
    let (ok, _, err) = run(&["user", "token", "scripts", "--days", "0"], &url).await;
    assert!(!ok && err.contains("有效天数"), "{err}");
    let (ok, out, err) = run(&["user", "token", "scripts", "--revoke", "--name", "周报"], &url).await;
    assert!(ok && out.contains("已撤销 scripts 的令牌“周报”"), "{out}{err}");
    assert_eq!((token_ok(weekly.clone()).await, token_ok(yearly.clone()).await), (401, 200));
    let (ok, _, err) = run(&["user", "token", "scripts", "--revoke", "--name", "周报"], &url).await;
    assert!(!ok && err.contains("没有用途为“周报”的未撤销令牌"), "{err}");
    let (ok, out, _) = run(&["user", "token", "scripts", "--revoke"], &url).await;
    assert!(ok && out.contains("年报") && out.contains("日报"), "{out}");
    assert_eq!(token_ok(yearly).await, 401);
    let revokes = app.db.system().audit().range(1, 1000).await.unwrap();
    assert_eq!(revokes.iter().filter(|r| r.entity == "api_token" && r.action == "revoke").count(), 2);
}
