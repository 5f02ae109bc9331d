//! Projects and funds (扶贫项目与资金): a project library whose projects move through their stages
//! only with the documents each stage needs, payments that follow projects ("资金要跟项目走": no
//! payment without a project in implementation, over its budget or without a voucher), and the
//! spending progress of what was allocated against the year's target curve.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::labelled::Labelled;
use crate::labelled_enum;
use crate::money::{Limit, Money, parse_amount};
use crate::validation::FieldErrors;

labelled_enum! {
    /// 资金来源
    pub enum FundSource: "资金来源" {
        Central => ("central", "中央"),
        Provincial => ("provincial", "省级"),
        City => ("city", "市级"),
        District => ("district", "市(区)级"),
        Town => ("town", "镇(街)级"),
        Social => ("social", "社会帮扶"),
    }
}

labelled_enum! {
    /// 项目类型
    pub enum ProjectType: "项目类型" {
        Industry => ("industry", "产业"),
        Employment => ("employment", "就业"),
        Workshop => ("workshop", "扶贫车间"),
        AssetIncome => ("asset_income", "资产收益"),
        Tourism => ("tourism", "乡村旅游"),
        Photovoltaic => ("photovoltaic", "光伏"),
        Infrastructure => ("infrastructure", "基础设施"),
        Education => ("education", "教育"),
        Health => ("health", "健康"),
        Housing => ("housing", "住房"),
        Other => ("other", "其他"),
    }
}

impl ProjectType {
    /// The kinds the seed names as income-generating (造血型) unless said otherwise.
    pub fn income_generating_by_default(self) -> bool {
        matches!(
            self,
            Self::Industry | Self::Employment | Self::Workshop | Self::AssetIncome | Self::Tourism | Self::Photovoltaic
        )
    }
}

labelled_enum! {
    /// 项目流程: 筛选 → 计划编报 → 审批 → 实施 → 验收 → 归档.
    pub enum Stage: "项目阶段" {
        Screening => ("screening", "筛选"),
        Planning => ("planning", "计划编报"),
        Approval => ("approval", "审批"),
        Implementation => ("implementation", "实施"),
        Acceptance => ("acceptance", "验收"),
        Archived => ("archived", "归档"),
    }
}

labelled_enum! {
    /// The documents a project's stages require (kept as evidence files).
    pub enum DocumentKind: "项目材料" {
        Plan => ("plan", "项目方案"),
        Approval => ("approval", "立项批复"),
        Acceptance => ("acceptance", "验收报告"),
        Other => ("other", "其他材料"),
    }
}

impl Stage {
    pub fn next(self) -> Option<Stage> {
        let all = <Stage as Labelled>::ALL;
        all.iter().position(|s| *s == self).and_then(|i| all.get(i + 1)).copied()
    }

    /// The document that must be on file before a project leaves this stage.
    pub fn document_to_leave(self) -> Option<DocumentKind> {
        match self {
            Stage::Planning => Some(DocumentKind::Plan),
            Stage::Approval => Some(DocumentKind::Approval),
            Stage::Acceptance => Some(DocumentKind::Acceptance),
            _ => None,
        }
    }

    /// Whether leaving this stage needs a public notice (公示) date: the approved project before
    /// it starts, the accepted project before it is archived.
    pub fn notice_to_leave(self) -> bool {
        matches!(self, Stage::Approval | Stage::Acceptance)
    }
}

/// A project as entered in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    pub kind: ProjectType,
    pub income_generating: bool,
    /// The town (or village) where it is carried out.
    pub place_code: String,
    pub unit: String,
    /// 绩效目标: a project without one cannot enter the library.
    pub performance_target: String,
    pub budget: Vec<(FundSource, Money)>,
    /// For a project that serves no household in particular (a road, a water works).
    pub public_benefit: String,
}

impl Project {
    pub fn budget_total(&self) -> Money {
        self.budget.iter().fold(Money::ZERO, |sum, (_, m)| sum + *m)
    }
}

/// The project form as typed: budgets by source in yuan.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProjectForm {
    pub name: String,
    pub kind: String,
    /// "是" / "否"; empty: as the kind says.
    pub income_generating: String,
    pub place_code: String,
    pub unit: String,
    pub performance_target: String,
    pub budget_central: String,
    pub budget_provincial: String,
    pub budget_city: String,
    pub budget_district: String,
    pub budget_town: String,
    pub budget_social: String,
    pub public_benefit: String,
}

