//! Serves the producer's metrics to Prometheus from a std `TcpListener`, while it produces.
//!
//!     cargo run --features mock --example prometheus -- [--bootstrap-server HOST:PORT] [--listen ADDR] [--seconds N]
//!
//! With no broker given it produces into the embedded mock cluster. `GET /metrics` answers the text
//! exposition format from `Metrics::to_prometheus` (names as the JMX exporter gives Java's, e.g.
//! `kafka_producer_producer_metrics_record_send_total{client_id="…"}`).
//!
//! Why not metrics-exporter-prometheus: its HTTP listener runs on hyper and tokio, and kprod is for
//! programs without an async runtime; the exposition format is a few lines of text, rendered by kprod
//! itself. With the `metrics` feature, `Metrics::publish` feeds any exporter the application prefers.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kprod::{Producer, ProducerConfig, Record};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bootstrap = None;
    let mut listen = "127.0.0.1:9464".to_string();
    let mut seconds = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bootstrap-server" => bootstrap = Some(value),
            "--listen" => listen = value,
            "--seconds" => seconds = Some(Duration::from_secs(value.parse()?)),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let config = match &bootstrap {
        Some(b) => ProducerConfig::from_properties([("bootstrap.servers", b.as_str())])?,
        None => ProducerConfig::from_properties([("mock.num.brokers", "1")])?,
    };
    let producer = Arc::new(Producer::new(config)?);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (p, stop) = (Arc::clone(&producer), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = p.send(Record::new("prometheus-demo").value(format!("record {i}").into_bytes()));
                i += 1;
                if i % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        })
    };
    let listener = TcpListener::bind(&listen)?;
    listener.set_nonblocking(true)?;
    println!("serving http://{}/metrics", listener.local_addr()?);
    let start = Instant::now();
    while seconds.map_or(true, |s| start.elapsed() < s) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false)?;
                let mut request_line = String::new();
                BufReader::new(&stream).read_line(&mut request_line)?;
                let (status, body) = if request_line.starts_with("GET /metrics") {
                    ("200 OK", producer.metrics().to_prometheus())
                } else {
                    ("404 Not Found", "try /metrics\n".to_string())
                };
                write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => return Err(e.into()),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = load.join();
    producer.flush(Duration::from_secs(30))?;
    Ok(())
}
