//! Messages for topics whose metadata is not known yet (librdkafka's "UA" partition queue): produce
//! parks them here and returns at once; the handle's `kprod-ua` thread hands them to kprod, in order,
//! as the metadata arrives, or fails them with `__MSG_TIMED_OUT` at `message.timeout.ms`.
//!
//! Order: once a topic has a parked message, later messages for it park too, behind it, until the
//! queue is empty; the head stays queued while it is being sent.
//!
//! # Locks
//! `state` guards the queue; it is never held while kprod is called or a message completed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;
use kprod::{Error, Producer, RecordMetadata};
use parking_lot::{Condvar, Mutex};

use crate::handle::{rd_kafka_s, Event};

/// Where outcomes go: the polling thread's queue when the application reads reports, else freed at
/// once. Shared by kprod's callback thread (`on_delivery`) and the UA thread.
#[derive(Clone)]
pub(crate) struct Outcomes {
    pub tx: Sender<Event>,
    pub wants_reports: bool,
    pub only_errors: bool,
    /// The handle (alive while its producer and UA thread run: destroy stops both first).
    pub rk: usize,
}

impl Outcomes {
    /// Whether the application reads this outcome's report.
    fn reported(&self, result: &Result<RecordMetadata, Error>) -> bool {
        self.wants_reports && !(self.only_errors && result.is_ok())
    }

    /// A batch's outcomes (kprod's callback thread): one hand-over to the polling thread.
    pub(crate) fn deliver_batch(&self, mut batch: Vec<(u64, Result<RecordMetadata, Error>)>) {
        if !batch.iter().all(|(_, r)| self.reported(r)) {
            let (keep, release): (Vec<_>, Vec<_>) = batch.into_iter().partition(|(_, r)| self.reported(r));
            for (opaque, result) in release {
                self.deliver(opaque, result);
            }
            batch = keep;
        }
        if !batch.is_empty() {
            let _ = self.tx.send(Event::Deliveries(batch));
        }
    }

    pub(crate) fn deliver(&self, opaque: u64, result: Result<RecordMetadata, Error>) {
        if self.reported(&result) {
            // Served by rd_kafka_poll; the handle (and so the receiver) outlives every sender.
            let _ = self.tx.send(Event::Delivery(opaque, result));
        } else {
            crate::produce::discard(opaque);
            // SAFETY: see `rk`; only the handle's counter, lock and condvar are touched.
            if let Some(rk) = unsafe { (self.rk as *const rd_kafka_s).as_ref() } {
                rk.release();
            }
        }
    }
}

#[derive(Default)]
struct State {
    /// Parked messages (topic, Pending) in produce order.
    queue: VecDeque<(Arc<str>, u64)>,
    /// Messages per topic in `queue`.
    per_topic: HashMap<Arc<str>, usize>,
    closed: bool,
}

/// The parked messages of one handle.
#[derive(Default)]
pub(crate) struct Ua {
    state: Mutex<State>,
    wake: Condvar,
    /// Messages in `state.queue`: lets produce skip the lock when nothing is parked (the usual case).
    parked: AtomicUsize,
}

impl Ua {
    /// True when `topic` has parked messages (a new one must queue behind them).
    pub(crate) fn has(&self, topic: &str) -> bool {
        self.parked.load(Ordering::Acquire) > 0 && self.state.lock().per_topic.contains_key(topic)
    }

    /// Parks a message; false once the handle is closing.
    pub(crate) fn park(&self, topic: Arc<str>, opaque: u64) -> bool {
        let mut s = self.state.lock();
        if s.closed {
            return false;
        }
        *s.per_topic.entry(Arc::clone(&topic)).or_default() += 1;
        s.queue.push_back((topic, opaque));
        self.parked.fetch_add(1, Ordering::AcqRel);
        drop(s);
        self.wake.notify_all();
        true
    }

    /// Counts one message of `topic` out of the queue.
    fn forget(&self, s: &mut State, topic: &str) {
        self.parked.fetch_sub(1, Ordering::AcqRel);
        if let Some(n) = s.per_topic.get_mut(topic) {
            *n -= 1;
            if *n == 0 {
                s.per_topic.remove(topic);
            }
        }
    }

    fn pop_front(&self, s: &mut State) {
        if let Some((topic, _)) = s.queue.pop_front() {
            self.forget(s, &topic);
        }
    }

    /// Takes every parked message but the one being sent (for purge), or all (after the thread).
    pub(crate) fn take(&self, all: bool) -> Vec<u64> {
        let mut s = self.state.lock();
        let keep = usize::from(!all && !s.queue.is_empty());
        let taken: Vec<(Arc<str>, u64)> = s.queue.drain(keep..).collect();
        for (topic, _) in &taken {
            self.forget(&mut s, topic);
        }
        taken.into_iter().map(|(_, o)| o).collect()
    }

    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.wake.notify_all();
    }

    /// The UA thread: sends the head when its topic's metadata arrives (kprod waits for it).
    pub(crate) fn run(&self, producer: &Producer, outcomes: &Outcomes, timeout: Duration) {
        loop {
            let opaque = {
                let mut s = self.state.lock();
                loop {
                    if s.closed {
                        return;
                    }
                    if let Some((_, o)) = s.queue.front() {
                        break *o;
                    }
                    self.wake.wait(&mut s);
                }
            };
            let result = crate::produce::send_parked(producer, opaque, timeout);
            self.pop_front(&mut self.state.lock());
            if let Err(e) = result {
                let e = match e {
                    // Metadata never came: the message timed out waiting, as in librdkafka.
                    Error::UnknownTopicOrPartition { .. } => Error::DeliveryTimeout,
                    e => e,
                };
                outcomes.deliver(opaque, Err(e));
            }
        }
    }
}

/// Starts the handle's UA thread.
pub(crate) fn start(
    ua: Arc<Ua>,
    producer: Arc<Producer>,
    outcomes: Outcomes,
    timeout: Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("kprod-ua".into()).spawn(move || ua.run(&producer, &outcomes, timeout))
}
