//! Regions: the division list as JSON (`/api/v1/regions`), one division with its path and
//! children, and name resolution for names as documents write them.

use axum::Json;
use axum::extract::{Path, Query, State};
use ducha_domain::region::{Region, RegionLevel, Resolution};
use serde::{Deserialize, Serialize};

use crate::{AppState, Routes, WebError};

/// The division list is public reference data (statistical codes), readable without signing in.
pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/regions", list).get("/api/v1/regions/resolve", resolve).get("/api/v1/regions/{code}", one)
}

/// A region as the API shows it.
#[derive(Debug, Serialize)]
pub struct RegionOut {
    code: String,
    name: String,
    level: RegionLevel,
    kind: &'static str,
    kind_label: &'static str,
    parent_code: String,
}

impl From<&Region> for RegionOut {
    fn from(r: &Region) -> Self {
        Self {
            code: r.code.as_str().to_string(),
            name: r.name.clone(),
            level: r.level,
            kind: r.kind.as_str(),
            kind_label: r.kind.label(),
            parent_code: r.parent_code.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    level: Option<String>,
    parent: Option<String>,
}

fn parse_level(text: Option<&str>) -> Result<Option<RegionLevel>, WebError> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => RegionLevel::parse(t).map(Some).ok_or_else(|| {
            WebError::BadRequest(format!("参数 level“{t}”无法识别，可填 city、district、town、village"))
        }),
    }
}

/// Divisions at a level and/or under a parent, in code order.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions",
    params(("level" = Option<String>, Query, description = "city、district、town 或 village"), ("parent" = Option<String>, Query, description = "上级区划代码")),
    responses((status = 200, body = Vec<Object>), (status = 400, description = "参数有误")))]
pub(crate) async fn list(
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<RegionOut>>, WebError> {
    let level = parse_level(q.level.as_deref())?;
    let parent = q.parent.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let rows = st.db.system().regions().list(level, parent).await?;
    Ok(Json(rows.iter().map(RegionOut::from).collect()))
}

#[derive(Debug, Serialize)]
pub struct RegionDetail {
    #[serde(flatten)]
    region: RegionOut,
    path: String,
    ancestors: Vec<RegionOut>,
    children: Vec<RegionOut>,
}

/// One division with its full path, ancestors and children.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "没有这个区划")))]
pub(crate) async fn one(State(st): State<AppState>, Path(code): Path<String>) -> Result<Json<RegionDetail>, WebError> {
    let tree = st.db.system().regions().tree().await?;
    let r = tree.get(&code).ok_or_else(|| WebError::NotFound)?;
    Ok(Json(RegionDetail {
        region: r.into(),
        path: tree.path(&code).unwrap_or_default(),
        ancestors: tree.ancestors(&code).into_iter().map(RegionOut::from).collect(),
        children: tree.children(&code).map(RegionOut::from).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ResolveQuery {
    name: Option<String>,
    level: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ResolveOut {
    input: String,
    #[serde(flatten)]
    resolution: Resolution,
    /// The resolved division's full path, when there is exactly one.
    path: Option<String>,
}

/// Resolve a name as documents write it (海晏镇 → 440781111 海宴镇, with a note of the correction;
/// an ambiguous name gives its candidates).
#[utoipa::path(get, path = "/api/v1/regions/resolve", tag = "regions",
    params(("name" = String, Query, description = "名称，可带上级，如 台山市海晏镇"), ("level" = Option<String>, Query)),
    responses((status = 200, body = Object), (status = 400, description = "缺少 name")))]
pub(crate) async fn resolve(
    State(st): State<AppState>,
    Query(q): Query<ResolveQuery>,
) -> Result<Json<ResolveOut>, WebError> {
    let name = q.name.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(WebError::BadRequest("请用参数 name 给出要识别的名称".into()));
    }
    let level = parse_level(q.level.as_deref())?;
    let tree = st.db.system().regions().tree().await?;
    let resolution = tree.resolve(&name, level);
    let path = match &resolution {
        Resolution::Exact { region } | Resolution::Corrected { region, .. } => tree.path(region.code.as_str()),
        _ => None,
    };
    Ok(Json(ResolveOut { input: name, resolution, path }))
}
