//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) without channel binding, as Kafka speaks them.
//!
//! Four messages: client-first (`n,,n=<user>,r=<nonce>`), server-first (`r=,s=,i=`), client-final
//! (`c=biws,r=,p=<proof>`), server-final (`v=<signature>` or `e=<error>`). The server's signature is
//! verified, so a broker that does not know the password cannot pass itself off as one that does.
//!
//! Like Kafka's own client, the password is used as its UTF-8 bytes (no SASLprep), and the username
//! gets only the escaping RFC 5802 requires (`,` → `=2C`, `=` → `=3D`).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::{SaslClient, SaslError, Step};

/// Kafka refuses SCRAM credentials with fewer iterations (its ScramMechanism minimum) ...
pub(crate) const MIN_ITERATIONS: u32 = 4096;
/// ... or more (the broker's upper bound for stored credentials). Capping also bounds the CPU a
/// hostile server-first message can make the client burn.
pub(crate) const MAX_ITERATIONS: u32 = 16384;

/// Longest server message accepted: real ones are about 100 bytes.
const MAX_SERVER_MESSAGE: usize = 4096;

/// The random bytes behind a client nonce (RFC 5802 asks only for "sufficiently random").
const NONCE_BYTES: usize = 24;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    /// The SASL mechanism name.
    pub(crate) fn mechanism(self) -> &'static str {
        match self {
            ScramHash::Sha256 => "SCRAM-SHA-256",
            ScramHash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, SaslError> {
        // HMAC takes keys of any length, so new_from_slice cannot fail; mapped rather than unwrapped.
        let bad_key = |_| SaslError::protocol(self.mechanism(), "HMAC key rejected");
        Ok(match self {
            ScramHash::Sha256 => {
                let mut m = Hmac::<Sha256>::new_from_slice(key).map_err(bad_key)?;
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut m = Hmac::<Sha512>::new_from_slice(key).map_err(bad_key)?;
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        })
    }

    /// Constant-time comparison of `tag` with HMAC(key, data).
    fn verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        match self {
            ScramHash::Sha256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|mut m| {
                    m.update(data);
                    m.verify_slice(tag).is_ok()
                })
                .unwrap_or(false),
            ScramHash::Sha512 => Hmac::<Sha512>::new_from_slice(key)
                .map(|mut m| {
                    m.update(data);
                    m.verify_slice(tag).is_ok()
                })
                .unwrap_or(false),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// RFC 5802's Hi(): PBKDF2 with HMAC of this hash, one output block.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec(),
            ScramHash::Sha512 => pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(password, salt, iterations).to_vec(),
        }
    }
}

/// A fresh client nonce: random bytes, base64 (printable, never a comma).
pub(crate) fn random_nonce() -> Result<String, SaslError> {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| SaslError::protocol("SCRAM", format!("no randomness for the nonce: {e}")))?;
    Ok(STANDARD.encode(bytes))
}

/// RFC 5802 saslname: `=` and `,` escaped.
fn sasl_name(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

/// One SCRAM exchange.
pub(crate) struct ScramClient {
    hash: ScramHash,
    username: String,
    password: String,
    nonce: String,
    /// Kafka's `tokenauth=true` extension: the credentials are a delegation token's id and HMAC.
    token_auth: bool,
    state: State,
}

enum State {
    Initial,
    /// client-first sent; keeps its bare part for the AuthMessage.
    FirstSent {
        client_first_bare: String,
    },
    /// client-final sent; keeps what is needed to check the server's signature.
    FinalSent {
        server_key: Vec<u8>,
        auth_message: String,
    },
    Done,
    Failed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Initial => "initial",
            State::FirstSent { .. } => "client-first sent",
            State::FinalSent { .. } => "client-final sent",
            State::Done => "done",
            State::Failed => "failed",
        }
    }
}

