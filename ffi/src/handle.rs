//! `rd_kafka_t` (the producer handle) and `rd_kafka_topic_t`; polling, flushing, purging, destroying.
//!
//! # Threads and ownership
//! - Application threads produce (`produce.rs`) into kprod's accumulator, as native kprod does.
//! - kprod's callback thread runs `Handle::deliver` for each outcome: it queues a delivery event for
//!   `rd_kafka_poll`, or, when the application has no delivery callback to see it, releases the
//!   message at once.
//! - The thread calling `rd_kafka_poll`/`rd_kafka_flush` runs every application callback.
//!
//! # Locks
//! `topics` guards the topic objects by name; `fatal` the first fatal error; `space` (with
//! `space_freed`) only the wait of an `RD_KAFKA_MSG_F_BLOCK` produce for queue space. None is held
//! while another is taken, nor while a callback runs.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use kprod::{Error, Producer, ProducerConfig, RecordMetadata};
use parking_lot::{Condvar, Mutex};

use crate::conf::{rd_kafka_conf_t, rd_kafka_topic_conf_t, AbiProps, Callbacks, CONSUMER_PROPERTIES};
use crate::err::*;
use crate::error::code_of;
use crate::util::{cstring, guard, set_last_error, str_arg, write_cstr};

/// `rd_kafka_type_t`.
pub type rd_kafka_type_t = c_int;
/// A producer handle.
pub const RD_KAFKA_PRODUCER: rd_kafka_type_t = 0;
/// A consumer handle (refused: kprod is a producer).
pub const RD_KAFKA_CONSUMER: rd_kafka_type_t = 1;

/// Purge flags.
pub const RD_KAFKA_PURGE_F_QUEUE: c_int = 0x1;
/// Purge flags.
pub const RD_KAFKA_PURGE_F_INFLIGHT: c_int = 0x2;
/// Purge flags.
pub const RD_KAFKA_PURGE_F_NON_BLOCKING: c_int = 0x4;

/// What `rd_kafka_poll` serves, in the order it happened.
pub(crate) enum Event {
    /// A message's outcome (`opaque` is its `Pending`).
    Delivery(u64, Result<RecordMetadata, Error>),
    /// The outcomes of one batch's messages, in order.
    Deliveries(Vec<(u64, Result<RecordMetadata, Error>)>),
    /// For `error_cb`.
    Error(rd_kafka_resp_err_t, String),
    /// For `stats_cb`.
    Stats(String),
    /// For `log_cb`: level, facility, line.
    Log(c_int, String, String),
    /// For `throttle_cb`: broker name (`host:port/id`), node id, milliseconds.
    Throttle(String, i32, c_int),
}

/// A topic object: its name and opaque. One per name and handle, alive as long as the handle.
#[derive(Debug)]
pub struct rd_kafka_topic_s {
    pub(crate) name: Arc<str>,
    pub(crate) c_name: CString,
    pub(crate) opaque: AtomicPtr<c_void>,
    pub(crate) rk: *const rd_kafka_t,
}
/// The C name.
pub type rd_kafka_topic_t = rd_kafka_topic_s;

// SAFETY: a topic's fields are written only when it is created; the raw pointers are opaque values
// handed back to the application, never dereferenced by kprod's threads.
unsafe impl Send for rd_kafka_topic_s {}
// SAFETY: as above.
unsafe impl Sync for rd_kafka_topic_s {}

/// librdkafka's `rd_kafka_t`: a kprod producer and what the C API adds around it.
pub struct rd_kafka_s {
    /// Taken by destroy.
    pub(crate) producer: Option<Arc<Producer>>,
    /// Messages waiting for their topic's metadata, and the thread that sends them.
    pub(crate) ua: Arc<crate::ua::Ua>,
    pub(crate) ua_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) outcomes: Option<crate::ua::Outcomes>,
    pub(crate) delivery_timeout: Duration,
    pub(crate) name: CString,
    pub(crate) opaque: *mut c_void,
    pub(crate) cb: Callbacks,
    pub(crate) abi: AbiProps,
    pub(crate) max_block: Duration,
    pub(crate) tx_timeout: Duration,
    pub(crate) events: Receiver<Event>,
    pub(crate) events_tx: Sender<Event>,
    /// Messages produced and not yet released (librdkafka's `rd_kafka_outq_len`).
    pub(crate) outq: AtomicUsize,
    pub(crate) space: Mutex<()>,
    pub(crate) space_freed: Condvar,
    pub(crate) fatal: Arc<Mutex<Option<(rd_kafka_resp_err_t, String)>>>,
    /// Set once `fatal` is: produce reads it instead of taking the lock per message.
    pub(crate) has_fatal: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) topics: parking_lot::RwLock<HashMap<Arc<str>, Arc<rd_kafka_topic_s>>>,
    /// The code delivery reports of purged messages carry (`__PURGE_QUEUE` or `__PURGE_INFLIGHT`).
    pub(crate) purge_code: AtomicI32,
    pub(crate) conf: Box<rd_kafka_conf_t>,
    pub(crate) oauth: Arc<crate::txn::OauthSlot>,
    pub(crate) log_sink: Option<Arc<crate::logger::Sink>>,
}
/// The C name.
pub type rd_kafka_t = rd_kafka_s;

