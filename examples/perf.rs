//! A producer benchmark in the manner of Kafka's `kafka-producer-perf-test` (Java's `ProducerPerformance`).
//!
//! ```sh
//! cargo run --release --features mock --example perf -- [--bootstrap-server HOST:PORT] [--topic T] \
//!     [--num-records N] [--record-size B] [--payload-file F] [--acks 0|1|all] \
//!     [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS] [--batch-size B] \
//!     [--throughput RECS_PER_SEC] [--key-pattern none|seq|random] [--threads N] \
//!     [--producer-props k=v ...] [--partitions N] [--open-loop]
//! ```
//!
//! Without `--bootstrap-server` the embedded mock cluster (`kprod::mock`, one broker, null-sink mode) is
//! started in-process and `--topic` is created on it with `--partitions` partitions (default 1).
//!
//! Defaults: `--topic perf-test`, `--num-records 1000000`, `--record-size 100`, `--threads 1`,
//! `--throughput -1` (unlimited), `--key-pattern none`. `--producer-props` takes every following `k=v`
//! word up to the next `--` flag; those properties override the ones set by the other flags.
//!
//! Values are, as in `ProducerPerformance`, either a random line of `--payload-file` per record or
//! `--record-size` random `A`-`Z` bytes. Every 5 s a progress line is printed for that window; at the end
//! the same summary line as `kafka-producer-perf-test`, then the process' CPU time for the produce phase
//! (read from `/proc/self/stat`, so Linux only). The exit code is non-zero when any record failed.
//!
//! `--open-loop` (with `--throughput R`) replaces the throttle by a fixed schedule: record `i` of a
//! sending thread is due at `start + i / R'` (`R'` = R / threads), the thread sleeps until then (with a
//! 1 ns timer slack) and sends, and latency runs from that *intended* time to the delivery callback, so
//! a stall that delays later sends counts against them (no coordinated omission). All records are
//! sampled; after the summary line one more line gives microseconds over the records due 2 s or more
//! after the start (the first 2 s are warm-up): `latency us: p50 N p99 N p999 N max N`.

use std::error::Error as StdError;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use kprod::{Producer, ProducerConfig, Record, RecordMetadata};
use parking_lot::Mutex;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How often a progress line is printed (`ProducerPerformance`'s reporting interval).
const REPORTING_INTERVAL: Duration = Duration::from_secs(5);
/// At most this many latency samples are kept (as `ProducerPerformance` does).
const MAX_SAMPLES: u64 = 500_000;
/// `--open-loop`: records due within this long of the start are warm-up, left out of `latency us:`.
const OPEN_LOOP_WARMUP: Duration = Duration::from_secs(2);
/// At most this many individual errors are printed; the rest are only counted.
const MAX_PRINTED_ERRORS: u64 = 10;
/// The throttler does not sleep for less than this; shorter debts accumulate (as Kafka's
/// `ThroughputThrottler`'s `MIN_SLEEP_NS`).
const MIN_SLEEP: Duration = Duration::from_millis(2);
const MB: f64 = 1024.0 * 1024.0;

fn usage() -> &'static str {
    "usage: perf [--bootstrap-server HOST:PORT] [--topic T] [--num-records N] [--record-size B] \
     [--payload-file F] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS] \
     [--batch-size B] [--throughput RECS_PER_SEC] [--key-pattern none|seq|random] [--threads N] \
     [--producer-props k=v ...] [--partitions N] [--open-loop] [--print-metrics]"
}

