//! The help-plan (帮扶计划) and help-log (帮扶日志) templates: one row per plan or log, the
//! household by its number and the cadre by name. Read with the same cell rules as households.

use chrono::NaiveDate;
use ducha_domain::access::Scope;
use ducha_domain::help::{IncomingLog, IncomingPlan, MeasureCategory};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::{Limit, parse_amount};
use ducha_domain::registry::parse_date;
use ducha_domain::{Money, RegionTree};
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
    /// 拨付台账: 项目名称, 所在镇（街）, 拨付日期, … (PAYMENT_HEADERS), sent with its vouchers.
    Payments,
    /// 派驻干部名单: 姓名, 派出单位, 镇（街）, 是否全职, 开始日期, 结束日期.
    Postings,
    /// 定点医疗机构: 机构名称, 市（区）, 级别, 一站式结算, 上线日期.
    Institutions,
    /// 资金下达: 资金来源, 下达到, 金额（元）, 下达日期, 到位日期.
    Allocations,
}

/// A header as compared: no spaces or line breaks inside, full-width brackets ("金额(元)" is
/// "金额（元）"), whichever way the sheet or the template spells it.
pub fn norm(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('(', "（").replace(')', "）")
}

/// A header cell, as compared.
pub fn header_text(cell: &crate::sheet::Cell) -> String {
    norm(&text(cell).unwrap_or_default())
}

/// The header row of a sheet (its first row with content, once [`skip_title_rows`] has taken
/// any title away), with its row number.
pub fn header(table: &Table) -> Option<(usize, Vec<String>)> {
    table
        .rows
        .iter()
        .find(|(_, c)| c.iter().any(|x| !x.is_empty()))
        .map(|(n, c)| (*n, c.iter().map(header_text).collect()))
}

/// How far down a header is looked for: offices put a title, a subtitle, a 填报单位 line above it.
pub const HEADER_SEARCH: usize = 10;

/// Which template a header row is of, if any.
fn kind_of_headers(h: &[String]) -> Option<Kind> {
    let has = |name: &str| h.iter().any(|x| *x == norm(name));
    Some(if has("拨付日期") && has("凭证文件") {
        Kind::Payments
    } else if has("派出单位") && has("开始日期") {
        Kind::Postings
    } else if has("机构名称") && has("一站式结算") {
        Kind::Institutions
    } else if has("资金来源") && has("下达到") {
        Kind::Allocations
    } else if has("派驻干部") && has("日期") {
        Kind::Attendance
    } else if has("项目名称") && has("绩效目标") {
        Kind::Projects
    } else if has("计划措施") && has("年度") {
        Kind::Plans
    } else if has("内容") && has("日期") && !has("姓名") {
        Kind::Logs
    } else if has("户编号") && (has("姓名") || has("身份证号")) {
        Kind::Households
    } else {
        return None;
    })
}

/// Which template a sheet follows, from its header row (the households' when none is recognised:
/// its check then names the missing columns).
pub fn detect(table: &Table) -> Kind {
    header(table).and_then(|(_, h)| kind_of_headers(&h)).unwrap_or(Kind::Households)
}

/// Rows above the header (a title merged across the columns, a 填报单位 line) are not data: the
/// header is the first row, among the first [`HEADER_SEARCH`] with content, that holds a template's
/// headers; the rows above it are dropped, with a note. A sheet with no such row is left as it is
/// (its check says what is missing).
pub fn skip_title_rows(table: &mut Table) {
    let filled: Vec<usize> = table
        .rows
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| c.iter().any(|x| !x.is_empty()))
        .map(|(i, _)| i)
        .take(HEADER_SEARCH)
        .collect();
    let Some(at) = filled
        .iter()
        .position(|&i| kind_of_headers(&table.rows[i].1.iter().map(header_text).collect::<Vec<_>>()).is_some())
    else {
        return;
    };
    if at == 0 {
        return;
    }
    let titles: Vec<String> = filled[..at]
        .iter()
        .filter_map(|&i| table.rows[i].1.iter().map(|c| text(c).unwrap_or_default()).find(|t| !t.is_empty()))
        .map(|t| format!("“{}”", t.chars().take(40).collect::<String>()))
        .collect();
    let (first, header_row) = (table.rows[filled[0]].0, table.rows[filled[at]].0);
    let rows = if header_row - first > 1 {
        format!("第 {first}–{} 行", header_row - 1)
    } else {
        format!("第 {first} 行")
    };
    table.notes.push(format!(
        "工作表“{}”{rows}是表格标题（{}），不是数据，已跳过；表头在第 {header_row} 行",
        table.sheet,
        titles.join("、")
    ));
    table.rows.drain(..filled[at]);
}

