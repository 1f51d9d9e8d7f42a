//! rd_kafka_resp_err_t: librdkafka's error codes (values and names are librdkafka's; descriptions are ours).
//!
//! The constants mirror the `rd_kafka_resp_err_t` enum of `include/librdkafka/rdkafka.h` one for one
//! (a test checks that against the header itself). [`ERR_TABLE`] is what `rd_kafka_get_err_descs`,
//! `rd_kafka_err2name` and `rd_kafka_err2str` serve; [`lookup`] finds one code's row.

/// The C enum `rd_kafka_resp_err_t`: an `int` on every platform librdkafka supports.
#[allow(non_camel_case_types)]
pub type rd_kafka_resp_err_t = i32;

pub use self::codes::*;

/// One constant per enumerator of the C enum, with the same name and value.
#[allow(missing_docs)]
mod codes {
    use super::rd_kafka_resp_err_t;

    // Raised by the client itself: __BEGIN < code < __END.
    pub const RD_KAFKA_RESP_ERR__BEGIN: rd_kafka_resp_err_t = -200;
    pub const RD_KAFKA_RESP_ERR__BAD_MSG: rd_kafka_resp_err_t = -199;
    pub const RD_KAFKA_RESP_ERR__BAD_COMPRESSION: rd_kafka_resp_err_t = -198;
    pub const RD_KAFKA_RESP_ERR__DESTROY: rd_kafka_resp_err_t = -197;
    pub const RD_KAFKA_RESP_ERR__FAIL: rd_kafka_resp_err_t = -196;
    pub const RD_KAFKA_RESP_ERR__TRANSPORT: rd_kafka_resp_err_t = -195;
    pub const RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE: rd_kafka_resp_err_t = -194;
    pub const RD_KAFKA_RESP_ERR__RESOLVE: rd_kafka_resp_err_t = -193;
    pub const RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: rd_kafka_resp_err_t = -192;
    pub const RD_KAFKA_RESP_ERR__PARTITION_EOF: rd_kafka_resp_err_t = -191;
    pub const RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: rd_kafka_resp_err_t = -190;
    pub const RD_KAFKA_RESP_ERR__FS: rd_kafka_resp_err_t = -189;
    pub const RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC: rd_kafka_resp_err_t = -188;
    pub const RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: rd_kafka_resp_err_t = -187;
    pub const RD_KAFKA_RESP_ERR__INVALID_ARG: rd_kafka_resp_err_t = -186;
    pub const RD_KAFKA_RESP_ERR__TIMED_OUT: rd_kafka_resp_err_t = -185;
    pub const RD_KAFKA_RESP_ERR__QUEUE_FULL: rd_kafka_resp_err_t = -184;
    pub const RD_KAFKA_RESP_ERR__ISR_INSUFF: rd_kafka_resp_err_t = -183;
    pub const RD_KAFKA_RESP_ERR__NODE_UPDATE: rd_kafka_resp_err_t = -182;
    pub const RD_KAFKA_RESP_ERR__SSL: rd_kafka_resp_err_t = -181;
    pub const RD_KAFKA_RESP_ERR__WAIT_COORD: rd_kafka_resp_err_t = -180;
    pub const RD_KAFKA_RESP_ERR__UNKNOWN_GROUP: rd_kafka_resp_err_t = -179;
    pub const RD_KAFKA_RESP_ERR__IN_PROGRESS: rd_kafka_resp_err_t = -178;
    pub const RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS: rd_kafka_resp_err_t = -177;
    pub const RD_KAFKA_RESP_ERR__EXISTING_SUBSCRIPTION: rd_kafka_resp_err_t = -176;
    pub const RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: rd_kafka_resp_err_t = -175;
    pub const RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: rd_kafka_resp_err_t = -174;
    pub const RD_KAFKA_RESP_ERR__CONFLICT: rd_kafka_resp_err_t = -173;
    pub const RD_KAFKA_RESP_ERR__STATE: rd_kafka_resp_err_t = -172;
    pub const RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL: rd_kafka_resp_err_t = -171;
    pub const RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED: rd_kafka_resp_err_t = -170;
    pub const RD_KAFKA_RESP_ERR__AUTHENTICATION: rd_kafka_resp_err_t = -169;
    pub const RD_KAFKA_RESP_ERR__NO_OFFSET: rd_kafka_resp_err_t = -168;
    pub const RD_KAFKA_RESP_ERR__OUTDATED: rd_kafka_resp_err_t = -167;
    pub const RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE: rd_kafka_resp_err_t = -166;
    pub const RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE: rd_kafka_resp_err_t = -165;
    pub const RD_KAFKA_RESP_ERR__WAIT_CACHE: rd_kafka_resp_err_t = -164;
    pub const RD_KAFKA_RESP_ERR__INTR: rd_kafka_resp_err_t = -163;
    pub const RD_KAFKA_RESP_ERR__KEY_SERIALIZATION: rd_kafka_resp_err_t = -162;
    pub const RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION: rd_kafka_resp_err_t = -161;
    pub const RD_KAFKA_RESP_ERR__KEY_DESERIALIZATION: rd_kafka_resp_err_t = -160;
    pub const RD_KAFKA_RESP_ERR__VALUE_DESERIALIZATION: rd_kafka_resp_err_t = -159;
    pub const RD_KAFKA_RESP_ERR__PARTIAL: rd_kafka_resp_err_t = -158;
    pub const RD_KAFKA_RESP_ERR__READ_ONLY: rd_kafka_resp_err_t = -157;
    pub const RD_KAFKA_RESP_ERR__NOENT: rd_kafka_resp_err_t = -156;
    pub const RD_KAFKA_RESP_ERR__UNDERFLOW: rd_kafka_resp_err_t = -155;
    pub const RD_KAFKA_RESP_ERR__INVALID_TYPE: rd_kafka_resp_err_t = -154;
    pub const RD_KAFKA_RESP_ERR__RETRY: rd_kafka_resp_err_t = -153;
    pub const RD_KAFKA_RESP_ERR__PURGE_QUEUE: rd_kafka_resp_err_t = -152;
    pub const RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: rd_kafka_resp_err_t = -151;
    pub const RD_KAFKA_RESP_ERR__FATAL: rd_kafka_resp_err_t = -150;
    pub const RD_KAFKA_RESP_ERR__INCONSISTENT: rd_kafka_resp_err_t = -149;
    pub const RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE: rd_kafka_resp_err_t = -148;
    pub const RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED: rd_kafka_resp_err_t = -147;
    pub const RD_KAFKA_RESP_ERR__UNKNOWN_BROKER: rd_kafka_resp_err_t = -146;
    pub const RD_KAFKA_RESP_ERR__NOT_CONFIGURED: rd_kafka_resp_err_t = -145;
    pub const RD_KAFKA_RESP_ERR__FENCED: rd_kafka_resp_err_t = -144;
    pub const RD_KAFKA_RESP_ERR__APPLICATION: rd_kafka_resp_err_t = -143;
    pub const RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST: rd_kafka_resp_err_t = -142;
    pub const RD_KAFKA_RESP_ERR__NOOP: rd_kafka_resp_err_t = -141;
    pub const RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET: rd_kafka_resp_err_t = -140;
    pub const RD_KAFKA_RESP_ERR__LOG_TRUNCATION: rd_kafka_resp_err_t = -139;
    pub const RD_KAFKA_RESP_ERR__INVALID_DIFFERENT_RECORD: rd_kafka_resp_err_t = -138;
    pub const RD_KAFKA_RESP_ERR__DESTROY_BROKER: rd_kafka_resp_err_t = -137;
    pub const RD_KAFKA_RESP_ERR__END: rd_kafka_resp_err_t = -100;

