//! The public producer: [`Producer`], [`Record`], [`DeliveryFuture`], interceptors and serializers.
//!
//! `send` runs on the caller's thread: it finds the topic in metadata (waiting up to `max.block.ms`),
//! picks the partition, and encodes the record straight into that partition's open batch. The sender
//! thread does all network I/O; callbacks run on a dedicated callback thread.

// A refused send hands the record back by value in `SendError`; that makes the error variant large, which
// costs nothing on the success path.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender as ChannelSender};
use parking_lot::{Mutex, RwLock};

use crate::accumulator::buffer_pool::BufferPool;
use crate::accumulator::{
    AccumulatorConfig, Callback, Completions, RecordAccumulator, RecordHandle, RecordMetadata, TopicPartition,
};
use crate::compression::CompressionType;
use crate::config::{PartitionerKind, ProducerConfig};
use crate::error::{Error, SendError};
use crate::metrics::{HookEvent, TxnTime, TxnTimer};
use crate::partitioner::{self, Partitioner, StickyPartitioner, TopicPartitions};
use crate::protocol::record::batch::BATCH_HEADER_SIZE;
use crate::protocol::record::{RecordBatchWriter, RecordHeader};
use crate::security::OAuthBearerToken;
use crate::send_cache::{self, TopicEntry};
use crate::sender::metadata::{Lookup, Metadata};
use crate::sender::{parse_bootstrap, Sender, SenderConfig, SenderShared};
use crate::txn::transactional::{illegal, ConsumerGroupMetadata, OffsetAndMetadata, Transactional};

/// A record header: a UTF-8 key and a nullable value, each borrowed or owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header key.
    pub key: Cow<'a, str>,
    /// The header value; `None` is null.
    pub value: Option<Cow<'a, [u8]>>,
}

impl RecordHeader for Header<'_> {
    fn key(&self) -> &str {
        &self.key
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }
}

/// A record to send (Java's `ProducerRecord`). Key, value and headers may be borrowed, so sending from
/// existing buffers copies each byte once: into the batch.
///
/// ```
/// use kprod::Record;
/// let r = Record::new("events").key(&b"user-1"[..]).value(&b"clicked"[..]).header("source", Some(&b"web"[..]));
/// assert_eq!(r.topic, "events");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// The topic.
    pub topic: Cow<'a, str>,
    /// The partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// The key; `None` is null.
    pub key: Option<Cow<'a, [u8]>>,
    /// The value; `None` is null (a tombstone).
    pub value: Option<Cow<'a, [u8]>>,
    /// The headers, in order.
    pub headers: Vec<Header<'a>>,
    /// The create timestamp in ms since the epoch; `None` uses the time of `send`.
    pub timestamp: Option<i64>,
}

impl<'a> Record<'a> {
    /// A record for `topic` with null key and value.
    #[must_use = "a Record builder method returns the changed record"]
    pub fn new(topic: impl Into<Cow<'a, str>>) -> Self {
        Record {
            topic: topic.into(),
            partition: None,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    #[must_use = "a Record builder method returns the changed record"]
    pub fn key(mut self, key: impl Into<Cow<'a, [u8]>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the value.
    #[must_use = "a Record builder method returns the changed record"]
    pub fn value(mut self, value: impl Into<Cow<'a, [u8]>>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Sends to this partition instead of asking the partitioner.
    #[must_use = "a Record builder method returns the changed record"]
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Appends a header.
    #[must_use = "a Record builder method returns the changed record"]
    pub fn header<V: Into<Cow<'a, [u8]>>>(mut self, key: impl Into<Cow<'a, str>>, value: Option<V>) -> Self {
        self.headers.push(Header { key: key.into(), value: value.map(Into::into) });
        self
    }

    /// Sets the create timestamp (ms since the epoch).
    #[must_use = "a Record builder method returns the changed record"]
    pub fn timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// The serialized size of the record in a batch, without the batch header.
    pub fn encoded_size(&self) -> usize {
        RecordBatchWriter::record_size(0, 0, self.key.as_deref(), self.value.as_deref(), &self.headers)
    }

    /// At least [`encoded_size`](Self::encoded_size) (each varint counted at its widest), without the
    /// per-field varint arithmetic.
    fn encoded_size_bound(&self) -> usize {
        // Length, attributes, timestamp delta, offset delta, key and value lengths, header count.
        const FIXED: usize = 5 + 1 + 10 + 5 + 5 + 5 + 5;
        let len = |b: &Option<Cow<'_, [u8]>>| b.as_deref().map_or(0, <[u8]>::len);
        let mut n = FIXED.saturating_add(len(&self.key)).saturating_add(len(&self.value));
        for h in &self.headers {
            n = n.saturating_add(10).saturating_add(h.key.len()).saturating_add(len(&h.value));
        }
        n
    }
}

/// Turns typed keys and values into bytes (Java's `Serializer`).
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// Serializes `data` for `topic`.
    fn serialize<'a>(&self, topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error>;
}

/// UTF-8 strings, borrowed as they are (Java's `StringSerializer`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StringSerializer;

impl Serializer<str> for StringSerializer {
    fn serialize<'a>(&self, _: &str, data: &'a str) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Borrowed(data.as_bytes()))
    }
}

/// Big-endian 8-byte integers (Java's `LongSerializer`).
#[derive(Debug, Default, Clone, Copy)]
pub struct LongSerializer;

impl Serializer<i64> for LongSerializer {
    fn serialize<'a>(&self, _: &str, data: &'a i64) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Owned(data.to_be_bytes().to_vec()))
    }
}

impl<'a> Record<'a> {
    /// A record whose key and value are produced by serializers.
    pub fn serialized<K: ?Sized, V: ?Sized>(
        topic: &'a str,
        key: Option<(&dyn Serializer<K>, &'a K)>,
        value: Option<(&dyn Serializer<V>, &'a V)>,
    ) -> Result<Self, Error> {
        let mut r = Record::new(topic);
        if let Some((s, k)) = key {
            r.key = Some(s.serialize(topic, k)?);
        }
        if let Some((s, v)) = value {
            r.value = Some(s.serialize(topic, v)?);
        }
        Ok(r)
    }
}

/// Java's `ProducerInterceptor`: sees every record before it is partitioned and every outcome.
/// `on_acknowledgement` runs on the callback thread, never the I/O thread.
pub trait ProducerInterceptor: Send + Sync {
    /// May change the record before it is sent.
    fn on_send<'a>(&self, record: Record<'a>) -> Record<'a> {
        record
    }
    /// Called once per record with its outcome (before the record's own callback).
    fn on_acknowledgement(
        &self,
        _topic_partition: Option<&TopicPartition>,
        _result: &Result<RecordMetadata, Error>,
    ) {
    }
}

/// One record's outcome, for hosts that poll (see [`Producer::delivery_reports`]).
#[derive(Debug, Clone)]
pub struct DeliveryReport {
    /// The value passed to [`Producer::send_reported`].
    pub opaque: u64,
    /// Where the record went, or why it did not.
    pub result: Result<RecordMetadata, Error>,
}

/// The queue of [`DeliveryReport`]s of records sent with [`Producer::send_reported`], for hosts that
/// poll (C callers, event loops). Clones share the queue; each report is received once.
#[derive(Debug, Clone)]
pub struct DeliveryReports {
    rx: Receiver<DeliveryReport>,
}

