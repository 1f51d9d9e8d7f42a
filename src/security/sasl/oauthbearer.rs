//! OAUTHBEARER (RFC 7628, KIP-255): the client message, and the token source that keeps a fresh
//! bearer token ready for it.
//!
//! Fetching a token may block (an HTTP round trip to the identity provider, or a user callback), so it
//! never happens on the sender's I/O thread. A [`TokenSource`] owns one background thread that fetches
//! the first token at once, then refreshes it before it expires (see [`RefreshPolicy`]); the I/O thread
//! only calls [`TokenSource::current`], which takes a lock just long enough to clone the token.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::{Condvar, Mutex};

use super::json::{quote, Json};
use super::{SaslClient, SaslError, Step};

const MECHANISM: &str = "OAUTHBEARER";

/// RFC 7628's separator between key-value pairs (`kvsep`).
const KVSEP: u8 = 0x01;

/// Largest token endpoint response read; real ones are a few kilobytes.
const MAX_RESPONSE: u64 = 1 << 20;

/// An OAuth 2 bearer token for SASL/OAUTHBEARER, as returned by a token callback.
///
/// `Debug` shows the principal and expiry, never the token itself.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthBearerToken {
    /// The compact token sent to the broker (a JWT for Kafka's built-in validators).
    pub value: String,
    /// Who the token names (typically the JWT's `sub` claim); used in messages.
    pub principal: String,
    /// When the token stops being valid; the refresher fetches a new one before then.
    pub expires_at: SystemTime,
}

impl OAuthBearerToken {
    /// A token `value` for `principal`, valid until `expires_at`.
    pub fn new(value: impl Into<String>, principal: impl Into<String>, expires_at: SystemTime) -> Self {
        OAuthBearerToken { value: value.into(), principal: principal.into(), expires_at }
    }
}

impl fmt::Debug for OAuthBearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBearerToken")
            .field("value", &"[redacted]")
            .field("principal", &self.principal)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The user's token callback.
pub(crate) type TokenCallback = Arc<dyn Fn() -> Result<OAuthBearerToken, String> + Send + Sync>;

/// A SASL extension (RFC 7628 §3.1, KIP-342): `key=value` after the token.
pub(crate) type Extension = (String, String);

/// Checks an extension as Kafka does: key ALPHA+ and not `auth`, value printable ASCII, space or tab/CR/LF.
pub(crate) fn validate_extension(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("SASL extension name {key:?} must be letters only"));
    }
    if key == "auth" {
        return Err("SASL extension name \"auth\" is reserved".into());
    }
    if value.is_empty() || !value.bytes().all(|b| (0x21..=0x7E).contains(&b) || b" \t\r\n".contains(&b)) {
        return Err(format!(
            "SASL extension {key} has an empty value or one with characters RFC 7628 forbids"
        ));
    }
    Ok(())
}

/// One OAUTHBEARER exchange for one token.
pub(crate) struct OAuthBearerClient {
    token: String,
    extensions: Vec<Extension>,
    state: ClientState,
}

#[derive(Debug)]
enum ClientState {
    Initial,
    Sent,
    /// The broker sent an error challenge; we answered with the bare separator, as RFC 7628 §3.2.3
    /// requires, and now report what it said.
    Rejected(String),
    Done,
}

impl OAuthBearerClient {
    /// A fresh exchange sending `token` and `extensions`.
    pub(crate) fn new(token: &str, extensions: &[Extension]) -> Self {
        OAuthBearerClient {
            token: token.to_owned(),
            extensions: extensions.to_vec(),
            state: ClientState::Initial,
        }
    }

    fn initial_response(&self) -> Vec<u8> {
        // gs2-header "n,," (no channel binding, no authzid), then kvpairs, then an empty kvpair.
        let mut msg = Vec::with_capacity(self.token.len() + 32);
        msg.extend_from_slice(b"n,,");
        msg.push(KVSEP);
        msg.extend_from_slice(b"auth=Bearer ");
        msg.extend_from_slice(self.token.as_bytes());
        for (k, v) in &self.extensions {
            msg.push(KVSEP);
            msg.extend_from_slice(k.as_bytes());
            msg.push(b'=');
            msg.extend_from_slice(v.as_bytes());
        }
        msg.push(KVSEP);
        msg.push(KVSEP);
        msg
    }
}

