//! The help-plan (帮扶计划) and help-log (帮扶日志) templates: one row per plan or log, the
//! household by its number and the cadre by name. Read with the same cell rules as households.

use chrono::NaiveDate;
use ducha_domain::Money;
use ducha_domain::help::{IncomingLog, IncomingPlan, MeasureCategory};
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::parse_date;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::households::CellError;
use crate::sheet::{Table, column_letters, date_text, text};

pub const PLAN_SHEET: &str = "帮扶计划";
pub const LOG_SHEET: &str = "帮扶日志";
pub const PLAN_HEADERS: [&str; 5] = ["户编号", "年度", "目标人均纯收入", "帮扶责任人", "计划措施"];
pub const LOG_HEADERS: [&str; 5] = ["户编号", "日期", "帮扶责任人", "地点", "内容"];

/// Which template a sheet follows, from its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Households,
    Plans,
    Logs,
    /// 驻点考勤: 派驻干部, 镇（街）, 日期, 地点.
    Attendance,
    /// 项目库: 项目名称, 项目类型, … (PROJECT_HEADERS).
    Projects,
}

fn header(table: &Table) -> Option<(usize, Vec<String>)> {
    table
        .rows
        .iter()
        .find(|(_, c)| c.iter().any(|x| !x.is_empty()))
        .map(|(n, c)| (*n, c.iter().map(|x| text(x).unwrap_or_default()).collect()))
}

pub fn detect(table: &Table) -> Kind {
    let Some((_, h)) = header(table) else { return Kind::Households };
    let has = |name: &str| h.iter().any(|x| x == name);
    if has("派驻干部") && has("日期") {
        Kind::Attendance
    } else if has("项目名称") && has("绩效目标") {
        Kind::Projects
    } else if has("计划措施") && has("年度") {
        Kind::Plans
    } else if has("内容") && has("日期") && !has("姓名") {
        Kind::Logs
    } else {
        Kind::Households
    }
}

/// An error at a row and a named column of a sheet.
fn cell_error(table: &Table, row: usize, name: &str, message: String) -> CellError {
    CellError { sheet: table.sheet.clone(), row, column: col(table, name), header: name.into(), message }
}

/// One data row: its number, and (header, value) pairs.
type Row = (usize, Vec<(String, String)>);

/// The rows of a sheet with the given headers, and the errors in reading them.
fn rows(table: &Table, headers: &[&str]) -> (Vec<Row>, Vec<CellError>) {
    let mut errors = Vec::new();
    let Some((hrow, h)) = header(table) else { return (vec![], errors) };
    let mut at = Vec::new();
    for want in headers {
        match h.iter().position(|x| x == want) {
            Some(i) => at.push((want.to_string(), i)),
            None => errors.push(CellError {
                sheet: table.sheet.clone(),
                row: hrow,
                column: String::new(),
                header: String::new(),
                message: format!("缺少列“{want}”（模板的列为：{}）", headers.join("、")),
            }),
        }
    }
    let mut out = Vec::new();
    for (n, cells) in table.rows.iter().filter(|(n, _)| *n > hrow) {
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let mut values = Vec::new();
        for (name, i) in &at {
            let cell = cells.get(*i).cloned().unwrap_or(crate::sheet::Cell::Empty);
            let v = if name == "日期" { date_text(&cell).map(|(t, _)| t) } else { text(&cell) };
            match v {
                Ok(v) => values.push((name.clone(), v)),
                Err(m) => errors.push(CellError {
                    sheet: table.sheet.clone(),
                    row: *n,
                    column: column_letters(*i),
                    header: name.clone(),
                    message: m,
                }),
            }
        }
        out.push((*n, values));
    }
    (out, errors)
}

fn col(table: &Table, name: &str) -> String {
    header(table).and_then(|(_, h)| h.iter().position(|x| x == name)).map(column_letters).unwrap_or_default()
}

fn get(values: &[(String, String)], name: &str) -> String {
    values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

pub fn parse_plans(table: &Table, this_year: i32) -> (Vec<IncomingPlan>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &PLAN_HEADERS);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let number = get(&v, "户编号");
        if number.is_empty() {
            errors.push(err(row, "户编号", "户编号不能为空".into()));
            continue;
        }
        let year = match get(&v, "年度").parse::<i32>() {
            Ok(y) if (2014..=this_year + 1).contains(&y) => Some(y),
            _ => {
                errors.push(err(
                    row,
                    "年度",
                    format!("年度“{}”应为 2014 至 {} 之间的年份", get(&v, "年度"), this_year + 1),
                ));
                None
            }
        };
        let target = match Money::parse_yuan(&get(&v, "目标人均纯收入")) {
            Ok(m) if m > Money::ZERO => Some(m),
            Ok(_) => {
                errors.push(err(row, "目标人均纯收入", "目标人均纯收入应大于 0".into()));
                None
            }
            Err(e) => {
                errors.push(err(row, "目标人均纯收入", e.to_string()));
                None
            }
        };
        let mut categories = Vec::new();
        for c in get(&v, "计划措施").split(['、', ',', '，', ';', '；']).map(str::trim).filter(|c| !c.is_empty())
        {
            match MeasureCategory::parse(c) {
                Ok(k) if !categories.contains(&k) => categories.push(k),
                Ok(_) => {}
                Err(e) => errors.push(err(row, "计划措施", e.to_string())),
            }
        }
        if categories.is_empty() {
            errors.push(err(row, "计划措施", "请至少写一项计划措施".into()));
        }
        let cadre = Some(get(&v, "帮扶责任人")).filter(|c| !c.is_empty());
        if let (Some(year), Some(target_income)) = (year, target) {
            out.push(IncomingPlan { row, number, year, target_income, cadre_name: cadre, categories });
        }
    }
    (out, errors)
}

