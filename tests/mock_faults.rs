//! The mock cluster's response faults, API delays and lying metadata, checked byte for byte by a raw
//! TCP client built on kprod's codec (the helpers of `tests/mock_cluster.rs`).
#![cfg(all(feature = "mock", feature = "unstable"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client::*;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use kprod::mock::{MockCluster, MockError, ResponseFault};
use kprod::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kprod::protocol::messages::find_coordinator::{FindCoordinatorRequest, KEY_TYPE_TRANSACTION};
use kprod::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic, MetadataResponse};
use kprod::protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kprod::protocol::primitives::Uuid;
use kprod::protocol::{decode_response, encode_request, ApiKey, ErrorCode, Request};

/// A client connected to one mock broker.
fn client_to(cluster: &MockCluster, node_id: i32) -> Client {
    Client::connect(&cluster.broker_address(node_id).unwrap().to_string())
}

/// How a read of everything a broker sends ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The broker closed the connection (end of file or reset).
    Closed,
    /// Nothing more arrived within the quiet time; the connection is still open.
    Quiet,
}

/// Reads whatever arrives until the connection closes or nothing arrives for `quiet`. Fails if bytes
/// keep coming for 10 s.
fn read_all(c: &mut Client, quiet: Duration) -> (Vec<u8>, End) {
    c.stream.set_read_timeout(Some(quiet)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        assert!(Instant::now() < deadline, "the broker kept sending");
        match c.stream.read(&mut buf) {
            Ok(0) => break End::Closed,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break End::Quiet,
            Err(_) => break End::Closed,
        }
    };
    c.stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    (got, end)
}

/// Splits well-formed frames (size prefix, then that many bytes) into their bodies.
fn frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let n = i32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        out.push(bytes[4..4 + n].to_vec());
        bytes = &bytes[4 + n..];
    }
    out
}

fn corr_of(body: &[u8]) -> i32 {
    i32::from_be_bytes(body[..4].try_into().unwrap())
}

/// Sends `req` with correlation id `corr` on a fresh connection and returns the response frame
/// (size prefix included) as the broker sent it.
fn raw_call<R: Request>(cluster: &MockCluster, version: i16, corr: i32, req: &R) -> Vec<u8> {
    let mut c = client_to(cluster, 1);
    let mut out = Vec::new();
    encode_request(&mut out, version, corr, Some("mock-test"), req).unwrap();
    c.stream.write_all(&out).unwrap();
    let body = c.read_frame().unwrap();
    [&(body.len() as i32).to_be_bytes()[..], &body].concat()
}

fn metadata_req(topics: &[&str]) -> MetadataRequest {
    MetadataRequest {
        topics: Some(
            topics
                .iter()
                .map(|t| MetadataRequestTopic { name: Some((*t).into()), ..Default::default() })
                .collect(),
        ),
        allow_auto_topic_creation: false,
        ..Default::default()
    }
}

fn two_partitions(topic_a: &str, pa: i32, topic_b: &str, pb: i32) -> ProduceRequest {
    let part = |index, v: &str| PartitionProduceData { index, records: Some(batch(NONE, 0, false, &[v])) };
    let mut req = produce_req(topic_a, pa, -1, batch(NONE, 0, false, &["a"]));
    if topic_a == topic_b {
        req.topic_data[0].partition_data.push(part(pb, "b"));
    } else {
        req.topic_data.push(TopicProduceData {
            name: topic_b.into(),
            topic_id: Uuid::ZERO,
            partition_data: vec![part(pb, "b")],
        });
    }
    req
}

