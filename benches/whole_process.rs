//! Whole-process figures (`cargo bench --bench whole_process`): `podsec check` on the 4,537 conformance
//! fixtures and on one 100,000-line multi-document file, wall time (median of 5) and peak resident memory,
//! measured with GNU time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails by panicking"
)]

mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `(seconds, peak KiB)` of one run.
fn measure(arguments: &[&str]) -> (f64, u64) {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", env!("CARGO_BIN_EXE_podsec")])
        .args(arguments)
        .output()
        .expect("GNU time (Debian package `time`)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap();
    let mut fields = last.split_whitespace();
    (
        fields.next().unwrap().parse().unwrap(),
        fields.next().unwrap().parse().unwrap(),
    )
}

fn report(label: &str, input_bytes: u64, arguments: &[&str]) {
    let mut runs: Vec<(f64, u64)> = (0..5).map(|_| measure(arguments)).collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, _) = runs[2];
    let peak = runs.iter().map(|r| r.1).max().unwrap();
    println!(
        "{label}: {wall:.3} s wall (median of 5), {:.1} MB peak RSS, input {:.1} MB",
        peak as f64 / 1024.0,
        input_bytes as f64 / 1e6
    );
}

fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| size_of(&e.unwrap().path()))
            .sum()
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixtures = std::env::var_os("PODSEC_SHARED")
        .map_or_else(|| root.join("../shared"), PathBuf::from)
        .join("conformance/psa-testdata");
    report(
        "podsec check, 4,537 conformance fixtures",
        size_of(&fixtures),
        &["check", fixtures.to_str().unwrap()],
    );
    let big = std::env::temp_dir().join(format!("podsec-bench-{}.yaml", std::process::id()));
    let text = corpus::manifest(1000);
    std::fs::write(&big, &text).unwrap();
    report(
        &format!(
            "podsec check, one {}-line file of 1,000 documents",
            text.lines().count()
        ),
        text.len() as u64,
        &["check", big.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(&big);
}
