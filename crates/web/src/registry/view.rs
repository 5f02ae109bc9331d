//! Stored rows turned into what a page or the API shows: Chinese labels, yuan, masked personal
//! data, and audit records as "field: before → after".

use ducha_domain::Money;
use ducha_domain::region::RegionTree;
use ducha_domain::registry::{
    Education, Health, HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage, Sex,
};
use ducha_storage::audit::AuditRecord;
use ducha_storage::registry::{HouseholdRow, finance, member};
use serde::Serialize;

use crate::pages::{label, mask_id, yes_no, yuan};

#[derive(Debug, Serialize)]
pub struct RowView {
    pub id: i64,
    pub number: String,
    pub head_name: String,
    pub head_id: String,
    pub size: i64,
    pub household_type: String,
    pub main_cause: String,
    pub status: String,
    pub village: String,
}

impl RowView {
    pub fn new(r: &HouseholdRow, tree: &RegionTree) -> RowView {
        RowView {
            id: r.id,
            number: r.number.clone(),
            head_name: r.head_name.clone().unwrap_or_default(),
            head_id: r.head_id_number.as_deref().map(mask_id).unwrap_or_default(),
            size: r.size,
            household_type: label::<HouseholdType>(&r.household_type),
            main_cause: label::<PovertyCause>(&r.main_cause),
            status: label::<HouseholdStatus>(&r.status),
            village: tree.get(&r.village_code).map_or_else(|| r.village_code.clone(), |v| v.name.clone()),
        }
    }
}

/// "因病、缺技术": the main cause and the others.
pub fn causes_label(h: &ducha_storage::registry::household::Model) -> String {
    [Some(&h.main_cause), h.other_cause_1.as_ref(), h.other_cause_2.as_ref()]
        .into_iter()
        .flatten()
        .map(|c| label::<PovertyCause>(c))
        .collect::<Vec<_>>()
        .join("、")
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub id: i64,
    pub seq: i32,
    pub name: String,
    pub relation: String,
    pub sex: String,
    /// Masked.
    pub id_number: String,
    /// The year only: with the masked ID number, the full date would give the number back.
    pub birth_date: String,
    pub education: String,
    pub school_stage: String,
    pub health: String,
    pub labour_ability: String,
    pub medical_insurance: &'static str,
    /// When and why the member left, if they did.
    pub left: Option<String>,
}

impl MemberView {
    pub fn masked(m: &member::Model) -> MemberView {
        MemberView {
            id: m.id,
            seq: m.seq,
            name: m.name.clone(),
            relation: label::<Relation>(&m.relation),
            sex: label::<Sex>(&m.sex),
            id_number: mask_id(&m.id_number),
            birth_date: ducha_domain::privacy::mask_birth_date(m.birth_date),
            education: label::<Education>(&m.education),
            school_stage: label::<SchoolStage>(&m.school_stage),
            health: label::<Health>(&m.health),
            labour_ability: label::<LabourAbility>(&m.labour_ability),
            medical_insurance: yes_no(m.medical_insurance),
            left: m.left_on.map(|d| {
                let why = m
                    .left_reason
                    .as_deref()
                    .map(label::<ducha_domain::registry::MemberChangeReason>)
                    .unwrap_or_default();
                format!("{d} {why}")
            }),
        }
    }
}

/// A household form as an edit page shows it: phone and bank account masked, as in lists.
pub fn masked_household_form(mut f: ducha_domain::registry::HouseholdForm) -> ducha_domain::registry::HouseholdForm {
    use ducha_domain::privacy;
    f.phone = privacy::mask_phone(&f.phone);
    f.bank_account = privacy::mask_account(&f.bank_account);
    f
}

/// A household form as sent back: a masked value left as shown keeps what is stored.
pub fn household_form_sent(
    f: &ducha_domain::registry::HouseholdForm,
    h: &ducha_storage::registry::household::Model,
) -> ducha_domain::registry::HouseholdForm {
    use ducha_domain::privacy::{self, unmasked};
    let mut f = f.clone();
    f.phone = unmasked(&f.phone, h.phone.as_deref(), privacy::mask_phone);
    f.bank_account = unmasked(&f.bank_account, h.bank_account.as_deref(), privacy::mask_account);
    f
}