fn values(cluster: &MockCluster, topic: &str, p: i32) -> Vec<String> {
    cluster
        .partition_records(topic, p)
        .iter()
        .map(|r| String::from_utf8(r.value.as_ref().unwrap().to_vec()).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Response faults

#[test]
fn duplicate_sends_the_api_versions_response_twice() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.inject_response_fault(ApiKey::API_VERSIONS, None, ResponseFault::Duplicate, 1);
    let mut c = client_to(&cluster, 1);
    let id = c.send(3, &hello());
    let (a, b) = (c.read_frame().unwrap(), c.read_frame().unwrap());
    assert_eq!(a, b, "two identical frames");
    let r = decode_response::<ApiVersionsRequest>(&a, 3, id).unwrap();
    assert_eq!(r.error_code, ErrorCode::NONE);
    // Used up: the next request is answered once (the next frame answers the Metadata request).
    let id1 = c.send(3, &hello());
    let id2 = c.send(12, &MetadataRequest::default());
    c.recv::<ApiVersionsRequest>(3, id1);
    assert_eq!(c.recv::<MetadataRequest>(12, id2).brokers.len(), 1);
    let (rest, end) = read_all(&mut c, Duration::from_millis(200));
    assert_eq!((rest.len(), end), (0, End::Quiet));
}

#[test]
fn api_versions_at_an_unknown_version_is_faultable_too() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.inject_response_fault(ApiKey::API_VERSIONS, None, ResponseFault::Duplicate, 1);
    let mut c = client_to(&cluster, 1);
    let mut out = Vec::new();
    encode_request(&mut out, 4, 77, Some("x"), &hello()).unwrap();
    out[6..8].copy_from_slice(&9i16.to_be_bytes()); // v9: answered UNSUPPORTED_VERSION in the v0 layout
    c.stream.write_all(&out).unwrap();
    let (a, b) = (c.read_frame().unwrap(), c.read_frame().unwrap());
    assert_eq!(a, b);
    let r = ApiVersionsResponse::decode_with_fallback(&a[4..], 4).unwrap();
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
}

#[test]
fn unsolicited_frame_comes_before_the_real_one() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.inject_response_fault(ApiKey::METADATA, None, ResponseFault::Unsolicited, 1);
    let mut c = client_to(&cluster, 1);
    let id = c.send(12, &MetadataRequest::default());
    let extra = c.read_frame().unwrap();
    let real = c.read_frame().unwrap();
    assert_eq!(corr_of(&extra), id + 1_000_000, "a correlation id no request used");
    // Both are well-formed: the extra one is the same response under another id.
    decode_response::<MetadataRequest>(&extra, 12, id + 1_000_000).unwrap();
    let r = decode_response::<MetadataRequest>(&real, 12, id).unwrap();
    assert_eq!(r.brokers.len(), 1);
    assert_eq!(extra[4..], real[4..]);
}

#[test]
fn wrong_correlation_id_wraps_into_the_positive_range() {
    let cluster = MockCluster::new(1).unwrap();
    let req = hello();
    let clean = raw_call(&cluster, 3, i32::MAX - 5, &req);
    cluster.inject_response_fault(ApiKey::API_VERSIONS, None, ResponseFault::WrongCorrelationId, 2);
    let wrong = raw_call(&cluster, 3, i32::MAX - 5, &req);
    assert_eq!(corr_of(&wrong[4..]), 999_994, "(2^31 - 6 + 1 000 000) mod 2^31");
    assert_eq!((&wrong[..4], &wrong[8..]), (&clean[..4], &clean[8..]), "only the id differs");
    let wrong = raw_call(&cluster, 3, 5, &req);
    assert_eq!(corr_of(&wrong[4..]), 1_000_005);
    assert_eq!(raw_call(&cluster, 3, 5, &req), [&clean[..4], &5i32.to_be_bytes()[..], &clean[8..]].concat());
}

#[test]
fn corrupt_keeps_size_and_correlation_id_and_inverts_the_rest() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let req = metadata_req(&["t"]);
    let clean = raw_call(&cluster, 12, 42, &req);
    cluster.inject_response_fault(ApiKey::METADATA, Some(("t", 1)), ResponseFault::Corrupt, 1);
    let bad = raw_call(&cluster, 12, 42, &req);
    assert_eq!(bad.len(), clean.len());
    assert_eq!(bad[..8], clean[..8], "size prefix and correlation id stay right");
    assert!(bad[8..].iter().zip(&clean[8..]).all(|(b, c)| *b == !*c), "every later byte inverted");
    let good = decode_response::<MetadataRequest>(&clean[4..], 12, 42).unwrap();
    match decode_response::<MetadataRequest>(&bad[4..], 12, 42) {
        Err(_) => {}
        Ok(r) => assert_ne!(r, good, "decodes to nonsense"),
    }
    // Used up.
    assert_eq!(raw_call(&cluster, 12, 42, &req), clean);
}

