//! The home page: the households in the user's scope by status and by the divisions one level
//! down, each linking into the list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use ducha_domain::access::Scope;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionLevel;
use ducha_domain::registry::HouseholdStatus;

use crate::pages::PageCtx;
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/", page)
}

/// Counts by division and by status for one scope, with when they were made.
#[derive(Clone)]
pub struct Counts {
    by_region: Vec<(String, i64, i64)>,
    by_status: Vec<(String, i64)>,
    made_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Default)]
pub struct CountsCache(Arc<Mutex<HashMap<String, (Instant, Counts)>>>);

const FRESH_FOR: Duration = Duration::from_secs(60);

impl CountsCache {
    async fn get(&self, s: &ducha_storage::Scoped, level: RegionLevel) -> Result<Counts, WebError> {
        let scope = s.scope();
        let key = format!("{scope:?}/{level:?}");
        if let Ok(map) = self.0.lock()
            && let Some((at, c)) = map.get(&key)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(c.clone());
        }
        let counts = Counts {
            by_region: s.registry().counts_by_region(level).await?,
            by_status: s.registry().counts_by_status().await?,
            made_at: chrono::Utc::now(),
        };
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, (Instant::now(), counts.clone()));
        }
        Ok(counts)
    }
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
    counted_at: String,
}

async fn page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let scope = &me.actor.scope;
    let tree = me.scoped(&st).regions().tree().await?;
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
    let cached = st.counts.get(&me.scoped(&st), child_level).await?;
    let (counts, by_status) = (&cached.by_region, &cached.by_status);
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
        counted_at: crate::pages::china_time(&cached.made_at),
    };
    Ok(Html(page.render()?))
}