impl ProjectForm {
    pub fn validate(&self) -> Result<Project, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 80 {
            e.add("name", "请填写项目名称（80 字以内）");
        }
        let kind = e.take("kind", ProjectType::parse(&self.kind));
        let income_generating = match self.income_generating.trim() {
            "" => kind.map(ProjectType::income_generating_by_default),
            t => match crate::platform::yes_no(t) {
                Some(b) => Some(b),
                None => {
                    e.add("income_generating", format!("是否造血型应填“是”或“否”，填的是“{t}”"));
                    None
                }
            },
        };
        let place_code = self.place_code.trim().to_string();
        if !(place_code.len() == 9 || place_code.len() == 12) || !place_code.bytes().all(|b| b.is_ascii_digit()) {
            e.add("place_code", "请选择项目所在的镇（街）");
        }
        let unit = self.unit.trim().to_string();
        if unit.is_empty() || unit.chars().count() > 80 {
            e.add("unit", "请填写责任单位（80 字以内）");
        }
        let performance_target = self.performance_target.trim().to_string();
        if performance_target.chars().count() < 4 {
            e.add(
                "performance_target",
                "没有绩效目标的项目不能入库：请写明项目要达到的目标（如 带动 20 户贫困户每户年增收 3000 元）",
            );
        }
        let mut budget = Vec::new();
        for (source, field, text) in [
            (FundSource::Central, "budget_central", &self.budget_central),
            (FundSource::Provincial, "budget_provincial", &self.budget_provincial),
            (FundSource::City, "budget_city", &self.budget_city),
            (FundSource::District, "budget_district", &self.budget_district),
            (FundSource::Town, "budget_town", &self.budget_town),
            (FundSource::Social, "budget_social", &self.budget_social),
        ] {
            if text.trim().is_empty() {
                continue;
            }
            let label = format!("{}资金", source.label());
            if let Some(m) = e.take(field, parse_amount(&label, text, Limit::Project))
                && m.fen() > 0
            {
                budget.push((source, m));
            }
        }
        if budget.is_empty() && e.get("budget_central").is_none() {
            e.add("budget_central", "请至少填写一个资金来源的预算");
        }
        e.into_result(|| {
            Some(Project {
                name,
                kind: kind?,
                income_generating: income_generating?,
                place_code,
                unit,
                performance_target,
                budget,
                public_benefit: self.public_benefit.trim().to_string(),
            })
        })
    }
}

/// Funds of a year from one source, allocated to a district or town, and when they arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub year: i32,
    pub source: FundSource,
    pub region_code: String,
    pub amount: Money,
    pub allocated_on: NaiveDate,
    pub arrived_on: Option<NaiveDate>,
}

impl Allocation {
    /// Why an allocation cannot be recorded (the field, why), apart from where it goes: the
    /// amount, and dates that are neither ahead of today nor outside the year (funds for a year
    /// may be sent ahead, in the year before — 提前下达 — but not after it).
    pub fn refusal(&self, today: NaiveDate) -> Option<(&'static str, String)> {
        if self.amount.fen() <= 0 {
            return Some(("amount", "下达金额应大于 0".into()));
        }
        if self.amount > Limit::Allocation.max() {
            return Some((
                "amount",
                format!("下达金额不能超过 {}，填的是 {} 元", Limit::Allocation.words(), self.amount),
            ));
        }
        if self.allocated_on > today {
            return Some(("allocated_on", format!("下达日期 {} 还没有到", self.allocated_on)));
        }
        if !(self.year - 1..=self.year).contains(&self.allocated_on.year()) {
            return Some((
                "allocated_on",
                format!(
                    "下达日期 {} 不在 {} 年度：本年度的资金应在 {} 年内下达（或在 {} 年提前下达）",
                    self.allocated_on,
                    self.year,
                    self.year,
                    self.year - 1
                ),
            ));
        }
        match self.arrived_on {
            Some(a) if a < self.allocated_on => {
                Some(("arrived_on", format!("到位日期 {a} 早于下达日期 {}", self.allocated_on)))
            }
            Some(a) if a > today => Some(("arrived_on", format!("到位日期 {a} 还没有到"))),
            _ => None,
        }
    }
}

/// The most households one project may name as served (a larger one is several projects).
pub const MAX_SERVED: usize = 5_000;

/// A project as an import row gives it: the project (its place resolved), and the numbers of the
/// households it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingProject {
    pub row: usize,
    pub project: Project,
    pub households: Vec<String>,
}

