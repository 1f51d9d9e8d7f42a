//! Partitioning: Java's keyed hash, the uniform sticky partitioner for keyless records (KIP-794), the
//! user [`Partitioner`] trait, and librdkafka-compatible partitioners for migrating users.
//!
//! Java's rule (`KafkaProducer.partition`): an explicit partition wins; else a configured custom
//! partitioner; else a key (unless `partitioner.ignore.keys`) goes to
//! `to_positive(murmur2(key)) % num_partitions` over *all* partitions; else the record takes the sticky
//! path ([`StickyPartitioner`], one per topic, driven by the accumulator).

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

/// Java's `Utils.murmur2`: 32-bit MurmurHash2 with seed `0x9747b28c`, bytes read little-endian.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java hashes the length as an int; keys over 2 GiB cannot reach a producer.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if let Some(&b) = tail.first() {
        h ^= u32::from(b);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, so `i32::MIN` maps to 0).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// Java's `BuiltInPartitioner.partitionForKey`: the keyed default, `to_positive(murmur2(key)) %
/// num_partitions`. Returns 0 when `num_partitions` is not positive (Java would divide by zero).
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    if num_partitions <= 0 {
        return 0;
    }
    to_positive(murmur2(key)) % num_partitions
}

/// The built-in choice for a record without an explicit partition or custom partitioner (Java's
/// `KafkaProducer.partition`): `Some(partition)` for a key hashed with [`partition_for_key`], `None` when
/// the record takes the sticky path (no key, or `partitioner.ignore.keys=true`).
pub fn built_in_partition(key: Option<&[u8]>, num_partitions: i32, ignore_keys: bool) -> Option<i32> {
    match key {
        Some(k) if !ignore_keys => Some(partition_for_key(k, num_partitions)),
        _ => None,
    }
}

/// CRC-32 (IEEE 802.3, the zlib/`java.util.zip.CRC32` polynomial), as librdkafka's `rd_crc32`.
///
/// Uses `flate2::Crc` (public, backed by `crc32fast`) rather than the `crc32c` dependency, which is
/// the Castagnoli polynomial and would place keys differently from librdkafka.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// A non-cryptographic random `u32` from a per-thread xorshift64* generator (no shared state, so
/// concurrent callers never contend).
fn random_u32() -> u32 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5eed);
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    })
}

/// Java's `BuiltInPartitioner.randomPartition`: a non-negative random `i32`.
fn random_positive() -> i32 {
    to_positive(random_u32() as i32)
}

/// What a partitioner may know about one topic: its partition count and which partitions currently
/// have a leader (Java's `Cluster.partitionsForTopic` / `availablePartitionsForTopic`).
#[derive(Debug, Clone, Copy)]
pub struct TopicPartitions<'a> {
    num_partitions: i32,
    available: &'a [i32],
}

impl<'a> TopicPartitions<'a> {
    /// A view of a topic with `num_partitions` partitions, of which `available` (ascending partition
    /// ids) have a known leader.
    pub fn new(num_partitions: i32, available: &'a [i32]) -> Self {
        TopicPartitions { num_partitions, available }
    }

    /// The topic's partition count (with or without leaders).
    pub fn num_partitions(&self) -> i32 {
        self.num_partitions
    }

    /// The partitions that have a leader right now.
    pub fn available_partitions(&self) -> &'a [i32] {
        self.available
    }

    /// Whether `partition` has a leader right now.
    pub fn is_available(&self, partition: i32) -> bool {
        self.available.binary_search(&partition).is_ok()
    }

    /// A uniformly random partition, preferring available ones (Java's no-stats `nextPartition`).
    fn random_partition(&self, random: i32) -> i32 {
        if !self.available.is_empty() {
            self.available[random as usize % self.available.len()]
        } else if self.num_partitions > 0 {
            random % self.num_partitions
        } else {
            0
        }
    }
}

/// A user partitioner (Java's `partitioner.class`). Called concurrently from application threads
/// inside `send`, so it must be cheap and must not block.
pub trait Partitioner: Send + Sync {
    /// The partition for one record, in `0..partitions.num_partitions()`; the producer rejects anything
    /// else. `key`/`value` are the serialized bytes (`None` for a null key or value).
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        partitions: &TopicPartitions<'_>,
    ) -> i32;
}

/// librdkafka's `random`: a random partition, re-rolled once if the first pick has no leader.
#[derive(Debug, Default, Clone, Copy)]
pub struct Random;

impl Partitioner for Random {
    fn partition(&self, _: &str, _: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        librdkafka_random(p)
    }
}

