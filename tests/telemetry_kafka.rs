//! KIP-714 client telemetry against real Apache Kafka: a broker with kprod's receiver plugin
//! (tests/java/telemetry/TelemetrySink.java, built by scripts/telemetry-plugin, which also creates the
//! client-metrics subscription `org.apache.kafka.producer.` every 1000 ms) writes every push it accepts
//! to a file. A producer sends N records, pushes while it runs, and sends a terminating push on close;
//! the payloads, decoded by a test-side protobuf reader, must name Kafka's telemetry metrics and count
//! exactly N records sent.
//!
//! A second test runs Kafka's own Java producer (ProducerPerformance) against the same broker: every
//! metric kprod pushes must be one the Java client pushes, of the same kind (sum or gauge) and with the
//! same attribute keys.
//!
//! Environment: KAFKA_BOOTSTRAP_TELEMETRY (that broker), KPROD_KAFKA_NAME_TELEMETRY (its scripts/kafka
//! name) and KPROD_TELEMETRY_FILE (the file its `kprod.telemetry.file` names). Unset or unreachable is
//! a failure, never a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::otlp::{base64, metrics_data, MetricsData};
use common::*;
use kprod::{Producer, ProducerConfig, Record};

const N: usize = 500;

/// One push the broker accepted: client instance id, terminating, and the decoded payload.
#[derive(Debug)]
struct Push {
    instance_id: String,
    terminating: bool,
    data: MetricsData,
}

/// Every push in `file`.
fn all_pushes(file: &str) -> Vec<Push> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            let (id, term, _content_type, payload) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            Some(Push {
                instance_id: id.to_string(),
                terminating: term == "true",
                data: metrics_data(&base64(payload)),
            })
        })
        .collect()
}

/// The pushes in `file` from the client whose `client_id` resource attribute is `client_id`.
fn pushes(file: &str, client_id: &str) -> Vec<Push> {
    all_pushes(file).into_iter().filter(|p| p.data.resource_attr("client_id") == Some(client_id)).collect()
}

/// Every metric name in `pushes` with its kind (sum or gauge) and attribute keys.
fn shapes(pushes: &[Push]) -> std::collections::BTreeMap<String, (bool, Vec<String>)> {
    let mut out = std::collections::BTreeMap::new();
    for p in pushes {
        for m in &p.data.metrics {
            let keys = m.points.first().map(|pt| pt.attributes.iter().map(|(k, _)| k.clone()).collect());
            out.insert(m.name.clone(), (m.sum_temporality.is_some(), keys.unwrap_or_default()));
        }
    }
    out
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of sum `name` (with attributes `attrs`) the pushes add up to: the last value when
/// cumulative, the sum of every push's value when delta.
fn total(pushes: &[Push], name: &str, attrs: &[(&str, &str)]) -> f64 {
    let mut cumulative = None;
    let mut delta = 0.0;
    for p in pushes {
        let Some(m) = p.data.metric(name) else { continue };
        assert!(m.monotonic, "{name} is a monotonic sum");
        for pt in &m.points {
            let matches = attrs.iter().all(|(k, v)| pt.attributes.iter().any(|(a, b)| a == k && b == v));
            if !matches {
                continue;
            }
            match m.sum_temporality {
                Some(1) => delta += pt.value,
                Some(2) => cumulative = Some(pt.value),
                t => panic!("{name}: temporality {t:?} is not a sum's"),
            }
        }
    }
    cumulative.unwrap_or(delta)
}

#[test]
fn pushes_reach_the_broker_and_the_terminating_push_counts_every_record() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_TELEMETRY");
    let file = std::env::var("KPROD_TELEMETRY_FILE").expect(
        "KPROD_TELEMETRY_FILE is not set: the file the telemetry broker's kprod.telemetry.file names",
    );
    let client_id = unique_topic("kprod-telemetry");
    let topic = unique_topic("telemetry");
    let producer = Producer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", bootstrap.as_str()),
            ("client.id", client_id.as_str()),
            ("linger.ms", "5"),
        ])
        .unwrap(),
    )
    .unwrap();
    let futures: Vec<_> = (0..N)
        .map(|i| producer.send(Record::new(topic.as_str()).value(format!("v{i}").into_bytes())).unwrap())
        .collect();
    producer.flush(Duration::from_secs(60)).unwrap();
    for f in futures {
        f.wait_timeout(Duration::from_secs(60)).expect("an outcome within 60 s").unwrap();
    }
    // The subscription's interval is 1 s: the first push comes 0.5–1.5 s after the subscription.
    wait_for("a push while the producer runs", Duration::from_secs(30), || {
        pushes(&file, &client_id).iter().any(|p| !p.terminating)
    });
    let before_close = pushes(&file, &client_id).len();
    producer.close(Duration::from_secs(30)).unwrap();
    wait_for("the terminating push", Duration::from_secs(10), || {
        pushes(&file, &client_id).iter().any(|p| p.terminating)
    });
    let all = pushes(&file, &client_id);
    assert!(all.len() > before_close, "the terminating push came after the regular ones");
    let last = all.last().unwrap();
    assert!(last.terminating, "the terminating push is the last one");
    assert_eq!(all.iter().filter(|p| p.terminating).count(), 1, "exactly one terminating push");
    let id = &all[0].instance_id;
    assert_ne!(id, "AAAAAAAAAAAAAAAAAAAAAA", "the broker assigned a client instance id");
    assert!(all.iter().all(|p| &p.instance_id == id), "one client instance id throughout: {all:?}");
    // Every name is Kafka's telemetry name under the subscribed prefix.
    for p in &all {
        for m in &p.data.metrics {
            assert!(m.name.starts_with("org.apache.kafka.producer."), "{}", m.name);
            assert!(!m.name.contains('-'), "{}", m.name);
        }
    }
    let names: Vec<&str> = last.data.metrics.iter().map(|m| m.name.as_str()).collect();
    for want in [
        "org.apache.kafka.producer.record.send.total",
        "org.apache.kafka.producer.record.send.rate",
        "org.apache.kafka.producer.request.total",
        "org.apache.kafka.producer.topic.record.send.total",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert_eq!(total(&all, "org.apache.kafka.producer.record.send.total", &[]), N as f64);
    assert_eq!(
        total(&all, "org.apache.kafka.producer.topic.record.send.total", &[("topic", topic.as_str())]),
        N as f64
    );
    let send_total = last.data.metric("org.apache.kafka.producer.record.send.total").unwrap();
    assert!(send_total.points[0].time_unix_nano > send_total.points[0].start_unix_nano);
}