#[test]
fn respond_then_close_sends_the_whole_frame_then_eof() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.inject_response_fault(ApiKey::PRODUCE, None, ResponseFault::RespondThenClose, 1);
    let mut c = client_to(&cluster, 1);
    let id = c.send(9, &produce_req("t", 0, -1, batch(NONE, 0, false, &["a"])));
    let (got, end) = read_all(&mut c, Duration::from_secs(5));
    assert_eq!(end, End::Closed);
    let fs = frames(&got);
    assert_eq!(fs.len(), 1, "exactly one whole frame");
    let r = decode_response::<ProduceRequest>(&fs[0], 9, id).unwrap();
    assert_eq!((first(&r).error_code, first(&r).base_offset), (ErrorCode::NONE, 0));
    assert_eq!(values(&cluster, "t", 0), ["a"]);
}

#[test]
fn stall_after_sends_n_bytes_then_stays_open_and_silent() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.inject_response_fault(ApiKey::METADATA, None, ResponseFault::StallAfter(10), 1);
    let mut c = client_to(&cluster, 1);
    let id = c.send(12, &MetadataRequest::default());
    let (got, end) = read_all(&mut c, Duration::from_millis(500));
    assert_eq!((got.len(), end), (10, End::Quiet), "exactly 10 bytes, then nothing, socket open");
    assert_eq!(got[4..8], id.to_be_bytes());
    // Later requests are read (and logged) but never answered.
    cluster.clear_requests();
    let later = c.send(3, &hello());
    let (got, end) = read_all(&mut c, Duration::from_millis(500));
    assert_eq!((got.len(), end), (0, End::Quiet));
    let log = cluster.requests();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].api_key, log[0].correlation_id), (ApiKey::API_VERSIONS, later));
    // Other connections are served.
    assert_eq!(client_to(&cluster, 1).call(3, &hello()).error_code, ErrorCode::NONE);
    // Dropping the cluster closes the stalled connection.
    drop(cluster);
    let (got, end) = read_all(&mut c, Duration::from_secs(5));
    assert_eq!((got.len(), end), (0, End::Closed));
}

#[test]
fn stall_after_zero_bytes_ends_when_the_broker_goes_down() {
    let cluster = MockCluster::new(2).unwrap();
    cluster.inject_response_fault(ApiKey::API_VERSIONS, None, ResponseFault::StallAfter(0), 1);
    let mut c = client_to(&cluster, 2);
    c.send(3, &hello());
    c.send(12, &MetadataRequest::default());
    let (got, end) = read_all(&mut c, Duration::from_millis(500));
    assert_eq!((got.len(), end), (0, End::Quiet), "neither request is answered");
    cluster.broker_down(2).unwrap();
    let (got, end) = read_all(&mut c, Duration::from_secs(5));
    assert_eq!((got.len(), end), (0, End::Closed));
}

#[test]
fn oversized_prefix_announces_the_size_then_closes() {
    let cluster = MockCluster::new(1).unwrap();
    let req = hello();
    let clean = raw_call(&cluster, 3, 9, &req);
    for size in [i32::MAX, -1] {
        cluster.inject_response_fault(ApiKey::API_VERSIONS, None, ResponseFault::OversizedPrefix(size), 1);
        let mut c = client_to(&cluster, 1);
        let mut out = Vec::new();
        encode_request(&mut out, 3, 9, None, &req).unwrap();
        c.stream.write_all(&out).unwrap();
        let (got, end) = read_all(&mut c, Duration::from_secs(5));
        assert_eq!(end, End::Closed);
        assert_eq!(got[..4], size.to_be_bytes(), "the announced size");
        assert_eq!(got[4..], clean[4..], "followed by the real body");
    }
}