impl DeliveryReports {
    /// The next report if one is queued, at once.
    pub fn try_recv(&self) -> Option<DeliveryReport> {
        self.rx.try_recv().ok()
    }

    /// The next report, waiting up to `timeout`; `None` on timeout, or once the producer is closed and
    /// every report was taken.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<DeliveryReport> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Every report queued now, without waiting.
    pub fn try_iter(&self) -> impl Iterator<Item = DeliveryReport> + '_ {
        self.rx.try_iter()
    }

    /// Reports queued and not yet received.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when no report is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

/// A record's future outcome (Java's `Future<RecordMetadata>`).
#[derive(Debug, Clone)]
pub struct DeliveryFuture {
    handle: RecordHandle,
}

impl DeliveryFuture {
    /// Waits for the outcome.
    pub fn wait(self) -> Result<RecordMetadata, Error> {
        self.handle.get(None).unwrap_or_else(|| Err(Error::Timeout("no outcome".into())))
    }

    /// Waits up to `timeout`; `None` if the outcome is not known by then.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<RecordMetadata, Error>> {
        self.handle.get(Some(timeout))
    }

    /// True once the outcome is known.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.handle.is_done()
    }

    /// The partition the record was appended to.
    pub fn topic_partition(&self) -> &TopicPartition {
        self.handle.topic_partition()
    }
}

/// Builds a [`Producer`] with the parts a property map cannot carry: a user partitioner, interceptors.
#[must_use = "a builder does nothing until built"]
pub struct ProducerBuilder {
    config: ProducerConfig,
    partitioner: Option<Arc<dyn Partitioner>>,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    on_delivery: Option<DeliveryHandler>,
    on_delivery_batch: Option<BatchDeliveryHandler>,
    token_provider: Option<crate::security::sasl::oauthbearer::TokenCallback>,
    on_error: Option<ErrorHandler>,
    on_statistics: Option<StatisticsHandler>,
    on_throttle: Option<ThrottleHandler>,
}

/// The `on_error` hook.
type ErrorHandler = Arc<dyn Fn(&Error) + Send + Sync>;

/// The `on_statistics` hook.
type StatisticsHandler = Arc<dyn Fn(&str) + Send + Sync>;

/// The application's hooks, run on the callback thread.
struct Hooks {
    on_error: Option<ErrorHandler>,
    on_statistics: Option<StatisticsHandler>,
    on_throttle: Option<ThrottleHandler>,
}

/// The `on_throttle` hook.
type ThrottleHandler = Arc<dyn Fn(&str, i32, Duration) + Send + Sync>;

/// How many hook calls may wait for the callback thread; more are dropped (a backlog this long
/// means the application's hooks are not keeping up).
const HOOK_QUEUE: usize = 1024;

/// A producer-wide handler for the outcomes of [`Producer::send_reported`].
type DeliveryHandler = Arc<dyn Fn(u64, Result<RecordMetadata, Error>) + Send + Sync>;

/// The same, called once per batch with the batch's outcomes.
type BatchDeliveryHandler = Arc<dyn Fn(Vec<(u64, Result<RecordMetadata, Error>)>) + Send + Sync>;

/// Where the outcomes of [`Producer::send_reported`] go: the builder's handler, else the report channel.
#[derive(Clone)]
enum ReportSink {
    Handler(DeliveryHandler),
    Batch(BatchDeliveryHandler),
    Channel(ChannelSender<DeliveryReport>),
}

impl ReportSink {
    fn deliver(&self, opaque: u64, result: Result<RecordMetadata, Error>) {
        match self {
            ReportSink::Handler(h) => h(opaque, result),
            ReportSink::Batch(h) => h(vec![(opaque, result)]),
            ReportSink::Channel(tx) => {
                // The receiver lives in the producer; it is gone only after close.
                let _ = tx.send(DeliveryReport { opaque, result });
            }
        }
    }
}

impl fmt::Debug for ProducerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ProducerBuilder {
    /// Calls `hook` with errors the application would otherwise only see in logs (librdkafka's
    /// `error_cb`), so a program without a logger learns why nothing is delivered:
    ///
    /// - [`Error::Transport`]: a broker cannot be reached (refused, unresolvable, set-up timed out)
    ///   or dropped the connection;
    /// - [`Error::AllBrokersDown`]: no connection is up and every broker tried has failed;
    /// - [`Error::Authentication`]: TLS or SASL failed;
    /// - a fatal error ([`Error::is_fatal`]): the producer must be closed.
    ///
    /// Each is reported once per state change (a broker going from reachable to failing, the
    /// cluster to all down, authentication to failing), not once per reconnect attempt; the producer
    /// keeps retrying meanwhile. Per-record failures go to the records' own outcomes, not here.
    ///
    /// # Thread
    /// Runs on the producer's callback thread (never the I/O thread), in order with delivery
    /// callbacks, under `catch_unwind` (a panic is counted in `callback_panics`).
    #[must_use = "the builder does nothing until build()"]
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` every `statistics.interval.ms` with a JSON document in librdkafka's statistics
    /// schema (STATISTICS.md, the producer's fields): the totals (`msg_cnt`, `tx`, `txmsgs`, ...),
    /// `brokers` (state, queues, request counts, latency windows), `topics` (batch size and count
    /// windows, per-partition queues and records sent) and `eos` (idempotence and transaction state).
    /// Nothing is sent when `statistics.interval.ms` is 0 (the default). See docs/metrics.md for the
    /// fields kprod leaves out.
    ///
    /// # Thread
    /// Runs on the producer's callback thread (never the I/O thread), under `catch_unwind`.
    #[must_use = "the builder does nothing until build()"]
    pub fn on_statistics(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_statistics = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` with the broker (`host:port`), its node id and the throttle time each time a
    /// broker throttles a produce response (quota exceeded; librdkafka's `throttle_cb`). The producer
    /// already holds back from that broker for the time; the hook is for telling operators.
    ///
    /// # Thread
    /// Runs on the producer's callback thread (never the I/O thread), under `catch_unwind`.
    #[must_use = "the builder does nothing until build()"]
    pub fn on_throttle(mut self, hook: impl Fn(&str, i32, Duration) + Send + Sync + 'static) -> Self {
        self.on_throttle = Some(Arc::new(hook));
        self
    }

    /// Supplies OAUTHBEARER tokens (`sasl.mechanism=OAUTHBEARER`), instead of the built-in OIDC
    /// client_credentials flow or Kafka's unsecured token (Java's `sasl.login.callback.handler.class`).
    ///
    /// # Thread
    /// Called on the producer's token thread (`kprod-oauth-token`), never on the I/O thread: once
    /// when the producer is built (which waits for it, up to `max.block.ms`), then before each
    /// token expires (at `sasl.login.refresh.window.factor` of its lifetime), and again with a
    /// backoff after an `Err`.
    #[must_use = "the builder does nothing until build()"]
    pub fn oauthbearer_token_provider(
        mut self,
        provider: impl Fn() -> Result<OAuthBearerToken, String> + Send + Sync + 'static,
    ) -> Self {
        self.token_provider = Some(Arc::new(provider));
        self
    }

