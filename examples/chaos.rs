//! The producer side of `scripts/chaos`: keyed records into a real Kafka cluster while the script kills,
//! pauses and restarts brokers, with every record's outcome written down for the checker.
//!
//! ```sh
//! cargo run --release --example chaos -- --bootstrap-server HOST:PORT --topic T --out DIR \
//!     [--mode idempotent|transactional] [--records N] [--keys K] [--throughput RECS_PER_SEC] \
//!     [--txn-size N] [--abort-every N] [--producer-props k=v ...]
//! ```
//!
//! Record `i` has key `i % K` and value `<key>:<seq>` with `seq = i / K`, so the value carries a per-key
//! sequence number and the record id is `seq * K + key`; records are sent in id order from one thread
//! with [`Producer::send_reported`] (opaque = id), so per partition Kafka's offset order must be id order.
//! `--throughput` paces sends on a fixed schedule (record `i` is due at `i / R` seconds; behind schedule,
//! sends go as fast as the producer takes them); `-1` (the default) does not pace at all.
//!
//! `--mode transactional` sends transactions of `--txn-size` consecutive ids. A transaction whose commit
//! fails with an abortable error is aborted and sent again with the same ids (the aborted copy stays in
//! the log, invisible to read_committed readers); one whose outcome is unknown (a fatal error, or a
//! commit that never completed) is given up, marked unknown, and the producer is made anew. With
//! `--abort-every N` the first attempt of every Nth transaction is aborted on purpose (after all its
//! records were sent) and then sent again, so the log holds aborted records that read_committed
//! readers must not see.
//!
//! Written to `--out` (binary files little-endian, one entry per record unless said otherwise):
//! `status.u8` (0 no outcome, 1 acknowledged, 2 failed, 3 refused by send, 4 not sent: its transaction
//! was given up before it), `partition.i32` and `offset.i64` (from the acknowledgement), `sent_ms.u32`
//! (ms after the start at the last send), `latency_us.u32` (acknowledged records: µs from send to
//! acknowledgement), `txn.u8` (per transaction: 1 committed, 2 unknown, 0 not attempted), `rate.csv`
//! (per second: sends, acks, failures), `errors.txt` (error kinds with counts, the first failures),
//! `events.txt` (transaction aborts, retries, producer restarts) and `summary.txt` (`key=value` lines:
//! counts, latency percentiles, duration). In transactional mode the per-second failures include the
//! records of aborted attempts still queued at the abort (they fail with `TransactionAborted`). The exit
//! code is 0 when every record got exactly one outcome, even a failed one: judging the log is the
//! checker's job.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kprod::{Error, Producer, ProducerConfig, Record, RecordMetadata};
use parking_lot::Mutex;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const ST_NONE: u8 = 0;
const ST_ACKED: u8 = 1;
const ST_FAILED: u8 = 2;
const ST_REFUSED: u8 = 3;
/// Transactional mode: part of an attempt that gave up before sending it.
const ST_NOT_SENT: u8 = 4;
const TXN_COMMITTED: u8 = 1;
const TXN_UNKNOWN: u8 = 2;
/// The opaque value: record id in the low 40 bits, transaction attempt above.
const ID_BITS: u32 = 40;
/// Per-second buckets kept (four hours).
const BUCKETS: usize = 4 * 3600;
/// Failures listed one by one in `errors.txt`; the rest are only counted by kind.
const LISTED_FAILURES: usize = 50;
/// How long a commit or abort is waited for in total before its outcome counts as unknown.
const TXN_CALL_PATIENCE: Duration = Duration::from_secs(600);
const TXN_CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Idempotent,
    Transactional,
}

#[derive(Debug)]
struct Args {
    bootstrap: String,
    topic: String,
    out: PathBuf,
    mode: Mode,
    records: u64,
    keys: u64,
    throughput: f64,
    txn_size: u64,
    abort_every: u64,
    props: Vec<(String, String)>,
}

