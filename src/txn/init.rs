//! The idempotent producer's InitProducerId driver: asks for a producer id (or a KIP-360 epoch bump)
//! when the [`TransactionManager`] needs one, one request at a time, with a growing backoff after
//! failures. A transactional producer gets its id through the coordinator driver instead. No I/O.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::TransactionManager;
use crate::error::Error;
use crate::protocol::messages::init_producer_id::InitProducerIdRequest;
use crate::protocol::{decode_response, ErrorCode, Message};
use crate::sender::backoff::{Backoff, Jitter};
use crate::sender::driver::{Links, Outbox};
use crate::sender::request::{Outgoing, Request};

/// The InitProducerId driver.
#[derive(Debug)]
pub(crate) struct InitDriver {
    client_id: Arc<str>,
    transaction_timeout: Duration,
    /// `retry.backoff.ms` / `retry.backoff.max.ms`.
    backoff: Backoff,
    failures: u32,
    next_attempt: Instant,
    jitter: Jitter,
}

impl InitDriver {
    /// Replaces the jitter source (the simulator seeds it).
    #[cfg(feature = "sim")]
    pub(crate) fn set_jitter(&mut self, jitter: crate::sender::backoff::Jitter) {
        self.jitter = jitter;
    }

    pub(crate) fn new(
        client_id: Arc<str>,
        transaction_timeout: Duration,
        backoff: Backoff,
        now: Instant,
    ) -> Self {
        InitDriver {
            client_id,
            transaction_timeout,
            backoff,
            failures: 0,
            next_attempt: now,
            jitter: Jitter::from_entropy(),
        }
    }

