//! TLS and SASL against a secured real Apache Kafka (`scripts/kafka up --security`, started by
//! `scripts/test`): every mechanism over SASL_PLAINTEXT and SASL_SSL, SSL with and without a client
//! certificate, each sending 100k records that Kafka's console consumer reads back over PLAINTEXT; a
//! transactional producer over SASL_SSL; KIP-368 re-authentication every few seconds while producing;
//! and the failures: wrong credentials, unknown CA, host name mismatch, expired certificate, a
//! missing client certificate, each failing promptly with an error naming the cause, with backed-off
//! reconnects and no secret in any log line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use kprod::{Error, Producer, ProducerConfig, Record};

const JAAS: &str = "org.apache.kafka.common.security";
const RECORDS: usize = 100_000;

/// Every log line of this test binary, at every level (kprod's, rustls', ureq's).
fn log_lines() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let line = format!("{} {} {}", r.level(), r.target(), r.args());
        if std::env::var_os("KPROD_TEST_LOG").is_some() {
            eprintln!("{line}");
        }
        log_lines().lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// An environment variable `scripts/kafka up --security` printed (and `scripts/test` exported).
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the secured tests need `scripts/kafka up --security`; run them through scripts/test")
    })
}

fn cluster() -> String {
    cluster_name("KPROD_KAFKA_NAME_1")
}

fn ca() -> (&'static str, String) {
    ("ssl.ca.location", var("KAFKA_CA"))
}

fn scram_jaas(user: &str, password: &str) -> String {
    format!("{JAAS}.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";")
}

/// The properties of each mechanism, with the test bed's credentials.
fn mechanism(m: &str) -> Vec<(&'static str, String)> {
    let user = var("KAFKA_SASL_USER");
    let password = var("KAFKA_SASL_PASSWORD");
    let mut p = vec![("sasl.mechanism", m.to_string())];
    match m {
        // Java's JAAS line for one, librdkafka's names for the other: both forms are exercised.
        "PLAIN" => p.push((
            "sasl.jaas.config",
            format!("{JAAS}.plain.PlainLoginModule required username=\"{user}\" password=\"{password}\";"),
        )),
        "SCRAM-SHA-256" => p.push(("sasl.jaas.config", scram_jaas(&user, &password))),
        "SCRAM-SHA-512" => {
            p.push(("sasl.username", user));
            p.push(("sasl.password", password));
        }
        "OAUTHBEARER" => p.push((
            "sasl.jaas.config",
            format!("{JAAS}.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"{user}\";"),
        )),
        other => panic!("no mechanism {other}"),
    }
    p
}

fn oidc() -> Vec<(&'static str, String)> {
    vec![
        ("sasl.mechanism", "OAUTHBEARER".into()),
        ("sasl.oauthbearer.token.endpoint.url", var("KAFKA_OIDC_TOKEN_URL")),
        (
            "sasl.jaas.config",
            format!(
                "{JAAS}.oauthbearer.OAuthBearerLoginModule required clientId=\"{}\" clientSecret=\"{}\" scope=\"{}\";",
                var("KAFKA_OIDC_CLIENT_ID"),
                var("KAFKA_OIDC_CLIENT_SECRET"),
                var("KAFKA_OIDC_SCOPE")
            ),
        ),
    ]
}

fn producer(
    bootstrap_var: &str,
    protocol: &str,
    props: &[(&'static str, String)],
) -> Result<Producer, Error> {
    capture_logs();
    let bootstrap = bootstrap(bootstrap_var);
    let mut all: Vec<(&str, String)> = vec![
        ("bootstrap.servers", bootstrap),
        ("security.protocol", protocol.into()),
        ("linger.ms", "5".into()),
        ("delivery.timeout.ms", "60000".into()),
        ("max.block.ms", "20000".into()),
    ];
    all.extend(props.iter().cloned());
    Producer::new(ProducerConfig::from_properties(all)?)
}

/// Sends `n` records to a new topic, checks every one is acknowledged, and has Kafka's console
/// consumer (over PLAINTEXT) read back exactly those records, once each.
fn roundtrip(bootstrap_var: &str, protocol: &str, props: &[(&'static str, String)], n: usize) {
    let p = producer(bootstrap_var, protocol, props).unwrap_or_else(|e| panic!("{protocol} {props:?}: {e}"));
    let topic = unique_topic("sec");
    create_topic(&cluster(), &topic, 3, 1);
    let futures: Vec<_> = (0..n)
        .map(|i| {
            p.send(
                Record::new(topic.as_str())
                    .key(format!("k{i}").into_bytes())
                    .value(format!("v{i}").into_bytes()),
            )
            .unwrap_or_else(|e| panic!("send {i}: {e}"))
        })
        .collect();
    p.flush(Duration::from_secs(120)).unwrap();
    for (i, f) in futures.into_iter().enumerate() {
        f.outcome().unwrap_or_else(|e| panic!("record {i} over {protocol}: {e}"));
    }
    p.close(Duration::from_secs(30)).unwrap();
    let got = consume(&cluster(), &topic, n, 60_000, &[]);
    assert_eq!(got.len(), n, "records read back over PLAINTEXT");
    let values: HashSet<&str> = got.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values.len(), n, "no duplicates");
    assert!((0..n).all(|i| values.contains(format!("v{i}").as_str())), "every record present");
}

#[test]
fn sasl_plaintext_plain() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_PLAINTEXT", "SASL_PLAINTEXT", &mechanism("PLAIN"), RECORDS);
}

#[test]
fn sasl_plaintext_scram_sha_256() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_PLAINTEXT", "SASL_PLAINTEXT", &mechanism("SCRAM-SHA-256"), RECORDS);
}

#[test]
fn sasl_plaintext_scram_sha_512() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_PLAINTEXT", "SASL_PLAINTEXT", &mechanism("SCRAM-SHA-512"), RECORDS);
}

#[test]
fn sasl_plaintext_oauthbearer_unsecured() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_PLAINTEXT", "SASL_PLAINTEXT", &mechanism("OAUTHBEARER"), RECORDS);
}

