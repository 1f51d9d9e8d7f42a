//! SASL authentication as pure client state machines: no I/O here, the broker connection drives them.
//!
//! The Kafka flow (KIP-43, KIP-152): after ApiVersions, the client sends SaslHandshake v1 naming the
//! [`Mechanism`]; the broker answers with its enabled mechanisms or an error. Then each message the
//! [`SaslClient`] produces ([`Step::Send`]) goes in a SaslAuthenticate request, and the bytes of the
//! response go back into [`SaslClient::step`] until it answers [`Step::Done`]. A SaslAuthenticate
//! response with a non-zero error code ends the exchange at once (the connection reports the broker's
//! error message); its `session_lifetime_ms`, when non-zero, asks the client to re-authenticate
//! (KIP-368) before then, with a fresh exchange from [`SaslSettings::client`].
//!
//! Secrets (passwords, client secrets, tokens) never appear in `Debug` output or error messages.

pub(crate) mod jaas;
pub(crate) mod json;
pub(crate) mod oauthbearer;
pub(crate) mod plain;
pub(crate) mod scram;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jaas::{JaasConfig, LoginModule};
use oauthbearer::{
    validate_extension, Extension, OAuthBearerClient, OidcOptions, RefreshPolicy, TokenCallback,
    TokenProvider, TokenSource, UnsecuredOptions,
};
use scram::{ScramClient, ScramHash};

/// What went wrong in SASL configuration or an exchange. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SaslError {
    /// A property is missing, malformed or inconsistent (maps to `Error::Config`).
    #[error("invalid configuration {key}: {message}")]
    Config {
        /// The property name.
        key: &'static str,
        /// What is wrong; never the value of a secret.
        message: String,
    },
    /// A mechanism kprod does not implement (maps to `Error::Unsupported`).
    #[error("{0}")]
    Unsupported(String),
    /// The exchange failed: the server refused, or sent something the mechanism does not allow.
    /// Authentication failures are not retriable (Java: `SaslAuthenticationException`).
    #[error("{mechanism} authentication failed: {message}")]
    Authentication {
        /// The mechanism name.
        mechanism: &'static str,
        /// Why.
        message: String,
    },
    /// No usable OAUTHBEARER token (yet): the refresher keeps trying, so a later attempt may succeed.
    #[error("{0}")]
    Token(String),
}

impl SaslError {
    pub(crate) fn config(key: &'static str, message: impl Into<String>) -> Self {
        SaslError::Config { key, message: message.into() }
    }

    pub(crate) fn protocol(mechanism: &'static str, message: impl Into<String>) -> Self {
        SaslError::Authentication { mechanism, message: message.into() }
    }

    /// True when authenticating again later may succeed (only a missing token: the refresher retries).
    pub(crate) fn is_retriable(&self) -> bool {
        matches!(self, SaslError::Token(_))
    }
}

/// What the client does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send these bytes in a SaslAuthenticate request and pass the response's bytes to `step`.
    Send(Vec<u8>),
    /// Authenticated: the exchange is complete.
    Done,
}

/// One authentication exchange of one mechanism, driven by the connection.
pub(crate) trait SaslClient: Send + fmt::Debug {
    /// The mechanism name for SaslHandshake, e.g. `SCRAM-SHA-512`.
    fn mechanism(&self) -> &'static str;
    /// Advances the exchange. `server` is `None` for the first call, then the `auth_bytes` of the last
    /// SaslAuthenticate response (called only when its error code was NONE).
    fn step(&mut self, server: Option<&[u8]>) -> Result<Step, SaslError>;
}

/// The SASL mechanisms kprod implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// PLAIN (RFC 4616).
    Plain,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// SCRAM-SHA-512.
    ScramSha512,
    /// OAUTHBEARER (RFC 7628).
    OAuthBearer,
}

impl Mechanism {
    /// The name SaslHandshake carries.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = SaslError;

