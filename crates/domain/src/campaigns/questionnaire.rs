//! Questionnaires (问卷调查): questions of four kinds, answers checked against them, and
//! satisfaction (the seed reports how satisfied households are with 增收帮扶 and 三保障).

use serde::{Deserialize, Serialize};

use crate::labelled_enum;

labelled_enum! {
    pub enum QuestionKind: "题型" {
        Single => ("single", "单选"),
        Multi => ("multi", "多选"),
        Scale => ("scale", "量表"),
        Text => ("text", "文字"),
    }
}

/// One question of a questionnaire template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: i64,
    pub kind: QuestionKind,
    pub text: String,
    /// Options of a single- or multiple-choice question.
    pub options: Vec<String>,
    /// Bounds of a scale question.
    pub scale_min: i32,
    pub scale_max: i32,
    /// The satisfaction topic a question measures (增收帮扶, 三保障, …), if any.
    pub topic: Option<String>,
    /// Options that count as satisfied, or (for a scale) the least satisfied value as text.
    pub satisfied: Vec<String>,
}

/// One answer, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Scale(i32),
    Choices(Vec<String>),
    Text(String),
}

/// Longest free-text answer kept.
pub const TEXT_MAX: usize = 1000;

/// Check what a form sent for a question (its values; several for a multiple choice). An empty
/// answer is `None` (unanswered); anything out of range is refused with the question named.
pub fn parse_answer(q: &Question, values: &[String]) -> Result<Option<Answer>, String> {
    let values: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Ok(None);
    }
    let name = &q.text;
    match q.kind {
        QuestionKind::Single | QuestionKind::Multi => {
            if q.kind == QuestionKind::Single && values.len() > 1 {
                return Err(format!("“{name}”是单选题，只能选一项"));
            }
            for v in &values {
                if !q.options.iter().any(|o| o == v) {
                    return Err(format!("“{name}”没有“{v}”这个选项，可选：{}", q.options.join("、")));
                }
            }
            let mut picked: Vec<String> = q.options.iter().filter(|o| values.contains(&o.as_str())).cloned().collect();
            picked.dedup();
            Ok(Some(Answer::Choices(picked)))
        }
        QuestionKind::Scale => {
            let v = values[0];
            match v.parse::<i32>() {
                Ok(n) if values.len() == 1 && (q.scale_min..=q.scale_max).contains(&n) => Ok(Some(Answer::Scale(n))),
                _ => Err(format!("“{name}”应填 {} 至 {} 的整数，而不是“{v}”", q.scale_min, q.scale_max)),
            }
        }
        QuestionKind::Text => {
            let text = values.join("\n");
            if text.chars().count() > TEXT_MAX {
                return Err(format!("“{name}”的回答请在 {TEXT_MAX} 字以内"));
            }
            Ok(Some(Answer::Text(text)))
        }
    }
}

/// Whether an answer counts as satisfied, for a question that measures satisfaction.
pub fn is_satisfied(q: &Question, a: &Answer) -> Option<bool> {
    q.topic.as_ref()?;
    match a {
        Answer::Scale(n) => {
            let least: i32 = q.satisfied.first().and_then(|s| s.parse().ok()).unwrap_or(q.scale_max);
            Some(*n >= least)
        }
        Answer::Choices(c) => Some(c.iter().any(|o| q.satisfied.contains(o))),
        Answer::Text(_) => None,
    }
}

/// Satisfied and answered, for a rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub satisfied: u32,
    pub answered: u32,
}

impl Tally {
    pub fn add(&mut self, satisfied: bool) {
        self.answered += 1;
        self.satisfied += u32::from(satisfied);
    }

    /// Percentage, one decimal; `None` with no answers.
    pub fn percent(&self) -> Option<f64> {
        (self.answered > 0).then(|| (1000.0 * f64::from(self.satisfied) / f64::from(self.answered)).round() / 10.0)
    }
}

/// The questionnaire ducha ships, after the seed: satisfaction with the help cadre, with 增收帮扶
/// and with 三保障, what help the household got, how often it is visited, and its suggestions.
pub fn seed_questions() -> Vec<Question> {
    let q = |kind, text: &str, options: &[&str], topic: Option<&str>, satisfied: &[&str]| Question {
        id: 0,
        kind,
        text: text.into(),
        options: options.iter().map(|s| s.to_string()).collect(),
        scale_min: if kind == QuestionKind::Scale { 1 } else { 0 },
        scale_max: if kind == QuestionKind::Scale { 5 } else { 0 },
        topic: topic.map(str::to_string),
        satisfied: satisfied.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        q(
            QuestionKind::Single,
            "您对帮扶责任人的帮扶工作是否满意？",
            &["满意", "基本满意", "不满意"],
            Some("帮扶工作"),
            &["满意", "基本满意"],
        ),
        q(
            QuestionKind::Scale,
            "您对增收帮扶措施（产业、就业、项目收益）的满意程度（1 最低，5 最高）",
            &[],
            Some("增收帮扶"),
            &["4"],
        ),
        q(
            QuestionKind::Scale,
            "您对义务教育、基本医疗、住房安全保障（三保障）的满意程度（1 最低，5 最高）",
            &[],
            Some("三保障"),
            &["4"],
        ),
        q(
            QuestionKind::Multi,
            "您家今年得到了哪些帮扶？",
            &["产业帮扶", "就业帮扶", "教育资助", "医疗救助", "危房改造", "低保兜底", "资产收益"],
            None,
            &[],
        ),
        q(QuestionKind::Single, "帮扶责任人今年到您家走访几次？", &["没有走访", "1 至 3 次", "4 次以上"], None, &[]),
        q(QuestionKind::Text, "您还有什么意见和建议？", &[], None, &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn answers_are_checked_against_their_question() {
        let q = seed_questions();
        assert_eq!(parse_answer(&q[0], &s(&["满意"])), Ok(Some(Answer::Choices(s(&["满意"])))));
        assert!(parse_answer(&q[0], &s(&["满意", "不满意"])).unwrap_err().contains("只能选一项"));
        assert!(parse_answer(&q[0], &s(&["非常满意"])).unwrap_err().contains("没有“非常满意”这个选项"));
        assert_eq!(parse_answer(&q[1], &s(&["5"])), Ok(Some(Answer::Scale(5))));
        assert!(parse_answer(&q[1], &s(&["6"])).unwrap_err().contains("应填 1 至 5 的整数"));
        assert!(parse_answer(&q[1], &s(&["很好"])).is_err());
        assert_eq!(parse_answer(&q[1], &s(&[" "])), Ok(None));
        assert_eq!(
            parse_answer(&q[3], &s(&["教育资助", "产业帮扶"])),
            Ok(Some(Answer::Choices(s(&["产业帮扶", "教育资助"]))))
        );
        assert!(parse_answer(&q[5], &["字".repeat(1001)]).is_err());
    }

    #[test]
    fn satisfaction_counts_only_satisfaction_questions() {
        let q = seed_questions();
        assert_eq!(is_satisfied(&q[1], &Answer::Scale(4)), Some(true));
        assert_eq!(is_satisfied(&q[1], &Answer::Scale(3)), Some(false));
        assert_eq!(is_satisfied(&q[0], &Answer::Choices(s(&["基本满意"]))), Some(true));
        assert_eq!(is_satisfied(&q[3], &Answer::Choices(s(&["教育资助"]))), None);
        let mut t = Tally::default();
        t.add(true);
        t.add(true);
        t.add(false);
        assert_eq!(t.percent(), Some(66.7));
        assert_eq!(Tally::default().percent(), None);
    }
}
