//! Town offices: the "六有" checklist by town and year, judged by the district; the office's staff.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use ducha_domain::platform::{Staff, yes_no};
use ducha_domain::validation::FieldErrors;
use ducha_storage::platform::offices::{Item, Judgement, Office};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::forms::{Field, FormPage};
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
    let saved = match (item_id, met) {
        (Some(item_id), Some(met)) => {
            let j = Judgement { town: o.town_code.clone(), year, item_id, met, note: f.note.clone(), on: today() };
            me.scoped(&st).platform().offices().judge(&j).await.map(|_| saved_at(&o.town_code)).map_err(WebError::from)
        }
        _ => Err(WebError::Invalid(errors)),
    };
    let yes_no = vec![(String::new(), "请选择".into()), ("是".into(), "达标".into()), ("否".into(), "未达标".into())];
    let fields =
        vec![Field::select("met", "是否达标", &f.met, yes_no).required(), Field::textarea("note", "说明", &f.note)];
    let mut form = office_form(&o.town_code, "“六有”达标判定", "judge", fields);
    form.hidden.push(("item_id", f.item_id.clone()));
    form.after_save(&st, &me, saved).await
}

/// Where a saved office form leads: the office's page.
fn saved_at(code: &str) -> String {
    format!("/platform/offices/{code}?saved=1")
}

/// An office's form at `path` under its page, shown again as typed when refused.
fn office_form(code: &str, title: &str, path: &str, fields: Vec<Field>) -> FormPage {
    FormPage {
        multipart: false,
        title: title.into(),
        action: format!("/platform/offices/{code}/{path}"),
        back: format!("/platform/offices/{code}"),
        hidden: vec![],
        fields,
    }
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
    let mut e = FieldErrors::default();
    let saved = match e.take("started_on", ducha_domain::registry::parse_date(&f.started_on)) {
        Some(started_on) => {
            let s = Staff {
                town_code: o.town_code.clone(),
                name: f.name.clone(),
                position: f.position.clone(),
                started_on,
            };
            me.scoped(&st)
                .platform()
                .offices()
                .add_staff(&s)
                .await
                .map(|_| saved_at(&o.town_code))
                .map_err(WebError::from)
        }
        None => Err(WebError::Invalid(e)),
    };
    let fields = vec![
        Field::text("name", "姓名", &f.name).required(),
        Field::text("position", "职务", &f.position),
        Field::date("started_on", "到岗日期", &f.started_on).required(),
    ];
    office_form(&o.town_code, "添加工作人员", "staff", fields).after_save(&st, &me, saved).await
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
    let mut e = FieldErrors::default();
    let saved = match e.take("ended_on", ducha_domain::registry::parse_date(&f.ended_on)) {
        Some(on) => me
            .scoped(&st)
            .platform()
            .offices()
            .staff_left(id, on)
            .await
            .map(|_| saved_at(&o.town_code))
            .map_err(WebError::from),
        None => Err(WebError::Invalid(e)),
    };
    let fields = vec![Field::date("ended_on", "离岗日期", &f.ended_on).required()];
    office_form(&o.town_code, "工作人员离岗", &format!("staff/{id}/left"), fields).after_save(&st, &me, saved).await
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
    let saved = me
        .scoped(&st)
        .platform()
        .offices()
        .set_item(id, &f.name, &f.description, active)
        .await
        .map(|_| "/platform/offices".to_string())
        .map_err(WebError::from);
    // Refused (no name, say): the item's form as typed.
    FormPage {
        multipart: false,
        title: "“六有”清单项目".into(),
        action: "/platform/offices/items".into(),
        back: "/platform/offices".into(),
        hidden: vec![("id", f.id.clone()), ("active", f.active.clone())],
        fields: vec![
            Field::text("name", "项目", &f.name).required(),
            Field::textarea("description", "说明", &f.description),
        ],
    }
    .after_save(&st, &me, saved)
    .await
}
