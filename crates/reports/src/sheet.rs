//! Reading a spreadsheet (xlsx, the legacy xls, or csv in UTF-8 or GBK) into plain cells, whatever
//! program wrote it; and the cell-level conversions every import needs: text, dates (typed, as text, or as
//! Excel serial numbers), yes/no, and numbers that must stay text (ID numbers, accounts).

use std::io::Cursor;

use calamine::{DataRef, DataType, Reader, Xlsx};
use chrono::NaiveDate;

/// One cell, as found.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A formula saved without its result (written by a program, never computed): there is no
    /// value to read. Its text, where the file gives it.
    Formula(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// A sheet's rows, each with its 1-based row number.
#[derive(Debug, Clone)]
pub struct Table {
    pub sheet: String,
    pub rows: Vec<(usize, Vec<Cell>)>,
    /// What was normalised while reading (merged cells, encoding).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("文件“{0}”是空的")]
    Empty(String),
    #[error("文件“{0}”不是有效的 Excel 工作簿（.xlsx）：{1}")]
    NotXlsx(String, String),
    #[error("文件“{0}”的类型无法识别：请上传 Excel 工作簿（.xlsx 或 .xls）或 .csv 文件")]
    UnknownType(String),
    /// An OpenDocument spreadsheet (LibreOffice's own format), refused by name.
    #[error(
        "文件“{0}”是 OpenDocument 表格（.ods），不能直接导入；请在 LibreOffice、WPS 或 Excel 中“另存为” Excel 工作簿（.xlsx）后上传"
    )]
    OpenDocument(String),
    /// Named .xls but not a workbook: often a web page or text a system exported under that name.
    #[error(
        "文件“{0}”名为 .xls，但内容不是 Excel 工作簿（可能是系统导出的网页或文本）；请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（.xlsx）再上传"
    )]
    NotXls(String),
    #[error("工作簿中没有工作表“{0}”，也没有其他工作表")]
    NoSheet(String),
    #[error("CSV 文件第 {0} 行无法读取：{1}")]
    Csv(usize, String),
    /// A zip of a sheet and its files that cannot be used, with the reason.
    #[error("{0}")]
    Bundle(String),
    /// Beyond one of the [`Limits`]: the file, and which limit, where.
    #[error("文件“{0}”{1}")]
    TooLarge(String, String),
}

/// What one file may hold. A file is read on the server for whoever uploads it, so anything
/// beyond these is refused, with the limit named, before it can cost memory or time: one stray
/// cell at column ZZZZZZ must not make every row 475 million cells wide, and a 1 KB zip must not
/// inflate to gigabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file as uploaded or read from disk.
    pub bytes: usize,
    /// Columns a row may reach (256 is column IV, Excel 2003's last; the widest template has 16).
    pub columns: usize,
    /// Rows a sheet may reach (Excel's own limit).
    pub rows: usize,
    /// Cells kept in memory for the whole file, empty ones between filled ones included.
    pub cells: usize,
    /// Parts of a workbook (a zip): an xlsx has a few dozen.
    pub parts: usize,
    /// A workbook's parts, inflated, in all.
    pub inflated: u64,
}

/// The limits every import reads with (web pages and command line alike).
pub const LIMITS: Limits = Limits {
    bytes: 256 * 1024 * 1024,
    columns: 256,
    rows: 1_048_576,
    cells: 10_000_000,
    parts: 1_000,
    inflated: 512 * 1024 * 1024,
};

impl Limits {
    fn too_large(filename: &str, what: String) -> ReadError {
        ReadError::TooLarge(filename.into(), what)
    }

