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
pub(crate) struct TxnInner {
    /// `transactional.id`.
    pub(super) transactional_id: String,
    /// The state; changed only through [`TxnInner::transition`].
    pub(super) state: TxnState,
    /// Transactions v2 (KIP-890) in use; decided when the coordinator connection is up.
    pub(super) tv2: Option<bool>,
    /// Partitions registered in the current transaction (v1).
    pub(super) in_txn: HashSet<TopicPartition>,
    /// Partitions with records that still need AddPartitionsToTxn (v1).
    pub(super) pending_add: BTreeSet<TopicPartition>,
    /// The coordinator knows of this transaction (v1: it accepted a partition or the offsets' group;
    /// v2: a record or offsets were sent), so ending it needs EndTxn.
    pub(super) started: bool,
    /// The operation in progress, if any.
    pub(super) op: Option<Op>,
    /// Bumped for each operation; results are matched by it.
    pub(super) op_id: u64,
    /// The result of operation `op_id - 1`, when it finished.
    pub(super) result: Option<(u64, Result<(), Error>)>,
    /// The transaction coordinator's node id.
    pub(super) coordinator: Option<i32>,
    /// Group coordinators by group id.
    pub(super) group_coordinators: HashMap<String, i32>,
    /// Addresses learnt from FindCoordinator, for nodes metadata may not list yet.
    pub(super) addresses: HashMap<i32, (String, u16)>,
    /// No transactional request before this (backoff after retriable errors).
    pub(super) next_attempt: Instant,
    /// Consecutive retriable failures, for the backoff.
    pub(super) failures: u32,
}

impl TxnInner {
    /// Changes state through the table. Callers check the state first, so a transition the table
    /// refuses is a bug: it is made visible, not ignored — the producer turns fatal with the state pair
    /// named, and the error is returned.
    pub(super) fn transition(&mut self, to: TxnState) -> Result<(), Error> {
        if !allowed(&self.state, &to) {
            let e = Error::Fatal {
                reason: format!(
                    "transaction state {} cannot go to {} (a kprod bug)",
                    self.state.name(),
                    to.name()
                ),
            };
            log::error!("{e}");
            if !matches!(self.state, TxnState::Fatal(_)) {
                self.state = TxnState::Fatal(e.clone());
            }
            return Err(e);
        }
        log::debug!("transaction state {} -> {}", self.state.name(), to.name());
        self.state = to;
        Ok(())
    }

    /// Finishes the current operation with `result` and wakes the waiting application thread.
    pub(super) fn finish(&mut self, result: Result<(), Error>) {
        self.op = None;
        self.result = Some((self.op_id, result));
        self.failures = 0;
    }

    /// Records an error that dooms the transaction: fatal ones end the producer, others make the
    /// transaction abortable — inside a transaction; outside one (e.g. during init) the operation fails
    /// and the state stays. Finishes the current operation with it.
    pub(super) fn fail(&mut self, error: Error, fatal: bool) {
        let to = if fatal { TxnState::Fatal(error.clone()) } else { TxnState::AbortableError(error.clone()) };
        if allowed(&self.state, &to) {
            let _changed = self.transition(to);
        } else {
            log::debug!("transactional error outside a transaction: {error}");
        }
        if self.op.is_some() {
            self.finish(Err(error));
        }
    }

    /// Schedules a retry after a retriable error (jittered, growing with consecutive failures).
    pub(super) fn retry_later(&mut self, now: Instant, backoff: &Backoff, jitter: &mut Jitter) {
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = now + backoff.after(self.failures, jitter);
    }

