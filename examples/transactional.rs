//! A read-process-write loop with exactly-once semantics: each batch of input records is processed,
//! the results are produced, and the input offsets are committed *inside the same transaction*, so a
//! crash never loses or duplicates a result.
//!
//! kprod has no consumer; the caller brings one (here a stand-in that hands out numbered records) and
//! passes its group metadata to [`Producer::send_offsets_to_transaction`] (KIP-447).
//!
//! ```sh
//! cargo run --features mock --example transactional                                   # embedded mock
//! cargo run --features mock --example transactional -- --bootstrap-server HOST:PORT   # a real broker
//! ```

use std::time::Duration;

use kprod::mock::MockCluster;
use kprod::{ConsumerGroupMetadata, OffsetAndMetadata};
use kprod::{Producer, ProducerConfig, Record, TopicPartition};

/// Stand-in for a consumer of `input-0`: returns up to `n` records from `position` as (offset, value).
fn poll(position: i64, n: i64) -> Vec<(i64, String)> {
    (position..(position + n).min(95)).map(|o| (o, format!("order {o}"))).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bootstrap =
        args.iter().position(|a| a == "--bootstrap-server").and_then(|i| args.get(i + 1)).cloned();
    let mock = match &bootstrap {
        Some(_) => None,
        None => {
            let m = MockCluster::new(3)?;
            m.create_topic("input", 1, 3)?;
            m.create_topic("output", 3, 3)?;
            Some(m)
        }
    };
    let servers =
        bootstrap.clone().or_else(|| mock.as_ref().map(MockCluster::bootstrap_servers)).unwrap_or_default();
    let producer = Producer::new(ProducerConfig::from_properties([
        ("bootstrap.servers", servers.as_str()),
        ("transactional.id", "orders-processor-0"),
    ])?)?;
    let timeout = Duration::from_secs(60);
    // Fences any older instance with the same transactional.id and settles what it left open.
    producer.init_transactions(timeout)?;
    println!("transaction protocol v{}", producer.transaction_protocol_version().unwrap_or(0));

    let group = ConsumerGroupMetadata::new("orders-processor");
    let input = TopicPartition::new("input", 0);
    let mut position = 0i64;
    let mut transactions = 0;
    loop {
        let records = poll(position, 20);
        let Some(&(last, _)) = records.last() else { break };
        producer.begin_transaction()?;
        for (offset, value) in &records {
            let result = value.to_uppercase();
            let record =
                Record::new("output").key(offset.to_string().into_bytes()).value(result.into_bytes());
            producer.send(record).map_err(|e| e.into_parts().0)?;
        }
        let offsets =
            [OffsetAndMetadata { topic_partition: input.clone(), offset: last + 1, metadata: None }];
        producer.send_offsets_to_transaction(&offsets, &group, timeout)?;
        match producer.commit_transaction(timeout) {
            Ok(()) => {
                position = last + 1;
                transactions += 1;
            }
            Err(e) if !e.is_fatal() => {
                // Abortable: roll back, re-read from the last committed position and try again.
                eprintln!("transaction failed ({e}); aborting and retrying");
                producer.abort_transaction(timeout)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!("{transactions} transactions committed; input position {position}");
    if let Some(m) = &mock {
        let committed: usize = (0..3).map(|p| m.read_committed("output", p).len()).sum();
        println!(
            "read_committed sees {committed} results; group offsets {:?}",
            m.committed_offsets("orders-processor")
        );
    }
    producer.close(timeout)?;
    Ok(())
}
