//! What the drivers see and say, without doing I/O: [`Links`] (the network as a driver may see it) and
//! [`Outbox`] (what a driver turn asks of the loop).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::request::{Outgoing, Request};
use crate::accumulator::{Completions, TopicPartition};
use crate::error::Error;
use crate::protocol::ApiKey;

/// What a driver sees of the network, without doing I/O.
pub(crate) trait Links {
    /// The connection to `node` is ready and may take another request now.
    fn can_send(&self, node: i32, now: Instant) -> bool;
    /// `node` has a connection, being set up or up (or its address is being resolved).
    fn is_connecting_or_up(&self, node: i32) -> bool;
    /// When `node` stops throttling us (KIP-219), if it does.
    fn throttled_until(&self, node: i32) -> Option<Instant>;
    /// The ready connection with the fewest requests in flight.
    fn least_loaded(&self, now: Instant) -> Option<i32>;
    /// The highest version of `api` within `ours` that `node` supports.
    fn version(&self, node: i32, api: ApiKey, ours: (i16, i16)) -> Option<i16>;
    /// `node`'s finalized level of feature `name` (0 when none).
    fn finalized_feature(&self, node: i32, name: &str) -> i16;
    /// A correlation id for the next request to `node`.
    fn next_correlation_id(&mut self, node: i32) -> i32;
    /// True when a request `is` matches is in flight on some connection: the one source of truth for
    /// "a refresh / InitProducerId / transactional request is in flight", so no flag outlives its
    /// request.
    fn in_flight(&self, is: &dyn Fn(&Request) -> bool) -> bool;
}

/// What a driver turn asks of the loop.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Requests to write.
    pub sends: Vec<Outgoing>,
    /// Brokers to connect to.
    pub connect: Vec<i32>,
    /// Some ready connection is wanted (for metadata or FindCoordinator) and none is up.
    pub connect_any: bool,
    /// Callbacks for the callback thread.
    pub deliver: Vec<Completions>,
    /// The producer hit an unrecoverable error.
    pub fatal: Option<Error>,
    /// Records of the transaction that failed for good (the transaction must be aborted).
    pub txn_record_failures: Vec<Error>,
    /// Brokers throttling us, until when (KIP-219).
    pub throttle: Vec<(i32, Instant)>,
    /// Connections to close, with why.
    pub disconnect: Vec<(i32, String)>,
    /// Coordinator addresses learnt from FindCoordinator.
    pub learn: Vec<(i32, String, u16)>,
    /// The longest the loop may sleep before a driver wants another turn.
    pub timeout: Option<Duration>,
}

impl Outbox {
    /// Asks for another turn within `d`.
    pub(crate) fn wake_in(&mut self, d: Duration) {
        self.timeout = Some(self.timeout.map_or(d, |t| t.min(d)));
    }
}

/// What the transaction flow allows the next Produce request (for a transactional producer).
#[derive(Debug, Clone)]
pub(crate) struct TxnContext {
    /// `transactional.id`.
    pub transactional_id: String,
    /// The highest Produce version: 11 for transactions v1 (12+ means v2).
    pub max_version: i16,
    /// v1: only partitions already added to the transaction may be drained.
    pub registered: Option<HashSet<TopicPartition>>,
}
