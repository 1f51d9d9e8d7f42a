/*
 * rdkafka.h - kprod's C API, a drop-in for the producer side of librdkafka.
 *
 * Programs written against librdkafka 2.12.1 compile against this header
 * and link against kprod's C library (built from kprod's ffi/ crate).
 * Names, signatures, enum values and public struct layouts follow
 * librdkafka, so existing code and object files keep working; the code
 * behind them is kprod, a pure-Rust Kafka producer.
 *
 * What works: the producer. Configuration objects and properties, client
 * and topic handles, produce()/producev()/produceva()/produce_batch(),
 * delivery reports via poll()/flush(), purge, headers, partition lists,
 * the built-in partitioners, error objects and error-code tables, fatal
 * errors, idempotence and transactions (send_offsets_to_transaction
 * included).
 *
 * What does not: the consumer, queues, events, metadata and offset
 * queries. Those functions exist (see the "STUB" sections) only so that
 * librdkafka's sample programs compile and link. They do nothing and
 * return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, NULL or -1 as their return
 * type allows (exceptions are noted where declared).
 *
 * Everything librdkafka declares that is not listed here (admin API,
 * interceptors, plugins, mock cluster, SASL/SSL callbacks, ...) is absent.
 */

/* Same guard as librdkafka's own header: a program gets one or the other. */
#ifndef _RDKAFKA_H_
#define _RDKAFKA_H_

#include <stdio.h>
#include <inttypes.h>
#include <sys/types.h>
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Portability macros (spelled like librdkafka's so that its internal
 * headers may redefine them identically).
 * ------------------------------------------------------------------- */
#define RD_EXPORT
#define RD_INLINE inline
#if defined(__GNUC__) || defined(__clang__)
#define RD_UNUSED __attribute__((unused))
#define RD_DEPRECATED __attribute__((deprecated))
#define RD_FORMAT(...) __attribute__((format(__VA_ARGS__)))
#define RD_HAS_STATEMENT_EXPRESSIONS
#else
#define RD_UNUSED
#define RD_DEPRECATED
#define RD_FORMAT(...)
#endif

/* Compile-time argument type checks for the RD_KAFKA_V_*() macros: with
 * GCC/Clang each check is a statement expression that never runs but makes
 * the compiler diagnose a wrongly typed argument; it evaluates to RET.
 * Define LIBRDKAFKA_TYPECHECKS to 0 to turn them off. */
#ifndef LIBRDKAFKA_TYPECHECKS
#ifdef RD_HAS_STATEMENT_EXPRESSIONS
#define LIBRDKAFKA_TYPECHECKS 1
#else
#define LIBRDKAFKA_TYPECHECKS 0
#endif
#endif

#if LIBRDKAFKA_TYPECHECKS
#define _LRK_TYPECHECK(RET, TYPE, ARG)                                         \
        __extension__({                                                        \
                if (0) {                                                       \
                        TYPE _lrk_chk1 = (ARG);                                \
                        (void)_lrk_chk1;                                       \
                }                                                              \
                RET;                                                           \
        })
#define _LRK_TYPECHECK2(RET, TYPE, ARG, TYPE2, ARG2)                           \
        __extension__({                                                        \
                if (0) {                                                       \
                        TYPE _lrk_chk1  = (ARG);                               \
                        TYPE2 _lrk_chk2 = (ARG2);                              \
                        (void)_lrk_chk1;                                       \
                        (void)_lrk_chk2;                                       \
                }                                                              \
                RET;                                                           \
        })
#define _LRK_TYPECHECK3(RET, TYPE, ARG, TYPE2, ARG2, TYPE3, ARG3)              \
        __extension__({                                                        \
                if (0) {                                                       \
                        TYPE _lrk_chk1  = (ARG);                               \
                        TYPE2 _lrk_chk2 = (ARG2);                              \
                        TYPE3 _lrk_chk3 = (ARG3);                              \
                        (void)_lrk_chk1;                                       \
                        (void)_lrk_chk2;                                       \
                        (void)_lrk_chk3;                                       \
                }                                                              \
                RET;                                                           \
        })
#else
#define _LRK_TYPECHECK(RET, TYPE, ARG)                            (RET)
#define _LRK_TYPECHECK2(RET, TYPE, ARG, TYPE2, ARG2)              (RET)
#define _LRK_TYPECHECK3(RET, TYPE, ARG, TYPE2, ARG2, TYPE3, ARG3) (RET)
#endif

/* ---------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------- */
/* The librdkafka API level implemented: 2.12.1 (0xMMmmrrpp, pp=0xff final). */
#define RD_KAFKA_VERSION 0x020c01ff

/* Run-time API level (same encoding as RD_KAFKA_VERSION). */
RD_EXPORT int rd_kafka_version(void);
/* Run-time version as a string. */
RD_EXPORT const char *rd_kafka_version_str(void);

/* ---------------------------------------------------------------------
 * Basic types
 * ------------------------------------------------------------------- */
typedef enum rd_kafka_type_t {
        RD_KAFKA_PRODUCER, /* the only type kprod can create */
        RD_KAFKA_CONSUMER  /* rd_kafka_new() fails with this type */
} rd_kafka_type_t;

typedef enum rd_kafka_timestamp_type_t {
        RD_KAFKA_TIMESTAMP_NOT_AVAILABLE,
        RD_KAFKA_TIMESTAMP_CREATE_TIME,
        RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
} rd_kafka_timestamp_type_t;

/* Comma-separated list of the accepted `debug` property values. */
RD_EXPORT const char *rd_kafka_get_debug_contexts(void);

/* Compile-time copy of rd_kafka_get_debug_contexts(). */
#define RD_KAFKA_DEBUG_CONTEXTS                                                \
        "all,generic,broker,topic,metadata,feature,queue,msg,protocol,cgrp,"   \
        "security,fetch,interceptor,plugin,consumer,admin,eos,mock,assignor,"  \
        "conf"

/* Opaque handles (struct tags as in librdkafka). */
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_conf_s rd_kafka_topic_conf_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_op_s rd_kafka_event_t;
typedef struct rd_kafka_consumer_group_metadata_s
    rd_kafka_consumer_group_metadata_t;
typedef struct rd_kafka_error_s rd_kafka_error_t;
typedef struct rd_kafka_headers_s rd_kafka_headers_t;

/* ---------------------------------------------------------------------
 * Error codes. Negative codes are raised by the client itself, the others
 * are Kafka protocol error codes. rd_kafka_err2str() describes each.
 * ------------------------------------------------------------------- */
