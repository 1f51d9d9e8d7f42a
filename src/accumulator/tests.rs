//! Unit tests of the accumulator and its batches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::buffer_pool::BufferPool;
use super::*;
use crate::compression::CompressionType;
use crate::error::Error;
use crate::protocol::record::{decode_batches, OwnedRecord, NO_HEADERS, NO_TIMESTAMP};

const BLOCK: Duration = Duration::from_secs(5);

fn accumulator(batch_size: usize, memory: usize, linger_ms: u64) -> RecordAccumulator {
    let config = AccumulatorConfig {
        batch_size,
        linger: Duration::from_millis(linger_ms),
        ..AccumulatorConfig::default()
    };
    RecordAccumulator::new(config, Arc::new(BufferPool::new(memory, batch_size)))
}

fn append(acc: &RecordAccumulator, partition: i32, value: &[u8], now: Instant) -> AppendResult {
    acc.append("t", partition, 1_000, None, Some(value), NO_HEADERS, None, BLOCK, now).unwrap()
}

fn tp(partition: i32) -> TopicPartition {
    TopicPartition::new("t", partition)
}

fn records(batch: &ProducerBatch) -> Vec<OwnedRecord> {
    let bytes = batch.sealed_bytes().unwrap();
    let mut it = decode_batches(bytes);
    let decoded = it.next().unwrap().unwrap();
    assert!(it.next().is_none());
    decoded.decode_records().unwrap()
}

/// Drains every queued batch, in per-partition order.
fn drain_all(acc: &RecordAccumulator, now: Instant) -> Vec<ProducerBatch> {
    acc.begin_flush();
    let mut out = Vec::new();
    while acc.has_undrained() {
        let ready = acc.ready(now);
        let (batches, failed) = acc.drain(&ready.ready, usize::MAX, now);
        assert!(failed.is_empty());
        out.extend(batches);
    }
    out
}

#[test]
fn append_fills_batches_up_to_batch_size_then_starts_a_new_one() {
    let acc = accumulator(200, 10_000, 0);
    let now = Instant::now();
    let first = append(&acc, 0, &[1; 30], now);
    assert!(first.new_batch_created);
    assert!(!first.batch_is_full);
    let mut n = 1;
    loop {
        let r = append(&acc, 0, &[1; 30], now);
        if r.new_batch_created {
            assert!(r.batch_is_full, "two queued batches make the partition sendable");
            assert_eq!(r.handle.offset_delta(), 0);
            break;
        }
        assert_eq!(r.handle.offset_delta(), n);
        n += 1;
    }
    let batches = drain_all(&acc, now);
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0].record_count(), n);
    assert!(batches[0].size_in_bytes() <= 200);
    // The record that started the second batch would not have fitted in the first.
    assert!(batches[0].size_in_bytes() + 30 > 200);
    assert_eq!(records(&batches[0]).len(), n as usize);
    assert_eq!(batches[1].record_count(), 1);
}

#[test]
fn oversize_record_gets_its_own_batch() {
    let acc = accumulator(100, 10_000, 0);
    let now = Instant::now();
    append(&acc, 0, b"small", now);
    let big = append(&acc, 0, &[7; 500], now);
    assert!(big.new_batch_created);
    let after = append(&acc, 0, b"small again", now);
    assert!(after.new_batch_created);
    let batches = drain_all(&acc, now);
    let counts: Vec<_> = batches.iter().map(ProducerBatch::record_count).collect();
    assert_eq!(counts, [1, 1, 1]);
    assert_eq!(records(&batches[1])[0].value.as_deref(), Some(&[7u8; 500][..]));
    for b in batches {
        acc.deallocate(b);
    }
    assert_eq!(acc.buffer_pool().available_memory(), 10_000);
}

