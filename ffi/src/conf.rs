//! `rd_kafka_conf_t` and `rd_kafka_topic_conf_t`: librdkafka's property names over kprod's.
//!
//! A property is checked when it is set, against a scratch [`ProducerConfig`] (librdkafka's names
//! are kprod aliases, `kprod::config::LIBRDKAFKA_ALIASES`), so `rd_kafka_conf_set` answers
//! `RD_KAFKA_CONF_UNKNOWN`/`INVALID` at once, as librdkafka does. The handle's configuration is built
//! in `rd_kafka_new`: this ABI's librdkafka defaults first, then every property in the order set.

use std::ffi::{c_char, c_int, c_void};

use kprod::config::{librdkafka_alias, property, AliasKind, PropertyType, LIBRDKAFKA_ALIASES, PROPERTIES};
use kprod::ProducerConfig;

use crate::err::rd_kafka_resp_err_t;
use crate::handle::rd_kafka_t;
use crate::produce::rd_kafka_message_t;
use crate::tpl::rd_kafka_topic_partition_list_t;
use crate::util::{cstring, guard, str_arg, write_cstr};

/// `rd_kafka_conf_res_t`.
pub type rd_kafka_conf_res_t = c_int;
/// No such property.
pub const RD_KAFKA_CONF_UNKNOWN: rd_kafka_conf_res_t = -2;
/// Bad value.
pub const RD_KAFKA_CONF_INVALID: rd_kafka_conf_res_t = -1;
/// Set.
pub const RD_KAFKA_CONF_OK: rd_kafka_conf_res_t = 0;

/// `dr_msg_cb`.
pub type DrMsgCb = unsafe extern "C" fn(*mut rd_kafka_t, *const rd_kafka_message_t, *mut c_void);
/// `dr_cb` (the older one).
pub type DrCb =
    unsafe extern "C" fn(*mut rd_kafka_t, *mut c_void, usize, rd_kafka_resp_err_t, *mut c_void, *mut c_void);
/// `error_cb`.
pub type ErrorCb = unsafe extern "C" fn(*mut rd_kafka_t, c_int, *const c_char, *mut c_void);
/// `throttle_cb`.
pub type ThrottleCb = unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, i32, c_int, *mut c_void);
/// `log_cb`.
pub type LogCb = unsafe extern "C" fn(*const rd_kafka_t, c_int, *const c_char, *const c_char);
/// `stats_cb`.
pub type StatsCb = unsafe extern "C" fn(*mut rd_kafka_t, *mut c_char, usize, *mut c_void) -> c_int;
/// `oauthbearer_token_refresh_cb`.
pub type OauthCb = unsafe extern "C" fn(*mut rd_kafka_t, *const c_char, *mut c_void);
/// A topic's `partitioner_cb`.
pub type PartitionerCb = unsafe extern "C" fn(
    *const crate::handle::rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;
/// Consumer callbacks, stored and never called.
pub type RebalanceCb = unsafe extern "C" fn(
    *mut rd_kafka_t,
    rd_kafka_resp_err_t,
    *mut rd_kafka_topic_partition_list_t,
    *mut c_void,
);

/// The application's callbacks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Callbacks {
    pub dr_msg: Option<DrMsgCb>,
    pub dr: Option<DrCb>,
    pub error: Option<ErrorCb>,
    pub throttle: Option<ThrottleCb>,
    pub log: Option<LogCb>,
    pub stats: Option<StatsCb>,
    pub oauth: Option<OauthCb>,
}

/// This ABI's own properties (not kprod's), with their librdkafka defaults.
#[derive(Debug, Clone)]
pub(crate) struct AbiProps {
    /// `queue.buffering.max.messages`: messages produced and not yet reported.
    pub max_messages: usize,
    /// `log_level` (syslog levels 0-7).
    pub log_level: i32,
    /// `debug`: any context turns on debug logging.
    pub debug: bool,
    /// `delivery.report.only.error`.
    pub dr_only_error: bool,
    /// `compression.level` (-1: the codec's default).
    pub compression_level: Option<i32>,
}

impl Default for AbiProps {
    fn default() -> Self {
        AbiProps {
            max_messages: 100_000,
            log_level: 6,
            debug: false,
            dr_only_error: false,
            compression_level: None,
        }
    }
}

/// librdkafka's defaults where they differ from Java's, applied before the application's
/// properties: its programs expect them (consistent_random partitioning, no idempotence unless asked,
/// big batches, 1 GiB of queue, 300 s message timeout, client.id "rdkafka").
pub(crate) const ABI_DEFAULTS: &[(&str, &str)] = &[
    ("partitioner.class", "consistent_random"),
    ("batch.size", "1000000"),
    ("buffer.memory", "1073741824"),
    ("delivery.timeout.ms", "300000"),
    ("client.id", "rdkafka"),
];

