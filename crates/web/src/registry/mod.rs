//! Registry pages: the household list with its filters, a household's page (members, yearly
//! income and expenditure, guarantees, status history, audit trail), and the forms that create
//! and edit households and members. Personal data is masked everywhere except the one page that
//! shows one person in full, which records that it was shown.

pub(crate) mod api;
pub(crate) mod changes;
pub(crate) mod finance;
mod view;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use ducha_domain::access::Scope;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::{RegionCode, RegionLevel, RegionTree};
use ducha_domain::registry::{
    Education, Health, HouseholdForm, HouseholdStatus, HouseholdType, LabourAbility, MemberForm, PovertyCause,
    Relation, SchoolStage, Sex,
};
use ducha_storage::registry::{self, HouseholdFilter};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::forms::{Field, FormPage};
use crate::pages::{PageCtx, label};
use crate::{AppState, CurrentUser, Routes, WebError};
pub use view::{AuditView, FinanceView, MemberView};

pub fn routes(r: Routes) -> Routes {
    let r = r
        .get("/households", list_page)
        .get("/households/new", new_household_page)
        .post("/households/new", create_household)
        .get("/households/{id}", detail_page)
        .get("/households/{id}/edit", edit_household_page)
        .post("/households/{id}/edit", update_household)
        .get("/households/{id}/finance", finance::finance_form_page)
        .post("/households/{id}/finance", finance::save_finance)
        .post("/api/v1/households/{id}/finances", finance::api_save_finance)
        .get("/households/{id}/members/new", new_member_page)
        .post("/households/{id}/members/new", create_member)
        .get("/members/{id}/edit", edit_member_page)
        .post("/members/{id}/edit", update_member)
        .post("/members/{id}/personal", personal_page);
    changes::routes(api::routes(r))
}

/// The list's query string, as typed (each part checked when used).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub region: String,
    pub status: String,
    pub household_type: String,
    pub cause: String,
    pub q: String,
    pub after: String,
    pub before: String,
}

fn optional<T: Labelled>(text: &str) -> Result<Option<T>, WebError> {
    match text.trim() {
        "" => Ok(None),
        t => T::parse(t).map(Some).map_err(|e| WebError::BadRequest(e.to_string())),
    }
}

fn optional_id(text: &str, what: &str) -> Result<Option<i64>, WebError> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| WebError::BadRequest(format!("参数 {what}“{t}”应为数字"))),
    }
}

impl ListQuery {
    /// The filter, for `actor`. Finding a household by a full ID number is for roles with the
    /// personal-data right: for anyone else it would be an oracle that rebuilds a masked number
    /// by trying the thirty-odd dates that fit it.
    pub fn filter(&self, actor: &ducha_domain::access::Actor) -> Result<HouseholdFilter, WebError> {
        let q = self.q.trim();
        if registry::SearchKind::of(q) == registry::SearchKind::IdNumber && !actor.role.sees_personal_data() {
            return Err(WebError::Forbidden(format!(
                "“{}”角色不能按身份证号查找；请按姓名或户编号查找",
                actor.role.label()
            )));
        }
        Ok(HouseholdFilter {
            region: match self.region.trim() {
                "" => None,
                t => Some(RegionCode::parse(t).map_err(|e| WebError::BadRequest(e.to_string()))?),
            },
            status: optional::<HouseholdStatus>(&self.status)?,
            household_type: optional::<HouseholdType>(&self.household_type)?,
            cause: optional::<PovertyCause>(&self.cause)?,
            q: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
        })
    }

    pub fn keyset(&self) -> Result<(Option<i64>, Option<i64>), WebError> {
        Ok((optional_id(&self.after, "after")?, optional_id(&self.before, "before")?))
    }

    /// The filters again, for the paging links.
    fn filter_qs(&self) -> String {
        serde_urlencoded::to_string([
            ("region", &self.region),
            ("status", &self.status),
            ("household_type", &self.household_type),
            ("cause", &self.cause),
            ("q", &self.q),
        ])
        .unwrap_or_default()
    }
}

