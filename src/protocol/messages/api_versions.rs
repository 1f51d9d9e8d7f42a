//! ApiVersions (key 18): which APIs and versions a broker supports. Schema versions 0–5; flexible from v3;
//! v5 (KIP-1242, Kafka 4.4) adds the cluster and node the client means to reach, which kprod leaves unset
//! (null, -1: no check).
//! The response header is always v0 (see [`header`](crate::protocol::header)), and a broker that does
//! not support the requested version answers UNSUPPORTED_VERSION in the v0 format, which
//! [`ApiVersionsResponse::decode_with_fallback`] handles (KIP-511).

use crate::protocol::{ApiKey, ErrorCode, Message, ProtocolError, Request};

crate::kafka_struct! {
    /// ApiVersionsRequest.
    pub struct ApiVersionsRequest {
        /// The name of the client; v3+.
        pub client_software_name: String => 3..,
        /// The version of the client; v3+.
        pub client_software_version: String => 3..,
        /// The cluster id the client means to connect to, or null; v5+, nullable v5+, schema default null.
        pub cluster_id: Option<String> => 5..,
        /// The node id the client means to connect to, or -1; v5+, schema default -1.
        pub node_id: i32 => 5..; default -1,
    }
}
crate::kafka_message!(ApiVersionsRequest, ApiKey::API_VERSIONS, 0, 5, 3);

impl Request for ApiVersionsRequest {
    type Response = ApiVersionsResponse;
}

crate::kafka_struct! {
    /// One API's supported version range.
    pub struct ApiVersion {
        /// The API index; v0+.
        pub api_key: i16 => 0..,
        /// The minimum supported version, inclusive; v0+.
        pub min_version: i16 => 0..,
        /// The maximum supported version, inclusive; v0+.
        pub max_version: i16 => 0..,
    }
}

crate::kafka_struct! {
    /// A feature the broker supports; v3+.
    pub struct SupportedFeatureKey {
        /// The feature name; v3+.
        pub name: String => 3..,
        /// Minimum supported version level; v3+.
        pub min_version: i16 => 3..,
        /// Maximum supported version level; v3+.
        pub max_version: i16 => 3..,
    }
}

crate::kafka_struct! {
    /// A cluster-wide finalized feature; v3+.
    pub struct FinalizedFeatureKey {
        /// The feature name; v3+.
        pub name: String => 3..,
        /// Finalized max version level; v3+.
        pub max_version_level: i16 => 3..,
        /// Finalized min version level; v3+.
        pub min_version_level: i16 => 3..,
    }
}

crate::kafka_struct! {
    /// ApiVersionsResponse.
    pub struct ApiVersionsResponse {
        /// The top-level error code; v0+.
        pub error_code: ErrorCode => 0..,
        /// The APIs supported by the broker; v0+.
        pub api_keys: Vec<ApiVersion> => 0..,
        /// Throttle time in ms; v1+.
        pub throttle_time_ms: i32 => 1..,
    }
    tagged {
        /// Features supported by the broker; tag 0, v3+.
        pub supported_features: Vec<SupportedFeatureKey> => (0, 3..),
        /// Epoch of the finalized features, -1 when unknown; tag 1, v3+.
        pub finalized_features_epoch: i64 => (1, 3..); default -1,
        /// Cluster-wide finalized features; tag 2, v3+.
        pub finalized_features: Vec<FinalizedFeatureKey> => (2, 3..),
        /// Set by a KRaft controller ready for ZK migration; tag 3, v3+.
        pub zk_migration_ready: bool => (3, 3..),
    }
}
crate::kafka_message!(ApiVersionsResponse, ApiKey::API_VERSIONS, 0, 5, 3);

impl ApiVersionsResponse {
    /// Decodes a response body to a request sent at `version`. A broker that does not know `version`
    /// replies UNSUPPORTED_VERSION in the v0 layout with its own ranges; that reply is decoded as v0 so
    /// the caller can retry with the highest version both sides support.
    pub fn decode_with_fallback(body: &[u8], version: i16) -> Result<Self, ProtocolError> {
        match Self::decode_body(body, version) {
            Ok(r) => Ok(r),
            Err(e) if version > 0 => match Self::decode_body(body, 0) {
                Ok(r) if r.error_code == ErrorCode::UNSUPPORTED_VERSION => Ok(r),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The broker's version range for `api`, if it supports it.
    pub fn range(&self, api: ApiKey) -> Option<(i16, i16)> {
        self.api_keys.iter().find(|k| k.api_key == api.0).map(|k| (k.min_version, k.max_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn request_roundtrip(m: ApiVersionsRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: ApiVersionsResponse) { roundtrip_all_versions(&m); }
    }

    #[test]
    fn request_v3_golden() {
        let m = ApiVersionsRequest {
            client_software_name: "kprod".into(),
            client_software_version: "0.1".into(),
            ..Default::default()
        };
        let mut out = Vec::new();
        m.encode_body(&mut out, 3).unwrap();
        // compact "kprod" (len+1 = 6), compact "0.1" (4), empty tagged fields.
        assert_eq!(out, b"\x06kprod\x040.1\x00");
        // v5 (KIP-1242): a null cluster id and node -1 (no check) follow.
        let mut v5 = Vec::new();
        m.encode_body(&mut v5, 5).unwrap();
        assert_eq!(v5, b"\x06kprod\x040.1\x00\xff\xff\xff\xff\x00");
        assert!(m.encode_body(&mut out, 6).is_err(), "v6 does not exist");
    }

    #[test]
    fn response_v0_fallback() {
        // A v0 UNSUPPORTED_VERSION reply: error 35, one api (18, 0..2).
        let body = [0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2];
        let r = ApiVersionsResponse::decode_with_fallback(&body, 4).unwrap();
        assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
        assert_eq!(r.range(ApiKey::API_VERSIONS), Some((0, 2)));
    }
}
