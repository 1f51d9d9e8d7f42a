//! The Kafka wire protocol as a pure codec: no threads, no sockets.
//!
//! Requests and responses are encoded and decoded in both directions, so the producer and the mock
//! cluster share one codec. Message types are named after Kafka's message schemas
//! (`clients/src/main/resources/common/message/*.json`); each field's doc comment gives the versions it
//! exists in. See `docs/protocol.md` for the APIs and versions supported.
//!
//! # References
//! - Kafka protocol guide: <https://kafka.apache.org/protocol>
//! - KIP-482 (flexible versions, tagged fields), KIP-511 (ApiVersions v3), KIP-98 (record batch v2).

#[macro_use]
mod macros;
pub mod api_key;
pub mod error_code;
pub mod frame;
pub mod header;
pub mod messages;
pub mod primitives;
pub mod record;

pub use api_key::ApiKey;
pub use error_code::ErrorCode;
pub use header::RequestHeader;
pub use primitives::{Ctx, Reader, Wire};

/// An error from encoding or decoding protocol data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before a complete value.
    #[error("truncated input: {needed} more bytes needed")]
    Truncated {
        /// How many more bytes the value needed (at least).
        needed: usize,
    },
    /// The input is malformed.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A value is too large for its wire representation.
    #[error("{what} of {len} bytes is too large to encode")]
    TooLong {
        /// What was being encoded.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The decoded values would take more memory than the decode budget allows: a fixed multiple of the
    /// input's size (see [`primitives::decode_budget`]). The input may be well formed, but it is far denser
    /// than any legitimate message.
    #[error("decoding needs {needed} more bytes with {left} left of a {limit}-byte decode budget")]
    DecodeBudget {
        /// What the value being decoded would allocate.
        needed: usize,
        /// What was left of the budget.
        left: usize,
        /// The whole budget for the input.
        limit: usize,
    },
    /// A frame's size prefix exceeds the configured maximum.
    #[error("frame of {size} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The announced size.
        size: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// The requested version of an API is outside what kprod implements.
    #[error("{api} version {version} is not supported (kprod implements {min} to {max})")]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// The version asked for.
        version: i16,
        /// Oldest version implemented.
        min: i16,
        /// Newest version implemented.
        max: i16,
    },
    /// A record batch's CRC-32C does not match its contents.
    #[error("record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// The CRC in the batch header.
        stored: u32,
        /// The CRC computed over the batch.
        computed: u32,
    },
    /// Compressing or decompressing a batch failed.
    #[error("compression: {0}")]
    Compression(String),
    /// A response's correlation id is not the one expected.
    #[error("correlation id {got} does not match the request's {expected}")]
    CorrelationMismatch {
        /// The id sent.
        expected: i32,
        /// The id received.
        got: i32,
    },
}

impl ProtocolError {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        ProtocolError::Invalid { what, detail: detail.into() }
    }
}

/// A top-level request or response body with its API key and the version range kprod implements.
pub trait Message: Wire {
    /// The API this message belongs to.
    const API_KEY: ApiKey;
    /// Oldest version implemented.
    const MIN_VERSION: i16;
    /// Newest version implemented.
    const MAX_VERSION: i16;
    /// First flexible version (KIP-482); `i16::MAX` when none is.
    const FLEXIBLE_FROM: i16;
    /// How many times its encoded size a body may take in memory once decoded (plus
    /// [`DECODE_BUDGET_SLACK`](primitives::DECODE_BUDGET_SLACK)): at least the densest legitimate body's
    /// ratio, so only bodies denser than any real one are refused.
    const DECODE_BUDGET_FACTOR: usize = primitives::DECODE_BUDGET_FACTOR;

    /// The encoding context for `version`, or an error when `version` is not implemented.
    fn ctx(version: i16) -> Result<Ctx, ProtocolError> {
        if !(Self::MIN_VERSION..=Self::MAX_VERSION).contains(&version) {
            return Err(ProtocolError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
                min: Self::MIN_VERSION,
                max: Self::MAX_VERSION,
            });
        }
        Ok(Ctx { version, flexible: version >= Self::FLEXIBLE_FROM })
    }

    /// Encodes the body alone at `version`.
    fn encode_body(&self, out: &mut Vec<u8>, version: i16) -> Result<(), ProtocolError> {
        self.encode(out, Self::ctx(version)?)
    }

    /// Decodes a body at `version`, requiring that it consumes `buf` entirely and materialises no more
    /// than [`DECODE_BUDGET_FACTOR`](Self::DECODE_BUDGET_FACTOR) times its size.
    fn decode_body(buf: &[u8], version: i16) -> Result<Self, ProtocolError> {
        let mut r =
            Reader::with_budget(buf, primitives::decode_budget(buf.len(), Self::DECODE_BUDGET_FACTOR));
        let v = Self::decode(&mut r, Self::ctx(version)?)?;
        if !r.is_empty() {
            return Err(ProtocolError::invalid("message", format!("{} trailing bytes", r.remaining())));
        }
        Ok(v)
    }
}

/// A request, tied to its response type.
pub trait Request: Message {
    /// The response body type.
    type Response: Message;
}

/// Appends a complete request frame (size prefix, header v1/v2, body) to `out`.
pub fn encode_request<R: Request>(
    out: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    body: &R,
) -> Result<(), ProtocolError> {
    let cx = R::ctx(version)?;
    let at = frame::start_frame(out);
    let header = RequestHeader {
        request_api_key: R::API_KEY,
        request_api_version: version,
        correlation_id,
        client_id: client_id.map(str::to_owned),
    };
    header.encode(out, cx.flexible)?;
    body.encode(out, cx)?;
    frame::finish_frame(out, at)
}

/// Decodes a response frame body (without the size prefix) to the request `R` sent at `version`,
/// checking the correlation id.
pub fn decode_response<R: Request>(
    frame_body: &[u8],
    version: i16,
    correlation_id: i32,
) -> Result<R::Response, ProtocolError> {
    let cx = <R::Response as Message>::ctx(version)?;
    let mut r = Reader::new(frame_body);
    let got =
        header::decode_response_header(&mut r, header::response_header_version(R::API_KEY, cx.flexible))?;
    if got != correlation_id {
        return Err(ProtocolError::CorrelationMismatch { expected: correlation_id, got });
    }
    <R::Response as Message>::decode_body(r.rest(), version)
}

/// Decodes a request frame body (without the size prefix) into its header and a reader positioned at
/// the body; the caller (the mock broker) dispatches on the API key and calls [`Message::decode_body`].
pub fn decode_request_header(frame_body: &[u8]) -> Result<(RequestHeader, Reader<'_>), ProtocolError> {
    let mut r = Reader::new(frame_body);
    let header = RequestHeader::decode(&mut r)?;
    Ok((header, r))
}

/// Appends a complete response frame (size prefix, header v0/v1, body) to `out`.
pub fn encode_response<M: Message>(
    out: &mut Vec<u8>,
    version: i16,
    correlation_id: i32,
    body: &M,
) -> Result<(), ProtocolError> {
    let cx = M::ctx(version)?;
    let at = frame::start_frame(out);
    header::encode_response_header(
        out,
        correlation_id,
        header::response_header_version(M::API_KEY, cx.flexible),
    )?;
    body.encode(out, cx)?;
    frame::finish_frame(out, at)
}
