//! The circular of a campaign in the browser (HTML, as the paper reads), as docx and PDF, its
//! problem list as xlsx, and the city office's form for the circular's own words.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use ducha_reports::circular::{self, campaign::for_campaign};
use ducha_storage::campaigns::circular::CircularSettings;
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::forms::{Field, FormPage};
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
    let saved = save_settings(&scoped, id, &f).await;
    // Refused (a date that is none, a time limit that is no number): the settings as typed.
    FormPage {
        title: "通报的文号、标题与落款".into(),
        action: format!("/campaigns/{id}/circular"),
        back: format!("/campaigns/{id}/circular"),
        hidden: vec![],
        fields: vec![
            Field::text("number", "发文字号", &f.number),
            Field::date("issued_on", "成文日期", &f.issued_on).required(),
            Field::text("title", "标题", &f.title).wide(),
            Field::text("addressees", "主送", &f.addressees),
            Field::text("signer", "发文机关署名", &f.signer),
            Field::text("basis", "依据文件（可不填）", &f.basis).wide(),
            Field::textarea(
                "next_steps",
                "三、下一步工作（每段一行；以“（一）标题。”开头的段落，标题用楷体）",
                &f.next_steps,
            ),
            Field::text("deadline_days", "整改时限（成文后天数）", &f.deadline_days).required(),
            Field::text("disclosure", "公开方式", &f.disclosure),
            Field::text("copied_to", "抄送", &f.copied_to).wide(),
        ],
        multipart: false,
    }
    .after_save(&st, &me, saved)
    .await
}

/// Check and save the circular's settings: its page, or why not (each error at its field).
async fn save_settings(scoped: &ducha_storage::Scoped, id: i64, f: &SettingsForm) -> Result<String, WebError> {
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
        number: f.number.clone(),
        title: f.title.clone(),
        addressees: f.addressees.clone(),
        basis: f.basis.clone(),
        next_steps: f.next_steps.clone(),
        signer: f.signer.clone(),
        issued_on,
        disclosure: f.disclosure.clone(),
        copied_to: f.copied_to.clone(),
        deadline_days,
    };
    scoped.campaigns().save_circular(id, &s).await?;
    Ok(format!("/campaigns/{id}/circular"))
}
