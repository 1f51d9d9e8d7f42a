//! Transactions, consumer group metadata, OAUTHBEARER tokens and the memory functions.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kprod::{ConsumerGroupMetadata, OAuthBearerToken, ProducerBuilder};
use parking_lot::{Condvar, Mutex};

use crate::conf::OauthCb;
use crate::err::*;
use crate::error::{rd_kafka_error_s, rd_kafka_error_t};
use crate::handle::{handle_ref, rd_kafka_s, rd_kafka_t, timeout_of};
use crate::tpl::{offsets_of, rd_kafka_topic_partition_list_t};
use crate::util::{cstring, guard, guard_with, str_arg, write_cstr};

fn txn_call(
    rk: *mut rd_kafka_t,
    f: impl FnOnce(&rd_kafka_s, &kprod::Producer) -> Result<(), kprod::Error>,
) -> *mut rd_kafka_error_t {
    guard_with(
        || rd_kafka_error_s::boxed(RD_KAFKA_RESP_ERR__FAIL, "panic in a transaction call"),
        || {
            // SAFETY: see handle_ref.
            let Some(h) = (unsafe { handle_ref(rk) }) else {
                return rd_kafka_error_s::boxed(RD_KAFKA_RESP_ERR__INVALID_ARG, "rk is NULL");
            };
            let Some(p) = h.producer() else {
                return rd_kafka_error_s::boxed(RD_KAFKA_RESP_ERR__DESTROY, "destroyed");
            };
            if h.conf.all_props().iter().all(|(k, _)| k != "transactional.id") {
                return rd_kafka_error_s::boxed(
                    RD_KAFKA_RESP_ERR__NOT_CONFIGURED,
                    "the transactional producer requires transactional.id to be configured",
                );
            }
            match f(h, p) {
                Ok(()) => std::ptr::null_mut(),
                Err(e) => rd_kafka_error_s::from_error(&e),
            }
        },
    )
}

fn txn_timeout(h: &rd_kafka_s, ms: c_int) -> Duration {
    timeout_of(ms).unwrap_or(h.tx_timeout)
}

/// Gets the producer id for `transactional.id`, fencing older instances.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_init_transactions(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    txn_call(rk, |h, p| p.init_transactions(txn_timeout(h, timeout_ms)))
}

/// Begins a transaction.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_begin_transaction(rk: *mut rd_kafka_t) -> *mut rd_kafka_error_t {
    txn_call(rk, |_, p| p.begin_transaction())
}

/// Adds a consumer's offsets to the transaction.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_send_offsets_to_transaction(
    rk: *mut rd_kafka_t,
    offsets: *const rd_kafka_topic_partition_list_t,
    cgmetadata: *const ConsumerGroupMetadata,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    // SAFETY: NULL or a live list / group metadata of this library.
    let (offsets, group) = unsafe { (offsets_of(offsets), cgmetadata.as_ref()) };
    let Some(group) = group else {
        return rd_kafka_error_s::boxed(
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            "consumer group metadata is required",
        );
    };
    if offsets.is_empty() {
        // librdkafka: nothing to send is not an error.
        return std::ptr::null_mut();
    }
    txn_call(rk, |h, p| p.send_offsets_to_transaction(&offsets, group, txn_timeout(h, timeout_ms)))
}

/// Delivers every message (serving their reports, as librdkafka's flush does), then commits.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_commit_transaction(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    txn_call(rk, |h, p| {
        let timeout = txn_timeout(h, timeout_ms);
        let deadline = Instant::now() + timeout;
        h.flush(timeout);
        p.commit_transaction(deadline.saturating_duration_since(Instant::now()))
    })
}

/// Aborts the transaction; its queued messages fail with `__PURGE_QUEUE`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_abort_transaction(
    rk: *mut rd_kafka_t,
    timeout_ms: c_int,
) -> *mut rd_kafka_error_t {
    txn_call(rk, |h, p| p.abort_transaction(txn_timeout(h, timeout_ms)))
}

/// The C name of kprod's group metadata.
pub type rd_kafka_consumer_group_metadata_t = ConsumerGroupMetadata;

/// Group metadata naming only the group (no generation fencing).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_new(
    group_id: *const c_char,
) -> *mut rd_kafka_consumer_group_metadata_t {
    // SAFETY: see str_arg.
    guard(std::ptr::null_mut(), || match unsafe { str_arg(group_id) } {
        Some(g) => Box::into_raw(Box::new(ConsumerGroupMetadata::new(g))),
        None => std::ptr::null_mut(),
    })
}

/// Group metadata with generation, member and instance ids (KIP-447 fencing).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_new_with_genid(
    group_id: *const c_char,
    generation_id: i32,
    member_id: *const c_char,
    group_instance_id: *const c_char,
) -> *mut rd_kafka_consumer_group_metadata_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see str_arg.
        let Some(g) = (unsafe { str_arg(group_id) }) else { return std::ptr::null_mut() };
        let mut m = ConsumerGroupMetadata::new(g);
        m.generation_id = generation_id;
        // SAFETY: see str_arg.
        m.member_id = unsafe { str_arg(member_id) }.unwrap_or("").to_string();
        // SAFETY: see str_arg.
        m.group_instance_id = unsafe { str_arg(group_instance_id) }.map(str::to_string);
        Box::into_raw(Box::new(m))
    })
}

