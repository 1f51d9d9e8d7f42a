//! GetTelemetrySubscriptions (key 71): which client metrics the broker wants pushed, how often and how
//! (KIP-714). Schema version 0 only (unchanged in Kafka 4.3.1 and 4.4.0); flexible from v0.
//!
//! The first request carries the zero client instance id and the broker assigns one; every later
//! request (to any broker) carries the assigned id. The answer names the subscription (its id is echoed
//! in each PushTelemetry), the metric name prefixes wanted (none: push nothing; one empty string: push
//! everything), the push interval, the largest payload accepted, the compression types accepted (in the
//! broker's order of preference) and whether sums are pushed as deltas.

use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// GetTelemetrySubscriptionsRequest.
    pub struct GetTelemetrySubscriptionsRequest {
        /// The client instance id, or zero on the first request (the broker then assigns one); v0+.
        pub client_instance_id: Uuid => 0..,
    }
}
crate::kafka_message!(GetTelemetrySubscriptionsRequest, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS, 0, 0, 0);

impl Request for GetTelemetrySubscriptionsRequest {
    type Response = GetTelemetrySubscriptionsResponse;
}

crate::kafka_struct! {
    /// GetTelemetrySubscriptionsResponse.
    pub struct GetTelemetrySubscriptionsResponse {
        /// Throttle time in ms due to a quota violation, or zero; v0+.
        pub throttle_time_ms: i32 => 0..,
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The id the broker assigned when the request carried zero, else zero; v0+.
        pub client_instance_id: Uuid => 0..,
        /// The id of the current subscription set for this client instance; v0+.
        pub subscription_id: i32 => 0..,
        /// The compression types (record batch codec ids) the broker accepts for PushTelemetry, in its
        /// order of preference; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub accepted_compression_types: Vec<i8> => 0..,
        /// The push interval in ms: the lowest interval of the matching subscriptions; v0+.
        pub push_interval_ms: i32 => 0..,
        /// The most bytes of metrics the broker accepts in one PushTelemetry; v0+.
        pub telemetry_max_bytes: i32 => 0..,
        /// True to push monotonic sums as deltas, false for cumulative values; v0+.
        pub delta_temporality: bool => 0..,
        /// The metric name prefixes wanted: empty for none, one empty string for all; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub requested_metrics: Vec<String> => 0..,
    }
}
// A one-character prefix is a compact string of 2 bytes held in 24 (12×).
crate::kafka_message!(GetTelemetrySubscriptionsResponse, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS, 0, 0, 0; budget 16);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: GetTelemetrySubscriptionsRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: GetTelemetrySubscriptionsResponse) { roundtrip_all_versions(&m); }
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            let _ = GetTelemetrySubscriptionsRequest::decode_body(&data, 0);
            let _ = GetTelemetrySubscriptionsResponse::decode_body(&data, 0);
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    #[test]
    fn request_golden() {
        // The first request: 16 zero bytes, then the empty tagged-field section.
        let m = GetTelemetrySubscriptionsRequest::default();
        assert_eq!(encode(&m, 0), [&[0u8; 16][..], b"\x00"].concat());
        let id = Uuid([7; 16]);
        let m = GetTelemetrySubscriptionsRequest { client_instance_id: id };
        assert_eq!(GetTelemetrySubscriptionsRequest::decode_body(&encode(&m, 0), 0).unwrap(), m);
    }

    #[test]
    fn response_golden() {
        let r = GetTelemetrySubscriptionsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            client_instance_id: Uuid([1; 16]),
            subscription_id: 5,
            accepted_compression_types: vec![4, 3, 1, 2],
            push_interval_ms: 1000,
            telemetry_max_bytes: 1_048_576,
            delta_temporality: true,
            requested_metrics: vec!["org.apache.kafka.producer.".into()],
        };
        let body = [
            &b"\x00\x00\x00\x00\x00\x00"[..],
            &[1; 16],
            b"\x00\x00\x00\x05",
            b"\x05\x04\x03\x01\x02", // compact array of 4 int8s
            b"\x00\x00\x03\xe8",
            b"\x00\x10\x00\x00",
            b"\x01",
            b"\x02\x1borg.apache.kafka.producer.", // compact array of 1, compact string of 26
            b"\x00",
        ]
        .concat();
        assert_eq!(encode(&r, 0), body);
        assert_eq!(GetTelemetrySubscriptionsResponse::decode_body(&body, 0).unwrap(), r);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        let e = GetTelemetrySubscriptionsRequest::default().encode_body(&mut out, 1).unwrap_err();
        assert!(matches!(e, ProtocolError::UnsupportedVersion { version: 1, min: 0, max: 0, .. }));
        assert!(GetTelemetrySubscriptionsResponse::decode_body(&[], 1).is_err());
        assert!(out.is_empty());
    }
}
