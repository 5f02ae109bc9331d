//! Every route of the pages and the API, walked by a town user (海宴镇) with the ids of another
//! town's (那吉镇) household and member: nothing of the other town is shown, and nothing changes.
//! The routes come from the application's own list, so a new route cannot escape the walk.

use ducha_domain::access::Scope;
use ducha_domain::region::RegionCode;
use ducha_storage::Backend;
use reqwest::Method;
use sea_orm::ConnectionTrait;

use crate::support::{TestApp, csrf_of, sees};

both_backends!(a_town_user_reaches_nothing_of_another_town);

/// Public reference data, the sign-in pages, static files and what operators watch: not walked for scope.
const PUBLIC: [&str; 10] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/assets/visit-offline.js",
    "/login",
    "/logout",
    "/api/v1/openapi.json",
    "/api/v1/regions",
    "/api/v1/regions/resolve",
    "/api/v1/regions/{code}",
];

/// A fingerprint of everything a write could touch.
async fn state(app: &TestApp) -> (i64, i64, i64, i64, String, i64) {
    let one = |sql: &'static str| async move {
        let r = app
            .db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(app.db.conn().get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        r.try_get_by_index::<i64>(0).unwrap()
    };
    let versions = app
        .db
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.conn().get_database_backend(),
            "SELECT id, version, address FROM households WHERE town_code = '440785107' ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                r.try_get_by_index::<i64>(0).unwrap(),
                r.try_get_by_index::<i32>(1).unwrap(),
                r.try_get_by_index::<String>(2).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    (
        one("SELECT COUNT(*) FROM households").await,
        one("SELECT COUNT(*) FROM members").await,
        one("SELECT COUNT(*) FROM change_requests WHERE status = 'submitted'").await,
        // Changes only: reading full personal data (the town's own export) is recorded too.
        one("SELECT COUNT(*) FROM audit_log WHERE action NOT IN ('export_personal', 'view_personal')").await,
        versions,
        one("SELECT (SELECT COUNT(*) FROM help_logs) + (SELECT COUNT(*) FROM help_plans) + (SELECT COUNT(*) FROM help_measures) + (SELECT COUNT(*) FROM cadres) + (SELECT COUNT(*) FROM evidence) + (SELECT COUNT(*) FROM postings) + (SELECT COUNT(*) FROM attendance) + (SELECT COUNT(*) FROM medical_institutions) + (SELECT COUNT(*) FROM postings WHERE ended_on IS NOT NULL) + (SELECT COUNT(*) FROM medical_institutions WHERE one_stop_online) + (SELECT COUNT(*) FROM projects) + (SELECT COUNT(*) FROM disbursements) + (SELECT COUNT(*) FROM office_staff) + (SELECT COUNT(*) FROM office_staff WHERE ended_on IS NOT NULL) + (SELECT COUNT(*) FROM office_checks WHERE met)").await,
    )
}

