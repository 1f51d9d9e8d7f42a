//! `SaslSettings::from_properties` and the no-secret-in-output guarantee across every type.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::oauthbearer::OAuthBearerToken;
use super::*;

const SECRETS: &[&str] = &["Pa55word!", "Cl1entS3cret", "eyJTOKENVALUE"];

fn settings(props: &[(&str, &str)]) -> Result<SaslSettings, SaslError> {
    let map: HashMap<String, String> = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    SaslSettings::from_properties(move |k| map.get(k).cloned(), None)
}

fn first_message(s: &SaslSettings) -> Vec<u8> {
    match s.client().unwrap().step(None).unwrap() {
        Step::Send(m) => m,
        Step::Done => panic!("expected a message"),
    }
}

fn assert_no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} in {text}");
    }
}

#[test]
fn mechanism_names_round_trip() {
    for m in [Mechanism::Plain, Mechanism::ScramSha256, Mechanism::ScramSha512, Mechanism::OAuthBearer] {
        assert_eq!(m.name().parse::<Mechanism>().unwrap(), m);
        assert_eq!(m.to_string(), m.name());
    }
    assert!(
        matches!("GSSAPI".parse::<Mechanism>(), Err(SaslError::Unsupported(m)) if m.contains("Kerberos"))
    );
    assert!(matches!("plain".parse::<Mechanism>(), Err(SaslError::Config { key: "sasl.mechanism", .. })));
}

#[test]
fn default_mechanism_is_gssapi_and_refused() {
    let e = settings(&[("sasl.username", "u"), ("sasl.password", "p")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sasl.mechanism GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
    );
}

#[test]
fn plain_from_jaas_and_from_librdkafka_names() {
    let s = settings(&[
        ("sasl.mechanism", "PLAIN"),
        (
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="Pa55word!";"#,
        ),
    ])
    .unwrap();
    assert_eq!(s.mechanism(), Mechanism::Plain);
    assert_eq!(first_message(&s), b"\0alice\0Pa55word!");
    let s =
        settings(&[("sasl.mechanism", "PLAIN"), ("sasl.username", "bob"), ("sasl.password", "Pa55word!")])
            .unwrap();
    assert_eq!(first_message(&s), b"\0bob\0Pa55word!");
    assert!(s.start().is_ok() && s.wait_for_token(Duration::ZERO).is_ok());
}

#[test]
fn scram_from_jaas() {
    let s = settings(&[
        ("sasl.mechanism", "SCRAM-SHA-512"),
        (
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"carol\" password=\"Pa55word!\";",
        ),
    ])
    .unwrap();
    let c = s.client().unwrap();
    assert_eq!(c.mechanism(), "SCRAM-SHA-512");
    let m = first_message(&s);
    assert!(m.starts_with(b"n,,n=carol,r="), "{}", String::from_utf8_lossy(&m));
    assert_ne!(first_message(&s), m, "each exchange has its own nonce");
}

#[test]
fn missing_or_mismatched_credentials_are_clear() {
    let e = settings(&[("sasl.mechanism", "SCRAM-SHA-256")]).unwrap_err().to_string();
    assert!(e.contains("needs a username") && e.contains("sasl.username"), "{e}");
    let e = settings(&[("sasl.mechanism", "PLAIN"), ("sasl.username", "u")]).unwrap_err().to_string();
    assert!(e.contains("needs a password"), "{e}");
    let e = settings(&[
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=u password=\"Pa55word!\";"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("names PlainLoginModule but sasl.mechanism is SCRAM-SHA-256"), "{e}");
    assert_no_secret(&e);
    let e = settings(&[("sasl.mechanism", "OAUTHBEARER")]).unwrap_err().to_string();
    assert!(e.contains("needs a token source"), "{e}");
    let e = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.token.endpoint.url", "https://idp/token"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("client id"), "{e}");
    let e = settings(&[("sasl.mechanism", "OAUTHBEARER"), ("sasl.oauthbearer.method", "oidc")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no token endpoint URL"), "{e}");
    let e = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.config", "principal=me"),
        ("sasl.login.refresh.window.factor", "0.2"),
    ])
    .unwrap_err();
    assert!(matches!(e, SaslError::Config { key: "sasl.login.refresh.window.factor", .. }), "{e}");
}

#[test]
fn unsecured_oauthbearer_from_jaas() {
    let s = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        (
            "sasl.jaas.config",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginLifetimeSeconds=\"120\" \
             unsecuredLoginListClaim_scope=\",read,write\" unsecuredLoginNumberClaim_level=\"3\" \
             unsecuredLoginExtension_traceId=\"t1\";",
        ),
    ])
    .unwrap();
    s.wait_for_token(Duration::from_secs(5)).unwrap();
    let m = String::from_utf8(first_message(&s)).unwrap();
    let token = m.strip_prefix("n,,\u{1}auth=Bearer ").unwrap().split('\u{1}').next().unwrap();
    let claims = oauthbearer::jwt_claims(token).unwrap();
    assert_eq!(claims.get("sub").and_then(json::Json::as_str), Some("alice"));
    let (iat, exp) = (
        claims.get("iat").and_then(json::Json::as_seconds),
        claims.get("exp").and_then(json::Json::as_seconds),
    );
    assert_eq!(exp.unwrap() - iat.unwrap(), 120);
    assert_eq!(claims.get("level"), Some(&json::Json::Number("3".into())));
    assert_eq!(
        claims.get("scope"),
        Some(&json::Json::Array(vec![json::Json::String("read".into()), json::Json::String("write".into())]))
    );
    assert!(m.ends_with("\u{1}traceId=t1\u{1}\u{1}"), "{m:?}");
}

