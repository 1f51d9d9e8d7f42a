//! Message decoding on arbitrary bytes: every request and response body kprod implements, at every
//! version, plus the decoders around them (ApiVersions' v0 fallback, whole response frames with their
//! header, request frames with header and body as the mock broker reads them, control records). The first
//! two bytes choose the decoder and the version. Decoding must never panic, whatever decodes must
//! re-encode and decode to the same value, and no encoding is shorter than its type's minimum.
#![no_main]

use kprod::protocol::messages::*;
use kprod::protocol::record::ControlRecord;
use kprod::protocol::{decode_request_header, decode_response, ApiKey, ErrorCode, Message, RequestHeader};
use libfuzzer_sys::fuzz_target;

/// The version of `M` that `version` selects.
fn pick<M: Message>(version: u8) -> i16 {
    let span = (M::MAX_VERSION - M::MIN_VERSION + 1) as u8;
    M::MIN_VERSION + (version % span) as i16
}

fn check<M: Message + PartialEq + std::fmt::Debug>(version: u8, data: &[u8]) {
    round_trip::<M>(pick::<M>(version), data);
}

/// Decodes a body at `v`; when it decodes, re-encoding it must be no shorter than the minimum and must
/// decode to the same value.
fn round_trip<M: Message + PartialEq + std::fmt::Debug>(v: i16, data: &[u8]) {
    if let Ok(m) = M::decode_body(data, v) {
        let mut out = Vec::new();
        m.encode_body(&mut out, v).expect("a decoded message re-encodes");
        let cx = M::ctx(v).expect("an implemented version");
        assert!(out.len() >= M::min_encoded_size(cx), "v{v} encodes below its minimum");
        assert_eq!(M::decode_body(&out, v).expect("re-encoded message decodes"), m);
    }
}

/// A response frame body (header and body) to `R` sent at `version`, with the correlation id it holds.
fn response_frame<R: kprod::protocol::Request>(version: u8, data: &[u8]) {
    let v = pick::<R::Response>(version);
    let correlation = data.get(..4).map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let _ = decode_response::<R>(data, v, correlation);
}

/// A request frame body as the mock broker reads it: the header, then the body of the API and version
/// the header names.
fn request_frame(data: &[u8]) {
    let Ok((header, mut r)) = decode_request_header(data) else { return };
    fn body<M: Message + PartialEq + std::fmt::Debug>(v: i16, r: &mut kprod::protocol::Reader<'_>) {
        let Ok(cx) = M::ctx(v) else { return };
        if cx.flexible && RequestHeader::decode_tagged(r).is_err() {
            return;
        }
        round_trip::<M>(v, r.rest());
    }
    let v = header.request_api_version;
    match header.request_api_key {
        ApiKey::PRODUCE => body::<produce::ProduceRequest>(v, &mut r),
        ApiKey::METADATA => body::<metadata::MetadataRequest>(v, &mut r),
        ApiKey::API_VERSIONS => body::<api_versions::ApiVersionsRequest>(v, &mut r),
        ApiKey::INIT_PRODUCER_ID => body::<init_producer_id::InitProducerIdRequest>(v, &mut r),
        ApiKey::FIND_COORDINATOR => body::<find_coordinator::FindCoordinatorRequest>(v, &mut r),
        ApiKey::ADD_PARTITIONS_TO_TXN => body::<add_partitions_to_txn::AddPartitionsToTxnRequest>(v, &mut r),
        ApiKey::ADD_OFFSETS_TO_TXN => body::<add_offsets_to_txn::AddOffsetsToTxnRequest>(v, &mut r),
        ApiKey::END_TXN => body::<end_txn::EndTxnRequest>(v, &mut r),
        ApiKey::TXN_OFFSET_COMMIT => body::<txn_offset_commit::TxnOffsetCommitRequest>(v, &mut r),
        ApiKey::SASL_HANDSHAKE => body::<sasl::SaslHandshakeRequest>(v, &mut r),
        ApiKey::SASL_AUTHENTICATE => body::<sasl::SaslAuthenticateRequest>(v, &mut r),
        _ => {}
    }
}

