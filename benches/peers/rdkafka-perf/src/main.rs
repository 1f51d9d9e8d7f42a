//! librdkafka (through rust-rdkafka's `BaseProducer`, bundled librdkafka) with the command line and the
//! output of kprod's `examples/perf.rs`, so `scripts/bench-compare` can run both the same way.
//!
//! ```sh
//! rdkafka-perf --bootstrap-server HOST:PORT [--topic T] [--num-records N] [--record-size B]
//!     [--payload-file F] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS]
//!     [--batch-size B] [--throughput RECS_PER_SEC] [--key-pattern none|seq|random]
//!     [--producer-props k=v ...] [--open-loop]
//! ```
//!
//! `--producer-props` takes Java producer property names and maps them to librdkafka's (see
//! [`map_prop`]); names librdkafka knows but Java does not are passed through unchanged. Unless
//! overridden, the producer gets Java's 32 MiB buffer (`queue.buffering.max.kbytes=32768`), no message
//! count cap (`queue.buffering.max.messages`, `batch.num.messages` at their maxima, so `batch.size` is what
//! bounds a batch) and Java's murmur2 partitioner for keyed records.
//!
//! Delivery reports are served by `poll` on the sending thread (every 1,000 sends, and while the queue
//! is full); latency runs from `send` to the delivery report. At the end it prints the summary line of
//! `kafka-producer-perf-test` and `client cpu: U s user, S s sys, C s per million records` for the produce
//! phase (from `/proc/self/stat`), as kprod's perf example does.
//!
//! `--open-loop` (with `--throughput R`): record `i` is due at `start + i / R`; the sending thread sleeps
//! until then (1 ns timer slack) and sends, a separate thread polls for delivery reports (so none wait
//! for the sender's poll cadence), and latency runs from the intended time to the delivery report. All
//! records are sampled; after the summary line, `latency us: p50 N p99 N p999 N max N` over the records
//! due 2 s or more after the start, as kprod's perf example prints.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

const REPORTING_INTERVAL: Duration = Duration::from_secs(5);
const MAX_SAMPLES: u64 = 500_000;
const MB: f64 = 1024.0 * 1024.0;
const POLL_EVERY: u64 = 1000;
/// `--open-loop`: records due within this long of the start are warm-up, left out of `latency us:`.
const OPEN_LOOP_WARMUP: Duration = Duration::from_secs(2);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn usage() -> &'static str {
    "usage: rdkafka-perf --bootstrap-server HOST:PORT [--topic T] [--num-records N] [--record-size B] \
     [--payload-file F] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS] \
     [--batch-size B] [--throughput RECS_PER_SEC] [--key-pattern none|seq|random] [--producer-props k=v ...] \
     [--open-loop]"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPattern {
    None,
    Seq,
    Random,
}

