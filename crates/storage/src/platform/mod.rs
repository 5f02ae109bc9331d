//! Town platforms in the database: postings of cadres to towns with their check-ins, and the
//! designated medical institutions. Every write is scoped, audited, and re-checks the platform
//! rules of the town (or district) it touches inside its transaction.

use chrono::{NaiveDate, Utc};
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::checks::AuditParams;
use ducha_domain::labelled::Labelled;
use ducha_domain::platform::{Institution, InstitutionLevel, Posting, PostingFacts, check_in_refusal};
use ducha_domain::region::{RegionKind, RegionLevel};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::Serialize;

pub mod offices;

use crate::audit::AuditTxn;
use crate::registry::write::field_error;
use crate::sheet_plan::{RosterPlan, RosterStep};
use crate::{Db, StorageError};

/// Rows within a scope, as SQL over a table with `district_code` and (optionally) `town_code`.
fn scope_cond(scope: &Scope, alias: &str, n: usize) -> (String, Vec<Value>) {
    match scope {
        Scope::All => ("1 = 1".into(), vec![]),
        Scope::Region(code) => match code.level() {
            RegionLevel::City => (format!("{alias}.district_code LIKE ${n}"), vec![format!("{code}%").into()]),
            RegionLevel::District => (format!("{alias}.district_code = ${n}"), vec![code.as_str().into()]),
            RegionLevel::Town => (format!("{alias}.town_code = ${n}"), vec![code.as_str().into()]),
            // Postings and institutions belong to towns and districts: nothing lies within a village.
            RegionLevel::Village => ("1 = 0".into(), vec![]),
        },
    }
}

/// Who may post cadres and record institutions: the district and city offices.
fn manages(role: Role) -> bool {
    role.manages_platform()
}

/// Who may record a check-in: the offices (the town office keeps the attendance sheet).
fn records_attendance(role: Role) -> bool {
    role.edits_registry()
}

/// A posting as listed: the posting, its town, and its attendance this year.
#[derive(Debug, Clone, Serialize)]
pub struct PostingRow {
    pub id: i64,
    pub posting: Posting,
    pub town_name: String,
    pub district_code: String,
    pub days_present: i64,
    pub expected_days: i64,
    pub rate_percent: Option<i64>,
    pub last_check_in: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckIn {
    pub id: i64,
    pub on_date: NaiveDate,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub recorded_by: String,
}

fn posting_of(r: &QueryResult) -> Result<(i64, Posting), StorageError> {
    Ok((
        r.try_get("", "id")?,
        Posting {
            name: r.try_get("", "name")?,
            unit: r.try_get("", "unit")?,
            town_code: r.try_get("", "town_code")?,
            full_time: r.try_get("", "full_time")?,
            started_on: r.try_get("", "started_on")?,
            ended_on: r.try_get("", "ended_on")?,
        },
    ))
}

/// The postings within a scope (optionally one), with days present in `year` up to `as_of`.
async fn posting_facts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    only: Option<i64>,
    year: i32,
    as_of: NaiveDate,
) -> Result<Vec<(PostingFacts, Option<NaiveDate>)>, StorageError> {
    let (cond, mut values) = scope_cond(scope, "p", 3);
    let (from, to) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31).map(|d| d.min(as_of)));
    let mut sql = format!(
        "SELECT p.id AS id, p.name AS name, p.unit AS unit, p.town_code AS town_code, p.full_time AS full_time, \
         p.started_on AS started_on, p.ended_on AS ended_on, \
         (SELECT COUNT(*) FROM attendance a WHERE a.posting_id = p.id AND a.workday AND a.on_date >= $1 AND a.on_date <= $2) AS days, \
         (SELECT MAX(a.on_date) FROM attendance a WHERE a.posting_id = p.id) AS last_day \
         FROM postings p WHERE {cond}"
    );
    let mut all = vec![from.into(), to.into()];
    all.append(&mut values);
    if let Some(id) = only {
        all.push(id.into());
        sql = format!("{sql} AND p.id = ${}", all.len());
    }
    sql.push_str(" ORDER BY p.town_code, p.id");
    let mut out = Vec::new();
    for r in c.query_all_raw(db.stmt(&sql, all)).await? {
        let (id, posting) = posting_of(&r)?;
        let days_present: i64 = r.try_get("", "days")?;
        out.push((PostingFacts { id, posting, days_present }, r.try_get("", "last_day")?));
    }
    Ok(out)
}

