//! Deadlines from caller-supplied durations: `Instant + Duration` panics on overflow, and callers may
//! pass `Duration::MAX` to mean "wait as long as it takes".

use std::time::{Duration, Instant};

/// `now + d`, or `None` (no deadline: wait forever) when `Instant` cannot hold it.
pub(crate) fn deadline(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// `now + d`, capped at about thirty years from now when `Instant` cannot hold it.
pub(crate) fn deadline_or_far(now: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
    now.checked_add(d).or_else(|| now.checked_add(FAR)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_do_not_overflow() {
        let now = Instant::now();
        assert_eq!(deadline(now, Duration::MAX), None);
        assert_eq!(deadline(now, Duration::from_secs(1)), Some(now + Duration::from_secs(1)));
        assert!(deadline_or_far(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365));
    }
}