    /// A cell at (1-based `row`, 0-based `col`) of `sheet`, if it lies within the limits.
    pub(crate) fn check_position(&self, filename: &str, sheet: &str, row: usize, col: usize) -> Result<(), ReadError> {
        let sheet = if sheet.is_empty() { String::new() } else { format!("的工作表“{sheet}”") };
        if col >= self.columns {
            return Err(Self::too_large(
                filename,
                format!(
                    "{sheet}第 {row} 行第 {} 列有内容，超出了 {} 列（到 {} 列）的上限；请删去表格右侧多余的内容后重新上传",
                    column_letters(col),
                    self.columns,
                    column_letters(self.columns - 1)
                ),
            ));
        }
        if row > self.rows {
            return Err(Self::too_large(
                filename,
                format!("{sheet}在第 {row} 行还有内容，超出了 {} 行的上限；请拆分成几个文件", self.rows),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_cells(&self, filename: &str, cells: usize) -> Result<(), ReadError> {
        if cells > self.cells {
            return Err(Self::too_large(
                filename,
                format!("的单元格超过 {} 万个的上限；请拆分成几个文件", self.cells / 10_000),
            ));
        }
        Ok(())
    }
}

/// Excel's day 0 for serial dates (the 1900 system, with its leap-year quirk folded in).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
}

/// The date an Excel serial number stands for, if it is a plausible one.
pub fn from_serial(n: f64) -> Option<NaiveDate> {
    (n.fract() == 0.0 && (1.0..=2_958_465.0).contains(&n)).then(|| excel_epoch() + chrono::Duration::days(n as i64))
}

/// Read the sheets whose names begin with `sheet` (a long list continues on "名(2)", "名(3)", …;
/// the first sheet if none is so named) of an xlsx or xls, or a csv, into rows of cells, within
/// [`LIMITS`].
pub fn read(filename: &str, bytes: &[u8], sheet: &str) -> Result<Vec<Table>, ReadError> {
    read_within(filename, bytes, sheet, &LIMITS)
}

/// The same, within other limits (tests use small ones).
pub fn read_within(filename: &str, bytes: &[u8], sheet: &str, limits: &Limits) -> Result<Vec<Table>, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty(filename.into()));
    }
    if bytes.len() > limits.bytes {
        return Err(Limits::too_large(
            filename,
            format!("有 {} MB，超过了 {} MB 的上限；请拆分成几个文件", bytes.len() >> 20, limits.bytes >> 20),
        ));
    }
    let lower = filename.to_lowercase();
    // The workbook's parser is another crate's: a file it chokes on (it panics on some malformed
    // references) is a file that cannot be read, not a server fault.
    let guarded = |read: &dyn Fn() -> Result<Vec<Table>, ReadError>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
            .unwrap_or_else(|_| Err(ReadError::NotXlsx(filename.into(), "文件内部结构已损坏".into())))
    };
    if lower.ends_with(".ods") || lower.ends_with(".ots") || is_open_document(bytes) {
        Err(ReadError::OpenDocument(filename.into()))
    } else if bytes.starts_with(b"PK\x03\x04") {
        guarded(&|| read_xlsx(filename, bytes, sheet, limits))
    } else if bytes.starts_with(crate::xls::SIGNATURE) {
        guarded(&|| crate::xls::read(filename, bytes, sheet, limits))
    } else if lower.ends_with(".xls") || lower.ends_with(".et") {
        Err(ReadError::NotXls(filename.into()))
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(filename, bytes, limits).map(|t| vec![t])
    } else if lower.ends_with(".xlsx") {
        Err(ReadError::NotXlsx(
            filename.into(),
            "文件内容不是 xlsx 格式（可能是旧的 .xls 或改了扩展名的其他文件）".into(),
        ))
    } else {
        Err(ReadError::UnknownType(filename.into()))
    }
}

/// Whether the bytes are an OpenDocument file: a zip whose `mimetype` part names one.
pub fn is_open_document(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"PK\x03\x04") {
        return false;
    }
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return false };
    let Ok(part) = zip.by_name("mimetype") else { return false };
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(part, 64), &mut head).is_ok()
        && head.starts_with(b"application/vnd.oasis.opendocument")
}

fn read_xlsx(filename: &str, bytes: &[u8], sheet: &str, limits: &Limits) -> Result<Vec<Table>, ReadError> {
    // Checked before the workbook is opened: opening reads the shared strings whole.
    let scan = scan_workbook(filename, bytes, limits)?;
    let bad = |e: calamine::XlsxError| ReadError::NotXlsx(filename.into(), e.to_string());
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(bad)?;
    let names = wb.sheet_names();
    let mut chosen: Vec<String> = names.iter().filter(|n| n.starts_with(sheet)).cloned().collect();
    if chosen.is_empty() {
        chosen.extend(names.first().cloned());
    }
    if chosen.is_empty() {
        return Err(ReadError::NoSheet(sheet.into()));
    }
    let mut cells = 0;
    chosen.into_iter().map(|name| read_sheet(&mut wb, filename, &name, scan.merges, limits, &mut cells)).collect()
}