pub(crate) fn options<T: Labelled>(all_label: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), all_label.to_string()))
        .chain(T::ALL.iter().map(|v| (v.code().to_string(), v.label().to_string())))
        .collect()
}

/// The divisions a user may filter by: everything within their scope down to towns (villages
/// for a town user).
pub(crate) fn region_options(tree: &RegionTree, scope: &Scope) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "全部".to_string())];
    let (root, levels): (Option<&str>, &[RegionLevel]) = match scope {
        Scope::All => (None, &[RegionLevel::District, RegionLevel::Town]),
        Scope::Region(c) => match c.level() {
            RegionLevel::City => (Some(c.as_str()), &[RegionLevel::District, RegionLevel::Town]),
            RegionLevel::District => (Some(c.as_str()), &[RegionLevel::Town]),
            _ => (Some(c.as_str()), &[RegionLevel::Village]),
        },
    };
    for r in tree.all() {
        let inside = root.is_none_or(|root| r.code.as_str().starts_with(root));
        if inside && levels.contains(&r.level) {
            let indent = if r.level == RegionLevel::Town && levels.len() > 1 { "　" } else { "" };
            out.push((r.code.as_str().to_string(), format!("{indent}{}", r.name)));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "registry/list.html")]
struct ListPage {
    ctx: PageCtx,
    q: ListQuery,
    page: registry::ListPage,
    rows: Vec<view::RowView>,
    region_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    type_options: Vec<(String, String)>,
    cause_options: Vec<(String, String)>,
    filter_qs: String,
}

async fn list_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let filter = q.filter(&me.actor)?;
    let (after, before) = q.keyset()?;
    let page = me.scoped(&st).registry().list(&filter, after, before, 20).await?;
    let tree = me.scoped(&st).regions().tree().await?;
    let rows = page.rows.iter().map(|r| view::RowView::new(r, &tree)).collect();
    let html = ListPage {
        ctx: PageCtx::new(&st, &me).await?,
        filter_qs: q.filter_qs(),
        region_options: region_options(&tree, &me.actor.scope),
        status_options: options::<HouseholdStatus>("全部"),
        type_options: options::<HouseholdType>("全部"),
        cause_options: options::<PovertyCause>("全部"),
        q,
        page,
        rows,
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Template)]
#[template(path = "registry/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    notice: Option<String>,
    h: ducha_storage::registry::household::Model,
    place: String,
    household_type: String,
    status: String,
    causes: String,
    phone: String,
    account: String,
    guarantees: Vec<(&'static str, bool)>,
    members: Vec<MemberView>,
    finances: Vec<FinanceView>,
    history: Vec<(String, String, String, String)>,
    audit: Vec<AuditView>,
    can_edit: bool,
    can_see_personal: bool,
    former: Vec<String>,
    help: crate::help::HelpView,
    can_write_help: bool,
    changes: Vec<changes::ChangeView>,
    change_kinds: Vec<(&'static str, &'static str)>,
    findings: Vec<ducha_storage::checks::StoredFinding>,
}

