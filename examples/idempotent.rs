//! The idempotent producer (on by default): every record is written exactly once per partition and in
//! order, even when requests are retried.
//!
//! ```sh
//! cargo run --features mock --example idempotent                                   # embedded mock
//! cargo run --features mock --example idempotent -- --bootstrap-server HOST:PORT   # a real broker
//! ```
//!
//! With the mock, the example also loses one acknowledgement on purpose (the broker stores the batch,
//! the connection drops before the answer) and shows that the retry is not written twice.

use std::time::Duration;

use kprod::mock::MockCluster;
use kprod::ApiKey;
use kprod::{Producer, ProducerConfig, Record};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bootstrap =
        args.iter().position(|a| a == "--bootstrap-server").and_then(|i| args.get(i + 1)).cloned();
    let topic = "idempotent-example";
    let mock = match &bootstrap {
        Some(_) => None,
        None => {
            let m = MockCluster::new(1)?;
            m.create_topic(topic, 3, 1)?;
            Some(m)
        }
    };
    let servers =
        bootstrap.clone().or_else(|| mock.as_ref().map(MockCluster::bootstrap_servers)).unwrap_or_default();
    // acks=all and enable.idempotence=true are the defaults; shown here for the reader.
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", servers.as_str()),
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("max.in.flight.requests.per.connection", "5"),
    ])?;
    let producer = Producer::new(config)?;

    if let Some(m) = &mock {
        m.drop_after_processing(ApiKey::PRODUCE, None, 1);
        println!("mock: the first Produce request will be stored but its answer lost");
    }
    let mut futures = Vec::new();
    for i in 0..1000u32 {
        let record = Record::new(topic)
            .key(format!("user-{}", i % 10).into_bytes())
            .value(format!("event {i}").into_bytes());
        futures.push(producer.send(record).map_err(|e| e.into_parts().0)?);
    }
    producer.flush(Duration::from_secs(30))?;
    let mut last = Vec::new();
    for f in futures {
        last.push(f.wait()?);
    }
    println!("1000 records acknowledged; last: {:?}", last.last().map(|m| (&m.topic_partition, m.offset)));
    if let Some(m) = &mock {
        let stored: usize = (0..3).map(|p| m.partition_records(topic, p).len()).sum();
        println!("the mock's logs hold {stored} records: the retried batch was not duplicated");
        m.check_invariants()?;
    }
    producer.close(Duration::from_secs(10))?;
    Ok(())
}
