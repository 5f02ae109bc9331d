//! The household visit (实地调查) on a phone: the registry's facts beside what the inspector
//! sees, the questionnaire, photos. The page's script sends the form to the API and, when the
//! connection is gone, keeps it on the phone (IndexedDB) and sends it when the connection returns;
//! the visit's key, made when the page was rendered, makes a second send of the same visit a
//! no-op. Without the script the form posts as a plain multipart form.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::campaigns::questionnaire::{Question, QuestionKind};
use ducha_storage::campaigns::fieldwork::{Fact, Observation, Visit, VisitInput, VisitOutcome};
use ducha_storage::campaigns::{self, sample::SampleHousehold};

use crate::auth::csrf::CsrfMultipart;
use crate::pages::PageCtx;
use crate::registry::parse_id;
use crate::{AppState, CurrentUser, WebError};

#[derive(Template)]
#[template(path = "campaigns/visit.html")]
struct VisitPage {
    ctx: PageCtx,
    c: campaigns::Campaign,
    town_code: String,
    town_name: String,
    h: SampleHousehold,
    facts: Vec<Fact>,
    questions: Vec<Question>,
    visit: Option<Visit>,
    problems: Vec<ducha_storage::campaigns::problems::Problem>,
    fieldwork: bool,
    client_key: String,
    default_date: chrono::NaiveDate,
}

impl VisitPage {
    fn is_single(&self, q: &Question) -> bool {
        q.kind == QuestionKind::Single
    }
    fn is_multi(&self, q: &Question) -> bool {
        q.kind == QuestionKind::Multi
    }
    fn is_scale(&self, q: &Question) -> bool {
        q.kind == QuestionKind::Scale
    }
    fn scale(&self, q: &Question) -> Vec<i32> {
        (q.scale_min..=q.scale_max).collect()
    }
    fn observed(&self, key: &str) -> Option<&Observation> {
        self.visit.as_ref().and_then(|v| v.observations.iter().find(|o| o.key == key))
    }
}

pub(super) async fn visit_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, household)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    let (id, household) = (parse_id(&id)?, parse_id(&household)?);
    let s = me.scoped(&st);
    let v = s.campaigns().visitable(id, household).await.map_err(|e| {
        // A household outside the sample is simply not there for this page.
        match e {
            ducha_storage::StorageError::Rejected(_) => WebError::NotFound,
            other => other.into(),
        }
    })?;
    let town_sample =
        v.opened().sample().stored().await?.into_iter().find(|t| t.code == v.town()).ok_or(WebError::NotFound)?;
    let h = town_sample.households.iter().find(|h| h.id == household).cloned().ok_or(WebError::NotFound)?;
    let problems = v
        .opened()
        .problems()
        .list(None, Some(v.town()))
        .await?
        .into_iter()
        .filter(|p| p.household_id == Some(household))
        .collect();
    let today = s.today();
    let c = v.opened().campaign().clone();
    let html = VisitPage {
        ctx: PageCtx::new(&st, &me).await?,
        facts: v.facts().await?,
        questions: v.opened().fieldwork().questions().await?,
        visit: v.visit().await?,
        problems,
        fieldwork: v.opened().access().fieldwork,
        client_key: format!("v{}", ducha_storage::accounts::random_token()?.get(..32).unwrap_or_default()),
        default_date: today.clamp(c.starts_on, c.ends_on.max(c.starts_on)),
        town_code: v.town().to_string(),
        town_name: town_sample.name,
        h,
        c,
    }
    .render()?;
    Ok(Html(html))
}