/// The same defaults under their librdkafka names, for `rd_kafka_conf_get` and `conf_dump`.
const ABI_DEFAULT_VALUES: &[(&str, &str)] = &[
    ("partitioner", "consistent_random"),
    ("partitioner.class", "consistent_random"),
    ("batch.size", "1000000"),
    ("batch.num.messages", "10000"),
    ("queue.buffering.max.kbytes", "1048576"),
    ("buffer.memory", "1073741824"),
    ("queue.buffering.max.messages", "100000"),
    ("message.timeout.ms", "300000"),
    ("delivery.timeout.ms", "300000"),
    ("enable.idempotence", "false"),
    ("client.id", "rdkafka"),
    ("log_level", "6"),
    ("debug", ""),
    ("delivery.report.only.error", "false"),
    ("compression.level", "-1"),
    ("compression.codec", "none"),
    ("request.required.acks", "-1"),
    ("acks", "-1"),
    ("enable.ssl.certificate.verification", "true"),
];

/// Consumer properties: accepted (a configuration may be shared with a consumer), no effect on a
/// producer; `rd_kafka_new` logs them, as librdkafka does.
pub(crate) const CONSUMER_PROPERTIES: &[&str] = &[
    "group.id",
    "group.instance.id",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "group.protocol.type",
    "group.protocol",
    "group.remote.assignor",
    "coordinator.query.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.enable",
    "auto.commit.interval.ms",
    "enable.auto.offset.store",
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "fetch.wait.max.ms",
    "fetch.queue.backoff.ms",
    "fetch.message.max.bytes",
    "max.partition.fetch.bytes",
    "fetch.max.bytes",
    "fetch.min.bytes",
    "fetch.error.backoff.ms",
    "offset.store.method",
    "isolation.level",
    "consume.callback.max.messages",
    "enable.partition.eof",
    "check.crcs",
    "allow.auto.create.topics",
    "client.rack",
    "auto.offset.reset",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "consume.result.queue",
];

/// Properties librdkafka has at topic level (the rest are refused by `rd_kafka_topic_conf_set`).
const TOPIC_PROPERTIES: &[&str] = &[
    "request.required.acks",
    "acks",
    "request.timeout.ms",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "queuing.strategy",
    "produce.offset.report",
    "partitioner",
    "compression.codec",
    "compression.type",
    "compression.level",
    "auto.commit.enable",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "offset.store.method",
    "consume.callback.max.messages",
];

/// Topic-level properties that only consumers read (or that a producer honours anyway): accepted,
/// and free to differ between a topic's configuration and the producer's.
pub(crate) fn no_effect_on_topic(name: &str) -> bool {
    matches!(name, "produce.offset.report" | "queuing.strategy" | "consume.callback.max.messages")
        || name.starts_with("offset.store")
        || CONSUMER_PROPERTIES.contains(&name)
}

/// Checks one topic-level property, as `rd_kafka_topic_conf_set` must.
fn topic_set_one(check: &mut ProducerConfig, abi: &mut AbiProps, name: &str, value: &str) -> SetOutcome {
    if !TOPIC_PROPERTIES.contains(&name) {
        return SetOutcome::Unknown(format!("No such configuration property: \"{name}\""));
    }
    match name {
        "queuing.strategy" if value == "fifo" => SetOutcome::Ok,
        "queuing.strategy" => SetOutcome::Invalid(format!(
            "Invalid value \"{value}\" for configuration property \"queuing.strategy\": kprod keeps records in order (fifo)"
        )),
        n if no_effect_on_topic(n) => SetOutcome::Ok,
        _ => set_one(check, abi, name, value),
    }
}

/// The application's properties, in the order set (a later set of a key replaces it in place).
#[derive(Debug, Clone, Default)]
pub(crate) struct Props {
    pub list: Vec<(String, String)>,
}

impl Props {
    fn put(&mut self, k: &str, v: &str) {
        match self.list.iter_mut().find(|(name, _)| name == k) {
            Some(e) => e.1 = v.to_string(),
            None => self.list.push((k.to_string(), v.to_string())),
        }
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.list.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str())
    }
}

/// What setting one property did, or why not.
enum SetOutcome {
    Ok,
    Unknown(String),
    Invalid(String),
}

/// librdkafka's boolean spellings, as Java's `true`/`false`.
fn normalize_bool(v: &str) -> Option<&'static str> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" | "on" => Some("true"),
        "false" | "f" | "0" | "no" | "n" | "off" => Some("false"),
        _ => None,
    }
}

fn is_boolean(name: &str) -> bool {
    let target = match librdkafka_alias(name).map(|a| a.kind) {
        Some(AliasKind::To(t)) => t,
        _ => name,
    };
    property(target).is_some_and(|p| p.ty == PropertyType::Boolean)
}