impl ScramClient {
    /// A fresh exchange with a random nonce.
    pub(crate) fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        token_auth: bool,
    ) -> Result<Self, SaslError> {
        Ok(Self::with_nonce(hash, username, password, token_auth, random_nonce()?))
    }

    /// A fresh exchange with a given nonce (tests use the RFC's).
    pub(crate) fn with_nonce(
        hash: ScramHash,
        username: &str,
        password: &str,
        token_auth: bool,
        nonce: String,
    ) -> Self {
        ScramClient {
            hash,
            username: username.to_owned(),
            password: password.to_owned(),
            nonce,
            token_auth,
            state: State::Initial,
        }
    }

    fn fail(&mut self, message: impl Into<String>) -> SaslError {
        self.state = State::Failed;
        SaslError::protocol(self.hash.mechanism(), message)
    }

    fn client_first(&mut self) -> Step {
        let mut bare = format!("n={},r={}", sasl_name(&self.username), self.nonce);
        if self.token_auth {
            bare.push_str(",tokenauth=true");
        }
        let msg = format!("n,,{bare}").into_bytes();
        self.state = State::FirstSent { client_first_bare: bare };
        Step::Send(msg)
    }

    fn client_final(&mut self, client_first_bare: &str, server: &[u8]) -> Result<Step, SaslError> {
        let server_first = match text(server) {
            Ok(s) => s,
            Err(e) => return Err(self.fail(format!("server-first message {e}"))),
        };
        let first = match ServerFirst::parse(server_first) {
            Ok(f) => f,
            Err(e) => return Err(self.fail(format!("malformed server-first message: {e}"))),
        };
        // RFC 5802 §5.1: the server's nonce extends ours; anything else is a replay or a confused server.
        if !first.nonce.starts_with(&self.nonce) || first.nonce.len() <= self.nonce.len() {
            return Err(self.fail("server-first nonce does not extend the client nonce"));
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&first.iterations) {
            let n = first.iterations;
            return Err(self.fail(format!(
                "iteration count {n} outside Kafka's range {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            )));
        }
        let hash = self.hash;
        let salted = hash.salted_password(self.password.as_bytes(), &first.salt, first.iterations);
        let client_key = hash.hmac(&salted, b"Client Key")?;
        let stored_key = hash.digest(&client_key);
        let server_key = hash.hmac(&salted, b"Server Key")?;
        // c=biws is base64("n,,"): no channel binding, no authorization identity.
        let without_proof = format!("c=biws,r={}", first.nonce);
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hash.hmac(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        let msg = format!("{without_proof},p={}", STANDARD.encode(proof)).into_bytes();
        self.state = State::FinalSent { server_key, auth_message };
        Ok(Step::Send(msg))
    }

    fn check_server_final(
        &mut self,
        server_key: &[u8],
        auth_message: &str,
        server: &[u8],
    ) -> Result<Step, SaslError> {
        let server_final = match text(server) {
            Ok(s) => s,
            Err(e) => return Err(self.fail(format!("server-final message {e}"))),
        };
        // server-final = (server-error / verifier) ["," extensions]
        let first_attr = server_final.split(',').next().unwrap_or("");
        if let Some(err) = first_attr.strip_prefix("e=") {
            let err = printable(err);
            return Err(self.fail(format!("the server refused the authentication: {err}")));
        }
        let Some(v) = first_attr.strip_prefix("v=") else {
            return Err(self.fail("malformed server-final message: no v= or e= attribute"));
        };
        let Ok(signature) = STANDARD.decode(v) else {
            return Err(self.fail("malformed server-final message: v= is not base64"));
        };
        if !self.hash.verify(server_key, auth_message.as_bytes(), &signature) {
            return Err(self.fail("the server's signature is wrong: it does not know the credentials"));
        }
        self.state = State::Done;
        Ok(Step::Done)
    }
}

/// The server's bytes as text, bounded in size.
fn text(server: &[u8]) -> Result<&str, &'static str> {
    if server.len() > MAX_SERVER_MESSAGE {
        return Err("is too long");
    }
    std::str::from_utf8(server).map_err(|_| "is not UTF-8")
}

/// A server-supplied string made safe to show: control characters dropped, length bounded.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The parts of a server-first message the client uses.
struct ServerFirst<'a> {
    nonce: &'a str,
    salt: Vec<u8>,
    iterations: u32,
}

impl<'a> ServerFirst<'a> {
    /// `[m=...,]r=<nonce>,s=<salt>,i=<count>[,ext...]`; a mandatory extension (`m=`) is unsupported.
    fn parse(msg: &'a str) -> Result<Self, &'static str> {
        let mut attrs = msg.split(',');
        let nonce = attrs.next().and_then(|a| a.strip_prefix("r=")).ok_or("expected r= first")?;
        if nonce.is_empty() || !nonce.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            return Err("nonce is empty or not printable");
        }
        let salt = attrs.next().and_then(|a| a.strip_prefix("s=")).ok_or("expected s= second")?;
        let salt = STANDARD.decode(salt).map_err(|_| "salt is not base64")?;
        if salt.is_empty() {
            return Err("salt is empty");
        }
        let count = attrs.next().and_then(|a| a.strip_prefix("i=")).ok_or("expected i= third")?;
        // Digits only (no sign), and few enough that parsing cannot overflow.
        if count.is_empty() || count.len() > 9 || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err("iteration count is not a number in range");
        }
        let iterations = count.parse().map_err(|_| "iteration count is not a number")?;
        Ok(ServerFirst { nonce, salt, iterations })
    }
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The nonce is public (it crosses the wire); the keys in the state are secret.
        f.debug_struct("ScramClient")
            .field("mechanism", &self.hash.mechanism())
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("token_auth", &self.token_auth)
            .field("state", &self.state.name())
            .finish()
    }
}

