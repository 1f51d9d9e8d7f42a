//! Producer configuration under the Java producer's property names.
//!
//! One static table, [`PROPERTIES`], describes every property kprod knows: its Java type, default, valid
//! values, importance and whether kprod supports it. Parsing ([`ProducerConfig::set`]), range checks and the
//! generated reference ([`configuration_markdown`], written to `docs/configuration.md`) all read that
//! table, so they cannot disagree.
//!
//! Defaults and ranges are Kafka 4.4.0's `ProducerConfig`, including `enable.idempotence=true`.
//!
//! ```
//! use std::time::Duration;
//! use kprod::config::ProducerConfig;
//!
//! let config = ProducerConfig::builder()
//!     .bootstrap_servers("127.0.0.1:9092")
//!     .linger(Duration::from_millis(10))
//!     .build()?;
//! assert_eq!(config.batch_size(), 16384);
//!
//! let same = ProducerConfig::from_properties([("bootstrap.servers", "127.0.0.1:9092"), ("linger.ms", "10")])?;
//! assert_eq!(same.linger(), config.linger());
//! # Ok::<(), kprod::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::compression::CompressionType;
use crate::error::Error;
use crate::security::{Props, SecurityProtocol};

/// A property's type, as the Java `ConfigDef` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PropertyType {
    /// Free text.
    String,
    /// Comma-separated values.
    List,
    /// 32-bit signed integer.
    Int,
    /// 64-bit signed integer (all `*.ms` durations).
    Long,
    /// 16-bit signed integer.
    Short,
    /// Floating point.
    Double,
    /// `true` or `false`, case-insensitive.
    Boolean,
    /// A Java class name.
    Class,
    /// Secret text.
    Password,
}

impl PropertyType {
    /// The type's name in lower case, e.g. `long`.
    pub fn name(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::List => "list",
            PropertyType::Int => "int",
            PropertyType::Long => "long",
            PropertyType::Short => "short",
            PropertyType::Double => "double",
            PropertyType::Boolean => "boolean",
            PropertyType::Class => "class",
            PropertyType::Password => "password",
        }
    }

    /// The representable range of an integer type.
    fn int_bounds(self) -> Option<(i64, i64)> {
        match self {
            PropertyType::Int => Some((i32::MIN.into(), i32::MAX.into())),
            PropertyType::Long => Some((i64::MIN, i64::MAX)),
            PropertyType::Short => Some((i16::MIN.into(), i16::MAX.into())),
            _ => None,
        }
    }
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values a property accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Validity {
    /// Any value of the type.
    Any,
    /// An integer at least this.
    AtLeast(i64),
    /// An integer in this inclusive range.
    Between(i64, i64),
    /// One of these strings, exactly.
    OneOf(&'static [&'static str]),
    /// A non-empty value.
    NonEmpty,
    /// A rule checked in code, described here.
    Described(&'static str),
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validity::Any => f.write_str("any"),
            Validity::AtLeast(min) => write!(f, "[{min},...]"),
            Validity::Between(min, max) => write!(f, "[{min},...,{max}]"),
            Validity::OneOf(values) => f.write_str(&values.join(", ")),
            Validity::NonEmpty => f.write_str("non-empty"),
            Validity::Described(text) => f.write_str(text),
        }
    }
}

/// How much a property matters, as the Java documentation ranks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Importance {
    /// Usually needs setting.
    High,
    /// Often worth tuning.
    Medium,
    /// Rarely changed.
    Low,
}

impl Importance {
    /// `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "high",
            Importance::Medium => "medium",
            Importance::Low => "low",
        }
    }
}

/// Whether kprod implements a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented.
    Yes,
    /// Accepted, but some values or effects are not implemented; the text says which.
    Partly(&'static str),
    /// Not implemented: any value but the Java default is an [`Error::Unsupported`]; the text says why.
    No(&'static str),
}

/// One row of [`PROPERTIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyDef {
    /// The Java property name, e.g. `linger.ms`.
    pub name: &'static str,
    /// The Java type.
    pub ty: PropertyType,
    /// kprod's default as text (`None`: no default); equals Java's unless `java_default` says otherwise.
    pub default: Option<&'static str>,
    /// The Java producer's default where kprod's differs.
    pub java_default: Option<&'static str>,
    /// Accepted values.
    pub valid: Validity,
    /// How much it matters.
    pub importance: Importance,
    /// Whether kprod implements it.
    pub support: Support,
    /// One line saying what it does.
    pub doc: &'static str,
}

const fn prop(
    name: &'static str,
    ty: PropertyType,
    default: Option<&'static str>,
    valid: Validity,
    importance: Importance,
    support: Support,
    doc: &'static str,
) -> PropertyDef {
    PropertyDef { name, ty, default, java_default: None, valid, importance, support, doc }
}

/// A row whose kprod default differs from the Java producer's (`java_default`).
const fn with_java_default(java_default: &'static str, p: PropertyDef) -> PropertyDef {
    PropertyDef { java_default: Some(java_default), ..p }
}

use Importance::{High, Low, Medium};
use PropertyType as T;
use Validity::{AtLeast, Between, Described, NonEmpty, OneOf};

const ACKS_VALUES: &[&str] = &["all", "-1", "0", "1"];
const COMPRESSION_VALUES: &[&str] = &["none", "gzip", "snappy", "lz4", "zstd"];
const NO_SERIALIZERS: &str = "kprod sends bytes; serialize keys and values before calling send";
const NO_TLS: &str = "not a TLS setting kprod knows";
const NO_SASL: &str = "not a SASL setting kprod knows";
const NO_JVM_TLS: &str = "a JVM TLS setting; kprod uses rustls with the ring provider";
const NO_METRICS: &str = "Java metrics classes cannot be loaded; read Producer::metrics";

