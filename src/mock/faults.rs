//! Injected faults: queued error codes, connection faults and response faults, each scoped to an API
//! key and optionally one topic-partition, plus per-API throttle times and delays and the lies Metadata
//! tells (partition lists, advertised hosts).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::protocol::{ApiKey, ErrorCode};

/// A topic-partition a fault is limited to.
pub(crate) type Scope = Option<(String, i32)>;

/// What happens to the connection for a request matched by a connection fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnFault {
    /// Close before processing the request.
    DropBefore,
    /// Process the request, then close without answering (a lost acknowledgement).
    DropAfter,
    /// Process the request, send only this many bytes of the response, then close.
    CutAfter(usize),
}

/// How a broker mangles its answer to a matched request (see
/// [`MockCluster::inject_response_fault`](super::MockCluster::inject_response_fault)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseFault {
    /// Process the request; flip bytes of the response body after the correlation id (size prefix and
    /// correlation id stay right), so the response does not decode or decodes to nonsense. Every byte
    /// after the correlation id is inverted (`!b`).
    Corrupt,
    /// Process the request; answer with a correlation id the request did not have (the request's
    /// + 1_000_000, wrapping into i32 positive range).
    WrongCorrelationId,
    /// Process the request; send its response twice.
    Duplicate,
    /// Process the request; first send a well-formed extra response frame with a correlation id no
    /// request used (the real response with the id [`WrongCorrelationId`](Self::WrongCorrelationId)
    /// would give), then the real response.
    Unsolicited,
    /// Process the request; send the whole response, then close the connection (what
    /// `close_after_bytes` with a large count does, named).
    RespondThenClose,
    /// Process the request; send the first `n` bytes of the response frame, then keep the connection
    /// open and silent (it only closes when the client closes it or the broker goes down / cluster is
    /// dropped). Later requests on that connection are read but never answered.
    StallAfter(usize),
    /// Process the request; answer with a frame whose size prefix announces `size` bytes (e.g.
    /// `i32::MAX`, or a negative value) followed by the real response body, then close.
    OversizedPrefix(i32),
    /// Produce only: process the request but leave the scoped partition out of the response (needs a
    /// scope; without a scope, leave out the first partition of the request).
    OmitPartition,
}

/// What the connection does once a response's bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// Go on serving requests.
    Continue,
    /// Close the connection.
    Close,
    /// Stay open, answer nothing more (later requests are read and dropped).
    Stall,
}

/// The correlation id of [`ResponseFault::WrongCorrelationId`]: the request's + 1 000 000, modulo
/// 2^31 so it stays a non-negative i32 like the ids clients use.
pub(crate) fn wrong_correlation_id(corr: i32) -> i32 {
    let id = (i64::from(corr) + 1_000_000).rem_euclid(1 << 31);
    i32::try_from(id).unwrap_or(0)
}

/// Applies `fault` to an encoded response `frame` (size prefix, correlation id, rest): the bytes to
/// write and what the connection does afterwards. [`ResponseFault::OmitPartition`] is applied by the
/// Produce handler before encoding, so here it changes nothing.
pub(crate) fn mangle(mut frame: Vec<u8>, fault: ResponseFault) -> (Vec<u8>, Then) {
    let corr = frame.get(4..8).map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    match fault {
        ResponseFault::Corrupt => {
            for b in frame.iter_mut().skip(8) {
                *b = !*b;
            }
            (frame, Then::Continue)
        }
        ResponseFault::WrongCorrelationId => {
            set_correlation_id(&mut frame, wrong_correlation_id(corr));
            (frame, Then::Continue)
        }
        ResponseFault::Duplicate => {
            let mut out = frame.clone();
            out.extend_from_slice(&frame);
            (out, Then::Continue)
        }
        ResponseFault::Unsolicited => {
            let mut out = frame.clone();
            set_correlation_id(&mut out, wrong_correlation_id(corr));
            out.extend_from_slice(&frame);
            (out, Then::Continue)
        }
        ResponseFault::RespondThenClose => (frame, Then::Close),
        ResponseFault::StallAfter(n) => {
            frame.truncate(n);
            (frame, Then::Stall)
        }
        ResponseFault::OversizedPrefix(size) => {
            if let Some(prefix) = frame.get_mut(..4) {
                prefix.copy_from_slice(&size.to_be_bytes());
            }
            (frame, Then::Close)
        }
        ResponseFault::OmitPartition => (frame, Then::Continue),
    }
}

