//! API keys of the requests kprod speaks.

/// A Kafka API key. Unknown keys are representable (the mock cluster must answer them with an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ApiKey(pub i16);

macro_rules! api_keys {
    ($($name:ident = $v:literal, $s:literal;)*) => {
        impl ApiKey {
            $(
                #[doc = concat!("`", $s, "` (key ", stringify!($v), ").")]
                pub const $name: ApiKey = ApiKey($v);
            )*
            /// The API's name as in Kafka's protocol guide, or `"Unknown"`.
            pub fn name(self) -> &'static str {
                match self.0 { $($v => $s,)* _ => "Unknown" }
            }
        }
    };
}

api_keys! {
    PRODUCE = 0, "Produce";
    FETCH = 1, "Fetch";
    LIST_OFFSETS = 2, "ListOffsets";
    METADATA = 3, "Metadata";
    OFFSET_COMMIT = 8, "OffsetCommit";
    OFFSET_FETCH = 9, "OffsetFetch";
    FIND_COORDINATOR = 10, "FindCoordinator";
    SASL_HANDSHAKE = 17, "SaslHandshake";
    API_VERSIONS = 18, "ApiVersions";
    CREATE_TOPICS = 19, "CreateTopics";
    INIT_PRODUCER_ID = 22, "InitProducerId";
    ADD_PARTITIONS_TO_TXN = 24, "AddPartitionsToTxn";
    ADD_OFFSETS_TO_TXN = 25, "AddOffsetsToTxn";
    END_TXN = 26, "EndTxn";
    TXN_OFFSET_COMMIT = 28, "TxnOffsetCommit";
    SASL_AUTHENTICATE = 36, "SaslAuthenticate";
    GET_TELEMETRY_SUBSCRIPTIONS = 71, "GetTelemetrySubscriptions";
    PUSH_TELEMETRY = 72, "PushTelemetry";
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}
