//! Help given to households: plans (帮扶计划), measures delivered (帮扶措施), help cadres
//! (帮扶责任人), their logs (帮扶日志) and the household's record book (帮扶记录本).

use chrono::NaiveDate;
use serde::Serialize;

use crate::labelled_enum;
use crate::money::{Limit, Money, parse_amount};

labelled_enum! {
    /// 帮扶措施类别
    pub enum MeasureCategory: "帮扶措施类别" {
        Industry => ("industry", "产业帮扶"),
        Employment => ("employment", "就业帮扶"),
        PublicWelfareJob => ("welfare_job", "公益性岗位"),
        Skills => ("skills", "技能培训"),
        Education => ("education", "教育帮扶"),
        Health => ("health", "健康帮扶"),
        Housing => ("housing", "住房保障"),
        Water => ("water", "饮水安全"),
        Finance => ("finance", "金融帮扶"),
        AssetIncome => ("asset_income", "资产收益"),
        Welfare => ("welfare", "兜底保障"),
        Social => ("social", "社会帮扶"),
    }
}

impl MeasureCategory {
    /// Development measures (产业, 就业, 金融, 公益性岗位, 资产收益): what a household able to
    /// work should have, as opposed to welfare alone.
    pub fn is_development(self) -> bool {
        matches!(self, Self::Industry | Self::Employment | Self::Finance | Self::PublicWelfareJob | Self::AssetIncome)
    }
}

/// A measure delivered to a household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HelpMeasure {
    pub delivered_on: NaiveDate,
    pub category: MeasureCategory,
    pub description: String,
    pub amount: Money,
    /// 造血型: brings income for years (workshop jobs, shares in assets, tourism, photovoltaic).
    pub income_generating: bool,
}

/// A household's plan for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelpPlan {
    pub year: i32,
    pub planned: Vec<MeasureCategory>,
    /// Target per-capita net income for the year.
    pub target_income: Money,
    pub made_on: NaiveDate,
}

/// A dated entry by a cadre about a household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelpLog {
    pub visited_on: NaiveDate,
    pub content: String,
}

/// A help cadre (帮扶责任人): a person from a unit, responsible for some households.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cadre {
    pub name: String,
    pub unit: String,
    pub phone: String,
    /// The town whose households the cadre helps.
    pub town_code: String,
}

/// The household's paper record book (帮扶记录本).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordBook {
    pub issued: bool,
    /// Kept in the province's format.
    pub provincial_format: bool,
    pub last_checked: Option<NaiveDate>,
}

use crate::labelled::Labelled;
use crate::registry::{parse_date, parse_yes_no};
use crate::validation::FieldErrors;

/// A plan as typed: the year, the target income (yuan), the responsible cadre and the planned
/// categories (codes or labels).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PlanForm {
    pub year: String,
    pub target_income: String,
    pub cadre_id: String,
    pub categories: Vec<String>,
}

/// A checked plan: `cadre_id` still to be checked against the household's town by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PlanInput {
    pub year: i32,
    pub target_income: Money,
    pub cadre_id: Option<i64>,
    pub categories: Vec<MeasureCategory>,
}

impl PlanForm {
    pub fn validate(&self, this_year: i32) -> Result<PlanInput, FieldErrors> {
        let mut e = FieldErrors::default();
        let year = e.take("year", self.year.trim().parse::<i32>().map_err(|_| "请填写年度，如 2017".to_string()));
        if year.is_some_and(|y| !(2014..=this_year + 1).contains(&y)) {
            e.add("year", format!("年度应在 2014 至 {} 之间", this_year + 1));
        }
        let target_income =
            e.take("target_income", parse_amount("目标人均纯收入", &self.target_income, Limit::Household));
        if target_income.is_some_and(|m| m <= Money::ZERO) {
            e.add("target_income", "目标人均纯收入应大于 0");
        }
        let cadre_id = match self.cadre_id.trim() {
            "" => None,
            t => e.take("cadre_id", t.parse::<i64>().map_err(|_| "帮扶责任人选择有误".to_string())),
        };
        let mut categories = Vec::new();
        for c in self.categories.iter().filter(|c| !c.trim().is_empty()) {
            if let Some(cat) = e.take("categories", MeasureCategory::parse(c))
                && !categories.contains(&cat)
            {
                categories.push(cat);
            }
        }
        if categories.is_empty() && e.get("categories").is_none() {
            e.add("categories", "请至少选择一项计划措施");
        }
        e.into_result(|| Some(PlanInput { year: year?, target_income: target_income?, cadre_id, categories }))
    }
}

/// A measure as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct MeasureForm {
    pub delivered_on: String,
    pub category: String,
    pub description: String,
    pub amount: String,
    pub income_generating: String,
    pub project_id: String,
}

/// A checked measure, with the project it belongs to (projects come with their own capability).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MeasureInput {
    pub measure: HelpMeasure,
    pub project_id: Option<i64>,
}

impl MeasureForm {
    pub fn validate(&self, today: NaiveDate) -> Result<MeasureInput, FieldErrors> {
        let mut e = FieldErrors::default();
        let delivered_on = e.take("delivered_on", parse_date(&self.delivered_on));
        if delivered_on.is_some_and(|d| d > today) {
            e.add("delivered_on", "落实日期不能晚于今天");
        }
        let category = e.take("category", MeasureCategory::parse(&self.category));
        let description = self.description.trim().to_string();
        if description.is_empty() {
            e.add("description", "请写明措施内容");
        } else if description.chars().count() > 200 {
            e.add("description", "措施内容过长（最多 200 个字）");
        }
        let amount = if self.amount.trim().is_empty() {
            Some(Money::ZERO)
        } else {
            e.take("amount", parse_amount("帮扶金额", &self.amount, Limit::Household))
        };
        let income_generating = e.take("income_generating", parse_yes_no(&self.income_generating));
        let project_id = match self.project_id.trim() {
            "" => None,
            t => e.take("project_id", t.parse::<i64>().map_err(|_| "项目编号应为数字".to_string())),
        };
        e.into_result(|| {
            Some(MeasureInput {
                measure: HelpMeasure {
                    delivered_on: delivered_on?,
                    category: category?,
                    description,
                    amount: amount?,
                    income_generating: income_generating?,
                },
                project_id,
            })
        })
    }
}

