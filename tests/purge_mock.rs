//! `Producer::purge` and `Producer::in_flight_count` against the mock cluster: a purge gives exactly
//! the purged records one outcome each, `Error::Purged`, without waiting for a broker; the idempotent
//! producer goes on afterwards with no duplicate and in order; a purge in a transaction dooms it.
//! Every wait is bounded and fails the test when it expires.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use kprod::ApiKey;
use kprod::{Error, Producer, ProducerConfig, Record, RecordMetadata};
use parking_lot::Mutex;

/// The longest any wait in these tests lasts.
const WAIT: Duration = Duration::from_secs(20);

fn config(cluster: &MockCluster, extra: &[(&str, &str)]) -> ProducerConfig {
    common::log_to_stderr_if_asked();
    let mut props = vec![("bootstrap.servers", cluster.bootstrap_servers())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    ProducerConfig::from_properties(props).unwrap()
}

/// Every callback's outcome, by record id.
type Outcomes = Arc<Mutex<BTreeMap<u64, Vec<Result<RecordMetadata, Error>>>>>;

/// Sends records `ids` to `t`-0 with values `v-<id>`, each with a callback that records its outcome.
fn send(p: &Producer, outcomes: &Outcomes, ids: std::ops::Range<u64>) {
    for id in ids {
        let o = Arc::clone(outcomes);
        let r = Record::new("t").partition(0).value(format!("v-{id}").into_bytes());
        p.send_with(r, move |outcome| o.lock().entry(id).or_default().push(outcome))
            .unwrap_or_else(|e| panic!("send {id} refused: {}", e.error()));
    }
}

/// Waits until every record of `ids` has an outcome; panics when `WAIT` runs out.
fn await_outcomes(outcomes: &Outcomes, ids: std::ops::Range<u64>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let missing = ids.clone().filter(|id| !outcomes.lock().contains_key(id)).count();
        if missing == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{missing} records still have no outcome after {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `f` holds; panics with `what` when `WAIT` runs out.
fn await_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Checks that every record of `ids` had exactly one outcome and that it was `Error::Purged`.
fn assert_purged_once(outcomes: &Outcomes, ids: std::ops::Range<u64>) {
    let o = outcomes.lock();
    for id in ids {
        let got = o.get(&id).unwrap_or_else(|| panic!("record {id}: no outcome"));
        assert_eq!(got.len(), 1, "record {id}: {} outcomes", got.len());
        assert!(matches!(got[0], Err(Error::Purged)), "record {id}: {:?}", got[0]);
    }
}

/// Checks that every record of `ids` had exactly one outcome, a success.
fn assert_acked_once(outcomes: &Outcomes, ids: std::ops::Range<u64>) {
    let o = outcomes.lock();
    for id in ids {
        let got = o.get(&id).unwrap_or_else(|| panic!("record {id}: no outcome"));
        assert_eq!(got.len(), 1, "record {id}: {} outcomes", got.len());
        assert!(got[0].is_ok(), "record {id}: {:?}", got[0]);
    }
}

/// The ids of the data records in `t`-0, in offset order.
fn logged_ids(cluster: &MockCluster) -> Vec<u64> {
    cluster
        .partition_records("t", 0)
        .iter()
        .filter(|r| r.control.is_none())
        .filter_map(|r| r.value.as_deref())
        .map(|v| std::str::from_utf8(v).unwrap().strip_prefix("v-").unwrap().parse().unwrap())
        .collect()
}

#[test]
fn purging_the_queue_fails_exactly_the_queued_records_once() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    // A long linger keeps every record queued until the purge.
    let p =
        Producer::new(config(&cluster, &[("linger.ms", "30000"), ("enable.idempotence", "true")])).unwrap();
    let outcomes = Outcomes::default();
    send(&p, &outcomes, 0..50);
    assert_eq!(p.in_flight_count(), 50, "queued records count");
    p.purge(true, false).unwrap();
    await_outcomes(&outcomes, 0..50);
    assert_purged_once(&outcomes, 0..50);
    await_until("in_flight_count back to 0 once the callbacks ran", || p.in_flight_count() == 0);
    assert!(logged_ids(&cluster).is_empty(), "a purged queued record reached the broker");

    // The producer goes on: later records are delivered once each, in order.
    send(&p, &outcomes, 50..60);
    assert_eq!(p.in_flight_count(), 10);
    p.flush(WAIT).unwrap();
    assert_eq!(p.in_flight_count(), 0, "0 after a flush");
    assert_acked_once(&outcomes, 50..60);
    assert_eq!(logged_ids(&cluster), (50..60).collect::<Vec<_>>());
    // Nothing is left holding memory or waiting: close is quick.
    p.close(WAIT).unwrap();
    assert_eq!(outcomes.lock().values().map(Vec::len).sum::<usize>(), 60, "one outcome per record");
}

#[test]
fn purging_in_flight_on_a_stalled_broker_fails_every_record_promptly_then_goes_on_in_order() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(
        &cluster,
        &[
            ("linger.ms", "0"),
            ("batch.size", "200"),
            ("enable.idempotence", "true"),
            ("request.timeout.ms", "30000"),
        ],
    ))
    .unwrap();
    let outcomes = Outcomes::default();
    // A first record sets up the producer id and the connection.
    send(&p, &outcomes, 0..1);
    p.flush(WAIT).unwrap();
    assert_acked_once(&outcomes, 0..1);
    let epoch_before = cluster.partition_records("t", 0)[0].producer_epoch;
    let pid_before = cluster.partition_records("t", 0)[0].producer_id;

    // The broker answers Produce only after 25 s (longer than the test waits).
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::from_secs(25));
    send(&p, &outcomes, 1..21);
    assert_eq!(p.in_flight_count(), 20);
    await_until("Produce requests reach the broker", || {
        cluster.requests().iter().filter(|r| r.api_key == ApiKey::PRODUCE).count() >= 2
    });
    let started = Instant::now();
    p.purge(false, true).unwrap();
    let took = started.elapsed();
    // What was in flight has its outcome when purge returns; what was still queued (one request at a
    // time until the first batch under this epoch is acknowledged) is purged by a second call.
    p.purge(true, true).unwrap();
    await_outcomes(&outcomes, 1..21);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "purge took {:?} (in flight: {took:?})",
        started.elapsed()
    );
    assert_purged_once(&outcomes, 1..21);
    await_until("in_flight_count back to 0", || p.in_flight_count() == 0);

    // The broker recovers; the producer sends on under a new epoch (or producer id).
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::ZERO);
    send(&p, &outcomes, 21..41);
    p.flush(WAIT).unwrap();
    assert_acked_once(&outcomes, 21..41);
    assert_eq!(p.in_flight_count(), 0);
    let log = logged_ids(&cluster);
    let unique: HashSet<u64> = log.iter().copied().collect();
    assert_eq!(unique.len(), log.len(), "a record was written twice: {log:?}");
    // The broker wrote what it was sent before the purge (it only answered late): those records were
    // in flight when purged, and each got `Purged` although it is in the log.
    assert!(log.iter().any(|id| (1..21).contains(id)), "nothing was in flight at the purge: {log:?}");
    let after: Vec<u64> = log.iter().copied().filter(|&id| id >= 21).collect();
    assert_eq!(after, (21..41).collect::<Vec<_>>(), "later records once each, in order");
    let last = cluster.partition_records("t", 0).last().cloned().unwrap();
    assert!(
        (last.producer_id, last.producer_epoch) != (pid_before, epoch_before),
        "the producer went on under the epoch it purged in flight"
    );
    p.close(WAIT).unwrap();
}