#[test]
fn omit_partition_leaves_it_out_but_stores_the_records() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    cluster.create_topic("u", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);

    // Scoped: t-1 is missing from the answer; t-0 is there.
    cluster.inject_response_fault(ApiKey::PRODUCE, Some(("t", 1)), ResponseFault::OmitPartition, 1);
    let r = c.call(9, &two_partitions("t", 0, "t", 1));
    assert_eq!(r.responses.len(), 1);
    let idx: Vec<i32> = r.responses[0].partition_responses.iter().map(|p| p.index).collect();
    assert_eq!(idx, [0]);
    assert_eq!((values(&cluster, "t", 0), values(&cluster, "t", 1)), (vec!["a".into()], vec!["b".into()]));

    // Unscoped: the request's first partition; a topic left with nothing is left out too.
    cluster.inject_response_fault(ApiKey::PRODUCE, None, ResponseFault::OmitPartition, 1);
    let r = c.call(9, &two_partitions("u", 0, "t", 1));
    assert_eq!(r.responses.len(), 1);
    assert_eq!(r.responses[0].name, "t");
    assert_eq!(r.responses[0].partition_responses[0].index, 1);
    assert_eq!(values(&cluster, "u", 0), ["a"]);

    // v13, topics named by id.
    cluster.inject_response_fault(ApiKey::PRODUCE, Some(("u", 0)), ResponseFault::OmitPartition, 1);
    let mut req = two_partitions("u", 0, "t", 0);
    req.topic_data[0].topic_id = cluster.topic_id("u").unwrap();
    req.topic_data[1].topic_id = cluster.topic_id("t").unwrap();
    let r = c.call(13, &req);
    assert_eq!(r.responses.len(), 1);
    assert_eq!(r.responses[0].topic_id, cluster.topic_id("t").unwrap());
    assert_eq!(values(&cluster, "u", 0), ["a", "a"]);

    // Used up: everything is answered again.
    let r = c.call(9, &two_partitions("t", 0, "t", 1));
    assert_eq!(r.responses[0].partition_responses.len(), 2);
    cluster.check_invariants().unwrap();
}

#[test]
fn response_faults_count_and_scope_requests() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    cluster.inject_response_fault(ApiKey::PRODUCE, Some(("t", 1)), ResponseFault::Duplicate, 2);
    let mut c = client_to(&cluster, 1);
    // t-0 is not in scope.
    let id = c.send(9, &produce_req("t", 0, -1, batch(NONE, 0, false, &["x"])));
    c.recv::<ProduceRequest>(9, id);
    for expected_offset in [0, 1] {
        let id = c.send(9, &produce_req("t", 1, -1, batch(NONE, 0, false, &["y"])));
        let (a, b) = (c.read_frame().unwrap(), c.read_frame().unwrap());
        assert_eq!(a, b);
        assert_eq!(
            first(&decode_response::<ProduceRequest>(&a, 9, id).unwrap()).base_offset,
            expected_offset
        );
    }
    // Two times only.
    let id = c.send(9, &produce_req("t", 1, -1, batch(NONE, 0, false, &["z"])));
    c.recv::<ProduceRequest>(9, id);
    let (rest, _) = read_all(&mut c, Duration::from_millis(200));
    assert!(rest.is_empty());
}

#[test]
fn a_connection_fault_on_the_same_request_wins() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.inject_response_fault(ApiKey::PRODUCE, None, ResponseFault::Duplicate, 1).drop_after_processing(
        ApiKey::PRODUCE,
        None,
        1,
    );
    let mut c = client_to(&cluster, 1);
    c.send(9, &produce_req("t", 0, -1, batch(NONE, 0, false, &["a"])));
    let (got, end) = read_all(&mut c, Duration::from_secs(5));
    assert_eq!((got.len(), end), (0, End::Closed), "dropped after processing, nothing sent");
    assert_eq!(values(&cluster, "t", 0), ["a"]);
    // The response fault was not used up: it applies to the next answered request.
    let mut c = client_to(&cluster, 1);
    c.send(9, &produce_req("t", 0, -1, batch(NONE, 0, false, &["b"])));
    let (a, b) = (c.read_frame().unwrap(), c.read_frame().unwrap());
    assert_eq!(a, b);
}

