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
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod accumulator;
pub mod compression;
#[allow(missing_docs)] // being written (issue 5)
pub mod config;
#[allow(missing_docs)] // being written (issue 5)
pub mod error;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
pub mod partitioner;
pub mod protocol;
