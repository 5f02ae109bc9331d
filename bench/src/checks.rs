//! Benchmark of the data-quality checks (not a test: run by `bench/run-checks.sh`).
//!
//! Phases, each its own process so that its memory is its own:
//! - `setup URL N`: the demo city of N households, with its planted problems.
//! - `evaluate URL [REPEAT]`: read every household's facts into memory (timed as `load`), then
//!   evaluate the whole catalogue over them REPEAT times on one thread and on every core (timed
//!   apart from the load: this is what compares with DuckDB running the same rules over data it
//!   already holds). Prints the findings per rule as JSON lines for the comparison.
//! - `run URL`: `checks::run` over the whole registry twice, end to end (read, evaluate, store
//!   the run's findings in one transaction): the first finds everything new, the second is the
//!   steady state where nothing changed.
//! - `recheck URL [SAMPLES]`: the re-check a save does, on SAMPLES households spread over the
//!   registry, each timed alone inside a transaction that is then rolled back.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use anyhow::{Context, Result};
use ducha_domain::access::{Actor, Scope};
use ducha_domain::checks::{Finding, HouseholdFacts};
use ducha_domain::demo::DemoConfig;
use ducha_storage::Db;
use ducha_storage::checks::{self, load};

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().context("missing argument; see the module documentation");
    let actor = Actor::command_line("bench");
    match arg(0)?.as_str() {
        "setup" => {
            let started = Instant::now();
            let db = common::open(&arg(1)?).await?;
            let n: u64 = arg(2)?.parse()?;
            let s =
                db.scoped(&actor).demo().load(DemoConfig { households: n, ..Default::default() }, |_, _| {}).await?;
            println!(
                "setup households={} members={} seconds={:.2}",
                s.households,
                s.members,
                started.elapsed().as_secs_f64()
            );
        }
        "evaluate" => {
            let db = common::open(&arg(1)?).await?;
            let repeat: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(3);
            evaluate(&db, repeat).await?;
        }
        "run" => {
            let db = common::open(&arg(1)?).await?;
            for label in ["first", "steady"] {
                let started = Instant::now();
                let (s, _) = db.scoped(&actor).checks().run(&Scope::All, |_| {}).await?;
                println!(
                    "run_{label} households={} open={} new={} fixed={} seconds={:.2}",
                    s.households,
                    s.open,
                    s.new,
                    s.fixed,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        "recheck" => {
            let db = common::open(&arg(1)?).await?;
            let samples: i64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1000);
            recheck(&db, &actor, samples).await?;
        }
        other => anyhow::bail!("unknown phase {other}"),
    }
    Ok(())
}

/// Per village: households being helped, and those without a plan this year.
type VillageCounts = HashMap<String, (i64, i64)>;

async fn evaluate(db: &Db, repeat: usize) -> Result<()> {
    let (year, as_of) = db.system().checks().current().await?;
    let p = db.system().checks().params(year, as_of).await?;
    let started = Instant::now();
    let dups = load::duplicates(db, db.conn(), None).await?;
    let mut all: Vec<HouseholdFacts> = Vec::new();
    let mut after = 0;
    loop {
        let batch = load::facts(
            db,
            db.conn(),
            load::Selection::Batch { scope: &Scope::All, after, limit: 20_000 },
            year,
            as_of,
            &dups,
        )
        .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        all.extend(batch);
    }
    let members: usize = all.iter().map(|h| h.members.len()).sum();
    println!("load households={} members={members} seconds={:.2}", all.len(), started.elapsed().as_secs_f64());

    let whole = |facts: &[HouseholdFacts]| -> Vec<Finding> {
        let mut villages = HashMap::new();
        let mut found = checks::evaluate(facts, &p, &mut villages);
        for (village, (active, without)) in &villages {
            found.extend(ducha_domain::checks::village_findings(village, *active, *without, &p));
        }
        found
    };
    let mut one_thread = Vec::new();
    let mut found = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        found = whole(&all);
        one_thread.push(t.elapsed().as_secs_f64());
    }
    // Every core: households split into one slice per core; village counts are summed after.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut parallel = Vec::new();
    let mut found_parallel = 0;
    for _ in 0..repeat {
        let t = Instant::now();
        let parts: Vec<(Vec<Finding>, VillageCounts)> = std::thread::scope(|s| {
            let handles: Vec<_> = all
                .chunks(all.len().div_ceil(cores).max(1))
                .map(|chunk| {
                    s.spawn(|| {
                        let mut villages = HashMap::new();
                        (checks::evaluate(chunk, &p, &mut villages), villages)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut villages: HashMap<String, (i64, i64)> = HashMap::new();
        let mut n = 0;
        for (f, v) in parts {
            n += f.len();
            for (k, (a, w)) in v {
                let e = villages.entry(k).or_default();
                e.0 += a;
                e.1 += w;
            }
        }
        for (village, (active, without)) in &villages {
            n += ducha_domain::checks::village_findings(village, *active, *without, &p).len();
        }
        found_parallel = n;
        parallel.push(t.elapsed().as_secs_f64());
    }
    anyhow::ensure!(found_parallel == found.len(), "parallel found {found_parallel}, one thread {}", found.len());
    let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &found {
        *by_rule.entry(f.rule).or_default() += 1;
    }
    println!("rules {}", serde_json::to_string(&by_rule)?);
    println!(
        "evaluate households={} findings={} one_thread_median={:.3} cores={cores} all_cores_median={:.3} runs={repeat}",
        all.len(),
        found.len(),
        median(&mut one_thread),
        median(&mut parallel)
    );
    Ok(())
}

async fn recheck(db: &Db, actor: &Actor, samples: i64) -> Result<()> {
    // The demo numbers households 1..N.
    let max: i64 = db.system().registry().counts_by_status().await?.iter().map(|(_, n)| n).sum();
    anyhow::ensure!(max > 0, "no households");
    let step = (max / samples).max(1);
    let mut micros = Vec::new();
    let mut whole = Vec::new();
    for i in 0..samples {
        let id = 1 + i * step;
        // The re-check a save runs after it commits, in its own transaction (which it commits:
        // findings already up to date change nothing).
        let t = Instant::now();
        db.scoped(actor).checks().recheck(&[id]).await?;
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        whole.push(t.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    let p99 = micros[(micros.len() * 99 / 100).min(micros.len() - 1)];
    println!(
        "recheck samples={samples} median_us={:.0} p99_us={p99:.0} max_us={:.0} with_transaction_median_us={:.0}",
        median(&mut micros),
        micros.last().copied().unwrap_or(0.0),
        median(&mut whole)
    );
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