fn librdkafka_random(p: &TopicPartitions<'_>) -> i32 {
    let n = p.num_partitions.max(1);
    let first = random_positive() % n;
    if p.is_available(first) {
        first
    } else {
        random_positive() % n
    }
}

/// librdkafka's `consistent`: `crc32(key) % partitions`; a null key hashes as empty (partition 0).
#[derive(Debug, Default, Clone, Copy)]
pub struct Consistent;

impl Partitioner for Consistent {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        consistent(key.unwrap_or_default(), p.num_partitions)
    }
}

fn consistent(key: &[u8], num_partitions: i32) -> i32 {
    // librdkafka takes the unsigned CRC modulo the count.
    (crc32(key) % num_partitions.max(1) as u32) as i32
}

/// librdkafka's `consistent_random` (its default): [`Consistent`] for a non-empty key, [`Random`] for a
/// null *or empty* key.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsistentRandom;

impl Partitioner for ConsistentRandom {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        match key {
            Some(k) if !k.is_empty() => consistent(k, p.num_partitions),
            _ => librdkafka_random(p),
        }
    }
}

/// librdkafka's `murmur2`: Java-compatible [`partition_for_key`]; a null key hashes as empty.
#[derive(Debug, Default, Clone, Copy)]
pub struct Murmur2;

impl Partitioner for Murmur2 {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        partition_for_key(key.unwrap_or_default(), p.num_partitions)
    }
}

/// librdkafka's `murmur2_random`: Java-compatible [`partition_for_key`] for any non-null key (empty
/// included), [`Random`] for a null key.
#[derive(Debug, Default, Clone, Copy)]
pub struct Murmur2Random;

impl Partitioner for Murmur2Random {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        match key {
            Some(k) => partition_for_key(k, p.num_partitions),
            None => librdkafka_random(p),
        }
    }
}

/// FNV-1a 32 of `data` as librdkafka computes it: the hash as a signed 32-bit value, made
/// non-negative (Sarama's `NewHashPartitioner`).
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h as i32).wrapping_abs() as u32
}

/// librdkafka's `fnv1a`: `fnv1a(key) % partitions`; a null key hashes as empty.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fnv1a;

impl Partitioner for Fnv1a {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        (fnv1a(key.unwrap_or_default()) % p.num_partitions.max(1) as u32) as i32
    }
}

/// librdkafka's `fnv1a_random`: [`Fnv1a`] for a non-null key, [`Random`] for a null key.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fnv1aRandom;

impl Partitioner for Fnv1aRandom {
    fn partition(&self, _: &str, key: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        match key {
            Some(k) => (fnv1a(k) % p.num_partitions.max(1) as u32) as i32,
            None => librdkafka_random(p),
        }
    }
}

/// Java's `RoundRobinPartitioner`: ignores keys; a per-topic counter walks the available partitions
/// (all partitions when none has a leader).
#[derive(Debug, Default)]
pub struct RoundRobin {
    /// Guards the map of per-topic counters; the read lock suffices to advance an existing counter,
    /// the write lock is taken only to add a topic.
    counters: RwLock<HashMap<String, AtomicU32>>,
}

impl RoundRobin {
    /// A round-robin partitioner with no topics seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn next_value(&self, topic: &str) -> i32 {
        if let Some(c) = self.counters.read().get(topic) {
            return c.fetch_add(1, Ordering::Relaxed) as i32;
        }
        let mut map = self.counters.write();
        let c = map.entry(topic.to_owned()).or_insert_with(|| AtomicU32::new(0));
        c.fetch_add(1, Ordering::Relaxed) as i32
    }
}

impl Partitioner for RoundRobin {
    fn partition(&self, topic: &str, _: Option<&[u8]>, _: Option<&[u8]>, p: &TopicPartitions<'_>) -> i32 {
        let next = to_positive(self.next_value(topic));
        if !p.available.is_empty() {
            p.available[next as usize % p.available.len()]
        } else {
            next % p.num_partitions.max(1)
        }
    }
}

/// The sticky partition a thread is appending to, as returned by
/// [`StickyPartitioner::peek_current_partition_info`] (Java's `StickyPartitionInfo`, identified here by
/// a generation number instead of object identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickyPartitionInfo {
    partition: i32,
    generation: u32,
}

impl StickyPartitionInfo {
    /// The partition records are currently stuck to.
    pub fn partition(&self) -> i32 {
        self.partition
    }
}

