//! The test bed itself, on the real 3-broker cluster: produce with Kafka's ProducerPerformance, read back
//! with the console consumer, kill the partition leader (kill -9), and check that leadership moves and
//! nothing is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

fn leader(cluster: &str, topic: &str) -> i32 {
    kafka_stdout(&["leader", "--name", cluster, topic, "0"]).trim().parse().unwrap()
}

#[test]
fn three_brokers_survive_leader_kill() {
    bootstrap("KAFKA_BOOTSTRAP_3");
    let cluster = cluster_name("KPROD_KAFKA_NAME_3");
    let topic = unique_topic("testbed");
    create_topic(&cluster, &topic, 1, 3);

    let perf = kafka_stdout(&[
        "perf",
        "--name",
        &cluster,
        "--topic",
        &topic,
        "--num-records",
        "1000",
        "--record-size",
        "100",
        "--throughput",
        "-1",
        "--producer-props",
        "acks=all",
    ]);
    assert!(perf.contains("1000 records sent"), "ProducerPerformance output: {perf}");

    let before = consume(&cluster, &topic, 1000, 30_000, &[]);
    assert_eq!(before.len(), 1000, "records read back before the kill");

    let old = leader(&cluster, &topic);
    assert!(old > 0, "partition 0 has a leader");
    kafka(&["kill", "--name", &cluster, &old.to_string()]);
    let _restart = RestartOnDrop { cluster: &cluster, node: old.to_string() };

    // With kill -9 the controller fences the node after broker.session.timeout.ms (9 s by default).
    let deadline = Instant::now() + Duration::from_secs(60);
    let new = loop {
        let l = leader(&cluster, &topic);
        if l > 0 && l != old {
            break l;
        }
        assert!(Instant::now() < deadline, "leadership did not move from node {old}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_ne!(new, old);

    let after = consume(&cluster, &topic, 1000, 30_000, &[]);
    assert_eq!(after.len(), 1000, "records readable after the leader was killed");
    assert_eq!(after, before, "same records, same offsets, after failover");
}

#[test]
fn unreachable_broker_fails_the_test() {
    // The reachability check that every integration test runs must fail loudly for a dead address.
    let r = std::panic::catch_unwind(|| check_reachable("127.0.0.1:1"));
    assert!(r.is_err(), "an unreachable broker must fail the test");
}

#[test]
fn missing_bootstrap_variable_fails_the_test() {
    let r = std::panic::catch_unwind(|| bootstrap("KPROD_TEST_VARIABLE_THAT_IS_NEVER_SET"));
    assert!(r.is_err(), "a missing broker address must fail, not skip");
}
