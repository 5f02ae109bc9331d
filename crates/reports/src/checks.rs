//! The data-quality problem list as a workbook: a summary sheet (open problems per town and rule
//! category), then one sheet per town that inspectors print and take to the villages, with room
//! to write down what was found at the door.

use std::collections::BTreeMap;

use ducha_domain::checks::{Category, rule};
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionTree;
use ducha_storage::checks::StoredFinding;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

const COLUMNS: [(&str, f64); 10] = [
    ("序号", 6.0),
    ("村（居）", 16.0),
    ("户编号", 19.0),
    ("户主", 9.0),
    ("规则", 10.0),
    ("问题类别", 16.0),
    ("严重程度", 8.0),
    ("问题", 48.0),
    ("首次发现", 11.0),
    ("核实整改情况", 24.0),
];

/// Sheet names: at most 31 characters, none of `[]:*?/\`, unique within the workbook.
fn sheet_name(name: &str, taken: &mut Vec<String>) -> String {
    let clean: String =
        name.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\')).take(28).collect();
    let mut candidate = clean.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{clean}{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// The workbook for `findings` (already scoped and filtered), titled for `year`.
pub fn problem_list(findings: &[StoredFinding], tree: &RegionTree, year: i32) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::VerticalCenter);
    let mut by_town: BTreeMap<String, Vec<&StoredFinding>> = BTreeMap::new();
    for f in findings {
        // Institution findings belong to a district (a 6-digit code): their own sheet.
        by_town.entry(f.village_code.get(..9).unwrap_or(&f.village_code).to_string()).or_default().push(f);
    }
    let name_of = |code: &str| tree.get(code).map(|r| r.name.clone()).unwrap_or_else(|| code.to_string());
    let mut taken = Vec::new();

    // 汇总: towns down, categories across.
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name("汇总", &mut taken))?;
    let cats = <Category as Labelled>::ALL;
    let last_col = (cats.len() + 2) as u16;
    ws.merge_range(0, 0, 0, last_col, &format!("{year} 年数据质量核查问题汇总"), &title)?;
    ws.write_string_with_format(1, 0, "市(区)", &head)?;
    ws.write_string_with_format(1, 1, "镇（街）", &head)?;
    for (k, c) in cats.iter().enumerate() {
        ws.write_string_with_format(1, (k + 2) as u16, c.label(), &head)?;
        ws.set_column_width((k + 2) as u16, 12.0)?;
    }
    ws.write_string_with_format(1, last_col, "合计", &head)?;
    ws.set_column_width(0, 12.0)?;
    ws.set_column_width(1, 18.0)?;
    for (row, (town, list)) in by_town.iter().enumerate() {
        let r = (row + 2) as u32;
        ws.write_string_with_format(r, 0, name_of(town.get(..6).unwrap_or_default()), &cell)?;
        ws.write_string_with_format(r, 1, name_of(town), &cell)?;
        for (k, c) in cats.iter().enumerate() {
            let n = list.iter().filter(|f| rule(&f.rule).is_some_and(|r| r.category == *c)).count();
            ws.write_number_with_format(r, (k + 2) as u16, n as f64, &cell)?;
        }
        ws.write_number_with_format(r, last_col, list.len() as f64, &cell)?;
    }
    ws.set_freeze_panes(2, 2)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);

    for (town, list) in &by_town {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&name_of(town), &mut taken))?;
        let heading = format!("{} {year} 年数据质量问题清单", tree.path(town).unwrap_or_else(|| town.clone()));
        ws.merge_range(0, 0, 0, (COLUMNS.len() - 1) as u16, &heading, &title)?;
        for (k, (h, w)) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(1, k as u16, *h, &head)?;
            ws.set_column_width(k as u16, *w)?;
        }
        for (i, f) in list.iter().enumerate() {
            let r = (i + 2) as u32;
            let rl = rule(&f.rule);
            ws.write_number_with_format(r, 0, (i + 1) as f64, &cell)?;
            ws.write_string_with_format(r, 1, name_of(&f.village_code), &cell)?;
            let who = f.household_number.clone().unwrap_or_else(|| format!("（{}）", f.object));
            ws.write_string_with_format(r, 2, &who, &cell)?;
            ws.write_string_with_format(r, 3, f.head_name.as_deref().unwrap_or(""), &cell)?;
            ws.write_string_with_format(r, 4, &f.rule, &cell)?;
            ws.write_string_with_format(r, 5, rl.map(|r| r.category.label()).unwrap_or(""), &cell)?;
            ws.write_string_with_format(r, 6, rl.map(|r| r.severity.label()).unwrap_or(""), &cell)?;
            ws.write_string_with_format(r, 7, &f.message, &cell)?;
            ws.write_string_with_format(r, 8, f.first_seen_at.date_naive().to_string(), &cell)?;
            ws.write_string_with_format(r, 9, "", &cell)?;
        }
        ws.set_freeze_panes(2, 0)?;
        ws.set_repeat_rows(1, 1)?;
        ws.set_landscape();
        ws.set_paper_size(9); // A4
        ws.set_print_fit_to_pages(1, 0);
        ws.set_header("&L&\"宋体\"数据质量问题清单&R第 &P 页，共 &N 页");
    }
    wb.save_to_buffer()
}
