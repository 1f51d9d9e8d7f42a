//! Request dispatch (one table, [`APIS`], read by both ApiVersions and [`handle`]) and the handlers for
//! ApiVersions, Metadata, Produce and InitProducerId. The transaction coordinator's APIs are in
//! [`txn`].

use std::time::Duration;

use crate::protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use crate::protocol::messages::add_partitions_to_txn::AddPartitionsToTxnRequest;
use crate::protocol::messages::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use crate::protocol::messages::end_txn::EndTxnRequest;
use crate::protocol::messages::find_coordinator::FindCoordinatorRequest;
use crate::protocol::messages::get_telemetry_subscriptions::GetTelemetrySubscriptionsRequest;
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::messages::metadata::{
    MetadataRequest, MetadataResponse, MetadataResponseBroker, MetadataResponsePartition,
    MetadataResponseTopic,
};
use crate::protocol::messages::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceResponse,
};
use crate::protocol::messages::push_telemetry::PushTelemetryRequest;
use crate::protocol::messages::txn_offset_commit::TxnOffsetCommitRequest;
use crate::protocol::primitives::Uuid;
use crate::protocol::record::{decode_batches, OwnedRecord};
use crate::protocol::{
    decode_request_header, encode_response, ApiKey, ErrorCode, Message, Reader, RequestHeader,
};

use super::faults::{mangle, ConnFault, Injected, ResponseFault, Scope, Then};
use super::log::BatchHeader;
use super::server::Shared;
use super::state::{now_ms, valid_topic_name, State, TxnMeta, TxnState, TRANSACTION_MAX_TIMEOUT_MS};
use super::txn;
use super::RequestRecord;

/// What the connection does after a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send these bytes (a response frame, possibly cut, mangled or repeated), then carry on, close or
    /// stall as told.
    Send(Vec<u8>, Then),
    /// Send nothing (a Produce with acks 0).
    NoResponse,
    /// Close the connection without answering.
    Close,
}

/// A handled request: the reply and its response delay (the broker's plus the API's).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub reply: Reply,
    pub delay: Duration,
}

/// What a handler decided.
pub(crate) enum Answer<R> {
    /// Send this response.
    Respond(R),
    /// Send nothing.
    Silent,
    /// Close the connection.
    Close,
}

/// A request type the mock serves. Its [`Message`] constants give the table entry's key and versions,
/// so the handler and what ApiVersions says about it come from one type.
pub(crate) trait Serve: Message {
    /// Handles a request parsed at a version in the codec's range.
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome;

    /// Handles a request at a version outside the codec's range: Kafka closes the connection; only
    /// ApiVersions answers instead (KIP-511).
    fn unsupported_version(shared: &Shared, _cx: Ctx, record: RequestRecord, _corr: i32) -> Outcome {
        refuse(shared, record)
    }
}

/// A handler as the table holds it: the request still unparsed.
type Handler = fn(&Shared, Ctx, RequestRecord, Reader<'_>, i32) -> Outcome;

/// One served API: its key, its versions (exactly the codec's) and its handler.
#[derive(Debug)]
struct Api {
    key: ApiKey,
    min_version: i16,
    max_version: i16,
    handle: Handler,
}

impl Api {
    const fn of<M: Serve>() -> Api {
        Api { key: M::API_KEY, min_version: M::MIN_VERSION, max_version: M::MAX_VERSION, handle: serve::<M> }
    }

    /// The versions served: the codec's, narrowed by a cap when one is set. `None` when a cap leaves
    /// none (the API is then neither advertised nor served).
    fn range(&self, st: &State) -> Option<(i16, i16)> {
        let (lo, hi) = match st.version_caps.get(&self.key) {
            Some(&(lo, hi)) => (lo.max(self.min_version), hi.min(self.max_version)),
            None => (self.min_version, self.max_version),
        };
        (lo <= hi).then_some((lo, hi))
    }

    fn version(&self, st: &State) -> Option<ApiVersion> {
        let (min_version, max_version) = self.range(st)?;
        Some(ApiVersion { api_key: self.key.0, min_version, max_version })
    }
}

/// Every API the mock serves, in key order. ApiVersions advertises exactly these (plus
/// [`UNSERVED_FETCH`] when asked) and [`handle`] dispatches to nothing else, so an API cannot be
/// advertised without being served or served without being advertised.
const APIS: &[Api] = &[
    Api::of::<ProduceRequest>(),
    Api::of::<MetadataRequest>(),
    Api::of::<FindCoordinatorRequest>(),
    Api::of::<ApiVersionsRequest>(),
    Api::of::<InitProducerIdRequest>(),
    Api::of::<AddPartitionsToTxnRequest>(),
    Api::of::<AddOffsetsToTxnRequest>(),
    Api::of::<EndTxnRequest>(),
    Api::of::<TxnOffsetCommitRequest>(),
    Api::of::<GetTelemetrySubscriptionsRequest>(),
    Api::of::<PushTelemetryRequest>(),
];

/// The client telemetry APIs (KIP-714): in [`APIS`], but advertised and served only when the cluster
/// has a telemetry subscription, as Kafka offers them only with a telemetry receiver plugin.
fn offered(st: &State, key: ApiKey) -> bool {
    st.settings.telemetry.is_some()
        || (key != ApiKey::GET_TELEMETRY_SUBSCRIPTIONS && key != ApiKey::PUSH_TELEMETRY)
}

// Strictly increasing keys: no API twice, and ApiVersions lists them in key order without sorting.
const _: () = {
    let mut i = 1;
    while i < APIS.len() {
        assert!(APIS[i - 1].key.0 < APIS[i].key.0, "APIS must be in strictly increasing key order");
        i += 1;
    }
};

/// The one exception to [`APIS`]: Fetch v4, advertised (with `advertise_fetch`) but never served (a
/// Fetch request is refused like any unknown API). librdkafka writes record batch v2 only to brokers
/// listing Fetch v4+.
const UNSERVED_FETCH: ApiVersion = ApiVersion { api_key: ApiKey::FETCH.0, min_version: 4, max_version: 4 };

/// What ApiVersions lists, in key order.
fn advertised_apis(st: &State) -> Vec<ApiVersion> {
    let mut v: Vec<ApiVersion> =
        APIS.iter().filter(|a| offered(st, a.key)).filter_map(|a| a.version(st)).collect();
    if st.settings.advertise_fetch {
        v.push(UNSERVED_FETCH);
        v.sort_by_key(|a| a.api_key);
    }
    v
}

/// A table entry's handler: refuses versions outside the codec's range (unless `M` answers them) and
/// bodies that do not parse, else serves.
fn serve<M: Serve>(shared: &Shared, cx: Ctx, record: RequestRecord, r: Reader<'_>, corr: i32) -> Outcome {
    let capped = |st: &State| {
        st.version_caps.get(&M::API_KEY).is_some_and(|&(lo, hi)| !(lo..=hi).contains(&cx.version))
    };
    if !(M::MIN_VERSION..=M::MAX_VERSION).contains(&cx.version) || capped(&shared.state.lock()) {
        return M::unsupported_version(shared, cx, record, corr);
    }
    match parse::<M>(r, cx.version) {
        Some(req) => M::serve(shared, cx, record, req, corr),
        None => refuse(shared, record),
    }
}

/// Decodes a request body of type `M` at `version`: the header's tagged fields first when the version is
/// flexible. `None` for versions outside the codec's range or malformed bodies.
pub(crate) fn parse<M: Message>(mut r: Reader<'_>, version: i16) -> Option<M> {
    if !(M::MIN_VERSION..=M::MAX_VERSION).contains(&version) {
        return None;
    }
    if version >= M::FLEXIBLE_FROM {
        RequestHeader::decode_tagged(&mut r).ok()?;
    }
    M::decode_body(r.rest(), version).ok()
}

/// The request's context for the handlers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub node_id: i32,
    pub version: i16,
}

