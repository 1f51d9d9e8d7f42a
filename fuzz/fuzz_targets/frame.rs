//! Frame splitting and request-header decoding on arbitrary bytes: never panics, never reads past the
//! buffer, never accepts a frame above the maximum.
#![no_main]

use kprod::protocol::{decode_request_header, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((body, tail))) = frame::split_frame(rest, 1 << 20) {
        assert!(body.len() <= 1 << 20);
        if let Ok((_header, mut r)) = decode_request_header(body) {
            let _ = kprod::protocol::header::RequestHeader::decode_tagged(&mut r);
        }
        rest = tail;
    }
});
