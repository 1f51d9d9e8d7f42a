//! docs/c-api.md's tables are generated from the header, the stub list and the configuration code,
//! so the document cannot drift from the library. Regenerate with:
//! `KPROD_BLESS=1 cargo test -p kprod-ffi --test c_api_docs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

const HEADER: &str = include_str!("../include/librdkafka/rdkafka.h");
const PROPERTIES: &str = include_str!("librdkafka-2.12.1-properties.tsv");
const DOC: &str = "../docs/c-api.md";

/// What an implemented function does differently from librdkafka, where it matters.
const NOTES: &[(&str, &str)] = &[
    ("rd_kafka_new", "RD_KAFKA_PRODUCER only: a consumer handle is refused with an errstr; conf is taken over on success only"),
    ("rd_kafka_destroy", "messages not yet delivered fail at once and are freed without reports (flush first), as librdkafka's"),
    ("rd_kafka_poll", "serves delivery reports, errors, statistics, throttle and log callbacks on the calling thread"),
    ("rd_kafka_flush", "sends at once (linger ignored), waits for every outcome, serves the reports"),
    ("rd_kafka_purge", "queued and/or in-flight; reports carry __PURGE_QUEUE / __PURGE_INFLIGHT"),
    ("rd_kafka_producev", "variadic: a C shim reads the list and calls rd_kafka_produceva"),
    ("rd_kafka_produce", "without RD_KAFKA_MSG_F_BLOCK only a topic's first metadata is waited for (up to max.block.ms); F_BLOCK waits up to max.block.ms for queue space"),
    ("rd_kafka_produce_batch", "each message's err set; RD_KAFKA_MSG_F_PARTITION honoured"),
    ("rd_kafka_topic_new", "one object per name; a topic conf may only repeat the producer's topic-level settings and partitioner_cb (kprod applies them producer-wide)"),
    ("rd_kafka_topic_conf_set_partitioner_cb", "the default topic configuration's is the producer's partitioner, called on the producing thread with msg_opaque NULL; a different one per topic is refused"),
    ("rd_kafka_conf_set_log_cb", "log lines reach it through rd_kafka_poll (librdkafka: from its threads unless log.queue)"),
    ("rd_kafka_conf_set_oauthbearer_token_refresh_cb", "called on kprod's token thread (librdkafka's background-callback mode); answer with rd_kafka_oauthbearer_set_token within 30 s"),
    ("rd_kafka_oauthbearer_set_token", "per-token extensions are not sent (use sasl.oauthbearer.extensions)"),
    ("rd_kafka_conf_set_events", "no event API: only 0 is meaningful"),
    ("rd_kafka_conf_set_background_event_cb", "accepted, never called"),
    ("rd_kafka_conf_set_offset_commit_cb", "consumer: accepted, never called"),
    ("rd_kafka_conf_set_rebalance_cb", "consumer: accepted, never called"),
    ("rd_kafka_conf_set_consume_cb", "consumer: accepted, never called"),
    ("rd_kafka_message_broker_id", "always -1"),
    ("rd_kafka_message_latency", "microseconds from produce to the report, at the kernel tick's resolution (CLOCK_MONOTONIC_COARSE)"),
    ("rd_kafka_message_leader_epoch", "always -1"),
    ("rd_kafka_message_timestamp", "the broker's timestamp of the write; type CREATE_TIME"),
    ("rd_kafka_message_detach_headers", "hands over a copy"),
    ("rd_kafka_message_set_headers", "frees the headers (messages carry produce-time headers only)"),
    ("rd_kafka_message_destroy", "does nothing: report messages belong to the library"),
    ("rd_kafka_error_new", "variadic: formatted by the C shim"),
    ("rd_kafka_test_fatal_error", "raises the fatal state, purges queued messages, tells error_cb"),
    ("rd_kafka_clusterid", "NULL"),
    ("rd_kafka_controllerid", "-1"),
    ("rd_kafka_memberid", "NULL (no group)"),
    ("rd_kafka_consumer_group_metadata", "NULL (a producer has no group)"),
    ("rd_kafka_dump", "prints the handle and kprod's metrics"),
    ("rd_kafka_yield", "does nothing"),
    ("rd_kafka_version", "0x020c01ff (librdkafka 2.12.1's API level)"),
    ("rd_kafka_version_str", "2.12.1-kprod-<version>"),
    ("rd_kafka_commit_transaction", "flushes (serving reports) first, as librdkafka's"),
    ("rd_kafka_topic_partition_available", "always 1"),
];

