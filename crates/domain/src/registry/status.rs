//! A household's status (贫困户状态) and the moves dynamic management (动态管理) allows.

use crate::labelled_enum;

labelled_enum! {
    pub enum HouseholdStatus: "贫困户状态" {
        Identified => ("identified", "识别"),
        Helping => ("helping", "帮扶中"),
        PreExit => ("pre_exit", "预脱贫"),
        Exited => ("exited", "已脱贫"),
        Returned => ("returned", "返贫"),
        Removed => ("removed", "清退"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("状态不能从“{from}”改为“{to}”：{from}之后只能改为{allowed}")]
pub struct StatusChangeError {
    pub from: HouseholdStatus,
    pub to: HouseholdStatus,
    pub allowed: String,
}

impl HouseholdStatus {
    /// Statuses that can follow this one. Removal (清退, for a wrongly registered household) is
    /// possible from any status but itself; an exited household that falls back is 返贫, and is
    /// helped again.
    pub fn next(self) -> &'static [HouseholdStatus] {
        use HouseholdStatus::*;
        match self {
            Identified => &[Helping, Removed],
            Helping => &[PreExit, Removed],
            PreExit => &[Exited, Helping, Removed],
            Exited => &[Returned, Removed],
            Returned => &[Helping, PreExit, Removed],
            Removed => &[],
        }
    }

    pub fn change_to(self, to: HouseholdStatus) -> Result<HouseholdStatus, StatusChangeError> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            let allowed = match self.next() {
                [] => "（无，已是最终状态）".to_string(),
                n => n.iter().map(|s| format!("“{s}”")).collect::<Vec<_>>().join("、"),
            };
            Err(StatusChangeError { from: self, to, allowed })
        }
    }

    /// Still counted among the poor being helped (not exited, not removed).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Identified | Self::Helping | Self::PreExit | Self::Returned)
    }
}

#[cfg(test)]
mod tests {
    use super::HouseholdStatus::*;

    #[test]
    fn the_usual_path_and_its_refusals() {
        assert_eq!(Identified.change_to(Helping), Ok(Helping));
        assert_eq!(Helping.change_to(PreExit), Ok(PreExit));
        assert_eq!(PreExit.change_to(Exited), Ok(Exited));
        assert_eq!(Exited.change_to(Returned), Ok(Returned));
        let err = Identified.change_to(Exited).unwrap_err();
        assert_eq!(err.to_string(), "状态不能从“识别”改为“已脱贫”：识别之后只能改为“帮扶中”、“清退”");
        assert!(Removed.change_to(Helping).is_err());
    }
}
