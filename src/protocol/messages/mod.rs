//! Request and response bodies, one module per API, named after Kafka's message schemas.
//!
//! Each module declares its structs with [`kafka_struct!`](crate::kafka_struct) (field version ranges
//! and tagged fields come from the schema) and implements [`Message`](super::Message) with the version
//! range kprod implements.

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod api_versions;
pub mod end_txn;
pub mod find_coordinator;
pub mod get_telemetry_subscriptions;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
pub mod push_telemetry;
pub mod sasl;
pub mod txn_offset_commit;

pub use api_versions::{ApiVersionsRequest, ApiVersionsResponse};

#[cfg(test)]
#[allow(dead_code)] // strategies are used by the message modules' property tests
pub(crate) mod testing {
    //! Shared property checks for message codecs.
    use crate::protocol::{Message, Reader, Wire};
    use bytes::Bytes;
    use proptest::prelude::*;

    /// Strategy for `Bytes` fields (use `#[cfg_attr(test, proptest(strategy = "...::bytes()"))]`).
    pub fn bytes() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from)
    }

    /// Strategy for nested array fields: 0–2 elements keeps nested property tests fast.
    pub fn small_vec<T: Arbitrary>() -> impl Strategy<Value = Vec<T>> {
        proptest::collection::vec(any::<T>(), 0..3)
    }

    /// Strategy for `Option<Bytes>` fields.
    pub fn opt_bytes() -> impl Strategy<Value = Option<Bytes>> {
        proptest::option::of(bytes())
    }

    /// For every implemented version: encode → decode → encode gives the same bytes, the decoded value
    /// re-decodes equal, and decoding truncated input fails cleanly instead of panicking.
    pub fn roundtrip_all_versions<M: Message + PartialEq + std::fmt::Debug>(m: &M) {
        for v in M::MIN_VERSION..=M::MAX_VERSION {
            let mut a = Vec::new();
            m.encode_body(&mut a, v).unwrap();
            assert!(a.len() >= M::min_encoded_size(M::ctx(v).unwrap()), "v{v} encodes below its minimum");
            let d = M::decode_body(&a, v).unwrap_or_else(|e| panic!("decode v{v}: {e}"));
            let mut b = Vec::new();
            d.encode_body(&mut b, v).unwrap();
            assert_eq!(a, b, "re-encoding v{v} differs");
            assert_eq!(M::decode_body(&b, v).unwrap(), d);
            for cut in [a.len() / 2, a.len().saturating_sub(1)] {
                if cut < a.len() {
                    let mut r = Reader::new(&a[..cut]);
                    let cx = M::ctx(v).unwrap();
                    assert!(M::decode(&mut r, cx).is_err() || !r.is_empty() || cut == a.len());
                }
            }
        }
    }

    /// For every version of `M`: `T::min_encoded_size` is exactly the size of `T::default()` (empty
    /// strings and arrays, nulls and omitted tagged fields are each type's smallest encoding) and at most
    /// the size of arbitrary values, i.e. a true lower bound that array decoding may divide by.
    pub fn min_size_is_exact<M: Message, T: Wire + Default + Arbitrary>() {
        use proptest::test_runner::{Config, TestRunner};
        for v in M::MIN_VERSION..=M::MAX_VERSION {
            let cx = M::ctx(v).unwrap();
            let mut out = Vec::new();
            T::default().encode(&mut out, cx).unwrap();
            assert_eq!(out.len(), T::min_encoded_size(cx), "{} v{v} default", std::any::type_name::<T>());
            let mut runner = TestRunner::new(Config { cases: 32, ..Config::default() });
            runner
                .run(&any::<T>(), |t| {
                    let mut out = Vec::new();
                    t.encode(&mut out, cx).unwrap();
                    prop_assert!(out.len() >= T::min_encoded_size(cx), "v{}", v);
                    Ok(())
                })
                .unwrap();
        }
    }
}

#[cfg(test)]
mod min_size_tests {
    use super::testing::min_size_is_exact;
    use super::*;

    /// Each struct, checked over the versions of the message it belongs to.
    macro_rules! check {
        ($msg:ty: $($t:ty),* $(,)?) => {
            $( min_size_is_exact::<$msg, $t>(); )*
        };
    }