    /// Uses `partitioner` for every record without an explicit partition (`partitioner.class`).
    #[must_use = "the builder does nothing until build()"]
    pub fn partitioner(mut self, partitioner: impl Partitioner + 'static) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }

    /// Adds an interceptor; they run in the order added.
    #[must_use = "the builder does nothing until build()"]
    pub fn interceptor(mut self, interceptor: impl ProducerInterceptor + 'static) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Runs `handler` on the callback thread with the opaque value and outcome of every record sent
    /// with [`Producer::send_reported`] (librdkafka's `dr_msg_cb`), instead of queueing
    /// [`DeliveryReport`]s for [`Producer::delivery_reports`]. Nothing is allocated per record.
    #[must_use = "the builder does nothing until build()"]
    pub fn on_delivery(
        mut self,
        handler: impl Fn(u64, Result<RecordMetadata, Error>) + Send + Sync + 'static,
    ) -> Self {
        self.on_delivery = Some(Arc::new(handler));
        self
    }

    /// As [`on_delivery`](Self::on_delivery), called once per batch with the outcomes of its
    /// records sent with [`Producer::send_reported`], in order, after the batch's closure callbacks
    /// (for hosts that hand outcomes to another thread: one hand-over per batch, not per record). It
    /// replaces an `on_delivery` handler.
    #[must_use = "the builder does nothing until build()"]
    pub fn on_delivery_batch(
        mut self,
        handler: impl Fn(Vec<(u64, Result<RecordMetadata, Error>)>) + Send + Sync + 'static,
    ) -> Self {
        self.on_delivery_batch = Some(Arc::new(handler));
        self
    }

    /// Starts the producer.
    pub fn build(self) -> Result<Producer, Error> {
        Producer::start(self)
    }
}

/// How keyless (or all, with a user partitioner) records are partitioned.
enum PartitionerChoice {
    BuiltIn,
    User(Arc<dyn Partitioner>),
}

struct Inner {
    /// Keys this producer's entries in the per-thread send caches.
    id: u64,
    config: ProducerConfig,
    accumulator: Arc<RecordAccumulator>,
    metadata: Arc<Metadata>,
    shared: Arc<SenderShared>,
    partitioner: PartitionerChoice,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    /// Guards the thread handles, taken by the first `close`.
    threads: Mutex<Threads>,
    sender_done: Receiver<()>,
    callback_thread: Mutex<Option<ThreadId>>,
    /// The receiving end of `report_sink`'s channel (without an `on_delivery` handler).
    reports: Receiver<DeliveryReport>,
    report_sink: ReportSink,
    closed: AtomicBool,
    callback_panics: Arc<AtomicU64>,
    #[cfg(feature = "mock")]
    _mock: Option<crate::mock::MockCluster>,
}

#[derive(Default)]
struct Threads {
    sender: Option<JoinHandle<()>>,
    callbacks: Option<JoinHandle<()>>,
}

/// A Kafka producer. Thread-safe: share it (e.g. in an `Arc`) and call [`send`](Self::send) from any
/// number of threads.
///
/// Dropping it closes it, waiting up to `delivery.timeout.ms` for queued records; every record still
/// gets its outcome (records left at the end fail with [`Error::Closed`]).
pub struct Producer {
    inner: Arc<Inner>,
}

impl fmt::Debug for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").field("client_id", &self.inner.config.client_id()).finish_non_exhaustive()
    }
}

thread_local! {
    /// On a callback thread, the id of the producer it serves (0 elsewhere): what that producer's
    /// blocking calls check, since waiting there would wait for the thread itself.
    static CALLBACK_OF: Cell<u64> = const { Cell::new(0) };
}

/// True when the calling thread is the callback thread of producer `id`.
fn on_callback_thread(id: u64) -> bool {
    CALLBACK_OF.with(Cell::get) == id
}

/// Refuses `what` on producer `id`'s callback thread (as Java refuses `flush` inside a callback): it
/// would wait for callbacks, the one running included.
fn refuse_in_callback(id: u64, what: &str) -> Result<(), Error> {
    if on_callback_thread(id) {
        return Err(illegal(format!(
            "{what} cannot be called from a delivery callback: it would wait for the callback thread it \
             runs on"
        )));
    }
    Ok(())
}

/// Kafka's topic name rules (`Topic.validate`), checked before any request.
fn validate_topic(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name == "." || name == ".." {
        "'.' and '..' are not allowed"
    } else if name.len() > 249 {
        "it is longer than 249 characters"
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        "it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
    } else {
        return Ok(());
    };
    Err(Error::InvalidTopic { topic: name.to_owned(), reason: reason.into() })
}

/// Resolves every bootstrap address once, as Java does: an unresolvable one is skipped with a warning;
/// when none resolves, the producer cannot start.
fn check_bootstrap_resolves(bootstrap: &[(String, u16)]) -> Result<(), Error> {
    use std::net::ToSocketAddrs;
    let mut failures = Vec::new();
    for (host, port) in bootstrap {
        match (host.as_str(), *port).to_socket_addrs().map(|mut a| a.next().is_some()) {
            Ok(true) => return Ok(()),
            Ok(false) => failures.push(format!("{host}:{port}: no address")),
            Err(e) => {
                log::warn!("cannot resolve bootstrap server {host}:{port}: {e}");
                failures.push(format!("{host}:{port}: {e}"));
            }
        }
    }
    Err(Error::config("bootstrap.servers", format!("no resolvable bootstrap urls ({})", failures.join("; "))))
}

fn now_ms() -> i64 {
    // Seconds and milliseconds apart: `as_millis` works in u128, which costs more than the clock read.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| {
        i64::try_from(d.as_secs()).map_or(i64::MAX, |s| s.saturating_mul(1000) + i64::from(d.subsec_millis()))
    })
}

impl Producer {
    /// Starts a producer with `config` (validated first).
    pub fn new(config: ProducerConfig) -> Result<Producer, Error> {
        Producer::builder(config).build()
    }

    /// A builder, for user partitioners and interceptors.
    #[must_use = "the builder does nothing until build()"]
    pub fn builder(config: ProducerConfig) -> ProducerBuilder {
        ProducerBuilder {
            config,
            partitioner: None,
            interceptors: Vec::new(),
            on_delivery: None,
            on_delivery_batch: None,
            token_provider: None,
            on_error: None,
            on_statistics: None,
            on_throttle: None,
        }
    }

