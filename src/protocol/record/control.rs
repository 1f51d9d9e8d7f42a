//! Control records (KIP-98): the commit and abort markers a transaction coordinator has written to each
//! partition of a transaction when it ends.
//!
//! A control record sits alone in a batch with the control and transactional attribute bits set. Its key
//! is `version: int16` (0) followed by `type: int16` (0 abort, 1 commit; other types are used by KRaft's
//! metadata log). The value of a commit or abort marker is `version: int16` (0) followed by
//! `coordinatorEpoch: int32`.

use crate::compression::CompressionType;
use crate::protocol::{ProtocolError, Reader};

use super::batch::{set_base_offset, BatchParams, RecordBatchWriter, NO_HEADERS, NO_SEQUENCE};

/// The key and value versions kprod writes.
const CONTROL_VERSION: i16 = 0;

/// The type of a control record, from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlRecordType {
    /// Type 0: the transaction was aborted.
    Abort,
    /// Type 1: the transaction was committed.
    Commit,
    /// Any other type (KRaft's leader-change, snapshot and voter records, or newer ones).
    Other(i16),
}

impl ControlRecordType {
    /// The type id written in the control record key.
    pub fn id(self) -> i16 {
        match self {
            ControlRecordType::Abort => 0,
            ControlRecordType::Commit => 1,
            ControlRecordType::Other(id) => id,
        }
    }

    /// The type for an id read from a control record key.
    pub fn from_id(id: i16) -> Self {
        match id {
            0 => ControlRecordType::Abort,
            1 => ControlRecordType::Commit,
            other => ControlRecordType::Other(other),
        }
    }
}

/// A decoded control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlRecord {
    /// The key's version (0 today; newer versions are read as version 0, as Kafka does).
    pub version: i16,
    /// What the record marks.
    pub kind: ControlRecordType,
    /// For commit and abort markers, the epoch of the transaction coordinator that wrote them; `None` for
    /// other types, whose values are not decoded.
    pub coordinator_epoch: Option<i32>,
}

impl ControlRecord {
    /// Decodes a control record from its key and value.
    pub fn parse(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Self, ProtocolError> {
        let key = key.ok_or_else(|| ProtocolError::invalid("control record", "null key"))?;
        let mut r = Reader::new(key);
        let version = r.i16()?;
        if version < 0 {
            return Err(ProtocolError::invalid("control record", format!("negative key version {version}")));
        }
        let kind = ControlRecordType::from_id(r.i16()?);
        let coordinator_epoch = match kind {
            ControlRecordType::Abort | ControlRecordType::Commit => {
                let value =
                    value.ok_or_else(|| ProtocolError::invalid("control record", "null marker value"))?;
                let mut r = Reader::new(value);
                let value_version = r.i16()?;
                if value_version < 0 {
                    return Err(ProtocolError::invalid(
                        "control record",
                        format!("negative marker value version {value_version}"),
                    ));
                }
                Some(r.i32()?)
            }
            ControlRecordType::Other(_) => None,
        };
        Ok(ControlRecord { version, kind, coordinator_epoch })
    }

    /// True for a commit marker.
    pub fn is_commit(&self) -> bool {
        self.kind == ControlRecordType::Commit
    }

    /// True for an abort marker.
    pub fn is_abort(&self) -> bool {
        self.kind == ControlRecordType::Abort
    }
}

/// The fields of an end-transaction marker batch (what a broker writes on `WriteTxnMarkers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTxnMarker {
    /// True for a commit marker, false for an abort marker.
    pub commit: bool,
    /// The epoch of the transaction coordinator writing the marker.
    pub coordinator_epoch: i32,
    /// The producer id of the transaction.
    pub producer_id: i64,
    /// The producer epoch of the transaction.
    pub producer_epoch: i16,
    /// The marker's timestamp (base and max timestamp of its batch).
    pub timestamp: i64,
    /// The offset the marker gets in the log.
    pub base_offset: i64,
    /// The partition leader epoch to stamp.
    pub partition_leader_epoch: i32,
}

/// Appends a complete, sealed control batch holding one commit or abort marker to `out`.
pub fn write_end_txn_marker(out: &mut Vec<u8>, marker: &EndTxnMarker) -> Result<(), ProtocolError> {
    let kind = if marker.commit { ControlRecordType::Commit } else { ControlRecordType::Abort };
    let mut key = [0u8; 4];
    key[..2].copy_from_slice(&CONTROL_VERSION.to_be_bytes());
    key[2..].copy_from_slice(&kind.id().to_be_bytes());
    let mut value = [0u8; 6];
    value[..2].copy_from_slice(&CONTROL_VERSION.to_be_bytes());
    value[2..].copy_from_slice(&marker.coordinator_epoch.to_be_bytes());

    let params = BatchParams {
        compression: CompressionType::None,
        producer_id: marker.producer_id,
        producer_epoch: marker.producer_epoch,
        base_sequence: NO_SEQUENCE,
        is_transactional: true,
        base_timestamp: marker.timestamp,
        partition_leader_epoch: marker.partition_leader_epoch,
    };
    // Header, one 17-byte record and its length prefix.
    let mut w = RecordBatchWriter::new_control(Vec::with_capacity(80), params);
    w.append(marker.timestamp, Some(&key), Some(&value), NO_HEADERS)?;
    let mut batch = w.seal(None, &mut Vec::new())?;
    set_base_offset(&mut batch, marker.base_offset)?;
    out.extend_from_slice(&batch);
    Ok(())
}
