//! The client telemetry driver (KIP-714, Java's `ClientTelemetryReporter` with `NetworkClient`'s
//! telemetry sender): with `enable.metrics.push`, it asks a broker which metrics it wants
//! (GetTelemetrySubscriptions), pushes them every push interval as an OTLP `MetricsData`
//! ([`crate::metrics::otlp`]), and sends a last push marked terminating when the producer closes. It does
//! no I/O.
//!
//! - One broker at a time: the least loaded ready connection is picked and kept while it is up (KIP-714's
//!   connection selection); a request lost with its connection drops the subscription, which is fetched
//!   again (from the next broker picked) after the retry backoff.
//! - The first push waits a random 0.5–1.5 push intervals (as Java, so clients started together do not
//!   push together); the next ones one interval apart. A subscription that selects no metric is fetched
//!   again an interval later.
//! - Errors, as Java's client: UNKNOWN_SUBSCRIPTION_ID and UNSUPPORTED_COMPRESSION_TYPE fetch the
//!   subscription again at once; TELEMETRY_TOO_LARGE and THROTTLING_QUOTA_EXCEEDED wait an interval (a
//!   too large payload also halves how many metrics later pushes carry); INVALID_REQUEST,
//!   INVALID_RECORD, UNSUPPORTED_VERSION and every other code stop telemetry for good, as does a broker
//!   that does not offer the APIs. Throttle times are honoured (KIP-219).
//! - On close, once every record has its outcome, one terminating push carries the final values (when
//!   there is a subscription with metrics), bounded by `request.timeout.ms` and by the close timeout.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::backoff::{Backoff, Jitter};
use super::driver::{Links, Outbox};
use super::request::{Outgoing, Request, TelemetryRequest};
use crate::compression::{CompressionType, Compressor};
use crate::metrics::otlp::{points, Encoder};
use crate::metrics::Metrics;
use crate::protocol::messages::get_telemetry_subscriptions::GetTelemetrySubscriptionsRequest;
use crate::protocol::messages::push_telemetry::PushTelemetryRequest;
use crate::protocol::primitives::Uuid;
use crate::protocol::{decode_response, ErrorCode, Message};

/// How long before a close's deadline the terminating push is given up: room for the sender to stop
/// and the closing thread to see it even on a loaded machine (100 ms was seen to be too little under CI).
const CLOSE_MARGIN: Duration = Duration::from_millis(300);

/// Java's push interval when the broker's is not positive.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(300_000);

/// A subscription from GetTelemetrySubscriptions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Subscription {
    /// Its id, echoed in each push.
    pub id: i32,
    /// The codec pushes use: the broker's first accepted one (none when it accepts none).
    pub compression: CompressionType,
    /// The push interval.
    pub interval: Duration,
    /// The largest payload the broker accepts.
    pub max_bytes: usize,
    /// Sums as deltas (else cumulative).
    pub delta: bool,
    /// Metric name prefixes wanted (empty: none; `""` or `*`: all).
    pub requested: Vec<String>,
}

/// Where the terminating push is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terminal {
    /// The producer is not closing (or still has records).
    No,
    /// Due, to be sent by the deadline.
    Due(Instant),
    /// Sent, answered or lost, or given up.
    Done,
}

/// The telemetry driver.
#[derive(Debug)]
pub(crate) struct TelemetryDriver {
    client_id: Arc<str>,
    /// `request.timeout.ms`: how long the terminating push may take to go out.
    request_timeout: Duration,
    backoff: Backoff,
    jitter: Jitter,
    failures: u32,
    /// Zero until a broker assigns one.
    instance_id: Uuid,
    subscription: Option<Subscription>,
    /// The broker telemetry goes to while its connection is up.
    node: Option<i32>,
    /// When the next request (subscription or push) is due.
    next: Instant,
    /// No push yet: the first is staggered.
    first_push: bool,
    /// Telemetry stopped for good.
    disabled: bool,
    terminal: Terminal,
    encoder: Encoder,
    /// At most this many metrics per push (halved after TELEMETRY_TOO_LARGE).
    max_points: usize,
    /// The producer's start, ns since the Unix epoch (cumulative sums start there).
    start_ns: u64,
}

fn unix_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0))
}

