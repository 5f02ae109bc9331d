//! Dynamic management: requests submitted by a town office, decided by its district office,
//! applied atomically with their history.

use ducha_domain::access::Scope;
use ducha_domain::region::RegionCode;
use ducha_domain::registry::HouseholdStatus;
use ducha_storage::Backend;
use ducha_storage::registry::{self, HouseholdFilter};
use serde_json::{Value, json};

use crate::support::TestApp;

both_backends!(exit_and_composition_changes_go_through_approval);

async fn call(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A household of 海宴镇 with a status, and at least two members.
pub async fn household_with(app: &TestApp, status: HouseholdStatus) -> registry::HouseholdRecord {
    let town = Scope::Region(RegionCode::parse("440781111").unwrap());
    let filter = HouseholdFilter { status: Some(status), ..Default::default() };
    let page = app.db.scoped(&crate::support::sees(&town)).registry().list(&filter, None, None, 200).await.unwrap();
    for row in page.rows {
        let rec = app.db.scoped(&crate::support::sees(&town)).registry().household(row.id).await.unwrap().unwrap();
        if rec.members.len() >= 2 && rec.finances.iter().any(|f| f.year == 2017) {
            return rec;
        }
    }
    panic!("the demo town has a {status} household of two or more");
}

async fn exit_and_composition_changes_go_through_approval(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 3_000).await;
    let system = ducha_domain::access::Actor::system();
    let town = app.db.scoped(&system).accounts().issue_token("haiyan", "t").await.unwrap();
    let district = app.db.scoped(&system).accounts().issue_token("taishan", "t").await.unwrap();
    let other_district = app.db.scoped(&system).accounts().issue_token("enping", "t").await.unwrap();
    let post = reqwest::Method::POST;

    // A household still being helped is below the standard: refused, with the shortfall.
    let helping = household_with(&app, HouseholdStatus::Helping).await;
    let hid = helping.household.id;
    let (status, err) = call(
        &app,
        &town,
        post.clone(),
        &format!("/api/v1/households/{hid}/changes"),
        Some(json!({"kind": "pre_exit", "year": 2017, "reason": "收入达标"})),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let msg = err["fields"][0]["message"].as_str().unwrap();
    assert!(msg.contains("低于当年脱贫标准 7500.00 元，还差"), "{msg}");

    // A pre-exit household above the standard: submitted, approved by its district, applied.
    let pre = household_with(&app, HouseholdStatus::PreExit).await;
    let pid = pre.household.id;
    let (status, sub) = call(
        &app,
        &town,
        post.clone(),
        &format!("/api/v1/households/{pid}/changes"),
        Some(json!({"kind": "exit", "year": 2017, "reason": "人均纯收入稳定超过标准", "effective_on": "2017-11-01"})),
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let cid = sub["id"].as_i64().unwrap();
    // The town cannot approve; another district cannot even see it; the district can.
    let (status, _) = call(&app, &town, post.clone(), &format!("/api/v1/changes/{cid}/approve"), Some(json!({}))).await;
    assert_eq!(status, 403);
    let (status, _) =
        call(&app, &other_district, post.clone(), &format!("/api/v1/changes/{cid}/approve"), Some(json!({}))).await;
    assert_eq!(status, 404);
    let (status, done) = call(
        &app,
        &district,
        post.clone(),
        &format!("/api/v1/changes/{cid}/approve"),
        Some(json!({"comment": "同意"})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "approved");
    let after = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(pid).await.unwrap().unwrap();
    assert_eq!(after.household.status, "exited");
    let last = after.history.last().unwrap();
    assert_eq!((last.status.as_str(), last.effective_on.to_string().as_str()), ("exited", "2017-11-01"));
    assert!(last.note.as_deref().unwrap().contains("脱贫"));
    // Deciding twice is refused.
    let (status, _) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{cid}/approve"), Some(json!({}))).await;
    assert_eq!(status, 409);

    // A birth: a member joins on approval; a rejection needs a reason and changes nothing.
    let first17 = "44078120170301123";
    let id_number = format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()));
    let baby = json!({"name": "新生儿", "id_number": id_number, "relation": "之孙子", "education": "学龄前儿童", "school_stage": "非在校生", "health": "健康", "labour_ability": "无劳动能力", "medical_insurance": true});
    let (status, sub) = call(
        &app,
        &town,
        post.clone(),
        &format!("/api/v1/households/{hid}/changes"),
        Some(json!({"kind": "add_member", "member_reason": "出生", "member": baby, "reason": "新生儿落户"})),
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let birth = sub["id"].as_i64().unwrap();
    let (status, e) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{birth}/reject"), Some(json!({}))).await;
    assert_eq!(status, 422, "{e}");
    let (status, _) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{birth}/approve"), Some(json!({}))).await;
    assert_eq!(status, 200);
    let with_baby = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    assert!(with_baby.members.iter().any(|m| m.name == "新生儿" && m.left_on.is_none()));

    // A death: the member is kept, marked as left, and no longer counted.
    let leaving = helping.members.last().unwrap();
    let (status, sub) = call(&app, &town, post.clone(), &format!("/api/v1/households/{hid}/changes"),
        Some(json!({"kind": "remove_member", "member_id": leaving.id, "member_reason": "死亡", "reason": "病故", "effective_on": "2017-10-01"}))).await;
    assert_eq!(status, 201, "{sub}");
    let (status, _) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{}/approve", sub["id"]), Some(json!({}))).await;
    assert_eq!(status, 200);
    let (_, detail) = call(&app, &town, reqwest::Method::GET, &format!("/api/v1/households/{hid}"), None).await;
    let ids = |key: &str| detail[key].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert!(!ids("members").contains(&leaving.id));
    assert_eq!(ids("former_members"), [leaving.id]);
    assert!(detail["former_members"][0]["left"].as_str().unwrap().contains("2017-10-01 死亡"));
    let kept = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    let gone = kept.members.iter().find(|m| m.id == leaving.id).unwrap();
    assert_eq!(gone.left_reason.as_deref(), Some("death"));

    // A split: the chosen members form a new household in the same village.
    let stay = kept.members.iter().filter(|m| m.left_on.is_none()).count();
    let mover = kept.members.iter().rfind(|m| m.left_on.is_none()).unwrap();
    let (status, sub) = call(
        &app,
        &town,
        post.clone(),
        &format!("/api/v1/households/{hid}/changes"),
        Some(json!({"kind": "split", "member_ids": [mover.id], "reason": "结婚分户"})),
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let (status, done) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{}/approve", sub["id"]), Some(json!({}))).await;
    assert_eq!(status, 200, "{done}");
    let new_id = done["result_household_id"].as_i64().unwrap();
    let new_h = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(new_id).await.unwrap().unwrap();
    assert_eq!(new_h.household.village_code, kept.household.village_code);
    assert_eq!(new_h.members.len(), 1);
    assert_eq!(new_h.members[0].id, mover.id);
    let old = app.db.scoped(&crate::support::sees(&Scope::All)).registry().household(hid).await.unwrap().unwrap();
    assert_eq!(old.members.iter().filter(|m| m.left_on.is_none()).count(), stay - 1);

    // A new identification creates the household and its head when approved.
    let first17 = "44078119750607235";
    let head_id = format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()));
    let (status, sub) = call(&app, &town, post.clone(), "/api/v1/changes", Some(json!({
        "reason": "因病致贫，经评议公示",
        "household": {"village_code": "440781111210", "household_type": "一般贫困户", "main_cause": "因病", "identified_on": "2017-10-20", "food_clothing": true},
        "head": {"name": "林新户", "id_number": head_id, "relation": "户主", "education": "初中", "school_stage": "非在校生", "health": "患有大病", "labour_ability": "丧失劳动能力", "medical_insurance": true}
    }))).await;
    assert_eq!(status, 201, "{sub}");
    let (status, done) =
        call(&app, &district, post.clone(), &format!("/api/v1/changes/{}/approve", sub["id"]), Some(json!({}))).await;
    assert_eq!(status, 200, "{done}");
    let created = app
        .db
        .scoped(&crate::support::sees(&Scope::All))
        .registry()
        .household(done["result_household_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.household.status, "identified");
    assert_eq!(created.members[0].name, "林新户");

    // Every step is in the chain, and the chain holds.
    assert!(app.db.system().audit().verify().await.unwrap().broken.is_none());
    let trail = app.db.system().audit().for_entity("change_request", &cid.to_string(), 10).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["approve", "submit"]);
}
