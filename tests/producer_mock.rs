//! The producer against the in-process mock cluster: fault injection the real broker cannot do on
//! demand — each retriable error, lost acknowledgements, throttling, MESSAGE_TOO_LARGE splits — plus
//! acks=0, blocking and timeouts, flush/close/Drop, callbacks, interceptors and delivery reports. The
//! same features are proven against real Kafka in `producer_kafka.rs`.
#![cfg(feature = "mock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ledger::{Expect, Ledger};
use common::WaitOutcome;
use kprod::mock::MockCluster;
use kprod::{ApiKey, ErrorCode};
use kprod::{Error, Producer, ProducerConfig, ProducerInterceptor, Record, RecordMetadata, TopicPartition};

/// Prints kprod's `log` output to stderr when `KPROD_TEST_LOG` is set (for debugging a test).
struct StderrLog(Instant);

impl log::Log for StderrLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let t = self.0.elapsed();
        let thread = std::thread::current();
        eprintln!(
            "{:>8.3} {:<16} {:<5} {}",
            t.as_secs_f64(),
            thread.name().unwrap_or("?"),
            r.level(),
            r.args()
        );
    }
    fn flush(&self) {}
}

fn config(cluster: &MockCluster, extra: &[(&str, &str)]) -> ProducerConfig {
    if std::env::var_os("KPROD_TEST_LOG").is_some() {
        static LOGGER: std::sync::OnceLock<StderrLog> = std::sync::OnceLock::new();
        let logger = LOGGER.get_or_init(|| StderrLog(Instant::now()));
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    }
    let mut props = vec![("bootstrap.servers", cluster.bootstrap_servers()), ("linger.ms", "5".into())];
    props.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    ProducerConfig::from_properties(props).unwrap()
}

fn values(cluster: &MockCluster, topic: &str, partition: i32) -> Vec<Vec<u8>> {
    cluster
        .partition_records(topic, partition)
        .into_iter()
        .map(|r| r.value.map(|v| v.to_vec()).unwrap_or_default())
        .collect()
}

fn produce_requests(cluster: &MockCluster) -> usize {
    cluster.requests().iter().filter(|r| r.api_key == ApiKey::PRODUCE).count()
}

fn one(l: &Ledger, p: &Producer, topic: &str, value: &[u8]) -> Result<RecordMetadata, Error> {
    l.record(p, Record::new(topic).partition(0).value(value.to_vec()))?.outcome()
}

/// How long a scenario's ledger check waits for outcomes.
const T: Duration = Duration::from_secs(30);

/// Stored once each, in send order, and acknowledged.
const ONCE: Expect = Expect { all_acked: true, no_duplicates: true, ordered: true };

#[test]
fn sends_and_reports_offsets() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 3, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let mut futures = Vec::new();
    for i in 0..1000u32 {
        let v = i.to_be_bytes();
        futures.push(l.record(&p, Record::new("t").partition((i % 3) as i32).value(v.to_vec())).unwrap());
    }
    for (i, f) in futures.into_iter().enumerate() {
        let m = f.outcome().unwrap();
        assert_eq!(m.topic_partition.partition, (i % 3) as i32);
        assert_eq!(m.offset, (i / 3) as i64);
    }
    for part in 0..3 {
        let want: Vec<Vec<u8>> =
            (0..1000u32).filter(|i| i % 3 == part as u32).map(|i| i.to_be_bytes().to_vec()).collect();
        assert_eq!(values(&cluster, "t", part), want);
    }
    l.check_stored(&p, &cluster, ONCE, T);
    p.close(Duration::from_secs(5)).unwrap();
}

#[test]
fn every_retriable_produce_error_is_retried() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "10")])).unwrap();
    one(&l, &p, "t", b"warm-up").unwrap();
    let codes = [
        ErrorCode::NOT_LEADER_OR_FOLLOWER,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode::LEADER_NOT_AVAILABLE,
        ErrorCode::NOT_ENOUGH_REPLICAS,
        ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ErrorCode::REQUEST_TIMED_OUT,
        ErrorCode::KAFKA_STORAGE_ERROR,
        ErrorCode::NETWORK_EXCEPTION,
        ErrorCode::CORRUPT_MESSAGE,
    ];
    for (i, code) in codes.into_iter().enumerate() {
        let before = produce_requests(&cluster);
        cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[code, code]);
        let m = one(&l, &p, "t", format!("v{i}").as_bytes()).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(m.offset, i as i64 + 1, "{code}");
        assert_eq!(produce_requests(&cluster) - before, 3, "{code}: two failures, then success");
    }
    let want: Vec<Vec<u8>> = std::iter::once(b"warm-up".to_vec())
        .chain((0..codes.len()).map(|i| format!("v{i}").into_bytes()))
        .collect();
    assert_eq!(values(&cluster, "t", 0), want, "each record stored once, in order");
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn non_retriable_errors_fail_the_records() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    one(&l, &p, "t", b"ok").unwrap();
    cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::RECORD_LIST_TOO_LARGE]);
    let e = one(&l, &p, "t", b"refused").unwrap_err();
    assert_eq!(e.broker_code(), Some(ErrorCode::RECORD_LIST_TOO_LARGE));
    assert!(!e.is_retriable());
    // Retries exhausted: `retries=1` gives up after one retry.
    let p2 = Producer::new(config(&cluster, &[("retries", "1"), ("retry.backoff.ms", "1")])).unwrap();
    cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::NOT_ENOUGH_REPLICAS; 3]);
    let e = one(&l, &p2, "t", b"gave up").unwrap_err();
    assert_eq!(e.broker_code(), Some(ErrorCode::NOT_ENOUGH_REPLICAS));
    cluster.clear_faults();
    assert_eq!(values(&cluster, "t", 0), vec![b"ok".to_vec()]);
    let e = Expect { no_duplicates: true, ordered: true, ..Expect::one_outcome() };
    l.check(Some(&p2), e, T);
    l.check_stored(&p, &cluster, e, T);
}