    /// The shared handling of a transactional response's error code: a moved coordinator is looked up
    /// again and the request retried, load and concurrency errors are retried as they are. True when
    /// `code` was one of those (the request will be sent again); `group` names a group coordinator.
    pub(super) fn retry_on(
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
    pub(super) fn coordinator_moved(&mut self, group: Option<&str>) {
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
/// How operation `id` ended, once it has: its own result, or the fatal error that ended every operation.
fn outcome_of(g: &TxnInner, id: u64) -> Option<Result<(), Error>> {
    match (&g.result, &g.state) {
        (Some((done, r)), _) if *done == id => Some(r.clone()),
        (_, TxnState::Fatal(e)) => Some(Err(e.clone())),
        _ => None,
    }
}

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

/// The transactional state and its condition variable, changed through intent methods: the
/// application threads' (`check_send`, `start_init`, `begin`, `start_commit`, ...) and the coordinator
/// driver's.
#[derive(Debug)]
pub(crate) struct Transactional {
    /// Guards the transaction state, the operation queue and coordinator knowledge. A leaf: nothing else
    /// is locked while it is held.
    pub(super) inner: Mutex<TxnInner>,
    /// Signalled when an operation finishes.
    done: Condvar,
}

impl Transactional {
    /// The state for `transactional_id`.
    pub(crate) fn new(transactional_id: String) -> Self {
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
    pub(super) fn start(&self, inner: &mut TxnInner, op: Op) -> Result<u64, Error> {
        if inner.op.is_some() {
            return Err(illegal("another transactional operation is in progress"));
        }
        inner.op = Some(op);
        inner.op_id = inner.op_id.wrapping_add(1);
        inner.next_attempt = Instant::now();
        Ok(inner.op_id)
    }

    /// Waits for operation `id` up to `timeout`. On timeout the operation goes on; calling the same API
    /// again resumes waiting for it (as in Java). `interrupt` is asked (with the lock released) on every
    /// wake-up: an error from it ends the wait the same way, e.g. an authentication failure, which
    /// the sender wakes waiters for ([`wake_waiters`](Self::wake_waiters)).
    ///
    /// # Thread
    /// An application thread; it blocks on the transaction lock's condition variable.
    pub(crate) fn wait(
        &self,
        id: u64,
        timeout: Duration,
        interrupt: &dyn Fn() -> Option<Error>,
    ) -> Result<(), Error> {
        let deadline = crate::time::deadline_or_far(Instant::now(), timeout);
        let finished = |g: &TxnInner| outcome_of(g, id);
        let mut g = self.inner.lock();
        loop {
            if let Some(r) = finished(&g) {
                return r;
            }
            // `inner` is a leaf: whatever `interrupt` locks is locked without it.
            if let Some(e) = parking_lot::MutexGuard::unlocked(&mut g, interrupt) {
                return Err(e);
            }
            // Checked again: the sender may have finished while the lock was released above, and its
            // notify then reached no one (this lost wake-up stalled operations to their timeout).
            if let Some(r) = finished(&g) {
                return r;
            }
            if self.done.wait_until(&mut g, deadline).timed_out() {
                if let Some(r) = finished(&g) {
                    return r;
                }
                return Err(Error::Timeout(format!("transactional operation not done within {timeout:?}")));
            }
        }
    }

    /// The result of operation `id` once it finished, without waiting (the simulator polls).
    #[cfg(feature = "sim")]
    pub(crate) fn result_of(&self, id: u64) -> Option<Result<(), Error>> {
        outcome_of(&self.inner.lock(), id)
    }

    /// Wakes waiting application threads.
    pub(super) fn notify(&self) {
        self.done.notify_all();
    }

    /// Wakes application threads waiting for an operation, to look at their `interrupt` (a connection
    /// failed to authenticate).
    ///
    /// # Thread
    /// The sender thread.
    pub(crate) fn wake_waiters(&self) {
        // Taken and released so a waiter between its check and its wait cannot miss the wake-up.
        drop(self.inner.lock());
        self.done.notify_all();
    }

    // -- the application threads' intents ---------------------------------------------------------
    //
    // # Thread: application threads. # Locks: `inner`, a leaf, held only inside each call.

    /// Whether `send` may append now: inside a transaction, or the reason it may not.
    pub(crate) fn check_send(&self) -> Result<(), Error> {
        match &self.inner.lock().state {
            TxnState::InTransaction => Ok(()),
            TxnState::AbortableError(e) | TxnState::Fatal(e) => Err(e.clone()),
            s => {
                let next = match s {
                    TxnState::Uninitialized | TxnState::Initializing => {
                        "call init_transactions, then begin_transaction"
                    }
                    TxnState::Committing | TxnState::Aborting => {
                        "the transaction is ending; call begin_transaction when it has"
                    }
                    _ => "call begin_transaction first",
                };
                Err(illegal(format!("send in transaction state {}: {next}", s.name())))
            }
        }
    }

    /// A record for `tp` joined the transaction: EndTxn is needed, and transactions v1 register each
    /// partition with the coordinator before its first batch.
    pub(crate) fn note_record(&self, tp: &TopicPartition) {
        let mut g = self.inner.lock();
        // As Java: with transactions v2 the first record starts the transaction at the coordinator;
        // with v1 only a partition it accepted does (an abort before that needs no EndTxn, and one
        // sent would be refused with INVALID_TXN_STATE).
        if g.tv2 == Some(true) {
            g.started = true;
        } else if !g.in_txn.contains(tp) && !g.pending_add.contains(tp) {
            g.pending_add.insert(tp.clone());
        }
    }

    /// The transaction state's name (statistics).
    pub(crate) fn state_name(&self) -> &'static str {
        self.inner.lock().state.name()
    }

    /// 2 for KIP-890's transactions v2, 1 otherwise, once the coordinator connection decided; `None`
    /// before.
    pub(crate) fn protocol_version(&self) -> Option<u8> {
        self.inner.lock().tv2.map(|tv2| if tv2 { 2 } else { 1 })
    }

    /// `init_transactions`: the operation to wait for (a new one, or the one already under way).
    pub(crate) fn start_init(&self) -> Result<u64, Error> {
        let mut g = self.inner.lock();
        match &g.state {
            TxnState::Uninitialized => {
                g.transition(TxnState::Initializing)?;
                self.start(&mut g, Op::Init { bump: false })
            }
            TxnState::Initializing if g.op.is_some() => Ok(g.op_id),
            TxnState::Fatal(e) => Err(e.clone()),
            s => Err(illegal(format!("init_transactions in state {}", s.name()))),
        }
    }

    /// `begin_transaction`.
    pub(crate) fn begin(&self) -> Result<(), Error> {
        let mut g = self.inner.lock();
        match &g.state {
            TxnState::Ready => {
                g.started = false;
                g.in_txn.clear();
                g.transition(TxnState::InTransaction)
            }
            TxnState::Fatal(e) => Err(e.clone()),
            s => Err(illegal(format!("begin_transaction in state {}", s.name()))),
        }
    }

    /// `send_offsets_to_transaction`: the operation to wait for.
    pub(crate) fn start_send_offsets(
        &self,
        offsets: &[OffsetAndMetadata],
        group: &ConsumerGroupMetadata,
    ) -> Result<u64, Error> {
        let mut g = self.inner.lock();
        match &g.state {
            TxnState::InTransaction if g.op.is_none() => {
                // v1: AddOffsetsToTxn's success starts it.
                g.started |= g.tv2 == Some(true);
                let op = Op::SendOffsets { group: group.clone(), offsets: offsets.to_vec(), added: false };
                self.start(&mut g, op)
            }
            TxnState::InTransaction if matches!(g.op, Some(Op::SendOffsets { .. })) => Ok(g.op_id),
            TxnState::AbortableError(e) | TxnState::Fatal(e) => Err(e.clone()),
            s => Err(illegal(format!("send_offsets_to_transaction in state {}", s.name()))),
        }
    }

    /// `commit_transaction`, before its flush: `Some(id)` when a commit is already under way (wait for
    /// it), `None` to flush and then [`start_commit`](Self::start_commit).
    pub(crate) fn prepare_commit(&self) -> Result<Option<u64>, Error> {
        let g = self.inner.lock();
        match &g.state {
            TxnState::InTransaction => Ok(None),
            TxnState::Committing if g.op.is_some() => Ok(Some(g.op_id)),
            TxnState::AbortableError(e) | TxnState::Fatal(e) => Err(e.clone()),
            s => Err(illegal(format!("commit_transaction in state {}", s.name()))),
        }
    }

    /// `commit_transaction`, after its flush: the EndTxn to wait for, or `None` when nothing was sent
    /// (the transaction is over at once).
    pub(crate) fn start_commit(&self) -> Result<Option<u64>, Error> {
        let mut g = self.inner.lock();
        match &g.state {
            TxnState::InTransaction => {}
            TxnState::AbortableError(e) | TxnState::Fatal(e) => return Err(e.clone()),
            s => return Err(illegal(format!("commit_transaction in state {}", s.name()))),
        }
        g.transition(TxnState::Committing)?;
        if !g.started {
            g.transition(TxnState::Ready)?;
            return Ok(None);
        }
        self.start(&mut g, Op::EndTxn { commit: true }).map(Some)
    }

    /// `abort_transaction`, before its flush: moves to Aborting (queued records then fail); `Some(id)`
    /// when an abort is already under way (wait for it).
    pub(crate) fn prepare_abort(&self) -> Result<Option<u64>, Error> {
        let mut g = self.inner.lock();
        match &g.state {
            TxnState::InTransaction | TxnState::AbortableError(_) => {
                g.transition(TxnState::Aborting)?;
                Ok(None)
            }
            TxnState::Aborting | TxnState::Initializing if g.op.is_some() => Ok(Some(g.op_id)),
            TxnState::Aborting => Ok(None),
            TxnState::Fatal(e) => Err(e.clone()),
            s => Err(illegal(format!("abort_transaction in state {}", s.name()))),
        }
    }

    /// `abort_transaction`, after its flush: the EndTxn to wait for, or `None` when nothing was sent.
    pub(crate) fn start_abort(&self) -> Result<Option<u64>, Error> {
        let mut g = self.inner.lock();
        if !g.started {
            g.transition(TxnState::Ready)?;
            return Ok(None);
        }
        self.start(&mut g, Op::EndTxn { commit: false }).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        use TxnState::*;
        let e = || Error::DeliveryTimeout;
        assert!(!allowed(&Uninitialized, &InTransaction), "begin before init");
        for (from, to) in [
            (Uninitialized, Initializing),
            (Initializing, Ready),
            (Ready, InTransaction),
            (InTransaction, AbortableError(e())),
            (AbortableError(e()), Aborting),
            (Aborting, Ready),
            (Ready, Fatal(e())),
        ] {
            assert!(allowed(&from, &to), "{} -> {}", from.name(), to.name());
        }
        assert!(!allowed(&AbortableError(e()), &Committing), "an abortable error can only be aborted");
        assert!(!allowed(&Fatal(e()), &Ready), "nothing leaves Fatal");
        assert!(!allowed(&Fatal(e()), &Fatal(e())));
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
        t.wait(id, Duration::from_millis(10), &|| None).unwrap();
        let id = {
            let mut g = t.inner.lock();
            t.start(&mut g, Op::EndTxn { commit: true }).unwrap()
        };
        assert!(matches!(t.wait(id, Duration::from_millis(10), &|| None), Err(Error::Timeout(_))));
        // An interrupt (an authentication failure) ends the wait at once; the operation goes on.
        let auth = || {
            Some(Error::Authentication { mechanism: "SSL".into(), broker: "b:1".into(), message: "m".into() })
        };
        let start = Instant::now();
        assert!(matches!(t.wait(id, Duration::from_secs(30), &auth), Err(Error::Authentication { .. })));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(t.inner.lock().op.is_some(), "the operation is still under way");
    }

    #[test]
    fn a_refused_transition_is_a_visible_fatal_error() {
        let t = Transactional::new("tx".into());
        let mut g = t.inner.lock();
        let e = g.transition(TxnState::Committing).unwrap_err();
        assert!(e.is_fatal() && e.to_string().contains("Uninitialized cannot go to Committing"), "{e}");
        assert!(matches!(g.state, TxnState::Fatal(_)), "not ignored: the state is fatal");
        drop(g);
        assert!(t.check_send().is_err() && t.begin().is_err());
    }

    #[test]
    fn intents_follow_the_state() {
        let t = Transactional::new("tx".into());
        assert!(matches!(t.check_send(), Err(Error::IllegalState(m)) if m.contains("init_transactions")));
        assert!(matches!(t.begin(), Err(Error::IllegalState(_))), "begin before init");
        let id = t.start_init().unwrap();
        assert_eq!(t.start_init().unwrap(), id, "a second init waits for the first");
        {
            let mut g = t.inner.lock();
            g.transition(TxnState::Ready).unwrap();
            g.finish(Ok(()));
        }
        t.wait(id, Duration::ZERO, &|| None).unwrap();
        t.begin().unwrap();
        t.check_send().unwrap();
        assert_eq!(t.prepare_commit().unwrap(), None);
        assert_eq!(t.start_commit().unwrap(), None, "nothing sent: nothing to commit");
        t.begin().unwrap();
        t.note_record(&TopicPartition::new("t", 0));
        assert!(t.inner.lock().pending_add.contains(&TopicPartition::new("t", 0)), "v1 registers it");
        assert!(t.prepare_abort().unwrap().is_none());
        assert_eq!(t.start_abort().unwrap(), None, "v1, no partition accepted yet: no EndTxn (Java)");
        t.begin().unwrap();
        t.note_record(&TopicPartition::new("t", 0));
        t.inner.lock().started = true; // the coordinator accepted the partition
        assert!(t.prepare_abort().unwrap().is_none());
        assert!(t.start_abort().unwrap().is_some(), "a partition was added: EndTxn(abort)");
        t.inner.lock().tv2 = Some(true);
        t.inner.lock().transition(TxnState::Ready).unwrap();
        t.begin().unwrap();
        t.note_record(&TopicPartition::new("t", 0));
        assert!(t.inner.lock().started, "v2: the first record starts the transaction");
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
