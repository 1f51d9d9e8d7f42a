//! Producing: `rd_kafka_produce`, `produceva` (and the C shim's `producev`), `produce_batch`; the
//! delivery reports `rd_kafka_poll` serves, and the message accessors.
//!
//! Each accepted message is one heap `Pending` whose address is the opaque value kprod carries to
//! the message's outcome; it holds what the delivery report shows (topic, payload, key, headers,
//! `msg_opaque`) and what must be freed after it (an `RD_KAFKA_MSG_F_FREE` payload). It is freed
//! exactly once: by the report (`report`), by kprod's callback thread when nobody reads reports
//! (`discard`), or by destroy. A send kprod refuses never reaches kprod's callbacks, so the caller
//! takes it back at once.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kprod::{Error, Record, RecordMetadata, SendError};

use crate::err::*;
use crate::error::{code_of, errno_of, rd_kafka_error_s, rd_kafka_error_t};
use crate::handle::{handle_ref, rd_kafka_s, rd_kafka_t, rd_kafka_topic_s, rd_kafka_topic_t};
use crate::headers::rd_kafka_headers_t;
use crate::util::{guard, guard_with, set_last_error, str_arg};

/// librdkafka's `rd_kafka_message_t`, field for field.
#[repr(C)]
#[derive(Debug)]
pub struct rd_kafka_message_t {
    /// The delivery error (0: delivered).
    pub err: rd_kafka_resp_err_t,
    /// The topic.
    pub rkt: *mut rd_kafka_topic_t,
    /// The partition (the one written to, else the one asked for, else -1).
    pub partition: i32,
    /// The payload as produced.
    pub payload: *mut c_void,
    /// Its length.
    pub len: usize,
    /// The key as produced.
    pub key: *mut c_void,
    /// Its length.
    pub key_len: usize,
    /// The offset written at (`RD_KAFKA_OFFSET_INVALID` when not delivered).
    pub offset: i64,
    /// The producer's `msg_opaque`.
    pub _private: *mut c_void,
}

/// Message flags.
pub const RD_KAFKA_MSG_F_FREE: c_int = 0x1;
/// Message flags.
pub const RD_KAFKA_MSG_F_COPY: c_int = 0x2;
/// Message flags.
pub const RD_KAFKA_MSG_F_BLOCK: c_int = 0x4;
/// Message flags.
pub const RD_KAFKA_MSG_F_PARTITION: c_int = 0x8;
/// Any partition.
pub const RD_KAFKA_PARTITION_UA: i32 = -1;
/// No offset.
pub const RD_KAFKA_OFFSET_INVALID: i64 = -1001;

/// `rd_kafka_msg_status_t`.
const NOT_PERSISTED: c_int = 0;
const POSSIBLY_PERSISTED: c_int = 1;
const PERSISTED: c_int = 2;

/// One accepted message until its report is served.
pub(crate) struct Pending {
    /// The handle's topic object (alive as long as the handle, which outlives every message).
    rkt: *const rd_kafka_topic_s,
    partition: i32,
    /// What the report shows as the payload: the application's pointer (F_FREE, or no flag: it
    /// promised to keep it), or our copy (F_COPY).
    payload: *mut c_void,
    len: usize,
    copy: Option<Box<[u8]>>,
    /// Freed with free() after the report (RD_KAFKA_MSG_F_FREE).
    free_payload: bool,
    key: Option<Box<[u8]>>,
    msg_opaque: *mut c_void,
    headers: Option<Box<rd_kafka_headers_t>>,
    timestamp: i64,
    /// `util::coarse_ns` when produced (latency, and the UA queue's deadline).
    produced_at: u64,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.free_payload && !self.payload.is_null() {
            // SAFETY: RD_KAFKA_MSG_F_FREE handed us a malloc'ed payload, freed once, here.
            unsafe { libc::free(self.payload) };
        }
    }
}

