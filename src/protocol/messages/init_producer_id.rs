//! InitProducerId (key 22): obtains a producer id and epoch for an idempotent or transactional producer.
//! Schema versions 0–6 (none removed in Kafka 4.0); flexible from v2.
//!
//! What changes between versions: v1 only changes throttling behaviour; v2 is the first flexible version;
//! v3 adds the current producer id and epoch to the request, so a producer can bump its epoch after an
//! error instead of getting a new id (KIP-360); v4 adds PRODUCER_FENCED and v5 TRANSACTION_ABORTABLE as
//! possible errors; v6 adds two-phase commit (KIP-939). The 4.3.1 and 4.4.0 schemas (identical) mark v6
//! as not yet stable (`latestVersionUnstable`): brokers only advertise it when unstable versions are
//! enabled (`unstable.api.versions.enable`), so version negotiation normally stops at v5. kprod always
//! sends `enable_2pc` and `keep_prepared_txn` false, so v6 means the same as v5; a 4.4.0 broker refuses
//! `keep_prepared_txn` (docs/protocol.md, "Two-phase commit").

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// InitProducerIdRequest.
    pub struct InitProducerIdRequest {
        /// The transactional id, or null if the producer is not transactional; v0+, nullable v0+.
        pub transactional_id: Option<String> => 0..,
        /// The time in ms after which the coordinator aborts an idle transaction of this producer (only
        /// relevant with a transactional id); v0+.
        pub transaction_timeout_ms: i32 => 0..,
        /// The producer's current id, or -1 for a new producer; v3+, schema default -1.
        pub producer_id: i64 => 3..; default -1,
        /// The producer's current epoch, checked against the broker's, or -1 for a new producer; v3+,
        /// schema default -1.
        pub producer_epoch: i16 => 3..; default -1,
        /// True to enable two-phase commit for transactions (KIP-939); v6+, schema default false.
        pub enable_2pc: bool => 6..,
        /// True to keep the ongoing prepared transaction instead of aborting it (KIP-939); v6+, schema
        /// default false.
        pub keep_prepared_txn: bool => 6..,
    }
}
crate::kafka_message!(InitProducerIdRequest, ApiKey::INIT_PRODUCER_ID, 0, 6, 2);

impl Request for InitProducerIdRequest {
    type Response = InitProducerIdResponse;
}

crate::kafka_struct! {
    /// InitProducerIdResponse.
    pub struct InitProducerIdResponse {
        /// Throttle time in ms due to a quota violation, or zero; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The current producer id; v0+, schema default -1.
        pub producer_id: i64 => 0..; default -1,
        /// The current epoch of the producer id; v0+.
        pub producer_epoch: i16 => 0..,
        /// The producer id of the ongoing transaction when `keep_prepared_txn` was set, or -1 if there is
        /// none; v6+, schema default -1.
        pub ongoing_txn_producer_id: i64 => 6..; default -1,
        /// The epoch of that producer id, or -1 if there is no ongoing transaction; v6+, schema default -1.
        pub ongoing_txn_producer_epoch: i16 => 6..; default -1,
    }
}
crate::kafka_message!(InitProducerIdResponse, ApiKey::INIT_PRODUCER_ID, 0, 6, 2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: InitProducerIdRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: InitProducerIdResponse) { roundtrip_all_versions(&m); }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    #[test]
    fn defaults_follow_the_schema() {
        let q = InitProducerIdRequest::default();
        assert_eq!((q.producer_id, q.producer_epoch), (-1, -1));
        let r = InitProducerIdResponse::default();
        assert_eq!((r.producer_id, r.producer_epoch), (-1, 0));
        assert_eq!((r.ongoing_txn_producer_id, r.ongoing_txn_producer_epoch), (-1, -1));
    }

    #[test]
    fn request_v0_golden() {
        // Idempotent producer: null int16 string, timeout 60000; producer id and epoch do not exist yet.
        let m = InitProducerIdRequest { transaction_timeout_ms: 60_000, ..Default::default() };
        assert_eq!(encode(&m, 0), b"\xff\xff\x00\x00\xea\x60");
    }

    #[test]
    fn request_v2_golden() {
        // Flexible: compact string "tx" (len + 1 = 3), timeout, empty tagged fields.
        let m = InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 60_000,
            ..Default::default()
        };
        assert_eq!(encode(&m, 2), b"\x03tx\x00\x00\xea\x60\x00");
    }

    #[test]
    fn request_v4_golden() {
        // Epoch bump after an error: the current id 5 and epoch 2 follow the timeout.
        let m = InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            producer_id: 5,
            producer_epoch: 2,
            ..Default::default()
        };
        assert_eq!(encode(&m, 4), b"\x00\x00\x00\xea\x60\x00\x00\x00\x00\x00\x00\x00\x05\x00\x02\x00");
        // v6 adds enable_2pc and keep_prepared_txn before the tagged fields.
        let m6 = InitProducerIdRequest { enable_2pc: true, ..m };
        assert_eq!(
            encode(&m6, 6),
            b"\x00\x00\x00\xea\x60\x00\x00\x00\x00\x00\x00\x00\x05\x00\x02\x01\x00\x00"
        );
    }

    #[test]
    fn response_goldens() {
        // v0: throttle 0, error 0, producer id 1000, epoch 0.
        let v0 = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\xe8\x00\x00";
        let r = InitProducerIdResponse::decode_body(v0, 0).unwrap();
        assert_eq!((r.error_code, r.producer_id, r.producer_epoch), (ErrorCode(0), 1000, 0));
        assert_eq!(r.ongoing_txn_producer_id, -1, "absent before v6: schema default");
        // v3 (flexible): the same fields plus an empty tagged-field section.
        let v3 = [&v0[..], b"\x00"].concat();
        assert_eq!(InitProducerIdResponse::decode_body(&v3, 3).unwrap(), r);
        assert_eq!(encode(&r, 3), v3);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 7] {
            let e = InitProducerIdRequest::default().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion {
                api: ApiKey::INIT_PRODUCER_ID,
                version: v,
                min: 0,
                max: 6,
            };
            assert_eq!(e, want);
            let e = InitProducerIdResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
