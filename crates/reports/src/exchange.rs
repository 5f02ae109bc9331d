//! Households in and out of the registry through the template: the import (read, check, plan,
//! and then write all or nothing) and the export (a filtered list in scope, in batches), shared
//! by the command line and the web pages.

use chrono::NaiveDate;
use ducha_domain::access::Actor;
use ducha_storage::registry::import::{self, ImportSummary};
use ducha_storage::registry::{self, HouseholdFilter};
use ducha_storage::{Db, StorageError, regions};

use ducha_storage::help::store::{self, HelpImportSummary};

use crate::bundle;
use crate::help_sheets::{self, Kind};
use crate::households::{self, CellError, ExportHousehold, Exporter, Parsed, header_of};
use crate::sheet::{self, ReadError};
use ducha_storage::evidence::Upload;

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
    /// Which template the file follows.
    pub kind: Kind,
    /// For plans and logs: what is new, changed, unchanged.
    pub help: Option<HelpImportSummary>,
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
    let (tables, files) = read(filename, bytes)?;
    match tables.first().map(help_sheets::detect) {
        Some(Kind::Households) | None => households_check(db, actor, tables, today).await,
        Some(kind) => help(db, actor, tables, &files, kind, today, false).await,
    }
}

/// Which template a file follows (None: it has no sheet), a bundle's sheet included.
pub fn kind_of(filename: &str, bytes: &[u8]) -> Result<Option<Kind>, ExchangeError> {
    Ok(read(filename, bytes)?.0.first().map(help_sheets::detect))
}

/// The sheets of a file, and the files sent with it (a bundle's vouchers).
fn read(filename: &str, bytes: &[u8]) -> Result<(Vec<sheet::Table>, Vec<Upload>), ExchangeError> {
    if bundle::is_bundle(bytes) {
        let (ledger, files) = bundle::unpack(bytes)?;
        Ok((sheet::read(&ledger.filename, &ledger.bytes, households::SHEET)?, files))
    } else {
        Ok((sheet::read(filename, bytes, households::SHEET)?, vec![]))
    }
}