/// A date that has already come (a log or a day on post is written after the fact).
fn past_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    match parse_date(text)? {
        d if d <= today => Ok(d),
        _ => Err("日期不能晚于今天".into()),
    }
}

pub fn parse_logs(table: &Table, today: NaiveDate) -> (Vec<IncomingLog>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &LOG_HEADERS);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let number = get(&v, "户编号");
        if number.is_empty() {
            errors.push(err(row, "户编号", "户编号不能为空".into()));
            continue;
        }
        let date = past_date(&get(&v, "日期"), today).map_err(|m| errors.push(err(row, "日期", m))).ok();
        let content = get(&v, "内容");
        if content.is_empty() {
            errors.push(err(row, "内容", "请写明帮扶内容".into()));
            continue;
        }
        if let Some(visited_on) = date {
            out.push(IncomingLog {
                row,
                number,
                visited_on,
                cadre_name: Some(get(&v, "帮扶责任人")).filter(|c| !c.is_empty()),
                location: Some(get(&v, "地点")).filter(|c| !c.is_empty()),
                content,
            });
        }
    }
    (out, errors)
}

const ATTENDANCE_HEADERS: [&str; 4] = ["派驻干部", "镇（街）", "日期", "地点"];

/// An attendance sheet: one row per cadre and day on post.
pub fn parse_attendance(
    table: &Table,
    today: NaiveDate,
) -> (Vec<ducha_domain::platform::IncomingCheckIn>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &ATTENDANCE_HEADERS);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let name = get(&v, "派驻干部");
        let town = get(&v, "镇（街）");
        if name.is_empty() {
            errors.push(err(row, "派驻干部", "派驻干部姓名不能为空".into()));
        }
        if town.is_empty() {
            errors.push(err(row, "镇（街）", "请写明派驻的镇（街）".into()));
        }
        let on = past_date(&get(&v, "日期"), today).map_err(|m| errors.push(err(row, "日期", m))).ok();
        if let Some(on) = on
            && !name.is_empty()
            && !town.is_empty()
        {
            let place = Some(get(&v, "地点")).filter(|p| !p.is_empty());
            out.push(ducha_domain::platform::IncomingCheckIn { row, name, town, on, place });
        }
    }
    (out, errors)
}

pub const PROJECT_HEADERS: [&str; 14] = [
    "项目名称",
    "项目类型",
    "造血型",
    "所在镇（街）",
    "责任单位",
    "绩效目标",
    "中央资金",
    "省级资金",
    "市级资金",
    "市(区)级资金",
    "镇(街)级资金",
    "社会帮扶资金",
    "受益户",
    "公共受益",
];

/// A project library sheet: one project a row, its place by town name (or code) resolved in
/// `tree`, its households as numbers separated by commas or spaces.
pub fn parse_projects(
    table: &Table,
    tree: &ducha_domain::RegionTree,
) -> (Vec<ducha_domain::funds::IncomingProject>, Vec<CellError>) {
    use ducha_domain::funds::ProjectForm;
    let (rows, mut errors) = rows(table, &PROJECT_HEADERS);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    // The form's field names, for putting its errors at their columns.
    let column_of = |field: &str| match field {
        "name" => "项目名称",
        "kind" => "项目类型",
        "income_generating" => "造血型",
        "place_code" => "所在镇（街）",
        "unit" => "责任单位",
        "performance_target" => "绩效目标",
        "budget_central" => "中央资金",
        "budget_provincial" => "省级资金",
        "budget_city" => "市级资金",
        "budget_district" => "市(区)级资金",
        "budget_town" => "镇(街)级资金",
        "budget_social" => "社会帮扶资金",
        _ => "公共受益",
    };
    let mut out = Vec::new();
    for (row, v) in rows {
        let town = get(&v, "所在镇（街）");
        let place_code = if town.len() == 9 && town.bytes().all(|b| b.is_ascii_digit()) {
            town.clone()
        } else {
            tree.at_level(ducha_domain::RegionLevel::Town)
                .find(|t| t.name == town)
                .map(|t| t.code.as_str().to_string())
                .unwrap_or_default()
        };
        if place_code.is_empty() {
            errors.push(err(row, "所在镇（街）", format!("没有名为“{town}”的镇（街）")));
            continue;
        }
        let form = ProjectForm {
            name: get(&v, "项目名称"),
            kind: get(&v, "项目类型"),
            income_generating: get(&v, "造血型"),
            place_code,
            unit: get(&v, "责任单位"),
            performance_target: get(&v, "绩效目标"),
            budget_central: get(&v, "中央资金"),
            budget_provincial: get(&v, "省级资金"),
            budget_city: get(&v, "市级资金"),
            budget_district: get(&v, "市(区)级资金"),
            budget_town: get(&v, "镇(街)级资金"),
            budget_social: get(&v, "社会帮扶资金"),
            public_benefit: get(&v, "公共受益"),
        };
        match form.validate() {
            Ok(project) => {
                let households = get(&v, "受益户")
                    .split([',', '，', ' ', '、', ';', '；'])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                out.push(ducha_domain::funds::IncomingProject { row, project, households });
            }
            Err(e) => errors.extend(e.0.into_iter().map(|f| err(row, column_of(&f.field), f.message))),
        }
    }
    (out, errors)
}

/// The empty templates for plans and logs.
pub fn templates() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, headers) in [(PLAN_SHEET, PLAN_HEADERS), (LOG_SHEET, LOG_HEADERS)] {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}