#[test]
fn lost_acknowledgement_is_retried_and_counted_as_a_duplicate() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "10"), ("enable.idempotence", "false")]))
        .unwrap();
    one(&l, &p, "t", b"a").unwrap();
    // The broker stores the batch but the connection dies before the answer: without idempotence the
    // retry writes it again (Java's behaviour too).
    cluster.drop_after_processing(ApiKey::PRODUCE, Some(("t", 0)), 1);
    let m = one(&l, &p, "t", b"b").unwrap();
    assert_eq!(m.offset, 2, "the retry's copy");
    // A request lost before processing is simply sent again.
    cluster.drop_before_processing(ApiKey::PRODUCE, Some(("t", 0)), 1);
    one(&l, &p, "t", b"c").unwrap();
    assert_eq!(values(&cluster, "t", 0), vec![b"a".to_vec(), b"b".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    // Without idempotence the lost acknowledgement costs a duplicate; everything else holds.
    l.check_stored(&p, &cluster, Expect { all_acked: true, ordered: true, ..Expect::one_outcome() }, T);
}

#[test]
fn throttled_responses_hold_back_the_next_request() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("linger.ms", "0")])).unwrap();
    one(&l, &p, "t", b"warm-up").unwrap();
    cluster.set_throttle(ApiKey::PRODUCE, 400);
    one(&l, &p, "t", b"throttled").unwrap();
    let t = Instant::now();
    one(&l, &p, "t", b"after").unwrap();
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(350), "sent after {waited:?}, inside the 400 ms throttle");
    cluster.set_throttle(ApiKey::PRODUCE, 0);
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn message_too_large_splits_the_batch() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.set_topic_config("t", "max.message.bytes", "3000").unwrap();
    let p = Producer::new(config(&cluster, &[("linger.ms", "100"), ("batch.size", "65536")])).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..60u32)
        .map(|i| {
            let calls = Arc::clone(&calls);
            let v = format!("{i:0200}");
            p.send_with(Record::new("t").partition(0).value(v.into_bytes()), move |r| {
                assert!(r.is_ok());
                calls.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    let offsets: Vec<i64> = futures.into_iter().map(|f| f.outcome().unwrap().offset).collect();
    p.flush(Duration::from_secs(5)).unwrap();
    let stored: Vec<String> =
        values(&cluster, "t", 0).iter().map(|v| String::from_utf8_lossy(&v[196..]).into_owned()).collect();
    assert_eq!(offsets, (0..60).collect::<Vec<i64>>(), "stored: {stored:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 60, "each callback once");
    let want: Vec<Vec<u8>> = (0..60u32).map(|i| format!("{i:0200}").into_bytes()).collect();
    assert_eq!(values(&cluster, "t", 0), want);
    assert!(cluster.partition_batches("t", 0).len() >= 4, "split into batches under 3000 bytes");
}

#[test]
fn acks_zero_completes_without_responses() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("acks", "0")])).unwrap();
    let futures: Vec<_> = (0..500u32)
        .map(|i| l.record(&p, Record::new("t").value(i.to_be_bytes().to_vec())).unwrap())
        .collect();
    for f in futures {
        assert_eq!(f.outcome().unwrap().offset, -1, "acks=0 has no offset");
    }
    p.close(Duration::from_secs(5)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while values(&cluster, "t", 0).len() < 500 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(values(&cluster, "t", 0).len(), 500);
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn unreachable_cluster_times_out_and_hands_the_record_back() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.broker_down(1).unwrap();
    let p = Producer::new(config(&cluster, &[("max.block.ms", "300")])).unwrap();
    let t = Instant::now();
    let e = p.send(Record::new("t").key(&b"k"[..]).value(&b"v"[..])).unwrap_err();
    assert!(t.elapsed() >= Duration::from_millis(290));
    assert!(matches!(e.error(), Error::UnknownTopicOrPartition { .. }), "{}", e.error());
    assert!(e.error().is_retriable());
    let r = e.into_record();
    assert_eq!(r.value.as_deref(), Some(&b"v"[..]));
    // try_send never waits.
    let t = Instant::now();
    assert!(p.try_send(Record::new("t")).is_err());
    assert!(t.elapsed() < Duration::from_millis(100));
}

#[test]
fn broker_down_expires_every_queued_record_and_bounds_memory() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let p = Producer::new(config(
        &cluster,
        &[
            ("delivery.timeout.ms", "1500"),
            ("request.timeout.ms", "1000"),
            ("buffer.memory", "131072"),
            ("batch.size", "16384"),
            ("max.block.ms", "200"),
            // A re-bootstrap (the default strategy) would forget the down broker's topics, as Java
            // does, and later sends would wait for metadata instead; this test is about queued records.
            ("metadata.recovery.strategy", "none"),
        ],
    ))
    .unwrap();
    one(&l, &p, "t", b"before").unwrap();
    cluster.broker_down(1).unwrap();
    let outcomes = Arc::new(AtomicUsize::new(0));
    let mut accepted = 0;
    let mut refused = 0;
    for i in 0..5000u32 {
        let outcomes = Arc::clone(&outcomes);
        let r = Record::new("t").value(vec![i as u8; 200]);
        match p.send_with(r, move |r| {
            assert!(r.is_err());
            outcomes.fetch_add(1, Ordering::SeqCst);
        }) {
            Ok(_) => accepted += 1,
            Err(e) => {
                assert!(matches!(e.error(), Error::BufferExhausted { .. }), "{}", e.error());
                assert_eq!(e.into_record().value.unwrap().len(), 200, "record handed back");
                refused += 1;
                if refused > 3 {
                    break;
                }
            }
        }
    }
    // 128 KiB of buffer holds at most ~8 batches of 16 KiB: roughly 650 records of 200 B.
    assert!(accepted > 100 && accepted < 1000, "accepted {accepted}");
    assert!(refused > 0);
    p.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(outcomes.load(Ordering::SeqCst), accepted, "every queued record got an outcome");
}

