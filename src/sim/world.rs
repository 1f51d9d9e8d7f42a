//! The simulated world under the real network code: an `Io` (the sender's socket trait) whose
//! sockets are in-memory byte streams to the mock cluster's request handlers, on a simulated clock.
//! Latency, partial reads and writes, dropped connections, answers cut mid-frame, answers lost after
//! the broker applied the request, and stalls all come from one seeded generator, so a run is a
//! function of its seed.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::mock::{MockCluster, Reply, Then};
use crate::protocol::frame;
use crate::sender::net::dns::Answer;
use crate::sender::net::{Io, Readiness, SocketOptions, Stream, Token};

/// A small, fast, seeded generator (SplitMix64): quality enough for schedules.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `p` (0 to 1).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A duration between `lo` and `hi`.
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_micros() as u64;
        lo + Duration::from_micros(self.below(span + 1))
    }
}

/// How a broker mangles one connection's traffic, decided per request by the world's generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFault {
    /// Close the connection without processing the request.
    DropBefore,
    /// Process the request, then close without answering (a lost acknowledgement).
    DropAfter,
    /// Process the request, send part of the answer, then close.
    CutAnswer,
    /// Process the request, send the whole answer, then close.
    AnswerThenClose,
    /// Process the request and never answer anything on this connection again.
    Stall,
}

/// The network's character: latencies and how often each wire fault strikes a request.
#[derive(Debug, Clone)]
pub struct NetProfile {
    /// One-way latency range.
    pub latency: (Duration, Duration),
    /// Probability per request of each wire fault.
    pub faults: Vec<(WireFault, f64)>,
    /// Largest chunk one `read` or `write` moves (smaller ones split frames across calls).
    pub max_chunk: usize,
}

impl Default for NetProfile {
    fn default() -> Self {
        NetProfile {
            latency: (Duration::from_micros(100), Duration::from_millis(3)),
            faults: Vec::new(),
            max_chunk: 64 * 1024,
        }
    }
}

/// One simulated connection.
#[derive(Debug)]
struct Conn {
    node: i32,
    /// Open from this time (the connect's latency); `None` once refused.
    open_at: Option<Duration>,
    /// Bytes the client wrote that the broker has not framed yet.
    to_broker: Vec<u8>,
    /// Bytes due to the client, each chunk with the time it arrives.
    to_client: VecDeque<(Duration, Vec<u8>)>,
    /// When the last chunk to the client was scheduled (answers keep their order).
    last_due: Duration,
    /// The broker closed it: the client reads the end of the stream once `to_client` is drained.
    closed_at: Option<Duration>,
    /// The broker answers nothing more.
    stalled: bool,
    /// The client closed it.
    gone: bool,
    wants_write: bool,
}

/// Counts of what the world did, for reports.
#[derive(Debug, Default, Clone)]
pub struct WorldStats {
    /// Requests the brokers handled.
    pub requests: u64,
    /// Wire faults injected, by kind.
    pub wire_faults: BTreeMap<String, u64>,
    /// Connections opened.
    pub connections: u64,
}

/// The shared world: clock, brokers and connections.
#[derive(Debug)]
pub struct World {
    /// Simulated time since the start.
    pub now: Duration,
    /// The instant simulated time 0 maps to.
    pub base: Instant,
    /// The brokers' logic and state.
    pub cluster: MockCluster,
    /// The network's character.
    pub profile: NetProfile,
    /// What happened.
    pub stats: WorldStats,
    /// Brokers currently crashed (their connections refuse and break).
    pub down: Vec<i32>,
    /// When set, one line per request the brokers saw (time, broker, API, correlation id, fault).
    pub trace: Option<Vec<String>>,
    rng: Rng,
    conns: BTreeMap<Token, Conn>,
}

impl World {
    /// A world over `cluster` (headless), seeded by `seed`.
    pub fn new(cluster: MockCluster, profile: NetProfile, seed: u64) -> Self {
        World {
            now: Duration::ZERO,
            base: Instant::now(),
            cluster,
            profile,
            stats: WorldStats::default(),
            down: Vec::new(),
            trace: None,
            rng: Rng::new(seed),
            conns: BTreeMap::new(),
        }
    }