fn delay_of(st: &State, node_id: i32, api: ApiKey) -> Duration {
    st.broker(node_id).map_or(Duration::ZERO, |b| b.delay) + st.faults.api_delay(api)
}

/// Handles one request frame (without its size prefix) received by broker `node_id`: the [`APIS`]
/// entry of its API key serves it; a key not in the table is refused.
pub(crate) fn handle(shared: &Shared, node_id: i32, body: &[u8]) -> Outcome {
    let Ok((header, r)) = decode_request_header(body) else {
        return Outcome { reply: Reply::Close, delay: Duration::ZERO };
    };
    let api = header.request_api_key;
    let version = header.request_api_version;
    let corr = header.correlation_id;
    let record = RequestRecord {
        broker: node_id,
        api_key: api,
        api_version: version,
        correlation_id: corr,
        client_id: header.client_id,
    };
    let cx = Ctx { node_id, version };
    let served = APIS.iter().find(|a| a.key == api).filter(|a| offered(&shared.state.lock(), a.key));
    match served {
        Some(a) => (a.handle)(shared, cx, record, r, corr),
        None => refuse(shared, record),
    }
}

/// Records a request that could not be served and closes the connection (what Kafka does for an API or
/// version it does not know, or a body it cannot parse).
pub(crate) fn refuse(shared: &Shared, record: RequestRecord) -> Outcome {
    let mut st = shared.state.lock();
    let delay = delay_of(&st, record.broker, record.api_key);
    st.record_request(record);
    Outcome { reply: Reply::Close, delay }
}

/// Records a request read on a stalled connection (see [`ResponseFault::StallAfter`]): it is neither
/// processed nor answered, but tests can see that the client sent it.
pub(crate) fn record_unanswered(shared: &Shared, node_id: i32, body: &[u8]) {
    let Ok((header, _)) = decode_request_header(body) else { return };
    shared.state.lock().record_request(RequestRecord {
        broker: node_id,
        api_key: header.request_api_key,
        api_version: header.request_api_version,
        correlation_id: header.correlation_id,
        client_id: header.client_id,
    });
}

/// The connection fault for a request (consuming it), when any rule is armed.
fn take_conn(st: &mut State, api: ApiKey, touched: &[(String, i32)]) -> Option<ConnFault> {
    st.faults.take_conn(api, touched)
}

/// The response fault for a request that will be answered: none when a connection fault took the
/// request (that one wins, and the response fault stays armed for the next matching request) or when
/// nothing is sent.
fn take_response<R>(
    st: &mut State,
    api: ApiKey,
    touched: &[(String, i32)],
    answer: &Answer<R>,
    conn: Option<ConnFault>,
) -> Option<(ResponseFault, Scope)> {
    if conn.is_some() || !matches!(answer, Answer::Respond(_)) {
        return None;
    }
    st.faults.take_response(api, touched)
}

/// Encodes a response, applying a connection fault that fires after processing, else a response
/// fault.
fn finish<M: Message>(
    answer: Answer<M>,
    version: i16,
    corr: i32,
    fault: Option<ConnFault>,
    response: Option<ResponseFault>,
) -> Reply {
    match (answer, fault) {
        (Answer::Close, _) | (_, Some(ConnFault::DropAfter)) | (_, Some(ConnFault::DropBefore)) => {
            Reply::Close
        }
        (Answer::Silent, Some(ConnFault::CutAfter(_))) => Reply::Close,
        (Answer::Silent, None) => Reply::NoResponse,
        (Answer::Respond(m), fault) => {
            let mut out = Vec::new();
            if encode_response(&mut out, version, corr, &m).is_err() {
                return Reply::Close;
            }
            match (fault, response) {
                (Some(ConnFault::CutAfter(n)), _) => {
                    out.truncate(n);
                    Reply::Send(out, Then::Close)
                }
                (_, Some(f)) => {
                    let (bytes, then) = mangle(out, f);
                    Reply::Send(bytes, then)
                }
                _ => Reply::Send(out, Then::Continue),
            }
        }
    }
}

/// The common path: under the state lock record the request, apply connection and response faults
/// (scoped by the partitions `touched` names) and run the handler.
pub(crate) fn run<Q: Message, R: Message>(
    shared: &Shared,
    cx: Ctx,
    record: RequestRecord,
    req: &Q,
    corr: i32,
    touched: impl FnOnce(&State, &Q) -> Vec<(String, i32)>,
    process: impl FnOnce(&mut State, Ctx, &Q) -> Answer<R>,
) -> Outcome {
    let api = record.api_key;
    let mut st = shared.state.lock();
    let delay = delay_of(&st, cx.node_id, api);
    st.record_request(record);
    let touched = if st.faults.has_rules() { touched(&st, req) } else { Vec::new() };
    let fault = take_conn(&mut st, api, &touched);
    if fault == Some(ConnFault::DropBefore) {
        return Outcome { reply: Reply::Close, delay };
    }
    let answer = process(&mut st, cx, req);
    let response = take_response(&mut st, api, &touched, &answer, fault).map(|(f, _)| f);
    drop(st);
    Outcome { reply: finish(answer, cx.version, corr, fault, response), delay }
}

