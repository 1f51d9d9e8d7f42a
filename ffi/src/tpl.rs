//! `rd_kafka_topic_partition_list_t` (for `rd_kafka_send_offsets_to_transaction`), laid out as
//! librdkafka's and allocated with malloc, as librdkafka's is: a program may set `metadata` to its
//! own malloc'ed buffer, which the list then frees.

use std::ffi::{c_char, c_int, c_void};

use crate::err::*;
use crate::util::{guard, str_arg};

/// librdkafka's `rd_kafka_topic_partition_t`.
#[repr(C)]
#[derive(Debug)]
pub struct rd_kafka_topic_partition_t {
    /// Topic (malloc'ed).
    pub topic: *mut c_char,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Metadata (malloc'ed, or NULL).
    pub metadata: *mut c_void,
    /// Its size.
    pub metadata_size: usize,
    /// The application's.
    pub opaque: *mut c_void,
    /// Per-partition error.
    pub err: rd_kafka_resp_err_t,
    /// librdkafka-private; NULL here.
    pub _private: *mut c_void,
}

/// librdkafka's `rd_kafka_topic_partition_list_t`.
#[repr(C)]
#[derive(Debug)]
pub struct rd_kafka_topic_partition_list_t {
    /// Elements in use.
    pub cnt: c_int,
    /// Elements allocated.
    pub size: c_int,
    /// The elements.
    pub elems: *mut rd_kafka_topic_partition_t,
}

const OFFSET_INVALID: i64 = -1001;

/// A new list with room for `size` elements.
#[no_mangle]
pub extern "C" fn rd_kafka_topic_partition_list_new(size: c_int) -> *mut rd_kafka_topic_partition_list_t {
    guard(std::ptr::null_mut(), || {
        let size = size.max(1);
        // SAFETY: calloc of a list and of `size` elements; NULL checked before use.
        unsafe {
            let l = libc::calloc(1, std::mem::size_of::<rd_kafka_topic_partition_list_t>())
                .cast::<rd_kafka_topic_partition_list_t>();
            if l.is_null() {
                return l;
            }
            let elems = libc::calloc(size as usize, std::mem::size_of::<rd_kafka_topic_partition_t>())
                .cast::<rd_kafka_topic_partition_t>();
            if elems.is_null() {
                libc::free(l.cast());
                return std::ptr::null_mut();
            }
            (*l).size = size;
            (*l).elems = elems;
            l
        }
    })
}

/// Frees a list, its topics and metadata.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_destroy(list: *mut rd_kafka_topic_partition_list_t) {
    if list.is_null() {
        return;
    }
    // SAFETY: a list from rd_kafka_topic_partition_list_new/copy: `cnt` initialised elements whose
    // strings and metadata are malloc'ed (or NULL).
    unsafe {
        for i in 0..usize::try_from((*list).cnt).unwrap_or(0) {
            let e = (*list).elems.add(i);
            libc::free((*e).topic.cast());
            libc::free((*e).metadata);
        }
        libc::free((*list).elems.cast());
        libc::free(list.cast());
    }
}

/// Appends (topic, partition) and returns the new element.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_add(
    list: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> *mut rd_kafka_topic_partition_t {
    guard(std::ptr::null_mut(), || {
        if list.is_null() || topic.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: a live list of this library; grown with realloc (it was malloc'ed); the new
        // element is zeroed before its fields are set; topic is a C string.
        unsafe {
            let l = &mut *list;
            if l.cnt >= l.size {
                let size = l.size.max(1).saturating_mul(2);
                let grown = libc::realloc(
                    l.elems.cast(),
                    size as usize * std::mem::size_of::<rd_kafka_topic_partition_t>(),
                );
                if grown.is_null() {
                    return std::ptr::null_mut();
                }
                l.elems = grown.cast();
                l.size = size;
            }
            let e = l.elems.add(l.cnt as usize);
            std::ptr::write_bytes(e, 0, 1);
            (*e).topic = libc::strdup(topic);
            (*e).partition = partition;
            (*e).offset = OFFSET_INVALID;
            l.cnt += 1;
            e
        }
    })
}

/// Appends partitions `start..=stop` of `topic`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_add_range(
    list: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    start: i32,
    stop: i32,
) {
    for p in start..=stop {
        // SAFETY: the same contract as rd_kafka_topic_partition_list_add.
        unsafe { rd_kafka_topic_partition_list_add(list, topic, p) };
    }
}

