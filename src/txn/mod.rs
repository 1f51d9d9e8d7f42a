//! Java's `TransactionManager`, idempotence part: the producer id and epoch, per-partition sequence
//! numbers, and the recovery rules of KIP-360 (bump the epoch and start sequences again instead of
//! giving up, which is where librdkafka turns fatal).
//!
//! Owned by the sender thread; nothing here locks. The producer id state changes only through
//! [`TransactionManager::transition`] and its one table.

pub(crate) mod coordinator;
pub(crate) mod init;
pub mod transactional;

use std::collections::HashMap;

use crate::accumulator::{ProducerBatch, ProducerState, TopicPartition};
use crate::error::Error;
use crate::protocol::ErrorCode;

/// Where the producer id is in its life.
#[derive(Debug, Clone)]
pub enum IdState {
    /// No producer id yet; InitProducerId must be sent before any Produce.
    Uninitialized,
    /// InitProducerId is in flight.
    Initializing,
    /// A producer id and epoch are in use.
    Ready,
    /// The epoch must be bumped (KIP-360): no new batches are drained, and InitProducerId is sent once
    /// no Produce is in flight.
    BumpPending,
    /// A bump's InitProducerId is in flight.
    Bumping,
    /// Unrecoverable: every pending and future record fails with this error.
    Fatal(Error),
}

/// States compare by kind (two fatal states are equal whatever their error).
impl PartialEq for IdState {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl IdState {
    /// The state's name (logs, statistics).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            IdState::Uninitialized => "Uninitialized",
            IdState::Initializing => "Initializing",
            IdState::Ready => "Ready",
            IdState::BumpPending => "BumpPending",
            IdState::Bumping => "Bumping",
            IdState::Fatal(_) => "Fatal",
        }
    }
}

/// The one transition table: which state may follow which.
fn allowed(from: &IdState, to: &IdState) -> bool {
    use IdState::*;
    matches!(
        (from, to),
        (_, Fatal(_))
            | (Uninitialized, Initializing)
            | (Initializing, Ready)
            | (Initializing, Uninitialized)
            | (Ready, BumpPending)
            | (BumpPending, Bumping)
            | (Bumping, Ready)
            | (Bumping, BumpPending)
            | (Bumping, Uninitialized)
            // A transactional producer installs ids from InitProducerId and EndTxn v5 itself.
            | (Uninitialized, Ready)
            | (Ready, Ready)
    ) && !matches!(from, Fatal(_))
}

/// Per-partition sequence bookkeeping.
#[derive(Debug, Clone, Default)]
struct PartitionState {
    /// The base sequence the next new batch gets.
    next_sequence: i32,
    /// The last sequence the broker acknowledged (-1: none under this epoch).
    last_acked: Option<i32>,
    /// Batches of this partition in flight.
    in_flight: u32,
    /// The producer id and epoch each batch in flight was sent with (a bump makes them stale).
    in_flight_ids: Vec<(i64, i16)>,
}

/// What the sender should do with a batch that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Treat it as written (DUPLICATE_SEQUENCE_NUMBER).
    Success,
    /// Queue it again with the producer id, epoch and sequence it was sent with.
    Retry,
    /// The broker did not write it: queue it again, to be sequenced afresh under the producer id
    /// current when it is next sent (after the bump this asked for, if any).
    RetryAfterBump,
    /// Fail it (and, when the state turned fatal, everything else).
    Fail,
}

/// The idempotent producer's state.
#[derive(Debug)]
pub struct TransactionManager {
    state: IdState,
    producer_id: i64,
    epoch: i16,
    transactional: bool,
    partitions: HashMap<TopicPartition, PartitionState>,
}

impl Default for TransactionManager {
    fn default() -> Self {
        TransactionManager::new(false)
    }
}

