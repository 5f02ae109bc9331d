//! Inspection campaigns (督查): their vocabularies, the sampling of towns and households, the
//! questionnaire's questions and answers, the scoring of districts and the revisit verdicts.
//! Everything here is pure: storage hands the candidates and facts in.

pub mod questionnaire;
pub mod sampling;
pub mod scoring;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::{Actor, Role, Scope};
use crate::labelled_enum;

labelled_enum! {
    /// What kind of inspection.
    pub enum CampaignKind: "督查类型" {
        Special => ("special", "专项督查"),
        Revisit => ("revisit", "回头看"),
        Unannounced => ("unannounced", "暗访"),
    }
}

labelled_enum! {
    /// Why a town is in the sample: inspected afresh, or revisited to verify an earlier campaign's
    /// rectification (回头看).
    pub enum Purpose: "抽查目的" {
        Fresh => ("fresh", "新抽查"),
        Revisit => ("revisit", "回头看"),
    }
}

labelled_enum! {
    /// How a town or household entered the sample: drawn by the seed, or chosen by hand.
    pub enum How: "抽取方式" {
        Drawn => ("drawn", "随机抽取"),
        Chosen => ("chosen", "指定"),
    }
}

labelled_enum! {
    /// The kind of town a quota asks for (the seed draws streets in 蓬江 and 江海, towns or streets
    /// elsewhere).
    pub enum Wanted: "抽查镇(街)类型" {
        Street => ("street", "街道"),
        Town => ("town", "镇"),
        Any => ("any", "镇(街)"),
    }
}

labelled_enum! {
    /// A document-review checklist item's result.
    pub enum ReviewResult: "查阅结果" {
        Pass => ("pass", "符合"),
        Fail => ("fail", "不符合"),
        NotApplicable => ("na", "不适用"),
    }
}

labelled_enum! {
    /// Where a problem came from.
    pub enum Source: "问题来源" {
        Review => ("review", "查阅资料"),
        Visit => ("visit", "实地调查"),
        Questionnaire => ("questionnaire", "问卷调查"),
        Audit => ("audit", "数据核查"),
        Manual => ("manual", "督查组录入"),
    }
}

labelled_enum! {
    /// A problem's standing within its campaign: the audit engine's findings are proposed until an
    /// inspector confirms or dismisses them; the others are confirmed when entered.
    pub enum ProblemStatus: "问题状态" {
        Proposed => ("proposed", "待确认"),
        Confirmed => ("confirmed", "已确认"),
        Dismissed => ("dismissed", "已排除"),
    }
}

labelled_enum! {
    /// A revisit's verification of one earlier problem.
    pub enum RevisitResult: "整改核实" {
        Rectified => ("rectified", "已整改"),
        Partly => ("partly", "整改不到位"),
        NotRectified => ("not", "未整改"),
    }
}

labelled_enum! {
    /// A revisited town's verdict, following from its problems' verification.
    pub enum Verdict: "回头看结论" {
        Rectified => ("rectified", "已落实整改"),
        Partly => ("partly", "有行动但整改不到位"),
        NotRectified => ("not", "未落实整改"),
        Pending => ("pending", "尚未核实"),
    }
}

labelled_enum! {
    /// A district's rating in a campaign.
    pub enum Rating: "总体表现" {
        Outstanding => ("outstanding", "表现突出"),
        Average => ("average", "一般"),
        Poor => ("poor", "较差"),
    }
}

/// The town's verdict from its problems' results: all rectified → rectified; none at all acted on
/// → not rectified; otherwise acted but not fully (the seed's "虽有行动，但有的地方整改不到位").
/// A town whose problems are not all verified yet is pending.
pub fn verdict(results: &[Option<RevisitResult>]) -> Verdict {
    if results.iter().any(Option::is_none) {
        return Verdict::Pending;
    }
    let done: Vec<RevisitResult> = results.iter().flatten().copied().collect();
    if done.iter().all(|r| *r == RevisitResult::Rectified) {
        Verdict::Rectified
    } else if done.iter().all(|r| *r == RevisitResult::NotRectified) {
        Verdict::NotRectified
    } else {
        Verdict::Partly
    }
}

/// A quota: how many towns of a kind to draw afresh in a district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub district: String,
    pub wanted: Wanted,
    pub count: u32,
}

/// Everything a draw depends on, stored with the sample so that it can be repeated and explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplePlan {
    pub seed: u64,
    /// Fresh towns per district.
    pub quotas: Vec<Quota>,
    /// The earlier campaign whose towns are revisited, and how many per district.
    pub revisit_from: Option<i64>,
    pub revisit_per_district: u32,
    /// Towns inspected (by any campaign) within this many months before the start are not drawn
    /// afresh; 0 for none.
    pub exclude_months: u32,
    /// Households visited per town (the seed: at least 4).
    pub households_per_town: u32,
    /// Favour households with open data-quality findings.
    pub weight_findings: bool,
    /// Towns chosen by hand, with their purpose; they count towards the quotas.
    pub chosen_towns: Vec<(String, Purpose)>,
    /// Households chosen by hand; they count towards their town's number.
    pub chosen_households: Vec<i64>,
}