/// What a broker's error challenge says: its `status` (RFC 7628 §3.2.2), else a bounded printable copy.
fn describe_challenge(server: &[u8]) -> String {
    let text = String::from_utf8_lossy(server.get(..server.len().min(4096)).unwrap_or_default());
    let status = Json::parse(&text).and_then(|j| j.get("status").and_then(Json::as_str).map(str::to_owned));
    let shown = status.unwrap_or_else(|| text.into_owned());
    shown.chars().filter(|c| !c.is_control()).take(200).collect()
}

impl fmt::Debug for OAuthBearerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.extensions.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OAuthBearerClient")
            .field("token", &"[redacted]")
            .field("extensions", &keys)
            .field("state", &self.state)
            .finish()
    }
}

impl SaslClient for OAuthBearerClient {
    fn mechanism(&self) -> &'static str {
        MECHANISM
    }

    fn step(&mut self, server: Option<&[u8]>) -> Result<Step, SaslError> {
        match (std::mem::replace(&mut self.state, ClientState::Done), server) {
            (ClientState::Initial, None) => {
                self.state = ClientState::Sent;
                Ok(Step::Send(self.initial_response()))
            }
            // Success: the broker's final answer is empty.
            (ClientState::Sent, Some([])) => Ok(Step::Done),
            (ClientState::Sent, Some(challenge)) => {
                self.state = ClientState::Rejected(describe_challenge(challenge));
                Ok(Step::Send(vec![KVSEP]))
            }
            (ClientState::Rejected(status), Some(_)) => {
                Err(SaslError::protocol(MECHANISM, format!("the broker rejected the token: {status}")))
            }
            (state, _) => Err(SaslError::protocol(MECHANISM, format!("unexpected step in state {state:?}"))),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Token providers

/// Where tokens come from.
pub(crate) enum TokenProvider {
    /// The application's callback.
    Callback(TokenCallback),
    /// Kafka's unsecured JWS (`alg: none`), for development brokers using the unsecured validator.
    Unsecured(UnsecuredOptions),
    /// The OAuth 2 client_credentials grant against an OIDC token endpoint (KIP-768).
    Oidc(OidcOptions),
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenProvider::Callback(_) => f.write_str("Callback"),
            TokenProvider::Unsecured(o) => f.debug_tuple("Unsecured").field(o).finish(),
            TokenProvider::Oidc(o) => f.debug_tuple("Oidc").field(o).finish(),
        }
    }
}

impl TokenProvider {
    /// Fetches a token; blocking, so only on the refresher thread.
    fn fetch(&self) -> Result<OAuthBearerToken, String> {
        let token = match self {
            // A panicking callback must not kill the refresher thread.
            TokenProvider::Callback(cb) => catch_unwind(AssertUnwindSafe(|| cb()))
                .unwrap_or_else(|_| Err("the OAUTHBEARER token callback panicked".into()))?,
            TokenProvider::Unsecured(o) => o.token(SystemTime::now())?,
            TokenProvider::Oidc(o) => o.fetch()?,
        };
        check_token(&token, SystemTime::now())?;
        Ok(token)
    }
}

/// Refuses a token the broker could never accept, without showing it.
fn check_token(token: &OAuthBearerToken, now: SystemTime) -> Result<(), String> {
    // RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.value.trim_end_matches('=');
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)) {
        return Err("the token is empty or has characters a bearer token cannot contain".into());
    }
    if token.expires_at <= now {
        return Err(format!("the token for {} has already expired", token.principal));
    }
    Ok(())
}

/// Options of Kafka's unsecured token (Java's `OAuthBearerUnsecuredLoginCallbackHandler`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnsecuredOptions {
    /// The name of the claim holding the principal (`unsecuredLoginPrincipalClaimName`, default `sub`).
    pub(crate) principal_claim: String,
    /// The principal (`unsecuredLoginStringClaim_<principal_claim>`).
    pub(crate) principal: String,
    /// Token lifetime (`unsecuredLoginLifetimeSeconds`, default 3600).
    pub(crate) lifetime: Duration,
    /// Further claims, as JSON values already encoded (`unsecuredLogin{String,Number,List}Claim_*`).
    pub(crate) claims: Vec<(String, String)>,
}

