//! Kafka's record-batch compression codecs, as a pure library (no threads, no I/O).
//!
//! The codec id lives in the low three bits of a v2 batch's attributes. Formats, as Kafka's Java client
//! writes and reads them:
//! - gzip (1): an RFC 1952 gzip stream.
//! - snappy (2): snappy-java's "xerial" framing — an 8-byte magic, two int32 versions, then blocks each
//!   prefixed by an int32 compressed length. We write that (every Kafka consumer reads it) and read both
//!   framed and raw (a single raw snappy block, as some non-Java clients write).
//! - lz4 (3): the LZ4 frame format with 64 KiB independent blocks and no checksums but the header's
//!   (KIP-57 fixed that checksum for magic 1+ batches).
//! - zstd (4): standard zstd frames.
//!
//! Decompression always takes an output cap, so a small hostile payload cannot expand into unbounded
//! memory.

use std::io::{Read, Write};

/// Compression codec, as carried in the low 3 bits of a v2 record batch's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CompressionType {
    /// No compression.
    #[default]
    None = 0,
    /// gzip (RFC 1952).
    Gzip = 1,
    /// snappy (xerial framing).
    Snappy = 2,
    /// LZ4 frame format.
    Lz4 = 3,
    /// zstd.
    Zstd = 4,
}

impl CompressionType {
    /// Every codec, `None` first.
    pub const ALL: [CompressionType; 5] = [
        CompressionType::None,
        CompressionType::Gzip,
        CompressionType::Snappy,
        CompressionType::Lz4,
        CompressionType::Zstd,
    ];

    /// The codec named by a batch's attributes (bits 0–2); ids 5–7 are errors.
    pub fn from_attributes(attrs: i16) -> Result<Self, CompressionError> {
        match attrs & 0x07 {
            0 => Ok(CompressionType::None),
            1 => Ok(CompressionType::Gzip),
            2 => Ok(CompressionType::Snappy),
            3 => Ok(CompressionType::Lz4),
            4 => Ok(CompressionType::Zstd),
            other => Err(CompressionError::UnknownCodec(other)),
        }
    }

    /// The attribute id (0–4).
    pub fn id(self) -> i16 {
        self as i16
    }

    /// The `compression.type` name: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::None => "none",
            CompressionType::Gzip => "gzip",
            CompressionType::Snappy => "snappy",
            CompressionType::Lz4 => "lz4",
            CompressionType::Zstd => "zstd",
        }
    }

    /// Kafka 4.x's default level for the codec (`compression.<codec>.level`), if it has levels.
    pub fn default_level(self) -> Option<i32> {
        match self {
            CompressionType::Gzip => Some(6),
            CompressionType::Lz4 => Some(9),
            CompressionType::Zstd => Some(3),
            _ => None,
        }
    }

    /// The levels Kafka 4.x accepts for the codec, inclusive.
    pub fn level_range(self) -> Option<(i32, i32)> {
        match self {
            // Java also accepts -1 (Deflater.DEFAULT_COMPRESSION) for gzip.
            CompressionType::Gzip => Some((-1, 9)),
            CompressionType::Lz4 => Some((1, 17)),
            CompressionType::Zstd => Some((-131_072, 22)),
            _ => None,
        }
    }
}

impl std::fmt::Display for CompressionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CompressionType {
    type Err = CompressionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CompressionType::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| CompressionError::UnknownName(s.to_string()))
    }
}

/// An error from compressing or decompressing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompressionError {
    /// Attribute bits name no codec.
    #[error("unknown compression codec id {0}")]
    UnknownCodec(i16),
    /// Not a `compression.type` name.
    #[error("unknown compression type '{0}' (expected none, gzip, snappy, lz4 or zstd)")]
    UnknownName(String),
    /// A level outside the codec's range.
    #[error("compression.{codec}.level must be between {min} and {max}, got {level}")]
    InvalidLevel {
        /// The codec.
        codec: &'static str,
        /// The level given.
        level: i32,
        /// Lowest accepted.
        min: i32,
        /// Highest accepted.
        max: i32,
    },
    /// The input is not valid for the codec.
    #[error("corrupt {codec} data: {reason}")]
    Corrupt {
        /// The codec.
        codec: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// Decompressed output would exceed the cap.
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
}

fn corrupt(codec: CompressionType, e: impl std::fmt::Display) -> CompressionError {
    CompressionError::Corrupt { codec: codec.name(), reason: e.to_string() }
}

/// Snappy-java's stream header: magic, then format version 1 and minimum compatible version 1.
const XERIAL_HEADER: [u8; 16] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1];
/// snappy-java's default block size (what Java's producer writes).
const XERIAL_BLOCK: usize = 32 * 1024;