/// Every property kprod knows, in documentation order.
///
/// Keys starting with `ssl.` or `sasl.` that are not listed are also refused as unsupported, not unknown.
pub static PROPERTIES: &[PropertyDef] = &[
    prop("bootstrap.servers", T::List, None, NonEmpty, High, Support::Yes,
        "Comma-separated host:port pairs used only to discover the cluster; not needed when mock.num.brokers > 0."),
    prop("client.id", T::String, Some(""), Validity::Any, Medium, Support::Yes,
        "Name sent with every request so brokers can attribute it in logs and quotas."),
    prop("acks", T::String, Some("all"), OneOf(ACKS_VALUES), Low, Support::Yes,
        "Replicas that must have a record before it counts as sent: all (same as -1), 1 (the leader) or 0 (no response)."),
    prop("linger.ms", T::Long, Some("5"), AtLeast(0), Medium, Support::Yes,
        "How long a batch may wait for more records before it is sent."),
    prop("batch.size", T::Int, Some("16384"), AtLeast(0), Medium, Support::Yes,
        "Target size in bytes of one partition's batch; 0 disables batching."),
    prop("buffer.memory", T::Long, Some("33554432"), AtLeast(0), High, Support::Yes,
        "Bytes of memory for records not yet sent; send blocks when it is used up."),
    prop("max.block.ms", T::Long, Some("60000"), AtLeast(0), Medium, Support::Yes,
        "Longest a send may block waiting for metadata or buffer memory."),
    prop("compression.type", T::String, Some("none"), OneOf(COMPRESSION_VALUES), High, Support::Yes,
        "Codec applied to each batch."),
    prop("compression.gzip.level", T::Int, Some("-1"), Described("[1,...,9] or -1"), Medium, Support::Yes,
        "gzip level; -1 lets the codec choose."),
    prop("compression.lz4.level", T::Int, Some("9"), Between(1, 17), Medium, Support::Yes,
        "lz4 level; higher compresses better and slower."),
    prop("compression.zstd.level", T::Int, Some("3"), Between(-131_072, 22), Medium, Support::Yes,
        "zstd level; negative levels trade ratio for speed."),
    prop("max.in.flight.requests.per.connection", T::Int, Some("5"), AtLeast(1), Low, Support::Yes,
        "Most unanswered produce requests on one broker connection."),
    prop("retries", T::Int, Some("2147483647"), Between(0, i32::MAX as i64), High, Support::Yes,
        "How often a failed batch is resent; delivery.timeout.ms normally ends retrying first."),
    prop("retry.backoff.ms", T::Long, Some("100"), AtLeast(0), Low, Support::Yes,
        "First wait before retrying a failed request; it grows exponentially up to retry.backoff.max.ms."),
    prop("retry.backoff.max.ms", T::Long, Some("1000"), AtLeast(0), Low, Support::Yes,
        "Ceiling of the retry backoff; below retry.backoff.ms it is used as a constant backoff."),
    prop("delivery.timeout.ms", T::Int, Some("120000"), AtLeast(0), Medium, Support::Yes,
        "Time from send to success or failure, retries included; at least linger.ms + request.timeout.ms."),
    prop("request.timeout.ms", T::Int, Some("30000"), AtLeast(0), Medium, Support::Yes,
        "How long to wait for a broker's response before retrying or failing the request."),
    prop("max.request.size", T::Int, Some("1048576"), AtLeast(0), Medium, Support::Yes,
        "Largest produce request in bytes; also the largest record."),
    prop("metadata.max.age.ms", T::Long, Some("300000"), AtLeast(0), Low, Support::Yes,
        "Metadata is refreshed at least this often, even when nothing fails."),
    prop("metadata.max.idle.ms", T::Long, Some("300000"), AtLeast(5000), Low, Support::Yes,
        "A topic not produced to for this long is dropped from the metadata cache."),
    with_java_default("null", prop("partitioner.class", T::Class, Some("default"),
        Described("default, murmur2, round_robin; librdkafka's random, consistent, consistent_random, murmur2_librdkafka, murmur2_random, fnv1a, fnv1a_random"), Medium,
        Support::Partly("custom partitioners are installed with the producer builder; of Java's classes only RoundRobinPartitioner is recognised"),
        "How records get partitions: default/murmur2 is Java's (murmur2 of the key, else sticky), round_robin cycles; the others are librdkafka's partitioners with librdkafka's hashes (its `murmur2`, which sends null keys to one partition, is murmur2_librdkafka here).")),
    prop("partitioner.adaptive.partitioning.enable", T::Boolean, Some("true"), Validity::Any, Low, Support::Yes,
        "Keyless records favour partitions whose brokers keep up; false picks sticky partitions uniformly."),
    prop("partitioner.availability.timeout.ms", T::Long, Some("0"), AtLeast(0), Low, Support::Yes,
        "A partition whose broker has not taken a batch for this long is skipped by the adaptive partitioner; 0 disables."),
    prop("partitioner.ignore.keys", T::Boolean, Some("false"), Validity::Any, Medium, Support::Yes,
        "Partition keyed records as if they had no key."),
    prop("send.buffer.bytes", T::Int, Some("131072"), AtLeast(-1), Medium, Support::Yes,
        "Socket send buffer (SO_SNDBUF) in bytes; -1 keeps the OS default."),
    prop("receive.buffer.bytes", T::Int, Some("32768"), AtLeast(-1), Medium, Support::Yes,
        "Socket receive buffer (SO_RCVBUF) in bytes; -1 keeps the OS default."),
    prop("reconnect.backoff.ms", T::Long, Some("50"), AtLeast(0), Low, Support::Yes,
        "First wait before reconnecting to a broker; setting it alone also sets reconnect.backoff.max.ms."),
    prop("reconnect.backoff.max.ms", T::Long, Some("1000"), AtLeast(0), Low, Support::Yes,
        "Ceiling of the exponentially growing reconnect backoff."),
    prop("socket.connection.setup.timeout.ms", T::Long, Some("10000"), AtLeast(0), Medium, Support::Yes,
        "How long a TCP connect may take before it is abandoned; grows (jittered, doubling) with each consecutive failure up to socket.connection.setup.timeout.max.ms. The ApiVersions handshake then has request.timeout.ms."),
    prop("socket.connection.setup.timeout.max.ms", T::Long, Some("30000"), AtLeast(0), Medium, Support::Yes,
        "Ceiling of the growing connection setup timeout."),
    prop("connections.max.idle.ms", T::Long, Some("540000"), Validity::Any, Medium, Support::Yes,
        "Connections idle this long are closed; a negative value keeps them open."),
    prop("enable.idempotence", T::Boolean, Some("true"), Validity::Any, Low, Support::Yes,
        "Exactly-once writes per partition via producer ids and sequence numbers. On by default; turned off silently (as in Java) when acks, retries or max.in.flight.requests.per.connection are set to values it cannot work with, and an error when it is set to true explicitly with them."),
    prop("transactional.id", T::String, Some("null"), NonEmpty, Low,
        Support::Yes,
        "Identity of a transactional producer, stable across restarts."),
    prop("transaction.timeout.ms", T::Int, Some("60000"), AtLeast(0), Low, Support::Yes,
        "How long the coordinator lets a transaction stay open before aborting it (sent in InitProducerId)."),
    prop("mock.num.brokers", T::Int, Some("0"), AtLeast(0), Low, Support::Yes,
        "kprod only: when above 0, run against an in-process mock cluster of this many brokers (needs the mock feature) and ignore bootstrap.servers."),
    prop("key.serializer", T::Class, None, Validity::Any, High, Support::No(NO_SERIALIZERS),
        "Java class turning keys into bytes."),
    prop("value.serializer", T::Class, None, Validity::Any, High, Support::No(NO_SERIALIZERS),
        "Java class turning values into bytes."),
    prop("interceptor.classes", T::List, Some(""), Validity::Any, Low,
        Support::No("Java interceptors cannot be loaded; wrap the producer or use delivery callbacks"),
        "Java classes that see every record before it is sent."),
    prop("security.protocol", T::String, Some("PLAINTEXT"),
        Described("PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (case-insensitive)"), Medium, Support::Yes,
        "Transport to the brokers: plain TCP, TLS, SASL over TCP, or SASL over TLS."),
    prop("sasl.mechanism", T::String, Some("GSSAPI"), Described("PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER"), Medium,
        Support::Partly("GSSAPI (Kerberos), Java's default, is not implemented: set one of the others"),
        "SASL mechanism used to authenticate (security.protocol SASL_PLAINTEXT or SASL_SSL)."),
    prop("sasl.jaas.config", T::Password, Some("null"), Validity::Any, Medium, Support::Yes,
        "JAAS login line: PlainLoginModule or ScramLoginModule with username and password, or OAuthBearerLoginModule (clientId, clientSecret, scope for OIDC; unsecuredLoginStringClaim_sub for Kafka's unsecured token)."),
    prop("sasl.username", T::String, None, Validity::Any, Medium, Support::Yes,
        "librdkafka's name: the user for PLAIN and SCRAM (instead of sasl.jaas.config)."),
    prop("sasl.password", T::Password, None, Validity::Any, Medium, Support::Yes,
        "librdkafka's name: the password for PLAIN and SCRAM."),
    prop("sasl.oauthbearer.token.endpoint.url", T::String, Some("null"), Validity::Any, Medium, Support::Yes,
        "OIDC token endpoint: with it, OAUTHBEARER tokens come from the client_credentials grant (client id and secret from sasl.jaas.config or sasl.oauthbearer.client.id/secret)."),
    prop("sasl.oauthbearer.client.id", T::String, None, Validity::Any, Medium, Support::Yes,
        "librdkafka's name: the OIDC client id."),
    prop("sasl.oauthbearer.client.secret", T::Password, None, Validity::Any, Medium, Support::Yes,
        "librdkafka's name: the OIDC client secret."),
    with_java_default("null", prop("sasl.oauthbearer.scope", T::String, None, Validity::Any, Medium, Support::Yes,
        "The OIDC scope asked for (also librdkafka's name).")),
    prop("sasl.oauthbearer.extensions", T::String, None, Validity::Any, Low, Support::Yes,
        "librdkafka's name: SASL extensions sent with the token, as key=value,key2=value2."),
    prop("sasl.oauthbearer.config", T::String, None, Validity::Any, Low, Support::Yes,
        "librdkafka's name: options of the unsecured token (principal=, scope=, lifeSeconds=, extension_X=)."),
    prop("sasl.oauthbearer.method", T::String, None, OneOf(&["default", "oidc"]), Low, Support::Yes,
        "librdkafka's name: oidc asks for the client_credentials flow (needs the token endpoint URL)."),
    prop("sasl.oauthbearer.sub.claim.name", T::String, Some("sub"), Validity::Any, Low, Support::Yes,
        "JWT claim holding the principal of an OIDC token."),
    prop("sasl.oauthbearer.header.urlencode", T::Boolean, Some("false"), Validity::Any, Low, Support::Yes,
        "URL-encode the client id and secret in the token request's Authorization header (KIP-1025)."),
    prop("sasl.login.refresh.window.factor", T::Double, Some("0.8"), Described("[0.5,...,1.0]"), Low, Support::Yes,
        "A token is refreshed when this fraction of its lifetime has passed."),
    prop("sasl.login.refresh.window.jitter", T::Double, Some("0.05"), Described("[0.0,...,0.25]"), Low, Support::Yes,
        "Random fraction of the lifetime added to the refresh time."),
    prop("sasl.login.refresh.min.period.seconds", T::Short, Some("60"), Between(0, 900), Low, Support::Yes,
        "Least time between token refreshes."),
    prop("sasl.login.refresh.buffer.seconds", T::Short, Some("300"), Between(0, 3600), Low, Support::Yes,
        "A token is refreshed at least this long before it expires."),
    prop("sasl.login.retry.backoff.ms", T::Long, Some("100"), AtLeast(0), Low, Support::Yes,
        "First wait before fetching a token again after a failure."),
    prop("sasl.login.retry.backoff.max.ms", T::Long, Some("10000"), AtLeast(0), Low, Support::Yes,
        "Ceiling of the token fetch backoff."),
    with_java_default("null", prop("sasl.login.connect.timeout.ms", T::Int, None, Validity::Any, Low, Support::Yes,
        "Connect timeout of the token endpoint (10 s when unset).")),
    with_java_default("null", prop("sasl.login.read.timeout.ms", T::Int, None, Validity::Any, Low, Support::Yes,
        "Read timeout of the token endpoint (10 s when unset).")),
    prop("sasl.kerberos.service.name", T::String, Some("null"), Validity::Any, Medium,
        Support::No("GSSAPI (Kerberos) is not implemented"), "Kerberos principal name of the brokers."),
    prop("sasl.client.callback.handler.class", T::Class, Some("null"), Validity::Any, Medium,
        Support::No("Java classes cannot be loaded"), "Java SASL client callback handler."),
    prop("sasl.login.callback.handler.class", T::Class, Some("null"), Validity::Any, Medium,
        Support::No("Java classes cannot be loaded; give a token provider to Producer::builder().oauthbearer_token_provider"),
        "Java login callback handler (e.g. an OAUTHBEARER token provider)."),
    prop("sasl.login.class", T::Class, Some("null"), Validity::Any, Medium,
        Support::No("Java classes cannot be loaded"), "Java Login class."),
    prop("ssl.protocol", T::String, Some("TLSv1.3"), OneOf(&["TLSv1.3", "TLSv1.2", "TLS"]), Medium,
        Support::Partly("rustls negotiates among ssl.enabled.protocols; this only has to name one of them"),
        "The TLS protocol the JVM's SSLContext is created for."),
    prop("ssl.enabled.protocols", T::List, Some("TLSv1.2,TLSv1.3"), Described("TLSv1.2, TLSv1.3"), Medium, Support::Yes,
        "TLS versions offered to brokers."),
    prop("ssl.endpoint.identification.algorithm", T::String, Some("https"), Described("https or empty"), Low,
        Support::Yes,
        "https checks that the broker's certificate names the host connected to; empty turns the check off (the chain is still verified)."),
    prop("ssl.truststore.type", T::String, Some("JKS"), Described("PEM (JKS and PKCS12 are refused with a conversion hint)"),
        Medium, Support::Yes,
        "Format of the truststore; kprod reads PEM."),
    prop("ssl.truststore.location", T::String, Some("null"), Validity::Any, High, Support::Yes,
        "PEM file of the CA certificates trusted when verifying brokers (ssl.truststore.type=PEM); without any CA setting the system's store is used."),
    prop("ssl.truststore.certificates", T::Password, Some("null"), Validity::Any, High, Support::Yes,
        "The trusted CA certificates inline, in PEM (ssl.truststore.type=PEM)."),
    prop("ssl.truststore.password", T::Password, Some("null"), Validity::Any, High, Support::Yes,
        "Truststore password; a PEM truststore has none, so setting it is an error (as in Java)."),
    prop("ssl.keystore.type", T::String, Some("JKS"), Described("PEM (JKS and PKCS12 are refused with a conversion hint)"),
        Medium, Support::Yes,
        "Format of the keystore holding the client certificate; kprod reads PEM."),
    prop("ssl.keystore.location", T::String, Some("null"), Validity::Any, High, Support::Yes,
        "PEM file holding the client's private key and certificate chain, for mutual TLS (ssl.keystore.type=PEM)."),
    prop("ssl.keystore.certificate.chain", T::Password, Some("null"), Validity::Any, High, Support::Yes,
        "The client's certificate chain inline, in PEM, with ssl.keystore.key."),
    prop("ssl.keystore.key", T::Password, Some("null"), Validity::Any, High, Support::Yes,
        "The client's private key inline, in PEM (PKCS#8, encrypted with ssl.key.password, or PKCS#1/SEC1)."),
    prop("ssl.keystore.password", T::Password, Some("null"), Validity::Any, High,
        Support::Partly("a PEM keystore has no store password; the key's is ssl.key.password"),
        "Keystore password."),
    prop("ssl.key.password", T::Password, Some("null"), Validity::Any, High, Support::Yes,
        "Password of an encrypted PKCS#8 client key (BEGIN ENCRYPTED PRIVATE KEY)."),
    prop("ssl.ca.location", T::String, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: PEM file of trusted CA certificates."),
    prop("ssl.ca.pem", T::Password, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: trusted CA certificates inline, in PEM."),
    prop("ssl.certificate.location", T::String, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: PEM file of the client certificate (chain), with ssl.key.location."),
    prop("ssl.certificate.pem", T::Password, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: the client certificate inline, in PEM."),
    prop("ssl.key.location", T::String, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: PEM file of the client's private key."),
    prop("ssl.key.pem", T::Password, None, Validity::Any, High, Support::Yes,
        "librdkafka's name: the client's private key inline, in PEM."),
    prop("ssl.cipher.suites", T::List, Some(""), Validity::Any, Low,
        Support::No("rustls' cipher suites are used; they are all modern AEAD suites"),
        "TLS cipher suites offered."),
    prop("ssl.provider", T::String, Some("null"), Validity::Any, Low, Support::No(NO_JVM_TLS), "JVM security provider for TLS."),
    prop("ssl.keymanager.algorithm", T::String, Some("SunX509"), Validity::Any, Low, Support::No(NO_JVM_TLS),
        "JVM key manager factory algorithm."),
    prop("ssl.trustmanager.algorithm", T::String, Some("PKIX"), Validity::Any, Low, Support::No(NO_JVM_TLS),
        "JVM trust manager factory algorithm."),
    prop("ssl.secure.random.implementation", T::String, Some("null"), Validity::Any, Low, Support::No(NO_JVM_TLS),
        "JVM SecureRandom implementation for TLS."),
    prop("ssl.engine.factory.class", T::Class, Some("null"), Validity::Any, Low, Support::No(NO_JVM_TLS),
        "Java class creating SSLEngines."),
    prop("client.dns.lookup", T::String, Some("use_all_dns_ips"),
        OneOf(&["use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"]), Medium,
        Support::Yes,
        "`use_all_dns_ips`: a host name's addresses are tried in turn, each failed attempt moving to the next, and the name is resolved again once all have failed. `resolve_canonical_bootstrap_servers_only`: the same, but a bootstrap server's addresses are first replaced by those of their canonical host names (reverse lookup; TLS still checks the name as given)."),
    prop("metadata.recovery.strategy", T::String, Some("rebootstrap"), Described("rebootstrap, none (case-insensitive)"),
        Low, Support::Yes,
        "What to do when the brokers of the last metadata stop answering (KIP-899): `rebootstrap` forgets them and starts again from `bootstrap.servers` after `metadata.recovery.rebootstrap.trigger.ms` without metadata and on REBOOTSTRAP_REQUIRED (Java also as soon as no known broker can be tried; kprod does not yet); `none` keeps trying them."),
    prop("metadata.recovery.rebootstrap.trigger.ms", T::Long, Some("300000"), AtLeast(0), Low,
        Support::Yes,
        "How long a wanted metadata refresh may go unanswered before the producer re-bootstraps (KIP-1102)."),
    prop("metric.reporters", T::List, Some("org.apache.kafka.common.metrics.JmxReporter"), Validity::Any, Low,
        Support::No(NO_METRICS), "Java classes that receive metrics."),
    prop("statistics.interval.ms", T::Int, Some("0"), Between(0, 86_400_000), Low, Support::Yes,
        "librdkafka's name: how often the on_statistics hook gets a statistics JSON document (librdkafka's schema); 0 disables."),
    prop("metrics.num.samples", T::Int, Some("2"), AtLeast(1), Low, Support::Yes,
        "Samples kept per windowed metric (rates, averages, maxima of Producer::metrics)."),
    prop("metrics.sample.window.ms", T::Long, Some("30000"), AtLeast(0), Low, Support::Yes,
        "Time covered by one metric sample."),
    prop("metrics.recording.level", T::String, Some("INFO"), OneOf(&["INFO", "DEBUG", "TRACE"]), Low,
        Support::No(NO_METRICS), "Which metrics are recorded."),
    prop("enable.metrics.push", T::Boolean, Some("true"), Validity::Any, Low, Support::Yes,
        "Push client metrics to brokers that ask for them."),
    prop("config.providers", T::List, Some(""), Validity::Any, Low,
        Support::No("Java config providers cannot be loaded; resolve values before passing them"),
        "Java classes that expand variables in property values."),
    prop("transaction.two.phase.commit.enable", T::Boolean, Some("false"), Validity::Any, Low,
        Support::No("two-phase commit (KIP-939) is unfinished in Kafka 4.4.0: its broker answers InitProducerId v6 \
            with KeepPreparedTxn UNSUPPORTED_VERSION, so a restarted producer cannot complete its prepared \
            transaction (docs/protocol.md)"),
        "Let an external coordinator complete transactions."),
    prop("security.providers", T::String, Some("null"), Validity::Any, Low, Support::No(NO_JVM_TLS),
        "Java security provider classes."),
    // New in Kafka 4.4.0.
    prop("bootstrap.resolve.timeout.ms", T::Long, Some("0"), AtLeast(0), High,
        Support::No("bootstrap host names are resolved once when the producer starts, as with Java's default 0"),
        "0 resolves the bootstrap servers while the client is built; above 0, for up to this long in the background."),
    prop("buffer.memory.allocation.strategy", T::String, Some("full"), Described("full, incremental (case-insensitive)"),
        Medium, Support::No("kprod reserves a whole batch.size for each new batch, as Java's full does"),
        "full reserves batch.size per new batch; incremental grows batches from buffer.memory as records arrive."),
    prop("client.rack", T::String, Some(""), Validity::Any, Low,
        Support::Partly("accepted; it would only matter to partitioner.rack.aware, which kprod does not implement"),
        "Rack of this client (compare the brokers' broker.rack)."),
    prop("metadata.cluster.check.enable", T::Boolean, Some("true"), Validity::Any, Low,
        Support::Partly("kprod sends no cluster or node information when connecting, so brokers check nothing; false is accepted"),
        "Send cluster and node information on connecting so that a 4.4+ broker can refuse a misrouted connection."),
    prop("partitioner.rack.aware", T::Boolean, Some("false"), Validity::Any, Low,
        Support::No("rack-aware partitioning is not implemented"),
        "The default partitioner prefers partitions whose leader is in client.rack."),
];

/// The table row for `name`, if kprod knows the property.
pub fn property(name: &str) -> Option<&'static PropertyDef> {
    PROPERTIES.iter().find(|p| p.name == name)
}

/// How a librdkafka property name ([`LIBRDKAFKA_ALIASES`]) maps onto kprod's properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasKind {
    /// The same value, set on this kprod property.
    To(&'static str),
    /// A count of KiB, set in bytes on this kprod property (`queue.buffering.max.kbytes`).
    KibibytesTo(&'static str),
    /// As [`To`](Self::To), except that librdkafka's 0 ("off" or "the OS default") is kprod's -1.
    ZeroIsOffTo(&'static str),
    /// librdkafka's `partitioner` values, each its librdkafka partitioner: `random`, `consistent`,
    /// `consistent_random`, `murmur2` (`partitioner.class=murmur2_librdkafka`: kprod's `murmur2` is
    /// Java's), `murmur2_random`, `fnv1a`, `fnv1a_random`.
    Partitioner,
    /// Accepted with no effect; the text says why that is safe.
    NoEffect(&'static str),
}

/// One librdkafka property name kprod accepts (the C ABI's names, also accepted by
/// [`ProducerConfig::set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliasDef {
    /// librdkafka's name.
    pub name: &'static str,
    /// What it becomes.
    pub kind: AliasKind,
}

const fn alias(name: &'static str, kind: AliasKind) -> AliasDef {
    AliasDef { name, kind }
}

/// librdkafka's property names for kprod's properties (CONFIGURATION.md of librdkafka 2.12), and the
/// librdkafka-only ones accepted with no effect. A librdkafka program's configuration carries over;
/// what kprod cannot honour is refused, not ignored. Names that are also Java's (`linger.ms`,
/// `batch.size`, `acks`, `compression.type`, ...) are in [`PROPERTIES`] itself.
pub static LIBRDKAFKA_ALIASES: &[AliasDef] = &[
    alias("metadata.broker.list", AliasKind::To("bootstrap.servers")),
    alias("queue.buffering.max.ms", AliasKind::To("linger.ms")),
    alias("queue.buffering.max.kbytes", AliasKind::KibibytesTo("buffer.memory")),
    alias("message.timeout.ms", AliasKind::To("delivery.timeout.ms")),
    alias("compression.codec", AliasKind::To("compression.type")),
    alias("request.required.acks", AliasKind::To("acks")),
    alias("message.send.max.retries", AliasKind::To("retries")),
    alias("message.max.bytes", AliasKind::To("max.request.size")),
    alias("max.in.flight", AliasKind::To("max.in.flight.requests.per.connection")),
    alias("topic.metadata.refresh.interval.ms", AliasKind::To("metadata.max.age.ms")),
    alias("socket.send.buffer.bytes", AliasKind::ZeroIsOffTo("send.buffer.bytes")),
    alias("socket.receive.buffer.bytes", AliasKind::ZeroIsOffTo("receive.buffer.bytes")),
    alias("sasl.mechanisms", AliasKind::To("sasl.mechanism")),
    alias("partitioner", AliasKind::Partitioner),
    alias(
        "batch.num.messages",
        AliasKind::NoEffect("kprod bounds a batch by batch.size bytes only, as Java does"),
    ),
    alias(
        "queue.buffering.max.messages",
        AliasKind::NoEffect(
            "the C ABI counts messages against it; natively, buffer.memory bounds what is queued",
        ),
    ),
    alias(
        "queue.buffering.backpressure.threshold",
        AliasKind::NoEffect("kprod sends a batch when it is full or lingered, whatever is in flight"),
    ),
    alias(
        "sticky.partitioning.linger.ms",
        AliasKind::NoEffect("keyless records stick to a partition until its batch is full, as in Java"),
    ),
    alias("socket.timeout.ms", AliasKind::NoEffect("request.timeout.ms bounds each request")),
    alias(
        "socket.keepalive.enable",
        AliasKind::NoEffect("connections are kept alive by their traffic and connections.max.idle.ms"),
    ),
    alias("socket.nagle.disable", AliasKind::NoEffect("kprod always disables Nagle (TCP_NODELAY)")),
    alias("socket.max.fails", AliasKind::NoEffect("a failed connection is always retried with backoff")),
    alias("broker.address.family", AliasKind::NoEffect("every address a name resolves to is tried")),
    alias("broker.address.ttl", AliasKind::NoEffect("names are resolved at each connect")),
    alias("api.version.request", AliasKind::NoEffect("kprod always asks brokers for their API versions")),
    alias(
        "api.version.request.timeout.ms",
        AliasKind::NoEffect("request.timeout.ms bounds the ApiVersions request"),
    ),
    alias("api.version.fallback.ms", AliasKind::NoEffect("kprod never falls back to guessed API versions")),
    alias("broker.version.fallback", AliasKind::NoEffect("kprod never falls back to guessed API versions")),
    alias("produce.offset.report", AliasKind::NoEffect("offsets are always reported")),
    alias(
        "enable.gapless.guarantee",
        AliasKind::NoEffect(
            "an idempotent kprod producer never leaves a gap: it bumps the epoch instead of failing",
        ),
    ),
    alias(
        "topic.metadata.refresh.sparse",
        AliasKind::NoEffect("metadata is fetched for the topics in use only"),
    ),
    alias(
        "topic.metadata.refresh.fast.interval.ms",
        AliasKind::NoEffect("missing metadata is re-fetched with retry.backoff.ms"),
    ),
    alias(
        "topic.metadata.propagation.max.ms",
        AliasKind::NoEffect("a topic not yet in metadata is waited for up to max.block.ms"),
    ),
    alias("message.copy.max.bytes", AliasKind::NoEffect("records are always encoded into the batch")),
    alias("internal.termination.signal", AliasKind::NoEffect("kprod's threads are woken without signals")),
    alias("log.connection.close", AliasKind::NoEffect("connection closes are logged at debug level")),
    alias("log.queue", AliasKind::NoEffect("log lines reach the C ABI's log_cb through rd_kafka_poll")),
    alias("log.thread.name", AliasKind::NoEffect("the log crate's logger decides")),
    alias("enable.random.seed", AliasKind::NoEffect("kprod does not touch the C library's random seed")),
    alias("builtin.features", AliasKind::NoEffect("informational in librdkafka too")),
    alias("reconnect.backoff.jitter.ms", AliasKind::NoEffect("deprecated in librdkafka; reconnect backoff is jittered as in Java")),
    alias("socket.blocking.max.ms", AliasKind::NoEffect("deprecated in librdkafka; kprod's I/O thread never blocks on a socket")),
    alias("topic.metadata.refresh.fast.cnt", AliasKind::NoEffect("deprecated in librdkafka")),
    alias("receive.message.max.bytes", AliasKind::NoEffect("responses are read whatever their size, within what the bytes received can hold")),
    alias("enable.sasl.oauthbearer.unsecure.jwt", AliasKind::NoEffect("kprod builds Kafka's unsecured token from sasl.oauthbearer.config when no token endpoint or callback is given")),
];

/// The librdkafka alias row for `name`, if it is one.
pub fn librdkafka_alias(name: &str) -> Option<&'static AliasDef> {
    LIBRDKAFKA_ALIASES.iter().find(|a| a.name == name)
}

/// What `acks` asks of the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Acks {
    /// No response is awaited (`acks=0`).
    None,
    /// The partition leader has written the record (`acks=1`).
    Leader,
    /// Every in-sync replica has the record (`acks=all`, `acks=-1`).
    #[default]
    All,
}

impl Acks {
    /// The value sent in produce requests: 0, 1 or -1.
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

impl fmt::Display for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        })
    }
}

/// Which partitioner the producer uses (`partitioner.class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PartitionerKind {
    /// Java's built-in behaviour: murmur2 of the key, else the sticky (optionally adaptive) partitioner.
    #[default]
    Default,
    /// librdkafka's `consistent_random`: CRC32 of the key, else a random partition.
    ConsistentRandom,
    /// Java's `RoundRobinPartitioner`: each record goes to the next partition.
    RoundRobin,
    /// librdkafka's `random`: a random partition for every record.
    Random,
    /// librdkafka's `consistent`: CRC32 of the key (a null key hashes as empty).
    Consistent,
    /// librdkafka's `murmur2`: Java's murmur2 of the key, a null key hashing as empty (one partition).
    Murmur2Librdkafka,
    /// librdkafka's `murmur2_random`: Java's murmur2 of the key, else a random partition.
    Murmur2Random,
    /// librdkafka's `fnv1a`: FNV-1a of the key (a null key hashes as empty).
    Fnv1a,
    /// librdkafka's `fnv1a_random`: FNV-1a of the key, else a random partition.
    Fnv1aRandom,
    /// A user partitioner supplied to the producer builder.
    Custom,
}

