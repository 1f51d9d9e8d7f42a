//! Leader failover on a real 3-broker Kafka: produces a steady stream (acks=all, idempotent) to a
//! one-partition topic with three replicas, kills (`kill -9`) or stops (SIGTERM, controlled shutdown)
//! the partition's leader with `scripts/kafka`, and measures how long acknowledgements stall:
//!
//! - `first_ack_ms`: from the kill to the first acknowledgement of a record sent after it (the old
//!   leader is gone, so that batch was acknowledged by the new one; with `stop` the old leader may still
//!   answer while it hands over, so for `stop` read `stall_ms`);
//! - `stall_ms`: the longest gap between consecutive acknowledgements from just before the kill until
//!   30 s after it.
//!
//! The killed node is restarted and the partition's replicas are back in sync before the next round.
//! Every record must be acknowledged: the run fails otherwise. `scripts/failover-bench` runs this
//! example built from two kprod commits side by side (docs/benchmarks.md, "Leader failover").
//!
//! ```text
//! cargo run --release --example failover -- --bootstrap-server HOST:PORT --kafka-name NAME \
//!     [--topic T] [--rounds 10] [--mode kill|stop] [--rate 1000]
//! ```

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kprod::{Producer, ProducerConfig, Record};

struct Args {
    bootstrap: String,
    kafka_name: String,
    topic: String,
    rounds: usize,
    mode: String,
    rate: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bootstrap: String::new(),
        kafka_name: String::new(),
        topic: "failover".into(),
        rounds: 10,
        mode: "kill".into(),
        rate: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap-server" => a.bootstrap = value()?,
            "--kafka-name" => a.kafka_name = value()?,
            "--topic" => a.topic = value()?,
            "--rounds" => a.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--mode" => a.mode = value()?,
            "--rate" => a.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if a.bootstrap.is_empty() || a.kafka_name.is_empty() {
        return Err("--bootstrap-server and --kafka-name are required".into());
    }
    if a.mode != "kill" && a.mode != "stop" {
        return Err("--mode is kill or stop".into());
    }
    Ok(a)
}

/// Runs `scripts/kafka` with `args`; its standard output.
fn kafka(args: &[&str]) -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka");
    let out = Command::new(script).args(args).output().map_err(|e| format!("scripts/kafka: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/kafka {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until the partition has a leader and all three replicas are in sync.
fn await_in_sync(name: &str, topic: &str, deadline: Instant) -> Result<i32, String> {
    loop {
        let described =
            kafka(&["topics", "--name", name, "--describe", "--topic", topic]).unwrap_or_default();
        let isr = described
            .split('\t')
            .find_map(|f| f.trim().strip_prefix("Isr: "))
            .map_or(0, |s| s.split(',').filter(|n| !n.trim().is_empty()).count());
        if isr == 3 {
            if let Ok(leader) = kafka(&["leader", "--name", name, topic, "0"]) {
                if let Ok(l) = leader.trim().parse::<i32>() {
                    if l >= 0 {
                        return Ok(l);
                    }
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{topic}-0 has no leader with 3 in-sync replicas: {described}"));
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// One acknowledgement: when its record was sent and when the ack arrived, relative to the run's start.
type Ack = (Duration, Duration);

fn run(a: &Args) -> Result<(), String> {
    let _ = kafka(&[
        "topics",
        "--name",
        &a.kafka_name,
        "--create",
        "--if-not-exists",
        "--topic",
        &a.topic,
        "--partitions",
        "1",
        "--replication-factor",
        "3",
    ]);
    await_in_sync(&a.kafka_name, &a.topic, Instant::now() + Duration::from_secs(60))?;
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", a.bootstrap.as_str()),
        ("acks", "all"),
        ("linger.ms", "0"),
        ("enable.idempotence", "true"),
        ("delivery.timeout.ms", "120000"),
    ])
    .map_err(|e| e.to_string())?;
    let producer = Arc::new(Producer::builder(config).build().map_err(|e| e.to_string())?);
    let start = Instant::now();
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let failed = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sending = {
        let (producer, acks, failed, sent, stop) = (
            Arc::clone(&producer),
            Arc::clone(&acks),
            Arc::clone(&failed),
            Arc::clone(&sent),
            Arc::clone(&stop),
        );
        let topic = a.topic.clone();
        let gap = Duration::from_micros(1_000_000 / a.rate.max(1));
        thread::spawn(move || {
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let at = start.elapsed();
                let (acks, failed_cb) = (Arc::clone(&acks), Arc::clone(&failed));
                let record = Record::new(&*topic).value(b"failover".as_slice());
                let r = producer.send_with(record, move |result| match result {
                    Ok(_) => acks.lock().unwrap_or_else(|p| p.into_inner()).push((at, start.elapsed())),
                    Err(e) => {
                        eprintln!("record failed: {e}");
                        failed_cb.fetch_add(1, Ordering::Relaxed);
                    }
                });
                match r {
                    Ok(_) => {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("send refused: {}", e.error());
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                next += gap;
                thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    let mut result = Ok(());
    for round in 0..a.rounds {
        let leader = match await_in_sync(&a.kafka_name, &a.topic, Instant::now() + Duration::from_secs(120)) {
            Ok(l) => l,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        thread::sleep(Duration::from_secs(2));
        let node = leader.to_string();
        let t0 = start.elapsed();
        if let Err(e) = kafka(&[&a.mode, "--name", &a.kafka_name, &node]) {
            result = Err(e);
            break;
        }
        // The first acknowledgement of a record sent after the kill, within 60 s.
        let deadline = Instant::now() + Duration::from_secs(60);
        let first = loop {
            let got =
                acks.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|(s, _)| *s > t0).map(|&(_, r)| r);
            if let Some(r) = got {
                break Some(r);
            }
            if Instant::now() > deadline {
                break None;
            }
            thread::sleep(Duration::from_millis(5));
        };
        let Some(first) = first else {
            result = Err(format!("round {round}: no acknowledgement within 60 s of the {}", a.mode));
            break;
        };
        thread::sleep(Duration::from_secs(30).saturating_sub(start.elapsed().saturating_sub(t0)));
        let stall = {
            let acks = acks.lock().unwrap_or_else(|p| p.into_inner());
            let mut times: Vec<Duration> =
                acks.iter().map(|&(_, r)| r).filter(|&r| r + Duration::from_secs(1) > t0).collect();
            times.sort();
            times.windows(2).map(|w| w[1].saturating_sub(w[0])).max().unwrap_or_default()
        };
        println!(
            "round={round} mode={} leader={leader} first_ack_ms={} stall_ms={}",
            a.mode,
            first.saturating_sub(t0).as_millis(),
            stall.as_millis()
        );
        if let Err(e) = kafka(&["restart", "--name", &a.kafka_name, &node]) {
            result = Err(e);
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sending.join();
    producer.flush(Duration::from_secs(120)).map_err(|e| format!("flush: {e}"))?;
    result?;
    let (sent, acked, failed) = (
        sent.load(Ordering::Relaxed),
        acks.lock().map_or(0, |a| a.len() as u64),
        failed.load(Ordering::Relaxed),
    );
    println!("sent={sent} acked={acked} failed={failed}");
    if failed > 0 || acked != sent {
        return Err(format!("{failed} records failed, {acked} of {sent} acknowledged"));
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("failover: {e}");
            ExitCode::FAILURE
        }
    }
}
