//! Security of the broker connections: `security.protocol`, TLS ([`tls`]) and SASL.
//!
//! Everything here is set up once when the producer is built (files read, keys decrypted) and then
//! shared read-only by the sender thread's connections.

pub(crate) mod sasl;
pub(crate) mod tls;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::config::{property, ProducerConfig, PropertyType};
use crate::error::Error;

pub use sasl::oauthbearer::OAuthBearerToken;
pub(crate) use tls::TlsSettings;

/// `security.protocol`: how the producer talks to brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SecurityProtocol {
    /// Plain TCP (the default).
    #[default]
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL authentication over plain TCP.
    SaslPlaintext,
    /// SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// The Java name, e.g. `SASL_SSL`.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Parses a Java name, case-insensitively (as Java does).
    pub(crate) fn parse(v: &str) -> Option<SecurityProtocol> {
        Some(match v.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => SecurityProtocol::Plaintext,
            "SSL" => SecurityProtocol::Ssl,
            "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
            "SASL_SSL" => SecurityProtocol::SaslSsl,
            _ => return None,
        })
    }

    /// True for SSL and SASL_SSL.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// True for SASL_PLAINTEXT and SASL_SSL.
    pub fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `ssl.*` and `sasl.*` properties as set, by name. Values of password-typed properties (keys,
/// passwords, JAAS lines, client secrets) never appear in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Props(BTreeMap<&'static str, String>);

impl Props {
    /// The value of `key`, if set.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets `key`.
    pub(crate) fn insert(&mut self, key: &'static str, value: &str) {
        self.0.insert(key, value.to_owned());
    }
}

impl fmt::Debug for Props {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            if is_secret(k) {
                m.entry(k, &"[redacted]");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

/// True for properties whose value must never be printed.
pub(crate) fn is_secret(key: &str) -> bool {
    property(key).is_some_and(|p| p.ty == PropertyType::Password)
}

/// What every broker connection is set up with, built once with the producer.
#[derive(Debug, Clone)]
pub(crate) struct Security {
    /// TLS, for SSL and SASL_SSL.
    pub tls: Option<TlsSettings>,
    /// SASL, for SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<sasl::SaslSettings>,
}

impl Security {
    /// The connections' security from `config`; `None` for PLAINTEXT. With OAUTHBEARER it starts the
    /// token refresher and waits (up to `max.block.ms`) for the first token, so a wrong client secret
    /// fails the build, as Java's constructor does.
    pub(crate) fn from_config(
        config: &ProducerConfig,
        token_provider: Option<sasl::oauthbearer::TokenCallback>,
    ) -> Result<Option<Arc<Security>>, Error> {
        let protocol = config.security_protocol();
        if protocol == SecurityProtocol::Plaintext {
            return Ok(None);
        }
        if config.mock_num_brokers() > 0 {
            return Err(Error::config("security.protocol", "the mock cluster speaks PLAINTEXT only"));
        }
        let props = config.security_props();
        let tls = if protocol.uses_tls() { Some(TlsSettings::from_properties(props)?) } else { None };
        let sasl = if protocol.uses_sasl() {
            let settings =
                sasl::SaslSettings::from_properties(|k| props.get(k).map(str::to_owned), token_provider)
                    .map_err(|e| sasl_error(e, "configuration"))?;
            settings.start().map_err(|e| sasl_error(e, "token source"))?;
            settings.wait_for_token(config.max_block()).map_err(|e| sasl_error(e, "token source"))?;
            Some(settings)
        } else {
            None
        };
        Ok(Some(Arc::new(Security { tls, sasl })))
    }
}

/// A SASL error outside any connection (configuration, the first token) as the public error.
fn sasl_error(e: sasl::SaslError, origin: &str) -> Error {
    match e {
        sasl::SaslError::Config { key, message } => Error::config(key, message),
        sasl::SaslError::Unsupported(what) => Error::Unsupported(what),
        sasl::SaslError::Authentication { mechanism, message } => {
            Error::Authentication { mechanism: format!("SASL/{mechanism}"), broker: origin.into(), message }
        }
        sasl::SaslError::Token(message) => {
            Error::Authentication { mechanism: "SASL/OAUTHBEARER".into(), broker: origin.into(), message }
        }
    }
}

/// Entry points for kprod's fuzz targets (feature `unstable`; no compatibility promise): everything
/// security reads from a peer, over arbitrary bytes.
#[cfg(feature = "unstable")]
#[doc(hidden)]
pub mod fuzzing {
    use super::sasl::oauthbearer::{jwt_claims, OAuthBearerClient};
    use super::sasl::scram::{ScramClient, ScramHash};
    use super::sasl::{SaslClient, Step};

    /// Drives SCRAM-SHA-256 and -512 exchanges with `data` split into a server-first and a
    /// server-final message, an OAUTHBEARER exchange with `data` as the broker's challenge, and the
    /// token parsers over `data` as text. Must never panic.
    pub fn sasl_server_bytes(data: &[u8]) {
        let cut = data.first().map_or(0, |&b| usize::from(b) % (data.len().max(1)));
        let (first, last) = data.split_at(cut.min(data.len()));
        for hash in [ScramHash::Sha256, ScramHash::Sha512] {
            let mut c = ScramClient::with_nonce(hash, "user", "pencil", false, "fuzznonce".into());
            if c.step(None).is_ok() && matches!(c.step(Some(first)), Ok(Step::Send(_))) {
                let _ = c.step(Some(last));
            }
        }
        let mut o = OAuthBearerClient::new("header.payload.", &[]);
        if o.step(None).is_ok() {
            let _ = o.step(Some(data));
            let _ = o.step(Some(data));
        }
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = super::sasl::json::Json::parse(text);
            let _ = jwt_claims(text);
            let _ = super::sasl::jaas::JaasConfig::parse(text);
        }
    }
}
