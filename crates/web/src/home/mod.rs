//! The home page: the households in the user's scope by status and by the divisions one level
//! down, each linking into the list.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use ducha_domain::access::Scope;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionLevel;
use ducha_domain::registry::HouseholdStatus;
use ducha_storage::{regions, registry};

use crate::pages::PageCtx;
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/", page)
}

pub struct ChildRow {
    code: String,
    name: String,
    households: i64,
    members: i64,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    ctx: PageCtx,
    scope_name: String,
    total_households: i64,
    total_members: i64,
    statuses: Vec<(&'static str, &'static str, i64)>,
    child_level: &'static str,
    children: Vec<ChildRow>,
}

async fn page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let scope = &me.actor.scope;
    let tree = regions::tree(&st.db).await?;
    let (scope_name, child_level) = match scope {
        Scope::All => {
            (tree.at_level(RegionLevel::City).next().map(|c| c.name.clone()).unwrap_or_default(), RegionLevel::District)
        }
        Scope::Region(code) => (
            tree.get(code.as_str()).map(|r| r.name.clone()).unwrap_or_default(),
            match code.level() {
                RegionLevel::City => RegionLevel::District,
                RegionLevel::District => RegionLevel::Town,
                _ => RegionLevel::Village,
            },
        ),
    };
    let counts = registry::counts_by_region(&st.db, scope, child_level).await?;
    let by_status = registry::counts_by_status(&st.db, scope).await?;
    let statuses = HouseholdStatus::ALL
        .iter()
        .map(|s| (s.code(), s.label(), by_status.iter().find(|(c, _)| c == s.code()).map_or(0, |(_, n)| *n)))
        .collect();
    let children = counts
        .iter()
        .map(|(code, households, members)| ChildRow {
            code: code.clone(),
            name: tree.get(code).map_or_else(|| code.clone(), |r| r.name.clone()),
            households: *households,
            members: *members,
        })
        .collect();
    let page = HomePage {
        ctx: PageCtx::new(&st, &me).await?,
        scope_name,
        total_households: counts.iter().map(|c| c.1).sum(),
        total_members: counts.iter().map(|c| c.2).sum(),
        statuses,
        child_level: child_level.label(),
        children,
    };
    Ok(Html(page.render()?))
}
