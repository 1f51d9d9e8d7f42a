//! Every send gets exactly one outcome, whatever the broker does: regressions for the lost-outcome and
//! stuck-state defects a misbehaving broker exposed (issue 12), each checked through the shared
//! [`Ledger`] (exactly one outcome per accepted send, no loss, no duplicate, order where promised, buffer
//! memory returned). Every wait is bounded; a lost outcome fails the test instead of hanging it.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ledger::{Expect, Ledger};
use kprod::mock::{MockCluster, ResponseFault};
use kprod::{ApiKey, ErrorCode};
use kprod::{Error, Producer, ProducerConfig, Record};

/// The longest any scenario waits for its outcomes.
const OUTCOMES: Duration = Duration::from_secs(20);

fn config(cluster: &MockCluster, extra: &[(&str, &str)]) -> ProducerConfig {
    common::log_to_stderr_if_asked();
    let mut props = vec![("bootstrap.servers", cluster.bootstrap_servers()), ("linger.ms", "5".into())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    ProducerConfig::from_properties(props).unwrap()
}

fn metadata_requests(cluster: &MockCluster) -> usize {
    cluster.requests().iter().filter(|r| r.api_key == ApiKey::METADATA).count()
}

/// The whole Produce response arrives, then the broker closes: the response must still complete the
/// batch (it was lost with the failed read in 10 of 10 runs).
#[test]
fn a_full_response_then_close_completes_the_batch() {
    for _ in 0..10 {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let p = Producer::new(config(&cluster, &[("request.timeout.ms", "30000")])).unwrap();
        let ledger = Ledger::new();
        ledger.send_n(&p, "t", Some(0), 1);
        ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
        cluster.close_after_bytes(ApiKey::PRODUCE, None, 1 << 20);
        ledger.send_n(&p, "t", Some(0), 1);
        let report = ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
        assert_eq!(report.acked, 2);
    }
}

/// Connections dropped under five idempotent requests in flight: every record exactly once, in order.
#[test]
fn connections_dropped_under_five_in_flight_lose_no_outcome() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let p = Producer::new(config(
        &cluster,
        &[
            ("linger.ms", "0"),
            ("batch.size", "512"),
            ("max.in.flight.requests.per.connection", "5"),
            ("retry.backoff.ms", "5"),
        ],
    ))
    .unwrap();
    let ledger = Ledger::new();
    for i in 0..1000 {
        if i % 100 == 50 {
            cluster.drop_before_processing(ApiKey::PRODUCE, None, 1);
        }
        if i % 100 == 75 {
            cluster.close_after_bytes(ApiKey::PRODUCE, None, 1 << 20);
        }
        if i % 100 == 90 {
            cluster.drop_after_processing(ApiKey::PRODUCE, None, 1);
        }
        ledger.send(&p, "t", Some(i % 2), None).unwrap();
    }
    let report = ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    assert_eq!(report.acked, 1000);
    cluster.check_invariants().unwrap();
}

/// A Metadata response lost with its connection (whole, or cut mid-frame) must not leave the refresh
/// marked in flight: a new topic is still found (8 of 10 runs never refreshed again).
#[test]
fn a_lost_metadata_response_does_not_stop_refreshes() {
    for cut in [1 << 20, 30, 1 << 20, 7, 1 << 20] {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("a", 1, 1).unwrap();
        cluster.create_topic("b", 1, 1).unwrap();
        let p = Producer::new(config(&cluster, &[("max.block.ms", "5000")])).unwrap();
        let ledger = Ledger::new();
        ledger.send_n(&p, "a", None, 1);
        ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
        cluster.close_after_bytes(ApiKey::METADATA, None, cut);
        // "b" needs a refresh; the first one is lost with its connection.
        ledger.send(&p, "b", None, None).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    }
}