impl PartitionerKind {
    /// The `partitioner.class` value naming it.
    pub fn name(self) -> &'static str {
        match self {
            PartitionerKind::Default => "default",
            PartitionerKind::ConsistentRandom => "consistent_random",
            PartitionerKind::RoundRobin => "round_robin",
            PartitionerKind::Random => "random",
            PartitionerKind::Consistent => "consistent",
            PartitionerKind::Murmur2Librdkafka => "murmur2_librdkafka",
            PartitionerKind::Murmur2Random => "murmur2_random",
            PartitionerKind::Fnv1a => "fnv1a",
            PartitionerKind::Fnv1aRandom => "fnv1a_random",
            PartitionerKind::Custom => "custom",
        }
    }
}

impl fmt::Display for PartitionerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Typed producer configuration. Build it with [`ProducerConfig::builder`],
/// [`ProducerConfig::from_properties`] or [`ProducerConfig::set`]; [`ProducerConfig::validate`] applies
/// the cross-property rules.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    bootstrap_servers: Vec<String>,
    client_id: String,
    acks: Acks,
    linger: Duration,
    batch_size: usize,
    buffer_memory: usize,
    max_block: Duration,
    compression_type: CompressionType,
    compression_gzip_level: i32,
    compression_lz4_level: i32,
    compression_zstd_level: i32,
    max_in_flight_requests_per_connection: usize,
    retries: u32,
    retry_backoff: Duration,
    retry_backoff_max: Duration,
    delivery_timeout: Duration,
    request_timeout: Duration,
    max_request_size: usize,
    metadata_max_age: Duration,
    metadata_max_idle: Duration,
    partitioner: PartitionerKind,
    partitioner_adaptive_partitioning: bool,
    partitioner_availability_timeout: Duration,
    partitioner_ignore_keys: bool,
    send_buffer_bytes: Option<usize>,
    receive_buffer_bytes: Option<usize>,
    reconnect_backoff: Duration,
    reconnect_backoff_max: Duration,
    socket_connection_setup_timeout: Duration,
    socket_connection_setup_timeout_max: Duration,
    connections_max_idle: Option<Duration>,
    enable_idempotence: bool,
    enable_metrics_push: bool,
    transactional_id: Option<String>,
    transaction_timeout: Duration,
    mock_num_brokers: u32,
    security_protocol: SecurityProtocol,
    metrics_num_samples: usize,
    metrics_sample_window: Duration,
    statistics_interval: Duration,
    metadata_recovery_rebootstrap: bool,
    metadata_recovery_rebootstrap_trigger: Duration,
    client_dns_lookup_canonical: bool,
    /// The `ssl.*` and `sasl.*` properties as given (secrets redacted in `Debug`).
    security: Props,
    /// Keys set by the user; Java's adjustments depend on whether a key was given, not on its value.
    explicit: BTreeSet<&'static str>,
}

