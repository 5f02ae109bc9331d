//! The demo city's campaigns, run through the same functions the pages call: the June 2017
//! inspection, the November 2017 special inspection of the seed (sampled with the seed's preset,
//! visited, reviewed, its revisits verified), and one campaign on the days the demo is loaded,
//! so that the demo inspector has something to open.
//!
//! What the teams "found" follows the seed: posted cadres on paper in 蓬江 and not full-time in
//! 江海, 新会 and 开平; record books not per requirement in 蓬江 and 江海; one-stop settlement not
//! online everywhere in 新会 and 台山; staff turnover in 新会 and 开平; slow spending everywhere.
//! The scoring model then rates 鹤山, 台山 and 恩平 outstanding and the others average, and the
//! revisits find 三江镇 and 苍城镇 acted on but not fully rectified.

use chrono::{Days, NaiveDate};
use ducha_domain::campaigns::scoring::Weights;
use ducha_domain::campaigns::{
    CampaignKind, NOVEMBER_2017_REVISITS, Purpose, Quota, ReviewResult, RevisitResult, SamplePlan, Wanted,
    november_2017_quotas,
};
use serde::Serialize;

use super::fieldwork::{Observation, ReviewInput, VisitInput};
use super::{CampaignInput, TeamInput};
use crate::{Scoped, StorageError};

/// The seed's November plan: its seed, quotas and named revisit towns.
pub fn november_plan(seed: u64, revisit_from: i64) -> SamplePlan {
    SamplePlan {
        seed,
        quotas: november_2017_quotas(),
        revisit_from: Some(revisit_from),
        revisit_per_district: 1,
        exclude_months: 6,
        households_per_town: 4,
        weight_findings: false,
        chosen_towns: NOVEMBER_2017_REVISITS.iter().map(|c| (c.to_string(), Purpose::Revisit)).collect(),
        chosen_households: vec![],
    }
}

/// Seed units, as the circular names them.
const LEAD: &str = "市扶贫办、市民政局";
const GUIDED: &str = "市政府督查室";
const MEMBERS: &str = "市纪委驻农业局纪检组、市人力资源和社会保障局、市财政局、市审计局";
const FOCUS: [&str; 4] = ["扶贫责任落实", "贫困户帮扶措施落实", "“三保障”政策落实", "资金使用安全与进度"];

fn d(y: i32, m: u32, day: u32) -> Result<NaiveDate, StorageError> {
    NaiveDate::from_ymd_opt(y, m, day).ok_or_else(|| StorageError::Rejected("演示日期无效".into()))
}

fn teams() -> [TeamInput; 2] {
    [
        TeamInput {
            name: "第一督查组".into(),
            leader: "市扶贫办".into(),
            units: "市扶贫办、市纪委驻农业局纪检组、市财政局".into(),
            members: vec!["inspector".into()],
            districts: vec!["440703".into(), "440704".into(), "440705".into(), "440784".into()],
        },
        TeamInput {
            name: "第二督查组".into(),
            leader: "市民政局".into(),
            units: "市民政局、市人力资源和社会保障局、市审计局".into(),
            members: vec![],
            districts: vec!["440781".into(), "440783".into(), "440785".into()],
        },
    ]
}

/// What was found in one district's towns: checklist items (by position) that failed, with the
/// note the team wrote; facts that differed on visits; households not satisfied.
struct Findings {
    fails: Vec<(usize, &'static str)>,
    differences: usize,
    unsatisfied: usize,
}

fn findings(district: &str, first_town: bool) -> Findings {
    // Checklist positions (1-based) as in SEED_CHECKLIST.
    let funds = (13, "扶贫资金使用进度缓慢，未达到序时进度");
    let mut fails = vec![funds];
    let (differences, unsatisfied) = match district {
        "440703" => {
            fails.push((2, "派驻干部只停留在文件上，没有实质性参与扶贫工作，无驻点考勤记录"));
            fails.push((6, "贫困户帮扶记录本没有按照省、市要求设置"));
            fails.push((8, "帮扶日志没有及时更新"));
            fails.push((12, "资金项目材料证据不足，欠缺项目方案"));
            (1, 1)
        }
        "440704" => {
            fails.push((2, "派驻干部没有全职到岗到位"));
            fails.push((6, "贫困户帮扶记录本没有按照省、市要求设置"));
            fails.push((7, "部分贫困户 2017 年帮扶计划没有填写或录入"));
            fails.push((10, "部分贫困户未参与长效增收“造血”型项目"));
            (1, 1)
        }
        "440705" => {
            fails.push((2, "派驻干部没有全职到岗到位"));
            if first_town {
                fails.push((4, "镇扶贫办人员轮换频繁，业务不熟悉"));
            }
            fails.push((5, "纸质档案没有分门别类整理归档，信息不完整"));
            fails.push((14, "部分定点医疗机构未上线“一站式”同步结算平台"));
            (1, 1)
        }
        "440783" => {
            fails.push((2, "派驻干部没有全职到岗到位"));
            if first_town {
                fails.push((4, "镇扶贫办人员轮换频繁，业务不熟悉"));
            }
            fails.push((9, "个别贫困户收入与支出不对等，存在逻辑性错误"));
            fails.push((11, "个别帮扶项目没有录入系统"));
            (1, 1)
        }
        "440781" => {
            fails.push((14, "部分卫生院未上线“一站式”同步结算平台"));
            (0, 0)
        }
        _ => (0, 0),
    };
    Findings { fails, differences, unsatisfied }
}

/// What the demo's campaigns came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoCampaigns {
    pub june: i64,
    pub november: i64,
    pub current: Option<i64>,
    pub visits: usize,
    pub problems: usize,
}