    // Kafka protocol error codes, sent by brokers (UNKNOWN is the protocol's -1).
    pub const RD_KAFKA_RESP_ERR_UNKNOWN: rd_kafka_resp_err_t = -1;
    pub const RD_KAFKA_RESP_ERR_NO_ERROR: rd_kafka_resp_err_t = 0;
    pub const RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: rd_kafka_resp_err_t = 1;
    pub const RD_KAFKA_RESP_ERR_INVALID_MSG: rd_kafka_resp_err_t = 2;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: rd_kafka_resp_err_t = 3;
    pub const RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE: rd_kafka_resp_err_t = 4;
    pub const RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE: rd_kafka_resp_err_t = 5;
    pub const RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION: rd_kafka_resp_err_t = 6;
    pub const RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: rd_kafka_resp_err_t = 7;
    pub const RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE: rd_kafka_resp_err_t = 8;
    pub const RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE: rd_kafka_resp_err_t = 9;
    pub const RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: rd_kafka_resp_err_t = 10;
    pub const RD_KAFKA_RESP_ERR_STALE_CTRL_EPOCH: rd_kafka_resp_err_t = 11;
    pub const RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE: rd_kafka_resp_err_t = 12;
    pub const RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION: rd_kafka_resp_err_t = 13;
    pub const RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS: rd_kafka_resp_err_t = 14;
    pub const RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE: rd_kafka_resp_err_t = 15;
    pub const RD_KAFKA_RESP_ERR_NOT_COORDINATOR: rd_kafka_resp_err_t = 16;
    pub const RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: rd_kafka_resp_err_t = 17;
    pub const RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: rd_kafka_resp_err_t = 18;
    pub const RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS: rd_kafka_resp_err_t = 19;
    pub const RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND: rd_kafka_resp_err_t = 20;
    pub const RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS: rd_kafka_resp_err_t = 21;
    pub const RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION: rd_kafka_resp_err_t = 22;
    pub const RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL: rd_kafka_resp_err_t = 23;
    pub const RD_KAFKA_RESP_ERR_INVALID_GROUP_ID: rd_kafka_resp_err_t = 24;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID: rd_kafka_resp_err_t = 25;
    pub const RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT: rd_kafka_resp_err_t = 26;
    pub const RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS: rd_kafka_resp_err_t = 27;
    pub const RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE: rd_kafka_resp_err_t = 28;
    pub const RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: rd_kafka_resp_err_t = 29;
    pub const RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: rd_kafka_resp_err_t = 30;
    pub const RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED: rd_kafka_resp_err_t = 31;
    pub const RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP: rd_kafka_resp_err_t = 32;
    pub const RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM: rd_kafka_resp_err_t = 33;
    pub const RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE: rd_kafka_resp_err_t = 34;
    pub const RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION: rd_kafka_resp_err_t = 35;
    pub const RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: rd_kafka_resp_err_t = 36;
    pub const RD_KAFKA_RESP_ERR_INVALID_PARTITIONS: rd_kafka_resp_err_t = 37;
    pub const RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR: rd_kafka_resp_err_t = 38;
    pub const RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT: rd_kafka_resp_err_t = 39;
    pub const RD_KAFKA_RESP_ERR_INVALID_CONFIG: rd_kafka_resp_err_t = 40;
    pub const RD_KAFKA_RESP_ERR_NOT_CONTROLLER: rd_kafka_resp_err_t = 41;
    pub const RD_KAFKA_RESP_ERR_INVALID_REQUEST: rd_kafka_resp_err_t = 42;
    pub const RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT: rd_kafka_resp_err_t = 43;
    pub const RD_KAFKA_RESP_ERR_POLICY_VIOLATION: rd_kafka_resp_err_t = 44;
    pub const RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER: rd_kafka_resp_err_t = 45;
    pub const RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER: rd_kafka_resp_err_t = 46;
    pub const RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH: rd_kafka_resp_err_t = 47;
    pub const RD_KAFKA_RESP_ERR_INVALID_TXN_STATE: rd_kafka_resp_err_t = 48;
    pub const RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING: rd_kafka_resp_err_t = 49;
    pub const RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT: rd_kafka_resp_err_t = 50;
    pub const RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS: rd_kafka_resp_err_t = 51;
    pub const RD_KAFKA_RESP_ERR_TRANSACTION_COORDINATOR_FENCED: rd_kafka_resp_err_t = 52;
    pub const RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED: rd_kafka_resp_err_t = 53;
    pub const RD_KAFKA_RESP_ERR_SECURITY_DISABLED: rd_kafka_resp_err_t = 54;
    pub const RD_KAFKA_RESP_ERR_OPERATION_NOT_ATTEMPTED: rd_kafka_resp_err_t = 55;
    pub const RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR: rd_kafka_resp_err_t = 56;
    pub const RD_KAFKA_RESP_ERR_LOG_DIR_NOT_FOUND: rd_kafka_resp_err_t = 57;
    pub const RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED: rd_kafka_resp_err_t = 58;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID: rd_kafka_resp_err_t = 59;
    pub const RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS: rd_kafka_resp_err_t = 60;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTH_DISABLED: rd_kafka_resp_err_t = 61;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_NOT_FOUND: rd_kafka_resp_err_t = 62;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH: rd_kafka_resp_err_t = 63;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: rd_kafka_resp_err_t = 64;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED: rd_kafka_resp_err_t = 65;
    pub const RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_EXPIRED: rd_kafka_resp_err_t = 66;
    pub const RD_KAFKA_RESP_ERR_INVALID_PRINCIPAL_TYPE: rd_kafka_resp_err_t = 67;
    pub const RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP: rd_kafka_resp_err_t = 68;
    pub const RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND: rd_kafka_resp_err_t = 69;
    pub const RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND: rd_kafka_resp_err_t = 70;
    pub const RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH: rd_kafka_resp_err_t = 71;
    pub const RD_KAFKA_RESP_ERR_LISTENER_NOT_FOUND: rd_kafka_resp_err_t = 72;
    pub const RD_KAFKA_RESP_ERR_TOPIC_DELETION_DISABLED: rd_kafka_resp_err_t = 73;
    pub const RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH: rd_kafka_resp_err_t = 74;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH: rd_kafka_resp_err_t = 75;
    pub const RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE: rd_kafka_resp_err_t = 76;
    pub const RD_KAFKA_RESP_ERR_STALE_BROKER_EPOCH: rd_kafka_resp_err_t = 77;
    pub const RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE: rd_kafka_resp_err_t = 78;
    pub const RD_KAFKA_RESP_ERR_MEMBER_ID_REQUIRED: rd_kafka_resp_err_t = 79;
    pub const RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE: rd_kafka_resp_err_t = 80;
    pub const RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED: rd_kafka_resp_err_t = 81;
    pub const RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID: rd_kafka_resp_err_t = 82;
    pub const RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE: rd_kafka_resp_err_t = 83;
    pub const RD_KAFKA_RESP_ERR_ELECTION_NOT_NEEDED: rd_kafka_resp_err_t = 84;
    pub const RD_KAFKA_RESP_ERR_NO_REASSIGNMENT_IN_PROGRESS: rd_kafka_resp_err_t = 85;
    pub const RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC: rd_kafka_resp_err_t = 86;
    pub const RD_KAFKA_RESP_ERR_INVALID_RECORD: rd_kafka_resp_err_t = 87;
    pub const RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT: rd_kafka_resp_err_t = 88;
    pub const RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED: rd_kafka_resp_err_t = 89;
    pub const RD_KAFKA_RESP_ERR_PRODUCER_FENCED: rd_kafka_resp_err_t = 90;
    pub const RD_KAFKA_RESP_ERR_RESOURCE_NOT_FOUND: rd_kafka_resp_err_t = 91;
    pub const RD_KAFKA_RESP_ERR_DUPLICATE_RESOURCE: rd_kafka_resp_err_t = 92;
    pub const RD_KAFKA_RESP_ERR_UNACCEPTABLE_CREDENTIAL: rd_kafka_resp_err_t = 93;
    pub const RD_KAFKA_RESP_ERR_INCONSISTENT_VOTER_SET: rd_kafka_resp_err_t = 94;
    pub const RD_KAFKA_RESP_ERR_INVALID_UPDATE_VERSION: rd_kafka_resp_err_t = 95;
    pub const RD_KAFKA_RESP_ERR_FEATURE_UPDATE_FAILED: rd_kafka_resp_err_t = 96;
    pub const RD_KAFKA_RESP_ERR_PRINCIPAL_DESERIALIZATION_FAILURE: rd_kafka_resp_err_t = 97;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_ID: rd_kafka_resp_err_t = 100;
    pub const RD_KAFKA_RESP_ERR_FENCED_MEMBER_EPOCH: rd_kafka_resp_err_t = 110;
    pub const RD_KAFKA_RESP_ERR_UNRELEASED_INSTANCE_ID: rd_kafka_resp_err_t = 111;
    pub const RD_KAFKA_RESP_ERR_UNSUPPORTED_ASSIGNOR: rd_kafka_resp_err_t = 112;
    pub const RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH: rd_kafka_resp_err_t = 113;
    pub const RD_KAFKA_RESP_ERR_UNKNOWN_SUBSCRIPTION_ID: rd_kafka_resp_err_t = 117;
    pub const RD_KAFKA_RESP_ERR_TELEMETRY_TOO_LARGE: rd_kafka_resp_err_t = 118;
    pub const RD_KAFKA_RESP_ERR_REBOOTSTRAP_REQUIRED: rd_kafka_resp_err_t = 129;