impl TelemetryDriver {
    pub(crate) fn new(
        client_id: Arc<str>,
        request_timeout: Duration,
        backoff: Backoff,
        now: Instant,
    ) -> Self {
        TelemetryDriver {
            client_id,
            request_timeout,
            backoff,
            jitter: Jitter::from_entropy(),
            failures: 0,
            instance_id: Uuid::ZERO,
            subscription: None,
            node: None,
            next: now,
            first_push: true,
            disabled: false,
            terminal: Terminal::No,
            encoder: Encoder::default(),
            max_points: usize::MAX,
            start_ns: unix_ns(),
        }
    }

    /// Replaces the jitter source (the simulator seeds it).
    #[cfg(feature = "sim")]
    pub(crate) fn set_jitter(&mut self, jitter: Jitter) {
        self.jitter = jitter;
    }

    /// The client instance id the broker assigned (zero until then).
    #[cfg(test)]
    pub(crate) fn instance_id(&self) -> Uuid {
        self.instance_id
    }

    /// The current subscription.
    #[cfg(test)]
    pub(crate) fn subscription(&self) -> Option<&Subscription> {
        self.subscription.as_ref()
    }

    /// True when telemetry stopped for good.
    #[cfg(test)]
    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// True when a closing producer may stop: telemetry is off, has nothing to push, or its terminating
    /// push is done or past its deadline.
    pub(crate) fn may_stop(&self, now: Instant) -> bool {
        let has_metrics = self.subscription.as_ref().is_some_and(|s| !s.requested.is_empty());
        match self.terminal {
            _ if self.disabled || !has_metrics => true,
            Terminal::No => false,
            Terminal::Due(deadline) => now >= deadline,
            Terminal::Done => true,
        }
    }

    /// The broker to use now: the kept one while its connection is up (`None` while it is busy), else
    /// the least loaded ready one (asking for a connection when there is none).
    fn pick(&mut self, now: Instant, links: &dyn Links, out: &mut Outbox) -> Option<i32> {
        if let Some(n) = self.node {
            if links.can_send(n, now) {
                return Some(n);
            }
            if links.is_connecting_or_up(n) {
                return None;
            }
            self.node = None;
        }
        match links.least_loaded(now) {
            Some(n) => {
                self.node = Some(n);
                Some(n)
            }
            None => {
                out.connect_any = true;
                None
            }
        }
    }

