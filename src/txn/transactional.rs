//! Java's `TransactionManager`, transactional part: the transaction state machine shared by the
//! application threads (which ask for `init`, `begin`, `commit`, `abort`, `send_offsets`) and the sender
//! thread (which sends FindCoordinator, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
//! TxnOffsetCommit and EndTxn and reports back).
//!
//! Transactions v2 (KIP-890) is used when the brokers finalize `transaction.version` ≥ 2: partitions join
//! the transaction implicitly with their first Produce (v12+), offsets go straight to the group
//! coordinator with TxnOffsetCommit v5, and every EndTxn bumps the epoch. Otherwise v1: AddPartitionsToTxn
//! before a partition's first batch, AddOffsetsToTxn before TxnOffsetCommit, and an epoch bump
//! (InitProducerId with the current id and epoch, KIP-360) after an abort.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::accumulator::TopicPartition;
use crate::error::Error;
use crate::protocol::ErrorCode;
use crate::sender::backoff::{Backoff, Jitter};

/// A consumer group's identity for [`send_offsets_to_transaction`](crate::Producer::send_offsets_to_transaction)
/// (KIP-447). kprod has no consumer: pass what your consumer reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerGroupMetadata {
    /// The group id.
    pub group_id: String,
    /// The group generation (-1 when unknown).
    pub generation_id: i32,
    /// The member id ("" when unknown).
    pub member_id: String,
    /// The static member's instance id, if any.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// Metadata naming only the group (generation -1, no member): the broker then does no fencing by
    /// generation, as with Java's `new ConsumerGroupMetadata(groupId)`.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// One offset to commit inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The partition.
    pub topic_partition: TopicPartition,
    /// The next offset the group will read (the last processed offset plus one).
    pub offset: i64,
    /// Optional metadata stored with the offset.
    pub metadata: Option<String>,
}

/// The transaction state (Java's `TransactionManager.State`).
#[derive(Debug, Clone)]
pub enum TxnState {
    /// `init_transactions` not called yet.
    Uninitialized,
    /// Getting a producer id from the transaction coordinator.
    Initializing,
    /// Between transactions.
    Ready,
    /// Inside a transaction.
    InTransaction,
    /// Sending EndTxn(commit).
    Committing,
    /// Sending EndTxn(abort).
    Aborting,
    /// The transaction failed; the user must abort it, then may go on.
    AbortableError(Error),
    /// The producer cannot go on (fenced, not authorized): it must be closed.
    Fatal(Error),
}

impl TxnState {
    /// The state's name.
    pub fn name(&self) -> &'static str {
        match self {
            TxnState::Uninitialized => "Uninitialized",
            TxnState::Initializing => "Initializing",
            TxnState::Ready => "Ready",
            TxnState::InTransaction => "InTransaction",
            TxnState::Committing => "Committing",
            TxnState::Aborting => "Aborting",
            TxnState::AbortableError(_) => "AbortableError",
            TxnState::Fatal(_) => "Fatal",
        }
    }
}

/// The one transition table.
fn allowed(from: &TxnState, to: &TxnState) -> bool {
    use TxnState::*;
    if matches!(from, Fatal(_)) {
        return false;
    }
    matches!(
        (from, to),
        (_, Fatal(_))
            | (Uninitialized, Initializing)
            | (Initializing, Ready)
            | (Ready, InTransaction)
            | (InTransaction, Committing)
            | (InTransaction, Aborting)
            | (InTransaction, AbortableError(_))
            | (Committing, Ready)
            | (Committing, AbortableError(_))
            | (Aborting, Ready)
            | (Aborting, Initializing)
            | (AbortableError(_), Aborting)
            | (AbortableError(_), AbortableError(_))
    )
}

/// An operation an application thread asked for, carried out by the sender.
#[derive(Debug, Clone)]
pub enum Op {
    /// InitProducerId with the transactional id (also the epoch bump after a v1 abort).
    Init {
        /// Present the current id and epoch (a KIP-360 bump) instead of none.
        bump: bool,
    },
    /// EndTxn, once every batch of the transaction has completed.
    EndTxn {
        /// Commit (true) or abort.
        commit: bool,
    },
    /// AddOffsetsToTxn (v1 only), then TxnOffsetCommit to the group coordinator.
    SendOffsets {
        /// The group.
        group: ConsumerGroupMetadata,
        /// The offsets.
        offsets: Vec<OffsetAndMetadata>,
        /// AddOffsetsToTxn is done (or not needed, v2).
        added: bool,
    },
}