fn usage() -> &'static str {
    "usage: chaos --bootstrap-server HOST:PORT --topic T --out DIR [--mode idempotent|transactional] \
     [--records N] [--keys K] [--throughput RECS_PER_SEC] [--txn-size N] [--abort-every N] \
     [--producer-props k=v ...]"
}

fn parse_args() -> Result<Args, BoxError> {
    let mut a = Args {
        bootstrap: String::new(),
        topic: String::new(),
        out: PathBuf::new(),
        mode: Mode::Idempotent,
        records: 1_000_000,
        keys: 1000,
        throughput: -1.0,
        txn_size: 1000,
        abort_every: 0,
        props: Vec::new(),
    };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(flag) = it.next() {
        if flag == "--producer-props" {
            while let Some(kv) = it.next_if(|w| !w.starts_with("--")) {
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| format!("--producer-props: not k=v: {kv:?}"))?;
                a.props.push((k.to_owned(), v.to_owned()));
            }
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(usage().into());
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("{flag}: not a number: {v:?}"));
        match flag.as_str() {
            "--bootstrap-server" => a.bootstrap = v,
            "--topic" => a.topic = v,
            "--out" => a.out = PathBuf::from(v),
            "--mode" => {
                a.mode = match v.as_str() {
                    "idempotent" => Mode::Idempotent,
                    "transactional" => Mode::Transactional,
                    _ => return Err(format!("--mode: idempotent or transactional, not {v:?}").into()),
                }
            }
            "--records" => a.records = num(&v)?,
            "--keys" => a.keys = num(&v)?,
            "--txn-size" => a.txn_size = num(&v)?,
            "--abort-every" => a.abort_every = num(&v)?,
            "--throughput" => a.throughput = v.parse().map_err(|_| format!("--throughput: {v:?}"))?,
            _ => return Err(format!("unknown argument {flag:?}\n{}", usage()).into()),
        }
    }
    if a.bootstrap.is_empty() || a.topic.is_empty() || a.out.as_os_str().is_empty() {
        return Err(usage().into());
    }
    if a.keys == 0 || a.txn_size == 0 || a.records == 0 || a.records >= 1 << ID_BITS {
        return Err("--keys, --txn-size and --records must be positive (records below 2^40)".into());
    }
    Ok(a)
}

/// Everything the sending thread and the delivery handler share.
#[derive(Debug)]
struct Ledger {
    start: Instant,
    start_unix_ms: u128,
    /// Per record: µs since `start` at send; after the acknowledgement, the latency in µs.
    sent_us: Vec<AtomicU64>,
    /// Per record: ms since `start` at its (last) send.
    sent_ms: Vec<AtomicU32>,
    status: Vec<AtomicU8>,
    partition: Vec<AtomicI32>,
    offset: Vec<AtomicI64>,
    /// Per transaction: the attempt whose records are current (the opaque carries the attempt).
    attempt: Vec<AtomicU32>,
    sent_per_sec: Vec<AtomicU64>,
    acked_per_sec: Vec<AtomicU64>,
    failed_per_sec: Vec<AtomicU64>,
    /// Outcomes for a record that already had one, or for an attempt no longer current: each is a
    /// broken promise (exactly one outcome per record).
    extra_outcomes: AtomicU64,
    errors: Mutex<Errors>,
    txn_size: u64,
}

#[derive(Debug, Default)]
struct Errors {
    by_kind: BTreeMap<String, u64>,
    listed: Vec<String>,
}

fn atomics<T>(n: usize, f: impl Fn() -> T) -> Vec<T> {
    (0..n).map(|_| f()).collect()
}

