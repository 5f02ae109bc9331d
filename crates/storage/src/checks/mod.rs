//! The data-quality checks in the database: their parameters by year, batch runs over a region,
//! the re-check of a household inside the transaction that changed it, and the findings with
//! their history (new, still open, fixed) and exemptions.

pub mod demo;
pub mod load;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::checks::{self as rules, AuditParams, Finding, HouseholdFacts, ParamFile};
use ducha_domain::labelled::Labelled;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::AuditTxn;
use crate::{Db, StorageError};

/// The year and the day checks stand on: settings (the demo sets its own), else today.
pub(crate) async fn current(db: &Db) -> Result<(i32, NaiveDate), StorageError> {
    current_in(db, db.conn()).await
}

/// [`current`] on a given connection (inside a write transaction, its own).
pub(crate) async fn current_in<C: ConnectionTrait>(db: &Db, c: &C) -> Result<(i32, NaiveDate), StorageError> {
    crate::settings::check_period(db, c, crate::scoped::beijing_today()).await
}

/// The shipped parameter file, parsed once.
fn shipped_params() -> Result<&'static ParamFile, StorageError> {
    static FILE: std::sync::OnceLock<Result<ParamFile, String>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| ParamFile::parse(rules::DEFAULT_FILE).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| StorageError::Rejected(e.clone()))
}

/// The parameters of a year: the shipped file, then what an office set in the database.
pub(crate) async fn params<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    year: i32,
    as_of: NaiveDate,
) -> Result<AuditParams, StorageError> {
    let mut p = shipped_params()?.for_year(year, as_of).map_err(|e| StorageError::Rejected(e.to_string()))?;
    #[derive(FromQueryResult)]
    struct Row {
        key: String,
        value: i64,
    }
    let rows = Row::find_by_statement(
        db.stmt("SELECT key, value FROM check_params WHERE year = $1 ORDER BY key", vec![year.into()]),
    )
    .all(c)
    .await?;
    for r in rows {
        p.set(&r.key, r.value).map_err(|e| StorageError::Rejected(e.to_string()))?;
    }
    Ok(p)
}

/// Set one parameter of a year (city office or administrator), audited.
pub(crate) async fn set_param(
    db: &Db,
    actor: &Actor,
    year: i32,
    key: &str,
    value: i64,
) -> Result<AuditParams, StorageError> {
    set_params(db, actor, year, &[(key.to_string(), value)]).await
}

/// Set several parameters of a year at once: all are saved or, if one is out of range, none.
pub(crate) async fn set_params(
    db: &Db,
    actor: &Actor,
    year: i32,
    changes: &[(String, i64)],
) -> Result<AuditParams, StorageError> {
    if !matches!(actor.role, Role::CityOffice | Role::Admin) {
        return Err(StorageError::Forbidden("只有市扶贫办或系统管理员可以修改核查参数".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, as_of) = current(db).await?;
    let mut p = params(db, tx.conn(), year, as_of).await?;
    for (key, value) in changes {
        let key = key.as_str();
        let before = serde_json::json!({ "year": year, key: p.described().iter().find(|d| d.0 == key).map(|d| d.2) });
        p.set(key, *value).map_err(|e| crate::registry::write::field_error(key, e.message))?;
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO check_params (year, key, value) VALUES ($1, $2, $3) ON CONFLICT (year, key) DO UPDATE SET value = excluded.value",
                vec![year.into(), key.into(), (*value).into()],
            ))
            .await?;
        let after = serde_json::json!({ "year": year, key: value });
        tx.record("check_params", format!("{year}:{key}"), None, "update", Some(&before), Some(&after)).await?;
    }
    tx.commit().await?;
    Ok(p)
}

/// A finding's identity across runs: the same rule on the same record in the same year.
fn key_of(f: &Finding, year: i32) -> String {
    if let (0, Some(object)) = (f.household_id, f.member_id) {
        // A posting or an institution: the record's own id.
        format!("{}:o{object}:{year}", f.rule)
    } else if f.household_id == 0 {
        format!("{}:v{}:{year}", f.rule, f.village_code)
    } else {
        format!("{}:{}:{}:{year}", f.rule, f.household_id, f.member_id.unwrap_or(0))
    }
}

