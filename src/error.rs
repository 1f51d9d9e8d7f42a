//! The crate's one public error type, [`Error`], and [`SendError`], which hands a refused record back.
//!
//! `Error` is `Clone` because one failed produce request fails every record of its batches: the same
//! error is delivered to many callbacks. That is why the I/O error is held in an [`Arc`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{ErrorCode, ProtocolError};

/// Everything that can go wrong in kprod.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration property is missing, malformed, out of range or inconsistent with another.
    #[error("invalid configuration {key}: {message}")]
    Config {
        /// The Java property name, e.g. `linger.ms`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A feature kprod does not implement (yet); the text names the property or feature.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An operation did not complete in time; the text says which.
    #[error("timed out: {0}")]
    Timeout(String),
    /// No buffer memory became free within `max.block.ms` (at once, for `try_send` and sends from a
    /// delivery callback, which do not wait).
    #[error("{}", describe_exhausted(*.size, *.max_block))]
    BufferExhausted {
        /// The bytes asked for.
        size: usize,
        /// How long the send waited.
        max_block: Duration,
    },
    /// A record is larger than `max.request.size` or `buffer.memory` allows.
    #[error("record of {size} bytes exceeds {setting} ({max} bytes)")]
    RecordTooLarge {
        /// The record's serialized size.
        size: usize,
        /// The limit it broke.
        max: usize,
        /// The property that sets the limit: `max.request.size` or `buffer.memory`.
        setting: &'static str,
    },
    /// The topic or partition did not appear in metadata within `max.block.ms`.
    #[error(
        "{} not present in metadata {}{}",
        describe_partition(.topic, *.partition),
        describe_wait(*.waited),
        .cause.as_deref().map(|c| format!(": {c}")).unwrap_or_default()
    )]
    UnknownTopicOrPartition {
        /// The topic.
        topic: String,
        /// The partition, when the record named one.
        partition: Option<i32>,
        /// How long the call waited for it (`max.block.ms`, or zero for `try_send`).
        waited: Duration,
        /// What the producer knows of why: the error the brokers answered for the topic, or why no
        /// broker could be reached.
        cause: Option<String>,
    },
    /// The record is malformed: a negative timestamp or partition (Java's `IllegalArgumentException`).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The topic name is not a legal Kafka topic name (refused before any request, as the broker would
    /// with INVALID_TOPIC_EXCEPTION).
    #[error("invalid topic name {topic:?}: {reason}")]
    InvalidTopic {
        /// The name.
        topic: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The producer has been closed.
    #[error("the producer is closed")]
    Closed,
    /// A broker answered with an error code.
    #[error("broker error {code}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// The Kafka error code; its `Display` gives the name.
        code: ErrorCode,
        /// The broker's error message, when it sent one.
        message: Option<String>,
    },
    /// A request or response could not be encoded or decoded.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A socket or other I/O operation failed.
    #[error("I/O: {0}")]
    Io(Arc<std::io::Error>),
    /// The producer hit an error it cannot recover from and must be closed.
    #[error("fatal: {reason}")]
    Fatal {
        /// Why.
        reason: String,
    },
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error("delivery.timeout.ms expired before the record was acknowledged")]
    DeliveryTimeout,
    /// A user callback panicked; the text is the panic message when it was a string.
    #[error("a callback panicked: {0}")]
    CallbackPanicked(String),
    /// An API was called in a state that does not allow it (e.g. `send` on a transactional producer
    /// outside a transaction, `commit_transaction` before `begin_transaction`).
    #[error("illegal state: {0}")]
    IllegalState(String),
    /// The record's transaction was aborted before the record was sent.
    #[error("the transaction was aborted")]
    TransactionAborted,
    /// The record was purged by [`Producer::purge`](crate::Producer::purge) before a broker
    /// acknowledged it (librdkafka's `RD_KAFKA_RESP_ERR__PURGE_QUEUE` / `__PURGE_INFLIGHT`). A record
    /// purged while in flight may still have been written. Neither retriable nor fatal; in a
    /// transaction it dooms the transaction (abort it).
    #[error("purged before it was acknowledged (Producer::purge)")]
    Purged,
    /// A broker could not be reached or dropped the connection: it refused it, its name did not
    /// resolve, or the connection failed. Reported to the `on_error` hook (librdkafka's
    /// `RD_KAFKA_RESP_ERR__TRANSPORT` / `__RESOLVE`), once each time the broker goes from reachable to
    /// failing; the producer keeps retrying.
    #[error("broker {broker}: {message}")]
    Transport {
        /// The broker (`host:port`).
        broker: String,
        /// What failed.
        message: String,
    },
    /// No broker connection is up and every broker tried has failed (librdkafka's
    /// `__ALL_BROKERS_DOWN`). Reported to the `on_error` hook once each time it becomes true.
    #[error("all {brokers} known brokers are down")]
    AllBrokersDown {
        /// How many brokers (or bootstrap servers) were tried.
        brokers: usize,
    },
    /// A broker connection failed to authenticate: a TLS certificate or handshake failure
    /// (`mechanism` "SSL") or a SASL failure (`mechanism` "SASL/PLAIN", "SASL/SCRAM-SHA-512", ...; the
    /// message is the broker's). Sends fail with it until a connection authenticates again; it is
    /// neither retriable nor fatal (Java's `AuthenticationException`).
    #[error("{mechanism} authentication with {broker} failed: {message}")]
    Authentication {
        /// `SSL` or `SASL/<mechanism>`.
        mechanism: String,
        /// The broker (`host:port`).
        broker: String,
        /// What failed.
        message: String,
    },
}