/// A help log as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct LogForm {
    pub visited_on: String,
    pub cadre_id: String,
    pub content: String,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LogInput {
    pub visited_on: NaiveDate,
    pub cadre_id: Option<i64>,
    pub content: String,
    pub location: Option<String>,
}

impl LogForm {
    pub fn validate(&self, today: NaiveDate) -> Result<LogInput, FieldErrors> {
        let mut e = FieldErrors::default();
        let visited_on = e.take("visited_on", parse_date(&self.visited_on));
        if visited_on.is_some_and(|d| d > today) {
            e.add("visited_on", "日期不能晚于今天");
        }
        let content = self.content.trim().to_string();
        if content.is_empty() {
            e.add("content", "请写明帮扶内容");
        } else if content.chars().count() > 2_000 {
            e.add("content", "内容过长（最多 2000 个字）");
        }
        let cadre_id = match self.cadre_id.trim() {
            "" => None,
            t => e.take("cadre_id", t.parse::<i64>().map_err(|_| "帮扶责任人选择有误".to_string())),
        };
        let location = Some(self.location.trim().to_string()).filter(|l| !l.is_empty());
        e.into_result(|| Some(LogInput { visited_on: visited_on?, cadre_id, content, location }))
    }
}

/// A cadre as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct CadreForm {
    pub name: String,
    pub unit: String,
    pub phone: String,
    pub town_code: String,
}

impl CadreForm {
    pub fn validate(&self, tree: &crate::region::RegionTree) -> Result<Cadre, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 50 {
            e.add("name", "请填写姓名（最多 50 个字）");
        }
        let unit = self.unit.trim().to_string();
        if unit.is_empty() || unit.chars().count() > 100 {
            e.add("unit", "请填写所在单位（最多 100 个字）");
        }
        let phone = crate::registry::check_phone(&mut e, "phone", self.phone.trim()).unwrap_or_default();
        match tree.get(self.town_code.trim()) {
            Some(r) if r.level == crate::region::RegionLevel::Town => {}
            _ => e.add("town_code", "请选择帮扶的镇（街）"),
        }
        e.into_result(|| Some(Cadre { name, unit, phone, town_code: self.town_code.trim().to_string() }))
    }
}

/// The record book's state as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RecordBookForm {
    pub issued: String,
    pub provincial_format: String,
    pub last_checked: String,
}

impl RecordBookForm {
    pub fn validate(&self, today: NaiveDate) -> Result<RecordBook, FieldErrors> {
        let mut e = FieldErrors::default();
        let issued = e.take("issued", parse_yes_no(&self.issued));
        let provincial_format = e.take("provincial_format", parse_yes_no(&self.provincial_format));
        let last_checked = match self.last_checked.trim() {
            "" => Some(None),
            t => e.take("last_checked", parse_date(t)).map(Some),
        };
        if last_checked.flatten().is_some_and(|d| d > today) {
            e.add("last_checked", "检查日期不能晚于今天");
        }
        e.into_result(|| {
            Some(RecordBook { issued: issued?, provincial_format: provincial_format?, last_checked: last_checked? })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_names_each_wrong_field() {
        let f = PlanForm {
            year: "2017".into(),
            target_income: "8500".into(),
            cadre_id: "".into(),
            categories: vec!["产业帮扶".into(), "industry".into(), "就业帮扶".into()],
        };
        let p = f.validate(2017).unwrap();
        assert_eq!(p.categories, [MeasureCategory::Industry, MeasureCategory::Employment]);
        let bad =
            PlanForm { year: "2030".into(), target_income: "八千".into(), cadre_id: "x".into(), categories: vec![] };
        let e = bad.validate(2017).unwrap_err();
        for field in ["year", "target_income", "cadre_id", "categories"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
    }

    #[test]
    fn a_measure_and_a_log_check_dates_and_text() {
        let today = NaiveDate::from_ymd_opt(2017, 11, 6).unwrap();
        let m = MeasureForm {
            delivered_on: "2017-05-01".into(),
            category: "产业帮扶".into(),
            description: "发放鸡苗 50 只".into(),
            amount: "1,500".into(),
            income_generating: "是".into(),
            project_id: "".into(),
        };
        let ok = m.validate(today).unwrap();
        assert!(ok.measure.income_generating);
        assert_eq!(ok.measure.amount, Money::from_yuan(1500));
        let late = MeasureForm { delivered_on: "2018-01-01".into(), ..m };
        assert!(late.validate(today).unwrap_err().get("delivered_on").is_some());
        let log = LogForm { visited_on: "2017/11/1".into(), content: "  ".into(), ..Default::default() };
        assert!(log.validate(today).unwrap_err().get("content").is_some());
    }
}

/// A help plan as an import file gives it (the household by number, the cadre by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPlan {
    pub row: usize,
    pub number: String,
    pub year: i32,
    pub target_income: Money,
    pub cadre_name: Option<String>,
    pub categories: Vec<MeasureCategory>,
}

/// A help log as an import file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingLog {
    pub row: usize,
    pub number: String,
    pub visited_on: NaiveDate,
    pub cadre_name: Option<String>,
    pub location: Option<String>,
    pub content: String,
}
