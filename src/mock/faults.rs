//! Injected faults: queued error codes and connection faults, each scoped to an API key and optionally
//! one topic-partition, plus per-API throttle times.

use std::collections::{HashMap, VecDeque};

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

#[derive(Debug)]
struct ErrorRule {
    api: ApiKey,
    scope: Scope,
    codes: VecDeque<ErrorCode>,
}

#[derive(Debug)]
struct ConnRule {
    api: ApiKey,
    scope: Scope,
    fault: ConnFault,
    remaining: usize,
}

/// All injected faults of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    errors: Vec<ErrorRule>,
    conns: Vec<ConnRule>,
    throttle: HashMap<ApiKey, i32>,
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
            self.conns.push(ConnRule { api, scope, fault, remaining: times });
        }
    }

    /// True when any connection fault is armed (so callers can skip working out what a request touches).
    pub fn has_conn_faults(&self) -> bool {
        !self.conns.is_empty()
    }

    /// The connection fault for a request of `api` touching `touched` partitions, if any; consumes one
    /// use of the first matching rule.
    pub fn take_conn(&mut self, api: ApiKey, touched: &[(String, i32)]) -> Option<ConnFault> {
        if self.conns.is_empty() {
            return None;
        }
        let i = self.conns.iter().position(|r| {
            r.api == api
                && match &r.scope {
                    None => true,
                    Some(s) => touched.iter().any(|t| t == s),
                }
        })?;
        let rule = self.conns.get_mut(i)?;
        let fault = rule.fault;
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.conns.remove(i);
        }
        Some(fault)
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
}
