//! The mock cluster (`kprod::mock`) driven over TCP by a tiny blocking client built on kprod's codec.
#![cfg(all(feature = "mock", feature = "unstable"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kprod::mock::{MockCluster, MockError};
use kprod::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kprod::protocol::messages::init_producer_id::InitProducerIdRequest;
use kprod::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kprod::protocol::messages::produce::ProduceRequest;
use kprod::protocol::primitives::Uuid;
use kprod::protocol::record::{BatchParams, RecordBatchWriter, TimestampType, NO_HEADERS};
use kprod::protocol::{encode_request, ApiKey, ErrorCode, Message};

fn init_pid(c: &mut Client, txn: Option<&str>) -> Producer {
    let r = c.call(
        4,
        &InitProducerIdRequest {
            transactional_id: txn.map(str::to_owned),
            transaction_timeout_ms: 60_000,
            ..Default::default()
        },
    );
    assert_eq!(r.error_code, ErrorCode::NONE);
    Producer { id: r.producer_id, epoch: r.producer_epoch }
}

fn values(cluster: &MockCluster, topic: &str, p: i32) -> Vec<String> {
    cluster
        .partition_records(topic, p)
        .iter()
        .filter(|r| !r.is_control())
        .map(|r| String::from_utf8(r.value.as_ref().unwrap().to_vec()).unwrap())
        .collect()
}

/// A client connected to one mock broker.
fn client_to(cluster: &MockCluster, node_id: i32) -> Client {
    Client::connect(&cluster.broker_address(node_id).unwrap().to_string())
}

// ---------------------------------------------------------------------------------------------------
// Tests

#[test]
fn api_versions_advertises_the_codec_ranges() {
    let cluster = MockCluster::new(1).unwrap();
    let mut c = client_to(&cluster, 1);
    for v in 0..=5 {
        let r = c.call(v, &hello());
        assert_eq!(r.error_code, ErrorCode::NONE);
        assert_eq!(
            r.range(ApiKey::PRODUCE),
            Some((ProduceRequest::MIN_VERSION, ProduceRequest::MAX_VERSION))
        );
        assert_eq!(r.range(ApiKey::METADATA), Some((0, 13)));
        assert_eq!(r.range(ApiKey::API_VERSIONS), Some((0, 5)));
        assert_eq!(r.range(ApiKey::INIT_PRODUCER_ID), Some((0, 6)));
        assert_eq!(r.range(ApiKey::FIND_COORDINATOR), Some((0, 6)));
        assert_eq!(r.range(ApiKey::ADD_PARTITIONS_TO_TXN), Some((0, 5)));
        assert_eq!(r.range(ApiKey::ADD_OFFSETS_TO_TXN), Some((0, 4)));
        assert_eq!(r.range(ApiKey::END_TXN), Some((0, 5)));
        assert_eq!(r.range(ApiKey::TXN_OFFSET_COMMIT), Some((0, 5)));
        assert_eq!(r.api_keys.len(), 9, "only what the mock serves is advertised");
        assert_eq!(r.range(ApiKey::FETCH), None);
    }
    // A version the broker does not know: UNSUPPORTED_VERSION in the v0 layout (KIP-511).
    let mut out = Vec::new();
    let v9 = {
        // Encode a v4 request, then patch the version to 9 (the codec refuses to encode v9 itself).
        encode_request(&mut out, 4, 77, Some("x"), &hello()).unwrap();
        out[6..8].copy_from_slice(&9i16.to_be_bytes());
        out
    };
    c.stream.write_all(&v9).unwrap();
    let buf = c.read_frame().unwrap();
    assert_eq!(&buf[..4], &77i32.to_be_bytes());
    let r = ApiVersionsResponse::decode_with_fallback(&buf[4..], 4).unwrap();
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert_eq!(r.range(ApiKey::API_VERSIONS), Some((0, 5)));
}

#[test]
fn metadata_lists_brokers_topics_and_round_robin_leaders() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 6, 3).unwrap();
    assert!(matches!(cluster.create_topic("t", 1, 1), Err(MockError::TopicExists(_))));
    assert_eq!(
        cluster.create_topic("bad name", 1, 1).unwrap_err().code(),
        ErrorCode::INVALID_TOPIC_EXCEPTION
    );
    assert_eq!(cluster.create_topic("u", 1, 4).unwrap_err().code(), ErrorCode::INVALID_REPLICATION_FACTOR);
    assert_eq!(cluster.create_topic("u", 0, 1).unwrap_err().code(), ErrorCode::INVALID_PARTITIONS);

    let mut c = client_to(&cluster, 2);
    for v in [0, 1, 4, 9, 12, 13] {
        let r = metadata(&mut c, v, Some(&["t"]));
        assert_eq!(r.brokers.len(), 3);
        let ports: Vec<_> = r.brokers.iter().map(|b| format!("{}:{}", b.host, b.port)).collect();
        assert_eq!(ports.join(","), cluster.bootstrap_servers());
        let t = &r.topics[0];
        assert_eq!(t.error_code, ErrorCode::NONE);
        if v >= 10 {
            assert_eq!(t.topic_id, cluster.topic_id("t").unwrap());
        }
        let leaders: Vec<i32> = t.partitions.iter().map(|p| p.leader_id).collect();
        assert_eq!(leaders, [1, 2, 3, 1, 2, 3], "v{v}");
        assert!(t.partitions.iter().all(|p| p.replica_nodes.len() == 3 && p.isr_nodes.len() == 3));
        if v >= 7 {
            assert!(t.partitions.iter().all(|p| p.leader_epoch == 0));
        }
    }
    // By topic id (v12+).
    let id = cluster.topic_id("t").unwrap();
    let req = MetadataRequest {
        topics: Some(vec![
            MetadataRequestTopic { topic_id: id, name: None },
            MetadataRequestTopic { topic_id: Uuid([9; 16]), name: None },
        ]),
        ..Default::default()
    };
    let r = c.call(12, &req);
    assert_eq!(r.topics[0].name.as_deref(), Some("t"));
    assert_eq!(r.topics[1].error_code, ErrorCode::UNKNOWN_TOPIC_ID);
    // All topics: null (v1+) or empty (v0).
    assert_eq!(metadata(&mut c, 9, None).topics.len(), 1);
    assert_eq!(metadata(&mut c, 0, Some(&[])).topics.len(), 1);
}

