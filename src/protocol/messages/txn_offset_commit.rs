//! TxnOffsetCommit (key 28): commits consumer offsets as part of a transaction; sent to the group
//! coordinator (after AddOffsetsToTxn under transactions v1). Schema versions 0–5, all implemented;
//! flexible from v3.
//!
//! - v1 is the same as v0; v2 adds each partition's `committed_leader_epoch` (default -1).
//! - v3 (KIP-447) adds the consumer group metadata (`generation_id` default -1, `member_id` default
//!   empty, `group_instance_id` default null) so the group coordinator can fence zombie producers, and
//!   may answer ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID. It is also the first
//!   flexible version.
//! - v4 may answer TRANSACTION_ABORTABLE (KIP-890). v5 has v4's layout; under transactions v2 (KIP-890
//!   part 2) it also does AddOffsetsToTxn's work, so a transactions-v1 client must not send more than
//!   [`TxnOffsetCommitRequest::TV1_MAX_VERSION`].
//!
//! Versions before v3 cannot carry the group metadata: encoding drops it, which loses zombie fencing.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// TxnOffsetCommitRequestPartition: one partition's offset to commit; v0+.
    pub struct TxnOffsetCommitRequestPartition {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The offset to commit; v0+.
        pub committed_offset: i64 => 0..,
        /// The leader epoch of the last consumed record; v2+, schema default -1.
        pub committed_leader_epoch: i32 => 2..; default -1,
        /// Metadata the client stores with the offset, or null; v0+ (nullable v0+).
        pub committed_metadata: Option<String> => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitRequestTopic: one topic's offsets to commit; v0+.
    pub struct TxnOffsetCommitRequestTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// The partitions' offsets; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub partitions: Vec<TxnOffsetCommitRequestPartition> => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitRequest: the offsets a transaction commits for a consumer group; v0–5.
    pub struct TxnOffsetCommitRequest {
        /// The transactional id; v0+.
        pub transactional_id: String => 0..,
        /// The consumer group id; v0+.
        pub group_id: String => 0..,
        /// The producer id the transactional id currently uses; v0+.
        pub producer_id: i64 => 0..,
        /// The producer epoch of that producer id; v0+.
        pub producer_epoch: i16 => 0..,
        /// The consumer's group generation; v3+, schema default -1.
        pub generation_id: i32 => 3..; default -1,
        /// The member id the group coordinator assigned; v3+, schema default empty.
        pub member_id: String => 3..,
        /// The static member's instance id, or null; v3+ (nullable v3+), schema default null.
        pub group_instance_id: Option<String> => 3..,
        /// The offsets, per topic; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topics: Vec<TxnOffsetCommitRequestTopic> => 0..,
    }
}
crate::kafka_message!(TxnOffsetCommitRequest, ApiKey::TXN_OFFSET_COMMIT, 0, 5, 3);

impl Request for TxnOffsetCommitRequest {
    type Response = TxnOffsetCommitResponse;
}

impl TxnOffsetCommitRequest {
    /// The newest version a transactions-v1 client may send inside a transaction: v5 implies
    /// transactions v2 (KIP-890 part 2).
    pub const TV1_MAX_VERSION: i16 = 4;
}