    /// Mechanism names are case-sensitive in Kafka; surrounding whitespace is ignored.
    fn from_str(s: &str) -> Result<Self, SaslError> {
        match s.trim() {
            "PLAIN" => Ok(Mechanism::Plain),
            "SCRAM-SHA-256" => Ok(Mechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(Mechanism::ScramSha512),
            "OAUTHBEARER" => Ok(Mechanism::OAuthBearer),
            "GSSAPI" => Err(SaslError::Unsupported(
                "sasl.mechanism GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 \
                 or OAUTHBEARER"
                    .into(),
            )),
            other => Err(SaslError::config(
                "sasl.mechanism",
                format!(
                    "unknown mechanism {other:?}; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
                ),
            )),
        }
    }
}

/// A username and password (PLAIN, SCRAM).
#[derive(Clone)]
struct Password {
    username: String,
    password: String,
    /// SCRAM with a delegation token (`tokenauth=true` in the JAAS options).
    token_auth: bool,
}

enum Credentials {
    Password(Password),
    OAuth { source: TokenSource, extensions: Vec<Extension> },
}

struct Inner {
    mechanism: Mechanism,
    credentials: Credentials,
}

/// The SASL mechanism and credentials of a producer, shared by all its connections.
///
/// Cheap to clone (an `Arc`). For OAUTHBEARER it owns the [`TokenSource`], whose refresher thread
/// ends when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct SaslSettings {
    inner: Arc<Inner>,
}

impl fmt::Debug for SaslSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SaslSettings");
        d.field("mechanism", &self.inner.mechanism);
        match &self.inner.credentials {
            Credentials::Password(p) => d
                .field("username", &p.username)
                .field("password", &"[redacted]")
                .field("token_auth", &p.token_auth),
            Credentials::OAuth { source, extensions } => {
                let keys: Vec<&str> = extensions.iter().map(|(k, _)| k.as_str()).collect();
                d.field("token_source", source).field("extensions", &keys)
            }
        };
        d.finish()
    }
}

/// Reads a property, trimmed; empty counts as unset.
fn prop(get: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A numeric property in `[min, max]`, or `default` when unset.
fn number(
    get: &dyn Fn(&str) -> Option<String>,
    key: &'static str,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64, SaslError> {
    match prop(get, key) {
        None => Ok(default),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && (min..=max).contains(&n) => Ok(n),
            _ => Err(SaslError::config(key, format!("{v:?} is not a number between {min} and {max}"))),
        },
    }
}

/// A whole-number property in `[min, max]` (of `unit`s), or `default` when unset.
fn duration(
    get: &dyn Fn(&str) -> Option<String>,
    key: &'static str,
    default: u64,
    min: u64,
    max: u64,
    unit: Duration,
) -> Result<Duration, SaslError> {
    let n = match prop(get, key) {
        None => default,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                return Err(SaslError::config(
                    key,
                    format!("{v:?} is not a whole number between {min} and {max}"),
                ))
            }
        },
    };
    Ok(unit.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)))
}

const MS: Duration = Duration::from_millis(1);
const SECS: Duration = Duration::from_secs(1);

