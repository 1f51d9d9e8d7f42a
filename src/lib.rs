//! # kprod
//!
//! A synchronous, thread-based Apache Kafka producer in pure Rust.
//!
//! Application threads call `send`; each record is partitioned and encoded straight into the open batch
//! of its partition; one dedicated sender thread drives the broker sockets with `mio`; completions are
//! delivered to callbacks that never run on the I/O thread. There is no async runtime.
//!
//! The crate is being built in stages (see the README's feature table). What exists today:
//!
//! - [`protocol`]: a pure codec (no threads, no sockets) for the Kafka wire protocol, requests and
//!   responses in both directions, and the v2 record batch format.
//! - [`compression`]: the four Kafka codecs (gzip, snappy, lz4, zstd).
//! - [`config`]: [`ProducerConfig`] with the Java producer's property names and Kafka 4.x defaults
//!   (`docs/configuration.md` is generated from its table); [`Error`], the one public error type.
//! - [`partitioner`]: Java's murmur2 and uniform sticky partitioners, librdkafka's, and a trait.
//! - [`accumulator`]: the `BufferPool` that bounds batch memory.
//! - `mock` (feature `mock`): an in-process Kafka cluster with fault injection.
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod accumulator;
pub mod compression;
pub mod config;
pub mod error;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
pub mod partitioner;
pub mod producer;
pub mod protocol;
mod send_cache;
pub mod sender;
mod time;
pub mod txn;

pub use accumulator::{RecordMetadata, TopicPartition};
pub use config::{Acks, PartitionerKind, ProducerConfig, ProducerConfigBuilder};
pub use error::{Error, SendError};
pub use producer::{
    DeliveryFuture, DeliveryReport, Header, PartitionInfo, Producer, ProducerBuilder, ProducerInterceptor,
    Record, Serializer,
};
