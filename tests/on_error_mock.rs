//! The `on_error` hook (librdkafka's `error_cb`): unreachable brokers, a broker going down, all
//! brokers down; each reported once per state change, off the I/O thread, while the producer keeps
//! retrying.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use kprod::{Error, Producer, ProducerConfig, Record};

type Seen = Arc<Mutex<Vec<(String, Error)>>>;

fn producer(bootstrap: &str, seen: &Seen) -> Producer {
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap),
        ("reconnect.backoff.ms", "20"),
        ("reconnect.backoff.max.ms", "100"),
        ("max.block.ms", "500"),
    ])
    .unwrap();
    let seen = Arc::clone(seen);
    Producer::builder(config)
        .on_error(move |e| {
            let thread = std::thread::current().name().unwrap_or("?").to_owned();
            seen.lock().unwrap().push((thread, e.clone()));
        })
        .build()
        .unwrap()
}

fn wait_for(seen: &Seen, what: &str, pred: impl Fn(&Error) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().iter().any(|(_, e)| pred(e)) {
        assert!(Instant::now() < deadline, "no {what} reported: {:?}", seen.lock().unwrap());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn count(seen: &Seen, pred: impl Fn(&Error) -> bool) -> usize {
    seen.lock().unwrap().iter().filter(|(_, e)| pred(e)).count()
}

fn transport(e: &Error) -> bool {
    matches!(e, Error::Transport { .. })
}

fn all_down(e: &Error) -> bool {
    matches!(e, Error::AllBrokersDown { .. })
}

#[test]
fn an_unreachable_broker_is_reported_once_not_per_attempt() {
    // A port nobody listens on: every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let p = producer(&format!("127.0.0.1:{port}"), &seen);
    let e = p.send(Record::new("t").value(&b"x"[..])).map(|_| ()).unwrap_err();
    assert!(e.error().is_retriable(), "{e:?}");
    wait_for(&seen, "Transport", transport);
    wait_for(&seen, "AllBrokersDown", all_down);
    // With a 100 ms reconnect ceiling there were many attempts in 1.5 s, and one report of each.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count(&seen, transport), 1, "{:?}", seen.lock().unwrap());
    assert_eq!(count(&seen, all_down), 1);
    let lock = seen.lock().unwrap();
    let (thread, e) = &lock[0];
    assert_eq!(thread, "kprod-callbacks", "the hook never runs on the I/O thread");
    assert!(e.to_string().contains(&port.to_string()), "{e}");
}

#[test]
fn a_broker_going_down_and_up_is_reported_at_each_change() {
    let cluster = MockCluster::new(1).unwrap();
    let seen: Seen = Arc::default();
    let p = producer(&cluster.bootstrap_servers(), &seen);
    p.send(Record::new("t").value(&b"up"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(count(&seen, |_| true), 0, "nothing to report while all is well");
    let node = cluster.broker_ids()[0];
    for round in 1..=2 {
        cluster.broker_down(node).unwrap();
        wait_for(&seen, "AllBrokersDown", all_down);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(count(&seen, all_down), round, "round {round}: {:?}", seen.lock().unwrap());
        cluster.broker_up(node).unwrap();
        // Back up: records go through, and the next outage is a new state change.
        p.send(Record::new("t").value(&b"again"[..]))
            .unwrap()
            .wait_timeout(Duration::from_secs(20))
            .expect("an outcome")
            .unwrap();
    }
    assert!(count(&seen, transport) >= 2, "{:?}", seen.lock().unwrap());
}

#[test]
fn a_fatal_error_is_reported() {
    let cluster = MockCluster::new(1).unwrap();
    // The idempotent producer's InitProducerId refused for good.
    cluster.push_errors(
        kprod::ApiKey::INIT_PRODUCER_ID,
        None,
        &[kprod::ErrorCode::CLUSTER_AUTHORIZATION_FAILED],
    );
    let seen: Seen = Arc::default();
    let p = producer(&cluster.bootstrap_servers(), &seen);
    // The send fails, at once if the producer is fatal already, else through its outcome.
    if let Ok(f) = p.send(Record::new("t").value(&b"x"[..])) {
        assert!(f.wait_timeout(Duration::from_secs(10)).expect("an outcome").is_err());
    }
    wait_for(&seen, "a fatal error", Error::is_fatal);
    assert_eq!(count(&seen, Error::is_fatal), 1);
}

#[test]
fn a_throttled_produce_is_reported_to_on_throttle() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.set_throttle(kprod::ApiKey::PRODUCE, 300);
    type Throttles = Arc<Mutex<Vec<(String, String, i32, Duration)>>>;
    let seen: Throttles = Arc::default();
    let config =
        ProducerConfig::from_properties([("bootstrap.servers", cluster.bootstrap_servers().as_str())])
            .unwrap();
    let s = Arc::clone(&seen);
    let p = Producer::builder(config)
        .on_throttle(move |broker, node, time| {
            let thread = std::thread::current().name().unwrap_or("?").to_owned();
            s.lock().unwrap().push((thread, broker.to_owned(), node, time));
        })
        .build()
        .unwrap();
    p.send(Record::new("t").value(&b"x"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no throttle reported");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (thread, broker, node, time) = seen.lock().unwrap()[0].clone();
    assert_eq!(thread, "kprod-callbacks");
    assert_eq!(node, cluster.broker_ids()[0]);
    assert!(cluster.bootstrap_servers().contains(&broker), "{broker} in {}", cluster.bootstrap_servers());
    assert_eq!(time, Duration::from_millis(300));
}
