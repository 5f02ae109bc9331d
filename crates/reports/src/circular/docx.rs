//! The circular as a Word document, laid out after GB/T 9704-2012: A4, margins 37/35/28/26 mm
//! (type area 156 × 225 mm), body 仿宋_GB2312 三号 on 22 lines of 28.95 pt, headings 黑体 and
//! 楷体_GB2312, the red header and title in 方正小标宋简体, page numbers "— 1 —" in 宋体 四号, odd pages at the right and even at the left.
//! Fonts are named as Word/WPS users have them; LibreOffice substitutes what it lacks.
//!
//! Charts are rasterised from their SVG to PNG with resvg (built anyway for typst-pdf) at about
//! 300 dpi, and placed inline at the width of the type area. A table without columns is left out.
//! docx-rs cannot mark a table row as a repeated header (`w:tblHeader`): every table's first row
//! (its header) is written with `w:cantSplit`, and the mark is added to the XML after
//! (`patch_document`). Other rows are `w:cantSplit` too (not split across pages), unless one is
//! longer than a page holds.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BorderType, BreakType, DocGrid, DocGridType, Docx, FieldCharType, Footer, InstrPAGE, InstrText,
    LineSpacing, LineSpacingType, PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders,
    Pic, Run, RunFonts, SpecialIndentType, TableAlignmentType, TableCell, TableCellMargins, TableLayoutType, TableRow,
    VAlignType, WidthType,
};
use resvg::{tiny_skia, usvg};

use super::fonts::svg_fontdb;
use super::{Block, Circular, CircularError, Table, addressee_line, chinese_date, lines};

/// Millimetres to twentieths of a point.
const fn mm(v: u32) -> i32 {
    ((v as f64) * 1440.0 / 25.4 + 0.5) as i32
}

pub const PAGE_WIDTH: u32 = 11906;
pub const PAGE_HEIGHT: u32 = 16838;
pub const MARGIN_TOP: i32 = mm(37);
pub const MARGIN_BOTTOM: i32 = mm(35);
pub const MARGIN_LEFT: i32 = mm(28);
pub const MARGIN_RIGHT: i32 = mm(26);
/// The width of the type area in twips.
const TEXT_WIDTH: i32 = PAGE_WIDTH as i32 - MARGIN_LEFT - MARGIN_RIGHT;
/// 28.95 pt: 22 lines on 225 mm.
pub const LINE: i32 = 579;
/// One character of 三号 (16 pt).
const CHAR: i32 = 320;

/// Font sizes in half-points.
const SAN_HAO: usize = 32;
const ER_HAO: usize = 44;
const SI_HAO: usize = 28;
const XIAO_SI: usize = 24;

pub const FANGSONG: &str = "仿宋_GB2312";
pub const HEITI: &str = "黑体";
pub const KAITI: &str = "楷体_GB2312";
pub const XIAOBIAOSONG: &str = "方正小标宋简体";
pub const SONGTI: &str = "宋体";
const RED: &str = "FF0000";

/// The same face for CJK and Latin text, so that digits and Latin letters match the CJK text.
fn fonts(name: &str) -> RunFonts {
    RunFonts::new().east_asia(name).ascii(name).hi_ansi(name).cs(name).hint("eastAsia")
}

/// Text as XML can hold it: control characters other than tab are dropped.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() || *c == '\t').collect()
}

/// A run of text; a line break in the text (in a table cell, say) becomes a line break.
fn run(text: &str, font: &str, size: usize) -> Run {
    let mut r = Run::new().fonts(fonts(font)).size(size);
    for (k, line) in text.split('\n').enumerate() {
        if k > 0 {
            r = r.add_break(BreakType::TextWrapping);
        }
        r = r.add_text(clean(line));
    }
    r
}

fn exact(line: i32) -> LineSpacing {
    LineSpacing::new().line_rule(LineSpacingType::Exact).line(line).before(0).after(0)
}