/// Load the demo campaigns into a demo city (its accounts already made). The Scoped's day dates
/// the campaign under way.
pub(crate) async fn load(s: &Scoped, year: i32) -> Result<DemoCampaigns, StorageError> {
    let (db, today) = (s.db(), s.today());
    let mut out = DemoCampaigns::default();
    let input = |name: String, kind, starts_on, ends_on| CampaignInput {
        name,
        kind,
        starts_on,
        ends_on,
        focus: FOCUS.iter().map(|f| f.to_string()).collect(),
        lead_units: LEAD.into(),
        guided_by: GUIDED.into(),
        member_units: MEMBERS.into(),
        weights: Weights::default(),
    };

    // June: the seven towns revisited in November, chosen, and one more drawn in each district
    // (excluded from November's fresh draw as inspected within six months).
    let june = super::create(
        s,
        &input(format!("{year}年6月脱贫攻坚督查"), CampaignKind::Special, d(year, 6, 5)?, d(year, 6, 7)?),
    )
    .await?;
    for t in teams() {
        super::add_team(s, june, &t).await?;
    }
    let plan = SamplePlan {
        seed: 20_170_605,
        quotas: november_2017_quotas()
            .into_iter()
            // 蓬江 and 江海 have few streets with poor households: June saw only the named one.
            .map(|q| Quota { count: if q.wanted == Wanted::Street { 1 } else { 2 }, wanted: Wanted::Any, ..q })
            .collect(),
        revisit_from: None,
        revisit_per_district: 0,
        exclude_months: 0,
        households_per_town: 4,
        weight_findings: false,
        chosen_towns: NOVEMBER_2017_REVISITS.iter().map(|c| (c.to_string(), Purpose::Fresh)).collect(),
        chosen_households: vec![],
    };
    super::sample::draw(s, june, &plan).await?;
    let june_on = d(year, 6, 5)?;
    let opened = super::open_in(s, db.conn(), june).await?;
    for town in super::sample::stored(db, db.conn(), &opened).await? {
        // In June every named town had its record books and logs found wanting.
        let named = NOVEMBER_2017_REVISITS.contains(&town.code.as_str());
        let fails: Vec<(usize, &str)> = if named {
            vec![(6, "贫困户帮扶记录本填写不完整"), (8, "帮扶日志没有及时更新")]
        } else {
            vec![(13, "扶贫资金使用进度缓慢")]
        };
        out.problems += review(s, june, &town.code, &fails).await?;
        out.visits += visit_all(s, june, &town, june_on, 0, 0).await?;
    }
    out.june = june;

    // November: the seed's campaign, sampled with its preset.
    let nov = super::create(
        s,
        &input(format!("{year}年脱贫攻坚专项督查"), CampaignKind::Special, d(year, 11, 6)?, d(year, 11, 8)?),
    )
    .await?;
    for t in teams() {
        super::add_team(s, nov, &t).await?;
    }
    super::sample::draw(s, nov, &november_plan(20_171_106, june)).await?;
    let opened = super::open_in(s, db.conn(), nov).await?;
    let towns = super::sample::stored(db, db.conn(), &opened).await?;
    for (i, town) in towns.iter().enumerate() {
        let on = d(year, 11, 6)?.checked_add_days(Days::new((i % 3) as u64)).unwrap_or(d(year, 11, 6)?);
        let first = towns.iter().find(|t| t.district == town.district && t.purpose == Purpose::Fresh).map(|t| &t.code);
        let f = findings(&town.district, first == Some(&town.code));
        if town.purpose == Purpose::Fresh {
            out.problems += review(s, nov, &town.code, &f.fails).await?;
        } else {
            // A revisited town: verify June's problems. 三江镇 and 苍城镇 acted, not fully.
            let partly = ["440705108", "440783104"].contains(&town.code.as_str());
            for (k, p) in super::problems::revisit_list(db, db.conn(), &opened, &town.code).await?.iter().enumerate() {
                let (result, note) = if partly && k == 1 {
                    (RevisitResult::Partly, "帮扶日志已开始补记，但仍有部分贫困户未更新")
                } else {
                    (RevisitResult::Rectified, "")
                };
                super::problems::verify(s, nov, p.problem.id, result, note).await?;
            }
            out.problems += review(s, nov, &town.code, &f.fails[..1]).await?;
        }
        out.visits += visit_all(s, nov, town, on, f.differences, f.unsatisfied).await?;
    }
    out.november = nov;
    // The circular as the seed issued it.
    let mut settings = super::circular::settings_of(db, db.conn(), opened.campaign()).await?;
    settings.number = format!("江扶字〔{year}〕14号");
    settings.basis =
        format!("《广东省人民政府办公厅关于开展{year}年省脱贫攻坚工作专项督查的通知》（粤府办明电〔{year}〕204号）");
    settings.issued_on = d(year, 12, 3)?;
    super::circular::save_settings(s, nov, &settings).await?;

    // A campaign under way on the day the demo is loaded, for the demo inspector.
    let current = super::create(
        s,
        &input(
            "演示：本周暗访".into(),
            CampaignKind::Unannounced,
            today,
            today.checked_add_days(Days::new(2)).unwrap_or(today),
        ),
    )
    .await?;
    for t in teams() {
        super::add_team(s, current, &t).await?;
    }
    let mut plan = november_plan(20_261_127, june);
    plan.revisit_from = None;
    plan.revisit_per_district = 0;
    plan.chosen_towns = vec![];
    plan.exclude_months = 0;
    super::sample::draw(s, current, &plan).await?;
    out.current = Some(current);
    Ok(out)
}