impl Ledger {
    fn new(records: u64, txn_size: u64) -> Self {
        let n = records as usize;
        let txns = records.div_ceil(txn_size) as usize;
        Ledger {
            start: Instant::now(),
            start_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()),
            sent_us: atomics(n, || AtomicU64::new(0)),
            sent_ms: atomics(n, || AtomicU32::new(0)),
            status: atomics(n, || AtomicU8::new(ST_NONE)),
            partition: atomics(n, || AtomicI32::new(-1)),
            offset: atomics(n, || AtomicI64::new(-1)),
            attempt: atomics(txns, || AtomicU32::new(0)),
            sent_per_sec: atomics(BUCKETS, || AtomicU64::new(0)),
            acked_per_sec: atomics(BUCKETS, || AtomicU64::new(0)),
            failed_per_sec: atomics(BUCKETS, || AtomicU64::new(0)),
            extra_outcomes: AtomicU64::new(0),
            errors: Mutex::new(Errors::default()),
            txn_size,
        }
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn bucket(&self, v: &[AtomicU64]) {
        let s = (self.start.elapsed().as_secs() as usize).min(BUCKETS - 1);
        v[s].fetch_add(1, Ordering::Relaxed);
    }

    fn note_error(&self, id: u64, what: &str, e: &Error) {
        let kind: String = e.to_string().chars().take(100).collect();
        let mut errs = self.errors.lock();
        *errs.by_kind.entry(format!("{what}: {kind}")).or_insert(0) += 1;
        if errs.listed.len() < LISTED_FAILURES {
            let t = self.start.elapsed().as_secs_f64();
            errs.listed.push(format!("t={t:.3}s record {id} {what}: {e}"));
        }
    }

    /// The delivery handler (on the producer's callback thread).
    fn on_delivery(&self, opaque: u64, result: Result<RecordMetadata, Error>) {
        let id = opaque & ((1 << ID_BITS) - 1);
        let attempt = (opaque >> ID_BITS) as u32;
        let i = id as usize;
        let txn = (id / self.txn_size) as usize;
        let (Some(status), Some(current)) = (self.status.get(i), self.attempt.get(txn)) else {
            self.extra_outcomes.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if current.load(Ordering::Acquire) != attempt || status.load(Ordering::Acquire) != ST_NONE {
            self.extra_outcomes.fetch_add(1, Ordering::Relaxed);
            self.note_error(id, "extra outcome", &Error::IllegalState(format!("{result:?}")));
            return;
        }
        match result {
            Ok(m) => {
                let lat = self.now_us().saturating_sub(self.sent_us[i].load(Ordering::Relaxed));
                self.sent_us[i].store(lat, Ordering::Relaxed);
                self.partition[i].store(m.topic_partition.partition, Ordering::Relaxed);
                self.offset[i].store(m.offset, Ordering::Relaxed);
                status.store(ST_ACKED, Ordering::Release);
                self.bucket(&self.acked_per_sec);
            }
            Err(e) => {
                self.note_error(id, "failed", &e);
                status.store(ST_FAILED, Ordering::Release);
                self.bucket(&self.failed_per_sec);
            }
        }
    }

    fn count(&self, st: u8) -> u64 {
        self.status.iter().filter(|s| s.load(Ordering::Acquire) == st).count() as u64
    }
}

/// Record `id`'s key and value: `key = id % keys`, value `<key>:<seq>`.
struct Encoder {
    keys: u64,
    key: String,
    value: String,
}

impl Encoder {
    fn encode(&mut self, id: u64) -> (&[u8], &[u8]) {
        let (k, seq) = (id % self.keys, id / self.keys);
        self.key.clear();
        self.value.clear();
        let _ = write!(self.key, "{k}");
        let _ = write!(self.value, "{k}:{seq}");
        (self.key.as_bytes(), self.value.as_bytes())
    }
}

/// Sleeps until record `id` is due, when pacing.
fn pace(start: Instant, id: u64, throughput: f64) {
    if throughput <= 0.0 || id % 100 != 0 {
        return;
    }
    let due = Duration::from_secs_f64(id as f64 / throughput);
    if let Some(wait) = due.checked_sub(start.elapsed()) {
        std::thread::sleep(wait);
    }
}

fn make_producer(args: &Args, ledger: &Arc<Ledger>, txn_id: Option<&str>) -> Result<Producer, BoxError> {
    let mut props: Vec<(String, String)> = vec![
        ("bootstrap.servers".into(), args.bootstrap.clone()),
        // Records must outlive a broker outage, and sends must not be refused while memory is full.
        ("delivery.timeout.ms".into(), "300000".into()),
        ("max.block.ms".into(), "300000".into()),
    ];
    if let Some(id) = txn_id {
        props.push(("transactional.id".into(), id.into()));
    }
    props.extend(args.props.iter().cloned());
    let config = ProducerConfig::from_properties(props)?;
    let l = Arc::clone(ledger);
    Ok(Producer::builder(config).on_delivery(move |opaque, r| l.on_delivery(opaque, r)).build()?)
}

/// Progress: `<out>/progress` (`sent acked failed`) rewritten every second, for `scripts/chaos` to time
/// its faults by; a line on stderr every 5 s. Until `stop`.
fn progress(ledger: Arc<Ledger>, out: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut tick = 0u64;
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_secs(1));
            tick += 1;
            let s = (ledger.start.elapsed().as_secs() as usize).min(BUCKETS - 1);
            let sum = |v: &[AtomicU64]| v[..=s].iter().map(|x| x.load(Ordering::Relaxed)).sum::<u64>();
            let (sent, acked, failed) =
                (sum(&ledger.sent_per_sec), sum(&ledger.acked_per_sec), sum(&ledger.failed_per_sec));
            let tmp = out.join("progress.tmp");
            if std::fs::write(&tmp, format!("{sent} {acked} {failed}\n")).is_ok() {
                let _ = std::fs::rename(&tmp, out.join("progress"));
            }
            if tick % 5 == 0 {
                let win = v_window(&ledger.acked_per_sec, s);
                eprintln!("chaos: t={s}s sent {sent} acked {acked} failed {failed} ({win} acks/s over the last 5 s)");
            }
        }
    })
}

