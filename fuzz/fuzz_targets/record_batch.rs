//! Record batch reading on arbitrary bytes: batch headers, CRC, decompression (bounded) and records.
//! The first input byte chooses whether the CRC is patched to match first, so the fuzzer also reaches
//! the record and decompression code behind the CRC check.
#![no_main]

use kprod::compression::Decompressor;
use kprod::protocol::record::decode_batches;
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
        if let Ok(records) = batch.records(&mut decompressor, &mut scratch, 1 << 20) {
            for record in records {
                match record {
                    Ok(r) => {
                        let _ = r.control();
                    }
                    Err(_) => break,
                }
            }
        }
    }
});
