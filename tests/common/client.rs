//! A small blocking Kafka client for tests, built only on kprod's codec: one request at a time (or
//! pipelined with `send`/`recv`) over plain TCP, plus helpers to build and send produce requests. The
//! producer's real connection is the mio-based sender; this exists so tests can speak to real Kafka and
//! to the mock cluster byte for byte.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use kprod::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic, MetadataResponse};
use kprod::protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kprod::protocol::primitives::Uuid;
use kprod::protocol::record::{BatchParams, RecordBatchWriter, NO_HEADERS};
use kprod::protocol::{decode_response, encode_request, frame, Request};

// ---------------------------------------------------------------------------------------------------
// A minimal blocking client

pub struct Client {
    /// The socket, for tests that write raw bytes.
    pub stream: TcpStream,
    next_id: i32,
}

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream, next_id: 1 }
    }

    /// Sends a request without waiting; returns its correlation id.
    pub fn send<R: Request>(&mut self, version: i16, body: &R) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        let mut out = Vec::new();
        encode_request(&mut out, version, id, Some("mock-test"), body).unwrap();
        self.stream.write_all(&out).unwrap();
        id
    }

    /// Reads one response frame body; an error when the connection closed.
    pub fn read_frame(&mut self) -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let n = frame::frame_len(&len, frame::DEFAULT_MAX_FRAME).unwrap();
        assert!(n.is_none() || n == Some(0));
        let mut buf = vec![0u8; i32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut buf)?;
        Ok(buf)
    }

    pub fn recv<R: Request>(&mut self, version: i16, id: i32) -> R::Response {
        let buf = self.read_frame().unwrap_or_else(|e| panic!("{} response: {e}", R::API_KEY));
        decode_response::<R>(&buf, version, id).unwrap()
    }

    pub fn call<R: Request>(&mut self, version: i16, body: &R) -> R::Response {
        let id = self.send(version, body);
        self.recv::<R>(version, id)
    }

    /// True when the broker closed the connection (reads hit end of file or a reset).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        !matches!(self.stream.read(&mut b), Ok(n) if n > 0)
    }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/// An ApiVersions request that names the client, as v3+ must (KIP-511: Kafka answers an empty or
/// malformed name with INVALID_REQUEST and no API).
pub fn hello() -> kprod::protocol::messages::api_versions::ApiVersionsRequest {
    kprod::protocol::messages::api_versions::ApiVersionsRequest {
        client_software_name: "kprod-test".into(),
        client_software_version: "1.0".into(),
        ..Default::default()
    }
}

#[derive(Clone, Copy)]
pub struct Producer {
    /// Producer id.
    pub id: i64,
    /// Producer epoch.
    pub epoch: i16,
}

pub const NONE: Producer = Producer { id: -1, epoch: -1 };

pub fn batch(p: Producer, seq: i32, transactional: bool, values: &[&str]) -> Bytes {
    let params = BatchParams {
        producer_id: p.id,
        producer_epoch: p.epoch,
        base_sequence: if p.id >= 0 { seq } else { -1 },
        is_transactional: transactional,
        base_timestamp: super::recent_base_ts(),
        ..BatchParams::default()
    };
    let mut w = RecordBatchWriter::new(Vec::new(), params);
    for (i, v) in values.iter().enumerate() {
        let key = format!("k{i}");
        let ts = super::recent_base_ts() + i as i64;
        if i == 0 {
            w.append(ts, Some(key.as_bytes()), Some(v.as_bytes()), &[("h", Some(&b"x"[..]))]).unwrap();
        } else {
            w.append(ts, Some(key.as_bytes()), Some(v.as_bytes()), NO_HEADERS).unwrap();
        }
    }
    Bytes::from(w.seal(None, &mut Vec::new()).unwrap())
}

pub fn produce_req(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks,
        timeout_ms: 5000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            topic_id: Uuid::ZERO,
            partition_data: vec![PartitionProduceData { index: partition, records: Some(records) }],
        }],
    }
}

pub fn first(r: &ProduceResponse) -> &PartitionProduceResponse {
    &r.responses[0].partition_responses[0]
}

pub fn produce(c: &mut Client, topic: &str, partition: i32, records: Bytes) -> PartitionProduceResponse {
    first(&c.call(9, &produce_req(topic, partition, -1, records))).clone()
}

pub fn metadata(c: &mut Client, version: i16, topics: Option<&[&str]>) -> MetadataResponse {
    let req = MetadataRequest {
        topics: topics.map(|ts| {
            ts.iter()
                .map(|t| MetadataRequestTopic { name: Some((*t).into()), ..Default::default() })
                .collect()
        }),
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    c.call(version, &req)
}
