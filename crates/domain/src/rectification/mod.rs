//! Rectification (整改): each problem a campaign confirms is assigned to its responsible unit with
//! a deadline; the town or district office works on it and submits what it did with evidence;
//! an inspector or the city office verifies it and closes it (销号) or sends it back (整改不到位)
//! with a reason. What may happen next depends on where it stands and who acts.

use chrono::NaiveDate;

use crate::access::Role;
use crate::labelled::Labelled;
use crate::labelled_enum;

labelled_enum! {
    pub enum RectStatus: "整改状态" {
        Assigned => ("assigned", "已交办"),
        InProgress => ("in_progress", "整改中"),
        Submitted => ("submitted", "已报送待核实"),
        Returned => ("returned", "退回（整改不到位）"),
        Closed => ("closed", "已销号"),
    }
}

labelled_enum! {
    pub enum RectAction: "整改操作" {
        Start => ("start", "开始整改"),
        Submit => ("submit", "报送整改情况"),
        Close => ("close", "核实销号"),
        Return => ("return", "退回"),
    }
}

/// Whether a role answers for rectification (the offices of the place) or verifies it.
pub fn rectifies(role: Role) -> bool {
    matches!(role, Role::TownOffice | Role::DistrictOffice)
}

pub fn verifies(role: Role) -> bool {
    matches!(role, Role::CityOffice | Role::Inspector)
}

/// The status after `action` by `role`, or why it may not happen. A submission needs what was
/// done and evidence; a return needs its reason.
pub fn step(
    from: RectStatus,
    action: RectAction,
    role: Role,
    text: &str,
    evidence: usize,
) -> Result<RectStatus, (&'static str, String)> {
    use RectAction::*;
    use RectStatus::*;
    let who = |ok: bool, what: &str| if ok { Ok(()) } else { Err(("action", format!("“{role}”不能{what}"))) };
    match action {
        Start | Submit => who(rectifies(role), action.label())?,
        Close | Return => who(verifies(role), action.label())?,
    }
    let refused = || Err(("action", format!("“{}”的问题不能{}", from.label(), action.label())));
    match (from, action) {
        (Assigned | Returned, Start) => Ok(InProgress),
        (Assigned | InProgress | Returned, Submit) => {
            if text.trim().is_empty() {
                Err(("description", "请写明整改情况".into()))
            } else if evidence == 0 {
                Err(("files", "请上传整改佐证材料（照片或扫描件）".into()))
            } else {
                Ok(Submitted)
            }
        }
        (Submitted, Close) => Ok(Closed),
        (Submitted, Return) if text.trim().is_empty() => Err(("reason", "退回请写明整改不到位之处".into())),
        (Submitted, Return) => Ok(Returned),
        _ => refused(),
    }
}

/// Overdue: not closed, and the deadline has passed.
pub fn overdue(status: RectStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    status != RectStatus::Closed && today > deadline
}

#[cfg(test)]
mod tests {
    use super::*;
    use RectAction::*;
    use RectStatus::*;

    #[test]
    fn a_problem_goes_from_assigned_to_closed_by_the_right_hands() {
        assert_eq!(step(Assigned, Start, Role::TownOffice, "", 0), Ok(InProgress));
        assert_eq!(step(InProgress, Submit, Role::TownOffice, "已补填记录本", 1), Ok(Submitted));
        assert_eq!(step(InProgress, Submit, Role::TownOffice, "", 1).unwrap_err().0, "description");
        assert_eq!(step(InProgress, Submit, Role::TownOffice, "已补填", 0).unwrap_err().0, "files");
        assert_eq!(step(Submitted, Return, Role::CityOffice, "", 0).unwrap_err().0, "reason");
        assert_eq!(step(Submitted, Return, Role::Inspector, "仍有两户未补填", 0), Ok(Returned));
        assert_eq!(step(Returned, Submit, Role::DistrictOffice, "已全部补填", 2), Ok(Submitted));
        assert_eq!(step(Submitted, Close, Role::CityOffice, "", 0), Ok(Closed));
        // Only verifiers close; nothing moves a closed problem; a town cannot close its own.
        assert!(step(Submitted, Close, Role::TownOffice, "", 0).is_err());
        assert!(step(Closed, Submit, Role::TownOffice, "x", 1).is_err());
        assert!(step(Assigned, Close, Role::CityOffice, "", 0).is_err());
        assert!(step(Submitted, Start, Role::Leader, "", 0).is_err());
    }

    #[test]
    fn overdue_until_closed() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(overdue(Submitted, d("2018-01-02"), d("2018-01-03")));
        assert!(!overdue(Closed, d("2018-01-02"), d("2018-01-03")));
        assert!(!overdue(Assigned, d("2018-01-02"), d("2018-01-02")));
    }
}