    /// Sends what is due: a subscription request, a push, or (`finishing`: closing with every record
    /// settled, with the close's deadline if it has one) the terminating push. `metrics` takes the
    /// snapshot a push carries.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        finishing: Option<Option<Instant>>,
        metrics: &dyn Fn() -> Metrics,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) {
        if self.disabled || self.terminal == Terminal::Done {
            return;
        }
        if links.in_flight(&|r| matches!(r, Request::Telemetry(_))) {
            return;
        }
        let has_metrics = self.subscription.as_ref().is_some_and(|s| !s.requested.is_empty());
        if let (Some(close), true, Terminal::No) = (finishing, has_metrics, self.terminal) {
            // Done a little before the close stops waiting, so the close never fails for it.
            let by_close = close.map(|c| c.checked_sub(CLOSE_MARGIN).unwrap_or(now));
            let deadline = by_close.map_or(now + self.request_timeout, |c| c.min(now + self.request_timeout));
            self.terminal = Terminal::Due(deadline);
        }
        if let Terminal::Due(deadline) = self.terminal {
            if now >= deadline {
                log::debug!("telemetry: the terminating push could not be sent in time");
                self.terminal = Terminal::Done;
                return;
            }
            out.wake_in(deadline - now);
            if let Some(node) = self.pick(now, links, out) {
                self.push(node, true, metrics, links, out);
            }
            return;
        }
        if finishing.is_some() {
            return; // nothing to push on close
        }
        if now < self.next {
            out.wake_in(self.next - now);
            return;
        }
        let Some(node) = self.pick(now, links, out) else { return };
        match &self.subscription {
            Some(s) if !s.requested.is_empty() => self.push(node, false, metrics, links, out),
            _ => self.fetch(node, links, out),
        }
    }

    /// The API versions `node` offers, or `None` (and telemetry disabled) when it offers none kprod
    /// speaks.
    fn version<M: Message>(&mut self, node: i32, links: &dyn Links) -> Option<i16> {
        let v = links.version(node, M::API_KEY, (M::MIN_VERSION, M::MAX_VERSION));
        if v.is_none() {
            log::debug!(
                "telemetry: node {node} does not offer {}; client metrics are not pushed",
                M::API_KEY
            );
            self.disabled = true;
        }
        v
    }

    fn fetch(&mut self, node: i32, links: &mut dyn Links, out: &mut Outbox) {
        let Some(version) = self.version::<GetTelemetrySubscriptionsRequest>(node, links) else { return };
        let req = GetTelemetrySubscriptionsRequest { client_instance_id: self.instance_id };
        let correlation_id = links.next_correlation_id(node);
        let what = Request::Telemetry(TelemetryRequest::Subscriptions);
        match Outgoing::encode(node, correlation_id, version, &self.client_id, &req, what) {
            Ok(o) => out.sends.push(o),
            Err((_, e)) => {
                log::error!("telemetry: cannot encode GetTelemetrySubscriptions: {e}");
                self.disabled = true;
            }
        }
    }

    fn push(
        &mut self,
        node: i32,
        terminating: bool,
        metrics: &dyn Fn() -> Metrics,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) {
        let Some(sub) = self.subscription.clone() else { return };
        let Some(version) = self.version::<PushTelemetryRequest>(node, links) else { return };
        let mut selected = points(&metrics(), &sub.requested);
        selected.truncate(self.max_points);
        let now_ns = unix_ns();
        let payload = loop {
            let raw = self.encoder.encode(&self.client_id, &selected, sub.delta, self.start_ns, now_ns);
            let mut compressed = Vec::new();
            let codec = match Compressor::new(sub.compression, None)
                .and_then(|mut c| c.compress(&raw, &mut compressed))
            {
                Ok(()) => sub.compression,
                Err(e) => {
                    log::warn!(
                        "telemetry: {} compression failed ({e}); pushing uncompressed",
                        sub.compression
                    );
                    compressed = raw;
                    CompressionType::None
                }
            };
            if compressed.len() <= sub.max_bytes || selected.is_empty() {
                break (codec, compressed);
            }
            // Too large for the broker: push the first half only.
            let keep = selected.len() / 2;
            log::debug!(
                "telemetry: {} bytes exceed the broker's {}; keeping {keep} metrics",
                compressed.len(),
                sub.max_bytes
            );
            selected.truncate(keep);
        };
        let req = PushTelemetryRequest {
            client_instance_id: self.instance_id,
            subscription_id: sub.id,
            terminating,
            compression_type: payload.0.id() as i8,
            metrics: payload.1.into(),
        };
        let correlation_id = links.next_correlation_id(node);
        let what = Request::Telemetry(TelemetryRequest::Push { terminating });
        match Outgoing::encode(node, correlation_id, version, &self.client_id, &req, what) {
            Ok(o) => out.sends.push(o),
            Err((_, e)) => {
                log::error!("telemetry: cannot encode PushTelemetry: {e}");
                self.disabled = true;
            }
        }
    }

    /// What an error code does, as in Java's client.
    fn on_error(&mut self, code: ErrorCode, what: &str, now: Instant) {
        let interval = self.subscription.as_ref().map_or(DEFAULT_INTERVAL, |s| s.interval);
        match code {
            ErrorCode::UNKNOWN_SUBSCRIPTION_ID | ErrorCode::UNSUPPORTED_COMPRESSION_TYPE => {
                log::debug!("telemetry: {what} answered {code}; fetching the subscription again");
                self.subscription = None;
                self.next = now;
            }
            ErrorCode::TELEMETRY_TOO_LARGE | ErrorCode::THROTTLING_QUOTA_EXCEEDED => {
                log::debug!("telemetry: {what} answered {code}; trying again in {interval:?}");
                if code == ErrorCode::TELEMETRY_TOO_LARGE {
                    self.max_points = (self.max_points.min(1 << 20) / 2).max(1);
                }
                self.next = now + interval;
            }
            _ => {
                log::warn!("telemetry: {what} answered {code}; client metrics are no longer pushed");
                self.disabled = true;
            }
        }
    }

    /// An answer to a telemetry request.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_response(
        &mut self,
        node: i32,
        what: TelemetryRequest,
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
        out: &mut Outbox,
    ) {
        match what {
            TelemetryRequest::Subscriptions => {
                match decode_response::<GetTelemetrySubscriptionsRequest>(body, version, correlation_id) {
                    Ok(r) => {
                        if r.throttle_time_ms > 0 {
                            out.throttle.push((node, now + ms(r.throttle_time_ms)));
                        }
                        if r.error_code != ErrorCode::NONE {
                            return self.on_error(r.error_code, "GetTelemetrySubscriptions", now);
                        }
                        self.failures = 0;
                        if r.client_instance_id != Uuid::ZERO {
                            self.instance_id = r.client_instance_id;
                        }
                        if self.instance_id == Uuid::ZERO {
                            log::warn!("telemetry: the broker assigned no client instance id");
                            self.disabled = true;
                            return;
                        }
                        let interval =
                            if r.push_interval_ms > 0 { ms(r.push_interval_ms) } else { DEFAULT_INTERVAL };
                        let compression = r
                            .accepted_compression_types
                            .iter()
                            .find_map(|&id| {
                                CompressionType::from_attributes(i16::from(id)).ok().filter(|_| id >= 0)
                            })
                            .unwrap_or(CompressionType::None);
                        let sub = Subscription {
                            id: r.subscription_id,
                            compression,
                            interval,
                            max_bytes: usize::try_from(r.telemetry_max_bytes).unwrap_or(0),
                            delta: r.delta_temporality,
                            requested: r.requested_metrics,
                        };
                        if self.subscription.as_ref().is_some_and(|s| s.delta != sub.delta) {
                            self.encoder.reset();
                        }
                        log::debug!("telemetry: subscription {sub:?}");
                        self.next = if sub.requested.is_empty() {
                            now + interval
                        } else if self.first_push {
                            now + interval.mul_f64(0.5 + self.jitter.unit())
                        } else {
                            now + interval
                        };
                        self.subscription = Some(sub);
                    }
                    Err(e) => {
                        log::warn!("telemetry: bad GetTelemetrySubscriptions response from node {node}: {e}");
                        self.on_lost(what, now);
                    }
                }
            }
            TelemetryRequest::Push { terminating } => {
                if terminating {
                    self.terminal = Terminal::Done;
                }
                match decode_response::<PushTelemetryRequest>(body, version, correlation_id) {
                    Ok(r) => {
                        if r.throttle_time_ms > 0 {
                            out.throttle.push((node, now + ms(r.throttle_time_ms)));
                        }
                        self.first_push = false;
                        if r.error_code != ErrorCode::NONE {
                            return self.on_error(r.error_code, "PushTelemetry", now);
                        }
                        self.failures = 0;
                        let interval = self.subscription.as_ref().map_or(DEFAULT_INTERVAL, |s| s.interval);
                        self.next = now + interval;
                    }
                    Err(e) => {
                        log::warn!("telemetry: bad PushTelemetry response from node {node}: {e}");
                        self.on_lost(what, now);
                    }
                }
            }
        }
    }

    /// A telemetry request got no answer: its broker is dropped, and the subscription is fetched again
    /// (from another broker) after a growing backoff.
    pub(crate) fn on_lost(&mut self, what: TelemetryRequest, now: Instant) {
        if what == (TelemetryRequest::Push { terminating: true }) {
            self.terminal = Terminal::Done;
        }
        self.failures = self.failures.saturating_add(1);
        self.node = None;
        self.subscription = None;
        self.next = now + self.backoff.after(self.failures, &mut self.jitter);
    }
}