fn with_ca(mut p: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    p.push(ca());
    p
}

#[test]
fn sasl_ssl_plain() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &with_ca(mechanism("PLAIN")), RECORDS);
}

#[test]
fn sasl_ssl_scram_sha_256() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &with_ca(mechanism("SCRAM-SHA-256")), RECORDS);
}

#[test]
fn sasl_ssl_scram_sha_512() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &with_ca(mechanism("SCRAM-SHA-512")), RECORDS);
}

#[test]
fn sasl_ssl_oauthbearer_unsecured() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &with_ca(mechanism("OAUTHBEARER")), RECORDS);
}

#[test]
fn sasl_ssl_oauthbearer_oidc_client_credentials() {
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL_OIDC", "SASL_SSL", &with_ca(oidc()), RECORDS);
}

#[test]
fn sasl_ssl_oauthbearer_token_provider_callback() {
    // The application's own token source: here Kafka's unsecured token, built by the test.
    capture_logs();
    let user = var("KAFKA_SASL_USER");
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&calls);
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", bootstrap("KAFKA_BOOTSTRAP_SASL_SSL")),
        ("security.protocol", "SASL_SSL".into()),
        ("sasl.mechanism", "OAUTHBEARER".into()),
        ca(),
    ])
    .unwrap();
    let p = Producer::builder(config)
        .oauthbearer_token_provider(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(unsecured_token(&user))
        })
        .build()
        .unwrap();
    let topic = unique_topic("sec-cb");
    p.send(Record::new(topic.as_str()).value(&b"by callback"[..])).unwrap().outcome().unwrap();
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the callback supplied the token");
    p.close(Duration::from_secs(30)).unwrap();
    let got = consume(&cluster(), &topic, 1, 30_000, &[]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, "by callback");
}

