//! One non-blocking broker connection (Java's `KafkaChannel` plus the in-flight bookkeeping of
//! `NetworkClient`): socket set-up with socket2, the ApiVersions handshake, pipelined requests written
//! with vectored writes (Produce batches straight from their buffers), and response framing.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::io::{Io, SocketOptions, Stream, Token};

use crate::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use crate::protocol::messages::sasl::{SaslAuthenticateRequest, SaslHandshakeRequest};
use crate::protocol::{decode_response, encode_request, frame, ApiKey, ErrorCode, ProtocolError};
use crate::security::sasl::{SaslClient, SaslSettings, Step};
use crate::security::tls;
use crate::sender::request::Request;

/// The ApiVersions version kprod asks with first (v3+ carries the client software name).
const API_VERSIONS_VERSION: i16 = 3;
/// Largest response frame accepted; producer responses are small.
const MAX_RESPONSE_FRAME: usize = 64 * 1024 * 1024;
/// Most slices handed to one vectored write (well under every platform's IOV_MAX).
const MAX_IOVECS: usize = 256;
/// The read buffer's first size and its least growth.
const READ_CHUNK: usize = 4096;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// TCP connect in progress.
    Connecting,
    /// Connected; waiting for the ApiVersions answer (over TLS: the TLS handshake comes first).
    Handshake,
    /// SASL authentication or re-authentication (KIP-368) in progress: no new requests; answers to
    /// requests written before a re-authentication still arrive, in order.
    Authenticating,
    /// Ready for requests.
    Ready,
}

/// The bytes on the wire of `request`: `owned` for every request but Produce, whose batches add theirs.
fn total_len(request: &Request, owned: &[u8]) -> usize {
    match request {
        Request::Produce { frame, batches } => {
            frame.wire_len(batches.iter().map(|b| b.sealed_bytes().map_or(0, <[u8]>::len)).sum())
        }
        _ => owned.len(),
    }
}

/// Appends the slices of `request` after its first `skip` bytes to `out`.
fn request_slices<'a>(request: &'a Request, owned: &'a [u8], mut skip: usize, out: &mut Vec<IoSlice<'a>>) {
    let mut push = |s: &'a [u8], out: &mut Vec<IoSlice<'a>>| {
        if skip >= s.len() {
            skip -= s.len();
        } else {
            out.push(IoSlice::new(&s[skip..]));
            skip = 0;
        }
    };
    match request {
        Request::Produce { frame, batches } => {
            let mut from = 0;
            for (split, batch) in frame.splits.iter().zip(batches) {
                push(frame.head.get(from..*split).unwrap_or(&[]), out);
                push(batch.sealed_bytes().unwrap_or(&[]), out);
                from = *split;
            }
            push(frame.head.get(from..).unwrap_or(&[]), out);
        }
        _ => push(owned, out),
    }
}

/// A request written or being written, awaiting its response.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// The correlation id.
    pub correlation_id: i32,
    /// The request's API version.
    pub version: i16,
    /// What it is, with what it carries.
    pub request: Request,
    /// Its encoded bytes (empty for Produce, which is written from its frame and batches).
    bytes: Vec<u8>,
    written: usize,
    total: usize,
    /// False for acks=0 Produce: the broker sends nothing back.
    pub expects_response: bool,
    /// When the response is due (`request.timeout.ms` after the request was queued).
    pub deadline: Instant,
}