impl SaslSettings {
    /// Builds the settings from the producer's properties (Java's names, and librdkafka's
    /// `sasl.username`/`sasl.password`/`sasl.oauthbearer.*` where Java has none). Call it only for
    /// the `SASL_PLAINTEXT` and `SASL_SSL` protocols. `token_provider` is the application's
    /// OAUTHBEARER callback, which takes precedence over every other token source.
    ///
    /// Starts no thread: call [`start`](Self::start) when the producer is built.
    pub(crate) fn from_properties(
        get: impl Fn(&str) -> Option<String>,
        token_provider: Option<TokenCallback>,
    ) -> Result<SaslSettings, SaslError> {
        let get: &dyn Fn(&str) -> Option<String> = &get;
        // Java's default mechanism is GSSAPI, which is refused with a clear message.
        let mechanism: Mechanism = prop(get, "sasl.mechanism").unwrap_or_else(|| "GSSAPI".into()).parse()?;
        let jaas = prop(get, "sasl.jaas.config").map(|v| JaasConfig::parse(&v)).transpose()?;
        if let Some(j) = &jaas {
            let expected = match mechanism {
                Mechanism::Plain => LoginModule::Plain,
                Mechanism::ScramSha256 | Mechanism::ScramSha512 => LoginModule::Scram,
                Mechanism::OAuthBearer => LoginModule::OAuthBearer,
            };
            if j.module != expected {
                return Err(SaslError::config(
                    "sasl.jaas.config",
                    format!(
                        "names {} but sasl.mechanism is {mechanism}, which needs {}",
                        j.module.name(),
                        expected.name()
                    ),
                ));
            }
        }
        let credentials = match mechanism {
            Mechanism::Plain | Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
                Credentials::Password(password_credentials(get, jaas.as_ref(), mechanism)?)
            }
            Mechanism::OAuthBearer => oauth_credentials(get, jaas.as_ref(), token_provider)?,
        };
        Ok(SaslSettings { inner: Arc::new(Inner { mechanism, credentials }) })
    }

    /// The configured mechanism (for SaslHandshake).
    pub(crate) fn mechanism(&self) -> Mechanism {
        self.inner.mechanism
    }

    /// A fresh exchange, for each authentication and each re-authentication. Never blocks: for
    /// OAUTHBEARER it takes the token the refresher holds, and fails with a retriable
    /// [`SaslError::Token`] while there is none.
    pub(crate) fn client(&self) -> Result<Box<dyn SaslClient>, SaslError> {
        match (&self.inner.credentials, self.inner.mechanism) {
            (Credentials::Password(p), Mechanism::Plain) => {
                Ok(Box::new(plain::PlainClient::new(&p.username, &p.password)))
            }
            (Credentials::Password(p), Mechanism::ScramSha256) => {
                Ok(Box::new(ScramClient::new(ScramHash::Sha256, &p.username, &p.password, p.token_auth)?))
            }
            (Credentials::Password(p), Mechanism::ScramSha512) => {
                Ok(Box::new(ScramClient::new(ScramHash::Sha512, &p.username, &p.password, p.token_auth)?))
            }
            (Credentials::OAuth { source, extensions }, _) => {
                let token = source.current()?;
                Ok(Box::new(OAuthBearerClient::new(&token.value, extensions)))
            }
            (Credentials::Password(_), Mechanism::OAuthBearer) => {
                Err(SaslError::protocol("OAUTHBEARER", "configured without a token source"))
            }
        }
    }

    /// Starts the OAUTHBEARER token refresher (no-op for other mechanisms, and when running).
    pub(crate) fn start(&self) -> Result<(), SaslError> {
        match &self.inner.credentials {
            Credentials::OAuth { source, .. } => source.start(),
            Credentials::Password(_) => Ok(()),
        }
    }

    /// For OAUTHBEARER, starts the refresher and waits up to `timeout` for its first fetch, returning
    /// its error if it failed (so `Producer::new` can fail fast on a bad client secret). Blocking: not
    /// for the I/O thread. Ok at once for other mechanisms.
    pub(crate) fn wait_for_token(&self, timeout: Duration) -> Result<(), SaslError> {
        match &self.inner.credentials {
            Credentials::OAuth { source, .. } => source.wait_ready(timeout).map(drop),
            Credentials::Password(_) => Ok(()),
        }
    }
}

fn password_credentials(
    get: &dyn Fn(&str) -> Option<String>,
    jaas: Option<&JaasConfig>,
    mechanism: Mechanism,
) -> Result<Password, SaslError> {
    let missing = |what: &str| {
        SaslError::config(
            "sasl.jaas.config",
            format!(
                "{mechanism} needs a {what}: set sasl.jaas.config (username=\"...\" password=\"...\") or \
                 sasl.username and sasl.password"
            ),
        )
    };
    let (username, password, token_auth) = match jaas {
        Some(j) => (
            j.option("username").map(str::to_owned),
            j.option("password").map(str::to_owned),
            j.option("tokenauth").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        ),
        None => (get("sasl.username"), get("sasl.password"), false),
    };
    let username = username.filter(|u| !u.is_empty()).ok_or_else(|| missing("username"))?;
    let password = password.ok_or_else(|| missing("password"))?;
    if mechanism == Mechanism::Plain && (username.contains('\0') || password.contains('\0')) {
        return Err(SaslError::config("sasl.jaas.config", "PLAIN credentials cannot contain NUL characters"));
    }
    Ok(Password { username, password, token_auth })
}

fn refresh_policy(get: &dyn Fn(&str) -> Option<String>) -> Result<RefreshPolicy, SaslError> {
    let retry_backoff = duration(get, "sasl.login.retry.backoff.ms", 100, 0, u64::MAX, MS)?;
    let retry_backoff_max = duration(get, "sasl.login.retry.backoff.max.ms", 10_000, 0, u64::MAX, MS)?;
    Ok(RefreshPolicy {
        window_factor: number(get, "sasl.login.refresh.window.factor", 0.8, 0.5, 1.0)?,
        window_jitter: number(get, "sasl.login.refresh.window.jitter", 0.05, 0.0, 0.25)?,
        min_period: duration(get, "sasl.login.refresh.min.period.seconds", 60, 0, 900, SECS)?,
        buffer: duration(get, "sasl.login.refresh.buffer.seconds", 300, 0, 3600, SECS)?,
        retry_backoff,
        retry_backoff_max,
    })
}