impl Serve for ApiVersionsRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(
            shared,
            cx,
            record,
            &req,
            corr,
            |_, _| Vec::new(),
            |st, cx, req| {
                let code = Injected::new(&mut st.faults, ApiKey::API_VERSIONS).all.unwrap_or(ErrorCode::NONE);
                let named = valid_software_part(&req.client_software_name)
                    && valid_software_part(&req.client_software_version);
                if cx.version >= 3 && !named {
                    // Kafka lists no API then.
                    return Answer::Respond(ApiVersionsResponse {
                        error_code: ErrorCode::INVALID_REQUEST,
                        ..Default::default()
                    });
                }
                Answer::Respond(ApiVersionsResponse {
                    error_code: code,
                    api_keys: advertised_apis(st),
                    throttle_time_ms: st.faults.throttle(ApiKey::API_VERSIONS),
                    ..Default::default()
                })
            },
        )
    }

    /// KIP-511: UNSUPPORTED_VERSION in the v0 layout with our ranges, so the client can retry. Faults
    /// apply here too: this is a client's first request when it knows newer versions.
    fn unsupported_version(shared: &Shared, cx: Ctx, record: RequestRecord, corr: i32) -> Outcome {
        let mut st = shared.state.lock();
        let api = ApiKey::API_VERSIONS;
        let delay = delay_of(&st, cx.node_id, api);
        st.record_request(record);
        let fault = take_conn(&mut st, api, &[]);
        if fault == Some(ConnFault::DropBefore) {
            return Outcome { reply: Reply::Close, delay };
        }
        let answer = Answer::Respond(ApiVersionsResponse {
            error_code: ErrorCode::UNSUPPORTED_VERSION,
            api_keys: advertised_apis(&st),
            ..Default::default()
        });
        let response = take_response(&mut st, api, &[], &answer, fault).map(|(f, _)| f);
        drop(st);
        Outcome { reply: finish(answer, 0, corr, fault, response), delay }
    }
}

/// KIP-511's rule for a client software name or version (v3+):
/// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn valid_software_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------
// Metadata

impl Serve for MetadataRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, metadata_touched, metadata)
    }
}

fn metadata_touched(st: &State, req: &MetadataRequest) -> Vec<(String, i32)> {
    let names: Vec<String> = match &req.topics {
        None => st.topics.keys().cloned().collect(),
        Some(ts) if ts.is_empty() => st.topics.keys().cloned().collect(),
        Some(ts) => ts
            .iter()
            .filter_map(|t| t.name.clone().or_else(|| st.topic_by_id(t.topic_id).map(str::to_owned)))
            .collect(),
    };
    names
        .into_iter()
        .flat_map(|n| {
            let count = st.topics.get(&n).map_or(0, |t| t.partitions.len());
            (0..i32::try_from(count).unwrap_or(0)).map(move |p| (n.clone(), p))
        })
        .collect()
}

fn topic_error(code: ErrorCode, name: Option<String>, id: Uuid) -> MetadataResponseTopic {
    MetadataResponseTopic { error_code: code, name, topic_id: id, ..Default::default() }
}

fn describe_topic(st: &mut State, inj: &Injected, name: &str) -> MetadataResponseTopic {
    if let Some(code) = inj.all.filter(|c| *c != ErrorCode::NONE) {
        return topic_error(code, Some(name.to_owned()), Uuid::ZERO);
    }
    let Some(t) = st.topics.get(name) else {
        return topic_error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(name.to_owned()), Uuid::ZERO);
    };
    let id = t.id;
    // Leadership and replicas only; error codes and offline replicas are filled in below.
    let snapshot: Vec<MetadataResponsePartition> = match st.faults.metadata_partitions(name) {
        None => t
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let index = i32::try_from(i).unwrap_or(i32::MAX);
                partition_view(index, p.leader, p.leader_epoch, p.replicas.clone(), p.isr.clone())
            })
            .collect(),
        Some(indexes) => listed_partitions(st, name, indexes),
    };
    let mut partitions = Vec::with_capacity(snapshot.len());
    for mut p in snapshot {
        let injected = st
            .faults
            .take_error(ApiKey::METADATA, Some((name, p.partition_index)))
            .filter(|c| *c != ErrorCode::NONE);
        if p.leader_id == -1 {
            p.error_code = ErrorCode::LEADER_NOT_AVAILABLE;
        }
        if let Some(code) = injected {
            p.error_code = code;
            if code == ErrorCode::LEADER_NOT_AVAILABLE {
                p.leader_id = -1;
            }
        }
        p.offline_replicas = p.replica_nodes.iter().copied().filter(|&r| !st.broker_up(r)).collect();
        partitions.push(p);
    }
    MetadataResponseTopic {
        error_code: ErrorCode::NONE,
        name: Some(name.to_owned()),
        topic_id: id,
        is_internal: false,
        partitions,
        ..Default::default()
    }
}

/// The partitions `set_metadata_partitions` makes Metadata report: each listed index led by the
/// partition's real leader (with its real epoch, so clients do not discard it as stale) when the
/// partition exists and has one, else by the first live broker at epoch 0; replicas and ISR are just
/// the leader.
fn listed_partitions(st: &State, name: &str, indexes: &[i32]) -> Vec<MetadataResponsePartition> {
    let first_live = st.up_brokers().map(|b| b.node_id).next();
    indexes
        .iter()
        .map(|&index| {
            let real = st.partition(name, index).filter(|p| p.leader >= 0);
            let (leader, epoch) = match (real, first_live) {
                (Some(p), _) => (p.leader, p.leader_epoch),
                (None, Some(b)) => (b, 0),
                (None, None) => (-1, 0),
            };
            let nodes: Vec<i32> = if leader >= 0 { vec![leader] } else { Vec::new() };
            partition_view(index, leader, epoch, nodes.clone(), nodes)
        })
        .collect()
}

/// A Metadata partition entry with error NONE and no offline replicas yet.
fn partition_view(
    index: i32,
    leader_id: i32,
    leader_epoch: i32,
    replica_nodes: Vec<i32>,
    isr_nodes: Vec<i32>,
) -> MetadataResponsePartition {
    MetadataResponsePartition {
        error_code: ErrorCode::NONE,
        partition_index: index,
        leader_id,
        leader_epoch,
        replica_nodes,
        isr_nodes,
        offline_replicas: Vec::new(),
    }
}

