//! Kafka's own producer (ConsoleProducer, default partitioner) against a real broker: every keyed
//! record must land where kprod's `partition_for_key` puts it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use common::WaitOutcome;
use kprod::partitioner::{murmur2, partition_for_key, to_positive};

const PARTITIONS: i32 = 7;
const RECORDS: usize = 200;

/// Printable keys (the console tools speak text) of varied lengths, some non-ASCII.
fn keys() -> Vec<String> {
    (0..RECORDS)
        .map(|i| match i % 4 {
            0 => format!("k{i}"),
            1 => format!("user-{i}-{}", "x".repeat(i % 29)),
            2 => format!("ключ-{i}"),
            _ => format!("日本{i}🦀"),
        })
        .collect()
}

#[test]
fn java_default_partitioner_matches_murmur2() {
    let _ = common::bootstrap("KAFKA_BOOTSTRAP");
    let cluster = common::cluster_name("KPROD_KAFKA_NAME_1");
    let topic = common::unique_topic("partitioner-java");
    common::create_topic(&cluster, &topic, PARTITIONS as u32, 1);

    let keys = keys();
    let mut child = Command::new(common::repo_root().join("scripts/kafka"))
        .args(["producer", "--name", &cluster, "--topic", &topic])
        .args(["--property", "parse.key=true", "--property", "key.separator=\t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scripts/kafka producer");
    {
        let mut stdin = child.stdin.take().unwrap();
        for (i, k) in keys.iter().enumerate() {
            writeln!(stdin, "{k}\tvalue-{i}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "console producer failed: {}", String::from_utf8_lossy(&out.stderr));

    let records = common::consume(&cluster, &topic, RECORDS, 60_000, &[]);
    assert_eq!(records.len(), RECORDS, "consumed {} of {RECORDS}", records.len());
    let expected: HashMap<&str, i32> =
        keys.iter().map(|k| (k.as_str(), partition_for_key(k.as_bytes(), PARTITIONS))).collect();
    let mut used = [false; PARTITIONS as usize];
    for r in &records {
        let want = expected[r.key.as_str()];
        assert_eq!(want, to_positive(murmur2(r.key.as_bytes())) % PARTITIONS);
        assert_eq!(r.partition, want, "key {:?}: Kafka chose {}, kprod {want}", r.key, r.partition);
        used[r.partition as usize] = true;
    }
    assert!(used.iter().all(|&u| u), "200 keys should reach all {PARTITIONS} partitions");

    // kprod's own producer, same keys, same partition count: each key lands where Kafka's put it.
    let ours = common::unique_topic("partitioner-kprod");
    common::create_topic(&cluster, &ours, PARTITIONS as u32, 1);
    let bootstrap = common::bootstrap("KAFKA_BOOTSTRAP");
    let producer = kprod::Producer::new(
        kprod::ProducerConfig::from_properties([("bootstrap.servers", bootstrap.as_str())]).unwrap(),
    )
    .unwrap();
    let java: HashMap<&str, i32> = records.iter().map(|r| (r.key.as_str(), r.partition)).collect();
    let futures: Vec<_> = keys
        .iter()
        .map(|k| producer.send(kprod::Record::new(ours.as_str()).key(k.as_bytes()).value(&b"v"[..])).unwrap())
        .collect();
    for (k, f) in keys.iter().zip(futures) {
        let m = f.outcome().unwrap();
        assert_eq!(m.topic_partition.partition, java[k.as_str()], "key {k:?}: kprod's producer vs Kafka's");
    }
}
