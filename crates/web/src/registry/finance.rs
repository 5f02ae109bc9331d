//! A household's income and expenditure for a year (年度收支): recorded or corrected on a form
//! (and by the API), every field's problem at its field, the replaced figures kept in the audit
//! trail; the household's data checks run again on save.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use ducha_domain::registry::FinanceForm;
use serde::Deserialize;

use super::{Field, FormPage, parse_id, require_editor, saved, today};
use crate::auth::csrf::CsrfForm;
use crate::{AppState, CurrentUser, WebError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct YearQuery {
    year: String,
}

fn yuan(fen: i64) -> String {
    ducha_domain::Money::from_fen(fen).to_string()
}

/// The form, filled from the year's recorded figures where there are some.
fn finance_page(id: i64, f: &FinanceForm) -> FormPage {
    FormPage {
        multipart: false,
        title: "登记年度收支".into(),
        action: format!("/households/{id}/finance"),
        back: format!("/households/{id}"),
        hidden: vec![],
        fields: vec![
            Field::text("year", "年度", &f.year).required().hint("同一年度再登记即为更正，原数据留在操作记录中"),
            Field::text("household_size", "当年家庭人口", &f.household_size).required(),
            Field::text("wage_income", "工资性收入（元）", &f.wage_income),
            Field::text("business_income", "生产经营性收入（元）", &f.business_income),
            Field::text("property_income", "财产性收入（元）", &f.property_income),
            Field::text("transfer_income", "转移性收入（元）", &f.transfer_income),
            Field::text("production_costs", "生产经营性支出（元）", &f.production_costs),
            Field::text("declared_total_income", "年收入合计（元，按申报表）", &f.declared_total_income)
                .hint("与各项收入之和不一致时，数据核查会提示"),
            Field::text("living_expenditure", "生活消费支出（元）", &f.living_expenditure),
        ],
    }
}

pub(super) async fn finance_form_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let (check_year, _) = me.scoped(&st).checks().current().await?;
    let year = q.year.trim().parse::<i32>().unwrap_or(check_year);
    let members = rec.members.iter().filter(|m| m.left_on.is_none()).count();
    let form = match rec.finances.iter().find(|f| f.year == year) {
        Some(f) => form_of(f),
        None => FinanceForm { year: year.to_string(), household_size: members.to_string(), ..Default::default() },
    };
    finance_page(id, &form).render(&st, &me, None).await
}

/// A recorded year as the form shows it.
fn form_of(f: &ducha_storage::registry::finance::Model) -> FinanceForm {
    FinanceForm {
        year: f.year.to_string(),
        household_size: f.household_size.to_string(),
        wage_income: yuan(f.wage_income),
        business_income: yuan(f.business_income),
        property_income: yuan(f.property_income),
        transfer_income: yuan(f.transfer_income),
        production_costs: yuan(f.production_costs),
        declared_total_income: f.declared_total_income.map(yuan).unwrap_or_default(),
        living_expenditure: f.living_expenditure.map(yuan).unwrap_or_default(),
    }
}

pub(super) async fn save_finance(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<FinanceForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let result = match f.validate(chrono::Datelike::year(&today())) {
        Ok((finance, size)) => {
            me.scoped(&st).registry().save_finance(id, &finance, size).await.map(|_| saved(id)).map_err(WebError::from)
        }
        Err(e) => Err(WebError::Invalid(e)),
    };
    finance_page(id, &f).after_save(&st, &me, result).await
}

/// Record or correct a household's income and expenditure for a year (offices within scope);
/// the same fields as the form, amounts in yuan (text or numbers). A field left out keeps what
/// the year has recorded (a new year: none).
#[utoipa::path(post, path = "/api/v1/households/{id}/finances", tag = "registry", params(("id" = i64, Path)),
    request_body = Object,
    responses((status = 204, description = "已保存"), (status = 404, description = "不存在或不在辖区内"),
        (status = 422, description = "字段有误，如金额为负数、年度超出范围")))]
pub(crate) async fn api_save_finance(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    crate::api::ApiJson(f): crate::api::ApiJson<FinanceForm>,
) -> Result<axum::http::StatusCode, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let year = f.year.trim().parse::<i32>().ok();
    let f = match rec.finances.iter().find(|r| Some(r.year) == year) {
        Some(stored) => f.or_else(form_of(stored)),
        None => f,
    };
    let (finance, size) = f.validate(chrono::Datelike::year(&today())).map_err(WebError::Invalid)?;
    me.scoped(&st).registry().save_finance(id, &finance, size).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
