//! An in-process mock Kafka cluster, for tests and benchmarks (feature `mock`).
//!
//! [`MockCluster`] starts N brokers on `127.0.0.1` ephemeral ports that speak the real wire protocol
//! (through kprod's own codec), so any Kafka client — kprod's producer, the Java producer,
//! librdkafka — can produce to it. It keeps every record it receives for inspection, behaves like a
//! Kafka 4.x broker where producers can tell (idempotence and transaction checks, leadership, errors),
//! and lets a test inject faults: queued error codes, dropped connections, lost acknowledgements, cut,
//! corrupt, duplicated, misaddressed and stalled responses, latency, throttling, lying metadata,
//! brokers going down, leaders moving.
//!
//! ```no_run
//! use std::time::Duration;
//! use kprod::mock::{MockCluster, ResponseFault};
//! use kprod::{ApiKey, ErrorCode};
//!
//! let cluster = MockCluster::builder().brokers(3).min_insync_replicas(2).build()?;
//! cluster.create_topic("orders", 6, 3)?; // leaders 1, 2, 3, 1, 2, 3
//! let bootstrap = cluster.bootstrap_servers(); // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
//!
//! // Faults, each scoped to an API key and optionally one partition.
//! cluster
//!     .push_errors(ApiKey::PRODUCE, Some(("orders", 0)), &[ErrorCode::NOT_LEADER_OR_FOLLOWER])
//!     .drop_after_processing(ApiKey::PRODUCE, Some(("orders", 1)), 1) // a lost acknowledgement
//!     .inject_response_fault(ApiKey::PRODUCE, Some(("orders", 2)), ResponseFault::Duplicate, 1)
//!     .set_throttle(ApiKey::PRODUCE, 100);
//! cluster.set_broker_delay(2, Duration::from_millis(20))?;
//!
//! // ... run a producer against `bootstrap` ...
//!
//! for r in cluster.partition_records("orders", 1) {
//!     println!("{} {:?} {:?}", r.offset, r.key, r.value);
//! }
//! cluster.check_invariants()?; // dense offsets, no sequence gaps or repeats
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Served APIs: ApiVersions, Metadata, Produce, InitProducerId, and the transaction coordinator's
//! FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit, each over the
//! version range kprod's codec implements. Anything else closes the connection, as Kafka does for
//! requests it cannot parse. See `docs/mock.md` for the behaviour in detail.
//!
//! Threads: one acceptor per live broker and two per connection (reader and writer), all on blocking
//! `std::net` sockets; the cluster state sits behind one mutex. Dropping the cluster closes the
//! listeners and connections and joins every thread.

mod faults;
mod handlers;
mod log;
mod server;
mod state;
mod telemetry;
mod txn;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use self::faults::ConnFault;
use self::server::{BrokerRuntime, Shared};
use self::state::{BrokerInfo, Settings, State};
use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode};

pub use self::faults::ResponseFault;
#[cfg(feature = "sim")]
pub(crate) use self::faults::Then;
#[cfg(feature = "sim")]
pub(crate) use self::handlers::{Outcome, Reply};
pub use self::log::{StoredBatch, StoredRecord};
pub use self::state::TxnState;
pub use crate::protocol::record::{ControlRecord, ControlRecordType, TimestampType};

/// An error from a [`MockCluster`] administration call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The topic already exists.
    #[error("topic '{0}' already exists")]
    TopicExists(String),
    /// The topic (or the partition of it) does not exist.
    #[error("unknown topic or partition {topic}-{partition}")]
    UnknownTopicOrPartition {
        /// The topic.
        topic: String,
        /// The partition (-1 when the topic itself is unknown).
        partition: i32,
    },
    /// No broker has this node id.
    #[error("unknown broker {0}")]
    UnknownBroker(i32),
    /// An argument is not valid; `code` is the error Kafka would answer.
    #[error("{message} ({code})")]
    Invalid {
        /// The Kafka error code for the same mistake.
        code: ErrorCode,
        /// What is wrong.
        message: String,
    },
    /// Binding a broker's listener failed.
    #[error("broker listener: {0}")]
    Io(#[from] io::Error),
}

