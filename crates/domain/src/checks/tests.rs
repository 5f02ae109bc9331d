//! Every rule: a household that breaks it, and the clean household that breaks nothing.

use chrono::NaiveDate;

use super::*;
use crate::help::{MeasureCategory, RecordBook};
use crate::id_number::{IdNumber, check_char};
use crate::money::Money;
use crate::registry::{
    Education, Guarantees, Health, HouseholdStatus, HouseholdType, LabourAbility, PovertyCause, Relation, SchoolStage,
    Sex, YearFinance,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn params() -> AuditParams {
    AuditParams::defaults(2017, d(2017, 11, 1))
}

fn member(id: i64, name: &str, relation: Relation, sex: Sex, birth: NaiveDate, seq: u16) -> MemberFacts {
    let number = IdNumber::compose("440781", birth, seq).unwrap();
    MemberFacts {
        id,
        name: name.into(),
        id_number: number.as_str().into(),
        relation,
        sex,
        birth_date: birth,
        education: Education::Junior,
        school_stage: SchoolStage::NotInSchool,
        has_out_of_school_reason: false,
        health: Health::Healthy,
        labour_ability: LabourAbility::Able,
        medical_insurance: true,
        duplicate_of: None,
    }
}

/// A household that breaks no rule.
fn clean() -> HouseholdFacts {
    let mut child = member(3, "陈小明", Relation::Son, Sex::Male, d(2007, 4, 2), 131);
    child.school_stage = SchoolStage::Primary;
    child.education = Education::Primary;
    child.labour_ability = LabourAbility::Unable;
    let measure = |id, category, on, income_generating| MeasureFacts {
        id,
        category,
        delivered_on: on,
        income_generating,
        has_evidence: true,
    };
    HouseholdFacts {
        id: 1,
        number: "44078111121000001".into(),
        village_code: "440781111210".into(),
        household_type: HouseholdType::General,
        main_cause: PovertyCause::LackOfSkills,
        other_causes: vec![],
        guarantees: Guarantees {
            food_clothing: true,
            compulsory_education: true,
            basic_medical: true,
            safe_housing: true,
            safe_water: true,
        },
        status: HouseholdStatus::Helping,
        identified_on: d(2016, 5, 1),
        has_cadre: true,
        record_book: RecordBook { issued: true, provincial_format: true, last_checked: Some(d(2017, 9, 1)) },
        members: vec![
            member(1, "陈大文", Relation::Head, Sex::Male, d(1972, 3, 5), 111),
            member(2, "李秀英", Relation::Spouse, Sex::Female, d(1974, 8, 9), 122),
            child,
        ],
        finance: Some(YearFinance {
            year: 2017,
            wage_income: Money::from_yuan(14_000),
            business_income: Money::from_yuan(4_000),
            property_income: Money::ZERO,
            transfer_income: Money::from_yuan(1_000),
            production_costs: Money::from_yuan(1_000),
            declared_total_income: Some(Money::from_yuan(19_000)),
            living_expenditure: Some(Money::from_yuan(12_000)),
        }),
        plan: Some((d(2017, 2, 1), vec![MeasureCategory::Industry, MeasureCategory::Employment])),
        measures: vec![
            measure(1, MeasureCategory::Industry, d(2017, 3, 1), true),
            measure(2, MeasureCategory::Employment, d(2017, 6, 1), false),
        ],
        last_log: Some(d(2017, 10, 10)),
    }
}

fn codes(h: &HouseholdFacts) -> Vec<&'static str> {
    check_household(h, &params()).into_iter().map(|f| f.rule).collect()
}

/// A change that breaks a rule.
type Breaker = fn(&mut HouseholdFacts);

