//! Producer metrics under Java's names, groups and tags (`Producer::metrics`).
//!
//! The sender thread records into [`SenderSensors`] once per request and once per batch (never per
//! record), under one lock that application threads take only to read a snapshot; the network counts
//! bytes and requests in plain fields and hands them over once per loop turn. Totals are monotonic;
//! rates and averages are over Java's sample windows (`metrics.num.samples` of
//! `metrics.sample.window.ms`, see [`stats`]). Gauges (buffer memory, waiting threads, requests in
//! flight, metadata age, connections) are read when the snapshot is taken.

pub(crate) mod otlp;
pub(crate) mod statistics;
pub(crate) mod stats;

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use self::stats::{Sampled, Windows};

/// One metric of a snapshot: Java's group, name and tags, its description, and its value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// Java's group, e.g. `producer-metrics`.
    pub group: &'static str,
    /// Java's name, e.g. `record-send-rate`.
    pub name: &'static str,
    /// Java's tags, e.g. `[("client-id", "producer-1")]`.
    pub tags: Vec<(&'static str, String)>,
    /// Java's description.
    pub description: &'static str,
    /// The value (NaN for an average or maximum with nothing recorded in the windows, as Java).
    pub value: f64,
}

/// A snapshot of every metric, from [`Producer::metrics`](crate::Producer::metrics).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    metrics: Vec<Metric>,
}

impl Metrics {
    /// A snapshot of `metrics` (for tests).
    #[cfg(test)]
    pub(crate) fn from_vec(metrics: Vec<Metric>) -> Self {
        Metrics { metrics }
    }

    /// Every metric, sorted by group, name and tags.
    pub fn iter(&self) -> impl Iterator<Item = &Metric> {
        self.metrics.iter()
    }

    /// The value of `name` in group `producer-metrics`, if kprod has it.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|m| m.group == "producer-metrics" && m.name == name).map(|m| m.value)
    }

    /// How many metrics there are.
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }
}

impl Metrics {
    /// The snapshot in Prometheus' text exposition format (version 0.0.4), every metric a gauge
    /// named as the JMX exporter names Java's (`kafka_producer_<group>_<name>`, dashes as
    /// underscores: `kafka_producer_producer_metrics_record_send_total`), tags as labels, so
    /// dashboards built for Java producers read it unchanged. No HTTP server comes with it: serve it
    /// from whatever the application has (`examples/prometheus.rs` uses a std `TcpListener`).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut last = String::new();
        for m in &self.metrics {
            let name = prometheus_name(m.group, m.name);
            if name != last {
                let help = m.description.replace('\\', "\\\\").replace('\n', " ");
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} gauge");
                last.clone_from(&name);
            }
            let labels: Vec<String> = m
                .tags
                .iter()
                .map(|(k, v)| {
                    let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
                    format!("{}=\"{v}\"", k.replace('-', "_"))
                })
                .collect();
            let value = if m.value.is_nan() { "NaN".to_string() } else { format!("{}", m.value) };
            let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
        }
        out
    }

    /// Publishes the snapshot through the [`metrics`](https://docs.rs/metrics) facade (feature
    /// `metrics`): every metric a gauge under its Prometheus name (see
    /// [`to_prometheus`](Self::to_prometheus)) with its tags as labels, so any exporter the
    /// application installed shows them. Call it periodically (e.g. every few seconds).
    #[cfg(feature = "metrics")]
    pub fn publish(&self) {
        for m in &self.metrics {
            let labels: Vec<::metrics::Label> =
                m.tags.iter().map(|(k, v)| ::metrics::Label::new(k.replace('-', "_"), v.clone())).collect();
            ::metrics::gauge!(prometheus_name(m.group, m.name), labels).set(m.value);
        }
    }
}

/// `kafka_producer_<group>_<name>` with dashes as underscores.
fn prometheus_name(group: &str, name: &str) -> String {
    format!("kafka_producer_{group}_{name}").replace(['-', '.'], "_")
}

impl fmt::Display for Metrics {
    /// Kafka's ProducerPerformance `--print-metrics` format:
    /// `producer-metrics:record-send-total:{client-id=producer-1} : 200000.000`, names padded to the
    /// longest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .metrics
            .iter()
            .map(|m| {
                let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{}:{}:{{{}}}", m.group, m.name, tags.join(", "))
            })
            .collect();
        let width = keys.iter().map(String::len).max().unwrap_or(0);
        for (k, m) in keys.iter().zip(&self.metrics) {
            writeln!(f, "{k:<width$} : {:.3}", m.value)?;
        }
        Ok(())
    }
}