    fn start(b: ProducerBuilder) -> Result<Producer, Error> {
        let mut config = b.config;
        config.validate()?;
        #[cfg(feature = "mock")]
        let mock = if config.mock_num_brokers() > 0 {
            let n = usize::try_from(config.mock_num_brokers()).unwrap_or(1);
            let m = crate::mock::MockCluster::new(n)?;
            config.set("bootstrap.servers", &m.bootstrap_servers())?;
            Some(m)
        } else {
            None
        };
        let bootstrap = parse_bootstrap(config.bootstrap_servers())?;
        if bootstrap.is_empty() {
            return Err(Error::config("bootstrap.servers", "no servers given"));
        }
        check_bootstrap_resolves(&bootstrap)?;
        let partitioner = match (b.partitioner, config.partitioner()) {
            (Some(p), _) => PartitionerChoice::User(p),
            (None, PartitionerKind::Default) => PartitionerChoice::BuiltIn,
            (None, PartitionerKind::ConsistentRandom) => {
                PartitionerChoice::User(Arc::new(partitioner::ConsistentRandom))
            }
            (None, PartitionerKind::RoundRobin) => {
                PartitionerChoice::User(Arc::new(partitioner::RoundRobin::new()))
            }
            (None, PartitionerKind::Random) => PartitionerChoice::User(Arc::new(partitioner::Random)),
            (None, PartitionerKind::Consistent) => PartitionerChoice::User(Arc::new(partitioner::Consistent)),
            (None, PartitionerKind::Murmur2Librdkafka) => {
                PartitionerChoice::User(Arc::new(partitioner::Murmur2))
            }
            (None, PartitionerKind::Murmur2Random) => {
                PartitionerChoice::User(Arc::new(partitioner::Murmur2Random))
            }
            (None, PartitionerKind::Fnv1a) => PartitionerChoice::User(Arc::new(partitioner::Fnv1a)),
            (None, PartitionerKind::Fnv1aRandom) => {
                PartitionerChoice::User(Arc::new(partitioner::Fnv1aRandom))
            }
            (None, PartitionerKind::Custom) => {
                return Err(Error::config(
                    "partitioner.class",
                    "a custom partitioner needs Producer::builder().partitioner(..)",
                ))
            }
        };
        let client_id: Arc<str> = if config.client_id().is_empty() {
            Arc::from(next_client_id())
        } else {
            Arc::from(config.client_id())
        };
        let mut parts = Parts::new(&config, bootstrap, client_id);
        parts.sender.security = crate::security::Security::from_config(&config, b.token_provider)?;
        // The sender's network owns the poll; application threads get only its waker.
        let (net, wake) = crate::sender::network(&parts.sender, Arc::clone(&parts.metadata))?;
        let shared = parts.shared(&config, wake);
        let Parts { accumulator, metadata, sender: sender_config } = parts;
        let (job_tx, job_rx) = crossbeam_channel::unbounded::<Completions>();
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(1);
        let callback_panics = Arc::new(AtomicU64::new(0));
        let panics = Arc::clone(&callback_panics);
        let (reports_tx, reports) = crossbeam_channel::unbounded();
        let report_sink = match (b.on_delivery_batch, b.on_delivery) {
            (Some(h), _) => ReportSink::Batch(h),
            (None, Some(h)) => ReportSink::Handler(h),
            (None, None) => ReportSink::Channel(reports_tx),
        };
        let sink = report_sink.clone();
        let id = send_cache::next_producer_id();
        let (hook_tx, hook_rx) = crossbeam_channel::bounded::<HookEvent>(HOOK_QUEUE);
        let hooks =
            Hooks { on_error: b.on_error, on_statistics: b.on_statistics, on_throttle: b.on_throttle };
        let errors_wanted = hooks.on_error.is_some();
        let throttle_wanted = hooks.on_throttle.is_some();
        let stats_interval = config.statistics_interval().filter(|_| hooks.on_statistics.is_some());
        let any_hook = errors_wanted || throttle_wanted || stats_interval.is_some();
        let callbacks = std::thread::Builder::new().name("kprod-callbacks".into()).spawn(move || {
            CALLBACK_OF.with(|c| c.set(id));
            if any_hook {
                run_callbacks_and_hooks(&job_rx, &hook_rx, &hooks, &sink, &panics);
            } else {
                run_callbacks(job_rx.iter(), &sink, &panics);
            }
        })?;
        let callback_thread_id = callbacks.thread().id();
        let now = Instant::now();
        let mut sender = Sender::new(sender_config, Arc::clone(&shared), net, job_tx, now);
        if any_hook {
            sender.set_hooks(hook_tx, errors_wanted, throttle_wanted, stats_interval, now);
        }
        let sender = std::thread::Builder::new().name("kprod-sender".into()).spawn(move || {
            sender.run();
            let _ = done_tx.send(());
        })?;
        Ok(Producer {
            inner: Arc::new(Inner {
                id,
                config,
                accumulator,
                metadata,
                shared,
                partitioner,
                interceptors: b.interceptors,
                threads: Mutex::new(Threads { sender: Some(sender), callbacks: Some(callbacks) }),
                sender_done: done_rx,
                callback_thread: Mutex::new(Some(callback_thread_id)),
                reports,
                report_sink,
                closed: AtomicBool::new(false),
                callback_panics,
                #[cfg(feature = "mock")]
                _mock: mock,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.inner.config
    }

    /// Sends a record, blocking up to `max.block.ms` for metadata or buffer memory. Returns a future for
    /// the outcome, or the record with the reason it was refused.
    ///
    /// # Thread
    /// Any thread. On this producer's callback thread it does not wait for memory.
    ///
    /// # Locks
    /// The partition's queue lock (briefly, to encode the record); on a new batch the buffer pool's,
    /// never while holding the queue's; on a metadata miss the metadata lock.
    pub fn send<'a>(&self, record: Record<'a>) -> Result<DeliveryFuture, SendError<Record<'a>>> {
        self.send_inner(record, None, self.inner.config.max_block())
    }

    /// Like [`send`](Self::send) but never blocks: fails at once when the topic's metadata is not known
    /// yet or no buffer memory is free.
    pub fn try_send<'a>(&self, record: Record<'a>) -> Result<DeliveryFuture, SendError<Record<'a>>> {
        self.send_inner(record, None, Duration::ZERO)
    }

