//! Help given to households: plans (帮扶计划), measures delivered (帮扶措施), help cadres
//! (帮扶责任人), their logs (帮扶日志) and the household's record book (帮扶记录本).

use chrono::NaiveDate;
use serde::Serialize;

use crate::labelled_enum;
use crate::money::Money;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
