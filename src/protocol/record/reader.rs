//! Decoding v2 record batches: batch headers (with CRC verification), bounded decompression, and records.
//!
//! Nothing here trusts a length from the input: every length is checked against the bytes present before
//! it is used, record counts only drive lazy iteration, and decompression is capped by the caller.

use bytes::Bytes;

use crate::compression::{CompressionType, Decompressor};
use crate::protocol::primitives::{bounded_capacity, decode_budget, push_charged, DecodeBudget};
use crate::protocol::{ProtocolError, Reader};

use super::batch::*;
use super::codec_from_attributes;
use super::compression_error;
use super::control::ControlRecord;

/// The default cap on a batch's decompressed records section: 64 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 64 << 20;

/// Iterates over the record batches concatenated in `buf` (a Produce request's or a Fetch response's
/// `records` field).
///
/// A trailing incomplete batch, as brokers may send in fetch responses, ends the iteration without an
/// error; [`BatchIter::remaining`] then returns its bytes. A malformed batch (a `batchLength` too small for
/// a header, a magic other than 2, a CRC mismatch, a bad codec or record count) yields an error, after
/// which the iterator ends.
pub fn decode_batches(buf: &[u8]) -> BatchIter<'_> {
    BatchIter { rest: buf, failed: false }
}

/// The iterator returned by [`decode_batches`].
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> BatchIter<'a> {
    /// The bytes not yet decoded: after the iteration ends without error, the trailing partial batch (empty
    /// when the input held whole batches only).
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<RecordBatch<'a>, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.len() < LOG_OVERHEAD {
            return None;
        }
        let mut r = Reader::new(self.rest);
        let parsed = (|| {
            r.skip(BATCH_LENGTH_OFFSET)?;
            let batch_length = r.i32()?;
            if batch_length < MIN_BATCH_LENGTH as i32 {
                return Err(ProtocolError::invalid(
                    "record batch",
                    format!("batch length {batch_length} is below the minimum {MIN_BATCH_LENGTH}"),
                ));
            }
            Ok(LOG_OVERHEAD + batch_length as usize)
        })();
        let total = match parsed {
            Ok(total) => total,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        if total > self.rest.len() {
            // A partial batch at the end: not an error.
            return None;
        }
        let (batch, rest) = self.rest.split_at(total);
        match RecordBatch::parse(batch) {
            Ok(b) => {
                self.rest = rest;
                Some(Ok(b))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// How a batch's timestamps were assigned (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// Timestamps are the producer's create times.
    CreateTime,
    /// The broker set the batch's timestamp when appending it (`maxTimestamp` holds it).
    LogAppendTime,
}

/// One decoded, CRC-verified v2 record batch, borrowing the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch<'a> {
    /// Offset of the first record (0 in a Produce request).
    pub base_offset: i64,
    /// Bytes after the `batchLength` field.
    pub batch_length: i32,
    /// The partition leader epoch stamped by the broker (-1 from producers).
    pub partition_leader_epoch: i32,
    /// Always 2.
    pub magic: i8,
    /// The stored (and verified) CRC-32C.
    pub crc: u32,
    /// The raw attributes; see the accessors.
    pub attributes: i16,
    /// Offset delta of the last record.
    pub last_offset_delta: i32,
    /// The timestamp record timestamp deltas are relative to (or the delete horizon, see
    /// [`has_delete_horizon`](Self::has_delete_horizon)).
    pub base_timestamp: i64,
    /// The largest record timestamp (or the log-append time).
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records announced by the header.
    pub record_count: i32,
    compression: CompressionType,
    bytes: &'a [u8],
}

impl<'a> RecordBatch<'a> {
    /// Decodes a batch that spans exactly `batch`, verifying magic, length and CRC.
    fn parse(batch: &'a [u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(batch);
        let base_offset = r.i64()?;
        let batch_length = r.i32()?;
        let partition_leader_epoch = r.i32()?;
        let magic = r.i8()?;
        if magic != MAGIC {
            return Err(ProtocolError::invalid(
                "record batch",
                format!("unsupported magic {magic} (only 2)"),
            ));
        }
        let crc = r.u32()?;
        let computed = crc32c::crc32c(r.rest());
        if computed != crc {
            return Err(ProtocolError::CrcMismatch { stored: crc, computed });
        }
        let attributes = r.i16()?;
        let compression = codec_from_attributes(attributes)?;
        let last_offset_delta = r.i32()?;
        let base_timestamp = r.i64()?;
        let max_timestamp = r.i64()?;
        let producer_id = r.i64()?;
        let producer_epoch = r.i16()?;
        let base_sequence = r.i32()?;
        let record_count = r.i32()?;
        if record_count < 0 {
            return Err(ProtocolError::invalid(
                "record batch",
                format!("negative record count {record_count}"),
            ));
        }
        Ok(RecordBatch {
            base_offset,
            batch_length,
            partition_leader_epoch,
            magic,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
            compression,
            bytes: batch,
        })
    }

    /// The codec of the records section.
    pub fn compression(&self) -> CompressionType {
        self.compression
    }

    /// How the batch's timestamps were assigned.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_MASK != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// True when the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG_MASK != 0
    }

    /// True when the batch holds control records.
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG_MASK != 0
    }

    /// True when `base_timestamp` holds the delete horizon set by log compaction.
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_FLAG_MASK != 0
    }

    /// Offset of the last record. The sums here wrap, as Kafka's long arithmetic does: the fields come off
    /// the wire, and a hostile header must not panic a debug build.
    pub fn last_offset(&self) -> i64 {
        self.base_offset.wrapping_add(i64::from(self.last_offset_delta))
    }

    /// The offset after the batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// The whole batch as it appeared in the input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The records section as stored (compressed when [`compression`](Self::compression) is not `None`).
    pub fn records_data(&self) -> &'a [u8] {
        &self.bytes[BATCH_HEADER_SIZE..]
    }

    /// The absolute offset of a record of this batch.
    pub fn record_offset(&self, record: &Record<'_>) -> i64 {
        self.base_offset.wrapping_add(i64::from(record.offset_delta))
    }

    /// The absolute timestamp of a record of this batch: the log-append time for
    /// [`TimestampType::LogAppendTime`] batches, else the base timestamp plus the record's delta
    /// (wrapping, like [`last_offset`](Self::last_offset)).
    pub fn record_timestamp(&self, record: &Record<'_>) -> i64 {
        match self.timestamp_type() {
            TimestampType::LogAppendTime => self.max_timestamp,
            TimestampType::CreateTime => self.base_timestamp.wrapping_add(record.timestamp_delta),
        }
    }

    /// Iterates over the records, decompressing the records section into `scratch` first when the batch
    /// is compressed (failing if it would exceed `max_decompressed` bytes). Uncompressed batches are read
    /// in place and leave `decompressor` and `scratch` untouched.
    pub fn records<'s>(
        &self,
        decompressor: &mut Decompressor,
        scratch: &'s mut Vec<u8>,
        max_decompressed: usize,
    ) -> Result<Records<'s>, ProtocolError>
    where
        'a: 's,
    {
        let data = self.records_data();
        if self.compression == CompressionType::None {
            return Ok(Records::new(data, self.record_count));
        }
        scratch.clear();
        decompressor
            .decompress(self.compression, data, scratch, max_decompressed)
            .map_err(compression_error)?;
        Ok(Records::new(scratch.as_slice(), self.record_count))
    }

    /// Decodes every record into owned values (convenient for tests and the mock cluster; the producer
    /// never needs this), decompressing up to [`DEFAULT_MAX_DECOMPRESSED_SIZE`] bytes. What the records
    /// take in memory is charged to a budget of [`RECORD_DECODE_BUDGET_FACTOR`] times the (decompressed)
    /// records section before it is allocated.
    pub fn decode_records(&self) -> Result<Vec<OwnedRecord>, ProtocolError> {
        let mut decompressor = Decompressor::new();
        let mut scratch = Vec::new();
        let records = self.records(&mut decompressor, &mut scratch, DEFAULT_MAX_DECOMPRESSED_SIZE)?;
        let section = records.r.remaining();
        let mut budget = DecodeBudget::new(decode_budget(section, RECORD_DECODE_BUDGET_FACTOR));
        // The announced count (up to 2^31 - 1) is charged whole, like an array's; a count the budget
        // cannot pay for fails here. The reservation starts at what the bytes present can hold, since an
        // `OwnedRecord` is much larger than the 7 bytes a record takes at least.
        let claimed = usize::try_from(records.left).unwrap_or(0);
        budget.charge_each(claimed, std::mem::size_of::<OwnedRecord>())?;
        let cap = bounded_capacity::<OwnedRecord>(claimed, section, MIN_RECORD_SIZE);
        let mut out = Vec::with_capacity(cap);
        for record in records {
            let record = record?;
            budget.charge(record.owned_heap_size())?;
            push_charged(&mut out, record.to_owned_record(), claimed);
        }
        Ok(out)
    }
}