/// Parses librdkafka's `a=b,c=d` (`sasl.oauthbearer.extensions`) or `a=b c=d` (`sasl.oauthbearer.config`).
fn pairs(key: &'static str, text: &str, sep: char) -> Result<Vec<(String, String)>, SaslError> {
    text.split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| SaslError::config(key, "expected key=value pairs"))
        })
        .collect()
}

fn oauth_credentials(
    get: &dyn Fn(&str) -> Option<String>,
    jaas: Option<&JaasConfig>,
    callback: Option<TokenCallback>,
) -> Result<Credentials, SaslError> {
    let policy = refresh_policy(get)?;
    let jaas_opt = |k: &str| jaas.and_then(|j| j.option(k)).map(str::to_owned).filter(|v| !v.is_empty());
    let rdkafka_config = prop(get, "sasl.oauthbearer.config")
        .map(|v| pairs("sasl.oauthbearer.config", &v, ' '))
        .transpose()?
        .unwrap_or_default();
    let rd = |k: &str| rdkafka_config.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());

    // Extensions: JAAS `extension_<name>` (KIP-768) / `unsecuredLoginExtension_<name>` (unsecured),
    // librdkafka's `sasl.oauthbearer.extensions` and `extension_<name>` in `sasl.oauthbearer.config`.
    let mut extensions: Vec<Extension> = Vec::new();
    if let Some(j) = jaas {
        for (k, v) in &j.options {
            if let Some(name) =
                k.strip_prefix("extension_").or_else(|| k.strip_prefix("unsecuredLoginExtension_"))
            {
                extensions.push((name.to_owned(), v.clone()));
            }
        }
    }
    if let Some(v) = prop(get, "sasl.oauthbearer.extensions") {
        extensions.extend(pairs("sasl.oauthbearer.extensions", &v, ',')?);
    }
    for (k, v) in &rdkafka_config {
        if let Some(name) = k.strip_prefix("extension_") {
            extensions.push((name.to_owned(), v.clone()));
        }
    }
    for (k, v) in &extensions {
        validate_extension(k, v).map_err(|m| SaslError::config("sasl.jaas.config", m))?;
    }

    let provider = if let Some(cb) = callback {
        TokenProvider::Callback(cb)
    } else if let Some(url) = prop(get, "sasl.oauthbearer.token.endpoint.url") {
        let client_id =
            jaas_opt("clientId").or_else(|| prop(get, "sasl.oauthbearer.client.id")).ok_or_else(|| {
                SaslError::config(
                    "sasl.oauthbearer.token.endpoint.url",
                    "the OIDC client_credentials flow needs a client id: clientId in sasl.jaas.config or \
                     sasl.oauthbearer.client.id",
                )
            })?;
        let client_secret = jaas_opt("clientSecret")
            .or_else(|| prop(get, "sasl.oauthbearer.client.secret"))
            .ok_or_else(|| {
                SaslError::config(
                    "sasl.oauthbearer.token.endpoint.url",
                    "the OIDC client_credentials flow needs a client secret: clientSecret in sasl.jaas.config \
                     or sasl.oauthbearer.client.secret",
                )
            })?;
        let scope = jaas_opt("scope").or_else(|| prop(get, "sasl.oauthbearer.scope"));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(SaslError::config(
                "sasl.oauthbearer.token.endpoint.url",
                "must be an http:// or https:// URL",
            ));
        }
        let mut o = OidcOptions::new(url, client_id, client_secret, scope);
        o.connect_timeout = duration(get, "sasl.login.connect.timeout.ms", 10_000, 1, u64::MAX, MS)?;
        o.read_timeout = duration(get, "sasl.login.read.timeout.ms", 10_000, 1, u64::MAX, MS)?;
        o.sub_claim = prop(get, "sasl.oauthbearer.sub.claim.name").unwrap_or_else(|| "sub".into());
        o.urlencode_header = match prop(get, "sasl.oauthbearer.header.urlencode").as_deref() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(_) => {
                return Err(SaslError::config("sasl.oauthbearer.header.urlencode", "must be true or false"))
            }
        };
        TokenProvider::Oidc(o)
    } else if prop(get, "sasl.oauthbearer.method").is_some_and(|m| m.eq_ignore_ascii_case("oidc")) {
        return Err(SaslError::config(
            "sasl.oauthbearer.token.endpoint.url",
            "sasl.oauthbearer.method is oidc but no token endpoint URL is set",
        ));
    } else {
        TokenProvider::Unsecured(unsecured_options(jaas, &rdkafka_config, rd("principal"))?)
    };
    Ok(Credentials::OAuth { source: TokenSource::new(provider, policy), extensions })
}