fn hash(message: &str) -> String {
    Sha256::digest(message.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a run (or a re-check) changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub households: u64,
    /// Findings open after the run.
    pub open: u64,
    pub new: u64,
    pub fixed: u64,
    pub exempted: u64,
}

struct Existing {
    id: i64,
    status: String,
    message: String,
}

#[derive(FromQueryResult)]
struct ExistingRow {
    id: i64,
    key: String,
    status: String,
    message: String,
}

/// Bring stored findings in line with what was found now, for the records that were checked:
/// new ones opened (or exempted, if an exemption covers the same facts), vanished ones fixed,
/// lasting ones touched. `existing` holds the stored findings of exactly the checked records.
async fn reconcile<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    year: i32,
    run_id: Option<i64>,
    found: Vec<Finding>,
    existing: HashMap<String, Existing>,
) -> Result<RunSummary, StorageError> {
    let now = Utc::now();
    let mut summary = RunSummary::default();
    let keys: Vec<String> = found.iter().map(|f| key_of(f, year)).collect();
    // Exemptions of the found keys: a finding stays exempted while its message (its facts) is the same.
    let mut exemptions: HashMap<String, HashSet<String>> = HashMap::new();
    for chunk in keys.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT key, message_hash FROM check_exemptions WHERE key IN ({})", marks.join(","));
        #[derive(FromQueryResult)]
        struct Row {
            key: String,
            message_hash: String,
        }
        for r in Row::find_by_statement(db.stmt(&sql, chunk.iter().map(|k| k.clone().into()).collect())).all(c).await? {
            exemptions.entry(r.key).or_default().insert(r.message_hash);
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut inserts: Vec<Vec<Value>> = Vec::new();
    let mut unchanged: Vec<i64> = Vec::new();
    for (f, key) in found.into_iter().zip(keys) {
        if !seen.insert(key.clone()) {
            continue;
        }
        // For a rule whose counts move, any exemption of the record and year covers it (those
        // given before the basis was the rule alone included).
        let basis = ducha_domain::checks::exemption_basis(f.rule, &f.message);
        let exempt = exemptions
            .get(&key)
            .is_some_and(|h| h.contains(&hash(basis)) || (ducha_domain::checks::counts_move(f.rule) && !h.is_empty()));
        let status = if exempt { "exempted" } else { "open" };
        match existing.get(&key) {
            Some(e) if e.status == status && e.message == f.message && e.status != "fixed" => {
                // Still there, unchanged: only its last sighting moves (in bulk, below).
                if run_id.is_some() {
                    unchanged.push(e.id);
                }
            }
            Some(e) => {
                if e.status == "fixed" && status == "open" {
                    summary.new += 1;
                }
                c.execute_raw(db.stmt(
                    "UPDATE check_findings SET status = $1, message = $2, last_run_id = COALESCE($3, last_run_id), last_seen_at = $4, fixed_at = NULL WHERE id = $5",
                    vec![status.into(), f.message.clone().into(), run_id.into(), now.into(), e.id.into()],
                ))
                .await?;
            }
            None => {
                if status == "open" {
                    summary.new += 1;
                }
                let village = f.village_code.clone();
                let town = village.get(..9).unwrap_or_default().to_string();
                let district = village.get(..6).unwrap_or_default().to_string();
                inserts.push(vec![
                    key.clone().into(),
                    f.rule.into(),
                    year.into(),
                    f.household_id.into(),
                    f.member_id.into(),
                    village.into(),
                    town.into(),
                    district.into(),
                    f.message.clone().into(),
                    status.into(),
                    run_id.into(),
                    run_id.into(),
                    now.into(),
                    now.into(),
                ]);
            }
        }
        if exempt {
            summary.exempted += 1;
        } else {
            summary.open += 1;
        }
    }
    for chunk in inserts.chunks(400) {
        let mut values = Vec::with_capacity(chunk.len() * 14);
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            let n = values.len();
            tuples.push(format!("({})", (1..=14).map(|k| format!("${}", n + k)).collect::<Vec<_>>().join(", ")));
            values.extend(row.iter().cloned());
        }
        let sql = format!(
            "INSERT INTO check_findings (key, rule, year, household_id, member_id, village_code, town_code, district_code, message, status, \
             first_run_id, last_run_id, first_seen_at, last_seen_at) VALUES {}",
            tuples.join(", ")
        );
        c.execute_raw(db.stmt(&sql, values)).await?;
    }
    for chunk in unchanged.chunks(1_000) {
        let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        c.execute_raw(db.stmt(
            &format!("UPDATE check_findings SET last_run_id = $1, last_seen_at = $2 WHERE id IN ({list})"),
            vec![run_id.into(), now.into()],
        ))
        .await?;
    }
    // What was open before and is not found now has been fixed.
    let gone: Vec<i64> =
        existing.iter().filter(|(k, e)| !seen.contains(*k) && e.status != "fixed").map(|(_, e)| e.id).collect();
    for chunk in gone.chunks(500) {
        let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        c.execute_raw(db.stmt(
            &format!("UPDATE check_findings SET status = 'fixed', fixed_at = $1, last_run_id = COALESCE($2, last_run_id) WHERE id IN ({list})"),
            vec![now.into(), run_id.into()],
        ))
        .await?;
    }
    summary.fixed = gone.len() as u64;
    Ok(summary)
}

