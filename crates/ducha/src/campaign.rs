//! `ducha campaign`: the campaigns, one campaign's figures, and its sample (stored, or drawn again
//! with a seed to show that the same seed gives the same sample).

use anyhow::{Context, Result, bail};
use ducha_domain::campaigns::{Rating, Verdict};
use ducha_domain::labelled::Labelled;
use ducha_storage::Scoped;

use crate::cli::{CampaignCommand, ReportCommand};

pub async fn command(s: &Scoped, cmd: CampaignCommand) -> Result<()> {
    match cmd {
        CampaignCommand::List => {
            println!(
                "{:>4}  {:<28} {:<10} {:<23} {:>6} {:>6} {:>6}",
                "编号", "名称", "类型", "日期", "镇(街)", "户数", "问题"
            );
            let figure = |n: Option<i64>| n.map_or_else(|| "—".to_string(), |n| n.to_string());
            for c in s.campaigns().list().await? {
                println!(
                    "{:>6}  {:<28} {:<10} {:<25} {:>8} {:>8} {:>8}",
                    c.id,
                    c.name,
                    c.kind.label(),
                    format!("{} 至 {}", c.starts_on, c.ends_on),
                    figure(c.towns),
                    figure(c.households),
                    figure(c.problems)
                );
            }
        }
        CampaignCommand::Show { id } => show(s, id).await?,
        CampaignCommand::Sample { id, seed, save } => {
            let opened = s.campaigns().open(id).await?;
            let c = opened.campaign();
            let Some(mut plan) = c.sample_plan.clone() else {
                bail!("督查 {id} 还没有抽样方案：请先在网页上抽样");
            };
            match seed {
                None => {
                    println!(
                        "督查 {id}（{}）已保存的抽样：种子 {}，算法 {}，{} 由 {} 抽取",
                        c.name,
                        plan.seed,
                        c.sample_algorithm.as_deref().unwrap_or("—"),
                        c.sampled_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                        c.sampled_by.as_deref().unwrap_or("—")
                    );
                    for t in opened.sample().stored().await? {
                        let ids: Vec<String> = t.households.iter().map(|h| h.number.clone()).collect();
                        println!(
                            "{}  {:<6} {:<10} {:<6} {:<6} {}",
                            t.code,
                            t.district_name,
                            t.name,
                            t.purpose.label(),
                            t.how.label(),
                            ids.join(" ")
                        );
                    }
                }
                Some(seed) => {
                    plan.seed = seed;
                    let d = if save {
                        s.campaigns().draw_sample(id, &plan).await?
                    } else {
                        opened.sample().preview(&plan).await?
                    };
                    println!(
                        "督查 {id}（{}）以种子 {seed} 抽样（算法 {}）{}",
                        c.name,
                        ducha_domain::campaigns::sampling::ALGORITHM,
                        if save { "，已保存" } else { "，未保存（加 --save 保存）" }
                    );
                    for t in &d.towns {
                        let ids: Vec<String> =
                            d.households.get(&t.code).into_iter().flatten().map(|h| h.id.to_string()).collect();
                        println!(
                            "{}  {:<10} {:<6} {:<6} 户内部编号 {}",
                            t.code,
                            t.name,
                            t.purpose.label(),
                            t.how.label(),
                            ids.join(" ")
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

async fn show(scoped: &Scoped, id: i64) -> Result<()> {
    let s = scoped.campaigns().summary(id).await?;
    let c = &s.campaign;
    println!("{}（{}，{} 至 {}）", c.name, c.kind.label(), c.starts_on, c.ends_on);
    println!("牵头单位：{}；指导：{}；参加单位：{}", c.lead_units, c.guided_by, c.member_units);
    println!("督查重点：{}", c.focus.join("、"));
    for t in &s.teams {
        let districts: Vec<String> = t.districts.clone();
        println!("  {}（组长单位 {}；{}）负责 {}", t.name, t.leader, t.units, districts.join("、"));
    }
    println!(
        "抽查镇(街) {} 个：新抽查 {} 个、回头看 {} 个（随机抽取 {} 个、指定 {} 个）；抽查贫困户 {} 户（每镇至少 {} 户），已走访 {} 户",
        s.towns.len(),
        s.towns_fresh,
        s.towns_revisit,
        s.towns_drawn,
        s.towns_chosen,
        s.households,
        s.min_households,
        s.visited
    );
    println!("发现问题 {} 个（另有 {} 个待确认）：", s.problems.len(), s.proposed);
    for line in s.by_category.iter().filter(|l| l.count > 0) {
        println!("  {}：{} 个（{}）", line.category.label(), line.count, line.districts.join("、"));
    }
    for t in &s.satisfaction {
        println!(
            "满意度（{}）：{}（{}/{}）",
            t.topic,
            t.percent.map(|p| format!("{p}%")).unwrap_or("—".into()),
            t.tally.satisfied,
            t.tally.answered
        );
    }
    if !s.verdicts.is_empty() {
        println!("回头看：");
        for v in Verdict::ALL {
            let towns = s.verdict_towns(*v);
            if !towns.is_empty() {
                println!("  {}：{}", v.label(), towns.join("、"));
            }
        }
    }
    println!("各市(区)评定：");
    for sc in &s.scores {
        println!(
            "  {:<6} {:>5.1} 分  {}（问题 -{:.1}，查阅资料 -{:.1}，满意度 {:+.1}）",
            sc.facts.name,
            sc.score,
            sc.rating.label(),
            sc.problems_off,
            sc.checklist_off,
            sc.satisfaction_adjust
        );
    }
    for r in Rating::ALL {
        let names = s.rated(*r);
        if !names.is_empty() {
            println!("{}：{}", r.label(), names.join("、"));
        }
    }
    Ok(())
}

/// `ducha report`: the circular (docx, pdf or html by the file's extension) and the problem list.
pub async fn report(s: &Scoped, cmd: ReportCommand) -> Result<()> {
    use ducha_reports::circular::{self, campaign::for_campaign};
    let (path, bytes) = match cmd {
        ReportCommand::Circular { campaign, out } => {
            let (c, _, _) = for_campaign(s, campaign).await?;
            let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            let bytes = match ext.as_str() {
                "docx" => circular::to_docx(&c)?,
                "pdf" => {
                    // GB/T 9704 wants the body in 仿宋: say so when the machine has no face for it.
                    if let Some(note) = circular::pdf_body_face(&c).note {
                        eprintln!("说明：{note}");
                    }
                    circular::to_pdf(&c)?
                }
                "html" | "htm" => circular::to_html_page(&c).into_bytes(),
                _ => bail!("不认识的文件类型“{}”：请用 .docx、.pdf 或 .html", out.display()),
            };
            (out, bytes)
        }
        ReportCommand::Problems { campaign, out } => {
            let (c, _, _) = for_campaign(s, campaign).await?;
            let a = c.attachment.context("这份通报没有问题清单")?;
            (out, circular::problem_list_xlsx(&a.title, &a.table)?)
        }
    };
    crate::files::write_private(&path, &bytes)?;
    println!("已写出 {}", path.display());
    Ok(())
}
