//! Town offices: the "六有" checklist by town and year, judged by the district; the office's staff.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::platform::{Staff, yes_no};
use ducha_domain::validation::FieldErrors;
use ducha_storage::platform::offices::{Item, Judgement, Office};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::pages::PageCtx;
use crate::registry::{parse_id, today};
use crate::{AppState, CurrentUser, WebError};

#[derive(Template)]
#[template(path = "platform/offices.html")]
struct OfficesPage {
    ctx: PageCtx,
    year: i32,
    items: Vec<Item>,
    offices: Vec<Office>,
    turnover_max: i64,
    can_edit_items: bool,
}

async fn year_and_max(st: &AppState, me: &CurrentUser) -> Result<(i32, i64), WebError> {
    let s = me.scoped(st);
    let (year, as_of) = s.checks().current().await?;
    let p = s.checks().params(year, as_of).await?;
    Ok((year, p.office_turnover_max))
}

pub(super) async fn offices_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let (year, turnover_max) = year_and_max(&st, &me).await?;
    let html = OfficesPage {
        ctx: PageCtx::new(&st, &me).await?,
        year,
        items: me.scoped(&st).platform().offices().items().await?.into_iter().filter(|i| i.active).collect(),
        offices: me.scoped(&st).platform().offices().list(year).await?,
        turnover_max,
        can_edit_items: me.user.role == ducha_domain::access::Role::CityOffice,
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Template)]
#[template(path = "platform/office.html")]
struct OfficePage {
    ctx: PageCtx,
    year: i32,
    items: Vec<Item>,
    o: Office,
    can_judge: bool,
    can_edit: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Saved {
    saved: String,
}

/// The town office of a code within the scope (404 otherwise).
async fn office(st: &AppState, me: &CurrentUser, code: &str, year: i32) -> Result<Office, WebError> {
    me.scoped(st).platform().offices().of_town(code, year).await?.ok_or(WebError::NotFound)
}

pub(super) async fn office_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(s): Query<Saved>,
) -> Result<Html<String>, WebError> {
    let (year, _) = year_and_max(&st, &me).await?;
    let o = office(&st, &me, &code, year).await?;
    let html = OfficePage {
        ctx: PageCtx::new(&st, &me).await?,
        year,
        items: me.scoped(&st).platform().offices().items().await?.into_iter().filter(|i| i.active).collect(),
        o,
        can_judge: me.user.role.manages_platform(),
        can_edit: me.user.role.edits_registry(),
        notice: (!s.saved.is_empty()).then(|| "已保存。".to_string()),
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct JudgeForm {
    item_id: String,
    met: String,
    note: String,
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/platform/offices/{code}?saved=1")).into_response()
}

pub(super) async fn save_judgement(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<JudgeForm>,
) -> Result<Response, WebError> {
    let (year, _) = year_and_max(&st, &me).await?;
    let o = office(&st, &me, &code, year).await?;
    let mut errors = FieldErrors::default();
    let item_id = errors.take("item_id", parse_id(&f.item_id).map_err(|e| e.to_string()));
    let met = yes_no(&f.met);
    if met.is_none() {
        errors.add("met", "请选择是否达标");
    }
    let (Some(item_id), Some(met)) = (item_id, met) else { return Err(WebError::Invalid(errors)) };
    let j = Judgement { town: o.town_code.clone(), year, item_id, met, note: f.note, on: today() };
    me.scoped(&st).platform().offices().judge(&j).await?;
    Ok(back(&o.town_code))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StaffForm {
    name: String,
    position: String,
    started_on: String,
}

pub(super) async fn save_staff(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<StaffForm>,
) -> Result<Response, WebError> {
    let (year, _) = year_and_max(&st, &me).await?;
    let o = office(&st, &me, &code, year).await?;
    let started_on = ducha_domain::registry::parse_date(&f.started_on).map_err(|why| {
        let mut e = FieldErrors::default();
        e.add("started_on", why);
        WebError::Invalid(e)
    })?;
    let s = Staff { town_code: o.town_code.clone(), name: f.name, position: f.position, started_on };
    me.scoped(&st).platform().offices().add_staff(&s).await?;
    Ok(back(&o.town_code))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LeftForm {
    ended_on: String,
}

pub(super) async fn save_left(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<LeftForm>,
) -> Result<Response, WebError> {
    let (year, _) = year_and_max(&st, &me).await?;
    let o = office(&st, &me, &code, year).await?;
    let id = parse_id(&id)?;
    if !o.staff.iter().any(|s| s.id == id) {
        return Err(WebError::NotFound);
    }
    let on = ducha_domain::registry::parse_date(&f.ended_on).map_err(|why| {
        let mut e = FieldErrors::default();
        e.add("ended_on", why);
        WebError::Invalid(e)
    })?;
    me.scoped(&st).platform().offices().staff_left(id, on).await?;
    Ok(back(&o.town_code))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ItemForm {
    /// Empty for a new item.
    id: String,
    name: String,
    description: String,
    /// "否" takes the item off the list.
    active: String,
}

/// Add an item to the checklist, or change or retire one (city office).
pub(super) async fn save_item(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<ItemForm>,
) -> Result<Response, WebError> {
    let id = match f.id.trim() {
        "" => None,
        t => Some(parse_id(t)?),
    };
    let active = yes_no(&f.active).unwrap_or(true);
    me.scoped(&st).platform().offices().set_item(id, &f.name, &f.description, active).await?;
    Ok(Redirect::to("/platform/offices").into_response())
}
