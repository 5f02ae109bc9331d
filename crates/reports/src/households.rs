//! The households-and-members template (贫困户及成员): one row per member, the household's columns
//! repeated (or merged) over its members' rows. Import reads it into checked households with every
//! error at its sheet, row and column; export writes the same layout, so that exporting and
//! importing again changes nothing.

use std::collections::HashMap;

use chrono::NaiveDate;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::{RegionLevel, RegionTree, Resolution};
use ducha_domain::registry::{
    Education, Health, Household, HouseholdForm, HouseholdStatus, HouseholdType, LabourAbility, Member, MemberForm,
    PovertyCause, Relation, SchoolStage, Sex,
};
use ducha_domain::{IdNumber, privacy};
use rust_xlsxwriter::{DataValidation, Format, Workbook, Worksheet, XlsxError};

use crate::sheet::{Cell, ReadError, Table, column_letters, date_text, read, text};

pub const SHEET: &str = "贫困户及成员";

/// The template's columns, in order: header, the form field it fills, and whether it is the
/// household's (repeated on each member row) or the member's.
pub const COLUMNS: [(&str, &str, bool); 29] = [
    ("户编号", "number", true),
    ("所在村代码", "village_code", true),
    ("所在村（居）", "village_name", true),
    ("贫困户属性", "household_type", true),
    ("主要致贫原因", "main_cause", true),
    ("其他致贫原因", "other_causes", true),
    ("识别日期", "identified_on", true),
    ("贫困户状态", "status", true),
    ("住址", "address", true),
    ("户联系电话", "phone", true),
    ("银行账号", "bank_account", true),
    ("不愁吃穿", "food_clothing", true),
    ("义务教育有保障", "compulsory_education", true),
    ("基本医疗有保障", "basic_medical", true),
    ("住房安全有保障", "safe_housing", true),
    ("饮水安全有保障", "safe_water", true),
    ("成员序号", "seq", false),
    ("姓名", "name", false),
    ("身份证号", "id_number", false),
    ("与户主关系", "relation", false),
    ("性别", "sex", false),
    ("出生日期", "birth_date", false),
    ("文化程度", "education", false),
    ("在校生状况", "school_stage", false),
    ("失学辍学原因", "out_of_school_reason", false),
    ("健康状况", "health", false),
    ("劳动能力", "labour_ability", false),
    ("参加基本医疗保险", "medical_insurance", false),
    ("成员联系电话", "member_phone", false),
];

/// A problem at one cell (or a whole row or the header).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CellError {
    pub sheet: String,
    pub row: usize,
    /// Column letters ("S"), empty for a whole row.
    pub column: String,
    pub header: String,
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "工作表“{}”第 {} 行：{}", self.sheet, self.row, self.message)
        } else {
            write!(
                f,
                "工作表“{}”第 {} 行 {} 列（{}）：{}",
                self.sheet, self.row, self.column, self.header, self.message
            )
        }
    }
}

pub use ducha_domain::registry::{IncomingHousehold as ImportHousehold, IncomingMember as ImportMember};

/// What a file holds, checked: the households that passed, every error, and what was normalised.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub sheet: String,
    /// Where each template field is in this file (field → column letters), for later messages.
    pub columns: HashMap<String, String>,
    pub households: Vec<ImportHousehold>,
    pub errors: Vec<CellError>,
    pub notes: Vec<String>,
    pub rows: usize,
}

/// Read and check a households file. A file that cannot be read at all is an error; anything
/// wrong inside it is listed in `errors` (and then nothing may be written).
pub fn parse(filename: &str, bytes: &[u8], tree: &RegionTree, today: NaiveDate) -> Result<Parsed, ReadError> {
    let mut tables = read(filename, bytes, SHEET)?;
    tables.iter_mut().for_each(crate::help_sheets::skip_title_rows);
    parse_tables(tables, tree, today)
}

/// The same, from sheets already read.
pub fn parse_tables(tables: Vec<Table>, tree: &RegionTree, today: NaiveDate) -> Result<Parsed, ReadError> {
    let mut tables = tables.into_iter();
    let Some(mut first) = tables.next() else { return Err(ReadError::NoSheet(SHEET.into())) };
    // A list split over several sheets: each continuation has its own header row, which the
    // first sheet's layout already covers; rows keep their own sheet's numbers in messages.
    let mut continued = Vec::new();
    for t in tables {
        continued.push(t.sheet.clone());
        let skip_header = t.rows.iter().position(|(_, c)| c.iter().any(|x| !x.is_empty())).map_or(0, |p| p + 1);
        let offset = first.rows.last().map_or(0, |(n, _)| *n);
        first.rows.extend(t.rows.into_iter().skip(skip_header).map(|(n, c)| (n + offset, c)));
        first.notes.extend(t.notes);
    }
    if !continued.is_empty() {
        first.notes.push(format!("名单接续在工作表 {} 中，已一并读取（行号按各表依次累计）", continued.join("、")));
    }
    Ok(parse_table(first, tree, today))
}

