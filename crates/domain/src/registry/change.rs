//! Dynamic management (动态管理): changes to a household's composition or status are requests
//! that a town office submits and a district office approves or rejects, so that nothing about
//! who is poor changes silently. This module holds what can be requested and the rules a request
//! must meet, both when submitted and again when approved.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Household, HouseholdStatus, Member, YearFinance, YearStandard};
use crate::labelled_enum;
use crate::money::Money;

labelled_enum! {
    /// 变更类型
    pub enum ChangeKind: "变更类型" {
        NewIdentification => ("new_identification", "新识别"),
        AddMember => ("add_member", "增加成员"),
        RemoveMember => ("remove_member", "减少成员"),
        Split => ("split", "分户"),
        PreExit => ("pre_exit", "预脱贫"),
        Exit => ("exit", "脱贫"),
        Return => ("return", "返贫"),
        Removal => ("removal", "清退"),
    }
}

impl ChangeKind {
    /// The status a household takes when a request of this kind is approved.
    pub fn target_status(self) -> Option<HouseholdStatus> {
        match self {
            Self::PreExit => Some(HouseholdStatus::PreExit),
            Self::Exit => Some(HouseholdStatus::Exited),
            Self::Return => Some(HouseholdStatus::Returned),
            Self::Removal => Some(HouseholdStatus::Removed),
            _ => None,
        }
    }

    /// The kinds that can be asked for a household in `status`.
    pub fn available_for(status: HouseholdStatus) -> Vec<ChangeKind> {
        let mut out = Vec::new();
        if status != HouseholdStatus::Removed {
            out.extend([Self::AddMember, Self::RemoveMember, Self::Split]);
        }
        for k in [Self::PreExit, Self::Exit, Self::Return, Self::Removal] {
            if k.target_status().is_some_and(|t| status.next().contains(&t)) {
                out.push(k);
            }
        }
        out
    }
}

labelled_enum! {
    /// 审核状态
    pub enum ChangeStatus: "审核状态" {
        Submitted => ("submitted", "待审核"),
        Approved => ("approved", "已批准"),
        Rejected => ("rejected", "已退回"),
    }
}

labelled_enum! {
    /// 成员增减原因
    pub enum MemberChangeReason: "成员增减原因" {
        Birth => ("birth", "出生"),
        MarriageIn => ("marriage_in", "婚入"),
        MoveIn => ("move_in", "迁入"),
        Death => ("death", "死亡"),
        MarriageOut => ("marriage_out", "婚出"),
        MoveOut => ("move_out", "迁出"),
        Other => ("other", "其他"),
    }
}

impl MemberChangeReason {
    pub fn adds(self) -> bool {
        matches!(self, Self::Birth | Self::MarriageIn | Self::MoveIn | Self::Other)
    }

    pub fn removes(self) -> bool {
        matches!(self, Self::Death | Self::MarriageOut | Self::MoveOut | Self::Other)
    }
}

/// What a request asks for, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangePayload {
    NewIdentification {
        household: Household,
        head: Member,
    },
    AddMember {
        member: Member,
        reason: MemberChangeReason,
    },
    RemoveMember {
        member_id: i64,
        member_name: String,
        reason: MemberChangeReason,
    },
    /// The members that leave to form a new household in the same village.
    Split {
        member_ids: Vec<i64>,
    },
    PreExit {
        year: i32,
    },
    Exit {
        year: i32,
    },
    Return,
    Removal,
}

impl ChangePayload {
    pub fn kind(&self) -> ChangeKind {
        match self {
            Self::NewIdentification { .. } => ChangeKind::NewIdentification,
            Self::AddMember { .. } => ChangeKind::AddMember,
            Self::RemoveMember { .. } => ChangeKind::RemoveMember,
            Self::Split { .. } => ChangeKind::Split,
            Self::PreExit { .. } => ChangeKind::PreExit,
            Self::Exit { .. } => ChangeKind::Exit,
            Self::Return => ChangeKind::Return,
            Self::Removal => ChangeKind::Removal,
        }
    }
}

/// Why a household may not exit (or be marked pre-exit) for a year.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitRefusal {
    #[error("没有 {0} 年的收支记录，无法判断是否达到脱贫标准")]
    NoFinance(i32),
    #[error("{year} 年人均纯收入 {per_capita} 元，低于当年脱贫标准 {standard} 元，还差 {gap} 元")]
    BelowStandard { year: i32, per_capita: Money, standard: Money, gap: Money },
}

/// Whether a household's per-capita net income for the year meets the exit standard; if it does,
/// the income it reached.
pub fn check_exit(
    finance: Option<&YearFinance>,
    household_size: i64,
    standard: &YearStandard,
) -> Result<Money, ExitRefusal> {
    let f = finance.ok_or(ExitRefusal::NoFinance(standard.year))?;
    let per_capita = f.per_capita_net(household_size.max(1)).unwrap_or(Money::ZERO);
    if per_capita >= standard.exit_standard {
        Ok(per_capita)
    } else {
        Err(ExitRefusal::BelowStandard {
            year: standard.year,
            per_capita,
            standard: standard.exit_standard,
            gap: standard.exit_standard - per_capita,
        })
    }
}

/// A request as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRequest {
    pub payload: ChangePayload,
    /// The reason given (说明), required for every kind.
    pub reason: String,
    pub effective_on: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finance(year: i32, net_yuan: i64) -> YearFinance {
        YearFinance {
            year,
            wage_income: Money::from_yuan(net_yuan),
            business_income: Money::ZERO,
            property_income: Money::ZERO,
            transfer_income: Money::ZERO,
            production_costs: Money::ZERO,
            declared_total_income: None,
            living_expenditure: None,
        }
    }

    #[test]
    fn exit_needs_the_standard_and_says_by_how_much_it_falls_short() {
        let std = YearStandard::default_for(2017);
        assert_eq!(check_exit(Some(&finance(2017, 30_000)), 4, &std), Ok(Money::from_yuan(7_500)));
        let err = check_exit(Some(&finance(2017, 26_000)), 4, &std).unwrap_err();
        assert_eq!(err.to_string(), "2017 年人均纯收入 6500.00 元，低于当年脱贫标准 7500.00 元，还差 1000.00 元");
        assert_eq!(check_exit(None, 4, &std).unwrap_err(), ExitRefusal::NoFinance(2017));
    }

    #[test]
    fn what_can_be_asked_follows_the_status() {
        use HouseholdStatus::*;
        let helping = ChangeKind::available_for(Helping);
        assert!(helping.contains(&ChangeKind::PreExit) && !helping.contains(&ChangeKind::Exit));
        assert!(ChangeKind::available_for(PreExit).contains(&ChangeKind::Exit));
        assert!(ChangeKind::available_for(Exited).contains(&ChangeKind::Return));
        assert!(ChangeKind::available_for(Removed).is_empty());
    }

    #[test]
    fn payloads_keep_their_kind_through_json() {
        let p = ChangePayload::Exit { year: 2017 };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"kind":"exit","year":2017}"#);
        assert_eq!(serde_json::from_str::<ChangePayload>(&json).unwrap(), p);
    }
}
