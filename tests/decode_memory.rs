//! Decoding hostile input must not allocate out of proportion to the input. A counting global allocator
//! measures the peak heap bytes live on the decoding thread while crafted ~60 MiB bodies are decoded:
//! arrays whose counts claim one element per remaining byte (at the top level and nested), and a record
//! batch announcing 2^31 - 1 records. Every claim is backed by filler that fails to decode on the first
//! element (or, for `int32` elements, decodes until the input runs out), so whatever is allocated comes
//! from the counts alone.
//!
//! The bound is 4× the input: the decoder may reserve up to the bytes still unread for each array it is
//! inside of, and no message nests arrays more than three deep (Metadata's topics, partitions and
//! replica nodes), so 3× plus small error values. Before the fix a single count reserved
//! `count × size_of::<T>()`, tens of times the input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kprod::protocol::messages::metadata::MetadataResponse;
use kprod::protocol::messages::produce::ProduceResponse;
use kprod::protocol::primitives::put_uvarint;
use kprod::protocol::record::decode_batches;
use kprod::protocol::Message;

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Bytes allocated minus bytes freed by this thread since measuring started.
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's live bytes while measuring. `try_with` because the allocator also runs
/// while thread-locals are torn down.
fn track(delta: i64) {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = LIVE.try_with(|live| {
                let now = live.get() + delta;
                live.set(now);
                let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

// SAFETY: delegates to the system allocator; the counters are const-initialised thread-locals, which
// never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as i64));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The size of each hostile body.
const SIZE: usize = 60 << 20;

/// Runs `f` and returns its result with the peak heap bytes this thread had live meanwhile (the result is
/// dropped after measuring stops).
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ON.with(|on| on.set(true));
    let r = f();
    ON.with(|on| on.set(false));
    (r, PEAK.with(Cell::get).max(0) as u64)
}

/// Decodes `body` as `M` at `version`, expects an error, and checks the peak against the bound.
fn check<M: Message + std::fmt::Debug>(what: &str, body: &[u8], version: i16) {
    let (r, peak) = peak_during(|| M::decode_body(body, version).map(|_| ()));
    report(what, body.len(), peak);
    assert!(r.is_err(), "{what}: hostile input decoded");
}

fn report(what: &str, input: usize, peak: u64) {
    let ratio = peak as f64 / input as f64;
    eprintln!("{what}: input {input} B, peak {peak} B ({ratio:.3}× input)");
    assert!(peak <= 4 * input as u64, "{what}: peak {peak} B is above 4× the input ({input} B)");
}

/// Appends a compact array length claiming one element per byte that will follow it in a body of
/// `SIZE` bytes.
fn compact_claim(body: &mut Vec<u8>) {
    // Every claim here is below 2^28, so its uvarint takes four bytes.
    let n = SIZE - body.len() - 4;
    put_uvarint(body, n as u32 + 1);
    assert_eq!(body.len(), SIZE - n);
}

/// [`compact_claim`], then fills the body up to `SIZE` bytes with `fill`.
fn compact_claim_then_fill(body: &mut Vec<u8>, fill: u8) {
    compact_claim(body);
    body.resize(SIZE, fill);
}

#[test]
fn produce_v9_topics_claim_one_per_byte() {
    // responses: compact array claiming every remaining byte; a zero byte is a null topic name, which
    // fails the first element.
    let mut body = Vec::new();
    compact_claim_then_fill(&mut body, 0);
    check::<ProduceResponse>("produce v9 responses", &body, 9);
}

#[test]
fn produce_v8_topics_claim_one_per_byte() {
    // Plain int32 count; 0xff bytes make the first topic name null (length -1).
    let n = SIZE - 4;
    let mut body = (n as i32).to_be_bytes().to_vec();
    body.resize(SIZE, 0xff);
    check::<ProduceResponse>("produce v8 responses", &body, 8);
}

#[test]
fn produce_v9_nested_partitions_claim_one_per_byte() {
    // Both the topics and the first topic's partitions claim every remaining byte; the first partition
    // (all zeros) fails at its null record_errors array.
    let mut body = Vec::new();
    compact_claim(&mut body);
    body.push(0x01); // topic name: empty compact string
    compact_claim_then_fill(&mut body, 0);
    check::<ProduceResponse>("produce v9 responses → partition_responses", &body, 9);
}

#[test]
fn metadata_v12_brokers_claim_one_per_byte() {
    let mut body = 0i32.to_be_bytes().to_vec(); // throttle_time_ms
    compact_claim_then_fill(&mut body, 0); // a zero host is null: the first broker fails
    check::<MetadataResponse>("metadata v12 brokers", &body, 12);
}

#[test]
fn metadata_v1_topics_claim_one_per_byte() {
    // v1: brokers empty, controller id, then topics claiming every remaining byte; 0xff bytes give a
    // null name (allowed), then a null partitions array, which fails the first topic.
    let mut body = Vec::new();
    body.extend_from_slice(&0i32.to_be_bytes()); // brokers: empty
    body.extend_from_slice(&1i32.to_be_bytes()); // controller_id
    let n = SIZE - body.len() - 4;
    body.extend_from_slice(&(n as i32).to_be_bytes());
    body.resize(SIZE, 0xff);
    check::<MetadataResponse>("metadata v1 topics", &body, 1);
}

#[test]
fn metadata_v12_nested_arrays_claim_one_per_byte() {
    // topics, the first topic's partitions and the first partition's replica_nodes each claim every
    // remaining byte: three nested reservations. The replica ids (zeros) really decode, four bytes each,
    // until the input runs out.
    let mut body = 0i32.to_be_bytes().to_vec(); // throttle_time_ms
    body.push(0x01); // brokers: empty compact array
    body.push(0x00); // cluster_id: null
    body.extend_from_slice(&1i32.to_be_bytes()); // controller_id
    compact_claim(&mut body); // topics
    body.extend_from_slice(&[0, 0]); // error_code
    body.push(0x00); // name: null
    body.extend_from_slice(&[0; 16]); // topic_id
    body.push(0x00); // is_internal
    compact_claim(&mut body); // partitions
    body.extend_from_slice(&[0; 14]); // error_code, partition_index, leader_id, leader_epoch
    compact_claim_then_fill(&mut body, 0); // replica_nodes
    check::<MetadataResponse>("metadata v12 topics → partitions → replica_nodes", &body, 12);
}

#[test]
fn record_batch_claiming_2_pow_31_records() {
    // A CRC-valid uncompressed batch announcing i32::MAX records over ~60 MiB of zeros: the first record
    // (length 0) fails.
    let mut batch = vec![0u8; SIZE];
    batch[8..12].copy_from_slice(&((SIZE - 12) as i32).to_be_bytes()); // batchLength
    batch[16] = 2; // magic
    batch[57..61].copy_from_slice(&i32::MAX.to_be_bytes()); // record count
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());

    let (r, peak) = peak_during(|| {
        let b = decode_batches(&batch).next().expect("one batch")?;
        b.decode_records().map(|_| ())
    });
    report("record batch of 2^31 - 1 records", batch.len(), peak);
    assert!(r.is_err(), "hostile batch decoded");
}
