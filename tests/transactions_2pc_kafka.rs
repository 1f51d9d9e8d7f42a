//! Two-phase commit (KIP-939) against real Apache Kafka: what the broker accepts of InitProducerId v6,
//! spoken byte for byte with kprod's codec over a plain connection, read back by Kafka's console
//! consumer. kprod refuses `transaction.two.phase.commit.enable`; these tests pin down why, so that a
//! Kafka release that completes KIP-939 makes them fail and prompts the feature (docs/protocol.md,
//! "Two-phase commit").
//!
//! The cluster (`KAFKA_BOOTSTRAP_2PC`, scripts/kafka name `KPROD_KAFKA_NAME_2PC`) is one Kafka 4.4.0
//! broker (4.3.1 behaves the same) started with `transaction.two.phase.commit.enable=true` (the broker side of 2PC) and
//! `unstable.api.versions.enable=true` (InitProducerId v6 is `latestVersionUnstable` in 4.4.0, so the
//! broker advertises only v0–5 without it). One broker, so it is every transaction coordinator.
//!
//! Kafka 4.4.0's coordinator accepts Enable2Pc (a transaction with no timeout) but answers
//! UNSUPPORTED_VERSION to every InitProducerId with KeepPreparedTxn, whatever Enable2Pc says: a
//! restarted producer cannot take over its prepared transaction, so it cannot be completed by
//! anyone but the producer instance that prepared it, and a new instance aborts it. That is the whole of
//! two-phase commit's recovery, hence no `prepare_transaction`/`complete_transaction` in kprod yet.
#![cfg(feature = "unstable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::client::{batch, produce_req, Client, Producer as Pid};
use common::*;
use kprod::protocol::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic};
use kprod::protocol::messages::end_txn::EndTxnRequest;
use kprod::protocol::messages::find_coordinator::FindCoordinatorRequest;
use kprod::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kprod::protocol::messages::ApiVersionsRequest;
use kprod::protocol::{ApiKey, ErrorCode};

const T: Duration = Duration::from_secs(60);

fn connect() -> (Client, String) {
    let bs = bootstrap("KAFKA_BOOTSTRAP_2PC");
    let first = bs.split(',').next().unwrap().to_string();
    (Client::connect(&first), cluster_name("KPROD_KAFKA_NAME_2PC"))
}