impl TransactionManager {
    /// A manager with no producer id yet.
    pub fn new(transactional: bool) -> Self {
        TransactionManager {
            state: IdState::Uninitialized,
            producer_id: -1,
            epoch: -1,
            transactional,
            partitions: HashMap::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> &IdState {
        &self.state
    }

    /// The producer id and epoch (-1, -1 before the first InitProducerId).
    pub fn producer_id_and_epoch(&self) -> (i64, i16) {
        (self.producer_id, self.epoch)
    }

    /// Changes state through the table; a transition the table does not allow is a bug, reported as a
    /// fatal error rather than a panic.
    pub fn transition(&mut self, to: IdState) -> Result<(), Error> {
        if !allowed(&self.state, &to) {
            // Callers check the state first: a refused transition is a bug, made visible as a fatal
            // error naming the pair (the producer stops), never ignored.
            let e = Error::Fatal {
                reason: format!(
                    "idempotence state {} cannot go to {} (a kprod bug)",
                    self.state.name(),
                    to.name()
                ),
            };
            log::error!("{e}");
            self.fail(e.clone());
            return Err(e);
        }
        log::debug!("producer id state {} -> {}", self.state.name(), to.name());
        self.state = to;
        Ok(())
    }

    /// Makes the producer fatal with `error` (keeping the first fatal error if it already is).
    fn fail(&mut self, error: Error) {
        if !matches!(self.state, IdState::Fatal(_)) && allowed(&self.state, &IdState::Fatal(error.clone())) {
            log::debug!("producer id state {} -> Fatal", self.state.name());
            self.state = IdState::Fatal(error);
        }
    }

    /// The fatal error, if the producer has one.
    pub fn fatal_error(&self) -> Option<&Error> {
        match &self.state {
            IdState::Fatal(e) => Some(e),
            _ => None,
        }
    }

    /// True when an InitProducerId request should be sent now: none yet, or a bump is due and nothing
    /// is in flight any more.
    pub fn needs_init(&self) -> bool {
        if self.transactional {
            return false; // the transaction flow sends its own InitProducerId
        }
        match self.state {
            IdState::Uninitialized => true,
            IdState::BumpPending => self.in_flight() == 0,
            _ => false,
        }
    }

    /// True while an InitProducerId (first id or bump) is in flight.
    pub fn init_in_flight(&self) -> bool {
        matches!(self.state, IdState::Initializing | IdState::Bumping)
    }

    /// The producer id and epoch to present in InitProducerId: the current ones for a bump, else none.
    pub fn init_request(&mut self) -> Result<(i64, i16), Error> {
        match self.state {
            IdState::Uninitialized => {
                self.transition(IdState::Initializing)?;
                Ok((-1, -1))
            }
            IdState::BumpPending => {
                self.transition(IdState::Bumping)?;
                Ok((self.producer_id, self.epoch))
            }
            _ => Err(Error::Fatal { reason: format!("InitProducerId in state {}", self.state.name()) }),
        }
    }

    /// Handles an InitProducerId answer.
    pub fn on_init_response(&mut self, code: ErrorCode, producer_id: i64, epoch: i16) -> Result<(), Error> {
        let bumping = self.state == IdState::Bumping;
        let back = if bumping { IdState::BumpPending } else { IdState::Uninitialized };
        match code {
            ErrorCode::NONE => {
                log::info!("producer id {producer_id}, epoch {epoch}");
                self.install(producer_id, epoch)
            }
            // A bump the broker refuses for our epoch: start over with a fresh producer id.
            ErrorCode::INVALID_PRODUCER_EPOCH
            | ErrorCode::PRODUCER_FENCED
            | ErrorCode::UNKNOWN_PRODUCER_ID
                if bumping && !self.transactional =>
            {
                self.producer_id = -1;
                self.epoch = -1;
                self.transition(IdState::Uninitialized)
            }
            c if c.is_retriable() => self.transition(back),
            c => {
                let e = Error::Broker { code: c, message: Some("InitProducerId".into()) };
                self.transition(IdState::Fatal(e.clone()))?;
                Err(e)
            }
        }
    }

    /// Installs a producer id and epoch obtained by the transaction flow (InitProducerId with the
    /// transactional id, or an EndTxn v5 epoch bump); every partition's sequence starts again.
    pub fn install(&mut self, producer_id: i64, epoch: i16) -> Result<(), Error> {
        self.producer_id = producer_id;
        self.epoch = epoch;
        // A new id or epoch starts every partition's sequence again.
        for p in self.partitions.values_mut() {
            p.next_sequence = 0;
            p.last_acked = None;
        }
        self.transition(IdState::Ready)
    }

    /// An InitProducerId request was lost (connection closed, timeout): try again.
    pub fn on_init_lost(&mut self) -> Result<(), Error> {
        match self.state {
            IdState::Initializing => self.transition(IdState::Uninitialized),
            IdState::Bumping => self.transition(IdState::BumpPending),
            _ => Ok(()),
        }
    }

    /// True when new batches may be drained.
    pub fn can_send(&self) -> bool {
        self.state == IdState::Ready
    }

    /// Whether `batch` may be drained now: a batch that was sent before (it has a sequence) goes only
    /// when nothing else of its partition is in flight, so retried sequences reach the broker in order.
    ///
    /// Also, until the broker has acknowledged a first batch of the partition under the current
    /// producer id and epoch, only one batch is in flight: a broker with no state for a producer accepts
    /// any first sequence (KIP-360), so if that first batch failed, a later one could be written ahead
    /// of it.
    ///
    /// A batch sent before keeps the producer id, epoch and sequence it was first sent with, also after
    /// a bump: an earlier attempt may have been written, and only the same stamp lets the broker see the
    /// retry as a duplicate (Java keeps them too). So, as in Java, a new batch of a partition waits
    /// while batches stamped with an older id or epoch are in flight; otherwise it could be written
    /// ahead of them.
    pub fn can_drain(&self, batch: &ProducerBatch) -> bool {
        let Some(p) = self.partitions.get(batch.topic_partition()) else { return true };
        let current = (self.producer_id, self.epoch);
        if batch.producer_state().is_some() || p.last_acked.is_none() {
            return p.in_flight == 0;
        }
        !p.in_flight_ids.iter().any(|&id| id != current)
    }

    /// Stamps a drained batch with the producer id, epoch and its sequence: the next sequence of its
    /// partition for a new batch (or one sent under an older epoch), its own for a retry.
    pub fn assign(&mut self, batch: &mut ProducerBatch) -> Result<(), Error> {
        let (pid, epoch) = (self.producer_id, self.epoch);
        let p = self.partitions.entry(batch.topic_partition().clone()).or_default();
        let keep = batch.producer_state();
        let state = match keep {
            Some(s) => s,
            None => {
                let seq = p.next_sequence;
                p.next_sequence = seq.wrapping_add(batch.record_count()) & i32::MAX;
                ProducerState { producer_id: pid, epoch, base_sequence: seq }
            }
        };
        p.in_flight += 1;
        p.in_flight_ids.push((state.producer_id, state.epoch));
        if keep.is_none() {
            batch.set_producer_state(state, self.transactional)?;
        }
        Ok(())
    }

    /// Records that a sent batch came back (any outcome); call before [`on_success`](Self::on_success)
    /// or [`on_error`](Self::on_error).
    pub fn on_returned(&mut self, batch: &ProducerBatch) {
        let Some(s) = batch.producer_state() else { return };
        if let Some(p) = self.partitions.get_mut(batch.topic_partition()) {
            p.in_flight = p.in_flight.saturating_sub(1);
            if let Some(i) = p.in_flight_ids.iter().position(|&id| id == (s.producer_id, s.epoch)) {
                p.in_flight_ids.swap_remove(i);
            }
        }
    }

    /// A batch was written.
    pub fn on_success(&mut self, batch: &ProducerBatch) {
        let Some(s) = batch.producer_state() else { return };
        if (s.producer_id, s.epoch) != (self.producer_id, self.epoch) {
            return;
        }
        if let Some(p) = self.partitions.get_mut(batch.topic_partition()) {
            let last = s.base_sequence.wrapping_add(batch.record_count() - 1) & i32::MAX;
            p.last_acked = Some(last);
        }
    }

    /// Decides what to do with a batch that failed with `code` (Java's `handleFailedBatch` and
    /// `canRetry`, with KIP-360's epoch bump). `retriable` says whether the generic retry rules
    /// (retries left, delivery timeout not reached) still allow a retry.
    pub fn on_error(&mut self, batch: &ProducerBatch, code: ErrorCode, retriable: bool) -> Recovery {
        let Some(s) = batch.producer_state() else {
            return if retriable { Recovery::Retry } else { Recovery::Fail };
        };
        let current = (s.producer_id, s.epoch) == (self.producer_id, self.epoch);
        match code {
            ErrorCode::DUPLICATE_SEQUENCE_NUMBER => Recovery::Success,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
            | ErrorCode::UNKNOWN_PRODUCER_ID
            | ErrorCode::INVALID_PRODUCER_ID_MAPPING => {
                if self.transactional || (!retriable && code != ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER) {
                    // In a transaction the batch fails and the transaction must be aborted (which bumps
                    // the epoch); the idempotent producer recovers on its own.
                    return Recovery::Fail;
                }
                // The broker expects another sequence. If an earlier batch of the partition failed, this
                // one simply follows it again; if this batch is the next one expected, the broker lost
                // our state: bump the epoch and start the sequences again.
                let expected = self
                    .partitions
                    .get(batch.topic_partition())
                    .map_or(0, |p| p.last_acked.map_or(0, |l| l.wrapping_add(1) & i32::MAX));
                if !current {
                    // Sent under an older id or epoch and refused for its sequence: not written, so it
                    // is sequenced afresh under the current one (no new bump needed).
                    Recovery::RetryAfterBump
                } else if code != ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER || s.base_sequence == expected {
                    self.request_bump();
                    Recovery::RetryAfterBump
                } else if retriable {
                    Recovery::Retry
                } else {
                    self.request_bump();
                    Recovery::Fail
                }
            }
            ErrorCode::PRODUCER_FENCED if self.transactional => {
                self.fail(Error::Broker { code, message: Some("fenced by a newer producer".into()) });
                Recovery::Fail
            }
            // As in Java (KIP-588), an old epoch on a transactional Produce only dooms the transaction:
            // the batch fails, the transaction becomes abortable, and the abort moves to a new epoch.
            ErrorCode::INVALID_PRODUCER_EPOCH if self.transactional => Recovery::Fail,
            ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::PRODUCER_FENCED => {
                self.request_bump();
                Recovery::RetryAfterBump
            }
            // What the error table calls fatal (authorization, UNSUPPORTED_VERSION) ends the producer;
            // the sequence and epoch codes above are recovered from instead (KIP-360).
            c if c.is_fatal() => {
                self.fail(Error::Broker { code, message: None });
                Recovery::Fail
            }
            _ if retriable => Recovery::Retry,
            _ => {
                // A sequenced batch that will never be written leaves a gap: later batches of its
                // partition would be out of order, so move to a new epoch.
                self.on_abandoned(batch);
                Recovery::Fail
            }
        }
    }

    /// A sequenced batch will never be sent again (expired, failed, split): its sequence range leaves a
    /// gap, so the epoch must be bumped before the partition's next batch.
    pub fn on_abandoned(&mut self, batch: &ProducerBatch) {
        if self.transactional {
            return; // the transaction is aborted, and the abort moves to a new epoch
        }
        if let Some(s) = batch.producer_state() {
            if (s.producer_id, s.epoch) == (self.producer_id, self.epoch) {
                self.request_bump();
            }
        }
    }

    fn request_bump(&mut self) {
        // Only a producer id in use is bumped; one being initialized or bumped already gets a new epoch.
        if self.state == IdState::Ready {
            // A refusal would already have made the producer fatal inside `transition`.
            let _visible = self.transition(IdState::BumpPending);
        }
    }

    /// Batches in flight over all partitions.
    pub fn in_flight(&self) -> u32 {
        self.partitions.values().map(|p| p.in_flight).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::record::{BatchParams, NO_HEADERS};
    use std::time::Instant;

    fn batch(id: u64, records: usize) -> ProducerBatch {
        let mut b = ProducerBatch::new(
            TopicPartition::new("t", 0),
            id,
            Vec::new(),
            0,
            BatchParams::default(),
            Instant::now(),
        );
        for _ in 0..records {
            b.try_append(0, None, Some(&b"v"[..]), NO_HEADERS, &mut None, usize::MAX).unwrap();
        }
        b.seal(None, &mut Vec::new()).unwrap();
        b
    }

    fn ready() -> TransactionManager {
        let mut tm = TransactionManager::new(false);
        assert!(tm.needs_init());
        assert_eq!(tm.init_request().unwrap(), (-1, -1));
        tm.on_init_response(ErrorCode::NONE, 7, 0).unwrap();
        tm
    }

    #[test]
    fn sequences_are_assigned_per_partition_and_kept_on_retry() {
        let mut tm = ready();
        let (mut a, mut b) = (batch(0, 3), batch(1, 2));
        tm.assign(&mut a).unwrap();
        tm.assign(&mut b).unwrap();
        assert_eq!(a.producer_state().unwrap().base_sequence, 0);
        assert_eq!(b.producer_state().unwrap().base_sequence, 3);
        assert_eq!(tm.in_flight(), 2);
        // a fails retriably: kept sequence, but it waits until b is back.
        tm.on_returned(&a);
        assert_eq!(tm.on_error(&a, ErrorCode::NOT_LEADER_OR_FOLLOWER, true), Recovery::Retry);
        assert!(!tm.can_drain(&a));
        // b, sent after a failed, is out of order: retried too, no bump.
        tm.on_returned(&b);
        assert_eq!(tm.on_error(&b, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true), Recovery::Retry);
        assert!(tm.can_drain(&a) && tm.can_send());
        tm.assign(&mut a).unwrap();
        assert_eq!(a.producer_state().unwrap().base_sequence, 0, "retry keeps its sequence");
        tm.on_returned(&a);
        tm.on_success(&a);
        tm.assign(&mut b).unwrap();
        assert_eq!(b.producer_state().unwrap().base_sequence, 3);
    }

    #[test]
    fn out_of_order_at_the_expected_sequence_bumps_the_epoch() {
        let mut tm = ready();
        let mut a = batch(0, 2);
        tm.assign(&mut a).unwrap();
        tm.on_returned(&a);
        tm.on_success(&a);
        let mut b = batch(1, 1);
        tm.assign(&mut b).unwrap();
        tm.on_returned(&b);
        assert_eq!(tm.on_error(&b, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true), Recovery::RetryAfterBump);
        assert_eq!(tm.state(), &IdState::BumpPending);
        assert!(!tm.can_send());
        assert!(tm.needs_init());
        assert_eq!(tm.init_request().unwrap(), (7, 0), "the bump presents the current id and epoch");
        tm.on_init_response(ErrorCode::NONE, 8, 0).unwrap();
        b.clear_producer_state(); // what the sender does on RetryAfterBump
        tm.assign(&mut b).unwrap();
        assert_eq!(b.producer_state().unwrap(), ProducerState { producer_id: 8, epoch: 0, base_sequence: 0 });
    }

    #[test]
    fn a_batch_sent_before_a_bump_keeps_its_stamp_and_new_batches_wait_for_it() {
        // Found by the simulator (seed 7): a batch written under producer id 7 whose answer was lost,
        // then re-stamped under the id a bump brought, was written twice.
        let mut tm = ready();
        let mut a = batch(0, 2);
        tm.assign(&mut a).unwrap();
        tm.on_returned(&a);
        assert_eq!(tm.on_error(&a, ErrorCode::NOT_LEADER_OR_FOLLOWER, true), Recovery::Retry);
        // Another partition's failure asks for a bump; nothing is in flight, so it goes.
        tm.request_bump();
        assert_eq!(tm.init_request().unwrap(), (7, 0));
        tm.on_init_response(ErrorCode::NONE, 8, 0).unwrap();
        assert!(tm.can_drain(&a), "the retry goes first");
        tm.assign(&mut a).unwrap();
        assert_eq!(a.producer_state().unwrap(), ProducerState { producer_id: 7, epoch: 0, base_sequence: 0 });
        let mut b = batch(1, 1);
        assert!(!tm.can_drain(&b), "a new batch waits while one stamped with the old id is in flight");
        tm.on_returned(&a);
        // The old stamp is refused for its sequence: it was not written, so it is sequenced afresh.
        assert_eq!(tm.on_error(&a, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true), Recovery::RetryAfterBump);
        assert_eq!(tm.state(), &IdState::Ready, "no second bump");
        a.clear_producer_state();
        assert!(tm.can_drain(&a));
        tm.assign(&mut a).unwrap();
        assert_eq!(a.producer_state().unwrap(), ProducerState { producer_id: 8, epoch: 0, base_sequence: 0 });
        tm.on_returned(&a);
        tm.on_success(&a);
        assert!(tm.can_drain(&b));
        tm.assign(&mut b).unwrap();
        assert_eq!(b.producer_state().unwrap().base_sequence, 2);
    }

    #[test]
    fn unknown_producer_id_bumps_and_fencing_is_fatal_only_for_transactions() {
        let mut tm = ready();
        let mut a = batch(0, 1);
        tm.assign(&mut a).unwrap();
        tm.on_returned(&a);
        assert_eq!(tm.on_error(&a, ErrorCode::UNKNOWN_PRODUCER_ID, true), Recovery::RetryAfterBump);

        let mut tx = TransactionManager::new(true);
        tx.init_request().unwrap();
        tx.on_init_response(ErrorCode::NONE, 1, 0).unwrap();
        let mut b = batch(1, 1);
        tx.assign(&mut b).unwrap();
        tx.on_returned(&b);
        assert_eq!(tx.on_error(&b, ErrorCode::PRODUCER_FENCED, false), Recovery::Fail);
        assert!(matches!(tx.state(), IdState::Fatal(_)));
        assert!(tx.transition(IdState::Ready).is_err(), "nothing leaves Fatal");
    }

    #[test]
    fn duplicates_are_success_and_abandoned_batches_force_a_bump() {
        let mut tm = ready();
        let mut a = batch(0, 1);
        tm.assign(&mut a).unwrap();
        tm.on_returned(&a);
        assert_eq!(tm.on_error(&a, ErrorCode::DUPLICATE_SEQUENCE_NUMBER, true), Recovery::Success);
        tm.on_abandoned(&a);
        assert_eq!(tm.state(), &IdState::BumpPending);
    }

    #[test]
    fn init_retries_and_fatal_errors() {
        let mut tm = TransactionManager::new(false);
        tm.init_request().unwrap();
        tm.on_init_response(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS, -1, -1).unwrap();
        assert!(tm.needs_init());
        tm.init_request().unwrap();
        assert!(tm.on_init_response(ErrorCode::CLUSTER_AUTHORIZATION_FAILED, -1, -1).is_err());
        assert!(tm.fatal_error().is_some());
    }
}
