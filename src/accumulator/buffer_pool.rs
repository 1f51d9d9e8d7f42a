//! Java's `BufferPool`: a fixed memory budget (`buffer.memory`) from which record batches get their
//! buffers, with a free list of `batch.size` buffers that are recycled instead of reallocated.
//!
//! A request that cannot be met blocks (up to `max.block.ms`); blocked requests are served in arrival
//! order, one condition variable each, the head signalled whenever memory comes back. As in Java, a
//! newcomer that fits immediately does not queue behind waiters.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// Why [`BufferPool::allocate`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BufferPoolError {
    /// The request exceeds `buffer.memory` and could never be met (Java: `IllegalArgumentException`).
    #[error("cannot allocate {size} bytes: buffer.memory is {total_memory}")]
    TooLarge {
        /// Bytes requested.
        size: usize,
        /// The pool's total memory.
        total_memory: usize,
    },
    /// Not enough memory came back within the allowed blocking time (Java: `BufferExhaustedException`).
    #[error(
        "failed to allocate {size} bytes within {waited:?} (max {max_time_to_block:?}); total memory \
         {total_memory}, available {available_memory}, poolable size {poolable_size}"
    )]
    Timeout {
        /// Bytes requested.
        size: usize,
        /// How long the request waited.
        waited: Duration,
        /// The blocking limit it was given.
        max_time_to_block: Duration,
        /// The pool's total memory.
        total_memory: usize,
        /// Memory available when it gave up.
        available_memory: usize,
        /// The pooled buffer size (`batch.size`).
        poolable_size: usize,
    },
    /// The pool was closed (the producer is closing) before or while waiting.
    #[error("producer closed while allocating memory")]
    Closed,
}

/// The pool's mutable state.
#[derive(Debug)]
struct State {
    /// Recycled buffers, each with capacity `poolable_size` and length 0.
    free: VecDeque<Vec<u8>>,
    /// Blocked requests in arrival order; the head is the one signalled.
    waiters: VecDeque<Arc<Condvar>>,
    /// Budget not held by anyone and not sitting in `free`.
    non_pooled_available: usize,
    closed: bool,
}

impl State {
    fn free_bytes(&self, poolable: usize) -> usize {
        self.free.len() * poolable
    }

    /// Releases free-list buffers (oldest last) until `size` non-pooled bytes are available or the list
    /// is empty (Java's `freeUp`). Dropping a `Vec` under the lock frees, never allocates.
    fn free_up(&mut self, size: usize) {
        while self.non_pooled_available < size {
            match self.free.pop_back() {
                Some(buf) => self.non_pooled_available += buf.capacity(),
                None => break,
            }
        }
    }

    /// Wakes the head waiter if there is memory it could use (Java's `finally` in `allocate`).
    fn signal_head_if_memory(&self) {
        if !(self.non_pooled_available == 0 && self.free.is_empty()) {
            if let Some(w) = self.waiters.front() {
                w.notify_one();
            }
        }
    }
}

/// Java's `BufferPool`: `total_memory` bytes shared by all batches; buffers of `poolable_size` bytes are
/// kept on a free list for reuse.
#[derive(Debug)]
pub struct BufferPool {
    total_memory: usize,
    poolable_size: usize,
    /// Guards the free list, the waiter queue, the non-pooled byte count and the closed flag: the whole
    /// budget accounting, so `available + held by callers == total` holds at every unlock.
    state: Mutex<State>,
    /// Nanoseconds appenders spent waiting for memory (bufferpool-wait-time-ns-total); counted on
    /// the blocking path only.
    wait_ns: AtomicU64,
}

impl BufferPool {
    /// A pool of `total_memory` bytes (`buffer.memory`) recycling buffers of `poolable_size` bytes
    /// (`batch.size`).
    pub fn new(total_memory: usize, poolable_size: usize) -> Self {
        BufferPool {
            total_memory,
            poolable_size,
            state: Mutex::new(State {
                free: VecDeque::new(),
                waiters: VecDeque::new(),
                non_pooled_available: total_memory,
                closed: false,
            }),
            wait_ns: AtomicU64::new(0),
        }
    }