/// Every function the header declares, in order.
fn header_functions() -> Vec<String> {
    let mut out = Vec::new();
    for decl in HEADER.split("RD_EXPORT").skip(1) {
        let decl = &decl[..decl.find(';').unwrap_or(decl.len())];
        // The first rd_kafka_ identifier followed by '(' (the return type may be one too).
        let mut from = 0;
        while let Some(at) = decl[from..].find("rd_kafka_").map(|i| i + from) {
            let name: String =
                decl[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            from = at + name.len();
            if decl[from..].trim_start().starts_with('(') {
                if !out.contains(&name) {
                    out.push(name);
                }
                break;
            }
        }
    }
    out
}

fn functions_table() -> String {
    let stubs = rdkafka::stubs::STUBS;
    let mut s = String::from("| Function | Status | Notes |\n| --- | --- | --- |\n");
    for f in header_functions() {
        let status = if stubs.contains(&f.as_str()) { "stub" } else { "implemented" };
        let note = NOTES.iter().find(|(n, _)| *n == f).map_or("", |(_, n)| n);
        let note = if status == "stub" && note.is_empty() {
            "consumer/queue/admin: returns __NOT_IMPLEMENTED, NULL, -1 (0 for rd_kafka_assignment_lost) or nothing"
        } else {
            note
        };
        writeln!(s, "| `{f}` | {status} | {} |", note.replace('|', "\\|")).unwrap();
    }
    s
}

fn properties_table() -> String {
    let mut s = String::from("| Level | Property | C/P | librdkafka default | On this ABI | `conf_set` with that default |\n| --- | --- | --- | --- | --- | --- |\n");
    for line in PROPERTIES.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (level, name, cp, default) = (cols[0], cols[1], cols[2], cols.get(3).copied().unwrap_or(""));
        let pointer = name.ends_with("_cb")
            || matches!(
                name,
                "opaque" | "default_topic_conf" | "ssl_engine_callback_data" | "ssl.ca.certificate.stores"
            );
        let answer = if default.is_empty() || pointer {
            "—".to_string()
        } else {
            match rdkafka::conf::try_set(name, default, level == "topic") {
                (0, _) => "OK".into(),
                (-2, _) => "UNKNOWN".into(),
                (_, e) => format!("INVALID: {e}"),
            }
        };
        let mapping = if pointer && rdkafka::conf::property_mapping(name).starts_with("not supported") {
            "a callback or pointer: set with its rd_kafka_conf_set_* function where one is listed above"
                .to_string()
        } else {
            rdkafka::conf::property_mapping(name)
        };
        let cell = |t: &str| t.replace('|', "\\|");
        writeln!(
            s,
            "| {level} | `{name}` | {cp} | {} | {} | {} |",
            cell(default),
            cell(&mapping),
            cell(&answer)
        )
        .unwrap();
    }
    s
}

fn replace_between(doc: &str, tag: &str, body: &str) -> String {
    let begin = format!("<!-- {tag}:begin -->\n");
    let end = format!("<!-- {tag}:end -->");
    let b = doc.find(&begin).unwrap_or_else(|| panic!("docs/c-api.md lacks {begin}")) + begin.len();
    let e = doc.find(&end).unwrap_or_else(|| panic!("docs/c-api.md lacks {end}"));
    format!("{}{body}{}", &doc[..b], &doc[e..])
}

#[test]
fn docs_c_api_lists_every_function_and_property() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = std::fs::read_to_string(&path).expect("docs/c-api.md");
    let generated = replace_between(
        &replace_between(&doc, "functions", &functions_table()),
        "properties",
        &properties_table(),
    );
    if std::env::var_os("KPROD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        generated == doc,
        "docs/c-api.md is stale: run KPROD_BLESS=1 cargo test -p kprod-ffi --test c_api_docs"
    );
}

#[test]
fn every_stub_is_declared_and_the_notes_name_real_functions() {
    let functions = header_functions();
    assert!(functions.len() > 150, "{}", functions.len());
    for s in rdkafka::stubs::STUBS {
        assert!(functions.iter().any(|f| f == s), "stub {s} is not in the header");
    }
    for (n, _) in NOTES {
        assert!(functions.iter().any(|f| f == n), "note for {n}, which the header lacks");
    }
}

#[test]
fn every_librdkafka_alias_is_a_librdkafka_property() {
    let names: Vec<&str> =
        PROPERTIES.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split('\t').nth(1)).collect();
    for a in kprod::config::LIBRDKAFKA_ALIASES {
        assert!(names.contains(&a.name), "{} is not a librdkafka 2.12.1 property", a.name);
    }
}
