//! The mock cluster's shared state: brokers, topics and their partitions, producer ids, transactions,
//! group offsets, faults and the request log. Everything here is plain data behind the one
//! `parking_lot::Mutex` in [`Shared`](super::server::Shared).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::faults::Faults;
use super::log::{PartitionLog, StoredRecord};
use super::{MockError, RequestRecord};
use crate::protocol::primitives::Uuid;
use crate::protocol::ErrorCode;

/// Kafka's default `max.message.bytes` (1 MiB plus the record batch overhead).
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: i32 = 1_048_588;
/// Kafka's default `transaction.max.timeout.ms` (15 minutes).
pub(crate) const TRANSACTION_MAX_TIMEOUT_MS: i32 = 900_000;

/// Cluster-wide settings, from the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub auto_create_topics: bool,
    pub default_partitions: i32,
    pub default_replication_factor: i16,
    pub min_insync_replicas: i32,
    pub null_sink: bool,
    pub request_log_capacity: usize,
    /// Also list Fetch v4 in ApiVersions (not served), for clients that detect features by it.
    pub advertise_fetch: bool,
    /// acks 0 and 1 appends stay unreplicated (past the high watermark) until an acks=all append, a
    /// marker or [`MockCluster::replicate`](super::MockCluster::replicate); a failover drops them.
    pub lossy_failover: bool,
    /// Client telemetry (KIP-714): the subscription every client gets; `None` does not offer the APIs.
    pub telemetry: Option<super::TelemetrySubscription>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: 1,
            min_insync_replicas: 1,
            null_sink: false,
            advertise_fetch: false,
            lossy_failover: false,
            telemetry: None,
            request_log_capacity: 100_000,
        }
    }
}

/// One broker as the cluster state sees it.
#[derive(Debug, Clone)]
pub(crate) struct BrokerInfo {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    pub up: bool,
    pub delay: Duration,
}

/// Per-topic configuration overrides (`set_topic_config`).
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicConfig {
    pub min_insync_replicas: Option<i32>,
    pub log_append_time: bool,
    pub max_message_bytes: Option<i32>,
}

/// One partition: its replica assignment, leadership and log.
#[derive(Debug, Default)]
pub(crate) struct PartitionState {
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub log: PartitionLog,
}

/// One topic.
#[derive(Debug)]
pub(crate) struct TopicState {
    pub id: Uuid,
    pub partitions: Vec<PartitionState>,
    pub config: TopicConfig,
}

/// A transaction's state at the coordinator (Kafka's `TransactionState`, without the transient
/// Prepare states: the mock writes markers synchronously).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    /// No transaction is open.
    Empty,
    /// A transaction is open (partitions or offsets were added).
    Ongoing,
    /// The last transaction was committed.
    CompleteCommit,
    /// The last transaction was aborted.
    CompleteAbort,
}

/// What the transaction coordinator knows of one transactional id.
#[derive(Debug, Clone)]
pub(crate) struct TxnMeta {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The id and epoch before the last bump, so a retried InitProducerId is recognised.
    pub last_producer_id: i64,
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    /// Consumer groups whose offsets are part of the transaction (AddOffsetsToTxn).
    pub groups: BTreeSet<String>,
}

/// An offset committed (or pending) in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingOffset {
    pub producer_id: i64,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

/// The whole cluster state.
#[derive(Debug)]
pub(crate) struct State {
    pub settings: Settings,
    pub cluster_id: String,
    pub brokers: Vec<BrokerInfo>,
    pub topics: BTreeMap<String, TopicState>,
    pub next_producer_id: i64,
    pub txns: HashMap<String, TxnMeta>,
    /// Committed offsets per group and topic-partition.
    pub group_offsets: BTreeMap<String, BTreeMap<(String, i32), PendingOffset>>,
    /// Offsets written by TxnOffsetCommit, waiting for EndTxn, per group.
    pub pending_offsets: BTreeMap<String, BTreeMap<(String, i32), PendingOffset>>,
    pub faults: Faults,
    pub requests: VecDeque<RequestRecord>,
    /// Records a lossy failover dropped (topic, partition, record), oldest first.
    pub lost_in_failover: Vec<(String, i32, StoredRecord)>,
    /// Client telemetry pushes received, oldest first.
    pub telemetry_pushes: Vec<super::TelemetryPush>,
    /// Version ranges narrowed by [`MockCluster::set_api_version`](super::MockCluster::set_api_version),
    /// to imitate an older broker: advertised and served is the codec's range within this one.
    pub version_caps: HashMap<crate::protocol::ApiKey, (i16, i16)>,
    hasher: std::collections::hash_map::RandomState,
    id_counter: u64,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// Kafka's topic name rule: 1 to 249 characters from `[a-zA-Z0-9._-]`, not `.` or `..`.
pub(crate) fn valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// A stable hash of a string (Java's `String.hashCode`), used to spread coordinators like Kafka's
/// `Utils.abs(key.hashCode) % partitions`.
pub(crate) fn java_hash(s: &str) -> u32 {
    let mut h: i32 = 0;
    for c in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(c));
    }
    // Kafka's `Utils.abs`: MIN_VALUE maps to 0.
    if h == i32::MIN {
        0
    } else {
        h.unsigned_abs()
    }
}