#[test]
fn ready_respects_linger_and_fullness() {
    let acc = accumulator(100, 10_000, 10);
    let t0 = Instant::now();
    append(&acc, 0, b"a", t0);
    let r = acc.ready(t0);
    assert!(r.ready.is_empty());
    assert_eq!(r.next_ready_check_delay, Some(Duration::from_millis(10)));
    let r = acc.ready(t0 + Duration::from_millis(4));
    assert_eq!(r.next_ready_check_delay, Some(Duration::from_millis(6)));
    assert_eq!(acc.ready(t0 + Duration::from_millis(10)).ready, [tp(0)]);

    // A full batch is ready before linger.ms.
    append(&acc, 1, &[0; 60], t0);
    let full = append(&acc, 1, &[0; 60], t0);
    assert!(full.new_batch_created && full.batch_is_full);
    let r = acc.ready(t0);
    assert_eq!(r.ready, [tp(1)]);

    // A flush makes everything ready.
    acc.begin_flush();
    let mut ready = acc.ready(t0).ready;
    ready.sort();
    assert_eq!(ready, [tp(0), tp(1)]);
}

#[test]
fn drain_respects_max_request_size_and_returns_batches_in_order() {
    let acc = accumulator(100, 10_000, 0);
    let now = Instant::now();
    // One 60-byte record per batch, tagged by its first byte: partition 0 gets 0, 1, 2; partition 1 9, 10.
    for tag in 0..3u8 {
        append(&acc, 0, &[tag; 60], now);
    }
    for tag in 9..11u8 {
        append(&acc, 1, &[tag; 60], now);
    }
    let both = [tp(0), tp(1)];
    // The first batch is always taken, even past the limit.
    let (first, _) = acc.drain(&both, 1, now);
    assert_eq!(first.len(), 1);
    let size = first[0].size_in_bytes();
    let (second, _) = acc.drain(&both, 2 * size + 1, now);
    assert_eq!(second.len(), 2, "one batch of each partition, within the limit");
    let mut all: Vec<ProducerBatch> = first.into_iter().chain(second).collect();
    while acc.has_undrained() {
        all.extend(acc.drain(&both, 2 * size - 1, now).0);
    }
    let tags = |p: i32| -> Vec<u8> {
        all.iter()
            .filter(|b| b.topic_partition().partition == p)
            .map(|b| records(b)[0].value.as_ref().unwrap()[0])
            .collect()
    };
    assert_eq!(tags(0), [0, 1, 2]);
    assert_eq!(tags(1), [9, 10]);
}

#[test]
fn reenqueue_puts_a_retried_batch_back_at_the_front() {
    let acc = accumulator(100, 10_000, 0);
    let t0 = Instant::now();
    append(&acc, 0, &[1; 60], t0);
    let (mut drained, _) = acc.drain(&[tp(0)], usize::MAX, t0);
    append(&acc, 0, &[2; 60], t0);
    append(&acc, 0, &[3; 60], t0);
    let retried = drained.pop().unwrap();
    acc.reenqueue(retried, t0, Duration::from_millis(100));
    // Backing off: not ready even though more batches are queued behind it.
    let r = acc.ready(t0 + Duration::from_millis(50));
    assert!(r.ready.is_empty());
    assert_eq!(r.next_ready_check_delay, Some(Duration::from_millis(50)));
    assert!(acc.drain(&[tp(0)], usize::MAX, t0).0.is_empty());
    let later = t0 + Duration::from_millis(100);
    assert_eq!(acc.ready(later).ready, [tp(0)]);
    let order: Vec<(u8, u32)> = (0..3)
        .map(|_| {
            let (b, _) = acc.drain(&[tp(0)], usize::MAX, later);
            (records(&b[0])[0].value.as_ref().unwrap()[0], b[0].attempts())
        })
        .collect();
    assert_eq!(order, [(1, 1), (2, 0), (3, 0)]);
}

#[test]
fn expire_returns_batches_older_than_the_delivery_timeout() {
    let acc = accumulator(100, 10_000, 0);
    let t0 = Instant::now();
    append(&acc, 0, &[1; 60], t0);
    append(&acc, 1, &[1; 60], t0 + Duration::from_secs(2));
    let timeout = Duration::from_secs(3);
    assert!(acc.expire(t0 + Duration::from_secs(2), timeout).is_empty());
    let mut expired = acc.expire(t0 + Duration::from_secs(3), timeout);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].topic_partition(), &tp(0));
    let handle_outcome = expired[0].result().clone();
    let completions = expired[0].abort(Error::DeliveryTimeout).unwrap();
    completions.run();
    assert!(matches!(handle_outcome.wait(None), Some(Err(Error::DeliveryTimeout))));
    acc.deallocate(expired.pop().unwrap());
    assert_eq!(acc.expire(t0 + Duration::from_secs(5), timeout).len(), 1);
}