    #[test]
    fn every_struct_min_size_is_exact() {
        use add_offsets_to_txn::*;
        use add_partitions_to_txn::*;
        use api_versions::*;
        use end_txn::*;
        use find_coordinator::*;
        use get_telemetry_subscriptions::*;
        use init_producer_id::*;
        use metadata::*;
        use produce::*;
        use push_telemetry::*;
        use sasl::*;
        use txn_offset_commit::*;
        check!(AddOffsetsToTxnRequest: AddOffsetsToTxnRequest);
        check!(AddOffsetsToTxnResponse: AddOffsetsToTxnResponse);
        check!(AddPartitionsToTxnRequest:
            AddPartitionsToTxnRequest, AddPartitionsToTxnTransaction, AddPartitionsToTxnTopic);
        check!(AddPartitionsToTxnResponse:
            AddPartitionsToTxnResponse, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
            AddPartitionsToTxnPartitionResult);
        check!(ApiVersionsRequest: ApiVersionsRequest);
        check!(ApiVersionsResponse: ApiVersionsResponse, ApiVersion, SupportedFeatureKey, FinalizedFeatureKey);
        check!(EndTxnRequest: EndTxnRequest);
        check!(EndTxnResponse: EndTxnResponse);
        check!(FindCoordinatorRequest: FindCoordinatorRequest);
        check!(FindCoordinatorResponse: FindCoordinatorResponse, Coordinator);
        check!(GetTelemetrySubscriptionsRequest: GetTelemetrySubscriptionsRequest);
        check!(GetTelemetrySubscriptionsResponse: GetTelemetrySubscriptionsResponse);
        check!(PushTelemetryRequest: PushTelemetryRequest);
        check!(PushTelemetryResponse: PushTelemetryResponse);
        check!(InitProducerIdRequest: InitProducerIdRequest);
        check!(InitProducerIdResponse: InitProducerIdResponse);
        check!(MetadataRequest: MetadataRequest, MetadataRequestTopic);
        check!(MetadataResponse:
            MetadataResponse, MetadataResponseBroker, MetadataResponseTopic, MetadataResponsePartition);
        check!(ProduceRequest: ProduceRequest, TopicProduceData, PartitionProduceData);
        check!(ProduceResponse:
            ProduceResponse, TopicProduceResponse, PartitionProduceResponse, BatchIndexAndErrorMessage,
            LeaderIdAndEpoch, NodeEndpoint);
        check!(SaslHandshakeRequest: SaslHandshakeRequest);
        check!(SaslHandshakeResponse: SaslHandshakeResponse);
        check!(SaslAuthenticateRequest: SaslAuthenticateRequest);
        check!(SaslAuthenticateResponse: SaslAuthenticateResponse);
        check!(TxnOffsetCommitRequest:
            TxnOffsetCommitRequest, TxnOffsetCommitRequestTopic, TxnOffsetCommitRequestPartition);
        check!(TxnOffsetCommitResponse:
            TxnOffsetCommitResponse, TxnOffsetCommitResponseTopic, TxnOffsetCommitResponsePartition);
    }
}

#[cfg(test)]
mod budget_tests {
    //! Every message at every version, made of many legitimate minimal elements at each nesting level in
    //! turn (one element at the levels around it), decodes within its decode budget: the factor alone
    //! pays for it, without the slack.
    //!
    //! "Legitimate minimal" is the smallest element Kafka actually sends: every field at its minimum,
    //! except that names are one character (Kafka refuses empty topic names and transactional ids) and
    //! an element that always carries a nested element (a Produce topic carries the partitions it was
    //! asked for) carries one. Structurally smaller elements (empty topics) are refused when they make up
    //! a whole message: see `denser_than_any_real_message_is_refused`.
    use super::*;
    use crate::protocol::primitives::decode_budget;
    use crate::protocol::{Message, ProtocolError, Reader, Wire};
    use bytes::Bytes;
    use std::collections::BTreeMap;

    /// Elements in each dense array: enough that a present array dwarfs the slack.
    const N: usize = 20_000;

    /// The worst charged/encoded ratio seen per message and version, and at which level.
    type Worst = BTreeMap<(&'static str, i16), (f64, &'static str)>;