    /// Nanoseconds appenders have waited for memory, in total.
    pub fn wait_time_ns(&self) -> u64 {
        self.wait_ns.load(Ordering::Relaxed)
    }

    /// A buffer with capacity `size` (length 0), blocking up to `max_time_to_block` for memory.
    ///
    /// # Thread
    /// Application threads; never the sender, which only gives memory back.
    ///
    /// # Locks
    /// `state` (a leaf); never called with a partition queue locked.
    ///
    /// A `poolable_size` request reuses a free-list buffer when there is one; any other size gets a
    /// fresh buffer, taking memory back from the free list if needed. The new `Vec` is allocated after
    /// the lock is released.
    pub fn allocate(&self, size: usize, max_time_to_block: Duration) -> Result<Vec<u8>, BufferPoolError> {
        if size > self.total_memory {
            return Err(BufferPoolError::TooLarge { size, total_memory: self.total_memory });
        }
        let mut st = self.state.lock();
        if st.closed {
            return Err(BufferPoolError::Closed);
        }
        if size == self.poolable_size {
            if let Some(buf) = st.free.pop_front() {
                st.signal_head_if_memory();
                return Ok(buf);
            }
        }
        let result = if st.non_pooled_available + st.free_bytes(self.poolable_size) >= size {
            st.free_up(size);
            st.non_pooled_available -= size;
            Ok(None)
        } else {
            self.wait_for_memory(&mut st, size, max_time_to_block)
        };
        st.signal_head_if_memory();
        drop(st);
        match result {
            Ok(Some(buf)) => Ok(buf),
            Ok(None) => Ok(Vec::with_capacity(size)),
            Err(e) => Err(e),
        }
    }

    /// The blocking path: queue up, then gather memory (possibly in pieces) each time this waiter is
    /// signalled. Returns a recycled buffer, or `None` when `size` bytes were reserved.
    fn wait_for_memory(
        &self,
        st: &mut parking_lot::MutexGuard<'_, State>,
        size: usize,
        max_time_to_block: Duration,
    ) -> Result<Option<Vec<u8>>, BufferPoolError> {
        let me = Arc::new(Condvar::new());
        st.waiters.push_back(Arc::clone(&me));
        let start = Instant::now();
        let deadline = start.checked_add(max_time_to_block);
        let mut accumulated = 0usize;
        let outcome = loop {
            let timed_out = match deadline {
                Some(d) => me.wait_until(st, d).timed_out(),
                None => {
                    me.wait(st);
                    false
                }
            };
            if st.closed {
                break Err(BufferPoolError::Closed);
            }
            if accumulated == 0 && size == self.poolable_size {
                if let Some(buf) = st.free.pop_front() {
                    break Ok(Some(buf));
                }
            }
            // Take what there is even on timeout: the memory may just have arrived.
            st.free_up(size - accumulated);
            let got = (size - accumulated).min(st.non_pooled_available);
            st.non_pooled_available -= got;
            accumulated += got;
            if accumulated == size {
                break Ok(None);
            }
            if timed_out {
                break Err(BufferPoolError::Timeout {
                    size,
                    waited: start.elapsed(),
                    max_time_to_block,
                    total_memory: self.total_memory,
                    available_memory: 0,
                    poolable_size: self.poolable_size,
                });
            }
        };
        if let Some(pos) = st.waiters.iter().position(|w| Arc::ptr_eq(w, &me)) {
            st.waiters.remove(pos);
        }
        let waited = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.wait_ns.fetch_add(waited, Ordering::Relaxed);
        match outcome {
            Ok(buf) => Ok(buf),
            Err(mut e) => {
                // Hand back a partial reservation so the budget is not lost.
                st.non_pooled_available += accumulated;
                if let BufferPoolError::Timeout { available_memory, .. } = &mut e {
                    *available_memory = st.non_pooled_available + st.free_bytes(self.poolable_size);
                }
                Err(e)
            }
        }
    }

    /// Returns a buffer to the pool, accounted at its capacity (Java's `deallocate(buffer)`). Callers
    /// must not have grown the buffer past the capacity it was allocated with.
    pub fn deallocate(&self, buf: Vec<u8>) {
        let size = buf.capacity();
        self.deallocate_sized(buf, size);
    }

