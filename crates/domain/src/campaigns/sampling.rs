//! The draw (抽查): towns per district by quota, revisit towns from an earlier campaign, and
//! households per town, stratified by status and type. Reproducible: the same plan (seed
//! included) over the same candidates gives the same sample on any machine and database.
//!
//! Each unit of the draw (a district's fresh towns, its revisits, a town's stratum) has its own
//! ChaCha20 stream keyed by the seed and the unit's name, so that one district's draw does not
//! depend on another's; candidates are sorted by code before a partial Fisher–Yates shuffle, and
//! integers are drawn by rejection (rand's own helpers are not promised value-stable).

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{How, Purpose, SamplePlan, Wanted};
use crate::labelled::Labelled;
use crate::region::RegionKind;

/// Stored with every sample; a change to the draw gets a new name.
pub const ALGORITHM: &str = "chacha20-fy-v1";

/// The least number of households visited per town (the seed: 每个镇（街）走访不少于 4 户).
pub const MIN_HOUSEHOLDS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error(
        "{district}可抽取的{wanted}只有 {available} 个（另有 {excluded} 个被排除：近期已督查、已列入回头看或贫困户不足 {min} 户），不够抽取 {needed} 个"
    )]
    TooFewTowns { district: String, wanted: &'static str, needed: u32, available: usize, excluded: usize, min: u32 },
    #[error("{district}在被回头看的那次督查中只检查过 {available} 个镇(街)，不够回头看 {needed} 个")]
    TooFewRevisits { district: String, needed: u32, available: usize },
    #[error("{town}只有 {available} 户可走访的贫困户，不够抽取 {needed} 户")]
    TooFewHouseholds { town: String, needed: u32, available: usize },
    #[error("指定的镇(街)“{0}”不在可抽查的范围内")]
    UnknownTown(String),
    #[error("指定的贫困户（编号 {0}）不在抽中的镇(街)")]
    HouseholdOutsideSample(i64),
    #[error("每个镇(街)至少走访 {MIN_HOUSEHOLDS} 户")]
    TooFewPerTown,
    #[error("抽查方案没有任何镇(街)：请填写各市(区)的抽查数量、回头看数量或指定镇(街)")]
    Empty,
}

/// A town that may be sampled, with what the draw needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TownCandidate {
    pub code: String,
    pub name: String,
    pub district: String,
    pub district_name: String,
    pub kind: RegionKind,
    /// Poor households living there that can be visited.
    pub households: u64,
}

impl TownCandidate {
    fn fits(&self, wanted: Wanted) -> bool {
        match wanted {
            Wanted::Street => self.kind == RegionKind::Street,
            Wanted::Town => self.kind.is_rural_town(),
            Wanted::Any => self.kind == RegionKind::Street || self.kind.is_rural_town(),
        }
    }
}

/// What the town draw reads besides the plan.
pub struct TownInput<'a> {
    pub plan: &'a SamplePlan,
    /// Every town of the city (or of the districts concerned).
    pub towns: &'a [TownCandidate],
    /// Towns inspected recently, with the campaign that did (for the explanation).
    pub recently_inspected: &'a BTreeMap<String, String>,
    /// The towns of the earlier campaign being revisited.
    pub revisit_pool: &'a BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledTown {
    pub code: String,
    pub name: String,
    pub district: String,
    pub purpose: Purpose,
    pub how: How,
}

/// One step of the draw, as the page that explains it shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub district: String,
    pub district_name: String,
    pub purpose: Purpose,
    /// What kind of town, and how many were wanted.
    pub wanted: String,
    pub needed: u32,
    /// Names of the towns the draw chose among, in the order the shuffle saw them (by code).
    pub candidates: Vec<String>,
    /// Towns left out, with why.
    pub excluded: Vec<(String, String)>,
    pub chosen: Vec<String>,
    pub drawn: Vec<String>,
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The random stream of one unit of the draw.
struct Stream(ChaCha20Rng);

