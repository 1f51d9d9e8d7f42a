//! Conformance: the same short idempotence scenario against real Kafka and against the mock cluster,
//! asserting the same observable results, so the mock cannot drift from Kafka.
//!
//! Scenario (one partition): InitProducerId; produce a batch (seq 0); replay it; produce with a sequence
//! gap; produce the next batch in order; bump the epoch client-side (KIP-360) and produce from sequence 0;
//! produce with the old epoch; continue; re-run InitProducerId with the current id and epoch; produce with
//! the id it returns.
#![cfg(all(feature = "mock", feature = "unstable"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bytes::Bytes;
use common::client::Client;
use common::*;
use kprod::protocol::messages::api_versions::ApiVersionsRequest;
use kprod::protocol::messages::init_producer_id::InitProducerIdRequest;
use kprod::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kprod::protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kprod::protocol::record::{BatchParams, RecordBatchWriter, NO_HEADERS};
use kprod::{ApiKey, ErrorCode};

/// One step's observable result: the error code, and the base offset when the broker accepted it.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    step: &'static str,
    error: ErrorCode,
    base_offset: Option<i64>,
}

fn batch(pid: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    let params = BatchParams {
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
        base_timestamp: recent_base_ts(),
        ..BatchParams::default()
    };
    let mut w = RecordBatchWriter::new(Vec::new(), params);
    for i in 0..n {
        let v = format!("seq {}", seq as usize + i);
        w.append(recent_base_ts() + i as i64, Some(b"k"), Some(v.as_bytes()), NO_HEADERS).unwrap();
    }
    Bytes::from(w.seal(None, &mut Vec::new()).unwrap())
}

fn produce(conn: &mut Client, version: i16, topic: &str, records: Bytes) -> (ErrorCode, i64) {
    let req = ProduceRequest {
        acks: -1,
        timeout_ms: 10_000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            partition_data: vec![PartitionProduceData { index: 0, records: Some(records) }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let resp = conn.call(version, &req);
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// InitProducerId, retried while the broker answers a retriable error (a fresh Kafka answers
/// COORDINATOR_LOAD_IN_PROGRESS until it has fetched a block of producer ids from the controller).
fn init_producer_id(
    conn: &mut Client,
    req: InitProducerIdRequest,
) -> kprod::protocol::messages::init_producer_id::InitProducerIdResponse {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let resp = conn.call(4, &req);
        if resp.error_code == ErrorCode::NONE {
            return resp;
        }
        assert!(resp.error_code.is_retriable(), "InitProducerId: {}", resp.error_code);
        assert!(std::time::Instant::now() < deadline, "InitProducerId kept failing: {}", resp.error_code);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Runs the scenario against the broker leading partition 0 of `topic`, reached through `bootstrap`.
fn scenario(bootstrap: &str, topic: &str) -> Vec<Outcome> {
    let first = bootstrap.split(',').next().unwrap();
    let mut conn = Client::connect(first);
    let hello = ApiVersionsRequest {
        client_software_name: "kprod".into(),
        client_software_version: "0.1.0".into(),
        ..Default::default()
    };
    let versions = conn.call(3, &hello);
    // Produce v9 and InitProducerId v4 are spoken by every broker kprod targets from 3.x on; using fixed
    // versions keeps the comparison about behaviour, not about version negotiation.
    let produce_v = 9.min(versions.range(ApiKey::PRODUCE).unwrap().1);
    let meta = conn.call(
        9,
        &MetadataRequest {
            topics: Some(vec![MetadataRequestTopic { name: Some(topic.into()), ..Default::default() }]),
            allow_auto_topic_creation: false,
            ..Default::default()
        },
    );
    let leader = meta.topics[0].partitions[0].leader_id;
    let b = meta.brokers.iter().find(|b| b.node_id == leader).unwrap();
    let mut lconn = Client::connect(&format!("{}:{}", b.host, b.port));

    let init = init_producer_id(
        &mut conn,
        InitProducerIdRequest { transaction_timeout_ms: -1, ..Default::default() },
    );
    let (pid, epoch) = (init.producer_id, init.producer_epoch);

    let mut out = Vec::new();
    let mut step = |name: &'static str, (error, offset): (ErrorCode, i64)| {
        out.push(Outcome { step: name, error, base_offset: (error == ErrorCode::NONE).then_some(offset) });
    };
    step("first batch", produce(&mut lconn, produce_v, topic, batch(pid, epoch, 0, 5)));
    step("replayed batch", produce(&mut lconn, produce_v, topic, batch(pid, epoch, 0, 5)));
    step("sequence gap", produce(&mut lconn, produce_v, topic, batch(pid, epoch, 10, 5)));
    step("next batch in order", produce(&mut lconn, produce_v, topic, batch(pid, epoch, 5, 5)));

    // KIP-360 for an idempotent (non-transactional) producer: the client bumps its epoch itself and
    // restarts sequences at 0; the broker accepts the higher epoch and then refuses the old one.
    step(
        "client-bumped epoch from sequence 0",
        produce(&mut lconn, produce_v, topic, batch(pid, epoch + 1, 0, 5)),
    );
    step("old epoch after the bump", produce(&mut lconn, produce_v, topic, batch(pid, epoch, 10, 5)));
    step("bumped epoch continues", produce(&mut lconn, produce_v, topic, batch(pid, epoch + 1, 5, 5)));

    // InitProducerId presenting the current id and epoch: Kafka hands a non-transactional producer a
    // fresh producer id (epoch 0) rather than bumping the epoch.
    let again = init_producer_id(
        &mut conn,
        InitProducerIdRequest {
            transaction_timeout_ms: -1,
            producer_id: pid,
            producer_epoch: epoch + 1,
            ..Default::default()
        },
    );
    step(
        "re-init with current id: new id (1) at epoch 0",
        (again.error_code, i64::from(again.producer_id != pid && again.producer_epoch == 0)),
    );
    step(
        "new producer id from sequence 0",
        produce(&mut lconn, produce_v, topic, batch(again.producer_id, 0, 0, 5)),
    );
    out
}

#[test]
fn mock_matches_real_kafka() {
    let bs = bootstrap("KAFKA_BOOTSTRAP");
    let cluster = cluster_name("KPROD_KAFKA_NAME_1");
    let topic = unique_topic("conformance");
    create_topic(&cluster, &topic, 1, 1);
    let real = scenario(&bs, &topic);

    let mock = kprod::mock::MockCluster::new(1).unwrap();
    mock.create_topic(&topic, 1, 1).unwrap();
    let simulated = scenario(&mock.bootstrap_servers(), &topic);

    println!("real Kafka: {real:#?}");
    assert_eq!(simulated, real, "the mock must answer the scenario exactly as Kafka does");
    // And Kafka's answers are the ones the idempotent producer is built on.
    assert_eq!(real[0], Outcome { step: "first batch", error: ErrorCode::NONE, base_offset: Some(0) });
    assert_eq!(real[2].error, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
}