impl UnsecuredOptions {
    /// The JWS `header.claims.` issued at `now`: alg none, empty signature, base64url without padding.
    pub(crate) fn token(&self, now: SystemTime) -> Result<OAuthBearerToken, String> {
        let iat = now.duration_since(UNIX_EPOCH).map_err(|_| "the clock is before 1970")?.as_secs();
        let exp = iat.saturating_add(self.lifetime.as_secs());
        let mut claims = format!(
            "{{\"iat\":{iat},\"exp\":{exp},{}:{}",
            quote(&self.principal_claim),
            quote(&self.principal)
        );
        for (name, value) in &self.claims {
            claims.push(',');
            claims.push_str(&quote(name));
            claims.push(':');
            claims.push_str(value);
        }
        claims.push('}');
        let value = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims.as_bytes())
        );
        let expires_at = UNIX_EPOCH + Duration::from_secs(exp);
        Ok(OAuthBearerToken { value, principal: self.principal.clone(), expires_at })
    }
}

/// Options of the client_credentials grant (Java's `OAuthBearerLoginCallbackHandler`, KIP-768).
pub(crate) struct OidcOptions {
    /// `sasl.oauthbearer.token.endpoint.url`.
    pub(crate) url: String,
    /// The OAuth client id.
    pub(crate) client_id: String,
    /// The OAuth client secret.
    pub(crate) client_secret: String,
    /// The requested scope, if any.
    pub(crate) scope: Option<String>,
    /// The claim naming the principal (`sasl.oauthbearer.sub.claim.name`, default `sub`).
    pub(crate) sub_claim: String,
    /// URL-encode the id and secret inside the Basic header (`sasl.oauthbearer.header.urlencode`, KIP-1025).
    pub(crate) urlencode_header: bool,
    /// `sasl.login.connect.timeout.ms`, default 10 s.
    pub(crate) connect_timeout: Duration,
    /// `sasl.login.read.timeout.ms`, default 10 s.
    pub(crate) read_timeout: Duration,
    /// Built on first use, on the refresher thread (loading the system's roots reads files).
    agent: OnceLock<ureq::Agent>,
}

impl fmt::Debug for OidcOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcOptions")
            .field("url", &redact_url(&self.url))
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scope", &self.scope)
            .field("sub_claim", &self.sub_claim)
            .field("urlencode_header", &self.urlencode_header)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL for messages: without userinfo (`user:password@`) or query, either of which may hold a secret.
fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let sep = if scheme.is_empty() { "" } else { "://" };
    format!("{scheme}{sep}{host}{path}")
}

/// A server-supplied string made safe to show: control characters dropped, length bounded.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

impl OidcOptions {
    /// Options with the default timeouts and claim name.
    pub(crate) fn new(url: String, client_id: String, client_secret: String, scope: Option<String>) -> Self {
        OidcOptions {
            url,
            client_id,
            client_secret,
            scope,
            sub_claim: "sub".into(),
            urlencode_header: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            agent: OnceLock::new(),
        }
    }

