//! Produce v13 (topics by id, Kafka 4.1+) against real Kafka, with the topic deleted and recreated under
//! the same name while records are being sent: every send gets exactly one outcome; the producer learns
//! the new topic id (UNKNOWN_TOPIC_ID refreshes metadata) and records sent after the recreation land in
//! the new topic, each at the offset it was acknowledged with (read back by Kafka's console consumer);
//! kprod's trace log shows Produce v13 requests under the old id and then under the new one.
//!
//! Records in flight during the delete may fail or be retried into the new topic; both are allowed (see
//! docs/compatibility.md, "Topic deleted and recreated"). The test prints how many did which.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use kprod::{Producer, ProducerConfig, Record};

/// Keeps kprod's "Produce vN to node N: topics name=id" trace lines.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("kprod")
    }
    fn log(&self, r: &log::Record<'_>) {
        if r.target().starts_with("kprod") && r.level() == log::Level::Trace {
            let line = r.args().to_string();
            if line.starts_with("Produce v") {
                self.0.lock().unwrap().push(line);
            }
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

fn topic_id(cluster: &str, topic: &str) -> String {
    let out = kafka_stdout(&["topics", "--name", cluster, "--describe", "--topic", topic]);
    out.split_whitespace()
        .skip_while(|w| *w != "TopicId:")
        .nth(1)
        .unwrap_or_else(|| panic!("no TopicId in {out}"))
        .to_string()
}

fn log_end_offset(cluster: &str, topic: &str) -> i64 {
    let out = kafka_stdout(&["offsets", "--name", cluster, "--topic", topic]);
    out.lines().filter_map(|l| l.rsplit(':').next()?.trim().parse::<i64>().ok()).sum()
}

/// Whether the cluster's Kafka speaks Produce v13 (4.1 and later).
fn has_produce_v13(cluster: &str) -> bool {
    let v = kafka_stdout(&["version", "--name", cluster]);
    let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (4, 1)
}

#[test]
fn topic_recreated_while_producing() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP");
    let cluster = cluster_name("KPROD_KAFKA_NAME_1");
    let v13 = has_produce_v13(&cluster);
    let topic = unique_topic("recreated");
    create_topic(&cluster, &topic, 1, 1);
    let old_id = topic_id(&cluster, &topic);

    let p = Arc::new(
        Producer::new(
            ProducerConfig::from_properties([
                ("bootstrap.servers", bootstrap.as_str()),
                ("linger.ms", "2"),
                ("delivery.timeout.ms", "30000"),
                ("request.timeout.ms", "10000"),
                ("retry.backoff.max.ms", "200"),
            ])
            .unwrap(),
        )
        .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let sender = {
        let (p, stop, topic) = (Arc::clone(&p), Arc::clone(&stop), topic.clone());
        std::thread::spawn(move || {
            let mut sent = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Acquire) {
                let f = p.send(Record::new(topic.as_str()).value(format!("r-{i}").into_bytes())).unwrap();
                sent.push((i, start.elapsed(), f));
                i += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            sent
        })
    };

    std::thread::sleep(Duration::from_millis(1500));
    kafka(&["topics", "--name", &cluster, "--delete", "--topic", &topic]);
    let deleted_at = start.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    // The producer's own metadata requests may have auto-created it again already.
    let created = kafka(&[
        "topics",
        "--name",
        &cluster,
        "--create",
        "--if-not-exists",
        "--topic",
        &topic,
        "--partitions",
        "1",
        "--replication-factor",
        "1",
    ]);
    let auto_created = !String::from_utf8_lossy(&created.stdout).contains("Created topic");
    let recreated_at = start.elapsed();
    let new_id = topic_id(&cluster, &topic);
    assert_ne!(old_id, new_id, "the recreated topic has a new id");
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Release);
    let sent = sender.join().unwrap();
    p.flush(Duration::from_secs(60)).unwrap();

    // Exactly one outcome each (a lost one fails `outcome`).
    let mut ok: HashMap<String, i64> = HashMap::new();
    let mut failed_during = 0usize;
    let mut errors: HashMap<String, usize> = HashMap::new();
    let settled = recreated_at + Duration::from_secs(2);
    let late: Vec<_> =
        sent.iter().filter(|(_, at, _)| *at >= settled).map(|(i, _, _)| format!("r-{i}")).collect();
    let before_delete = sent.iter().filter(|(_, at, _)| *at < deleted_at).count();
    let total = sent.len();
    for (i, at, f) in sent {
        match f.outcome() {
            Ok(m) => {
                assert_eq!(m.topic_partition.partition, 0);
                ok.insert(format!("r-{i}"), m.offset);
            }
            Err(e) => {
                assert!(
                    at < settled,
                    "r-{i}, sent {at:?} after the recreation settled ({settled:?}), failed: {e}"
                );
                failed_during += 1;
                *errors.entry(e.to_string()).or_default() += 1;
            }
        }
    }
    p.close(Duration::from_secs(10)).unwrap();

    // The new topic holds each record once, at its acknowledged offset; every record sent after the
    // recreation settled is there.
    let end = log_end_offset(&cluster, &topic);
    let got = consume(&cluster, &topic, usize::try_from(end).unwrap(), 20_000, &[]);
    assert_eq!(got.len() as i64, end, "console consumer read the whole new topic");
    let mut in_new: HashMap<&str, i64> = HashMap::new();
    for c in &got {
        assert!(in_new.insert(c.value.as_str(), c.offset).is_none(), "{} twice in the new topic", c.value);
        assert_eq!(
            ok.get(&c.value),
            Some(&c.offset),
            "{} is in the new topic where it was acknowledged",
            c.value
        );
    }
    assert!(late.len() > 100, "records were sent after the recreation ({})", late.len());
    for v in &late {
        assert!(in_new.contains_key(v.as_str()), "{v} (sent after the recreation) is not in the new topic");
    }
    eprintln!(
        "sent {} (before the delete {before_delete}); acknowledged {}, of them in the new topic {}; failed {failed_during}: {errors:?}; recreated by {}",
        total,
        ok.len(),
        in_new.len(),
        if auto_created { "the producer's metadata request (auto-creation)" } else { "the test" }
    );

    let lines = CAPTURE.0.lock().unwrap().clone();
    let under = |id: &str| {
        lines.iter().any(|l| l.starts_with("Produce v13 ") && l.contains(&format!("{topic}={id}")))
    };
    if v13 {
        assert!(under(&old_id), "Produce v13 under the old topic id {old_id}");
        assert!(under(&new_id), "Produce v13 under the new topic id {new_id}");
    } else {
        assert!(lines.iter().all(|l| !l.starts_with("Produce v13 ")), "no Produce v13 before Kafka 4.1");
    }
}
