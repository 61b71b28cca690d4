//! Helpers shared by the integration tests: where `../shared/` is, and the fixture expectations.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail by panicking"
)]

pub mod lsp;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `../shared/` beside the repository (or `$PODSEC_SHARED`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("PODSEC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"))
}

/// The upstream PSA fixtures.
pub fn fixtures_dir() -> PathBuf {
    shared_dir().join("conformance/psa-testdata")
}

/// One row of `expected.tsv`.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub path: String,
    pub level: String,
    pub version: String,
    pub outcome: String,
    pub all_failing: String,
    pub expect_substring: String,
}

/// Every row of `expected.tsv`.
pub fn read_expectations() -> Vec<Expectation> {
    let path = fixtures_dir().join("expected.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Expectation {
                path: cols[0].to_string(),
                level: cols[1].to_string(),
                version: cols[2].to_string(),
                outcome: cols[3].to_string(),
                all_failing: cols[6].to_string(),
                expect_substring: cols[7].to_string(),
            }
        })
        .collect()
}

/// Runs the real `podsec` binary in the repository root, without colour and with a fixed clock
/// (2026-11-24, for exemption expiry).
pub fn podsec(args: &[&str]) -> Output {
    podsec_with_stdin(args, None)
}

/// Like [`podsec`], with `stdin` as standard input.
pub fn podsec_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = podsec_command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // A child that exited without reading all of it closes the pipe: what it printed and its exit
        // status are what the test then looks at, so that the failure says why.
        if let Err(error) = pipe.write_all(bytes) {
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
            let output = child.wait_with_output().unwrap();
            eprintln!(
                "podsec {args:?} exited ({}) before reading its standard input; it printed:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            return output;
        }
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// The real `podsec` binary with `args`, set up as [`podsec`] runs it, to adapt before running.
pub fn podsec_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_podsec"));
    command
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("PODSEC_TODAY", "2026-11-24")
        // Chart renderings are cached in the test's own directory, not the user's.
        .env(
            "PODSEC_CACHE_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("podsec-cache"),
        );
    command
}

/// Runs `command` with no input, killing it and failing when it takes longer than `limit`: a hang is a
/// test failure, not a stuck test run.
pub fn run_within(mut command: Command, limit: std::time::Duration) -> Output {
    use std::io::Read;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes meanwhile, so that a chatty child never blocks on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Wraps a fixture Pod (top-level `apiVersion`, `kind`, `metadata`, `spec`) in another kind.
pub fn wrap(pod: &str, kind: &str) -> String {
    let body: Vec<&str> = pod
        .lines()
        .filter(|l| !l.starts_with("apiVersion:") && !l.starts_with("kind:"))
        .collect();
    let indent = |n: usize| {
        body.iter()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    let header = |api: &str| {
        format!(
            "# wrapped for the test\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: wrapper\n  namespace: ns\n"
        )
    };
    match kind {
        "PodTemplate" => format!("{}template:\n{}", header("v1"), indent(2)),
        "CronJob" => format!(
            "{}spec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n{}",
            header("batch/v1"),
            indent(8)
        ),
        "List" => {
            let item = pod
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
                .replacen("    ", "  - ", 1);
            format!(
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: other}}\n- apiVersion: v1\n  kind: List\n  items:\n{item}"
            )
        }
        _ => {
            let api = if kind == "Job" {
                "batch/v1"
            } else if kind == "ReplicationController" {
                "v1"
            } else {
                "apps/v1"
            };
            format!("{}spec:\n  replicas: 1\n  template:\n{}", header(api), indent(4))
        }
    }
}
