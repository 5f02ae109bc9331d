//! A campaign's figures, as its page and its circular state them: the sample, the visits, the
//! problems by category and district, satisfaction, the revisit verdicts and the district ratings
//! from the scoring model.

use std::collections::BTreeMap;

use ducha_domain::campaigns::questionnaire::{Answer, Tally, is_satisfied};
use ducha_domain::campaigns::scoring::{DistrictFacts, DistrictScore, score};
use ducha_domain::campaigns::{CampaignAccess, How, ProblemStatus, Purpose, ReviewResult};
use ducha_domain::checks::{Category, Severity};
use ducha_domain::labelled::Labelled;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::problems::{Problem, TownVerdict};
use super::sample::SampleTown;
use super::{Campaign, Opened, Team};
use crate::stored::Code;
use crate::{Db, StorageError};

/// Problems of one category, with the districts they were found in.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryLine {
    pub category: Category,
    pub count: usize,
    pub districts: Vec<String>,
}

/// Satisfaction with one topic.
#[derive(Debug, Clone, Serialize)]
pub struct TopicLine {
    pub topic: String,
    pub tally: Tally,
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub campaign: Campaign,
    pub access: CampaignAccess,
    pub teams: Vec<Team>,
    pub towns: Vec<SampleTown>,
    pub towns_fresh: usize,
    pub towns_revisit: usize,
    pub towns_drawn: usize,
    pub towns_chosen: usize,
    pub households: usize,
    pub visited: usize,
    /// The least number of households sampled in a town.
    pub min_households: usize,
    pub problems: Vec<Problem>,
    pub proposed: usize,
    pub by_category: Vec<CategoryLine>,
    pub satisfaction: Vec<TopicLine>,
    pub verdicts: Vec<TownVerdict>,
    pub scores: Vec<DistrictScore>,
    /// Satisfaction (every satisfaction question) by sampled town.
    pub town_satisfaction: BTreeMap<String, Tally>,
}

impl Summary {
    pub fn rated(&self, rating: ducha_domain::campaigns::Rating) -> Vec<&str> {
        self.scores.iter().filter(|s| s.rating == rating).map(|s| s.facts.name.as_str()).collect()
    }

    pub fn verdict_towns(&self, v: ducha_domain::campaigns::Verdict) -> Vec<&str> {
        self.verdicts.iter().filter(|t| t.verdict == v).map(|t| t.town_name.as_str()).collect()
    }
}

