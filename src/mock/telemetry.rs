//! The mock's client telemetry broker side (KIP-714): GetTelemetrySubscriptions hands every client the
//! cluster's one subscription (assigning a client instance id to a client that sends zero), and
//! PushTelemetry stores each accepted push, its payload decompressed as Kafka hands it to its receiver
//! plugins ([`MockCluster::telemetry_pushes`](super::MockCluster::telemetry_pushes)). Offered only when
//! the builder set a subscription ([`MockClusterBuilder::telemetry`](super::MockClusterBuilder::telemetry)).

use bytes::Bytes;

use crate::compression::{CompressionType, Decompressor};
use crate::protocol::messages::get_telemetry_subscriptions::{
    GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse,
};
use crate::protocol::messages::push_telemetry::{PushTelemetryRequest, PushTelemetryResponse};
use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode};

use super::faults::Injected;
use super::handlers::{run, Answer, Ctx, Outcome, Serve};
use super::server::Shared;
use super::state::State;
use super::{RequestRecord, TelemetryPush};

/// The subscription id the mock hands out (one subscription per cluster).
pub(crate) const SUBSCRIPTION_ID: i32 = 0x6b70;

impl Serve for GetTelemetrySubscriptionsRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, |_, _| Vec::new(), subscriptions)
    }
}

fn subscriptions(
    st: &mut State,
    _cx: Ctx,
    req: &GetTelemetrySubscriptionsRequest,
) -> Answer<GetTelemetrySubscriptionsResponse> {
    let throttle_time_ms = st.faults.throttle(ApiKey::GET_TELEMETRY_SUBSCRIPTIONS);
    let injected = Injected::new(&mut st.faults, ApiKey::GET_TELEMETRY_SUBSCRIPTIONS).all;
    let Some(sub) = st.settings.telemetry.clone() else {
        return Answer::Close;
    };
    if let Some(code) = injected.filter(|c| *c != ErrorCode::NONE) {
        return Answer::Respond(GetTelemetrySubscriptionsResponse {
            throttle_time_ms,
            error_code: code,
            ..Default::default()
        });
    }
    let client_instance_id = if req.client_instance_id == Uuid::ZERO { st.random_uuid() } else { Uuid::ZERO };
    Answer::Respond(GetTelemetrySubscriptionsResponse {
        throttle_time_ms,
        error_code: ErrorCode::NONE,
        client_instance_id,
        subscription_id: SUBSCRIPTION_ID,
        accepted_compression_types: sub.compression.iter().map(|c| c.id() as i8).collect(),
        push_interval_ms: i32::try_from(sub.interval.as_millis()).unwrap_or(i32::MAX),
        telemetry_max_bytes: sub.max_bytes,
        delta_temporality: sub.delta,
        requested_metrics: sub.metrics,
    })
}

impl Serve for PushTelemetryRequest {
    fn serve(shared: &Shared, cx: Ctx, record: RequestRecord, req: Self, corr: i32) -> Outcome {
        run(shared, cx, record, &req, corr, |_, _| Vec::new(), push)
    }
}

fn push(st: &mut State, cx: Ctx, req: &PushTelemetryRequest) -> Answer<PushTelemetryResponse> {
    let throttle_time_ms = st.faults.throttle(ApiKey::PUSH_TELEMETRY);
    let respond = |error_code| Answer::Respond(PushTelemetryResponse { throttle_time_ms, error_code });
    let Some(sub) = st.settings.telemetry.clone() else {
        return Answer::Close;
    };
    if let Some(code) =
        Injected::new(&mut st.faults, ApiKey::PUSH_TELEMETRY).all.filter(|c| *c != ErrorCode::NONE)
    {
        return respond(code);
    }
    if req.client_instance_id == Uuid::ZERO {
        return respond(ErrorCode::INVALID_REQUEST);
    }
    if req.subscription_id != SUBSCRIPTION_ID {
        return respond(ErrorCode::UNKNOWN_SUBSCRIPTION_ID);
    }
    let codec = CompressionType::from_attributes(i16::from(req.compression_type)).ok();
    let Some(codec) = codec.filter(|c| {
        req.compression_type >= 0 && (*c == CompressionType::None || sub.compression.contains(c))
    }) else {
        return respond(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
    };
    if req.metrics.len() > usize::try_from(sub.max_bytes).unwrap_or(0) {
        return respond(ErrorCode::TELEMETRY_TOO_LARGE);
    }
    let mut metrics = Vec::new();
    // Kafka bounds nothing here but the compressed size; 64 MiB keeps a hostile payload in check.
    if Decompressor::new().decompress(codec, &req.metrics, &mut metrics, 64 << 20).is_err() {
        return respond(ErrorCode::INVALID_RECORD);
    }
    st.telemetry_pushes.push(TelemetryPush {
        broker: cx.node_id,
        client_instance_id: req.client_instance_id.0,
        subscription_id: req.subscription_id,
        terminating: req.terminating,
        compression: codec,
        metrics: Bytes::from(metrics),
    });
    respond(ErrorCode::NONE)
}
