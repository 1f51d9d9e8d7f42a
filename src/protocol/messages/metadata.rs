//! Metadata (key 3): the cluster's brokers and, for each requested topic, its partitions and their
//! leaders. Schema versions 0–13 (none removed in Kafka 4.0); flexible from v9.
//!
//! What changes between versions: v1 makes the topics array nullable (null = all topics; in v0 an *empty*
//! array means all topics) and adds rack, controller id and `is_internal`; v2 the cluster id; v3 the
//! throttle time; v4 `allow_auto_topic_creation`; v5 offline replicas; v7 the partition leader epoch; v8
//! authorized operations; v10 topic ids (not served by brokers before v12); v11 drops the cluster
//! authorized operations; v12 lets a request name topics by id (null name); v13 adds a top-level error
//! code to the response.
//!
//! Nullability is per version in the schema (topics array v1+, request topic name v10+, response topic
//! name v12+); the codec writes whatever the struct holds, so callers must not put a null where the
//! version they encode at does not allow one.

use crate::protocol::primitives::Uuid;
use crate::protocol::{ApiKey, ErrorCode, Request};

crate::kafka_struct! {
    /// A topic to fetch metadata for.
    pub struct MetadataRequestTopic {
        /// The topic id; v10+ (brokers only look at it from v12).
        pub topic_id: Uuid => 10..,
        /// The topic name; v0+, nullable v10+ (null when the topic is named by `topic_id`).
        pub name: Option<String> => 0..,
    }
}

crate::kafka_struct! {
    /// MetadataRequest.
    pub struct MetadataRequest {
        /// The topics to fetch metadata for; v0+, nullable v1+. Null means all topics (v1+); in v0 an empty
        /// array means all topics, and from v1 an empty array means none.
        #[cfg_attr(test, proptest(strategy = "tests::small_opt_vec::<MetadataRequestTopic>()"))]
        pub topics: Option<Vec<MetadataRequestTopic>> => 0..,
        /// Whether the broker may auto-create requested topics that do not exist (if it is configured to);
        /// v4+, schema default true.
        pub allow_auto_topic_creation: bool => 4..; default true,
        /// Whether to include cluster authorized operations; v8 to v10.
        pub include_cluster_authorized_operations: bool => 8..=10,
        /// Whether to include topic authorized operations; v8+.
        pub include_topic_authorized_operations: bool => 8..,
    }
}
// Only the mock decodes requests. Before v10 a topic is its name alone: 40 bytes in memory for 3 on the
// wire with a one-character name (13.7×).
crate::kafka_message!(MetadataRequest, ApiKey::METADATA, 0, 13, 9; budget 16);

impl Request for MetadataRequest {
    type Response = MetadataResponse;
}

crate::kafka_struct! {
    /// A broker in the cluster.
    pub struct MetadataResponseBroker {
        /// The broker id; v0+.
        pub node_id: i32 => 0..,
        /// The broker hostname; v0+.
        pub host: String => 0..,
        /// The broker port; v0+.
        pub port: i32 => 0..,
        /// The rack of the broker, or null if it has none; v1+, nullable v1+, schema default null.
        pub rack: Option<String> => 1..,
    }
}

crate::kafka_struct! {
    /// A partition of a topic.
    pub struct MetadataResponsePartition {
        /// The partition error, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The partition index; v0+.
        pub partition_index: i32 => 0..,
        /// The id of the leader broker; v0+.
        pub leader_id: i32 => 0..,
        /// The leader epoch of this partition; v7+, schema default -1.
        pub leader_epoch: i32 => 7..; default -1,
        /// All nodes that host this partition; v0+.
        pub replica_nodes: Vec<i32> => 0..,
        /// The nodes in sync with the leader for this partition; v0+.
        pub isr_nodes: Vec<i32> => 0..,
        /// The offline replicas of this partition; v5+.
        pub offline_replicas: Vec<i32> => 5..,
    }
}