fn set_correlation_id(frame: &mut [u8], id: i32) {
    if let Some(b) = frame.get_mut(4..8) {
        b.copy_from_slice(&id.to_be_bytes());
    }
}

#[derive(Debug)]
struct ErrorRule {
    api: ApiKey,
    scope: Scope,
    codes: VecDeque<ErrorCode>,
}

/// A connection or response fault armed for the next `remaining` matching requests.
#[derive(Debug)]
struct Rule<F> {
    api: ApiKey,
    scope: Scope,
    fault: F,
    remaining: usize,
}

/// Consumes one use of the first rule for `api` whose scope is among `touched` (or that has none).
fn take_rule<F: Copy>(
    rules: &mut Vec<Rule<F>>,
    api: ApiKey,
    touched: &[(String, i32)],
) -> Option<(F, Scope)> {
    let i = rules.iter().position(|r| {
        r.api == api
            && match &r.scope {
                None => true,
                Some(s) => touched.iter().any(|t| t == s),
            }
    })?;
    let rule = rules.get_mut(i)?;
    rule.remaining -= 1;
    let found = (rule.fault, rule.scope.clone());
    if rule.remaining == 0 {
        rules.remove(i);
    }
    Some(found)
}

/// All injected faults of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    errors: Vec<ErrorRule>,
    conns: Vec<Rule<ConnFault>>,
    responses: Vec<Rule<ResponseFault>>,
    throttle: HashMap<ApiKey, i32>,
    api_delay: HashMap<ApiKey, Duration>,
    /// Topics whose Metadata answers list these partition indexes instead of the real ones.
    metadata_partitions: HashMap<String, Vec<i32>>,
    /// Hosts advertised instead of a broker's real one, by node id.
    advertised: HashMap<i32, String>,
}

impl Faults {
    pub fn push_errors(&mut self, api: ApiKey, scope: Scope, codes: &[ErrorCode]) {
        if codes.is_empty() {
            return;
        }
        if let Some(rule) = self.errors.iter_mut().find(|r| r.api == api && r.scope == scope) {
            rule.codes.extend(codes.iter().copied());
        } else {
            self.errors.push(ErrorRule { api, scope, codes: codes.iter().copied().collect() });
        }
    }

    /// Pops the next error queued for `api` with exactly this scope (`None`: the request-wide queue).
    pub fn take_error(&mut self, api: ApiKey, scope: Option<(&str, i32)>) -> Option<ErrorCode> {
        if self.errors.is_empty() {
            return None;
        }
        let i = self.errors.iter().position(|r| {
            r.api == api && r.scope.as_ref().map(|(t, p)| (t.as_str(), *p)) == scope && !r.codes.is_empty()
        })?;
        let rule = self.errors.get_mut(i)?;
        let code = rule.codes.pop_front();
        if rule.codes.is_empty() {
            self.errors.remove(i);
        }
        code
    }

    pub fn push_conn(&mut self, api: ApiKey, scope: Scope, fault: ConnFault, times: usize) {
        if times > 0 {
            self.conns.push(Rule { api, scope, fault, remaining: times });
        }
    }

    /// True when any connection or response fault is armed (so callers can skip working out what a
    /// request touches).
    pub fn has_rules(&self) -> bool {
        !self.conns.is_empty() || !self.responses.is_empty()
    }

    /// The connection fault for a request of `api` touching `touched` partitions, if any; consumes one
    /// use of the first matching rule.
    pub fn take_conn(&mut self, api: ApiKey, touched: &[(String, i32)]) -> Option<ConnFault> {
        if self.conns.is_empty() {
            return None;
        }
        take_rule(&mut self.conns, api, touched).map(|(f, _)| f)
    }

    pub fn push_response(&mut self, api: ApiKey, scope: Scope, fault: ResponseFault, times: usize) {
        if times > 0 {
            self.responses.push(Rule { api, scope, fault, remaining: times });
        }
    }

    /// The response fault for a request of `api` touching `touched` partitions, with the scope it was
    /// armed with; consumes one use of the first matching rule. Call it only for a request that is
    /// about to be answered, so requests without a response do not use faults up.
    pub fn take_response(
        &mut self,
        api: ApiKey,
        touched: &[(String, i32)],
    ) -> Option<(ResponseFault, Scope)> {
        if self.responses.is_empty() {
            return None;
        }
        take_rule(&mut self.responses, api, touched)
    }

