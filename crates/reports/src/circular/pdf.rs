//! The circular as PDF, typeset by typst used as a library. A fixed template (`circular.typ`)
//! reads the document from a JSON file that only this world serves, so the caller's text is data
//! and never markup: nothing needs escaping. The world reads no other file, knows no packages and
//! downloads nothing; fonts are the machine's (see `fonts`), scanned once per process.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Value, json};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use super::fonts::{BodyFace, TypstFonts, typst_fonts};
use super::{Block, Circular, CircularError, Table, addressee_line, chinese_date, lines};

const TEMPLATE: &str = include_str!("circular.typ");

/// The width of the type area (156 mm) in points.
const TYPE_AREA_PT: f64 = 156.0 / 25.4 * 72.0;

/// The size of the red header: as large as fits the type area (at most 42 pt), since its length
/// varies from one issuer to another.
pub(crate) fn header_size_pt(header: &str) -> f64 {
    let n = header.chars().filter(|c| !c.is_whitespace()).count().max(1) as f64;
    (TYPE_AREA_PT * 0.92 / n).min(42.0).floor()
}

fn file_id(path: &str) -> FileId {
    // Both paths are constants, valid by construction.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("{path} is a valid virtual path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

fn main_id() -> FileId {
    static ID: OnceLock<FileId> = OnceLock::new();
    *ID.get_or_init(|| file_id("/circular.typ"))
}

fn data_id() -> FileId {
    static ID: OnceLock<FileId> = OnceLock::new();
    *ID.get_or_init(|| file_id("/circular.json"))
}

fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(Library::default()))
}

fn source() -> &'static Source {
    static SRC: OnceLock<Source> = OnceLock::new();
    SRC.get_or_init(|| Source::new(main_id(), TEMPLATE.to_string()))
}

struct CircularWorld {
    fonts: &'static TypstFonts,
    data: Bytes,
    today: Option<Datetime>,
}

