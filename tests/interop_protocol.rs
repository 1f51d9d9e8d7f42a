//! The codec against a real Kafka broker: ApiVersions, Metadata and Produce over a plain TCP connection,
//! with record batches built by kprod's writer, read back by Kafka's own console consumer.
#![cfg(feature = "unstable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client::Client;
use common::*;
use kprod::protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kprod::protocol::{ApiKey, ErrorCode, Message};

fn first_broker(bootstrap: &str) -> String {
    bootstrap.split(',').next().unwrap().to_string()
}

#[test]
fn api_versions_every_version_and_fallback() {
    let bs = bootstrap("KAFKA_BOOTSTRAP");
    let mut conn = Client::connect(&first_broker(&bs));
    // Every version both sides speak: Kafka 3.9 stops at v4, 4.4 at v5 (KIP-1242).
    let (_, broker_max) = conn.call(0, &ApiVersionsRequest::default()).range(ApiKey::API_VERSIONS).unwrap();
    assert!(broker_max >= 3, "ApiVersions v3+ (KIP-511) on every broker kprod targets: {broker_max}");
    for v in ApiVersionsResponse::MIN_VERSION..=ApiVersionsResponse::MAX_VERSION.min(broker_max) {
        let req = ApiVersionsRequest {
            client_software_name: "kprod".into(),
            client_software_version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        let resp = conn.call(v, &req);
        assert_eq!(resp.error_code, ErrorCode::NONE, "ApiVersions v{v}");
        let (min, max) = resp.range(ApiKey::PRODUCE).expect("broker lists Produce");
        assert!(min <= 3 && max >= 9, "Produce range {min}..{max} at v{v}");
        assert!(resp.range(ApiKey::API_VERSIONS).is_some());
    }

    // A version the broker does not know: it answers UNSUPPORTED_VERSION in the v0 layout, with its
    // ranges, which decode_with_fallback turns into a usable response (KIP-511).
    let mut raw = Vec::new();
    let hdr = kprod::protocol::RequestHeader {
        request_api_key: ApiKey::API_VERSIONS,
        request_api_version: 127,
        correlation_id: 99,
        client_id: Some("kprod".into()),
    };
    let at = kprod::protocol::frame::start_frame(&mut raw);
    hdr.encode(&mut raw, true).unwrap();
    raw.extend_from_slice(b"\x06kprod\x040.1\x00");
    kprod::protocol::frame::finish_frame(&mut raw, at).unwrap();
    let body = send_raw(&first_broker(&bs), &raw);
    let mut r = kprod::protocol::Reader::new(&body);
    assert_eq!(r.i32().unwrap(), 99, "correlation id");
    let resp = ApiVersionsResponse::decode_with_fallback(r.rest(), 4).unwrap();
    assert_eq!(resp.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert!(resp.range(ApiKey::API_VERSIONS).is_some(), "fallback lists the broker's ranges");
}

fn send_raw(addr: &str, frame: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    s.write_all(frame).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut buf = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).unwrap();
    buf
}

use bytes::Bytes;
use kprod::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic, MetadataResponse};
use kprod::protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kprod::protocol::record::{BatchParams, RecordBatchWriter};

fn base_ts() -> i64 {
    recent_base_ts()
}

/// What record `i` of a test batch holds: null keys every 5th record, null values every 7th, two
/// headers (one with a null value) on every 3rd, explicit timestamps.
type TestRecord = (Option<String>, Option<String>, Vec<(String, Option<String>)>, i64);

fn record(i: usize) -> TestRecord {
    let key = (i % 5 != 0).then(|| format!("key-{i}"));
    let value = (i % 7 != 3).then(|| format!("value {i} {}", "x".repeat(i % 50)));
    let headers = if i % 3 == 0 {
        vec![("trace".to_string(), Some(format!("t{i}"))), ("empty".to_string(), None)]
    } else {
        vec![]
    };
    (key, value, headers, base_ts() + (i as i64) * 7)
}

/// How Kafka's console consumer prints record `i` (see `record`).
fn expected_line(i: usize, offset: i64) -> Consumed {
    let (key, value, headers, ts) = record(i);
    Consumed {
        timestamp: format!("CreateTime:{ts}"),
        partition: 0,
        offset,
        headers: if headers.is_empty() {
            "NO_HEADERS".into()
        } else {
            headers
                .iter()
                .map(|(k, v)| format!("{k}:{}", v.as_deref().unwrap_or("null")))
                .collect::<Vec<_>>()
                .join(",")
        },
        key: key.unwrap_or_else(|| "null".into()),
        value: value.unwrap_or_else(|| "null".into()),
    }
}

fn metadata(conn: &mut Client, topic: &str, version: i16) -> MetadataResponse {
    let req = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic { name: Some(topic.into()), ..Default::default() }]),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    conn.call(version, &req)
}