/// Java's `PartitionLoadStats`: a cumulative frequency table over the available partitions, each
/// weighted by `max_queue_size + 1 - queue_size`, so shorter queues are picked more often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLoadStats {
    cumulative_frequency_table: Vec<u32>,
    partition_ids: Vec<i32>,
}

impl PartitionLoadStats {
    /// The cumulative frequency table (strictly increasing).
    pub fn cumulative_frequency_table(&self) -> &[u32] {
        &self.cumulative_frequency_table
    }

    /// The partition of each table entry.
    pub fn partition_ids(&self) -> &[i32] {
        &self.partition_ids
    }

    /// The partition whose range contains `random % total` (Java's binary search, which lands on the
    /// first entry greater than the value).
    fn pick(&self, random: i32) -> Option<i32> {
        let total = *self.cumulative_frequency_table.last()?;
        if total == 0 {
            return None;
        }
        let r = random as u32 % total;
        let idx = self.cumulative_frequency_table.partition_point(|&c| c <= r);
        self.partition_ids.get(idx).copied()
    }
}

/// How long a leader has been ready without being drained, for `partitioner.availability.timeout.ms`
/// (Java's `NodeLatencyStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderLatency {
    /// When the sender last found the leader ready to receive (ms).
    pub ready_time_ms: i64,
    /// When the sender last drained batches to the leader (ms).
    pub drain_time_ms: i64,
}

/// Collects per-partition queue sizes for one topic during the sender's ready check and turns them
/// into [`PartitionLoadStats`] (Java's `RecordAccumulator.partitionReady` bookkeeping).
///
/// Push every partition that has a deque, in any order; partitions without a leader are not pushed.
#[derive(Debug)]
pub struct LoadStatsBuilder {
    queue_sizes: Vec<u32>,
    partition_ids: Vec<i32>,
    /// Partitions seen in total, including excluded ones.
    seen: usize,
    availability_timeout_ms: i64,
}

impl LoadStatsBuilder {
    /// A builder for a topic with `capacity` deques; `availability_timeout_ms` is
    /// `partitioner.availability.timeout.ms` (0 disables exclusion).
    pub fn new(capacity: usize, availability_timeout_ms: i64) -> Self {
        LoadStatsBuilder {
            queue_sizes: Vec::with_capacity(capacity),
            partition_ids: Vec::with_capacity(capacity),
            seen: 0,
            availability_timeout_ms,
        }
    }

    /// Records a partition that has a leader with `queue_size` batches queued. It is excluded when the
    /// timeout is on, its queue is non-empty (Java checks only partitions with batches) and its
    /// leader has been ready but undrained for longer than the timeout.
    pub fn push(&mut self, partition: i32, queue_size: u32, leader: Option<LeaderLatency>) {
        self.seen += 1;
        if self.availability_timeout_ms > 0 && queue_size > 0 {
            if let Some(l) = leader {
                if l.ready_time_ms - l.drain_time_ms > self.availability_timeout_ms {
                    return;
                }
            }
        }
        self.queue_sizes.push(queue_size);
        self.partition_ids.push(partition);
    }

    /// Records a partition whose leader is unknown: it counts towards the total but is never picked.
    pub fn push_leaderless(&mut self) {
        self.seen += 1;
    }

    /// Hands the collected sizes to `partitioner` ([`StickyPartitioner::update_partition_load_stats`]).
    pub fn finish(self, partitioner: &StickyPartitioner) {
        let total = self.seen.max(self.queue_sizes.len());
        partitioner.update_partition_load_stats_with_total(self.queue_sizes, self.partition_ids, total);
    }
}

const NO_PARTITION: u64 = 0;

fn pack(generation: u32, low: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(low)
}

fn next_generation(g: u32) -> u32 {
    // Generation 0 means "no sticky partition yet".
    g.wrapping_add(1).max(1)
}

/// Java's `BuiltInPartitioner`: the uniform sticky partitioner for one topic (KIP-794).
///
/// Keyless records stick to one partition until at least `batch.size` bytes went to it (and the
/// accumulator says its batches are full), or twice that regardless; then the next partition is drawn
/// at random, weighted by inverse queue depth when load stats are set (adaptive partitioning).
/// Lock-free on the append path: application threads call it concurrently.
#[derive(Debug)]
pub struct StickyPartitioner {
    sticky_batch_size: u32,
    /// `(generation << 32) | partition`; generation 0 means none chosen yet.
    current: AtomicU64,
    /// `(generation << 32) | produced bytes` for the generation in `current`. Claiming a switch is a CAS
    /// on this word, so exactly one appender switches per generation.
    produced: AtomicU64,
    /// Guards the latest load stats (`None`: uniform choice); written by the sender each ready check,
    /// read only when switching partitions.
    load_stats: Mutex<Option<Arc<PartitionLoadStats>>>,
}