/// One broker connection.
#[derive(Debug)]
pub(crate) struct Connection<S> {
    /// The broker's node id (negative for bootstrap servers).
    pub node_id: i32,
    /// The poll token.
    pub token: Token,
    /// `host:port` as configured or advertised, for error messages.
    pub address: String,
    /// `request.timeout.ms`, for the ApiVersions handshake.
    pub request_timeout: Duration,
    stream: S,
    /// The connection's state.
    pub state: ConnState,
    /// When the connection attempt started (for the set-up timeout).
    pub started: Instant,
    /// What the broker supports, once the handshake is done.
    pub versions: Option<ApiVersionsResponse>,
    /// Requests in send order; the broker answers in that order.
    pub in_flight: VecDeque<InFlight>,
    /// Index of the first request not yet completely written.
    write_index: usize,
    read_buf: Vec<u8>,
    read_len: usize,
    next_correlation_id: i32,
    /// No new requests before this (KIP-219 throttling).
    pub throttled_until: Option<Instant>,
    /// When bytes last moved.
    pub last_activity: Instant,
    writable_interest: bool,
    client_id: Arc<str>,
    /// The TLS session over `stream` (SSL, SASL_SSL); requests and responses pass through it.
    tls: Option<Box<rustls::ClientConnection>>,
    /// How to authenticate (SASL_PLAINTEXT, SASL_SSL).
    sasl: Option<SaslSettings>,
    /// The SASL exchange in progress, and whether it is a re-authentication.
    exchange: Option<(Box<dyn SaslClient>, bool)>,
    /// When to re-authenticate (KIP-368): between 85% and 95% of the session lifetime the broker
    /// gave, as Java's client does.
    pub reauth_at: Option<Instant>,
    /// Size and API name of the requests queued since the network last took them (for the metrics).
    pub pushed: Vec<(usize, &'static str)>,
    /// How long each request completely written since then waited to be (`outbuf_latency`).
    pub written: Vec<Duration>,
    /// When the re-authentication under way started (reauthentication-latency).
    pub reauth_started: Option<Instant>,
}

/// A connection that failed to authenticate: a TLS certificate or handshake failure, or a SASL
/// failure. Carried inside an `io::Error` so the network can tell it from a broken socket.
#[derive(Debug, Clone)]
pub(crate) struct AuthFailed {
    /// `SSL` or `SASL/<mechanism>`.
    pub mechanism: String,
    /// What failed, in words (the broker's message for SASL).
    pub message: String,
}

impl std::fmt::Display for AuthFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} authentication failed: {}", self.mechanism, self.message)
    }
}

impl std::error::Error for AuthFailed {}

impl AuthFailed {
    /// An `io::Error` carrying `self`.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, self)
    }

    /// The authentication failure inside `e`, if it is one.
    pub fn of(e: &io::Error) -> Option<&AuthFailed> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<AuthFailed>())
    }
}

/// `Read` over a [`Stream`], for rustls to take ciphertext from.
struct ReadHalf<'a, S>(&'a mut S);

impl<S: Stream> Read for ReadHalf<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// `Write` over a [`Stream`], for rustls to put ciphertext into.
struct WriteHalf<'a, S>(&'a mut S);

impl<S: Stream> Write for WriteHalf<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes what `tls` holds for the socket; `WouldBlock` when the socket takes no more now.
fn flush_tls<S: Stream>(tls: &mut rustls::ClientConnection, stream: &mut S) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(&mut WriteHalf(stream)) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "broker closed the connection")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A TLS failure as the network reports it: an authentication failure naming the cause.
fn tls_failure(e: &rustls::Error) -> io::Error {
    AuthFailed { mechanism: "SSL".into(), message: tls::describe(e) }.into_io()
}

impl<S: Stream> Connection<S> {
    /// Starts a non-blocking connect to `addr` through `io`; with `tls`, everything on it is then
    /// carried by that TLS session (whose handshake starts with the first request).
    #[allow(clippy::too_many_arguments)]
    pub fn connect<I: Io<Stream = S>>(
        io: &mut I,
        node_id: i32,
        addr: SocketAddr,
        token: Token,
        options: SocketOptions,
        client_id: Arc<str>,
        tls: Option<rustls::ClientConnection>,
        now: Instant,
    ) -> io::Result<Connection<S>> {
        let stream = io.connect(addr, token, options)?;
        Ok(Connection {
            node_id,
            token,
            address: addr.to_string(),
            request_timeout: Duration::from_secs(30),
            stream,
            state: ConnState::Connecting,
            started: now,
            versions: None,
            in_flight: VecDeque::new(),
            write_index: 0,
            read_buf: Vec::new(),
            read_len: 0,
            next_correlation_id: 0,
            throttled_until: None,
            last_activity: now,
            writable_interest: true,
            client_id,
            tls: tls.map(Box::new),
            sasl: None,
            exchange: None,
            reauth_at: None,
            pushed: Vec::new(),
            written: Vec::new(),
            reauth_started: None,
        })
    }

    /// Stops its readiness reports; the connection is then dropped.
    pub fn close<I: Io<Stream = S>>(&mut self, io: &mut I) {
        io.close(&mut self.stream);
    }

    /// After a writable event while connecting: true once the TCP connection is up, an error if it
    /// failed, false if it is still in progress.
    pub fn finish_connect(&mut self, now: Instant) -> io::Result<bool> {
        if self.state != ConnState::Connecting {
            return Ok(true);
        }
        if !self.stream.connected()? {
            return Ok(false);
        }
        self.state = ConnState::Handshake;
        self.queue_api_versions(API_VERSIONS_VERSION, now)?;
        Ok(true)
    }

