//! The official circular (通报) as a plain document model, filled in by the caller, and its
//! renderings: Word (`docx`), HTML (`html`) and PDF through typst (`pdf`), laid out after
//! GB/T 9704-2012 (党政机关公文格式). Beside it: SVG charts (`chart`) used both in the documents
//! and in the web dashboards, and the problem list as a printable workbook (`problems`).
//!
//! The model knows nothing of campaigns: the caller decides the wording, this module the layout.
//! Charts are SVG strings everywhere: inline in HTML, an SVG image in the PDF, and a PNG
//! rasterised from the same SVG (with resvg, already built for typst-pdf) in the docx.

pub mod campaign;
pub mod chart;
pub mod docx;
mod fonts;
pub mod html;
pub mod pdf;
pub mod problems;

pub use chart::{bar_chart_svg, line_chart_svg};
pub use docx::to_docx;
pub use fonts::BodyFace;
pub use html::{to_html, to_html_fragment, to_html_page};
pub use pdf::{pdf_body_face, to_pdf};
pub use problems::problem_list_xlsx;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// A circular, from its red header down to its 版记 and the attachment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Circular {
    /// The issuing body as it signs: 江门市扶贫开发领导小组.
    pub issuer: String,
    /// The red header (发文机关标志): 江门市扶贫开发领导小组文件.
    pub issuer_header: String,
    /// The document number (发文字号): 江扶字〔2017〕14号.
    pub number: String,
    pub title: String,
    /// The main addressees (主送机关), without the colon: 各市（区）人民政府.
    pub addressees: String,
    pub blocks: Vec<Block>,
    /// The attachment note under the body: "附件：2017 年脱贫攻坚工作专项督查问题清单".
    pub attachment_note: Option<String>,
    /// Who signs (发文机关署名).
    pub signer: String,
    /// Under the signer, e.g. （代章）.
    pub seal_note: Option<String>,
    /// The date of the document (成文日期), written 2017年12月3日.
    pub date: NaiveDate,
    /// 公开方式：依申请公开 (the whole line), one line under the date, as in the seed.
    pub disclosure: Option<String>,
    /// 抄送：… (the whole line): the 版记, between rules at the very end of the document (after
    /// the attachment, at the foot of the last page in the PDF), as GB/T 9704 places it.
    pub copied_to: Option<String>,
    pub attachment: Option<Attachment>,
}

/// One element of the body, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Block {
    /// 一、基本情况 (黑体).
    Heading1(String),
    /// （一）… on a line of its own (楷体).
    Heading2(String),
    /// A paragraph opened by its sub-heading, as the seed writes them: the lead sentence in 楷体
    /// ("（一）镇（街）扶贫工作平台建设仍须加强。"), then the text in 仿宋.
    LeadParagraph {
        lead: String,
        text: String,
    },
    /// Body text; a line break starts a new paragraph.
    Paragraph(String),
    /// A chart as a standalone SVG (see [`chart`]) with its caption (图1 …) under it. Charts made
    /// for a document are best drawn with an empty title, the caption saying it.
    Chart {
        title: String,
        svg: String,
    },
    Table(Table),
}

/// The attachment on pages of its own: "附件" at the top left, its title, then the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    pub title: String,
    pub table: Table,
}

/// A table of text. `widths` are relative (any unit); missing or zero widths count as 1.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub widths: Vec<u32>,
}

/// The columns of the problem list (问题清单), with relative widths for a portrait page at 小四:
/// each short column holds its four-character header on one line, the rest goes to 具体问题.
pub const PROBLEM_LIST_COLUMNS: [(&str, u32); 7] = [
    ("序号", 6),
    ("市（区）", 10),
    ("镇（街）", 10),
    ("问题类别", 11),
    ("具体问题", 24),
    ("责任单位", 10),
    ("整改时限", 10),
];

