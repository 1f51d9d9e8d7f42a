//! Kafka error codes: one table with each code's name, classes and meaning. Every part of kprod that
//! decides what an error code means (retry, refresh metadata, find the coordinator again, abort the
//! transaction, close the producer) reads it.
//!
//! The table mirrors Kafka 4.4.0's `org.apache.kafka.common.protocol.Errors` enum: the codes and names
//! are Kafka's, and each code's [`ErrorClass`] is read off Kafka's Java client (tests/error_codes_java.rs
//! runs the kafka-clients jar and compares every code):
//!
//! - its KIP-1050 category, from the ancestry of the code's exception class: `RetriableException`
//!   ([`RETRIABLE`](ErrorClass::RETRIABLE)), `TransactionAbortableException`
//!   ([`ABORTABLE`](ErrorClass::ABORTABLE)), `ApplicationRecoverableException`
//!   ([`APP_RECOVERABLE`](ErrorClass::APP_RECOVERABLE)), `InvalidConfigurationException`
//!   ([`INVALID_CONFIG`](ErrorClass::INVALID_CONFIG)), or none of them (KIP-1050's other errors);
//! - where a retry must look first (KIP-1050's refresh-retriable errors): the class extends
//!   `InvalidMetadataException` ([`METADATA`](ErrorClass::METADATA): refresh metadata), or
//!   `RefreshRetriableException` without it ([`COORDINATOR`](ErrorClass::COORDINATOR): find the
//!   coordinator again);
//! - [`FATAL`](ErrorClass::FATAL): the producer must be closed. These are the codes for which Java's
//!   `TransactionManager.maybeTransitionToErrorState` (the step every failed record and `send` goes
//!   through, for idempotent and transactional producers) enters the fatal state.
//!
//! kprod differs from Java deliberately in two places:
//!
//! - REQUEST_TIMED_OUT also has `METADATA`. kprod fails requests that time out on the client with this
//!   code; Java fails them with it too, but also handles the timeout as a disconnect, which requests a
//!   metadata update. Refreshing when a broker answers the code costs one metadata request.
//! - TRANSACTION_COORDINATOR_FENCED is `FATAL` (Java: an abortable failure if a record ever failed with
//!   it). Brokers send it only to one another (WriteTxnMarkers); were a coordinator to answer a client
//!   with it, Java's transactional request handlers would end the producer, as for any unexpected code.
//!
//! Java decides some codes by context, which a per-code table cannot say; the code that sends the
//! request applies those rules itself. For example, a transaction coordinator's INVALID_PRODUCER_EPOCH
//! means a newer producer took over (fatal), while on a record it only dooms the transaction; and inside
//! a transaction every failed record that is not fatal makes the transaction abortable.
//!
//! The one-line descriptions are kprod's own. Codes the table does not know (from a newer broker) are
//! kept as they are, reported as `UNKNOWN`, and have no class (Java reads them as UNKNOWN_SERVER_ERROR).

use std::fmt;

/// A Kafka error code as carried in responses. Unknown codes are kept as they are.
///
/// `Debug` prints the name alone (`NOT_LEADER_OR_FOLLOWER`), or `ErrorCode(1234)` for a code the table
/// does not know; `Display` adds the number (`NOT_LEADER_OR_FOLLOWER (6)`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ErrorCode(pub i16);

/// The classes of an error code: its KIP-1050 category and the producer's routing flags, as Kafka
/// 4.4.0's Java client has them (`tests/error_codes_java.rs` checks every code).
///
/// A set of flags: at most one KIP-1050 category ([`RETRIABLE`](Self::RETRIABLE),
/// [`ABORTABLE`](Self::ABORTABLE), [`APP_RECOVERABLE`](Self::APP_RECOVERABLE),
/// [`INVALID_CONFIG`](Self::INVALID_CONFIG); none means KIP-1050's other errors), plus the producer's
/// routing: [`METADATA`](Self::METADATA) or [`COORDINATOR`](Self::COORDINATOR) (only with `RETRIABLE`),
/// and [`FATAL`](Self::FATAL). `Debug` prints the flags' names, `RETRIABLE | METADATA`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ErrorClass(u8);

impl ErrorClass {
    /// No flag: KIP-1050's other errors (a plain `ApiException` in Java), and NONE.
    pub const OTHER: ErrorClass = ErrorClass(0);
    /// Transient: the same request may succeed later (Java: `RetriableException`).
    pub const RETRIABLE: ErrorClass = ErrorClass(1);
    /// The transaction must be aborted, after which the producer goes on (Java:
    /// `TransactionAbortableException`).
    pub const ABORTABLE: ErrorClass = ErrorClass(1 << 1);
    /// The application must recover, e.g. abort and start again, or re-create the producer when the code
    /// is also [`FATAL`](Self::FATAL) (Java: `ApplicationRecoverableException`).
    pub const APP_RECOVERABLE: ErrorClass = ErrorClass(1 << 2);
    /// A setting, permission or version the application or operator must change (Java:
    /// `InvalidConfigurationException`).
    pub const INVALID_CONFIG: ErrorClass = ErrorClass(1 << 3);
    /// The partition metadata is stale: refresh it before retrying (Java: `InvalidMetadataException`).
    pub const METADATA: ErrorClass = ErrorClass(1 << 4);
    /// The group or transaction coordinator moved: look it up again before retrying (Java: a
    /// `RefreshRetriableException` that is not an `InvalidMetadataException`).
    pub const COORDINATOR: ErrorClass = ErrorClass(1 << 5);
    /// The producer cannot go on and must be closed.
    pub const FATAL: ErrorClass = ErrorClass(1 << 6);

