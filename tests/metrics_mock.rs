//! `Producer::metrics` with known answers against the mock cluster: counts equal what was sent,
//! averages sit in the band the settings imply, gauges return to their resting values, and the names
//! are Kafka 4.4.0's own (`tests/java/producer-metrics-4.4.0.tsv`, dumped from its Java producer).
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use kprod::{ApiKey, Producer, ProducerConfig, Record};

fn producer(cluster: &MockCluster, extra: &[(&str, &str)]) -> Producer {
    let bootstrap = cluster.bootstrap_servers();
    let mut props = vec![("bootstrap.servers", bootstrap.as_str())];
    props.extend_from_slice(extra);
    Producer::new(ProducerConfig::from_properties(props).unwrap()).unwrap()
}

fn metric(p: &Producer, name: &str) -> f64 {
    p.metrics().get(name).unwrap_or_else(|| panic!("no metric {name}"))
}

/// Waits (up to 5 s) for `name` to read `want`: a batch's memory goes back to the pool just after
/// its outcome is decided, which is what `flush` waits for (as in Java, where the sender deallocates
/// after completing the batch).
fn settles_to(p: &Producer, name: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = metric(p, name);
        if v == want {
            return;
        }
        assert!(Instant::now() < deadline, "{name} is {v}, not {want}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn counts_equal_what_was_sent_and_gauges_return_to_rest() {
    let cluster = MockCluster::new(1).unwrap();
    let p = producer(&cluster, &[("linger.ms", "50"), ("buffer.memory", "4194304")]);
    let value = vec![b'x'; 100];
    let n = 20_000;
    let futures: Vec<_> =
        (0..n).map(|_| p.send(Record::new("metrics").value(value.as_slice())).unwrap()).collect();
    p.flush(Duration::from_secs(30)).unwrap();
    for f in futures {
        f.wait_timeout(Duration::from_secs(30)).expect("an outcome").unwrap();
    }
    settles_to(&p, "buffer-available-bytes", 4_194_304.0);
    let m = p.metrics();
    assert_eq!(m.get("record-send-total"), Some(n as f64));
    assert_eq!(m.get("record-error-total"), Some(0.0));
    assert_eq!(m.get("record-retry-total"), Some(0.0));
    assert_eq!(m.get("buffer-available-bytes"), Some(4_194_304.0), "all memory back after flush");
    assert_eq!(m.get("buffer-total-bytes"), Some(4_194_304.0));
    assert_eq!(m.get("waiting-threads"), Some(0.0));
    assert_eq!(m.get("requests-in-flight"), Some(0.0));
    assert!(m.get("flush-time-ns-total").unwrap() > 0.0);
    // Batches fill to batch.size (16384) under a 50 ms linger: the average is in that band.
    let avg = m.get("batch-size-avg").unwrap();
    assert!((12_000.0..=16_384.0 + 512.0).contains(&avg), "batch-size-avg {avg}");
    assert!(m.get("batch-size-max").unwrap() <= 16_384.0 + 512.0);
    // records-per-request-avg matches the Produce requests the mock saw.
    let produce_requests = cluster.requests().iter().filter(|r| r.api_key == ApiKey::PRODUCE).count();
    let per_request = m.get("records-per-request-avg").unwrap();
    let expected = n as f64 / produce_requests as f64;
    assert!((per_request - expected).abs() / expected < 0.01, "{per_request} vs {expected}");
    // Every request has its response (acks=all) and the totals agree with the mock's log.
    assert_eq!(m.get("request-total"), m.get("response-total"));
    assert_eq!(m.get("request-total").unwrap() as usize, cluster.requests().len());
    assert!(m.get("outgoing-byte-total").unwrap() > (n * 100) as f64);
    assert!(m.get("connection-count").unwrap() >= 1.0);
    // Rates are per second over the windows: positive right after the run.
    assert!(m.get("record-send-rate").unwrap() > 0.0);
    // The per-topic group has the topic's own counts, the per-node group the broker's.
    let topic_sent: f64 = m
        .iter()
        .filter(|x| x.group == "producer-topic-metrics" && x.name == "record-send-total")
        .filter(|x| x.tags.iter().any(|(k, v)| *k == "topic" && v == "metrics"))
        .map(|x| x.value)
        .sum();
    assert_eq!(topic_sent, n as f64);
    let node_requests: f64 = m
        .iter()
        .filter(|x| x.group == "producer-node-metrics" && x.name == "request-total")
        .map(|x| x.value)
        .sum();
    assert_eq!(node_requests, m.get("request-total").unwrap(), "per-node requests add up");
    assert_eq!(m.get("compression-rate-avg"), Some(1.0), "no codec: ratio 1");
    assert!(m.get("successful-authentication-total").unwrap() >= 1.0);
    // Every record is 100 bytes of value plus a few of framing.
    let size = m.get("record-size-max").unwrap();
    assert!((100.0..=120.0).contains(&size), "record-size-max {size}");
    assert!(m.get("io-wait-time-ns-total").unwrap() > 0.0 && m.get("select-total").unwrap() > 0.0);
    let ratio = m.get("io-wait-ratio").unwrap();
    assert!((0.0..=1.0).contains(&ratio), "io-wait-ratio {ratio}");
    assert!(m.get("network-io-total").unwrap() > 0.0);
    p.close(Duration::from_secs(10)).unwrap();
}

#[test]
fn records_expired_while_the_broker_is_down_are_errors() {
    let cluster = MockCluster::new(1).unwrap();
    let p = producer(
        &cluster,
        &[("delivery.timeout.ms", "1500"), ("request.timeout.ms", "1000"), ("linger.ms", "0")],
    );
    // Metadata first, so the records are accepted and then wait for the broker.
    p.send(Record::new("down").value(&b"first"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    cluster.broker_down(cluster.broker_ids()[0]).unwrap();
    let futures: Vec<_> = (0..50).map(|_| p.send(Record::new("down").value(&b"x"[..])).unwrap()).collect();
    for f in futures {
        assert!(f.wait_timeout(Duration::from_secs(20)).expect("an outcome").is_err());
    }
    assert_eq!(metric(&p, "record-error-total"), 50.0);
    assert!(metric(&p, "record-send-total") >= 1.0);
    drop(p);
}

#[test]
fn waiting_threads_counts_a_sender_blocked_on_a_full_pool() {
    let cluster = MockCluster::new(1).unwrap();
    let p = std::sync::Arc::new(producer(
        &cluster,
        &[("buffer.memory", "65536"), ("batch.size", "16384"), ("linger.ms", "0"), ("max.block.ms", "10000")],
    ));
    p.send(Record::new("full").value(&b"warm"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    // Hold every Produce request: batches stay in flight and the pool runs dry.
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::from_secs(3));
    let sender = {
        let p = std::sync::Arc::clone(&p);
        std::thread::spawn(move || {
            let value = vec![b'y'; 1000];
            for _ in 0..200 {
                if p.send(Record::new("full").value(value.as_slice())).is_err() {
                    break;
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut seen = 0.0;
    while Instant::now() < deadline {
        seen = metric(&p, "waiting-threads");
        if seen >= 1.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(seen >= 1.0, "waiting-threads never rose above 0");
    assert!(metric(&p, "buffer-available-bytes") < 65536.0);
    // A send that may not wait is refused now: counted as exhausted.
    let big = vec![b'z'; 20_000];
    let refused = p.try_send(Record::new("full").value(big.as_slice()));
    assert!(matches!(
        refused.map(|_| ()).map_err(|e| e.into_parts().0),
        Err(kprod::Error::BufferExhausted { .. })
    ));
    assert!(metric(&p, "buffer-exhausted-total") >= 1.0);
    assert!(metric(&p, "buffer-exhausted-rate") > 0.0);
    cluster.set_api_delay(ApiKey::PRODUCE, Duration::ZERO);
    sender.join().unwrap();
    p.flush(Duration::from_secs(30)).unwrap();
    assert!(metric(&p, "bufferpool-wait-time-ns-total") > 0.0);
    settles_to(&p, "buffer-available-bytes", 65536.0);
}

#[test]
fn every_name_is_kafka_4_4_0s() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/java/producer-metrics-4.4.0.tsv");
    let java: std::collections::HashSet<(String, String)> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    assert!(java.len() > 50, "the Java dump has {} names", java.len());
    let cluster = MockCluster::new(1).unwrap();
    let p = producer(&cluster, &[]);
    // One record, so the per-topic and per-node groups exist too.
    p.send(Record::new("names").value(&b"v"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    let m = p.metrics();
    assert!(m.iter().any(|x| x.group == "producer-topic-metrics"));
    assert!(m.iter().any(|x| x.group == "producer-node-metrics"));
    assert!(m.len() >= 80, "{} metrics", m.len());
    for metric in m.iter() {
        assert!(
            java.contains(&(metric.group.to_string(), metric.name.to_string())),
            "{}:{} is not a Kafka 4.4.0 producer metric",
            metric.group,
            metric.name
        );
        assert_eq!(metric.tags[0].0, "client-id");
    }
}
