//! The metadata driver (Java's `DefaultMetadataUpdater`): when a refresh is due (a new topic, stale
//! leadership, `metadata.max.age.ms`) it asks the least loaded ready broker, one refresh at a time, and
//! backs off (jittered, growing) after a failure. It does no I/O.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backoff::{Backoff, Jitter};
use super::driver::{Links, Outbox};
use super::metadata::Metadata;
use super::request::{Outgoing, Request};
use crate::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use crate::protocol::primitives::Uuid;
use crate::protocol::{decode_response, ErrorCode, Message};

/// The metadata driver.
#[derive(Debug)]
pub(crate) struct MetadataDriver {
    metadata: Arc<Metadata>,
    client_id: Arc<str>,
    /// `retry.backoff.ms` / `retry.backoff.max.ms`.
    backoff: Backoff,
    /// The least time between two refreshes (`retry.backoff.ms`).
    min_interval: Duration,
    failures: u32,
    next_attempt: Instant,
    jitter: Jitter,
    /// `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102), when re-bootstrapping is on.
    rebootstrap_trigger: Option<Duration>,
    /// Since when a wanted refresh has gone unanswered (`None`: the last one was answered).
    unanswered_since: Option<Instant>,
}

impl MetadataDriver {
    /// Replaces the jitter source (the simulator seeds it).
    #[cfg(feature = "sim")]
    pub(crate) fn set_jitter(&mut self, jitter: crate::sender::backoff::Jitter) {
        self.jitter = jitter;
    }

    pub(crate) fn new(
        metadata: Arc<Metadata>,
        client_id: Arc<str>,
        backoff: Backoff,
        min_interval: Duration,
        now: Instant,
    ) -> Self {
        MetadataDriver {
            metadata,
            client_id,
            backoff,
            min_interval,
            failures: 0,
            next_attempt: now,
            jitter: Jitter::from_entropy(),
            rebootstrap_trigger: None,
            unanswered_since: None,
        }
    }

    /// Turns re-bootstrapping on (`metadata.recovery.strategy=rebootstrap`) with its trigger time.
    pub(crate) fn with_rebootstrap(mut self, trigger: Option<Duration>) -> Self {
        self.rebootstrap_trigger = trigger;
        self
    }