/// The seed's own plan, as a preset: one street each in 蓬江 and 江海, two towns or streets in
/// 新会 and each county-level city, one town per district revisited from the June campaign, at
/// least 4 households in each.
pub fn november_2017_quotas() -> Vec<Quota> {
    let q = |d: &str, wanted, count| Quota { district: d.to_string(), wanted, count };
    vec![
        q("440703", Wanted::Street, 1),
        q("440704", Wanted::Street, 1),
        q("440705", Wanted::Any, 2),
        q("440781", Wanted::Any, 2),
        q("440783", Wanted::Any, 2),
        q("440784", Wanted::Any, 2),
        q("440785", Wanted::Any, 2),
    ]
}

/// The towns the seed names as revisited in November (inspected in June).
pub const NOVEMBER_2017_REVISITS: [&str; 7] =
    ["440703006", "440704001", "440705108", "440781111", "440783104", "440784108", "440785107"];

/// The seed's document-review checklist: what the teams looked at in the towns' files.
pub const SEED_CHECKLIST: [(&str, &str); 14] = [
    ("平台建设", "镇（街）扶贫办“六有”达标：机构、人员、场所、设备、制度、经费"),
    ("平台建设", "市（区）派驻干部全职到岗，驻点考勤记录完整"),
    ("责任落实", "镇（街）领导分工明确，扶贫工作责任落实到人"),
    ("责任落实", "镇（街）扶贫办人员稳定，业务熟悉"),
    ("档案资料", "纸质档案分门别类整理归档，信息完整无错漏"),
    ("档案资料", "贫困户帮扶记录本按省、市要求设置并填写"),
    ("档案资料", "贫困户年度帮扶计划已填写并录入系统"),
    ("档案资料", "帮扶日志按时更新"),
    ("档案资料", "收入与支出等信息逻辑一致，与事实相符"),
    ("帮扶措施", "每户贫困户参与至少一项长效增收（造血型）项目"),
    ("资金项目", "资金跟项目走，项目到户到人"),
    ("资金项目", "项目方案、审批、实施和验收材料齐全，有佐证"),
    ("资金项目", "扶贫资金使用进度达到要求"),
    ("医疗保障", "定点医疗机构上线“一站式”同步结算平台"),
];

/// What one user may do in one campaign. Made only by [`access`], the campaigns' one policy
/// (`non_exhaustive`: no other crate can make one by hand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CampaignAccess {
    /// Region prefixes (districts or a town) whose part of the campaign the user sees; `None`
    /// for the whole campaign.
    pub within: Option<Vec<String>>,
    /// May record fieldwork there: document review, visits, questionnaires, problems.
    pub fieldwork: bool,
    /// May plan: the campaign itself, its teams, its sample, and confirm or dismiss problems.
    pub plans: bool,
}

impl CampaignAccess {
    pub fn sees(&self, code: &str) -> bool {
        self.within.as_ref().is_none_or(|w| w.iter().any(|p| code.starts_with(p.as_str())))
    }

    /// Whether the part seen and the region `code` (a district or a town) overlap: a district's
    /// office and that district's towns, a town's office and its district.
    pub fn overlaps(&self, code: &str) -> bool {
        self.within.as_ref().is_none_or(|w| w.iter().any(|p| code.starts_with(p.as_str()) || p.starts_with(code)))
    }
}

/// Why a campaign is out of a user's reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The campaign is not there for this user: answered exactly as one that does not exist, so
    /// that nothing (its existence, its sample) can be told from the answer.
    Hidden,
    /// A member of its teams outside the campaign's days, told why.
    Closed(String),
}

/// Whether a campaign is still secret from a user: until it ends, only the city office and the
/// members of its own teams see anything that depends on its plan or sample. Everyone else gets
/// the answer they would get if it did not exist, whether or not their town was drawn.
pub fn sealed(role: Role, member: bool, ends: NaiveDate, today: NaiveDate) -> bool {
    today <= ends && role != Role::CityOffice && !(role == Role::Inspector && member)
}