impl State {
    pub fn new(settings: Settings, brokers: Vec<BrokerInfo>) -> Self {
        let mut st = State {
            settings,
            cluster_id: String::new(),
            brokers,
            topics: BTreeMap::new(),
            next_producer_id: 1000,
            txns: HashMap::new(),
            group_offsets: BTreeMap::new(),
            pending_offsets: BTreeMap::new(),
            faults: Faults::default(),
            requests: VecDeque::new(),
            lost_in_failover: Vec::new(),
            telemetry_pushes: Vec::new(),
            version_caps: HashMap::new(),
            hasher: std::collections::hash_map::RandomState::new(),
            id_counter: 0,
        };
        let id = st.random_uuid();
        st.cluster_id =
            format!("mock-{}", id.0.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>());
        st
    }

    /// A fresh random topic id (never zero, never starting with `-` in Kafka's base64 form).
    pub fn random_uuid(&mut self) -> Uuid {
        let mut out = [0u8; 16];
        for half in out.chunks_mut(8) {
            self.id_counter += 1;
            let mut h = self.hasher.build_hasher();
            h.write_u64(self.id_counter);
            h.write_i64(now_ms());
            half.copy_from_slice(&h.finish().to_be_bytes());
        }
        out[0] &= 0x7f;
        out[15] |= 1;
        Uuid(out)
    }

    pub fn broker(&self, node_id: i32) -> Option<&BrokerInfo> {
        self.brokers.iter().find(|b| b.node_id == node_id)
    }

    pub fn broker_up(&self, node_id: i32) -> bool {
        self.broker(node_id).is_some_and(|b| b.up)
    }

    pub fn up_brokers(&self) -> impl Iterator<Item = &BrokerInfo> {
        self.brokers.iter().filter(|b| b.up)
    }

    /// The host responses advertise for `b`: its real one unless `set_advertised_host` replaced it.
    pub fn advertised_host(&self, b: &BrokerInfo) -> String {
        self.faults.advertised_host(b.node_id).unwrap_or(&b.host).to_owned()
    }

    pub fn record_request(&mut self, r: RequestRecord) {
        let cap = self.settings.request_log_capacity;
        if cap == 0 {
            return;
        }
        while self.requests.len() >= cap {
            self.requests.pop_front();
        }
        self.requests.push_back(r);
    }

    pub fn partition(&self, topic: &str, p: i32) -> Option<&PartitionState> {
        self.topics.get(topic)?.partitions.get(usize::try_from(p).ok()?)
    }

    pub fn partition_mut(&mut self, topic: &str, p: i32) -> Option<&mut PartitionState> {
        self.topics.get_mut(topic)?.partitions.get_mut(usize::try_from(p).ok()?)
    }

    pub fn topic_by_id(&self, id: Uuid) -> Option<&str> {
        self.topics.iter().find(|(_, t)| t.id == id).map(|(n, _)| n.as_str())
    }

