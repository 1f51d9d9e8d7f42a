//! Java's `Sender` and `NetworkClient`: the one I/O thread. It runs a `mio` event loop over the broker
//! connections, keeps metadata fresh, drains ready batches into Produce requests, and completes batches
//! from the responses. It is the only code that touches sockets.
//!
//! Completions leave this thread at once: a batch's shared result is set here (waking `wait`ers), and its
//! callbacks go to the callback thread over a channel, so a slow callback never stalls delivery.

pub mod connection;
pub mod metadata;
mod transactions;

use std::collections::{HashMap, HashSet};
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender as ChannelSender;
use mio::{Events, Poll, Token, Waker};
use parking_lot::{Mutex, RwLock};

use self::connection::{ConnState, Connection, InFlight, RequestKind, SocketOptions};
use self::metadata::{Cluster, Metadata};
use crate::accumulator::{BatchAck, Completions, ProducerBatch, RecordAccumulator, TopicPartition};
use crate::error::Error;
use crate::partitioner::{LeaderLatency, LoadStatsBuilder, StickyPartitioner};
use crate::protocol::messages::init_producer_id::InitProducerIdRequest;
use crate::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use crate::protocol::messages::produce::{
    ProduceFrame, ProducePartition, ProduceRequest, ProduceResponse, ProduceTopic,
};
use crate::protocol::primitives::Uuid;
use crate::protocol::record::NO_TIMESTAMP;
use crate::protocol::{decode_response, encode_request, ErrorCode};
use crate::txn::transactional::{Transactional, TxnState};
use crate::txn::{Recovery, TransactionManager};

/// The poll token of the waker application threads use.
pub const WAKE_TOKEN: Token = Token(0);