/// The message of a delivery report: `rd_kafka_message_t` first, so the accessors can find the rest.
#[repr(C)]
struct DrMessage {
    msg: rd_kafka_message_t,
    magic: u64,
    timestamp: i64,
    status: c_int,
    produced_at: u64,
    errstr: Option<CString>,
    headers: *mut rd_kafka_headers_t,
}

const MAGIC: u64 = 0x6b70_726f_645f_6472; // "kprod_dr"

/// The report message behind an application pointer, if it is one of ours.
unsafe fn dr<'a>(m: *const rd_kafka_message_t) -> Option<&'a DrMessage> {
    // SAFETY: m is NULL or a message this library passed to a callback and that callback is still
    // running (librdkafka's contract); ours are always DrMessages, checked by the magic.
    let d = unsafe { m.cast::<DrMessage>().as_ref() }?;
    (d.magic == MAGIC).then_some(d)
}

/// Frees a message nobody will see the report of (from kprod's callback thread, or destroy).
pub(crate) fn discard(opaque: u64) {
    if opaque != 0 {
        // SAFETY: opaque is a Box<Pending> leaked by produce() and handed out exactly once.
        drop(unsafe { Box::from_raw(opaque as usize as *mut Pending) });
    }
}

fn status_of(result: &Result<RecordMetadata, Error>) -> c_int {
    match result {
        Ok(_) => PERSISTED,
        Err(Error::DeliveryTimeout | Error::Io(_) | Error::Transport { .. } | Error::Broker { .. }) => {
            POSSIBLY_PERSISTED
        }
        Err(_) => NOT_PERSISTED,
    }
}

/// Serves one delivery report on the polling thread, then frees the message.
pub(crate) fn report(rk: &rd_kafka_s, opaque: u64, result: Result<RecordMetadata, Error>) {
    if opaque == 0 {
        return;
    }
    // SAFETY: opaque is a Box<Pending> leaked by produce() and handed out exactly once.
    let mut p = unsafe { Box::from_raw(opaque as usize as *mut Pending) };
    let err = match &result {
        Ok(_) => 0,
        Err(Error::Purged) => rk.purge_code.load(Ordering::Acquire),
        Err(e) => code_of(e),
    };
    let (partition, offset, timestamp) = match &result {
        Ok(m) => (m.topic_partition.partition, m.offset, m.timestamp),
        Err(_) => (p.partition, RD_KAFKA_OFFSET_INVALID, p.timestamp),
    };
    let (key, key_len) = match &mut p.key {
        Some(k) => (k.as_mut_ptr().cast::<c_void>(), k.len()),
        None => (std::ptr::null_mut(), 0),
    };
    let payload = match &mut p.copy {
        Some(c) => c.as_mut_ptr().cast::<c_void>(),
        None => p.payload,
    };
    let headers = p.headers.as_deref_mut().map_or(std::ptr::null_mut(), std::ptr::from_mut);
    let m = DrMessage {
        msg: rd_kafka_message_t {
            err,
            rkt: p.rkt.cast_mut(),
            partition,
            payload,
            len: p.len,
            key,
            key_len,
            offset,
            _private: p.msg_opaque,
        },
        magic: MAGIC,
        timestamp,
        status: status_of(&result),
        produced_at: p.produced_at,
        errstr: result.as_ref().err().map(|e| crate::util::cstring(&e.to_string())),
        headers,
    };
    let rkp = std::ptr::from_ref(rk).cast_mut();
    if let Some(cb) = rk.cb.dr_msg {
        // SAFETY: the application's dr_msg_cb; the message lives until it returns.
        unsafe { cb(rkp, &m.msg, rk.opaque) };
    } else if let Some(cb) = rk.cb.dr {
        // SAFETY: the application's dr_cb, librdkafka's arguments.
        unsafe { cb(rkp, m.msg.payload, m.msg.len, err, rk.opaque, p.msg_opaque) };
    }
    drop(m);
    drop(p);
    rk.release();
}

