//! kprod's log lines (the `log` crate) for C hosts: to each handle's `log_cb` through `rd_kafka_poll`,
//! or, without one, to stderr in librdkafka's format (`%LEVEL|seconds|FAC|name| line`), up to the
//! handle's `log_level` (`debug=` raises it to 7).
//!
//! The logger is process-wide (the `log` crate has one); it is installed with the first handle, unless
//! the host already installed its own (a Rust host linking the rlib), which then gets the lines.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use parking_lot::RwLock;

use crate::handle::{rd_kafka_s, Event};

/// Log lines queued for one handle's `log_cb` beyond which new ones are dropped (a host that does
/// not poll must not grow memory without bound).
const MAX_QUEUED: usize = 10_000;

/// One handle's destination.
#[derive(Debug)]
pub(crate) struct Sink {
    level: AtomicI32,
    name: String,
    /// `Some`: to the handle's log_cb through poll; `None`: stderr.
    tx: Option<Sender<Event>>,
}

impl Sink {
    pub(crate) fn set_level(&self, level: i32) {
        self.level.store(level.clamp(0, 7), Ordering::Relaxed);
        update_max();
    }
}

/// Guards the list of live sinks; taken briefly per log line (read) and per handle (write).
static SINKS: RwLock<Vec<Arc<Sink>>> = RwLock::new(Vec::new());
static INSTALL: Once = Once::new();
static LOGGER: Logger = Logger;

struct Logger;

fn syslog_level(l: log::Level) -> i32 {
    match l {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

fn update_max() {
    let max = SINKS.read().iter().map(|s| s.level.load(Ordering::Relaxed)).max().unwrap_or(0);
    let filter = match max {
        0..=3 => log::LevelFilter::Error,
        4 | 5 => log::LevelFilter::Warn,
        6 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    };
    log::set_max_level(filter);
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("kprod") || m.target().starts_with("rdkafka")
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = syslog_level(r.level());
        let fac = r.target().rsplit("::").next().unwrap_or("kprod").to_ascii_uppercase();
        let line = r.args().to_string();
        for s in SINKS.read().iter() {
            if level > s.level.load(Ordering::Relaxed) {
                continue;
            }
            match &s.tx {
                Some(tx) if tx.len() < MAX_QUEUED => {
                    let _ = tx.send(Event::Log(level, fac.clone(), line.clone()));
                }
                Some(_) => {}
                None => {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                    eprintln!(
                        "%{level}|{}.{:03}|{fac}|{}| {line}",
                        now.as_secs(),
                        now.subsec_millis(),
                        s.name
                    );
                }
            }
        }
    }

    fn flush(&self) {}
}

/// Registers a new handle's sink (and installs the logger on first use).
pub(crate) fn register(rk: &rd_kafka_s) -> Arc<Sink> {
    INSTALL.call_once(|| {
        let _ = log::set_logger(&LOGGER);
    });
    let level = if rk.abi.debug { 7 } else { rk.abi.log_level };
    let sink = Arc::new(Sink {
        level: AtomicI32::new(level),
        name: rk.name.to_string_lossy().into_owned(),
        tx: rk.cb.log.map(|_| rk.events_tx.clone()),
    });
    SINKS.write().push(Arc::clone(&sink));
    update_max();
    sink
}

/// Removes a destroyed handle's sink.
pub(crate) fn unregister(sink: &Arc<Sink>) {
    SINKS.write().retain(|s| !Arc::ptr_eq(s, sink));
    update_max();
}
