//! AddOffsetsToTxn (key 25): adds a consumer group's offsets partition to a transaction, before
//! TxnOffsetCommit. Schema versions 0–4, flexible from v3 (v2 adds PRODUCER_FENCED, v4 TRANSACTION_ABORTABLE).

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// AddOffsetsToTxnRequest.
    pub struct AddOffsetsToTxnRequest {
        /// The transactional id; v0+.
        pub transactional_id: String => 0..,
        /// The producer id; v0+.
        pub producer_id: i64 => 0..,
        /// The producer epoch; v0+.
        pub producer_epoch: i16 => 0..,
        /// The consumer group id; v0+.
        pub group_id: String => 0..,
    }
}
crate::kafka_message!(AddOffsetsToTxnRequest, ApiKey::ADD_OFFSETS_TO_TXN, 0, 4, 3);

impl Request for AddOffsetsToTxnRequest {
    type Response = AddOffsetsToTxnResponse;
}

crate::kafka_struct! {
    /// AddOffsetsToTxnResponse.
    pub struct AddOffsetsToTxnResponse {
        /// Throttle time in ms; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0; v0+.
        pub error_code: ErrorCode => 0..,
    }
}
crate::kafka_message!(AddOffsetsToTxnResponse, ApiKey::ADD_OFFSETS_TO_TXN, 0, 4, 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: AddOffsetsToTxnRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: AddOffsetsToTxnResponse) { roundtrip_all_versions(&m); }
    }

    #[test]
    fn goldens() {
        let m = AddOffsetsToTxnRequest {
            transactional_id: "t".into(),
            producer_id: 7,
            producer_epoch: 2,
            group_id: "g".into(),
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 0).unwrap();
        assert_eq!(out, b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x07\x00\x02\x00\x01g");
        out.clear();
        m.encode_body(&mut out, 3).unwrap();
        assert_eq!(out, b"\x02t\x00\x00\x00\x00\x00\x00\x00\x07\x00\x02\x02g\x00");
        assert!(matches!(m.encode_body(&mut out, 5), Err(ProtocolError::UnsupportedVersion { .. })));
    }
}