/// Checks one property against `check` (and this ABI's own), as `rd_kafka_conf_set` must.
fn set_one(check: &mut ProducerConfig, abi: &mut AbiProps, name: &str, value: &str) -> SetOutcome {
    let invalid = |why: &str| {
        SetOutcome::Invalid(format!("Invalid value \"{value}\" for configuration property \"{name}\": {why}"))
    };
    let int = |lo: i64, hi: i64| value.trim().parse::<i64>().ok().filter(|n| (lo..=hi).contains(n));
    match name {
        "queue.buffering.max.messages" => match int(0, i64::from(i32::MAX)) {
            Some(n) => abi.max_messages = usize::try_from(n).unwrap_or(usize::MAX),
            None => return invalid("expected an integer in 0..2147483647"),
        },
        "log_level" => match int(0, 7) {
            Some(n) => abi.log_level = n as i32,
            None => return invalid("expected an integer in 0..7"),
        },
        "debug" => {
            let known: Vec<&str> = crate::version::DEBUG_CONTEXTS.split(',').collect();
            for c in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if !known.contains(&c) {
                    return invalid(&format!("unknown debug context \"{c}\""));
                }
            }
            abi.debug = value.split(',').any(|c| !c.trim().is_empty());
        }
        "delivery.report.only.error" => match normalize_bool(value) {
            Some(b) => abi.dr_only_error = b == "true",
            None => return invalid("expected true or false"),
        },
        "compression.level" => match int(-1, 22) {
            Some(-1) => abi.compression_level = None,
            Some(n) => abi.compression_level = Some(n as i32),
            None => return invalid("expected an integer in -1..22"),
        },
        "enable.ssl.certificate.verification" => match normalize_bool(value) {
            Some("true") => {}
            _ => return invalid("kprod always verifies broker certificates (set ssl.endpoint.identification.algorithm=none to skip the host name check only)"),
        },
        "enabled_events" => {
            if int(0, i64::from(i32::MAX)).is_none() {
                return invalid("expected an integer");
            }
        }
        n if CONSUMER_PROPERTIES.contains(&n) => {}
        // A topic's codec "inherits" the producer's: kprod has one codec per producer anyway.
        "compression.codec" | "compression.type" if value == "inherit" => {}
        // librdkafka's default service name; it matters only to GSSAPI, which kprod refuses itself.
        "sasl.kerberos.service.name" if value == "kafka" => {}
        _ => {
            if property(name).is_none() && librdkafka_alias(name).is_none() {
                return SetOutcome::Unknown(format!("No such configuration property: \"{name}\""));
            }
            let v = if is_boolean(name) { normalize_bool(value).unwrap_or(value) } else { value };
            if let Err(e) = check.set(name, v) {
                return invalid(&e.to_string());
            }
        }
    }
    SetOutcome::Ok
}

/// librdkafka's `rd_kafka_conf_t`.
#[derive(Debug, Clone)]
pub struct rd_kafka_conf_s {
    pub(crate) props: Props,
    /// Every kprod property set so far, applied: checks values as they are set.
    check: ProducerConfig,
    pub(crate) abi: AbiProps,
    pub(crate) cb: Callbacks,
    pub(crate) opaque: *mut c_void,
    pub(crate) topic_conf: Option<Box<rd_kafka_topic_conf_s>>,
}
/// The C name.
pub type rd_kafka_conf_t = rd_kafka_conf_s;

impl rd_kafka_conf_s {
    pub(crate) fn new() -> Self {
        rd_kafka_conf_s {
            props: Props::default(),
            check: ProducerConfig::default(),
            abi: AbiProps::default(),
            cb: Callbacks::default(),
            opaque: std::ptr::null_mut(),
            topic_conf: None,
        }
    }

    fn set(&mut self, name: &str, value: &str) -> SetOutcome {
        let out = set_one(&mut self.check, &mut self.abi, name, value);
        if let SetOutcome::Ok = out {
            self.props.put(name, value);
        }
        out
    }

    /// Every property the application set, the topic-level ones included, in order.
    pub(crate) fn all_props(&self) -> Vec<(String, String)> {
        let mut all = self.props.list.clone();
        if let Some(t) = &self.topic_conf {
            for (k, v) in &t.props.list {
                if !all.iter().any(|(name, _)| name == k) {
                    all.push((k.clone(), v.clone()));
                }
            }
        }
        all
    }

    /// The kprod configuration of a handle: this ABI's defaults, then the application's properties.
    pub(crate) fn producer_config(&self) -> Result<(ProducerConfig, AbiProps), String> {
        let mut config = ProducerConfig::default();
        let mut abi = self.abi.clone();
        let props = self.all_props();
        let set = |k: &str| props.iter().any(|(name, _)| name == k);
        for (k, v) in ABI_DEFAULTS {
            config.set(k, v).map_err(|e| e.to_string())?;
        }
        if !set("enable.idempotence") && !set("transactional.id") {
            config.set("enable.idempotence", "false").map_err(|e| e.to_string())?;
        }
        for (k, v) in &props {
            match set_one(&mut config, &mut abi, k, v) {
                SetOutcome::Ok => {}
                SetOutcome::Unknown(e) | SetOutcome::Invalid(e) => return Err(e),
            }
        }
        // librdkafka lets message.timeout.ms be shorter than a request's timeout; kprod requires
        // delivery.timeout.ms >= linger.ms + request.timeout.ms. Unless the application set
        // request.timeout.ms itself, shorten it to fit (the message timeout is what was asked for).
        let timeout_set = set("message.timeout.ms") || set("delivery.timeout.ms");
        if timeout_set && !set("request.timeout.ms") {
            let delivery = config.delivery_timeout();
            let linger = config.linger();
            if delivery < linger + config.request_timeout() {
                let fit = delivery.saturating_sub(linger).max(std::time::Duration::from_millis(1));
                config.set("request.timeout.ms", &fit.as_millis().to_string()).map_err(|e| e.to_string())?;
            }
        }
        if let Some(level) = abi.compression_level {
            let key = match config.compression_type().name() {
                "gzip" => Some("compression.gzip.level"),
                "lz4" => Some("compression.lz4.level"),
                "zstd" => Some("compression.zstd.level"),
                _ => None,
            };
            if let Some(key) = key {
                config.set(key, &level.to_string()).map_err(|e| format!("compression.level: {e}"))?;
            }
        }
        Ok((config, abi))
    }

