//! TLS to the brokers with rustls (ring provider): the client configuration built once from Java's
//! (and librdkafka's) `ssl.*` properties, and the per-connection rustls state the network drives inside
//! its mio loop (no extra thread, no blocking).

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore};

use super::Props;
use crate::error::Error;

/// What a TLS connection is set up with: one rustls configuration shared by every connection.
#[derive(Clone)]
pub(crate) struct TlsSettings {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration holds the client's private key: nothing of it is printed.
        f.debug_struct("TlsSettings").finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// Reads the `ssl.*` properties, loads trust anchors and the client certificate, and builds the
    /// rustls configuration. Every file is read now, so a wrong path fails the producer's build.
    pub(crate) fn from_properties(props: &Props) -> Result<TlsSettings, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions = enabled_versions(props)?;
        let roots = Arc::new(trust_anchors(props)?);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|e| Error::config("ssl.truststore.location", format!("no usable trust anchor: {e}")))?;
        let verify_host = props.get("ssl.endpoint.identification.algorithm").map_or(true, |v| !v.is_empty());
        let verifier: Arc<dyn ServerCertVerifier> =
            if verify_host { webpki } else { Arc::new(NoHostnameVerifier(webpki)) };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| Error::config("ssl.enabled.protocols", e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match client_identity(props)? {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::config("ssl.keystore.key", format!("unusable client key: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        Ok(TlsSettings { config: Arc::new(config) })
    }

    /// A client-side TLS session for the broker at `host` (a name or an IP address, as configured or
    /// advertised): the name is what the certificate must match and what SNI sends.
    pub(crate) fn session(&self, host: &str) -> Result<ClientConnection, String> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host} is not a valid TLS server name: {e}"))?;
        ClientConnection::new(Arc::clone(&self.config), name).map_err(|e| e.to_string())
    }
}

/// `ssl.enabled.protocols` (Java's default: TLSv1.2,TLSv1.3); `ssl.protocol` only has to name one rustls
/// speaks.
fn enabled_versions(props: &Props) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, Error> {
    if let Some(p) = props.get("ssl.protocol") {
        if !matches!(p, "TLS" | "TLSv1.2" | "TLSv1.3") {
            return Err(Error::config(
                "ssl.protocol",
                format!("{p} is not supported; use TLSv1.2 or TLSv1.3"),
            ));
        }
    }
    let list = props.get("ssl.enabled.protocols").unwrap_or("TLSv1.2,TLSv1.3");
    let mut versions = Vec::new();
    for v in list.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        match v {
            "TLSv1.2" => versions.push(&rustls::version::TLS12),
            "TLSv1.3" => versions.push(&rustls::version::TLS13),
            other => {
                return Err(Error::config(
                    "ssl.enabled.protocols",
                    format!("{other} is not supported (only TLSv1.2 and TLSv1.3 are)"),
                ))
            }
        }
    }
    if versions.is_empty() {
        return Err(Error::config("ssl.enabled.protocols", "names no protocol"));
    }
    Ok(versions)
}

/// The CAs that broker certificates must chain to: Java's PEM truststore (a file or inline), librdkafka's
/// `ssl.ca.location` / `ssl.ca.pem`, else the operating system's store.
fn trust_anchors(props: &Props) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    let mut add = |key: &str, certs: Vec<CertificateDer<'static>>| -> Result<(), Error> {
        if certs.is_empty() {
            return Err(Error::config(key, "holds no PEM certificate"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| Error::config(key, format!("not a usable CA certificate: {e}")))?;
        }
        Ok(())
    };
    let mut given = false;
    if let Some(path) = props.get("ssl.truststore.location") {
        require_pem(props, "ssl.truststore.type")?;
        if props.get("ssl.truststore.password").is_some() {
            return Err(Error::config(
                "ssl.truststore.password",
                "a PEM truststore has no password (as in Java); leave it unset",
            ));
        }
        add("ssl.truststore.location", certs_from_file("ssl.truststore.location", path)?)?;
        given = true;
    }
    if let Some(pem) = props.get("ssl.truststore.certificates") {
        require_pem(props, "ssl.truststore.type")?;
        add("ssl.truststore.certificates", certs_from_pem("ssl.truststore.certificates", pem)?)?;
        given = true;
    }
    if let Some(path) = props.get("ssl.ca.location") {
        add("ssl.ca.location", certs_from_file("ssl.ca.location", path)?)?;
        given = true;
    }
    if let Some(pem) = props.get("ssl.ca.pem") {
        add("ssl.ca.pem", certs_from_pem("ssl.ca.pem", pem)?)?;
        given = true;
    }
    if !given {
        // The system's store, as librdkafka does (Java uses its JDK's cacerts): corporate CAs that
        // operators install there are trusted, and SSL_CERT_FILE / SSL_CERT_DIR are honoured.
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A system store may hold certificates webpki cannot use; the others still count.
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            let why = found.errors.first().map(ToString::to_string).unwrap_or_else(|| "it is empty".into());
            return Err(Error::config(
                "ssl.truststore.location",
                format!("no CA given and the system's certificate store is unusable ({why}); set ssl.truststore.location (PEM) or ssl.ca.location"),
            ));
        }
    }
    Ok(roots)
}

