//! librdkafka's exported partitioner functions (for `partitioner_cb` callers) and
//! `rd_kafka_topic_partition_available`. The hashes are librdkafka's: CRC32 (`consistent`),
//! Java's murmur2 with the sign bit cleared (`murmur2`), FNV-1a with its absolute value (`fnv1a`).

use std::cell::Cell;
use std::ffi::{c_int, c_void};

use crate::handle::rd_kafka_topic_t;

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
        seed ^ (std::ptr::addr_of!(seed) as u64) | 1
    });
}

/// A uniform partition in `0..cnt` (xorshift64*: cheap, per thread, not for secrets).
fn random(cnt: i32) -> i32 {
    if cnt <= 0 {
        return -1;
    }
    let r = RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    });
    (r % cnt as u64) as i32
}

unsafe fn key_bytes<'a>(key: *const c_void, keylen: usize) -> &'a [u8] {
    if key.is_null() || keylen == 0 {
        return &[];
    }
    // SAFETY: the caller's key of keylen bytes (API contract).
    unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) }
}

use kprod::partitioner::fnv1a;

fn modulo(h: u32, cnt: i32) -> i32 {
    if cnt <= 0 {
        return -1;
    }
    (h % cnt as u32) as i32
}

macro_rules! partitioner {
    ($(#[$doc:meta])* $name:ident, |$key:ident, $null:ident, $cnt:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            rkt: *const rd_kafka_topic_t,
            key: *const c_void,
            keylen: usize,
            partition_cnt: i32,
            rkt_opaque: *mut c_void,
            msg_opaque: *mut c_void,
        ) -> i32 {
            let _ = (rkt, rkt_opaque, msg_opaque);
            // SAFETY: the caller's key of keylen bytes.
            let $key = unsafe { key_bytes(key, keylen) };
            let $null = key.is_null();
            let $cnt = partition_cnt;
            $body
        }
    };
}

partitioner!(
    /// A random partition.
    rd_kafka_msg_partitioner_random, |_k, _null, cnt| random(cnt));
partitioner!(
    /// CRC32 of the key.
    rd_kafka_msg_partitioner_consistent, |k, _null, cnt| modulo(kprod::partitioner::crc32(k), cnt));
partitioner!(
/// CRC32 of the key; a random partition for an empty key.
rd_kafka_msg_partitioner_consistent_random, |k, _null, cnt| if k.is_empty() {
    random(cnt)
} else {
    modulo(kprod::partitioner::crc32(k), cnt)
});
partitioner!(
    /// Java's murmur2 of the key (sign bit cleared).
    rd_kafka_msg_partitioner_murmur2, |k, _null, cnt| modulo((kprod::partitioner::murmur2(k) & 0x7fff_ffff) as u32, cnt));
partitioner!(
/// Java's murmur2 of the key; a random partition for a NULL key.
rd_kafka_msg_partitioner_murmur2_random, |k, null, cnt| if null {
    random(cnt)
} else {
    modulo((kprod::partitioner::murmur2(k) & 0x7fff_ffff) as u32, cnt)
});
partitioner!(
    /// FNV-1a of the key.
    rd_kafka_msg_partitioner_fnv1a, |k, _null, cnt| modulo(fnv1a(k), cnt));
partitioner!(
    /// FNV-1a of the key; a random partition for a NULL key.
    rd_kafka_msg_partitioner_fnv1a_random, |k, null, cnt| if null { random(cnt) } else { modulo(fnv1a(k), cnt) });

/// 1: kprod's partitioners consult leadership themselves; a custom partitioner is not supported.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_available(
    rkt: *const rd_kafka_topic_t,
    partition: i32,
) -> c_int {
    let _ = (rkt, partition);
    1
}

/// A `partitioner_cb` of the default topic configuration, as kprod's partitioner: called on the
/// producing thread with the topic object, the key, the partition count and the topic's opaque;
/// `msg_opaque` is NULL (kprod's partitioner does not see it).
pub(crate) struct CPartitioner {
    pub cb: crate::conf::PartitionerCb,
    /// The handle (alive while its producer runs).
    pub rk: usize,
    /// The default topic configuration's opaque, for topics without their own.
    pub opaque: usize,
}

impl kprod::partitioner::Partitioner for CPartitioner {
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        _value: Option<&[u8]>,
        partitions: &kprod::partitioner::TopicPartitions<'_>,
    ) -> i32 {
        // SAFETY: the handle outlives its producer, which is what calls this.
        let Some(rk) = (unsafe { (self.rk as *const crate::handle::rd_kafka_s).as_ref() }) else { return -1 };
        let rkt = rk.topic_ptr(topic);
        // SAFETY: topic objects live as long as the handle.
        let topic_opaque = unsafe { &*rkt }.opaque.load(std::sync::atomic::Ordering::Acquire);
        let opaque = if topic_opaque.is_null() { self.opaque as *mut c_void } else { topic_opaque };
        let (kp, kl) = key.map_or((std::ptr::null(), 0), |k| (k.as_ptr().cast::<c_void>(), k.len()));
        // SAFETY: the application's partitioner with librdkafka's arguments; the key lives for the
        // call. A panic cannot come out of C code; the result is range-checked by kprod.
        unsafe { (self.cb)(rkt, kp, kl, partitions.num_partitions(), opaque, std::ptr::null_mut()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_librdkafkas() {
        // FNV-1a 32 of "kafka" (offset basis 2166136261, prime 16777619), absolute value as i32.
        let mut h: u32 = 0x811C_9DC5;
        for b in b"kafka" {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
        assert_eq!(fnv1a(b"kafka"), (h as i32).wrapping_abs() as u32);
        // SAFETY: a valid key pointer and length.
        let p = unsafe {
            rd_kafka_msg_partitioner_consistent(
                std::ptr::null(),
                b"key".as_ptr().cast(),
                3,
                7,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(p, (kprod::partitioner::crc32(b"key") % 7) as i32);
        for _ in 0..1000 {
            assert!((0..7).contains(&random(7)));
        }
    }
}