#[test]
fn done_completes_handles_and_callbacks_with_offsets() {
    let acc = accumulator(1000, 10_000, 0);
    let now = Instant::now();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for i in 0..3i64 {
        let cb: Option<Callback> = (i != 1).then(|| {
            let seen = Arc::clone(&seen);
            Callback::new(move |r: Result<RecordMetadata, Error>| seen.lock().push(r.unwrap().offset))
        });
        let r = acc.append("t", 0, 500 + i, None, Some(b"v"), NO_HEADERS, cb, BLOCK, now).unwrap();
        handles.push(r.handle);
    }
    let mut b = drain_all(&acc, now).pop().unwrap();
    assert!(!handles[0].is_done());
    let ack = BatchAck { base_offset: 40, log_append_time: NO_TIMESTAMP };
    b.done(Ok(ack)).unwrap().run();
    assert!(b.done(Ok(ack)).is_none(), "a batch completes once");
    assert_eq!(*seen.lock(), [40, 42]);
    let m = handles[1].get(Some(Duration::ZERO)).unwrap().unwrap();
    assert_eq!((m.offset, m.timestamp), (41, 501));
    acc.deallocate(b);
    assert!(!acc.has_incomplete());
}

#[test]
fn completing_with_callbacks_holds_memory_and_flush_until_they_ran() {
    let acc = accumulator(1000, 10_000, 0);
    let now = Instant::now();
    let cb = Callback::new(|r: Result<RecordMetadata, Error>| assert!(r.is_ok()));
    let r = acc.append("t", 0, 1, None, Some(b"v"), NO_HEADERS, Some(cb), BLOCK, now).unwrap();
    let b = drain_all(&acc, now).pop().unwrap();
    let ack = BatchAck { base_offset: 7, log_append_time: NO_TIMESTAMP };
    let completions = acc.complete(b, Ok(ack)).unwrap();
    assert!(!acc.has_incomplete(), "the sender is done with the batch");
    assert_eq!(acc.buffer_pool().available_memory(), 9_000, "its memory is held for the callback");
    acc.begin_flush();
    assert!(!acc.await_flush_completion(Some(Duration::from_millis(20))), "flush waits for the callback");
    assert!(!r.handle.is_done());
    completions.run();
    assert_eq!(acc.buffer_pool().available_memory(), 10_000, "released once the callback ran");
    assert_eq!(r.handle.get(Some(Duration::ZERO)).unwrap().unwrap().offset, 7);
    acc.begin_flush();
    assert!(acc.await_flush_completion(Some(Duration::ZERO)));
    // Without callbacks the batch settles at once.
    let r = append(&acc, 0, b"w", now);
    let b = drain_all(&acc, now).pop().unwrap();
    assert!(acc.complete(b, Ok(ack)).is_some_and(|c| !c.has_callbacks()));
    assert_eq!(acc.buffer_pool().available_memory(), 10_000);
    assert!(r.handle.is_done());
}

#[test]
fn a_base_offset_a_broker_makes_overflow_gives_offset_minus_one() {
    let acc = accumulator(1000, 10_000, 0);
    let now = Instant::now();
    let first = append(&acc, 0, b"a", now);
    let second = append(&acc, 0, b"b", now);
    let mut b = drain_all(&acc, now).pop().unwrap();
    b.done(Ok(BatchAck { base_offset: i64::MAX, log_append_time: NO_TIMESTAMP }));
    assert_eq!(first.handle.get(Some(Duration::ZERO)).unwrap().unwrap().offset, i64::MAX);
    assert_eq!(second.handle.get(Some(Duration::ZERO)).unwrap().unwrap().offset, -1, "no overflow panic");
    acc.deallocate(b);
}

#[test]
fn compressed_batches_seal_and_decode() {
    let config =
        AccumulatorConfig { batch_size: 300, compression: CompressionType::Gzip, ..Default::default() };
    let acc = RecordAccumulator::new(config, Arc::new(BufferPool::new(10_000, 300)));
    let now = Instant::now();
    for i in 0..20u8 {
        append(&acc, 0, &[i; 40], now);
    }
    let batches = drain_all(&acc, now);
    let values: Vec<u8> = batches.iter().flat_map(records).map(|r| r.value.as_ref().unwrap()[0]).collect();
    assert_eq!(values, (0..20).collect::<Vec<_>>());
    for b in batches {
        acc.deallocate(b);
    }
    assert_eq!(acc.buffer_pool().available_memory(), 10_000);
}