impl Stream {
    fn new(seed: u64, unit: &str) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&fnv1a(unit).to_le_bytes());
        key[16..].copy_from_slice(b"ducha-sample-v1\0");
        Stream(ChaCha20Rng::from_seed(key))
    }

    /// Uniform in 0..n (n > 0), by rejection.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.0.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Uniform in the open interval (0, 1), from 53 random bits.
    fn unit(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// The first `k` of `items` after a partial Fisher–Yates shuffle.
    fn choose<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut v = items.to_vec();
        let k = k.min(v.len());
        for i in 0..k {
            let j = i + self.below((v.len() - i) as u64) as usize;
            v.swap(i, j);
        }
        v.truncate(k);
        v
    }
}

/// Draw the towns: for each district, its revisit quota from the earlier campaign's towns, then
/// its fresh quota from the towns of the wanted kind not excluded. Towns chosen by hand come
/// first and count towards the quotas.
pub fn draw_towns(input: &TownInput<'_>) -> Result<(Vec<SampledTown>, Vec<Step>), SampleError> {
    let plan = input.plan;
    if plan.households_per_town < MIN_HOUSEHOLDS {
        return Err(SampleError::TooFewPerTown);
    }
    let by_code: BTreeMap<&str, &TownCandidate> = input.towns.iter().map(|t| (t.code.as_str(), t)).collect();
    let mut sample: Vec<SampledTown> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (code, purpose) in &plan.chosen_towns {
        let t = by_code.get(code.as_str()).ok_or_else(|| SampleError::UnknownTown(code.clone()))?;
        if taken.insert(t.code.clone()) {
            sample.push(SampledTown {
                code: t.code.clone(),
                name: t.name.clone(),
                district: t.district.clone(),
                purpose: *purpose,
                how: How::Chosen,
            });
        }
    }
    let mut districts: BTreeMap<String, String> = BTreeMap::new();
    for t in input.towns {
        districts.entry(t.district.clone()).or_insert_with(|| t.district_name.clone());
    }
    let quotas: BTreeMap<&str, Vec<&super::Quota>> = plan.quotas.iter().fold(BTreeMap::new(), |mut m, q| {
        m.entry(q.district.as_str()).or_insert_with(Vec::new).push(q);
        m
    });
    let mut steps = Vec::new();
    let revisiting = plan.revisit_from.is_some() && plan.revisit_per_district > 0;
    for (district, district_name) in &districts {
        if revisiting {
            let pool: Vec<&TownCandidate> = input
                .revisit_pool
                .iter()
                .filter_map(|c| by_code.get(c.as_str()).copied())
                .filter(|t| &t.district == district)
                .collect();
            let chosen = chosen_in(&sample, &by_code, district, Purpose::Revisit, Wanted::Any);
            steps.push(draw_step(
                plan,
                district,
                district_name,
                Purpose::Revisit,
                "回头看镇(街)".into(),
                plan.revisit_per_district,
                &pool,
                &mut sample,
                &mut taken,
                Vec::new(),
                chosen,
            )?);
        }
        for q in quotas.get(district.as_str()).into_iter().flatten() {
            let mut excluded = Vec::new();
            let mut pool = Vec::new();
            for t in input.towns.iter().filter(|t| &t.district == district && t.fits(q.wanted)) {
                if let Some(by) = input.recently_inspected.get(&t.code) {
                    excluded.push((t.name.clone(), format!("近期已督查（{by}）")));
                } else if input.revisit_pool.contains(&t.code) && revisiting {
                    excluded.push((t.name.clone(), "列入回头看范围".into()));
                } else if t.households < u64::from(plan.households_per_town) {
                    excluded.push((
                        t.name.clone(),
                        format!("贫困户 {} 户，不足 {} 户", t.households, plan.households_per_town),
                    ));
                } else {
                    pool.push(t);
                }
            }
            let chosen = chosen_in(&sample, &by_code, district, Purpose::Fresh, q.wanted);
            steps.push(draw_step(
                plan,
                district,
                district_name,
                Purpose::Fresh,
                q.wanted.label().to_string(),
                q.count,
                &pool,
                &mut sample,
                &mut taken,
                excluded,
                chosen,
            )?);
        }
    }
    if sample.is_empty() {
        return Err(SampleError::Empty);
    }
    Ok((sample, steps))
}

