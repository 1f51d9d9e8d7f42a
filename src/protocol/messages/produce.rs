//! Produce (key 0): writes record batches to partition leaders. kprod implements v3–v13, the whole range
//! of the Kafka 4.3.1 schema (v0–v2, the pre-record-batch-v2 versions, were removed in Kafka 4.0 and kprod
//! never needed them: it only writes record batch v2, which needs v3+). Flexible from v9.
//!
//! What changes between versions: v3 adds the transactional id and record batch v2; v4–v7 only widen the
//! set of errors and compressions; v5 adds the log start offset to the response; v8 adds per-record errors
//! and an error message; v9 is the first flexible version; v10 adds the `current_leader` and
//! `node_endpoints` tagged fields (KIP-951); v11–v12 only add error codes and transaction semantics
//! (KIP-890); v13 names topics by id instead of by name (KIP-516).
//!
//! A request with `acks` 0 gets no response from the broker (see [`ProduceRequest::expects_response`]).

use bytes::Bytes;

use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode, ProtocolError, Request};

crate::kafka_struct! {
    /// The records to produce to one partition.
    pub struct PartitionProduceData {
        /// The partition index; v0+.
        pub index: i32 => 0..,
        /// The record data (record batches, written verbatim); v0+, nullable v0+.
        #[cfg_attr(test, proptest(strategy = "crate::protocol::messages::testing::opt_bytes()"))]
        pub records: Option<Bytes> => 0..,
    }
}

crate::kafka_struct! {
    /// The partitions of one topic to produce to.
    pub struct TopicProduceData {
        /// The topic name; v0 to v12 (replaced by `topic_id` in v13).
        pub name: String => 0..=12,
        /// The topic id; v13+.
        pub topic_id: Uuid => 13..,
        /// Each partition to produce to; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<PartitionProduceData>()"))]
        pub partition_data: Vec<PartitionProduceData> => 0..,
    }
}

crate::kafka_struct! {
    /// ProduceRequest.
    pub struct ProduceRequest {
        /// The transactional id, or null if the producer is not transactional; v3+, nullable v3+, schema
        /// default null.
        pub transactional_id: Option<String> => 3..,
        /// The acknowledgments required before the broker answers: 0 (none, and no response at all), 1
        /// (the leader) or -1 (the full ISR); v0+.
        pub acks: i16 => 0..,
        /// The time to await a response in ms; v0+.
        pub timeout_ms: i32 => 0..,
        /// Each topic to produce to; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<TopicProduceData>()"))]
        pub topic_data: Vec<TopicProduceData> => 0..,
    }
}
crate::kafka_message!(ProduceRequest, ApiKey::PRODUCE, 3, 13, 9);

impl Request for ProduceRequest {
    type Response = ProduceResponse;
}

impl ProduceRequest {
    /// False when `acks` is 0: the broker then sends no response, and the caller must not wait for one.
    pub fn expects_response(&self) -> bool {
        self.acks != 0
    }
}

/// One partition of a [`ProduceFrame`]: its index and the length of its record batches, which are
/// written from their own buffer rather than copied into the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducePartition {
    /// The partition index.
    pub index: i32,
    /// The byte length of the partition's record data.
    pub records_len: usize,
}

/// One topic of a [`ProduceFrame`]: its name (v3–v12) and id (v13+) and its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceTopic<'a> {
    /// The topic name, written up to v12.
    pub name: &'a str,
    /// The topic id, written from v13.
    pub topic_id: Uuid,
    /// The partitions, in the order their record data will be written.
    pub partitions: Vec<ProducePartition>,
}

/// A Produce request frame split around its record data, so a sender can write the batches straight
/// from their buffers with one vectored write instead of copying them into a request buffer.
///
/// The frame on the wire is `head[..splits[0]]`, records 0, `head[splits[0]..splits[1]]`, records 1, ...,
/// `head[splits[n-1]..]`; the size prefix in `head[..4]` already counts the record bytes. The layout is the
/// same as [`ProduceRequest`]'s encoding with the records inline (a test checks it byte for byte).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceFrame {
    /// Everything except the record data, size prefix first.
    pub head: Vec<u8>,
    /// Where in `head` each partition's record data goes, in partition order.
    pub splits: Vec<usize>,
}