async fn existing_for<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    cond: &str,
    values: Vec<Value>,
) -> Result<HashMap<String, Existing>, StorageError> {
    let sql = format!("SELECT id, key, status, message FROM check_findings f WHERE {cond}");
    let mut out = HashMap::new();
    for r in ExistingRow::find_by_statement(db.stmt(&sql, values)).all(c).await? {
        out.insert(r.key, Existing { id: r.id, status: r.status, message: r.message });
    }
    Ok(out)
}

/// Bring the findings of what a committed write touched up to date (see `Scoped::commit`).
pub(crate) async fn after_write(tx: &AuditTxn<'_>, touched: &crate::audit::Touched) -> Result<(), StorageError> {
    let ids: Vec<i64> = touched.households.iter().copied().collect();
    recheck(tx, &ids).await?;
    for region in &touched.regions {
        recheck_platform(tx, region).await?;
    }
    Ok(())
}

/// Re-check households inside the caller's transaction (after a save): their household and member
/// findings of the current year are brought up to date. Village findings wait for the next run.
/// (Public for the benchmark, which times it alone inside a transaction it rolls back.)
pub(crate) async fn recheck(tx: &AuditTxn<'_>, household_ids: &[i64]) -> Result<RunSummary, StorageError> {
    if household_ids.is_empty() {
        return Ok(RunSummary::default());
    }
    let db = tx.db();
    let c = tx.conn();
    let (year, as_of) = current_in(db, c).await?;
    let p = params(db, c, year, as_of).await?;
    let mut total = RunSummary::default();
    for chunk in household_ids.chunks(2_000) {
        // Duplicate IDs among these households' members, registry-wide.
        let dups = load::duplicates(db, c, Some(chunk)).await?;
        let facts = load::facts(db, c, load::Selection::Ids(chunk), year, as_of, &dups).await?;
        let found: Vec<Finding> = facts.iter().flat_map(|h| rules::check_household(h, &p)).collect();
        let (list, ids) = load::in_list(chunk, 2);
        let existing = existing_for(
            db,
            c,
            &format!("f.year = $1 AND f.household_id IN ({list})"),
            std::iter::once(year.into()).chain(ids).collect(),
        )
        .await?;
        let s = reconcile(db, c, year, None, found, existing).await?;
        total.households += facts.len() as u64;
        total.open += s.open;
        total.new += s.new;
        total.fixed += s.fixed;
        total.exempted += s.exempted;
    }
    Ok(total)
}

