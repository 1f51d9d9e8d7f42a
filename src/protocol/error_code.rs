//! Kafka error codes: one table with each code's name, whether it is retriable, and what it means.
//!
//! The table mirrors Kafka's `org.apache.kafka.common.protocol.Errors` enum as of Kafka 4.3.1: the codes
//! and names are Kafka's, and a code is retriable exactly when Kafka's exception class for it extends
//! `RetriableException`. The one-line descriptions are kprod's own. Codes the table does not know (from a
//! newer broker) are kept as they are and reported as `UNKNOWN`.

use std::fmt;

/// A Kafka error code as carried in responses. Unknown codes are kept as they are.
///
/// `Debug` prints the name alone (`NOT_LEADER_OR_FOLLOWER`), or `ErrorCode(1234)` for a code the table
/// does not know; `Display` adds the number (`NOT_LEADER_OR_FOLLOWER (6)`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ErrorCode(pub i16);

/// Generates the associated constants and the lookups from one table of
/// `/// description` + `NAME = code, retriable;` entries.
macro_rules! error_codes {
    ($( #[doc = $desc:literal] $name:ident = $code:literal, $retriable:tt; )*) => {
        impl ErrorCode {
            $(
                #[doc = $desc]
                #[doc = ""]
                #[doc = concat!("Code `", stringify!($code), "`, ",
                    error_codes!(@retriable $retriable), ".")]
                pub const $name: ErrorCode = ErrorCode($code);
            )*

            /// Every error code Kafka defines, in ascending order of code (starting at
            /// [`UNKNOWN_SERVER_ERROR`](Self::UNKNOWN_SERVER_ERROR), -1).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code's name as in Kafka's `Errors` enum (`"NOT_LEADER_OR_FOLLOWER"`), or `"UNKNOWN"` for a
            /// code this table does not know.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($code => stringify!($name),)*
                    _ => "UNKNOWN",
                }
            }

            /// True when Kafka treats the error as transient (its exception class is a
            /// `RetriableException`), so the request may succeed if retried. False for unknown codes.
            pub fn is_retriable(self) -> bool {
                match self.0 {
                    $($code => $retriable,)*
                    _ => false,
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
    (@retriable true) => { "retriable" };
    (@retriable false) => { "not retriable" };
}

error_codes! {
    /// The broker hit an unexpected internal error while handling the request.
    UNKNOWN_SERVER_ERROR = -1, false;
    /// No error: the operation succeeded.
    NONE = 0, false;
    /// The requested offset lies outside the range the partition's log currently holds.
    OFFSET_OUT_OF_RANGE = 1, false;
    /// A record failed its CRC check, has a bad size, lacks a key on a compacted topic, or is corrupt.
    CORRUPT_MESSAGE = 2, true;
    /// The broker does not host the requested topic or partition.
    UNKNOWN_TOPIC_OR_PARTITION = 3, true;
    /// The fetch size in the request is not acceptable.
    INVALID_FETCH_SIZE = 4, false;
    /// The partition has no leader right now, typically during a leader election.
    LEADER_NOT_AVAILABLE = 5, true;
    /// The broker is not the partition's leader (for leader-only requests) or not a replica of it at all.
    NOT_LEADER_OR_FOLLOWER = 6, true;
    /// The request did not complete within its timeout.
    REQUEST_TIMED_OUT = 7, true;
    /// The broker is not available.
    BROKER_NOT_AVAILABLE = 8, false;
    /// The replica asked for is not available for the partition.
    REPLICA_NOT_AVAILABLE = 9, true;
    /// A record or batch exceeds the largest message size the broker accepts.
    MESSAGE_TOO_LARGE = 10, false;
    /// The request carried an outdated controller epoch; the controller has moved.
    STALE_CONTROLLER_EPOCH = 11, false;
    /// The metadata string attached to an offset commit is too long.
    OFFSET_METADATA_TOO_LARGE = 12, false;
    /// The connection was closed before a response arrived.
    NETWORK_EXCEPTION = 13, true;
    /// The coordinator is still loading its state and cannot serve requests yet.
    COORDINATOR_LOAD_IN_PROGRESS = 14, true;
    /// The coordinator is not available.
    COORDINATOR_NOT_AVAILABLE = 15, true;
    /// The broker is not the coordinator for this group or transactional id.
    NOT_COORDINATOR = 16, true;
    /// The topic name is invalid or the operation is not allowed on that topic.
    INVALID_TOPIC_EXCEPTION = 17, false;
    /// A record batch is larger than the broker's configured log segment size.
    RECORD_LIST_TOO_LARGE = 18, false;
    /// The write was rejected because fewer in-sync replicas exist than min.insync.replicas requires.
    NOT_ENOUGH_REPLICAS = 19, true;
    /// The write reached the log, but fewer in-sync replicas than required acknowledged it.
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20, true;
    /// The acks value in a produce request is not valid.
    INVALID_REQUIRED_ACKS = 21, false;
    /// The group generation id given is not the current one.
    ILLEGAL_GENERATION = 22, false;
    /// The member's protocol type or protocols do not match the group's, or are empty.
    INCONSISTENT_GROUP_PROTOCOL = 23, false;
    /// The group id is not valid.
    INVALID_GROUP_ID = 24, false;
    /// The coordinator does not know the given group member id.
    UNKNOWN_MEMBER_ID = 25, false;
    /// The session timeout lies outside the broker's allowed group session timeout range.
    INVALID_SESSION_TIMEOUT = 26, false;
    /// The group is rebalancing and the member must rejoin.
    REBALANCE_IN_PROGRESS = 27, false;
    /// The offset commit data has an invalid size.
    INVALID_COMMIT_OFFSET_SIZE = 28, false;
    /// The principal is not authorized to access the topic.
    TOPIC_AUTHORIZATION_FAILED = 29, false;
    /// The principal is not authorized to access the group.
    GROUP_AUTHORIZATION_FAILED = 30, false;
    /// The principal is not authorized for the cluster-level operation.
    CLUSTER_AUTHORIZATION_FAILED = 31, false;
    /// A record timestamp falls outside the range the broker accepts.
    INVALID_TIMESTAMP = 32, false;
    /// The broker does not support the SASL mechanism requested.
    UNSUPPORTED_SASL_MECHANISM = 33, false;
    /// The request is not valid in the current state of the SASL exchange.
    ILLEGAL_SASL_STATE = 34, false;
    /// The broker does not support this version of the API.
    UNSUPPORTED_VERSION = 35, false;
    /// A topic with this name already exists.
    TOPIC_ALREADY_EXISTS = 36, false;
    /// The partition count is invalid (below one).
    INVALID_PARTITIONS = 37, false;
    /// The replication factor is below one or exceeds the number of available brokers.
    INVALID_REPLICATION_FACTOR = 38, false;
    /// The replica assignment is invalid.
    INVALID_REPLICA_ASSIGNMENT = 39, false;
    /// The configuration given is invalid.
    INVALID_CONFIG = 40, false;
    /// The broker is not the active controller of the cluster.
    NOT_CONTROLLER = 41, true;
    /// The request was malformed or sent to a broker that cannot handle it; the broker log has details.
    INVALID_REQUEST = 42, false;
    /// The request needs a newer message format than the broker or topic uses.
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43, false;
    /// The request's parameters break a policy configured on the broker.
    POLICY_VIOLATION = 44, false;
    /// The broker received a producer sequence number that does not follow the last one it saw.
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45, false;
    /// The broker already received a batch with this producer sequence number.
    DUPLICATE_SEQUENCE_NUMBER = 46, false;
    /// The producer used an epoch older than the current one.
    INVALID_PRODUCER_EPOCH = 47, false;
    /// The transactional operation is not valid in the transaction's current state.
    INVALID_TXN_STATE = 48, false;
    /// The producer id is not the one currently assigned to the transactional id.
    INVALID_PRODUCER_ID_MAPPING = 49, false;
    /// The transaction timeout exceeds the broker's transaction.max.timeout.ms.
    INVALID_TRANSACTION_TIMEOUT = 50, false;
    /// Another operation on the same transaction is still in progress.
    CONCURRENT_TRANSACTIONS = 51, true;
    /// The transaction coordinator writing a marker has been replaced by a newer one.
    TRANSACTION_COORDINATOR_FENCED = 52, false;
    /// The principal is not authorized to use the transactional id.
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53, false;
    /// Security features are disabled on the broker.
    SECURITY_DISABLED = 54, false;
    /// The broker skipped this operation, usually because another part of a batched request failed.
    OPERATION_NOT_ATTEMPTED = 55, false;
    /// The broker hit a disk error accessing the log.
    KAFKA_STORAGE_ERROR = 56, true;
    /// The log directory given is not configured on the broker.
    LOG_DIR_NOT_FOUND = 57, false;
    /// SASL authentication failed.
    SASL_AUTHENTICATION_FAILED = 58, false;
    /// The broker has no state for this producer id, for example because retention deleted all its records.
    UNKNOWN_PRODUCER_ID = 59, false;
    /// A partition reassignment is in progress.
    REASSIGNMENT_IN_PROGRESS = 60, false;
    /// Delegation tokens are not enabled on the broker.
    DELEGATION_TOKEN_AUTH_DISABLED = 61, false;
    /// The delegation token does not exist on the broker.
    DELEGATION_TOKEN_NOT_FOUND = 62, false;
    /// The principal is neither the owner nor a renewer of the delegation token.
    DELEGATION_TOKEN_OWNER_MISMATCH = 63, false;
    /// Delegation token requests are refused on plaintext, one-way TLS, or token-authenticated connections.
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64, false;
    /// The principal is not authorized for the delegation token operation.
    DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65, false;
    /// The delegation token has expired.
    DELEGATION_TOKEN_EXPIRED = 66, false;
    /// The principal type given is not supported.
    INVALID_PRINCIPAL_TYPE = 67, false;
    /// The group still has members.
    NON_EMPTY_GROUP = 68, false;
    /// The group id does not exist.
    GROUP_ID_NOT_FOUND = 69, false;
    /// The broker has no fetch session with this id.
    FETCH_SESSION_ID_NOT_FOUND = 70, true;
    /// The fetch session epoch is not the expected one.
    INVALID_FETCH_SESSION_EPOCH = 71, true;
    /// The partition leader has no listener matching the one the metadata request arrived on.
    LISTENER_NOT_FOUND = 72, true;
    /// Topic deletion is disabled on the cluster.
    TOPIC_DELETION_DISABLED = 73, false;
    /// The request's leader epoch is older than the broker's.
    FENCED_LEADER_EPOCH = 74, true;
    /// The request's leader epoch is newer than the broker knows.
    UNKNOWN_LEADER_EPOCH = 75, true;
    /// The client does not support the partition's compression type.
    UNSUPPORTED_COMPRESSION_TYPE = 76, false;
    /// The broker epoch in the request is outdated.
    STALE_BROKER_EPOCH = 77, false;
    /// The new leader's high watermark has not caught up after an election, so offsets are not served yet.
    OFFSET_NOT_AVAILABLE = 78, true;
    /// The member must obtain a member id before joining the group.
    MEMBER_ID_REQUIRED = 79, false;
    /// The preferred leader is not available.
    PREFERRED_LEADER_NOT_AVAILABLE = 80, true;
    /// The group has reached its configured maximum size.
    GROUP_MAX_SIZE_REACHED = 81, false;
    /// Another member registered with the same group.instance.id, fencing this one.
    FENCED_INSTANCE_ID = 82, false;
    /// No eligible leader is available for the partition.
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83, true;
    /// The partition does not need a leader election.
    ELECTION_NOT_NEEDED = 84, true;
    /// No partition reassignment is in progress.
    NO_REASSIGNMENT_IN_PROGRESS = 85, false;
    /// Offsets of a topic cannot be deleted while the group is subscribed to it.
    GROUP_SUBSCRIBED_TO_TOPIC = 86, false;
    /// The broker's validation rejected a record.
    INVALID_RECORD = 87, false;
    /// Pending transactional offsets must be resolved before offsets can be read.
    UNSTABLE_OFFSET_COMMIT = 88, true;
    /// The request exceeded a throttling quota.
    THROTTLING_QUOTA_EXCEEDED = 89, true;
    /// A newer producer with the same transactional id has fenced this one.
    PRODUCER_FENCED = 90, false;
    /// The request refers to a resource that does not exist.
    RESOURCE_NOT_FOUND = 91, false;
    /// The request names the same resource more than once.
    DUPLICATE_RESOURCE = 92, false;
    /// The requested credential does not meet the acceptance criteria.
    UNACCEPTABLE_CREDENTIAL = 93, false;
    /// The sender or receiver of a voter-only request is not among the expected voters.
    INCONSISTENT_VOTER_SET = 94, false;
    /// The update version given is invalid.
    INVALID_UPDATE_VERSION = 95, false;
    /// Finalized features could not be updated because of an unexpected server error.
    FEATURE_UPDATE_FAILED = 96, false;
    /// A forwarded request's principal could not be deserialized, pointing to a security misconfiguration.
    PRINCIPAL_DESERIALIZATION_FAILURE = 97, false;
    /// The requested snapshot does not exist.
    SNAPSHOT_NOT_FOUND = 98, false;
    /// The requested position is negative or beyond the end of the snapshot.
    POSITION_OUT_OF_RANGE = 99, false;
    /// The broker does not host a topic with this id.
    UNKNOWN_TOPIC_ID = 100, true;
    /// This broker id is already registered.
    DUPLICATE_BROKER_REGISTRATION = 101, false;
    /// The broker id is not registered.
    BROKER_ID_NOT_REGISTERED = 102, false;
    /// The topic id in the request does not match the one in the log.
    INCONSISTENT_TOPIC_ID = 103, true;
    /// The cluster id in the request does not match the server's.
    INCONSISTENT_CLUSTER_ID = 104, false;
    /// The transactional id does not exist.
    TRANSACTIONAL_ID_NOT_FOUND = 105, false;
    /// The fetch session used topic ids inconsistently.
    FETCH_SESSION_TOPIC_ID_ERROR = 106, true;
    /// The proposed ISR contains a replica that is not eligible.
    INELIGIBLE_REPLICA = 107, false;
    /// The partition state was updated, but a new leader has since been elected.
    NEW_LEADER_ELECTED = 108, false;
    /// The requested offset now lives in tiered storage.
    OFFSET_MOVED_TO_TIERED_STORAGE = 109, false;
    /// The group coordinator fenced the member's epoch; it must release its partitions and rejoin.
    FENCED_MEMBER_EPOCH = 110, false;
    /// Another group member still holds this instance id and must leave first.
    UNRELEASED_INSTANCE_ID = 111, false;
    /// The group does not support the assignor or its version range.
    UNSUPPORTED_ASSIGNOR = 112, false;
    /// The member epoch is stale; the member must retry with the epoch from its next heartbeat.
    STALE_MEMBER_EPOCH = 113, false;
    /// The request reached an endpoint of the wrong type.
    MISMATCHED_ENDPOINT_TYPE = 114, false;
    /// This endpoint type is not supported yet.
    UNSUPPORTED_ENDPOINT_TYPE = 115, false;
    /// The controller id is not known.
    UNKNOWN_CONTROLLER_ID = 116, false;
    /// A telemetry push used an unknown or outdated subscription id.
    UNKNOWN_SUBSCRIPTION_ID = 117, false;
    /// A telemetry push exceeded the size the broker accepts.
    TELEMETRY_TOO_LARGE = 118, false;
    /// The controller rejected the broker's registration as invalid.
    INVALID_REGISTRATION = 119, false;
    /// The transaction hit an error; aborting it lets the transactional id be used again.
    TRANSACTION_ABORTABLE = 120, false;
    /// The record's state does not allow the delivery acknowledgement.
    INVALID_RECORD_STATE = 121, false;
    /// The share session does not exist.
    SHARE_SESSION_NOT_FOUND = 122, true;
    /// The share session epoch is not the expected one.
    INVALID_SHARE_SESSION_EPOCH = 123, true;
    /// The share coordinator rejected the request because the share-group state epoch did not match.
    FENCED_STATE_EPOCH = 124, false;
    /// The voter key does not match the receiving replica's key.
    INVALID_VOTER_KEY = 125, false;
    /// The voter is already in the voter set.
    DUPLICATE_VOTER = 126, false;
    /// The voter is not in the voter set.
    VOTER_NOT_FOUND = 127, false;
    /// The regular expression is invalid.
    INVALID_REGULAR_EXPRESSION = 128, false;
    /// The client's metadata is stale and it must rebootstrap.
    REBOOTSTRAP_REQUIRED = 129, false;
    /// The Streams topology supplied is invalid.
    STREAMS_INVALID_TOPOLOGY = 130, false;
    /// The Streams topology epoch supplied is invalid.
    STREAMS_INVALID_TOPOLOGY_EPOCH = 131, false;
    /// The Streams topology epoch supplied is outdated.
    STREAMS_TOPOLOGY_FENCED = 132, false;
    /// The broker has reached its limit of share sessions.
    SHARE_SESSION_LIMIT_REACHED = 133, true;
}

impl ErrorCode {
    /// True for code 0.
    pub fn is_ok(self) -> bool {
        self.0 == 0
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
        // Kafka 4.3.1 defines -1 and 0..=133 with no gaps.
        assert_eq!(ErrorCode::ALL.len(), 135);
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(i64::from(code.0), i as i64 - 1, "{code}");
        }
        assert_eq!(ErrorCode::ALL.first(), Some(&ErrorCode::UNKNOWN_SERVER_ERROR));
        assert_eq!(ErrorCode::ALL.last(), Some(&ErrorCode::SHARE_SESSION_LIMIT_REACHED));
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
        for n in [-2, 134, 1000, i16::MAX, i16::MIN] {
            let code = ErrorCode(n);
            assert!(!code.is_known());
            assert_eq!(code.name(), "UNKNOWN");
            assert!(!code.is_retriable());
            assert_eq!(code.to_string(), format!("UNKNOWN ({n})"));
        }
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