/// For each rule: what breaks it.
fn breakers() -> Vec<(&'static str, Breaker)> {
    vec![
        ("M-ID-01", |h| {
            let id = &h.members[0].id_number;
            let right = check_char(&id.as_bytes()[..17]);
            h.members[0].id_number = format!("{}{}", &id[..17], if right == '0' { '1' } else { '0' });
        }),
        ("M-ID-02", |h| h.members[1].duplicate_of = Some("44078111121000009".into())),
        ("M-ID-03", |h| h.members[0].sex = Sex::Female),
        ("M-ID-04", |h| h.members[0].birth_date = d(1972, 3, 6)),
        ("H-HD-01", |h| h.members[0].relation = Relation::Other),
        ("H-HD-02", |h| h.members[1].relation = Relation::Head),
        ("M-REL-01", |h| {
            let m = &mut h.members[1];
            m.sex = Sex::Male;
            m.id_number = IdNumber::compose("440781", m.birth_date, 123).unwrap().as_str().into();
        }),
        ("M-REL-02", |h| {
            let m = &mut h.members[2];
            m.sex = Sex::Female;
            m.id_number = IdNumber::compose("440781", m.birth_date, 132).unwrap().as_str().into();
        }),
        ("H-HH-01", |h| h.members.clear()),
        ("M-AGE-01", |h| h.members[2].labour_ability = LabourAbility::Able),
        ("M-AGE-02", |h| h.members[1].labour_ability = LabourAbility::Unable),
        ("M-AGE-03", |h| {
            let m = &mut h.members[0];
            m.birth_date = d(1900, 1, 1);
            m.id_number = IdNumber::compose("440781", m.birth_date, 111).unwrap().as_str().into();
        }),
        ("M-SCH-01", |h| h.members[2].school_stage = SchoolStage::NotInSchool),
        ("M-SCH-02", |h| h.members[2].school_stage = SchoolStage::University),
        ("M-MED-01", |h| {
            h.members[1].medical_insurance = false;
            h.guarantees.basic_medical = false;
        }),
        ("H-GUA-01", |h| h.guarantees.safe_housing = false),
        ("H-GUA-02", |h| h.guarantees.safe_water = false),
        ("H-GUA-03", |h| {
            h.members[2].school_stage = SchoolStage::NotInSchool;
            h.guarantees.compulsory_education = false;
        }),
        ("H-GUA-04", |h| h.members[2].school_stage = SchoolStage::NotInSchool),
        ("H-GUA-05", |h| h.members[1].medical_insurance = false),
        ("H-INC-01", |h| h.status = HouseholdStatus::Exited),
        ("H-INC-02", |h| {
            h.status = HouseholdStatus::PreExit;
            if let Some(f) = h.finance.as_mut() {
                f.wage_income = Money::from_yuan(19_000);
                f.declared_total_income = Some(Money::from_yuan(24_000));
            }
        }),
        ("H-INC-03", |h| {
            if let Some(f) = h.finance.as_mut() {
                f.declared_total_income = Some(Money::from_yuan(25_000))
            }
        }),
        ("H-INC-04", |h| {
            if let Some(f) = h.finance.as_mut() {
                f.living_expenditure = Some(Money::from_yuan(60_000))
            }
        }),
        ("H-INC-05", |h| {
            if let Some(f) = h.finance.as_mut() {
                f.production_costs = Money::from_yuan(-5)
            }
        }),
        ("H-INC-06", |h| h.finance = None),
        ("H-INC-07", |h| {
            if let Some(f) = h.finance.as_mut() {
                f.wage_income = Money::from_yuan(40_000);
                f.declared_total_income = Some(Money::from_yuan(45_000));
                f.living_expenditure = Some(Money::from_yuan(20_000));
            }
        }),
        ("H-PLN-01", |h| h.plan = None),
        ("H-PLN-02", |h| h.measures.clear()),
        ("H-LOG-01", |h| h.last_log = Some(d(2017, 6, 30))),
        ("H-CAD-01", |h| h.has_cadre = false),
        ("H-DEV-01", |h| {
            h.plan = Some((d(2017, 2, 1), vec![MeasureCategory::Skills]));
            for m in h.measures.iter_mut() {
                m.category = MeasureCategory::Skills;
            }
        }),
        ("H-DEV-02", |h| {
            h.plan = Some((d(2017, 2, 1), vec![MeasureCategory::Welfare]));
            for m in h.measures.iter_mut() {
                m.category = MeasureCategory::Welfare;
            }
        }),
        ("H-GEN-01", |h| h.measures[0].income_generating = false),
        ("H-CAU-01", |h| h.main_cause = PovertyCause::Illness),
        ("H-CAU-02", |h| h.other_causes = vec![PovertyCause::Schooling]),
        ("H-CAU-03", |h| h.main_cause = PovertyCause::Disability),
        ("H-WEL-01", |h| h.measures[1].category = MeasureCategory::Welfare),
        ("H-EVD-01", |h| h.measures[1].has_evidence = false),
        ("H-BOK-01", |h| h.record_book.provincial_format = false),
        ("H-BOK-02", |h| h.record_book.last_checked = Some(d(2017, 1, 2))),
        ("H-STA-01", |h| h.identified_on = d(2017, 12, 1)),
    ]
}

#[test]
fn the_clean_household_breaks_nothing() {
    assert_eq!(codes(&clean()), Vec::<&str>::new());
}

#[test]
fn every_rule_finds_what_breaks_it_and_names_the_fact() {
    let table = breakers();
    for (code, breaker) in &table {
        let mut h = clean();
        breaker(&mut h);
        let found = check_household(&h, &params());
        let mine: Vec<&Finding> = found.iter().filter(|f| f.rule == *code).collect();
        assert!(
            !mine.is_empty(),
            "{code} does not find its case; found {:?}",
            found.iter().map(|f| f.rule).collect::<Vec<_>>()
        );
        assert!(mine.iter().all(|f| !f.message.is_empty()));
    }
    // Every household or member rule of the catalogue has its case here (village rules have theirs
    // below; posting, town and institution rules in platform/tests.rs).
    for r in CATALOGUE.iter().filter(|r| matches!(r.object, Object::Household | Object::Member)) {
        assert!(table.iter().any(|(c, _)| *c == r.code), "rule {} has no test case", r.code);
    }
    assert!(CATALOGUE.len() >= 40);
}

#[test]
fn codes_are_unique_and_messages_name_facts() {
    let mut seen = std::collections::HashSet::new();
    for r in CATALOGUE {
        assert!(seen.insert(r.code), "duplicate code {}", r.code);
    }
    let mut h = clean();
    h.last_log = Some(d(2017, 6, 30));
    let f = check_household(&h, &params());
    assert_eq!(f[0].message, "最近一次帮扶日志是 2017-06-30，已 124 天未更新");
    let mut h = clean();
    h.status = HouseholdStatus::Exited;
    let f = check_household(&h, &params());
    assert_eq!(f[0].message, "状态为“已脱贫”，2017 年人均纯收入 6000.00 元，低于脱贫标准 7500.00 元");
}

#[test]
fn the_village_rule_needs_enough_households_without_plans() {
    let p = params();
    assert!(village_findings("440781111210", 10, 0, &p).is_empty());
    assert!(village_findings("440781111210", 10, 4, &p).is_empty(), "4 is below the minimum of 5");
    assert!(village_findings("440781111210", 100, 20, &p).is_empty(), "20% is below 30%");
    let v = village_findings("440781111210", 10, 5, &p);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].message, "10 户在帮扶的贫困户中有 5 户没有 2017 年帮扶计划");
}
