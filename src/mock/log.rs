//! Partition logs: stored batches and records, offset assignment, and the broker-side producer state that
//! makes idempotence checks (duplicates, sequence gaps, fencing) behave like Kafka's
//! `ProducerStateManager` / `ProducerAppendInfo`.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use crate::protocol::record::{
    set_base_offset, set_partition_leader_epoch, write_end_txn_marker, ControlRecord, EndTxnMarker,
    OwnedRecord, TimestampType,
};
use crate::protocol::ErrorCode;

/// How many batches per producer and partition Kafka remembers for duplicate detection
/// (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
pub(crate) const BATCHES_RETAINED: usize = 5;

/// Byte offset of `attributes` in a v2 batch.
const ATTRIBUTES_AT: usize = 21;
/// Byte offset of the CRC in a v2 batch.
const CRC_AT: usize = 17;
/// Byte offset of `maxTimestamp` in a v2 batch.
const MAX_TIMESTAMP_AT: usize = 35;
/// Attribute bit 3: log-append time.
const LOG_APPEND_TIME_BIT: i16 = 0x08;

/// One record batch as stored in a partition of the mock cluster, with its offsets assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// Number of records.
    pub record_count: i32,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// True when the batch belongs to a transaction.
    pub transactional: bool,
    /// True for a control batch (a commit or abort marker written by the transaction coordinator).
    pub control: bool,
    /// The compression codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
    pub compression: i16,
    /// The partition leader epoch the leader stamped.
    pub partition_leader_epoch: i32,
    /// The batch's max timestamp (the append time for log-append-time topics).
    pub max_timestamp: i64,
    /// The complete batch as stored (base offset, leader epoch and, for log-append-time topics, the
    /// timestamp type and CRC rewritten). Empty in null-sink mode, where nothing is stored.
    pub bytes: Bytes,
}

/// One record as stored in a partition of the mock cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredRecord {
    /// The record's offset.
    pub offset: i64,
    /// The record's timestamp (the append time for log-append-time topics).
    pub timestamp: i64,
    /// Whether `timestamp` is the producer's create time or the broker's append time.
    pub timestamp_type: TimestampType,
    /// The key; `None` when null.
    pub key: Option<Bytes>,
    /// The value; `None` when null.
    pub value: Option<Bytes>,
    /// The headers in order.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// The batch's producer id, or -1.
    pub producer_id: i64,
    /// The batch's producer epoch, or -1.
    pub producer_epoch: i16,
    /// The record's sequence number (batch base sequence plus offset delta), or -1.
    pub sequence: i32,
    /// True when the record belongs to a transaction.
    pub transactional: bool,
    /// For a control record (transaction marker), its decoded contents; `None` for data records.
    pub control: Option<ControlRecord>,
    /// The partition leader epoch the batch was stamped with.
    pub partition_leader_epoch: i32,
}

impl StoredRecord {
    /// True for a commit or abort marker.
    pub fn is_control(&self) -> bool {
        self.control.is_some()
    }
}

/// The header fields of an incoming batch that the broker's checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchHeader {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub last_offset_delta: i32,
    pub record_count: i32,
    pub max_timestamp: i64,
    pub attributes: i16,
}

impl BatchHeader {
    /// Reads the header of the batch at the start of `b` without verifying anything but its size.
    pub fn peek(b: &[u8]) -> Option<BatchHeader> {
        let i16_at = |at: usize| b.get(at..at + 2).map(|s| i16::from_be_bytes([s[0], s[1]]));
        let i32_at = |at: usize| b.get(at..at + 4).map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]));
        let i64_at = |at: usize| {
            b.get(at..at + 8).map(|s| i64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
        };
        Some(BatchHeader {
            attributes: i16_at(ATTRIBUTES_AT)?,
            last_offset_delta: i32_at(23)?,
            max_timestamp: i64_at(MAX_TIMESTAMP_AT)?,
            producer_id: i64_at(43)?,
            producer_epoch: i16_at(51)?,
            base_sequence: i32_at(53)?,
            record_count: i32_at(57)?,
        })
    }

    pub fn transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    pub fn has_producer_id(&self) -> bool {
        self.producer_id >= 0
    }

    /// The sequence of the last record, wrapping at `i32::MAX` like Kafka's
    /// `DefaultRecordBatch.incrementSequence`.
    pub fn last_sequence(&self) -> i32 {
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }
}

