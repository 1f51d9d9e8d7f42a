//! Java's `RecordAccumulator`: per-partition queues of [`ProducerBatch`]es that application threads
//! append to and the sender thread drains.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard, RwLock};

use super::batch::{
    seal_writer, BatchAck, Callback, Completions, ProduceRequestResult, RecordHandle, TopicPartition,
};
use super::buffer_pool::{BufferPool, BufferPoolError};
use super::ProducerBatch;
use crate::compression::{CompressionType, Compressor};
use crate::error::{Error, SendError};
use crate::protocol::record::batch::BATCH_HEADER_SIZE;
use crate::protocol::record::{BatchParams, RecordBatchWriter, RecordHeader};

/// The accumulator's settings (the producer properties of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccumulatorConfig {
    /// `batch.size`: the uncompressed bytes a batch may hold (one larger record still gets a batch).
    pub batch_size: usize,
    /// `linger.ms`: how long a batch that is not full waits for more records.
    pub linger: Duration,
    /// `compression.type`.
    pub compression: CompressionType,
    /// `compression.<codec>.level`; the codec's default when `None`.
    pub compression_level: Option<i32>,
}

impl Default for AccumulatorConfig {
    /// Java's defaults: 16 KiB batches, 5 ms linger, no compression (the sender sets each retry's backoff).
    fn default() -> Self {
        AccumulatorConfig {
            batch_size: 16 * 1024,
            linger: Duration::from_millis(5),
            compression: CompressionType::None,
            compression_level: None,
        }
    }
}

/// What [`RecordAccumulator::append`] did with a record.
#[derive(Debug)]
pub struct AppendResult {
    /// The record's future outcome.
    pub handle: RecordHandle,
    /// A batch of this partition is full (or more than one is queued): wake the sender.
    pub batch_is_full: bool,
    /// The record started a new batch.
    pub new_batch_created: bool,
    /// The record's encoded size in the batch (uncompressed), for the sticky partitioner.
    pub appended_bytes: usize,
}

/// The partitions [`RecordAccumulator::ready`] found sendable.
#[derive(Debug, Default)]
pub struct ReadyCheckResult {
    /// Partitions whose first batch may be drained now.
    pub ready: Vec<TopicPartition>,
    /// How long until a partition that is not ready yet may become ready (linger or backoff left);
    /// `None` when no batch is waiting.
    pub next_ready_check_delay: Option<Duration>,
}

/// One partition's queue of batches, oldest first. Queues are created on a partition's first record and
/// never removed, so an application thread may keep an `Arc` to one and append to it directly
/// ([`RecordAccumulator::append_to`]) without looking it up again.
pub struct PartitionQueue {
    /// The partition's name, shared by its batches (so starting a batch allocates no name).
    tp: TopicPartition,
    /// Guards this partition's batches.
    batches: Mutex<VecDeque<ProducerBatch>>,
}

impl PartitionQueue {
    fn new(tp: TopicPartition) -> Self {
        PartitionQueue { tp, batches: Mutex::new(VecDeque::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<ProducerBatch>> {
        self.batches.lock()
    }

    /// The partition this queue is for.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }
}

impl std::fmt::Debug for PartitionQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionQueue").field("tp", &self.tp).finish_non_exhaustive()
    }
}

type Deque = PartitionQueue;

/// The per-topic queues, keyed by partition.
/// (Ordered maps: the sender scans the queues in the same order whatever the hash seeds, which the
/// deterministic simulator needs.)
type TopicQueues = BTreeMap<i32, Arc<Deque>>;

/// Java's `RecordAccumulator`.
///
/// # Locks
///
/// Lock order: `topics` (read or write) → one partition deque → `incomplete`. The buffer pool's lock and
/// `compressors` are leaves, and the accumulator never waits on the pool (or compresses) while holding a
/// partition lock: buffers are allocated, and full batches are sealed, between two holds of it.
pub struct RecordAccumulator {
    config: AccumulatorConfig,
    pool: Arc<BufferPool>,
    /// Guards the set of partition queues: read on every append, written only when a partition's first
    /// record arrives. Each queue's own mutex guards its batches (oldest first).
    topics: RwLock<BTreeMap<Arc<str>, TopicQueues>>,
    /// Guards the outcomes of batches created and not yet settled (Java's `IncompleteBatches`), which
    /// `flush` waits on: a batch leaves when it is deallocated, or, when it has callbacks, once they
    /// have run (its [`Settlement`]).
    incomplete: Arc<Mutex<Incomplete>>,
    /// Guards idle compressors and their scratch buffers, borrowed for one seal at a time so each
    /// sealing thread has its own without a thread-local.
    compressors: Mutex<Vec<(Compressor, Vec<u8>)>>,
    next_batch_id: AtomicU64,
    flushes_in_progress: AtomicUsize,
    appends_in_progress: AtomicUsize,
    /// Guards nothing: the lock [`appends_done`](Self::appends_done) waits with (a leaf).
    appends_done_lock: Mutex<()>,
    /// Signalled when the last append in progress finishes (a forced close waits for it).
    appends_done: parking_lot::Condvar,
    /// Rotates the first partition [`drain`](Self::drain) looks at, so no partition starves.
    drain_index: AtomicUsize,
    closed: AtomicBool,
    /// Guards completions made on an application thread (a batch whose seal failed), which the sender
    /// collects ([`take_orphan_completions`](Self::take_orphan_completions)) and passes to the callback
    /// thread with its own.
    orphans: Mutex<Vec<Completions>>,
}

impl std::fmt::Debug for RecordAccumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordAccumulator")
            .field("config", &self.config)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Keeps [`RecordAccumulator::appends_in_progress`] accurate on every return path, and wakes a forced
/// close waiting for the last append to finish.
struct AppendGuard<'a>(&'a RecordAccumulator);