/// The rules over postings, towns, institutions (see `crate::platform`), projects and districts'
/// spending (`crate::funds`), as an SQL list.
pub(crate) fn platform_rules() -> String {
    use ducha_domain::checks::Object;
    rules::CATALOGUE
        .iter()
        .filter(|r| {
            matches!(
                r.object,
                Object::Posting | Object::Town | Object::Institution | Object::Project | Object::District
            )
        })
        .map(|r| format!("'{}'", r.code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Re-check the platform and funds rules of a town (its postings and projects) or a district
/// (also its institutions and spending) inside the caller's transaction, after one of those
/// records changed.
pub(crate) async fn recheck_platform(tx: &AuditTxn<'_>, region: &str) -> Result<RunSummary, StorageError> {
    let db = tx.db();
    let c = tx.conn();
    let code = ducha_domain::RegionCode::parse(region).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let (year, as_of) = current_in(db, c).await?;
    let p = params(db, c, year, as_of).await?;
    let scope = Scope::Region(code);
    let mut found = crate::platform::findings(db, c, &scope, &p).await?;
    found.extend(crate::funds::findings(db, c, &scope, &p).await?);
    let col = if region.len() == 6 { "district_code" } else { "town_code" };
    let existing = existing_for(
        db,
        c,
        &format!("f.year = $1 AND f.{col} = $2 AND f.rule IN ({})", platform_rules()),
        vec![year.into(), region.to_string().into()],
    )
    .await?;
    reconcile(db, c, year, None, found, existing).await
}

/// Run the whole catalogue over a scope (the CLI, a page, a parameter change) and store the result
/// as a run: new, still open and fixed findings. Reads in batches; writes in one transaction.
pub(crate) async fn run(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    progress: impl Fn(u64),
) -> Result<(RunSummary, Vec<Finding>), StorageError> {
    let (year, as_of) = current(db).await?;
    let p = params(db, db.conn(), year, as_of).await?;
    let dups = load::duplicates(db, db.conn(), None).await?;
    let mut found = Vec::new();
    let mut villages: HashMap<String, (i64, i64)> = HashMap::new();
    let mut households = 0u64;
    let mut after = 0;
    let params = std::sync::Arc::new(p.clone());
    loop {
        let batch =
            load::facts(db, db.conn(), load::Selection::Batch { scope, after, limit: 20_000 }, year, as_of, &dups)
                .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        households += batch.len() as u64;
        // The rules over a batch are CPU work: on a blocking thread, not an async worker.
        let p = params.clone();
        let (batch_found, v) = tokio::task::spawn_blocking(move || {
            let mut villages = villages;
            (evaluate(&batch, &p, &mut villages), villages)
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?;
        villages = v;
        found.extend(batch_found);
        progress(households);
    }
    for (village, (active, without)) in &villages {
        found.extend(rules::village_findings(village, *active, *without, &p));
    }
    found.extend(crate::platform::findings(db, db.conn(), scope, &p).await?);
    found.extend(crate::funds::findings(db, db.conn(), scope, &p).await?);
    // Only what the scope holds is reconciled with what the scope has stored.
    found.retain(|f| scope.contains(&f.village_code));
    let mut tx = AuditTxn::begin(db, actor).await?;
    let region = match scope {
        Scope::All => None,
        Scope::Region(c) => Some(c.as_str().to_string()),
    };
    let started: DateTime<Utc> = Utc::now();
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let run_id = Inserted::find_by_statement(db.stmt(
        "INSERT INTO check_runs (year, as_of, region_code, actor, started_at, households) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        vec![year.into(), as_of.into(), region.clone().into(), actor.username.clone().into(), started.into(), (households as i64).into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Rejected("核查记录未能写入".into()))?
    .id;
    let (cond, values) = findings_scope(scope, year);
    let existing = existing_for(db, tx.conn(), &cond, values).await?;
    let mut summary = reconcile(db, tx.conn(), year, Some(run_id), found.clone(), existing).await?;
    summary.run_id = run_id;
    summary.households = households;
    tx.conn()
        .execute_raw(db.stmt(
            "UPDATE check_runs SET finished_at = $1, open = $2, new = $3, fixed = $4 WHERE id = $5",
            vec![
                Utc::now().into(),
                (summary.open as i64).into(),
                (summary.new as i64).into(),
                (summary.fixed as i64).into(),
                run_id.into(),
            ],
        ))
        .await?;
    tx.record::<(), _>("check_run", run_id, region.as_deref(), "run", None, Some(&summary)).await?;
    tx.commit().await?;
    Ok((summary, found))
}

/// Evaluate a batch, counting what the village rule needs.
pub fn evaluate(batch: &[HouseholdFacts], p: &AuditParams, villages: &mut HashMap<String, (i64, i64)>) -> Vec<Finding> {
    let mut out = Vec::new();
    for h in batch {
        out.extend(rules::check_household(h, p));
        if h.status.is_active() {
            let v = villages.entry(h.village_code.clone()).or_default();
            v.0 += 1;
            v.1 += i64::from(h.plan.is_none());
        }
    }
    out
}

/// The stored findings of a year within a scope, as SQL over `check_findings AS f`.
fn findings_scope(scope: &Scope, year: i32) -> (String, Vec<Value>) {
    match scope {
        Scope::All => ("f.year = $1".into(), vec![year.into()]),
        Scope::Region(code) => {
            let col = match code.level() {
                ducha_domain::RegionLevel::City => {
                    return (
                        "f.year = $1 AND f.district_code LIKE $2".into(),
                        vec![year.into(), format!("{code}%").into()],
                    );
                }
                ducha_domain::RegionLevel::District => "f.district_code",
                ducha_domain::RegionLevel::Town => "f.town_code",
                ducha_domain::RegionLevel::Village => "f.village_code",
            };
            (format!("f.year = $1 AND {col} = $2"), vec![year.into(), code.as_str().to_string().into()])
        }
    }
}

/// A stored finding, as pages and the API list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFinding {
    pub id: i64,
    pub rule: String,
    /// The rule's title, severity, category and the kind of record it checks (labels), from the catalogue.
    pub title: String,
    pub object: String,
    pub severity: String,
    pub category: String,
    pub year: i32,
    pub household_id: i64,
    pub household_number: Option<String>,
    /// The head's name, so that a printed list can be read at the door.
    pub head_name: Option<String>,
    pub member_id: Option<i64>,
    pub village_code: String,
    pub message: String,
    pub status: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub fixed_at: Option<DateTime<Utc>>,
    /// Why an exempted finding was exempted, and by whom.
    pub exempt_note: Option<String>,
}

/// Filters of the findings list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub rule: Option<String>,
    pub status: Option<String>,
    pub region: Option<ducha_domain::RegionCode>,
    pub household_id: Option<i64>,
}

/// The condition of a findings query over `check_findings AS f`: the scope, then the filters.
fn filter_sql(scope: &Scope, filter: &FindingFilter, year: i32) -> (String, Vec<Value>) {
    let (mut cond, mut values) = findings_scope(scope, year);
    if let Some(region) = &filter.region {
        let (c2, v2) = findings_scope(&Scope::Region(region.clone()), year);
        // Renumber the second condition's parameters after the first's.
        let shift = values.len();
        let c2 = (1..=v2.len()).rev().fold(c2, |acc, i| acc.replace(&format!("${i}"), &format!("${}", i + shift)));
        cond = format!("{cond} AND {c2}");
        values.extend(v2);
    }
    for (col, v) in [("f.rule", filter.rule.clone()), ("f.status", filter.status.clone())] {
        if let Some(v) = v {
            values.push(v.into());
            cond = format!("{cond} AND {col} = ${}", values.len());
        }
    }
    if let Some(h) = filter.household_id {
        values.push(h.into());
        cond = format!("{cond} AND f.household_id = ${}", values.len());
    }
    (cond, values)
}

/// How many stored findings match.
pub(crate) async fn count_findings(db: &Db, scope: &Scope, filter: &FindingFilter) -> Result<i64, StorageError> {
    let (year, _) = current(db).await?;
    let (cond, values) = filter_sql(scope, filter, year);
    let sql = format!("SELECT COUNT(*) AS n FROM check_findings f WHERE {cond}");
    #[derive(FromQueryResult)]
    struct Row {
        n: i64,
    }
    let row = Row::find_by_statement(db.stmt(&sql, values)).one(db.conn()).await?;
    Ok(row.map(|r| r.n).unwrap_or(0))
}

/// Findings within a scope first seen, and fixed, since a moment (the start of the latest run):
/// what changed in the user's own area, whatever the run covered.
pub(crate) async fn changed_since(db: &Db, scope: &Scope, since: DateTime<Utc>) -> Result<(i64, i64), StorageError> {
    let (year, _) = current(db).await?;
    let (cond, mut values) = filter_sql(scope, &FindingFilter::default(), year);
    let n = values.len() + 1;
    values.push(since.into());
    let sql = format!(
        "SELECT COUNT(CASE WHEN f.first_seen_at >= ${n} THEN 1 END) AS new, \
         COUNT(CASE WHEN f.fixed_at >= ${n} THEN 1 END) AS fixed FROM check_findings f WHERE {cond}"
    );
    #[derive(FromQueryResult)]
    struct Row {
        new: i64,
        fixed: i64,
    }
    let row = Row::find_by_statement(db.stmt(&sql, values)).one(db.conn()).await?;
    match row {
        Some(r) => Ok((r.new, r.fixed)),
        None => Ok((0, 0)),
    }
}

/// Stored findings of the current year, by village and household, `limit` from `offset`.
pub(crate) async fn findings(
    db: &Db,
    scope: &Scope,
    filter: &FindingFilter,
    limit: u64,
    offset: u64,
) -> Result<Vec<StoredFinding>, StorageError> {
    let (year, _) = current(db).await?;
    let (cond, values) = filter_sql(scope, filter, year);
    let sql = format!(
        "SELECT f.id AS id, f.rule AS rule, f.year AS year, f.household_id AS household_id, h.number AS number, f.member_id AS member_id, \
         (SELECT MIN(m.name) FROM members m WHERE m.household_id = f.household_id AND m.relation = 'head' AND m.left_on IS NULL) AS head_name, \
         f.village_code AS village_code, f.message AS message, f.status AS status, f.first_seen_at AS first_seen_at, \
         f.last_seen_at AS last_seen_at, f.fixed_at AS fixed_at, \
         CASE WHEN f.status = 'exempted' THEN (SELECT e.reason || '（' || e.exempted_by || '）' FROM check_exemptions e WHERE e.key = f.key ORDER BY e.id DESC LIMIT 1) END AS exempt_note \
         FROM check_findings f LEFT JOIN households h ON h.id = f.household_id \
         WHERE {cond} ORDER BY f.village_code, f.household_id, f.rule, f.id LIMIT {limit} OFFSET {offset}"
    );
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        rule: String,
        year: i32,
        household_id: i64,
        number: Option<String>,
        head_name: Option<String>,
        member_id: Option<i64>,
        village_code: String,
        message: String,
        status: String,
        first_seen_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        fixed_at: Option<DateTime<Utc>>,
        exempt_note: Option<String>,
    }
    let rows = Row::find_by_statement(db.stmt(&sql, values)).all(db.conn()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let info = rules::rule(&r.rule);
            StoredFinding {
                id: r.id,
                title: info.map(|i| i.title.to_string()).unwrap_or_default(),
                object: info.map(|i| i.object.label().to_string()).unwrap_or_default(),
                severity: info.map(|i| i.severity.label().to_string()).unwrap_or_default(),
                category: info.map(|i| i.category.label().to_string()).unwrap_or_default(),
                rule: r.rule,
                year: r.year,
                household_id: r.household_id,
                household_number: r.number,
                head_name: r.head_name,
                member_id: r.member_id,
                village_code: r.village_code,
                message: r.message,
                status: r.status,
                first_seen_at: r.first_seen_at,
                last_seen_at: r.last_seen_at,
                fixed_at: r.fixed_at,
                exempt_note: r.exempt_note,
            }
        })
        .collect())
}

/// Open findings by rule and by a region column within a scope: (rule, region code, count).
pub(crate) async fn counts(
    db: &Db,
    scope: &Scope,
    by: ducha_domain::RegionLevel,
) -> Result<Vec<(String, String, i64)>, StorageError> {
    let (year, _) = current(db).await?;
    let (cond, values) = findings_scope(scope, year);
    let col = match by {
        ducha_domain::RegionLevel::City | ducha_domain::RegionLevel::District => "f.district_code",
        ducha_domain::RegionLevel::Town => "f.town_code",
        ducha_domain::RegionLevel::Village => "f.village_code",
    };
    let sql = format!(
        "SELECT f.rule AS rule, {col} AS region, COUNT(*) AS n FROM check_findings f WHERE {cond} AND f.status = 'open' GROUP BY f.rule, {col}"
    );
    #[derive(FromQueryResult)]
    struct Row {
        rule: String,
        region: String,
        n: i64,
    }
    let rows = Row::find_by_statement(db.stmt(&sql, values)).all(db.conn()).await?;
    Ok(rows.into_iter().map(|r| (r.rule, r.region, r.n)).collect())
}

/// The latest run within a scope's region (or the whole registry).
pub(crate) async fn latest_run(db: &Db) -> Result<Option<(i64, DateTime<Utc>, RunSummary)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        started_at: DateTime<Utc>,
        households: i64,
        open: i64,
        new: i64,
        fixed: i64,
    }
    let row = Row::find_by_statement(db.stmt("SELECT id, started_at, households, open, new, fixed FROM check_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1", vec![]))
        .one(db.conn())
        .await?;
    let Some(r) = row else { return Ok(None) };
    let summary = RunSummary {
        run_id: r.id,
        households: r.households as u64,
        open: r.open as u64,
        new: r.new as u64,
        fixed: r.fixed as u64,
        exempted: 0,
    };
    Ok(Some((r.id, r.started_at, summary)))
}