typedef enum {
        /* Client-side codes, between the __BEGIN and __END markers. */
        RD_KAFKA_RESP_ERR__BEGIN = -200,
        RD_KAFKA_RESP_ERR__BAD_MSG = -199,
        RD_KAFKA_RESP_ERR__BAD_COMPRESSION = -198,
        RD_KAFKA_RESP_ERR__DESTROY = -197,
        RD_KAFKA_RESP_ERR__FAIL = -196,
        RD_KAFKA_RESP_ERR__TRANSPORT = -195,
        RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE = -194,
        RD_KAFKA_RESP_ERR__RESOLVE = -193,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT = -192,
        RD_KAFKA_RESP_ERR__PARTITION_EOF = -191,
        RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION = -190,
        RD_KAFKA_RESP_ERR__FS = -189,
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC = -188,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN = -187,
        RD_KAFKA_RESP_ERR__INVALID_ARG = -186,
        RD_KAFKA_RESP_ERR__TIMED_OUT = -185,
        RD_KAFKA_RESP_ERR__QUEUE_FULL = -184,
        RD_KAFKA_RESP_ERR__ISR_INSUFF = -183,
        RD_KAFKA_RESP_ERR__NODE_UPDATE = -182,
        RD_KAFKA_RESP_ERR__SSL = -181,
        RD_KAFKA_RESP_ERR__WAIT_COORD = -180,
        RD_KAFKA_RESP_ERR__UNKNOWN_GROUP = -179,
        RD_KAFKA_RESP_ERR__IN_PROGRESS = -178,
        RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS = -177,
        RD_KAFKA_RESP_ERR__EXISTING_SUBSCRIPTION = -176,
        RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS = -175,
        RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS = -174,
        RD_KAFKA_RESP_ERR__CONFLICT = -173,
        RD_KAFKA_RESP_ERR__STATE = -172,
        RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL = -171,
        RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED = -170,
        RD_KAFKA_RESP_ERR__AUTHENTICATION = -169,
        RD_KAFKA_RESP_ERR__NO_OFFSET = -168,
        RD_KAFKA_RESP_ERR__OUTDATED = -167,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE = -166,
        RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE = -165,
        RD_KAFKA_RESP_ERR__WAIT_CACHE = -164,
        RD_KAFKA_RESP_ERR__INTR = -163,
        RD_KAFKA_RESP_ERR__KEY_SERIALIZATION = -162,
        RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION = -161,
        RD_KAFKA_RESP_ERR__KEY_DESERIALIZATION = -160,
        RD_KAFKA_RESP_ERR__VALUE_DESERIALIZATION = -159,
        RD_KAFKA_RESP_ERR__PARTIAL = -158,
        RD_KAFKA_RESP_ERR__READ_ONLY = -157,
        RD_KAFKA_RESP_ERR__NOENT = -156,
        RD_KAFKA_RESP_ERR__UNDERFLOW = -155,
        RD_KAFKA_RESP_ERR__INVALID_TYPE = -154,
        RD_KAFKA_RESP_ERR__RETRY = -153,
        RD_KAFKA_RESP_ERR__PURGE_QUEUE = -152,
        RD_KAFKA_RESP_ERR__PURGE_INFLIGHT = -151,
        RD_KAFKA_RESP_ERR__FATAL = -150,
        RD_KAFKA_RESP_ERR__INCONSISTENT = -149,
        RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE = -148,
        RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED = -147,
        RD_KAFKA_RESP_ERR__UNKNOWN_BROKER = -146,
        RD_KAFKA_RESP_ERR__NOT_CONFIGURED = -145,
        RD_KAFKA_RESP_ERR__FENCED = -144,
        RD_KAFKA_RESP_ERR__APPLICATION = -143,
        RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST = -142,
        RD_KAFKA_RESP_ERR__NOOP = -141,
        RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET = -140,
        RD_KAFKA_RESP_ERR__LOG_TRUNCATION = -139,
        RD_KAFKA_RESP_ERR__INVALID_DIFFERENT_RECORD = -138,
        RD_KAFKA_RESP_ERR__DESTROY_BROKER = -137,
        RD_KAFKA_RESP_ERR__END = -100,

        /* Kafka protocol error codes, as returned by brokers. */
        RD_KAFKA_RESP_ERR_UNKNOWN = -1,
        RD_KAFKA_RESP_ERR_NO_ERROR = 0,
        RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE = 1,
        RD_KAFKA_RESP_ERR_INVALID_MSG = 2,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART = 3,
        RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE = 4,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE = 5,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION = 6,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT = 7,
        RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE = 8,
        RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE = 9,
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE = 10,
        RD_KAFKA_RESP_ERR_STALE_CTRL_EPOCH = 11,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE = 12,
        RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION = 13,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE = 15,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR = 16,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION = 17,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE = 18,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS = 19,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
        RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS = 21,
        RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION = 22,
        RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
        RD_KAFKA_RESP_ERR_INVALID_GROUP_ID = 24,
        RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID = 25,
        RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT = 26,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS = 27,
        RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
        RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED = 30,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
        RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP = 32,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
        RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE = 34,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION = 35,
        RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS = 36,
        RD_KAFKA_RESP_ERR_INVALID_PARTITIONS = 37,
        RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR = 38,
        RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
        RD_KAFKA_RESP_ERR_INVALID_CONFIG = 40,
        RD_KAFKA_RESP_ERR_NOT_CONTROLLER = 41,
        RD_KAFKA_RESP_ERR_INVALID_REQUEST = 42,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
        RD_KAFKA_RESP_ERR_POLICY_VIOLATION = 44,
        RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
        RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
        RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH = 47,
        RD_KAFKA_RESP_ERR_INVALID_TXN_STATE = 48,
        RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
        RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
        RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS = 51,
        RD_KAFKA_RESP_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
        RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
        RD_KAFKA_RESP_ERR_SECURITY_DISABLED = 54,
        RD_KAFKA_RESP_ERR_OPERATION_NOT_ATTEMPTED = 55,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR = 56,
        RD_KAFKA_RESP_ERR_LOG_DIR_NOT_FOUND = 57,
        RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED = 58,
        RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID = 59,
        RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS = 60,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTH_DISABLED = 61,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_NOT_FOUND = 62,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH = 63,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65,
        RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_EXPIRED = 66,
        RD_KAFKA_RESP_ERR_INVALID_PRINCIPAL_TYPE = 67,
        RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP = 68,
        RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND = 69,
        RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
        RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
        RD_KAFKA_RESP_ERR_LISTENER_NOT_FOUND = 72,
        RD_KAFKA_RESP_ERR_TOPIC_DELETION_DISABLED = 73,
        RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH = 74,
        RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH = 75,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
        RD_KAFKA_RESP_ERR_STALE_BROKER_EPOCH = 77,
        RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE = 78,
        RD_KAFKA_RESP_ERR_MEMBER_ID_REQUIRED = 79,
        RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
        RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED = 81,
        RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID = 82,
        RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
        RD_KAFKA_RESP_ERR_ELECTION_NOT_NEEDED = 84,
        RD_KAFKA_RESP_ERR_NO_REASSIGNMENT_IN_PROGRESS = 85,
        RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
        RD_KAFKA_RESP_ERR_INVALID_RECORD = 87,
        RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT = 88,
        RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
        RD_KAFKA_RESP_ERR_PRODUCER_FENCED = 90,
        RD_KAFKA_RESP_ERR_RESOURCE_NOT_FOUND = 91,
        RD_KAFKA_RESP_ERR_DUPLICATE_RESOURCE = 92,
        RD_KAFKA_RESP_ERR_UNACCEPTABLE_CREDENTIAL = 93,
        RD_KAFKA_RESP_ERR_INCONSISTENT_VOTER_SET = 94,
        RD_KAFKA_RESP_ERR_INVALID_UPDATE_VERSION = 95,
        RD_KAFKA_RESP_ERR_FEATURE_UPDATE_FAILED = 96,
        RD_KAFKA_RESP_ERR_PRINCIPAL_DESERIALIZATION_FAILURE = 97,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_ID = 100,
        RD_KAFKA_RESP_ERR_FENCED_MEMBER_EPOCH = 110,
        RD_KAFKA_RESP_ERR_UNRELEASED_INSTANCE_ID = 111,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_ASSIGNOR = 112,
        RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH = 113,
        RD_KAFKA_RESP_ERR_UNKNOWN_SUBSCRIPTION_ID = 117,
        RD_KAFKA_RESP_ERR_TELEMETRY_TOO_LARGE = 118,
        RD_KAFKA_RESP_ERR_REBOOTSTRAP_REQUIRED = 129,

        /* One past the highest code; not an error. */
        RD_KAFKA_RESP_ERR_END_ALL
} rd_kafka_resp_err_t;

