//! The one shared checker of the producer's first promise: every accepted send gets exactly one
//! outcome. A [`Ledger`] sends records whose values carry a unique id, counts each record's callback
//! outcomes and keeps its future; [`Ledger::check`] then waits (bounded) for every outcome and asserts
//! the invariants the scenario promises — exactly one outcome per send, future and callback agree, no
//! acknowledged record lost, no duplicate, per-partition send order — and, given the mock cluster, checks
//! them against what the brokers stored. It fails the test with the first violation; it never hangs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kprod::{DeliveryFuture, Error, Producer, Record, RecordMetadata, TopicPartition};
use parking_lot::Mutex;

/// What a scenario promises beyond "exactly one outcome per send".
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    /// Every send must succeed.
    pub all_acked: bool,
    /// No record may be stored twice (idempotence, or no retry of a written batch).
    pub no_duplicates: bool,
    /// Per partition, acknowledged records are stored in send order.
    pub ordered: bool,
}

impl Expect {
    /// Only the first promise: exactly one outcome per accepted send.
    pub fn one_outcome() -> Self {
        Expect::default()
    }

    /// Everything succeeds, once, in order (idempotence with acks=all).
    pub fn exactly_once_in_order() -> Self {
        Expect { all_acked: true, no_duplicates: true, ordered: true }
    }
}

#[derive(Debug)]
struct Sent {
    id: u64,
    future: DeliveryFuture,
    topic_partition: TopicPartition,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<Sent>,
    /// Callback outcomes by record id.
    outcomes: HashMap<u64, Vec<Result<RecordMetadata, Error>>>,
    /// Ids of records sent with a value of the caller's ([`Ledger::record`]), by value.
    custom: HashMap<Vec<u8>, u64>,
}

/// Records sent through the ledger and their outcomes.
#[derive(Debug, Clone)]
pub struct Ledger {
    tag: String,
    next: Arc<AtomicU64>,
    state: Arc<Mutex<State>>,
}

/// The outcome counts a [`Ledger::check`] found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Records acknowledged.
    pub acked: usize,
    /// Records that failed, with their errors.
    pub failed: Vec<(u64, Error)>,
}

