//! FindCoordinator (key 10): which broker coordinates a consumer group or a transactional id.
//! Schema versions 0–6, all implemented; flexible from v3.
//!
//! - v0 looks up a consumer group only (there is no key type); v1 adds `key_type` (0 group,
//!   1 transaction), which is what Kafka 0.11's transactions use; v2 is the same as v1.
//! - v0–3 look up one `key` and answer with one coordinator in top-level fields (`error_message` and
//!   `throttle_time_ms` from v1).
//! - v4+ (KIP-699) batch several `coordinator_keys` and answer with a `coordinators` array, one entry
//!   per key, each with its own error.
//! - v5 may answer TRANSACTION_ABORTABLE (KIP-890); v6 adds key type 2, share groups (KIP-932), whose
//!   key is `"groupId:topicId:partition"`.
//!
//! [`FindCoordinatorRequest::single`] builds a one-key lookup that encodes correctly at every version,
//! and [`FindCoordinatorResponse::coordinator`] reads the answer for that key from either layout.
//!
//! The schema marks `key_type` as not ignorable: a v0 request cannot carry it, so a v0 lookup is always
//! a group lookup whatever `key_type` holds. Use v1+ for transactional ids.

use crate::protocol::{ApiKey, ErrorCode, Request};

/// `key_type` for a consumer group (the only kind v0 can look up).
pub const KEY_TYPE_GROUP: i8 = 0;
/// `key_type` for a transactional id; v1+.
pub const KEY_TYPE_TRANSACTION: i8 = 1;
/// `key_type` for a share group (KIP-932); v6+.
pub const KEY_TYPE_SHARE: i8 = 2;

crate::kafka_struct! {
    /// FindCoordinatorRequest: the key or keys whose coordinator the client wants; v0–6.
    pub struct FindCoordinatorRequest {
        /// The coordinator key (group id or transactional id); v0–3.
        pub key: String => 0..=3,
        /// The key type: 0 group, 1 transaction, 2 share group; v1+, schema default 0.
        pub key_type: i8 => 1..,
        /// The coordinator keys, all of type `key_type`; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub coordinator_keys: Vec<String> => 4..,
    }
}
// Only the mock decodes requests. From v4 a key is a compact string: 24 bytes in memory for 2 on the wire
// with one character (12.5×).
crate::kafka_message!(FindCoordinatorRequest, ApiKey::FIND_COORDINATOR, 0, 6, 3; budget 16);

impl Request for FindCoordinatorRequest {
    type Response = FindCoordinatorResponse;
}

impl FindCoordinatorRequest {
    /// A lookup of one `key` of `key_type` that encodes the same question at every version: `key` is
    /// sent by v0–3, a one-element `coordinator_keys` by v4+. (v0 cannot send `key_type`; see the
    /// module docs.)
    pub fn single(key_type: i8, key: impl Into<String>) -> Self {
        let key = key.into();
        FindCoordinatorRequest { coordinator_keys: vec![key.clone()], key, key_type }
    }
}

crate::kafka_struct! {
    /// Coordinator: one key's result in a batched response; v4+.
    pub struct Coordinator {
        /// The coordinator key this entry answers; v4+.
        pub key: String => 4..,
        /// The coordinator's node id; v4+.
        pub node_id: i32 => 4..,
        /// The coordinator's host name; v4+.
        pub host: String => 4..,
        /// The coordinator's port; v4+.
        pub port: i32 => 4..,
        /// The error code, or 0; v4+.
        pub error_code: ErrorCode => 4..,
        /// The error message, or null; v4+ (nullable v4+).
        pub error_message: Option<String> => 4..,
    }
}

crate::kafka_struct! {
    /// FindCoordinatorResponse: the coordinator of the key (v0–3) or of each key (v4+); v0–6.
    pub struct FindCoordinatorResponse {
        /// Throttle time in ms, or 0; v1+.
        pub throttle_time_ms: i32 => 1..,
        /// The error code, or 0; v0–3.
        pub error_code: ErrorCode => 0..=3,
        /// The error message, or null; v1–3 (nullable v1–3).
        pub error_message: Option<String> => 1..=3,
        /// The coordinator's node id; v0–3.
        pub node_id: i32 => 0..=3,
        /// The coordinator's host name; v0–3.
        pub host: String => 0..=3,
        /// The coordinator's port; v0–3.
        pub port: i32 => 0..=3,
        /// One result per requested key; v4+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::small_vec()"))]
        pub coordinators: Vec<Coordinator> => 4..,
    }
}
crate::kafka_message!(FindCoordinatorResponse, ApiKey::FIND_COORDINATOR, 0, 6, 3);

