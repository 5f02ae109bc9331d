//! Town platforms (镇(街)扶贫工作平台): cadres a district posts to its towns (派驻干部) and their
//! attendance (驻点考勤), and the designated medical institutions (定点医疗机构) with their one-stop
//! settlement (一站式结算). The seed found postings "only on paper" in 蓬江, posted cadres not
//! full-time in 江海, 新会 and 开平, and hospitals where the poor could not settle in one stop.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::checks::{AuditParams, Finding};
use crate::labelled_enum;
use crate::validation::FieldErrors;

/// A cadre posted to a town by a unit of the district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub name: String,
    /// The unit that sends the cadre (派出单位).
    pub unit: String,
    pub town_code: String,
    /// Full-time (全职驻点) or still holding the post at the sending unit.
    pub full_time: bool,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

/// The posting form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PostingForm {
    pub name: String,
    pub unit: String,
    pub town_code: String,
    /// "是" / "否" (or true/false, 1/0).
    pub full_time: String,
    pub started_on: String,
    pub ended_on: String,
}

fn date_field(errors: &mut FieldErrors, field: &str, label: &str, text: &str) -> Option<NaiveDate> {
    crate::registry::parse_date(text).map_err(|why| errors.add(field, format!("{label}：{why}"))).ok()
}

/// Yes or no as an office types it.
pub fn yes_no(text: &str) -> Option<bool> {
    match text.trim() {
        "是" | "true" | "1" | "on" | "全职" => Some(true),
        "否" | "false" | "0" | "兼职" => Some(false),
        _ => None,
    }
}

impl PostingForm {
    /// Every field's problem at once.
    pub fn validate(&self) -> Result<Posting, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 30 {
            e.add("name", "请填写派驻干部姓名（30 字以内）");
        }
        let unit = self.unit.trim().to_string();
        if unit.is_empty() || unit.chars().count() > 60 {
            e.add("unit", "请填写派出单位（60 字以内）");
        }
        let town_code = self.town_code.trim().to_string();
        if town_code.len() != 9 || !town_code.bytes().all(|b| b.is_ascii_digit()) {
            e.add("town_code", "请选择派驻的镇（街）");
        }
        let full_time = yes_no(&self.full_time);
        if full_time.is_none() {
            e.add("full_time", format!("是否全职应填“是”或“否”，填的是“{}”", self.full_time.trim()));
        }
        let started_on = date_field(&mut e, "started_on", "派驻开始日期", &self.started_on);
        let ended_on = if self.ended_on.trim().is_empty() {
            None
        } else {
            date_field(&mut e, "ended_on", "派驻结束日期", &self.ended_on)
        };
        if let (Some(s), Some(t)) = (started_on, ended_on)
            && t < s
        {
            e.add("ended_on", format!("派驻结束日期 {t} 早于开始日期 {s}"));
        }
        e.into_result(|| {
            Some(Posting { name, unit, town_code, full_time: full_time?, started_on: started_on?, ended_on })
        })
    }
}

/// Monday to Friday: a day a posted cadre should be on post (public holidays are not known here).
pub fn is_workday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday to Friday between two dates, both included: the days a posted cadre should be on post.
pub fn working_days(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    let days = (to - from).num_days() + 1;
    let weeks = days / 7;
    let mut n = weeks * 5;
    let mut d = from + chrono::Duration::days(weeks * 7);
    while d <= to {
        n += i64::from(is_workday(d));
        d += chrono::Duration::days(1);
    }
    n
}

/// Why a check-in cannot be recorded on `on` for this posting (`today` is the server's date).
pub fn check_in_refusal(p: &Posting, on: NaiveDate, today: NaiveDate) -> Option<String> {
    if on > today {
        return Some(format!("签到日期 {on} 还没有到"));
    }
    if on < p.started_on {
        return Some(format!("签到日期 {on} 早于派驻开始日期 {}", p.started_on));
    }
    match p.ended_on {
        Some(end) if on > end => Some(format!("该派驻已于 {end} 结束，不能在 {on} 签到")),
        _ => None,
    }
}

