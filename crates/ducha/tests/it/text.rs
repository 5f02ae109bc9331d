//! Text is never cut by bytes. A name of six Chinese characters is 18 bytes, an ID number's
//! length: searching for it once killed the request on a character boundary. In the page and
//! the API alike it is now searched as a name, and found.

use ducha_storage::Backend;
use sea_orm::ConnectionTrait;

use crate::support::TestApp;

both_backends!(a_six_character_name_is_searched_as_a_name);

async fn a_six_character_name_is_searched_as_a_name(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 200).await;
    let conn = app.db.conn();
    let stmt = |sql: &str| sea_orm::Statement::from_string(conn.get_database_backend(), sql.to_string());
    conn.execute_raw(stmt(
        "UPDATE members SET name = '欧阳娜娜娜娜' WHERE id = (SELECT MIN(m.id) FROM members m \
         JOIN households h ON h.id = m.household_id WHERE m.relation = 'head' AND m.left_on IS NULL)",
    ))
    .await
    .unwrap();
    let b = app.login("city").await;
    for q in ["欧阳娜娜娜娜", "123456789012345欧", "娜娜娜娜娜娜娜"] {
        for base in ["/households", "/api/v1/households"] {
            let (status, body) = b.get_text(&format!("{base}?q={q}")).await;
            assert_eq!(status, 200, "{base}?q={q}: {body}");
        }
    }
    let v: serde_json::Value = b.get("/api/v1/households?q=欧阳娜娜娜娜").await.json().await.unwrap();
    assert_eq!(v["total"], 1, "the member is found by name: {v}");
    let (_, page) = b.get_text("/households?q=欧阳娜娜娜娜").await;
    assert!(page.contains(">欧阳娜娜娜娜<"), "the page lists the household");
}