/// Names of the towns chosen by hand in a district for a purpose (and of the wanted kind): they
/// count towards its quota.
fn chosen_in(
    sample: &[SampledTown],
    by_code: &BTreeMap<&str, &TownCandidate>,
    district: &str,
    purpose: Purpose,
    wanted: Wanted,
) -> Vec<String> {
    sample
        .iter()
        .filter(|s| s.how == How::Chosen && s.purpose == purpose && s.district == district)
        .filter(|s| by_code.get(s.code.as_str()).is_some_and(|t| t.fits(wanted)))
        .map(|s| s.name.clone())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn draw_step(
    plan: &SamplePlan,
    district: &str,
    district_name: &str,
    purpose: Purpose,
    wanted: String,
    needed: u32,
    pool: &[&TownCandidate],
    sample: &mut Vec<SampledTown>,
    taken: &mut BTreeSet<String>,
    excluded: Vec<(String, String)>,
    chosen: Vec<String>,
) -> Result<Step, SampleError> {
    let mut open: Vec<&TownCandidate> = pool.iter().copied().filter(|t| !taken.contains(&t.code)).collect();
    open.sort_by(|a, b| a.code.cmp(&b.code));
    let still = (needed as usize).saturating_sub(chosen.len());
    if open.len() < still {
        return Err(match purpose {
            Purpose::Revisit => {
                SampleError::TooFewRevisits { district: district_name.into(), needed, available: pool.len() }
            }
            Purpose::Fresh => SampleError::TooFewTowns {
                district: district_name.into(),
                wanted: Wanted::ALL.iter().find(|w| w.label() == wanted).map_or("镇(街)", |w| w.label()),
                needed,
                available: pool.len(),
                excluded: excluded.len(),
                min: plan.households_per_town,
            },
        });
    }
    let mut rng = Stream::new(plan.seed, &format!("towns:{}:{district}", purpose.code()));
    let drawn = rng.choose(&open, still);
    for t in &drawn {
        taken.insert(t.code.clone());
        sample.push(SampledTown {
            code: t.code.clone(),
            name: t.name.clone(),
            district: t.district.clone(),
            purpose,
            how: How::Drawn,
        });
    }
    Ok(Step {
        district: district.into(),
        district_name: district_name.into(),
        purpose,
        wanted,
        needed,
        candidates: open.iter().map(|t| t.name.clone()).collect(),
        excluded,
        chosen,
        drawn: drawn.iter().map(|t| t.name.clone()).collect(),
    })
}

/// A household that may be visited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdCandidate {
    pub id: i64,
    /// Its stratum: status and type ("未脱贫·一般贫困户").
    pub stratum: String,
    /// Open data-quality findings on it.
    pub open_findings: u32,
}

/// A household drawn or chosen, with its stratum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledHousehold {
    pub id: i64,
    pub stratum: String,
    pub how: How,
}

/// Split `total` over `sizes` in proportion, by largest remainder (ties to the earlier).
fn apportion(total: usize, sizes: &[usize]) -> Vec<usize> {
    let sum: usize = sizes.iter().sum();
    if sum == 0 {
        return vec![0; sizes.len()];
    }
    let mut parts: Vec<usize> = sizes.iter().map(|s| total * s / sum).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse((total * sizes[i]) % sum), i));
    let mut left = total - parts.iter().sum::<usize>();
    for i in order {
        if left == 0 {
            break;
        }
        if parts[i] < sizes[i] {
            parts[i] += 1;
            left -= 1;
        }
    }
    parts
}