/// The posting a day on post belongs to, among a town's postings: the cadre's (and, where the
/// sheet names it, the sending unit's) posting whose period holds the day. A cadre posted twice
/// to the town is told apart by the day; two namesakes on post the same day, by the unit.
/// Refusals come as (the sheet's column, why).
pub fn posting_on<'a>(
    town_postings: &[&'a PostingFacts],
    name: &str,
    unit: Option<&str>,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<&'a PostingFacts, (&'static str, String)> {
    let named: Vec<&PostingFacts> = town_postings
        .iter()
        .copied()
        .filter(|f| f.posting.name == name && unit.is_none_or(|u| f.posting.unit == u))
        .collect();
    let Some(first) = named.first() else {
        return Err(match unit {
            Some(u) => ("派出单位", format!("没有{u}派驻、名为“{name}”的干部")),
            None => ("派驻干部", format!("没有名为“{name}”的派驻干部")),
        });
    };
    let holding: Vec<&PostingFacts> =
        named.iter().copied().filter(|f| check_in_refusal(&f.posting, on, today).is_none()).collect();
    match holding.as_slice() {
        [one] => Ok(one),
        [] => {
            // The posting nearest the day explains the refusal best: the latest begun by then.
            let near = named.iter().filter(|f| f.posting.started_on <= on).max_by_key(|f| f.posting.started_on);
            let why = check_in_refusal(&near.unwrap_or(first).posting, on, today).unwrap_or_default();
            Err(("日期", why))
        }
        many => {
            let units: Vec<&str> = many.iter().map(|f| f.posting.unit.as_str()).collect();
            Err((
                "派出单位",
                format!("{on} 有 {} 名“{name}”在岗（{}），请在“派出单位”列写明", many.len(), units.join("、")),
            ))
        }
    }
}

/// A posting as the checks and the attendance table see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostingFacts {
    pub id: i64,
    pub posting: Posting,
    /// Distinct days with a check-in inside the year up to the as-of date.
    pub days_present: i64,
}

impl PostingFacts {
    /// The part of the posting inside the year, up to `as_of`.
    pub fn window(&self, year: i32, as_of: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?.max(self.posting.started_on);
        let end = NaiveDate::from_ymd_opt(year, 12, 31)?.min(as_of).min(self.posting.ended_on.unwrap_or(as_of));
        (start <= end).then_some((start, end))
    }

    /// Working days the cadre should have been on post.
    pub fn expected_days(&self, year: i32, as_of: NaiveDate) -> i64 {
        self.window(year, as_of).map(|(s, e)| working_days(s, e)).unwrap_or(0)
    }

    /// Attendance in whole per cent (None when no working day has passed yet).
    pub fn rate_percent(&self, year: i32, as_of: NaiveDate) -> Option<i64> {
        let expected = self.expected_days(year, as_of);
        (expected > 0).then(|| (self.days_present * 100 / expected).min(100))
    }
}

/// The checks' view of a posting: not full-time, no attendance at all ("only on paper"), or
/// attendance below the year's minimum. A posting that has not yet had a working day is left alone.
pub fn posting_findings(f: &PostingFacts, p: &AuditParams) -> Vec<Finding> {
    let mut out = Vec::new();
    let who = format!("派驻干部 {}（{}）", f.posting.name, f.posting.unit);
    let finding = |rule: &'static str, message: String| Finding {
        rule,
        household_id: 0,
        member_id: Some(f.id),
        village_code: f.posting.town_code.clone(),
        message,
    };
    if f.window(p.year, p.as_of).is_none() {
        return out;
    }
    if !f.posting.full_time {
        out.push(finding("T-PST-01", format!("{who}没有全职驻点，仍在原单位岗位")));
    }
    let expected = f.expected_days(p.year, p.as_of);
    if expected >= p.attendance_grace_days {
        if f.days_present == 0 {
            out.push(finding(
                "T-PST-02",
                format!("{who}{} 年应到岗 {expected} 个工作日，没有一次驻点考勤，派驻只停留在文件上", p.year),
            ));
        } else if let Some(rate) = f.rate_percent(p.year, p.as_of)
            && rate < p.attendance_min_percent
        {
            out.push(finding(
                "T-PST-03",
                format!(
                    "{who}{} 年应到岗 {expected} 个工作日，考勤 {} 天，到岗率 {rate}%，低于 {}%",
                    p.year, f.days_present, p.attendance_min_percent
                ),
            ));
        }
    }
    out
}

/// A town or street with no cadre on post on the as-of date (special areas have no town office
/// and are left out by the caller).
pub fn town_without_posting(town_code: &str, town_name: &str, on_post: usize) -> Vec<Finding> {
    if on_post > 0 {
        return vec![];
    }
    vec![Finding {
        rule: "T-PST-04",
        household_id: 0,
        member_id: None,
        village_code: town_code.to_string(),
        message: format!("{town_name}没有市（区）派驻的扶贫干部在岗"),
    }]
}