#[test]
fn drop_delivers_everything_and_runs_every_callback() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 4, 1).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let p = Producer::new(config(&cluster, &[("linger.ms", "50")])).unwrap();
        for i in 0..10_000u32 {
            let calls = Arc::clone(&calls);
            p.send_with(Record::new("t").value(i.to_be_bytes().to_vec()), move |r| {
                r.unwrap();
                calls.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 10_000);
    let stored: usize = (0..4).map(|p| values(&cluster, "t", p).len()).sum();
    assert_eq!(stored, 10_000);
}

#[test]
fn forced_close_fails_pending_records() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    one(&l, &p, "t", b"x").unwrap();
    cluster.broker_down(1).unwrap();
    let f = l.record(&p, Record::new("t").value(&b"pending"[..])).unwrap();
    assert!(p.close(Duration::from_millis(200)).is_err(), "close timed out");
    assert!(matches!(f.outcome(), Err(Error::Closed)));
    assert!(matches!(p.send(Record::new("t")).unwrap_err().error(), Error::Closed));
    let report = l.check(Some(&p), Expect::one_outcome(), T);
    assert_eq!((report.acked, report.failed.len()), (1, 1));
}

#[test]
fn panicking_callbacks_are_caught_and_counted() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    p.send_with(Record::new("t").value(&b"a"[..]), |_| panic!("boom")).unwrap();
    let r2 = Arc::clone(&ran);
    p.send_with(Record::new("t").value(&b"b"[..]), move |_| {
        r2.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(p.callback_panics(), 1);
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the next callback still ran");
}

#[test]
fn a_slow_callback_does_not_stall_delivery() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("linger.ms", "0")])).unwrap();
    let (tx, rx) = crossbeam_channel::bounded::<()>(0);
    p.send_with(Record::new("t").value(&b"slow"[..]), move |_| {
        let _ = rx.recv_timeout(Duration::from_secs(10));
    })
    .unwrap();
    // While that callback blocks, later records are still written to the broker.
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..100u32 {
        l.record(&p, Record::new("t").value(i.to_be_bytes().to_vec())).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while values(&cluster, "t", 0).len() < 101 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(values(&cluster, "t", 0).len(), 101);
    tx.send(()).unwrap();
    l.check_stored(&p, &cluster, ONCE, T);
}

struct Tagger {
    acks: Arc<AtomicUsize>,
}

