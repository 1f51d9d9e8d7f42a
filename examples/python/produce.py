#!/usr/bin/env python3
"""Produce messages through librdkafka's C API with nothing but ctypes.

Works with native librdkafka and with kprod's librdkafka-compatible library (ffi/), which
implements the same producer API and the same rd_kafka_message_t layout:

    python3 examples/python/produce.py --bootstrap 127.0.0.1:9092 --topic demo --count 1000 \\
        [--lib target/c-abi/kprod/lib/librdkafka.so.1] [-X linger.ms=5 ...]

Without --lib the library is found with ctypes.util.find_library("rdkafka") (the dynamic
loader's search path, e.g. LD_LIBRARY_PATH). Each message has the value "py-<n>" and a
per-message opaque n + 1, so the delivery reports can be matched to messages. Messages are
produced with rd_kafka_produceva() (producev() is variadic, which ctypes calls unreliably),
RD_KAFKA_MSG_F_COPY; on a full queue the script polls and retries. The exit status is 0 only
if every message got exactly one delivery report and none failed.
"""

import argparse
import ctypes
import ctypes.util
import sys
import time

# rd_kafka_type_t, rd_kafka_conf_res_t, message flags and error codes (rdkafka.h).
RD_KAFKA_PRODUCER = 0
RD_KAFKA_CONF_OK = 0
RD_KAFKA_MSG_F_COPY = 0x2
RD_KAFKA_RESP_ERR_NO_ERROR = 0
RD_KAFKA_RESP_ERR__QUEUE_FULL = -184

# rd_kafka_vtype_t
(RD_KAFKA_VTYPE_END, RD_KAFKA_VTYPE_TOPIC, RD_KAFKA_VTYPE_RKT, RD_KAFKA_VTYPE_PARTITION,
 RD_KAFKA_VTYPE_VALUE, RD_KAFKA_VTYPE_KEY, RD_KAFKA_VTYPE_OPAQUE, RD_KAFKA_VTYPE_MSGFLAGS,
 RD_KAFKA_VTYPE_TIMESTAMP, RD_KAFKA_VTYPE_HEADER, RD_KAFKA_VTYPE_HEADERS) = range(11)


class Message(ctypes.Structure):
    """rd_kafka_message_t, field for field."""
    _fields_ = [
        ("err", ctypes.c_int),            # rd_kafka_resp_err_t
        ("rkt", ctypes.c_void_p),         # rd_kafka_topic_t *
        ("partition", ctypes.c_int32),
        ("payload", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("key", ctypes.c_void_p),
        ("key_len", ctypes.c_size_t),
        ("offset", ctypes.c_int64),
        ("_private", ctypes.c_void_p),    # the producer's per-message opaque
    ]


class _Mem(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t)]


class _Header(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("val", ctypes.c_void_p), ("size", ctypes.c_ssize_t)]


class _VuValue(ctypes.Union):
    _fields_ = [
        ("cstr", ctypes.c_char_p),
        ("rkt", ctypes.c_void_p),
        ("i", ctypes.c_int),
        ("i32", ctypes.c_int32),
        ("i64", ctypes.c_int64),
        ("mem", _Mem),
        ("header", _Header),
        ("headers", ctypes.c_void_p),
        ("ptr", ctypes.c_void_p),
        ("_pad", ctypes.c_char * 64),     # the header's future-proof padding fixes the size
    ]


class Vu(ctypes.Structure):
    """rd_kafka_vu_t: one argument of rd_kafka_produceva()."""
    _fields_ = [("vtype", ctypes.c_int), ("u", _VuValue)]


DrMsgCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(Message), ctypes.c_void_p)


def load(path):
    """Loads the library and declares the signatures this script uses."""
    lib = ctypes.CDLL(path)
    p, i, c = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures = {
        "rd_kafka_version_str": ([], c),
        "rd_kafka_err2str": ([i], c),
        "rd_kafka_conf_new": ([], p),
        "rd_kafka_conf_destroy": ([p], None),
        "rd_kafka_conf_set": ([p, c, c, ctypes.c_char_p, ctypes.c_size_t], i),
        "rd_kafka_conf_set_dr_msg_cb": ([p, DrMsgCb], None),
        "rd_kafka_new": ([i, p, ctypes.c_char_p, ctypes.c_size_t], p),
        "rd_kafka_produceva": ([p, ctypes.POINTER(Vu), ctypes.c_size_t], p),
        "rd_kafka_error_code": ([p], i),
        "rd_kafka_error_string": ([p], c),
        "rd_kafka_error_destroy": ([p], None),
        "rd_kafka_poll": ([p, i], i),
        "rd_kafka_flush": ([p, i], i),
        "rd_kafka_outq_len": ([p], i),
        "rd_kafka_destroy": ([p], None),
    }
    for name, (argtypes, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, restype
    return lib


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True, help="bootstrap.servers, host:port[,...]")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, default=1000, help="messages to produce (default 1000)")
    ap.add_argument("--lib", help="path of librdkafka.so.1 (default: find_library('rdkafka'))")
    ap.add_argument("-X", dest="props", action="append", default=[], metavar="KEY=VALUE",
                    help="extra configuration property (repeatable)")
    ap.add_argument("--flush-timeout-ms", type=int, default=30000)
    return ap.parse_args()


