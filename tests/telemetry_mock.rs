//! KIP-714 client telemetry against the mock cluster: the producer subscribes once, pushes every push
//! interval to one broker, carries the subscription's metrics (Kafka's telemetry names, cumulative or
//! delta sums) compressed as the broker prefers, sends exactly one terminating push on close, and
//! reacts to the broker's errors (UNKNOWN_SUBSCRIPTION_ID fetches the subscription again,
//! INVALID_RECORD stops telemetry). Without the broker's APIs, or with `enable.metrics.push=false`,
//! nothing telemetry-related is sent.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::otlp::{metrics_data, MetricsData};
use kprod::mock::{MockCluster, TelemetryPush, TelemetrySubscription};
use kprod::{ApiKey, CompressionType, ErrorCode, Producer, ProducerConfig, Record};

const N: usize = 100;
const SEND_TOTAL: &str = "org.apache.kafka.producer.record.send.total";

fn cluster(brokers: usize, sub: TelemetrySubscription) -> MockCluster {
    MockCluster::builder().brokers(brokers).telemetry(sub).build().unwrap()
}

fn producer(cluster: &MockCluster, extra: &[(&str, &str)]) -> Producer {
    let bootstrap = cluster.bootstrap_servers();
    let mut props = vec![("bootstrap.servers", bootstrap.as_str()), ("linger.ms", "1")];
    props.extend_from_slice(extra);
    Producer::new(ProducerConfig::from_properties(props).unwrap()).unwrap()
}