/// The smallest encoded record: length, attributes, timestamp delta, offset delta, null key, null value
/// and header count, one byte each.
const MIN_RECORD_SIZE: usize = 7;

/// How many times the size of a records section [`RecordBatch::decode_records`] may materialise (plus
/// [`DECODE_BUDGET_SLACK`](crate::protocol::primitives::DECODE_BUDGET_SLACK)). Empty records, empty
/// header keys and null values are all valid and common in tests, so the factor admits the densest valid
/// batch: an `OwnedRecord` (104 bytes) per 7-byte record is about 15×, and a header (56 bytes) per
/// 2-byte header (an empty key and a null value) 28×.
pub const RECORD_DECODE_BUDGET_FACTOR: usize = 32;

/// A header as [`OwnedRecord`] holds it.
type OwnedHeader = (String, Option<Bytes>);

/// Iterator over the records of a batch, from [`RecordBatch::records`].
///
/// Yields exactly the announced number of records; bytes left over after them, or too few bytes for them,
/// yield an error, after which the iterator ends.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    r: Reader<'a>,
    left: i32,
    failed: bool,
}

impl<'a> Records<'a> {
    fn new(data: &'a [u8], count: i32) -> Self {
        Records { r: Reader::new(data), left: count, failed: false }
    }

    fn fail(&mut self, e: ProtocolError) -> Option<Result<Record<'a>, ProtocolError>> {
        self.failed = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.left <= 0 {
            if !self.r.is_empty() {
                let n = self.r.remaining();
                return self.fail(ProtocolError::invalid(
                    "record batch",
                    format!("{n} bytes left after the announced records"),
                ));
            }
            return None;
        }
        match Record::decode(&mut self.r) {
            Ok(record) => {
                self.left -= 1;
                Some(Ok(record))
            }
            Err(e) => self.fail(e),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.failed {
            return (0, Some(0));
        }
        let left = usize::try_from(self.left).unwrap_or(0);
        // One more item is possible: the error for leftover or missing bytes.
        (0, Some(left.min(self.r.remaining() / MIN_RECORD_SIZE) + 1))
    }
}

