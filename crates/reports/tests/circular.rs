//! The circular end to end: a sample resembling the 2017 seed circular, rendered to docx (read
//! back through LibreOffice), PDF (read back through poppler's pdftotext), HTML, the chart SVG
//! and the problem-list workbook (read back through calamine).
//!
//! DUCHA_CIRCULAR_DOCX, DUCHA_CIRCULAR_PDF, DUCHA_CIRCULAR_HTML and DUCHA_PROBLEMS_XLSX, when
//! set, name files to keep the sample's renderings in (e.g. for page images: `pdftoppm -png`).
//!
//! Needs the Debian packages libreoffice-writer-nogui (soffice), poppler-utils (pdftotext) and
//! fonts-noto-cjk. A missing tool fails the test with a message saying what to install.

use std::io::{Cursor, Read};
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use ducha_reports::circular::{
    Attachment, Block, Circular, Table, bar_chart_svg, pdf_body_face, problem_list_xlsx, to_docx, to_html_fragment,
    to_html_page, to_pdf,
};

const LONG_START: &str = "经查阅该镇2017年扶贫工作档案";
const LONG_END: &str = "（长文本结束）";
const RARE: &str = "黄𠮷珺";

fn long_problem() -> String {
    let mut s = String::from(LONG_START);
    s.push_str("，发现以下问题：");
    let sentence = "部分贫困户2017年帮扶计划没有填写或录入，帮扶项目没有录入全国扶贫开发信息系统，帮扶日志长期没有更新，贫困户收入与支出不对等，纸质档案资料没有分门别类整理归档，缺乏佐证材料；";
    for k in 1..=6 {
        s.push_str(&format!("{k}．{sentence}"));
    }
    s.push_str(LONG_END);
    s
}

fn row(n: usize, district: &str, town: &str, category: &str, problem: &str, unit: &str, deadline: &str) -> Vec<String> {
    [n.to_string().as_str(), district, town, category, problem, unit, deadline].iter().map(|s| s.to_string()).collect()
}

