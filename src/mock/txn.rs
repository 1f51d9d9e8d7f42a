//! The transaction coordinator: FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
//! TxnOffsetCommit, and the markers EndTxn writes. The checks and error codes follow Kafka's
//! `TransactionCoordinator` and `KafkaApis` (including the conversion of PRODUCER_FENCED to
//! INVALID_PRODUCER_EPOCH for clients too old to know it).

use crate::protocol::messages::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use crate::protocol::messages::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnResult, AddPartitionsToTxnTopic, AddPartitionsToTxnTopicResult,
};
use crate::protocol::messages::end_txn::{EndTxnRequest, EndTxnResponse};
use crate::protocol::messages::find_coordinator::{
    Coordinator, FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
};
use crate::protocol::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitResponse, TxnOffsetCommitResponsePartition,
    TxnOffsetCommitResponseTopic,
};
use crate::protocol::{ApiKey, ErrorCode};

use super::faults::{Faults, Injected};
use super::handlers::{fenced, run, Answer, Ctx, Outcome, Serve};
use super::server::Shared;
use super::state::{now_ms, PendingOffset, State, TxnState};
use super::RequestRecord;

impl Serve for FindCoordinatorRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, |_, _| Vec::new(), find_coordinator)
    }
}

impl Serve for AddPartitionsToTxnRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, add_partitions_touched, add_partitions)
    }
}

impl Serve for AddOffsetsToTxnRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, |_, _| Vec::new(), add_offsets)
    }
}

impl Serve for EndTxnRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, end_txn_touched, end_txn)
    }
}

impl Serve for TxnOffsetCommitRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, txn_offset_touched, txn_offset_commit)
    }
}

fn injected_all(faults: &mut Faults, api: ApiKey) -> Option<ErrorCode> {
    Injected::new(faults, api).all.filter(|c| *c != ErrorCode::NONE)
}

// ---------------------------------------------------------------------------------------------------
// FindCoordinator

fn find_coordinator(
    st: &mut State,
    cx: Ctx,
    req: &FindCoordinatorRequest,
) -> Answer<FindCoordinatorResponse> {
    let injected = injected_all(&mut st.faults, ApiKey::FIND_COORDINATOR);
    let key_type = if cx.version >= 1 { req.key_type } else { KEY_TYPE_GROUP };
    let lookup = |st: &State, key: &str| -> (ErrorCode, i32, String, i32) {
        let failed = |code| (code, -1, String::new(), -1);
        if let Some(code) = injected {
            return failed(code);
        }
        if key_type != KEY_TYPE_GROUP && key_type != KEY_TYPE_TRANSACTION {
            return failed(ErrorCode::INVALID_REQUEST);
        }
        if key_type == KEY_TYPE_TRANSACTION && key.is_empty() {
            return failed(ErrorCode::INVALID_REQUEST);
        }
        match st.coordinator_for(key) {
            Some(b) => (ErrorCode::NONE, b.node_id, st.advertised_host(b), b.port),
            None => failed(ErrorCode::COORDINATOR_NOT_AVAILABLE),
        }
    };
    let mut resp = FindCoordinatorResponse {
        throttle_time_ms: st.faults.throttle(ApiKey::FIND_COORDINATOR),
        ..Default::default()
    };
    if cx.version < 4 {
        let (error_code, node_id, host, port) = lookup(st, &req.key);
        resp.error_code = error_code;
        resp.node_id = node_id;
        resp.host = host;
        resp.port = port;
    } else {
        resp.coordinators = req
            .coordinator_keys
            .iter()
            .map(|key| {
                let (error_code, node_id, host, port) = lookup(st, key);
                Coordinator { key: key.clone(), node_id, host, port, error_code, error_message: None }
            })
            .collect();
    }
    Answer::Respond(resp)
}

// ---------------------------------------------------------------------------------------------------
// Shared checks