fn ms(v: i32) -> Duration {
    Duration::from_millis(u64::try_from(v).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::otlp::decode::metrics_data;
    use crate::metrics::Metric;
    use crate::protocol::messages::get_telemetry_subscriptions::GetTelemetrySubscriptionsResponse;
    use crate::protocol::messages::push_telemetry::PushTelemetryResponse;
    use crate::protocol::{ApiKey, Reader, RequestHeader};
    use crate::sender::fake::{response, FakeLinks};

    fn driver(now: Instant) -> TelemetryDriver {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        TelemetryDriver::new(Arc::from("c"), Duration::from_secs(30), backoff, now)
    }

    fn snapshot() -> Metrics {
        let m = |name, value| Metric {
            group: "producer-metrics",
            name,
            tags: vec![("client-id", "c".to_string())],
            description: "d",
            value,
        };
        Metrics::from_vec(vec![m("record-send-total", 7.0), m("batch-size-avg", 10.0)])
    }

    fn subscription(requested: &[&str]) -> GetTelemetrySubscriptionsResponse {
        GetTelemetrySubscriptionsResponse {
            client_instance_id: Uuid([3; 16]),
            subscription_id: 11,
            accepted_compression_types: vec![4, 3, 1, 2],
            push_interval_ms: 1000,
            telemetry_max_bytes: 1 << 20,
            requested_metrics: requested.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The one telemetry request `out` holds: what, node, version, correlation id, and its body.
    fn sent(out: &Outbox) -> (TelemetryRequest, i32, i16, i32, Vec<u8>) {
        let (o, what) = out
            .sends
            .iter()
            .find_map(|o| match o.request {
                Request::Telemetry(what) => Some((o, what)),
                _ => None,
            })
            .expect("a telemetry request");
        let (header, mut r): (RequestHeader, Reader<'_>) =
            crate::protocol::decode_request_header(&o.bytes[4..]).unwrap();
        RequestHeader::decode_tagged(&mut r).unwrap();
        assert_eq!(
            header.request_api_key,
            match what {
                TelemetryRequest::Subscriptions => ApiKey::GET_TELEMETRY_SUBSCRIPTIONS,
                TelemetryRequest::Push { .. } => ApiKey::PUSH_TELEMETRY,
            }
        );
        (what, o.node, o.version, o.correlation_id, r.rest().to_vec())
    }

    fn poll(d: &mut TelemetryDriver, now: Instant, finishing: bool, links: &mut FakeLinks) -> Outbox {
        let mut out = Outbox::default();
        d.poll(now, finishing.then_some(None), &snapshot, links, &mut out);
        out
    }

    /// Polls at `now`, expects a subscription request and answers it with `r`.
    fn subscribe(
        d: &mut TelemetryDriver,
        now: Instant,
        links: &mut FakeLinks,
        r: &GetTelemetrySubscriptionsResponse,
    ) {
        let out = poll(d, now, false, links);
        let (what, node, v, corr, body) = sent(&out);
        assert_eq!(what, TelemetryRequest::Subscriptions);
        let req = GetTelemetrySubscriptionsRequest::decode_body(&body, v).unwrap();
        assert_eq!(req.client_instance_id, d.instance_id());
        d.on_response(node, what, &response(v, corr, r), v, corr, now, &mut Outbox::default());
    }

    #[test]
    fn subscribes_then_pushes_every_interval_and_terminates_on_close() {
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[2, 1]);
        subscribe(&mut d, t0, &mut links, &subscription(&["org.apache.kafka.producer.record"]));
        assert_eq!(d.instance_id(), Uuid([3; 16]), "the broker assigned the id");
        let sub = d.subscription().unwrap().clone();
        assert_eq!(
            (sub.id, sub.compression, sub.interval),
            (11, CompressionType::Zstd, Duration::from_secs(1))
        );
        // The first push is staggered within 0.5–1.5 intervals.
        let out = poll(&mut d, t0 + Duration::from_millis(499), false, &mut links);
        assert!(out.sends.is_empty());
        assert!(out.timeout.is_some_and(|t| t <= Duration::from_millis(1001)));
        let t1 = t0 + Duration::from_millis(1500);
        let out = poll(&mut d, t1, false, &mut links);
        let (what, node, v, corr, body) = sent(&out);
        assert_eq!(
            (what, node),
            (TelemetryRequest::Push { terminating: false }, 1),
            "the least loaded broker"
        );
        let req = PushTelemetryRequest::decode_body(&body, v).unwrap();
        assert_eq!(
            (req.client_instance_id, req.subscription_id, req.compression_type),
            (Uuid([3; 16]), 11, 4)
        );
        let mut raw = Vec::new();
        crate::compression::Decompressor::new()
            .decompress(CompressionType::Zstd, &req.metrics, &mut raw, 1 << 20)
            .unwrap();
        let (_, decoded) = metrics_data(&raw);
        let names: Vec<&str> = decoded.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["org.apache.kafka.producer.record.send.total"], "only what the prefix selects");
        assert_eq!(decoded[0].points[0].3, 7.0);
        // While it is in flight nothing else goes out.
        links.in_flight.push("Telemetry");
        assert!(poll(&mut d, t1, false, &mut links).sends.is_empty());
        links.in_flight.clear();
        d.on_response(
            node,
            what,
            &response(v, corr, &PushTelemetryResponse::default()),
            v,
            corr,
            t1,
            &mut Outbox::default(),
        );
        // The next push one interval later, to the same broker even if another is less loaded now.
        assert!(poll(&mut d, t1 + Duration::from_millis(999), false, &mut links).sends.is_empty());
        links.ready.insert(0);
        let out = poll(&mut d, t1 + Duration::from_millis(1000), false, &mut links);
        let (what, node, v, corr, _) = sent(&out);
        assert_eq!((what, node), (TelemetryRequest::Push { terminating: false }, 1));
        d.on_response(
            node,
            what,
            &response(v, corr, &PushTelemetryResponse::default()),
            v,
            corr,
            t1,
            &mut Outbox::default(),
        );
        // Closing: a terminating push at once, whatever the interval; then the driver may stop.
        let t2 = t1 + Duration::from_millis(1100);
        assert!(!d.may_stop(t2));
        let out = poll(&mut d, t2, true, &mut links);
        let (what, node, v, corr, body) = sent(&out);
        assert_eq!(what, TelemetryRequest::Push { terminating: true });
        assert!(PushTelemetryRequest::decode_body(&body, v).unwrap().terminating);
        d.on_response(
            node,
            what,
            &response(v, corr, &PushTelemetryResponse::default()),
            v,
            corr,
            t2,
            &mut Outbox::default(),
        );
        assert!(d.may_stop(t2));
        assert!(poll(&mut d, t2, true, &mut links).sends.is_empty(), "one terminating push");
    }

    #[test]
    fn no_metrics_wanted_means_no_pushes_and_no_terminating_push() {
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[1]);
        subscribe(&mut d, t0, &mut links, &subscription(&[]));
        assert!(d.may_stop(t0), "nothing to push on close");
        assert!(poll(&mut d, t0 + Duration::from_millis(999), false, &mut links).sends.is_empty());
        // An interval later the subscription is asked again (it may have changed).
        let out = poll(&mut d, t0 + Duration::from_millis(1000), false, &mut links);
        assert_eq!(sent(&out).0, TelemetryRequest::Subscriptions);
        assert!(poll(&mut d, t0, true, &mut Default::default()).sends.is_empty());
    }

    #[test]
    fn errors_refetch_wait_or_disable() {
        let t0 = Instant::now();
        let push_answer = |d: &mut TelemetryDriver, links: &mut FakeLinks, code, at| {
            let out = poll(d, at, false, links);
            let (what, node, v, corr, _) = sent(&out);
            assert!(matches!(what, TelemetryRequest::Push { .. }));
            let r = PushTelemetryResponse { error_code: code, throttle_time_ms: 0 };
            d.on_response(node, what, &response(v, corr, &r), v, corr, at, &mut Outbox::default());
        };
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[1]);
        let sub = subscription(&[""]);
        subscribe(&mut d, t0, &mut links, &sub);
        let t1 = t0 + Duration::from_secs(2);
        push_answer(&mut d, &mut links, ErrorCode::UNKNOWN_SUBSCRIPTION_ID, t1);
        assert!(d.subscription().is_none());
        // Fetched again at once, keeping the instance id.
        subscribe(
            &mut d,
            t1,
            &mut links,
            &GetTelemetrySubscriptionsResponse { client_instance_id: Uuid::ZERO, ..sub.clone() },
        );
        assert_eq!(d.instance_id(), Uuid([3; 16]));
        let t2 = t1 + Duration::from_secs(2);
        push_answer(&mut d, &mut links, ErrorCode::TELEMETRY_TOO_LARGE, t2);
        assert!(
            poll(&mut d, t2 + Duration::from_millis(999), false, &mut links).sends.is_empty(),
            "waits an interval"
        );
        push_answer(&mut d, &mut links, ErrorCode::INVALID_RECORD, t2 + Duration::from_secs(1));
        assert!(d.is_disabled());
        assert!(d.may_stop(t2));
        assert!(poll(&mut d, t2 + Duration::from_secs(9), false, &mut links).sends.is_empty());
    }

    #[test]
    fn a_broker_without_the_api_disables_telemetry() {
        struct NoTelemetry(FakeLinks);
        impl Links for NoTelemetry {
            fn can_send(&self, node: i32, now: Instant) -> bool {
                self.0.can_send(node, now)
            }
            fn is_connecting_or_up(&self, node: i32) -> bool {
                self.0.is_connecting_or_up(node)
            }
            fn throttled_until(&self, node: i32) -> Option<Instant> {
                self.0.throttled_until(node)
            }
            fn least_loaded(&self, now: Instant) -> Option<i32> {
                self.0.least_loaded(now)
            }
            fn version(&self, _: i32, _: ApiKey, _: (i16, i16)) -> Option<i16> {
                None
            }
            fn finalized_feature(&self, node: i32, name: &str) -> i16 {
                self.0.finalized_feature(node, name)
            }
            fn next_correlation_id(&mut self, node: i32) -> i32 {
                self.0.next_correlation_id(node)
            }
            fn in_flight(&self, is: &dyn Fn(&Request) -> bool) -> bool {
                self.0.in_flight(is)
            }
        }
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = NoTelemetry(FakeLinks::ready(&[1]));
        let mut out = Outbox::default();
        d.poll(t0, None, &snapshot, &mut links, &mut out);
        assert!(out.sends.is_empty() && d.is_disabled() && d.may_stop(t0));
    }

    #[test]
    fn a_lost_request_drops_broker_and_subscription_and_backs_off() {
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[1]);
        subscribe(&mut d, t0, &mut links, &subscription(&[""]));
        let out = poll(&mut d, t0 + Duration::from_secs(2), false, &mut links);
        let (what, ..) = sent(&out);
        d.on_lost(what, t0 + Duration::from_secs(2));
        assert!(d.subscription().is_none());
        assert!(poll(&mut d, t0 + Duration::from_secs(2), false, &mut links).sends.is_empty(), "backing off");
        links.ready = [4].into_iter().collect();
        links.up = links.ready.clone();
        let out = poll(&mut d, t0 + Duration::from_secs(4), false, &mut links);
        let (what, node, ..) = sent(&out);
        assert_eq!((what, node), (TelemetryRequest::Subscriptions, 4), "asked again, of another broker");
    }

    #[test]
    fn the_terminating_push_ends_before_the_close_stops_waiting() {
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[1]);
        subscribe(&mut d, t0, &mut links, &subscription(&[""]));
        let mut out = Outbox::default();
        d.poll(t0, Some(Some(t0 + Duration::from_secs(1))), &snapshot, &mut FakeLinks::default(), &mut out);
        assert!(!d.may_stop(t0 + Duration::from_millis(699)));
        assert!(
            d.may_stop(t0 + Duration::from_millis(700)),
            "CLOSE_MARGIN (300 ms) before the close's deadline"
        );
        // A close with no time left sends nothing.
        let mut d = driver(t0);
        subscribe(&mut d, t0, &mut links, &subscription(&[""]));
        let mut out = Outbox::default();
        d.poll(t0, Some(Some(t0)), &snapshot, &mut links, &mut out);
        assert!(out.sends.is_empty() && d.may_stop(t0));
    }

    #[test]
    fn the_terminating_push_is_bounded_by_the_request_timeout() {
        let t0 = Instant::now();
        let mut d = driver(t0);
        let mut links = FakeLinks::ready(&[1]);
        subscribe(&mut d, t0, &mut links, &subscription(&[""]));
        // No connection any more: the push cannot go out.
        let mut none = FakeLinks::default();
        let out = poll(&mut d, t0, true, &mut none);
        assert!(out.sends.is_empty() && out.connect_any);
        assert!(!d.may_stop(t0 + Duration::from_secs(29)));
        assert!(d.may_stop(t0 + Duration::from_secs(30)));
    }
}
