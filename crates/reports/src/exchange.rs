//! Households in and out of the registry through the template: the import (read, check, plan,
//! and then write all or nothing) and the export (a filtered list in scope, in batches), shared
//! by the command line and the web pages.

use chrono::NaiveDate;
use ducha_domain::RegionTree;
use ducha_domain::access::Scope;
use ducha_storage::registry::import::ImportSummary;
use ducha_storage::registry::{self, HouseholdFilter};
use ducha_storage::{Scoped, StorageError};

use ducha_storage::help::store::HelpImportSummary;

use crate::bundle;
use crate::help_sheets::{self, Kind};
use crate::households::{self, CellError, ExportHousehold, Exporter, Parsed, header_of};
use crate::sheet::{self, ReadError};
use ducha_storage::evidence::Upload;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    // Transparent: the message is the source's own, so that a chain of causes (the command line
    // prints one) does not say it twice.
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("无法写出 Excel 文件：{0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
    /// The thread that read or wrote the file ended without an answer (it panicked).
    #[error("文件处理意外中止：{0}")]
    Task(String),
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

/// What reading a file needs to know of the registry and the user, fetched before the reading
/// so that the reading itself touches no database and can run on a thread of its own.
#[derive(Debug, Clone)]
pub struct Context {
    pub tree: std::sync::Arc<RegionTree>,
    pub scope: Scope,
    pub today: NaiveDate,
    /// The check year: the project library, the ledger and allocations belong to it.
    pub check_year: i32,
}

impl Context {
    pub async fn fetch(s: &Scoped) -> Result<Context, ExchangeError> {
        let (check_year, _) = s.checks().current().await?;
        Ok(Context { tree: s.regions().tree().await?, scope: s.scope().clone(), today: s.today(), check_year })
    }
}

/// A file read and checked on its own: its template, its rows as the domain takes them, the
/// errors in it, and the files sent with it (a ledger's vouchers).
#[derive(Debug)]
pub struct ReadFile {
    pub kind: Kind,
    check_year: i32,
    content: Content,
    files: Vec<Upload>,
}

#[derive(Debug)]
enum Content {
    Households(Parsed),
    Sheet { sheet: String, headers: Vec<String>, notes: Vec<String>, rows: SheetRows, errors: Vec<CellError> },
}

/// The rows of one of the help and platform sheets.
#[derive(Debug)]
enum SheetRows {
    Plans(Vec<ducha_domain::help::IncomingPlan>),
    Logs(Vec<ducha_domain::help::IncomingLog>),
    Attendance(Vec<ducha_domain::platform::IncomingCheckIn>),
    Projects(Vec<ducha_domain::funds::IncomingProject>),
    Payments(Vec<ducha_domain::funds::IncomingPayment>),
    Postings(Vec<ducha_domain::platform::IncomingPosting>),
    Institutions(Vec<ducha_domain::platform::IncomingInstitution>),
    Allocations(Vec<ducha_domain::funds::IncomingAllocation>),
}

impl SheetRows {
    fn len(&self) -> usize {
        match self {
            SheetRows::Plans(r) => r.len(),
            SheetRows::Logs(r) => r.len(),
            SheetRows::Attendance(r) => r.len(),
            SheetRows::Projects(r) => r.len(),
            SheetRows::Payments(r) => r.len(),
            SheetRows::Postings(r) => r.len(),
            SheetRows::Institutions(r) => r.len(),
            SheetRows::Allocations(r) => r.len(),
        }
    }
}

/// Read, parse and check a file against the template it follows (CPU only: no database).
pub fn read_file(filename: &str, bytes: &[u8], cx: &Context) -> Result<ReadFile, ReadError> {
    let (tables, files) = read(filename, bytes)?;
    let kind = tables.first().map_or(Kind::Households, help_sheets::detect);
    if kind == Kind::Households {
        let parsed = households::parse_tables(tables, &cx.tree, cx.today)?;
        return Ok(ReadFile { kind, check_year: cx.check_year, content: Content::Households(parsed), files });
    }
    let table = tables.into_iter().next().ok_or_else(|| ReadError::NoSheet(help_sheets::PLAN_SHEET.into()))?;
    let (tree, scope, today) = (&cx.tree, &cx.scope, cx.today);
    let mut notes = table.notes.clone();
    let (rows, errors) = match kind {
        Kind::Plans => {
            let (r, e) = help_sheets::parse_plans(&table, chrono::Datelike::year(&today));
            (SheetRows::Plans(r), e)
        }
        Kind::Projects => {
            let (r, e) = help_sheets::parse_projects(&table, tree, scope, &mut notes);
            (SheetRows::Projects(r), e)
        }
        Kind::Payments => {
            let (payments, e) = help_sheets::parse_payments(&table, tree, scope, today, &mut notes);
            // A file no row names is worth a word: it is often a name mistyped in the sheet.
            let named: std::collections::HashSet<&str> =
                payments.iter().flat_map(|p| p.vouchers.iter().map(String::as_str)).collect();
            let unused: Vec<&str> = files.iter().map(|f| f.filename.as_str()).filter(|f| !named.contains(f)).collect();
            if !unused.is_empty() {
                notes.push(format!("以下 {} 个文件没有被台账引用，未导入：{}", unused.len(), unused.join("、")));
            }
            (SheetRows::Payments(payments), e)
        }
        Kind::Postings => {
            let (r, e) = help_sheets::parse_postings(&table, tree, scope, &mut notes);
            (SheetRows::Postings(r), e)
        }
        Kind::Institutions => {
            let (r, e) = help_sheets::parse_institutions(&table, tree, scope, &mut notes);
            (SheetRows::Institutions(r), e)
        }
        Kind::Allocations => {
            let (r, e) = help_sheets::parse_allocations(&table, tree, scope, cx.check_year, today, &mut notes);
            (SheetRows::Allocations(r), e)
        }
        Kind::Attendance => {
            let (r, e) = help_sheets::parse_attendance(&table, tree, scope, today, &mut notes);
            (SheetRows::Attendance(r), e)
        }
        Kind::Logs | Kind::Households => {
            let (r, e) = help_sheets::parse_logs(&table, today);
            (SheetRows::Logs(r), e)
        }
    };
    let headers: Vec<String> = help_sheets::header(&table).map(|(_, h)| h).unwrap_or_default();
    Ok(ReadFile {
        kind,
        check_year: cx.check_year,
        content: Content::Sheet { sheet: table.sheet, headers, notes, rows, errors },
        files,
    })
}

/// [`read_file`] on a blocking thread, so that the async workers go on answering meanwhile.
pub async fn read_file_apart(filename: &str, bytes: Vec<u8>, cx: Context) -> Result<ReadFile, ExchangeError> {
    let filename = filename.to_string();
    tokio::task::spawn_blocking(move || read_file(&filename, &bytes, &cx))
        .await
        .map_err(|e| ExchangeError::Task(e.to_string()))?
        .map_err(ExchangeError::from)
}

/// Which template a file follows (None: it has no sheet), a bundle's sheet included.
pub fn kind_of(filename: &str, bytes: &[u8]) -> Result<Option<Kind>, ExchangeError> {
    Ok(read(filename, bytes)?.0.first().map(help_sheets::detect))
}

/// The sheets of a file, each from its header row on (title rows above it dropped), and the files
/// sent with it (a bundle's vouchers).
fn read(filename: &str, bytes: &[u8]) -> Result<(Vec<sheet::Table>, Vec<Upload>), ReadError> {
    let (mut tables, files) = if bundle::is_bundle(bytes) {
        let (ledger, files) = bundle::unpack(bytes)?;
        (sheet::read(&ledger.filename, &ledger.bytes, households::SHEET)?, files)
    } else {
        (sheet::read(filename, bytes, households::SHEET)?, vec![])
    };
    tables.iter_mut().for_each(help_sheets::skip_title_rows);
    Ok((tables, files))
}

/// Read and check a file, and plan it against the registry, without writing.
pub async fn check(s: &Scoped, filename: &str, bytes: &[u8]) -> Result<ImportOutcome, ExchangeError> {
    let file = read_file_apart(filename, bytes.to_vec(), Context::fetch(s).await?).await?;
    plan(s, file, false, |_, _| {}).await
}

/// Check, and if there is no error at all, write everything in one transaction.
pub async fn import(
    s: &Scoped,
    filename: &str,
    bytes: &[u8],
    progress: impl Fn(u64, u64),
) -> Result<ImportOutcome, ExchangeError> {
    let file = read_file_apart(filename, bytes.to_vec(), Context::fetch(s).await?).await?;
    plan(s, file, true, progress).await
}

/// Plan a file read against the registry and, with `write` and no error at all, write it.
pub async fn plan(
    s: &Scoped,
    file: ReadFile,
    write: bool,
    progress: impl Fn(u64, u64),
) -> Result<ImportOutcome, ExchangeError> {
    let ReadFile { kind, check_year, content, files } = file;
    let (sheet, headers, notes, rows, mut errors) = match content {
        Content::Households(parsed) => {
            let mut outcome = households_check(s, parsed).await?;
            if write && outcome.errors.is_empty() && outcome.parsed.rows > 0 {
                outcome.summary = s.registry().import(&outcome.parsed.households, progress).await?;
                outcome.committed = true;
            }
            return Ok(outcome);
        }
        Content::Sheet { sheet, headers, notes, rows, errors } => (sheet, headers, notes, rows, errors),
    };
    let count = rows.len();
    let write = write && errors.is_empty();
    let (summary, problems) = match &rows {
        SheetRows::Plans(r) => s.help().import_plans(r, write).await?,
        SheetRows::Logs(r) => s.help().import_logs(r, write).await?,
        SheetRows::Projects(r) => s.funds().projects().import(check_year, r, write).await?,
        SheetRows::Payments(r) => s.funds().payments().import(check_year, r, &files, write).await?,
        SheetRows::Postings(r) => s.platform().postings().import(r, write).await?,
        SheetRows::Institutions(r) => s.platform().institutions().import(r, write).await?,
        SheetRows::Allocations(r) => s.funds().allocations().import(r, write).await?,
        SheetRows::Attendance(r) => s.platform().attendance().import(r, write).await?,
    };
    let committed = write && problems.is_empty();
    errors.extend(
        problems.into_iter().map(|p| CellError {
            sheet: sheet.clone(),
            row: p.row,
            column: headers
                .iter()
                .position(|h| *h == help_sheets::norm(p.field))
                .map(sheet::column_letters)
                .unwrap_or_default(),
            header: p.field.to_string(),
            message: p.message,
        }),
    );
    errors.sort_by_key(|e| e.row);
    let parsed = Parsed { sheet, rows: count, notes, ..Default::default() };
    Ok(ImportOutcome { kind, help: Some(summary), parsed, summary: ImportSummary::default(), errors, committed })
}

async fn households_check(s: &Scoped, mut parsed: Parsed) -> Result<ImportOutcome, ExchangeError> {
    let plan = s.registry().import_plan(&parsed.households).await?;
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

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportCount {
    pub households: u64,
    /// Members written (one person a row).
    pub persons: u64,
    pub cells: u64,
    /// Whether ID numbers, phones, accounts and birth dates were masked.
    pub masked: bool,
}

/// Export a filtered list in scope. Personal data is masked unless the actor's role may take it
/// out in bulk; then the export is recorded in the audit trail (scope, filter, how many
/// households and persons) before it is handed over.
pub async fn export(
    s: &Scoped,
    filter: &HouseholdFilter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, ExportCount), ExchangeError> {
    let actor = s.actor();
    let mask = !actor.role.exports_personal_data();
    let (bytes, count) = export_with(s, filter, Exporter::new(mask), progress).await?;
    if !mask {
        let access = registry::PersonalAccess {
            kind: "export",
            scope: match &actor.scope {
                Scope::All => "全部".into(),
                Scope::Region(r) => r.as_str().to_string(),
            },
            filter: filter.describe(),
            households: count.households,
            persons: count.persons,
        };
        s.registry().record_personal_access(&access, None).await?;
    }
    Ok((bytes, count))
}

/// The same, into a prepared exporter (tests split sheets early). The registry is read here in
/// batches; the workbook is written on a blocking thread, so that writing a hundred thousand
/// households takes no async worker away from the pages.
pub async fn export_with(
    s: &Scoped,
    filter: &HouseholdFilter,
    out: Exporter,
    progress: impl Fn(u64),
) -> Result<(Vec<u8>, ExportCount), ExchangeError> {
    let tree = s.regions().tree().await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ExportHousehold>>(2);
    let masked = out.masks();
    let writer = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, u64), rust_xlsxwriter::XlsxError> {
        let mut out = out;
        while let Some(batch) = rx.blocking_recv() {
            for h in &batch {
                out.push(h)?;
            }
        }
        let cells = out.cells;
        Ok((out.finish()?, cells))
    });
    let mut after = 0;
    let mut count = 0u64;
    let mut persons = 0u64;
    loop {
        let batch = s.registry().export_batch(filter, after, 2_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.0.id;
        let mut rows = Vec::with_capacity(batch.len());
        for (h, members) in &batch {
            let household = registry::to_household(h)?;
            let members =
                members.iter().map(|m| registry::to_member(m).map(|x| (m.seq, x))).collect::<Result<Vec<_>, _>>()?;
            let village_name = tree.get(&h.village_code).map(|v| v.name.clone()).unwrap_or_default();
            persons += members.len() as u64;
            rows.push(ExportHousehold { household, village_name, members });
        }
        count += rows.len() as u64;
        // A writer that stopped has its error, which is returned below.
        if tx.send(rows).await.is_err() {
            break;
        }
        progress(count);
    }
    drop(tx);
    let (bytes, cells) = writer.await.map_err(|e| ExchangeError::Task(e.to_string()))??;
    Ok((bytes, ExportCount { households: count, persons, cells, masked }))
}