#[test]
fn append_fails_when_memory_runs_out_and_after_close() {
    let acc = accumulator(200, 200, 0);
    let now = Instant::now();
    append(&acc, 0, &[0; 60], now);
    let err = acc
        .append("t", 0, 1, None, Some(&[0; 120]), NO_HEADERS, None, Duration::from_millis(10), now)
        .unwrap_err();
    assert!(matches!(err.error, Error::BufferExhausted { .. }));
    let aborted = acc.abort_incomplete_batches(&Error::Closed);
    assert_eq!(aborted.len(), 1);
    assert_eq!(acc.buffer_pool().available_memory(), 200);
    let err = acc.append("t", 0, 1, None, Some(b"x"), NO_HEADERS, None, BLOCK, now).unwrap_err();
    assert!(matches!(err.error, Error::Closed));
}

#[test]
fn concurrent_appends_keep_every_record_once_and_in_order() {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 3_000;
    for compression in [CompressionType::None, CompressionType::Lz4] {
        let config = AccumulatorConfig { batch_size: 512, compression, ..AccumulatorConfig::default() };
        // Little memory, so appenders block on the pool while a drainer runs concurrently.
        let acc = Arc::new(RecordAccumulator::new(config, Arc::new(BufferPool::new(8 * 512, 512))));
        let done = Arc::new(AtomicBool::new(false));
        let drained = Arc::new(AtomicUsize::new(0));
        let drainer = {
            let (acc, done, drained) = (Arc::clone(&acc), Arc::clone(&done), Arc::clone(&drained));
            thread::spawn(move || {
                let mut seen: HashMap<i32, Vec<(u32, u32)>> = HashMap::new();
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let now = Instant::now() + Duration::from_secs(1);
                    let ready = acc.ready(now);
                    let (batches, failed) = acc.drain(&ready.ready, 4096, now);
                    assert!(failed.is_empty());
                    for b in batches {
                        for r in records(&b) {
                            let v = r.value.unwrap();
                            let thread = u32::from_be_bytes(v[..4].try_into().unwrap());
                            let seq = u32::from_be_bytes(v[4..8].try_into().unwrap());
                            seen.entry(b.topic_partition().partition).or_default().push((thread, seq));
                        }
                        drained.fetch_add(b.record_count() as usize, Ordering::Relaxed);
                        acc.deallocate(b);
                    }
                    if finished && !acc.has_undrained() {
                        return seen;
                    }
                    thread::yield_now();
                }
            })
        };
        let appenders: Vec<_> = (0..THREADS)
            .map(|t| {
                let acc = Arc::clone(&acc);
                thread::spawn(move || {
                    for seq in 0..PER_THREAD {
                        let mut v = [0u8; 40];
                        v[..4].copy_from_slice(&t.to_be_bytes());
                        v[4..8].copy_from_slice(&seq.to_be_bytes());
                        let p = (seq % 3) as i32;
                        acc.append("t", p, 1, None, Some(&v), NO_HEADERS, None, BLOCK, Instant::now())
                            .unwrap();
                    }
                })
            })
            .collect();
        for a in appenders {
            a.join().unwrap();
        }
        done.store(true, Ordering::Release);
        let seen = drainer.join().unwrap();
        assert_eq!(drained.load(Ordering::Relaxed), (THREADS * PER_THREAD) as usize);
        for p in 0..3 {
            let mut next: HashMap<u32, u32> = HashMap::new();
            for &(t, seq) in &seen[&p] {
                let expected = next.entry(t).or_insert(p as u32);
                assert_eq!(seq, *expected, "partition {p} thread {t}");
                *expected += 3;
            }
            for t in 0..THREADS {
                assert!(next[&t] >= PER_THREAD, "partition {p} thread {t} lost records");
            }
        }
        assert!(!acc.has_incomplete());
        assert_eq!(acc.buffer_pool().available_memory(), 8 * 512, "{compression:?}");
    }
}