/// One message to produce, as the C calls describe it.
pub(crate) struct Msg<'a> {
    /// The handle's topic object.
    pub rkt: *const rd_kafka_topic_s,
    pub partition: i32,
    pub flags: c_int,
    pub payload: *mut c_void,
    pub len: usize,
    pub key: &'a [u8],
    pub has_key: bool,
    pub msg_opaque: *mut c_void,
    pub timestamp: i64,
    pub headers: Option<Box<rd_kafka_headers_t>>,
}

/// Why a produce was refused: the code and the message (the headers go back to the caller).
pub(crate) struct Refused {
    pub code: rd_kafka_resp_err_t,
    pub message: String,
    pub headers: Option<Box<rd_kafka_headers_t>>,
}

fn refused(
    code: rd_kafka_resp_err_t,
    message: impl Into<String>,
    headers: Option<Box<rd_kafka_headers_t>>,
) -> Refused {
    Refused { code, message: message.into(), headers }
}

/// Waits (F_BLOCK) up to the handle's bound for queue space; false if none came.
fn wait_for_space(rk: &rd_kafka_s) -> bool {
    let deadline = Instant::now() + rk.max_block;
    let mut g = rk.space.lock();
    while rk.outq.load(Ordering::Acquire) >= rk.abi.max_messages {
        if rk.space_freed.wait_until(&mut g, deadline).timed_out() {
            return rk.outq.load(Ordering::Acquire) < rk.abi.max_messages;
        }
    }
    true
}