/* Older names kept by librdkafka for renamed codes. */
#define RD_KAFKA_RESP_ERR_NOT_LEADER_OR_FOLLOWER                               \
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
#define RD_KAFKA_RESP_ERR_GROUP_LOAD_IN_PROGRESS                               \
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS
#define RD_KAFKA_RESP_ERR_GROUP_COORDINATOR_NOT_AVAILABLE                      \
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE
#define RD_KAFKA_RESP_ERR_NOT_COORDINATOR_FOR_GROUP                            \
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR

/* One row of the table returned by rd_kafka_get_err_descs(). */
struct rd_kafka_err_desc {
        rd_kafka_resp_err_t code; /* the code */
        const char *name;         /* enum name minus "RD_KAFKA_RESP_ERR_" */
        const char *desc;         /* text, as rd_kafka_err2str() gives it */
};

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */
/* The whole code table (static storage; do not free). */
RD_EXPORT void rd_kafka_get_err_descs(const struct rd_kafka_err_desc **errdescs,
                                      size_t *cntp);
/* Human-readable description of a code (static storage). */
RD_EXPORT const char *rd_kafka_err2str(rd_kafka_resp_err_t err);
/* Symbolic name of a code, e.g. "_QUEUE_FULL" (static storage). */
RD_EXPORT const char *rd_kafka_err2name(rd_kafka_resp_err_t err);
/* Code set by the last failing legacy call on this thread. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_last_error(void);
/* Maps an errno value from the legacy API to a code. */
RD_EXPORT RD_DEPRECATED rd_kafka_resp_err_t rd_kafka_errno2err(int errnox);
/* errno as the last failing legacy call on this thread left it. */
RD_EXPORT RD_DEPRECATED int rd_kafka_errno(void);
/* The instance's fatal error (NO_ERROR if none); copies its text to errstr. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_fatal_error(rd_kafka_t *rk, char *errstr, size_t errstr_size);
/* Raises a fatal error on purpose, for testing applications. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_test_fatal_error(rd_kafka_t *rk,
                                                        rd_kafka_resp_err_t err,
                                                        const char *reason);

/* Error objects (returned by the transactional and some newer calls). */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_error_code(const rd_kafka_error_t *error);
RD_EXPORT const char *rd_kafka_error_name(const rd_kafka_error_t *error);
RD_EXPORT const char *rd_kafka_error_string(const rd_kafka_error_t *error);
RD_EXPORT int rd_kafka_error_is_fatal(const rd_kafka_error_t *error);
RD_EXPORT int rd_kafka_error_is_retriable(const rd_kafka_error_t *error);
RD_EXPORT int rd_kafka_error_txn_requires_abort(const rd_kafka_error_t *error);
RD_EXPORT void rd_kafka_error_destroy(rd_kafka_error_t *error);
/* New error object with a printf-formatted message (fmt may be NULL). */
RD_EXPORT rd_kafka_error_t *rd_kafka_error_new(rd_kafka_resp_err_t code,
                                               const char *fmt,
                                               ...) RD_FORMAT(printf, 2, 3);

/* ---------------------------------------------------------------------
 * Topic+partition lists
 * ------------------------------------------------------------------- */
typedef struct rd_kafka_topic_partition_s {
        char *topic;             /* topic name */
        int32_t partition;       /* partition number */
        int64_t offset;          /* offset (or RD_KAFKA_OFFSET_*) */
        void *metadata;          /* commit metadata */
        size_t metadata_size;    /* its length */
        void *opaque;            /* free for the application */
        rd_kafka_resp_err_t err; /* per-partition result */
        void *_private;          /* library-owned: keep zeroed, never copy */
} rd_kafka_topic_partition_t;

typedef struct rd_kafka_topic_partition_list_s {
        int cnt;                           /* elements in use */
        int size;                          /* elements allocated */
        rd_kafka_topic_partition_t *elems; /* the array */
} rd_kafka_topic_partition_list_t;

RD_EXPORT rd_kafka_topic_partition_list_t *
rd_kafka_topic_partition_list_new(int size);
RD_EXPORT void rd_kafka_topic_partition_list_destroy(
    rd_kafka_topic_partition_list_t *rkparlist);
RD_EXPORT rd_kafka_topic_partition_t *
rd_kafka_topic_partition_list_add(rd_kafka_topic_partition_list_t *rktparlist,
                                  const char *topic,
                                  int32_t partition);
/* Adds partitions start..stop, both included. */
RD_EXPORT void rd_kafka_topic_partition_list_add_range(
    rd_kafka_topic_partition_list_t *rktparlist,
    const char *topic,
    int32_t start,
    int32_t stop);
/* Returns 1 if the element was found and removed, else 0. */
RD_EXPORT int rd_kafka_topic_partition_list_del(
    rd_kafka_topic_partition_list_t *rktparlist,
    const char *topic,
    int32_t partition);
RD_EXPORT rd_kafka_topic_partition_list_t *
rd_kafka_topic_partition_list_copy(const rd_kafka_topic_partition_list_t *src);
RD_EXPORT rd_kafka_resp_err_t rd_kafka_topic_partition_list_set_offset(
    rd_kafka_topic_partition_list_t *rktparlist,
    const char *topic,
    int32_t partition,
    int64_t offset);
RD_EXPORT rd_kafka_topic_partition_t *rd_kafka_topic_partition_list_find(
    const rd_kafka_topic_partition_list_t *rktparlist,
    const char *topic,
    int32_t partition);