impl MockError {
    pub(crate) fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        MockError::Invalid { code, message: message.into() }
    }

    /// The Kafka error code a broker would answer for the same mistake (`UNKNOWN_SERVER_ERROR` for I/O
    /// errors and unknown brokers).
    pub fn code(&self) -> ErrorCode {
        match self {
            MockError::TopicExists(_) => ErrorCode::TOPIC_ALREADY_EXISTS,
            MockError::UnknownTopicOrPartition { .. } => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            MockError::Invalid { code, .. } => *code,
            MockError::UnknownBroker(_) | MockError::Io(_) => ErrorCode::UNKNOWN_SERVER_ERROR,
        }
    }
}

/// One request a broker received, in arrival order (see [`MockCluster::requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The node id of the broker that received it.
    pub broker: i32,
    /// The API.
    pub api_key: ApiKey,
    /// The API version.
    pub api_version: i16,
    /// The request's correlation id.
    pub correlation_id: i32,
    /// The client id from the request header.
    pub client_id: Option<String>,
}

/// What the transaction coordinator knows of a transactional id (see [`MockCluster::transaction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionInfo {
    /// The current producer id.
    pub producer_id: i64,
    /// The current producer epoch.
    pub producer_epoch: i16,
    /// The transaction's state.
    pub state: TxnState,
    /// The partitions in the open transaction.
    pub partitions: Vec<(String, i32)>,
    /// The consumer groups whose offsets are in the open transaction.
    pub groups: Vec<String>,
    /// The transaction timeout the producer asked for.
    pub timeout_ms: i32,
}

/// The client telemetry subscription a mock cluster hands every client (KIP-714); see
/// [`MockClusterBuilder::telemetry`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TelemetrySubscription {
    /// Metric name prefixes wanted: empty for none, `""` for all.
    pub metrics: Vec<String>,
    /// The push interval.
    pub interval: Duration,
    /// Sums as deltas (else cumulative).
    pub delta: bool,
    /// The largest (compressed) payload accepted, in bytes.
    pub max_bytes: i32,
    /// The compression types accepted, in order of preference.
    pub compression: Vec<crate::CompressionType>,
}

impl TelemetrySubscription {
    /// A subscription to `metrics` (prefixes) every `interval`: cumulative sums, payloads up to 1 MiB,
    /// zstd, lz4, gzip and snappy accepted (Kafka's order).
    pub fn new(metrics: &[&str], interval: Duration) -> Self {
        use crate::CompressionType as C;
        TelemetrySubscription {
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            interval,
            delta: false,
            max_bytes: 1 << 20,
            compression: vec![C::Zstd, C::Lz4, C::Gzip, C::Snappy],
        }
    }

    /// Sums as deltas.
    pub fn delta(mut self, on: bool) -> Self {
        self.delta = on;
        self
    }

    /// Accepts only these compression types (none: uncompressed pushes only).
    pub fn compression(mut self, types: &[crate::CompressionType]) -> Self {
        self.compression = types.to_vec();
        self
    }
}

/// One client telemetry push a broker accepted (see [`MockCluster::telemetry_pushes`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TelemetryPush {
    /// The broker that received it.
    pub broker: i32,
    /// The client instance id.
    pub client_instance_id: [u8; 16],
    /// The subscription id it answers.
    pub subscription_id: i32,
    /// The last push of a closing client.
    pub terminating: bool,
    /// The codec it came compressed with.
    pub compression: crate::CompressionType,
    /// The OTLP `MetricsData` protobuf, decompressed.
    pub metrics: bytes::Bytes,
}

/// Builds a [`MockCluster`] with non-default settings. Obtain one with [`MockCluster::builder`].
#[derive(Debug, Clone)]
pub struct MockClusterBuilder {
    brokers: usize,
    port: u16,
    settings: Settings,
    delay: Duration,
    max_frame: usize,
}

impl MockClusterBuilder {
    /// The number of brokers (node ids 1 to `n`); default 1.
    pub fn brokers(mut self, n: usize) -> Self {
        self.brokers = n;
        self
    }