#[derive(Debug)]
struct Args {
    bootstrap: Option<String>,
    topic: String,
    num_records: u64,
    record_size: usize,
    payload_file: Option<String>,
    throughput: f64,
    key_pattern: KeyPattern,
    /// Java-named properties, in order (later ones win).
    props: Vec<(String, String)>,
    open_loop: bool,
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, BoxError> {
    v.parse().map_err(|_| format!("{flag}: not a valid number: {v:?}").into())
}

fn parse_args(argv: Vec<String>) -> Result<Option<Args>, BoxError> {
    let mut a = Args {
        bootstrap: None,
        topic: "perf-test".to_owned(),
        num_records: 1_000_000,
        record_size: 100,
        payload_file: None,
        throughput: -1.0,
        key_pattern: KeyPattern::None,
        props: Vec::new(),
        open_loop: false,
    };
    let mut flag_props = Vec::new();
    let mut extra_props = Vec::new();
    let mut it = argv.into_iter().peekable();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--producer-props" {
            while let Some(kv) = it.next_if(|w| !w.starts_with("--")) {
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| format!("--producer-props: not k=v: {kv:?}"))?;
                extra_props.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            continue;
        }
        if flag == "--open-loop" {
            a.open_loop = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let v = value.as_str();
        match flag.as_str() {
            "--bootstrap-server" | "--bootstrap-servers" => a.bootstrap = Some(value),
            "--topic" => a.topic = value,
            "--num-records" => a.num_records = parse_num(&flag, v)?,
            "--record-size" => a.record_size = parse_num(&flag, v)?,
            "--payload-file" => a.payload_file = Some(value),
            "--acks" => flag_props.push(("acks".to_owned(), value)),
            "--compression" => flag_props.push(("compression.type".to_owned(), value)),
            "--linger-ms" => flag_props.push(("linger.ms".to_owned(), value)),
            "--batch-size" => flag_props.push(("batch.size".to_owned(), value)),
            "--throughput" => a.throughput = parse_num(&flag, v)?,
            "--key-pattern" => {
                a.key_pattern = match v {
                    "none" => KeyPattern::None,
                    "seq" => KeyPattern::Seq,
                    "random" => KeyPattern::Random,
                    _ => return Err(format!("--key-pattern: expected none, seq or random, not {v:?}").into()),
                }
            }
            "--threads" => {
                if v != "1" {
                    return Err("--threads: only 1 is supported".into());
                }
            }
            // Topics are created by the caller; accepted for command-line compatibility.
            "--partitions" => {}
            _ => return Err(format!("unknown argument {flag:?}").into()),
        }
    }
    a.props = flag_props;
    a.props.extend(extra_props);
    if a.throughput == 0.0 {
        return Err("--throughput must be positive, or negative for no limit".into());
    }
    if a.open_loop && a.throughput <= 0.0 {
        return Err("--open-loop needs --throughput RECS_PER_SEC".into());
    }
    Ok(Some(a))
}

/// A Java producer property as librdkafka's (name, value); `None` for ones without an equivalent.
fn map_prop(k: &str, v: &str) -> Option<(String, String)> {
    let same = |name: &str| Some((name.to_owned(), v.to_owned()));
    match k {
        "bootstrap.servers"
        | "acks"
        | "enable.idempotence"
        | "linger.ms"
        | "batch.size"
        | "compression.type"
        | "request.timeout.ms"
        | "client.id"
        | "transactional.id"
        | "retry.backoff.ms"
        | "retry.backoff.max.ms"
        | "reconnect.backoff.ms"
        | "reconnect.backoff.max.ms"
        | "metadata.max.age.ms"
        | "socket.connection.setup.timeout.ms"
        | "security.protocol"
        | "transaction.timeout.ms" => same(k),
        "compression.gzip.level" | "compression.lz4.level" | "compression.zstd.level" => {
            same("compression.level")
        }
        "buffer.memory" => {
            let bytes: u64 = v.parse().ok()?;
            Some(("queue.buffering.max.kbytes".to_owned(), bytes.div_ceil(1024).max(1).to_string()))
        }
        "max.in.flight.requests.per.connection" => same("max.in.flight"),
        "max.request.size" => same("message.max.bytes"),
        "delivery.timeout.ms" => same("message.timeout.ms"),
        "retries" => same("message.send.max.retries"),
        "send.buffer.bytes" => same("socket.send.buffer.bytes"),
        "receive.buffer.bytes" => same("socket.receive.buffer.bytes"),
        "connections.max.idle.ms" => same("connections.max.idle.ms"),
        "key.serializer"
        | "value.serializer"
        | "partitioner.class"
        | "max.block.ms"
        | "metadata.max.idle.ms"
        | "partitioner.ignore.keys"
        | "partitioner.adaptive.partitioning.enable"
        | "enable.metrics.push" => {
            eprintln!("rdkafka-perf: ignoring {k}={v} (no librdkafka equivalent)");
            None
        }
        // librdkafka's own names pass through.
        _ => same(k),
    }
}

struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    fn fill_letters(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut r = self.next_u64();
            for b in chunk {
                *b = b'A' + (((r & 0xFF) * 26) >> 8) as u8;
                r >>= 8;
            }
        }
    }
}

fn cpu_times(ticks_per_sec: f64) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime / ticks_per_sec, stime / ticks_per_sec))
}