async fn a_town_user_reaches_nothing_of_another_town(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 2_000).await;
    let naji = Scope::Region(RegionCode::parse("440785107").unwrap());
    let theirs =
        app.db.scoped(&crate::support::sees(&naji)).registry().list(&Default::default(), None, None, 5).await.unwrap();
    let other = &theirs.rows[0];
    let rec = app.db.scoped(&crate::support::sees(&naji)).registry().household(other.id).await.unwrap().unwrap();
    let member = &rec.members[0];
    // Names repeat across towns; what identifies the other household is its number and IDs.
    let secrets =
        [other.number.clone(), member.id_number.to_string(), ducha_domain::privacy::mask_id(&member.id_number)];

    // 那吉镇 has a request waiting for its district.
    let naji_office = app.db.system().accounts().find_user("naji").await.unwrap().unwrap().actor(None);
    let change = app
        .db
        .scoped(&naji_office)
        .registry()
        .changes()
        .submit(
            Some(other.id),
            &ducha_domain::registry::ChangePayload::Removal,
            "核查不符合条件",
            chrono::NaiveDate::from_ymd_opt(2017, 11, 1).unwrap(),
            &[],
        )
        .await
        .unwrap();

    // ... a cadre, and a log with a photo.
    let naji_cadre = app
        .db
        .scoped(&naji_office)
        .help()
        .add_cadre(&ducha_domain::help::Cadre {
            name: "那吉干部".into(),
            unit: "恩平市民政局".into(),
            phone: String::new(),
            town_code: "440785107".into(),
        })
        .await
        .unwrap();
    let log = ducha_domain::help::LogInput {
        visited_on: chrono::NaiveDate::from_ymd_opt(2017, 10, 1).unwrap(),
        cadre_id: Some(naji_cadre),
        content: "那吉入户".into(),
        location: None,
    };
    let photo = ducha_storage::evidence::Upload { filename: "那吉.png".into(), bytes: crate::help::PNG.to_vec() };
    let log_id = app.db.scoped(&naji_office).help().add_log(other.id, &log, &[photo]).await.unwrap();
    let evidence_id = app.db.system().evidence().for_owner("help_log", log_id).await.unwrap()[0].id;
    let secrets: Vec<String> =
        secrets.into_iter().chain([format!("/cadres/{naji_cadre}\""), "那吉入户".to_string()]).collect();
    // ... an export of its own households, and an import waiting for its confirmation.
    let naji_scope_filter = ducha_storage::registry::HouseholdFilter::default();
    let (naji_file, _) =
        ducha_reports::exchange::export(&app.db.scoped(&naji_office), &naji_scope_filter, |_| {}).await.unwrap();
    let naji_user = app.db.system().accounts().find_user("naji").await.unwrap().unwrap();
    let naji_job = app
        .db
        .scoped(&naji_user.actor(None))
        .import_jobs()
        .create("那吉.xlsx", &naji_file, "checked", "{}", 0)
        .await
        .unwrap();

    // ... and data-quality findings.
    let naji_finding = app
        .db
        .scoped(&crate::support::sees(&naji))
        .checks()
        .findings(&Default::default(), 1, 0)
        .await
        .unwrap()
        .remove(0)
        .id;

    // ... a posted cadre, and (its district's) designated institution.
    let naji_posting = app.db.scoped(&sees(&naji)).platform().postings().list().await.unwrap().remove(0);
    let enping = Scope::Region(RegionCode::parse("440785").unwrap());
    let naji_institution = app.db.scoped(&sees(&enping)).platform().institutions().list().await.unwrap().remove(0);
    let secrets: Vec<String> = secrets
        .into_iter()
        .chain([naji_posting.posting.name.clone(), naji_institution.institution.name.clone()])
        .collect();
    let (naji_posting, naji_institution) = (naji_posting.id, naji_institution.id);
    let enping_project = app.db.scoped(&sees(&enping)).funds().projects().list().await.unwrap().remove(0);
    let secrets: Vec<String> = secrets.into_iter().chain([enping_project.name.clone()]).collect();
    let enping_project = enping_project.id;
    let enping_allocation = app.db.scoped(&sees(&enping)).funds().allocations().list().await.unwrap().remove(0).id;
    let naji_staff = app.db.scoped(&sees(&naji)).platform().offices().list(2017).await.unwrap()[0].staff[0].id;

    let b = app.login("haiyan").await;
    let (_, home) = b.get_text("/").await;
    let csrf = csrf_of(&home);
    let before = state(&app).await;

    let household_form = [
        ("_csrf", csrf.as_str()),
        ("version", "1"),
        ("village_code", "440785107200"),
        ("household_type", "一般贫困户"),
        ("main_cause", "因病"),
        ("identified_on", "2017-01-01"),
        ("address", "被改动"),
    ];
    let member_form = [
        ("_csrf", csrf.as_str()),
        ("name", "越权"),
        ("id_number", "11010519491231002X"),
        ("relation", "之子"),
        ("education", "初中"),
        ("school_stage", "非在校生"),
        ("health", "健康"),
        ("labour_ability", "有劳动能力"),
    ];
    let cadre_form =
        [("_csrf", csrf.as_str()), ("name", "越权"), ("unit", "某单位"), ("town_code", "440785107"), ("cadre_id", "")];
    let household_json = serde_json::json!({
        "version": 1, "village_code": "440785107200", "household_type": "一般贫困户", "main_cause": "因病",
        "identified_on": "2017-01-01", "address": "被改动", "food_clothing": true,
    });
    let cadre_json = serde_json::json!({ "name": "越权", "unit": "某单位", "town_code": "440785107" });
    let member_json = serde_json::json!({
        "name": "越权", "id_number": "11010519491231002X", "relation": "之子", "education": "初中",
        "school_stage": "非在校生", "health": "健康", "labour_ability": "有劳动能力",
    });

    let mut walked = 0;
    for (method, path) in ducha_web::route_list() {
        if PUBLIC.contains(&path) {
            continue;
        }
        walked += 1;
        let url = if path.starts_with("/members/") || path.starts_with("/api/v1/members/") {
            path.replace("{id}", &member.id.to_string())
        } else if path.starts_with("/changes/") || path.starts_with("/api/v1/changes/") {
            path.replace("{id}", &change.to_string())
        } else if path.starts_with("/evidence/") || path.starts_with("/api/v1/evidence/") {
            path.replace("{id}", &evidence_id.to_string())
        } else if path.starts_with("/imports/") {
            path.replace("{id}", &naji_job.to_string()).replace("{kind}", "payments")
        } else if path.starts_with("/platform/offices/") {
            path.replace("{id}", "440785107").replace("{staff}", &naji_staff.to_string())
        } else if path.starts_with("/platform/postings/") || path.starts_with("/api/v1/postings/") {
            path.replace("{id}", &naji_posting.to_string())
        } else if path.starts_with("/platform/institutions/") || path.starts_with("/api/v1/institutions/") {
            path.replace("{id}", &naji_institution.to_string())
        } else if path.starts_with("/funds/allocations/") || path.starts_with("/api/v1/allocations/") {
            path.replace("{id}", &enping_allocation.to_string())
        } else if path.starts_with("/funds/projects/") || path.starts_with("/api/v1/projects/") {
            path.replace("{id}", &enping_project.to_string())
        } else if path.starts_with("/cadres/") {
            path.replace("{id}", &naji_cadre.to_string())
        } else if path.starts_with("/checks/findings/") || path.starts_with("/api/v1/checks/findings/") {
            path.replace("{id}", &naji_finding.to_string())
        } else if path.starts_with("/campaigns/") || path.starts_with("/api/v1/campaigns/") {
            // No campaign exists in this demo: every campaign route answers 404.
            path.replace("{id}", "1")
                .replace("{town}", "440785107")
                .replace("{problem}", "1")
                .replace("{household}", &other.id.to_string())
        } else if path.contains("{key}") {
            path.replace("{key}", "log_stale_days")
        } else {
            path.replace("{id}", &other.id.to_string())
        };
        assert!(!url.contains('{'), "the walk does not know how to fill {path}");
        let resp = match (method.as_str(), url.starts_with("/api/")) {
            ("GET", _) => b.get(&url).await,
            ("POST", false) if url == "/imports" => {
                // The check runs in its turn: the job's page once it has.
                let (_, job, _) = b.upload(vec![("那吉.xlsx", naji_file.clone())]).await;
                b.get(&job).await
            }
            ("POST", false)
                if ["/plans/new", "/measures/new", "/logs/new", "/changes/new", "/documents", "/pay"]
                    .iter()
                    .any(|p| url.ends_with(p)) =>
            {
                let form = reqwest::multipart::Form::new()
                    .text("_csrf", csrf.clone())
                    .text("year", "2017")
                    .text("target_income", "9000")
                    .text("categories", "industry")
                    .text("delivered_on", "2017-10-01")
                    .text("visited_on", "2017-10-01")
                    .text("category", "industry")
                    .text("description", "越权")
                    .text("content", "越权")
                    .text("kind", "removal")
                    .text("reason", "越权")
                    .text("village_code", "440785107200")
                    .text("household_type", "一般贫困户")
                    .text("main_cause", "因病")
                    .text("identified_on", "2017-01-01")
                    .text("name", "越权")
                    .text("id_number", "11010519491231002X")
                    .text("relation", "户主")
                    .text("education", "初中")
                    .text("school_stage", "非在校生")
                    .text("health", "健康")
                    .text("labour_ability", "有劳动能力")
                    .part("files", reqwest::multipart::Part::bytes(crate::help::PNG.to_vec()).file_name("x.png"));
                b.client.post(format!("{}{url}", app.base)).multipart(form).send().await.unwrap()
            }
            ("POST" | "PUT", false) => {
                let run_form = [("_csrf", csrf.as_str()), ("region", "440785107"), ("log_stale_days", "1")];
                let project_form = [
                    ("_csrf", csrf.as_str()),
                    ("name", "越权项目"),
                    ("kind", "光伏"),
                    ("place_code", "440785107"),
                    ("unit", "某单位"),
                    ("performance_target", "带动贫困户增收"),
                    ("budget_city", "100"),
                ];
                let form: &[(&str, &str)] = if url.contains("/checks/") {
                    &run_form
                } else if url.starts_with("/funds/") {
                    &project_form
                } else if url.contains("/members") {
                    &member_form
                } else if url.contains("/cadre") {
                    &cadre_form
                } else {
                    &household_form
                };
                b.client
                    .request(Method::from_bytes(method.as_str().as_bytes()).unwrap(), format!("{}{url}", app.base))
                    .form(form)
                    .send()
                    .await
                    .unwrap()
            }
            ("POST" | "PUT", true) => {
                let run_json = serde_json::json!({ "region": "440785107", "value": 1 });
                let project_json = serde_json::json!({
                    "name": "越权项目", "kind": "光伏", "place_code": "440785107", "unit": "某单位",
                    "performance_target": "带动贫困户增收", "budget_city": "100", "households": [],
                });
                let body = if url.contains("/checks/") {
                    &run_json
                } else if url.contains("/projects") {
                    &project_json
                } else if url.contains("/members") {
                    &member_json
                } else if url.contains("/cadres") {
                    &cadre_json
                } else {
                    &household_json
                };
                b.client
                    .request(Method::from_bytes(method.as_str().as_bytes()).unwrap(), format!("{}{url}", app.base))
                    .header("X-CSRF-Token", &csrf)
                    .json(body)
                    .send()
                    .await
                    .unwrap()
            }
            (m, _) => panic!("the walk does not know method {m} of {path}"),
        };
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "{method} {url} shows {s} of another town");
        }
        if path.contains("{id}") {
            assert_eq!(status, 404, "{method} {url} should answer 404, got {status}: {body}");
        } else if (path.starts_with("/platform/")
            || path.starts_with("/funds/allocations")
            || path.starts_with("/api/v1/allocations")
            || path.starts_with("/api/v1/postings")
            || path.starts_with("/api/v1/institutions"))
            && method != "GET"
        {
            // Postings, institutions and allocations are the district's: a town office is refused.
            assert_eq!(status, 403, "{method} {url} got {status}: {body}");
        } else if (path == "/campaigns/new" || path.starts_with("/campaigns/templates/")) && method != "GET" {
            // Campaigns are the city office's to open.
            assert_eq!(status, 403, "{method} {url} got {status}: {body}");
        } else if path.contains("/checks/params") && method != "GET" {
            // The year's parameters are the city's: a town office is refused outright.
            assert_eq!(status, 403, "{method} {url} got {status}: {body}");
        } else if method != "GET" {
            // Creating in another town's village: refused at the field, nothing written.
            assert!(status == 422 || status == 400, "{method} {url} got {status}: {body}");
            assert!(
                body.contains("辖区") || body.contains("village_code") || body.contains("town_code"),
                "{method} {url}: {body}"
            );
        }
    }
    assert!(walked >= 15, "walked {walked} routes");

    // Lists and searches aimed at the other town find nothing.
    for q in [
        format!("region={}", "440785107"),
        format!("q={}", other.number),
        format!("q={}", member.id_number),
        format!("q={}", member.name),
        "region=440785".to_string(),
    ] {
        for base in ["/households", "/api/v1/households"] {
            let (status, body) = b.get_text(&format!("{base}?{q}")).await;
            assert_eq!(status, 200, "{base}?{q}");
            // The search box echoes what was typed; a row would show it between tags.
            for s in &secrets {
                let shown = if base.starts_with("/api") { format!("\"{s}\"") } else { format!(">{s}<") };
                assert!(!body.contains(&shown), "{base}?{q} shows {s}");
            }
            if base.starts_with("/api") && !q.starts_with("q=") {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["total"], 0, "{base}?{q}");
            }
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
}