/// Kafka's checks of a transactional request against the coordinator's state: coordinator, non-empty
/// id, producer id mapping, epoch. `fenced_from` is the first version that knows PRODUCER_FENCED.
fn check_txn(st: &State, cx: Ctx, txn_id: &str, producer_id: i64, epoch: i16, fenced_from: i16) -> ErrorCode {
    if txn_id.is_empty() {
        return ErrorCode::INVALID_REQUEST;
    }
    if st.coordinator_for(txn_id).map(|b| b.node_id) != Some(cx.node_id) {
        return ErrorCode::NOT_COORDINATOR;
    }
    match st.txns.get(txn_id) {
        None => ErrorCode::INVALID_PRODUCER_ID_MAPPING,
        Some(m) if m.producer_id != producer_id => ErrorCode::INVALID_PRODUCER_ID_MAPPING,
        Some(m) if m.producer_epoch != epoch => fenced(cx.version, fenced_from),
        Some(_) => ErrorCode::NONE,
    }
}

// ---------------------------------------------------------------------------------------------------
// AddPartitionsToTxn

fn add_partitions_touched(_st: &State, req: &AddPartitionsToTxnRequest) -> Vec<(String, i32)> {
    let topics = req.v3_and_below_topics.iter().chain(req.transactions.iter().flat_map(|t| t.topics.iter()));
    topics.flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), *p))).collect()
}

/// Adds (or, with `verify_only`, checks) one transaction's partitions; the per-topic results.
#[allow(clippy::too_many_arguments)]
fn add_txn_partitions(
    st: &mut State,
    cx: Ctx,
    inj: &Injected,
    txn_id: &str,
    producer_id: i64,
    epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
) -> Vec<AddPartitionsToTxnTopicResult> {
    let parts: Vec<(String, i32)> =
        topics.iter().flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), *p))).collect();
    // Partition-level failures (injected, unknown partitions) fail the whole request: the others are not
    // attempted, as in Kafka.
    let mut errors: Vec<Option<ErrorCode>> = parts
        .iter()
        .map(|(t, p)| {
            inj.partition(&mut st.faults, t, *p)
                .filter(|c| *c != ErrorCode::NONE)
                .or_else(|| st.partition(t, *p).is_none().then_some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION))
        })
        .collect();
    if errors.iter().any(Option::is_some) {
        for e in &mut errors {
            e.get_or_insert(ErrorCode::OPERATION_NOT_ATTEMPTED);
        }
    } else {
        let code = check_txn(st, cx, txn_id, producer_id, epoch, 2);
        if code != ErrorCode::NONE {
            errors.fill(Some(code));
        } else if let Some(m) = st.txns.get_mut(txn_id) {
            if verify_only {
                for (e, key) in errors.iter_mut().zip(&parts) {
                    let present = m.state == TxnState::Ongoing && m.partitions.contains(key);
                    *e = Some(if present { ErrorCode::NONE } else { ErrorCode::TRANSACTION_ABORTABLE });
                }
            } else {
                m.partitions.extend(parts.iter().cloned());
                m.state = TxnState::Ongoing;
            }
        }
    }
    let mut out: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
    for ((topic, p), e) in parts.into_iter().zip(errors) {
        let result = AddPartitionsToTxnPartitionResult {
            partition_index: p,
            partition_error_code: e.unwrap_or(ErrorCode::NONE),
        };
        match out.iter_mut().find(|r| r.name == topic) {
            Some(r) => r.results_by_partition.push(result),
            None => {
                out.push(AddPartitionsToTxnTopicResult { name: topic, results_by_partition: vec![result] })
            }
        }
    }
    out
}

fn add_partitions(
    st: &mut State,
    cx: Ctx,
    req: &AddPartitionsToTxnRequest,
) -> Answer<AddPartitionsToTxnResponse> {
    let inj = Injected::new(&mut st.faults, ApiKey::ADD_PARTITIONS_TO_TXN);
    let mut resp = AddPartitionsToTxnResponse {
        throttle_time_ms: st.faults.throttle(ApiKey::ADD_PARTITIONS_TO_TXN),
        ..Default::default()
    };
    if cx.version < 4 {
        resp.results_by_topic_v3_and_below = add_txn_partitions(
            st,
            cx,
            &inj,
            &req.v3_and_below_transactional_id,
            req.v3_and_below_producer_id,
            req.v3_and_below_producer_epoch,
            false,
            &req.v3_and_below_topics,
        );
    } else {
        resp.results_by_transaction = req
            .transactions
            .iter()
            .map(|t| AddPartitionsToTxnResult {
                transactional_id: t.transactional_id.clone(),
                topic_results: add_txn_partitions(
                    st,
                    cx,
                    &inj,
                    &t.transactional_id,
                    t.producer_id,
                    t.producer_epoch,
                    t.verify_only,
                    &t.topics,
                ),
            })
            .collect();
    }
    Answer::Respond(resp)
}