impl ProducerInterceptor for Tagger {
    fn on_send<'a>(&self, record: Record<'a>) -> Record<'a> {
        record.header("intercepted", Some(&b"yes"[..]))
    }
    fn on_acknowledgement(&self, tp: Option<&TopicPartition>, result: &Result<RecordMetadata, Error>) {
        assert!(result.is_ok() && tp.is_some());
        self.acks.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn interceptors_see_sends_and_acknowledgements() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let acks = Arc::new(AtomicUsize::new(0));
    let p = Producer::builder(config(&cluster, &[]))
        .interceptor(Tagger { acks: Arc::clone(&acks) })
        .build()
        .unwrap();
    for i in 0..10u8 {
        l.record(&p, Record::new("t").value(vec![b'v', i])).unwrap();
    }
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(acks.load(Ordering::SeqCst), 10);
    let recs = cluster.partition_records("t", 0);
    assert_eq!(recs.len(), 10);
    assert!(recs
        .iter()
        .all(|r| r.headers == vec![("intercepted".to_string(), Some(bytes::Bytes::from_static(b"yes")))]));
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn delivery_reports_carry_the_opaque() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[])).unwrap();
    let reports = p.delivery_reports();
    for i in 0..100u64 {
        p.send_reported(Record::new("t").value(i.to_be_bytes().to_vec()), 1000 + i).unwrap();
    }
    let mut got: Vec<(u64, i64)> = (0..100)
        .map(|_| {
            let r = reports.recv_timeout(Duration::from_secs(5)).unwrap();
            (r.opaque, r.result.unwrap().offset)
        })
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..100).map(|i| (1000 + i as u64, i as i64)).collect::<Vec<_>>());
}

#[test]
fn on_delivery_handler_gets_opaques_and_failures_on_the_callback_thread() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let p = Producer::builder(config(&cluster, &[]))
        .on_delivery(move |opaque, result: Result<RecordMetadata, Error>| {
            let name = std::thread::current().name().map(str::to_owned);
            s.lock().push((opaque, result.map(|m| m.offset).map_err(|e| e.to_string()), name));
        })
        .build()
        .unwrap();
    for i in 0..50u64 {
        p.send_reported(Record::new("t").value(i.to_be_bytes().to_vec()), 7000 + i).unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let mut got = seen.lock().clone();
    got.sort_by_key(|g| g.0);
    assert_eq!(got.len(), 50);
    for (i, (opaque, result, thread)) in got.iter().enumerate() {
        assert_eq!(*opaque, 7000 + i as u64);
        assert_eq!(result, &Ok(i as i64));
        assert_eq!(thread.as_deref(), Some("kprod-callbacks"));
    }
    assert!(p.delivery_reports().try_recv().is_none());
}

#[test]
fn on_delivery_batch_gets_each_batchs_outcomes_in_one_call_in_order() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let calls = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let c = Arc::clone(&calls);
    let p = Producer::builder(config(&cluster, &[("linger.ms", "50")]))
        .on_delivery_batch(move |batch: Vec<(u64, Result<RecordMetadata, Error>)>| {
            let name = std::thread::current().name().map(str::to_owned);
            c.lock().push((batch.into_iter().map(|(o, r)| (o, r.unwrap().offset)).collect::<Vec<_>>(), name));
        })
        .build()
        .unwrap();
    for i in 0..500u64 {
        p.send_reported(Record::new("t").value(i.to_be_bytes().to_vec()), 9000 + i).unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let calls = calls.lock().clone();
    let all: Vec<(u64, i64)> = calls.iter().flat_map(|(b, _)| b.iter().copied()).collect();
    assert_eq!(all, (0..500).map(|i| (9000 + i as u64, i as i64)).collect::<Vec<_>>(), "each once, in order");
    assert!(calls.len() < 50, "one call per batch, not per record: {} calls", calls.len());
    assert!(calls.iter().all(|(_, t)| t.as_deref() == Some("kprod-callbacks")));
}