struct Layout {
    /// Template column index → file column index (None: the file lacks the column).
    at: Vec<Option<usize>>,
}

fn layout(table: &Table, errors: &mut Vec<CellError>) -> Option<(usize, Layout)> {
    // The header is the first row that is not empty.
    let (header_row, cells) = table.rows.iter().find(|(_, c)| c.iter().any(|x| !x.is_empty()))?;
    let mut at: HashMap<usize, usize> = HashMap::new();
    let mut header_errors = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let name = text(c).unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let normalised: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .replace(['(', ')'], "")
            .replace(['（', '）'], "");
        match COLUMNS.iter().position(|(h, _, _)| h.replace(['（', '）'], "") == normalised) {
            Some(k) if at.contains_key(&k) => header_errors.push(CellError {
                sheet: table.sheet.clone(),
                row: *header_row,
                column: column_letters(i),
                header: name.clone(),
                message: format!("表头“{name}”重复"),
            }),
            Some(k) => {
                at.insert(k, i);
            }
            None => header_errors.push(CellError {
                sheet: table.sheet.clone(),
                row: *header_row,
                column: column_letters(i),
                header: name.clone(),
                message: format!("表头“{name}”不是模板中的列；模板的列为：{}", COLUMNS.map(|c| c.0).join("、")),
            }),
        }
    }
    if at.is_empty() {
        // Not a header at all (a title, or data without one): one clear word, not one per cell.
        let first = cells.iter().map(|c| text(c).unwrap_or_default()).find(|t| !t.is_empty()).unwrap_or_default();
        errors.push(CellError {
            sheet: table.sheet.clone(),
            row: *header_row,
            column: String::new(),
            header: String::new(),
            message: format!(
                "找不到表头：第 {header_row} 行（“{}”）不是表头，前 {} 行中也没有含“户编号”“姓名”“身份证号”的表头行；请使用导入模板（表头上方可以有标题行）",
                first.chars().take(40).collect::<String>(),
                crate::help_sheets::HEADER_SEARCH
            ),
        });
        return Some((*header_row, Layout { at: vec![None; COLUMNS.len()] }));
    }
    errors.extend(header_errors);
    for required in ["户编号", "姓名", "身份证号"] {
        let k = COLUMNS.iter().position(|(h, _, _)| *h == required).unwrap_or(0);
        if !at.contains_key(&k) {
            errors.push(CellError {
                sheet: table.sheet.clone(),
                row: *header_row,
                column: String::new(),
                header: String::new(),
                message: format!("缺少必需的列“{required}”（请使用导入模板）"),
            });
        }
    }
    let at = (0..COLUMNS.len()).map(|k| at.get(&k).copied()).collect();
    Some((*header_row, Layout { at }))
}

/// The header of a template field ("id_number" → "身份证号").
pub fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|c| c.1 == field).map_or("", |c| c.0)
}

fn field_index(field: &str) -> usize {
    COLUMNS.iter().position(|(_, f, _)| *f == field).unwrap_or(0)
}

/// A household's rows while reading: its first row, its values, and each member row's values.
type Group = (usize, Vec<String>, Vec<(usize, Vec<String>)>);