    const NAMES: [(ErrorClass, &'static str); 7] = [
        (Self::RETRIABLE, "RETRIABLE"),
        (Self::ABORTABLE, "ABORTABLE"),
        (Self::APP_RECOVERABLE, "APP_RECOVERABLE"),
        (Self::INVALID_CONFIG, "INVALID_CONFIG"),
        (Self::METADATA, "METADATA"),
        (Self::COORDINATOR, "COORDINATOR"),
        (Self::FATAL, "FATAL"),
    ];

    /// Both sets of flags.
    pub const fn union(self, other: ErrorClass) -> ErrorClass {
        ErrorClass(self.0 | other.0)
    }

    /// True when every flag of `other` is set here.
    pub const fn contains(self, other: ErrorClass) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags as bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The KIP-1050 category.
    pub const fn category(self) -> ErrorCategory {
        if self.contains(Self::RETRIABLE) {
            ErrorCategory::Retriable
        } else if self.contains(Self::ABORTABLE) {
            ErrorCategory::Abortable
        } else if self.contains(Self::APP_RECOVERABLE) {
            ErrorCategory::ApplicationRecoverable
        } else if self.contains(Self::INVALID_CONFIG) {
            ErrorCategory::InvalidConfiguration
        } else {
            ErrorCategory::Other
        }
    }
}

impl std::ops::BitOr for ErrorClass {
    type Output = ErrorClass;
    fn bitor(self, rhs: ErrorClass) -> ErrorClass {
        self.union(rhs)
    }
}

impl fmt::Debug for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Self::NAMES.iter().filter(|(c, _)| self.contains(*c)).map(|(_, n)| *n);
        match names.next() {
            None => f.write_str("OTHER"),
            Some(first) => {
                f.write_str(first)?;
                names.try_for_each(|n| write!(f, " | {n}"))
            }
        }
    }
}

/// KIP-1050's categories: what the application does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Transient; the producer retries on its own until its timeouts run out.
    Retriable,
    /// Abort the transaction; the producer goes on.
    Abortable,
    /// The application recovers: abort the transaction, or re-create the producer when fatal.
    ApplicationRecoverable,
    /// Fix the configuration, permissions or versions.
    InvalidConfiguration,
    /// Anything else (and NONE, and codes the table does not know).
    Other,
}

