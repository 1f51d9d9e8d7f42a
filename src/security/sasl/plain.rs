//! SASL PLAIN (RFC 4616): the username and password in one message, for use over TLS only.

use std::fmt;

use super::{SaslClient, SaslError, Step};

/// One PLAIN exchange: send `\0username\0password` (no authorization identity), then done.
pub(crate) struct PlainClient {
    username: String,
    password: String,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Sent,
    Done,
}

impl PlainClient {
    /// A fresh exchange for these credentials.
    pub(crate) fn new(username: &str, password: &str) -> Self {
        PlainClient { username: username.to_owned(), password: password.to_owned(), state: State::Initial }
    }
}

impl fmt::Debug for PlainClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainClient")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("state", &self.state)
            .finish()
    }
}

impl SaslClient for PlainClient {
    fn mechanism(&self) -> &'static str {
        "PLAIN"
    }

    fn step(&mut self, server: Option<&[u8]>) -> Result<Step, SaslError> {
        match (self.state, server) {
            (State::Initial, None) => {
                // RFC 4616: [authzid] NUL authcid NUL passwd; an empty authzid means "act as authcid".
                let mut msg = Vec::with_capacity(self.username.len() + self.password.len() + 2);
                msg.push(0);
                msg.extend_from_slice(self.username.as_bytes());
                msg.push(0);
                msg.extend_from_slice(self.password.as_bytes());
                self.state = State::Sent;
                Ok(Step::Send(msg))
            }
            // The broker answers PLAIN with empty bytes; failure comes as an error code, which the
            // connection handles before calling here.
            (State::Sent, Some(_)) => {
                self.state = State::Done;
                Ok(Step::Done)
            }
            (state, _) => Err(SaslError::protocol("PLAIN", format!("unexpected step in state {state:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_then_done() {
        let mut c = PlainClient::new("alice", "s3cret-pw");
        match c.step(None).unwrap() {
            Step::Send(m) => assert_eq!(m, b"\0alice\0s3cret-pw"),
            Step::Done => panic!("expected a message"),
        }
        assert!(matches!(c.step(Some(b"")).unwrap(), Step::Done));
        assert!(c.step(Some(b"")).is_err());
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cret-pw"), "{debug}");
        assert!(debug.contains("alice"));
    }

    #[test]
    fn out_of_order_steps_fail() {
        assert!(PlainClient::new("a", "b").step(Some(b"x")).is_err());
        let mut c = PlainClient::new("a", "b");
        c.step(None).unwrap();
        assert!(c.step(None).is_err());
    }
}