impl ProduceFrame {
    /// The frame's total size on the wire, record data and size prefix included.
    pub fn wire_len(&self, records_len: usize) -> usize {
        self.head.len() + records_len
    }

    /// Encodes the frame for a Produce request at `version` (3–13) into `self`, reusing its buffers.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &mut self,
        version: i16,
        correlation_id: i32,
        client_id: Option<&str>,
        transactional_id: Option<&str>,
        acks: i16,
        timeout_ms: i32,
        topics: &[ProduceTopic<'_>],
    ) -> Result<(), ProtocolError> {
        use crate::protocol::header::RequestHeader;
        use crate::protocol::primitives::{put_length, put_tagged_fields};
        use crate::protocol::Message;
        let cx = ProduceRequest::ctx(version)?;
        let out = &mut self.head;
        out.clear();
        self.splits.clear();
        let at = crate::protocol::frame::start_frame(out);
        let header = RequestHeader {
            request_api_key: ApiKey::PRODUCE,
            request_api_version: version,
            correlation_id,
            client_id: client_id.map(str::to_owned),
        };
        header.encode(out, cx.flexible)?;
        put_length(out, transactional_id.map(str::len), cx.flexible, false)?;
        if let Some(id) = transactional_id {
            out.extend_from_slice(id.as_bytes());
        }
        out.extend_from_slice(&acks.to_be_bytes());
        out.extend_from_slice(&timeout_ms.to_be_bytes());
        put_length(out, Some(topics.len()), cx.flexible, true)?;
        let mut records_total = 0usize;
        for t in topics {
            if version >= 13 {
                out.extend_from_slice(&t.topic_id.0);
            } else {
                put_length(out, Some(t.name.len()), cx.flexible, false)?;
                out.extend_from_slice(t.name.as_bytes());
            }
            put_length(out, Some(t.partitions.len()), cx.flexible, true)?;
            for p in &t.partitions {
                out.extend_from_slice(&p.index.to_be_bytes());
                put_length(out, Some(p.records_len), cx.flexible, true)?;
                self.splits.push(out.len());
                records_total = records_total.saturating_add(p.records_len);
                if cx.flexible {
                    put_tagged_fields(out, &[])?;
                }
            }
            if cx.flexible {
                put_tagged_fields(out, &[])?;
            }
        }
        if cx.flexible {
            put_tagged_fields(out, &[])?;
        }
        crate::protocol::frame::finish_split_frame(out, at, records_total)?;
        Ok(())
    }
}

crate::kafka_struct! {
    /// The index and message of a record that caused its batch to be dropped.
    pub struct BatchIndexAndErrorMessage {
        /// The batch index of the record that caused the batch to be dropped; v8+.
        pub batch_index: i32 => 8..,
        /// The error message of that record; v8+, nullable v8+, schema default null.
        pub batch_index_error_message: Option<String> => 8..,
    }
}

crate::kafka_struct! {
    /// A partition's current leader as the broker knows it (KIP-951).
    pub struct LeaderIdAndEpoch {
        /// The id of the current leader, or -1 if it is unknown; v10+, schema default -1.
        pub leader_id: i32 => 10..; default -1,
        /// The latest known leader epoch; v10+, schema default -1.
        pub leader_epoch: i32 => 10..; default -1,
    }
}

crate::kafka_struct! {
    /// The result of producing to one partition.
    pub struct PartitionProduceResponse {
        /// The partition index; v0+.
        pub index: i32 => 0..,
        /// The error code, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The offset of the first record written; v0+.
        pub base_offset: i64 => 0..,
        /// The broker's append time when the topic uses LogAppendTime, else -1; v2+, schema default -1.
        pub log_append_time_ms: i64 => 2..; default -1,
        /// The log start offset; v5+, schema default -1.
        pub log_start_offset: i64 => 5..; default -1,
        /// The batch indices of records that caused the batch to be dropped; v8+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<BatchIndexAndErrorMessage>()"))]
        pub record_errors: Vec<BatchIndexAndErrorMessage> => 8..,
        /// The message summarizing why the batch was dropped; v8+, nullable v8+, schema default null.
        pub error_message: Option<String> => 8..,
    }
    tagged {
        /// The leader the producer should use from now on; tag 0, v10+ (omitted when both ids are -1).
        pub current_leader: LeaderIdAndEpoch => (0, 10..),
    }
}

