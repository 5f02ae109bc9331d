//! A small, value-stable random source for the demo city: ChaCha8 keyed by the demo seed and
//! the household's index, so that a household comes out the same whatever the batch size, the
//! machine or the database, and own helpers (rand's are not promised stable across versions).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

pub struct DemoRng(ChaCha8Rng);

/// SplitMix64 finaliser: spreads (seed, index) pairs over the whole key space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl DemoRng {
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(mix(mix(seed ^ mix(stream)) ^ index)))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in 0..n (n > 0), by rejection so that no value is favoured.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Pick by integer weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total.max(1));
        for (item, w) in items {
            if r < u64::from(*w) {
                return item;
            }
            r -= u64::from(*w);
        }
        &items[items.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_values_and_different_keys_differ() {
        let a: Vec<u64> = (0..4).map(|_| DemoRng::for_item(7, 1, 42).u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(DemoRng::for_item(7, 1, 42).u64(), DemoRng::for_item(7, 1, 43).u64());
        assert_ne!(DemoRng::for_item(7, 1, 42).u64(), DemoRng::for_item(8, 1, 42).u64());
        let mut r = DemoRng::for_item(1, 1, 1);
        assert!((0..1000).all(|_| r.range(3, 5) >= 3));
    }
}
