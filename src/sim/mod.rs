//! The deterministic simulator (feature `sim`): the real sender — its network code, drivers and the
//! record accumulator — runs on one thread against the mock cluster's request handlers over a
//! simulated network and clock ([`world`]). A seed decides everything: the scenario (brokers,
//! partitions, producer settings, what the application does and when, purges included) and every
//! fault (brokers crashing and coming back, leaders moving, partitions added, error codes, throttles,
//! connections dropped, answers cut, lost or stalled). After each run the invariants are checked: every send gets
//! exactly one outcome; with idempotence and acks=all nothing acknowledged is lost or duplicated and
//! each partition keeps send order; transactions are all or nothing; memory returns to
//! `buffer.memory`; nothing panics; the producer turns fatal only through a fatal code.
//!
//! `run(&plan(seed))` replays a run exactly; [`shrink`] cuts a failing run's fault schedule down to
//! the faults it needs.

pub mod world;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use self::world::{NetProfile, Rng, SimIo, WireFault, World};
use crate::accumulator::{Callback, Completions, RecordHandle, RecordMetadata};
use crate::config::ProducerConfig;
use crate::error::Error;
use crate::mock::MockCluster;
use crate::producer::Parts;
use crate::protocol::record::NO_HEADERS;
use crate::protocol::{ApiKey, ErrorCode};
use crate::sender::backoff::Jitter;
use crate::sender::metadata::Lookup;
use crate::sender::net::{Network, Wake};
use crate::sender::{parse_bootstrap, Sender, SenderShared};

/// The topic every simulated run produces to.
const TOPIC: &str = "sim";

/// One fault at a point in simulated time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// When.
    pub at: Duration,
    /// What.
    pub kind: FaultKind,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Broker `node` crashes: its connections break, new ones are refused, its leaderships move.
    Crash(i32),
    /// Broker `node` comes back.
    Restart(i32),
    /// The leadership of `partition` moves to `node`.
    MoveLeader {
        /// The partition.
        partition: i32,
        /// Its new leader.
        node: i32,
    },
    /// The topic grows to `total` partitions.
    AddPartitions(i32),
    /// The next Produce requests (for `partition`, or all) get `code` instead of being processed.
    ProduceError {
        /// The partition, or every partition.
        partition: Option<i32>,
        /// The code.
        code: ErrorCode,
        /// How many requests.
        times: usize,
    },
    /// The next InitProducerId, FindCoordinator, AddPartitionsToTxn or EndTxn requests get `code`.
    ApiError {
        /// The API.
        api: ApiKey,
        /// The code.
        code: ErrorCode,
    },
    /// Produce answers carry this throttle time (0 ends it).
    Throttle(i32),
}

impl FaultKind {
    /// The fault's class, for reports.
    pub fn class(&self) -> &'static str {
        match self {
            FaultKind::Crash(_) => "broker crash",
            FaultKind::Restart(_) => "broker restart",
            FaultKind::MoveLeader { .. } => "leader move",
            FaultKind::AddPartitions(_) => "partitions added",
            FaultKind::ProduceError { code, .. } if code.is_fatal() => "fatal error code",
            FaultKind::ProduceError { code, .. } if *code == ErrorCode::MESSAGE_TOO_LARGE => {
                "MESSAGE_TOO_LARGE (split)"
            }
            FaultKind::ProduceError { code, .. } if !code.is_retriable() => "non-retriable error code",
            FaultKind::ProduceError { .. } => "retriable error code",
            FaultKind::ApiError { .. } => "coordinator/init error code",
            FaultKind::Throttle(_) => "throttle",
        }
    }
}

/// What the simulated application does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    /// Sends `records` records, `burst` at a time every `gap`; keyed or to explicit partitions.
    Stream {
        /// Records in all.
        records: usize,
        /// Records per burst.
        burst: usize,
        /// Time between bursts.
        gap: Duration,
        /// Keyed (murmur2) or to a random partition.
        keyed: bool,
        /// A flush after this many bursts (0: never).
        flush_every: usize,
    },
    /// Transactions of `size` records each; every `abort_one_in`-th is aborted.
    Transactions {
        /// How many transactions.
        count: usize,
        /// Records per transaction.
        size: usize,
        /// One transaction in this many is aborted (0: none).
        abort_one_in: usize,
    },
}

/// A run: the scenario and its faults.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed everything random in the run (latencies, chunk sizes, wire faults) comes from.
    pub seed: u64,
    /// Brokers.
    pub brokers: usize,
    /// Partitions at the start.
    pub partitions: i32,
    /// Producer properties (bootstrap servers are added).
    pub props: Vec<(String, String)>,
    /// What the application does.
    pub workload: Workload,
    /// The faults, in time order.
    pub faults: Vec<Fault>,
    /// The network's character.
    pub profile: NetProfile,
    /// When the faults end: crashed brokers come back, queued errors and throttles are cleared and
    /// the wire stops misbehaving. The application then sends a probe (records, or one transaction)
    /// that must succeed: a producer that does not recover is a failing run.
    pub heal_at: Duration,
    /// Simulated time after which the application starts nothing new (and is cut off at twice it).
    pub horizon: Duration,
    /// Keep a trace of every request the brokers saw ([`Report::trace`]); for debugging a seed.
    pub trace: bool,
    /// One application step in this many (a stream's burst, a transaction's sending) first asks for a
    /// purge (`Producer::purge`) of the queue, of what is in flight, or of both; 0: never. Not in the
    /// probe.
    pub purge_one_in: usize,
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The run's seed.
    pub seed: u64,
    /// Records accepted by `send`.
    pub accepted: usize,
    /// Records acknowledged.
    pub acked: usize,
    /// Records that failed.
    pub failed: usize,
    /// Simulated time the run took.
    pub simulated: Duration,
    /// Faults injected, by class (wire faults included).
    pub faults: BTreeMap<String, u64>,
    /// Requests the brokers handled.
    pub requests: u64,
    /// Records that failed, by error.
    pub errors: BTreeMap<String, u64>,
    /// Records acknowledged with acks=1 that a failover dropped (allowed: the leader alone had them).
    pub lost_acks1: usize,
    /// Invariants broken (empty: the run passed).
    pub violations: Vec<String>,
    /// What the simulated application did and saw (transactions), for a failing run.
    pub log: Vec<String>,
    /// Every request the brokers saw, when the plan asked for a trace.
    pub trace: Vec<String>,
}