impl Default for ProducerConfig {
    /// Kafka 4.x's defaults; `bootstrap.servers` is empty.
    fn default() -> Self {
        let ms = Duration::from_millis;
        ProducerConfig {
            bootstrap_servers: Vec::new(),
            client_id: String::new(),
            acks: Acks::All,
            linger: ms(5),
            batch_size: 16_384,
            buffer_memory: 33_554_432,
            max_block: ms(60_000),
            compression_type: CompressionType::None,
            compression_gzip_level: -1,
            compression_lz4_level: 9,
            compression_zstd_level: 3,
            max_in_flight_requests_per_connection: 5,
            retries: i32::MAX as u32,
            retry_backoff: ms(100),
            retry_backoff_max: ms(1000),
            delivery_timeout: ms(120_000),
            request_timeout: ms(30_000),
            max_request_size: 1_048_576,
            metadata_max_age: ms(300_000),
            metadata_max_idle: ms(300_000),
            partitioner: PartitionerKind::Default,
            partitioner_adaptive_partitioning: true,
            partitioner_availability_timeout: Duration::ZERO,
            partitioner_ignore_keys: false,
            send_buffer_bytes: Some(131_072),
            receive_buffer_bytes: Some(32_768),
            reconnect_backoff: ms(50),
            reconnect_backoff_max: ms(1000),
            socket_connection_setup_timeout: ms(10_000),
            socket_connection_setup_timeout_max: ms(30_000),
            connections_max_idle: Some(ms(540_000)),
            enable_idempotence: true,
            enable_metrics_push: true,
            transactional_id: None,
            transaction_timeout: ms(60_000),
            mock_num_brokers: 0,
            security_protocol: SecurityProtocol::Plaintext,
            metrics_num_samples: 2,
            metrics_sample_window: ms(30_000),
            statistics_interval: Duration::ZERO,
            metadata_recovery_rebootstrap: true,
            metadata_recovery_rebootstrap_trigger: ms(300_000),
            client_dns_lookup_canonical: false,
            security: Props::default(),
            explicit: BTreeSet::new(),
        }
    }
}