    pub fn set_throttle(&mut self, api: ApiKey, ms: i32) {
        if ms > 0 {
            self.throttle.insert(api, ms);
        } else {
            self.throttle.remove(&api);
        }
    }

    pub fn throttle(&self, api: ApiKey) -> i32 {
        self.throttle.get(&api).copied().unwrap_or(0)
    }

    pub fn set_api_delay(&mut self, api: ApiKey, delay: Duration) {
        if delay.is_zero() {
            self.api_delay.remove(&api);
        } else {
            self.api_delay.insert(api, delay);
        }
    }

    pub fn api_delay(&self, api: ApiKey) -> Duration {
        self.api_delay.get(&api).copied().unwrap_or(Duration::ZERO)
    }

    pub fn set_metadata_partitions(&mut self, topic: &str, indexes: Option<Vec<i32>>) {
        match indexes {
            Some(v) => {
                self.metadata_partitions.insert(topic.to_owned(), v);
            }
            None => {
                self.metadata_partitions.remove(topic);
            }
        }
    }

    /// The partition indexes Metadata reports for `topic` instead of the real ones, if overridden.
    pub fn metadata_partitions(&self, topic: &str) -> Option<&[i32]> {
        self.metadata_partitions.get(topic).map(Vec::as_slice)
    }

    pub fn set_advertised_host(&mut self, node_id: i32, host: Option<&str>) {
        match host {
            Some(h) => {
                self.advertised.insert(node_id, h.to_owned());
            }
            None => {
                self.advertised.remove(&node_id);
            }
        }
    }

    /// The host advertised for broker `node_id` instead of its real one, if overridden.
    pub fn advertised_host(&self, node_id: i32) -> Option<&str> {
        self.advertised.get(&node_id).map(String::as_str)
    }

    pub fn clear(&mut self) {
        *self = Faults::default();
    }
}

/// The injected errors resolved for one request: a request-wide code (popped once per request) and
/// per-partition codes popped as the handler meets each partition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    pub api: ApiKey,
    pub all: Option<ErrorCode>,
}

impl Injected {
    pub fn new(faults: &mut Faults, api: ApiKey) -> Self {
        Injected { api, all: faults.take_error(api, None) }
    }