// SAFETY: the raw pointers (opaque values and callbacks) are the application's, handed back to it
// as librdkafka does; every shared field is behind a lock, an atomic or a thread-safe channel.
unsafe impl Send for rd_kafka_s {}
// SAFETY: as above.
unsafe impl Sync for rd_kafka_s {}

/// Handles alive (for `rd_kafka_wait_destroyed`).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static SEQ: AtomicUsize = AtomicUsize::new(0);

impl rd_kafka_s {
    pub(crate) fn producer(&self) -> Option<&Producer> {
        self.producer.as_deref()
    }

    /// The address of the topic object for `name` (created on first use), valid as long as the handle.
    pub(crate) fn topic_ptr(&self, name: &str) -> *const rd_kafka_topic_s {
        if let Some(t) = self.topics.read().get(name) {
            return Arc::as_ptr(t);
        }
        Arc::as_ptr(&self.topic(name))
    }

    /// The topic object for `name`, created on first use.
    pub(crate) fn topic(&self, name: &str) -> Arc<rd_kafka_topic_s> {
        let mut topics = self.topics.write();
        if let Some(t) = topics.get(name) {
            return Arc::clone(t);
        }
        let name: Arc<str> = Arc::from(name);
        let t = Arc::new(rd_kafka_topic_s {
            name: Arc::clone(&name),
            c_name: cstring(&name),
            opaque: AtomicPtr::new(std::ptr::null_mut()),
            rk: self,
        });
        topics.insert(name, Arc::clone(&t));
        t
    }

    /// Releases a message (after its report, or without one) and wakes a produce waiting for space.
    pub(crate) fn release(&self) {
        let before = self.outq.fetch_sub(1, Ordering::AcqRel);
        if before >= self.abi.max_messages {
            let _g = self.space.lock();
            self.space_freed.notify_all();
        }
    }

    /// Serves one event on the polling thread.
    fn serve(&self, ev: Event) {
        let rk = std::ptr::from_ref(self).cast_mut();
        match ev {
            Event::Delivery(opaque, result) => crate::produce::report(self, opaque, result),
            Event::Deliveries(batch) => {
                for (opaque, result) in batch {
                    crate::produce::report(self, opaque, result);
                }
            }
            Event::Error(code, reason) => match self.cb.error {
                Some(cb) => {
                    let reason = cstring(&reason);
                    // SAFETY: the application's error_cb with librdkafka's arguments; reason lives
                    // for the call.
                    unsafe { cb(rk, code, reason.as_ptr(), self.opaque) };
                }
                None => log::error!("{reason}"),
            },
            Event::Stats(json) => {
                if let Some(cb) = self.cb.stats {
                    let p = crate::util::malloc_cstr(json.as_bytes());
                    if p.is_null() {
                        return;
                    }
                    // SAFETY: json is malloc'ed and NUL-terminated; a non-zero return means the
                    // application keeps it (and frees it with rd_kafka_mem_free).
                    let keep = unsafe { cb(rk, p, json.len(), self.opaque) };
                    if keep == 0 {
                        // SAFETY: p came from malloc and the application gave it back.
                        unsafe { libc::free(p.cast()) };
                    }
                }
            }
            Event::Throttle(broker, node, ms) => {
                if let Some(cb) = self.cb.throttle {
                    let broker = cstring(&broker);
                    // SAFETY: the application's throttle_cb; the name lives for the call.
                    unsafe { cb(rk, broker.as_ptr(), node, ms, self.opaque) };
                }
            }
            Event::Log(level, fac, line) => {
                if let Some(cb) = self.cb.log {
                    let (fac, line) = (cstring(&fac), cstring(&line));
                    // SAFETY: the application's log_cb; both strings live for the call.
                    unsafe { cb(rk, level, fac.as_ptr(), line.as_ptr()) };
                }
            }
        }
    }

