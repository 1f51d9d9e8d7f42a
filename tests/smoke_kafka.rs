//! Compatibility smoke against other Kafka versions (`scripts/compat smoke`, and the 4.0 / 4.2 matrix of
//! `scripts/test`): on every cluster named in `KPROD_SMOKE_CLUSTERS` (comma-separated `scripts/kafka`
//! names of running 1-broker clusters), `KPROD_SMOKE_RECORDS` records (default 5000) are produced three
//! ways — plain (acks=1, not idempotent), idempotent (the default), and transactional (one committed
//! one aborted, one more committed) — and read back with Kafka's own console consumer: every acknowledged
//! record is in the log once, at the offset it was acknowledged with; read_committed sees the committed
//! transactions and nothing of the aborted one. `KPROD_SMOKE_CLUSTERS` unset fails; set to the empty
//! string it means "none in this run" (scripts/test smokes in its own step, before the whole suite).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use kprod::{Producer, ProducerConfig, Record};

const T: Duration = Duration::from_secs(60);

/// The clusters to smoke: name, bootstrap, Kafka version (as `scripts/kafka version --name` says).
fn clusters() -> Vec<(String, String, String)> {
    let Ok(names) = std::env::var("KPROD_SMOKE_CLUSTERS") else {
        panic!(
            "KPROD_SMOKE_CLUSTERS is not set: the smoke needs running clusters. Run it through scripts/test \
             or `scripts/compat smoke VERSION`, or start one with scripts/kafka up --name N and export \
             KPROD_SMOKE_CLUSTERS=N."
        );
    };
    let list: Vec<_> = names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            let bootstrap = kafka_stdout(&["bootstrap", "--name", n]).trim().to_string();
            check_reachable(&bootstrap);
            let version = kafka_stdout(&["version", "--name", n]).trim().to_string();
            (n.to_string(), bootstrap, version)
        })
        .collect();
    if list.is_empty() {
        // Set but empty: scripts/test runs the smoke in a step of its own, then sets it empty for the
        // whole-suite run so that the matrix's clusters can be stopped early.
        eprintln!("KPROD_SMOKE_CLUSTERS is empty: no cluster to smoke here");
    }
    list
}

fn records() -> usize {
    std::env::var("KPROD_SMOKE_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000)
}

fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> Producer {
    let mut props = vec![("bootstrap.servers", bootstrap), ("linger.ms", "5")];
    props.extend_from_slice(extra);
    Producer::new(ProducerConfig::from_properties(props).unwrap()).unwrap()
}

/// Sends `n` records valued `{prefix}-{i}` to `topic` and returns each one's (partition, offset).
fn send_all(p: &Producer, topic: &str, prefix: &str, n: usize) -> HashMap<String, (i32, i64)> {
    let futures: Vec<_> = (0..n)
        .map(|i| {
            let value = format!("{prefix}-{i}");
            let f = p
                .send(Record::new(topic).key(format!("k{i}").into_bytes()).value(value.clone().into_bytes()));
            (value, f.unwrap())
        })
        .collect();
    p.flush(T).unwrap();
    futures
        .into_iter()
        .map(|(v, f)| {
            let m = f.outcome().unwrap_or_else(|e| panic!("{v} to {topic} failed: {e}"));
            (v, (m.topic_partition.partition, m.offset))
        })
        .collect()
}

/// Every acknowledged record is in the log exactly once, where it was acknowledged.
fn assert_read_back(cluster: &str, topic: &str, acked: &HashMap<String, (i32, i64)>, extra: &[&str]) {
    let got = consume(cluster, topic, acked.len(), 20_000, extra);
    let mut seen: HashMap<&str, (i32, i64)> = HashMap::new();
    for c in &got {
        assert!(seen.insert(c.value.as_str(), (c.partition, c.offset)).is_none(), "{} read twice", c.value);
    }
    assert_eq!(got.len(), acked.len(), "{cluster}/{topic}: records read back");
    for (v, at) in acked {
        assert_eq!(seen.get(v.as_str()), Some(at), "{cluster}/{topic}: {v}");
    }
}

fn each_cluster(what: &str, f: impl Fn(&str, &str, &str)) {
    for (name, bootstrap, version) in clusters() {
        let start = Instant::now();
        f(&name, &bootstrap, &version);
        eprintln!("smoke {what} on Kafka {version} ({name}): ok in {:.1} s", start.elapsed().as_secs_f64());
    }
}

#[test]
fn plain_produce() {
    each_cluster("plain", |cluster, bootstrap, _| {
        let topic = unique_topic("smoke-plain");
        create_topic(cluster, &topic, 3, 1);
        let p = producer(bootstrap, &[("enable.idempotence", "false"), ("acks", "1")]);
        let acked = send_all(&p, &topic, "plain", records());
        p.close(T).unwrap();
        assert_read_back(cluster, &topic, &acked, &[]);
    });
}

#[test]
fn idempotent_produce() {
    each_cluster("idempotent", |cluster, bootstrap, _| {
        let topic = unique_topic("smoke-idem");
        create_topic(cluster, &topic, 3, 1);
        let p = producer(
            bootstrap,
            &[("enable.idempotence", "true"), ("max.in.flight.requests.per.connection", "5")],
        );
        let acked = send_all(&p, &topic, "idem", records());
        p.close(T).unwrap();
        assert_read_back(cluster, &topic, &acked, &[]);
    });
}

#[test]
fn transactional_produce() {
    each_cluster("transactional", |cluster, bootstrap, version| {
        let topic = unique_topic("smoke-txn");
        create_topic(cluster, &topic, 3, 1);
        let tid = unique_topic("smoke-tid");
        let p = producer(bootstrap, &[("transactional.id", &tid), ("transaction.timeout.ms", "30000")]);
        p.init_transactions(T).unwrap();
        // Transactions v2 (KIP-890) is on by default from Kafka 4.0; 3.x clusters speak v1.
        let want = if version.starts_with("3.") { 1 } else { 2 };
        assert_eq!(p.transaction_protocol_version(), Some(want), "transaction protocol on Kafka {version}");
        let n = records();
        p.begin_transaction().unwrap();
        let committed = send_all(&p, &topic, "committed", n);
        p.commit_transaction(T).unwrap();
        p.begin_transaction().unwrap();
        for i in 0..n / 10 {
            p.send(Record::new(topic.as_str()).value(format!("aborted-{i}").into_bytes())).unwrap();
        }
        p.flush(T).unwrap();
        p.abort_transaction(T).unwrap();
        // A last committed transaction after the aborted one: read_committed must reach it, past the
        // aborted records, without showing any of them.
        p.begin_transaction().unwrap();
        let mut all = committed;
        all.extend(send_all(&p, &topic, "tail", 3));
        p.commit_transaction(T).unwrap();
        p.close(T).unwrap();
        assert_read_back(cluster, &topic, &all, &["--isolation-level", "read_committed"]);
    });
}
