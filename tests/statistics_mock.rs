//! `on_statistics` (librdkafka's `stats_cb`): the JSON parses, follows librdkafka's producer schema,
//! and its counts match a workload with known answers.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use kprod::{Producer, ProducerConfig, Record};
use serde_json::Value;

#[test]
fn statistics_json_counts_match_the_workload() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("stats", 3, 1).unwrap();
    let docs: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&docs);
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", cluster.bootstrap_servers().as_str()),
        ("statistics.interval.ms", "100"),
        ("client.id", "stats-test"),
    ])
    .unwrap();
    let p = Producer::builder(config)
        .on_statistics(move |json| {
            assert_eq!(std::thread::current().name(), Some("kprod-callbacks"));
            sink.lock().unwrap().push(json.to_owned());
        })
        .build()
        .unwrap();
    let n = 5000u64;
    for i in 0..n {
        p.send(Record::new("stats").key(format!("k{i}").into_bytes()).value(&b"0123456789"[..])).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    // A document taken after the flush has every record sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    let doc: Value = loop {
        let last = docs.lock().unwrap().last().cloned();
        if let Some(text) = last {
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
            if v["txmsgs"].as_u64() == Some(n) && v["msg_cnt"].as_u64() == Some(0) {
                break v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no statistics with txmsgs = {n}: {:?}",
            docs.lock().unwrap().last()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(doc["type"], "producer");
    assert_eq!(doc["client_id"], "stats-test");
    for key in [
        "ts",
        "time",
        "age",
        "msg_size",
        "msg_max",
        "msg_size_max",
        "tx",
        "tx_bytes",
        "rx",
        "rx_bytes",
        "txmsg_bytes",
    ] {
        assert!(doc[key].is_u64(), "{key} in {doc}");
    }
    assert!(doc["tx"].as_u64().unwrap() >= 2 && doc["rx"].as_u64().unwrap() >= 2);
    // The broker that took the records: up, idle, with its Produce requests counted.
    let brokers = doc["brokers"].as_object().unwrap();
    let up: Vec<&Value> =
        brokers.values().filter(|b| b["state"] == "UP" && b["nodeid"].as_i64().unwrap() >= 0).collect();
    assert_eq!(up.len(), 1, "{brokers:?}");
    let b = up[0];
    assert_eq!(b["outbuf_cnt"], 0);
    assert_eq!(b["waitresp_cnt"], 0);
    assert!(b["req"]["Produce"].as_u64().unwrap() >= 1);
    for w in ["int_latency", "outbuf_latency", "rtt", "throttle"] {
        for f in ["min", "max", "avg", "sum", "cnt"] {
            assert!(b[w][f].is_number(), "{w}.{f} in {b}");
        }
    }
    assert!(b["rtt"]["cnt"].as_u64().unwrap() >= 1);
    // The topic: records sent per partition add up; nothing queued.
    let t = &doc["topics"]["stats"];
    let parts = t["partitions"].as_object().unwrap();
    assert_eq!(parts.len(), 3);
    let sent: u64 = parts.values().map(|p| p["txmsgs"].as_u64().unwrap()).sum();
    assert_eq!(sent, n);
    assert!(parts.values().all(|p| p["msgq_cnt"] == 0 && p["leader"].as_i64().unwrap() >= 0));
    assert!(t["batchcnt"]["cnt"].as_u64().unwrap() >= 3, "{t}");
    assert!(t["batchsize"]["avg"].as_f64().unwrap() > 0.0);
    // Idempotence is on by default: a producer id and epoch were assigned.
    assert_eq!(doc["eos"]["idemp_state"], "Ready");
    assert!(doc["eos"]["producer_id"].as_i64().unwrap() >= 0);
    assert_eq!(doc["eos"]["txn_state"], "Init");
    drop(p);
}

#[test]
fn no_statistics_without_an_interval() {
    let cluster = MockCluster::new(1).unwrap();
    let docs: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&docs);
    let config =
        ProducerConfig::from_properties([("bootstrap.servers", cluster.bootstrap_servers().as_str())])
            .unwrap();
    let p = Producer::builder(config)
        .on_statistics(move |j| sink.lock().unwrap().push(j.to_owned()))
        .build()
        .unwrap();
    p.send(Record::new("quiet").value(&b"x"[..]))
        .unwrap()
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(docs.lock().unwrap().is_empty());
}
