//! kprod's error table against Kafka 4.4.0's own Java client: every code Kafka's `Errors` enum has must
//! be in the table under the same name, and each class must match what the Java client does with the
//! code, except the deliberate differences listed in [`DELIBERATE`].
//!
//! Runs tests/java/ErrorClasses.java (a single-file Java program) with the kafka-clients jar, which is
//! downloaded from Maven Central once into `~/.cache/kprod-kafka/java-check/` (or
//! `$KPROD_KAFKA_CACHE/java-check/`). Needs `java` (11 or newer; `$JAVA_HOME/bin/java` first, else on
//! `PATH`) and, the first time, `curl` or `mvn`. Without java the test fails: it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kprod::Error;
use kprod::ErrorCode;

const KAFKA_VERSION: &str = "4.4.0";

/// A jar from Maven Central, pinned by its SHA-256 so a damaged or altered download fails the test.
struct Jar {
    group: &'static str,
    artifact: &'static str,
    version: &'static str,
    sha256: &'static str,
}

const JARS: &[Jar] = &[
    Jar {
        group: "org.apache.kafka",
        artifact: "kafka-clients",
        version: KAFKA_VERSION,
        sha256: "1ab07317eb6633241392449d329dbdc5d9251e6ffc4926860f42dd966e88bdf9",
    },
    // Kafka's Errors enum logs through slf4j; the API alone (no binding) is enough.
    Jar {
        group: "org.slf4j",
        artifact: "slf4j-api",
        version: "1.7.36",
        sha256: "d3ef575e3e4979678dc01bf1dcce51021493b4d11fb7f1be8ad982877c16a1c0",
    },
];

/// Where kprod's table deliberately differs from Java: (code, check, why). Each entry must still be a
/// difference, so a stale one fails too.
const DELIBERATE: &[(ErrorCode, &str, &str)] = &[
    (
        ErrorCode::REQUEST_TIMED_OUT,
        "invalidates_metadata",
        "kprod fails requests that time out on the client with this code; Java does too, and handles \
         the timeout as a disconnect, which requests a metadata update",
    ),
    (
        ErrorCode::TRANSACTION_COORDINATOR_FENCED,
        "fatal",
        "brokers send it only to one another (WriteTxnMarkers); from a coordinator Java's transactional \
         handlers would end the producer, as on any unexpected code, so kprod treats it as fenced",
    ),
    (
        ErrorCode::TRANSACTION_COORDINATOR_FENCED,
        "txn_requires_abort",
        "follows from fatal: a producer that must be closed aborts nothing",
    ),
];

/// One row of the Java program's output.
#[derive(Debug)]
struct JavaRow {
    name: String,
    exception: String,
    flags: HashMap<String, bool>,
}

impl JavaRow {
    fn flag(&self, column: &str) -> bool {
        *self.flags.get(column).unwrap_or_else(|| panic!("the Java output has no column {column}"))
    }
}

