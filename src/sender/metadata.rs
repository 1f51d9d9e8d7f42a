//! Java's `ProducerMetadata`: the producer's view of the cluster (brokers, and the leaders of the topics
//! it uses), shared between application threads, which wait in `send` for a topic to appear, and the
//! sender thread, which refreshes it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::Error;
use crate::protocol::messages::metadata::MetadataResponse;
use crate::protocol::messages::produce::NodeEndpoint;
use crate::protocol::primitives::Uuid;
use crate::protocol::ErrorCode;

/// A broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// The broker's node id.
    pub node_id: i32,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// One partition's leadership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLeader {
    /// The leader's node id, or -1 when the partition has none.
    pub leader: i32,
    /// The leader epoch (-1 when unknown).
    pub leader_epoch: i32,
}

/// A partition's new leader as a Produce response names it (KIP-951's `current_leader`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderUpdate {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition index.
    pub partition: i32,
    /// The new leader's node id.
    pub leader: i32,
    /// The new leader's epoch.
    pub leader_epoch: i32,
}

/// What the producer knows about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic id (zero before Metadata v10).
    pub topic_id: Uuid,
    /// Leadership by partition index.
    pub partitions: Vec<PartitionLeader>,
    /// Partitions that have a leader, ascending.
    pub available: Vec<i32>,
}

impl TopicInfo {
    /// The number of partitions.
    pub fn num_partitions(&self) -> i32 {
        i32::try_from(self.partitions.len()).unwrap_or(i32::MAX)
    }

    /// The leader of `partition`, when it has one.
    pub fn leader(&self, partition: i32) -> Option<i32> {
        let p = self.partitions.get(usize::try_from(partition).ok()?)?;
        (p.leader >= 0).then_some(p.leader)
    }
}

/// An immutable snapshot of the cluster; replaced whole on every refresh, so readers never lock while
/// they use it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    /// Brokers by node id.
    pub brokers: HashMap<i32, BrokerAddress>,
    /// Topics the producer uses, by name.
    pub topics: HashMap<Arc<str>, Arc<TopicInfo>>,
    /// Topics the last refresh reported with a non-retriable error.
    pub topic_errors: HashMap<Arc<str>, ErrorCode>,
}

/// How recently a topic was used, for `metadata.max.idle.ms`.
#[derive(Debug)]
struct TopicUse {
    /// The last use the cache has noted.
    last_used: Instant,
    /// Set by `send`s that skipped [`Metadata::lookup`] (they hold a cached answer); folded into
    /// `last_used` when a refresh is due, so a topic in use is never dropped as idle.
    touched: Arc<AtomicBool>,
}

/// The mutable part of [`Metadata`].
#[derive(Debug)]
struct State {
    cluster: Arc<Cluster>,
    /// Topics the producer uses, with their last use; a topic unused for `metadata.max.idle.ms` is
    /// dropped from refreshes.
    topics: BTreeMap<Arc<str>, TopicUse>,
    /// A refresh is wanted as soon as possible (new topic, or an error pointing at stale leaders).
    need_update: bool,
    /// When the last refresh completed.
    last_refresh: Option<Instant>,
    /// Bumped on every refresh; waiters compare it.
    version: u64,
    /// Set when the producer closes; waiters stop waiting.
    closed: bool,
    /// Topics the last refresh answered with a retriable error (e.g. UNKNOWN_TOPIC_OR_PARTITION when
    /// auto-creation is off), to say why a send waited in vain.
    pending_errors: HashMap<Arc<str>, ErrorCode>,
    /// The last failure of each broker address (`host:port`) since it last completed a handshake.
    broker_failures: BTreeMap<String, String>,
    /// The last authentication failure (TLS or SASL), until a connection authenticates again: sends
    /// fail with it at once rather than waiting `max.block.ms` (Java's AuthenticationException).
    auth_failure: Option<Error>,
}

