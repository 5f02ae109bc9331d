//! Spreadsheets as offices save them, through the import page and the command line: a title
//! merged across the columns above the header, the legacy .xls that WPS and older Excel save (made
//! here by LibreOffice), an .ods, formulas a program saved without their results; and a refusal
//! on the command line says its reason once.

use std::path::Path;
use std::process::Command;

use ducha_domain::access::Scope;
use ducha_domain::region::RegionCode;
use ducha_reports::sheet;
use ducha_storage::Backend;
use rust_xlsxwriter::{Format, Formula, Workbook};

use crate::support::TestApp;

both_backends!(office_sheets_are_read_through_the_page_and_the_command_line);

/// These rows as a workbook of one sheet, under a title merged across their width and a line
/// naming who filled it in (rows 1 and 2; the header is row 3). The columns named in `formulas`
/// hold formulas of their values, saved without results, as a program that leaves the computing
/// to Excel writes them.
fn with_titles(sheet_name: &str, rows: &[Vec<String>], formulas: &[&str]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name).unwrap();
    ws.set_formula_result_default("");
    let width = rows.iter().map(Vec::len).max().unwrap() as u16;
    ws.merge_range(0, 0, 0, width - 1, "2017年台山市扶贫工作报表", &Format::new().set_bold()).unwrap();
    ws.merge_range(1, 0, 1, 2, "填报单位：台山市扶贫办（盖章）", &Format::new()).unwrap();
    let formula_cols: Vec<usize> =
        rows[0].iter().enumerate().filter(|(_, h)| formulas.contains(&h.as_str())).map(|(i, _)| i).collect();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c16) = (r as u32 + 2, c as u16);
            if r > 2 && formula_cols.contains(&c) {
                ws.write_formula(r, c16, Formula::new(format!("=\"{v}\""))).unwrap();
            } else if !v.is_empty() {
                ws.write_string(r, c16, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The file saved again by LibreOffice Calc as `format` (xls or ods).
fn saved_as(dir: &Path, name: &str, bytes: &[u8], format: &str) -> Vec<u8> {
    let soffice = ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("这个测试需要 LibreOffice（apt-get install libreoffice-calc-nogui；scripts/test.sh 会自动安装）");
    let input = dir.join(name);
    std::fs::write(&input, bytes).unwrap();
    let filter = if format == "xls" { "xls:MS Excel 97" } else { format };
    let out = Command::new(soffice)
        .args(["--headless", "--norestore", "--convert-to", filter, "--outdir"])
        .arg(dir)
        .arg(&input)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stem = Path::new(name).file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::read(dir.join(format!("{stem}.{format}"))).expect("LibreOffice wrote the file")
}

async fn office_sheets_are_read_through_the_page_and_the_command_line(backend: Backend) {
    let app = TestApp::spawn_demo(backend, 100).await;
    let b = app.login("taishan").await;
    let dir = tempfile::tempdir().unwrap();
    let before = app.db.scoped(&crate::support::sees(&Scope::All)).registry().totals().await.unwrap();

    // The district's own list, as its office keeps it: under a title, then saved as .xls.
    let export = b.get("/households/export.xlsx?status=helping").await.bytes().await.unwrap().to_vec();
    let table = sheet::read("导出.xlsx", &export, "").unwrap().remove(0);
    let rows: Vec<Vec<String>> =
        table.rows.iter().map(|(_, c)| c.iter().map(|x| sheet::text(x).unwrap_or_default()).collect()).collect();
    assert!(rows.len() > 2, "the district has households");
    let titled = with_titles("贫困户及成员", &rows, &[]);
    let xls = saved_as(dir.path(), "台山花名册.xlsx", &titled, "xls");
    for (name, bytes) in [("台山花名册.xlsx", titled.clone()), ("台山花名册.xls", xls.clone())] {
        let (status, _, page) = b.upload(vec![(name, bytes)]).await;
        assert_eq!(status, 200, "{name}: {page}");
        assert!(page.contains("检查通过"), "{name}: {page}");
        assert!(page.contains("第 1–2 行是表格标题") && page.contains("表头在第 3 行"), "{name}: {page}");
        assert!(!page.contains("缺少必需的列"), "{name}");
    }
    // An .ods: refused by name, with what to do (not as a ledger's zip without a ledger).
    let ods = saved_as(dir.path(), "台山花名册.xlsx", &titled, "ods");
    let (status, _, page) = b.upload(vec![("台山花名册.ods", ods)]).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("OpenDocument 表格（.ods）") && page.contains("另存为"), "{page}");
    assert!(!page.contains("台账"), "{page}");
    // ID numbers a program wrote as formulas without computing them: said at each cell.
    let formulas = with_titles("贫困户及成员", &rows, &["身份证号"]);
    let (status, _, page) = b.upload(vec![("公式.xlsx", formulas.clone())]).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("这一格是公式") && page.contains("身份证号"), "{page}");
    assert!(!page.contains("身份证号不能为空"), "{page}");

    // The command line reads the same files the same way.
    let path = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let xls_path = path("台山.xls", &xls);
    let (ok, out, err) =
        crate::cli::run(&["import", "households", &xls_path, "--dry-run", "--as", "taishan"], app.db_url()).await;
    assert!(ok, "{err}");
    assert!(out.contains("是表格标题") && out.contains("仅检查"), "{out}");
    let formula_path = path("公式.xlsx", &formulas);
    let (ok, _, err) =
        crate::cli::run(&["import", "households", &formula_path, "--dry-run", "--as", "taishan"], app.db_url()).await;
    assert!(!ok && err.contains("S 列（身份证号）：这一格是公式"), "{err}");
    // Help plans, under a title too, as .xls.
    let town = Scope::Region(RegionCode::parse("440781111").unwrap());
    let numbers = app.db.scoped(&crate::support::sees(&town)).registry().household_numbers(2).await.unwrap();
    let plans: Vec<Vec<String>> = [
        vec!["户编号", "年度", "目标人均纯收入", "帮扶责任人", "计划措施"],
        vec![numbers[0].as_str(), "2018", "9500", "", "产业帮扶、就业帮扶"],
        vec![numbers[1].as_str(), "2018", "9000", "", "金融帮扶"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    let plans_xls = saved_as(dir.path(), "计划.xlsx", &with_titles("帮扶计划", &plans, &[]), "xls");
    let plans_path = path("计划.xls", &plans_xls);
    let (ok, out, err) =
        crate::cli::run(&["import", "plans", &plans_path, "--dry-run", "--as", "taishan"], app.db_url()).await;
    assert!(ok, "{err}");
    assert!(out.contains("将导入帮扶计划：新增 2") && out.contains("是表格标题"), "{out}");
    // A refusal says its reason once, for any command that reads a file.
    let empty = path("空.xlsx", b"");
    for kind in ["households", "plans", "payments"] {
        let (ok, _, err) = crate::cli::run(&["import", kind, &empty, "--dry-run"], app.db_url()).await;
        assert!(!ok);
        assert_eq!(err.matches("是空的").count(), 1, "{kind}: {err}");
    }
    let after = app.db.scoped(&crate::support::sees(&Scope::All)).registry().totals().await.unwrap();
    assert_eq!(before, after, "nothing was written");
}
