//! Versions and debug contexts.

use std::ffi::{c_char, c_int};

/// The librdkafka API level implemented: 2.12.1 (programs compare `rd_kafka_version()` with it).
pub const RD_KAFKA_VERSION: c_int = 0x020c_01ff;

static VERSION_STR: &[u8] = concat!("2.12.1-kprod-", env!("CARGO_PKG_VERSION"), "\0").as_bytes();

/// librdkafka's debug contexts (`debug=`): accepted; any of them turns on kprod's debug log.
pub(crate) static DEBUG_CONTEXTS: &str = "all,generic,broker,topic,metadata,feature,queue,msg,protocol,cgrp,security,fetch,interceptor,plugin,consumer,admin,eos,mock,assignor,conf,telemetry";
static DEBUG_CONTEXTS_C: &[u8] = b"all,generic,broker,topic,metadata,feature,queue,msg,protocol,cgrp,security,fetch,interceptor,plugin,consumer,admin,eos,mock,assignor,conf,telemetry\0";

/// The API level, as librdkafka's hex `MMmmrrxx`.
#[no_mangle]
pub extern "C" fn rd_kafka_version() -> c_int {
    RD_KAFKA_VERSION
}

/// `2.12.1-kprod-<kprod version>`: the API level, and that this is kprod.
#[no_mangle]
pub extern "C" fn rd_kafka_version_str() -> *const c_char {
    VERSION_STR.as_ptr().cast()
}

/// The comma-separated debug contexts.
#[no_mangle]
pub extern "C" fn rd_kafka_get_debug_contexts() -> *const c_char {
    DEBUG_CONTEXTS_C.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    #[test]
    fn contexts_agree() {
        assert_eq!(
            &super::DEBUG_CONTEXTS_C[..super::DEBUG_CONTEXTS_C.len() - 1],
            super::DEBUG_CONTEXTS.as_bytes()
        );
    }
}
