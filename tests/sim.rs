//! The deterministic simulator (`kprod::sim`) over fixed seeds: every run must keep every invariant.
//! `KPROD_SIM_SEED=<n>` replays one seed; `KPROD_SIM_SEEDS=<n>` sets how many seeds the sweep runs
//! (seeds 1 to n; `scripts/test` sizes it); `KPROD_SIM_FIRST_FAILURE=1` stops the sweep at the first
//! failing seed. A failing seed prints its violations, a shrunk fault schedule and the command that
//! replays it.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use kprod::sim::{failure_report, plan, run, shrink, Summary};

/// Seeds the sweep runs when `KPROD_SIM_SEEDS` is not set (a few seconds in a release build).
const DEFAULT_SEEDS: u64 = 500;

fn seeds() -> Vec<u64> {
    if let Ok(s) = std::env::var("KPROD_SIM_SEED") {
        return vec![s.trim().parse().expect("KPROD_SIM_SEED is a number")];
    }
    let n =
        std::env::var("KPROD_SIM_SEEDS").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(DEFAULT_SEEDS);
    (1..=n).collect()
}

#[test]
fn every_seed_keeps_every_invariant() {
    let started = Instant::now();
    let mut summary = Summary::default();
    for seed in seeds() {
        let report = run(&plan(seed));
        summary.add(&report);
        if !report.passed() {
            eprintln!("after {:?} (run {}): {}", started.elapsed(), summary.runs, failure_report(&report));
            if std::env::var_os("KPROD_SIM_FIRST_FAILURE").is_some() {
                break;
            }
        }
    }
    eprintln!("{summary}wall time: {:?}", started.elapsed());
    assert!(summary.failed.is_empty(), "failing seeds: {:?}", summary.failed);
    assert!(summary.acked > 0 && summary.faults.values().sum::<u64>() > 0, "the runs did something");
}

/// A run is a function of its seed: the same seed twice gives the same report, request for request.
#[test]
fn a_seed_replays_exactly() {
    for seed in (1..=40).chain([1234, 99_999]) {
        let (a, b) = (run(&plan(seed)), run(&plan(seed)));
        let (fa, fb) = (format!("{a:?}"), format!("{b:?}"));
        if fa != fb {
            let at = fa.bytes().zip(fb.bytes()).take_while(|(x, y)| x == y).count();
            panic!(
                "seed {seed} ran differently twice, from: {}\nvs: {}",
                &fa[at.saturating_sub(200)..(at + 200).min(fa.len())],
                &fb[at.saturating_sub(200)..(at + 200).min(fb.len())]
            );
        }
    }
}

/// The shrinker keeps a passing plan as it is.
#[test]
fn shrinking_a_passing_run_changes_nothing() {
    let p = plan(5);
    assert!(run(&p).passed());
    assert_eq!(shrink(&p).faults, p.faults);
}

/// Debugging aid, not a check: `KPROD_SIM_SEED=<n> cargo test --release --features sim --test sim
/// trace -- --ignored --nocapture` prints a seed's faults, network and every request the brokers saw.
#[test]
#[ignore]
fn trace() {
    for seed in seeds() {
        let mut p = plan(seed);
        p.trace = true;
        let r = run(&p);
        eprintln!("faults: {:#?}\nwire: {:?}", p.faults, p.profile);
        for l in &r.trace {
            eprintln!("{l}");
        }
        eprintln!("{:?} {:?} {:?}", r.errors, r.violations, r.log);
    }
}