pub fn parse_table(table: Table, tree: &RegionTree, today: NaiveDate) -> Parsed {
    let mut out = Parsed { sheet: table.sheet.clone(), notes: table.notes.clone(), ..Default::default() };
    let Some((header_row, lay)) = layout(&table, &mut out.errors) else {
        out.errors.push(CellError {
            sheet: table.sheet.clone(),
            row: 1,
            column: String::new(),
            header: String::new(),
            message: "文件中没有数据".into(),
        });
        return out;
    };
    if !out.errors.is_empty() {
        return out;
    }
    out.columns = lay
        .at
        .iter()
        .enumerate()
        .filter_map(|(k, i)| i.map(|i| (COLUMNS[k].1.to_string(), column_letters(i))))
        .collect();
    let sheet = table.sheet.clone();
    let err_at = |row: usize, k: usize, message: String| CellError {
        sheet: sheet.clone(),
        row,
        column: lay.at[k].map(column_letters).unwrap_or_default(),
        header: COLUMNS[k].0.to_string(),
        message,
    };
    let mut id_normalised = 0;
    let mut serial_dates = 0;
    let mut order: Vec<String> = Vec::new();
    // Per household number: the first row, its household values, and its members.
    let mut groups: HashMap<String, Group> = HashMap::new();
    // Rows with a cell that could not be read (its error given): their content is not checked
    // further, so that a formula without its result is not also reported as an empty field.
    let mut unreadable: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for (row, mut cells) in table.rows.into_iter().filter(|(n, _)| *n > header_row) {
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        let row = &row;
        out.rows += 1;
        let mut values = vec![String::new(); COLUMNS.len()];
        let mut bad = false;
        for (k, (_, field, _)) in COLUMNS.iter().enumerate() {
            let Some(cell) = lay.at[k].and_then(|i| cells.get_mut(i)) else { continue };
            let v = if ["identified_on", "birth_date"].contains(field) {
                date_text(cell).map(|(t, serial)| {
                    serial_dates += usize::from(serial);
                    t
                })
            } else {
                // The table is ours to take apart: text cells move, not copy.
                match std::mem::replace(cell, Cell::Empty) {
                    Cell::Text(t) if t.trim().len() == t.len() => Ok(t),
                    other => text(&other),
                }
            };
            match v {
                Ok(t) => values[k] = t,
                Err(m) => {
                    out.errors.push(err_at(*row, k, m));
                    bad = true;
                }
            }
        }
        if bad {
            unreadable.insert(*row);
        }
        let number = values[field_index("number")].clone();
        if number.is_empty() {
            if !bad {
                out.errors.push(err_at(*row, field_index("number"), "户编号不能为空".into()));
            }
            continue;
        }
        let pick = |household: bool| -> Vec<String> {
            values.iter().enumerate().filter(|(k, _)| COLUMNS[*k].2 == household).map(|(_, v)| v.clone()).collect()
        };
        let (household_vals, member_vals) = (pick(true), pick(false));
        match groups.get_mut(&number) {
            None => {
                order.push(number.clone());
                groups.insert(number.clone(), (*row, household_vals, vec![(*row, member_vals)]));
            }
            Some((first, hv, members)) => {
                // Later rows may leave the household's cells empty (or merged); what they do
                // fill in must agree with the first row.
                for (k, v) in household_vals.iter().enumerate() {
                    if !v.is_empty() && hv[k].is_empty() {
                        hv[k] = v.clone();
                    } else if !v.is_empty() && *v != hv[k] {
                        out.errors.push(err_at(*row, k, format!("与同户第 {first} 行的“{}”不一致", hv[k])));
                    }
                }
                members.push((*row, member_vals));
            }
        }
    }
    let member_offset = COLUMNS.iter().filter(|c| c.2).count();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for number in order {
        let Some((first, hv, members)) = groups.remove(&number) else { continue };
        if unreadable.contains(&first) {
            continue;
        }
        let get = |f: &str| hv[field_index(f)].clone();
        let mut village = get("village_code");
        if village.is_empty() && !get("village_name").is_empty() {
            match tree.resolve(&get("village_name"), Some(RegionLevel::Village)) {
                Resolution::Exact { region } => village = region.code.as_str().to_string(),
                Resolution::Corrected { region, note } => {
                    out.notes.push(format!("第 {first} 行：{note}"));
                    village = region.code.as_str().to_string();
                }
                Resolution::Ambiguous { candidates } => {
                    let names: Vec<String> = candidates
                        .iter()
                        .map(|c| format!("{}（{}）", tree.path(c.code.as_str()).unwrap_or_default(), c.code))
                        .collect();
                    out.errors.push(err_at(
                        first,
                        field_index("village_name"),
                        format!("村名有多处同名，请填写所在村代码：{}", names.join("、")),
                    ));
                    continue;
                }
                Resolution::NotFound => {
                    out.errors.push(err_at(
                        first,
                        field_index("village_name"),
                        format!("找不到村（居）“{}”", get("village_name")),
                    ));
                    continue;
                }
            }
        }
        let causes: Vec<String> = get("other_causes")
            .split(['、', ',', '，', ';', '；', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if causes.len() > 2 {
            out.errors.push(err_at(first, field_index("other_causes"), "其他致贫原因最多两项".into()));
        }
        let form = HouseholdForm {
            number: number.clone(),
            village_code: village,
            household_type: get("household_type"),
            main_cause: get("main_cause"),
            other_cause_1: causes.first().cloned().unwrap_or_default(),
            other_cause_2: causes.get(1).cloned().unwrap_or_default(),
            food_clothing: get("food_clothing"),
            compulsory_education: get("compulsory_education"),
            basic_medical: get("basic_medical"),
            safe_housing: get("safe_housing"),
            safe_water: get("safe_water"),
            identified_on: get("identified_on"),
            address: get("address"),
            phone: get("phone"),
            bank_account: get("bank_account"),
        };
        let status = match get("status").as_str() {
            "" => None,
            s => match HouseholdStatus::parse(s) {
                Ok(st) => Some(st),
                Err(e) => {
                    out.errors.push(err_at(first, field_index("status"), e.to_string()));
                    None
                }
            },
        };
        let household = match form.validate(tree, today) {
            Ok(h) => Some(Household { status: status.unwrap_or(HouseholdStatus::Identified), ..h }),
            Err(fe) => {
                for e in fe.0 {
                    let k = match e.field.as_str() {
                        "other_cause_1" | "other_cause_2" => field_index("other_causes"),
                        f => field_index(f),
                    };
                    out.errors.push(err_at(first, k, e.message));
                }
                None
            }
        };
        let mut ims = Vec::new();
        for (row, mv) in members {
            if mv.iter().all(String::is_empty) || unreadable.contains(&row) {
                continue; // a household row without a member, or one already in error
            }
            let mut mv = mv;
            let mut m = |f: &str| std::mem::take(&mut mv[field_index(f) - member_offset]);
            let raw_id = m("id_number");
            if raw_id.contains('*') {
                out.errors.push(err_at(
                    row,
                    field_index("id_number"),
                    "身份证号已遮盖，不能导入；请由有个人信息权限的账号导出完整数据".into(),
                ));
                continue;
            }
            if let Ok(id) = IdNumber::parse(&raw_id)
                && id.as_str() != raw_id
            {
                id_normalised += 1;
            }
            let form = MemberForm {
                name: m("name"),
                id_number: raw_id,
                relation: m("relation"),
                sex: m("sex"),
                birth_date: m("birth_date"),
                education: m("education"),
                school_stage: m("school_stage"),
                out_of_school_reason: m("out_of_school_reason"),
                health: m("health"),
                labour_ability: m("labour_ability"),
                medical_insurance: m("medical_insurance"),
                phone: m("member_phone"),
            };
            let seq = match m("seq").as_str() {
                "" => None,
                s => match s.parse::<i32>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        out.errors.push(err_at(row, field_index("seq"), format!("成员序号“{s}”应为正整数")));
                        None
                    }
                },
            };
            let (member, problems) = match form.validate(today) {
                Ok(member) => (Some(member), vec![]),
                Err(fe) => {
                    let problems: Vec<(String, String)> =
                        fe.0.into_iter()
                            .map(|e| (if e.field == "phone" { "member_phone".to_string() } else { e.field }, e.message))
                            .collect();
                    match form.as_recorded() {
                        // Readable as written: the registry may hold it already (old problems).
                        Some(m) => (Some(m), problems),
                        None => {
                            for (f, msg) in problems {
                                out.errors.push(err_at(row, field_index(&f), msg));
                            }
                            (None, vec![])
                        }
                    }
                }
            };
            if let Some(member) = member {
                let mut problems = problems;
                if let Some(prev) = seen_ids.insert(member.id_number.clone(), row) {
                    problems.push(("id_number".into(), format!("身份证号与第 {prev} 行重复")));
                }
                ims.push(ImportMember { row, seq, member, problems });
            }
        }
        if let Some(household) = household {
            out.households.push(ImportHousehold { row: first, household, status, members: ims });
        }
    }
    if id_normalised > 0 {
        out.notes.push(format!("{id_normalised} 个身份证号中的全角字符、空格或小写 x 已规范化"));
    }
    if serial_dates > 0 {
        out.notes.push(format!("{serial_dates} 个日期是 Excel 日期序号，已换算为日期"));
    }
    out.errors
        .sort_by(|a, b| a.row.cmp(&b.row).then(a.column.len().cmp(&b.column.len())).then(a.column.cmp(&b.column)));
    out
}

