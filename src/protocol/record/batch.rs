//! The v2 record batch header layout, and the writer that builds batches on the producer's hot path.

use crate::compression::{CompressionType, Compressor};
use crate::protocol::primitives::{put_varint, put_varlong, varint_len, varlong_len};
use crate::protocol::ProtocolError;

use super::compression_error;

/// Byte offset of `baseOffset` (int64) in a batch.
pub const BASE_OFFSET_OFFSET: usize = 0;
/// Byte offset of `batchLength` (int32): the number of bytes that follow it.
pub const BATCH_LENGTH_OFFSET: usize = 8;
/// Byte offset of `partitionLeaderEpoch` (int32).
pub const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
/// Byte offset of `magic` (int8).
pub const MAGIC_OFFSET: usize = 16;
/// Byte offset of `crc` (uint32, CRC-32C of everything from `attributes` to the end of the batch).
pub const CRC_OFFSET: usize = 17;
/// Byte offset of `attributes` (int16); the CRC covers the batch from here on.
pub const ATTRIBUTES_OFFSET: usize = 21;
/// Byte offset of `lastOffsetDelta` (int32).
pub const LAST_OFFSET_DELTA_OFFSET: usize = 23;
/// Byte offset of `baseTimestamp` (int64).
pub const BASE_TIMESTAMP_OFFSET: usize = 27;
/// Byte offset of `maxTimestamp` (int64).
pub const MAX_TIMESTAMP_OFFSET: usize = 35;
/// Byte offset of `producerId` (int64).
pub const PRODUCER_ID_OFFSET: usize = 43;
/// Byte offset of `producerEpoch` (int16).
pub const PRODUCER_EPOCH_OFFSET: usize = 51;
/// Byte offset of `baseSequence` (int32).
pub const BASE_SEQUENCE_OFFSET: usize = 53;
/// Byte offset of the record count (int32).
pub const RECORDS_COUNT_OFFSET: usize = 57;
/// Size of the batch header; the records (compressed or not) start at this offset.
pub const BATCH_HEADER_SIZE: usize = 61;
/// Bytes before the part `batchLength` counts: `baseOffset` and `batchLength` themselves.
pub const LOG_OVERHEAD: usize = 12;
/// The smallest valid `batchLength`: a header with no records.
pub const MIN_BATCH_LENGTH: usize = BATCH_HEADER_SIZE - LOG_OVERHEAD;

/// The only magic value (message format version) kprod reads and writes.
pub const MAGIC: i8 = 2;

/// Attribute bits 0-2: the compression codec of the records section.
pub const COMPRESSION_CODEC_MASK: i16 = 0x07;
/// Attribute bit 3: set when timestamps are log-append times rather than create times.
pub const TIMESTAMP_TYPE_MASK: i16 = 0x08;
/// Attribute bit 4: the batch belongs to a transaction.
pub const TRANSACTIONAL_FLAG_MASK: i16 = 0x10;
/// Attribute bit 5: the batch holds control records (transaction markers).
pub const CONTROL_FLAG_MASK: i16 = 0x20;
/// Attribute bit 6: `baseTimestamp` holds the delete horizon set by log compaction.
pub const DELETE_HORIZON_FLAG_MASK: i16 = 0x40;

/// `producerId` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of a batch from a non-idempotent producer.
pub const NO_SEQUENCE: i32 = -1;
/// `partitionLeaderEpoch` as a producer sends it (the broker fills it in).
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;
/// A missing timestamp.
pub const NO_TIMESTAMP: i64 = -1;

/// A record header the writer can encode: a UTF-8 key and a nullable value.
///
/// Implemented for `(K, Option<V>)` tuples with `K: AsRef<str>` and `V: AsRef<[u8]>` (so
/// `(&str, Option<&[u8]>)` and `(String, Option<Vec<u8>>)` both work) and for references; implement it
/// for your own header type to pass headers without converting them.
pub trait RecordHeader {
    /// The header key.
    fn key(&self) -> &str;
    /// The header value; `None` is encoded as null.
    fn value(&self) -> Option<&[u8]>;
}

