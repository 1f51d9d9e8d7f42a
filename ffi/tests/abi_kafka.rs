//! The C ABI against real Kafka, called as a C program calls it: transactions (read back by a
//! read_committed console consumer, offsets checked with kafka-consumer-groups), keys, headers and
//! timestamps through `rd_kafka_producev` and `rd_kafka_produce_batch`, the legacy `dr_cb`,
//! `stats_cb`, `error_cb` (on the polling thread), purge, and the OAUTHBEARER refresh callback.
//!
//! Brokers come from the environment (`scripts/test`): KAFKA_BOOTSTRAP_3 / KPROD_KAFKA_NAME_3, and the
//! secured cluster's KAFKA_BOOTSTRAP_SASL_PLAINTEXT / KAFKA_SASL_USER for the OAUTHBEARER test. A
//! missing or unreachable broker fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::undocumented_unsafe_blocks)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::conf::*;
use rdkafka::err::*;
use rdkafka::error::*;
use rdkafka::handle::*;
use rdkafka::headers::*;
use rdkafka::produce::*;
use rdkafka::tpl::*;
use rdkafka::txn::*;

extern "C" {
    // The C shim's variadic produce (csrc/producev.c), linked into this crate.
    fn rd_kafka_producev(rk: *mut c_void, ...) -> rd_kafka_resp_err_t;
}

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the integration tests through scripts/test"))
}

fn bootstrap(name: &str) -> String {
    let b = var(name);
    let first = b.split(',').next().unwrap_or_default().to_string();
    let ok = std::net::TcpStream::connect_timeout(&first.parse().unwrap(), Duration::from_secs(5)).is_ok();
    assert!(ok, "Kafka at {first} ({name}) is unreachable");
    b
}

fn scripts_kafka(args: &[&str]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/kafka")).args(args).output().unwrap();
    assert!(out.status.success(), "scripts/kafka {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn topic(prefix: &str, partitions: u32) -> String {
    let t = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()
    );
    let p = partitions.to_string();
    scripts_kafka(&[
        "topics",
        "--name",
        &var("KPROD_KAFKA_NAME_3"),
        "--create",
        "--topic",
        &t,
        "--partitions",
        &p,
        "--replication-factor",
        "3",
    ]);
    t
}

/// (timestamp, partition, headers, key, value) as Kafka's console consumer prints them.
fn consume(topic: &str, n: usize, extra: &[&str]) -> Vec<(String, String, String, String, String)> {
    let max = n.to_string();
    let mut args = vec![
        "consume",
        "--name",
        "",
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        &max,
        "--timeout-ms",
        "20000",
    ];
    let name = var("KPROD_KAFKA_NAME_3");
    args[2] = &name;
    args.extend_from_slice(extra);
    scripts_kafka(&args)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, '\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            (f[0].into(), f[1].into(), f[3].into(), f[4].into(), f[5].into())
        })
        .collect()
}

/// A delivery report: error, msg_opaque, payload, offset, the thread it ran on.
type Report = (rd_kafka_resp_err_t, usize, Vec<u8>, i64, ThreadId);
/// One message's headers as (name, value).
type Headers = Vec<(String, Vec<u8>)>;

/// What the callbacks saw (the configuration's opaque points at one).
#[derive(Default)]
struct Seen {
    reports: Mutex<Vec<Report>>,
    legacy: Mutex<Vec<(rd_kafka_resp_err_t, Vec<u8>, usize)>>,
    errors: Mutex<Vec<(c_int, String, ThreadId)>>,
    stats: Mutex<Vec<String>>,
    headers: Mutex<Vec<Headers>>,
}

unsafe fn seen<'a>(opaque: *mut c_void) -> &'a Seen {
    unsafe { &*(opaque as *const Seen) }
}

unsafe extern "C" fn dr_msg(_rk: *mut rd_kafka_t, m: *const rd_kafka_message_t, opaque: *mut c_void) {
    let m = unsafe { &*m };
    let value = if m.payload.is_null() {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(m.payload.cast::<u8>(), m.len) }.to_vec()
    };
    let mut hdrs = std::ptr::null_mut();
    let mut got = Vec::new();
    if unsafe { rd_kafka_message_headers(m, &mut hdrs) } == 0 {
        let mut i = 0;
        loop {
            let (mut name, mut val, mut size) = (std::ptr::null(), std::ptr::null(), 0usize);
            if unsafe { rd_kafka_header_get_all(hdrs, i, &mut name, &mut val, &mut size) } != 0 {
                break;
            }
            let n = unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned();
            got.push((n, unsafe { std::slice::from_raw_parts(val.cast::<u8>(), size) }.to_vec()));
            i += 1;
        }
    }
    let s = unsafe { seen(opaque) };
    s.headers.lock().unwrap().push(got);
    s.reports.lock().unwrap().push((
        m.err,
        m._private as usize,
        value,
        m.offset,
        std::thread::current().id(),
    ));
}

