//! AddPartitionsToTxn (key 24): registers partitions with a transaction before producing to them.
//! Schema versions 0–5, flexible from v3. Versions 0–3 are the client form (one transaction at the top
//! level); v4+ is the broker-side batched form (KIP-890 verification: a `transactions` array with
//! `verify_only`). v5 adds the TRANSACTION_ABORTABLE error.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// Partitions of one topic to add; v0+.
    pub struct AddPartitionsToTxnTopic {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// The partition indexes; v0+.
        pub partitions: Vec<i32> => 0..,
    }
}

crate::kafka_struct! {
    /// One transaction in a batched (v4+) request.
    pub struct AddPartitionsToTxnTransaction {
        /// The transactional id; v4+.
        pub transactional_id: String => 4..,
        /// The producer id; v4+.
        pub producer_id: i64 => 4..,
        /// The producer epoch; v4+.
        pub producer_epoch: i16 => 4..,
        /// Only check that the partitions are already in the transaction; v4+.
        pub verify_only: bool => 4..,
        /// The partitions, per topic; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topics: Vec<AddPartitionsToTxnTopic> => 4..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnRequest.
    pub struct AddPartitionsToTxnRequest {
        /// The transactions to add partitions to; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub transactions: Vec<AddPartitionsToTxnTransaction> => 4..,
        /// The transactional id; v0–3.
        pub v3_and_below_transactional_id: String => 0..=3,
        /// The producer id; v0–3.
        pub v3_and_below_producer_id: i64 => 0..=3,
        /// The producer epoch; v0–3.
        pub v3_and_below_producer_epoch: i16 => 0..=3,
        /// The partitions, per topic; v0–3.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub v3_and_below_topics: Vec<AddPartitionsToTxnTopic> => 0..=3,
    }
}
crate::kafka_message!(AddPartitionsToTxnRequest, ApiKey::ADD_PARTITIONS_TO_TXN, 0, 5, 3);

impl Request for AddPartitionsToTxnRequest {
    type Response = AddPartitionsToTxnResponse;
}

crate::kafka_struct! {
    /// One partition's result; v0+.
    pub struct AddPartitionsToTxnPartitionResult {
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The error code, or 0; v0+.
        pub partition_error_code: ErrorCode => 0..,
    }
}

crate::kafka_struct! {
    /// One topic's results; v0+.
    pub struct AddPartitionsToTxnTopicResult {
        /// The topic name; v0+.
        pub name: String => 0..,
        /// Each partition's result; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub results_by_partition: Vec<AddPartitionsToTxnPartitionResult> => 0..,
    }
}

crate::kafka_struct! {
    /// One transaction's results in a batched (v4+) response.
    pub struct AddPartitionsToTxnResult {
        /// The transactional id; v4+.
        pub transactional_id: String => 4..,
        /// Each topic's results; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub topic_results: Vec<AddPartitionsToTxnTopicResult> => 4..,
    }
}

crate::kafka_struct! {
    /// AddPartitionsToTxnResponse.
    pub struct AddPartitionsToTxnResponse {
        /// Throttle time in ms; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The top-level error code; v4+.
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

    fn small<T: Arbitrary + std::fmt::Debug>() -> impl Strategy<Value = Vec<T>> {
        proptest::collection::vec(any::<T>(), 0..3)
    }

    proptest! {
        #[test]
        fn request_roundtrip(
            txns in small::<AddPartitionsToTxnTransaction>(),
            topics in small::<AddPartitionsToTxnTopic>(),
            id: String, pid: i64, epoch: i16,
        ) {
            roundtrip_all_versions(&AddPartitionsToTxnRequest {
                transactions: txns,
                v3_and_below_transactional_id: id,
                v3_and_below_producer_id: pid,
                v3_and_below_producer_epoch: epoch,
                v3_and_below_topics: topics,
            });
        }
        #[test]
        fn response_roundtrip(m: AddPartitionsToTxnResponse) { roundtrip_all_versions(&m); }
    }

    #[test]
    fn goldens() {
        let topic = AddPartitionsToTxnTopic { name: "a".into(), partitions: vec![0, 2] };
        let m = AddPartitionsToTxnRequest {
            v3_and_below_transactional_id: "t".into(),
            v3_and_below_producer_id: 5,
            v3_and_below_producer_epoch: 1,
            v3_and_below_topics: vec![topic.clone()],
            ..Default::default()
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 0).unwrap();
        assert_eq!(
            out,
            b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x05\x00\x01\x00\x00\x00\x01\x00\x01a\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02"
        );
        out.clear();
        m.encode_body(&mut out, 3).unwrap();
        assert_eq!(
            out,
            b"\x02t\x00\x00\x00\x00\x00\x00\x00\x05\x00\x01\x02\x02a\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00"
        );
        assert!(matches!(m.encode_body(&mut out, 6), Err(ProtocolError::UnsupportedVersion { .. })));
    }
}