/// One household to export, with its current members.
#[derive(Debug, Clone)]
pub struct ExportHousehold {
    pub household: Household,
    pub village_name: String,
    pub members: Vec<(i32, Member)>,
}

/// The largest number of rows a sheet holds (Excel's limit), the header included.
pub const MAX_ROWS: u32 = 1_048_576;

/// Writes the template's layout into a workbook, opening a further sheet when one is full.
pub struct Exporter {
    workbook: Workbook,
    mask: bool,
    rows_per_sheet: u32,
    /// Sheets opened so far; rows go to the last.
    sheets: usize,
    /// The next row of the last sheet.
    row: u32,
    /// Cells written, for throughput figures.
    pub cells: u64,
}

fn header(ws: &mut Worksheet, bold: &Format) -> Result<(), XlsxError> {
    for (i, (h, _, _)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, bold)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn list_validation(ws: &mut Worksheet, col: usize, last_row: u32, values: &[&str]) -> Result<(), XlsxError> {
    let v = DataValidation::new().allow_list_strings(values)?;
    ws.add_data_validation(1, col as u16, last_row, col as u16, &v)?;
    Ok(())
}

fn labels<T: Labelled>() -> Vec<&'static str> {
    T::ALL.iter().map(|v| v.label()).collect()
}

/// Dropdowns for the closed vocabularies, as the template offers them.
fn validations(ws: &mut Worksheet, last_row: u32) -> Result<(), XlsxError> {
    list_validation(ws, field_index("household_type"), last_row, &labels::<HouseholdType>())?;
    list_validation(ws, field_index("main_cause"), last_row, &labels::<PovertyCause>())?;
    list_validation(ws, field_index("status"), last_row, &labels::<HouseholdStatus>())?;
    list_validation(ws, field_index("relation"), last_row, &labels::<Relation>())?;
    list_validation(ws, field_index("sex"), last_row, &labels::<Sex>())?;
    list_validation(ws, field_index("education"), last_row, &labels::<Education>())?;
    list_validation(ws, field_index("school_stage"), last_row, &labels::<SchoolStage>())?;
    list_validation(ws, field_index("health"), last_row, &labels::<Health>())?;
    list_validation(ws, field_index("labour_ability"), last_row, &labels::<LabourAbility>())?;
    for f in
        ["food_clothing", "compulsory_education", "basic_medical", "safe_housing", "safe_water", "medical_insurance"]
    {
        list_validation(ws, field_index(f), last_row, &["是", "否"])?;
    }
    Ok(())
}

