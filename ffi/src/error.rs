//! Errors: `rd_kafka_err2str`/`err2name`, `rd_kafka_error_t`, and how a kprod [`Error`] becomes a
//! `rd_kafka_resp_err_t`. Every classification (fatal, retriable, abortable) is kprod's own
//! (`Error::is_fatal` and friends, which read kprod's one error table); this file only names codes.

use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

use kprod::Error;

use crate::err::*;
use crate::util::{cstring, guard, scratch, str_arg};

/// librdkafka's `struct rd_kafka_err_desc`.
#[repr(C)]
#[derive(Debug)]
pub struct rd_kafka_err_desc {
    /// The code.
    pub code: rd_kafka_resp_err_t,
    /// Its name (NULL for gaps in librdkafka's array).
    pub name: *const c_char,
    /// Its description.
    pub desc: *const c_char,
}

// SAFETY: the descriptors point at 'static C strings that are never written.
unsafe impl Send for rd_kafka_err_desc {}
// SAFETY: as above.
unsafe impl Sync for rd_kafka_err_desc {}

struct Tables {
    /// The table's strings as C strings, in table order.
    strings: Vec<(rd_kafka_resp_err_t, CString, CString)>,
    /// `rd_kafka_get_err_descs`'s array (pointing into `strings`).
    descs: Vec<rd_kafka_err_desc>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let strings: Vec<_> =
            ERR_TABLE.iter().map(|&(code, name, desc)| (code, cstring(name), cstring(desc))).collect();
        let descs = strings
            .iter()
            .map(|(code, name, desc)| rd_kafka_err_desc {
                code: *code,
                name: name.as_ptr(),
                desc: desc.as_ptr(),
            })
            .collect();
        Tables { strings, descs }
    })
}

fn find(code: rd_kafka_resp_err_t) -> Option<&'static (rd_kafka_resp_err_t, CString, CString)> {
    let t = tables();
    t.strings.binary_search_by_key(&code, |e| e.0).ok().and_then(|i| t.strings.get(i))
}

/// The description of `code` (e.g. "Local: Queue full").
#[no_mangle]
pub extern "C" fn rd_kafka_err2str(code: rd_kafka_resp_err_t) -> *const c_char {
    guard(std::ptr::null(), || match find(code) {
        Some(e) => e.2.as_ptr(),
        None => scratch(format!("Err-{code}?")),
    })
}

/// The name of `code` without the `RD_KAFKA_RESP_ERR_` prefix (e.g. "_QUEUE_FULL").
#[no_mangle]
pub extern "C" fn rd_kafka_err2name(code: rd_kafka_resp_err_t) -> *const c_char {
    guard(std::ptr::null(), || match find(code) {
        Some(e) => e.1.as_ptr(),
        None => scratch(format!("ERR_{code}?")),
    })
}

/// Every code with its name and description.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_get_err_descs(errdescs: *mut *const rd_kafka_err_desc, cntp: *mut usize) {
    guard((), || {
        let t = tables();
        if !errdescs.is_null() {
            // SAFETY: the caller passes a writable pointer slot.
            unsafe { *errdescs = t.descs.as_ptr() };
        }
        if !cntp.is_null() {
            // SAFETY: the caller passes a writable size_t.
            unsafe { *cntp = t.descs.len() };
        }
    })
}