    /// Serves the events queued, waiting up to `timeout` for the first; returns how many.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> usize {
        let first = match timeout {
            Some(t) if t.is_zero() => self.events.try_recv().ok(),
            Some(t) => self.events.recv_timeout(t).ok(),
            None => self.events.recv().ok(),
        };
        let Some(first) = first else { return 0 };
        self.serve(first);
        // Everything already queued, not what arrives while serving (the caller's loop gets that).
        let mut n = 1;
        for _ in 0..self.events.len() {
            match self.events.try_recv() {
                Ok(ev) => {
                    self.serve(ev);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        n
    }

    /// `rd_kafka_flush`: sends everything now, waits for every outcome and serves the reports.
    pub(crate) fn flush(&self, timeout: Duration) -> rd_kafka_resp_err_t {
        let deadline = Instant::now() + timeout;
        if let Some(p) = self.producer() {
            // Every outcome known and handed over (kprod's flush ignores linger.ms).
            let _ = p.flush(timeout);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.poll(Some(left.min(Duration::from_millis(100))));
            if self.outq.load(Ordering::Acquire) == 0 {
                // Serve what else is queued (errors, statistics) before returning.
                self.poll(Some(Duration::ZERO));
                return RD_KAFKA_RESP_ERR_NO_ERROR;
            }
            if left.is_zero() {
                return RD_KAFKA_RESP_ERR__TIMED_OUT;
            }
        }
    }
}

/// Milliseconds from C (`-1`: wait indefinitely).
pub(crate) fn timeout_of(ms: c_int) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

pub(crate) unsafe fn handle<'a>(rk: *const rd_kafka_t) -> Option<&'a rd_kafka_s> {
    // SAFETY: NULL or a handle this library returned and the caller has not destroyed.
    unsafe { rk.as_ref() }
}

pub(crate) use handle as handle_ref;

/// Builds the producer of a new handle.
fn start(rk: &mut rd_kafka_s, config: ProducerConfig) -> Result<Producer, Error> {
    let outcomes = crate::ua::Outcomes {
        tx: rk.events_tx.clone(),
        wants_reports: rk.cb.dr_msg.is_some() || rk.cb.dr.is_some(),
        only_errors: rk.abi.dr_only_error,
        rk: std::ptr::from_ref::<rd_kafka_s>(rk) as usize,
    };
    rk.outcomes = Some(outcomes.clone());
    let rk_addr = outcomes.rk;
    let mut b = Producer::builder(config).on_delivery_batch(move |batch| outcomes.deliver_batch(batch));
    if let Some((cb, opaque)) =
        rk.conf.topic_conf.as_ref().and_then(|t| t.partitioner.map(|cb| (cb, t.opaque as usize)))
    {
        b = b.partitioner(crate::partitioners::CPartitioner { cb, rk: rk_addr, opaque });
    }
    let tx = rk.events_tx.clone();
    let slot = Arc::clone(&rk.fatal);
    let has_fatal = Arc::clone(&rk.has_fatal);
    b = b.on_error(move |e| {
        let code = if e.is_fatal() { RD_KAFKA_RESP_ERR__FATAL } else { code_of(e) };
        if e.is_fatal() {
            slot.lock().get_or_insert_with(|| (code_of(e), e.to_string()));
            has_fatal.store(true, Ordering::Release);
        }
        let _ = tx.send(Event::Error(code, e.to_string()));
    });
    if rk.cb.stats.is_some() {
        let tx = rk.events_tx.clone();
        b = b.on_statistics(move |json| {
            let _ = tx.send(Event::Stats(json.to_string()));
        });
    }
    if rk.cb.throttle.is_some() {
        let tx = rk.events_tx.clone();
        b = b.on_throttle(move |broker, node, time| {
            let ms = c_int::try_from(time.as_millis()).unwrap_or(c_int::MAX);
            let _ = tx.send(Event::Throttle(format!("{broker}/{node}"), node, ms));
        });
    }
    if let Some(cb) = rk.cb.oauth {
        let config = rk.conf.props.get("sasl.oauthbearer.config").unwrap_or("").to_string();
        b = crate::txn::oauth_provider(b, cb, config, rk_addr, rk.opaque as usize, Arc::clone(&rk.oauth));
    }
    b.build()
}

/// Creates a producer handle; `conf` is taken over on success (and left to the caller on failure).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_new(
    type_: rd_kafka_type_t,
    conf: *mut rd_kafka_conf_t,
    errstr: *mut c_char,
    errstr_size: usize,
) -> *mut rd_kafka_t {
    guard(std::ptr::null_mut(), || {
        let fail = |msg: &str| {
            // SAFETY: errstr is NULL or errstr_size bytes (API contract).
            unsafe { write_cstr(errstr, errstr_size, msg) };
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, libc::EINVAL);
            std::ptr::null_mut()
        };
        if type_ != RD_KAFKA_PRODUCER {
            return fail(
                "kprod implements librdkafka's producer API only: a consumer handle (RD_KAFKA_CONSUMER) \
                 cannot be created with this library",
            );
        }
        let conf_ptr = conf;
        let conf: Box<rd_kafka_conf_t> = if conf.is_null() {
            Box::new(crate::conf::rd_kafka_conf_s::new())
        } else {
            // SAFETY: a configuration this library boxed; read here, taken over only on success.
            Box::new(unsafe { (*conf).clone() })
        };
        let (config, abi) = match conf.producer_config() {
            Ok(c) => c,
            Err(e) => return fail(&e),
        };
        for (k, _) in conf.all_props() {
            if CONSUMER_PROPERTIES.contains(&k.as_str()) {
                log::warn!(
                    "configuration property {k} is a consumer property and is ignored by this producer"
                );
            }
        }
        let client_id = config.client_id().to_string();
        let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
        let (events_tx, events) = crossbeam_channel::unbounded();
        let max_block = config.max_block();
        let tx_timeout = config.transaction_timeout() * 2;
        let mut rk = Box::new(rd_kafka_s {
            producer: None,
            name: cstring(&format!("{client_id}#producer-{seq}")),
            opaque: conf.opaque,
            cb: conf.cb,
            abi,
            max_block,
            tx_timeout,
            events,
            events_tx,
            outq: AtomicUsize::new(0),
            space: Mutex::new(()),
            space_freed: Condvar::new(),
            fatal: Arc::default(),
            has_fatal: Arc::default(),
            ua: Arc::default(),
            ua_thread: Mutex::new(None),
            outcomes: None,
            delivery_timeout: config.delivery_timeout(),
            topics: parking_lot::RwLock::new(HashMap::new()),
            purge_code: AtomicI32::new(RD_KAFKA_RESP_ERR__PURGE_QUEUE),
            conf,
            oauth: Arc::default(),
            log_sink: None,
        });
        rk.log_sink = Some(crate::logger::register(&rk));
        let started = start(&mut rk, config).map(Arc::new).and_then(|p| {
            let outcomes = rk.outcomes.clone().ok_or(Error::Closed)?;
            let t = crate::ua::start(Arc::clone(&rk.ua), Arc::clone(&p), outcomes, rk.delivery_timeout)?;
            *rk.ua_thread.lock() = Some(t);
            Ok(p)
        });
        match started {
            Ok(p) => rk.producer = Some(p),
            Err(e) => {
                if let Some(s) = rk.log_sink.take() {
                    crate::logger::unregister(&s);
                }
                return fail(&e.to_string());
            }
        }
        // Success: the caller's configuration object is ours now, and freed.
        if !conf_ptr.is_null() {
            // SAFETY: taken over on success, as librdkafka does; the handle keeps its copy.
            drop(unsafe { Box::from_raw(conf_ptr) });
        }
        LIVE.fetch_add(1, Ordering::AcqRel);
        Box::into_raw(rk)
    })
}