pub(crate) fn parse_id(text: &str) -> Result<i64, WebError> {
    // A malformed id finds nothing, like an id out of scope.
    text.parse().map_err(|_| WebError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailQuery {
    saved: String,
}

async fn detail_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(dq): Query<DetailQuery>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    let page = s.registry().page(id).await?.ok_or(WebError::NotFound)?;
    let tree = s.regions().tree().await?;
    let rec = page.record;
    let h = rec.household;
    let causes = view::causes_label(&h);
    let audit = page.audit;
    let (change_rows, change_kinds) = changes::views(&me, &page.changes, &h.status);
    let help = crate::help::HelpView::new(&page.help, &h);
    let findings = page.findings;
    let former = rec
        .members
        .iter()
        .filter_map(|m| {
            let reason =
                m.left_reason.as_deref().map(label::<ducha_domain::registry::MemberChangeReason>).unwrap_or_default();
            m.left_on.map(|d| format!("{} {}（{}，{}）", m.seq, m.name, reason, d))
        })
        .collect();
    let html = DetailPage {
        ctx: PageCtx::new(&st, &me).await?,
        notice: match dq.saved.as_str() {
            "" => None,
            _ => Some("已保存".into()),
        },
        place: tree.path(&h.village_code).unwrap_or_else(|| h.village_code.clone()),
        household_type: label::<HouseholdType>(&h.household_type),
        status: label::<HouseholdStatus>(&h.status),
        causes,
        phone: crate::pages::mask_phone(&h.phone),
        account: crate::pages::mask_account(&h.bank_account),
        guarantees: vec![
            ("吃穿", h.food_clothing),
            ("义务教育", h.compulsory_education),
            ("基本医疗", h.basic_medical),
            ("住房安全", h.safe_housing),
            ("饮水安全", h.safe_water),
        ],
        members: rec.members.iter().filter(|m| m.left_on.is_none()).map(MemberView::masked).collect(),
        finances: rec.finances.iter().map(FinanceView::new).collect(),
        former,
        help,
        can_write_help: me.user.role.writes_help() && me.actor.scope.contains(&h.village_code),
        changes: change_rows,
        change_kinds,
        findings,
        history: rec
            .history
            .iter()
            .map(|s| {
                (
                    s.effective_on.to_string(),
                    label::<HouseholdStatus>(&s.status),
                    s.note.clone().unwrap_or_default(),
                    s.recorded_by.clone().unwrap_or_default(),
                )
            })
            .collect(),
        audit: audit.iter().map(AuditView::new).collect(),
        can_edit: me.actor.can_edit(&h.village_code),
        can_see_personal: me.user.role.sees_personal_data(),
        h,
    }
    .render()?;
    Ok(Html(html))
}

fn household_fields(f: &HouseholdForm, villages: Vec<(String, String)>) -> Vec<Field> {
    vec![
        Field::text("number", "户编号", &f.number).hint("留空则自动编号"),
        Field::select("village_code", "所在村（居）", &f.village_code, villages).required(),
        Field::vocab::<HouseholdType>("household_type", "贫困户属性", &f.household_type, None).required(),
        Field::vocab::<PovertyCause>("main_cause", "主要致贫原因", &f.main_cause, None).required(),
        Field::vocab::<PovertyCause>("other_cause_1", "其他致贫原因一", &f.other_cause_1, Some("无")),
        Field::vocab::<PovertyCause>("other_cause_2", "其他致贫原因二", &f.other_cause_2, Some("无")),
        Field::date("identified_on", "识别日期", &f.identified_on).required(),
        Field::text("address", "住址", &f.address),
        Field::text("phone", "联系电话", &f.phone),
        Field::text("bank_account", "银行账号", &f.bank_account),
        Field::check("food_clothing", "不愁吃、不愁穿", &f.food_clothing),
        Field::check("compulsory_education", "义务教育有保障", &f.compulsory_education),
        Field::check("basic_medical", "基本医疗有保障", &f.basic_medical),
        Field::check("safe_housing", "住房安全有保障", &f.safe_housing),
        Field::check("safe_water", "饮水安全有保障", &f.safe_water),
    ]
}

fn member_fields(f: &MemberForm) -> Vec<Field> {
    vec![
        Field::text("name", "姓名", &f.name).required(),
        Field::text("id_number", "身份证号", &f.id_number).required().hint("18 位，末位可为 X"),
        Field::vocab::<Relation>("relation", "与户主关系", &f.relation, None).required(),
        Field::vocab::<Sex>("sex", "性别", &f.sex, Some("按身份证号")),
        Field::date("birth_date", "出生日期", &f.birth_date).hint("留空则按身份证号"),
        Field::vocab::<Education>("education", "文化程度", &f.education, None).required(),
        Field::vocab::<SchoolStage>("school_stage", "在校生状况", &f.school_stage, None).required(),
        Field::text("out_of_school_reason", "失学辍学原因", &f.out_of_school_reason),
        Field::vocab::<Health>("health", "健康状况", &f.health, None).required(),
        Field::vocab::<LabourAbility>("labour_ability", "劳动能力", &f.labour_ability, None).required(),
        Field::text("phone", "联系电话", &f.phone),
        Field::check("medical_insurance", "参加城乡居民基本医疗保险", &f.medical_insurance),
    ]
}

/// The villages a user may register households in.
fn village_options(tree: &RegionTree, scope: &Scope) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "请选择".to_string())];
    for v in tree.at_level(RegionLevel::Village).filter(|v| scope.contains(v.code.as_str())) {
        let town = tree.get(&v.parent_code).map(|t| t.name.as_str()).unwrap_or("");
        out.push((v.code.as_str().to_string(), format!("{town} {}", v.name)));
    }
    out
}

