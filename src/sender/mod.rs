//! Java's `Sender`: the one I/O thread. This module is the loop that wires the parts together:
//!
//! - [`net`] — the only mio user: the `Poll`, the sockets and all per-broker state; it turns socket
//!   events into [`NetEvent`]s and hands every request back exactly once, answered or lost;
//! - the sans-I/O drivers — [`refresh`] (metadata), [`produce`], and in `txn/` the idempotent
//!   producer's InitProducerId and the transaction coordinator — each of the form "given now and the
//!   view of the cluster and the connections ([`Links`]), what do you want sent ([`Outbox`]); here is
//!   an answer; this request was lost". They do no I/O, so they are tested without sockets.
//!
//! Completions leave this thread at once: a batch's shared result is set here (waking `wait`ers), and
//! its callbacks go to the callback thread over a channel, so a slow callback never stalls delivery.

pub(crate) mod backoff;
pub(crate) mod driver;
pub mod metadata;
pub(crate) mod net;
pub(crate) mod produce;
mod refresh;
pub(crate) mod request;
mod shared;
mod telemetry;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender as ChannelSender;

use crate::metrics::HookEvent;

use self::backoff::Backoff;
use self::metadata::Metadata;
use self::net::{Io, MioIo, NetConfig, NetEvent, Network, Wake};
use self::produce::{ProduceConfig, ProduceDriver};
use self::refresh::MetadataDriver;
use self::request::Request;
use self::telemetry::TelemetryDriver;
use crate::accumulator::Completions;
use crate::error::Error;
use crate::protocol::ErrorCode;
use crate::txn::coordinator::{CoordinatorConfig, CoordinatorDriver};
use crate::txn::init::InitDriver;
use crate::txn::TransactionManager;

use self::driver::Outbox;
pub(crate) use self::net::SocketOptions;
pub(crate) use self::shared::{SenderShared, PURGE_IN_FLIGHT, PURGE_QUEUED};

