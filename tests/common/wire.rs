//! A minimal blocking Kafka connection for codec interop tests: one request at a time over plain TCP,
//! using only kprod's codec. (The producer's real connection is the mio-based sender.)
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use kprod::protocol::{decode_response, encode_request, frame, Request};

/// A blocking connection to one broker.
pub struct Conn {
    stream: TcpStream,
    next_id: i32,
}

impl Conn {
    /// Connects to `addr` (`host:port`).
    pub fn connect(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { stream, next_id: 1 }
    }

    /// Sends `body` at `version` and returns the raw response frame body (header included).
    pub fn roundtrip_raw<R: Request>(&mut self, version: i16, body: &R) -> (i32, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut out = Vec::new();
        encode_request(&mut out, version, id, Some("kprod-interop"), body).unwrap();
        self.stream.write_all(&out).unwrap();
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).unwrap();
        let n = i32::from_be_bytes(len);
        assert!(n >= 0 && (n as usize) < frame::DEFAULT_MAX_FRAME, "bad frame size {n}");
        let mut buf = vec![0u8; n as usize];
        self.stream.read_exact(&mut buf).unwrap();
        (id, buf)
    }

    /// Sends `body` at `version` and decodes the response.
    pub fn call<R: Request>(&mut self, version: i16, body: &R) -> R::Response {
        let (id, buf) = self.roundtrip_raw(version, body);
        decode_response::<R>(&buf, version, id)
            .unwrap_or_else(|e| panic!("decode {} v{version} response: {e}", R::API_KEY))
    }
}