pub(crate) fn require_editor(me: &CurrentUser) -> Result<(), WebError> {
    if me.user.role.edits_registry() {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!("“{}”角色不能修改登记信息", me.user.role)))
    }
}

pub(crate) fn today() -> chrono::NaiveDate {
    ducha_storage::beijing_today()
}

fn saved(id: i64) -> String {
    format!("/households/{id}?saved=1")
}

/// The household form page, for a new household (`id` None) or an existing one.
fn household_page(
    id: Option<i64>,
    number: &str,
    form: &HouseholdForm,
    version: Option<String>,
    tree: &RegionTree,
    scope: &Scope,
) -> FormPage {
    let (title, action, back) = match id {
        None => ("新增贫困户".to_string(), "/households/new".to_string(), "/households".to_string()),
        Some(id) => (format!("修改贫困户 {number}"), format!("/households/{id}/edit"), format!("/households/{id}")),
    };
    let hidden = version.map(|v| vec![("version", v)]).unwrap_or_default();
    FormPage {
        title,
        action,
        back,
        hidden,
        fields: household_fields(form, village_options(tree, scope)),
        multipart: false,
    }
}

async fn new_household_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let form = HouseholdForm {
        household_type: HouseholdType::General.code().into(),
        food_clothing: "是".into(),
        compulsory_education: "是".into(),
        basic_medical: "是".into(),
        safe_housing: "是".into(),
        safe_water: "是".into(),
        identified_on: today().to_string(),
        ..Default::default()
    };
    household_page(None, "", &form, None, &tree, &me.actor.scope).render(&st, &me, None).await
}

async fn create_household(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<HouseholdForm>,
) -> Result<Response, WebError> {
    require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let result = match form.validate(&tree, today()) {
        Ok(h) => me.scoped(&st).registry().create_household(&h).await.map(saved).map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    household_page(None, "", &form, None, &tree, &me.actor.scope).after_save(&st, &me, result).await
}

/// The form as the stored household fills it.
fn household_form_of(h: &ducha_storage::registry::household::Model) -> HouseholdForm {
    let yn = |b: bool| if b { "是".to_string() } else { String::new() };
    HouseholdForm {
        number: h.number.clone(),
        village_code: h.village_code.clone(),
        household_type: h.household_type.clone(),
        main_cause: h.main_cause.clone(),
        other_cause_1: h.other_cause_1.clone().unwrap_or_default(),
        other_cause_2: h.other_cause_2.clone().unwrap_or_default(),
        food_clothing: yn(h.food_clothing),
        compulsory_education: yn(h.compulsory_education),
        basic_medical: yn(h.basic_medical),
        safe_housing: yn(h.safe_housing),
        safe_water: yn(h.safe_water),
        identified_on: h.identified_on.to_string(),
        address: h.address.clone(),
        phone: h.phone.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        bank_account: h.bank_account.as_ref().map(|p| p.to_string()).unwrap_or_default(),
    }
}

async fn edit_household_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let h = &rec.household;
    // Phone and bank account masked, as in lists: left as shown, they keep what is stored.
    let form = view::masked_household_form(household_form_of(h));
    household_page(Some(id), &h.number, &form, Some(h.version.to_string()), &tree, &me.actor.scope)
        .render(&st, &me, None)
        .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HouseholdEdit {
    #[serde(flatten)]
    form: HouseholdForm,
    version: String,
}

async fn update_household(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(edit): CsrfForm<HouseholdEdit>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let version: i32 = edit.version.trim().parse().unwrap_or(-1);
    let result = match view::household_form_sent(&edit.form, &rec.household).validate(&tree, today()) {
        Ok(h) => {
            me.scoped(&st).registry().update_household(id, version, &h).await.map(|_| saved(id)).map_err(WebError::from)
        }
        Err(e) => Err(WebError::Invalid(e)),
    };
    household_page(Some(id), &rec.household.number, &edit.form, Some(edit.version.clone()), &tree, &me.actor.scope)
        .after_save(&st, &me, result)
        .await
}

/// The member form page, adding to household `household_id` or editing member `member_id`.
fn member_page(household_id: i64, member_id: Option<i64>, title: String, form: &MemberForm) -> FormPage {
    let action = match member_id {
        None => format!("/households/{household_id}/members/new"),
        Some(m) => format!("/members/{m}/edit"),
    };
    FormPage {
        title,
        action,
        back: format!("/households/{household_id}"),
        hidden: vec![],
        fields: member_fields(form),
        multipart: false,
    }
}

async fn new_member_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let form = MemberForm {
        relation: Relation::Son.code().into(),
        school_stage: SchoolStage::NotInSchool.code().into(),
        health: Health::Healthy.code().into(),
        labour_ability: LabourAbility::Able.code().into(),
        medical_insurance: "是".into(),
        ..Default::default()
    };
    member_page(id, None, format!("为 {} 添加家庭成员", rec.household.number), &form).render(&st, &me, None).await
}

