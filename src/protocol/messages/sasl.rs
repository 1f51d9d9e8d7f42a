//! SaslHandshake (key 17) and SaslAuthenticate (key 36): SASL authentication (KIP-43, KIP-152).
//!
//! SaslHandshake: schema versions 0–1, never flexible. The client names a mechanism and the broker lists
//! the ones it enables. After a v0 handshake the SASL tokens follow as raw size-prefixed frames; after a
//! v1 handshake they are carried in SaslAuthenticate requests. Kafka cannot easily add versions to this
//! API (KAFKA-9577), so v1 is its last.
//!
//! SaslAuthenticate: schema versions 0–2, flexible from v2. v1 adds the session lifetime to the response
//! (KIP-368, re-authentication).

use bytes::Bytes;

use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// SaslHandshakeRequest.
    pub struct SaslHandshakeRequest {
        /// The SASL mechanism chosen by the client; v0+.
        pub mechanism: String => 0..,
    }
}
crate::kafka_message!(SaslHandshakeRequest, ApiKey::SASL_HANDSHAKE, 0, 1, i16::MAX);

impl Request for SaslHandshakeRequest {
    type Response = SaslHandshakeResponse;
}

crate::kafka_struct! {
    /// SaslHandshakeResponse.
    pub struct SaslHandshakeResponse {
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The mechanisms enabled in the broker; v0+.
        pub mechanisms: Vec<String> => 0..,
    }
}
crate::kafka_message!(SaslHandshakeResponse, ApiKey::SASL_HANDSHAKE, 0, 1, i16::MAX);

crate::kafka_struct! {
    /// SaslAuthenticateRequest.
    pub struct SaslAuthenticateRequest {
        /// The SASL authentication bytes from the client, as the mechanism defines them; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::bytes()"))]
        pub auth_bytes: Bytes => 0..,
    }
}
crate::kafka_message!(SaslAuthenticateRequest, ApiKey::SASL_AUTHENTICATE, 0, 2, 2);

impl Request for SaslAuthenticateRequest {
    type Response = SaslAuthenticateResponse;
}

crate::kafka_struct! {
    /// SaslAuthenticateResponse.
    pub struct SaslAuthenticateResponse {
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The error message, or null if there was no error; v0+, nullable v0+.
        pub error_message: Option<String> => 0..,
        /// The SASL authentication bytes from the broker, as the mechanism defines them; v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::bytes()"))]
        pub auth_bytes: Bytes => 0..,
        /// The time in ms after which the client must re-authenticate on this connection, or 0 for no
        /// limit; v1+, schema default 0.
        pub session_lifetime_ms: i64 => 1..,
    }
}
crate::kafka_message!(SaslAuthenticateResponse, ApiKey::SASL_AUTHENTICATE, 0, 2, 2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn handshake_request_roundtrip(m: SaslHandshakeRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn handshake_response_roundtrip(m: SaslHandshakeResponse) { roundtrip_all_versions(&m); }
        #[test]
        fn authenticate_request_roundtrip(m: SaslAuthenticateRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn authenticate_response_roundtrip(m: SaslAuthenticateResponse) { roundtrip_all_versions(&m); }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    #[test]
    fn handshake_golden() {
        let m = SaslHandshakeRequest { mechanism: "PLAIN".into() };
        // Never flexible: an int16-length string in both versions, no tagged fields.
        for v in [0, 1] {
            assert_eq!(encode(&m, v), b"\x00\x05PLAIN");
        }
        // Response: error 0, int32 count 2, "PLAIN", "SCRAM-SHA-256".
        let body = b"\x00\x00\x00\x00\x00\x02\x00\x05PLAIN\x00\x0dSCRAM-SHA-256";
        let r = SaslHandshakeResponse::decode_body(body, 1).unwrap();
        assert_eq!(r.error_code, ErrorCode(0));
        assert_eq!(r.mechanisms, ["PLAIN", "SCRAM-SHA-256"]);
        assert_eq!(encode(&r, 1), body);
    }

    #[test]
    fn authenticate_request_golden() {
        let m = SaslAuthenticateRequest { auth_bytes: Bytes::from_static(b"\x00u\x00p") };
        // v0/v1: int32 length; v2: compact length (len + 1) and an empty tagged-field section.
        assert_eq!(encode(&m, 0), b"\x00\x00\x00\x04\x00u\x00p");
        assert_eq!(encode(&m, 1), b"\x00\x00\x00\x04\x00u\x00p");
        assert_eq!(encode(&m, 2), b"\x05\x00u\x00p\x00");
    }

    #[test]
    fn authenticate_response_golden() {
        // v1: error 58, message "bad", empty auth bytes, session lifetime 3600000 ms.
        let v1 = b"\x00\x3a\x00\x03bad\x00\x00\x00\x00\x00\x00\x00\x00\x00\x36\xee\x80";
        let r = SaslAuthenticateResponse::decode_body(v1, 1).unwrap();
        assert_eq!(r.error_code, ErrorCode::SASL_AUTHENTICATION_FAILED);
        assert_eq!(r.error_message.as_deref(), Some("bad"));
        assert!(r.auth_bytes.is_empty());
        assert_eq!(r.session_lifetime_ms, 3_600_000);
        // v2: compact nullable string, compact bytes, tagged fields.
        assert_eq!(encode(&r, 2), b"\x00\x3a\x04bad\x01\x00\x00\x00\x00\x00\x36\xee\x80\x00");
        // v0 has no session lifetime; a null message is an int16 -1.
        let ok = SaslAuthenticateResponse { auth_bytes: Bytes::from_static(b"s"), ..Default::default() };
        assert_eq!(encode(&ok, 0), b"\x00\x00\xff\xff\x00\x00\x00\x01s");
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        let e = SaslHandshakeRequest::default().encode_body(&mut out, 2).unwrap_err();
        assert!(matches!(e, ProtocolError::UnsupportedVersion { version: 2, min: 0, max: 1, .. }));
        let e = SaslAuthenticateRequest::default().encode_body(&mut out, 3).unwrap_err();
        assert!(matches!(e, ProtocolError::UnsupportedVersion { version: 3, min: 0, max: 2, .. }));
        for v in [-1, 3] {
            assert!(matches!(
                SaslHandshakeResponse::decode_body(&[], v),
                Err(ProtocolError::UnsupportedVersion { .. })
            ));
            assert!(matches!(
                SaslAuthenticateResponse::decode_body(&[], v),
                Err(ProtocolError::UnsupportedVersion { .. })
            ));
        }
        assert!(out.is_empty());
    }
}