/// Produces one message: the body of every produce call.
pub(crate) fn produce(rk: &rd_kafka_s, m: Msg<'_>) -> Result<(), Refused> {
    let Some(producer) = rk.producer() else {
        return Err(refused(RD_KAFKA_RESP_ERR__DESTROY, "the handle is being destroyed", m.headers));
    };
    if rk.has_fatal.load(Ordering::Acquire) {
        let reason = rk.fatal.lock().clone().map(|(_, r)| r).unwrap_or_default();
        return Err(refused(RD_KAFKA_RESP_ERR__FATAL, reason, m.headers));
    }
    let block = m.flags & RD_KAFKA_MSG_F_BLOCK != 0;
    if rk.outq.load(Ordering::Acquire) >= rk.abi.max_messages && !(block && wait_for_space(rk)) {
        return Err(refused(
            RD_KAFKA_RESP_ERR__QUEUE_FULL,
            "queue.buffering.max.messages reached",
            m.headers,
        ));
    }
    if m.partition < RD_KAFKA_PARTITION_UA {
        return Err(refused(
            RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
            format!("partition {}", m.partition),
            m.headers,
        ));
    }
    let wants_report = rk.cb.dr_msg.is_some() || rk.cb.dr.is_some();
    let value: Option<&[u8]> = if m.payload.is_null() {
        None
    } else {
        // SAFETY: the caller's payload of `len` bytes, alive for the call (API contract).
        Some(unsafe { std::slice::from_raw_parts(m.payload.cast::<u8>(), m.len) })
    };
    let copy = m.flags & RD_KAFKA_MSG_F_COPY != 0;
    let free = m.flags & RD_KAFKA_MSG_F_FREE != 0 && !copy;
    // SAFETY: the handle's topic objects live as long as the handle (see Pending::rkt).
    let rkt = unsafe { &*m.rkt };
    let pending = Box::into_raw(Box::new(Pending {
        rkt: m.rkt,
        partition: m.partition,
        payload: m.payload,
        len: m.len,
        copy: (copy && wants_report).then(|| value.unwrap_or_default().into()),
        free_payload: free,
        key: (m.has_key && wants_report).then(|| m.key.into()),
        msg_opaque: m.msg_opaque,
        headers: m.headers,
        timestamp: m.timestamp,
        produced_at: crate::util::coarse_ns(),
    }));
    // SAFETY: the Pending is fully built before the send, because its outcome may be served (and the
    // Pending freed) on another thread as soon as kprod has encoded the record. The headers are only
    // read while the record is encoded, inside the send, before any outcome can exist.
    let headers = unsafe { (*pending).headers.as_deref() };
    let topic: &str = &rkt.name;
    let record = record_of(topic, value, m.has_key.then_some(m.key), m.partition, m.timestamp, headers);
    let opaque = pending as usize as u64;
    rk.outq.fetch_add(1, Ordering::AcqRel);
    let refuse = |error: Error| {
        rk.outq.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: refused, so kprod never saw the opaque: the Pending is ours again. On failure
        // the application keeps its payload and headers, as with librdkafka.
        let mut p = unsafe { Box::from_raw(pending) };
        p.free_payload = false;
        let headers = p.headers.take();
        drop(p);
        Err(refused(code_of(&error), error.to_string(), headers))
    };
    let park = || {
        // SAFETY: not handed to kprod: the Pending is still only ours. A parked message outlives this
        // call, so it keeps its own copies of what the caller lent (F_COPY payload, key).
        unsafe {
            if copy && (*pending).copy.is_none() {
                (*pending).copy = Some(value.unwrap_or_default().into());
            }
            if m.has_key && (*pending).key.is_none() {
                (*pending).key = Some(m.key.into());
            }
        }
        rk.ua.park(Arc::clone(&rkt.name), opaque)
    };
    // Behind a parked message of the same topic: park too, so the topic's order holds.
    if rk.ua.has(topic) {
        drop(record);
        return if park() { Ok(()) } else { refuse(Error::Closed) };
    }
    // Never wait for metadata here (a topic not known yet is parked, as librdkafka queues it on its
    // unassigned partition); with F_BLOCK, wait up to max.block.ms for batch memory.
    let mut sent = producer.send_reported_within(record, opaque, Duration::ZERO).map(drop);
    if let Err(SendError { error: Error::BufferExhausted { .. }, record }) = sent {
        sent = if block {
            producer.send_reported_within(record, opaque, rk.max_block).map(drop)
        } else {
            Err(SendError::new(Error::BufferExhausted { size: 0, max_block: Duration::ZERO }, record))
        };
    }
    match sent {
        Ok(()) => Ok(()),
        Err(SendError { error: Error::UnknownTopicOrPartition { waited, .. }, record })
            if waited.is_zero() =>
        {
            drop(record);
            if park() {
                Ok(())
            } else {
                refuse(Error::Closed)
            }
        }
        Err(e) => {
            let error = e.error;
            drop(e.record);
            refuse(error)
        }
    }
}

/// The record of a message: librdkafka's NULL payload is no value, `RD_KAFKA_PARTITION_UA` no
/// partition, timestamp 0 none.
fn record_of<'a>(
    topic: &'a str,
    value: Option<&'a [u8]>,
    key: Option<&'a [u8]>,
    partition: i32,
    timestamp: i64,
    headers: Option<&'a rd_kafka_headers_t>,
) -> Record<'a> {
    let mut record = Record::new(topic);
    if let Some(v) = value {
        record = record.value(v);
    }
    if let Some(k) = key {
        record = record.key(k);
    }
    if partition != RD_KAFKA_PARTITION_UA {
        record = record.partition(partition);
    }
    if timestamp != 0 {
        record = record.timestamp(timestamp);
    }
    if let Some(h) = headers {
        for (name, value) in h.iter() {
            record = record.header(name, value);
        }
    }
    record
}

