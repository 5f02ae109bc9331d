//! Reading households' facts for the checks: a few set-wise queries per batch (households,
//! members, the year's finances, plans, measures with their evidence, last logs, duplicate IDs),
//! never a query per household.

use std::collections::HashMap;

use chrono::NaiveDate;
use ducha_domain::Money;
use ducha_domain::access::Scope;
use ducha_domain::checks::{HouseholdFacts, MeasureFacts, MemberFacts};
use ducha_domain::help::{MeasureCategory, RecordBook};
use ducha_domain::registry::{Guarantees, YearFinance};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Value};

use crate::registry::scope_sql;
use crate::{Db, StorageError};

/// Which households to read.
pub enum Selection<'a> {
    /// The next `limit` households of a scope after id `after`.
    Batch { scope: &'a Scope, after: i64, limit: u64 },
    /// These households (a re-check after a save).
    Ids(&'a [i64]),
}

use crate::stored::code as vocab;

pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// An `IN (…)` list of ids whose placeholders start at `$first`. A few ids (a re-check on save)
/// are bound, so that the same statement is prepared once per connection and reused; a batch's
/// thousands are written out.
pub(crate) fn in_list(ids: &[i64], first: usize) -> (String, Vec<Value>) {
    if ids.len() > 64 {
        return (id_list(ids), vec![]);
    }
    let marks = (first..first + ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(",");
    (marks, ids.iter().map(|&i| i.into()).collect())
}

fn with(mut fixed: Vec<Value>, ids: &[Value]) -> Vec<Value> {
    fixed.extend_from_slice(ids);
    fixed
}

/// One raw row as its row struct. The batches are read as raw rows and each is mapped in the loop
/// that uses it, so that no second vector of a batch is built.
fn row<R: FromQueryResult>(r: &QueryResult) -> Result<R, StorageError> {
    Ok(R::from_query_result(r, "")?)
}

#[derive(FromQueryResult)]
struct HouseholdRow {
    id: i64,
    number: String,
    village_code: String,
    household_type: String,
    main_cause: String,
    other_cause_1: Option<String>,
    other_cause_2: Option<String>,
    food_clothing: bool,
    compulsory_education: bool,
    basic_medical: bool,
    safe_housing: bool,
    safe_water: bool,
    status: String,
    identified_on: NaiveDate,
    cadre_id: Option<i64>,
    record_book_issued: bool,
    record_book_provincial: bool,
    record_book_checked_on: Option<NaiveDate>,
}

#[derive(FromQueryResult)]
struct MemberRow {
    id: i64,
    household_id: i64,
    name: String,
    id_number: crate::personal::Personal<crate::personal::IdNumber>,
    relation: String,
    sex: String,
    birth_date: NaiveDate,
    education: String,
    school_stage: String,
    out_of_school_reason: Option<String>,
    health: crate::personal::Personal<crate::personal::Health>,
    labour_ability: String,
    medical_insurance: bool,
}

#[derive(FromQueryResult)]
struct FinanceRow {
    household_id: i64,
    wage_income: i64,
    business_income: i64,
    property_income: i64,
    transfer_income: i64,
    production_costs: i64,
    declared_total_income: Option<i64>,
    living_expenditure: Option<i64>,
}

#[derive(FromQueryResult)]
struct PlanRow {
    household_id: i64,
    made_on: NaiveDate,
    category: Option<String>,
}

#[derive(FromQueryResult)]
struct MeasureRow {
    id: i64,
    household_id: i64,
    category: String,
    delivered_on: NaiveDate,
    income_generating: bool,
    evidence: i64,
}

#[derive(FromQueryResult)]
struct LastLogRow {
    household_id: i64,
    last: Option<NaiveDate>,
}

async fn rows<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, StorageError> {
    Ok(c.query_all_raw(db.stmt(sql, values)).await?)
}

/// Duplicate ID numbers among current members: for each member registered after another with the
/// same number, the first one's household number. Over the whole registry (a duplicate may sit in
/// another district), or only for the numbers given.
pub async fn duplicates<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    households: Option<&[i64]>,
) -> Result<HashMap<i64, String>, StorageError> {
    // Over the registry, only the numbers held more than once are read; for a few numbers (a
    // re-check on save) every holder is read through the index, and a number held once simply
    // never repeats below.
    let (filter, values): (String, Vec<Value>) = match households {
        None => (
            "m.id_lookup IN (SELECT id_lookup FROM members WHERE left_on IS NULL GROUP BY id_lookup HAVING COUNT(*) > 1)".into(),
            vec![],
        ),
        Some([]) => return Ok(HashMap::new()),
        Some(ids) => {
            let (list, values) = in_list(ids, 1);
            (
                format!("m.id_lookup IN (SELECT id_lookup FROM members WHERE left_on IS NULL AND household_id IN ({list}))"),
                values,
            )
        }
    };
    let sql = format!(
        "SELECT m.id AS id, m.id_lookup AS id_number, h.number AS number FROM members m JOIN households h ON h.id = m.household_id \
         WHERE m.left_on IS NULL AND {filter} ORDER BY m.id"
    );
    let mut first: HashMap<String, String> = HashMap::new();
    let mut out = HashMap::new();
    #[derive(FromQueryResult)]
    struct DuplicateRow {
        id: i64,
        id_number: String,
        number: String,
    }
    for r in rows(db, c, &sql, values).await? {
        let DuplicateRow { id, id_number, number } = row(&r)?;
        match first.get(&id_number) {
            Some(n) => {
                out.insert(id, n.clone());
            }
            None => {
                first.insert(id_number, number);
            }
        }
    }
    Ok(out)
}

/// The facts of the selected households for a year, standing on `as_of`. `duplicate_of` is
/// filled from `dups` (see [`duplicates`]).
pub async fn facts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    selection: Selection<'_>,
    year: i32,
    as_of: NaiveDate,
    dups: &HashMap<i64, String>,
) -> Result<Vec<HouseholdFacts>, StorageError> {
    const COLUMNS: &str = "h.id AS id, h.number AS number, h.village_code AS village_code, h.household_type AS household_type, \
        h.main_cause AS main_cause, h.other_cause_1 AS other_cause_1, h.other_cause_2 AS other_cause_2, h.food_clothing AS food_clothing, \
        h.compulsory_education AS compulsory_education, h.basic_medical AS basic_medical, h.safe_housing AS safe_housing, \
        h.safe_water AS safe_water, h.status AS status, h.identified_on AS identified_on, h.cadre_id AS cadre_id, \
        h.record_book_issued AS record_book_issued, h.record_book_provincial AS record_book_provincial, \
        h.record_book_checked_on AS record_book_checked_on";
    let households = match selection {
        Selection::Batch { scope, after, limit } => {
            let (cond, values) = scope_sql(scope, 1);
            let sql = format!(
                "SELECT {COLUMNS} FROM households h WHERE {cond} AND h.id > {after} ORDER BY h.id LIMIT {limit}"
            );
            rows(db, c, &sql, values).await?
        }
        Selection::Ids([]) => return Ok(vec![]),
        Selection::Ids(ids) => {
            let (list, values) = in_list(ids, 1);
            let sql = format!("SELECT {COLUMNS} FROM households h WHERE h.id IN ({list}) ORDER BY h.id");
            rows(db, c, &sql, values).await?
        }
    };
    let mut out: Vec<HouseholdFacts> = Vec::with_capacity(households.len());
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(households.len());
    for r in &households {
        let r: HouseholdRow = row(r)?;
        let id = r.id;
        let mut other_causes = Vec::new();
        for code in [&r.other_cause_1, &r.other_cause_2].into_iter().flatten() {
            other_causes.push(vocab(code)?);
        }
        index.insert(id, out.len());
        out.push(HouseholdFacts {
            id,
            household_type: vocab(&r.household_type)?,
            main_cause: vocab(&r.main_cause)?,
            status: vocab(&r.status)?,
            number: r.number,
            village_code: r.village_code,
            other_causes,
            guarantees: Guarantees {
                food_clothing: r.food_clothing,
                compulsory_education: r.compulsory_education,
                basic_medical: r.basic_medical,
                safe_housing: r.safe_housing,
                safe_water: r.safe_water,
            },
            identified_on: r.identified_on,
            has_cadre: r.cadre_id.is_some(),
            record_book: RecordBook {
                issued: r.record_book_issued,
                provincial_format: r.record_book_provincial,
                last_checked: r.record_book_checked_on,
            },
            members: vec![],
            finance: None,
            plan: None,
            measures: vec![],
            last_log: None,
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().map(|h| h.id).collect();
    let (list, bound) = in_list(&ids, 1);
    let sql = format!(
        "SELECT id, household_id, name, id_number, relation, sex, birth_date, education, school_stage, out_of_school_reason, health, \
         labour_ability, medical_insurance FROM members WHERE left_on IS NULL AND household_id IN ({list}) ORDER BY household_id, seq"
    );
    // The same ids after one or two fixed parameters.
    let (list2, bound2) = in_list(&ids, 2);
    let (list3, bound3) = in_list(&ids, 3);
    for r in rows(db, c, &sql, bound).await? {
        let r: MemberRow = row(&r)?;
        let Some(&k) = index.get(&r.household_id) else { continue };
        out[k].members.push(MemberFacts {
            id: r.id,
            relation: vocab(&r.relation)?,
            sex: vocab(&r.sex)?,
            birth_date: r.birth_date,
            education: vocab(&r.education)?,
            school_stage: vocab(&r.school_stage)?,
            has_out_of_school_reason: r.out_of_school_reason.is_some_and(|s| !s.trim().is_empty()),
            health: vocab(&r.health)?,
            labour_ability: vocab(&r.labour_ability)?,
            medical_insurance: r.medical_insurance,
            duplicate_of: dups.get(&r.id).cloned(),
            name: r.name,
            id_number: r.id_number.to_string(),
        });
    }
    let sql = format!(
        "SELECT household_id, wage_income, business_income, property_income, transfer_income, production_costs, declared_total_income, \
         living_expenditure FROM household_finances WHERE year = $1 AND household_id IN ({list2})"
    );
    for r in rows(db, c, &sql, with(vec![year.into()], &bound2)).await? {
        let r: FinanceRow = row(&r)?;
        let Some(&k) = index.get(&r.household_id) else { continue };
        out[k].finance = Some(YearFinance {
            year,
            wage_income: Money::from_fen(r.wage_income),
            business_income: Money::from_fen(r.business_income),
            property_income: Money::from_fen(r.property_income),
            transfer_income: Money::from_fen(r.transfer_income),
            production_costs: Money::from_fen(r.production_costs),
            declared_total_income: r.declared_total_income.map(Money::from_fen),
            living_expenditure: r.living_expenditure.map(Money::from_fen),
        });
    }
    let sql = format!(
        "SELECT p.household_id AS household_id, p.made_on AS made_on, i.category AS category FROM help_plans p \
         LEFT JOIN help_plan_items i ON i.plan_id = p.id WHERE p.year = $1 AND p.household_id IN ({list2})"
    );
    for r in rows(db, c, &sql, with(vec![year.into()], &bound2)).await? {
        let r: PlanRow = row(&r)?;
        let Some(&k) = index.get(&r.household_id) else { continue };
        let plan = out[k].plan.get_or_insert_with(|| (r.made_on, vec![]));
        if let Some(code) = &r.category {
            plan.1.push(vocab::<MeasureCategory>(code)?);
        }
    }
    let (from, to) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
    let sql = format!(
        "SELECT m.id AS id, m.household_id AS household_id, m.category AS category, m.delivered_on AS delivered_on, \
         m.income_generating AS income_generating, \
         (SELECT COUNT(*) FROM evidence e WHERE e.owner_kind = 'help_measure' AND e.owner_id = m.id) AS evidence \
         FROM help_measures m WHERE m.household_id IN ({list3}) AND m.delivered_on >= $1 AND m.delivered_on <= $2 ORDER BY m.id"
    );
    for r in rows(db, c, &sql, with(vec![from.into(), to.into()], &bound3)).await? {
        let r: MeasureRow = row(&r)?;
        let Some(&k) = index.get(&r.household_id) else { continue };
        out[k].measures.push(MeasureFacts {
            id: r.id,
            category: vocab(&r.category)?,
            delivered_on: r.delivered_on,
            income_generating: r.income_generating,
            has_evidence: r.evidence > 0,
        });
    }
    let sql = format!(
        "SELECT household_id, MAX(visited_on) AS last FROM help_logs WHERE household_id IN ({list2}) AND visited_on <= $1 GROUP BY household_id"
    );
    for r in rows(db, c, &sql, with(vec![as_of.into()], &bound2)).await? {
        let r: LastLogRow = row(&r)?;
        let Some(&k) = index.get(&r.household_id) else { continue };
        out[k].last_log = r.last;
    }
    Ok(out)
}
