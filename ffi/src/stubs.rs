//! Consumer, queue, event, metadata and offset-query functions a producer program may link but never
//! needs for producing. They exist so librdkafka's programs link; each does nothing and returns
//! `RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED` (or an error object with it), NULL or -1, as its return type
//! allows; the exceptions are noted. docs/c-api.md lists them.

use std::ffi::{c_int, c_void};

use crate::err::RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
use crate::error::{rd_kafka_error_s, rd_kafka_error_t};
use crate::rd_kafka_resp_err_t;

type P = *mut c_void;

fn not_implemented(what: &str) -> rd_kafka_resp_err_t {
    log::debug!("{what}: not implemented by kprod (a producer)");
    RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED
}

fn not_implemented_error(what: &str) -> *mut rd_kafka_error_t {
    rd_kafka_error_s::boxed(
        RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED,
        &format!("{what}: kprod implements librdkafka's producer API only"),
    )
}

macro_rules! stub_err {
    ($($name:ident($($a:ident: $t:ty),*);)*) => {$(
        #[doc = concat!("Stub: `", stringify!($name), "` returns `RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED`.")]
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> rd_kafka_resp_err_t {
            let _ = ($($a),*);
            not_implemented(stringify!($name))
        }
    )*};
}

macro_rules! stub_error_obj {
    ($($name:ident($($a:ident: $t:ty),*);)*) => {$(
        #[doc = concat!("Stub: `", stringify!($name), "` returns an error object with `__NOT_IMPLEMENTED`.")]
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> *mut rd_kafka_error_t {
            let _ = ($($a),*);
            not_implemented_error(stringify!($name))
        }
    )*};
}

macro_rules! stub_ret {
    ($($name:ident($($a:ident: $t:ty),*) -> $r:ty = $v:expr;)*) => {$(
        #[doc = concat!("Stub: `", stringify!($name), "` returns `", stringify!($v), "`.")]
        #[no_mangle]
        pub unsafe extern "C" fn $name($($a: $t),*) -> $r {
            let _ = ($($a),*);
            log::debug!("{}: not implemented by kprod (a producer)", stringify!($name));
            $v
        }
    )*};
}

stub_err! {
    rd_kafka_subscribe(rk: P, topics: P);
    rd_kafka_unsubscribe(rk: P);
    rd_kafka_consumer_close(rk: P);
    rd_kafka_poll_set_consumer(rk: P);
    rd_kafka_assign(rk: P, partitions: P);
    rd_kafka_assignment(rk: P, partitions: P);
    rd_kafka_committed(rk: P, partitions: P, timeout_ms: c_int);
    rd_kafka_position(rk: P, partitions: P);
    rd_kafka_commit(rk: P, offsets: P, async_: c_int);
    rd_kafka_metadata(rk: P, all_topics: c_int, only_rkt: P, metadatap: P, timeout_ms: c_int);
    rd_kafka_query_watermark_offsets(rk: P, topic: P, partition: i32, low: P, high: P, timeout_ms: c_int);
    rd_kafka_offsets_for_times(rk: P, offsets: P, timeout_ms: c_int);
}

stub_error_obj! {
    rd_kafka_incremental_assign(rk: P, partitions: P);
    rd_kafka_incremental_unassign(rk: P, partitions: P);
    rd_kafka_seek_partitions(rk: P, partitions: P, timeout_ms: c_int);
}

stub_ret! {
    rd_kafka_consumer_poll(rk: P, timeout_ms: c_int) -> P = std::ptr::null_mut();
    rd_kafka_assignment_lost(rk: P) -> c_int = 0;
    rd_kafka_rebalance_protocol(rk: P) -> *const std::ffi::c_char = std::ptr::null();
    rd_kafka_consume_start(rkt: P, partition: i32, offset: i64) -> c_int = -1;
    rd_kafka_consume_start_queue(rkt: P, partition: i32, offset: i64, rkqu: P) -> c_int = -1;
    rd_kafka_consume_stop(rkt: P, partition: i32) -> c_int = -1;
    rd_kafka_consume(rkt: P, partition: i32, timeout_ms: c_int) -> P = std::ptr::null_mut();
    rd_kafka_consume_batch(rkt: P, partition: i32, timeout_ms: c_int, rkmessages: P, size: usize) -> isize = -1;
    rd_kafka_consume_batch_queue(rkqu: P, timeout_ms: c_int, rkmessages: P, size: usize) -> isize = -1;
    rd_kafka_consume_callback_queue(rkqu: P, timeout_ms: c_int, consume_cb: P, commit_opaque: P) -> c_int = -1;
    rd_kafka_queue_new(rk: P) -> P = std::ptr::null_mut();
    rd_kafka_queue_get_main(rk: P) -> P = std::ptr::null_mut();
    rd_kafka_queue_get_consumer(rk: P) -> P = std::ptr::null_mut();
    rd_kafka_queue_poll(rkqu: P, timeout_ms: c_int) -> P = std::ptr::null_mut();
    rd_kafka_event_type(rkev: P) -> c_int = 0;
    rd_kafka_queue_destroy(rkqu: P) -> () = ();
    rd_kafka_event_destroy(rkev: P) -> () = ();
    rd_kafka_metadata_destroy(metadata: P) -> () = ();
}

/// The names of the stubs, for docs/c-api.md's check.
pub const STUBS: &[&str] = &[
    "rd_kafka_subscribe",
    "rd_kafka_unsubscribe",
    "rd_kafka_consumer_close",
    "rd_kafka_poll_set_consumer",
    "rd_kafka_assign",
    "rd_kafka_assignment",
    "rd_kafka_committed",
    "rd_kafka_position",
    "rd_kafka_commit",
    "rd_kafka_metadata",
    "rd_kafka_query_watermark_offsets",
    "rd_kafka_offsets_for_times",
    "rd_kafka_incremental_assign",
    "rd_kafka_incremental_unassign",
    "rd_kafka_seek_partitions",
    "rd_kafka_consumer_poll",
    "rd_kafka_assignment_lost",
    "rd_kafka_rebalance_protocol",
    "rd_kafka_consume_start",
    "rd_kafka_consume_start_queue",
    "rd_kafka_consume_stop",
    "rd_kafka_consume",
    "rd_kafka_consume_batch",
    "rd_kafka_consume_batch_queue",
    "rd_kafka_consume_callback_queue",
    "rd_kafka_queue_new",
    "rd_kafka_queue_get_main",
    "rd_kafka_queue_get_consumer",
    "rd_kafka_queue_poll",
    "rd_kafka_event_type",
    "rd_kafka_queue_destroy",
    "rd_kafka_event_destroy",
    "rd_kafka_metadata_destroy",
];
