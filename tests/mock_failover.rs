//! The mock's lossy failover (`MockClusterBuilder::lossy_failover`): what acks=1 acknowledged from the
//! leader alone is gone after the leader fails over; acks=all never loses a record.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::WaitOutcome;
use kprod::mock::MockCluster;
use kprod::{Producer, ProducerConfig, Record};

fn send_values(cluster: &MockCluster, acks: &str, values: std::ops::Range<u32>) {
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", cluster.bootstrap_servers()),
        ("acks", acks.to_string()),
        ("enable.idempotence", "false".to_string()),
        ("linger.ms", "0".to_string()),
    ])
    .unwrap();
    let p = Producer::new(config).unwrap();
    for v in values {
        let f = p.send(Record::new("t").partition(0).value(v.to_be_bytes().to_vec())).unwrap();
        f.outcome().unwrap();
    }
}

fn stored(cluster: &MockCluster) -> Vec<u32> {
    cluster
        .partition_records("t", 0)
        .iter()
        .map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
        .collect()
}

#[test]
fn a_failover_drops_what_only_the_leader_had() {
    let cluster = MockCluster::builder().brokers(2).lossy_failover(true).build().unwrap();
    cluster.create_topic("t", 1, 2).unwrap();
    send_values(&cluster, "1", 0..5);
    cluster.replicate();
    send_values(&cluster, "1", 5..8);
    let leader = cluster.leader("t", 0).unwrap();
    cluster.broker_down(leader).unwrap();
    assert_ne!(cluster.leader("t", 0), Some(leader), "the other replica leads");
    assert_eq!(stored(&cluster), vec![0, 1, 2, 3, 4], "the unreplicated tail is gone");
    let lost: Vec<u32> = cluster
        .lost_in_failover()
        .iter()
        .map(|(t, p, r)| {
            assert_eq!((t.as_str(), *p), ("t", 0));
            u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap())
        })
        .collect();
    assert_eq!(lost, vec![5, 6, 7]);
    assert_eq!(cluster.log_end_offset("t", 0), Some(5), "offsets are handed out again from the watermark");
}

#[test]
fn acks_all_survives_a_failover() {
    let cluster = MockCluster::builder().brokers(2).lossy_failover(true).build().unwrap();
    cluster.create_topic("t", 1, 2).unwrap();
    send_values(&cluster, "all", 0..6);
    cluster.broker_down(cluster.leader("t", 0).unwrap()).unwrap();
    assert_eq!(stored(&cluster), (0..6).collect::<Vec<_>>());
    assert!(cluster.lost_in_failover().is_empty());
}

#[test]
fn without_lossy_failover_nothing_is_lost() {
    let cluster = MockCluster::builder().brokers(2).build().unwrap();
    cluster.create_topic("t", 1, 2).unwrap();
    send_values(&cluster, "1", 0..4);
    cluster.broker_down(cluster.leader("t", 0).unwrap()).unwrap();
    assert_eq!(stored(&cluster), vec![0, 1, 2, 3]);
}
