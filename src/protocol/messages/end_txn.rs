//! EndTxn (key 26): commits or aborts a transaction. Schema versions 0–5, all implemented; flexible
//! from v3.
//!
//! The request layout never changed: v1 is the same as v0, v2 may answer PRODUCER_FENCED, v3 is the
//! first flexible version, v4 may answer TRANSACTION_ABORTABLE (KIP-890). v5 is transactions v2
//! (KIP-890 part 2): the coordinator bumps the producer epoch at the end of every transaction and the
//! response carries the producer id and epoch to use next (schema default -1 when absent, which is
//! what decoding v0–4 yields).

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// EndTxnRequest: commits or aborts the transaction of a transactional id; v0–5.
    pub struct EndTxnRequest {
        /// The transactional id of the transaction to end; v0+.
        pub transactional_id: String => 0..,
        /// The producer id; v0+.
        pub producer_id: i64 => 0..,
        /// The producer's current epoch; v0+.
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
    /// EndTxnResponse: the outcome, and from v5 the producer id and epoch after the bump; v0–5.
    pub struct EndTxnResponse {
        /// Throttle time in ms, or 0; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0; v0+.
        pub error_code: ErrorCode => 0..,
        /// The producer id to use next; v5+, schema default -1.
        pub producer_id: i64 => 5..; default -1,
        /// The producer epoch to use next; v5+, schema default -1.
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
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            for v in 0..=5 {
                let _ = EndTxnRequest::decode_body(&data, v);
                let _ = EndTxnResponse::decode_body(&data, v);
            }
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    fn request() -> EndTxnRequest {
        EndTxnRequest { transactional_id: "t".into(), producer_id: 1, producer_epoch: 0, committed: true }
    }

    #[test]
    fn defaults_follow_the_schema() {
        let r = EndTxnResponse::default();
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    }

    #[test]
    fn request_v0_golden() {
        // int16 "t", producer id 1, epoch 0, committed true.
        let want: &[u8] = b"\x00\x01t\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01";
        assert_eq!(encode(&request(), 0), want);
        assert_eq!(encode(&request(), 2), want, "v1 and v2 are the same as v0");
    }

    #[test]
    fn request_v3_golden() {
        // Flexible: compact "t" (len + 1 = 2), id, epoch, committed, empty tagged fields.
        let want: &[u8] = b"\x02t\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00";
        assert_eq!(encode(&request(), 3), want);
        assert_eq!(encode(&request(), 5), want, "the request layout is the same up to v5");
    }

    #[test]
    fn response_v0_golden_decode() {
        // throttle 0, error 48 (INVALID_TXN_STATE); no producer fields, so they keep the default -1.
        let body: &[u8] = b"\x00\x00\x00\x00\x00\x30";
        let r = EndTxnResponse::decode_body(body, 0).unwrap();
        assert_eq!(r.error_code, ErrorCode::INVALID_TXN_STATE);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        assert_eq!(encode(&r, 0), body);
        // v4 is the same plus the empty tagged-field section.
        let r4 = EndTxnResponse::decode_body(b"\x00\x00\x00\x00\x00\x30\x00", 4).unwrap();
        assert_eq!(r4, r);
    }

    #[test]
    fn response_v5_golden() {
        // throttle 0, error 0, producer id 1, bumped epoch 1, empty tagged fields.
        let r = EndTxnResponse { producer_id: 1, producer_epoch: 1, ..Default::default() };
        let body: &[u8] = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x00";
        assert_eq!(encode(&r, 5), body);
        assert_eq!(EndTxnResponse::decode_body(body, 5).unwrap(), r);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 6] {
            let e = request().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion { api: ApiKey::END_TXN, version: v, min: 0, max: 5 };
            assert_eq!(e, want);
            let e = EndTxnResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