// ---------------------------------------------------------------------------------------------------
// AddOffsetsToTxn

fn add_offsets(st: &mut State, cx: Ctx, req: &AddOffsetsToTxnRequest) -> Answer<AddOffsetsToTxnResponse> {
    let throttle_time_ms = st.faults.throttle(ApiKey::ADD_OFFSETS_TO_TXN);
    let code = injected_all(&mut st.faults, ApiKey::ADD_OFFSETS_TO_TXN)
        .unwrap_or_else(|| check_txn(st, cx, &req.transactional_id, req.producer_id, req.producer_epoch, 2));
    if code == ErrorCode::NONE {
        if let Some(m) = st.txns.get_mut(&req.transactional_id) {
            m.groups.insert(req.group_id.clone());
            m.state = TxnState::Ongoing;
        }
    }
    Answer::Respond(AddOffsetsToTxnResponse { throttle_time_ms, error_code: code })
}

// ---------------------------------------------------------------------------------------------------
// EndTxn

fn end_txn_touched(st: &State, req: &EndTxnRequest) -> Vec<(String, i32)> {
    st.txns.get(&req.transactional_id).map(|m| m.partitions.iter().cloned().collect()).unwrap_or_default()
}

fn end_txn(st: &mut State, cx: Ctx, req: &EndTxnRequest) -> Answer<EndTxnResponse> {
    let throttle_time_ms = st.faults.throttle(ApiKey::END_TXN);
    let error =
        |code| Answer::Respond(EndTxnResponse { throttle_time_ms, error_code: code, ..Default::default() });
    if let Some(code) = injected_all(&mut st.faults, ApiKey::END_TXN) {
        return error(code);
    }
    let id = req.transactional_id.as_str();
    let v2 = cx.version >= 5;
    // Transactions v2 bump the epoch at every EndTxn, so a retry comes with the previous epoch.
    let Some(meta) = st.txns.get(id).cloned() else {
        return error(check_txn(st, cx, id, req.producer_id, req.producer_epoch, 2));
    };
    if st.coordinator_for(id).map(|b| b.node_id) != Some(cx.node_id) {
        return error(ErrorCode::NOT_COORDINATOR);
    }
    let outcome = if req.committed { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
    let is_v2_retry = v2
        && req.producer_id == meta.producer_id
        && meta.state == outcome
        && i32::from(req.producer_epoch) + 1 == i32::from(meta.producer_epoch);
    let ok = |m: Option<&super::state::TxnMeta>| {
        Answer::Respond(EndTxnResponse {
            throttle_time_ms,
            error_code: ErrorCode::NONE,
            producer_id: m.map_or(-1, |m| m.producer_id),
            producer_epoch: m.map_or(-1, |m| m.producer_epoch),
        })
    };
    if is_v2_retry {
        return ok(Some(&meta));
    }
    let code = check_txn(st, cx, id, req.producer_id, req.producer_epoch, 2);
    if code != ErrorCode::NONE {
        return error(code);
    }
    match meta.state {
        TxnState::Ongoing => {}
        // Transactions v2 (KIP-890) may abort a transaction nothing was added to.
        _ if v2 && !req.committed => {}
        // A retried EndTxn of a completed transaction (transactions v1) with the same outcome.
        s if !v2 && s == outcome => return ok(None),
        _ => return error(ErrorCode::INVALID_TXN_STATE),
    }
    if v2 {
        // The coordinator bumps the epoch first and writes the markers with the new one.
        if let Some(m) = st.txns.get_mut(id) {
            m.last_producer_epoch = m.producer_epoch;
            m.producer_epoch = m.producer_epoch.saturating_add(1);
        }
    }
    complete(st, id, req.committed);
    if v2 {
        let exhausted = st.txns.get(id).is_some_and(|m| m.producer_epoch >= i16::MAX - 1);
        if exhausted {
            let pid = st.allocate_producer_id();
            if let Some(m) = st.txns.get_mut(id) {
                m.last_producer_id = m.producer_id;
                m.producer_id = pid;
                m.producer_epoch = 0;
            }
        }
    }
    let current = st.txns.get(id).cloned();
    ok(if v2 { current.as_ref() } else { None })
}

/// Ends the open transaction of `txn_id`: writes a commit or abort marker (with the transaction's current
/// producer id and epoch) to each of its partitions, commits or drops its pending group offsets, and
/// moves it to CompleteCommit or CompleteAbort.
pub(crate) fn complete(st: &mut State, txn_id: &str, commit: bool) {
    let Some(meta) = st.txns.get(txn_id).cloned() else { return };
    let store = !st.settings.null_sink;
    let now = now_ms();
    for (topic, p) in &meta.partitions {
        if let Some(part) = st.partition_mut(topic, *p) {
            let leader_epoch = part.leader_epoch;
            part.log.append_marker(meta.producer_id, meta.producer_epoch, commit, leader_epoch, now, store);
        }
    }
    for group in &meta.groups {
        let Some(pending) = st.pending_offsets.get_mut(group) else { continue };
        let mine: Vec<_> = pending
            .iter()
            .filter(|(_, o)| o.producer_id == meta.producer_id)
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        for (k, o) in mine {
            pending.remove(&k);
            if commit {
                st.group_offsets.entry(group.clone()).or_default().insert(k, o);
            }
        }
    }
    if let Some(m) = st.txns.get_mut(txn_id) {
        m.state = if commit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
        m.partitions.clear();
        m.groups.clear();
    }
}

// ---------------------------------------------------------------------------------------------------
// TxnOffsetCommit

fn txn_offset_touched(_st: &State, req: &TxnOffsetCommitRequest) -> Vec<(String, i32)> {
    req.topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), p.partition_index)))
        .collect()
}

