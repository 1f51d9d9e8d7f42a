//! Java's `ProducerBatch`, `ProduceRequestResult` and `FutureRecordMetadata`: one open or sealed record
//! batch for one partition, the shared outcome its records wait on, and the per-record handle.
//!
//! Per-record bookkeeping costs no heap allocation unless the caller passes a callback: every record's
//! [`RecordHandle`] shares the batch's one [`ProduceRequestResult`] and remembers only its offset delta
//! and timestamp, so its outcome is `base_offset + offset_delta` once the batch completes. Callbacks, when
//! given, are kept in one `Vec` per batch (allocated on the first callback) with their offset delta.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::record_accumulator::Settlement;
use crate::compression::{CompressionType, Compressor};
use crate::error::Error;
use crate::protocol::record::{BatchParams, RecordBatchWriter, RecordHeader, NO_TIMESTAMP};

/// A topic and partition; the topic name is shared so cloning never allocates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic name.
    pub topic: Arc<str>,
    /// The partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition { topic: topic.into(), partition }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// What the broker said about a successfully written batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchAck {
    /// The offset the broker gave the batch's first record.
    pub base_offset: i64,
    /// The broker's append time for topics with `LogAppendTime`, else [`NO_TIMESTAMP`].
    pub log_append_time: i64,
}

/// The outcome of one record (Java's `RecordMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Where the record went.
    pub topic_partition: TopicPartition,
    /// Its offset in the partition.
    pub offset: i64,
    /// Its timestamp: the log-append time when the topic uses one, else the record's create time.
    pub timestamp: i64,
}

/// What to do with one record's outcome, once, on the callback thread.
pub enum Callback {
    /// Call this closure.
    Fn(Box<dyn FnOnce(Result<RecordMetadata, Error>) + Send>),
    /// Hand the outcome with this opaque value to the producer's delivery handler or report channel
    /// (`Producer::send_reported`): no allocation per record, like librdkafka's `dr_msg_cb` opaque.
    Opaque(u64),
}

impl Callback {
    /// A closure callback.
    pub fn new(f: impl FnOnce(Result<RecordMetadata, Error>) + Send + 'static) -> Self {
        Callback::Fn(Box::new(f))
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Callback::Fn(_) => f.write_str("Callback::Fn"),
            Callback::Opaque(o) => write!(f, "Callback::Opaque({o})"),
        }
    }
}

/// The outcome shared by all records of one batch (Java's `ProduceRequestResult`): set once, waited on
/// by every [`RecordHandle`] of the batch and by `flush`.
pub struct ProduceRequestResult {
    /// The batch's partition (kept here so a record handle needs one reference count, not two).
    topic_partition: TopicPartition,
    /// Guards the batch outcome, `None` until the batch completes; set exactly once.
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

/// How a batch ended.
#[derive(Debug, Clone)]
enum Outcome {
    /// Written (or failed) as one batch.
    Done(Result<BatchAck, Error>),
    /// Split after MESSAGE_TOO_LARGE (Java's `FutureRecordMetadata.chain`): records from offset delta
    /// `first` on (up to the next part) now live in `result`, at `delta - first`.
    Split(Vec<SplitPart>),
}

/// One part of a split batch.
#[derive(Debug, Clone)]
struct SplitPart {
    first: i32,
    result: Arc<ProduceRequestResult>,
}

impl fmt::Debug for ProduceRequestResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProduceRequestResult").field("outcome", &*self.outcome.lock()).finish()
    }
}

impl ProduceRequestResult {
    fn new(topic_partition: TopicPartition) -> Self {
        ProduceRequestResult { topic_partition, outcome: Mutex::new(None), done: Condvar::new() }
    }

    /// Records the outcome and wakes every waiter; later calls are ignored (first outcome wins).
    fn set(&self, outcome: Outcome) -> bool {
        let mut guard = self.outcome.lock();
        if guard.is_some() {
            return false;
        }
        *guard = Some(outcome);
        drop(guard);
        self.done.notify_all();
        true
    }

    /// True once the batch has completed.
    pub fn is_done(&self) -> bool {
        self.outcome.lock().is_some()
    }