/* ---------------------------------------------------------------------
 * Var-arg / array produce arguments
 * ------------------------------------------------------------------- */
typedef enum rd_kafka_vtype_t {
        RD_KAFKA_VTYPE_END,       /* (none): terminates the list */
        RD_KAFKA_VTYPE_TOPIC,     /* (const char *) topic name */
        RD_KAFKA_VTYPE_RKT,       /* (rd_kafka_topic_t *) topic handle */
        RD_KAFKA_VTYPE_PARTITION, /* (int32_t) partition */
        RD_KAFKA_VTYPE_VALUE,     /* (void *, size_t) payload */
        RD_KAFKA_VTYPE_KEY,       /* (void *, size_t) key */
        RD_KAFKA_VTYPE_OPAQUE,    /* (void *) per-message opaque */
        RD_KAFKA_VTYPE_MSGFLAGS,  /* (int) RD_KAFKA_MSG_F_* */
        RD_KAFKA_VTYPE_TIMESTAMP, /* (int64_t) ms since the epoch */
        RD_KAFKA_VTYPE_HEADER,    /* (const char *, const void *, ssize_t) */
        RD_KAFKA_VTYPE_HEADERS    /* (rd_kafka_headers_t *) taken over */
} rd_kafka_vtype_t;

/* One argument for rd_kafka_produceva(). */
typedef struct rd_kafka_vu_s {
        rd_kafka_vtype_t vtype; /* which member of u is set */
        union {
                const char *cstr;
                rd_kafka_topic_t *rkt;
                int i;
                int32_t i32;
                int64_t i64;
                struct {
                        void *ptr;
                        size_t size;
                } mem;
                struct {
                        const char *name;
                        const void *val;
                        ssize_t size;
                } header;
                rd_kafka_headers_t *headers;
                void *ptr;
                char _pad[64]; /* reserved: fixes the union's size */
        } u;
} rd_kafka_vu_t;

/* Arguments for rd_kafka_producev(): each expands to its vtype followed by
 * the (cast) values; the list must end with RD_KAFKA_V_END. */
#define RD_KAFKA_V_END RD_KAFKA_VTYPE_END
#define RD_KAFKA_V_TOPIC(topic)                                                \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_TOPIC, const char *, topic),             \
            (const char *)topic
#define RD_KAFKA_V_RKT(rkt)                                                    \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_RKT, rd_kafka_topic_t *, rkt),           \
            (rd_kafka_topic_t *)rkt
#define RD_KAFKA_V_PARTITION(partition)                                        \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_PARTITION, int32_t, partition),          \
            (int32_t)partition
#define RD_KAFKA_V_VALUE(VALUE, LEN)                                           \
        _LRK_TYPECHECK2(RD_KAFKA_VTYPE_VALUE, void *, VALUE, size_t, LEN),     \
            (void *)VALUE, (size_t)LEN
#define RD_KAFKA_V_KEY(KEY, LEN)                                               \
        _LRK_TYPECHECK2(RD_KAFKA_VTYPE_KEY, const void *, KEY, size_t, LEN),   \
            (void *)KEY, (size_t)LEN
#define RD_KAFKA_V_OPAQUE(msg_opaque)                                          \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_OPAQUE, void *, msg_opaque),             \
            (void *)msg_opaque
#define RD_KAFKA_V_MSGFLAGS(msgflags)                                          \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_MSGFLAGS, int, msgflags), (int)msgflags
#define RD_KAFKA_V_TIMESTAMP(timestamp)                                        \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_TIMESTAMP, int64_t, timestamp),          \
            (int64_t)timestamp
#define RD_KAFKA_V_HEADER(NAME, VALUE, LEN)                                    \
        _LRK_TYPECHECK3(RD_KAFKA_VTYPE_HEADER, const char *, NAME,             \
                        const void *, VALUE, ssize_t, LEN),                    \
            (const char *)NAME, (const void *)VALUE, (ssize_t)LEN
#define RD_KAFKA_V_HEADERS(HDRS)                                               \
        _LRK_TYPECHECK(RD_KAFKA_VTYPE_HEADERS, rd_kafka_headers_t *, HDRS),    \
            (rd_kafka_headers_t *)HDRS

/* ---------------------------------------------------------------------
 * Message headers. A size of -1 means "NUL-terminated string".
 * ------------------------------------------------------------------- */
RD_EXPORT rd_kafka_headers_t *rd_kafka_headers_new(size_t initial_count);
RD_EXPORT void rd_kafka_headers_destroy(rd_kafka_headers_t *hdrs);
RD_EXPORT rd_kafka_headers_t *
rd_kafka_headers_copy(const rd_kafka_headers_t *src);
RD_EXPORT rd_kafka_resp_err_t rd_kafka_header_add(rd_kafka_headers_t *hdrs,
                                                  const char *name,
                                                  ssize_t name_size,
                                                  const void *value,
                                                  ssize_t value_size);
/* Removes every header called name. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_header_remove(rd_kafka_headers_t *hdrs,
                                                     const char *name);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_header_get_last(const rd_kafka_headers_t *hdrs,
                         const char *name,
                         const void **valuep,
                         size_t *sizep);
/* The idx'th header called name. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_header_get(const rd_kafka_headers_t *hdrs,
                    size_t idx,
                    const char *name,
                    const void **valuep,
                    size_t *sizep);
/* The idx'th header, whatever its name. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_header_get_all(const rd_kafka_headers_t *hdrs,
                        size_t idx,
                        const char **namep,
                        const void **valuep,
                        size_t *sizep);
RD_EXPORT size_t rd_kafka_header_cnt(const rd_kafka_headers_t *hdrs);

/* ---------------------------------------------------------------------
 * Messages (delivery reports; consumed messages never occur)
 * ------------------------------------------------------------------- */
typedef struct rd_kafka_message_s {
        rd_kafka_resp_err_t err; /* delivery result */
        rd_kafka_topic_t *rkt;   /* topic */
        int32_t partition;       /* partition */
        void *payload;           /* value (NULL for a null value) */
        size_t len;              /* value length */
        void *key;               /* key (NULL for a null key) */
        size_t key_len;          /* key length */
        int64_t offset;          /* offset in the partition, if known */
        void *_private;          /* delivery reports: the msg_opaque */
} rd_kafka_message_t;

typedef enum {
        RD_KAFKA_MSG_STATUS_NOT_PERSISTED      = 0, /* surely not written */
        RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED = 1, /* outcome unknown */
        RD_KAFKA_MSG_STATUS_PERSISTED          = 2  /* acknowledged */
} rd_kafka_msg_status_t;

RD_EXPORT void rd_kafka_message_destroy(rd_kafka_message_t *rkmessage);
/* Text for rkmessage->err, or NULL when there is no error. */
RD_EXPORT const char *rd_kafka_message_errstr(const rd_kafka_message_t *rkmessage);
RD_EXPORT const char *
rd_kafka_message_produce_errstr(const rd_kafka_message_t *rkmessage);
/* Timestamp in ms (-1 if none); its kind goes to *tstype if non-NULL. */
RD_EXPORT int64_t rd_kafka_message_timestamp(const rd_kafka_message_t *rkmessage,
                                             rd_kafka_timestamp_type_t *tstype);