/// Generates getters for `Copy` fields.
macro_rules! getters {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty; )*) => {
        impl ProducerConfig {
            $( $(#[$doc])* pub fn $name(&self) -> $ty { self.$name } )*
        }
    };
}

getters! {
    /// `acks`.
    acks: Acks;
    /// `linger.ms`.
    linger: Duration;
    /// `batch.size` in bytes.
    batch_size: usize;
    /// `buffer.memory` in bytes.
    buffer_memory: usize;
    /// `max.block.ms`.
    max_block: Duration;
    /// `compression.type`.
    compression_type: CompressionType;
    /// `compression.gzip.level` (-1: the codec's default).
    compression_gzip_level: i32;
    /// `compression.lz4.level`.
    compression_lz4_level: i32;
    /// `compression.zstd.level`.
    compression_zstd_level: i32;
    /// `max.in.flight.requests.per.connection`.
    max_in_flight_requests_per_connection: usize;
    /// `retries`.
    retries: u32;
    /// `retry.backoff.ms`; after [`validate`](Self::validate), never above `retry.backoff.max.ms`.
    retry_backoff: Duration;
    /// `retry.backoff.max.ms`.
    retry_backoff_max: Duration;
    /// `delivery.timeout.ms`; after [`validate`](Self::validate), at least linger + request timeout.
    delivery_timeout: Duration;
    /// `request.timeout.ms`.
    request_timeout: Duration;
    /// `max.request.size` in bytes.
    max_request_size: usize;
    /// `metadata.max.age.ms`.
    metadata_max_age: Duration;
    /// `metadata.max.idle.ms`.
    metadata_max_idle: Duration;
    /// `metadata.recovery.strategy` is `rebootstrap`.
    metadata_recovery_rebootstrap: bool;
    /// `metadata.recovery.rebootstrap.trigger.ms`.
    metadata_recovery_rebootstrap_trigger: Duration;
    /// `client.dns.lookup` is `resolve_canonical_bootstrap_servers_only`.
    client_dns_lookup_canonical: bool;
    /// `partitioner.class`.
    partitioner: PartitionerKind;
    /// `partitioner.adaptive.partitioning.enable`.
    partitioner_adaptive_partitioning: bool;
    /// `partitioner.availability.timeout.ms` (zero: disabled).
    partitioner_availability_timeout: Duration;
    /// `partitioner.ignore.keys`.
    partitioner_ignore_keys: bool;
    /// `send.buffer.bytes`; `None` keeps the OS default.
    send_buffer_bytes: Option<usize>;
    /// `receive.buffer.bytes`; `None` keeps the OS default.
    receive_buffer_bytes: Option<usize>;
    /// `reconnect.backoff.ms`.
    reconnect_backoff: Duration;
    /// `reconnect.backoff.max.ms`.
    reconnect_backoff_max: Duration;
    /// `socket.connection.setup.timeout.ms`.
    socket_connection_setup_timeout: Duration;
    /// `socket.connection.setup.timeout.max.ms`.
    socket_connection_setup_timeout_max: Duration;
    /// `connections.max.idle.ms`; `None` never closes idle connections.
    connections_max_idle: Option<Duration>;
    /// `enable.idempotence`.
    enable_idempotence: bool;
    /// `enable.metrics.push`: push client metrics to brokers that ask for them (KIP-714).
    enable_metrics_push: bool;
    /// `transaction.timeout.ms`.
    transaction_timeout: Duration;
    /// `mock.num.brokers` (0: no mock cluster).
    mock_num_brokers: u32;
    /// `security.protocol`.
    security_protocol: SecurityProtocol;
    /// `metrics.num.samples`.
    metrics_num_samples: usize;
    /// `metrics.sample.window.ms`.
    metrics_sample_window: Duration;
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn opt_count(v: Option<usize>) -> i64 {
    v.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ProducerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ProducerConfigBuilder {
        ProducerConfigBuilder { config: ProducerConfig::default(), error: None }
    }

    /// A validated configuration from Java-style `(key, value)` pairs, applied in order.
    pub fn from_properties<I, K, V>(pairs: I) -> Result<ProducerConfig, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = ProducerConfig::default();
        for (key, value) in pairs {
            config.set(key.as_ref(), value.as_ref())?;
        }
        config.validate()?;
        Ok(config)
    }

    /// `bootstrap.servers`, as `host:port` strings.
    pub fn bootstrap_servers(&self) -> &[String] {
        &self.bootstrap_servers
    }

    /// `client.id` (empty: the producer picks one).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `transactional.id`.
    pub fn transactional_id(&self) -> Option<&str> {
        self.transactional_id.as_deref()
    }

    /// The `ssl.*` and `sasl.*` properties as set.
    pub(crate) fn security_props(&self) -> &Props {
        &self.security
    }

    /// `statistics.interval.ms`; `None` when 0 (off).
    pub fn statistics_interval(&self) -> Option<Duration> {
        (!self.statistics_interval.is_zero()).then_some(self.statistics_interval)
    }

    /// True when the user set `key` (by property or builder), as opposed to leaving the default.
    pub fn is_explicit(&self, key: &str) -> bool {
        self.explicit.contains(key)
    }

    /// Sets one property by its Java name. The value is parsed and range-checked now; rules that
    /// involve other properties wait for [`validate`](Self::validate).
    ///
    /// Unknown keys, malformed and out-of-range values are [`Error::Config`] naming the key; keys kprod
    /// does not implement are [`Error::Unsupported`] unless the value is Java's default.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        let Some(def) = property(key) else {
            return match librdkafka_alias(key) {
                Some(a) => self.set_alias(a, value.trim()),
                None => Err(unknown_key(key)),
            };
        };
        // Java trims every value before parsing.
        let v = value.trim();
        if let Support::No(why) = def.support {
            let is_default = def.default.is_some_and(|d| d.eq_ignore_ascii_case(v));
            return if is_default { Ok(()) } else { Err(Error::Unsupported(format!("{key}: {why}"))) };
        }
        let n = match def.ty.int_bounds() {
            Some(_) => parse_number(def, v)?,
            None => 0,
        };
        if let Validity::OneOf(values) = def.valid {
            if !values.contains(&v) {
                return Err(Error::config(key, format!("'{v}' is not one of: {}", values.join(", "))));
            }
        }
        let ms = || Duration::from_millis(u64::try_from(n).unwrap_or(0));
        let size = || usize::try_from(n).unwrap_or(usize::MAX);
        // librdkafka spells "no hostname check" `none`; Java and kprod spell it empty.
        let v = if def.name == "ssl.endpoint.identification.algorithm" && v.eq_ignore_ascii_case("none") {
            ""
        } else {
            v
        };
        if def.name.starts_with("ssl.") || def.name.starts_with("sasl.") {
            // Read when the producer is built (files, keys, JAAS lines), by crate::security.
            self.security.insert(def.name, v);
            self.explicit.insert(def.name);
            return Ok(());
        }
        match def.name {
            "security.protocol" => {
                self.security_protocol = SecurityProtocol::parse(v).ok_or_else(|| {
                    Error::config(
                        key,
                        format!("'{v}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
                    )
                })?
            }
            "bootstrap.servers" => {
                self.bootstrap_servers =
                    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
                if self.bootstrap_servers.is_empty() {
                    return Err(Error::config(key, "must not be empty"));
                }
            }
            "client.id" => self.client_id = v.to_string(),
            "acks" => {
                self.acks = match v {
                    "0" => Acks::None,
                    "1" => Acks::Leader,
                    _ => Acks::All,
                }
            }
            "linger.ms" => self.linger = ms(),
            "batch.size" => self.batch_size = size(),
            "buffer.memory" => self.buffer_memory = size(),
            "max.block.ms" => self.max_block = ms(),
            "compression.type" => {
                self.compression_type = v.parse().map_err(|e| Error::config(key, format!("{e}")))?
            }
            "compression.gzip.level" => {
                check_level(CompressionType::Gzip, key, n)?;
                self.compression_gzip_level = n as i32;
            }
            "compression.lz4.level" => self.compression_lz4_level = n as i32,
            "compression.zstd.level" => self.compression_zstd_level = n as i32,
            "max.in.flight.requests.per.connection" => self.max_in_flight_requests_per_connection = size(),
            "retries" => self.retries = u32::try_from(n).unwrap_or(u32::MAX),
            "retry.backoff.ms" => self.retry_backoff = ms(),
            "retry.backoff.max.ms" => self.retry_backoff_max = ms(),
            "delivery.timeout.ms" => self.delivery_timeout = ms(),
            "request.timeout.ms" => self.request_timeout = ms(),
            "max.request.size" => self.max_request_size = size(),
            "metadata.max.age.ms" => self.metadata_max_age = ms(),
            "metadata.max.idle.ms" => self.metadata_max_idle = ms(),
            "metadata.recovery.strategy" => {
                self.metadata_recovery_rebootstrap = match v.to_ascii_lowercase().as_str() {
                    "rebootstrap" => true,
                    "none" => false,
                    _ => return Err(Error::config(key, format!("'{v}' is not one of: rebootstrap, none"))),
                }
            }
            "metadata.recovery.rebootstrap.trigger.ms" => self.metadata_recovery_rebootstrap_trigger = ms(),
            "client.dns.lookup" => {
                self.client_dns_lookup_canonical = v == "resolve_canonical_bootstrap_servers_only"
            }
            "partitioner.class" => self.partitioner = parse_partitioner(key, v)?,
            "partitioner.adaptive.partitioning.enable" => {
                self.partitioner_adaptive_partitioning = parse_bool(key, v)?
            }
            "partitioner.availability.timeout.ms" => self.partitioner_availability_timeout = ms(),
            "partitioner.ignore.keys" => self.partitioner_ignore_keys = parse_bool(key, v)?,
            "send.buffer.bytes" => self.send_buffer_bytes = (n >= 0).then(size),
            "receive.buffer.bytes" => self.receive_buffer_bytes = (n >= 0).then(size),
            "reconnect.backoff.ms" => self.reconnect_backoff = ms(),
            "reconnect.backoff.max.ms" => self.reconnect_backoff_max = ms(),
            "socket.connection.setup.timeout.ms" => self.socket_connection_setup_timeout = ms(),
            "socket.connection.setup.timeout.max.ms" => self.socket_connection_setup_timeout_max = ms(),
            "connections.max.idle.ms" => self.connections_max_idle = (n >= 0).then(ms),
            "enable.idempotence" => self.enable_idempotence = parse_bool(key, v)?,
            "enable.metrics.push" => self.enable_metrics_push = parse_bool(key, v)?,
            "transactional.id" => {
                if v.is_empty() {
                    return Err(Error::config(key, "must not be empty"));
                }
                self.transactional_id = Some(v.to_string());
            }
            "transaction.timeout.ms" => self.transaction_timeout = ms(),
            "mock.num.brokers" => self.mock_num_brokers = u32::try_from(n).unwrap_or(u32::MAX),
            "metrics.num.samples" => self.metrics_num_samples = size(),
            "metrics.sample.window.ms" => self.metrics_sample_window = ms(),
            "statistics.interval.ms" => self.statistics_interval = ms(),
            // Accepted with no effect (the table says why).
            "client.rack" => {}
            "metadata.cluster.check.enable" => {
                parse_bool(key, v)?;
            }
            _ => return Err(unknown_key(key)),
        }
        self.explicit.insert(def.name);
        Ok(())
    }

    /// Sets a librdkafka-named property through its kprod property; errors name the librdkafka key.
    fn set_alias(&mut self, a: &AliasDef, v: &str) -> Result<(), Error> {
        let rename = |e: Error| match e {
            Error::Config { key, message } if key != a.name => {
                Error::Config { key: a.name.to_string(), message: format!("{message} (as {key})") }
            }
            e => e,
        };
        match a.kind {
            AliasKind::To(target) => self.set(target, v).map_err(rename),
            AliasKind::ZeroIsOffTo(target) => self.set(target, if v == "0" { "-1" } else { v }).map_err(rename),
            AliasKind::KibibytesTo(target) => {
                let kib: u64 = v.parse().map_err(|_| Error::config(a.name, format!("'{v}' is not a number of KiB")))?;
                let bytes = kib.checked_mul(1024).filter(|&b| b <= i64::MAX as u64).ok_or_else(|| {
                    Error::config(a.name, format!("{kib} KiB is too large"))
                })?;
                self.set(target, &bytes.to_string()).map_err(rename)
            }
            AliasKind::Partitioner => match v {
                "murmur2" => self.set("partitioner.class", "murmur2_librdkafka"),
                "random" | "consistent" | "consistent_random" | "murmur2_random" | "fnv1a" | "fnv1a_random" => {
                    self.set("partitioner.class", v)
                }
                other => Err(Error::config(
                    a.name,
                    format!("'{other}' is not one of random, consistent, consistent_random, murmur2, murmur2_random, fnv1a, fnv1a_random"),
                )),
            },
            AliasKind::NoEffect(_) => Ok(()),
        }
    }

    /// The integer value of a numeric property, in the table's units (-1 for "none").
    fn numeric(&self, key: &str) -> Option<i64> {
        Some(match key {
            "linger.ms" => millis(self.linger),
            "batch.size" => count(self.batch_size),
            "buffer.memory" => count(self.buffer_memory),
            "max.block.ms" => millis(self.max_block),
            "compression.gzip.level" => self.compression_gzip_level.into(),
            "compression.lz4.level" => self.compression_lz4_level.into(),
            "compression.zstd.level" => self.compression_zstd_level.into(),
            "max.in.flight.requests.per.connection" => count(self.max_in_flight_requests_per_connection),
            "retries" => self.retries.into(),
            "retry.backoff.ms" => millis(self.retry_backoff),
            "retry.backoff.max.ms" => millis(self.retry_backoff_max),
            "delivery.timeout.ms" => millis(self.delivery_timeout),
            "request.timeout.ms" => millis(self.request_timeout),
            "max.request.size" => count(self.max_request_size),
            "metadata.max.age.ms" => millis(self.metadata_max_age),
            "metadata.max.idle.ms" => millis(self.metadata_max_idle),
            "partitioner.availability.timeout.ms" => millis(self.partitioner_availability_timeout),
            "send.buffer.bytes" => opt_count(self.send_buffer_bytes),
            "receive.buffer.bytes" => opt_count(self.receive_buffer_bytes),
            "reconnect.backoff.ms" => millis(self.reconnect_backoff),
            "reconnect.backoff.max.ms" => millis(self.reconnect_backoff_max),
            "socket.connection.setup.timeout.ms" => millis(self.socket_connection_setup_timeout),
            "socket.connection.setup.timeout.max.ms" => millis(self.socket_connection_setup_timeout_max),
            "connections.max.idle.ms" => self.connections_max_idle.map_or(-1, millis),
            "transaction.timeout.ms" => millis(self.transaction_timeout),
            "mock.num.brokers" => self.mock_num_brokers.into(),
            "metrics.num.samples" => count(self.metrics_num_samples),
            "metrics.sample.window.ms" => millis(self.metrics_sample_window),
            "statistics.interval.ms" => millis(self.statistics_interval),
            _ => return None,
        })
    }

    /// Checks every value and the rules between properties, and applies Java's adjustments, once.
    ///
    /// - `bootstrap.servers` must hold `host:port` entries (unless `mock.num.brokers` > 0).
    /// - Every numeric property is within its range, compression levels within their codec's.
    /// - `delivery.timeout.ms` < `linger.ms` + `request.timeout.ms` is an error when the user set
    ///   `delivery.timeout.ms`, and otherwise raises it to that sum (Java logs a warning and does the same).
    /// - `reconnect.backoff.ms` set without `reconnect.backoff.max.ms` makes the maximum equal the base
    ///   (Java's way of turning exponential reconnect backoff off).
    /// - `retry.backoff.ms` above `retry.backoff.max.ms` is lowered to it: Java then backs off by the
    ///   maximum from the first retry.
    /// - `enable.idempotence=true` must come with `acks=all`, `retries` > 0 and at most 5 in-flight
    ///   requests (as in Java), and is then [`Error::Unsupported`] until kprod implements it;
    ///   `transactional.id` needs idempotence (it is an error to disable it explicitly).
    pub fn validate(&mut self) -> Result<(), Error> {
        if self.mock_num_brokers > 0 {
            if !cfg!(feature = "mock") {
                return Err(Error::Unsupported(
                    "mock.num.brokers: kprod was built without the `mock` feature".to_string(),
                ));
            }
        } else {
            if self.bootstrap_servers.is_empty() {
                return Err(Error::config("bootstrap.servers", "missing; it has no default"));
            }
            for server in &self.bootstrap_servers {
                check_host_port(server)?;
            }
        }
        for def in PROPERTIES.iter().filter(|d| !matches!(d.support, Support::No(_))) {
            if let Some(n) = self.numeric(def.name) {
                check_number(def, n)?;
            }
        }
        check_level(CompressionType::Gzip, "compression.gzip.level", self.compression_gzip_level.into())?;
        check_level(CompressionType::Lz4, "compression.lz4.level", self.compression_lz4_level.into())?;
        check_level(CompressionType::Zstd, "compression.zstd.level", self.compression_zstd_level.into())?;

        let floor = self.linger.saturating_add(self.request_timeout);
        // Java adds the two as ints and caps at i32::MAX milliseconds.
        let floor = floor.min(Duration::from_millis(i32::MAX as u64));
        if self.delivery_timeout < floor {
            if self.is_explicit("delivery.timeout.ms") {
                return Err(Error::config(
                    "delivery.timeout.ms",
                    format!(
                        "{} ms is less than linger.ms + request.timeout.ms ({} ms)",
                        millis(self.delivery_timeout),
                        millis(floor)
                    ),
                ));
            }
            self.delivery_timeout = floor;
        }
        if self.is_explicit("reconnect.backoff.ms") && !self.is_explicit("reconnect.backoff.max.ms") {
            self.reconnect_backoff_max = self.reconnect_backoff;
        }
        self.retry_backoff = self.retry_backoff.min(self.retry_backoff_max);

        if self.transactional_id.is_some()
            && self.is_explicit("enable.idempotence")
            && !self.enable_idempotence
        {
            return Err(Error::config(
                "transactional.id",
                "needs enable.idempotence=true, which is set to false",
            ));
        }
        if self.enable_idempotence {
            // Java's rule: values incompatible with idempotence are an error when the user asked for
            // idempotence (explicitly, or through transactional.id); otherwise idempotence is dropped.
            let asked = self.is_explicit("enable.idempotence") || self.transactional_id.is_some();
            let conflict = if self.acks != Acks::All {
                Some(("acks", "must be all when enable.idempotence=true".to_string()))
            } else if self.retries == 0 {
                Some(("retries", "must be above 0 when enable.idempotence=true".to_string()))
            } else if self.max_in_flight_requests_per_connection > 5 {
                Some((
                    "max.in.flight.requests.per.connection",
                    format!(
                        "must be at most 5 when enable.idempotence=true, got {}",
                        self.max_in_flight_requests_per_connection
                    ),
                ))
            } else {
                None
            };
            match conflict {
                Some((key, message)) if asked => return Err(Error::config(key, message)),
                Some(_) => self.enable_idempotence = false,
                None => {}
            }
        }
        if self.transactional_id.is_some() && !self.enable_idempotence {
            return Err(Error::config("transactional.id", "needs enable.idempotence=true"));
        }
        Ok(())
    }
}