/// The 2017 circular, shortened, with the awkward cases: a very long problem, a name outside
/// GB2312, a district (恩平市) without rows, and a paragraph that looks like HTML.
fn sample() -> Circular {
    let districts: Vec<String> =
        ["蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"].iter().map(|s| s.to_string()).collect();
    let long = long_problem();
    let rows = vec![
        row(
            1,
            "蓬江区",
            "环市街道办",
            "镇（街）扶贫工作平台建设",
            "驻镇（街）人员只停留在文件上，没有实质性参与扶贫工作",
            "蓬江区扶贫办",
            "2018年1月31日",
        ),
        row(
            2,
            "蓬江区",
            "环市街道办",
            "扶贫数据信息",
            "贫困户帮扶记录本没有按照省、市要求设置",
            "环市街道办",
            "2018年1月31日",
        ),
        row(
            3,
            "江海区",
            "江南街道办",
            "扶贫数据信息",
            "贫困户帮扶记录本没有按照省、市要求设置",
            "江南街道办",
            "2018年1月31日",
        ),
        row(
            4,
            "新会区",
            "三江镇",
            "镇（街）扶贫办责任",
            "上次督查发现的问题虽有行动，但整改不到位",
            "三江镇人民政府",
            "2018年2月28日",
        ),
        row(5, "新会区", "双水镇", "扶贫数据信息", &long, "双水镇扶贫办", "2018年2月28日"),
        row(6, "台山市", "海宴镇", "帮扶措施", "部分有劳动能力贫困户增收能力较脆弱", "海宴镇人民政府", "2018年3月31日"),
        row(
            7,
            "开平市",
            "苍城镇",
            "帮扶资金使用",
            "资金项目材料证据不足，欠缺项目方案",
            "苍城镇扶贫办",
            "2018年3月31日",
        ),
        row(
            8,
            "开平市",
            "苍城镇",
            "帮扶措施",
            &format!("帮扶责任人{RARE}未落实到户帮扶措施"),
            "苍城镇扶贫办",
            "2018年3月31日",
        ),
        row(9, "鹤山市", "宅梧镇", "帮扶资金使用", "扶贫资金使用进展缓慢", "宅梧镇人民政府", "2018年3月31日"),
        row(10, "鹤山市", "宅梧镇", "帮扶措施", "定点医疗机构未上线同步结算平台", "鹤山市卫生计生局", "2018年3月31日"),
    ];
    let mut per_district = vec![0.0; districts.len()];
    for r in &rows {
        if let Some(i) = districts.iter().position(|d| *d == r[1]) {
            per_district[i] += 1.0;
        }
    }
    let chart = bar_chart_svg("", &districts, &[("问题数".to_string(), per_district)]);
    let lead = |lead: &str, text: &str| Block::LeadParagraph { lead: lead.into(), text: text.into() };
    Circular {
        issuer: "江门市扶贫开发领导小组".into(),
        issuer_header: "江门市扶贫开发领导小组文件".into(),
        number: "江扶字〔2017〕14号".into(),
        title: "江门市2017年脱贫攻坚专项督查工作情况通报".into(),
        addressees: "各市（区）人民政府".into(),
        blocks: vec![
            Block::Paragraph("根据《广东省人民政府办公厅关于开展2017年省脱贫攻坚工作专项督查的通知》（粤府办明电〔2017〕204号）有关要求，我市迅速行动，组成两个督查组，分别对三区四市脱贫攻坚工作落实情况开展督查，现将有关情况通报如下。".into()),
            Block::Heading1("一、基本情况".into()),
            Block::Paragraph("11月6日-8日，督查组重点围绕“三年攻坚、两年巩固，到2020年如期完成脱贫攻坚任务”的总目标开展督查。共抽查了19个镇（街）。".into()),
            Block::Paragraph("从本轮督查的情况来看，被抽查的镇（街）基本能落实市委、市政府的脱贫攻坚决策部署。\n综合督查情况，基础资料做得好、总体表现突出的有鹤山市、台山市、恩平市。".into()),
            Block::Paragraph("测试转义：<script>alert(1)</script> & “引号”".into()),
            Block::Heading1("二、督查中发现的主要问题".into()),
            Block::Paragraph("从督查情况看，7 个市（区）的扶贫攻坚工作都不同程度存在一些问题。".into()),
            lead("（一）镇（街）扶贫工作平台建设仍须加强。", "各地对镇（街）扶贫工作平台硬件建设基本符合要求，但软件建设存在差距。"),
            lead("（二）镇（街）扶贫办责任压得不实。", "有的市（区）责任落实与目标任务存在差距。"),
            lead("（三）扶贫数据信息不够精准。", "个别镇（街）仍然存在工作不细致的现象。"),
            lead("（四）帮扶措施不多或落实不到位。", "部分镇（街）仍未能做到每户贫困户都参与一项长效增收的“造血”型帮扶项目。"),
            lead("（五）帮扶资金使用进度缓慢。", "各市（区）普遍存在扶贫资金使用进展缓慢问题。"),
            Block::Chart { title: "图1 各市（区）抽查发现问题数".into(), svg: chart },
            Block::Paragraph("（抽查镇（街）中发现的具体问题见附表。）".into()),
            Block::Heading1("三、下一步工作".into()),
            Block::Heading2("（一）提高认识，压实责任，健全机构。".into()),
            Block::Paragraph("各市（区）、各镇（街）党委政府要担当起精准扶贫精准脱贫的主体责任。".into()),
            lead("（二）不断完善扶贫档案资料等基础性工作。", "各地要严格按照贫困人口建档立卡工作要求，认真核对贫困户建档立卡资料。"),
            Block::Table(Table {
                headers: vec!["市（区）".into(), "抽查镇（街）".into(), "问题数".into()],
                rows: vec![vec!["鹤山市".into(), "2".into(), "2".into()], vec!["恩平市".into(), "2".into(), "0".into()]],
                widths: vec![2, 2, 1],
            }),
        ],
        attachment_note: Some("附件：2017 年脱贫攻坚工作专项督查问题清单".into()),
        signer: "江门市扶贫开发领导小组".into(),
        seal_note: Some("（代章）".into()),
        date: NaiveDate::from_ymd_opt(2017, 12, 3).unwrap(),
        disclosure: Some("公开方式：依申请公开".into()),
        copied_to: Some("抄送：市扶贫开发领导小组成员单位".into()),
        attachment: Some(Attachment {
            title: "2017年脱贫攻坚工作专项督查问题清单".into(),
            table: Table { rows, ..Table::problem_list() },
        }),
    }
}

