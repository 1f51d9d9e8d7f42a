//! The state the producer's application threads share with the sender thread.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

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
}

impl SenderShared {
    /// Wakes the sender thread, unless a wake-up is already pending.
    ///
    /// # Thread
    /// Any thread.
    pub(crate) fn wake(&self) {
        self.wake.wake();
    }
}