fn unknown_key(key: &str) -> Error {
    if key.starts_with("ssl.") || key.starts_with("sasl.") {
        let what = if key.starts_with("ssl.") { NO_TLS } else { NO_SASL };
        return Error::Unsupported(format!("{key}: {what}"));
    }
    let closest = PROPERTIES
        .iter()
        .map(|p| (edit_distance(key, p.name), p.name))
        .min()
        .filter(|(d, name)| *d <= (name.len() / 3).max(2));
    match closest {
        Some((_, name)) => Error::config(key, format!("unknown property; did you mean {name}?")),
        None => Error::config(key, "unknown property"),
    }
}

/// Levenshtein distance, for suggesting the key a typo meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn parse_number(def: &PropertyDef, v: &str) -> Result<i64, Error> {
    let n: i64 = v
        .parse()
        .map_err(|_| Error::config(def.name, format!("'{v}' is not a number of type {}", def.ty)))?;
    check_number(def, n)?;
    Ok(n)
}

fn check_number(def: &PropertyDef, n: i64) -> Result<(), Error> {
    if let Some((lo, hi)) = def.ty.int_bounds() {
        if n < lo || n > hi {
            return Err(Error::config(def.name, format!("{n} does not fit type {}", def.ty)));
        }
    }
    let ok = match def.valid {
        AtLeast(min) => n >= min,
        Between(min, max) => (min..=max).contains(&n),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::config(def.name, format!("{n} is outside {}", def.valid)))
    }
}

fn check_level(codec: CompressionType, key: &str, level: i64) -> Result<(), Error> {
    let Some((min, max)) = codec.level_range() else {
        return Ok(());
    };
    // Java's gzip validator is [1..9] or -1: 0 (no compression) is refused.
    let gzip_zero = codec == CompressionType::Gzip && level == 0;
    if level < i64::from(min) || level > i64::from(max) || gzip_zero {
        let range = if codec == CompressionType::Gzip {
            "1 to 9 or -1".to_string()
        } else {
            format!("{min} to {max}")
        };
        return Err(Error::config(key, format!("{level} is not a {} level ({range})", codec.name())));
    }
    Ok(())
}

fn parse_bool(key: &str, v: &str) -> Result<bool, Error> {
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(Error::config(key, format!("'{v}' is neither true nor false")))
    }
}

fn parse_partitioner(key: &str, v: &str) -> Result<PartitionerKind, Error> {
    match v {
        "" | "default" | "murmur2" => Ok(PartitionerKind::Default),
        "consistent_random" => Ok(PartitionerKind::ConsistentRandom),
        "random" => Ok(PartitionerKind::Random),
        "consistent" => Ok(PartitionerKind::Consistent),
        "murmur2_librdkafka" => Ok(PartitionerKind::Murmur2Librdkafka),
        "murmur2_random" => Ok(PartitionerKind::Murmur2Random),
        "fnv1a" => Ok(PartitionerKind::Fnv1a),
        "fnv1a_random" => Ok(PartitionerKind::Fnv1aRandom),
        "round_robin" | "org.apache.kafka.clients.producer.RoundRobinPartitioner" => {
            Ok(PartitionerKind::RoundRobin)
        }
        "custom" => Err(Error::config(key, "a custom partitioner is given to the producer builder, not as a property")),
        other => Err(Error::config(
            key,
            format!("'{other}' is not one of default, murmur2, round_robin, or librdkafka's random, consistent, consistent_random, murmur2_librdkafka, murmur2_random, fnv1a, fnv1a_random (Java classes cannot be loaded)"),
        )),
    }
}

fn check_host_port(server: &str) -> Result<(), Error> {
    let valid = server
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.trim_matches(['[', ']']).is_empty() && port.parse::<u16>().is_ok());
    if valid {
        Ok(())
    } else {
        Err(Error::config("bootstrap.servers", format!("'{server}' is not host:port")))
    }
}

/// Builds a [`ProducerConfig`] with typed setters; [`build`](Self::build) validates it.
#[derive(Debug, Clone)]
#[must_use]
pub struct ProducerConfigBuilder {
    config: ProducerConfig,
    /// The first error from [`property`](Self::property), reported by `build`.
    error: Option<Error>,
}

/// Generates typed builder setters that record their key as explicitly set.
macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty => $key:literal; )*) => {
        impl ProducerConfigBuilder {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: $ty) -> Self {
                    self.config.$name = value;
                    self.config.explicit.insert($key);
                    self
                }
            )*
        }
    };
}

setters! {
    /// `acks`.
    acks: Acks => "acks";
    /// `linger.ms`.
    linger: Duration => "linger.ms";
    /// `batch.size` in bytes.
    batch_size: usize => "batch.size";
    /// `buffer.memory` in bytes.
    buffer_memory: usize => "buffer.memory";
    /// `max.block.ms`.
    max_block: Duration => "max.block.ms";
    /// `compression.type`.
    compression_type: CompressionType => "compression.type";
    /// `compression.gzip.level`.
    compression_gzip_level: i32 => "compression.gzip.level";
    /// `compression.lz4.level`.
    compression_lz4_level: i32 => "compression.lz4.level";
    /// `compression.zstd.level`.
    compression_zstd_level: i32 => "compression.zstd.level";
    /// `max.in.flight.requests.per.connection`.
    max_in_flight_requests_per_connection: usize => "max.in.flight.requests.per.connection";
    /// `retries`.
    retries: u32 => "retries";
    /// `retry.backoff.ms`.
    retry_backoff: Duration => "retry.backoff.ms";
    /// `retry.backoff.max.ms`.
    retry_backoff_max: Duration => "retry.backoff.max.ms";
    /// `delivery.timeout.ms`.
    delivery_timeout: Duration => "delivery.timeout.ms";
    /// `request.timeout.ms`.
    request_timeout: Duration => "request.timeout.ms";
    /// `max.request.size` in bytes.
    max_request_size: usize => "max.request.size";
    /// `metadata.max.age.ms`.
    metadata_max_age: Duration => "metadata.max.age.ms";
    /// `metadata.max.idle.ms`.
    metadata_max_idle: Duration => "metadata.max.idle.ms";
    /// `partitioner.class`; [`PartitionerKind::Custom`] is for producers given their own partitioner.
    partitioner: PartitionerKind => "partitioner.class";
    /// `partitioner.adaptive.partitioning.enable`.
    partitioner_adaptive_partitioning: bool => "partitioner.adaptive.partitioning.enable";
    /// `partitioner.availability.timeout.ms`.
    partitioner_availability_timeout: Duration => "partitioner.availability.timeout.ms";
    /// `partitioner.ignore.keys`.
    partitioner_ignore_keys: bool => "partitioner.ignore.keys";
    /// `send.buffer.bytes`; `None` keeps the OS default.
    send_buffer_bytes: Option<usize> => "send.buffer.bytes";
    /// `receive.buffer.bytes`; `None` keeps the OS default.
    receive_buffer_bytes: Option<usize> => "receive.buffer.bytes";
    /// `reconnect.backoff.ms`.
    reconnect_backoff: Duration => "reconnect.backoff.ms";
    /// `reconnect.backoff.max.ms`.
    reconnect_backoff_max: Duration => "reconnect.backoff.max.ms";
    /// `socket.connection.setup.timeout.ms`.
    socket_connection_setup_timeout: Duration => "socket.connection.setup.timeout.ms";
    /// `socket.connection.setup.timeout.max.ms`.
    socket_connection_setup_timeout_max: Duration => "socket.connection.setup.timeout.max.ms";
    /// `connections.max.idle.ms`; `None` never closes idle connections.
    connections_max_idle: Option<Duration> => "connections.max.idle.ms";
    /// `enable.idempotence`.
    enable_idempotence: bool => "enable.idempotence";
    /// `enable.metrics.push`.
    enable_metrics_push: bool => "enable.metrics.push";
    /// `transaction.timeout.ms`.
    transaction_timeout: Duration => "transaction.timeout.ms";
    /// `mock.num.brokers` (needs the `mock` feature).
    mock_num_brokers: u32 => "mock.num.brokers";
}

impl ProducerConfigBuilder {
    /// `bootstrap.servers` as a comma-separated `host:port` list.
    pub fn bootstrap_servers(self, servers: impl AsRef<str>) -> Self {
        self.property("bootstrap.servers", servers)
    }