    /// Sends InitProducerId when the producer needs an id or a bump and it may be sent now.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        tm: &mut TransactionManager,
        links: &mut dyn Links,
        out: &mut Outbox,
    ) {
        // The id state says "in flight" only while the request is: if it is on no connection, it was
        // lost without being settled (a bug), and is settled now instead of stalling the producer.
        if tm.init_in_flight() && !links.in_flight(&|r| matches!(r, Request::InitProducerId)) {
            log::error!("InitProducerId marked in flight but not on any connection; retrying");
            self.on_lost(now, tm, out);
        }
        if !tm.needs_init() {
            return;
        }
        if now < self.next_attempt {
            out.wake_in(self.next_attempt - now);
            return;
        }
        let Some(node) = links.least_loaded(now) else {
            out.connect_any = true;
            return;
        };
        let ours = (InitProducerIdRequest::MIN_VERSION, InitProducerIdRequest::MAX_VERSION);
        let Some(version) = links.version(node, InitProducerIdRequest::API_KEY, ours) else {
            out.fatal.get_or_insert(Error::Unsupported("the broker does not support InitProducerId".into()));
            return;
        };
        // The state moves to "in flight" only once the request is certain to be queued.
        let (producer_id, producer_epoch) = match tm.init_request() {
            Ok(v) => v,
            Err(e) => {
                out.fatal.get_or_insert(e);
                return;
            }
        };
        let req = InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::try_from(self.transaction_timeout.as_millis()).unwrap_or(i32::MAX),
            producer_id,
            producer_epoch,
            enable_2pc: false,
            keep_prepared_txn: false,
        };
        let correlation_id = links.next_correlation_id(node);
        match Outgoing::encode(node, correlation_id, version, &self.client_id, &req, Request::InitProducerId)
        {
            Ok(o) => out.sends.push(o),
            Err((_, e)) => {
                log::error!("cannot encode InitProducerId: {e}");
                self.on_lost(now, tm, out);
            }
        }
    }

    /// An InitProducerId response.
    pub(crate) fn on_response(
        &mut self,
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
        tm: &mut TransactionManager,
        out: &mut Outbox,
    ) {
        let resp = match decode_response::<InitProducerIdRequest>(body, version, correlation_id) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("bad InitProducerId response: {e}");
                return self.on_lost(now, tm, out);
            }
        };
        match tm.on_init_response(resp.error_code, resp.producer_id, resp.producer_epoch) {
            Ok(()) if resp.error_code == ErrorCode::NONE => self.failures = 0,
            Ok(()) => {
                log::debug!("InitProducerId: {}; retrying", resp.error_code);
                self.back_off(now);
            }
            Err(e) => {
                out.fatal.get_or_insert(e);
            }
        }
    }

    /// The request got no answer: ask again after a backoff.
    pub(crate) fn on_lost(&mut self, now: Instant, tm: &mut TransactionManager, out: &mut Outbox) {
        if let Err(e) = tm.on_init_lost() {
            out.fatal.get_or_insert(e);
            return;
        }
        self.back_off(now);
    }

    fn back_off(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = now + self.backoff.after(self.failures, &mut self.jitter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::init_producer_id::InitProducerIdResponse;
    use crate::sender::fake::{response, FakeLinks};
    use crate::txn::IdState;

    fn driver(now: Instant) -> InitDriver {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        InitDriver::new(Arc::from("c"), Duration::from_secs(60), backoff, now)
    }

    fn sent(out: &Outbox) -> Option<&Outgoing> {
        out.sends.iter().find(|o| matches!(o.request, Request::InitProducerId))
    }

    fn answer(id: i64, epoch: i16, code: ErrorCode) -> InitProducerIdResponse {
        InitProducerIdResponse {
            error_code: code,
            producer_id: id,
            producer_epoch: epoch,
            ..Default::default()
        }
    }

    #[test]
    fn asks_for_an_id_then_installs_it() {
        let now = Instant::now();
        let mut d = driver(now);
        let mut tm = TransactionManager::new(false);
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut FakeLinks::default(), &mut out);
        assert!(out.connect_any && out.sends.is_empty(), "no broker yet");
        assert_eq!(tm.state(), &IdState::Uninitialized, "nothing marked in flight without a request");
        let mut links = FakeLinks::ready(&[2]);
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut links, &mut out);
        let o = sent(&out).expect("InitProducerId");
        assert!(tm.init_in_flight());
        let body = response(o.version, o.correlation_id, &answer(7, 0, ErrorCode::NONE));
        d.on_response(&body, o.version, o.correlation_id, now, &mut tm, &mut out);
        assert_eq!(tm.producer_id_and_epoch(), (7, 0));
        assert!(tm.can_send() && out.fatal.is_none());
    }

    #[test]
    fn a_lost_request_is_sent_again_after_a_backoff() {
        let now = Instant::now();
        let mut d = driver(now);
        let mut tm = TransactionManager::new(false);
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut links, &mut out);
        assert!(sent(&out).is_some());
        d.on_lost(now, &mut tm, &mut out);
        assert!(!tm.init_in_flight(), "lost clears what sending set");
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut links, &mut out);
        assert!(out.sends.is_empty() && out.timeout.is_some(), "backing off");
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(1), &mut tm, &mut links, &mut out);
        assert!(sent(&out).is_some(), "sent again");
    }

    #[test]
    fn in_flight_without_a_request_on_the_wire_is_settled() {
        let now = Instant::now();
        let mut d = driver(now);
        let mut tm = TransactionManager::new(false);
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut links, &mut out);
        assert!(tm.init_in_flight());
        // The request vanished without being answered or lost (a bug elsewhere): the next turn sees
        // nothing on the wire and settles it instead of waiting forever.
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(1), &mut tm, &mut links, &mut out);
        assert!(!tm.init_in_flight() || sent(&out).is_some());
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(3), &mut tm, &mut links, &mut out);
        assert!(sent(&out).is_some() || tm.init_in_flight(), "asked again");
    }

    #[test]
    fn errors_retry_or_end_the_producer() {
        let now = Instant::now();
        let mut d = driver(now);
        let mut tm = TransactionManager::new(false);
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut tm, &mut links, &mut out);
        let o = sent(&out).unwrap();
        let (v, c) = (o.version, o.correlation_id);
        d.on_response(
            &response(v, c, &answer(-1, -1, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)),
            v,
            c,
            now,
            &mut tm,
            &mut out,
        );
        assert!(out.fatal.is_none() && !tm.init_in_flight(), "retriable: asked again later");
        d.on_response(&[1, 2], v, c, now, &mut tm, &mut out);
        assert!(out.fatal.is_none(), "garbage counts as lost");
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(5), &mut tm, &mut links, &mut out);
        let o = sent(&out).unwrap();
        let (v, c) = (o.version, o.correlation_id);
        d.on_response(
            &response(v, c, &answer(-1, -1, ErrorCode::CLUSTER_AUTHORIZATION_FAILED)),
            v,
            c,
            now,
            &mut tm,
            &mut out,
        );
        assert!(out.fatal.is_some(), "not authorized: fatal");
    }
}