    /// Encodes `m` at every version and checks that it decodes back within the budget; records the ratio
    /// of what decoding charges to the encoded size.
    fn check<M: Message + PartialEq + std::fmt::Debug>(worst: &mut Worst, level: &'static str, m: &M) {
        let name = std::any::type_name::<M>().rsplit("::").next().unwrap_or("?");
        for v in M::MIN_VERSION..=M::MAX_VERSION {
            let mut buf = Vec::new();
            m.encode_body(&mut buf, v).unwrap();
            let mut r = Reader::with_budget(&buf, usize::MAX);
            let unlimited = M::decode(&mut r, M::ctx(v).unwrap()).unwrap();
            let charged = usize::MAX - r.budget_left();
            let decoded = M::decode_body(&buf, v).unwrap_or_else(|e| panic!("{name} v{v} {level}: {e}"));
            assert_eq!(decoded, unlimited);
            let ratio = charged as f64 / buf.len() as f64;
            // Where the dense array exists at this version, the factor alone must pay for it.
            if buf.len() >= N {
                assert!(
                    charged <= M::DECODE_BUDGET_FACTOR * buf.len(),
                    "{name} v{v} {level}: {ratio:.2}× is above the factor {}",
                    M::DECODE_BUDGET_FACTOR
                );
                let e = worst.entry((name, v)).or_insert((0.0, level));
                if ratio > e.0 {
                    *e = (ratio, level);
                }
            }
        }
    }

    fn n<T: Clone>(t: T) -> Vec<T> {
        vec![t; N]
    }

    fn produce(w: &mut Worst) {
        use produce::*;
        // The smallest real record data: a 61-byte batch header and one 7-byte record.
        let records = Some(Bytes::from(vec![0u8; 68]));
        let part = PartitionProduceData { index: 0, records };
        let topic =
            TopicProduceData { name: "t".into(), partition_data: vec![part.clone()], ..Default::default() };
        let req = |topic_data| ProduceRequest { topic_data, ..Default::default() };
        check(w, "topics", &req(n(topic.clone())));
        check(w, "partitions", &req(vec![TopicProduceData { partition_data: n(part), ..topic }]));

        let part = PartitionProduceResponse::default();
        let topic = TopicProduceResponse {
            name: "t".into(),
            partition_responses: vec![part.clone()],
            ..Default::default()
        };
        let resp = |responses| ProduceResponse { responses, ..Default::default() };
        check(w, "topics", &resp(n(topic.clone())));
        let many = |partition_responses| vec![TopicProduceResponse { partition_responses, ..topic.clone() }];
        check(w, "partitions", &resp(many(n(part.clone()))));
        let errors =
            PartitionProduceResponse { record_errors: n(BatchIndexAndErrorMessage::default()), ..part };
        check(w, "record errors", &resp(many(vec![errors])));
        let endpoint = NodeEndpoint { host: "h".into(), ..Default::default() };
        check(w, "node endpoints", &ProduceResponse { node_endpoints: n(endpoint), ..resp(vec![topic]) });
    }

    fn metadata(w: &mut Worst) {
        use metadata::*;
        let topic = MetadataRequestTopic { name: Some("t".into()), ..Default::default() };
        check(w, "topics", &MetadataRequest { topics: Some(n(topic)), ..Default::default() });

        let broker = MetadataResponseBroker { host: "h".into(), ..Default::default() };
        let part = MetadataResponsePartition::default();
        // A topic that does not exist comes back with an error and no partitions.
        let topic = MetadataResponseTopic { name: Some("t".into()), ..Default::default() };
        let resp = |topics| MetadataResponse { topics, ..Default::default() };
        check(w, "brokers", &MetadataResponse { brokers: n(broker), ..Default::default() });
        check(w, "topics", &resp(n(topic.clone())));
        let with = |partitions| vec![MetadataResponseTopic { partitions, ..topic.clone() }];
        check(w, "partitions", &resp(with(n(part.clone()))));
        let nodes = |replica_nodes| MetadataResponsePartition { replica_nodes, ..part.clone() };
        check(w, "replica nodes", &resp(with(vec![nodes(vec![0; N])])));
    }

    fn api_versions(w: &mut Worst) {
        use api_versions::*;
        check(w, "none", &ApiVersionsRequest::default());
        let resp = ApiVersionsResponse::default();
        check(w, "api keys", &ApiVersionsResponse { api_keys: n(ApiVersion::default()), ..resp.clone() });
        let supported = SupportedFeatureKey { name: "f".into(), ..Default::default() };
        check(
            w,
            "supported features",
            &ApiVersionsResponse { supported_features: n(supported), ..resp.clone() },
        );
        let finalized = FinalizedFeatureKey { name: "f".into(), ..Default::default() };
        check(w, "finalized features", &ApiVersionsResponse { finalized_features: n(finalized), ..resp });
    }

