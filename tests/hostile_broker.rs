//! A hand-written hostile broker on a socket: a proxy in front of a one-broker mock cluster that
//! forwards requests, advertises itself in Metadata, and replaces Produce responses with what a hostile
//! broker might send — a 60 MiB frame whose arrays claim one element per byte (it made the producer
//! ask for ~5.5 GB and abort), a size prefix of 60 MiB followed by a trickle, a frame of garbage.
//! A counting global allocator measures the peak heap while each arrives: it must stay within a small
//! multiple of the bytes actually received, and every record still gets exactly one outcome.
#![cfg(all(feature = "mock", feature = "unstable"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::ledger::{Expect, Ledger};
use kprod::mock::MockCluster;
use kprod::protocol::messages::metadata::MetadataRequest;
use kprod::protocol::{decode_request_header, decode_response, encode_response, ApiKey};
use kprod::{Producer, ProducerConfig};
use parking_lot::Mutex;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: delegates to the system allocator and only updates atomics, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What the proxy sends instead of the next Produce response.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// The response header, then 60 MiB of bytes that claim one array element per byte.
    ClaimsPerByte,
    /// A size prefix announcing 60 MiB, then 100 bytes, then silence (the connection stays open).
    Trickle,
    /// A 1 MiB frame of 0xff after the correlation id.
    Garbage,
}

const SIXTY_MIB: usize = 60 << 20;

fn hostile_frame(h: Hostile, correlation_id: i32) -> Vec<u8> {
    match h {
        Hostile::ClaimsPerByte => {
            // Produce v9+ is flexible: header tagged fields (0), then the compact responses array whose
            // length (a varint n + 1) claims as many topics as there are bytes left; each "topic" is
            // 0x01 bytes (a one-byte compact name, an empty partition array...).
            let mut body = correlation_id.to_be_bytes().to_vec();
            body.push(0);
            // (Fewer than the bytes left, so a count check alone does not refuse it.)
            let mut n = (SIXTY_MIB as u64) - 16 + 1;
            while n >= 0x80 {
                body.push((n as u8) | 0x80);
                n >>= 7;
            }
            body.push(n as u8);
            body.resize(SIXTY_MIB, 0x01);
            let mut out = (body.len() as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            out
        }
        Hostile::Trickle => {
            let mut out = (SIXTY_MIB as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&correlation_id.to_be_bytes());
            out.extend_from_slice(&[0u8; 96]);
            out
        }
        Hostile::Garbage => {
            let mut body = correlation_id.to_be_bytes().to_vec();
            body.resize(1 << 20, 0xff);
            let mut out = (body.len() as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            out
        }
    }
}

fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(len)).ok()?];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The proxy: listens on its own port, forwards each connection to the mock broker, advertises itself
/// in Metadata, and answers the next Produce requests with the queued hostile frames.
struct Proxy {
    port: u16,
    queued: Arc<Mutex<Vec<Hostile>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let queued: Arc<Mutex<Vec<Hostile>>> = Arc::default();
        let q = Arc::clone(&queued);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(&upstream) else { return };
                let q = Arc::clone(&q);
                thread::spawn(move || serve(client, server, port, &q));
            }
        });
        Proxy { port, queued }
    }
}

fn serve(client: TcpStream, server: TcpStream, port: u16, queued: &Mutex<Vec<Hostile>>) {
    // Correlation id -> (api key, version) of requests forwarded, for the responses coming back.
    let asked: Arc<Mutex<HashMap<i32, (ApiKey, i16)>>> = Arc::default();
    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = Arc::clone(&asked);
    thread::spawn(move || {
        while let Some(body) = read_frame(&mut c_in) {
            if let Ok((h, _)) = decode_request_header(&body) {
                up.lock().insert(h.correlation_id, (h.request_api_key, h.request_api_version));
            }
            if s_out.write_all(&frame(&body)).is_err() {
                break;
            }
        }
        let _ = s_out.shutdown(Shutdown::Both);
    });
    let (mut s_in, mut c_out) = (server, client);
    while let Some(body) = read_frame(&mut s_in) {
        let correlation = i32::from_be_bytes(body[..4].try_into().unwrap());
        let Some((api, version)) = asked.lock().remove(&correlation) else { break };
        let out = match api {
            ApiKey::METADATA => {
                let mut m = decode_response::<MetadataRequest>(&body, version, correlation).unwrap();
                for b in &mut m.brokers {
                    b.port = i32::from(port);
                }
                let mut out = Vec::new();
                encode_response(&mut out, version, correlation, &m).unwrap();
                out
            }
            ApiKey::PRODUCE if !queued.lock().is_empty() => {
                let h = queued.lock().remove(0);
                let out = hostile_frame(h, correlation);
                if matches!(h, Hostile::Trickle) {
                    let _ = c_out.write_all(&out);
                    // Silence: the producer's request timeout ends it.
                    thread::sleep(Duration::from_secs(3));
                    break;
                }
                out
            }
            _ => frame(&body),
        };
        if c_out.write_all(&out).is_err() {
            break;
        }
    }
    let _ = c_out.shutdown(Shutdown::Both);
}

/// Each hostile answer, one after the other (one test, so the allocator's peak is this scenario's).
#[test]
fn hostile_produce_responses_cost_memory_only_for_bytes_received() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    let proxy = Proxy::start(cluster.broker_address(1).unwrap().to_string());
    let config = ProducerConfig::from_properties([
        ("bootstrap.servers", format!("127.0.0.1:{}", proxy.port)),
        ("linger.ms", "0".into()),
        ("request.timeout.ms", "1500".into()),
        ("retry.backoff.ms", "10".into()),
    ])
    .unwrap();
    let p = Producer::new(config).unwrap();
    let ledger = Ledger::new();
    ledger.send_n(&p, "t", Some(0), 1);
    ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), Duration::from_secs(20));
    for (h, bound) in [
        // The frame itself is 60 MiB: buffered and copied out once; its claim is refused by the decode
        // budget before anything is reserved for it.
        (Hostile::ClaimsPerByte, 3 * SIXTY_MIB),
        // Only 100 bytes arrive: the buffer must not be sized to the 60 MiB the prefix claims.
        (Hostile::Trickle, 8 << 20),
        (Hostile::Garbage, 8 << 20),
    ] {
        proxy.queued.lock().push(h);
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        ledger.send_n(&p, "t", Some(0), 1);
        ledger.check_stored(&p, &cluster, Expect::exactly_once_in_order(), Duration::from_secs(30));
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        println!("{h:?}: peak heap growth {peak} bytes");
        assert!(peak < bound, "{h:?}: the heap grew by {peak} bytes (bound {bound})");
        assert!(proxy.queued.lock().is_empty(), "{h:?} was sent");
    }
}
