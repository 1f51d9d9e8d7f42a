//! Rebootstrap (KIP-899) against a real Kafka: the producer bootstraps through a forwarding address (a
//! load balancer's, say) and learns the brokers' own addresses from metadata. Then every broker is
//! restarted on a new port (`scripts/kafka move`: same data, same node ids), and only the bootstrap
//! address — now forwarding to the new port — still reaches the cluster. With
//! `metadata.recovery.strategy=rebootstrap` (the default) the producer starts again from
//! `bootstrap.servers` and delivers everything, once and in order (acks=all, idempotence), read back by
//! Kafka's console consumer; with `none`, a record sent after the move finds no broker and times out.
//!
//! Needs its own 1-broker cluster, which the test moves: `KAFKA_BOOTSTRAP_MOVE` and
//! `KPROD_KAFKA_NAME_MOVE` (scripts/test starts it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use common::forward::Forwarder;
use common::ledger::{Expect, Ledger};
use kprod::{Error, Producer, ProducerConfig, Record};

fn producer(bootstrap: &str, strategy: &str, delivery_timeout_ms: &str) -> Producer {
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap),
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "5"),
        ("metadata.recovery.strategy", strategy),
        // kprod re-bootstraps after this long without metadata (Java also when no known broker can be
        // tried; kprod has that trigger off for now, see src/sender/mod.rs).
        ("metadata.recovery.rebootstrap.trigger.ms", "5000"),
        ("delivery.timeout.ms", delivery_timeout_ms),
        ("request.timeout.ms", "5000"),
    ])
    .unwrap();
    Producer::builder(config).build().unwrap()
}

#[test]
fn the_producer_rebootstraps_when_every_known_broker_moved_and_loses_nothing() {
    common::log_to_stderr_if_asked();
    let broker = common::bootstrap("KAFKA_BOOTSTRAP_MOVE");
    let cluster = common::cluster_name("KPROD_KAFKA_NAME_MOVE");
    let topic = common::unique_topic("rebootstrap");
    common::create_topic(&cluster, &topic, 1, 1);
    let lb = Forwarder::start(broker.split(',').next().unwrap());

    let p = producer(&lb.address, "rebootstrap", "120000");
    let stuck = producer(&lb.address, "none", "15000");
    let ledger = Ledger::new();
    ledger.send_n(&p, &topic, Some(0), 500);
    ledger.check(Some(&p), Expect::exactly_once_in_order(), Duration::from_secs(60));
    // The "none" producer knows the broker's own address too.
    stuck
        .send(Record::new(&*topic).value(b"before".as_slice()))
        .unwrap()
        .wait_timeout(Duration::from_secs(30))
        .expect("an outcome")
        .expect("delivered before the move");
    let accepted_before = lb.accepted.load(Ordering::SeqCst);

    // Records keep coming while the brokers move; the bootstrap address follows them.
    let moved = thread::scope(|s| {
        let (l2, t2, p) = (ledger.clone(), topic.clone(), &p);
        let h = s.spawn(move || {
            for _ in 0..20 {
                l2.send_n(p, &t2, Some(0), 50);
                thread::sleep(Duration::from_millis(100));
            }
        });
        let out = common::kafka_stdout(&["move", "--name", &cluster]);
        let moved = out.lines().find_map(|l| l.strip_prefix("KAFKA_BOOTSTRAP=")).expect("new bootstrap");
        assert_ne!(moved, broker, "the broker has a new address");
        *lb.target.lock() = moved.split(',').next().unwrap().to_string();
        h.join().unwrap();
        moved.to_string()
    });
    let old = broker.split(',').next().unwrap().parse().unwrap();
    assert!(
        TcpStream::connect_timeout(&old, Duration::from_secs(2)).is_err(),
        "the old address {broker} must be dead for this test to mean anything (now {moved})"
    );
    ledger.send_n(&p, &topic, Some(0), 500);
    let report = ledger.check(Some(&p), Expect::exactly_once_in_order(), Duration::from_secs(150));
    assert_eq!(report.acked, 2000);
    assert!(
        lb.accepted.load(Ordering::SeqCst) > accepted_before,
        "the producer came back through bootstrap.servers"
    );

    // `none`: the producer keeps to the dead address; its record times out.
    let started = Instant::now();
    let r = stuck
        .send(Record::new(&*topic).value(b"after".as_slice()))
        .unwrap()
        .wait_timeout(Duration::from_secs(60));
    match r {
        Some(Err(Error::DeliveryTimeout)) => {}
        other => panic!(
            "metadata.recovery.strategy=none should time out, got {other:?} after {:?}",
            started.elapsed()
        ),
    }

    // Kafka's console consumer reads every record once: 2000 from the ledger, 1 from `stuck`.
    let got = common::consume(&cluster, &topic, 2001, 60_000, &[]);
    assert_eq!(got.len(), 2001, "records read back");
    let mut values: Vec<&str> = got.iter().map(|c| c.value.as_str()).collect();
    values.sort_unstable();
    values.dedup();
    assert_eq!(values.len(), 2001, "no duplicates");
    drop(p);
}
