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
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
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
        use init_producer_id::*;
        use metadata::*;
        use produce::*;
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