    /// Sends a Metadata request when one is due and none is in flight, to the least loaded ready
    /// connection (asking for a connection when there is none).
    pub(crate) fn poll(&mut self, now: Instant, links: &mut dyn Links, out: &mut Outbox) {
        if links.in_flight(&|r| matches!(r, Request::Metadata(_))) {
            return;
        }
        let due_in = self.metadata.time_to_next_update(now);
        if due_in > Duration::ZERO {
            out.wake_in(due_in);
            return;
        }
        // KIP-1102: a wanted refresh unanswered for the trigger time re-bootstraps.
        let since = *self.unanswered_since.get_or_insert(now);
        if let Some(trigger) = self.rebootstrap_trigger {
            if now.saturating_duration_since(since) >= trigger {
                self.metadata.rebootstrap("no metadata for metadata.recovery.rebootstrap.trigger.ms");
                self.unanswered_since = Some(now);
            } else {
                out.wake_in(trigger - now.saturating_duration_since(since));
            }
        }
        if now < self.next_attempt {
            out.wake_in(self.next_attempt - now);
            return;
        }
        let Some(node) = links.least_loaded(now) else {
            out.connect_any = true;
            return;
        };
        let Some(topics) = self.metadata.due(now) else { return };
        let Some(version) = links.version(
            node,
            MetadataRequest::API_KEY,
            (MetadataRequest::MIN_VERSION, MetadataRequest::MAX_VERSION),
        ) else {
            log::error!("node {node} supports no Metadata version kprod speaks");
            return;
        };
        let req = MetadataRequest {
            topics: Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic { topic_id: Uuid::ZERO, name: Some(t.to_string()) })
                    .collect(),
            ),
            allow_auto_topic_creation: true,
            ..Default::default()
        };
        let correlation_id = links.next_correlation_id(node);
        match Outgoing::encode(
            node,
            correlation_id,
            version,
            &self.client_id,
            &req,
            Request::Metadata(topics),
        ) {
            Ok(o) => {
                out.sends.push(o);
                self.next_attempt = now + self.min_interval;
            }
            Err((_, e)) => log::error!("cannot encode a Metadata request: {e}"),
        }
    }

    /// A Metadata response for `topics`.
    pub(crate) fn on_response(
        &mut self,
        node: i32,
        topics: &[Arc<str>],
        body: &[u8],
        version: i16,
        correlation_id: i32,
        now: Instant,
    ) {
        match decode_response::<MetadataRequest>(body, version, correlation_id) {
            Ok(resp)
                if resp.error_code == ErrorCode::REBOOTSTRAP_REQUIRED
                    && self.rebootstrap_trigger.is_some() =>
            {
                // KIP-1102: the cluster tells us our bootstrap view is wrong.
                self.metadata.rebootstrap(&format!("node {node} answered REBOOTSTRAP_REQUIRED"));
                self.unanswered_since = Some(now);
            }
            Ok(resp) if resp.error_code != ErrorCode::NONE => {
                log::warn!("Metadata response from node {node}: {}", resp.error_code);
                self.on_lost(now);
            }
            Ok(resp) => {
                self.failures = 0;
                self.unanswered_since = None;
                let cluster = self.metadata.update(&resp, topics, now);
                log::debug!("metadata: {} brokers, {} topics", cluster.brokers.len(), cluster.topics.len());
            }
            Err(e) => {
                log::warn!("bad Metadata response from node {node}: {e}");
                self.on_lost(now);
            }
        }
    }

    /// The refresh got no (usable) answer: ask again after a growing backoff.
    pub(crate) fn on_lost(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        let wait = self.backoff.after(self.failures, &mut self.jitter);
        self.next_attempt = now + wait;
        self.metadata.failed_update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::metadata::MetadataResponse;
    use crate::protocol::ErrorCode;
    use crate::sender::fake::{response, FakeLinks};
    use crate::sender::metadata::Lookup;

    fn driver(now: Instant) -> (MetadataDriver, Arc<Metadata>) {
        let metadata = Arc::new(Metadata::new(Duration::from_secs(300), Duration::from_secs(300)));
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d = MetadataDriver::new(
            Arc::clone(&metadata),
            Arc::from("c"),
            backoff,
            Duration::from_millis(100),
            now,
        );
        (d, metadata)
    }

    fn one_topic(name: &str) -> MetadataResponse {
        crate::sender::fake::one_topic(name, Uuid::ZERO)
    }

    fn sent(out: &Outbox) -> Option<(&Outgoing, Vec<Arc<str>>)> {
        out.sends.iter().find_map(|o| match &o.request {
            Request::Metadata(t) => Some((o, t.clone())),
            _ => None,
        })
    }

    #[test]
    fn asks_a_ready_broker_for_the_topics_in_use_and_applies_the_answer() {
        let now = Instant::now();
        let (mut d, metadata) = driver(now);
        let _ = metadata.lookup("t", now);
        // No connection: the driver asks for one.
        let mut out = Outbox::default();
        d.poll(now, &mut FakeLinks::default(), &mut out);
        assert!(out.connect_any && out.sends.is_empty());
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut links, &mut out);
        let (o, topics) = sent(&out).expect("a Metadata request");
        assert_eq!((o.node, topics.len()), (1, 1));
        let (version, corr) = (o.version, o.correlation_id);
        // One at a time: while it is in flight nothing else is sent.
        links.in_flight.push("Metadata");
        let mut again = Outbox::default();
        d.poll(now, &mut links, &mut again);
        assert!(again.sends.is_empty());
        d.on_response(1, &topics, &response(version, corr, &one_topic("t")), version, corr, now);
        assert!(matches!(metadata.lookup("t", now), Ok(Lookup::Found(..))));
    }

    #[test]
    fn a_lost_refresh_is_asked_again_after_a_backoff() {
        let now = Instant::now();
        let (mut d, metadata) = driver(now);
        let _ = metadata.lookup("t", now);
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut links, &mut out);
        assert!(sent(&out).is_some());
        d.on_lost(now);
        // Nothing marks the refresh in flight any more; the backoff holds the next one back.
        let mut out = Outbox::default();
        d.poll(now, &mut links, &mut out);
        assert!(out.sends.is_empty(), "backing off");
        assert!(out.timeout.is_some_and(|t| t > Duration::ZERO && t <= Duration::from_millis(240)));
        let mut out = Outbox::default();
        d.poll(now + Duration::from_millis(300), &mut links, &mut out);
        assert!(sent(&out).is_some(), "asked again");
    }

    /// Polls at `at` over `links`, expects a Metadata request and answers it with `answer`; the
    /// request's version.
    fn refresh_with(
        d: &mut MetadataDriver,
        links: &mut FakeLinks,
        at: Instant,
        answer: &MetadataResponse,
    ) -> i16 {
        let mut out = Outbox::default();
        d.poll(at, links, &mut out);
        let (o, topics) = sent(&out).expect("a Metadata request");
        let (version, corr) = (o.version, o.correlation_id);
        d.on_response(1, &topics, &response(version, corr, answer), version, corr, at);
        version
    }

    #[test]
    fn rebootstraps_after_the_trigger_time_without_an_answer_and_on_rebootstrap_required() {
        let now = Instant::now();
        let (d, metadata) = driver(now);
        let mut d = d.with_rebootstrap(Some(Duration::from_secs(5)));
        let _ = metadata.lookup("t", now);
        let mut links = FakeLinks::ready(&[1]);
        refresh_with(&mut d, &mut links, now, &one_topic("t"));
        assert_eq!(metadata.broker_ids(), vec![1]);
        // A refresh is wanted but no broker answers: at 5 s the producer starts again from bootstrap.
        metadata.request_update();
        let later = now + Duration::from_secs(1);
        d.poll(later, &mut FakeLinks::default(), &mut Outbox::default());
        d.poll(later + Duration::from_secs(4), &mut FakeLinks::default(), &mut Outbox::default());
        assert_eq!(metadata.broker_ids(), vec![1], "not yet");
        d.poll(later + Duration::from_secs(5), &mut FakeLinks::default(), &mut Outbox::default());
        assert!(metadata.broker_ids().is_empty(), "re-bootstrapped");
        assert!(matches!(metadata.lookup("t", now), Ok(Lookup::Missing(_))), "sends wait for metadata");
        // An answer brings the brokers back; REBOOTSTRAP_REQUIRED clears them again.
        let at = later + Duration::from_secs(6);
        let version = refresh_with(&mut d, &mut links, at, &one_topic("t"));
        assert!(version >= 13, "REBOOTSTRAP_REQUIRED comes in Metadata v13");
        assert_eq!(metadata.broker_ids(), vec![1]);
        metadata.request_update();
        let required = MetadataResponse { error_code: ErrorCode::REBOOTSTRAP_REQUIRED, ..one_topic("t") };
        refresh_with(&mut d, &mut links, at + Duration::from_secs(1), &required);
        assert!(metadata.broker_ids().is_empty(), "REBOOTSTRAP_REQUIRED re-bootstraps");
    }

    #[test]
    fn without_rebootstrap_the_known_brokers_stay() {
        let now = Instant::now();
        let (mut d, metadata) = driver(now);
        let _ = metadata.lookup("t", now);
        refresh_with(&mut d, &mut FakeLinks::ready(&[1]), now, &one_topic("t"));
        metadata.request_update();
        for s in [1, 400, 900] {
            d.poll(now + Duration::from_secs(s), &mut FakeLinks::default(), &mut Outbox::default());
        }
        assert_eq!(metadata.broker_ids(), vec![1]);
    }

    #[test]
    fn an_undecodable_answer_counts_as_lost() {
        let now = Instant::now();
        let (mut d, metadata) = driver(now);
        let _ = metadata.lookup("t", now);
        let mut links = FakeLinks::ready(&[1]);
        let mut out = Outbox::default();
        d.poll(now, &mut links, &mut out);
        let (o, topics) = sent(&out).unwrap();
        let (version, corr) = (o.version, o.correlation_id);
        d.on_response(1, &topics, &[0xff; 3], version, corr, now);
        assert!(matches!(metadata.lookup("t", now), Ok(Lookup::Missing(_))));
        let mut out = Outbox::default();
        d.poll(now, &mut links, &mut out);
        assert!(out.sends.is_empty(), "backing off like a lost refresh");
        let mut out = Outbox::default();
        d.poll(now + Duration::from_secs(1), &mut links, &mut out);
        assert!(sent(&out).is_some());
    }
}