/// A lost InitProducerId response must not leave the idempotent producer initializing forever (nothing
/// was ever sent in 5 of 5 runs).
#[test]
fn a_lost_init_producer_id_response_is_asked_again() {
    for cut in [1 << 20, 9, 1 << 20] {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        cluster.close_after_bytes(ApiKey::INIT_PRODUCER_ID, None, cut);
        let p = Producer::new(config(&cluster, &[])).unwrap();
        let ledger = Ledger::new();
        ledger.send_n(&p, "t", None, 10);
        let report = ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
        assert_eq!(report.acked, 10, "cut {cut}");
        assert!(cluster.partition_records("t", 0).iter().all(|r| r.producer_id >= 0), "idempotent");
    }
}

/// A lost transactional response (FindCoordinator, InitProducerId, EndTxn) must not leave the one
/// transactional request in flight.
#[test]
fn lost_transactional_responses_are_sent_again() {
    for api in [ApiKey::FIND_COORDINATOR, ApiKey::INIT_PRODUCER_ID, ApiKey::END_TXN] {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        cluster.close_after_bytes(api, None, 1 << 20);
        let p = Producer::new(config(&cluster, &[("transactional.id", "tx-lost")])).unwrap();
        p.init_transactions(Duration::from_secs(10)).unwrap_or_else(|e| panic!("{api:?}: {e}"));
        p.begin_transaction().unwrap();
        let ledger = Ledger::new();
        ledger.send_n(&p, "t", None, 5);
        p.commit_transaction(Duration::from_secs(10)).unwrap_or_else(|e| panic!("{api:?}: {e}"));
        ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
        assert_eq!(cluster.read_committed("t", 0).len(), 5, "{api:?}: the transaction committed");
    }
}

/// A callback that falls behind keeps its batch's memory until it has run, so `send` blocks (then
/// refuses) instead of memory growing without bound (one blocked callback took RSS from 92 to 350 MiB
/// with `buffer.memory` = 32 MiB and no send refused).
#[test]
fn a_callback_backlog_counts_against_buffer_memory() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(
        &cluster,
        &[("buffer.memory", "262144"), ("batch.size", "16384"), ("linger.ms", "0"), ("max.block.ms", "300")],
    ))
    .unwrap();
    let (open, gate) = crossbeam_channel::bounded::<()>(0);
    let ran = Arc::new(AtomicUsize::new(0));
    let blocked = Arc::clone(&ran);
    p.send_with(Record::new("t").value(vec![0u8; 1000]), move |_| {
        let _ = gate.recv_timeout(Duration::from_secs(30));
        blocked.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    let ledger = Ledger::new();
    let mut refused = None;
    for i in 0..20_000 {
        let r = Record::new("t").value(vec![1u8; 1000]);
        let counted = Arc::clone(&ran);
        match p.send_with(r, move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        }) {
            Ok(_) => {}
            Err(e) => {
                refused = Some((i, e.error().clone()));
                break;
            }
        }
    }
    let (at, error) = refused.expect("a blocked callback must make send wait for memory, then refuse");
    assert!(matches!(error, Error::BufferExhausted { .. }), "{error}");
    // 256 KiB holds about 250 records of 1 KB; the batches done while the callback blocks hold theirs.
    assert!(at < 400, "refused only after {at} records of 1 KB into 256 KiB");
    drop(open);
    ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
    p.flush(OUTCOMES).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), at + 1, "every callback ran once");
    assert_eq!(p.buffer_available_bytes(), 262144, "the memory is back");
}

/// `Duration::MAX` means "as long as it takes", not a panic on `Instant` overflow.
#[test]
fn waits_accept_duration_max() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let f = p.send(Record::new("t").value(&b"v"[..])).unwrap();
    assert!(f.wait_timeout(Duration::MAX).unwrap().is_ok());
    p.flush(Duration::MAX).unwrap();
    p.close(Duration::MAX).unwrap();
    let tx = Producer::new(config(&cluster, &[("transactional.id", "tx-max")])).unwrap();
    tx.init_transactions(Duration::MAX).unwrap();
    tx.begin_transaction().unwrap();
    tx.send(Record::new("t").value(&b"w"[..])).unwrap();
    tx.commit_transaction(Duration::MAX).unwrap();
}