/// A body paragraph: justified, first line indented two characters.
fn body(p: Paragraph) -> Paragraph {
    p.align(AlignmentType::Both).line_spacing(exact(LINE)).indent(
        None,
        Some(SpecialIndentType::FirstLine(2 * CHAR)),
        None,
        None,
    )
}

fn centred(p: Paragraph) -> Paragraph {
    p.align(AlignmentType::Center).line_spacing(exact(LINE))
}

/// Widths in "characters", estimated: CJK 1, Latin a little over ½.
fn width_chars(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 0.55 } else { 1.0 }).sum()
}

/// A title in 小标宋 二号: squeezed a little when it almost fits on one line, else indented on
/// both sides so that its lines come out about equally long (GB/T 9704 asks for balanced lines).
fn title(text: &str, spacing: LineSpacing) -> Paragraph {
    let em = (ER_HAO * 10) as f64;
    let (w, avail) = (width_chars(text) * em, f64::from(TEXT_WIDTH));
    let mut r = run(text, XIAOBIAOSONG, ER_HAO);
    let mut p = Paragraph::new().align(AlignmentType::Center).line_spacing(spacing);
    // The estimate is rough and substitute fonts run wider: squeeze to 95 % of the width.
    if w > avail * 0.95 && w <= avail * 1.06 {
        let n = text.chars().count().max(1) as f64;
        r = r.character_spacing(-(((w - avail * 0.95) / n).ceil() as i32));
    } else if w > avail {
        let lines = (w / avail).ceil();
        let side = ((avail - (w / lines + 1.5 * em)) / 2.0).max(0.0) as i32;
        p = p.indent(Some(side), None, Some(side), None);
    }
    p.add_run(r)
}

fn table(t: &Table, size: usize) -> docx_rs::Table {
    let fractions = t.fractions();
    let mut widths: Vec<usize> = fractions.iter().map(|f| (f * f64::from(TEXT_WIDTH)).round() as usize).collect();
    // Make the columns add up to the type area exactly.
    let sum: usize = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last = (*last + TEXT_WIDTH as usize).saturating_sub(sum).max(200);
    }
    let centre = t.centred();
    let cell_para = |text: &str, font: &str, centre: bool| {
        // Single spacing, off the page's 28.95 pt grid (which would space table lines like body
        // lines).
        Paragraph::new()
            .add_run(run(text, font, size))
            .snap_to_grid(false)
            .line_spacing(LineSpacing::new().line_rule(LineSpacingType::Auto).line(240).before(0).after(0))
            .align(if centre { AlignmentType::Center } else { AlignmentType::Left })
    };
    let cell = |p: Paragraph, w: usize| {
        TableCell::new().add_paragraph(p).width(w, WidthType::Dxa).vertical_align(VAlignType::Center)
    };
    let n = t.columns();
    let header =
        TableRow::new((0..n).map(|c| cell(cell_para(t.header(c), HEITI, true), widths[c])).collect()).cant_split();
    let mut rows = vec![header];
    for r in 0..t.rows.len() {
        let row =
            TableRow::new((0..n).map(|c| cell(cell_para(t.cell(r, c), FANGSONG, centre[c]), widths[c])).collect());
        let long = (0..n).any(|c| t.cell(r, c).chars().count() > super::pdf::ROW_ON_ONE_PAGE);
        rows.push(if long { row } else { row.cant_split() });
    }
    docx_rs::Table::new(rows)
        .set_grid(widths)
        .width(TEXT_WIDTH as usize, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .align(TableAlignmentType::Center)
        .margins(TableCellMargins::new().margin(40, 57, 40, 57))
}

