//! A per-thread cache of what `send` needs for a topic: its metadata (while the metadata cache's
//! generation is unchanged), its sticky partitioner and its partition queues. A send to a topic this
//! thread has sent to before then takes no shared lock and hashes nothing before the partition queue's
//! own lock; a refresh, a close or a new topic sends it through the full lookup again.
//!
//! The cache holds only `Arc`s to things that live as long as their producer's accumulator and metadata
//! (partition queues and sticky partitioners are never removed), so a cached entry never points at a
//! queue the sender no longer drains. Entries of a producer that has been dropped stay until they are
//! evicted (at most eight per thread); they hold empty queues and a few hundred bytes, nothing more.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::accumulator::{PartitionQueue, RecordAccumulator};
use crate::partitioner::StickyPartitioner;
use crate::sender::metadata::TopicInfo;

/// Topics cached per thread (over all producers); the least recently used goes beyond this.
const CAPACITY: usize = 8;

/// Tells producers apart in the per-thread caches.
static NEXT_PRODUCER_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique producer id for [`take`] and [`put`].
pub(crate) fn next_producer_id() -> u64 {
    NEXT_PRODUCER_ID.fetch_add(1, Ordering::Relaxed)
}

/// One producer's view of one topic, as of metadata generation `generation`.
pub(crate) struct TopicEntry {
    producer: u64,
    pub topic: Box<str>,
    /// The metadata generation `info` and `touched` are from.
    pub generation: u64,
    pub info: Arc<TopicInfo>,
    /// The topic's use flag in the metadata cache (for `metadata.max.idle.ms`).
    touched: Arc<AtomicBool>,
    /// The topic's sticky partitioner, once a keyless record needed it.
    pub sticky: Option<Arc<StickyPartitioner>>,
    /// Partition queues by partition, filled on first use.
    pub queues: Queues,
}

/// A topic's partition queues by partition, filled on first use.
#[derive(Default)]
pub(crate) struct Queues(Vec<Option<Arc<PartitionQueue>>>);

impl Queues {
    /// The queue of `topic`'s `partition` (≥ 0), looked up in `acc` on first use.
    pub fn get(&mut self, acc: &RecordAccumulator, topic: &str, partition: i32) -> &PartitionQueue {
        let i = usize::try_from(partition).unwrap_or(0);
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i].get_or_insert_with(|| acc.partition_queue(topic, partition))
    }
}

impl TopicEntry {
    /// An entry for `topic` of `producer` from a fresh metadata lookup.
    pub fn new(
        producer: u64,
        topic: &str,
        generation: u64,
        info: Arc<TopicInfo>,
        touched: Arc<AtomicBool>,
    ) -> Self {
        TopicEntry {
            producer,
            topic: topic.into(),
            generation,
            info,
            touched,
            sticky: None,
            queues: Queues::default(),
        }
    }

    /// Replaces the metadata part after a fresh lookup; partitioner and queues stay valid.
    pub fn refresh(&mut self, generation: u64, info: Arc<TopicInfo>, touched: Arc<AtomicBool>) {
        self.generation = generation;
        self.info = info;
        self.touched = touched;
    }

    /// Marks the topic used (a plain load when it already is, so no cache line is written per send).
    pub fn touch(&self) {
        if !self.touched.load(Ordering::Relaxed) {
            self.touched.store(true, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// This thread's entries, most recently used last. Boxed so that taking one out and putting it
    /// back (twice per send) moves a pointer, not the entry.
    #[allow(clippy::vec_box)]
    static CACHE: RefCell<Vec<Box<TopicEntry>>> = const { RefCell::new(Vec::new()) };
}

/// Takes this thread's entry for `producer`'s `topic` out of the cache. `None` when there is none, or
/// when the cache is in use further up this thread's stack (a `send` from inside a partitioner or a
/// destructor): that send then simply goes without.
pub(crate) fn take(producer: u64, topic: &str) -> Option<Box<TopicEntry>> {
    CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let i = c.iter().rposition(|e| e.producer == producer && *e.topic == *topic)?;
            Some(c.remove(i))
        })
        .ok()
        .flatten()
}

/// Puts an entry (back) into this thread's cache as its most recently used.
pub(crate) fn put(entry: Box<TopicEntry>) {
    let evicted = CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let evicted = if c.len() >= CAPACITY { Some(c.remove(0)) } else { None };
            c.push(entry);
            evicted
        })
        .ok()
        .flatten();
    // Dropped outside the borrow.
    drop(evicted);
}

/// Holds an entry taken from the cache and puts it back when dropped, on every return path.
pub(crate) struct Taken(pub Option<Box<TopicEntry>>);

impl Drop for Taken {
    fn drop(&mut self) {
        if let Some(e) = self.0.take() {
            put(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accumulator::buffer_pool::BufferPool;
    use crate::accumulator::AccumulatorConfig;

    fn info() -> Arc<TopicInfo> {
        Arc::new(TopicInfo { topic_id: Default::default(), partitions: Vec::new(), available: Vec::new() })
    }

    #[test]
    fn entries_are_per_producer_and_topic_and_bounded() {
        let (a, b) = (next_producer_id(), next_producer_id());
        let touched = Arc::new(AtomicBool::new(false));
        put(Box::new(TopicEntry::new(a, "t", 1, info(), Arc::clone(&touched))));
        assert!(take(b, "t").is_none());
        assert!(take(a, "u").is_none());
        let e = take(a, "t").map(|e| e.generation);
        assert_eq!(e, Some(1));
        assert!(take(a, "t").is_none(), "take removes the entry");
        for i in 0..CAPACITY + 3 {
            put(Box::new(TopicEntry::new(a, &format!("t{i}"), 1, info(), Arc::clone(&touched))));
        }
        assert!(take(a, "t0").is_none(), "the least recently used is evicted");
        assert!(take(a, &format!("t{}", CAPACITY + 2)).is_some());
    }

    #[test]
    fn touch_sets_the_flag_and_queues_are_shared_with_the_accumulator() {
        let touched = Arc::new(AtomicBool::new(false));
        let mut e = TopicEntry::new(next_producer_id(), "t", 1, info(), Arc::clone(&touched));
        e.touch();
        assert!(touched.load(Ordering::Relaxed));
        let acc =
            RecordAccumulator::new(AccumulatorConfig::default(), Arc::new(BufferPool::new(1 << 20, 16384)));
        let q = e.queues.get(&acc, "t", 3) as *const PartitionQueue;
        assert!(std::ptr::eq(q, Arc::as_ptr(&acc.partition_queue("t", 3))));
        assert_eq!(e.queues.get(&acc, "t", 3).topic_partition().partition, 3);
    }

    #[test]
    fn a_busy_cache_is_skipped_not_a_panic() {
        let p = next_producer_id();
        put(Box::new(TopicEntry::new(p, "t", 1, info(), Arc::new(AtomicBool::new(false)))));
        CACHE.with(|c| {
            let _held = c.borrow_mut();
            assert!(take(p, "t").is_none());
            put(Box::new(TopicEntry::new(p, "u", 1, info(), Arc::new(AtomicBool::new(false)))));
        });
        assert!(take(p, "t").is_some());
    }
}