fn v_window(v: &[AtomicU64], s: usize) -> u64 {
    v[s.saturating_sub(5)..s].iter().map(|x| x.load(Ordering::Relaxed)).sum::<u64>() / 5
}

/// Sends record `id` (attempt `attempt`); a refused send is marked so and its error returned.
fn send_one(
    p: &Producer,
    args: &Args,
    ledger: &Ledger,
    enc: &mut Encoder,
    id: u64,
    attempt: u32,
) -> Result<(), Error> {
    let (k, v) = enc.encode(id);
    let i = id as usize;
    let now = ledger.now_us();
    ledger.sent_us[i].store(now, Ordering::Relaxed);
    ledger.sent_ms[i].store(u32::try_from(now / 1000).unwrap_or(u32::MAX), Ordering::Relaxed);
    ledger.status[i].store(ST_NONE, Ordering::Release);
    let opaque = id | (u64::from(attempt) << ID_BITS);
    match p.send_reported(Record::new(args.topic.as_str()).key(k).value(v), opaque) {
        Ok(_) => {
            ledger.bucket(&ledger.sent_per_sec);
            Ok(())
        }
        Err(refused) => {
            let e = refused.error().clone();
            ledger.note_error(id, "refused", &e);
            ledger.status[i].store(ST_REFUSED, Ordering::Release);
            Err(e)
        }
    }
}

fn run_idempotent(args: &Args, ledger: &Arc<Ledger>, events: &mut Vec<String>) -> Result<(), BoxError> {
    let p = make_producer(args, ledger, None)?;
    let mut enc = Encoder { keys: args.keys, key: String::new(), value: String::new() };
    for id in 0..args.records {
        pace(ledger.start, id, args.throughput);
        let _ = send_one(&p, args, ledger, &mut enc, id, 0);
    }
    events.push(format!(
        "t={:.3}s all {} records sent; flushing",
        ledger.start.elapsed().as_secs_f64(),
        args.records
    ));
    p.flush(Duration::from_secs(900))?;
    p.close(Duration::from_secs(60))?;
    Ok(())
}