/// The access policy of campaigns. Until a campaign ends it is sealed (see [`sealed`]): only the
/// city office and its own teams reach it. Inspectors reach their team's districts only, and only
/// on the campaign's days; after it ends, the offices and leaders read their own part; the city
/// office plans. `team_districts` are the districts of the campaign's teams the user is a member
/// of.
pub fn access(
    actor: &Actor,
    team_districts: &[String],
    starts: NaiveDate,
    ends: NaiveDate,
    today: NaiveDate,
) -> Result<CampaignAccess, Refusal> {
    let from_scope = || match &actor.scope {
        Scope::All => None,
        Scope::Region(r) if r.level() == crate::region::RegionLevel::City => None,
        Scope::Region(r) => Some(vec![r.as_str().to_string()]),
    };
    let member = !team_districts.is_empty();
    if sealed(actor.role, member, ends, today) {
        return Err(Refusal::Hidden);
    }
    let grant = |within, fieldwork, plans| Ok(CampaignAccess { within, fieldwork, plans });
    match actor.role {
        Role::CityOffice => grant(from_scope(), true, true),
        Role::Leader | Role::Admin | Role::DistrictOffice | Role::TownOffice => grant(from_scope(), false, false),
        Role::Inspector if !member => Err(Refusal::Hidden),
        Role::Inspector if today < starts => {
            Err(Refusal::Closed(format!("本次督查 {starts} 开始，届时督查组成员才能访问")))
        }
        Role::Inspector if today > ends => {
            Err(Refusal::Closed(format!("本次督查已于 {ends} 结束，督查组成员的访问权限已到期")))
        }
        Role::Inspector => grant(Some(team_districts.to_vec()), true, false),
        // Help cadres take no part in campaigns: none is there for them.
        Role::HelpCadre => Err(Refusal::Hidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::RegionCode;

    fn actor(role: Role, region: &str) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            display_name: "u".into(),
            role,
            scope: Scope::Region(RegionCode::parse(region).unwrap()),
            origin: None,
        }
    }

    #[test]
    fn inspectors_reach_their_districts_on_the_campaigns_days_only() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (starts, ends) = (d("2017-11-06"), d("2017-11-08"));
        let i = actor(Role::Inspector, "4407");
        let teams = vec!["440781".to_string()];
        let a = access(&i, &teams, starts, ends, d("2017-11-07")).unwrap();
        assert!(a.fieldwork && !a.plans);
        assert!(a.sees("440781111") && !a.sees("440783104"));
        let expired = access(&i, &teams, starts, ends, d("2017-11-09")).unwrap_err();
        assert!(matches!(&expired, Refusal::Closed(m) if m.contains("已到期")), "{expired:?}");
        assert!(matches!(access(&i, &teams, starts, ends, d("2017-11-05")), Err(Refusal::Closed(_))));
        assert_eq!(access(&i, &[], starts, ends, d("2017-11-07")), Err(Refusal::Hidden));
        let town = access(&actor(Role::TownOffice, "440781111"), &[], starts, ends, d("2018-01-01")).unwrap();
        assert!(town.sees("440781111") && !town.sees("440781112") && !town.fieldwork);
        assert!(town.overlaps("440781") && !town.overlaps("440783"));
        let city = access(&actor(Role::CityOffice, "4407"), &[], starts, ends, d("2018-01-01")).unwrap();
        assert!(city.plans && city.sees("440703006"));
    }

    #[test]
    fn a_campaign_is_sealed_from_everyone_but_the_city_and_its_teams_until_it_ends() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (starts, ends) = (d("2017-11-06"), d("2017-11-08"));
        let others = [
            actor(Role::TownOffice, "440781111"),
            actor(Role::DistrictOffice, "440781"),
            actor(Role::Leader, "4407"),
            actor(Role::Admin, "4407"),
            actor(Role::HelpCadre, "440781111"),
            actor(Role::Inspector, "4407"),
        ];
        // Before it starts, on its days and on its last day: nothing, as for no campaign at all.
        for today in ["2017-10-01", "2017-11-06", "2017-11-08"] {
            for a in &others {
                assert_eq!(access(a, &[], starts, ends, d(today)), Err(Refusal::Hidden), "{:?} {today}", a.role);
            }
            assert!(access(&actor(Role::CityOffice, "4407"), &[], starts, ends, d(today)).is_ok());
        }
        // Its own team's inspector on its days.
        assert!(access(&actor(Role::Inspector, "4407"), &["440781".into()], starts, ends, d("2017-11-07")).is_ok());
        // After it ends, the offices read their own part; help cadres and outsiders still nothing.
        let after = d("2017-11-09");
        assert!(access(&others[0], &[], starts, ends, after).is_ok());
        assert!(access(&others[1], &[], starts, ends, after).is_ok());
        assert!(access(&others[2], &[], starts, ends, after).is_ok_and(|a| a.within.is_none()));
        assert_eq!(access(&others[4], &[], starts, ends, after), Err(Refusal::Hidden));
        assert_eq!(access(&others[5], &[], starts, ends, after), Err(Refusal::Hidden));
    }

    #[test]
    fn a_town_is_rectified_only_when_every_problem_is() {
        use RevisitResult::*;
        assert_eq!(verdict(&[Some(Rectified), Some(Rectified)]), Verdict::Rectified);
        assert_eq!(verdict(&[Some(Rectified), Some(Partly)]), Verdict::Partly);
        assert_eq!(verdict(&[Some(Rectified), Some(NotRectified)]), Verdict::Partly);
        assert_eq!(verdict(&[Some(NotRectified), Some(NotRectified)]), Verdict::NotRectified);
        assert_eq!(verdict(&[Some(Rectified), None]), Verdict::Pending);
        // A revisited town whose earlier visit found nothing has nothing to rectify.
        assert_eq!(verdict(&[]), Verdict::Rectified);
    }

    #[test]
    fn the_preset_draws_twelve_towns() {
        assert_eq!(november_2017_quotas().iter().map(|q| q.count).sum::<u32>(), 12);
        assert_eq!(NOVEMBER_2017_REVISITS.len() + 12, 19);
    }
}
