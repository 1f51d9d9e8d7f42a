//! Java's windowed statistics (`org.apache.kafka.common.metrics.stats`): a value is recorded into the
//! current of `metrics.num.samples` samples, each `metrics.sample.window.ms` long; a measurement
//! combines the samples not older than all of them together. Rates are per second over the time the
//! samples cover, never less than `num_samples - 1` whole windows (Java's `Rate.windowSize`), so a
//! rate does not spike when the first sample has just started.

use std::time::{Duration, Instant};

/// The sample windows: how many, and how long each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Windows {
    /// `metrics.num.samples` (at least 1).
    pub samples: usize,
    /// `metrics.sample.window.ms` (at least 1 ms).
    pub window: Duration,
}

impl Windows {
    /// `metrics.num.samples` and `metrics.sample.window.ms`, with Java's floor of one of each.
    pub(crate) fn new(samples: usize, window: Duration) -> Self {
        Windows { samples: samples.max(1), window: window.max(Duration::from_millis(1)) }
    }
}

impl Default for Windows {
    /// Java's defaults: 2 samples of 30 s.
    fn default() -> Self {
        Windows::new(2, Duration::from_secs(30))
    }
}

/// One window's worth of recordings.
#[derive(Debug, Clone, Copy)]
struct Sample {
    start: Instant,
    count: u64,
    sum: f64,
    max: f64,
    min: f64,
}

impl Sample {
    fn new(start: Instant) -> Self {
        Sample { start, count: 0, sum: 0.0, max: f64::NEG_INFINITY, min: f64::INFINITY }
    }
}

/// Count, sum and maximum over the sample windows, plus a total since creation: enough for Java's
/// `Avg`, `Max`, `Rate` (of values or of events) and `CumulativeSum`/`CumulativeCount`.
#[derive(Debug, Clone)]
pub(crate) struct Sampled {
    windows: Windows,
    samples: Vec<Sample>,
    current: usize,
    total: f64,
    total_count: u64,
}

impl Sampled {
    /// Empty, starting at `now`.
    pub(crate) fn new(windows: Windows, now: Instant) -> Self {
        Sampled { windows, samples: vec![Sample::new(now)], current: 0, total: 0.0, total_count: 0 }
    }

    /// Records `value` at `now`.
    pub(crate) fn record(&mut self, value: f64, now: Instant) {
        let window = self.windows.window;
        let cur = self.current;
        if now.saturating_duration_since(self.samples[cur].start) >= window {
            // The current window is over: the next sample (reused once all exist) starts now.
            if self.samples.len() < self.windows.samples {
                self.samples.push(Sample::new(now));
                self.current = self.samples.len() - 1;
            } else {
                self.current = (cur + 1) % self.samples.len();
                self.samples[self.current] = Sample::new(now);
            }
        }
        let s = &mut self.samples[self.current];
        s.count += 1;
        s.sum += value;
        s.max = s.max.max(value);
        s.min = s.min.min(value);
        self.total += value;
        self.total_count += 1;
    }

    /// The samples still inside the measured span at `now` (Java purges those older than
    /// `num_samples` windows).
    fn live(&self, now: Instant) -> impl Iterator<Item = &Sample> {
        let span =
            self.windows.window.saturating_mul(u32::try_from(self.windows.samples).unwrap_or(u32::MAX));
        self.samples.iter().filter(move |s| now.saturating_duration_since(s.start) < span)
    }

