//! A small test-side reader of OpenTelemetry `MetricsData` protobufs (what KIP-714 pushes carry) and of
//! base64, written from the protobuf wire format and OTLP's metrics.proto field numbers, independent of
//! kprod's encoder.

/// One protobuf field value.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
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

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (x, rest) = b.split_at(n);
    *b = rest;
    Some(x)
}

/// Every (field number, value) of a message; panics on malformed input (a test failure).
fn fields(mut b: &[u8]) -> Vec<(u64, Value<'_>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b).expect("a field key");
        let v = match key & 7 {
            0 => Value::Varint(varint(&mut b).expect("a varint")),
            1 => Value::Fixed64(u64::from_le_bytes(take(&mut b, 8).expect("8 bytes").try_into().unwrap())),
            2 => {
                let n = varint(&mut b).expect("a length") as usize;
                Value::Bytes(take(&mut b, n).expect("the length's bytes"))
            }
            5 => {
                take(&mut b, 4).expect("4 bytes");
                Value::Fixed32
            }
            t => panic!("wire type {t} in a MetricsData"),
        };
        out.push((key >> 3, v));
    }
    out
}

fn sub(b: &[u8], n: u64) -> Vec<&[u8]> {
    fields(b)
        .into_iter()
        .filter_map(|(f, v)| match v {
            Value::Bytes(x) if f == n => Some(x),
            _ => None,
        })
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8")
}

fn key_value(b: &[u8]) -> (String, String) {
    let k = sub(b, 1).first().map(|x| text(x)).unwrap_or_default();
    let v = sub(b, 2).first().and_then(|any| sub(any, 1).first().map(|x| text(x))).unwrap_or_default();
    (k, v)
}

/// A number data point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub attributes: Vec<(String, String)>,
    pub start_unix_nano: u64,
    pub time_unix_nano: u64,
    pub value: f64,
}

/// A metric: its name, `Some(temporality)` for a sum (1 delta, 2 cumulative) or `None` for a gauge,
/// whether a sum is monotonic, and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub sum_temporality: Option<u64>,
    pub monotonic: bool,
    pub points: Vec<Point>,
}

/// A decoded `MetricsData`: the resource attributes and every metric of every scope.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsData {
    pub resource: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
}

impl MetricsData {
    /// The resource attribute `key`.
    pub fn resource_attr(&self, key: &str) -> Option<&str> {
        self.resource.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The metric named `name`.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// Decodes a `MetricsData` (metrics.proto: resource_metrics = 1; ResourceMetrics: resource = 1,
/// scope_metrics = 2; Resource: attributes = 1; ScopeMetrics: metrics = 2; Metric: name = 1, gauge = 5,
/// sum = 7; Gauge/Sum: data_points = 1; Sum: aggregation_temporality = 2, is_monotonic = 3;
/// NumberDataPoint: start = 2, time = 3, as_double = 4, as_int = 6, attributes = 7).
pub fn metrics_data(b: &[u8]) -> MetricsData {
    let mut out = MetricsData::default();
    for rm in sub(b, 1) {
        for r in sub(rm, 1) {
            out.resource.extend(sub(r, 1).into_iter().map(key_value));
        }
        for sm in sub(rm, 2) {
            for m in sub(sm, 2) {
                let name = sub(m, 1).first().map(|x| text(x)).unwrap_or_default();
                let (data, sum_temporality, monotonic) = match sub(m, 7).first() {
                    Some(sum) => {
                        let (mut t, mut mono) = (0, false);
                        for (f, v) in fields(sum) {
                            match (f, v) {
                                (2, Value::Varint(x)) => t = x,
                                (3, Value::Varint(x)) => mono = x != 0,
                                _ => {}
                            }
                        }
                        (*sum, Some(t), mono)
                    }
                    None => (sub(m, 5).first().copied().unwrap_or_default(), None, false),
                };
                let points = sub(data, 1)
                    .into_iter()
                    .map(|p| {
                        let mut point = Point {
                            attributes: sub(p, 7).into_iter().map(key_value).collect(),
                            start_unix_nano: 0,
                            time_unix_nano: 0,
                            value: f64::NAN,
                        };
                        for (f, v) in fields(p) {
                            match (f, v) {
                                (2, Value::Fixed64(x)) => point.start_unix_nano = x,
                                (3, Value::Fixed64(x)) => point.time_unix_nano = x,
                                (4, Value::Fixed64(x)) => point.value = f64::from_bits(x),
                                (6, Value::Fixed64(x)) => point.value = x as i64 as f64,
                                _ => {}
                            }
                        }
                        point
                    })
                    .collect();
                out.metrics.push(Metric { name, sum_temporality, monotonic, points });
            }
        }
    }
    out
}

/// Decodes standard base64 (with padding), as `java.util.Base64.getEncoder()` writes it.
pub fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:#x}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&full[..chunk.len().saturating_sub(1)]);
    }
    out
}