#[test]
fn a_forced_close_releases_appenders_waiting_for_memory_without_spinning() {
    let acc = Arc::new(accumulator(1000, 1000, 0));
    let now = Instant::now();
    let first = append(&acc, 0, &[1; 900], now);
    assert!(first.new_batch_created);
    // The pool is used up: this append waits for memory (up to 10 s).
    let waiter = {
        let acc = Arc::clone(&acc);
        thread::spawn(move || {
            acc.append("t", 1, 1_000, None, Some(&[2; 900]), NO_HEADERS, None, Duration::from_secs(10), now)
                .map(|_| ())
                .map_err(|e| e.error().clone())
        })
    };
    thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    let aborted = acc.abort_incomplete_batches(&Error::Closed);
    let waited = waiter.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "the abort took {:?}", t.elapsed());
    assert!(matches!(waited, Err(Error::Closed)), "{waited:?}");
    assert!(aborted.iter().all(|c| !c.has_callbacks()), "no callbacks in these batches");
    assert!(matches!(first.handle.get(Some(Duration::ZERO)), Some(Err(Error::Closed))));
}

#[test]
fn records_outstanding_counts_queued_drained_and_unsettled_records_until_their_callbacks_ran() {
    let acc = accumulator(200, 10_000, 0);
    let now = Instant::now();
    let cb = || Some(Callback::new(|_: Result<RecordMetadata, Error>| {}));
    for _ in 0..3 {
        acc.append("t", 0, 1, None, Some(&[1; 30]), NO_HEADERS, cb(), BLOCK, now).unwrap();
    }
    append(&acc, 1, b"x", now);
    assert_eq!(acc.records_outstanding(), 4, "queued");
    let batches = drain_all(&acc, now);
    assert_eq!(acc.records_outstanding(), 4, "drained, in flight");
    let ack = BatchAck { base_offset: 0, log_append_time: NO_TIMESTAMP };
    let mut held = Vec::new();
    for b in batches {
        if b.topic_partition().partition == 0 {
            // Retried once: back in its queue, still counted once.
            acc.reenqueue(b, now, Duration::ZERO);
            assert_eq!(acc.records_outstanding(), 4);
        } else {
            assert!(acc.complete(b, Ok(ack)).is_some_and(|c| !c.has_callbacks()));
        }
    }
    assert_eq!(acc.records_outstanding(), 3, "settled at once without callbacks");
    for b in drain_all(&acc, now) {
        held.extend(acc.complete(b, Ok(ack)));
    }
    assert_eq!(acc.records_outstanding(), 3, "completed, callbacks not run yet");
    for c in held {
        c.run();
    }
    assert_eq!(acc.records_outstanding(), 0);
    // Failed straight from the queue (expired, purged): counted until the callbacks ran.
    acc.append("t", 0, 1, None, Some(b"y"), NO_HEADERS, cb(), BLOCK, now).unwrap();
    let taken = acc.take_queued();
    assert_eq!(taken.len(), 1);
    let c: Vec<_> = taken.into_iter().filter_map(|b| acc.complete(b, Err(Error::Purged))).collect();
    assert_eq!(acc.records_outstanding(), 1);
    drop(c);
    assert_eq!(acc.records_outstanding(), 0);
    assert_eq!(acc.buffer_pool().available_memory(), 10_000);
}

#[test]
fn take_queued_takes_every_batch_of_every_partition() {
    let acc = accumulator(100, 10_000, 1_000);
    let now = Instant::now();
    for p in 0..3 {
        for _ in 0..5 {
            append(&acc, p, &[2; 40], now);
        }
    }
    let taken = acc.take_queued();
    assert!(taken.len() >= 6, "several batches per partition: {}", taken.len());
    assert_eq!(taken.iter().map(|b| b.record_count()).sum::<i32>(), 15);
    assert!(taken.iter().all(ProducerBatch::is_full), "closed for appends");
    assert!(!acc.has_undrained());
    for b in taken {
        assert!(acc.complete(b, Err(Error::Purged)).is_some_and(|c| !c.has_callbacks()));
    }
    assert!(!acc.has_incomplete());
    assert_eq!(acc.buffer_pool().available_memory(), 10_000);
}