crate::kafka_struct! {
    /// TxnOffsetCommitResponsePartition: one partition's result; v0+.
    pub struct TxnOffsetCommitResponsePartition {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The error code, or 0; v0+.
        pub error_code: ErrorCode => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitResponseTopic: one topic's results; v0+.
    pub struct TxnOffsetCommitResponseTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// Each partition's result; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub partitions: Vec<TxnOffsetCommitResponsePartition> => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitResponse: a result per committed partition; v0–5.
    pub struct TxnOffsetCommitResponse {
        /// Throttle time in ms, or 0; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// Results per topic; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topics: Vec<TxnOffsetCommitResponseTopic> => 0..,
    }
}
crate::kafka_message!(TxnOffsetCommitResponse, ApiKey::TXN_OFFSET_COMMIT, 0, 5, 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: TxnOffsetCommitRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: TxnOffsetCommitResponse) { roundtrip_all_versions(&m); }
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            for v in 0..=5 {
                let _ = TxnOffsetCommitRequest::decode_body(&data, v);
                let _ = TxnOffsetCommitResponse::decode_body(&data, v);
            }
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    /// Offset 42 of partition 0 of topic "a", committed for group "g" by transaction "t" (producer 1,
    /// epoch 0) on behalf of member "m" of generation 3.
    fn request() -> TxnOffsetCommitRequest {
        TxnOffsetCommitRequest {
            transactional_id: "t".into(),
            group_id: "g".into(),
            producer_id: 1,
            producer_epoch: 0,
            generation_id: 3,
            member_id: "m".into(),
            group_instance_id: None,
            topics: vec![TxnOffsetCommitRequestTopic {
                name: "a".into(),
                partitions: vec![TxnOffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: 7,
                    committed_metadata: None,
                }],
            }],
        }
    }

    #[test]
    fn defaults_follow_the_schema() {
        let m = TxnOffsetCommitRequest::default();
        assert_eq!((m.generation_id, m.member_id.as_str(), m.group_instance_id), (-1, "", None));
        assert_eq!(TxnOffsetCommitRequestPartition::default().committed_leader_epoch, -1);
    }

    #[test]
    fn request_v0_golden() {
        // int16 "t", int16 "g", producer id 1, epoch 0 (no group metadata before v3); int32 count 1,
        // int16 "a", int32 count 1, partition 0, offset 42 (no leader epoch before v2), null int16
        // metadata.
        let want: &[u8] = b"\x00\x01t\x00\x01g\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\
            \x00\x00\x00\x01\x00\x01a\x00\x00\x00\x01\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x00\x2a\xff\xff";
        assert_eq!(encode(&request(), 0), want);
        assert_eq!(encode(&request(), 1), want, "v1 is the same as v0");
    }

    #[test]
    fn request_v2_golden() {
        // As v0, plus the leader epoch 7 between the offset and the metadata.
        let want: &[u8] = b"\x00\x01t\x00\x01g\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\
            \x00\x00\x00\x01\x00\x01a\x00\x00\x00\x01\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x07\xff\xff";
        assert_eq!(encode(&request(), 2), want);
    }

    #[test]
    fn request_v3_golden() {
        // Flexible: compact "t", compact "g", id, epoch, generation 3, compact "m", null compact
        // instance id (0); compact count 1, compact "a", compact count 1, partition 0, offset 42,
        // leader epoch 7, null compact metadata; partition, topic and top-level tagged fields.
        let want: &[u8] = b"\x02t\x02g\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x03\x02m\x00\
            \x02\x02a\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x07\x00\
            \x00\x00\x00";
        assert_eq!(encode(&request(), 3), want);
        assert_eq!(encode(&request(), 5), want, "the layout is the same up to v5");
    }

    fn response() -> TxnOffsetCommitResponse {
        TxnOffsetCommitResponse {
            throttle_time_ms: 0,
            topics: vec![TxnOffsetCommitResponseTopic {
                name: "a".into(),
                partitions: vec![TxnOffsetCommitResponsePartition {
                    partition_index: 0,
                    error_code: ErrorCode::UNKNOWN_MEMBER_ID,
                }],
            }],
        }
    }

    #[test]
    fn response_v0_golden_decode() {
        // throttle 0; int32 count 1; int16 "a"; int32 count 1; partition 0, error 25.
        let body: &[u8] =
            b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01a\x00\x00\x00\x01\x00\x00\x00\x00\x00\x19";
        assert_eq!(TxnOffsetCommitResponse::decode_body(body, 0).unwrap(), response());
        assert_eq!(encode(&response(), 0), body);
    }

    #[test]
    fn response_v3_golden() {
        // throttle 0; compact count 1; compact "a"; compact count 1; partition 0, error 25; partition,
        // topic and top-level tagged fields.
        let body: &[u8] = b"\x00\x00\x00\x00\x02\x02a\x02\x00\x00\x00\x00\x00\x19\x00\x00\x00";
        assert_eq!(encode(&response(), 3), body);
        assert_eq!(TxnOffsetCommitResponse::decode_body(body, 3).unwrap(), response());
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 6] {
            let e = request().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion {
                api: ApiKey::TXN_OFFSET_COMMIT,
                version: v,
                min: 0,
                max: 5,
            };
            assert_eq!(e, want);
            let e = TxnOffsetCommitResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