impl StickyPartitioner {
    /// A sticky partitioner switching after `sticky_batch_size` (`batch.size`) bytes.
    pub fn new(sticky_batch_size: usize) -> Self {
        StickyPartitioner {
            sticky_batch_size: u32::try_from(sticky_batch_size.max(1)).unwrap_or(u32::MAX),
            current: AtomicU64::new(NO_PARTITION),
            produced: AtomicU64::new(pack(1, 0)),
            load_stats: Mutex::new(None),
        }
    }

    /// The partition for a keyless record right now (shorthand for
    /// `peek_current_partition_info(p).partition()`).
    pub fn partition_for(&self, partitions: &TopicPartitions<'_>) -> i32 {
        self.peek_current_partition_info(partitions).partition()
    }

    /// The current sticky partition, choosing the first one if none yet (Java's
    /// `peekCurrentPartitionInfo`). Pass the result back to [`Self::update_partition_info`].
    pub fn peek_current_partition_info(&self, partitions: &TopicPartitions<'_>) -> StickyPartitionInfo {
        let cur = self.current.load(Ordering::Acquire);
        if cur != NO_PARTITION {
            return unpack_info(cur);
        }
        let candidate = pack(1, self.next_partition(partitions) as u32);
        match self.current.compare_exchange(NO_PARTITION, candidate, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => unpack_info(candidate),
            Err(actual) => unpack_info(actual),
        }
    }

    /// Whether the sticky partition moved on since `info` was peeked (Java's `isPartitionChanged`);
    /// the accumulator re-peeks when true.
    pub fn is_partition_changed(&self, info: StickyPartitionInfo) -> bool {
        self.current.load(Ordering::Acquire) != pack(info.generation, info.partition as u32)
    }

    /// Counts `appended_bytes` appended to `info`'s partition and switches when due (Java's
    /// `updatePartitionInfo`): at `batch.size` bytes if `enable_switch` (the accumulator passes "all
    /// batches of that partition are full"), at twice `batch.size` regardless. Stale `info` is ignored.
    pub fn update_partition_info(
        &self,
        info: StickyPartitionInfo,
        appended_bytes: usize,
        partitions: &TopicPartitions<'_>,
        enable_switch: bool,
    ) {
        let add = u32::try_from(appended_bytes).unwrap_or(u32::MAX);
        let batch = self.sticky_batch_size;
        let mut word = self.produced.load(Ordering::Acquire);
        loop {
            if (word >> 32) as u32 != info.generation {
                return;
            }
            let produced = (word as u32).saturating_add(add);
            let switch = (produced >= batch && enable_switch) || produced >= batch.saturating_mul(2);
            let next_gen = next_generation(info.generation);
            let new = if switch { pack(next_gen, 0) } else { pack(info.generation, produced) };
            match self.produced.compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if switch {
                        let p = self.next_partition(partitions);
                        self.current.store(pack(next_gen, p as u32), Ordering::Release);
                    }
                    return;
                }
                Err(actual) => word = actual,
            }
        }
    }

    /// Java's `updatePartitionLoadStats`: `queue_sizes[i]` batches are queued for `partition_ids[i]`,
    /// for the first `length` entries (the available partitions); `None` or fewer than two entries
    /// clears the stats (uniform choice). Equal queues over all partitions also clear them.
    pub fn update_partition_load_stats(&self, sizes_and_ids: Option<(Vec<u32>, Vec<i32>)>, length: usize) {
        match sizes_and_ids {
            None => *self.load_stats.lock() = None,
            Some((mut sizes, mut ids)) => {
                let total = sizes.len();
                sizes.truncate(length);
                ids.truncate(length);
                self.update_partition_load_stats_with_total(sizes, ids, total);
            }
        }
    }

    fn update_partition_load_stats_with_total(&self, mut sizes: Vec<u32>, ids: Vec<i32>, total: usize) {
        let stats = build_load_stats(&mut sizes, total)
            .map(|()| Arc::new(PartitionLoadStats { cumulative_frequency_table: sizes, partition_ids: ids }));
        *self.load_stats.lock() = stats;
    }

    /// The current load stats, if adaptive partitioning has any.
    pub fn load_stats(&self) -> Option<Arc<PartitionLoadStats>> {
        self.load_stats.lock().clone()
    }

    /// Java's `nextPartition`: weighted by load stats when present, else uniform over available
    /// partitions (all partitions when none is available).
    fn next_partition(&self, partitions: &TopicPartitions<'_>) -> i32 {
        let random = random_positive();
        let stats = self.load_stats.lock().clone();
        stats.and_then(|s| s.pick(random)).unwrap_or_else(|| partitions.random_partition(random))
    }
}

