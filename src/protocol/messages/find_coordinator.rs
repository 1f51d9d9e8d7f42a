//! FindCoordinator (key 10): which broker coordinates a consumer group or a transactional id. Schema
//! versions 0–6, flexible from v3. v0–3 look up one key and answer with one coordinator; v4+ (KIP-699)
//! batch several keys and answer with a `coordinators` array. `key_type` is 0 for groups, 1 for
//! transactions (v1+).

use crate::protocol::{ApiKey, ErrorCode, Request};

/// `key_type` for a consumer group.
pub const KEY_TYPE_GROUP: i8 = 0;
/// `key_type` for a transactional id.
pub const KEY_TYPE_TRANSACTION: i8 = 1;

crate::kafka_struct! {
    /// FindCoordinatorRequest.
    pub struct FindCoordinatorRequest {
        /// The key to look up; v0–3.
        pub key: String => 0..=3,
        /// The key type: 0 group, 1 transaction; v1+.
        pub key_type: i8 => 1..,
        /// The keys to look up; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub coordinator_keys: Vec<String> => 4..,
    }
}
crate::kafka_message!(FindCoordinatorRequest, ApiKey::FIND_COORDINATOR, 0, 6, 3);

impl Request for FindCoordinatorRequest {
    type Response = FindCoordinatorResponse;
}

crate::kafka_struct! {
    /// One key's coordinator; v4+.
    pub struct Coordinator {
        /// The coordinator key; v4+.
        pub key: String => 4..,
        /// The node id; v4+.
        pub node_id: i32 => 4..,
        /// The host name; v4+.
        pub host: String => 4..,
        /// The port; v4+.
        pub port: i32 => 4..,
        /// The error code, or 0; v4+.
        pub error_code: ErrorCode => 4..,
        /// The error message, or null; v4+.
        pub error_message: Option<String> => 4..,
    }
}

crate::kafka_struct! {
    /// FindCoordinatorResponse.
    pub struct FindCoordinatorResponse {
        /// Throttle time in ms; v1+.
        pub throttle_time_ms: i32 => 1..,
        /// The error code, or 0; v0–3.
        pub error_code: ErrorCode => 0..=3,
        /// The error message, or null; v1–3.
        pub error_message: Option<String> => 1..=3,
        /// The node id; v0–3.
        pub node_id: i32 => 0..=3,
        /// The host name; v0–3.
        pub host: String => 0..=3,
        /// The port; v0–3.
        pub port: i32 => 0..=3,
        /// Each key's coordinator; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub coordinators: Vec<Coordinator> => 4..,
    }
}
crate::kafka_message!(FindCoordinatorResponse, ApiKey::FIND_COORDINATOR, 0, 6, 3);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: FindCoordinatorRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: FindCoordinatorResponse) { roundtrip_all_versions(&m); }
    }

    #[test]
    fn goldens() {
        let m = FindCoordinatorRequest {
            key: "tx".into(),
            key_type: KEY_TYPE_TRANSACTION,
            coordinator_keys: vec!["tx".into()],
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 1).unwrap();
        assert_eq!(out, b"\x00\x02tx\x01"); // int16 string, key type
        out.clear();
        m.encode_body(&mut out, 4).unwrap();
        assert_eq!(out, b"\x01\x02\x03tx\x00"); // key type, compact array of 1, compact "tx", tags
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        let r = FindCoordinatorRequest::default().encode_body(&mut out, 7);
        assert!(matches!(r, Err(ProtocolError::UnsupportedVersion { .. })));
    }
}
