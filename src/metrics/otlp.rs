//! The producer's metrics as an OpenTelemetry `MetricsData` protobuf (OTLP metrics v1), the payload of
//! KIP-714's PushTelemetry, hand-encoded: the protobuf wire format needs only varints, fixed 64-bit
//! fields and length-delimited fields, so no protobuf library is needed.
//!
//! Names follow Kafka's client telemetry naming (KIP-714, Java's `TelemetryMetricNamingConvention`):
//! `org.apache.kafka.` + the group without its `-metrics` suffix + `.` + the name, lower case, dashes
//! as dots — `producer-metrics:record-send-total` is `org.apache.kafka.producer.record.send.total`,
//! `producer-topic-metrics:byte-total` is `org.apache.kafka.producer.topic.byte.total`. Tags become
//! attributes with dashes as underscores (`node-id` → `node_id`), except `client-id`, which names the
//! resource. As in Java, totals (`*-total`) are monotonic sums (cumulative, or deltas when the
//! subscription asks) and everything else is a gauge; values are doubles, NaN included (an average with
//! nothing recorded), as Java pushes them.

use std::collections::HashMap;

use super::Metrics;

/// The prefix of every producer metric's telemetry name.
pub(crate) const PREFIX: &str = "org.apache.kafka.";

/// One metric ready to be pushed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    /// The telemetry name (`org.apache.kafka.producer.record.send.total`).
    pub name: String,
    /// The description.
    pub description: &'static str,
    /// The attributes (tags but `client-id`), keys with dashes as underscores.
    pub attributes: Attributes,
    /// A monotonic sum (a `*-total`), else a gauge.
    pub sum: bool,
    /// The value.
    pub value: f64,
}

/// Kafka's telemetry name of metric `name` in `group`.
pub(crate) fn telemetry_name(group: &str, name: &str) -> String {
    let group = group.to_lowercase().replace('-', ".");
    let group = group.replace(".metrics", "");
    format!("{PREFIX}{group}.{}", name.to_lowercase().replace('-', "."))
}

/// True when a subscription's `requested` prefixes select `name`: none selects nothing; an empty
/// string or `*` selects everything; otherwise a prefix match.
pub(crate) fn selected(requested: &[String], name: &str) -> bool {
    requested.iter().any(|p| p.is_empty() || p == "*" || name.starts_with(p.as_str()))
}

/// The snapshot's metrics that `requested` selects, under their telemetry names.
pub(crate) fn points(metrics: &Metrics, requested: &[String]) -> Vec<Point> {
    metrics
        .iter()
        .filter_map(|m| {
            let name = telemetry_name(m.group, m.name);
            selected(requested, &name).then(|| Point {
                name,
                description: m.description,
                attributes: m
                    .tags
                    .iter()
                    .filter(|(k, _)| *k != "client-id")
                    .map(|(k, v)| (k.to_lowercase().replace('-', "_"), v.clone()))
                    .collect(),
                sum: m.name.ends_with("-total"),
                value: m.value,
            })
        })
        .collect()
}

/// A metric's attributes.
pub(crate) type Attributes = Vec<(String, String)>;

/// Encodes points into `MetricsData` payloads, remembering the sums last pushed for delta temporality.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    /// Per sum (name and attributes): the value and time (ns since the epoch) last encoded.
    last: HashMap<(String, Attributes), (f64, u64)>,
}

impl Encoder {
    /// Forgets the sums pushed so far (the subscription's temporality changed).
    pub(crate) fn reset(&mut self) {
        self.last.clear();
    }

