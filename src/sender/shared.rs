//! The state the producer's application threads share with the sender thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, RwLock};

use super::metadata::Metadata;
use super::net::Wake;
use crate::accumulator::RecordAccumulator;
use crate::error::Error;
use crate::partitioner::StickyPartitioner;
use crate::txn::transactional::Transactional;

/// State shared between the producer's application threads and the sender thread.
#[derive(Debug)]
pub(crate) struct SenderShared {
    /// Where records wait.
    pub accumulator: Arc<RecordAccumulator>,
    /// The cluster view.
    pub metadata: Arc<Metadata>,
    /// Wakes the sender: rung when a batch becomes ready, on flush and on close, never per record.
    pub wake: Arc<Wake>,
    /// A graceful close was asked for: send everything, then stop.
    pub closing: AtomicBool,
    /// A forced close: fail what is left and stop now.
    pub force_close: AtomicBool,
    /// When a graceful close stops waiting (set before `closing`): what the sender does after the
    /// records, the terminating telemetry push, must end before it so it never fails a close.
    pub close_deadline: Mutex<Option<Instant>>,
    /// The producer's per-topic sticky partitioners, which the sender feeds queue depths
    /// (adaptive partitioning, KIP-794). Guards the map only; each partitioner is lock-free.
    pub sticky: RwLock<HashMap<Arc<str>, Arc<StickyPartitioner>>>,
    /// `partitioner.adaptive.partitioning.enable`.
    pub adaptive: bool,
    /// `partitioner.availability.timeout.ms` (0: off).
    pub availability_timeout_ms: i64,
    /// Guards the producer's fatal error, once it has one (e.g. fenced, not authorized): every later
    /// `send` fails with it.
    pub fatal: Mutex<Option<Error>>,
    /// Set (after `fatal`) when the producer has a fatal error, so `send` checks a flag, not a lock.
    pub has_fatal: AtomicBool,
    /// The transaction state, for a producer with a `transactional.id`.
    pub transactional: Option<Arc<Transactional>>,
    /// The producer's metrics (Java's names): the sender records per request and batch.
    pub metrics: Arc<crate::metrics::ProducerMetrics>,
    /// Purges asked of the sender (`Producer::purge`) and how far it has carried them out.
    pub purge: PurgeRequests,
}

/// Purge the records waiting in the accumulator.
pub(crate) const PURGE_QUEUED: u8 = 1;
/// Purge the records in requests already sent.
pub(crate) const PURGE_IN_FLIGHT: u8 = 2;

/// The purges application threads ask of the sender, which carries them out on its own thread (the
/// sockets, the produce driver and the idempotent state are its own).
///
/// Lock-free to ask and to take: a caller ors what it wants into `what`, then takes a ticket from
/// `asked`; the sender reads `asked`, then swaps `what` out, so every ticket up to the one it read is
/// served by that swap or an earlier one, and it publishes the ticket in `done`. Only the waiting uses
/// a lock: `lock` (a leaf, guarding nothing) with the `served` condition variable.
#[derive(Debug, Default)]
pub(crate) struct PurgeRequests {
    /// What to purge: [`PURGE_QUEUED`] and [`PURGE_IN_FLIGHT`] bits, or'ed in by callers.
    what: AtomicU8,
    /// Tickets handed out (the last one).
    asked: AtomicU64,
    /// Every ticket up to this one has been carried out; `u64::MAX` once the sender has stopped.
    done: AtomicU64,
    /// Guards nothing: what [`served`](Self::served) waits with.
    lock: Mutex<()>,
    /// Signalled when the sender has carried out a purge (or stopped).
    served: Condvar,
}

impl PurgeRequests {
    /// Asks for a purge of `what` ([`PURGE_QUEUED`] | [`PURGE_IN_FLIGHT`]); returns its ticket. The
    /// caller then wakes the sender.
    ///
    /// # Thread
    /// Any thread.
    pub(crate) fn ask(&self, what: u8) -> u64 {
        self.what.fetch_or(what, Ordering::SeqCst);
        self.asked.fetch_add(1, Ordering::SeqCst).wrapping_add(1)
    }

