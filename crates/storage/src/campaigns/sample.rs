//! A campaign's sample: the candidates read from the registry, the draw (see
//! [`ducha_domain::campaigns::sampling`]), and the stored result with the plan and the steps that
//! explain it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, Utc};
use ducha_domain::campaigns::sampling::{
    self, HouseholdCandidate, SampledHousehold, SampledTown, Step, TownCandidate, TownInput,
};
use ducha_domain::campaigns::{How, Purpose, SamplePlan};
use ducha_domain::labelled::Labelled;
use ducha_domain::region::{RegionKind, RegionLevel};
use ducha_domain::registry::{HouseholdStatus, HouseholdType};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::{Campaign, Opened};
use crate::stored::Code;
use crate::{Db, Scoped, StorageError};

/// A draw before it is stored.
#[derive(Debug, Clone, Serialize)]
pub struct Draw {
    pub towns: Vec<SampledTown>,
    pub households: BTreeMap<String, Vec<SampledHousehold>>,
    pub steps: Vec<Step>,
}

/// A row of one `town_code` column.
#[derive(FromQueryResult)]
struct TownCode {
    town_code: String,
}

/// Every town of the city that could be drawn, with its visitable households (all but removed).
async fn town_candidates<C: ConnectionTrait>(db: &Db, c: &C) -> Result<Vec<TownCandidate>, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    #[derive(FromQueryResult)]
    struct Count {
        town_code: String,
        n: i64,
    }
    let counts: BTreeMap<String, i64> = Count::find_by_statement(
        db.stmt("SELECT town_code, COUNT(*) AS n FROM households WHERE status <> 'removed' GROUP BY town_code", vec![]),
    )
    .all(c)
    .await?
    .into_iter()
    .map(|r| (r.town_code, r.n))
    .collect();
    Ok(tree
        .at_level(RegionLevel::Town)
        .filter(|t| t.kind != RegionKind::SpecialArea)
        .map(|t| {
            let district = t.code.as_str().get(..6).unwrap_or_default().to_string();
            TownCandidate {
                code: t.code.as_str().to_string(),
                name: t.name.clone(),
                district_name: tree.get(&district).map_or_else(|| district.clone(), |d| d.name.clone()),
                district,
                kind: t.kind,
                households: counts.get(t.code.as_str()).copied().unwrap_or(0).max(0) as u64,
            }
        })
        .collect())
}

async fn household_candidates<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    town: &str,
) -> Result<Vec<HouseholdCandidate>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        status: Code<HouseholdStatus>,
        household_type: Code<HouseholdType>,
        open: i64,
    }
    let rows = Row::find_by_statement(db.stmt(
        "SELECT h.id, h.status, h.household_type, \
             (SELECT COUNT(*) FROM check_findings f WHERE f.household_id = h.id AND f.status = 'open') AS open \
             FROM households h WHERE h.town_code = $1 AND h.status <> 'removed' ORDER BY h.id",
        vec![town.into()],
    ))
    .all(c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HouseholdCandidate {
            id: r.id,
            stratum: format!("{}·{}", r.status.0.label(), r.household_type.0.label()),
            open_findings: r.open.clamp(0, 1000) as u32,
        })
        .collect())
}

async fn draw_with<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: &Campaign,
    plan: &SamplePlan,
) -> Result<Draw, StorageError> {
    let reject = |e: sampling::SampleError| StorageError::Rejected(e.to_string());
    let towns = town_candidates(db, c).await?;
    let mut recent = BTreeMap::new();
    if plan.exclude_months > 0 {
        let since =
            campaign.starts_on.checked_sub_months(Months::new(plan.exclude_months)).unwrap_or(campaign.starts_on);
        #[derive(FromQueryResult)]
        struct Recent {
            town_code: String,
            name: String,
            starts_on: chrono::NaiveDate,
        }
        let rows = Recent::find_by_statement(db.stmt(
            "SELECT t.town_code, c.name, c.starts_on FROM campaign_towns t JOIN campaigns c ON c.id = t.campaign_id \
                 WHERE c.id <> $1 AND c.starts_on >= $2 AND c.starts_on <= $3 ORDER BY c.starts_on",
            vec![campaign.id.into(), since.into(), campaign.starts_on.into()],
        ))
        .all(c)
        .await?;
        for Recent { town_code, name, starts_on: on } in rows {
            recent.insert(town_code, format!("{name}，{on}"));
        }
    }
    let mut pool = BTreeSet::new();
    if let Some(from) = plan.revisit_from {
        let rows = TownCode::find_by_statement(
            db.stmt("SELECT town_code FROM campaign_towns WHERE campaign_id = $1", vec![from.into()]),
        )
        .all(c)
        .await?;
        if rows.is_empty() && plan.revisit_per_district > 0 {
            return Err(StorageError::Rejected(format!("被回头看的督查（编号 {from}）没有抽查过任何镇(街)")));
        }
        for r in rows {
            pool.insert(r.town_code);
        }
        // A revisited town was inspected by the campaign revisited: that is why it is revisited,
        // so it is not excluded as recently inspected from the revisit draw (only from the fresh one).
    }
    let input = TownInput { plan, towns: &towns, recently_inspected: &recent, revisit_pool: &pool };
    let (sampled, steps) = sampling::draw_towns(&input).map_err(reject)?;
    let sampled_codes: BTreeSet<&str> = sampled.iter().map(|t| t.code.as_str()).collect();
    let mut households = BTreeMap::new();
    let mut chosen_placed = BTreeSet::new();
    for t in &sampled {
        let cands = household_candidates(db, c, &t.code).await?;
        let chosen: Vec<i64> =
            plan.chosen_households.iter().copied().filter(|id| cands.iter().any(|h| h.id == *id)).collect();
        chosen_placed.extend(chosen.iter().copied());
        let drawn = sampling::draw_households(
            plan.seed,
            &t.code,
            &t.name,
            &cands,
            &chosen,
            plan.households_per_town,
            plan.weight_findings,
        )
        .map_err(reject)?;
        households.insert(t.code.clone(), drawn);
    }
    if let Some(id) = plan.chosen_households.iter().find(|id| !chosen_placed.contains(id)) {
        return Err(reject(sampling::SampleError::HouseholdOutsideSample(*id)));
    }
    debug_assert!(households.keys().all(|k| sampled_codes.contains(k.as_str())));
    Ok(Draw { towns: sampled, households, steps })
}