/// Exempt a finding judged a false alarm (district or city office), with a reason. It stays out of
/// later runs until its facts (its message) change; see `exemption_basis` for rules whose counts
/// move by themselves.
pub(crate) async fn exempt(db: &Db, actor: &Actor, finding_id: i64, reason: &str) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    #[derive(FromQueryResult)]
    struct Row {
        key: String,
        rule: String,
        message: String,
        village_code: String,
        status: String,
    }
    let row = Row::find_by_statement(db.stmt(
        "SELECT key, rule, message, village_code, status FROM check_findings WHERE id = $1",
        vec![finding_id.into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or(StorageError::NotFound)?;
    let village = row.village_code;
    if !actor.scope.contains(&village) {
        return Err(StorageError::NotFound);
    }
    if !matches!(actor.role, Role::DistrictOffice | Role::CityOffice) {
        return Err(StorageError::Forbidden("只有市(区)扶贫办或市扶贫办可以豁免核查问题".into()));
    }
    if reason.trim().is_empty() {
        return Err(crate::registry::write::field_error("reason", "请写明豁免理由".into()));
    }
    if row.status != "open" {
        return Err(StorageError::Rejected("只能豁免未整改的问题".into()));
    }
    let Row { key, rule, message, status, .. } = row;
    let basis = ducha_domain::checks::exemption_basis(&rule, &message);
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO check_exemptions (key, message_hash, reason, exempted_by, exempted_at) VALUES ($1, $2, $3, $4, $5)",
            vec![key.clone().into(), hash(basis).into(), reason.trim().into(), actor.username.clone().into(), Utc::now().into()],
        ))
        .await?;
    tx.conn()
        .execute_raw(db.stmt("UPDATE check_findings SET status = 'exempted' WHERE id = $1", vec![finding_id.into()]))
        .await?;
    let after = serde_json::json!({ "status": "exempted", "reason": reason.trim(), "finding": message });
    tx.record(
        "check_finding",
        finding_id,
        Some(&village),
        "exempt",
        Some(&serde_json::json!({ "status": status })),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub struct Checks<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn checks(&self) -> Checks<'_> {
        Checks(self)
    }
}