/// The client's certificate chain and key for mutual TLS, if configured.
fn client_identity(
    props: &Props,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, Error> {
    let password = props.get("ssl.key.password");
    if let Some(path) = props.get("ssl.keystore.location") {
        require_pem(props, "ssl.keystore.type")?;
        // A PEM keystore file holds the key and the chain together.
        let text = read_file("ssl.keystore.location", path)?;
        let chain = certs_from_pem("ssl.keystore.location", &text)?;
        let key = key_from_pem("ssl.keystore.location", &text, password)?;
        return Ok(Some((nonempty("ssl.keystore.location", chain)?, key)));
    }
    let inline_chain = props.get("ssl.keystore.certificate.chain");
    let inline_key = props.get("ssl.keystore.key");
    if inline_chain.is_some() || inline_key.is_some() {
        require_pem(props, "ssl.keystore.type")?;
        let (Some(chain), Some(key)) = (inline_chain, inline_key) else {
            return Err(Error::config(
                "ssl.keystore.key",
                "ssl.keystore.certificate.chain and ssl.keystore.key must be given together",
            ));
        };
        let chain = certs_from_pem("ssl.keystore.certificate.chain", chain)?;
        let key = key_from_pem("ssl.keystore.key", key, password)?;
        return Ok(Some((nonempty("ssl.keystore.certificate.chain", chain)?, key)));
    }
    let cert_file = props.get("ssl.certificate.location").map(|p| ("ssl.certificate.location", p, true));
    let cert_pem = props.get("ssl.certificate.pem").map(|p| ("ssl.certificate.pem", p, false));
    let key_file = props.get("ssl.key.location").map(|p| ("ssl.key.location", p, true));
    let key_pem = props.get("ssl.key.pem").map(|p| ("ssl.key.pem", p, false));
    let cert = cert_file.or(cert_pem);
    let key = key_file.or(key_pem);
    match (cert, key) {
        (None, None) => Ok(None),
        (Some((ck, c, c_is_file)), Some((kk, k, k_is_file))) => {
            let ctext = if c_is_file { read_file(ck, c)? } else { c.to_owned() };
            let ktext = if k_is_file { read_file(kk, k)? } else { k.to_owned() };
            let chain = nonempty(ck, certs_from_pem(ck, &ctext)?)?;
            Ok(Some((chain, key_from_pem(kk, &ktext, password)?)))
        }
        (Some((k, _, _)), None) | (None, Some((k, _, _))) => Err(Error::config(
            k,
            "a client certificate needs both ssl.certificate.location (or .pem) and ssl.key.location (or .pem)",
        )),
    }
}

/// Java's stores other than PEM need a JVM keystore reader; say how to get PEM instead.
fn require_pem(props: &Props, key: &str) -> Result<(), Error> {
    match props.get(key).unwrap_or("JKS") {
        "PEM" => Ok(()),
        other => Err(Error::Unsupported(format!(
            "{key}={other}: kprod reads PEM stores only; convert the store (e.g. `openssl pkcs12 -in store.p12 -nodes` \
             or `keytool -importkeystore -deststoretype PKCS12` first) and set {key}=PEM"
        ))),
    }
}

fn read_file(key: &str, path: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::config(key, format!("cannot read {path}: {e}")))
}

fn certs_from_file(key: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    certs_from_pem(key, &read_file(key, path)?)
}

fn certs_from_pem(key: &str, pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::config(key, format!("malformed PEM certificate: {e}")))
}