    pub fn allocate_producer_id(&mut self) -> i64 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        id
    }

    /// Replica assignments for partitions `from..to`: leaders round-robin over the brokers (partition `p`
    /// led by the `p % n`-th broker), followers the next brokers in id order.
    fn assign(&self, from: i32, to: i32, replication_factor: i16) -> Vec<PartitionState> {
        let ids: Vec<i32> = self.brokers.iter().map(|b| b.node_id).collect();
        let n = ids.len().max(1);
        let rf = usize::try_from(replication_factor).unwrap_or(1).clamp(1, n);
        (from..to)
            .map(|p| {
                let start = usize::try_from(p).unwrap_or(0) % n;
                let replicas: Vec<i32> = (0..rf).filter_map(|k| ids.get((start + k) % n).copied()).collect();
                let isr: Vec<i32> = replicas.iter().copied().filter(|&r| self.broker_up(r)).collect();
                let leader = isr.first().copied().unwrap_or(-1);
                let isr = if isr.is_empty() { replicas.iter().take(1).copied().collect() } else { isr };
                PartitionState { leader, leader_epoch: 0, replicas, isr, log: PartitionLog::default() }
            })
            .collect()
    }

    pub fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
    ) -> Result<(), MockError> {
        if !valid_topic_name(name) {
            return Err(MockError::invalid(
                ErrorCode::INVALID_TOPIC_EXCEPTION,
                format!("invalid topic name '{name}'"),
            ));
        }
        if self.topics.contains_key(name) {
            return Err(MockError::TopicExists(name.to_owned()));
        }
        if partitions < 1 {
            return Err(MockError::invalid(
                ErrorCode::INVALID_PARTITIONS,
                "the number of partitions must be at least 1",
            ));
        }
        if replication_factor < 1 || usize::try_from(replication_factor).unwrap_or(0) > self.brokers.len() {
            return Err(MockError::invalid(
                ErrorCode::INVALID_REPLICATION_FACTOR,
                format!("replication factor {replication_factor} with {} brokers", self.brokers.len()),
            ));
        }
        let id = self.random_uuid();
        let parts = self.assign(0, partitions, replication_factor);
        self.topics
            .insert(name.to_owned(), TopicState { id, partitions: parts, config: TopicConfig::default() });
        Ok(())
    }

    pub fn add_partitions(&mut self, topic: &str, total: i32) -> Result<(), MockError> {
        let (have, rf) = match self.topics.get(topic) {
            Some(t) => (
                i32::try_from(t.partitions.len()).unwrap_or(i32::MAX),
                t.partitions.first().map_or(1, |p| i16::try_from(p.replicas.len()).unwrap_or(1)),
            ),
            None => {
                return Err(MockError::UnknownTopicOrPartition { topic: topic.to_owned(), partition: -1 })
            }
        };
        if total <= have {
            return Err(MockError::invalid(
                ErrorCode::INVALID_PARTITIONS,
                format!("topic '{topic}' has {have} partitions; asked for {total}"),
            ));
        }
        let more = self.assign(have, total, rf);
        if let Some(t) = self.topics.get_mut(topic) {
            t.partitions.extend(more);
        }
        Ok(())
    }

    /// The `min.insync.replicas` in force for `topic`.
    pub fn min_insync(&self, topic: &TopicState) -> i32 {
        topic.config.min_insync_replicas.unwrap_or(self.settings.min_insync_replicas)
    }

    /// Takes a broker down: it leaves every ISR it is in unless it is the last member (as in KRaft),
    /// and partitions it led elect the first other live ISR member, or have no leader.
    pub fn set_broker_down(&mut self, node_id: i32) {
        if let Some(b) = self.brokers.iter_mut().find(|b| b.node_id == node_id) {
            b.up = false;
        }
        let lossy = self.settings.lossy_failover;
        for (name, t) in self.topics.iter_mut() {
            for (idx, p) in (0i32..).zip(t.partitions.iter_mut()) {
                if p.isr.len() > 1 {
                    p.isr.retain(|&r| r != node_id);
                }
                if p.leader == node_id {
                    p.leader = p.isr.iter().copied().find(|&r| r != node_id).unwrap_or(-1);
                    p.leader_epoch += 1;
                    if lossy && p.leader != -1 {
                        let dropped = p.log.truncate_to_replicated();
                        self.lost_in_failover.extend(dropped.into_iter().map(|r| (name.clone(), idx, r)));
                    }
                }
            }
        }
    }

    /// Brings a broker back: it rejoins the ISR of its partitions at once (the mock has no replication
    /// lag) and leads the partitions that had no leader.
    pub fn set_broker_up(&mut self, node_id: i32) {
        if let Some(b) = self.brokers.iter_mut().find(|b| b.node_id == node_id) {
            b.up = true;
        }
        for t in self.topics.values_mut() {
            for p in &mut t.partitions {
                if p.replicas.contains(&node_id) && !p.isr.contains(&node_id) {
                    p.isr.push(node_id);
                }
                if p.leader == -1 && p.isr.contains(&node_id) {
                    p.leader = node_id;
                    p.leader_epoch += 1;
                }
            }
        }
    }

    /// The broker coordinating `key` (a group or transactional id): the leader of the key's
    /// `__consumer_offsets` / `__transaction_state` partition, which the mock spreads over the live
    /// brokers. `None` when no broker is up.
    pub fn coordinator_for(&self, key: &str) -> Option<&BrokerInfo> {
        let up: Vec<&BrokerInfo> = self.up_brokers().collect();
        let n = u32::try_from(up.len()).ok().filter(|&n| n > 0)?;
        up.get(usize::try_from(java_hash(key) % n).ok()?).copied()
    }
}