/// The shared metadata cache.
#[derive(Debug)]
pub struct Metadata {
    /// Guards the cluster snapshot, the set of topics in use and the refresh flags.
    state: Mutex<State>,
    /// Signalled after every refresh and on close.
    updated: Condvar,
    /// A copy of `State::version`, bumped (under the lock) on every refresh and on close: a `send` that
    /// cached a [`Lookup::Found`] of version `v` may reuse it, without the lock, while this reads `v`.
    generation: AtomicU64,
    max_age: Duration,
    max_idle: Duration,
}

/// What a waiting application thread should do next.
#[derive(Debug)]
pub enum Lookup {
    /// The topic is known (as of metadata version `.1`); `.2` is the topic's use flag, which a caller
    /// that caches the answer sets on each use (see [`Metadata::generation`]).
    Found(Arc<TopicInfo>, u64, Arc<AtomicBool>),
    /// The topic is not known yet: poke the sender and wait for a refresh newer than this version (taken
    /// under the same lock, so a refresh that lands before the wait starts is not missed).
    Missing(u64),
}

impl Metadata {
    /// An empty cache refreshed every `max_age` and forgetting topics idle for `max_idle`.
    pub fn new(max_age: Duration, max_idle: Duration) -> Self {
        Metadata {
            state: Mutex::new(State {
                cluster: Arc::new(Cluster::default()),
                topics: BTreeMap::new(),
                need_update: true,
                last_refresh: None,
                version: 0,
                closed: false,
                pending_errors: HashMap::new(),
                broker_failures: BTreeMap::new(),
                auth_failure: None,
            }),
            updated: Condvar::new(),
            generation: AtomicU64::new(0),
            max_age,
            max_idle,
        }
    }

    /// The current snapshot.
    pub fn cluster(&self) -> Arc<Cluster> {
        Arc::clone(&self.state.lock().cluster)
    }

