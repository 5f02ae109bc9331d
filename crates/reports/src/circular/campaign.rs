//! A campaign's circular, written from its figures in the seed's shape: the opening (basis,
//! units, teams), 一、基本情况 (dates, focus, the sample, methods, the revisit verdicts naming the
//! towns, satisfaction, the district ratings), 二、督查中发现的主要问题 (by category, naming the
//! districts the problems name, with a chart), 三、下一步工作 (the city office's text), and the
//! problem list as the attachment.

use std::collections::BTreeMap;

use ducha_domain::campaigns::{Purpose, Rating, Verdict};
use ducha_domain::checks::Category;
use ducha_storage::campaigns::assessment::Summary;
use ducha_storage::campaigns::circular::CircularSettings;

use super::{Attachment, Block, Circular, Table, bar_chart_svg, chinese_date};

/// The heading of a category in 二、, as the seed words it.
pub fn category_heading(c: Category) -> &'static str {
    match c {
        Category::Platform => "镇（街）扶贫工作平台建设仍须加强",
        Category::Responsibility => "镇（街）扶贫办责任压得不实",
        Category::DataAccuracy => "扶贫数据信息不够精准",
        Category::Measures => "帮扶措施不多或落实不到位",
        Category::Funds => "帮扶资金使用进度缓慢",
        Category::DataQuality => "建档立卡数据质量有待提高",
    }
}

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

fn numeral(i: usize) -> &'static str {
    NUMERALS.get(i).copied().unwrap_or("十")
}

fn join(names: &[&str]) -> String {
    names.join("、")
}

