//! The record accumulator (Java's `RecordAccumulator` room): application threads encode records straight
//! into per-partition [`ProducerBatch`]es held by the [`RecordAccumulator`]; the sender thread drains
//! them. The [`buffer_pool::BufferPool`] bounds batch memory to `buffer.memory`.
//!
//! Lock order: the accumulator's partition map, then one partition's queue, then its set of incomplete
//! batches; the buffer pool's and the compressor pool's locks are leaves, never waited on while a
//! partition queue is locked.

pub mod batch;
pub mod buffer_pool;
pub mod record_accumulator;

pub use batch::{
    BatchAck, Callback, Completions, ProduceRequestResult, ProducerBatch, ProducerState, RecordHandle,
    RecordMetadata, TopicPartition,
};
pub use record_accumulator::{
    AccumulatorConfig, AppendResult, PartitionQueue, ReadyCheckResult, RecordAccumulator,
};

#[cfg(test)]
mod tests;
