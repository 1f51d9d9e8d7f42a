//! The transaction coordinator driver (Java's `TransactionManager` request handlers, sender side):
//! finds the transaction and group coordinators (FindCoordinator), sends the one transactional request
//! an application call asked for (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit,
//! EndTxn), one at a time, and applies each answer — or its loss — to the shared transaction state.
//! It does no I/O: it reads the [`Links`] and writes requests and effects to an [`Outbox`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::transactional::{fatal_from_coordinator, Op, Transactional, TxnState};
use super::TransactionManager;
use crate::accumulator::{RecordAccumulator, TopicPartition};
use crate::error::Error;
use crate::protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use crate::protocol::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic};
use crate::protocol::messages::end_txn::EndTxnRequest;
use crate::protocol::messages::find_coordinator::{
    FindCoordinatorRequest, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
};
use crate::protocol::messages::init_producer_id::InitProducerIdRequest;
use crate::protocol::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use crate::protocol::{decode_response, ApiKey, ErrorCode, Request as Message};
use crate::sender::backoff::{Backoff, Jitter};
use crate::sender::driver::{Links, Outbox, TxnContext};
use crate::sender::request::{Outgoing, Request, TxnRequest};

/// The `transaction.version` feature level at which Transactions v2 (KIP-890) is on.
const TV2_LEVEL: i16 = 2;

/// Retrying AddPartitionsToTxn after CONCURRENT_TRANSACTIONS (Java's `ADD_PARTITIONS_RETRY_BACKOFF_MS`).
const ADD_PARTITIONS_RETRY: Backoff = Backoff::fixed(Duration::from_millis(20));

/// The coordinator driver's settings.
#[derive(Debug, Clone)]
pub(crate) struct CoordinatorConfig {
    /// `client.id`.
    pub client_id: Arc<str>,
    /// `transaction.timeout.ms`, sent in InitProducerId.
    pub transaction_timeout: Duration,
    /// `retry.backoff.ms` / `retry.backoff.max.ms`.
    pub retry: Backoff,
}

/// The coordinator driver.
#[derive(Debug)]
pub(crate) struct CoordinatorDriver {
    config: CoordinatorConfig,
    state: Arc<Transactional>,
    accumulator: Arc<RecordAccumulator>,
    backoff: Backoff,
    jitter: Jitter,
}

impl CoordinatorDriver {
    /// Replaces the jitter source (the simulator seeds it).
    #[cfg(feature = "sim")]
    pub(crate) fn set_jitter(&mut self, jitter: crate::sender::backoff::Jitter) {
        self.jitter = jitter;
    }

    pub(crate) fn new(
        config: CoordinatorConfig,
        state: Arc<Transactional>,
        accumulator: Arc<RecordAccumulator>,
    ) -> Self {
        let backoff = config.retry;
        CoordinatorDriver { config, state, accumulator, backoff, jitter: Jitter::from_entropy() }
    }

    /// True while records may be drained: inside a transaction or committing it.
    pub(crate) fn may_produce(&self) -> bool {
        matches!(self.state.inner.lock().state, TxnState::InTransaction | TxnState::Committing)
    }