    fn find_coordinator(w: &mut Worst) {
        use find_coordinator::*;
        check(w, "keys", &FindCoordinatorRequest { coordinator_keys: n("k".into()), ..Default::default() });
        // A coordinator that is not available comes back with an error and an empty host.
        let c = Coordinator { key: "k".into(), ..Default::default() };
        check(w, "coordinators", &FindCoordinatorResponse { coordinators: n(c), ..Default::default() });
    }

    fn add_partitions_to_txn(w: &mut Worst) {
        use add_partitions_to_txn::*;
        let topic = AddPartitionsToTxnTopic { name: "t".into(), partitions: vec![0] };
        let txn = AddPartitionsToTxnTransaction {
            transactional_id: "x".into(),
            topics: vec![topic.clone()],
            ..Default::default()
        };
        let req = AddPartitionsToTxnRequest::default();
        check(
            w,
            "v3- topics",
            &AddPartitionsToTxnRequest { v3_and_below_topics: n(topic.clone()), ..req.clone() },
        );
        let parts = AddPartitionsToTxnTopic { partitions: vec![0; N], ..topic.clone() };
        check(
            w,
            "v3- partitions",
            &AddPartitionsToTxnRequest { v3_and_below_topics: vec![parts], ..req.clone() },
        );
        check(w, "transactions", &AddPartitionsToTxnRequest { transactions: n(txn.clone()), ..req.clone() });
        let topics = AddPartitionsToTxnTransaction { topics: n(topic), ..txn };
        check(w, "v4+ topics", &AddPartitionsToTxnRequest { transactions: vec![topics], ..req });

        let part = AddPartitionsToTxnPartitionResult::default();
        let topic =
            AddPartitionsToTxnTopicResult { name: "t".into(), results_by_partition: vec![part.clone()] };
        let result =
            AddPartitionsToTxnResult { transactional_id: "x".into(), topic_results: vec![topic.clone()] };
        let resp = AddPartitionsToTxnResponse::default();
        let v3 = |results_by_topic_v3_and_below| AddPartitionsToTxnResponse {
            results_by_topic_v3_and_below,
            ..resp.clone()
        };
        check(w, "v3- topics", &v3(n(topic.clone())));
        check(
            w,
            "v3- partitions",
            &v3(vec![AddPartitionsToTxnTopicResult { results_by_partition: n(part), ..topic.clone() }]),
        );
        let v4 =
            |results_by_transaction| AddPartitionsToTxnResponse { results_by_transaction, ..resp.clone() };
        check(w, "transactions", &v4(n(result.clone())));
        check(w, "v4+ topics", &v4(vec![AddPartitionsToTxnResult { topic_results: n(topic), ..result }]));
    }

    fn txn_offset_commit(w: &mut Worst) {
        use txn_offset_commit::*;
        let part = TxnOffsetCommitRequestPartition::default();
        let topic = TxnOffsetCommitRequestTopic { name: "t".into(), partitions: vec![part.clone()] };
        let req = TxnOffsetCommitRequest::default();
        check(w, "topics", &TxnOffsetCommitRequest { topics: n(topic.clone()), ..req.clone() });
        let parts = TxnOffsetCommitRequestTopic { partitions: n(part), ..topic };
        check(w, "partitions", &TxnOffsetCommitRequest { topics: vec![parts], ..req });

        let part = TxnOffsetCommitResponsePartition::default();
        let topic = TxnOffsetCommitResponseTopic { name: "t".into(), partitions: vec![part.clone()] };
        check(w, "topics", &TxnOffsetCommitResponse { topics: n(topic.clone()), ..Default::default() });
        let parts = TxnOffsetCommitResponseTopic { partitions: n(part), ..topic };
        check(w, "partitions", &TxnOffsetCommitResponse { topics: vec![parts], ..Default::default() });
    }

    fn sasl(w: &mut Worst) {
        use sasl::*;
        check(w, "none", &SaslHandshakeRequest::default());
        // The shortest mechanism Kafka implements (PLAIN, GSSAPI, SCRAM-SHA-256/512, OAUTHBEARER).
        let m = SaslHandshakeResponse { mechanisms: n("PLAIN".into()), ..Default::default() };
        check(w, "mechanisms", &m);
        check(w, "none", &SaslAuthenticateRequest { auth_bytes: Bytes::from(vec![0; N]) });
        check(
            w,
            "none",
            &SaslAuthenticateResponse { auth_bytes: Bytes::from(vec![0; N]), ..Default::default() },
        );
    }

