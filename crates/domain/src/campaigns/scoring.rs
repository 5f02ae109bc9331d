//! The district assessment: a score out of 100 from a campaign's confirmed problems, its
//! document-review results and the households' satisfaction, with weights the city office can
//! change per campaign, and a rating from the score.

use serde::{Deserialize, Serialize};

use super::Rating;
use super::questionnaire::Tally;

/// The weights and thresholds of the scoring model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Points off per confirmed problem of each severity, averaged over the district's sampled
    /// towns (a district with more towns sampled is not punished for being looked at more).
    pub per_error: f64,
    pub per_warning: f64,
    pub per_notice: f64,
    /// Points off at a checklist failure rate of 100 %.
    pub checklist: f64,
    /// Points added (or taken off) per percentage point of satisfaction above (below) `satisfaction_par`.
    pub satisfaction: f64,
    pub satisfaction_par: f64,
    /// The least score for 表现突出 and for 一般; below that, 较差.
    pub outstanding_min: f64,
    pub average_min: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            per_error: 6.0,
            per_warning: 3.0,
            per_notice: 1.0,
            checklist: 40.0,
            satisfaction: 0.5,
            satisfaction_par: 90.0,
            outstanding_min: 85.0,
            average_min: 60.0,
        }
    }
}

impl Weights {
    /// Refuse weights that make no sense, naming the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let fields = [
            ("per_error", self.per_error),
            ("per_warning", self.per_warning),
            ("per_notice", self.per_notice),
            ("checklist", self.checklist),
            ("satisfaction", self.satisfaction),
        ];
        for (name, v) in fields {
            if !(0.0..=100.0).contains(&v) {
                return Err((name, format!("权重应在 0 至 100 之间，而不是 {v}")));
            }
        }
        if !(0.0..=100.0).contains(&self.satisfaction_par) {
            return Err(("satisfaction_par", "满意度基准应在 0 至 100 之间".into()));
        }
        if !(self.average_min < self.outstanding_min && self.outstanding_min <= 100.0 && self.average_min >= 0.0) {
            return Err(("outstanding_min", "“表现突出”的分数线应高于“一般”的分数线，且在 0 至 100 之间".into()));
        }
        Ok(())
    }
}

/// What a campaign found in one district.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DistrictFacts {
    pub district: String,
    pub name: String,
    pub towns: u32,
    pub households: u32,
    pub errors: u32,
    pub warnings: u32,
    pub notices: u32,
    pub checklist_pass: u32,
    pub checklist_fail: u32,
    pub satisfaction: Tally,
}

/// A district's score with its parts, so that a reader can see why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistrictScore {
    pub facts: DistrictFacts,
    pub problems_off: f64,
    pub checklist_off: f64,
    pub satisfaction_adjust: f64,
    pub score: f64,
    pub rating: Rating,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn score(f: &DistrictFacts, w: &Weights) -> DistrictScore {
    let towns = f64::from(f.towns.max(1));
    let problems_off = (w.per_error * f64::from(f.errors)
        + w.per_warning * f64::from(f.warnings)
        + w.per_notice * f64::from(f.notices))
        / towns;
    let judged = f.checklist_pass + f.checklist_fail;
    let checklist_off = if judged == 0 { 0.0 } else { w.checklist * f64::from(f.checklist_fail) / f64::from(judged) };
    let satisfaction_adjust = f.satisfaction.percent().map_or(0.0, |p| w.satisfaction * (p - w.satisfaction_par));
    let score = round1((100.0 - problems_off - checklist_off + satisfaction_adjust).clamp(0.0, 100.0));
    let rating = if score >= w.outstanding_min {
        Rating::Outstanding
    } else if score >= w.average_min {
        Rating::Average
    } else {
        Rating::Poor
    };
    DistrictScore {
        facts: f.clone(),
        problems_off: round1(problems_off),
        checklist_off: round1(checklist_off),
        satisfaction_adjust: round1(satisfaction_adjust),
        score,
        rating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_problems_rate_higher() {
        let w = Weights::default();
        let good = DistrictFacts {
            towns: 3,
            warnings: 2,
            notices: 1,
            checklist_pass: 40,
            checklist_fail: 2,
            satisfaction: Tally { satisfied: 19, answered: 20 },
            ..Default::default()
        };
        let s = score(&good, &w);
        assert_eq!(s.rating, Rating::Outstanding, "{s:?}");
        let weak = DistrictFacts { errors: 4, warnings: 6, checklist_fail: 12, checklist_pass: 30, ..good.clone() };
        let t = score(&weak, &w);
        assert_eq!(t.rating, Rating::Average, "{t:?}");
        assert!(t.score < s.score);
        let bad = DistrictFacts { errors: 20, ..weak };
        assert_eq!(score(&bad, &w).rating, Rating::Poor);
    }

    #[test]
    fn weights_are_checked() {
        assert!(Weights::default().check().is_ok());
        let w = Weights { outstanding_min: 50.0, ..Default::default() };
        assert_eq!(w.check().unwrap_err().0, "outstanding_min");
        let w = Weights { per_error: -1.0, ..Default::default() };
        assert_eq!(w.check().unwrap_err().0, "per_error");
    }
}