impl Exporter {
    /// `mask`: ID numbers, phones and accounts masked (for roles without the personal-data right;
    /// such a file cannot be imported back).
    pub fn new(mask: bool) -> Exporter {
        let mut workbook = Workbook::new();
        // Fast compression: a third of the export's time went to zlib at the default level, for
        // a file a little smaller.
        workbook.set_zip_compression_level(1);
        Exporter { workbook, mask, rows_per_sheet: MAX_ROWS, sheets: 0, row: 0, cells: 0 }
    }

    /// Split sheets after fewer rows (to test the split without writing a million rows).
    pub fn with_rows_per_sheet(mut self, rows: u32) -> Exporter {
        self.rows_per_sheet = rows.clamp(2, MAX_ROWS);
        self
    }

    fn sheet_name(i: usize) -> String {
        if i == 0 { SHEET.to_string() } else { format!("{SHEET}({})", i + 1) }
    }

    /// The sheet the next row goes to, opening a new one when the last is full.
    fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        if self.sheets == 0 || self.row >= self.rows_per_sheet {
            let bold = Format::new().set_bold();
            let ws = self.workbook.add_worksheet_with_constant_memory()?;
            ws.set_name(Self::sheet_name(self.sheets))?;
            header(ws, &bold)?;
            self.sheets += 1;
            self.row = 1;
        }
        self.workbook.worksheet_from_index(self.sheets - 1)
    }

    /// Whether personal data is masked in what this writes.
    pub fn masks(&self) -> bool {
        self.mask
    }

    /// One household: a row per member (one row if it has none).
    pub fn push(&mut self, h: &ExportHousehold) -> Result<(), XlsxError> {
        let hh = &h.household;
        let mask = self.mask;
        let id = |s: &str| if mask { privacy::mask_id(s) } else { s.to_string() };
        let phone = |s: &Option<String>| {
            s.as_deref().map(|p| if mask { privacy::mask_phone(p) } else { p.to_string() }).unwrap_or_default()
        };
        let account = |s: &Option<String>| {
            s.as_deref().map(|p| if mask { privacy::mask_account(p) } else { p.to_string() }).unwrap_or_default()
        };
        let yn = |b: bool| if b { "是" } else { "否" };
        let household_cells: Vec<String> = vec![
            hh.number.clone(),
            hh.village_code.clone(),
            h.village_name.clone(),
            hh.household_type.label().into(),
            hh.main_cause.label().into(),
            hh.other_causes.iter().map(|c| c.label()).collect::<Vec<_>>().join("、"),
            hh.identified_on.to_string(),
            hh.status.label().into(),
            hh.address.clone(),
            phone(&hh.phone),
            account(&hh.bank_account),
            yn(hh.guarantees.food_clothing).into(),
            yn(hh.guarantees.compulsory_education).into(),
            yn(hh.guarantees.basic_medical).into(),
            yn(hh.guarantees.safe_housing).into(),
            yn(hh.guarantees.safe_water).into(),
        ];
        let member_rows: Vec<Vec<String>> = if h.members.is_empty() {
            vec![vec![String::new(); COLUMNS.len() - household_cells.len()]]
        } else {
            h.members
                .iter()
                .map(|(seq, m)| {
                    vec![
                        seq.to_string(),
                        m.name.clone(),
                        id(&m.id_number),
                        m.relation.label().into(),
                        m.sex.label().into(),
                        // Beside a masked ID number, the full date would give it back.
                        if mask { privacy::mask_birth_date(m.birth_date) } else { m.birth_date.to_string() },
                        m.education.label().into(),
                        m.school_stage.label().into(),
                        m.out_of_school_reason.clone().unwrap_or_default(),
                        m.health.label().into(),
                        m.labour_ability.label().into(),
                        yn(m.medical_insurance).into(),
                        phone(&m.phone),
                    ]
                })
                .collect()
        };
        for mr in member_rows {
            let mut written = 0;
            self.sheet()?;
            let row = self.row;
            let ws = self.workbook.worksheet_from_index(self.sheets - 1)?;
            // Everything is text: ID numbers and accounts must never become numbers.
            for (c, v) in household_cells.iter().chain(mr.iter()).enumerate() {
                if !v.is_empty() {
                    ws.write_string(row, c as u16, v)?;
                    written += 1;
                }
            }
            self.cells += written;
            self.row += 1;
        }
        Ok(())
    }

    /// The finished workbook; dropdowns are added to each sheet over the rows written.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.sheet()?;
        let last_sheet = self.sheets - 1;
        for i in 0..self.sheets {
            let used = if i == last_sheet { self.row } else { self.rows_per_sheet };
            let ws = self.workbook.worksheet_from_index(i)?;
            // Dropdowns over the rows written and room to add more (at least a thousand).
            validations(ws, used.clamp(1_001, MAX_ROWS) - 1)?;
        }
        self.workbook.save_to_buffer()
    }
}