fn unpack_info(word: u64) -> StickyPartitionInfo {
    StickyPartitionInfo { partition: word as u32 as i32, generation: (word >> 32) as u32 }
}

/// Turns queue sizes into a cumulative frequency table in place (Java's arithmetic); `None` when the
/// stats should be cleared. `total` counts all partitions considered, excluded ones included.
fn build_load_stats(sizes: &mut [u32], total: usize) -> Option<()> {
    let len = sizes.len();
    if len < 1 || total < 2 {
        return None;
    }
    let first = sizes[0];
    let max = sizes.iter().copied().max().unwrap_or(first);
    let all_equal = sizes.iter().all(|&s| s == first);
    if all_equal && len == total {
        return None;
    }
    let max_plus_1 = max.saturating_add(1);
    let mut acc = 0u32;
    for s in sizes.iter_mut() {
        acc = acc.saturating_add(max_plus_1 - *s);
        *s = acc;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key hex, `Utils.murmur2(key)`, `BuiltInPartitioner.partitionForKey(key, 7)`,
    /// `partitionForKey(key, 1000)`, `java.util.zip.CRC32(key)`), generated with kafka-clients 4.3.1.
    const JAVA_VECTORS: &[(&str, i32, i32, i32, u32)] = &[
        ("", 275646681, 2, 681, 0),
        ("61", -1563381124, 5, 524, 3904355907),
        ("6162", 316155434, 0, 434, 2659403885),
        ("616263", 479470107, 4, 107, 891568578),
        ("61626364", -1323649548, 5, 100, 3984772369),
        ("6b61666b61", -798503068, 3, 580, 1539077399),
        ("6b65792d30", 29210041, 0, 41, 2045480940),
        ("6b65792d31", 193331640, 5, 640, 250396538),
        ("68656c6c6f20776f726c64", 1221641059, 2, 59, 222957957),
        ("d0bad0bbd18ed187", 2122343024, 4, 24, 212833818),
        ("e697a5e69cace8aa9ee382ade383bc", 1445825182, 4, 182, 685255984),
        ("f09fa6802063726162", -412084284, 6, 364, 3706262176),
        (
            "54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f67",
            495243318,
            3,
            318,
            1095738169,
        ),
        ("", 275646681, 2, 681, 0),
        ("ad", -1461891906, 3, 742, 2053451992),
        ("7636", 1435498198, 1, 198, 4144388374),
        ("74ec79", 84769904, 2, 904, 2007723238),
        ("cfea8b8e", -1781766672, 2, 976, 2036898717),
        ("1503fd9e1f", 793018914, 2, 914, 2738948835),
        ("ffb8754f196d", -885670567, 4, 81, 4204095252),
        ("ef1adebde4133f", -80819952, 6, 696, 1786145745),
        ("2d7d37f55aeced52", 740877861, 3, 861, 2042137158),
        ("f609b3205ec2b9acbb", -1608238278, 6, 370, 3312643783),
        ("d20d75b9ec5fd9261210", -225590036, 2, 612, 3244714695),
        ("26a679afc6e3c8174573e5", 874387504, 4, 504, 118518280),
        ("be01a9ce5da9321c80638f4c", -1008557155, 5, 493, 2529660006),
        ("5e30ea2fe126fa75b544b6bf12", -1472624342, 2, 306, 2267997750),
        ("0c121a1cb23b3ff7ae4b07d5d459", 1219701787, 3, 787, 1539757960),
        ("2f4d97d06b9da203cb54fe5919cdba", -548738543, 6, 105, 2500932209),
        ("91bce112aa298de43fa36aa6373f9724", -2142628827, 6, 821, 1585023200),
        ("825575917e3e529c8f66c40521093f87f4", 957795271, 6, 271, 3112103680),
        ("67fbb2cbe6f9ba4371f700ba7bfdd2634799", 546464228, 2, 228, 2414527845),
        ("0488ed30ee9d0432a857ad7852ce151ba19c55", 816235250, 5, 250, 4279765836),
        ("b7a67d39d54afc65c3e47d6171697db7c6efe06b", 1965852730, 2, 730, 3386405834),
        ("0f395175535bb384e160f68372ae597b334bc54c02", -961433626, 3, 22, 657576722),
        ("b6278f0650fc9906ac35155b6791d4372d6bd7c0d3fc", -1711725983, 0, 665, 2342649745),
        ("cb7c9857eb862f51ff0e20bcd5b291d6e5620ac0bb40b2", 1208195268, 0, 268, 3512026078),
        ("2df5b2e1e40b5f31830ec817731567916c3e38d22b4b8786", 54253469, 4, 469, 3728745150),
        ("e7622a1020d2ed60ecfb3a8a9bac85e4c9e473a5c457213199", -909982601, 6, 47, 1993686705),
        ("2270d2ed00e0a31c969370c893988bd0a15c3aa485c43185b6e1", 1269578343, 5, 343, 2154357846),
        ("1e8c3dbd621c34a84b2b9704aeb3940f799d8c97e6c33ef853bdde", 1631650014, 1, 14, 3634558960),
        ("19a97648cc678b7efcc74caac3f293b2656f719b4ad63f83144c00f2", -1677399442, 4, 206, 1849380671),
        ("35652d31b35a5430ca5903957a3ea22f81fe2949b9d89350022a36d487", 787098637, 3, 637, 3074556096),
        ("64846f3d4567337ba71cfe89e6b37eeab5a87b5fc90034a07b993ccc974e", -1592669914, 6, 734, 669369360),
        ("529689342ad6ebe4f13cec61630dabe6d5ba038954f8d30c48160038fc7585", 921934957, 6, 957, 4217648338),
        ("800fc9c079e170567048180cf23f1b2bb7d075352771dfe49d9a7937bbd6d5cc", 1852929711, 3, 711, 2549455937),
        ("f5f6673beb2290739ddcad6834a0c98cf7d4c7f225c71ecef71a20461a3e503052", 531987847, 6, 847, 1784293076),
        (
            "52feb564b0fdc60993d40db5cc61a30ceacb8a03c7d06d33314527f5fc9f3424902f",
            -534323489,
            2,
            159,
            2554461325,
        ),
        (
            "758b608abda4fb020608a02d9b3262b8f32cf6ef920b73ed26b4a37c22ba9b8c0563bf",
            1951053248,
            4,
            248,
            2578044897,
        ),
        (
            "de3d39b1422866f0593bc1b29df00191f48d36245e8e93d0b7f6894ad035b75a8015a10e",
            972629703,
            3,
            703,
            1278400409,
        ),
        (
            "86a3e8a3d627a5aaa32ad2ffdc812e8ebf2486a3a82f491f4fe3c83973bd3444dcabe0516f",
            1448438912,
            4,
            912,
            1461174325,
        ),
        (
            "77a92622f42b17613795864935151bf1bc9ff6b3f8a3285cb49bcc3d1bb9f881ca0567a37408",
            604854098,
            2,
            98,
            3289441319,
        ),
        (
            "a015653fe3c851a138f27fc5cc4151af3ad0718de8915676a641690dcbfa31a38a59694fab6cda",
            -836639750,
            0,
            898,
            4031333967,
        ),
        (
            "45af7cd493f8858613fd4e003c50cecb68f653dd88415fddd0d588773bad90f37c1a56029a4f6147",
            -2017233078,
            2,
            570,
            3222311144,
        ),
        ("ffffff", 1548199422, 0, 422, 4294967040),
        ("80", 857690492, 1, 492, 1069182125),
        ("00000000", 850957120, 6, 120, 558161692),
    ];

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn fnv1a_matches_librdkafkas_vectors() {
        // librdkafka's unit test vectors (from Go's hash/fnv).
        let cases: [(&[u8], u32); 6] = [
            (b"kafka", 0x0d33_c4e1),
            (b"giberish123456789", 0x77a5_8295),
            (b"1234", 0x023b_dd03),
            (b"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x65cb_d69c),
            (b"4", 0x310c_a263),
            (b"", 0x7ee3_623b),
        ];
        for (k, want) in cases {
            assert_eq!(fnv1a(k), want, "{:?}", String::from_utf8_lossy(k));
        }
        let p = TopicPartitions::new(7, &[]);
        assert_eq!(Fnv1a.partition("t", None, None, &p), (0x7ee3_623b_u32 % 7) as i32);
    }

    #[test]
    fn murmur2_matches_java_vectors() {
        assert!(JAVA_VECTORS.len() >= 50);
        for &(hex, hash, p7, p1000, crc) in JAVA_VECTORS {
            let key = unhex(hex);
            assert_eq!(murmur2(&key), hash, "murmur2({hex})");
            assert_eq!(partition_for_key(&key, 7), p7, "partitionForKey({hex}, 7)");
            assert_eq!(partition_for_key(&key, 1000), p1000, "partitionForKey({hex}, 1000)");
            assert_eq!(crc32(&key), crc, "crc32({hex})");
        }
    }

    #[test]
    fn to_positive_clears_sign_bit() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn built_in_partition_paths() {
        assert_eq!(built_in_partition(Some(b"kafka"), 7, false), Some(partition_for_key(b"kafka", 7)));
        assert_eq!(built_in_partition(Some(b"kafka"), 7, true), None);
        assert_eq!(built_in_partition(None, 7, false), None);
    }

    #[test]
    fn librdkafka_partitioners() {
        let avail = [0, 1, 2, 3, 4, 5, 6];
        let p = TopicPartitions::new(7, &avail);
        let key = b"hello world";
        assert_eq!(ConsistentRandom.partition("t", Some(key), None, &p), (crc32(key) % 7) as i32);
        assert_eq!(Consistent.partition("t", None, None, &p), 0);
        assert_eq!(Murmur2Random.partition("t", Some(key), None, &p), partition_for_key(key, 7));
        assert_eq!(Murmur2.partition("t", None, None, &p), partition_for_key(b"", 7));
        // Empty key: murmur2_random hashes it, consistent_random goes random.
        assert_eq!(Murmur2Random.partition("t", Some(b""), None, &p), partition_for_key(b"", 7));
        let mut seen = [false; 7];
        for _ in 0..500 {
            seen[ConsistentRandom.partition("t", Some(b""), None, &p) as usize] = true;
            assert!((0..7).contains(&Random.partition("t", None, None, &p)));
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn round_robin_walks_available_partitions_per_topic() {
        let rr = RoundRobin::new();
        let avail = [1, 3, 4];
        let p = TopicPartitions::new(5, &avail);
        let got: Vec<i32> = (0..6).map(|_| rr.partition("a", None, None, &p)).collect();
        assert_eq!(got, [1, 3, 4, 1, 3, 4]);
        assert_eq!(rr.partition("b", None, None, &p), 1);
        let none = TopicPartitions::new(5, &[]);
        assert_eq!(rr.partition("c", None, None, &none), 0);
        assert_eq!(rr.partition("c", None, None, &none), 1);
    }

    #[test]
    fn load_stats_match_java() {
        // Java 4.3.1 updatePartitionLoadStats results (array contents, then length).
        let mut s = vec![3, 1, 0, 2];
        assert_eq!(build_load_stats(&mut s, 4), Some(()));
        assert_eq!(s, [1, 4, 8, 10]);
        let mut s = vec![1, 1, 1, 1];
        assert_eq!(build_load_stats(&mut s, 4), None);
        let mut s = vec![1, 1, 1];
        assert_eq!(build_load_stats(&mut s, 4), Some(()));
        assert_eq!(s, [1, 2, 3]);
        let mut s = vec![5, 0];
        assert_eq!(build_load_stats(&mut s, 2), Some(()));
        assert_eq!(s, [1, 7]);
        let mut s = vec![2, 7];
        assert_eq!(build_load_stats(&mut s, 3), Some(()));
        assert_eq!(s, [6, 7]);
        let mut s = vec![4];
        assert_eq!(build_load_stats(&mut s, 1), None);
    }

    #[test]
    fn pick_lands_on_first_entry_above_value() {
        let st = PartitionLoadStats {
            cumulative_frequency_table: vec![1, 4, 8, 10],
            partition_ids: vec![10, 11, 12, 13],
        };
        let got: Vec<i32> = (0..10).map(|r| st.pick(r).unwrap()).collect();
        assert_eq!(got, [10, 11, 11, 11, 12, 12, 12, 12, 13, 13]);
    }

    const ALL7: [i32; 7] = [0, 1, 2, 3, 4, 5, 6];

    #[test]
    fn sticky_switches_after_batch_size() {
        let p = TopicPartitions::new(7, &ALL7);
        let sp = StickyPartitioner::new(1000);
        let info = sp.peek_current_partition_info(&p);
        for _ in 0..9 {
            sp.update_partition_info(info, 100, &p, true);
            assert!(!sp.is_partition_changed(info));
        }
        sp.update_partition_info(info, 100, &p, true);
        assert!(sp.is_partition_changed(info));
        // Stale info no longer counts.
        let next = sp.peek_current_partition_info(&p);
        sp.update_partition_info(info, 5000, &p, true);
        assert!(!sp.is_partition_changed(next));
    }

    #[test]
    fn sticky_without_switch_permission_waits_for_twice_batch_size() {
        let p = TopicPartitions::new(7, &ALL7);
        let sp = StickyPartitioner::new(1000);
        let info = sp.peek_current_partition_info(&p);
        sp.update_partition_info(info, 1999, &p, false);
        assert!(!sp.is_partition_changed(info));
        sp.update_partition_info(info, 1, &p, false);
        assert!(sp.is_partition_changed(info));
    }

    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
    }

    #[test]
    fn sticky_is_uniform_over_many_switches() {
        let p = TopicPartitions::new(7, &ALL7);
        let sp = StickyPartitioner::new(100);
        let mut counts = [0u64; 7];
        for _ in 0..70_000 {
            let info = sp.peek_current_partition_info(&p);
            counts[info.partition() as usize] += 1;
            sp.update_partition_info(info, 100, &p, true);
        }
        // 6 degrees of freedom: p(chi2 > 30) is about 4e-5.
        assert!(chi_square(&counts) < 30.0, "{counts:?}");
    }

    #[test]
    fn sticky_skips_partitions_without_leader() {
        let avail = [2, 5];
        let p = TopicPartitions::new(7, &avail);
        let sp = StickyPartitioner::new(10);
        for _ in 0..1000 {
            let info = sp.peek_current_partition_info(&p);
            assert!(avail.contains(&info.partition()));
            sp.update_partition_info(info, 10, &p, true);
        }
    }

    #[test]
    fn adaptive_prefers_less_loaded_partitions() {
        let p = TopicPartitions::new(3, &[0, 1, 2]);
        let sp = StickyPartitioner::new(10);
        let mut b = LoadStatsBuilder::new(3, 0);
        b.push(0, 9, None); // weight 1
        b.push(1, 5, None); // weight 5
        b.push(2, 0, None); // weight 10
        b.finish(&sp);
        assert_eq!(sp.load_stats().unwrap().cumulative_frequency_table(), [1, 6, 16]);
        let mut counts = [0u64; 3];
        for _ in 0..32_000 {
            let info = sp.peek_current_partition_info(&p);
            counts[info.partition() as usize] += 1;
            sp.update_partition_info(info, 10, &p, true);
        }
        // Expected 2000 / 10000 / 20000.
        assert!((1500..2500).contains(&counts[0]), "{counts:?}");
        assert!((9000..11000).contains(&counts[1]), "{counts:?}");
        assert!((18500..21500).contains(&counts[2]), "{counts:?}");
        sp.update_partition_load_stats(None, 0);
        assert!(sp.load_stats().is_none());
    }

    #[test]
    fn availability_timeout_excludes_a_partition() {
        let p = TopicPartitions::new(3, &[0, 1, 2]);
        let sp = StickyPartitioner::new(10);
        let slow = LeaderLatency { ready_time_ms: 10_000, drain_time_ms: 1_000 };
        let fine = LeaderLatency { ready_time_ms: 10_000, drain_time_ms: 9_990 };
        let mut b = LoadStatsBuilder::new(3, 5_000);
        b.push(0, 1, Some(fine));
        b.push(1, 1, Some(slow));
        b.push(2, 1, Some(fine));
        b.finish(&sp);
        // Equal queues, but one excluded: stats stay set so partition 1 is avoided.
        let stats = sp.load_stats().unwrap();
        assert_eq!(stats.partition_ids(), [0, 2]);
        for _ in 0..1000 {
            let info = sp.peek_current_partition_info(&p);
            sp.update_partition_info(info, 10, &p, true);
            assert_ne!(sp.peek_current_partition_info(&p).partition(), 1);
        }
        // Timeout off: the slow leader's partition is kept, and equal queues clear the stats.
        let mut b = LoadStatsBuilder::new(3, 0);
        for i in 0..3 {
            b.push(i, 1, Some(slow));
        }
        b.finish(&sp);
        assert!(sp.load_stats().is_none());
    }

    #[test]
    fn sticky_is_thread_safe() {
        let sp = Arc::new(StickyPartitioner::new(100));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let sp = Arc::clone(&sp);
                std::thread::spawn(move || {
                    let p = TopicPartitions::new(7, &ALL7);
                    for _ in 0..10_000 {
                        let info = sp.peek_current_partition_info(&p);
                        assert!((0..7).contains(&info.partition()));
                        sp.update_partition_info(info, 10, &p, true);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