#[test]
fn unsecured_oauthbearer_from_librdkafka_config() {
    let s = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.config", "principal=svc scope=a,b lifeSeconds=600 extension_tenant=x"),
    ])
    .unwrap();
    s.wait_for_token(Duration::from_secs(5)).unwrap();
    let m = String::from_utf8(first_message(&s)).unwrap();
    assert!(m.ends_with("\u{1}tenant=x\u{1}\u{1}"), "{m:?}");
    let bad = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.config", "principal=svc extension_a_b=x"),
    ]);
    assert!(bad.is_err());
}

#[test]
fn callback_takes_precedence_and_client_fails_retriably_without_token() {
    let cb: oauthbearer::TokenCallback = std::sync::Arc::new(|| Err("not yet".into()));
    let s = SaslSettings::from_properties(
        |k| (k == "sasl.mechanism").then(|| "OAUTHBEARER".to_owned()),
        Some(cb),
    )
    .unwrap();
    let e = s.wait_for_token(Duration::from_secs(5)).unwrap_err();
    assert!(e.is_retriable() && e.to_string().contains("not yet"), "{e}");
    let e = s.client().unwrap_err();
    assert!(e.is_retriable(), "{e}");

    let cb: oauthbearer::TokenCallback = std::sync::Arc::new(|| {
        Ok(OAuthBearerToken::new("eyJTOKENVALUE", "svc", SystemTime::now() + Duration::from_secs(3600)))
    });
    let s = SaslSettings::from_properties(
        |k| (k == "sasl.mechanism").then(|| "OAUTHBEARER".to_owned()),
        Some(cb),
    )
    .unwrap();
    s.wait_for_token(Duration::from_secs(5)).unwrap();
    assert_eq!(first_message(&s), b"n,,\x01auth=Bearer eyJTOKENVALUE\x01\x01");
    assert_no_secret(&format!("{s:?}"));
}

#[test]
fn settings_are_send_sync_and_cheap_to_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<SaslSettings>();
    fn assert_client<T: Send>() {}
    assert_client::<Box<dyn SaslClient>>();
}

/// Every type that can hold a secret, formatted with `{:?}` (and errors with `{}`): no secret shows.
#[test]
fn no_secret_in_any_debug_output() {
    let mut outputs = Vec::new();
    let plain =
        settings(&[("sasl.mechanism", "PLAIN"), ("sasl.username", "u"), ("sasl.password", "Pa55word!")])
            .unwrap();
    outputs.push(format!("{plain:?}"));
    outputs.push(format!("{:?}", plain.client().unwrap()));
    let scram = settings(&[
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=u password=\"Pa55word!\";"),
    ])
    .unwrap();
    outputs.push(format!("{scram:?}"));
    let mut c = scram.client().unwrap();
    outputs.push(format!("{c:?}"));
    let _ = c.step(None);
    let nonce_reply = b"r=x,s=c2FsdA==,i=4096";
    if let Err(e) = c.step(Some(nonce_reply)) {
        outputs.push(format!("{e:?} {e}"));
    }
    outputs.push(format!("{c:?}"));
    let jaas = jaas::JaasConfig::parse(
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=id \
         clientSecret=\"Cl1entS3cret\" password=\"Pa55word!\";",
    )
    .unwrap();
    outputs.push(format!("{jaas:?}"));
    let oidc = settings(&[
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.token.endpoint.url", "http://127.0.0.1:1/token"),
        ("sasl.oauthbearer.client.id", "id"),
        ("sasl.oauthbearer.client.secret", "Cl1entS3cret"),
    ])
    .unwrap();
    outputs.push(format!("{oidc:?}"));
    let token = OAuthBearerToken::new("eyJTOKENVALUE", "p", SystemTime::now() + Duration::from_secs(60));
    outputs.push(format!("{token:?}"));
    let mut ob = oauthbearer::OAuthBearerClient::new("eyJTOKENVALUE", &[]);
    outputs.push(format!("{ob:?}"));
    let _ = ob.step(None);
    outputs.push(format!("{ob:?}"));
    // Errors from malformed configuration that carry secrets.
    for jaas_text in [
        "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"Pa55word!",
        "org.apache.kafka.common.security.plain.PlainLoginModule required password=Pa55word! password=Pa55word!;",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=u password=\"Pa55word!\" extra",
    ] {
        let e = settings(&[("sasl.mechanism", "PLAIN"), ("sasl.jaas.config", jaas_text)]).unwrap_err();
        outputs.push(format!("{e:?} {e}"));
    }
    for o in &outputs {
        assert_no_secret(o);
    }
    assert!(outputs.iter().any(|o| o.contains("[redacted]")));
}