    fn queue_api_versions(&mut self, version: i16, now: Instant) -> io::Result<()> {
        let req = ApiVersionsRequest {
            client_software_name: "kprod".into(),
            client_software_version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        let id = self.next_id();
        let mut out = Vec::new();
        encode_request(&mut out, version, id, Some(&self.client_id), &req).map_err(invalid_data)?;
        // As in Java, ApiVersions is a request like any other once the socket is up: it has
        // `request.timeout.ms`, the set-up timeout covers the TCP connect.
        self.push(id, version, Request::ApiVersions, out, true, now + self.request_timeout);
        Ok(())
    }

    /// Handles the ApiVersions answer; true when the handshake is done (the connection is ready, or
    /// authenticates next when [`needs_sasl`](Self::needs_sasl)), false when it asked again at a lower
    /// version.
    pub fn on_api_versions(
        &mut self,
        body: &[u8],
        version: i16,
        now: Instant,
    ) -> Result<bool, ProtocolError> {
        let resp = ApiVersionsResponse::decode_with_fallback(body, version)?;
        if resp.error_code == ErrorCode::UNSUPPORTED_VERSION {
            let theirs = resp.range(ApiKey::API_VERSIONS).map_or(0, |(_, max)| max);
            let retry = theirs.min(version - 1).max(0);
            if version == 0 {
                return Err(ProtocolError::invalid("ApiVersions", "broker refused every version"));
            }
            self.queue_api_versions(retry, now)
                .map_err(|e| ProtocolError::invalid("ApiVersions", e.to_string()))?;
            return Ok(false);
        }
        if resp.error_code != ErrorCode::NONE {
            return Err(ProtocolError::invalid("ApiVersions", resp.error_code.to_string()));
        }
        self.versions = Some(resp);
        if self.sasl.is_some() {
            // Authentication comes next; the caller starts it.
            return Ok(true);
        }
        self.state = ConnState::Ready;
        Ok(true)
    }

    /// Authenticates with `settings` once ApiVersions is answered.
    pub fn set_sasl(&mut self, settings: Option<SaslSettings>) {
        self.sasl = settings;
    }

    /// After ApiVersions: true when the connection authenticates before it is ready.
    pub fn needs_sasl(&self) -> bool {
        self.sasl.is_some()
    }

    /// Starts (re-)authenticating: SaslHandshake v1 naming the mechanism. No new request goes out
    /// until it is done; requests already written are answered first, in order.
    pub fn start_sasl(&mut self, reauth: bool, now: Instant) -> io::Result<()> {
        let Some(settings) = self.sasl.as_ref() else { return Ok(()) };
        let mechanism = settings.mechanism().name();
        // v0 sends the tokens as raw frames, which kprod does not speak; every broker since 1.0 has v1.
        if self.pick_version(ApiKey::SASL_HANDSHAKE, (1, 1)).is_none() {
            return Err(self.sasl_failure(mechanism, "the broker lacks SaslHandshake v1 (Kafka 1.0+)".into()));
        }
        let client = settings.client().map_err(|e| {
            if e.is_retriable() {
                // No token yet: an ordinary failed attempt, tried again after the reconnect backoff.
                io::Error::other(e.to_string())
            } else {
                self.sasl_failure(mechanism, e.to_string())
            }
        })?;
        log::debug!(
            "node {} (client {}): authenticating with SASL/{}",
            self.node_id,
            self.client_id,
            client.mechanism()
        );
        self.exchange = Some((client, reauth));
        self.reauth_started = reauth.then_some(now);
        self.state = ConnState::Authenticating;
        self.reauth_at = None;
        let req = SaslHandshakeRequest { mechanism: mechanism.to_owned() };
        self.queue_own(&req, 1, Request::SaslHandshake, now)
    }

    /// Handles the SaslHandshake answer: the first SASL message goes out.
    pub fn on_sasl_handshake(
        &mut self,
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
    ) -> io::Result<()> {
        let mechanism = self.mechanism();
        let resp =
            decode_response::<SaslHandshakeRequest>(body, version, correlation_id).map_err(invalid_data)?;
        if resp.error_code == ErrorCode::UNSUPPORTED_SASL_MECHANISM {
            let enabled = resp.mechanisms.join(", ");
            return Err(self
                .sasl_failure(mechanism, format!("the broker does not enable it (it enables: {enabled})")));
        }
        if resp.error_code != ErrorCode::NONE {
            return Err(self.sasl_failure(mechanism, format!("SaslHandshake: {}", resp.error_code)));
        }
        // A mechanism whose first message is all it sends is done only after the broker's answer.
        self.sasl_step(None, now).map(|_| ())
    }

    /// Handles a SaslAuthenticate answer; true once authentication is complete (the connection is
    /// ready again).
    pub fn on_sasl_authenticate(
        &mut self,
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
        jitter: f64,
    ) -> io::Result<bool> {
        let mechanism = self.mechanism();
        let resp = decode_response::<SaslAuthenticateRequest>(body, version, correlation_id)
            .map_err(invalid_data)?;
        if resp.error_code != ErrorCode::NONE {
            let why = resp.error_message.clone().unwrap_or_else(|| resp.error_code.to_string());
            return Err(self.sasl_failure(mechanism, why));
        }
        if !self.sasl_step(Some(&resp.auth_bytes), now)? {
            return Ok(false);
        }
        // KIP-368: re-authenticate between 85% and 95% of the session lifetime (Java's window).
        self.reauth_at = u64::try_from(resp.session_lifetime_ms)
            .ok()
            .filter(|&ms| ms > 0)
            .map(|ms| now + Duration::from_millis(ms).mul_f64(0.85 + 0.10 * jitter.clamp(0.0, 1.0)));
        Ok(true)
    }

    /// The exchange's next message: true when it has none (authenticated), false when one went out.
    fn sasl_step(&mut self, server: Option<&[u8]>, now: Instant) -> io::Result<bool> {
        let mechanism = self.mechanism();
        let Some((client, _)) = self.exchange.as_mut() else {
            return Err(invalid_data("a SASL answer with no authentication in progress"));
        };
        match client.step(server) {
            Err(e) => Err(self.sasl_failure(mechanism, e.to_string())),
            Ok(Step::Send(bytes)) => {
                let Some(version) = self.pick_version(ApiKey::SASL_AUTHENTICATE, (0, 2)) else {
                    return Err(self.sasl_failure(mechanism, "the broker lacks SaslAuthenticate".into()));
                };
                let req = SaslAuthenticateRequest { auth_bytes: bytes.into() };
                self.queue_own(&req, version, Request::SaslAuthenticate, now)?;
                Ok(false)
            }
            Ok(Step::Done) => {
                self.exchange = None;
                self.state = ConnState::Ready;
                Ok(true)
            }
        }
    }

    /// True when the exchange under way is a re-authentication.
    pub fn is_reauthenticating(&self) -> bool {
        self.exchange.as_ref().is_some_and(|(_, reauth)| *reauth)
    }

    fn mechanism(&self) -> &'static str {
        self.sasl.as_ref().map_or("?", |s| s.mechanism().name())
    }