/// `flush`, `close` and the blocking transactional calls are refused at once inside a delivery
/// callback, as Java refuses `flush` there (it waited out its timeout on a real broker).
#[test]
fn blocking_calls_are_refused_inside_a_callback() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Arc::new(Producer::new(config(&cluster, &[])).unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    let inner = Arc::clone(&p);
    p.send_with(Record::new("t").value(&b"v"[..]), move |_| {
        let t = Instant::now();
        let flush = inner.flush(Duration::from_secs(30));
        let close = inner.close(Duration::from_secs(30));
        let _ = tx.send((flush, close, t.elapsed()));
    })
    .unwrap();
    let (flush, close, took) = rx.recv_timeout(OUTCOMES).expect("the callback ran");
    assert!(matches!(&flush, Err(Error::IllegalState(m)) if m.contains("flush")), "{flush:?}");
    assert!(matches!(&close, Err(Error::IllegalState(m)) if m.contains("close")), "{close:?}");
    assert!(took < Duration::from_secs(1), "refused at once, took {took:?}");
    // The producer is unharmed.
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", None, 10);
    p.flush(OUTCOMES).unwrap();
    ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);

    let t = Arc::new(Producer::new(config(&cluster, &[("transactional.id", "tx-cb")])).unwrap());
    t.init_transactions(Duration::from_secs(10)).unwrap();
    t.begin_transaction().unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let inner = Arc::clone(&t);
    t.send_with(Record::new("t").value(&b"w"[..]), move |_| {
        let commit = inner.commit_transaction(Duration::from_secs(30));
        let abort = inner.abort_transaction(Duration::from_secs(30));
        let init = inner.init_transactions(Duration::from_secs(30));
        let _ = tx.send([commit, abort, init]);
    })
    .unwrap();
    for r in rx.recv_timeout(OUTCOMES).expect("the callback ran") {
        assert!(matches!(&r, Err(Error::IllegalState(m)) if m.contains("callback")), "{r:?}");
    }
    t.commit_transaction(Duration::from_secs(10)).unwrap();
}

/// Dropping the last handle inside a callback closes the producer without waiting for itself; records
/// still pending fail with `Closed`, each once.
#[test]
fn dropping_the_producer_inside_its_callback_does_not_deadlock() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", None, 3);
    p.flush(OUTCOMES).unwrap();
    let (done, finished) = crossbeam_channel::bounded(1);
    let slot = Arc::new(parking_lot::Mutex::new(Some(p)));
    let holder = Arc::clone(&slot);
    let p_ref = slot.lock();
    let producer = p_ref.as_ref().unwrap();
    producer
        .send_with(Record::new("t").value(&b"last"[..]), move |_| {
            drop(holder.lock().take());
            let _ = done.send(());
        })
        .unwrap();
    drop(p_ref);
    finished.recv_timeout(OUTCOMES).expect("the producer was dropped inside its callback");
    assert!(slot.lock().is_none());
    ledger.check(None, Expect::exactly_once_in_order(), OUTCOMES);
}

/// Malformed records are refused at once, as Java's `ProducerRecord` does, without a request.
#[test]
fn malformed_records_and_topic_names_are_refused_at_once() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let e = p.send(Record::new("t").timestamp(-1)).unwrap_err();
    assert!(matches!(e.error(), Error::InvalidRecord(m) if m.contains("timestamp")), "{}", e.error());
    let e = p.send(Record::new("t").partition(-2)).unwrap_err();
    assert!(matches!(e.error(), Error::InvalidRecord(m) if m.contains("partition")), "{}", e.error());
    let before = metadata_requests(&cluster);
    let long = "x".repeat(250);
    for name in ["", ".", "..", "has space", "slash/no", long.as_str(), "ünïcode"] {
        let t = Instant::now();
        let e = p.send(Record::new(name).value(&b"v"[..])).unwrap_err();
        assert!(matches!(e.error(), Error::InvalidTopic { .. }), "{name:?}: {}", e.error());
        assert!(t.elapsed() < Duration::from_millis(100), "{name:?}: refused after {:?}", t.elapsed());
        assert_eq!(e.into_record().value.as_deref(), Some(&b"v"[..]), "the record comes back");
    }
    assert!(matches!(p.partitions_for("bad name"), Err(Error::InvalidTopic { .. })));
    assert_eq!(metadata_requests(&cluster), before, "no metadata round trip for an illegal name");
    // Legal names at the limits still work.
    let ok = "a.b_c-D9".to_string() + &"y".repeat(241);
    assert_eq!(ok.len(), 249);
    cluster.create_topic(&ok, 1, 1).unwrap();
    p.send(Record::new(ok.as_str()).value(&b"v"[..])).unwrap().wait_timeout(OUTCOMES).unwrap().unwrap();
}