/// What the sender records per request and per batch.
#[derive(Debug)]
pub(crate) struct SenderSensors {
    /// Bytes per batch sent.
    batch_size: Sampled,
    /// Milliseconds from a batch's creation to its drain.
    queue_time: Sampled,
    /// Records per Produce request (also record-send-rate/total: its sum).
    records_per_request: Sampled,
    /// Milliseconds from a request's write to its response.
    request_latency: Sampled,
    /// Throttle milliseconds in Produce responses.
    throttle_time: Sampled,
    /// Records retried, per retried batch.
    retries: Sampled,
    /// Records failed, per failed batch.
    errors: Sampled,
    /// One per batch split after MESSAGE_TOO_LARGE.
    splits: Sampled,
    /// One per request written, with its size in bytes.
    requests: Sampled,
    /// One per response read, with its size in bytes.
    responses: Sampled,
    /// One per connection created.
    connections_created: Sampled,
    /// The largest record of each batch sent.
    record_size: Sampled,
    /// One per send refused for lack of buffer memory.
    exhausted: Sampled,
    /// Nanoseconds per poll spent waiting for readiness.
    io_wait: Sampled,
    /// Nanoseconds per poll spent handling what it reported.
    io_time: Sampled,
    /// Reads and writes done, one per readiness event handled.
    network_io: Sampled,
    /// One per connection closed.
    connections_closed: Sampled,
    /// Compressed / uncompressed size per batch sent.
    compression: Sampled,
    /// One per completed authentication (not re-authentication).
    auth_ok: Sampled,
    /// One per failed authentication.
    auth_failed: Sampled,
    /// Milliseconds per completed re-authentication.
    reauth_ok: Sampled,
    /// One per failed re-authentication.
    reauth_failed: Sampled,
    /// Per topic: records sent, retried, failed, and bytes sent.
    topics: BTreeMap<Arc<str>, TopicSensors>,
    /// Per broker: requests (sizes), responses (sizes and latency).
    nodes: BTreeMap<i32, NodeSensors>,
    windows: Windows,
}

/// `producer-topic-metrics` of one topic.
#[derive(Debug)]
struct TopicSensors {
    records: Sampled,
    bytes: Sampled,
    retries: Sampled,
    errors: Sampled,
    compression: Sampled,
    /// Per partition: records and bytes sent (for the statistics' `txmsgs`, `txbytes`).
    partitions: BTreeMap<i32, (u64, u64)>,
}

/// `producer-node-metrics` of one broker.
#[derive(Debug)]
struct NodeSensors {
    requests: Sampled,
    responses: Sampled,
    latency: Sampled,
    /// Milliseconds batches sent to it spent in the accumulator (statistics' `int_latency`).
    queue_time: Sampled,
    /// Milliseconds requests waited to be written (statistics' `outbuf_latency`).
    outbuf: Sampled,
    /// Throttle milliseconds it asked for.
    throttle: Sampled,
    /// Requests by API name.
    req: BTreeMap<&'static str, u64>,
}

impl SenderSensors {
    fn new(w: Windows, now: Instant) -> Self {
        let s = || Sampled::new(w, now);
        SenderSensors {
            batch_size: s(),
            queue_time: s(),
            records_per_request: s(),
            request_latency: s(),
            throttle_time: s(),
            retries: s(),
            errors: s(),
            splits: s(),
            requests: s(),
            responses: s(),
            connections_created: s(),
            record_size: s(),
            exhausted: s(),
            io_wait: s(),
            io_time: s(),
            network_io: s(),
            connections_closed: s(),
            compression: s(),
            auth_ok: s(),
            auth_failed: s(),
            reauth_ok: s(),
            reauth_failed: s(),
            topics: BTreeMap::new(),
            nodes: BTreeMap::new(),
            windows: w,
        }
    }

    fn topic(&mut self, topic: &Arc<str>, now: Instant) -> &mut TopicSensors {
        let w = self.windows;
        self.topics.entry(Arc::clone(topic)).or_insert_with(|| TopicSensors {
            records: Sampled::new(w, now),
            bytes: Sampled::new(w, now),
            retries: Sampled::new(w, now),
            errors: Sampled::new(w, now),
            compression: Sampled::new(w, now),
            partitions: BTreeMap::new(),
        })
    }

    fn node(&mut self, node: i32, now: Instant) -> &mut NodeSensors {
        let w = self.windows;
        self.nodes.entry(node).or_insert_with(|| NodeSensors {
            requests: Sampled::new(w, now),
            responses: Sampled::new(w, now),
            latency: Sampled::new(w, now),
            queue_time: Sampled::new(w, now),
            outbuf: Sampled::new(w, now),
            throttle: Sampled::new(w, now),
            req: BTreeMap::new(),
        })
    }

    /// A batch for `topic` of `records` records, `bytes` on the wire (`uncompressed` before its
    /// codec), went out in a Produce request after `queued` in the accumulator.
    /// A send was refused for lack of buffer memory.
    pub(crate) fn exhausted(&mut self, now: Instant) {
        self.exhausted.record(1.0, now);
    }