/// Draw and store a campaign's sample (city office). A campaign whose fieldwork has begun keeps
/// its sample: redrawing it would orphan the visits.
pub(crate) async fn draw(s: &Scoped, campaign: i64, plan: &SamplePlan) -> Result<Draw, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    let (c, access) = super::open_in(s, tx.conn(), campaign).await?.into_parts();
    if !access.plans {
        return Err(StorageError::Forbidden("抽样由市扶贫办进行".into()));
    }
    #[derive(FromQueryResult)]
    struct Begun {
        n: i64,
    }
    let begun = Begun::find_by_statement(db.stmt(
        "SELECT (SELECT COUNT(*) FROM campaign_visits WHERE campaign_id = $1) + \
             (SELECT COUNT(*) FROM campaign_reviews WHERE campaign_id = $1) AS n",
        vec![campaign.into()],
    ))
    .one(tx.conn())
    .await?
    .map_or(0, |r| r.n);
    if begun > 0 {
        return Err(StorageError::Rejected("本次督查已有走访或查阅记录，不能重新抽样".into()));
    }
    let d = draw_with(db, tx.conn(), &c, plan).await?;
    let before = stored_codes(db, tx.conn(), campaign).await?;
    for table in ["campaign_towns", "campaign_households"] {
        tx.conn()
            .execute_raw(db.stmt(&format!("DELETE FROM {table} WHERE campaign_id = $1"), vec![campaign.into()]))
            .await?;
    }
    for (i, t) in d.towns.iter().enumerate() {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO campaign_towns (campaign_id, town_code, district_code, purpose, how, position) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    campaign.into(),
                    t.code.clone().into(),
                    t.district.clone().into(),
                    t.purpose.code().into(),
                    t.how.code().into(),
                    (i as i32).into(),
                ],
            ))
            .await?;
        for (j, h) in d.households.get(&t.code).into_iter().flatten().enumerate() {
            tx.conn()
                .execute_raw(db.stmt(
                    "INSERT INTO campaign_households (campaign_id, household_id, town_code, stratum, how, position) VALUES ($1, $2, $3, $4, $5, $6)",
                    vec![
                        campaign.into(),
                        h.id.into(),
                        t.code.clone().into(),
                        h.stratum.chars().take(40).collect::<String>().into(),
                        h.how.code().into(),
                        (j as i32).into(),
                    ],
                ))
                .await?;
        }
    }
    tx.conn()
        .execute_raw(db.stmt(
            "UPDATE campaigns SET sample_plan = $1, sample_steps = $2, sample_algorithm = $3, sampled_at = $4, sampled_by = $5 WHERE id = $6",
            vec![
                super::to_json(plan)?.into(),
                super::to_json(&d.steps)?.into(),
                sampling::ALGORITHM.into(),
                Utc::now().into(),
                actor.username.clone().into(),
                campaign.into(),
            ],
        ))
        .await?;
    let after = serde_json::json!({
        "seed": plan.seed, "algorithm": sampling::ALGORITHM, "plan": plan,
        "towns": d.towns.iter().map(|t| &t.code).collect::<Vec<_>>(),
        "households": d.households.values().flatten().map(|h| h.id).collect::<Vec<_>>(),
    });
    tx.record("campaign_sample", campaign, None, "draw", Some(&before), Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(d)
}

async fn stored_codes<C: ConnectionTrait>(db: &Db, c: &C, campaign: i64) -> Result<serde_json::Value, StorageError> {
    let towns: Vec<String> = TownCode::find_by_statement(
        db.stmt("SELECT town_code FROM campaign_towns WHERE campaign_id = $1 ORDER BY position", vec![campaign.into()]),
    )
    .all(c)
    .await?
    .into_iter()
    .map(|r| r.town_code)
    .collect();
    Ok(serde_json::json!({ "towns": towns }))
}