/// Generates the associated constants and the lookups from one table of
/// `/// description` + `NAME = code, CLASS | CLASS;` entries (`CLASS` names an [`ErrorClass`] flag).
macro_rules! error_codes {
    ($( #[doc = $desc:literal] $name:ident = $code:literal, $($class:ident)|+; )*) => {
        impl ErrorCode {
            $(
                #[doc = $desc]
                #[doc = ""]
                #[doc = concat!("Code `", stringify!($code), "`, [`ErrorClass`] `",
                    stringify!($($class)|+), "`.")]
                pub const $name: ErrorCode = ErrorCode($code);
            )*

            /// Every error code Kafka defines, in ascending order of code (starting at
            /// [`UNKNOWN_SERVER_ERROR`](Self::UNKNOWN_SERVER_ERROR), -1).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code's name as in Kafka's `Errors` enum (`"NOT_LEADER_OR_FOLLOWER"`), or `"UNKNOWN"` for a
            /// code this table does not know.
            pub const fn name(self) -> &'static str {
                match self.0 {
                    $($code => stringify!($name),)*
                    _ => "UNKNOWN",
                }
            }

            /// The code's classes; [`ErrorClass::OTHER`] for unknown codes.
            pub const fn class(self) -> ErrorClass {
                match self.0 {
                    $($code => ErrorClass::OTHER $(.union(ErrorClass::$class))+,)*
                    _ => ErrorClass::OTHER,
                }
            }

            /// A one-line explanation of the code; a generic sentence for unknown codes.
            pub fn description(self) -> &'static str {
                let d = match self.0 {
                    $($code => $desc,)*
                    _ => "An error code this version of kprod does not know.",
                };
                d.trim_start()
            }

            /// True when the code is one of [`ALL`](Self::ALL).
            pub fn is_known(self) -> bool {
                Self::ALL.binary_search(&self).is_ok()
            }

            /// The code with Kafka name `name` (exact, upper case), if there is one.
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name {
                    $(stringify!($name) => Some(ErrorCode::$name),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// The broker hit an unexpected internal error while handling the request.
    UNKNOWN_SERVER_ERROR = -1, OTHER;
    /// No error: the operation succeeded.
    NONE = 0, OTHER;
    /// The requested offset lies outside the range the partition's log currently holds.
    OFFSET_OUT_OF_RANGE = 1, OTHER;
    /// A record failed its CRC check, has a bad size, lacks a key on a compacted topic, or is corrupt.
    CORRUPT_MESSAGE = 2, RETRIABLE;
    /// The broker does not host the requested topic or partition.
    UNKNOWN_TOPIC_OR_PARTITION = 3, RETRIABLE | METADATA;
    /// The fetch size in the request is not acceptable.
    INVALID_FETCH_SIZE = 4, OTHER;
    /// The partition has no leader right now, typically during a leader election.
    LEADER_NOT_AVAILABLE = 5, RETRIABLE | METADATA;
    /// The broker is not the partition's leader (for leader-only requests) or not a replica of it at all.
    NOT_LEADER_OR_FOLLOWER = 6, RETRIABLE | METADATA;
    /// The request did not complete within its timeout.
    REQUEST_TIMED_OUT = 7, RETRIABLE | METADATA;
    /// The broker is not available.
    BROKER_NOT_AVAILABLE = 8, OTHER;
    /// The replica asked for is not available for the partition.
    REPLICA_NOT_AVAILABLE = 9, RETRIABLE | METADATA;
    /// A record or batch exceeds the largest message size the broker accepts.
    MESSAGE_TOO_LARGE = 10, OTHER;
    /// The request carried an outdated controller epoch; the controller has moved.
    STALE_CONTROLLER_EPOCH = 11, OTHER;
    /// The metadata string attached to an offset commit is too long.
    OFFSET_METADATA_TOO_LARGE = 12, OTHER;
    /// The connection was closed before a response arrived.
    NETWORK_EXCEPTION = 13, RETRIABLE | METADATA;
    /// The coordinator is still loading its state and cannot serve requests yet.
    COORDINATOR_LOAD_IN_PROGRESS = 14, RETRIABLE;
    /// The coordinator is not available.
    COORDINATOR_NOT_AVAILABLE = 15, RETRIABLE | COORDINATOR;
    /// The broker is not the coordinator for this group or transactional id.
    NOT_COORDINATOR = 16, RETRIABLE | COORDINATOR;
    /// The topic name is invalid or the operation is not allowed on that topic.
    INVALID_TOPIC_EXCEPTION = 17, INVALID_CONFIG;
    /// A record batch is larger than the broker's configured log segment size.
    RECORD_LIST_TOO_LARGE = 18, INVALID_CONFIG;
    /// The write was rejected because fewer in-sync replicas exist than min.insync.replicas requires.
    NOT_ENOUGH_REPLICAS = 19, RETRIABLE;
    /// The write reached the log, but fewer in-sync replicas than required acknowledged it.
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20, RETRIABLE;
    /// The acks value in a produce request is not valid.
    INVALID_REQUIRED_ACKS = 21, INVALID_CONFIG;
    /// The group generation id given is not the current one.
    ILLEGAL_GENERATION = 22, APP_RECOVERABLE;
    /// The member's protocol type or protocols do not match the group's, or are empty.
    INCONSISTENT_GROUP_PROTOCOL = 23, OTHER;
    /// The group id is not valid.
    INVALID_GROUP_ID = 24, OTHER;
    /// The coordinator does not know the given group member id.
    UNKNOWN_MEMBER_ID = 25, APP_RECOVERABLE;
    /// The session timeout lies outside the broker's allowed group session timeout range.
    INVALID_SESSION_TIMEOUT = 26, OTHER;
    /// The group is rebalancing and the member must rejoin.
    REBALANCE_IN_PROGRESS = 27, OTHER;
    /// The offset commit data has an invalid size.
    INVALID_COMMIT_OFFSET_SIZE = 28, OTHER;
    /// The principal is not authorized to access the topic.
    TOPIC_AUTHORIZATION_FAILED = 29, INVALID_CONFIG;
    /// The principal is not authorized to access the group.
    GROUP_AUTHORIZATION_FAILED = 30, INVALID_CONFIG;
    /// The principal is not authorized for the cluster-level operation.
    CLUSTER_AUTHORIZATION_FAILED = 31, INVALID_CONFIG | FATAL;
    /// A record timestamp falls outside the range the broker accepts.
    INVALID_TIMESTAMP = 32, OTHER;
    /// The broker does not support the SASL mechanism requested.
    UNSUPPORTED_SASL_MECHANISM = 33, INVALID_CONFIG;
    /// The request is not valid in the current state of the SASL exchange.
    ILLEGAL_SASL_STATE = 34, INVALID_CONFIG;
    /// The broker does not support this version of the API.
    UNSUPPORTED_VERSION = 35, INVALID_CONFIG | FATAL;
    /// A topic with this name already exists.
    TOPIC_ALREADY_EXISTS = 36, OTHER;
    /// The partition count is invalid (below one).
    INVALID_PARTITIONS = 37, OTHER;
    /// The replication factor is below one or exceeds the number of available brokers.
    INVALID_REPLICATION_FACTOR = 38, INVALID_CONFIG;
    /// The replica assignment is invalid.
    INVALID_REPLICA_ASSIGNMENT = 39, OTHER;
    /// The configuration given is invalid.
    INVALID_CONFIG = 40, INVALID_CONFIG;
    /// The broker is not the active controller of the cluster.
    NOT_CONTROLLER = 41, RETRIABLE;
    /// The request was malformed or sent to a broker that cannot handle it; the broker log has details.
    INVALID_REQUEST = 42, OTHER;
    /// The request needs a newer message format than the broker or topic uses.
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43, INVALID_CONFIG;
    /// The request's parameters break a policy configured on the broker.
    POLICY_VIOLATION = 44, OTHER;
    /// The broker received a producer sequence number that does not follow the last one it saw.
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45, OTHER;
    /// The broker already received a batch with this producer sequence number.
    DUPLICATE_SEQUENCE_NUMBER = 46, OTHER;
    /// The producer used an epoch older than the current one.
    INVALID_PRODUCER_EPOCH = 47, APP_RECOVERABLE;
    /// The transactional operation is not valid in the transaction's current state.
    INVALID_TXN_STATE = 48, OTHER;
    /// The producer id is not the one currently assigned to the transactional id.
    INVALID_PRODUCER_ID_MAPPING = 49, APP_RECOVERABLE | FATAL;
    /// The transaction timeout exceeds the broker's transaction.max.timeout.ms.
    INVALID_TRANSACTION_TIMEOUT = 50, OTHER;
    /// Another operation on the same transaction is still in progress.
    CONCURRENT_TRANSACTIONS = 51, RETRIABLE;
    /// The transaction coordinator writing a marker has been replaced by a newer one.
    TRANSACTION_COORDINATOR_FENCED = 52, FATAL;
    /// The principal is not authorized to use the transactional id.
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53, INVALID_CONFIG | FATAL;
    /// Security features are disabled on the broker.
    SECURITY_DISABLED = 54, OTHER;
    /// The broker skipped this operation, usually because another part of a batched request failed.
    OPERATION_NOT_ATTEMPTED = 55, OTHER;
    /// The broker hit a disk error accessing the log.
    KAFKA_STORAGE_ERROR = 56, RETRIABLE | METADATA;
    /// The log directory given is not configured on the broker.
    LOG_DIR_NOT_FOUND = 57, OTHER;
    /// SASL authentication failed.
    SASL_AUTHENTICATION_FAILED = 58, INVALID_CONFIG;
    /// The broker has no state for this producer id, for example because retention deleted all its records.
    UNKNOWN_PRODUCER_ID = 59, OTHER;
    /// A partition reassignment is in progress.
    REASSIGNMENT_IN_PROGRESS = 60, OTHER;
    /// Delegation tokens are not enabled on the broker.
    DELEGATION_TOKEN_AUTH_DISABLED = 61, OTHER;
    /// The delegation token does not exist on the broker.
    DELEGATION_TOKEN_NOT_FOUND = 62, OTHER;
    /// The principal is neither the owner nor a renewer of the delegation token.
    DELEGATION_TOKEN_OWNER_MISMATCH = 63, OTHER;
    /// Delegation token requests are refused on plaintext, one-way TLS, or token-authenticated connections.
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64, OTHER;
    /// The principal is not authorized for the delegation token operation.
    DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65, INVALID_CONFIG;
    /// The delegation token has expired.
    DELEGATION_TOKEN_EXPIRED = 66, OTHER;
    /// The principal type given is not supported.
    INVALID_PRINCIPAL_TYPE = 67, OTHER;
    /// The group still has members.
    NON_EMPTY_GROUP = 68, OTHER;
    /// The group id does not exist.
    GROUP_ID_NOT_FOUND = 69, OTHER;
    /// The broker has no fetch session with this id.
    FETCH_SESSION_ID_NOT_FOUND = 70, RETRIABLE;
    /// The fetch session epoch is not the expected one.
    INVALID_FETCH_SESSION_EPOCH = 71, RETRIABLE;
    /// The partition leader has no listener matching the one the metadata request arrived on.
    LISTENER_NOT_FOUND = 72, RETRIABLE | METADATA;
    /// Topic deletion is disabled on the cluster.
    TOPIC_DELETION_DISABLED = 73, OTHER;
    /// The request's leader epoch is older than the broker's.
    FENCED_LEADER_EPOCH = 74, RETRIABLE | METADATA;
    /// The request's leader epoch is newer than the broker knows.
    UNKNOWN_LEADER_EPOCH = 75, RETRIABLE;
    /// The client does not support the partition's compression type.
    UNSUPPORTED_COMPRESSION_TYPE = 76, OTHER;
    /// The broker epoch in the request is outdated.
    STALE_BROKER_EPOCH = 77, OTHER;
    /// The new leader's high watermark has not caught up after an election, so offsets are not served yet.
    OFFSET_NOT_AVAILABLE = 78, RETRIABLE;
    /// The member must obtain a member id before joining the group.
    MEMBER_ID_REQUIRED = 79, OTHER;
    /// The preferred leader is not available.
    PREFERRED_LEADER_NOT_AVAILABLE = 80, RETRIABLE | METADATA;
    /// The group has reached its configured maximum size.
    GROUP_MAX_SIZE_REACHED = 81, OTHER;
    /// Another member registered with the same group.instance.id, fencing this one.
    FENCED_INSTANCE_ID = 82, APP_RECOVERABLE;
    /// No eligible leader is available for the partition.
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83, RETRIABLE | METADATA;
    /// The partition does not need a leader election.
    ELECTION_NOT_NEEDED = 84, RETRIABLE | METADATA;
    /// No partition reassignment is in progress.
    NO_REASSIGNMENT_IN_PROGRESS = 85, OTHER;
    /// Offsets of a topic cannot be deleted while the group is subscribed to it.
    GROUP_SUBSCRIBED_TO_TOPIC = 86, OTHER;
    /// The broker's validation rejected a record.
    INVALID_RECORD = 87, INVALID_CONFIG;
    /// Pending transactional offsets must be resolved before offsets can be read.
    UNSTABLE_OFFSET_COMMIT = 88, RETRIABLE;
    /// The request exceeded a throttling quota.
    THROTTLING_QUOTA_EXCEEDED = 89, RETRIABLE;
    /// A newer producer with the same transactional id has fenced this one.
    PRODUCER_FENCED = 90, APP_RECOVERABLE | FATAL;
    /// The request refers to a resource that does not exist.
    RESOURCE_NOT_FOUND = 91, OTHER;
    /// The request names the same resource more than once.
    DUPLICATE_RESOURCE = 92, OTHER;
    /// The requested credential does not meet the acceptance criteria.
    UNACCEPTABLE_CREDENTIAL = 93, OTHER;
    /// The sender or receiver of a voter-only request is not among the expected voters.
    INCONSISTENT_VOTER_SET = 94, OTHER;
    /// The update version given is invalid.
    INVALID_UPDATE_VERSION = 95, OTHER;
    /// Finalized features could not be updated because of an unexpected server error.
    FEATURE_UPDATE_FAILED = 96, OTHER;
    /// A forwarded request's principal could not be deserialized, pointing to a security misconfiguration.
    PRINCIPAL_DESERIALIZATION_FAILURE = 97, OTHER;
    /// The requested snapshot does not exist.
    SNAPSHOT_NOT_FOUND = 98, OTHER;
    /// The requested position is negative or beyond the end of the snapshot.
    POSITION_OUT_OF_RANGE = 99, OTHER;
    /// The broker does not host a topic with this id.
    UNKNOWN_TOPIC_ID = 100, RETRIABLE | METADATA;
    /// This broker id is already registered.
    DUPLICATE_BROKER_REGISTRATION = 101, OTHER;
    /// The broker id is not registered.
    BROKER_ID_NOT_REGISTERED = 102, OTHER;
    /// The topic id in the request does not match the one in the log.
    INCONSISTENT_TOPIC_ID = 103, RETRIABLE | METADATA;
    /// The cluster id in the request does not match the server's.
    INCONSISTENT_CLUSTER_ID = 104, OTHER;
    /// The transactional id does not exist.
    TRANSACTIONAL_ID_NOT_FOUND = 105, OTHER;
    /// The fetch session used topic ids inconsistently.
    FETCH_SESSION_TOPIC_ID_ERROR = 106, RETRIABLE;
    /// The proposed ISR contains a replica that is not eligible.
    INELIGIBLE_REPLICA = 107, OTHER;
    /// The partition state was updated, but a new leader has since been elected.
    NEW_LEADER_ELECTED = 108, OTHER;
    /// The requested offset now lives in tiered storage.
    OFFSET_MOVED_TO_TIERED_STORAGE = 109, OTHER;
    /// The group coordinator fenced the member's epoch; it must release its partitions and rejoin.
    FENCED_MEMBER_EPOCH = 110, OTHER;
    /// Another group member still holds this instance id and must leave first.
    UNRELEASED_INSTANCE_ID = 111, OTHER;
    /// The group does not support the assignor or its version range.
    UNSUPPORTED_ASSIGNOR = 112, OTHER;
    /// The member epoch is stale; the member must retry with the epoch from its next heartbeat.
    STALE_MEMBER_EPOCH = 113, OTHER;
    /// The request reached an endpoint of the wrong type.
    MISMATCHED_ENDPOINT_TYPE = 114, OTHER;
    /// This endpoint type is not supported yet.
    UNSUPPORTED_ENDPOINT_TYPE = 115, OTHER;
    /// The controller id is not known.
    UNKNOWN_CONTROLLER_ID = 116, OTHER;
    /// A telemetry push used an unknown or outdated subscription id.
    UNKNOWN_SUBSCRIPTION_ID = 117, OTHER;
    /// A telemetry push exceeded the size the broker accepts.
    TELEMETRY_TOO_LARGE = 118, OTHER;
    /// The controller rejected the broker's registration as invalid.
    INVALID_REGISTRATION = 119, OTHER;
    /// The transaction hit an error; aborting it lets the transactional id be used again.
    TRANSACTION_ABORTABLE = 120, ABORTABLE;
    /// The record's state does not allow the delivery acknowledgement.
    INVALID_RECORD_STATE = 121, OTHER;
    /// The share session does not exist.
    SHARE_SESSION_NOT_FOUND = 122, RETRIABLE;
    /// The share session epoch is not the expected one.
    INVALID_SHARE_SESSION_EPOCH = 123, RETRIABLE;
    /// The share coordinator rejected the request because the share-group state epoch did not match.
    FENCED_STATE_EPOCH = 124, OTHER;
    /// The voter key does not match the receiving replica's key.
    INVALID_VOTER_KEY = 125, OTHER;
    /// The voter is already in the voter set.
    DUPLICATE_VOTER = 126, OTHER;
    /// The voter is not in the voter set.
    VOTER_NOT_FOUND = 127, OTHER;
    /// The regular expression is invalid.
    INVALID_REGULAR_EXPRESSION = 128, OTHER;
    /// The client's metadata is stale and it must rebootstrap.
    REBOOTSTRAP_REQUIRED = 129, OTHER;
    /// The Streams topology supplied is invalid.
    STREAMS_INVALID_TOPOLOGY = 130, OTHER;
    /// The Streams topology epoch supplied is invalid.
    STREAMS_INVALID_TOPOLOGY_EPOCH = 131, OTHER;
    /// The Streams topology epoch supplied is outdated.
    STREAMS_TOPOLOGY_FENCED = 132, OTHER;
    /// The broker has reached its limit of share sessions.
    SHARE_SESSION_LIMIT_REACHED = 133, RETRIABLE;
    /// Deleting a group failed; the per-group result's message says why.
    GROUP_DELETION_FAILED = 134, OTHER;
    /// The broker could not apply a Streams topology description update.
    STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED = 135, OTHER;
    /// The controller id given is not registered.
    CONTROLLER_ID_NOT_REGISTERED = 136, OTHER;
}

impl ErrorCode {
    /// True for code 0.
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// The code's KIP-1050 category.
    pub const fn category(self) -> ErrorCategory {
        self.class().category()
    }

    /// True when Kafka treats the error as transient (its exception class is a `RetriableException`), so
    /// the request may succeed if retried. False for unknown codes.
    pub const fn is_retriable(self) -> bool {
        self.class().contains(ErrorClass::RETRIABLE)
    }

    /// True when the code itself says the transaction must be aborted, the producer going on:
    /// TRANSACTION_ABORTABLE alone. Inside a transaction any failed record that is not fatal dooms it
    /// too: [`Error::txn_requires_abort`](crate::Error::txn_requires_abort) answers that question.
    pub const fn is_abortable(self) -> bool {
        self.class().contains(ErrorClass::ABORTABLE)
    }

    /// True for KIP-1050's application-recoverable codes (fencing, stale epochs, group membership).
    pub const fn is_application_recoverable(self) -> bool {
        self.class().contains(ErrorClass::APP_RECOVERABLE)
    }

    /// True when a setting, permission or version must change (authorization, authentication,
    /// UNSUPPORTED_VERSION, invalid topics and records...).
    pub const fn is_invalid_configuration(self) -> bool {
        self.class().contains(ErrorClass::INVALID_CONFIG)
    }

    /// True when the producer must be closed: a record or request failing with the code puts Java's
    /// idempotent or transactional producer in its fatal state (fencing, cluster and transactional-id
    /// authorization, UNSUPPORTED_VERSION, INVALID_PRODUCER_ID_MAPPING; kprod adds
    /// TRANSACTION_COORDINATOR_FENCED).
    pub const fn is_fatal(self) -> bool {
        self.class().contains(ErrorClass::FATAL)
    }

    /// True when the partition metadata is stale and must be refreshed before a retry (leadership moved,
    /// the topic or partition is unknown, the connection failed...).
    pub const fn invalidates_metadata(self) -> bool {
        self.class().contains(ErrorClass::METADATA)
    }

    /// True when the group or transaction coordinator must be looked up again before a retry
    /// (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
    pub const fn coordinator_moved(self) -> bool {
        self.class().contains(ErrorClass::COORDINATOR)
    }
}

impl fmt::Debug for ErrorCode {
    /// The name, so derived `Debug` of responses reads `error_code: NOT_LEADER_OR_FOLLOWER`; the raw
    /// number when the name would be the uninformative `UNKNOWN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_known() {
            f.write_str(self.name())
        } else {
            write!(f, "ErrorCode({})", self.0)
        }
    }
}