/// Java's unsecured login options (`unsecuredLogin*` in the JAAS config), or librdkafka's
/// `sasl.oauthbearer.config` (`principal=`, `principalClaimName=`, `scope=`, `scopeClaimName=`, `lifeSeconds=`).
fn unsecured_options(
    jaas: Option<&JaasConfig>,
    rdkafka: &[(String, String)],
    rd_principal: Option<String>,
) -> Result<UnsecuredOptions, SaslError> {
    let key = if jaas.is_some() { "sasl.jaas.config" } else { "sasl.oauthbearer.config" };
    let bad = |m: String| SaslError::config(key, m);
    let rd = |k: &str| rdkafka.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
    let opt = |k: &str| jaas.and_then(|j| j.option(k));
    let principal_claim =
        opt("unsecuredLoginPrincipalClaimName").or(rd("principalClaimName")).unwrap_or("sub").to_owned();
    let principal = jaas
        .and_then(|j| j.option(&format!("unsecuredLoginStringClaim_{principal_claim}")).map(str::to_owned))
        .or(rd_principal)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            SaslError::config(
                key,
                "OAUTHBEARER needs a token source: a token callback, sasl.oauthbearer.token.endpoint.url (OIDC), or \
                 for an unsecured development token unsecuredLoginStringClaim_sub in sasl.jaas.config \
                 (librdkafka: principal= in sasl.oauthbearer.config)",
            )
        })?;
    let lifetime_text = opt("unsecuredLoginLifetimeSeconds").or(rd("lifeSeconds")).unwrap_or("3600");
    let lifetime = match lifetime_text.parse::<u64>() {
        Ok(s) if s > 0 && s <= 10 * 365 * 86_400 => Duration::from_secs(s),
        _ => return Err(bad("the unsecured token lifetime must be a positive number of seconds".into())),
    };
    let reserved = |name: &str| ["iat", "exp", principal_claim.as_str()].contains(&name);
    let mut claims = Vec::new();
    if let Some(j) = jaas {
        for (k, v) in &j.options {
            let (name, value) = if let Some(n) = k.strip_prefix("unsecuredLoginStringClaim_") {
                (n, json::quote(v))
            } else if let Some(n) = k.strip_prefix("unsecuredLoginNumberClaim_") {
                match json::Json::parse(v) {
                    Some(json::Json::Number(num)) => (n, num),
                    _ => return Err(bad(format!("{k} must be a number"))),
                }
            } else if let Some(n) = k.strip_prefix("unsecuredLoginListClaim_") {
                // Java: the value's first character is the delimiter of the list that follows.
                let mut chars = v.chars();
                let items: Vec<String> = match chars.next() {
                    Some(delim) => {
                        chars.as_str().split(delim).filter(|s| !s.is_empty()).map(json::quote).collect()
                    }
                    None => Vec::new(),
                };
                (n, format!("[{}]", items.join(",")))
            } else {
                continue;
            };
            if name == principal_claim && k.starts_with("unsecuredLoginStringClaim_") {
                continue; // the principal, already taken
            }
            if name.is_empty() || reserved(name) {
                return Err(bad(format!("{k} names a claim that cannot be set")));
            }
            claims.push((name.to_owned(), value));
        }
    } else if let Some(scope) = rd("scope") {
        let claim = rd("scopeClaimName").unwrap_or("scope");
        let items: Vec<String> = scope.split(',').filter(|s| !s.is_empty()).map(json::quote).collect();
        claims.push((claim.to_owned(), format!("[{}]", items.join(","))));
    }
    Ok(UnsecuredOptions { principal_claim, principal, lifetime, claims })
}

#[cfg(test)]
mod tests;