impl SaslClient for ScramClient {
    fn mechanism(&self) -> &'static str {
        self.hash.mechanism()
    }

    fn step(&mut self, server: Option<&[u8]>) -> Result<Step, SaslError> {
        match (std::mem::replace(&mut self.state, State::Failed), server) {
            (State::Initial, None) => Ok(self.client_first()),
            (State::FirstSent { client_first_bare }, Some(bytes)) => {
                self.client_final(&client_first_bare, bytes)
            }
            (State::FinalSent { server_key, auth_message }, Some(bytes)) => {
                self.check_server_final(&server_key, &auth_message, bytes)
            }
            (state, _) => Err(self.fail(format!("unexpected step in state {}", state.name()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn send(step: Result<Step, SaslError>) -> Vec<u8> {
        match step.unwrap() {
            Step::Send(m) => m,
            Step::Done => panic!("expected a message"),
        }
    }

    /// RFC 7677 §3, end to end.
    #[test]
    fn rfc7677_sha256_vector() {
        let mut c = ScramClient::with_nonce(
            ScramHash::Sha256,
            "user",
            "pencil",
            false,
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(send(c.step(None)), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first =
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            send(c.step(Some(server_first))),
            &b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
               p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="[..]
        );
        let server_final = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        assert!(matches!(c.step(Some(server_final)).unwrap(), Step::Done));
        assert!(c.step(Some(b"")).is_err(), "nothing after done");
    }

    fn rfc_client_after_first() -> ScramClient {
        let mut c = ScramClient::with_nonce(
            ScramHash::Sha256,
            "user",
            "pencil",
            false,
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        send(c.step(None));
        send(c.step(Some(
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        )));
        c
    }

    #[test]
    fn tampered_server_signature_is_rejected() {
        let mut c = rfc_client_after_first();
        let e = c.step(Some(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).unwrap_err();
        assert!(e.to_string().contains("signature"), "{e}");
        assert!(c.step(Some(b"v=x")).is_err(), "a failed exchange stays failed");
    }

    #[test]
    fn server_error_is_reported() {
        let mut c = rfc_client_after_first();
        let e = c.step(Some(b"e=invalid-proof")).unwrap_err();
        assert!(e.to_string().contains("invalid-proof"), "{e}");
    }

    #[test]
    fn wrong_nonce_is_rejected() {
        for nonce in ["r=someoneelses%abc", "r=rOprNGfwEbeRWgbNEkqO"] {
            let mut c = ScramClient::with_nonce(
                ScramHash::Sha256,
                "user",
                "pencil",
                false,
                "rOprNGfwEbeRWgbNEkqO".into(),
            );
            send(c.step(None));
            let msg = format!("{nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
            let e = c.step(Some(msg.as_bytes())).unwrap_err();
            assert!(e.to_string().contains("nonce"), "{e}");
        }
    }

    #[test]
    fn malformed_server_first_is_rejected() {
        let n = "rOprNGfwEbeRWgbNEkqO";
        for bad in [
            String::new(),
            "garbage".into(),
            format!("m=ext,r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
            format!("r={n}x,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ=="),
            format!("r={n}x,s=!!notbase64,i=4096"),
            format!("r={n}x,s=,i=4096"),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096"),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095"),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16385"),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999"),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i="),
            format!("r={n}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096{}", ",x=y".repeat(2000)),
        ] {
            let mut c = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", false, n.into());
            send(c.step(None));
            assert!(c.step(Some(bad.as_bytes())).is_err(), "{bad:?}");
        }
        let mut c = rfc_client_after_first();
        assert!(c.step(Some(b"x=nothing")).is_err());
        let mut c = rfc_client_after_first();
        assert!(c.step(Some(b"v=***")).is_err());
        let mut c = rfc_client_after_first();
        assert!(c.step(Some(&[0xff, 0xfe])).is_err());
    }

    #[test]
    fn username_is_escaped_and_token_auth_extension_sent() {
        let mut c = ScramClient::with_nonce(ScramHash::Sha512, "a=b,c", "p", true, "NONCE".into());
        assert_eq!(send(c.step(None)), b"n,,n=a=3Db=2Cc,r=NONCE,tokenauth=true");
    }

    #[test]
    fn random_nonces_are_printable_and_distinct() {
        let a = random_nonce().unwrap();
        let b = random_nonce().unwrap();
        assert_ne!(a, b);
        assert!(a.len() >= 32 && !a.contains(',') && a.bytes().all(|b| (0x21..=0x7E).contains(&b)));
    }

    /// A SCRAM server written from RFC 5802 independently of the client's code paths.
    struct TestServer {
        hash: ScramHash,
        salt: Vec<u8>,
        iterations: u32,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
    }

    impl TestServer {
        fn new(hash: ScramHash, password: &str) -> Self {
            let salt = b"some-salt-bytes!".to_vec();
            let iterations = 4096;
            let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
            let client_key = hash.hmac(&salted, b"Client Key").unwrap();
            TestServer {
                hash,
                stored_key: hash.digest(&client_key),
                server_key: hash.hmac(&salted, b"Server Key").unwrap(),
                salt,
                iterations,
            }
        }

        /// Runs a whole exchange; Err when the server rejects the proof.
        fn run(&self, client: &mut ScramClient, tamper_signature: bool) -> Result<Step, SaslError> {
            let first = String::from_utf8(send(client.step(None))).unwrap();
            let bare = first.strip_prefix("n,,").unwrap();
            let cnonce = bare.split(',').nth(1).unwrap().strip_prefix("r=").unwrap();
            let server_first =
                format!("r={cnonce}SERVERPART,s={},i={}", STANDARD.encode(&self.salt), self.iterations);
            let fin = String::from_utf8(send(client.step(Some(server_first.as_bytes())))).unwrap();
            let (without_proof, proof) = fin.rsplit_once(",p=").unwrap();
            assert_eq!(without_proof, format!("c=biws,r={cnonce}SERVERPART"));
            let auth = format!("{bare},{server_first},{without_proof}");
            let sig = self.hash.hmac(&self.stored_key, auth.as_bytes()).unwrap();
            let client_key: Vec<u8> =
                STANDARD.decode(proof).unwrap().iter().zip(&sig).map(|(p, s)| p ^ s).collect();
            if self.hash.digest(&client_key) != self.stored_key {
                return client.step(Some(b"e=invalid-proof"));
            }
            let mut server_sig = self.hash.hmac(&self.server_key, auth.as_bytes()).unwrap();
            if tamper_signature {
                server_sig[0] ^= 1;
            }
            client.step(Some(format!("v={}", STANDARD.encode(server_sig)).as_bytes()))
        }
    }

    #[test]
    fn sha512_against_test_server() {
        let server = TestServer::new(ScramHash::Sha512, "hunter2");
        let mut ok = ScramClient::new(ScramHash::Sha512, "bob", "hunter2", false).unwrap();
        assert!(matches!(server.run(&mut ok, false).unwrap(), Step::Done));
        let mut wrong = ScramClient::new(ScramHash::Sha512, "bob", "hunter3", false).unwrap();
        assert!(server.run(&mut wrong, false).unwrap_err().to_string().contains("invalid-proof"));
        let mut tampered = ScramClient::new(ScramHash::Sha512, "bob", "hunter2", false).unwrap();
        assert!(server.run(&mut tampered, true).is_err());
        let server256 = TestServer::new(ScramHash::Sha256, "hunter2");
        let mut ok = ScramClient::new(ScramHash::Sha256, "bob", "hunter2", false).unwrap();
        assert!(matches!(server256.run(&mut ok, false).unwrap(), Step::Done));
    }

    #[test]
    fn debug_hides_password_and_keys() {
        let c = rfc_client_after_first();
        let d = format!("{c:?}");
        assert!(!d.contains("pencil"), "{d}");
        assert!(d.contains("user") && d.contains("client-final sent"), "{d}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn arbitrary_server_bytes_never_panic(
            first in proptest::collection::vec(any::<u8>(), 0..200),
            fin in proptest::collection::vec(any::<u8>(), 0..200),
            iters in 0u32..20000,
        ) {
            let mut c = ScramClient::with_nonce(ScramHash::Sha256, "u", "p", false, "N".into());
            send(c.step(None));
            let _ = c.step(Some(&first));
            let _ = c.step(Some(&fin));
            // A plausible server-first with an arbitrary count, then arbitrary bytes.
            let mut c = ScramClient::with_nonce(ScramHash::Sha256, "u", "p", false, "N".into());
            send(c.step(None));
            let msg = format!("r=Nx,s=c2FsdA==,i={iters}");
            let _ = c.step(Some(msg.as_bytes()));
            let _ = c.step(Some(&fin));
        }
    }
}
