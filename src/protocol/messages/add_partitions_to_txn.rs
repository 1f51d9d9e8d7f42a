//! AddPartitionsToTxn (key 24): registers partitions with a transaction before the producer writes to
//! them. Schema versions 0–5, all implemented; flexible from v3.
//!
//! - v0–3 are the client form: one transaction at the top level (`v3_and_below_*` fields) and results
//!   per topic. v1 is the same as v0, v2 may answer PRODUCER_FENCED, v3 is the first flexible version.
//! - v4+ (KIP-890 part 1) is the broker-side batched form: a `transactions` array, each with
//!   `verify_only` (check that the partitions are already in the transaction rather than add them),
//!   and a top-level `error_code` plus results per transaction. v5 may answer TRANSACTION_ABORTABLE.
//!
//! The schema reserves v4+ for brokers, so a client caps its version at
//! [`AddPartitionsToTxnRequest::CLIENT_MAX_VERSION`]. With transactions v2 (KIP-890 part 2, EndTxn v5)
//! a client does not send this request at all: the partition is added implicitly by Produce.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// AddPartitionsToTxnTopic: partitions of one topic to add (or verify); v0+.
    pub struct AddPartitionsToTxnTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// The partition indexes to add; v0+.
        pub partitions: Vec<i32> => 0..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnTransaction: one transaction in a batched request; v4+.
    pub struct AddPartitionsToTxnTransaction {
        /// The transactional id; v4+.
        pub transactional_id: String => 4..,
        /// The producer id the transactional id currently uses; v4+.
        pub producer_id: i64 => 4..,
        /// The producer epoch of that producer id; v4+.
        pub producer_epoch: i16 => 4..,
        /// True to only check that the partitions are already in the transaction; v4+, default false.
        pub verify_only: bool => 4..,
        /// The partitions, per topic; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topics: Vec<AddPartitionsToTxnTopic> => 4..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnRequest: the client form (v0–3) or the broker-side batched form (v4+); v0–5.
    pub struct AddPartitionsToTxnRequest {
        /// The transactions to add partitions to; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub transactions: Vec<AddPartitionsToTxnTransaction> => 4..,
        /// The transactional id; v0–3.
        pub v3_and_below_transactional_id: String => 0..=3,
        /// The producer id the transactional id currently uses; v0–3.
        pub v3_and_below_producer_id: i64 => 0..=3,
        /// The producer epoch of that producer id; v0–3.
        pub v3_and_below_producer_epoch: i16 => 0..=3,
        /// The partitions to add, per topic; v0–3.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub v3_and_below_topics: Vec<AddPartitionsToTxnTopic> => 0..=3,
    }
}
crate::kafka_message!(AddPartitionsToTxnRequest, ApiKey::ADD_PARTITIONS_TO_TXN, 0, 5, 3);

impl Request for AddPartitionsToTxnRequest {
    type Response = AddPartitionsToTxnResponse;
}

impl AddPartitionsToTxnRequest {
    /// The newest version a client sends: v4+ is reserved for broker-to-broker verification.
    pub const CLIENT_MAX_VERSION: i16 = 3;
}

