//! Rectification (整改): the list by district, town and responsible unit with what is overdue,
//! and one problem's page where the office submits what it did with evidence and the city office
//! or an inspector closes it or sends it back.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::access::Role;
use ducha_domain::labelled::Labelled;
use ducha_domain::rectification::{RectAction, RectStatus};
use ducha_storage::evidence::EvidenceMeta;
use ducha_storage::rectification::{self, Filter, Rect, Tally};
use serde::Deserialize;

use crate::auth::csrf::CsrfMultipart;
use crate::pages::PageCtx;
use crate::registry::parse_id;
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/rectification", list_page).get("/rectification/{id}", detail_page).post("/rectification/{id}", act)
}

#[derive(Template)]
#[template(path = "rectification/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<Rect>,
    by_district: Vec<Tally>,
    /// Each unit with its name as a query value.
    by_unit: Vec<(Tally, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    q: ListQuery,
    overdue: usize,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ListQuery {
    status: String,
    overdue: String,
    unit: String,
}

async fn list_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let all = rectification::list(&st.db, st.db.conn(), &me.actor, &Filter::default()).await?;
    let by_district =
        rectification::tally(&all, |r| (r.problem.district_code.clone(), r.problem.district_name.clone()));
    let by_unit =
        rectification::tally(&all, |r| (r.problem.responsible_unit.clone(), r.problem.responsible_unit.clone()))
            .into_iter()
            .map(|t| {
                let q = crate::pages::percent_encode(&t.name);
                (t, q)
            })
            .collect();
    let status = RectStatus::parse(&q.status).ok();
    let rows = all
        .iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|r| q.overdue.is_empty() || r.overdue)
        .filter(|r| q.unit.is_empty() || r.problem.responsible_unit == q.unit)
        .cloned()
        .collect();
    let html = ListPage {
        ctx: PageCtx::new(&st, &me).await?,
        overdue: all.iter().filter(|r| r.overdue).count(),
        rows,
        by_district,
        by_unit,
        statuses: RectStatus::ALL.iter().map(|s| (s.code(), s.label())).collect(),
        q,
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Template)]
#[template(path = "rectification/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    r: Rect,
    files: Vec<EvidenceMeta>,
    can_rectify: bool,
    can_verify: bool,
}

async fn detail_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let r = rectification::one(&st.db, st.db.conn(), &me.actor, id).await?;
    let open = r.status != RectStatus::Closed;
    let html = DetailPage {
        ctx: PageCtx::new(&st, &me).await?,
        files: ducha_storage::evidence::for_owner(&st.db, "rectification", id).await?,
        can_rectify: open
            && r.status != RectStatus::Submitted
            && matches!(me.user.role, Role::TownOffice | Role::DistrictOffice),
        can_verify: r.status == RectStatus::Submitted && matches!(me.user.role, Role::CityOffice | Role::Inspector),
        r,
    }
    .render()?;
    Ok(Html(html))
}

async fn act(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    // The problem first: one out of reach is not found, whatever the body.
    rectification::one(&st.db, st.db.conn(), &me.actor, id).await?;
    let form = form?;
    let mut e = ducha_domain::validation::FieldErrors::default();
    let Some(action) = e.take("action", RectAction::parse(&form.get("action"))) else {
        return Err(WebError::Invalid(e));
    };
    rectification::act(&st.db, &me.actor, id, action, &form.get("text"), &form.files).await?;
    Ok(Redirect::to(&format!("/rectification/{id}")).into_response())
}