fn clock_ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// `ProducerPerformance.Stats`, latencies in microseconds (same as kprod's perf example).
struct Stats {
    sampling: u64,
    latencies: Vec<u64>,
    count: u64,
    bytes: u64,
    total_latency_us: u64,
    max_latency_us: u64,
    window_start: Instant,
    window_count: u64,
    window_bytes: u64,
    window_total_latency_us: u64,
    window_max_latency_us: u64,
    last_completion: Option<Instant>,
    iter: u64,
    /// `--open-loop`: records whose intended send time (ns after the context's start) is at least this
    /// go into `open_loop`.
    open_from_ns: Option<u64>,
    open_loop: Vec<u64>,
}

impl Stats {
    fn new(num_records: u64, start: Instant, open_from_ns: Option<u64>) -> Self {
        let sampling =
            if open_from_ns.is_some() { 1 } else { (num_records / num_records.clamp(1, MAX_SAMPLES)).max(1) };
        Stats {
            open_from_ns,
            open_loop: Vec::with_capacity(if open_from_ns.is_some() { num_records as usize } else { 0 }),
            sampling,
            latencies: Vec::with_capacity((num_records / sampling + 1) as usize),
            count: 0,
            bytes: 0,
            total_latency_us: 0,
            max_latency_us: 0,
            window_start: start,
            window_count: 0,
            window_bytes: 0,
            window_total_latency_us: 0,
            window_max_latency_us: 0,
            last_completion: None,
            iter: 0,
        }
    }

    fn record(&mut self, latency_us: u64, bytes: u64, now: Instant) {
        self.count += 1;
        self.bytes += bytes;
        self.total_latency_us += latency_us;
        self.max_latency_us = self.max_latency_us.max(latency_us);
        self.window_count += 1;
        self.window_bytes += bytes;
        self.window_total_latency_us += latency_us;
        self.window_max_latency_us = self.window_max_latency_us.max(latency_us);
        if self.iter.is_multiple_of(self.sampling) {
            self.latencies.push(latency_us);
        }
        self.iter += 1;
        self.last_completion = Some(now);
        if now.duration_since(self.window_start) >= REPORTING_INTERVAL {
            let elapsed = now.duration_since(self.window_start).as_secs_f64();
            println!(
                "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.1} ms avg latency, {:.1} ms max latency.",
                self.window_count,
                self.window_count as f64 / elapsed,
                self.window_bytes as f64 / elapsed / MB,
                self.window_total_latency_us as f64 / self.window_count.max(1) as f64 / 1000.0,
                self.window_max_latency_us as f64 / 1000.0
            );
            let _ = std::io::stdout().flush();
            self.window_start = now;
            self.window_count = 0;
            self.window_bytes = 0;
            self.window_total_latency_us = 0;
            self.window_max_latency_us = 0;
        }
    }

    fn print_total(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let recs_per_sec = self.count as f64 / secs;
        let mb_per_sec = self.bytes as f64 / secs / MB;
        let avg_ms = self.total_latency_us as f64 / self.count.max(1) as f64 / 1000.0;
        let max_ms = (self.max_latency_us / 1000) as f64;
        self.latencies.sort_unstable();
        let pct = |p: f64| -> u64 {
            let n = self.latencies.len();
            if n == 0 {
                return 0;
            }
            self.latencies[((p * n as f64) as usize).min(n - 1)] / 1000
        };
        println!(
            "{} records sent, {recs_per_sec:.6} records/sec ({mb_per_sec:.2} MB/sec), {avg_ms:.2} ms avg latency, \
             {max_ms:.2} ms max latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
            self.count,
            pct(0.5),
            pct(0.95),
            pct(0.99),
            pct(0.999)
        );
    }

    fn print_open_loop(&mut self) {
        self.open_loop.sort_unstable();
        let n = self.open_loop.len();
        let pct = |p: f64| if n == 0 { 0 } else { self.open_loop[((p * n as f64) as usize).min(n - 1)] };
        println!(
            "latency us: p50 {} p99 {} p999 {} max {}",
            pct(0.5),
            pct(0.99),
            pct(0.999),
            self.open_loop.last().copied().unwrap_or(0)
        );
    }
}

