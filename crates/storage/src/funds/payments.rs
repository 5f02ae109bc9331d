//! Payments out of a project's budget (拨付), each with its vouchers, and the disbursement
//! ledger (拨付台账) that lists them.

use chrono::{NaiveDate, Utc};
use ducha_domain::access::Scope;
use ducha_domain::funds::payment_refusal;
use ducha_domain::money::Money;
use sea_orm::{FromQueryResult, Value};
use serde::Serialize;

use super::projects::{ProjectRow, row_in, state};
use super::{PROJECTS, VOUCHER, touched};
use crate::audit::AuditTxn;
use crate::campaigns::IdRow;
use crate::evidence::{self, EvidenceMeta, Upload};
use crate::registry::write::field_error;
use crate::scope::filter;
use crate::{Db, StorageError};

/// A payment as a project's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub id: i64,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub payee: String,
    pub vouchers: Vec<EvidenceMeta>,
}

/// Pay out for a project (district or city office): never without a project in implementation,
/// over its budget, or without a voucher.
async fn pay(
    s: &crate::Scoped,
    id: i64,
    amount: Money,
    paid_on: NaiveDate,
    payee: &str,
    vouchers: &[Upload],
) -> Result<i64, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    // Audited writes run one at a time (AuditTxn::begin takes the audit chain's head row): the
    // budget checked below is the one the payment is written against.
    let row = row_in(db, tx.conn(), &actor.scope, id).await?;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金拨付由市(区)扶贫办或市扶贫办登记".into()));
    }
    if payee.trim().is_empty() || payee.trim().chars().count() > 80 {
        return Err(field_error("payee", "请填写收款单位或个人（80 字以内）".into()));
    }
    let st = state(db, tx.conn(), &row).await?;
    if let Some((field, why)) = payment_refusal(&st, amount, !vouchers.is_empty(), paid_on, s.today()) {
        return Err(field_error(field, why));
    }
    let pid = insert_payment(&mut tx, &row, amount, paid_on, payee.trim(), vouchers).await?;
    touched(&mut tx, &row.place_code);
    crate::scoped::commit(tx).await?;
    Ok(pid)
}

/// The payment, its vouchers and its audit record, inside a transaction (the form and the import).
pub(super) async fn insert_payment(
    tx: &mut AuditTxn<'_>,
    row: &ProjectRow,
    amount: Money,
    paid_on: NaiveDate,
    payee: &str,
    vouchers: &[Upload],
) -> Result<i64, StorageError> {
    let db = tx.db();
    let username = tx.actor().username.clone();
    let pid = IdRow::find_by_statement(db.stmt(
        "INSERT INTO disbursements (project_id, paid_on, amount_fen, payee, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        vec![
            row.id.into(),
            paid_on.into(),
            amount.fen().into(),
            payee.to_string().into(),
            username.into(),
            Utc::now().into(),
        ],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("拨付未能写入".into()))?
    .id;
    for v in vouchers {
        evidence::attach_to(tx, VOUCHER, pid, None, &row.place_code, v).await?;
    }
    let after = serde_json::json!({ "project": row.id, "amount": amount, "paid_on": paid_on, "payee": payee });
    tx.record::<(), _>("disbursement", pid, Some(&row.place_code), "create", None, Some(&after)).await?;
    Ok(pid)
}

/// A payment as the disbursement ledger (拨付台账) lists it: the same columns the ledger import
/// reads, so that an exported ledger sent back is unchanged.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub project: String,
    pub town_code: String,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub payee: String,
    /// The names of its voucher files.
    pub vouchers: Vec<String>,
}

/// The check year's payments within a scope, by project and date.
async fn ledger(db: &Db, scope: &Scope, today: NaiveDate) -> Result<Vec<LedgerRow>, StorageError> {
    let (year, _) = crate::settings::check_period(db, db.conn(), today).await?;
    let (cond, values) = filter(scope, PROJECTS, 2);
    let mut all: Vec<Value> = vec![year.into()];
    all.extend(values);
    let sql = format!(
        "SELECT d.id AS id, p.name AS name, p.town_code AS town, d.paid_on AS paid_on, d.amount_fen AS amount, d.payee AS payee, \
         e.filename AS voucher FROM disbursements d JOIN projects p ON p.id = d.project_id \
         LEFT JOIN evidence e ON e.owner_kind = '{VOUCHER}' AND e.owner_id = d.id \
         WHERE p.year = $1 AND {cond} ORDER BY p.town_code, p.name, d.paid_on, d.id, e.id"
    );
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        name: String,
        town: String,
        paid_on: NaiveDate,
        amount: i64,
        payee: String,
        voucher: Option<String>,
    }
    let mut out: Vec<(i64, LedgerRow)> = Vec::new();
    for r in Row::find_by_statement(db.stmt(&sql, all)).all(db.conn()).await? {
        match out.last_mut() {
            Some((last, row)) if *last == r.id => row.vouchers.extend(r.voucher),
            _ => out.push((
                r.id,
                LedgerRow {
                    project: r.name,
                    town_code: r.town,
                    paid_on: r.paid_on,
                    amount: Money::from_fen(r.amount),
                    payee: r.payee,
                    vouchers: r.voucher.into_iter().collect(),
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, row)| row).collect())
}

/// Payments as one actor sees them (`s.funds().payments()`).
pub struct Payments<'a>(pub(crate) &'a crate::Scoped);

impl Payments<'_> {
    /// Pay out for a project in scope (district or city office): never without a project in
    /// implementation, over its budget, on a day to come, or without a voucher.
    pub async fn pay(
        &self,
        project_id: i64,
        amount: Money,
        paid_on: NaiveDate,
        payee: &str,
        vouchers: &[Upload],
    ) -> Result<i64, StorageError> {
        pay(self.0, project_id, amount, paid_on, payee, vouchers).await
    }

    /// The check year's payments within the scope, by project and date (the ledger's rows).
    pub async fn ledger(&self) -> Result<Vec<LedgerRow>, StorageError> {
        ledger(self.0.db(), self.0.scope(), self.0.today()).await
    }
}