/// What a workbook's parts say before it is opened.
struct Scan {
    /// Whether any worksheet declares merged cells (true when unsure).
    merges: bool,
}

/// Inflate every part of a workbook once, counting: the number of parts, their inflated size (as
/// it comes out, not as the zip declares it), and the shared strings the workbook announces
/// (calamine reserves room for that many before reading one). On the way, whether any worksheet
/// has merged cells, which saves parsing the sheets' XML a second time when none has.
fn scan_workbook(filename: &str, bytes: &[u8], limits: &Limits) -> Result<Scan, ReadError> {
    let bad = |m: String| ReadError::NotXlsx(filename.into(), m);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    if zip.len() > limits.parts {
        return Err(Limits::too_large(
            filename,
            format!("内含 {} 个部件，超过了 {} 个的上限，不是普通的 Excel 工作簿", zip.len(), limits.parts),
        ));
    }
    let inflated_too_large =
        || Limits::too_large(filename, format!("解压后超过 {} MB 的上限；请拆分成几个文件", limits.inflated >> 20));
    let finder = memchr::memmem::Finder::new(b"<mergeCell");
    let mut merges = false;
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if entry.size() > limits.inflated.saturating_sub(total) {
            return Err(inflated_too_large());
        }
        let sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        let strings = name.eq_ignore_ascii_case("xl/sharedStrings.xml");
        // The first bytes of the shared strings, for their announced count; a little of each
        // chunk of a sheet, so that "<mergeCell" across two chunks is not missed.
        let mut head: Vec<u8> = Vec::new();
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let n = match std::io::Read::read(&mut entry, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(bad(format!("“{name}”无法解压：{e}"))),
            };
            total += n as u64;
            if total > limits.inflated {
                return Err(inflated_too_large());
            }
            if strings && head.len() < 64 * 1024 {
                head.extend_from_slice(&buf[..n.min(64 * 1024)]);
            }
            if sheet && !merges {
                carry.extend_from_slice(&buf[..n]);
                merges = finder.find(&carry).is_some();
                let keep = carry.len().saturating_sub(16);
                carry.drain(..keep);
            }
        }
        if strings
            && let Some(n) = announced_strings(&head)
            && n > limits.cells
        {
            return Err(Limits::too_large(
                filename,
                format!("声明了 {n} 个不同的文字，超过了 {} 万个的上限", limits.cells / 10_000),
            ));
        }
    }
    Ok(Scan { merges })
}

/// The `uniqueCount` of the shared strings' `<sst>` element, read as calamine reads it (the
/// first start tag named sst); None when there is none or it is no number. A count too large
/// for a number is as good as infinite.
fn announced_strings(head: &[u8]) -> Option<usize> {
    let mut xml = quick_xml::Reader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e)) if e.local_name().as_ref() == "sst" => {
                let attr = e.try_get_attribute("uniqueCount").ok()??;
                let digits: String = attr.value.trim().trim_start_matches('+').to_string();
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                return Some(digits.parse::<usize>().unwrap_or(usize::MAX));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

fn cell_of_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
        DataRef::DateTimeIso(s) => d.as_datetime().map_or_else(|| Cell::Text(s.clone()), |dt| Cell::Date(dt.date())),
        DataRef::DateTime(x) => d.as_datetime().map_or_else(|| Cell::Number(x.as_f64()), |dt| Cell::Date(dt.date())),
    }
}