    /// The simulated `Instant` now.
    pub fn instant(&self) -> Instant {
        self.base + self.now
    }

    /// The earliest time something happens on the wire (a chunk arriving, a connect finishing).
    pub fn next_event(&self) -> Option<Duration> {
        self.conns
            .values()
            .filter(|c| !c.gone)
            .flat_map(|c| {
                let connect = c.open_at.filter(|&t| t > self.now);
                let chunk = c.to_client.front().map(|(t, _)| *t).filter(|&t| t > self.now);
                let close = c.closed_at.filter(|&t| t > self.now);
                [connect, chunk, close]
            })
            .flatten()
            .min()
    }

    /// Crashes broker `node`: its connections break at once, new ones are refused, and the cluster
    /// moves its leaderships (the mock's `broker_down`).
    pub fn crash(&mut self, node: i32) {
        if self.down.contains(&node) {
            return;
        }
        self.down.push(node);
        // The followers caught up, or not: what acks 0 and 1 wrote since the last catch-up is lost
        // when another replica takes over.
        if self.rng.chance(0.5) {
            self.cluster.replicate();
        }
        self.cluster.with_state(|st| st.set_broker_down(node));
        let now = self.now;
        for c in self.conns.values_mut().filter(|c| c.node == node) {
            c.to_client.clear();
            c.closed_at = Some(now);
        }
    }

    /// The end of the faults: every crashed broker comes back, queued errors, throttles and other
    /// injected faults are cleared, and the wire stops misbehaving (a connection already stalled
    /// stays silent until the client's request timeout ends it).
    pub fn heal(&mut self) {
        for node in std::mem::take(&mut self.down) {
            self.cluster.with_state(|st| st.set_broker_up(node));
        }
        self.cluster.clear_faults();
        self.profile.faults.clear();
    }

    /// Brings broker `node` back.
    pub fn restart(&mut self, node: i32) {
        self.down.retain(|&n| n != node);
        self.cluster.with_state(|st| st.set_broker_up(node));
    }

    fn latency(&mut self) -> Duration {
        let (lo, hi) = self.profile.latency;
        self.rng.between(lo, hi)
    }

    fn wire_fault(&mut self) -> Option<WireFault> {
        let faults = self.profile.faults.clone();
        for (f, p) in faults {
            if self.rng.chance(p) {
                *self.stats.wire_faults.entry(format!("{f:?}")).or_default() += 1;
                return Some(f);
            }
        }
        None
    }

