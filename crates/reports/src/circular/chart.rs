//! Charts as standalone SVG strings with a fixed viewBox, so that they scale to any width: the
//! same string goes inline into web pages and the HTML circular, as an image into the PDF, and
//! (rasterised) into the docx. Own templates rather than a plotting crate: two chart kinds do
//! not need one, and the output stays small and readable. An empty title draws none (for a
//! document, where the caption says it); a legend is drawn for two series or more.

use std::fmt::Write as _;

/// The drawing's size in user units (the viewBox). At the width of an A4 type area (156 mm) one
/// unit is 0.69 pt, so the 14-unit labels print at about 五号.
const W: f64 = 640.0;
const H: f64 = 360.0;
/// Plot area margins: left (y labels), right, bottom (x labels); the top depends on the title
/// and the legend (`plot_top`).
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const BOTTOM: f64 = 52.0;

/// Where the plot area starts: under the title (if any) and the legend (if more than one
/// series), with room for the value labels above the highest bar.
fn plot_top(title: &str, series: usize) -> f64 {
    let title = if title.trim().is_empty() { 0.0 } else { 40.0 };
    let legend = if series > 1 { 28.0 } else { 0.0 };
    title + legend + 24.0
}

/// CJK-capable families first (the servers have Noto CJK; desktops have one of the others).
pub const FONT_FAMILY: &str =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', SimHei, sans-serif";

/// Series colours: an official red first, then colours that stay apart in grey print.
const PALETTE: [&str; 8] = ["#c0392b", "#2e6da4", "#e08e0b", "#3a8f5c", "#7d4e9e", "#6b7b8c", "#d35f8d", "#1f9aa8"];

/// Text for SVG/XML character data and attribute values.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// A value as a label: whole numbers without decimals, others with at most two.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    if (v - v.round()).abs() < 1e-9 {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A "nice" axis from `lo` to `hi` (both included): (min, max, step) with about five steps of 1,
/// 2 or 5 times a power of ten; whole steps when the values are counts.
fn nice_axis(lo: f64, hi: f64, counts: bool) -> (f64, f64, f64) {
    let (lo, hi) = if hi - lo < 1e-12 { (lo.min(0.0), hi.max(lo + 1.0)) } else { (lo, hi) };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    if counts {
        step = step.max(1.0).round();
    }
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

/// The start of the document: the root element, a white background and the title.
fn open(title: &str, out: &mut String) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}" font-family="{FONT_FAMILY}"><title>{t}</title><rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>"##,
        t = escape_xml(title),
    );
    if !title.trim().is_empty() {
        let _ = write!(
            out,
            r##"<text x="{cx}" y="30" text-anchor="middle" font-size="20" font-weight="bold" fill="#222222">{t}</text>"##,
            t = escape_xml(title),
            cx = W / 2.0,
        );
    }
}

/// The legend, centred above the plot: a swatch and the name of each series; none for one.
fn legend(names: &[&str], line: bool, top: f64, out: &mut String) {
    if names.len() < 2 {
        return;
    }
    let y = top - 24.0 - 14.0;
    // CJK characters are about 1 em wide, Latin about half.
    let width_of = |s: &str| s.chars().map(|c| if c.is_ascii() { 7.5 } else { 14.0 }).sum::<f64>();
    let items: Vec<f64> = names.iter().map(|n| 22.0 + width_of(n) + 18.0).collect();
    let mut x = (W - items.iter().sum::<f64>()) / 2.0;
    for (k, (name, w)) in names.iter().zip(&items).enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        if line {
            let _ = write!(
                out,
                r#"<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" stroke-width="3"/><circle cx="{cx}" cy="{y}" r="4" fill="{colour}"/>"#,
                x2 = x + 16.0,
                cx = x + 8.0,
            );
        } else {
            let _ = write!(out, r#"<rect x="{x}" y="{ry}" width="16" height="14" fill="{colour}"/>"#, ry = y - 7.0);
        }
        let _ = write!(
            out,
            r##"<text x="{tx}" y="{ty}" font-size="14" fill="#333333">{n}</text>"##,
            tx = x + 22.0,
            ty = y + 5.0,
            n = escape_xml(name)
        );
        x += w;
    }
}