/// The texts every rendering must show.
fn expected(c: &Circular) -> Vec<String> {
    let mut v = vec![c.number.clone(), c.title.clone(), "2017年12月3日".to_string()];
    for b in &c.blocks {
        match b {
            Block::Heading1(t) | Block::Heading2(t) => v.push(t.clone()),
            Block::LeadParagraph { lead, .. } => v.push(lead.clone()),
            _ => {}
        }
    }
    let a = c.attachment.as_ref().unwrap();
    v.push(a.title.clone());
    v.extend(a.table.headers.iter().cloned());
    // Cells short enough to stay on one line in the PDF's narrow columns.
    v.extend(["蓬江区", "江海区", "三江镇", "海宴镇", "宅梧镇", RARE].map(String::from));
    v
}

/// Cells that wrap inside their column in the PDF (where extracted text interleaves columns).
const LONGER_CELLS: [&str; 4] = ["环市街道办", "三江镇人民政府", "鹤山市卫生计生局", "2018年3月31日"];

/// Without whitespace: extracted text breaks lines and spaces CJK text at will.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn tool(name: &str, package: &str) -> Command {
    match Command::new(name).arg("--version").output() {
        Ok(_) => Command::new(name),
        Err(e) => panic!("{name} is needed for this test but cannot be run ({e}): apt-get install -y {package}"),
    }
}