/// A member form as sent back (the API's, after a read of the masked member): the masked ID
/// number, birth year and phone left as shown keep what is stored.
pub fn member_form_sent(
    f: &ducha_domain::registry::MemberForm,
    m: &member::Model,
) -> ducha_domain::registry::MemberForm {
    use ducha_domain::privacy::{self, unmasked};
    let mut f = f.clone();
    f.id_number = unmasked(&f.id_number, Some(&m.id_number), privacy::mask_id);
    if f.birth_date.trim() == privacy::mask_birth_date(m.birth_date) {
        // Read from the ID number, as an empty birth date always is.
        f.birth_date = String::new();
    }
    f.phone = unmasked(&f.phone, m.phone.as_deref(), privacy::mask_phone);
    f
}

#[derive(Debug, Serialize)]
pub struct FinanceView {
    pub year: i32,
    pub wage: String,
    pub business: String,
    pub property: String,
    pub transfer: String,
    pub costs: String,
    pub net: String,
    pub per_capita: String,
    pub living: String,
}

impl FinanceView {
    pub fn new(f: &finance::Model) -> FinanceView {
        let net = f.wage_income + f.business_income + f.property_income + f.transfer_income - f.production_costs;
        FinanceView {
            year: f.year,
            wage: yuan(f.wage_income),
            business: yuan(f.business_income),
            property: yuan(f.property_income),
            transfer: yuan(f.transfer_income),
            costs: yuan(f.production_costs),
            net: yuan(net),
            per_capita: Money::from_fen(net)
                .per(i64::from(f.household_size))
                .map(|m| m.to_string())
                .unwrap_or_default(),
            living: f.living_expenditure.map(yuan).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub origin: String,
    pub entity: &'static str,
    pub action: &'static str,
    pub changes: String,
}

fn entity_label(e: &str) -> &'static str {
    match e {
        "household" => "贫困户",
        "member" => "家庭成员",
        "user" => "用户",
        "api_token" => "接口令牌",
        "change_request" => "动态管理申请",
        "help_plan" => "帮扶计划",
        "help_measure" => "帮扶措施",
        "help_log" => "帮扶日志",
        "record_book" => "帮扶记录本",
        "evidence" => "佐证材料",
        "cadre" => "帮扶责任人",
        "regions" => "行政区划",
        "registry" => "登记库",
        _ => "其他",
    }
}

fn action_label(a: &str) -> &'static str {
    match a {
        "create" => "新增",
        "update" => "修改",
        "delete" => "删除",
        "view_personal" => "查看完整个人信息",
        "disable" => "停用",
        "reset_password" => "重置密码",
        "status" => "状态变更",
        "leave" => "减少成员",
        "move" => "分户迁出",
        "submit" => "提交申请",
        "approve" => "批准",
        "reject" => "退回",
        "import" => "导入",
        "demo_load" => "装入演示数据",
        "assign_cadre" => "指定帮扶责任人",
        "attach" => "上传",
        _ => "其他操作",
    }
}

fn field_label(k: &str) -> &str {
    match k {
        "number" => "户编号",
        "village_code" => "所在村（居）",
        "household_type" => "属性",
        "main_cause" => "主要致贫原因",
        "other_causes" => "其他致贫原因",
        "guarantees" => "两不愁三保障",
        "status" => "状态",
        "identified_on" => "识别日期",
        "address" => "住址",
        "phone" => "联系电话",
        "bank_account" => "银行账号",
        "name" => "姓名",
        "id_number" => "身份证号",
        "relation" => "与户主关系",
        "sex" => "性别",
        "birth_date" => "出生日期",
        "education" => "文化程度",
        "school_stage" => "在校生状况",
        "out_of_school_reason" => "失学辍学原因",
        "health" => "健康状况",
        "labour_ability" => "劳动能力",
        "medical_insurance" => "医保",
        "food_clothing" => "吃穿",
        "compulsory_education" => "义务教育",
        "basic_medical" => "基本医疗",
        "safe_housing" => "住房安全",
        "safe_water" => "饮水安全",
        "year" => "年度",
        "target_income" => "目标人均纯收入（分）",
        "cadre_id" => "帮扶责任人编号",
        "categories" => "计划措施",
        "content" => "内容",
        "location" => "地点",
        "visited_on" => "日期",
        "filename" => "文件名",
        "issued" => "已发放",
        "provincial_format" => "按省格式",
        "last_checked" => "最近检查",
        other => other,
    }
}

