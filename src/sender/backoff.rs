//! The one backoff every retry uses (Java's `ExponentialBackoff`): `base × 2^attempts`, capped at
//! `max`, with ±20% jitter so clients that failed together do not retry together.

use std::time::Duration;

/// A jittered exponential backoff between `base` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// `base` doubling per attempt up to `max` (`retry.backoff.ms` / `retry.backoff.max.ms`,
    /// `reconnect.backoff.ms` / `reconnect.backoff.max.ms`).
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max: max.max(base) }
    }

    /// Always `d` (jittered).
    pub(crate) const fn fixed(d: Duration) -> Self {
        Backoff { base: d, max: d }
    }

    /// The wait before attempt `attempts + 1` (`attempts` failures so far, 0 for the first retry).
    pub(crate) fn after(&self, attempts: u32, jitter: &mut Jitter) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempts.min(20)).min(self.max);
        exp.mul_f64(jitter.factor())
    }
}

/// The jitter source: xorshift64*, seeded per sender (no cryptographic quality needed).
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    /// A generator from `seed` (any value; zero is mapped away).
    pub(crate) fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    /// A generator seeded from the clock and process id.
    pub(crate) fn from_entropy() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter::new(t ^ u64::from(std::process::id()).rotate_left(32))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in [0, 1].
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() % 1001) as f64 / 1000.0
    }

    /// A factor in [0.8, 1.2].
    fn factor(&mut self) -> f64 {
        (self.next() % 401) as f64 / 1000.0 + 0.8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_within_the_jitter() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut j = Jitter::new(7);
        for (attempts, nominal) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (40, 1000)] {
            for _ in 0..100 {
                let d = b.after(attempts, &mut j).as_secs_f64() * 1000.0;
                assert!(
                    d >= nominal as f64 * 0.8 - 0.001 && d <= nominal as f64 * 1.2 + 0.001,
                    "{attempts}: {d}"
                );
            }
        }
        // A max below the base is the base.
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(10));
        assert!(b.after(5, &mut j) <= Duration::from_millis(120));
    }
}