/// Why part of a district's allocation cannot be passed down (下拨) to a town (the field, why):
/// only to a town of that district, only once the funds have arrived, never more than is left of
/// it (`passed` is what has gone down already), never ahead of today or after its year.
pub fn transfer_refusal(
    parent: &Allocation,
    passed: Money,
    town_code: &str,
    amount: Money,
    on: NaiveDate,
    today: NaiveDate,
) -> Option<(&'static str, String)> {
    if parent.region_code.len() != 6 {
        return Some(("parent", "只有下达到市(区)的资金才能下拨到镇(街)".into()));
    }
    if town_code.len() != 9 || !town_code.starts_with(&parent.region_code) {
        return Some(("town_code", "只能下拨到该市(区)所辖的镇(街)".into()));
    }
    if amount.fen() <= 0 {
        return Some(("amount", "下拨金额应大于 0".into()));
    }
    let left = parent.amount - passed;
    if amount > left {
        return Some((
            "amount",
            format!("超出可下拨金额：下达 {} 元，已下拨 {passed} 元，尚余 {left} 元，本次 {amount} 元", parent.amount),
        ));
    }
    match parent.arrived_on {
        None => return Some(("on", "这笔资金尚未到位，不能下拨".into())),
        Some(arrived) if on < arrived => {
            return Some(("on", format!("下拨日期 {on} 早于资金到位日期 {arrived}")));
        }
        _ => {}
    }
    if on > today {
        return Some(("on", format!("下拨日期 {on} 还没有到")));
    }
    if on.year() > parent.year {
        return Some(("on", format!("下拨日期 {on} 已过 {} 年度", parent.year)));
    }
    None
}

/// An allocation as a sheet of 资金下达 gives it, its division resolved within scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAllocation {
    pub row: usize,
    pub allocation: Allocation,
    /// Passed down (下拨) by the district from its own allocation of the same source, so that
    /// the district's totals do not count it twice.
    pub passed_down: bool,
}

/// A payment as a disbursement ledger (拨付台账) row gives it: the project by its name and town,
/// and its vouchers by the names of the files sent with the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPayment {
    pub row: usize,
    pub project: String,
    pub town_code: String,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub payee: String,
    pub vouchers: Vec<String>,
}

/// What the stage and payment rules need to know of a stored project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectState {
    pub stage: Stage,
    pub documents: Vec<DocumentKind>,
    /// The public notices recorded: (the stage it was for, its date).
    pub notices: Vec<(Stage, NaiveDate)>,
    pub households: usize,
    pub public_benefit: bool,
    pub budget: Money,
    pub paid: Money,
}

/// Why a project cannot move to the next stage (None: it can), naming what is missing.
pub fn advance_refusal(p: &ProjectState, to: Stage) -> Option<String> {
    if p.stage.next() != Some(to) {
        return Some(match p.stage.next() {
            Some(n) => format!("项目当前处于“{}”阶段，只能进入下一阶段“{n}”，不能直接进入“{to}”", p.stage),
            None => "项目已归档，不能再变更阶段".into(),
        });
    }
    if let Some(doc) = p.stage.document_to_leave()
        && !p.documents.contains(&doc)
    {
        return Some(format!("缺少“{doc}”：请先上传{doc}，再进入“{to}”阶段"));
    }
    if p.stage.notice_to_leave() && !p.notices.iter().any(|(s, _)| *s == p.stage) {
        return Some(format!("缺少{}阶段的公示日期：请先登记公示，再进入“{to}”阶段", p.stage));
    }
    if p.stage == Stage::Planning && p.households == 0 && !p.public_benefit {
        return Some("项目没有受益贫困户，也没有说明公共受益：资金要跟项目走，项目要到户到人".into());
    }
    None
}

