//! What the network needs of the operating system — non-blocking sockets, readiness, name lookups —
//! as one trait, so the same network code runs over mio ([`MioIo`], the producer) or over a simulated
//! world (the deterministic simulator). This file and [`MioIo`] are the only mio code.

use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use super::dns::{self, Resolver};
use super::wake::Wake;

/// Identifies a connection in readiness reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Token(pub usize);

/// A connection that became readable and/or writable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Readiness {
    /// The connection.
    pub token: Token,
    /// Bytes (or the end of the stream) can be read.
    pub readable: bool,
    /// Bytes can be written (or the connect finished, or failed).
    pub writable: bool,
}

/// Socket options from the producer configuration.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SocketOptions {
    /// `send.buffer.bytes`.
    pub send_buffer: Option<usize>,
    /// `receive.buffer.bytes`.
    pub receive_buffer: Option<usize>,
}

/// A non-blocking byte stream to one broker.
pub(crate) trait Stream {
    /// Reads what is there: `Ok(0)` at the end of the stream, `WouldBlock` when nothing is.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes what the stream takes from `bufs`, in order; `WouldBlock` when it takes nothing now.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// After a writable event while connecting: true once connected, false while still connecting, an
    /// error when the connect failed.
    fn connected(&mut self) -> io::Result<bool>;
}

/// Sockets, readiness and name lookups.
pub(crate) trait Io {
    /// Its streams.
    type Stream: Stream;
    /// Starts a non-blocking connect to `addr`; readiness for it is reported under `token`.
    fn connect(&mut self, addr: SocketAddr, token: Token, options: SocketOptions)
        -> io::Result<Self::Stream>;
    /// Asks for writable events of `stream` while `on` (readable ones are always reported).
    fn want_write(&mut self, stream: &mut Self::Stream, token: Token, on: bool) -> io::Result<()>;
    /// Stops reporting `stream`; it is dropped next.
    fn close(&mut self, stream: &mut Self::Stream);
    /// Waits up to `timeout` for readiness, appended to `ready`.
    fn poll(&mut self, timeout: Duration, ready: &mut Vec<Readiness>) -> io::Result<()>;
    /// Resolves `host:port` to every address it has (`canonical`: through the canonical host names of
    /// its addresses): an answer now, or `None` when it arrives later through [`answers`](Self::answers).
    fn resolve(&mut self, host: &str, port: u16, canonical: bool) -> Option<Result<Vec<SocketAddr>, String>>;
    /// Name lookups finished since the last call.
    fn answers(&mut self) -> Vec<dns::Answer>;
}

/// The operating system's sockets through mio, and a resolver thread for names.
pub(crate) struct MioIo {
    poll: Poll,
    events: Events,
    dns: Resolver,
}

impl std::fmt::Debug for MioIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioIo").finish_non_exhaustive()
    }
}

/// The poll token of the waker (connections get tokens from 1).
const WAKE_TOKEN: mio::Token = mio::Token(0);

impl MioIo {
    /// A poll and the waker other threads ring.
    pub(crate) fn new() -> io::Result<(MioIo, Arc<Wake>)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
        let wake = Arc::new(Wake::new(Some(waker)));
        let io = MioIo { poll, events: Events::with_capacity(256), dns: Resolver::new(Arc::clone(&wake)) };
        Ok((io, wake))
    }
}

/// A mio TCP stream.
#[derive(Debug)]
pub(crate) struct MioStream(TcpStream);

impl Stream for MioStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }

    fn connected(&mut self) -> io::Result<bool> {
        if let Some(e) = self.0.take_error()? {
            return Err(e);
        }
        match self.0.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Io for MioIo {
    type Stream = MioStream;

    fn connect(&mut self, addr: SocketAddr, token: Token, options: SocketOptions) -> io::Result<MioStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_nodelay(true)?;
        if let Some(n) = options.send_buffer {
            socket.set_send_buffer_size(n)?;
        }
        if let Some(n) = options.receive_buffer {
            socket.set_recv_buffer_size(n)?;
        }
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e)
                if e.raw_os_error() == Some(libc_einprogress()) || e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let mut stream = TcpStream::from_std(socket.into());
        self.poll.registry().register(
            &mut stream,
            mio::Token(token.0),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(MioStream(stream))
    }

    fn want_write(&mut self, stream: &mut MioStream, token: Token, on: bool) -> io::Result<()> {
        let interest = if on { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        self.poll.registry().reregister(&mut stream.0, mio::Token(token.0), interest)
    }

    fn close(&mut self, stream: &mut MioStream) {
        let _ = self.poll.registry().deregister(&mut stream.0);
    }

    fn poll(&mut self, timeout: Duration, ready: &mut Vec<Readiness>) -> io::Result<()> {
        self.poll.poll(&mut self.events, Some(timeout))?;
        ready.extend(self.events.iter().filter(|ev| ev.token() != WAKE_TOKEN).map(|ev| Readiness {
            token: Token(ev.token().0),
            readable: ev.is_readable() || ev.is_read_closed(),
            writable: ev.is_writable() || ev.is_error(),
        }));
        Ok(())
    }

    fn resolve(&mut self, host: &str, port: u16, canonical: bool) -> Option<Result<Vec<SocketAddr>, String>> {
        self.dns.resolve(host, port, canonical)
    }

    fn answers(&mut self) -> Vec<dns::Answer> {
        self.dns.answers().collect()
    }
}

/// `EINPROGRESS` for a non-blocking connect on Unix.
fn libc_einprogress() -> i32 {
    if cfg!(target_os = "linux") {
        115
    } else {
        36
    }
}