    /// The value of `name`: as set, else this ABI's default, else kprod's.
    fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.props.get(name) {
            return Some(v.to_string());
        }
        if let Some(v) = self.topic_conf.as_ref().and_then(|t| t.props.get(name)) {
            return Some(v.to_string());
        }
        default_of(name)
    }
}

/// The default of a property, under any of its names.
fn default_of(name: &str) -> Option<String> {
    if let Some((_, v)) = ABI_DEFAULT_VALUES.iter().find(|(k, _)| *k == name) {
        return Some((*v).to_string());
    }
    let target = match librdkafka_alias(name).map(|a| a.kind) {
        Some(AliasKind::To(t) | AliasKind::ZeroIsOffTo(t)) => t,
        Some(AliasKind::KibibytesTo(_)) => return None,
        Some(AliasKind::Partitioner) => "partitioner.class",
        Some(AliasKind::NoEffect(_)) => return Some(String::new()),
        _ if CONSUMER_PROPERTIES.contains(&name) => return Some(String::new()),
        _ => name,
    };
    property(target).map(|p| p.default.unwrap_or("").to_string())
}

unsafe fn conf_mut<'a>(conf: *mut rd_kafka_conf_t) -> Option<&'a mut rd_kafka_conf_s> {
    // SAFETY: NULL or a configuration this library returned, not destroyed or handed to rd_kafka_new.
    unsafe { conf.as_mut() }
}

unsafe fn conf_ref<'a>(conf: *const rd_kafka_conf_t) -> Option<&'a rd_kafka_conf_s> {
    // SAFETY: as in conf_mut.
    unsafe { conf.as_ref() }
}

/// A new configuration with the defaults.
#[no_mangle]
pub extern "C" fn rd_kafka_conf_new() -> *mut rd_kafka_conf_t {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::new(rd_kafka_conf_s::new())))
}

/// Frees a configuration not handed to `rd_kafka_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_destroy(conf: *mut rd_kafka_conf_t) {
    if !conf.is_null() {
        // SAFETY: a configuration this library boxed, destroyed once (API contract).
        guard((), || drop(unsafe { Box::from_raw(conf) }));
    }
}

/// A copy.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dup(conf: *const rd_kafka_conf_t) -> *mut rd_kafka_conf_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see conf_ref.
        match unsafe { conf_ref(conf) } {
            Some(c) => Box::into_raw(Box::new(c.clone())),
            None => std::ptr::null_mut(),
        }
    })
}

/// A copy without the properties whose names start with one of `filter`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dup_filter(
    conf: *const rd_kafka_conf_t,
    filter_cnt: usize,
    filter: *const *const c_char,
) -> *mut rd_kafka_conf_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see conf_ref.
        let Some(c) = (unsafe { conf_ref(conf) }) else { return std::ptr::null_mut() };
        let mut prefixes = Vec::new();
        for i in 0..filter_cnt {
            // SAFETY: filter holds filter_cnt C strings (API contract).
            if let Some(p) = unsafe { str_arg(*filter.add(i)) } {
                prefixes.push(p.to_string());
            }
        }
        let mut copy = rd_kafka_conf_s::new();
        copy.cb = c.cb;
        copy.opaque = c.opaque;
        copy.topic_conf = c.topic_conf.clone();
        for (k, v) in &c.props.list {
            if !prefixes.iter().any(|p| k.starts_with(p.as_str())) {
                let _ = copy.set(k, v);
            }
        }
        Box::into_raw(Box::new(copy))
    })
}

fn answer(out: SetOutcome, errstr: *mut c_char, errstr_size: usize) -> rd_kafka_conf_res_t {
    let (res, msg) = match out {
        SetOutcome::Ok => return RD_KAFKA_CONF_OK,
        SetOutcome::Unknown(m) => (RD_KAFKA_CONF_UNKNOWN, m),
        SetOutcome::Invalid(m) => (RD_KAFKA_CONF_INVALID, m),
    };
    // SAFETY: errstr is NULL or a buffer of errstr_size bytes (API contract).
    unsafe { write_cstr(errstr, errstr_size, &msg) };
    res
}

/// Sets a property by its librdkafka (or Java) name.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set(
    conf: *mut rd_kafka_conf_t,
    name: *const c_char,
    value: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_conf_res_t {
    guard(RD_KAFKA_CONF_INVALID, || {
        // SAFETY: see conf_mut and str_arg.
        let (Some(c), Some(name)) = (unsafe { conf_mut(conf) }, unsafe { str_arg(name) }) else {
            return answer(SetOutcome::Invalid("conf and name are required".into()), errstr, errstr_size);
        };
        // SAFETY: value is NULL or a C string.
        let Some(value) = (unsafe { str_arg(value) }) else {
            return answer(
                SetOutcome::Invalid(format!("\"{name}\": a NULL value resets nothing in kprod")),
                errstr,
                errstr_size,
            );
        };
        answer(c.set(name, value), errstr, errstr_size)
    })
}