/* Microseconds from produce call to acknowledgement (-1 if unknown). */
RD_EXPORT int64_t rd_kafka_message_latency(const rd_kafka_message_t *rkmessage);
RD_EXPORT int32_t rd_kafka_message_broker_id(const rd_kafka_message_t *rkmessage);
RD_EXPORT int32_t
rd_kafka_message_leader_epoch(const rd_kafka_message_t *rkmessage);
RD_EXPORT rd_kafka_msg_status_t
rd_kafka_message_status(const rd_kafka_message_t *rkmessage);
/* Headers still owned by the message. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_message_headers(const rd_kafka_message_t *rkmessage,
                         rd_kafka_headers_t **hdrsp);
/* Headers handed over to the caller. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_message_detach_headers(rd_kafka_message_t *rkmessage,
                                rd_kafka_headers_t **hdrsp);
/* Replaces the message's headers; the message takes hdrs over. */
RD_EXPORT void rd_kafka_message_set_headers(rd_kafka_message_t *rkmessage,
                                            rd_kafka_headers_t *hdrs);

/* ---------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------- */
typedef enum {
        RD_KAFKA_CONF_UNKNOWN = -2, /* no such property */
        RD_KAFKA_CONF_INVALID = -1, /* bad value */
        RD_KAFKA_CONF_OK      = 0   /* set */
} rd_kafka_conf_res_t;

/* Event types for rd_kafka_conf_set_events(). */
typedef int rd_kafka_event_type_t;
#define RD_KAFKA_EVENT_NONE                      0x0
#define RD_KAFKA_EVENT_DR                        0x1
#define RD_KAFKA_EVENT_FETCH                     0x2
#define RD_KAFKA_EVENT_LOG                       0x4
#define RD_KAFKA_EVENT_ERROR                     0x8
#define RD_KAFKA_EVENT_REBALANCE                 0x10
#define RD_KAFKA_EVENT_OFFSET_COMMIT             0x20
#define RD_KAFKA_EVENT_STATS                     0x40
#define RD_KAFKA_EVENT_OAUTHBEARER_TOKEN_REFRESH 0x100
#define RD_KAFKA_EVENT_BACKGROUND                0x200

RD_EXPORT rd_kafka_conf_t *rd_kafka_conf_new(void);
RD_EXPORT void rd_kafka_conf_destroy(rd_kafka_conf_t *conf);
RD_EXPORT rd_kafka_conf_t *rd_kafka_conf_dup(const rd_kafka_conf_t *conf);
/* Copy without the properties whose names start with one of filter[]. */
RD_EXPORT rd_kafka_conf_t *rd_kafka_conf_dup_filter(const rd_kafka_conf_t *conf,
                                                    size_t filter_cnt,
                                                    const char **filter);
/* Sets a property; on failure writes the reason to errstr. */
RD_EXPORT rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf,
                                                const char *name,
                                                const char *value,
                                                char *errstr,
                                                size_t errstr_size);
/* Copies a property's value to dest, or its needed size to *dest_size. */
RD_EXPORT rd_kafka_conf_res_t rd_kafka_conf_get(const rd_kafka_conf_t *conf,
                                                const char *name,
                                                char *dest,
                                                size_t *dest_size);
/* Name/value pairs: arr[2i] names, arr[2i+1] values, *cntp = 2 * pairs. */
RD_EXPORT const char **rd_kafka_conf_dump(rd_kafka_conf_t *conf, size_t *cntp);
RD_EXPORT void rd_kafka_conf_dump_free(const char **arr, size_t cnt);
/* Prints the supported properties to fp. */
RD_EXPORT void rd_kafka_conf_properties_show(FILE *fp);
RD_EXPORT void rd_kafka_conf_set_opaque(rd_kafka_conf_t *conf, void *opaque);
/* The opaque given to rd_kafka_conf_set_opaque(). */
RD_EXPORT void *rd_kafka_opaque(const rd_kafka_t *rk);
/* Takes tconf over; it becomes the default for topics. */
RD_EXPORT void rd_kafka_conf_set_default_topic_conf(rd_kafka_conf_t *conf,
                                                    rd_kafka_topic_conf_t *tconf);
/* The default topic configuration (still owned by conf), or NULL. */
RD_EXPORT rd_kafka_topic_conf_t *
rd_kafka_conf_get_default_topic_conf(rd_kafka_conf_t *conf);
/* Only RD_KAFKA_EVENT_NONE is meaningful (events are a stub). */
RD_EXPORT void rd_kafka_conf_set_events(rd_kafka_conf_t *conf, int events);

/* Callbacks, served from rd_kafka_poll()/rd_kafka_flush(). */
RD_EXPORT void rd_kafka_conf_set_dr_cb(rd_kafka_conf_t *conf,
                                       void (*dr_cb)(rd_kafka_t *rk,
                                                     void *payload,
                                                     size_t len,
                                                     rd_kafka_resp_err_t err,
                                                     void *opaque,
                                                     void *msg_opaque));
RD_EXPORT void rd_kafka_conf_set_dr_msg_cb(
    rd_kafka_conf_t *conf,
    void (*dr_msg_cb)(rd_kafka_t *rk,
                      const rd_kafka_message_t *rkmessage,
                      void *opaque));
RD_EXPORT void rd_kafka_conf_set_error_cb(rd_kafka_conf_t *conf,
                                          void (*error_cb)(rd_kafka_t *rk,
                                                           int err,
                                                           const char *reason,
                                                           void *opaque));
RD_EXPORT void
rd_kafka_conf_set_throttle_cb(rd_kafka_conf_t *conf,
                              void (*throttle_cb)(rd_kafka_t *rk,
                                                  const char *broker_name,
                                                  int32_t broker_id,
                                                  int throttle_time_ms,
                                                  void *opaque));
/* Called from any thread. */
RD_EXPORT void rd_kafka_conf_set_log_cb(rd_kafka_conf_t *conf,
                                        void (*log_cb)(const rd_kafka_t *rk,
                                                       int level,
                                                       const char *fac,
                                                       const char *buf));
/* Return 0 from stats_cb: the library frees json afterwards. */
RD_EXPORT void rd_kafka_conf_set_stats_cb(
    rd_kafka_conf_t *conf,
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t json_len, void *opaque));
RD_EXPORT void rd_kafka_conf_set_oauthbearer_token_refresh_cb(
    rd_kafka_conf_t *conf,
    void (*oauthbearer_token_refresh_cb)(rd_kafka_t *rk,
                                         const char *oauthbearer_config,
                                         void *opaque));
/* Accepted but never called (no background queue). */
RD_EXPORT void rd_kafka_conf_set_background_event_cb(
    rd_kafka_conf_t *conf,
    void (*event_cb)(rd_kafka_t *rk, rd_kafka_event_t *rkev, void *opaque));