impl fmt::Display for ErrorCode {
    /// `NAME (code)`, e.g. `NOT_LEADER_OR_FOLLOWER (6)`; `UNKNOWN (code)` for codes not in the table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl crate::protocol::Wire for ErrorCode {
    fn encode(
        &self,
        out: &mut Vec<u8>,
        cx: crate::protocol::Ctx,
    ) -> Result<(), crate::protocol::ProtocolError> {
        self.0.encode(out, cx)
    }
    fn decode(
        r: &mut crate::protocol::Reader<'_>,
        _cx: crate::protocol::Ctx,
    ) -> Result<Self, crate::protocol::ProtocolError> {
        r.i16().map(ErrorCode)
    }
    fn min_encoded_size(_cx: crate::protocol::Ctx) -> usize {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_complete_and_contiguous() {
        // Kafka 4.4.0 defines -1 and 0..=136 with no gaps.
        assert_eq!(ErrorCode::ALL.len(), 138);
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(i64::from(code.0), i as i64 - 1, "{code}");
        }
        assert_eq!(ErrorCode::ALL.first(), Some(&ErrorCode::UNKNOWN_SERVER_ERROR));
        assert_eq!(ErrorCode::ALL.last(), Some(&ErrorCode::CONTROLLER_ID_NOT_REGISTERED));
    }

