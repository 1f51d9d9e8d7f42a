//! kprod's producer against real Apache Kafka (the brokers `scripts/test` starts), checked with Kafka's
//! own console consumer: every codec byte-exact over 100,000 records, acks=all on three brokers with
//! the partition leader killed mid-stream, and an unreachable cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use kprod::{Error, Producer, ProducerConfig, Record};

fn base_ts() -> i64 {
    recent_base_ts()
}
const RECORDS: usize = 100_000;

/// Serializes the tests that use the 3-broker cluster (one kills a broker).
static THREE_BROKERS: Mutex<()> = Mutex::new(());

fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> Producer {
    let mut props = vec![("bootstrap.servers", bootstrap.to_string())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Producer::new(ProducerConfig::from_properties(props).unwrap()).unwrap()
}

/// Record `i`: null keys every 10th (at 3), null values every 10th (at 7), two headers (one null) every
/// 5th, explicit timestamps.
type TestRecord = (Option<String>, Option<String>, Vec<(String, Option<String>)>, i64);

fn record(i: usize) -> TestRecord {
    let key = (i % 10 != 3).then(|| format!("key-{i}"));
    let value = (i % 10 != 7).then(|| format!("value {i} {}", "abcdefgh".repeat(i % 9)));
    let headers = if i % 5 == 0 {
        vec![("trace".to_string(), Some(format!("t{i}"))), ("empty".to_string(), None)]
    } else {
        vec![]
    };
    (key, value, headers, base_ts() + i as i64)
}

fn printed_headers(headers: &[(String, Option<String>)]) -> String {
    if headers.is_empty() {
        return "NO_HEADERS".into();
    }
    headers
        .iter()
        .map(|(k, v)| format!("{k}:{}", v.as_deref().unwrap_or("null")))
        .collect::<Vec<_>>()
        .join(",")
}

fn roundtrip_codec(codec: &str) {
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP");
    let cluster = cluster_name("KPROD_KAFKA_NAME_1");
    let topic = unique_topic(&format!("codec-{codec}"));
    create_topic(&cluster, &topic, 3, 1);
    let p =
        producer(&bootstrap, &[("compression.type", codec), ("linger.ms", "20"), ("batch.size", "65536")]);
    let mut sent: Vec<(i32, i64)> = Vec::with_capacity(RECORDS);
    let mut futures = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let (key, value, headers, ts) = record(i);
        let mut r = Record::new(topic.as_str()).timestamp(ts);
        r.key = key.map(|k| k.into_bytes().into());
        r.value = value.map(|v| v.into_bytes().into());
        for (k, v) in headers {
            r = r.header(k, v.map(String::into_bytes));
        }
        futures.push(p.send(r).unwrap());
    }
    p.flush(Duration::from_secs(60)).unwrap();
    for f in futures {
        let m = f.outcome().unwrap();
        sent.push((m.topic_partition.partition, m.offset));
    }
    p.close(Duration::from_secs(10)).unwrap();

    let got = consume(&cluster, &topic, RECORDS, 120_000, &[]);
    assert_eq!(got.len(), RECORDS, "{codec}: console consumer read {} of {RECORDS}", got.len());
    let by_position: HashMap<(i32, i64), &Consumed> =
        got.iter().map(|c| ((c.partition, c.offset), c)).collect();
    for (i, pos) in sent.iter().enumerate() {
        let (key, value, headers, ts) = record(i);
        let c = by_position.get(pos).unwrap_or_else(|| panic!("{codec}: record {i} not at {pos:?}"));
        assert_eq!(c.timestamp, format!("CreateTime:{ts}"), "{codec} record {i}");
        assert_eq!(c.key, key.unwrap_or_else(|| "null".into()), "{codec} record {i}");
        assert_eq!(c.value, value.unwrap_or_else(|| "null".into()), "{codec} record {i}");
        assert_eq!(c.headers, printed_headers(&headers), "{codec} record {i}");
    }
}

#[test]
fn codec_none_100k_read_back_by_kafka() {
    roundtrip_codec("none");
}

#[test]
fn codec_gzip_100k_read_back_by_kafka() {
    roundtrip_codec("gzip");
}

#[test]
fn codec_snappy_100k_read_back_by_kafka() {
    roundtrip_codec("snappy");
}

#[test]
fn codec_lz4_100k_read_back_by_kafka() {
    roundtrip_codec("lz4");
}

#[test]
fn codec_zstd_100k_read_back_by_kafka() {
    roundtrip_codec("zstd");
}