#[test]
fn metadata_auto_creates_topics_like_kraft() {
    let cluster = MockCluster::builder().brokers(2).default_partitions(4).build().unwrap();
    let mut c = client_to(&cluster, 1);
    let r = metadata(&mut c, 12, Some(&["auto"]));
    // Kafka 4.x creates the topic but still answers UNKNOWN_TOPIC_OR_PARTITION this time.
    assert_eq!(r.topics[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "being created");
    let r = metadata(&mut c, 12, Some(&["auto"]));
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(r.topics[0].partitions.len(), 4);
    assert_eq!(cluster.partition_count("auto"), Some(4));
    // Invalid names are refused.
    let r = metadata(&mut c, 12, Some(&["no/slash"]));
    assert_eq!(r.topics[0].error_code, ErrorCode::INVALID_TOPIC_EXCEPTION);

    let strict = MockCluster::builder().auto_create_topics(false).build().unwrap();
    let mut c = client_to(&strict, 1);
    let r = metadata(&mut c, 12, Some(&["auto"]));
    assert_eq!(r.topics[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    assert!(strict.topics().is_empty());
}

#[test]
fn produce_stores_records_and_assigns_offsets() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let r = produce(&mut c, "t", 1, batch(NONE, 0, false, &["a", "b", "c"]));
    assert_eq!((r.error_code, r.base_offset, r.log_append_time_ms), (ErrorCode::NONE, 0, -1));
    // v3 (the oldest) and v13 (topic ids) as well.
    let r = first(&c.call(3, &produce_req("t", 1, 1, batch(NONE, 0, false, &["d"])))).clone();
    assert_eq!((r.error_code, r.base_offset), (ErrorCode::NONE, 3));
    let mut req = produce_req("", 1, -1, batch(NONE, 0, false, &["e", "f"]));
    req.topic_data[0].topic_id = cluster.topic_id("t").unwrap();
    let resp = c.call(13, &req);
    assert_eq!(resp.responses[0].topic_id, cluster.topic_id("t").unwrap());
    assert_eq!((first(&resp).error_code, first(&resp).base_offset), (ErrorCode::NONE, 4));

    assert_eq!(values(&cluster, "t", 1), ["a", "b", "c", "d", "e", "f"]);
    assert!(cluster.partition_records("t", 0).is_empty());
    assert_eq!(cluster.log_end_offset("t", 1), Some(6));
    let recs = cluster.partition_records("t", 1);
    let offsets: Vec<i64> = recs.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [0, 1, 2, 3, 4, 5]);
    assert_eq!(recs[1].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(recs[1].timestamp, common::recent_base_ts() + 1);
    assert_eq!(recs[1].timestamp_type, TimestampType::CreateTime);
    assert_eq!(recs[0].headers, vec![("h".to_owned(), Some(Bytes::from_static(b"x")))]);
    assert_eq!((recs[0].producer_id, recs[0].sequence, recs[0].transactional), (-1, -1, false));
    let batches = cluster.partition_batches("t", 1);
    assert_eq!(batches.iter().map(|b| b.base_offset).collect::<Vec<_>>(), [0, 3, 4]);
    // Stored batches carry their offsets and still decode with a valid CRC.
    let b = kprod::protocol::record::decode_batches(&batches[2].bytes).next().unwrap().unwrap();
    assert_eq!(b.base_offset, 4);
    cluster.check_invariants().unwrap();

    // Unknown topic (Produce never auto-creates) and partition.
    assert_eq!(
        produce(&mut c, "nope", 0, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(
        produce(&mut c, "t", 7, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert!(cluster.partition_count("nope").is_none());
}

#[test]
fn produce_validates_batches() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    // A flipped byte in the records breaks the CRC.
    let mut bad = batch(NONE, 0, false, &["a"]).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert_eq!(produce(&mut c, "t", 0, Bytes::from(bad)).error_code, ErrorCode::CORRUPT_MESSAGE);
    // Two batches in one partition entry.
    let two = [batch(NONE, 0, false, &["a"]), batch(NONE, 0, false, &["b"])].concat();
    assert_eq!(produce(&mut c, "t", 0, Bytes::from(two)).error_code, ErrorCode::INVALID_RECORD);
    // Garbage and truncation, answered as Kafka's record iterator does: too short for a batch or a batch
    // cut short is "no batch" (INVALID_RECORD); an impossible size or magic is CORRUPT_MESSAGE.
    assert_eq!(produce(&mut c, "t", 0, Bytes::from_static(b"junk")).error_code, ErrorCode::INVALID_RECORD);
    let junk = Bytes::from_static(b"junkjunkjunkjunkjunk");
    assert_eq!(produce(&mut c, "t", 0, junk).error_code, ErrorCode::CORRUPT_MESSAGE);
    let b = batch(NONE, 0, false, &["a"]);
    assert_eq!(produce(&mut c, "t", 0, b.slice(..b.len() - 1)).error_code, ErrorCode::INVALID_RECORD);
    let mut magic1 = b.to_vec();
    magic1[16] = 1;
    assert_eq!(produce(&mut c, "t", 0, Bytes::from(magic1)).error_code, ErrorCode::INVALID_RECORD);
    // Too large for the topic's max.message.bytes.
    cluster.set_topic_config("t", "max.message.bytes", "10").unwrap();
    assert_eq!(
        produce(&mut c, "t", 0, batch(NONE, 0, false, &["a"])).error_code,
        ErrorCode::MESSAGE_TOO_LARGE
    );
    assert!(cluster.partition_records("t", 0).is_empty());
    // Invalid acks.
    let r = c.call(9, &produce_req("t", 0, 2, batch(NONE, 0, false, &["a"])));
    assert_eq!(first(&r).error_code, ErrorCode::INVALID_REQUIRED_ACKS);
}

#[test]
fn compressed_batches_are_decompressed_and_checked() {
    use kprod::compression::{CompressionType, Compressor};
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let mut expected = Vec::new();
    for codec in [CompressionType::Gzip, CompressionType::Snappy, CompressionType::Lz4, CompressionType::Zstd]
    {
        let params = BatchParams { compression: codec, base_timestamp: 5, ..BatchParams::default() };
        let mut w = RecordBatchWriter::new(Vec::new(), params);
        for i in 0..50 {
            let v = format!("{codec:?}-{i}-{}", "x".repeat(i));
            w.append(5 + i as i64, None, Some(v.as_bytes()), NO_HEADERS).unwrap();
            expected.push(v);
        }
        let mut compressor = Compressor::new(codec, None).unwrap();
        let b = Bytes::from(w.seal(Some(&mut compressor), &mut Vec::new()).unwrap());
        if codec == CompressionType::Zstd {
            // zstd needs Produce v7+.
            let r = c.call(6, &produce_req("t", 0, -1, b.clone()));
            assert_eq!(first(&r).error_code, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
        }
        assert_eq!(produce(&mut c, "t", 0, b).error_code, ErrorCode::NONE, "{codec:?}");
    }
    assert_eq!(values(&cluster, "t", 0), expected);
    let codecs: Vec<i16> = cluster.partition_batches("t", 0).iter().map(|b| b.compression).collect();
    assert_eq!(codecs, [1, 2, 3, 4]);
    // A compressed section that does not decompress is a corrupt message.
    let params = BatchParams { compression: CompressionType::Gzip, ..BatchParams::default() };
    let mut w = RecordBatchWriter::new(Vec::new(), params);
    w.append(0, None, Some(b"v"), NO_HEADERS).unwrap();
    let mut gz = Compressor::new(CompressionType::Gzip, None).unwrap();
    let mut b = w.seal(Some(&mut gz), &mut Vec::new()).unwrap();
    let n = b.len();
    b[n - 3] ^= 0x55; // inside the gzip trailer; then fix the CRC so only decompression fails
    let crc = crc32c_of(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(produce(&mut c, "t", 0, Bytes::from(b)).error_code, ErrorCode::CORRUPT_MESSAGE);
}

/// CRC-32C (Castagnoli), bitwise; enough for patching a test batch.
fn crc32c_of(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn log_append_time_topics_stamp_the_broker_time() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.set_topic_config("t", "message.timestamp.type", "LogAppendTime").unwrap();
    let mut c = client_to(&cluster, 1);
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let r = produce(&mut c, "t", 0, batch(NONE, 0, false, &["a", "b"]));
    assert!(r.log_append_time_ms >= before, "{r:?}");
    let recs = cluster.partition_records("t", 0);
    assert!(recs
        .iter()
        .all(|x| x.timestamp == r.log_append_time_ms && x.timestamp_type == TimestampType::LogAppendTime));
    let stored = cluster.partition_batches("t", 0);
    let b = kprod::protocol::record::decode_batches(&stored[0].bytes).next().unwrap().unwrap();
    assert_eq!(b.timestamp_type(), TimestampType::LogAppendTime);
}

#[test]
fn acks_zero_gets_no_response() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    c.send(9, &produce_req("t", 0, 0, batch(NONE, 0, false, &["a"])));
    let id = c.send(12, &MetadataRequest::default());
    // The first frame back answers the metadata request: the produce got none.
    let r = c.recv::<MetadataRequest>(12, id);
    assert_eq!(r.brokers.len(), 1);
    assert_eq!(values(&cluster, "t", 0), ["a"]);
    // With acks 0, a failed partition closes the connection so the client notices.
    c.send(9, &produce_req("missing", 0, 0, batch(NONE, 0, false, &["a"])));
    assert!(c.is_closed());
}

#[test]
fn pushed_errors_are_returned_in_order_and_scoped() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    cluster.push_errors(
        ApiKey::PRODUCE,
        Some(("t", 0)),
        &[ErrorCode::NOT_LEADER_OR_FOLLOWER, ErrorCode::NONE, ErrorCode::KAFKA_STORAGE_ERROR],
    );
    let mut c = client_to(&cluster, 1);
    // Partition 1 is not affected.
    assert_eq!(produce(&mut c, "t", 1, batch(NONE, 0, false, &["p1"])).error_code, ErrorCode::NONE);
    assert_eq!(
        produce(&mut c, "t", 0, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
    );
    assert_eq!(produce(&mut c, "t", 0, batch(NONE, 0, false, &["a"])).error_code, ErrorCode::NONE);
    assert_eq!(
        produce(&mut c, "t", 0, batch(NONE, 0, false, &["y"])).error_code,
        ErrorCode::KAFKA_STORAGE_ERROR
    );
    assert_eq!(produce(&mut c, "t", 0, batch(NONE, 0, false, &["b"])).error_code, ErrorCode::NONE);
    assert_eq!(values(&cluster, "t", 0), ["a", "b"], "failed requests store nothing");

    // Unscoped: the whole request (here an API without partitions).
    cluster.push_errors(ApiKey::INIT_PRODUCER_ID, None, &[ErrorCode::COORDINATOR_LOAD_IN_PROGRESS]);
    let r = c.call(4, &InitProducerIdRequest { transaction_timeout_ms: 1000, ..Default::default() });
    assert_eq!(r.error_code, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
    assert_eq!(init_pid(&mut c, None).epoch, 0);

    // Metadata: a scoped partition error, and clear_faults.
    cluster.push_errors(ApiKey::METADATA, Some(("t", 1)), &[ErrorCode::LEADER_NOT_AVAILABLE]);
    let r = metadata(&mut c, 12, Some(&["t"]));
    assert_eq!(r.topics[0].partitions[1].error_code, ErrorCode::LEADER_NOT_AVAILABLE);
    assert_eq!(r.topics[0].partitions[1].leader_id, -1);
    assert_eq!(r.topics[0].partitions[0].error_code, ErrorCode::NONE);
    cluster.push_errors(ApiKey::METADATA, None, &[ErrorCode::UNKNOWN_SERVER_ERROR]);
    cluster.clear_faults();
    assert_eq!(metadata(&mut c, 12, Some(&["t"])).topics[0].error_code, ErrorCode::NONE);
}

#[test]
fn drop_before_processing_stores_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.drop_before_processing(ApiKey::PRODUCE, Some(("t", 0)), 1);
    let mut c = client_to(&cluster, 1);
    c.send(9, &produce_req("t", 0, -1, batch(NONE, 0, false, &["lost"])));
    assert!(c.is_closed());
    assert!(cluster.partition_records("t", 0).is_empty());
    let mut c = client_to(&cluster, 1);
    assert_eq!(produce(&mut c, "t", 0, batch(NONE, 0, false, &["a"])).base_offset, 0);
}

#[test]
fn lost_ack_then_retry_is_deduplicated() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let p = init_pid(&mut c, None);
    assert_eq!(produce(&mut c, "t", 0, batch(p, 0, false, &["a", "b"])).base_offset, 0);

    cluster.drop_after_processing(ApiKey::PRODUCE, None, 1);
    let retry = batch(p, 2, false, &["c"]);
    c.send(9, &produce_req("t", 0, -1, retry.clone()));
    assert!(c.is_closed(), "the acknowledgement is lost");
    assert_eq!(values(&cluster, "t", 0), ["a", "b", "c"], "but the records were written");

    // The producer retries the same batch on a new connection: Kafka answers NONE with the original offset.
    let mut c = client_to(&cluster, 1);
    let r = produce(&mut c, "t", 0, retry);
    assert_eq!((r.error_code, r.base_offset), (ErrorCode::NONE, 2));
    assert_eq!(values(&cluster, "t", 0), ["a", "b", "c"], "not written twice");
    cluster.check_invariants().unwrap();
}

#[test]
fn idempotence_checks_like_kafka() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let p = init_pid(&mut c, None);
    let mut offsets = Vec::new();
    for seq in 0..6 {
        let r = produce(&mut c, "t", 0, batch(p, seq, false, &["v"]));
        assert_eq!(r.error_code, ErrorCode::NONE);
        offsets.push(r.base_offset);
    }
    // A duplicate of one of the last five batches: NONE with the original offset, nothing written.
    let r = produce(&mut c, "t", 0, batch(p, 3, false, &["v"]));
    assert_eq!((r.error_code, r.base_offset), (ErrorCode::NONE, offsets[3]));
    // Older than the last five: out of order.
    let r = produce(&mut c, "t", 0, batch(p, 0, false, &["v"]));
    assert_eq!(r.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A gap.
    let r = produce(&mut c, "t", 0, batch(p, 8, false, &["v"]));
    assert_eq!(r.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Same sequence, different length: not a duplicate, out of order.
    let r = produce(&mut c, "t", 0, batch(p, 5, false, &["v", "w"]));
    assert_eq!(r.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    // An older epoch.
    let old = Producer { id: p.id, epoch: p.epoch - 1 };
    assert_eq!(
        produce(&mut c, "t", 0, batch(old, 6, false, &["v"])).error_code,
        ErrorCode::INVALID_PRODUCER_EPOCH
    );
    // A new epoch must restart at sequence 0.
    let bumped = Producer { id: p.id, epoch: p.epoch + 1 };
    assert_eq!(
        produce(&mut c, "t", 0, batch(bumped, 6, false, &["v"])).error_code,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    assert_eq!(produce(&mut c, "t", 0, batch(bumped, 0, false, &["v"])).error_code, ErrorCode::NONE);
    // After the bump the old epoch is fenced.
    assert_eq!(
        produce(&mut c, "t", 0, batch(p, 6, false, &["v"])).error_code,
        ErrorCode::INVALID_PRODUCER_EPOCH
    );
    // A producer id this partition never saw may start at any sequence (Kafka since KIP-360).
    let stranger = Producer { id: 424242, epoch: 0 };
    assert_eq!(produce(&mut c, "t", 0, batch(stranger, 17, false, &["v"])).error_code, ErrorCode::NONE);
    assert_eq!(values(&cluster, "t", 0).len(), 8);
    let recs = cluster.partition_records("t", 0);
    assert_eq!((recs[7].producer_id, recs[7].sequence), (424242, 17));
    cluster.check_invariants().unwrap();
}

#[test]
fn init_producer_id_allocates_and_bumps() {
    let cluster = MockCluster::new(1).unwrap();
    let mut c = client_to(&cluster, 1);
    let a = init_pid(&mut c, None);
    let b = init_pid(&mut c, None);
    assert_ne!(a.id, b.id);
    assert_eq!((a.epoch, b.epoch), (0, 0));
    // Transactional: the same id, the epoch bumped each time, and the old epoch fenced.
    let t1 = init_pid(&mut c, Some("tx"));
    let t2 = init_pid(&mut c, Some("tx"));
    assert_eq!((t2.id, t2.epoch), (t1.id, t1.epoch + 1));
    let info = cluster.transaction("tx").unwrap();
    assert_eq!((info.producer_id, info.producer_epoch), (t2.id, t2.epoch));
    // v3+: a producer bumping its own epoch must name the current one.
    let req = |pid, epoch| InitProducerIdRequest {
        transactional_id: Some("tx".into()),
        transaction_timeout_ms: 60_000,
        producer_id: pid,
        producer_epoch: epoch,
        ..Default::default()
    };
    assert_eq!(c.call(4, &req(t1.id, t1.epoch)).error_code, ErrorCode::PRODUCER_FENCED);
    assert_eq!(c.call(3, &req(t1.id, t1.epoch)).error_code, ErrorCode::INVALID_PRODUCER_EPOCH);
    let r = c.call(4, &req(t2.id, t2.epoch));
    assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, t2.epoch + 1));
    // A retry of that call gets the same epoch again.
    let r = c.call(4, &req(t2.id, t2.epoch));
    assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, t2.epoch + 1));
    // Bad timeouts.
    let mut bad = req(-1, -1);
    bad.transaction_timeout_ms = 0;
    assert_eq!(c.call(4, &bad).error_code, ErrorCode::INVALID_TRANSACTION_TIMEOUT);
}

#[test]
fn transactional_writes_need_the_coordinator() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let p = init_pid(&mut c, Some("tx"));
    // Without AddPartitionsToTxn the partition is not in the transaction (KIP-890 verification).
    let mut req = produce_req("t", 0, -1, batch(p, 0, true, &["a"]));
    req.transactional_id = Some("tx".into());
    assert_eq!(first(&c.call(9, &req)).error_code, ErrorCode::INVALID_TXN_STATE);
    // Produce v12+ (transactions v2) adds the partition implicitly.
    assert_eq!(first(&c.call(12, &req)).error_code, ErrorCode::NONE);
    let info = cluster.transaction("tx").unwrap();
    assert_eq!(info.partitions, [("t".to_owned(), 0)]);
    assert_eq!(format!("{:?}", info.state), "Ongoing");
    // The transaction is open: read_committed sees nothing yet.
    assert!(cluster.read_committed("t", 0).is_empty());
    // A new producer instance with the same transactional id fences the open transaction: it is aborted
    // (a marker with a bumped epoch) and the new producer retries after CONCURRENT_TRANSACTIONS.
    let r = c.call(
        4,
        &InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 1000,
            ..Default::default()
        },
    );
    assert_eq!(r.error_code, ErrorCode::CONCURRENT_TRANSACTIONS);
    let p2 = init_pid(&mut c, Some("tx"));
    assert_eq!((p2.id, p2.epoch), (p.id, p.epoch + 2));
    let recs = cluster.partition_records("t", 0);
    assert_eq!(recs.len(), 2);
    let marker = recs[1].control.unwrap();
    assert!(marker.is_abort());
    assert_eq!(recs[1].producer_epoch, p.epoch + 1);
    assert!(cluster.read_committed("t", 0).is_empty(), "aborted");
    // The zombie is fenced.
    let mut zombie = produce_req("t", 0, -1, batch(p, 1, true, &["z"]));
    zombie.transactional_id = Some("tx".into());
    assert_eq!(first(&c.call(12, &zombie)).error_code, ErrorCode::INVALID_PRODUCER_EPOCH);
}

#[test]
fn leader_move_answers_not_leader_or_follower() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 1, 3).unwrap();
    assert_eq!(cluster.leader("t", 0), Some(1));
    let mut c1 = client_to(&cluster, 1);
    assert_eq!(produce(&mut c1, "t", 0, batch(NONE, 0, false, &["a"])).error_code, ErrorCode::NONE);
    cluster.move_leader("t", 0, 3).unwrap();
    assert_eq!((cluster.leader("t", 0), cluster.leader_epoch("t", 0)), (Some(3), Some(1)));
    // v9: just the error; v10+: the new leader and its endpoint (KIP-951).
    assert_eq!(
        produce(&mut c1, "t", 0, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
    );
    let r = c1.call(10, &produce_req("t", 0, -1, batch(NONE, 0, false, &["x"])));
    let p = first(&r);
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!((p.current_leader.leader_id, p.current_leader.leader_epoch), (3, 1));
    assert_eq!(r.node_endpoints[0].node_id, 3);
    assert_eq!(r.node_endpoints[0].port as u16, cluster.broker_address(3).unwrap().port());
    // Metadata shows the move; the new leader accepts.
    let m = metadata(&mut c1, 12, Some(&["t"]));
    assert_eq!((m.topics[0].partitions[0].leader_id, m.topics[0].partitions[0].leader_epoch), (3, 1));
    let mut c3 = client_to(&cluster, 3);
    let r = produce(&mut c3, "t", 0, batch(NONE, 0, false, &["b"]));
    assert_eq!((r.error_code, r.base_offset), (ErrorCode::NONE, 1));
    assert_eq!(cluster.partition_records("t", 0)[1].partition_leader_epoch, 1);
    assert!(cluster.move_leader("t", 0, 9).is_err());
}

#[test]
fn min_insync_replicas_with_acks_all() {
    let cluster = MockCluster::builder().brokers(3).min_insync_replicas(2).build().unwrap();
    cluster.create_topic("t", 1, 3).unwrap();
    let mut c = client_to(&cluster, 1);
    assert_eq!(produce(&mut c, "t", 0, batch(NONE, 0, false, &["a"])).error_code, ErrorCode::NONE);
    cluster.set_isr("t", 0, &[1]).unwrap();
    assert_eq!(
        produce(&mut c, "t", 0, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::NOT_ENOUGH_REPLICAS
    );
    // acks=1 does not care.
    let r = c.call(9, &produce_req("t", 0, 1, batch(NONE, 0, false, &["b"])));
    assert_eq!(first(&r).error_code, ErrorCode::NONE);
    // A topic override.
    cluster.set_topic_config("t", "min.insync.replicas", "1").unwrap();
    assert_eq!(produce(&mut c, "t", 0, batch(NONE, 0, false, &["c"])).error_code, ErrorCode::NONE);
    assert_eq!(values(&cluster, "t", 0), ["a", "b", "c"]);
    assert!(cluster.set_isr("t", 0, &[7]).is_err());
}

#[test]
fn broker_down_refuses_connections_and_moves_leaders() {
    let cluster = MockCluster::builder().brokers(3).min_insync_replicas(2).build().unwrap();
    cluster.create_topic("t", 3, 2).unwrap();
    let addr2 = cluster.broker_address(2).unwrap();
    let mut open = Client::connect(&addr2.to_string());
    open.call(4, &hello());

    cluster.broker_down(2).unwrap();
    assert!(open.is_closed(), "connections are closed");
    assert!(TcpStream::connect(addr2).is_err(), "new connections are refused");
    // Partition 1 was led by broker 2 (replicas 2, 3): broker 3 took over; the ISRs shrank.
    assert_eq!((cluster.leader("t", 1), cluster.leader_epoch("t", 1)), (Some(3), Some(1)));
    assert_eq!(cluster.isr("t", 1), Some(vec![3]));
    let mut c = client_to(&cluster, 1);
    let m = metadata(&mut c, 12, Some(&["t"]));
    assert_eq!(m.brokers.len(), 2);
    assert_eq!(m.topics[0].partitions[1].offline_replicas, [2]);
    // ISR 1 < min.insync 2: acks=all fails on the new leader.
    let mut c3 = client_to(&cluster, 3);
    assert_eq!(
        produce(&mut c3, "t", 1, batch(NONE, 0, false, &["x"])).error_code,
        ErrorCode::NOT_ENOUGH_REPLICAS
    );

    cluster.broker_up(2).unwrap();
    let mut back = Client::connect(&addr2.to_string());
    assert_eq!(back.call(4, &hello()).error_code, ErrorCode::NONE);
    assert_eq!(cluster.isr("t", 1), Some(vec![3, 2]));
    assert_eq!(produce(&mut c3, "t", 1, batch(NONE, 0, false, &["y"])).error_code, ErrorCode::NONE);
    assert_eq!(metadata(&mut c, 12, None).brokers.len(), 3);
    // The last in-sync replica going down leaves the partition without a leader.
    cluster.broker_down(2).unwrap();
    cluster.broker_down(3).unwrap();
    assert_eq!(cluster.leader("t", 1), Some(-1));
    let m = metadata(&mut c, 12, Some(&["t"]));
    assert_eq!(m.topics[0].partitions[1].error_code, ErrorCode::LEADER_NOT_AVAILABLE);
    cluster.broker_up(3).unwrap();
    assert_eq!(cluster.leader("t", 1), Some(3));
    assert!(matches!(cluster.broker_down(9), Err(MockError::UnknownBroker(9))));
}

#[test]
fn broker_delay_and_throttle() {
    let cluster = MockCluster::new(2).unwrap();
    cluster.set_broker_delay(2, Duration::from_millis(300)).unwrap();
    cluster.set_throttle(ApiKey::METADATA, 250);
    let mut c1 = client_to(&cluster, 1);
    let mut c2 = client_to(&cluster, 2);
    let t = Instant::now();
    c1.call(4, &hello());
    assert!(t.elapsed() < Duration::from_millis(250), "broker 1 is not delayed");
    // Pipelined requests overlap: three requests take one delay, not three.
    let t = Instant::now();
    let ids: Vec<i32> = (0..3).map(|_| c2.send(4, &hello())).collect();
    for id in ids {
        c2.recv::<ApiVersionsRequest>(4, id);
    }
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(800), "{took:?}");
    assert_eq!(metadata(&mut c1, 12, None).throttle_time_ms, 250);
    cluster.set_throttle(ApiKey::METADATA, 0);
    assert_eq!(metadata(&mut c1, 12, None).throttle_time_ms, 0);
}

#[test]
fn close_after_bytes_cuts_the_response() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.close_after_bytes(ApiKey::METADATA, None, 6);
    let mut c = client_to(&cluster, 1);
    c.send(12, &MetadataRequest::default());
    let mut got = Vec::new();
    let _ = c.stream.read_to_end(&mut got);
    assert_eq!(got.len(), 6, "size prefix and two bytes of the correlation id, then EOF");
    let mut c = client_to(&cluster, 1);
    assert_eq!(metadata(&mut c, 12, None).brokers.len(), 1);
}