    /// The largest record of a batch sent.
    pub(crate) fn record_size(&mut self, bytes: usize, now: Instant) {
        self.record_size.record(bytes as f64, now);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn batch_sent(
        &mut self,
        node: i32,
        topic: &Arc<str>,
        partition: i32,
        records: i32,
        bytes: usize,
        uncompressed: usize,
        queued: Duration,
        now: Instant,
    ) {
        self.batch_size.record(bytes as f64, now);
        self.queue_time.record(queued.as_secs_f64() * 1e3, now);
        let ratio = if uncompressed == 0 { 1.0 } else { bytes as f64 / uncompressed as f64 };
        self.compression.record(ratio, now);
        let t = self.topic(topic, now);
        t.records.record(f64::from(records.max(0)), now);
        t.bytes.record(bytes as f64, now);
        t.compression.record(ratio, now);
        let p = t.partitions.entry(partition).or_insert((0, 0));
        p.0 += u64::try_from(records.max(0)).unwrap_or(0);
        p.1 += bytes as u64;
        self.node(node, now).queue_time.record(queued.as_secs_f64() * 1e3, now);
    }

    /// A Produce request carrying `records` records went out.
    pub(crate) fn produce_request(&mut self, records: usize, now: Instant) {
        self.records_per_request.record(records as f64, now);
    }

    /// A Produce response from `node` said the broker throttled us for `ms`.
    pub(crate) fn throttle(&mut self, node: i32, ms: i32, now: Instant) {
        self.throttle_time.record(f64::from(ms.max(0)), now);
        self.node(node, now).throttle.record(f64::from(ms.max(0)), now);
    }

    /// A batch of `records` records for `topic` is retried.
    pub(crate) fn retry(&mut self, topic: &Arc<str>, records: i32, now: Instant) {
        self.retries.record(f64::from(records.max(0)), now);
        self.topic(topic, now).retries.record(f64::from(records.max(0)), now);
    }

    /// A batch of `records` records for `topic` failed.
    pub(crate) fn error(&mut self, topic: &Arc<str>, records: i32, now: Instant) {
        self.errors.record(f64::from(records.max(0)), now);
        self.topic(topic, now).errors.record(f64::from(records.max(0)), now);
    }

    /// A batch was split.
    pub(crate) fn split(&mut self, now: Instant) {
        self.splits.record(1.0, now);
    }
}

/// What the network counted since its last hand-over (plain fields on the sender thread).
#[derive(Debug, Default, Clone)]
pub(crate) struct NetCounts {
    /// The broker, size and API name of each request queued.
    pub requests: Vec<(i32, usize, &'static str)>,
    /// The broker of each request completely written, with how long it waited to be.
    pub written: Vec<(i32, Duration)>,
    /// The broker and size of each response read, with the request's latency.
    pub responses: Vec<(i32, usize, Duration)>,
    /// Connections created.
    pub connections_created: u32,
    /// Connections closed.
    pub connections_closed: u32,
    /// Authentications completed, and failed.
    pub auth: (u32, u32),
    /// Re-authentications completed (with how long each took), and failed.
    pub reauth: (Vec<Duration>, u32),
    /// Per poll: time waiting, time handling events, events handled.
    pub polls: Vec<(Duration, Duration, usize)>,
}

/// The metrics state shared by the producer's threads.
#[derive(Debug)]
pub(crate) struct ProducerMetrics {
    client_id: String,
    started: Instant,
    /// Guards the sender's windowed sensors: written by the sender thread (per request and batch),
    /// read by `Producer::metrics`. A leaf.
    sensors: Mutex<SenderSensors>,
    /// Requests awaiting a response, as of the sender's last loop turn.
    pub requests_in_flight: AtomicUsize,
    /// Connections open, as of the sender's last loop turn.
    pub connections: AtomicUsize,
    /// Nanoseconds application threads spent in `flush`.
    pub flush_time_ns: AtomicU64,
    /// Nanoseconds sends spent waiting for metadata.
    pub metadata_wait_ns: AtomicU64,
    /// Nanoseconds in the transactional calls, by [`TxnTime`].
    pub txn_ns: [AtomicU64; 6],
}

/// Adds the time from its creation to its drop to one of the transaction timers.
#[derive(Debug)]
pub(crate) struct TxnTimer<'a>(&'a ProducerMetrics, TxnTime, Instant);

impl<'a> TxnTimer<'a> {
    /// Starts timing `which`.
    pub(crate) fn new(metrics: &'a ProducerMetrics, which: TxnTime) -> Self {
        TxnTimer(metrics, which, Instant::now())
    }
}

impl Drop for TxnTimer<'_> {
    fn drop(&mut self) {
        self.0.txn_time(self.1, self.2);
    }
}

/// Which of [`ProducerMetrics::txn_ns`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxnTime {
    /// `init_transactions`.
    Init = 0,
    /// `begin_transaction`.
    Begin = 1,
    /// `send_offsets_to_transaction`.
    SendOffsets = 2,
    /// `commit_transaction`, its flush included.
    Commit = 3,
    /// The part of a commit after its flush (Java's prepare).
    Prepare = 4,
    /// `abort_transaction`.
    Abort = 5,
}

impl ProducerMetrics {
    /// Empty metrics for producer `client_id`, windows from the configuration.
    pub(crate) fn new(client_id: &str, windows: Windows, now: Instant) -> Self {
        ProducerMetrics {
            client_id: client_id.to_owned(),
            started: now,
            sensors: Mutex::new(SenderSensors::new(windows, now)),
            requests_in_flight: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            flush_time_ns: AtomicU64::new(0),
            metadata_wait_ns: AtomicU64::new(0),
            txn_ns: Default::default(),
        }
    }