/// This thread's timer slack to 1 ns (default 50 µs), so open-loop sleeps end close to their due time.
fn tighten_timer_slack() {
    extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    const PR_SET_TIMERSLACK: std::ffi::c_int = 29;
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and only changes this thread's timer slack.
    let _ = unsafe { prctl(PR_SET_TIMERSLACK, 1 as std::ffi::c_ulong) };
}

struct PerfContext {
    start: Instant,
    stats: Mutex<Stats>,
    completed: AtomicU64,
    failed: AtomicU64,
    /// Records `send` refused (other than for a full queue).
    refused: AtomicU64,
}

impl ClientContext for PerfContext {
    /// librdkafka's log lines (warnings, and whatever `debug=...` asks for) straight to stderr.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        eprintln!("rdkafka {level:?} {fac}: {log_message}");
    }
}

impl ProducerContext for PerfContext {
    /// Nanoseconds from `start` to the `send` call (open loop: to the record's intended send time).
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_at_ns: usize) {
        let now = Instant::now();
        match result {
            Ok(msg) => {
                let latency_us = (now.duration_since(self.start).as_nanos() as u64)
                    .saturating_sub(sent_at_ns as u64)
                    / 1000;
                let bytes = msg.payload_len() as u64;
                if let Ok(mut s) = self.stats.lock() {
                    s.record(latency_us, bytes, now);
                    if s.open_from_ns.is_some_and(|from| sent_at_ns as u64 >= from) {
                        s.open_loop.push(latency_us);
                    }
                }
            }
            Err((e, _)) => {
                let n = self.failed.fetch_add(1, Ordering::Relaxed);
                if n < 10 {
                    eprintln!("delivery failed: {e}");
                }
            }
        }
        self.completed.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rdkafka-perf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<ExitCode, BoxError> {
    let bootstrap =
        args.bootstrap.clone().ok_or("--bootstrap-server is required (no embedded broker here)")?;
    let payloads: Vec<Vec<u8>> = match &args.payload_file {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            let lines: Vec<Vec<u8>> =
                text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
            if lines.is_empty() {
                return Err(format!("{path}: no payloads").into());
            }
            println!("Reading payloads from: {path}");
            println!("Number of messages read: {}", lines.len());
            lines
        }
        None => Vec::new(),
    };

    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &bootstrap)
        .set("queue.buffering.max.kbytes", "32768")
        .set("queue.buffering.max.messages", "2147483647")
        .set("batch.num.messages", "1000000")
        .set("partitioner", "murmur2_random");
    for (k, v) in &args.props {
        if let Some((rk, rv)) = map_prop(k, v) {
            config.set(rk, rv);
        }
    }
    let start = Instant::now();
    let context = PerfContext {
        start,
        stats: Mutex::new(Stats::new(args.num_records, start, None)),
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        refused: AtomicU64::new(0),
    };
    let producer: BaseProducer<PerfContext> = config.create_with_context(context)?;
    // Connect and fetch the topic's metadata before the clock starts (as the Java tool's first send does
    // inside its measurement, this is a small, fixed cost; excluding it is slightly in librdkafka's favour).
    let _ = producer.client().fetch_metadata(Some(&args.topic), Duration::from_secs(30))?;

    let ticks = clock_ticks_per_sec();
    let cpu_before = cpu_times(ticks);
    let start = Instant::now();
    let t0 = producer.context().start;
    let open_loop = args.open_loop.then(|| {
        tighten_timer_slack();
        (start + OPEN_LOOP_WARMUP).duration_since(t0).as_nanos() as u64
    });
    if let Ok(mut s) = producer.context().stats.lock() {
        *s = Stats::new(args.num_records, start, open_loop);
    }
    // Open loop: delivery reports are served by their own thread, not at the sender's poll cadence.
    let polling = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| -> Result<(), BoxError> {
        if open_loop.is_some() {
            let (producer, polling) = (&producer, &polling);
            std::thread::Builder::new().name("poll".into()).spawn_scoped(scope, move || {
                while polling.load(Ordering::Relaxed) {
                    producer.poll(Duration::from_millis(50));
                }
            })?;
        }
        let result = send_all(&args, &producer, &payloads, start, open_loop.is_some());
        polling.store(false, Ordering::Relaxed);
        result
    })?;
    let cpu_after = cpu_times(ticks);

    let sent = {
        let mut s = producer.context().stats.lock().map_err(|_| "stats lock poisoned")?;
        let end = s.last_completion.unwrap_or_else(Instant::now);
        s.print_total(end.duration_since(start));
        if open_loop.is_some() {
            s.print_open_loop();
        }
        s.count
    };
    match (cpu_before, cpu_after) {
        (Some((u0, s0)), Some((u1, s1))) => {
            let (user, sys) = (u1 - u0, s1 - s0);
            let per_million = if sent > 0 { (user + sys) * 1e6 / sent as f64 } else { 0.0 };
            println!("client cpu: {user:.2} s user, {sys:.2} s sys, {per_million:.2} s per million records");
        }
        _ => println!("client cpu: unavailable (no /proc/self/stat)"),
    }
    let failed = producer.context().failed.load(Ordering::Relaxed)
        + producer.context().refused.load(Ordering::Relaxed);
    let missing = args.num_records.saturating_sub(sent + failed);
    if failed > 0 || missing > 0 {
        println!(
            "{failed} records failed{}",
            if missing > 0 { format!(", {missing} unaccounted for") } else { String::new() }
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends every record, flushes and waits for the delivery reports.
fn send_all(
    args: &Args,
    producer: &BaseProducer<PerfContext>,
    payloads: &[Vec<u8>],
    start: Instant,
    open_loop: bool,
) -> Result<(), BoxError> {
    let t0 = producer.context().start;
    let mut rng = XorShift::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5EED, |d| d.as_nanos() as u64),
    );
    let mut buf = vec![0u8; if payloads.is_empty() { args.record_size } else { 0 }];
    let mut key_buf: Vec<u8> = Vec::with_capacity(20);
    let mut accepted = 0u64;
    for i in 0..args.num_records {
        let value: &[u8] = if payloads.is_empty() {
            rng.fill_letters(&mut buf);
            &buf
        } else {
            &payloads[rng.below(payloads.len())]
        };
        let key: Option<&[u8]> = match args.key_pattern {
            KeyPattern::None => None,
            KeyPattern::Seq => {
                key_buf.clear();
                let _ = write!(key_buf, "{i}");
                Some(&key_buf)
            }
            KeyPattern::Random => {
                key_buf.clear();
                key_buf.extend_from_slice(&rng.next_u64().to_le_bytes());
                Some(&key_buf)
            }
        };
        let sent_at = if open_loop {
            let due = start + Duration::from_secs_f64(i as f64 / args.throughput);
            if let Some(ahead) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(ahead);
            }
            due.duration_since(t0).as_nanos() as usize
        } else {
            t0.elapsed().as_nanos() as usize
        };
        let mut record = BaseRecord::with_opaque_to(&args.topic, sent_at).payload(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        loop {
            match producer.send(record) {
                Ok(()) => {
                    accepted += 1;
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    let n = producer.context().refused.fetch_add(1, Ordering::Relaxed);
                    if n < 10 {
                        eprintln!("send refused: {e}");
                    }
                    break;
                }
            }
        }
        if !open_loop && i % POLL_EVERY == 0 {
            producer.poll(Duration::ZERO);
        }
        if args.throughput > 0.0 && !open_loop {
            let due = Duration::from_secs_f64((i + 1) as f64 / args.throughput);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                if ahead >= Duration::from_millis(2) {
                    std::thread::sleep(ahead);
                }
            }
        }
    }
    if let Err(e) = producer.flush(Duration::from_secs(300)) {
        eprintln!("flush: {e}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while producer.context().completed.load(Ordering::Relaxed) < accepted && Instant::now() < deadline {
        producer.poll(Duration::from_millis(10));
    }
    Ok(())
}