/// "从蓬江区、江海区各抽查 1 个街道，从新会区、台山市……各抽查 2 个镇（街）": districts grouped by
/// how many fresh towns of which kind they gave, in the order of their codes.
fn fresh_sentence(s: &Summary) -> String {
    let mut per: BTreeMap<&str, (&str, usize, bool)> = BTreeMap::new();
    for t in s.towns.iter().filter(|t| t.purpose == Purpose::Fresh) {
        let street = t.code.get(6..).and_then(|x| x.parse::<u32>().ok()).is_some_and(|n| n < 100);
        let e = per.entry(t.district.as_str()).or_insert((t.district_name.as_str(), 0, true));
        e.1 += 1;
        e.2 &= street;
    }
    let mut groups: Vec<((usize, bool), Vec<&str>)> = Vec::new();
    for (name, n, streets) in per.values() {
        match groups.iter_mut().find(|(k, _)| *k == (*n, *streets)) {
            Some((_, names)) => names.push(name),
            None => groups.push(((*n, *streets), vec![name])),
        }
    }
    groups
        .iter()
        .map(|((n, streets), names)| {
            let each = if names.len() > 1 { "各" } else { "" };
            format!("从{}{each}抽查 {n} 个{}", join(names), if *streets { "街道" } else { "镇（街）" })
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// The circular of a campaign. `earlier` names the campaign its revisits went back to.
pub fn build(s: &Summary, settings: &CircularSettings, earlier: Option<&str>) -> Circular {
    let c = &s.campaign;
    let mut blocks = Vec::new();
    let districts: Vec<&str> = s.scores.iter().map(|d| d.facts.name.as_str()).collect();
    let basis = if settings.basis.trim().is_empty() {
        String::new()
    } else {
        format!("根据{}有关要求，", settings.basis.trim())
    };
    let guided = if c.guided_by.trim().is_empty() { String::new() } else { format!("，{}指导", c.guided_by.trim()) };
    let members = if c.member_units.trim().is_empty() {
        String::new()
    } else {
        format!("，{}等单位有关人员", c.member_units.trim())
    };
    blocks.push(Block::Paragraph(format!(
        "{basis}由{}牵头{guided}{members}组成 {} 个督查组，分别对{}脱贫攻坚工作落实情况开展督查，现将有关情况通报如下。",
        c.lead_units.trim(),
        s.teams.len(),
        join(&districts)
    )));

    blocks.push(Block::Heading1("一、基本情况".into()));
    let focus = if c.focus.is_empty() {
        String::new()
    } else {
        format!("督查组聚焦{}等方面开展督查。", c.focus.join("、"))
    };
    let mut sample = format!("{}，{focus}共抽查了 {} 个镇（街）", c.dates_label(), s.towns.len());
    if s.towns_fresh > 0 {
        sample.push_str(&format!("，其中：{}开展实地督查", fresh_sentence(s)));
    }
    if s.towns_revisit > 0 {
        let per_district = s.towns_revisit.div_ceil(districts.len().max(1));
        let from = earlier.map_or_else(|| "此前督查".to_string(), |e| format!("“{e}”"));
        sample.push_str(&format!(
            "；同时，每个市（区）各再抽查 {per_district} 个{from}中督查过的镇（街）进行回头看，检查整改措施落实情况"
        ));
    }
    sample.push_str(&format!(
        "。督查组通过查阅资料、实地调查、问卷调查等方式开展督查，每个镇（街）走访不少于 {} 户贫困户，共走访贫困户 {} 户。",
        s.min_households, s.visited
    ));
    blocks.push(Block::Paragraph(sample));

    let mut findings = Vec::new();
    if !s.verdicts.is_empty() {
        let towns = |v: Verdict| join(&s.verdict_towns(v));
        let mut parts = Vec::new();
        if !s.verdict_towns(Verdict::Rectified).is_empty() {
            parts.push(format!("{}对上次督查发现的问题都已落实了整改", towns(Verdict::Rectified)));
        }
        if !s.verdict_towns(Verdict::Partly).is_empty() {
            parts.push(format!("{}对上次督查发现的问题虽有行动，但有的地方整改不到位", towns(Verdict::Partly)));
        }
        if !s.verdict_towns(Verdict::NotRectified).is_empty() {
            parts.push(format!("{}未落实整改", towns(Verdict::NotRectified)));
        }
        if !s.verdict_towns(Verdict::Pending).is_empty() {
            parts.push(format!("{}尚待核实", towns(Verdict::Pending)));
        }
        findings.push(format!("从回头看抽查 {} 个镇（街）来看，{}", s.towns_revisit, parts.join("；")));
    }
    if s.towns_fresh > 0 {
        let satisfaction: Vec<String> =
            s.satisfaction.iter().filter_map(|t| t.percent.map(|p| format!("对{}的满意度为 {p}%", t.topic))).collect();
        let satisfaction = if satisfaction.is_empty() {
            String::new()
        } else {
            format!("；问卷调查中，贫困户{}", satisfaction.join("，"))
        };
        findings.push(format!(
            "从抽查的 {} 个镇（街）来看，共发现问题 {} 个{satisfaction}",
            s.towns_fresh,
            s.problems.len()
        ));
    }
    if !findings.is_empty() {
        let text: Vec<String> = findings.iter().enumerate().map(|(i, f)| format!("{}是{f}。", numeral(i))).collect();
        blocks.push(Block::Paragraph(text.concat()));
    }
    let rated = |r: Rating| join(&s.rated(r));
    let mut ratings = Vec::new();
    if !s.rated(Rating::Outstanding).is_empty() {
        ratings.push(format!("基础资料做得好、总体表现突出的有{}", rated(Rating::Outstanding)));
    }
    if !s.rated(Rating::Average).is_empty() {
        ratings.push(format!("基本能按要求落实各项工作、总体表现一般的有{}", rated(Rating::Average)));
    }
    if !s.rated(Rating::Poor).is_empty() {
        ratings.push(format!("工作落实不到位、总体表现较差的有{}", rated(Rating::Poor)));
    }
    if !ratings.is_empty() {
        blocks.push(Block::Paragraph(format!("综合督查情况，{}。", ratings.join("；"))));
    }

    blocks.push(Block::Heading1("二、督查中发现的主要问题".into()));
    let with_problems: Vec<&str> = s
        .scores
        .iter()
        .filter(|d| s.problems.iter().any(|p| p.district_code == d.facts.district))
        .map(|d| d.facts.name.as_str())
        .collect();
    if s.problems.is_empty() {
        blocks.push(Block::Paragraph("本次督查尚未确认问题。".into()));
    } else {
        blocks.push(Block::Paragraph(format!(
            "从督查情况看，{} 个市（区）的扶贫攻坚工作都不同程度存在一些问题。",
            with_problems.len()
        )));
        for (k, line) in s.by_category.iter().filter(|l| l.count > 0).enumerate() {
            let mut examples: Vec<&str> = Vec::new();
            for p in s.problems.iter().filter(|p| p.category == line.category) {
                // The finding itself: without the checklist item a review names, or the label
                // before a visit's or the audit engine's own words.
                let t = match p.text.find("（查阅资料") {
                    Some(i) => &p.text[..i],
                    None => p.text.split_once('：').map_or(p.text.as_str(), |(_, rest)| rest),
                }
                .trim_end_matches('。');
                if !examples.contains(&t) && examples.len() < 3 {
                    examples.push(t);
                }
            }
            blocks.push(Block::LeadParagraph {
                lead: format!("（{}）{}。", numeral(k), category_heading(line.category)),
                text: format!(
                    "共发现问题 {} 个，涉及{}。主要表现在：{}。",
                    line.count,
                    line.districts.join("、"),
                    examples.join("；")
                ),
            });
        }
        let counts: Vec<f64> = s
            .scores
            .iter()
            .map(|d| s.problems.iter().filter(|p| p.district_code == d.facts.district).count() as f64)
            .collect();
        let names: Vec<String> = districts.iter().map(|d| d.to_string()).collect();
        blocks.push(Block::Chart {
            title: "各市（区）督查发现问题数".into(),
            svg: bar_chart_svg("", &names, &[("问题数".to_string(), counts)]),
        });
        blocks.push(Block::Paragraph("（抽查镇（街）中发现的具体问题见附表。）".into()));
    }

    blocks.push(Block::Heading1("三、下一步工作".into()));
    for line in settings.next_steps.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once('。') {
            Some((lead, rest)) if line.starts_with('（') => {
                blocks.push(Block::LeadParagraph { lead: format!("{lead}。"), text: rest.to_string() })
            }
            _ => blocks.push(Block::Paragraph(line.to_string())),
        }
    }

    let title = format!("{}问题清单", c.name);
    Circular {
        issuer: settings.signer.clone(),
        issuer_header: format!("{}文件", settings.signer),
        number: settings.number.clone(),
        title: settings.title.clone(),
        addressees: settings.addressees.clone(),
        blocks,
        attachment_note: Some(format!("附件：{title}")),
        signer: settings.signer.clone(),
        seal_note: seal_note(&settings.signer),
        date: settings.issued_on,
        disclosure: (!settings.disclosure.is_empty()).then(|| format!("公开方式：{}", settings.disclosure)),
        copied_to: (!settings.copied_to.is_empty()).then(|| format!("抄送：{}", settings.copied_to)),
        attachment: Some(Attachment { title, table: problem_table(s, settings) }),
    }
}

/// Under the signer: a leading group (领导小组) has no seal of its own, its office seals for it,
/// and the circular says so, as the seed's does (江门市扶贫开发领导小组 / （代章））.
pub fn seal_note(signer: &str) -> Option<String> {
    signer.trim().ends_with("领导小组").then(|| "（代章）".to_string())
}

/// The problem list (问题清单): one row per confirmed problem, by district and town.
pub fn problem_table(s: &Summary, settings: &CircularSettings) -> Table {
    let mut t = Table::problem_list();
    let deadline = chinese_date(settings.deadline());
    for (i, p) in s.problems.iter().enumerate() {
        t.rows.push(vec![
            (i + 1).to_string(),
            p.district_name.clone(),
            p.town_name.clone(),
            p.category.to_string(),
            p.text.clone(),
            p.responsible_unit.clone(),
            deadline.clone(),
        ]);
    }
    t
}

/// A campaign's circular as the actor may see it, with the figures and settings it was written
/// from.
pub async fn for_campaign(
    s: &ducha_storage::Scoped,
    id: i64,
) -> Result<(Circular, Summary, CircularSettings), super::CircularError> {
    let opened = s.campaigns().open(id).await?;
    let settings = opened.circular().settings().await?;
    let earlier = opened.circular().revisited_name().await?;
    let summary = opened.summary().await?;
    let circular = build(&summary, &settings, earlier.as_deref());
    Ok((circular, summary, settings))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_leading_group_signs_with_its_office_sealing_for_it() {
        assert_eq!(super::seal_note("江门市扶贫开发领导小组").as_deref(), Some("（代章）"));
        assert_eq!(super::seal_note("江门市扶贫开发领导小组办公室"), None);
    }
}
