//! Conformance, wider: about 40 observable answers compared between real Kafka and the mock cluster —
//! duplicate batches, batch validation (CRC, truncation, junk, magic 1, two batches, acks=2, unknown
//! partition), topic auto-creation, transactions v1 (AddPartitionsToTxn, TxnOffsetCommit with and
//! without AddOffsetsToTxn, fencing by a new instance, zombie writes, EndTxn retries) and transactions v2
//! (implicit partition registration, EndTxn v5 epoch bumps), and version fallbacks.
#![cfg(all(feature = "mock", feature = "unstable"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client::*;

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use kprod::mock::MockCluster;
use kprod::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kprod::protocol::messages::init_producer_id::InitProducerIdRequest;
use kprod::protocol::primitives::Uuid;
use kprod::protocol::{encode_request, ApiKey, ErrorCode};

use kprod::protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kprod::protocol::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic};
use kprod::protocol::messages::end_txn::EndTxnRequest;
use kprod::protocol::messages::find_coordinator::FindCoordinatorRequest;
use kprod::protocol::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};

fn leader_client(bootstrap: &str, topic: &str) -> Client {
    let mut c = Client::connect(bootstrap.split(',').next().unwrap());
    for _ in 0..50 {
        let m = metadata(&mut c, 12, Some(&[topic]));
        let t = &m.topics[0];
        if t.error_code == ErrorCode::NONE && t.partitions[0].leader_id >= 0 {
            let l = t.partitions[0].leader_id;
            let b = m.brokers.iter().find(|b| b.node_id == l).unwrap();
            return Client::connect(&format!("{}:{}", b.host, b.port));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no leader");
}

fn coord(bootstrap: &str, key: &str, ty: i8) -> Client {
    let mut c = Client::connect(bootstrap.split(',').next().unwrap());
    for _ in 0..100 {
        let r = c.call(3, &FindCoordinatorRequest { key: key.into(), key_type: ty, ..Default::default() });
        if r.error_code == ErrorCode::NONE {
            return Client::connect(&format!("{}:{}", r.host, r.port));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("no coordinator");
}

fn init_retry(
    c: &mut Client,
    v: i16,
    req: &InitProducerIdRequest,
) -> kprod::protocol::messages::init_producer_id::InitProducerIdResponse {
    for _ in 0..100 {
        let r = c.call(v, req);
        if r.error_code == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS {
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        return r;
    }
    panic!()
}

fn addp(c: &mut Client, v: i16, id: &str, pid: i64, ep: i16, parts: &[(&str, i32)]) -> Vec<ErrorCode> {
    let topics = parts
        .iter()
        .map(|(t, p)| AddPartitionsToTxnTopic { name: (*t).into(), partitions: vec![*p] })
        .collect();
    let r = c.call(
        v,
        &AddPartitionsToTxnRequest {
            v3_and_below_transactional_id: id.into(),
            v3_and_below_producer_id: pid,
            v3_and_below_producer_epoch: ep,
            v3_and_below_topics: topics,
            ..Default::default()
        },
    );
    let mut out: Vec<(String, i32, ErrorCode)> = r
        .results_by_topic_v3_and_below
        .iter()
        .flat_map(|t| {
            t.results_by_partition
                .iter()
                .map(move |p| (t.name.clone(), p.partition_index, p.partition_error_code))
        })
        .collect();
    out.sort();
    out.into_iter().map(|x| x.2).collect()
}

fn endt(c: &mut Client, v: i16, id: &str, pid: i64, ep: i16, commit: bool) -> ErrorCode {
    c.call(
        v,
        &EndTxnRequest {
            transactional_id: id.into(),
            producer_id: pid,
            producer_epoch: ep,
            committed: commit,
        },
    )
    .error_code
}

fn scenario(bootstrap: &str, topic: &str, suffix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut l = leader_client(bootstrap, topic);
    // A: duplicate response
    let mut any = Client::connect(bootstrap.split(',').next().unwrap());
    let r = init_retry(
        &mut any,
        4,
        &InitProducerIdRequest { transaction_timeout_ms: 1000, ..Default::default() },
    );
    let p = Producer { id: r.producer_id, epoch: r.producer_epoch };
    let b = batch(p, 0, false, &["a", "b"]);
    let r1 = produce(&mut l, topic, 0, b.clone());
    let r2 = produce(&mut l, topic, 0, b);
    out.push(format!(
        "dup: {:?} same_offset={} lat1={} lat2={}",
        r2.error_code,
        r1.base_offset == r2.base_offset,
        r1.log_append_time_ms,
        r2.log_append_time_ms
    ));
    // C: validation
    let mut bad = batch(NONE, 0, false, &["a"]).to_vec();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    out.push(format!("crc: {:?}", produce(&mut l, topic, 0, Bytes::from(bad)).error_code));
    let two = [batch(NONE, 0, false, &["a"]), batch(NONE, 0, false, &["b"])].concat();
    out.push(format!("two: {:?}", produce(&mut l, topic, 0, Bytes::from(two)).error_code));
    out.push(format!(
        "junk: {:?}",
        produce(&mut l, topic, 0, Bytes::from_static(b"junkjunkjunkjunkjunk")).error_code
    ));
    let bb = batch(NONE, 0, false, &["a"]);
    out.push(format!("trunc: {:?}", produce(&mut l, topic, 0, bb.slice(..bb.len() - 1)).error_code));
    let r = l.call(9, &produce_req(topic, 0, 2, batch(NONE, 0, false, &["a"])));
    out.push(format!("acks2: {:?}", first(&r).error_code));
    out.push(format!(
        "unknown partition: {:?}",
        produce(&mut l, topic, 9, batch(NONE, 0, false, &["a"])).error_code
    ));
    // B: auto create
    let mut m = Client::connect(bootstrap.split(',').next().unwrap());
    let name = format!("auto-{suffix}");
    let r = metadata(&mut m, 12, Some(&[&name]));
    out.push(format!(
        "autocreate: {:?} id_zero={}",
        r.topics[0].error_code,
        r.topics[0].topic_id == Uuid::ZERO
    ));
    // D: transactions
    let id = format!("tx-{suffix}");
    let mut tc = coord(bootstrap, &id, 1);
    let r = init_retry(
        &mut tc,
        4,
        &InitProducerIdRequest {
            transactional_id: Some(id.clone()),
            transaction_timeout_ms: 60000,
            ..Default::default()
        },
    );
    out.push(format!("init: {:?} epoch={}", r.error_code, r.producer_epoch));
    let p = Producer { id: r.producer_id, epoch: r.producer_epoch };
    let mut req = produce_req(topic, 0, -1, batch(p, 0, true, &["t"]));
    req.transactional_id = Some(id.clone());
    out.push(format!("txn produce without add: {:?}", first(&l.call(9, &req)).error_code));
    out.push(format!("add unknown: {:?}", addp(&mut tc, 3, &id, p.id, p.epoch, &[(topic, 0), (topic, 9)])));
    out.push(format!("add: {:?}", addp(&mut tc, 3, &id, p.id, p.epoch, &[(topic, 0)])));
    out.push(format!("add again: {:?}", addp(&mut tc, 3, &id, p.id, p.epoch, &[(topic, 0)])));
    out.push(format!("txn produce: {:?}", first(&l.call(9, &req)).error_code));
    let mut nontx = produce_req(topic, 0, -1, batch(p, 1, false, &["t"]));
    nontx.transactional_id = Some(id.clone());
    out.push(format!("non-txn batch in txn: {:?}", first(&l.call(9, &nontx)).error_code));
    // TxnOffsetCommit v4 without AddOffsets
    let group = format!("g-{suffix}");
    let mut gc = coord(bootstrap, &group, 0);
    let toc = |v: i16, g: &mut Client, ep: i16| {
        let r = g.call(
            v,
            &TxnOffsetCommitRequest {
                transactional_id: id.clone(),
                group_id: group.clone(),
                producer_id: p.id,
                producer_epoch: ep,
                topics: vec![TxnOffsetCommitRequestTopic {
                    name: topic.into(),
                    partitions: vec![TxnOffsetCommitRequestPartition {
                        partition_index: 0,
                        committed_offset: 1,
                        ..Default::default()
                    }],
                }],
                ..Default::default()
            },
        );
        r.topics[0].partitions[0].error_code
    };
    out.push(format!("txnoffsetcommit v4 without addoffsets: {:?}", toc(4, &mut gc, p.epoch)));
    out.push(format!("txnoffsetcommit v3 without addoffsets: {:?}", toc(3, &mut gc, p.epoch)));
    let r = tc.call(
        3,
        &AddOffsetsToTxnRequest {
            transactional_id: id.clone(),
            producer_id: p.id,
            producer_epoch: p.epoch,
            group_id: group.clone(),
        },
    );
    out.push(format!("addoffsets: {:?}", r.error_code));
    out.push(format!("txnoffsetcommit v4: {:?}", toc(4, &mut gc, p.epoch)));
    out.push(format!("txnoffsetcommit v4 stale epoch: {:?}", toc(4, &mut gc, p.epoch - 1)));
    // Fence with a new instance
    let r = tc.call(
        4,
        &InitProducerIdRequest {
            transactional_id: Some(id.clone()),
            transaction_timeout_ms: 60000,
            ..Default::default()
        },
    );
    out.push(format!("init while ongoing: {:?}", r.error_code));
    let mut r2 = r.clone();
    for _ in 0..50 {
        r2 = tc.call(
            4,
            &InitProducerIdRequest {
                transactional_id: Some(id.clone()),
                transaction_timeout_ms: 60000,
                ..Default::default()
            },
        );
        if r2.error_code != ErrorCode::CONCURRENT_TRANSACTIONS {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    out.push(format!(
        "init retry: {:?} epoch_delta={} same_pid={}",
        r2.error_code,
        r2.producer_epoch - p.epoch,
        r2.producer_id == p.id
    ));
    let np = Producer { id: r2.producer_id, epoch: r2.producer_epoch };
    out.push(format!("old add v3: {:?}", addp(&mut tc, 3, &id, p.id, p.epoch, &[(topic, 0)])));
    out.push(format!("old add v1: {:?}", addp(&mut tc, 1, &id, p.id, p.epoch, &[(topic, 0)])));
    out.push(format!("old end v3: {:?}", endt(&mut tc, 3, &id, p.id, p.epoch, true)));
    out.push(format!("old end v1: {:?}", endt(&mut tc, 1, &id, p.id, p.epoch, true)));
    let mut z = produce_req(topic, 0, -1, batch(p, 1, true, &["z"]));
    z.transactional_id = Some(id.clone());
    out.push(format!("zombie produce: {:?}", first(&l.call(9, &z)).error_code));
    out.push(format!("end on empty: {:?}", endt(&mut tc, 3, &id, np.id, np.epoch, true)));
    out.push(format!("end wrong pid: {:?}", endt(&mut tc, 3, &id, 987654, np.epoch, true)));
    out.push(format!("add new: {:?}", addp(&mut tc, 3, &id, np.id, np.epoch, &[(topic, 0)])));
    let mut g = produce_req(topic, 0, -1, batch(np, 0, true, &["good"]));
    g.transactional_id = Some(id.clone());
    out.push(format!("good produce: {:?}", first(&l.call(9, &g)).error_code));
    out.push(format!("end commit: {:?}", endt(&mut tc, 3, &id, np.id, np.epoch, true)));
    std::thread::sleep(Duration::from_millis(300));
    out.push(format!("end commit retry: {:?}", endt(&mut tc, 3, &id, np.id, np.epoch, true)));
    out.push(format!("end abort after commit: {:?}", endt(&mut tc, 3, &id, np.id, np.epoch, false)));
    // v3 InitProducerId retry semantics
    let req = |pid, ep| InitProducerIdRequest {
        transactional_id: Some(id.clone()),
        transaction_timeout_ms: 60000,
        producer_id: pid,
        producer_epoch: ep,
        ..Default::default()
    };
    let a = tc.call(4, &req(np.id, np.epoch));
    out.push(format!("bump with current: {:?} delta={}", a.error_code, a.producer_epoch - np.epoch));
    let a2 = tc.call(4, &req(np.id, np.epoch));
    out.push(format!("bump retry: {:?} delta={}", a2.error_code, a2.producer_epoch - np.epoch));
    let a3 = tc.call(4, &req(np.id, np.epoch - 1));
    out.push(format!("bump stale: {:?}", a3.error_code));
    let a4 = tc.call(3, &req(np.id, np.epoch - 1));
    out.push(format!("bump stale v3: {:?}", a4.error_code));
    // transactions v2 style (KIP-890): Produce v12 and EndTxn v5, which Kafka 4.0 brought; a broker
    // without them (3.x) skips this part, and so does the mock, capped to that broker's versions.
    if offers_transactions_v2(bootstrap) {
        // transactions v2 style
        let id2 = format!("tx2-{suffix}");
        let mut tc2 = coord(bootstrap, &id2, 1);
        let r = init_retry(
            &mut tc2,
            4,
            &InitProducerIdRequest {
                transactional_id: Some(id2.clone()),
                transaction_timeout_ms: 60000,
                ..Default::default()
            },
        );
        let q = Producer { id: r.producer_id, epoch: r.producer_epoch };
        let mut req = produce_req(topic, 0, -1, batch(q, 0, true, &["v2"]));
        req.transactional_id = Some(id2.clone());
        out.push(format!("v12 txn produce without add: {:?}", first(&l.call(12, &req)).error_code));
        let end_v5 = |c: &mut Client, producer_epoch: i16, committed: bool| {
            let req =
                EndTxnRequest { transactional_id: id2.clone(), producer_id: q.id, producer_epoch, committed };
            c.call(5, &req)
        };
        let e = end_v5(&mut tc2, q.epoch, true);
        out.push(format!(
            "endtxn v5: {:?} delta={} samepid={}",
            e.error_code,
            e.producer_epoch - q.epoch,
            e.producer_id == q.id
        ));
        std::thread::sleep(Duration::from_millis(300));
        let e = end_v5(&mut tc2, q.epoch, true);
        out.push(format!("endtxn v5 retry: {:?} delta={}", e.error_code, e.producer_epoch - q.epoch));
        let e = end_v5(&mut tc2, q.epoch + 1, false);
        out.push(format!("endtxn v5 abort empty: {:?} delta={}", e.error_code, e.producer_epoch - q.epoch));
        std::thread::sleep(Duration::from_millis(500));
        let e = end_v5(&mut tc2, q.epoch + 2, true);
        out.push(format!("endtxn v5 commit empty: {:?} delta={}", e.error_code, e.producer_epoch - q.epoch));
    } else {
        out.push("transactions v2: not offered".into());
    }
    let mut bad = batch(NONE, 0, false, &["a"]).to_vec();
    bad[16] = 1;
    out.push(format!("magic1: {:?}", produce(&mut l, topic, 0, Bytes::from(bad)).error_code));
    let mut v = Client::connect(bootstrap.split(',').next().unwrap());
    let mut raw = Vec::new();
    encode_request(&mut raw, 4, 77, Some("x"), &hello()).unwrap();
    raw[6..8].copy_from_slice(&9i16.to_be_bytes());
    v.stream.write_all(&raw).unwrap();
    let buf = v.read_frame().unwrap();
    let r = ApiVersionsResponse::decode_with_fallback(&buf[4..], 4).unwrap();
    out.push(format!("apiversions v9: {:?} range={:?}", r.error_code, r.range(ApiKey::API_VERSIONS)));
    // KIP-511: v3+ names the client; a name Kafka's pattern refuses is an invalid request.
    for (name, version) in [("", "1.0"), ("-bad", "1.0"), ("ok", "1.0 beta"), ("a.b-c", "1")] {
        let hello = ApiVersionsRequest {
            client_software_name: name.into(),
            client_software_version: version.into(),
            ..Default::default()
        };
        let r = Client::connect(bootstrap.split(',').next().unwrap()).call(3, &hello);
        out.push(format!(
            "apiversions v3 {name:?} {version:?}: {:?} apis={}",
            r.error_code,
            if r.api_keys.is_empty() { "none" } else { "some" }
        ));
    }
    // non-coordinator
    // E: acks 0 error closes
    let mut z = Client::connect(bootstrap.split(',').next().unwrap());
    z.send(9, &produce_req("does-not-exist-xyz", 0, 0, batch(NONE, 0, false, &["a"])));
    out.push(format!("acks0 unknown topic closes: {}", z.is_closed()));
    out
}

/// The version ranges the broker at `bootstrap` advertises (ApiVersions v3).
fn api_ranges(bootstrap: &str) -> Vec<(ApiKey, (i16, i16))> {
    let mut c = Client::connect(bootstrap.split(',').next().unwrap());
    let r = c.call(3, &hello());
    assert_eq!(r.error_code, ErrorCode::NONE, "ApiVersions v3 from {bootstrap}");
    assert!(!r.api_keys.is_empty(), "{bootstrap} advertises no API");
    r.api_keys.iter().map(|a| (ApiKey(a.api_key), (a.min_version, a.max_version))).collect()
}

fn offers_transactions_v2(bootstrap: &str) -> bool {
    let ranges = api_ranges(bootstrap);
    let max = |k: ApiKey| ranges.iter().find(|(a, _)| *a == k).map_or(-1, |(_, (_, hi))| *hi);
    max(ApiKey::PRODUCE) >= 12 && max(ApiKey::END_TXN) >= 5
}

#[test]
fn mock_matches_real_kafka_on_validation_and_transactions() {
    let bs = common::bootstrap("KAFKA_BOOTSTRAP");
    let cluster = common::cluster_name("KPROD_KAFKA_NAME_1");
    let suffix = common::unique_topic("c");
    let topic = format!("conf-{suffix}");
    common::create_topic(&cluster, &topic, 1, 1);
    let real = scenario(&bs, &topic, &suffix);
    // Kafka 4.x must take the transactions v2 path: this comparison may not quietly lose it.
    let version =
        std::env::var("KPROD_KAFKA_VERSION").unwrap_or_else(|_| panic!("KPROD_KAFKA_VERSION is not set"));
    let v2 = !real.iter().any(|s| s == "transactions v2: not offered");
    assert_eq!(v2, !version.starts_with("3."), "Kafka {version}: transactions v2 offered = {v2}");
    // The mock imitates the default broker (4.4.0); against another, it is capped to that one's versions.
    let mock = MockCluster::new(1).unwrap();
    for (api, (lo, hi)) in api_ranges(&bs) {
        mock.set_api_version(api, lo, hi);
    }
    mock.create_topic(&topic, 1, 1).unwrap();
    let sim = scenario(&mock.bootstrap_servers(), &topic, &suffix);
    // Where an older broker answers otherwise than the 4.4.0 the mock imitates: (real, mock), each
    // asserted to occur, so the list cannot go stale.
    let known: &[(&str, &str)] = if version.starts_with("3.") {
        // 3.x wraps the stale-epoch error of a TxnOffsetCommit v4 as an unknown server error.
        &[(
            "txnoffsetcommit v4 stale epoch: UNKNOWN_SERVER_ERROR",
            "txnoffsetcommit v4 stale epoch: INVALID_PRODUCER_EPOCH",
        )]
    } else {
        &[]
    };
    let mut diffs = 0;
    let mut seen = 0;
    for (a, b) in real.iter().zip(&sim) {
        let expected = known.contains(&(a.as_str(), b.as_str()));
        println!(
            "{} {a}\n  mock: {b}",
            if a == b {
                "SAME"
            } else if expected {
                "KNOWN"
            } else {
                "DIFF"
            }
        );
        diffs += usize::from(a != b && !expected);
        seen += usize::from(expected);
    }
    assert_eq!(real.len(), sim.len());
    assert_eq!(diffs, 0, "the mock must answer every step as Kafka does");
    assert_eq!(seen, known.len(), "every known difference of Kafka {version} occurs");
}