/// The sender's settings (the producer properties of the same names).
#[derive(Debug, Clone)]
pub(crate) struct SenderConfig {
    /// `bootstrap.servers`, parsed.
    pub bootstrap: Vec<(String, u16)>,
    /// `client.id`.
    pub client_id: Arc<str>,
    /// `acks` as sent (0, 1, -1).
    pub acks: i16,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: usize,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// `delivery.timeout.ms`.
    pub delivery_timeout: Duration,
    /// `retries`.
    pub retries: u32,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Duration,
    /// `max.request.size`.
    pub max_request_size: usize,
    /// `reconnect.backoff.ms`.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms`.
    pub reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms`.
    pub connection_setup_timeout: Duration,
    /// `socket.connection.setup.timeout.max.ms`.
    pub connection_setup_timeout_max: Duration,
    /// `connections.max.idle.ms`.
    pub connections_max_idle: Option<Duration>,
    /// Socket buffer sizes.
    pub socket: SocketOptions,
    /// `enable.idempotence`.
    pub idempotence: bool,
    /// `transaction.timeout.ms`, sent in InitProducerId.
    pub transaction_timeout: Duration,
    /// TLS and SASL of the broker connections (`None`: PLAINTEXT).
    pub security: Option<Arc<crate::security::Security>>,
    /// `metadata.recovery.rebootstrap.trigger.ms` when `metadata.recovery.strategy=rebootstrap`;
    /// `None` for `none`.
    pub rebootstrap_trigger: Option<Duration>,
    /// `client.dns.lookup=resolve_canonical_bootstrap_servers_only`.
    pub canonical_bootstrap: bool,
    /// `enable.metrics.push`: push client metrics to brokers that ask for them (KIP-714).
    pub metrics_push: bool,
}

/// The sender thread's state (Java's `Sender` with its `NetworkClient`).
pub(crate) struct Sender<I: Io = MioIo> {
    shared: Arc<SenderShared>,
    net: Network<I>,
    completions: ChannelSender<Completions>,
    produce: ProduceDriver,
    refresh: MetadataDriver,
    /// The idempotent producer's InitProducerId (not with transactions: the coordinator driver asks).
    init: Option<InitDriver>,
    coordinator: Option<CoordinatorDriver>,
    /// The producer id, epoch and sequences, when idempotence is on.
    tm: Option<TransactionManager>,
    /// Client telemetry (KIP-714), with `enable.metrics.push`.
    telemetry: Option<TelemetryDriver>,
    /// Where errors and statistics for the application's hooks go (the callback thread runs them).
    hooks: Option<ChannelSender<HookEvent>>,
    /// Whether `on_error` is set.
    errors_wanted: bool,
    throttle_wanted: bool,
    /// `statistics.interval.ms` and when the next document is due, when `on_statistics` is set.
    stats: Option<(Duration, Instant)>,
}

impl<I: Io> std::fmt::Debug for Sender<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("net", &self.net).finish_non_exhaustive()
    }
}

/// Builds the sender's network and the waker application threads ring, before the sender exists.
pub(crate) fn network(
    config: &SenderConfig,
    metadata: Arc<Metadata>,
) -> std::io::Result<(Network, Arc<Wake>)> {
    Network::new(net_config(config), metadata)
}

/// The network's part of the sender's settings.
pub(crate) fn net_config(config: &SenderConfig) -> NetConfig {
    NetConfig {
        bootstrap: config.bootstrap.clone(),
        client_id: Arc::clone(&config.client_id),
        max_in_flight: config.max_in_flight,
        request_timeout: config.request_timeout,
        reconnect: Backoff::new(config.reconnect_backoff, config.reconnect_backoff_max),
        setup_timeout: Backoff::new(config.connection_setup_timeout, config.connection_setup_timeout_max),
        idle: config.connections_max_idle,
        socket: config.socket,
        security: config.security.clone(),
        canonical_bootstrap: config.canonical_bootstrap,
    }
}

impl<I: Io> Sender<I> {
    /// A sender over `net` (whose waker `shared.wake` is), starting at `now`.
    pub(crate) fn new(
        config: SenderConfig,
        shared: Arc<SenderShared>,
        net: Network<I>,
        completions: ChannelSender<Completions>,
        now: Instant,
    ) -> Self {
        let retry = Backoff::new(config.retry_backoff, config.retry_backoff_max);
        let transactional = shared.transactional.clone();
        let tm = (config.idempotence || transactional.is_some())
            .then(|| TransactionManager::new(transactional.is_some()));
        let init = (tm.is_some() && transactional.is_none())
            .then(|| InitDriver::new(Arc::clone(&config.client_id), config.transaction_timeout, retry, now));
        let coordinator = transactional.map(|t| {
            let c = CoordinatorConfig {
                client_id: Arc::clone(&config.client_id),
                transaction_timeout: config.transaction_timeout,
                retry,
            };
            CoordinatorDriver::new(c, t, Arc::clone(&shared.accumulator))
        });
        let produce = ProduceDriver::new(
            ProduceConfig {
                client_id: Arc::clone(&config.client_id),
                acks: config.acks,
                request_timeout: config.request_timeout,
                delivery_timeout: config.delivery_timeout,
                retries: config.retries,
                retry,
                max_request_size: config.max_request_size,
                guarantee_order: config.max_in_flight == 1 && !config.idempotence,
            },
            Arc::clone(&shared),
            now,
        );
        let refresh = MetadataDriver::new(
            Arc::clone(&shared.metadata),
            Arc::clone(&config.client_id),
            retry,
            config.retry_backoff,
            now,
        )
        .with_rebootstrap(config.rebootstrap_trigger);
        let telemetry = config
            .metrics_push
            .then(|| TelemetryDriver::new(Arc::clone(&config.client_id), config.request_timeout, retry, now));
        Sender {
            telemetry,
            shared,
            net,
            completions,
            produce,
            refresh,
            init,
            coordinator,
            tm,
            hooks: None,
            errors_wanted: false,
            throttle_wanted: false,
            stats: None,
        }
    }

    /// Runs the event loop until the producer closes.
    ///
    /// # Thread
    /// The sender thread (`kprod-sender`), which owns every socket.
    pub(crate) fn run(mut self) {
        loop {
            self.shared.wake.clear();
            let now = Instant::now();
            if self.shared.force_close.load(Ordering::Acquire) {
                self.abort_all(&Error::Closed);
                break;
            }
            let timeout = self.run_once(now);
            log::trace!("poll for {timeout:?}");
            if self.shared.closing.load(Ordering::Acquire)
                && self.is_idle()
                && self.telemetry.as_ref().map_or(true, |t| t.may_stop(Instant::now()))
            {
                break;
            }
            self.net.poll(timeout, Instant::now);
            self.dispatch(Instant::now());
        }
        let _ = self.net.close_all();
        self.shared.metadata.close();
        // Nothing is left to purge: a purge asked now (or waiting) returns at once.
        self.shared.purge.stop();
    }

    /// Seeds every driver's jitter from `seed`, so a simulated run replays exactly.
    #[cfg(feature = "sim")]
    pub(crate) fn seed(&mut self, seed: u64) {
        use self::backoff::Jitter;
        self.produce.set_jitter(Jitter::new(seed ^ 0x1));
        self.refresh.set_jitter(Jitter::new(seed ^ 0x2));
        if let Some(d) = self.init.as_mut() {
            d.set_jitter(Jitter::new(seed ^ 0x3));
        }
        if let Some(d) = self.coordinator.as_mut() {
            d.set_jitter(Jitter::new(seed ^ 0x4));
        }
        if let Some(d) = self.telemetry.as_mut() {
            d.set_jitter(Jitter::new(seed ^ 0x5));
        }
    }

    /// One loop turn at `now`, driven from outside (the simulator); returns how long until a driver
    /// wants another turn.
    #[cfg(feature = "sim")]
    pub(crate) fn turn(&mut self, now: Instant) -> Duration {
        self.run_once(now)
    }

    /// The network, for the simulator to deliver readiness through.
    #[cfg(feature = "sim")]
    pub(crate) fn net_mut(&mut self) -> &mut Network<I> {
        &mut self.net
    }

    /// Hands the network's events to their drivers (after the simulator delivered readiness).
    #[cfg(feature = "sim")]
    pub(crate) fn handle_events(&mut self, now: Instant) -> Duration {
        self.dispatch(now)
    }

    /// Fails everything pending with `Closed` and closes every connection (a forced close).
    #[cfg(feature = "sim")]
    pub(crate) fn force_close(&mut self) {
        self.abort_all(&Error::Closed);
    }

    /// True when nothing is left to send or wait for.
    pub(crate) fn is_idle(&self) -> bool {
        let acc = &self.shared.accumulator;
        !acc.has_incomplete() && !acc.appends_in_progress() && !acc.has_orphan_completions()
    }

    /// One turn of the loop; returns how long to poll.
    fn run_once(&mut self, now: Instant) -> Duration {
        let mut timeout = Duration::from_secs(1).min(self.net.check_timeouts(now));
        timeout = timeout.min(self.dispatch(now));
        timeout = timeout.min(self.serve_purge(now));
        let mut out = Outbox::default();
        self.refresh.poll(now, &mut self.net, &mut out);
        if let (Some(d), Some(tm)) = (self.init.as_mut(), self.tm.as_mut()) {
            d.poll(now, tm, &mut self.net, &mut out);
        }
        if let Some(d) = self.coordinator.as_mut() {
            d.poll(now, self.tm.as_ref(), &mut self.net, &mut out);
        }
        // The terminating push goes once every record has its outcome, so it carries the final values.
        let finishing = (self.shared.closing.load(Ordering::Acquire) && self.is_idle())
            .then(|| *self.shared.close_deadline.lock());
        if let Some(d) = self.telemetry.as_mut() {
            let shared = &self.shared;
            d.poll(now, finishing, &|| shared.metrics_snapshot(Instant::now()), &mut self.net, &mut out);
        }
        timeout = timeout.min(self.apply(out, now));
        let may_produce = self.tm.as_ref().map_or(true, TransactionManager::can_send)
            && self.coordinator.as_ref().map_or(true, CoordinatorDriver::may_produce);
        let txn = self.coordinator.as_ref().map(CoordinatorDriver::produce_context);
        let cluster = self.shared.metadata.cluster();
        let mut out = Outbox::default();
        let leaderless = self.produce.poll(
            now,
            &cluster,
            self.tm.as_mut(),
            txn.as_ref(),
            may_produce,
            &mut self.net,
            &mut out,
        );
        if leaderless {
            // The produce driver asked for a refresh: the metadata driver sends it, or says when.
            self.refresh.poll(now, &mut self.net, &mut out);
        }
        timeout = timeout.min(self.apply(out, now));
        let timeout = timeout.min(self.dispatch(now));
        self.net.report(&self.shared.metrics, now);
        for e in self.net.take_events() {
            self.report_error(e);
        }
        match self.stats {
            Some((interval, next)) if now >= next => {
                let doc = self.statistics(now);
                if let Some(sink) = &self.hooks {
                    let _ = sink.try_send(HookEvent::Statistics(doc));
                }
                // The next one an interval later (not catching up on missed ones).
                let next = (next + interval).max(now);
                self.stats = Some((interval, next));
                timeout.min(next.saturating_duration_since(now))
            }
            Some((_, next)) => timeout.min(next.saturating_duration_since(now)),
            None => timeout,
        }
    }

    /// Sends errors (`errors`) and statistics every `stats_interval` to the callback thread, which
    /// runs the application's hooks (never here).
    pub(crate) fn set_hooks(
        &mut self,
        sink: ChannelSender<HookEvent>,
        errors: bool,
        throttle: bool,
        stats_interval: Option<Duration>,
        now: Instant,
    ) {
        self.hooks = Some(sink);
        self.errors_wanted = errors;
        self.throttle_wanted = throttle;
        self.stats = stats_interval.filter(|d| !d.is_zero()).map(|d| (d, now + d));
    }

    /// Hands `e` to the `on_error` hook, if there is one; never blocks (a full queue drops it: the
    /// hook is told of state changes, and a backlog means the application is not keeping up).
    fn report_error(&self, e: Error) {
        if let (true, Some(sink)) = (self.errors_wanted, &self.hooks) {
            let _ = sink.try_send(HookEvent::Error(e));
        }
    }

    /// The statistics document of now (librdkafka's schema).
    fn statistics(&self, now: Instant) -> String {
        use crate::metrics::statistics::{EosStat, Inputs, PartitionStat};
        let acc = &self.shared.accumulator;
        let pool = acc.buffer_pool();
        let cluster = self.shared.metadata.cluster();
        let topics = acc
            .queued_by_partition()
            .into_iter()
            .map(|(t, parts)| {
                let info = cluster.topics.get(&t);
                let parts = parts
                    .into_iter()
                    .map(|(partition, msgq_cnt, msgq_bytes)| PartitionStat {
                        partition,
                        leader: info.and_then(|i| i.leader(partition)).unwrap_or(-1),
                        msgq_cnt,
                        msgq_bytes,
                    })
                    .collect();
                (t.to_string(), parts)
            })
            .collect();
        let (producer_id, producer_epoch) =
            self.tm.as_ref().map_or((-1, -1), |tm| tm.producer_id_and_epoch());
        let eos = EosStat {
            idemp_state: self.tm.as_ref().map_or("Init", |tm| tm.state().name()),
            txn_state: self.shared.transactional.as_ref().map_or("Init", |t| t.state_name()),
            producer_id,
            producer_epoch,
        };
        let inputs = Inputs {
            msg_cnt: acc.records_outstanding(),
            msg_size: pool.total_memory().saturating_sub(pool.available_memory()),
            msg_size_max: pool.total_memory(),
            brokers: self.net.broker_stats(),
            topics,
            eos,
        };
        self.shared.metrics.statistics(&inputs, now)
    }

    /// Carries out the purges application threads asked for (`Producer::purge`), then tells them:
    /// queued batches fail with [`Error::Purged`] at once; for in-flight ones, every connection with a
    /// Produce request in flight is closed and what it carried is settled as lost, which the produce
    /// driver turns into `Purged` (no retry) while its purge marker is set. The idempotent state learns
    /// of each purged batch as of any batch given up (a sequenced one leaves a gap: the epoch is bumped
    /// before more is sent), and in a transaction each purged batch dooms it.
    /// Returns how long the loop may sleep.
    fn serve_purge(&mut self, now: Instant) -> Duration {
        let Some((ticket, what)) = self.shared.purge.take() else { return Duration::MAX };
        let mut timeout = Duration::MAX;
        if what & PURGE_QUEUED != 0 {
            let mut out = Outbox::default();
            self.produce.purge_queued(self.tm.as_mut(), &mut out);
            timeout = timeout.min(self.apply(out, now));
        }
        if what & PURGE_IN_FLIGHT != 0 {
            let nodes = self.net.nodes_with_in_flight(&|r| matches!(r, Request::Produce { .. }));
            log::debug!("purging the Produce requests in flight to nodes {nodes:?}");
            for node in nodes {
                // An empty reason: not a broker failure (no backoff noted against the broker's address).
                self.net.disconnect(node, ErrorCode::NETWORK_EXCEPTION, "", now);
            }
            self.produce.set_purging(true);
            timeout = timeout.min(self.dispatch(now));
            self.produce.set_purging(false);
        }
        if let Some(t) = &self.shared.transactional {
            t.wake_waiters();
        }
        self.shared.purge.served(ticket);
        timeout
    }

    /// Hands every network event to the driver that owns its request.
    fn dispatch(&mut self, now: Instant) -> Duration {
        let mut timeout = Duration::MAX;
        while let Some(ev) = self.net.next_event() {
            let mut out = Outbox::default();
            match ev {
                NetEvent::Answered { node, request, version, correlation_id, body } => {
                    self.on_answer(node, request, version, correlation_id, &body, now, &mut out);
                }
                NetEvent::Written { request: Request::Produce { frame, batches } } => {
                    self.produce.on_written(frame, batches, now, self.tm.as_mut(), &mut out);
                }
                // Only acks=0 Produce completes on write; anything else is settled as lost.
                NetEvent::Written { request } => {
                    self.on_lost(request, ErrorCode::NETWORK_EXCEPTION, now, &mut out)
                }
                NetEvent::Lost { node, request, code } => {
                    log::debug!("{} request to node {node} lost ({code})", request.name());
                    self.on_lost(request, code, now, &mut out);
                }
                NetEvent::Failed { node } => {
                    if let Some(d) = self.coordinator.as_mut() {
                        d.on_node_failed(node, now);
                    }
                }
                NetEvent::AuthFailed { node, error } => {
                    log::debug!("failing what waits to be sent: node {node} failed to authenticate");
                    self.produce.fail_unsent(&error, self.tm.as_mut(), &mut out);
                    if let Some(t) = &self.shared.transactional {
                        t.wake_waiters();
                    }
                }
            }
            timeout = timeout.min(self.apply(out, now));
        }
        timeout
    }

    #[allow(clippy::too_many_arguments)]
    fn on_answer(
        &mut self,
        node: i32,
        request: Request,
        version: i16,
        correlation_id: i32,
        body: &[u8],
        now: Instant,
        out: &mut Outbox,
    ) {
        match request {
            Request::Metadata(topics) => {
                self.refresh.on_response(node, &topics, body, version, correlation_id, now)
            }
            Request::Produce { frame, batches } => self.produce.on_response(
                node,
                frame,
                batches,
                body,
                version,
                correlation_id,
                now,
                self.tm.as_mut(),
                out,
            ),
            Request::InitProducerId => {
                if let (Some(d), Some(tm)) = (self.init.as_mut(), self.tm.as_mut()) {
                    d.on_response(body, version, correlation_id, now, tm, out);
                }
            }
            Request::Txn(what) => {
                if let Some(d) = self.coordinator.as_mut() {
                    d.on_response(what, body, version, correlation_id, now, self.tm.as_mut(), out);
                }
            }
            Request::Telemetry(what) => {
                if let Some(d) = self.telemetry.as_mut() {
                    d.on_response(node, what, body, version, correlation_id, now, out);
                }
            }
            // The network answers its own handshakes.
            Request::ApiVersions | Request::SaslHandshake | Request::SaslAuthenticate => {}
        }
    }

    /// Settles a request that will get no answer: completes what it carried and clears what its
    /// sending set.
    fn on_lost(&mut self, request: Request, code: ErrorCode, now: Instant, out: &mut Outbox) {
        match request {
            Request::Produce { frame, batches } => {
                self.produce.on_lost(frame, batches, code, now, self.tm.as_mut(), out)
            }
            Request::Metadata(_) => self.refresh.on_lost(now),
            Request::InitProducerId => {
                if let (Some(d), Some(tm)) = (self.init.as_mut(), self.tm.as_mut()) {
                    d.on_lost(now, tm, out);
                }
            }
            Request::Txn(what) => {
                if let Some(d) = self.coordinator.as_mut() {
                    d.on_lost(what, now);
                }
            }
            Request::Telemetry(what) => {
                if let Some(d) = self.telemetry.as_mut() {
                    d.on_lost(what, now);
                }
            }
            // The handshakes belong to the connection, which is gone with them.
            Request::ApiVersions | Request::SaslHandshake | Request::SaslAuthenticate => {}
        }
    }

    /// Carries out what a driver turn asked for; returns how long the loop may sleep.
    fn apply(&mut self, out: Outbox, now: Instant) -> Duration {
        let Outbox {
            sends,
            connect,
            connect_any,
            deliver,
            fatal,
            txn_record_failures,
            throttle,
            disconnect,
            learn,
            timeout,
        } = out;
        for c in deliver {
            self.deliver(c);
        }
        if let Some(d) = self.coordinator.as_ref() {
            for e in &txn_record_failures {
                d.record_failed(e);
            }
        }
        for (node, until) in throttle {
            self.net.throttle(node, until);
            if let (true, Some(sink)) = (self.throttle_wanted, &self.hooks) {
                let broker = match self.shared.metadata.cluster().brokers.get(&node) {
                    Some(b) => format!("{}:{}", b.host, b.port),
                    None => format!("node {node}"),
                };
                let _ =
                    sink.try_send(HookEvent::Throttle(broker, node, until.saturating_duration_since(now)));
            }
        }
        for (node, host, port) in learn {
            self.net.learn_address(node, host, port);
        }
        for o in sends {
            self.net.send(o, now);
        }
        for (node, why) in disconnect {
            self.net.disconnect(node, ErrorCode::NETWORK_EXCEPTION, &why, now);
        }
        let mut timeout = timeout.unwrap_or(Duration::MAX);
        for node in connect {
            self.net.connect(node, now, &mut timeout);
        }
        if connect_any {
            self.net.connect_any(now, &mut timeout);
        }
        if let Some(e) = fatal {
            self.go_fatal(e);
        }
        timeout
    }

    /// Hands a batch's callbacks to the callback thread.
    fn deliver(&self, completions: Completions) {
        if completions.has_callbacks() {
            // The receiver lives until the sender has stopped; a send error means the producer is gone.
            let _ = self.completions.send(completions);
        }
    }

    /// The producer hit an unrecoverable error: remember it for `send`, and fail everything pending.
    fn go_fatal(&mut self, error: Error) {
        log::error!("producer is in a fatal state: {error}");
        self.report_error(error.clone());
        *self.shared.fatal.lock() = Some(error.clone());
        self.shared.has_fatal.store(true, Ordering::Release);
        if let Some(d) = self.coordinator.as_ref() {
            d.on_fatal(&error);
        }
        self.abort_all(&error);
    }

    /// Fails everything queued or in flight with `error`, closing every connection.
    fn abort_all(&mut self, error: &Error) {
        let acc = Arc::clone(&self.shared.accumulator);
        for c in acc.abort_incomplete_batches(error) {
            self.deliver(c);
        }
        for c in acc.take_orphan_completions() {
            self.deliver(c);
        }
        // Every request is settled: Produce batches fail with `error`, the rest goes with the
        // connections (the producer is stopping or fatal, nothing is retried).
        let mut out = Outbox::default();
        for request in self.net.close_all() {
            if let Request::Produce { frame, batches } = request {
                self.produce.fail(frame, batches, error, &mut out);
            }
        }
        for c in out.deliver {
            self.deliver(c);
        }
    }
}

/// Parses `bootstrap.servers` entries (`host:port`, `[v6]:port`).
pub(crate) fn parse_bootstrap(servers: &[String]) -> Result<Vec<(String, u16)>, Error> {
    servers
        .iter()
        .map(|s| {
            let s = s.trim();
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| Error::config("bootstrap.servers", format!("`{s}` has no port")))?;
            let port = port
                .parse::<u16>()
                .map_err(|_| Error::config("bootstrap.servers", format!("`{s}` has a bad port")))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(Error::config("bootstrap.servers", format!("`{s}` has no host")));
            }
            Ok((host.to_owned(), port))
        })
        .collect()
}

/// Test doubles for the drivers' unit tests: scripted [`Links`] and response encoding.
#[cfg(test)]
pub(crate) mod fake {
    use std::collections::{HashMap, HashSet};
    use std::time::Instant;

    use super::driver::Links;
    use super::request::Request;
    use crate::protocol::{encode_response, ApiKey, Message};

    /// Links whose ready brokers, versions and in-flight requests a test sets.
    #[derive(Debug, Default)]
    pub(crate) struct FakeLinks {
        /// Brokers with a ready connection.
        pub ready: HashSet<i32>,
        /// Brokers with a connection (ready or not).
        pub up: HashSet<i32>,
        /// Names of the requests in flight ([`Request::name`]).
        pub in_flight: Vec<&'static str>,
        /// The `transaction.version` the brokers finalize.
        pub transaction_version: i16,
        /// Until when each broker throttles us (a past instant: a throttle that ended).
        pub throttled: HashMap<i32, Instant>,
        next_id: i32,
    }

    impl FakeLinks {
        /// Brokers `nodes` connected and ready.
        pub(crate) fn ready(nodes: &[i32]) -> Self {
            FakeLinks {
                ready: nodes.iter().copied().collect(),
                up: nodes.iter().copied().collect(),
                ..Default::default()
            }
        }
    }

    impl Links for FakeLinks {
        fn can_send(&self, node: i32, _: Instant) -> bool {
            self.ready.contains(&node)
        }
        fn is_connecting_or_up(&self, node: i32) -> bool {
            self.up.contains(&node)
        }
        fn throttled_until(&self, node: i32) -> Option<Instant> {
            self.throttled.get(&node).copied()
        }
        fn least_loaded(&self, _: Instant) -> Option<i32> {
            self.ready.iter().min().copied()
        }
        fn version(&self, node: i32, _: ApiKey, ours: (i16, i16)) -> Option<i16> {
            self.up.contains(&node).then_some(ours.1)
        }
        fn finalized_feature(&self, _: i32, name: &str) -> i16 {
            if name == "transaction.version" {
                self.transaction_version
            } else {
                0
            }
        }
        fn next_correlation_id(&mut self, _: i32) -> i32 {
            self.next_id += 1;
            self.next_id
        }
        fn in_flight(&self, is: &dyn Fn(&Request) -> bool) -> bool {
            // Rebuild a request of each named kind and ask the predicate.
            self.in_flight.iter().any(|name| match *name {
                "Metadata" => is(&Request::Metadata(Vec::new())),
                "InitProducerId" => is(&Request::InitProducerId),
                "Txn" => is(&Request::Txn(super::request::TxnRequest::EndTxn)),
                "Telemetry" => is(&Request::Telemetry(super::request::TelemetryRequest::Subscriptions)),
                _ => false,
            })
        }
    }

    /// Shared state for a driver test: `accumulator` and `metadata`, a waker of a throwaway poll.
    pub(crate) fn shared(
        accumulator: std::sync::Arc<crate::accumulator::RecordAccumulator>,
        metadata: std::sync::Arc<super::metadata::Metadata>,
    ) -> std::sync::Arc<super::SenderShared> {
        use std::sync::atomic::AtomicBool;
        let config = super::net::NetConfig {
            bootstrap: Vec::new(),
            client_id: "c".into(),
            max_in_flight: 5,
            request_timeout: std::time::Duration::from_secs(30),
            reconnect: super::backoff::Backoff::new(std::time::Duration::ZERO, std::time::Duration::ZERO),
            setup_timeout: super::backoff::Backoff::new(std::time::Duration::ZERO, std::time::Duration::ZERO),
            idle: None,
            socket: Default::default(),
            security: None,
            canonical_bootstrap: false,
        };
        #[allow(clippy::expect_used)]
        let (_net, wake) =
            super::net::Network::new(config, std::sync::Arc::clone(&metadata)).expect("a poll");
        std::sync::Arc::new(super::SenderShared {
            accumulator,
            metadata,
            wake,
            closing: AtomicBool::new(false),
            force_close: AtomicBool::new(false),
            close_deadline: Default::default(),
            sticky: Default::default(),
            adaptive: false,
            availability_timeout_ms: 0,
            fatal: Default::default(),
            has_fatal: AtomicBool::new(false),
            purge: Default::default(),
            transactional: None,
            metrics: std::sync::Arc::new(crate::metrics::ProducerMetrics::new(
                "c",
                crate::metrics::stats::Windows::default(),
                std::time::Instant::now(),
            )),
        })
    }

    /// Metadata naming topic `name` (id `id`) with one partition led by node 1 at `h:9092`.
    pub(crate) fn one_topic(
        name: &str,
        id: crate::protocol::primitives::Uuid,
    ) -> crate::protocol::messages::metadata::MetadataResponse {
        use crate::protocol::messages::metadata::{
            MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
        };
        MetadataResponse {
            brokers: vec![MetadataResponseBroker { node_id: 1, host: "h".into(), port: 9092, rack: None }],
            topics: vec![MetadataResponseTopic {
                error_code: crate::protocol::ErrorCode::NONE,
                name: Some(name.into()),
                topic_id: id,
                partitions: vec![MetadataResponsePartition {
                    partition_index: 0,
                    leader_id: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// The response frame body (header included, size prefix not) a broker would send for `body`.
    pub(crate) fn response<M: Message>(version: i16, correlation_id: i32, body: &M) -> Vec<u8> {
        let mut out = Vec::new();
        encode_response(&mut out, version, correlation_id, body).unwrap_or_default();
        out.split_off(4.min(out.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_parsing() {
        let v = parse_bootstrap(&["a:1".into(), " [::1]:9092".into()]).unwrap();
        assert_eq!(v, vec![("a".to_string(), 1), ("::1".to_string(), 9092)]);
        assert!(parse_bootstrap(&["a".into()]).is_err());
        assert!(parse_bootstrap(&["a:x".into()]).is_err());
        assert!(parse_bootstrap(&[":1".into()]).is_err());
    }
}