    /// Waits until the purge of `ticket` has been carried out, or until `deadline` (`None`: no limit);
    /// false when the deadline passed first.
    ///
    /// # Thread
    /// Any thread but the sender.
    ///
    /// # Locks
    /// `lock` (a leaf) while waiting.
    pub(crate) fn wait(&self, ticket: u64, deadline: Option<Instant>) -> bool {
        let mut held = self.lock.lock();
        loop {
            if self.done.load(Ordering::Acquire) >= ticket {
                return true;
            }
            match deadline {
                Some(d) => {
                    if self.served.wait_until(&mut held, d).timed_out() {
                        return self.done.load(Ordering::Acquire) >= ticket;
                    }
                }
                None => self.served.wait(&mut held),
            }
        }
    }

    /// The purges asked and not yet served: the last ticket and what to purge (possibly nothing, when
    /// an earlier take already had it). `None` when nothing new was asked.
    ///
    /// # Thread
    /// The sender thread.
    pub(crate) fn take(&self) -> Option<(u64, u8)> {
        let asked = self.asked.load(Ordering::SeqCst);
        if asked <= self.done.load(Ordering::Acquire) {
            return None;
        }
        Some((asked, self.what.swap(0, Ordering::SeqCst)))
    }

    /// The purges up to `ticket` have been carried out: wakes their callers.
    ///
    /// # Thread
    /// The sender thread.
    ///
    /// # Locks
    /// `lock` (a leaf), to signal.
    pub(crate) fn served(&self, ticket: u64) {
        self.done.fetch_max(ticket, Ordering::AcqRel);
        let _held = self.lock.lock();
        self.served.notify_all();
    }

    /// The sender has stopped: no purge is left to wait for (nothing is queued or in flight any more).
    pub(crate) fn stop(&self) {
        self.served(u64::MAX);
    }
}

impl SenderShared {
    /// Wakes the sender thread, unless a wake-up is already pending.
    ///
    /// # Thread
    /// Any thread.
    pub(crate) fn wake(&self) {
        self.wake.wake();
    }

    /// A snapshot of the producer's metrics, as `Producer::metrics` takes it (for client telemetry).
    pub(crate) fn metrics_snapshot(&self, now: Instant) -> crate::metrics::Metrics {
        let pool = self.accumulator.buffer_pool();
        let gauges = crate::metrics::Gauges {
            metadata_age: self.metadata.age(now),
            buffer_total: pool.total_memory(),
            buffer_available: pool.available_memory(),
            waiting_threads: pool.queued(),
            pool_wait_ns: pool.wait_time_ns(),
        };
        self.metrics.snapshot(&gauges, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn purge_tickets_are_served_by_the_take_that_saw_them() {
        let p = PurgeRequests::default();
        assert!(p.take().is_none(), "nothing asked");
        let a = p.ask(PURGE_QUEUED);
        let b = p.ask(PURGE_IN_FLIGHT);
        assert_eq!(p.take(), Some((b, PURGE_QUEUED | PURGE_IN_FLIGHT)), "both in one turn");
        assert!(!p.wait(a, Some(Instant::now() + Duration::from_millis(10))), "not served yet: times out");
        p.served(b);
        assert!(p.wait(a, Some(Instant::now())) && p.wait(b, None));
        assert!(p.take().is_none());
        // A waiter on another thread is woken when its ticket is served.
        let p = Arc::new(p);
        let c = p.ask(PURGE_QUEUED);
        let waiter = {
            let p = Arc::clone(&p);
            std::thread::spawn(move || p.wait(c, Some(Instant::now() + Duration::from_secs(10))))
        };
        assert_eq!(p.take(), Some((c, PURGE_QUEUED)));
        p.served(c);
        assert!(waiter.join().unwrap_or(false));
        // Once the sender has stopped, every ticket is served.
        p.stop();
        let d = p.ask(PURGE_IN_FLIGHT);
        assert!(p.wait(d, Some(Instant::now())));
    }
}