    fn telemetry(w: &mut Worst) {
        use get_telemetry_subscriptions::*;
        use push_telemetry::*;
        check(w, "none", &GetTelemetrySubscriptionsRequest::default());
        let resp = GetTelemetrySubscriptionsResponse::default();
        check(
            w,
            "compression types",
            &GetTelemetrySubscriptionsResponse { accepted_compression_types: n(4), ..resp.clone() },
        );
        // A subscription's metric prefixes; one character is the shortest that is not "all".
        check(w, "metrics", &GetTelemetrySubscriptionsResponse { requested_metrics: n("o".into()), ..resp });
        check(w, "none", &PushTelemetryRequest { metrics: Bytes::from(vec![0; N]), ..Default::default() });
        check(w, "none", &PushTelemetryResponse::default());
    }

    fn fixed(w: &mut Worst) {
        check(w, "none", &add_offsets_to_txn::AddOffsetsToTxnRequest::default());
        check(w, "none", &add_offsets_to_txn::AddOffsetsToTxnResponse::default());
        check(w, "none", &end_txn::EndTxnRequest::default());
        check(w, "none", &end_txn::EndTxnResponse::default());
        check(w, "none", &init_producer_id::InitProducerIdRequest::default());
        check(w, "none", &init_producer_id::InitProducerIdResponse::default());
    }

    #[test]
    fn dense_legitimate_messages_decode_within_the_budget() {
        let mut worst = Worst::new();
        produce(&mut worst);
        metadata(&mut worst);
        api_versions(&mut worst);
        find_coordinator(&mut worst);
        add_partitions_to_txn(&mut worst);
        txn_offset_commit(&mut worst);
        sasl(&mut worst);
        telemetry(&mut worst);
        fixed(&mut worst);
        // The table docs/protocol.md quotes (`cargo test dense_legitimate -- --nocapture`).
        for ((name, v), (ratio, level)) in &worst {
            eprintln!("{name:<28} v{v:<2} {ratio:>5.2}× ({level})");
        }
    }

    #[test]
    fn tagged_fields_spend_the_message_budget() {
        use produce::*;
        // Node endpoints are a tagged field, decoded through a sub-reader: what they charge must come out
        // of the message's budget, not a fresh one.
        let endpoint = NodeEndpoint { host: "h".into(), ..Default::default() };
        let m = ProduceResponse { node_endpoints: vec![endpoint; 100], ..Default::default() };
        let mut buf = Vec::new();
        m.encode_body(&mut buf, 10).unwrap();
        let cx = ProduceResponse::ctx(10).unwrap();
        let cost = 100 * (std::mem::size_of::<NodeEndpoint>() + 1);
        let mut r = Reader::with_budget(&buf, cost);
        assert_eq!(ProduceResponse::decode(&mut r, cx).unwrap(), m);
        assert_eq!(r.budget_left(), 0);
        let e = ProduceResponse::decode(&mut Reader::with_budget(&buf, cost - 1), cx).unwrap_err();
        assert!(matches!(e, ProtocolError::DecodeBudget { .. }), "{e}");
    }

    #[test]
    fn denser_than_any_real_message_is_refused() {
        use produce::*;
        // Topics with no partitions, which Kafka never answers with: 64 bytes in memory each for 3 bytes
        // (v9+) or 6 (v3-v8) on the wire.
        let m = ProduceResponse { responses: n(TopicProduceResponse::default()), ..Default::default() };
        for v in 3..=12 {
            let mut buf = Vec::new();
            m.encode_body(&mut buf, v).unwrap();
            let e = ProduceResponse::decode_body(&buf, v).unwrap_err();
            let limit = decode_budget(buf.len(), ProduceResponse::DECODE_BUDGET_FACTOR);
            let needed = N * std::mem::size_of::<TopicProduceResponse>();
            assert_eq!(e, ProtocolError::DecodeBudget { needed, left: limit, limit }, "v{v}");
        }
        // In v13 a topic carries its 16-byte id: 3.6×, which decodes.
        let mut buf = Vec::new();
        m.encode_body(&mut buf, 13).unwrap();
        assert_eq!(ProduceResponse::decode_body(&buf, 13).unwrap(), m);
    }
}