/// Review a town: the given items fail with their notes, the rest pass. Returns the problems made.
async fn review(s: &Scoped, campaign: i64, town: &str, fails: &[(usize, &str)]) -> Result<usize, StorageError> {
    let db = s.db();
    let c = super::get(db, db.conn(), campaign).await?;
    let items = super::fieldwork::checklist(db, db.conn(), c.checklist_id.unwrap_or(1)).await?;
    let results = items
        .iter()
        .enumerate()
        .map(|(i, it)| match fails.iter().find(|(pos, _)| *pos == i + 1) {
            Some((_, note)) => (it.id, Some(ReviewResult::Fail), note.to_string()),
            None => (it.id, Some(ReviewResult::Pass), String::new()),
        })
        .collect();
    let input = ReviewInput { town: town.to_string(), results, photos: vec![] };
    Ok(super::fieldwork::review(s, campaign, &input).await?.len())
}

/// Visit every sampled household of a town: the first `differences` households' record books are
/// found not in the province's format; the last `unsatisfied` are not satisfied with 增收帮扶.
async fn visit_all(
    s: &Scoped,
    campaign: i64,
    town: &super::sample::SampleTown,
    on: NaiveDate,
    differences: usize,
    unsatisfied: usize,
) -> Result<usize, StorageError> {
    let db = s.db();
    let c = super::get(db, db.conn(), campaign).await?;
    let questions = super::fieldwork::questions(db, db.conn(), c.questionnaire_id.unwrap_or(1)).await?;
    let n = town.households.len();
    for (k, h) in town.households.iter().enumerate() {
        let facts = super::fieldwork::facts_of(db, db.conn(), h.id).await?;
        let observations = facts
            .iter()
            .map(|f| {
                let differs = k < differences && f.key == "measures";
                Observation {
                    key: f.key.to_string(),
                    matches: !differs,
                    observed: if differs { "户主称今年未落实任何帮扶措施".into() } else { String::new() },
                }
            })
            .collect();
        let unhappy = k >= n.saturating_sub(unsatisfied);
        let answers = questions
            .iter()
            .map(|q| {
                let v: Vec<String> = match q.topic.as_deref() {
                    Some("增收帮扶") if unhappy => vec!["3".into()],
                    Some(_) if q.kind == ducha_domain::campaigns::questionnaire::QuestionKind::Scale => {
                        vec!["5".into()]
                    }
                    Some(_) => vec![q.options.first().cloned().unwrap_or_default()],
                    None if q.kind == ducha_domain::campaigns::questionnaire::QuestionKind::Text => vec![],
                    None => q.options.get(1).cloned().into_iter().collect(),
                };
                (q.id, v)
            })
            .collect();
        let v = VisitInput {
            household_id: h.id,
            client_key: format!("demo-{campaign}-{}", h.id),
            visited_on: Some(on),
            observations,
            note: String::new(),
            answers,
            photos: vec![],
        };
        super::fieldwork::submit_visit(s, campaign, &v).await?;
    }
    Ok(n)
}