#[test]
fn request_log_records_every_request() {
    let cluster = MockCluster::new(2).unwrap();
    let mut c = client_to(&cluster, 2);
    c.call(3, &hello());
    metadata(&mut c, 12, None);
    let log = cluster.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].broker, log[0].api_key, log[0].api_version, log[0].correlation_id),
        (2, ApiKey::API_VERSIONS, 3, 1)
    );
    assert_eq!((log[1].api_key, log[1].api_version, log[1].correlation_id), (ApiKey::METADATA, 12, 2));
    assert_eq!(log[1].client_id.as_deref(), Some("mock-test"));
    cluster.clear_requests();
    assert!(cluster.requests().is_empty());
}

#[test]
fn hostile_input_closes_the_connection_only() {
    let cluster = MockCluster::builder().max_frame_size(1024).build().unwrap();
    let addr = cluster.broker_address(1).unwrap().to_string();
    for garbage in [
        &[0xff, 0xff, 0xff, 0xff][..],                       // negative size
        &[0x00, 0x10, 0x00, 0x00],                           // over the maximum
        &[0, 0, 0, 2, 0, 1],                                 // a header cut short
        &[0, 0, 0, 10, 0, 99, 0, 0, 0, 0, 0, 1, 0xff, 0xff], // unknown API 99
        &[0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff], // Metadata v99
    ] {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(garbage).unwrap();
        let mut b = [0u8; 1];
        assert!(!matches!(s.read(&mut b), Ok(n) if n > 0), "{garbage:?}");
    }
    // A frame announced but never sent in full does not block the broker.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&[0, 0, 3, 0, 1]).unwrap();
    let mut c = Client::connect(&addr);
    assert_eq!(c.call(4, &hello()).error_code, ErrorCode::NONE);
}

