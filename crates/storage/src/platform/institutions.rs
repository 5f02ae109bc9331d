//! Designated medical institutions (定点医疗机构) of the districts, whether each settles in one
//! stop and since when, and the one-stop rate by district.

use chrono::NaiveDate;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::platform::{Institution, InstitutionLevel};
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::{INSTITUTIONS, manages};
use crate::audit::AuditTxn;
use crate::help::store::SheetOutcome;
use crate::registry::write::field_error;
use crate::scope::filter;
use crate::sheet_plan::{RosterPlan, RosterStep};
use crate::stored::Code;
use crate::{Db, StorageError};

/// A designated medical institution as listed.
#[derive(Debug, Clone, Serialize)]
pub struct InstitutionRow {
    pub id: i64,
    pub institution: Institution,
    pub district_name: String,
}

/// An institution's row: its id and the institution.
#[derive(FromQueryResult)]
struct InstitutionRecord {
    id: i64,
    name: String,
    district_code: String,
    level: Code<InstitutionLevel>,
    one_stop_online: bool,
    online_since: Option<NaiveDate>,
}

impl InstitutionRecord {
    fn split(self) -> (i64, Institution) {
        let InstitutionRecord { id, name, district_code, level, one_stop_online, online_since } = self;
        (id, Institution { name, district_code, level: level.0, one_stop_online, online_since })
    }
}

/// Institutions are a district's: a town's user sees none (the district office keeps them).
fn institution_scope(scope: &Scope) -> Option<(String, Vec<Value>)> {
    match scope {
        Scope::Region(code) if matches!(code.level(), RegionLevel::Town | RegionLevel::Village) => None,
        _ => Some(filter(scope, INSTITUTIONS, 1)),
    }
}

pub(super) async fn institution_list<C: ConnectionTrait>(
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
    Ok(InstitutionRecord::find_by_statement(db.stmt(&sql, values))
        .all(c)
        .await?
        .into_iter()
        .map(InstitutionRecord::split)
        .collect())
}

async fn institutions(db: &Db, scope: &Scope) -> Result<Vec<InstitutionRow>, StorageError> {
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

async fn online_by_district(db: &Db, scope: &Scope, today: NaiveDate) -> Result<Vec<OnlineSummary>, StorageError> {
    let (_, as_of) = crate::settings::check_period(db, db.conn(), today).await?;
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
async fn add_institution(db: &Db, actor: &Actor, i: &Institution) -> Result<i64, StorageError> {
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
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let id = Inserted::find_by_statement(tx.db().stmt(
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
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("医疗机构未能写入".into()))?
    .id;
    tx.record::<(), _>("medical_institution", id, Some(&i.district_code), "create", None, Some(i)).await?;
    Ok(id)
}

/// Change an institution (typically: it went online on a date).
async fn update_institution(db: &Db, actor: &Actor, id: i64, i: &Institution) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (_, before) = InstitutionRecord::find_by_statement(db.stmt(
        "SELECT id, name, district_code, level, one_stop_online, online_since FROM medical_institutions WHERE id = $1",
        vec![id.into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or(StorageError::NotFound)?
    .split();
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
async fn import_institutions(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::platform::IncomingInstitution],
    write: bool,
) -> Result<SheetOutcome, StorageError> {
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
        let found = InstitutionRecord::find_by_statement(db.stmt(
            "SELECT id, name, district_code, level, one_stop_online, online_since FROM medical_institutions \
             WHERE name = $1 AND district_code = $2",
            vec![i.name.clone().into(), i.district_code.clone().into()],
        ))
        .one(tx.conn())
        .await?;
        plan.compare(found.map(InstitutionRecord::split), i);
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

/// Institutions as one actor sees them (`s.platform().institutions()`).
pub struct Institutions<'a>(pub(crate) &'a crate::Scoped);

impl Institutions<'_> {
    /// The institutions of the districts in scope (none for a town's user).
    pub async fn list(&self) -> Result<Vec<InstitutionRow>, StorageError> {
        institutions(self.0.db(), self.0.scope()).await
    }

    /// One institution within the scope; `None` outside it.
    pub async fn get(&self, id: i64) -> Result<Option<InstitutionRow>, StorageError> {
        Ok(self.list().await?.into_iter().find(|r| r.id == id))
    }

    /// One-stop settlement online rate by district, on the check day.
    pub async fn online_by_district(&self) -> Result<Vec<OnlineSummary>, StorageError> {
        online_by_district(self.0.db(), self.0.scope(), self.0.today()).await
    }

    /// Record a designated institution of a district (district or city office).
    pub async fn add(&self, i: &Institution) -> Result<i64, StorageError> {
        add_institution(self.0.db(), self.0.actor(), i).await
    }

    /// Change an institution in scope (typically: it went online on a date).
    pub async fn update(&self, id: i64, i: &Institution) -> Result<(), StorageError> {
        update_institution(self.0.db(), self.0.actor(), id, i).await
    }

    /// Import the designated institutions of districts in scope (see `import_institutions`).
    pub async fn import(
        &self,
        incoming: &[ducha_domain::platform::IncomingInstitution],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_institutions(self.0.db(), self.0.actor(), incoming, write).await
    }
}