/// Destroys a handle: messages not yet delivered are failed and freed without reports (flush first
/// to deliver them); returns within about `message.timeout.ms` at worst, normally at once.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_destroy(rk: *mut rd_kafka_t) {
    if rk.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: a handle this library boxed, destroyed once; no other thread uses it any more
        // (API contract).
        let mut rk = unsafe { Box::from_raw(rk) };
        // Parked messages are not sent any more; one being sent is interrupted by the close below.
        rk.ua.close();
        if let Some(p) = rk.producer.take() {
            let n = rk.outq.load(Ordering::Acquire);
            // With nothing outstanding, close waits for the sender to finish (at once); otherwise the
            // records still pending fail at once (Error::Closed), as librdkafka's destroy does not
            // wait for them either. Every outcome has reached the callback thread, which has ended,
            // when close returns.
            let wait = if n == 0 {
                Duration::from_secs(5)
            } else {
                log::warn!(
                    "producer terminating with {n} message(s) still in queue or transit: use rd_kafka_flush() to wait for outstanding message delivery"
                );
                Duration::ZERO
            };
            let _ = p.close(wait);
            if let Some(t) = rk.ua_thread.lock().take() {
                let _ = t.join();
            }
            drop(p);
        }
        for opaque in rk.ua.take(true) {
            crate::produce::discard(opaque);
            rk.release();
        }
        // Release what the reports still hold, without calling back (librdkafka does not either).
        while let Ok(ev) = rk.events.try_recv() {
            let opaques: Vec<u64> = match ev {
                Event::Delivery(opaque, _) => vec![opaque],
                Event::Deliveries(batch) => batch.into_iter().map(|(o, _)| o).collect(),
                _ => Vec::new(),
            };
            for opaque in opaques {
                crate::produce::discard(opaque);
                rk.release();
            }
        }
        if let Some(s) = rk.log_sink.take() {
            crate::logger::unregister(&s);
        }
        // Topic objects the application did not destroy are freed with the handle.
        rk.topics.write().clear();
        LIVE.fetch_sub(1, Ordering::AcqRel);
    })
}