    /// Listen on fixed ports: broker 1 on `port`, broker 2 on `port + 1`, and so on. 0 (the default)
    /// picks ephemeral ports.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Null-sink mode for benchmarks: produce requests are acknowledged with offsets, but records are
    /// not stored, decompressed or validated beyond the batch framing (idempotence and transaction checks
    /// still run, on the batch headers). Default false.
    pub fn null_sink(mut self, on: bool) -> Self {
        self.settings.null_sink = on;
        self
    }

    /// Also lists Fetch v4 in ApiVersions, although the mock does not serve it (a Fetch request closes
    /// the connection). Only for clients that pick their record format by it: librdkafka writes record
    /// batch v2 only to brokers advertising Fetch v4+. Default false, so ApiVersions lists exactly what
    /// is served.
    pub fn advertise_fetch(mut self, on: bool) -> Self {
        self.settings.advertise_fetch = on;
        self
    }

    /// Offers client telemetry (KIP-714) with this subscription for every client: GetTelemetrySubscriptions
    /// and PushTelemetry are advertised and served, and pushes are kept
    /// ([`MockCluster::telemetry_pushes`]). Default: not offered, as a Kafka broker without a
    /// telemetry receiver plugin.
    pub fn telemetry(mut self, subscription: TelemetrySubscription) -> Self {
        self.settings.telemetry = Some(subscription);
        self
    }

    /// Models replication for failovers: an acks 0 or 1 append stays on the leader alone (past the
    /// high watermark) until an acks=all append or a transaction marker on the partition, or
    /// [`MockCluster::replicate`]; when its leader goes down ([`MockCluster::broker_down`]) and another
    /// replica takes over, that tail is gone, as in Kafka. [`MockCluster::lost_in_failover`] lists what
    /// was dropped. Default false: every append counts as replicated at once, nothing is ever lost.
    pub fn lossy_failover(mut self, on: bool) -> Self {
        self.settings.lossy_failover = on;
        self
    }

    /// Whether Metadata requests may create missing topics (Kafka's `auto.create.topics.enable`);
    /// default true.
    pub fn auto_create_topics(mut self, on: bool) -> Self {
        self.settings.auto_create_topics = on;
        self
    }

    /// Partitions of auto-created topics (Kafka's `num.partitions`); default 1.
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.settings.default_partitions = n.max(1);
        self
    }

    /// Replication factor of auto-created topics, capped at the number of brokers (Kafka's
    /// `default.replication.factor`); default 1.
    pub fn default_replication_factor(mut self, n: i16) -> Self {
        self.settings.default_replication_factor = n.max(1);
        self
    }

    /// The cluster-wide `min.insync.replicas`; default 1. Topics can override it with
    /// [`MockCluster::set_topic_config`].
    pub fn min_insync_replicas(mut self, n: i32) -> Self {
        self.settings.min_insync_replicas = n;
        self
    }

    /// A response delay for every broker (see [`MockCluster::set_broker_delay`]); default none.
    pub fn broker_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The largest request frame accepted (Kafka's `socket.request.max.bytes`); a larger size prefix
    /// closes the connection. Default 100 MiB.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How many requests [`MockCluster::requests`] keeps (the oldest are dropped); default 100 000, 0
    /// keeps none.
    pub fn request_log_capacity(mut self, n: usize) -> Self {
        self.settings.request_log_capacity = n;
        self
    }

    /// A cluster without listeners or threads, whose brokers are reached by handing request frames to
    /// [`MockCluster::handle`]: the deterministic simulator's. Broker `n` is advertised at
    /// `10.0.0.n:9092`.
    #[cfg(feature = "sim")]
    pub(crate) fn build_headless(self) -> MockCluster {
        let shared = self.into_shared(|node_id| (format!("10.0.0.{node_id}"), 9092));
        MockCluster { shared, brokers: Vec::new() }
    }

    /// The cluster state for `brokers` brokers (at least one), each at the host and port `addr` gives.
    fn into_shared(self, addr: impl Fn(i32) -> (String, i32)) -> Arc<Shared> {
        let infos = (0..self.brokers.max(1))
            .map(|i| {
                let node_id = i32::try_from(i + 1).unwrap_or(i32::MAX);
                let (host, port) = addr(node_id);
                BrokerInfo { node_id, host, port, up: true, delay: self.delay }
            })
            .collect();
        let null_sink = self.settings.null_sink;
        Arc::new(Shared {
            state: Mutex::new(State::new(self.settings, infos)),
            max_frame: self.max_frame,
            null_sink,
        })
    }

    /// Starts the brokers.
    pub fn build(self) -> io::Result<MockCluster> {
        if self.brokers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a mock cluster needs at least one broker",
            ));
        }
        let (brokers, first_port) = (self.brokers, self.port);
        let shared = self.into_shared(|_| (Ipv4Addr::LOCALHOST.to_string(), 0));
        let mut cluster = MockCluster { shared, brokers: Vec::with_capacity(brokers) };
        for i in 0..brokers {
            let node_id = i32::try_from(i + 1).unwrap_or(i32::MAX);
            let port = if first_port == 0 {
                0
            } else {
                u16::try_from(usize::from(first_port) + i)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "port out of range"))?
            };
            // On failure, dropping `cluster` stops the brokers started so far.
            let rt = BrokerRuntime::start(
                &cluster.shared,
                node_id,
                SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            )?;
            if let Some(b) = cluster.shared.state.lock().brokers.get_mut(i) {
                b.port = i32::from(rt.addr.port());
            }
            cluster.brokers.push(rt);
        }
        Ok(cluster)
    }
}