/// `sequence + increment`, wrapping past `i32::MAX` to 0.
pub(crate) fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    if sequence < 0 {
        return sequence;
    }
    if sequence > i32::MAX - increment {
        increment - (i32::MAX - sequence) - 1
    } else {
        sequence + increment
    }
}

/// What Kafka remembers of one appended batch of a producer (`BatchMetadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchMeta {
    pub first_seq: i32,
    pub last_seq: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    pub timestamp: i64,
}

/// The state a partition keeps for one producer id (`ProducerStateEntry`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ProducerEntry {
    pub epoch: i16,
    pub batches: VecDeque<BatchMeta>,
    /// First offset of the producer's open transaction on this partition.
    pub txn_first_offset: Option<i64>,
}

impl ProducerEntry {
    fn set_epoch(&mut self, epoch: i16) {
        if self.epoch != epoch {
            self.epoch = epoch;
            self.batches.clear();
        }
    }
}

/// The outcome of checking an incoming batch against the producer state.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Append the batch.
    Append,
    /// The batch repeats one of the producer's last five: answer with its original offsets.
    Duplicate(BatchMeta),
}

/// One partition's log.
#[derive(Debug, Default)]
pub(crate) struct PartitionLog {
    /// The next offset to assign (the log end offset).
    pub next_offset: i64,
    pub batches: Vec<StoredBatch>,
    pub records: Vec<StoredRecord>,
    pub producers: HashMap<i64, ProducerEntry>,
    /// The high watermark: offsets below it are on every in-sync replica. Only a lossy failover
    /// ([`truncate_to_replicated`](Self::truncate_to_replicated)) reads it.
    pub replicated_to: i64,
}

impl PartitionLog {
    /// Kafka's duplicate detection (`ProducerStateEntry.findDuplicateBatch`): the batch has the epoch and
    /// the first and last sequence of one of the producer's last five batches on this partition.
    pub fn find_duplicate(&self, h: &BatchHeader) -> Option<BatchMeta> {
        if !h.has_producer_id() {
            return None;
        }
        let e = self.producers.get(&h.producer_id)?;
        if e.epoch != h.producer_epoch {
            return None;
        }
        let last = h.last_sequence();
        e.batches.iter().find(|m| m.first_seq == h.base_sequence && m.last_seq == last).copied()
    }