/// A sheet's cells, streamed (no intermediate range of the whole sheet), by row. Rows are as
/// long as their last filled cell (readers take cells with `get`), so that memory follows what
/// the sheet holds; `cells` counts what the file has kept so far, against the limit.
fn read_sheet(
    wb: &mut Xlsx<Cursor<&[u8]>>,
    filename: &str,
    name: &str,
    merges: bool,
    limits: &Limits,
    cells: &mut usize,
) -> Result<Table, ReadError> {
    let bad = |e: calamine::XlsxError| ReadError::NotXlsx(filename.into(), e.to_string());
    let name = name.to_string();
    let mut rows: Vec<(usize, Vec<Cell>)> = Vec::new();
    let mut in_order = true;
    {
        let mut reader = wb.worksheet_cells_reader(&name).map_err(bad)?;
        // With each cell its formula, if any (shared formulas not expanded: only whether there is
        // one matters, and its text where the cell has it).
        while let Some(c) = reader.next_cell_with_formula_metadata().map_err(bad)? {
            let (r, col) = c.pos;
            let mut cell = cell_of_ref(&c.value);
            if let Some(f) = &c.formula
                && cell.is_empty()
            {
                // A formula saved without its result: nothing to read, and worth saying so.
                let text = match f {
                    calamine::XlsxFormulaMetadata::Normal { formula }
                    | calamine::XlsxFormulaMetadata::Shared { formula, .. } => formula.chars().take(40).collect(),
                    _ => String::new(),
                };
                cell = Cell::Formula(text);
            }
            if cell == Cell::Empty {
                continue;
            }
            let (row, col) = (r as usize + 1, col as usize);
            limits.check_position(filename, &name, row, col)?;
            match rows.last() {
                Some((n, _)) if *n == row => {}
                last => {
                    in_order &= last.is_none_or(|(n, _)| *n < row);
                    rows.push((row, Vec::new()));
                }
            }
            if let Some((_, row_cells)) = rows.last_mut() {
                if row_cells.len() <= col {
                    *cells += col + 1 - row_cells.len();
                    limits.check_cells(filename, *cells)?;
                    row_cells.resize(col + 1, Cell::Empty);
                }
                row_cells[col] = cell;
            }
        }
    }
    if !in_order {
        // A writer may list rows out of order, or one row in pieces: one entry per row, in order.
        rows.sort_by_key(|(n, _)| *n);
        let mut merged: Vec<(usize, Vec<Cell>)> = Vec::with_capacity(rows.len());
        for (n, row_cells) in rows {
            match merged.last_mut() {
                Some((m, into)) if *m == n => {
                    if into.len() < row_cells.len() {
                        into.resize(row_cells.len(), Cell::Empty);
                    }
                    for (i, c) in row_cells.into_iter().enumerate() {
                        if c != Cell::Empty {
                            into[i] = c;
                        }
                    }
                }
                _ => merged.push((n, row_cells)),
            }
        }
        rows = merged;
    }
    // Finding merged regions costs a second pass over the sheet's XML; the scan said beforehand
    // whether there are any.
    let merged: Vec<Merged> = if merges {
        let found = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
        found.iter().map(|m| ((m.start.0 as usize, m.start.1 as usize), (m.end.0 as usize, m.end.1 as usize))).collect()
    } else {
        Vec::new()
    };
    let notes = spread_merged(&mut rows, &merged, filename, &name, limits, cells)?;
    Ok(Table { sheet: name, rows, notes })
}

/// A merged region: its top-left and bottom-right cells, (row, column), 0-based.
pub(crate) type Merged = ((usize, usize), (usize, usize));

/// A merged cell holds its value in its first cell only: spread it over the region (0-based
/// corners, as workbooks give them), as a reader of the sheet sees it; `cells` counts what is
/// added. A note says how much was spread.
pub(crate) fn spread_merged(
    rows: &mut [(usize, Vec<Cell>)],
    merged: &[Merged],
    filename: &str,
    name: &str,
    limits: &Limits,
    cells: &mut usize,
) -> Result<Vec<String>, ReadError> {
    let mut spread = 0;
    for &((top, left), (bottom, right)) in merged {
        let (top, bottom, right) = (top + 1, bottom + 1, right.min(limits.columns.saturating_sub(1)));
        let first = rows.partition_point(|(n, _)| *n < top);
        let Some(value) = rows.get(first).filter(|(n, _)| *n == top).and_then(|(_, c)| c.get(left)).cloned() else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let last = rows.partition_point(|(n, _)| *n <= bottom);
        for (n, row_cells) in &mut rows[first..last] {
            if row_cells.len() <= right {
                *cells += right + 1 - row_cells.len();
                limits.check_cells(filename, *cells)?;
                row_cells.resize(right + 1, Cell::Empty);
            }
            for (col, c) in row_cells.iter_mut().enumerate().take(right + 1).skip(left) {
                if (*n, col) != (top, left) && c.is_empty() {
                    *c = value.clone();
                    spread += 1;
                }
            }
        }
    }
    let mut notes = Vec::new();
    if spread > 0 {
        notes.push(format!("工作表“{name}”有 {} 处合并单元格，已按各自首格的内容展开（{spread} 格）", merged.len()));
    }
    Ok(notes)
}