#[test]
fn acks_all_survives_leader_kill_without_loss_or_reordering() {
    let _serial = THREE_BROKERS.lock().unwrap_or_else(|e| e.into_inner());
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_3");
    let cluster = cluster_name("KPROD_KAFKA_NAME_3");
    let topic = unique_topic("leader-kill");
    create_topic(&cluster, &topic, 1, 3);
    // Ordering without idempotence needs one request in flight (as in Java).
    let p = Arc::new(producer(
        &bootstrap,
        &[
            ("acks", "all"),
            ("max.in.flight.requests.per.connection", "1"),
            ("linger.ms", "5"),
            ("batch.size", "4096"),
        ],
    ));
    let total = 30_000usize;
    let failures = Arc::new(AtomicUsize::new(0));
    let sender = {
        let p = Arc::clone(&p);
        let topic = topic.clone();
        let failures = Arc::clone(&failures);
        std::thread::spawn(move || {
            for i in 0..total {
                let failures = Arc::clone(&failures);
                p.send_with(Record::new(topic.as_str()).value(format!("{i:08}").into_bytes()), move |r| {
                    if let Err(e) = r {
                        eprintln!("record {i} failed: {e}");
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                })
                .unwrap();
                if i % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
    };
    // Kill the leader while records are flowing.
    std::thread::sleep(Duration::from_millis(800));
    let old: i32 = kafka_stdout(&["leader", "--name", &cluster, &topic, "0"]).trim().parse().unwrap();
    kafka(&["kill", "--name", &cluster, &old.to_string()]);
    let _restart = RestartOnDrop { cluster: &cluster, node: old.to_string() };
    sender.join().unwrap();
    p.flush(Duration::from_secs(120)).unwrap();
    assert_eq!(failures.load(Ordering::SeqCst), 0, "no record failed");

    // Reads until 8 s pass without a record, so duplicates beyond `total` are read too.
    let got = consume(&cluster, &topic, total + 1000, 8_000, &[]);
    let values: Vec<usize> = got.iter().map(|c| c.value.parse().unwrap()).collect();
    let mut seen = vec![false; total];
    let mut duplicates = 0;
    let mut max_seen = None::<usize>;
    for &v in &values {
        if seen[v] {
            duplicates += 1;
        } else {
            // Order: a record first appears only after every earlier record first appeared.
            assert_eq!(
                Some(v),
                max_seen.map_or(Some(0), |m| Some(m + 1)),
                "first copies out of order at {v}"
            );
            max_seen = Some(v);
        }
        seen[v] = true;
    }
    assert!(seen.iter().all(|&s| s), "every record is in the log");
    eprintln!("leader {old} killed: {total} records, {duplicates} duplicates (allowed until idempotence)");
}

#[test]
fn unreachable_cluster_blocks_then_hands_the_record_back() {
    // A port nothing listens on: metadata never arrives.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let p = producer(&addr, &[("max.block.ms", "500")]);
    let t = Instant::now();
    let e = p.send(Record::new("nowhere").value(&b"payload"[..])).unwrap_err();
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(490) && waited < Duration::from_secs(5), "{waited:?}");
    assert!(matches!(e.error(), Error::UnknownTopicOrPartition { .. }), "{}", e.error());
    assert_eq!(e.into_record().value.as_deref(), Some(&b"payload"[..]));
}

#[test]
fn broker_down_expires_queued_records_within_buffer_memory() {
    let _serial = THREE_BROKERS.lock().unwrap_or_else(|e| e.into_inner());
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_3");
    let cluster = cluster_name("KPROD_KAFKA_NAME_3");
    let topic = unique_topic("broker-down");
    // One replica: when its broker dies the partition has no leader at all.
    create_topic(&cluster, &topic, 1, 1);
    let buffer = 256 * 1024;
    let p = producer(
        &bootstrap,
        &[
            ("buffer.memory", &buffer.to_string()),
            ("batch.size", "16384"),
            ("delivery.timeout.ms", "4000"),
            ("request.timeout.ms", "2000"),
            ("max.block.ms", "300"),
        ],
    );
    p.send(Record::new(topic.as_str()).value(&b"before"[..])).unwrap().outcome().unwrap();
    let node: i32 = kafka_stdout(&["leader", "--name", &cluster, &topic, "0"]).trim().parse().unwrap();
    kafka(&["kill", "--name", &cluster, &node.to_string()]);
    let _restart = RestartOnDrop { cluster: &cluster, node: node.to_string() };

    let outcomes = Arc::new(AtomicUsize::new(0));
    let (mut accepted, mut refused) = (0usize, 0usize);
    let t = Instant::now();
    while refused < 3 && t.elapsed() < Duration::from_secs(20) {
        let outcomes = Arc::clone(&outcomes);
        let r = Record::new(topic.as_str()).value(vec![b'x'; 500]);
        match p.send_with(r, move |r| {
            assert!(r.is_err(), "nothing can be delivered");
            outcomes.fetch_add(1, Ordering::SeqCst);
        }) {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert!(matches!(e.error(), Error::BufferExhausted { .. }), "{}", e.error());
                assert_eq!(e.into_record().value.map(|v| v.len()), Some(500), "record handed back");
                refused += 1;
            }
        }
    }
    assert!(refused >= 3, "send blocked and timed out once buffer.memory was full");
    // Queued records can never exceed buffer.memory.
    assert!(accepted * 500 <= buffer, "{accepted} records of 500 B queued in {buffer} B");
    p.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(outcomes.load(Ordering::SeqCst), accepted, "delivery.timeout.ms reported every queued record");
}

/// Issue 6: exactly once through leader failures. 1,000,000 keyed records over 6 partitions (RF 3,
/// min.insync.replicas=2, acks=all, idempotence on by default) while the leader of one partition after
/// another is killed with -9 and restarted, five times; Kafka's console consumer must then find every
/// record exactly once, in per-partition order.
#[test]
fn idempotent_exactly_once_through_five_leader_kills() {
    let _serial = THREE_BROKERS.lock().unwrap_or_else(|e| e.into_inner());
    let bootstrap = bootstrap("KAFKA_BOOTSTRAP_3");
    let cluster = cluster_name("KPROD_KAFKA_NAME_3");
    let topic = unique_topic("exactly-once");
    kafka(&[
        "topics",
        "--name",
        &cluster,
        "--create",
        "--topic",
        &topic,
        "--partitions",
        "6",
        "--replication-factor",
        "3",
        "--config",
        "min.insync.replicas=2",
    ]);
    let total = 1_000_000usize;
    let p = Arc::new(producer(&bootstrap, &[("linger.ms", "10"), ("batch.size", "32768")]));
    assert!(p.config().enable_idempotence());
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let (p, topic, failures, done) =
            (Arc::clone(&p), topic.clone(), Arc::clone(&failures), Arc::clone(&done));
        std::thread::spawn(move || {
            let start = Instant::now();
            for i in 0..total {
                // About 25,000 records/s, so the kills happen while records flow.
                if i % 5000 == 0 {
                    let due = Duration::from_millis((i / 25) as u64);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                let failures = Arc::clone(&failures);
                let r = Record::new(topic.as_str())
                    .key(format!("key-{i}").into_bytes())
                    .value(format!("{i}").into_bytes());
                p.send_with(r, move |r| {
                    if let Err(e) = r {
                        eprintln!("record {i} failed: {e}");
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                })
                .unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut kills = 0;
    for round in 0..5 {
        std::thread::sleep(Duration::from_secs(2));
        let part = (round % 6).to_string();
        let node: i32 = kafka_stdout(&["leader", "--name", &cluster, &topic, &part]).trim().parse().unwrap();
        if node <= 0 {
            continue;
        }
        kafka(&["kill", "--name", &cluster, &node.to_string()]);
        kills += 1;
        let restart = RestartOnDrop { cluster: &cluster, node: node.to_string() };
        std::thread::sleep(Duration::from_secs(3));
        drop(restart);
    }
    sender.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    p.flush(Duration::from_secs(300)).unwrap();
    assert_eq!(failures.load(Ordering::SeqCst), 0, "no record failed");
    assert!(kills >= 5, "killed {kills} leaders");

    let got = consume(&cluster, &topic, total + 1, 15_000, &[]);
    let mut seen = vec![0u8; total];
    let mut last: HashMap<i32, usize> = HashMap::new();
    for c in &got {
        let i: usize = c.value.parse().unwrap();
        assert_eq!(c.key, format!("key-{i}"));
        seen[i] = seen[i].saturating_add(1);
        if let Some(prev) = last.insert(c.partition, i) {
            assert!(i > prev, "partition {}: {i} after {prev}", c.partition);
        }
    }
    let once = seen.iter().filter(|&&n| n == 1).count();
    let missing = seen.iter().filter(|&&n| n == 0).count();
    let duplicated = seen.iter().filter(|&&n| n > 1).count();
    eprintln!(
        "exactly-once: {kills} leader kills, {} records read, {once} exactly once, {missing} missing, {duplicated} duplicated",
        got.len()
    );
    assert_eq!((once, missing, duplicated), (total, 0, 0));
}
