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
    use crate::protocol::{Message, Reader};
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
}