/// Kafka's unsecured JWS: `{"alg":"none"}` header, claims, empty signature.
fn unsecured_token(sub: &str) -> kprod::OAuthBearerToken {
    let now = std::time::SystemTime::now();
    let secs = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let b64 = |s: &str| base64_url(s.as_bytes());
    let value = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(&format!(r#"{{"sub":"{sub}","iat":{secs},"exp":{}}}"#, secs + 3600))
    );
    kprod::OAuthBearerToken::new(value, sub.to_string(), now + Duration::from_secs(3600))
}

fn base64_url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn ssl_without_a_client_certificate() {
    roundtrip(
        "KAFKA_BOOTSTRAP_SSL",
        "SSL",
        &[("ssl.truststore.type", "PEM".into()), ("ssl.truststore.location", var("KAFKA_CA"))],
        RECORDS,
    );
}

#[test]
fn ssl_with_a_client_certificate() {
    // mTLS with librdkafka's names and the encrypted key (ssl.key.password).
    roundtrip(
        "KAFKA_BOOTSTRAP_SSL_MTLS",
        "SSL",
        &[
            ca(),
            ("ssl.certificate.location", var("KAFKA_CLIENT_CERT")),
            ("ssl.key.location", var("KAFKA_CLIENT_KEY_ENCRYPTED")),
            ("ssl.key.password", var("KAFKA_CLIENT_KEY_PASSWORD")),
        ],
        RECORDS,
    );
}

#[test]
fn ssl_with_a_client_certificate_inline_in_java_form() {
    let read = |v: &str| std::fs::read_to_string(var(v)).unwrap();
    roundtrip(
        "KAFKA_BOOTSTRAP_SSL_MTLS",
        "SSL",
        &[
            ("ssl.truststore.type", "PEM".into()),
            ("ssl.truststore.certificates", read("KAFKA_CA")),
            ("ssl.keystore.type", "PEM".into()),
            ("ssl.keystore.certificate.chain", read("KAFKA_CLIENT_CERT")),
            ("ssl.keystore.key", read("KAFKA_CLIENT_KEY")),
        ],
        1000,
    );
}

#[test]
fn ssl_with_a_pem_keystore_file_and_an_encrypted_key() {
    // Java's PEM keystore: the encrypted key and the certificate chain in one file.
    roundtrip(
        "KAFKA_BOOTSTRAP_SSL_MTLS",
        "SSL",
        &[
            ("ssl.truststore.type", "PEM".into()),
            ("ssl.truststore.location", var("KAFKA_CA")),
            ("ssl.keystore.type", "PEM".into()),
            ("ssl.keystore.location", var("KAFKA_CLIENT_KEYSTORE_PEM")),
            ("ssl.key.password", var("KAFKA_CLIENT_KEY_PASSWORD")),
        ],
        1000,
    );
}

#[test]
fn transactional_over_sasl_ssl() {
    let mut props = with_ca(mechanism("SCRAM-SHA-512"));
    props.push(("transactional.id", unique_topic("sec-tid")));
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &props).unwrap();
    let t = Duration::from_secs(60);
    p.init_transactions(t).unwrap();
    let topic = unique_topic("sec-txn");
    create_topic(&cluster(), &topic, 2, 1);
    for (txn, commit) in [(0, true), (1, false), (2, true)] {
        p.begin_transaction().unwrap();
        for i in 0..1000 {
            p.send(Record::new(topic.as_str()).value(format!("t{txn}-{i}").into_bytes())).unwrap();
        }
        if commit {
            p.commit_transaction(t).unwrap();
        } else {
            p.abort_transaction(t).unwrap();
        }
    }
    p.close(Duration::from_secs(30)).unwrap();
    let got = consume(&cluster(), &topic, 2000, 60_000, &["--isolation-level", "read_committed"]);
    assert_eq!(got.len(), 2000);
    assert!(
        got.iter().all(|r| r.value.starts_with("t0-") || r.value.starts_with("t2-")),
        "no aborted record"
    );
}