/// A campaign not there for the user is not found, whatever the body. A member of its teams whose
/// days are over goes on: the phone's queue may still send a visit recorded before, which is then
/// acknowledged (anything new is refused by the storage with the reason).
async fn reachable(s: &ducha_storage::Scoped, id: i64) -> Result<(), WebError> {
    match s.campaigns().open(id).await {
        Ok(_) | Err(ducha_storage::StorageError::Forbidden(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The script of the visit and town pages that keeps visits on the phone while offline: a file
/// of its own, since the Content-Security-Policy runs no inline script.
pub(super) async fn offline_script() -> impl IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("offline.js"),
    )
}

/// The visit as the form sent it.
fn visit_input(household: i64, form: CsrfMultipart) -> VisitInput {
    let mut answers: Vec<(i64, Vec<String>)> = Vec::new();
    let mut observations = Vec::new();
    for (k, v) in &form.fields {
        if let Some(qid) = k.strip_prefix('q').and_then(|n| n.parse::<i64>().ok()) {
            match answers.iter_mut().find(|(id, _)| *id == qid) {
                Some((_, values)) => values.push(v.clone()),
                None => answers.push((qid, vec![v.clone()])),
            }
        } else if let Some(key) = k.strip_prefix("match_") {
            observations.push(Observation {
                key: key.to_string(),
                matches: v != "否",
                observed: form.get(&format!("obs_{key}")),
            });
        }
    }
    VisitInput {
        household_id: household,
        client_key: form.get("client_key"),
        visited_on: ducha_domain::registry::parse_date(&form.get("visited_on")).ok(),
        observations,
        note: form.get("note"),
        answers,
        photos: form.files,
    }
}

/// The plain form's submit (no script): back to the visit's page.
pub(super) async fn submit_form(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, household)): Path<(String, String)>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let (id, household) = (parse_id(&id)?, parse_id(&household)?);
    let s = me.scoped(&st);
    reachable(&s, id).await?;
    let v = visit_input(household, form?);
    s.campaigns().submit_visit(id, &v).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}/households/{household}")).into_response())
}

/// A visit sent as JSON by a script with a token (no photos).
#[derive(serde::Deserialize)]
pub(crate) struct VisitJson {
    household_id: i64,
    client_key: String,
    #[serde(default)]
    visited_on: String,
    #[serde(default)]
    observations: Vec<Observation>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    answers: Vec<AnswerJson>,
}

#[derive(serde::Deserialize)]
struct AnswerJson {
    question_id: i64,
    values: Vec<String>,
}

/// A visit's JSON body (the fuzz harness reads bodies through this too).
pub(crate) fn decode_visit(body: &[u8]) -> Result<VisitJson, WebError> {
    serde_json::from_slice(body)
        .map_err(|e| WebError::BadRequest(format!("JSON 格式不正确（第 {} 行第 {} 列）：{e}", e.line(), e.column())))
}

/// The script's submit, also the phone's queue when the connection returns (multipart, with the
/// household as a field and photos); or JSON from a script with a token.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/visits", tag = "campaigns", params(("id" = i64, Path, description = "督查编号")),
    request_body(content((Object = "application/json"), (Object = "multipart/form-data")), description = "multipart/form-data（页面）：_csrf、client_key（页面给出的走访编号）、household_id、visited_on、match_*/obs_*（核对项）、q*（问卷）、note、photos；\
        或 application/json（脚本）：{household_id, client_key, visited_on, observations: [{key, matches, observed}], note, answers: [{question_id, values}]}"),
    responses((status = 200, description = "{\"outcome\": \"recorded\", visit_id, problems} 或同一走访编号再次提交时 {\"outcome\": \"already_received\", visit_id}"),
        (status = 400, description = "该户不在抽查名单中、已走访等"), (status = 422, description = "字段错误（fields）")))]
pub(crate) async fn api_submit(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Json<VisitOutcome>, WebError> {
    use axum::extract::FromRequest;
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    reachable(&s, id).await?;
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let v = if json {
        let body = crate::auth::csrf::read_limited(req.into_body()).await?;
        let j = decode_visit(&body)?;
        VisitInput {
            household_id: j.household_id,
            client_key: j.client_key,
            visited_on: ducha_domain::registry::parse_date(&j.visited_on).ok(),
            observations: j.observations,
            note: j.note,
            answers: j.answers.into_iter().map(|a| (a.question_id, a.values)).collect(),
            photos: vec![],
        }
    } else {
        let form = CsrfMultipart::from_request(req, &st).await?;
        let household = form
            .get("household_id")
            .trim()
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest("走访记录缺少户编号（household_id）".into()))?;
        visit_input(household, form)
    };
    Ok(Json(s.campaigns().submit_visit(id, &v).await?))
}
