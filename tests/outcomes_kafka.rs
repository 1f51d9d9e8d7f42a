//! What a new user hit (issue 12), on real Apache Kafka: blocking calls inside a delivery callback are
//! refused at once, malformed records and topic names are refused before any request, a missing topic
//! on a broker without auto-creation says UNKNOWN_TOPIC_OR_PARTITION, and a fenced transactional
//! producer that keeps producing sees what Kafka 4.4.0's Java client sees (INVALID_PRODUCER_EPOCH on the
//! record makes the transaction abortable; the abort then reports the fencing). Every record is checked
//! through the shared ledger: exactly one outcome each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ledger::{Expect, Ledger};
use common::*;
use kprod::ErrorCode;
use kprod::{Error, Producer, ProducerConfig, Record};

const T: Duration = Duration::from_secs(30);

fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> Producer {
    let mut props = vec![("bootstrap.servers", bootstrap.to_owned())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Producer::new(ProducerConfig::from_properties(props).unwrap()).unwrap()
}

#[test]
fn blocking_calls_inside_a_callback_are_refused_at_once() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP");
    let name = cluster_name("KPROD_KAFKA_NAME_1");
    let topic = unique_topic("in-callback");
    create_topic(&name, &topic, 1, 1);
    let p = Arc::new(producer(&bootstrap, &[]));
    let (tx, rx) = crossbeam_channel::bounded(1);
    let inner = Arc::clone(&p);
    p.send_with(Record::new(topic.as_str()).value(&b"first"[..]), move |r| {
        let t = Instant::now();
        let flush = inner.flush(T);
        let close = inner.close(T);
        let _ = tx.send((r.is_ok(), flush, close, t.elapsed()));
    })
    .unwrap();
    let (acked, flush, close, took) = rx.recv_timeout(T).expect("the callback ran");
    assert!(acked);
    assert!(matches!(&flush, Err(Error::IllegalState(m)) if m.contains("callback")), "{flush:?}");
    assert!(matches!(&close, Err(Error::IllegalState(m)) if m.contains("callback")), "{close:?}");
    assert!(took < Duration::from_secs(1), "refused at once, not after the timeout: {took:?}");
    let ledger = Ledger::new();
    ledger.send_n(&p, &topic, None, 100);
    p.flush(T).unwrap();
    ledger.check(Some(&p), Expect::exactly_once_in_order(), T);
    let read = consume(&name, &topic, 101, 30_000, &[]);
    assert_eq!(read.len(), 101, "Kafka's console consumer reads every record");
}

#[test]
fn malformed_records_and_names_are_refused_before_any_request() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP");
    let p = producer(&bootstrap, &[]);
    for (record, what) in [
        (Record::new("ok-name").timestamp(-5), "timestamp"),
        (Record::new("ok-name").partition(-1), "partition"),
    ] {
        let e = p.send(record).unwrap_err();
        assert!(matches!(e.error(), Error::InvalidRecord(m) if m.contains(what)), "{}", e.error());
    }
    for name in ["", "..", "white space", "x".repeat(250).as_str()] {
        let t = Instant::now();
        let e = p.send(Record::new(name).value(&b"v"[..])).unwrap_err();
        assert!(matches!(e.error(), Error::InvalidTopic { .. }), "{name:?}: {}", e.error());
        assert!(t.elapsed() < Duration::from_millis(100), "{name:?}: no metadata round trip");
    }
    // What Kafka itself refuses with INVALID_TOPIC_EXCEPTION is refused the same way here: the broker
    // agrees with the client's rules.
    let name = cluster_name("KPROD_KAFKA_NAME_1");
    let out = std::process::Command::new(repo_root().join("scripts/kafka"))
        .args(["topics", "--name", &name, "--create", "--topic", "white space"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "Kafka refuses the name too");
}

/// The Kafka 3.9 cluster of `scripts/test` runs with `auto.create.topics.enable=false`.
#[test]
fn a_missing_topic_without_auto_creation_says_unknown_topic_or_partition() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_39");
    let p = producer(&bootstrap, &[("max.block.ms", "3000")]);
    let topic = unique_topic("never-created");
    let e = p.send(Record::new(topic.as_str()).value(&b"v"[..])).unwrap_err();
    let msg = e.error().to_string();
    assert!(matches!(e.error(), Error::UnknownTopicOrPartition { .. }), "{msg}");
    assert!(msg.contains("UNKNOWN_TOPIC_OR_PARTITION"), "{msg}");
    assert!(msg.contains("3s"), "{msg}");
}

#[test]
fn a_fenced_producer_that_keeps_producing_aborts_then_learns_it_is_fenced() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP");
    let name = cluster_name("KPROD_KAFKA_NAME_1");
    let topic = unique_topic("zombie");
    create_topic(&name, &topic, 1, 1);
    let tid = unique_topic("tid-zombie");
    let txn = |_: ()| {
        let p =
            producer(&bootstrap, &[("transactional.id", tid.as_str()), ("transaction.timeout.ms", "30000")]);
        p.init_transactions(T).unwrap();
        p
    };
    let old = txn(());
    old.begin_transaction().unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&old, &topic, Some(0), 5);
    old.flush(T).unwrap();
    let newer = txn(());
    // The zombie goes on producing with its old epoch.
    ledger.send_n(&old, &topic, Some(0), 5);
    let report = ledger.check(Some(&old), Expect::one_outcome(), T);
    let codes: Vec<Option<ErrorCode>> = report.failed.iter().map(|(_, e)| e.broker_code()).collect();
    assert!(!codes.is_empty(), "the zombie's late records fail");
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Some(ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::PRODUCER_FENCED))),
        "{:?}",
        report.failed
    );
    let commit = old.commit_transaction(T).unwrap_err();
    if commit.broker_code() == Some(ErrorCode::INVALID_PRODUCER_EPOCH) {
        // Kafka 4.4.0's Java client: abortable (KIP-588); the abort then finds the fencing.
        assert!(!commit.is_fatal(), "{commit}");
        let abort = old.abort_transaction(T).unwrap_err();
        assert!(abort.is_fatal(), "{abort}");
    } else {
        assert!(commit.is_fatal(), "{commit}");
    }
    assert!(old.send(Record::new(topic.as_str()).value(&b"more"[..])).is_err(), "fenced for good");
    newer.begin_transaction().unwrap();
    let committed = Ledger::new();
    committed.send_n(&newer, &topic, Some(0), 3);
    newer.commit_transaction(T).unwrap();
    committed.check(Some(&newer), Expect::exactly_once_in_order(), T);
    let read = consume(&name, &topic, 3, 30_000, &["--isolation-level", "read_committed"]);
    let ids: Vec<_> = read.iter().filter_map(|r| committed.id_of(r.value.as_bytes())).collect();
    assert_eq!(ids, vec![0, 1, 2], "read_committed sees only the newer producer's transaction");
}
