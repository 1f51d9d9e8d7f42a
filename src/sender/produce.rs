//! The produce driver (Java's `Sender.sendProducerData` and `completeBatch`): which ready partitions go
//! to which leader, one Produce request per ready leader, and what each answer — or its loss — does to
//! its batches: complete, retry after a backoff, split (MESSAGE_TOO_LARGE) or fail. It does no I/O: it
//! reads the cluster view and the [`Links`], and writes its requests and effects to an [`Outbox`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backoff::{Backoff, Jitter};
use super::driver::{Links, Outbox, TxnContext};
use super::metadata::{Cluster, LeaderUpdate};
use super::request::{Outgoing, Request};
use super::shared::SenderShared;
use crate::accumulator::{BatchAck, ProducerBatch, TopicPartition};
use crate::error::Error;
use crate::partitioner::{LeaderLatency, LoadStatsBuilder, StickyPartitioner};
use crate::protocol::messages::produce::{
    ProduceFrame, ProducePartition, ProduceRequest, ProduceResponse, ProduceTopic,
};
use crate::protocol::primitives::Uuid;
use crate::protocol::record::NO_TIMESTAMP;
use crate::protocol::{decode_response, ErrorCode, Message};
use crate::txn::{Recovery, TransactionManager};

/// The produce driver's settings (the producer properties of the same names).
#[derive(Debug, Clone)]
pub(crate) struct ProduceConfig {
    /// `client.id`.
    pub client_id: Arc<str>,
    /// `acks` as sent (0, 1, -1).
    pub acks: i16,
    /// `request.timeout.ms`, sent as the Produce timeout.
    pub request_timeout: Duration,
    /// `delivery.timeout.ms`.
    pub delivery_timeout: Duration,
    /// `retries`.
    pub retries: u32,
    /// `retry.backoff.ms` / `retry.backoff.max.ms`.
    pub retry: Backoff,
    /// `max.request.size`.
    pub max_request_size: usize,
    /// `max.in.flight.requests.per.connection` = 1 without idempotence: a partition is muted while it
    /// has a request in flight, so order holds across retries.
    pub guarantee_order: bool,
}

/// The produce driver.
pub(crate) struct ProduceDriver {
    config: ProduceConfig,
    shared: Arc<SenderShared>,
    /// Partitions with a request in flight, when ordering must be kept.
    muted: HashSet<TopicPartition>,
    /// The Produce frame buffer, reused from request to request.
    frame: ProduceFrame,
    jitter: Jitter,
    /// Per leader: when it last had ready data and when it was last drained (Java's `NodeLatencyStats`).
    node_latency: HashMap<i32, LeaderLatency>,
    /// When the load stats were last fed to the partitioners.
    last_load_stats: Instant,
    started: Instant,
    /// The purge marker: while set, a lost Produce request's batches fail with [`Error::Purged`]
    /// instead of being retried (the sender closed their connections to purge them).
    purging: bool,
    /// Partitions whose new leader the Produce response being handled named (KIP-951); empty between
    /// responses.
    leader_moved: HashSet<TopicPartition>,
}

impl std::fmt::Debug for ProduceDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProduceDriver").field("muted", &self.muted.len()).finish_non_exhaustive()
    }
}

impl ProduceDriver {
    /// Replaces the jitter source (the simulator seeds it).
    #[cfg(feature = "sim")]
    pub(crate) fn set_jitter(&mut self, jitter: crate::sender::backoff::Jitter) {
        self.jitter = jitter;
    }

    pub(crate) fn new(config: ProduceConfig, shared: Arc<SenderShared>, now: Instant) -> Self {
        ProduceDriver {
            config,
            shared,
            muted: HashSet::new(),
            frame: ProduceFrame::default(),
            jitter: Jitter::from_entropy(),
            node_latency: HashMap::new(),
            last_load_stats: now,
            started: now,
            purging: false,
            leader_moved: HashSet::new(),
        }
    }