#[test]
fn error_table_matches_kafka_java_client() {
    let started = Instant::now();
    let java = java_binary();
    let dir = cache_dir();
    let jars: Vec<PathBuf> = JARS.iter().map(|j| ensure_jar(&dir, j)).collect();
    let output = run_java(&java, &jars);
    let (version, rows) = parse(&output);
    assert_eq!(version, KAFKA_VERSION, "the kafka-clients jar says it is {version}");
    assert!(rows.len() > 100, "only {} codes in the Java output:\n{output}", rows.len());

    let mut problems: Vec<String> = Vec::new();
    // Codes and names, both ways.
    let ours: BTreeSet<i16> = ErrorCode::ALL.iter().map(|c| c.0).collect();
    for (&code, row) in &rows {
        if !ours.contains(&code) {
            problems.push(format!("Kafka {KAFKA_VERSION} has {} = {code}; kprod's table lacks it", row.name));
        } else if ErrorCode(code).name() != row.name {
            problems.push(format!(
                "code {code}: Kafka names it {}, kprod {}",
                row.name,
                ErrorCode(code).name()
            ));
        }
    }
    for &code in &ours {
        if !rows.contains_key(&code) {
            problems
                .push(format!("kprod's table has {}, which Kafka {KAFKA_VERSION} lacks", ErrorCode(code)));
        }
    }

    // Classes. `met` records which deliberate differences named a real check.
    let mut met = vec![false; DELIBERATE.len()];
    for (&n, row) in &rows {
        let code = ErrorCode(n);
        if !code.is_known() {
            continue;
        }
        let broker = Error::Broker { code, message: None };
        let refresh = row.flag("refresh_retriable");
        let metadata = row.flag("invalid_metadata");
        let checks: [(&str, bool, bool); 8] = [
            ("retriable", code.is_retriable(), row.flag("retriable")),
            ("abortable", code.is_abortable(), row.flag("transaction_abortable")),
            (
                "application_recoverable",
                code.is_application_recoverable(),
                row.flag("application_recoverable"),
            ),
            ("invalid_configuration", code.is_invalid_configuration(), row.flag("invalid_configuration")),
            ("invalidates_metadata", code.invalidates_metadata(), metadata),
            // KIP-1050's refresh-retriable errors that are not about partition metadata: coordinators.
            ("coordinator_moved", code.coordinator_moved(), refresh && !metadata),
            ("fatal", code.is_fatal(), row.flag("txn_fatal")),
            // Java: what a failed record inside a transaction leaves behind.
            ("txn_requires_abort", broker.txn_requires_abort(), row.flag("txn_abortable")),
        ];
        for (check, kprod, java) in checks {
            let deliberate = DELIBERATE.iter().position(|&(c, k, _)| c == code && k == check);
            if let Some(i) = deliberate {
                met[i] = true;
            }
            match (kprod == java, deliberate) {
                (true, None) | (false, Some(_)) => {}
                (false, None) => problems.push(format!(
                    "{code} ({}): {check} is {kprod} in kprod, {java} in Kafka {KAFKA_VERSION}",
                    row.exception
                )),
                (true, Some(i)) => problems.push(format!(
                    "{code}: {check} now agrees with Java; drop the deliberate difference ({})",
                    DELIBERATE[i].2
                )),
            }
        }
        // The Error layer reads the same table.
        if broker.is_fatal() != code.is_fatal() || broker.is_retriable() != code.is_retriable() {
            problems.push(format!("{code}: Error::Broker and ErrorCode disagree"));
        }
        // Error::is_fatal's docs say idempotent and transactional producers end alike.
        if row.flag("txn_fatal") != row.flag("idempotent_fatal") {
            problems.push(format!(
                "{code}: Kafka's transactional and idempotent producers no longer agree on fatality"
            ));
        }
    }
    for (&(code, check, _), met) in DELIBERATE.iter().zip(met) {
        if !met {
            problems
                .push(format!("deliberate difference ({code}, {check}) names no check of a code Kafka has"));
        }
    }
    assert!(
        problems.is_empty(),
        "kprod's error table (src/protocol/error_code.rs) differs from Kafka {KAFKA_VERSION}'s Java client \
         in {} place(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    eprintln!("{} codes checked against Kafka {version} in {:?}", rows.len(), started.elapsed());
}

/// `$JAVA_HOME/bin/java` when it exists, else `java` from `PATH`; fails (never skips) without one.
fn java_binary() -> PathBuf {
    let from_home = std::env::var_os("JAVA_HOME").map(|h| Path::new(&h).join("bin").join("java"));
    let java = from_home.filter(|p| p.exists()).unwrap_or_else(|| PathBuf::from("java"));
    match Command::new(&java).arg("-version").output() {
        Ok(o) if o.status.success() => java,
        Ok(o) => panic!(
            "{} -version failed: {}\nThis test needs Java 11 or newer (e.g. apt-get install \
             openjdk-17-jdk-headless).",
            java.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "cannot run {}: {e}\nThis test checks kprod's error table against Kafka's Java client and needs \
             Java 11 or newer on PATH or in JAVA_HOME (e.g. apt-get install openjdk-17-jdk-headless); it \
             does not skip.",
            java.display()
        ),
    }
}

fn cache_dir() -> PathBuf {
    let root = match std::env::var_os("KPROD_KAFKA_CACHE") {
        Some(d) => PathBuf::from(d),
        None => {
            let home = std::env::var_os("HOME").expect("HOME is not set (or set KPROD_KAFKA_CACHE)");
            Path::new(&home).join(".cache").join("kprod-kafka")
        }
    };
    let dir = root.join("java-check");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The jar in the cache, downloaded and verified first when missing.
fn ensure_jar(dir: &Path, jar: &Jar) -> PathBuf {
    let file = format!("{}-{}.jar", jar.artifact, jar.version);
    let path = dir.join(&file);
    if path.exists() {
        let sum = sha256(&path);
        assert_eq!(
            sum,
            jar.sha256,
            "{} in the cache has SHA-256 {sum}, expected {}; delete it to download it again",
            path.display(),
            jar.sha256
        );
        return path;
    }
    // A name of our own, renamed into place only once verified: a broken or concurrent download never
    // leaves a bad jar under the real name.
    let part = dir.join(format!("{file}.{}.part", std::process::id()));
    let url = format!(
        "https://repo1.maven.org/maven2/{}/{}/{}/{file}",
        jar.group.replace('.', "/"),
        jar.artifact,
        jar.version
    );
    eprintln!("downloading {url} into {}", dir.display());
    let mut tried = Vec::new();
    match Command::new("curl")
        .args(["-fsSL", "--retry", "3", "--connect-timeout", "20", "--max-time", "300", "-o"])
        .arg(&part)
        .arg(&url)
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => tried.push(format!("curl {url}: {s}")),
        Err(e) => tried.push(format!("curl: {e}")),
    }
    if !part.exists() || !tried.is_empty() {
        let _ = std::fs::remove_file(&part);
        // Maven copies into a directory of its own, then the jar is moved to the .part name.
        let tmp = dir.join(format!("mvn-{}", std::process::id()));
        let artifact = format!("-Dartifact={}:{}:{}:jar", jar.group, jar.artifact, jar.version);
        // Output captured: it only matters when the copy fails.
        match Command::new("mvn")
            .args(["-q", "-B", "-Dstyle.color=never"])
            .args(["org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy", &artifact])
            .arg(format!("-DoutputDirectory={}", tmp.display()))
            .output()
        {
            Ok(o) if o.status.success() => {
                if let Err(e) = std::fs::rename(tmp.join(&file), &part) {
                    tried.push(format!("mvn left no {file}: {e}"));
                }
            }
            Ok(o) => tried.push(format!(
                "mvn dependency:copy: {}\n{}{}",
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => tried.push(format!("mvn: {e}")),
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    assert!(part.exists(), "could not download {file} from Maven Central:\n  {}", tried.join("\n  "));
    let sum = sha256(&part);
    if sum != jar.sha256 {
        let _ = std::fs::remove_file(&part);
        panic!("{url} has SHA-256 {sum}, expected {}", jar.sha256);
    }
    std::fs::rename(&part, &path)
        .unwrap_or_else(|e| panic!("cannot move {} into place: {e}", part.display()));
    path
}

/// The file's SHA-256 in hex, by `sha256sum` (Linux) or `shasum -a 256` (macOS).
fn sha256(path: &Path) -> String {
    let attempts: [(&str, &[&str]); 2] = [("sha256sum", &[]), ("shasum", &["-a", "256"])];
    for (tool, args) in attempts {
        if let Ok(o) = Command::new(tool).args(args).arg(path).output() {
            if o.status.success() {
                let text = String::from_utf8_lossy(&o.stdout);
                if let Some(sum) = text.split_whitespace().next() {
                    return sum.to_ascii_lowercase();
                }
            }
        }
    }
    panic!("neither sha256sum nor shasum could hash {}", path.display());
}

/// Runs tests/java/ErrorClasses.java and returns its standard output; at most two minutes.
fn run_java(java: &Path, jars: &[PathBuf]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let classpath = std::env::join_paths(jars).unwrap();
    let mut child = Command::new(java)
        .arg("-cp")
        .arg(&classpath)
        .arg(root.join("tests/java/ErrorClasses.java"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", java.display()));
    // Pipes are drained on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tests/java/ErrorClasses.java did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap().expect("the Java output is not UTF-8");
    let stderr = err.join().unwrap();
    assert!(status.success(), "tests/java/ErrorClasses.java failed ({status}):\n{stderr}\n{stdout}");
    stdout
}

/// The Kafka version and one row per code.
fn parse(output: &str) -> (String, BTreeMap<i16, JavaRow>) {
    let mut version = None;
    let mut columns: Vec<&str> = Vec::new();
    let mut rows = BTreeMap::new();
    for line in output.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "version" => version = fields.get(1).map(|v| v.to_string()),
            "columns" => columns = fields[1..].to_vec(),
            _ => {
                assert_eq!(fields.len(), columns.len(), "bad row (columns {columns:?}): {line}");
                let get = |name: &str| {
                    let i = columns.iter().position(|c| *c == name).unwrap_or_else(|| panic!("no {name}"));
                    fields[i]
                };
                let code: i16 = get("code").parse().unwrap_or_else(|e| panic!("bad code in {line}: {e}"));
                let flags = columns
                    .iter()
                    .zip(&fields)
                    .filter(|(_, v)| **v == "true" || **v == "false")
                    .map(|(c, v)| (c.to_string(), *v == "true"))
                    .collect();
                let row =
                    JavaRow { name: get("name").to_string(), exception: get("exception").to_string(), flags };
                assert!(rows.insert(code, row).is_none(), "code {code} twice in the Java output");
            }
        }
    }
    (version.expect("no version line in the Java output"), rows)
}
