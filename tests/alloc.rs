//! Allocation proof: in steady state, `send` allocates nothing per record. A counting global allocator
//! counts the heap allocations made on the sending thread while it sends 1,000,000 records of 100 B
//! (after a warm-up) into the embedded mock cluster with a null sink; only per-batch allocations (a new
//! batch's outcome cell and callback list, a fresh pool buffer) are allowed, so the count per record
//! must stay far below one; `send_reported` with an `on_delivery` handler is held to the same bound.
//! The other threads' allocations (sender, mock broker) are reported for information.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kprod::mock::MockCluster;
use kprod::{Producer, ProducerConfig, Record};

struct Counting;

static ALL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Allocations made by this thread while `COUNTING` is on.
    static MINE: Cell<u64> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: delegates to the system allocator; the counters are plain atomics and const-initialised
// thread-locals, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    ALL.fetch_add(1, Ordering::Relaxed);
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = MINE.try_with(|m| m.set(m.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A one-broker null-sink mock with topic "t", and a producer config for it (acks=1, no idempotence).
fn null_sink_cluster() -> (MockCluster, ProducerConfig) {
    let cluster = MockCluster::builder().brokers(1).null_sink(true).build().unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", cluster.bootstrap_servers().as_str()),
        ("acks", "1"),
        ("enable.idempotence", "false"),
    ])
    .unwrap();
    (cluster, config)
}

#[test]
fn send_allocates_nothing_per_record_in_steady_state() {
    let (_cluster, config) = null_sink_cluster();
    let p = Producer::new(config).unwrap();
    let payload = [b'x'; 100];
    let send = |n: usize| {
        for _ in 0..n {
            // Borrowed value, no key, no headers: the caller allocates nothing either.
            let f = p.send(Record::new("t").value(&payload[..])).unwrap();
            drop(f);
        }
    };
    send(100_000); // warm-up: metadata, connections, the buffer pool's free list
    p.flush(Duration::from_secs(30)).unwrap();

    let records = 1_000_000u64;
    let all_before = ALL.load(Ordering::Relaxed);
    MINE.with(|m| m.set(0));
    COUNTING.with(|c| c.set(true));
    send(records as usize);
    COUNTING.with(|c| c.set(false));
    let mine = MINE.with(Cell::get);
    p.flush(Duration::from_secs(60)).unwrap();
    let all = ALL.load(Ordering::Relaxed) - all_before;

    let per_record = mine as f64 / records as f64;
    // 100 B records fill a 16 KiB batch about every 140 records; a new batch costs a few allocations.
    eprintln!(
        "allocations: sending thread {mine} for {records} records ({per_record:.4} per record, \
         about {:.1} per batch); all threads {all} ({:.4} per record)",
        mine as f64 / (records as f64 / 140.0),
        all as f64 / records as f64
    );
    assert!(per_record < 0.05, "{per_record} allocations per record on the sending thread");
}

#[test]
fn send_reported_with_a_handler_allocates_nothing_per_record() {
    use std::sync::Arc;
    let (_cluster, config) = null_sink_cluster();
    let delivered = Arc::new(AtomicU64::new(0));
    let opaque_sum = Arc::new(AtomicU64::new(0));
    let (d, s) = (Arc::clone(&delivered), Arc::clone(&opaque_sum));
    let p = Producer::builder(config)
        .on_delivery(move |opaque, result| {
            assert!(result.is_ok());
            d.fetch_add(1, Ordering::Relaxed);
            s.fetch_add(opaque, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let payload = [b'x'; 100];
    let send = |from: u64, n: u64| {
        for i in from..from + n {
            drop(p.send_reported(Record::new("t").value(&payload[..]), i).unwrap());
        }
    };
    send(0, 100_000);
    p.flush(Duration::from_secs(30)).unwrap();
    let records = 1_000_000u64;
    MINE.with(|m| m.set(0));
    COUNTING.with(|c| c.set(true));
    send(100_000, records);
    COUNTING.with(|c| c.set(false));
    let mine = MINE.with(Cell::get);
    p.flush(Duration::from_secs(60)).unwrap();
    let per_record = mine as f64 / records as f64;
    eprintln!(
        "send_reported: sending thread {mine} allocations for {records} records ({per_record:.4} per record)"
    );
    assert!(per_record < 0.05, "{per_record} allocations per record on the sending thread");
    // Every record reached the handler with its own opaque value.
    let n = 100_000 + records;
    assert_eq!(delivered.load(Ordering::Relaxed), n);
    assert_eq!(opaque_sum.load(Ordering::Relaxed), n * (n - 1) / 2);
    assert!(p.delivery_reports().try_recv().is_none(), "a handler replaces the report channel");
}