/// A running mock Kafka cluster. Every method takes `&self` and is safe to call from any thread while
/// clients are connected. Dropping it shuts the brokers down and joins their threads.
#[derive(Debug)]
pub struct MockCluster {
    shared: Arc<Shared>,
    brokers: Vec<BrokerRuntime>,
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        for b in &self.brokers {
            b.stop();
        }
    }
}

impl MockCluster {
    /// Starts `brokers` brokers (node ids 1 to `brokers`) on `127.0.0.1` ephemeral ports with default
    /// settings.
    pub fn new(brokers: usize) -> io::Result<MockCluster> {
        Self::builder().brokers(brokers).build()
    }

    /// A builder for a cluster with non-default settings (one broker unless told otherwise).
    pub fn builder() -> MockClusterBuilder {
        MockClusterBuilder {
            brokers: 1,
            port: 0,
            settings: Settings::default(),
            delay: Duration::ZERO,
            max_frame: crate::protocol::frame::DEFAULT_MAX_FRAME,
        }
    }

    /// Handles one request frame (without its size prefix) as broker `node_id` would, without a socket
    /// (the deterministic simulator's brokers).
    #[cfg(feature = "sim")]
    pub(crate) fn handle(&self, node_id: i32, body: &[u8]) -> Outcome {
        handlers::handle(&self.shared, node_id, body)
    }

    /// Decodes a request body (after its header) of type `M` (the simulator's traces).
    #[cfg(feature = "sim")]
    pub(crate) fn parse_request_body<M: crate::protocol::Message>(
        r: crate::protocol::Reader<'_>,
        version: i16,
    ) -> Option<M> {
        handlers::parse::<M>(r, version)
    }