    /// The batch's outcome, waiting up to `timeout` (forever with `None`); `None` when it timed out. A
    /// split batch's outcome is its parts': the first error, else the last part's acknowledgement.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<Result<BatchAck, Error>> {
        let deadline = timeout.and_then(|t| crate::time::deadline(Instant::now(), t));
        match self.wait_until(deadline)? {
            Outcome::Done(r) => Some(r),
            Outcome::Split(parts) => {
                let mut last = None;
                for p in parts {
                    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    match p.result.wait(left)? {
                        Ok(ack) => last = Some(Ok(ack)),
                        Err(e) => return Some(Err(e)),
                    }
                }
                last
            }
        }
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Option<Outcome> {
        let mut guard = self.outcome.lock();
        loop {
            if let Some(outcome) = guard.as_ref() {
                return Some(outcome.clone());
            }
            match deadline {
                None => self.done.wait(&mut guard),
                Some(d) => {
                    if self.done.wait_until(&mut guard, d).timed_out() {
                        return guard.clone();
                    }
                }
            }
        }
    }

    /// The outcome of the record at `offset_delta`, following splits.
    fn record_outcome(
        self: &Arc<Self>,
        offset_delta: i32,
        timestamp: i64,
        deadline: Option<Instant>,
    ) -> Option<Result<RecordMetadata, Error>> {
        let mut result = Arc::clone(self);
        let mut delta = offset_delta;
        loop {
            match result.wait_until(deadline)? {
                Outcome::Done(r) => return Some(record_outcome(&r, &self.topic_partition, delta, timestamp)),
                Outcome::Split(parts) => {
                    let part = parts.iter().rev().find(|p| p.first <= delta).or(parts.first())?;
                    delta -= part.first;
                    result = Arc::clone(&part.result);
                }
            }
        }
    }
}

/// One record's future outcome (Java's `FutureRecordMetadata`): the batch's shared result plus the
/// record's position in it. Cloning is cheap (reference counts only).
#[derive(Debug, Clone)]
pub struct RecordHandle {
    result: Arc<ProduceRequestResult>,
    offset_delta: i32,
    timestamp: i64,
}

impl RecordHandle {
    /// The record's offset within its batch.
    pub fn offset_delta(&self) -> i32 {
        self.offset_delta
    }

    /// The partition the record was appended to.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.result.topic_partition
    }

    /// True once the outcome is known.
    pub fn is_done(&self) -> bool {
        self.result.is_done()
    }

    /// The outcome, waiting up to `timeout` (forever with `None`); `None` when it timed out.
    pub fn get(&self, timeout: Option<Duration>) -> Option<Result<RecordMetadata, Error>> {
        let deadline = timeout.and_then(|t| crate::time::deadline(Instant::now(), t));
        self.result.record_outcome(self.offset_delta, self.timestamp, deadline)
    }
}

/// A record's outcome derived from its batch's.
fn record_outcome(
    outcome: &Result<BatchAck, Error>,
    tp: &TopicPartition,
    offset_delta: i32,
    timestamp: i64,
) -> Result<RecordMetadata, Error> {
    match outcome {
        Ok(ack) => Ok(RecordMetadata {
            topic_partition: tp.clone(),
            // acks=0 has no base offset (-1); every record then reports -1, as in Java. So does a
            // record whose offset a broker's nonsense base offset would overflow.
            offset: if ack.base_offset < 0 {
                -1
            } else {
                ack.base_offset.checked_add(i64::from(offset_delta)).unwrap_or(-1)
            },
            timestamp: if ack.log_append_time != NO_TIMESTAMP { ack.log_append_time } else { timestamp },
        }),
        Err(e) => Err(e.clone()),
    }
}

/// The most callback slots a batch reserves up front (a batch with more records grows its list).
const MAX_THUNKS_RESERVED: usize = 1 << 16;

/// A callback waiting for its record's outcome (Java's `Thunk`).
struct Thunk {
    offset_delta: i32,
    timestamp: i64,
    callback: Callback,
}

impl fmt::Debug for Thunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thunk").field("offset_delta", &self.offset_delta).finish_non_exhaustive()
    }
}

/// The callbacks of a completed batch with their outcomes, to run on a callback thread (never the I/O
/// thread). Iterating yields each callback with its record's outcome, in offset order.
///
/// As in Java, a batch's handles complete only after its callbacks have run: the shared result is set
/// when the `Completions` is used up or dropped, so `flush` returning means every callback has run.
pub struct Completions {
    thunks: std::vec::IntoIter<Thunk>,
    outcome: Result<BatchAck, Error>,
    topic_partition: TopicPartition,
    /// Set (with `outcome`) when this value is dropped; `None` when already set.
    result: Option<Arc<ProduceRequestResult>>,
    /// The batch's pool memory and its place among the incomplete batches, held until the callbacks
    /// have run, so a callback backlog counts against `buffer.memory` and `flush` waits for it.
    settlement: Option<Settlement>,
}