    /// One turn: expires batches past `delivery.timeout.ms`, then drains the ready partitions of each
    /// leader that can take a request into one Produce request (connecting to leaders that have no
    /// connection); `may_produce` is false while the producer id or the transaction holds sends back.
    /// True when a leader's metadata is missing (the caller asks the metadata driver again).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        cluster: &Cluster,
        mut tm: Option<&mut TransactionManager>,
        txn: Option<&TxnContext>,
        may_produce: bool,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) -> bool {
        let acc = Arc::clone(&self.shared.accumulator);
        out.deliver.extend(acc.take_orphan_completions());
        let ready = acc.ready(now);
        if let Some(d) = ready.next_ready_check_delay {
            out.wake_in(d);
        }
        // Ordered by node: the same requests in the same order whatever the hash seeds.
        let mut by_node: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
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
        }
        let now_ms =
            i64::try_from(now.saturating_duration_since(self.started).as_millis()).unwrap_or(i64::MAX);
        for (node, parts) in by_node {
            self.node_latency
                .entry(node)
                .or_insert(LeaderLatency { ready_time_ms: now_ms, drain_time_ms: now_ms })
                .ready_time_ms = now_ms;
            if !links.is_connecting_or_up(node) {
                out.connect.push(node);
            } else if !may_produce {
            } else if links.can_send(node, now) {
                if let Some(l) = self.node_latency.get_mut(&node) {
                    l.drain_time_ms = now_ms;
                }
                // A partition gives one batch per request; if more are queued behind it, look again at
                // once instead of sleeping until an event (acks=0 brings none).
                if self.send(node, &parts, cluster, now, tm.as_deref_mut(), txn, links, out) {
                    out.wake_in(Duration::ZERO);
                }
            } else if let Some(t) = links.throttled_until(node).filter(|&t| t > now) {
                // Only a throttle still running: one that ended long ago (the connection is merely at
                // its in-flight limit) would wake the loop at once, forever.
                out.wake_in(t.saturating_duration_since(now));
            }
        }
        self.update_load_stats(cluster, now);
        let expired = acc.expire(now, self.config.delivery_timeout);
        self.abandon(expired, &Error::DeliveryTimeout, tm, out);
        unknown_leader
    }

    /// Fails every batch waiting in the accumulator with `error` (a connection failed to
    /// authenticate: nothing queued would get through); batches in flight run their course.
    pub(crate) fn fail_unsent(
        &mut self,
        error: &Error,
        tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        let unsent = self.shared.accumulator.take_unsent();
        self.abandon(unsent, error, tm, out);
    }

    /// Fails every batch waiting in the accumulator with [`Error::Purged`] (`Producer::purge`).
    pub(crate) fn purge_queued(&mut self, tm: Option<&mut TransactionManager>, out: &mut Outbox) {
        let queued = self.shared.accumulator.take_queued();
        self.abandon(queued, &Error::Purged, tm, out);
    }

    /// Sets or clears the purge marker (see [`on_lost`](Self::on_lost)).
    pub(crate) fn set_purging(&mut self, purging: bool) {
        self.purging = purging;
    }

    /// Fails batches taken from the accumulator before a response settled them (expired, or
    /// failed unsent): the idempotent state learns of each, as for any batch given up.
    fn abandon(
        &mut self,
        batches: Vec<ProducerBatch>,
        error: &Error,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        let acc = Arc::clone(&self.shared.accumulator);
        let now = Instant::now();
        for batch in batches {
            self.muted.remove(batch.topic_partition());
            if let Some(tm) = tm.as_deref_mut() {
                tm.on_abandoned(&batch);
            }
            self.shared
                .metrics
                .record(|m| m.error(&batch.topic_partition().topic, batch.record_count(), now));
            out.txn_record_failures.push(error.clone());
            out.deliver.extend(acc.complete(batch, Err(error.clone())));
        }
    }

    /// Drains the ready partitions led by `node` into one Produce request; true when one was queued.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        node: i32,
        parts: &[TopicPartition],
        cluster: &Cluster,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        txn: Option<&TxnContext>,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) -> bool {
        let acc = Arc::clone(&self.shared.accumulator);
        let registered = txn.and_then(|t| t.registered.as_ref());
        let can = tm.as_deref();
        let (batches, failed) = acc.drain_where(parts, self.config.max_request_size, now, &mut |b| {
            can.map_or(true, |t| t.can_drain(b))
                && registered.map_or(true, |set| set.contains(b.topic_partition()))
        });
        out.deliver.extend(failed);
        let mut batches = match tm.as_deref_mut() {
            None => batches,
            Some(tm) => {
                let mut stamped = Vec::with_capacity(batches.len());
                for mut b in batches {
                    match tm.assign(&mut b) {
                        Ok(()) => stamped.push(b),
                        Err(e) => out.deliver.extend(acc.complete(b, Err(e))),
                    }
                }
                stamped
            }
        };
        log::trace!("drained {} batches for node {node}", batches.len());
        if batches.is_empty() {
            return false;
        }
        batches.sort_by(|a, b| a.topic_partition().cmp(b.topic_partition()));
        let Some(mut version) = links.version(
            node,
            ProduceRequest::API_KEY,
            (ProduceRequest::MIN_VERSION, ProduceRequest::MAX_VERSION),
        ) else {
            for b in batches {
                self.complete(b, Err((ErrorCode::UNSUPPORTED_VERSION, None)), now, tm.as_deref_mut(), out);
            }
            return false;
        };
        // Produce v13 names topics by id; fall back to v12 when an id is unknown.
        let id_of = |t: &str| cluster.topics.get(t).map_or(Uuid::ZERO, |i| i.topic_id);
        if version >= 13 && batches.iter().any(|b| id_of(&b.topic_partition().topic) == Uuid::ZERO) {
            version = 12;
        }
        let transactional_id = txn.map(|t| {
            version = version.min(t.max_version);
            t.transactional_id.as_str()
        });
        for b in &mut batches {
            b.sent_topic_id = if version >= 13 { id_of(&b.topic_partition().topic) } else { Uuid::ZERO };
        }
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
        let correlation_id = links.next_correlation_id(node);
        let timeout_ms = i32::try_from(self.config.request_timeout.as_millis()).unwrap_or(i32::MAX);
        let mut frame = std::mem::take(&mut self.frame);
        let encoded = frame.encode(
            version,
            correlation_id,
            Some(&self.config.client_id),
            transactional_id,
            self.config.acks,
            timeout_ms,
            &topics,
        );
        if log::log_enabled!(log::Level::Trace) {
            // Checked by tests/topic_id_kafka.rs: which version went out, and under which topic ids.
            let named: Vec<String> = topics.iter().map(|t| format!("{}={}", t.name, t.topic_id)).collect();
            log::trace!("Produce v{version} to node {node}: topics {}", named.join(","));
        }
        drop(topics);
        if let Err(e) = encoded {
            log::error!("cannot encode a Produce request: {e}");
            self.frame = frame;
            for b in batches {
                self.complete(
                    b,
                    Err((ErrorCode::CORRUPT_MESSAGE, Some(e.to_string()))),
                    now,
                    tm.as_deref_mut(),
                    out,
                );
            }
            return false;
        }
        if self.config.guarantee_order {
            for b in &batches {
                self.muted.insert(b.topic_partition().clone());
            }
        }
        // Once per batch and once per request, never per record.
        self.shared.metrics.record(|m| {
            let mut records = 0usize;
            for b in &batches {
                m.batch_sent(
                    node,
                    &b.topic_partition().topic,
                    b.topic_partition().partition,
                    b.record_count(),
                    b.sealed_bytes().map_or(0, <[u8]>::len),
                    b.uncompressed_size(),
                    now.saturating_duration_since(b.created()),
                    now,
                );
                records += usize::try_from(b.record_count()).unwrap_or(0);
            }
            for b in &batches {
                m.record_size(b.max_record_size(), now);
            }
            m.produce_request(records, now);
        });
        out.sends.push(Outgoing {
            node,
            correlation_id,
            version,
            request: Request::Produce { frame, batches },
            bytes: Vec::new(),
            expects_response: self.config.acks != 0,
        });
        true
    }

    /// A Produce response arrived for `batches`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_response(
        &mut self,
        node: i32,
        frame: ProduceFrame,
        batches: Vec<ProducerBatch>,
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        self.frame = frame;
        let resp = match decode_response::<ProduceRequest>(body, version, correlation_id) {
            Ok(resp) => resp,
            Err(e) => {
                log::warn!("bad Produce response from node {node}: {e}");
                for b in batches {
                    self.complete(b, Err((ErrorCode::NETWORK_EXCEPTION, None)), now, tm.as_deref_mut(), out);
                }
                out.disconnect.push((node, format!("bad Produce response: {e}")));
                return;
            }
        };
        self.shared.metrics.record(|m| m.throttle(node, resp.throttle_time_ms, now));
        if resp.throttle_time_ms > 0 {
            // KIP-219: the broker answered at once; we hold back further requests to it.
            out.throttle.push((node, now + Duration::from_millis(resp.throttle_time_ms as u64)));
        }
        self.on_partitions(resp, batches, now, tm, out);
    }

    fn on_partitions(
        &mut self,
        resp: ProduceResponse,
        batches: Vec<ProducerBatch>,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        let mut slots: Vec<Option<ProducerBatch>> = batches.into_iter().map(Some).collect();
        // v13 names topics by id: matched against the id each batch was sent under
        // (`sent_topic_id`), not the metadata cache's, which has a new id for a topic deleted and
        // recreated while the request was out (the old id's answer would then match nothing).
        let names: Vec<Option<Arc<str>>> = resp
            .responses
            .iter()
            .map(|t| {
                slots.iter().flatten().find_map(|b| {
                    let matches = if t.topic_id != Uuid::ZERO {
                        b.sent_topic_id == t.topic_id
                    } else {
                        *b.topic_partition().topic == *t.name
                    };
                    matches.then(|| Arc::clone(&b.topic_partition().topic))
                })
            })
            .collect();
        self.learn_leaders(&resp, &names);
        for t in &resp.responses {
            let by_id = t.topic_id != Uuid::ZERO;
            for p in &t.partition_responses {
                let pos = slots.iter().position(|s| {
                    s.as_ref().is_some_and(|b| {
                        let tp = b.topic_partition();
                        tp.partition == p.index
                            && if by_id { b.sent_topic_id == t.topic_id } else { *tp.topic == *t.name }
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
                self.complete(batch, result, now, tm.as_deref_mut(), out);
            }
        }
        for b in slots.into_iter().flatten() {
            // A partition the broker did not answer for: treat as a lost answer.
            let lost = Err((ErrorCode::NETWORK_EXCEPTION, Some("no response for partition".into())));
            self.complete(b, lost, now, tm.as_deref_mut(), out);
        }
        self.leader_moved.clear();
    }

    /// KIP-951: the leaders a response names for partitions that failed because leadership moved go
    /// into the metadata at once; their batches are then retried on the new leader without a backoff
    /// or a Metadata round trip (see [`complete`](Self::complete)).
    fn learn_leaders(&mut self, resp: &ProduceResponse, names: &[Option<Arc<str>>]) {
        let mut updates = Vec::new();
        for (t, name) in resp.responses.iter().zip(names) {
            let Some(name) = name else { continue };
            for p in &t.partition_responses {
                let moved = matches!(
                    p.error_code,
                    ErrorCode::NOT_LEADER_OR_FOLLOWER | ErrorCode::FENCED_LEADER_EPOCH
                );
                if moved && p.current_leader.leader_id >= 0 && p.current_leader.leader_epoch >= 0 {
                    updates.push(LeaderUpdate {
                        topic: Arc::clone(name),
                        partition: p.index,
                        leader: p.current_leader.leader_id,
                        leader_epoch: p.current_leader.leader_epoch,
                    });
                }
            }
        }
        for (topic, partition) in self.shared.metadata.update_leadership(&updates, &resp.node_endpoints) {
            log::debug!("{topic}-{partition}: new leader from a Produce response (KIP-951)");
            self.leader_moved.insert(TopicPartition { topic, partition });
        }
    }

    /// An acks=0 Produce request was written: its batches are complete (no offsets).
    pub(crate) fn on_written(
        &mut self,
        frame: ProduceFrame,
        batches: Vec<ProducerBatch>,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        self.frame = frame;
        for b in batches {
            let ack = BatchAck { base_offset: -1, log_append_time: NO_TIMESTAMP };
            self.complete(b, Ok(ack), now, tm.as_deref_mut(), out);
        }
    }

    /// A Produce request was lost (`code`: NETWORK_EXCEPTION or REQUEST_TIMED_OUT): its batches are
    /// retried or failed as for that error. While the purge marker is set (the sender closed the
    /// connection to purge what was in flight) they fail with [`Error::Purged`] instead, as batches
    /// given up: the broker may have written them, so a sequenced one makes the idempotent producer
    /// bump its epoch before its partition's next batch (as a delivery timeout does).
    pub(crate) fn on_lost(
        &mut self,
        frame: ProduceFrame,
        batches: Vec<ProducerBatch>,
        code: ErrorCode,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        self.frame = frame;
        for mut b in batches {
            b.mark_maybe_written();
            if self.purging {
                self.muted.remove(b.topic_partition());
                if let Some(tm) = tm.as_deref_mut() {
                    tm.on_returned(&b);
                    tm.on_abandoned(&b);
                }
                out.txn_record_failures.push(Error::Purged);
                out.deliver.extend(self.shared.accumulator.complete(b, Err(Error::Purged)));
            } else {
                self.complete(b, Err((code, None)), now, tm.as_deref_mut(), out);
            }
        }
    }

    /// Fails `batches` with `error` (the producer is stopping or fatal).
    pub(crate) fn fail(
        &mut self,
        frame: ProduceFrame,
        batches: Vec<ProducerBatch>,
        error: &Error,
        out: &mut Outbox,
    ) {
        self.frame = frame;
        let now = Instant::now();
        for b in batches {
            self.muted.remove(b.topic_partition());
            self.shared.metrics.record(|m| m.error(&b.topic_partition().topic, b.record_count(), now));
            out.deliver.extend(self.shared.accumulator.complete(b, Err(error.clone())));
        }
    }

    /// Java's `completeBatch`: succeed, retry (with exponential backoff), split or fail one batch.
    fn complete(
        &mut self,
        mut batch: ProducerBatch,
        result: Result<BatchAck, (ErrorCode, Option<String>)>,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        if self.config.guarantee_order {
            self.muted.remove(batch.topic_partition());
        }
        let acc = Arc::clone(&self.shared.accumulator);
        if let Some(tm) = tm.as_deref_mut() {
            tm.on_returned(&batch);
        }
        let (code, message) = match result {
            Ok(ack) => {
                if let Some(tm) = tm.as_deref_mut() {
                    tm.on_success(&batch);
                }
                out.deliver.extend(acc.complete(batch, Ok(ack)));
                return;
            }
            Err(e) => e,
        };
        // A batch an earlier attempt may have written is not split: its parts would be new batches to
        // the broker, written a second time. It fails instead (Java's parts keep the original's
        // sequences, which the broker then refuses as out of order).
        if code == ErrorCode::MESSAGE_TOO_LARGE && batch.record_count() > 1 && !batch.maybe_written() {
            if let Some(tm) = tm.as_deref_mut() {
                // The parts get new sequences; the original's range is a gap only a new epoch closes.
                tm.on_abandoned(&batch);
            }
            self.shared.metrics.record(|m| m.split(now));
            match acc.split_and_reenqueue(batch) {
                None => return,
                Some(b) => batch = b,
            }
        }
        let closing_hard = self.shared.force_close.load(std::sync::atomic::Ordering::Acquire);
        let generic = !closing_hard
            && batch.attempts() < self.config.retries
            && !batch.has_reached_delivery_timeout(now, self.config.delivery_timeout);
        let mut can_retry = code.is_retriable() && generic;
        // KIP-951: a partition whose new leader the response named needs neither a refresh nor a
        // backoff (Java skips the backoff when the leader changed since the last attempt).
        let moved = self.leader_moved.contains(batch.topic_partition());
        if code.invalidates_metadata() && !moved {
            self.shared.metadata.request_update();
        }
        let mut backoff = !moved;
        if let Some(tm) = tm.as_deref_mut() {
            // OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are not retriable in Kafka's table,
            // but the idempotent producer recovers from them (retry in order, or bump the epoch).
            let recoverable =
                matches!(code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID);
            let retriable = can_retry || (generic && recoverable);
            match tm.on_error(&batch, code, retriable) {
                Recovery::Success => {
                    let ack = BatchAck { base_offset: -1, log_append_time: NO_TIMESTAMP };
                    out.deliver.extend(acc.complete(batch, Ok(ack)));
                    return;
                }
                Recovery::Retry => can_retry = retriable,
                // A batch an earlier attempt may have written is never stamped afresh: under a new
                // producer id, epoch or sequence the broker could not tell it was a retry and would
                // write it twice. It fails instead (Java fails it too); later batches use the new epoch.
                Recovery::RetryAfterBump if batch.maybe_written() => can_retry = false,
                Recovery::RetryAfterBump => {
                    can_retry = generic;
                    backoff = false;
                    // Not written: sequenced afresh when next drained.
                    batch.clear_producer_state();
                }
                Recovery::Fail => can_retry = false,
            }
            if let Some(e) = tm.fatal_error().cloned() {
                out.deliver.extend(acc.complete(batch, Err(e.clone())));
                out.fatal.get_or_insert(e);
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
                self.config.retry.after(batch.attempts(), &mut self.jitter)
            } else {
                Duration::ZERO
            };
            self.shared
                .metrics
                .record(|m| m.retry(&batch.topic_partition().topic, batch.record_count(), now));
            acc.reenqueue(batch, now, wait);
        } else {
            if let Some(tm) = tm {
                tm.on_abandoned(&batch);
            }
            self.shared
                .metrics
                .record(|m| m.error(&batch.topic_partition().topic, batch.record_count(), now));
            let error = Error::Broker { code, message };
            out.txn_record_failures.push(error.clone());
            out.deliver.extend(acc.complete(batch, Err(error)));
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accumulator::buffer_pool::BufferPool;
    use crate::accumulator::{AccumulatorConfig, RecordAccumulator, RecordHandle};
    use crate::protocol::messages::produce::{PartitionProduceResponse, TopicProduceResponse};
    use crate::protocol::record::NO_HEADERS;
    use crate::sender::fake::{one_topic, response, shared, FakeLinks};
    use crate::sender::metadata::Metadata;

    struct Bed {
        driver: ProduceDriver,
        acc: Arc<RecordAccumulator>,
        metadata: Arc<Metadata>,
        now: Instant,
    }

    fn bed(retries: u32, acks: i16) -> Bed {
        let now = Instant::now();
        let config = AccumulatorConfig { linger: Duration::ZERO, ..AccumulatorConfig::default() };
        let acc = Arc::new(RecordAccumulator::new(config, Arc::new(BufferPool::new(1 << 20, 16 * 1024))));
        let metadata = Arc::new(Metadata::new(Duration::from_secs(300), Duration::from_secs(300)));
        let _ = metadata.lookup("t", now);
        let topics = metadata.due(now).unwrap();
        metadata.update(&one_topic("t", Uuid::ZERO), &topics, now);
        let config = ProduceConfig {
            client_id: Arc::from("c"),
            acks,
            request_timeout: Duration::from_secs(30),
            delivery_timeout: Duration::from_secs(120),
            retries,
            retry: Backoff::new(Duration::from_millis(10), Duration::from_millis(10)),
            max_request_size: 1 << 20,
            guarantee_order: false,
        };
        let driver = ProduceDriver::new(config, shared(Arc::clone(&acc), Arc::clone(&metadata)), now);
        Bed { driver, acc, metadata, now }
    }

    impl Bed {
        fn append(&self) -> RecordHandle {
            let r = self.acc.append("t", 0, 1, None, Some(b"v"), NO_HEADERS, None, Duration::ZERO, self.now);
            r.map(|r| r.handle).unwrap_or_else(|_| panic!("appended"))
        }

        /// One produce turn at `now`; the Produce request it sent, if any.
        fn poll(&mut self, now: Instant, links: &mut FakeLinks) -> Option<Outgoing> {
            let mut out = Outbox::default();
            let cluster = self.metadata.cluster();
            self.driver.poll(now, &cluster, None, None, true, links, &mut out);
            out.sends.into_iter().find(|o| matches!(o.request, Request::Produce { .. }))
        }
    }

    fn parts(o: Outgoing) -> (ProduceFrame, Vec<ProducerBatch>, i16, i32) {
        match o.request {
            Request::Produce { frame, batches } => (frame, batches, o.version, o.correlation_id),
            _ => panic!("not Produce"),
        }
    }

    fn answer(partitions: Vec<PartitionProduceResponse>) -> ProduceResponse {
        ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t".into(),
                partition_responses: partitions,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn drains_a_ready_leader_and_completes_from_the_answer() {
        let mut b = bed(3, -1);
        let h = b.append();
        let mut out = Outbox::default();
        let cluster = b.metadata.cluster();
        b.driver.poll(b.now, &cluster, None, None, true, &mut FakeLinks::default(), &mut out);
        assert_eq!(out.connect, vec![1], "no connection to the leader: connect");
        let o = b.poll(b.now, &mut FakeLinks::ready(&[1])).expect("a Produce request");
        assert_eq!(o.node, 1);
        let (frame, batches, v, c) = parts(o);
        let body = response(
            v,
            c,
            &answer(vec![PartitionProduceResponse { index: 0, base_offset: 42, ..Default::default() }]),
        );
        let mut out = Outbox::default();
        b.driver.on_response(1, frame, batches, &body, v, c, b.now, None, &mut out);
        assert_eq!(h.get(Some(Duration::ZERO)).unwrap().unwrap().offset, 42);
        assert!(!b.acc.has_incomplete());
    }

    /// Gives topic `t` the id `id` (a topic deleted and recreated gets a new one).
    fn set_topic_id(b: &Bed, id: u8) {
        b.metadata.update(&one_topic("t", Uuid([id; 16])), &[Arc::from("t")], b.now);
    }

    #[test]
    fn a_v13_answer_is_matched_by_the_id_the_request_was_sent_under() {
        // Sent as v13 under id 1; before the answer comes, metadata says the topic was recreated (id 2).
        // The answer, by id 1, still completes the batch (and would not complete anything of id 2).
        let mut b = bed(3, -1);
        set_topic_id(&b, 1);
        let h = b.append();
        let (frame, batches, v, c) =
            parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).expect("a Produce request"));
        assert_eq!(v, 13);
        assert_eq!(batches[0].sent_topic_id, Uuid([1; 16]));
        set_topic_id(&b, 2);
        let by_id = ProduceResponse {
            responses: vec![TopicProduceResponse {
                topic_id: Uuid([1; 16]),
                partition_responses: vec![PartitionProduceResponse {
                    index: 0,
                    base_offset: 7,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let body = response(v, c, &by_id);
        let mut out = Outbox::default();
        b.driver.on_response(1, frame, batches, &body, v, c, b.now, None, &mut out);
        assert_eq!(h.get(Some(Duration::ZERO)).unwrap().unwrap().offset, 7);
        assert!(!b.acc.has_incomplete());
    }

    #[test]
    fn a_new_leader_named_by_the_answer_takes_the_retry_at_once_without_a_refresh() {
        use crate::protocol::messages::produce::{LeaderIdAndEpoch, NodeEndpoint};
        let mut b = bed(3, -1);
        b.append();
        let (frame, batches, v, c) = parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).expect("sent"));
        assert!(v >= 10, "KIP-951 fields need Produce v10+ (got v{v})");
        assert!(b.metadata.due(b.now).is_none(), "no refresh pending before the answer");
        let not_leader = |epoch: i32| {
            let mut a = answer(vec![PartitionProduceResponse {
                index: 0,
                error_code: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                current_leader: LeaderIdAndEpoch { leader_id: 2, leader_epoch: epoch },
                ..Default::default()
            }]);
            a.node_endpoints = vec![NodeEndpoint { node_id: 2, host: "h2".into(), port: 9093, rack: None }];
            a
        };
        let mut out = Outbox::default();
        b.driver.on_response(1, frame, batches, &response(v, c, &not_leader(5)), v, c, b.now, None, &mut out);
        let cluster = b.metadata.cluster();
        assert_eq!(cluster.topics["t"].leader(0), Some(2), "the answer's leader is installed");
        assert_eq!(cluster.brokers[&2].port, 9093, "with its endpoint");
        assert!(b.metadata.due(b.now).is_none(), "no Metadata round trip is asked for");
        // Retried at once (no retry.backoff.ms) on the new leader.
        let o = b.poll(b.now, &mut FakeLinks::ready(&[1, 2])).expect("retried at once");
        assert_eq!(o.node, 2);
        // An answer naming an older or equal epoch changes nothing, and the usual refresh is asked for.
        let (frame, batches, v, c) = parts(o);
        let mut stale = not_leader(5);
        stale.responses[0].partition_responses[0].current_leader.leader_id = 1;
        b.driver.on_response(2, frame, batches, &response(v, c, &stale), v, c, b.now, None, &mut out);
        assert_eq!(b.metadata.cluster().topics["t"].leader(0), Some(2));
        assert!(b.metadata.due(b.now).is_some(), "no usable leader in the answer: refresh");
    }

    #[test]
    fn a_throttle_that_ended_does_not_wake_the_loop_at_once() {
        // Found by the simulator (seed 45): a broker throttled us once; later the connection is at its
        // in-flight limit, so nothing can go. Waking at once for the throttle's long-past end made the
        // sender spin without sleeping until an answer came.
        let mut b = bed(3, -1);
        b.append();
        let mut links = FakeLinks::ready(&[]);
        links.up.insert(1);
        links.throttled.insert(1, b.now - Duration::from_millis(5));
        let mut out = Outbox::default();
        let cluster = b.metadata.cluster();
        b.driver.poll(b.now, &cluster, None, None, true, &mut links, &mut out);
        assert!(out.timeout.map_or(true, |t| t > Duration::ZERO), "woken at once: {:?}", out.timeout);
        links.throttled.insert(1, b.now + Duration::from_millis(30));
        let mut out = Outbox::default();
        b.driver.poll(b.now, &cluster, None, None, true, &mut links, &mut out);
        assert_eq!(out.timeout, Some(Duration::from_millis(30)), "a running throttle wakes at its end");
    }

    #[test]
    fn a_lost_request_retries_its_batches_then_fails_them_when_retries_run_out() {
        let mut b = bed(1, -1);
        let h = b.append();
        let (frame, batches, ..) = parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).unwrap());
        let mut out = Outbox::default();
        b.driver.on_lost(frame, batches, ErrorCode::NETWORK_EXCEPTION, b.now, None, &mut out);
        assert!(!h.is_done(), "retried, not failed");
        assert_eq!(b.metadata.time_to_next_update(b.now), Duration::ZERO, "a refresh is asked for");
        assert!(b.poll(b.now, &mut FakeLinks::ready(&[1])).is_none(), "backing off");
        let later = b.now + Duration::from_millis(50);
        let (frame, batches, ..) = parts(b.poll(later, &mut FakeLinks::ready(&[1])).expect("sent again"));
        let mut out = Outbox::default();
        b.driver.on_lost(frame, batches, ErrorCode::REQUEST_TIMED_OUT, later, None, &mut out);
        let e = h.get(Some(Duration::ZERO)).expect("an outcome").unwrap_err();
        assert_eq!(e.broker_code(), Some(ErrorCode::REQUEST_TIMED_OUT));
        assert!(out.txn_record_failures.len() == 1 && !b.acc.has_incomplete());
    }

    #[test]
    fn a_partition_missing_from_the_answer_or_garbage_is_a_lost_answer() {
        let mut b = bed(5, -1);
        let h = b.append();
        let (frame, batches, v, c) = parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).unwrap());
        let mut out = Outbox::default();
        b.driver.on_response(
            1,
            frame,
            batches,
            &response(v, c, &answer(Vec::new())),
            v,
            c,
            b.now,
            None,
            &mut out,
        );
        assert!(!h.is_done(), "retried");
        let later = b.now + Duration::from_millis(50);
        let (frame, batches, v, c) = parts(b.poll(later, &mut FakeLinks::ready(&[1])).unwrap());
        let mut out = Outbox::default();
        b.driver.on_response(1, frame, batches, &[0, 0, 0, 9, 0xff], v, c, later, None, &mut out);
        assert!(!h.is_done(), "retried");
        assert_eq!(out.disconnect.len(), 1, "the connection that sent garbage is closed");
    }

    #[test]
    fn acks_zero_completes_on_write_and_failures_on_stop() {
        let mut b = bed(3, 0);
        let h = b.append();
        let o = b.poll(b.now, &mut FakeLinks::ready(&[1])).unwrap();
        assert!(!o.expects_response);
        let (frame, batches, ..) = parts(o);
        let mut out = Outbox::default();
        b.driver.on_written(frame, batches, b.now, None, &mut out);
        assert_eq!(h.get(Some(Duration::ZERO)).unwrap().unwrap().offset, -1);
        let h = b.append();
        let (frame, batches, ..) = parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).unwrap());
        b.driver.fail(frame, batches, &Error::Closed, &mut out);
        assert!(matches!(h.get(Some(Duration::ZERO)), Some(Err(Error::Closed))));
    }

    #[test]
    fn purged_requests_and_queues_fail_with_purged_and_a_sequence_gap_bumps_the_epoch() {
        let mut b = bed(5, -1);
        let mut tm = TransactionManager::new(false);
        tm.init_request().unwrap();
        tm.on_init_response(ErrorCode::NONE, 7, 0).unwrap();
        let h = b.append();
        let mut out = Outbox::default();
        let cluster = b.metadata.cluster();
        b.driver.poll(b.now, &cluster, Some(&mut tm), None, true, &mut FakeLinks::ready(&[1]), &mut out);
        let o = out.sends.into_iter().find(|o| matches!(o.request, Request::Produce { .. })).unwrap();
        let (frame, batches, ..) = parts(o);
        assert_eq!(tm.in_flight(), 1);
        b.driver.set_purging(true);
        let mut out = Outbox::default();
        b.driver.on_lost(frame, batches, ErrorCode::NETWORK_EXCEPTION, b.now, Some(&mut tm), &mut out);
        b.driver.set_purging(false);
        assert!(matches!(h.get(Some(Duration::ZERO)), Some(Err(Error::Purged))), "failed, not retried");
        assert!(matches!(out.txn_record_failures.as_slice(), [Error::Purged]), "a transaction learns of it");
        assert!(!b.acc.has_incomplete() && !b.acc.has_undrained());
        assert_eq!(tm.in_flight(), 0);
        assert!(!tm.can_send() && tm.needs_init(), "its sequence is a gap: a new epoch first");
        // Queued records fail at once.
        let h = b.append();
        let mut out = Outbox::default();
        b.driver.purge_queued(Some(&mut tm), &mut out);
        assert!(matches!(h.get(Some(Duration::ZERO)), Some(Err(Error::Purged))));
        assert!(!b.acc.has_incomplete() && !b.acc.has_undrained());
        // Without the marker a lost request is retried as before.
        let h = b.append();
        let (frame, batches, ..) = parts(b.poll(b.now, &mut FakeLinks::ready(&[1])).unwrap());
        let mut out = Outbox::default();
        b.driver.on_lost(frame, batches, ErrorCode::NETWORK_EXCEPTION, b.now, None, &mut out);
        assert!(!h.is_done(), "retried");
    }
}
