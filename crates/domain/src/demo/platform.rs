//! The demo city's town platforms: one or two cadres posted to every town and street by a unit of
//! its district, with check-ins on working days; designated hospitals per district. The districts
//! behave as the seed found them: 蓬江's postings only on paper (no check-in at all), 江海's,
//! 新会's and 开平's cadres not full-time (on post about half the working days), 鹤山, 台山 and
//! 恩平 on post full-time; some township health centres of 新会 and 台山 not yet settling in one stop.

use chrono::{Duration, NaiveDate};

use super::{DemoConfig, DemoRng, names, person_name};
use crate::platform::{Institution, InstitutionLevel, Posting};
use crate::region::{RegionKind, RegionLevel, RegionTree};
use crate::registry::Sex;

const STREAM_PLATFORM: u64 = 4;

/// How a district's posted cadres behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conduct {
    /// Full-time, on post nearly every working day.
    OnPost,
    /// Still holding their post at the sending unit: on post about half the working days.
    NotFullTime,
    /// Posted on paper only: not a single check-in.
    OnPaper,
}

impl Conduct {
    /// The seed's finding for a district, by its name.
    pub fn of_district(name: &str) -> Conduct {
        match name {
            "蓬江区" => Conduct::OnPaper,
            "江海区" | "新会区" | "开平市" => Conduct::NotFullTime,
            _ => Conduct::OnPost,
        }
    }

    /// Per mille of working days with a check-in.
    fn presence(self) -> u32 {
        match self {
            Conduct::OnPost => 950,
            Conduct::NotFullTime => 450,
            Conduct::OnPaper => 0,
        }
    }
}

/// Districts whose towns have the platform's hardware but not yet its rules ("软件建设存在差距"):
/// every town of them fails 有制度.
pub const RULES_MISSING: [&str; 2] = ["蓬江区", "江海区"];

/// Districts whose first town's office changed staff too often this year (three left).
pub const STAFF_CHURN: [&str; 2] = ["新会区", "开平市"];

/// Districts whose township health centres are partly off the one-stop platform.
pub const SLOW_ONE_STOP: [&str; 2] = ["新会区", "台山市"];

