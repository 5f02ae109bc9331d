//! `ducha audit`: the data-quality catalogue over the registry (or a region), from the command
//! line: a table to read, JSON for scripts, or the per-town problem list as xlsx.

use anyhow::{Context, Result, bail};
use ducha_domain::access::{Actor, Scope};
use ducha_domain::checks::CATALOGUE;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionCode;
use ducha_storage::Db;
use ducha_storage::checks::FindingFilter;
use indicatif::ProgressBar;

use crate::cli::{AuditArgs, AuditCommand};

fn print_rules(format: &str) -> Result<()> {
    match format {
        "json" => {
            let rules: Vec<serde_json::Value> = CATALOGUE
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "title": r.title, "object": r.object.code(), "severity": r.severity.code(),
                        "category": r.category.code(), "category_label": r.category.label(), "params": r.params,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rules)?);
        }
        "table" => {
            println!("{:<9} {:<6} {:<6} {:<18} 规则", "代码", "对象", "程度", "问题类别");
            for r in CATALOGUE {
                println!(
                    "{:<9} {:<6} {:<6} {:<18} {}",
                    r.code,
                    r.object.label(),
                    r.severity.label(),
                    r.category.label(),
                    r.title
                );
            }
            println!("共 {} 条规则", CATALOGUE.len());
        }
        other => bail!("不认识的输出格式“{other}”：规则目录可输出 table 或 json"),
    }
    Ok(())
}

/// The scope to check: the user's, narrowed to `--region` when it lies inside it.
fn scope_of(actor: &Actor, region: Option<&str>) -> Result<Scope> {
    let Some(code) = region else { return Ok(actor.scope.clone()) };
    let code = RegionCode::parse(code).map_err(|e| anyhow::anyhow!("--region：{e}"))?;
    if !actor.scope.contains(code.as_str()) {
        bail!("区划 {code} 不在 {} 的辖区内", actor.username);
    }
    Ok(Scope::Region(code))
}

pub async fn audit(db: &Db, actor: &Actor, args: AuditArgs) -> Result<()> {
    if let Some(AuditCommand::Rules { format }) = &args.command {
        return print_rules(format);
    }
    if !matches!(args.format.as_str(), "table" | "json" | "xlsx") {
        bail!("不认识的输出格式“{}”：可用 table、json 或 xlsx", args.format);
    }
    if args.format == "xlsx" && args.out.is_none() {
        bail!("输出 xlsx 问题清单时请用 --out 指定文件，例如 --out 问题清单.xlsx");
    }
    let scope = scope_of(actor, args.region.as_deref())?;
    let bar = ProgressBar::new_spinner();
    let started = std::time::Instant::now();
    let (summary, _) = db.scoped(actor).checks().run(&scope, |n| bar.set_message(format!("已核查 {n} 户"))).await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (year, as_of) = db.scoped(actor).checks().current().await?;
    let open = FindingFilter { status: Some("open".into()), ..Default::default() };
    let findings = db
        .scoped(&ducha_domain::access::Actor { scope: scope.clone(), ..actor.clone() })
        .checks()
        .findings(&open, i64::MAX as u64, 0)
        .await?;
    let tree = db.system().regions().tree().await?;
    let region_name = match &scope {
        Scope::All => "全部".to_string(),
        Scope::Region(c) => tree.path(c.as_str()).unwrap_or_else(|| c.to_string()),
    };
    let headline = format!(
        "{year} 年数据质量核查（截至 {as_of}，{region_name}）：核查 {} 户，问题 {} 条（新发现 {}，本次已整改 {}，豁免 {}），用时 {seconds:.1} 秒",
        summary.households, summary.open, summary.new, summary.fixed, summary.exempted
    );
    match args.format.as_str() {
        "json" => {
            let body = serde_json::json!({
                "year": year, "as_of": as_of, "region": region_name, "run": summary, "findings": findings,
            });
            let text = serde_json::to_string_pretty(&body)?;
            match &args.out {
                Some(path) => {
                    crate::files::write_private(path, &text)?;
                    eprintln!("{headline}\n已写出 {}", path.display());
                }
                None => println!("{text}"),
            }
        }
        "xlsx" => {
            let path = args.out.as_ref().context("缺少 --out")?;
            let bytes = ducha_reports::checks::problem_list(&findings, &tree, year)?;
            crate::files::write_private(path, &bytes)?;
            println!("{headline}\n已写出按镇（街）分表的问题清单：{}", path.display());
        }
        _ => {
            let mut text = format!("{headline}\n\n按规则：\n");
            for r in CATALOGUE {
                let n = findings.iter().filter(|f| f.rule == r.code).count();
                if n > 0 {
                    text.push_str(&format!("  {:<9} {:>7} 条  {}（{}）\n", r.code, n, r.title, r.severity.label()));
                }
            }
            text.push_str("\n问题清单：\n");
            for f in &findings {
                let place = tree.path(&f.village_code).unwrap_or_else(|| f.village_code.clone());
                let who = f.household_number.clone().unwrap_or_else(|| format!("（{}）", f.object));
                text.push_str(&format!("  {:<9} {place} {who}　{}\n", f.rule, f.message));
            }
            match &args.out {
                Some(path) => {
                    crate::files::write_private(path, &text)?;
                    println!("{headline}\n已写出 {}", path.display());
                }
                None => print!("{text}"),
            }
        }
    }
    if args.against_demo {
        print_against_demo(db).await?;
    }
    Ok(())
}

/// The planted problems of the demo city against what was found.
pub async fn print_against_demo(db: &Db) -> Result<()> {
    let cmp = db.system().demo_findings().compare().await?;
    if cmp.kinds.iter().all(|k| k.planted == 0) {
        bail!("数据库中没有演示数据设置的问题（不是演示数据，或生成时用了 --no-defects）");
    }
    eprintln!("\n演示数据中故意设置的问题与核查结果（全库）：");
    eprintln!("  {:>6} {:>6} {:>6}  问题（设置对象）", "设置", "查出", "比例");
    for k in &cmp.kinds {
        eprintln!(
            "  {:>8} {:>8} {:>7}  {}（{}）",
            k.planted,
            k.found,
            format!("{}‰", k.rate_per_mille),
            k.label,
            k.population
        );
    }
    eprintln!("  没有设置问题的记录上查出的问题：{} 条", cmp.unexplained.len());
    for u in cmp.unexplained.iter().take(20) {
        eprintln!("    {} 户 {}：{}", u.rule, u.household_id, u.message);
    }
    Ok(())
}