/// The sender's settings (the producer properties of the same names).
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// `bootstrap.servers`, parsed.
    pub bootstrap: Vec<(String, u16)>,
    /// `client.id`.
    pub client_id: Arc<str>,
    /// `acks` as sent (0, 1, -1).
    pub acks: i16,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: usize,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// `delivery.timeout.ms`.
    pub delivery_timeout: Duration,
    /// `retries`.
    pub retries: u32,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Duration,
    /// `max.request.size`.
    pub max_request_size: usize,
    /// `reconnect.backoff.ms`.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms`.
    pub reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms`.
    pub connection_setup_timeout: Duration,
    /// `connections.max.idle.ms`.
    pub connections_max_idle: Option<Duration>,
    /// Socket buffer sizes.
    pub socket: SocketOptions,
    /// `enable.idempotence`.
    pub idempotence: bool,
    /// `transaction.timeout.ms`, sent in InitProducerId.
    pub transaction_timeout: Duration,
}

/// State shared between the producer's application threads and the sender thread.
#[derive(Debug)]
pub struct SenderShared {
    /// Where records wait.
    pub accumulator: Arc<RecordAccumulator>,
    /// The cluster view.
    pub metadata: Arc<Metadata>,
    /// Wakes the sender's poll: rung when a batch becomes ready, on flush and on close, never per record.
    pub waker: Waker,
    /// Set by the first [`wake`](Self::wake) after the sender's last look at the shared state, cleared by
    /// the sender before it looks again: while set, a wake-up is already on its way and later wakes skip
    /// the `eventfd` write (one syscall per sender turn at most, not one per batch).
    pub wake_pending: AtomicBool,
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
}

impl SenderShared {
    /// Wakes the sender thread, unless a wake-up is already pending.
    pub fn wake(&self) {
        // The plain load keeps the common case (already pending) free of a contended write.
        if self.wake_pending.load(Ordering::Acquire) || self.wake_pending.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the sender thread: {e}");
        }
    }

    /// Called by the sender before each look at the shared state: wakes after this point ring again.
    fn clear_wake(&self) {
        self.wake_pending.store(false, Ordering::SeqCst);
        // The store must be visible before the sender reads the queues (store-load order).
        std::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Per-node reconnect backoff.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    next_attempt: Instant,
}

/// The sender thread's state (Java's `Sender` with its `NetworkClient`).
pub struct Sender {
    config: SenderConfig,
    shared: Arc<SenderShared>,
    poll: Poll,
    completions: ChannelSender<Completions>,
    /// Connections by node id (negative ids are bootstrap servers).
    connections: HashMap<i32, Connection>,
    tokens: HashMap<Token, i32>,
    next_token: usize,
    backoff: HashMap<i32, Backoff>,
    /// Partitions with a request in flight, when ordering must be kept (`max.in.flight` = 1).
    muted: HashSet<TopicPartition>,
    guarantee_order: bool,
    metadata_failures: u32,
    next_metadata_attempt: Instant,
    /// Rotates the node asked for metadata when none is connected.
    next_bootstrap: usize,
    frame: ProduceFrame,
    rng: u64,
    /// Per node: when it last had ready data and when it was last drained (Java's `NodeLatencyStats`).
    node_latency: HashMap<i32, LeaderLatency>,
    /// When the load stats were last fed to the partitioners.
    last_load_stats: Instant,
    started: Instant,
    /// The idempotent producer's state, when idempotence is on.
    txn: Option<TransactionManager>,
    /// The transaction state (shared with the application threads), when transactional.
    transactional: Option<Arc<Transactional>>,
    /// Coordinator addresses learnt from FindCoordinator, for nodes metadata does not list.
    extra_addresses: HashMap<i32, (String, u16)>,
    init_failures: u32,
    next_init_attempt: Instant,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("connections", &self.connections.len()).finish_non_exhaustive()
    }
}

/// Metadata errors that mean our view of leadership is stale.
fn invalidates_metadata(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::KAFKA_STORAGE_ERROR
            | ErrorCode::NETWORK_EXCEPTION
            | ErrorCode::REQUEST_TIMED_OUT
    )
}

impl Sender {
    /// A sender over `poll` (whose registry `shared.waker` was built with).
    pub fn new(
        config: SenderConfig,
        shared: Arc<SenderShared>,
        poll: Poll,
        completions: ChannelSender<Completions>,
    ) -> Self {
        let guarantee_order = config.max_in_flight == 1 && !config.idempotence;
        let transactional = shared.transactional.clone();
        let txn = (config.idempotence || transactional.is_some())
            .then(|| TransactionManager::new(transactional.is_some()));
        let seed = Instant::now().elapsed().as_nanos() as u64 ^ (std::process::id() as u64).rotate_left(32);
        Sender {
            config,
            shared,
            poll,
            completions,
            connections: HashMap::new(),
            tokens: HashMap::new(),
            next_token: 1,
            backoff: HashMap::new(),
            muted: HashSet::new(),
            guarantee_order,
            metadata_failures: 0,
            next_metadata_attempt: Instant::now(),
            next_bootstrap: 0,
            frame: ProduceFrame::default(),
            rng: seed | 1,
            node_latency: HashMap::new(),
            last_load_stats: Instant::now(),
            started: Instant::now(),
            txn,
            transactional,
            extra_addresses: HashMap::new(),
            init_failures: 0,
            next_init_attempt: Instant::now(),
        }
    }

    /// Runs the event loop until the producer closes.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            self.shared.clear_wake();
            let now = Instant::now();
            if self.shared.force_close.load(Ordering::Acquire) {
                self.abort_all(&Error::Closed);
                break;
            }
            let timeout = self.run_once(now);
            log::trace!("poll for {timeout:?}");
            if self.shared.closing.load(Ordering::Acquire) && self.is_idle() {
                break;
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    log::error!("sender poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            let now = Instant::now();
            for ev in events.iter() {
                let Some(&node) = self.tokens.get(&ev.token()) else { continue };
                self.on_event(
                    node,
                    ev.is_readable() || ev.is_read_closed(),
                    ev.is_writable() || ev.is_error(),
                    now,
                );
            }
        }
        let registry_conns: Vec<i32> = self.connections.keys().copied().collect();
        for node in registry_conns {
            if let Some(mut c) = self.connections.remove(&node) {
                c.close(self.poll.registry());
            }
        }
        self.shared.metadata.close();
    }

    /// True when nothing is left to send or wait for.
    fn is_idle(&self) -> bool {
        let acc = &self.shared.accumulator;
        !acc.has_incomplete() && !acc.appends_in_progress() && !acc.has_orphan_completions()
    }

    /// One turn of the loop; returns how long to poll.
    fn run_once(&mut self, now: Instant) -> Duration {
        let mut timeout = Duration::from_secs(1);
        self.check_timeouts(now, &mut timeout);
        self.maybe_update_metadata(now, &mut timeout);

        self.maybe_init_producer_id(now, &mut timeout);
        self.drive_transactions(now, &mut timeout);
        let acc = Arc::clone(&self.shared.accumulator);
        for c in acc.take_orphan_completions() {
            self.deliver(Some(c));
        }
        let ready = acc.ready(now);
        let may_produce = self.txn.as_ref().map_or(true, TransactionManager::can_send)
            && self.transactional.as_ref().map_or(true, |t| {
                matches!(t.inner.lock().state, TxnState::InTransaction | TxnState::Committing)
            });
        if let Some(d) = ready.next_ready_check_delay {
            timeout = timeout.min(d);
        }
        let cluster = self.shared.metadata.cluster();
        let mut by_node: HashMap<i32, Vec<TopicPartition>> = HashMap::new();
        let mut unknown_leader = false;
        for tp in ready.ready {
            if self.muted.contains(&tp) {
                continue;
            }
            match cluster.topics.get(&tp.topic).and_then(|t| t.leader(tp.partition)) {
                Some(node) => by_node.entry(node).or_default().push(tp),
                None => unknown_leader = true,
            }
        }
        if unknown_leader {
            self.shared.metadata.request_update();
            timeout = timeout.min(self.next_metadata_attempt.saturating_duration_since(now));
        }
        let now_ms =
            i64::try_from(now.saturating_duration_since(self.started).as_millis()).unwrap_or(i64::MAX);
        for (node, parts) in by_node {
            self.node_latency
                .entry(node)
                .or_insert(LeaderLatency { ready_time_ms: now_ms, drain_time_ms: now_ms })
                .ready_time_ms = now_ms;
            match self.connections.get(&node) {
                None => self.connect(node, &cluster, now, &mut timeout),
                Some(_) if !may_produce => {}
                Some(c) if c.can_send(self.config.max_in_flight, now) => {
                    if let Some(l) = self.node_latency.get_mut(&node) {
                        l.drain_time_ms = now_ms;
                    }
                    // A partition gives one batch per request; if more are queued behind it, look
                    // again at once instead of sleeping until an event (acks=0 brings none).
                    if self.send_produce(node, &parts, &cluster, now) {
                        timeout = Duration::ZERO;
                    }
                }
                Some(c) => {
                    if let Some(t) = c.throttled_until {
                        timeout = timeout.min(t.saturating_duration_since(now));
                    }
                }
            }
        }

        self.update_load_stats(&cluster, now);
        for batch in acc.expire(now, self.config.delivery_timeout) {
            self.muted.remove(batch.topic_partition());
            if let Some(tm) = self.txn.as_mut() {
                tm.on_abandoned(&batch);
            }
            self.txn_batch_failed(&Error::DeliveryTimeout);
            self.finish(batch, Err(Error::DeliveryTimeout));
        }
        for c in self.connections.values() {
            if let Some(d) = c.next_deadline() {
                timeout = timeout.min(d.saturating_duration_since(now));
            }
            if c.state != ConnState::Ready {
                let d = c.started + self.config.connection_setup_timeout;
                timeout = timeout.min(d.saturating_duration_since(now));
            }
        }
        timeout
    }

    /// Feeds each topic's sticky partitioner the queue depth of its partitions (Java does this in
    /// `ready`), at most every 10 ms: keyless records then favour partitions whose leaders keep up.
    fn update_load_stats(&mut self, cluster: &Cluster, now: Instant) {
        if !self.shared.adaptive
            || now.saturating_duration_since(self.last_load_stats) < Duration::from_millis(10)
        {
            return;
        }
        self.last_load_stats = now;
        let topics: Vec<(Arc<str>, Arc<StickyPartitioner>)> =
            self.shared.sticky.read().iter().map(|(t, p)| (Arc::clone(t), Arc::clone(p))).collect();
        for (topic, partitioner) in topics {
            let Some(info) = cluster.topics.get(&topic) else { continue };
            let sizes: HashMap<i32, usize> =
                self.shared.accumulator.queue_sizes(&topic).into_iter().collect();
            let mut b = LoadStatsBuilder::new(info.partitions.len(), self.shared.availability_timeout_ms);
            for p in 0..info.num_partitions() {
                match info.leader(p) {
                    Some(leader) => {
                        let n = u32::try_from(sizes.get(&p).copied().unwrap_or(0)).unwrap_or(u32::MAX);
                        b.push(p, n, self.node_latency.get(&leader).copied());
                    }
                    None => b.push_leaderless(),
                }
            }
            b.finish(&partitioner);
        }
    }

    /// Completes `batch` with `outcome` and hands its callbacks to the callback thread.
    fn finish(&self, batch: ProducerBatch, outcome: Result<BatchAck, Error>) {
        self.deliver(self.shared.accumulator.complete(batch, outcome));
    }

    /// Hands a batch's callbacks to the callback thread.
    fn deliver(&self, completions: Option<Completions>) {
        if let Some(c) = completions.filter(Completions::has_callbacks) {
            // The receiver lives until the sender has stopped; a send error means the producer is gone.
            let _ = self.completions.send(c);
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: jitter needs no cryptographic quality.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Java's `ExponentialBackoff`: `base * 2^attempts`, capped at `max`, with ±20% jitter.
    fn backoff(&mut self, base: Duration, max: Duration, attempts: u32) -> Duration {
        let exp = base.saturating_mul(1u32 << attempts.min(20)).min(max.max(base));
        let jitter = (self.next_random() % 401) as f64 / 1000.0 + 0.8;
        exp.mul_f64(jitter)
    }

    fn check_timeouts(&mut self, now: Instant, timeout: &mut Duration) {
        let mut dead = Vec::new();
        for (&node, c) in &self.connections {
            if c.state != ConnState::Ready && now >= c.started + self.config.connection_setup_timeout {
                dead.push((node, ErrorCode::NETWORK_EXCEPTION, "connection set-up timed out"));
            } else if c.next_deadline().is_some_and(|d| now >= d) {
                dead.push((node, ErrorCode::REQUEST_TIMED_OUT, "request timed out"));
            } else if let Some(idle) = self.config.connections_max_idle {
                if c.in_flight_count() == 0 && now.saturating_duration_since(c.last_activity) >= idle {
                    // An empty reason: closing an idle connection is no failure to report.
                    dead.push((node, ErrorCode::NETWORK_EXCEPTION, ""));
                }
            }
        }
        for (node, code, why) in dead {
            log::debug!("closing connection to node {node}: {why}");
            self.disconnect(node, code, why, now);
            *timeout = Duration::ZERO;
        }
    }

    fn address(&self, node: i32, cluster: &Cluster) -> Option<(String, u16)> {
        if node >= 0 {
            cluster.brokers.get(&node).map(|b| (b.host.clone(), b.port))
        } else {
            usize::try_from(-(node + 1)).ok().and_then(|i| self.config.bootstrap.get(i)).cloned()
        }
        .or_else(|| self.extra_addresses.get(&node).cloned())
    }

    /// Starts connecting to `node` unless it is backing off.
    fn connect(&mut self, node: i32, cluster: &Cluster, now: Instant, timeout: &mut Duration) {
        if let Some(b) = self.backoff.get(&node) {
            if now < b.next_attempt {
                *timeout = (*timeout).min(b.next_attempt - now);
                return;
            }
        }
        let Some((host, port)) = self.address(node, cluster) else {
            self.shared.metadata.request_update();
            return;
        };
        let addr = match (host.as_str(), port).to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(a)) => a,
            Ok(None) | Err(_) => {
                log::warn!("cannot resolve {host}:{port} (node {node})");
                self.shared
                    .metadata
                    .note_broker_failure(&format!("{host}:{port}"), "cannot resolve the host");
                // As Java does on a failed connect: the address may have changed.
                self.shared.metadata.request_update();
                self.connection_failed(node, now, timeout);
                return;
            }
        };
        let token = Token(self.next_token);
        self.next_token += 1;
        match Connection::connect(
            node,
            addr,
            token,
            self.poll.registry(),
            self.config.socket,
            Arc::clone(&self.config.client_id),
            now,
        ) {
            Ok(mut c) => {
                log::debug!("connecting to node {node} at {addr}");
                c.address = format!("{host}:{port}");
                self.tokens.insert(token, node);
                self.connections.insert(node, c);
            }
            Err(e) => {
                log::warn!("connect to node {node} at {addr} failed: {e}");
                self.shared.metadata.note_broker_failure(&format!("{host}:{port}"), &e.to_string());
                self.shared.metadata.request_update();
                self.connection_failed(node, now, timeout);
            }
        }
    }

    fn connection_failed(&mut self, node: i32, now: Instant, timeout: &mut Duration) {
        // A coordinator that cannot be reached is looked up again (Java's `lookupCoordinator` when
        // the coordinator node is not ready): it may have moved to a live broker.
        self.txn_node_failed(node, now);
        let failures = self.backoff.get(&node).map_or(0, |b| b.failures.saturating_add(1));
        let wait = self.backoff(self.config.reconnect_backoff, self.config.reconnect_backoff_max, failures);
        self.backoff.insert(node, Backoff { failures, next_attempt: now + wait });
        *timeout = (*timeout).min(wait);
    }

    /// Closes a connection and settles everything that was in flight on it as lost: Produce batches
    /// are retried or failed with `code` (NETWORK_EXCEPTION or REQUEST_TIMED_OUT), every other request
    /// clears what sending it set and is tried again later. `why` is kept for error messages.
    fn disconnect(&mut self, node: i32, code: ErrorCode, why: &str, now: Instant) {
        let Some(mut c) = self.connections.remove(&node) else { return };
        c.close(self.poll.registry());
        self.tokens.remove(&c.token);
        if !why.is_empty() {
            self.shared.metadata.note_broker_failure(&c.address, why);
        }
        let mut ignored = Duration::ZERO;
        if c.state != ConnState::Ready {
            self.connection_failed(node, now, &mut ignored);
        } else {
            if !why.is_empty() {
                self.txn_node_failed(node, now);
            }
            self.backoff
                .insert(node, Backoff { failures: 0, next_attempt: now + self.config.reconnect_backoff });
        }
        for req in c.take_in_flight() {
            self.fail_request(req.kind, code, now);
        }
        self.shared.metadata.request_update();
    }

    /// Settles a request that will get no answer: completes what it carried (a Produce request's batches
    /// are retried or failed with `code`) and clears what sending it set.
    fn fail_request(&mut self, kind: RequestKind, code: ErrorCode, now: Instant) {
        match kind {
            RequestKind::Produce { frame, batches } => {
                self.frame = frame;
                for b in batches {
                    self.complete_batch(b, Err((code, None)), now);
                }
            }
            RequestKind::Metadata(_) => self.metadata_failed(now),
            RequestKind::InitProducerId => self.init_failed(now),
            RequestKind::Txn(what) => self.txn_request_lost(what, now),
            // The handshake belongs to the connection, which is gone with it.
            RequestKind::ApiVersions => {}
        }
    }

    /// True when some connection has a request in flight that `is` matches: the one source of truth
    /// for "a metadata refresh / InitProducerId / transactional request is in flight", so no flag can
    /// outlive its request.
    fn in_flight_where(&self, is: impl Fn(&RequestKind) -> bool) -> bool {
        self.connections.values().any(|c| c.in_flight.iter().any(|r| is(&r.kind)))
    }

    fn metadata_failed(&mut self, now: Instant) {
        self.metadata_failures = self.metadata_failures.saturating_add(1);
        let wait =
            self.backoff(self.config.retry_backoff, self.config.retry_backoff_max, self.metadata_failures);
        self.next_metadata_attempt = now + wait;
        self.shared.metadata.failed_update();
    }

    /// The least loaded connection that can take a request now; when there is none and nothing is
    /// connecting, starts a connection to the next broker (or bootstrap server) and returns `None`.
    fn ready_node(&mut self, now: Instant, timeout: &mut Duration) -> Option<i32> {
        let max_in_flight = self.config.max_in_flight;
        let node = self
            .connections
            .values()
            .filter(|c| c.can_send(max_in_flight, now))
            .min_by_key(|c| c.in_flight_count())
            .map(|c| c.node_id);
        if node.is_none() {
            if self.connections.values().all(|c| c.state == ConnState::Ready) {
                // Nothing connecting: start a connection to the next candidate.
                let cluster = self.shared.metadata.cluster();
                let mut candidates: Vec<i32> = cluster.brokers.keys().copied().collect();
                candidates.sort_unstable();
                if candidates.is_empty() {
                    candidates = (0..self.config.bootstrap.len()).map(|i| -(i as i32) - 1).collect();
                }
                if candidates.is_empty() {
                    return None;
                }
                let n = candidates.len();
                for i in 0..n {
                    let node = candidates[(self.next_bootstrap + i) % n];
                    if self.connections.contains_key(&node) {
                        continue;
                    }
                    if self.backoff.get(&node).is_some_and(|b| now < b.next_attempt) {
                        continue;
                    }
                    self.next_bootstrap = (self.next_bootstrap + i + 1) % n;
                    self.connect(node, &cluster, now, timeout);
                    return None;
                }
                // Everyone is backing off: come back when the first may be tried.
                if let Some(t) = self.backoff.values().map(|b| b.next_attempt).filter(|&t| t > now).min() {
                    *timeout = (*timeout).min(t - now);
                }
            }
            return None;
        }
        node
    }

    /// Sends a metadata request when one is due, to the least loaded ready connection, connecting to a
    /// broker (or a bootstrap server) when there is none.
    fn maybe_update_metadata(&mut self, now: Instant, timeout: &mut Duration) {
        if self.in_flight_where(|k| matches!(k, RequestKind::Metadata(_))) {
            return;
        }
        let due_in = self.shared.metadata.time_to_next_update(now);
        if due_in > Duration::ZERO {
            *timeout = (*timeout).min(due_in);
            return;
        }
        if now < self.next_metadata_attempt {
            *timeout = (*timeout).min(self.next_metadata_attempt - now);
            return;
        }
        let Some(node) = self.ready_node(now, timeout) else { return };
        let Some(topics) = self.shared.metadata.due(now) else { return };
        let Some(c) = self.connections.get_mut(&node) else { return };
        let Some(version) = c.version_for::<MetadataRequest>() else {
            log::error!("node {node} supports no Metadata version kprod speaks");
            return;
        };
        let req = MetadataRequest {
            topics: Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic { topic_id: Uuid::ZERO, name: Some(t.to_string()) })
                    .collect(),
            ),
            allow_auto_topic_creation: true,
            ..Default::default()
        };
        let id = c.next_id();
        let mut out = Vec::new();
        if let Err(e) = encode_request(&mut out, version, id, Some(&self.config.client_id), &req) {
            log::error!("cannot encode a Metadata request: {e}");
            return;
        }
        c.push(id, version, RequestKind::Metadata(topics), out, true, now + self.config.request_timeout);
        self.next_metadata_attempt = now + self.config.retry_backoff;
        self.flush_writes(node, now);
    }

    /// Drains the ready partitions led by `node` into one Produce request.
    /// Returns true when a request was sent.
    fn send_produce(&mut self, node: i32, parts: &[TopicPartition], cluster: &Cluster, now: Instant) -> bool {
        let acc = Arc::clone(&self.shared.accumulator);
        let txn_context = self.txn_produce_context();
        let in_txn = txn_context.as_ref().and_then(|(_, _, f)| f.as_ref());
        let tm = self.txn.as_ref();
        let (batches, failed) = acc.drain_where(parts, self.config.max_request_size, now, &mut |b| {
            tm.map_or(true, |t| t.can_drain(b))
                && in_txn.map_or(true, |set| set.contains(b.topic_partition()))
        });
        for c in failed {
            self.deliver(Some(c));
        }
        let mut batches = match self.txn.as_mut() {
            None => batches,
            Some(tm) => {
                let mut stamped = Vec::with_capacity(batches.len());
                let mut broken = Vec::new();
                for mut b in batches {
                    match tm.assign(&mut b) {
                        Ok(()) => stamped.push(b),
                        Err(e) => broken.push((b, e)),
                    }
                }
                for (b, e) in broken {
                    self.finish(b, Err(e));
                }
                stamped
            }
        };
        log::trace!("drained {} batches for node {node}", batches.len());

        if batches.is_empty() {
            return false;
        }
        batches.sort_by(|a, b| a.topic_partition().cmp(b.topic_partition()));
        if !self.connections.contains_key(&node) {
            // Cannot happen (the caller checked), but never drop drained batches: retry them.
            for b in batches {
                self.complete_batch(b, Err((ErrorCode::NETWORK_EXCEPTION, None)), now);
            }
            return false;
        }
        let Some(c) = self.connections.get_mut(&node) else { return false };
        let Some(mut version) = c.version_for::<ProduceRequest>() else {
            for b in batches {
                self.complete_batch(b, Err((ErrorCode::UNSUPPORTED_VERSION, None)), now);
            }
            return false;
        };
        // Produce v13 names topics by id; fall back to v12 when an id is unknown.
        let id_of = |t: &str| cluster.topics.get(t).map_or(Uuid::ZERO, |i| i.topic_id);
        if version >= 13 && batches.iter().any(|b| id_of(&b.topic_partition().topic) == Uuid::ZERO) {
            version = 12;
        }
        let transactional_id = txn_context.as_ref().map(|(id, cap, _)| {
            version = version.min(*cap);
            id.as_str()
        });
        let mut topics: Vec<ProduceTopic<'_>> = Vec::new();
        for b in &batches {
            let tp = b.topic_partition();
            let part = ProducePartition {
                index: tp.partition,
                records_len: b.sealed_bytes().map_or(0, <[u8]>::len),
            };
            match topics.last_mut() {
                Some(t) if t.name == &*tp.topic => t.partitions.push(part),
                _ => topics.push(ProduceTopic {
                    name: &tp.topic,
                    topic_id: id_of(&tp.topic),
                    partitions: vec![part],
                }),
            }
        }
        let id = c.next_id();
        let timeout_ms = i32::try_from(self.config.request_timeout.as_millis()).unwrap_or(i32::MAX);
        let mut frame = std::mem::take(&mut self.frame);
        let encoded = frame.encode(
            version,
            id,
            Some(&self.config.client_id),
            transactional_id,
            self.config.acks,
            timeout_ms,
            &topics,
        );
        drop(topics);
        if let Err(e) = encoded {
            log::error!("cannot encode a Produce request: {e}");
            for b in batches {
                self.complete_batch(b, Err((ErrorCode::CORRUPT_MESSAGE, Some(e.to_string()))), now);
            }
            return false;
        }
        if self.guarantee_order {
            for b in &batches {
                self.muted.insert(b.topic_partition().clone());
            }
        }
        let expects_response = self.config.acks != 0;
        let deadline = now + self.config.request_timeout;
        c.push(id, version, RequestKind::Produce { frame, batches }, Vec::new(), expects_response, deadline);
        self.flush_writes(node, now);
        true
    }

    /// Writes what the connection to `node` has queued; settles acks=0 requests once written (also
    /// those written before a write failed), then a failure.
    fn flush_writes(&mut self, node: i32, now: Instant) {
        let Some(c) = self.connections.get_mut(&node) else { return };
        let mut done = Vec::new();
        let written = c.write(self.poll.registry(), now, &mut done);
        for req in done {
            match req.kind {
                RequestKind::Produce { frame, batches } => {
                    self.frame = frame;
                    for b in batches {
                        let ack = BatchAck { base_offset: -1, log_append_time: NO_TIMESTAMP };
                        self.complete_batch(b, Ok(ack), now);
                    }
                }
                // Only acks=0 Produce expects no response; anything else written is settled as lost.
                kind => self.fail_request(kind, ErrorCode::NETWORK_EXCEPTION, now),
            }
        }
        if let Err(e) = written {
            log::warn!("write to node {node} failed: {e}");
            self.disconnect(node, ErrorCode::NETWORK_EXCEPTION, &e.to_string(), now);
        }
    }

    fn on_event(&mut self, node: i32, readable: bool, writable: bool, now: Instant) {
        let Some(c) = self.connections.get_mut(&node) else { return };
        if c.state == ConnState::Connecting {
            match c.finish_connect(now) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    log::warn!("connection to node {node} failed: {e}");
                    self.disconnect(node, ErrorCode::NETWORK_EXCEPTION, &e.to_string(), now);
                    return;
                }
            }
        }
        if writable || c.state == ConnState::Handshake {
            self.flush_writes(node, now);
        }
        if !readable {
            return;
        }
        let Some(c) = self.connections.get_mut(&node) else { return };
        let mut responses = Vec::new();
        let read = c.read(now, &mut responses);
        // Responses that arrived before a failure are answers: handle them before the failure settles
        // the rest as lost.
        for (req, body) in responses {
            self.on_response(node, req, &body, now);
        }
        if let Err(e) = read {
            log::warn!("read from node {node} failed: {e}");
            self.disconnect(node, ErrorCode::NETWORK_EXCEPTION, &e.to_string(), now);
        }
    }

    fn on_response(&mut self, node: i32, req: InFlight, body: &[u8], now: Instant) {
        match req.kind {
            RequestKind::ApiVersions => {
                let Some(c) = self.connections.get_mut(&node) else { return };
                // The ApiVersions header is always v0: skip the correlation id.
                match c.on_api_versions(body.get(4..).unwrap_or(&[]), req.version, now) {
                    Ok(true) => {
                        log::debug!("node {node} ready");
                        self.backoff.remove(&node);
                        self.shared.metadata.note_broker_ready(&c.address);
                    }
                    Ok(false) => self.flush_writes(node, now),
                    Err(e) => {
                        log::warn!("ApiVersions with node {node} failed: {e}");
                        self.disconnect(
                            node,
                            ErrorCode::NETWORK_EXCEPTION,
                            &format!("ApiVersions: {e}"),
                            now,
                        );
                    }
                }
            }
            RequestKind::Metadata(ref topics) => {
                match decode_response::<MetadataRequest>(body, req.version, req.correlation_id) {
                    Ok(resp) => {
                        self.metadata_failures = 0;
                        let cluster = self.shared.metadata.update(&resp, topics, now);
                        log::debug!(
                            "metadata: {} brokers, {} topics",
                            cluster.brokers.len(),
                            cluster.topics.len()
                        );
                    }
                    Err(e) => {
                        log::warn!("bad Metadata response from node {node}: {e}");
                        self.metadata_failed(now);
                    }
                }
            }
            RequestKind::Txn(what) => self.on_txn_response(what, body, req.version, req.correlation_id, now),
            RequestKind::InitProducerId => {
                match decode_response::<InitProducerIdRequest>(body, req.version, req.correlation_id) {
                    Ok(resp) => {
                        self.on_init_response(resp.error_code, resp.producer_id, resp.producer_epoch, now)
                    }
                    Err(e) => {
                        log::warn!("bad InitProducerId response from node {node}: {e}");
                        self.init_failed(now);
                    }
                }
            }
            RequestKind::Produce { frame, batches } => {
                self.frame = frame;
                match decode_response::<ProduceRequest>(body, req.version, req.correlation_id) {
                    Ok(resp) => self.on_produce_response(node, resp, batches, now),
                    Err(e) => {
                        log::warn!("bad Produce response from node {node}: {e}");
                        for b in batches {
                            self.complete_batch(b, Err((ErrorCode::NETWORK_EXCEPTION, None)), now);
                        }
                        self.disconnect(
                            node,
                            ErrorCode::NETWORK_EXCEPTION,
                            &format!("bad Produce response: {e}"),
                            now,
                        );
                    }
                }
            }
        }
    }

    fn on_produce_response(
        &mut self,
        node: i32,
        resp: ProduceResponse,
        batches: Vec<ProducerBatch>,
        now: Instant,
    ) {
        if resp.throttle_time_ms > 0 {
            // KIP-219: the broker answered at once; we hold back further requests to it.
            if let Some(c) = self.connections.get_mut(&node) {
                let t = now + Duration::from_millis(resp.throttle_time_ms as u64);
                c.throttled_until = Some(c.throttled_until.map_or(t, |u| u.max(t)));
            }
        }
        let cluster = self.shared.metadata.cluster();
        let mut slots: Vec<Option<ProducerBatch>> = batches.into_iter().map(Some).collect();
        for t in &resp.responses {
            let name: Option<Arc<str>> = if t.topic_id != Uuid::ZERO {
                cluster.topics.iter().find(|(_, i)| i.topic_id == t.topic_id).map(|(n, _)| Arc::clone(n))
            } else {
                None
            };
            for p in &t.partition_responses {
                let pos = slots.iter().position(|s| {
                    s.as_ref().is_some_and(|b| {
                        let tp = b.topic_partition();
                        tp.partition == p.index
                            && match &name {
                                Some(n) => tp.topic == *n,
                                None => *tp.topic == *t.name,
                            }
                    })
                });
                let Some(batch) = pos.and_then(|i| slots.get_mut(i)).and_then(Option::take) else {
                    log::warn!("Produce response names a partition that was not in the request");
                    continue;
                };
                let result = if p.error_code == ErrorCode::NONE {
                    Ok(BatchAck { base_offset: p.base_offset, log_append_time: p.log_append_time_ms })
                } else {
                    Err((p.error_code, p.error_message.clone()))
                };
                self.complete_batch(batch, result, now);
            }
        }
        for b in slots.into_iter().flatten() {
            // A partition the broker did not answer for: treat as a lost response.
            self.complete_batch(
                b,
                Err((ErrorCode::NETWORK_EXCEPTION, Some("no response for partition".into()))),
                now,
            );
        }
    }

    /// Java's `completeBatch`: succeed, retry (with exponential backoff) or fail one batch.
    fn complete_batch(
        &mut self,
        mut batch: ProducerBatch,
        result: Result<BatchAck, (ErrorCode, Option<String>)>,
        now: Instant,
    ) {
        if self.guarantee_order {
            self.muted.remove(batch.topic_partition());
        }
        let acc = Arc::clone(&self.shared.accumulator);
        if let Some(tm) = self.txn.as_mut() {
            tm.on_returned(&batch);
        }
        let (code, message) = match result {
            Ok(ack) => {
                if let Some(tm) = self.txn.as_mut() {
                    tm.on_success(&batch);
                }
                self.finish(batch, Ok(ack));
                return;
            }
            Err(e) => e,
        };
        if code == ErrorCode::MESSAGE_TOO_LARGE && batch.record_count() > 1 {
            if let Some(tm) = self.txn.as_mut() {
                // The parts get new sequences; the original's range is a gap only a new epoch closes.
                tm.on_abandoned(&batch);
            }
            match acc.split_and_reenqueue(batch) {
                None => return,
                Some(b) => batch = b,
            }
        }
        let closing_hard = self.shared.force_close.load(Ordering::Acquire);
        let generic = !closing_hard
            && batch.attempts() < self.config.retries
            && !batch.has_reached_delivery_timeout(now, self.config.delivery_timeout);
        let mut can_retry = code.is_retriable() && generic;
        if invalidates_metadata(code) {
            self.shared.metadata.request_update();
        }
        let mut backoff = true;
        if let Some(tm) = self.txn.as_mut() {
            // OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are not retriable in Kafka's table,
            // but the idempotent producer recovers from them (retry in order, or bump the epoch).
            let recoverable =
                matches!(code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID);
            let retriable = can_retry || (generic && recoverable);
            match tm.on_error(&batch, code, retriable) {
                Recovery::Success => {
                    self.finish(batch, Ok(BatchAck { base_offset: -1, log_append_time: NO_TIMESTAMP }));
                    return;
                }
                Recovery::Retry => can_retry = retriable,
                Recovery::RetryAfterBump => {
                    can_retry = generic;
                    backoff = false;
                }
                Recovery::Fail => can_retry = false,
            }
            if let Some(e) = tm.fatal_error().cloned() {
                self.finish(batch, Err(e.clone()));
                self.go_fatal(e);
                return;
            }
        }
        if can_retry {
            log::debug!(
                "retrying {} after {code} (attempt {})",
                batch.topic_partition(),
                batch.attempts() + 1
            );
            let wait = if backoff {
                self.backoff(self.config.retry_backoff, self.config.retry_backoff_max, batch.attempts())
            } else {
                Duration::ZERO
            };
            acc.reenqueue(batch, now, wait);
        } else {
            if let Some(tm) = self.txn.as_mut() {
                tm.on_abandoned(&batch);
            }
            let error = Error::Broker { code, message };
            self.txn_batch_failed(&error);
            self.finish(batch, Err(error));
        }
    }

    /// The producer hit an unrecoverable error: remember it for `send`, and fail everything pending.
    fn go_fatal(&mut self, error: Error) {
        log::error!("producer is in a fatal state: {error}");
        *self.shared.fatal.lock() = Some(error.clone());
        self.shared.has_fatal.store(true, Ordering::Release);
        self.txn_fatal(&error);
        self.abort_all(&error);
    }

    /// Sends InitProducerId when the idempotent producer needs a producer id or an epoch bump.
    fn maybe_init_producer_id(&mut self, now: Instant, timeout: &mut Duration) {
        let Some(tm) = self.txn.as_ref() else { return };
        // The id state says "in flight" only while the request is: if it is not on any connection, it
        // was lost without being settled (a bug), and is settled now instead of stalling the producer.
        if tm.init_in_flight() && !self.in_flight_where(|k| matches!(k, RequestKind::InitProducerId)) {
            log::error!("InitProducerId marked in flight but not on any connection; retrying");
            self.init_failed(now);
        }
        let Some(tm) = self.txn.as_ref() else { return };
        if !tm.needs_init() {
            return;
        }
        if now < self.next_init_attempt {
            *timeout = (*timeout).min(self.next_init_attempt - now);
            return;
        }
        let Some(node) = self.ready_node(now, timeout) else { return };
        let Some(c) = self.connections.get_mut(&node) else { return };
        let Some(version) = c.version_for::<InitProducerIdRequest>() else {
            self.go_fatal(Error::Unsupported("the broker does not support InitProducerId".into()));
            return;
        };
        let Some(tm) = self.txn.as_mut() else { return };
        // The state moves to "in flight" only once the request is certain to be queued below.
        let (producer_id, producer_epoch) = match tm.init_request() {
            Ok(v) => v,
            Err(e) => {
                self.go_fatal(e);
                return;
            }
        };
        let req = InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::try_from(self.config.transaction_timeout.as_millis())
                .unwrap_or(i32::MAX),
            producer_id,
            producer_epoch,
            enable_2pc: false,
            keep_prepared_txn: false,
        };
        let id = c.next_id();
        let mut out = Vec::new();
        if let Err(e) = encode_request(&mut out, version, id, Some(&self.config.client_id), &req) {
            log::error!("cannot encode InitProducerId: {e}");
            self.init_failed(now);
            return;
        }
        c.push(id, version, RequestKind::InitProducerId, out, true, now + self.config.request_timeout);
        self.flush_writes(node, now);
    }

    fn on_init_response(&mut self, code: ErrorCode, producer_id: i64, epoch: i16, now: Instant) {
        let Some(tm) = self.txn.as_mut() else { return };
        match tm.on_init_response(code, producer_id, epoch) {
            Ok(()) if code == ErrorCode::NONE => self.init_failures = 0,
            Ok(()) => {
                log::debug!("InitProducerId: {code}; retrying");
                self.bump_init_backoff(now);
            }
            Err(e) => self.go_fatal(e),
        }
    }

    /// An InitProducerId request was lost with its connection.
    fn init_failed(&mut self, now: Instant) {
        if let Some(tm) = self.txn.as_mut() {
            if let Err(e) = tm.on_init_lost() {
                self.go_fatal(e);
                return;
            }
        }
        self.bump_init_backoff(now);
    }

    fn bump_init_backoff(&mut self, now: Instant) {
        self.init_failures = self.init_failures.saturating_add(1);
        self.next_init_attempt =
            now + self.backoff(self.config.retry_backoff, self.config.retry_backoff_max, self.init_failures);
    }

    /// A forced close: fails everything queued or in flight with `error`.
    fn abort_all(&mut self, error: &Error) {
        let acc = Arc::clone(&self.shared.accumulator);
        for c in acc.abort_incomplete_batches(error) {
            self.deliver(Some(c));
        }
        for c in acc.take_orphan_completions() {
            self.deliver(Some(c));
        }
        let nodes: Vec<i32> = self.connections.keys().copied().collect();
        for node in nodes {
            let Some(mut c) = self.connections.remove(&node) else { continue };
            c.close(self.poll.registry());
            // Every request is settled: Produce batches fail with `error`, the rest is dropped with the
            // connection (the producer is stopping or fatal, nothing is retried).
            for req in c.take_in_flight() {
                if let RequestKind::Produce { batches, .. } = req.kind {
                    for b in batches {
                        self.finish(b, Err(error.clone()));
                    }
                }
            }
        }
    }
}

/// Parses `bootstrap.servers` entries (`host:port`, `[v6]:port`).
pub fn parse_bootstrap(servers: &[String]) -> Result<Vec<(String, u16)>, Error> {
    servers
        .iter()
        .map(|s| {
            let s = s.trim();
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| Error::config("bootstrap.servers", format!("`{s}` has no port")))?;
            let port = port
                .parse::<u16>()
                .map_err(|_| Error::config("bootstrap.servers", format!("`{s}` has a bad port")))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(Error::config("bootstrap.servers", format!("`{s}` has no host")));
            }
            Ok((host.to_owned(), port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_parsing() {
        let v = parse_bootstrap(&["a:1".into(), " [::1]:9092".into()]).unwrap();
        assert_eq!(v, vec![("a".to_string(), 1), ("::1".to_string(), 9092)]);
        assert!(parse_bootstrap(&["a".into()]).is_err());
        assert!(parse_bootstrap(&["a:x".into()]).is_err());
        assert!(parse_bootstrap(&[":1".into()]).is_err());
    }

    #[test]
    fn stale_metadata_codes() {
        assert!(invalidates_metadata(ErrorCode::NOT_LEADER_OR_FOLLOWER));
        assert!(!invalidates_metadata(ErrorCode::NOT_ENOUGH_REPLICAS));
    }
}
