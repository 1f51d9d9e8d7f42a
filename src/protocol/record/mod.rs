//! The v2 record batch format (magic 2, KIP-98): the writer the producer builds batches with, and the
//! reader the mock cluster and tests decode them with.
//!
//! # Layout
//!
//! A batch is a 61-byte header followed by its records, compressed as a whole when the codec says so:
//!
//! | offset | field                  | type   |
//! |-------:|------------------------|--------|
//! |      0 | `baseOffset`           | int64  |
//! |      8 | `batchLength`          | int32 (bytes after this field) |
//! |     12 | `partitionLeaderEpoch` | int32  |
//! |     16 | `magic`                | int8 (2) |
//! |     17 | `crc`                  | uint32 (CRC-32C of bytes 21 to the end) |
//! |     21 | `attributes`           | int16 (see below) |
//! |     23 | `lastOffsetDelta`      | int32  |
//! |     27 | `baseTimestamp`        | int64  |
//! |     35 | `maxTimestamp`         | int64  |
//! |     43 | `producerId`           | int64  |
//! |     51 | `producerEpoch`        | int16  |
//! |     53 | `baseSequence`         | int32  |
//! |     57 | record count           | int32  |
//! |     61 | records                |        |
//!
//! Attribute bits: 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), 3 timestamp type (1 for
//! log-append time), 4 transactional, 5 control batch, 6 `baseTimestamp` is the delete horizon.
//!
//! Each record is `length: varint` (of the rest), `attributes: int8`, `timestampDelta: varlong`,
//! `offsetDelta: varint`, `keyLength: varint` (-1 for null) and the key, `valueLength: varint` (-1 for
//! null) and the value, then `headerCount: varint` and per header `keyLength: varint`, the UTF-8 key,
//! `valueLength: varint` (-1 for null) and the value.
//!
//! # Writing
//!
//! [`RecordBatchWriter`] appends records into a reusable buffer, reports exact record sizes up front,
//! and seals the batch (compressing it when asked) with one CRC computation. [`restamp`] rewrites the
//! producer fields of a sealed batch for idempotent retries. [`write_end_txn_marker`] writes the control
//! batch that ends a transaction.
//!
//! # Reading
//!
//! [`decode_batches`] walks concatenated batches, verifying magic, lengths and CRCs;
//! [`RecordBatch::records`] decompresses (bounded) and iterates records; [`Record::control`] decodes
//! transaction markers. Hostile input yields errors, never panics or unbounded allocation.
//!
//! # References
//! - Kafka protocol guide and implementation docs, "Record Batch" and "Control Batches".
//! - KIP-98 (exactly-once delivery and transactional messaging).

pub mod batch;
pub mod control;
pub mod reader;

#[cfg(test)]
mod tests;

pub use batch::{
    restamp, set_base_offset, set_log_append_time, set_partition_leader_epoch, BatchParams,
    RecordBatchWriter, RecordHeader, NO_HEADERS, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID, NO_SEQUENCE, NO_TIMESTAMP,
};
pub use control::{write_end_txn_marker, ControlRecord, ControlRecordType, EndTxnMarker};
pub use reader::{
    decode_batches, BatchIter, Headers, OwnedRecord, Record, RecordBatch, Records, TimestampType,
    DEFAULT_MAX_DECOMPRESSED_SIZE, RECORD_DECODE_BUDGET_FACTOR,
};

use crate::compression::{CompressionError, CompressionType};
use crate::protocol::ProtocolError;

/// Maps a codec failure into the protocol error type.
pub(crate) fn compression_error(e: CompressionError) -> ProtocolError {
    ProtocolError::Compression(e.to_string())
}

/// The codec in a batch's attributes, or an error for the unassigned ids 5 to 7.
pub(crate) fn codec_from_attributes(attributes: i16) -> Result<CompressionType, ProtocolError> {
    CompressionType::from_attributes(attributes)
        .map_err(|e| ProtocolError::invalid("record batch", e.to_string()))
}