impl Table {
    /// An empty problem list (问题清单) with its seven columns.
    pub fn problem_list() -> Table {
        Table {
            headers: PROBLEM_LIST_COLUMNS.iter().map(|(h, _)| (*h).to_string()).collect(),
            rows: Vec::new(),
            widths: PROBLEM_LIST_COLUMNS.iter().map(|(_, w)| *w).collect(),
        }
    }

    /// The number of columns: the widest of the header and the rows.
    pub fn columns(&self) -> usize {
        self.rows.iter().map(Vec::len).chain([self.headers.len()]).max().unwrap_or(0)
    }

    /// The relative widths as fractions summing to 1, one per column.
    pub fn fractions(&self) -> Vec<f64> {
        let n = self.columns();
        let w: Vec<f64> =
            (0..n).map(|i| f64::from(self.widths.get(i).copied().filter(|w| *w > 0).unwrap_or(1))).collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }

    /// Cell `(row, col)`, or "" where a row is short.
    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.rows.get(row).and_then(|r| r.get(col)).map(String::as_str).unwrap_or("")
    }

    /// Which columns to centre: those whose every cell is short (序号, names, dates); long text
    /// reads better flush left.
    pub fn centred(&self) -> Vec<bool> {
        (0..self.columns()).map(|c| (0..self.rows.len()).all(|r| self.cell(r, c).chars().count() <= 8)).collect()
    }

    /// The header cell of `col`, or "" where the header is short.
    pub fn header(&self, col: usize) -> &str {
        self.headers.get(col).map(String::as_str).unwrap_or("")
    }
}

/// Why a circular could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum CircularError {
    #[error("生成 Word 文档失败：{0}")]
    Docx(String),
    #[error("排版 PDF 失败：{0}")]
    Typeset(String),
    #[error("导出 PDF 失败：{0}")]
    Pdf(String),
    #[error("未找到可用的中文字体（已查找 {0}），请安装 fonts-noto-cjk")]
    NoFonts(String),
    #[error("图表「{title}」无法绘制：{reason}")]
    Chart { title: String, reason: String },
    #[error("生成问题清单表格失败：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("数据序列化失败：{0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Storage(#[from] ducha_storage::StorageError),
}

/// The date as a circular writes it: 2017年12月3日 (Arabic digits, no leading zeros).
pub fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The addressees with their colon, whether or not the caller wrote one.
pub(crate) fn addressee_line(a: &str) -> String {
    let a = a.trim_end();
    if a.ends_with('：') || a.ends_with(':') || a.is_empty() { a.to_string() } else { format!("{a}：") }
}

/// The lines of a paragraph: a line break in the caller's text starts a new paragraph; blank
/// lines are dropped.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_written_the_chinese_way() {
        assert_eq!(chinese_date(NaiveDate::from_ymd_opt(2017, 12, 3).unwrap()), "2017年12月3日");
    }

    #[test]
    fn table_fractions_cover_short_rows_and_missing_widths() {
        let t = Table { headers: vec!["甲".into()], rows: vec![vec!["1".into(), "2".into()]], widths: vec![3] };
        assert_eq!(t.columns(), 2);
        assert_eq!(t.fractions(), vec![0.75, 0.25]);
        assert_eq!(t.cell(0, 1), "2");
        assert_eq!(t.cell(1, 0), "");
        assert_eq!(t.header(1), "");
        assert_eq!(t.centred(), vec![true, true]);
        assert_eq!(Table::problem_list().headers.len(), 7);
    }

    #[test]
    fn the_model_serialises() {
        let blocks = vec![
            Block::Heading1("一、基本情况".into()),
            Block::LeadParagraph { lead: "（一）".into(), text: "正文".into() },
            Block::Table(Table::problem_list()),
        ];
        let v = serde_json::to_value(&blocks).unwrap();
        assert_eq!(v[0], serde_json::json!({ "kind": "heading1", "value": "一、基本情况" }));
        assert_eq!(v[1]["value"]["lead"], "（一）");
        assert_eq!(v[2]["value"]["headers"][0], "序号");
    }
}
