//! The producer against the in-process mock cluster: delivery, ordering, retries on each retriable
//! error, lost responses, throttling, MESSAGE_TOO_LARGE splits, acks=0, flush/close and Drop.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kprod::mock::MockCluster;
use kprod::{Producer, ProducerConfig, Record};

fn config(cluster: &MockCluster, extra: &[(&str, &str)]) -> ProducerConfig {
    let mut props = vec![("bootstrap.servers", cluster.bootstrap_servers()), ("linger.ms", "5".into())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    ProducerConfig::from_properties(props).unwrap()
}

fn values(cluster: &MockCluster, topic: &str, partition: i32) -> Vec<Vec<u8>> {
    cluster
        .partition_records(topic, partition)
        .into_iter()
        .map(|r| r.value.map(|v| v.to_vec()).unwrap_or_default())
        .collect()
}

#[test]
fn sends_and_reports_offsets() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 3, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let mut futures = Vec::new();
    for i in 0..1000u32 {
        let v = i.to_be_bytes();
        futures.push(p.send(Record::new("t").partition((i % 3) as i32).value(v.to_vec())).unwrap());
    }
    for (i, f) in futures.into_iter().enumerate() {
        let m = f.wait().unwrap();
        assert_eq!(m.topic_partition.partition, (i % 3) as i32);
        assert_eq!(m.offset, (i / 3) as i64);
    }
    for part in 0..3 {
        let got = values(&cluster, "t", part);
        let want: Vec<Vec<u8>> =
            (0..1000u32).filter(|i| i % 3 == part as u32).map(|i| i.to_be_bytes().to_vec()).collect();
        assert_eq!(got, want);
    }
    p.close(Duration::from_secs(5)).unwrap();
}