    /// Sends a record and runs `callback` with its outcome on the callback thread. When the send is
    /// refused the callback is not called: the error comes back with the record.
    pub fn send_with<'a, F>(
        &self,
        record: Record<'a>,
        callback: F,
    ) -> Result<DeliveryFuture, SendError<Record<'a>>>
    where
        F: FnOnce(Result<RecordMetadata, Error>) + Send + 'static,
    {
        self.send_inner(record, Some(Callback::new(callback)), self.inner.config.max_block())
    }

    /// Sends a record whose outcome is delivered with `opaque` to the builder's
    /// [`on_delivery`](ProducerBuilder::on_delivery) handler, or else to
    /// [`delivery_reports`](Self::delivery_reports) (for hosts that poll, such as C callers). Unlike
    /// [`send_with`](Self::send_with), this allocates nothing per record.
    pub fn send_reported<'a>(
        &self,
        record: Record<'a>,
        opaque: u64,
    ) -> Result<DeliveryFuture, SendError<Record<'a>>> {
        self.send_inner(record, Some(Callback::Opaque(opaque)), self.inner.config.max_block())
    }

    /// Like [`send_reported`](Self::send_reported), blocking at most `max_block` (instead of
    /// `max.block.ms`) for metadata and buffer memory; `Duration::ZERO` never blocks. For callers with
    /// their own bound, such as the C ABI's `RD_KAFKA_MSG_F_BLOCK`.
    pub fn send_reported_within<'a>(
        &self,
        record: Record<'a>,
        opaque: u64,
        max_block: Duration,
    ) -> Result<DeliveryFuture, SendError<Record<'a>>> {
        self.send_inner(record, Some(Callback::Opaque(opaque)), max_block)
    }

    /// The delivery reports of records sent with [`send_reported`](Self::send_reported). Poll it; reports
    /// queue until read. With an [`on_delivery`](ProducerBuilder::on_delivery) handler nothing is queued
    /// and every receive returns `None` at once.
    #[must_use]
    pub fn delivery_reports(&self) -> DeliveryReports {
        DeliveryReports { rx: self.inner.reports.clone() }
    }

    /// Buffer memory not in use: unallocated or on the free list (Java's `buffer-available-bytes`).
    /// Batches hold theirs from their first record until their callbacks have run.
    #[must_use]
    pub fn buffer_available_bytes(&self) -> usize {
        self.inner.accumulator.buffer_pool().available_memory()
    }

    /// How many callbacks have panicked (each panic is caught, logged and counted).
    #[must_use]
    pub fn callback_panics(&self) -> u64 {
        self.inner.callback_panics.load(Ordering::Relaxed)
    }

    fn send_inner<'a>(
        &self,
        mut record: Record<'a>,
        callback: Option<Callback>,
        max_block: Duration,
    ) -> Result<DeliveryFuture, SendError<Record<'a>>> {
        let inner = &*self.inner;
        for i in &inner.interceptors {
            record = i.on_send(record);
        }
        let callback = if inner.interceptors.is_empty() {
            callback
        } else {
            let interceptors = inner.interceptors.clone();
            let sink = inner.report_sink.clone();
            Some(Callback::new(move |result: Result<RecordMetadata, Error>| {
                let tp = result.as_ref().ok().map(|m| m.topic_partition.clone());
                for i in &interceptors {
                    i.on_acknowledgement(tp.as_ref(), &result);
                }
                match callback {
                    Some(Callback::Fn(cb)) => cb(result),
                    Some(Callback::Opaque(opaque)) => sink.deliver(opaque, result),
                    None => {}
                }
            }))
        };
        match self.append(&record, callback, max_block) {
            Ok(handle) => Ok(DeliveryFuture { handle }),
            Err(e) => {
                if matches!(e, Error::BufferExhausted { .. }) {
                    inner.shared.metrics.record(|m| m.exhausted(Instant::now()));
                }
                for i in &inner.interceptors {
                    i.on_acknowledgement(None, &Err(e.clone()));
                }
                Err(SendError::new(e, record))
            }
        }
    }

    fn append(
        &self,
        record: &Record<'_>,
        callback: Option<Callback>,
        max_block: Duration,
    ) -> Result<RecordHandle, Error> {
        let inner = &*self.inner;
        if inner.shared.has_fatal.load(Ordering::Acquire) {
            if let Some(e) = inner.shared.fatal.lock().clone() {
                return Err(e);
            }
        }
        if let Some(t) = &inner.shared.transactional {
            t.check_send()?;
        }
        if let Some(ts) = record.timestamp.filter(|&ts| ts < 0) {
            return Err(Error::InvalidRecord(format!(
                "timestamp {ts}: a timestamp must be non-negative (or unset)"
            )));
        }
        if let Some(p) = record.partition.filter(|&p| p < 0) {
            return Err(Error::InvalidRecord(format!(
                "partition {p}: a partition must be non-negative (or unset)"
            )));
        }
        if inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let topic = &*record.topic;
        // The fast path: this thread sent to this topic before and the metadata has not changed since.
        // It reads no clock (the accumulator reads one only when the record starts a batch) and takes
        // no shared lock before the partition queue's.
        let mut cached = send_cache::Taken(send_cache::take(inner.id, topic));
        let generation = inner.metadata.generation();
        let current = cached.0.as_ref().is_some_and(|e| {
            e.generation == generation && record.partition.map_or(true, |p| p < e.info.num_partitions())
        });
        let (mut now, left) = if current {
            (None, max_block)
        } else {
            // A cached topic passed this check before; only a miss looks at the name.
            validate_topic(topic)?;
            let start = Instant::now();
            let deadline = crate::time::deadline_or_far(start, max_block);
            let mut now = start;
            let mut waited = false;
            // Metadata first (Java's waitOnMetadata).
            let (info, version, touched) = loop {
                if waited {
                    now = Instant::now();
                }
                let seen = match inner.metadata.lookup(topic, now)? {
                    Lookup::Found(info, version, touched)
                        if record.partition.map_or(true, |p| p < info.num_partitions()) =>
                    {
                        break (info, version, touched)
                    }
                    Lookup::Found(_, version, _) => {
                        // The partition is not there (yet): partitions may have been added.
                        inner.metadata.request_update();
                        version
                    }
                    Lookup::Missing(version) => version,
                };
                if now >= deadline {
                    let spent =
                        u64::try_from(now.saturating_duration_since(start).as_nanos()).unwrap_or(u64::MAX);
                    inner.shared.metrics.metadata_wait_ns.fetch_add(spent, Ordering::Relaxed);
                    return Err(Error::UnknownTopicOrPartition {
                        topic: topic.to_owned(),
                        partition: record.partition,
                        waited: max_block,
                        cause: inner.metadata.missing_cause(topic, record.partition),
                    });
                }
                inner.shared.wake();
                inner.metadata.await_update(seen, deadline);
                waited = true;
            };
            if waited {
                let spent =
                    u64::try_from(now.saturating_duration_since(start).as_nanos()).unwrap_or(u64::MAX);
                inner.shared.metrics.metadata_wait_ns.fetch_add(spent, Ordering::Relaxed);
            }
            match &mut cached.0 {
                Some(e) => e.refresh(version, info, touched),
                None => cached.0 = Some(Box::new(TopicEntry::new(inner.id, topic, version, info, touched))),
            }
            (Some(now), deadline.saturating_duration_since(now))
        };
        let Some(entry) = cached.0.as_mut() else {
            return Err(Error::Fatal { reason: "send cache entry missing".into() });
        };
        entry.touch();
        let info = &*entry.info;
        // The exact size only when a cheap upper bound does not already show the record fits.
        let max = inner.config.max_request_size();
        let limit = max.min(inner.config.buffer_memory());
        if BATCH_HEADER_SIZE.saturating_add(record.encoded_size_bound()) > limit {
            let size = BATCH_HEADER_SIZE.saturating_add(record.encoded_size());
            if size > max {
                return Err(Error::RecordTooLarge { size, max, setting: "max.request.size" });
            }
            if size > inner.config.buffer_memory() {
                let max = inner.config.buffer_memory();
                return Err(Error::RecordTooLarge { size, max, setting: "buffer.memory" });
            }
        }
        let key = record.key.as_deref();
        let value = record.value.as_deref();
        let partitions = TopicPartitions::new(info.num_partitions(), &info.available);
        let mut sticky = None;
        let partition = match record.partition {
            Some(p) => p,
            None => match &inner.partitioner {
                PartitionerChoice::User(p) => {
                    let n = p.partition(topic, key, value, &partitions);
                    if !(0..info.num_partitions()).contains(&n) {
                        return Err(Error::InvalidRecord(format!(
                            "the partitioner chose partition {n} of topic {topic}, which has {}",
                            info.num_partitions()
                        )));
                    }
                    n
                }
                PartitionerChoice::BuiltIn => {
                    match partitioner::built_in_partition(
                        key,
                        info.num_partitions(),
                        inner.config.partitioner_ignore_keys(),
                    ) {
                        Some(p) => p,
                        None => {
                            let s = entry.sticky.get_or_insert_with(|| self.sticky_for(topic));
                            let pinfo = s.peek_current_partition_info(&partitions);
                            let p = pinfo.partition();
                            sticky = Some((&*s, pinfo));
                            p
                        }
                    }
                }
            },
        };
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let queue = entry.queues.get(&inner.accumulator, topic, partition);
        // A send from this producer's callback thread does not wait for memory: what it would wait for
        // is held by the callbacks queued behind the one running.
        let left = if on_callback_thread(inner.id) { Duration::ZERO } else { left };
        let result = inner
            .accumulator
            .append_to(queue, timestamp, key, value, &record.headers, callback, left, now.take())
            .map_err(|e| match e.into_parts().0 {
                // The sender closed the accumulator because the producer went fatal: say why.
                Error::Closed => inner.shared.fatal.lock().clone().unwrap_or(Error::Closed),
                e => e,
            })?;
        if let Some((s, pinfo)) = sticky {
            s.update_partition_info(pinfo, result.appended_bytes, &partitions, result.batch_is_full);
        }
        if let Some(t) = &inner.shared.transactional {
            t.note_record(result.handle.topic_partition());
        }
        if result.batch_is_full || result.new_batch_created {
            inner.shared.wake();
        }
        Ok(result.handle)
    }

    fn sticky_for(&self, topic: &str) -> Arc<StickyPartitioner> {
        if let Some(s) = self.inner.shared.sticky.read().get(topic) {
            return Arc::clone(s);
        }
        let mut map = self.inner.shared.sticky.write();
        let s = map
            .entry(Arc::from(topic))
            .or_insert_with(|| Arc::new(StickyPartitioner::new(self.inner.config.batch_size())));
        Arc::clone(s)
    }

    /// Sends every queued record now (ignoring `linger.ms`) and waits until each has its outcome and its
    /// callback has run, up to `timeout`.
    ///
    /// # Thread
    /// Any thread but this producer's callback thread.
    ///
    /// Refused (with [`Error::IllegalState`]) inside a delivery callback, as in Java: it would wait for
    /// the callback itself.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "flush")?;
        let acc = &self.inner.accumulator;
        let start = Instant::now();
        acc.begin_flush();
        self.inner.shared.wake();
        let done = acc.await_flush_completion(Some(timeout));
        let spent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.inner.shared.metrics.flush_time_ns.fetch_add(spent, Ordering::Relaxed);
        if done {
            Ok(())
        } else {
            Err(Error::Timeout(format!("flush did not complete within {timeout:?}")))
        }
    }

    /// A snapshot of the producer's metrics under Java's names, groups and tags
    /// (`producer-metrics`): rates and averages over `metrics.num.samples` windows of
    /// `metrics.sample.window.ms`, totals since the producer started, gauges as of now.
    /// [`Metrics`](crate::Metrics)'s `Display` prints them as Kafka's ProducerPerformance `--print-metrics` does.
    ///
    /// # Thread
    /// Any thread; cheap enough to call every few seconds.
    ///
    /// # Locks
    /// The sender's sensors (a leaf), then the buffer pool's and the metadata's state, one at a time.
    #[must_use]
    pub fn metrics(&self) -> crate::metrics::Metrics {
        let now = Instant::now();
        let pool = self.inner.accumulator.buffer_pool();
        let gauges = crate::metrics::Gauges {
            metadata_age: self.inner.metadata.age(now),
            buffer_total: pool.total_memory(),
            buffer_available: pool.available_memory(),
            waiting_threads: pool.queued(),
            pool_wait_ns: pool.wait_time_ns(),
        };
        self.inner.shared.metrics.snapshot(&gauges, now)
    }

    /// Purges records not yet acknowledged (librdkafka's `rd_kafka_purge`): with `queued`, every
    /// record waiting in the accumulator; with `in_flight`, every record in a Produce request already
    /// sent. Each purged record gets exactly one outcome, [`Error::Purged`], through its callback or
    /// future, without waiting for a broker; its buffer memory returns to the pool. When `purge`
    /// returns every purged record has that outcome (its callback is queued to the callback thread,
    /// and its future completes once the callback ran, as for any outcome).
    ///
    /// - Purging in flight closes the connections carrying Produce requests (they reconnect when
    ///   needed): the broker may still write what they carried, so a record purged in flight may be in
    ///   the log although it failed. With idempotence the producer then moves to a new epoch (or
    ///   producer id) before it sends more to a partition whose purged batch had a sequence, so later
    ///   records are neither duplicated nor out of order.
    /// - In a transaction a purged record dooms it, as any failed record: [`Error::Purged`] is
    ///   [`txn_requires_abort`](Error::txn_requires_abort); call
    ///   [`abort_transaction`](Self::abort_transaction).
    /// - A batch that a `send` is compressing at the very moment stays queued and is sent (librdkafka
    ///   likewise leaves messages that are not in a queue yet); a `send` blocked waiting for memory is
    ///   not purged either (its record is not accepted yet).
    /// - `purge(false, false)` does nothing. On a closed producer there is nothing to purge.
    ///
    /// Waits up to `request.timeout.ms` for the sender thread to carry it out; [`Error::Timeout`] if
    /// it did not (the purge still happens).
    ///
    /// # Thread
    /// Any thread, this producer's callback thread included: the purge is carried out on the sender
    /// thread, which never waits for callbacks, so there is nothing to deadlock on (the purged
    /// records' callbacks run after the one calling `purge`).
    ///
    /// # Locks
    /// None to ask (two atomics, then the sender's wake-up); waits on the purge condition variable
    /// (`SenderShared::purge`, a leaf lock that guards nothing). The sender then takes each partition
    /// queue in turn, the buffer pool and `incomplete`, as for any batch it completes.
    pub fn purge(&self, queued: bool, in_flight: bool) -> Result<(), Error> {
        let what = if queued { crate::sender::PURGE_QUEUED } else { 0 }
            | if in_flight { crate::sender::PURGE_IN_FLIGHT } else { 0 };
        if what == 0 {
            return Ok(());
        }
        let shared = &self.inner.shared;
        let ticket = shared.purge.ask(what);
        shared.wake();
        let timeout = self.inner.config.request_timeout();
        if shared.purge.wait(ticket, crate::time::deadline(Instant::now(), timeout)) {
            Ok(())
        } else {
            Err(Error::Timeout(format!("purge was not carried out within request.timeout.ms ({timeout:?})")))
        }
    }

    /// How many records were accepted by [`send`](Self::send) and are not done yet (librdkafka's
    /// `rd_kafka_outq_len` for produced messages): queued, in a request in flight, or with their
    /// outcome decided but their callback not run yet — as librdkafka counts a message until its
    /// delivery report is served. So it is 0 after a successful [`flush`](Self::flush). A snapshot:
    /// while sends and completions go on it may be off by a batch moving between its queue and the
    /// sender thread at that moment.
    ///
    /// Costs nothing on the send path (records are counted per batch, by the sender and on
    /// completion); the call itself visits every partition queue.
    ///
    /// # Thread
    /// Any thread.
    ///
    /// # Locks
    /// The accumulator's `topics` (read), each partition queue in turn, then `incomplete`; never two
    /// at once.
    #[must_use]
    pub fn in_flight_count(&self) -> usize {
        self.inner.accumulator.records_outstanding()
    }

    /// The transaction protocol in use once `init_transactions` has reached the coordinator: 2 for
    /// KIP-890's transactions v2 (brokers with `transaction.version` ≥ 2), 1 otherwise; `None` before.
    #[must_use]
    pub fn transaction_protocol_version(&self) -> Option<u8> {
        self.inner.shared.transactional.as_ref()?.protocol_version()
    }

    fn transactional(&self) -> Result<&Arc<Transactional>, Error> {
        self.inner.shared.transactional.as_ref().ok_or_else(|| illegal("no transactional.id is configured"))
    }

    /// Gets the producer id for `transactional.id` from its coordinator, fencing any older producer with
    /// the same id and finishing (committing or aborting) what it left open (Java's `initTransactions`).
    /// Call once, before the first transaction. On timeout, call it again to keep waiting.
    pub fn init_transactions(&self, timeout: Duration) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "init_transactions")?;
        let _timer = TxnTimer::new(&self.inner.shared.metrics, TxnTime::Init);
        let t = self.transactional()?;
        let id = t.start_init()?;
        self.inner.shared.wake();
        self.txn_wait(t, id, timeout)
    }

    /// Waits for transactional operation `id`; an authentication failure ends the wait at once (the
    /// operation goes on, and calling the API again resumes it, as after a timeout).
    fn txn_wait(&self, t: &Transactional, id: u64, timeout: Duration) -> Result<(), Error> {
        let metadata = &self.inner.metadata;
        t.wait(id, timeout, &|| metadata.auth_failure())
    }

    /// Starts a transaction: records sent from now on are committed or aborted together.
    pub fn begin_transaction(&self) -> Result<(), Error> {
        let _timer = TxnTimer::new(&self.inner.shared.metrics, TxnTime::Begin);
        self.transactional()?.begin()
    }

    /// Adds consumer offsets to the transaction (KIP-447): they are committed for `group` if and only if
    /// the transaction commits. `offsets` are the next offsets to read.
    pub fn send_offsets_to_transaction(
        &self,
        offsets: &[OffsetAndMetadata],
        group: &ConsumerGroupMetadata,
        timeout: Duration,
    ) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "send_offsets_to_transaction")?;
        let _timer = TxnTimer::new(&self.inner.shared.metrics, TxnTime::SendOffsets);
        let t = self.transactional()?;
        let id = t.start_send_offsets(offsets, group)?;
        self.inner.shared.wake();
        self.txn_wait(t, id, timeout)
    }

    /// Commits the transaction: sends every record still queued, waits for all of them, then asks the
    /// coordinator to commit. A record that failed makes the commit fail with its error; then call
    /// [`abort_transaction`](Self::abort_transaction). On timeout, call it again to keep waiting.
    pub fn commit_transaction(&self, timeout: Duration) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "commit_transaction")?;
        let _timer = TxnTimer::new(&self.inner.shared.metrics, TxnTime::Commit);
        let t = self.transactional()?;
        let deadline = crate::time::deadline_or_far(Instant::now(), timeout);
        if let Some(id) = t.prepare_commit()? {
            return self.txn_wait(t, id, timeout);
        }
        self.flush(timeout)?;
        let _prepare = TxnTimer::new(&self.inner.shared.metrics, TxnTime::Prepare);
        // Nothing sent: nothing to commit.
        let Some(id) = t.start_commit()? else { return Ok(()) };
        self.inner.shared.wake();
        self.txn_wait(t, id, deadline.saturating_duration_since(Instant::now()))
    }

    /// Aborts the transaction: records not sent yet fail with [`Error::TransactionAborted`], records in
    /// flight complete, and the coordinator writes abort markers so read_committed consumers never see
    /// the transaction's records. Afterwards a new transaction may begin.
    pub fn abort_transaction(&self, timeout: Duration) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "abort_transaction")?;
        let _timer = TxnTimer::new(&self.inner.shared.metrics, TxnTime::Abort);
        let t = self.transactional()?;
        let deadline = crate::time::deadline_or_far(Instant::now(), timeout);
        if let Some(id) = t.prepare_abort()? {
            return self.txn_wait(t, id, timeout);
        }
        // The sender fails queued batches while the state is Aborting; wait for those in flight.
        self.inner.shared.wake();
        self.flush(timeout)?;
        let Some(id) = t.start_abort()? else { return Ok(()) };
        self.inner.shared.wake();
        self.txn_wait(t, id, deadline.saturating_duration_since(Instant::now()))
    }

    /// The partitions of `topic`, waiting up to `max.block.ms` for its metadata (Java's `partitionsFor`).
    pub fn partitions_for(&self, topic: &str) -> Result<Vec<PartitionInfo>, Error> {
        let inner = &*self.inner;
        validate_topic(topic)?;
        let max_block = inner.config.max_block();
        let deadline = crate::time::deadline_or_far(Instant::now(), max_block);
        loop {
            let seen = match inner.metadata.lookup(topic, Instant::now())? {
                Lookup::Missing(version) => version,
                Lookup::Found(info, ..) => {
                    return Ok(info
                        .partitions
                        .iter()
                        .enumerate()
                        .map(|(i, p)| PartitionInfo {
                            partition: i32::try_from(i).unwrap_or(i32::MAX),
                            leader: (p.leader >= 0).then_some(p.leader),
                            leader_epoch: p.leader_epoch,
                        })
                        .collect())
                }
            };
            if Instant::now() >= deadline {
                return Err(Error::UnknownTopicOrPartition {
                    topic: topic.to_owned(),
                    partition: None,
                    waited: max_block,
                    cause: inner.metadata.missing_cause(topic, None),
                });
            }
            inner.shared.wake();
            inner.metadata.await_update(seen, deadline);
        }
    }

    /// Closes the producer: refuses new records, sends what is queued, and waits up to `timeout` for
    /// every record's outcome; records still pending then fail with [`Error::Closed`]. Returns an error
    /// when the timeout forced that. Later calls return at once.
    ///
    /// Refused (with [`Error::IllegalState`]) inside a delivery callback: it would wait for the
    /// callback itself. Dropping the producer there closes it without waiting, as Java's `close` from a
    /// callback does.
    pub fn close(&self, timeout: Duration) -> Result<(), Error> {
        refuse_in_callback(self.inner.id, "close")?;
        self.close_inner(timeout)
    }

    fn close_inner(&self, timeout: Duration) -> Result<(), Error> {
        let inner = &*self.inner;
        inner.closed.store(true, Ordering::Release);
        inner.accumulator.close();
        *inner.shared.close_deadline.lock() = Instant::now().checked_add(timeout);
        inner.shared.closing.store(true, Ordering::Release);
        inner.shared.wake();
        let mut threads = inner.threads.lock();
        let Some(sender) = threads.sender.take() else { return Ok(()) };
        let graceful = inner.sender_done.recv_timeout(timeout).is_ok();
        if !graceful {
            log::warn!("close: records still pending after {timeout:?}; failing them");
            inner.shared.force_close.store(true, Ordering::Release);
            inner.shared.wake();
        }
        let _ = sender.join();
        inner.metadata.close();
        // The callback thread ends once the sender (its only feeder) is gone and the queue is empty; a
        // callback that closes the producer must not wait for itself.
        if let Some(cb) = threads.callbacks.take() {
            if Some(std::thread::current().id()) != *inner.callback_thread.lock() {
                let _ = cb.join();
            }
        }
        if graceful {
            Ok(())
        } else {
            Err(Error::Timeout(format!("close did not finish within {timeout:?}; pending records failed")))
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // On the callback thread nothing may wait for the callbacks: pending records fail at once.
        let timeout = if on_callback_thread(self.inner.id) {
            Duration::ZERO
        } else {
            self.inner.config.delivery_timeout()
        };
        let _ = self.close_inner(timeout);
    }
}

