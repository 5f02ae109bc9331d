//! The regions API and region import, on both databases.

use ducha_domain::region::{RegionLevel, parse_region_file};
use ducha_storage::Backend;

use crate::support::{TestApp, TestDb};

both_backends!(
    regions_api_lists_levels_paths_and_resolves_names,
    region_import_adds_a_city_and_reimport_changes_nothing
);

async fn regions_api_lists_levels_paths_and_resolves_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, districts) = app.get_json("/api/v1/regions?level=district").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = districts.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"]);
    let (_, towns) = app.get_json("/api/v1/regions?level=town").await;
    let towns = towns.as_array().unwrap();
    assert_eq!(towns.len(), 82);
    assert_eq!(towns.iter().filter(|t| t["kind"] == "street").count(), 12);
    assert_eq!(towns.iter().filter(|t| t["kind"] == "town").count(), 61);
    let (_, pengjiang) = app.get_json("/api/v1/regions?level=town&parent=440703").await;
    assert_eq!(pengjiang.as_array().unwrap().len(), 6);

    let (status, haiyan) = app.get_json("/api/v1/regions/440781111").await;
    assert_eq!(status, 200);
    assert_eq!(haiyan["path"], "江门市/台山市/海宴镇");
    assert_eq!(haiyan["ancestors"][1]["code"], "440781");
    assert!(haiyan["children"].as_array().unwrap().len() > 5);

    let (status, r) = app.get_json("/api/v1/regions/resolve?name=%E6%B5%B7%E6%99%8F%E9%95%87").await; // 海晏镇
    assert_eq!(status, 200);
    assert_eq!(r["outcome"], "corrected");
    assert_eq!(r["region"]["code"], "440781111");
    assert_eq!(r["region"]["name"], "海宴镇");
    assert_eq!(r["path"], "江门市/台山市/海宴镇");
    assert!(r["note"].as_str().unwrap().contains("海宴镇"));

    // A village name that several towns share: candidates, not a guess.
    let tree = app.db.system().regions().tree().await.unwrap();
    let dup = tree
        .at_level(RegionLevel::Village)
        .find(|v| tree.at_level(RegionLevel::Village).filter(|o| o.name == v.name).count() > 1)
        .unwrap()
        .name
        .clone();
    let url = format!("/api/v1/regions/resolve?level=village&name={}", encode(&dup));
    let (_, r) = app.get_json(&url).await;
    assert_eq!(r["outcome"], "ambiguous", "{r}");
    assert!(r["candidates"].as_array().unwrap().len() >= 2);

    let (status, err) = app.get_json("/api/v1/regions?level=province").await;
    assert_eq!(status, 400);
    assert!(err["error"].as_str().unwrap().contains("level“province”无法识别"));
    let (status, err) = app.get_json("/api/v1/regions/440799999").await;
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().starts_with("没有找到"));
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// A second, made-up city in the same format.
pub const OTHER_CITY: &str = "code,name,level,parent_code\n\
4499,测试市,city,44\n\
449901,甲区,district,4499\n\
449901001,甲街道,town,449901\n\
449901101,乙镇,town,449901\n\
449901101201,丙村委会,village,449901101\n";

async fn region_import_adds_a_city_and_reimport_changes_nothing(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.open().await;
    db.system().regions().ensure_default().await.unwrap();
    let before = db.system().regions().list(None, None).await.unwrap().len();
    // The tree is kept between reads; an import by another process over the same database (a
    // second pool here) is seen within a second (its version is checked at most once a second).
    let cached = db.system().regions().tree().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&cached, &db.system().regions().tree().await.unwrap()), "read once, then kept");
    assert!(cached.get("449901101201").is_none());
    let other_process = test_db.open().await;
    let parsed = parse_region_file(OTHER_CITY.as_bytes()).unwrap();
    let s = other_process.scoped(&ducha_domain::access::Actor::system()).regions().import(&parsed).await.unwrap();
    let imported = std::time::Instant::now();
    while db.system().regions().tree().await.unwrap().get("449901101201").is_none() {
        assert!(imported.elapsed() < std::time::Duration::from_secs(3), "the other process's import is never seen");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(imported.elapsed() < std::time::Duration::from_millis(1500), "seen within a second or so");
    assert_eq!((s.inserted, s.updated), (5, 0));
    assert_eq!(db.system().regions().list(None, None).await.unwrap().len(), before + 5);
    let again = db.scoped(&ducha_domain::access::Actor::system()).regions().import(&parsed).await.unwrap();
    assert_eq!((again.inserted, again.updated), (0, 5));
    assert_eq!(db.system().regions().list(None, None).await.unwrap().len(), before + 5);
    let tree = db.system().regions().tree().await.unwrap();
    assert_eq!(tree.path("449901101201").as_deref(), Some("测试市/甲区/乙镇/丙村委会"));
}