    /// The producer-state checks of Kafka 4.x's `ProducerAppendInfo` for a batch from a client: the epoch
    /// (`INVALID_PRODUCER_EPOCH` when older), then the sequence (`OUT_OF_ORDER_SEQUENCE_NUMBER` for a
    /// gap, or a non-zero first sequence in a new epoch of a known producer), then the transaction state.
    pub fn check_producer(&self, h: &BatchHeader) -> Result<(), ErrorCode> {
        if !h.has_producer_id() {
            return Ok(());
        }
        let entry = self.producers.get(&h.producer_id);
        let current_epoch = entry.map_or(-1, |e| e.epoch);
        if h.producer_epoch < current_epoch {
            return Err(ErrorCode::INVALID_PRODUCER_EPOCH);
        }
        if h.producer_epoch != current_epoch {
            // A new epoch (or a producer this partition has not seen: then any sequence is accepted, as in
            // Kafka since KIP-360, which no longer answers UNKNOWN_PRODUCER_ID here).
            if h.base_sequence != 0 && current_epoch != -1 {
                return Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
        } else {
            let last_seq = entry.and_then(|e| e.batches.back()).map_or(-1, |m| m.last_seq);
            if !(current_epoch == -1 || in_sequence(last_seq, h.base_sequence)) {
                return Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
            }
        }
        if entry.is_some_and(|e| e.txn_first_offset.is_some()) && !h.transactional() {
            return Err(ErrorCode::INVALID_TXN_STATE);
        }
        Ok(())
    }

    /// Both checks in Kafka's order: a duplicate, else the producer state.
    #[cfg(test)]
    pub fn check(&self, h: &BatchHeader) -> Result<Check, ErrorCode> {
        match self.find_duplicate(h) {
            Some(m) => Ok(Check::Duplicate(m)),
            None => self.check_producer(h).map(|()| Check::Append),
        }
    }

    /// True when `producer_id` at `epoch` has an open transaction on this partition.
    pub fn has_open_txn(&self, producer_id: i64, epoch: i16) -> bool {
        self.producers.get(&producer_id).is_some_and(|e| e.epoch == epoch && e.txn_first_offset.is_some())
    }

    /// The epoch this partition last saw from `producer_id`.
    pub fn producer_epoch(&self, producer_id: i64) -> Option<i16> {
        self.producers.get(&producer_id).map(|e| e.epoch)
    }

    /// Appends a checked batch: assigns offsets, stamps the leader epoch (and the append time when
    /// `append_time` is given), updates the producer state and, unless `store` is false (null sink),
    /// keeps the batch and its records. Returns the base offset.
    pub fn append(
        &mut self,
        h: &BatchHeader,
        mut bytes: Vec<u8>,
        records: Vec<OwnedRecord>,
        leader_epoch: i32,
        append_time: Option<i64>,
        store: bool,
    ) -> i64 {
        let base = self.next_offset;
        let last = base + i64::from(h.last_offset_delta.max(0));
        self.next_offset = last + 1;
        let max_timestamp = append_time.unwrap_or(h.max_timestamp);
        if h.has_producer_id() {
            let e = self
                .producers
                .entry(h.producer_id)
                .or_insert_with(|| ProducerEntry { epoch: h.producer_epoch, ..ProducerEntry::default() });
            e.set_epoch(h.producer_epoch);
            e.batches.push_back(BatchMeta {
                first_seq: h.base_sequence,
                last_seq: h.last_sequence(),
                first_offset: base,
                last_offset: last,
                timestamp: max_timestamp,
            });
            while e.batches.len() > BATCHES_RETAINED {
                e.batches.pop_front();
            }
            if h.transactional() && e.txn_first_offset.is_none() {
                e.txn_first_offset = Some(base);
            }
        }
        if !store {
            return base;
        }
        // The sizes were checked when the batch was decoded, so these cannot fail.
        let _ = set_base_offset(&mut bytes, base);
        let _ = set_partition_leader_epoch(&mut bytes, leader_epoch);
        let mut attributes = h.attributes;
        if let Some(t) = append_time {
            attributes |= LOG_APPEND_TIME_BIT;
            stamp_append_time(&mut bytes, attributes, t);
        }
        let timestamp_type = if attributes & LOG_APPEND_TIME_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        };
        let base_timestamp = bytes
            .get(27..35)
            .map(|s| i64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
            .unwrap_or(-1);
        for r in records {
            self.records.push(StoredRecord {
                offset: base + i64::from(r.offset_delta),
                timestamp: match timestamp_type {
                    TimestampType::LogAppendTime => max_timestamp,
                    TimestampType::CreateTime => base_timestamp.wrapping_add(r.timestamp_delta),
                },
                timestamp_type,
                key: r.key,
                value: r.value,
                headers: r.headers,
                producer_id: h.producer_id,
                producer_epoch: h.producer_epoch,
                sequence: increment_sequence(h.base_sequence, r.offset_delta),
                transactional: h.transactional(),
                control: None,
                partition_leader_epoch: leader_epoch,
            });
        }
        self.batches.push(StoredBatch {
            base_offset: base,
            last_offset: last,
            record_count: h.record_count,
            producer_id: h.producer_id,
            producer_epoch: h.producer_epoch,
            base_sequence: h.base_sequence,
            transactional: h.transactional(),
            control: false,
            compression: h.attributes & 0x07,
            partition_leader_epoch: leader_epoch,
            max_timestamp,
            bytes: Bytes::from(bytes),
        });
        base
    }

    /// Every in-sync replica caught up: the high watermark reaches the log end.
    pub fn replicate(&mut self) {
        self.replicated_to = self.next_offset;
    }

    /// A failover to a replica that had only the replicated part of the log (Kafka truncates a new
    /// follower to the leader's log, and an acks 0 or 1 append acknowledged by the old leader alone is
    /// gone): drops everything past the high watermark, batches, records and the producer state they
    /// made. Returns the records dropped.
    pub fn truncate_to_replicated(&mut self) -> Vec<StoredRecord> {
        let hw = self.replicated_to;
        if hw >= self.next_offset {
            return Vec::new();
        }
        let keep = self.records.partition_point(|r| r.offset < hw);
        let dropped = self.records.split_off(keep);
        self.batches.retain(|b| b.base_offset < hw);
        for e in self.producers.values_mut() {
            e.batches.retain(|m| m.first_offset < hw);
            if e.txn_first_offset.is_some_and(|o| o >= hw) {
                e.txn_first_offset = None;
            }
        }
        self.next_offset = hw;
        dropped
    }

    /// Writes a commit or abort marker for `producer_id` (as the transaction coordinator's
    /// WriteTxnMarkers does) and closes the producer's transaction on this partition.
    pub fn append_marker(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        leader_epoch: i32,
        timestamp: i64,
        store: bool,
    ) {
        let base = self.next_offset;
        self.next_offset += 1;
        // The coordinator writes markers with acks=all.
        self.replicated_to = self.next_offset;
        let e = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry { epoch: producer_epoch, ..ProducerEntry::default() });
        e.set_epoch(producer_epoch);
        e.txn_first_offset = None;
        if !store {
            return;
        }
        let marker = EndTxnMarker {
            commit,
            coordinator_epoch: 0,
            producer_id,
            producer_epoch,
            timestamp,
            base_offset: base,
            partition_leader_epoch: leader_epoch,
        };
        let mut bytes = Vec::new();
        if write_end_txn_marker(&mut bytes, &marker).is_err() {
            return;
        }
        let control = crate::protocol::record::decode_batches(&bytes)
            .next()
            .and_then(Result::ok)
            .and_then(|b| b.decode_records().ok())
            .and_then(|rs| rs.into_iter().next())
            .and_then(|r| ControlRecord::parse(r.key.as_deref(), r.value.as_deref()).ok());
        self.records.push(StoredRecord {
            offset: base,
            timestamp,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: None,
            headers: Vec::new(),
            producer_id,
            producer_epoch,
            sequence: -1,
            transactional: true,
            control,
            partition_leader_epoch: leader_epoch,
        });
        self.batches.push(StoredBatch {
            base_offset: base,
            last_offset: base,
            record_count: 1,
            producer_id,
            producer_epoch,
            base_sequence: -1,
            transactional: true,
            control: true,
            compression: 0,
            partition_leader_epoch: leader_epoch,
            max_timestamp: timestamp,
            bytes: Bytes::from(bytes),
        });
    }

