//! `client.dns.lookup` against a real Kafka, with a host name that resolves to several addresses.
//!
//! `KPROD_MULTI_HOST` names a host that resolves to 127.0.0.1 and 127.0.0.3 (scripts/test adds the two
//! `/etc/hosts` lines, and 127.0.0.3 is listed first so that its reverse lookup gives that name). A
//! forwarder to the broker listens on one of the name's addresses only, on a port nothing else uses:
//!
//! - `use_all_dns_ips`: bootstrapping through the name works although the resolver's first address
//!   refuses the connection (the producer moves on to the next address);
//! - `resolve_canonical_bootstrap_servers_only`: a bootstrap address that refuses works, because its
//!   canonical host name (reverse lookup) resolves to the forwarder's address too; with
//!   `use_all_dns_ips` the same bootstrap address times out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::forward::Forwarder;
use common::ledger::{Expect, Ledger};
use kprod::{Error, Producer, ProducerConfig, Record};

fn multi_host() -> (String, Vec<SocketAddr>) {
    let Ok(name) = std::env::var("KPROD_MULTI_HOST") else {
        panic!("KPROD_MULTI_HOST is not set: scripts/test sets it (and the /etc/hosts lines it needs)");
    };
    let addrs: Vec<SocketAddr> = (name.as_str(), 1).to_socket_addrs().unwrap().collect();
    let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    assert!(
        ips.contains(&"127.0.0.1".into()) && ips.contains(&"127.0.0.3".into()),
        "{name} must resolve to 127.0.0.1 and 127.0.0.3, resolves to {ips:?}"
    );
    (name, addrs)
}

fn refuses(addr: &str) -> bool {
    TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2)).is_err()
}

fn producer(bootstrap: &str, lookup: &str, delivery_timeout_ms: &str) -> Producer {
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap),
        ("client.dns.lookup", lookup),
        ("delivery.timeout.ms", delivery_timeout_ms),
        ("request.timeout.ms", "5000"),
        ("max.block.ms", delivery_timeout_ms),
    ])
    .unwrap();
    Producer::builder(config).build().unwrap()
}

#[test]
fn use_all_dns_ips_moves_past_an_address_that_refuses() {
    common::log_to_stderr_if_asked();
    let broker = common::bootstrap("KAFKA_BOOTSTRAP");
    let cluster = common::cluster_name("KPROD_KAFKA_NAME_1");
    let (name, addrs) = multi_host();
    // Listen on the resolver's last address; every earlier one must refuse on that port.
    let last = addrs.last().unwrap().ip();
    let lb = Forwarder::start_on(&format!("{last}:0"), broker.split(',').next().unwrap());
    let port = lb.address.rsplit(':').next().unwrap().to_string();
    for a in &addrs[..addrs.len() - 1] {
        assert!(refuses(&format!("{}:{port}", a.ip())), "{}:{port} must refuse for this test", a.ip());
    }
    let topic = common::unique_topic("dns");
    common::create_topic(&cluster, &topic, 1, 1);
    let p = producer(&format!("{name}:{port}"), "use_all_dns_ips", "30000");
    let ledger = Ledger::new();
    ledger.send_n(&p, &topic, None, 100);
    let report = ledger.check(Some(&p), Expect::exactly_once_in_order(), Duration::from_secs(60));
    assert_eq!(report.acked, 100);
    assert!(lb.accepted.load(Ordering::SeqCst) >= 1, "bootstrapped through the name's last address");
    assert_eq!(common::consume(&cluster, &topic, 100, 30_000, &[]).len(), 100);
}

#[test]
fn canonical_bootstrap_resolves_the_reverse_name() {
    common::log_to_stderr_if_asked();
    let broker = common::bootstrap("KAFKA_BOOTSTRAP");
    let cluster = common::cluster_name("KPROD_KAFKA_NAME_1");
    let (_name, _) = multi_host();
    // The forwarder on 127.0.0.1; 127.0.0.3 (whose canonical name resolves to both) refuses.
    let lb = Forwarder::start_on("127.0.0.1:0", broker.split(',').next().unwrap());
    let port = lb.address.rsplit(':').next().unwrap().to_string();
    let bootstrap = format!("127.0.0.3:{port}");
    assert!(refuses(&bootstrap), "{bootstrap} must refuse for this test");
    let topic = common::unique_topic("dns-canonical");
    common::create_topic(&cluster, &topic, 1, 1);

    let canonical = producer(&bootstrap, "resolve_canonical_bootstrap_servers_only", "30000");
    let ledger = Ledger::new();
    ledger.send_n(&canonical, &topic, None, 50);
    let report = ledger.check(Some(&canonical), Expect::exactly_once_in_order(), Duration::from_secs(60));
    assert_eq!(report.acked, 50);

    // The same address without the canonical step never reaches a broker.
    let plain = producer(&bootstrap, "use_all_dns_ips", "8000");
    match plain.send(Record::new(&*topic).value(b"x".as_slice())) {
        Err(e) => assert!(
            matches!(e.error(), Error::UnknownTopicOrPartition { .. } | Error::Timeout(_)),
            "{}",
            e.error()
        ),
        Ok(f) => panic!("sent through a refusing address: {:?}", f.wait_timeout(Duration::from_secs(30))),
    }
    assert_eq!(common::consume(&cluster, &topic, 50, 30_000, &[]).len(), 50);
}