impl<K: AsRef<str>, V: AsRef<[u8]>> RecordHeader for (K, Option<V>) {
    #[inline]
    fn key(&self) -> &str {
        self.0.as_ref()
    }
    #[inline]
    fn value(&self) -> Option<&[u8]> {
        self.1.as_ref().map(AsRef::as_ref)
    }
}

impl<H: RecordHeader + ?Sized> RecordHeader for &H {
    #[inline]
    fn key(&self) -> &str {
        (**self).key()
    }
    #[inline]
    fn value(&self) -> Option<&[u8]> {
        (**self).value()
    }
}

/// An empty header list of a concrete type, for records without headers (`&[]` alone cannot name the
/// header type).
pub const NO_HEADERS: &[(&str, Option<&[u8]>)] = &[];

/// The batch-level fields a [`RecordBatchWriter`] writes into the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchParams {
    /// The codec for the records section.
    pub compression: CompressionType,
    /// The idempotent producer id, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    /// The producer epoch, or [`NO_PRODUCER_EPOCH`].
    pub producer_epoch: i16,
    /// The sequence number of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
    /// Whether the batch is part of a transaction (attribute bit 4).
    pub is_transactional: bool,
    /// The timestamp record timestamps are stored relative to (usually the first record's).
    pub base_timestamp: i64,
    /// The partition leader epoch; producers send [`NO_PARTITION_LEADER_EPOCH`].
    pub partition_leader_epoch: i32,
}

impl Default for BatchParams {
    /// An uncompressed, non-idempotent, non-transactional batch with base timestamp 0.
    fn default() -> Self {
        BatchParams {
            compression: CompressionType::None,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            is_transactional: false,
            base_timestamp: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
        }
    }
}

/// Builds one v2 record batch in a caller-supplied buffer.
///
/// The writer reserves the 61-byte header, appends each record in its final uncompressed encoding, and
/// fills the header in [`seal`](Self::seal). Appending never allocates beyond the buffer's own growth, so
/// a buffer recycled from a pool makes the steady state allocation-free. Use
/// [`record_size`](Self::record_size) (or [`next_record_size`](Self::next_record_size)) to check size
/// limits before appending.
///
/// ```
/// use kprod::protocol::record::{decode_batches, BatchParams, RecordBatchWriter, NO_HEADERS};
///
/// let params = BatchParams { base_timestamp: 1_000, ..BatchParams::default() };
/// let mut w = RecordBatchWriter::new(Vec::new(), params);
/// w.append(1_000, Some(b"key"), Some(b"value"), &[("trace", Some(&b"1"[..]))])?;
/// w.append(1_005, None, Some(b"second"), NO_HEADERS)?;
/// let batch = w.seal(None, &mut Vec::new())?;
///
/// let decoded = decode_batches(&batch).next().ok_or("no batch")??;
/// assert_eq!(decoded.record_count, 2);
/// assert_eq!(decoded.max_timestamp, 1_005);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RecordBatchWriter {
    buf: Vec<u8>,
    params: BatchParams,
    control: bool,
    count: i32,
    max_timestamp: i64,
}

impl RecordBatchWriter {
    /// Starts a batch in `buf`, which is cleared and then holds the header placeholder.
    pub fn new(mut buf: Vec<u8>, params: BatchParams) -> Self {
        buf.clear();
        buf.resize(BATCH_HEADER_SIZE, 0);
        RecordBatchWriter { buf, params, control: false, count: 0, max_timestamp: i64::MIN }
    }

    /// Starts a control batch (attribute bit 5), for transaction markers.
    pub(crate) fn new_control(buf: Vec<u8>, params: BatchParams) -> Self {
        RecordBatchWriter { control: true, ..Self::new(buf, params) }
    }

    /// The exact number of bytes [`append`](Self::append) adds for a record with these fields, including
    /// its length prefix. `usize::MAX` when the record cannot be encoded at all (a length above
    /// `i32::MAX`), so it fails every size check.
    pub fn record_size<H: RecordHeader>(
        timestamp_delta: i64,
        offset_delta: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
    ) -> usize {
        match body_size(timestamp_delta, offset_delta, key, value, headers) {
            Ok((body, _)) => varint_len(body) + body as usize,
            Err(_) => usize::MAX,
        }
    }

