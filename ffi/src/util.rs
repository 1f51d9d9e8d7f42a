//! Helpers at the boundary: C strings, errstr buffers, errno, panics.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::err::rd_kafka_resp_err_t;

/// The borrowed `&str` of a C string; `None` for NULL or invalid UTF-8.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and by the API contract NUL-terminated and alive for the call.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Writes `msg` NUL-terminated into `buf` (of `size` bytes), truncating; nothing for NULL or 0.
pub(crate) unsafe fn write_cstr(buf: *mut c_char, size: usize, msg: &str) {
    if buf.is_null() || size == 0 {
        return;
    }
    let n = msg.len().min(size - 1);
    // SAFETY: the caller's buffer holds `size` bytes and we write n + 1 <= size of them; `msg` does
    // not overlap it (it is ours).
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// A `CString` of `s`, its NUL bytes (never in Kafka names) replaced.
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Runs `f`, returning `fallback` if it panics (a panic must not unwind into C).
pub(crate) fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    guard_with(|| fallback, f)
}

/// As [`guard`], the fallback built only on a panic (for fallbacks that allocate).
pub(crate) fn guard_with<R>(fallback: impl FnOnce() -> R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            log::error!("kprod C ABI: caught a panic at the boundary: {what}");
            fallback()
        }
    }
}

thread_local! {
    /// `rd_kafka_last_error`: the error of this thread's last legacy call (`rd_kafka_produce`,
    /// `rd_kafka_topic_new`, ...).
    static LAST_ERROR: Cell<rd_kafka_resp_err_t> = const { Cell::new(0) };
    /// Strings returned to C that must stay valid until this thread's next such call.
    static SCRATCH: RefCell<CString> = RefCell::new(CString::default());
}

/// Sets `rd_kafka_last_error` and, for the legacy API, `errno`.
pub(crate) fn set_last_error(code: rd_kafka_resp_err_t, errno: i32) {
    LAST_ERROR.with(|c| c.set(code));
    set_errno(errno);
}

/// This thread's `rd_kafka_last_error`.
pub(crate) fn last_error() -> rd_kafka_resp_err_t {
    LAST_ERROR.with(Cell::get)
}

pub(crate) fn set_errno(errno: i32) {
    // SAFETY: __errno_location returns this thread's errno slot, valid for the thread's lifetime.
    unsafe { *libc::__errno_location() = errno };
}

pub(crate) fn errno() -> i32 {
    // SAFETY: as in set_errno.
    unsafe { *libc::__errno_location() }
}

/// A thread-local C string valid until this thread's next call that uses the scratch slot.
pub(crate) fn scratch(s: String) -> *const c_char {
    SCRATCH.with(|c| {
        let mut c = c.borrow_mut();
        *c = cstring(&s);
        c.as_ptr()
    })
}

/// Copies `s` into `malloc`ed memory, NUL-terminated (for memory C frees with free/rd_kafka_mem_free).
pub(crate) fn malloc_cstr(s: &[u8]) -> *mut c_char {
    // SAFETY: malloc of len + 1 bytes; checked for NULL before writing len + 1 bytes into it.
    unsafe {
        let p = libc::malloc(s.len() + 1).cast::<u8>();
        if p.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        p.cast()
    }
}

/// A monotonic clock in nanoseconds at the kernel tick's resolution (CLOCK_MONOTONIC_COARSE: a few
/// nanoseconds to read, versus tens for the precise clock); per message, for latency and deadlines.
pub(crate) fn coarse_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the one we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    u64::try_from(ts.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0))
}
