//! The demo against the check catalogue, without a database: every planted problem is found by
//! the rules that should find it, and nothing is found on a record without one.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::checks::{AuditParams, HouseholdFacts, MeasureFacts, MemberFacts, check_household, village_findings};
use crate::region::{JIANGMEN_CSV, parse_region_file};

/// The facts a database would give for a generated household: household id `index + 1`, member
/// ids in generation order from `next_member`.
fn facts(
    d: &DemoHousehold,
    next_member: &mut i64,
    first_seen: &mut HashMap<String, String>,
    year: i32,
) -> HouseholdFacts {
    let h = &d.household;
    let members = d
        .members
        .iter()
        .map(|m| {
            *next_member += 1;
            let duplicate_of = match first_seen.get(&m.id_number) {
                Some(n) => Some(n.clone()),
                None => {
                    first_seen.insert(m.id_number.clone(), h.number.clone());
                    None
                }
            };
            MemberFacts {
                id: *next_member,
                name: m.name.clone(),
                id_number: m.id_number.clone(),
                relation: m.relation,
                sex: m.sex,
                birth_date: m.birth_date,
                education: m.education,
                school_stage: m.school_stage,
                has_out_of_school_reason: m.out_of_school_reason.is_some(),
                health: m.health,
                labour_ability: m.labour_ability,
                medical_insurance: m.medical_insurance,
                duplicate_of,
            }
        })
        .collect();
    HouseholdFacts {
        id: d.index as i64 + 1,
        number: h.number.clone(),
        village_code: h.village_code.clone(),
        household_type: h.household_type,
        main_cause: h.main_cause,
        other_causes: h.other_causes.clone(),
        guarantees: h.guarantees,
        status: h.status,
        identified_on: h.identified_on,
        has_cadre: d.cadre.is_some(),
        record_book: d.record_book,
        members,
        finance: d.finances.iter().find(|f| f.year == year).cloned(),
        plan: d.plan.as_ref().map(|p| (p.made_on, p.planned.clone())),
        measures: d
            .measures
            .iter()
            .enumerate()
            .map(|(k, m)| MeasureFacts {
                id: k as i64,
                category: m.category,
                delivered_on: m.delivered_on,
                income_generating: m.income_generating,
                has_evidence: !d.unevidenced.contains(&k),
            })
            .collect(),
        last_log: d.logs.iter().map(|l| l.visited_on).filter(|v| *v <= DemoConfig::default().as_of()).max(),
    }
}

#[test]
fn every_planted_problem_is_found_and_clean_records_stay_clean() {
    let tree = RegionTree::new(parse_region_file(JIANGMEN_CSV.as_bytes()).unwrap());
    let config = DemoConfig::default();
    let plan = DemoPlan::new(config, &tree).unwrap();
    let p = AuditParams::defaults(config.year, config.as_of());
    let mut unique = UniqueIds::default();
    let (mut next_member, mut first_seen) = (0, HashMap::new());
    let mut found_per_kind: HashMap<DefectKind, u64> = HashMap::new();
    let mut placed_per_kind: HashMap<DefectKind, u64> = HashMap::new();
    let mut villages: HashMap<String, (i64, i64, i64)> = HashMap::new();
    for i in 0..plan.len() {
        let mut d = plan.household(i);
        unique.apply(&mut d);
        let first_member = next_member + 1;
        let h = facts(&d, &mut next_member, &mut first_seen, config.year);
        let findings = check_household(&h, &p);
        if h.status.is_active() {
            let v = villages.entry(h.village_code.clone()).or_default();
            v.0 += 1;
            v.1 += i64::from(h.plan.is_none());
        }
        // Each finding is explained by a problem planted on the same record.
        for f in &findings {
            let member = f.member_id.map(|id| (id - first_member) as usize);
            let explained = d.defects.iter().any(|df| {
                let on_record = member.is_none() || df.member.is_none() || df.member == member;
                on_record && (df.kind.found_by().contains(&f.rule) || df.kind.also_sets_off().contains(&f.rule))
            });
            assert!(
                explained,
                "household {} ({:?}): {} {} — defects {:?}",
                h.number, h.status, f.rule, f.message, d.defects
            );
        }
        // Each planted problem is found.
        let rules: HashSet<(&str, Option<usize>)> =
            findings.iter().map(|f| (f.rule, f.member_id.map(|id| (id - first_member) as usize))).collect();
        for df in &d.defects {
            *placed_per_kind.entry(df.kind).or_default() += 1;
            let hit =
                df.kind.found_by().iter().any(|r| rules.contains(&(*r, df.member)) || rules.contains(&(*r, None)));
            assert!(hit, "household {}: {} not found; found {:?}", h.number, df.kind, rules);
            *found_per_kind.entry(df.kind).or_default() += 1;
        }
    }
    assert_eq!(found_per_kind, placed_per_kind);
    for (code, (active, without, _)) in &villages {
        for f in village_findings(code, *active, *without, &p) {
            assert!(*without >= p.village_gap_min, "{}", f.message);
        }
    }
}
