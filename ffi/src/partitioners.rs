//! librdkafka's exported partitioner functions (for `partitioner_cb` callers) and
//! `rd_kafka_topic_partition_available`: each is kprod's partitioner of the same name
//! (`kprod::partitioner`, librdkafka's hashes), over a topic of `partition_cnt` partitions.

use std::ffi::{c_int, c_void};

use kprod::partitioner::{self as p, Partitioner, TopicPartitions};

use crate::handle::rd_kafka_topic_t;

/// `partitioner`'s choice for the C key (NULL: no key; a length of 0: an empty key); -1 for a
/// partition count that is not positive.
unsafe fn partition_with(partitioner: &dyn Partitioner, key: *const c_void, keylen: usize, cnt: i32) -> i32 {
    if cnt <= 0 {
        return -1;
    }
    let key = if key.is_null() {
        None
    } else if keylen == 0 {
        Some(&[][..])
    } else {
        // SAFETY: the caller's key of keylen bytes (API contract).
        Some(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) })
    };
    partitioner.partition("", key, None, &TopicPartitions::new(cnt, &[]))
}

macro_rules! partitioner {
    ($(#[$doc:meta])* $name:ident, $partitioner:expr) => {
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
            unsafe { partition_with(&$partitioner, key, keylen, partition_cnt) }
        }
    };
}

partitioner!(
    /// A random partition.
    rd_kafka_msg_partitioner_random, p::Random);
partitioner!(
    /// CRC32 of the key.
    rd_kafka_msg_partitioner_consistent, p::Consistent);
partitioner!(
    /// CRC32 of the key; a random partition for a NULL or empty key.
    rd_kafka_msg_partitioner_consistent_random, p::ConsistentRandom);
partitioner!(
    /// Java's murmur2 of the key (sign bit cleared).
    rd_kafka_msg_partitioner_murmur2, p::Murmur2);
partitioner!(
    /// Java's murmur2 of the key; a random partition for a NULL key.
    rd_kafka_msg_partitioner_murmur2_random, p::Murmur2Random);
partitioner!(
    /// FNV-1a of the key.
    rd_kafka_msg_partitioner_fnv1a, p::Fnv1a);
partitioner!(
    /// FNV-1a of the key; a random partition for a NULL key.
    rd_kafka_msg_partitioner_fnv1a_random, p::Fnv1aRandom);

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
    fn the_exported_functions_are_kprods_partitioners() {
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
        // SAFETY: a NULL key is allowed.
        let p = unsafe {
            rd_kafka_msg_partitioner_fnv1a(
                std::ptr::null(),
                std::ptr::null(),
                0,
                7,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(p, (kprod::partitioner::fnv1a(b"") % 7) as i32);
        for _ in 0..1000 {
            // SAFETY: as above.
            let r = unsafe {
                rd_kafka_msg_partitioner_random(
                    std::ptr::null(),
                    std::ptr::null(),
                    0,
                    7,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            assert!((0..7).contains(&r));
        }
        assert_eq!(
            // SAFETY: as above.
            unsafe {
                rd_kafka_msg_partitioner_random(
                    std::ptr::null(),
                    std::ptr::null(),
                    0,
                    0,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            },
            -1
        );
    }
}
