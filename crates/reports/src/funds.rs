//! Spending progress and the project library as a workbook.

use chrono::NaiveDate;
use ducha_storage::funds::{AllocationRow, ProjectRow, Spending};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

fn yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// Progress on a day, by region and by fund source.
pub struct ProgressSheets<'a> {
    pub year: i32,
    pub on: NaiveDate,
    pub regions: &'a [Spending],
    pub sources: &'a [Spending],
}

pub fn progress_workbook(
    p: &ProgressSheets<'_>,
    projects: &[ProjectRow],
    allocations: &[AllocationRow],
) -> Result<Vec<u8>, XlsxError> {
    let (year, on) = (p.year, p.on);
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_text_wrap();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let money = Format::new().set_border(FormatBorder::Thin).set_num_format("#,##0.00");
    // The same table by region and by fund source.
    for (sheet, first, rows) in [("资金使用进度", "地区", p.regions), ("按资金来源", "资金来源", p.sources)]
    {
        let ws = wb.add_worksheet().set_name(sheet)?;
        let cols = [
            first,
            "已下达（元）",
            "已到位（元）",
            "已安排到项目（元）",
            "已拨付（元）",
            "进度",
            "目标",
            "滞后（百分点）",
        ];
        let heading =
            format!("{year} 年扶贫资金使用进度（截至 {on}）{}", if first == "地区" { "" } else { "·按资金来源" });
        ws.merge_range(0, 0, 0, (cols.len() - 1) as u16, &heading, &title)?;
        for (i, c) in cols.iter().enumerate() {
            ws.write_string_with_format(1, i as u16, *c, &head)?;
            ws.set_column_width(i as u16, if i == 0 { 12.0 } else { 15.0 })?;
        }
        for (i, s) in rows.iter().enumerate() {
            let r = (i + 2) as u32;
            ws.write_string_with_format(r, 0, &s.name, &cell)?;
            for (k, m) in [s.allocated, s.arrived, s.committed, s.paid].iter().enumerate() {
                ws.write_number_with_format(r, (k + 1) as u16, yuan(m.fen()), &money)?;
            }
            ws.write_string_with_format(r, 5, s.percent.map(|p| format!("{p}%")).unwrap_or_else(|| "—".into()), &cell)?;
            ws.write_string_with_format(r, 6, format!("{}%", s.target_percent), &cell)?;
            ws.write_number_with_format(r, 7, s.lag().unwrap_or(0) as f64, &cell)?;
        }
    }
    let ws = wb.add_worksheet().set_name("项目库")?;
    let cols = ["项目", "类型", "造血型", "阶段", "阶段开始", "预算（元）", "已拨付（元）", "受益户"];
    ws.merge_range(0, 0, 0, (cols.len() - 1) as u16, &format!("{year} 年扶贫项目库"), &title)?;
    for (i, c) in cols.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *c, &head)?;
        ws.set_column_width(i as u16, if i == 0 { 28.0 } else { 12.0 })?;
    }
    for (i, p) in projects.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string_with_format(r, 0, &p.name, &cell)?;
        ws.write_string_with_format(r, 1, p.kind.to_string(), &cell)?;
        ws.write_string_with_format(r, 2, if p.income_generating { "是" } else { "否" }, &cell)?;
        ws.write_string_with_format(r, 3, p.stage.to_string(), &cell)?;
        ws.write_string_with_format(r, 4, p.stage_since.to_string(), &cell)?;
        ws.write_number_with_format(r, 5, yuan(p.budget.fen()), &money)?;
        ws.write_number_with_format(r, 6, yuan(p.paid.fen()), &money)?;
        ws.write_number_with_format(r, 7, p.households as f64, &cell)?;
    }
    let ws = wb.add_worksheet().set_name("资金下达")?;
    let cols = ["下达到", "来源", "金额（元）", "下达日期", "到位日期", "由市(区)下拨", "已下拨到镇(街)（元）"];
    ws.merge_range(0, 0, 0, (cols.len() - 1) as u16, &format!("{year} 年扶贫资金下达"), &title)?;
    for (i, c) in cols.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *c, &head)?;
        ws.set_column_width(i as u16, if i == 0 { 28.0 } else { 13.0 })?;
    }
    for (i, a) in allocations.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string_with_format(r, 0, &a.region_name, &cell)?;
        ws.write_string_with_format(r, 1, a.allocation.source.to_string(), &cell)?;
        ws.write_number_with_format(r, 2, yuan(a.allocation.amount.fen()), &money)?;
        ws.write_string_with_format(r, 3, a.allocation.allocated_on.to_string(), &cell)?;
        let arrived = a.allocation.arrived_on.map(|d| d.to_string()).unwrap_or_else(|| "未到位".into());
        ws.write_string_with_format(r, 4, arrived, &cell)?;
        ws.write_string_with_format(r, 5, if a.parent_id.is_some() { "是" } else { "" }, &cell)?;
        ws.write_number_with_format(r, 6, yuan(a.passed_down.fen()), &money)?;
    }
    wb.save_to_buffer()
}
