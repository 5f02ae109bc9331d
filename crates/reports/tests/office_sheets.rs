//! Spreadsheets as offices save them, read by the import: a title merged across the columns and a
//! 填报单位 line above the header; the same sheet saved by LibreOffice as a legacy .xls (what WPS
//! and Excel 2003 save by default) and as an .ods; formulas a program wrote without their results.
//!
//! Needs LibreOffice Calc (Debian: libreoffice-calc-nogui; scripts/test.sh installs it).

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use ducha_domain::RegionTree;
use ducha_domain::region::{JIANGMEN_CSV, parse_region_file};
use ducha_reports::households::{self, COLUMNS};
use ducha_reports::sheet::ReadError;
use rust_xlsxwriter::{Format, FormatAlign, Formula, Workbook};

fn tree() -> RegionTree {
    RegionTree::new(parse_region_file(JIANGMEN_CSV.as_bytes()).expect("regions"))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 11, 1).expect("date")
}

fn id(first17: &str) -> String {
    format!("{first17}{}", ducha_domain::id_number::check_char(first17.as_bytes()))
}

/// Three members of two households of 恩平市, as (column header, value) pairs.
fn members() -> Vec<Vec<(&'static str, String)>> {
    let household = |number: &str| {
        vec![
            ("户编号", number.to_string()),
            ("所在村代码", "440785107200".to_string()),
            ("贫困户属性", "一般贫困户".into()),
            ("主要致贫原因", "缺资金".into()),
            ("识别日期", "2016-04-12".into()),
            ("不愁吃穿", "是".into()),
        ]
    };
    let member = |seq: &str, name: &str, idn: String, rel: &str| {
        vec![
            ("成员序号", seq.to_string()),
            ("姓名", name.to_string()),
            ("身份证号", idn),
            ("与户主关系", rel.to_string()),
            ("文化程度", "初中".into()),
            ("在校生状况", "非在校生".into()),
            ("健康状况", "健康".into()),
            ("劳动能力", "有劳动能力".into()),
            ("参加基本医疗保险", "是".into()),
        ]
    };
    vec![
        [household("44078510720000001"), member("1", "黄大伟", id("44078519650302123"), "户主")].concat(),
        [vec![("户编号", "44078510720000001".to_string())], member("2", "黄小芳", id("44078520051108124"), "之女")]
            .concat(),
        [household("44078510720000002"), member("1", "梁永", id("44078519580715123"), "户主")].concat(),
    ]
}

/// The households template as an office keeps it: a title merged across every column, a line
/// naming who filled it in, then the header (row 3) and the members. With `formulas`, the ID
/// numbers are formulas a program wrote without computing them.
fn office_workbook(formulas: bool) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(households::SHEET).expect("name");
    // What a program writes when it leaves the computing to Excel: formulas with no result saved.
    ws.set_formula_result_default("");
    let title = Format::new().set_bold().set_align(FormatAlign::Center);
    let last = (COLUMNS.len() - 1) as u16;
    ws.merge_range(0, 0, 0, last, "2017年恩平市建档立卡贫困户花名册", &title).expect("title");
    ws.merge_range(1, 0, 1, 8, "填报单位：恩平市扶贫办（盖章）    填报日期：2017年11月1日", &Format::new())
        .expect("subtitle");
    for (i, (h, _, _)) in COLUMNS.iter().enumerate() {
        ws.write_string(2, i as u16, *h).expect("header");
    }
    for (r, m) in members().iter().enumerate() {
        for (h, v) in m {
            let col = COLUMNS.iter().position(|c| c.0 == *h).expect("a template column") as u16;
            let row = 3 + r as u32;
            if formulas && *h == "身份证号" {
                ws.write_formula(row, col, Formula::new(format!("=\"{v}\""))).expect("formula");
            } else {
                ws.write_string(row, col, v).expect("cell");
            }
        }
    }
    wb.save_to_buffer().expect("saved")
}

fn soffice() -> &'static str {
    ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("这个测试需要 LibreOffice（apt-get install libreoffice-calc-nogui；scripts/test.sh 会自动安装）")
}