/// Sends a parked message (the UA thread), waiting for its topic's metadata until its
/// `message.timeout.ms` is up. On `Ok` the message is kprod's; on `Err` it is still the caller's.
pub(crate) fn send_parked(producer: &kprod::Producer, opaque: u64, timeout: Duration) -> Result<(), Error> {
    // SAFETY: a parked Pending belongs to the UA queue until this send hands it to kprod; nothing
    // else reads or frees it meanwhile.
    let p = unsafe { &*(opaque as usize as *const Pending) };
    let deadline = p.produced_at.saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
    let left = Duration::from_nanos(deadline.saturating_sub(crate::util::coarse_ns()));
    // SAFETY: see Pending::rkt.
    let value: Option<&[u8]> = match (&p.copy, p.payload.is_null()) {
        (Some(c), _) => Some(c),
        (None, true) => None,
        // SAFETY: an F_FREE payload is ours; without a flag the application keeps it until the
        // report (librdkafka's contract).
        (None, false) => Some(unsafe { std::slice::from_raw_parts(p.payload.cast::<u8>(), p.len) }),
    };
    // SAFETY: see Pending::rkt.
    let topic = &*unsafe { &*p.rkt }.name;
    let record = record_of(topic, value, p.key.as_deref(), p.partition, p.timestamp, p.headers.as_deref());
    producer.send_reported_within(record, opaque, left).map(drop).map_err(|e| e.error)
}

/// `rd_kafka_vtype_t`.
pub mod vtype {
    #![allow(missing_docs)]
    use std::ffi::c_int;
    pub const END: c_int = 0;
    pub const TOPIC: c_int = 1;
    pub const RKT: c_int = 2;
    pub const PARTITION: c_int = 3;
    pub const VALUE: c_int = 4;
    pub const KEY: c_int = 5;
    pub const OPAQUE: c_int = 6;
    pub const MSGFLAGS: c_int = 7;
    pub const TIMESTAMP: c_int = 8;
    pub const HEADER: c_int = 9;
    pub const HEADERS: c_int = 10;
}

/// `rd_kafka_vu_t`'s `mem` member.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VuMem {
    /// Pointer.
    pub ptr: *mut c_void,
    /// Size.
    pub size: usize,
}

/// `rd_kafka_vu_t`'s `header` member.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VuHeader {
    /// Name.
    pub name: *const c_char,
    /// Value.
    pub val: *const c_void,
    /// Size (-1: a NUL-terminated value).
    pub size: isize,
}

/// `rd_kafka_vu_t`'s union.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub union VuValue {
    pub cstr: *const c_char,
    pub rkt: *mut rd_kafka_topic_t,
    pub i: c_int,
    pub i32: i32,
    pub i64: i64,
    pub mem: VuMem,
    pub header: VuHeader,
    pub headers: *mut rd_kafka_headers_t,
    pub ptr: *mut c_void,
    pub _pad: [c_char; 64],
}

/// librdkafka's `rd_kafka_vu_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rd_kafka_vu_t {
    /// Which member of `u` is set.
    pub vtype: c_int,
    /// The value.
    pub u: VuValue,
}