/// An unresolvable bootstrap list fails `Producer::new` at once (Java does); an unreachable one makes
/// the metadata wait say why, per address.
#[test]
fn unreachable_bootstraps_say_why() {
    let props = |servers: &str| {
        ProducerConfig::from_properties([("bootstrap.servers", servers), ("max.block.ms", "1500")]).unwrap()
    };
    let t = Instant::now();
    let e = Producer::new(props("nosuchhost.invalid:9092")).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(&e, Error::Config { key, message } if key == "bootstrap.servers"
        && message.contains("nosuchhost.invalid:9092")),
        "{e}"
    );

    let p = Producer::new(props("nosuchhost.invalid:9092,127.0.0.1:1")).unwrap();
    let e = p.send(Record::new("t").value(&b"v"[..])).unwrap_err();
    let msg = e.error().to_string();
    assert!(matches!(e.error(), Error::UnknownTopicOrPartition { .. }), "{msg}");
    assert!(msg.contains("127.0.0.1:1") && msg.to_lowercase().contains("refused"), "{msg}");
    assert!(msg.contains("nosuchhost.invalid:9092") && msg.contains("resolve"), "{msg}");
    assert!(msg.contains("1.5s"), "says how long it waited: {msg}");
}

/// A topic the brokers do not have (auto-creation off) says UNKNOWN_TOPIC_OR_PARTITION.
#[test]
fn a_missing_topic_says_unknown_topic_or_partition() {
    let cluster = MockCluster::builder().auto_create_topics(false).build().unwrap();
    let p = Producer::new(config(&cluster, &[("max.block.ms", "1000")])).unwrap();
    let e = p.send(Record::new("absent").value(&b"v"[..])).unwrap_err();
    let msg = e.error().to_string();
    assert!(msg.contains("UNKNOWN_TOPIC_OR_PARTITION"), "{msg}");
    assert!(matches!(p.partitions_for("absent"), Err(Error::UnknownTopicOrPartition { cause: Some(c), .. })
        if c.contains("UNKNOWN_TOPIC_OR_PARTITION")));
    cluster.create_topic("one", 1, 1).unwrap();
    let e = p.send(Record::new("one").partition(3).value(&b"v"[..])).unwrap_err();
    assert!(e.error().to_string().contains("has 1 partitions"), "{}", e.error());
}

/// Refusals name the setting they broke and say whether they waited.
#[test]
fn refusals_name_the_setting_and_the_wait() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("buffer.memory", "65536"), ("batch.size", "16384")])).unwrap();
    let e = p.send(Record::new("t").value(vec![0u8; 2 * 1024 * 1024])).unwrap_err();
    assert!(e.error().to_string().contains("max.request.size"), "{}", e.error());
    let p2 = Producer::new(config(&cluster, &[("buffer.memory", "65536"), ("max.request.size", "1000000")]))
        .unwrap();
    let e = p2.send(Record::new("t").value(vec![0u8; 100_000])).unwrap_err();
    assert!(e.error().to_string().contains("buffer.memory"), "{}", e.error());
    let e = p.try_send(Record::new("not-yet-known").value(&b"v"[..])).unwrap_err();
    assert!(e.error().to_string().contains("try_send does not wait"), "{}", e.error());
    assert!(!e.error().to_string().contains("max.block.ms"), "{}", e.error());
    // Fill the pool with a broker that does not answer, then try_send.
    p.send(Record::new("t").value(&b"warm"[..])).unwrap().wait_timeout(OUTCOMES).unwrap().unwrap();
    cluster.set_broker_delay(1, Duration::from_secs(3)).unwrap();
    let mut refused = None;
    for _ in 0..100 {
        if let Err(e) = p.try_send(Record::new("t").value(vec![0u8; 4000])) {
            refused = Some(e.error().to_string());
            break;
        }
    }
    let msg = refused.expect("the pool fills");
    assert!(msg.contains("does not wait") && !msg.contains("max.block.ms"), "{msg}");
    cluster.set_broker_delay(1, Duration::ZERO).unwrap();
}