impl Drop for AppendGuard<'_> {
    fn drop(&mut self) {
        if self.0.appends_in_progress.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _held = self.0.appends_done_lock.lock();
            self.0.appends_done.notify_all();
        }
    }
}

/// The batches created and not yet settled, for `flush` and the sender's idleness.
#[derive(Debug, Default)]
pub(crate) struct Incomplete {
    /// Each unsettled batch's shared outcome, by batch id.
    results: HashMap<u64, Arc<ProduceRequestResult>>,
    /// How many of them are completed and wait only for their callbacks to run.
    settling: usize,
    /// Records of unsettled batches that have left their queues (drained, or completed and waiting
    /// for their callbacks); with the records still queued, `Producer::in_flight_count`. Counted per
    /// batch, never per record.
    records_out: usize,
}

/// What a completed batch with callbacks still holds until they have run: its pool memory and its
/// entry among the incomplete batches. Dropping it (with its [`Completions`]) releases both.
pub(crate) struct Settlement {
    pool: Arc<BufferPool>,
    incomplete: Arc<Mutex<Incomplete>>,
    id: u64,
    /// The buffer and the bytes charged for it.
    memory: Option<(Vec<u8>, usize)>,
    /// The records it holds in `Incomplete::records_out`.
    records: usize,
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if let Some((buf, size)) = self.memory.take() {
            self.pool.deallocate_sized(buf, size);
        }
        let mut i = self.incomplete.lock();
        i.records_out = i.records_out.saturating_sub(self.records);
        if i.results.remove(&self.id).is_some() {
            i.settling = i.settling.saturating_sub(1);
        }
    }
}

/// A partition, the records queued for it and their bytes.
pub type PartitionQueued = (i32, usize, usize);

/// Maps a pool failure to the error the caller of `send` sees.
fn pool_error(e: BufferPoolError, max_block: Duration) -> Error {
    match e {
        BufferPoolError::TooLarge { size, total_memory } => {
            Error::RecordTooLarge { size, max: total_memory, setting: "buffer.memory" }
        }
        BufferPoolError::Timeout { size, .. } => Error::BufferExhausted { size, max_block },
        BufferPoolError::Closed => Error::Closed,
    }
}

impl RecordAccumulator {
    /// An accumulator drawing batch buffers from `pool` (whose poolable size should be `batch.size`).
    pub fn new(config: AccumulatorConfig, pool: Arc<BufferPool>) -> Self {
        RecordAccumulator {
            config,
            pool,
            topics: RwLock::new(BTreeMap::new()),
            incomplete: Arc::new(Mutex::new(Incomplete::default())),
            compressors: Mutex::new(Vec::new()),
            next_batch_id: AtomicU64::new(0),
            flushes_in_progress: AtomicUsize::new(0),
            appends_in_progress: AtomicUsize::new(0),
            appends_done_lock: Mutex::new(()),
            appends_done: parking_lot::Condvar::new(),
            drain_index: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            orphans: Mutex::new(Vec::new()),
        }
    }