/// Frees group metadata.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata_destroy(
    m: *mut rd_kafka_consumer_group_metadata_t,
) {
    if !m.is_null() {
        // SAFETY: group metadata this library boxed, destroyed once.
        guard((), || drop(unsafe { Box::from_raw(m) }));
    }
}

/// NULL: a producer handle belongs to no group.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_consumer_group_metadata(
    rk: *mut rd_kafka_t,
) -> *mut rd_kafka_consumer_group_metadata_t {
    let _ = rk;
    std::ptr::null_mut()
}

/// Where `rd_kafka_oauthbearer_set_token` leaves the answer to a refresh callback.
#[derive(Debug, Default)]
pub(crate) struct OauthSlot {
    answer: Mutex<Option<Result<OAuthBearerToken, String>>>,
    ready: Condvar,
}

impl OauthSlot {
    fn put(&self, a: Result<OAuthBearerToken, String>) {
        *self.answer.lock() = Some(a);
        self.ready.notify_all();
    }
}

/// How long a refresh callback may take to answer.
const OAUTH_ANSWER: Duration = Duration::from_secs(30);

/// Installs the application's refresh callback as kprod's token provider: called on kprod's token
/// thread, it must answer with `rd_kafka_oauthbearer_set_token` (or `..._failure`), in the callback
/// or from another thread within 30 s.
pub(crate) fn oauth_provider(
    b: ProducerBuilder,
    cb: OauthCb,
    config: String,
    rk: usize,
    opaque: usize,
    slot: Arc<OauthSlot>,
) -> ProducerBuilder {
    b.oauthbearer_token_provider(move || {
        *slot.answer.lock() = None;
        let c = cstring(&config);
        // SAFETY: the application's callback with its handle (alive while its producer runs: the
        // first call happens inside rd_kafka_new, later ones before destroy closes the producer).
        unsafe { cb(rk as *mut rd_kafka_t, c.as_ptr(), opaque as *mut c_void) };
        let deadline = Instant::now() + OAUTH_ANSWER;
        let mut a = slot.answer.lock();
        while a.is_none() {
            if slot.ready.wait_until(&mut a, deadline).timed_out() {
                break;
            }
        }
        a.take().unwrap_or_else(|| Err("the oauthbearer_token_refresh_cb did not call rd_kafka_oauthbearer_set_token within 30 s".into()))
    })
}

/// Hands the client an OAUTHBEARER token (from the refresh callback).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_oauthbearer_set_token(
    rk: *mut rd_kafka_t,
    token_value: *const c_char,
    md_lifetime_ms: i64,
    md_principal_name: *const c_char,
    extensions: *const *const c_char,
    extension_size: usize,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        let fail = |msg: &str| {
            // SAFETY: errstr is NULL or errstr_size bytes.
            unsafe { write_cstr(errstr, errstr_size, msg) };
            RD_KAFKA_RESP_ERR__INVALID_ARG
        };
        // SAFETY: see handle_ref and str_arg.
        let Some(h) = (unsafe { handle_ref(rk) }) else { return fail("rk is NULL") };
        // SAFETY: see str_arg.
        let (Some(value), Some(principal)) =
            (unsafe { str_arg(token_value) }, unsafe { str_arg(md_principal_name) })
        else {
            return fail("token value and principal name are required");
        };
        if value.is_empty() || principal.is_empty() {
            return fail("token value and principal name must not be empty");
        }
        if extension_size % 2 != 0 {
            return fail("extensions must be key/value pairs");
        }
        if extension_size > 0 && !extensions.is_null() {
            log::warn!("rd_kafka_oauthbearer_set_token: per-token extensions are not sent by kprod; use sasl.oauthbearer.extensions");
        }
        let Some(expires) =
            u64::try_from(md_lifetime_ms).ok().map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
        else {
            return fail("md_lifetime_ms must be a time in milliseconds since the epoch");
        };
        if expires <= SystemTime::now() {
            return fail("the token has already expired (md_lifetime_ms is in the past)");
        }
        h.oauth.put(Ok(OAuthBearerToken::new(value, principal, expires)));
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Tells the client the token could not be had; kprod retries with backoff.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_oauthbearer_set_token_failure(
    rk: *mut rd_kafka_t,
    errstr: *const c_char,
) -> rd_kafka_resp_err_t {
    guard(RD_KAFKA_RESP_ERR__FAIL, || {
        // SAFETY: see handle_ref and str_arg.
        let Some(h) = (unsafe { handle_ref(rk) }) else { return RD_KAFKA_RESP_ERR__INVALID_ARG };
        // SAFETY: see str_arg.
        let why = unsafe { str_arg(errstr) }.unwrap_or("token refresh failed").to_string();
        h.oauth.put(Err(why));
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Frees memory the library handed out (e.g. statistics JSON kept by `stats_cb`).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_free(rk: *mut rd_kafka_t, ptr: *mut c_void) {
    let _ = rk;
    // SAFETY: ptr is NULL or malloc'ed memory the library handed to the application.
    unsafe { libc::free(ptr) };
}

/// malloc, for memory the library frees (e.g. `metadata` of a partition list).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_malloc(rk: *mut rd_kafka_t, size: usize) -> *mut c_void {
    let _ = rk;
    // SAFETY: plain malloc.
    unsafe { libc::malloc(size) }
}

/// calloc, for memory the library frees.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mem_calloc(rk: *mut rd_kafka_t, num: usize, size: usize) -> *mut c_void {
    let _ = rk;
    // SAFETY: plain calloc.
    unsafe { libc::calloc(num, size) }
}
