//! What SASL reads from a broker (SCRAM server-first and server-final messages, OAUTHBEARER
//! challenges) and the token and JAAS parsers, over arbitrary bytes: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kprod::security_fuzzing::sasl_server_bytes(data);
});
