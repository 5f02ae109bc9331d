//! Every answer carries the security headers: pages, the API, files to download, error pages and
//! JSON errors, refusals made before any handler, the static script. HSTS only behind HTTPS
//! (`--secure-cookies`).

use ducha_storage::Backend;
use reqwest::header::HeaderMap;

use crate::support::TestApp;

both_backends!(every_answer_carries_the_security_headers);

fn check(what: &str, h: &HeaderMap, https: bool) {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let csp = get("content-security-policy");
    assert_eq!(csp, ducha_web::CONTENT_SECURITY_POLICY, "{what}");
    // Scripts from ducha's own files only: no inline script, no eval, no other site.
    let scripts = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_default();
    assert_eq!(scripts, "script-src 'self'", "{what}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{what}: {csp}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "same-origin", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    let hsts = get("strict-transport-security");
    if https {
        assert_eq!(hsts, "max-age=31536000; includeSubDomains", "{what}");
    } else {
        assert!(hsts.is_empty(), "{what}: HSTS over plain HTTP");
    }
}

async fn every_answer_carries_the_security_headers(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let anonymous = reqwest::Client::new();
    let r = anonymous.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    check("the sign-in page", r.headers(), false);
    let r = anonymous.get(format!("{}/api/v1/me", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    check("the API refusing a stranger", r.headers(), false);

    let b = app.login("city").await;
    for (path, status, content_type) in [
        ("/", 200, "text/html"),
        ("/households", 200, "text/html"),
        ("/api/v1/me", 200, "application/json"),
        ("/api/v1/households?limit=5", 200, "application/json"),
        ("/households/export.xlsx", 200, "application/vnd.openxmlformats"),
        ("/imports/template.xlsx", 200, "application/vnd.openxmlformats"),
        ("/assets/visit-offline.js", 200, "text/javascript"),
        ("/no/such/page", 404, "text/html"),
        ("/households/99999999", 404, "text/html"),
        ("/api/v1/households/99999999", 404, "application/json"),
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(ct.starts_with(content_type), "{path}: {ct}");
        check(path, r.headers(), false);
    }
    // Refused before any handler: a cross-site form post, a method the route does not take.
    let r = b
        .client
        .post(format!("{}/households/new", app.base))
        .header("Origin", "http://evil.example")
        .form(&[("a", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    check("a cross-site post", r.headers(), false);
    let r = b.client.delete(format!("{}/households", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    check("a method not taken", r.headers(), false);

    // Behind HTTPS (--secure-cookies): HSTS as well.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ducha_web::WebConfig { secure_cookies: true, ..Default::default() };
    let state = ducha_web::AppState::with_config(app.db.clone(), config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        ducha_web::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    for path in ["/login", "/api/v1/me", "/no/such/page"] {
        let r = anonymous.get(format!("{base}{path}")).send().await.unwrap();
        check(&format!("{path} behind HTTPS"), r.headers(), true);
    }
    let _ = stop.send(());
}