/* Consumer callbacks: accepted and stored, never called. */
RD_EXPORT void rd_kafka_conf_set_offset_commit_cb(
    rd_kafka_conf_t *conf,
    void (*offset_commit_cb)(rd_kafka_t *rk,
                             rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *offsets,
                             void *opaque));
RD_EXPORT void rd_kafka_conf_set_rebalance_cb(
    rd_kafka_conf_t *conf,
    void (*rebalance_cb)(rd_kafka_t *rk,
                         rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions,
                         void *opaque));
RD_EXPORT void rd_kafka_conf_set_consume_cb(
    rd_kafka_conf_t *conf,
    void (*consume_cb)(rd_kafka_message_t *rkmessage, void *opaque));

/* OAUTHBEARER: hand a token (or a failure) to the client, typically from
 * the refresh callback. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_oauthbearer_set_token(rd_kafka_t *rk,
                               const char *token_value,
                               int64_t md_lifetime_ms,
                               const char *md_principal_name,
                               const char **extensions,
                               size_t extension_size,
                               char *errstr,
                               size_t errstr_size);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_oauthbearer_set_token_failure(rd_kafka_t *rk, const char *errstr);

/* Topic configuration. */
RD_EXPORT rd_kafka_topic_conf_t *rd_kafka_topic_conf_new(void);
RD_EXPORT rd_kafka_topic_conf_t *
rd_kafka_topic_conf_dup(const rd_kafka_topic_conf_t *conf);
/* Copy of the instance's default topic configuration. */
RD_EXPORT rd_kafka_topic_conf_t *rd_kafka_default_topic_conf_dup(rd_kafka_t *rk);
RD_EXPORT void rd_kafka_topic_conf_destroy(rd_kafka_topic_conf_t *topic_conf);
RD_EXPORT rd_kafka_conf_res_t rd_kafka_topic_conf_set(rd_kafka_topic_conf_t *conf,
                                                      const char *name,
                                                      const char *value,
                                                      char *errstr,
                                                      size_t errstr_size);
RD_EXPORT rd_kafka_conf_res_t
rd_kafka_topic_conf_get(const rd_kafka_topic_conf_t *conf,
                        const char *name,
                        char *dest,
                        size_t *dest_size);
/* Same format as rd_kafka_conf_dump(); free with rd_kafka_conf_dump_free(). */
RD_EXPORT const char **rd_kafka_topic_conf_dump(rd_kafka_topic_conf_t *conf,
                                                size_t *cntp);
RD_EXPORT void rd_kafka_topic_conf_set_opaque(rd_kafka_topic_conf_t *conf,
                                              void *rkt_opaque);
/* Custom partitioner; it may only call rd_kafka_topic_partition_available(). */
RD_EXPORT void rd_kafka_topic_conf_set_partitioner_cb(
    rd_kafka_topic_conf_t *topic_conf,
    int32_t (*partitioner)(const rd_kafka_topic_t *rkt,
                           const void *keydata,
                           size_t keylen,
                           int32_t partition_cnt,
                           void *rkt_opaque,
                           void *msg_opaque));

/* ---------------------------------------------------------------------
 * Partitioners (usable as partitioner_cb; each returns a partition)
 * ------------------------------------------------------------------- */
/* 1 if the partition currently has a leader, else 0. */
RD_EXPORT int rd_kafka_topic_partition_available(const rd_kafka_topic_t *rkt,
                                                 int32_t partition);
/* Random. */
RD_EXPORT int32_t rd_kafka_msg_partitioner_random(const rd_kafka_topic_t *rkt,
                                                  const void *key,
                                                  size_t keylen,
                                                  int32_t partition_cnt,
                                                  void *rkt_opaque,
                                                  void *msg_opaque);
/* CRC32 of the key. */
RD_EXPORT int32_t rd_kafka_msg_partitioner_consistent(const rd_kafka_topic_t *rkt,
                                                      const void *key,
                                                      size_t keylen,
                                                      int32_t partition_cnt,
                                                      void *rkt_opaque,
                                                      void *msg_opaque);
/* CRC32 of the key; random for an empty or NULL key. */
RD_EXPORT int32_t
rd_kafka_msg_partitioner_consistent_random(const rd_kafka_topic_t *rkt,
                                           const void *key,
                                           size_t keylen,
                                           int32_t partition_cnt,
                                           void *rkt_opaque,
                                           void *msg_opaque);
/* murmur2 of the key, as the Java client. */
RD_EXPORT int32_t rd_kafka_msg_partitioner_murmur2(const rd_kafka_topic_t *rkt,
                                                   const void *key,
                                                   size_t keylen,
                                                   int32_t partition_cnt,
                                                   void *rkt_opaque,
                                                   void *msg_opaque);
/* murmur2 of the key; random for a NULL key. */
RD_EXPORT int32_t
rd_kafka_msg_partitioner_murmur2_random(const rd_kafka_topic_t *rkt,
                                        const void *key,
                                        size_t keylen,
                                        int32_t partition_cnt,
                                        void *rkt_opaque,
                                        void *msg_opaque);
/* FNV-1a of the key. */
RD_EXPORT int32_t rd_kafka_msg_partitioner_fnv1a(const rd_kafka_topic_t *rkt,
                                                 const void *key,
                                                 size_t keylen,
                                                 int32_t partition_cnt,
                                                 void *rkt_opaque,
                                                 void *msg_opaque);
/* FNV-1a of the key; random for a NULL key. */
RD_EXPORT int32_t
rd_kafka_msg_partitioner_fnv1a_random(const rd_kafka_topic_t *rkt,
                                      const void *key,
                                      size_t keylen,
                                      int32_t partition_cnt,
                                      void *rkt_opaque,
                                      void *msg_opaque);

/* ---------------------------------------------------------------------
 * Client instance
 * ------------------------------------------------------------------- */
/* Creates a client; takes conf over on success only. NULL + errstr on error. */
RD_EXPORT rd_kafka_t *rd_kafka_new(rd_kafka_type_t type,
                                   rd_kafka_conf_t *conf,
                                   char *errstr,
                                   size_t errstr_size);
