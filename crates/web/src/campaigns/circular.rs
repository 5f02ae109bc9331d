//! The circular of a campaign in the browser (HTML, as the paper reads), as docx and PDF, its
//! problem list as xlsx, and the city office's form for the circular's own words.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_reports::circular::{self, campaign::for_campaign};
use ducha_storage::campaigns::circular::CircularSettings;
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::pages::{PageCtx, download, xlsx_download};
use crate::registry::parse_id;
use crate::{AppState, CurrentUser, WebError};

/// Rendering errors are the server's; a campaign out of reach is not found.
fn failed(e: circular::CircularError) -> WebError {
    match e {
        circular::CircularError::Storage(s) => s.into(),
        other => WebError::Internal(Box::new(other)),
    }
}

#[derive(Template)]
#[template(path = "campaigns/circular.html")]
struct CircularPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    document: String,
    s: CircularSettings,
    can_edit: bool,
}

pub(super) async fn page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let (c, summary, settings) = for_campaign(&me.scoped(&st), id).await.map_err(failed)?;
    let html = CircularPage {
        ctx: PageCtx::new(&st, &me).await?,
        id,
        name: summary.campaign.name.clone(),
        document: circular::to_html_fragment(&c),
        can_edit: summary.access.plans,
        s: settings,
    }
    .render()?;
    Ok(Html(html))
}

pub(super) async fn docx(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (c, summary, _) = for_campaign(&me.scoped(&st), parse_id(&id)?).await.map_err(failed)?;
    let bytes = st.work.run(move || circular::to_docx(&c)).await?.map_err(failed)?;
    let name = format!("{}通报.docx", summary.campaign.name);
    Ok(download(bytes, &name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
}

pub(super) async fn pdf(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (c, summary, _) = for_campaign(&me.scoped(&st), parse_id(&id)?).await.map_err(failed)?;
    // Typesetting takes a while on a large problem list: in its turn, off the async threads.
    let bytes = st.work.run(move || circular::to_pdf(&c)).await?.map_err(failed)?;
    Ok(download(bytes, &format!("{}通报.pdf", summary.campaign.name), "application/pdf"))
}

pub(super) async fn problems_xlsx(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (c, _, _) = for_campaign(&me.scoped(&st), parse_id(&id)?).await.map_err(failed)?;
    let a = c.attachment.ok_or(WebError::NotFound)?;
    let name = format!("{}.xlsx", a.title);
    let bytes = st.work.run(move || circular::problem_list_xlsx(&a.title, &a.table)).await?.map_err(failed)?;
    Ok(xlsx_download(bytes, &name))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SettingsForm {
    number: String,
    title: String,
    addressees: String,
    basis: String,
    next_steps: String,
    signer: String,
    issued_on: String,
    disclosure: String,
    copied_to: String,
    deadline_days: String,
}

pub(super) async fn save(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let scoped = me.scoped(&st);
    if !scoped.campaigns().open(id).await?.access().plans {
        return Err(WebError::Forbidden("通报由市扶贫办起草".into()));
    }
    let mut e = ducha_domain::validation::FieldErrors::default();
    let issued_on = e.take("issued_on", ducha_domain::registry::parse_date(&f.issued_on));
    let deadline_days = e.take(
        "deadline_days",
        f.deadline_days
            .trim()
            .parse::<i32>()
            .map_err(|_| format!("整改时限应为天数，而不是“{}”", f.deadline_days.trim())),
    );
    let (Some(issued_on), Some(deadline_days)) = (issued_on, deadline_days) else {
        return Err(WebError::Invalid(e));
    };
    let s = CircularSettings {
        number: f.number,
        title: f.title,
        addressees: f.addressees,
        basis: f.basis,
        next_steps: f.next_steps,
        signer: f.signer,
        issued_on,
        disclosure: f.disclosure,
        copied_to: f.copied_to,
        deadline_days,
    };
    scoped.campaigns().save_circular(id, &s).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}/circular")).into_response())
}