fn describe_wait(waited: Duration) -> String {
    if waited.is_zero() {
        "(try_send does not wait)".into()
    } else {
        format!("after {waited:?} (max.block.ms)")
    }
}

fn describe_exhausted(size: usize, max_block: Duration) -> String {
    if max_block.is_zero() {
        format!("no {size} bytes of buffer memory free (buffer.memory is in use; this send does not wait)")
    } else {
        format!("no {size} bytes of buffer memory became free within max.block.ms ({max_block:?})")
    }
}

fn describe_partition(topic: &str, partition: Option<i32>) -> String {
    match partition {
        Some(p) => format!("partition {topic}-{p}"),
        None => format!("topic {topic}"),
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(Arc::new(e))
    }
}

impl Error {
    /// A [`Config`](Error::Config) error for `key`.
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { key: key.into(), message: message.into() }
    }

    /// True when trying the same operation again may succeed.
    ///
    /// Follows Java's exception hierarchy: timeouts (including buffer exhaustion and delivery timeout)
    /// and missing metadata are retriable there, as are broker codes Kafka marks retriable.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Broker { code, .. } => code.is_retriable(),
            Error::Io(_)
            | Error::Transport { .. }
            | Error::AllBrokersDown { .. }
            | Error::Timeout(_)
            | Error::BufferExhausted { .. }
            | Error::UnknownTopicOrPartition { .. }
            | Error::DeliveryTimeout => true,
            Error::Config { .. }
            | Error::Unsupported(_)
            | Error::RecordTooLarge { .. }
            | Error::InvalidRecord(_)
            | Error::InvalidTopic { .. }
            | Error::Closed
            | Error::Protocol(_)
            | Error::Fatal { .. }
            | Error::CallbackPanicked(_)
            | Error::IllegalState(_)
            | Error::TransactionAborted
            | Error::Purged
            | Error::Authentication { .. } => false,
        }
    }

    /// True when the producer cannot continue and must be closed.
    ///
    /// [`Fatal`](Error::Fatal); [`Unsupported`](Error::Unsupported), which a running producer reports
    /// only when the brokers lack an API or version it needs (Java: `UnsupportedVersionException`,
    /// fatal), and which at construction means there is no producer to go on with; and the broker codes
    /// the error table marks fatal ([`ErrorCode::is_fatal`]): being fenced by a newer instance, the
    /// authorization failures on the cluster or transactional id, UNSUPPORTED_VERSION and
    /// INVALID_PRODUCER_ID_MAPPING, as in Java's `TransactionManager`. INVALID_PRODUCER_EPOCH on a record
    /// is not (KIP-588: abort the transaction and go on); from a transaction coordinator it is reported
    /// as PRODUCER_FENCED.
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Fatal { .. } | Error::Unsupported(_) => true,
            Error::Broker { code, .. } => code.is_fatal(),
            _ => false,
        }
    }

    /// True when, for a transactional producer, the error dooms the current transaction but not the
    /// producer: call `abort_transaction`, then begin a new transaction.
    ///
    /// As in Java's `TransactionManager`, where every failure of a record or of a `send` inside a
    /// transaction that is not fatal leaves the transaction abortable (KIP-1050's abortable and
    /// application-recoverable codes, and retriable ones once retries are exhausted):
    ///
    /// - a [`Broker`](Error::Broker) error whose code is not [fatal](ErrorCode::is_fatal);
    /// - [`TransactionAborted`](Error::TransactionAborted): the record's transaction is being aborted
    ///   (abort it if your code is not already doing so);
    /// - [`DeliveryTimeout`](Error::DeliveryTimeout): a record of the transaction expired;
    /// - [`Purged`](Error::Purged): a record of the transaction was purged;
    /// - the refusals a Java `send` reports as an `ApiException`:
    ///   [`BufferExhausted`](Error::BufferExhausted), [`RecordTooLarge`](Error::RecordTooLarge),
    ///   [`UnknownTopicOrPartition`](Error::UnknownTopicOrPartition) and
    ///   [`InvalidTopic`](Error::InvalidTopic);
    /// - [`Authentication`](Error::Authentication): a record of the transaction failed with it (Java
    ///   leaves the transaction abortable on an `AuthenticationException`).
    ///
    /// False for [fatal](Self::is_fatal) errors (close the producer instead), for a
    /// [`Timeout`](Error::Timeout) of a call (call it again), and for errors about the call itself:
    /// illegal state, configuration, a malformed record (Java: `IllegalArgumentException`, which leaves
    /// the transaction alone), a closed producer, a panicking callback, I/O and protocol errors.
    pub fn txn_requires_abort(&self) -> bool {
        match self {
            Error::Broker { code, .. } => !code.is_ok() && !code.is_fatal(),
            Error::TransactionAborted
            | Error::DeliveryTimeout
            | Error::Purged
            | Error::BufferExhausted { .. }
            | Error::RecordTooLarge { .. }
            | Error::UnknownTopicOrPartition { .. }
            | Error::InvalidTopic { .. }
            | Error::Authentication { .. } => true,
            Error::Config { .. }
            | Error::Unsupported(_)
            | Error::Timeout(_)
            | Error::InvalidRecord(_)
            | Error::Closed
            | Error::Protocol(_)
            | Error::Io(_)
            | Error::Transport { .. }
            | Error::AllBrokersDown { .. }
            | Error::Fatal { .. }
            | Error::CallbackPanicked(_)
            | Error::IllegalState(_) => false,
        }
    }

    /// The broker error code, for [`Broker`](Error::Broker) errors.
    pub fn broker_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A send that was refused before the record was accepted; the record is handed back to the caller.