def main():
    args = parse_args()
    path = args.lib or ctypes.util.find_library("rdkafka")
    if not path:
        sys.exit("produce.py: librdkafka not found; pass --lib /path/to/librdkafka.so.1")
    lib = load(path)

    errstr = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    for prop in [f"bootstrap.servers={args.bootstrap}"] + args.props:
        key, sep, value = prop.partition("=")
        if not sep:
            sys.exit(f"produce.py: expected KEY=VALUE, not {prop!r}")
        if lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), errstr,
                                 len(errstr)) != RD_KAFKA_CONF_OK:
            lib.rd_kafka_conf_destroy(conf)
            sys.exit(f"produce.py: {key}: {errstr.value.decode(errors='replace')}")

    # Delivery reports, indexed by message number (opaque - 1). They run inside poll()/flush()
    # on this thread; the CFUNCTYPE object must outlive the producer, so keep it referenced.
    reports = [0] * args.count
    failures = []
    delivered = 0

    def on_delivery(_rk, msg, _opaque):
        nonlocal delivered
        m = msg.contents
        n = (m._private or 0) - 1
        if 0 <= n < args.count:
            reports[n] += 1
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR:
            delivered += 1
        else:
            failures.append((n, lib.rd_kafka_err2str(m.err).decode(errors="replace")))

    dr_cb = DrMsgCb(on_delivery)
    lib.rd_kafka_conf_set_dr_msg_cb(conf, dr_cb)

    rk = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
    if not rk:  # on failure conf is still ours
        lib.rd_kafka_conf_destroy(conf)
        sys.exit(f"produce.py: rd_kafka_new: {errstr.value.decode(errors='replace')}")

    topic = args.topic.encode()
    vus = (Vu * 4)()
    vus[0].vtype, vus[0].u.cstr = RD_KAFKA_VTYPE_TOPIC, topic
    vus[1].vtype = RD_KAFKA_VTYPE_VALUE
    vus[2].vtype, vus[2].u.i = RD_KAFKA_VTYPE_MSGFLAGS, RD_KAFKA_MSG_F_COPY
    vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE

    started = time.monotonic()
    queue_full = 0
    produce_error = None
    for n in range(args.count):
        data = f"py-{n:06d}".encode()
        value = ctypes.create_string_buffer(data, len(data))  # exactly the bytes, no NUL
        vus[1].u.mem.ptr, vus[1].u.mem.size = ctypes.cast(value, ctypes.c_void_p), len(value)
        vus[3].u.ptr = n + 1
        while True:
            err = lib.rd_kafka_produceva(rk, vus, len(vus))
            if not err:
                break
            code = lib.rd_kafka_error_code(err)
            text = lib.rd_kafka_error_string(err).decode(errors="replace")
            lib.rd_kafka_error_destroy(err)
            if code != RD_KAFKA_RESP_ERR__QUEUE_FULL:
                produce_error = f"message {n}: {text} ({code})"
                break
            queue_full += 1
            lib.rd_kafka_poll(rk, 100)  # let deliveries drain the queue, then retry
        if produce_error:
            break
        lib.rd_kafka_poll(rk, 0)

    flush_err = lib.rd_kafka_flush(rk, args.flush_timeout_ms)
    outq = lib.rd_kafka_outq_len(rk)
    lib.rd_kafka_destroy(rk)
    elapsed = time.monotonic() - started

    missing = sum(1 for r in reports if r == 0)
    duplicated = sum(1 for r in reports if r > 1)
    ok = (produce_error is None and flush_err == 0 and outq == 0 and not failures
          and delivered == args.count and missing == 0 and duplicated == 0)
    print(f"produce.py: {'OK' if ok else 'FAILED'}: {args.count} messages to {args.topic} with "
          f"{path} (version {lib.rd_kafka_version_str().decode()}): {delivered} delivered, "
          f"{len(failures)} failed, {missing} without report, {duplicated} reported twice, "
          f"{queue_full} queue-full retries, flush {lib.rd_kafka_err2str(flush_err).decode()}, "
          f"outq {outq}, {elapsed:.2f} s")
    if produce_error:
        print(f"produce.py: produce failed at {produce_error}", file=sys.stderr)
    for n, text in failures[:10]:
        print(f"produce.py: delivery of message {n} failed: {text}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