/// A day on post as an attendance sheet gives it (the town office's paper sheet, typed up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCheckIn {
    pub row: usize,
    /// The posted cadre's name.
    pub name: String,
    /// The town's code (the sheet's name resolved within the user's scope).
    pub town_code: String,
    /// The sending unit, where the sheet names it (to tell namesakes apart).
    pub unit: Option<String>,
    pub on: NaiveDate,
    pub place: Option<String>,
}

/// A posting as a roster sheet (派驻干部名单) gives it, its town resolved within scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPosting {
    pub row: usize,
    pub posting: Posting,
}

/// A designated institution as a sheet gives it, its district resolved within scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingInstitution {
    pub row: usize,
    pub institution: Institution,
}

/// A town office as the checks see it: the checklist items judged not met this year, and how many
/// of its staff left during the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeFacts {
    pub town_code: String,
    pub town_name: String,
    pub failed: Vec<String>,
    pub left_this_year: i64,
}

/// "六有" items not met, and staff changing too often (the seed: "镇（街）扶贫办人员轮换频繁").
pub fn office_findings(f: &OfficeFacts, p: &AuditParams) -> Vec<Finding> {
    let finding = |rule: &'static str, message: String| Finding {
        rule,
        household_id: 0,
        member_id: None,
        village_code: f.town_code.clone(),
        message,
    };
    let mut out = Vec::new();
    if !f.failed.is_empty() {
        out.push(finding("T-OFF-01", format!("{}扶贫工作平台未达到：{}", f.town_name, f.failed.join("、"))));
    }
    if f.left_this_year > p.office_turnover_max {
        out.push(finding(
            "T-OFF-02",
            format!("{}扶贫办 {} 年有 {} 名工作人员离岗，人员轮换频繁", f.town_name, p.year, f.left_this_year),
        ));
    }
    out
}

/// A member of a town office's staff as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub town_code: String,
    pub name: String,
    pub position: String,
    pub started_on: NaiveDate,
}

labelled_enum! {
    /// Hospital level (医院等级).
    pub enum InstitutionLevel: "医院等级" {
        Tertiary => ("3", "三级"),
        Secondary => ("2", "二级"),
        Primary => ("1", "一级"),
        Unrated => ("0", "未定级"),
    }
}

/// A designated medical institution of a district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    pub name: String,
    pub district_code: String,
    pub level: InstitutionLevel,
    /// Medical aid and insurance settled together at the counter (同步结算, 一站式).
    pub one_stop_online: bool,
    pub online_since: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InstitutionForm {
    pub name: String,
    pub district_code: String,
    pub level: String,
    pub one_stop_online: String,
    pub online_since: String,
}

impl InstitutionForm {
    pub fn validate(&self) -> Result<Institution, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 60 {
            e.add("name", "请填写医疗机构名称（60 字以内）");
        }
        let district_code = self.district_code.trim().to_string();
        if district_code.len() != 6 || !district_code.bytes().all(|b| b.is_ascii_digit()) {
            e.add("district_code", "请选择所在市（区）");
        }
        let level = e.take("level", <InstitutionLevel as crate::labelled::Labelled>::parse(&self.level));
        let online = yes_no(&self.one_stop_online);
        if online.is_none() {
            e.add("one_stop_online", format!("是否上线应填“是”或“否”，填的是“{}”", self.one_stop_online.trim()));
        }
        let online_since = if self.online_since.trim().is_empty() {
            None
        } else {
            date_field(&mut e, "online_since", "上线日期", &self.online_since)
        };
        if online == Some(false) && online_since.is_some() {
            e.add("online_since", "未上线的机构不应填写上线日期");
        }
        e.into_result(|| {
            Some(Institution { name, district_code, level: level?, one_stop_online: online?, online_since })
        })
    }
}

/// A designated institution not settling in one stop by the as-of date.
pub fn institution_findings(id: i64, i: &Institution, p: &AuditParams) -> Vec<Finding> {
    let online = i.one_stop_online && i.online_since.is_none_or(|d| d <= p.as_of);
    if online {
        return vec![];
    }
    vec![Finding {
        rule: "D-MED-01",
        household_id: 0,
        member_id: Some(id),
        village_code: i.district_code.clone(),
        message: format!(
            "定点医疗机构 {}（{}）未上线医疗救助与医疗保险同步结算平台，贫困户不能“一站式”结算",
            i.name, i.level
        ),
    }]
}

#[cfg(test)]
mod tests;