    fn sasl_failure(&self, mechanism: &str, message: String) -> io::Error {
        AuthFailed { mechanism: format!("SASL/{mechanism}"), message }.into_io()
    }

    /// Encodes and queues one of the connection's own requests.
    fn queue_own<R: crate::protocol::Request>(
        &mut self,
        req: &R,
        version: i16,
        request: Request,
        now: Instant,
    ) -> io::Result<()> {
        let id = self.next_id();
        let mut out = Vec::new();
        encode_request(&mut out, version, id, Some(&self.client_id), req).map_err(invalid_data)?;
        self.push(id, version, request, out, true, now + self.request_timeout);
        Ok(())
    }

    /// The highest version of `api` both sides support, with kprod's range `ours`.
    pub fn pick_version(&self, api: ApiKey, ours: (i16, i16)) -> Option<i16> {
        let (min, max) = self.versions.as_ref()?.range(api)?;
        let v = max.min(ours.1);
        (v >= min.max(ours.0)).then_some(v)
    }

    /// The broker's finalized level of feature `name` (0 when it has none).
    pub fn finalized_feature(&self, name: &str) -> i16 {
        self.versions
            .as_ref()
            .and_then(|v| v.finalized_features.iter().find(|f| f.name == name))
            .map_or(0, |f| f.max_version_level)
    }