    /// A `MetricsData` with one resource (attribute `client_id`) and one scope holding `points`, taken
    /// at `now_ns` (since the Unix epoch). Sums are cumulative since `start_ns` or, with `delta`, the
    /// change since the previous encode (the first covering the time since `start_ns`).
    pub(crate) fn encode(
        &mut self,
        client_id: &str,
        points: &[Point],
        delta: bool,
        start_ns: u64,
        now_ns: u64,
    ) -> Vec<u8> {
        let mut metrics = Vec::new();
        for p in points {
            let (value, start) = if p.sum && delta {
                let key = (p.name.clone(), p.attributes.clone());
                let (prev, since) = self.last.insert(key, (p.value, now_ns)).unwrap_or((0.0, start_ns));
                (p.value - prev, since)
            } else {
                (p.value, start_ns)
            };
            let mut point = Vec::new();
            for (k, v) in &p.attributes {
                message(&mut point, 7, &key_value(k, v));
            }
            if p.sum {
                fixed64(&mut point, 2, start);
            }
            fixed64(&mut point, 3, now_ns);
            fixed64(&mut point, 4, value.to_bits());
            let mut data = Vec::new();
            message(&mut data, 1, &point);
            let mut metric = Vec::new();
            string(&mut metric, 1, &p.name);
            string(&mut metric, 2, p.description);
            if p.sum {
                // AggregationTemporality: DELTA = 1, CUMULATIVE = 2; is_monotonic.
                varint_field(&mut data, 2, if delta { 1 } else { 2 });
                varint_field(&mut data, 3, 1);
                message(&mut metric, 7, &data);
            } else {
                message(&mut metric, 5, &data);
            }
            message(&mut metrics, 2, &metric);
        }
        let mut scope = Vec::new();
        string(&mut scope, 1, "kprod");
        string(&mut scope, 2, env!("CARGO_PKG_VERSION"));
        let mut scope_metrics = Vec::new();
        message(&mut scope_metrics, 1, &scope);
        scope_metrics.extend_from_slice(&metrics);
        let mut resource = Vec::new();
        message(&mut resource, 1, &key_value("client_id", client_id));
        let mut resource_metrics = Vec::new();
        message(&mut resource_metrics, 1, &resource);
        message(&mut resource_metrics, 2, &scope_metrics);
        let mut out = Vec::new();
        message(&mut out, 1, &resource_metrics);
        out
    }
}