    /// `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client_id = id.into();
        self.config.explicit.insert("client.id");
        self
    }

    /// `transactional.id`: makes the producer transactional (`Producer::init_transactions` and friends).
    pub fn transactional_id(mut self, id: impl Into<String>) -> Self {
        self.config.transactional_id = Some(id.into());
        self.config.explicit.insert("transactional.id");
        self
    }

    /// Any property by its Java name, as [`ProducerConfig::set`]; the first error is returned by `build`.
    pub fn property(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        if self.error.is_none() {
            if let Err(e) = self.config.set(key.as_ref(), value.as_ref()) {
                self.error = Some(e);
            }
        }
        self
    }

    /// The validated configuration, or the first error.
    pub fn build(self) -> Result<ProducerConfig, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut config = self.config;
        config.validate()?;
        Ok(config)
    }
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The Markdown reference of every property, as committed in `docs/configuration.md`.
pub fn configuration_markdown() -> String {
    let mut out = String::new();
    out.push_str("# kprod configuration\n\n");
    out.push_str(
        "<!-- Generated from src/config.rs by kprod::config::configuration_markdown(); do not edit.\n     \
         Regenerate with: KPROD_BLESS=1 cargo test --test config_docs -->\n\n",
    );
    out.push_str(
        "kprod takes the Java producer's property names, types and defaults (Kafka 4.4.0), through \
         `ProducerConfig::from_properties`, `ProducerConfig::set` or the builder's `property`. Durations are \
         milliseconds. An unknown key is an error that suggests the closest known key; a key kprod does not \
         implement is an `Unsupported` error unless its value is Java's default, which is accepted and ignored. \
         Keys starting with `ssl.` or `sasl.` that the table does not list are unsupported. Security (TLS, \
         SASL) is described in docs/security.md; password-typed values never appear in `Debug` output.\n\n",
    );
    out.push_str("| Property | Type | Default | Valid values | Importance | Supported | Description |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for p in PROPERTIES {
        let default = match (p.default, p.java_default) {
            (None, None) => "(none)".to_string(),
            (None, Some(java)) => format!("(none) (Java: `{java}`)"),
            (Some(""), _) => "\"\"".to_string(),
            (Some(d), None) => format!("`{d}`"),
            (Some(d), Some(java)) => format!("`{d}` (Java: `{java}`)"),
        };
        let support = match p.support {
            Support::Yes => "yes".to_string(),
            Support::Partly(why) => format!("partly: {why}"),
            Support::No(why) => format!("no: {why}"),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            p.name,
            p.ty,
            markdown_cell(&default),
            markdown_cell(&p.valid.to_string()),
            p.importance.name(),
            markdown_cell(&support),
            markdown_cell(p.doc),
        );
    }
    out.push_str(
        "\n## librdkafka's names\n\nThese librdkafka properties are accepted too (by the C ABI, and by \
         `ProducerConfig::set`), so a librdkafka program's configuration carries over. Names librdkafka \
         shares with Java (`linger.ms`, `batch.size`, `acks`, `compression.type`, `enable.idempotence`, \
         `transactional.id`, `statistics.interval.ms`, the `ssl.`/`sasl.` keys above) are the rows above; \
         `ssl.endpoint.identification.algorithm=none` means empty. The C ABI's own properties (`debug`, \
         `log_level`, `delivery.report.only.error`, its librdkafka defaults) are in docs/c-api.md.\n\n",
    );
    out.push_str("| librdkafka property | kprod |\n| --- | --- |\n");
    for a in LIBRDKAFKA_ALIASES {
        let what = match a.kind {
            AliasKind::To(t) => format!("`{t}`"),
            AliasKind::KibibytesTo(t) => format!("`{t}` (KiB times 1024)"),
            AliasKind::ZeroIsOffTo(t) => format!("`{t}` (0, the OS default, is -1)"),
            AliasKind::Partitioner => "`partitioner.class` of the same name (librdkafka's partitioners and \
                hashes; its `murmur2` is `murmur2_librdkafka`)"
                .to_string(),
            AliasKind::NoEffect(why) => format!("no effect: {why}"),
        };
        let _ = writeln!(out, "| `{}` | {} |", a.name, markdown_cell(&what));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn base() -> ProducerConfig {
        let mut c = ProducerConfig::default();
        c.set("bootstrap.servers", "127.0.0.1:9092").unwrap();
        c
    }

    fn config_key(e: &Error) -> &str {
        match e {
            Error::Config { key, .. } => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// Every key of `ProducerConfig.configDef().configKeys()` of kafka-clients 4.4.0: name, type, default
    /// (`None`: no default). Printed by tests/java/ProducerConfigDump.java:
    /// `java -cp kafka-clients-4.4.0.jar:slf4j-api-1.7.36.jar tests/java/ProducerConfigDump.java`.
    const JAVA_4_4_0: &[(&str, &str, Option<&str>)] = &[
        ("acks", "STRING", Some("all")),
        ("batch.size", "INT", Some("16384")),
        ("bootstrap.resolve.timeout.ms", "LONG", Some("0")),
        ("bootstrap.servers", "LIST", None),
        ("buffer.memory", "LONG", Some("33554432")),
        ("buffer.memory.allocation.strategy", "STRING", Some("full")),
        ("client.dns.lookup", "STRING", Some("use_all_dns_ips")),
        ("client.id", "STRING", Some("")),
        ("client.rack", "STRING", Some("")),
        ("compression.gzip.level", "INT", Some("-1")),
        ("compression.lz4.level", "INT", Some("9")),
        ("compression.type", "STRING", Some("none")),
        ("compression.zstd.level", "INT", Some("3")),
        ("config.providers", "LIST", Some("")),
        ("connections.max.idle.ms", "LONG", Some("540000")),
        ("delivery.timeout.ms", "INT", Some("120000")),
        ("enable.idempotence", "BOOLEAN", Some("true")),
        ("enable.metrics.push", "BOOLEAN", Some("true")),
        ("interceptor.classes", "LIST", Some("")),
        ("key.serializer", "CLASS", None),
        ("linger.ms", "LONG", Some("5")),
        ("max.block.ms", "LONG", Some("60000")),
        ("max.in.flight.requests.per.connection", "INT", Some("5")),
        ("max.request.size", "INT", Some("1048576")),
        ("metadata.cluster.check.enable", "BOOLEAN", Some("true")),
        ("metadata.max.age.ms", "LONG", Some("300000")),
        ("metadata.max.idle.ms", "LONG", Some("300000")),
        ("metadata.recovery.rebootstrap.trigger.ms", "LONG", Some("300000")),
        ("metadata.recovery.strategy", "STRING", Some("rebootstrap")),
        ("metric.reporters", "LIST", Some("org.apache.kafka.common.metrics.JmxReporter")),
        ("metrics.num.samples", "INT", Some("2")),
        ("metrics.recording.level", "STRING", Some("INFO")),
        ("metrics.sample.window.ms", "LONG", Some("30000")),
        ("partitioner.adaptive.partitioning.enable", "BOOLEAN", Some("true")),
        ("partitioner.availability.timeout.ms", "LONG", Some("0")),
        ("partitioner.class", "CLASS", Some("null")),
        ("partitioner.ignore.keys", "BOOLEAN", Some("false")),
        ("partitioner.rack.aware", "BOOLEAN", Some("false")),
        ("receive.buffer.bytes", "INT", Some("32768")),
        ("reconnect.backoff.max.ms", "LONG", Some("1000")),
        ("reconnect.backoff.ms", "LONG", Some("50")),
        ("request.timeout.ms", "INT", Some("30000")),
        ("retries", "INT", Some("2147483647")),
        ("retry.backoff.max.ms", "LONG", Some("1000")),
        ("retry.backoff.ms", "LONG", Some("100")),
        ("sasl.client.callback.handler.class", "CLASS", Some("null")),
        ("sasl.jaas.config", "PASSWORD", Some("null")),
        ("sasl.kerberos.kinit.cmd", "STRING", Some("/usr/bin/kinit")),
        ("sasl.kerberos.min.time.before.relogin", "LONG", Some("60000")),
        ("sasl.kerberos.service.name", "STRING", Some("null")),
        ("sasl.kerberos.ticket.renew.jitter", "DOUBLE", Some("0.05")),
        ("sasl.kerberos.ticket.renew.window.factor", "DOUBLE", Some("0.8")),
        ("sasl.login.callback.handler.class", "CLASS", Some("null")),
        ("sasl.login.class", "CLASS", Some("null")),
        ("sasl.login.connect.timeout.ms", "INT", Some("null")),
        ("sasl.login.read.timeout.ms", "INT", Some("null")),
        ("sasl.login.refresh.buffer.seconds", "SHORT", Some("300")),
        ("sasl.login.refresh.min.period.seconds", "SHORT", Some("60")),
        ("sasl.login.refresh.window.factor", "DOUBLE", Some("0.8")),
        ("sasl.login.refresh.window.jitter", "DOUBLE", Some("0.05")),
        ("sasl.login.retry.backoff.max.ms", "LONG", Some("10000")),
        ("sasl.login.retry.backoff.ms", "LONG", Some("100")),
        ("sasl.mechanism", "STRING", Some("GSSAPI")),
        ("sasl.oauthbearer.allow.unverified.audience", "BOOLEAN", Some("false")),
        ("sasl.oauthbearer.allow.unverified.issuer", "BOOLEAN", Some("false")),
        ("sasl.oauthbearer.assertion.algorithm", "STRING", Some("RS256")),
        ("sasl.oauthbearer.assertion.claim.aud", "STRING", Some("null")),
        ("sasl.oauthbearer.assertion.claim.exp.seconds", "INT", Some("300")),
        ("sasl.oauthbearer.assertion.claim.iss", "STRING", Some("null")),
        ("sasl.oauthbearer.assertion.claim.jti.include", "BOOLEAN", Some("false")),
        ("sasl.oauthbearer.assertion.claim.nbf.seconds", "INT", Some("60")),
        ("sasl.oauthbearer.assertion.claim.sub", "STRING", Some("null")),
        ("sasl.oauthbearer.assertion.file", "STRING", Some("null")),
        ("sasl.oauthbearer.assertion.private.key.file", "STRING", Some("null")),
        ("sasl.oauthbearer.assertion.private.key.passphrase", "PASSWORD", Some("null")),
        ("sasl.oauthbearer.assertion.template.file", "STRING", Some("null")),
        ("sasl.oauthbearer.client.credentials.client.id", "STRING", Some("null")),
        ("sasl.oauthbearer.client.credentials.client.secret", "PASSWORD", Some("null")),
        ("sasl.oauthbearer.clock.skew.seconds", "INT", Some("30")),
        ("sasl.oauthbearer.expected.audience", "LIST", Some("")),
        ("sasl.oauthbearer.expected.issuer", "STRING", Some("null")),
        ("sasl.oauthbearer.header.urlencode", "BOOLEAN", Some("false")),
        ("sasl.oauthbearer.jwks.endpoint.refresh.ms", "LONG", Some("3600000")),
        ("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", "LONG", Some("10000")),
        ("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", "LONG", Some("100")),
        ("sasl.oauthbearer.jwks.endpoint.url", "STRING", Some("null")),
        (
            "sasl.oauthbearer.jwt.retriever.class",
            "CLASS",
            Some("org.apache.kafka.common.security.oauthbearer.DefaultJwtRetriever"),
        ),
        (
            "sasl.oauthbearer.jwt.validator.class",
            "CLASS",
            Some("org.apache.kafka.common.security.oauthbearer.DefaultJwtValidator"),
        ),
        ("sasl.oauthbearer.scope", "STRING", Some("null")),
        ("sasl.oauthbearer.scope.claim.name", "STRING", Some("scope")),
        ("sasl.oauthbearer.sub.claim.name", "STRING", Some("sub")),
        ("sasl.oauthbearer.token.endpoint.url", "STRING", Some("null")),
        ("security.protocol", "STRING", Some("PLAINTEXT")),
        ("security.providers", "STRING", Some("null")),
        ("send.buffer.bytes", "INT", Some("131072")),
        ("socket.connection.setup.timeout.max.ms", "LONG", Some("30000")),
        ("socket.connection.setup.timeout.ms", "LONG", Some("10000")),
        ("ssl.cipher.suites", "LIST", Some("")),
        ("ssl.enabled.protocols", "LIST", Some("TLSv1.2,TLSv1.3")),
        ("ssl.endpoint.identification.algorithm", "STRING", Some("https")),
        ("ssl.engine.factory.class", "CLASS", Some("null")),
        ("ssl.key.password", "PASSWORD", Some("null")),
        ("ssl.keymanager.algorithm", "STRING", Some("SunX509")),
        ("ssl.keystore.certificate.chain", "PASSWORD", Some("null")),
        ("ssl.keystore.key", "PASSWORD", Some("null")),
        ("ssl.keystore.location", "STRING", Some("null")),
        ("ssl.keystore.password", "PASSWORD", Some("null")),
        ("ssl.keystore.type", "STRING", Some("JKS")),
        ("ssl.protocol", "STRING", Some("TLSv1.3")),
        ("ssl.provider", "STRING", Some("null")),
        ("ssl.secure.random.implementation", "STRING", Some("null")),
        ("ssl.trustmanager.algorithm", "STRING", Some("PKIX")),
        ("ssl.truststore.certificates", "PASSWORD", Some("null")),
        ("ssl.truststore.location", "STRING", Some("null")),
        ("ssl.truststore.password", "PASSWORD", Some("null")),
        ("ssl.truststore.type", "STRING", Some("JKS")),
        ("transaction.timeout.ms", "INT", Some("60000")),
        ("transaction.two.phase.commit.enable", "BOOLEAN", Some("false")),
        ("transactional.id", "STRING", Some("null")),
        ("value.serializer", "CLASS", None),
    ];

    /// The table has every Java property with Java's type and default, except `sasl.` and `ssl.` ones it
    /// leaves out (unsupported by their prefix, see the module docs).
    #[test]
    fn table_matches_java_defaults() {
        let mut wrong = Vec::new();
        for (name, ty, default) in JAVA_4_4_0 {
            let Some(p) = property(name) else {
                assert!(
                    name.starts_with("sasl.") || name.starts_with("ssl."),
                    "{name} is missing from PROPERTIES"
                );
                let mut c = base();
                assert!(matches!(c.set(name, "x"), Err(Error::Unsupported(_))), "{name}");
                continue;
            };
            if p.ty.name().to_uppercase() != *ty || p.java_default.or(p.default) != *default {
                wrong.push(format!(
                    "{name}: Java {ty} {default:?}, table {:?} {:?}",
                    p.ty,
                    p.java_default.or(p.default)
                ));
            }
        }
        assert!(wrong.is_empty(), "the table differs from Java 4.4.0:\n{}", wrong.join("\n"));
    }

    #[test]
    fn table_names_unique_and_documented() {
        let mut names = BTreeSet::new();
        for p in PROPERTIES {
            assert!(names.insert(p.name), "duplicate {}", p.name);
            assert!(!p.doc.is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn struct_defaults_match_table() {
        // Setting each supported property to its table default must leave the default struct unchanged.
        let defaults = ProducerConfig::default();
        for p in PROPERTIES.iter().filter(|p| !matches!(p.support, Support::No(_))) {
            let (Some(d), true) = (p.default, p.name != "transactional.id" && p.name != "bootstrap.servers")
            else {
                continue;
            };
            let mut c = ProducerConfig::default();
            c.set(p.name, d).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(c.numeric(p.name), defaults.numeric(p.name), "{}", p.name);
        }
        assert_eq!(defaults.acks(), Acks::All);
        assert_eq!(defaults.compression_type(), CompressionType::None);
        assert_eq!(defaults.partitioner(), PartitionerKind::Default);
        assert!(defaults.partitioner_adaptive_partitioning());
        assert!(!defaults.partitioner_ignore_keys());
        assert!(defaults.enable_idempotence());
        assert_eq!(defaults.retries(), 2_147_483_647);
        assert_eq!(defaults.linger(), ms(5));
        assert_eq!(defaults.delivery_timeout(), ms(120_000));
    }

    #[test]
    fn parses_each_type() {
        let mut c = base();
        c.set("linger.ms", " 20 ").unwrap();
        c.set("batch.size", "0").unwrap();
        c.set("acks", "-1").unwrap();
        assert_eq!(c.acks(), Acks::All);
        c.set("acks", "1").unwrap();
        assert_eq!(c.acks(), Acks::Leader);
        c.set("compression.type", "zstd").unwrap();
        c.set("partitioner.ignore.keys", "TRUE").unwrap();
        c.set("send.buffer.bytes", "-1").unwrap();
        c.set("connections.max.idle.ms", "-1").unwrap();
        c.set("client.id", "me").unwrap();
        c.set("bootstrap.servers", "a:1, b:2,").unwrap();
        c.set("partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner").unwrap();
        c.validate().unwrap();
        assert_eq!(c.linger(), ms(20));
        assert_eq!(c.batch_size(), 0);
        assert_eq!(c.compression_type(), CompressionType::Zstd);
        assert!(c.partitioner_ignore_keys());
        assert_eq!(c.send_buffer_bytes(), None);
        assert_eq!(c.connections_max_idle(), None);
        assert_eq!(c.client_id(), "me");
        assert_eq!(c.bootstrap_servers(), ["a:1", "b:2"]);
        assert_eq!(c.partitioner(), PartitionerKind::RoundRobin);
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = base();
        for (key, value) in [
            ("linger.ms", "-1"),
            ("linger.ms", "soon"),
            ("batch.size", "3000000000"),
            ("acks", "ALL"),
            ("compression.type", "GZIP"),
            ("enable.idempotence", "yes"),
            ("metadata.max.idle.ms", "1000"),
            ("compression.gzip.level", "0"),
            ("compression.lz4.level", "18"),
            ("max.in.flight.requests.per.connection", "0"),
            ("bootstrap.servers", " , "),
            ("transactional.id", ""),
            ("partitioner.class", "custom"),
        ] {
            let e = c.set(key, value).unwrap_err();
            assert_eq!(config_key(&e), key, "{key}={value}");
            assert!(e.to_string().contains(key));
        }
    }

    #[test]
    fn librdkafka_names_set_kprod_properties() {
        let mut c = base();
        c.set("queue.buffering.max.ms", "7").unwrap();
        assert_eq!(c.linger(), ms(7));
        c.set("queue.buffering.max.kbytes", "2048").unwrap();
        assert_eq!(c.buffer_memory(), 2048 * 1024);
        c.set("message.timeout.ms", "45000").unwrap();
        assert_eq!(c.delivery_timeout(), ms(45000));
        assert!(c.is_explicit("delivery.timeout.ms"));
        c.set("compression.codec", "lz4").unwrap();
        assert_eq!(c.compression_type(), CompressionType::Lz4);
        c.set("request.required.acks", "1").unwrap();
        assert_eq!(c.acks(), Acks::Leader);
        c.set("message.max.bytes", "2000000").unwrap();
        assert_eq!(c.max_request_size(), 2_000_000);
        c.set("socket.send.buffer.bytes", "0").unwrap();
        assert_eq!(c.send_buffer_bytes(), None);
        c.set("metadata.broker.list", "a:1,b:2").unwrap();
        assert_eq!(c.bootstrap_servers(), ["a:1", "b:2"]);
        c.set("partitioner", "consistent_random").unwrap();
        assert_eq!(c.partitioner(), PartitionerKind::ConsistentRandom);
        c.set("partitioner", "murmur2_random").unwrap();
        assert_eq!(c.partitioner(), PartitionerKind::Murmur2Random);
        c.set("partitioner", "murmur2").unwrap();
        assert_eq!(c.partitioner(), PartitionerKind::Murmur2Librdkafka);
        c.set("partitioner", "random").unwrap();
        assert_eq!(c.partitioner(), PartitionerKind::Random);
        c.set("partitioner", "fnv1a").unwrap();
        assert_eq!(c.partitioner(), PartitionerKind::Fnv1a);
        let e = c.set("partitioner", "bogus").unwrap_err();
        assert_eq!(config_key(&e), "partitioner");
        // A bad value names the librdkafka key, and the kprod one it became.
        let e = c.set("queue.buffering.max.ms", "soon").unwrap_err();
        assert_eq!(config_key(&e), "queue.buffering.max.ms");
        assert!(e.to_string().contains("linger.ms"), "{e}");
        c.set("batch.num.messages", "10000").unwrap();
        c.set("ssl.endpoint.identification.algorithm", "none").unwrap();
        // Every alias names a real kprod property, and none shadows one.
        for a in LIBRDKAFKA_ALIASES {
            assert!(property(a.name).is_none(), "{} is a kprod property", a.name);
            if let AliasKind::To(t) | AliasKind::KibibytesTo(t) | AliasKind::ZeroIsOffTo(t) = a.kind {
                assert!(property(t).is_some(), "{} -> {t}", a.name);
            }
        }
    }

    #[test]
    fn unknown_key_suggests_closest() {
        let e = ProducerConfig::default().set("lingr.ms", "5").unwrap_err();
        assert_eq!(config_key(&e), "lingr.ms");
        assert!(e.to_string().contains("did you mean linger.ms?"), "{e}");
        let e = ProducerConfig::default().set("completely.different", "5").unwrap_err();
        assert!(!e.to_string().contains("did you mean"), "{e}");
    }

    #[test]
    fn two_phase_commit_is_refused_with_the_brokers_reason() {
        let mut c = base();
        let e = c.set("transaction.two.phase.commit.enable", "true").unwrap_err();
        let Error::Unsupported(m) = &e else { panic!("{e:?}") };
        assert!(m.starts_with("transaction.two.phase.commit.enable: "), "{m}");
        assert!(m.contains("KeepPreparedTxn UNSUPPORTED_VERSION") && m.contains("4.4.0"), "{m}");
        c.set("transaction.two.phase.commit.enable", "false").unwrap();
    }

    #[test]
    fn unsupported_java_keys() {
        let mut c = base();
        let e = c.set("key.serializer", "org.example.Ser").unwrap_err();
        assert!(matches!(&e, Error::Unsupported(m) if m.starts_with("key.serializer")), "{e:?}");
        assert!(matches!(c.set("ssl.cipher.suites", "TLS_AES_128_GCM_SHA256"), Err(Error::Unsupported(_))));
        assert!(matches!(c.set("sasl.kerberos.service.name", "kafka"), Err(Error::Unsupported(_))));
        // Unknown ssl./sasl. keys are unsupported, not typos of other keys.
        assert!(matches!(c.set("ssl.frobnicate", "1"), Err(Error::Unsupported(_))));
        // Java's default value is harmless and accepted.
        c.set("ssl.cipher.suites", "").unwrap();
        c.set("security.protocol", "plaintext").unwrap();
        c.set("security.protocol", "sasl_ssl").unwrap();
        assert_eq!(c.security_protocol(), SecurityProtocol::SaslSsl);
        assert!(c.set("security.protocol", "TLS").is_err());
        c.set("interceptor.classes", "").unwrap();
    }

    #[test]
    fn idempotence_rules_as_in_java() {
        // Default on; incompatible settings silently turn it off ...
        let mut c = base();
        c.validate().unwrap();
        assert!(c.enable_idempotence());
        c.set("acks", "1").unwrap();
        c.validate().unwrap();
        assert!(!c.enable_idempotence());
        let mut c = base();
        c.set("max.in.flight.requests.per.connection", "6").unwrap();
        c.validate().unwrap();
        assert!(!c.enable_idempotence());
        // ... unless it was asked for explicitly.
        let mut c = base();
        c.set("enable.idempotence", "true").unwrap();
        c.set("acks", "1").unwrap();
        assert_eq!(config_key(&c.validate().unwrap_err()), "acks");
        let mut c = base();
        c.set("enable.idempotence", "true").unwrap();
        c.set("retries", "0").unwrap();
        assert_eq!(config_key(&c.validate().unwrap_err()), "retries");

        let mut c = base();
        c.set("transactional.id", "tx").unwrap();
        c.validate().unwrap();
        assert_eq!(c.transactional_id(), Some("tx"));
        // A transactional id asks for idempotence: incompatible acks is an error, not a silent switch.
        let mut t = base();
        t.set("transactional.id", "tx").unwrap();
        t.set("acks", "1").unwrap();
        assert_eq!(config_key(&t.validate().unwrap_err()), "acks");
        c.set("enable.idempotence", "false").unwrap();
        assert_eq!(config_key(&c.validate().unwrap_err()), "transactional.id");

        assert!(ProducerConfig::builder().bootstrap_servers("h:1").enable_idempotence(true).build().is_ok());
    }

    #[test]
    fn delivery_timeout_cross_check() {
        let mut c = base();
        c.set("delivery.timeout.ms", "1000").unwrap();
        assert_eq!(config_key(&c.validate().unwrap_err()), "delivery.timeout.ms");
        // Not set by the user: raised to linger + request timeout, as Java does.
        let mut c = base();
        c.set("linger.ms", "200000").unwrap();
        c.validate().unwrap();
        assert_eq!(c.delivery_timeout(), ms(230_000));
    }

    #[test]
    fn backoff_adjustments() {
        let mut c = base();
        c.set("reconnect.backoff.ms", "2000").unwrap();
        c.validate().unwrap();
        assert_eq!(c.reconnect_backoff_max(), ms(2000));
        let mut c = base();
        c.set("reconnect.backoff.ms", "2000").unwrap();
        c.set("reconnect.backoff.max.ms", "500").unwrap();
        c.validate().unwrap();
        assert_eq!(c.reconnect_backoff_max(), ms(500));
        let mut c = base();
        c.set("retry.backoff.ms", "2000").unwrap();
        c.validate().unwrap();
        assert_eq!((c.retry_backoff(), c.retry_backoff_max()), (ms(1000), ms(1000)));
    }

    #[test]
    fn builder_checks_ranges_and_bootstrap() {
        let e = ProducerConfig::builder().build().unwrap_err();
        assert_eq!(config_key(&e), "bootstrap.servers");
        let e = ProducerConfig::builder().bootstrap_servers("localhost").build().unwrap_err();
        assert_eq!(config_key(&e), "bootstrap.servers");
        let e = ProducerConfig::builder()
            .bootstrap_servers("h:1")
            .compression_zstd_level(23)
            .build()
            .unwrap_err();
        assert_eq!(config_key(&e), "compression.zstd.level");
        let e = ProducerConfig::builder().bootstrap_servers("h:1").batch_size(1 << 31).build().unwrap_err();
        assert_eq!(config_key(&e), "batch.size");
        let e =
            ProducerConfig::builder().bootstrap_servers("h:1").property("linger", "5").build().unwrap_err();
        assert_eq!(config_key(&e), "linger");
        let c = ProducerConfig::builder()
            .bootstrap_servers("[::1]:9092")
            .linger(ms(0))
            .acks(Acks::None)
            .client_id("c")
            .build()
            .unwrap();
        assert_eq!(c.acks().as_i16(), 0);
        assert!(c.is_explicit("linger.ms"));
        assert!(!c.is_explicit("batch.size"));
    }

    #[test]
    fn from_properties_applies_in_order() {
        let c = ProducerConfig::from_properties(vec![
            ("bootstrap.servers".to_string(), "h:1".to_string()),
            ("linger.ms".to_string(), "1".to_string()),
            ("linger.ms".to_string(), "7".to_string()),
        ])
        .unwrap();
        assert_eq!(c.linger(), ms(7));
    }

    #[test]
    fn mock_brokers_need_feature_or_replace_bootstrap() {
        let r = ProducerConfig::from_properties([("mock.num.brokers", "3")]);
        if cfg!(feature = "mock") {
            assert_eq!(r.unwrap().mock_num_brokers(), 3);
        } else {
            assert!(matches!(r, Err(Error::Unsupported(m)) if m.contains("mock.num.brokers")));
        }
    }

    #[test]
    fn markdown_lists_every_property() {
        let md = configuration_markdown();
        for p in PROPERTIES {
            assert!(md.contains(&format!("| `{}` |", p.name)), "{}", p.name);
        }
    }
}