crate::kafka_struct! {
    /// AddPartitionsToTxnPartitionResult: one partition's result; v0+.
    pub struct AddPartitionsToTxnPartitionResult {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The partition's error code, or 0; v0+.
        pub partition_error_code: ErrorCode => 0..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnTopicResult: one topic's results; v0+.
    pub struct AddPartitionsToTxnTopicResult {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// Each partition's result; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub results_by_partition: Vec<AddPartitionsToTxnPartitionResult> => 0..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnResult: one transaction's results in a batched response; v4+.
    pub struct AddPartitionsToTxnResult {
        /// The transactional id; v4+.
        pub transactional_id: String => 4..,
        /// Each topic's results; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topic_results: Vec<AddPartitionsToTxnTopicResult> => 4..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnResponse: results per topic (v0–3) or per transaction (v4+); v0–5.
    pub struct AddPartitionsToTxnResponse {
        /// Throttle time in ms, or 0; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The top-level error code, or 0; v4+.
        pub error_code: ErrorCode => 4..,
        /// Results per transaction; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub results_by_transaction: Vec<AddPartitionsToTxnResult> => 4..,
        /// Results per topic; v0–3.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub results_by_topic_v3_and_below: Vec<AddPartitionsToTxnTopicResult> => 0..=3,
    }
}
crate::kafka_message!(AddPartitionsToTxnResponse, ApiKey::ADD_PARTITIONS_TO_TXN, 0, 5, 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: AddPartitionsToTxnRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: AddPartitionsToTxnResponse) { roundtrip_all_versions(&m); }
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            for v in 0..=5 {
                let _ = AddPartitionsToTxnRequest::decode_body(&data, v);
                let _ = AddPartitionsToTxnResponse::decode_body(&data, v);
            }
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    fn topic() -> AddPartitionsToTxnTopic {
        AddPartitionsToTxnTopic { name: "a".into(), partitions: vec![0, 2] }
    }

    fn client_request() -> AddPartitionsToTxnRequest {
        AddPartitionsToTxnRequest {
            v3_and_below_transactional_id: "t".into(),
            v3_and_below_producer_id: 5,
            v3_and_below_producer_epoch: 1,
            v3_and_below_topics: vec![topic()],
            ..Default::default()
        }
    }

    #[test]
    fn request_v0_golden() {
        // int16 "t", producer id 5, epoch 1, int32 count 1, int16 "a", int32 count 2, partitions 0 and 2.
        let want: &[u8] = b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x05\x00\x01\
            \x00\x00\x00\x01\x00\x01a\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02";
        assert_eq!(encode(&client_request(), 0), want);
        assert_eq!(encode(&client_request(), 2), want, "v1 and v2 are the same as v0");
    }

    #[test]
    fn request_v3_golden() {
        // Flexible: compact "t", id, epoch, compact count 1 (2), compact "a", compact count 2 (3), the
        // partitions, topic tags, top-level tags.
        let want: &[u8] = b"\x02t\x00\x00\x00\x00\x00\x00\x00\x05\x00\x01\
            \x02\x02a\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00";
        assert_eq!(encode(&client_request(), 3), want);
    }

    #[test]
    fn request_v4_golden() {
        // Batched: compact count 1, compact "t", id 5, epoch 1, verify_only true, compact count 1,
        // compact "a", compact count 1, partition 2, topic tags, transaction tags, top-level tags. The
        // v3-and-below fields are not written.
        let m = AddPartitionsToTxnRequest {
            transactions: vec![AddPartitionsToTxnTransaction {
                transactional_id: "t".into(),
                producer_id: 5,
                producer_epoch: 1,
                verify_only: true,
                topics: vec![AddPartitionsToTxnTopic { name: "a".into(), partitions: vec![2] }],
            }],
            ..client_request()
        };
        let want: &[u8] = b"\x02\x02t\x00\x00\x00\x00\x00\x00\x00\x05\x00\x01\x01\
            \x02\x02a\x02\x00\x00\x00\x02\x00\x00\x00";
        assert_eq!(encode(&m, 4), want);
        assert_eq!(encode(&m, 5), want);
    }

    #[test]
    fn response_v0_golden_decode() {
        // throttle 0; int32 count 1; int16 "a"; int32 count 1; partition 0, error 51.
        let body: &[u8] =
            b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01a\x00\x00\x00\x01\x00\x00\x00\x00\x00\x33";
        let r = AddPartitionsToTxnResponse::decode_body(body, 0).unwrap();
        let want = AddPartitionsToTxnResponse {
            results_by_topic_v3_and_below: vec![AddPartitionsToTxnTopicResult {
                name: "a".into(),
                results_by_partition: vec![AddPartitionsToTxnPartitionResult {
                    partition_index: 0,
                    partition_error_code: ErrorCode::CONCURRENT_TRANSACTIONS,
                }],
            }],
            ..Default::default()
        };
        assert_eq!(r, want);
        assert_eq!(encode(&r, 0), body);
    }

    #[test]
    fn response_v4_golden() {
        // throttle 0, top-level error 0, compact count 1, compact "t", compact count 1, compact "a",
        // compact count 1, partition 2, error 0, partition tags, topic tags, transaction tags, top tags.
        let r = AddPartitionsToTxnResponse {
            results_by_transaction: vec![AddPartitionsToTxnResult {
                transactional_id: "t".into(),
                topic_results: vec![AddPartitionsToTxnTopicResult {
                    name: "a".into(),
                    results_by_partition: vec![AddPartitionsToTxnPartitionResult {
                        partition_index: 2,
                        partition_error_code: ErrorCode::NONE,
                    }],
                }],
            }],
            ..Default::default()
        };
        let body: &[u8] =
            b"\x00\x00\x00\x00\x00\x00\x02\x02t\x02\x02a\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00";
        assert_eq!(encode(&r, 4), body);
        assert_eq!(AddPartitionsToTxnResponse::decode_body(body, 4).unwrap(), r);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 6] {
            let e = client_request().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion {
                api: ApiKey::ADD_PARTITIONS_TO_TXN,
                version: v,
                min: 0,
                max: 5,
            };
            assert_eq!(e, want);
            let e = AddPartitionsToTxnResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
