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
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsec"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("PODSEC_TODAY", "2026-11-24")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
