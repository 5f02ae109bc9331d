//! Reading a spreadsheet (xlsx, or csv in UTF-8 or GBK) into plain cells, whatever program
//! wrote it; and the cell-level conversions every import needs: text, dates (typed, as text, or as
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
    #[error("文件“{0}”的类型无法识别：请上传 .xlsx 或 .csv 文件")]
    UnknownType(String),
    #[error("工作簿中没有工作表“{0}”，也没有其他工作表")]
    NoSheet(String),
    #[error("CSV 文件第 {0} 行无法读取：{1}")]
    Csv(usize, String),
    /// A zip of a sheet and its files that cannot be used, with the reason.
    #[error("{0}")]
    Bundle(String),
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
/// the first sheet if none is so named) of an xlsx, or a csv, into rows of cells.
pub fn read(filename: &str, bytes: &[u8], sheet: &str) -> Result<Vec<Table>, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty(filename.into()));
    }
    let lower = filename.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(filename, bytes, sheet)
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(filename, bytes).map(|t| vec![t])
    } else if lower.ends_with(".xlsx") {
        Err(ReadError::NotXlsx(
            filename.into(),
            "文件内容不是 xlsx 格式（可能是旧的 .xls 或改了扩展名的其他文件）".into(),
        ))
    } else {
        Err(ReadError::UnknownType(filename.into()))
    }
}

fn read_xlsx(filename: &str, bytes: &[u8], sheet: &str) -> Result<Vec<Table>, ReadError> {
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
    let merges = has_merged_cells(bytes);
    chosen.into_iter().map(|name| read_sheet(&mut wb, &name, merges).map_err(bad)).collect()
}

/// Whether any worksheet of the workbook declares merged cells: a byte search of the
/// decompressed sheets, much cheaper than parsing their XML again. True when unsure.
fn has_merged_cells(bytes: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return true };
    let finder = memchr::memmem::Finder::new(b"<mergeCell");
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else { return true };
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if !(name.starts_with("xl/worksheets/") && name.ends_with(".xml")) {
            continue;
        }
        // Stream through the sheet, keeping a little of each chunk so that a match across
        // chunk borders is not missed.
        let mut buf = vec![0u8; 1 << 16];
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let n = match std::io::Read::read(&mut entry, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => return true,
            };
            carry.extend_from_slice(&buf[..n]);
            if finder.find(&carry).is_some() {
                return true;
            }
            let keep = carry.len().saturating_sub(16);
            carry.drain(..keep);
        }
    }
    false
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

/// A sheet's cells, streamed (no intermediate range of the whole sheet), by row.
fn read_sheet(wb: &mut Xlsx<Cursor<&[u8]>>, name: &str, merges: bool) -> Result<Table, calamine::XlsxError> {
    let name = name.to_string();
    let mut rows: Vec<(usize, Vec<Cell>)> = Vec::new();
    {
        let mut reader = wb.worksheet_cells_reader(&name)?;
        while let Some(c) = reader.next_cell()? {
            let (r, col) = c.get_position();
            let cell = cell_of_ref(c.get_value());
            if cell == Cell::Empty {
                continue;
            }
            let row = r as usize + 1;
            if rows.last().is_none_or(|(n, _)| *n != row) {
                rows.push((row, Vec::new()));
            }
            if let Some((_, cells)) = rows.last_mut() {
                let col = col as usize;
                if cells.len() <= col {
                    cells.resize(col + 1, Cell::Empty);
                }
                cells[col] = cell;
            }
        }
    }
    // Every row as wide as the widest, so that columns line up.
    let width = rows.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    for (_, cells) in rows.iter_mut() {
        cells.resize(width, Cell::Empty);
    }
    let mut notes = Vec::new();
    // A merged cell holds its value in its first cell only: spread it over the region, as a
    // reader of the sheet sees it. (Finding merged regions costs a second pass over the sheet's
    // XML; `has_merged_cells` says beforehand whether there are any.)
    let merged = if merges { wb.merge_cells_by_sheet_name(&name).unwrap_or_default() } else { Vec::new() };
    let mut spread = 0;
    for m in &merged {
        let (top, left) = (m.start.0 as usize + 1, m.start.1 as usize);
        let Some(value) = rows.iter().find(|(n, _)| *n == top).and_then(|(_, c)| c.get(left)).cloned() else {
            continue;
        };
        for (n, cells) in rows.iter_mut() {
            if *n >= top && *n <= m.end.0 as usize + 1 {
                for col in left..=(m.end.1 as usize).min(cells.len().saturating_sub(1)) {
                    if (*n, col) != (top, left) && cells[col].is_empty() {
                        cells[col] = value.clone();
                        spread += 1;
                    }
                }
            }
        }
    }
    if spread > 0 {
        notes.push(format!("工作表“{name}”有 {} 处合并单元格，已按各自首格的内容展开（{spread} 格）", merged.len()));
    }
    Ok(Table { sheet: name, rows, notes })
}

fn read_csv(filename: &str, bytes: &[u8]) -> Result<Table, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut notes = Vec::new();
    // Excel and WPS in Chinese save CSV in GBK unless told otherwise.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (t, _, had_errors) = encoding_rs::GBK.decode(bytes);
            if had_errors {
                return Err(ReadError::Csv(0, "既不是 UTF-8 也不是 GBK 编码".into()));
            }
            notes.push(format!("“{filename}”按 GBK 编码读取"));
            t.into_owned()
        }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| ReadError::Csv(i + 1, e.to_string()))?;
        rows.push((
            i + 1,
            rec.iter().map(|s| if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) }).collect(),
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
    }
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