/// The v0 fallback only ever turns a failed decode into an UNSUPPORTED_VERSION reply.
fn api_versions_fallback(version: u8, data: &[u8]) {
    let v = pick::<ApiVersionsResponse>(version);
    let direct = ApiVersionsResponse::decode_body(data, v);
    match ApiVersionsResponse::decode_with_fallback(data, v) {
        Ok(r) => match direct {
            Ok(d) => assert_eq!(r, d),
            Err(_) => assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION),
        },
        Err(e) => assert_eq!(Err(e), direct),
    }
}

/// A control record key and value: the version byte says where to split, and whether either is null.
fn control_record(split: u8, data: &[u8]) {
    let at = usize::from(split >> 2).min(data.len());
    let (key, value) = data.split_at(at);
    let key = (split & 1 == 0).then_some(key);
    let value = (split & 2 == 0).then_some(value);
    if let Ok(c) = ControlRecord::parse(key, value) {
        assert_eq!(c.is_commit() || c.is_abort(), c.coordinator_epoch.is_some());
    }
}

fuzz_target!(|input: &[u8]| {
    let [which, version, data @ ..] = input else { return };
    match which % 32 {
        0 => check::<api_versions::ApiVersionsResponse>(*version, data),
        1 => check::<metadata::MetadataResponse>(*version, data),
        2 => check::<produce::ProduceResponse>(*version, data),
        3 => check::<init_producer_id::InitProducerIdResponse>(*version, data),
        4 => check::<sasl::SaslHandshakeResponse>(*version, data),
        5 => check::<sasl::SaslAuthenticateResponse>(*version, data),
        6 => check::<produce::ProduceRequest>(*version, data),
        7 => check::<metadata::MetadataRequest>(*version, data),
        8 => check::<init_producer_id::InitProducerIdRequest>(*version, data),
        9 => check::<api_versions::ApiVersionsRequest>(*version, data),
        10 => check::<find_coordinator::FindCoordinatorResponse>(*version, data),
        11 => check::<add_partitions_to_txn::AddPartitionsToTxnResponse>(*version, data),
        12 => check::<add_offsets_to_txn::AddOffsetsToTxnResponse>(*version, data),
        13 => check::<end_txn::EndTxnResponse>(*version, data),
        14 => check::<txn_offset_commit::TxnOffsetCommitResponse>(*version, data),
        15 => check::<find_coordinator::FindCoordinatorRequest>(*version, data),
        16 => check::<add_partitions_to_txn::AddPartitionsToTxnRequest>(*version, data),
        17 => check::<end_txn::EndTxnRequest>(*version, data),
        18 => check::<txn_offset_commit::TxnOffsetCommitRequest>(*version, data),
        19 => check::<sasl::SaslAuthenticateRequest>(*version, data),
        20 => check::<add_offsets_to_txn::AddOffsetsToTxnRequest>(*version, data),
        21 => check::<sasl::SaslHandshakeRequest>(*version, data),
        22 => api_versions_fallback(*version, data),
        23 => request_frame(data),
        24 => control_record(*version, data),
        25 => response_frame::<produce::ProduceRequest>(*version, data),
        26 => response_frame::<metadata::MetadataRequest>(*version, data),
        27 => response_frame::<api_versions::ApiVersionsRequest>(*version, data),
        28 => response_frame::<init_producer_id::InitProducerIdRequest>(*version, data),
        29 => response_frame::<find_coordinator::FindCoordinatorRequest>(*version, data),
        30 => response_frame::<add_partitions_to_txn::AddPartitionsToTxnRequest>(*version, data),
        _ => {
            // The remaining responses behind their headers.
            match version % 5 {
                0 => response_frame::<add_offsets_to_txn::AddOffsetsToTxnRequest>(*version, data),
                1 => response_frame::<end_txn::EndTxnRequest>(*version, data),
                2 => response_frame::<txn_offset_commit::TxnOffsetCommitRequest>(*version, data),
                3 => response_frame::<sasl::SaslHandshakeRequest>(*version, data),
                _ => response_frame::<sasl::SaslAuthenticateRequest>(*version, data),
            }
        }
    }
});
