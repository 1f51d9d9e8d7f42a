//! Host name resolution off the I/O loop: `getaddrinfo` blocks, so names are resolved on a helper
//! thread (started on the first name that is not an IP literal) and the answer wakes the sender.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Receiver, Sender};

use super::wake::Wake;

/// A resolved (or failed) name.
pub(crate) type Answer = (String, u16, Result<SocketAddr, String>);

/// Resolves `host:port` names on a helper thread.
#[derive(Debug)]
pub(crate) struct Resolver {
    wake: Arc<Wake>,
    /// To the helper thread, once started.
    ask: Option<Sender<(String, u16)>>,
    answers_tx: Sender<Answer>,
    answers: Receiver<Answer>,
}

impl Resolver {
    pub(crate) fn new(wake: Arc<Wake>) -> Self {
        let (answers_tx, answers) = crossbeam_channel::unbounded();
        Resolver { wake, ask: None, answers_tx, answers }
    }

    /// An IP literal resolves at once; a name is looked up on the helper thread (`None`: the answer
    /// comes through [`answers`](Self::answers)).
    pub(crate) fn resolve(&mut self, host: &str, port: u16) -> Option<Result<SocketAddr, String>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(Ok(SocketAddr::new(ip, port)));
        }
        if self.ask.is_none() {
            let (tx, rx) = crossbeam_channel::unbounded::<(String, u16)>();
            let answers = self.answers_tx.clone();
            let wake = Arc::clone(&self.wake);
            let spawned = thread::Builder::new().name("kprod-dns".into()).spawn(move || {
                for (host, port) in rx {
                    let result = match (host.as_str(), port).to_socket_addrs() {
                        Ok(mut addrs) => addrs.next().ok_or_else(|| "no address for the host".to_owned()),
                        Err(e) => Err(format!("cannot resolve the host: {e}")),
                    };
                    if answers.send((host, port, result)).is_err() {
                        return;
                    }
                    wake.wake();
                }
            });
            match spawned {
                Ok(_) => self.ask = Some(tx),
                Err(e) => return Some(Err(format!("cannot start the resolver thread: {e}"))),
            }
        }
        let sent = self.ask.as_ref().is_some_and(|ask| ask.send((host.to_owned(), port)).is_ok());
        if sent {
            None
        } else {
            Some(Err("the resolver thread is gone".into()))
        }
    }

    /// Answers that arrived since the last call.
    pub(crate) fn answers(&self) -> impl Iterator<Item = Answer> + '_ {
        self.answers.try_iter()
    }
}
