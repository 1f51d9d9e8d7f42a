//! Decoding hostile input must not allocate out of proportion to the input. A counting global allocator
//! measures the peak heap bytes live on the decoding thread while crafted ~60 MiB bodies are decoded.
//!
//! Hostile counts: arrays whose counts claim one element per remaining byte (at the top level and
//! nested), and a record batch announcing 2^31 - 1 records. Every claim is backed by filler that fails to
//! decode on the first element (or, for `int32` elements, decodes until the input runs out), so whatever
//! is allocated comes from the counts alone. The bound is 4× the input: an array may reserve up to the
//! bytes still unread for each array it is inside of, and no message nests arrays more than three deep
//! (Metadata's topics, partitions and replica nodes), so 3× plus small error values. Most counts now fail
//! earlier still, at the decode budget, before anything is reserved.
//!
//! Dense valid input: well-formed bodies made of minimal elements that are several times larger in memory
//! than on the wire (empty Produce topics, minimal Metadata partitions, nested and tagged-field arrays,
//! empty records). Each either decodes or is refused at the decode budget, and the peak stays within
//! `(factor + 1) × input + slack`: the budget (`factor × input + slack`) bounds everything a decode has
//! charged, and so allocated; a dense array that outgrows its first reservation grows once, and while the
//! allocator moves it the old buffer (at most the bytes left when it was reserved, so at most the input)
//! may be live too. When a body decodes, the peak is also checked against what decoding charged (within
//! small change): nothing is allocated that the budget did not pay for, and arrays do not grow by
//! doubling past their count.
#![cfg(feature = "unstable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kprod::protocol::messages::add_partitions_to_txn::AddPartitionsToTxnResponse;
use kprod::protocol::messages::metadata::MetadataResponse;
use kprod::protocol::messages::produce::ProduceResponse;
use kprod::protocol::primitives::{put_uvarint, DECODE_BUDGET_SLACK};
use kprod::protocol::record::{decode_batches, RECORD_DECODE_BUDGET_FACTOR};
use kprod::protocol::{Message, ProtocolError, Reader};

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

/// What a decode may hold beyond what it charged: error values and the like.
const SMALL_CHANGE: u64 = 64 << 10;

/// Checks a dense valid body's peak against `(factor + 1) × input + slack` and, when it decoded, against
/// what decoding charged (`charged`, None when refused).
fn check_dense_peak(what: &str, input: usize, factor: usize, peak: u64, charged: Option<usize>) {
    let ratio = peak as f64 / input as f64;
    eprintln!("{what}: input {input} B, peak {peak} B ({ratio:.3}× input), charged {charged:?}");
    let bound = ((factor + 1) * input + DECODE_BUDGET_SLACK) as u64;
    assert!(
        peak <= bound,
        "{what}: peak {peak} B is above (factor {factor} + 1) × input + slack ({bound} B)"
    );
    if let Some(charged) = charged {
        assert!(
            peak <= charged as u64 + SMALL_CHANGE,
            "{what}: peak {peak} B is above the {charged} B that decoding charged"
        );
    }
}

