//! Legacy workbooks (.xls, BIFF5/BIFF8: what WPS and Excel before 2007 save by default), read by
//! calamine within the reader's [`Limits`].
//!
//! calamine reads an xls whole when it opens it: every sheet into a range as large as the box
//! around its cells, space reserved from each sheet's declared dimensions, every formula turned
//! into text. So the file is taken apart first: its compound file is opened by the `cfb` crate
//! (which refuses loops in its sector chains), the workbook stream is walked record by record,
//! counting what calamine will keep against the limits, and calamine then reads a compound file
//! written anew with that stream, less what it would only spend memory on: the declared
//! dimensions, the defined names, and each formula's tokens (a formula is still known as one, and
//! keeps its saved result).

use std::io::{Cursor, Read, Write};

use calamine::{Data, DataType, Reader, Xls};

use crate::sheet::{Cell, Limits, Merged, ReadError, Table, spread_merged};

/// The compound file's signature.
pub const SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const BOUNDSHEET: u16 = 0x0085;
const LBL: u16 = 0x0018;
const DIMENSIONS: u16 = 0x0200;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const LABEL: u16 = 0x0204;
const RSTRING: u16 = 0x00D6;
const MULRK: u16 = 0x00BD;
/// Records calamine turns into one cell at the (row, column) of their first four bytes.
const ONE_CELL: [u16; 6] = [0x0203, LABEL, RSTRING, 0x0205, 0x027E, 0x00FD];

/// A formula's tokens as calamine is given them: one constant (TRUE), so that its text is short
/// whatever the file held.
const NO_TOKENS: [u8; 4] = [2, 0, 0x1D, 0x01];

/// One record of the workbook stream: its type, and where its data lies.
struct Record {
    typ: u16,
    start: usize,
    end: usize,
}

fn records(stream: &[u8], from: usize) -> impl Iterator<Item = Result<Record, String>> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= stream.len() {
            return None;
        }
        let Some(head) = stream.get(at..at + 4) else {
            at = stream.len();
            return Some(Err("记录不完整".into()));
        };
        let typ = u16::from_le_bytes([head[0], head[1]]);
        let len = u16::from_le_bytes([head[2], head[3]]) as usize;
        let (start, end) = (at + 4, at + 4 + len);
        if end > stream.len() {
            at = stream.len();
            return Some(Err("记录超出了文件".into()));
        }
        at = end;
        Some(Ok(Record { typ, start, end }))
    })
}

fn u16_at(data: &[u8], i: usize) -> Option<u16> {
    data.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// The box around a set of cells, as calamine's range will be.
#[derive(Default, Clone, Copy)]
struct Bounds(Option<(u32, u32, u32, u32)>);

impl Bounds {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }
    fn area(&self) -> usize {
        self.0.map_or(0, |(r0, r1, c0, c1)| (r1 - r0 + 1) as usize * (c1 - c0 + 1) as usize)
    }
}

/// The workbook stream of a compound file, checked against the limits and rewritten for calamine.
fn workbook_stream(filename: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let bad = |m: String| ReadError::NotXlsx(filename.into(), m);
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| bad(format!("文件结构已损坏（{e}）")))?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n))
        .ok_or_else(|| bad("其中没有工作簿（可能是 Word 文档或其他 Office 文件）".into()))?;
    let mut stream = file.open_stream(name).map_err(|e| bad(format!("工作簿无法读取（{e}）")))?;
    if stream.len() > limits.inflated {
        return Err(ReadError::TooLarge(filename.into(), format!("的工作簿超过 {} MB 的上限", limits.inflated >> 20)));
    }
    let mut out = Vec::new();
    (&mut stream).take(limits.inflated).read_to_end(&mut out).map_err(|e| bad(format!("工作簿无法读取（{e}）")))?;
    Ok(out)
}