fn send_n(p: &Producer, topic: &str, n: usize) {
    let futures: Vec<_> =
        (0..n).map(|i| p.send(Record::new(topic).value(format!("v{i}").into_bytes())).unwrap()).collect();
    p.flush(Duration::from_secs(10)).unwrap();
    for f in futures {
        f.wait_timeout(Duration::from_secs(60)).expect("an outcome within 60 s").unwrap();
    }
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn requests(cluster: &MockCluster, api: ApiKey) -> usize {
    cluster.requests().iter().filter(|r| r.api_key == api).count()
}

fn decoded(p: &TelemetryPush) -> MetricsData {
    metrics_data(&p.metrics)
}

/// The one point of `name` in a push (no attributes), with its start, time and value.
fn point(d: &MetricsData, name: &str) -> (u64, u64, f64, Option<u64>) {
    let m = d.metric(name).unwrap_or_else(|| panic!("{name} missing"));
    let p = &m.points[0];
    (p.start_unix_nano, p.time_unix_nano, p.value, m.sum_temporality)
}

#[test]
fn pushes_every_interval_to_one_broker_and_terminates_once_on_close() {
    let interval = Duration::from_millis(200);
    let c = cluster(3, TelemetrySubscription::new(&["org.apache.kafka.producer."], interval));
    let p = producer(&c, &[("client.id", "tel-1")]);
    send_n(&p, "t", N);
    wait_for("3 pushes", Duration::from_secs(10), || c.telemetry_pushes().len() >= 3);
    p.close(Duration::from_secs(10)).unwrap();
    let pushes = c.telemetry_pushes();
    let last = pushes.last().unwrap();
    assert!(last.terminating, "the terminating push is the last");
    assert_eq!(pushes.iter().filter(|p| p.terminating).count(), 1);
    assert_eq!(requests(&c, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS), 1, "subscribed once");
    assert_eq!(requests(&c, ApiKey::PUSH_TELEMETRY), pushes.len(), "every push accepted");
    let first = &pushes[0];
    assert_ne!(first.client_instance_id, [0; 16], "the broker's id is used");
    for q in &pushes {
        assert_eq!(q.client_instance_id, first.client_instance_id);
        assert_eq!(q.broker, first.broker, "one broker while its connection is up");
        assert_eq!(q.compression, CompressionType::Zstd, "the broker's first choice");
    }
    // Pushes an interval apart (the payload's timestamps), the terminating one excepted.
    let times: Vec<u64> = pushes.iter().map(|q| point(&decoded(q), SEND_TOTAL).1).collect();
    for w in times.windows(2).take(pushes.len().saturating_sub(2)) {
        let gap = Duration::from_nanos(w[1] - w[0]);
        assert!(gap >= interval - Duration::from_millis(20) && gap < interval * 4, "gap {gap:?}: {times:?}");
    }
    let d = decoded(last);
    assert_eq!(d.resource_attr("client_id"), Some("tel-1"));
    let (start, time, value, temporality) = point(&d, SEND_TOTAL);
    assert_eq!((value, temporality), (N as f64, Some(2)), "cumulative: the final count");
    assert!(start < time);
    for m in &d.metrics {
        assert!(m.name.starts_with("org.apache.kafka.producer.") && !m.name.contains('-'), "{}", m.name);
    }
    let topic = d.metric("org.apache.kafka.producer.topic.record.send.total").unwrap();
    assert_eq!(topic.points[0].attributes, vec![("topic".to_string(), "t".to_string())]);
    assert_eq!(topic.points[0].value, N as f64);
}

#[test]
fn delta_sums_add_up_and_the_prefix_and_compression_are_the_brokers() {
    let sub = TelemetrySubscription::new(&["org.apache.kafka.producer.record."], Duration::from_millis(100))
        .delta(true)
        .compression(&[CompressionType::Lz4]);
    let c = cluster(1, sub);
    let p = producer(&c, &[]);
    send_n(&p, "t", N / 2);
    wait_for("a push", Duration::from_secs(10), || !c.telemetry_pushes().is_empty());
    send_n(&p, "t", N / 2);
    p.close(Duration::from_secs(10)).unwrap();
    let pushes = c.telemetry_pushes();
    assert!(pushes.len() >= 2);
    let mut sum = 0.0;
    for q in &pushes {
        assert_eq!(q.compression, CompressionType::Lz4);
        let d = decoded(q);
        assert!(d.metrics.iter().all(|m| m.name.starts_with("org.apache.kafka.producer.record.")));
        let (_, _, v, temporality) = point(&d, SEND_TOTAL);
        assert_eq!(temporality, Some(1), "delta");
        sum += v;
    }
    assert_eq!(sum, N as f64, "the deltas add up to every record sent");
}

#[test]
fn unknown_subscription_id_fetches_the_subscription_again() {
    let c = cluster(1, TelemetrySubscription::new(&[""], Duration::from_millis(100)));
    c.push_errors(ApiKey::PUSH_TELEMETRY, None, &[ErrorCode::UNKNOWN_SUBSCRIPTION_ID]);
    let p = producer(&c, &[]);
    send_n(&p, "t", 10);
    wait_for("a push after the error", Duration::from_secs(10), || !c.telemetry_pushes().is_empty());
    assert_eq!(requests(&c, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS), 2, "asked again after the error");
    p.close(Duration::from_secs(10)).unwrap();
    assert!(c.telemetry_pushes().last().unwrap().terminating);
}

#[test]
fn invalid_record_stops_telemetry_for_good() {
    let c = cluster(1, TelemetrySubscription::new(&[""], Duration::from_millis(100)));
    c.push_errors(ApiKey::PUSH_TELEMETRY, None, &[ErrorCode::INVALID_RECORD]);
    let p = producer(&c, &[]);
    send_n(&p, "t", 10);
    wait_for("the refused push", Duration::from_secs(10), || requests(&c, ApiKey::PUSH_TELEMETRY) == 1);
    std::thread::sleep(Duration::from_millis(500));
    p.close(Duration::from_secs(10)).unwrap();
    assert_eq!(requests(&c, ApiKey::PUSH_TELEMETRY), 1, "no push after INVALID_RECORD, not even on close");
    assert!(c.telemetry_pushes().is_empty());
}

#[test]
fn nothing_is_pushed_without_the_brokers_apis_or_with_push_disabled() {
    let plain = MockCluster::new(1).unwrap();
    let p = producer(&plain, &[]);
    send_n(&p, "t", 10);
    p.close(Duration::from_secs(10)).unwrap();
    let offered = cluster(1, TelemetrySubscription::new(&[""], Duration::from_millis(50)));
    let q = producer(&offered, &[("enable.metrics.push", "false")]);
    send_n(&q, "t", 10);
    std::thread::sleep(Duration::from_millis(300));
    q.close(Duration::from_secs(10)).unwrap();
    for c in [&plain, &offered] {
        assert_eq!(requests(c, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS) + requests(c, ApiKey::PUSH_TELEMETRY), 0);
    }
}

#[test]
fn a_subscription_to_nothing_pushes_nothing_and_close_does_not_wait() {
    let c = cluster(1, TelemetrySubscription::new(&[], Duration::from_millis(100)));
    let p = producer(&c, &[]);
    send_n(&p, "t", 10);
    wait_for("the subscription asked again", Duration::from_secs(10), || {
        requests(&c, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS) >= 2
    });
    let t = Instant::now();
    p.close(Duration::from_secs(10)).unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(requests(&c, ApiKey::PUSH_TELEMETRY), 0);
}

#[test]
fn a_stuck_terminating_push_never_fails_the_close() {
    let c = cluster(1, TelemetrySubscription::new(&[""], Duration::from_millis(100)));
    let p = producer(&c, &[]);
    send_n(&p, "t", 10);
    wait_for("a push", Duration::from_secs(10), || !c.telemetry_pushes().is_empty());
    c.set_api_delay(ApiKey::PUSH_TELEMETRY, Duration::from_secs(5));
    let t = Instant::now();
    p.close(Duration::from_secs(1)).expect("every record had its outcome: the close succeeds");
    assert!(t.elapsed() < Duration::from_millis(1500), "{:?}", t.elapsed());
}