/// An error at a row and a named column of a sheet.
fn cell_error(table: &Table, row: usize, name: &str, message: String) -> CellError {
    CellError { sheet: table.sheet.clone(), row, column: col(table, name), header: name.into(), message }
}

/// One data row: its number, and (header, value) pairs.
type Row = (usize, Vec<(String, String)>);

/// The rows of a sheet with the given headers, and the errors in reading them.
fn rows(table: &Table, headers: &[&str]) -> (Vec<Row>, Vec<CellError>) {
    rows_with(table, headers, &[])
}

/// The same, with columns a sheet may leave out (`optional`); a column named …日期 holds dates.
fn rows_with(table: &Table, headers: &[&str], optional: &[&str]) -> (Vec<Row>, Vec<CellError>) {
    let mut errors = Vec::new();
    let Some((hrow, h)) = header(table) else { return (vec![], errors) };
    let mut at = Vec::new();
    for want in headers.iter().chain(optional) {
        match h.iter().position(|x| *x == norm(want)) {
            Some(i) => at.push((want.to_string(), i)),
            None if optional.contains(want) => {}
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
        let mut unreadable = false;
        for (name, i) in &at {
            let cell = cells.get(*i).cloned().unwrap_or(crate::sheet::Cell::Empty);
            let v = if name.ends_with("日期") { date_text(&cell).map(|(t, _)| t) } else { text(&cell) };
            match v {
                Ok(v) => values.push((name.clone(), v)),
                Err(m) => {
                    unreadable = true;
                    errors.push(CellError {
                        sheet: table.sheet.clone(),
                        row: *n,
                        column: column_letters(*i),
                        header: name.clone(),
                        message: m,
                    })
                }
            }
        }
        // Its content is checked once it can be read: an unreadable cell (a formula without its
        // result) is not also "empty".
        if !unreadable {
            out.push((*n, values));
        }
    }
    (out, errors)
}

fn col(table: &Table, name: &str) -> String {
    header(table).and_then(|(_, h)| h.iter().position(|x| *x == norm(name))).map(column_letters).unwrap_or_default()
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
        let target = match parse_amount("目标人均纯收入", &get(&v, "目标人均纯收入"), Limit::Household) {
            Ok(m) if m > Money::ZERO => Some(m),
            Ok(_) => {
                errors.push(err(row, "目标人均纯收入", "目标人均纯收入应大于 0".into()));
                None
            }
            Err(e) => {
                errors.push(err(row, "目标人均纯收入", e));
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

pub const ATTENDANCE_SHEET: &str = "驻点考勤";
pub const ATTENDANCE_HEADERS: [&str; 4] = ["派驻干部", "镇（街）", "日期", "地点"];
/// Written only where two cadres of the same name are posted to one town.
const ATTENDANCE_OPTIONAL: [&str; 1] = ["派出单位"];

/// A town named in a sheet, resolved among the user's towns: its code, or the error at its cell;
/// a name read as another is noted.
fn town_at(
    table: &Table,
    row: usize,
    column: &str,
    text: &str,
    tree: &RegionTree,
    scope: &Scope,
    notes: &mut Vec<String>,
) -> Result<String, CellError> {
    division_at(table, row, column, text, &[ducha_domain::RegionLevel::Town], (tree, scope), notes)
}

/// The same for a division at one of `levels` (a district; a district or town).
fn division_at(
    table: &Table,
    row: usize,
    column: &str,
    text: &str,
    levels: &[ducha_domain::RegionLevel],
    (tree, scope): (&RegionTree, &Scope),
    notes: &mut Vec<String>,
) -> Result<String, CellError> {
    match tree.in_scope(text, levels, scope) {
        Ok((code, note)) => {
            notes.extend(note.map(|n| format!("第 {row} 行：{n}")));
            Ok(code)
        }
        Err(m) => Err(cell_error(table, row, column, m)),
    }
}

/// An attendance sheet: one row per cadre and day on post, the town resolved within `scope`.
pub fn parse_attendance(
    table: &Table,
    tree: &RegionTree,
    scope: &Scope,
    today: NaiveDate,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::platform::IncomingCheckIn>, Vec<CellError>) {
    let (rows, mut errors) = rows_with(table, &ATTENDANCE_HEADERS, &ATTENDANCE_OPTIONAL);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let name = get(&v, "派驻干部");
        let town = get(&v, "镇（街）");
        if name.is_empty() {
            errors.push(err(row, "派驻干部", "派驻干部姓名不能为空".into()));
        }
        let town_code = if town.is_empty() {
            errors.push(err(row, "镇（街）", "请写明派驻的镇（街）".into()));
            None
        } else {
            town_at(table, row, "镇（街）", &town, tree, scope, notes).map_err(|e| errors.push(e)).ok()
        };
        let on = past_date(&get(&v, "日期"), today).map_err(|m| errors.push(err(row, "日期", m))).ok();
        if let (Some(on), Some(town_code)) = (on, town_code)
            && !name.is_empty()
        {
            let place = Some(get(&v, "地点")).filter(|p| !p.is_empty());
            let unit = Some(get(&v, "派出单位")).filter(|u| !u.is_empty());
            out.push(ducha_domain::platform::IncomingCheckIn { row, name, town_code, unit, on, place });
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
    tree: &RegionTree,
    scope: &Scope,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::funds::IncomingProject>, Vec<CellError>) {
    use ducha_domain::funds::ProjectForm;
    let (rows, mut errors) = rows(table, &PROJECT_HEADERS);
    // The form's field names, for putting its errors at their columns.
    let columns = [
        ("name", "项目名称"),
        ("kind", "项目类型"),
        ("income_generating", "造血型"),
        ("place_code", "所在镇（街）"),
        ("unit", "责任单位"),
        ("performance_target", "绩效目标"),
        ("budget_central", "中央资金"),
        ("budget_provincial", "省级资金"),
        ("budget_city", "市级资金"),
        ("budget_district", "市(区)级资金"),
        ("budget_town", "镇(街)级资金"),
        ("budget_social", "社会帮扶资金"),
        ("public_benefit", "公共受益"),
    ];
    let mut out = Vec::new();
    for (row, v) in rows {
        let place_code = match town_at(table, row, "所在镇（街）", &get(&v, "所在镇（街）"), tree, scope, notes)
        {
            Ok(code) => code,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
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
                let households: Vec<String> = get(&v, "受益户")
                    .split([',', '，', ' ', '、', ';', '；'])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                let max = ducha_domain::funds::MAX_SERVED;
                if households.len() > max {
                    let m = format!("受益户最多 {max} 户，填了 {} 户：请分成几个项目", households.len());
                    errors.push(cell_error(table, row, "受益户", m));
                    continue;
                }
                out.push(ducha_domain::funds::IncomingProject { row, project, households });
            }
            Err(e) => errors.extend(at_columns(table, row, e, &columns)),
        }
    }
    (out, errors)
}

pub const PAYMENT_SHEET: &str = "拨付台账";
pub const PAYMENT_HEADERS: [&str; 6] = ["项目名称", "所在镇（街）", "拨付日期", "金额（元）", "收款单位", "凭证文件"];

/// A disbursement ledger (拨付台账): one payment a row, the project by its name and town (within
/// `scope`), the vouchers by the names of the files sent with the sheet.
pub fn parse_payments(
    table: &Table,
    tree: &RegionTree,
    scope: &Scope,
    today: NaiveDate,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::funds::IncomingPayment>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &PAYMENT_HEADERS);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let before = errors.len();
        let project = get(&v, "项目名称");
        if project.is_empty() {
            errors.push(err(row, "项目名称", "项目名称不能为空".into()));
        }
        let town = town_at(table, row, "所在镇（街）", &get(&v, "所在镇（街）"), tree, scope, notes)
            .map_err(|e| errors.push(e))
            .ok();
        let paid_on = past_date(&get(&v, "拨付日期"), today).map_err(|m| errors.push(err(row, "拨付日期", m))).ok();
        let amount = parse_amount("拨付金额", &get(&v, "金额（元）"), Limit::Project)
            .map_err(|m| errors.push(err(row, "金额（元）", m)))
            .ok();
        let payee = get(&v, "收款单位");
        if payee.is_empty() || payee.chars().count() > 80 {
            errors.push(err(row, "收款单位", "请填写收款单位或个人（80 字以内）".into()));
        }
        let vouchers: Vec<String> = get(&v, "凭证文件")
            .split(['、', ',', '，', ';', '；', '\n'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        if let (Some(town_code), Some(paid_on), Some(amount)) = (town, paid_on, amount)
            && errors.len() == before
        {
            out.push(ducha_domain::funds::IncomingPayment {
                row,
                project,
                town_code,
                paid_on,
                amount,
                payee,
                vouchers,
            });
        }
    }
    (out, errors)
}

/// A form's field errors at their columns: `columns` pairs each form field with its header.
fn at_columns(
    table: &Table,
    row: usize,
    e: ducha_domain::validation::FieldErrors,
    columns: &[(&str, &str)],
) -> Vec<CellError> {
    e.0.into_iter()
        .map(|f| {
            let header = columns.iter().find(|(field, _)| *field == f.field).map(|(_, h)| *h).unwrap_or_default();
            cell_error(table, row, header, f.message)
        })
        .collect()
}

pub const POSTING_HEADERS: [&str; 6] = ["姓名", "派出单位", "镇（街）", "是否全职", "开始日期", "结束日期"];

/// A roster of posted cadres (派驻干部名单): one posting a row, its town within `scope`.
pub fn parse_postings(
    table: &Table,
    tree: &RegionTree,
    scope: &Scope,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::platform::IncomingPosting>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &POSTING_HEADERS);
    let columns = [
        ("name", "姓名"),
        ("unit", "派出单位"),
        ("town_code", "镇（街）"),
        ("full_time", "是否全职"),
        ("started_on", "开始日期"),
        ("ended_on", "结束日期"),
    ];
    let mut out = Vec::new();
    for (row, v) in rows {
        let Ok(town_code) =
            town_at(table, row, "镇（街）", &get(&v, "镇（街）"), tree, scope, notes).map_err(|e| errors.push(e))
        else {
            continue;
        };
        let form = ducha_domain::platform::PostingForm {
            name: get(&v, "姓名"),
            unit: get(&v, "派出单位"),
            town_code,
            full_time: get(&v, "是否全职"),
            started_on: get(&v, "开始日期"),
            ended_on: get(&v, "结束日期"),
        };
        match form.validate() {
            Ok(posting) => out.push(ducha_domain::platform::IncomingPosting { row, posting }),
            Err(e) => errors.extend(at_columns(table, row, e, &columns)),
        }
    }
    (out, errors)
}

pub const INSTITUTION_HEADERS: [&str; 5] = ["机构名称", "市（区）", "级别", "一站式结算", "上线日期"];

/// The designated medical institutions (定点医疗机构) of a district: one a row.
pub fn parse_institutions(
    table: &Table,
    tree: &RegionTree,
    scope: &Scope,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::platform::IncomingInstitution>, Vec<CellError>) {
    let (rows, mut errors) = rows(table, &INSTITUTION_HEADERS);
    let columns = [
        ("name", "机构名称"),
        ("district_code", "市（区）"),
        ("level", "级别"),
        ("one_stop_online", "一站式结算"),
        ("online_since", "上线日期"),
    ];
    let mut out = Vec::new();
    for (row, v) in rows {
        let levels = [ducha_domain::RegionLevel::District];
        let Ok(district) = division_at(table, row, "市（区）", &get(&v, "市（区）"), &levels, (tree, scope), notes)
            .map_err(|e| errors.push(e))
        else {
            continue;
        };
        let form = ducha_domain::platform::InstitutionForm {
            name: get(&v, "机构名称"),
            district_code: district,
            level: get(&v, "级别"),
            one_stop_online: get(&v, "一站式结算"),
            online_since: get(&v, "上线日期"),
        };
        match form.validate() {
            Ok(institution) => out.push(ducha_domain::platform::IncomingInstitution { row, institution }),
            Err(e) => errors.extend(at_columns(table, row, e, &columns)),
        }
    }
    (out, errors)
}

pub const ALLOCATION_HEADERS: [&str; 5] = ["资金来源", "下达到", "金额（元）", "下达日期", "到位日期"];
/// Optional: 是 for funds a district passes down to one of its towns from its own allocation.
const PASSED_DOWN: &str = "由市(区)下拨";

/// Funds allocated (资金下达) for the check `year`: one allocation a row, to a district or town
/// within `scope`; the amount and dates checked as the form checks them.
pub fn parse_allocations(
    table: &Table,
    tree: &RegionTree,
    scope: &Scope,
    year: i32,
    today: NaiveDate,
    notes: &mut Vec<String>,
) -> (Vec<ducha_domain::funds::IncomingAllocation>, Vec<CellError>) {
    use ducha_domain::funds::{Allocation, FundSource};
    let (rows, mut errors) = rows_with(table, &ALLOCATION_HEADERS, &[PASSED_DOWN]);
    let err = |row: usize, name: &str, message: String| cell_error(table, row, name, message);
    let mut out = Vec::new();
    for (row, v) in rows {
        let before = errors.len();
        let source =
            FundSource::parse(&get(&v, "资金来源")).map_err(|e| errors.push(err(row, "资金来源", e.to_string()))).ok();
        let levels = [ducha_domain::RegionLevel::District, ducha_domain::RegionLevel::Town];
        let region = division_at(table, row, "下达到", &get(&v, "下达到"), &levels, (tree, scope), notes)
            .map_err(|e| errors.push(e))
            .ok();
        let amount = parse_amount("下达金额", &get(&v, "金额（元）"), Limit::Allocation)
            .map_err(|m| errors.push(err(row, "金额（元）", m)))
            .ok();
        let allocated_on = parse_date(&get(&v, "下达日期")).map_err(|m| errors.push(err(row, "下达日期", m))).ok();
        let arrived_on = match get(&v, "到位日期").as_str() {
            "" => Some(None),
            t => parse_date(t).map(Some).map_err(|m| errors.push(err(row, "到位日期", m))).ok(),
        };
        let (Some(source), Some(region_code), Some(amount), Some(allocated_on), Some(arrived_on)) =
            (source, region, amount, allocated_on, arrived_on)
        else {
            continue;
        };
        if errors.len() > before {
            continue;
        }
        let passed_down = match get(&v, PASSED_DOWN).as_str() {
            "" => false,
            t => match ducha_domain::platform::yes_no(t) {
                Some(b) => b,
                None => {
                    errors.push(err(row, PASSED_DOWN, format!("应填“是”或“否”，填的是“{t}”")));
                    continue;
                }
            },
        };
        if passed_down && region_code.len() != 9 {
            errors.push(err(row, "下达到", "由市(区)下拨的资金只能下达到镇(街)".into()));
            continue;
        }
        let allocation = Allocation { year, source, region_code, amount, allocated_on, arrived_on };
        match allocation.refusal(today) {
            Some((field, why)) => {
                let header = match field {
                    "amount" => "金额（元）",
                    "arrived_on" => "到位日期",
                    _ => "下达日期",
                };
                errors.push(err(row, header, why));
            }
            None => out.push(ducha_domain::funds::IncomingAllocation { row, allocation, passed_down }),
        }
    }
    (out, errors)
}

/// The empty sheet an office fills in for the project library, the disbursement ledger or the
/// days on post: one sheet (the import reads a file's first), headers frozen, and how to fill
/// each column as a note on its header, so that no example row can be imported by mistake.
pub fn platform_template(kind: Kind) -> Result<Vec<u8>, XlsxError> {
    let (name, headers, hints): (&str, &[&str], &[&str]) = match kind {
        Kind::Payments => (
            PAYMENT_SHEET,
            &PAYMENT_HEADERS,
            &[
                "与项目库中的项目名称一致",
                "镇（街）名或代码，如 台山市海宴镇",
                "如 2017-06-30",
                "元，如 80000",
                "收款单位或个人",
                "凭证的文件名，多个以顿号分隔；上传时与本表一起选择，或一起打包成 zip",
            ],
        ),
        Kind::Postings => (
            "派驻干部名单",
            &POSTING_HEADERS,
            &[
                "派驻干部姓名",
                "派出单位",
                "派驻的镇（街），如 台山市海宴镇",
                "是 / 否（全职驻点填是）",
                "如 2017-03-01",
                "尚在派驻的不填",
            ],
        ),
        Kind::Institutions => (
            "定点医疗机构",
            &INSTITUTION_HEADERS,
            &[
                "医疗机构名称；已登记的按名称和市（区）更新",
                "所在市（区），如 台山市",
                "三级、二级、一级或未定级",
                "医疗救助与医疗保险同步结算（一站式）是否上线：是 / 否",
                "上线的日期；未上线的不填",
            ],
        ),
        Kind::Allocations => (
            "资金下达",
            &["资金来源", "下达到", "金额（元）", "下达日期", "到位日期", PASSED_DOWN],
            &[
                "中央、省级、市级、市(区)级、镇(街)级或社会帮扶",
                "市（区）或镇（街）名或代码，如 台山市、台山市海宴镇",
                "元",
                "下达文件的日期；本年度资金可在上一年提前下达",
                "资金到位的日期；尚未到位的不填；已登记的资金再导入时补填",
                "是 / 否（可不填）：市(区)把已下达给本市(区)的资金拨给所辖镇(街)的填是，不重复计入市(区)合计",
            ],
        ),
        Kind::Attendance => (
            ATTENDANCE_SHEET,
            &["派驻干部", "镇（街）", "日期", "地点", "派出单位"],
            &[
                "派驻干部姓名",
                "派驻的镇（街）",
                "在岗的日期，如 2017-11-06",
                "签到地点（可不填）",
                "可不填；同一镇（街）有同名派驻干部时必填",
            ],
        ),
        _ => (
            "项目库",
            &PROJECT_HEADERS,
            &[
                "80 字以内",
                "产业、就业、扶贫车间、资产收益、乡村旅游、光伏、基础设施、教育、健康、住房、其他",
                "是 / 否；不填按项目类型",
                "镇（街）名或代码，如 台山市海宴镇",
                "",
                "没有绩效目标的项目不能入库，如 带动 20 户贫困户每户年增收 3000 元",
                "元",
                "元",
                "元",
                "元",
                "元",
                "元",
                "户编号，以顿号分隔",
                "不到户的项目（如道路、饮水）写明公共受益",
            ],
        ),
    };
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, if i == 0 { 26.0 } else { 14.0 })?;
        if let Some(hint) = hints.get(i).filter(|h| !h.is_empty()) {
            ws.insert_note(0, i as u16, &rust_xlsxwriter::Note::new(*hint).set_author("ducha"))?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

/// The disbursement ledger as a workbook in the import's own layout (towns by name): extended
/// with new rows and sent back with their vouchers, the rows it already held are unchanged. (A row
/// edited in it would come back as another payment: a payment recorded is not corrected by sheet.)
pub fn ledger_workbook(rows: &[ducha_storage::funds::LedgerRow], tree: &RegionTree) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name(PAYMENT_SHEET)?;
    for (i, h) in PAYMENT_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, if i == 0 { 26.0 } else { 14.0 })?;
    }
    for (i, r) in rows.iter().enumerate() {
        let n = (i + 1) as u32;
        let town = tree.get(&r.town_code).map(|t| t.name.clone()).unwrap_or_else(|| r.town_code.clone());
        ws.write_string(n, 0, &r.project)?;
        ws.write_string(n, 1, &town)?;
        ws.write_string(n, 2, r.paid_on.to_string())?;
        ws.write_number_with_format(n, 3, r.amount.fen() as f64 / 100.0, &money)?;
        ws.write_string(n, 4, &r.payee)?;
        ws.write_string(n, 5, r.vouchers.join("、"))?;
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each template is recognised as its kind when read back, and reads as no rows, no errors.
    #[test]
    fn each_platform_template_reads_back_as_its_kind_and_empty() {
        let tree = RegionTree::new(
            ducha_domain::region::parse_region_file(ducha_domain::region::JIANGMEN_CSV.as_bytes()).expect("regions"),
        );
        let today = NaiveDate::from_ymd_opt(2017, 11, 1).expect("date");
        for kind in
            [Kind::Projects, Kind::Payments, Kind::Attendance, Kind::Postings, Kind::Institutions, Kind::Allocations]
        {
            let bytes = platform_template(kind).expect("written");
            let tables = crate::sheet::read("模板.xlsx", &bytes, "").expect("read back");
            assert_eq!(tables.len(), 1);
            assert_eq!(detect(&tables[0]), kind);
            let mut notes = Vec::new();
            let errors = match kind {
                Kind::Projects => parse_projects(&tables[0], &tree, &Scope::All, &mut notes).1,
                Kind::Payments => parse_payments(&tables[0], &tree, &Scope::All, today, &mut notes).1,
                Kind::Postings => parse_postings(&tables[0], &tree, &Scope::All, &mut notes).1,
                Kind::Institutions => parse_institutions(&tables[0], &tree, &Scope::All, &mut notes).1,
                Kind::Allocations => parse_allocations(&tables[0], &tree, &Scope::All, 2017, today, &mut notes).1,
                _ => parse_attendance(&tables[0], &tree, &Scope::All, today, &mut notes).1,
            };
            assert!(errors.is_empty(), "{kind:?}: {errors:?}");
        }
    }

    /// Every template, with a title merged across its columns and a 填报单位 line above the header
    /// (as offices print them): the header is found, the titles skipped with a note, the template
    /// recognised. Without a header in reach, nothing is dropped.
    #[test]
    fn title_rows_above_any_templates_header_are_skipped() {
        use crate::sheet::Cell;
        let mut sheets = vec![(Kind::Households, crate::households::template().expect("written"))];
        sheets.extend(
            [Kind::Projects, Kind::Payments, Kind::Attendance, Kind::Postings, Kind::Institutions, Kind::Allocations]
                .map(|k| (k, platform_template(k).expect("written"))),
        );
        let mut tables: Vec<(Kind, Table)> = sheets
            .into_iter()
            .map(|(k, bytes)| (k, crate::sheet::read("模板.xlsx", &bytes, "").expect("read").remove(0)))
            .collect();
        let both = crate::sheet::read("模板.xlsx", &templates().expect("written"), "").expect("read");
        tables.extend([Kind::Plans, Kind::Logs].into_iter().zip(both));
        for (kind, mut table) in tables {
            let width = table.rows[0].1.len();
            let header: Vec<Cell> = table.rows.remove(0).1;
            table.rows = vec![
                (1, vec![Cell::Text("2017年台山市扶贫工作情况表".into()); width]),
                (2, vec![Cell::Text("填报单位：台山市扶贫办".into()), Cell::Empty, Cell::Text("2017年11月1日".into())]),
                (4, header.clone()),
            ];
            skip_title_rows(&mut table);
            assert_eq!(detect(&table), kind, "{:?}", table.notes);
            assert_eq!(table.rows[0].0, 4);
            let note = table.notes.last().expect("a note");
            assert!(note.contains("第 1–3 行是表格标题") && note.contains("表头在第 4 行"), "{note}");
            // A header too far down is not guessed at.
            let mut far: Vec<(usize, Vec<Cell>)> =
                (1..=HEADER_SEARCH).map(|n| (n, vec![Cell::Text(format!("说明 {n}"))])).collect();
            far.push((HEADER_SEARCH + 1, header));
            let mut table = Table { sheet: "x".into(), rows: far, notes: vec![] };
            skip_title_rows(&mut table);
            assert_eq!(table.rows[0].0, 1);
        }
    }

    #[test]
    fn a_ledger_row_is_refused_at_each_bad_cell_and_a_good_one_reads_whole() {
        let tree = RegionTree::new(
            ducha_domain::region::parse_region_file(ducha_domain::region::JIANGMEN_CSV.as_bytes()).expect("regions"),
        );
        let today = NaiveDate::from_ymd_opt(2017, 11, 1).expect("date");
        let taishan = Scope::Region(ducha_domain::RegionCode::parse("440781").expect("code"));
        let csv = "项目名称,所在镇（街）,拨付日期,金额（元）,收款单位,凭证文件\n\
                   光伏电站,台山市海晏镇,2017-06-30,\"80,000\",某光伏公司,回单1.pdf、回单2.jpg\n\
                   光伏电站,那吉镇,2017-12-30,-5,,\n";
        let table = crate::sheet::read("台账.csv", csv.as_bytes(), "").expect("read").remove(0);
        let mut notes = Vec::new();
        let (rows, errors) = parse_payments(&table, &tree, &taishan, today, &mut notes);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.row, r.town_code.as_str(), r.amount), (2, "440781111", Money::from_yuan(80_000)));
        assert_eq!(r.vouchers, ["回单1.pdf", "回单2.jpg"]);
        assert!(notes.iter().any(|n| n.starts_with("第 2 行") && n.contains("海宴镇")), "{notes:?}");
        let at: Vec<(usize, &str, &str)> =
            errors.iter().map(|e| (e.row, e.header.as_str(), e.column.as_str())).collect();
        assert_eq!(
            at,
            [(3, "所在镇（街）", "B"), (3, "拨付日期", "C"), (3, "金额（元）", "D"), (3, "收款单位", "E")],
            "{errors:?}"
        );
    }
}