/// A partition's leadership, from [`Producer::partitions_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition index.
    pub partition: i32,
    /// The leader's node id, when there is one.
    pub leader: Option<i32>,
    /// The leader epoch (-1 when unknown).
    pub leader_epoch: i32,
}

/// The parts of a producer a configuration decides, before any thread or socket exists (the producer
/// and the deterministic simulator build theirs the same way).
pub(crate) struct Parts {
    pub(crate) accumulator: Arc<RecordAccumulator>,
    pub(crate) metadata: Arc<Metadata>,
    pub(crate) sender: SenderConfig,
}

impl Parts {
    pub(crate) fn new(config: &ProducerConfig, bootstrap: Vec<(String, u16)>, client_id: Arc<str>) -> Parts {
        let compression = config.compression_type();
        let level = match compression {
            CompressionType::Gzip if config.compression_gzip_level() >= 0 => {
                Some(config.compression_gzip_level())
            }
            CompressionType::Lz4 => Some(config.compression_lz4_level()),
            CompressionType::Zstd => Some(config.compression_zstd_level()),
            _ => None,
        };
        let pool = Arc::new(BufferPool::new(config.buffer_memory(), config.batch_size()));
        let accumulator = Arc::new(RecordAccumulator::new(
            AccumulatorConfig {
                batch_size: config.batch_size(),
                linger: config.linger(),
                compression,
                compression_level: level,
            },
            pool,
        ));
        let metadata = Arc::new(Metadata::new(config.metadata_max_age(), config.metadata_max_idle()));
        let sender = SenderConfig {
            bootstrap,
            client_id,
            acks: config.acks().as_i16(),
            max_in_flight: config.max_in_flight_requests_per_connection().max(1),
            request_timeout: config.request_timeout(),
            delivery_timeout: config.delivery_timeout(),
            retries: config.retries(),
            retry_backoff: config.retry_backoff(),
            retry_backoff_max: config.retry_backoff_max(),
            max_request_size: config.max_request_size(),
            reconnect_backoff: config.reconnect_backoff(),
            reconnect_backoff_max: config.reconnect_backoff_max(),
            connection_setup_timeout: config.socket_connection_setup_timeout(),
            connection_setup_timeout_max: config.socket_connection_setup_timeout_max(),
            connections_max_idle: config.connections_max_idle(),
            socket: crate::sender::SocketOptions {
                send_buffer: config.send_buffer_bytes(),
                receive_buffer: config.receive_buffer_bytes(),
            },
            idempotence: config.enable_idempotence(),
            transaction_timeout: config.transaction_timeout(),
            security: None,
            rebootstrap_trigger: config
                .metadata_recovery_rebootstrap()
                .then(|| config.metadata_recovery_rebootstrap_trigger()),
            canonical_bootstrap: config.client_dns_lookup_canonical(),
            metrics_push: config.enable_metrics_push(),
        };
        Parts { accumulator, metadata, sender }
    }