crate::kafka_struct! {
    /// The results for one topic.
    pub struct TopicProduceResponse {
        /// The topic name; v0 to v12 (replaced by `topic_id` in v13).
        pub name: String => 0..=12,
        /// The topic id; v13+.
        pub topic_id: Uuid => 13..,
        /// Each partition produced to; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<PartitionProduceResponse>()"))]
        pub partition_responses: Vec<PartitionProduceResponse> => 0..,
    }
}

crate::kafka_struct! {
    /// A broker endpoint, sent for the new leaders of partitions that failed with NOT_LEADER_OR_FOLLOWER.
    pub struct NodeEndpoint {
        /// The broker id; v10+.
        pub node_id: i32 => 10..,
        /// The broker hostname; v10+.
        pub host: String => 10..,
        /// The broker port; v10+.
        pub port: i32 => 10..,
        /// The rack of the broker, or null if it has none; v10+, nullable v10+, schema default null.
        pub rack: Option<String> => 10..,
    }
}

crate::kafka_struct! {
    /// ProduceResponse.
    pub struct ProduceResponse {
        /// The results, one per topic; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<TopicProduceResponse>()"))]
        pub responses: Vec<TopicProduceResponse> => 0..,
        /// Throttle time in ms due to a quota violation, or zero; v1+.
        pub throttle_time_ms: i32 => 1..,
    }
    tagged {
        /// Endpoints of the current leaders named in partition responses failing with
        /// NOT_LEADER_OR_FOLLOWER; tag 0, v10+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<NodeEndpoint>()"))]
        pub node_endpoints: Vec<NodeEndpoint> => (0, 10..),
    }
}
crate::kafka_message!(ProduceResponse, ApiKey::PRODUCE, 3, 13, 9);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::testing::roundtrip_all_versions;
    use crate::protocol::{Message, ProtocolError};
    use proptest::prelude::*;

    /// Arrays of nested structs are kept short so the nested property tests stay fast.
    pub(super) fn small_vec<T: Arbitrary>() -> impl Strategy<Value = Vec<T>> {
        proptest::collection::vec(any::<T>(), 0..4)
    }

    proptest! {
        #[test]
        fn request_roundtrip(m: ProduceRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: ProduceResponse) { roundtrip_all_versions(&m); }
    }

    proptest! {
        /// The split frame, with the record data put back, is byte-identical to the inline encoding.
        #[test]
        fn split_frame_matches_inline(m: ProduceRequest, v in 3i16..=13, corr: i32) {
            let mut inline = Vec::new();
            crate::protocol::encode_request(&mut inline, v, corr, Some("kprod"), &m).unwrap();
            let topics: Vec<ProduceTopic<'_>> = m.topic_data.iter().map(|t| ProduceTopic {
                name: &t.name,
                topic_id: t.topic_id,
                partitions: t.partition_data.iter().map(|p| ProducePartition {
                    index: p.index,
                    records_len: p.records.as_ref().map_or(0, |r| r.len()),
                }).collect(),
            }).collect();
            // The split form never writes null records.
            prop_assume!(m.topic_data.iter().all(|t| t.partition_data.iter().all(|p| p.records.is_some())));
            let mut f = ProduceFrame::default();
            f.encode(v, corr, Some("kprod"), m.transactional_id.as_deref(), m.acks, m.timeout_ms, &topics)
                .unwrap();
            let records: Vec<&[u8]> = m.topic_data.iter()
                .flat_map(|t| t.partition_data.iter().map(|p| p.records.as_deref().unwrap_or(&[])))
                .collect();
            let mut joined = Vec::new();
            let mut from = 0;
            for (split, r) in f.splits.iter().zip(&records) {
                joined.extend_from_slice(&f.head[from..*split]);
                joined.extend_from_slice(r);
                from = *split;
            }
            joined.extend_from_slice(&f.head[from..]);
            prop_assert_eq!(f.wire_len(records.iter().map(|r| r.len()).sum()), joined.len());
            prop_assert_eq!(joined, inline);
        }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    fn request(records: &[u8]) -> ProduceRequest {
        ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 1000,
            topic_data: vec![TopicProduceData {
                name: "t".into(),
                topic_id: Uuid([0x11; 16]),
                partition_data: vec![PartitionProduceData {
                    index: 2,
                    records: Some(Bytes::copy_from_slice(records)),
                }],
            }],
        }
    }

    #[test]
    fn request_v3_golden() {
        let want = b"\xff\xff\xff\xff\x00\x00\x03\xe8\
            \x00\x00\x00\x01\x00\x01t\
            \x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x01\x02\x03";
        // null int16 string (-1), acks -1, timeout 1000, int32 topic count, int16-length name (the topic id
        // does not exist before v13), int32 partition count, index 2, int32-length records.
        assert_eq!(encode(&request(&[1, 2, 3]), 3), want);
        assert_eq!(ProduceRequest::decode_body(want, 3).unwrap().topic_data[0].topic_id, Uuid::ZERO);
    }

    #[test]
    fn request_v9_golden() {
        let mut m = request(&[1, 2, 3]);
        m.transactional_id = Some("tx".into());
        let want = b"\x03tx\xff\xff\x00\x00\x03\xe8\
            \x02\x02t\
            \x02\x00\x00\x00\x02\x04\x01\x02\x03\x00\
            \x00\x00";
        // Compact strings, arrays and records (length + 1 as uvarint); each struct ends with an empty
        // tagged-field section (partition, topic, request).
        assert_eq!(encode(&m, 9), want);
    }

    #[test]
    fn request_v13_golden() {
        let mut want = b"\x00\xff\xff\x00\x00\x03\xe8\x02".to_vec();
        want.extend_from_slice(&[0x11; 16]); // topic id instead of the name
        want.extend_from_slice(b"\x02\x00\x00\x00\x02\x04\x01\x02\x03\x00\x00\x00");
        assert_eq!(encode(&request(&[1, 2, 3]), 13), want);
        let back = ProduceRequest::decode_body(&want, 13).unwrap();
        assert_eq!(back.topic_data[0].name, "", "no name in v13");
        assert_eq!(back.topic_data[0].topic_id, Uuid([0x11; 16]));
    }

    #[test]
    fn records_are_written_verbatim() {
        // A payload long enough that its compact length (301) needs a two-byte uvarint.
        let payload: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        let m = request(&payload);

        // v3: the partition entry (last in the request) is index, int32 length, then the payload.
        let v3 = encode(&m, 3);
        let mut entry = vec![0, 0, 0, 2, 0, 0, 0x01, 0x2c];
        entry.extend_from_slice(&payload);
        assert!(v3.ends_with(&entry), "v3 partition entry");

        // v9: index, uvarint length + 1 (301 = 0xad 0x02), the payload, then the partition's tagged-field
        // section; the topic's and the request's empty tagged-field sections follow.
        let v9 = encode(&m, 9);
        let mut entry = vec![0, 0, 0, 2, 0xad, 0x02];
        entry.extend_from_slice(&payload);
        entry.push(0x00);
        assert!(v9.ends_with(&[&entry[..], &[0x00, 0x00]].concat()), "v9 partition entry");

        for (v, bytes) in [(3, &v3), (9, &v9)] {
            let back = ProduceRequest::decode_body(bytes, v).unwrap();
            assert_eq!(back.topic_data[0].partition_data[0].records.as_deref(), Some(&payload[..]));
        }
    }

    #[test]
    fn null_records() {
        let mut m = request(&[]);
        m.topic_data[0].partition_data[0].records = None;
        assert!(encode(&m, 3).ends_with(b"\x00\x00\x00\x02\xff\xff\xff\xff"));
        assert!(encode(&m, 9).ends_with(b"\x00\x00\x00\x02\x00\x00\x00\x00"));
        for v in [3, 9] {
            let back = ProduceRequest::decode_body(&encode(&m, v), v).unwrap();
            assert_eq!(back.topic_data[0].partition_data[0], m.topic_data[0].partition_data[0]);
        }
    }

    #[test]
    fn response_v3_golden_decode() {
        // One topic "t", partition 2, error 0, base offset 5, append time -1; throttle 7.
        let body = b"\x00\x00\x00\x01\x00\x01t\x00\x00\x00\x01\
            \x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\xff\xff\xff\xff\xff\xff\xff\xff\
            \x00\x00\x00\x07";
        let r = ProduceResponse::decode_body(body, 3).unwrap();
        assert_eq!(r.throttle_time_ms, 7);
        let p = &r.responses[0].partition_responses[0];
        assert_eq!((p.index, p.error_code, p.base_offset), (2, ErrorCode(0), 5));
        assert_eq!((p.log_append_time_ms, p.log_start_offset), (-1, -1));
        assert_eq!(encode(&r, 3), body);
    }

    #[test]
    fn response_v10_tagged_fields_golden() {
        let r = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t".into(),
                topic_id: Uuid::ZERO,
                partition_responses: vec![PartitionProduceResponse {
                    index: 0,
                    error_code: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    base_offset: -1,
                    log_append_time_ms: -1,
                    log_start_offset: -1,
                    record_errors: vec![],
                    error_message: None,
                    current_leader: LeaderIdAndEpoch { leader_id: 3, leader_epoch: 9 },
                }],
            }],
            throttle_time_ms: 0,
            node_endpoints: vec![NodeEndpoint { node_id: 3, host: "b".into(), port: 9092, rack: None }],
        };
        // Topic "t", partition 0, error 6.
        let mut want = b"\x02\x02t\x02\x00\x00\x00\x00\x00\x06".to_vec();
        // Base offset, append time, log start offset: all -1.
        want.extend_from_slice(&[0xff; 24]);
        // Empty record_errors, null error_message.
        want.extend_from_slice(b"\x01\x00");
        // Partition tagged fields: 1 field, tag 0, 9 bytes (leader 3, epoch 9, empty tag section).
        want.extend_from_slice(b"\x01\x00\x09\x00\x00\x00\x03\x00\x00\x00\x09\x00");
        // Topic tagged fields, then the throttle time.
        want.extend_from_slice(b"\x00\x00\x00\x00\x00");
        // Response tagged fields: 1 field, tag 0, 13 bytes (compact array of one endpoint).
        want.extend_from_slice(b"\x01\x00\x0d\x02\x00\x00\x00\x03\x02b\x00\x00\x23\x84\x00\x00");
        assert_eq!(encode(&r, 10), want);
        assert_eq!(ProduceResponse::decode_body(&want, 10).unwrap(), r);

        // In v9 the tagged fields do not exist: they are neither written nor read back.
        let v9 = encode(&r, 9);
        let back = ProduceResponse::decode_body(&v9, 9).unwrap();
        assert!(back.node_endpoints.is_empty());
        assert_eq!(back.responses[0].partition_responses[0].current_leader, LeaderIdAndEpoch::default());

        // An unknown leader (-1, -1) is the default and is omitted.
        let mut unknown = r.clone();
        unknown.responses[0].partition_responses[0].current_leader = LeaderIdAndEpoch::default();
        unknown.node_endpoints.clear();
        assert_eq!(encode(&unknown, 10), encode(&unknown, 9));
    }

    #[test]
    fn acks_zero_expects_no_response() {
        let mut m = request(&[]);
        assert!(m.expects_response());
        m.acks = 0;
        assert!(!m.expects_response());
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [0, 2, 14] {
            let e = request(&[]).encode_body(&mut out, v).unwrap_err();
            let want =
                ProtocolError::UnsupportedVersion { api: ApiKey::PRODUCE, version: v, min: 3, max: 13 };
            assert_eq!(e, want);
            let e = ProduceResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