/// `KeyValue { key, value: AnyValue { string_value } }`.
fn key_value(k: &str, v: &str) -> Vec<u8> {
    let mut any = Vec::new();
    string(&mut any, 1, v);
    let mut kv = Vec::new();
    string(&mut kv, 1, k);
    message(&mut kv, 2, &any);
    kv
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 0);
    varint(out, v);
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    tag(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn string(out: &mut Vec<u8>, field: u32, s: &str) {
    bytes(out, field, s.as_bytes());
}

fn message(out: &mut Vec<u8>, field: u32, m: &[u8]) {
    bytes(out, field, m);
}

#[cfg(test)]
pub(crate) mod decode {
    //! A minimal protobuf reader for the tests: fields of one message, nested by hand.

    /// One field's value.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Value<'a> {
        Varint(u64),
        Fixed64(u64),
        Bytes(&'a [u8]),
        Fixed32(u32),
    }

    fn varint(b: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first()?;
            *b = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// Every (field number, value) of a message, or `None` when malformed.
    pub(crate) fn fields(mut b: &[u8]) -> Option<Vec<(u64, Value<'_>)>> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b)?;
            let v = match key & 7 {
                0 => Value::Varint(varint(&mut b)?),
                1 => {
                    let (x, rest) = b.split_at_checked(8)?;
                    b = rest;
                    Value::Fixed64(u64::from_le_bytes(x.try_into().ok()?))
                }
                2 => {
                    let n = usize::try_from(varint(&mut b)?).ok()?;
                    let (x, rest) = b.split_at_checked(n)?;
                    b = rest;
                    Value::Bytes(x)
                }
                5 => {
                    let (x, rest) = b.split_at_checked(4)?;
                    b = rest;
                    Value::Fixed32(u32::from_le_bytes(x.try_into().ok()?))
                }
                _ => return None,
            };
            out.push((key >> 3, v));
        }
        Some(out)
    }

    /// The length-delimited fields numbered `n`.
    pub(crate) fn messages(b: &[u8], n: u64) -> Vec<&[u8]> {
        fields(b)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(f, v)| match v {
                Value::Bytes(x) if f == n => Some(x),
                _ => None,
            })
            .collect()
    }

    /// A decoded metric: name, sum (with temporality) or gauge, and each point's attributes, start,
    /// time and value.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Decoded {
        pub name: String,
        pub temporality: Option<u64>,
        pub points: Vec<(super::Attributes, u64, u64, f64)>,
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    fn key_value(b: &[u8]) -> (String, String) {
        let k = messages(b, 1).first().map(|x| text(x)).unwrap_or_default();
        let v = messages(b, 2).first().and_then(|any| messages(any, 1).first().map(|x| text(x)));
        (k, v.unwrap_or_default())
    }

    /// The resource attributes and metrics of a `MetricsData`.
    pub(crate) fn metrics_data(b: &[u8]) -> (Vec<(String, String)>, Vec<Decoded>) {
        let mut resource = Vec::new();
        let mut out = Vec::new();
        for rm in messages(b, 1) {
            for r in messages(rm, 1) {
                resource.extend(messages(r, 1).into_iter().map(key_value));
            }
            for sm in messages(rm, 2) {
                for m in messages(sm, 2) {
                    let name = messages(m, 1).first().map(|x| text(x)).unwrap_or_default();
                    let (data, temporality) = match messages(m, 7).first() {
                        Some(sum) => {
                            let t = fields(sum).unwrap_or_default().into_iter().find_map(|(f, v)| match v {
                                Value::Varint(t) if f == 2 => Some(t),
                                _ => None,
                            });
                            (*sum, Some(t.unwrap_or(0)))
                        }
                        None => (messages(m, 5).first().copied().unwrap_or_default(), None),
                    };
                    let points = messages(data, 1)
                        .into_iter()
                        .map(|p| {
                            let attrs = messages(p, 7).into_iter().map(key_value).collect();
                            let (mut start, mut time, mut value) = (0, 0, f64::NAN);
                            for (f, v) in fields(p).unwrap_or_default() {
                                match (f, v) {
                                    (2, Value::Fixed64(x)) => start = x,
                                    (3, Value::Fixed64(x)) => time = x,
                                    (4, Value::Fixed64(x)) => value = f64::from_bits(x),
                                    (6, Value::Fixed64(x)) => value = x as i64 as f64,
                                    _ => {}
                                }
                            }
                            (attrs, start, time, value)
                        })
                        .collect();
                    out.push(Decoded { name, temporality, points });
                }
            }
        }
        (resource, out)
    }
}

#[cfg(test)]
mod tests {
    use super::decode::metrics_data;
    use super::*;
    use crate::metrics::Metric;

    fn metric(group: &'static str, name: &'static str, tags: &[(&'static str, &str)], value: f64) -> Metric {
        Metric {
            group,
            name,
            tags: tags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            description: "d",
            value,
        }
    }

    fn snapshot() -> Metrics {
        Metrics {
            metrics: vec![
                metric("producer-metrics", "record-send-total", &[("client-id", "c")], 5.0),
                metric("producer-metrics", "record-size-avg", &[("client-id", "c")], f64::NAN),
                metric("producer-metrics", "batch-size-avg", &[("client-id", "c")], 120.5),
                metric("producer-topic-metrics", "byte-total", &[("client-id", "c"), ("topic", "t")], 300.0),
                metric(
                    "producer-node-metrics",
                    "request-total",
                    &[("client-id", "c"), ("node-id", "node-1")],
                    2.0,
                ),
            ],
        }
    }

    #[test]
    fn names_follow_kafka_telemetry_naming() {
        assert_eq!(
            telemetry_name("producer-metrics", "record-send-total"),
            "org.apache.kafka.producer.record.send.total"
        );
        assert_eq!(
            telemetry_name("producer-topic-metrics", "byte-total"),
            "org.apache.kafka.producer.topic.byte.total"
        );
        assert_eq!(
            telemetry_name("producer-node-metrics", "request-latency-avg"),
            "org.apache.kafka.producer.node.request.latency.avg"
        );
    }

    #[test]
    fn selection_is_by_prefix_and_empty_selects_nothing() {
        let all = points(&snapshot(), &["".into()]);
        assert_eq!(all.len(), 5, "the NaN average too, as Java");
        assert!(all[1].value.is_nan());
        assert_eq!(points(&snapshot(), &["*".into()]).len(), 5);
        assert!(points(&snapshot(), &[]).is_empty());
        let some = points(&snapshot(), &["org.apache.kafka.producer.topic.".into()]);
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].attributes, vec![("topic".to_string(), "t".to_string())]);
        let node = points(&snapshot(), &["org.apache.kafka.producer.node.".into()]);
        assert_eq!(node[0].attributes, vec![("node_id".to_string(), "node-1".to_string())]);
        assert!(node[0].sum);
    }

