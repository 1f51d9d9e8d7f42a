//! # kprod
//!
//! A synchronous, thread-based Apache Kafka producer in pure Rust, for programs without an async
//! runtime: Java's configuration names, defaults, partitioning and guarantees, no librdkafka.
//!
//! Application threads call [`Producer::send`]; each record is partitioned and encoded straight into
//! the open batch of its partition (memory bounded by `buffer.memory`); one sender thread drives the
//! broker sockets; delivery callbacks run on a callback thread, never on the I/O thread.
//!
//! ```
//! # #[cfg(not(feature = "mock"))] fn main() {}
//! # #[cfg(feature = "mock")]
//! # fn main() -> Result<(), kprod::Error> {
//! use std::time::Duration;
//! use kprod::{Producer, ProducerConfig, Record};
//!
//! # let cluster = kprod::mock::MockCluster::new(1)?;
//! # let bootstrap = cluster.bootstrap_servers();
//! // Java's property names and defaults (idempotence on, acks=all).
//! let config = ProducerConfig::from_properties([
//!     ("bootstrap.servers", bootstrap.as_str()),
//!     ("linger.ms", "5"),
//!     ("compression.type", "lz4"),
//! ])?;
//! let producer = Producer::new(config)?;
//!
//! // Send and wait for the outcome.
//! let sent = producer.send(Record::new("orders").key(&b"order-1"[..]).value(&b"{\"qty\":2}"[..]))?;
//! let meta = sent.wait_timeout(Duration::from_secs(30)).expect("an outcome")?;
//! println!("written to {} at offset {}", meta.topic_partition, meta.offset);
//!
//! // Or get the outcome in a callback (on the callback thread).
//! producer.send_with(Record::new("orders").value(&b"{\"qty\":1}"[..]), |outcome| match outcome {
//!     Ok(m) => println!("offset {}", m.offset),
//!     Err(e) => eprintln!("not written: {e}"),
//! })?;
//!
//! // A refused record comes back with the reason.
//! if let Err(refused) = producer.send(Record::new("bad topic name")) {
//!     eprintln!("{}; record handed back: {:?}", refused.error(), refused.record.topic);
//! }
//!
//! producer.flush(Duration::from_secs(30))?; // every record sent, every callback run
//! producer.close(Duration::from_secs(30))?; // or drop it: Drop closes too
//! # Ok(())
//! # }
//! ```
//!
//! More in `examples/`: `perf` (throughput, as kafka-producer-perf-test), `idempotent`,
//! `transactional` (read-process-write with offsets), `mock-cluster` (the in-process cluster for tests).
//! What is promised, and the test behind each promise: `docs/guarantees.md`.
//!
//! The in-process mock cluster for tests is `kprod::mock` (feature `mock`). The codec, batches and buffer
//! pool are internal; benchmarks and fuzz targets reach them through the explicitly unstable feature
//! `unstable`, which makes no compatibility promise. The sender and the transaction machinery cannot be
//! named at all:
//!
//! ```compile_fail
//! use kprod::sender::SenderShared; // crate-private
//! ```
//!
//! ```compile_fail
//! use kprod::txn::TransactionManager; // crate-private
//! ```
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Internal modules: crate-private, or public behind the `unstable` feature (for benches, fuzz targets
// and the crate's own integration tests), never a stable API. (Written out, not by a macro: the codec's
// exported macros must not be macro-expanded.)
#[cfg(feature = "unstable")]
pub mod accumulator;
#[cfg(not(feature = "unstable"))]
#[allow(dead_code, unreachable_pub, unused_imports)]
pub(crate) mod accumulator;
#[cfg(feature = "unstable")]
pub mod compression;
#[cfg(not(feature = "unstable"))]
#[allow(dead_code, unreachable_pub, unused_imports)]
pub(crate) mod compression;
pub mod config;
mod error;
mod metrics;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
pub mod partitioner;
mod producer;
#[cfg(feature = "unstable")]
pub mod protocol;
#[cfg(not(feature = "unstable"))]
#[allow(dead_code, unreachable_pub, unused_imports)]
pub(crate) mod protocol;
mod security;
mod send_cache;
pub(crate) mod sender;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
mod time;
pub(crate) mod txn;

pub use accumulator::{RecordMetadata, TopicPartition};
pub use compression::CompressionType;
pub use config::{Acks, PartitionerKind, ProducerConfig, ProducerConfigBuilder};
pub use error::{Error, SendError};
pub use metrics::{Metric, Metrics};
pub use producer::{
    DeliveryFuture, DeliveryReport, DeliveryReports, Header, LongSerializer, PartitionInfo, Producer,
    ProducerBuilder, ProducerInterceptor, Record, Serializer, StringSerializer,
};
pub use protocol::error_code::{ErrorCategory, ErrorClass};
pub use protocol::{ApiKey, ErrorCode};
#[cfg(feature = "unstable")]
#[doc(hidden)]
pub use security::fuzzing as security_fuzzing;
pub use security::{OAuthBearerToken, SecurityProtocol};
pub use txn::transactional::{ConsumerGroupMetadata, OffsetAndMetadata};