/// A reusable compressor for one codec and level; keeps its codec context (zstd, snappy encoder) across
/// batches.
pub struct Compressor {
    ty: CompressionType,
    level: i32,
    zstd: Option<zstd::bulk::Compressor<'static>>,
    /// Raw deflate state for gzip, reset per batch instead of rebuilt.
    deflate: Option<flate2::Compress>,
    snappy: snap::raw::Encoder,
    /// zstd's output buffer, kept across batches so steady-state compression does not allocate.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").field("type", &self.ty).field("level", &self.level).finish()
    }
}

impl Compressor {
    /// A compressor for `ty` at `level` (the codec's Kafka default when `None`).
    pub fn new(ty: CompressionType, level: Option<i32>) -> Result<Self, CompressionError> {
        let level = match (level, ty.level_range()) {
            (Some(l), Some((min, max))) if l < min || l > max => {
                return Err(CompressionError::InvalidLevel { codec: ty.name(), level: l, min, max })
            }
            (Some(l), Some(_)) => l,
            _ => ty.default_level().unwrap_or(0),
        };
        let zstd = match ty {
            CompressionType::Zstd => Some(zstd::bulk::Compressor::new(level).map_err(|e| corrupt(ty, e))?),
            _ => None,
        };
        let deflate = match ty {
            CompressionType::Gzip => {
                let l = if level < 0 { 6 } else { level as u32 };
                Some(flate2::Compress::new(flate2::Compression::new(l), false))
            }
            _ => None,
        };
        Ok(Compressor { ty, level, zstd, deflate, snappy: snap::raw::Encoder::new(), scratch: Vec::new() })
    }

    /// The codec.
    pub fn compression_type(&self) -> CompressionType {
        self.ty
    }

    /// Appends the compressed form of `input` to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
        let ty = self.ty;
        match ty {
            CompressionType::None => out.extend_from_slice(input),
            CompressionType::Gzip => {
                let d = self.deflate.as_mut().ok_or_else(|| corrupt(ty, "no deflate context"))?;
                gzip_into(d, input, out).map_err(|e| corrupt(ty, e))?;
            }
            CompressionType::Snappy => {
                out.extend_from_slice(&XERIAL_HEADER);
                for block in input.chunks(XERIAL_BLOCK) {
                    let at = out.len();
                    out.extend_from_slice(&[0; 4]);
                    let start = out.len();
                    out.resize(start + snap::raw::max_compress_len(block.len()), 0);
                    let n = self.snappy.compress(block, &mut out[start..]).map_err(|e| corrupt(ty, e))?;
                    out.truncate(start + n);
                    out[at..at + 4].copy_from_slice(&(n as u32).to_be_bytes());
                }
            }
            CompressionType::Lz4 => {
                // lz4_flex compresses at one speed; the level is validated but cannot change the output.
                let info = lz4_flex::frame::FrameInfo::new()
                    .block_size(lz4_flex::frame::BlockSize::Max64KB)
                    .block_mode(lz4_flex::frame::BlockMode::Independent);
                let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
                enc.write_all(input).map_err(|e| corrupt(ty, e))?;
                enc.finish().map_err(|e| corrupt(ty, e))?;
            }
            CompressionType::Zstd => {
                let z = self.zstd.as_mut().ok_or_else(|| corrupt(ty, "no zstd context"))?;
                // compress_to_buffer writes from the start of the Vec, so go through our own buffer.
                self.scratch.clear();
                self.scratch.reserve(zstd::zstd_safe::compress_bound(input.len()));
                z.compress_to_buffer(input, &mut self.scratch).map_err(|e| corrupt(ty, e))?;
                out.extend_from_slice(&self.scratch);
            }
        }
        Ok(())
    }
}

/// Appends an RFC 1952 gzip member holding `input` to `out`, deflating with the reused `d`.
fn gzip_into(d: &mut flate2::Compress, input: &[u8], out: &mut Vec<u8>) -> Result<(), std::io::Error> {
    // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    d.reset();
    let start_in = d.total_in();
    loop {
        let consumed = (d.total_in() - start_in) as usize;
        out.reserve(input.len().saturating_sub(consumed) / 2 + 64);
        let rest = input.get(consumed..).unwrap_or_default();
        let status = d
            .compress_vec(rest, out, flate2::FlushCompress::Finish)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if status == flate2::Status::StreamEnd {
            break;
        }
    }
    let mut crc = flate2::Crc::new();
    crc.update(input);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the input length modulo 2^32.
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
    Ok(())
}

/// A reusable decompressor for every codec.
#[derive(Debug, Default)]
pub struct Decompressor {
    snappy: snap::raw::Decoder,
}

impl Decompressor {
    /// A new decompressor.
    pub fn new() -> Self {
        Decompressor::default()
    }

