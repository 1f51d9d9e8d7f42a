//! The sender's half of transactions: sends the transactional requests the application threads asked
//! for (through [`Transactional`]) to the right coordinator, one at a time, and applies the answers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::connection::RequestKind;
use super::Sender;
use crate::accumulator::TopicPartition;
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
use crate::protocol::{decode_response, encode_request, ErrorCode, Request};
use crate::txn::transactional::{coordinator_moved, fatal_for_produce, is_fatal, retry_same, Op, TxnState};

/// A transactional request in flight.
#[derive(Debug, Clone)]
pub enum TxnRequest {
    /// FindCoordinator for the transaction (`None`) or a group.
    FindCoordinator(Option<String>),
    /// InitProducerId with the transactional id.
    InitProducerId,
    /// AddPartitionsToTxn for these partitions.
    AddPartitions(Vec<TopicPartition>),
    /// AddOffsetsToTxn.
    AddOffsets,
    /// TxnOffsetCommit for this group.
    TxnOffsetCommit(String),
    /// EndTxn.
    EndTxn,
}

/// The `transaction.version` feature level at which Transactions v2 (KIP-890) is on.
const TV2_LEVEL: i16 = 2;

impl Sender {
    /// Sends the next transactional request, if one is due and its coordinator is reachable.
    pub(super) fn drive_transactions(&mut self, now: Instant, timeout: &mut Duration) {
        let Some(t) = self.transactional.clone() else { return };
        // Checked before the transaction lock: accumulator locks are never taken under it.
        let batches_done = !self.shared.accumulator.has_incomplete();
        // One transactional request at a time, as in Java; "in flight" is read off the connections.
        let request_in_flight = self.in_flight_where(|k| matches!(k, RequestKind::Txn(_)));
        let mut g = t.inner.lock();
        if matches!(g.state, TxnState::AbortableError(_) | TxnState::Aborting) {
            // Nothing more of a doomed transaction is sent.
            drop(g);
            let error = Error::TransactionAborted;
            for c in self.shared.accumulator.abort_undrained_batches(&error) {
                self.deliver(Some(c));
            }
            g = t.inner.lock();
        }
        if request_in_flight {
            return;
        }
        if now < g.next_attempt {
            *timeout = (*timeout).min(g.next_attempt - now);
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
            self.send_find_coordinator(KEY_TYPE_TRANSACTION, key, None, now, timeout);
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
                    self.send_find_coordinator(
                        KEY_TYPE_GROUP,
                        group.clone(),
                        Some(group.clone()),
                        now,
                        timeout,
                    );
                    return;
                }
            },
            _ => coordinator,
        };
        let address = g.addresses.get(&target).cloned();
        drop(g);
        if let Some(a) = address {
            self.extra_addresses.insert(target, a);
        }
        match self.connections.get(&target) {
            None => {
                let cluster = self.shared.metadata.cluster();
                self.connect(target, &cluster, now, timeout);
                return;
            }
            Some(c) if !c.can_send(self.config.max_in_flight, now) => return,
            Some(_) => {}
        }
        let mut g = t.inner.lock();
        if g.tv2.is_none() {
            let tv2 = self.connections.get(&target).is_some_and(|c| {
                c.finalized_feature("transaction.version") >= TV2_LEVEL
                    && c.pick_version(crate::protocol::ApiKey::END_TXN, (5, 5)).is_some()
            });
            log::info!(
                "transactions v{} (KIP-890 {})",
                if tv2 { 2 } else { 1 },
                if tv2 { "on" } else { "off" }
            );
            g.tv2 = Some(tv2);
        }
        let (pid, epoch) = self.txn.as_ref().map_or((-1, -1), |tm| tm.producer_id_and_epoch());
        let tid = g.transactional_id.clone();
        let tv2 = g.tv2 == Some(true);
        let built: Option<(RequestKind, Vec<u8>, i16, i32)> = if want_add {
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
            self.encode(target, &req, Some(max), TxnRequest::AddPartitions(parts))
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
                    self.encode(target, &req, None, TxnRequest::InitProducerId)
                }
                Some(Op::EndTxn { commit }) => {
                    let req = EndTxnRequest {
                        transactional_id: tid,
                        producer_id: pid,
                        producer_epoch: epoch,
                        committed: commit,
                    };
                    let max = if tv2 { 5 } else { 4 };
                    self.encode(target, &req, Some(max), TxnRequest::EndTxn)
                }
                Some(Op::SendOffsets { group, added: false, .. }) if !tv2 => {
                    let req = AddOffsetsToTxnRequest {
                        transactional_id: tid,
                        producer_id: pid,
                        producer_epoch: epoch,
                        group_id: group.group_id,
                    };
                    self.encode(target, &req, None, TxnRequest::AddOffsets)
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
                    self.encode(target, &req, Some(max), TxnRequest::TxnOffsetCommit(group.group_id))
                }
                None => None,
            }
        };
        let Some((kind, bytes, version, id)) = built else {
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
        let deadline = now + self.config.request_timeout;
        if let Some(c) = self.connections.get_mut(&target) {
            c.push(id, version, kind, bytes, true, deadline);
        }
        self.flush_writes(target, now);
    }

    /// Encodes a request for `node` at the highest version both sides support (capped at `max`), with
    /// a fresh correlation id.
    fn encode<R: Request>(
        &mut self,
        node: i32,
        req: &R,
        max: Option<i16>,
        what: TxnRequest,
    ) -> Option<(RequestKind, Vec<u8>, i16, i32)> {
        let c = self.connections.get_mut(&node)?;
        let top = max.map_or(R::MAX_VERSION, |m| m.min(R::MAX_VERSION));
        let version = c.pick_version(R::API_KEY, (R::MIN_VERSION, top))?;
        let id = c.next_id();
        let mut out = Vec::new();
        encode_request(&mut out, version, id, Some(&self.config.client_id), req).ok()?;
        Some((RequestKind::Txn(what), out, version, id))
    }

    fn send_find_coordinator(
        &mut self,
        key_type: i8,
        key: String,
        group: Option<String>,
        now: Instant,
        timeout: &mut Duration,
    ) {
        let Some(node) = self.ready_node(now, timeout) else { return };
        let req = FindCoordinatorRequest::single(key_type, key);
        let Some((kind, bytes, version, id)) =
            self.encode(node, &req, None, TxnRequest::FindCoordinator(group))
        else {
            return;
        };
        if let Some(c) = self.connections.get_mut(&node) {
            c.push(id, version, kind, bytes, true, now + self.config.request_timeout);
        }
        self.flush_writes(node, now);
    }

    /// A transactional request was lost with its connection: try again later.
    pub(super) fn txn_request_lost(&mut self, what: TxnRequest, now: Instant) {
        let Some(t) = self.transactional.clone() else { return };
        let mut g = t.inner.lock();
        match what {
            TxnRequest::AddPartitions(parts) => g.pending_add.extend(parts),
            TxnRequest::TxnOffsetCommit(group) => g.coordinator_moved(Some(&group)),
            TxnRequest::FindCoordinator(_) => {}
            _ => g.coordinator_moved(None),
        }
        g.retry_later(now, self.config.retry_backoff, self.config.retry_backoff_max);
    }

    /// The connection to `node` failed: if it is a coordinator, forget it, so the next transactional
    /// request finds the current one first.
    pub(super) fn txn_node_failed(&mut self, node: i32, now: Instant) {
        let Some(t) = self.transactional.as_ref() else { return };
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
        g.retry_later(now, self.config.retry_backoff, self.config.retry_backoff_max);
    }

    /// Applies a transactional response.
    pub(super) fn on_txn_response(
        &mut self,
        what: TxnRequest,
        body: &[u8],
        version: i16,
        corr: i32,
        now: Instant,
    ) {
        let Some(t) = self.transactional.clone() else { return };
        let mut g = t.inner.lock();
        let (backoff, backoff_max) = (self.config.retry_backoff, self.config.retry_backoff_max);
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
                        Some(c)
                            if is_fatal(c.error_code)
                                || c.error_code == ErrorCode::GROUP_AUTHORIZATION_FAILED =>
                        {
                            let e = Error::Broker { code: c.error_code, message: c.error_message };
                            if group.is_some() {
                                g.fail(e, false);
                            } else {
                                fatal = Some(e);
                            }
                        }
                        _ => g.retry_later(now, backoff, backoff_max),
                    },
                    Err(_) => g.retry_later(now, backoff, backoff_max),
                }
            }
            TxnRequest::InitProducerId => match decode_response::<InitProducerIdRequest>(body, version, corr)
            {
                Ok(r) if r.error_code == ErrorCode::NONE => {
                    let installed = self.txn.as_mut().map(|tm| tm.install(r.producer_id, r.producer_epoch));
                    if let Some(Err(e)) = installed {
                        fatal = Some(e);
                    } else {
                        log::info!("transactional producer id {}, epoch {}", r.producer_id, r.producer_epoch);
                        g.in_txn.clear();
                        g.pending_add.clear();
                        g.started = false;
                        let _ = g.transition(TxnState::Ready);
                        g.finish(Ok(()));
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, backoff_max) => {}
                Ok(r) => {
                    fatal = Some(Error::Broker { code: r.error_code, message: Some("InitProducerId".into()) })
                }
                Err(_) => g.retry_later(now, backoff, backoff_max),
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
                                    }
                                    c if coordinator_moved(c) => {
                                        moved = true;
                                        retry.push(tp);
                                    }
                                    c if retry_same(c) => retry.push(tp),
                                    c if is_fatal(c) => {
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
                            // CONCURRENT_TRANSACTIONS is frequent right after a commit: retry soon.
                            g.next_attempt = now + Duration::from_millis(20);
                        }
                        if let Some(code) = failed {
                            g.fail(Error::Broker { code, message: Some("AddPartitionsToTxn".into()) }, false);
                        }
                    }
                    Err(_) => {
                        g.pending_add.extend(parts);
                        g.retry_later(now, backoff, backoff_max);
                    }
                }
            }
            TxnRequest::AddOffsets => match decode_response::<AddOffsetsToTxnRequest>(body, version, corr) {
                Ok(r) if r.error_code == ErrorCode::NONE => {
                    if let Some(Op::SendOffsets { added, .. }) = g.op.as_mut() {
                        *added = true;
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, backoff_max) => {}
                Ok(r) if is_fatal(r.error_code) => {
                    fatal = Some(Error::Broker { code: r.error_code, message: None })
                }
                Ok(r) => g.fail(
                    Error::Broker { code: r.error_code, message: Some("AddOffsetsToTxn".into()) },
                    false,
                ),
                Err(_) => g.retry_later(now, backoff, backoff_max),
            },
            TxnRequest::TxnOffsetCommit(group) => {
                match decode_response::<TxnOffsetCommitRequest>(body, version, corr) {
                    Ok(r) => {
                        let codes: Vec<ErrorCode> =
                            r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)).collect();
                        if codes.iter().all(|&c| c == ErrorCode::NONE) {
                            g.finish(Ok(()));
                        } else if let Some(&c) = codes.iter().find(|&&c| is_fatal(c)) {
                            fatal = Some(Error::Broker { code: c, message: Some("TxnOffsetCommit".into()) });
                        } else if codes.iter().any(|&c| coordinator_moved(c)) {
                            g.coordinator_moved(Some(&group));
                            g.retry_later(now, backoff, backoff_max);
                        } else if codes.iter().all(|&c| c == ErrorCode::NONE || retry_same(c)) {
                            g.retry_later(now, backoff, backoff_max);
                        } else if let Some(&c) =
                            codes.iter().find(|&&c| c != ErrorCode::NONE && !retry_same(c))
                        {
                            g.fail(Error::Broker { code: c, message: Some("TxnOffsetCommit".into()) }, false);
                        }
                    }
                    Err(_) => g.retry_later(now, backoff, backoff_max),
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
                        if let Some(Err(e)) =
                            self.txn.as_mut().map(|tm| tm.install(r.producer_id, r.producer_epoch))
                        {
                            fatal = Some(e);
                        }
                    }
                    if fatal.is_none() {
                        if !committed && !tv2 {
                            // v1: move to a new epoch after an abort (KIP-360), so sequences restart cleanly.
                            let _ = g.transition(TxnState::Initializing);
                            g.op = Some(Op::Init { bump: true });
                        } else {
                            let _ = g.transition(TxnState::Ready);
                            g.finish(Ok(()));
                        }
                    }
                }
                Ok(r) if g.retry_on(r.error_code, None, now, backoff, backoff_max) => {}
                Ok(r) if r.error_code == ErrorCode::TRANSACTION_ABORTABLE => {
                    g.fail(Error::Broker { code: r.error_code, message: Some("EndTxn".into()) }, false)
                }
                Ok(r) => fatal = Some(Error::Broker { code: r.error_code, message: Some("EndTxn".into()) }),
                Err(_) => g.retry_later(now, backoff, backoff_max),
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
            self.go_fatal(e);
        }
    }

    /// A record batch of the transaction failed for good: the transaction must be aborted (or, when
    /// fenced, the producer is done).
    pub(super) fn txn_batch_failed(&mut self, error: &Error) {
        let Some(t) = self.transactional.clone() else { return };
        let fatal = error.broker_code().is_some_and(fatal_for_produce);
        let mut g = t.inner.lock();
        if matches!(g.state, TxnState::InTransaction | TxnState::Committing) {
            g.fail(error.clone(), fatal);
        }
        drop(g);
        t.notify();
    }

    /// The transactional id, Produce version cap and partition filter for the next Produce request:
    /// `None` for a producer without transactions.
    pub(super) fn txn_produce_context(&self) -> Option<(String, i16, Option<HashSet<TopicPartition>>)> {
        let t = self.transactional.as_ref()?;
        let g = t.inner.lock();
        let tv2 = g.tv2 == Some(true);
        // v1 caps Produce at 11 (12+ means "transactions v2"); v1 partitions must be registered first.
        let cap = if tv2 { 13 } else { 11 };
        let filter = (!tv2).then(|| g.in_txn.clone());
        Some((g.transactional_id.clone(), cap, filter))
    }

    /// Marks the producer fatal in the transaction state too.
    pub(super) fn txn_fatal(&mut self, error: &Error) {
        if let Some(t) = self.transactional.clone() {
            let mut g = t.inner.lock();
            if !matches!(g.state, TxnState::Fatal(_)) {
                g.fail(error.clone(), true);
            }
            drop(g);
            t.notify();
        }
    }
}