    fn agent(&self) -> &ureq::Agent {
        self.agent.get_or_init(|| {
            // The system's roots (rustls-native-certs), verified with ring: ureq is built without a
            // provider or bundled roots of its own.
            let roots = rustls_native_certs::load_native_certs();
            if !roots.errors.is_empty() {
                log::warn!(
                    "loading system root certificates for the token endpoint: {} errors",
                    roots.errors.len()
                );
            }
            let certs = roots.certs.iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned());
            let tls = ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .root_certs(ureq::tls::RootCerts::from(certs))
                .build();
            let global = self.connect_timeout.saturating_add(self.read_timeout.saturating_mul(2));
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .tls_config(tls)
                .timeout_connect(Some(self.connect_timeout))
                .timeout_send_request(Some(self.read_timeout))
                .timeout_send_body(Some(self.read_timeout))
                .timeout_recv_response(Some(self.read_timeout))
                .timeout_recv_body(Some(self.read_timeout))
                .timeout_global(Some(global))
                .build()
                .new_agent()
        })
    }

    /// One client_credentials request (RFC 6749 §4.4), client authenticated by HTTP Basic (§2.3.1).
    fn fetch(&self) -> Result<OAuthBearerToken, String> {
        let (id, secret) = if self.urlencode_header {
            (url_encode(&self.client_id), url_encode(&self.client_secret))
        } else {
            (self.client_id.clone(), self.client_secret.clone())
        };
        let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let fail = |what: String| format!("token endpoint {}: {what}", redact_url(&self.url));
        let mut response = self
            .agent()
            .post(&self.url)
            .header("Authorization", &basic)
            .header("Accept", "application/json")
            .send_form(form)
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(|e| fail(format!("reading the HTTP {} response: {e}", status.as_u16())))?;
        let json = Json::parse(&body);
        if !status.is_success() {
            // RFC 6749 §5.2 error fields, when present; never the whole body (it may echo the request).
            let detail = json
                .as_ref()
                .map(|j| {
                    let field = |k| j.get(k).and_then(Json::as_str).map(printable);
                    match (field("error"), field("error_description")) {
                        (Some(e), Some(d)) => format!(": {e} ({d})"),
                        (Some(e), None) => format!(": {e}"),
                        _ => String::new(),
                    }
                })
                .unwrap_or_default();
            return Err(fail(format!("HTTP {}{detail}", status.as_u16())));
        }
        let json = json.ok_or_else(|| fail("the response is not JSON".into()))?;
        let Some(value) = json.get("access_token").and_then(Json::as_str) else {
            return Err(fail("the response has no access_token".into()));
        };
        if let Some(kind) = json.get("token_type").and_then(Json::as_str) {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(fail(format!("token_type is {}, not Bearer", printable(kind))));
            }
        }
        let now = SystemTime::now();
        let claims = jwt_claims(value).map_err(fail)?;
        let principal = claims
            .get(&self.sub_claim)
            .and_then(Json::as_str)
            .ok_or_else(|| fail(format!("the access token has no string claim {}", self.sub_claim)))?
            .to_owned();
        let from_response =
            json.get("expires_in").and_then(Json::as_seconds).map(|s| now + Duration::from_secs(s));
        let from_jwt =
            claims.get("exp").and_then(Json::as_seconds).map(|s| UNIX_EPOCH + Duration::from_secs(s));
        let expires_at = match (from_response, from_jwt) {
            (Some(a), Some(b)) => a.min(b),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => {
                return Err(fail("neither expires_in nor the token's exp claim says when it expires".into()))
            }
        };
        Ok(OAuthBearerToken { value: value.to_owned(), principal, expires_at })
    }
}

/// The claims of a JWT, unverified (the broker verifies the signature; the client needs only `sub`
/// and `exp`).
pub(crate) fn jwt_claims(token: &str) -> Result<Json, String> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("the access token is not a JWT (header.payload.signature)".into());
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the access token's payload is not base64url".to_owned())?;
    let text = String::from_utf8(bytes).map_err(|_| "the access token's payload is not UTF-8".to_owned())?;
    match Json::parse(&text) {
        Some(j @ Json::Object(_)) => Ok(j),
        _ => Err("the access token's payload is not a JSON object".into()),
    }
}

// ---------------------------------------------------------------------------------------------------
// Refreshing

/// When to refresh, as Java's `sasl.login.refresh.*` and `sasl.login.retry.backoff.*` settings say.
///
/// The refresher sleeps until `window_factor` (plus up to `window_jitter`, random) of the token's
/// lifetime has passed, but at least `min_period` after the fetch and no later than `buffer` before
/// expiry. When the remaining lifetime is shorter than `min_period + buffer` both bounds are ignored,
/// as in Java. A failed fetch is retried after `retry_backoff`, doubling up to `retry_backoff_max`;
/// the previous token stays in use until it expires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RefreshPolicy {
    /// `sasl.login.refresh.window.factor`: 0.5 to 1.0, default 0.8.
    pub(crate) window_factor: f64,
    /// `sasl.login.refresh.window.jitter`: 0 to 0.25, default 0.05.
    pub(crate) window_jitter: f64,
    /// `sasl.login.refresh.min.period.seconds`: 0 to 900, default 60.
    pub(crate) min_period: Duration,
    /// `sasl.login.refresh.buffer.seconds`: 0 to 3600, default 300.
    pub(crate) buffer: Duration,
    /// `sasl.login.retry.backoff.ms`, default 100.
    pub(crate) retry_backoff: Duration,
    /// `sasl.login.retry.backoff.max.ms`, default 10000.
    pub(crate) retry_backoff_max: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            window_factor: 0.8,
            window_jitter: 0.05,
            min_period: Duration::from_secs(60),
            buffer: Duration::from_secs(300),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(10_000),
        }
    }
}