    #[test]
    fn codes_and_names_unique() {
        let codes: HashSet<i16> = ErrorCode::ALL.iter().map(|c| c.0).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert!(!names.contains("UNKNOWN"));
    }

    #[test]
    fn name_code_round_trip() {
        for &code in ErrorCode::ALL {
            assert!(code.is_known());
            assert_eq!(ErrorCode::from_name(code.name()), Some(code));
            assert!(!code.description().is_empty());
            assert!(!code.description().starts_with(' '));
            assert_eq!(code.to_string(), format!("{} ({})", code.name(), code.0));
        }
        assert_eq!(ErrorCode::from_name("NO_SUCH_ERROR"), None);
        assert_eq!(ErrorCode::from_name("not_leader_or_follower"), None);
        assert_eq!(ErrorCode::from_name("UNKNOWN"), None);
    }

    #[test]
    fn spot_checks() {
        let cases: &[(ErrorCode, i16, &str, bool)] = &[
            (ErrorCode::UNKNOWN_SERVER_ERROR, -1, "UNKNOWN_SERVER_ERROR", false),
            (ErrorCode::NONE, 0, "NONE", false),
            (ErrorCode::CORRUPT_MESSAGE, 2, "CORRUPT_MESSAGE", true),
            (ErrorCode::NOT_LEADER_OR_FOLLOWER, 6, "NOT_LEADER_OR_FOLLOWER", true),
            (ErrorCode::REQUEST_TIMED_OUT, 7, "REQUEST_TIMED_OUT", true),
            (ErrorCode::MESSAGE_TOO_LARGE, 10, "MESSAGE_TOO_LARGE", false),
            (ErrorCode::NOT_ENOUGH_REPLICAS, 19, "NOT_ENOUGH_REPLICAS", true),
            (ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true),
            (ErrorCode::UNSUPPORTED_VERSION, 35, "UNSUPPORTED_VERSION", false),
            (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false),
            (ErrorCode::DUPLICATE_SEQUENCE_NUMBER, 46, "DUPLICATE_SEQUENCE_NUMBER", false),
            (ErrorCode::INVALID_PRODUCER_EPOCH, 47, "INVALID_PRODUCER_EPOCH", false),
            (ErrorCode::CONCURRENT_TRANSACTIONS, 51, "CONCURRENT_TRANSACTIONS", true),
            (ErrorCode::KAFKA_STORAGE_ERROR, 56, "KAFKA_STORAGE_ERROR", true),
            (ErrorCode::UNKNOWN_PRODUCER_ID, 59, "UNKNOWN_PRODUCER_ID", false),
            (ErrorCode::PRODUCER_FENCED, 90, "PRODUCER_FENCED", false),
            (ErrorCode::TRANSACTION_ABORTABLE, 120, "TRANSACTION_ABORTABLE", false),
            (ErrorCode::GROUP_DELETION_FAILED, 134, "GROUP_DELETION_FAILED", false),
            (ErrorCode::CONTROLLER_ID_NOT_REGISTERED, 136, "CONTROLLER_ID_NOT_REGISTERED", false),
        ];
        for &(code, n, name, retriable) in cases {
            assert_eq!(code.0, n, "{name}");
            assert_eq!(code.name(), name);
            assert_eq!(code.is_retriable(), retriable, "{name}");
        }
        assert_eq!(ErrorCode::NOT_LEADER_OR_FOLLOWER.to_string(), "NOT_LEADER_OR_FOLLOWER (6)");
        assert!(ErrorCode::NONE.is_ok());
        assert!(!ErrorCode::MESSAGE_TOO_LARGE.is_ok());
    }