/// A sampled household as the campaign pages list it.
#[derive(Debug, Clone, Serialize)]
pub struct SampleHousehold {
    pub id: i64,
    pub number: String,
    pub head_name: String,
    pub village: String,
    pub stratum: String,
    pub how: How,
    pub visited: bool,
}

/// A sampled town with its households.
#[derive(Debug, Clone, Serialize)]
pub struct SampleTown {
    pub code: String,
    pub name: String,
    pub district: String,
    pub district_name: String,
    pub purpose: Purpose,
    pub how: How,
    pub households: Vec<SampleHousehold>,
}

impl SampleTown {
    pub fn visited(&self) -> usize {
        self.households.iter().filter(|h| h.visited).count()
    }
}

/// The stored sample, the part of it the access reaches.
pub(crate) async fn stored<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    opened: &Opened,
) -> Result<Vec<SampleTown>, StorageError> {
    let (campaign, access) = (opened.id(), opened.access());
    let tree = crate::regions::tree_in(c).await?;
    #[derive(FromQueryResult)]
    struct TownRow {
        town_code: String,
        district_code: String,
        purpose: Code<Purpose>,
        how: Code<How>,
    }
    #[derive(FromQueryResult)]
    struct HouseholdRow {
        household_id: i64,
        town_code: String,
        stratum: String,
        how: Code<How>,
        number: String,
        village_code: String,
        head_name: Option<String>,
        visits: i64,
    }
    let towns = TownRow::find_by_statement(db.stmt(
            "SELECT town_code, district_code, purpose, how FROM campaign_towns WHERE campaign_id = $1 ORDER BY district_code, position",
            vec![campaign.into()],
        ))
        .all(c)
        .await?;
    let rows = HouseholdRow::find_by_statement(db.stmt(
            "SELECT s.household_id, s.town_code, s.stratum, s.how, h.number, h.village_code, \
             (SELECT m.name FROM members m WHERE m.household_id = h.id AND m.left_on IS NULL \
              ORDER BY CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, m.seq LIMIT 1) AS head_name, \
             (SELECT COUNT(*) FROM campaign_visits v WHERE v.campaign_id = s.campaign_id AND v.household_id = s.household_id) AS visits \
             FROM campaign_households s JOIN households h ON h.id = s.household_id WHERE s.campaign_id = $1 ORDER BY s.town_code, s.position",
            vec![campaign.into()],
        ))
        .all(c)
        .await?;
    let name_of = |code: &str| tree.get(code).map_or_else(|| code.to_string(), |r| r.name.clone());
    let mut out = Vec::new();
    for t in towns {
        let code = t.town_code;
        if !access.sees(&code) {
            continue;
        }
        let district = t.district_code;
        let households = rows
            .iter()
            .filter(|r| r.town_code == code)
            .map(|r| SampleHousehold {
                id: r.household_id,
                number: r.number.clone(),
                head_name: r.head_name.clone().unwrap_or_default(),
                village: name_of(&r.village_code),
                stratum: r.stratum.clone(),
                how: r.how.0,
                visited: r.visits > 0,
            })
            .collect();
        out.push(SampleTown {
            name: name_of(&code),
            district_name: name_of(&district),
            code,
            district,
            purpose: t.purpose.0,
            how: t.how.0,
            households,
        });
    }
    Ok(out)
}

/// The steps of the stored draw, for the page that explains it: those of the districts the
/// access reaches.
async fn steps(db: &Db, opened: &Opened) -> Result<Vec<Step>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        sample_steps: Option<String>,
    }
    let row =
        Row::find_by_statement(db.stmt("SELECT sample_steps FROM campaigns WHERE id = $1", vec![opened.id().into()]))
            .one(db.conn())
            .await?
            .ok_or(StorageError::NotFound)?;
    let steps: Vec<Step> = match row.sample_steps {
        Some(s) => super::from_json("抽样过程", &s)?,
        None => Vec::new(),
    };
    Ok(steps.into_iter().filter(|s| opened.access().overlaps(&s.district)).collect())
}

/// The sample of an opened campaign.
pub struct Sample<'a>(&'a Opened);

impl Opened {
    pub fn sample(&self) -> Sample<'_> {
        Sample(self)
    }
}

impl Sample<'_> {
    /// The stored sample, the part of it the access reaches.
    pub async fn stored(&self) -> Result<Vec<SampleTown>, StorageError> {
        let db = self.0.scoped().db();
        stored(db, db.conn(), self.0).await
    }

    /// The steps of the stored draw that the access reaches, for the page that explains it.
    pub async fn steps(&self) -> Result<Vec<Step>, StorageError> {
        steps(self.0.scoped().db(), self.0).await
    }

    /// Draw the sample with `plan` without storing it (those who plan it: a draw with the stored
    /// plan is the stored sample).
    pub async fn preview(&self, plan: &SamplePlan) -> Result<Draw, StorageError> {
        if !self.0.access().plans {
            return Err(StorageError::Forbidden("抽样由市扶贫办进行".into()));
        }
        let db = self.0.scoped().db();
        draw_with(db, db.conn(), self.0.campaign(), plan).await
    }
}