    // One past the highest code (a bound, not an error).
    pub const RD_KAFKA_RESP_ERR_END_ALL: rd_kafka_resp_err_t = 130;
}

/// Every error code, sorted by code, as `(code, name, description)`.
///
/// `name` is the enumerator's name without its `RD_KAFKA_RESP_ERR_` prefix (`"_QUEUE_FULL"`,
/// `"UNKNOWN_TOPIC_OR_PART"`), as `rd_kafka_err2name` returns it. `description` is the text
/// `rd_kafka_err2str` returns: it starts with `"Local: "` for client-side codes and `"Broker: "` for
/// Kafka protocol codes (including UNKNOWN, -1); NO_ERROR is `"Success"`. The bounds `__BEGIN`, `__END`
/// and `END_ALL` have rows too. No string contains a NUL byte.
#[rustfmt::skip]
pub static ERR_TABLE: &[(rd_kafka_resp_err_t, &str, &str)] = &[
    // Client-side codes.
    (RD_KAFKA_RESP_ERR__BEGIN, "_BEGIN", "Local: Start of client-side codes (not an error)"),
    (RD_KAFKA_RESP_ERR__BAD_MSG, "_BAD_MSG", "Local: Malformed message"),
    (RD_KAFKA_RESP_ERR__BAD_COMPRESSION, "_BAD_COMPRESSION", "Local: Unsupported or corrupt compression"),
    (RD_KAFKA_RESP_ERR__DESTROY, "_DESTROY", "Local: Client is being destroyed"),
    (RD_KAFKA_RESP_ERR__FAIL, "_FAIL", "Local: Request to broker failed"),
    (RD_KAFKA_RESP_ERR__TRANSPORT, "_TRANSPORT", "Local: Broker connection failed"),
    (RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, "_CRIT_SYS_RESOURCE", "Local: Out of a critical system resource"),
    (RD_KAFKA_RESP_ERR__RESOLVE, "_RESOLVE", "Local: Could not resolve broker address"),
    (RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "_MSG_TIMED_OUT", "Local: Message delivery timed out"),
    (RD_KAFKA_RESP_ERR__PARTITION_EOF, "_PARTITION_EOF", "Local: Reached the end of the partition"),
    (RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, "_UNKNOWN_PARTITION", "Local: Partition does not exist"),
    (RD_KAFKA_RESP_ERR__FS, "_FS", "Local: File system error"),
    (RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, "_UNKNOWN_TOPIC", "Local: Topic does not exist"),
    (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "_ALL_BROKERS_DOWN", "Local: No broker connection is up"),
    (RD_KAFKA_RESP_ERR__INVALID_ARG, "_INVALID_ARG", "Local: Bad argument or configuration value"),
    (RD_KAFKA_RESP_ERR__TIMED_OUT, "_TIMED_OUT", "Local: Operation timed out"),
    (RD_KAFKA_RESP_ERR__QUEUE_FULL, "_QUEUE_FULL", "Local: Producer queue is full"),
    (RD_KAFKA_RESP_ERR__ISR_INSUFF, "_ISR_INSUFF", "Local: Too few in-sync replicas"),
    (RD_KAFKA_RESP_ERR__NODE_UPDATE, "_NODE_UPDATE", "Local: Broker address changed"),
    (RD_KAFKA_RESP_ERR__SSL, "_SSL", "Local: TLS error"),
    (RD_KAFKA_RESP_ERR__WAIT_COORD, "_WAIT_COORD", "Local: Waiting for the coordinator"),
    (RD_KAFKA_RESP_ERR__UNKNOWN_GROUP, "_UNKNOWN_GROUP", "Local: Unknown consumer group"),
    (RD_KAFKA_RESP_ERR__IN_PROGRESS, "_IN_PROGRESS", "Local: Operation already in progress"),
    (RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS, "_PREV_IN_PROGRESS", "Local: A previous operation is still in progress"),
    (RD_KAFKA_RESP_ERR__EXISTING_SUBSCRIPTION, "_EXISTING_SUBSCRIPTION", "Local: Conflicts with the current subscription"),
    (RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, "_ASSIGN_PARTITIONS", "Local: Partitions assigned by a rebalance"),
    (RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, "_REVOKE_PARTITIONS", "Local: Partitions revoked by a rebalance"),
    (RD_KAFKA_RESP_ERR__CONFLICT, "_CONFLICT", "Local: Conflicting usage"),
    (RD_KAFKA_RESP_ERR__STATE, "_STATE", "Local: Invalid state for this operation"),
    (RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL, "_UNKNOWN_PROTOCOL", "Local: Protocol not known"),
    (RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, "_NOT_IMPLEMENTED", "Local: Not implemented by this library"),
    (RD_KAFKA_RESP_ERR__AUTHENTICATION, "_AUTHENTICATION", "Local: Authentication failed"),
    (RD_KAFKA_RESP_ERR__NO_OFFSET, "_NO_OFFSET", "Local: No stored offset"),
    (RD_KAFKA_RESP_ERR__OUTDATED, "_OUTDATED", "Local: Out of date"),
    (RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, "_TIMED_OUT_QUEUE", "Local: Timed out while queued"),
    (RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, "_UNSUPPORTED_FEATURE", "Local: Broker does not support this feature"),
    (RD_KAFKA_RESP_ERR__WAIT_CACHE, "_WAIT_CACHE", "Local: Waiting for a metadata cache update"),
    (RD_KAFKA_RESP_ERR__INTR, "_INTR", "Local: Interrupted"),
    (RD_KAFKA_RESP_ERR__KEY_SERIALIZATION, "_KEY_SERIALIZATION", "Local: Could not serialize the key"),
    (RD_KAFKA_RESP_ERR__VALUE_SERIALIZATION, "_VALUE_SERIALIZATION", "Local: Could not serialize the value"),
    (RD_KAFKA_RESP_ERR__KEY_DESERIALIZATION, "_KEY_DESERIALIZATION", "Local: Could not deserialize the key"),
    (RD_KAFKA_RESP_ERR__VALUE_DESERIALIZATION, "_VALUE_DESERIALIZATION", "Local: Could not deserialize the value"),
    (RD_KAFKA_RESP_ERR__PARTIAL, "_PARTIAL", "Local: Partial result"),
    (RD_KAFKA_RESP_ERR__READ_ONLY, "_READ_ONLY", "Local: Object is read-only"),
    (RD_KAFKA_RESP_ERR__NOENT, "_NOENT", "Local: Not found"),
    (RD_KAFKA_RESP_ERR__UNDERFLOW, "_UNDERFLOW", "Local: Read past the end of the buffer"),
    (RD_KAFKA_RESP_ERR__INVALID_TYPE, "_INVALID_TYPE", "Local: Wrong type"),
    (RD_KAFKA_RESP_ERR__RETRY, "_RETRY", "Local: Operation should be retried"),
    (RD_KAFKA_RESP_ERR__PURGE_QUEUE, "_PURGE_QUEUE", "Local: Purged before it was sent"),
    (RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, "_PURGE_INFLIGHT", "Local: Purged while awaiting a response"),
    (RD_KAFKA_RESP_ERR__FATAL, "_FATAL", "Local: Fatal error, the instance is unusable"),
    (RD_KAFKA_RESP_ERR__INCONSISTENT, "_INCONSISTENT", "Local: Inconsistent internal state"),
    (RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE, "_GAPLESS_GUARANTEE", "Local: Continuing would break gap-less ordering"),
    (RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED, "_MAX_POLL_EXCEEDED", "Local: max.poll.interval.ms exceeded"),
    (RD_KAFKA_RESP_ERR__UNKNOWN_BROKER, "_UNKNOWN_BROKER", "Local: Broker not known"),
    (RD_KAFKA_RESP_ERR__NOT_CONFIGURED, "_NOT_CONFIGURED", "Local: Feature not configured"),
    (RD_KAFKA_RESP_ERR__FENCED, "_FENCED", "Local: Instance fenced by a newer one"),
    (RD_KAFKA_RESP_ERR__APPLICATION, "_APPLICATION", "Local: Error raised by the application"),
    (RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST, "_ASSIGNMENT_LOST", "Local: Group assignment lost"),
    (RD_KAFKA_RESP_ERR__NOOP, "_NOOP", "Local: Nothing to do"),
    (RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, "_AUTO_OFFSET_RESET", "Local: No offset to reset to"),
    (RD_KAFKA_RESP_ERR__LOG_TRUNCATION, "_LOG_TRUNCATION", "Local: Partition log was truncated"),
    (RD_KAFKA_RESP_ERR__INVALID_DIFFERENT_RECORD, "_INVALID_DIFFERENT_RECORD", "Local: Another record in the batch was invalid"),
    (RD_KAFKA_RESP_ERR__DESTROY_BROKER, "_DESTROY_BROKER", "Local: Broker connection is being closed"),
    (RD_KAFKA_RESP_ERR__END, "_END", "Local: End of client-side codes (not an error)"),

    // Kafka protocol codes.
    (RD_KAFKA_RESP_ERR_UNKNOWN, "UNKNOWN", "Broker: Unexpected server error"),
    (RD_KAFKA_RESP_ERR_NO_ERROR, "NO_ERROR", "Success"),
    (RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, "OFFSET_OUT_OF_RANGE", "Broker: Requested offset is outside the log"),
    (RD_KAFKA_RESP_ERR_INVALID_MSG, "INVALID_MSG", "Broker: Corrupt or invalid message"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "UNKNOWN_TOPIC_OR_PART", "Broker: No such topic or partition"),
    (RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, "INVALID_MSG_SIZE", "Broker: Message size is invalid"),
    (RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, "LEADER_NOT_AVAILABLE", "Broker: Partition has no leader right now"),
    (RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, "NOT_LEADER_FOR_PARTITION", "Broker: Broker is not the partition's leader"),
    (RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, "REQUEST_TIMED_OUT", "Broker: Request timed out on the broker"),
    (RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, "BROKER_NOT_AVAILABLE", "Broker: Broker is not available"),
    (RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE, "REPLICA_NOT_AVAILABLE", "Broker: Replica is not available"),
    (RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "MSG_SIZE_TOO_LARGE", "Broker: Message larger than the broker accepts"),
    (RD_KAFKA_RESP_ERR_STALE_CTRL_EPOCH, "STALE_CTRL_EPOCH", "Broker: Stale controller epoch"),
    (RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, "OFFSET_METADATA_TOO_LARGE", "Broker: Offset commit metadata too large"),
    (RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, "NETWORK_EXCEPTION", "Broker: Server disconnected before responding"),
    (RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, "COORDINATOR_LOAD_IN_PROGRESS", "Broker: Coordinator is still loading"),
    (RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, "COORDINATOR_NOT_AVAILABLE", "Broker: Coordinator is not available"),
    (RD_KAFKA_RESP_ERR_NOT_COORDINATOR, "NOT_COORDINATOR", "Broker: Broker is not the coordinator"),
    (RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, "TOPIC_EXCEPTION", "Broker: Topic name or state is invalid"),
    (RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, "RECORD_LIST_TOO_LARGE", "Broker: Batch larger than the segment size"),
    (RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS", "Broker: Too few in-sync replicas to accept the write"),
    (RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "Broker: Written to fewer in-sync replicas than required"),
    (RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, "INVALID_REQUIRED_ACKS", "Broker: Invalid acks value"),
    (RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, "ILLEGAL_GENERATION", "Broker: Stale group generation"),
    (RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL, "INCONSISTENT_GROUP_PROTOCOL", "Broker: Group protocol mismatch"),
    (RD_KAFKA_RESP_ERR_INVALID_GROUP_ID, "INVALID_GROUP_ID", "Broker: Invalid group id"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, "UNKNOWN_MEMBER_ID", "Broker: Member not known to the group"),
    (RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT, "INVALID_SESSION_TIMEOUT", "Broker: Session timeout outside the allowed range"),
    (RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, "REBALANCE_IN_PROGRESS", "Broker: Group is rebalancing"),
    (RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE, "INVALID_COMMIT_OFFSET_SIZE", "Broker: Offset commit data too large"),
    (RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "TOPIC_AUTHORIZATION_FAILED", "Broker: Not authorized for the topic"),
    (RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, "GROUP_AUTHORIZATION_FAILED", "Broker: Not authorized for the group"),
    (RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, "CLUSTER_AUTHORIZATION_FAILED", "Broker: Not authorized for the cluster"),
    (RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, "INVALID_TIMESTAMP", "Broker: Timestamp outside the accepted range"),
    (RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM, "UNSUPPORTED_SASL_MECHANISM", "Broker: SASL mechanism not enabled"),
    (RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE, "ILLEGAL_SASL_STATE", "Broker: SASL request out of sequence"),
    (RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", "Broker: Request version not supported"),
    (RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "TOPIC_ALREADY_EXISTS", "Broker: A topic with this name exists"),
    (RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, "INVALID_PARTITIONS", "Broker: Invalid partition count"),
    (RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, "INVALID_REPLICATION_FACTOR", "Broker: Replication factor is invalid"),
    (RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, "INVALID_REPLICA_ASSIGNMENT", "Broker: Replica assignment is invalid"),
    (RD_KAFKA_RESP_ERR_INVALID_CONFIG, "INVALID_CONFIG", "Broker: Invalid configuration"),
    (RD_KAFKA_RESP_ERR_NOT_CONTROLLER, "NOT_CONTROLLER", "Broker: Broker is not the controller"),
    (RD_KAFKA_RESP_ERR_INVALID_REQUEST, "INVALID_REQUEST", "Broker: Malformed or invalid request"),
    (RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, "UNSUPPORTED_FOR_MESSAGE_FORMAT", "Broker: Not supported by the topic's message format"),
    (RD_KAFKA_RESP_ERR_POLICY_VIOLATION, "POLICY_VIOLATION", "Broker: Rejected by a broker policy"),
    (RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "OUT_OF_ORDER_SEQUENCE_NUMBER", "Broker: Sequence number out of order"),
    (RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER, "DUPLICATE_SEQUENCE_NUMBER", "Broker: Sequence number already written"),
    (RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, "INVALID_PRODUCER_EPOCH", "Broker: Producer epoch is stale"),
    (RD_KAFKA_RESP_ERR_INVALID_TXN_STATE, "INVALID_TXN_STATE", "Broker: Operation not valid in the transaction's state"),
    (RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING, "INVALID_PRODUCER_ID_MAPPING", "Broker: Producer id does not belong to the transactional id"),
    (RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT, "INVALID_TRANSACTION_TIMEOUT", "Broker: Transaction timeout above the broker's maximum"),
    (RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, "CONCURRENT_TRANSACTIONS", "Broker: Another operation on the transaction is in progress"),
    (RD_KAFKA_RESP_ERR_TRANSACTION_COORDINATOR_FENCED, "TRANSACTION_COORDINATOR_FENCED", "Broker: Transaction coordinator was superseded"),
    (RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "Broker: Not authorized for the transactional id"),
    (RD_KAFKA_RESP_ERR_SECURITY_DISABLED, "SECURITY_DISABLED", "Broker: Security features not enabled"),
    (RD_KAFKA_RESP_ERR_OPERATION_NOT_ATTEMPTED, "OPERATION_NOT_ATTEMPTED", "Broker: Operation skipped because of another failure"),
    (RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, "KAFKA_STORAGE_ERROR", "Broker: Disk error on the broker"),
    (RD_KAFKA_RESP_ERR_LOG_DIR_NOT_FOUND, "LOG_DIR_NOT_FOUND", "Broker: Log directory not found"),
    (RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, "SASL_AUTHENTICATION_FAILED", "Broker: SASL authentication failed"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID, "UNKNOWN_PRODUCER_ID", "Broker: Producer id not known"),
    (RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS, "REASSIGNMENT_IN_PROGRESS", "Broker: Partition reassignment in progress"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTH_DISABLED, "DELEGATION_TOKEN_AUTH_DISABLED", "Broker: Delegation token authentication is disabled"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_NOT_FOUND, "DELEGATION_TOKEN_NOT_FOUND", "Broker: Delegation token not found"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH, "DELEGATION_TOKEN_OWNER_MISMATCH", "Broker: Delegation token belongs to another principal"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "Broker: Delegation token request refused"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", "Broker: Not authorized for the delegation token"),
    (RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_EXPIRED, "DELEGATION_TOKEN_EXPIRED", "Broker: Delegation token has expired"),
    (RD_KAFKA_RESP_ERR_INVALID_PRINCIPAL_TYPE, "INVALID_PRINCIPAL_TYPE", "Broker: Principal type not supported"),
    (RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP, "NON_EMPTY_GROUP", "Broker: Group still has members"),
    (RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND, "GROUP_ID_NOT_FOUND", "Broker: Group not found"),
    (RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND, "FETCH_SESSION_ID_NOT_FOUND", "Broker: Fetch session not found"),
    (RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH, "INVALID_FETCH_SESSION_EPOCH", "Broker: Invalid fetch session epoch"),
    (RD_KAFKA_RESP_ERR_LISTENER_NOT_FOUND, "LISTENER_NOT_FOUND", "Broker: Listener not found on the leader"),
    (RD_KAFKA_RESP_ERR_TOPIC_DELETION_DISABLED, "TOPIC_DELETION_DISABLED", "Broker: Topic deletion not enabled"),
    (RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, "FENCED_LEADER_EPOCH", "Broker: Leader epoch older than the broker's"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, "UNKNOWN_LEADER_EPOCH", "Broker: Leader epoch newer than the broker's"),
    (RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "UNSUPPORTED_COMPRESSION_TYPE", "Broker: Compression codec not supported"),
    (RD_KAFKA_RESP_ERR_STALE_BROKER_EPOCH, "STALE_BROKER_EPOCH", "Broker: Stale broker epoch"),
    (RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, "OFFSET_NOT_AVAILABLE", "Broker: Offset not available yet"),
    (RD_KAFKA_RESP_ERR_MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED", "Broker: Member id needed to join the group"),
    (RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE, "PREFERRED_LEADER_NOT_AVAILABLE", "Broker: Preferred leader not available"),
    (RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED, "GROUP_MAX_SIZE_REACHED", "Broker: Group has reached its size limit"),
    (RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID, "FENCED_INSTANCE_ID", "Broker: Another member uses this group.instance.id"),
    (RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE, "ELIGIBLE_LEADERS_NOT_AVAILABLE", "Broker: No eligible leader"),
    (RD_KAFKA_RESP_ERR_ELECTION_NOT_NEEDED, "ELECTION_NOT_NEEDED", "Broker: Leader election not needed"),
    (RD_KAFKA_RESP_ERR_NO_REASSIGNMENT_IN_PROGRESS, "NO_REASSIGNMENT_IN_PROGRESS", "Broker: No reassignment in progress"),
    (RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC, "GROUP_SUBSCRIBED_TO_TOPIC", "Broker: A subscribed group still uses the topic"),
    (RD_KAFKA_RESP_ERR_INVALID_RECORD, "INVALID_RECORD", "Broker: Record failed broker validation"),
    (RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT, "UNSTABLE_OFFSET_COMMIT", "Broker: Offsets have pending transactional commits"),
    (RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, "THROTTLING_QUOTA_EXCEEDED", "Broker: Throttling quota exceeded"),
    (RD_KAFKA_RESP_ERR_PRODUCER_FENCED, "PRODUCER_FENCED", "Broker: Producer fenced by a newer instance"),
    (RD_KAFKA_RESP_ERR_RESOURCE_NOT_FOUND, "RESOURCE_NOT_FOUND", "Broker: Resource not found"),
    (RD_KAFKA_RESP_ERR_DUPLICATE_RESOURCE, "DUPLICATE_RESOURCE", "Broker: Resource listed more than once"),
    (RD_KAFKA_RESP_ERR_UNACCEPTABLE_CREDENTIAL, "UNACCEPTABLE_CREDENTIAL", "Broker: Credential rejected"),
    (RD_KAFKA_RESP_ERR_INCONSISTENT_VOTER_SET, "INCONSISTENT_VOTER_SET", "Broker: Voter set inconsistent"),
    (RD_KAFKA_RESP_ERR_INVALID_UPDATE_VERSION, "INVALID_UPDATE_VERSION", "Broker: Update version is invalid"),
    (RD_KAFKA_RESP_ERR_FEATURE_UPDATE_FAILED, "FEATURE_UPDATE_FAILED", "Broker: Feature update failed"),
    (RD_KAFKA_RESP_ERR_PRINCIPAL_DESERIALIZATION_FAILURE, "PRINCIPAL_DESERIALIZATION_FAILURE", "Broker: Could not deserialize the principal"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_ID, "UNKNOWN_TOPIC_ID", "Broker: Topic id not known"),
    (RD_KAFKA_RESP_ERR_FENCED_MEMBER_EPOCH, "FENCED_MEMBER_EPOCH", "Broker: Member epoch fenced"),
    (RD_KAFKA_RESP_ERR_UNRELEASED_INSTANCE_ID, "UNRELEASED_INSTANCE_ID", "Broker: Instance id still held by another member"),
    (RD_KAFKA_RESP_ERR_UNSUPPORTED_ASSIGNOR, "UNSUPPORTED_ASSIGNOR", "Broker: Assignor not supported by the group"),
    (RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH, "STALE_MEMBER_EPOCH", "Broker: Stale member epoch"),
    (RD_KAFKA_RESP_ERR_UNKNOWN_SUBSCRIPTION_ID, "UNKNOWN_SUBSCRIPTION_ID", "Broker: Telemetry subscription not known"),
    (RD_KAFKA_RESP_ERR_TELEMETRY_TOO_LARGE, "TELEMETRY_TOO_LARGE", "Broker: Telemetry payload too large"),
    (RD_KAFKA_RESP_ERR_REBOOTSTRAP_REQUIRED, "REBOOTSTRAP_REQUIRED", "Broker: Client must rebootstrap"),

    // Bound.
    (RD_KAFKA_RESP_ERR_END_ALL, "END_ALL", "Broker: End of the error code range (not an error)"),
];

/// The [`ERR_TABLE`] row of `code`, or `None` if librdkafka 2.12.1 defines no such code.
pub fn lookup(
    code: rd_kafka_resp_err_t,
) -> Option<&'static (rd_kafka_resp_err_t, &'static str, &'static str)> {
    ERR_TABLE.binary_search_by_key(&code, |row| row.0).ok().and_then(|i| ERR_TABLE.get(i))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    const HEADER: &str = include_str!("../include/librdkafka/rdkafka.h");
    const PREFIX: &str = "RD_KAFKA_RESP_ERR_";

    /// The enumerators of `rd_kafka_resp_err_t` in `header`, in order, as (name sans prefix, value), with
    /// C's rule for an enumerator without `= value` (previous value plus one; 0 for the first).
    fn header_codes(header: &str) -> Vec<(String, i32)> {
        let end = header.find("} rd_kafka_resp_err_t;").expect("no `} rd_kafka_resp_err_t;` in the header");
        let start = header[..end].rfind("typedef enum {").expect("no `typedef enum {` before it");
        let mut body = String::new();
        let mut rest = &header[start + "typedef enum {".len()..end];
        // Drop /* ... */ comments (possibly spanning lines).
        while let Some(open) = rest.find("/*") {
            body.push_str(&rest[..open]);
            let close = rest[open..].find("*/").expect("unterminated comment in the enum");
            rest = &rest[open + close + 2..];
        }
        body.push_str(rest);
        // Drop // comments and preprocessor lines (with their continuations).
        let mut cleaned = String::new();
        let mut in_directive = false;
        for line in body.lines() {
            let line = line.split("//").next().unwrap_or("");
            let directive = in_directive || line.trim_start().starts_with('#');
            in_directive = directive && line.trim_end().ends_with('\\');
            if !directive {
                cleaned.push_str(line);
                cleaned.push('\n');
            }
        }
        let mut codes = Vec::new();
        let mut next = 0i32;
        for item in cleaned.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((name, value)) => {
                    let value = value.trim();
                    (name.trim(), value.parse::<i32>().unwrap_or_else(|e| panic!("{item:?}: {e}")))
                }
                None => (item, next),
            };
            let bare = name.strip_prefix(PREFIX).unwrap_or_else(|| panic!("{name:?} lacks {PREFIX}"));
            assert!(
                !bare.is_empty()
                    && bare.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "odd enumerator {name:?}"
            );
            codes.push((bare.to_string(), value));
            next = value + 1;
        }
        codes
    }

    /// `rows` as a name -> value map, asserting the names are unique.
    fn by_name<'a>(rows: impl Iterator<Item = (&'a str, i32)>) -> BTreeMap<&'a str, i32> {
        let mut map = BTreeMap::new();
        for (name, value) in rows {
            assert!(map.insert(name, value).is_none(), "{name} appears twice");
        }
        map
    }

    #[test]
    fn table_is_sorted_by_code_and_codes_are_unique() {
        for pair in ERR_TABLE.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} then {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for (_, name, _) in ERR_TABLE {
            assert!(seen.insert(*name), "{name} appears twice");
        }
    }

    #[test]
    fn table_equals_the_header_enum() {
        let header = header_codes(HEADER);
        assert!(header.len() > 150, "parsed only {} enumerators", header.len());
        let header = by_name(header.iter().map(|(name, value)| (name.as_str(), *value)));
        let table = by_name(ERR_TABLE.iter().map(|(code, name, _)| (*name, *code)));
        let only_header: Vec<_> = header.iter().filter(|(n, _)| !table.contains_key(*n)).collect();
        let only_table: Vec<_> = table.iter().filter(|(n, _)| !header.contains_key(*n)).collect();
        let differ: Vec<_> =
            header.iter().filter_map(|(n, v)| table.get(n).filter(|t| *t != v).map(|t| (n, v, t))).collect();
        assert!(only_header.is_empty(), "in the header, not in ERR_TABLE: {only_header:?}");
        assert!(only_table.is_empty(), "in ERR_TABLE, not in the header: {only_table:?}");
        assert!(differ.is_empty(), "(name, header value, table value): {differ:?}");
        assert_eq!(header, table);
    }

    #[test]
    fn constants_equal_the_header_enum() {
        // Every `pub const RD_KAFKA_RESP_ERR_*` line of this file, against the header.
        let mut consts = Vec::new();
        for line in include_str!("err.rs").lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("pub const ").filter(|r| r.starts_with(PREFIX)) else {
                continue;
            };
            let (name, rest) = rest.split_once(": rd_kafka_resp_err_t = ").expect(line);
            let value: i32 = rest.strip_suffix(';').expect(line).parse().expect(line);
            consts.push((&name[PREFIX.len()..], value));
        }
        let header = header_codes(HEADER);
        let header = by_name(header.iter().map(|(name, value)| (name.as_str(), *value)));
        assert_eq!(by_name(consts.into_iter()), header);
        // And spot checks that the constants are the ones exported.
        assert_eq!(RD_KAFKA_RESP_ERR__BEGIN, -200);
        assert_eq!(RD_KAFKA_RESP_ERR__QUEUE_FULL, -184);
        assert_eq!(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, -170);
        assert_eq!(RD_KAFKA_RESP_ERR_NO_ERROR, 0);
        assert_eq!(RD_KAFKA_RESP_ERR_END_ALL, RD_KAFKA_RESP_ERR_REBOOTSTRAP_REQUIRED + 1);
    }

    #[test]
    fn header_parser_follows_c_enum_rules() {
        let text =
            "typedef enum {\n  /* a\n comment */ RD_KAFKA_RESP_ERR_A = -5, // x\n  RD_KAFKA_RESP_ERR_B,\n\
                    #define RD_KAFKA_RESP_ERR_ALIAS \\\n  RD_KAFKA_RESP_ERR_B\n  RD_KAFKA_RESP_ERR_C = 7,\n  \
                    RD_KAFKA_RESP_ERR_D\n} rd_kafka_resp_err_t;\n";
        let expected: Vec<(String, i32)> =
            [("A", -5), ("B", -4), ("C", 7), ("D", 8)].iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(header_codes(text), expected);
    }

    #[test]
    fn descriptions_follow_the_prefix_convention() {
        for (code, name, desc) in ERR_TABLE {
            assert!(!desc.contains('\0') && !name.contains('\0'), "{name}: NUL byte");
            let expected = match *code {
                0 => {
                    assert_eq!(*desc, "Success");
                    continue;
                }
                c if c < -1 => "Local: ",
                _ => "Broker: ",
            };
            let text =
                desc.strip_prefix(expected).unwrap_or_else(|| panic!("{name}: {desc:?} lacks {expected:?}"));
            assert!(!text.trim().is_empty(), "{name}: empty description");
            assert_eq!(name.starts_with('_'), *code < -1, "{name}: local codes and only they start with _");
        }
    }

    #[test]
    fn lookup_finds_every_row_and_nothing_else() {
        for row in ERR_TABLE {
            assert_eq!(lookup(row.0), Some(row));
        }
        assert_eq!(lookup(RD_KAFKA_RESP_ERR__QUEUE_FULL).map(|r| r.1), Some("_QUEUE_FULL"));
        assert_eq!(lookup(3).map(|r| r.1), Some("UNKNOWN_TOPIC_OR_PART"));
        for missing in [i32::MIN, -201, -136, -101, -99, -2, 98, 99, 101, 114, 128, 131, i32::MAX] {
            assert_eq!(lookup(missing), None, "{missing}");
        }
    }
}