fn metadata(st: &mut State, cx: Ctx, req: &MetadataRequest) -> Answer<MetadataResponse> {
    let v = cx.version;
    let inj = Injected::new(&mut st.faults, ApiKey::METADATA);
    let all = match &req.topics {
        None => true,
        Some(t) => v == 0 && t.is_empty(),
    };
    let allow_auto = st.settings.auto_create_topics && (v < 4 || req.allow_auto_topic_creation);
    let mut topics = Vec::new();
    if all {
        let names: Vec<String> = st.topics.keys().cloned().collect();
        for n in names {
            topics.push(describe_topic(st, &inj, &n));
        }
    } else {
        for t in req.topics.iter().flatten() {
            let name = match &t.name {
                Some(n) => n.clone(),
                None if v >= 12 => match st.topic_by_id(t.topic_id) {
                    Some(n) => n.to_owned(),
                    None => {
                        topics.push(topic_error(ErrorCode::UNKNOWN_TOPIC_ID, None, t.topic_id));
                        continue;
                    }
                },
                None => {
                    topics.push(topic_error(ErrorCode::INVALID_REQUEST, None, t.topic_id));
                    continue;
                }
            };
            if st.topics.contains_key(&name) {
                topics.push(describe_topic(st, &inj, &name));
            } else if !valid_topic_name(&name) {
                topics.push(topic_error(ErrorCode::INVALID_TOPIC_EXCEPTION, Some(name), Uuid::ZERO));
            } else if allow_auto {
                // Like a Kafka 4.x (KRaft) broker: the topic is created, but this response still says
                // UNKNOWN_TOPIC_OR_PARTITION; it is usable from the next request.
                let rf =
                    st.settings.default_replication_factor.min(i16::try_from(st.brokers.len()).unwrap_or(1));
                let partitions = st.settings.default_partitions;
                let code = match st.create_topic(&name, partitions, rf) {
                    Ok(()) => ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    Err(e) => e.code(),
                };
                topics.push(topic_error(code, Some(name), Uuid::ZERO));
            } else {
                topics.push(topic_error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, Some(name), Uuid::ZERO));
            }
        }
    }
    let brokers = st
        .up_brokers()
        .map(|b| MetadataResponseBroker {
            node_id: b.node_id,
            host: st.advertised_host(b),
            port: b.port,
            rack: None,
        })
        .collect();
    Answer::Respond(MetadataResponse {
        throttle_time_ms: st.faults.throttle(ApiKey::METADATA),
        brokers,
        cluster_id: Some(st.cluster_id.clone()),
        controller_id: st.up_brokers().map(|b| b.node_id).min().unwrap_or(-1),
        topics,
        ..Default::default()
    })
}

// ---------------------------------------------------------------------------------------------------
// Produce

/// A partition's records after the checks that need no cluster state.
struct Prepared {
    header: BatchHeader,
    /// The batch's size in bytes.
    size: usize,
    /// What the log's validation (run later, after the leadership and ISR checks) will say: the batch
    /// (empty in null-sink mode) and its records, or an error.
    content: Result<(Vec<u8>, Vec<OwnedRecord>), ErrorCode>,
}

/// The size of the batch at the start of `b` (with its 12-byte offset and length prefix) when it is
/// complete, `None` when it is not, like Kafka's `ByteBufferLogInputStream.nextBatchSize`: a size below
/// the smallest record or a magic other than 0 to 2 is CORRUPT_MESSAGE.
fn next_batch_size(b: &[u8]) -> Result<Option<usize>, ErrorCode> {
    let Some(s) = b.get(8..12) else { return Ok(None) };
    let size = i32::from_be_bytes([s[0], s[1], s[2], s[3]]);
    if size < 14 {
        return Err(ErrorCode::CORRUPT_MESSAGE);
    }
    let Some(&magic) = b.get(16) else { return Ok(None) };
    if magic > 2 {
        return Err(ErrorCode::CORRUPT_MESSAGE);
    }
    let total = usize::try_from(size).map_or(usize::MAX, |n| n.saturating_add(12));
    Ok((b.len() >= total).then_some(total))
}

/// The checks of Kafka's `ProduceRequest.validateRecords` (made before the leadership check): exactly one
/// complete batch, magic 2, zstd only from Produce v7. The log's own checks (base offset 0, CRC, a
/// client may not write control batches, record counts and offset deltas, records that decompress and
/// decode) are run here too, without the lock, but reported later, in Kafka's order. In null-sink mode
/// only the framing is checked.
fn prepare(records: Option<&[u8]>, version: i16, null_sink: bool) -> Result<Prepared, ErrorCode> {
    let buf = records.unwrap_or_default();
    let total = next_batch_size(buf)?.ok_or(ErrorCode::INVALID_RECORD)?;
    let (first, rest) = buf.split_at(total);
    if next_batch_size(rest)?.is_some() {
        return Err(ErrorCode::INVALID_RECORD);
    }
    if first.get(16).copied() != Some(2) {
        return Err(ErrorCode::INVALID_RECORD);
    }
    if total < 61 {
        return Err(ErrorCode::CORRUPT_MESSAGE);
    }
    let header = BatchHeader::peek(first).ok_or(ErrorCode::CORRUPT_MESSAGE)?;
    if header.attributes & 0x07 == 4 && version < 7 {
        return Err(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
    }
    let content = if null_sink {
        if header.last_offset_delta < 0 {
            Err(ErrorCode::INVALID_RECORD)
        } else {
            Ok((Vec::new(), Vec::new()))
        }
    } else {
        validate_batch(first)
    };
    Ok(Prepared { header, size: total, content })
}

/// The log's validation of one complete batch (`UnifiedLog.analyzeAndValidateRecords` and
/// `LogValidator`).
fn validate_batch(first: &[u8]) -> Result<(Vec<u8>, Vec<OwnedRecord>), ErrorCode> {
    let batch = match decode_batches(first).next() {
        Some(Ok(b)) => b,
        Some(Err(_)) | None => return Err(ErrorCode::CORRUPT_MESSAGE),
    };
    if batch.base_offset != 0 || batch.is_control() {
        return Err(ErrorCode::INVALID_RECORD);
    }
    if batch.record_count <= 0 || i64::from(batch.last_offset_delta) + 1 != i64::from(batch.record_count) {
        return Err(ErrorCode::INVALID_RECORD);
    }
    if batch.producer_id >= 0 && batch.base_sequence < 0 {
        return Err(ErrorCode::INVALID_RECORD);
    }
    let records = batch.decode_records().map_err(|_| ErrorCode::CORRUPT_MESSAGE)?;
    if records.iter().enumerate().any(|(i, r)| usize::try_from(r.offset_delta).ok() != Some(i)) {
        return Err(ErrorCode::INVALID_RECORD);
    }
    Ok((first.to_vec(), records))
}

fn produce_error(index: i32, code: ErrorCode) -> PartitionProduceResponse {
    PartitionProduceResponse {
        index,
        error_code: code,
        base_offset: -1,
        log_append_time_ms: -1,
        log_start_offset: -1,
        ..Default::default()
    }
}

impl Serve for ProduceRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        produce(shared, cx, record, &req, corr)
    }
}