/// Asks for `tid`'s transaction coordinator until there is one (the first lookup on a new cluster
/// creates `__transaction_state`), for at most `T`; it must be the one broker `c` talks to.
fn find_coordinator(c: &mut Client, tid: &str) {
    let deadline = Instant::now() + T;
    loop {
        let r = c.call(4, &FindCoordinatorRequest::single(1, tid));
        let found = r.coordinator(4, tid).expect("an answer for the transactional id");
        if found.error_code == ErrorCode::NONE {
            let addr = c.stream.peer_addr().unwrap();
            assert_eq!(found.port, i32::from(addr.port()), "the coordinator is the broker connected to");
            return;
        }
        assert!(Instant::now() < deadline, "FindCoordinator for {tid}: {:?}", found.error_code);
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends `req` at `version` until the answer is not a transient coordinator error (loading, moving,
/// or still completing a previous transaction), for at most `T`.
fn init(c: &mut Client, version: i16, req: &InitProducerIdRequest) -> InitProducerIdResponse {
    let transient = [
        ErrorCode::COORDINATOR_NOT_AVAILABLE,
        ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode::NOT_COORDINATOR,
        ErrorCode::CONCURRENT_TRANSACTIONS,
    ];
    let deadline = Instant::now() + T;
    loop {
        let r = c.call(version, req);
        if !transient.contains(&r.error_code) || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn init_req(tid: &str, enable_2pc: bool, keep_prepared_txn: bool) -> InitProducerIdRequest {
    InitProducerIdRequest {
        transactional_id: Some(tid.into()),
        transaction_timeout_ms: 60_000,
        enable_2pc,
        keep_prepared_txn,
        ..Default::default()
    }
}

/// AddPartitionsToTxn v3 (the client form) for partition 0 of `topic`, then a transactional Produce
/// v9 of `value`: an open transaction with one record.
fn write_in_txn(c: &mut Client, tid: &str, p: Pid, topic: &str, seq: i32, value: &str) {
    let add = AddPartitionsToTxnRequest {
        v3_and_below_transactional_id: tid.into(),
        v3_and_below_producer_id: p.id,
        v3_and_below_producer_epoch: p.epoch,
        v3_and_below_topics: vec![AddPartitionsToTxnTopic { name: topic.into(), partitions: vec![0] }],
        ..Default::default()
    };
    let deadline = Instant::now() + T;
    loop {
        let r = c.call(3, &add);
        let code = r.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code;
        if code == ErrorCode::NONE {
            break;
        }
        assert!(
            code == ErrorCode::CONCURRENT_TRANSACTIONS && Instant::now() < deadline,
            "AddPartitionsToTxn: {code:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut req = produce_req(topic, 0, -1, batch(p, seq, true, &[value]));
    req.transactional_id = Some(tid.into());
    let r = c.call(9, &req);
    let part = &r.responses[0].partition_responses[0];
    assert_eq!(part.error_code, ErrorCode::NONE, "transactional Produce of {value}");
}

#[test]
fn broker_advertises_init_producer_id_v6() {
    let (mut c, _) = connect();
    let req = ApiVersionsRequest {
        client_software_name: "kprod".into(),
        client_software_version: "0".into(),
        ..Default::default()
    };
    let r = c.call(3, &req);
    let (_, max) = r.range(ApiKey::INIT_PRODUCER_ID).expect("broker lists InitProducerId");
    assert!(
        max >= 6,
        "InitProducerId up to v{max}: start the broker with unstable.api.versions.enable=true (v6 is unstable in 4.4.0)"
    );
}

/// Enable2Pc alone works: a producer id for a transaction that never times out, and an ordinary
/// transaction with it. The prepared transaction of a restarted producer cannot be kept: InitProducerId
/// with KeepPreparedTxn is UNSUPPORTED_VERSION (with or without Enable2Pc), and the restarted producer's
/// plain InitProducerId aborts what the first one prepared.
#[test]
fn keep_prepared_txn_is_refused_and_the_prepared_transaction_aborts() {
    let (mut c, cluster) = connect();
    let topic = unique_topic("tpc");
    create_topic(&cluster, &topic, 1, 1);
    let tid = unique_topic("tpc-tid");
    find_coordinator(&mut c, &tid);

    // The first producer instance: 2PC on, one record, then "prepare" (nothing on the wire: the
    // producer stops sending and hands its producer id and epoch to the external coordinator).
    let r = init(&mut c, 6, &init_req(&tid, true, false));
    assert_eq!(r.error_code, ErrorCode::NONE, "InitProducerId v6 Enable2Pc");
    assert_eq!((r.ongoing_txn_producer_id, r.ongoing_txn_producer_epoch), (-1, -1), "nothing ongoing");
    let prepared = Pid { id: r.producer_id, epoch: r.producer_epoch };
    write_in_txn(&mut c, &tid, prepared, &topic, 0, "prepared");

    // The producer restarts and asks to keep the prepared transaction: refused, and the refusal does
    // not touch the transaction.
    for enable_2pc in [true, false] {
        let r = c.call(6, &init_req(&tid, enable_2pc, true));
        assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION, "KeepPreparedTxn (Enable2Pc {enable_2pc})");
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    }

    // Its only way on is a plain InitProducerId, which aborts the prepared transaction (a bumped epoch,
    // nothing ongoing reported) ...
    let r = init(&mut c, 6, &init_req(&tid, true, false));
    assert_eq!(r.error_code, ErrorCode::NONE, "InitProducerId v6 after the refusal");
    assert_eq!(r.producer_id, prepared.id, "same producer id");
    assert!(r.producer_epoch > prepared.epoch, "epoch bumped past the prepared transaction's");
    assert_eq!((r.ongoing_txn_producer_id, r.ongoing_txn_producer_epoch), (-1, -1));
    let next = Pid { id: r.producer_id, epoch: r.producer_epoch };

    // ... and a transaction of the new epoch commits: read_committed sees it and never the prepared one.
    write_in_txn(&mut c, &tid, next, &topic, 0, "after-restart");
    let end = EndTxnRequest {
        transactional_id: tid.clone(),
        producer_id: next.id,
        producer_epoch: next.epoch,
        committed: true,
    };
    let r = c.call(3, &end);
    assert_eq!(r.error_code, ErrorCode::NONE, "EndTxn commit");
    let got = consume(&cluster, &topic, 1, 20_000, &["--isolation-level", "read_committed"]);
    let values: Vec<&str> = got.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(values, ["after-restart"], "read_committed");
    let all = consume(&cluster, &topic, 4, 10_000, &["--isolation-level", "read_uncommitted"]);
    let values: Vec<&str> = all.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(values, ["prepared", "after-restart"], "read_uncommitted (control records are not printed)");
}