    /// Runs `f` on the cluster state (the simulator's faults: brokers down and up, leaders moving).
    #[cfg(feature = "sim")]
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.shared.state.lock())
    }

    /// The brokers' addresses as a `bootstrap.servers` value: `127.0.0.1:p1,127.0.0.1:p2,...`.
    pub fn bootstrap_servers(&self) -> String {
        self.brokers.iter().map(|b| b.addr.to_string()).collect::<Vec<_>>().join(",")
    }

    /// The brokers' node ids (1 to N).
    pub fn broker_ids(&self) -> Vec<i32> {
        self.brokers.iter().map(|b| b.node_id).collect()
    }

    /// The address broker `node_id` listens on (also while it is down).
    pub fn broker_address(&self, node_id: i32) -> Option<SocketAddr> {
        self.brokers.iter().find(|b| b.node_id == node_id).map(|b| b.addr)
    }

    /// The cluster id Metadata responses carry.
    pub fn cluster_id(&self) -> String {
        self.shared.state.lock().cluster_id.clone()
    }

    fn runtime(&self, node_id: i32) -> Result<&BrokerRuntime, MockError> {
        self.brokers.iter().find(|b| b.node_id == node_id).ok_or(MockError::UnknownBroker(node_id))
    }

    // -- topics ------------------------------------------------------------------------------------

    /// Creates a topic, with partition `p` led by the `p % N`-th broker and its followers on the next
    /// brokers (like `kafka-topics.sh --create`). Errors as Kafka's CreateTopics: an invalid name,
    /// fewer than 1 partition, a replication factor above the number of brokers, an existing topic.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
    ) -> Result<(), MockError> {
        self.shared.state.lock().create_topic(name, partitions, replication_factor)
    }

    /// Sets a topic configuration, by Kafka's name: `min.insync.replicas` (a number),
    /// `message.timestamp.type` (`CreateTime` or `LogAppendTime`) or `max.message.bytes` (a number).
    pub fn set_topic_config(&self, topic: &str, key: &str, value: &str) -> Result<(), MockError> {
        let mut st = self.shared.state.lock();
        let t = st
            .topics
            .get_mut(topic)
            .ok_or_else(|| MockError::UnknownTopicOrPartition { topic: topic.to_owned(), partition: -1 })?;
        let bad =
            || MockError::invalid(ErrorCode::INVALID_CONFIG, format!("invalid value '{value}' for {key}"));
        match key {
            "min.insync.replicas" => {
                t.config.min_insync_replicas =
                    Some(value.parse().ok().filter(|&n: &i32| n >= 1).ok_or_else(bad)?);
            }
            "message.timestamp.type" => {
                t.config.log_append_time = match value {
                    "LogAppendTime" => true,
                    "CreateTime" => false,
                    _ => return Err(bad()),
                };
            }
            "max.message.bytes" => {
                t.config.max_message_bytes =
                    Some(value.parse().ok().filter(|&n: &i32| n >= 0).ok_or_else(bad)?);
            }
            _ => {
                return Err(MockError::invalid(
                    ErrorCode::INVALID_CONFIG,
                    format!("unsupported config {key}"),
                ));
            }
        }
        Ok(())
    }

    /// Grows a topic to `total` partitions (like CreatePartitions); the new ones are assigned
    /// round-robin like at creation. Producers see them at their next metadata refresh.
    pub fn add_partitions(&self, topic: &str, total: i32) -> Result<(), MockError> {
        self.shared.state.lock().add_partitions(topic, total)
    }

    /// The topic's id, if it exists.
    pub fn topic_id(&self, topic: &str) -> Option<Uuid> {
        self.shared.state.lock().topics.get(topic).map(|t| t.id)
    }

    /// The topic's partition count, if it exists.
    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        self.shared
            .state
            .lock()
            .topics
            .get(topic)
            .map(|t| i32::try_from(t.partitions.len()).unwrap_or(i32::MAX))
    }

    /// The names of all topics, sorted.
    pub fn topics(&self) -> Vec<String> {
        self.shared.state.lock().topics.keys().cloned().collect()
    }

    /// The partition's leader (-1 when it has none), if the partition exists.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.shared.state.lock().partition(topic, partition).map(|p| p.leader)
    }

    /// The partition's current leader epoch, if the partition exists.
    pub fn leader_epoch(&self, topic: &str, partition: i32) -> Option<i32> {
        self.shared.state.lock().partition(topic, partition).map(|p| p.leader_epoch)
    }

    /// The partition's in-sync replicas, if the partition exists.
    pub fn isr(&self, topic: &str, partition: i32) -> Option<Vec<i32>> {
        self.shared.state.lock().partition(topic, partition).map(|p| p.isr.clone())
    }

    fn with_partition<T>(
        &self,
        topic: &str,
        partition: i32,
        f: impl FnOnce(&mut state::PartitionState) -> T,
    ) -> Result<T, MockError> {
        let mut st = self.shared.state.lock();
        let p = st
            .partition_mut(topic, partition)
            .ok_or_else(|| MockError::UnknownTopicOrPartition { topic: topic.to_owned(), partition })?;
        Ok(f(p))
    }

    // -- faults ------------------------------------------------------------------------------------

    /// Queues error codes for the next requests of `api`: each request takes the next code and gets it
    /// instead of being processed. With a `(topic, partition)` scope only that partition's entry fails
    /// (other partitions in the same request are processed normally); without one the code applies to
    /// every partition of the request, or to its top-level error for APIs that have no partitions.
    /// [`ErrorCode::NONE`] in the queue lets one request through. Codes for a scope are used before the
    /// unscoped queue's.
    pub fn push_errors(&self, api: ApiKey, scope: Option<(&str, i32)>, codes: &[ErrorCode]) -> &Self {
        self.shared.state.lock().faults.push_errors(api, scope.map(|(t, p)| (t.to_owned(), p)), codes);
        self
    }

    /// Closes the connection, without processing the request, for the next `times` requests of `api`
    /// (touching the scope's partition, when given). Responses to earlier requests are sent first.
    pub fn drop_before_processing(&self, api: ApiKey, scope: Option<(&str, i32)>, times: usize) -> &Self {
        self.push_conn(api, scope, ConnFault::DropBefore, times)
    }

    /// Processes the next `times` requests of `api` (touching the scope's partition, when given), then
    /// closes the connection instead of answering: a lost acknowledgement (the records are stored).
    pub fn drop_after_processing(&self, api: ApiKey, scope: Option<(&str, i32)>, times: usize) -> &Self {
        self.push_conn(api, scope, ConnFault::DropAfter, times)
    }

    /// Processes the next request of `api` (touching the scope's partition, when given), sends only the
    /// first `bytes` bytes of its response frame (size prefix included), then closes the connection.
    /// With `bytes` at least the frame's size the whole response goes out before the close, which
    /// [`ResponseFault::RespondThenClose`] names.
    pub fn close_after_bytes(&self, api: ApiKey, scope: Option<(&str, i32)>, bytes: usize) -> &Self {
        self.push_conn(api, scope, ConnFault::CutAfter(bytes), 1)
    }

    fn push_conn(&self, api: ApiKey, scope: Option<(&str, i32)>, fault: ConnFault, times: usize) -> &Self {
        self.shared.state.lock().faults.push_conn(api, scope.map(|(t, p)| (t.to_owned(), p)), fault, times);
        self
    }

    /// Advertises and serves only versions `min..=max` of `api` (within those the mock implements), to
    /// imitate an older broker: ApiVersions lists the narrowed range (or leaves `api` out when none is
    /// left), and a request at another version is refused as Kafka refuses one (the connection closes;
    /// ApiVersions answers UNSUPPORTED_VERSION). librdkafka's mock has the same knob.
    pub fn set_api_version(&self, api: ApiKey, min: i16, max: i16) -> &Self {
        self.shared.state.lock().version_caps.insert(api, (min, max));
        self
    }

    /// Makes every response of `api` carry `throttle_time_ms` (0 stops it). The brokers do not mute the
    /// connection; clients are expected to back off themselves (KIP-219).
    pub fn set_throttle(&self, api: ApiKey, throttle_time_ms: i32) -> &Self {
        self.shared.state.lock().faults.set_throttle(api, throttle_time_ms);
        self
    }

    /// Applies `fault` to the next `times` requests of `api` (touching the scope's partition, when
    /// given; a scope never matches APIs without partitions, such as ApiVersions). The request is
    /// processed as usual (records are stored, queued errors used) and only its answer is mangled.
    /// Only requests that get a response use the fault up: a connection fault matching the same
    /// request wins (the response fault waits for the next matching request), and a Produce with
    /// acks=0, which has no response, leaves it armed. Rules fire in the order they were added.
    pub fn inject_response_fault(
        &self,
        api: ApiKey,
        scope: Option<(&str, i32)>,
        fault: ResponseFault,
        times: usize,
    ) -> &Self {
        self.shared.state.lock().faults.push_response(
            api,
            scope.map(|(t, p)| (t.to_owned(), p)),
            fault,
            times,
        );
        self
    }

    /// Delays every response of `api` (on every broker) by `delay` after its request arrived, in
    /// addition to broker delay; responses on a connection keep their order, so a delayed response
    /// holds back the ones behind it, as on a real connection. Duration::ZERO removes it.
    pub fn set_api_delay(&self, api: ApiKey, delay: Duration) -> &Self {
        self.shared.state.lock().faults.set_api_delay(api, delay);
        self
    }

    /// Makes Metadata responses report `topic` with exactly these partition indexes (sparse,
    /// duplicated or out of range: e.g. `vec![5_000_000]`, `vec![0, 2]`, `vec![0, 0]`), each with the
    /// real leader of that partition when it exists and has one (and its real leader epoch, so a
    /// client does not discard the answer as stale), else the first live broker at leader epoch 0;
    /// replicas and ISR are `[leader]`. Only topics that exist are affected (an unknown topic is still
    /// reported unknown); produce requests still see the real partitions. `None` restores the truth.
    pub fn set_metadata_partitions(&self, topic: &str, indexes: Option<Vec<i32>>) -> &Self {
        self.shared.state.lock().faults.set_metadata_partitions(topic, indexes);
        self
    }

    /// Makes Metadata (and FindCoordinator, and Produce v10+ leader endpoints) responses advertise
    /// broker `node_id` at `host` (its port unchanged), e.g. `"nosuchhost.invalid"`: an unresolvable
    /// advertised host, as a misconfigured `advertised.listeners` gives. The broker still listens on
    /// 127.0.0.1. `None` restores 127.0.0.1.
    pub fn set_advertised_host(&self, node_id: i32, host: Option<&str>) -> Result<&Self, MockError> {
        self.runtime(node_id)?;
        self.shared.state.lock().faults.set_advertised_host(node_id, host);
        Ok(self)
    }

    /// Removes every injected fault: queued errors, connection and response faults, throttles, API
    /// delays, Metadata partition lists and advertised hosts. Broker delays, down brokers and moved
    /// leaders stay.
    pub fn clear_faults(&self) -> &Self {
        self.shared.state.lock().faults.clear();
        self
    }

    /// Delays every response of broker `node_id` by `delay` after its request arrived, like network
    /// latency: pipelined requests are still processed at once, and responses keep their order.
    pub fn set_broker_delay(&self, node_id: i32, delay: Duration) -> Result<&Self, MockError> {
        let mut st = self.shared.state.lock();
        let b =
            st.brokers.iter_mut().find(|b| b.node_id == node_id).ok_or(MockError::UnknownBroker(node_id))?;
        b.delay = delay;
        Ok(self)
    }

    /// Takes broker `node_id` down: closes its listener (new connections are refused) and its
    /// connections, removes it from the ISRs (unless it is the last member) and moves the leadership of
    /// its partitions to another in-sync replica (or to none, leader -1), bumping leader epochs. Other
    /// brokers stop listing it in Metadata. Returns once its threads have finished.
    pub fn broker_down(&self, node_id: i32) -> Result<(), MockError> {
        let rt = self.runtime(node_id)?;
        self.shared.state.lock().set_broker_down(node_id);
        rt.stop();
        Ok(())
    }

    /// Brings broker `node_id` back on the same port; it rejoins the ISRs of its partitions and leads
    /// those that had no leader. Fails when the port cannot be bound again.
    pub fn broker_up(&self, node_id: i32) -> Result<(), MockError> {
        let rt = self.runtime(node_id)?;
        rt.resume(&self.shared)?;
        self.shared.state.lock().set_broker_up(node_id);
        Ok(())
    }

    /// Moves the leadership of a partition to `node_id` (adding it to the replicas and ISR if needed)
    /// and bumps the leader epoch. Produce requests to the old leader then fail with
    /// NOT_LEADER_OR_FOLLOWER.
    pub fn move_leader(&self, topic: &str, partition: i32, node_id: i32) -> Result<(), MockError> {
        self.runtime(node_id)?;
        self.with_partition(topic, partition, |p| {
            if !p.replicas.contains(&node_id) {
                p.replicas.push(node_id);
            }
            if !p.isr.contains(&node_id) {
                p.isr.push(node_id);
            }
            p.leader = node_id;
            p.leader_epoch += 1;
        })
    }

    /// Every follower catches up: on every partition, what acks 0 and 1 wrote is replicated and
    /// survives a failover (see [`MockClusterBuilder::lossy_failover`]).
    pub fn replicate(&self) {
        let mut st = self.shared.state.lock();
        for t in st.topics.values_mut() {
            for p in &mut t.partitions {
                p.log.replicate();
            }
        }
    }

    /// Records a lossy failover dropped, as (topic, partition, record), oldest first (see
    /// [`MockClusterBuilder::lossy_failover`]).
    pub fn lost_in_failover(&self) -> Vec<(String, i32, StoredRecord)> {
        self.shared.state.lock().lost_in_failover.clone()
    }

    /// Sets a partition's in-sync replicas (for `min.insync.replicas` scenarios). Members must be
    /// replicas; the leader stays unless it is left out, in which case the first member leads (epoch
    /// bumped), or none when `isr` is empty.
    pub fn set_isr(&self, topic: &str, partition: i32, isr: &[i32]) -> Result<(), MockError> {
        self.with_partition(topic, partition, |p| {
            if let Some(bad) = isr.iter().find(|r| !p.replicas.contains(r)) {
                return Err(MockError::invalid(
                    ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                    format!("broker {bad} is not a replica of {topic}-{partition}"),
                ));
            }
            p.isr = isr.to_vec();
            if !p.isr.contains(&p.leader) {
                p.leader = p.isr.first().copied().unwrap_or(-1);
                p.leader_epoch += 1;
            }
            Ok(())
        })?
    }

    // -- inspection --------------------------------------------------------------------------------

    /// Every record stored in a partition, data and control, in offset order (empty for an unknown
    /// partition, and in null-sink mode).
    pub fn partition_records(&self, topic: &str, partition: i32) -> Vec<StoredRecord> {
        self.shared
            .state
            .lock()
            .partition(topic, partition)
            .map(|p| p.log.records.clone())
            .unwrap_or_default()
    }

    /// Every batch stored in a partition, in offset order.
    pub fn partition_batches(&self, topic: &str, partition: i32) -> Vec<StoredBatch> {
        self.shared
            .state
            .lock()
            .partition(topic, partition)
            .map(|p| p.log.batches.clone())
            .unwrap_or_default()
    }

    /// The data records a `read_committed` consumer would read from the partition: no control records,
    /// nothing from aborted transactions, nothing at or after the first offset of a still open one.
    pub fn read_committed(&self, topic: &str, partition: i32) -> Vec<StoredRecord> {
        self.shared
            .state
            .lock()
            .partition(topic, partition)
            .map(|p| p.log.read_committed())
            .unwrap_or_default()
    }

    /// The partition's log end offset (the next offset to assign), if it exists. Counted in null-sink
    /// mode too.
    pub fn log_end_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.shared.state.lock().partition(topic, partition).map(|p| p.log.next_offset)
    }

    /// The requests received so far, oldest first (bounded by the builder's `request_log_capacity`).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.state.lock().requests.iter().cloned().collect()
    }

    /// Returns the requests received so far and forgets them, atomically.
    pub fn take_requests(&self) -> Vec<RequestRecord> {
        self.shared.state.lock().requests.drain(..).collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.state.lock().requests.clear();
    }

    /// The client telemetry pushes accepted so far, oldest first.
    pub fn telemetry_pushes(&self) -> Vec<TelemetryPush> {
        self.shared.state.lock().telemetry_pushes.clone()
    }

    /// The transaction coordinator's view of `transactional_id`.
    pub fn transaction(&self, transactional_id: &str) -> Option<TransactionInfo> {
        self.shared.state.lock().txns.get(transactional_id).map(|m| TransactionInfo {
            producer_id: m.producer_id,
            producer_epoch: m.producer_epoch,
            state: m.state,
            partitions: m.partitions.iter().cloned().collect(),
            groups: m.groups.iter().cloned().collect(),
            timeout_ms: m.timeout_ms,
        })
    }

    /// The offsets committed for `group` through transactions (TxnOffsetCommit followed by a committing
    /// EndTxn), per topic-partition.
    pub fn committed_offsets(&self, group: &str) -> BTreeMap<(String, i32), i64> {
        self.shared
            .state
            .lock()
            .group_offsets
            .get(group)
            .map(|m| m.iter().map(|(k, o)| (k.clone(), o.offset)).collect())
            .unwrap_or_default()
    }

    /// Checks every partition's log: offsets dense and increasing, and per producer id and epoch,
    /// sequence numbers contiguous with no batch written twice. Returns the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let st = self.shared.state.lock();
        for (name, t) in &st.topics {
            for (i, p) in t.partitions.iter().enumerate() {
                p.log.check_invariants(&format!("{name}-{i}"))?;
            }
        }
        Ok(())
    }
}
