//! Posted cadres' attendance and the designated institutions' one-stop settlement as a workbook:
//! a sheet by district (or town), a sheet of every posting, a sheet of institutions.

use ducha_storage::Scoped;
use ducha_storage::platform::{AttendanceSummary, InstitutionRow, OnlineSummary, PostingRow};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::exchange::ExchangeError;

/// The workbook of a scope, for the current check year (the page's export and
/// `ducha platform attendance --out`); with the year, for the file's name.
pub async fn attendance_report(s: &Scoped) -> Result<(i32, Vec<u8>), ExchangeError> {
    let (year, _) = s.checks().current().await?;
    let platform = s.platform();
    let summary = platform.attendance().by_region(platform.attendance().level()).await?;
    let rows = platform.postings().list().await?;
    let institutions = platform.institutions().list().await?;
    let online = platform.institutions().online_by_district().await?;
    // The workbook is written on a blocking thread: a city's postings make a large one.
    let bytes = tokio::task::spawn_blocking(move || attendance_workbook(year, &summary, &rows, &institutions, &online))
        .await
        .map_err(|e| ExchangeError::Task(e.to_string()))??;
    Ok((year, bytes))
}

fn header(ws: &mut Worksheet, title: &str, columns: &[(&str, f64)]) -> Result<(), XlsxError> {
    let t = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_text_wrap();
    ws.merge_range(0, 0, 0, (columns.len() - 1) as u16, title, &t)?;
    for (i, (name, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *name, &head)?;
        ws.set_column_width(i as u16, *width)?;
    }
    ws.set_freeze_panes(2, 0)?;
    Ok(())
}

fn rate(r: Option<i64>) -> String {
    r.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
}

/// `by_region` is by district (or by town within a district); `postings` every posting listed.
pub fn attendance_workbook(
    year: i32,
    by_region: &[AttendanceSummary],
    postings: &[PostingRow],
    institutions: &[InstitutionRow],
    online: &[OnlineSummary],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let cell = Format::new().set_border(FormatBorder::Thin);
    let ws = wb.add_worksheet().set_name("驻点考勤汇总")?;
    header(
        ws,
        &format!("{year} 年派驻镇（街）扶贫干部驻点考勤汇总"),
        &[
            ("地区", 14.0),
            ("派驻人数", 10.0),
            ("全职", 8.0),
            ("无考勤（只在文件上）", 14.0),
            ("考勤天数", 10.0),
            ("应到岗工作日", 12.0),
            ("到岗率", 9.0),
        ],
    )?;
    for (i, s) in by_region.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string_with_format(r, 0, &s.name, &cell)?;
        ws.write_number_with_format(r, 1, s.postings as f64, &cell)?;
        ws.write_number_with_format(r, 2, s.full_time as f64, &cell)?;
        ws.write_number_with_format(r, 3, s.on_paper as f64, &cell)?;
        ws.write_number_with_format(r, 4, s.days_present as f64, &cell)?;
        ws.write_number_with_format(r, 5, s.expected_days as f64, &cell)?;
        ws.write_string_with_format(r, 6, rate(s.rate_percent), &cell)?;
    }
    let ws = wb.add_worksheet().set_name("派驻干部")?;
    header(
        ws,
        &format!("{year} 年派驻镇（街）扶贫干部名单及考勤"),
        &[
            ("镇（街）", 12.0),
            ("姓名", 9.0),
            ("派出单位", 20.0),
            ("是否全职", 8.0),
            ("派驻开始", 11.0),
            ("派驻结束", 11.0),
            ("考勤天数", 9.0),
            ("应到岗工作日", 11.0),
            ("到岗率", 8.0),
            ("最后签到", 11.0),
        ],
    )?;
    for (i, p) in postings.iter().enumerate() {
        let r = (i + 2) as u32;
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        ws.write_string_with_format(r, 0, &p.town_name, &cell)?;
        ws.write_string_with_format(r, 1, &p.posting.name, &cell)?;
        ws.write_string_with_format(r, 2, &p.posting.unit, &cell)?;
        ws.write_string_with_format(r, 3, if p.posting.full_time { "是" } else { "否" }, &cell)?;
        ws.write_string_with_format(r, 4, p.posting.started_on.to_string(), &cell)?;
        ws.write_string_with_format(r, 5, date(p.posting.ended_on), &cell)?;
        ws.write_number_with_format(r, 6, p.days_present as f64, &cell)?;
        ws.write_number_with_format(r, 7, p.expected_days as f64, &cell)?;
        ws.write_string_with_format(r, 8, rate(p.rate_percent), &cell)?;
        ws.write_string_with_format(r, 9, date(p.last_check_in), &cell)?;
    }
    let ws = wb.add_worksheet().set_name("一站式结算")?;
    header(
        ws,
        "定点医疗机构医疗救助与医疗保险同步结算（一站式）上线情况",
        &[("市（区）", 12.0), ("机构数", 8.0), ("已上线", 8.0), ("上线率", 8.0)],
    )?;
    for (i, s) in online.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string_with_format(r, 0, &s.name, &cell)?;
        ws.write_number_with_format(r, 1, s.institutions as f64, &cell)?;
        ws.write_number_with_format(r, 2, s.online as f64, &cell)?;
        ws.write_string_with_format(r, 3, rate(s.rate_percent), &cell)?;
    }
    let start = online.len() as u32 + 3;
    let head = Format::new().set_bold().set_border(FormatBorder::Thin);
    for (c, name) in ["市（区）", "医疗机构", "等级", "是否上线", "上线日期"].iter().enumerate() {
        ws.write_string_with_format(start, c as u16, *name, &head)?;
    }
    for (i, row) in institutions.iter().enumerate() {
        let r = start + 1 + i as u32;
        let inst = &row.institution;
        ws.write_string_with_format(r, 0, &row.district_name, &cell)?;
        ws.write_string_with_format(r, 1, &inst.name, &cell)?;
        ws.write_string_with_format(r, 2, inst.level.to_string(), &cell)?;
        ws.write_string_with_format(r, 3, if inst.one_stop_online { "是" } else { "否" }, &cell)?;
        ws.write_string_with_format(r, 4, inst.online_since.map(|d| d.to_string()).unwrap_or_default(), &cell)?;
    }
    wb.save_to_buffer()
}