impl Report {
    /// True when no invariant broke.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Totals over many runs (the test's and `scripts/soak`'s summary).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Runs.
    pub runs: u64,
    /// Runs that broke an invariant, by seed.
    pub failed: Vec<u64>,
    /// Simulated time over all runs.
    pub simulated: Duration,
    /// Records accepted, acknowledged and failed.
    pub accepted: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records that got an error.
    pub errors: u64,
    /// acks=1 records a failover dropped.
    pub lost_acks1: u64,
    /// Requests the brokers handled.
    pub requests: u64,
    /// Faults injected, by class.
    pub faults: BTreeMap<String, u64>,
    /// Records that failed, by error, with the first seed that had one.
    pub errors_by_kind: BTreeMap<String, (u64, u64)>,
}

impl Summary {
    /// Adds one run.
    pub fn add(&mut self, r: &Report) {
        self.runs += 1;
        if !r.passed() {
            self.failed.push(r.seed);
        }
        self.simulated += r.simulated;
        self.accepted += r.accepted as u64;
        self.acked += r.acked as u64;
        self.errors += r.failed as u64;
        self.lost_acks1 += r.lost_acks1 as u64;
        self.requests += r.requests;
        for (k, n) in &r.faults {
            *self.faults.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &r.errors {
            self.errors_by_kind.entry(k.clone()).or_insert((0, r.seed)).0 += n;
        }
    }
}

impl Summary {
    /// Adds another summary's totals (a soak's threads).
    pub fn merge(&mut self, other: &Summary) {
        self.runs += other.runs;
        self.failed.extend(&other.failed);
        self.simulated += other.simulated;
        self.accepted += other.accepted;
        self.acked += other.acked;
        self.errors += other.errors;
        self.lost_acks1 += other.lost_acks1;
        self.requests += other.requests;
        for (k, n) in &other.faults {
            *self.faults.entry(k.clone()).or_default() += n;
        }
        for (k, (n, seed)) in &other.errors_by_kind {
            let e = self.errors_by_kind.entry(k.clone()).or_insert((0, *seed));
            e.0 += n;
            e.1 = e.1.min(*seed);
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "runs: {}, failed: {} {:?}", self.runs, self.failed.len(), self.failed)?;
        writeln!(f, "simulated: {:.2} h", self.simulated.as_secs_f64() / 3600.0)?;
        writeln!(
            f,
            "records: {} accepted, {} acknowledged, {} failed; {} acks=1 records lost in failovers (allowed)",
            self.accepted, self.acked, self.errors, self.lost_acks1
        )?;
        for (k, (n, seed)) in &self.errors_by_kind {
            writeln!(f, "  failed with {k}: {n} (first in seed {seed})")?;
        }
        writeln!(f, "requests handled: {}", self.requests)?;
        let total: u64 = self.faults.values().sum();
        writeln!(f, "faults injected: {total}")?;
        for (k, n) in &self.faults {
            writeln!(f, "  {k}: {n}")?;
        }
        Ok(())
    }
}

/// The scenario seed `seed` stands for: a random cluster, producer settings, workload and faults.
pub fn plan(seed: u64) -> Plan {
    let mut r = Rng::new(seed ^ 0x5EED_5EED_5EED_5EED);
    let brokers = 1 + r.below(3) as usize;
    let partitions = 1 + r.below(4) as i32;
    let transactional = r.chance(0.25);
    let idempotent = transactional || r.chance(0.7);
    let acks = if idempotent { "all" } else { ["0", "1", "all"][r.below(3) as usize] };
    let in_flight = if idempotent {
        1 + r.below(5)
    } else if r.chance(0.5) {
        1
    } else {
        5
    };
    let mut props = vec![
        ("acks", acks.to_string()),
        ("enable.idempotence", idempotent.to_string()),
        ("max.in.flight.requests.per.connection", in_flight.to_string()),
        ("linger.ms", r.below(8).to_string()),
        ("batch.size", [512, 2048, 16384][r.below(3) as usize].to_string()),
        ("buffer.memory", (1 << 20).to_string()),
        ("request.timeout.ms", "1500".into()),
        ("delivery.timeout.ms", "30000".into()),
        ("retry.backoff.ms", (5 + r.below(50)).to_string()),
        ("retry.backoff.max.ms", (100 + r.below(900)).to_string()),
        ("reconnect.backoff.ms", (5 + r.below(50)).to_string()),
        ("max.block.ms", "0".into()),
        ("metadata.max.age.ms", (200 + r.below(2000)).to_string()),
    ];
    if transactional {
        props.push(("transactional.id", format!("sim-{seed}")));
    }
    let workload = if transactional {
        Workload::Transactions {
            count: 2 + r.below(6) as usize,
            size: 5 + r.below(60) as usize,
            abort_one_in: r.below(4) as usize,
        }
    } else {
        Workload::Stream {
            records: 500 + r.below(2500) as usize,
            burst: 1 + r.below(40) as usize,
            gap: Duration::from_micros(100 + r.below(5000)),
            keyed: r.chance(0.5),
            flush_every: r.below(6) as usize,
        }
    };
    // Faults fall while the application works: over the stream's span, or a few hundred
    // milliseconds per transaction.
    let window = match &workload {
        Workload::Stream { records, burst, gap, .. } => *gap * (records / burst + 1) as u32,
        Workload::Transactions { count, .. } => Duration::from_millis(300) * *count as u32,
    }
    .max(Duration::from_millis(300));
    let heal_at = window + Duration::from_millis(500);
    let horizon = heal_at + Duration::from_secs(10);
    let mut faults = Vec::new();
    let n_faults = 10 + r.below(40) as usize;
    // One plan in twenty also gets one fatal error code.
    let fatal_plan = r.chance(0.05);
    let mut fatal_used = false;
    for _ in 0..n_faults {
        let at = r.between(Duration::ZERO, window);
        let node = 1 + r.below(brokers as u64) as i32;
        let kind = match r.below(10) {
            0 | 1 if brokers > 1 => {
                let back = at + r.between(Duration::from_millis(50), Duration::from_millis(1500));
                faults.push(Fault { at: back, kind: FaultKind::Restart(node) });
                FaultKind::Crash(node)
            }
            2 => FaultKind::MoveLeader { partition: r.below(partitions as u64) as i32, node },
            3 if r.chance(0.3) => FaultKind::AddPartitions(partitions + 1 + r.below(2) as i32),
            4 => {
                // A throttle for a while (the broker's quota recovers).
                let end = at + r.between(Duration::from_millis(100), Duration::from_millis(2000));
                faults.push(Fault { at: end, kind: FaultKind::Throttle(0) });
                FaultKind::Throttle(1 + r.below(200) as i32)
            }
            5 if transactional => {
                let api = [
                    ApiKey::FIND_COORDINATOR,
                    ApiKey::ADD_PARTITIONS_TO_TXN,
                    ApiKey::END_TXN,
                    ApiKey::INIT_PRODUCER_ID,
                ][r.below(4) as usize];
                let code = [
                    ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
                    ErrorCode::NOT_COORDINATOR,
                    ErrorCode::CONCURRENT_TRANSACTIONS,
                ][r.below(3) as usize];
                FaultKind::ApiError { api, code }
            }
            _ => {
                // Any code of the error table (Kafka 4.4.0's): mostly retriable ones, some that fail
                // the batch (MESSAGE_TOO_LARGE splits it), and in a few plans a fatal one. Never
                // DUPLICATE_SEQUENCE_NUMBER: it claims a write that did not happen.
                let pick = |r: &mut Rng, f: &dyn Fn(ErrorCode) -> bool| {
                    let codes: Vec<ErrorCode> = ErrorCode::ALL
                        .iter()
                        .copied()
                        .filter(|&c| {
                            c != ErrorCode::NONE && c != ErrorCode::DUPLICATE_SEQUENCE_NUMBER && f(c)
                        })
                        .collect();
                    codes[r.below(codes.len() as u64) as usize]
                };
                let code = match r.below(100) {
                    _ if fatal_plan && !fatal_used => {
                        fatal_used = true;
                        pick(&mut r, &|c| c.is_fatal())
                    }
                    0..=84 => pick(&mut r, &|c| c.is_retriable()),
                    85..=92 => ErrorCode::MESSAGE_TOO_LARGE,
                    _ => pick(&mut r, &|c| !c.is_retriable() && !c.is_fatal()),
                };
                let partition = r.chance(0.5).then(|| r.below(partitions as u64) as i32);
                FaultKind::ProduceError { partition, code, times: 1 + r.below(2) as usize }
            }
        };
        faults.push(Fault { at, kind });
    }
    faults.sort_by_key(|f| f.at);
    let mut wire = Vec::new();
    for f in [
        WireFault::DropBefore,
        WireFault::DropAfter,
        WireFault::CutAnswer,
        WireFault::AnswerThenClose,
        WireFault::Stall,
    ] {
        if r.chance(0.4) {
            wire.push((f, r.below(40) as f64 / 1000.0));
        }
    }
    let profile = NetProfile {
        latency: (Duration::from_micros(50 + r.below(500)), Duration::from_millis(1 + r.below(15))),
        faults: wire,
        max_chunk: [7, 64, 512, 65536][r.below(4) as usize],
    };
    // Drawn from a generator of its own, so the rest of a seed's plan is what it was before purges.
    let mut pr = Rng::new(seed ^ 0x9095_0000_9095_u64);
    let purge_one_in = if pr.chance(0.3) { 3 + pr.below(40) as usize } else { 0 };
    Plan {
        seed,
        purge_one_in,
        brokers,
        partitions,
        props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        workload,
        faults,
        profile,
        heal_at,
        horizon,
        trace: false,
    }
}

/// One record the application sent.
#[derive(Debug)]
struct Sent {
    /// Its id (the value it carries).
    id: u64,
    handle: RecordHandle,
    /// The transaction it belongs to (transactional workloads).
    txn: Option<usize>,
}

/// The outcomes callbacks reported, by record id.
type Outcomes = Arc<Mutex<BTreeMap<u64, Vec<Result<RecordMetadata, Error>>>>>;

/// Runs `plan` to its end and checks the invariants. Deterministic: the same plan gives the same
/// report.
pub fn run(plan: &Plan) -> Report {
    let mut report = Report { seed: plan.seed, ..Report::default() };
    let outcome = catch_unwind(AssertUnwindSafe(|| simulate(plan, &mut report)));
    if let Err(p) = outcome {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        report.violations.push(format!("panicked: {msg}"));
    }
    report
}

/// Cuts `plan`'s faults down to a smallest set that still fails (one at a time, while the run still
/// breaks an invariant). Returns the plan unchanged when it passes.
pub fn shrink(plan: &Plan) -> Plan {
    let mut best = plan.clone();
    if run(&best).passed() {
        return best;
    }
    let mut i = 0;
    while i < best.faults.len() {
        let mut candidate = best.clone();
        candidate.faults.remove(i);
        if run(&candidate).passed() {
            i += 1;
        } else {
            best = candidate;
        }
    }
    for k in 0..best.profile.faults.len() {
        let mut candidate = best.clone();
        candidate.profile.faults.remove(k);
        if !run(&candidate).passed() {
            return shrink(&candidate);
        }
    }
    best
}

fn simulate(plan: &Plan, report: &mut Report) {
    let mut cluster =
        MockCluster::builder().brokers(plan.brokers).min_insync_replicas(1).auto_create_topics(false);
    cluster = cluster.default_replication_factor(plan.brokers.min(3) as i16).lossy_failover(true);
    let cluster = cluster.build_headless();
    let rf = i16::try_from(plan.brokers.min(3)).unwrap_or(1);
    if let Err(e) = cluster.create_topic(TOPIC, plan.partitions, rf) {
        report.violations.push(format!("setting up: {e}"));
        return;
    }
    let bootstrap: Vec<String> = (1..=plan.brokers).map(|n| format!("10.0.0.{n}:9092")).collect();
    let mut props = plan.props.clone();
    props.push(("bootstrap.servers".into(), bootstrap.join(",")));
    let config = match ProducerConfig::from_properties(props) {
        Ok(c) => c,
        Err(e) => {
            report.violations.push(format!("bad plan: {e}"));
            return;
        }
    };
    let world = Rc::new(RefCell::new(World::new(cluster, plan.profile.clone(), plan.seed)));
    if plan.trace {
        world.borrow_mut().trace = Some(Vec::new());
    }
    let base = world.borrow().base;
    let Ok(boot) = parse_bootstrap(&bootstrap) else { return };
    let parts = Parts::new(&config, boot, Arc::from("sim-producer"));
    let wake = Arc::new(Wake::new(None));
    let shared: Arc<SenderShared> = parts.shared(&config, wake);
    let net = Network::with_io(
        SimIo(Rc::clone(&world)),
        crate::sender::net_config(&parts.sender),
        Arc::clone(&parts.metadata),
        Jitter::new(plan.seed ^ 0x9),
    );
    let (tx, rx) = crossbeam_channel::unbounded::<Completions>();
    let mut sender = Sender::new(parts.sender.clone(), Arc::clone(&shared), net, tx, base);
    sender.seed(plan.seed);
    let acc = Arc::clone(&parts.accumulator);
    let metadata = Arc::clone(&parts.metadata);
    let outcomes: Outcomes = Arc::default();
    let mut sent: Vec<Sent> = Vec::new();
    let mut app = App::new(plan, &config);
    let mut faults = plan.faults.iter().peekable();
    let mut injected_fatal = false;
    let mut healed = false;
    let mut closing_at: Option<Duration> = None;
    let delivery_timeout = config.delivery_timeout();
    let mut spins = 0u32;
    loop {
        let now = world.borrow().now;
        let instant = base + now;
        if !healed && now >= plan.heal_at {
            healed = true;
            world.borrow_mut().heal();
        }
        while let Some(f) = faults.next_if(|f| f.at <= now) {
            *report.faults.entry(f.kind.class().to_string()).or_default() += 1;
            injected_fatal |= matches!(&f.kind, FaultKind::ProduceError { code, .. } if code.is_fatal());
            apply(&mut world.borrow_mut(), &f.kind);
        }
        let app_next = if closing_at.is_none() {
            app.step(now, instant, &acc, &metadata, &shared, &outcomes, &mut sent)
        } else {
            None
        };
        // The application winds down at the horizon (no new transaction; an open one is aborted; one
        // ending is waited for) and is cut off at twice the horizon.
        if closing_at.is_none() && (app.done() || now >= plan.horizon * 2) {
            app.cut_off();
            acc.close();
            shared.closing.store(true, Ordering::Release);
            closing_at = Some(now);
        }
        // The sender's loop as `Sender::run` has it: a turn, then a poll for the turn's timeout (the
        // only place time passes), then the events the poll brought, then the next turn at once.
        let timeout = sender.turn(instant);
        run_callbacks(&rx);
        if let Some(at) = closing_at {
            if sender.is_idle() {
                break;
            }
            if now >= at + delivery_timeout + Duration::from_secs(5) {
                // Java's close(timeout) expired: fail what is left.
                sender.force_close();
                run_callbacks(&rx);
                break;
            }
        }
        let wake = if timeout.is_zero() {
            // The loop asked to go again at once: allow it, but not forever at one instant.
            spins += 1;
            if spins > 10_000 {
                if !report.violations.iter().any(|v| v.starts_with("the sender spun")) {
                    report.violations.push(format!("the sender spun at {now:?} without time passing"));
                }
                spins = 0;
                now + Duration::from_millis(1)
            } else {
                now
            }
        } else {
            spins = 0;
            // Something else wakes the poll earlier: bytes arriving, the application (its sends
            // wake the sender), a fault.
            [
                Some(now + timeout.min(Duration::from_secs(1))),
                world.borrow().next_event(),
                app_next,
                faults.peek().map(|f| f.at),
                (!healed).then_some(plan.heal_at),
            ]
            .into_iter()
            .flatten()
            .filter(|&t| t > now)
            .min()
            .unwrap_or(now + Duration::from_millis(1))
        };
        world.borrow_mut().now = wake;
        let after = base + wake;
        sender.net_mut().poll(Duration::ZERO, || after);
        sender.handle_events(after);
        run_callbacks(&rx);
    }
    drop(sender);
    run_callbacks(&rx);
    let w = world.borrow();
    report.simulated = w.now;
    report.requests = w.stats.requests;
    for (k, v) in &w.stats.wire_faults {
        *report.faults.entry(format!("wire: {k}")).or_default() += v;
    }
    check(plan, &config, &w.cluster, &shared, &sent, &outcomes, &app, injected_fatal, report);
    report.log = std::mem::take(&mut app.log);
    report.trace = w.trace.clone().unwrap_or_default();
}

fn run_callbacks(rx: &crossbeam_channel::Receiver<Completions>) {
    for completions in rx.try_iter() {
        for (callback, outcome) in completions {
            if let Callback::Fn(f) = callback {
                f(outcome);
            }
        }
    }
}

fn apply(w: &mut World, kind: &FaultKind) {
    match kind {
        FaultKind::Crash(node) => {
            // Keep one broker up: a cluster with none cannot make progress at all.
            if w.down.len() + 1 < w.cluster.with_state(|st| st.brokers.len()) {
                w.crash(*node);
            }
        }
        FaultKind::Restart(node) => w.restart(*node),
        FaultKind::MoveLeader { partition, node } => {
            if !w.down.contains(node) {
                w.cluster.with_state(|st| {
                    if let Some(p) = st.partition_mut(TOPIC, *partition) {
                        if !p.replicas.contains(node) {
                            p.replicas.push(*node);
                        }
                        if !p.isr.contains(node) {
                            p.isr.push(*node);
                        }
                        p.leader = *node;
                        p.leader_epoch += 1;
                    }
                });
            }
        }
        FaultKind::AddPartitions(total) => {
            let _ = w.cluster.add_partitions(TOPIC, *total);
        }
        FaultKind::ProduceError { partition, code, times } => {
            let codes = vec![*code; *times];
            w.cluster.push_errors(ApiKey::PRODUCE, partition.map(|p| (TOPIC, p)), &codes);
        }
        FaultKind::ApiError { api, code } => {
            w.cluster.push_errors(*api, None, &[*code]);
        }
        FaultKind::Throttle(ms) => {
            w.cluster.set_throttle(ApiKey::PRODUCE, *ms);
        }
    }
}

/// The acknowledged records that `keep` selects in send order, and the same records in the order of
/// their first copies in `stored`.
fn send_and_stored_order(
    records: &[(u64, i64)],
    stored: &[u64],
    keep: impl Fn(&u64) -> bool,
) -> (Vec<u64>, Vec<u64>) {
    let want: Vec<u64> = records.iter().map(|(id, _)| *id).filter(|id| keep(id)).collect();
    let wanted: BTreeSet<u64> = want.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let got = stored.iter().copied().filter(|id| wanted.contains(id) && seen.insert(*id)).collect();
    (want, got)
}

/// What a failing run's report says: its violations, the fault schedule shrunk to what it needs, the
/// application's log and the command that replays it.
pub fn failure_report(report: &Report) -> String {
    let small = shrink(&plan(report.seed));
    format!(
        "seed {} FAILED:\n  {}\n  replay: KPROD_SIM_SEED={} cargo test --profile sim --features sim --test sim\n  shrunk fault schedule: {:?}\n  wire faults: {:?}\n  application: {:?}",
        report.seed,
        report.violations.join("\n  "),
        report.seed,
        small.faults,
        small.profile.faults,
        report.log
    )
}

/// The simulated application: sends, flushes and transactions, as the workload says.
struct App {
    workload: Workload,
    rng: Rng,
    next_id: u64,
    next_at: Duration,
    bursts: usize,
    done: bool,
    /// Transactions: which one is open, how many of its records are sent, and the operation under way.
    txn: usize,
    in_txn: usize,
    phase: TxnPhase,
    /// Per transaction: committed (true), aborted or failed (false).
    txn_results: BTreeMap<usize, bool>,
    /// Records refused by `send` (never accepted, so they get no outcome).
    refused: usize,
    /// A flush is under way (stream workloads).
    flushing: bool,
    /// What the application did and saw, for a failing run's report.
    log: Vec<String>,
    /// After this the application starts nothing new.
    horizon: Duration,
    /// A transaction cut off while ending: committed or aborted, unknown.
    undecided: Option<usize>,
    /// When the probe goes (after the faults end).
    probe_at: Duration,
    /// The probe's records (stream workloads), sent once the workload is done.
    probe_ids: Vec<u64>,
    /// The probe transaction (transactional workloads).
    probe_txn: Option<usize>,
    /// The plan's `purge_one_in`, and the generator deciding when and what to purge.
    purge_one_in: usize,
    purge_rng: Rng,
}

/// Records in a stream workload's probe.
const PROBE_RECORDS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxnPhase {
    Init(Option<u64>),
    Begin,
    Sending,
    Flushing { abort: bool },
    Ending { id: u64, abort: bool },
}

impl App {
    fn new(plan: &Plan, config: &ProducerConfig) -> App {
        let phase = TxnPhase::Init(None);
        let _ = config;
        App {
            workload: plan.workload.clone(),
            rng: Rng::new(plan.seed ^ 0xA99),
            next_id: 0,
            next_at: Duration::ZERO,
            bursts: 0,
            done: false,
            txn: 0,
            in_txn: 0,
            phase,
            txn_results: BTreeMap::new(),
            refused: 0,
            flushing: false,
            log: Vec::new(),
            horizon: plan.horizon,
            undecided: None,
            probe_at: plan.heal_at + Duration::from_millis(500),
            probe_ids: Vec::new(),
            probe_txn: None,
            purge_one_in: plan.purge_one_in,
            purge_rng: Rng::new(plan.seed ^ 0x9095),
        }
    }

