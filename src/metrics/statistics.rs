//! librdkafka's statistics JSON (its STATISTICS.md schema, for a producer), emitted every
//! `statistics.interval.ms` to `ProducerBuilder::on_statistics`. Built on the sender thread from the
//! same sensors as `Producer::metrics` plus what only the sender knows (connection states, requests
//! waiting to be written); handed to the callback thread as a string.
//!
//! Window statistics (`int_latency`, `rtt`, `throttle`, `batchsize`, `batchcnt`) carry `min`, `max`,
//! `avg`, `sum` and `cnt` over the current sample windows; librdkafka's percentiles and `stddev` need a
//! histogram kprod does not keep, so they are absent rather than invented.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::stats::Sampled;

/// A broker as the statistics show it.
#[derive(Debug, Clone)]
pub(crate) struct BrokerStat {
    /// Node id (negative for a bootstrap server).
    pub node: i32,
    /// `host:port`.
    pub address: String,
    /// librdkafka's state name: INIT, TRY_CONNECT, CONNECT, APIVERSION_QUERY, AUTH_REQ, UP, DOWN.
    pub state: &'static str,
    /// Requests queued, not yet written.
    pub outbuf_cnt: usize,
    /// Requests written, awaiting a response.
    pub waitresp_cnt: usize,
}

/// A partition's queue as the statistics show it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartitionStat {
    /// The partition.
    pub partition: i32,
    /// Its leader (-1 when unknown).
    pub leader: i32,
    /// Records queued in the accumulator.
    pub msgq_cnt: usize,
    /// Bytes queued in the accumulator.
    pub msgq_bytes: usize,
}

/// The producer's idempotence and transaction state.
#[derive(Debug, Clone, Default)]
pub(crate) struct EosStat {
    /// The idempotent producer's state name, or `Init` without idempotence.
    pub idemp_state: &'static str,
    /// The transaction state name, or `Init` without transactions.
    pub txn_state: &'static str,
    /// Producer id (-1 before one is assigned).
    pub producer_id: i64,
    /// Producer epoch (-1 before).
    pub producer_epoch: i16,
}

/// Everything a statistics document is made of, gathered by the sender.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// Records accepted and not done (`in_flight_count`).
    pub msg_cnt: usize,
    /// Buffer memory in use.
    pub msg_size: usize,
    /// `buffer.memory`.
    pub msg_size_max: usize,
    /// The brokers.
    pub brokers: Vec<BrokerStat>,
    /// Per topic, its partitions.
    pub topics: Vec<(String, Vec<PartitionStat>)>,
    /// Idempotence and transactions.
    pub eos: EosStat,
}

/// A JSON string literal (the one JSON writer of the crate, shared with SASL).
pub(crate) use crate::security::sasl::json::quote;

/// A JSON number: finite values as they are, anything else 0 (JSON has no NaN).
fn num(v: f64) -> String {
    if v.is_finite() {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else {
            format!("{v:.3}")
        }
    } else {
        "0".into()
    }
}

/// librdkafka's window object over `s` (values in the unit recorded, scaled by `scale`).
pub(crate) fn window(s: &Sampled, scale: f64, now: Instant) -> String {
    let (min, max, sum, cnt) = s.window_summary(now);
    let avg = if cnt == 0 { 0.0 } else { sum / cnt as f64 };
    format!(
        "{{\"min\":{},\"max\":{},\"avg\":{},\"sum\":{},\"cnt\":{}}}",
        num(min * scale),
        num(max * scale),
        num(avg * scale),
        num(sum * scale),
        cnt
    )
}

/// Seconds and microseconds of wall-clock time, for `time` and `ts`-like fields.
pub(crate) fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_numbers_are_json() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.5), "0.500");
    }
}
