//! The cost of sealing personal data, per value and suite (not a test: run by
//! `bench/run-crypto.sh`, which puts these figures beside the whole import, export and audit).
//!
//!   vault-bench [N]   seal, open and index N ID numbers (default 1,000,000) under each suite,
//!                     one thread, and print one line per suite
//!
//! The values are 18-character ID numbers, as most sealed values are; the lookup is the blind
//! index every member's ID number gets. Whether the CPU has AES instructions is printed, since
//! AES-GCM uses them and SM4 (no such instructions on x86) runs in software.

use std::hint::black_box;
use std::time::Instant;

use ducha_vault::{DataKey, Keys, Purpose, Suite};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map_or(Ok(1_000_000), |s| s.parse())?;
    #[cfg(target_arch = "x86_64")]
    let aes = std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq");
    #[cfg(not(target_arch = "x86_64"))]
    let aes = false;
    println!("cpu aes_instructions={aes}");
    let ids: Vec<String> =
        (0..n).map(|i| format!("440703{:08}{:04}", 19_500_101 + (i % 500_000), i % 10_000)).collect();
    for suite in [Suite::Intl, Suite::Sm] {
        let keys = Keys::new(
            DataKey::generate(1, suite, Purpose::Field).map_err(|e| anyhow::anyhow!("{e}"))?,
            DataKey::generate(2, suite, Purpose::Lookup).map_err(|e| anyhow::anyhow!("{e}"))?,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = Instant::now();
        let sealed: Vec<String> = ids
            .iter()
            .map(|v| keys.seal("id_number", v))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seal = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for s in &sealed {
            black_box(keys.open("id_number", s).map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        let open = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for v in &ids {
            black_box(keys.lookup("id_number", v));
        }
        let lookup = t.elapsed().as_secs_f64();
        let per = |secs: f64| secs * 1e9 / n as f64;
        println!(
            "vault suite={} values={n} seal_ns={:.0} open_ns={:.0} lookup_ns={:.0} seal_per_second={:.0} open_per_second={:.0}",
            suite.name(),
            per(seal),
            per(open),
            per(lookup),
            n as f64 / seal,
            n as f64 / open
        );
    }
    Ok(())
}