    #[test]
    fn unknown_codes() {
        for n in [-2, 137, 1000, i16::MAX, i16::MIN] {
            let code = ErrorCode(n);
            assert!(!code.is_known());
            assert_eq!(code.name(), "UNKNOWN");
            assert!(!code.is_retriable());
            assert_eq!(code.class(), ErrorClass::OTHER);
            assert_eq!(code.category(), ErrorCategory::Other);
            assert_eq!(code.to_string(), format!("UNKNOWN ({n})"));
        }
    }

    /// The codes with `flag`, in table order.
    fn with(flag: ErrorClass) -> Vec<ErrorCode> {
        ErrorCode::ALL.iter().copied().filter(|c| c.class().contains(flag)).collect()
    }

    #[test]
    fn classes_are_consistent() {
        let categories = [
            ErrorClass::RETRIABLE,
            ErrorClass::ABORTABLE,
            ErrorClass::APP_RECOVERABLE,
            ErrorClass::INVALID_CONFIG,
        ];
        for &code in ErrorCode::ALL {
            let class = code.class();
            let n = categories.iter().filter(|&&c| class.contains(c)).count();
            assert!(n <= 1, "{code}: {class:?} has {n} KIP-1050 categories");
            if code.invalidates_metadata() || code.coordinator_moved() {
                assert!(code.is_retriable(), "{code}: refreshing only makes sense before a retry");
            }
            assert!(!(code.invalidates_metadata() && code.coordinator_moved()), "{code}");
            assert!(!(code.is_fatal() && code.is_retriable()), "{code}");
            // The accessors read the class, nothing else.
            assert_eq!(code.is_retriable(), class.contains(ErrorClass::RETRIABLE));
            assert_eq!(code.is_abortable(), class.contains(ErrorClass::ABORTABLE));
            assert_eq!(code.is_application_recoverable(), class.contains(ErrorClass::APP_RECOVERABLE));
            assert_eq!(code.is_invalid_configuration(), class.contains(ErrorClass::INVALID_CONFIG));
            assert_eq!(code.is_fatal(), class.contains(ErrorClass::FATAL));
            assert_eq!(code.invalidates_metadata(), class.contains(ErrorClass::METADATA));
            assert_eq!(code.coordinator_moved(), class.contains(ErrorClass::COORDINATOR));
        }
        assert_eq!(ErrorCode::NONE.class(), ErrorClass::OTHER);
    }

