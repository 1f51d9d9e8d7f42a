//! Shared helpers for integration tests against a real Apache Kafka started by `scripts/kafka`.
//!
//! Broker addresses come from the environment (`scripts/test` sets them). A missing or unreachable
//! broker is a test failure, never a silent skip.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "unstable")]
pub mod client;
pub mod forward;
pub mod ledger;
pub mod otlp;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

/// The repository root (where `scripts/kafka` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a bootstrap list from `var` and checks that its first broker accepts TCP connections.
/// Panics (fails the test) when the variable is unset or the broker is unreachable.
pub fn bootstrap(var: &str) -> String {
    let Ok(value) = std::env::var(var) else {
        panic!(
            "{var} is not set: integration tests need a real Kafka broker. Run them through scripts/test \
             (which starts one), or start one with scripts/kafka up and export {var}."
        );
    };
    check_reachable(&value);
    value
}

/// Fails unless the first address in a `host:port[,host:port]` list accepts a TCP connection.
pub fn check_reachable(bootstrap: &str) {
    let first = bootstrap.split(',').next().unwrap_or_default();
    let addrs: Vec<_> = first
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("cannot resolve broker address '{first}': {e}"))
        .collect();
    let ok = addrs.iter().any(|a| TcpStream::connect_timeout(a, Duration::from_secs(5)).is_ok());
    assert!(ok, "Kafka broker at '{first}' is unreachable (from {bootstrap})");
}

/// The `scripts/kafka` name of the cluster in `var` (e.g. `KPROD_KAFKA_NAME_3`); panics when unset.
pub fn cluster_name(var: &str) -> String {
    std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run the integration tests through scripts/test"))
}

/// Runs `scripts/kafka ARGS...`, returning its output; panics with its stderr when it fails.
pub fn kafka(args: &[&str]) -> Output {
    let out = Command::new(repo_root().join("scripts/kafka")).args(args).output().expect("run scripts/kafka");
    assert!(
        out.status.success(),
        "scripts/kafka {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `scripts/kafka ARGS...` stdout as a string.
pub fn kafka_stdout(args: &[&str]) -> String {
    String::from_utf8(kafka(args).stdout).expect("utf-8 output")
}

/// A topic name unique to this test run.
pub fn unique_topic(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

/// Creates a topic on the named cluster.
pub fn create_topic(cluster: &str, topic: &str, partitions: u32, replication: u32) {
    kafka(&[
        "topics",
        "--name",
        cluster,
        "--create",
        "--topic",
        topic,
        "--partitions",
        &partitions.to_string(),
        "--replication-factor",
        &replication.to_string(),
    ]);
}

/// One record as Kafka's console consumer prints it through `scripts/kafka consume`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    /// `CreateTime:<ms>` (or `LogAppendTime:<ms>`) as printed.
    pub timestamp: String,
    /// Partition number.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Headers as printed (`k:v,k2:v2` or `NO_HEADERS`).
    pub headers: String,
    /// Key as printed (`null` for a null key).
    pub key: String,
    /// Value as printed (`null` for a null value).
    pub value: String,
}

/// Reads a topic from the beginning with Kafka's console consumer until `expect` records arrived or
/// `timeout_ms` passed; returns the parsed records. A read that comes back with nothing at all is
/// repeated once with a fresh consumer (a console consumer whose group join stalled on a loaded
/// machine has been seen to print nothing); the records must still all be there.
pub fn consume(cluster: &str, topic: &str, expect: usize, timeout_ms: u64, extra: &[&str]) -> Vec<Consumed> {
    let got = consume_once(cluster, topic, expect, timeout_ms, extra);
    if got.is_empty() && expect > 0 {
        eprintln!("console consumer read nothing from {topic}; reading once more");
        return consume_once(cluster, topic, expect, timeout_ms, extra);
    }
    got
}

fn consume_once(cluster: &str, topic: &str, expect: usize, timeout_ms: u64, extra: &[&str]) -> Vec<Consumed> {
    let max = expect.to_string();
    let timeout = timeout_ms.to_string();
    let mut args = vec![
        "consume",
        "--name",
        cluster,
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        &max,
        "--timeout-ms",
        &timeout,
    ];
    args.extend_from_slice(extra);
    let out = kafka_stdout(&args);
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, '\t').collect();
            assert_eq!(f.len(), 6, "unexpected console consumer line: {l:?}");
            Consumed {
                timestamp: f[0].to_string(),
                partition: f[1].trim_start_matches("Partition:").parse().unwrap(),
                offset: f[2].trim_start_matches("Offset:").parse().unwrap(),
                headers: f[3].to_string(),
                key: f[4].to_string(),
                value: f[5].to_string(),
            }
        })
        .collect()
}

/// Restarts a killed node when dropped, so a test that kills a broker leaves a whole cluster behind,
/// pass or fail.
pub struct RestartOnDrop<'a> {
    pub cluster: &'a str,
    pub node: String,
}

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/kafka"))
            .args(["restart", "--name", self.cluster, &self.node])
            .status();
    }
}

/// Prints kprod's `log` output to stderr when `KPROD_TEST_LOG` is set (for debugging a test).
pub fn log_to_stderr_if_asked() {
    struct StderrLog(std::time::Instant);
    impl log::Log for StderrLog {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &log::Record<'_>) {
            let thread = std::thread::current();
            eprintln!(
                "{:>8.3} {:<16} {:<5} {}",
                self.0.elapsed().as_secs_f64(),
                thread.name().unwrap_or("?"),
                r.level(),
                r.args()
            );
        }
        fn flush(&self) {}
    }
    if std::env::var_os("KPROD_TEST_LOG").is_some() {
        static LOGGER: std::sync::OnceLock<StderrLog> = std::sync::OnceLock::new();
        let logger = LOGGER.get_or_init(|| StderrLog(std::time::Instant::now()));
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    }
}

/// The longest a test waits for one record's outcome.
pub const OUTCOME_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A bounded `wait` for tests: a lost outcome fails the test instead of hanging the suite.
pub trait WaitOutcome {
    /// The record's outcome, panicking if it has none within [`OUTCOME_WAIT`].
    fn outcome(self) -> Result<kprod::RecordMetadata, kprod::Error>;
}

impl WaitOutcome for kprod::DeliveryFuture {
    fn outcome(self) -> Result<kprod::RecordMetadata, kprod::Error> {
        let tp = self.topic_partition().clone();
        self.wait_timeout(OUTCOME_WAIT)
            .unwrap_or_else(|| panic!("a record for {tp} got no outcome within {OUTCOME_WAIT:?} (lost)"))
    }
}

/// A base for record timestamps a minute before this test run. Fixed timestamps years in the past
/// made records vanish: the broker's retention check (every 5 minutes, `retention.ms` 7 days) deletes
/// segments whose newest record is that old, so a console consumer sometimes read nothing.
pub fn recent_base_ts() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        i64::try_from(now.as_millis()).unwrap() - 60_000
    })
}