    /// Returns a buffer that was allocated with `size` bytes (Java's `deallocate(buffer, size)`): a
    /// `poolable_size` buffer of that exact capacity goes to the free list, anything else is dropped and
    /// its `size` bytes go back to the budget. The head waiter is signalled.
    pub fn deallocate_sized(&self, mut buf: Vec<u8>, size: usize) {
        let mut st = self.state.lock();
        // Never credit more than callers hold, so a misreported size cannot inflate the budget.
        let held =
            self.total_memory.saturating_sub(st.non_pooled_available + st.free_bytes(self.poolable_size));
        let recycled = if size == self.poolable_size && buf.capacity() == size && held >= size {
            buf.clear();
            st.free.push_back(buf);
            None
        } else {
            st.non_pooled_available += size.min(held);
            Some(buf)
        };
        if let Some(w) = st.waiters.front() {
            w.notify_one();
        }
        drop(st);
        // Freed outside the lock.
        drop(recycled);
    }

    /// Free bytes: unallocated plus free-list buffers (Java's `availableMemory`).
    pub fn available_memory(&self) -> usize {
        let st = self.state.lock();
        st.non_pooled_available + st.free_bytes(self.poolable_size)
    }

    /// Bytes neither held by callers nor on the free list (Java's `unallocatedMemory`).
    pub fn unallocated_memory(&self) -> usize {
        self.state.lock().non_pooled_available
    }

    /// Number of buffers on the free list.
    pub fn free_buffers(&self) -> usize {
        self.state.lock().free.len()
    }

    /// Number of requests blocked waiting for memory (Java's `queued`); the accumulator treats a
    /// non-zero value as "memory exhausted" and sends batches right away.
    pub fn queued(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// The pooled buffer size (`batch.size`).
    pub fn poolable_size(&self) -> usize {
        self.poolable_size
    }

    /// The total budget (`buffer.memory`).
    pub fn total_memory(&self) -> usize {
        self.total_memory
    }

    /// Fails every blocked and future [`Self::allocate`] with [`BufferPoolError::Closed`];
    /// [`Self::deallocate`] keeps working.
    pub fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        for w in &st.waiters {
            w.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    const MS: Duration = Duration::from_millis(1);

    fn wait_queued(pool: &BufferPool, n: usize) {
        let start = Instant::now();
        while pool.queued() != n {
            assert!(start.elapsed() < Duration::from_secs(10), "never reached {n} waiters");
            thread::sleep(MS);
        }
    }

    #[test]
    fn recycles_poolable_buffers() {
        let pool = BufferPool::new(1024, 128);
        let mut buf = pool.allocate(128, MS).unwrap();
        assert_eq!(buf.capacity(), 128);
        buf.extend_from_slice(b"data");
        let ptr = buf.as_ptr();
        pool.deallocate(buf);
        assert_eq!(pool.free_buffers(), 1);
        assert_eq!(pool.available_memory(), 1024);
        assert_eq!(pool.unallocated_memory(), 1024 - 128);
        let again = pool.allocate(128, MS).unwrap();
        // Same allocation back, emptied.
        assert_eq!(again.as_ptr(), ptr);
        assert_eq!(again.capacity(), 128);
        assert!(again.is_empty());
        assert_eq!(pool.free_buffers(), 0);
    }

    #[test]
    fn oversize_buffers_use_the_budget_and_reclaim_the_free_list() {
        let pool = BufferPool::new(1024, 128);
        let bufs: Vec<_> = (0..8).map(|_| pool.allocate(128, MS).unwrap()).collect();
        for b in bufs {
            pool.deallocate(b);
        }
        assert_eq!(pool.unallocated_memory(), 0);
        let big = pool.allocate(700, MS).unwrap();
        assert_eq!(big.capacity(), 700);
        // 700 bytes needed 6 free buffers released to the budget.
        assert_eq!(pool.free_buffers(), 2);
        assert_eq!(pool.available_memory(), 1024 - 700);
        pool.deallocate(big);
        assert_eq!(pool.available_memory(), 1024);
        assert_eq!(pool.free_buffers(), 2);
    }

    #[test]
    fn larger_than_total_fails_at_once() {
        let pool = BufferPool::new(1024, 128);
        let err = pool.allocate(1025, Duration::from_secs(60)).unwrap_err();
        assert_eq!(err, BufferPoolError::TooLarge { size: 1025, total_memory: 1024 });
    }

    #[test]
    fn times_out_and_keeps_budget() {
        let pool = BufferPool::new(256, 128);
        let a = pool.allocate(200, MS).unwrap();
        let start = Instant::now();
        match pool.allocate(128, Duration::from_millis(50)) {
            Err(BufferPoolError::Timeout { size, waited, available_memory, .. }) => {
                assert_eq!(size, 128);
                assert!(waited >= Duration::from_millis(50), "{waited:?}");
                assert_eq!(available_memory, 56);
            }
            other => panic!("expected timeout, got {other:?}"),
        }
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(pool.queued(), 0);
        // A partial reservation on timeout went back.
        assert_eq!(pool.available_memory(), 56);
        pool.deallocate(a);
        assert_eq!(pool.available_memory(), 256);
    }

    #[test]
    fn waiters_are_served_in_arrival_order() {
        let pool = Arc::new(BufferPool::new(384, 128));
        let held: Vec<_> = (0..3).map(|_| pool.allocate(128, MS).unwrap()).collect();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for id in 0..3 {
            let (p, order) = (Arc::clone(&pool), Arc::clone(&order));
            handles.push(thread::spawn(move || {
                let buf = p.allocate(128, Duration::from_secs(10)).unwrap();
                order.lock().push(id);
                buf
            }));
            // Each thread is queued before the next one starts.
            wait_queued(&pool, id + 1);
        }
        for (i, buf) in held.into_iter().enumerate() {
            pool.deallocate(buf);
            let start = Instant::now();
            while order.lock().len() != i + 1 {
                assert!(start.elapsed() < Duration::from_secs(10));
                thread::sleep(MS);
            }
        }
        assert_eq!(*order.lock(), [0, 1, 2]);
        for h in handles {
            pool.deallocate(h.join().unwrap());
        }
        assert_eq!(pool.available_memory(), 384);
    }

    #[test]
    fn close_wakes_waiters() {
        let pool = Arc::new(BufferPool::new(128, 128));
        let held = pool.allocate(128, MS).unwrap();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let pool = Arc::clone(&pool);
                thread::spawn(move || pool.allocate(128, Duration::from_secs(60)))
            })
            .collect();
        wait_queued(&pool, 2);
        pool.close();
        for h in handles {
            assert_eq!(h.join().unwrap(), Err(BufferPoolError::Closed));
        }
        assert_eq!(pool.allocate(1, MS), Err(BufferPoolError::Closed));
        pool.deallocate(held);
        assert_eq!(pool.available_memory(), 128);
    }