fn nonempty(key: &str, chain: Vec<CertificateDer<'static>>) -> Result<Vec<CertificateDer<'static>>, Error> {
    if chain.is_empty() {
        Err(Error::config(key, "holds no PEM certificate"))
    } else {
        Ok(chain)
    }
}

/// The private key in `pem`: PKCS#8, PKCS#1 or SEC1, or an encrypted PKCS#8 key opened with
/// `ssl.key.password`. Error texts never include the key or the password.
fn key_from_pem(key: &str, pem: &str, password: Option<&str>) -> Result<PrivateKeyDer<'static>, Error> {
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let Some(password) = password else {
            return Err(Error::config(key, "the private key is encrypted: set ssl.key.password"));
        };
        let (_, doc) = pkcs8::SecretDocument::from_pem(pem.trim_start_matches(|c| c != '-'))
            .or_else(|_| {
                // The file may hold certificates before the key: take the key's block alone.
                let start = pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap_or(0);
                let end = pem
                    .find("-----END ENCRYPTED PRIVATE KEY-----")
                    .map_or(pem.len(), |e| e + "-----END ENCRYPTED PRIVATE KEY-----".len());
                pkcs8::SecretDocument::from_pem(pem.get(start..end).unwrap_or(""))
            })
            .map_err(|e| Error::config(key, format!("malformed encrypted private key: {e}")))?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|e| Error::config(key, format!("malformed encrypted private key: {e}")))?;
        let plain = encrypted
            .decrypt(password)
            .map_err(|_| Error::config(key, "cannot decrypt the private key: wrong ssl.key.password?"))?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec())));
    }
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| Error::config(key, format!("no usable PEM private key: {e}")))
}

/// `ssl.endpoint.identification.algorithm=` (empty): the chain is verified, the name is not, as in Java.
#[derive(Debug)]
struct NoHostnameVerifier(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for NoHostnameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // rustls checks the name last, after the chain, so a name error means the chain is good.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A TLS failure in words an operator acts on: which check failed, not only rustls' variant name.
pub(crate) fn describe(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => {
            let what = match c {
                CertificateError::UnknownIssuer => {
                    "the broker's certificate is signed by an unknown CA (set ssl.truststore.location / ssl.ca.location to its CA)".to_string()
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the broker's certificate has expired".to_string()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "the broker's certificate is not valid yet".to_string()
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    "the broker's certificate does not match its host name (hostname verification: ssl.endpoint.identification.algorithm)".to_string()
                }
                CertificateError::Revoked => "the broker's certificate is revoked".to_string(),
                other => format!("the broker's certificate is invalid: {other:?}"),
            };
            format!("SSL handshake failed: {what}")
        }
        E::AlertReceived(alert) => format!("SSL handshake failed: the broker sent alert {alert:?}"),
        other => format!("SSL handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&'static str, &str)]) -> Props {
        let mut p = Props::default();
        for (k, v) in pairs {
            p.insert(k, v);
        }
        p
    }

    #[test]
    fn jks_and_pkcs12_stores_name_the_pem_alternative() {
        for ty in ["JKS", "PKCS12"] {
            let p = props(&[("ssl.truststore.location", "/nonexistent"), ("ssl.truststore.type", ty)]);
            let e = TlsSettings::from_properties(&p).unwrap_err().to_string();
            assert!(e.contains("PEM") && e.contains(ty), "{e}");
        }
    }

    #[test]
    fn a_missing_file_names_the_property_and_the_path() {
        let p = props(&[("ssl.ca.location", "/nonexistent/ca.pem")]);
        let e = TlsSettings::from_properties(&p).unwrap_err().to_string();
        assert!(e.contains("ssl.ca.location") && e.contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn only_tls12_and_tls13_are_accepted() {
        let p = props(&[("ssl.enabled.protocols", "TLSv1.1")]);
        assert!(TlsSettings::from_properties(&p).unwrap_err().to_string().contains("TLSv1.1"));
        let p = props(&[("ssl.enabled.protocols", "TLSv1.3")]);
        assert_eq!(enabled_versions(&p).unwrap().len(), 1);
    }

    #[test]
    fn a_lone_certificate_or_key_is_refused() {
        let p = props(&[("ssl.key.location", "/k.pem")]);
        assert!(client_identity(&p).unwrap_err().to_string().contains("both"));
    }

    #[test]
    fn an_encrypted_key_without_a_password_is_refused_without_echoing_anything() {
        let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = key_from_pem("ssl.key.pem", pem, None).unwrap_err().to_string();
        assert!(e.contains("ssl.key.password"), "{e}");
        let e = key_from_pem("ssl.key.pem", pem, Some("hunter2")).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