impl Drop for Completions {
    fn drop(&mut self) {
        // Memory first: once the outcome is visible, `flush` may return and the caller may look at it.
        drop(self.settlement.take());
        if let Some(r) = self.result.take() {
            r.set(Outcome::Done(self.outcome.clone()));
        }
    }
}

impl fmt::Debug for Completions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completions")
            .field("topic_partition", &self.topic_partition)
            .field("remaining", &self.thunks.len())
            .finish()
    }
}

impl Completions {
    /// Holds `settlement` until these callbacks have run.
    pub(crate) fn hold(&mut self, settlement: Settlement) {
        self.settlement = Some(settlement);
    }

    /// True when there is at least one callback to run.
    pub fn has_callbacks(&self) -> bool {
        self.thunks.len() > 0
    }

    /// Runs every closure callback in order and passes each opaque one to `on_opaque`.
    pub fn run_with(self, on_opaque: &dyn Fn(u64, Result<RecordMetadata, Error>)) {
        for (callback, outcome) in self {
            match callback {
                Callback::Fn(f) => f(outcome),
                Callback::Opaque(o) => on_opaque(o, outcome),
            }
        }
    }

    /// Runs every closure callback in order; opaque ones (which need a producer's report sink) are
    /// dropped.
    pub fn run(self) {
        self.run_with(&|_, _| {});
    }
}

impl Iterator for Completions {
    type Item = (Callback, Result<RecordMetadata, Error>);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.thunks.next()?;
        let outcome = record_outcome(&self.outcome, &self.topic_partition, t.offset_delta, t.timestamp);
        Some((t.callback, outcome))
    }
}

/// The producer id, epoch and base sequence an idempotent batch was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerState {
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub epoch: i16,
    /// The sequence number of the batch's first record.
    pub base_sequence: i32,
}

/// Why [`ProducerBatch::seal`] failed; the batch's buffer is gone and its records must fail.
pub type SealError = crate::protocol::ProtocolError;

/// One batch of records for one partition (Java's `ProducerBatch`).
///
/// A batch is open (records are encoded straight into its pooled buffer), then sealed (header and CRC
/// written, compressed once), then completed with [`done`](Self::done). While the accumulator compresses
/// it outside the partition lock it is briefly neither (see [`is_sealing`](Self::is_sealing)).
#[derive(Debug)]
pub struct ProducerBatch {
    topic_partition: TopicPartition,
    /// Unique within the accumulator; finds the batch again after sealing outside the lock.
    pub(crate) id: u64,
    /// Where the batch belongs in its partition's queue: `id << 64` for a batch the accumulator made;
    /// the parts of a split batch share their parent's range (`order_span` wide), in record order, so
    /// re-enqueued batches keep send order even after splits (ids of parts are newer than later batches).
    pub(crate) order_key: u128,
    order_span: u128,
    writer: Option<RecordBatchWriter>,
    sealed: Option<Vec<u8>>,
    /// Bytes charged to the buffer pool for this batch's buffer.
    pub(crate) alloc_size: usize,
    record_count: i32,
    /// Uncompressed size, kept when the writer is taken away for sealing.
    size_in_bytes: usize,
    /// The largest record appended, encoded (record-size-avg/max, per batch as in Java).
    max_record_size: usize,
    full: bool,
    created: Instant,
    last_attempt: Instant,
    attempts: u32,
    /// How long this batch waits after its last failed attempt before it is sent again.
    retry_backoff: Duration,
    /// Set by [`done`](Self::done) (or a split): the batch has its outcome.
    completed: bool,
    /// The idempotent producer's stamp: producer id, epoch and base sequence, set when first drained.
    producer_state: Option<ProducerState>,
    /// An attempt went out and its outcome is unknown (the request was lost or timed out): the broker
    /// may hold the records. Split parts inherit it.
    maybe_written: bool,
    result: Arc<ProduceRequestResult>,
    thunks: Vec<Thunk>,
    /// Records this batch added to the accumulator's count of records out of their queues
    /// (`Incomplete::records_out`, for `Producer::in_flight_count`) when it was drained; 0 while it
    /// was never drained (its records are counted in its queue).
    pub(crate) counted: usize,
    /// The topic id the batch's latest Produce request named it by (v13+; zero below). A v13 answer
    /// names topics by id only and is matched against this, not against the id the metadata cache
    /// holds when it arrives (a topic deleted and recreated meanwhile has a new one).
    pub(crate) sent_topic_id: crate::protocol::primitives::Uuid,
}

