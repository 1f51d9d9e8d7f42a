//! C ABI callbacks the test broker cannot be made to trigger on demand, against kprod's mock cluster:
//! `throttle_cb` (a broker throttling produce responses) and `log_cb` (kprod's log lines), both served
//! on the polling thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::undocumented_unsafe_blocks)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use kprod::mock::MockCluster;
use rdkafka::conf::*;
use rdkafka::handle::*;
use rdkafka::produce::*;

static THROTTLES: Mutex<Vec<(String, i32, c_int, ThreadId)>> = Mutex::new(Vec::new());
static LOGS: Mutex<Vec<(c_int, String, ThreadId)>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_throttle(
    _rk: *mut rd_kafka_t,
    broker: *const c_char,
    id: i32,
    ms: c_int,
    _o: *mut c_void,
) {
    let b = unsafe { CStr::from_ptr(broker) }.to_string_lossy().into_owned();
    THROTTLES.lock().unwrap().push((b, id, ms, std::thread::current().id()));
}

unsafe extern "C" fn on_log(_rk: *const rd_kafka_t, level: c_int, _fac: *const c_char, buf: *const c_char) {
    let line = unsafe { CStr::from_ptr(buf) }.to_string_lossy().into_owned();
    LOGS.lock().unwrap().push((level, line, std::thread::current().id()));
}

fn set(conf: *mut rd_kafka_conf_t, k: &str, v: &str) {
    let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
    assert_eq!(
        unsafe { rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), std::ptr::null_mut(), 0) },
        RD_KAFKA_CONF_OK
    );
}

#[test]
fn throttle_and_log_callbacks_run_on_the_polling_thread() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.set_throttle(kprod::ApiKey::PRODUCE, 250);
    let conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", &cluster.bootstrap_servers());
    set(conf, "debug", "broker,msg");
    unsafe {
        rd_kafka_conf_set_throttle_cb(conf, Some(on_throttle));
        rd_kafka_conf_set_log_cb(conf, Some(on_log));
    }
    let rk = unsafe { rd_kafka_new(RD_KAFKA_PRODUCER, conf, std::ptr::null_mut(), 0) };
    assert!(!rk.is_null());
    let topic = CString::new("t").unwrap();
    let rkt = unsafe { rd_kafka_topic_new(rk, topic.as_ptr(), std::ptr::null_mut()) };
    let value = b"throttled";
    let r = unsafe {
        rd_kafka_produce(
            rkt,
            -1,
            RD_KAFKA_MSG_F_COPY,
            value.as_ptr().cast_mut().cast(),
            value.len(),
            std::ptr::null(),
            0,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(r, 0);
    assert_eq!(unsafe { rd_kafka_flush(rk, 10_000) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while THROTTLES.lock().unwrap().is_empty() || LOGS.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no throttle or no log line served");
        unsafe { rd_kafka_poll(rk, 50) };
    }
    let (broker, id, ms, thread) = THROTTLES.lock().unwrap()[0].clone();
    assert_eq!(ms, 250);
    assert_eq!(id, cluster.broker_ids()[0]);
    assert!(
        broker.ends_with(&format!("/{id}"))
            && cluster.bootstrap_servers().contains(broker.split('/').next().unwrap()),
        "{broker}"
    );
    assert_eq!(thread, std::thread::current().id(), "throttle_cb on the polling thread");
    let logs = LOGS.lock().unwrap().clone();
    assert!(logs.iter().all(|(_, _, t)| *t == std::thread::current().id()), "log_cb on the polling thread");
    assert!(logs.iter().any(|(level, _, _)| *level == 7), "debug= turns on debug lines: {logs:?}");
    unsafe {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
    }
}

#[test]
fn a_consumer_handle_is_refused_with_an_errstr_and_the_conf_stays_the_callers() {
    let conf = rd_kafka_conf_new();
    set(conf, "group.id", "g");
    let mut err = [0 as c_char; 256];
    let rk = unsafe { rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.as_mut_ptr(), err.len()) };
    assert!(rk.is_null());
    let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
    assert!(msg.contains("producer API only") && msg.contains("RD_KAFKA_CONSUMER"), "{msg}");
    // On failure the configuration is still the caller's (as in librdkafka): it can be destroyed.
    unsafe { rd_kafka_conf_destroy(conf) };
    // A bad value is refused at rd_kafka_new with the reason, too.
    let conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", "127.0.0.1:9");
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "1");
    let rk = unsafe { rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.as_mut_ptr(), err.len()) };
    assert!(rk.is_null());
    let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
    assert!(msg.contains("acks"), "{msg}");
    unsafe { rd_kafka_conf_destroy(conf) };
}

static PARTITIONED: Mutex<Vec<(String, usize, i32, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn by_key_length(
    rkt: *const rd_kafka_topic_t,
    _key: *const c_void,
    keylen: usize,
    cnt: i32,
    rkt_opaque: *mut c_void,
    _msg_opaque: *mut c_void,
) -> i32 {
    let name = unsafe { CStr::from_ptr(rd_kafka_topic_name(rkt)) }.to_string_lossy().into_owned();
    PARTITIONED.lock().unwrap().push((name, keylen, cnt, rkt_opaque as usize));
    (keylen % cnt as usize) as i32
}

static REPORTED: Mutex<Vec<(i32, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn dr(_rk: *mut rd_kafka_t, m: *const rd_kafka_message_t, _o: *mut c_void) {
    let m = unsafe { &*m };
    assert_eq!(m.err, 0);
    REPORTED.lock().unwrap().push((m.partition, m.key_len));
}

#[test]
fn the_default_topic_confs_partitioner_cb_places_records() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("pt", 3, 1).unwrap();
    let conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", &cluster.bootstrap_servers());
    let tconf = rd_kafka_topic_conf_new();
    unsafe {
        rd_kafka_topic_conf_set_partitioner_cb(tconf, Some(by_key_length));
        rd_kafka_topic_conf_set_opaque(tconf, 4242 as *mut c_void);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_conf_set_dr_msg_cb(conf, Some(dr));
    }
    let rk = unsafe { rd_kafka_new(RD_KAFKA_PRODUCER, conf, std::ptr::null_mut(), 0) };
    assert!(!rk.is_null());
    let topic = CString::new("pt").unwrap();
    let rkt = unsafe { rd_kafka_topic_new(rk, topic.as_ptr(), std::ptr::null_mut()) };
    for len in 1..=9usize {
        let key = vec![b'k'; len];
        let r = unsafe {
            rd_kafka_produce(
                rkt,
                -1,
                RD_KAFKA_MSG_F_COPY,
                b"v".as_ptr().cast_mut().cast(),
                1,
                key.as_ptr().cast(),
                len,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(r, 0);
    }
    assert_eq!(unsafe { rd_kafka_flush(rk, 10_000) }, 0);
    let mut reported = REPORTED.lock().unwrap().clone();
    reported.sort_by_key(|r| r.1);
    assert_eq!(
        reported,
        (1..=9usize).map(|l| ((l % 3) as i32, l)).collect::<Vec<_>>(),
        "placed by the callback"
    );
    let calls = PARTITIONED.lock().unwrap().clone();
    assert!(calls.iter().all(|(t, _, cnt, opaque)| t == "pt" && *cnt == 3 && *opaque == 4242), "{calls:?}");
    unsafe {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
    }
}
