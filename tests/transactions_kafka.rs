//! Transactions against real Apache Kafka, checked with Kafka's own tools: committed records are
//! visible to a read_committed console consumer and aborted ones never are; offsets sent in a committed
//! transaction are the group's committed offsets (kafka-consumer-groups); a second producer with the
//! same transactional.id fences the first. The same scenario runs on Kafka 4.x (transactions v2,
//! KIP-890) and on Kafka 3.9 (transactions v1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use kprod::{ConsumerGroupMetadata, OffsetAndMetadata};
use kprod::{Producer, ProducerConfig, Record, TopicPartition};

const T: Duration = Duration::from_secs(60);

fn txn_producer(bootstrap: &str, id: &str) -> Producer {
    let p = Producer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", bootstrap),
            ("transactional.id", id),
            ("transaction.timeout.ms", "30000"),
        ])
        .unwrap(),
    )
    .unwrap();
    p.init_transactions(T).unwrap();
    p
}

fn scenario(bootstrap_var: &str, name_var: &str, want_protocol: u8) {
    let bootstrap = bootstrap(bootstrap_var);
    let cluster = cluster_name(name_var);
    let out = unique_topic("txn-out");
    let input = unique_topic("txn-in");
    create_topic(&cluster, &out, 2, 1);
    create_topic(&cluster, &input, 1, 1);
    let tid = unique_topic("tid");
    let group = unique_topic("group");

    let p = txn_producer(&bootstrap, &tid);
    assert_eq!(p.transaction_protocol_version(), Some(want_protocol), "transaction protocol on {cluster}");

    // Committed, aborted, committed again; offsets go with the transactions.
    let offsets = |o: i64| {
        vec![OffsetAndMetadata {
            topic_partition: TopicPartition::new(input.as_str(), 0),
            offset: o,
            metadata: None,
        }]
    };
    let g = ConsumerGroupMetadata::new(group.as_str());
    p.begin_transaction().unwrap();
    for i in 0..100 {
        p.send(
            Record::new(out.as_str())
                .key(format!("{i}").into_bytes())
                .value(format!("committed-{i}").into_bytes()),
        )
        .unwrap();
    }
    p.send_offsets_to_transaction(&offsets(10), &g, T).unwrap();
    p.commit_transaction(T).unwrap();

    p.begin_transaction().unwrap();
    for i in 0..100 {
        p.send(
            Record::new(out.as_str())
                .key(format!("{i}").into_bytes())
                .value(format!("aborted-{i}").into_bytes()),
        )
        .unwrap();
    }
    p.send_offsets_to_transaction(&offsets(99), &g, T).unwrap();
    p.flush(T).unwrap();
    p.abort_transaction(T).unwrap();

    p.begin_transaction().unwrap();
    for i in 0..100 {
        p.send(
            Record::new(out.as_str())
                .key(format!("{i}").into_bytes())
                .value(format!("second-{i}").into_bytes()),
        )
        .unwrap();
    }
    p.send_offsets_to_transaction(&offsets(42), &g, T).unwrap();
    p.commit_transaction(T).unwrap();

    let committed = consume(&cluster, &out, 1000, 10_000, &["--isolation-level", "read_committed"]);
    let values: Vec<&str> = committed.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(values.len(), 200, "read_committed sees both committed transactions only: {values:?}");
    assert!(values.iter().all(|v| v.starts_with("committed-") || v.starts_with("second-")));
    let all = consume(&cluster, &out, 1000, 10_000, &["--isolation-level", "read_uncommitted"]);
    assert_eq!(
        all.iter().filter(|c| c.value.starts_with("aborted-")).count(),
        100,
        "aborted records are in the log"
    );

    let described = kafka_stdout(&["groups", "--name", &cluster, "--describe", "--group", &group]);
    let line =
        described.lines().find(|l| l.contains(input.as_str())).unwrap_or_else(|| panic!("{described}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    // GROUP TOPIC PARTITION CURRENT-OFFSET ...
    assert_eq!(fields.get(3), Some(&"42"), "committed offset of the last committed transaction: {line}");

    // A newer producer with the same transactional.id fences this one.
    p.begin_transaction().unwrap();
    p.send(Record::new(out.as_str()).value(&b"zombie"[..])).unwrap();
    p.flush(T).unwrap();
    let newer = txn_producer(&bootstrap, &tid);
    let e = p.commit_transaction(T).unwrap_err();
    assert!(e.is_fatal(), "the older producer is fenced: {e}");
    newer.begin_transaction().unwrap();
    newer.send(Record::new(out.as_str()).value(&b"newer"[..])).unwrap();
    newer.commit_transaction(T).unwrap();
    let committed = consume(&cluster, &out, 1000, 10_000, &["--isolation-level", "read_committed"]);
    assert_eq!(committed.len(), 201);
    assert!(committed.iter().any(|c| c.value == "newer") && !committed.iter().any(|c| c.value == "zombie"));
}

#[test]
fn transactions_on_the_main_cluster() {
    // Kafka 4.x finalizes transaction.version 2 on new clusters; 3.x has only v1.
    let version =
        std::env::var("KPROD_KAFKA_VERSION").unwrap_or_else(|_| panic!("KPROD_KAFKA_VERSION is not set"));
    let want = if version.starts_with("3.") { 1 } else { 2 };
    scenario("KAFKA_BOOTSTRAP", "KPROD_KAFKA_NAME_1", want);
}

#[test]
fn transactions_v1_on_kafka_3_9() {
    scenario("KAFKA_BOOTSTRAP_39", "KPROD_KAFKA_NAME_39", 1);
}