impl ProducerBatch {
    /// A new open batch in `buf` (allocated from the pool with `alloc_size` bytes) whose base timestamp is
    /// `base_timestamp` (normally its first record's).
    pub fn new(
        topic_partition: TopicPartition,
        id: u64,
        buf: Vec<u8>,
        alloc_size: usize,
        params: BatchParams,
        now: Instant,
    ) -> Self {
        let writer = RecordBatchWriter::new(buf, params);
        let result = Arc::new(ProduceRequestResult::new(topic_partition.clone()));
        ProducerBatch {
            topic_partition,
            id,
            order_key: u128::from(id) << 64,
            order_span: 1u128 << 64,
            size_in_bytes: writer.size_in_bytes(),
            max_record_size: 0,
            writer: Some(writer),
            sealed: None,
            alloc_size,
            record_count: 0,
            full: false,
            created: now,
            last_attempt: now,
            attempts: 0,
            retry_backoff: Duration::ZERO,
            completed: false,
            producer_state: None,
            maybe_written: false,
            result,
            thunks: Vec::new(),
            counted: 0,
            sent_topic_id: crate::protocol::primitives::Uuid::ZERO,
        }
    }

    /// Appends a record if it fits in `max_batch_size` bytes (uncompressed, header included), or if the
    /// batch is empty: a record larger than `batch.size` gets a batch of its own, as in Java.
    ///
    /// Returns `Ok(None)` and marks the batch full when the record does not fit or the batch is no longer
    /// open; `callback` is taken only when the record is appended.
    #[allow(clippy::too_many_arguments)]
    pub fn try_append<H: RecordHeader>(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        callback: &mut Option<Callback>,
        max_batch_size: usize,
    ) -> Result<Option<RecordHandle>, Error> {
        let Some(writer) = self.writer.as_mut().filter(|_| !self.full) else {
            return Ok(None);
        };
        let Some(offset_delta) = writer.append_within(timestamp, key, value, headers, max_batch_size)? else {
            self.full = true;
            return Ok(None);
        };
        let before = self.size_in_bytes;
        self.size_in_bytes = writer.size_in_bytes();
        self.max_record_size = self.max_record_size.max(self.size_in_bytes.saturating_sub(before));
        self.record_count = writer.record_count();
        if let Some(callback) = callback.take() {
            if self.thunks.capacity() == 0 {
                // Room for as many callbacks as records of this size fit the batch: one allocation
                // per batch instead of one per doubling.
                let record = self.size_in_bytes.saturating_sub(before).max(1);
                self.thunks.reserve((self.alloc_size / record).clamp(1, MAX_THUNKS_RESERVED));
            }
            self.thunks.push(Thunk { offset_delta, timestamp, callback });
        }
        Ok(Some(RecordHandle { result: Arc::clone(&self.result), offset_delta, timestamp }))
    }

