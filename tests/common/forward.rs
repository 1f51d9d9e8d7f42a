//! A TCP forwarder for tests: a listening address whose connections are piped to a target that can be
//! changed while it runs (a load balancer in front of brokers).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use parking_lot::Mutex;

/// Each accepted connection is piped to the address `target` holds at accept time.
pub struct Forwarder {
    /// Where it listens (`ip:port`).
    pub address: String,
    /// Where new connections go.
    pub target: Arc<Mutex<String>>,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
}

impl Forwarder {
    /// Listens on `bind` (`ip:port`, port 0 for any) and forwards to `target`.
    pub fn start_on(bind: &str, target: &str) -> Forwarder {
        let listener = TcpListener::bind(bind).unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let target = Arc::new(Mutex::new(target.to_string()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (t, a) = (Arc::clone(&target), Arc::clone(&accepted));
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                a.fetch_add(1, Ordering::SeqCst);
                let to = t.lock().clone();
                let Ok(server) = TcpStream::connect(&to) else { continue };
                for (mut from, mut into) in
                    [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    thread::spawn(move || {
                        let mut buf = [0u8; 64 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || into.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = into.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Forwarder { address, target, accepted }
    }

    /// Listens on a free loopback port.
    pub fn start(target: &str) -> Forwarder {
        Forwarder::start_on("127.0.0.1:0", target)
    }
}