fn soffice_convert(file: &Path, format: &str, dir: &Path) {
    // A profile of its own, so that it neither waits for nor disturbs another soffice.
    let profile = format!("-env:UserInstallation=file://{}", dir.join("lo-profile").display());
    let out = tool("soffice", "libreoffice-writer-nogui")
        .args([profile.as_str(), "--headless", "--norestore", "--convert-to", format, "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("soffice runs");
    assert!(out.status.success(), "soffice failed: {}", String::from_utf8_lossy(&out.stderr));
    let ext = format.split(':').next().unwrap_or(format);
    let made = dir.join(file.with_extension(ext).file_name().unwrap());
    assert!(
        made.exists(),
        "soffice made no {}: {}{}",
        made.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docx_reads_back_through_libreoffice() {
    let c = sample();
    let bytes = to_docx(&c).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("circular.docx");
    std::fs::write(&file, &bytes).unwrap();
    if let Some(out) = std::env::var_os("DUCHA_CIRCULAR_DOCX") {
        std::fs::write(out, &bytes).unwrap();
    }

    // The page and the fonts, straight from the XML.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains(r#"<w:pgSz w:w="11906" w:h="16838""#), "A4 page size");
    assert!(xml.contains("<w:sectPr><w:footerReference "), "footer reference first in sectPr");
    let pg_mar = &xml[xml.find("<w:pgMar").expect("page margins")..];
    let pg_mar = &pg_mar[..pg_mar.find("/>").unwrap()];
    for m in [r#"w:top="2098""#, r#"w:bottom="1984""#, r#"w:left="1587""#, r#"w:right="1474""#] {
        assert!(pg_mar.contains(m), "{m} in {pg_mar}");
    }
    for f in ["仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"] {
        assert!(xml.contains(&format!(r#"w:eastAsia="{f}""#)), "{f}");
    }
    assert!(xml.contains(r#"w:ascii="仿宋_GB2312""#));
    assert_eq!(xml.matches("<w:tblHeader />").count(), 2, "both tables repeat their header row");
    // Rows are not split across pages, but for the one longer than a page holds.
    let rows = c.blocks.iter().filter_map(|b| if let Block::Table(t) = b { Some(t.rows.len() + 1) } else { None });
    let all_rows: usize = rows.sum::<usize>() + c.attachment.as_ref().unwrap().table.rows.len() + 1;
    assert_eq!(xml.matches("<w:cantSplit />").count(), all_rows - 1, "every row kept whole but the long one");
    assert!(xml.contains("&lt;script&gt;"), "text is escaped in the XML");
    assert!(zip.file_names().any(|n| n.is_ok_and(|n| n.starts_with("word/media/"))), "the chart is an image");
    let mut styles = String::new();
    zip.by_name("word/styles.xml").unwrap().read_to_string(&mut styles).unwrap();
    assert!(styles.contains(r#"<w:autoSpaceDE w:val="0" />"#));
    let mut footer = String::new();
    zip.by_name("word/footer1.xml").unwrap().read_to_string(&mut footer).unwrap();
    assert!(footer.contains("PAGE") && footer.contains("— "), "page number field: {footer}");
    // GB/T 9704: odd pages' numbers at the right, even pages' at the left, both footers named
    // at the front of sectPr, and Word told to tell odd from even.
    let mut footers = String::new();
    for name in ["word/footer1.xml", "word/footer2.xml"] {
        zip.by_name(name).unwrap().read_to_string(&mut footers).unwrap();
    }
    assert!(footers.contains(r#"<w:jc w:val="right" />"#) && footers.contains(r#"<w:jc w:val="left" />"#), "{footers}");
    let sect = &xml[xml.rfind("<w:sectPr>").unwrap()..];
    assert_eq!(sect[..sect.find("<w:pgSz").unwrap()].matches("<w:footerReference ").count(), 2, "{sect}");
    assert!(sect.contains(r#"w:type="even""#));
    let mut settings = String::new();
    zip.by_name("word/settings.xml").unwrap().read_to_string(&mut settings).unwrap();
    assert!(settings.contains("<w:evenAndOddHeaders"), "{settings}");

    soffice_convert(&file, "txt:Text", dir.path());
    let text = std::fs::read_to_string(dir.path().join("circular.txt")).unwrap();
    let flat = squeeze(&text);
    for e in expected(&c) {
        assert!(flat.contains(&squeeze(&e)), "docx text lacks {e}");
    }
    for e in LONGER_CELLS {
        assert!(flat.contains(e), "docx text lacks {e}");
    }
    assert!(flat.contains(&squeeze(&long_problem())), "the long problem whole");
    assert!(text.contains('𠮷'));
    assert!(text.contains("<script>alert(1)</script>"));

    soffice_convert(&file, "pdf", dir.path());
    let pdf = std::fs::read(dir.path().join("circular.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

fn pdftotext(pdf: &Path) -> String {
    let out = tool("pdftotext", "poppler-utils").arg(pdf).arg("-").output().expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pdf_has_the_text_and_the_attachment_on_its_own_pages() {
    let c = sample();
    let pdf = to_pdf(&c).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("circular.pdf");
    std::fs::write(&file, &pdf).unwrap();
    if let Some(out) = std::env::var_os("DUCHA_CIRCULAR_PDF") {
        std::fs::write(out, &pdf).unwrap();
    }
    let text = pdftotext(&file);
    let pages: Vec<String> = text.split('\u{c}').map(squeeze).filter(|p| !p.is_empty()).collect();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    assert!(pages[0].contains("江门市扶贫开发领导小组文件") && pages[0].contains("—1—"), "page 1: {}", pages[0]);
    let first_attachment_page =
        pages.iter().position(|p| p.starts_with("附件2017年脱贫攻坚工作专项督查问题清单")).expect("attachment page");
    assert!(first_attachment_page >= 1);
    assert!(!pages[first_attachment_page - 1].contains("序号市（区）"), "the table starts on the attachment's page");

    // Page numbers: odd pages at the right, even pages at the left (the footer's last "—").
    let out = tool("pdftotext", "poppler-utils").arg("-bbox").arg(&file).arg("-").output().expect("pdftotext runs");
    let boxes = String::from_utf8(out.stdout).unwrap();
    let sides: Vec<bool> = boxes
        .split("<page ")
        .skip(1)
        .map(|page| {
            let width: f64 = page.split("width=\"").nth(1).and_then(|w| w.split('"').next()).unwrap().parse().unwrap();
            let dash = page.rsplit("<word ").find(|w| w.contains(">—</word>")).expect("a page number");
            let x: f64 = dash.split("xMin=\"").nth(1).and_then(|v| v.split('"').next()).unwrap().parse().unwrap();
            x > width / 2.0
        })
        .collect();
    assert!(sides.len() >= 2);
    for (i, right) in sides.iter().enumerate() {
        assert_eq!(*right, i % 2 == 0, "page {} has its number on the wrong side", i + 1);
    }

    let flat = squeeze(&text);
    for e in expected(&c) {
        assert!(flat.contains(&squeeze(&e)), "pdf text lacks {e}");
    }
    assert!(flat.contains(&squeeze(LONG_START)) && flat.contains(LONG_END), "the long problem");
    assert!(flat.contains("<script>alert(1)</script>"));
    assert!(flat.contains("抄送：市扶贫开发领导小组成员单位"));
}

#[test]
fn minimal_circular_renders_everywhere() {
    let c = Circular {
        issuer: "甲".into(),
        issuer_header: "甲文件".into(),
        number: "甲〔2026〕1号".into(),
        title: "空白通报".into(),
        addressees: "各单位：".into(),
        blocks: vec![
            Block::Table(Table::default()),
            Block::Table(Table {
                headers: vec!["甲".into()],
                rows: vec![vec!["第一行\n第二行".into()]],
                widths: vec![],
            }),
        ],
        attachment_note: None,
        signer: "甲".into(),
        seal_note: None,
        date: NaiveDate::from_ymd_opt(2026, 1, 9).unwrap(),
        disclosure: None,
        copied_to: None,
        attachment: Some(Attachment { title: "空表".into(), table: Table::problem_list() }),
    };
    assert!(to_docx(&c).unwrap().starts_with(b"PK"));
    assert!(to_pdf(&c).unwrap().starts_with(b"%PDF"));
    let html = to_html_fragment(&c);
    assert!(html.contains("各单位：<") && !html.contains("各单位：："));
}

#[test]
fn a_broken_chart_is_an_error_not_a_panic() {
    let mut c = sample();
    c.blocks = vec![Block::Chart { title: "坏图".into(), svg: "<svg><rect".into() }];
    let err = to_docx(&c).unwrap_err().to_string();
    assert!(err.contains("坏图"), "{err}");
    assert!(to_pdf(&c).is_err());
    assert!(to_html_page(&c).contains("data:image/svg+xml;base64,"), "shown as an image, not inline");
}

#[test]
fn html_escapes_and_keeps_the_chart() {
    let c = sample();
    let page = to_html_page(&c);
    if let Some(out) = std::env::var_os("DUCHA_CIRCULAR_HTML") {
        std::fs::write(out, &page).unwrap();
    }
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    assert!(!page.contains("<script>"), "no script element from the text");
    assert!(page.contains("测试转义：&lt;script&gt;alert(1)&lt;/script&gt; &amp; “引号”"));
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "the chart inline");
    for e in expected(&c) {
        assert!(page.contains(&e), "html lacks {e}");
    }
    for e in LONGER_CELLS {
        assert!(page.contains(e), "html lacks {e}");
    }
    assert!(page.contains(&long_problem()));
    let fragment = to_html_fragment(&c);
    assert!(fragment.starts_with("<article class=\"ducha-circular\" lang=\"zh-CN\">") && !fragment.contains("<html"));
}

#[test]
fn chart_svg_labels_every_category() {
    let cats: Vec<String> = ["蓬江区", "江海区", "恩平市", "A&B<C>"].iter().map(|s| s.to_string()).collect();
    let svg = bar_chart_svg("问题数", &cats, &[("问题数".into(), vec![2.0, 1.0, 0.0, 4.0])]);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    for c in ["蓬江区", "江海区", "恩平市", "A&amp;B&lt;C&gt;"] {
        assert!(svg.contains(&format!(">{c}</text>")), "{c}");
    }
    assert!(svg.contains("font-family=\"'Noto Sans CJK SC'"));
}

#[test]
fn problem_list_workbook_reads_back() {
    let c = sample();
    let table = &c.attachment.as_ref().unwrap().table;
    let bytes = problem_list_xlsx("2017年脱贫攻坚工作专项督查问题清单", table).unwrap();
    if let Some(out) = std::env::var_os("DUCHA_PROBLEMS_XLSX") {
        std::fs::write(out, &bytes).unwrap();
    }
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("问题清单").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("2017年脱贫攻坚工作专项督查问题清单".into())));
    let header: Vec<String> = (0..7).map(|c| range.get_value((1, c)).unwrap().to_string()).collect();
    assert_eq!(header, table.headers);
    assert_eq!(range.height(), 2 + table.rows.len());
    for (r, row) in table.rows.iter().enumerate() {
        for (col, want) in row.iter().enumerate() {
            let got = range.get_value(((r + 2) as u32, col as u32)).unwrap();
            let got = match got {
                Data::Float(f) => format!("{f}"),
                other => other.to_string(),
            };
            assert_eq!(&got, want, "row {r} column {col}");
        }
    }
}

/// The PDF's pages as text (pdftotext, in reading order), and each page's size in points.
fn pdf_pages(pdf: &[u8]) -> (Vec<String>, Vec<(f64, f64)>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.pdf");
    std::fs::write(&file, pdf).unwrap();
    let pages: Vec<String> =
        pdftotext(&file).split('\u{c}').map(str::to_string).filter(|p| !p.trim().is_empty()).collect();
    let out = tool("pdfinfo", "poppler-utils").args(["-f", "1", "-l", "999"]).arg(&file).output().unwrap();
    let sizes = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Page "))
        .filter_map(|l| l.split_once(" size:").map(|(_, r)| r.trim().to_string()))
        .map(|r| {
            let mut n = r.split_whitespace().filter_map(|x| x.parse::<f64>().ok());
            (n.next().unwrap(), n.next().unwrap())
        })
        .collect();
    (pages, sizes)
}

/// GB/T 9704 as a reader checks it: the body in 仿宋 where the machine has a face for it (and a
/// word saying which face otherwise), the attachment's wide table on landscape pages, no row of it
/// split across pages unless it cannot fit on one, no date broken across lines, （代章） under
/// the signer.
#[test]
fn the_pdf_keeps_rows_and_dates_whole_on_landscape_pages_in_the_face_it_names() {
    let c = sample();
    let pdf = to_pdf(&c).unwrap();
    let (pages, sizes) = pdf_pages(&pdf);
    assert_eq!(pages.len(), sizes.len());
    let first = pages.iter().position(|p| squeeze(p).starts_with("附件2017年")).expect("attachment");
    assert!(sizes[..first].iter().all(|(w, h)| w < h), "the body is portrait: {sizes:?}");
    assert!(sizes[first..].iter().all(|(w, h)| w > h), "the attachment is landscape: {sizes:?}");
    for p in &pages[first..] {
        for line in p.lines().map(str::trim) {
            assert!(
                !(line.contains("2018年") && line.ends_with(|c: char| c.is_ascii_digit())),
                "a date broken: {line}"
            );
        }
    }
    // Each short row on one page: its number and its deadline on the same page.
    for n in [1, 2, 3, 4, 6, 7, 8, 9, 10] {
        let at: Vec<usize> = pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.lines().any(|l| l.trim() == n.to_string()))
            .map(|(i, _)| i)
            .collect();
        assert!(!at.is_empty(), "row {n}");
    }
    let all = squeeze(&pages.join(""));
    assert!(all.contains(&squeeze(LONG_START)) && all.contains(LONG_END), "the long row whole, over two pages");
    assert!(all.contains("江门市扶贫开发领导小组（代章）2017年12月3日"), "（代章） under the signer");
    // The face: embedded as named, and a note when it is not a FangSong.
    let face = pdf_body_face(&c);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let fonts = tool("pdffonts", "poppler-utils").arg(&file).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout).to_lowercase();
    assert!(fonts.contains(&face.family.replace(' ', "").to_lowercase()), "{face:?} in {fonts}");
    assert_eq!(face.fangsong, face.note.is_none(), "{face:?}");
}

/// A heading is never the last line of a page: whatever the text above it, it goes over with the
/// paragraph it heads.
#[test]
fn a_heading_is_never_left_at_the_foot_of_a_page() {
    let mut c = sample();
    c.attachment = None;
    let heading = "一、基本情况";
    let mut checked = 0;
    for k in 0..14 {
        let mut blocks: Vec<Block> = (0..k).map(|_| Block::Paragraph("督查组按照方案开展工作。".into())).collect();
        blocks.push(Block::Heading1(heading.into()));
        blocks.push(Block::Paragraph("11月6日-8日，督查组重点围绕总目标开展督查，共抽查了19个镇（街）。".repeat(3)));
        c.blocks = blocks;
        let (pages, _) = pdf_pages(&to_pdf(&c).unwrap());
        for p in &pages {
            let lines: Vec<&str> = p.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('—')).collect();
            assert_ne!(lines.last().copied(), Some(heading), "k = {k}: {p}");
        }
        checked += usize::from(pages.len() > 1);
    }
    assert!(checked > 0, "the heading reached a page's foot at least once");
}