/// Walk the stream as calamine will (the globals, then each sheet from its BOUNDSHEET's offset to
/// its EOF, nested substreams included), check what it will keep, and write the stream calamine
/// reads.
fn rewrite(filename: &str, stream: &[u8], limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let bad = |m: &str| ReadError::NotXlsx(filename.into(), m.to_string());
    let mut out: Vec<u8> = Vec::with_capacity(stream.len());
    // Each sheet's offset in the old stream, and where its BOUNDSHEET record's offset field is in
    // the new one.
    let mut sheets: Vec<(usize, usize)> = Vec::new();
    let mut dropping = false;
    for r in records(stream, 0) {
        let r = r.map_err(|m| bad(&m))?;
        let data = &stream[r.start..r.end];
        match r.typ {
            // A defined name is only read to write formulas as text; it goes, with its
            // continuations.
            LBL => dropping = true,
            CONTINUE if dropping => {}
            _ => {
                dropping = false;
                if r.typ == BOUNDSHEET {
                    if sheets.len() >= limits.parts {
                        return Err(ReadError::TooLarge(
                            filename.into(),
                            format!("有超过 {} 个工作表，不是普通的 Excel 工作簿", limits.parts),
                        ));
                    }
                    let pos = data.get(..4).ok_or_else(|| bad("工作表记录不完整"))?;
                    sheets.push((u32::from_le_bytes([pos[0], pos[1], pos[2], pos[3]]) as usize, out.len() + 4));
                }
                out.extend_from_slice(&stream[r.start - 4..r.end]);
            }
        }
        if r.typ == EOF {
            break;
        }
    }
    let (mut kept, mut records_kept) = (0usize, 0usize);
    let too_many = || {
        ReadError::TooLarge(
            filename.into(),
            format!("的单元格超过 {} 万个的上限；请拆分成几个文件", limits.cells / 10_000),
        )
    };
    for (from, field) in sheets {
        let new_pos = u32::try_from(out.len()).map_err(|_| bad("工作簿过大"))?;
        out[field..field + 4].copy_from_slice(&new_pos.to_le_bytes());
        let (mut values, mut formulas) = (Bounds::default(), Bounds::default());
        let (mut seen_bof, mut depth, mut dropping) = (false, 0usize, false);
        for r in records(stream, from) {
            let r = r.map_err(|m| bad(&m))?;
            let data = &stream[r.start..r.end];
            let head = &stream[r.start - 4..r.start];
            if depth > 0 {
                match r.typ {
                    BOF => depth += 1,
                    EOF => depth -= 1,
                    _ => {}
                }
                out.extend_from_slice(&stream[r.start - 4..r.end]);
                continue;
            }
            let mut at = |row: u16, col: u16, into: &mut Bounds| -> Result<(), ReadError> {
                limits.check_position(filename, "", row as usize + 1, col as usize)?;
                into.add(row.into(), col.into());
                records_kept += 1;
                if records_kept > limits.cells {
                    return Err(too_many());
                }
                Ok(())
            };
            match r.typ {
                BOF if seen_bof => depth += 1,
                BOF => seen_bof = true,
                // calamine reserves room for the declared box; it is not needed to read the cells.
                DIMENSIONS => continue,
                CONTINUE if dropping => continue,
                FORMULA => {
                    let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else {
                        return Err(bad("公式记录不完整"));
                    };
                    if data.len() < 22 {
                        return Err(bad("公式记录不完整"));
                    }
                    at(row, col, &mut values)?;
                    at(row, col, &mut formulas)?;
                    out.extend_from_slice(&FORMULA.to_le_bytes());
                    out.extend_from_slice(&((20 + NO_TOKENS.len()) as u16).to_le_bytes());
                    out.extend_from_slice(&data[..20]);
                    out.extend_from_slice(&NO_TOKENS);
                    dropping = true;
                    continue;
                }
                MULRK => {
                    let (Some(row), Some(first), Some(last)) =
                        (u16_at(data, 0), u16_at(data, 2), data.len().checked_sub(2).and_then(|i| u16_at(data, i)))
                    else {
                        return Err(bad("单元格记录不完整"));
                    };
                    at(row, first, &mut values)?;
                    at(row, last.max(first), &mut values)?;
                }
                t if ONE_CELL.contains(&t) => {
                    let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else {
                        return Err(bad("单元格记录不完整"));
                    };
                    at(row, col, &mut values)?;
                }
                _ => {}
            }
            // A text's declared length is what calamine reserves for it: no more than the bytes
            // that follow it.
            let text_at = match r.typ {
                LABEL | RSTRING => Some(6),
                STRING => Some(0),
                _ => None,
            };
            if let Some(i) = text_at {
                let declared = u16_at(data, i).ok_or_else(|| bad("文字记录不完整"))? as usize;
                if declared > data.len().saturating_sub(i + 2) {
                    return Err(bad("文字记录的长度与内容不符"));
                }
            }
            dropping = false;
            out.extend_from_slice(head);
            out.extend_from_slice(data);
            if r.typ == EOF {
                break;
            }
        }
        // What calamine keeps of the sheet: a range of values and one of formulas, each as large as
        // the box around them; a sheet read is copied once more.
        kept = kept.saturating_add(2 * (values.area() + formulas.area()));
        if kept > limits.cells {
            return Err(too_many());
        }
    }
    Ok(out)
}