    /// The state shared with the sender, whose waker is `wake`.
    pub(crate) fn shared(
        &self,
        config: &ProducerConfig,
        wake: Arc<crate::sender::net::Wake>,
    ) -> Arc<SenderShared> {
        Arc::new(SenderShared {
            accumulator: Arc::clone(&self.accumulator),
            metadata: Arc::clone(&self.metadata),
            wake,
            closing: AtomicBool::new(false),
            force_close: AtomicBool::new(false),
            close_deadline: Mutex::new(None),
            // The per-topic sticky partitioners (Java's per-topic `BuiltInPartitioner`), created on a
            // topic's first keyless record; the sender feeds them queue depths.
            sticky: RwLock::new(HashMap::new()),
            adaptive: config.partitioner_adaptive_partitioning(),
            availability_timeout_ms: i64::try_from(config.partitioner_availability_timeout().as_millis())
                .unwrap_or(i64::MAX),
            fatal: Mutex::new(None),
            has_fatal: AtomicBool::new(false),
            purge: Default::default(),
            transactional: config.transactional_id().map(|id| Arc::new(Transactional::new(id.to_owned()))),
            metrics: Arc::new(crate::metrics::ProducerMetrics::new(
                &self.sender.client_id,
                crate::metrics::stats::Windows::new(
                    config.metrics_num_samples(),
                    config.metrics_sample_window(),
                ),
                Instant::now(),
            )),
        })
    }
}