/// Draw `n` households of a town: those chosen by hand first, the rest in proportion to the
/// strata (status × type). Weighted, a household with open findings is likelier to be drawn
/// (weight 1 + 2 per finding, up to 5 findings; Efraimidis–Spirakis keys within each stratum).
pub fn draw_households(
    seed: u64,
    town: &str,
    town_name: &str,
    candidates: &[HouseholdCandidate],
    chosen: &[i64],
    n: u32,
    weighted: bool,
) -> Result<Vec<SampledHousehold>, SampleError> {
    if candidates.len() < n as usize {
        return Err(SampleError::TooFewHouseholds { town: town_name.into(), needed: n, available: candidates.len() });
    }
    let mut out: Vec<SampledHousehold> = candidates
        .iter()
        .filter(|c| chosen.contains(&c.id))
        .map(|c| SampledHousehold { id: c.id, stratum: c.stratum.clone(), how: How::Chosen })
        .collect();
    let still = (n as usize).saturating_sub(out.len());
    let mut strata: BTreeMap<&str, Vec<&HouseholdCandidate>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| !chosen.contains(&c.id)) {
        strata.entry(c.stratum.as_str()).or_default().push(c);
    }
    let sizes: Vec<usize> = strata.values().map(Vec::len).collect();
    let shares = apportion(still, &sizes);
    for ((stratum, mut members), take) in strata.into_iter().zip(shares) {
        members.sort_by_key(|c| c.id);
        let mut rng = Stream::new(seed, &format!("households:{town}:{stratum}"));
        let picked: Vec<&HouseholdCandidate> = if weighted {
            let mut keyed: Vec<(f64, &HouseholdCandidate)> = members
                .iter()
                .map(|c| {
                    let w = 1.0 + 2.0 * f64::from(c.open_findings.min(5));
                    (rng.unit().ln() / w, *c)
                })
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
            keyed.into_iter().take(take).map(|(_, c)| c).collect()
        } else {
            rng.choose(&members, take)
        };
        out.extend(picked.into_iter().map(|c| SampledHousehold {
            id: c.id,
            stratum: c.stratum.clone(),
            how: How::Drawn,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::{Quota, november_2017_quotas};

    fn towns() -> Vec<TownCandidate> {
        let mut v = Vec::new();
        for (d, dn) in [("440703", "蓬江区"), ("440705", "新会区")] {
            for i in 1..=4 {
                v.push(TownCandidate {
                    code: format!("{d}{i:03}"),
                    name: format!("{dn}街道{i}"),
                    district: d.into(),
                    district_name: dn.into(),
                    kind: RegionKind::Street,
                    households: 10,
                });
            }
            for i in 100..=105 {
                v.push(TownCandidate {
                    code: format!("{d}{i:03}"),
                    name: format!("{dn}镇{i}"),
                    district: d.into(),
                    district_name: dn.into(),
                    kind: RegionKind::Town,
                    households: if i == 105 { 2 } else { 30 },
                });
            }
        }
        v
    }

    fn plan(seed: u64) -> SamplePlan {
        SamplePlan {
            seed,
            quotas: vec![
                Quota { district: "440703".into(), wanted: Wanted::Street, count: 1 },
                Quota { district: "440705".into(), wanted: Wanted::Town, count: 2 },
            ],
            revisit_from: Some(1),
            revisit_per_district: 1,
            exclude_months: 6,
            households_per_town: 4,
            weight_findings: false,
            chosen_towns: vec![],
            chosen_households: vec![],
        }
    }

    fn draw(p: &SamplePlan, recent: &[&str], pool: &[&str]) -> Result<Vec<SampledTown>, SampleError> {
        let towns = towns();
        let recent = recent.iter().map(|c| (c.to_string(), "6月督查".to_string())).collect();
        let pool = pool.iter().map(|c| c.to_string()).collect();
        draw_towns(&TownInput { plan: p, towns: &towns, recently_inspected: &recent, revisit_pool: &pool })
            .map(|(s, _)| s)
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
        let a = draw(&plan(7), &[], &["440703001", "440705100"]).unwrap();
        assert_eq!(a, draw(&plan(7), &[], &["440703001", "440705100"]).unwrap());
        let differs = (8..20).any(|s| draw(&plan(s), &[], &["440703001", "440705100"]).unwrap() != a);
        assert!(differs, "twelve other seeds all gave the same sample");
    }

    #[test]
    fn quotas_and_exclusions_hold() {
        for seed in 0..50 {
            let s = draw(&plan(seed), &["440705101", "440705102"], &["440703001", "440705100"]).unwrap();
            let fresh: Vec<_> = s.iter().filter(|t| t.purpose == Purpose::Fresh).collect();
            assert_eq!(fresh.iter().filter(|t| t.district == "440703").count(), 1);
            assert_eq!(fresh.iter().filter(|t| t.district == "440705").count(), 2);
            assert!(fresh.iter().filter(|t| t.district == "440703").all(|t| t.code[6..] < *"100"), "streets only");
            for t in &fresh {
                assert!(!["440705101", "440705102", "440705105", "440703001", "440705100"].contains(&t.code.as_str()));
            }
            let revisits: Vec<_> =
                s.iter().filter(|t| t.purpose == Purpose::Revisit).map(|t| t.code.as_str()).collect();
            assert_eq!(revisits, vec!["440703001", "440705100"]);
        }
    }

    #[test]
    fn a_district_short_of_towns_is_told_not_sampled_short() {
        let mut p = plan(1);
        p.quotas[1].count = 4;
        let err = draw(&p, &["440705101", "440705102"], &["440703001", "440705100"]).unwrap_err();
        assert!(err.to_string().contains("新会区可抽取的镇只有 2 个（另有 4 个被排除"), "{err}");
        p.quotas[1].count = 1;
        let err = draw(&p, &[], &["440703001"]).unwrap_err();
        assert!(err.to_string().contains("新会区在被回头看的那次督查中只检查过 0 个"), "{err}");
    }

    #[test]
    fn chosen_towns_count_towards_the_quota() {
        let mut p = plan(3);
        p.chosen_towns = vec![("440705103".into(), Purpose::Fresh)];
        let s = draw(&p, &[], &["440703001", "440705100"]).unwrap();
        let xinhui: Vec<_> = s.iter().filter(|t| t.district == "440705" && t.purpose == Purpose::Fresh).collect();
        assert_eq!(xinhui.len(), 2);
        assert!(xinhui.iter().any(|t| t.code == "440705103" && t.how == How::Chosen));
        p.chosen_towns = vec![("440799999".into(), Purpose::Fresh)];
        assert!(matches!(draw(&p, &[], &["440703001", "440705100"]), Err(SampleError::UnknownTown(_))));
    }

    #[test]
    fn households_follow_the_strata_and_the_chosen() {
        let c: Vec<HouseholdCandidate> = (1..=40)
            .map(|id| HouseholdCandidate {
                id,
                stratum: if id <= 30 { "未脱贫·一般贫困户".into() } else { "未脱贫·低保户".into() },
                open_findings: u32::from(id % 7 == 0),
            })
            .collect();
        let a = draw_households(9, "440705100", "镇", &c, &[], 4, false).unwrap();
        assert_eq!(a, draw_households(9, "440705100", "镇", &c, &[], 4, false).unwrap());
        assert_eq!(a.iter().filter(|h| h.stratum == "未脱贫·一般贫困户").count(), 3);
        assert_eq!(a.iter().filter(|h| h.stratum == "未脱贫·低保户").count(), 1);
        let b = draw_households(9, "440705100", "镇", &c, &[5], 4, true).unwrap();
        assert_eq!(b.len(), 4);
        assert_eq!(b[0], SampledHousehold { id: 5, stratum: "未脱贫·一般贫困户".into(), how: How::Chosen });
        let err = draw_households(9, "440705100", "某镇", &c[..3], &[], 4, false).unwrap_err();
        assert_eq!(err.to_string(), "某镇只有 3 户可走访的贫困户，不够抽取 4 户");
    }

    #[test]
    fn weighting_favours_households_with_findings() {
        let c: Vec<HouseholdCandidate> = (1..=100)
            .map(|id| HouseholdCandidate { id, stratum: "s".into(), open_findings: if id <= 10 { 5 } else { 0 } })
            .collect();
        let mut flagged = 0;
        for seed in 0..200 {
            flagged += draw_households(seed, "t", "t", &c, &[], 4, true).unwrap().iter().filter(|h| h.id <= 10).count();
        }
        // Unweighted, a tenth of 800 draws (80) would be flagged households; with weight 11 they
        // hold 110 of 200 weight units.
        assert!(flagged > 300, "{flagged}");
    }

    #[test]
    fn the_seed_preset_has_a_quota_for_every_district() {
        let q = november_2017_quotas();
        assert_eq!(q.len(), 7);
        assert!(q.iter().take(2).all(|q| q.wanted == Wanted::Street));
    }
}
