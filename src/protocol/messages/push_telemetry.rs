//! PushTelemetry (key 72): a client's metrics, an OpenTelemetry `MetricsData` protobuf, possibly
//! compressed (KIP-714). Schema version 0 only (unchanged in Kafka 4.3.1 and 4.4.0); flexible from v0.
//!
//! The request echoes the client instance id and subscription id of the last GetTelemetrySubscriptions
//! answer; `terminating` marks the last push of a client that is closing (the broker accepts it out of
//! the push interval). `compression_type` is a record batch codec id (0 none, 1 gzip, 2 snappy, 3 lz4,
//! 4 zstd) among the ones the subscription accepts.

use bytes::Bytes;

use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// PushTelemetryRequest.
    pub struct PushTelemetryRequest {
        /// The client instance id; v0+.
        pub client_instance_id: Uuid => 0..,
        /// The id of the subscription the metrics answer; v0+.
        pub subscription_id: i32 => 0..,
        /// True for the last push of a client that is closing; v0+.
        pub terminating: bool => 0..,
        /// The codec `metrics` is compressed with (a record batch codec id); v0+.
        pub compression_type: i8 => 0..,
        /// The metrics: an OpenTelemetry MetricsData v1 protobuf, compressed with `compression_type`;
        /// v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::bytes()"))]
        pub metrics: Bytes => 0..,
    }
}
crate::kafka_message!(PushTelemetryRequest, ApiKey::PUSH_TELEMETRY, 0, 0, 0);

impl Request for PushTelemetryRequest {
    type Response = PushTelemetryResponse;
}

crate::kafka_struct! {
    /// PushTelemetryResponse.
    pub struct PushTelemetryResponse {
        /// Throttle time in ms due to a quota violation, or zero; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
    }
}
crate::kafka_message!(PushTelemetryResponse, ApiKey::PUSH_TELEMETRY, 0, 0, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: PushTelemetryRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: PushTelemetryResponse) { roundtrip_all_versions(&m); }
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            let _ = PushTelemetryRequest::decode_body(&data, 0);
            let _ = PushTelemetryResponse::decode_body(&data, 0);
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    #[test]
    fn request_golden() {
        // Instance id, subscription 3, terminating, zstd (4), compact bytes of 2 (len + 1), no tags.
        let m = PushTelemetryRequest {
            client_instance_id: Uuid([9; 16]),
            subscription_id: 3,
            terminating: true,
            compression_type: 4,
            metrics: Bytes::from_static(b"\x0a\x00"),
        };
        let body = [&[9u8; 16][..], b"\x00\x00\x00\x03\x01\x04\x03\x0a\x00\x00"].concat();
        assert_eq!(encode(&m, 0), body);
        assert_eq!(PushTelemetryRequest::decode_body(&body, 0).unwrap(), m);
    }

    #[test]
    fn response_golden() {
        // throttle 0, error 117 (UNKNOWN_SUBSCRIPTION_ID), no tags.
        let body = b"\x00\x00\x00\x00\x00\x75\x00";
        let r = PushTelemetryResponse::decode_body(body, 0).unwrap();
        assert_eq!(r.error_code, ErrorCode::UNKNOWN_SUBSCRIPTION_ID);
        assert_eq!(encode(&r, 0), body);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        let e = PushTelemetryRequest::default().encode_body(&mut out, 1).unwrap_err();
        assert!(matches!(e, ProtocolError::UnsupportedVersion { version: 1, min: 0, max: 0, .. }));
        assert!(PushTelemetryResponse::decode_body(&[], -1).is_err());
        assert!(out.is_empty());
    }
}