    /// The records a `read_committed` consumer would see: data records below the last stable offset
    /// (the first offset of any still open transaction) that are not part of an aborted transaction.
    pub fn read_committed(&self) -> Vec<StoredRecord> {
        // Which transactional records were aborted: walk the log, collecting each producer's open
        // transaction, and resolve it at its marker.
        let mut open: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut aborted = vec![false; self.records.len()];
        for (i, r) in self.records.iter().enumerate() {
            match (&r.control, r.transactional) {
                (Some(c), _) => {
                    let idx = open.remove(&r.producer_id).unwrap_or_default();
                    if c.is_abort() {
                        for j in idx {
                            if let Some(a) = aborted.get_mut(j) {
                                *a = true;
                            }
                        }
                    }
                }
                (None, true) => open.entry(r.producer_id).or_default().push(i),
                (None, false) => {}
            }
        }
        let lso = open
            .values()
            .filter_map(|v| v.first())
            .filter_map(|&i| self.records.get(i))
            .map(|r| r.offset)
            .min()
            .unwrap_or(i64::MAX);
        self.records
            .iter()
            .zip(aborted)
            .filter(|(r, a)| !a && r.control.is_none() && r.offset < lso)
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Checks the log's invariants: dense, increasing offsets; per producer id and epoch, contiguous
    /// sequence numbers without repeats. Returns a description of the first violation.
    pub fn check_invariants(&self, name: &str) -> Result<(), String> {
        let mut expected = None;
        let mut seqs: HashMap<(i64, i16), i32> = HashMap::new();
        for b in &self.batches {
            if let Some(e) = expected {
                if b.base_offset != e {
                    return Err(format!(
                        "{name}: batch at offset {} follows offset {}",
                        b.base_offset,
                        e - 1
                    ));
                }
            }
            expected = Some(b.last_offset + 1);
            if b.control || b.producer_id < 0 || b.base_sequence < 0 {
                continue;
            }
            let key = (b.producer_id, b.producer_epoch);
            if let Some(&last) = seqs.get(&key) {
                if !in_sequence(last, b.base_sequence) {
                    return Err(format!(
                        "{name}: producer {} epoch {} wrote sequence {} after {} (offset {})",
                        b.producer_id, b.producer_epoch, b.base_sequence, last, b.base_offset
                    ));
                }
            }
            seqs.insert(key, increment_sequence(b.base_sequence, b.record_count.saturating_sub(1)));
        }
        Ok(())
    }
}

/// Kafka's `inSequence`: the next sequence follows the last one, wrapping at `i32::MAX`.
pub(crate) fn in_sequence(last: i32, next: i32) -> bool {
    i64::from(next) == i64::from(last) + 1 || (next == 0 && last == i32::MAX)
}

/// Marks a stored batch as log-append time: sets the attribute bit and the max timestamp, and
/// recomputes the CRC (which covers the attributes onwards).
fn stamp_append_time(bytes: &mut [u8], attributes: i16, time: i64) {
    if bytes.len() < 61 {
        return;
    }
    bytes[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    bytes[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&time.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[ATTRIBUTES_AT..]);
    bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(pid: i64, epoch: i16, seq: i32, n: i32) -> BatchHeader {
        BatchHeader {
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            last_offset_delta: n - 1,
            record_count: n,
            max_timestamp: 0,
            attributes: 0,
        }
    }

    fn append(log: &mut PartitionLog, h: &BatchHeader) -> i64 {
        log.append(h, Vec::new(), Vec::new(), 0, None, false)
    }

    #[test]
    fn sequences_like_kafka() {
        let mut log = PartitionLog::default();
        // An unknown producer may start at any sequence (Kafka since KIP-360).
        let h = header(7, 0, 10, 3);
        assert_eq!(log.check(&h), Ok(Check::Append));
        assert_eq!(append(&mut log, &h), 0);
        // Gap.
        assert_eq!(log.check(&header(7, 0, 14, 1)), Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
        // In sequence.
        let h2 = header(7, 0, 13, 2);
        assert_eq!(log.check(&h2), Ok(Check::Append));
        assert_eq!(append(&mut log, &h2), 3);
        // Duplicate of a retained batch: its original offsets.
        match log.check(&h) {
            Ok(Check::Duplicate(m)) => assert_eq!((m.first_offset, m.last_offset), (0, 2)),
            other => panic!("{other:?}"),
        }
        // An older epoch is fenced; a new epoch must restart at 0.
        assert_eq!(log.check(&header(7, -1, 15, 1)), Err(ErrorCode::INVALID_PRODUCER_EPOCH));
        assert_eq!(log.check(&header(7, 1, 15, 1)), Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
        assert_eq!(log.check(&header(7, 1, 0, 1)), Ok(Check::Append));
    }

    #[test]
    fn only_five_batches_are_remembered() {
        let mut log = PartitionLog::default();
        for i in 0..6 {
            let h = header(1, 0, i, 1);
            assert_eq!(log.check(&h), Ok(Check::Append));
            append(&mut log, &h);
        }
        // Sequence 0 fell out of the window: no longer a recognised duplicate, so it is out of order.
        assert_eq!(log.check(&header(1, 0, 0, 1)), Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
        assert!(matches!(log.check(&header(1, 0, 1, 1)), Ok(Check::Duplicate(_))));
    }

    #[test]
    fn sequence_wraps() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        assert!(in_sequence(i32::MAX, 0));
    }
}