    /// Appends the decompressed form of `input` to `out`, failing with [`CompressionError::TooLarge`]
    /// rather than growing `out` by more than `max_output` bytes.
    pub fn decompress(
        &mut self,
        ty: CompressionType,
        input: &[u8],
        out: &mut Vec<u8>,
        max_output: usize,
    ) -> Result<(), CompressionError> {
        match ty {
            CompressionType::None => {
                if input.len() > max_output {
                    return Err(CompressionError::TooLarge { limit: max_output });
                }
                out.extend_from_slice(input);
                Ok(())
            }
            CompressionType::Gzip => read_capped(ty, flate2::read::GzDecoder::new(input), out, max_output),
            CompressionType::Lz4 => {
                read_capped(ty, lz4_flex::frame::FrameDecoder::new(input), out, max_output)
            }
            CompressionType::Zstd => {
                let dec = zstd::stream::read::Decoder::with_buffer(input).map_err(|e| corrupt(ty, e))?;
                read_capped(ty, dec, out, max_output)
            }
            CompressionType::Snappy => self.snappy(input, out, max_output),
        }
    }

    fn snappy(&mut self, input: &[u8], out: &mut Vec<u8>, max_output: usize) -> Result<(), CompressionError> {
        let ty = CompressionType::Snappy;
        let start = out.len();
        let mut block = |data: &[u8], out: &mut Vec<u8>| -> Result<(), CompressionError> {
            let n = snap::raw::decompress_len(data).map_err(|e| corrupt(ty, e))?;
            if out.len() - start + n > max_output {
                return Err(CompressionError::TooLarge { limit: max_output });
            }
            let at = out.len();
            out.resize(at + n, 0);
            let got = self.snappy.decompress(data, &mut out[at..]).map_err(|e| corrupt(ty, e))?;
            out.truncate(at + got);
            Ok(())
        };
        if input.len() >= 8 && input[..8] == XERIAL_HEADER[..8] {
            let mut rest = input.get(16..).ok_or_else(|| corrupt(ty, "truncated xerial header"))?;
            while !rest.is_empty() {
                let (len, tail) =
                    rest.split_at_checked(4).ok_or_else(|| corrupt(ty, "truncated block length"))?;
                let n = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (data, tail) = tail.split_at_checked(n).ok_or_else(|| corrupt(ty, "truncated block"))?;
                block(data, out)?;
                rest = tail;
            }
            Ok(())
        } else {
            block(input, out)
        }
    }
}