static LEDGERS: AtomicU64 = AtomicU64::new(0);

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// A ledger whose record values are unique to it (`L<n>-<id>`).
    pub fn new() -> Self {
        Ledger {
            tag: format!("L{}-{}", std::process::id(), LEDGERS.fetch_add(1, Ordering::Relaxed)),
            next: Arc::new(AtomicU64::new(0)),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The value a record with `id` carries.
    pub fn value(&self, id: u64) -> Vec<u8> {
        format!("{}-{id:010}", self.tag).into_bytes()
    }

    /// The id in `value`, when it is one of this ledger's.
    pub fn id_of(&self, value: &[u8]) -> Option<u64> {
        if let Some(id) = self.state.lock().custom.get(value) {
            return Some(*id);
        }
        let s = std::str::from_utf8(value).ok()?;
        s.strip_prefix(&self.tag)?.strip_prefix('-')?.parse().ok()
    }

    /// Sends `record` as it is (its value must be unique among this ledger's records, to find it in
    /// the brokers' logs), counting its outcome; returns its future.
    pub fn record(&self, p: &Producer, record: Record<'_>) -> Result<DeliveryFuture, Error> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let value = record.value.as_deref().map(<[u8]>::to_vec);
        let state = Arc::clone(&self.state);
        let future = p
            .send_with(record, move |outcome| state.lock().outcomes.entry(id).or_default().push(outcome))
            .map_err(|e| e.error().clone())?;
        let topic_partition = future.topic_partition().clone();
        let mut st = self.state.lock();
        if let Some(v) = value {
            let previous = st.custom.insert(v, id);
            assert!(previous.is_none(), "a ledger needs unique values to find records in the logs");
        }
        st.sent.push(Sent { id, future: future.clone(), topic_partition });
        Ok(future)
    }

    /// Sends one record to `topic` (to `partition`, when given, with `key`); its outcome is counted by
    /// a callback. Returns the record's id, or the refusal (a refused record gets no outcome).
    pub fn send(
        &self,
        p: &Producer,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
    ) -> Result<u64, Error> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut r = Record::new(topic).value(self.value(id));
        if let Some(part) = partition {
            r = r.partition(part);
        }
        if let Some(k) = key {
            r = r.key(k.to_vec());
        }
        let state = Arc::clone(&self.state);
        let future = p
            .send_with(r, move |outcome| state.lock().outcomes.entry(id).or_default().push(outcome))
            .map_err(|e| e.error().clone())?;
        let topic_partition = future.topic_partition().clone();
        self.state.lock().sent.push(Sent { id, future, topic_partition });
        Ok(id)
    }

    /// Sends `n` records, panicking on a refusal.
    pub fn send_n(&self, p: &Producer, topic: &str, partition: Option<i32>, n: usize) {
        for _ in 0..n {
            if let Err(e) = self.send(p, topic, partition, None) {
                panic!("send refused: {e}");
            }
        }
    }

    /// Records accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.lock().sent.len()
    }

    /// Waits up to `timeout` for every accepted record's outcome, then asserts exactly one outcome per
    /// record (callback and future agreeing) and what `expect` promises; with `producer`, that its
    /// buffer memory is all back once the outcomes are in. Panics with the first violation.
    pub fn check(&self, producer: Option<&Producer>, expect: Expect, timeout: Duration) -> Report {
        let deadline = Instant::now() + timeout;
        // Every outcome, within the time allowed.
        loop {
            let missing: Vec<u64> = {
                let st = self.state.lock();
                st.sent.iter().filter(|s| !st.outcomes.contains_key(&s.id)).map(|s| s.id).take(10).collect()
            };
            if missing.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "lost outcomes: no callback within {timeout:?} for records {missing:?} (of {})",
                self.accepted()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let st = self.state.lock();
        let mut report = Report::default();
        for s in &st.sent {
            let Some(future) = s.future.wait_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                panic!("record {}: the callback ran but the future has no outcome", s.id);
            };
            let outcomes = &st.outcomes[&s.id];
            assert_eq!(outcomes.len(), 1, "record {} got {} outcomes: {outcomes:?}", s.id, outcomes.len());
            match (&outcomes[0], &future) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "record {}: callback and future disagree", s.id);
                    report.acked += 1;
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string(), "record {}: callback and future disagree", s.id);
                    report.failed.push((s.id, a.clone()));
                }
                (a, b) => panic!("record {}: callback says {a:?}, future says {b:?}", s.id),
            }
        }
        if expect.all_acked {
            assert!(
                report.failed.is_empty(),
                "records failed: {:?}",
                &report.failed[..report.failed.len().min(5)]
            );
        }
        drop(st);
        if let Some(p) = producer {
            // The last callbacks give their batches' memory back just after they run.
            let total = p.config().buffer_memory();
            while p.buffer_available_bytes() != total {
                assert!(
                    Instant::now() < deadline,
                    "buffer memory leaked: {} of {total} bytes available after every outcome",
                    p.buffer_available_bytes()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        report
    }

    /// [`check`](Self::check), then compares with what the mock cluster stored: every acknowledged
    /// record is in its partition at its reported offset (unless acks=0 reported -1); with
    /// `expect.no_duplicates` no record is stored twice; with `expect.ordered` each partition holds its
    /// acknowledged records in send order.
    #[cfg(feature = "mock")]
    pub fn check_stored(
        &self,
        producer: &Producer,
        cluster: &kprod::mock::MockCluster,
        expect: Expect,
        timeout: Duration,
    ) -> Report {
        let report = self.check(Some(producer), expect, timeout);
        let st = self.state.lock();
        let id_of = |value: &[u8]| -> Option<u64> {
            if let Some(id) = st.custom.get(value) {
                return Some(*id);
            }
            let s = std::str::from_utf8(value).ok()?;
            s.strip_prefix(&self.tag)?.strip_prefix('-')?.parse().ok()
        };
        let mut by_partition: std::collections::BTreeMap<TopicPartition, Vec<(u64, i64)>> =
            Default::default();
        for s in &st.sent {
            if let Ok(m) = &st.outcomes[&s.id][0] {
                by_partition.entry(s.topic_partition.clone()).or_default().push((s.id, m.offset));
            }
        }
        let partitions: Vec<TopicPartition> = {
            let mut all: Vec<TopicPartition> = st.sent.iter().map(|s| s.topic_partition.clone()).collect();
            all.sort();
            all.dedup();
            all
        };
        for tp in partitions {
            let stored: Vec<(u64, i64)> = cluster
                .partition_records(&tp.topic, tp.partition)
                .into_iter()
                .filter_map(|r| r.value.as_deref().and_then(id_of).map(|id| (id, r.offset)))
                .collect();
            let mut copies: HashMap<u64, usize> = HashMap::new();
            for (id, _) in &stored {
                *copies.entry(*id).or_default() += 1;
            }
            if expect.no_duplicates {
                if let Some((id, n)) = copies.iter().find(|(_, &n)| n > 1) {
                    panic!("{tp}: record {id} stored {n} times");
                }
            }
            let acked = by_partition.get(&tp).map(Vec::as_slice).unwrap_or_default();
            for (id, offset) in acked {
                assert!(copies.contains_key(id), "{tp}: acknowledged record {id} is not stored (lost)");
                if *offset >= 0 {
                    assert!(
                        stored.contains(&(*id, *offset)),
                        "{tp}: record {id} acknowledged at offset {offset} but stored at {:?}",
                        stored.iter().filter(|(i, _)| i == id).map(|(_, o)| o).collect::<Vec<_>>()
                    );
                }
            }
            if expect.ordered {
                let mut first_copy = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for (id, _) in &stored {
                    if seen.insert(*id) && acked.iter().any(|(a, _)| a == id) {
                        first_copy.push(*id);
                    }
                }
                let sent: Vec<u64> = acked.iter().map(|(id, _)| *id).collect();
                assert_eq!(first_copy, sent, "{tp}: stored order differs from send order");
            }
        }
        report
    }
}