/// A stored code under `key` as its Chinese label.
fn code_label(key: &str, code: &str) -> String {
    match key {
        "household_type" => label::<HouseholdType>(code),
        "main_cause" | "other_causes" => label::<PovertyCause>(code),
        "status" => label::<HouseholdStatus>(code),
        "relation" => label::<Relation>(code),
        "sex" => label::<Sex>(code),
        "education" => label::<Education>(code),
        "school_stage" => label::<SchoolStage>(code),
        "health" => label::<Health>(code),
        "labour_ability" => label::<LabourAbility>(code),
        _ => code.to_string(),
    }
}

/// A value as a page shows it: labels for codes, 是/否, and personal data masked (the audit trail
/// is a list view).
fn shown(key: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => yes_no(*b).into(),
        Value::String(s) => match key {
            "id_number" => mask_id(s),
            // A date as stored ("1980-01-01"): its year, as every masked view shows it.
            "birth_date" => s.get(..4).map_or_else(|| "—".to_string(), |y| format!("{y}年")),
            "phone" => crate::pages::mask_phone(&Some(s.clone())),
            "bank_account" => crate::pages::mask_account(&Some(s.clone())),
            _ => code_label(key, s),
        },
        Value::Array(items) if items.is_empty() => "无".into(),
        Value::Array(items) => items.iter().map(|i| shown(key, i)).collect::<Vec<_>>().join("、"),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{}{}", field_label(k), shown(k, v))).collect::<Vec<_>>().join("，")
        }
        other => other.to_string(),
    }
}

/// "field: before → after" for each field that differs (all fields of a creation).
pub fn describe_change(before: Option<&str>, after: Option<&str>) -> String {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let (b, a) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    let bo = b.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let ao = a.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let mut keys: Vec<&String> = bo.keys().chain(ao.keys()).collect();
    keys.sort();
    keys.dedup();
    let null = serde_json::Value::Null;
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (bo.get(k).unwrap_or(&null), ao.get(k).unwrap_or(&null));
            (x != y).then(|| {
                if bo.is_empty() {
                    format!("{}：{}", field_label(k), shown(k, y))
                } else {
                    format!("{}：{} → {}", field_label(k), shown(k, x), shown(k, y))
                }
            })
        })
        .collect::<Vec<_>>()
        .join("；")
}

impl AuditView {
    pub fn new(r: &AuditRecord) -> AuditView {
        AuditView {
            id: r.id,
            at: crate::pages::china_time(&r.at),
            actor: r.actor.clone(),
            origin: r.origin.clone().unwrap_or_default(),
            entity: entity_label(&r.entity),
            action: action_label(&r.action),
            changes: if r.action == "view_personal" {
                String::new()
            } else {
                describe_change(r.before.as_deref(), r.after.as_deref())
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn changes_name_fields_in_chinese_and_mask_personal_data() {
        let before = r#"{"name":"陈大文","id_number":"44078119800101123X","phone":null,"birth_date":"1980-01-01"}"#;
        let after =
            r#"{"name":"陈大文","id_number":"440781198001011249","phone":"13812345678","birth_date":"1980-01-02"}"#;
        let d = super::describe_change(Some(before), Some(after));
        assert_eq!(
            d,
            "出生日期：1980年 → 1980年；身份证号：440781********123X → 440781********1249；联系电话：— → 138****5678"
        );
    }
}