#[test]
fn reauthentication_while_producing_loses_and_duplicates_nothing() {
    // The listener's connections.max.reauth.ms is a few seconds: over 30 s every connection
    // re-authenticates several times while records flow.
    let mut props = with_ca(mechanism("SCRAM-SHA-512"));
    props.push(("client.id", unique_topic("reauth")));
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL_REAUTH", "SASL_SSL", &props).unwrap();
    let topic = unique_topic("sec-reauth");
    create_topic(&cluster(), &topic, 3, 1);
    let start = Instant::now();
    let mut futures = Vec::new();
    let mut i = 0usize;
    while start.elapsed() < Duration::from_secs(30) {
        for _ in 0..200 {
            futures.push(p.send(Record::new(topic.as_str()).value(format!("r{i}").into_bytes())).unwrap());
            i += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    p.flush(Duration::from_secs(60)).unwrap();
    for (k, f) in futures.into_iter().enumerate() {
        f.outcome().unwrap_or_else(|e| panic!("record {k} failed during re-authentication: {e}"));
    }
    p.close(Duration::from_secs(30)).unwrap();
    let reauths = log_lines().lock().unwrap().iter().filter(|l| l.contains("re-authenticated")).count();
    assert!(reauths >= 3, "expected several re-authentications in 30 s, saw {reauths}");
    let got = consume(&cluster(), &topic, i, 60_000, &[]);
    assert_eq!(got.len(), i, "every record once");
    let values: HashSet<&str> = got.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values.len(), i, "no duplicates");
}

/// The error of one send through a producer that cannot authenticate, which must come within `within`.
fn failed_send(p: &Producer, within: Duration) -> Error {
    let start = Instant::now();
    let e = match p.send(Record::new("sec-never").value(&b"x"[..])) {
        Err(e) => e.into_parts().0,
        Ok(f) => f.wait_timeout(within).expect("an outcome").unwrap_err(),
    };
    assert!(start.elapsed() <= within, "took {:?}", start.elapsed());
    e
}

fn expect_auth(e: &Error, mechanism: &str, needle: &str) {
    match e {
        Error::Authentication { mechanism: m, message, .. } => {
            assert_eq!(m, mechanism, "{e}");
            assert!(message.contains(needle), "{e} should say {needle:?}");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

#[test]
fn wrong_credentials_fail_every_send_promptly_without_a_reconnect_storm() {
    let client_id = unique_topic("wrongpw");
    let props = with_ca(vec![
        ("sasl.mechanism", "SCRAM-SHA-512".into()),
        ("sasl.username", var("KAFKA_SASL_USER")),
        ("sasl.password", "kprod-wrong-password-7d1e".into()),
        ("client.id", client_id.clone()),
    ]);
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &props).unwrap();
    let e = failed_send(&p, Duration::from_secs(10));
    expect_auth(&e, "SASL/SCRAM-SHA-512", "invalid credentials");
    assert!(!e.is_retriable() && !e.is_fatal());
    // Later sends fail at once too.
    for _ in 0..3 {
        expect_auth(&failed_send(&p, Duration::from_secs(2)), "SASL/SCRAM-SHA-512", "invalid credentials");
    }
    // Attempts back off (reconnect.backoff.ms 50 doubling to reconnect.backoff.max.ms 1000).
    let from = log_lines().lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(6));
    let attempts = log_lines().lock().unwrap()[from..]
        .iter()
        .filter(|l| l.contains("authenticating with SASL/SCRAM-SHA-512") && l.contains(&client_id))
        .count();
    assert!(attempts <= 12, "{attempts} authentication attempts in 6 s: a retry storm");
    p.close(Duration::from_secs(10)).unwrap();
}

#[test]
fn wrong_credentials_end_init_transactions_promptly() {
    let props = with_ca(vec![
        ("sasl.mechanism", "SCRAM-SHA-256".into()),
        ("sasl.jaas.config", scram_jaas(&var("KAFKA_SASL_USER"), "kprod-wrong-password-31f0")),
        ("transactional.id", unique_topic("sec-badtid")),
    ]);
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &props).unwrap();
    let start = Instant::now();
    let e = p.init_transactions(Duration::from_secs(60)).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(15), "took {:?}", start.elapsed());
    expect_auth(&e, "SASL/SCRAM-SHA-256", "invalid credentials");
}