// -- arguments -----------------------------------------------------------------------------------------

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
    acks: Option<String>,
    compression: Option<String>,
    linger_ms: Option<String>,
    batch_size: Option<String>,
    throughput: f64,
    key_pattern: KeyPattern,
    threads: u64,
    producer_props: Vec<(String, String)>,
    partitions: i32,
    open_loop: bool,
    print_metrics: bool,
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
        acks: None,
        compression: None,
        linger_ms: None,
        batch_size: None,
        throughput: -1.0,
        key_pattern: KeyPattern::None,
        threads: 1,
        producer_props: Vec::new(),
        partitions: 1,
        open_loop: false,
        print_metrics: false,
    };
    let mut it = argv.into_iter().peekable();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--producer-props" {
            while let Some(kv) = it.next_if(|w| !w.starts_with("--")) {
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| format!("--producer-props: not k=v: {kv:?}"))?;
                a.producer_props.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            continue;
        }
        if flag == "--open-loop" {
            a.open_loop = true;
            continue;
        }
        if flag == "--print-metrics" {
            a.print_metrics = true;
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
            "--acks" => a.acks = Some(value),
            "--compression" => a.compression = Some(value),
            "--linger-ms" => a.linger_ms = Some(value),
            "--batch-size" => a.batch_size = Some(value),
            "--throughput" => a.throughput = parse_num(&flag, v)?,
            "--key-pattern" => {
                a.key_pattern = match v {
                    "none" => KeyPattern::None,
                    "seq" => KeyPattern::Seq,
                    "random" => KeyPattern::Random,
                    _ => return Err(format!("--key-pattern: expected none, seq or random, not {v:?}").into()),
                }
            }
            "--threads" => a.threads = parse_num(&flag, v)?,
            "--partitions" => a.partitions = parse_num(&flag, v)?,
            _ => return Err(format!("unknown argument {flag:?}").into()),
        }
    }
    if a.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    if a.partitions < 1 {
        return Err("--partitions must be at least 1".into());
    }
    if a.throughput == 0.0 {
        return Err("--throughput must be positive, or negative for no limit".into());
    }
    if a.open_loop && a.throughput <= 0.0 {
        return Err("--open-loop needs --throughput RECS_PER_SEC".into());
    }
    Ok(Some(a))
}

// -- helpers -------------------------------------------------------------------------------------------

/// Marsaglia's xorshift64: plenty for payload bytes and random keys.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // A zero state would stay zero; mix the seed (splitmix64 finaliser) and keep it non-zero.
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

    /// A value in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fills `buf` with random `A`-`Z` bytes, eight per random word.
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

/// The process' user and system CPU time, from fields 14 (utime) and 15 (stime) of `/proc/self/stat`.
fn cpu_times(ticks_per_sec: f64) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 2 (the command) is parenthesised and may hold spaces: count fields after its last ')'.
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

// -- statistics ----------------------------------------------------------------------------------------

/// `ProducerPerformance.Stats`, with latencies in microseconds.
#[derive(Debug)]
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
    /// `--open-loop`: every latency (µs from the intended send time) after the warm-up.
    open_loop: Vec<u64>,
}

impl Stats {
    fn new(num_records: u64, start: Instant, open_loop: bool) -> Self {
        let sampling = if open_loop { 1 } else { (num_records / num_records.clamp(1, MAX_SAMPLES)).max(1) };
        Stats {
            open_loop: Vec::with_capacity(if open_loop { num_records as usize } else { 0 }),
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
        }
    }

    fn record(&mut self, latency_us: u64, bytes: u64, now: Instant) {
        // Java samples by send index; completion order is as good a sample and needs no index.
        let iter = self.count;
        self.count += 1;
        self.bytes += bytes;
        self.total_latency_us += latency_us;
        self.max_latency_us = self.max_latency_us.max(latency_us);
        self.window_count += 1;
        self.window_bytes += bytes;
        self.window_total_latency_us += latency_us;
        self.window_max_latency_us = self.window_max_latency_us.max(latency_us);
        if iter % self.sampling == 0 {
            self.latencies.push(latency_us);
        }
        self.last_completion = Some(now);
        if now.duration_since(self.window_start) >= REPORTING_INTERVAL {
            self.print_window(now);
            self.window_start = now;
            self.window_count = 0;
            self.window_bytes = 0;
            self.window_total_latency_us = 0;
            self.window_max_latency_us = 0;
        }
    }