fn next_client_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    format!("kprod-producer-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The callback thread: runs each batch's callbacks in order, catching panics. Nothing a callback or
/// a completion does ends the thread: a panic is counted and logged, and the next callback runs.
/// The callback thread with hooks: delivery callbacks and hook calls, each as it comes, until the
/// sender has gone (its channels disconnect).
fn run_callbacks_and_hooks(
    jobs: &crossbeam_channel::Receiver<Completions>,
    events: &crossbeam_channel::Receiver<HookEvent>,
    hooks: &Hooks,
    reports: &ReportSink,
    panics: &AtomicU64,
) {
    let call = |e: HookEvent| {
        let run = || match (&e, &hooks.on_error, &hooks.on_statistics) {
            (HookEvent::Error(err), Some(h), _) => h(err),
            (HookEvent::Statistics(doc), _, Some(h)) => h(doc),
            (HookEvent::Throttle(broker, node, time), _, _) => {
                if let Some(h) = &hooks.on_throttle {
                    h(broker, *node, *time)
                }
            }
            _ => {}
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(run)) {
            panics.fetch_add(1, Ordering::Relaxed);
            let msg = p.downcast_ref::<&str>().map(|s| (*s).to_owned()).unwrap_or_default();
            log::error!("{}", Error::CallbackPanicked(msg));
        }
    };
    loop {
        crossbeam_channel::select! {
            recv(jobs) -> job => match job {
                Ok(completions) => run_callbacks(std::iter::once(completions), reports, panics),
                // The sender has gone: the last delivery callbacks have run; run the hooks left.
                Err(_) => {
                    for e in events.try_iter() {
                        call(e);
                    }
                    return;
                }
            },
            recv(events) -> e => match e {
                Ok(e) => call(e),
                // The sender dropped its hook sink only when it stopped: finish the callbacks.
                Err(_) => {
                    run_callbacks(jobs.iter(), reports, panics);
                    return;
                }
            },
        }
    }
}

fn run_callbacks(batches: impl Iterator<Item = Completions>, reports: &ReportSink, panics: &AtomicU64) {
    let caught = |p: Box<dyn std::any::Any + Send>| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        panics.fetch_add(1, Ordering::Relaxed);
        log::error!("{}", Error::CallbackPanicked(msg));
    };
    for mut completions in batches {
        // The outer guard covers the completion's own code (outcome per record, settling on drop).
        let all = catch_unwind(AssertUnwindSafe(|| {
            // A batch handler gets the batch's opaque outcomes in one call, after its closures.
            let batching = matches!(reports, ReportSink::Batch(_));
            let mut batch = Vec::new();
            // By reference: `completions` settles (and `flush` may return) only when it is dropped,
            // which must come after the batch handler below has run.
            for (callback, outcome) in &mut completions {
                let run = || match callback {
                    Callback::Fn(f) => f(outcome),
                    Callback::Opaque(opaque) if batching => batch.push((opaque, outcome)),
                    Callback::Opaque(opaque) => reports.deliver(opaque, outcome),
                };
                if let Err(p) = catch_unwind(AssertUnwindSafe(run)) {
                    caught(p);
                }
            }
            if let (ReportSink::Batch(h), false) = (reports, batch.is_empty()) {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| h(batch))) {
                    caught(p);
                }
            }
            drop(completions);
        }));
        if let Err(p) = all {
            caught(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `send` skips the exact size when the bound fits, so the bound must never be below it.
        #[test]
        fn encoded_size_bound_is_an_upper_bound(
            key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20_000)),
            headers in proptest::collection::vec(
                ("[a-z]{0,200}", proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))),
                0..5,
            ),
        ) {
            let mut r = Record::new("t");
            r.key = key.map(Cow::Owned);
            r.value = value.map(Cow::Owned);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            prop_assert!(r.encoded_size_bound() >= r.encoded_size());
        }
    }
}