#[test]
fn sends_through_the_per_thread_cache_see_added_partitions_and_close() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("metadata.max.age.ms", "60000")])).unwrap();
    // Warm this thread's cache for "t" (two partitions).
    for i in 0..100u32 {
        l.record(&p, Record::new("t").partition((i % 2) as i32).value(i.to_be_bytes().to_vec())).unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    // A partition the cached metadata does not have: the send refreshes metadata and waits for it.
    cluster.add_partitions("t", 4).unwrap();
    let f = l.record(&p, Record::new("t").partition(3).value(&b"late"[..])).unwrap();
    assert_eq!(f.outcome().unwrap().topic_partition.partition, 3);
    // Keyless records may now go to all four partitions, through the refreshed cache entry.
    for i in 100_000..102_000u32 {
        l.record(&p, Record::new("t").value(i.to_be_bytes().to_vec())).unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let counts: Vec<usize> = (0..4).map(|q| cluster.partition_records("t", q).len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 2101);
    assert_eq!(
        cluster.partition_records("t", 3).first().and_then(|r| r.value.clone()).as_deref(),
        Some(&b"late"[..])
    );
    l.check_stored(&p, &cluster, ONCE, T);
    // After close, a send that would hit the cache is refused.
    p.close(Duration::from_secs(10)).unwrap();
    let e = p.send(Record::new("t").partition(0).value(&b"x"[..])).unwrap_err();
    assert!(matches!(e.error(), Error::Closed), "{e:?}");
}

#[test]
fn ordering_holds_with_one_in_flight_request_and_retries() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(
        &cluster,
        &[("max.in.flight.requests.per.connection", "1"), ("batch.size", "1024"), ("retry.backoff.ms", "5")],
    ))
    .unwrap();
    let mut futures = Vec::new();
    for i in 0..2000u32 {
        if i % 200 == 0 {
            cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::NOT_ENOUGH_REPLICAS]);
        }
        futures.push(l.record(&p, Record::new("t").value(i.to_be_bytes().to_vec())).unwrap());
    }
    for f in futures {
        f.outcome().unwrap();
    }
    let want: Vec<Vec<u8>> = (0..2000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(values(&cluster, "t", 0), want);
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn leaders_that_move_between_brokers_are_followed() {
    let l = Ledger::new();
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 1, 3).unwrap();
    let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "10")])).unwrap();
    let mut n = 0u32;
    for round in 0..3 {
        for _ in 0..100 {
            l.record(&p, Record::new("t").value(n.to_be_bytes().to_vec())).unwrap();
            n += 1;
        }
        p.flush(Duration::from_secs(10)).unwrap();
        let leader = cluster.leader("t", 0).unwrap();
        let next = cluster.broker_ids().into_iter().find(|&b| b != leader).unwrap();
        cluster.move_leader("t", 0, next).unwrap();
        assert_ne!(cluster.leader("t", 0), Some(leader), "round {round}");
    }
    p.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(values(&cluster, "t", 0).len(), 300);
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn mock_num_brokers_runs_an_embedded_cluster() {
    let l = Ledger::new();
    // Issue 4 item 6: no bootstrap servers, an in-process cluster instead.
    let p = Producer::new(ProducerConfig::from_properties([("mock.num.brokers", "3")]).unwrap()).unwrap();
    let m = l.record(&p, Record::new("auto").value(&b"v"[..])).unwrap().outcome().unwrap();
    assert_eq!(m.offset, 0);
    assert_eq!(p.partitions_for("auto").unwrap().len(), 1);
    l.check(Some(&p), ONCE, T);
}

#[test]
fn adaptive_partitioning_favours_the_faster_leader() {
    let l = Ledger::new();
    let cluster = MockCluster::new(2).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    let slow = cluster.leader("t", 0).unwrap();
    cluster.set_broker_delay(slow, Duration::from_millis(50)).unwrap();
    let p = Producer::new(config(&cluster, &[("batch.size", "2048"), ("linger.ms", "1")])).unwrap();
    // Paced, so the sender sees the slow partition's queue grow while records are still coming.
    for i in 0..10_000 {
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Err(e) = l.record(&p, Record::new("t").value(format!("{i:0100}").into_bytes())) {
            panic!("{e}");
        }
    }
    p.flush(Duration::from_secs(120)).unwrap();
    let (n0, n1) = (values(&cluster, "t", 0).len(), values(&cluster, "t", 1).len());
    eprintln!("adaptive: slow partition {n0}, fast partition {n1}");
    assert_eq!(n0 + n1, 10_000);
    assert!(n1 > 2 * n0, "the slow leader's partition got {n0}, the fast one {n1}");
    l.check_stored(&p, &cluster, ONCE, T);
}

// ---------------------------------------------------------------------------------------------------
// Idempotence (on by default)

fn init_requests(cluster: &MockCluster) -> usize {
    cluster.requests().iter().filter(|r| r.api_key == ApiKey::INIT_PRODUCER_ID).count()
}

#[test]
fn idempotent_lost_ack_is_retried_without_a_duplicate() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "10")])).unwrap();
    assert!(p.config().enable_idempotence(), "on by default");
    one(&l, &p, "t", b"a").unwrap();
    cluster.drop_after_processing(ApiKey::PRODUCE, Some(("t", 0)), 1);
    let m = one(&l, &p, "t", b"b").unwrap();
    assert_eq!(m.offset, 1, "the broker recognised the retry and answered with the original offset");
    one(&l, &p, "t", b"c").unwrap();
    assert_eq!(values(&cluster, "t", 0), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let recs = cluster.partition_records("t", 0);
    assert!(recs.iter().all(|r| r.producer_id >= 0), "written by an idempotent producer");
    assert_eq!(recs.iter().map(|r| r.sequence).collect::<Vec<_>>(), vec![0, 1, 2]);
    cluster.check_invariants().unwrap();
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn out_of_order_and_unknown_producer_id_bump_the_epoch_and_delivery_goes_on() {
    for code in [ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode::UNKNOWN_PRODUCER_ID] {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 1, 1).unwrap();
        let p = Producer::new(config(&cluster, &[("retry.backoff.ms", "10")])).unwrap();
        let l = Ledger::new();
        one(&l, &p, "t", b"a").unwrap();
        assert_eq!(init_requests(&cluster), 1);
        cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[code]);
        one(&l, &p, "t", b"b").unwrap_or_else(|e| panic!("{code}: {e}"));
        one(&l, &p, "t", b"c").unwrap();
        assert_eq!(init_requests(&cluster), 2, "{code}: one epoch bump");
        assert_eq!(values(&cluster, "t", 0), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()], "{code}");
        let recs = cluster.partition_records("t", 0);
        let first = (recs[0].producer_id, recs[0].producer_epoch);
        let later = (recs[1].producer_id, recs[1].producer_epoch);
        assert_ne!(first, later, "{code}: b was written under the new epoch");
        assert_eq!((recs[1].sequence, recs[2].sequence), (0, 1), "{code}: sequences start again");
        cluster.check_invariants().unwrap();
        l.check_stored(&p, &cluster, ONCE, T);
    }
}