    /// Looks `topic` up, marking it used at `now`; a topic seen for the first time asks for a refresh
    /// (the caller then wakes the sender).
    ///
    /// # Thread
    /// Application threads (on a send-cache miss).
    ///
    /// # Locks
    /// `state`, a leaf.
    pub fn lookup(&self, topic: &str, now: Instant) -> Result<Lookup, Error> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(Error::Closed);
        }
        let touched = match s.topics.get_mut(topic) {
            Some(u) => {
                u.last_used = now;
                Arc::clone(&u.touched)
            }
            None => {
                let touched = Arc::new(AtomicBool::new(false));
                s.topics.insert(Arc::from(topic), TopicUse { last_used: now, touched: Arc::clone(&touched) });
                s.need_update = true;
                touched
            }
        };
        if let Some(e) = &s.auth_failure {
            return Err(e.clone());
        }
        if let Some(code) = s.cluster.topic_errors.get(topic) {
            return Err(Error::Broker { code: *code, message: Some(format!("topic {topic}")) });
        }
        match s.cluster.topics.get(topic) {
            Some(t) => Ok(Lookup::Found(Arc::clone(t), s.version, touched)),
            None => {
                s.need_update = true;
                Ok(Lookup::Missing(s.version))
            }
        }
    }

    /// The version of the cache now (no lock): a cached [`Lookup::Found`] of this version is current.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Waits until a refresh newer than version `seen` (from [`Lookup::Missing`]) completes, or
    /// `deadline`; false on timeout.
    pub fn await_update(&self, seen: u64, deadline: Instant) -> bool {
        let mut s = self.state.lock();
        while s.version == seen && !s.closed {
            if self.updated.wait_until(&mut s, deadline).timed_out() {
                return s.version != seen;
            }
        }
        true
    }

    /// Asks for a refresh as soon as possible (stale leaders, unknown partitions).
    pub fn request_update(&self) {
        self.state.lock().need_update = true;
    }

    /// The topics to ask for if a refresh is due at `now` (wanted, or older than `metadata.max.age.ms`),
    /// dropping topics idle for longer than `metadata.max.idle.ms`. `None` when no refresh is due.
    pub fn due(&self, now: Instant) -> Option<Vec<Arc<str>>> {
        let mut s = self.state.lock();
        let stale = s.last_refresh.map_or(true, |t| now.saturating_duration_since(t) >= self.max_age);
        if !s.need_update && !stale {
            return None;
        }
        let max_idle = self.max_idle;
        s.topics.retain(|_, u| {
            if u.touched.swap(false, Ordering::AcqRel) {
                u.last_used = now;
            }
            now.saturating_duration_since(u.last_used) < max_idle
        });
        if s.topics.is_empty() {
            // Nothing to learn yet: the first topic asks at once, without a refresh backoff behind it.
            return None;
        }
        Some(s.topics.keys().cloned().collect())
    }

    /// How long until the periodic refresh is due.
    pub fn time_to_next_update(&self, now: Instant) -> Duration {
        let s = self.state.lock();
        if s.need_update {
            return Duration::ZERO;
        }
        s.last_refresh
            .map_or(Duration::ZERO, |t| self.max_age.saturating_sub(now.saturating_duration_since(t)))
    }

    /// # Thread
    /// The sender thread; wakes the application threads waiting in [`await_update`](Self::await_update).
    ///
    /// Installs a Metadata response for the `requested` topics, keeping what it does not mention
    /// (the previous brokers when it names none). Returns the new snapshot.
    pub fn update(&self, response: &MetadataResponse, requested: &[Arc<str>], now: Instant) -> Arc<Cluster> {
        let mut s = self.state.lock();
        let mut cluster = Cluster::default();
        for b in &response.brokers {
            if let Ok(port) = u16::try_from(b.port) {
                cluster
                    .brokers
                    .insert(b.node_id, BrokerAddress { node_id: b.node_id, host: b.host.clone(), port });
            }
        }
        if cluster.brokers.is_empty() {
            cluster.brokers = s.cluster.brokers.clone();
        }
        let mut retry_soon = false;
        let mut broken: Vec<Arc<str>> = Vec::new();
        for t in &response.topics {
            let Some(name) = t.name.as_deref() else { continue };
            let Some(key) = requested.iter().find(|r| &***r == name).cloned() else { continue };
            if t.error_code != ErrorCode::NONE {
                if t.error_code.is_retriable() {
                    // e.g. UNKNOWN_TOPIC_OR_PARTITION while auto-creation happens, LEADER_NOT_AVAILABLE.
                    retry_soon = true;
                    s.pending_errors.insert(Arc::clone(&key), t.error_code);
                } else {
                    cluster.topic_errors.insert(key, t.error_code);
                }
                continue;
            }
            // A topic's partitions are exactly 0..n. Anything else (gaps, repeats, an index of five
            // million) is a broken answer: keep what we knew of the topic and ask again.
            let n = t.partitions.len();
            let mut seen = HashSet::with_capacity(n);
            let dense = t.partitions.iter().all(|p| {
                usize::try_from(p.partition_index).is_ok_and(|i| i < n) && seen.insert(p.partition_index)
            });
            if !dense {
                log::warn!(
                    "metadata for topic {name} lists partitions {:?}, not 0..{n}; keeping the previous view",
                    t.partitions.iter().map(|p| p.partition_index).take(16).collect::<Vec<_>>()
                );
                retry_soon = true;
                broken.push(key);
                continue;
            }
            s.pending_errors.remove(&key);
            let mut partitions = vec![PartitionLeader { leader: -1, leader_epoch: -1 }; n];
            let mut missing_leader = false;
            for p in &t.partitions {
                if let Some(slot) =
                    usize::try_from(p.partition_index).ok().and_then(|i| partitions.get_mut(i))
                {
                    let leader =
                        if p.error_code == ErrorCode::LEADER_NOT_AVAILABLE { -1 } else { p.leader_id };
                    *slot = PartitionLeader { leader, leader_epoch: p.leader_epoch };
                    // A broker that lags behind (or this producer's own KIP-951 update) can make the
                    // cache newer than the answer: an older leader epoch of the same topic never wins
                    // (Java's `Metadata.updateLatestMetadata`).
                    if let Some(old) = s.cluster.topics.get(&key).filter(|o| o.topic_id == t.topic_id) {
                        if let Some(o) =
                            old.partitions.get(usize::try_from(p.partition_index).unwrap_or(usize::MAX))
                        {
                            if p.leader_epoch >= 0 && o.leader_epoch > p.leader_epoch && o.leader >= 0 {
                                *slot = *o;
                            }
                        }
                    }
                    missing_leader |= slot.leader < 0;
                }
            }
            retry_soon |= missing_leader;
            let available = (0..partitions.len())
                .filter(|&i| partitions.get(i).is_some_and(|p| p.leader >= 0))
                .filter_map(|i| i32::try_from(i).ok())
                .collect();
            cluster.topics.insert(key, Arc::new(TopicInfo { topic_id: t.topic_id, partitions, available }));
        }
        // Topics we did not ask about this time, or got a broken answer for, keep their previous state.
        for (name, info) in &s.cluster.topics {
            if s.topics.contains_key(name) && (!requested.contains(name) || broken.contains(name)) {
                cluster.topics.entry(Arc::clone(name)).or_insert_with(|| Arc::clone(info));
            }
        }
        let cluster = Arc::new(cluster);
        s.cluster = Arc::clone(&cluster);
        s.need_update = retry_soon;
        s.last_refresh = Some(now);
        s.version = s.version.wrapping_add(1);
        self.generation.store(s.version, Ordering::Release);
        drop(s);
        self.updated.notify_all();
        cluster
    }

    /// KIP-951: installs the leaders that Produce responses named for partitions that failed with
    /// NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH, with the endpoints of those leaders, so their
    /// batches go to the new leader without waiting for a Metadata round trip. An update applies only
    /// when its leader epoch is newer than the cached one and its leader's address is known. Returns the
    /// partitions whose leader changed.
    ///
    /// # Thread
    /// The sender thread.
    pub fn update_leadership(
        &self,
        updates: &[LeaderUpdate],
        endpoints: &[NodeEndpoint],
    ) -> Vec<(Arc<str>, i32)> {
        let mut moved = Vec::new();
        if updates.is_empty() {
            return moved;
        }
        let mut s = self.state.lock();
        let mut cluster = Cluster::clone(&s.cluster);
        for e in endpoints {
            if let Ok(port) = u16::try_from(e.port) {
                cluster
                    .brokers
                    .insert(e.node_id, BrokerAddress { node_id: e.node_id, host: e.host.clone(), port });
            }
        }
        for u in updates {
            if u.leader < 0 || u.leader_epoch < 0 || !cluster.brokers.contains_key(&u.leader) {
                continue;
            }
            let Some(info) = cluster.topics.get_mut(&u.topic) else { continue };
            let Some(i) = usize::try_from(u.partition).ok().filter(|&i| i < info.partitions.len()) else {
                continue;
            };
            let known = info.partitions.get(i).copied();
            if known.is_some_and(|k| k.leader_epoch >= u.leader_epoch) {
                continue;
            }
            let info = Arc::make_mut(info);
            if let Some(slot) = info.partitions.get_mut(i) {
                *slot = PartitionLeader { leader: u.leader, leader_epoch: u.leader_epoch };
            }
            info.available = (0..info.partitions.len())
                .filter(|&i| info.partitions.get(i).is_some_and(|p| p.leader >= 0))
                .filter_map(|i| i32::try_from(i).ok())
                .collect();
            moved.push((Arc::clone(&u.topic), u.partition));
        }
        if moved.is_empty() {
            return moved;
        }
        s.cluster = Arc::new(cluster);
        s.version = s.version.wrapping_add(1);
        self.generation.store(s.version, Ordering::Release);
        drop(s);
        self.updated.notify_all();
        moved
    }

    /// Re-bootstraps (KIP-899): forgets every broker and topic of the last metadata, so the next
    /// connection goes to `bootstrap.servers` (resolved afresh) and sends wait for the metadata that
    /// answer brings. Batches already queued stay queued; they drain once their leaders are known again.
    ///
    /// # Thread
    /// The sender thread.
    pub fn rebootstrap(&self, why: &str) {
        log::info!("re-bootstrapping from bootstrap.servers: {why}");
        let mut s = self.state.lock();
        s.cluster = Arc::new(Cluster::default());
        s.need_update = true;
        s.version = s.version.wrapping_add(1);
        self.generation.store(s.version, Ordering::Release);
        drop(s);
        self.updated.notify_all();
    }

    /// Marks a refresh attempt as failed: keeps the request pending (the sender backs off).
    pub fn failed_update(&self) {
        let mut s = self.state.lock();
        s.need_update = true;
    }

    /// Where broker `node_id` is, per the current snapshot.
    pub fn broker_address(&self, node_id: i32) -> Option<(String, u16)> {
        self.state.lock().cluster.brokers.get(&node_id).map(|b| (b.host.clone(), b.port))
    }

    /// The node ids of the brokers in the current snapshot.
    pub fn broker_ids(&self) -> Vec<i32> {
        self.state.lock().cluster.brokers.keys().copied().collect()
    }

    /// Remembers why the connection to broker `address` failed, for [`missing_cause`](Self::missing_cause).
    pub fn note_broker_failure(&self, address: &str, why: &str) {
        let mut s = self.state.lock();
        if let Some(old) = s.broker_failures.get_mut(address) {
            old.clear();
            old.push_str(why);
        } else {
            s.broker_failures.insert(address.to_owned(), why.to_owned());
        }
    }

    /// Forgets broker `address`'s failures once a connection to it completed its handshake.
    pub fn note_broker_ready(&self, address: &str) {
        let mut s = self.state.lock();
        if !s.broker_failures.is_empty() {
            s.broker_failures.remove(address);
        }
    }

    /// Why `topic` (or its `partition`) is not in the metadata: the error the brokers answered for it,
    /// its partition count, or why no broker could be reached. `None` when there is nothing to add.
    pub fn missing_cause(&self, topic: &str, partition: Option<i32>) -> Option<String> {
        let s = self.state.lock();
        if let Some(code) = s.pending_errors.get(topic) {
            return Some(format!("the brokers answer {code} for it"));
        }
        if let (Some(t), Some(p)) = (s.cluster.topics.get(topic), partition) {
            return Some(format!(
                "partition {p} does not exist: the topic has {} partitions",
                t.partitions.len()
            ));
        }
        let failures = s
            .broker_failures
            .iter()
            .map(|(address, why)| format!("{address}: {why}"))
            .collect::<Vec<_>>()
            .join("; ");
        match (s.last_refresh.is_some(), failures.is_empty()) {
            (false, false) => Some(format!("no broker answered ({failures})")),
            (false, true) => Some("no broker answered yet".into()),
            (true, false) => Some(format!("failing brokers: {failures}")),
            (true, true) => None,
        }
    }

    /// A connection failed to authenticate: sends fail with `error` until one succeeds. Cached lookups
    /// stop being current, so sends on the fast path see it too, and waiting sends wake.
    ///
    /// # Thread
    /// The sender thread.
    pub fn note_auth_failure(&self, error: Error) {
        let mut s = self.state.lock();
        s.auth_failure = Some(error);
        s.version = s.version.wrapping_add(1);
        self.generation.store(s.version, Ordering::Release);
        drop(s);
        self.updated.notify_all();
    }

    /// How long ago the last refresh completed (metadata-age), if one has.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.state.lock().last_refresh.map(|t| now.saturating_duration_since(t))
    }

    /// The last authentication failure, while no connection has authenticated since.
    pub fn auth_failure(&self) -> Option<Error> {
        self.state.lock().auth_failure.clone()
    }

    /// A connection authenticated: the last authentication failure no longer holds.
    pub fn note_authenticated(&self) {
        let mut s = self.state.lock();
        if s.auth_failure.is_some() {
            s.auth_failure = None;
        }
    }

    /// Wakes every waiter for good.
    pub fn close(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        // Cached lookups stop being current, so the next send sees the close.
        s.version = s.version.wrapping_add(1);
        self.generation.store(s.version, Ordering::Release);
        drop(s);
        self.updated.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::metadata::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    fn response(topic: &str, leaders: &[i32], code: ErrorCode) -> MetadataResponse {
        MetadataResponse {
            brokers: vec![MetadataResponseBroker { node_id: 1, host: "h".into(), port: 9092, rack: None }],
            topics: vec![MetadataResponseTopic {
                error_code: code,
                name: Some(topic.into()),
                partitions: leaders
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| MetadataResponsePartition {
                        partition_index: i as i32,
                        leader_id: l,
                        leader_epoch: 3,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn new_topic_is_missing_then_found() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(300));
        let now = Instant::now();
        assert!(matches!(m.lookup("t", now).unwrap(), Lookup::Missing(_)));
        let wanted = m.due(now).unwrap();
        assert_eq!(wanted, vec![Arc::<str>::from("t")]);
        m.update(&response("t", &[1, -1, 1], ErrorCode::NONE), &wanted, now);
        let Lookup::Found(t, ..) = m.lookup("t", now).unwrap() else { panic!("missing") };
        let c = m.cluster();
        assert_eq!(t.num_partitions(), 3);
        assert_eq!(t.available, vec![0, 2]);
        assert_eq!(t.leader(1), None);
        assert_eq!(c.brokers[&1].port, 9092);
        // A leaderless partition asks for another refresh straight away.
        assert!(m.due(now).is_some());
        m.update(&response("t", &[1, 1, 1], ErrorCode::NONE), &wanted, now);
        assert!(m.due(now).is_none());
        let _ = m.lookup("t", now + Duration::from_secs(300));
        assert!(m.due(now + Duration::from_secs(301)).is_some(), "periodic refresh");
        assert!(m.due(now + Duration::from_secs(700)).is_none(), "idle topics are not refreshed");
    }

    #[test]
    fn fatal_topic_errors_fail_lookups() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(300));
        let now = Instant::now();
        let _ = m.lookup("t", now);
        let wanted = m.due(now).unwrap();
        m.update(&response("t", &[], ErrorCode::TOPIC_AUTHORIZATION_FAILED), &wanted, now);
        assert!(matches!(
            m.lookup("t", now),
            Err(Error::Broker { code: ErrorCode::TOPIC_AUTHORIZATION_FAILED, .. })
        ));
        // UNKNOWN_TOPIC_OR_PARTITION is retriable: still missing, refresh pending.
        m.update(&response("t", &[], ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), &wanted, now);
        assert!(matches!(m.lookup("t", now).unwrap(), Lookup::Missing(_)));
    }

    #[test]
    fn a_touched_topic_is_not_idle_and_generation_follows_refreshes_and_close() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(10));
        let now = Instant::now();
        let _ = m.lookup("a", now);
        let _ = m.lookup("b", now);
        m.update(&response("a", &[1], ErrorCode::NONE), &[Arc::from("a"), Arc::from("b")], now);
        let g = m.generation();
        let Lookup::Found(_, version, touched) = m.lookup("a", now).unwrap() else { panic!("missing") };
        assert_eq!(version, g, "the generation mirrors the version a lookup reports");
        // Sends through a cached entry only set the flag; the refresh counts that as a use.
        touched.store(true, Ordering::Relaxed);
        m.request_update();
        let wanted = m.due(now + Duration::from_secs(12)).unwrap();
        assert_eq!(wanted, vec![Arc::<str>::from("a")], "b was idle, a was touched");
        assert!(!touched.load(Ordering::Relaxed), "the flag is folded in and cleared");
        m.close();
        assert_ne!(m.generation(), g, "close invalidates cached lookups");
        assert!(m.lookup("a", now).is_err());
    }

    #[test]
    fn partitions_that_are_not_0_to_n_keep_the_previous_view() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(300));
        let now = Instant::now();
        let _ = m.lookup("t", now);
        let wanted = m.due(now).unwrap();
        m.update(&response("t", &[1, 1], ErrorCode::NONE), &wanted, now);
        for indexes in [vec![5_000_000], vec![0, 2], vec![0, 0, 1], vec![-1, 0]] {
            let mut r = response("t", &vec![1; indexes.len()], ErrorCode::NONE);
            for (p, i) in r.topics[0].partitions.iter_mut().zip(&indexes) {
                p.partition_index = *i;
            }
            m.update(&r, &wanted, now);
            let Lookup::Found(t, ..) = m.lookup("t", now).unwrap() else { panic!("missing") };
            assert_eq!(t.num_partitions(), 2, "{indexes:?}: the old view stays");
            assert!(m.due(now).is_some(), "{indexes:?}: and a refresh is asked for");
        }
        // A topic first seen with a broken answer stays missing.
        let _ = m.lookup("u", now);
        let mut r = response("u", &[1], ErrorCode::NONE);
        r.topics[0].partitions[0].partition_index = 3;
        m.update(&r, &[Arc::from("t"), Arc::from("u")], now);
        assert!(matches!(m.lookup("u", now).unwrap(), Lookup::Missing(_)));
    }

    #[test]
    fn missing_cause_says_what_is_known() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(300));
        let now = Instant::now();
        assert_eq!(m.missing_cause("t", None).as_deref(), Some("no broker answered yet"));
        m.note_broker_failure("h:1", "Connection refused");
        m.note_broker_failure("h:2", "cannot resolve the host");
        assert_eq!(
            m.missing_cause("t", None).as_deref(),
            Some("no broker answered (h:1: Connection refused; h:2: cannot resolve the host)")
        );
        m.note_broker_ready("h:1");
        m.note_broker_ready("h:2");
        let _ = m.lookup("t", now);
        let wanted = m.due(now).unwrap();
        m.update(&response("t", &[], ErrorCode::UNKNOWN_TOPIC_OR_PARTITION), &wanted, now);
        assert!(m.missing_cause("t", None).unwrap().contains("UNKNOWN_TOPIC_OR_PARTITION"));
        m.update(&response("t", &[1], ErrorCode::NONE), &wanted, now);
        assert_eq!(m.missing_cause("t", None), None);
        assert!(m.missing_cause("t", Some(4)).unwrap().contains("has 1 partitions"));
    }

    #[test]
    fn an_older_leader_epoch_never_replaces_a_newer_one_unless_the_topic_is_new() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(300));
        let now = Instant::now();
        let _ = m.lookup("t", now);
        let wanted = m.due(now).unwrap();
        m.update(&response("t", &[1], ErrorCode::NONE), &wanted, now);
        let moved = m.update_leadership(
            &[LeaderUpdate { topic: Arc::from("t"), partition: 0, leader: 2, leader_epoch: 7 }],
            &[NodeEndpoint { node_id: 2, host: "h2".into(), port: 1, rack: None }],
        );
        assert_eq!(moved, vec![(Arc::<str>::from("t"), 0)]);
        // A lagging broker still reports leader 1 at epoch 3: the cache keeps epoch 7's leader.
        m.update(&response("t", &[1], ErrorCode::NONE), &wanted, now);
        assert_eq!(m.cluster().topics["t"].leader(0), Some(2));
        // Updates for unknown nodes, unknown partitions or old epochs are ignored.
        for u in [
            LeaderUpdate { topic: Arc::from("t"), partition: 0, leader: 9, leader_epoch: 8 },
            LeaderUpdate { topic: Arc::from("t"), partition: 4, leader: 1, leader_epoch: 8 },
            LeaderUpdate { topic: Arc::from("t"), partition: 0, leader: 1, leader_epoch: 7 },
            LeaderUpdate { topic: Arc::from("u"), partition: 0, leader: 1, leader_epoch: 8 },
        ] {
            assert!(m.update_leadership(std::slice::from_ref(&u), &[]).is_empty(), "{u:?}");
        }
        // The topic recreated (a new id): its first answer is taken whatever the epochs.
        let mut r = response("t", &[1], ErrorCode::NONE);
        r.topics[0].topic_id = Uuid([5; 16]);
        m.update(&r, &wanted, now);
        assert_eq!(m.cluster().topics["t"].leader(0), Some(1));
    }

    #[test]
    fn idle_topics_are_dropped() {
        let m = Metadata::new(Duration::from_secs(300), Duration::from_secs(10));
        let now = Instant::now();
        let _ = m.lookup("a", now);
        let _ = m.lookup("b", now + Duration::from_secs(8));
        let wanted = m.due(now + Duration::from_secs(12)).unwrap();
        assert_eq!(wanted, vec![Arc::<str>::from("b")]);
    }
}