/// Copies a value into `dest` (`*dest_size` bytes), or its size (with the NUL) into `*dest_size`.
unsafe fn get_into(value: Option<String>, dest: *mut c_char, dest_size: *mut usize) -> rd_kafka_conf_res_t {
    let Some(v) = value else { return RD_KAFKA_CONF_UNKNOWN };
    if dest_size.is_null() {
        return RD_KAFKA_CONF_INVALID;
    }
    // SAFETY: dest_size is a valid size_t (API contract).
    let size = unsafe { *dest_size };
    // SAFETY: as above.
    unsafe { *dest_size = v.len() + 1 };
    if dest.is_null() {
        return RD_KAFKA_CONF_OK;
    }
    if size < v.len() + 1 {
        return RD_KAFKA_CONF_INVALID;
    }
    // SAFETY: dest holds `size` bytes.
    unsafe { write_cstr(dest, size, &v) };
    RD_KAFKA_CONF_OK
}

/// A property's value.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_get(
    conf: *const rd_kafka_conf_t,
    name: *const c_char,
    dest: *mut c_char,
    dest_size: *mut usize,
) -> rd_kafka_conf_res_t {
    guard(RD_KAFKA_CONF_INVALID, || {
        // SAFETY: see conf_ref and str_arg.
        let (Some(c), Some(name)) = (unsafe { conf_ref(conf) }, unsafe { str_arg(name) }) else {
            return RD_KAFKA_CONF_INVALID;
        };
        // SAFETY: dest and dest_size as the caller passed them.
        unsafe { get_into(c.get(name), dest, dest_size) }
    })
}

/// Name/value pairs as a C array, freed with `rd_kafka_conf_dump_free`.
fn dump(pairs: Vec<(String, String)>, cntp: *mut usize) -> *mut *const c_char {
    let mut arr: Vec<*const c_char> = Vec::with_capacity(pairs.len() * 2);
    for (k, v) in pairs {
        arr.push(cstring(&k).into_raw());
        arr.push(cstring(&v).into_raw());
    }
    if !cntp.is_null() {
        // SAFETY: cntp is a valid size_t (API contract).
        unsafe { *cntp = arr.len() };
    }
    Box::into_raw(arr.into_boxed_slice()).cast()
}

/// Every property with its value: those set, then the defaults of the rest.
fn dump_pairs(c: &rd_kafka_conf_s) -> Vec<(String, String)> {
    let mut pairs = c.all_props();
    let names = ABI_DEFAULT_VALUES
        .iter()
        .map(|(k, _)| *k)
        .chain(PROPERTIES.iter().map(|p| p.name))
        .chain(LIBRDKAFKA_ALIASES.iter().map(|a| a.name));
    for name in names {
        if !pairs.iter().any(|(k, _)| k == name) {
            if let Some(v) = default_of(name) {
                pairs.push((name.to_string(), v));
            }
        }
    }
    pairs
}

/// Every property and its value.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dump(
    conf: *mut rd_kafka_conf_t,
    cntp: *mut usize,
) -> *mut *const c_char {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see conf_ref.
        let pairs = unsafe { conf_ref(conf) }.map(dump_pairs).unwrap_or_default();
        dump(pairs, cntp)
    })
}

/// Frees a dump.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_dump_free(arr: *mut *const c_char, cnt: usize) {
    if arr.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: arr is a boxed slice of `cnt` pointers from dump(), each a CString::into_raw.
        let slice = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(arr, cnt)) };
        for p in slice.iter() {
            // SAFETY: each was CString::into_raw, freed once here.
            drop(unsafe { std::ffi::CString::from_raw(p.cast_mut()) });
        }
    })
}

/// Prints the properties this library knows.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_properties_show(fp: *mut libc::FILE) {
    guard((), || {
        if fp.is_null() {
            return;
        }
        let mut out = String::from("Property                                 | Default    | Description\n");
        out.push_str("-----------------------------------------|------------|-------------\n");
        for p in PROPERTIES {
            out.push_str(&format!("{:<41}| {:<11}| {}\n", p.name, p.default.unwrap_or(""), p.doc));
        }
        for a in LIBRDKAFKA_ALIASES {
            let what = match a.kind {
                AliasKind::To(t) | AliasKind::ZeroIsOffTo(t) | AliasKind::KibibytesTo(t) => {
                    format!("librdkafka's name for {t}")
                }
                AliasKind::Partitioner => {
                    "librdkafka's partitioners (random, consistent, consistent_random, murmur2, murmur2_random, fnv1a, fnv1a_random)".into()
                }
                AliasKind::NoEffect(why) => format!("accepted, no effect: {why}"),
            };
            let default = default_of(a.name).unwrap_or_default();
            out.push_str(&format!("{:<41}| {:<11}| {what}\n", a.name, default));
        }
        let c = cstring(&out);
        // SAFETY: fp is an open FILE* (API contract); c is a valid C string.
        unsafe { libc::fputs(c.as_ptr(), fp) };
    })
}

/// Sets the opaque passed to callbacks.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_opaque(conf: *mut rd_kafka_conf_t, opaque: *mut c_void) {
    // SAFETY: see conf_mut.
    if let Some(c) = unsafe { conf_mut(conf) } {
        c.opaque = opaque;
    }
}

macro_rules! set_callback {
    ($(#[$doc:meta])* $fn:ident, $field:ident, $ty:ty) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $fn(conf: *mut rd_kafka_conf_t, cb: Option<$ty>) {
            // SAFETY: see conf_mut.
            if let Some(c) = unsafe { conf_mut(conf) } {
                c.cb.$field = cb;
            }
        }
    };
}