/// The empty template, with its dropdowns, for people to fill in.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    Exporter::new(false).finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ducha_domain::region::{JIANGMEN_CSV, parse_region_file};

    fn tree() -> RegionTree {
        RegionTree::new(parse_region_file(JIANGMEN_CSV.as_bytes()).unwrap())
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2017, 11, 6).unwrap()
    }

    fn id(first17: &str) -> String {
        format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()))
    }

    fn sample() -> Vec<ExportHousehold> {
        let form = |number: &str, cause: &str| HouseholdForm {
            number: number.into(),
            village_code: "440781111210".into(),
            household_type: "低保贫困户".into(),
            main_cause: cause.into(),
            other_cause_1: "缺技术".into(),
            other_cause_2: String::new(),
            food_clothing: "是".into(),
            compulsory_education: "是".into(),
            basic_medical: "是".into(),
            safe_housing: "否".into(),
            safe_water: "是".into(),
            identified_on: "2016-05-03".into(),
            address: "春场村 8 号".into(),
            phone: "13812345678".into(),
            bank_account: "6228480000123456789".into(),
        };
        let member = |name: &str, id: String, rel: &str| MemberForm {
            name: name.into(),
            id_number: id,
            relation: rel.into(),
            education: "初中".into(),
            school_stage: "非在校生".into(),
            health: "健康".into(),
            labour_ability: "有劳动能力".into(),
            medical_insurance: "是".into(),
            ..Default::default()
        };
        vec![
            ExportHousehold {
                household: form("44078111121000001", "因病").validate(&tree(), today()).unwrap(),
                village_name: "春场村委会".into(),
                members: vec![
                    (1, member("陈大文", id("44078119700101123"), "户主").validate(today()).unwrap()),
                    (2, member("李秀英", id("44078119720202124"), "配偶").validate(today()).unwrap()),
                ],
            },
            ExportHousehold {
                household: form("44078111121000002", "缺资金").validate(&tree(), today()).unwrap(),
                village_name: "春场村委会".into(),
                members: vec![],
            },
        ]
    }

    fn export(hs: &[ExportHousehold], mask: bool) -> Vec<u8> {
        let mut x = Exporter::new(mask);
        for h in hs {
            x.push(h).unwrap();
        }
        x.finish().unwrap()
    }

    #[test]
    fn export_then_import_gives_the_same_households_and_members() {
        let hs = sample();
        let bytes = export(&hs, false);
        let p = parse("导出.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.households.len(), 2);
        for (got, want) in p.households.iter().zip(&hs) {
            assert_eq!(got.household, want.household);
            assert_eq!(
                got.members.iter().map(|m| (m.seq.unwrap(), m.member.clone())).collect::<Vec<_>>(),
                want.members
            );
        }
        assert_eq!(p.households[0].status, Some(HouseholdStatus::Identified));
    }

    #[test]
    fn a_masked_export_cannot_come_back() {
        let bytes = export(&sample(), true);
        let p = parse("遮盖.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.iter().any(|e| e.message.contains("身份证号已遮盖") && e.column == "S"), "{:?}", p.errors);
    }

    #[test]
    fn sheets_split_at_the_row_limit_and_read_back_whole() {
        let mut hs = Vec::new();
        for i in 0..7 {
            let mut h = sample().remove(0);
            h.household.number = format!("4407811112100{i:04}");
            h.members = vec![(
                1,
                MemberForm {
                    name: format!("户主{i}"),
                    id_number: id(&format!("44078119700101{i:03}")),
                    relation: "户主".into(),
                    education: "初中".into(),
                    school_stage: "非在校生".into(),
                    health: "健康".into(),
                    labour_ability: "有劳动能力".into(),
                    ..Default::default()
                }
                .validate(today())
                .unwrap(),
            )];
            hs.push(h);
        }
        let mut x = Exporter::new(false).with_rows_per_sheet(4);
        for h in &hs {
            x.push(h).unwrap();
        }
        let bytes = x.finish().unwrap();
        let tables = read("分表.xlsx", &bytes, SHEET).unwrap();
        assert_eq!(tables.len(), 3, "3 data rows a sheet: 7 rows make 3 sheets");
        assert_eq!(tables[1].sheet, "贫困户及成员(2)");
        let p = parse("分表.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.households.len(), 7);
    }

    /// A sheet written cell by cell, as another program would.
    fn workbook(rows: &[Vec<&str>], tweak: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32, c as u16, *v).unwrap();
                }
            }
        }
        tweak(ws);
        wb.save_to_buffer().unwrap()
    }

    fn headers() -> Vec<&'static str> {
        COLUMNS.iter().map(|c| c.0).collect()
    }

    fn row(number: &str, name: &str, idn: &str, rel: &str) -> Vec<String> {
        let mut r = vec![String::new(); COLUMNS.len()];
        let set = |r: &mut Vec<String>, f: &str, v: &str| r[field_index(f)] = v.to_string();
        set(&mut r, "number", number);
        set(&mut r, "village_code", "440781111210");
        set(&mut r, "household_type", "一般贫困户");
        set(&mut r, "main_cause", "因病");
        set(&mut r, "identified_on", "2016-05-03");
        set(&mut r, "seq", "1");
        set(&mut r, "name", name);
        set(&mut r, "id_number", idn);
        set(&mut r, "relation", rel);
        set(&mut r, "education", "初中");
        set(&mut r, "school_stage", "非在校生");
        set(&mut r, "health", "健康");
        set(&mut r, "labour_ability", "有劳动能力");
        r
    }

    #[test]
    fn errors_name_sheet_row_and_column_and_nothing_passes_silently() {
        let good = id("44078119700101123");
        let bad = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
        let mut r3 = row("H2", "王五", "44078119700101", "户主");
        r3[field_index("identified_on")] = "2016-13-40".into();
        let rows: Vec<Vec<String>> = vec![
            headers().iter().map(|s| s.to_string()).collect(),
            row("H1", "张三", &bad, "户主"),
            r3,
            vec![String::new(); COLUMNS.len()],
            row("H3", "赵六", &good, "之女"),
        ];
        let rows_ref: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let bytes = workbook(&rows_ref, |_| {});
        let p = parse("错误.xlsx", &bytes, &tree(), today()).unwrap();
        let shown: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            shown.iter().any(|s| s.starts_with("工作表“Sheet1”第 2 行 S 列（身份证号）：身份证号校验位错误")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("工作表“Sheet1”第 3 行 S 列（身份证号）：身份证号应为 18 位")),
            "{shown:?}"
        );
        assert!(shown.iter().any(|s| s.starts_with("工作表“Sheet1”第 3 行 G 列（识别日期）")), "{shown:?}");
        // 之女 with a man's ID: readable as written, so held as the member's problem (an error
        // unless the registry already holds exactly this member).
        let h3 = p.households.iter().find(|h| h.household.number == "H3").expect("H3 is readable");
        assert!(
            h3.members[0].problems.iter().any(|(f, m)| f == "relation" && m.contains("不符")),
            "{:?}",
            h3.members[0].problems
        );
        assert_eq!(p.rows, 3, "three rows with data; the empty one is skipped");
    }

    #[test]
    fn wrong_headers_are_named() {
        let mut h = headers();
        h[3] = "户属性";
        let bytes = workbook(&[h], |_| {});
        let p = parse("表头.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(
            p.errors[0].to_string().contains("第 1 行 D 列（户属性）：表头“户属性”不是模板中的列"),
            "{:?}",
            p.errors
        );
    }

    #[test]
    fn merged_cells_serial_dates_full_width_ids_and_numbers_as_text_are_normalised() {
        let good = id("44078119700101123");
        let wide: String = good
            .chars()
            .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { c })
            .collect();
        let second = id("44078119720202124");
        let mut r1 = row("H9", "陈大文", &format!(" {wide} "), "户主");
        r1[field_index("identified_on")] = String::new();
        let mut r2 = row("", "李秀英", &second, "配偶");
        for (k, c) in COLUMNS.iter().enumerate() {
            if c.2 {
                r2[k] = String::new();
            }
        }
        r2[field_index("seq")] = String::new();
        let rows = [headers().iter().map(|s| s.to_string()).collect::<Vec<_>>(), r1, r2];
        let rows_ref: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let bytes = workbook(&rows_ref, |ws| {
            // The household's cells merged over its two member rows; a date as a serial number;
            // a phone typed as a number.
            for (k, c) in COLUMNS.iter().enumerate() {
                if c.2 && k != field_index("identified_on") {
                    let v = rows[1][k].clone();
                    ws.merge_range(1, k as u16, 2, k as u16, &v, &Format::new()).unwrap();
                }
            }
            ws.write_number(1, field_index("identified_on") as u16, 42_491.0).unwrap();
            ws.write_number(1, field_index("member_phone") as u16, 13_912_345_678.0).unwrap();
        });
        let p = parse("合并.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.households.len(), 1);
        let h = &p.households[0];
        assert_eq!(h.members.len(), 2);
        assert_eq!(h.members[0].member.id_number, good);
        assert_eq!(h.members[0].member.phone.as_deref(), Some("13912345678"));
        assert_eq!(h.household.identified_on, NaiveDate::from_ymd_opt(2016, 5, 1).unwrap());
        let notes = p.notes.join("\n");
        assert!(notes.contains("合并单元格") && notes.contains("规范化") && notes.contains("日期序号"), "{notes}");
    }

    #[test]
    fn an_id_stored_as_a_number_is_refused_with_the_reason() {
        let rows = [headers().iter().map(|s| s.to_string()).collect::<Vec<_>>(), row("H1", "张三", "", "户主")];
        let rows_ref: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let bytes = workbook(&rows_ref, |ws| {
            ws.write_number(1, field_index("id_number") as u16, 440_781_197_001_011_230.0).unwrap();
        });
        let p = parse("数字.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.iter().any(|e| e.column == "S" && e.message.contains("末几位已经丢失")), "{:?}", p.errors);
    }

    #[test]
    fn the_template_has_the_headers_and_reads_back_empty() {
        let bytes = template().unwrap();
        let p = parse("模板.xlsx", &bytes, &tree(), today()).unwrap();
        assert!(p.errors.is_empty() && p.households.is_empty(), "{:?}", p.errors);
    }
}