unsafe extern "C" fn dr_legacy(
    _rk: *mut rd_kafka_t,
    payload: *mut c_void,
    len: usize,
    err: rd_kafka_resp_err_t,
    opaque: *mut c_void,
    msg_opaque: *mut c_void,
) {
    let v = unsafe { std::slice::from_raw_parts(payload.cast::<u8>(), len) }.to_vec();
    unsafe { seen(opaque) }.legacy.lock().unwrap().push((err, v, msg_opaque as usize));
}

unsafe extern "C" fn on_error(_rk: *mut rd_kafka_t, err: c_int, reason: *const c_char, opaque: *mut c_void) {
    let r = unsafe { CStr::from_ptr(reason) }.to_string_lossy().into_owned();
    unsafe { seen(opaque) }.errors.lock().unwrap().push((err, r, std::thread::current().id()));
}

unsafe extern "C" fn on_stats(
    _rk: *mut rd_kafka_t,
    json: *mut c_char,
    len: usize,
    opaque: *mut c_void,
) -> c_int {
    let j = unsafe { std::slice::from_raw_parts(json.cast::<u8>(), len) };
    unsafe { seen(opaque) }.stats.lock().unwrap().push(String::from_utf8_lossy(j).into_owned());
    0
}

fn set(conf: *mut rd_kafka_conf_t, k: &str, v: &str) {
    let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
    let mut err = [0 as c_char; 512];
    let r = unsafe { rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len()) };
    assert_eq!(
        r,
        RD_KAFKA_CONF_OK,
        "{k:?}={v:?}: {}",
        unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy()
    );
}

fn new_producer(
    props: &[(&str, &str)],
    seen: &Seen,
    configure: impl FnOnce(*mut rd_kafka_conf_t),
) -> *mut rd_kafka_t {
    let conf = rd_kafka_conf_new();
    for (k, v) in props {
        set(conf, k, v);
    }
    unsafe { rd_kafka_conf_set_opaque(conf, std::ptr::from_ref(seen).cast_mut().cast()) };
    configure(conf);
    let mut err = [0 as c_char; 512];
    let rk = unsafe { rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.as_mut_ptr(), err.len()) };
    assert!(!rk.is_null(), "rd_kafka_new: {}", unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy());
    rk
}

fn poll_until(rk: *mut rd_kafka_t, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        unsafe { rd_kafka_poll(rk, 50) };
    }
}

fn ok(e: *mut rd_kafka_error_t) {
    if !e.is_null() {
        let s = unsafe { CStr::from_ptr(rd_kafka_error_string(e)) }.to_string_lossy().into_owned();
        unsafe { rd_kafka_error_destroy(e) };
        panic!("{s}");
    }
}

fn producev(
    rk: *mut rd_kafka_t,
    topic: &CStr,
    key: &[u8],
    value: &[u8],
    opaque: usize,
) -> rd_kafka_resp_err_t {
    unsafe {
        rd_kafka_producev(
            rk.cast(),
            1 as c_int,
            topic.as_ptr(), // RD_KAFKA_V_TOPIC
            5 as c_int,
            key.as_ptr(),
            key.len(), // RD_KAFKA_V_KEY
            4 as c_int,
            value.as_ptr(),
            value.len(), // RD_KAFKA_V_VALUE
            7 as c_int,
            RD_KAFKA_MSG_F_COPY, // RD_KAFKA_V_MSGFLAGS
            6 as c_int,
            opaque as *mut c_void, // RD_KAFKA_V_OPAQUE
            0 as c_int,            // RD_KAFKA_V_END
        )
    }
}

