//! The circular as HTML, styled like the paper document: a whole page (`to_html_page`) to save or
//! print, or a fragment (`to_html_fragment`) to place inside an app page, its CSS scoped to
//! `.ducha-circular`. Every text is escaped; charts go inline as SVG when they are plain
//! drawings, else as an `<img>` (where a browser runs no script).

use std::fmt::Write as _;

use super::chart::escape_xml;
use super::{Block, Circular, Table, addressee_line, chinese_date, lines};

/// Text for HTML character data and (quoted) attribute values.
pub fn escape_html(s: &str) -> String {
    escape_xml(s)
}

const FANGSONG: &str = r#""FangSong", "仿宋_GB2312", "FangSong_GB2312", "仿宋", "STFangsong", "Noto Serif CJK SC", "Source Han Serif SC", serif"#;
const HEITI: &str = r#""SimHei", "黑体", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif"#;
const KAITI: &str =
    r#""KaiTi", "楷体_GB2312", "KaiTi_GB2312", "楷体", "STKaiti", "AR PL UKai CN", "Noto Serif CJK SC", serif"#;
const XIAOBIAOSONG: &str =
    r#""方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", serif"#;

fn style() -> String {
    format!(
        r#"<style>
.ducha-circular{{box-sizing:border-box;max-width:210mm;margin:0 auto;padding:37mm 26mm 35mm 28mm;background:#fff;color:#000;font-family:{FANGSONG};font-size:16pt;line-height:28.95pt;text-align:justify}}
.ducha-circular *{{box-sizing:border-box}}
.ducha-circular p,.ducha-circular h1,.ducha-circular h2,.ducha-circular h3{{margin:0;font-size:16pt;font-weight:normal;text-indent:2em}}
.ducha-circular .dc-issuer-header{{margin-top:35mm;text-indent:0;text-align:center;color:#f00;font-family:{XIAOBIAOSONG};font-weight:bold;line-height:1.3;white-space:nowrap}}
.ducha-circular .dc-number{{margin-top:57.9pt;text-indent:0;text-align:center;padding-bottom:4mm;border-bottom:1.2pt solid #f00}}
.ducha-circular h1.dc-title{{margin:57.9pt 0 28.95pt;text-indent:0;text-align:center;font-family:{XIAOBIAOSONG};font-weight:bold;font-size:22pt;line-height:1.5;text-wrap:balance}}
.ducha-circular .dc-addressee{{text-indent:0}}
.ducha-circular h2.dc-h1{{font-family:{HEITI}}}
.ducha-circular h3.dc-h2,.ducha-circular .dc-lead{{font-family:{KAITI}}}
.ducha-circular figure{{margin:14pt 0;text-align:center;text-indent:0}}
.ducha-circular figure svg,.ducha-circular figure img{{width:100%;height:auto}}
.ducha-circular figcaption{{font-size:14pt}}
.ducha-circular table{{width:100%;border-collapse:collapse;table-layout:fixed;margin:8pt 0;font-size:14pt;line-height:1.45;text-align:left}}
.ducha-circular th,.ducha-circular td{{border:0.5pt solid #000;padding:3pt 4pt;vertical-align:middle;overflow-wrap:anywhere}}
.ducha-circular th{{font-family:{HEITI};font-weight:normal;text-align:center}}
.ducha-circular td.dc-c{{text-align:center}}
.ducha-circular .dc-attachment-note{{margin-top:28.95pt}}
.ducha-circular .dc-sign{{display:flex;justify-content:flex-end;margin-top:57.9pt;padding-right:2em}}
.ducha-circular .dc-sign div{{text-align:center}}
.ducha-circular .dc-sign p{{text-indent:0}}
.ducha-circular .dc-disclosure{{margin-top:28.95pt}}
.ducha-circular .dc-attachment{{margin-top:28.95pt;break-before:page;page-break-before:always}}
.ducha-circular .dc-attachment-label{{text-indent:0;font-family:{HEITI}}}
.ducha-circular h2.dc-attachment-title{{margin:28.95pt 0;text-indent:0;text-align:center;font-family:{XIAOBIAOSONG};font-weight:bold;font-size:22pt;line-height:1.5;text-wrap:balance}}
.ducha-circular .dc-attachment table{{font-size:12pt}}
.ducha-circular .dc-banji{{margin-top:57.9pt;border-top:1pt solid #000;border-bottom:1pt solid #000;padding:4pt 1em}}
.ducha-circular .dc-banji p{{text-indent:0;font-size:14pt}}
@media screen and (max-width:800px){{.ducha-circular{{padding:1.5em 1em}}.ducha-circular .dc-issuer-header{{margin-top:0;white-space:normal}}}}
@media print{{@page{{size:A4;margin:37mm 26mm 35mm 28mm}}.ducha-circular{{padding:0;max-width:none}}.ducha-circular thead{{display:table-header-group}}.ducha-circular tr{{break-inside:auto}}}}
</style>
"#
    )
}

/// Whether an SVG may go inline: a plain drawing, without scripts, event handlers, links to
/// script or embedded HTML. Anything else is shown through `<img>`, where no script runs.
fn is_plain_svg(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    if !lower.trim_start().starts_with("<svg") || !lower.trim_end().ends_with("</svg>") {
        return false;
    }
    if ["<script", "javascript:", "<foreignobject", "<iframe", "<!entity", "<!doctype"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return false;
    }
    // An attribute named on… (onload=, onclick = …) after whitespace.
    let b = lower.as_bytes();
    !b.windows(3).enumerate().any(|(i, w)| {
        w[0].is_ascii_whitespace() && w[1] == b'o' && w[2] == b'n' && {
            let rest = &b[i + 3..];
            let name = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
            name > 0 && rest[name..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'=')
        }
    })
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn table(t: &Table, out: &mut String) {
    let centred = t.centred();
    out.push_str("<table><colgroup>");
    for f in t.fractions() {
        let _ = write!(out, r#"<col style="width:{:.2}%">"#, f * 100.0);
    }
    out.push_str("</colgroup><thead><tr>");
    for c in 0..t.columns() {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, escape_html(t.header(c)));
    }
    out.push_str("</tr></thead><tbody>");
    for r in 0..t.rows.len() {
        out.push_str("<tr>");
        for (c, centre) in centred.iter().enumerate() {
            let class = if *centre { r#" class="dc-c""# } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape_html(t.cell(r, c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn para(class: &str, text: &str, out: &mut String) {
    let class = if class.is_empty() { String::new() } else { format!(r#" class="{class}""#) };
    let _ = writeln!(out, "<p{class}>{}</p>", escape_html(text));
}

/// The circular as a fragment: one `<article class="ducha-circular">` with its own `<style>`.
pub fn to_html_fragment(c: &Circular) -> String {
    let mut out = String::new();
    out.push_str(r#"<article class="ducha-circular" lang="zh-CN">"#);
    out.push('\n');
    out.push_str(&style());
    let header_size = super::pdf::header_size_pt(&c.issuer_header);
    let _ = writeln!(
        out,
        r#"<header><p class="dc-issuer-header" style="font-size:{header_size}pt">{}</p>"#,
        escape_html(&c.issuer_header)
    );
    let _ = writeln!(out, r#"<p class="dc-number">{}</p></header>"#, escape_html(&c.number));
    let _ = writeln!(out, r#"<h1 class="dc-title">{}</h1>"#, escape_html(&c.title));
    para("dc-addressee", &addressee_line(&c.addressees), &mut out);
    for b in &c.blocks {
        match b {
            Block::Heading1(t) => {
                let _ = writeln!(out, r#"<h2 class="dc-h1">{}</h2>"#, escape_html(t));
            }
            Block::Heading2(t) => {
                let _ = writeln!(out, r#"<h3 class="dc-h2">{}</h3>"#, escape_html(t));
            }
            Block::LeadParagraph { lead, text } => {
                let mut rest = lines(text);
                let _ = writeln!(
                    out,
                    r#"<p><span class="dc-lead">{}</span>{}</p>"#,
                    escape_html(lead),
                    escape_html(rest.next().unwrap_or(""))
                );
                rest.for_each(|l| para("", l, &mut out));
            }
            Block::Paragraph(t) => lines(t).for_each(|l| para("", l, &mut out)),
            Block::Chart { title, svg } => {
                out.push_str(r#"<figure class="dc-chart">"#);
                if is_plain_svg(svg) {
                    out.push_str(svg.trim());
                } else {
                    let _ = write!(
                        out,
                        r#"<img alt="{}" src="data:image/svg+xml;base64,{}">"#,
                        escape_html(title),
                        base64(svg.as_bytes())
                    );
                }
                let _ = writeln!(out, "<figcaption>{}</figcaption></figure>", escape_html(title));
            }
            Block::Table(t) => table(t, &mut out),
        }
    }
    if let Some(note) = &c.attachment_note {
        para("dc-attachment-note", note, &mut out);
    }
    out.push_str(r#"<div class="dc-sign"><div>"#);
    for line in [Some(c.signer.as_str()), c.seal_note.as_deref()].into_iter().flatten() {
        para("", line, &mut out);
    }
    para("", &chinese_date(c.date), &mut out);
    out.push_str("</div></div>\n");
    if let Some(d) = &c.disclosure {
        para("dc-disclosure", d, &mut out);
    }
    if let Some(a) = &c.attachment {
        out.push_str(r#"<section class="dc-attachment"><p class="dc-attachment-label">附件</p>"#);
        let _ = writeln!(out, r#"<h2 class="dc-attachment-title">{}</h2>"#, escape_html(&a.title));
        table(&a.table, &mut out);
        out.push_str("</section>\n");
    }
    if let Some(cc) = &c.copied_to {
        out.push_str(r#"<footer class="dc-banji">"#);
        para("", cc, &mut out);
        out.push_str("</footer>\n");
    }
    out.push_str("</article>\n");
    out
}

/// The circular as a whole HTML page.
pub fn to_html_page(c: &Circular) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>body{{margin:0;background:#e8e8e8}}@media print{{body{{background:#fff}}}}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape_html(&c.title),
        to_html_fragment(c)
    )
}

/// The same as [`to_html_page`].
pub fn to_html(c: &Circular) -> String {
    to_html_page(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn only_plain_svg_goes_inline() {
        assert!(is_plain_svg(&super::super::bar_chart_svg("甲", &["乙".into()], &[("丙".into(), vec![1.0])])));
        assert!(!is_plain_svg(r#"<svg><script>alert(1)</script></svg>"#));
        assert!(!is_plain_svg(r#"<svg onload="alert(1)"></svg>"#));
        assert!(!is_plain_svg(r#"<svg><a href="javascript:x">x</a></svg>"#));
        assert!(!is_plain_svg(r#"<svg><rect ONCLICK = "x"/></svg>"#));
        assert!(!is_plain_svg("<b>not svg</b>"));
        assert!(is_plain_svg(r#"<svg><text>one=1</text></svg>"#));
    }
}