/// Plans, logs, attendance, projects or payments: checked, planned and (with `write`) written in
/// one go. The project library and the ledger belong to the check year, as the pages show them.
async fn help(
    db: &Db,
    actor: &Actor,
    tables: Vec<sheet::Table>,
    files: &[Upload],
    kind: Kind,
    today: NaiveDate,
    write: bool,
) -> Result<ImportOutcome, ExchangeError> {
    let table = tables.into_iter().next().ok_or_else(|| ReadError::NoSheet(help_sheets::PLAN_SHEET.into()))?;
    let year = chrono::Datelike::year(&today);
    let tree = regions::tree(db).await?;
    let mut notes = table.notes.clone();
    let scope = &actor.scope;
    let (rows, mut errors, (summary, problems)) = match kind {
        Kind::Plans => {
            let (plans, errors) = help_sheets::parse_plans(&table, year);
            let write = write && errors.is_empty();
            (plans.len(), errors, store::import_plans(db, actor, &plans, write).await?)
        }
        Kind::Projects => {
            let (check_year, _) = ducha_storage::checks::current(db).await?;
            let (projects, errors) = help_sheets::parse_projects(&table, &tree, scope, &mut notes);
            let write = write && errors.is_empty();
            let done = ducha_storage::funds::import_projects(db, actor, check_year, &projects, write).await?;
            (projects.len(), errors, done)
        }
        Kind::Payments => {
            let (check_year, _) = ducha_storage::checks::current(db).await?;
            let (payments, errors) = help_sheets::parse_payments(&table, &tree, scope, today, &mut notes);
            // A file no row names is worth a word: it is often a name mistyped in the sheet.
            let unused: Vec<&str> = files
                .iter()
                .map(|f| f.filename.as_str())
                .filter(|f| !payments.iter().any(|p| p.vouchers.iter().any(|v| v == f)))
                .collect();
            if !unused.is_empty() {
                notes.push(format!("以下 {} 个文件没有被台账引用，未导入：{}", unused.len(), unused.join("、")));
            }
            let write = write && errors.is_empty();
            let done = ducha_storage::funds::import_payments(db, actor, check_year, &payments, files, write).await?;
            (payments.len(), errors, done)
        }
        Kind::Postings => {
            let (postings, errors) = help_sheets::parse_postings(&table, &tree, scope, &mut notes);
            let write = write && errors.is_empty();
            (postings.len(), errors, ducha_storage::platform::import_postings(db, actor, &postings, write).await?)
        }
        Kind::Institutions => {
            let (list, errors) = help_sheets::parse_institutions(&table, &tree, scope, &mut notes);
            let write = write && errors.is_empty();
            (list.len(), errors, ducha_storage::platform::import_institutions(db, actor, &list, write).await?)
        }
        Kind::Allocations => {
            let (check_year, _) = ducha_storage::checks::current(db).await?;
            let (list, errors) = help_sheets::parse_allocations(&table, &tree, scope, check_year, today, &mut notes);
            let write = write && errors.is_empty();
            (list.len(), errors, ducha_storage::funds::import_allocations(db, actor, &list, write).await?)
        }
        Kind::Attendance => {
            let (days, errors) = help_sheets::parse_attendance(&table, &tree, scope, today, &mut notes);
            let write = write && errors.is_empty();
            (days.len(), errors, ducha_storage::platform::import_check_ins(db, actor, &days, write).await?)
        }
        Kind::Logs | Kind::Households => {
            let (logs, errors) = help_sheets::parse_logs(&table, today);
            let write = write && errors.is_empty();
            (logs.len(), errors, store::import_logs(db, actor, &logs, write).await?)
        }
    };
    let committed = write && errors.is_empty() && problems.is_empty();
    let headers: Vec<String> = table
        .rows
        .iter()
        .find(|(_, c)| c.iter().any(|x| !x.is_empty()))
        .map(|(_, c)| c.iter().map(|x| sheet::text(x).unwrap_or_default()).collect())
        .unwrap_or_default();
    errors.extend(problems.into_iter().map(|p| CellError {
        sheet: table.sheet.clone(),
        row: p.row,
        column: headers.iter().position(|h| h == p.field).map(sheet::column_letters).unwrap_or_default(),
        header: p.field.to_string(),
        message: p.message,
    }));
    errors.sort_by_key(|e| e.row);
    let parsed = Parsed { sheet: table.sheet.clone(), rows, notes, ..Default::default() };
    Ok(ImportOutcome { kind, help: Some(summary), parsed, summary: ImportSummary::default(), errors, committed })
}

async fn households_check(
    db: &Db,
    actor: &Actor,
    tables: Vec<sheet::Table>,
    today: NaiveDate,
) -> Result<ImportOutcome, ExchangeError> {
    let tree = regions::tree(db).await?;
    let mut parsed = households::parse_tables(tables, &tree, today)?;
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
    Ok(ImportOutcome { kind: Kind::Households, help: None, parsed, summary, errors, committed: false })
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
    let (tables, files) = read(filename, bytes)?;
    if let Some(kind) = tables.first().map(help_sheets::detect).filter(|k| *k != Kind::Households) {
        return help(db, actor, tables, &files, kind, today, true).await;
    }
    let mut outcome = households_check(db, actor, tables, today).await?;
    if outcome.errors.is_empty() && outcome.parsed.rows > 0 {
        outcome.summary = import::commit(db, actor, &outcome.parsed.households, progress).await?;
        outcome.committed = true;
    }
    Ok(outcome)
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportCount {
    pub households: u64,
    pub cells: u64,
}

/// Export a filtered list in scope; personal data masked unless the actor has the right.
pub async fn export(
    db: &Db,
    actor: &Actor,
    filter: &HouseholdFilter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, ExportCount), ExchangeError> {
    export_with(db, actor, filter, Exporter::new(!actor.role.sees_personal_data()), progress).await
}

/// The same, into a prepared exporter (tests split sheets early).
pub async fn export_with(
    db: &Db,
    actor: &Actor,
    filter: &HouseholdFilter,
    mut out: Exporter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, ExportCount), ExchangeError> {
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
    let cells = out.cells;
    Ok((out.finish()?, ExportCount { households: count, cells }))
}
