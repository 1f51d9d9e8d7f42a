//! Criterion benchmarks of the producer's hot path: record encode, batch seal (CRC), each codec at its
//! default level on a JSON-like corpus, accumulator append (one thread and four), BufferPool
//! acquire/release, and end to end into the embedded mock cluster (null sink).
//!
//! `cargo bench --features mock --bench hot_path`; under `cargo test` each benchmark runs once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kprod::accumulator::buffer_pool::BufferPool;
use kprod::accumulator::{AccumulatorConfig, RecordAccumulator};
use kprod::compression::{CompressionType, Compressor};
use kprod::protocol::record::{BatchParams, RecordBatchWriter, NO_HEADERS};

/// A deterministic JSON-like corpus of ~300-byte records (W5's shape).
fn json_corpus(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"id":{i},"user":"user-{}","event":"{}","ts":{},"amount":{}.{:02},"tags":["{}","{}"],"ua":"Mozilla/5.0 (X11; Linux x86_64) kprod-bench/{}","ok":{}}}"#,
                i % 977,
                ["click", "view", "purchase", "signup"][i % 4],
                1_700_000_000_000u64 + i as u64 * 37,
                i % 500,
                i % 100,
                ["red", "green", "blue"][i % 3],
                ["eu", "us", "ap"][i % 3],
                i % 13,
                i % 2 == 0
            )
            .into_bytes()
        })
        .collect()
}

fn record_encode(c: &mut Criterion) {
    let value = [b'x'; 100];
    let mut g = c.benchmark_group("record_encode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_100B", |b| {
        let mut w = Some(RecordBatchWriter::new(Vec::with_capacity(1 << 20), BatchParams::default()));
        let mut n = 0;
        b.iter(|| {
            if n == 8000 {
                let buf = w.take().map(RecordBatchWriter::into_buffer).unwrap_or_default();
                w = Some(RecordBatchWriter::new(buf, BatchParams::default()));
                n = 0;
            }
            n += 1;
            w.as_mut()
                .unwrap()
                .append(black_box(1_700_000_000_000), None, Some(&value[..]), NO_HEADERS)
                .unwrap()
        });
    });
    g.finish();
}

fn seal_batch(c: &mut Criterion) {
    let value = [b'x'; 100];
    let mut g = c.benchmark_group("batch_seal");
    g.throughput(Throughput::Bytes(16 * 1024));
    g.bench_function("crc32c_16KiB", |b| {
        b.iter_batched(
            || {
                let mut w = RecordBatchWriter::new(Vec::with_capacity(16 * 1024), BatchParams::default());
                while w.size_in_bytes() + 120 < 16 * 1024 {
                    w.append(0, None, Some(&value[..]), NO_HEADERS).unwrap();
                }
                w
            },
            |w| w.seal(None, &mut Vec::new()).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn codecs(c: &mut Criterion) {
    let corpus = json_corpus(64);
    let input: Vec<u8> = corpus.concat();
    let mut g = c.benchmark_group("compress_json_default_level");
    g.throughput(Throughput::Bytes(input.len() as u64));
    for ty in [CompressionType::Gzip, CompressionType::Snappy, CompressionType::Lz4, CompressionType::Zstd] {
        let mut comp = Compressor::new(ty, None).unwrap();
        let mut out = Vec::with_capacity(input.len());
        g.bench_function(ty.name(), |b| {
            b.iter(|| {
                out.clear();
                comp.compress(black_box(&input), &mut out).unwrap();
                out.len()
            })
        });
    }
    g.finish();
}

fn accumulator(c: &mut Criterion) {
    let value = [b'x'; 100];
    let mut g = c.benchmark_group("accumulator_append");
    g.throughput(Throughput::Elements(1));
    let make = || {
        let pool = Arc::new(BufferPool::new(64 << 20, 16 * 1024));
        Arc::new(RecordAccumulator::new(AccumulatorConfig::default(), pool))
    };
    g.bench_function("uncontended", |b| {
        let acc = make();
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            if n % 100_000 == 0 {
                // Keep memory bounded: drain what was appended.
                let now = Instant::now();
                acc.begin_flush();
                loop {
                    let ready = acc.ready(now);
                    let (batches, _) = acc.drain(&ready.ready, usize::MAX, now);
                    if batches.is_empty() {
                        break;
                    }
                    for mut bt in batches {
                        let _ =
                            bt.done(Ok(kprod::accumulator::BatchAck { base_offset: 0, log_append_time: -1 }));
                        acc.deallocate(bt);
                    }
                }
                acc.await_flush_completion(Some(Duration::ZERO));
            }
            acc.append("t", 0, 0, None, Some(&value[..]), NO_HEADERS, None, Duration::ZERO, Instant::now())
                .unwrap()
        });
    });
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("four_threads_4x25k", |b| {
        b.iter_batched(
            make,
            |acc| {
                std::thread::scope(|s| {
                    for t in 0..4 {
                        let acc = &acc;
                        s.spawn(move || {
                            for _ in 0..25_000 {
                                acc.append(
                                    "t",
                                    t,
                                    0,
                                    None,
                                    Some(&value[..]),
                                    NO_HEADERS,
                                    None,
                                    Duration::ZERO,
                                    Instant::now(),
                                )
                                .unwrap();
                            }
                        });
                    }
                });
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn buffer_pool(c: &mut Criterion) {
    let pool = BufferPool::new(32 << 20, 16 * 1024);
    c.bench_function("buffer_pool_acquire_release_16KiB", |b| {
        b.iter(|| {
            let buf = pool.allocate(16 * 1024, Duration::ZERO).unwrap();
            pool.deallocate(black_box(buf));
        })
    });
}

#[cfg(feature = "mock")]
fn end_to_end(c: &mut Criterion) {
    use kprod::mock::MockCluster;
    use kprod::{Producer, ProducerConfig, Record};
    let cluster = MockCluster::builder().brokers(1).null_sink(true).build().unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", cluster.bootstrap_servers().as_str()),
            ("acks", "0"),
            ("enable.idempotence", "false"),
        ])
        .unwrap(),
    )
    .unwrap();
    // The settings scripts/bench-compare pins for every client (1 MiB batches, 5 ms linger).
    let p_large = Producer::new(
        ProducerConfig::from_properties([
            ("bootstrap.servers", cluster.bootstrap_servers().as_str()),
            ("acks", "0"),
            ("enable.idempotence", "false"),
            ("batch.size", "1048576"),
            ("linger.ms", "5"),
            ("buffer.memory", "33554432"),
        ])
        .unwrap(),
    )
    .unwrap();
    let value = [b'x'; 100];
    let mut g = c.benchmark_group("end_to_end_mock_null_sink");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("10k_records_100B_acks0", |b| {
        b.iter(|| {
            for _ in 0..10_000 {
                p.send(Record::new("t").value(&value[..])).unwrap();
            }
            p.flush(Duration::from_secs(30)).unwrap();
        })
    });
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("100k_records_100B_acks0_batch_1MiB", |b| {
        b.iter(|| {
            for _ in 0..100_000 {
                p_large.send(Record::new("t").value(&value[..])).unwrap();
            }
            p_large.flush(Duration::from_secs(30)).unwrap();
        })
    });
    g.finish();
}

#[cfg(not(feature = "mock"))]
fn end_to_end(_: &mut Criterion) {}

criterion_group!(benches, record_encode, seal_batch, codecs, accumulator, buffer_pool, end_to_end);
criterion_main!(benches);