/// As `rd_kafka_destroy` (the flags concern consumers).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_destroy_flags(rk: *mut rd_kafka_t, flags: c_int) {
    let _ = flags;
    // SAFETY: the caller's contract is rd_kafka_destroy's.
    unsafe { rd_kafka_destroy(rk) }
}

/// The handle's name, `<client.id>#producer-<n>`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_name(rk: *const rd_kafka_t) -> *const c_char {
    // SAFETY: see handle().
    guard(std::ptr::null(), || unsafe { handle(rk) }.map_or(std::ptr::null(), |h| h.name.as_ptr()))
}

/// Always `RD_KAFKA_PRODUCER`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_type(rk: *const rd_kafka_t) -> rd_kafka_type_t {
    let _ = rk;
    RD_KAFKA_PRODUCER
}

/// The opaque of the handle's configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_opaque(rk: *const rd_kafka_t) -> *mut c_void {
    // SAFETY: see handle().
    guard(std::ptr::null_mut(), || unsafe { handle(rk) }.map_or(std::ptr::null_mut(), |h| h.opaque))
}

/// Serves queued callbacks, waiting up to `timeout_ms` (-1: indefinitely) for the first; returns how
/// many events were served.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_poll(rk: *mut rd_kafka_t, timeout_ms: c_int) -> c_int {
    // SAFETY: see handle().
    guard(0, || match unsafe { handle(rk) } {
        Some(h) => c_int::try_from(h.poll(timeout_of(timeout_ms))).unwrap_or(c_int::MAX),
        None => 0,
    })
}

/// Sends everything queued now and waits up to `timeout_ms` until every message is delivered and
/// its report served; `__TIMED_OUT` if some are left.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_flush(rk: *mut rd_kafka_t, timeout_ms: c_int) -> rd_kafka_resp_err_t {
    // SAFETY: see handle().
    guard(RD_KAFKA_RESP_ERR__FAIL, || match unsafe { handle(rk) } {
        Some(h) => h.flush(timeout_of(timeout_ms).unwrap_or(Duration::from_secs(u64::from(u32::MAX)))),
        None => RD_KAFKA_RESP_ERR__INVALID_ARG,
    })
}