/* Frees the instance; call rd_kafka_flush() first to wait for deliveries. */
RD_EXPORT void rd_kafka_destroy(rd_kafka_t *rk);
RD_EXPORT void rd_kafka_destroy_flags(rd_kafka_t *rk, int flags);
/* Flag for rd_kafka_destroy_flags(): skip the consumer close (no-op here). */
#define RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE 0x8
/* The instance's name (client.id plus a per-process suffix). */
RD_EXPORT const char *rd_kafka_name(const rd_kafka_t *rk);
RD_EXPORT rd_kafka_type_t rd_kafka_type(const rd_kafka_t *rk);
/* Consumer group member id: always NULL for a producer. */
RD_EXPORT char *rd_kafka_memberid(const rd_kafka_t *rk);
/* Cluster id (free with rd_kafka_mem_free()), or NULL if not known in time. */
RD_EXPORT char *rd_kafka_clusterid(rd_kafka_t *rk, int timeout_ms);
/* Controller broker id, or -1 if not known in time. */
RD_EXPORT int32_t rd_kafka_controllerid(rd_kafka_t *rk, int timeout_ms);
/* Makes a blocking rd_kafka_poll()/rd_kafka_flush() return early. */
RD_EXPORT void rd_kafka_yield(rd_kafka_t *rk);
/* Waits for all instances to be gone: 0 when so, -1 on timeout. */
RD_EXPORT int rd_kafka_wait_destroyed(int timeout_ms);
/* Writes the instance's internal state to fp, for debugging. */
RD_EXPORT void rd_kafka_dump(FILE *fp, rd_kafka_t *rk);
/* Syslog-style level (0..7) for log output. */
RD_EXPORT void rd_kafka_set_log_level(rd_kafka_t *rk, int level);

/* Memory allocated by the library for the application, and vice versa. */
RD_EXPORT void *rd_kafka_mem_calloc(rd_kafka_t *rk, size_t num, size_t size);
RD_EXPORT void *rd_kafka_mem_malloc(rd_kafka_t *rk, size_t size);
RD_EXPORT void rd_kafka_mem_free(rd_kafka_t *rk, void *ptr);

/* ---------------------------------------------------------------------
 * Topics
 * ------------------------------------------------------------------- */
/* Takes conf (may be NULL) over; NULL on error (see rd_kafka_last_error()). */
RD_EXPORT rd_kafka_topic_t *rd_kafka_topic_new(rd_kafka_t *rk,
                                               const char *topic,
                                               rd_kafka_topic_conf_t *conf);
RD_EXPORT void rd_kafka_topic_destroy(rd_kafka_topic_t *rkt);
RD_EXPORT const char *rd_kafka_topic_name(const rd_kafka_topic_t *rkt);
RD_EXPORT void *rd_kafka_topic_opaque(const rd_kafka_topic_t *rkt);

/* "Unassigned": let the partitioner choose. */
#define RD_KAFKA_PARTITION_UA ((int32_t)-1)

/* Special offsets (meaningful to consumers; here for source compatibility). */
#define RD_KAFKA_OFFSET_BEGINNING -2
#define RD_KAFKA_OFFSET_END       -1
#define RD_KAFKA_OFFSET_STORED    -1000
#define RD_KAFKA_OFFSET_INVALID   -1001
#define RD_KAFKA_OFFSET_TAIL_BASE -2000
/* CNT messages before the end of the partition. */
#define RD_KAFKA_OFFSET_TAIL(CNT) (RD_KAFKA_OFFSET_TAIL_BASE - (CNT))

/* ---------------------------------------------------------------------
 * Producing
 * ------------------------------------------------------------------- */
/* msgflags for the produce calls. */
#define RD_KAFKA_MSG_F_FREE      0x1 /* library free()s the payload when done */
#define RD_KAFKA_MSG_F_COPY      0x2 /* library copies the payload */
#define RD_KAFKA_MSG_F_BLOCK     0x4 /* wait for room instead of _QUEUE_FULL */
#define RD_KAFKA_MSG_F_PARTITION 0x8 /* produce_batch: use each msg's partition */

/* Enqueues one message: 0 on success, -1 with rd_kafka_last_error() set. */
RD_EXPORT int rd_kafka_produce(rd_kafka_topic_t *rkt,
                               int32_t partition,
                               int msgflags,
                               void *payload,
                               size_t len,
                               const void *key,
                               size_t keylen,
                               void *msg_opaque);
/* Enqueues one message described by RD_KAFKA_V_*() arguments. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_producev(rd_kafka_t *rk, ...);
/* Like rd_kafka_producev() with an array; NULL on success. */
RD_EXPORT rd_kafka_error_t *
rd_kafka_produceva(rd_kafka_t *rk, const rd_kafka_vu_t *vus, size_t cnt);
/* Enqueues many messages; returns how many were accepted, sets each err. */
RD_EXPORT int rd_kafka_produce_batch(rd_kafka_topic_t *rkt,
                                     int32_t partition,
                                     int msgflags,
                                     rd_kafka_message_t *rkmessages,
                                     int message_cnt);
/* Serves callbacks for up to timeout_ms (-1: forever); returns events served. */
RD_EXPORT int rd_kafka_poll(rd_kafka_t *rk, int timeout_ms);
/* Waits for all outstanding messages; _TIMED_OUT if some remain. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_flush(rd_kafka_t *rk, int timeout_ms);
/* Fails queued and/or in-flight messages with _PURGE_QUEUE/_PURGE_INFLIGHT. */
RD_EXPORT rd_kafka_resp_err_t rd_kafka_purge(rd_kafka_t *rk, int purge_flags);
#define RD_KAFKA_PURGE_F_QUEUE        0x1 /* messages not yet sent */
#define RD_KAFKA_PURGE_F_INFLIGHT     0x2 /* messages awaiting a response */
#define RD_KAFKA_PURGE_F_NON_BLOCKING 0x4 /* do not wait for the purge */
/* Messages and requests not yet delivered or served. */
RD_EXPORT int rd_kafka_outq_len(rd_kafka_t *rk);

/* ---------------------------------------------------------------------
 * Transactions (requires transactional.id)
 * ------------------------------------------------------------------- */
RD_EXPORT rd_kafka_error_t *rd_kafka_init_transactions(rd_kafka_t *rk,
                                                       int timeout_ms);
RD_EXPORT rd_kafka_error_t *rd_kafka_begin_transaction(rd_kafka_t *rk);
RD_EXPORT rd_kafka_error_t *rd_kafka_send_offsets_to_transaction(
    rd_kafka_t *rk,
    const rd_kafka_topic_partition_list_t *offsets,
    const rd_kafka_consumer_group_metadata_t *cgmetadata,
    int timeout_ms);
RD_EXPORT rd_kafka_error_t *rd_kafka_commit_transaction(rd_kafka_t *rk,
                                                        int timeout_ms);
RD_EXPORT rd_kafka_error_t *rd_kafka_abort_transaction(rd_kafka_t *rk,
                                                       int timeout_ms);

/* Consumer group metadata for rd_kafka_send_offsets_to_transaction(). */
RD_EXPORT rd_kafka_consumer_group_metadata_t *
rd_kafka_consumer_group_metadata_new(const char *group_id);
RD_EXPORT rd_kafka_consumer_group_metadata_t *
rd_kafka_consumer_group_metadata_new_with_genid(const char *group_id,
                                                int32_t generation_id,
                                                const char *member_id,
                                                const char *group_instance_id);
RD_EXPORT void
rd_kafka_consumer_group_metadata_destroy(rd_kafka_consumer_group_metadata_t *);
/* The handle's group metadata: NULL (there is no consumer). */
RD_EXPORT rd_kafka_consumer_group_metadata_t *
rd_kafka_consumer_group_metadata(rd_kafka_t *rk);

