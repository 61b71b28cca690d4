//! Peak memory and wall time of `podsec check` per output format (`cargo bench --bench memory`), through
//! the release binary under GNU time, on repeated insecure Deployments (11 findings each): 1 MB in one
//! file, 10 MB in 10 files, 100 MB in 100 files, 20 MB in 100 files, and one 20 MB file. The output is
//! read through a pipe and counted, not stored: bytes per JSON finding and per SARIF result. Each case
//! runs once. Last, one Pod with 3,000 containers in every format: bytes per finding (alone with
//! `cargo bench --bench memory -- wide-pod`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails by panicking"
)]

mod corpus;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const MB: usize = 1_000_000;

/// What one run printed: its size, and how many findings (JSON) or results (SARIF) it held.
struct Printed {
    bytes: u64,
    items: u64,
}

/// Runs podsec under GNU time, reading its output as it comes: `(seconds, peak KiB, printed)`.
fn measure(format: &str, paths: &[PathBuf]) -> (f64, u64, Printed) {
    let started = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args([
            "-f",
            "%M",
            env!("CARGO_BIN_EXE_podsec"),
            "check",
            "--format",
            format,
        ])
        .args(paths)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("GNU time (Debian package `time`)");
    let mut stdout = child.stdout.take().unwrap();
    let mut buffer = vec![0; 1 << 16];
    let mut printed = Printed { bytes: 0, items: 0 };
    // The summary's `"violations": N` is in the last bytes of the JSON output.
    let mut tail: Vec<u8> = Vec::new();
    // Every result is on a line of its own at this indentation.
    let marker = b"\n        {";
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let read = stdout.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        printed.bytes += read as u64;
        if format == "sarif" {
            carry.extend_from_slice(chunk);
            printed.items += carry.windows(marker.len()).filter(|w| *w == marker).count() as u64;
            let keep = carry.len().saturating_sub(marker.len() - 1);
            carry.drain(..keep);
        }
        tail.extend_from_slice(chunk);
        if tail.len() > 8192 {
            tail.drain(..tail.len() - 4096);
        }
    }
    let output = child.wait_with_output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak = stderr.lines().last().unwrap().trim().parse().unwrap();
    if format == "json" {
        let tail = String::from_utf8_lossy(&tail);
        let violations = tail.split("\"violations\": ").nth(1).unwrap();
        printed.items = violations
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap();
    }
    (seconds, peak, printed)
}

fn write_files(dir: &Path, files: usize, total: usize) -> (Vec<PathBuf>, usize) {
    std::fs::create_dir_all(dir).unwrap();
    let text = corpus::insecure_stream(total / files);
    let paths: Vec<PathBuf> = (0..files)
        .map(|i| {
            let path = dir.join(format!("deployments-{i:03}.yaml"));
            std::fs::write(&path, &text).unwrap();
            path
        })
        .collect();
    (paths, text.len())
}

fn main() {
    let root = std::env::temp_dir().join(format!("podsec-memory-{}", std::process::id()));
    let cases = [
        ("1 MB in 1 file", 1, MB),
        ("10 MB in 10 files", 10, 10 * MB),
        ("100 MB in 100 files", 100, 100 * MB),
        // Files of one piece each, analysed whole and waiting for the printer: what the window's cost bounds.
        ("20 MB in 100 files", 100, 20 * MB),
        ("20 MB in 1 file", 1, 20 * MB),
    ];
    // `cargo bench --bench memory -- wide-pod` runs the last case alone.
    let wide_pod_only = std::env::args().any(|a| a == "wide-pod");
    for (label, files, total) in cases.into_iter().filter(|_| !wide_pod_only) {
        let dir = root.join(format!("{files}-{total}"));
        let (paths, file_bytes) = write_files(&dir, files, total);
        for format in ["text", "json", "sarif"] {
            let (seconds, peak, printed) = measure(format, &paths);
            let per_item = match format {
                "json" => format!(
                    ", {:.0} bytes per finding",
                    printed.bytes as f64 / printed.items as f64
                ),
                "sarif" => format!(
                    ", {:.0} bytes per result",
                    printed.bytes as f64 / printed.items as f64
                ),
                _ => String::new(),
            };
            println!(
                "{label} (largest file {:.1} MB), {format}: {seconds:.2} s wall, {:.1} MB peak RSS, {:.0} MB of output{per_item}",
                file_bytes as f64 / 1e6,
                peak as f64 / 1024.0,
                printed.bytes as f64 / 1e6,
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    wide_pod(&root);
    let _ = std::fs::remove_dir_all(&root);
}

/// One Pod with 3,000 containers that set nothing (12,000 findings) in every format: the output must stay
/// linear in the containers (a finding names its own; PSA's sentence naming them all is written once).
fn wide_pod(root: &Path) {
    const CONTAINERS: usize = 3_000;
    let mut text = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\nspec:\n  containers:\n");
    for i in 0..CONTAINERS {
        text.push_str(&format!(
            "  - name: container-{i}\n    image: nginx:1.{}\n",
            i % 30
        ));
    }
    std::fs::create_dir_all(root).unwrap();
    let path = root.join("wide-pod.yaml");
    std::fs::write(&path, &text).unwrap();
    let paths = [path];
    let (_, _, json) = measure("json", &paths);
    let findings = json.items;
    for format in ["text", "json", "sarif", "github", "gitlab", "junit"] {
        let (seconds, peak, printed) = measure(format, &paths);
        println!(
            "one Pod with {CONTAINERS} containers ({findings} findings), {format}: {seconds:.2} s wall, {:.1} MB peak RSS, {:.0} bytes per finding",
            peak as f64 / 1024.0,
            printed.bytes as f64 / findings as f64,
        );
    }
}
