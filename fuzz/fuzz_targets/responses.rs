//! Response (and request) body decoding on arbitrary bytes, for every API and version kprod implements:
//! the first two bytes choose the message and version. Decoding must never panic, and whatever decodes
//! must re-encode and decode to the same value.
#![no_main]

use kprod::protocol::messages::*;
use kprod::protocol::Message;
use libfuzzer_sys::fuzz_target;

fn check<M: Message + PartialEq + std::fmt::Debug>(version: u8, data: &[u8]) {
    let span = (M::MAX_VERSION - M::MIN_VERSION + 1) as u8;
    let v = M::MIN_VERSION + (version % span) as i16;
    if let Ok(m) = M::decode_body(data, v) {
        let mut out = Vec::new();
        m.encode_body(&mut out, v).expect("a decoded message re-encodes");
        assert_eq!(M::decode_body(&out, v).expect("re-encoded message decodes"), m);
    }
}

fuzz_target!(|input: &[u8]| {
    let [which, version, data @ ..] = input else { return };
    match which % 20 {
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
        _ => check::<sasl::SaslAuthenticateRequest>(*version, data),
    }
});
