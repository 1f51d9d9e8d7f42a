//! Wire primitives: fixed-width integers (big-endian), varints (zigzag and unsigned), strings and bytes
//! in their plain, nullable, compact and compact-nullable forms, arrays, UUIDs and tagged fields (KIP-482).
//!
//! Decoding never trusts a length read from the network: every length is checked against the bytes
//! actually present before anything is allocated, and an array reserves room for no more elements than
//! those bytes can encode and no more memory than they occupy (see [`Wire::min_encoded_size`]), so a
//! hostile count cannot make us reserve more than the frame we already hold.
//!
//! A valid message can still be dense: an element of a few bytes on the wire may take tens of bytes in
//! memory. Each [`Reader`] therefore carries a decode budget, a fixed multiple of its input's size
//! ([`decode_budget`]); arrays, strings and bytes are charged what they will allocate before they
//! allocate it, and decoding fails with [`ProtocolError::DecodeBudget`] once the budget is spent.

use bytes::{BufMut, Bytes};

use super::ProtocolError;

/// The version context a value is encoded or decoded in: the message's version, and whether that version
/// is "flexible" (KIP-482: compact lengths and tagged fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// The message version.
    pub version: i16,
    /// True when `version` is at or above the message's first flexible version.
    pub flexible: bool,
}

/// A value with a Kafka wire encoding.
pub trait Wire: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError>;
    /// Reads a value from `r`.
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError>;
    /// A lower bound on the encoded size of any value of this type in `cx`. Array decoding divides the
    /// bytes left by it to bound the room it reserves for a count read off the wire, so it must never
    /// exceed the true minimum; the default of one byte is always safe.
    fn min_encoded_size(cx: Ctx) -> usize {
        let _ = cx;
        1
    }
}

/// How many elements to reserve for an array claiming `claimed` elements when `remaining` bytes are left
/// and each element takes at least `min_encoded` bytes: no more elements than those bytes can hold, and no
/// more memory than they occupy. A hostile count thus reserves at most about the input's size; a valid
/// array whose elements are bigger in memory than on the wire grows as they actually decode.
pub(crate) fn bounded_capacity<T>(claimed: usize, remaining: usize, min_encoded: usize) -> usize {
    let by_encoding = remaining / min_encoded.max(1);
    let by_memory = remaining / std::mem::size_of::<T>().max(1);
    claimed.min(by_encoding).min(by_memory)
}

/// How many times its own size a message may take in memory once decoded, unless the message declares
/// its own factor ([`Message::DECODE_BUDGET_FACTOR`](super::Message::DECODE_BUDGET_FACTOR)). The densest
/// legitimate body of every message keeping this default stays below it (`docs/protocol.md` lists them).
pub const DECODE_BUDGET_FACTOR: usize = 8;

/// Bytes every decode may materialise beyond the factor, so that small messages whose fixed-size structs
/// outweigh their few bytes on the wire still decode.
pub const DECODE_BUDGET_SLACK: usize = 4096;

/// The decode budget for `input` bytes at `factor`: `factor × input + DECODE_BUDGET_SLACK`, saturating.
pub fn decode_budget(input: usize, factor: usize) -> usize {
    input.saturating_mul(factor).saturating_add(DECODE_BUDGET_SLACK)
}

/// What a decode may still materialise: bytes left out of a fixed limit. Charges are made before the
/// allocation they pay for, so what a decode holds never exceeds the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeBudget {
    left: usize,
    limit: usize,
}

impl DecodeBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        DecodeBudget { left: limit, limit }
    }

    /// Takes `bytes` from the budget, or fails (taking nothing) when fewer are left.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), ProtocolError> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(ProtocolError::DecodeBudget { needed: bytes, left: self.left, limit: self.limit }),
        }
    }

    /// `count × size` for `count` values of `size` bytes each, saturating (a saturated charge fails).
    pub(crate) fn charge_each(&mut self, count: usize, size: usize) -> Result<(), ProtocolError> {
        self.charge(count.saturating_mul(size))
    }
}