    /// Frames what the client wrote on `token` and hands each request to its broker.
    fn deliver(&mut self, token: Token) {
        loop {
            let Some(c) = self.conns.get_mut(&token) else { return };
            if c.gone || c.closed_at.is_some() {
                return;
            }
            let body = match frame::split_frame(&c.to_broker, 100 << 20) {
                Ok(Some((body, _))) => body.to_vec(),
                Ok(None) => return,
                Err(_) => {
                    c.closed_at = Some(self.now);
                    return;
                }
            };
            c.to_broker.drain(..4 + body.len());
            let node = c.node;
            let stalled = c.stalled;
            if stalled {
                continue;
            }
            let fault = self.wire_fault();
            if let Some(t) = self.trace.as_mut() {
                let api = body.get(..2).map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
                let corr = body.get(4..8).map_or(-1, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                t.push(format!(
                    "{:?} broker {node} api {api} corr {corr} {fault:?} {}",
                    self.now,
                    describe_request(&body)
                ));
            }
            if fault == Some(WireFault::DropBefore) {
                self.close(token, Duration::ZERO);
                return;
            }
            self.stats.requests += 1;
            let outcome = self.cluster.handle(node, &body);
            if let (Some(t), Reply::Send(bytes, _)) = (self.trace.as_mut(), &outcome.reply) {
                t.push(format!("    answer: {}", describe_answer(&body, bytes)));
            }
            let delay = outcome.delay + self.latency();
            match (outcome.reply, fault) {
                (Reply::NoResponse, _) => {}
                (Reply::Close, _) | (_, Some(WireFault::DropAfter)) => return self.close(token, delay),
                (Reply::Send(bytes, then), fault) => {
                    let bytes = match fault {
                        Some(WireFault::CutAnswer) => {
                            let n = self.rng.below(bytes.len().max(1) as u64) as usize;
                            bytes.get(..n).map(<[u8]>::to_vec).unwrap_or_default()
                        }
                        _ => bytes,
                    };
                    self.answer(token, bytes, delay);
                    match (then, fault) {
                        (Then::Stall, _) | (_, Some(WireFault::Stall)) => {
                            if let Some(c) = self.conns.get_mut(&token) {
                                c.stalled = true;
                            }
                        }
                        (Then::Close, _) | (_, Some(WireFault::CutAnswer | WireFault::AnswerThenClose)) => {
                            return self.close(token, delay);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn answer(&mut self, token: Token, bytes: Vec<u8>, delay: Duration) {
        let now = self.now;
        let Some(c) = self.conns.get_mut(&token) else { return };
        let due = (now + delay).max(c.last_due);
        c.last_due = due;
        if !bytes.is_empty() {
            c.to_client.push_back((due, bytes));
        }
    }

    fn close(&mut self, token: Token, delay: Duration) {
        let now = self.now;
        if let Some(c) = self.conns.get_mut(&token) {
            let at = (now + delay).max(c.last_due);
            c.closed_at = Some(c.closed_at.map_or(at, |t| t.min(at)));
        }
    }
}

/// The sender's `Io` over a shared [`World`].
#[derive(Debug, Clone)]
pub struct SimIo(pub Rc<RefCell<World>>);

/// A stream of a [`SimIo`].
#[derive(Debug)]
pub struct SimStream {
    world: Rc<RefCell<World>>,
    token: Token,
}

fn would_block() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "simulated: nothing now")
}

impl Stream for SimStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.world.borrow_mut();
        let (now, max_chunk) = (w.now, w.profile.max_chunk);
        let chunk = (w.rng.below(max_chunk as u64) as usize + 1).min(buf.len());
        let Some(c) = w.conns.get_mut(&self.token) else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "simulated: no such connection"));
        };
        let ready = c.to_client.front().is_some_and(|(due, _)| *due <= now);
        if ready {
            if let Some((_, bytes)) = c.to_client.front_mut() {
                let n = chunk.min(bytes.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                bytes.drain(..n);
                if bytes.is_empty() {
                    c.to_client.pop_front();
                }
                return Ok(n);
            }
        }
        match () {
            _ if c.closed_at.is_some_and(|t| t <= now) => {
                // Bytes due later than the close are lost with the connection.
                c.to_client.clear();
                Ok(0)
            }
            _ => Err(would_block()),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut w = self.world.borrow_mut();
        let now = w.now;
        let max_chunk = w.profile.max_chunk;
        let budget = w.rng.below(max_chunk as u64) as usize + 1;
        let Some(c) = w.conns.get_mut(&self.token) else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "simulated: no such connection"));
        };
        if c.closed_at.is_some_and(|t| t <= now) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "simulated: the broker closed the connection",
            ));
        }
        let mut n = 0;
        for b in bufs {
            let take = (budget - n).min(b.len());
            c.to_broker.extend_from_slice(&b[..take]);
            n += take;
            if n == budget {
                break;
            }
        }
        let token = self.token;
        w.deliver(token);
        Ok(n)
    }

    fn connected(&mut self) -> io::Result<bool> {
        let w = self.world.borrow();
        let Some(c) = w.conns.get(&self.token) else { return Ok(false) };
        match c.open_at {
            None => Err(io::Error::new(io::ErrorKind::ConnectionRefused, "simulated: connection refused")),
            Some(t) => Ok(t <= w.now),
        }
    }
}

impl Io for SimIo {
    type Stream = SimStream;