#[test]
fn idempotent_retries_keep_order_with_five_in_flight() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = Producer::new(config(&cluster, &[("batch.size", "1024"), ("retry.backoff.ms", "5")])).unwrap();
    let mut futures = Vec::new();
    for i in 0..5000u32 {
        if i % 500 == 0 {
            cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::NOT_LEADER_OR_FOLLOWER]);
        }
        if i % 700 == 0 {
            cluster.drop_after_processing(ApiKey::PRODUCE, Some(("t", 0)), 1);
        }
        futures.push(l.record(&p, Record::new("t").value(i.to_be_bytes().to_vec())).unwrap());
    }
    for f in futures {
        f.outcome().unwrap();
    }
    let want: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(values(&cluster, "t", 0), want, "every record once, in order");
    cluster.check_invariants().unwrap();
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn fatal_authorization_error_fails_every_pending_record() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.push_errors(ApiKey::INIT_PRODUCER_ID, None, &[ErrorCode::CLUSTER_AUTHORIZATION_FAILED]);
    let p = Producer::new(config(&cluster, &[])).unwrap();
    // Refused at once if the producer already went fatal, else failed with the same error.
    let e = match p.send(Record::new("t").value(&b"x"[..])) {
        Ok(f) => f.outcome().unwrap_err(),
        Err(e) => e.error().clone(),
    };
    assert_eq!(e.broker_code(), Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED), "{e}");
    let e = p.send(Record::new("t").value(&b"y"[..])).unwrap_err();
    assert_eq!(e.error().broker_code(), Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED));
    assert!(values(&cluster, "t", 0).is_empty());
}

// ---------------------------------------------------------------------------------------------------
// Transactions (the mock speaks transactions v1)

use kprod::{ConsumerGroupMetadata, OffsetAndMetadata};

fn txn_producer(cluster: &MockCluster, id: &str) -> Producer {
    let p = Producer::new(config(cluster, &[("transactional.id", id), ("retry.backoff.ms", "10")])).unwrap();
    p.init_transactions(Duration::from_secs(10)).unwrap();
    p
}

fn committed_values(cluster: &MockCluster, topic: &str, partition: i32) -> Vec<Vec<u8>> {
    cluster
        .read_committed(topic, partition)
        .into_iter()
        .map(|r| r.value.map(|v| v.to_vec()).unwrap_or_default())
        .collect()
}

#[test]
fn transaction_commit_and_abort() {
    let l = Ledger::new();
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 2, 3).unwrap();
    let p = txn_producer(&cluster, "tx-1");
    assert!(
        matches!(p.send(Record::new("t").value(&b"outside"[..])), Err(e) if matches!(e.error(), Error::IllegalState(_)))
    );

    p.begin_transaction().unwrap();
    for i in 0..10u8 {
        l.record(&p, Record::new("t").partition(i32::from(i % 2)).value(vec![b'c', i])).unwrap();
    }
    p.commit_transaction(Duration::from_secs(10)).unwrap();

    p.begin_transaction().unwrap();
    let f = l.record(&p, Record::new("t").partition(0).value(&b"aborted"[..])).unwrap();
    p.flush(Duration::from_secs(5)).unwrap();
    assert!(f.outcome().is_ok(), "written, then aborted");
    p.abort_transaction(Duration::from_secs(10)).unwrap();

    p.begin_transaction().unwrap();
    l.record(&p, Record::new("t").partition(1).value(&b"after"[..])).unwrap();
    p.commit_transaction(Duration::from_secs(10)).unwrap();

    let c0 = committed_values(&cluster, "t", 0);
    let c1 = committed_values(&cluster, "t", 1);
    assert_eq!(c0, (0..10u8).filter(|i| i % 2 == 0).map(|i| vec![b'c', i]).collect::<Vec<_>>());
    let mut want1: Vec<Vec<u8>> = (0..10u8).filter(|i| i % 2 == 1).map(|i| vec![b'c', i]).collect();
    want1.push(b"after".to_vec());
    assert_eq!(c1, want1);
    assert!(values(&cluster, "t", 0).contains(&b"aborted".to_vec()), "in the log, but never committed");
    cluster.check_invariants().unwrap();
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn transactional_offsets_commit_with_the_transaction() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("in", 1, 1).unwrap();
    cluster.create_topic("out", 1, 1).unwrap();
    let p = txn_producer(&cluster, "tx-offsets");
    let group = ConsumerGroupMetadata::new("g1");
    let offsets = |o: i64| {
        vec![OffsetAndMetadata { topic_partition: TopicPartition::new("in", 0), offset: o, metadata: None }]
    };
    // Aborted: offsets not committed.
    p.begin_transaction().unwrap();
    l.record(&p, Record::new("out").value(&b"x"[..])).unwrap();
    p.send_offsets_to_transaction(&offsets(5), &group, Duration::from_secs(10)).unwrap();
    p.abort_transaction(Duration::from_secs(10)).unwrap();
    assert!(cluster.committed_offsets("g1").is_empty());
    // Committed: offsets visible.
    p.begin_transaction().unwrap();
    l.record(&p, Record::new("out").value(&b"y"[..])).unwrap();
    p.send_offsets_to_transaction(&offsets(7), &group, Duration::from_secs(10)).unwrap();
    p.commit_transaction(Duration::from_secs(10)).unwrap();
    assert_eq!(cluster.committed_offsets("g1").get(&("in".to_string(), 0)), Some(&7));
    assert_eq!(committed_values(&cluster, "out", 0), vec![b"y".to_vec()]);
    l.check_stored(&p, &cluster, Expect { no_duplicates: true, ..Expect::one_outcome() }, T);
}

