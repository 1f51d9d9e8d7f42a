//! Runs the deterministic simulator's seeds for a fixed wall time on every core and reports runs,
//! simulated hours, faults injected per class and failures (`scripts/soak --seconds N`).
//!
//! ```text
//! cargo run --profile sim --features sim --example sim-soak -- --seconds 600 [--first-seed S] [--threads T]
//! ```
//!
//! Seeds start at `--first-seed` (default: from the clock, printed, so a soak does not repeat the last
//! one) and each thread takes every T-th. A failing seed is printed with its violations, its shrunk
//! fault schedule and the command that replays it; the exit status is 1 when any seed failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kprod::sim::{failure_report, plan, run, Summary};

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    match args.get(i + 1).map(|v| v.parse::<u64>()) {
        Some(Ok(v)) => Some(v),
        _ => {
            eprintln!("{name} takes a number");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: sim-soak --seconds N [--first-seed S] [--threads T]");
        return;
    }
    let seconds = arg(&args, "--seconds").unwrap_or(60);
    let first = arg(&args, "--first-seed").unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_secs() * 1_000_000)
    });
    let threads = arg(&args, "--threads")
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64))
        .max(1);
    println!("soak: {seconds} s on {threads} threads, seeds from {first}");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(first));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let mut summary = Summary::default();
                while Instant::now() < deadline {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    let report = run(&plan(seed));
                    summary.add(&report);
                    if !report.passed() {
                        eprintln!("{}", failure_report(&report));
                    }
                }
                summary
            })
        })
        .collect();
    let mut total = Summary::default();
    for w in workers {
        match w.join() {
            Ok(s) => total.merge(&s),
            Err(_) => {
                eprintln!("a soak thread panicked");
                std::process::exit(1);
            }
        }
    }
    let wall = started.elapsed();
    print!("{total}");
    println!(
        "wall: {:.1} s, {:.0} runs per minute, {:.0} simulated seconds per wall second",
        wall.as_secs_f64(),
        total.runs as f64 / wall.as_secs_f64() * 60.0,
        total.simulated.as_secs_f64() / wall.as_secs_f64()
    );
    if !total.failed.is_empty() {
        std::process::exit(1);
    }
}