/// Produces one message described by (vtype, value) pairs; NULL on success, else an error the caller
/// destroys.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produceva(
    rk: *mut rd_kafka_t,
    vus: *const rd_kafka_vu_t,
    cnt: usize,
) -> *mut rd_kafka_error_t {
    guard_with(
        || rd_kafka_error_s::boxed(RD_KAFKA_RESP_ERR__FAIL, "panic in rd_kafka_produceva"),
        || {
            // SAFETY: see handle_ref.
            let Some(h) = (unsafe { handle_ref(rk) }) else {
                return rd_kafka_error_s::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "rk is NULL");
            };
            let vus: &[rd_kafka_vu_t] = if cnt == 0 || vus.is_null() {
                &[]
            } else {
                // SAFETY: the caller passes `cnt` vus (API contract).
                unsafe { std::slice::from_raw_parts(vus, cnt) }
            };
            let mut rkt: Option<*const rd_kafka_topic_s> = None;
            let (mut partition, mut flags, mut timestamp) = (RD_KAFKA_PARTITION_UA, 0, 0);
            let (mut payload, mut len) = (std::ptr::null_mut(), 0);
            let (mut key, mut has_key): (&[u8], bool) = (&[], false);
            let mut msg_opaque = std::ptr::null_mut();
            let mut headers: Option<Box<rd_kafka_headers_t>> = None;
            let mut given_headers: *mut rd_kafka_headers_t = std::ptr::null_mut();
            let mut added: Vec<(String, Option<Vec<u8>>)> = Vec::new();
            for vu in vus {
                // SAFETY: each union member is read as the vtype says it was written (API contract).
                unsafe {
                    match vu.vtype {
                        vtype::END => break,
                        vtype::TOPIC => match str_arg(vu.u.cstr) {
                            Some(name) => rkt = Some(h.topic_ptr(name)),
                            None => {
                                return rd_kafka_error_s::boxed(
                                    RD_KAFKA_RESP_ERR__INVALID_ARG,
                                    "RD_KAFKA_V_TOPIC: NULL or not UTF-8",
                                )
                            }
                        },
                        vtype::RKT => match (vu.u.rkt.cast_const()).as_ref() {
                            Some(t) => rkt = Some(h.topic_ptr(&t.name)),
                            None => {
                                return rd_kafka_error_s::boxed(
                                    RD_KAFKA_RESP_ERR__INVALID_ARG,
                                    "RD_KAFKA_V_RKT: NULL",
                                )
                            }
                        },
                        vtype::PARTITION => partition = vu.u.i32,
                        vtype::VALUE => {
                            payload = vu.u.mem.ptr;
                            len = vu.u.mem.size;
                        }
                        vtype::KEY => {
                            has_key = !vu.u.mem.ptr.is_null();
                            if has_key {
                                key = std::slice::from_raw_parts(vu.u.mem.ptr.cast::<u8>(), vu.u.mem.size);
                            }
                        }
                        vtype::OPAQUE => msg_opaque = vu.u.ptr,
                        vtype::MSGFLAGS => flags = vu.u.i,
                        vtype::TIMESTAMP => timestamp = vu.u.i64,
                        vtype::HEADER => {
                            let Some(name) = str_arg(vu.u.header.name) else {
                                return rd_kafka_error_s::boxed(
                                    RD_KAFKA_RESP_ERR__INVALID_ARG,
                                    "RD_KAFKA_V_HEADER: NULL name",
                                );
                            };
                            let value = crate::headers::value_arg(vu.u.header.val, vu.u.header.size);
                            added.push((name.to_string(), value));
                        }
                        vtype::HEADERS => given_headers = vu.u.headers,
                        other => {
                            return rd_kafka_error_s::boxed(
                                RD_KAFKA_RESP_ERR__INVALID_ARG,
                                &format!("unknown vtype {other}"),
                            )
                        }
                    }
                }
            }
            let Some(rkt) = rkt else {
                return rd_kafka_error_s::boxed(
                    RD_KAFKA_RESP_ERR__INVALID_ARG,
                    "no topic given (RD_KAFKA_V_TOPIC or RD_KAFKA_V_RKT)",
                );
            };
            if !given_headers.is_null() && !added.is_empty() {
                return rd_kafka_error_s::boxed(
                    RD_KAFKA_RESP_ERR__CONFLICT,
                    "RD_KAFKA_V_HEADER and RD_KAFKA_V_HEADERS cannot be mixed",
                );
            }
            let owned_given = !given_headers.is_null();
            if owned_given {
                // SAFETY: V_HEADERS passes a headers object the library takes over on success; on
                // failure it is handed back (leaked out of the Box again below).
                headers = Some(unsafe { Box::from_raw(given_headers) });
            } else if !added.is_empty() {
                headers = Some(Box::new(crate::headers::rd_kafka_headers_s::from_pairs(added)));
            }
            let m = Msg { rkt, partition, flags, payload, len, key, has_key, msg_opaque, timestamp, headers };
            match produce(h, m) {
                Ok(()) => std::ptr::null_mut(),
                Err(r) => {
                    if owned_given {
                        // The application still owns its headers object after a failure.
                        let _ = r.headers.map(Box::into_raw);
                    }
                    rd_kafka_error_s::boxed(r.code, &r.message)
                }
            }
        },
    )
}