/* =====================================================================
 * STUBS. Everything below is declared for source compatibility only:
 * error-returning calls give RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED (or an
 * error object with that code), pointer-returning ones NULL, int-returning
 * ones -1 (0 where noted), void ones do nothing.
 * =================================================================== */

/* STUB: high-level consumer. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_subscribe(rd_kafka_t *rk,
                   const rd_kafka_topic_partition_list_t *topics);
RD_EXPORT rd_kafka_resp_err_t rd_kafka_unsubscribe(rd_kafka_t *rk);
RD_EXPORT rd_kafka_message_t *rd_kafka_consumer_poll(rd_kafka_t *rk,
                                                     int timeout_ms);
RD_EXPORT rd_kafka_resp_err_t rd_kafka_consumer_close(rd_kafka_t *rk);
RD_EXPORT rd_kafka_resp_err_t rd_kafka_poll_set_consumer(rd_kafka_t *rk);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_assign(rd_kafka_t *rk,
                const rd_kafka_topic_partition_list_t *partitions);
RD_EXPORT rd_kafka_error_t *
rd_kafka_incremental_assign(rd_kafka_t *rk,
                            const rd_kafka_topic_partition_list_t *partitions);
RD_EXPORT rd_kafka_error_t *rd_kafka_incremental_unassign(
    rd_kafka_t *rk,
    const rd_kafka_topic_partition_list_t *partitions);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_assignment(rd_kafka_t *rk,
                    rd_kafka_topic_partition_list_t **partitions);
/* STUB: returns 0. */
RD_EXPORT int rd_kafka_assignment_lost(rd_kafka_t *rk);
/* STUB: returns NULL, as librdkafka does for a non-consumer. */
RD_EXPORT const char *rd_kafka_rebalance_protocol(rd_kafka_t *rk);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_committed(rd_kafka_t *rk,
                   rd_kafka_topic_partition_list_t *partitions,
                   int timeout_ms);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_position(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions);
RD_EXPORT rd_kafka_error_t *
rd_kafka_seek_partitions(rd_kafka_t *rk,
                         rd_kafka_topic_partition_list_t *partitions,
                         int timeout_ms);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_commit(rd_kafka_t *rk,
                const rd_kafka_topic_partition_list_t *offsets,
                int async);

/* STUB: legacy (simple) consumer. */
RD_EXPORT int rd_kafka_consume_start(rd_kafka_topic_t *rkt,
                                     int32_t partition,
                                     int64_t offset);
RD_EXPORT int rd_kafka_consume_start_queue(rd_kafka_topic_t *rkt,
                                           int32_t partition,
                                           int64_t offset,
                                           rd_kafka_queue_t *rkqu);
RD_EXPORT int rd_kafka_consume_stop(rd_kafka_topic_t *rkt, int32_t partition);
RD_EXPORT rd_kafka_message_t *
rd_kafka_consume(rd_kafka_topic_t *rkt, int32_t partition, int timeout_ms);
RD_EXPORT ssize_t rd_kafka_consume_batch(rd_kafka_topic_t *rkt,
                                         int32_t partition,
                                         int timeout_ms,
                                         rd_kafka_message_t **rkmessages,
                                         size_t rkmessages_size);
RD_EXPORT ssize_t rd_kafka_consume_batch_queue(rd_kafka_queue_t *rkqu,
                                               int timeout_ms,
                                               rd_kafka_message_t **rkmessages,
                                               size_t rkmessages_size);
RD_EXPORT int rd_kafka_consume_callback_queue(
    rd_kafka_queue_t *rkqu,
    int timeout_ms,
    void (*consume_cb)(rd_kafka_message_t *rkmessage, void *commit_opaque),
    void *commit_opaque);

/* STUB: queues and events. */
RD_EXPORT rd_kafka_queue_t *rd_kafka_queue_new(rd_kafka_t *rk);
RD_EXPORT void rd_kafka_queue_destroy(rd_kafka_queue_t *rkqu);
RD_EXPORT rd_kafka_queue_t *rd_kafka_queue_get_main(rd_kafka_t *rk);
RD_EXPORT rd_kafka_queue_t *rd_kafka_queue_get_consumer(rd_kafka_t *rk);
RD_EXPORT rd_kafka_event_t *rd_kafka_queue_poll(rd_kafka_queue_t *rkqu,
                                                int timeout_ms);
RD_EXPORT void rd_kafka_event_destroy(rd_kafka_event_t *rkev);
/* STUB: returns RD_KAFKA_EVENT_NONE. */
RD_EXPORT rd_kafka_event_type_t rd_kafka_event_type(const rd_kafka_event_t *rkev);

/* STUB: metadata. The structs have librdkafka's layouts. */
typedef struct rd_kafka_metadata_broker {
        int32_t id; /* broker id */
        char *host; /* host name */
        int port;   /* port */
} rd_kafka_metadata_broker_t;

typedef struct rd_kafka_metadata_partition {
        int32_t id;              /* partition */
        rd_kafka_resp_err_t err; /* partition error */
        int32_t leader;          /* leader broker id */
        int replica_cnt;         /* number of replicas */
        int32_t *replicas;       /* replica broker ids */
        int isr_cnt;             /* number of in-sync replicas */
        int32_t *isrs;           /* in-sync replica broker ids */
} rd_kafka_metadata_partition_t;

typedef struct rd_kafka_metadata_topic {
        char *topic;                                 /* topic name */
        int partition_cnt;                           /* number of partitions */
        struct rd_kafka_metadata_partition *partitions; /* the partitions */
        rd_kafka_resp_err_t err;                     /* topic error */
} rd_kafka_metadata_topic_t;

typedef struct rd_kafka_metadata {
        int broker_cnt;                          /* number of brokers */
        struct rd_kafka_metadata_broker *brokers; /* the brokers */
        int topic_cnt;                           /* number of topics */
        struct rd_kafka_metadata_topic *topics;  /* the topics */
        int32_t orig_broker_id;                  /* broker that answered */
        char *orig_broker_name;                  /* its name */
} rd_kafka_metadata_t;

RD_EXPORT rd_kafka_resp_err_t
rd_kafka_metadata(rd_kafka_t *rk,
                  int all_topics,
                  rd_kafka_topic_t *only_rkt,
                  const struct rd_kafka_metadata **metadatap,
                  int timeout_ms);
RD_EXPORT void rd_kafka_metadata_destroy(const struct rd_kafka_metadata *metadata);

/* STUB: offset queries. */
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_query_watermark_offsets(rd_kafka_t *rk,
                                 const char *topic,
                                 int32_t partition,
                                 int64_t *low,
                                 int64_t *high,
                                 int timeout_ms);
RD_EXPORT rd_kafka_resp_err_t
rd_kafka_offsets_for_times(rd_kafka_t *rk,
                           rd_kafka_topic_partition_list_t *offsets,
                           int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* _RDKAFKA_H_ */
