//! The audit trail: every change recorded, chained, and `verify` finding the first altered or
//! removed record.

use ducha_storage::{Backend, audit};
use sea_orm::ConnectionTrait;

use crate::accounts::app_first_household;
use crate::support::TestApp;

both_backends!(edits_are_recorded_and_tampering_is_found_at_the_exact_record);

async fn edits_are_recorded_and_tampering_is_found_at_the_exact_record(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let report = audit::verify(&app.db).await.unwrap();
    assert!(report.broken.is_none(), "a clean database verifies: {report:?}");
    let clean = report.checked;
    assert!(clean >= 3, "region import, demo load and accounts are recorded");

    // Three edits through the pages, each one record.
    let b = app.login("haiyan").await;
    let hid = app_first_household(&app, "440781111").await;
    for addr in ["一号", "二号", "三号"] {
        let (_, form) = b.get_text(&format!("/households/{hid}/edit")).await;
        let version = form.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let village = form
            .split("<option value=\"")
            .skip(1)
            .find(|o| o.contains(" selected"))
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = b
            .submit(
                &format!("/households/{hid}/edit"),
                &[
                    ("version", version.as_str()),
                    ("village_code", village.as_str()),
                    ("household_type", "一般贫困户"),
                    ("main_cause", "因病"),
                    ("identified_on", "2016-05-01"),
                    ("address", addr),
                    ("food_clothing", "是"),
                ],
            )
            .await;
        assert!(r.url().query().unwrap_or("").contains("saved=1"), "{}", r.text().await.unwrap());
    }
    let trail = audit::for_household(&app.db, hid, 10).await.unwrap();
    assert_eq!(trail.len(), 3);
    assert!(trail.iter().all(|r| r.actor == "haiyan" && r.action == "update"));
    assert!(trail[0].after.as_deref().unwrap().contains("三号"));
    assert!(trail[0].before.as_deref().unwrap().contains("二号"));
    let ok = audit::verify(&app.db).await.unwrap();
    assert_eq!((ok.checked, ok.broken), (clean + 3, None));

    // Someone edits the middle record by hand in SQL: verify names exactly that record.
    let target = trail[1].id;
    app.db
        .conn()
        .execute_unprepared(&format!("UPDATE audit_log SET after = REPLACE(after, '二号', '八号') WHERE id = {target}"))
        .await
        .unwrap();
    let bad = audit::verify(&app.db).await.unwrap();
    let (id, why) = bad.broken.expect("the change is found");
    assert_eq!(id, target);
    assert!(why.contains("已被改动"), "{why}");

    // Put it back, then delete a record: the gap is named.
    app.db
        .conn()
        .execute_unprepared(&format!("UPDATE audit_log SET after = REPLACE(after, '八号', '二号') WHERE id = {target}"))
        .await
        .unwrap();
    assert!(audit::verify(&app.db).await.unwrap().broken.is_none());
    app.db.conn().execute_unprepared(&format!("DELETE FROM audit_log WHERE id = {target}")).await.unwrap();
    let (id, why) = audit::verify(&app.db).await.unwrap().broken.expect("the removal is found");
    assert_eq!(id, target);
    assert!(why.contains("缺失"), "{why}");

    // Removing the newest record leaves the chain head pointing past the end.
    let last = trail[0].id;
    app.db.conn().execute_unprepared(&format!("DELETE FROM audit_log WHERE id >= {target}")).await.unwrap();
    let (id, _) = audit::verify(&app.db).await.unwrap().broken.expect("removal at the end is found");
    assert_eq!(id, target);
    assert!(last > target);
}
