//! `rd_kafka_headers_t`: a message's headers, in order, names repeatable.

use std::ffi::{c_char, c_void, CString};

use crate::err::*;
use crate::util::{cstring, guard};

#[derive(Debug, Clone)]
struct Header {
    name: String,
    c_name: CString,
    /// The value with a NUL after it (librdkafka's convenience for string values); `None`: NULL.
    value: Option<Vec<u8>>,
}

impl Header {
    fn new(name: String, value: Option<Vec<u8>>) -> Self {
        let value = value.map(|mut v| {
            v.push(0);
            v
        });
        Header { c_name: cstring(&name), name, value }
    }

    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref().map(|v| &v[..v.len().saturating_sub(1)])
    }
}

/// librdkafka's `rd_kafka_headers_t`.
#[derive(Debug, Clone, Default)]
pub struct rd_kafka_headers_s {
    list: Vec<Header>,
}
/// The C name.
pub type rd_kafka_headers_t = rd_kafka_headers_s;

impl rd_kafka_headers_s {
    pub(crate) fn from_pairs(pairs: Vec<(String, Option<Vec<u8>>)>) -> Self {
        rd_kafka_headers_s { list: pairs.into_iter().map(|(n, v)| Header::new(n, v)).collect() }
    }

    /// (name, value) in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Option<&[u8]>)> {
        self.list.iter().map(|h| (h.name.as_str(), h.value()))
    }
}

/// A value argument: `size` bytes at `val`, or up to its NUL when `size` is -1; NULL is no value.
pub(crate) unsafe fn value_arg(val: *const c_void, size: isize) -> Option<Vec<u8>> {
    if val.is_null() {
        return None;
    }
    let bytes = match usize::try_from(size) {
        // SAFETY: `size` bytes at val (API contract).
        Ok(n) => unsafe { std::slice::from_raw_parts(val.cast::<u8>(), n) }.to_vec(),
        // SAFETY: -1 means a NUL-terminated string (API contract).
        Err(_) => unsafe { std::ffi::CStr::from_ptr(val.cast::<c_char>()) }.to_bytes().to_vec(),
    };
    Some(bytes)
}

/// A name argument: `size` bytes, or up to its NUL when -1.
unsafe fn name_arg(name: *const c_char, size: isize) -> Option<String> {
    // SAFETY: the same contract as value_arg.
    let bytes = unsafe { value_arg(name.cast(), size) }?;
    String::from_utf8(bytes).ok()
}

unsafe fn hdrs_ref<'a>(h: *const rd_kafka_headers_t) -> Option<&'a rd_kafka_headers_s> {
    // SAFETY: NULL or a live headers object of this library.
    unsafe { h.as_ref() }
}

/// A new, empty headers object.
#[no_mangle]
pub extern "C" fn rd_kafka_headers_new(initial_count: usize) -> *mut rd_kafka_headers_t {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(rd_kafka_headers_s { list: Vec::with_capacity(initial_count.min(1024)) }))
    })
}

/// Frees a headers object the application owns.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_headers_destroy(hdrs: *mut rd_kafka_headers_t) {
    if !hdrs.is_null() {
        // SAFETY: a headers object this library boxed, owned by the caller, destroyed once.
        guard((), || drop(unsafe { Box::from_raw(hdrs) }));
    }
}

/// A copy.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_headers_copy(src: *const rd_kafka_headers_t) -> *mut rd_kafka_headers_t {
    // SAFETY: see hdrs_ref.
    guard(std::ptr::null_mut(), || match unsafe { hdrs_ref(src) } {
        Some(h) => Box::into_raw(Box::new(h.clone())),
        None => std::ptr::null_mut(),
    })
}

/// Adds a header (`name_size`/`value_size` -1: NUL-terminated).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_add(
    hdrs: *mut rd_kafka_headers_t,
    name: *const c_char,
    name_size: isize,
    value: *const c_void,
    value_size: isize,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: NULL or a live headers object the caller may write.
        let Some(h) = (unsafe { hdrs.as_mut() }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        // SAFETY: as value_arg/name_arg say.
        let Some(n) = (unsafe { name_arg(name, name_size) }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        // SAFETY: as above.
        let v = unsafe { value_arg(value, value_size) };
        h.list.push(Header::new(n, v));
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Removes every header named `name`; `__NOENT` if there was none.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_remove(
    hdrs: *mut rd_kafka_headers_t,
    name: *const c_char,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see rd_kafka_header_add.
        let (Some(h), Some(n)) = (unsafe { hdrs.as_mut() }, unsafe { crate::util::str_arg(name) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        let before = h.list.len();
        h.list.retain(|x| x.name != n);
        if h.list.len() == before {
            RD_KAFKA_RESP_ERR__NOENT
        } else {
            RD_KAFKA_RESP_ERR_NO_ERROR
        }
    })
}

unsafe fn put_value(x: &Header, valuep: *mut *const c_void, sizep: *mut usize) {
    let (p, n) = match &x.value {
        Some(v) => (v.as_ptr().cast::<c_void>(), v.len() - 1),
        None => (std::ptr::null(), 0),
    };
    if !valuep.is_null() {
        // SAFETY: a writable pointer slot (API contract).
        unsafe { *valuep = p };
    }
    if !sizep.is_null() {
        // SAFETY: a writable size_t.
        unsafe { *sizep = n };
    }
}

/// The header of `hdrs` named `name` that `pick` chooses among those so named, into the out-pointers.
unsafe fn named<'a>(
    hdrs: *const rd_kafka_headers_t,
    name: *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
    pick: impl FnOnce(&mut dyn DoubleEndedIterator<Item = &'a Header>) -> Option<&'a Header>,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see hdrs_ref and str_arg.
        let (Some(h), Some(n)) = (unsafe { hdrs_ref(hdrs) }, unsafe { crate::util::str_arg(name) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match pick(&mut h.list.iter().filter(|x| x.name == n)) {
            Some(x) => {
                // SAFETY: the caller's out-pointers.
                unsafe { put_value(x, valuep, sizep) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// The last header named `name`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get_last(
    hdrs: *const rd_kafka_headers_t,
    name: *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    // SAFETY: the caller's contract is named()'s.
    unsafe { named(hdrs, name, valuep, sizep, |it| it.next_back()) }
}

/// The `idx`-th header named `name`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get(
    hdrs: *const rd_kafka_headers_t,
    idx: usize,
    name: *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    // SAFETY: the caller's contract is named()'s.
    unsafe { named(hdrs, name, valuep, sizep, |it| it.nth(idx)) }
}

/// The `idx`-th header.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_get_all(
    hdrs: *const rd_kafka_headers_t,
    idx: usize,
    namep: *mut *const c_char,
    valuep: *mut *const c_void,
    sizep: *mut usize,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see hdrs_ref.
        let Some(h) = (unsafe { hdrs_ref(hdrs) }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        match h.list.get(idx) {
            Some(x) => {
                if !namep.is_null() {
                    // SAFETY: a writable pointer slot.
                    unsafe { *namep = x.c_name.as_ptr() };
                }
                // SAFETY: the caller's out-pointers.
                unsafe { put_value(x, valuep, sizep) };
                RD_KAFKA_RESP_ERR_NO_ERROR
            }
            None => RD_KAFKA_RESP_ERR__NOENT,
        }
    })
}

/// How many headers.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_header_cnt(hdrs: *const rd_kafka_headers_t) -> usize {
    // SAFETY: see hdrs_ref.
    guard(0, || unsafe { hdrs_ref(hdrs) }.map_or(0, |h| h.list.len()))
}
