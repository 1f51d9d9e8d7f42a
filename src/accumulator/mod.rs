//! (being written)
pub mod buffer_pool;