fn read_csv(filename: &str, bytes: &[u8], limits: &Limits) -> Result<Table, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut notes = Vec::new();
    // Excel and WPS in Chinese save CSV in GBK unless told otherwise.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            let (t, _, had_errors) = encoding_rs::GBK.decode(bytes);
            if had_errors {
                return Err(ReadError::Csv(0, "既不是 UTF-8 也不是 GBK 编码".into()));
            }
            notes.push(format!("“{filename}”按 GBK 编码读取"));
            t
        }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut cells = 0;
    let mut record = csv::StringRecord::new();
    let mut i = 0;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(ReadError::Csv(i + 1, e.to_string())),
        }
        i += 1;
        // Excel pads every line to the widest one: empty fields at the end are not kept (nor
        // counted against the column limit).
        let width =
            (0..record.len()).rev().find(|i| record.get(*i).is_some_and(|f| !f.trim().is_empty())).map_or(0, |p| p + 1);
        if width > 0 {
            limits.check_position(filename, "", i, width - 1)?;
        } else if i > limits.rows {
            limits.check_position(filename, "", i, 0)?;
        }
        cells += width;
        limits.check_cells(filename, cells)?;
        rows.push((
            i,
            record
                .iter()
                .take(width)
                .map(|s| if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) })
                .collect(),
        ));
    }
    Ok(Table { sheet: filename.into(), rows, notes })
}

/// Spreadsheet column letters for a 0-based index: 0 → A, 26 → AA.
pub fn column_letters(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A cell as text. Numbers are written without a needless ".0"; a number too long to be exact
/// (an ID or account number Excel stored as a number) is refused.
pub fn text(cell: &Cell) -> Result<String, String> {
    match cell {
        Cell::Empty => Ok(String::new()),
        Cell::Text(t) => Ok(t.trim().to_string()),
        Cell::Bool(b) => Ok(if *b { "是" } else { "否" }.into()),
        Cell::Date(d) => Ok(d.to_string()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(format!("{}", *n as i64)),
        Cell::Number(n) if n.fract() == 0.0 => {
            Err(format!("“{n:e}”被 Excel 存成了数字，末几位已经丢失；请把这一列设为“文本”后重新填写"))
        }
        Cell::Number(n) => Ok(n.to_string()),
        Cell::Formula(f) => Err(formula_message(f)),
    }
}

/// What a formula saved without its result is told as.
fn formula_message(formula: &str) -> String {
    let which = if formula.is_empty() { String::new() } else { format!("（={formula}）") };
    format!(
        "这一格是公式{which}，文件中没有保存它的计算结果（由程序生成、未经 Excel 或 WPS 计算的表格常这样）；请用 Excel 或 WPS 打开后保存一次再上传，或把这一列“复制 → 选择性粘贴 → 数值”"
    )
}

/// A cell as a date string (YYYY-MM-DD), with a note when it came from an Excel serial number.
pub fn date_text(cell: &Cell) -> Result<(String, bool), String> {
    match cell {
        Cell::Date(d) => Ok((d.to_string(), false)),
        // 20170301 typed as a number.
        Cell::Number(n) if n.fract() == 0.0 && (19_000_101.0..30_000_000.0).contains(n) => {
            let t = format!("{}", *n as i64);
            Ok((format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]), false))
        }
        Cell::Number(n) => from_serial(*n).map(|d| (d.to_string(), true)).ok_or_else(|| format!("日期“{n}”无法识别")),
        Cell::Text(t) => {
            let t = t.trim();
            // 20170301
            if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
                return Ok((format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]), false));
            }
            Ok((t.to_string(), false))
        }
        other => text(other).map(|t| (t, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(28), "AC");
    }

    #[test]
    fn cells_as_text_and_dates() {
        assert_eq!(text(&Cell::Number(13812345678.0)), Ok("13812345678".into()));
        assert!(text(&Cell::Number(440781198001011230.0)).unwrap_err().contains("末几位已经丢失"));
        assert_eq!(date_text(&Cell::Number(42795.0)), Ok(("2017-03-01".into(), true)));
        assert_eq!(date_text(&Cell::Text("20170301".into())), Ok(("2017-03-01".into(), false)));
        assert_eq!(from_serial(1.0), NaiveDate::from_ymd_opt(1899, 12, 31));
    }

    #[test]
    fn gbk_csv_is_read_and_says_so() {
        let (gbk, _, _) = encoding_rs::GBK.encode("户编号,姓名\n001,陈大文\n");
        let t = read("户.csv", &gbk, "x").unwrap().remove(0);
        assert_eq!(t.rows[1].1[1], Cell::Text("陈大文".into()));
        assert!(t.notes[0].contains("GBK"));
        assert!(matches!(read("a.xlsx", b"not a zip", "x"), Err(ReadError::NotXlsx(..))));
        assert!(matches!(read("a.doc", b"xx", "x"), Err(ReadError::UnknownType(..))));
    }
}