/// Produces records `range` as one batch built by kprod's writer at Produce `version` (checking that
/// `next_record_size` predicts every record's size exactly); returns the partition's error code and base
/// offset.
fn send_batch(
    conn: &mut Client,
    version: i16,
    topic: &str,
    topic_id: kprod::protocol::primitives::Uuid,
    params: BatchParams,
    range: std::ops::Range<usize>,
) -> (ErrorCode, i64) {
    let mut w = RecordBatchWriter::new(Vec::new(), BatchParams { base_timestamp: base_ts(), ..params });
    for i in range {
        let (k, v, h, ts) = record(i);
        let (k, v) = (k.as_deref().map(str::as_bytes), v.as_deref().map(str::as_bytes));
        let before = w.size_in_bytes();
        let predicted = w.next_record_size(ts, k, v, &h);
        w.append(ts, k, v, &h).unwrap();
        assert_eq!(w.size_in_bytes() - before, predicted, "record_size is exact");
    }
    let mut compressor = kprod::compression::Compressor::new(params.compression, None).unwrap();
    let batch = w.seal(Some(&mut compressor), &mut Vec::new()).unwrap();
    let req = ProduceRequest {
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            topic_id,
            partition_data: vec![PartitionProduceData { index: 0, records: Some(Bytes::from(batch)) }],
        }],
        ..Default::default()
    };
    let resp = conn.call(version, &req);
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// For each codec: Metadata finds the leader, four batches go out at four Produce versions (the oldest,
/// the first flexible one, and the two newest the broker offers), and Kafka's console consumer reads back
/// exactly the keys, values, headers and timestamps written.
#[test]
fn produce_every_codec_read_back_by_console_consumer() {
    use kprod::compression::CompressionType;

    let bs = bootstrap("KAFKA_BOOTSTRAP");
    let cluster = cluster_name("KPROD_KAFKA_NAME_1");
    let mut conn = Client::connect(&first_broker(&bs));
    // Kafka validates client_software_name/version (v3+): empty names get INVALID_REQUEST.
    let hello = ApiVersionsRequest {
        client_software_name: "kprod".into(),
        client_software_version: "0.1.0".into(),
        ..Default::default()
    };
    let versions = conn.call(4, &hello);
    assert_eq!(versions.error_code, ErrorCode::NONE);
    let (_, produce_max) = versions.range(ApiKey::PRODUCE).unwrap();
    let (_, metadata_max) = versions.range(ApiKey::METADATA).unwrap();
    let produce_max = produce_max.min(ProduceRequest::MAX_VERSION);
    let metadata_max = metadata_max.min(MetadataResponse::MAX_VERSION);

    for codec in [
        CompressionType::None,
        CompressionType::Gzip,
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ] {
        let topic = unique_topic(&format!("interop-{}", codec.name()));
        create_topic(&cluster, &topic, 1, 1);

        // Metadata at the oldest and newest versions agree on the leader.
        let old = metadata(&mut conn, &topic, 1);
        let new = metadata(&mut conn, &topic, metadata_max);
        for m in [&old, &new] {
            assert_eq!(m.topics.len(), 1);
            assert_eq!(m.topics[0].error_code, ErrorCode::NONE, "metadata for {topic}");
            assert_eq!(m.topics[0].partitions[0].leader_id, new.topics[0].partitions[0].leader_id);
        }
        let leader = new.topics[0].partitions[0].leader_id;
        let broker = new.brokers.iter().find(|b| b.node_id == leader).unwrap();
        let mut lconn = Client::connect(&format!("{}:{}", broker.host, broker.port));
        let topic_id = new.topics[0].topic_id;
        assert_ne!(topic_id, kprod::protocol::primitives::Uuid::ZERO, "metadata v10+ gives a topic id");

        let params = BatchParams { compression: codec, ..BatchParams::default() };
        // zstd needs Produce v7+ (KIP-110); older versions must be refused, not stored.
        let oldest = if codec == CompressionType::Zstd { 7 } else { 3 };
        if codec == CompressionType::Zstd {
            let mut req_conn = Client::connect(&format!("{}:{}", broker.host, broker.port));
            let (err, _) = send_batch(&mut req_conn, 6, &topic, topic_id, params, 0..1);
            assert_eq!(err, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE, "zstd over Produce v6");
        }
        let produce_versions = [oldest, 9, produce_max - 1, produce_max];
        let mut next = 0i64;
        for (n, v) in produce_versions.iter().enumerate() {
            let (err, base) = send_batch(&mut lconn, *v, &topic, topic_id, params, n * 25..(n + 1) * 25);
            assert_eq!(err, ErrorCode::NONE, "{codec:?} Produce v{v}");
            assert_eq!(base, next, "{codec:?} Produce v{v} base offset");
            next += 25;
        }

        let got = consume(&cluster, &topic, 100, 30_000, &[]);
        let want: Vec<Consumed> = (0..100).map(|i| expected_line(i, i as i64)).collect();
        assert_eq!(got, want, "{codec:?}: console consumer output");
    }
}