/// Horizontal grid lines and y labels for the axis (lo, hi, step); `suffix` follows each label.
fn y_axis(lo: f64, hi: f64, step: f64, suffix: &str, y_of: &dyn Fn(f64) -> f64, out: &mut String) {
    let n = ((hi - lo) / step).round() as i64;
    for k in 0..=n {
        let v = lo + step * k as f64;
        let y = y_of(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="{c}" stroke-width="1"/><text x="{tx}" y="{ty:.1}" text-anchor="end" font-size="13" fill="#555555">{l}{s}</text>"##,
            x2 = W - RIGHT,
            c = if v.abs() < step * 1e-9 { "#888888" } else { "#e3e3e3" },
            tx = LEFT - 8.0,
            ty = y + 4.5,
            l = format_value(v),
            s = escape_xml(suffix),
        );
    }
}

/// An x label under its slot, rotated when the slots are narrow.
fn x_label(label: &str, x: f64, slot: f64, out: &mut String) {
    let y = H - BOTTOM + 20.0;
    let long = label.chars().map(|c| if c.is_ascii() { 0.55 } else { 1.0 }).sum::<f64>() * 14.0;
    if long > slot * 0.95 {
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="end" font-size="14" fill="#333333" transform="rotate(-35 {x:.1} {y:.1})">{l}</text>"##,
            l = escape_xml(label)
        );
    } else {
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" font-size="14" fill="#333333">{l}</text>"##,
            l = escape_xml(label)
        );
    }
}

fn no_data(out: &mut String) {
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="18" fill="#888888">暂无数据</text></svg>"##,
        x = W / 2.0,
        y = H / 2.0
    );
}

/// A grouped bar chart: one group per category, one bar per series, each bar labelled with its
/// value. Values that are not finite are left out (no bar, label "—").
pub fn bar_chart_svg(title: &str, categories: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    open(title, &mut out);
    if categories.is_empty() || series.is_empty() {
        no_data(&mut out);
        return out;
    }
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    let top = plot_top(title, series.len());
    legend(&names, false, top, &mut out);
    let values = || series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = values().fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let counts = values().all(|v| v.fract() == 0.0);
    let (lo, hi, step) = nice_axis(lo, hi, counts);
    let plot_h = H - top - BOTTOM;
    let y_of = move |v: f64| top + plot_h * (hi - v) / (hi - lo);
    y_axis(lo, hi, step, "", &y_of, &mut out);

    let slot = (W - LEFT - RIGHT) / categories.len() as f64;
    let bar = slot * 0.8 / series.len() as f64;
    let label_size = (bar * 0.45).clamp(9.0, 14.0);
    for (i, cat) in categories.iter().enumerate() {
        let x0 = LEFT + slot * i as f64 + slot * 0.1;
        for (k, (name, vals)) in series.iter().enumerate() {
            let x = x0 + bar * k as f64;
            let cx = x + bar / 2.0;
            match vals.get(i).copied().filter(|v| v.is_finite()) {
                Some(v) => {
                    let (top, bottom) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{c}"><title>{t}</title></rect>"#,
                        w = (bar - 2.0).max(1.0),
                        h = (bottom - top).max(0.0),
                        c = PALETTE[k % PALETTE.len()],
                        t = escape_xml(&format!("{cat} {name}：{}", format_value(v))),
                    );
                    let ly = if v < 0.0 { bottom + label_size + 2.0 } else { top - 4.0 };
                    let _ = write!(
                        out,
                        r##"<text x="{cx:.1}" y="{ly:.1}" text-anchor="middle" font-size="{label_size:.1}" fill="#222222">{l}</text>"##,
                        l = format_value(v)
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        r##"<text x="{cx:.1}" y="{ly:.1}" text-anchor="middle" font-size="{label_size:.1}" fill="#888888">—</text>"##,
                        ly = y_of(0.0) - 4.0
                    );
                }
            }
        }
        x_label(cat, LEFT + slot * (i as f64 + 0.5), slot, &mut out);
    }
    out.push_str("</svg>");
    out
}