/// A compound file holding only this workbook stream.
fn compound(filename: &str, stream: &[u8]) -> Result<Vec<u8>, ReadError> {
    let fail = |e: std::io::Error| ReadError::NotXlsx(filename.into(), e.to_string());
    // Version 3 (512-byte sectors), as Excel 97–2003 writes: what calamine reads.
    let mut file = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new())).map_err(fail)?;
    file.create_stream("/Workbook").and_then(|mut s| s.write_all(stream)).map_err(fail)?;
    file.flush().map_err(fail)?;
    Ok(file.into_inner().into_inner())
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
        Data::DateTimeIso(s) => Cell::Text(s.clone()),
        Data::DateTime(x) => d.as_datetime().map_or_else(|| Cell::Number(x.as_f64()), |dt| Cell::Date(dt.date())),
    }
}

/// Read the sheets whose names begin with `sheet` (the first sheet if none is so named).
pub fn read(filename: &str, bytes: &[u8], sheet: &str, limits: &Limits) -> Result<Vec<Table>, ReadError> {
    let stream = workbook_stream(filename, bytes, limits)?;
    let stream = rewrite(filename, &stream, limits)?;
    let file = compound(filename, &stream)?;
    drop(stream);
    let mut wb: Xls<_> = Xls::new(Cursor::new(file)).map_err(|e| match e {
        calamine::XlsError::Password => {
            ReadError::NotXlsx(filename.into(), "文件设置了密码；请取消密码保护后重新上传".into())
        }
        e => ReadError::NotXlsx(filename.into(), e.to_string()),
    })?;
    let names = wb.sheet_names();
    let mut chosen: Vec<String> = names.iter().filter(|n| n.starts_with(sheet)).cloned().collect();
    if chosen.is_empty() {
        chosen.extend(names.first().cloned());
    }
    if chosen.is_empty() {
        return Err(ReadError::NoSheet(sheet.into()));
    }
    let mut cells = 0usize;
    let mut tables = Vec::new();
    for name in chosen {
        let bad = |e: calamine::XlsError| ReadError::NotXlsx(filename.into(), e.to_string());
        let values = wb.worksheet_range(&name).map_err(bad)?;
        let formulas = wb.worksheet_formula(&name).map_err(bad)?;
        let mut rows: Vec<(usize, Vec<Cell>)> = Vec::new();
        if let Some((r0, c0)) = values.start() {
            for (i, row) in values.rows().enumerate() {
                let Some(last) = row.iter().rposition(|d| !matches!(d, Data::Empty)) else { continue };
                let width = c0 as usize + last + 1;
                cells += width;
                limits.check_cells(filename, cells)?;
                let mut out = vec![Cell::Empty; c0 as usize];
                out.extend(row[..=last].iter().map(cell_of));
                rows.push((r0 as usize + i + 1, out));
            }
        }
        // A formula saved without its result (a program wrote it, nothing computed it) has no
        // value to read: say so at its cell rather than read it as empty.
        if let Some((r0, c0)) = formulas.start() {
            for (i, row) in formulas.rows().enumerate() {
                let n = r0 as usize + i + 1;
                for (j, f) in row.iter().enumerate() {
                    if f.is_empty() {
                        continue;
                    }
                    let col = c0 as usize + j;
                    let at = rows.partition_point(|(m, _)| *m < n);
                    if rows.get(at).is_none_or(|(m, _)| *m != n) {
                        rows.insert(at, (n, Vec::new()));
                    }
                    let row_cells = &mut rows[at].1;
                    if row_cells.len() <= col {
                        cells += col + 1 - row_cells.len();
                        limits.check_cells(filename, cells)?;
                        row_cells.resize(col + 1, Cell::Empty);
                    }
                    if row_cells[col].is_empty() {
                        row_cells[col] = Cell::Formula(String::new());
                    }
                }
            }
        }
        let merged = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
        let merged: Vec<Merged> = merged
            .iter()
            .map(|m| ((m.start.0 as usize, m.start.1 as usize), (m.end.0 as usize, m.end.1 as usize)))
            .collect();
        let notes = spread_merged(&mut rows, &merged, filename, &name, limits, &mut cells)?;
        tables.push(Table { sheet: name, rows, notes });
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet::{LIMITS, read_within};

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend_from_slice(&(data.len() as u16).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
        let mut d = [row.to_le_bytes(), col.to_le_bytes(), [0, 0]].concat();
        d.extend_from_slice(&v.to_le_bytes());
        record(0x0203, &d)
    }

    fn label(row: u16, col: u16, declared: u16, text: &str) -> Vec<u8> {
        let mut d = [row.to_le_bytes(), col.to_le_bytes(), [0, 0], declared.to_le_bytes()].concat();
        // Characters in UTF-16 (the high-byte flag set).
        d.push(1);
        d.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        record(LABEL, &d)
    }

    /// A BIFF8 workbook of one sheet "Sheet1" with these cell records, in a compound file (as
    /// Excel 97–2003 writes one, less what calamine does not need).
    fn workbook(cells: &[Vec<u8>]) -> Vec<u8> {
        let bof = |dt: u16| record(BOF, &[&0x0600u16.to_le_bytes()[..], &dt.to_le_bytes(), &[0u8; 12]].concat());
        let name = b"Sheet1";
        let boundsheet_len = 4 + 6 + 2 + name.len();
        let globals_len = bof(5).len() + boundsheet_len + 4;
        let mut sheet = [&0u32.to_le_bytes()[..], &[0, 0, name.len() as u8, 0], name].concat();
        sheet[..4].copy_from_slice(&(globals_len as u32).to_le_bytes());
        let mut stream = [bof(5), record(BOUNDSHEET, &sheet), record(EOF, &[])].concat();
        assert_eq!(stream.len(), globals_len);
        stream.extend(bof(0x10));
        for c in cells {
            stream.extend_from_slice(c);
        }
        stream.extend(record(EOF, &[]));
        compound("t.xls", &stream).expect("written")
    }

    fn refusal(bytes: &[u8]) -> String {
        match read_within("户.xls", bytes, "x", &LIMITS) {
            Err(e) => e.to_string(),
            Ok(t) => panic!("read, not refused: {:?}", t[0].rows.len()),
        }
    }

    #[test]
    fn a_plain_workbook_reads_and_a_declared_size_reserves_nothing() {
        // Dimensions that declare every row and column of the format: calamine would reserve room
        // for all of them; they are taken out, and the two cells read.
        let dims = record(DIMENSIONS, &[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
        let bytes = workbook(&[dims, label(0, 0, 3, "户编号"), number(1, 0, 7.0)]);
        let t = read_within("户.xls", &bytes, "x", &LIMITS).expect("reads").remove(0);
        assert_eq!(t.rows, vec![(1, vec![Cell::Text("户编号".into())]), (2, vec![Cell::Number(7.0)])]);
    }

    #[test]
    fn cells_far_apart_are_refused_for_the_box_calamine_would_fill() {
        // Two cells: calamine's range would hold every cell between them.
        let why = refusal(&workbook(&[number(0, 0, 1.0), number(65_535, 255, 2.0)]));
        assert!(why.contains("单元格超过 1000 万个的上限"), "{why}");
        let why = refusal(&workbook(&[number(4, 300, 1.0)]));
        assert!(why.contains("第 5 行第 KO 列"), "{why}");
    }

    #[test]
    fn a_text_longer_than_its_record_is_a_broken_file() {
        let why = refusal(&workbook(&[label(0, 0, 60_000, "户")]));
        assert!(why.contains("长度与内容不符"), "{why}");
    }

    #[test]
    fn not_a_workbook_and_loops_are_refused() {
        let why = refusal(&crate::xls::SIGNATURE.repeat(100));
        assert!(why.contains("户.xls") && why.contains("损坏"), "{why}");
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("create");
        file.create_stream("/WordDocument").and_then(|mut s| s.write_all(b"x")).expect("stream");
        file.flush().expect("flush");
        let doc = file.into_inner().into_inner();
        assert!(refusal(&doc).contains("没有工作簿"));
    }
}
