//! AddOffsetsToTxn (key 25): tells the transaction coordinator that the transaction will commit a
//! consumer group's offsets (the group's `__consumer_offsets` partition joins the transaction), before
//! TxnOffsetCommit goes to the group coordinator. Schema versions 0–4, all implemented; flexible from v3.
//!
//! The layout never changed: v1 is the same as v0, v2 may answer PRODUCER_FENCED, v3 is the first
//! flexible version and v4 may answer TRANSACTION_ABORTABLE (KIP-890). With transactions v2 (KIP-890
//! part 2) a client skips this request: TxnOffsetCommit v5 does its work.

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// AddOffsetsToTxnRequest: adds a group's offsets to a transaction; v0–4.
    pub struct AddOffsetsToTxnRequest {
        /// The transactional id; v0+.
        pub transactional_id: String => 0..,
        /// The producer id the transactional id currently uses; v0+.
        pub producer_id: i64 => 0..,
        /// The producer epoch of that producer id; v0+.
        pub producer_epoch: i16 => 0..,
        /// The consumer group id whose offsets will be committed; v0+.
        pub group_id: String => 0..,
    }
}
crate::kafka_message!(AddOffsetsToTxnRequest, ApiKey::ADD_OFFSETS_TO_TXN, 0, 4, 3);

impl Request for AddOffsetsToTxnRequest {
    type Response = AddOffsetsToTxnResponse;
}

crate::kafka_struct! {
    /// AddOffsetsToTxnResponse: whether the group was added; v0–4.
    pub struct AddOffsetsToTxnResponse {
        /// Throttle time in ms, or 0; v0+.
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
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            for v in 0..=4 {
                let _ = AddOffsetsToTxnRequest::decode_body(&data, v);
                let _ = AddOffsetsToTxnResponse::decode_body(&data, v);
            }
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    fn request() -> AddOffsetsToTxnRequest {
        AddOffsetsToTxnRequest {
            transactional_id: "t".into(),
            producer_id: 7,
            producer_epoch: 2,
            group_id: "g".into(),
        }
    }

    #[test]
    fn request_v0_golden() {
        // int16 "t", producer id 7, epoch 2, int16 "g".
        let want: &[u8] = b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x07\x00\x02\x00\x01g";
        assert_eq!(encode(&request(), 0), want);
        assert_eq!(encode(&request(), 2), want, "v1 and v2 are the same as v0");
    }

    #[test]
    fn request_v3_golden() {
        // Flexible: compact "t" (len + 1 = 2), id, epoch, compact "g", empty tagged fields.
        assert_eq!(encode(&request(), 3), b"\x02t\x00\x00\x00\x00\x00\x00\x00\x07\x00\x02\x02g\x00");
    }

    #[test]
    fn response_goldens() {
        // v0: throttle 100, error 90 (PRODUCER_FENCED); v3 adds the empty tagged-field section.
        let r = AddOffsetsToTxnResponse { throttle_time_ms: 100, error_code: ErrorCode::PRODUCER_FENCED };
        let v0: &[u8] = b"\x00\x00\x00\x64\x00\x5a";
        assert_eq!(encode(&r, 0), v0);
        assert_eq!(AddOffsetsToTxnResponse::decode_body(v0, 0).unwrap(), r);
        let v3 = [v0, b"\x00"].concat();
        assert_eq!(encode(&r, 3), v3);
        assert_eq!(AddOffsetsToTxnResponse::decode_body(&v3, 4).unwrap(), r);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 5] {
            let e = request().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion {
                api: ApiKey::ADD_OFFSETS_TO_TXN,
                version: v,
                min: 0,
                max: 4,
            };
            assert_eq!(e, want);
            let e = AddOffsetsToTxnResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