    /// The next correlation id.
    pub fn next_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1) & i32::MAX;
        id
    }

    /// Requests awaiting a response (or still being written).
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Requests queued and not completely written yet, and requests written awaiting a response.
    pub fn outbuf_and_waitresp(&self) -> (usize, usize) {
        (self.in_flight.len().saturating_sub(self.write_index), self.write_index)
    }

    /// True when the connection is ready and may take another request.
    pub fn can_send(&self, max_in_flight: usize, now: Instant) -> bool {
        self.state == ConnState::Ready
            && self.in_flight.len() < max_in_flight
            && self.throttled_until.map_or(true, |t| now >= t)
    }

    /// Queues a request for writing (its size and name go to `pushed`, for the metrics).
    /// `bytes` is the encoded request; empty for [`Request::Produce`], which carries its own.
    pub fn push(
        &mut self,
        correlation_id: i32,
        version: i16,
        request: Request,
        bytes: Vec<u8>,
        expects_response: bool,
        deadline: Instant,
    ) {
        let total = total_len(&request, &bytes);
        self.in_flight.push_back(InFlight {
            correlation_id,
            version,
            request,
            bytes,
            written: 0,
            total,
            expects_response,
            deadline,
        });
        let name = self.in_flight.back().map_or("?", |r| r.request.name());
        self.pushed.push((total, name));
    }

    /// Writes as much queued data as the socket takes. Requests that were fully written and expect no
    /// response (acks=0 Produce) are complete and move to `done`, also when a later write fails: the
    /// caller settles `done` first, then the error.
    pub fn write<I: Io<Stream = S>>(
        &mut self,
        io: &mut I,
        now: Instant,
        done: &mut Vec<InFlight>,
    ) -> io::Result<()> {
        if self.state == ConnState::Connecting {
            return Ok(());
        }
        let before = done.len();
        while self.write_index < self.in_flight.len() {
            let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(16);
            for req in self.in_flight.iter().skip(self.write_index) {
                request_slices(&req.request, &req.bytes, req.written, &mut slices);
                if slices.len() >= MAX_IOVECS {
                    slices.truncate(MAX_IOVECS);
                    break;
                }
            }
            let n = match transport_write(&mut self.stream, self.tls.as_deref_mut(), &slices) {
                Ok(0) => {
                    return Err(io::Error::new(io::ErrorKind::WriteZero, "broker closed the connection"))
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            drop(slices);
            self.last_activity = now;
            let mut left = n;
            while left > 0 {
                let Some(req) = self.in_flight.get_mut(self.write_index) else { break };
                let take = left.min(req.total - req.written);
                req.written += take;
                left -= take;
                if req.written == req.total {
                    let queued = req.deadline.checked_sub(self.request_timeout).unwrap_or(req.deadline);
                    self.written.push(now.saturating_duration_since(queued));
                    if req.expects_response {
                        self.write_index += 1;
                    } else if let Some(r) = self.in_flight.remove(self.write_index) {
                        done.push(r);
                    }
                }
            }
        }
        // Only ask for writable events while something is waiting to be written (by us or by TLS).
        let want_write = self.write_index < self.in_flight.len() || self.tls_pending();
        log::trace!(
            "node {}: {} requests queued, {} unwritten, {} completed without response",
            self.node_id,
            self.in_flight.len(),
            self.in_flight.len() - self.write_index,
            done.len() - before
        );
        if want_write != self.writable_interest {
            io.want_write(&mut self.stream, self.token, want_write)?;
            self.writable_interest = want_write;
        }
        Ok(())
    }

    /// Reads what the socket has and moves each complete response, with the request it answers, to
    /// `out`. Responses collected before a failure stay in `out` (the caller handles them, then the
    /// error); a response that matches no request fails the connection and leaves every request in
    /// flight, to be settled as lost.
    pub fn read(&mut self, now: Instant, out: &mut Vec<(InFlight, Vec<u8>)>) -> io::Result<()> {
        loop {
            let room = self.read_room()?;
            if self.read_buf.len() < self.read_len + room {
                self.read_buf.resize(self.read_len + room, 0);
            }
            let buf = &mut self.read_buf[self.read_len..];
            let n = match transport_read(&mut self.stream, self.tls.as_deref_mut(), buf) {
                Ok(0) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "broker closed the connection"))
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.read_len += n;
            self.last_activity = now;
            self.take_frames(out)?;
        }
    }

    /// True when TLS holds bytes for the socket that it did not take yet (e.g. handshake messages
    /// produced while reading): the caller writes again.
    pub fn tls_pending(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// True when the TLS session (if any) has not written anything to the socket yet wanted; also
    /// false without TLS.
    pub fn needs_flush(&self) -> bool {
        self.tls_pending() && !self.writable_interest
    }

    /// How many bytes the next read may add. The buffer grows with what has arrived (at most doubling
    /// per read, from 4 KiB), never straight to a size prefix's claim: a peer must send bytes to make
    /// us hold them.
    fn read_room(&self) -> io::Result<usize> {
        if self.read_len < 4 {
            return Ok(READ_CHUNK);
        }
        // Validates the size prefix before buffering for it.
        frame::frame_len(&self.read_buf[..self.read_len], MAX_RESPONSE_FRAME).map_err(invalid_data)?;
        let left = (4 + frame_size(&self.read_buf)).saturating_sub(self.read_len);
        Ok(left.min(self.read_len.max(READ_CHUNK)).max(READ_CHUNK))
    }

    fn take_frames(&mut self, out: &mut Vec<(InFlight, Vec<u8>)>) -> io::Result<()> {
        let mut start = 0;
        while let Some((body, _)) =
            frame::split_frame(&self.read_buf[start..self.read_len], MAX_RESPONSE_FRAME)
                .map_err(invalid_data)?
        {
            let len = body.len();
            let correlation = body.get(..4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            // Responses come back in request order, each to a request already written. Anything else
            // leaves the request where it is: the connection fails and settles it as lost.
            match self.in_flight.front() {
                None => {
                    return Err(invalid_data(format!(
                        "a response nobody asked for (correlation id {correlation:?})"
                    )))
                }
                Some(req) if self.write_index == 0 => {
                    return Err(invalid_data(format!(
                        "a response (correlation id {correlation:?}) before request {} was written",
                        req.correlation_id
                    )))
                }
                Some(req) if correlation != Some(req.correlation_id) => {
                    return Err(invalid_data(format!(
                        "correlation id {correlation:?} does not match request {}",
                        req.correlation_id
                    )))
                }
                Some(_) => {}
            }
            let Some(req) = self.in_flight.pop_front() else { break };
            self.write_index -= 1;
            out.push((req, body.to_vec()));
            start += 4 + len;
        }
        if start > 0 {
            self.read_buf.copy_within(start..self.read_len, 0);
            self.read_len -= start;
            // Give back a large buffer once an unusually big frame has been consumed.
            if self.read_buf.len() > 1 << 20 && self.read_len < READ_CHUNK {
                self.read_buf.truncate(READ_CHUNK);
                self.read_buf.shrink_to_fit();
            }
        }
        Ok(())
    }

    /// Takes every request, written or not, when the connection dies.
    pub fn take_in_flight(&mut self) -> Vec<InFlight> {
        self.write_index = 0;
        self.in_flight.drain(..).collect()
    }

    /// The earliest response deadline among the requests in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_flight.iter().filter(|r| r.expects_response).map(|r| r.deadline).min()
    }
}

/// Writes `slices` to the socket, through TLS when there is a session: what TLS accepted counts as
/// written (it flushes it as the socket takes it), and `WouldBlock` when it takes nothing now.
fn transport_write<S: Stream>(
    stream: &mut S,
    tls: Option<&mut rustls::ClientConnection>,
    slices: &[IoSlice<'_>],
) -> io::Result<usize> {
    let Some(tls) = tls else { return stream.write_vectored(slices) };
    // What TLS holds goes first; its buffer is bounded, so a socket that takes nothing now makes it
    // refuse more below.
    match flush_tls(tls, stream) {
        Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
        _ => {}
    }
    let n = tls.writer().write_vectored(slices)?;
    match flush_tls(tls, stream) {
        Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
        _ => {}
    }
    if n == 0 {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    Ok(n)
}

/// Reads from the socket, through TLS when there is a session: plaintext TLS already has, else
/// ciphertext from the socket (driving the handshake; what it must answer is written at once or left
/// for [`Connection::tls_pending`]). `Ok(0)` at the end of the stream.
fn transport_read<S: Stream>(
    stream: &mut S,
    tls: Option<&mut rustls::ClientConnection>,
    buf: &mut [u8],
) -> io::Result<usize> {
    let Some(tls) = tls else { return stream.read(buf) };
    loop {
        match tls.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if tls.read_tls(&mut ReadHalf(stream))? == 0 {
            return Ok(0);
        }
        if let Err(e) = tls.process_new_packets() {
            // Tell the broker why (rustls queued an alert), then fail.
            let _ = flush_tls(tls, stream);
            return Err(tls_failure(&e));
        }
        match flush_tls(tls, stream) {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
            _ => {}
        }
    }
}

fn frame_size(buf: &[u8]) -> usize {
    buf.get(..4)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

fn invalid_data(e: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}