    #[test]
    fn cumulative_sums_and_gauges_decode_back() {
        let p = points(&snapshot(), &["org.apache.kafka.producer.".into()]);
        let bytes = Encoder::default().encode("c", &p, false, 1_000, 5_000);
        let (resource, decoded) = metrics_data(&bytes);
        assert_eq!(resource, vec![("client_id".to_string(), "c".to_string())]);
        let send = decoded.iter().find(|m| m.name == "org.apache.kafka.producer.record.send.total").unwrap();
        assert_eq!(send.temporality, Some(2), "cumulative");
        assert_eq!(send.points, vec![(vec![], 1_000, 5_000, 5.0)]);
        let avg = decoded.iter().find(|m| m.name == "org.apache.kafka.producer.batch.size.avg").unwrap();
        assert_eq!(avg.temporality, None, "a gauge");
        assert_eq!(avg.points, vec![(vec![], 0, 5_000, 120.5)]);
    }

    #[test]
    fn delta_sums_are_changes_since_the_last_encode() {
        let mut e = Encoder::default();
        let want = ["org.apache.kafka.producer.record.send.total".to_string()];
        let mut m = snapshot();
        let first = metrics_data(&e.encode("c", &points(&m, &want), true, 1_000, 5_000)).1;
        assert_eq!(first[0].temporality, Some(1));
        assert_eq!(first[0].points[0].1..first[0].points[0].2, 1_000..5_000);
        assert_eq!(first[0].points[0].3, 5.0);
        m.metrics[0].value = 12.0;
        let second = metrics_data(&e.encode("c", &points(&m, &want), true, 1_000, 9_000)).1;
        assert_eq!(
            (second[0].points[0].1, second[0].points[0].2, second[0].points[0].3),
            (5_000, 9_000, 7.0)
        );
        e.reset();
        let third = metrics_data(&e.encode("c", &points(&m, &want), true, 1_000, 9_500)).1;
        assert_eq!(third[0].points[0].3, 12.0);
    }

    #[test]
    fn wire_format_golden() {
        // One gauge, no attributes: MetricsData{1: ResourceMetrics{1: Resource{1: KV}, 2: Scope...}}.
        let p = Point { name: "n".into(), description: "", attributes: vec![], sum: false, value: 1.0 };
        let b = Encoder::default().encode("c", &[p], false, 0, 1);
        // Metric: name "n" (0a 01 6e), description "" (12 00), gauge (2a ..) with one point (0a ..):
        // time (19 + 8 bytes), as_double 1.0 (21 + 8 bytes).
        let point = [&[0x19][..], &1u64.to_le_bytes(), &[0x21], &1f64.to_bits().to_le_bytes()].concat();
        let gauge = [&[0x0a, point.len() as u8][..], &point].concat();
        let metric = [&[0x0a, 0x01, b'n', 0x12, 0x00, 0x2a, gauge.len() as u8][..], &gauge].concat();
        let tail = [&[0x12, metric.len() as u8][..], &metric].concat();
        assert!(b.ends_with(&tail), "{b:02x?}");
        assert_eq!(b[0], 0x0a, "MetricsData.resource_metrics is field 1, length-delimited");
    }
}