/// Fails queued (`RD_KAFKA_PURGE_F_QUEUE`) and/or in-flight (`..._INFLIGHT`) messages; their reports
/// carry `__PURGE_QUEUE` / `__PURGE_INFLIGHT`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_purge(rk: *mut rd_kafka_t, purge_flags: c_int) -> rd_kafka_resp_err_t {
    // SAFETY: see handle().
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see handle().
        let Some(h) = (unsafe { handle(rk) }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        if purge_flags & !(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING)
            != 0
        {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        let queued = purge_flags & RD_KAFKA_PURGE_F_QUEUE != 0;
        let in_flight = purge_flags & RD_KAFKA_PURGE_F_INFLIGHT != 0;
        let code = if in_flight && !queued {
            RD_KAFKA_RESP_ERR__PURGE_INFLIGHT
        } else {
            RD_KAFKA_RESP_ERR__PURGE_QUEUE
        };
        h.purge_code.store(code, Ordering::Release);
        if queued {
            if let Some(o) = &h.outcomes {
                for opaque in h.ua.take(false) {
                    o.deliver(opaque, Err(Error::Purged));
                }
            }
        }
        match h.producer().map(|p| p.purge(queued, in_flight)) {
            Some(Ok(())) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Some(Err(e)) => code_of(&e),
            None => RD_KAFKA_RESP_ERR__DESTROY,
        }
    })
}

/// Messages produced and not yet delivered and reported.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_outq_len(rk: *mut rd_kafka_t) -> c_int {
    guard(0, || {
        // SAFETY: see handle().
        unsafe { handle(rk) }
            .map_or(0, |h| c_int::try_from(h.outq.load(Ordering::Acquire)).unwrap_or(c_int::MAX))
    })
}

/// Waits until every handle is destroyed: 0, or -1 after `timeout_ms`.
#[no_mangle]
pub extern "C" fn rd_kafka_wait_destroyed(timeout_ms: c_int) -> c_int {
    let deadline = Instant::now() + timeout_of(timeout_ms).unwrap_or(Duration::ZERO);
    loop {
        if LIVE.load(Ordering::Acquire) == 0 {
            return 0;
        }
        if Instant::now() >= deadline {
            return -1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Does nothing: kprod's calls do not block on the poll loop.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_yield(rk: *mut rd_kafka_t) {
    let _ = rk;
}

/// The fatal error, if the producer has one: its code, its reason in `errstr`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_fatal_error(
    rk: *mut rd_kafka_t,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_resp_err_t {
    // SAFETY: see handle().
    guard(RD_KAFKA_RESP_ERR__FAIL, || match unsafe { handle(rk) }.and_then(|h| h.fatal.lock().clone()) {
        Some((code, reason)) => {
            // SAFETY: errstr is NULL or errstr_size bytes.
            unsafe { write_cstr(errstr, errstr_size, &reason) };
            code
        }
        None => RD_KAFKA_RESP_ERR_NO_ERROR,
    })
}

/// Raises a fabricated fatal error (librdkafka's test hook): later produce calls fail with
/// `__FATAL`, and `error_cb` is told, as with a real one.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_test_fatal_error(
    rk: *mut rd_kafka_t,
    err: rd_kafka_resp_err_t,
    reason: *const c_char,
) -> rd_kafka_resp_err_t {
    // SAFETY: see handle() and str_arg.
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see handle().
        let Some(h) = (unsafe { handle(rk) }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        // SAFETY: see str_arg.
        let reason = unsafe { str_arg(reason) }.unwrap_or("");
        let text = format!("test_fatal_error: {reason}");
        let desc = crate::err::lookup(err).map_or("?", |e| e.2);
        let mut fatal = h.fatal.lock();
        if fatal.is_some() {
            return RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS;
        }
        *fatal = Some((err, text.clone()));
        drop(fatal);
        h.has_fatal.store(true, Ordering::Release);
        let _ =
            h.events_tx.send(Event::Error(RD_KAFKA_RESP_ERR__FATAL, format!("Fatal error: {desc}: {text}")));
        // As librdkafka does on a fatal error: queued messages are purged, in-flight ones complete.
        h.purge_code.store(RD_KAFKA_RESP_ERR__PURGE_QUEUE, Ordering::Release);
        if let Some(p) = h.producer() {
            let _ = p.purge(true, false);
        }
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Writes the handle's state (kprod's metrics) to `fp`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_dump(fp: *mut libc::FILE, rk: *mut rd_kafka_t) {
    guard((), || {
        // SAFETY: see handle().
        let (Some(h), false) = (unsafe { handle(rk) }, fp.is_null()) else { return };
        let mut out = format!(
            "rd_kafka_t {:p}: {}
 outq_len {}
",
            rk,
            h.name.to_string_lossy(),
            h.outq.load(Ordering::Acquire)
        );
        if let Some(p) = h.producer() {
            for m in p.metrics().iter() {
                out.push_str(&format!(" {}:{} {:?} = {}\n", m.group, m.name, m.tags, m.value));
            }
        }
        let c = cstring(&out);
        // SAFETY: fp is an open FILE*; c is a valid C string.
        unsafe { libc::fputs(c.as_ptr(), fp) };
    })
}

/// Sets the log level (syslog 0-7) of this handle's log lines.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_set_log_level(rk: *mut rd_kafka_t, level: c_int) {
    // SAFETY: see handle().
    if let Some(s) = unsafe { handle(rk) }.and_then(|h| h.log_sink.as_ref()) {
        s.set_level(level);
    }
}

/// NULL: a producer has no group membership.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_memberid(rk: *const rd_kafka_t) -> *mut c_char {
    let _ = rk;
    std::ptr::null_mut()
}

