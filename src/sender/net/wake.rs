//! The sender's waker, shared with every thread that may need the sender's attention.

use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;

/// Wakes the sender's poll from other threads: rung when a batch becomes ready, on flush and close, and
/// when a name is resolved — never per record.
#[derive(Debug)]
pub(crate) struct Wake {
    /// `None` where nothing waits in a poll (the simulator).
    waker: Option<Waker>,
    /// Set by the first [`wake`](Self::wake) after the sender's last look at the shared state, cleared
    /// by the sender before it looks again: while set, a wake-up is already on its way and later wakes
    /// skip the `eventfd` write (one syscall per sender turn at most, not one per batch).
    pending: AtomicBool,
}

impl Wake {
    pub(crate) fn new(waker: Option<Waker>) -> Self {
        Wake { waker, pending: AtomicBool::new(false) }
    }

    /// Wakes the sender thread, unless a wake-up is already pending.
    pub(crate) fn wake(&self) {
        // The plain load keeps the common case (already pending) free of a contended write.
        if self.pending.load(Ordering::Acquire) || self.pending.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(Err(e)) = self.waker.as_ref().map(Waker::wake) {
            log::warn!("cannot wake the sender thread: {e}");
        }
    }

    /// Called by the sender before each look at the shared state: wakes after this point ring again.
    pub(crate) fn clear(&self) {
        self.pending.store(false, Ordering::SeqCst);
        // The store must be visible before the sender reads the queues (store-load order).
        std::sync::atomic::fence(Ordering::SeqCst);
    }
}
