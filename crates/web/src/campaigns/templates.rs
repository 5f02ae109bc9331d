//! The document-review checklist and the questionnaire campaigns use: read by everyone who
//! works on campaigns, extended by the city office.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use ducha_domain::campaigns::questionnaire::{Question, QuestionKind};
use ducha_domain::labelled::Labelled;
use ducha_domain::validation::FieldErrors;
use ducha_storage::campaigns::fieldwork::ChecklistItem;
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::forms::{Field, FormPage};
use crate::pages::PageCtx;
use crate::{AppState, CurrentUser, WebError};

/// The shipped templates (the migration's first of each); campaigns use them.
const TEMPLATE: i64 = 1;

#[derive(Template)]
#[template(path = "campaigns/templates.html")]
struct TemplatesPage {
    ctx: PageCtx,
    items: Vec<ChecklistItem>,
    questions: Vec<Question>,
    kinds: Vec<&'static str>,
    can_edit: bool,
}

pub(super) async fn page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let s = me.scoped(&st);
    let html = TemplatesPage {
        ctx: PageCtx::new(&st, &me).await?,
        items: s.campaigns().templates().checklist(TEMPLATE).await?,
        questions: s.campaigns().templates().questions(TEMPLATE).await?,
        kinds: QuestionKind::ALL.iter().map(|k| k.label()).collect(),
        can_edit: me.user.role == ducha_domain::access::Role::CityOffice,
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ItemForm {
    section: String,
    text: String,
}

pub(super) async fn add_item(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<ItemForm>,
) -> Result<Response, WebError> {
    let saved = me
        .scoped(&st)
        .campaigns()
        .templates()
        .add_checklist_item(TEMPLATE, &f.section, &f.text)
        .await
        .map(|_| BACK.to_string())
        .map_err(WebError::from);
    let text = Field::text("text", "检查内容", &f.text).required().wide();
    template_form("增加资料检查项目", "items", vec![Field::text("section", "方面", &f.section).required(), text])
        .after_save(&st, &me, saved)
        .await
}

/// Where the templates' forms lead back to.
const BACK: &str = "/campaigns/templates";

/// A form of the templates' page, shown again as typed when refused.
fn template_form(title: &str, path: &str, fields: Vec<Field>) -> FormPage {
    FormPage {
        title: title.into(),
        action: format!("{BACK}/{path}"),
        back: BACK.into(),
        hidden: vec![],
        fields,
        multipart: false,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct QuestionForm {
    kind: String,
    text: String,
    options: String,
    scale_min: String,
    scale_max: String,
    topic: String,
    satisfied: String,
}

fn list(text: &str) -> Vec<String> {
    text.split(['、', ',', '，', ';', '；']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

pub(super) async fn add_question(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<QuestionForm>,
) -> Result<Response, WebError> {
    if me.user.role != ducha_domain::access::Role::CityOffice {
        return Err(WebError::Forbidden("问卷由市扶贫办维护".into()));
    }
    let saved = save_question(&st, &me, &f).await;
    let fields = vec![
        Field::vocab::<QuestionKind>("kind", "题型", &f.kind, None).required(),
        Field::text("text", "题目", &f.text).required().wide(),
        Field::text("options", "选项（选择题；用顿号分隔）", &f.options).wide(),
        Field::text("scale_min", "量表最低分", &f.scale_min),
        Field::text("scale_max", "量表最高分", &f.scale_max),
        Field::text("topic", "计入满意度的方面（可不填）", &f.topic),
        Field::text("satisfied", "算满意的回答（选项，或量表的最低分）", &f.satisfied),
    ];
    template_form("增加问卷题目", "questions", fields).after_save(&st, &me, saved).await
}

/// Check and save a question: where to go next, or why not (each error at its field).
async fn save_question(st: &AppState, me: &CurrentUser, f: &QuestionForm) -> Result<String, WebError> {
    let mut e = FieldErrors::default();
    let kind = e.take("kind", QuestionKind::parse(&f.kind));
    let number = |e: &mut FieldErrors, field: &str, text: &str, default: i32| match text.trim() {
        "" => default,
        t => e.take(field, t.parse::<i32>().map_err(|_| format!("应为整数，而不是“{t}”"))).unwrap_or(default),
    };
    let scale_min = number(&mut e, "scale_min", &f.scale_min, 1);
    let scale_max = number(&mut e, "scale_max", &f.scale_max, 5);
    let Some(kind) = kind else { return Err(WebError::Invalid(e)) };
    if !e.is_empty() {
        return Err(WebError::Invalid(e));
    }
    let scale = kind == QuestionKind::Scale;
    let q = Question {
        id: 0,
        kind,
        text: f.text.clone(),
        options: if scale { vec![] } else { list(&f.options) },
        scale_min: if scale { scale_min } else { 0 },
        scale_max: if scale { scale_max } else { 0 },
        topic: Some(f.topic.trim().to_string()).filter(|t| !t.is_empty()),
        satisfied: list(&f.satisfied),
    };
    me.scoped(st).campaigns().templates().add_question(TEMPLATE, &q).await?;
    Ok(BACK.to_string())
}