/// NULL (not known to kprod's public API).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_clusterid(rk: *mut rd_kafka_t, timeout_ms: c_int) -> *mut c_char {
    let _ = (rk, timeout_ms);
    std::ptr::null_mut()
}

/// -1 (not known to kprod's public API).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_controllerid(rk: *mut rd_kafka_t, timeout_ms: c_int) -> i32 {
    let _ = (rk, timeout_ms);
    -1
}

/// The topic object for `topic` (one per name and handle); `conf` (taken over) may only repeat the
/// producer's topic-level settings, since kprod applies them producer-wide.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_new(
    rk: *mut rd_kafka_t,
    topic: *const c_char,
    conf: *mut rd_kafka_topic_conf_t,
) -> *mut rd_kafka_topic_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see handle() and str_arg.
        let (Some(h), Some(name)) = (unsafe { handle(rk) }, unsafe { str_arg(topic) }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, libc::EINVAL);
            return std::ptr::null_mut();
        };
        let tconf = if conf.is_null() {
            None
        } else {
            // SAFETY: a topic configuration this library boxed, taken over here.
            Some(unsafe { Box::from_raw(conf) })
        };
        if let Some(t) = &tconf {
            let producer_props = h.conf.all_props();
            for (k, v) in &t.props.list {
                let same = producer_props.iter().any(|(pk, pv)| pk == k && pv == v);
                if !same && !crate::conf::no_effect_on_topic(k) {
                    log::error!(
                        "rd_kafka_topic_new({name}): topic property {k}={v} differs from the producer's; kprod applies topic-level properties producer-wide (set it on the rd_kafka_conf_t)"
                    );
                    set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, libc::EINVAL);
                    return std::ptr::null_mut();
                }
            }
            let producer_wide = h.conf.topic_conf.as_ref().and_then(|d| d.partitioner);
            if t.partitioner.is_some()
                && t.partitioner.map(|f| f as usize) != producer_wide.map(|f| f as usize)
            {
                log::error!(
                    "rd_kafka_topic_new({name}): a partitioner_cb other than the default topic configuration's; kprod has one partitioner per producer (set it with rd_kafka_conf_set_default_topic_conf)"
                );
                set_last_error(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, libc::EINVAL);
                return std::ptr::null_mut();
            }
        }
        set_last_error(RD_KAFKA_RESP_ERR_NO_ERROR, 0);
        let t = h.topic(name);
        if let Some(opaque) = tconf.map(|c| c.opaque).filter(|o| !o.is_null()) {
            t.opaque.store(opaque, Ordering::Release);
        }
        Arc::into_raw(t).cast_mut()
    })
}

/// Releases the application's reference to a topic object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_destroy(rkt: *mut rd_kafka_topic_t) {
    if !rkt.is_null() {
        // SAFETY: a reference rd_kafka_topic_new handed out (Arc::into_raw), released once.
        guard((), || drop(unsafe { Arc::from_raw(rkt.cast_const()) }));
    }
}

/// The topic's name.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_name(rkt: *const rd_kafka_topic_t) -> *const c_char {
    // SAFETY: NULL or a live topic object.
    guard(std::ptr::null(), || unsafe { rkt.as_ref() }.map_or(std::ptr::null(), |t| t.c_name.as_ptr()))
}

/// The topic's opaque.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_opaque(rkt: *const rd_kafka_topic_t) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live topic object.
        unsafe { rkt.as_ref() }.map_or(std::ptr::null_mut(), |t| t.opaque.load(Ordering::Acquire))
    })
}