/// The librdkafka code for a kprod error.
pub(crate) fn code_of(e: &Error) -> rd_kafka_resp_err_t {
    match e {
        Error::Broker { code, .. } => rd_kafka_resp_err_t::from(code.0),
        Error::BufferExhausted { .. } => RD_KAFKA_RESP_ERR__QUEUE_FULL,
        Error::RecordTooLarge { .. } => RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
        Error::UnknownTopicOrPartition { partition: Some(_), .. } => RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        Error::UnknownTopicOrPartition { partition: None, .. } => RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
        Error::InvalidTopic { .. } => RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
        Error::InvalidRecord(_) | Error::Config { .. } => RD_KAFKA_RESP_ERR__INVALID_ARG,
        Error::Unsupported(_) => RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE,
        Error::Timeout(_) => RD_KAFKA_RESP_ERR__TIMED_OUT,
        Error::DeliveryTimeout => RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        Error::Closed => RD_KAFKA_RESP_ERR__DESTROY,
        Error::Protocol(_) => RD_KAFKA_RESP_ERR__BAD_MSG,
        Error::Io(_) | Error::Transport { .. } => RD_KAFKA_RESP_ERR__TRANSPORT,
        Error::AllBrokersDown { .. } => RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        Error::Authentication { mechanism, .. } if mechanism == "SSL" => RD_KAFKA_RESP_ERR__SSL,
        Error::Authentication { .. } => RD_KAFKA_RESP_ERR__AUTHENTICATION,
        Error::Fatal { .. } => RD_KAFKA_RESP_ERR__FATAL,
        Error::IllegalState(_) => RD_KAFKA_RESP_ERR__STATE,
        // librdkafka fails the records of an aborted transaction, and purged ones, with __PURGE_QUEUE.
        Error::TransactionAborted | Error::Purged => RD_KAFKA_RESP_ERR__PURGE_QUEUE,
        _ => RD_KAFKA_RESP_ERR__FAIL,
    }
}

/// librdkafka's `rd_kafka_error_t`: a code, a message and its classification.
#[derive(Debug)]
pub struct rd_kafka_error_s {
    code: rd_kafka_resp_err_t,
    string: CString,
    fatal: bool,
    retriable: bool,
    txn_requires_abort: bool,
}
/// The C name.
pub type rd_kafka_error_t = rd_kafka_error_s;

impl rd_kafka_error_s {
    /// A new error object on the heap, for C.
    pub(crate) fn boxed(code: rd_kafka_resp_err_t, msg: &str) -> *mut rd_kafka_error_t {
        Box::into_raw(Box::new(rd_kafka_error_s {
            code,
            string: cstring(msg),
            fatal: false,
            retriable: false,
            txn_requires_abort: false,
        }))
    }

    /// The error object of a kprod error, with kprod's classification.
    pub(crate) fn from_error(e: &Error) -> *mut rd_kafka_error_t {
        Box::into_raw(Box::new(rd_kafka_error_s {
            code: code_of(e),
            string: cstring(&e.to_string()),
            fatal: e.is_fatal(),
            retriable: e.is_retriable(),
            txn_requires_abort: e.txn_requires_abort(),
        }))
    }
}

/// Borrows the error behind a pointer.
unsafe fn error_ref<'a>(e: *const rd_kafka_error_t) -> Option<&'a rd_kafka_error_s> {
    // SAFETY: NULL or an error this library returned and the caller has not destroyed.
    unsafe { e.as_ref() }
}

/// Creates an error object with a formatted message: the variadic `rd_kafka_error_new` in
/// csrc/producev.c formats it and calls this.
#[no_mangle]
pub unsafe extern "C" fn kprod_error_new(
    code: rd_kafka_resp_err_t,
    msg: *const c_char,
) -> *mut rd_kafka_error_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: msg is NULL or a C string (the shim's buffer).
        let msg = unsafe { str_arg(msg) }.unwrap_or("");
        rd_kafka_error_s::boxed(code, msg)
    })
}

/// The error's code.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_code(error: *const rd_kafka_error_t) -> rd_kafka_resp_err_t {
    // SAFETY: see error_ref.
    guard(0, || unsafe { error_ref(error) }.map_or(0, |e| e.code))
}

/// The name of the error's code.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_name(error: *const rd_kafka_error_t) -> *const c_char {
    // SAFETY: see error_ref.
    let code = guard(0, || unsafe { error_ref(error) }.map_or(0, |e| e.code));
    rd_kafka_err2name(code)
}

/// The error's message.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_string(error: *const rd_kafka_error_t) -> *const c_char {
    // SAFETY: see error_ref.
    guard(std::ptr::null(), || unsafe { error_ref(error) }.map_or(c"".as_ptr(), |e| e.string.as_ptr()))
}