impl Checks<'_> {
    /// The year and the day checks stand on: settings (the demo sets its own), else today.
    pub async fn current(&self) -> Result<(i32, NaiveDate), StorageError> {
        current(self.0.db()).await
    }

    /// The parameters of a year: the shipped file, then what an office set in the database.
    pub async fn params(&self, year: i32, as_of: NaiveDate) -> Result<AuditParams, StorageError> {
        params(self.0.db(), self.0.db().conn(), year, as_of).await
    }

    /// Set one parameter of a year (city office or administrator), audited.
    pub async fn set_param(&self, year: i32, key: &str, value: i64) -> Result<AuditParams, StorageError> {
        set_param(self.0.db(), self.0.actor(), year, key, value).await
    }

    /// Set several parameters of a year at once: all are saved or, if one is out of range, none.
    pub async fn set_params(&self, year: i32, changes: &[(String, i64)]) -> Result<AuditParams, StorageError> {
        set_params(self.0.db(), self.0.actor(), year, changes).await
    }

    /// Run the whole catalogue over a scope (the CLI, a page, a parameter change) and store the result
    /// as a run: new, still open and fixed findings. Reads in batches; writes in one transaction.
    pub async fn run(&self, scope: &Scope, progress: impl Fn(u64)) -> Result<(RunSummary, Vec<Finding>), StorageError> {
        if !within(self.0.scope(), scope) {
            return Err(StorageError::Forbidden("只能核查本辖区的数据".into()));
        }
        run(self.0.db(), self.0.actor(), scope, progress).await
    }

    /// How many stored findings match.
    pub async fn count_findings(&self, filter: &FindingFilter) -> Result<i64, StorageError> {
        count_findings(self.0.db(), self.0.scope(), filter).await
    }

    /// Findings within a scope first seen, and fixed, since a moment (the start of the latest run):
    /// what changed in the user's own area, whatever the run covered.
    pub async fn changed_since(&self, since: DateTime<Utc>) -> Result<(i64, i64), StorageError> {
        changed_since(self.0.db(), self.0.scope(), since).await
    }

    /// Stored findings of the current year, by village and household, `limit` from `offset`.
    pub async fn findings(
        &self,
        filter: &FindingFilter,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredFinding>, StorageError> {
        findings(self.0.db(), self.0.scope(), filter, limit, offset).await
    }

    /// Open findings by rule and by a region column within a scope: (rule, region code, count).
    pub async fn counts(&self, by: ducha_domain::RegionLevel) -> Result<Vec<(String, String, i64)>, StorageError> {
        counts(self.0.db(), self.0.scope(), by).await
    }

    /// The latest run within a scope's region (or the whole registry).
    pub async fn latest_run(&self) -> Result<Option<(i64, DateTime<Utc>, RunSummary)>, StorageError> {
        latest_run(self.0.db()).await
    }

    /// Exempt a finding judged a false alarm (district or city office), with a reason. It stays out of
    /// later runs until its facts (its message) change; see `exemption_basis` for rules whose counts
    /// move by themselves.
    pub async fn exempt(&self, finding_id: i64, reason: &str) -> Result<(), StorageError> {
        exempt(self.0.db(), self.0.actor(), finding_id, reason).await
    }
}

impl Checks<'_> {
    /// Re-check households in scope now (what a save does after it commits), in a transaction
    /// of its own; for the benchmark that times the re-check alone.
    pub async fn recheck(&self, household_ids: &[i64]) -> Result<RunSummary, StorageError> {
        let db = self.0.db();
        let ids = crate::registry::in_scope(db, self.0.scope(), household_ids).await?;
        let tx = self.0.write().await?;
        let s = recheck(&tx, &ids).await?;
        tx.commit().await?;
        Ok(s)
    }
}

/// Whether `inner` lies within `outer`.
fn within(outer: &Scope, inner: &Scope) -> bool {
    match (outer, inner) {
        (Scope::All, _) => true,
        (Scope::Region(o), Scope::Region(i)) => i.as_str().starts_with(o.as_str()),
        (Scope::Region(_), Scope::All) => false,
    }
}