    fn print_window(&self, now: Instant) {
        let elapsed = now.duration_since(self.window_start).as_secs_f64();
        let recs_per_sec = self.window_count as f64 / elapsed;
        let mb_per_sec = self.window_bytes as f64 / elapsed / MB;
        let avg_ms = self.window_total_latency_us as f64 / self.window_count.max(1) as f64 / 1000.0;
        let max_ms = self.window_max_latency_us as f64 / 1000.0;
        println!(
            "{} records sent, {recs_per_sec:.1} records/sec ({mb_per_sec:.2} MB/sec), {avg_ms:.1} ms avg latency, \
             {max_ms:.1} ms max latency.",
            self.window_count
        );
        let _ = std::io::stdout().flush();
    }

    /// The total line; `elapsed` runs from the first send to the last completion.
    fn print_total(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let recs_per_sec = self.count as f64 / secs;
        let mb_per_sec = self.bytes as f64 / secs / MB;
        let avg_ms = self.total_latency_us as f64 / self.count.max(1) as f64 / 1000.0;
        // Java keeps whole milliseconds; print max and percentiles the same way (truncated).
        let max_ms = (self.max_latency_us / 1000) as f64;
        self.latencies.sort_unstable();
        let pct = |p: f64| -> u64 {
            let n = self.latencies.len();
            if n == 0 {
                return 0;
            }
            let i = ((p * n as f64) as usize).min(n - 1);
            self.latencies[i] / 1000
        };
        println!(
            // Java's format string: `%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency,
            // %.2f ms max latency, %d ms 50th, ...`.
            "{} records sent, {recs_per_sec:.6} records/sec ({mb_per_sec:.2} MB/sec), {avg_ms:.2} ms avg latency, \
             {max_ms:.2} ms max latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
            self.count,
            pct(0.5),
            pct(0.95),
            pct(0.99),
            pct(0.999)
        );
    }

    /// `latency us: p50 N p99 N p999 N max N` over the open-loop samples (index `floor(p * n)`, as above).
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

/// What the application threads and callbacks share.
#[derive(Debug)]
struct Shared {
    /// The origin of the opaque send times (set before the first send).
    start: OnceLock<Instant>,
    open_loop: bool,
    stats: Mutex<Stats>,
    /// Records `send_reported` accepted (each will get exactly one callback).
    accepted: AtomicU64,
    /// Callbacks run, successful or not.
    completed: AtomicU64,
    /// Records refused by `send_reported` or failed in their callback.
    failed: AtomicU64,
}

/// Bits of the opaque value that carry the value's size; the rest is the send time in ns since `start`
/// (2^44 ns: almost five hours).
const OPAQUE_BYTES_BITS: u32 = 20;

impl Shared {
    /// The delivery handler: one per producer, so `send_reported` allocates nothing per record (the
    /// opaque value carries the send time and size, as librdkafka's per-message opaque does).
    fn on_delivery(&self, opaque: u64, result: Result<RecordMetadata, kprod::Error>) {
        let now = Instant::now();
        let start = self.start.get().copied().unwrap_or(now);
        let sent_at = start + Duration::from_nanos(opaque >> OPAQUE_BYTES_BITS);
        let bytes = opaque & ((1 << OPAQUE_BYTES_BITS) - 1);
        let latency_us = now.saturating_duration_since(sent_at).as_micros() as u64;
        match result {
            // As ProducerPerformance: only successful records count as sent.
            Ok(_) => {
                let mut stats = self.stats.lock();
                stats.record(latency_us, bytes, now);
                if self.open_loop && sent_at.saturating_duration_since(start) >= OPEN_LOOP_WARMUP {
                    stats.open_loop.push(latency_us);
                }
            }
            Err(e) => self.note_error("delivery failed", &e),
        }
        self.completed.fetch_add(1, Ordering::Release);
    }