/// The state shared by application threads and the sender, behind [`Transactional::inner`].
#[derive(Debug)]
pub struct TxnInner {
    /// `transactional.id`.
    pub transactional_id: String,
    /// The state; changed only through [`TxnInner::transition`].
    pub state: TxnState,
    /// Transactions v2 (KIP-890) in use; decided when the coordinator connection is up.
    pub tv2: Option<bool>,
    /// Partitions registered in the current transaction (v1).
    pub in_txn: HashSet<TopicPartition>,
    /// Partitions with records that still need AddPartitionsToTxn (v1).
    pub pending_add: BTreeSet<TopicPartition>,
    /// Something was sent in this transaction (records or offsets), so EndTxn is needed.
    pub started: bool,
    /// The operation in progress, if any.
    pub op: Option<Op>,
    /// Bumped for each operation; results are matched by it.
    pub op_id: u64,
    /// The result of operation `op_id - 1`, when it finished.
    pub result: Option<(u64, Result<(), Error>)>,
    /// The transaction coordinator's node id.
    pub coordinator: Option<i32>,
    /// Group coordinators by group id.
    pub group_coordinators: HashMap<String, i32>,
    /// Addresses learnt from FindCoordinator, for nodes metadata may not list yet.
    pub addresses: HashMap<i32, (String, u16)>,
    /// No transactional request before this (backoff after retriable errors).
    pub next_attempt: Instant,
    /// Consecutive retriable failures, for the backoff.
    pub failures: u32,
}

impl TxnInner {
    /// Changes state through the table.
    pub fn transition(&mut self, to: TxnState) -> Result<(), Error> {
        if !allowed(&self.state, &to) {
            return Err(illegal(format!("cannot go from {} to {}", self.state.name(), to.name())));
        }
        log::debug!("transaction state {} -> {}", self.state.name(), to.name());
        self.state = to;
        Ok(())
    }

    /// Finishes the current operation with `result` and wakes the waiting application thread.
    pub fn finish(&mut self, result: Result<(), Error>) {
        self.op = None;
        self.result = Some((self.op_id, result));
        self.failures = 0;
    }

    /// Records an error that dooms the transaction: fatal ones end the producer, others make the
    /// transaction abortable. Finishes the current operation with it.
    pub fn fail(&mut self, error: Error, fatal: bool) {
        let to = if fatal { TxnState::Fatal(error.clone()) } else { TxnState::AbortableError(error.clone()) };
        if self.transition(to).is_err() && !fatal {
            // Not inside a transaction (e.g. during init): the operation fails, the state stays.
            log::debug!("transactional error outside a transaction: {error}");
        }
        if self.op.is_some() {
            self.finish(Err(error));
        }
    }

    /// Schedules a retry after a retriable error (jittered, growing with consecutive failures).
    pub(crate) fn retry_later(&mut self, now: Instant, backoff: &Backoff, jitter: &mut Jitter) {
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = now + backoff.after(self.failures, jitter);
    }

    /// The shared handling of a transactional response's error code: a moved coordinator is looked up
    /// again and the request retried, load and concurrency errors are retried as they are. True when
    /// `code` was one of those (the request will be sent again); `group` names a group coordinator.
    pub(crate) fn retry_on(
        &mut self,
        code: ErrorCode,
        group: Option<&str>,
        now: Instant,
        backoff: &Backoff,
        jitter: &mut Jitter,
    ) -> bool {
        // As Java's handlers: a moved coordinator is looked up again, any other retriable code retried.
        if code.coordinator_moved() {
            self.coordinator_moved(group);
        } else if !code.is_retriable() {
            return false;
        }
        self.retry_later(now, backoff, jitter);
        true
    }

    /// Forgets a coordinator that moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
    pub fn coordinator_moved(&mut self, group: Option<&str>) {
        match group {
            Some(g) => {
                self.group_coordinators.remove(g);
            }
            None => self.coordinator = None,
        }
    }
}

/// Codes that end the producer when a transaction coordinator answers them: the error table's fatal
/// class, plus what Java's coordinator handlers treat as fatal there (INVALID_PRODUCER_EPOCH from a
/// coordinator means a newer producer took over; the others mean this producer's transaction state is
/// broken).
pub(crate) fn fatal_from_coordinator(code: ErrorCode) -> bool {
    code.is_fatal()
        || matches!(
            code,
            ErrorCode::INVALID_PRODUCER_EPOCH
                | ErrorCode::INVALID_TXN_STATE
                | ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
                | ErrorCode::TRANSACTIONAL_ID_NOT_FOUND
        )
}

