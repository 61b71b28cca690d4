//! Engine throughput (`cargo bench --bench engine`): a bare saphyr-parser event pass, podsec's
//! positioned parse, and the full analysis (parse, workloads, every restricted check), over generated
//! manifests of 1, 10, 100 and 1,000 documents of 100 lines. After divan's table, the ratio of the full
//! analysis to the bare event pass, which the project keeps under 1.5.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmarks fail by panicking"
)]

mod corpus;

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use podsec_engine::yaml::{Limits, parse_stream};
use podsec_engine::{Options, analyze};
use std::time::Instant;

const SIZES: [usize; 4] = [1, 10, 100, 1000];

fn saphyr_pass(text: &str) -> usize {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let mut events = 0;
    while let Some(Ok(_)) = parser.next_event() {
        events += 1;
    }
    events
}

#[divan::bench(args = SIZES)]
fn saphyr_events(bencher: Bencher, documents: usize) {
    let text = corpus::manifest(documents);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| saphyr_pass(black_box(&text)));
}

#[divan::bench(args = SIZES)]
fn parse_only(bencher: Bencher, documents: usize) {
    let text = corpus::manifest(documents);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| parse_stream(black_box(&text), &Limits::default()).documents.len());
}

#[divan::bench(args = SIZES)]
fn analyze_all_checks(bencher: Bencher, documents: usize) {
    let text = corpus::manifest(documents);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| analyze(black_box(&text), &Options::default()).objects.len());
}

/// Median seconds of `runs` calls of `work`.
fn median(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[runs / 2]
}

fn main() {
    divan::main();
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: the table above is enough.
    }
    println!("\nfull analysis / bare saphyr-parser event pass (median of 15 runs):");
    for documents in SIZES {
        let text = corpus::manifest(documents);
        let bare = median(15, || {
            black_box(saphyr_pass(&text));
        });
        let full = median(15, || {
            black_box(analyze(&text, &Options::default()).objects.len());
        });
        println!(
            "  {documents:>5} documents ({:>8} bytes): saphyr {:>8.3} ms, analysis {:>8.3} ms, ratio {:.2}, {:.1} MB/s",
            text.len(),
            bare * 1e3,
            full * 1e3,
            full / bare,
            text.len() as f64 / full / 1e6
        );
    }
}