/// The legacy produce call: 0, or -1 with `errno` and `rd_kafka_last_error()` set.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produce(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    msgflags: c_int,
    payload: *mut c_void,
    len: usize,
    key: *const c_void,
    keylen: usize,
    msg_opaque: *mut c_void,
) -> c_int {
    guard(-1, || {
        // SAFETY: NULL or a live topic object; its handle outlives it (API contract).
        let Some(h) = (unsafe { rkt.as_ref() }).and_then(|t| unsafe { t.rk.as_ref() }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, libc::EINVAL);
            return -1;
        };
        let (key, has_key): (&[u8], bool) = if key.is_null() {
            (&[], false)
        } else {
            // SAFETY: the caller's key of keylen bytes.
            (unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) }, true)
        };
        let m = Msg {
            rkt: rkt.cast_const(),
            partition,
            flags: msgflags,
            payload,
            len,
            key,
            has_key,
            msg_opaque,
            timestamp: 0,
            headers: None,
        };
        match produce(h, m) {
            Ok(()) => {
                set_last_error(RD_KAFKA_RESP_ERR_NO_ERROR, 0);
                0
            }
            Err(r) => {
                set_last_error(r.code, errno_of(r.code));
                -1
            }
        }
    })
}

/// Produces `message_cnt` messages; returns how many were accepted, each refused one's `err` set.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_produce_batch(
    rkt: *mut rd_kafka_topic_t,
    partition: i32,
    msgflags: c_int,
    rkmessages: *mut rd_kafka_message_t,
    message_cnt: c_int,
) -> c_int {
    guard(0, || {
        // SAFETY: NULL or a live topic object; its handle outlives it.
        let Some(h) = (unsafe { rkt.as_ref() }).and_then(|t| unsafe { t.rk.as_ref() }) else {
            set_last_error(RD_KAFKA_RESP_ERR__INVALID_ARG, libc::EINVAL);
            return 0;
        };
        let n = usize::try_from(message_cnt).unwrap_or(0);
        if n == 0 || rkmessages.is_null() {
            return 0;
        }
        // SAFETY: the caller's array of message_cnt messages, ours for the call.
        let msgs = unsafe { std::slice::from_raw_parts_mut(rkmessages, n) };
        let topic = rkt.cast_const();
        let mut ok = 0;
        for m in msgs.iter_mut() {
            let (key, has_key): (&[u8], bool) = if m.key.is_null() {
                (&[], false)
            } else {
                // SAFETY: the message's key of key_len bytes.
                (unsafe { std::slice::from_raw_parts(m.key.cast::<u8>(), m.key_len) }, true)
            };
            let p = if msgflags & RD_KAFKA_MSG_F_PARTITION != 0 { m.partition } else { partition };
            let msg = Msg {
                rkt: topic,
                partition: p,
                flags: msgflags & !RD_KAFKA_MSG_F_PARTITION,
                payload: m.payload,
                len: m.len,
                key,
                has_key,
                msg_opaque: m._private,
                timestamp: 0,
                headers: None,
            };
            match produce(h, msg) {
                Ok(()) => {
                    m.err = 0;
                    ok += 1;
                }
                Err(r) => m.err = r.code,
            }
        }
        ok
    })
}

/// The message's timestamp and its type (`RD_KAFKA_TIMESTAMP_CREATE_TIME` when known).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_timestamp(
    rkmessage: *const rd_kafka_message_t,
    tstype: *mut c_int,
) -> i64 {
    // SAFETY: see dr().
    let (ts, ty) = match unsafe { dr(rkmessage) } {
        Some(d) if d.timestamp > 0 => (d.timestamp, 1),
        _ => (-1, 0),
    };
    if !tstype.is_null() {
        // SAFETY: a writable int (API contract).
        unsafe { *tstype = ty };
    }
    ts
}