    /// The average of the values in the live samples (NaN when there are none, as Java).
    pub(crate) fn avg(&self, now: Instant) -> f64 {
        let (sum, count) = self.live(now).fold((0.0, 0u64), |(s, c), x| (s + x.sum, c + x.count));
        if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        }
    }

    /// The largest value in the live samples (NaN when there are none, as Java).
    pub(crate) fn max(&self, now: Instant) -> f64 {
        let m = self.live(now).filter(|s| s.count > 0).map(|s| s.max).fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            f64::NAN
        } else {
            m
        }
    }

    /// The sum of the values in the live samples per second (Java's `Rate`).
    pub(crate) fn rate(&self, now: Instant) -> f64 {
        let sum: f64 = self.live(now).map(|s| s.sum).sum();
        sum / self.window_secs(now)
    }

    /// The number of recordings in the live samples per second (Java's `Rate` of a `WindowedCount`).
    pub(crate) fn count_rate(&self, now: Instant) -> f64 {
        let count: u64 = self.live(now).map(|s| s.count).sum();
        count as f64 / self.window_secs(now)
    }

    /// Java's `Rate.windowSize`: from the oldest live sample's start to `now`, but at least
    /// `num_samples - 1` whole windows.
    fn window_secs(&self, now: Instant) -> f64 {
        let oldest = self.live(now).map(|s| s.start).min().unwrap_or(now);
        let window = self.windows.window.as_secs_f64();
        let mut elapsed = now.saturating_duration_since(oldest).as_secs_f64();
        let full = (elapsed / window).floor();
        let min_full = (self.windows.samples - 1) as f64;
        if full < min_full {
            elapsed += (min_full - full) * window;
        }
        elapsed.max(f64::MIN_POSITIVE)
    }

    /// Minimum, maximum, sum and count of the live samples (zeros when empty), for librdkafka's
    /// window statistics.
    pub(crate) fn window_summary(&self, now: Instant) -> (f64, f64, f64, u64) {
        let live: Vec<&Sample> = self.live(now).filter(|s| s.count > 0).collect();
        if live.is_empty() {
            return (0.0, 0.0, 0.0, 0);
        }
        let min = live.iter().map(|s| s.min).fold(f64::INFINITY, f64::min);
        let max = live.iter().map(|s| s.max).fold(f64::NEG_INFINITY, f64::max);
        let sum = live.iter().map(|s| s.sum).sum();
        let count = live.iter().map(|s| s.count).sum();
        (min, max, sum, count)
    }

    /// The sum of every value recorded (Java's `CumulativeSum`).
    pub(crate) fn total(&self) -> f64 {
        self.total
    }

    /// How many values were recorded (Java's `CumulativeCount`).
    pub(crate) fn total_count(&self) -> u64 {
        self.total_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn avg_and_max_cover_the_live_windows_only() {
        let t0 = Instant::now();
        let mut s = Sampled::new(Windows::new(2, ms(1000)), t0);
        assert!(s.avg(t0).is_nan() && s.max(t0).is_nan(), "nothing recorded: NaN, as Java");
        s.record(10.0, t0);
        s.record(30.0, t0 + ms(500));
        assert_eq!(s.avg(t0 + ms(600)), 20.0);
        assert_eq!(s.max(t0 + ms(600)), 30.0);
        s.record(2.0, t0 + ms(1200)); // second window
        assert_eq!(s.avg(t0 + ms(1300)), 14.0);
        // At 2.1 s the first window (started at 0) is older than 2 windows: only 2.0 is left.
        assert_eq!(s.avg(t0 + ms(2100)), 2.0);
        assert_eq!(s.max(t0 + ms(2100)), 2.0);
        s.record(7.0, t0 + ms(2300)); // reuses the first sample's slot
        assert_eq!(s.max(t0 + ms(2400)), 7.0);
        assert_eq!(s.total(), 49.0);
        assert_eq!(s.total_count(), 4);
    }

    #[test]
    fn rates_are_per_second_over_at_least_num_samples_minus_one_windows() {
        let t0 = Instant::now();
        let mut s = Sampled::new(Windows::new(2, ms(1000)), t0);
        for i in 0..100 {
            s.record(5.0, t0 + ms(i));
        }
        // 100 events in 0.1 s, but the window is at least 1 s (2 samples - 1): 100/s, not 1000/s.
        let r = s.count_rate(t0 + ms(100));
        assert!((r - 100.0 / 1.1).abs() < 1.0, "{r}");
        assert!((s.rate(t0 + ms(100)) - 500.0 / 1.1).abs() < 5.0);
        // Steady 100 events per second for 3 s: about 100/s.
        let mut s = Sampled::new(Windows::new(2, ms(1000)), t0);
        for i in 0..300 {
            s.record(1.0, t0 + ms(i * 10));
        }
        let r = s.count_rate(t0 + ms(3000));
        assert!((90.0..=110.0).contains(&r), "{r}");
    }

    #[test]
    fn one_sample_rates_over_elapsed_time() {
        let t0 = Instant::now();
        let mut s = Sampled::new(Windows::new(1, ms(10_000)), t0);
        s.record(1.0, t0);
        s.record(1.0, t0 + ms(500));
        assert!((s.count_rate(t0 + ms(1000)) - 2.0).abs() < 1e-9);
    }
}