/// Appends `item` to `v`, one of `total` elements whose memory is already charged: when `v` is full it
/// grows to exactly `total`, never by doubling, so it holds no more than was charged. Start `v` at a
/// [`bounded_capacity`] so a hostile count reserves no more than the bytes left until the elements exist.
pub(crate) fn push_charged<T>(v: &mut Vec<T>, item: T, total: usize) {
    if v.len() == v.capacity() {
        v.reserve_exact(total.saturating_sub(v.len()).max(1));
    }
    v.push(item);
}

/// The smallest length prefix of a string (`wide` false), bytes or array (`wide` true): a one-byte
/// uvarint when `flexible`, else an int16 or int32.
#[inline]
fn min_length_prefix(flexible: bool, wide: bool) -> usize {
    match (flexible, wide) {
        (true, _) => 1,
        (false, false) => 2,
        (false, true) => 4,
    }
}

/// True when `version` lies in `range` (used by [`kafka_struct!`](crate::kafka_struct) field ranges).
#[inline]
pub fn in_range<R: std::ops::RangeBounds<i16>>(range: &R, version: i16) -> bool {
    range.contains(&version)
}

/// A cursor over a received buffer. All reads are bounds-checked and return
/// [`ProtocolError::Truncated`] instead of panicking. Decoders charge what they allocate to the reader's
/// decode budget ([`Reader::charge`]); a clone gets its own copy of what is left.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    budget: DecodeBudget,
}

macro_rules! get_be {
    ($name:ident, $ty:ty, $n:literal) => {
        #[doc = concat!("Reads a big-endian `", stringify!($ty), "`.")]
        #[inline]
        pub fn $name(&mut self) -> Result<$ty, ProtocolError> {
            let b = self.array::<$n>()?;
            Ok(<$ty>::from_be_bytes(b))
        }
    };
}

