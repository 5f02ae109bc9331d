//! Attendance of posted cadres: a check-in (签到) on a day, the attendance sheet that loads
//! them, and attendance summed by region.

use chrono::{NaiveDate, Utc};
use ducha_domain::access::{Actor, Scope};
use ducha_domain::platform::{PostingFacts, check_in_refusal};
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::postings::{posting_facts, postings, scoped_posting};
use super::records_attendance;
use crate::audit::AuditTxn;
use crate::help::store::SheetOutcome;
use crate::registry::write::field_error;
use crate::{Db, StorageError};

/// A check-in as a posting's page lists it.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct CheckIn {
    pub id: i64,
    pub on_date: NaiveDate,
    pub place: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub recorded_by: String,
}

/// The id a `RETURNING id` gives back.
#[derive(FromQueryResult)]
struct Inserted {
    id: i64,
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
async fn check_in(
    db: &Db,
    actor: &Actor,
    posting_id: i64,
    on: NaiveDate,
    place: &Place,
    today: NaiveDate,
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, p) = scoped_posting(&tx, actor, posting_id).await?;
    if !records_attendance(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记驻点考勤", actor.role)));
    }
    if let Some(why) = check_in_refusal(&p, on, today) {
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
    let id = Inserted::find_by_statement(db.stmt(
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
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("签到未能写入".into()))?
    .id;
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
async fn import_check_ins(
    db: &Db,
    actor: &Actor,
    days: &[ducha_domain::platform::IncomingCheckIn],
    write: bool,
    today: NaiveDate,
) -> Result<SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    if !records_attendance(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记驻点考勤", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (year, as_of) = crate::settings::check_period(db, tx.conn(), today).await?;
    let postings = posting_facts(db, tx.conn(), &actor.scope, None, year, as_of).await?;
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
        let id = Inserted::find_by_statement(db.stmt(
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
        .one(tx.conn())
        .await?
        .ok_or_else(|| StorageError::Corrupt("签到未能写入".into()))?
        .id;
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
async fn attendance_by_region(
    db: &Db,
    scope: &Scope,
    level: RegionLevel,
    today: NaiveDate,
) -> Result<Vec<AttendanceSummary>, StorageError> {
    let tree = crate::regions::tree(db).await?;
    let width = if level == RegionLevel::District { 6 } else { 9 };
    let mut out: Vec<AttendanceSummary> = Vec::new();
    for row in postings(db, scope, today).await? {
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

/// Attendance as one actor sees it (`s.platform().attendance()`).
pub struct Attendance<'a>(pub(crate) &'a crate::Scoped);

impl Attendance<'_> {
    /// Record that the cadre of a posting in scope was on post on a day. Refused for a day
    /// outside the posting, a day to come, or a day already recorded.
    pub async fn check_in(&self, posting_id: i64, on: NaiveDate, place: &Place) -> Result<i64, StorageError> {
        check_in(self.0.db(), self.0.actor(), posting_id, on, place, self.0.today()).await
    }

    /// Import an attendance sheet (see `import_check_ins`).
    pub async fn import(
        &self,
        days: &[ducha_domain::platform::IncomingCheckIn],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_check_ins(self.0.db(), self.0.actor(), days, write, self.0.today()).await
    }

    /// The level the scope's attendance is summed by: districts for the city, towns below it.
    pub fn level(&self) -> RegionLevel {
        summary_level(self.0.scope())
    }

    /// Attendance by district (or, within a district, by town), from the postings within the scope.
    pub async fn by_region(&self, level: RegionLevel) -> Result<Vec<AttendanceSummary>, StorageError> {
        attendance_by_region(self.0.db(), self.0.scope(), level, self.0.today()).await
    }
}
