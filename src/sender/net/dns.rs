//! Host name resolution off the I/O loop: `getaddrinfo` blocks, so names are resolved on a helper
//! thread (started on the first name that is not an IP literal) and the answer wakes the sender.
//! Every address a name resolves to is returned (`client.dns.lookup=use_all_dns_ips`); the network
//! tries them in turn. With `resolve_canonical_bootstrap_servers_only`, a bootstrap server's addresses
//! are looked up in reverse and the canonical host names they give are resolved in their place.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Receiver, Sender};

use super::wake::Wake;

/// A resolved (or failed) name: every address, in the resolver's order.
pub(crate) type Answer = (String, u16, Result<Vec<SocketAddr>, String>);

/// Resolves `host:port` names on a helper thread.
#[derive(Debug)]
pub(crate) struct Resolver {
    wake: Arc<Wake>,
    /// To the helper thread, once started.
    ask: Option<Sender<(String, u16, bool)>>,
    answers_tx: Sender<Answer>,
    answers: Receiver<Answer>,
}

impl Resolver {
    pub(crate) fn new(wake: Arc<Wake>) -> Self {
        let (answers_tx, answers) = crossbeam_channel::unbounded();
        Resolver { wake, ask: None, answers_tx, answers }
    }

    /// An IP literal resolves at once (unless `canonical`); a name is looked up on the helper thread
    /// (`None`: the answer comes through [`answers`](Self::answers)). `canonical`: replace the
    /// addresses by those of their canonical host names (a bootstrap server under
    /// `resolve_canonical_bootstrap_servers_only`).
    pub(crate) fn resolve(
        &mut self,
        host: &str,
        port: u16,
        canonical: bool,
    ) -> Option<Result<Vec<SocketAddr>, String>> {
        if let (Ok(ip), false) = (host.parse::<IpAddr>(), canonical) {
            return Some(Ok(vec![SocketAddr::new(ip, port)]));
        }
        if self.ask.is_none() {
            let (tx, rx) = crossbeam_channel::unbounded::<(String, u16, bool)>();
            let answers = self.answers_tx.clone();
            let wake = Arc::clone(&self.wake);
            let spawned = thread::Builder::new().name("kprod-dns".into()).spawn(move || {
                for (host, port, canonical) in rx {
                    let result = lookup(&host, port).and_then(|addrs| {
                        if canonical {
                            canonical_addresses(&addrs, port)
                        } else {
                            Ok(addrs)
                        }
                    });
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
        let sent = self.ask.as_ref().is_some_and(|ask| ask.send((host.to_owned(), port, canonical)).is_ok());
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

/// Every address `host:port` resolves to, without repeats, in the resolver's order.
fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in (host, port).to_socket_addrs().map_err(|e| format!("cannot resolve the host: {e}"))? {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err("no address for the host".to_owned());
    }
    Ok(out)
}

/// Java's `resolve_canonical_bootstrap_servers_only`: each address's canonical host name (reverse
/// lookup; the address itself when it has none), resolved again.
fn canonical_addresses(addrs: &[SocketAddr], port: u16) -> Result<Vec<SocketAddr>, String> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in addrs {
        let name = dns_lookup::lookup_addr(&a.ip()).unwrap_or_else(|_| a.ip().to_string());
        log::debug!("bootstrap address {a}: canonical host name {name}");
        for b in lookup(&name, port).unwrap_or_else(|_| vec![*a]) {
            if !out.contains(&b) {
                out.push(b);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_at_once_and_names_give_every_address() {
        let mut r = Resolver::new(Arc::new(Wake::new(None)));
        assert_eq!(r.resolve("127.0.0.1", 9, false), Some(Ok(vec!["127.0.0.1:9".parse().unwrap()])));
        assert!(r.resolve("127.0.0.1", 9, true).is_none(), "a canonical lookup goes to the thread");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let answer = loop {
            if let Some(a) = r.answers().next() {
                break a;
            }
            assert!(std::time::Instant::now() < deadline, "no answer");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let addrs = answer.2.unwrap_or_default();
        assert!(addrs.contains(&"127.0.0.1:9".parse().unwrap()), "{addrs:?}");
    }
}