    /// Now and then (the plan's `purge_one_in`) asks for a purge, which the sender's next turn carries
    /// out (`Producer::purge` would wait for that turn).
    fn maybe_purge(&mut self, now: Duration, shared: &SenderShared) {
        if self.purge_one_in == 0 || self.purge_rng.below(self.purge_one_in as u64) != 0 {
            return;
        }
        let what = match self.purge_rng.below(3) {
            0 => crate::sender::PURGE_QUEUED,
            1 => crate::sender::PURGE_IN_FLIGHT,
            _ => crate::sender::PURGE_QUEUED | crate::sender::PURGE_IN_FLIGHT,
        };
        self.log.push(format!("{now:?} purge {what:#b}"));
        let _ticket = shared.purge.ask(what);
    }

    fn done(&self) -> bool {
        self.done
    }

    /// The run is over: a transaction still ending has an unknown outcome (committed or aborted,
    /// but whole either way).
    fn cut_off(&mut self) {
        if matches!(self.phase, TxnPhase::Flushing { .. } | TxnPhase::Ending { .. }) && !self.done {
            self.log.push(format!("txn {}: cut off while ending", self.txn));
            self.undecided = Some(self.txn);
        }
        self.done = true;
    }

    /// Does what is due at `now`; returns when it next wants to act.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        now: Duration,
        instant: std::time::Instant,
        acc: &Arc<crate::accumulator::RecordAccumulator>,
        metadata: &Arc<crate::sender::metadata::Metadata>,
        shared: &Arc<SenderShared>,
        outcomes: &Outcomes,
        sent: &mut Vec<Sent>,
    ) -> Option<Duration> {
        if self.done || now < self.next_at {
            return (!self.done).then_some(self.next_at);
        }
        match self.workload.clone() {
            Workload::Stream { records, burst, gap, keyed, flush_every } => {
                // A flush makes every queued batch ready until the next burst (the application does
                // not block on it here; a blocking flush is the same wait, seen from outside).
                if self.flushing {
                    let _ = acc.await_flush_completion(Some(Duration::ZERO));
                    self.flushing = false;
                }
                if flush_every > 0 && self.bursts > 0 && self.bursts % flush_every == 0 {
                    acc.begin_flush();
                    self.flushing = true;
                }
                if self.next_id as usize >= records || now >= self.horizon {
                    // The workload is done: once the faults are over, the probe.
                    if now < self.probe_at {
                        self.next_at = self.probe_at;
                        return Some(self.next_at);
                    }
                    while self.probe_ids.len() < PROBE_RECORDS {
                        let id = self.next_id;
                        let before = sent.len();
                        if !self.send(instant, acc, metadata, None, None, outcomes, sent) {
                            self.next_at = now + Duration::from_millis(5);
                            return Some(self.next_at);
                        }
                        if sent.len() > before {
                            self.probe_ids.push(id);
                        } else {
                            self.log.push(format!("{now:?} probe record {id} refused"));
                            self.probe_ids.push(id);
                        }
                    }
                    self.done = true;
                    return None;
                }
                self.maybe_purge(now, shared);
                for _ in 0..burst {
                    if self.next_id as usize >= records || now >= self.horizon {
                        break;
                    }
                    let key = keyed.then(|| (self.rng.below(50) as u32).to_be_bytes());
                    if !self.send(instant, acc, metadata, key.as_ref().map(|k| &k[..]), None, outcomes, sent)
                    {
                        // Metadata not there yet: the next turn tries again.
                        break;
                    }
                }
                self.bursts += 1;
                self.next_at = now + gap;
                (!self.done).then_some(self.next_at)
            }
            Workload::Transactions { count, size, abort_one_in } => {
                let Some(t) = shared.transactional.as_ref() else {
                    self.done = true;
                    return None;
                };
                self.next_at = now + Duration::from_millis(1);
                match self.phase {
                    TxnPhase::Init(None) => match t.start_init() {
                        Ok(id) => self.phase = TxnPhase::Init(Some(id)),
                        Err(_) => self.done = true,
                    },
                    TxnPhase::Init(Some(id)) => match t.result_of(id) {
                        Some(Ok(())) => self.phase = TxnPhase::Begin,
                        Some(Err(_)) => self.done = true,
                        None => {}
                    },
                    TxnPhase::Begin => {
                        let workload_over = self.txn >= count || now >= self.horizon;
                        if workload_over && self.probe_txn.is_some() {
                            self.done = true;
                        } else if workload_over && now < self.probe_at {
                            self.next_at = self.probe_at;
                        } else if workload_over && t.begin().is_ok() {
                            // The probe transaction, after the faults: it must commit.
                            self.probe_txn = Some(self.txn);
                            self.log.push(format!("{now:?} txn {}: begin (probe)", self.txn));
                            self.in_txn = 0;
                            self.phase = TxnPhase::Sending;
                        } else if workload_over {
                            self.log.push(format!("{now:?} probe transaction refused: {:?}", t.begin()));
                            self.probe_txn = Some(self.txn);
                            self.done = true;
                        } else if t.begin().is_ok() {
                            self.log.push(format!("{now:?} txn {}: begin", self.txn));
                            self.in_txn = 0;
                            self.phase = TxnPhase::Sending;
                        } else {
                            self.done = true;
                        }
                    }
                    TxnPhase::Sending => {
                        if self.probe_txn != Some(self.txn) {
                            self.maybe_purge(now, shared);
                        }
                        while self.in_txn < size {
                            if t.check_send().is_err() {
                                break;
                            }
                            let txn = Some(self.txn);
                            if !self.send(instant, acc, metadata, None, txn, outcomes, sent) {
                                break;
                            }
                            if let Some(s) = sent.last() {
                                t.note_record(s.handle.topic_partition());
                            }
                            self.in_txn += 1;
                        }
                        let probing = self.probe_txn == Some(self.txn);
                        if self.in_txn >= size || t.check_send().is_err() || (now >= self.horizon && !probing)
                        {
                            let abort =
                                !probing && abort_one_in > 0 && self.txn % abort_one_in == abort_one_in - 1
                                    || t.check_send().is_err()
                                    || self.in_txn < size;
                            if abort {
                                let r = t.prepare_abort();
                                self.log.push(format!("{now:?} txn {}: prepare abort -> {r:?}", self.txn));
                            }
                            acc.begin_flush();
                            self.phase = TxnPhase::Flushing { abort };
                        }
                    }
                    TxnPhase::Flushing { abort } => {
                        // Every batch of the transaction has its outcome (callbacks run inline here):
                        // the flush is over and EndTxn may go.
                        if !acc.has_incomplete() && acc.await_flush_completion(Some(Duration::ZERO)) {
                            let started = if abort { t.start_abort() } else { t.start_commit() };
                            let what = if abort { "abort" } else { "commit" };
                            self.log.push(format!("{now:?} txn {}: {what} -> {started:?}", self.txn));
                            match started {
                                Ok(Some(id)) => self.phase = TxnPhase::Ending { id, abort },
                                Ok(None) => {
                                    self.txn_results.insert(self.txn, !abort);
                                    self.txn += 1;
                                    self.phase = TxnPhase::Begin;
                                }
                                Err(_) => {
                                    // The commit is refused (a record failed): abort instead.
                                    let _ = t.prepare_abort();
                                    acc.begin_flush();
                                    self.phase = TxnPhase::Flushing { abort: true };
                                }
                            }
                        }
                    }
                    TxnPhase::Ending { id, abort } => {
                        let result = t.result_of(id);
                        if let Some(r) = &result {
                            self.log.push(format!("{now:?} txn {}: ended {r:?}", self.txn));
                        }
                        match result {
                            Some(Ok(())) => {
                                self.txn_results.insert(self.txn, !abort);
                                self.txn += 1;
                                self.phase = TxnPhase::Begin;
                            }
                            Some(Err(_)) if !abort => {
                                self.txn_results.insert(self.txn, false);
                                let _ = t.prepare_abort();
                                acc.begin_flush();
                                self.phase = TxnPhase::Flushing { abort: true };
                            }
                            Some(Err(_)) => {
                                self.txn_results.insert(self.txn, false);
                                self.done = true;
                            }
                            None => {}
                        }
                    }
                }
                (!self.done).then_some(self.next_at)
            }
        }
    }