#[test]
fn a_newer_producer_with_the_same_id_fences_the_old_one() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let old = txn_producer(&cluster, "tx-fence");
    old.begin_transaction().unwrap();
    l.record(&old, Record::new("t").value(&b"old"[..])).unwrap();
    old.flush(Duration::from_secs(5)).unwrap();
    let new = txn_producer(&cluster, "tx-fence");
    let e = old.commit_transaction(Duration::from_secs(10)).unwrap_err();
    assert!(e.is_fatal(), "fenced is fatal: {e}");
    assert!(old.send(Record::new("t").value(&b"more"[..])).is_err());
    new.begin_transaction().unwrap();
    l.record(&new, Record::new("t").value(&b"new"[..])).unwrap();
    new.commit_transaction(Duration::from_secs(10)).unwrap();
    assert_eq!(
        committed_values(&cluster, "t", 0),
        vec![b"new".to_vec()],
        "the fenced transaction was aborted"
    );
    l.check(Some(&old), Expect::one_outcome(), T);
    l.check_stored(&new, &cluster, Expect { no_duplicates: true, ..Expect::one_outcome() }, T);
}

#[test]
fn coordinator_errors_mid_commit_are_retried() {
    let l = Ledger::new();
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 1, 3).unwrap();
    let p = txn_producer(&cluster, "tx-moves");
    p.begin_transaction().unwrap();
    cluster.push_errors(ApiKey::ADD_PARTITIONS_TO_TXN, None, &[ErrorCode::CONCURRENT_TRANSACTIONS]);
    l.record(&p, Record::new("t").value(&b"a"[..])).unwrap();
    cluster.push_errors(
        ApiKey::END_TXN,
        None,
        &[
            ErrorCode::NOT_COORDINATOR,
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
            ErrorCode::CONCURRENT_TRANSACTIONS,
        ],
    );
    p.commit_transaction(Duration::from_secs(10)).unwrap();
    assert_eq!(committed_values(&cluster, "t", 0), vec![b"a".to_vec()]);
    let finds = cluster.requests().iter().filter(|r| r.api_key == ApiKey::FIND_COORDINATOR).count();
    assert!(finds >= 2, "NOT_COORDINATOR made the producer look the coordinator up again ({finds})");
    l.check_stored(&p, &cluster, ONCE, T);
}

#[test]
fn a_failed_record_makes_the_transaction_abortable_then_it_goes_on() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let p = txn_producer(&cluster, "tx-abortable");
    p.begin_transaction().unwrap();
    cluster.push_errors(ApiKey::PRODUCE, Some(("t", 0)), &[ErrorCode::RECORD_LIST_TOO_LARGE]);
    let f = l.record(&p, Record::new("t").value(&b"bad"[..])).unwrap();
    let e = p.commit_transaction(Duration::from_secs(10)).unwrap_err();
    assert_eq!(e.broker_code(), Some(ErrorCode::RECORD_LIST_TOO_LARGE));
    assert!(!e.is_fatal() && e.txn_requires_abort(), "{e}");
    assert!(f.outcome().is_err());
    assert!(p.send(Record::new("t").value(&b"refused"[..])).is_err(), "no sends until aborted");
    p.abort_transaction(Duration::from_secs(10)).unwrap();
    p.begin_transaction().unwrap();
    l.record(&p, Record::new("t").value(&b"good"[..])).unwrap();
    p.commit_transaction(Duration::from_secs(10)).unwrap();
    assert_eq!(committed_values(&cluster, "t", 0), vec![b"good".to_vec()]);
    l.check_stored(&p, &cluster, Expect { no_duplicates: true, ..Expect::one_outcome() }, T);
}