/// A transactional send before `init_transactions` says to call it.
#[test]
fn a_transactional_send_before_init_says_what_to_call() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("transactional.id", "tx-early")])).unwrap();
    let e = p.send(Record::new("t")).unwrap_err();
    assert!(e.error().to_string().contains("call init_transactions"), "{}", e.error());
    p.init_transactions(Duration::from_secs(10)).unwrap();
    let e = p.send(Record::new("t")).unwrap_err();
    assert!(e.error().to_string().contains("call begin_transaction"), "{}", e.error());
}

/// INVALID_PRODUCER_EPOCH on a transactional Produce makes the transaction abortable, as in Kafka
/// 4.4.0's Java client (KIP-588), not the producer fatal: abort, then the next transaction commits.
#[test]
fn invalid_producer_epoch_on_produce_aborts_the_transaction_only() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("transactional.id", "tx-epoch")])).unwrap();
    p.init_transactions(Duration::from_secs(10)).unwrap();
    p.begin_transaction().unwrap();
    let ledger = Ledger::new();
    cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::INVALID_PRODUCER_EPOCH]);
    ledger.send_n(&p, "t", Some(0), 3);
    let e = p.commit_transaction(Duration::from_secs(10)).unwrap_err();
    assert_eq!(e.broker_code(), Some(ErrorCode::INVALID_PRODUCER_EPOCH), "{e}");
    assert!(!e.is_fatal() && e.txn_requires_abort(), "{e}");
    p.abort_transaction(Duration::from_secs(10)).unwrap();
    let report = ledger.check(Some(&p), Expect::one_outcome(), OUTCOMES);
    assert_eq!(report.acked, 0, "the failed transaction's records all failed");
    p.begin_transaction().unwrap();
    let committed = Ledger::new();
    committed.send_n(&p, "t", Some(0), 3);
    p.commit_transaction(Duration::from_secs(10)).unwrap();
    committed.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    let visible: Vec<_> = cluster.read_committed("t", 0).into_iter().filter_map(|r| r.value).collect();
    assert_eq!(visible.len(), 3, "only the second transaction is visible");
    assert!(visible.iter().all(|v| committed.id_of(v).is_some()));
}

/// Every way a broker can mangle an answer, on every request the producer makes before and while it
/// produces: whatever the broker does, every record gets exactly one outcome, and with idempotence
/// every record is stored once, in order. Before the fixes, a wrong, duplicate or unsolicited
/// correlation id lost the request it met (no outcome, or a producer stuck initializing).
#[test]
fn mangled_responses_lose_no_outcome() {
    let faults = [
        ResponseFault::Corrupt,
        ResponseFault::WrongCorrelationId,
        ResponseFault::Duplicate,
        ResponseFault::Unsolicited,
        ResponseFault::RespondThenClose,
        ResponseFault::StallAfter(10),
        ResponseFault::OversizedPrefix(i32::MAX),
        ResponseFault::OversizedPrefix(-5),
        // Under the 64 MiB frame limit: the client must not reserve it before the bytes come.
        ResponseFault::OversizedPrefix(60 << 20),
    ];
    let apis = [ApiKey::API_VERSIONS, ApiKey::METADATA, ApiKey::INIT_PRODUCER_ID, ApiKey::PRODUCE];
    for api in apis {
        for fault in faults {
            let cluster = MockCluster::new(1).unwrap();
            cluster.create_topic("t", 2, 1).unwrap();
            cluster.inject_response_fault(api, None, fault, 2);
            let p = Producer::new(config(
                &cluster,
                &[("request.timeout.ms", "700"), ("retry.backoff.ms", "10"), ("reconnect.backoff.ms", "10")],
            ))
            .unwrap();
            let ledger = Ledger::new();
            for i in 0..20 {
                ledger.send(&p, "t", Some(i % 2), None).unwrap_or_else(|e| panic!("{api:?} {fault:?}: {e}"));
            }
            let report = ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
            assert_eq!(report.acked, 20, "{api:?} {fault:?}");
            cluster.check_invariants().unwrap();
        }
    }
}