/// One record of a batch, borrowing the batch (or its decompressed records section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The record's attributes byte (unused by Kafka today).
    pub attributes: i8,
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// The key; `None` when null.
    pub key: Option<&'a [u8]>,
    /// The value; `None` when null (a tombstone).
    pub value: Option<&'a [u8]>,
    /// The headers, decoded lazily (already validated).
    pub headers: Headers<'a>,
}

impl<'a> Record<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, ProtocolError> {
        let len = r.varint()?;
        let len = usize::try_from(len)
            .map_err(|_| ProtocolError::invalid("record", format!("negative record length {len}")))?;
        r.sub_reader(len, |b| {
            let attributes = b.i8()?;
            let timestamp_delta = b.varlong()?;
            let offset_delta = b.varint()?;
            let key = nullable_varint_bytes(b, "record key")?;
            let value = nullable_varint_bytes(b, "record value")?;
            let count = b.varint()?;
            let count = usize::try_from(count)
                .map_err(|_| ProtocolError::invalid("record", format!("negative header count {count}")))?;
            let headers_start = b.rest();
            for _ in 0..count {
                decode_header(b)?;
            }
            let headers_len = headers_start.len() - b.remaining();
            if !b.is_empty() {
                return Err(ProtocolError::invalid(
                    "record",
                    format!("{} bytes left over in a record of {len} bytes", b.remaining()),
                ));
            }
            let headers = Headers { data: &headers_start[..headers_len], left: count };
            Ok(Record { attributes, timestamp_delta, offset_delta, key, value, headers })
        })
    }

    /// The heap bytes [`to_owned_record`](Self::to_owned_record) allocates: key, value, the headers'
    /// vector and each header's key and value (the `OwnedRecord` itself lives in its caller's vector).
    fn owned_heap_size(&self) -> usize {
        let len = |b: Option<&[u8]>| b.map_or(0, <[u8]>::len);
        let headers: usize = self.headers.map(|(k, v)| k.len().saturating_add(len(v))).sum();
        len(self.key)
            .saturating_add(len(self.value))
            .saturating_add(self.headers.len().saturating_mul(std::mem::size_of::<OwnedHeader>()))
            .saturating_add(headers)
    }

    /// Decodes the record as a control record (meaningful in a control batch only).
    pub fn control(&self) -> Result<ControlRecord, ProtocolError> {
        ControlRecord::parse(self.key, self.value)
    }

    /// Copies the record into owned values.
    pub fn to_owned_record(self) -> OwnedRecord {
        OwnedRecord {
            timestamp_delta: self.timestamp_delta,
            offset_delta: self.offset_delta,
            key: self.key.map(Bytes::copy_from_slice),
            value: self.value.map(Bytes::copy_from_slice),
            headers: self.headers.map(|(k, v)| (k.to_owned(), v.map(Bytes::copy_from_slice))).collect(),
        }
    }
}

