//! The brokers' network side: one acceptor thread per live broker, and per connection a reader thread
//! (reads frames, handles requests in order) and a writer thread (sends responses at their due time, so
//! a response delay behaves like network latency even for pipelined requests). Blocking `std::net`
//! sockets only. A stalled connection (`ResponseFault::StallAfter`) keeps both threads alive but
//! silent until the client closes it or the broker stops.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use super::faults::Then;
use super::handlers::{self, Outcome, Reply};
use super::state::State;
use crate::protocol::frame;

/// What every broker thread shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Guards the whole cluster state: brokers (up/down, delays), topics, partitions and their logs,
    /// producer and transaction state, group offsets, injected faults and the request log. Handlers
    /// hold it only for in-memory bookkeeping, never across socket I/O or sleeps.
    pub state: Mutex<State>,
    /// The largest request frame accepted; larger size prefixes close the connection.
    pub max_frame: usize,
    /// Null-sink mode (fixed at start; also in the state's settings).
    pub null_sink: bool,
}

/// A running acceptor and how to stop it.
#[derive(Debug)]
struct Acceptor {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// One broker's listener side: its fixed address and, while it is up, its acceptor.
#[derive(Debug)]
pub(crate) struct BrokerRuntime {
    pub node_id: i32,
    pub addr: SocketAddr,
    /// Guards the running acceptor (none while the broker is down).
    acceptor: Mutex<Option<Acceptor>>,
}

impl BrokerRuntime {
    /// Binds `addr` (port 0 for an ephemeral port) and starts accepting.
    pub fn start(shared: &Arc<Shared>, node_id: i32, addr: SocketAddr) -> std::io::Result<BrokerRuntime> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let rt = BrokerRuntime { node_id, addr, acceptor: Mutex::new(None) };
        rt.spawn_acceptor(shared, listener)?;
        Ok(rt)
    }

    fn spawn_acceptor(&self, shared: &Arc<Shared>, listener: TcpListener) -> std::io::Result<()> {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, id) = (Arc::clone(shared), Arc::clone(&stop), self.node_id);
        let handle = thread::Builder::new()
            .name(format!("kprod-mock-broker-{id}"))
            .spawn(move || accept_loop(&s, id, &listener, &st))?;
        *self.acceptor.lock() = Some(Acceptor { stop, handle });
        Ok(())
    }

    /// Re-binds the broker's address and accepts again (no-op when already running).
    pub fn resume(&self, shared: &Arc<Shared>) -> std::io::Result<()> {
        if self.acceptor.lock().is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr)?;
        self.spawn_acceptor(shared, listener)
    }

    /// Closes the listener and every connection, and waits for the broker's threads to finish.
    pub fn stop(&self) {
        let Some(acceptor) = self.acceptor.lock().take() else { return };
        acceptor.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own; the acceptor sees the flag and exits.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        let _ = acceptor.handle.join();
    }
}

type Registry = Arc<Mutex<HashMap<u64, TcpStream>>>;

fn accept_loop(shared: &Arc<Shared>, node_id: i32, listener: &TcpListener, stop: &Arc<AtomicBool>) {
    // Guards the clones of this acceptor's live connections, so stopping can shut them all down.
    let conns: Registry = Arc::new(Mutex::new(HashMap::new()));
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted handshake: back off briefly instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        handles.retain(|h| !h.is_finished());
        next_id += 1;
        let id = next_id;
        let Ok(clone) = stream.try_clone() else { continue };
        conns.lock().insert(id, clone);
        let (s, st, reg) = (Arc::clone(shared), Arc::clone(stop), Arc::clone(&conns));
        let spawned = thread::Builder::new()
            .name(format!("kprod-mock-conn-{node_id}-{id}"))
            .spawn(move || serve(&s, node_id, stream, &st, &reg, id));
        match spawned {
            Ok(h) => handles.push(h),
            Err(_) => {
                if let Some(s) = conns.lock().remove(&id) {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }
    for s in conns.lock().values() {
        let _ = s.shutdown(Shutdown::Both);
    }
    for h in handles {
        let _ = h.join();
    }
}

/// A response queued for the writer.
#[derive(Debug)]
enum Out {
    /// Send `bytes` at `due`, then carry on, close or stall.
    Frame { due: Instant, bytes: Vec<u8>, then: Then },
    /// Close the connection once everything queued before has been sent.
    Close,
}

fn serve(
    shared: &Arc<Shared>,
    node_id: i32,
    stream: TcpStream,
    stop: &Arc<AtomicBool>,
    reg: &Registry,
    id: u64,
) {
    let _ = stream.set_nodelay(true);
    if let Ok(w) = stream.try_clone() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let st = Arc::clone(stop);
        if let Ok(writer) = thread::Builder::new()
            .name(format!("kprod-mock-write-{node_id}-{id}"))
            .spawn(move || write_loop(w, &rx, &st))
        {
            read_loop(shared, node_id, &stream, &tx);
            drop(tx);
            let _ = writer.join();
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    reg.lock().remove(&id);
}

fn read_loop(shared: &Shared, node_id: i32, stream: &TcpStream, tx: &Sender<Out>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    // Once stalled, requests are still read (so the client's writes never block) but not answered.
    let mut stalled = false;
    loop {
        let mut prefix = [0u8; 4];
        if reader.read_exact(&mut prefix).is_err() {
            return;
        }
        // Refuses negative and oversized sizes from the prefix alone.
        if frame::frame_len(&prefix, shared.max_frame).is_err() {
            return;
        }
        let n = usize::try_from(i32::from_be_bytes(prefix)).unwrap_or(0);
        // Grows with the bytes that actually arrive, never more than the announced (bounded) size.
        let mut body = Vec::with_capacity(n.min(64 * 1024));
        match (&mut reader).take(n as u64).read_to_end(&mut body) {
            Ok(got) if got == n => {}
            _ => return,
        }
        if stalled {
            handlers::record_unanswered(shared, node_id, &body);
            continue;
        }
        let received = Instant::now();
        let Outcome { reply, delay } = handlers::handle(shared, node_id, &body);
        let due = received + delay;
        let (out, then) = match reply {
            Reply::Send(bytes, then) => (Out::Frame { due, bytes, then }, then),
            Reply::NoResponse => continue,
            Reply::Close => (Out::Close, Then::Close),
        };
        if tx.send(out).is_err() {
            return;
        }
        match then {
            Then::Continue => {}
            Then::Close => return,
            Then::Stall => stalled = true,
        }
    }
}

/// Sleeps until `due` in short slices; false when the broker stops meanwhile.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        thread::sleep((due - now).min(Duration::from_millis(20)));
    }
}

fn write_loop(mut stream: TcpStream, rx: &Receiver<Out>, stop: &AtomicBool) {
    // A stalled writer waits (without writing) for the reader to finish, which keeps the socket open.
    let mut stalled = false;
    for out in rx.iter() {
        if stalled {
            continue;
        }
        match out {
            Out::Frame { due, bytes, then } => {
                if !sleep_until(due, stop) || stream.write_all(&bytes).is_err() {
                    break;
                }
                match then {
                    Then::Continue => {}
                    Then::Close => break,
                    Then::Stall => stalled = true,
                }
            }
            Out::Close => break,
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}