set_callback!(
    /// The delivery report callback with the message (served by `rd_kafka_poll`).
    rd_kafka_conf_set_dr_msg_cb, dr_msg, DrMsgCb);
set_callback!(
    /// The older delivery report callback (payload, length, error).
    rd_kafka_conf_set_dr_cb, dr, DrCb);
set_callback!(
    /// Errors the application would otherwise see only in logs (served by `rd_kafka_poll`).
    rd_kafka_conf_set_error_cb, error, ErrorCb);
set_callback!(
    /// Broker throttling (served by `rd_kafka_poll`).
    rd_kafka_conf_set_throttle_cb, throttle, ThrottleCb);
set_callback!(
    /// Log lines (served by `rd_kafka_poll`; without it, warnings and errors go to stderr).
    rd_kafka_conf_set_log_cb, log, LogCb);
set_callback!(
    /// Statistics JSON every `statistics.interval.ms` (served by `rd_kafka_poll`).
    rd_kafka_conf_set_stats_cb, stats, StatsCb);
set_callback!(
    /// OAUTHBEARER token refresh (called on kprod's token thread; answer with
    /// `rd_kafka_oauthbearer_set_token`).
    rd_kafka_conf_set_oauthbearer_token_refresh_cb, oauth, OauthCb);

/// Events API: not implemented; callbacks are always used.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_events(conf: *mut rd_kafka_conf_t, events: c_int) {
    if events != 0 {
        log::warn!("rd_kafka_conf_set_events({events:#x}): kprod has no event API; callbacks are served by rd_kafka_poll");
    }
    let _ = conf;
}

/// Accepted, never called: kprod has no background event queue.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_background_event_cb(conf: *mut rd_kafka_conf_t, cb: *mut c_void) {
    let _ = (conf, cb);
}

/// A consumer callback: accepted, never called on a producer.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_offset_commit_cb(conf: *mut rd_kafka_conf_t, cb: *mut c_void) {
    let _ = (conf, cb);
}

/// A consumer callback: accepted, never called on a producer.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_rebalance_cb(conf: *mut rd_kafka_conf_t, cb: Option<RebalanceCb>) {
    let _ = (conf, cb);
}

/// A consumer callback: accepted, never called on a producer.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_consume_cb(conf: *mut rd_kafka_conf_t, cb: *mut c_void) {
    let _ = (conf, cb);
}

/// Makes `tconf` (taken over) the default topic configuration.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_set_default_topic_conf(
    conf: *mut rd_kafka_conf_t,
    tconf: *mut rd_kafka_topic_conf_t,
) {
    guard((), || {
        // SAFETY: see conf_mut.
        let Some(c) = (unsafe { conf_mut(conf) }) else { return };
        if !tconf.is_null() {
            // SAFETY: a topic configuration this library boxed; ownership passes to conf.
            c.topic_conf = Some(unsafe { Box::from_raw(tconf) });
        }
    })
}

/// The default topic configuration (owned by conf), or NULL.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_conf_get_default_topic_conf(
    conf: *mut rd_kafka_conf_t,
) -> *mut rd_kafka_topic_conf_t {
    // SAFETY: see conf_mut.
    guard(std::ptr::null_mut(), || match unsafe { conf_mut(conf) }.and_then(|c| c.topic_conf.as_mut()) {
        Some(t) => &mut **t,
        None => std::ptr::null_mut(),
    })
}

/// librdkafka's `rd_kafka_topic_conf_t`: topic-level properties (kprod applies them producer-wide,
/// so a topic's may only repeat the producer's; see `rd_kafka_topic_new`).
#[derive(Debug, Clone)]
pub struct rd_kafka_topic_conf_s {
    pub(crate) props: Props,
    check: ProducerConfig,
    abi: AbiProps,
    pub(crate) opaque: *mut c_void,
    pub(crate) partitioner: Option<PartitionerCb>,
}
/// The C name.
pub type rd_kafka_topic_conf_t = rd_kafka_topic_conf_s;

impl rd_kafka_topic_conf_s {
    pub(crate) fn new() -> Self {
        rd_kafka_topic_conf_s {
            props: Props::default(),
            check: ProducerConfig::default(),
            abi: AbiProps::default(),
            opaque: std::ptr::null_mut(),
            partitioner: None,
        }
    }
}

unsafe fn tconf_mut<'a>(conf: *mut rd_kafka_topic_conf_t) -> Option<&'a mut rd_kafka_topic_conf_s> {
    // SAFETY: NULL or a topic configuration this library returned and not destroyed or taken over.
    unsafe { conf.as_mut() }
}

/// A new topic configuration.
#[no_mangle]
pub extern "C" fn rd_kafka_topic_conf_new() -> *mut rd_kafka_topic_conf_t {
    guard(std::ptr::null_mut(), || Box::into_raw(Box::new(rd_kafka_topic_conf_s::new())))
}

/// A copy.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_dup(
    conf: *const rd_kafka_topic_conf_t,
) -> *mut rd_kafka_topic_conf_t {
    // SAFETY: NULL or a live topic configuration.
    guard(std::ptr::null_mut(), || match unsafe { conf.as_ref() } {
        Some(c) => Box::into_raw(Box::new(c.clone())),
        None => std::ptr::null_mut(),
    })
}

