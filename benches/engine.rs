//! Engine throughput (`cargo bench --bench engine`): a bare event pass of podsec's YAML reader
//! (`yaml::events`), podsec's
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
mod parser_pass;

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use parser_pass::parser_pass;
use podsec_engine::yaml::{Limits, parse_stream};
use podsec_engine::{Options, analyze};
use std::time::Instant;

const SIZES: [usize; 4] = [1, 10, 100, 1000];

#[divan::bench(args = SIZES)]
fn parser_events(bencher: Bencher, documents: usize) {
    let text = corpus::manifest(documents);
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| parser_pass(black_box(&text)));
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

/// Seconds one call of `work` takes.
fn timed(work: &mut impl FnMut()) -> f64 {
    let started = Instant::now();
    work();
    started.elapsed().as_secs_f64()
}

/// The fastest of `rounds` calls of each piece of work, taken in turn (bare, parse, full, bare, …) so that
/// a slow spell of a shared machine hits all three alike; the minimum is the cost without interference.
fn fastest_interleaved<const N: usize>(rounds: usize, mut work: [&mut dyn FnMut(); N]) -> [f64; N] {
    let mut best = [f64::INFINITY; N];
    for _ in 0..rounds {
        for (slot, piece) in best.iter_mut().zip(work.iter_mut()) {
            *slot = slot.min(timed(piece));
        }
    }
    best
}

fn main() {
    divan::main();
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: the table above is enough.
    }
    println!("\nfull analysis / bare reader event pass (fastest of interleaved runs, 3 s per size):");
    for documents in SIZES {
        let text = corpus::manifest(documents);
        let rounds = (3.0 / (text.len() as f64 / 30e6) / 3.0).clamp(15.0, 20_000.0) as usize;
        let [bare, parse, full] = fastest_interleaved(
            rounds,
            [
                &mut || {
                    black_box(parser_pass(&text));
                },
                &mut || {
                    black_box(parse_stream(&text, &Limits::default()).documents.len());
                },
                &mut || {
                    black_box(analyze(&text, &Options::default()).objects.len());
                },
            ],
        );
        println!(
            "  {documents:>5} documents ({:>8} bytes): reader {:>8.3} ms, parse {:>8.3} ms ({:.2}), analysis {:>8.3} ms, ratio {:.2}, {:.1} MB/s",
            text.len(),
            bare * 1e3,
            parse * 1e3,
            parse / bare,
            full * 1e3,
            full / bare,
            text.len() as f64 / full / 1e6
        );
    }
}
