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
use crate::protocol::{decode_response, Message};

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
        }
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
            Ok(resp) => {
                self.failures = 0;
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
    use crate::protocol::messages::metadata::{
        MetadataResponse, MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
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
        MetadataResponse {
            brokers: vec![MetadataResponseBroker { node_id: 1, host: "h".into(), port: 9092, rack: None }],
            topics: vec![MetadataResponseTopic {
                error_code: ErrorCode::NONE,
                name: Some(name.into()),
                partitions: vec![MetadataResponsePartition {
                    partition_index: 0,
                    leader_id: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
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