/// Frees a topic configuration not taken over.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_destroy(conf: *mut rd_kafka_topic_conf_t) {
    if !conf.is_null() {
        // SAFETY: a topic configuration this library boxed, destroyed once.
        guard((), || drop(unsafe { Box::from_raw(conf) }));
    }
}

/// Sets a topic-level property.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set(
    conf: *mut rd_kafka_topic_conf_t,
    name: *const c_char,
    value: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_conf_res_t {
    guard(RD_KAFKA_CONF_INVALID, || {
        // SAFETY: see tconf_mut and str_arg.
        let (Some(c), Some(name), Some(value)) =
            (unsafe { tconf_mut(conf) }, unsafe { str_arg(name) }, unsafe { str_arg(value) })
        else {
            return answer(
                SetOutcome::Invalid("conf, name and value are required".into()),
                errstr,
                errstr_size,
            );
        };
        let out = topic_set_one(&mut c.check, &mut c.abi, name, value);
        if let SetOutcome::Ok = out {
            c.props.put(name, value);
        }
        answer(out, errstr, errstr_size)
    })
}

/// A topic-level property's value.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_get(
    conf: *const rd_kafka_topic_conf_t,
    name: *const c_char,
    dest: *mut c_char,
    dest_size: *mut usize,
) -> rd_kafka_conf_res_t {
    guard(RD_KAFKA_CONF_INVALID, || {
        // SAFETY: NULL or a live topic configuration; see str_arg.
        let (Some(c), Some(name)) = (unsafe { conf.as_ref() }, unsafe { str_arg(name) }) else {
            return RD_KAFKA_CONF_INVALID;
        };
        if !TOPIC_PROPERTIES.contains(&name) {
            return RD_KAFKA_CONF_UNKNOWN;
        }
        let v = c.props.get(name).map(str::to_string).or_else(|| default_of(name));
        // SAFETY: dest and dest_size as the caller passed them.
        unsafe { get_into(v, dest, dest_size) }
    })
}

/// Every topic-level property and its value.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_dump(
    conf: *mut rd_kafka_topic_conf_t,
    cntp: *mut usize,
) -> *mut *const c_char {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live topic configuration.
        let Some(c) = (unsafe { conf.as_ref() }) else { return dump(Vec::new(), cntp) };
        let mut pairs = c.props.list.clone();
        for name in TOPIC_PROPERTIES {
            if !pairs.iter().any(|(k, _)| k == name) {
                pairs.push(((*name).to_string(), default_of(name).unwrap_or_default()));
            }
        }
        dump(pairs, cntp)
    })
}

/// Sets the topic's opaque (passed to its partitioner).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set_opaque(
    conf: *mut rd_kafka_topic_conf_t,
    opaque: *mut c_void,
) {
    // SAFETY: see tconf_mut.
    if let Some(c) = unsafe { tconf_mut(conf) } {
        c.opaque = opaque;
    }
}

/// A custom partitioner for the topic.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_conf_set_partitioner_cb(
    conf: *mut rd_kafka_topic_conf_t,
    cb: Option<PartitionerCb>,
) {
    // SAFETY: see tconf_mut.
    if let Some(c) = unsafe { tconf_mut(conf) } {
        c.partitioner = cb;
    }
}

/// What this ABI does with a librdkafka property, in words (docs/c-api.md's property table).
pub fn property_mapping(name: &str) -> String {
    let abi = match name {
        "queue.buffering.max.messages" => Some("counted by the C ABI: messages produced and not yet reported; produce answers __QUEUE_FULL beyond it (RD_KAFKA_MSG_F_BLOCK waits up to max.block.ms)"),
        "log_level" => Some("the C ABI's log threshold (syslog levels)"),
        "debug" => Some("any context turns on kprod's debug log (level 7); contexts are checked, not told apart"),
        "delivery.report.only.error" => Some("the C ABI reports failed messages only"),
        "compression.level" => Some("applied as compression.gzip.level, compression.lz4.level or compression.zstd.level of the codec chosen"),
        "enable.ssl.certificate.verification" => Some("true only: kprod always verifies certificates (false is RD_KAFKA_CONF_INVALID)"),
        "enabled_events" => Some("accepted; kprod has no event API (callbacks through rd_kafka_poll)"),
        "queuing.strategy" => Some("fifo only (kprod keeps records in order)"),
        _ => None,
    };
    if let Some(a) = abi {
        return a.to_string();
    }
    if CONSUMER_PROPERTIES.contains(&name) {
        return "a consumer property: accepted, no effect on a producer (rd_kafka_new logs it)".into();
    }
    let default =
        ABI_DEFAULTS.iter().find(|(k, _)| *k == name).map(|(_, v)| format!(" (this ABI's default: {v})"));
    if let Some(p) = property(name) {
        let support = match p.support {
            kprod::config::Support::Yes => String::new(),
            kprod::config::Support::Partly(why) => format!("; partly: {why}"),
            kprod::config::Support::No(why) => format!("; only its default is accepted: {why}"),
        };
        return format!("kprod's `{name}`{}{support}", default.unwrap_or_default());
    }
    match librdkafka_alias(name).map(|a| a.kind) {
        Some(AliasKind::To(t)) => {
            let d = ABI_DEFAULTS.iter().find(|(k, _)| *k == t).map(|(_, v)| format!(" (this ABI's default: {v})"));
            format!("kprod's `{t}`{}", d.unwrap_or_default())
        }
        Some(AliasKind::KibibytesTo(t)) => format!("kprod's `{t}` in bytes (KiB × 1024; this ABI's default: 1048576 KiB)"),
        Some(AliasKind::ZeroIsOffTo(t)) => format!("kprod's `{t}` (0, the OS default, is -1)"),
        Some(AliasKind::Partitioner) => "kprod's `partitioner.class`: librdkafka's random, consistent, consistent_random (this ABI's default), murmur2, murmur2_random, fnv1a, fnv1a_random, with librdkafka's hashes".into(),
        Some(AliasKind::NoEffect(why)) => format!("accepted, no effect: {why}"),
        None => "not supported: RD_KAFKA_CONF_UNKNOWN".into(),
    }
}