    /// Adds the time since `start` to one of the transaction timers.
    pub(crate) fn txn_time(&self, which: TxnTime, start: Instant) {
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.txn_ns[which as usize].fetch_add(ns, Ordering::Relaxed);
    }

    /// Records into the sender's sensors.
    ///
    /// # Thread
    /// The sender thread. # Locks: `sensors`, a leaf.
    pub(crate) fn record(&self, f: impl FnOnce(&mut SenderSensors)) {
        f(&mut self.sensors.lock());
    }

    /// Takes over what the network counted.
    pub(crate) fn net(&self, counts: &mut NetCounts, now: Instant) {
        if counts.requests.is_empty()
            && counts.responses.is_empty()
            && counts.written.is_empty()
            && counts.polls.is_empty()
            && counts.connections_created == 0
            && counts.connections_closed == 0
            && counts.auth == (0, 0)
            && counts.reauth.0.is_empty()
            && counts.reauth.1 == 0
        {
            return;
        }
        let mut s = self.sensors.lock();
        for (node, n, api) in counts.requests.drain(..) {
            s.requests.record(n as f64, now);
            let node = s.node(node, now);
            node.requests.record(n as f64, now);
            *node.req.entry(api).or_insert(0) += 1;
        }
        for (wait, busy, events) in counts.polls.drain(..) {
            s.io_wait.record(wait.as_nanos() as f64, now);
            s.io_time.record(busy.as_nanos() as f64, now);
            for _ in 0..events {
                s.network_io.record(1.0, now);
            }
        }
        for (node, waited) in counts.written.drain(..) {
            s.node(node, now).outbuf.record(waited.as_secs_f64() * 1e3, now);
        }
        for (node, n, latency) in counts.responses.drain(..) {
            let ms = latency.as_secs_f64() * 1e3;
            s.responses.record(n as f64, now);
            s.request_latency.record(ms, now);
            let node = s.node(node, now);
            node.responses.record(n as f64, now);
            node.latency.record(ms, now);
        }
        let ones = |sensor: &mut Sampled, n: u32| {
            for _ in 0..n {
                sensor.record(1.0, now);
            }
        };
        ones(&mut s.connections_created, std::mem::take(&mut counts.connections_created));
        ones(&mut s.connections_closed, std::mem::take(&mut counts.connections_closed));
        let (ok, failed) = std::mem::take(&mut counts.auth);
        ones(&mut s.auth_ok, ok);
        ones(&mut s.auth_failed, failed);
        for d in counts.reauth.0.drain(..) {
            s.reauth_ok.record(d.as_secs_f64() * 1e3, now);
        }
        ones(&mut s.reauth_failed, std::mem::take(&mut counts.reauth.1));
    }

