//! Developer tool, not part of the CLI: where the engine's time goes on a corpus, one stage at a time, on one
//! thread.
//!
//! `cargo run --release -p podsec-engine --example stages -- DIR [ROUNDS]` reads every `*.yaml`/`*.yml` file
//! under `DIR` and prints, for each stage over all the files, the fastest of `ROUNDS` (default 5) passes:
//! reading, cutting into documents, a bare event pass of the YAML reader over each document, podsec's tree of each
//! document, the first pass's Namespace reading, and the full analysis; and how much of the corpus the analysis
//! reads no further than a document's kind. The stages overlap (the analysis
//! includes the tree, the tree the events); the differences are the cost of each layer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a developer tool fails by panicking"
)]

#[path = "../../../benches/parser_pass.rs"]
mod parser_pass;

use podsec_engine::policy::read_namespaces;
use podsec_engine::yaml::{Limits, document_ranges, read_document, read_document_if};
use podsec_engine::{Options, analyze};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(path);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: stages DIR [ROUNDS]"));
    let rounds: usize = args.next().map_or(5, |r| r.parse().expect("ROUNDS is a number"));
    let mut paths = Vec::new();
    yaml_files(&dir, &mut paths);
    let limits = Limits::default();
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("{} files, {bytes} bytes, fastest of {rounds} rounds", texts.len());
    // What the analysis skips: documents whose kind is certain and read by no check.
    let analysed = |kind: &str| podsec_engine::workload::reads_kind(kind) || kind == "PodSecurityPolicy";
    let (mut documents, mut skipped, mut skipped_bytes) = (0, 0, 0);
    for text in &texts {
        for (index, range) in document_ranges(text, &limits).into_iter().enumerate() {
            documents += 1;
            if read_document_if(text, index, range, &limits, &analysed).is_some_and(|d| d.skipped) {
                skipped += 1;
                skipped_bytes += range.end - range.start;
            }
        }
    }
    println!(
        "the analysis reads {skipped} of {documents} documents ({skipped_bytes} bytes) no further than their kind"
    );
    let stages: [(&str, &dyn Fn() -> usize); 6] = [
        ("read files", &|| {
            paths
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .map(|t| t.len())
                .sum()
        }),
        ("cut into documents", &|| {
            texts.iter().map(|t| document_ranges(t, &limits).len()).sum()
        }),
        ("bare event pass", &|| {
            texts
                .iter()
                .flat_map(|t| document_ranges(t, &limits).into_iter().map(move |r| (t, r)))
                .map(|(t, r)| parser_pass::parser_pass(t.get(r.start..r.end).unwrap_or("")))
                .sum()
        }),
        ("tree of every document", &|| {
            texts
                .iter()
                .flat_map(|t| {
                    let ranges = document_ranges(t, &limits);
                    ranges.into_iter().enumerate().map(move |(i, r)| (t, i, r))
                })
                .filter_map(|(t, i, r)| read_document(t, i, r, &limits))
                .map(|d| d.nodes.len())
                .sum()
        }),
        ("Namespace reading (first pass)", &|| {
            texts
                .iter()
                .map(|t| read_namespaces(t, &limits).labels.len())
                .sum()
        }),
        ("full analysis", &|| {
            texts
                .iter()
                .map(|t| analyze(t, &Options::default()).objects.len())
                .sum()
        }),
    ];
    for (name, stage) in stages {
        let mut best = f64::INFINITY;
        let mut result = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            result = stage();
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{name:32} {:8.1} ms  {:7.1} MB/s  ({result})",
            best * 1e3,
            bytes as f64 / best / 1e6
        );
    }
}