/// A campaign's figures, within what the actor may see of it.
pub(crate) async fn summary_of<C: ConnectionTrait>(db: &Db, c: &C, opened: Opened) -> Result<Summary, StorageError> {
    let teams = super::teams(db, c, &opened).await?;
    let towns = super::sample::stored(db, c, &opened).await?;
    let all_problems = super::problems::list(db, c, &opened, None, None).await?;
    let verdicts = super::problems::verdicts(db, c, &opened).await?;
    let (campaign, access) = opened.into_parts();
    let id = campaign.id;
    let proposed = all_problems.iter().filter(|p| p.status == ProblemStatus::Proposed).count();
    let problems: Vec<Problem> = all_problems.into_iter().filter(|p| p.status == ProblemStatus::Confirmed).collect();
    let by_category = Category::ALL
        .iter()
        .map(|cat| {
            let of: Vec<&Problem> = problems.iter().filter(|p| p.category == *cat).collect();
            let mut districts: Vec<(String, String)> =
                of.iter().map(|p| (p.district_code.clone(), p.district_name.clone())).collect();
            districts.sort();
            districts.dedup();
            CategoryLine { category: *cat, count: of.len(), districts: districts.into_iter().map(|d| d.1).collect() }
        })
        .collect();

    // Satisfaction: every satisfaction question's answers, by topic and by district.
    let questions = super::fieldwork::questions(db, c, campaign.questionnaire_id.unwrap_or(1)).await?;
    #[derive(FromQueryResult)]
    struct AnswerRow {
        question_id: i64,
        answer: String,
        town_code: String,
    }
    let answers = AnswerRow::find_by_statement(db.stmt(
            "SELECT a.question_id, a.answer, s.town_code FROM campaign_answers a \
             JOIN campaign_households s ON s.campaign_id = a.campaign_id AND s.household_id = a.household_id WHERE a.campaign_id = $1",
            vec![id.into()],
        ))
        .all(c)
        .await?;
    let mut topics: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_district: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_town: BTreeMap<String, Tally> = BTreeMap::new();
    for AnswerRow { question_id: qid, answer: raw, town_code: town } in answers {
        if !access.sees(&town) {
            continue;
        }
        let a: Answer = super::from_json("问卷回答", &raw)?;
        let Some(q) = questions.iter().find(|q| q.id == qid) else { continue };
        if let (Some(topic), Some(ok)) = (&q.topic, is_satisfied(q, &a)) {
            topics.entry(topic.clone()).or_default().add(ok);
            by_district.entry(town.get(..6).unwrap_or_default().to_string()).or_default().add(ok);
            by_town.entry(town.clone()).or_default().add(ok);
        }
    }
    let satisfaction =
        topics.into_iter().map(|(topic, tally)| TopicLine { topic, percent: tally.percent(), tally }).collect();

    // Document review results by district.
    #[derive(FromQueryResult)]
    struct ReviewCount {
        town_code: String,
        result: Code<ReviewResult>,
        n: i64,
    }
    let reviews = ReviewCount::find_by_statement(db.stmt(
        "SELECT town_code, result, COUNT(*) AS n FROM campaign_reviews WHERE campaign_id = $1 GROUP BY town_code, result",
        vec![id.into()],
    ))
    .all(c)
    .await?;
    let mut facts: BTreeMap<String, DistrictFacts> = BTreeMap::new();
    for t in &towns {
        let f = facts.entry(t.district.clone()).or_insert_with(|| DistrictFacts {
            district: t.district.clone(),
            name: t.district_name.clone(),
            ..Default::default()
        });
        f.towns += 1;
        f.households += t.households.len() as u32;
    }
    for ReviewCount { town_code: town, result, n } in reviews {
        if !access.sees(&town) {
            continue;
        }
        if let Some(f) = facts.get_mut(town.get(..6).unwrap_or_default()) {
            match result.0 {
                ReviewResult::Pass => f.checklist_pass += n as u32,
                ReviewResult::Fail => f.checklist_fail += n as u32,
                _ => {}
            }
        }
    }
    for p in &problems {
        if let Some(f) = facts.get_mut(&p.district_code) {
            match p.severity {
                Severity::Error => f.errors += 1,
                Severity::Warning => f.warnings += 1,
                Severity::Notice => f.notices += 1,
            }
        }
    }
    for (d, t) in by_district {
        if let Some(f) = facts.get_mut(&d) {
            f.satisfaction = t;
        }
    }
    let scores = facts.values().map(|f| score(f, &campaign.weights)).collect();
    Ok(Summary {
        towns_fresh: towns.iter().filter(|t| t.purpose == Purpose::Fresh).count(),
        towns_revisit: towns.iter().filter(|t| t.purpose == Purpose::Revisit).count(),
        towns_drawn: towns.iter().filter(|t| t.how == How::Drawn).count(),
        towns_chosen: towns.iter().filter(|t| t.how == How::Chosen).count(),
        households: towns.iter().map(|t| t.households.len()).sum(),
        visited: towns.iter().flat_map(|t| &t.households).filter(|h| h.visited).count(),
        min_households: towns.iter().map(|t| t.households.len()).min().unwrap_or(0),
        campaign,
        access,
        teams,
        towns,
        problems,
        proposed,
        by_category,
        satisfaction,
        verdicts,
        scores,
        town_satisfaction: by_town,
    })
}