/// The postings within a scope, for the list page, the API and the export.
pub async fn postings(db: &Db, scope: &Scope) -> Result<Vec<PostingRow>, StorageError> {
    rows(db, scope, None).await
}

async fn rows(db: &Db, scope: &Scope, only: Option<i64>) -> Result<Vec<PostingRow>, StorageError> {
    let (year, as_of) = crate::checks::current(db).await?;
    let tree = crate::regions::tree(db).await?;
    Ok(posting_facts(db, db.conn(), scope, only, year, as_of)
        .await?
        .into_iter()
        .map(|(f, last)| PostingRow {
            id: f.id,
            town_name: tree.get(&f.posting.town_code).map(|r| r.name.clone()).unwrap_or_default(),
            district_code: f.posting.town_code.get(..6).unwrap_or_default().to_string(),
            days_present: f.days_present,
            expected_days: f.expected_days(year, as_of),
            rate_percent: f.rate_percent(year, as_of),
            last_check_in: last,
            posting: f.posting,
        })
        .collect())
}

/// One posting with its check-ins (newest first); `None` outside the scope.
pub async fn posting(db: &Db, scope: &Scope, id: i64) -> Result<Option<(PostingRow, Vec<CheckIn>)>, StorageError> {
    let Some(row) = rows(db, scope, Some(id)).await?.pop() else { return Ok(None) };
    let list = db
        .conn()
        .query_all_raw(db.stmt(
            "SELECT id, on_date, place, latitude, longitude, recorded_by FROM attendance WHERE posting_id = $1 ORDER BY on_date DESC",
            vec![id.into()],
        ))
        .await?
        .iter()
        .map(|r| {
            Ok(CheckIn {
                id: r.try_get("", "id")?,
                on_date: r.try_get("", "on_date")?,
                place: r.try_get("", "place")?,
                latitude: r.try_get("", "latitude")?,
                longitude: r.try_get("", "longitude")?,
                recorded_by: r.try_get("", "recorded_by")?,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(Some((row, list)))
}

/// Post a cadre to a town of the user's district (district or city office).
pub async fn add_posting(db: &Db, actor: &Actor, p: &Posting) -> Result<i64, StorageError> {
    if !actor.scope.contains(&p.town_code) {
        return Err(field_error("town_code", "只能向本辖区的镇（街）派驻干部".into()));
    }
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能派驻干部（由市(区)扶贫办登记）", actor.role)));
    }
    match crate::regions::get(db, &p.town_code).await? {
        Some(r) if r.level == RegionLevel::Town => {}
        _ => return Err(field_error("town_code", format!("“{}”不是镇（街）的区划代码", p.town_code))),
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id = insert_posting(db, tx.conn(), p).await?;
    tx.record::<(), _>("posting", id, Some(&p.town_code), "create", None, Some(p)).await?;
    tx.region_changed(&p.town_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The posting row itself (the checked write above, and the demo's loading).
pub(crate) async fn insert_posting<C: ConnectionTrait>(db: &Db, c: &C, p: &Posting) -> Result<i64, StorageError> {
    let row = c
        .query_one_raw(db.stmt(
            "INSERT INTO postings (name, unit, town_code, district_code, full_time, started_on, ended_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            vec![
                p.name.clone().into(),
                p.unit.clone().into(),
                p.town_code.clone().into(),
                p.town_code.get(..6).unwrap_or_default().to_string().into(),
                p.full_time.into(),
                p.started_on.into(),
                p.ended_on.into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("派驻记录未能写入".into()))?;
    Ok(row.try_get("", "id")?)
}

/// End a posting on a date (the cadre went back to the unit); check-ins after it are refused.
pub async fn end_posting(db: &Db, actor: &Actor, id: i64, ended_on: NaiveDate) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, before) = scoped_posting(&tx, actor, id).await?;
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能结束派驻", actor.role)));
    }
    if ended_on < before.started_on {
        return Err(field_error("ended_on", format!("结束日期 {ended_on} 早于派驻开始日期 {}", before.started_on)));
    }
    let later: i64 = tx
        .conn()
        .query_one_raw(db.stmt(
            "SELECT COUNT(*) AS n FROM attendance WHERE posting_id = $1 AND on_date > $2",
            vec![id.into(), ended_on.into()],
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    if later > 0 {
        return Err(field_error(
            "ended_on",
            format!("{ended_on} 之后还有 {later} 次签到，结束日期不能早于最后一次签到"),
        ));
    }
    tx.conn()
        .execute_raw(db.stmt("UPDATE postings SET ended_on = $1 WHERE id = $2", vec![ended_on.into(), id.into()]))
        .await?;
    let after = Posting { ended_on: Some(ended_on), ..before.clone() };
    tx.record("posting", id, Some(&before.town_code), "update", Some(&before), Some(&after)).await?;
    tx.region_changed(&before.town_code);
    crate::scoped::commit(tx).await?;
    Ok(())
}

async fn scoped_posting(tx: &AuditTxn<'_>, actor: &Actor, id: i64) -> Result<(i64, Posting), StorageError> {
    let row = tx
        .conn()
        .query_one_raw(tx.db().stmt(
            "SELECT id, name, unit, town_code, full_time, started_on, ended_on FROM postings WHERE id = $1",
            vec![id.into()],
        ))
        .await?
        .ok_or(StorageError::NotFound)?;
    let found = posting_of(&row)?;
    if !actor.scope.contains(&found.1.town_code) {
        return Err(StorageError::NotFound);
    }
    Ok(found)
}

/// Where a check-in was made, if the phone gave it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Place {
    pub text: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Record that the posted cadre was on post on a day. Refused for a day outside the posting, a
/// day to come, or a day already recorded.
pub async fn check_in(
    db: &Db,
    actor: &Actor,
    posting_id: i64,
    on: NaiveDate,
    place: &Place,
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, p) = scoped_posting(&tx, actor, posting_id).await?;
    if !records_attendance(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记驻点考勤", actor.role)));
    }
    if let Some(why) = check_in_refusal(&p, on, chrono::Local::now().date_naive()) {
        return Err(field_error("on_date", why));
    }
    if let (Some(lat), Some(lng)) = (place.latitude, place.longitude)
        && !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng))
    {
        return Err(field_error("latitude", format!("位置坐标不正确（纬度 {lat}，经度 {lng}）")));
    }
    let dup = tx
        .conn()
        .query_one_raw(db.stmt(
            "SELECT id FROM attendance WHERE posting_id = $1 AND on_date = $2",
            vec![posting_id.into(), on.into()],
        ))
        .await?;
    if dup.is_some() {
        return Err(field_error("on_date", format!("{} {on} 已经签到，不重复登记", p.name)));
    }
    let row = tx
        .conn()
        .query_one_raw(db.stmt(
            "INSERT INTO attendance (posting_id, on_date, workday, place, latitude, longitude, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![
                posting_id.into(),
                on.into(),
                ducha_domain::platform::is_workday(on).into(),
                place.text.clone().filter(|t| !t.trim().is_empty()).into(),
                place.latitude.into(),
                place.longitude.into(),
                actor.username.clone().into(),
                Utc::now().into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("签到未能写入".into()))?;
    let id: i64 = row.try_get("", "id")?;
    let after = serde_json::json!({ "posting": posting_id, "name": p.name, "on_date": on, "place": place.text });
    tx.record::<(), _>("attendance", id, Some(&p.town_code), "create", None, Some(&after)).await?;
    tx.region_changed(&p.town_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Import an attendance sheet: every row is checked first (the cadre found by name among the
/// postings of the named town in scope, the day within the posting, not ahead); a day already
/// recorded is unchanged, a day given twice counts once; with `write` and no problem, all are
/// recorded in one transaction, each audited, and the towns re-checked.
pub async fn import_check_ins(
    db: &Db,
    actor: &Actor,
    days: &[ducha_domain::platform::IncomingCheckIn],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    if !records_attendance(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记驻点考勤", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (year, as_of) = crate::checks::current_in(db, tx.conn()).await?;
    let postings = posting_facts(db, tx.conn(), &actor.scope, None, year, as_of).await?;
    let today = chrono::Local::now().date_naive();
    let mut summary = crate::help::store::HelpImportSummary::default();
    let mut problems = Vec::new();
    let mut todo: Vec<(i64, &ducha_domain::platform::IncomingCheckIn)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in days {
        // The sheet's town was resolved within the scope; checked again here all the same.
        if !actor.scope.contains(&d.town_code) {
            problems.push(ImportProblem {
                row: d.row, field: "镇（街）", message: "该镇（街）不在您的辖区内".into()
            });
            continue;
        }
        let town: Vec<&PostingFacts> =
            postings.iter().map(|(f, _)| f).filter(|f| f.posting.town_code == d.town_code).collect();
        let f = match ducha_domain::platform::posting_on(&town, &d.name, d.unit.as_deref(), d.on, today) {
            Ok(f) => f,
            Err((field, message)) => {
                problems.push(ImportProblem { row: d.row, field, message });
                continue;
            }
        };
        if !seen.insert((f.id, d.on)) {
            continue;
        }
        let already = tx
            .conn()
            .query_one_raw(db.stmt(
                "SELECT id FROM attendance WHERE posting_id = $1 AND on_date = $2",
                vec![f.id.into(), d.on.into()],
            ))
            .await?;
        if already.is_some() {
            summary.unchanged += 1;
        } else {
            summary.new += 1;
            todo.push((f.id, d));
        }
    }
    if !write || !problems.is_empty() {
        return Ok((summary, problems));
    }
    let mut towns = std::collections::BTreeSet::new();
    for (posting_id, d) in todo {
        let town = d.town_code.clone();
        let row = tx
            .conn()
            .query_one_raw(db.stmt(
                "INSERT INTO attendance (posting_id, on_date, workday, place, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                vec![
                    posting_id.into(),
                    d.on.into(),
                    ducha_domain::platform::is_workday(d.on).into(),
                    d.place.clone().into(),
                    actor.username.clone().into(),
                    Utc::now().into(),
                ],
            ))
            .await?
            .ok_or_else(|| StorageError::Rejected("签到未能写入".into()))?;
        let id: i64 = row.try_get("", "id")?;
        let after = serde_json::json!({ "posting": posting_id, "name": d.name, "on_date": d.on, "place": d.place, "import_row": d.row });
        tx.record::<(), _>("attendance", id, Some(&town), "create", None, Some(&after)).await?;
        towns.insert(town);
    }
    for town in towns {
        tx.region_changed(&town);
    }
    crate::scoped::commit(tx).await?;
    Ok((summary, problems))
}

/// Attendance of a region's postings: how many, how many full-time, how many without a single
/// check-in, and days present against working days.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttendanceSummary {
    pub code: String,
    pub name: String,
    pub postings: i64,
    pub full_time: i64,
    pub on_paper: i64,
    pub days_present: i64,
    pub expected_days: i64,
    pub rate_percent: Option<i64>,
}

/// The level a scope's attendance is summed by: districts for the city, towns below it.
pub fn summary_level(scope: &Scope) -> RegionLevel {
    match scope.level() {
        None | Some(RegionLevel::City) => RegionLevel::District,
        _ => RegionLevel::Town,
    }
}

/// Attendance by district (or, within a district, by town), from the postings within a scope.
pub async fn attendance_by_region(
    db: &Db,
    scope: &Scope,
    level: RegionLevel,
) -> Result<Vec<AttendanceSummary>, StorageError> {
    let tree = crate::regions::tree(db).await?;
    let width = if level == RegionLevel::District { 6 } else { 9 };
    let mut out: Vec<AttendanceSummary> = Vec::new();
    for row in postings(db, scope).await? {
        let code = row.posting.town_code.get(..width).unwrap_or_default().to_string();
        let i = match out.iter().position(|s| s.code == code) {
            Some(i) => i,
            None => {
                let name = tree.get(&code).map(|r| r.name.clone()).unwrap_or_default();
                out.push(AttendanceSummary { code, name, ..Default::default() });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        if row.expected_days == 0 {
            continue; // not on post this year
        }
        s.postings += 1;
        s.full_time += i64::from(row.posting.full_time);
        s.on_paper += i64::from(row.days_present == 0);
        s.days_present += row.days_present;
        s.expected_days += row.expected_days;
    }
    out.retain(|s| s.postings > 0);
    for s in &mut out {
        s.rate_percent = (s.expected_days > 0).then(|| (s.days_present * 100 / s.expected_days).min(100));
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// A designated medical institution as listed.
#[derive(Debug, Clone, Serialize)]
pub struct InstitutionRow {
    pub id: i64,
    pub institution: Institution,
    pub district_name: String,
}

fn institution_of(r: &QueryResult) -> Result<(i64, Institution), StorageError> {
    let level: String = r.try_get("", "level")?;
    Ok((
        r.try_get("", "id")?,
        Institution {
            name: r.try_get("", "name")?,
            district_code: r.try_get("", "district_code")?,
            level: InstitutionLevel::parse(&level).map_err(|e| StorageError::Rejected(e.to_string()))?,
            one_stop_online: r.try_get("", "one_stop_online")?,
            online_since: r.try_get("", "online_since")?,
        },
    ))
}

/// Institutions are a district's: a town's user sees none (the district office keeps them).
fn institution_scope(scope: &Scope) -> Option<(String, Vec<Value>)> {
    match scope {
        Scope::Region(code) if matches!(code.level(), RegionLevel::Town | RegionLevel::Village) => None,
        _ => Some(scope_cond(scope, "i", 1)),
    }
}

async fn institution_list<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
) -> Result<Vec<(i64, Institution)>, StorageError> {
    let Some((cond, values)) = institution_scope(scope) else { return Ok(vec![]) };
    let sql = format!(
        "SELECT i.id AS id, i.name AS name, i.district_code AS district_code, i.level AS level, \
         i.one_stop_online AS one_stop_online, i.online_since AS online_since FROM medical_institutions i \
         WHERE {cond} ORDER BY i.district_code, i.level DESC, i.id"
    );
    c.query_all_raw(db.stmt(&sql, values)).await?.iter().map(institution_of).collect()
}

pub async fn institutions(db: &Db, scope: &Scope) -> Result<Vec<InstitutionRow>, StorageError> {
    let tree = crate::regions::tree(db).await?;
    Ok(institution_list(db, db.conn(), scope)
        .await?
        .into_iter()
        .map(|(id, i)| InstitutionRow {
            id,
            district_name: tree.get(&i.district_code).map(|r| r.name.clone()).unwrap_or_default(),
            institution: i,
        })
        .collect())
}

/// One-stop settlement online rate by district.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OnlineSummary {
    pub code: String,
    pub name: String,
    pub institutions: i64,
    pub online: i64,
    pub rate_percent: Option<i64>,
}

pub async fn online_by_district(db: &Db, scope: &Scope) -> Result<Vec<OnlineSummary>, StorageError> {
    let (_, as_of) = crate::checks::current(db).await?;
    let mut out: Vec<OnlineSummary> = Vec::new();
    for row in institutions(db, scope).await? {
        let i = &row.institution;
        let s = match out.iter_mut().position(|s| s.code == i.district_code) {
            Some(k) => &mut out[k],
            None => {
                out.push(OnlineSummary {
                    code: i.district_code.clone(),
                    name: row.district_name.clone(),
                    ..Default::default()
                });
                out.last_mut().ok_or(StorageError::NotFound)?
            }
        };
        s.institutions += 1;
        s.online += i64::from(i.one_stop_online && i.online_since.is_none_or(|d| d <= as_of));
    }
    for s in &mut out {
        s.rate_percent = (s.institutions > 0).then(|| s.online * 100 / s.institutions);
    }
    Ok(out)
}

/// Record a designated institution of a district (district or city office).
pub async fn add_institution(db: &Db, actor: &Actor, i: &Institution) -> Result<i64, StorageError> {
    if !actor.scope.contains(&i.district_code) {
        return Err(field_error("district_code", "只能登记本辖区的定点医疗机构".into()));
    }
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记定点医疗机构", actor.role)));
    }
    match crate::regions::get(db, &i.district_code).await? {
        Some(r) if r.level == RegionLevel::District => {}
        _ => return Err(field_error("district_code", format!("“{}”不是市（区）的区划代码", i.district_code))),
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id = insert_institution(&mut tx, i).await?;
    tx.region_changed(&i.district_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The institution and its audit record, inside a transaction (the form and the import).
async fn insert_institution(tx: &mut AuditTxn<'_>, i: &Institution) -> Result<i64, StorageError> {
    let row = tx
        .conn()
        .query_one_raw(tx.db().stmt(
            "INSERT INTO medical_institutions (name, district_code, level, one_stop_online, online_since) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            vec![
                i.name.clone().into(),
                i.district_code.clone().into(),
                i.level.code().into(),
                i.one_stop_online.into(),
                i.online_since.into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("医疗机构未能写入".into()))?;
    let id: i64 = row.try_get("", "id")?;
    tx.record::<(), _>("medical_institution", id, Some(&i.district_code), "create", None, Some(i)).await?;
    Ok(id)
}

/// Change an institution (typically: it went online on a date).
pub async fn update_institution(db: &Db, actor: &Actor, id: i64, i: &Institution) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let row = tx
        .conn()
        .query_one_raw(db.stmt(
            "SELECT id, name, district_code, level, one_stop_online, online_since FROM medical_institutions WHERE id = $1",
            vec![id.into()],
        ))
        .await?
        .ok_or(StorageError::NotFound)?;
    let (_, before) = institution_of(&row)?;
    if !actor.scope.contains(&before.district_code) {
        return Err(StorageError::NotFound);
    }
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能修改定点医疗机构", actor.role)));
    }
    if i.district_code != before.district_code {
        return Err(field_error("district_code", "医疗机构的所在市（区）不能修改".into()));
    }
    change_institution(&mut tx, id, &before, i).await?;
    tx.region_changed(&before.district_code);
    crate::scoped::commit(tx).await?;
    Ok(())
}

async fn change_institution(
    tx: &mut AuditTxn<'_>,
    id: i64,
    before: &Institution,
    i: &Institution,
) -> Result<(), StorageError> {
    tx.conn()
        .execute_raw(tx.db().stmt(
            "UPDATE medical_institutions SET name = $1, level = $2, one_stop_online = $3, online_since = $4 WHERE id = $5",
            vec![i.name.clone().into(), i.level.code().into(), i.one_stop_online.into(), i.online_since.into(), id.into()],
        ))
        .await?;
    tx.record("medical_institution", id, Some(&before.district_code), "update", Some(before), Some(i)).await?;
    Ok(())
}

/// Import the designated institutions of districts in scope: one known by name and district is
/// updated (whether it settles in one stop, since when, its level), a new one added; checked
/// whole, written in one transaction with each change audited, the districts re-checked.
pub async fn import_institutions(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::platform::IncomingInstitution],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记定点医疗机构", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut plan = RosterPlan::new();
    for g in incoming {
        let i = &g.institution;
        if !actor.scope.contains(&i.district_code) {
            plan.refuse(g.row, "市（区）", "不在您的辖区内".into());
            continue;
        }
        if !plan.first((i.name.clone(), i.district_code.clone()), g.row, "机构名称", "家机构") {
            continue;
        }
        let found = tx
            .conn()
            .query_one_raw(db.stmt(
                "SELECT id, name, district_code, level, one_stop_online, online_since FROM medical_institutions \
                 WHERE name = $1 AND district_code = $2",
                vec![i.name.clone().into(), i.district_code.clone().into()],
            ))
            .await?;
        plan.compare(found.map(|r| institution_of(&r)).transpose()?, i);
    }
    if !write || !plan.problems.is_empty() {
        return Ok((plan.summary, plan.problems));
    }
    let mut districts = std::collections::BTreeSet::new();
    for step in plan.steps {
        match step {
            RosterStep::New(i) => {
                insert_institution(&mut tx, &i).await?;
                districts.insert(i.district_code);
            }
            RosterStep::Change(id, before, i) => {
                change_institution(&mut tx, id, &before, &i).await?;
                districts.insert(i.district_code);
            }
        }
    }
    for d in districts {
        tx.region_changed(&d);
    }
    crate::scoped::commit(tx).await?;
    Ok((plan.summary, plan.problems))
}

/// Import a roster of posted cadres (派驻干部名单) for towns in scope: a posting known by cadre,
/// unit, town and start is updated (full-time or not, its end, which cannot come before its last
/// check-in), a new one added; checked whole, written in one transaction, each audited.
pub async fn import_postings(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::platform::IncomingPosting],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能派驻干部（由市(区)扶贫办登记）", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut plan = RosterPlan::new();
    for g in incoming {
        let p = &g.posting;
        if !actor.scope.contains(&p.town_code) {
            plan.refuse(g.row, "镇（街）", "不在您的辖区内".into());
            continue;
        }
        let key = (p.name.clone(), p.unit.clone(), p.town_code.clone(), p.started_on);
        if !plan.first(key, g.row, "姓名", "次派驻") {
            continue;
        }
        let found = tx
            .conn()
            .query_one_raw(db.stmt(
                "SELECT id, name, unit, town_code, full_time, started_on, ended_on FROM postings \
                 WHERE name = $1 AND unit = $2 AND town_code = $3 AND started_on = $4",
                vec![p.name.clone().into(), p.unit.clone().into(), p.town_code.clone().into(), p.started_on.into()],
            ))
            .await?;
        let found = found.map(|r| posting_of(&r)).transpose()?;
        // A blank 结束日期 leaves an end recorded on the page as it is.
        let kept = found.as_ref().and_then(|(_, before)| before.ended_on).filter(|_| p.ended_on.is_none());
        let p = &Posting { ended_on: p.ended_on.or(kept), ..p.clone() };
        // A posting ended by the sheet: not before its last check-in.
        if let (Some((id, _)), Some(end)) = (&found, p.ended_on) {
            let later: i64 = tx
                .conn()
                .query_one_raw(db.stmt(
                    "SELECT COUNT(*) AS n FROM attendance WHERE posting_id = $1 AND on_date > $2",
                    vec![(*id).into(), end.into()],
                ))
                .await?
                .map(|r| r.try_get("", "n"))
                .transpose()?
                .unwrap_or(0);
            if later > 0 {
                plan.refuse(g.row, "结束日期", format!("{end} 之后还有 {later} 次签到，结束日期不能早于最后一次签到"));
                continue;
            }
        }
        plan.compare(found, p);
    }
    if !write || !plan.problems.is_empty() {
        return Ok((plan.summary, plan.problems));
    }
    let mut towns = std::collections::BTreeSet::new();
    for step in plan.steps {
        match step {
            RosterStep::New(p) => {
                let id = insert_posting(db, tx.conn(), &p).await?;
                tx.record::<(), _>("posting", id, Some(&p.town_code), "create", None, Some(&p)).await?;
                towns.insert(p.town_code);
            }
            RosterStep::Change(id, before, p) => {
                tx.conn()
                    .execute_raw(db.stmt(
                        "UPDATE postings SET full_time = $1, ended_on = $2 WHERE id = $3",
                        vec![p.full_time.into(), p.ended_on.into(), id.into()],
                    ))
                    .await?;
                tx.record("posting", id, Some(&p.town_code), "update", Some(&before), Some(&p)).await?;
                towns.insert(p.town_code);
            }
        }
    }
    for t in towns {
        tx.region_changed(&t);
    }
    crate::scoped::commit(tx).await?;
    Ok((plan.summary, plan.problems))
}

/// The platform rules' findings within a scope: every posting, every town without a cadre on
/// post (streets and towns; special areas have no town office), every institution.
pub(crate) async fn findings<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    p: &AuditParams,
) -> Result<Vec<ducha_domain::checks::Finding>, StorageError> {
    use ducha_domain::platform::{institution_findings, posting_findings, town_without_posting};
    let mut out = Vec::new();
    let postings = posting_facts(db, c, scope, None, p.year, p.as_of).await?;
    for (f, _) in &postings {
        out.extend(posting_findings(f, p));
    }
    let tree = crate::regions::tree_in(c).await?;
    let towns: Vec<_> = match scope {
        Scope::All => tree.descendants("", Some(RegionLevel::Town)),
        Scope::Region(code) if code.level() == RegionLevel::Village => vec![],
        Scope::Region(code) if code.level() == RegionLevel::Town => tree.get(code.as_str()).into_iter().collect(),
        Scope::Region(code) => tree.descendants(code.as_str(), Some(RegionLevel::Town)),
    };
    for town in towns.into_iter().filter(|t| t.kind != RegionKind::SpecialArea) {
        let on_post = postings
            .iter()
            .filter(|(f, _)| f.posting.town_code == town.code.as_str())
            .filter(|(f, _)| f.posting.started_on <= p.as_of && f.posting.ended_on.is_none_or(|e| e >= p.as_of))
            .count();
        out.extend(town_without_posting(town.code.as_str(), &town.name, on_post));
    }
    for (id, i) in institution_list(db, c, scope).await? {
        out.extend(institution_findings(id, &i, p));
    }
    out.extend(offices::findings(db, c, scope, p).await?);
    Ok(out)
}