impl RefreshPolicy {
    /// How long after `now` to refresh a token fetched at `now` that expires at `expires_at`;
    /// `random` in [0, 1) scales the jitter.
    pub(crate) fn refresh_delay(&self, now: SystemTime, expires_at: SystemTime, random: f64) -> Duration {
        let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let fraction = (self.window_factor + self.window_jitter * random.clamp(0.0, 1.0)).min(1.0);
        let delay = remaining.mul_f64(fraction);
        match remaining.checked_sub(self.min_period.saturating_add(self.buffer)) {
            Some(_) => delay.max(self.min_period).min(remaining.saturating_sub(self.buffer)),
            None => delay,
        }
    }

    /// The wait before retry number `failures` (1 for the first).
    pub(crate) fn retry_delay(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        self.retry_backoff.saturating_mul(factor).min(self.retry_backoff_max.max(self.retry_backoff))
    }
}

/// What the refresher thread and the I/O thread share; the lock guards only this.
#[derive(Default)]
struct TokenState {
    /// The latest good token (kept through failed refreshes until it expires).
    token: Option<OAuthBearerToken>,
    /// Why the latest fetch failed, cleared by a success.
    last_error: Option<String>,
    /// Fetches completed, good or bad: lets `wait_ready` see the first outcome.
    attempts: u64,
}

struct Shared {
    state: Mutex<TokenState>,
    /// Signalled after every fetch.
    fetched: Condvar,
}

/// A bearer token kept fresh by a background thread; cheap, non-blocking reads for the I/O thread.
///
/// The thread starts on the first [`start`](Self::start) or [`current`](Self::current) and ends when
/// the `TokenSource` is dropped (after any fetch in progress returns; dropping never blocks).
pub(crate) struct TokenSource {
    shared: Arc<Shared>,
    provider: Arc<TokenProvider>,
    policy: RefreshPolicy,
    /// The refresher's stop signal: dropping the sender wakes and ends it. `None` until started.
    stop: Mutex<Option<Sender<()>>>,
}

impl TokenSource {
    /// A source that will fetch from `provider`; no thread yet.
    pub(crate) fn new(provider: TokenProvider, policy: RefreshPolicy) -> Self {
        TokenSource {
            shared: Arc::new(Shared { state: Mutex::new(TokenState::default()), fetched: Condvar::new() }),
            provider: Arc::new(provider),
            policy,
            stop: Mutex::new(None),
        }
    }

    /// Starts the refresher thread if it is not running; idempotent.
    pub(crate) fn start(&self) -> Result<(), SaslError> {
        let mut stop = self.stop.lock();
        if stop.is_some() {
            return Ok(());
        }
        let (tx, rx) = crossbeam_channel::bounded(0);
        let (shared, provider, policy) = (Arc::clone(&self.shared), Arc::clone(&self.provider), self.policy);
        std::thread::Builder::new()
            .name("kprod-oauth-token".into())
            .spawn(move || refresh_loop(&shared, &provider, &policy, &rx))
            .map_err(|e| SaslError::Token(format!("cannot start the OAUTHBEARER token thread: {e}")))?;
        *stop = Some(tx);
        Ok(())
    }

    /// The current token, without blocking: an error when none has been fetched yet or it expired.
    pub(crate) fn current(&self) -> Result<OAuthBearerToken, SaslError> {
        self.start()?;
        let state = self.shared.state.lock();
        let pending =
            || state.last_error.clone().unwrap_or_else(|| "the first fetch has not completed".into());
        match &state.token {
            Some(t) if t.expires_at > SystemTime::now() => Ok(t.clone()),
            Some(t) => Err(SaslError::Token(format!(
                "the OAUTHBEARER token for {} expired and no new one was fetched: {}",
                t.principal,
                pending()
            ))),
            None => Err(SaslError::Token(format!("no OAUTHBEARER token yet: {}", pending()))),
        }
    }

    /// Starts the thread and waits up to `timeout` for its first fetch to finish; then as `current`.
    /// For the application thread that builds the producer, never the I/O thread.
    pub(crate) fn wait_ready(&self, timeout: Duration) -> Result<OAuthBearerToken, SaslError> {
        self.start()?;
        let deadline = crate::time::deadline(std::time::Instant::now(), timeout);
        let mut state = self.shared.state.lock();
        while state.attempts == 0 {
            match deadline {
                Some(d) => {
                    if self.shared.fetched.wait_until(&mut state, d).timed_out() {
                        break;
                    }
                }
                None => self.shared.fetched.wait(&mut state),
            }
        }
        drop(state);
        self.current()
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("TokenSource")
            .field("provider", &self.provider)
            .field("token", &state.token)
            .field("last_error", &state.last_error)
            .field("policy", &self.policy)
            .field("running", &self.stop.lock().is_some())
            .finish()
    }
}