/// How `rd_kafka_conf_set` (or, for topic-level names, `rd_kafka_topic_conf_set`) answers `name`
/// set to `value`, with the errstr (docs/c-api.md's property table).
pub fn try_set(name: &str, value: &str, topic_level: bool) -> (rd_kafka_conf_res_t, String) {
    let out = if topic_level {
        topic_set_one(&mut ProducerConfig::default(), &mut AbiProps::default(), name, value)
    } else {
        rd_kafka_conf_s::new().set(name, value)
    };
    match out {
        SetOutcome::Ok => (RD_KAFKA_CONF_OK, String::new()),
        SetOutcome::Unknown(e) => (RD_KAFKA_CONF_UNKNOWN, e),
        SetOutcome::Invalid(e) => (RD_KAFKA_CONF_INVALID, e),
    }
}

/// A copy of the handle's default topic configuration (or a new one).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_default_topic_conf_dup(rk: *mut rd_kafka_t) -> *mut rd_kafka_topic_conf_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live handle.
        let t = unsafe { crate::handle::handle_ref(rk) }.and_then(|h| h.conf.topic_conf.as_deref().cloned());
        Box::into_raw(Box::new(t.unwrap_or_else(rd_kafka_topic_conf_s::new)))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn set(c: &mut rd_kafka_conf_s, k: &str, v: &str) -> rd_kafka_conf_res_t {
        match c.set(k, v) {
            SetOutcome::Ok => RD_KAFKA_CONF_OK,
            SetOutcome::Unknown(_) => RD_KAFKA_CONF_UNKNOWN,
            SetOutcome::Invalid(_) => RD_KAFKA_CONF_INVALID,
        }
    }

    #[test]
    fn librdkafka_names_and_answers() {
        let mut c = rd_kafka_conf_s::new();
        assert_eq!(set(&mut c, "bootstrap.servers", "localhost:9092"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "queue.buffering.max.ms", "20"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "queue.buffering.max.messages", "5000"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "socket.nagle.disable", "true"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "group.id", "g"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "debug", "broker,msg"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "debug", "nonsense"), RD_KAFKA_CONF_INVALID);
        assert_eq!(set(&mut c, "no.such.thing", "1"), RD_KAFKA_CONF_UNKNOWN);
        assert_eq!(set(&mut c, "linger.ms", "soon"), RD_KAFKA_CONF_INVALID);
        assert_eq!(set(&mut c, "partitioner", "fnv1a"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "partitioner", "fnv2"), RD_KAFKA_CONF_INVALID);
        assert_eq!(set(&mut c, "partitioner", "consistent_random"), RD_KAFKA_CONF_OK);
        assert_eq!(set(&mut c, "enable.idempotence", "1"), RD_KAFKA_CONF_OK);
        let (config, abi) = c.producer_config().unwrap();
        assert_eq!(config.linger(), std::time::Duration::from_millis(20));
        assert_eq!(abi.max_messages, 5000);
        assert!(abi.debug);
        assert!(config.enable_idempotence());
        assert_eq!(config.partitioner(), kprod::PartitionerKind::ConsistentRandom);
        assert_eq!(c.get("queue.buffering.max.ms").as_deref(), Some("20"));
        assert_eq!(c.get("message.timeout.ms").as_deref(), Some("300000"));
    }

    #[test]
    fn abi_defaults_are_librdkafkas() {
        let mut c = rd_kafka_conf_s::new();
        set(&mut c, "bootstrap.servers", "localhost:9092");
        let (config, abi) = c.producer_config().unwrap();
        assert!(!config.enable_idempotence());
        assert_eq!(config.batch_size(), 1_000_000);
        assert_eq!(config.delivery_timeout(), std::time::Duration::from_secs(300));
        assert_eq!(abi.max_messages, 100_000);
        // transactional.id implies idempotence, as in librdkafka.
        set(&mut c, "transactional.id", "t");
        let (config, _) = c.producer_config().unwrap();
        assert!(config.enable_idempotence());
        // A message timeout shorter than a request's shortens the request timeout, as librdkafka
        // allows; kprod's validation then passes.
        set(&mut c, "message.timeout.ms", "3000");
        let (mut config, _) = c.producer_config().unwrap();
        assert_eq!(config.request_timeout(), std::time::Duration::from_millis(2995));
        config.validate().unwrap();
    }
}
