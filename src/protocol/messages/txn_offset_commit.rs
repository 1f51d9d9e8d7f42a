//! TxnOffsetCommit (key 28): commits consumer offsets inside a transaction (sent to the group
//! coordinator after AddOffsetsToTxn). Schema versions 0–5, flexible from v3. v3+ (KIP-447) carries the
//! consumer group metadata (generation, member id, group instance id) so the coordinator can fence
//! zombies.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// One partition's offset to commit; v0+.
    pub struct TxnOffsetCommitRequestPartition {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The offset to commit; v0+.
        pub committed_offset: i64 => 0..,
        /// The leader epoch of the last consumed record; v2+, default -1.
        pub committed_leader_epoch: i32 => 2..; default -1,
        /// Metadata to store with the offset, or null; v0+.
        pub committed_metadata: Option<String> => 0..,
    }
}

crate::kafka_struct! {
    /// One topic's offsets; v0+.
    pub struct TxnOffsetCommitRequestTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// The partitions; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub partitions: Vec<TxnOffsetCommitRequestPartition> => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitRequest.
    pub struct TxnOffsetCommitRequest {
        /// The transactional id; v0+.
        pub transactional_id: String => 0..,
        /// The consumer group id; v0+.
        pub group_id: String => 0..,
        /// The producer id; v0+.
        pub producer_id: i64 => 0..,
        /// The producer epoch; v0+.
        pub producer_epoch: i16 => 0..,
        /// The group generation; v3+, default -1.
        pub generation_id: i32 => 3..; default -1,
        /// The member id assigned by the group coordinator; v3+.
        pub member_id: String => 3..,
        /// The static member's instance id, or null; v3+.
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

crate::kafka_struct! {
    /// One partition's result; v0+.
    pub struct TxnOffsetCommitResponsePartition {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The error code, or 0; v0+.
        pub error_code: ErrorCode => 0..,
    }
}

crate::kafka_struct! {
    /// One topic's results; v0+.
    pub struct TxnOffsetCommitResponseTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// Each partition's result; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub partitions: Vec<TxnOffsetCommitResponsePartition> => 0..,
    }
}

crate::kafka_struct! {
    /// TxnOffsetCommitResponse.
    pub struct TxnOffsetCommitResponse {
        /// Throttle time in ms; v0+.
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
    }

    #[test]
    fn goldens() {
        let m = TxnOffsetCommitRequest {
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
                    committed_leader_epoch: -1,
                    committed_metadata: None,
                }],
            }],
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 0).unwrap();
        let mut want = b"\x00\x01t\x00\x01g\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00".to_vec();
        want.extend_from_slice(b"\x00\x00\x00\x01\x00\x01a\x00\x00\x00\x01\x00\x00\x00\x00");
        want.extend_from_slice(b"\x00\x00\x00\x00\x00\x00\x00\x2a\xff\xff");
        assert_eq!(out, want);
        out.clear();
        m.encode_body(&mut out, 3).unwrap();
        let mut want =
            b"\x02t\x02g\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x03\x02m\x00".to_vec();
        want.extend_from_slice(
            b"\x02\x02a\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x2a\xff\xff\xff\xff\x00\x00\x00\x00",
        );
        assert_eq!(out, want);
        assert!(matches!(m.encode_body(&mut out, 6), Err(ProtocolError::UnsupportedVersion { .. })));
    }
}