    /// [`record_size`](Self::record_size) for the record that would be appended next with `timestamp`.
    pub fn next_record_size<H: RecordHeader>(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
    ) -> usize {
        let delta = timestamp.wrapping_sub(self.params.base_timestamp);
        Self::record_size(delta, self.count, key, value, headers)
    }

    /// Appends a record with an absolute `timestamp` (stored relative to the base timestamp) and returns
    /// its offset delta. On error nothing is appended.
    pub fn append<H: RecordHeader>(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
    ) -> Result<i32, ProtocolError> {
        match self.append_within(timestamp, key, value, headers, usize::MAX)? {
            Some(offset_delta) => Ok(offset_delta),
            None => Err(ProtocolError::invalid("record batch", "too large")),
        }
    }

    /// Like [`append`](Self::append), but only if the batch is empty or stays within `limit` bytes
    /// ([`size_in_bytes`](Self::size_in_bytes)) with the record; `Ok(None)` (nothing appended) otherwise.
    /// Sizes the record once for both the check and the write.
    pub fn append_within<H: RecordHeader>(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
        limit: usize,
    ) -> Result<Option<i32>, ProtocolError> {
        let offset_delta = self.count;
        if offset_delta == i32::MAX {
            return Err(ProtocolError::invalid("record batch", "too many records"));
        }
        let timestamp_delta = timestamp.checked_sub(self.params.base_timestamp).ok_or_else(|| {
            ProtocolError::invalid(
                "record timestamp",
                format!("{timestamp} is too far from the base timestamp"),
            )
        })?;
        let (body, header_count) = body_size(timestamp_delta, offset_delta, key, value, headers)?;
        let size = varint_len(body) + body as usize;
        if self.count > 0 && self.buf.len().saturating_add(size) > limit {
            return Ok(None);
        }
        let buf = &mut self.buf;
        buf.reserve(size);
        put_varint(buf, body);
        buf.push(0); // record attributes: unused
        put_varlong(buf, timestamp_delta);
        put_varint(buf, offset_delta);
        put_nullable(buf, key);
        put_nullable(buf, value);
        put_varint(buf, header_count);
        for h in headers {
            let k = h.key().as_bytes();
            // `body_size` has checked that every length fits an i32.
            put_varint(buf, k.len() as i32);
            buf.extend_from_slice(k);
            put_nullable(buf, h.value());
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(Some(offset_delta))
    }

    /// Records appended so far.
    pub fn record_count(&self) -> i32 {
        self.count
    }

    /// True when no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The batch size so far, uncompressed, header included: what it would take on the wire sealed
    /// without compression.
    pub fn size_in_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The parameters the batch was started with.
    pub fn params(&self) -> &BatchParams {
        &self.params
    }

    /// The largest record timestamp appended, if any.
    pub fn max_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max_timestamp)
    }

    /// Abandons the batch and returns its buffer (for a pool).
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// Finishes the batch and returns its bytes, ready to send.
    ///
    /// Uncompressed batches are finished in place. For a compressed batch (`params.compression` other
    /// than `None`), `compressor` must be a compressor for that codec: the records section is compressed
    /// into `scratch` behind a new header, and the two buffers are swapped, so the returned batch is the
    /// former `scratch` and `scratch` then holds this writer's old buffer for reuse. Either way the CRC is
    /// computed once, at the end. `scratch` is not touched for uncompressed batches.
    ///
    /// Fails for an empty batch, when a compressed batch has no compressor (or one for another codec),
    /// when compression fails, or when the batch exceeds `i32::MAX` bytes; the buffer is dropped then.
    pub fn seal(
        mut self,
        compressor: Option<&mut Compressor>,
        scratch: &mut Vec<u8>,
    ) -> Result<Vec<u8>, ProtocolError> {
        if self.count == 0 {
            return Err(ProtocolError::invalid("record batch", "cannot seal a batch without records"));
        }
        let codec = self.params.compression;
        if codec != CompressionType::None {
            let compressor = compressor.ok_or_else(|| {
                ProtocolError::Compression(format!("no compressor given for a {codec:?} batch"))
            })?;
            if compressor.compression_type() != codec {
                return Err(ProtocolError::Compression(format!(
                    "a {:?} compressor was given for a {codec:?} batch",
                    compressor.compression_type()
                )));
            }
            scratch.clear();
            scratch.resize(BATCH_HEADER_SIZE, 0);
            compressor.compress(&self.buf[BATCH_HEADER_SIZE..], scratch).map_err(compression_error)?;
            std::mem::swap(scratch, &mut self.buf);
        }
        let mut attributes = codec.id() & COMPRESSION_CODEC_MASK;
        if self.params.is_transactional {
            attributes |= TRANSACTIONAL_FLAG_MASK;
        }
        if self.control {
            attributes |= CONTROL_FLAG_MASK;
        }
        let batch_length = i32::try_from(self.buf.len() - LOG_OVERHEAD)
            .map_err(|_| ProtocolError::TooLong { what: "record batch", len: self.buf.len() })?;
        let p = &self.params;
        let b = &mut self.buf[..];
        put_at(b, BASE_OFFSET_OFFSET, 0i64.to_be_bytes());
        put_at(b, BATCH_LENGTH_OFFSET, batch_length.to_be_bytes());
        put_at(b, PARTITION_LEADER_EPOCH_OFFSET, p.partition_leader_epoch.to_be_bytes());
        put_at(b, MAGIC_OFFSET, MAGIC.to_be_bytes());
        put_at(b, ATTRIBUTES_OFFSET, attributes.to_be_bytes());
        put_at(b, LAST_OFFSET_DELTA_OFFSET, (self.count - 1).to_be_bytes());
        put_at(b, BASE_TIMESTAMP_OFFSET, p.base_timestamp.to_be_bytes());
        put_at(b, MAX_TIMESTAMP_OFFSET, self.max_timestamp.to_be_bytes());
        put_at(b, PRODUCER_ID_OFFSET, p.producer_id.to_be_bytes());
        put_at(b, PRODUCER_EPOCH_OFFSET, p.producer_epoch.to_be_bytes());
        put_at(b, BASE_SEQUENCE_OFFSET, p.base_sequence.to_be_bytes());
        put_at(b, RECORDS_COUNT_OFFSET, self.count.to_be_bytes());
        update_crc(b);
        Ok(self.buf)
    }
}