/// The same for the transactional requests: the transaction commits whole, once.
#[test]
fn mangled_transactional_responses_lose_no_outcome() {
    let faults = [
        ResponseFault::Corrupt,
        ResponseFault::WrongCorrelationId,
        ResponseFault::Duplicate,
        ResponseFault::RespondThenClose,
        ResponseFault::StallAfter(10),
        ResponseFault::OversizedPrefix(i32::MAX),
    ];
    for api in [ApiKey::FIND_COORDINATOR, ApiKey::INIT_PRODUCER_ID, ApiKey::END_TXN] {
        for fault in faults {
            let cluster = MockCluster::new(1).unwrap();
            cluster.create_topic("t", 1, 1).unwrap();
            cluster.inject_response_fault(api, None, fault, 1);
            let p = Producer::new(config(
                &cluster,
                &[
                    ("transactional.id", "tx-mangled"),
                    ("request.timeout.ms", "700"),
                    ("retry.backoff.ms", "10"),
                ],
            ))
            .unwrap();
            p.init_transactions(Duration::from_secs(10)).unwrap_or_else(|e| panic!("{api:?} {fault:?}: {e}"));
            p.begin_transaction().unwrap();
            let ledger = Ledger::new();
            ledger.send_n(&p, "t", Some(0), 5);
            p.commit_transaction(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("{api:?} {fault:?}: {e}"));
            ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
            let committed = cluster.read_committed("t", 0);
            assert_eq!(committed.len(), 5, "{api:?} {fault:?}: the transaction committed once");
        }
    }
}

/// A partition left out of a Produce response is a lost answer for that partition: retried, and with
/// idempotence stored once.
#[test]
fn a_partition_missing_from_the_response_is_retried_once() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("linger.ms", "20"), ("retry.backoff.ms", "10")])).unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", Some(0), 1);
    ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
    cluster.inject_response_fault(ApiKey::PRODUCE, Some(("t", 1)), ResponseFault::OmitPartition, 3);
    for i in 0..40 {
        ledger.send(&p, "t", Some(i % 2), None).unwrap();
    }
    ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
}

/// A Produce answer slower than `request.timeout.ms` is a lost answer: the request is sent again on a
/// new connection, and the broker's duplicate check keeps one copy.
#[test]
fn answers_slower_than_the_request_timeout_are_retried_without_duplicates() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("request.timeout.ms", "500"), ("retry.backoff.ms", "10")]))
        .unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", Some(0), 1);
    ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::from_millis(800));
    ledger.send_n(&p, "t", Some(0), 5);
    std::thread::sleep(Duration::from_millis(1200));
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::ZERO);
    let report = ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    assert_eq!(report.acked, 6);
}

/// Metadata that lists a partition index of five million (or gaps, or repeats) is refused: the producer
/// keeps the view it had, so keyed records still go to the real partitions (they hashed onto a million
/// leaderless partitions and all timed out).
#[test]
fn inconsistent_metadata_keeps_the_previous_view() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 3, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("metadata.max.age.ms", "100")])).unwrap();
    let ledger = Ledger::new();
    ledger.send(&p, "t", None, Some(b"k0")).unwrap();
    ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
    for indexes in [vec![5_000_000], vec![0, 2], vec![0, 0, 1, 2]] {
        cluster.set_metadata_partitions("t", Some(indexes.clone()));
        let before = metadata_requests(&cluster);
        let deadline = Instant::now() + OUTCOMES;
        while metadata_requests(&cluster) < before + 2 {
            assert!(Instant::now() < deadline, "no metadata refresh");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(p.partitions_for("t").unwrap().len(), 3, "{indexes:?}");
        for k in 0..30u32 {
            ledger.send(&p, "t", None, Some(&k.to_be_bytes())).unwrap();
        }
        ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    }
    cluster.set_metadata_partitions("t", None);
}

