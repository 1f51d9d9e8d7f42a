//! Request and response headers.
//!
//! Request header v1 (non-flexible requests): api_key int16, api_version int16, correlation_id int32,
//! client_id nullable string (always the plain int16-length form, even in v2). Request header v2 (flexible
//! requests) adds a tagged-field section. Response header v0 is the correlation id alone; v1 (flexible
//! responses) adds a tagged-field section — except ApiVersions, whose response header is always v0 so a
//! client can parse it before it knows what the broker speaks.

use bytes::BufMut;

use super::primitives::{put_length, put_tagged_fields, Reader};
use super::{ApiKey, ProtocolError};

/// A request header (v1 or v2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct RequestHeader {
    /// The API key of the request; v0+.
    pub request_api_key: ApiKey,
    /// The API version of the request; v0+.
    pub request_api_version: i16,
    /// The correlation id, echoed by the response; v0+.
    pub correlation_id: i32,
    /// The client id; v1+ (always a plain, non-compact nullable string).
    pub client_id: Option<String>,
}

impl RequestHeader {
    /// Writes the header: v2 when `flexible`, else v1.
    pub fn encode(&self, out: &mut Vec<u8>, flexible: bool) -> Result<(), ProtocolError> {
        out.put_i16(self.request_api_key.0);
        out.put_i16(self.request_api_version);
        out.put_i32(self.correlation_id);
        put_length(out, self.client_id.as_ref().map(String::len), false, false)?;
        if let Some(id) = &self.client_id {
            out.extend_from_slice(id.as_bytes());
        }
        if flexible {
            put_tagged_fields(out, &[])?;
        }
        Ok(())
    }

    /// Reads the fixed part (api key, version, correlation id, client id). The caller then knows the API
    /// and version and must call [`RequestHeader::decode_tagged`] if that version is flexible.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(RequestHeader {
            request_api_key: ApiKey(r.i16()?),
            request_api_version: r.i16()?,
            correlation_id: r.i32()?,
            client_id: r.nullable_string(false)?,
        })
    }

    /// Skips the v2 header's tagged fields.
    pub fn decode_tagged(r: &mut Reader<'_>) -> Result<(), ProtocolError> {
        r.skip_tagged_fields().map(|_| ())
    }
}

/// The response header version for a response to `api_key` at a version whose flexibility is `flexible`.
pub fn response_header_version(api_key: ApiKey, flexible: bool) -> i16 {
    if flexible && api_key != ApiKey::API_VERSIONS {
        1
    } else {
        0
    }
}

/// Writes a response header of the given version (0 or 1).
pub fn encode_response_header(
    out: &mut Vec<u8>,
    correlation_id: i32,
    header_version: i16,
) -> Result<(), ProtocolError> {
    out.put_i32(correlation_id);
    if header_version >= 1 {
        put_tagged_fields(out, &[])?;
    }
    Ok(())
}

/// Reads a response header of the given version, returning the correlation id.
pub fn decode_response_header(r: &mut Reader<'_>, header_version: i16) -> Result<i32, ProtocolError> {
    let id = r.i32()?;
    if header_version >= 1 {
        r.skip_tagged_fields()?;
    }
    Ok(id)
}