/// Calls `op` until it returns something other than a timeout, up to [`TXN_CALL_PATIENCE`].
fn patiently(mut op: impl FnMut() -> Result<(), Error>) -> Result<(), Error> {
    let start = Instant::now();
    loop {
        match op() {
            Err(Error::Timeout(m)) if start.elapsed() < TXN_CALL_PATIENCE => {
                eprintln!("chaos: timed out ({m}); waiting again");
            }
            r => return r,
        }
    }
}

struct TxnStats {
    committed: u64,
    /// Attempts aborted because something failed, and (`--abort-every`) on purpose; both retried.
    aborted_attempts: u64,
    aborted_on_purpose: u64,
    /// Records of aborted attempts that were sent, and that were acknowledged (so are in the log).
    aborted_sent: u64,
    aborted_acked: u64,
    unknown: u64,
    producers: u64,
    commit_us: Vec<u64>,
}

fn run_transactional(
    args: &Args,
    ledger: &Arc<Ledger>,
    txn_status: &mut [u8],
    events: &mut Vec<String>,
) -> Result<TxnStats, BoxError> {
    let txn_id = format!("chaos-{}", std::process::id());
    let t = |l: &Ledger| l.start.elapsed().as_secs_f64();
    let new_producer = |events: &mut Vec<String>| -> Result<Producer, BoxError> {
        let p = make_producer(args, ledger, Some(&txn_id))?;
        patiently(|| p.init_transactions(TXN_CALL_TIMEOUT))?;
        events.push(format!(
            "t={:.3}s producer for {txn_id} initialised (protocol v{})",
            t(ledger),
            p.transaction_protocol_version().unwrap_or(0)
        ));
        Ok(p)
    };
    let mut st = TxnStats {
        committed: 0,
        aborted_attempts: 0,
        aborted_on_purpose: 0,
        aborted_sent: 0,
        aborted_acked: 0,
        unknown: 0,
        producers: 1,
        commit_us: Vec::new(),
    };
    let mut p = new_producer(events)?;
    let mut enc = Encoder { keys: args.keys, key: String::new(), value: String::new() };
    let txns = args.records.div_ceil(args.txn_size);
    for txn in 0..txns {
        let ids = txn * args.txn_size..((txn + 1) * args.txn_size).min(args.records);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            ledger.attempt[txn as usize].store(attempt, Ordering::Release);
            for id in ids.clone() {
                ledger.status[id as usize].store(ST_NOT_SENT, Ordering::Release);
            }
            p.begin_transaction()?;
            let mut failure: Option<Error> = None;
            for id in ids.clone() {
                pace(ledger.start, id, args.throughput);
                if let Err(e) = send_one(&p, args, ledger, &mut enc, id, attempt) {
                    failure = Some(e);
                    break;
                }
            }
            // `--abort-every N`: the first attempt of every Nth transaction is aborted on purpose.
            let on_purpose = failure.is_none()
                && attempt == 1
                && args.abort_every > 0
                && txn % args.abort_every == args.abort_every - 1;
            let commit_start = Instant::now();
            let outcome = match failure {
                Some(e) => Err(e),
                None if on_purpose => Err(Error::TransactionAborted),
                None => patiently(|| p.commit_transaction(TXN_CALL_TIMEOUT)),
            };
            match outcome {
                Ok(()) => {
                    st.commit_us.push(commit_start.elapsed().as_micros() as u64);
                    txn_status[txn as usize] = TXN_COMMITTED;
                    st.committed += 1;
                    break;
                }
                Err(e) if e.txn_requires_abort() => {
                    if !on_purpose {
                        events
                            .push(format!("t={:.3}s txn {txn} attempt {attempt}: {e}; aborting", t(ledger)));
                    }
                    match patiently(|| p.abort_transaction(TXN_CALL_TIMEOUT)) {
                        Ok(()) => {
                            // Aborted for certain (every outcome is in: abort waits for records in
                            // flight): the same ids go again in a new transaction.
                            for id in ids.clone() {
                                match ledger.status[id as usize].load(Ordering::Acquire) {
                                    ST_NOT_SENT => {}
                                    ST_ACKED => {
                                        st.aborted_sent += 1;
                                        st.aborted_acked += 1;
                                    }
                                    _ => st.aborted_sent += 1,
                                }
                            }
                            if on_purpose {
                                st.aborted_on_purpose += 1;
                            } else {
                                st.aborted_attempts += 1;
                                events.push(format!(
                                    "t={:.3}s txn {txn} attempt {attempt} aborted; retrying",
                                    t(ledger)
                                ));
                            }
                        }
                        Err(e2) => {
                            events.push(format!(
                                "t={:.3}s txn {txn} attempt {attempt}: abort failed ({e2}); \
                                                 outcome unknown, new producer",
                                t(ledger)
                            ));
                            txn_status[txn as usize] = TXN_UNKNOWN;
                            st.unknown += 1;
                            let _ = p.close(Duration::ZERO);
                            p = new_producer(events)?;
                            st.producers += 1;
                            break;
                        }
                    }
                }
                Err(e) => {
                    // Fatal, or a commit that never completed: the outcome is not known.
                    events.push(format!(
                        "t={:.3}s txn {txn} attempt {attempt}: {e}; outcome unknown, new producer",
                        t(ledger)
                    ));
                    txn_status[txn as usize] = TXN_UNKNOWN;
                    st.unknown += 1;
                    let _ = p.close(Duration::ZERO);
                    p = new_producer(events)?;
                    st.producers += 1;
                    break;
                }
            }
        }
    }
    events.push(format!("t={:.3}s all {txns} transactions done", t(ledger)));
    p.close(Duration::from_secs(60))?;
    Ok(st)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), BoxError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((p * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.out)?;
    let txn_size = if args.mode == Mode::Transactional { args.txn_size } else { args.records };
    let ledger = Arc::new(Ledger::new(args.records, txn_size));
    let stop = Arc::new(AtomicBool::new(false));
    let reporter = progress(Arc::clone(&ledger), args.out.clone(), Arc::clone(&stop));
    let mut events = Vec::new();
    let mut txn_status = vec![0u8; args.records.div_ceil(txn_size) as usize];
    eprintln!(
        "chaos: {:?} producer, {} records to {} ({} keys)",
        args.mode, args.records, args.topic, args.keys
    );
    let result = match args.mode {
        Mode::Idempotent => run_idempotent(&args, &ledger, &mut events).map(|()| None),
        Mode::Transactional => run_transactional(&args, &ledger, &mut txn_status, &mut events).map(Some),
    };
    let elapsed = ledger.start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = reporter.join();
    if let Err(e) = &result {
        events.push(format!("t={:.3}s run ended with an error: {e}", elapsed.as_secs_f64()));
    }

    // The ledger, for the checker.
    let out = &args.out;
    let status: Vec<u8> = ledger.status.iter().map(|s| s.load(Ordering::Acquire)).collect();
    write_file(out, "status.u8", &status)?;
    let part: Vec<u8> =
        ledger.partition.iter().flat_map(|p| p.load(Ordering::Relaxed).to_le_bytes()).collect();
    write_file(out, "partition.i32", &part)?;
    let off: Vec<u8> = ledger.offset.iter().flat_map(|o| o.load(Ordering::Relaxed).to_le_bytes()).collect();
    write_file(out, "offset.i64", &off)?;
    write_file(out, "txn.u8", &txn_status)?;
    let sent: Vec<u8> = ledger.sent_ms.iter().flat_map(|t| t.load(Ordering::Relaxed).to_le_bytes()).collect();
    write_file(out, "sent_ms.u32", &sent)?;
    // The latency of acknowledged records (µs, at most u32::MAX); other records' slots are meaningless.
    let lat: Vec<u8> = ledger
        .sent_us
        .iter()
        .flat_map(|l| u32::try_from(l.load(Ordering::Relaxed)).unwrap_or(u32::MAX).to_le_bytes())
        .collect();
    write_file(out, "latency_us.u32", &lat)?;
    let last = (elapsed.as_secs() as usize).min(BUCKETS - 1);
    let mut rate = String::from("second,unix_ms,sent,acked,failed\n");
    for s in 0..=last {
        let g = |v: &[AtomicU64]| v[s].load(Ordering::Relaxed);
        let _ = writeln!(
            rate,
            "{s},{},{},{},{}",
            ledger.start_unix_ms + s as u128 * 1000,
            g(&ledger.sent_per_sec),
            g(&ledger.acked_per_sec),
            g(&ledger.failed_per_sec)
        );
    }
    write_file(out, "rate.csv", rate.as_bytes())?;
    let errs = ledger.errors.lock();
    let mut etxt = String::new();
    for (k, n) in &errs.by_kind {
        let _ = writeln!(etxt, "{n}\t{k}");
    }
    etxt.push_str("-- first failures --\n");
    for l in &errs.listed {
        let _ = writeln!(etxt, "{l}");
    }
    write_file(out, "errors.txt", etxt.as_bytes())?;
    write_file(out, "events.txt", (events.join("\n") + "\n").as_bytes())?;

    let mut lat: Vec<u64> = ledger
        .status
        .iter()
        .zip(&ledger.sent_us)
        .filter(|(s, _)| s.load(Ordering::Relaxed) == ST_ACKED)
        .map(|(_, l)| l.load(Ordering::Relaxed))
        .collect();
    lat.sort_unstable();
    let (acked, failed, refused, none) =
        (ledger.count(ST_ACKED), ledger.count(ST_FAILED), ledger.count(ST_REFUSED), ledger.count(ST_NONE));
    let not_sent = ledger.count(ST_NOT_SENT);
    let mut s = String::new();
    let _ = writeln!(s, "mode={:?}", args.mode);
    let _ = writeln!(s, "records={}", args.records);
    let _ = writeln!(
        s,
        "acked={acked}\nfailed={failed}\nrefused={refused}\nno_outcome={none}\nnot_sent={not_sent}"
    );
    let _ = writeln!(s, "extra_outcomes={}", ledger.extra_outcomes.load(Ordering::Relaxed));
    let _ = writeln!(s, "duration_s={:.3}", elapsed.as_secs_f64());
    let _ = writeln!(s, "throughput={:.0}", acked as f64 / elapsed.as_secs_f64().max(1e-9));
    for (name, p) in [("p50", 0.5), ("p99", 0.99), ("p999", 0.999)] {
        let _ = writeln!(s, "latency_{name}_us={}", percentile(&lat, p));
    }
    let _ = writeln!(s, "latency_max_us={}", lat.last().copied().unwrap_or(0));
    let _ = writeln!(s, "start_unix_ms={}", ledger.start_unix_ms);
    if let Ok(Some(t)) = &result {
        let mut c = t.commit_us.clone();
        c.sort_unstable();
        let _ = writeln!(
            s,
            "txns={}\ntxn_committed={}\ntxn_aborted_attempts={}\ntxn_aborted_on_purpose={}\n\
             aborted_records_sent={}\naborted_records_acked={}\ntxn_unknown={}\nproducers={}",
            txn_status.len(),
            t.committed,
            t.aborted_attempts,
            t.aborted_on_purpose,
            t.aborted_sent,
            t.aborted_acked,
            t.unknown,
            t.producers
        );
        let _ = writeln!(
            s,
            "commit_p50_us={}\ncommit_p99_us={}\ncommit_max_us={}",
            percentile(&c, 0.5),
            percentile(&c, 0.99),
            c.last().copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        s,
        "result={}",
        match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("error: {e}"),
        }
    );
    write_file(out, "summary.txt", s.as_bytes())?;
    print!("{s}");
    let _ = std::io::stdout().flush();
    result?;
    if none > 0 || ledger.extra_outcomes.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "{none} records without an outcome, {} extra outcomes",
            ledger.extra_outcomes.load(Ordering::Relaxed)
        )
        .into());
    }
    Ok(())
}