#[test]
fn the_on_error_hook_hears_of_an_authentication_failure_once() {
    capture_logs();
    let seen = std::sync::Arc::new(Mutex::new(Vec::<Error>::new()));
    let sink = std::sync::Arc::clone(&seen);
    let config = ProducerConfig::from_properties(with_ca(vec![
        ("bootstrap.servers", bootstrap("KAFKA_BOOTSTRAP_SASL_SSL")),
        ("security.protocol", "SASL_SSL".into()),
        ("sasl.mechanism", "PLAIN".into()),
        ("sasl.username", var("KAFKA_SASL_USER")),
        ("sasl.password", "kprod-wrong-password-9e21".into()),
    ]))
    .unwrap();
    let p =
        Producer::builder(config).on_error(move |e| sink.lock().unwrap().push(e.clone())).build().unwrap();
    let _ = failed_send(&p, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().iter().any(|e| matches!(e, Error::Authentication { .. })) {
        assert!(Instant::now() < deadline, "no authentication failure reported: {:?}", seen.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Reconnects go on, but the failure is reported once until a connection authenticates.
    std::thread::sleep(Duration::from_secs(3));
    let n = seen.lock().unwrap().iter().filter(|e| matches!(e, Error::Authentication { .. })).count();
    assert_eq!(n, 1, "{:?}", seen.lock().unwrap());
}

#[test]
fn a_mechanism_the_listener_lacks_names_the_ones_it_has() {
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL_OIDC", "SASL_SSL", &with_ca(mechanism("PLAIN"))).unwrap();
    expect_auth(&failed_send(&p, Duration::from_secs(10)), "SASL/PLAIN", "OAUTHBEARER");
}

#[test]
fn a_wrong_oidc_client_secret_fails_the_build() {
    let mut props = oidc();
    props.retain(|(k, _)| *k != "sasl.jaas.config");
    props.push(("sasl.oauthbearer.client.id", var("KAFKA_OIDC_CLIENT_ID")));
    props.push(("sasl.oauthbearer.client.secret", "kprod-wrong-oidc-secret-55aa".into()));
    let e = producer("KAFKA_BOOTSTRAP_SASL_SSL_OIDC", "SASL_SSL", &with_ca(props)).unwrap_err();
    expect_auth(&e, "SASL/OAUTHBEARER", "401");
}

#[test]
fn an_unknown_ca_is_named() {
    // No CA given: the system's store, which does not hold the test bed's CA.
    let p = producer("KAFKA_BOOTSTRAP_SSL", "SSL", &[]).unwrap();
    expect_auth(&failed_send(&p, Duration::from_secs(10)), "SSL", "unknown CA");
}

#[test]
fn a_host_name_mismatch_is_named_and_can_be_turned_off_as_in_java() {
    let p = producer("KAFKA_BOOTSTRAP_SSL_BADHOST", "SSL", &[ca()]).unwrap();
    expect_auth(&failed_send(&p, Duration::from_secs(10)), "SSL", "does not match its host name");
    roundtrip(
        "KAFKA_BOOTSTRAP_SSL_BADHOST",
        "SSL",
        &[ca(), ("ssl.endpoint.identification.algorithm", String::new())],
        100,
    );
}

#[test]
fn an_expired_certificate_is_named() {
    let p = producer("KAFKA_BOOTSTRAP_SSL_EXPIRED", "SSL", &[ca()]).unwrap();
    expect_auth(&failed_send(&p, Duration::from_secs(10)), "SSL", "expired");
}

#[test]
fn a_missing_client_certificate_is_refused() {
    let p = producer("KAFKA_BOOTSTRAP_SSL_MTLS", "SSL", &[ca()]).unwrap();
    let e = failed_send(&p, Duration::from_secs(10));
    assert!(matches!(e, Error::Authentication { ref mechanism, .. } if mechanism == "SSL"), "{e:?}");
}

#[test]
fn no_secret_reaches_any_log_line_error_or_debug_output() {
    let secrets = [
        var("KAFKA_SASL_PASSWORD"),
        var("KAFKA_OIDC_CLIENT_SECRET"),
        var("KAFKA_CLIENT_KEY_PASSWORD"),
        "kprod-wrong-password-0b9c".to_string(),
    ];
    // A failing run and succeeding runs, each at every log level.
    let wrong = with_ca(vec![
        ("sasl.mechanism", "PLAIN".into()),
        ("sasl.username", var("KAFKA_SASL_USER")),
        ("sasl.password", secrets[3].clone()),
    ]);
    let p = producer("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &wrong).unwrap();
    let e = failed_send(&p, Duration::from_secs(10));
    let mut texts = vec![e.to_string(), format!("{e:?}")];
    drop(p);
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL", "SASL_SSL", &with_ca(mechanism("PLAIN")), 100);
    roundtrip("KAFKA_BOOTSTRAP_SASL_SSL_OIDC", "SASL_SSL", &with_ca(oidc()), 100);
    let mtls = [
        ca(),
        ("ssl.certificate.location", var("KAFKA_CLIENT_CERT")),
        ("ssl.key.location", var("KAFKA_CLIENT_KEY_ENCRYPTED")),
        ("ssl.key.password", secrets[2].clone()),
    ];
    roundtrip("KAFKA_BOOTSTRAP_SSL_MTLS", "SSL", &mtls, 100);
    let config = ProducerConfig::from_properties(
        [("bootstrap.servers", "127.0.0.1:1".to_string()), ("security.protocol", "SASL_SSL".into())]
            .into_iter()
            .chain(with_ca(oidc()))
            .chain(mtls.iter().cloned()),
    )
    .unwrap();
    texts.push(format!("{config:?}"));
    let lines = log_lines().lock().unwrap();
    assert!(lines.len() > 100, "the runs logged ({} lines)", lines.len());
    for s in &secrets {
        for l in lines.iter().chain(texts.iter()) {
            assert!(!l.contains(s.as_str()), "a secret in: {l}");
        }
    }
}