/// The record body size (everything after the length prefix) and the header count, checking that every
/// length fits the wire's int32.
fn body_size<H: RecordHeader>(
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[H],
) -> Result<(i32, i32), ProtocolError> {
    let header_count = i32::try_from(headers.len())
        .map_err(|_| ProtocolError::TooLong { what: "headers", len: headers.len() })?;
    let mut size = 1 // attributes
        + varlong_len(timestamp_delta)
        + varint_len(offset_delta)
        + nullable_size(key, "record key")?
        + nullable_size(value, "record value")?
        + varint_len(header_count);
    for h in headers {
        size += nullable_size(Some(h.key().as_bytes()), "header key")?;
        size += nullable_size(h.value(), "header value")?;
    }
    let body = i32::try_from(size).map_err(|_| ProtocolError::TooLong { what: "record", len: size })?;
    Ok((body, header_count))
}

/// Encoded size of a varint length (`-1` for null) plus the bytes.
#[inline]
fn nullable_size(b: Option<&[u8]>, what: &'static str) -> Result<usize, ProtocolError> {
    match b {
        None => Ok(1),
        Some(b) => {
            let n = i32::try_from(b.len()).map_err(|_| ProtocolError::TooLong { what, len: b.len() })?;
            Ok(varint_len(n) + b.len())
        }
    }
}

/// Writes a varint length (`-1` for null) and the bytes; the length was checked by [`nullable_size`].
#[inline]
fn put_nullable(buf: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => put_varint(buf, -1),
        Some(b) => {
            put_varint(buf, b.len() as i32);
            buf.extend_from_slice(b);
        }
    }
}