///
/// `Debug` and `Display` do not require `R: Debug`, so records of any type can travel in it.
pub struct SendError<R> {
    /// Why the send was refused.
    pub error: Error,
    /// The record, unchanged.
    pub record: R,
}

impl<R> SendError<R> {
    /// Wraps `record` with the reason it was refused.
    pub fn new(error: Error, record: R) -> Self {
        SendError { error, record }
    }

    /// The record, to retry or drop.
    pub fn into_record(self) -> R {
        self.record
    }

    /// Why the send was refused.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Splits into the error and the record.
    pub fn into_parts(self) -> (Error, R) {
        (self.error, self.record)
    }
}

impl<R> fmt::Debug for SendError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").field("error", &self.error).finish_non_exhaustive()
    }
}

impl<R> fmt::Display for SendError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "send refused: {}", self.error)
    }
}

impl<R> std::error::Error for SendError<R> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<R> From<SendError<R>> for Error {
    fn from(e: SendError<R>) -> Self {
        e.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_clone_send_sync() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<Error>();
        let e = Error::from(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        let copy = e.clone();
        assert_eq!(e.to_string(), copy.to_string());
        assert!(e.to_string().contains("reset"));
    }

    #[test]
    fn broker_error_displays_code_name() {
        let e = Error::Broker { code: ErrorCode::NOT_LEADER_OR_FOLLOWER, message: None };
        assert_eq!(e.to_string(), "broker error NOT_LEADER_OR_FOLLOWER (6)");
        let e = Error::Broker { code: ErrorCode::MESSAGE_TOO_LARGE, message: Some("too big".into()) };
        assert_eq!(e.to_string(), "broker error MESSAGE_TOO_LARGE (10): too big");
        assert_eq!(e.broker_code(), Some(ErrorCode::MESSAGE_TOO_LARGE));
    }

    #[test]
    fn retriable_follows_broker_code_and_java_hierarchy() {
        assert!(Error::Broker { code: ErrorCode::NOT_LEADER_OR_FOLLOWER, message: None }.is_retriable());
        assert!(!Error::Broker { code: ErrorCode::MESSAGE_TOO_LARGE, message: None }.is_retriable());
        assert!(Error::Timeout("metadata".into()).is_retriable());
        assert!(Error::DeliveryTimeout.is_retriable());
        assert!(Error::BufferExhausted { size: 10, max_block: Duration::from_secs(1) }.is_retriable());
        assert!(Error::from(std::io::Error::other("x")).is_retriable());
        assert!(!Error::Closed.is_retriable());
        assert!(!Error::config("linger.ms", "bad").is_retriable());
        assert!(!Error::RecordTooLarge { size: 2, max: 1, setting: "max.request.size" }.is_retriable());
    }

    fn broker(code: ErrorCode) -> Error {
        Error::Broker { code, message: None }
    }

    #[test]
    fn fatal_errors() {
        assert!(Error::Fatal { reason: "fenced".into() }.is_fatal());
        assert!(broker(ErrorCode::PRODUCER_FENCED).is_fatal());
        assert!(!broker(ErrorCode::NOT_LEADER_OR_FOLLOWER).is_fatal());
        assert!(!Error::Closed.is_fatal());
        // The four codes kprod always treated as fatal.
        for code in [
            ErrorCode::PRODUCER_FENCED,
            ErrorCode::TRANSACTION_COORDINATOR_FENCED,
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
        ] {
            assert!(broker(code).is_fatal(), "{code}");
        }
        // Fatal in Kafka 4.4.0's TransactionManager too.
        assert!(broker(ErrorCode::UNSUPPORTED_VERSION).is_fatal());
        assert!(broker(ErrorCode::INVALID_PRODUCER_ID_MAPPING).is_fatal());
        assert!(Error::Unsupported("the broker does not support InitProducerId".into()).is_fatal());
        // KIP-588: abortable, not fatal.
        assert!(!broker(ErrorCode::INVALID_PRODUCER_EPOCH).is_fatal());
        assert!(!broker(ErrorCode::TOPIC_AUTHORIZATION_FAILED).is_fatal());
        assert!(!Error::DeliveryTimeout.is_fatal());
    }

    #[test]
    fn errors_that_doom_only_the_transaction() {
        for code in [
            ErrorCode::TRANSACTION_ABORTABLE,
            ErrorCode::INVALID_PRODUCER_EPOCH,
            ErrorCode::RECORD_LIST_TOO_LARGE,
            ErrorCode::TOPIC_AUTHORIZATION_FAILED,
            // Retriable, but delivered to the application only once retries ran out.
            ErrorCode::NOT_ENOUGH_REPLICAS,
            ErrorCode::UNKNOWN_SERVER_ERROR,
            ErrorCode(1234),
        ] {
            assert!(broker(code).txn_requires_abort(), "{code}");
        }
        for code in [ErrorCode::NONE, ErrorCode::PRODUCER_FENCED, ErrorCode::TRANSACTION_COORDINATOR_FENCED] {
            assert!(!broker(code).txn_requires_abort(), "{code}");
        }
        assert!(Error::TransactionAborted.txn_requires_abort());
        assert!(Error::DeliveryTimeout.txn_requires_abort());
        assert!(Error::BufferExhausted { size: 1, max_block: Duration::ZERO }.txn_requires_abort());
        assert!(Error::RecordTooLarge { size: 2, max: 1, setting: "max.request.size" }.txn_requires_abort());
        assert!(!Error::Timeout("commit".into()).txn_requires_abort(), "call commit again");
        assert!(!Error::IllegalState("commit before begin".into()).txn_requires_abort());
        assert!(!Error::InvalidRecord("negative timestamp".into()).txn_requires_abort());
        assert!(!Error::Fatal { reason: "x".into() }.txn_requires_abort());
        assert!(!Error::Closed.txn_requires_abort());
        assert!(Error::Purged.txn_requires_abort(), "a purged record dooms its transaction");
        assert!(!Error::Purged.is_retriable() && !Error::Purged.is_fatal());
        assert_eq!(Error::Purged.to_string(), "purged before it was acknowledged (Producer::purge)");
        // Fatal and abortable exclude each other.
        for &code in ErrorCode::ALL {
            let e = broker(code);
            assert!(!(e.is_fatal() && e.txn_requires_abort()), "{code}");
            assert_eq!(e.is_retriable(), code.is_retriable(), "{code}");
        }
    }

    #[test]
    fn config_error_names_key() {
        let e = Error::config("linger.ms", "must be at least 0");
        assert_eq!(e.to_string(), "invalid configuration linger.ms: must be at least 0");
    }

    #[test]
    fn unknown_topic_display() {
        let e = Error::UnknownTopicOrPartition {
            topic: "t".into(),
            partition: Some(3),
            waited: Duration::from_secs(60),
            cause: None,
        };
        assert_eq!(e.to_string(), "partition t-3 not present in metadata after 60s (max.block.ms)");
        let e = Error::UnknownTopicOrPartition {
            topic: "t".into(),
            partition: None,
            waited: Duration::ZERO,
            cause: Some("no broker answered (127.0.0.1:1: connection refused)".into()),
        };
        assert_eq!(
            e.to_string(),
            "topic t not present in metadata (try_send does not wait): no broker answered (127.0.0.1:1: \
             connection refused)"
        );
    }

    #[test]
    fn size_errors_name_the_setting_and_say_whether_they_waited() {
        let e = Error::RecordTooLarge { size: 2097226, max: 1048576, setting: "max.request.size" };
        assert_eq!(e.to_string(), "record of 2097226 bytes exceeds max.request.size (1048576 bytes)");
        let e = Error::BufferExhausted { size: 100, max_block: Duration::ZERO };
        assert!(e.to_string().contains("does not wait"), "{e}");
        assert!(!e.to_string().contains("max.block.ms"), "{e}");
        let e = Error::BufferExhausted { size: 100, max_block: Duration::from_secs(1) };
        assert!(e.to_string().contains("within max.block.ms (1s)"), "{e}");
    }

    #[test]
    fn send_error_returns_record_without_debug_bound() {
        struct Opaque(u32);
        let e = SendError::new(Error::Closed, Opaque(7));
        assert_eq!(format!("{e:?}"), "SendError { error: Closed, .. }");
        assert_eq!(e.to_string(), "send refused: the producer is closed");
        assert!(matches!(e.error(), Error::Closed));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.into_record().0, 7);
        let (err, rec) = SendError::new(Error::Closed, Opaque(8)).into_parts();
        assert!(matches!(err, Error::Closed));
        assert_eq!(rec.0, 8);
    }

    #[test]
    fn protocol_error_converts() {
        let e: Error = ProtocolError::Truncated { needed: 4 }.into();
        assert!(matches!(e, Error::Protocol(_)));
        assert!(!e.is_retriable());
    }
}