#[test]
fn acks_zero_produce_leaves_response_faults_armed() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.inject_response_fault(ApiKey::PRODUCE, None, ResponseFault::RespondThenClose, 1);
    let mut c = client_to(&cluster, 1);
    c.send(9, &produce_req("t", 0, 0, batch(NONE, 0, false, &["a"])));
    // No response and the connection stays: the next frame answers Metadata.
    let id = c.send(12, &MetadataRequest::default());
    assert_eq!(c.recv::<MetadataRequest>(12, id).brokers.len(), 1);
    assert_eq!(values(&cluster, "t", 0), ["a"]);
    let id = c.send(9, &produce_req("t", 0, 1, batch(NONE, 0, false, &["b"])));
    assert_eq!(first(&c.recv::<ProduceRequest>(9, id)).base_offset, 1);
    assert!(c.is_closed(), "the acks=1 request used the fault");
}

#[test]
fn clear_faults_removes_response_faults_and_lies() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    cluster
        .inject_response_fault(ApiKey::METADATA, None, ResponseFault::Corrupt, 5)
        .set_api_delay(ApiKey::METADATA, Duration::from_secs(5))
        .set_metadata_partitions("t", Some(vec![7]));
    cluster.set_advertised_host(1, Some("nosuchhost.invalid")).unwrap();
    cluster.clear_faults();
    let mut c = client_to(&cluster, 1);
    let t = Instant::now();
    let r = metadata(&mut c, 12, Some(&["t"]));
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(r.brokers[0].host, "127.0.0.1");
    assert_eq!(r.topics[0].partitions.len(), 2);
}

// ---------------------------------------------------------------------------------------------------
// API delay

#[test]
fn api_delay_delays_that_api_on_every_broker_and_keeps_order() {
    let cluster = MockCluster::new(2).unwrap();
    let d = Duration::from_millis(300);
    cluster.set_api_delay(ApiKey::METADATA, d);
    for node in [1, 2] {
        let mut c = client_to(&cluster, node);
        let t = Instant::now();
        c.call(3, &hello());
        assert!(t.elapsed() < Duration::from_millis(250), "other APIs are not delayed");
        let t = Instant::now();
        metadata(&mut c, 12, None);
        assert!(t.elapsed() >= d, "node {node}: {:?}", t.elapsed());
        // Pipelined: the ApiVersions answer waits behind the delayed Metadata one.
        let t = Instant::now();
        let m = c.send(12, &MetadataRequest::default());
        let v = c.send(3, &hello());
        assert_eq!(corr_of(&c.read_frame().unwrap()), m);
        assert_eq!(corr_of(&c.read_frame().unwrap()), v);
        assert!(t.elapsed() >= d);
    }
    // Added to the broker delay.
    cluster.set_broker_delay(1, Duration::from_millis(200)).unwrap();
    let mut c = client_to(&cluster, 1);
    let t = Instant::now();
    metadata(&mut c, 12, None);
    assert!(t.elapsed() >= Duration::from_millis(500), "{:?}", t.elapsed());
    // ZERO removes it.
    cluster.set_broker_delay(1, Duration::ZERO).unwrap();
    cluster.set_api_delay(ApiKey::METADATA, Duration::ZERO);
    let t = Instant::now();
    metadata(&mut c, 12, None);
    assert!(t.elapsed() < Duration::from_millis(250));
}

// ---------------------------------------------------------------------------------------------------
// Lying metadata

/// A listed partition: index, leader, leader epoch, replicas, ISR.
type Listed = (i32, i32, i32, Vec<i32>, Vec<i32>);

fn listed(r: &MetadataResponse) -> Vec<Listed> {
    r.topics[0]
        .partitions
        .iter()
        .map(|p| {
            (p.partition_index, p.leader_id, p.leader_epoch, p.replica_nodes.clone(), p.isr_nodes.clone())
        })
        .collect()
}