/// The file saved again by LibreOffice Calc in `format` (xls: "MS Excel 97"; ods).
fn saved_as(dir: &Path, name: &str, bytes: &[u8], format: &str) -> Vec<u8> {
    let input = dir.join(name);
    std::fs::write(&input, bytes).expect("write");
    let filter = if format == "xls" { "xls:MS Excel 97" } else { format };
    let out = Command::new(soffice())
        .args(["--headless", "--norestore", "--convert-to", filter, "--outdir"])
        .arg(dir)
        .arg(&input)
        .env("HOME", dir)
        .output()
        .expect("LibreOffice runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stem = Path::new(name).file_stem().expect("stem").to_string_lossy().into_owned();
    std::fs::read(dir.join(format!("{stem}.{format}"))).expect("LibreOffice wrote the file")
}

#[test]
fn a_sheet_with_title_rows_reads_as_xlsx_and_as_the_xls_libreoffice_saves() {
    let dir = tempfile::tempdir().expect("dir");
    let xlsx = office_workbook(false);
    let xls = saved_as(dir.path(), "花名册.xlsx", &xlsx, "xls");
    assert!(xls.starts_with(b"\xD0\xCF\x11\xE0"), "LibreOffice wrote a compound file");
    for (name, bytes) in [("花名册.xlsx", &xlsx), ("花名册.xls", &xls)] {
        let p = households::parse(name, bytes, &tree(), today()).expect("read");
        assert!(p.errors.is_empty(), "{name}: {:?}", p.errors);
        assert_eq!((p.rows, p.households.len()), (3, 2), "{name}");
        let first = &p.households[0];
        assert_eq!(first.row, 4, "{name}: rows keep the sheet's own numbers");
        assert_eq!(first.members[1].member.name, "黄小芳");
        assert_eq!(first.members[1].member.id_number.as_str(), id("44078520051108124"));
        assert!(
            p.notes.iter().any(|n| n.contains("第 1–2 行是表格标题") && n.contains("表头在第 3 行")),
            "{name}: {:?}",
            p.notes
        );
    }
}

#[test]
fn an_ods_is_refused_by_name_with_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    let ods = saved_as(dir.path(), "花名册.xlsx", &office_workbook(false), "ods");
    // Under any name: it is not taken for a ledger's zip of vouchers either.
    assert!(!ducha_reports::bundle::is_bundle(&ods));
    for name in ["花名册.ods", "花名册.zip"] {
        let e = households::parse(name, &ods, &tree(), today()).expect_err("refused");
        assert!(matches!(e, ReadError::OpenDocument(_)), "{e:?}");
        let why = e.to_string();
        assert!(why.contains(name) && why.contains(".ods") && why.contains("另存为"), "{why}");
        assert!(!why.contains("台账"), "{why}");
    }
}

#[test]
fn formulas_saved_without_results_are_named_at_their_cells_and_read_once_computed() {
    let dir = tempfile::tempdir().expect("dir");
    let xlsx = office_workbook(true);
    let p = households::parse("花名册.xlsx", &xlsx, &tree(), today()).expect("read");
    let at: Vec<(usize, &str, &str)> = p.errors.iter().map(|e| (e.row, e.column.as_str(), e.header.as_str())).collect();
    assert_eq!(at, [(4, "S", "身份证号"), (5, "S", "身份证号"), (6, "S", "身份证号")], "{:?}", p.errors);
    assert!(
        p.errors.iter().all(|e| e.message.contains("是公式") && e.message.contains("没有保存它的计算结果")),
        "{:?}",
        p.errors
    );
    assert!(p.errors[0].message.contains(&id("44078519650302123")), "the formula is shown: {}", p.errors[0].message);
    // LibreOffice computes them when it opens the file: the .xls it saves holds the results.
    let xls = saved_as(dir.path(), "公式.xlsx", &xlsx, "xls");
    let p = households::parse("公式.xls", &xls, &tree(), today()).expect("read");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.households[1].members[0].member.id_number.as_str(), id("44078519580715123"));
}