    /// The partition this batch is for.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.topic_partition
    }

    /// Records appended.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// Size of the records so far, uncompressed, header included; the sealed size once sealed.
    pub fn size_in_bytes(&self) -> usize {
        self.sealed.as_ref().map_or(self.size_in_bytes, Vec::len)
    }

    /// The largest record appended, encoded.
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Size of the records uncompressed, header included (also once sealed): with
    /// [`size_in_bytes`](Self::size_in_bytes), the batch's compression ratio.
    pub fn uncompressed_size(&self) -> usize {
        self.size_in_bytes
    }

    /// True when no more records will be appended: one did not fit, or the batch is sealed.
    pub fn is_full(&self) -> bool {
        self.full || self.writer.is_none()
    }

    /// Stops appends (Java's `closeForRecordAppends`).
    pub fn close_for_appends(&mut self) {
        self.full = true;
    }

    /// True while the accumulator compresses this batch outside the partition lock: it holds neither a
    /// writer nor sealed bytes and must not be drained yet.
    pub fn is_sealing(&self) -> bool {
        self.writer.is_none() && self.sealed.is_none()
    }

    /// True once [`seal`](Self::seal) has produced the bytes to send.
    pub fn is_sealed(&self) -> bool {
        self.sealed.is_some()
    }

    /// When the batch was created.
    pub fn created(&self) -> Instant {
        self.created
    }

    /// Send attempts so far (0 until the first retry is queued).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the batch was last queued for a retry (its creation time before that).
    pub fn last_attempt(&self) -> Instant {
        self.last_attempt
    }

    /// Marks a failed attempt at `now`, before the batch is queued again to wait `backoff`.
    pub(crate) fn record_retry(&mut self, now: Instant, backoff: Duration) {
        self.attempts = self.attempts.saturating_add(1);
        self.last_attempt = now;
        self.retry_backoff = backoff;
    }

    /// How long the batch waits after a failed attempt (set by the last retry).
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }

    /// True when the batch has waited at least `timeout` since creation (Java's `hasReachedDeliveryTimeout`).
    pub fn has_reached_delivery_timeout(&self, now: Instant, timeout: Duration) -> bool {
        now.saturating_duration_since(self.created) >= timeout
    }

    /// The shared outcome all records of this batch wait on.
    pub fn result(&self) -> &Arc<ProduceRequestResult> {
        &self.result
    }

    /// The writer, for sealing outside the partition lock; the batch is then [sealing](Self::is_sealing).
    pub(crate) fn take_writer(&mut self) -> Option<RecordBatchWriter> {
        self.full = true;
        self.writer.take()
    }

    /// Installs the bytes produced from the writer taken with [`take_writer`](Self::take_writer).
    pub(crate) fn install_sealed(&mut self, bytes: Vec<u8>) {
        self.sealed = Some(bytes);
    }

    /// Seals the batch if it is still open: writes the header and CRC, compressing with `compressor`
    /// (which must match the batch's codec; ignored for uncompressed batches) through `scratch`. The
    /// sealed bytes stay in the pooled buffer. Does nothing for a batch already sealed.
    pub fn seal(
        &mut self,
        compressor: Option<&mut Compressor>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        if let Some(writer) = self.take_writer() {
            self.sealed = Some(seal_writer(writer, compressor, scratch)?);
        }
        Ok(())
    }

    /// The idempotent producer's stamp, once the batch has been drained under a producer id.
    pub fn producer_state(&self) -> Option<ProducerState> {
        self.producer_state
    }

    /// Notes that an attempt's outcome is unknown (lost or timed out): the broker may hold the records.
    pub fn mark_maybe_written(&mut self) {
        self.maybe_written = true;
    }

    /// True when an earlier attempt's outcome is unknown, so the broker may hold the records.
    pub fn maybe_written(&self) -> bool {
        self.maybe_written
    }

    /// Forgets the stamp (the broker did not write the batch): the next drain stamps it afresh.
    pub fn clear_producer_state(&mut self) {
        self.producer_state = None;
    }

    /// Stamps a sealed batch with its producer id, epoch and base sequence (rewriting the header and
    /// CRC), for the first send or a resend under a new epoch.
    pub fn set_producer_state(&mut self, state: ProducerState, transactional: bool) -> Result<(), SealError> {
        let bytes = self.sealed.as_deref_mut().ok_or_else(|| {
            crate::protocol::ProtocolError::invalid("batch", "stamped before it was sealed")
        })?;
        crate::protocol::record::restamp(
            bytes,
            state.producer_id,
            state.epoch,
            state.base_sequence,
            transactional,
        )?;
        self.producer_state = Some(state);
        Ok(())
    }

    /// The sealed bytes to send, once [`seal`](Self::seal)ed.
    pub fn sealed_bytes(&self) -> Option<&[u8]> {
        self.sealed.as_deref()
    }

    /// The sealed bytes, mutable (to [`restamp`](crate::protocol::record::restamp) them for idempotence).
    pub fn sealed_bytes_mut(&mut self) -> Option<&mut [u8]> {
        self.sealed.as_deref_mut()
    }

    /// Completes the batch (Java's `done`): sets the shared outcome, waking every [`RecordHandle`], and
    /// returns the callbacks to run with their outcomes. `None` when the batch had already completed.
    ///
    /// A batch without callbacks completes at once; one with callbacks completes when the returned
    /// [`Completions`] has run (or is dropped).
    pub fn done(&mut self, outcome: Result<BatchAck, Error>) -> Option<Completions> {
        if self.completed {
            return None;
        }
        self.completed = true;
        let result = if self.thunks.is_empty() {
            self.result.set(Outcome::Done(outcome.clone()));
            None
        } else {
            Some(Arc::clone(&self.result))
        };
        Some(Completions {
            thunks: std::mem::take(&mut self.thunks).into_iter(),
            outcome,
            topic_partition: self.topic_partition.clone(),
            result,
            settlement: None,
        })
    }

    /// Splits a sealed batch the broker refused as too large (Java's `split`) into batches of at most
    /// `max_size` uncompressed bytes (each holding at least one record), allocated outside the pool.
    /// Callbacks move to the part holding their record, and the original batch's handles follow the
    /// split. `None` when the batch cannot be split (not sealed, one record, or undecodable); it is then
    /// left untouched.
    pub(crate) fn split(
        &mut self,
        max_size: usize,
        next_id: &mut dyn FnMut() -> u64,
    ) -> Option<Vec<ProducerBatch>> {
        use crate::compression::Decompressor;
        use crate::protocol::record::{decode_batches, DEFAULT_MAX_DECOMPRESSED_SIZE};
        if self.record_count < 2 || self.completed {
            return None;
        }
        let bytes = self.sealed.as_deref()?;
        let batch = decode_batches(bytes).next()?.ok()?;
        let compression = batch.compression();
        let base_timestamp = batch.base_timestamp;
        let mut decompressor = Decompressor::new();
        let mut scratch = Vec::new();
        let records = batch.records(&mut decompressor, &mut scratch, DEFAULT_MAX_DECOMPRESSED_SIZE).ok()?;
        let mut parts: Vec<ProducerBatch> = Vec::new();
        let mut firsts: Vec<i32> = Vec::new();
        let mut none: Option<Callback> = None;
        for (i, record) in records.enumerate() {
            let record = record.ok()?;
            let ts = base_timestamp.wrapping_add(record.timestamp_delta);
            let headers: Vec<(&str, Option<&[u8]>)> = record.headers.collect();
            let delta = i32::try_from(i).ok()?;
            let appended = match parts.last_mut() {
                Some(p) => p.try_append(ts, record.key, record.value, &headers, &mut none, max_size).ok()?,
                None => None,
            };
            if appended.is_none() {
                let params = BatchParams { compression, base_timestamp: ts, ..BatchParams::default() };
                let mut part = ProducerBatch::new(
                    self.topic_partition.clone(),
                    next_id(),
                    Vec::new(),
                    0,
                    params,
                    self.created,
                );
                part.try_append(ts, record.key, record.value, &headers, &mut none, usize::MAX).ok()??;
                part.attempts = self.attempts;
                part.maybe_written = self.maybe_written;
                parts.push(part);
                firsts.push(delta);
            }
        }
        if parts.len() < 2 {
            return None;
        }
        let step = self.order_span / parts.len() as u128;
        for (k, part) in parts.iter_mut().enumerate() {
            part.order_key = self.order_key + step * k as u128;
            part.order_span = step.max(1);
        }
        // Callbacks follow their records.
        for t in std::mem::take(&mut self.thunks) {
            let k = firsts.iter().rposition(|&f| f <= t.offset_delta).unwrap_or(0);
            if let (Some(part), Some(&first)) = (parts.get_mut(k), firsts.get(k)) {
                part.thunks.push(Thunk { offset_delta: t.offset_delta - first, ..t });
            }
        }
        let split = firsts
            .iter()
            .zip(&parts)
            .map(|(&first, p)| SplitPart { first, result: Arc::clone(&p.result) })
            .collect();
        self.completed = true;
        self.result.set(Outcome::Split(split));
        Some(parts)
    }

    /// Fails the batch with `error` (Java's `abort`).
    pub fn abort(&mut self, error: Error) -> Option<Completions> {
        self.done(Err(error))
    }

    /// The batch's buffer (open or sealed), to give back to the pool; `None` while sealing.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        self.sealed.take().or_else(|| self.writer.take().map(RecordBatchWriter::into_buffer))
    }
}

/// Seals `writer`, leaving the result in the writer's own (pooled) buffer: for compressed batches the
/// compressed bytes are copied back from `scratch` so pool accounting stays per buffer and `scratch`
/// keeps its allocation for the next batch.
pub(crate) fn seal_writer(
    writer: RecordBatchWriter,
    compressor: Option<&mut Compressor>,
    scratch: &mut Vec<u8>,
) -> Result<Vec<u8>, SealError> {
    if writer.params().compression == CompressionType::None {
        return writer.seal(None, scratch);
    }
    // `seal` returns the former `scratch` and leaves the pooled buffer in `scratch`; swap them back.
    let compressed = writer.seal(compressor, scratch)?;
    let mut pooled = std::mem::replace(scratch, compressed);
    pooled.clear();
    pooled.extend_from_slice(scratch);
    Ok(pooled)
}