/// A payment (资金拨付) as refused or not: (the field, why).
pub fn payment_refusal(
    p: &ProjectState,
    amount: Money,
    has_voucher: bool,
    paid_on: NaiveDate,
    today: NaiveDate,
) -> Option<(&'static str, String)> {
    if amount.fen() <= 0 {
        return Some(("amount", "拨付金额应大于 0".into()));
    }
    if paid_on > today {
        return Some(("paid_on", format!("拨付日期 {paid_on} 还没有到")));
    }
    match p.stage {
        Stage::Screening | Stage::Planning | Stage::Approval => {
            return Some(("project", format!("项目处于“{}”阶段，尚未批准实施，不能拨付资金", p.stage)));
        }
        Stage::Archived => return Some(("project", "项目已归档，不能再拨付资金".into())),
        _ => {}
    }
    // Money cannot leave before the project was approved in public.
    if let Some((_, approved)) = p.notices.iter().find(|(s, _)| *s == Stage::Approval)
        && paid_on < *approved
    {
        return Some(("paid_on", format!("拨付日期 {paid_on} 早于项目立项公示日期 {approved}")));
    }
    if p.households == 0 && !p.public_benefit {
        return Some(("project", "项目没有受益贫困户，也没有说明公共受益，不能拨付资金".into()));
    }
    let after = p.paid + amount;
    if after > p.budget {
        return Some((
            "amount",
            format!(
                "超出预算：预算 {} 元，已拨付 {} 元，本次 {} 元，超出 {} 元",
                p.budget,
                p.paid,
                amount,
                after - p.budget
            ),
        ));
    }
    if !has_voucher {
        return Some(("files", "请上传拨付凭证（如 银行回单、拨款通知）".into()));
    }
    None
}

/// A stored project as the catalogue's project rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectFacts {
    pub id: i64,
    pub name: String,
    pub place_code: String,
    pub stage_since: NaiveDate,
    pub state: ProjectState,
    /// Payments with no voucher attached (possible only in data from before ducha or imported).
    pub payments_without_voucher: usize,
}

/// The project rules: stuck before approval, serving nobody, approved without a plan, paid
/// without a voucher or over its budget.
pub fn project_findings(f: &ProjectFacts, p: &crate::checks::AuditParams) -> Vec<crate::checks::Finding> {
    let finding = |rule: &'static str, message: String| crate::checks::Finding {
        rule,
        household_id: 0,
        member_id: Some(f.id),
        village_code: f.place_code.clone(),
        message: format!("项目“{}”{message}", f.name),
    };
    let s = &f.state;
    let mut out = Vec::new();
    let waiting = (p.as_of - f.stage_since).num_days();
    if matches!(s.stage, Stage::Screening | Stage::Planning | Stage::Approval) && waiting > p.project_stage_days {
        out.push(finding(
            "P-PRJ-01",
            format!("自 {} 起停留在“{}”阶段，超过 {} 天", f.stage_since, s.stage, p.project_stage_days),
        ));
    }
    if s.households == 0 && !s.public_benefit {
        out.push(finding("P-PRJ-02", "没有受益贫困户，也没有说明公共受益".into()));
    }
    if s.stage > Stage::Planning && !s.documents.contains(&DocumentKind::Plan) {
        out.push(finding("P-PRJ-03", format!("已进入“{}”阶段，却没有项目方案", s.stage)));
    }
    if f.payments_without_voucher > 0 {
        out.push(finding("P-PAY-01", format!("有 {} 笔拨付没有凭证", f.payments_without_voucher)));
    }
    if s.paid > s.budget {
        out.push(finding("P-PAY-02", format!("已拨付 {} 元，超出预算 {} 元", s.paid, s.budget)));
    }
    out
}

/// A district (or town) paying out more slowly than the target curve allows.
pub fn spending_findings(
    code: &str,
    name: &str,
    percent: Option<i64>,
    target: i64,
    p: &crate::checks::AuditParams,
) -> Vec<crate::checks::Finding> {
    match percent {
        Some(pc) if target - pc > p.spend_gap_points => vec![crate::checks::Finding {
            rule: "F-SPD-01",
            household_id: 0,
            member_id: None,
            village_code: code.to_string(),
            message: format!("{name}扶贫资金使用进度 {pc}%，低于目标 {target}%"),
        }],
        _ => vec![],
    }
}

/// The share of `year`'s allocation that should be paid out by `on`: a straight line from
/// nothing on 1 January to all of it at the end of `full_by_month` (a parameter). A day after
/// the year (checking 2017 in 2018) wants all of it; a day before, none.
pub fn target_percent(year: i32, on: NaiveDate, full_by_month: u32) -> i64 {
    if on.year() != year {
        return if on.year() > year { 100 } else { 0 };
    }
    let Some(start) = NaiveDate::from_ymd_opt(year, 1, 1) else { return 0 };
    let month = full_by_month.clamp(1, 12);
    let end = NaiveDate::from_ymd_opt(year + i32::from(month == 12), if month == 12 { 1 } else { month + 1 }, 1)
        .map(|d| d - chrono::Duration::days(1));
    let Some(end) = end else { return 100 };
    let total = (end - start).num_days() + 1;
    let done = (on - start).num_days() + 1;
    (done * 100 / total).clamp(0, 100)
}

#[cfg(test)]
mod tests;