/// A uniform random number in [0, 1) for the jitter; 0.5 if the OS has no randomness to give.
fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::getrandom(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

/// The refresher thread: fetch, publish, sleep until the next refresh or until told to stop.
fn refresh_loop(shared: &Shared, provider: &TokenProvider, policy: &RefreshPolicy, stop: &Receiver<()>) {
    let mut failures = 0u32;
    loop {
        let outcome = provider.fetch();
        let now = SystemTime::now();
        let delay = {
            let mut state = shared.state.lock();
            state.attempts = state.attempts.saturating_add(1);
            let delay = match outcome {
                Ok(token) => {
                    failures = 0;
                    log::debug!("fetched an OAUTHBEARER token for {}", token.principal);
                    let delay = policy.refresh_delay(now, token.expires_at, random_unit());
                    state.token = Some(token);
                    state.last_error = None;
                    delay
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    log::warn!("fetching an OAUTHBEARER token failed (attempt {failures}): {e}");
                    state.last_error = Some(e);
                    policy.retry_delay(failures)
                }
            };
            shared.fetched.notify_all();
            delay
        };
        match stop.recv_timeout(delay) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn far() -> SystemTime {
        SystemTime::now() + Duration::from_secs(3600)
    }

    #[test]
    fn client_message_and_success() {
        let ext = vec![("traceId".to_owned(), "abc".to_owned())];
        let mut c = OAuthBearerClient::new("tok.en.", &ext);
        match c.step(None).unwrap() {
            Step::Send(m) => assert_eq!(m, b"n,,\x01auth=Bearer tok.en.\x01traceId=abc\x01\x01"),
            Step::Done => panic!("expected a message"),
        }
        assert!(matches!(c.step(Some(b"")).unwrap(), Step::Done));
        assert!(c.step(Some(b"")).is_err());
        let mut c = OAuthBearerClient::new("t", &[]);
        match c.step(None).unwrap() {
            Step::Send(m) => assert_eq!(m, b"n,,\x01auth=Bearer t\x01\x01"),
            Step::Done => panic!("expected a message"),
        }
    }

    #[test]
    fn error_challenge_gets_kvsep_then_fails() {
        let mut c = OAuthBearerClient::new("t", &[]);
        c.step(None).unwrap();
        match c.step(Some(br#"{"status":"invalid_token","scope":"x"}"#)).unwrap() {
            Step::Send(m) => assert_eq!(m, [KVSEP]),
            Step::Done => panic!("expected the kvsep"),
        }
        let e = c.step(Some(b"")).unwrap_err();
        assert!(e.to_string().contains("invalid_token"), "{e}");
    }

    #[test]
    fn extensions_are_validated() {
        assert!(validate_extension("traceId", "a b").is_ok());
        assert!(validate_extension("auth", "x").is_err());
        assert!(validate_extension("a_b", "x").is_err());
        assert!(validate_extension("a", "\u{1}").is_err());
        assert!(validate_extension("a", "").is_err());
    }

    #[test]
    fn unsecured_token_format() {
        let o = UnsecuredOptions {
            principal_claim: "sub".into(),
            principal: "alice".into(),
            lifetime: Duration::from_secs(3600),
            claims: vec![("scope".into(), "[\"a\",\"b\"]".into())],
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = o.token(now).unwrap();
        assert_eq!(t.principal, "alice");
        assert_eq!(t.expires_at, UNIX_EPOCH + Duration::from_secs(1_003_600));
        let (header, rest) = t.value.split_once('.').unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(header).unwrap(), br#"{"alg":"none"}"#);
        assert!(rest.ends_with('.') && !t.value.contains('='));
        let claims = jwt_claims(&t.value).unwrap();
        assert_eq!(claims.get("sub").and_then(Json::as_str), Some("alice"));
        assert_eq!(claims.get("iat").and_then(Json::as_seconds), Some(1_000_000));
        assert_eq!(claims.get("exp").and_then(Json::as_seconds), Some(1_003_600));
        assert_eq!(
            claims.get("scope"),
            Some(&Json::Array(vec![Json::String("a".into()), Json::String("b".into())]))
        );
        assert!(check_token(&t, now).is_ok());
    }

    #[test]
    fn bad_tokens_are_refused_without_echo() {
        let t = OAuthBearerToken::new("has space secretvalue", "p", far());
        let e = check_token(&t, SystemTime::now()).unwrap_err();
        assert!(!e.contains("secretvalue"), "{e}");
        let t = OAuthBearerToken::new("ok", "p", UNIX_EPOCH);
        assert!(check_token(&t, SystemTime::now()).is_err());
    }

    #[test]
    fn refresh_delay_follows_window_min_period_and_buffer() {
        let p = RefreshPolicy::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = now + Duration::from_secs(3600);
        assert_eq!(p.refresh_delay(now, hour, 0.0), Duration::from_secs(2880));
        // Jitter at its top: 85% of the hour.
        let d = p.refresh_delay(now, hour, 0.999_999);
        assert!(d > Duration::from_secs(3059) && d <= Duration::from_secs(3060), "{d:?}");
        // Ten minutes: 80% is 480 s, but the 300 s buffer before expiry wins.
        assert_eq!(p.refresh_delay(now, now + Duration::from_secs(600), 0.0), Duration::from_secs(300));
        // Two minutes: shorter than min period + buffer, so both are ignored.
        assert_eq!(p.refresh_delay(now, now + Duration::from_secs(120), 0.0), Duration::from_secs(96));
        // A policy with a long minimum period.
        let q = RefreshPolicy { min_period: Duration::from_secs(900), buffer: Duration::ZERO, ..p };
        assert_eq!(q.refresh_delay(now, now + Duration::from_secs(1000), 0.0), Duration::from_secs(900));
        assert_eq!(p.refresh_delay(now, UNIX_EPOCH, 0.5), Duration::ZERO);
    }

    #[test]
    fn retry_backoff_doubles_to_the_cap() {
        let p = RefreshPolicy::default();
        assert_eq!(p.retry_delay(1), Duration::from_millis(100));
        assert_eq!(p.retry_delay(2), Duration::from_millis(200));
        assert_eq!(p.retry_delay(8), Duration::from_millis(10_000));
        assert_eq!(p.retry_delay(u32::MAX), Duration::from_millis(10_000));
    }

    fn quick_policy() -> RefreshPolicy {
        RefreshPolicy {
            retry_backoff: Duration::from_millis(10),
            retry_backoff_max: Duration::from_millis(20),
            ..RefreshPolicy::default()
        }
    }

    #[test]
    fn token_source_fetches_retries_and_stops_when_dropped() {
        let calls = Arc::new(AtomicUsize::new(0));
        let marker = Arc::new(());
        let (c, m) = (Arc::clone(&calls), Arc::clone(&marker));
        let cb: TokenCallback = Arc::new(move || {
            let _keep = &m;
            match c.fetch_add(1, Ordering::SeqCst) {
                0 => Err("idp down".into()),
                1 => panic!("callback bug"),
                _ => Ok(OAuthBearerToken::new("tok", "svc", far())),
            }
        });
        let source = TokenSource::new(TokenProvider::Callback(cb), quick_policy());
        // First outcome: the failure, reported by current().
        let e = source.wait_ready(Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("no OAUTHBEARER token yet: idp down"), "{e}");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let token = loop {
            match source.current() {
                Ok(t) => break t,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("no token: {e}"),
            }
        };
        assert_eq!(token.value, "tok");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "a failure, a panic, then success; no more until refresh"
        );
        let d = format!("{source:?}");
        assert!(!d.contains("\"tok\"") && d.contains("svc"), "{d}");
        drop(source);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&marker) > 1 {
            assert!(std::time::Instant::now() < deadline, "the refresher thread did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn an_unstarted_source_has_no_thread() {
        let source = TokenSource::new(TokenProvider::Callback(Arc::new(|| Err("x".into()))), quick_policy());
        assert!(format!("{source:?}").contains("running: false"));
    }

    fn jwt(claims: &str) -> String {
        format!("{}.{}.c2ln", URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#), URL_SAFE_NO_PAD.encode(claims))
    }

    /// A one-connection-per-response HTTP server; returns its URL and the requests it saw.
    fn http_server(responses: Vec<(u16, String)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in responses {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                }
                let mut req_body = vec![0; length];
                reader.read_exact(&mut req_body).unwrap();
                head.push_str(&String::from_utf8(req_body).unwrap());
                seen.push(head);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                reader.get_mut().write_all(reply.as_bytes()).unwrap();
            }
            seen
        });
        (url, handle)
    }

    #[test]
    fn oidc_client_credentials_against_a_test_server() {
        let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 7200;
        let token = jwt(&format!(r#"{{"sub":"svc-account","exp":{exp}}}"#));
        let ok = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#);
        let (url, server) = http_server(vec![
            (200, ok),
            (401, r#"{"error":"invalid_client","error_description":"bad secret"}"#.into()),
            (200, "not json {".into()),
            (200, r#"{"access_token":"opaque-token","expires_in":60}"#.into()),
        ]);
        let mut o =
            OidcOptions::new(url, "my-client".into(), "Sup3rSecret".into(), Some("kafka produce".into()));
        o.read_timeout = Duration::from_secs(5);
        let t = o.fetch().unwrap();
        assert_eq!(t.value, token);
        assert_eq!(t.principal, "svc-account");
        let left = t.expires_at.duration_since(SystemTime::now()).unwrap();
        assert!(
            left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
            "expires_in wins: {left:?}"
        );
        let e = o.fetch().unwrap_err();
        assert!(e.contains("HTTP 401") && e.contains("invalid_client") && e.contains("bad secret"), "{e}");
        assert!(!e.contains("Sup3rSecret"));
        let e = o.fetch().unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = o.fetch().unwrap_err();
        assert!(e.contains("not a JWT"), "{e}");
        let seen = server.join().unwrap();
        let first = &seen[0];
        assert!(first.starts_with("POST /oauth2/token"), "{first}");
        let basic = STANDARD.encode("my-client:Sup3rSecret");
        assert!(first.contains(&format!("Basic {basic}")), "{first}");
        assert!(
            first.ends_with("grant_type=client_credentials&scope=kafka+produce")
                || first.ends_with("grant_type=client_credentials&scope=kafka%20produce"),
            "{first}"
        );
        let d = format!("{o:?}");
        assert!(!d.contains("Sup3rSecret") && d.contains("my-client"), "{d}");
    }

    #[test]
    fn oidc_connection_failure_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        drop(listener);
        let mut o = OidcOptions::new(url, "id".into(), "s3cr3t".into(), None);
        o.connect_timeout = Duration::from_secs(2);
        let e = o.fetch().unwrap_err();
        assert!(e.starts_with("token endpoint http://127.0.0.1:") && !e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn urls_in_messages_lose_userinfo_and_query() {
        assert_eq!(redact_url("https://u:Pw@idp.example:8443/t?secret=1#f"), "https://idp.example:8443/t");
        assert_eq!(redact_url("http://idp/token"), "http://idp/token");
        assert_eq!(redact_url("idp"), "idp");
    }

    /// An https URL answered by something that is not TLS: an error (from rustls, set up with ring
    /// and the system roots), not a panic.
    #[test]
    fn oidc_https_handshake_failure_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/token", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Not TLS\r\n\r\n");
        });
        let mut o = OidcOptions::new(url, "id".into(), "s3cr3t".into(), None);
        o.read_timeout = Duration::from_secs(5);
        let e = o.fetch().unwrap_err();
        assert!(e.starts_with("token endpoint https://127.0.0.1:") && !e.contains("s3cr3t"), "{e}");
        server.join().unwrap();
    }

    #[test]
    fn jwt_claims_rejects_garbage() {
        for bad in ["", "a", "a.b", "a.!!!.c", &format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"))] {
            assert!(jwt_claims(bad).is_err(), "{bad}");
        }
        assert!(jwt_claims(&format!("a.{}.", URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#))).is_ok());
    }

    #[test]
    fn token_debug_redacts_value() {
        let t = OAuthBearerToken::new("eyJsecret", "bob", far());
        let d = format!("{t:?}");
        assert!(!d.contains("eyJsecret") && d.contains("bob"), "{d}");
        let c = OAuthBearerClient::new("eyJsecret", &[("k".into(), "v".into())]);
        assert!(!format!("{c:?}").contains("eyJsecret"));
    }
}