#[derive(Debug, Clone)]
pub struct DemoPosting {
    pub posting: Posting,
    pub check_ins: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct DemoPlatform {
    pub postings: Vec<DemoPosting>,
    pub institutions: Vec<Institution>,
}

const UNITS: [&str; 8] = [
    "农业局",
    "民政局",
    "财政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "教育局",
    "卫生和计划生育局",
    "交通运输局",
];

/// Generate the platforms of every district and town of the tree (deterministic in the seed).
pub fn generate(config: &DemoConfig, tree: &RegionTree) -> DemoPlatform {
    let mut out = DemoPlatform::default();
    let as_of = config.as_of();
    let Some(year_start) = NaiveDate::from_ymd_opt(config.year, 1, 1) else { return out };
    for district in tree.at_level(RegionLevel::District) {
        let conduct = Conduct::of_district(&district.name);
        let towns: Vec<_> = tree
            .descendants(district.code.as_str(), Some(RegionLevel::Town))
            .into_iter()
            .filter(|t| t.kind != RegionKind::SpecialArea)
            .collect();
        for (k, town) in towns.iter().enumerate() {
            let mut r = DemoRng::for_item(config.seed, STREAM_PLATFORM, town.code.as_str().parse().unwrap_or(0));
            let count = if r.chance(300) { 2 } else { 1 };
            for _ in 0..count {
                let sex = if r.chance(650) { Sex::Male } else { Sex::Female };
                let surname = *r.weighted(&names::SURNAMES);
                let started_on = year_start + Duration::days(r.range(2, 20));
                let posting = Posting {
                    name: person_name(&mut r, surname, sex),
                    unit: format!("{}{}", district.name, r.pick(&UNITS)),
                    town_code: town.code.as_str().to_string(),
                    full_time: conduct != Conduct::NotFullTime,
                    started_on,
                    ended_on: None,
                };
                let mut check_ins = Vec::new();
                let mut day = started_on;
                while day <= as_of {
                    if crate::platform::is_workday(day) && r.chance(conduct.presence()) {
                        check_ins.push(day);
                    }
                    day += Duration::days(1);
                }
                out.postings.push(DemoPosting { posting, check_ins });
            }
            // The first three towns' health centres are designated (一级).
            if k < 3 {
                let slow = SLOW_ONE_STOP.contains(&district.name.as_str());
                // In a slow district the first centre is always off the platform, the others by chance.
                let online = !(slow && (k == 0 || r.chance(500)));
                out.institutions.push(Institution {
                    name: format!(
                        "{}{}卫生院",
                        district.name.trim_end_matches(['区', '市']),
                        town.name.trim_end_matches(['镇', '街', '道'])
                    ),
                    district_code: district.code.as_str().to_string(),
                    level: InstitutionLevel::Primary,
                    one_stop_online: online,
                    online_since: online.then(|| year_start + Duration::days(r.range(30, 200))),
                });
            }
        }
        let mut r = DemoRng::for_item(config.seed, STREAM_PLATFORM, district.code.as_str().parse().unwrap_or(0));
        for (suffix, level) in [("人民医院", InstitutionLevel::Secondary), ("中医院", InstitutionLevel::Secondary)]
        {
            out.institutions.push(Institution {
                name: format!("{}{suffix}", district.name),
                district_code: district.code.as_str().to_string(),
                level,
                one_stop_online: true,
                online_since: Some(year_start - Duration::days(r.range(30, 300))),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{PostingFacts, institution_findings, posting_findings};

    #[test]
    fn the_districts_behave_as_the_seed_found_them() {
        let tree = RegionTree::new(crate::region::parse_region_file(crate::region::JIANGMEN_CSV.as_bytes()).unwrap());
        let config = DemoConfig::default();
        let demo = generate(&config, &tree);
        let p = crate::checks::AuditParams::defaults(config.year, config.as_of());
        let mut by_district: std::collections::BTreeMap<String, (i64, i64, Vec<&'static str>)> = Default::default();
        for (i, d) in demo.postings.iter().enumerate() {
            let facts =
                PostingFacts { id: i as i64 + 1, posting: d.posting.clone(), days_present: d.check_ins.len() as i64 };
            let name = tree.get(&d.posting.town_code[..6]).unwrap().name.clone();
            let e = by_district.entry(name).or_default();
            e.0 += facts.days_present;
            e.1 += facts.expected_days(config.year, config.as_of());
            e.2.extend(posting_findings(&facts, &p).iter().map(|f| f.rule));
        }
        let rate = |n: &str| by_district[n].0 * 100 / by_district[n].1;
        assert_eq!(rate("蓬江区"), 0);
        assert!(by_district["蓬江区"].2.iter().all(|r| *r == "T-PST-02"));
        for n in ["江海区", "新会区", "开平市"] {
            assert!((35..=55).contains(&rate(n)), "{n}: {}", rate(n));
            assert!(by_district[n].2.contains(&"T-PST-01") && by_district[n].2.contains(&"T-PST-03"), "{n}");
        }
        for n in ["鹤山市", "台山市", "恩平市"] {
            assert!(rate(n) >= 90, "{n}: {}", rate(n));
            assert!(by_district[n].2.is_empty(), "{n}: {:?}", by_district[n].2);
        }
        let off: Vec<_> = demo
            .institutions
            .iter()
            .enumerate()
            .filter(|(i, x)| !institution_findings(*i as i64, x, &p).is_empty())
            .map(|(_, x)| tree.get(&x.district_code).unwrap().name.clone())
            .collect();
        assert!(!off.is_empty());
        assert!(off.iter().all(|d| SLOW_ONE_STOP.contains(&d.as_str())), "{off:?}");
        // Same seed, same city.
        assert_eq!(generate(&config, &tree).postings.len(), demo.postings.len());
    }
}