crate::kafka_struct! {
    /// A topic in the response.
    pub struct MetadataResponseTopic {
        /// The topic error, or 0 if there was no error; v0+.
        pub error_code: ErrorCode => 0..,
        /// The topic name; v0+, nullable v12+ (null for a non-existing topic queried by id, never null when
        /// `error_code` is 0).
        pub name: Option<String> => 0..,
        /// The topic id; v10+ (zero for a non-existing topic queried by name, never zero when `error_code`
        /// is 0).
        pub topic_id: Uuid => 10..,
        /// True if the topic is internal; v1+, schema default false.
        pub is_internal: bool => 1..,
        /// Each partition in the topic; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<MetadataResponsePartition>()"))]
        pub partitions: Vec<MetadataResponsePartition> => 0..,
        /// Bitfield of the operations authorized on this topic; v8+, schema default -2147483648.
        pub topic_authorized_operations: i32 => 8..; default i32::MIN,
    }
}

crate::kafka_struct! {
    /// MetadataResponse.
    pub struct MetadataResponse {
        /// Throttle time in ms due to a quota violation, or zero; v3+.
        pub throttle_time_ms: i32 => 3..,
        /// The brokers present in the cluster; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<MetadataResponseBroker>()"))]
        pub brokers: Vec<MetadataResponseBroker> => 0..,
        /// The cluster id the responding broker belongs to; v2+, nullable v2+, schema default null.
        pub cluster_id: Option<String> => 2..,
        /// The id of the controller broker; v1+, schema default -1.
        pub controller_id: i32 => 1..; default -1,
        /// Each topic in the response; v0+.
        #[cfg_attr(test, proptest(strategy = "tests::small_vec::<MetadataResponseTopic>()"))]
        pub topics: Vec<MetadataResponseTopic> => 0..,
        /// Bitfield of the operations authorized on the cluster; v8 to v10, schema default -2147483648.
        pub cluster_authorized_operations: i32 => 8..=10; default i32::MIN,
        /// The top-level error code, or 0 if there was no error; v13+.
        pub error_code: ErrorCode => 13..,
    }
}
// A v0 topic that does not exist is its error, name and empty partitions: 72 bytes in memory for 8 on the
// wire (9×, 8.1× with a one-character name), so every well-formed response fits 10×.
crate::kafka_message!(MetadataResponse, ApiKey::METADATA, 0, 13, 9; budget 10);

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

    /// A nullable short array.
    pub(super) fn small_opt_vec<T: Arbitrary>() -> impl Strategy<Value = Option<Vec<T>>> {
        proptest::option::of(small_vec())
    }

    proptest! {
        #[test]
        fn request_roundtrip(m: MetadataRequest) { roundtrip_all_versions(&m); }
        #[test]
        fn response_roundtrip(m: MetadataResponse) { roundtrip_all_versions(&m); }
    }

    fn encode(m: &impl Message, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        m.encode_body(&mut out, version).unwrap();
        out
    }

    fn topic(name: &str) -> MetadataRequestTopic {
        MetadataRequestTopic { name: Some(name.into()), ..Default::default() }
    }

    #[test]
    fn request_v0_golden() {
        let m = MetadataRequest { topics: Some(vec![topic("t")]), ..Default::default() };
        // int32 array count 1, int16 string length 1, "t"; nothing else exists in v0.
        assert_eq!(encode(&m, 0), b"\x00\x00\x00\x01\x00\x01t");
    }

    #[test]
    fn request_v4_all_topics_golden() {
        let m = MetadataRequest::default();
        // Null int32 array (-1), then allow_auto_topic_creation = true (its schema default).
        assert_eq!(encode(&m, 4), b"\xff\xff\xff\xff\x01");
        assert_eq!(MetadataRequest::decode_body(b"\xff\xff\xff\xff\x01", 4).unwrap(), m);
    }

    #[test]
    fn request_v10_golden() {
        let m = MetadataRequest {
            topics: Some(vec![topic("t")]),
            allow_auto_topic_creation: false,
            include_cluster_authorized_operations: true,
            include_topic_authorized_operations: true,
        };
        let mut want = vec![0x02]; // compact array: 1 element + 1
        want.extend_from_slice(&[0; 16]); // topic_id (zero)
        want.extend_from_slice(b"\x02t"); // compact nullable string "t"
        want.push(0x00); // topic's tagged fields
        want.extend_from_slice(&[0x00, 0x01, 0x01]); // allow_auto, include_cluster (v8-10), include_topic
        want.push(0x00); // top-level tagged fields
        assert_eq!(encode(&m, 10), want);
    }

    #[test]
    fn request_v12_by_topic_id_golden() {
        let id = Uuid([0xab; 16]);
        let m = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic { topic_id: id, name: None }]),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: true, // not in v12: must not be written
            include_topic_authorized_operations: false,
        };
        let mut want = vec![0x02];
        want.extend_from_slice(&[0xab; 16]);
        want.extend_from_slice(&[0x00, 0x00]); // null compact string, topic tagged fields
        want.extend_from_slice(&[0x01, 0x00, 0x00]); // allow_auto, include_topic, tagged fields
        assert_eq!(encode(&m, 12), want);
        let back = MetadataRequest::decode_body(&want, 12).unwrap();
        assert!(!back.include_cluster_authorized_operations);
        assert_eq!(back.topics, m.topics);
    }

    #[test]
    fn response_v0_golden_decode() {
        // One broker (1, "h", 9092); one topic "t" with one partition 0 led by 1, replicas [1], isr [1].
        let body = b"\x00\x00\x00\x01\x00\x00\x00\x01\x00\x01h\x00\x00\x23\x84\
            \x00\x00\x00\x01\x00\x00\x00\x01t\
            \x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\
            \x00\x00\x00\x01\x00\x00\x00\x01";
        let r = MetadataResponse::decode_body(body, 0).unwrap();
        assert_eq!(r.brokers.len(), 1);
        assert_eq!((r.brokers[0].node_id, r.brokers[0].host.as_str(), r.brokers[0].port), (1, "h", 9092));
        assert_eq!(r.controller_id, -1, "absent in v0: schema default");
        assert_eq!(r.topics[0].name.as_deref(), Some("t"));
        let p = &r.topics[0].partitions[0];
        assert_eq!((p.partition_index, p.leader_id, p.leader_epoch), (0, 1, -1));
        assert_eq!((p.replica_nodes.as_slice(), p.isr_nodes.as_slice()), (&[1][..], &[1][..]));
        assert_eq!(r.topics[0].topic_authorized_operations, i32::MIN);
        assert_eq!(encode(&r, 0), body);
    }

    #[test]
    fn response_v13_golden() {
        let r = MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![MetadataResponseBroker { node_id: 1, host: "h".into(), port: 9092, rack: None }],
            cluster_id: Some("c".into()),
            controller_id: 1,
            topics: vec![],
            cluster_authorized_operations: 7, // v8-10 only
            error_code: ErrorCode(0),
        };
        let want = b"\x00\x00\x00\x00\x02\x00\x00\x00\x01\x02h\x00\x00\x23\x84\x00\x00\
            \x02c\x00\x00\x00\x01\x01\x00\x00\x00";
        assert_eq!(encode(&r, 13), want);
    }

    #[test]
    fn unsupported_versions_are_errors() {
        let mut out = Vec::new();
        for v in [-1, 14] {
            let e = MetadataRequest::default().encode_body(&mut out, v).unwrap_err();
            let want =
                ProtocolError::UnsupportedVersion { api: ApiKey::METADATA, version: v, min: 0, max: 13 };
            assert_eq!(e, want);
            let e = MetadataResponse::decode_body(&[], v).unwrap_err();
            assert!(matches!(e, ProtocolError::UnsupportedVersion { .. }));
        }
        assert!(out.is_empty());
    }
}