#[test]
fn kprod_pushes_what_the_java_client_pushes_under_the_same_names() {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_TELEMETRY");
    let name = cluster_name("KPROD_KAFKA_NAME_TELEMETRY");
    let file = std::env::var("KPROD_TELEMETRY_FILE").expect("KPROD_TELEMETRY_FILE is not set");
    // Kafka's Java producer: its pushes carry no client id, so they are found by the topic attribute.
    let java_topic = unique_topic("telemetry-java");
    let java_id = unique_topic("java-telemetry");
    kafka(&[
        "perf",
        "--name",
        &name,
        "--topic",
        &java_topic,
        "--num-records",
        "2000",
        "--record-size",
        "100",
        "--throughput",
        "1000",
        "--producer-props",
        &format!("client.id={java_id}"),
    ]);
    let has_topic = |p: &Push, topic: &str| {
        p.data
            .metrics
            .iter()
            .any(|m| m.points.iter().any(|pt| pt.attributes.iter().any(|(k, v)| k == "topic" && v == topic)))
    };
    let java: Vec<Push> = all_pushes(&file).into_iter().filter(|p| has_topic(p, &java_topic)).collect();
    assert!(!java.is_empty(), "the Java producer pushed (its perf run closes with a terminating push)");
    // kprod, a while and through close.
    let client_id = unique_topic("kprod-telemetry-names");
    let topic = unique_topic("telemetry-kprod");
    let p = Producer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", bootstrap.as_str()),
            ("client.id", client_id.as_str()),
        ])
        .unwrap(),
    )
    .unwrap();
    for i in 0..200 {
        p.send(Record::new(topic.as_str()).value(format!("v{i}").into_bytes())).unwrap();
    }
    p.flush(Duration::from_secs(60)).unwrap();
    wait_for("a kprod push", Duration::from_secs(30), || !pushes(&file, &client_id).is_empty());
    p.close(Duration::from_secs(30)).unwrap();
    let ours = shapes(&pushes(&file, &client_id));
    let theirs = shapes(&java);
    let missing: Vec<&String> = ours.keys().filter(|n| !theirs.contains_key(*n)).collect();
    assert!(missing.is_empty(), "kprod pushes metrics the Java client does not: {missing:?}");
    for (n, shape) in &ours {
        assert_eq!(Some(shape), theirs.get(n), "{n}: (sum?, attribute keys) differ from the Java client's");
    }
    let only_java: Vec<&String> = theirs.keys().filter(|n| !ours.contains_key(*n)).collect();
    eprintln!("{} metrics in common; only the Java client: {only_java:?}", ours.len());
    assert!(ours.len() * 10 >= theirs.len() * 9, "kprod pushes at least 90% of the Java client's metrics");
}