    fn connect(&mut self, addr: SocketAddr, token: Token, _: SocketOptions) -> io::Result<SimStream> {
        let mut w = self.0.borrow_mut();
        let node = match addr.ip() {
            IpAddr::V4(ip) if ip.octets()[..3] == [10, 0, 0] => i32::from(ip.octets()[3]),
            _ => return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, "simulated: unknown host")),
        };
        let latency = w.latency();
        let open_at = (!w.down.contains(&node)).then_some(w.now + latency);
        w.stats.connections += 1;
        w.conns.insert(
            token,
            Conn {
                node,
                open_at,
                to_broker: Vec::new(),
                to_client: VecDeque::new(),
                last_due: Duration::ZERO,
                closed_at: None,
                stalled: false,
                gone: false,
                wants_write: true,
            },
        );
        Ok(SimStream { world: Rc::clone(&self.0), token })
    }

    fn want_write(&mut self, _: &mut SimStream, token: Token, on: bool) -> io::Result<()> {
        if let Some(c) = self.0.borrow_mut().conns.get_mut(&token) {
            c.wants_write = on;
        }
        Ok(())
    }

    fn close(&mut self, stream: &mut SimStream) {
        self.0.borrow_mut().conns.remove(&stream.token);
    }

    fn poll(&mut self, _timeout: Duration, ready: &mut Vec<Readiness>) -> io::Result<()> {
        let w = self.0.borrow();
        let now = w.now;
        for (&token, c) in &w.conns {
            let connecting_done = c.open_at.map_or(true, |t| t <= now);
            let readable = c.to_client.front().is_some_and(|(t, _)| *t <= now)
                || c.closed_at.is_some_and(|t| t <= now)
                || c.open_at.is_none();
            let writable = c.wants_write && connecting_done;
            if readable || writable {
                ready.push(Readiness { token, readable, writable });
            }
        }
        Ok(())
    }

    fn resolve(
        &mut self,
        host: &str,
        port: u16,
        _canonical: bool,
    ) -> Option<Result<Vec<SocketAddr>, String>> {
        Some(match host.parse::<Ipv4Addr>() {
            Ok(ip) => Ok(vec![SocketAddr::new(IpAddr::V4(ip), port)]),
            Err(_) => Err("simulated: cannot resolve the host".into()),
        })
    }

    fn answers(&mut self) -> Vec<Answer> {
        Vec::new()
    }
}

/// A one-line account of a Produce answer's partition errors, for traces.
fn describe_answer(request: &[u8], answer: &[u8]) -> String {
    use crate::protocol::messages::produce::ProduceRequest;
    let api = request.get(..2).map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
    let version = request.get(2..4).map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
    let corr = request.get(4..8).map_or(-1, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if api != 0 {
        return format!("{} bytes", answer.len());
    }
    match crate::protocol::decode_response::<ProduceRequest>(answer.get(4..).unwrap_or(&[]), version, corr) {
        Ok(r) => r
            .responses
            .iter()
            .flat_map(|t| {
                t.partition_responses
                    .iter()
                    .map(|p| format!("p{} {:?} @{}", p.index, p.error_code, p.base_offset))
            })
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("undecodable: {e}"),
    }
}

/// For traces: a Produce request's batches (partition, producer id, epoch, first sequence, records).
fn describe_request(body: &[u8]) -> String {
    use crate::protocol::messages::produce::ProduceRequest;
    let Ok((header, r)) = crate::protocol::decode_request_header(body) else { return String::new() };
    if header.request_api_key != crate::protocol::ApiKey::PRODUCE {
        return String::new();
    }
    let Some(req) =
        crate::mock::MockCluster::parse_request_body::<ProduceRequest>(r, header.request_api_version)
    else {
        return "undecodable".into();
    };
    let mut out = Vec::new();
    for t in &req.topic_data {
        for p in &t.partition_data {
            let b = p.records.as_deref().unwrap_or(&[]);
            let be32 =
                |o: usize| b.get(o..o + 4).map_or(-1, |x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]));
            let pid = b
                .get(43..51)
                .map_or(-1, |x| i64::from_be_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]));
            let epoch = b.get(51..53).map_or(-1, |x| i16::from_be_bytes([x[0], x[1]]));
            out.push(format!("p{} pid {pid} e{epoch} seq {} n {}", p.index, be32(53), be32(57)));
        }
    }
    out.join(", ")
}