#[test]
fn transactions_commit_abort_and_offsets_through_the_c_api() {
    let b = bootstrap("KAFKA_BOOTSTRAP_3");
    let t = topic("abi-txn", 1);
    let input = topic("abi-txn-in", 1);
    let group = format!("abi-group-{}", std::process::id());
    let tid = format!("abi-txn-{}", std::process::id());
    let seen = Seen::default();
    let rk = new_producer(
        &[("bootstrap.servers", &b), ("transactional.id", &tid), ("linger.ms", "5")],
        &seen,
        |c| unsafe {
            rd_kafka_conf_set_dr_msg_cb(c, Some(dr_msg));
        },
    );
    let tc = CString::new(t.clone()).unwrap();
    ok(unsafe { rd_kafka_init_transactions(rk, 30_000) });
    for (round, commit) in [("committed", true), ("aborted", false), ("offsets", true)] {
        ok(unsafe { rd_kafka_begin_transaction(rk) });
        for i in 0..10 {
            assert_eq!(producev(rk, &tc, b"k", format!("{round}-{i}").as_bytes(), i + 1), 0);
        }
        if round == "offsets" {
            let list = rd_kafka_topic_partition_list_new(1);
            let ic = CString::new(input.clone()).unwrap();
            let e = unsafe { rd_kafka_topic_partition_list_add(list, ic.as_ptr(), 0) };
            unsafe { (*e).offset = 42 };
            let gc = CString::new(group.clone()).unwrap();
            let md = unsafe { rd_kafka_consumer_group_metadata_new(gc.as_ptr()) };
            ok(unsafe { rd_kafka_send_offsets_to_transaction(rk, list, md, 30_000) });
            unsafe {
                rd_kafka_consumer_group_metadata_destroy(md);
                rd_kafka_topic_partition_list_destroy(list);
            }
        }
        if commit {
            ok(unsafe { rd_kafka_commit_transaction(rk, 30_000) });
        } else {
            // Sent first, so the aborted records are in the log (and hidden from read_committed).
            assert_eq!(unsafe { rd_kafka_flush(rk, 30_000) }, 0);
            ok(unsafe { rd_kafka_abort_transaction(rk, 30_000) });
        }
    }
    poll_until(rk, "30 delivery reports", || seen.reports.lock().unwrap().len() == 30);
    assert!(seen.reports.lock().unwrap().iter().all(|r| r.0 == 0 && r.3 >= 0), "all delivered");
    assert_eq!(unsafe { rd_kafka_outq_len(rk) }, 0);
    unsafe { rd_kafka_destroy(rk) };

    let committed = consume(&t, 100, &["--isolation-level", "read_committed"]);
    let mut values: Vec<String> = committed.iter().map(|c| c.4.clone()).collect();
    values.sort();
    let mut want: Vec<String> =
        (0..10).flat_map(|i| [format!("committed-{i}"), format!("offsets-{i}")]).collect();
    want.sort();
    assert_eq!(values, want, "read_committed sees the committed transactions only");
    let all = consume(&t, 30, &["--isolation-level", "read_uncommitted"]);
    assert_eq!(
        all.iter().filter(|c| c.4.starts_with("aborted-")).count(),
        10,
        "aborted records are in the log"
    );
    let described =
        scripts_kafka(&["groups", "--name", &var("KPROD_KAFKA_NAME_3"), "--describe", "--group", &group]);
    let line =
        described.lines().find(|l| l.contains(input.as_str())).unwrap_or_else(|| panic!("{described}"));
    assert_eq!(line.split_whitespace().nth(3), Some("42"), "the offsets sent in the transaction: {line}");
}