/// A line chart of rates over time: `x_labels` along the bottom, one line per series, values in
/// percent (87.5 means 87.5%), each point labelled. The y axis runs from 0 to 100% (further when
/// a value exceeds 100). Values that are not finite break the line.
pub fn line_chart_svg(title: &str, x_labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    open(title, &mut out);
    if x_labels.is_empty() || series.is_empty() {
        no_data(&mut out);
        return out;
    }
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    let top = plot_top(title, series.len());
    legend(&names, true, top, &mut out);
    let values = series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0f64, 100.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi, step) = if lo == 0.0 && hi == 100.0 { (0.0, 100.0, 20.0) } else { nice_axis(lo, hi, false) };
    let plot_h = H - top - BOTTOM;
    let y_of = move |v: f64| top + plot_h * (hi - v) / (hi - lo);
    y_axis(lo, hi, step, "%", &y_of, &mut out);

    let slot = (W - LEFT - RIGHT) / x_labels.len() as f64;
    let x_of = |i: usize| LEFT + slot * (i as f64 + 0.5);
    for (i, l) in x_labels.iter().enumerate() {
        x_label(l, x_of(i), slot, &mut out);
    }
    for (k, (name, vals)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        // One polyline per unbroken run of finite values.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in vals.iter().take(x_labels.len()).enumerate() {
            match v.is_finite() {
                true => runs.last_mut().into_iter().for_each(|r| r.push((x_of(i), y_of(*v)))),
                false => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| r.len() > 1) {
            let points: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2.5"/>"#,
                points.join(" ")
            );
        }
        for (i, v) in vals.iter().take(x_labels.len()).enumerate().filter(|(_, v)| v.is_finite()) {
            let (x, y) = (x_of(i), y_of(*v));
            let _ = write!(
                out,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}"><title>{t}</title></circle><text x="{x:.1}" y="{ly:.1}" text-anchor="middle" font-size="12" fill="#222222">{l}%</text>"##,
                t = escape_xml(&format!("{} {name}：{}%", x_labels[i], format_value(*v))),
                ly = y - 9.0,
                l = format_value(*v),
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn bar_chart_has_every_label_escaped() {
        let cats = s(&["蓬江区", "江海区", "新会区", "<台山&市>"]);
        let svg = bar_chart_svg(
            "各市（区）问题数 <b>",
            &cats,
            &[("问题数".into(), vec![3.0, 0.0, 12.5, 7.0]), ("已整改".into(), vec![1.0, 0.0, f64::NAN, 7.0])],
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 360\""));
        assert!(svg.ends_with("</svg>"));
        for c in ["蓬江区", "江海区", "新会区", "&lt;台山&amp;市&gt;", "问题数", "已整改", "12.5"] {
            assert!(svg.contains(c), "{c} missing");
        }
        assert!(!svg.contains("<b>") && !svg.contains("<台山"));
        assert!(svg.contains("各市（区）问题数 &lt;b&gt;"));
        // Balanced tags, roughly: every opened element is closed.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }

    #[test]
    fn empty_chart_says_so() {
        assert!(bar_chart_svg("空", &[], &[]).contains("暂无数据"));
        assert!(line_chart_svg("空", &s(&["1月"]), &[]).contains("暂无数据"));
    }

    #[test]
    fn line_chart_runs_in_percent() {
        let svg = line_chart_svg(
            "整改率",
            &s(&["6月", "9月", "12月"]),
            &[("全市".into(), vec![40.0, f64::NAN, 87.5]), ("蓬江区".into(), vec![10.0, 50.0, 100.0])],
        );
        assert!(svg.contains("100%") && svg.contains("87.5%") && svg.contains("12月"));
        // The broken series draws no line, the whole one does.
        assert_eq!(svg.matches("<polyline").count(), 1);
    }

    #[test]
    fn axis_and_values() {
        assert_eq!(nice_axis(0.0, 12.5, false), (0.0, 15.0, 5.0));
        assert_eq!(nice_axis(0.0, 38.0, true), (0.0, 40.0, 10.0));
        assert_eq!(nice_axis(0.0, 2.0, true), (0.0, 2.0, 1.0));
        assert_eq!(nice_axis(0.0, 2.0, false), (0.0, 2.0, 0.5));
        let (lo, hi, step) = nice_axis(0.0, 0.0, false);
        assert!(lo == 0.0 && (hi - 1.0).abs() < 1e-9 && (step - 0.2).abs() < 1e-9);
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(3.456), "3.46");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(escape_xml("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&#39;");
    }
}