fn produce(shared: &Shared, cx: Ctx, record: RequestRecord, req: &ProduceRequest, corr: i32) -> Outcome {
    let null_sink = shared.null_sink;
    // Decoding, CRC checks and decompression happen before taking the lock.
    let prepared: Vec<Vec<Result<Prepared, ErrorCode>>> = req
        .topic_data
        .iter()
        .map(|t| {
            t.partition_data.iter().map(|p| prepare(p.records.as_deref(), cx.version, null_sink)).collect()
        })
        .collect();

    let mut st = shared.state.lock();
    let delay = delay_of(&st, cx.node_id, ApiKey::PRODUCE);
    st.record_request(record);
    let names: Vec<Option<String>> = req
        .topic_data
        .iter()
        .map(|t| {
            if cx.version >= 13 {
                st.topic_by_id(t.topic_id).map(str::to_owned)
            } else {
                Some(t.name.clone())
            }
        })
        .collect();
    let touched: Vec<(String, i32)> = if st.faults.has_rules() {
        req.topic_data
            .iter()
            .zip(&names)
            .filter_map(|(t, n)| n.as_ref().map(|n| (t, n)))
            .flat_map(|(t, n)| t.partition_data.iter().map(move |p| (n.clone(), p.index)))
            .collect()
    } else {
        Vec::new()
    };
    let fault = take_conn(&mut st, ApiKey::PRODUCE, &touched);
    if fault == Some(ConnFault::DropBefore) {
        return Outcome { reply: Reply::Close, delay };
    }
    let inj = Injected::new(&mut st.faults, ApiKey::PRODUCE);
    let mut any_error = false;
    let mut leaders = Vec::new();
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for ((t, name), preps) in req.topic_data.iter().zip(&names).zip(prepared) {
        let mut partition_responses = Vec::with_capacity(t.partition_data.len());
        for (p, prep) in t.partition_data.iter().zip(preps) {
            let resp = match name {
                None => produce_error(p.index, ErrorCode::UNKNOWN_TOPIC_ID),
                Some(name) => {
                    produce_partition(&mut st, cx, req, &inj, name, p.index, prep, null_sink, &mut leaders)
                }
            };
            any_error |= resp.error_code != ErrorCode::NONE;
            partition_responses.push(resp);
        }
        responses.push(TopicProduceResponse {
            name: t.name.clone(),
            topic_id: t.topic_id,
            partition_responses,
        });
    }
    let node_endpoints = if cx.version >= 10 {
        leaders.sort_unstable();
        leaders.dedup();
        leaders
            .iter()
            .filter_map(|&id| st.broker(id))
            .map(|b| NodeEndpoint {
                node_id: b.node_id,
                host: st.advertised_host(b),
                port: b.port,
                rack: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let throttle_time_ms = st.faults.throttle(ApiKey::PRODUCE);
    let mut answer = if req.acks == 0 {
        // Kafka sends nothing for acks 0, but closes the connection when a partition failed so the client
        // notices (and refreshes its metadata).
        if any_error {
            Answer::Close
        } else {
            Answer::Silent
        }
    } else {
        Answer::Respond(ProduceResponse { responses, throttle_time_ms, node_endpoints })
    };
    let response = take_response(&mut st, ApiKey::PRODUCE, &touched, &answer, fault);
    drop(st);
    if let (Some((ResponseFault::OmitPartition, scope)), Answer::Respond(resp)) = (&response, &mut answer) {
        omit_partition(resp, &names, scope.as_ref());
    }
    Outcome { reply: finish(answer, cx.version, corr, fault, response.map(|(f, _)| f)), delay }
}

/// Leaves the `scope` partition (unscoped: the request's first partition) out of a Produce response,
/// and its topic too when nothing else of it is left. `names` are the request's topic names in order
/// (the response's topics are in the same order).
fn omit_partition(resp: &mut ProduceResponse, names: &[Option<String>], scope: Option<&(String, i32)>) {
    let hit = |ti: usize, index: i32| match scope {
        None => true,
        Some((topic, p)) => names.get(ti).and_then(Option::as_deref) == Some(topic.as_str()) && *p == index,
    };
    let found =
        resp.responses.iter().enumerate().find_map(|(ti, t)| {
            t.partition_responses.iter().position(|p| hit(ti, p.index)).map(|pi| (ti, pi))
        });
    let Some((ti, pi)) = found else { return };
    let Some(topic) = resp.responses.get_mut(ti) else { return };
    topic.partition_responses.remove(pi);
    if topic.partition_responses.is_empty() {
        resp.responses.remove(ti);
    }
}

#[allow(clippy::too_many_arguments)]
fn produce_partition(
    st: &mut State,
    cx: Ctx,
    req: &ProduceRequest,
    inj: &Injected,
    name: &str,
    index: i32,
    prep: Result<Prepared, ErrorCode>,
    null_sink: bool,
    leaders: &mut Vec<i32>,
) -> PartitionProduceResponse {
    // Kafka's order: KafkaApis (topic exists, records framing), then ReplicaManager (acks, leadership,
    // ISR), then the log (size, validation, duplicates, transaction verification, producer state).
    if let Some(code) = inj.partition(&mut st.faults, name, index).filter(|c| *c != ErrorCode::NONE) {
        return produce_error(index, code);
    }
    let Some(topic) = st.topics.get(name) else {
        return produce_error(index, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    };
    let min_insync = st.min_insync(topic);
    let st_lossy = st.settings.lossy_failover;
    let log_append_time = topic.config.log_append_time;
    let max_bytes = topic.config.max_message_bytes.unwrap_or(super::state::DEFAULT_MAX_MESSAGE_BYTES);
    let Some(part) = st.partition(name, index) else {
        return produce_error(index, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    };
    let prep = match prep {
        Ok(p) => p,
        Err(code) => return produce_error(index, code),
    };
    if !matches!(req.acks, -1..=1) {
        return produce_error(index, ErrorCode::INVALID_REQUIRED_ACKS);
    }
    if part.leader != cx.node_id {
        let mut resp = produce_error(index, ErrorCode::NOT_LEADER_OR_FOLLOWER);
        if part.leader >= 0 {
            resp.current_leader =
                LeaderIdAndEpoch { leader_id: part.leader, leader_epoch: part.leader_epoch };
            leaders.push(part.leader);
        }
        return resp;
    }
    if req.acks == -1 && i32::try_from(part.isr.len()).unwrap_or(i32::MAX) < min_insync {
        return produce_error(index, ErrorCode::NOT_ENOUGH_REPLICAS);
    }
    if i64::try_from(prep.size).unwrap_or(i64::MAX) > i64::from(max_bytes) {
        return produce_error(index, ErrorCode::MESSAGE_TOO_LARGE);
    }
    let (bytes, records) = match prep.content {
        Ok(c) => c,
        Err(code) => return produce_error(index, code),
    };
    let h = prep.header;
    if let Some(meta) = part.log.find_duplicate(&h) {
        return PartitionProduceResponse {
            index,
            error_code: ErrorCode::NONE,
            base_offset: meta.first_offset,
            // Kafka answers a duplicate with the original batch's max timestamp as the append time.
            log_append_time_ms: meta.timestamp,
            log_start_offset: 0,
            ..Default::default()
        };
    }
    if h.transactional() && h.has_producer_id() && !part.log.has_open_txn(h.producer_id, h.producer_epoch) {
        // KIP-890 verification: the first transactional write to a partition must be known to the
        // coordinator (AddPartitionsToTxn; implicitly added for Produce v12+, transactions v2).
        if part.log.producer_epoch(h.producer_id).is_some_and(|e| h.producer_epoch < e) {
            return produce_error(index, ErrorCode::INVALID_PRODUCER_EPOCH);
        }
        let verified = req
            .transactional_id
            .as_deref()
            .and_then(|id| st.txns.get_mut(id))
            .filter(|m| m.producer_id == h.producer_id && m.producer_epoch == h.producer_epoch)
            .is_some_and(|m| verify_partition(m, name, index, cx.version >= 12));
        if !verified {
            return produce_error(index, ErrorCode::INVALID_TXN_STATE);
        }
    }
    let Some(part) = st.partition_mut(name, index) else {
        return produce_error(index, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    };
    if let Err(code) = part.log.check_producer(&h) {
        return produce_error(index, code);
    }
    let append_time = log_append_time.then(now_ms);
    let leader_epoch = part.leader_epoch;
    let base = part.log.append(&h, bytes, records, leader_epoch, append_time, !null_sink);
    if req.acks == -1 || !st_lossy {
        // acks=all waits for the in-sync replicas; without lossy failover every append counts as
        // replicated at once.
        part.log.replicate();
    }
    PartitionProduceResponse {
        index,
        error_code: ErrorCode::NONE,
        base_offset: base,
        log_append_time_ms: append_time.unwrap_or(-1),
        log_start_offset: 0,
        ..Default::default()
    }
}

/// True when the transaction `m` contains the partition; with `implicit` (transactions v2), an
/// open or complete transaction of the right producer takes the partition in.
fn verify_partition(m: &mut TxnMeta, topic: &str, partition: i32, implicit: bool) -> bool {
    let key = (topic.to_owned(), partition);
    if m.state == TxnState::Ongoing && m.partitions.contains(&key) {
        return true;
    }
    if implicit {
        m.partitions.insert(key);
        m.state = TxnState::Ongoing;
        return true;
    }
    false
}

// ---------------------------------------------------------------------------------------------------
// InitProducerId

impl Serve for InitProducerIdRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, |_, _| Vec::new(), init_producer_id)
    }
}

fn init_error(st: &State, code: ErrorCode) -> Answer<InitProducerIdResponse> {
    Answer::Respond(InitProducerIdResponse {
        throttle_time_ms: st.faults.throttle(ApiKey::INIT_PRODUCER_ID),
        error_code: code,
        producer_id: -1,
        producer_epoch: -1,
        ..Default::default()
    })
}

/// PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH for clients too old to know it (as Kafka converts it).
pub(crate) fn fenced(version: i16, first_version_with_fenced: i16) -> ErrorCode {
    if version < first_version_with_fenced {
        ErrorCode::INVALID_PRODUCER_EPOCH
    } else {
        ErrorCode::PRODUCER_FENCED
    }
}

fn init_producer_id(st: &mut State, cx: Ctx, req: &InitProducerIdRequest) -> Answer<InitProducerIdResponse> {
    if let Some(code) =
        Injected::new(&mut st.faults, ApiKey::INIT_PRODUCER_ID).all.filter(|c| *c != ErrorCode::NONE)
    {
        return init_error(st, code);
    }
    let throttle_time_ms = st.faults.throttle(ApiKey::INIT_PRODUCER_ID);
    let ok = |producer_id, producer_epoch| {
        Answer::Respond(InitProducerIdResponse {
            throttle_time_ms,
            error_code: ErrorCode::NONE,
            producer_id,
            producer_epoch,
            ..Default::default()
        })
    };
    let Some(txn_id) = req.transactional_id.as_deref() else {
        // Idempotent producer: always a fresh producer id (also when it asks to bump its epoch).
        let id = st.allocate_producer_id();
        return ok(id, 0);
    };
    if txn_id.is_empty() {
        return init_error(st, ErrorCode::INVALID_REQUEST);
    }
    if st.coordinator_for(txn_id).map(|b| b.node_id) != Some(cx.node_id) {
        return init_error(st, ErrorCode::NOT_COORDINATOR);
    }
    if req.transaction_timeout_ms <= 0 || req.transaction_timeout_ms > TRANSACTION_MAX_TIMEOUT_MS {
        return init_error(st, ErrorCode::INVALID_TRANSACTION_TIMEOUT);
    }
    let expected = (cx.version >= 3 && req.producer_id >= 0).then_some((req.producer_id, req.producer_epoch));
    let Some(meta) = st.txns.get(txn_id).cloned() else {
        let id = st.allocate_producer_id();
        st.txns.insert(
            txn_id.to_owned(),
            TxnMeta {
                producer_id: id,
                producer_epoch: 0,
                last_producer_id: -1,
                last_producer_epoch: -1,
                timeout_ms: req.transaction_timeout_ms,
                state: TxnState::Empty,
                partitions: Default::default(),
                groups: Default::default(),
            },
        );
        return ok(id, 0);
    };
    // Kafka's `isValidProducerId`: the expected id must be the current one, with the current or the last
    // epoch (a retry).
    if let Some((pid, epoch)) = expected {
        let valid =
            pid == meta.producer_id && (epoch == meta.producer_epoch || epoch == meta.last_producer_epoch);
        if !valid {
            return init_error(st, fenced(cx.version, 4));
        }
    }
    if meta.state == TxnState::Ongoing {
        // Fence the current producer: bump the epoch, abort its transaction with the new epoch, and make
        // the client retry (which bumps the epoch once more), as Kafka does.
        if let Some(m) = st.txns.get_mut(txn_id) {
            m.producer_epoch = m.producer_epoch.saturating_add(1);
            m.last_producer_epoch = -1;
        }
        txn::complete(st, txn_id, false);
        return init_error(st, ErrorCode::CONCURRENT_TRANSACTIONS);
    }
    // Kafka's `prepareIncrementProducerEpoch`.
    let (pid, epoch, last_epoch) = match expected {
        Some((_, e)) if e != meta.producer_epoch && e == meta.last_producer_epoch => {
            // A retry of a successful call: the current epoch, not bumped again.
            (meta.producer_id, meta.producer_epoch, meta.last_producer_epoch)
        }
        _ if meta.producer_epoch >= i16::MAX - 1 => (st.allocate_producer_id(), 0, -1),
        Some(_) => (meta.producer_id, meta.producer_epoch + 1, meta.producer_epoch),
        None => (meta.producer_id, meta.producer_epoch + 1, -1),
    };
    if let Some(m) = st.txns.get_mut(txn_id) {
        m.last_producer_id = m.producer_id;
        m.last_producer_epoch = last_epoch;
        m.producer_id = pid;
        m.producer_epoch = epoch;
        m.timeout_ms = req.transaction_timeout_ms;
        m.state = TxnState::Empty;
        m.partitions.clear();
        m.groups.clear();
    }
    ok(pid, epoch)
}

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;

    use super::*;
    use crate::mock::state::{BrokerInfo, Settings};
    use crate::protocol::{decode_response, encode_request, Request};

    /// One broker offering everything in [`APIS`] (telemetry included).
    fn shared(advertise_fetch: bool) -> Shared {
        let telemetry = Some(crate::mock::TelemetrySubscription::new(&[""], Duration::from_secs(1)));
        with_settings(Settings { advertise_fetch, telemetry, ..Settings::default() })
    }

    fn with_settings(settings: Settings) -> Shared {
        let broker =
            BrokerInfo { node_id: 1, host: "127.0.0.1".into(), port: 9092, up: true, delay: Duration::ZERO };
        Shared { state: Mutex::new(State::new(settings, vec![broker])), max_frame: 1 << 20, null_sink: false }
    }

    fn last_request(shared: &Shared) -> (ApiKey, i16) {
        let st = shared.state.lock();
        let r = st.requests.back().unwrap();
        (r.api_key, r.api_version)
    }

    /// Sends `req` at `version` to broker 1 and decodes the answer, which must be a response of `M`'s API
    /// with the connection left open.
    fn answers<M: Request>(shared: &Shared, version: i16, req: M) -> M::Response {
        let mut out = Vec::new();
        encode_request(&mut out, version, 42, Some("t"), &req).unwrap();
        let Outcome { reply, .. } = handle(shared, 1, &out[4..]);
        let Reply::Send(bytes, Then::Continue) = reply else {
            panic!("{} v{version} not answered: {reply:?}", M::API_KEY)
        };
        assert_eq!(last_request(shared), (M::API_KEY, version));
        decode_response::<M>(&bytes[4..], version, 42).unwrap()
    }

    /// An ApiVersions request that names the client, as v3+ must.
    fn hello() -> ApiVersionsRequest {
        ApiVersionsRequest {
            client_software_name: "kprod-test".into(),
            client_software_version: "1.0".into(),
            ..Default::default()
        }
    }

    #[test]
    fn api_versions_v3_refuses_client_names_outside_kip_511s_pattern() {
        let s = shared(false);
        for (name, version) in [("", "1"), ("a", ""), ("-a", "1"), ("a.", "1"), ("a", "1 0"), ("ä", "1")] {
            let req = ApiVersionsRequest {
                client_software_name: name.into(),
                client_software_version: version.into(),
                ..Default::default()
            };
            let r = answers(&s, 3, req.clone());
            assert_eq!(
                (r.error_code, r.api_keys.len()),
                (ErrorCode::INVALID_REQUEST, 0),
                "{name:?} {version:?}"
            );
            assert_eq!(answers(&s, 2, req).error_code, ErrorCode::NONE, "v2 names no client");
        }
        for (name, version) in [("a", "1"), ("kprod-x.y", "0.1.0-rc1"), ("A9", "9")] {
            let req = ApiVersionsRequest {
                client_software_name: name.into(),
                client_software_version: version.into(),
                ..Default::default()
            };
            assert_eq!(answers(&s, 3, req).error_code, ErrorCode::NONE, "{name:?} {version:?}");
        }
    }

    /// A request header (v1, null client id) with an empty body.
    fn bare(api: i16, version: i16) -> Vec<u8> {
        [&api.to_be_bytes()[..], &version.to_be_bytes(), &7i32.to_be_bytes(), &(-1i16).to_be_bytes()].concat()
    }

    fn refused(shared: &Shared, api: i16, version: i16) -> bool {
        let closed = matches!(handle(shared, 1, &bare(api, version)).reply, Reply::Close);
        closed && last_request(shared) == (ApiKey(api), version)
    }

    /// A served request type: its key, the codec's range and a call that must be answered.
    type Probe = (ApiKey, (i16, i16), fn(&Shared, i16));

    macro_rules! probe {
        ($m:ty, $req:expr) => {
            (
                <$m>::API_KEY,
                (<$m>::MIN_VERSION, <$m>::MAX_VERSION),
                (|s: &Shared, v: i16| {
                    answers::<$m>(s, v, $req);
                }) as fn(&Shared, i16),
            )
        };
    }

    /// Every request type the mock should serve, written out independently of [`APIS`].
    fn probes() -> Vec<Probe> {
        vec![
            // acks 1, so that there is a response to check.
            probe!(ProduceRequest, ProduceRequest { acks: 1, timeout_ms: 1000, ..Default::default() }),
            probe!(MetadataRequest, MetadataRequest { topics: Some(Vec::new()), ..Default::default() }),
            probe!(FindCoordinatorRequest, FindCoordinatorRequest::default()),
            probe!(ApiVersionsRequest, hello()),
            probe!(InitProducerIdRequest, InitProducerIdRequest::default()),
            probe!(AddPartitionsToTxnRequest, AddPartitionsToTxnRequest::default()),
            probe!(AddOffsetsToTxnRequest, AddOffsetsToTxnRequest::default()),
            probe!(EndTxnRequest, EndTxnRequest::default()),
            probe!(TxnOffsetCommitRequest, TxnOffsetCommitRequest::default()),
            probe!(GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsRequest::default()),
            probe!(PushTelemetryRequest, PushTelemetryRequest::default()),
        ]
    }

    #[test]
    fn telemetry_apis_are_offered_only_with_a_subscription() {
        let s = with_settings(Settings::default());
        let advertised = answers(&s, 4, hello()).api_keys;
        assert_eq!(advertised.len(), APIS.len() - 2);
        for key in [ApiKey::GET_TELEMETRY_SUBSCRIPTIONS, ApiKey::PUSH_TELEMETRY] {
            assert!(advertised.iter().all(|a| a.api_key != key.0));
            let mut out = Vec::new();
            match key {
                ApiKey::PUSH_TELEMETRY => {
                    encode_request(&mut out, 0, 7, None, &PushTelemetryRequest::default())
                }
                _ => encode_request(&mut out, 0, 7, None, &GetTelemetrySubscriptionsRequest::default()),
            }
            .unwrap();
            assert!(matches!(handle(&s, 1, &out[4..]).reply, Reply::Close), "{key} refused");
        }
    }

    #[test]
    fn table_ranges_are_the_codecs() {
        let table: Vec<(ApiKey, (i16, i16))> =
            APIS.iter().map(|a| (a.key, (a.min_version, a.max_version))).collect();
        let expected: Vec<(ApiKey, (i16, i16))> = probes().iter().map(|&(k, r, _)| (k, r)).collect();
        assert_eq!(table, expected);
        let produce = APIS.iter().find(|a| a.key == ApiKey::PRODUCE).unwrap();
        assert_eq!((produce.min_version, produce.max_version), (3, 13));
    }

    #[test]
    fn every_advertised_version_is_served() {
        let probes = probes();
        for advertise_fetch in [false, true] {
            let s = shared(advertise_fetch);
            let advertised = answers(&s, 4, hello()).api_keys;
            assert!(advertised.windows(2).all(|w| w[0].api_key < w[1].api_key), "{advertised:?}");
            assert_eq!(advertised.len(), APIS.len() + usize::from(advertise_fetch));
            for a in &advertised {
                let versions = a.min_version..=a.max_version;
                if a.api_key == ApiKey::FETCH.0 {
                    // The documented exception: advertised on request, never served.
                    assert!(advertise_fetch);
                    assert_eq!(*a, UNSERVED_FETCH);
                    assert!(versions.clone().all(|v| refused(&s, a.api_key, v)));
                    continue;
                }
                let Some(&(_, range, send)) = probes.iter().find(|p| p.0 .0 == a.api_key) else {
                    panic!("API {} advertised but not expected", a.api_key)
                };
                assert_eq!((a.min_version, a.max_version), range);
                for v in versions {
                    send(&s, v);
                }
            }
        }
    }

    #[test]
    fn unadvertised_apis_and_versions_are_refused() {
        let s = shared(false);
        for key in [ApiKey::FETCH.0, ApiKey::LIST_OFFSETS.0, ApiKey::SASL_HANDSHAKE.0, -1, 1000, i16::MAX] {
            assert!(refused(&s, key, 0), "API {key}");
        }
        for a in APIS {
            let k = a.key.0;
            // A known API with an empty body at a served version does not parse (except ApiVersions v0-2,
            // whose body is empty): refused too.
            if a.key != ApiKey::API_VERSIONS {
                assert!(refused(&s, k, a.max_version), "{} v{} empty body", a.key, a.max_version);
            }
            for v in [i16::MIN, a.min_version - 1, a.max_version + 1, i16::MAX] {
                if a.key != ApiKey::API_VERSIONS {
                    assert!(refused(&s, k, v), "{} v{v}", a.key);
                    continue;
                }
                // KIP-511: ApiVersions answers an unknown version in the v0 layout instead of closing.
                let Reply::Send(bytes, Then::Continue) = handle(&s, 1, &bare(k, v)).reply else {
                    panic!("ApiVersions v{v} not answered")
                };
                let r = ApiVersionsResponse::decode_body(&bytes[8..], 0).unwrap();
                assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
                assert_eq!(r.api_keys, advertised_apis(&s.state.lock()));
            }
        }
    }

    #[test]
    fn capped_versions_are_advertised_narrowed_and_refused_outside() {
        let s = shared(false);
        s.state.lock().version_caps.insert(ApiKey::END_TXN, (0, 4));
        s.state.lock().version_caps.insert(ApiKey::TXN_OFFSET_COMMIT, (9, 12));
        let listed = advertised_apis(&s.state.lock());
        let end =
            listed.iter().find(|a| a.api_key == ApiKey::END_TXN.0).map(|a| (a.min_version, a.max_version));
        assert_eq!(end, Some((0, 4)));
        assert!(
            listed.iter().all(|a| a.api_key != ApiKey::TXN_OFFSET_COMMIT.0),
            "no version left: not listed"
        );
        // A well-formed EndTxn: answered at v4, refused (closed) at v5 above the cap.
        let end_txn = |v: i16| {
            let mut out = Vec::new();
            let req = EndTxnRequest { transactional_id: "x".into(), ..Default::default() };
            encode_request(&mut out, v, 42, Some("t"), &req).unwrap();
            handle(&s, 1, &out[4..]).reply
        };
        assert!(matches!(end_txn(4), Reply::Send(_, Then::Continue)), "within the cap: answered");
        assert!(matches!(end_txn(5), Reply::Close), "above the cap: the connection closes");
        assert_eq!(last_request(&s), (ApiKey::END_TXN, 5));
    }

    #[test]
    fn prepare_rejects_garbage_without_panicking() {
        for len in 0..80 {
            let buf = vec![0xffu8; len];
            assert!(prepare(Some(&buf), 9, false).is_err());
            assert!(prepare(Some(&buf), 9, true).is_err());
        }
        assert_eq!(prepare(None, 9, false).err(), Some(ErrorCode::INVALID_RECORD));
    }
}
