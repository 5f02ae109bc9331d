//! Rectification (整改): the list by district, town and responsible unit with what is overdue,
//! and one problem's page where the office submits what it did with evidence and the city office
//! or an inspector closes it or sends it back.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use ducha_domain::labelled::Labelled;
use ducha_domain::rectification::{RectAction, RectStatus};
use ducha_storage::evidence::EvidenceMeta;
use ducha_storage::rectification::{self, Filter, Rect, RectDetail, Tally};
use serde::Deserialize;

use crate::auth::csrf::CsrfMultipart;
use crate::forms::{Field, FormPage, files_field};
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
    by_town: Vec<Tally>,
    /// Each unit with its name as a query value.
    by_unit: Vec<(Tally, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    q: ListQuery,
    overdue: usize,
    /// Charts drawn by the server (the same SVG goes into documents).
    charts: Vec<(&'static str, String)>,
}

/// A category's name short enough for a chart's legend.
fn short_label(c: ducha_domain::checks::Category) -> &'static str {
    use ducha_domain::checks::Category::*;
    match c {
        Platform => "平台建设",
        Responsibility => "责任落实",
        DataAccuracy => "数据精准",
        Measures => "帮扶措施",
        Funds => "资金进度",
        DataQuality => "数据质量",
    }
}

/// The dashboard's charts: problems by district and category, the rectification rate by
/// district, and the rate and overdue share over time.
fn charts(all: &[Rect], by_district: &[Tally], today: chrono::NaiveDate) -> Vec<(&'static str, String)> {
    use ducha_domain::checks::Category;
    use ducha_reports::circular::{bar_chart_svg, line_chart_svg};
    if all.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = by_district.iter().map(|t| t.name.clone()).collect();
    let series: Vec<(String, Vec<f64>)> = Category::ALL
        .iter()
        .map(|c| {
            let counts = names
                .iter()
                .map(|n| {
                    all.iter().filter(|r| &r.problem.district_name == n && r.problem.category == *c).count() as f64
                })
                .collect();
            (short_label(*c).to_string(), counts)
        })
        .filter(|(_, v): &(String, Vec<f64>)| v.iter().any(|x| *x > 0.0))
        .collect();
    let rates = by_district.iter().map(|t| t.rate().map_or(f64::NAN, |r| r as f64)).collect();
    let time = rectification::over_time(all, today, 8);
    let labels: Vec<String> = time.iter().map(|(d, _, _)| d.format("%Y-%m").to_string()).collect();
    vec![
        ("各市（区）问题数（按类别）", bar_chart_svg("", &names, &series)),
        ("各市（区）整改率（%）", bar_chart_svg("", &names, &[("整改率".to_string(), rates)])),
        (
            "整改率与逾期比例",
            line_chart_svg(
                "",
                &labels,
                &[
                    ("整改率".to_string(), time.iter().map(|t| t.1).collect()),
                    ("逾期比例".to_string(), time.iter().map(|t| t.2).collect()),
                ],
            ),
        ),
    ]
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
    let s = me.scoped(&st);
    let all = s.rectification().list(&Filter::default()).await?;
    let by_district =
        rectification::tally(&all, |r| (r.problem.district_code.clone(), r.problem.district_name.clone()));
    let by_town = rectification::tally(&all, |r| {
        (r.problem.town_code.clone(), format!("{}{}", r.problem.district_name, r.problem.town_name))
    });
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
        charts: charts(&all, &by_district, s.today()),
        overdue: all.iter().filter(|r| r.overdue).count(),
        rows,
        by_district,
        by_town,
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
    let RectDetail { rect: r, files } = me.scoped(&st).rectification().detail(id).await?;
    let open = r.status != RectStatus::Closed;
    let html = DetailPage {
        ctx: PageCtx::new(&st, &me).await?,
        files,
        can_rectify: open && r.status != RectStatus::Submitted && ducha_domain::rectification::rectifies(me.user.role),
        can_verify: r.status == RectStatus::Submitted && ducha_domain::rectification::verifies(me.user.role),
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
    let s = me.scoped(&st);
    s.rectification().one(id).await?;
    let form = form?;
    let mut e = ducha_domain::validation::FieldErrors::default();
    let Some(action) = e.take("action", RectAction::parse(&form.get("action"))) else {
        return Err(WebError::Invalid(e));
    };
    let text = form.get("text");
    let back = format!("/rectification/{id}");
    let saved = s.rectification().act(id, action, &text, &form.files).await.map(|_| back.clone());
    // Refused (no text, no evidence, a return without its reason): the form again, with what was
    // typed and each error beside its field.
    let submit = action == RectAction::Submit;
    let mut fields = vec![
        Field::textarea("text", if submit { "整改情况" } else { "退回原因（退回时必填）" }, &text)
            .also(&["description", "reason"])
            .required(),
    ];
    // Files go with any action (a return may show what is still wrong); the form posts as the
    // page's own forms do.
    let mut files = files_field();
    files.label = if submit { "佐证材料（照片或扫描件）" } else { "附件（可不传）" };
    fields.push(files);
    FormPage {
        multipart: false,
        title: if submit { "报送整改情况".into() } else { "核实整改".into() },
        action: back.clone(),
        back,
        hidden: vec![("action", form.get("action"))],
        fields,
    }
    .after_save(&st, &me, saved.map_err(WebError::from))
    .await
}
