//! The home page: households in scope by status and by district.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use ducha_domain::access::Scope;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionLevel;
use ducha_domain::registry::HouseholdStatus;
use ducha_storage::{regions, registry};

use crate::{AppState, WebError};

pub struct DistrictRow {
    name: String,
    towns: usize,
    households: i64,
    members: i64,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    city_name: String,
    total_households: i64,
    total_members: i64,
    statuses: Vec<(&'static str, i64)>,
    districts: Vec<DistrictRow>,
    region_count: usize,
}

pub async fn page(State(st): State<AppState>) -> Result<Html<String>, WebError> {
    let scope = Scope::All;
    let tree = regions::tree(&st.db).await?;
    let counts = registry::counts_by_district(&st.db, &scope).await?;
    let by_status = registry::counts_by_status(&st.db, &scope).await?;
    let statuses = HouseholdStatus::ALL
        .iter()
        .map(|s| (s.label(), by_status.iter().find(|(c, _)| c == s.code()).map_or(0, |(_, n)| *n)))
        .collect();
    let districts = tree
        .at_level(RegionLevel::District)
        .map(|d| {
            let c = counts.iter().find(|c| c.district_code == d.code.as_str());
            DistrictRow {
                name: d.name.clone(),
                towns: tree.children(d.code.as_str()).count(),
                households: c.map_or(0, |c| c.households),
                members: c.map_or(0, |c| c.members),
            }
        })
        .collect();
    let page = HomePage {
        city_name: tree.at_level(RegionLevel::City).next().map(|c| c.name.clone()).unwrap_or_default(),
        total_households: counts.iter().map(|c| c.households).sum(),
        total_members: counts.iter().map(|c| c.members).sum(),
        statuses,
        districts,
        region_count: tree.all().len(),
    };
    Ok(Html(page.render()?))
}