/// Reads `r` to its end into `out`, refusing to add more than `max` bytes.
fn read_capped(
    ty: CompressionType,
    r: impl Read,
    out: &mut Vec<u8>,
    max: usize,
) -> Result<(), CompressionError> {
    let start = out.len();
    r.take(max as u64 + 1).read_to_end(out).map_err(|e| corrupt(ty, e))?;
    if out.len() - start > max {
        out.truncate(start);
        return Err(CompressionError::TooLarge { limit: max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<u8> {
        let mut s = String::new();
        for i in 0..12_000 {
            s.push_str(&format!(
                r#"{{"id":{i},"user":"user-{}","event":"click","ts":{},"tags":["a","b{}"]}}"#,
                i % 97,
                1_700_000_000_000u64 + i * 13,
                i % 7
            ));
        }
        s.into_bytes()
    }

    fn roundtrip(ty: CompressionType, level: Option<i32>, data: &[u8]) {
        let mut c = Compressor::new(ty, level).unwrap();
        let mut z = Vec::new();
        c.compress(data, &mut z).unwrap();
        let mut back = Vec::new();
        Decompressor::new().decompress(ty, &z, &mut back, data.len()).unwrap();
        assert_eq!(back, data, "{ty} level {level:?}");
    }

    #[test]
    fn every_codec_and_level_round_trips() {
        let big = corpus();
        assert!(big.len() > 700_000);
        for ty in CompressionType::ALL {
            let levels: Vec<Option<i32>> = match ty.level_range() {
                Some((min, max)) => vec![None, Some(min.max(-5)), Some(max.min(19)), Some(1)],
                None => vec![None],
            };
            for level in levels {
                for data in [&b""[..], &b"hello kafka"[..], &big[..]] {
                    roundtrip(ty, level, data);
                }
            }
        }
    }

    #[test]
    fn compressors_shrink_json() {
        let big = corpus();
        for ty in
            [CompressionType::Gzip, CompressionType::Snappy, CompressionType::Lz4, CompressionType::Zstd]
        {
            let mut z = Vec::new();
            Compressor::new(ty, None).unwrap().compress(&big, &mut z).unwrap();
            assert!(z.len() * 3 < big.len(), "{ty}: {} -> {}", big.len(), z.len());
        }
    }

    #[test]
    fn reused_compressor_matches_fresh() {
        let big = corpus();
        for ty in CompressionType::ALL {
            let mut reused = Compressor::new(ty, None).unwrap();
            for i in 0..100 {
                let chunk = &big[(i * 997) % 50_000..][..5_000 + i * 10];
                let (mut a, mut b) = (Vec::new(), Vec::new());
                reused.compress(chunk, &mut a).unwrap();
                Compressor::new(ty, None).unwrap().compress(chunk, &mut b).unwrap();
                assert_eq!(a, b, "{ty} batch {i}");
            }
        }
    }

    #[test]
    fn bombs_stop_at_the_cap() {
        let zeros = vec![0u8; 64 << 20];
        for ty in
            [CompressionType::Gzip, CompressionType::Snappy, CompressionType::Lz4, CompressionType::Zstd]
        {
            let mut z = Vec::new();
            Compressor::new(ty, None).unwrap().compress(&zeros, &mut z).unwrap();
            let mut out = Vec::new();
            let r = Decompressor::new().decompress(ty, &z, &mut out, 1 << 20);
            assert!(matches!(r, Err(CompressionError::TooLarge { .. })), "{ty}: {r:?}");
            assert!(out.capacity() < 8 << 20, "{ty} grew to {}", out.capacity());
        }
    }

    #[test]
    fn snappy_reads_raw_and_framed() {
        let data = b"snappy snappy snappy snappy data".repeat(3000);
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut out = Vec::new();
        Decompressor::new().decompress(CompressionType::Snappy, &raw, &mut out, usize::MAX).unwrap();
        assert_eq!(out, data);
        let mut framed = Vec::new();
        Compressor::new(CompressionType::Snappy, None).unwrap().compress(&data, &mut framed).unwrap();
        assert_eq!(&framed[..16], &XERIAL_HEADER);
        // 96 KiB of input makes 3 blocks of 32 KiB, as snappy-java writes them.
        let first = u32::from_be_bytes(framed[16..20].try_into().unwrap()) as usize;
        let block = snap::raw::Decoder::new().decompress_vec(&framed[20..20 + first]).unwrap();
        assert_eq!(block.len(), XERIAL_BLOCK);
        out.clear();
        Decompressor::new().decompress(CompressionType::Snappy, &framed, &mut out, usize::MAX).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn lz4_writes_frame_format() {
        let mut z = Vec::new();
        Compressor::new(CompressionType::Lz4, None).unwrap().compress(b"abc", &mut z).unwrap();
        assert_eq!(&z[..4], &[0x04, 0x22, 0x4d, 0x18], "LZ4 frame magic 0x184D2204");
        // FLG: version 01, independent blocks, no checksums, no content size; BD: 64 KiB blocks.
        assert_eq!(z[4] & 0xc0, 0x40);
        assert_eq!(z[4] & 0x20, 0x20, "independent blocks");
        assert_eq!(z[5] >> 4 & 0x7, 4, "64 KiB max block size");
    }

    #[test]
    fn levels_and_names_are_checked() {
        assert!(matches!(
            Compressor::new(CompressionType::Gzip, Some(10)),
            Err(CompressionError::InvalidLevel { codec: "gzip", .. })
        ));
        assert!(Compressor::new(CompressionType::Lz4, Some(0)).is_err());
        assert!(Compressor::new(CompressionType::Zstd, Some(23)).is_err());
        assert_eq!("zstd".parse::<CompressionType>().unwrap(), CompressionType::Zstd);
        assert!("brotli".parse::<CompressionType>().is_err());
        assert_eq!(CompressionType::from_attributes(0x13).unwrap(), CompressionType::Lz4);
        assert!(CompressionType::from_attributes(5).is_err());
    }

    #[test]
    fn corrupt_input_is_an_error() {
        for ty in
            [CompressionType::Gzip, CompressionType::Snappy, CompressionType::Lz4, CompressionType::Zstd]
        {
            let mut out = Vec::new();
            assert!(
                Decompressor::new()
                    .decompress(ty, b"\x82SNAPPY\x00garbage!\x00\x00\x00\x05abc", &mut out, 1 << 20)
                    .is_err(),
                "{ty}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_round_trip(data: Vec<u8>, codec in 0i16..5) {
            roundtrip(CompressionType::from_attributes(codec).unwrap(), None, &data);
        }

        #[test]
        fn arbitrary_input_never_panics(data: Vec<u8>, codec in 1i16..5) {
            let _ = Decompressor::new().decompress(CompressionType::from_attributes(codec).unwrap(), &data, &mut Vec::new(), 1 << 16);
        }
    }
}