    /// The injected error for one partition: a code queued for that partition, else the request-wide one.
    pub fn partition(&self, faults: &mut Faults, topic: &str, partition: i32) -> Option<ErrorCode> {
        faults.take_error(self.api, Some((topic, partition))).or(self.all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_and_scopes() {
        let mut f = Faults::default();
        let a = ApiKey::PRODUCE;
        f.push_errors(a, None, &[ErrorCode::NOT_LEADER_OR_FOLLOWER]);
        f.push_errors(a, Some(("t".into(), 1)), &[ErrorCode::CORRUPT_MESSAGE, ErrorCode::NONE]);
        assert_eq!(f.take_error(ApiKey::METADATA, None), None);
        let inj = Injected::new(&mut f, a);
        assert_eq!(inj.partition(&mut f, "t", 0), Some(ErrorCode::NOT_LEADER_OR_FOLLOWER));
        assert_eq!(inj.partition(&mut f, "t", 1), Some(ErrorCode::CORRUPT_MESSAGE));
        let inj = Injected::new(&mut f, a);
        assert_eq!(inj.partition(&mut f, "t", 0), None);
        assert_eq!(inj.partition(&mut f, "t", 1), Some(ErrorCode::NONE));
        assert_eq!(inj.partition(&mut f, "t", 1), None);

        f.push_conn(a, Some(("t".into(), 2)), ConnFault::DropAfter, 2);
        assert_eq!(f.take_conn(a, &[("t".into(), 1)]), None);
        assert_eq!(f.take_conn(a, &[("t".into(), 2)]), Some(ConnFault::DropAfter));
        assert_eq!(f.take_conn(a, &[("t".into(), 2)]), Some(ConnFault::DropAfter));
        assert_eq!(f.take_conn(a, &[("t".into(), 2)]), None);
    }

    #[test]
    fn response_faults_are_consumed_by_times_and_scope() {
        let mut f = Faults::default();
        let (p, m, v) = (ApiKey::PRODUCE, ApiKey::METADATA, ApiKey::API_VERSIONS);
        let t1: &[(String, i32)] = &[("t".into(), 1)];
        let t0: &[(String, i32)] = &[("t".into(), 0)];
        assert!(!f.has_rules());
        f.push_response(p, Some(("t".into(), 1)), ResponseFault::Duplicate, 2);
        f.push_response(v, None, ResponseFault::Corrupt, 1);
        f.push_response(m, None, ResponseFault::Unsolicited, 0);
        assert!(f.has_rules());
        // Scope: only requests touching t-1; other APIs never.
        assert_eq!(f.take_response(p, t0), None);
        assert_eq!(f.take_response(m, t1), None, "times 0 arms nothing");
        let scope = Some(("t".to_owned(), 1));
        assert_eq!(f.take_response(p, t1), Some((ResponseFault::Duplicate, scope.clone())));
        assert_eq!(
            f.take_response(p, &[("t".into(), 0), ("t".into(), 1)]),
            Some((ResponseFault::Duplicate, scope))
        );
        assert_eq!(f.take_response(p, t1), None, "used up after two");
        // An unscoped rule matches requests touching nothing (ApiVersions).
        assert_eq!(f.take_response(v, &[]), Some((ResponseFault::Corrupt, None)));
        assert_eq!(f.take_response(v, &[]), None);
        // Rules fire in the order they were added; connection rules are separate.
        f.push_response(p, None, ResponseFault::StallAfter(3), 1);
        f.push_response(p, None, ResponseFault::OmitPartition, 1);
        f.push_conn(p, None, ConnFault::DropAfter, 1);
        assert_eq!(f.take_conn(p, t0), Some(ConnFault::DropAfter));
        assert_eq!(f.take_response(p, t0), Some((ResponseFault::StallAfter(3), None)));
        assert_eq!(f.take_response(p, t0), Some((ResponseFault::OmitPartition, None)));
        assert!(!f.has_rules());
        // clear removes everything else too.
        f.push_response(p, None, ResponseFault::Duplicate, 1);
        f.set_api_delay(p, Duration::from_millis(5));
        f.set_metadata_partitions("t", Some(vec![3]));
        f.set_advertised_host(1, Some("x.invalid"));
        assert_eq!(f.api_delay(p), Duration::from_millis(5));
        assert_eq!(f.metadata_partitions("t"), Some(&[3][..]));
        assert_eq!(f.advertised_host(1), Some("x.invalid"));
        f.clear();
        assert!(!f.has_rules());
        assert_eq!(f.api_delay(p), Duration::ZERO);
        assert_eq!(f.metadata_partitions("t"), None);
        assert_eq!(f.advertised_host(1), None);
    }

    #[test]
    fn mangling() {
        // A fake frame: size 6, correlation id 7, two body bytes.
        let frame = vec![0, 0, 0, 6, 0, 0, 0, 7, 0x12, 0xf0];
        let m = |f| mangle(frame.clone(), f);
        assert_eq!(m(ResponseFault::Corrupt), (vec![0, 0, 0, 6, 0, 0, 0, 7, 0xed, 0x0f], Then::Continue));
        let wrong = [0, 0, 0, 6, 0, 0x0f, 0x42, 0x47, 0x12, 0xf0]; // 1_000_007
        assert_eq!(m(ResponseFault::WrongCorrelationId), (wrong.to_vec(), Then::Continue));
        assert_eq!(m(ResponseFault::Duplicate), ([&frame[..], &frame[..]].concat(), Then::Continue));
        assert_eq!(m(ResponseFault::Unsolicited), ([&wrong[..], &frame[..]].concat(), Then::Continue));
        assert_eq!(m(ResponseFault::RespondThenClose), (frame.clone(), Then::Close));
        assert_eq!(m(ResponseFault::StallAfter(5)), (frame[..5].to_vec(), Then::Stall));
        assert_eq!(m(ResponseFault::StallAfter(99)), (frame.clone(), Then::Stall));
        let big = [&i32::MAX.to_be_bytes()[..], &frame[4..]].concat();
        assert_eq!(m(ResponseFault::OversizedPrefix(i32::MAX)), (big, Then::Close));
        assert_eq!(m(ResponseFault::OmitPartition), (frame.clone(), Then::Continue));
        // Short frames do not panic.
        assert_eq!(mangle(vec![1, 2], ResponseFault::WrongCorrelationId), (vec![1, 2], Then::Continue));

        assert_eq!(wrong_correlation_id(0), 1_000_000);
        assert_eq!(wrong_correlation_id(i32::MAX - 5), 999_994);
        assert_eq!(wrong_correlation_id(-1), 999_999);
        assert_eq!(wrong_correlation_id(i32::MIN), 1_000_000);
    }
}