/// The chart as a PNG of `px_width` pixels, with its size in pixels.
fn rasterise(title: &str, svg: &str, px_width: u32) -> Result<(Vec<u8>, u32, u32), CircularError> {
    let fail = |reason: String| CircularError::Chart { title: title.to_string(), reason };
    let mut opt =
        usvg::Options { fontdb: svg_fontdb(), font_family: "Noto Sans CJK SC".to_string(), ..Default::default() };
    // Charts are drawings: nothing outside the SVG is read.
    opt.image_href_resolver.resolve_string = Box::new(|_, _| None);
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| fail(e.to_string()))?;
    let size = tree.size();
    let scale = px_width as f32 / size.width();
    let height = (size.height() * scale).ceil().max(1.0) as u32;
    if height > 4 * px_width {
        return Err(fail("高度超过宽度的四倍".to_string()));
    }
    let mut pixmap = tiny_skia::Pixmap::new(px_width, height).ok_or_else(|| fail("尺寸无效".to_string()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    let png = pixmap.encode_png().map_err(|e| fail(e.to_string()))?;
    Ok((png, px_width, height))
}

fn chart(title: &str, svg: &str) -> Result<Vec<Paragraph>, CircularError> {
    // 156 mm at 300 dpi is about 1840 px.
    let (png, w, h) = rasterise(title, svg, 1840)?;
    let emu_w = TEXT_WIDTH as u32 * 635;
    let emu_h = (u64::from(emu_w) * u64::from(h) / u64::from(w.max(1))) as u32;
    let pic = Pic::new_with_dimensions(png, w, h).size(emu_w, emu_h);
    Ok(vec![
        Paragraph::new()
            .align(AlignmentType::Center)
            .snap_to_grid(false)
            .line_spacing(LineSpacing::new().line_rule(LineSpacingType::Auto).line(240).before(120).after(0))
            .keep_next(true)
            .add_run(Run::new().add_image(pic)),
        Paragraph::new().align(AlignmentType::Center).line_spacing(exact(LINE)).add_run(run(title, FANGSONG, SI_HAO)),
    ])
}

/// "— n —" in 宋体 四号: on odd pages at the right, on even pages at the left, each one character
/// (四号, 14 pt) in from the margin (GB/T 9704-2012 7.5: 单页码居右空一字，双页码居左空一字).
fn page_number_footer(odd: bool) -> Footer {
    let f = || fonts(SONGTI);
    let one_char = 280;
    let (align, indent) = if odd {
        (AlignmentType::Right, (None, Some(one_char)))
    } else {
        (AlignmentType::Left, (Some(one_char), None))
    };
    Footer::new().add_paragraph(
        Paragraph::new()
            .align(align)
            .indent(indent.0, None, indent.1, None)
            .add_run(Run::new().add_text("— ").fonts(f()).size(SI_HAO))
            .add_run(
                Run::new()
                    .fonts(f())
                    .size(SI_HAO)
                    .add_field_char(FieldCharType::Begin, false)
                    .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
                    .add_field_char(FieldCharType::Separate, false)
                    .add_text("1")
                    .add_field_char(FieldCharType::End, false),
            )
            .add_run(Run::new().add_text(" —").fonts(f()).size(SI_HAO)),
    )
}

fn border(position: ParagraphBorderPosition, size: usize, space: usize, color: &str) -> ParagraphBorder {
    ParagraphBorder::new(position).val(BorderType::Single).size(size).space(space).color(color)
}

/// The body of the document, in order.
fn paragraphs(c: &Circular) -> Result<Vec<Item>, CircularError> {
    let mut out: Vec<Item> = Vec::new();
    let push = |out: &mut Vec<Item>, p: Paragraph| out.push(Item::p(p));

    // 版头.
    let header_size = (super::pdf::header_size_pt(&c.issuer_header) * 2.0) as usize;
    push(
        &mut out,
        Paragraph::new()
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().line_rule(LineSpacingType::Auto).line(240).before(mm(35) as u32).after(0))
            .add_run(run(&c.issuer_header, XIAOBIAOSONG, header_size).color(RED)),
    );
    let mut number = centred(Paragraph::new())
        .line_spacing(exact(LINE).before(2 * LINE as u32))
        .add_run(run(&c.number, FANGSONG, SAN_HAO));
    // The red line 4 mm under the number (border space is in points, at most 31).
    number.property = number.property.set_borders(ParagraphBorders::with_empty().set(border(
        ParagraphBorderPosition::Bottom,
        12,
        11,
        RED,
    )));
    push(&mut out, number);
    push(
        &mut out,
        title(
            &c.title,
            LineSpacing::new().line_rule(LineSpacingType::Exact).line(660).before(2 * LINE as u32).after(0),
        ),
    );
    push(
        &mut out,
        Paragraph::new().align(AlignmentType::Both).line_spacing(exact(LINE).before(LINE as u32)).add_run(run(
            &addressee_line(&c.addressees),
            FANGSONG,
            SAN_HAO,
        )),
    );

    // 主体.
    for b in &c.blocks {
        match b {
            Block::Heading1(t) => {
                push(&mut out, body(Paragraph::new()).keep_next(true).add_run(run(t, HEITI, SAN_HAO)))
            }
            Block::Heading2(t) => {
                push(&mut out, body(Paragraph::new()).keep_next(true).add_run(run(t, KAITI, SAN_HAO)))
            }
            Block::LeadParagraph { lead, text } => {
                let mut rest = lines(text);
                push(
                    &mut out,
                    body(Paragraph::new()).add_run(run(lead, KAITI, SAN_HAO)).add_run(run(
                        rest.next().unwrap_or(""),
                        FANGSONG,
                        SAN_HAO,
                    )),
                );
                rest.for_each(|l| out.push(Item::p(body(Paragraph::new()).add_run(run(l, FANGSONG, SAN_HAO)))));
            }
            Block::Paragraph(t) => {
                lines(t).for_each(|l| out.push(Item::p(body(Paragraph::new()).add_run(run(l, FANGSONG, SAN_HAO)))))
            }
            Block::Chart { title, svg } => out.extend(chart(title, svg)?.into_iter().map(Item::p)),
            Block::Table(t) if t.columns() > 0 => out.push(Item::T(Box::new(table(t, SI_HAO)))),
            Block::Table(_) => {}
        }
    }

    if let Some(note) = &c.attachment_note {
        push(
            &mut out,
            body(Paragraph::new()).line_spacing(exact(LINE).before(LINE as u32)).add_run(run(note, FANGSONG, SAN_HAO)),
        );
    }
    // 署名, （代章）, 成文日期: right, two characters in, centred on one another.
    let date = chinese_date(c.date);
    let sign: Vec<&str> = [Some(c.signer.as_str()), c.seal_note.as_deref(), Some(date.as_str())]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let widest = sign.iter().map(|s| width_chars(s)).fold(0.0, f64::max);
    for (k, line) in sign.iter().enumerate() {
        let right = 2 * CHAR + ((widest - width_chars(line)) / 2.0 * f64::from(CHAR)).round() as i32;
        let before = if k == 0 { 2 * LINE as u32 } else { 0 };
        push(
            &mut out,
            Paragraph::new()
                .align(AlignmentType::Right)
                .line_spacing(exact(LINE).before(before))
                .indent(None, None, Some(right), None)
                .add_run(run(line, FANGSONG, SAN_HAO)),
        );
    }
    if let Some(d) = &c.disclosure {
        push(
            &mut out,
            body(Paragraph::new()).line_spacing(exact(LINE).before(LINE as u32)).add_run(run(d, FANGSONG, SAN_HAO)),
        );
    }

    // 附件 on a page of its own.
    if let Some(a) = &c.attachment {
        push(
            &mut out,
            Paragraph::new().page_break_before(true).line_spacing(exact(LINE)).add_run(run("附件", HEITI, SAN_HAO)),
        );
        let spacing =
            LineSpacing::new().line_rule(LineSpacingType::Exact).line(660).before(LINE as u32).after(LINE as u32);
        push(&mut out, title(&a.title, spacing));
        if a.table.columns() > 0 {
            out.push(Item::T(Box::new(table(&a.table, XIAO_SI))));
        }
    }

    // 版记: between full-width rules, one character in.
    if let Some(cc) = &c.copied_to {
        let mut banji = Paragraph::new()
            .align(AlignmentType::Both)
            .line_spacing(exact(LINE).before(LINE as u32))
            .indent(None, Some(SpecialIndentType::FirstLine(280)), None, None)
            .add_run(run(cc, FANGSONG, SI_HAO));
        banji.property = banji.property.set_borders(
            ParagraphBorders::with_empty().set(border(ParagraphBorderPosition::Top, 8, 4, "000000")).set(border(
                ParagraphBorderPosition::Bottom,
                8,
                4,
                "000000",
            )),
        );
        out.push(Item::p(banji));
    }
    Ok(out)
}