#[test]
fn purging_inside_a_transaction_makes_it_abortable() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("linger.ms", "30000"), ("transactional.id", "purge-txn")]))
        .unwrap();
    p.init_transactions(WAIT).unwrap();
    p.begin_transaction().unwrap();
    let outcomes = Outcomes::default();
    send(&p, &outcomes, 0..10);
    p.purge(true, true).unwrap();
    await_outcomes(&outcomes, 0..10);
    assert_purged_once(&outcomes, 0..10);
    let e = p.commit_transaction(WAIT).expect_err("a transaction with purged records cannot commit");
    assert!(e.txn_requires_abort(), "{e:?}");
    p.abort_transaction(WAIT).unwrap();
    // The next transaction commits.
    p.begin_transaction().unwrap();
    send(&p, &outcomes, 10..15);
    p.commit_transaction(WAIT).unwrap();
    assert_acked_once(&outcomes, 10..15);
    assert_eq!(p.in_flight_count(), 0);
    let committed: Vec<u64> = cluster
        .read_committed("t", 0)
        .iter()
        .filter_map(|r| r.value.as_deref())
        .map(|v| std::str::from_utf8(v).unwrap().strip_prefix("v-").unwrap().parse().unwrap())
        .collect();
    assert_eq!(committed, (10..15).collect::<Vec<_>>());
    p.close(WAIT).unwrap();
}

#[test]
fn purge_works_from_a_callback_and_on_a_closed_producer() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Arc::new(Producer::new(config(&cluster, &[("linger.ms", "30000")])).unwrap());
    let outcomes = Outcomes::default();
    send(&p, &outcomes, 0..5);
    // A first purge's callback purges again (what was sent in between): no deadlock.
    let (tx, rx) = std::sync::mpsc::channel();
    let inner = Arc::downgrade(&p);
    let o = Arc::clone(&outcomes);
    p.send_with(Record::new("t").partition(0).value(b"v-5".to_vec()), move |outcome| {
        o.lock().entry(5).or_default().push(outcome);
        if let Some(p) = inner.upgrade() {
            let _ = tx.send(p.purge(true, true));
        }
    })
    .unwrap();
    p.purge(true, false).unwrap();
    let in_callback = rx.recv_timeout(WAIT).expect("the callback ran purge");
    assert!(in_callback.is_ok(), "{in_callback:?}");
    await_outcomes(&outcomes, 0..6);
    assert_purged_once(&outcomes, 0..6);
    p.purge(false, false).unwrap();
    p.close(WAIT).unwrap();
    p.purge(true, true).unwrap();
    assert_eq!(p.in_flight_count(), 0);
}