#[test]
fn keys_headers_timestamps_batches_legacy_reports_and_stats() {
    let b = bootstrap("KAFKA_BOOTSTRAP_3");
    let t = topic("abi-fields", 3);
    let tc = CString::new(t.clone()).unwrap();
    let seen = Seen::default();
    let rk = new_producer(
        &[("bootstrap.servers", &b), ("statistics.interval.ms", "200"), ("linger.ms", "5")],
        &seen,
        |c| unsafe {
            rd_kafka_conf_set_dr_msg_cb(c, Some(dr_msg));
            rd_kafka_conf_set_stats_cb(c, Some(on_stats));
        },
    );
    let ts: i64 = 1_700_000_000_123;
    let (h1, h2) = (CString::new("trace").unwrap(), CString::new("empty").unwrap());
    let err = unsafe {
        rd_kafka_producev(
            rk.cast(),
            1 as c_int,
            tc.as_ptr(),
            5 as c_int,
            b"key-1".as_ptr(),
            5usize,
            4 as c_int,
            b"with-headers".as_ptr(),
            12usize,
            8 as c_int,
            ts, // RD_KAFKA_V_TIMESTAMP
            9 as c_int,
            h1.as_ptr(),
            b"abc".as_ptr().cast::<c_void>(),
            3isize, // RD_KAFKA_V_HEADER
            9 as c_int,
            h2.as_ptr(),
            b"".as_ptr().cast::<c_void>(),
            0isize,
            7 as c_int,
            RD_KAFKA_MSG_F_COPY,
            6 as c_int,
            7usize as *mut c_void,
            0 as c_int,
        )
    };
    assert_eq!(err, 0);
    // produce_batch: 50 keyed messages with consistent_random partitioning (this ABI's default).
    let rkt = unsafe { rd_kafka_topic_new(rk, tc.as_ptr(), std::ptr::null_mut()) };
    assert!(!rkt.is_null());
    let bodies: Vec<(Vec<u8>, Vec<u8>)> =
        (0..50).map(|i| (format!("bk-{i}").into_bytes(), format!("batch-{i}").into_bytes())).collect();
    let mut msgs: Vec<rd_kafka_message_t> = bodies
        .iter()
        .enumerate()
        .map(|(i, (k, v))| rd_kafka_message_t {
            err: 0,
            rkt,
            partition: -1,
            payload: v.as_ptr().cast_mut().cast(),
            len: v.len(),
            key: k.as_ptr().cast_mut().cast(),
            key_len: k.len(),
            offset: 0,
            _private: (100 + i) as *mut c_void,
        })
        .collect();
    let n = unsafe { rd_kafka_produce_batch(rkt, -1, RD_KAFKA_MSG_F_COPY, msgs.as_mut_ptr(), 50) };
    assert_eq!(n, 50, "every batch message accepted");
    assert!(msgs.iter().all(|m| m.err == 0));
    assert_eq!(unsafe { rd_kafka_flush(rk, 30_000) }, 0);
    poll_until(rk, "statistics", || !seen.stats.lock().unwrap().is_empty());
    let reports = seen.reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 51);
    assert!(
        reports.iter().all(|r| r.0 == 0 && r.4 == std::thread::current().id()),
        "reports served on the polling thread"
    );
    let first = reports.iter().find(|r| r.1 == 7).unwrap();
    assert_eq!(first.2, b"with-headers");
    let hdrs = seen.headers.lock().unwrap();
    assert!(
        hdrs.iter()
            .any(|h| h == &vec![("trace".to_string(), b"abc".to_vec()), ("empty".to_string(), Vec::new())]),
        "{hdrs:?}"
    );
    drop(hdrs);
    let stats: serde_json::Value = serde_json::from_str(&seen.stats.lock().unwrap()[0]).unwrap();
    assert_eq!(stats["type"], "producer");
    unsafe {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
    }

    let got = consume(&t, 51, &[]);
    assert_eq!(got.len(), 51);
    let h = got.iter().find(|c| c.4 == "with-headers").unwrap();
    assert_eq!(h.0, format!("CreateTime:{ts}"));
    assert_eq!(h.2, "trace:abc,empty:");
    assert_eq!(h.3, "key-1");
    // consistent_random: CRC32 of the key modulo the partition count, as librdkafka.
    for (k, v) in &bodies {
        let c = got.iter().find(|c| c.4.as_bytes() == v.as_slice()).unwrap();
        let want = kprod::partitioner::crc32(k) % 3;
        assert_eq!(c.1, format!("Partition:{want}"), "{}", c.4);
    }

    // The legacy dr_cb gets the payload and msg_opaque.
    let seen = Seen::default();
    let rk = new_producer(&[("bootstrap.servers", &b)], &seen, |c| unsafe {
        rd_kafka_conf_set_dr_cb(c, Some(dr_legacy))
    });
    assert_eq!(producev(rk, &tc, b"", b"legacy", 99), 0);
    assert_eq!(unsafe { rd_kafka_flush(rk, 30_000) }, 0);
    assert_eq!(*seen.legacy.lock().unwrap(), vec![(0, b"legacy".to_vec(), 99)]);
    unsafe { rd_kafka_destroy(rk) };
}