impl World for CircularWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        main_id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == main_id() { Ok(source().clone()) } else { Err(FileError::AccessDenied) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == data_id() {
            Ok(self.data.clone())
        } else if id == main_id() {
            Ok(Bytes::from_string(TEMPLATE))
        } else {
            // SVG charts may name images; the circular has none to give.
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

/// A table as the template wants it: column fractions, which columns to centre, and rows padded
/// to the full width.
fn table_json(t: &Table) -> Value {
    let n = t.columns();
    let rows: Vec<Vec<&str>> = (0..t.rows.len()).map(|r| (0..n).map(|c| t.cell(r, c)).collect()).collect();
    let headers: Vec<&str> = (0..n).map(|c| t.header(c)).collect();
    // A column of dates only is as wide as its longest date, so that none breaks ("2018年1月2日").
    let fit: Vec<bool> =
        (0..n).map(|c| !rows.is_empty() && rows.iter().all(|r| is_date(r[c]) || r[c].trim().is_empty())).collect();
    // A row is kept on one page unless it could not fit on one (a problem written at length).
    let breakable: Vec<bool> = rows.iter().map(|r| r.iter().any(|c| c.chars().count() > ROW_ON_ONE_PAGE)).collect();
    json!({
        "columns": t.fractions(), "centred": t.centred(), "headers": headers, "rows": rows,
        "fit": fit, "breakable": breakable,
    })
}

/// Characters a cell may hold and its row still be kept on one page (a landscape page holds about
/// twice as many in the problem list's widest column).
pub(crate) const ROW_ON_ONE_PAGE: usize = 300;

/// A date as a circular writes it (2018年1月2日).
fn is_date(s: &str) -> bool {
    let s = s.trim();
    s.chars().count() <= 11
        && s.ends_with('日')
        && s.contains('年')
        && s.contains('月')
        && s.chars().all(|c| c.is_ascii_digit() || "年月日".contains(c))
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum BlockJson<'a> {
    H1 { text: &'a str },
    H2 { text: &'a str },
    Lead { lead: &'a str, text: &'a str },
    P { text: &'a str },
    Chart { title: &'a str, svg: &'a str },
    Table { table: Value },
}

fn blocks_json(blocks: &[Block]) -> Vec<BlockJson<'_>> {
    let mut out = Vec::new();
    for b in blocks {
        match b {
            Block::Heading1(t) => out.push(BlockJson::H1 { text: t }),
            Block::Heading2(t) => out.push(BlockJson::H2 { text: t }),
            Block::LeadParagraph { lead, text } => {
                let mut rest = lines(text);
                out.push(BlockJson::Lead { lead, text: rest.next().unwrap_or("") });
                out.extend(rest.map(|text| BlockJson::P { text }));
            }
            Block::Paragraph(t) => out.extend(lines(t).map(|text| BlockJson::P { text })),
            Block::Chart { title, svg } => out.push(BlockJson::Chart { title, svg }),
            Block::Table(t) => out.push(BlockJson::Table { table: table_json(t) }),
        }
    }
    out
}

/// Every character the body face sets: all but the charts (their own text) and the title.
fn body_text(c: &Circular) -> String {
    let mut t = String::new();
    let table = |t: &mut String, table: &Table| {
        for s in table.headers.iter().chain(table.rows.iter().flatten()) {
            t.push_str(s);
        }
    };
    for s in [&c.number, &c.addressees, &c.signer] {
        t.push_str(s);
    }
    for s in [&c.seal_note, &c.attachment_note, &c.disclosure, &c.copied_to].into_iter().flatten() {
        t.push_str(s);
    }
    t.push_str(&chinese_date(c.date));
    for b in &c.blocks {
        match b {
            Block::Heading1(x) | Block::Heading2(x) | Block::Paragraph(x) => t.push_str(x),
            Block::LeadParagraph { lead, text } => {
                t.push_str(lead);
                t.push_str(text);
            }
            Block::Chart { title, .. } => t.push_str(title),
            Block::Table(x) => table(&mut t, x),
        }
    }
    if let Some(a) = &c.attachment {
        t.push_str(&a.title);
        table(&mut t, &a.table);
    }
    t
}

/// The face the PDF's body is set in (仿宋 when the machine has one that holds every character
/// of it), and a note for whoever asked for the PDF when it is not.
pub fn pdf_body_face(c: &Circular) -> BodyFace {
    typst_fonts().body_face(&body_text(c))
}

/// Columns from which the attachment's table is set on a landscape page: the problem list's seven
/// (with its long 问题 column) are cramped across a portrait page.
const LANDSCAPE_COLUMNS: usize = 6;

/// The JSON the template reads.
fn data_json(c: &Circular, face: &BodyFace) -> Result<Vec<u8>, CircularError> {
    let sign: Vec<String> = [Some(c.signer.clone()), c.seal_note.clone(), Some(chinese_date(c.date))]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let v = json!({
        "issuer": c.issuer,
        "issuer_header": c.issuer_header,
        "header_size": header_size_pt(&c.issuer_header),
        "number": c.number,
        "title": c.title,
        "addressee": addressee_line(&c.addressees),
        "blocks": blocks_json(&c.blocks),
        "attachment_note": c.attachment_note,
        "sign": sign,
        "disclosure": c.disclosure,
        "copied_to": c.copied_to,
        "body_font": face.family,
        "attachment": c.attachment.as_ref().map(|a| json!({
            "title": a.title,
            "table": table_json(&a.table),
            "landscape": a.table.columns() >= LANDSCAPE_COLUMNS,
        })),
    });
    Ok(serde_json::to_vec(&v)?)
}

fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("；")
}

/// Typesets the circular and returns the PDF.
pub fn to_pdf(c: &Circular) -> Result<Vec<u8>, CircularError> {
    let fonts = typst_fonts();
    if !fonts.has_cjk() {
        return Err(CircularError::NoFonts(fonts.searched.clone()));
    }
    let today = u8::try_from(chrono::Datelike::month(&c.date))
        .ok()
        .zip(u8::try_from(chrono::Datelike::day(&c.date)).ok())
        .and_then(|(m, d)| Datetime::from_ymd(chrono::Datelike::year(&c.date), m, d));
    let face = fonts.body_face(&body_text(c));
    let world = CircularWorld { fonts, data: Bytes::new(data_json(c, &face)?), today };
    let result = typst::compile::<PagedDocument>(&world).output;
    // Keep typst's memo cache from growing in a long-running server.
    typst::comemo::evict(10);
    let doc = result.map_err(|e| CircularError::Typeset(diagnostics(&e)))?;
    let options = typst_pdf::PdfOptions::default();
    typst_pdf::pdf(&doc, &options).map_err(|e| CircularError::Pdf(diagnostics(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fits_the_type_area() {
        assert_eq!(header_size_pt("江门市扶贫开发领导小组文件"), 31.0);
        assert_eq!(header_size_pt("江门市文件"), 42.0);
    }

    #[test]
    fn paragraphs_split_on_line_breaks() {
        let blocks = [
            Block::Paragraph("甲\n\n乙".into()),
            Block::LeadParagraph { lead: "（一）标题。".into(), text: "正文。\n续段。".into() },
        ];
        let v = serde_json::to_value(blocks_json(&blocks)).unwrap();
        assert_eq!(v[0]["text"], "甲");
        assert_eq!(v[1]["text"], "乙");
        assert_eq!(v[2]["kind"], "lead");
        assert_eq!(v[3]["text"], "续段。");
    }
}