#[test]
fn null_sink_acknowledges_without_storing() {
    let cluster = MockCluster::builder().null_sink(true).build().unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let mut c = client_to(&cluster, 1);
    let p = init_pid(&mut c, None);
    assert_eq!(produce(&mut c, "t", 0, batch(p, 0, false, &["a", "b"])).base_offset, 0);
    // No CRC check in null-sink mode, but offsets and idempotence still work.
    let mut bad = batch(p, 2, false, &["c"]).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert_eq!(produce(&mut c, "t", 0, Bytes::from(bad)).base_offset, 2);
    let r = produce(&mut c, "t", 0, batch(p, 2, false, &["c"]));
    assert_eq!((r.error_code, r.base_offset), (ErrorCode::NONE, 2), "duplicate");
    assert!(cluster.partition_records("t", 0).is_empty());
    assert!(cluster.partition_batches("t", 0).is_empty());
    assert_eq!(cluster.log_end_offset("t", 0), Some(3));
    // Framing is still checked.
    assert_eq!(produce(&mut c, "t", 0, Bytes::from_static(b"junk")).error_code, ErrorCode::INVALID_RECORD);
}

#[test]
fn add_partitions_and_drop_shut_down() {
    let cluster = MockCluster::new(2).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    cluster.add_partitions("t", 5).unwrap();
    assert_eq!(cluster.partition_count("t"), Some(5));
    assert_eq!(cluster.leader("t", 4), Some(1));
    assert_eq!(cluster.add_partitions("t", 3).unwrap_err().code(), ErrorCode::INVALID_PARTITIONS);
    let mut c = client_to(&cluster, 1);
    assert_eq!(metadata(&mut c, 12, Some(&["t"])).topics[0].partitions.len(), 5);
    // Dropping the cluster with clients still connected closes everything and returns promptly.
    let addr = cluster.broker_address(1).unwrap();
    let t = Instant::now();
    drop(cluster);
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(c.is_closed());
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn the_cluster_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<MockCluster>();
    let cluster = std::sync::Arc::new(MockCluster::new(1).unwrap());
    cluster.create_topic("t", 1, 1).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let cluster = std::sync::Arc::clone(&cluster);
            std::thread::spawn(move || {
                let mut c = client_to(&cluster, 1);
                let p = init_pid(&mut c, None);
                for seq in 0..25 {
                    let v = format!("{i}-{seq}");
                    assert_eq!(
                        produce(&mut c, "t", 0, batch(p, seq, false, &[&v])).error_code,
                        ErrorCode::NONE
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(cluster.log_end_offset("t", 0), Some(100));
    cluster.check_invariants().unwrap();
}

#[test]
fn fixed_ports() {
    // Find two free consecutive ports by asking for an ephemeral one and trying the next.
    for _ in 0..20 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        if port == u16::MAX {
            continue;
        }
        if let Ok(cluster) = MockCluster::builder().brokers(2).port(port).build() {
            assert_eq!(cluster.bootstrap_servers(), format!("127.0.0.1:{port},127.0.0.1:{}", port + 1));
            return;
        }
    }
    panic!("no two free consecutive ports found");
}

// ---------------------------------------------------------------------------------------------------
// The transaction coordinator

mod txn {
    use super::*;
    use kprod::mock::TxnState;
    use kprod::protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
    use kprod::protocol::messages::add_partitions_to_txn::{
        AddPartitionsToTxnRequest, AddPartitionsToTxnTopic, AddPartitionsToTxnTopicResult,
        AddPartitionsToTxnTransaction,
    };
    use kprod::protocol::messages::end_txn::EndTxnRequest;
    use kprod::protocol::messages::find_coordinator::{
        FindCoordinatorRequest, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
    };
    use kprod::protocol::messages::txn_offset_commit::{
        TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    };

    fn coordinator(c: &mut Client, key: &str, key_type: i8) -> i32 {
        let r = c.call(3, &FindCoordinatorRequest { key: key.into(), key_type, ..Default::default() });
        assert_eq!(r.error_code, ErrorCode::NONE);
        r.node_id
    }

    fn add_partitions(
        c: &mut Client,
        v: i16,
        id: &str,
        p: Producer,
        parts: &[(&str, i32)],
    ) -> Vec<ErrorCode> {
        let mut topics: Vec<AddPartitionsToTxnTopic> = Vec::new();
        for (t, i) in parts {
            match topics.iter_mut().find(|x| x.name == *t) {
                Some(x) => x.partitions.push(*i),
                None => topics.push(AddPartitionsToTxnTopic { name: (*t).into(), partitions: vec![*i] }),
            }
        }
        let r = c.call(
            v,
            &AddPartitionsToTxnRequest {
                v3_and_below_transactional_id: id.into(),
                v3_and_below_producer_id: p.id,
                v3_and_below_producer_epoch: p.epoch,
                v3_and_below_topics: topics,
                ..Default::default()
            },
        );
        flatten(&r.results_by_topic_v3_and_below)
    }

    fn flatten(results: &[AddPartitionsToTxnTopicResult]) -> Vec<ErrorCode> {
        results.iter().flat_map(|t| t.results_by_partition.iter().map(|p| p.partition_error_code)).collect()
    }

    fn end(c: &mut Client, v: i16, id: &str, p: Producer, commit: bool) -> ErrorCode {
        let r = c.call(
            v,
            &EndTxnRequest {
                transactional_id: id.into(),
                producer_id: p.id,
                producer_epoch: p.epoch,
                committed: commit,
            },
        );
        r.error_code
    }

    fn add_offsets(c: &mut Client, id: &str, p: Producer, group: &str) -> ErrorCode {
        let r = c.call(
            3,
            &AddOffsetsToTxnRequest {
                transactional_id: id.into(),
                producer_id: p.id,
                producer_epoch: p.epoch,
                group_id: group.into(),
            },
        );
        r.error_code
    }

    fn commit_offset(c: &mut Client, v: i16, id: &str, p: Producer, group: &str, offset: i64) -> ErrorCode {
        let r = c.call(
            v,
            &TxnOffsetCommitRequest {
                transactional_id: id.into(),
                group_id: group.into(),
                producer_id: p.id,
                producer_epoch: p.epoch,
                topics: vec![TxnOffsetCommitRequestTopic {
                    name: "in".into(),
                    partitions: vec![TxnOffsetCommitRequestPartition {
                        partition_index: 0,
                        committed_offset: offset,
                        ..Default::default()
                    }],
                }],
                ..Default::default()
            },
        );
        r.topics[0].partitions[0].error_code
    }

    fn txn_produce(
        cluster: &MockCluster,
        id: &str,
        p: Producer,
        part: i32,
        seq: i32,
        vals: &[&str],
    ) -> ErrorCode {
        let mut c = client_to(cluster, cluster.leader("t", part).unwrap());
        let mut req = produce_req("t", part, -1, batch(p, seq, true, vals));
        req.transactional_id = Some(id.into());
        first(&c.call(9, &req)).error_code
    }

    #[test]
    fn find_coordinator_single_and_batched() {
        let cluster = MockCluster::new(3).unwrap();
        let mut c = client_to(&cluster, 1);
        let node = coordinator(&mut c, "tx", KEY_TYPE_TRANSACTION);
        assert!((1..=3).contains(&node));
        for v in 0..=3 {
            let r = c.call(
                v,
                &FindCoordinatorRequest { key: "g".into(), key_type: KEY_TYPE_GROUP, ..Default::default() },
            );
            assert_eq!(r.error_code, ErrorCode::NONE);
            assert_eq!(r.port as u16, cluster.broker_address(r.node_id).unwrap().port());
        }
        let keys: Vec<String> = (0..10).map(|i| format!("tx-{i}")).collect();
        let r = c.call(
            4,
            &FindCoordinatorRequest {
                key_type: KEY_TYPE_TRANSACTION,
                coordinator_keys: keys.clone(),
                ..Default::default()
            },
        );
        assert_eq!(r.coordinators.iter().map(|k| k.key.clone()).collect::<Vec<_>>(), keys);
        assert!(r
            .coordinators
            .iter()
            .all(|k| k.error_code == ErrorCode::NONE && (1..=3).contains(&k.node_id)));
        let spread: std::collections::BTreeSet<i32> = r.coordinators.iter().map(|k| k.node_id).collect();
        assert!(spread.len() > 1, "coordinators are spread over the brokers");
        // The coordinator moves when its broker goes down.
        cluster.broker_down(node).unwrap();
        let mut c = client_to(&cluster, if node == 1 { 2 } else { 1 });
        assert_ne!(coordinator(&mut c, "tx", KEY_TYPE_TRANSACTION), node);
        // Injected errors and an invalid key type.
        cluster.push_errors(ApiKey::FIND_COORDINATOR, None, &[ErrorCode::COORDINATOR_NOT_AVAILABLE]);
        let r = c.call(3, &FindCoordinatorRequest { key: "tx".into(), key_type: 1, ..Default::default() });
        assert_eq!(r.error_code, ErrorCode::COORDINATOR_NOT_AVAILABLE);
        let r = c.call(3, &FindCoordinatorRequest { key: "tx".into(), key_type: 7, ..Default::default() });
        assert_eq!(r.error_code, ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn commit_writes_markers_and_offsets() {
        let cluster = MockCluster::new(3).unwrap();
        cluster.create_topic("t", 2, 3).unwrap();
        cluster.create_topic("in", 1, 1).unwrap();
        let mut any = client_to(&cluster, 1);
        let tc = coordinator(&mut any, "tx", KEY_TYPE_TRANSACTION);
        let gc = coordinator(&mut any, "g", KEY_TYPE_GROUP);
        let other = if tc == 1 { 2 } else { 1 };
        let r = client_to(&cluster, other).call(
            4,
            &InitProducerIdRequest {
                transactional_id: Some("tx".into()),
                transaction_timeout_ms: 60_000,
                ..Default::default()
            },
        );
        assert_eq!(r.error_code, ErrorCode::NOT_COORDINATOR);
        let mut c = client_to(&cluster, tc);
        let p = init_pid(&mut c, Some("tx"));

        // Unknown partitions fail the request; nothing is added.
        assert_eq!(
            add_partitions(&mut c, 3, "tx", p, &[("t", 0), ("t", 9)]),
            [ErrorCode::OPERATION_NOT_ATTEMPTED, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION]
        );
        assert_eq!(add_partitions(&mut c, 3, "tx", p, &[("t", 0), ("t", 1)]), [ErrorCode::NONE; 2]);
        assert_eq!(txn_produce(&cluster, "tx", p, 0, 0, &["a0", "a1"]), ErrorCode::NONE);
        assert_eq!(txn_produce(&cluster, "tx", p, 1, 0, &["b0"]), ErrorCode::NONE);
        assert_eq!(add_offsets(&mut c, "tx", p, "g"), ErrorCode::NONE);
        let mut g = client_to(&cluster, gc);
        if gc != tc {
            assert_eq!(commit_offset(&mut c, 3, "tx", p, "g", 42), ErrorCode::NOT_COORDINATOR);
        }
        assert_eq!(commit_offset(&mut g, 3, "tx", p, "g", 42), ErrorCode::NONE);
        let info = cluster.transaction("tx").unwrap();
        assert_eq!(info.state, TxnState::Ongoing);
        assert_eq!(info.partitions.len(), 2);
        assert_eq!(info.groups, ["g"]);
        assert!(cluster.read_committed("t", 0).is_empty());
        assert!(cluster.committed_offsets("g").is_empty());

        assert_eq!(end(&mut c, 3, "tx", p, true), ErrorCode::NONE);
        for (part, n) in [(0, 2), (1, 1)] {
            let recs = cluster.partition_records("t", part);
            let marker = recs.last().unwrap();
            assert!(marker.control.unwrap().is_commit());
            assert_eq!((marker.offset, marker.producer_id, marker.producer_epoch), (n, p.id, p.epoch));
            assert!(recs[..n as usize].iter().all(|r| r.transactional && r.producer_id == p.id));
            assert_eq!(cluster.read_committed("t", part).len(), n as usize);
            assert!(cluster.partition_batches("t", part).last().unwrap().control);
        }
        assert_eq!(cluster.committed_offsets("g").get(&("in".to_owned(), 0)), Some(&42));
        assert_eq!(cluster.transaction("tx").unwrap().state, TxnState::CompleteCommit);
        // A retried EndTxn with the same outcome succeeds; the other outcome does not.
        assert_eq!(end(&mut c, 3, "tx", p, true), ErrorCode::NONE);
        assert_eq!(end(&mut c, 3, "tx", p, false), ErrorCode::INVALID_TXN_STATE);

        // A second transaction, aborted: its records are never visible to read_committed.
        assert_eq!(add_partitions(&mut c, 3, "tx", p, &[("t", 0)]), [ErrorCode::NONE]);
        assert_eq!(txn_produce(&cluster, "tx", p, 0, 2, &["x"]), ErrorCode::NONE);
        assert_eq!(add_offsets(&mut c, "tx", p, "g"), ErrorCode::NONE);
        assert_eq!(commit_offset(&mut g, 3, "tx", p, "g", 99), ErrorCode::NONE);
        assert_eq!(end(&mut c, 3, "tx", p, false), ErrorCode::NONE);
        let recs = cluster.partition_records("t", 0);
        assert!(recs.last().unwrap().control.unwrap().is_abort());
        let visible: Vec<_> =
            cluster.read_committed("t", 0).iter().map(|r| r.value.clone().unwrap()).collect();
        assert_eq!(visible, [Bytes::from_static(b"a0"), Bytes::from_static(b"a1")]);
        assert_eq!(
            cluster.committed_offsets("g").get(&("in".to_owned(), 0)),
            Some(&42),
            "aborted offsets dropped"
        );
        cluster.check_invariants().unwrap();

        // Nothing open: EndTxn is an invalid state after InitProducerId.
        let p2 = init_pid(&mut c, Some("tx"));
        assert_eq!(end(&mut c, 3, "tx", p2, true), ErrorCode::INVALID_TXN_STATE);
    }

    #[test]
    fn fencing_by_epoch() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let mut c = client_to(&cluster, 1);
        let old = init_pid(&mut c, Some("tx"));
        assert_eq!(add_partitions(&mut c, 3, "tx", old, &[("t", 0)]), [ErrorCode::NONE]);
        assert_eq!(txn_produce(&cluster, "tx", old, 0, 0, &["zombie"]), ErrorCode::NONE);
        // A new instance: the open transaction is aborted, CONCURRENT_TRANSACTIONS, then a new epoch.
        let r = c.call(
            4,
            &InitProducerIdRequest {
                transactional_id: Some("tx".into()),
                transaction_timeout_ms: 1000,
                ..Default::default()
            },
        );
        assert_eq!(r.error_code, ErrorCode::CONCURRENT_TRANSACTIONS);
        let new = init_pid(&mut c, Some("tx"));
        assert_eq!((new.id, new.epoch), (old.id, old.epoch + 2));
        // The old instance is fenced everywhere.
        assert_eq!(add_partitions(&mut c, 3, "tx", old, &[("t", 0)]), [ErrorCode::PRODUCER_FENCED]);
        assert_eq!(add_partitions(&mut c, 1, "tx", old, &[("t", 0)]), [ErrorCode::INVALID_PRODUCER_EPOCH]);
        assert_eq!(add_offsets(&mut c, "tx", old, "g"), ErrorCode::PRODUCER_FENCED);
        assert_eq!(end(&mut c, 3, "tx", old, true), ErrorCode::PRODUCER_FENCED);
        assert_eq!(end(&mut c, 1, "tx", old, true), ErrorCode::INVALID_PRODUCER_EPOCH);
        assert_eq!(txn_produce(&cluster, "tx", old, 0, 1, &["zombie"]), ErrorCode::INVALID_PRODUCER_EPOCH);
        // A wrong producer id.
        let stranger = Producer { id: 777, epoch: new.epoch };
        assert_eq!(end(&mut c, 3, "tx", stranger, true), ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        assert_eq!(end(&mut c, 3, "unknown", new, true), ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        // The new instance works; the zombie's write was aborted.
        assert_eq!(add_partitions(&mut c, 3, "tx", new, &[("t", 0)]), [ErrorCode::NONE]);
        assert_eq!(txn_produce(&cluster, "tx", new, 0, 0, &["good"]), ErrorCode::NONE);
        assert_eq!(end(&mut c, 3, "tx", new, true), ErrorCode::NONE);
        let visible: Vec<_> =
            cluster.read_committed("t", 0).iter().map(|r| r.value.clone().unwrap()).collect();
        assert_eq!(visible, [Bytes::from_static(b"good")]);
        cluster.check_invariants().unwrap();
    }

    #[test]
    fn batched_verify_and_offsets_verification() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 2, 1).unwrap();
        cluster.create_topic("in", 1, 1).unwrap();
        let mut c = client_to(&cluster, 1);
        let p = init_pid(&mut c, Some("tx"));
        assert_eq!(add_partitions(&mut c, 3, "tx", p, &[("t", 0)]), [ErrorCode::NONE]);
        // The brokers' v4+ form: per transaction, verify only.
        let r = c.call(
            5,
            &AddPartitionsToTxnRequest {
                transactions: vec![
                    AddPartitionsToTxnTransaction {
                        transactional_id: "tx".into(),
                        producer_id: p.id,
                        producer_epoch: p.epoch,
                        verify_only: true,
                        topics: vec![AddPartitionsToTxnTopic { name: "t".into(), partitions: vec![0, 1] }],
                    },
                    AddPartitionsToTxnTransaction {
                        transactional_id: "nope".into(),
                        producer_id: 1,
                        producer_epoch: 0,
                        verify_only: true,
                        topics: vec![AddPartitionsToTxnTopic { name: "t".into(), partitions: vec![0] }],
                    },
                ],
                ..Default::default()
            },
        );
        assert_eq!(r.error_code, ErrorCode::NONE);
        assert_eq!(r.results_by_transaction[0].transactional_id, "tx");
        assert_eq!(
            flatten(&r.results_by_transaction[0].topic_results),
            [ErrorCode::NONE, ErrorCode::TRANSACTION_ABORTABLE]
        );
        assert_eq!(
            flatten(&r.results_by_transaction[1].topic_results),
            [ErrorCode::INVALID_PRODUCER_ID_MAPPING]
        );
        assert_eq!(cluster.transaction("tx").unwrap().partitions.len(), 1, "verify_only adds nothing");
        // TxnOffsetCommit v4+ needs AddOffsetsToTxn first.
        assert_eq!(commit_offset(&mut c, 4, "tx", p, "g", 5), ErrorCode::TRANSACTION_ABORTABLE);
        assert_eq!(add_offsets(&mut c, "tx", p, "g"), ErrorCode::NONE);
        assert_eq!(commit_offset(&mut c, 4, "tx", p, "g", 5), ErrorCode::NONE);
        let stale = Producer { id: p.id, epoch: p.epoch - 1 };
        assert_eq!(commit_offset(&mut c, 4, "tx", stale, "g", 5), ErrorCode::INVALID_PRODUCER_EPOCH);
        assert_eq!(end(&mut c, 4, "tx", p, true), ErrorCode::NONE);
        assert_eq!(cluster.committed_offsets("g").len(), 1);
    }

    #[test]
    fn end_txn_v5_bumps_the_epoch() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let mut c = client_to(&cluster, 1);
        let p = init_pid(&mut c, Some("tx"));
        // Transactions v2: Produce v12 adds the partition, EndTxn v5 bumps the epoch and returns it.
        let mut req = produce_req("t", 0, -1, batch(p, 0, true, &["a"]));
        req.transactional_id = Some("tx".into());
        assert_eq!(first(&c.call(12, &req)).error_code, ErrorCode::NONE);
        let end_req = EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: p.id,
            producer_epoch: p.epoch,
            committed: true,
        };
        let r = c.call(5, &end_req);
        assert_eq!((r.error_code, r.producer_id, r.producer_epoch), (ErrorCode::NONE, p.id, p.epoch + 1));
        // The marker carries the bumped epoch; a retry with the old epoch gets the same answer.
        let marker = cluster.partition_records("t", 0).pop().unwrap();
        assert_eq!(marker.producer_epoch, p.epoch + 1);
        let r = c.call(5, &end_req);
        assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, p.epoch + 1));
        // An empty transaction may be aborted (KIP-890), and bumps again.
        let bumped = Producer { id: p.id, epoch: p.epoch + 1 };
        let r = c.call(
            5,
            &EndTxnRequest {
                transactional_id: "tx".into(),
                producer_id: bumped.id,
                producer_epoch: bumped.epoch,
                committed: false,
            },
        );
        assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, p.epoch + 2));
        assert_eq!(cluster.read_committed("t", 0).len(), 1);
    }

    #[test]
    fn lost_end_txn_response_then_retry() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let mut c = client_to(&cluster, 1);
        let p = init_pid(&mut c, Some("tx"));
        assert_eq!(add_partitions(&mut c, 3, "tx", p, &[("t", 0)]), [ErrorCode::NONE]);
        assert_eq!(txn_produce(&cluster, "tx", p, 0, 0, &["a"]), ErrorCode::NONE);
        // The EndTxn touching t-0 is processed but its answer is lost.
        cluster.drop_after_processing(ApiKey::END_TXN, Some(("t", 0)), 1);
        c.send(
            3,
            &EndTxnRequest {
                transactional_id: "tx".into(),
                producer_id: p.id,
                producer_epoch: p.epoch,
                committed: true,
            },
        );
        assert!(c.is_closed());
        let mut c = client_to(&cluster, 1);
        assert_eq!(
            end(&mut c, 3, "tx", p, true),
            ErrorCode::NONE,
            "the retry finds the transaction committed"
        );
        let markers = cluster.partition_records("t", 0).iter().filter(|r| r.is_control()).count();
        assert_eq!(markers, 1);
    }
}

#[test]
fn advertise_fetch_is_opt_in() {
    let cluster = MockCluster::builder().advertise_fetch(true).build().unwrap();
    let mut c = client_to(&cluster, 1);
    let r = c.call(3, &hello());
    assert_eq!(r.range(ApiKey::FETCH), Some((4, 4)));
    assert_eq!(r.api_keys.len(), 10);
}
