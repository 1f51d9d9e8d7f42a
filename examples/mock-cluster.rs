//! A standalone mock Kafka cluster, for benchmarks and for trying clients against it.
//!
//! ```sh
//! cargo run --release --features mock --example mock-cluster -- --brokers 3 --port 9092 [--null-sink] [--partitions 6]
//! ```
//!
//! Prints `KAFKA_BOOTSTRAP=host:port,...` and serves until killed. Broker 1 listens on `--port`, broker 2
//! on the next port, and so on; `--port 0` (the default) picks ephemeral ports. `--partitions` sets the
//! partition count of auto-created topics (default 1); `--replication-factor` their replication factor.
//! `--log-requests` prints, every second, how many requests of each API and version arrived (to stderr).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use kprod::mock::MockCluster;
use kprod::ApiKey;

fn usage() -> ExitCode {
    eprintln!(
        "usage: mock-cluster [--brokers N] [--port P] [--null-sink] [--advertise-fetch] [--partitions N] [--replication-factor N] \
         [--log-requests]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut builder = MockCluster::builder().request_log_capacity(0);
    let mut log_requests = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Option<String> {
            let v = args.next();
            if v.is_none() {
                eprintln!("{name} needs a value");
            }
            v
        };
        builder = match arg.as_str() {
            "--brokers" => match value("--brokers").and_then(|v| v.parse().ok()) {
                Some(n) => builder.brokers(n),
                None => return usage(),
            },
            "--port" => match value("--port").and_then(|v| v.parse().ok()) {
                Some(p) => builder.port(p),
                None => return usage(),
            },
            "--partitions" => match value("--partitions").and_then(|v| v.parse().ok()) {
                Some(n) => builder.default_partitions(n),
                None => return usage(),
            },
            "--replication-factor" => match value("--replication-factor").and_then(|v| v.parse().ok()) {
                Some(n) => builder.default_replication_factor(n),
                None => return usage(),
            },
            "--null-sink" => builder.null_sink(true),
            "--advertise-fetch" => builder.advertise_fetch(true),
            "--log-requests" => {
                log_requests = true;
                builder.request_log_capacity(1_000_000)
            }
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        };
    }
    let cluster = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mock-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("KAFKA_BOOTSTRAP={}", cluster.bootstrap_servers());
    let _ = std::io::stdout().flush();
    loop {
        if !log_requests {
            std::thread::park();
            continue;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        let mut counts: BTreeMap<(i16, i16), usize> = BTreeMap::new();
        for r in cluster.take_requests() {
            *counts.entry((r.api_key.0, r.api_version)).or_default() += 1;
        }
        for ((key, version), n) in counts {
            eprintln!("requests: {} v{version}: {n}", ApiKey(key).name());
        }
    }
}
