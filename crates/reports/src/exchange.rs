//! Households in and out of the registry through the template: the import (read, check, plan,
//! and then write all or nothing) and the export (a filtered list in scope, in batches), shared
//! by the command line and the web pages.

use chrono::NaiveDate;
use ducha_domain::access::Actor;
use ducha_storage::registry::import::{self, ImportSummary};
use ducha_storage::registry::{self, HouseholdFilter};
use ducha_storage::{Db, StorageError, regions};

use crate::households::{self, CellError, ExportHousehold, Exporter, Parsed, header_of};
use crate::sheet::ReadError;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("无法写出 Excel 文件：{0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}

/// What an import found and, if it was committed, did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub parsed: Parsed,
    /// What writing would do (or did).
    pub summary: ImportSummary,
    /// Every error: the file's own and what the registry refuses, each at its row and column.
    pub errors: Vec<CellError>,
    pub committed: bool,
}

/// Read and check a file, and plan it against the registry, without writing.
pub async fn check(
    db: &Db,
    actor: &Actor,
    filename: &str,
    bytes: &[u8],
    today: NaiveDate,
) -> Result<ImportOutcome, ExchangeError> {
    let tree = regions::tree(db).await?;
    let parsed = households::parse(filename, bytes, &tree, today)?;
    let mut parsed = parsed;
    let plan = import::plan(db, actor, &parsed.households).await?;
    let at = |row: usize, field: &str, message: String| CellError {
        sheet: parsed.sheet.clone(),
        row,
        column: parsed.columns.get(field).cloned().unwrap_or_default(),
        header: header_of(field).to_string(),
        message,
    };
    let mut errors = parsed.errors.clone();
    errors.extend(plan.problems.into_iter().map(|p| at(p.row, p.field, p.message)));
    // A member's own problems refuse the import, unless the registry already holds that member
    // exactly so: then they are old, for the data checks to follow up, and only noted.
    let mut old = 0;
    for m in parsed.households.iter().flat_map(|h| h.members.iter()) {
        if plan.unchanged_rows.contains(&m.row) {
            old += usize::from(!m.problems.is_empty());
        } else {
            errors.extend(m.problems.iter().map(|(f, msg)| at(m.row, f, msg.clone())));
        }
    }
    if old > 0 {
        parsed.notes.push(format!(
            "{old} 名成员的登记信息原本就有问题（如身份证号校验位错误），与登记库一致，未作改动；请通过数据核查整改"
        ));
    }
    let summary = plan.summary;
    errors.sort_by(|a, b| a.row.cmp(&b.row).then(a.column.len().cmp(&b.column.len())).then(a.column.cmp(&b.column)));
    Ok(ImportOutcome { parsed, summary, errors, committed: false })
}

/// Check, and if there is no error at all, write everything in one transaction.
pub async fn import(
    db: &Db,
    actor: &Actor,
    filename: &str,
    bytes: &[u8],
    today: NaiveDate,
    progress: impl Fn(u64, u64),
) -> Result<ImportOutcome, ExchangeError> {
    let mut outcome = check(db, actor, filename, bytes, today).await?;
    if outcome.errors.is_empty() && outcome.parsed.rows > 0 {
        outcome.summary = import::commit(db, actor, &outcome.parsed.households, progress).await?;
        outcome.committed = true;
    }
    Ok(outcome)
}

/// Export a filtered list in scope; personal data masked unless the actor has the right.
pub async fn export(
    db: &Db,
    actor: &Actor,
    filter: &HouseholdFilter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, u64), ExchangeError> {
    export_with(db, actor, filter, Exporter::new(!actor.role.sees_personal_data()), progress).await
}

/// The same, into a prepared exporter (tests split sheets early).
pub async fn export_with(
    db: &Db,
    actor: &Actor,
    filter: &HouseholdFilter,
    mut out: Exporter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, u64), ExchangeError> {
    let tree = regions::tree(db).await?;
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let batch = registry::export_batch(db, &actor.scope, filter, after, 2_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.0.id;
        for (h, members) in &batch {
            let household = registry::to_household(h)?;
            let members =
                members.iter().map(|m| registry::to_member(m).map(|x| (m.seq, x))).collect::<Result<Vec<_>, _>>()?;
            let village_name = tree.get(&h.village_code).map(|v| v.name.clone()).unwrap_or_default();
            out.push(&ExportHousehold { household, village_name, members })?;
            count += 1;
        }
        progress(count);
    }
    Ok((out.finish()?, count))
}