    #[test]
    fn budget_never_exceeded_under_contention() {
        const TOTAL: usize = 4096;
        let pool = Arc::new(BufferPool::new(TOTAL, 256));
        // Bytes currently handed out to callers, checked against the budget.
        let outstanding = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (pool, outstanding) = (Arc::clone(&pool), Arc::clone(&outstanding));
                thread::spawn(move || {
                    let mut held = Vec::new();
                    for i in 0..2000usize {
                        let size = match (i + t) % 5 {
                            0 => 1000,
                            1 => 64,
                            _ => 256,
                        };
                        match pool.allocate(size, Duration::from_millis(100)) {
                            Ok(buf) => {
                                let now =
                                    outstanding.fetch_add(buf.capacity(), Ordering::SeqCst) + buf.capacity();
                                assert!(now <= TOTAL, "outstanding {now} > {TOTAL}");
                                held.push(buf);
                            }
                            Err(BufferPoolError::Timeout { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                        if held.len() > 2 || i % 3 == 0 {
                            while let Some(buf) = held.pop() {
                                outstanding.fetch_sub(buf.capacity(), Ordering::SeqCst);
                                pool.deallocate(buf);
                            }
                        }
                    }
                    for buf in held {
                        outstanding.fetch_sub(buf.capacity(), Ordering::SeqCst);
                        pool.deallocate(buf);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(outstanding.load(Ordering::SeqCst), 0);
        assert_eq!(pool.available_memory(), TOTAL);
        assert_eq!(pool.queued(), 0);
    }
}