/// Reads a varint length (-1 for null) and that many bytes.
fn nullable_varint_bytes<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<Option<&'a [u8]>, ProtocolError> {
    match r.varint()? {
        -1 => Ok(None),
        n if n < -1 => Err(ProtocolError::invalid(what, format!("negative length {n}"))),
        n => r.bytes(n as usize).map(Some),
    }
}

/// Reads one header: a non-null UTF-8 key and a nullable value.
fn decode_header<'a>(r: &mut Reader<'a>) -> Result<(&'a str, Option<&'a [u8]>), ProtocolError> {
    let key = nullable_varint_bytes(r, "header key")?
        .ok_or_else(|| ProtocolError::invalid("header key", "null"))?;
    let key =
        std::str::from_utf8(key).map_err(|_| ProtocolError::invalid("header key", "not valid UTF-8"))?;
    let value = nullable_varint_bytes(r, "header value")?;
    Ok((key, value))
}

/// The headers of a [`Record`], validated when the record was decoded and yielded as
/// `(key, value)` pairs without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    data: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        // Validated in `Record::decode`, so this cannot fail; stop rather than panic if it somehow did.
        let mut r = Reader::new(self.data);
        match decode_header(&mut r) {
            Ok(h) => {
                self.data = r.rest();
                self.left -= 1;
                Some(h)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Headers<'_> {}

/// A record with owned key, value and headers, from [`RecordBatch::decode_records`] or
/// [`Record::to_owned_record`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnedRecord {
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// The key; `None` when null.
    pub key: Option<Bytes>,
    /// The value; `None` when null.
    pub value: Option<Bytes>,
    /// The headers in order.
    pub headers: Vec<(String, Option<Bytes>)>,
}
