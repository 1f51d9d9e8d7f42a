//! EndTxn (key 26): commits or aborts a transaction. Schema versions 0–5, flexible from v3. v5 (KIP-890,
//! transactions v2) returns the producer id and epoch the coordinator bumped to.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// EndTxnRequest.
    pub struct EndTxnRequest {
        /// The transactional id; v0+.
        pub transactional_id: String => 0..,
        /// The producer id; v0+.
        pub producer_id: i64 => 0..,
        /// The producer epoch; v0+.
        pub producer_epoch: i16 => 0..,
        /// True to commit, false to abort; v0+.
        pub committed: bool => 0..,
    }
}
crate::kafka_message!(EndTxnRequest, ApiKey::END_TXN, 0, 5, 3);

impl Request for EndTxnRequest {
    type Response = EndTxnResponse;
}

crate::kafka_struct! {
    /// EndTxnResponse.
    pub struct EndTxnResponse {
        /// Throttle time in ms; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0; v0+.
        pub error_code: ErrorCode => 0..,
        /// The producer id after the transaction ended; v5+, default -1.
        pub producer_id: i64 => 5..; default -1,
        /// The producer epoch after the transaction ended; v5+, default -1.
        pub producer_epoch: i16 => 5..; default -1,
    }
}
crate::kafka_message!(EndTxnResponse, ApiKey::END_TXN, 0, 5, 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: EndTxnRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: EndTxnResponse) { roundtrip_all_versions(&m); }
    }

    #[test]
    fn goldens() {
        let m = EndTxnRequest {
            transactional_id: "t".into(),
            producer_id: 1,
            producer_epoch: 0,
            committed: true,
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 0).unwrap();
        assert_eq!(out, b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01");
        out.clear();
        m.encode_body(&mut out, 3).unwrap();
        assert_eq!(out, b"\x02t\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00");
        // v4 response has no producer fields; decoding leaves the schema default.
        let r = EndTxnResponse::decode_body(b"\x00\x00\x00\x00\x00\x00\x00", 4).unwrap();
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        assert!(matches!(m.encode_body(&mut out, 6), Err(ProtocolError::UnsupportedVersion { .. })));
    }
}