    /// Sends the next transactional request, if one is due and its coordinator is reachable.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        tm: Option<&TransactionManager>,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) {
        let t = Arc::clone(&self.state);
        // Checked before the transaction lock: accumulator locks are never taken under it.
        let batches_done = !self.accumulator.has_incomplete();
        // One transactional request at a time, as in Java; "in flight" is read off the connections.
        let request_in_flight = links.in_flight(&|r| matches!(r, Request::Txn(_)));
        let mut g = t.inner.lock();
        if matches!(g.state, TxnState::AbortableError(_) | TxnState::Aborting) {
            // Nothing more of a doomed transaction is sent.
            drop(g);
            out.deliver.extend(self.accumulator.abort_undrained_batches(&Error::TransactionAborted));
            g = t.inner.lock();
        }
        if request_in_flight {
            return;
        }
        if now < g.next_attempt {
            out.wake_in(g.next_attempt - now);
            return;
        }
        let want_add =
            g.tv2 == Some(false) && !g.pending_add.is_empty() && matches!(g.state, TxnState::InTransaction);
        let op = g.op.clone();
        if op.is_none() && !want_add {
            return;
        }
        if let Some(Op::EndTxn { .. }) = op {
            if !batches_done && !want_add {
                return; // EndTxn goes once every batch of the transaction has its outcome
            }
        }
        // The transaction coordinator first.
        let Some(coordinator) = g.coordinator else {
            let key = g.transactional_id.clone();
            drop(g);
            self.find_coordinator(KEY_TYPE_TRANSACTION, key, None, now, links, out);
            return;
        };
        let group_target = match &op {
            Some(Op::SendOffsets { group, added, .. }) if *added || g.tv2 == Some(true) => {
                Some(group.group_id.clone())
            }
            _ => None,
        };
        let target = match &group_target {
            Some(group) if !want_add => match g.group_coordinators.get(group) {
                Some(&node) => node,
                None => {
                    drop(g);
                    self.find_coordinator(
                        KEY_TYPE_GROUP,
                        group.clone(),
                        Some(group.clone()),
                        now,
                        links,
                        out,
                    );
                    return;
                }
            },
            _ => coordinator,
        };
        if let Some((host, port)) = g.addresses.get(&target).cloned() {
            out.learn.push((target, host, port));
        }
        if !links.is_connecting_or_up(target) {
            out.connect.push(target);
            return;
        }
        if !links.can_send(target, now) {
            return;
        }
        if g.tv2.is_none() {
            let tv2 = links.finalized_feature(target, "transaction.version") >= TV2_LEVEL
                && links.version(target, ApiKey::END_TXN, (5, 5)).is_some();
            log::info!(
                "transactions v{} (KIP-890 {})",
                if tv2 { 2 } else { 1 },
                if tv2 { "on" } else { "off" }
            );
            g.tv2 = Some(tv2);
        }
        let (pid, epoch) = tm.map_or((-1, -1), TransactionManager::producer_id_and_epoch);
        let tid = g.transactional_id.clone();
        let tv2 = g.tv2 == Some(true);
        let client_id = Arc::clone(&self.config.client_id);
        let encode = |links: &mut dyn Links, req: &dyn EncodeTxn, max: Option<i16>, what: TxnRequest| {
            req.outgoing(links, target, max, &client_id, what)
        };
        let built: Option<Outgoing> = if want_add {
            let parts: Vec<TopicPartition> = std::mem::take(&mut g.pending_add).into_iter().collect();
            let mut topics: Vec<AddPartitionsToTxnTopic> = Vec::new();
            for tp in &parts {
                match topics.last_mut() {
                    Some(t) if t.name == *tp.topic => t.partitions.push(tp.partition),
                    _ => topics.push(AddPartitionsToTxnTopic {
                        name: tp.topic.to_string(),
                        partitions: vec![tp.partition],
                    }),
                }
            }
            let req = AddPartitionsToTxnRequest {
                v3_and_below_transactional_id: tid,
                v3_and_below_producer_id: pid,
                v3_and_below_producer_epoch: epoch,
                v3_and_below_topics: topics,
                ..Default::default()
            };
            let max = AddPartitionsToTxnRequest::CLIENT_MAX_VERSION;
            let built = encode(links, &req, Some(max), TxnRequest::AddPartitions(parts.clone()));
            if built.is_none() {
                g.pending_add.extend(parts);
            }
            built
        } else {
            match op {
                Some(Op::Init { bump }) => {
                    let req = InitProducerIdRequest {
                        transactional_id: Some(tid),
                        transaction_timeout_ms: i32::try_from(self.config.transaction_timeout.as_millis())
                            .unwrap_or(i32::MAX),
                        producer_id: if bump { pid } else { -1 },
                        producer_epoch: if bump { epoch } else { -1 },
                        enable_2pc: false,
                        keep_prepared_txn: false,
                    };
                    encode(links, &req, None, TxnRequest::InitProducerId)
                }
                Some(Op::EndTxn { commit }) => {
                    let req = EndTxnRequest {
                        transactional_id: tid,
                        producer_id: pid,
                        producer_epoch: epoch,
                        committed: commit,
                    };
                    let max = if tv2 { 5 } else { 4 };
                    encode(links, &req, Some(max), TxnRequest::EndTxn)
                }
                Some(Op::SendOffsets { group, added: false, .. }) if !tv2 => {
                    let req = AddOffsetsToTxnRequest {
                        transactional_id: tid,
                        producer_id: pid,
                        producer_epoch: epoch,
                        group_id: group.group_id,
                    };
                    encode(links, &req, None, TxnRequest::AddOffsets)
                }
                Some(Op::SendOffsets { group, offsets, .. }) => {
                    let mut topics: Vec<TxnOffsetCommitRequestTopic> = Vec::new();
                    for o in &offsets {
                        let p = TxnOffsetCommitRequestPartition {
                            partition_index: o.topic_partition.partition,
                            committed_offset: o.offset,
                            committed_leader_epoch: -1,
                            committed_metadata: o.metadata.clone(),
                        };
                        match topics.iter_mut().find(|t| t.name == *o.topic_partition.topic) {
                            Some(t) => t.partitions.push(p),
                            None => topics.push(TxnOffsetCommitRequestTopic {
                                name: o.topic_partition.topic.to_string(),
                                partitions: vec![p],
                            }),
                        }
                    }
                    let req = TxnOffsetCommitRequest {
                        transactional_id: tid,
                        group_id: group.group_id.clone(),
                        producer_id: pid,
                        producer_epoch: epoch,
                        generation_id: group.generation_id,
                        member_id: group.member_id,
                        group_instance_id: group.group_instance_id,
                        topics,
                    };
                    let max = if tv2 { 5 } else { TxnOffsetCommitRequest::TV1_MAX_VERSION };
                    encode(links, &req, Some(max), TxnRequest::TxnOffsetCommit(group.group_id))
                }
                None => None,
            }
        };
        let Some(request) = built else {
            g.fail(
                Error::Unsupported(
                    "the coordinator does not support a needed transaction API version".into(),
                ),
                true,
            );
            drop(g);
            t.notify();
            return;
        };
        drop(g);
        out.sends.push(request);
    }

    fn find_coordinator(
        &mut self,
        key_type: i8,
        key: String,
        group: Option<String>,
        now: Instant,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) {
        let Some(node) = links.least_loaded(now) else {
            out.connect_any = true;
            return;
        };
        let req = FindCoordinatorRequest::single(key_type, key);
        if let Some(o) =
            req.outgoing(links, node, None, &self.config.client_id, TxnRequest::FindCoordinator(group))
        {
            out.sends.push(o);
        }
    }

    /// A transactional request was lost with its connection: try again later.
    pub(crate) fn on_lost(&mut self, what: TxnRequest, now: Instant) {
        let t = Arc::clone(&self.state);
        let mut g = t.inner.lock();
        match what {
            TxnRequest::AddPartitions(parts) => g.pending_add.extend(parts),
            TxnRequest::TxnOffsetCommit(group) => g.coordinator_moved(Some(&group)),
            TxnRequest::FindCoordinator(_) => {}
            _ => g.coordinator_moved(None),
        }
        g.retry_later(now, &self.backoff, &mut self.jitter);
    }

    /// The connection to `node` failed: if it is a coordinator, forget it, so the next transactional
    /// request finds the current one first (Java's `lookupCoordinator` when the node is not ready).
    pub(crate) fn on_node_failed(&mut self, node: i32, now: Instant) {
        let t = Arc::clone(&self.state);
        let mut g = t.inner.lock();
        let groups: Vec<String> =
            g.group_coordinators.iter().filter(|(_, &n)| n == node).map(|(group, _)| group.clone()).collect();
        let txn = g.coordinator == Some(node);
        if !txn && groups.is_empty() {
            return;
        }
        log::debug!("coordinator node {node} unreachable; looking it up again");
        if txn {
            g.coordinator_moved(None);
        }
        for group in &groups {
            g.coordinator_moved(Some(group));
        }
        g.retry_later(now, &self.backoff, &mut self.jitter);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_response(
        &mut self,
        what: TxnRequest,
        body: &[u8],
        version: i16,
        corr: i32,
        now: Instant,
        mut tm: Option<&mut TransactionManager>,
        out: &mut Outbox,
    ) {
        let t = Arc::clone(&self.state);
        let mut g = t.inner.lock();
        let (backoff, jitter) = (&self.backoff, &mut self.jitter);
        let mut fatal: Option<Error> = None;
        match what {
            TxnRequest::FindCoordinator(group) => {
                let key = group.clone().unwrap_or_else(|| g.transactional_id.clone());
                match decode_response::<FindCoordinatorRequest>(body, version, corr) {
                    Ok(r) => match r.coordinator(version, &key) {
                        Some(c) if c.error_code == ErrorCode::NONE && c.node_id >= 0 => {
                            if let Ok(port) = u16::try_from(c.port) {
                                g.addresses.insert(c.node_id, (c.host.clone(), port));
                            }
                            match group {
                                Some(gid) => {
                                    g.group_coordinators.insert(gid, c.node_id);
                                }
                                None => g.coordinator = Some(c.node_id),
                            }
                            g.failures = 0;
                        }
                        // No coordinator yet (NONE without a node), or a retriable code: ask again.
                        Some(c) if c.error_code == ErrorCode::NONE || c.error_code.is_retriable() => {
                            g.retry_later(now, backoff, jitter)
                        }
                        // As Java: not authorized for the group dooms the transaction; anything else
                        // ends the producer.
                        Some(c) if c.error_code == ErrorCode::GROUP_AUTHORIZATION_FAILED => {
                            g.fail(Error::Broker { code: c.error_code, message: c.error_message }, false)
                        }
                        Some(c) => {
                            fatal = Some(Error::Broker { code: c.error_code, message: c.error_message })
                        }
                        None => g.retry_later(now, backoff, jitter),
                    },
                    Err(_) => g.retry_later(now, backoff, jitter),
                }
            }
            TxnRequest::InitProducerId => match decode_response::<InitProducerIdRequest>(body, version, corr)
            {
                Ok(r) if r.error_code == ErrorCode::NONE => {
                    let installed = tm.as_deref_mut().map(|tm| tm.install(r.producer_id, r.producer_epoch));
                    if let Some(Err(e)) = installed {
                        fatal = Some(e);
                    } else {
                        log::info!("transactional producer id {}, epoch {}", r.producer_id, r.producer_epoch);
                        g.in_txn.clear();
                        g.pending_add.clear();
                        g.started = false;
                        match g.transition(TxnState::Ready) {
                            Ok(()) => g.finish(Ok(())),
                            Err(e) => fatal = Some(e),
                        }
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, jitter) => {}
                Ok(r) => {
                    fatal = Some(Error::Broker { code: r.error_code, message: Some("InitProducerId".into()) })
                }
                Err(_) => g.retry_later(now, backoff, jitter),
            },
            TxnRequest::AddPartitions(parts) => {
                match decode_response::<AddPartitionsToTxnRequest>(body, version, corr) {
                    Ok(r) => {
                        let mut retry: Vec<TopicPartition> = Vec::new();
                        let mut moved = false;
                        let mut failed: Option<ErrorCode> = None;
                        let mut seen: HashSet<TopicPartition> = HashSet::new();
                        for topic in &r.results_by_topic_v3_and_below {
                            for p in &topic.results_by_partition {
                                let tp = TopicPartition::new(topic.name.as_str(), p.partition_index);
                                seen.insert(tp.clone());
                                match p.partition_error_code {
                                    ErrorCode::NONE => {
                                        g.in_txn.insert(tp);
                                        g.started = true;
                                    }
                                    c if c.coordinator_moved() => {
                                        moved = true;
                                        retry.push(tp);
                                    }
                                    c if c.is_retriable() => retry.push(tp),
                                    c if fatal_from_coordinator(c) => {
                                        fatal = Some(Error::Broker { code: c, message: None })
                                    }
                                    c => failed = Some(c),
                                }
                            }
                        }
                        retry.extend(parts.into_iter().filter(|tp| !seen.contains(tp)));
                        if moved {
                            g.coordinator_moved(None);
                        }
                        if !retry.is_empty() {
                            g.pending_add.extend(retry);
                            // CONCURRENT_TRANSACTIONS is frequent right after a commit: retry soon
                            // (Java's ADD_PARTITIONS_RETRY_BACKOFF_MS).
                            g.next_attempt = now + ADD_PARTITIONS_RETRY.after(0, jitter);
                        }
                        if let Some(code) = failed {
                            g.fail(Error::Broker { code, message: Some("AddPartitionsToTxn".into()) }, false);
                        }
                    }
                    Err(_) => {
                        g.pending_add.extend(parts);
                        g.retry_later(now, backoff, jitter);
                    }
                }
            }
            TxnRequest::AddOffsets => match decode_response::<AddOffsetsToTxnRequest>(body, version, corr) {
                Ok(r) if r.error_code == ErrorCode::NONE => {
                    g.started = true;
                    if let Some(Op::SendOffsets { added, .. }) = g.op.as_mut() {
                        *added = true;
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, jitter) => {}
                Ok(r) if fatal_from_coordinator(r.error_code) => {
                    fatal = Some(Error::Broker { code: r.error_code, message: None })
                }
                Ok(r) => g.fail(
                    Error::Broker { code: r.error_code, message: Some("AddOffsetsToTxn".into()) },
                    false,
                ),
                Err(_) => g.retry_later(now, backoff, jitter),
            },
            TxnRequest::TxnOffsetCommit(group) => {
                match decode_response::<TxnOffsetCommitRequest>(body, version, corr) {
                    Ok(r) => {
                        let codes: Vec<ErrorCode> =
                            r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)).collect();
                        if codes.iter().all(|&c| c == ErrorCode::NONE) {
                            g.finish(Ok(()));
                        } else if let Some(&c) = codes.iter().find(|&&c| fatal_from_coordinator(c)) {
                            fatal = Some(Error::Broker { code: c, message: Some("TxnOffsetCommit".into()) });
                        } else if codes.iter().any(|&c| c.coordinator_moved()) {
                            g.coordinator_moved(Some(&group));
                            g.retry_later(now, backoff, jitter);
                        } else if codes.iter().all(|&c| c == ErrorCode::NONE || c.is_retriable()) {
                            g.retry_later(now, backoff, jitter);
                        } else if let Some(&c) =
                            codes.iter().find(|&&c| c != ErrorCode::NONE && !c.is_retriable())
                        {
                            g.fail(Error::Broker { code: c, message: Some("TxnOffsetCommit".into()) }, false);
                        }
                    }
                    Err(_) => g.retry_later(now, backoff, jitter),
                }
            }
            TxnRequest::EndTxn => match decode_response::<EndTxnRequest>(body, version, corr) {
                Ok(r) if r.error_code == ErrorCode::NONE => {
                    let committed = matches!(g.state, TxnState::Committing);
                    let tv2 = g.tv2 == Some(true);
                    g.in_txn.clear();
                    g.started = false;
                    if tv2 && r.producer_id >= 0 {
                        // KIP-890: every transaction ends with an epoch bump.
                        if let Some(Err(e)) = tm.map(|tm| tm.install(r.producer_id, r.producer_epoch)) {
                            fatal = Some(e);
                        }
                    }
                    if fatal.is_none() {
                        if !committed && !tv2 {
                            // v1: move to a new epoch after an abort (KIP-360), so sequences restart cleanly.
                            match g.transition(TxnState::Initializing) {
                                Ok(()) => g.op = Some(Op::Init { bump: true }),
                                Err(e) => fatal = Some(e),
                            }
                        } else {
                            match g.transition(TxnState::Ready) {
                                Ok(()) => g.finish(Ok(())),
                                Err(e) => fatal = Some(e),
                            }
                        }
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, jitter) => {}
                Ok(r) if r.error_code.is_abortable() => {
                    g.fail(Error::Broker { code: r.error_code, message: Some("EndTxn".into()) }, false)
                }
                Ok(r) => fatal = Some(Error::Broker { code: r.error_code, message: Some("EndTxn".into()) }),
                Err(_) => g.retry_later(now, backoff, jitter),
            },
        }
        // A coordinator answering INVALID_PRODUCER_EPOCH means a newer producer took over (Java turns
        // it into ProducerFencedException there): report it as fenced.
        let fatal = fatal.map(|e| match e {
            Error::Broker { code: ErrorCode::INVALID_PRODUCER_EPOCH, message } => Error::Broker {
                code: ErrorCode::PRODUCER_FENCED,
                message: Some(format!(
                    "the coordinator answered INVALID_PRODUCER_EPOCH{}",
                    message.map(|m| format!(" ({m})")).unwrap_or_default()
                )),
            },
            e => e,
        });
        if let Some(e) = fatal.clone() {
            g.fail(e, true);
        }
        drop(g);
        t.notify();
        if let Some(e) = fatal {
            out.fatal.get_or_insert(e);
        }
    }

    /// A record batch of the transaction failed for good: the transaction must be aborted (or, when
    /// fatal, the producer is done).
    pub(crate) fn record_failed(&self, error: &Error) {
        // The table's fatal class is Kafka 4.4.0's `maybeTransitionToErrorState`: anything else makes
        // the transaction abortable, INVALID_PRODUCER_EPOCH included (KIP-588).
        let fatal = error.broker_code().is_some_and(ErrorCode::is_fatal);
        let mut g = self.state.inner.lock();
        if matches!(g.state, TxnState::InTransaction | TxnState::Committing) {
            g.fail(error.clone(), fatal);
        }
        drop(g);
        self.state.notify();
    }

    /// The transactional id, Produce version cap and partition filter for the next Produce request.
    pub(crate) fn produce_context(&self) -> TxnContext {
        let g = self.state.inner.lock();
        let tv2 = g.tv2 == Some(true);
        // v1 caps Produce at 11 (12+ means "transactions v2"); v1 partitions must be registered first.
        TxnContext {
            transactional_id: g.transactional_id.clone(),
            max_version: if tv2 { 13 } else { 11 },
            registered: (!tv2).then(|| g.in_txn.clone()),
        }
    }

    /// Marks the transaction state fatal too.
    pub(crate) fn on_fatal(&self, error: &Error) {
        let mut g = self.state.inner.lock();
        if !matches!(g.state, TxnState::Fatal(_)) {
            g.fail(error.clone(), true);
        }
        drop(g);
        self.state.notify();
    }
}

/// A transactional request body that encodes itself for a node at the highest version both sides
/// support (capped at `max`), with a fresh correlation id.
trait EncodeTxn {
    fn outgoing(
        &self,
        links: &mut dyn Links,
        node: i32,
        max: Option<i16>,
        client_id: &str,
        what: TxnRequest,
    ) -> Option<Outgoing>;
}

impl<R: Message> EncodeTxn for R {
    fn outgoing(
        &self,
        links: &mut dyn Links,
        node: i32,
        max: Option<i16>,
        client_id: &str,
        what: TxnRequest,
    ) -> Option<Outgoing> {
        let top = max.map_or(R::MAX_VERSION, |m| m.min(R::MAX_VERSION));
        let version = links.version(node, R::API_KEY, (R::MIN_VERSION, top))?;
        let correlation_id = links.next_correlation_id(node);
        Outgoing::encode(node, correlation_id, version, client_id, self, Request::Txn(what)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accumulator::buffer_pool::BufferPool;
    use crate::accumulator::AccumulatorConfig;
    use crate::protocol::messages::find_coordinator::{Coordinator, FindCoordinatorResponse};
    use crate::protocol::messages::init_producer_id::InitProducerIdResponse;
    use crate::sender::fake::{response, FakeLinks};

    fn driver() -> CoordinatorDriver {
        let acc = Arc::new(RecordAccumulator::new(
            AccumulatorConfig::default(),
            Arc::new(BufferPool::new(1 << 20, 16 * 1024)),
        ));
        let config = CoordinatorConfig {
            client_id: Arc::from("c"),
            transaction_timeout: Duration::from_secs(60),
            retry: Backoff::new(Duration::from_millis(100), Duration::from_secs(1)),
        };
        CoordinatorDriver::new(config, Arc::new(Transactional::new("tx".into())), acc)
    }

    fn start(d: &CoordinatorDriver, op: Op) -> u64 {
        let mut g = d.state.inner.lock();
        if matches!(g.state, TxnState::Uninitialized) {
            g.transition(TxnState::Initializing).unwrap();
        }
        d.state.start(&mut g, op).unwrap()
    }

    fn sent(out: &Outbox) -> Option<(&Outgoing, TxnRequest)> {
        out.sends.iter().find_map(|o| match &o.request {
            Request::Txn(t) => Some((o, t.clone())),
            _ => None,
        })
    }

    fn coordinator_answer(node: i32) -> FindCoordinatorResponse {
        FindCoordinatorResponse {
            coordinators: vec![Coordinator {
                key: "tx".into(),
                node_id: node,
                host: "coord".into(),
                port: 9000,
                error_code: ErrorCode::NONE,
                error_message: None,
            }],
            node_id: node,
            host: "coord".into(),
            port: 9000,
            ..Default::default()
        }
    }

    /// Finds the coordinator at node 3 and connects to it.
    fn with_coordinator(d: &mut CoordinatorDriver, links: &mut FakeLinks, now: Instant) {
        let mut out = Outbox::default();
        d.poll(now, None, links, &mut out);
        let (o, what) = sent(&out).expect("FindCoordinator");
        assert_eq!(what, TxnRequest::FindCoordinator(None));
        let (v, c) = (o.version, o.correlation_id);
        d.on_response(what, &response(v, c, &coordinator_answer(3)), v, c, now, None, &mut out);
        let mut out = Outbox::default();
        d.poll(now, None, links, &mut out);
        assert_eq!(out.connect, vec![3], "connects to the coordinator");
        assert!(out.learn.contains(&(3, "coord".to_string(), 9000)));
        links.ready.insert(3);
        links.up.insert(3);
    }

    #[test]
    fn init_finds_the_coordinator_then_gets_an_id() {
        let mut d = driver();
        let id = start(&d, Op::Init { bump: false });
        let now = Instant::now();
        let mut links = FakeLinks::ready(&[1]);
        with_coordinator(&mut d, &mut links, now);
        let mut out = Outbox::default();
        d.poll(now, None, &mut links, &mut out);
        let (o, what) = sent(&out).expect("InitProducerId");
        assert_eq!((o.node, what.clone()), (3, TxnRequest::InitProducerId));
        let (v, c) = (o.version, o.correlation_id);
        let mut tm = TransactionManager::new(true);
        let answer = InitProducerIdResponse { producer_id: 9, producer_epoch: 1, ..Default::default() };
        d.on_response(what, &response(v, c, &answer), v, c, now, Some(&mut tm), &mut out);
        assert_eq!(tm.producer_id_and_epoch(), (9, 1));
        assert!(d.state.wait(id, Duration::ZERO, &|| None).is_ok());
        assert!(matches!(d.state.inner.lock().state, TxnState::Ready));
    }

    #[test]
    fn every_lost_request_clears_what_it_set_and_is_sent_again() {
        let mut d = driver();
        start(&d, Op::Init { bump: false });
        let now = Instant::now();
        let mut links = FakeLinks::ready(&[1]);
        // A lost FindCoordinator: asked again after the backoff.
        let mut out = Outbox::default();
        d.poll(now, None, &mut links, &mut out);
        let (_, what) = sent(&out).unwrap();
        d.on_lost(what, now);
        let mut out = Outbox::default();
        d.poll(now, None, &mut links, &mut out);
        assert!(out.sends.is_empty(), "backing off");
        let later = now + Duration::from_secs(2);
        with_coordinator(&mut d, &mut links, later);
        // A lost InitProducerId: the coordinator is looked up again, then the request resent.
        let mut out = Outbox::default();
        d.poll(later, None, &mut links, &mut out);
        let (_, what) = sent(&out).unwrap();
        assert_eq!(what, TxnRequest::InitProducerId);
        d.on_lost(what, later);
        assert_eq!(d.state.inner.lock().coordinator, None, "forgotten");
        let mut out = Outbox::default();
        d.poll(later + Duration::from_secs(2), None, &mut links, &mut out);
        assert!(matches!(sent(&out), Some((_, TxnRequest::FindCoordinator(None)))));
        // A lost AddPartitionsToTxn puts its partitions back.
        let tp = TopicPartition::new("t", 0);
        d.on_lost(TxnRequest::AddPartitions(vec![tp.clone()]), later);
        assert!(d.state.inner.lock().pending_add.contains(&tp));
        // A lost TxnOffsetCommit forgets the group's coordinator.
        d.state.inner.lock().group_coordinators.insert("g".into(), 5);
        d.on_lost(TxnRequest::TxnOffsetCommit("g".into()), later);
        assert!(!d.state.inner.lock().group_coordinators.contains_key("g"));
        // A lost EndTxn forgets the transaction coordinator.
        d.state.inner.lock().coordinator = Some(3);
        d.on_lost(TxnRequest::EndTxn, later);
        assert_eq!(d.state.inner.lock().coordinator, None);
    }

    #[test]
    fn one_request_at_a_time_and_a_failed_coordinator_is_looked_up_again() {
        let mut d = driver();
        start(&d, Op::Init { bump: false });
        let now = Instant::now();
        let mut links = FakeLinks::ready(&[1]);
        with_coordinator(&mut d, &mut links, now);
        links.in_flight.push("Txn");
        let mut out = Outbox::default();
        d.poll(now, None, &mut links, &mut out);
        assert!(out.sends.is_empty(), "a transactional request is in flight");
        links.in_flight.clear();
        d.on_node_failed(3, now);
        assert_eq!(d.state.inner.lock().coordinator, None);
        d.on_node_failed(7, now);
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(2), None, &mut links, &mut out);
        assert!(matches!(sent(&out), Some((_, TxnRequest::FindCoordinator(None)))));
    }

    #[test]
    fn an_undecodable_answer_is_retried() {
        let mut d = driver();
        start(&d, Op::Init { bump: false });
        let now = Instant::now();
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, None, &mut links, &mut out);
        let (o, what) = sent(&out).unwrap();
        let (v, c) = (o.version, o.correlation_id);
        d.on_response(what, &[0xde, 0xad], v, c, now, None, &mut out);
        assert!(out.fatal.is_none());
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(2), None, &mut links, &mut out);
        assert!(sent(&out).is_some());
    }
}