/// Workbooks written by hand, part by part, as a hostile or broken program might write them
/// (for tests, here and in the integration tests).
#[cfg(any(test, feature = "testing"))]
pub mod hostile {
    use std::io::Write;

    /// A zip of these parts (deflated, as Excel writes them).
    pub fn zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            out.start_file(*name, opts).expect("start");
            out.write_all(data).expect("write");
        }
        out.finish().expect("finish").into_inner()
    }

    /// The smallest workbook calamine opens: one sheet with this `<sheetData>` content, and
    /// these shared strings if any.
    pub fn workbook(sheet_data: &str, shared_strings: Option<&str>) -> Vec<u8> {
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
        );
        let mut parts: Vec<(&str, &[u8])> = vec![
            (
                "[Content_Types].xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
            ),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        if let Some(s) = shared_strings {
            parts.push(("xl/sharedStrings.xml", s.as_bytes()));
        }
        zip(&parts)
    }
}

#[cfg(test)]
mod limit_tests {
    use super::hostile::{workbook, zip};
    use super::*;

    fn refusal(bytes: &[u8], limits: &Limits) -> String {
        match read_within("户.xlsx", bytes, "x", limits) {
            Err(e) => e.to_string(),
            Ok(t) => panic!("read, not refused: {} rows", t[0].rows.len()),
        }
    }

    #[test]
    fn a_plain_workbook_reads() {
        let ok = workbook(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="C1"><v>7</v></c></row>"#,
            None,
        );
        let t = read("户.xlsx", &ok, "x").expect("reads").remove(0);
        assert_eq!(t.rows, vec![(1, vec![Cell::Text("户编号".into()), Cell::Empty, Cell::Number(7.0)])]);
    }

