//! Cadres posted to towns (派驻干部): the postings within a scope with their attendance this
//! year, a posting's entry and end, and the roster sheet that loads them.

use chrono::NaiveDate;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::platform::{Posting, PostingFacts};
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::attendance::CheckIn;
use super::{POSTINGS, manages};
use crate::audit::AuditTxn;
use crate::help::store::SheetOutcome;
use crate::registry::write::field_error;
use crate::scope::filter;
use crate::sheet_plan::{RosterPlan, RosterStep};
use crate::{Db, StorageError};

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

/// A posting's row: its id and the posting.
#[derive(FromQueryResult)]
struct PostingRecord {
    id: i64,
    name: String,
    unit: String,
    town_code: String,
    full_time: bool,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
}

impl PostingRecord {
    fn split(self) -> (i64, Posting) {
        let PostingRecord { id, name, unit, town_code, full_time, started_on, ended_on } = self;
        (id, Posting { name, unit, town_code, full_time, started_on, ended_on })
    }
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// The postings within a scope (optionally one), with days present in `year` up to `as_of`.
pub(super) async fn posting_facts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    only: Option<i64>,
    year: i32,
    as_of: NaiveDate,
) -> Result<Vec<(PostingFacts, Option<NaiveDate>)>, StorageError> {
    let (cond, mut values) = filter(scope, POSTINGS, 3);
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
    #[derive(FromQueryResult)]
    struct Row {
        #[sea_orm(nested)]
        posting: PostingRecord,
        days: i64,
        last_day: Option<NaiveDate>,
    }
    let rows = Row::find_by_statement(db.stmt(&sql, all)).all(c).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (id, posting) = r.posting.split();
            (PostingFacts { id, posting, days_present: r.days }, r.last_day)
        })
        .collect())
}

/// The postings within a scope, for the list page, the API and the export.
pub(super) async fn postings(db: &Db, scope: &Scope, today: NaiveDate) -> Result<Vec<PostingRow>, StorageError> {
    rows(db, scope, None, today).await
}

async fn rows(db: &Db, scope: &Scope, only: Option<i64>, today: NaiveDate) -> Result<Vec<PostingRow>, StorageError> {
    let (year, as_of) = crate::settings::check_period(db, db.conn(), today).await?;
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
async fn posting(
    db: &Db,
    scope: &Scope,
    id: i64,
    today: NaiveDate,
) -> Result<Option<(PostingRow, Vec<CheckIn>)>, StorageError> {
    let Some(row) = rows(db, scope, Some(id), today).await?.pop() else { return Ok(None) };
    let list = CheckIn::find_by_statement(db.stmt(
        "SELECT id, on_date, place, latitude, longitude, recorded_by FROM attendance WHERE posting_id = $1 ORDER BY on_date DESC",
        vec![id.into()],
    ))
    .all(db.conn())
    .await?;
    Ok(Some((row, list)))
}

/// Post a cadre to a town of the user's district (district or city office).
async fn add_posting(db: &Db, actor: &Actor, p: &Posting) -> Result<i64, StorageError> {
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
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let row = Inserted::find_by_statement(db.stmt(
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
    .one(c)
    .await?
    .ok_or_else(|| StorageError::Corrupt("派驻记录未能写入".into()))?;
    Ok(row.id)
}

/// End a posting on a date (the cadre went back to the unit); check-ins after it are refused.
async fn end_posting(db: &Db, actor: &Actor, id: i64, ended_on: NaiveDate) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, before) = scoped_posting(&tx, actor, id).await?;
    if !manages(actor.role) {
        return Err(StorageError::Forbidden(format!("“{}”角色不能结束派驻", actor.role)));
    }
    if ended_on < before.started_on {
        return Err(field_error("ended_on", format!("结束日期 {ended_on} 早于派驻开始日期 {}", before.started_on)));
    }
    let later: i64 = Count::find_by_statement(db.stmt(
        "SELECT COUNT(*) AS n FROM attendance WHERE posting_id = $1 AND on_date > $2",
        vec![id.into(), ended_on.into()],
    ))
    .one(tx.conn())
    .await?
    .map(|r| r.n)
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

pub(super) async fn scoped_posting(tx: &AuditTxn<'_>, actor: &Actor, id: i64) -> Result<(i64, Posting), StorageError> {
    let found = PostingRecord::find_by_statement(tx.db().stmt(
        "SELECT id, name, unit, town_code, full_time, started_on, ended_on FROM postings WHERE id = $1",
        vec![id.into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or(StorageError::NotFound)?
    .split();
    if !actor.scope.contains(&found.1.town_code) {
        return Err(StorageError::NotFound);
    }
    Ok(found)
}

/// Import a roster of posted cadres (派驻干部名单) for towns in scope: a posting known by cadre,
/// unit, town and start is updated (full-time or not, its end, which cannot come before its last
/// check-in), a new one added; checked whole, written in one transaction, each audited.
async fn import_postings(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::platform::IncomingPosting],
    write: bool,
) -> Result<SheetOutcome, StorageError> {
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
        let found = PostingRecord::find_by_statement(db.stmt(
            "SELECT id, name, unit, town_code, full_time, started_on, ended_on FROM postings \
             WHERE name = $1 AND unit = $2 AND town_code = $3 AND started_on = $4",
            vec![p.name.clone().into(), p.unit.clone().into(), p.town_code.clone().into(), p.started_on.into()],
        ))
        .one(tx.conn())
        .await?
        .map(PostingRecord::split);
        // A blank 结束日期 leaves an end recorded on the page as it is.
        let kept = found.as_ref().and_then(|(_, before)| before.ended_on).filter(|_| p.ended_on.is_none());
        let p = &Posting { ended_on: p.ended_on.or(kept), ..p.clone() };
        // A posting ended by the sheet: not before its last check-in.
        if let (Some((id, _)), Some(end)) = (&found, p.ended_on) {
            let later: i64 = Count::find_by_statement(db.stmt(
                "SELECT COUNT(*) AS n FROM attendance WHERE posting_id = $1 AND on_date > $2",
                vec![(*id).into(), end.into()],
            ))
            .one(tx.conn())
            .await?
            .map(|r| r.n)
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

/// Postings as one actor sees them (`s.platform().postings()`).
pub struct Postings<'a>(pub(crate) &'a crate::Scoped);

impl Postings<'_> {
    /// The postings within the scope, for the list page, the API and the export.
    pub async fn list(&self) -> Result<Vec<PostingRow>, StorageError> {
        postings(self.0.db(), self.0.scope(), self.0.today()).await
    }

    /// One posting with its check-ins (newest first); `None` outside the scope.
    pub async fn get(&self, id: i64) -> Result<Option<(PostingRow, Vec<CheckIn>)>, StorageError> {
        posting(self.0.db(), self.0.scope(), id, self.0.today()).await
    }

    /// Post a cadre to a town of the user's district (district or city office).
    pub async fn add(&self, p: &Posting) -> Result<i64, StorageError> {
        add_posting(self.0.db(), self.0.actor(), p).await
    }

    /// End a posting in scope on a date (the cadre went back to the unit); check-ins after it
    /// are refused.
    pub async fn end(&self, id: i64, ended_on: NaiveDate) -> Result<(), StorageError> {
        end_posting(self.0.db(), self.0.actor(), id, ended_on).await
    }

    /// Import a roster of posted cadres (派驻干部名单) for towns in scope (see `import_postings`).
    pub async fn import(
        &self,
        incoming: &[ducha_domain::platform::IncomingPosting],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_postings(self.0.db(), self.0.actor(), incoming, write).await
    }
}