    /// Completions made on application threads since the last call, for the sender to pass on to the
    /// callback thread.
    pub fn take_orphan_completions(&self) -> Vec<Completions> {
        let mut o = self.orphans.lock();
        if o.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut *o)
        }
    }

    /// The settings.
    pub fn config(&self) -> &AccumulatorConfig {
        &self.config
    }

    /// The buffer pool batches are allocated from.
    pub fn buffer_pool(&self) -> &Arc<BufferPool> {
        &self.pool
    }

    /// The queue for a partition, created on first use. Queues live as long as the accumulator, so the
    /// caller may keep it for later appends ([`append_to`](Self::append_to)).
    pub fn partition_queue(&self, topic: &str, partition: i32) -> Arc<PartitionQueue> {
        if let Some(d) = self.topics.read().get(topic).and_then(|t| t.get(&partition)) {
            return Arc::clone(d);
        }
        let mut topics = self.topics.write();
        let queues = match topics.get_mut(topic) {
            Some(q) => q,
            None => topics.entry(Arc::from(topic)).or_default(),
        };
        Arc::clone(
            queues
                .entry(partition)
                .or_insert_with(|| Arc::new(PartitionQueue::new(TopicPartition::new(topic, partition)))),
        )
    }

    /// The existing queue for a partition.
    fn existing_deque(&self, tp: &TopicPartition) -> Option<Arc<Deque>> {
        self.topics.read().get(&*tp.topic).and_then(|t| t.get(&tp.partition)).cloned()
    }

    /// Every queue, for the periodic scans (each knows its partition).
    fn all_deques(&self) -> Vec<Arc<Deque>> {
        let topics = self.topics.read();
        topics.values().flat_map(|queues| queues.values().cloned()).collect()
    }

    /// Appends a record to `topic`-`partition` (Java's `append`), encoding it on this thread straight into
    /// the partition's open batch.
    ///
    /// Tries the last batch under the partition lock; when there is no room, allocates a buffer outside
    /// the lock (blocking up to `max_block`), then retries under the lock, since another thread may have
    /// started a batch meanwhile, and otherwise starts a new batch. A thread that finds the last batch full
    /// seals (compresses) it outside the lock. On failure the callback is handed back uncalled.
    #[allow(clippy::too_many_arguments)]
    pub fn append<H: RecordHeader>(
        &self,
        topic: &str,
        partition: i32,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        callback: Option<Callback>,
        max_block: Duration,
        now: Instant,
    ) -> Result<AppendResult, SendError<Option<Callback>>> {
        let dq = self.partition_queue(topic, partition);
        self.append_to(&dq, timestamp, key, value, headers, callback, max_block, Some(now))
    }

    /// [`append`](Self::append) to a queue from [`partition_queue`](Self::partition_queue), which the
    /// caller may cache. `now` is read from the clock only if the record starts a batch and it is `None`,
    /// so the common case (room in the open batch) reads no clock.
    #[allow(clippy::too_many_arguments)]
    pub fn append_to<H: RecordHeader>(
        &self,
        dq: &PartitionQueue,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        callback: Option<Callback>,
        max_block: Duration,
        now: Option<Instant>,
    ) -> Result<AppendResult, SendError<Option<Callback>>> {
        let mut callback = callback;
        match self.append_inner(dq, timestamp, key, value, headers, &mut callback, max_block, now) {
            Ok(r) => Ok(r),
            Err(e) => Err(SendError::new(e, callback)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn append_inner<H: RecordHeader>(
        &self,
        dq: &PartitionQueue,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        callback: &mut Option<Callback>,
        max_block: Duration,
        now: Option<Instant>,
    ) -> Result<AppendResult, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let batch_size = self.config.batch_size;
        // First try: the open batch, if any.
        let to_seal = {
            let mut q = dq.lock();
            if let Some(r) =
                Self::try_append_last(&mut q, timestamp, key, value, headers, callback, batch_size)?
            {
                return Ok(r);
            }
            // No room (`try_append_last` marked the batch full). A compressed batch is sealed by the
            // thread that found it full, outside the lock, so compression runs on the application
            // threads; an uncompressed one needs only its header and CRC, which the sender writes when
            // it drains the batch (as Java's sender closes batches), off the sending thread.
            if self.config.compression == CompressionType::None {
                None
            } else {
                q.back_mut().and_then(|b| b.take_writer().map(|w| (b.id, b.alloc_size, w)))
            }
        };
        // From here until the new batch is queued (or a failed seal's completions are handed over), the
        // record is in neither a queue nor a batch: close and abort wait for such appends (Java's
        // `appendsInProgress`). An append into the open batch above needs no count: it happens under the
        // queue lock, so it is in a queued batch or not at all.
        self.appends_in_progress.fetch_add(1, Ordering::AcqRel);
        let _guard = AppendGuard(self);
        if let Some((id, alloc_size, writer)) = to_seal {
            self.seal_outside_lock(dq, id, alloc_size, writer);
        }

        let size = batch_size
            .max(BATCH_HEADER_SIZE.saturating_add(RecordBatchWriter::record_size(0, 0, key, value, headers)));
        let buf = self.pool.allocate(size, max_block).map_err(|e| pool_error(e, max_block))?;

        let mut q = dq.lock();
        if self.closed.load(Ordering::Acquire) {
            drop(q);
            self.pool.deallocate_sized(buf, size);
            return Err(Error::Closed);
        }
        // Someone may have started a batch while this thread waited for memory.
        match Self::try_append_last(&mut q, timestamp, key, value, headers, callback, batch_size) {
            Ok(Some(r)) => {
                drop(q);
                self.pool.deallocate_sized(buf, size);
                return Ok(r);
            }
            Ok(None) => {}
            Err(e) => {
                drop(q);
                self.pool.deallocate_sized(buf, size);
                return Err(e);
            }
        }
        let id = self.next_batch_id.fetch_add(1, Ordering::Relaxed);
        let params = BatchParams {
            compression: self.config.compression,
            base_timestamp: timestamp,
            ..BatchParams::default()
        };
        let now = now.unwrap_or_else(Instant::now);
        let mut batch = ProducerBatch::new(dq.tp.clone(), id, buf, size, params, now);
        let empty_size = batch.size_in_bytes();
        let handle = match batch.try_append(timestamp, key, value, headers, callback, usize::MAX) {
            Ok(Some(h)) => h,
            refused => {
                drop(q);
                if let Some(buf) = batch.take_buffer() {
                    self.pool.deallocate_sized(buf, size);
                }
                return Err(match refused {
                    Err(e) => e,
                    _ => Error::Fatal { reason: "an empty batch refused a record".into() },
                });
            }
        };
        let appended_bytes = batch.size_in_bytes().saturating_sub(empty_size);
        self.incomplete.lock().results.insert(id, Arc::clone(batch.result()));
        q.push_back(batch);
        let batch_is_full = q.len() > 1 || q.back().is_some_and(ProducerBatch::is_full);
        Ok(AppendResult { handle, batch_is_full, new_batch_created: true, appended_bytes })
    }

    /// Appends to the last batch of `q` if it has room.
    fn try_append_last<H: RecordHeader>(
        q: &mut VecDeque<ProducerBatch>,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        callback: &mut Option<Callback>,
        batch_size: usize,
    ) -> Result<Option<AppendResult>, Error> {
        let queued = q.len();
        let Some(last) = q.back_mut() else { return Ok(None) };
        let before = last.size_in_bytes();
        let Some(handle) = last.try_append(timestamp, key, value, headers, callback, batch_size)? else {
            return Ok(None);
        };
        let appended_bytes = last.size_in_bytes().saturating_sub(before);
        let batch_is_full = queued > 1 || last.is_full();
        Ok(Some(AppendResult { handle, batch_is_full, new_batch_created: false, appended_bytes }))
    }

    /// Borrows a compressor (creating one on first use) for one seal.
    fn with_compressor<T>(&self, f: impl FnOnce(Option<&mut Compressor>, &mut Vec<u8>) -> T) -> T {
        if self.config.compression == CompressionType::None {
            return f(None, &mut Vec::new());
        }
        let borrowed = self.compressors.lock().pop();
        let mut pair = match borrowed {
            Some(p) => Some(p),
            None => Compressor::new(self.config.compression, self.config.compression_level)
                .ok()
                .map(|c| (c, Vec::new())),
        };
        let out = match pair.as_mut() {
            Some((c, scratch)) => f(Some(c), scratch),
            // An invalid level was caught by configuration; sealing then reports the missing compressor.
            None => f(None, &mut Vec::new()),
        };
        if let Some(p) = pair {
            self.compressors.lock().push(p);
        }
        out
    }

    /// Seals `writer` (taken from batch `id` of `dq`, `alloc_size` bytes of pool memory) without holding
    /// the lock, then puts the bytes back.
    fn seal_outside_lock(&self, dq: &Deque, id: u64, alloc_size: usize, writer: RecordBatchWriter) {
        let sealed = self.with_compressor(|c, scratch| seal_writer(writer, c, scratch));
        let mut q = dq.lock();
        // Batches are queued in id order and the one being sealed is near the back.
        let pos = q.iter().rposition(|b| b.id == id);
        match (pos, sealed) {
            (Some(pos), Ok(bytes)) => {
                if let Some(batch) = q.get_mut(pos) {
                    batch.install_sealed(bytes);
                }
            }
            (Some(pos), Err(e)) => {
                // The buffer is gone: fail the batch's records and credit its memory back.
                let batch = q.remove(pos);
                drop(q);
                if let Some(mut batch) = batch {
                    // An empty buffer stands for the lost one, so completing credits `alloc_size` back.
                    batch.install_sealed(Vec::new());
                    if let Some(c) = self.complete(batch, Err(Error::Protocol(e))) {
                        // Callbacks run on the callback thread; the caller wakes the sender.
                        self.orphans.lock().push(c);
                    }
                }
            }
            (None, sealed) => {
                // Aborted while sealing: the buffer is this thread's to return.
                drop(q);
                self.pool.deallocate_sized(sealed.unwrap_or_default(), alloc_size);
            }
        }
    }

    /// # Thread
    /// The sender thread.
    ///
    /// # Locks
    /// `topics` (read), then each partition queue in turn.
    ///
    /// Which partitions have a batch to send now (Java's `ready`): the first batch is full, or has waited
    /// `linger.ms` (`retry.backoff.ms` after a failure), or memory is exhausted, or a flush or close is in
    /// progress. Also returns when the next not-yet-ready batch will be.
    pub fn ready(&self, now: Instant) -> ReadyCheckResult {
        let exhausted = self.pool.queued() > 0;
        let forced = exhausted || self.flush_in_progress() || self.closed.load(Ordering::Acquire);
        let mut out = ReadyCheckResult::default();
        for dq in self.all_deques() {
            let q = dq.lock();
            let Some(first) = q.front() else { continue };
            if first.is_sealing() {
                // The sealer reports the batch full when it is done.
                continue;
            }
            let backing_off = self.backing_off(first, now);
            let wait = if backing_off { first.retry_backoff() } else { self.config.linger };
            let waited = now.saturating_duration_since(first.last_attempt());
            let full = q.len() > 1 || first.is_full();
            let sendable = full || waited >= wait || forced;
            drop(q);
            if sendable && !backing_off {
                out.ready.push(dq.tp.clone());
            } else {
                let left = wait.saturating_sub(waited);
                out.next_ready_check_delay = Some(out.next_ready_check_delay.map_or(left, |d| d.min(left)));
            }
        }
        out
    }

    fn backing_off(&self, batch: &ProducerBatch, now: Instant) -> bool {
        batch.attempts() > 0 && now.saturating_duration_since(batch.last_attempt()) < batch.retry_backoff()
    }

    /// Takes the first batch of each of `partitions` (the ready partitions led by one broker) until the
    /// next would push the total past `max_request_size` (Java's `drain` for one node); the first batch is
    /// always taken. Batches are sealed (compressed) here, outside the partition lock, unless their
    /// appender already did. The starting partition rotates between calls so none starves.
    ///
    /// Batches whose seal fails are completed with the error and deallocated; their callbacks are
    /// returned in the second element.
    pub fn drain(
        &self,
        partitions: &[TopicPartition],
        max_request_size: usize,
        now: Instant,
    ) -> (Vec<ProducerBatch>, Vec<Completions>) {
        self.drain_where(partitions, max_request_size, now, &mut |_| true)
    }

    /// [`drain`](Self::drain), taking a partition's first batch only when `can_drain` accepts it (the
    /// idempotent producer holds back a retried batch while earlier ones of its partition are in
    /// flight, so sequences reach the broker in order).
    pub fn drain_where(
        &self,
        partitions: &[TopicPartition],
        max_request_size: usize,
        now: Instant,
        can_drain: &mut dyn FnMut(&ProducerBatch) -> bool,
    ) -> (Vec<ProducerBatch>, Vec<Completions>) {
        let mut out = Vec::new();
        let mut failed = Vec::new();
        if partitions.is_empty() {
            return (out, failed);
        }
        let mut total = 0usize;
        let start = self.drain_index.fetch_add(1, Ordering::Relaxed) % partitions.len();
        for i in 0..partitions.len() {
            let tp = &partitions[(start + i) % partitions.len()];
            let Some(dq) = self.existing_deque(tp) else { continue };
            let mut q = dq.lock();
            let Some(first) = q.front() else { continue };
            if first.is_sealing() || self.backing_off(first, now) || !can_drain(first) {
                continue;
            }
            let size = first.size_in_bytes();
            if !out.is_empty() && total.saturating_add(size) > max_request_size {
                break;
            }
            let Some(mut batch) = q.pop_front() else { continue };
            drop(q);
            let sealed = self.with_compressor(|c, scratch| batch.seal(c, scratch));
            if let Err(e) = sealed {
                failed.extend(self.complete(batch, Err(Error::Protocol(e))));
                continue;
            }
            total = total.saturating_add(batch.size_in_bytes());
            out.push(batch);
        }
        // The drained records leave the queues: count them per batch, under one hold of the lock.
        let mut drained = 0usize;
        for b in out.iter_mut().filter(|b| b.counted == 0) {
            b.counted = usize::try_from(b.record_count()).unwrap_or(0);
            drained = drained.saturating_add(b.counted);
        }
        if drained > 0 {
            let mut i = self.incomplete.lock();
            i.records_out = i.records_out.saturating_add(drained);
        }
        (out, failed)
    }

    /// Removes batches that have waited `delivery_timeout` since creation (Java's `expiredBatches`); the
    /// caller fails them with [`Error::DeliveryTimeout`] and deallocates them. Only queue heads are
    /// checked, since batches are queued oldest first.
    pub fn expire(&self, now: Instant, delivery_timeout: Duration) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for dq in self.all_deques() {
            let mut q = dq.lock();
            while q
                .front()
                .is_some_and(|b| !b.is_sealing() && b.has_reached_delivery_timeout(now, delivery_timeout))
            {
                if let Some(mut b) = q.pop_front() {
                    b.close_for_appends();
                    out.push(b);
                }
            }
        }
        out
    }

    /// Takes every queued batch not being sealed (nothing of them was sent: sent batches are not in a
    /// queue), closed for appends, to be failed.
    pub fn take_unsent(&self) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for dq in self.all_deques() {
            let mut q = dq.lock();
            while q.front().is_some_and(|b| !b.is_sealing()) {
                if let Some(mut b) = q.pop_front() {
                    b.close_for_appends();
                    out.push(b);
                }
            }
        }
        out
    }

    /// Takes every queued batch, closed for appends, to be failed (`Producer::purge`): all but one an
    /// appender is sealing (compressing) at this moment, which stays queued and is sent.
    pub fn take_queued(&self) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for dq in self.all_deques() {
            let mut q = dq.lock();
            if q.iter().any(ProducerBatch::is_sealing) {
                let (sealing, taken): (Vec<_>, Vec<_>) = q.drain(..).partition(ProducerBatch::is_sealing);
                q.extend(sealing);
                out.extend(taken);
            } else {
                out.extend(q.drain(..));
            }
        }
        for b in &mut out {
            b.close_for_appends();
        }
        out
    }

    /// Puts a batch that failed with a retriable error back at the head of its queue (Java's `reenqueue`),
    /// ahead of newer batches; it becomes ready again after `backoff` (the sender's exponential
    /// `retry.backoff.ms`). Batches are placed by creation order, so several retried batches of one
    /// partition may come back in any order.
    pub fn reenqueue(&self, mut batch: ProducerBatch, now: Instant, backoff: Duration) {
        batch.record_retry(now, backoff);
        let tp = batch.topic_partition();
        let dq = self.partition_queue(&tp.topic, tp.partition);
        let mut q = dq.lock();
        // Keep send order even if several batches of the partition (or parts of split ones) are retried.
        let pos = q.iter().position(|b| b.order_key > batch.order_key).unwrap_or(q.len());
        q.insert(pos, batch);
    }

    /// Splits a batch the broker refused with MESSAGE_TOO_LARGE into halves (at most `batch.size` each)
    /// and queues the parts at the head of its partition, ahead of newer batches (Java's
    /// `splitAndReenqueue`); the original's buffer goes back to the pool. Hands the batch back when it
    /// cannot be split, `None` when it was.
    pub fn split_and_reenqueue(&self, mut batch: ProducerBatch) -> Option<ProducerBatch> {
        let max = (batch.size_in_bytes() / 2)
            .clamp(BATCH_HEADER_SIZE + 1, self.config.batch_size.max(BATCH_HEADER_SIZE + 1));
        let mut next_id = || self.next_batch_id.fetch_add(1, Ordering::Relaxed);
        let Some(parts) = batch.split(max, &mut next_id) else { return Some(batch) };
        log::debug!("split a too-large batch for {} into {}", batch.topic_partition(), parts.len());
        {
            let mut incomplete = self.incomplete.lock();
            for p in &parts {
                incomplete.results.insert(p.id, Arc::clone(p.result()));
            }
        }
        let tp = batch.topic_partition().clone();
        let dq = self.partition_queue(&tp.topic, tp.partition);
        {
            let mut q = dq.lock();
            let at = q.iter().position(|b| b.order_key > batch.order_key).unwrap_or(q.len());
            for (pos, mut p) in (at..).zip(parts) {
                p.close_for_appends();
                q.insert(pos, p);
            }
        }
        self.deallocate(batch);
        None
    }

    /// Returns a batch's buffer to the pool and forgets its outcome (Java's `deallocate`), for a batch
    /// that has completed without callbacks or been replaced by its split parts.
    pub fn deallocate(&self, mut batch: ProducerBatch) {
        {
            let mut i = self.incomplete.lock();
            i.results.remove(&batch.id);
            i.records_out = i.records_out.saturating_sub(std::mem::take(&mut batch.counted));
        }
        if let Some(buf) = batch.take_buffer() {
            self.pool.deallocate_sized(buf, batch.alloc_size);
        }
    }

    /// Completes a batch with `outcome` and deallocates it (Java's `done` then `deallocate`): the one
    /// way a batch ends.
    ///
    /// # Thread
    /// The sender thread, or an application thread whose seal failed.
    ///
    /// # Locks
    /// `incomplete` and the buffer pool, each alone (leaves). Returns its callbacks for the callback thread; they hold the batch's memory
    /// and its place among the incomplete batches until they have run, so callbacks that fall behind
    /// make `send` wait for memory and `flush` wait for them. `None` when the batch had already
    /// completed.
    pub fn complete(
        &self,
        mut batch: ProducerBatch,
        outcome: Result<BatchAck, Error>,
    ) -> Option<Completions> {
        let completions = batch.done(outcome);
        match completions {
            Some(mut c) if c.has_callbacks() => {
                let buf = batch.take_buffer();
                // Its records stay counted (in `records_out` from now on) until the callbacks ran.
                let records = match batch.counted {
                    0 => usize::try_from(batch.record_count()).unwrap_or(0),
                    n => n,
                };
                {
                    let mut i = self.incomplete.lock();
                    i.settling += 1;
                    if batch.counted == 0 {
                        i.records_out = i.records_out.saturating_add(records);
                    }
                }
                c.hold(Settlement {
                    pool: Arc::clone(&self.pool),
                    incomplete: Arc::clone(&self.incomplete),
                    id: batch.id,
                    // No buffer while an appender seals it: that appender returns the memory.
                    memory: buf.map(|b| (b, batch.alloc_size)),
                    records,
                });
                Some(c)
            }
            c => {
                self.deallocate(batch);
                c
            }
        }
    }

    /// Starts a flush: every queued batch is ready until [`await_flush_completion`](Self::await_flush_completion).
    pub fn begin_flush(&self) {
        self.flushes_in_progress.fetch_add(1, Ordering::AcqRel);
    }

    /// True while a flush is in progress.
    pub fn flush_in_progress(&self) -> bool {
        self.flushes_in_progress.load(Ordering::Acquire) > 0
    }

    /// Waits until every batch created before this call has completed, up to `timeout` (forever with
    /// `None`), then ends the flush begun by [`begin_flush`](Self::begin_flush). False on timeout.
    pub fn await_flush_completion(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| crate::time::deadline(Instant::now(), t));
        let pending: Vec<_> = self.incomplete.lock().results.values().cloned().collect();
        let mut all_done = true;
        for r in pending {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if r.wait(left).is_none() {
                all_done = false;
                break;
            }
        }
        self.flushes_in_progress.fetch_sub(1, Ordering::AcqRel);
        all_done
    }

    /// True while some application thread is inside [`append`](Self::append).
    pub fn appends_in_progress(&self) -> bool {
        self.appends_in_progress.load(Ordering::Acquire) > 0
    }

    /// True while completions made on application threads wait for the sender to collect them.
    pub fn has_orphan_completions(&self) -> bool {
        !self.orphans.lock().is_empty()
    }

    /// True when some queue still holds a batch.
    pub fn has_undrained(&self) -> bool {
        self.all_deques().iter().any(|dq| !dq.lock().is_empty())
    }

    /// True when some batch has been created and not completed yet (batches whose callbacks are still
    /// to run do not count: the sender is done with them).
    pub fn has_incomplete(&self) -> bool {
        let i = self.incomplete.lock();
        i.results.len() > i.settling
    }

    /// Refuses further appends; queued batches become ready at once.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Fails every batch still queued (not yet drained) with `error` and deallocates it, leaving the
    /// accumulator open (Java's `abortUndrainedBatches`, used when a transaction is aborted). Returns the
    /// callbacks to run.
    pub fn abort_undrained_batches(&self, error: &Error) -> Vec<Completions> {
        let mut completions = Vec::new();
        for dq in self.all_deques() {
            let batches: Vec<_> = {
                let mut q = dq.lock();
                // A batch being sealed by an appender stays; its records fail when it is drained.
                let (sealing, failed): (Vec<_>, Vec<_>) = q.drain(..).partition(ProducerBatch::is_sealing);
                q.extend(sealing);
                failed
            };
            for b in batches {
                completions.extend(self.complete(b, Err(error.clone())));
            }
        }
        completions
    }

    /// Fails every queued batch with `error` and deallocates it, after [`close`](Self::close) (Java's
    /// `abortIncompleteBatches`, for a forced close); repeats while appends are still finishing. Batches
    /// already drained belong to the sender. Returns the callbacks to run.
    pub fn abort_incomplete_batches(&self, error: &Error) -> Vec<Completions> {
        self.close();
        // As Java's accumulator close: appenders waiting for memory give up (their sends are refused
        // with `Closed`), so the wait below is short.
        self.pool.close();
        let mut completions = Vec::new();
        loop {
            for dq in self.all_deques() {
                let batches: Vec<_> = dq.lock().drain(..).collect();
                for b in batches {
                    completions.extend(self.complete(b, Err(error.clone())));
                }
            }
            // An append that passed the closed check may still queue a batch: wait (not spin) for
            // the last one to finish, then look again.
            let mut held = self.appends_done_lock.lock();
            if !self.appends_in_progress() {
                break;
            }
            self.appends_done.wait_for(&mut held, Duration::from_millis(50));
        }
        completions
    }

    /// Records accepted and not yet settled (librdkafka's `outq_len`, `Producer::in_flight_count`):
    /// those queued, those in batches drained and not completed, and those completed whose callbacks
    /// have not run yet. A snapshot: with sends and completions going on it may be off by a batch that
    /// moves between its queue and the sender meanwhile.
    ///
    /// # Locks
    /// `topics` (read, to list the queues), then each partition queue in turn, then `incomplete`; never
    /// two at once.
    pub fn records_outstanding(&self) -> usize {
        let queued: usize = self
            .all_deques()
            .iter()
            .map(|dq| {
                dq.lock()
                    .iter()
                    .filter(|b| b.counted == 0)
                    .map(|b| usize::try_from(b.record_count()).unwrap_or(0))
                    .sum::<usize>()
            })
            .sum();
        queued.saturating_add(self.incomplete.lock().records_out)
    }

    /// Records and bytes queued per partition of every topic (`(partition, records, bytes)`), for the statistics (`msgq_cnt`,
    /// `msgq_bytes`). Takes each partition queue in turn.
    pub fn queued_by_partition(&self) -> Vec<(Arc<str>, Vec<PartitionQueued>)> {
        type Queues = Vec<(i32, Arc<Deque>)>;
        let topics: Vec<(Arc<str>, Queues)> = self
            .topics
            .read()
            .iter()
            .map(|(t, ps)| (Arc::clone(t), ps.iter().map(|(&p, d)| (p, Arc::clone(d))).collect()))
            .collect();
        topics
            .into_iter()
            .map(|(t, ps)| {
                let parts = ps
                    .into_iter()
                    .map(|(p, d)| {
                        let q = d.lock();
                        let records = q.iter().map(|b| usize::try_from(b.record_count()).unwrap_or(0)).sum();
                        let bytes = q.iter().map(ProducerBatch::size_in_bytes).sum();
                        (p, records, bytes)
                    })
                    .collect();
                (t, parts)
            })
            .collect()
    }

    /// The number of batches queued for each partition of `topic`, for the adaptive partitioner's load
    /// statistics (Java's `partitionReady` queue sizes).
    pub fn queue_sizes(&self, topic: &str) -> Vec<(i32, usize)> {
        let queues: Vec<(i32, Arc<Deque>)> = match self.topics.read().get(topic) {
            Some(t) => t.iter().map(|(&p, d)| (p, Arc::clone(d))).collect(),
            None => return Vec::new(),
        };
        queues.into_iter().map(|(p, d)| (p, d.lock().len())).collect()
    }
}