enum Item {
    P(Box<Paragraph>),
    T(Box<docx_rs::Table>),
}

impl Item {
    fn p(p: Paragraph) -> Item {
        Item::P(Box::new(p))
    }
}

/// What docx-rs cannot say, added to its XML: `w:tblHeader` on each table's first row (written
/// with `w:cantSplit`, the first in the table), and the footer references (odd and even
/// pages) moved to the front of `w:sectPr`, where the schema (and a strict reader) wants them.
fn patch_document(document: Vec<u8>) -> Result<String, CircularError> {
    let xml = String::from_utf8(document).map_err(|e| CircularError::Docx(e.to_string()))?;
    let mut tables = xml.split("<w:tbl>");
    let mut xml = tables.next().unwrap_or_default().to_string();
    for t in tables {
        xml.push_str("<w:tbl>");
        xml.push_str(&t.replacen("<w:cantSplit />", "<w:cantSplit /><w:tblHeader />", 1));
    }
    let Some(sect) = xml.rfind("<w:sectPr>") else { return Ok(xml) };
    let mut references = String::new();
    while let Some(start) = xml[sect..].find("<w:footerReference ").map(|i| sect + i)
        && let Some(len) = xml[start..].find("/>")
    {
        references.extend(xml.drain(start..start + len + 2));
    }
    xml.insert_str(sect + "<w:sectPr>".len(), &references);
    Ok(xml)
}