/// Decodes a dense but well-formed `body` as `M` at `version`: it must decode when `decodes`, else be
/// refused at the decode budget, and its peak must stay within the bounds of [`check_dense_peak`].
fn check_dense<M: Message + std::fmt::Debug>(what: &str, body: &[u8], version: i16, decodes: bool) {
    let (r, peak) = peak_during(|| M::decode_body(body, version).map(|_| ()));
    let charged = r.is_ok().then(|| {
        let mut reader = Reader::with_budget(body, usize::MAX);
        M::decode(&mut reader, M::ctx(version).unwrap()).unwrap();
        usize::MAX - reader.budget_left()
    });
    check_dense_peak(what, body.len(), M::DECODE_BUDGET_FACTOR, peak, charged);
    match r {
        Ok(()) => assert!(decodes, "{what}: decoded, but is denser than the budget"),
        Err(ProtocolError::DecodeBudget { .. }) => assert!(!decodes, "{what}: refused at the budget"),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Appends a compact array length of `n` elements.
fn compact_len(body: &mut Vec<u8>, n: usize) {
    put_uvarint(body, n as u32 + 1);
}

/// How many `element`-byte elements fit in what is left of `SIZE` after `used` bytes and `after` more.
fn fill(used: usize, element: usize, after: usize) -> usize {
    (SIZE - used - after - 4) / element
}

#[test]
fn produce_v9_dense_empty_topics() {
    // ~21 million topics with an empty name and no partitions, 3 bytes each on the wire and 64 in memory:
    // 21× the input, so refused before anything is reserved.
    let n = fill(0, 3, 5);
    let mut body = Vec::with_capacity(SIZE);
    compact_len(&mut body, n);
    for _ in 0..n {
        body.extend_from_slice(&[0x01, 0x01, 0x00]); // name "", partitions [], no tagged fields
    }
    body.extend_from_slice(&[0, 0, 0, 0, 0x00]); // throttle_time_ms, tagged fields
    check_dense::<ProduceResponse>("produce v9: empty topics", &body, 9, false);
}

#[test]
fn metadata_v12_dense_minimal_partitions() {
    // One topic with ~3.5 million minimal partitions, 18 bytes each on the wire and 88 in memory (4.9×):
    // every well-formed Metadata response decodes.
    let mut body = 0i32.to_be_bytes().to_vec(); // throttle_time_ms
    body.push(0x01); // brokers: empty
    body.push(0x00); // cluster_id: null
    body.extend_from_slice(&1i32.to_be_bytes()); // controller_id
    compact_len(&mut body, 1); // topics
    body.extend_from_slice(&[0, 3]); // error_code UNKNOWN_TOPIC_OR_PARTITION
    body.push(0x00); // name: null (v12 names topics by id)
    body.extend_from_slice(&[7; 16]); // topic_id
    body.push(0x00); // is_internal
    let n = fill(body.len(), 18, 6);
    compact_len(&mut body, n); // partitions
    for _ in 0..n {
        // error_code, partition_index, leader_id, leader_epoch; replica, ISR and offline arrays empty;
        // no tagged fields.
        body.extend_from_slice(&[0; 14]);
        body.extend_from_slice(&[0x01, 0x01, 0x01, 0x00]);
    }
    body.extend_from_slice(&[0, 0, 0, 0, 0x00, 0x00]); // topic_authorized_operations, topic and body tags
    check_dense::<MetadataResponse>("metadata v12: minimal partitions", &body, 12, true);
}

#[test]
fn produce_v9_dense_topics_of_one_partition() {
    // Nested: ~1.7 million topics, each with one minimal partition (36 bytes on the wire, 152 in memory).
    let n = fill(0, 36, 5);
    let mut body = Vec::with_capacity(SIZE);
    compact_len(&mut body, n);
    for _ in 0..n {
        body.extend_from_slice(&[0x01]); // name ""
        compact_len(&mut body, 1);
        // index, error_code, base_offset, log_append_time_ms, log_start_offset
        body.extend_from_slice(&[0; 30]);
        body.extend_from_slice(&[0x01, 0x00, 0x00]); // record_errors [], error_message null, tags
        body.push(0x00); // topic tags
    }
    body.extend_from_slice(&[0, 0, 0, 0, 0x00]);
    check_dense::<ProduceResponse>("produce v9: topics of one partition", &body, 9, true);
}

#[test]
fn add_partitions_to_txn_v4_dense_nested_topic_results() {
    // Nested refusal: one transaction whose topic results are ~21 million empty ones (3 bytes on the wire,
    // 48 in memory): the inner array is refused at the budget. (v4+ is the broker-side form; the producer
    // reads v0-v3, but this is the densest array kprod's codec nests.)
    let mut body = 0i32.to_be_bytes().to_vec(); // throttle_time_ms
    body.extend_from_slice(&[0, 0]); // error_code
    compact_len(&mut body, 1); // results_by_transaction
    body.extend_from_slice(&[0x02, b'x']); // transactional_id "x"
    let n = fill(body.len(), 3, 2);
    compact_len(&mut body, n); // topic_results
    for _ in 0..n {
        body.extend_from_slice(&[0x01, 0x01, 0x00]); // name "", results_by_partition [], tags
    }
    body.extend_from_slice(&[0x00, 0x00]); // transaction and body tags
    check_dense::<AddPartitionsToTxnResponse>(
        "add_partitions_to_txn v4: nested empty topics",
        &body,
        4,
        false,
    );
}

#[test]
fn produce_v10_dense_node_endpoints_in_a_tagged_field() {
    // The top-level tagged field node_endpoints (read through a sub-reader that spends the body's
    // budget) holds ~5.2 million endpoints of 12 bytes on the wire and 57 in memory.
    let mut body = vec![0x01]; // responses: empty
    body.extend_from_slice(&0i32.to_be_bytes()); // throttle_time_ms
    body.extend_from_slice(&[0x01, 0x00]); // one tagged field, tag 0
    let n = fill(body.len() + 4, 12, 0);
    let mut field = Vec::with_capacity(SIZE);
    compact_len(&mut field, n);
    for _ in 0..n {
        // node_id 1, host "h", port 9092, rack null, tags
        field.extend_from_slice(&[0, 0, 0, 1, 0x02, b'h', 0, 0, 0x23, 0x84, 0x00, 0x00]);
    }
    put_uvarint(&mut body, field.len() as u32);
    body.extend_from_slice(&field);
    drop(field);
    check_dense::<ProduceResponse>("produce v10: node endpoints (tagged)", &body, 10, true);
}

#[test]
fn record_batch_of_empty_records() {
    // ~9 million records with a null key, an empty value and no headers, 7 bytes each and 104 in memory
    // as `OwnedRecord`s (15×): well-formed (decode_records does not check that offset deltas rise), so
    // decoded within the records' own budget.
    let n = (SIZE - 61) / 7;
    let mut batch = vec![0u8; 61];
    batch.reserve(n * 7);
    for _ in 0..n {
        // length 6, attributes, timestamp delta, offset delta, key null, value empty, no headers
        batch.extend_from_slice(&[0x0c, 0, 0, 0, 0x01, 0x00, 0x00]);
    }
    let len = batch.len();
    batch[8..12].copy_from_slice(&((len - 12) as i32).to_be_bytes()); // batchLength
    batch[16] = 2; // magic
    batch[57..61].copy_from_slice(&(n as i32).to_be_bytes()); // record count
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());

    let b = decode_batches(&batch).next().expect("one batch").unwrap();
    let (r, peak) = peak_during(|| b.decode_records().map(|v| v.len()));
    assert_eq!(r.unwrap(), n);
    // What decoding charges: one `OwnedRecord` per record, nothing else (no keys, values or headers).
    let charged = n * std::mem::size_of::<kprod::protocol::record::OwnedRecord>();
    check_dense_peak(
        "record batch of empty records",
        len - 61,
        RECORD_DECODE_BUDGET_FACTOR,
        peak,
        Some(charged),
    );
}