    // The small sets pinned by name, so a slip in the table shows here without Java (the full
    // comparison with Kafka's client is tests/error_codes_java.rs).
    #[test]
    fn producer_routing_sets() {
        use ErrorCode as E;
        assert_eq!(
            with(ErrorClass::FATAL),
            [
                E::CLUSTER_AUTHORIZATION_FAILED,
                E::UNSUPPORTED_VERSION,
                E::INVALID_PRODUCER_ID_MAPPING,
                E::TRANSACTION_COORDINATOR_FENCED,
                E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                E::PRODUCER_FENCED,
            ]
        );
        assert_eq!(with(ErrorClass::COORDINATOR), [E::COORDINATOR_NOT_AVAILABLE, E::NOT_COORDINATOR]);
        assert_eq!(with(ErrorClass::ABORTABLE), [E::TRANSACTION_ABORTABLE]);
        assert_eq!(
            with(ErrorClass::APP_RECOVERABLE),
            [
                E::ILLEGAL_GENERATION,
                E::UNKNOWN_MEMBER_ID,
                E::INVALID_PRODUCER_EPOCH,
                E::INVALID_PRODUCER_ID_MAPPING,
                E::FENCED_INSTANCE_ID,
                E::PRODUCER_FENCED,
            ]
        );
        assert_eq!(
            with(ErrorClass::METADATA),
            [
                E::UNKNOWN_TOPIC_OR_PARTITION,
                E::LEADER_NOT_AVAILABLE,
                E::NOT_LEADER_OR_FOLLOWER,
                E::REQUEST_TIMED_OUT,
                E::REPLICA_NOT_AVAILABLE,
                E::NETWORK_EXCEPTION,
                E::KAFKA_STORAGE_ERROR,
                E::LISTENER_NOT_FOUND,
                E::FENCED_LEADER_EPOCH,
                E::PREFERRED_LEADER_NOT_AVAILABLE,
                E::ELIGIBLE_LEADERS_NOT_AVAILABLE,
                E::ELECTION_NOT_NEEDED,
                E::UNKNOWN_TOPIC_ID,
                E::INCONSISTENT_TOPIC_ID,
            ]
        );
        // Retriable but not stale metadata in Java: the broker is behind the client, not ahead.
        assert!(E::UNKNOWN_LEADER_EPOCH.is_retriable() && !E::UNKNOWN_LEADER_EPOCH.invalidates_metadata());
        // KIP-588: a stale epoch on a record is recoverable, not fatal.
        assert!(!E::INVALID_PRODUCER_EPOCH.is_fatal());
    }