impl<'a> Reader<'a> {
    /// A reader over `buf` with the default decode budget, [`decode_budget`]`(buf.len(),
    /// DECODE_BUDGET_FACTOR)`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_budget(buf, decode_budget(buf.len(), DECODE_BUDGET_FACTOR))
    }

    /// A reader over `buf` whose decoders may materialise at most `budget` bytes.
    pub fn with_budget(buf: &'a [u8], budget: usize) -> Self {
        Reader { buf, budget: DecodeBudget::new(budget) }
    }

    /// Bytes of the decode budget not yet charged.
    pub fn budget_left(&self) -> usize {
        self.budget.left
    }

    /// Charges `bytes` about to be allocated for a decoded value to the decode budget; fails with
    /// [`ProtocolError::DecodeBudget`], charging nothing, when fewer are left.
    #[inline]
    pub fn charge(&mut self, bytes: usize) -> Result<(), ProtocolError> {
        self.budget.charge(bytes)
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when everything has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Consumes and returns the next `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if n > self.buf.len() {
            return Err(ProtocolError::Truncated { needed: n - self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Consumes `n` bytes and runs `f` on a reader over just those bytes. The sub-reader spends this
    /// reader's budget (what it charges is gone from this one too), so nesting cannot reset the budget.
    pub fn sub_reader<T>(
        &mut self,
        n: usize,
        f: impl FnOnce(&mut Reader<'a>) -> Result<T, ProtocolError>,
    ) -> Result<T, ProtocolError> {
        let buf = self.bytes(n)?;
        let mut sub = Reader { buf, budget: self.budget };
        let out = f(&mut sub);
        self.budget = sub.budget;
        out
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), ProtocolError> {
        self.bytes(n).map(|_| ())
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let b = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    get_be!(i8, i8, 1);
    get_be!(u8, u8, 1);
    get_be!(i16, i16, 2);
    get_be!(u16, u16, 2);
    get_be!(i32, i32, 4);
    get_be!(u32, u32, 4);
    get_be!(i64, i64, 8);
    get_be!(f64, f64, 8);

    /// Reads an unsigned varint of at most 5 bytes (32 bits).
    pub fn uvarint(&mut self) -> Result<u32, ProtocolError> {
        let v = self.uvarlong_bounded(5)?;
        u32::try_from(v).map_err(|_| ProtocolError::invalid("varint", "more than 32 bits"))
    }

    /// Reads an unsigned varlong of at most 10 bytes (64 bits).
    pub fn uvarlong(&mut self) -> Result<u64, ProtocolError> {
        self.uvarlong_bounded(10)
    }

    fn uvarlong_bounded(&mut self, max_bytes: u32) -> Result<u64, ProtocolError> {
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.u8()?;
            let group = u64::from(b & 0x7f);
            // The tenth byte has room for one bit; dropping the rest would yield a made-up value.
            if (group << (7 * i)) >> (7 * i) != group {
                return Err(ProtocolError::invalid("varint", "more than 64 bits"));
            }
            value |= group << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtocolError::invalid("varint", "too many continuation bytes"))
    }

    /// Reads a zigzag-encoded signed varint (32 bits).
    pub fn varint(&mut self) -> Result<i32, ProtocolError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
    }

    /// Reads a zigzag-encoded signed varlong (64 bits).
    pub fn varlong(&mut self) -> Result<i64, ProtocolError> {
        let u = self.uvarlong()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads the length of a string, bytes or array field: `None` for null. Plain lengths are an int16
    /// (strings) or int32 (bytes, arrays); compact ones are an unsigned varint holding length + 1.
    fn length(&mut self, flexible: bool, wide: bool) -> Result<Option<usize>, ProtocolError> {
        let n: i64 = if flexible {
            i64::from(self.uvarint()?) - 1
        } else if wide {
            i64::from(self.i32()?)
        } else {
            i64::from(self.i16()?)
        };
        match n {
            -1 => Ok(None),
            n if n < -1 => Err(ProtocolError::invalid("length", format!("negative length {n}"))),
            // Every length is bounded by the bytes present, so nothing read here can drive an allocation
            // larger than the frame we already hold.
            n if n as u64 > self.remaining() as u64 => {
                Err(ProtocolError::Truncated { needed: (n as usize).saturating_sub(self.remaining()) })
            }
            n => Ok(Some(n as usize)),
        }
    }

    /// Reads a string (plain int16 length, or compact); `None` when null.
    pub fn nullable_str(&mut self, flexible: bool) -> Result<Option<&'a str>, ProtocolError> {
        match self.length(flexible, false)? {
            None => Ok(None),
            Some(n) => std::str::from_utf8(self.bytes(n)?)
                .map(Some)
                .map_err(|_| ProtocolError::invalid("string", "not valid UTF-8")),
        }
    }

    /// Reads a string into an owned `String`, charging its length to the decode budget; `None` when null.
    pub fn nullable_string(&mut self, flexible: bool) -> Result<Option<String>, ProtocolError> {
        let Some(s) = self.nullable_str(flexible)? else { return Ok(None) };
        self.charge(s.len())?;
        Ok(Some(s.to_owned()))
    }

    /// Reads a byte string into owned `Bytes`, charging its length to the decode budget; `None` when null.
    pub fn nullable_owned_bytes(&mut self, flexible: bool) -> Result<Option<Bytes>, ProtocolError> {
        let Some(b) = self.nullable_bytes(flexible)? else { return Ok(None) };
        self.charge(b.len())?;
        Ok(Some(Bytes::copy_from_slice(b)))
    }

    /// Reads a byte string (plain int32 length, or compact); `None` when null.
    pub fn nullable_bytes(&mut self, flexible: bool) -> Result<Option<&'a [u8]>, ProtocolError> {
        match self.length(flexible, true)? {
            None => Ok(None),
            Some(n) => self.bytes(n).map(Some),
        }
    }

    /// Reads an array length (plain int32, or compact); `None` when null. Each element takes at least one
    /// byte, so a count larger than what remains is rejected before anything is allocated.
    pub fn array_len(&mut self, flexible: bool) -> Result<Option<usize>, ProtocolError> {
        self.length(flexible, true)
    }

    /// Skips a tagged-field section (KIP-482), returning how many fields it held.
    pub fn skip_tagged_fields(&mut self) -> Result<u32, ProtocolError> {
        let n = self.uvarint()?;
        for _ in 0..n {
            let _tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            self.skip(size)?;
        }
        Ok(n)
    }
}

/// Writes an unsigned varint.
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, v: u32) {
    put_uvarlong(out, u64::from(v));
}

/// Writes an unsigned varlong.
#[inline]
pub fn put_uvarlong(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes a zigzag-encoded signed varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: i32) {
    put_uvarint(out, ((v << 1) ^ (v >> 31)) as u32);
}

/// Writes a zigzag-encoded signed varlong.
#[inline]
pub fn put_varlong(out: &mut Vec<u8>, v: i64) {
    put_uvarlong(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Encoded size of an unsigned varint.
#[inline]
pub fn uvarint_len(v: u32) -> usize {
    uvarlong_len(u64::from(v))
}

/// Encoded size of an unsigned varlong.
#[inline]
pub fn uvarlong_len(v: u64) -> usize {
    // One byte per started group of 7 bits; zero still takes one byte.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Encoded size of a zigzag varint.
#[inline]
pub fn varint_len(v: i32) -> usize {
    uvarint_len(((v << 1) ^ (v >> 31)) as u32)
}

/// Encoded size of a zigzag varlong.
#[inline]
pub fn varlong_len(v: i64) -> usize {
    uvarlong_len(((v << 1) ^ (v >> 63)) as u64)
}

/// Writes the length prefix of a string (`wide` false), bytes or array (`wide` true); `None` is null.
pub fn put_length(
    out: &mut Vec<u8>,
    len: Option<usize>,
    flexible: bool,
    wide: bool,
) -> Result<(), ProtocolError> {
    if flexible {
        let v = match len {
            None => 0,
            Some(n) => u32::try_from(n)
                .ok()
                .and_then(|n| n.checked_add(1))
                .ok_or(ProtocolError::TooLong { what: "compact length", len: n })?,
        };
        put_uvarint(out, v);
    } else if wide {
        let v = match len {
            None => -1,
            Some(n) => i32::try_from(n).map_err(|_| ProtocolError::TooLong { what: "length", len: n })?,
        };
        out.put_i32(v);
    } else {
        let v = match len {
            None => -1,
            Some(n) => i16::try_from(n).map_err(|_| ProtocolError::TooLong { what: "string", len: n })?,
        };
        out.put_i16(v);
    }
    Ok(())
}

/// Writes a tagged-field section from already-encoded `(tag, bytes)` pairs in ascending tag order.
pub fn put_tagged_fields(out: &mut Vec<u8>, fields: &[(u32, Vec<u8>)]) -> Result<(), ProtocolError> {
    put_uvarint(out, fields.len() as u32);
    for (tag, data) in fields {
        put_uvarint(out, *tag);
        let len = u32::try_from(data.len())
            .map_err(|_| ProtocolError::TooLong { what: "tagged field", len: data.len() })?;
        put_uvarint(out, len);
        out.extend_from_slice(data);
    }
    Ok(())
}

macro_rules! wire_int {
    ($ty:ty, $get:ident) => {
        impl Wire for $ty {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>, _cx: Ctx) -> Result<(), ProtocolError> {
                out.extend_from_slice(&self.to_be_bytes());
                Ok(())
            }
            #[inline]
            fn decode(r: &mut Reader<'_>, _cx: Ctx) -> Result<Self, ProtocolError> {
                r.$get()
            }
            #[inline]
            fn min_encoded_size(_cx: Ctx) -> usize {
                std::mem::size_of::<$ty>()
            }
        }
    };
}
wire_int!(i8, i8);
wire_int!(i16, i16);
wire_int!(u16, u16);
wire_int!(i32, i32);
wire_int!(u32, u32);
wire_int!(i64, i64);
wire_int!(f64, f64);

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>, _cx: Ctx) -> Result<(), ProtocolError> {
        out.push(u8::from(*self));
        Ok(())
    }
    fn decode(r: &mut Reader<'_>, _cx: Ctx) -> Result<Self, ProtocolError> {
        Ok(r.u8()? != 0)
    }
    fn min_encoded_size(_cx: Ctx) -> usize {
        1
    }
}

/// A 128-bit UUID as Kafka sends it (topic ids, directory ids): 16 raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID Kafka uses for "no id".
    pub const ZERO: Uuid = Uuid([0; 16]);
}

/// Kafka's text form (Java's `Uuid.toString`): URL-safe base64 without padding, 22 characters, as
/// `kafka-topics --describe` prints a `TopicId`.
impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        f.write_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl Wire for Uuid {
    fn encode(&self, out: &mut Vec<u8>, _cx: Ctx) -> Result<(), ProtocolError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
    fn decode(r: &mut Reader<'_>, _cx: Ctx) -> Result<Self, ProtocolError> {
        r.array::<16>().map(Uuid)
    }
    fn min_encoded_size(_cx: Ctx) -> usize {
        16
    }
}

impl Wire for String {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        put_length(out, Some(self.len()), cx.flexible, false)?;
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        match r.nullable_string(cx.flexible)? {
            Some(s) => Ok(s),
            None => Err(ProtocolError::invalid("string", "null where a non-null string is required")),
        }
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, false)
    }
}

impl Wire for Option<String> {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        match self {
            None => put_length(out, None, cx.flexible, false),
            Some(s) => s.encode(out, cx),
        }
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        r.nullable_string(cx.flexible)
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, false)
    }
}

impl Wire for Bytes {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        put_length(out, Some(self.len()), cx.flexible, true)?;
        out.extend_from_slice(self);
        Ok(())
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        match r.nullable_owned_bytes(cx.flexible)? {
            Some(b) => Ok(b),
            None => Err(ProtocolError::invalid("bytes", "null where non-null bytes are required")),
        }
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, true)
    }
}

impl Wire for Option<Bytes> {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        match self {
            None => put_length(out, None, cx.flexible, true),
            Some(b) => b.encode(out, cx),
        }
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        r.nullable_owned_bytes(cx.flexible)
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, true)
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        put_length(out, Some(self.len()), cx.flexible, true)?;
        for item in self {
            item.encode(out, cx)?;
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        match Option::<Vec<T>>::decode(r, cx)? {
            Some(v) => Ok(v),
            None => Err(ProtocolError::invalid("array", "null where a non-null array is required")),
        }
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, true)
    }
}

impl<T: Wire> Wire for Option<Vec<T>> {
    fn encode(&self, out: &mut Vec<u8>, cx: Ctx) -> Result<(), ProtocolError> {
        match self {
            None => put_length(out, None, cx.flexible, true),
            Some(v) => v.encode(out, cx),
        }
    }
    fn decode(r: &mut Reader<'_>, cx: Ctx) -> Result<Self, ProtocolError> {
        let Some(n) = r.array_len(cx.flexible)? else { return Ok(None) };
        // The whole array is charged before any of it is reserved: an honest count costs that much anyway,
        // and one the budget cannot pay for fails before anything is allocated.
        r.budget.charge_each(n, std::mem::size_of::<T>())?;
        // `n` is only bounded by one element per remaining byte; reserving `n` elements of a large `T`
        // up front would let a hostile count hold the whole budget before a single element exists.
        let mut v = Vec::with_capacity(bounded_capacity::<T>(n, r.remaining(), T::min_encoded_size(cx)));
        for _ in 0..n {
            let item = T::decode(r, cx)?;
            push_charged(&mut v, item, n);
        }
        Ok(Some(v))
    }
    fn min_encoded_size(cx: Ctx) -> usize {
        min_length_prefix(cx.flexible, true)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_displays_as_kafka_prints_it() {
        let counting: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(super::Uuid(counting).to_string(), "AAECAwQFBgcICQoLDA0ODw");
        assert_eq!(super::Uuid([0xff; 16]).to_string(), "_____________________w");
        assert_eq!(super::Uuid::ZERO.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    use super::*;
    use proptest::prelude::*;

    const PLAIN: Ctx = Ctx { version: 0, flexible: false };
    const FLEX: Ctx = Ctx { version: 0, flexible: true };

    fn roundtrip<T: Wire + PartialEq + std::fmt::Debug>(v: &T, cx: Ctx) {
        let mut out = Vec::new();
        v.encode(&mut out, cx).unwrap();
        let mut r = Reader::new(&out);
        let back = T::decode(&mut r, cx).unwrap();
        assert_eq!(&back, v);
        assert!(r.is_empty(), "trailing bytes after decode");
    }

    #[test]
    fn varint_golden() {
        // Zigzag: 0→0, -1→1, 1→2, -2→3, 300→600 = 0xd8 0x04.
        let cases: &[(i32, &[u8])] = &[
            (0, &[0]),
            (-1, &[1]),
            (1, &[2]),
            (-2, &[3]),
            (300, &[0xd8, 0x04]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (v, bytes) in cases {
            let mut out = Vec::new();
            put_varint(&mut out, *v);
            assert_eq!(&out, bytes, "varint {v}");
            assert_eq!(varint_len(*v), bytes.len());
            assert_eq!(Reader::new(bytes).varint().unwrap(), *v);
        }
    }

    #[test]
    fn compact_string_golden() {
        let mut out = Vec::new();
        "abc".to_string().encode(&mut out, FLEX).unwrap();
        assert_eq!(out, [4, b'a', b'b', b'c']);
        out.clear();
        None::<String>.encode(&mut out, FLEX).unwrap();
        assert_eq!(out, [0]);
        out.clear();
        None::<String>.encode(&mut out, PLAIN).unwrap();
        assert_eq!(out, [0xff, 0xff]);
    }

    #[test]
    fn overlong_varint_rejected() {
        let bytes = [0xff; 11];
        assert!(Reader::new(&bytes).uvarlong().is_err());
        assert!(Reader::new(&bytes[..6]).uvarint().is_err());
        // Ten bytes whose last carries more than the 64th bit, and five whose value exceeds 32 bits.
        let mut wide = [0xff; 10];
        wide[9] = 0x02;
        assert!(matches!(Reader::new(&wide).uvarlong(), Err(ProtocolError::Invalid { .. })));
        wide[9] = 0x01;
        assert_eq!(Reader::new(&wide).uvarlong().unwrap(), u64::MAX);
        assert_eq!(Reader::new(&wide).varlong().unwrap(), i64::MIN);
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x10]).uvarint().is_err());
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]).uvarint().unwrap(), u32::MAX);
    }

    #[test]
    fn hostile_lengths_do_not_allocate() {
        // An array claiming 2^31-1 elements in a 5-byte buffer must fail before allocating.
        let bytes = [0x7f, 0xff, 0xff, 0xff, 0x00];
        let r = Vec::<i32>::decode(&mut Reader::new(&bytes), PLAIN);
        assert!(matches!(r, Err(ProtocolError::Truncated { .. })));
        let r = Bytes::decode(&mut Reader::new(&bytes), PLAIN);
        assert!(matches!(r, Err(ProtocolError::Truncated { .. })));
        let r = Option::<String>::decode(&mut Reader::new(&[0x7f, 0xff]), PLAIN);
        assert!(matches!(r, Err(ProtocolError::Truncated { .. })));
        assert!(matches!(
            Option::<String>::decode(&mut Reader::new(&[0xff, 0xfe]), PLAIN),
            Err(ProtocolError::Invalid { .. })
        ));
    }

    #[test]
    fn min_encoded_sizes_are_exact() {
        /// The default value is each type's smallest encoding (zero, empty, or null).
        fn check<T: Wire + Default>(cx: Ctx) {
            let mut out = Vec::new();
            T::default().encode(&mut out, cx).unwrap();
            assert_eq!(out.len(), T::min_encoded_size(cx), "{} {cx:?}", std::any::type_name::<T>());
        }
        for cx in [PLAIN, FLEX] {
            check::<i8>(cx);
            check::<i16>(cx);
            check::<u16>(cx);
            check::<i32>(cx);
            check::<u32>(cx);
            check::<i64>(cx);
            check::<f64>(cx);
            check::<bool>(cx);
            check::<Uuid>(cx);
            check::<String>(cx);
            check::<Option<String>>(cx);
            check::<Bytes>(cx);
            check::<Option<Bytes>>(cx);
            check::<Vec<Uuid>>(cx);
            check::<Option<Vec<Uuid>>>(cx);
        }
    }

    #[test]
    fn array_reservation_is_bounded_by_the_bytes_left() {
        assert_eq!(bounded_capacity::<u8>(10, 100, 1), 10, "an honest count is reserved in full");
        assert_eq!(bounded_capacity::<i64>(100, 100, 8), 12, "no more elements than the bytes can hold");
        assert_eq!(bounded_capacity::<[u8; 64]>(100, 100, 1), 1, "no more memory than the bytes left");
        assert_eq!(bounded_capacity::<u8>(5, 100, 0), 5, "a zero minimum counts as one byte");
        assert_eq!(bounded_capacity::<()>(5, 3, 1), 3);

        // A valid array of elements larger in memory than on the wire still decodes whole.
        let v: Vec<Vec<i8>> = vec![vec![]; 50];
        let mut out = Vec::new();
        v.encode(&mut out, FLEX).unwrap();
        assert_eq!(out.len(), 51);
        assert_eq!(Vec::<Vec<i8>>::decode(&mut Reader::new(&out), FLEX).unwrap(), v);
    }

    #[test]
    fn budget_is_charged_what_decoding_allocates() {
        // Two strings ("ab", "") and null bytes: the array's two `String`s plus two bytes of text.
        let mut out = Vec::new();
        vec!["ab".to_string(), String::new()].encode(&mut out, FLEX).unwrap();
        None::<Bytes>.encode(&mut out, FLEX).unwrap();
        Some(Bytes::from_static(b"xyz")).encode(&mut out, FLEX).unwrap();
        let mut r = Reader::with_budget(&out, 1000);
        let v = Vec::<String>::decode(&mut r, FLEX).unwrap();
        assert_eq!(r.budget_left(), 1000 - 2 * std::mem::size_of::<String>() - 2);
        assert_eq!(v, ["ab", ""]);
        assert_eq!(Option::<Bytes>::decode(&mut r, FLEX).unwrap(), None);
        assert_eq!(Bytes::decode(&mut r, FLEX).unwrap(), &b"xyz"[..]);
        assert_eq!(r.budget_left(), 1000 - 2 * std::mem::size_of::<String>() - 5);

        // The default budget is the factor times the input, plus the slack.
        assert_eq!(Reader::new(&out).budget_left(), DECODE_BUDGET_FACTOR * out.len() + DECODE_BUDGET_SLACK);
        assert_eq!(decode_budget(usize::MAX, 2), usize::MAX);
    }

    #[test]
    fn exhausted_budget_fails_before_allocating() {
        // 50 empty arrays: 51 bytes on the wire, 50 `Vec`s in memory.
        let v: Vec<Vec<i8>> = vec![vec![]; 50];
        let mut out = Vec::new();
        v.encode(&mut out, FLEX).unwrap();
        let need = 50 * std::mem::size_of::<Vec<i8>>();
        let mut r = Reader::with_budget(&out, need);
        let back = Vec::<Vec<i8>>::decode(&mut r, FLEX).unwrap();
        assert_eq!((back.len(), back.capacity(), r.budget_left()), (50, 50, 0), "reserved exactly");
        let e = Vec::<Vec<i8>>::decode(&mut Reader::with_budget(&out, need - 1), FLEX).unwrap_err();
        assert_eq!(e, ProtocolError::DecodeBudget { needed: need, left: need - 1, limit: need - 1 });
        // A string one byte over what is left fails; what was left stays.
        let mut out = Vec::new();
        "abc".to_string().encode(&mut out, PLAIN).unwrap();
        let mut r = Reader::with_budget(&out, 2);
        assert!(matches!(String::decode(&mut r, PLAIN), Err(ProtocolError::DecodeBudget { needed: 3, .. })));
        assert_eq!(r.budget_left(), 2);
    }

    #[test]
    fn dense_arrays_grow_to_their_count_exactly() {
        // 1000 empty arrays in 1001 bytes: the first reservation holds 1001 / 24 elements, then the
        // array grows once, to exactly its count, instead of doubling past it.
        let v: Vec<Vec<i8>> = vec![vec![]; 1000];
        let mut out = Vec::new();
        v.encode(&mut out, FLEX).unwrap();
        let back = Vec::<Vec<i8>>::decode(&mut Reader::with_budget(&out, usize::MAX), FLEX).unwrap();
        assert_eq!((back.len(), back.capacity()), (1000, 1000));
        // At 24× its size, more than the default budget allows.
        let e = Vec::<Vec<i8>>::decode(&mut Reader::new(&out), FLEX).unwrap_err();
        assert!(matches!(e, ProtocolError::DecodeBudget { .. }));
        let mut w = Vec::with_capacity(3);
        for i in 0..10 {
            push_charged(&mut w, i, 10);
        }
        assert_eq!(w.capacity(), 10);
    }

    #[test]
    fn sub_readers_spend_the_parents_budget() {
        let buf = [0u8; 8];
        let mut r = Reader::with_budget(&buf, 100);
        r.sub_reader(4, |sub| {
            assert_eq!(sub.budget_left(), 100);
            sub.charge(60)
        })
        .unwrap();
        assert_eq!((r.budget_left(), r.remaining()), (40, 4));
        // Charges made before a failure inside the sub-reader stay spent.
        let e = r.sub_reader(2, |sub| {
            sub.charge(30)?;
            sub.charge(30)
        });
        assert!(matches!(e, Err(ProtocolError::DecodeBudget { needed: 30, left: 10, limit: 100 })));
        assert_eq!(r.budget_left(), 10);
        assert!(matches!(r.sub_reader(3, |_| Ok(())), Err(ProtocolError::Truncated { needed: 1 })));
    }

    #[test]
    fn tagged_fields_skipped() {
        let mut out = Vec::new();
        put_tagged_fields(&mut out, &[(0, vec![1, 2, 3]), (7, vec![])]).unwrap();
        let mut r = Reader::new(&out);
        assert_eq!(r.skip_tagged_fields().unwrap(), 2);
        assert!(r.is_empty());
    }

    proptest! {
        #[test]
        fn varints(v: i32, l: i64, u: u32, ul: u64) {
            let mut out = Vec::new();
            put_varint(&mut out, v); put_varlong(&mut out, l); put_uvarint(&mut out, u); put_uvarlong(&mut out, ul);
            prop_assert_eq!(out.len(), varint_len(v) + varlong_len(l) + uvarint_len(u) + uvarlong_len(ul));
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.varint().unwrap(), v);
            prop_assert_eq!(r.varlong().unwrap(), l);
            prop_assert_eq!(r.uvarint().unwrap(), u);
            prop_assert_eq!(r.uvarlong().unwrap(), ul);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn strings_bytes_arrays(s: String, os: Option<String>, b: Vec<u8>, ob: Option<Vec<u8>>, a: Vec<i64>, oa: Option<Vec<String>>, flex: bool) {
            let cx = Ctx { version: 0, flexible: flex };
            roundtrip(&s, cx);
            roundtrip(&os, cx);
            roundtrip(&Bytes::from(b), cx);
            roundtrip(&ob.map(Bytes::from), cx);
            roundtrip(&a, cx);
            roundtrip(&oa, cx);
        }

        #[test]
        fn ints(a: i8, b: i16, c: i32, d: i64, e: u16, f: u32, g: bool, u: Uuid) {
            roundtrip(&a, PLAIN); roundtrip(&b, PLAIN); roundtrip(&c, PLAIN); roundtrip(&d, PLAIN);
            roundtrip(&e, PLAIN); roundtrip(&f, PLAIN); roundtrip(&g, PLAIN); roundtrip(&u, PLAIN);
        }

        #[test]
        fn decode_never_panics(data: Vec<u8>, flex: bool) {
            let cx = Ctx { version: 0, flexible: flex };
            let _ = Vec::<Option<String>>::decode(&mut Reader::new(&data), cx);
            let _ = Option::<Vec<Bytes>>::decode(&mut Reader::new(&data), cx);
            let _ = Reader::new(&data).skip_tagged_fields();
        }
    }
}
