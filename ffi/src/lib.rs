//! kprod behind librdkafka's producer C API.
//!
//! This crate builds `librdkafka.so` (soname `librdkafka.so.1`) and `librdkafka.a` exporting
//! librdkafka 2.12's producer functions with their names, signatures, enum values and public struct
//! layouts, so a librdkafka producer program compiles against `include/librdkafka/rdkafka.h` (ours)
//! and links against kprod, or runs unchanged on it through `LD_LIBRARY_PATH`. Consumer, queue and
//! admin functions a producer program may link are stubs (`stubs`); docs/c-api.md lists every symbol.
//!
//! # Safety contract
//! Every exported function keeps librdkafka's contract for its arguments: handles are ones this
//! library returned and not yet destroyed, strings are NUL-terminated, buffers are as long as the size
//! passed with them. Within that contract nothing here is undefined behaviour, and no panic crosses
//! the boundary: each entry point catches one and returns an error value.
//!
//! # Threads
//! As in librdkafka: produce from any number of threads; callbacks (delivery reports, errors,
//! statistics, logs, throttling) run on the thread calling `rd_kafka_poll` or `rd_kafka_flush`, never
//! on kprod's I/O thread. The OAUTHBEARER refresh callback is the exception: it runs on kprod's token
//! thread (librdkafka's background-callback mode), because kprod's first connection waits for it.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

pub mod conf;
pub mod err;
pub mod error;
pub mod handle;
pub mod headers;
mod logger;
pub mod partitioners;
pub mod produce;
pub mod stubs;
pub mod tpl;
pub mod txn;
mod ua;
mod util;
pub mod version;

pub use err::rd_kafka_resp_err_t;