/// True (1) when the producer cannot go on.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_is_fatal(error: *const rd_kafka_error_t) -> c_int {
    // SAFETY: see error_ref.
    guard(0, || c_int::from(unsafe { error_ref(error) }.is_some_and(|e| e.fatal)))
}

/// True (1) when retrying the call may succeed.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_is_retriable(error: *const rd_kafka_error_t) -> c_int {
    // SAFETY: see error_ref.
    guard(0, || c_int::from(unsafe { error_ref(error) }.is_some_and(|e| e.retriable)))
}

/// True (1) when the transaction must be aborted.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_txn_requires_abort(error: *const rd_kafka_error_t) -> c_int {
    // SAFETY: see error_ref.
    guard(0, || c_int::from(unsafe { error_ref(error) }.is_some_and(|e| e.txn_requires_abort)))
}

/// Frees an error object.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_error_destroy(error: *mut rd_kafka_error_t) {
    if !error.is_null() {
        // SAFETY: an error this library boxed, destroyed once by the caller (API contract).
        guard((), || drop(unsafe { Box::from_raw(error) }));
    }
}

/// The code of this thread's last legacy-API failure.
#[no_mangle]
pub extern "C" fn rd_kafka_last_error() -> rd_kafka_resp_err_t {
    crate::util::last_error()
}

/// The legacy API's errno values and their codes, both ways (`rd_kafka_errno2err`, `errno_of`).
const ERRNO_CODES: &[(i32, rd_kafka_resp_err_t)] = &[
    (libc::EINVAL, RD_KAFKA_RESP_ERR__INVALID_ARG),
    (libc::EBUSY, RD_KAFKA_RESP_ERR__CONFLICT),
    (libc::ENOENT, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC),
    (libc::ESRCH, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION),
    (libc::ETIMEDOUT, RD_KAFKA_RESP_ERR__TIMED_OUT),
    (libc::EMSGSIZE, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE),
    (libc::ENOBUFS, RD_KAFKA_RESP_ERR__QUEUE_FULL),
    (libc::ECANCELED, RD_KAFKA_RESP_ERR__FATAL),
];

/// The code for an errno value of the legacy API.
#[no_mangle]
pub extern "C" fn rd_kafka_errno2err(errnox: c_int) -> rd_kafka_resp_err_t {
    ERRNO_CODES.iter().find(|(e, _)| *e == errnox).map_or(RD_KAFKA_RESP_ERR__FAIL, |(_, c)| *c)
}

/// This thread's errno.
#[no_mangle]
pub extern "C" fn rd_kafka_errno() -> c_int {
    crate::util::errno()
}

/// The errno the legacy API sets for a code (EINVAL for the codes without one).
pub(crate) fn errno_of(code: rd_kafka_resp_err_t) -> i32 {
    ERRNO_CODES.iter().find(|(_, c)| *c == code).map_or(libc::EINVAL, |(e, _)| *e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn names_and_descriptions() {
        // SAFETY: err2name/err2str return valid C strings.
        let name = unsafe { CStr::from_ptr(rd_kafka_err2name(RD_KAFKA_RESP_ERR__QUEUE_FULL)) };
        assert_eq!(name.to_str().unwrap(), "_QUEUE_FULL");
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(rd_kafka_err2name(3)) };
        assert_eq!(name.to_str().unwrap(), "UNKNOWN_TOPIC_OR_PART");
        // SAFETY: as above.
        let desc = unsafe { CStr::from_ptr(rd_kafka_err2str(RD_KAFKA_RESP_ERR__QUEUE_FULL)) };
        assert!(desc.to_str().unwrap().starts_with("Local: "));
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(rd_kafka_err2str(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "Err-12345?");
    }

    #[test]
    fn kprod_broker_codes_keep_their_value() {
        // Kafka's codes are librdkafka's positive codes; every kprod code maps to itself.
        for code in kprod::ErrorCode::ALL {
            let e = Error::Broker { code: *code, message: None };
            assert_eq!(code_of(&e), i32::from(code.0));
        }
    }
}