    /// The snapshot at `now`, with the gauges the caller reads from the pool and the metadata.
    pub(crate) fn snapshot(&self, gauges: &Gauges, now: Instant) -> Metrics {
        let s = self.sensors.lock();
        let tags = || vec![("client-id", self.client_id.clone())];
        let mut out = Vec::new();
        let mut push = |name: &'static str, description: &'static str, value: f64| {
            out.push(Metric { group: "producer-metrics", name, tags: tags(), description, value });
        };
        push("record-size-avg", "The average record size", s.record_size.avg(now));
        push("record-size-max", "The maximum record size", s.record_size.max(now));
        push(
            "buffer-exhausted-rate",
            "The average per-second number of record sends that are dropped due to buffer exhaustion",
            s.exhausted.count_rate(now),
        );
        push("io-wait-time-ns-avg", "The average length of time the I/O thread spent waiting for a socket ready for reads or writes in nanoseconds.", s.io_wait.avg(now));
        push(
            "io-wait-time-ns-total",
            "The total time the I/O thread spent waiting in nanoseconds",
            s.io_wait.total(),
        );
        push("io-wait-ratio", "The fraction of time the I/O thread spent waiting", s.io_wait.rate(now) / 1e9);
        push(
            "io-time-ns-avg",
            "The average length of time for I/O per select call in nanoseconds.",
            s.io_time.avg(now),
        );
        push(
            "io-time-ns-total",
            "The total time the I/O thread spent doing I/O in nanoseconds",
            s.io_time.total(),
        );
        push("io-ratio", "The fraction of time the I/O thread spent doing I/O", s.io_time.rate(now) / 1e9);
        push(
            "select-rate",
            "The number of times the I/O layer checked for new I/O to perform per second",
            s.io_wait.count_rate(now),
        );
        push(
            "select-total",
            "The total number of times the I/O layer checked for new I/O to perform",
            s.io_wait.total_count() as f64,
        );
        push(
            "network-io-rate",
            "The number of network operations (reads or writes) on all connections per second",
            s.network_io.count_rate(now),
        );
        push(
            "network-io-total",
            "The total number of network operations (reads or writes) on all connections",
            s.network_io.total_count() as f64,
        );
        push(
            "batch-size-avg",
            "The average number of bytes sent per partition per-request.",
            s.batch_size.avg(now),
        );
        push(
            "batch-size-max",
            "The max number of bytes sent per partition per-request.",
            s.batch_size.max(now),
        );
        push(
            "record-queue-time-avg",
            "The average time in ms record batches spent in the send buffer.",
            s.queue_time.avg(now),
        );
        push(
            "record-queue-time-max",
            "The maximum time in ms record batches spent in the send buffer.",
            s.queue_time.max(now),
        );
        push(
            "records-per-request-avg",
            "The average number of records per request.",
            s.records_per_request.avg(now),
        );
        push(
            "record-send-rate",
            "The average number of records sent per second.",
            s.records_per_request.rate(now),
        );
        push("record-send-total", "The total number of records sent.", s.records_per_request.total());
        push(
            "record-retry-rate",
            "The average per-second number of retried record sends",
            s.retries.rate(now),
        );
        push("record-retry-total", "The total number of retried record sends", s.retries.total());
        push(
            "record-error-rate",
            "The average per-second number of record sends that resulted in errors",
            s.errors.rate(now),
        );
        push(
            "record-error-total",
            "The total number of record sends that resulted in errors",
            s.errors.total(),
        );
        push("batch-split-rate", "The average number of batch splits per second", s.splits.count_rate(now));
        push("batch-split-total", "The total number of batch splits", s.splits.total_count() as f64);
        push(
            "produce-throttle-time-avg",
            "The average time in ms a request was throttled by a broker",
            s.throttle_time.avg(now),
        );
        push(
            "produce-throttle-time-max",
            "The maximum time in ms a request was throttled by a broker",
            s.throttle_time.max(now),
        );
        push("request-latency-avg", "The average request latency in ms", s.request_latency.avg(now));
        push("request-latency-max", "The maximum request latency in ms", s.request_latency.max(now));
        push("request-rate", "The number of requests sent per second", s.requests.count_rate(now));
        push("request-total", "The total number of requests sent", s.requests.total_count() as f64);
        push("request-size-avg", "The average size of requests sent.", s.requests.avg(now));
        push("request-size-max", "The maximum size of any request sent.", s.requests.max(now));
        push(
            "outgoing-byte-rate",
            "The number of outgoing bytes sent to all servers per second",
            s.requests.rate(now),
        );
        push(
            "outgoing-byte-total",
            "The total number of outgoing bytes sent to all servers",
            s.requests.total(),
        );
        push("response-rate", "The number of responses received per second", s.responses.count_rate(now));
        push("response-total", "The total number of responses received", s.responses.total_count() as f64);
        push(
            "incoming-byte-rate",
            "The number of bytes read off all sockets per second",
            s.responses.rate(now),
        );
        push("incoming-byte-total", "The total number of bytes read off all sockets", s.responses.total());
        push(
            "connection-creation-rate",
            "The number of new connections established per second",
            s.connections_created.count_rate(now),
        );
        push(
            "connection-creation-total",
            "The total number of new connections established",
            s.connections_created.total_count() as f64,
        );
        push(
            "connection-close-rate",
            "The number of connections closed per second",
            s.connections_closed.count_rate(now),
        );
        push(
            "connection-close-total",
            "The total number of connections closed",
            s.connections_closed.total_count() as f64,
        );
        push("compression-rate-avg", "The average compression rate of record batches, defined as the average ratio of the compressed batch size over the uncompressed size.", s.compression.avg(now));
        push(
            "successful-authentication-rate",
            "The number of connections with successful authentication per second",
            s.auth_ok.count_rate(now),
        );
        push(
            "successful-authentication-total",
            "The total number of connections with successful authentication",
            s.auth_ok.total_count() as f64,
        );
        push("successful-authentication-no-reauth-total", "The total number of connections with successful authentication where the client does not support re-authentication", 0.0);
        push(
            "failed-authentication-rate",
            "The number of connections with failed authentication per second",
            s.auth_failed.count_rate(now),
        );
        push(
            "failed-authentication-total",
            "The total number of connections with failed authentication",
            s.auth_failed.total_count() as f64,
        );
        push(
            "successful-reauthentication-rate",
            "The number of successful re-authentication of connections per second",
            s.reauth_ok.count_rate(now),
        );
        push(
            "successful-reauthentication-total",
            "The total number of successful re-authentication of connections",
            s.reauth_ok.total_count() as f64,
        );
        push(
            "reauthentication-latency-avg",
            "The average latency observed due to re-authentication",
            s.reauth_ok.avg(now),
        );
        push(
            "reauthentication-latency-max",
            "The max latency observed due to re-authentication",
            s.reauth_ok.max(now),
        );
        push(
            "failed-reauthentication-rate",
            "The number of failed re-authentication of connections per second",
            s.reauth_failed.count_rate(now),
        );
        push(
            "failed-reauthentication-total",
            "The total number of failed re-authentication of connections",
            s.reauth_failed.total_count() as f64,
        );
        // Per-topic and per-node metrics go to their own list: `push` holds `out` until the end.
        let mut extra = Vec::new();
        for (topic, t) in &s.topics {
            let tags = || vec![("client-id", self.client_id.clone()), ("topic", topic.to_string())];
            let mut tpush = |name: &'static str, description: &'static str, value: f64| {
                extra.push(Metric {
                    group: "producer-topic-metrics",
                    name,
                    tags: tags(),
                    description,
                    value,
                });
            };
            tpush(
                "record-send-rate",
                "The average number of records sent per second for a topic.",
                t.records.rate(now),
            );
            tpush("record-send-total", "The total number of records sent for a topic.", t.records.total());
            tpush("byte-rate", "The average number of bytes sent per second for a topic.", t.bytes.rate(now));
            tpush("byte-total", "The total number of bytes sent for a topic.", t.bytes.total());
            tpush("compression-rate", "The average compression rate of record batches for a topic, defined as the average ratio of the compressed batch size over the uncompressed size.", t.compression.avg(now));
            tpush(
                "record-retry-rate",
                "The average per-second number of retried record sends for a topic",
                t.retries.rate(now),
            );
            tpush(
                "record-retry-total",
                "The total number of retried record sends for a topic",
                t.retries.total(),
            );
            tpush(
                "record-error-rate",
                "The average per-second number of record sends that resulted in errors for a topic",
                t.errors.rate(now),
            );
            tpush(
                "record-error-total",
                "The total number of record sends that resulted in errors for a topic",
                t.errors.total(),
            );
        }
        for (node, n) in &s.nodes {
            let tags = || vec![("client-id", self.client_id.clone()), ("node-id", format!("node-{node}"))];
            let mut npush = |name: &'static str, description: &'static str, value: f64| {
                extra.push(Metric { group: "producer-node-metrics", name, tags: tags(), description, value });
            };
            npush("request-rate", "The number of requests sent per second", n.requests.count_rate(now));
            npush("request-total", "The total number of requests sent", n.requests.total_count() as f64);
            npush("request-size-avg", "The average size of requests sent.", n.requests.avg(now));
            npush("request-size-max", "The maximum size of any request sent.", n.requests.max(now));
            npush("outgoing-byte-rate", "The number of outgoing bytes per second", n.requests.rate(now));
            npush("outgoing-byte-total", "The total number of outgoing bytes", n.requests.total());
            npush(
                "response-rate",
                "The number of responses received per second",
                n.responses.count_rate(now),
            );
            npush(
                "response-total",
                "The total number of responses received",
                n.responses.total_count() as f64,
            );
            npush("incoming-byte-rate", "The number of incoming bytes per second", n.responses.rate(now));
            npush("incoming-byte-total", "The total number of incoming bytes", n.responses.total());
            npush("request-latency-avg", "", n.latency.avg(now));
            npush("request-latency-max", "", n.latency.max(now));
        }
        push(
            "buffer-exhausted-total",
            "The total number of record sends that are dropped due to buffer exhaustion",
            s.exhausted.total_count() as f64,
        );
        drop(s);
        push(
            "connection-count",
            "The current number of active connections.",
            self.connections.load(Ordering::Relaxed) as f64,
        );
        push(
            "requests-in-flight",
            "The current number of in-flight requests awaiting a response.",
            self.requests_in_flight.load(Ordering::Relaxed) as f64,
        );
        push(
            "metadata-age",
            "The age in seconds of the current producer metadata being used.",
            gauges.metadata_age.map_or(f64::NAN, |d| d.as_secs_f64()),
        );
        push(
            "buffer-total-bytes",
            "The maximum amount of buffer memory the client can use (whether or not it is currently used).",
            gauges.buffer_total as f64,
        );
        push("buffer-available-bytes", "The total amount of buffer memory that is not being used (either unallocated or in the free list).", gauges.buffer_available as f64);
        push(
            "waiting-threads",
            "The number of user threads blocked waiting for buffer memory to enqueue their records",
            gauges.waiting_threads as f64,
        );
        push(
            "bufferpool-wait-time-ns-total",
            "The total time in nanoseconds an appender waits for space allocation.",
            gauges.pool_wait_ns as f64,
        );
        let elapsed_ns = now.saturating_duration_since(self.started).as_nanos().max(1) as f64;
        push(
            "bufferpool-wait-ratio",
            "The fraction of time an appender waits for space allocation (since the producer started).",
            gauges.pool_wait_ns as f64 / elapsed_ns,
        );
        push(
            "flush-time-ns-total",
            "Total time producer has spent in flush in nanoseconds.",
            self.flush_time_ns.load(Ordering::Relaxed) as f64,
        );
        push(
            "metadata-wait-time-ns-total",
            "Total time producer has spent waiting on topic metadata in nanoseconds.",
            self.metadata_wait_ns.load(Ordering::Relaxed) as f64,
        );
        let txn = |w: TxnTime| self.txn_ns[w as usize].load(Ordering::Relaxed) as f64;
        push(
            "txn-init-time-ns-total",
            "Total time producer has spent in initTransactions in nanoseconds.",
            txn(TxnTime::Init),
        );
        push(
            "txn-begin-time-ns-total",
            "Total time producer has spent in beginTransaction in nanoseconds.",
            txn(TxnTime::Begin),
        );
        push(
            "txn-send-offsets-time-ns-total",
            "Total time producer has spent in sendOffsetsToTransaction in nanoseconds.",
            txn(TxnTime::SendOffsets),
        );
        push(
            "txn-commit-time-ns-total",
            "Total time producer has spent in commitTransaction in nanoseconds.",
            txn(TxnTime::Commit),
        );
        push(
            "txn-prepare-time-ns-total",
            "Total time producer has spent in prepareTransaction in nanoseconds.",
            txn(TxnTime::Prepare),
        );
        push(
            "txn-abort-time-ns-total",
            "Total time producer has spent in abortTransaction in nanoseconds.",
            txn(TxnTime::Abort),
        );
        out.extend(extra);
        out.sort_by(|a, b| (a.group, a.name, &a.tags).cmp(&(b.group, b.name, &b.tags)));
        Metrics { metrics: out }
    }
}

