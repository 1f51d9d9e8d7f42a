//! The requests the sender puts on the wire, each carrying what it carries (a Produce request owns its
//! batches), so that its response — or its loss — is routed by one value and nothing it carries can be
//! dropped on the way. Drivers build [`Outgoing`] requests; the network writes them and hands each back
//! exactly once, answered or lost.

use std::sync::Arc;

use crate::accumulator::{ProducerBatch, TopicPartition};
use crate::protocol::messages::produce::ProduceFrame;
use crate::protocol::{encode_request, ProtocolError, Request as Message};

/// A request in flight, with what it carries.
#[derive(Debug)]
pub(crate) enum Request {
    /// A connection's ApiVersions handshake (the network's own).
    ApiVersions,
    /// A connection's SaslHandshake, at authentication and re-authentication (the network's own).
    SaslHandshake,
    /// One SASL message of a connection's authentication (the network's own).
    SaslAuthenticate,
    /// A metadata refresh for these topics.
    Metadata(Vec<Arc<str>>),
    /// Produce, written straight from the batches' buffers.
    Produce {
        /// The request around the batches.
        frame: ProduceFrame,
        /// The batches, in the frame's partition order.
        batches: Vec<ProducerBatch>,
    },
    /// InitProducerId for the idempotent producer.
    InitProducerId,
    /// A transactional request.
    Txn(TxnRequest),
    /// A client telemetry request (KIP-714).
    Telemetry(TelemetryRequest),
}

/// A client telemetry request in flight (KIP-714).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TelemetryRequest {
    /// GetTelemetrySubscriptions.
    Subscriptions,
    /// PushTelemetry; `terminating` for the push sent on close.
    Push {
        /// The last push of a closing producer.
        terminating: bool,
    },
}

/// A transactional request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxnRequest {
    /// FindCoordinator for the transaction (`None`) or this group.
    FindCoordinator(Option<String>),
    /// InitProducerId with the transactional id.
    InitProducerId,
    /// AddPartitionsToTxn for these partitions.
    AddPartitions(Vec<TopicPartition>),
    /// AddOffsetsToTxn.
    AddOffsets,
    /// TxnOffsetCommit for this group.
    TxnOffsetCommit(String),
    /// EndTxn.
    EndTxn,
}

impl Request {
    /// The request's name, for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Request::ApiVersions => "ApiVersions",
            Request::SaslHandshake => "SaslHandshake",
            Request::SaslAuthenticate => "SaslAuthenticate",
            Request::Metadata(_) => "Metadata",
            Request::Produce { .. } => "Produce",
            Request::InitProducerId => "InitProducerId",
            Request::Txn(TxnRequest::FindCoordinator(_)) => "FindCoordinator",
            Request::Txn(TxnRequest::InitProducerId) => "InitProducerId (transactional)",
            Request::Txn(TxnRequest::AddPartitions(_)) => "AddPartitionsToTxn",
            Request::Txn(TxnRequest::AddOffsets) => "AddOffsetsToTxn",
            Request::Txn(TxnRequest::TxnOffsetCommit(_)) => "TxnOffsetCommit",
            Request::Txn(TxnRequest::EndTxn) => "EndTxn",
            Request::Telemetry(TelemetryRequest::Subscriptions) => "GetTelemetrySubscriptions",
            Request::Telemetry(TelemetryRequest::Push { .. }) => "PushTelemetry",
        }
    }
}

/// A request a driver wants written to `node`: encoded with the correlation id and version it got
/// from the [`Links`](super::Links) (a Produce request's batches are written from their own buffers).
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The broker (negative: a bootstrap server).
    pub node: i32,
    /// The correlation id in `bytes`.
    pub correlation_id: i32,
    /// The API version in `bytes`.
    pub version: i16,
    /// What it is and carries.
    pub request: Request,
    /// The encoded request (empty for Produce).
    pub bytes: Vec<u8>,
    /// False for acks=0 Produce: complete once written.
    pub expects_response: bool,
}

impl Outgoing {
    /// Encodes `body` for `node` at `version` with `correlation_id`: the one way every request but
    /// Produce is built.
    pub(crate) fn encode<M: Message>(
        node: i32,
        correlation_id: i32,
        version: i16,
        client_id: &str,
        body: &M,
        request: Request,
    ) -> Result<Outgoing, (Request, ProtocolError)> {
        let mut bytes = Vec::new();
        match encode_request(&mut bytes, version, correlation_id, Some(client_id), body) {
            Ok(()) => Ok(Outgoing { node, correlation_id, version, request, bytes, expects_response: true }),
            Err(e) => Err((request, e)),
        }
    }
}
