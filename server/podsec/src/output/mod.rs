//! The output formats of `podsec check`: text for people, JSON for scripts, SARIF for code scanning, and
//! the `--suggest-level` table. Each printer writes a file as soon as the run hands it over, part by part,
//! and keeps nothing of it afterwards.

mod json;
mod sarif;
mod text;

use crate::Outcome;
use crate::report::{FileView, Tally};
use crate::run::{Parts, Run};
use podsec_engine::Options;
use podsec_engine::advice::suggest_levels;
use podsec_engine::text::{LineColumn, LineIndex};
use std::io::{self, Write};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub fn colour_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal()
}

/// One output format, written as the run goes.
trait Printer {
    /// Whether a file's policy-source problems must be known before its parts (JSON lists them first).
    fn config_problems_first(&self) -> bool {
        false
    }

    /// Before the first file.
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()>;

    /// One file: its head, then its parts as they come.
    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()>;

    /// After the last file, with the run's counters.
    fn finish(&mut self, out: &mut dyn Write, tally: &Tally) -> io::Result<()>;
}

/// Checks every input of `run` and writes the verdicts in `format` as they come; returns the counters.
pub fn write(
    out: &mut impl Write,
    run: &Run,
    format: Format,
    show_exempted: bool,
    colour: bool,
) -> io::Result<Tally> {
    let mut printer: Box<dyn Printer> = match format {
        Format::Text => Box::new(text::Text::new(show_exempted, colour)),
        Format::Json => Box::new(json::Json::default()),
        Format::Sarif => Box::new(sarif::Sarif::new(show_exempted)),
    };
    printer.begin(out)?;
    let tally = run.stream(printer.config_problems_first(), |file, parts| {
        printer.file(out, file, parts)
    })?;
    printer.finish(out, &tally)?;
    Ok(tally)
}

/// Start and end of a span as 1-based lines and character columns.
struct Region {
    start: LineColumn,
    end: LineColumn,
}

fn region(text: &str, index: &LineIndex, span: podsec_engine::Span) -> Region {
    Region {
        start: index.line_column(text, span.start),
        end: index.line_column(text, span.end),
    }
}

/// `--suggest-level`: per namespace and per workload, the strictest level and version it passes. The
/// inputs are read one at a time; the exit status is 2 when one could not be read.
pub fn write_suggestions(out: &mut impl Write, run: &Run) -> io::Result<Outcome> {
    let mut outcome = if run.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    };
    let mut namespaces: Vec<(String, Vec<(String, podsec_engine::Policy)>)> = Vec::new();
    for (index, input) in run.inputs.iter().enumerate() {
        let Ok(text) = run.text(index) else {
            outcome = Outcome::Error;
            continue;
        };
        for (namespace, name, policy) in suggest_levels(&text, &Options::default()) {
            let namespace = namespace.unwrap_or_else(|| "(no namespace)".to_string());
            let entry = match namespaces.iter_mut().position(|(n, _)| *n == namespace) {
                Some(position) => position,
                None => {
                    namespaces.push((namespace, Vec::new()));
                    namespaces.len() - 1
                }
            };
            if let Some((_, workloads)) = namespaces.get_mut(entry) {
                workloads.push((format!("{name} ({})", input.display()), policy));
            }
        }
    }
    for (namespace, workloads) in &namespaces {
        let strictest = workloads.iter().map(|(_, p)| *p).min_by_key(|p| strictness(*p));
        if let Some(policy) = strictest {
            writeln!(
                out,
                "namespace {namespace}: {policy} (the strictest policy all its workloads pass)"
            )?;
            writeln!(out, "  pod-security.kubernetes.io/enforce: {}", policy.level)?;
            writeln!(
                out,
                "  pod-security.kubernetes.io/enforce-version: {}",
                policy.version
            )?;
        }
        for (name, policy) in workloads {
            writeln!(out, "  {name}: {policy}")?;
        }
    }
    Ok(outcome)
}

/// Orders policies by strictness (level, then version) for taking the weakest of a namespace.
fn strictness(policy: podsec_engine::Policy) -> (podsec_engine::Level, u32) {
    (policy.level, policy.version.evaluated_minor())
}