/// No automatic space between CJK and Latin text (Word's 自动调整中文与西文的间距), as in the
/// PDF: 公文 set digits tight against the characters.
fn patch_styles(styles: Vec<u8>) -> Result<Vec<u8>, CircularError> {
    let xml = String::from_utf8(styles).map_err(|e| CircularError::Docx(e.to_string()))?;
    Ok(xml
        .replacen(
            "<w:pPrDefault><w:pPr>",
            r#"<w:pPrDefault><w:pPr><w:autoSpaceDE w:val="0" /><w:autoSpaceDN w:val="0" />"#,
            1,
        )
        .into_bytes())
}

/// Writes the circular as a .docx file.
pub fn to_docx(c: &Circular) -> Result<Vec<u8>, CircularError> {
    let mut docx = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(MARGIN_TOP)
                .bottom(MARGIN_BOTTOM)
                .left(MARGIN_LEFT)
                .right(MARGIN_RIGHT)
                .header(mm(15))
                .footer(mm(23))
                .gutter(0),
        )
        .default_fonts(fonts(FANGSONG))
        .default_size(SAN_HAO)
        .footer(page_number_footer(true))
        .even_footer(page_number_footer(false));
    docx.document = docx.document.doc_grid(DocGrid::new().grid_type(DocGridType::Lines).line_pitch(LINE as usize));
    for item in paragraphs(c)? {
        docx = match item {
            Item::P(p) => docx.add_paragraph(*p),
            Item::T(t) => docx.add_table(*t),
        };
    }
    let mut xml = docx.build();
    xml.document = patch_document(xml.document)?.into_bytes();
    xml.styles = patch_styles(xml.styles)?;
    let mut buf = Cursor::new(Vec::new());
    xml.pack(&mut buf).map_err(|e| CircularError::Docx(e.to_string()))?;
    Ok(buf.into_inner())
}
