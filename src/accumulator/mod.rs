//! The record accumulator's building blocks (Java's `RecordAccumulator` room): per-partition batch
//! queues will live here; today it holds the [`buffer_pool::BufferPool`] that bounds batch memory to
//! `buffer.memory`.

pub mod buffer_pool;