fn txn_offset_commit(
    st: &mut State,
    cx: Ctx,
    req: &TxnOffsetCommitRequest,
) -> Answer<TxnOffsetCommitResponse> {
    let inj = Injected::new(&mut st.faults, ApiKey::TXN_OFFSET_COMMIT);
    // The group coordinator's checks, applied to every partition.
    let common = if st.coordinator_for(&req.group_id).map(|b| b.node_id) != Some(cx.node_id) {
        ErrorCode::NOT_COORDINATOR
    } else {
        match st.txns.get(&req.transactional_id) {
            None => ErrorCode::INVALID_PRODUCER_ID_MAPPING,
            Some(m) if m.producer_id != req.producer_id => ErrorCode::INVALID_PRODUCER_ID_MAPPING,
            Some(m) if m.producer_epoch != req.producer_epoch => ErrorCode::INVALID_PRODUCER_EPOCH,
            // The group's offsets partition must be in the transaction (AddOffsetsToTxn): Kafka verifies
            // this from v4 and answers TRANSACTION_ABORTABLE.
            Some(m) if !(m.state == TxnState::Ongoing && m.groups.contains(&req.group_id)) => {
                if cx.version >= 4 {
                    ErrorCode::TRANSACTION_ABORTABLE
                } else {
                    ErrorCode::INVALID_TXN_STATE
                }
            }
            Some(_) => ErrorCode::NONE,
        }
    };
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            let code = match inj
                .partition(&mut st.faults, &t.name, p.partition_index)
                .filter(|c| *c != ErrorCode::NONE)
            {
                Some(c) => c,
                None if common != ErrorCode::NONE => common,
                None if st.partition(&t.name, p.partition_index).is_none() => {
                    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                }
                None => {
                    st.pending_offsets.entry(req.group_id.clone()).or_default().insert(
                        (t.name.clone(), p.partition_index),
                        PendingOffset {
                            producer_id: req.producer_id,
                            offset: p.committed_offset,
                            leader_epoch: p.committed_leader_epoch,
                            metadata: p.committed_metadata.clone(),
                        },
                    );
                    ErrorCode::NONE
                }
            };
            partitions.push(TxnOffsetCommitResponsePartition {
                partition_index: p.partition_index,
                error_code: code,
            });
        }
        topics.push(TxnOffsetCommitResponseTopic { name: t.name.clone(), partitions });
    }
    Answer::Respond(TxnOffsetCommitResponse {
        throttle_time_ms: st.faults.throttle(ApiKey::TXN_OFFSET_COMMIT),
        topics,
    })
}