#[test]
fn transaction_state_machine_error_paths() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.create_topic("in", 1, 1).unwrap();

    // Wrong order of calls: illegal-state errors, nothing sent.
    let p = Producer::new(config(&cluster, &[("transactional.id", "tx-states")])).unwrap();
    assert!(matches!(p.begin_transaction(), Err(Error::IllegalState(_))), "begin before init");
    // InitProducerId: a retriable error is retried.
    cluster.push_errors(ApiKey::INIT_PRODUCER_ID, None, &[ErrorCode::CONCURRENT_TRANSACTIONS]);
    p.init_transactions(Duration::from_secs(10)).unwrap();
    assert!(
        matches!(p.commit_transaction(Duration::from_secs(1)), Err(Error::IllegalState(_))),
        "commit outside"
    );
    assert!(
        matches!(p.abort_transaction(Duration::from_secs(1)), Err(Error::IllegalState(_))),
        "abort outside"
    );
    p.begin_transaction().unwrap();
    assert!(matches!(p.begin_transaction(), Err(Error::IllegalState(_))), "begin twice");
    // An empty transaction commits without EndTxn.
    p.commit_transaction(Duration::from_secs(5)).unwrap();
    assert_eq!(cluster.requests().iter().filter(|r| r.api_key == ApiKey::END_TXN).count(), 0);

    // AddOffsetsToTxn refused: the transaction becomes abortable, then goes on after an abort.
    let group = ConsumerGroupMetadata::new("g-states");
    let offsets =
        [OffsetAndMetadata { topic_partition: TopicPartition::new("in", 0), offset: 3, metadata: None }];
    p.begin_transaction().unwrap();
    l.record(&p, Record::new("t").value(&b"x"[..])).unwrap();
    cluster.push_errors(ApiKey::ADD_OFFSETS_TO_TXN, None, &[ErrorCode::GROUP_AUTHORIZATION_FAILED]);
    let e = p.send_offsets_to_transaction(&offsets, &group, Duration::from_secs(5)).unwrap_err();
    assert_eq!(e.broker_code(), Some(ErrorCode::GROUP_AUTHORIZATION_FAILED));
    assert!(p.commit_transaction(Duration::from_secs(5)).is_err(), "abortable: commit refused");
    p.abort_transaction(Duration::from_secs(5)).unwrap();

    // TxnOffsetCommit: the group coordinator moved; the producer finds it again.
    p.begin_transaction().unwrap();
    l.record(&p, Record::new("t").value(&b"y"[..])).unwrap();
    cluster.push_errors(ApiKey::TXN_OFFSET_COMMIT, None, &[ErrorCode::NOT_COORDINATOR]);
    p.send_offsets_to_transaction(&offsets, &group, Duration::from_secs(5)).unwrap();
    p.commit_transaction(Duration::from_secs(5)).unwrap();
    assert_eq!(cluster.committed_offsets("g-states").get(&("in".to_string(), 0)), Some(&3));
    assert_eq!(committed_values(&cluster, "t", 0), vec![b"y".to_vec()]);

    l.check_stored(&p, &cluster, Expect { no_duplicates: true, ..Expect::one_outcome() }, T);

    // Not authorized for the transactional id: fatal, for good.
    let q = Producer::new(config(&cluster, &[("transactional.id", "tx-denied")])).unwrap();
    cluster.push_errors(ApiKey::INIT_PRODUCER_ID, None, &[ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
    let e = q.init_transactions(Duration::from_secs(5)).unwrap_err();
    assert!(e.is_fatal(), "{e}");
    assert!(q.begin_transaction().is_err());
}

#[test]
fn a_mock_capped_to_kafka_3_9s_versions_gets_transactions_v1_and_produce_v11() {
    let l = Ledger::new();
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 2, 1).unwrap();
    // Kafka 3.9's ranges for what a transactional producer uses: before transactions v2 (KIP-890).
    cluster
        .set_api_version(ApiKey::PRODUCE, 3, 11)
        .set_api_version(ApiKey::API_VERSIONS, 0, 4)
        .set_api_version(ApiKey::ADD_PARTITIONS_TO_TXN, 0, 4)
        .set_api_version(ApiKey::END_TXN, 0, 4)
        .set_api_version(ApiKey::INIT_PRODUCER_ID, 0, 5);
    let p = txn_producer(&cluster, "tx-capped");
    p.begin_transaction().unwrap();
    for i in 0..20u8 {
        l.record(&p, Record::new("t").value(vec![i])).unwrap();
    }
    p.commit_transaction(Duration::from_secs(10)).unwrap();
    let reqs = cluster.requests();
    let max = |k: ApiKey| reqs.iter().filter(|r| r.api_key == k).map(|r| r.api_version).max();
    assert_eq!(max(ApiKey::PRODUCE), Some(11));
    assert_eq!(max(ApiKey::END_TXN), Some(4));
    assert!(max(ApiKey::ADD_PARTITIONS_TO_TXN).is_some(), "transactions v1 registers partitions");
    let stored = committed_values(&cluster, "t", 0).len() + committed_values(&cluster, "t", 1).len();
    assert_eq!(stored, 20);
    l.check_stored(&p, &cluster, Expect { no_duplicates: true, ..Expect::one_outcome() }, T);
}