/// The element for (topic, partition), or NULL.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_find(
    list: *const rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> *mut rd_kafka_topic_partition_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: see str_arg; a live list with `cnt` elements.
        let (Some(l), Some(t)) = (unsafe { list.as_ref() }, unsafe { str_arg(topic) }) else {
            return std::ptr::null_mut();
        };
        for i in 0..usize::try_from(l.cnt).unwrap_or(0) {
            // SAFETY: i < cnt.
            let e = unsafe { l.elems.add(i) };
            // SAFETY: e is initialised; its topic a C string.
            if unsafe { (*e).partition == partition && str_arg((*e).topic) == Some(t) } {
                return e;
            }
        }
        std::ptr::null_mut()
    })
}

/// Removes (topic, partition): 1 if it was there.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_del(
    list: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
) -> c_int {
    guard(0, || {
        // SAFETY: the same contract as find.
        let e = unsafe { rd_kafka_topic_partition_list_find(list, topic, partition) };
        if e.is_null() {
            return 0;
        }
        // SAFETY: e is an element of the live list; the tail is moved down over it after its
        // strings are freed.
        unsafe {
            let l = &mut *list;
            let idx = e.offset_from(l.elems) as usize;
            libc::free((*e).topic.cast());
            libc::free((*e).metadata);
            let tail = l.cnt as usize - idx - 1;
            std::ptr::copy(e.add(1), e, tail);
            l.cnt -= 1;
        }
        1
    })
}

/// Sets the offset of (topic, partition).
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_set_offset(
    list: *mut rd_kafka_topic_partition_list_t,
    topic: *const c_char,
    partition: i32,
    offset: i64,
) -> rd_kafka_resp_err_t {
    // SAFETY: the same contract as find.
    let e = unsafe { rd_kafka_topic_partition_list_find(list, topic, partition) };
    if e.is_null() {
        return RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
    }
    // SAFETY: e is a live element.
    unsafe { (*e).offset = offset };
    RD_KAFKA_RESP_ERR_NO_ERROR
}

/// A deep copy.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_topic_partition_list_copy(
    src: *const rd_kafka_topic_partition_list_t,
) -> *mut rd_kafka_topic_partition_list_t {
    guard(std::ptr::null_mut(), || {
        // SAFETY: a live list.
        let Some(s) = (unsafe { src.as_ref() }) else { return std::ptr::null_mut() };
        let dst = rd_kafka_topic_partition_list_new(s.size);
        for i in 0..usize::try_from(s.cnt).unwrap_or(0) {
            // SAFETY: i < cnt; the copy gets its own topic string and metadata buffer.
            unsafe {
                let e = &*s.elems.add(i);
                let d = rd_kafka_topic_partition_list_add(dst, e.topic, e.partition);
                if d.is_null() {
                    continue;
                }
                (*d).offset = e.offset;
                (*d).opaque = e.opaque;
                (*d).err = e.err;
                if !e.metadata.is_null() && e.metadata_size > 0 {
                    let m = libc::malloc(e.metadata_size);
                    if !m.is_null() {
                        std::ptr::copy_nonoverlapping(
                            e.metadata.cast::<u8>(),
                            m.cast::<u8>(),
                            e.metadata_size,
                        );
                        (*d).metadata = m;
                        (*d).metadata_size = e.metadata_size;
                    }
                }
            }
        }
        dst
    })
}

/// The offsets of a list, as kprod takes them.
pub(crate) unsafe fn offsets_of(
    list: *const rd_kafka_topic_partition_list_t,
) -> Vec<kprod::OffsetAndMetadata> {
    // SAFETY: a live list.
    let Some(l) = (unsafe { list.as_ref() }) else { return Vec::new() };
    let mut out = Vec::new();
    for i in 0..usize::try_from(l.cnt).unwrap_or(0) {
        // SAFETY: i < cnt; strings and metadata as the list holds them.
        unsafe {
            let e = &*l.elems.add(i);
            let Some(topic) = str_arg(e.topic) else { continue };
            let metadata = (!e.metadata.is_null() && e.metadata_size > 0).then(|| {
                String::from_utf8_lossy(std::slice::from_raw_parts(e.metadata.cast::<u8>(), e.metadata_size))
                    .into_owned()
            });
            out.push(kprod::OffsetAndMetadata {
                topic_partition: kprod::TopicPartition { topic: topic.into(), partition: e.partition },
                offset: e.offset,
                metadata,
            });
        }
    }
    out
}
