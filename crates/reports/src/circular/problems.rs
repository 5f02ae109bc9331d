//! The circular's problem list (问题清单) as a printable workbook: the title merged across the
//! columns, a bold bordered header repeated on every printed page, wrapped text, A4 landscape
//! fitted to the page width.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use super::{CircularError, Table};

/// The whole width of the sheet in Excel's character units, shared out by the relative widths.
const SHEET_WIDTH: f64 = 150.0;
/// Excel's row height limit, in points.
const MAX_ROW_HEIGHT: f64 = 409.0;

/// Width of a text in Excel's units: CJK characters take about two, others one.
fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

/// The workbook for `table`, titled `title` (sheet 问题清单).
pub fn problem_list_xlsx(title: &str, table: &Table) -> Result<Vec<u8>, CircularError> {
    let mut wb = Workbook::new();
    let title_format = Format::new()
        .set_bold()
        .set_font_name("方正小标宋简体")
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let head = Format::new()
        .set_bold()
        .set_font_name("黑体")
        .set_font_size(11)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let cell = Format::new()
        .set_font_name("仿宋_GB2312")
        .set_font_size(11)
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let centred = cell.clone().set_align(FormatAlign::Center);

    let ws = wb.add_worksheet();
    ws.set_name("问题清单")?;
    let n = table.columns().max(1);
    let widths: Vec<f64> = table.fractions().iter().map(|f| (f * SHEET_WIDTH).max(4.0)).collect();
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let last = (n - 1) as u16;
    if last == 0 {
        ws.write_string_with_format(0, 0, title, &title_format)?;
    } else {
        ws.merge_range(0, 0, 0, last, title, &title_format)?;
    }
    ws.set_row_height(0, 36)?;
    for c in 0..n {
        ws.write_string_with_format(1, c as u16, table.header(c), &head)?;
    }
    let centre = table.centred();
    for r in 0..table.rows.len() {
        let row = (r + 2) as u32;
        let mut lines = 1.0f64;
        for c in 0..n {
            let text = table.cell(r, c);
            let format = if centre.get(c).copied().unwrap_or(false) { &centred } else { &cell };
            // Whole numbers (序号) as numbers, so that Excel does not flag them as text.
            match text.parse::<u32>() {
                Ok(v) if !text.starts_with('0') || text == "0" => {
                    ws.write_number_with_format(row, c as u16, f64::from(v), format)?;
                }
                _ => {
                    ws.write_string_with_format(row, c as u16, text, format)?;
                }
            }
            let per_line = (widths.get(c).copied().unwrap_or(8.0) - 1.0).max(1.0);
            let cell_lines: f64 = text.lines().map(|l| (text_width(l) / per_line).ceil().max(1.0)).sum();
            lines = lines.max(cell_lines);
        }
        // Excel does not grow rows to fit wrapped text written by a library: estimate.
        ws.set_row_height(row, (lines * 14.5 + 4.0).min(MAX_ROW_HEIGHT))?;
    }
    ws.set_freeze_panes(2, 0)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(1, 1)?;
    ws.set_header("");
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;

    #[test]
    fn empty_list_still_has_its_header() {
        let bytes = problem_list_xlsx("问题清单", &Table::problem_list()).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("问题清单").unwrap();
        assert_eq!(range.get_value((1, 4)), Some(&Data::String("具体问题".into())));
        assert_eq!(range.height(), 2);
    }
}