impl FindCoordinatorResponse {
    /// The answer for `key` in a response decoded at `version`: for v0–3 the top-level fields (such a
    /// response answers exactly the one key asked, so `key` is only copied into the result); for v4+
    /// the `coordinators` entry for `key`, or `None` when the broker sent none.
    pub fn coordinator(&self, version: i16, key: &str) -> Option<Coordinator> {
        if version < 4 {
            return Some(Coordinator {
                key: key.to_owned(),
                node_id: self.node_id,
                host: self.host.clone(),
                port: self.port,
                error_code: self.error_code,
                error_message: self.error_message.clone(),
            });
        }
        self.coordinators.iter().find(|c| c.key == key).cloned()
    }
}

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
        #[test]
        fn decode_never_panics(data: Vec<u8>) {
            for v in 0..=6 {
                let _ = FindCoordinatorRequest::decode_body(&data, v);
                let _ = FindCoordinatorResponse::decode_body(&data, v);
            }
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    #[test]
    fn request_v0_golden() {
        // v0: only the int16-length key; key_type does not exist yet.
        assert_eq!(encode(&FindCoordinatorRequest::single(KEY_TYPE_GROUP, "g"), 0), b"\x00\x01g");
    }

    #[test]
    fn request_v1_golden() {
        // int16-length "tx", then key type 1.
        let m = FindCoordinatorRequest::single(KEY_TYPE_TRANSACTION, "tx");
        assert_eq!(encode(&m, 1), b"\x00\x02tx\x01");
        assert_eq!(encode(&m, 2), b"\x00\x02tx\x01", "v2 is the same as v1");
    }

    #[test]
    fn request_v3_golden() {
        // Flexible: compact "tx" (len + 1 = 3), key type, empty tagged fields.
        let m = FindCoordinatorRequest::single(KEY_TYPE_TRANSACTION, "tx");
        assert_eq!(encode(&m, 3), b"\x03tx\x01\x00");
    }

    #[test]
    fn request_v4_golden() {
        // Batched: key type, compact array of 1 (len + 1 = 2), compact "tx", empty tagged fields.
        let m = FindCoordinatorRequest::single(KEY_TYPE_TRANSACTION, "tx");
        assert_eq!(encode(&m, 4), b"\x01\x02\x03tx\x00");
        assert_eq!(encode(&m, 6), b"\x01\x02\x03tx\x00");
    }

    #[test]
    fn response_v0_golden_decode() {
        // error 0, node 1, int16-length host "h", port 9092.
        let body = b"\x00\x00\x00\x00\x00\x01\x00\x01h\x00\x00\x23\x84";
        let r = FindCoordinatorResponse::decode_body(body, 0).unwrap();
        assert_eq!((r.error_code, r.node_id, r.host.as_str(), r.port), (ErrorCode::NONE, 1, "h", 9092));
        assert_eq!(encode(&r, 0), body);
    }

    #[test]
    fn response_v1_golden() {
        // throttle 0, error 15 (COORDINATOR_NOT_AVAILABLE), null int16 message, node -1, "" host, port -1.
        let r = FindCoordinatorResponse {
            error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
            node_id: -1,
            port: -1,
            ..Default::default()
        };
        let body = b"\x00\x00\x00\x00\x00\x0f\xff\xff\xff\xff\xff\xff\x00\x00\xff\xff\xff\xff";
        assert_eq!(encode(&r, 1), body);
        assert_eq!(FindCoordinatorResponse::decode_body(body, 1).unwrap(), r);
    }

    #[test]
    fn response_v4_golden() {
        // throttle 0; compact array of 1; compact "tx", node 1, compact "h", port 9092, error 0,
        // null compact message (0), entry tags; top-level tags.
        let r = FindCoordinatorResponse {
            coordinators: vec![Coordinator {
                key: "tx".into(),
                node_id: 1,
                host: "h".into(),
                port: 9092,
                error_code: ErrorCode::NONE,
                error_message: None,
            }],
            ..Default::default()
        };
        let body = b"\x00\x00\x00\x00\x02\x03tx\x00\x00\x00\x01\x02h\x00\x00\x23\x84\x00\x00\x00\x00\x00";
        assert_eq!(encode(&r, 4), body);
        assert_eq!(FindCoordinatorResponse::decode_body(body, 4).unwrap(), r);
    }

    #[test]
    fn coordinator_from_either_layout() {
        let old = FindCoordinatorResponse { node_id: 2, host: "b".into(), port: 9093, ..Default::default() };
        let c = old.coordinator(3, "tx").unwrap();
        assert_eq!((c.key.as_str(), c.node_id, c.host.as_str(), c.port), ("tx", 2, "b", 9093));
        let new = FindCoordinatorResponse { coordinators: vec![c.clone()], ..Default::default() };
        assert_eq!(new.coordinator(4, "tx"), Some(c));
        assert_eq!(new.coordinator(4, "other"), None);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 7] {
            let e = FindCoordinatorRequest::default().encode_body(&mut out, v).unwrap_err();
            let want = ProtocolError::UnsupportedVersion {
                api: ApiKey::FIND_COORDINATOR,
                version: v,
                min: 0,
                max: 6,
            };
            assert_eq!(e, want);
            let e = FindCoordinatorResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
