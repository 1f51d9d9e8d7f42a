//! The codec against a real Kafka broker: ApiVersions, Metadata and Produce over a plain TCP connection,
//! with record batches built by kprod's writer, read back by Kafka's own console consumer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::wire::Conn;
use common::*;
use kprod::protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kprod::protocol::{ApiKey, ErrorCode, Message};

fn first_broker(bootstrap: &str) -> String {
    bootstrap.split(',').next().unwrap().to_string()
}

#[test]
fn api_versions_every_version_and_fallback() {
    let bs = bootstrap("KAFKA_BOOTSTRAP");
    let mut conn = Conn::connect(&first_broker(&bs));
    for v in ApiVersionsResponse::MIN_VERSION..=ApiVersionsResponse::MAX_VERSION {
        let req = ApiVersionsRequest {
            client_software_name: "kprod".into(),
            client_software_version: env!("CARGO_PKG_VERSION").into(),
        };
        let resp = conn.call(v, &req);
        assert_eq!(resp.error_code, ErrorCode::NONE, "ApiVersions v{v}");
        let (min, max) = resp.range(ApiKey::PRODUCE).expect("broker lists Produce");
        assert!(min <= 3 && max >= 9, "Produce range {min}..{max} at v{v}");
        assert!(resp.range(ApiKey::API_VERSIONS).is_some());
    }

    // A version the broker does not know: it answers UNSUPPORTED_VERSION in the v0 layout, with its
    // ranges, which decode_with_fallback turns into a usable response (KIP-511).
    let mut raw = Vec::new();
    let hdr = kprod::protocol::RequestHeader {
        request_api_key: ApiKey::API_VERSIONS,
        request_api_version: 127,
        correlation_id: 99,
        client_id: Some("kprod".into()),
    };
    let at = kprod::protocol::frame::start_frame(&mut raw);
    hdr.encode(&mut raw, true).unwrap();
    raw.extend_from_slice(b"\x06kprod\x040.1\x00");
    kprod::protocol::frame::finish_frame(&mut raw, at).unwrap();
    let body = send_raw(&first_broker(&bs), &raw);
    let mut r = kprod::protocol::Reader::new(&body);
    assert_eq!(r.i32().unwrap(), 99, "correlation id");
    let resp = ApiVersionsResponse::decode_with_fallback(r.rest(), 4).unwrap();
    assert_eq!(resp.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert!(resp.range(ApiKey::API_VERSIONS).is_some(), "fallback lists the broker's ranges");
}

fn send_raw(addr: &str, frame: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    s.write_all(frame).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut buf = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).unwrap();
    buf
}
