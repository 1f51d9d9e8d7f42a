//! Size-prefixed framing: every request and response is an int32 byte count followed by that many bytes.

use super::ProtocolError;

/// The default largest frame kprod accepts from a broker (Kafka's own client default for
/// `socket.request.max.bytes` is 100 MiB; responses to a producer are small, but stay generous).
pub const DEFAULT_MAX_FRAME: usize = 100 * 1024 * 1024;

/// Looks at the start of `buf` and returns the length of the frame body when the whole frame (prefix and
/// body) is present, `Ok(None)` when more bytes are needed, or an error for a negative or oversized prefix.
/// Checking the size before reading the body means a hostile peer cannot make us buffer more than `max`.
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, ProtocolError> {
    let Some(prefix) = buf.get(..4) else { return Ok(None) };
    let n = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let n = usize::try_from(n).map_err(|_| ProtocolError::invalid("frame", format!("negative size {n}")))?;
    if n > max {
        return Err(ProtocolError::FrameTooLarge { size: n, max });
    }
    Ok(if buf.len() - 4 >= n { Some(n) } else { None })
}

/// A complete frame body and the bytes after it.
pub type SplitFrame<'a> = (&'a [u8], &'a [u8]);

/// Splits one complete frame off the front of `buf`: returns `(body, rest)`, or `None` when incomplete.
pub fn split_frame(buf: &[u8], max: usize) -> Result<Option<SplitFrame<'_>>, ProtocolError> {
    Ok(frame_len(buf, max)?.and_then(|n| buf.get(4..4 + n).zip(buf.get(4 + n..))))
}

/// Reserves the 4-byte size prefix at the current end of `out`; returns its position for [`finish_frame`].
pub fn start_frame(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    at
}

/// Patches the size prefix written by [`start_frame`] at `at`.
pub fn finish_frame(out: &mut [u8], at: usize) -> Result<(), ProtocolError> {
    finish_split_frame(out, at, 0)
}

/// Like [`finish_frame`] for a frame of which `elsewhere` more bytes are written from other buffers.
pub fn finish_split_frame(out: &mut [u8], at: usize, elsewhere: usize) -> Result<(), ProtocolError> {
    let body = out.len().saturating_sub(at + 4).saturating_add(elsewhere);
    let n = i32::try_from(body).map_err(|_| ProtocolError::TooLong { what: "frame", len: body })?;
    if let Some(prefix) = out.get_mut(at..at + 4) {
        prefix.copy_from_slice(&n.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(frame_len(&[0, 0], 10).unwrap(), None);
        assert_eq!(frame_len(&[0, 0, 0, 3, 1, 2], 10).unwrap(), None);
        let buf = [0, 0, 0, 2, 7, 8, 9];
        let (body, rest) = split_frame(&buf, 10).unwrap().unwrap();
        assert_eq!(body, [7, 8]);
        assert_eq!(rest, [9]);
        assert!(matches!(frame_len(&[0, 0, 1, 0], 10), Err(ProtocolError::FrameTooLarge { size: 256, .. })));
        assert!(frame_len(&[0xff, 0xff, 0xff, 0xff], 10).is_err());
        let mut out = vec![9];
        let at = start_frame(&mut out);
        out.extend_from_slice(b"abc");
        finish_frame(&mut out, at).unwrap();
        assert_eq!(out, [9, 0, 0, 0, 3, b'a', b'b', b'c']);
    }
}