    #[test]
    fn one_cell_far_to_the_right_is_refused_at_its_place_without_widening_anything() {
        // The 1.6 KB file of the report: its only cell is at column ZZZZZZ.
        let bytes = workbook(r#"<row r="3"><c r="ZZZZZZ3"><v>1</v></c></row>"#, None);
        assert!(bytes.len() < 2_000);
        let why = refusal(&bytes, &LIMITS);
        assert!(why.contains("第 3 行第 ZZZZZZ 列") && why.contains("256 列") && why.contains("IV 列"), "{why}");
        // Column references too long for calamine's arithmetic are a broken file, not a panic.
        let why = refusal(&workbook(r#"<row r="1"><c r="ZZZZZZZZZZ1"><v>1</v></c></row>"#, None), &LIMITS);
        assert!(why.contains("户.xlsx"), "{why}");
    }

    #[test]
    fn rows_beyond_excels_last_are_refused() {
        let why = refusal(&workbook(r#"<row r="2000000"><c r="A2000000"><v>1</v></c></row>"#, None), &LIMITS);
        assert!(why.contains("第 2000000 行") && why.contains("1048576 行"), "{why}");
    }

    #[test]
    fn announced_shared_strings_are_counted_before_anything_is_reserved() {
        let sst = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="100000000000000"><si><t>x</t></si></sst>"#;
        let why = refusal(&workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(sst)), &LIMITS);
        assert!(why.contains("100000000000000 个不同的文字"), "{why}");
        let sst = r#"<sst uniqueCount = '99999999999999999999999'><si><t>x</t></si></sst>"#;
        assert!(refusal(&workbook("", Some(sst)), &LIMITS).contains("上限"));
        // An honest count reads.
        let sst = r#"<sst uniqueCount="1"><si><t>陈大文</t></si></sst>"#;
        let t = read("户.xlsx", &workbook(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, Some(sst)), "x")
            .expect("reads");
        assert_eq!(t[0].rows[0].1, vec![Cell::Text("陈大文".into())]);
    }

    #[test]
    fn a_workbook_that_inflates_beyond_the_limit_is_refused_by_what_comes_out() {
        // 8 MB of one repeated row deflates to a few KB.
        let row = r#"<row r="1"><c r="A1"><v>1</v></c></row>"#;
        let bytes = workbook(&row.repeat(8 * 1024 * 1024 / row.len()), None);
        assert!(bytes.len() < 100_000, "{}", bytes.len());
        let small = Limits { inflated: 4 * 1024 * 1024, ..LIMITS };
        assert!(refusal(&bytes, &small).contains("解压后超过 4 MB"));
        // A zip of too many parts.
        let names: Vec<String> = (0..20).map(|i| format!("x/{i}.xml")).collect();
        let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"<a/>"[..])).collect();
        assert!(refusal(&zip(&parts), &Limits { parts: 10, ..LIMITS }).contains("20 个部件"));
    }

    #[test]
    fn cells_are_counted_in_xlsx_csv_and_merges() {
        let few = Limits { cells: 10, ..LIMITS };
        let row = |r: usize| format!(r#"<row r="{r}"><c r="A{r}"><v>1</v></c><c r="E{r}"><v>2</v></c></row>"#);
        let two: String = (1..=2).map(row).collect();
        assert_eq!(read_within("a.xlsx", &workbook(&two, None), "x", &few).expect("10 cells").len(), 1);
        let three: String = (1..=3).map(row).collect();
        assert!(refusal(&workbook(&three, None), &few).contains("单元格超过"));
        let csv = "a,,,,e\n".repeat(3);
        assert!(read_within("a.csv", csv.as_bytes(), "", &few).unwrap_err().to_string().contains("单元格超过"));
    }

    #[test]
    fn csv_columns_count_only_to_the_last_filled_field() {
        // Excel pads every line of a CSV to the widest: empty fields cost nothing.
        let padded = format!("户编号,姓名{}\n001,陈大文{}\n", ",".repeat(5_000), ",".repeat(5_000));
        let t = read("户.csv", padded.as_bytes(), "").expect("reads").remove(0);
        assert_eq!(t.rows[1].1, vec![Cell::Text("001".into()), Cell::Text("陈大文".into())]);
        let far = format!("户编号{}x\n", ",".repeat(300));
        let why = read("户.csv", far.as_bytes(), "").unwrap_err().to_string();
        assert!(why.contains("第 1 行第 KO 列") && !why.contains("工作表"), "{why}");
    }

    #[test]
    fn rows_out_of_order_are_put_in_order() {
        let data = r#"<row r="3"><c r="A3"><v>3</v></c></row><row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="B3"><v>4</v></c></row>"#;
        let t = read("a.xlsx", &workbook(data, None), "x").expect("reads").remove(0);
        assert_eq!(t.rows, vec![(1, vec![Cell::Number(1.0)]), (3, vec![Cell::Number(3.0), Cell::Number(4.0)])]);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_reading() {
        let why = read_within("大.csv", &vec![b'a'; 3 << 20], "", &Limits { bytes: 2 << 20, ..LIMITS }).unwrap_err();
        assert!(why.to_string().contains("超过了 2 MB"), "{why}");
    }
}