/// Microseconds from produce to the report.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_latency(rkmessage: *const rd_kafka_message_t) -> i64 {
    // SAFETY: see dr().
    unsafe { dr(rkmessage) }.map_or(-1, |d| {
        i64::try_from(crate::util::coarse_ns().saturating_sub(d.produced_at) / 1000).unwrap_or(i64::MAX)
    })
}

/// -1: kprod does not report which broker wrote a record.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_broker_id(rkmessage: *const rd_kafka_message_t) -> i32 {
    let _ = rkmessage;
    -1
}

/// -1: not reported for produced messages.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_leader_epoch(rkmessage: *const rd_kafka_message_t) -> i32 {
    let _ = rkmessage;
    -1
}

/// Whether the message was written: `RD_KAFKA_MSG_STATUS_PERSISTED`, `..._NOT_PERSISTED` or
/// `..._POSSIBLY_PERSISTED`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_status(rkmessage: *const rd_kafka_message_t) -> c_int {
    // SAFETY: see dr().
    unsafe { dr(rkmessage) }.map_or(POSSIBLY_PERSISTED, |d| d.status)
}

/// The error's text, or NULL when delivered.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_errstr(rkmessage: *const rd_kafka_message_t) -> *const c_char {
    // SAFETY: see dr().
    match unsafe { dr(rkmessage) } {
        Some(d) => d.errstr.as_ref().map_or(std::ptr::null(), |e| e.as_ptr()),
        None if !rkmessage.is_null() => {
            // SAFETY: a non-NULL message of the application's; only `err` is read.
            let err = unsafe { (*rkmessage).err };
            if err == 0 {
                std::ptr::null()
            } else {
                crate::error::rd_kafka_err2str(err)
            }
        }
        None => std::ptr::null(),
    }
}

/// As `rd_kafka_message_errstr`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_produce_errstr(
    rkmessage: *const rd_kafka_message_t,
) -> *const c_char {
    // SAFETY: the same contract.
    unsafe { rd_kafka_message_errstr(rkmessage) }
}

/// The message's headers (owned by the message), or `__NOENT`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_headers(
    rkmessage: *const rd_kafka_message_t,
    hdrsp: *mut *mut rd_kafka_headers_t,
) -> rd_kafka_resp_err_t {
    // SAFETY: see dr().
    match unsafe { dr(rkmessage) } {
        Some(d) if !d.headers.is_null() && !hdrsp.is_null() => {
            // SAFETY: a writable pointer slot.
            unsafe { *hdrsp = d.headers };
            RD_KAFKA_RESP_ERR_NO_ERROR
        }
        _ => RD_KAFKA_RESP_ERR__NOENT,
    }
}

/// The message's headers for the application to keep (a copy it destroys), or `__NOENT`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_detach_headers(
    rkmessage: *mut rd_kafka_message_t,
    hdrsp: *mut *mut rd_kafka_headers_t,
) -> rd_kafka_resp_err_t {
    let mut h = std::ptr::null_mut();
    // SAFETY: the same contract as rd_kafka_message_headers.
    let err = unsafe { rd_kafka_message_headers(rkmessage, &mut h) };
    if err != 0 || hdrsp.is_null() {
        return err;
    }
    // SAFETY: h is the message's live headers; the copy is a new object.
    unsafe { *hdrsp = crate::headers::rd_kafka_headers_copy(h) };
    RD_KAFKA_RESP_ERR_NO_ERROR
}

/// Frees `hdrs`: kprod's messages carry headers from produce time only.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_set_headers(
    rkmessage: *mut rd_kafka_message_t,
    hdrs: *mut rd_kafka_headers_t,
) {
    let _ = rkmessage;
    // SAFETY: the headers are handed over, so they are ours to free.
    unsafe { crate::headers::rd_kafka_headers_destroy(hdrs) };
}

/// Nothing: delivery report messages belong to the library (consumer messages do not exist here).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_message_destroy(rkmessage: *mut rd_kafka_message_t) {
    let _ = rkmessage;
}