#[test]
fn errors_reach_error_cb_on_the_polling_thread_and_purge_reports_purge_queue() {
    let seen = Seen::default();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("127.0.0.1:{port}");
    let rk =
        new_producer(&[("bootstrap.servers", &down), ("message.timeout.ms", "60000")], &seen, |c| unsafe {
            rd_kafka_conf_set_dr_msg_cb(c, Some(dr_msg));
            rd_kafka_conf_set_error_cb(c, Some(on_error));
        });
    let tc = CString::new("abi-nowhere").unwrap();
    // Accepted at once although no broker answers (parked until metadata or message.timeout.ms).
    let start = Instant::now();
    for i in 0..10 {
        assert_eq!(producev(rk, &tc, b"", b"never", i + 1), 0);
    }
    assert!(start.elapsed() < Duration::from_secs(2), "produce does not wait for metadata");
    poll_until(rk, "error_cb", || !seen.errors.lock().unwrap().is_empty());
    {
        let errors = seen.errors.lock().unwrap();
        let (code, reason, thread) = &errors[0];
        assert!(
            [RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN].contains(code),
            "{code} {reason}"
        );
        assert!(
            reason.contains(&port.to_string()) || *code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            "{reason}"
        );
        assert_eq!(*thread, std::thread::current().id(), "error_cb runs on the polling thread");
    }
    assert_eq!(unsafe { rd_kafka_outq_len(rk) }, 10);
    assert_eq!(unsafe { rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE) }, 0);
    poll_until(rk, "10 purged reports", || seen.reports.lock().unwrap().len() >= 9);
    // The head may be mid-send (waiting for metadata); destroy fails it without a report.
    let reports = seen.reports.lock().unwrap().clone();
    assert!(
        reports.iter().all(|r| r.0 == RD_KAFKA_RESP_ERR__PURGE_QUEUE),
        "{:?}",
        reports.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let start = Instant::now();
    unsafe { rd_kafka_destroy(rk) };
    assert!(start.elapsed() < Duration::from_secs(10), "destroy returns at once");
}

/// Kafka's unsecured JWS for `sub`, valid for an hour.
fn unsecured_token(sub: &str) -> (String, i64) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let header = b64.encode(br#"{"alg":"none"}"#);
    let claims = b64.encode(format!(r#"{{"sub":"{sub}","iat":{now},"exp":{}}}"#, now + 3600));
    (format!("{header}.{claims}."), (now + 3600) * 1000)
}

static REFRESHES: Mutex<Vec<ThreadId>> = Mutex::new(Vec::new());

unsafe extern "C" fn refresh(rk: *mut rd_kafka_t, _config: *const c_char, _opaque: *mut c_void) {
    REFRESHES.lock().unwrap().push(std::thread::current().id());
    let (token, expiry) = unsecured_token(&var("KAFKA_SASL_USER"));
    let (t, who) = (CString::new(token).unwrap(), CString::new(var("KAFKA_SASL_USER")).unwrap());
    let mut err = [0 as c_char; 256];
    let r = unsafe {
        rd_kafka_oauthbearer_set_token(
            rk,
            t.as_ptr(),
            expiry,
            who.as_ptr(),
            std::ptr::null(),
            0,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    assert_eq!(r, 0, "{}", unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy());
}

#[test]
fn oauthbearer_refresh_cb_supplies_the_token() {
    let b = bootstrap("KAFKA_BOOTSTRAP_SASL_PLAINTEXT");
    let seen = Seen::default();
    let rk = new_producer(
        &[
            ("bootstrap.servers", &b),
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanisms", "OAUTHBEARER"),
        ],
        &seen,
        |c| unsafe {
            rd_kafka_conf_set_dr_msg_cb(c, Some(dr_msg));
            rd_kafka_conf_set_oauthbearer_token_refresh_cb(c, Some(refresh));
        },
    );
    let tc = CString::new(format!("abi-oauth-{}", std::process::id())).unwrap();
    assert_eq!(producev(rk, &tc, b"", b"over-oauthbearer", 1), 0);
    assert_eq!(unsafe { rd_kafka_flush(rk, 30_000) }, 0);
    let reports = seen.reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, 0, "delivered over SASL/OAUTHBEARER with the callback's token");
    assert!(!REFRESHES.lock().unwrap().is_empty(), "the refresh callback was called");
    unsafe { rd_kafka_destroy(rk) };
}