#[inline]
fn put_at<const N: usize>(buf: &mut [u8], at: usize, bytes: [u8; N]) {
    buf[at..at + N].copy_from_slice(&bytes);
}

/// Recomputes and stores the CRC of a batch whose length has been validated.
fn update_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
    put_at(batch, CRC_OFFSET, crc.to_be_bytes());
}

/// Checks that `buf` starts with a complete v2 batch header whose `batchLength` fits in `buf`, returning
/// the batch's total size.
fn batch_extent(buf: &[u8]) -> Result<usize, ProtocolError> {
    if buf.len() < BATCH_HEADER_SIZE {
        return Err(ProtocolError::Truncated { needed: BATCH_HEADER_SIZE - buf.len() });
    }
    let magic = buf[MAGIC_OFFSET] as i8;
    if magic != MAGIC {
        return Err(ProtocolError::invalid("record batch", format!("unsupported magic {magic}")));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&buf[BATCH_LENGTH_OFFSET..BATCH_LENGTH_OFFSET + 4]);
    let len = i32::from_be_bytes(len);
    if len < MIN_BATCH_LENGTH as i32 {
        return Err(ProtocolError::invalid("record batch", format!("batch length {len} is too small")));
    }
    let total = LOG_OVERHEAD + len as usize;
    if total > buf.len() {
        return Err(ProtocolError::Truncated { needed: total - buf.len() });
    }
    Ok(total)
}

/// Rewrites the producer id, epoch, base sequence and transactional flag of a sealed batch at the start of
/// `batch`, and recomputes its CRC. The idempotent producer needs this when a batch must be sent again
/// under a new producer id or epoch, or with a new sequence number.
pub fn restamp(
    batch: &mut [u8],
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    is_transactional: bool,
) -> Result<(), ProtocolError> {
    let total = batch_extent(batch)?;
    let b = &mut batch[..total];
    let mut attributes = i16::from_be_bytes([b[ATTRIBUTES_OFFSET], b[ATTRIBUTES_OFFSET + 1]]);
    if is_transactional {
        attributes |= TRANSACTIONAL_FLAG_MASK;
    } else {
        attributes &= !TRANSACTIONAL_FLAG_MASK;
    }
    put_at(b, ATTRIBUTES_OFFSET, attributes.to_be_bytes());
    put_at(b, PRODUCER_ID_OFFSET, producer_id.to_be_bytes());
    put_at(b, PRODUCER_EPOCH_OFFSET, producer_epoch.to_be_bytes());
    put_at(b, BASE_SEQUENCE_OFFSET, base_sequence.to_be_bytes());
    update_crc(b);
    Ok(())
}

/// Sets the base offset of the batch at the start of `batch` (as a broker does when appending it to a
/// log). The base offset is outside the CRC, so the CRC stays valid.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), ProtocolError> {
    batch_extent(batch)?;
    put_at(batch, BASE_OFFSET_OFFSET, base_offset.to_be_bytes());
    Ok(())
}

/// Sets the partition leader epoch of the batch at the start of `batch` (as a broker does when appending
/// it to a log). The field is outside the CRC, so the CRC stays valid.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), ProtocolError> {
    batch_extent(batch)?;
    put_at(batch, PARTITION_LEADER_EPOCH_OFFSET, epoch.to_be_bytes());
    Ok(())
}

/// Marks the batch at the start of `batch` as timestamped at log-append time `timestamp` (attribute bit 3,
/// and `maxTimestamp`), as a broker does for topics with `message.timestamp.type=LogAppendTime`, and
/// recomputes the CRC. Readers then report `timestamp` for every record of the batch.
pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) -> Result<(), ProtocolError> {
    let total = batch_extent(batch)?;
    let b = &mut batch[..total];
    let attributes =
        i16::from_be_bytes([b[ATTRIBUTES_OFFSET], b[ATTRIBUTES_OFFSET + 1]]) | TIMESTAMP_TYPE_MASK;
    put_at(b, ATTRIBUTES_OFFSET, attributes.to_be_bytes());
    put_at(b, MAX_TIMESTAMP_OFFSET, timestamp.to_be_bytes());
    update_crc(b);
    Ok(())
}