/// What the sender hands the callback thread for the application's hooks.
#[derive(Debug)]
pub(crate) enum HookEvent {
    /// For `on_error`.
    Error(crate::error::Error),
    /// For `on_statistics`: a librdkafka statistics JSON document.
    Statistics(String),
    /// For `on_throttle`: a broker (`host:port`, node id) throttled a response by this long.
    Throttle(String, i32, std::time::Duration),
}

/// Gauges read when a snapshot is taken.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gauges {
    /// Since the last metadata refresh.
    pub metadata_age: Option<Duration>,
    /// `buffer.memory`.
    pub buffer_total: usize,
    /// Free or unallocated pool memory.
    pub buffer_available: usize,
    /// Threads blocked in the pool.
    pub waiting_threads: usize,
    /// Nanoseconds appenders waited for memory.
    pub pool_wait_ns: u64,
}

impl ProducerMetrics {
    /// librdkafka's statistics JSON for a producer (STATISTICS.md), from the sensors and `inputs`.
    ///
    /// # Thread
    /// The sender thread (it gathers `inputs`). # Locks: `sensors`, a leaf.
    pub(crate) fn statistics(&self, inputs: &statistics::Inputs, now: Instant) -> String {
        use statistics::{quote, window};
        let s = self.sensors.lock();
        let age_us = now.saturating_duration_since(self.started).as_micros();
        let unix = statistics::unix_now();
        let txmsg_bytes: f64 = s.topics.values().map(|t| t.bytes.total()).sum();
        let mut j = String::with_capacity(4096);
        let _ = write!(
            j,
            "{{\"name\":{},\"client_id\":{},\"type\":\"producer\",\"ts\":{},\"time\":{},\"age\":{},\
             \"msg_cnt\":{},\"msg_size\":{},\"msg_max\":{},\"msg_size_max\":{},\
             \"tx\":{},\"tx_bytes\":{},\"rx\":{},\"rx_bytes\":{},\"txmsgs\":{},\"txmsg_bytes\":{}",
            quote(&format!("{}#producer", self.client_id)),
            quote(&self.client_id),
            age_us,
            unix.as_secs(),
            age_us,
            inputs.msg_cnt,
            inputs.msg_size,
            i32::MAX,
            inputs.msg_size_max,
            s.requests.total_count(),
            s.requests.total() as u64,
            s.responses.total_count(),
            s.responses.total() as u64,
            s.records_per_request.total() as u64,
            txmsg_bytes as u64,
        );
        j.push_str(",\"brokers\":{");
        for (i, b) in inputs.brokers.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            let name = format!(
                "{}/{}",
                b.address,
                if b.node < 0 { "bootstrap".to_string() } else { b.node.to_string() }
            );
            let _ = write!(
                j,
                "{}:{{\"name\":{},\"nodeid\":{},\"nodename\":{},\"state\":{},\"outbuf_cnt\":{},\"waitresp_cnt\":{}",
                quote(&name),
                quote(&name),
                b.node,
                quote(&b.address),
                quote(b.state),
                b.outbuf_cnt,
                b.waitresp_cnt
            );
            match s.nodes.get(&b.node) {
                Some(n) => {
                    let _ = write!(
                        j,
                        ",\"tx\":{},\"txbytes\":{},\"rx\":{},\"rxbytes\":{},\"req\":{{",
                        n.requests.total_count(),
                        n.requests.total() as u64,
                        n.responses.total_count(),
                        n.responses.total() as u64
                    );
                    for (k, (api, count)) in n.req.iter().enumerate() {
                        let _ = write!(j, "{}{}:{}", if k > 0 { "," } else { "" }, quote(api), count);
                    }
                    // librdkafka's latencies are in microseconds; throttle in milliseconds.
                    let _ = write!(
                        j,
                        "}},\"int_latency\":{},\"outbuf_latency\":{},\"rtt\":{},\"throttle\":{}}}",
                        window(&n.queue_time, 1e3, now),
                        window(&n.outbuf, 1e3, now),
                        window(&n.latency, 1e3, now),
                        window(&n.throttle, 1.0, now)
                    );
                }
                None => j.push_str(",\"tx\":0,\"txbytes\":0,\"rx\":0,\"rxbytes\":0,\"req\":{}}"),
            }
        }
        j.push_str("},\"topics\":{");
        for (i, (topic, parts)) in inputs.topics.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            let t = s.topics.get(topic.as_str());
            let (batchsize, batchcnt) = match t {
                Some(t) => (window(&t.bytes, 1.0, now), window(&t.records, 1.0, now)),
                None => {
                    let empty = "{\"min\":0,\"max\":0,\"avg\":0,\"sum\":0,\"cnt\":0}".to_string();
                    (empty.clone(), empty)
                }
            };
            let _ = write!(
                j,
                "{}:{{\"topic\":{},\"batchsize\":{},\"batchcnt\":{},\"partitions\":{{",
                quote(topic),
                quote(topic),
                batchsize,
                batchcnt
            );
            for (k, p) in parts.iter().enumerate() {
                let (txmsgs, txbytes) =
                    t.and_then(|t| t.partitions.get(&p.partition)).copied().unwrap_or((0, 0));
                let _ = write!(
                    j,
                    "{}\"{}\":{{\"partition\":{},\"broker\":{},\"leader\":{},\"msgq_cnt\":{},\"msgq_bytes\":{},\
                     \"xmit_msgq_cnt\":0,\"xmit_msgq_bytes\":0,\"txmsgs\":{},\"txbytes\":{}}}",
                    if k > 0 { "," } else { "" },
                    p.partition,
                    p.partition,
                    p.leader,
                    p.leader,
                    p.msgq_cnt,
                    p.msgq_bytes,
                    txmsgs,
                    txbytes
                );
            }
            j.push_str("}}");
        }
        let e = &inputs.eos;
        let _ = write!(
            j,
            "}},\"eos\":{{\"idemp_state\":{},\"txn_state\":{},\"producer_id\":{},\"producer_epoch\":{}}}}}",
            quote(e.idemp_state),
            quote(e.txn_state),
            e.producer_id,
            e.producer_epoch
        );
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Metrics {
        let m = ProducerMetrics::new("c\"1", Windows::default(), Instant::now());
        m.record(|s| s.produce_request(7, Instant::now()));
        m.snapshot(&Gauges::default(), Instant::now())
    }

    #[test]
    fn prometheus_text_has_help_type_and_escaped_labels() {
        let text = snapshot().to_prometheus();
        assert!(text.contains("# TYPE kafka_producer_producer_metrics_record_send_total gauge\n"), "{text}");
        assert!(
            text.contains("kafka_producer_producer_metrics_record_send_total{client_id=\"c\\\"1\"} 7\n"),
            "{text}"
        );
        // Averages with nothing recorded are NaN, which Prometheus accepts.
        assert!(text.contains("kafka_producer_producer_metrics_batch_size_avg{client_id=\"c\\\"1\"} NaN\n"));
        // One HELP/TYPE pair per name.
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        let names: std::collections::BTreeSet<&str> =
            text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split('{').next()).collect();
        assert_eq!(types, names.len());
    }

    #[test]
    fn display_is_producer_performance_s_format() {
        let text = snapshot().to_string();
        let line = text.lines().find(|l| l.starts_with("producer-metrics:record-send-total:")).unwrap();
        assert!(line.starts_with("producer-metrics:record-send-total:{client-id=c\"1}"), "{line}");
        assert!(line.ends_with(" : 7.000"), "{line}");
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn publish_sets_a_gauge_per_metric() {
        use std::sync::Mutex;
        #[derive(Default)]
        struct Rec(Mutex<Vec<(String, Arc<AtomicU64>)>>);
        impl ::metrics::Recorder for Rec {
            fn describe_counter(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn describe_gauge(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn describe_histogram(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn register_counter(
                &self,
                _: &::metrics::Key,
                _: &::metrics::Metadata<'_>,
            ) -> ::metrics::Counter {
                ::metrics::Counter::noop()
            }
            fn register_gauge(&self, key: &::metrics::Key, _: &::metrics::Metadata<'_>) -> ::metrics::Gauge {
                let cell = Arc::new(AtomicU64::new(0));
                self.0.lock().unwrap().push((key.name().to_owned(), Arc::clone(&cell)));
                ::metrics::Gauge::from_arc(cell)
            }
            fn register_histogram(
                &self,
                _: &::metrics::Key,
                _: &::metrics::Metadata<'_>,
            ) -> ::metrics::Histogram {
                ::metrics::Histogram::noop()
            }
        }
        let rec = Rec::default();
        let m = snapshot();
        ::metrics::with_local_recorder(&rec, || m.publish());
        let got = rec.0.lock().unwrap();
        assert_eq!(got.len(), m.len());
        let (_, cell) =
            got.iter().find(|(n, _)| n == "kafka_producer_producer_metrics_record_send_total").unwrap();
        assert_eq!(f64::from_bits(cell.load(Ordering::Relaxed)), 7.0);
    }
}