#[test]
fn metadata_partitions_lists_exactly_those_indexes() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 3, 3).unwrap(); // leaders 1, 2, 3
    let mut c = client_to(&cluster, 1);

    cluster.set_metadata_partitions("t", Some(vec![5_000_000]));
    let r = metadata(&mut c, 12, Some(&["t"]));
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(listed(&r), [(5_000_000, 1, 0, vec![1], vec![1])], "first live broker leads");

    cluster.set_metadata_partitions("t", Some(vec![0, 2]));
    assert_eq!(
        listed(&metadata(&mut c, 12, Some(&["t"]))),
        [(0, 1, 0, vec![1], vec![1]), (2, 3, 0, vec![3], vec![3])]
    );

    cluster.set_metadata_partitions("t", Some(vec![0, 0]));
    assert_eq!(listed(&metadata(&mut c, 12, Some(&["t"]))), vec![(0, 1, 0, vec![1], vec![1]); 2]);

    cluster.set_metadata_partitions("t", Some(vec![]));
    assert!(metadata(&mut c, 12, Some(&["t"])).topics[0].partitions.is_empty());

    // A real partition keeps its real leader and epoch; an invented one follows the first live broker.
    cluster.move_leader("t", 1, 3).unwrap();
    cluster.broker_down(1).unwrap();
    cluster.set_metadata_partitions("t", Some(vec![1, 9]));
    let mut c = client_to(&cluster, 2);
    assert_eq!(
        listed(&metadata(&mut c, 12, Some(&["t"]))),
        [(1, 3, 1, vec![3], vec![3]), (9, 2, 0, vec![2], vec![2])]
    );
    // Also in all-topics requests and old versions; other topics are unaffected.
    cluster.create_topic("u", 1, 1).unwrap();
    let r = metadata(&mut c, 1, None);
    let t = r.topics.iter().find(|t| t.name.as_deref() == Some("t")).unwrap();
    assert_eq!(t.partitions.iter().map(|p| p.partition_index).collect::<Vec<_>>(), [1, 9]);
    let u = r.topics.iter().find(|t| t.name.as_deref() == Some("u")).unwrap();
    assert_eq!(u.partitions.len(), 1);

    cluster.set_metadata_partitions("t", None);
    let r = metadata(&mut c, 12, Some(&["t"]));
    assert_eq!(r.topics[0].partitions.iter().map(|p| p.partition_index).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn advertised_host_is_what_metadata_find_coordinator_and_produce_report() {
    let cluster = MockCluster::new(2).unwrap();
    let port2 = cluster.broker_address(2).unwrap().port() as i32;
    cluster.set_advertised_host(2, Some("nosuchhost.invalid")).unwrap();
    let mut c = client_to(&cluster, 1);
    let r = metadata(&mut c, 12, None);
    let hosts: Vec<(i32, String, i32)> =
        r.brokers.iter().map(|b| (b.node_id, b.host.clone(), b.port)).collect();
    assert_eq!(hosts[1], (2, "nosuchhost.invalid".to_owned(), port2), "its port unchanged");
    assert_eq!(hosts[0].1, "127.0.0.1");
    // FindCoordinator for a key broker 2 coordinates.
    let key = (0..100)
        .map(|i| format!("txn-{i}"))
        .find(|k| {
            let r = c.call(
                3,
                &FindCoordinatorRequest {
                    key: k.clone(),
                    key_type: KEY_TYPE_TRANSACTION,
                    ..Default::default()
                },
            );
            r.node_id == 2
        })
        .unwrap();
    let r = c.call(
        3,
        &FindCoordinatorRequest { key: key.clone(), key_type: KEY_TYPE_TRANSACTION, ..Default::default() },
    );
    assert_eq!((r.host.as_str(), r.port), ("nosuchhost.invalid", port2));
    let r = c.call(
        4,
        &FindCoordinatorRequest {
            coordinator_keys: vec![key],
            key_type: KEY_TYPE_TRANSACTION,
            ..Default::default()
        },
    );
    assert_eq!(r.coordinators[0].host, "nosuchhost.invalid");

    // Produce v10+ names the new leader's endpoint with NOT_LEADER_OR_FOLLOWER (KIP-951): same host.
    cluster.create_topic("t", 2, 1).unwrap(); // t-1 led by broker 2
    let r = c.call(10, &produce_req("t", 1, -1, batch(NONE, 0, false, &["x"])));
    assert_eq!(first(&r).error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(r.node_endpoints[0].node_id, 2);
    assert_eq!((r.node_endpoints[0].host.as_str(), r.node_endpoints[0].port), ("nosuchhost.invalid", port2));

    assert!(matches!(cluster.set_advertised_host(9, Some("x")), Err(MockError::UnknownBroker(9))));
    cluster.set_advertised_host(2, None).unwrap();
    assert!(metadata(&mut c, 12, None).brokers.iter().all(|b| b.host == "127.0.0.1"));
}
