//! Import and export of the households template, measured one phase per run so that each run's
//! peak memory (from `/usr/bin/time -v`) belongs to one phase. `bench/run-exchange.sh` runs the
//! phases in order and writes `bench/RESULTS.md`; see there for the method.
//!
//!   exchange-bench setup    DB N       a demo city of N households (no deliberate defects)
//!   exchange-bench export   DB FILE    export every household to FILE
//!   exchange-bench calamine FILE       calamine alone: open the workbook and visit every cell
//!   exchange-bench parse    FILE       ducha's reading and checking of the file (no database)
//!   exchange-bench import   DB FILE    the whole import into DB (an empty registry): check, plan, write

mod common;

use std::time::Instant;

use anyhow::{Context, Result, bail};
use calamine::{Reader, Xlsx};
use ducha_domain::access::Actor;
use ducha_domain::demo::DemoConfig;

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().context("missing argument; see the module documentation");
    let actor = Actor::command_line("bench");
    let started = Instant::now();
    match arg(0)?.as_str() {
        "setup" => {
            let db = common::open(&arg(1)?).await?;
            let n: u64 = arg(2)?.parse()?;
            let config = DemoConfig { households: n, defects: false, ..Default::default() };
            let s = db.scoped(&actor).demo().load(config, |_, _| {}).await?;
            println!(
                "setup households={} members={} seconds={:.2}",
                s.households,
                s.members,
                started.elapsed().as_secs_f64()
            );
        }
        "export" => {
            let db = common::open(&arg(1)?).await?;
            let filter = ducha_storage::registry::HouseholdFilter::default();
            let (bytes, count) = ducha_reports::exchange::export(&db.scoped(&actor), &filter, |_| {}).await?;
            let secs = started.elapsed().as_secs_f64();
            std::fs::write(arg(2)?, &bytes)?;
            // The calamine phase counts the cells back from the file: the two must agree.
            println!(
                "export households={} cells={} bytes={} seconds={secs:.2} cells_per_second={:.0}",
                count.households,
                count.cells,
                bytes.len(),
                count.cells as f64 / secs
            );
        }
        "write" => {
            // The writer alone: every household read into memory first, then timed into xlsx.
            let db = common::open(&arg(1)?).await?;
            let filter = ducha_storage::registry::HouseholdFilter::default();
            let tree = db.system().regions().tree().await?;
            let mut all = Vec::new();
            let mut after = 0;
            loop {
                let batch = db.scoped(&actor).registry().export_batch(&filter, after, 2_000).await?;
                let Some(last) = batch.last() else { break };
                after = last.0.id;
                for (h, ms) in batch {
                    let household = ducha_storage::registry::to_household(&h)?;
                    let members = ms
                        .iter()
                        .map(|m| ducha_storage::registry::to_member(m).map(|x| (m.seq, x)))
                        .collect::<Result<Vec<_>, _>>()?;
                    let village_name = tree.get(&h.village_code).map(|v| v.name.clone()).unwrap_or_default();
                    all.push(ducha_reports::households::ExportHousehold { household, village_name, members });
                }
            }
            let t = Instant::now();
            let mut x = ducha_reports::households::Exporter::new(false);
            for h in &all {
                x.push(h)?;
            }
            let cells = x.cells;
            let bytes = x.finish()?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "write households={} cells={cells} bytes={} seconds={secs:.2} cells_per_second={:.0}",
                all.len(),
                bytes.len(),
                cells as f64 / secs
            );
        }
        "calamine" => {
            let bytes = std::fs::read(arg(1)?)?;
            let t = Instant::now();
            let cells = count_cells(&bytes)?;
            let secs = t.elapsed().as_secs_f64();
            println!("calamine cells={cells} seconds={secs:.2} cells_per_second={:.0}", cells as f64 / secs);
        }
        "parse" => {
            let regions = ducha_domain::region::parse_region_file(ducha_domain::region::JIANGMEN_CSV.as_bytes())
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let tree = ducha_domain::RegionTree::new(regions);
            let bytes = std::fs::read(arg(1)?)?;
            let t = Instant::now();
            let tables = ducha_reports::sheet::read("bench.xlsx", &bytes, ducha_reports::households::SHEET)?;
            let read_secs = t.elapsed().as_secs_f64();
            let p = ducha_reports::households::parse_tables(tables, &tree, today())?;
            let secs = t.elapsed().as_secs_f64();
            eprintln!("parse: reading {read_secs:.2} s, checking {:.2} s", secs - read_secs);
            if !p.errors.is_empty() {
                bail!("the file has errors: {}", p.errors[0]);
            }
            let members: usize = p.households.iter().map(|h| h.members.len()).sum();
            println!(
                "parse households={} members={members} rows={} seconds={secs:.2} rows_per_second={:.0}",
                p.households.len(),
                p.rows,
                p.rows as f64 / secs
            );
        }
        "import" => {
            let db = common::open(&arg(1)?).await?;
            db.system().regions().ensure_default().await?;
            let bytes = std::fs::read(arg(2)?)?;
            let t = Instant::now();
            let o = ducha_reports::exchange::import(&db.scoped_on(&actor, today()), "bench.xlsx", &bytes, |_, _| {})
                .await?;
            let secs = t.elapsed().as_secs_f64();
            if !o.committed {
                bail!("not imported: {}", o.errors.first().map(|e| e.to_string()).unwrap_or_default());
            }
            println!(
                "import households={} members={} rows={} seconds={secs:.2} rows_per_second={:.0}",
                o.summary.households_new,
                o.summary.members_new,
                o.parsed.rows,
                o.parsed.rows as f64 / secs
            );
        }
        other => bail!("unknown phase {other}"),
    }
    Ok(())
}

/// Open the workbook with calamine and visit every non-empty cell of every sheet.
fn count_cells(bytes: &[u8]) -> Result<u64> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))?;
    let mut cells = 0u64;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name)?;
        cells += range.used_cells().count() as u64;
    }
    Ok(cells)
}