/// A leader advertised at a host that does not resolve: the records wait, fail once at
/// `delivery.timeout.ms`, and the metadata wait of a new topic names the host; once the address is
/// right again records flow.
#[test]
fn an_unresolvable_advertised_host_fails_records_once_and_says_so() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.set_advertised_host(1, Some("nosuchhost.invalid")).unwrap();
    let p = Producer::new(config(
        &cluster,
        // A short reconnect ceiling: once the address is right again, the leader is tried within
        // 200 ms, well inside the records' 2 s delivery timeout (the default 1 s ceiling plus jitter
        // left too little of it on a loaded machine).
        &[
            ("delivery.timeout.ms", "2000"),
            ("request.timeout.ms", "1000"),
            ("max.block.ms", "3000"),
            ("reconnect.backoff.max.ms", "200"),
        ],
    ))
    .unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", Some(0), 5);
    let report = ledger.check(Some(&p), Expect::one_outcome(), OUTCOMES);
    assert_eq!(report.failed.len(), 5);
    assert!(report.failed.iter().all(|(_, e)| matches!(e, Error::DeliveryTimeout)), "{:?}", report.failed);
    cluster.set_advertised_host(1, None).unwrap();
    let ok = Ledger::new();
    ok.send_n(&p, "t", Some(0), 5);
    ok.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
}

/// The faults the mock always had and no test used: a shrunken ISR (NOT_ENOUGH_REPLICAS, retried
/// until it recovers), a broker down then up again, and the transaction coordinator moving in the
/// middle of a transaction.
#[test]
fn isr_shrink_broker_restart_and_coordinator_move_lose_nothing() {
    let cluster = MockCluster::builder().brokers(3).min_insync_replicas(2).build().unwrap();
    cluster.create_topic("t", 3, 3).unwrap();
    let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "20"), ("request.timeout.ms", "1000")]))
        .unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", Some(0), 10);
    ledger.check(Some(&p), Expect::exactly_once_in_order(), OUTCOMES);
    let leader = cluster.leader("t", 0).unwrap();
    cluster.set_isr("t", 0, &[leader]).unwrap();
    ledger.send_n(&p, "t", Some(0), 10);
    std::thread::sleep(Duration::from_millis(300));
    let replicas: Vec<i32> = cluster.broker_ids();
    cluster.set_isr("t", 0, &replicas).unwrap();
    ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);

    let down = cluster.leader("t", 1).unwrap();
    for i in 0..30 {
        if i == 10 {
            cluster.broker_down(down).unwrap();
        }
        if i == 20 {
            cluster.broker_up(down).unwrap();
        }
        ledger.send(&p, "t", Some(i % 3), None).unwrap();
    }
    ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), OUTCOMES);

    let t = Producer::new(config(
        &cluster,
        &[("transactional.id", "tx-move"), ("client.id", "tx-move-client"), ("retry.backoff.ms", "20")],
    ))
    .unwrap();
    t.init_transactions(Duration::from_secs(10)).unwrap();
    t.begin_transaction().unwrap();
    let txn = Ledger::new();
    txn.send_n(&t, "t", Some(2), 5);
    // The coordinator is the broker that answered the transactional InitProducerId.
    let coordinator = cluster
        .requests()
        .iter()
        .rev()
        .find(|r| r.api_key == ApiKey::INIT_PRODUCER_ID && r.client_id.as_deref() == Some("tx-move-client"))
        .map(|r| r.broker)
        .unwrap();
    cluster.broker_down(coordinator).unwrap();
    txn.send_n(&t, "t", Some(2), 5);
    t.commit_transaction(Duration::from_secs(15)).unwrap();
    cluster.broker_up(coordinator).unwrap();
    txn.check_stored(&t, &cluster, Expect::exactly_once_in_order(), OUTCOMES);
    let committed: Vec<_> = cluster
        .read_committed("t", 2)
        .into_iter()
        .filter_map(|r| r.value)
        .filter(|v| txn.id_of(v).is_some())
        .collect();
    assert_eq!(committed.len(), 10);
}
