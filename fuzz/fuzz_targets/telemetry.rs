//! KIP-714's two APIs on arbitrary bytes: GetTelemetrySubscriptions and PushTelemetry requests and
//! responses as bodies, responses behind their headers, and requests as the mock broker reads them
//! (header, then body). Decoding must never panic, and whatever decodes must re-encode no shorter than
//! its minimum and decode to the same value.
#![no_main]

use kprod::protocol::messages::get_telemetry_subscriptions::*;
use kprod::protocol::messages::push_telemetry::*;
use kprod::protocol::{decode_request_header, decode_response, ApiKey, Message, Request, RequestHeader};
use libfuzzer_sys::fuzz_target;

fn round_trip<M: Message + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = M::decode_body(data, 0) {
        let mut out = Vec::new();
        m.encode_body(&mut out, 0).expect("a decoded message re-encodes");
        assert!(out.len() >= M::min_encoded_size(M::ctx(0).expect("v0")), "encodes below its minimum");
        assert_eq!(M::decode_body(&out, 0).expect("re-encoded message decodes"), m);
    }
}

fn response_frame<R: Request>(data: &[u8]) {
    let correlation = data.get(..4).map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let _ = decode_response::<R>(data, 0, correlation);
}

fn request_frame(data: &[u8]) {
    let Ok((header, mut r)) = decode_request_header(data) else { return };
    if header.request_api_version != 0 || RequestHeader::decode_tagged(&mut r).is_err() {
        return;
    }
    match header.request_api_key {
        ApiKey::GET_TELEMETRY_SUBSCRIPTIONS => round_trip::<GetTelemetrySubscriptionsRequest>(r.rest()),
        ApiKey::PUSH_TELEMETRY => round_trip::<PushTelemetryRequest>(r.rest()),
        _ => {}
    }
}

fuzz_target!(|input: &[u8]| {
    let [which, data @ ..] = input else { return };
    match which % 7 {
        0 => round_trip::<GetTelemetrySubscriptionsRequest>(data),
        1 => round_trip::<GetTelemetrySubscriptionsResponse>(data),
        2 => round_trip::<PushTelemetryRequest>(data),
        3 => round_trip::<PushTelemetryResponse>(data),
        4 => response_frame::<GetTelemetrySubscriptionsRequest>(data),
        5 => response_frame::<PushTelemetryRequest>(data),
        _ => request_frame(data),
    }
});
