//! Record batch reading on arbitrary bytes: batch headers, CRC, decompression (bounded), records, owned
//! decoding (`decode_records`, whose reservation must stay bounded by the input) and the in-place header
//! rewrites. The first input byte chooses whether the CRC is patched to match first, so the fuzzer also
//! reaches the record and decompression code behind the CRC check.
#![no_main]

use kprod::compression::Decompressor;
use kprod::protocol::record::{decode_batches, restamp, set_base_offset, set_log_append_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else { return };
    let mut data = data.to_vec();
    if mode & 1 == 1 && data.len() >= 61 {
        let crc = crc32c::crc32c(&data[21..]);
        data[17..21].copy_from_slice(&crc.to_be_bytes());
    }
    let mut decompressor = Decompressor::new();
    let mut scratch = Vec::new();
    for batch in decode_batches(&data) {
        let Ok(batch) = batch else { break };
        let _ = (batch.last_offset(), batch.next_offset());
        if let Ok(records) = batch.records(&mut decompressor, &mut scratch, 1 << 20) {
            for record in records {
                match record {
                    Ok(r) => {
                        let _ = r.control();
                        let _ = (batch.record_offset(&r), batch.record_timestamp(&r));
                        assert_eq!(r.headers.count(), r.headers.len());
                    }
                    Err(_) => break,
                }
            }
        }
        if mode & 2 == 2 {
            if let Ok(owned) = batch.decode_records() {
                assert!(owned.len() <= usize::try_from(batch.record_count).unwrap_or(0));
            }
        }
    }
    // The rewrites validate the header before touching it; a rewritten valid batch stays valid.
    if mode & 4 == 4 {
        let was_valid = matches!(decode_batches(&data).next(), Some(Ok(_)));
        let ok = restamp(&mut data, 7, 3, 11, mode & 8 == 8).is_ok()
            & set_base_offset(&mut data, i64::MAX).is_ok()
            & set_log_append_time(&mut data, i64::MIN).is_ok();
        if was_valid {
            assert!(ok);
            assert!(matches!(decode_batches(&data).next(), Some(Ok(_))));
        }
    }
});