    /// Sends one record; false when the topic's metadata is not known yet (nothing was sent).
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        now: std::time::Instant,
        acc: &Arc<crate::accumulator::RecordAccumulator>,
        metadata: &Arc<crate::sender::metadata::Metadata>,
        key: Option<&[u8]>,
        txn: Option<usize>,
        outcomes: &Outcomes,
        sent: &mut Vec<Sent>,
    ) -> bool {
        let info = match metadata.lookup(TOPIC, now) {
            Ok(Lookup::Found(info, ..)) => info,
            _ => return false,
        };
        let n = info.num_partitions();
        if n == 0 {
            return false;
        }
        let partition = match key {
            Some(k) => crate::partitioner::partition_for_key(k, n),
            None => self.rng.below(n as u64) as i32,
        };
        let id = self.next_id;
        let value = id.to_be_bytes();
        let o = Arc::clone(outcomes);
        let callback = Callback::new(move |r| o.lock().entry(id).or_default().push(r));
        let ts = 1_700_000_000_000 + id as i64;
        match acc.append(
            TOPIC,
            partition,
            ts,
            key,
            Some(&value),
            NO_HEADERS,
            Some(callback),
            Duration::ZERO,
            now,
        ) {
            Ok(r) => {
                self.next_id += 1;
                sent.push(Sent { id, handle: r.handle, txn });
                true
            }
            Err(_) => {
                // Refused (no memory, closed): it gets no outcome; the application moves on.
                self.refused += 1;
                self.next_id += 1;
                true
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check(
    plan: &Plan,
    config: &ProducerConfig,
    cluster: &MockCluster,
    shared: &SenderShared,
    sent: &[Sent],
    outcomes: &Outcomes,
    app: &App,
    injected_fatal: bool,
    report: &mut Report,
) {
    let outcomes = outcomes.lock();
    report.accepted = sent.len();
    let v = &mut report.violations;
    // Every send exactly one outcome, the callback's and the handle's agreeing.
    let mut acked: BTreeMap<i32, Vec<(u64, i64)>> = BTreeMap::new();
    let txn_of: BTreeMap<u64, Option<usize>> = sent.iter().map(|s| (s.id, s.txn)).collect();
    let committed =
        |id: &u64| txn_of.get(id).copied().flatten().map_or(true, |t| app.txn_results.get(&t) == Some(&true));
    for s in sent {
        let id = s.id;
        let got = outcomes.get(&id).map_or(0, Vec::len);
        if got != 1 {
            v.push(format!("record {id}: {got} outcomes (want exactly one)"));
            continue;
        }
        let Some(handle) = s.handle.get(Some(Duration::ZERO)) else {
            v.push(format!("record {id}: the callback ran but its handle has no outcome"));
            continue;
        };
        match (&outcomes[&id][0], &handle) {
            (Ok(a), Ok(b)) if a == b => {
                report.acked += 1;
                acked.entry(a.topic_partition.partition).or_default().push((id, a.offset));
            }
            (Err(e), Err(_)) => {
                report.failed += 1;
                let kind = match e {
                    Error::Broker { code, .. } => format!("Broker({code:?})"),
                    e => format!("{e:?}").split(['(', ' ', '{']).next().unwrap_or("?").to_string(),
                };
                *report.errors.entry(kind).or_default() += 1;
            }
            (a, b) => v.push(format!("record {id}: callback {a:?}, handle {b:?}")),
        }
    }
    let idempotent = config.enable_idempotence();
    let all_acks = config.acks().as_i16() == -1;
    let transactional = config.transactional_id().is_some();
    let in_flight_one = config.max_in_flight_requests_per_connection() == 1;
    let lost_in_failover: BTreeSet<u64> = cluster
        .lost_in_failover()
        .iter()
        .filter_map(|(_, _, r)| {
            r.value.as_deref().and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes)
        })
        .collect();
    // What the brokers stored.
    for (&partition, records) in &acked {
        let stored: Vec<u64> = if transactional {
            cluster.read_committed(TOPIC, partition)
        } else {
            cluster.partition_records(TOPIC, partition)
        }
        .into_iter()
        .filter_map(|r| r.value.as_deref().and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes))
        .collect();
        let copies = stored.iter().fold(BTreeMap::<u64, usize>::new(), |mut m, id| {
            *m.entry(*id).or_default() += 1;
            m
        });
        if !all_acks && config.acks().as_i16() == 1 {
            // acks=1: an acknowledged record may be gone only because a failover dropped it.
            for (id, _) in records {
                if !copies.contains_key(id) {
                    if lost_in_failover.contains(id) {
                        report.lost_acks1 += 1;
                    } else {
                        v.push(format!(
                            "{TOPIC}-{partition}: acknowledged record {id} (acks=1) lost without a failover"
                        ));
                    }
                }
            }
        }
        if all_acks && !idempotent {
            // acks=all without idempotence: nothing acknowledged is lost (a retry may store it twice).
            for (id, _) in records.iter().filter(|(id, _)| !copies.contains_key(id)) {
                v.push(format!("{TOPIC}-{partition}: acknowledged record {id} lost"));
            }
        }
        if !idempotent && in_flight_one && config.acks().as_i16() != 0 {
            // One request in flight: what survived is in send order (first copies; a retry may repeat).
            let (want, got) = send_and_stored_order(records, &stored, |id| copies.contains_key(id));
            if got != want {
                v.push(format!("{TOPIC}-{partition}: with one request in flight, stored order {got:?} differs from send order {want:?}"));
            }
        }
        if idempotent && all_acks {
            for (id, _) in records.iter().filter(|(id, _)| committed(id)) {
                match copies.get(id) {
                    None => v.push(format!("{TOPIC}-{partition}: acknowledged record {id} lost")),
                    Some(&n) if n > 1 => v.push(format!("{TOPIC}-{partition}: record {id} stored {n} times")),
                    _ => {}
                }
            }
            let (want, got) = send_and_stored_order(records, &stored, |id| committed(id));
            if got != want {
                v.push(format!("{TOPIC}-{partition}: stored order {got:?} differs from send order {want:?}"));
            }
        }
        if transactional {
            // Nothing of an aborted or failed transaction is visible.
            for id in &stored {
                if let Some(Some(t)) = txn_of.get(id).copied() {
                    if app.txn_results.get(&t) != Some(&true) && app.undecided != Some(t) {
                        v.push(format!(
                            "{TOPIC}-{partition}: record {id} of aborted transaction {t} is visible"
                        ));
                    }
                }
            }
        }
    }
    if transactional {
        // Committed transactions are visible whole.
        let partitions = cluster.partition_count(TOPIC).unwrap_or(plan.partitions);
        let visible: BTreeSet<u64> = (0..partitions)
            .flat_map(|p| cluster.read_committed(TOPIC, p))
            .filter_map(|r| {
                r.value.as_deref().and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes)
            })
            .collect();
        for s in sent {
            if let Some(t) = s.txn {
                if app.txn_results.get(&t) == Some(&true) && !visible.contains(&s.id) {
                    v.push(format!("record {} of committed transaction {t} is not visible", s.id));
                }
            }
        }
        if let Some(t) = app.undecided {
            // Cut off while ending: committed or aborted, but whole (records that failed before the
            // end never reached a log, so only acknowledged ones count).
            let ids: Vec<u64> = sent
                .iter()
                .filter(|s| {
                    s.txn == Some(t) && outcomes.get(&s.id).is_some_and(|o| matches!(o.first(), Some(Ok(_))))
                })
                .map(|s| s.id)
                .collect();
            let shown = ids.iter().filter(|id| visible.contains(id)).count();
            if shown != 0 && shown != ids.len() {
                v.push(format!(
                    "transaction {t} (cut off while ending) is partly visible: {shown} of {}",
                    ids.len()
                ));
            }
        }
    }
    // Memory returns.
    let pool = shared.accumulator.buffer_pool();
    if pool.available_memory() != pool.total_memory() {
        v.push(format!(
            "buffer memory leaked: {} of {} bytes available",
            pool.available_memory(),
            pool.total_memory()
        ));
    }
    // Recovery: once the faults are over, the probe succeeds (unless a fatal code ended the producer).
    if !injected_fatal {
        match &plan.workload {
            Workload::Stream { .. } if app.probe_ids.len() < PROBE_RECORDS => {
                v.push(format!(
                    "the probe was not sent after the faults ended ({} of {PROBE_RECORDS})",
                    app.probe_ids.len()
                ));
            }
            Workload::Stream { .. } => {
                for id in &app.probe_ids {
                    match outcomes.get(id).and_then(|o| o.first()) {
                        Some(Ok(_)) => {}
                        other => v.push(format!("probe record {id}, sent after the faults ended: {other:?}")),
                    }
                }
            }
            Workload::Transactions { .. } => match app.probe_txn {
                Some(t) if app.txn_results.get(&t) == Some(&true) => {}
                Some(t) => {
                    v.push(format!("the probe transaction {t}, after the faults ended, did not commit"))
                }
                None => v.push("no probe transaction after the faults ended".to_string()),
            },
        }
    }
    // Fatal only through a fatal code.
    if shared.has_fatal.load(Ordering::Acquire) && !injected_fatal {
        let e = shared.fatal.lock().clone();
        v.push(format!("the producer turned fatal without a fatal code: {e:?}"));
    }
    if let Err(e) = cluster.check_invariants() {
        v.push(format!("the mock's log: {e}"));
    }
    // Every record's count in `in_flight_count` is gone with its outcome.
    let outstanding = shared.accumulator.records_outstanding();
    if outstanding != 0 {
        v.push(format!("in_flight_count is {outstanding} after every record had its outcome"));
    }
    let _ = app.refused;
}
