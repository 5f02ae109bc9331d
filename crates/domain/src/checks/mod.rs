//! The data-quality checks (数据质量核查): the checks the inspectors did by hand, as a catalogue of
//! rules over one household's facts at a time (and a few over a village). Pure: the facts and the
//! year's parameters come in, findings go out; storage decides when to run it (on every save, and
//! in batch) and keeps the results.

mod params;
mod rules;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::Serialize;

pub use params::{AuditParams, DEFAULT_FILE, ParamError, ParamFile};
pub use rules::{CATALOGUE, Rule, village_findings};

use crate::help::{MeasureCategory, RecordBook};
use crate::labelled_enum;
use crate::registry::{
    Education, Guarantees, Health, HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage,
    Sex, YearFinance,
};

labelled_enum! {
    /// 问题类别: the seed circular's five problem categories, and data quality.
    pub enum Category: "问题类别" {
        Platform => ("platform", "镇（街）扶贫工作平台建设"),
        Responsibility => ("responsibility", "责任落实"),
        DataAccuracy => ("data_accuracy", "扶贫数据信息不够精准"),
        Measures => ("measures", "帮扶措施不多或落实不到位"),
        Funds => ("funds", "帮扶资金使用进度"),
        DataQuality => ("data_quality", "数据质量"),
    }
}

labelled_enum! {
    pub enum Severity: "严重程度" {
        Error => ("error", "错误"),
        Warning => ("warning", "警告"),
        Notice => ("notice", "提示"),
    }
}

labelled_enum! {
    /// What a rule looks at.
    pub enum Object: "核查对象" {
        Member => ("member", "成员"),
        Household => ("household", "贫困户"),
        Village => ("village", "村（居）"),
        Posting => ("posting", "派驻干部"),
        Town => ("town", "镇（街）"),
        Institution => ("institution", "定点医疗机构"),
        Project => ("project", "扶贫项目"),
        District => ("district", "市(区)"),
    }
}

/// A member as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberFacts {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub relation: Relation,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub education: Education,
    pub school_stage: SchoolStage,
    pub has_out_of_school_reason: bool,
    pub health: Health,
    pub labour_ability: LabourAbility,
    pub medical_insurance: bool,
    /// When the same ID number belongs to a member registered earlier: that household's number.
    pub duplicate_of: Option<String>,
}

/// A measure as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeasureFacts {
    pub id: i64,
    pub category: MeasureCategory,
    pub delivered_on: NaiveDate,
    pub income_generating: bool,
    pub has_evidence: bool,
}

/// One household with everything the rules need, for the audit year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdFacts {
    pub id: i64,
    pub number: String,
    pub village_code: String,
    pub household_type: HouseholdType,
    pub main_cause: PovertyCause,
    pub other_causes: Vec<PovertyCause>,
    pub guarantees: Guarantees,
    pub status: HouseholdStatus,
    pub identified_on: NaiveDate,
    pub has_cadre: bool,
    pub record_book: RecordBook,
    /// Current members (those who left are not counted).
    pub members: Vec<MemberFacts>,
    /// Income and expenditure of the audit year.
    pub finance: Option<YearFinance>,
    /// The plan of the audit year: when made, and its categories.
    pub plan: Option<(NaiveDate, Vec<MeasureCategory>)>,
    /// Measures delivered in the audit year.
    pub measures: Vec<MeasureFacts>,
    pub last_log: Option<NaiveDate>,
}

impl HouseholdFacts {
    /// Some member can work.
    pub fn able(&self) -> bool {
        self.members.iter().any(|m| m.labour_ability == LabourAbility::Able)
    }

    pub fn causes(&self) -> impl Iterator<Item = PovertyCause> + '_ {
        std::iter::once(self.main_cause).chain(self.other_causes.iter().copied())
    }

    pub fn has_measure(&self, f: impl Fn(MeasureCategory) -> bool) -> bool {
        self.measures.iter().any(|m| f(m.category))
            || self.plan.as_ref().is_some_and(|(_, cats)| cats.iter().any(|c| f(*c)))
    }
}

/// One problem found: which rule, on which household (and member), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub household_id: i64,
    pub member_id: Option<i64>,
    /// The village (for village rules, the household id is 0).
    pub village_code: String,
    pub message: String,
}

/// Run every household rule of the catalogue over one household.
pub fn check_household(h: &HouseholdFacts, p: &AuditParams) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in CATALOGUE.iter().filter(|r| matches!(r.object, Object::Household | Object::Member)) {
        for (member_id, message) in (rule.check)(h, p) {
            out.push(Finding {
                rule: rule.code,
                household_id: h.id,
                member_id,
                village_code: h.village_code.clone(),
                message,
            });
        }
    }
    out
}

/// Rules whose message carries counts that move by themselves from day to day (working days due
/// on post, an attendance or spending rate, the day's target).
const COUNTS_MOVE: [&str; 3] = ["T-PST-02", "T-PST-03", "F-SPD-01"];

/// Whether a rule's message carries counts that move by themselves.
pub fn counts_move(rule: &str) -> bool {
    COUNTS_MOVE.contains(&rule)
}

/// What an exemption is tied to: the finding's facts as its message states them, so that a change
/// of facts brings the finding back; for a rule whose counts move by themselves, the rule alone,
/// so that the exemption stands for the record and year instead of lapsing the next day.
pub fn exemption_basis<'a>(rule: &'a str, message: &'a str) -> &'a str {
    if counts_move(rule) { rule } else { message }
}

/// The catalogue entry of a rule code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.code == code)
}