async fn create_member(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let result = match form.validate(today()) {
        Ok(m) => me.scoped(&st).registry().add_member(id, &m).await.map(|_| saved(id)).map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    member_page(id, None, format!("为 {} 添加家庭成员", rec.household.number), &form).after_save(&st, &me, result).await
}

fn member_form_of(m: &ducha_domain::registry::Member) -> MemberForm {
    MemberForm {
        name: m.name.clone(),
        id_number: m.id_number.clone(),
        relation: m.relation.code().into(),
        sex: m.sex.code().into(),
        birth_date: m.birth_date.to_string(),
        education: m.education.code().into(),
        school_stage: m.school_stage.code().into(),
        out_of_school_reason: m.out_of_school_reason.clone().unwrap_or_default(),
        health: m.health.code().into(),
        labour_ability: m.labour_ability.code().into(),
        medical_insurance: if m.medical_insurance { "是".into() } else { String::new() },
        phone: m.phone.clone().unwrap_or_default(),
    }
}

async fn edit_member_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (_, h) = me.scoped(&st).registry().member(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    // The form shows the full ID number: opening it is a full view, and is recorded as one.
    let (m, _) = me.scoped(&st).registry().reveal_member(id).await?;
    member_page(h.id, Some(id), format!("修改家庭成员 {}", m.name), &member_form_of(&m)).render(&st, &me, None).await
}

async fn update_member(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (current, h) = me.scoped(&st).registry().member(id).await?.ok_or(WebError::NotFound)?;
    require_editor(&me)?;
    let result = match view::member_form_sent(&form, &current).validate(today()) {
        Ok(m) => me.scoped(&st).registry().update_member(id, &m).await.map(|_| saved(h.id)).map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    member_page(h.id, Some(id), format!("修改家庭成员 {}", current.name), &form).after_save(&st, &me, result).await
}

#[derive(Template)]
#[template(path = "registry/personal.html")]
struct PersonalPage {
    ctx: PageCtx,
    name: String,
    id_number: String,
    phone: String,
    household_id: i64,
    household_number: String,
}

use crate::pages::Empty;

async fn personal_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let (m, h) = me.scoped(&st).registry().reveal_member(id).await?;
    let html = PersonalPage {
        ctx: PageCtx::new(&st, &me).await?,
        name: m.name,
        id_number: m.id_number,
        phone: m.phone.unwrap_or_else(|| "—".into()),
        household_id: h.id,
        household_number: h.number,
    }
    .render()?;
    Ok(Html(html))
}