/// An [`Error::IllegalState`]: an API called in the wrong transaction state.
pub fn illegal(message: impl Into<String>) -> Error {
    Error::IllegalState(message.into())
}

/// The transactional state and its condition variable.
#[derive(Debug)]
pub struct Transactional {
    /// Guards the transaction state, the operation queue and coordinator knowledge. A leaf: nothing else
    /// is locked while it is held.
    pub inner: Mutex<TxnInner>,
    /// Signalled when an operation finishes.
    pub done: Condvar,
}

impl Transactional {
    /// The state for `transactional_id`.
    pub fn new(transactional_id: String) -> Self {
        Transactional {
            inner: Mutex::new(TxnInner {
                transactional_id,
                state: TxnState::Uninitialized,
                tv2: None,
                in_txn: HashSet::new(),
                pending_add: BTreeSet::new(),
                started: false,
                op: None,
                op_id: 0,
                result: None,
                coordinator: None,
                group_coordinators: HashMap::new(),
                addresses: HashMap::new(),
                next_attempt: Instant::now(),
                failures: 0,
            }),
            done: Condvar::new(),
        }
    }

    /// Queues `op` (the state must already allow it) and returns its id to wait on.
    pub fn start(&self, inner: &mut TxnInner, op: Op) -> Result<u64, Error> {
        if inner.op.is_some() {
            return Err(illegal("another transactional operation is in progress"));
        }
        inner.op = Some(op);
        inner.op_id = inner.op_id.wrapping_add(1);
        inner.next_attempt = Instant::now();
        Ok(inner.op_id)
    }

    /// Waits for operation `id` up to `timeout`. On timeout the operation goes on; calling the same API
    /// again resumes waiting for it (as in Java).
    pub fn wait(&self, id: u64, timeout: Duration) -> Result<(), Error> {
        let deadline = crate::time::deadline_or_far(Instant::now(), timeout);
        let mut g = self.inner.lock();
        loop {
            if let Some((done_id, result)) = &g.result {
                if *done_id == id {
                    return result.clone();
                }
            }
            if let TxnState::Fatal(e) = &g.state {
                return Err(e.clone());
            }
            if self.done.wait_until(&mut g, deadline).timed_out() {
                return Err(Error::Timeout(format!("transactional operation not done within {timeout:?}")));
            }
        }
    }

    /// Wakes waiting application threads.
    pub fn notify(&self) {
        self.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        let t = Transactional::new("tx".into());
        let mut g = t.inner.lock();
        assert!(g.transition(TxnState::InTransaction).is_err(), "begin before init");
        g.transition(TxnState::Initializing).unwrap();
        g.transition(TxnState::Ready).unwrap();
        g.transition(TxnState::InTransaction).unwrap();
        g.transition(TxnState::AbortableError(Error::DeliveryTimeout)).unwrap();
        assert!(g.transition(TxnState::Committing).is_err(), "an abortable error can only be aborted");
        g.transition(TxnState::Aborting).unwrap();
        g.transition(TxnState::Ready).unwrap();
        g.transition(TxnState::Fatal(Error::Closed)).unwrap();
        assert!(g.transition(TxnState::Ready).is_err(), "nothing leaves Fatal");
    }

    #[test]
    fn operations_finish_with_results() {
        let t = Transactional::new("tx".into());
        let id = {
            let mut g = t.inner.lock();
            let id = t.start(&mut g, Op::Init { bump: false }).unwrap();
            assert!(t.start(&mut g, Op::EndTxn { commit: true }).is_err(), "one at a time");
            g.finish(Ok(()));
            id
        };
        t.wait(id, Duration::from_millis(10)).unwrap();
        let id = {
            let mut g = t.inner.lock();
            t.start(&mut g, Op::EndTxn { commit: true }).unwrap()
        };
        assert!(matches!(t.wait(id, Duration::from_millis(10)), Err(Error::Timeout(_))));
    }

    #[test]
    fn coordinator_error_classes() {
        assert!(fatal_from_coordinator(ErrorCode::PRODUCER_FENCED));
        assert!(fatal_from_coordinator(ErrorCode::INVALID_PRODUCER_EPOCH), "a newer producer took over");
        assert!(fatal_from_coordinator(ErrorCode::INVALID_TXN_STATE));
        assert!(!fatal_from_coordinator(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
        assert!(!fatal_from_coordinator(ErrorCode::CONCURRENT_TRANSACTIONS));
    }
}