    fn note_error(&self, what: &str, e: &kprod::Error) {
        let n = self.failed.fetch_add(1, Ordering::Relaxed);
        if n < MAX_PRINTED_ERRORS {
            eprintln!("{what}: {e}");
        } else if n == MAX_PRINTED_ERRORS {
            eprintln!("(further errors are only counted)");
        }
    }
}

// -- sending -------------------------------------------------------------------------------------------

/// Kafka's `ThroughputThrottler`, by schedule: sleeps when this thread is ahead of `target` records/sec,
/// never for less than [`MIN_SLEEP`].
#[derive(Debug)]
struct Throttler {
    target: f64,
    start: Instant,
}

impl Throttler {
    fn throttle(&self, sent: u64) {
        if self.target <= 0.0 {
            return;
        }
        let due = Duration::from_secs_f64(sent as f64 / self.target);
        let elapsed = self.start.elapsed();
        if let Some(ahead) = due.checked_sub(elapsed) {
            if ahead >= MIN_SLEEP {
                std::thread::sleep(ahead);
            }
        }
    }
}

#[derive(Debug)]
struct Job {
    producer: Arc<Producer>,
    shared: Arc<Shared>,
    topic: Arc<str>,
    payloads: Arc<Vec<Vec<u8>>>,
    record_size: usize,
    key_pattern: KeyPattern,
    range: std::ops::Range<u64>,
    throughput: f64,
    seed: u64,
    /// `--open-loop`: the schedule's origin (shared by all threads).
    open_loop: Option<Instant>,
}

/// Sets this thread's timer slack to 1 ns (default 50 µs), so open-loop sleeps end close to their due
/// time. Best effort: without it sends are ~50 µs later than due, which shows up in the latencies.
#[allow(unsafe_code)]
fn tighten_timer_slack() {
    extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    const PR_SET_TIMERSLACK: std::ffi::c_int = 29;
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and only changes this thread's timer slack.
    let _ = unsafe { prctl(PR_SET_TIMERSLACK, 1 as std::ffi::c_ulong) };
}

fn run_sender(job: Job) {
    let Job {
        producer,
        shared,
        topic,
        payloads,
        record_size,
        key_pattern,
        range,
        throughput,
        seed,
        open_loop,
    } = job;
    if open_loop.is_some() {
        tighten_timer_slack();
    }
    let start = shared.start.get().copied().unwrap_or_else(Instant::now);
    let mut rng = XorShift::new(seed);
    let mut buf = vec![0u8; if payloads.is_empty() { record_size } else { 0 }];
    let mut key_buf: Vec<u8> = Vec::with_capacity(20);
    let throttler = Throttler { target: throughput, start: Instant::now() };
    for (sent, i) in range.enumerate() {
        let value: &[u8] = if payloads.is_empty() {
            rng.fill_letters(&mut buf);
            &buf
        } else {
            &payloads[rng.below(payloads.len())]
        };
        let key: Option<&[u8]> = match key_pattern {
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
        let mut record = Record::new(&*topic).value(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        let bytes = (value.len() as u64).min((1 << OPAQUE_BYTES_BITS) - 1);
        // Open loop: latency from the intended send time (slept until, if still ahead); else from now.
        let send_start = match open_loop {
            Some(origin) => {
                let due = origin + Duration::from_secs_f64(sent as f64 / throughput);
                if let Some(ahead) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(ahead);
                }
                due
            }
            None => Instant::now(),
        };
        let send_ns = send_start.saturating_duration_since(start).as_nanos() as u64;
        match producer.send_reported(record, (send_ns << OPAQUE_BYTES_BITS) | bytes) {
            Ok(_) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => shared.note_error("send refused", e.error()),
        }
        if open_loop.is_none() {
            throttler.throttle(sent as u64 + 1);
        }
    }
}

// -- main ----------------------------------------------------------------------------------------------

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
            eprintln!("perf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<ExitCode, BoxError> {
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

    // Kept alive until the producer is closed.
    let mut cluster: Option<MockCluster> = None;
    let bootstrap = match &args.bootstrap {
        Some(b) => b.clone(),
        None => {
            let c = MockCluster::builder().brokers(1).null_sink(true).build()?;
            c.create_topic(&args.topic, args.partitions, 1)?;
            let b = c.bootstrap_servers();
            println!(
                "No --bootstrap-server: using the embedded mock cluster (1 broker, null sink) at {b}, \
                 topic {} with {} partition(s).",
                args.topic, args.partitions
            );
            cluster = Some(c);
            b
        }
    };
    let using_mock = cluster.is_some();

    let mut props: Vec<(String, String)> = vec![("bootstrap.servers".to_owned(), bootstrap)];
    for (key, value) in [
        ("acks", &args.acks),
        ("compression.type", &args.compression),
        ("linger.ms", &args.linger_ms),
        ("batch.size", &args.batch_size),
    ] {
        if let Some(v) = value {
            props.push((key.to_owned(), v.clone()));
        }
    }
    props.extend(args.producer_props.iter().cloned());
    let config = ProducerConfig::from_properties(props)?;
    let shared = Arc::new(Shared {
        start: OnceLock::new(),
        open_loop: args.open_loop,
        stats: Mutex::new(Stats::new(args.num_records, Instant::now(), args.open_loop)),
        accepted: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    let handler_shared = Arc::clone(&shared);
    let producer = Arc::new(
        Producer::builder(config)
            .on_delivery(move |opaque, result| handler_shared.on_delivery(opaque, result))
            .build()?,
    );

    let ticks = clock_ticks_per_sec();
    let cpu_before = cpu_times(ticks);
    let start = Instant::now();
    let _ = shared.start.set(start);
    shared.stats.lock().window_start = start;
    let topic: Arc<str> = Arc::from(args.topic.as_str());
    let payloads = Arc::new(payloads);
    let per_thread_throughput =
        if args.throughput > 0.0 { args.throughput / args.threads as f64 } else { -1.0 };
    let seed_base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x5EED, |d| d.as_nanos() as u64);

    let mut handles = Vec::new();
    for t in 0..args.threads {
        let lo = args.num_records * t / args.threads;
        let hi = args.num_records * (t + 1) / args.threads;
        let job = Job {
            producer: Arc::clone(&producer),
            shared: Arc::clone(&shared),
            topic: Arc::clone(&topic),
            payloads: Arc::clone(&payloads),
            record_size: args.record_size,
            key_pattern: args.key_pattern,
            range: lo..hi,
            throughput: per_thread_throughput,
            seed: seed_base ^ t.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            open_loop: args.open_loop.then_some(start),
        };
        handles.push(std::thread::Builder::new().name(format!("perf-{t}")).spawn(move || run_sender(job))?);
    }
    for h in handles {
        if h.join().is_err() {
            return Err("a sending thread panicked".into());
        }
    }

    // flush waits for every outcome and its callback; the loop below only guards against a lost callback.
    if let Err(e) = producer.flush(Duration::from_secs(300)) {
        eprintln!("flush: {e}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while shared.completed.load(Ordering::Acquire) < shared.accepted.load(Ordering::Relaxed) {
        if Instant::now() >= deadline {
            eprintln!(
                "gave up waiting for callbacks: {} of {} accepted records have none",
                shared.accepted.load(Ordering::Relaxed) - shared.completed.load(Ordering::Acquire),
                shared.accepted.load(Ordering::Relaxed)
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let cpu_after = cpu_times(ticks);

    let sent = {
        let mut stats = shared.stats.lock();
        let end = stats.last_completion.unwrap_or_else(Instant::now);
        stats.print_total(end.duration_since(start));
        if args.open_loop {
            stats.print_open_loop();
        }
        stats.count
    };
    // With the mock cluster the broker threads live in this process, so their CPU is counted too.
    match (cpu_before, cpu_after) {
        (Some((u0, s0)), Some((u1, s1))) => {
            let (user, sys) = (u1 - u0, s1 - s0);
            let per_million = if sent > 0 { (user + sys) * 1e6 / sent as f64 } else { 0.0 };
            println!(
                "client cpu: {user:.2} s user, {sys:.2} s sys, {per_million:.2} s per million records{}",
                if using_mock { " (includes the in-process mock broker)" } else { "" }
            );
        }
        _ => println!("client cpu: unavailable (no /proc/self/stat)"),
    }

    if args.print_metrics {
        // As ProducerPerformance --print-metrics: every metric, `group:name:{tags} : value`.
        print!("{}", producer.metrics());
    }
    if let Err(e) = producer.close(Duration::from_secs(30)) {
        eprintln!("close: {e}");
    }
    drop(producer);
    drop(cluster);

    let failed = shared.failed.load(Ordering::Relaxed);
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