    #[test]
    fn categories_and_class_debug() {
        let cases: &[(ErrorCode, ErrorCategory, &str)] = &[
            (ErrorCode::NOT_LEADER_OR_FOLLOWER, ErrorCategory::Retriable, "RETRIABLE | METADATA"),
            (ErrorCode::NOT_COORDINATOR, ErrorCategory::Retriable, "RETRIABLE | COORDINATOR"),
            (ErrorCode::NOT_ENOUGH_REPLICAS, ErrorCategory::Retriable, "RETRIABLE"),
            (ErrorCode::TRANSACTION_ABORTABLE, ErrorCategory::Abortable, "ABORTABLE"),
            (ErrorCode::PRODUCER_FENCED, ErrorCategory::ApplicationRecoverable, "APP_RECOVERABLE | FATAL"),
            (ErrorCode::INVALID_PRODUCER_EPOCH, ErrorCategory::ApplicationRecoverable, "APP_RECOVERABLE"),
            (ErrorCode::TOPIC_AUTHORIZATION_FAILED, ErrorCategory::InvalidConfiguration, "INVALID_CONFIG"),
            (ErrorCode::UNSUPPORTED_VERSION, ErrorCategory::InvalidConfiguration, "INVALID_CONFIG | FATAL"),
            (ErrorCode::TRANSACTION_COORDINATOR_FENCED, ErrorCategory::Other, "FATAL"),
            (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCategory::Other, "OTHER"),
            (ErrorCode::NONE, ErrorCategory::Other, "OTHER"),
        ];
        for &(code, category, debug) in cases {
            assert_eq!(code.category(), category, "{code}");
            assert_eq!(format!("{:?}", code.class()), debug, "{code}");
        }
        let c = ErrorClass::RETRIABLE | ErrorClass::METADATA;
        assert!(c.contains(ErrorClass::RETRIABLE) && c.contains(c) && !c.contains(ErrorClass::FATAL));
        assert_eq!(c.bits(), ErrorClass::RETRIABLE.bits() | ErrorClass::METADATA.bits());
        // Usable in constants.
        const { assert!(ErrorCode::PRODUCER_FENCED.is_fatal() && !ErrorCode::NONE.is_retriable()) };
    }

    #[test]
    fn debug_prints_the_name() {
        assert_eq!(format!("{:?}", ErrorCode::NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(format!("{:?}", ErrorCode::NONE), "NONE");
        assert_eq!(format!("{:?}", ErrorCode::UNKNOWN_SERVER_ERROR), "UNKNOWN_SERVER_ERROR");
        assert_eq!(format!("{:#?}", ErrorCode::NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(format!("{:?}", ErrorCode(1234)), "ErrorCode(1234)");
        assert_eq!(format!("{:?}", ErrorCode(-2)), "ErrorCode(-2)");
        assert_eq!(format!("{:?}", Some(ErrorCode::REQUEST_TIMED_OUT)), "Some(REQUEST_TIMED_OUT)");
        // Display is unchanged.
        assert_eq!(ErrorCode::NOT_LEADER_OR_FOLLOWER.to_string(), "NOT_LEADER_OR_FOLLOWER (6)");
        assert_eq!(ErrorCode(1234).to_string(), "UNKNOWN (1234)");
        for &code in ErrorCode::ALL {
            assert_eq!(format!("{code:?}"), code.name());
        }
    }

    proptest! {
        #[test]
        fn wire_round_trip(code: ErrorCode) {
            use crate::protocol::{Ctx, Reader, Wire};
            let cx = Ctx { version: 0, flexible: false };
            let mut out = Vec::new();
            code.encode(&mut out, cx).unwrap();
            prop_assert_eq!(out.len(), 2);
            prop_assert_eq!(ErrorCode::decode(&mut Reader::new(&out), cx).unwrap(), code);
            prop_assert_eq!(code.is_known(), ErrorCode::ALL.contains(&code));
        }
    }
}
