//! The output formats of `podsec check`: text for people, JSON for scripts, SARIF for code scanning,
//! GitHub workflow commands, GitLab Code Quality and JUnit XML for CI, `--statistics`, and the
//! `--suggest-level` table. Each printer writes a file as soon as the run hands it over, part by part,
//! and keeps nothing of it afterwards (JUnit holds one file, whose counts open its element).

mod github;
mod gitlab;
mod json;
mod junit;
mod sarif;
mod statistics;
mod text;

use crate::Outcome;
use crate::report::{FileView, Part, Tally};
use crate::run::{Parts, Run};
use podsec_engine::advice::suggest_levels;
use podsec_engine::policy::Severity;
use podsec_engine::text::{LineColumn, LineIndex};
use podsec_engine::{CheckViolation, Location, ObjectReport, Options, Span};
use std::io::{self, Write};

pub use crate::cli::Format;

/// How `podsec check` prints, besides the format.
#[derive(Debug, Clone, Copy)]
pub struct PrintOptions {
    /// `--show-exempted`.
    pub show_exempted: bool,
    /// Colour in the text format.
    pub colour: bool,
    /// `--quiet`: no summary line.
    pub quiet: bool,
    /// `--statistics`: the count per check instead of the findings (text or JSON).
    pub statistics: bool,
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
    options: &PrintOptions,
    baseline: Option<&mut crate::baseline::Baseline>,
) -> io::Result<Tally> {
    let show_exempted = options.show_exempted;
    let mut printer: Box<dyn Printer> = match format {
        _ if options.statistics => Box::new(statistics::Statistics::new(format == Format::Json)),
        Format::Text => Box::new(text::Text::new(show_exempted, options.colour, options.quiet)),
        Format::Json => Box::new(json::Json::default()),
        Format::Sarif => Box::new(sarif::Sarif::new(show_exempted)),
        Format::Github => Box::new(github::Github),
        Format::Gitlab => Box::new(gitlab::Gitlab::default()),
        Format::Junit => Box::new(junit::Junit),
    };
    printer.begin(out)?;
    let tally = run.stream(printer.config_problems_first(), baseline, |file, parts| {
        printer.file(out, file, parts)
    })?;
    printer.finish(out, &tally)?;
    Ok(tally)
}

pub use text::summary_line;

/// One finding as the CI formats and `--statistics` see it: a violation at one of its locations (on an
/// object that is checked), an unreadable document, or a policy-source problem.
struct Finding<'a> {
    /// The check ID or the problem's code.
    code: &'static str,
    severity: Severity,
    /// The message, naming the object and the policy for a violation.
    message: String,
    span: Span,
    /// The object and the field, for a violation.
    object: Option<(&'a ObjectReport, &'a CheckViolation, &'a str)>,
}

/// The findings of a part, in source order; exempted ones and those of objects exempt as a whole are not
/// findings.
fn findings(part: &Part) -> Vec<Finding<'_>> {
    let problems = part
        .analysis
        .problems
        .iter()
        .map(|p| (p.code, p.severity, &p.message, p.span))
        .chain(
            part.config_problems()
                .map(|p| (p.code, p.severity, &p.message, p.span)),
        );
    let mut found: Vec<Finding<'_>> = problems
        .map(|(code, severity, message, span)| Finding {
            code,
            severity,
            message: message.clone(),
            span,
            object: None,
        })
        .collect();
    for object in part.analysis.objects.iter().filter(|o| o.exempt.is_none()) {
        for violation in &object.violations {
            for location in &violation.locations {
                found.push(Finding {
                    code: violation.check.id,
                    severity: violation.severity(),
                    message: violation_message(object, violation, location),
                    span: location.span,
                    object: Some((object, violation, location.path.as_str())),
                });
            }
        }
    }
    found.sort_by_key(|f| f.span.start);
    found
}

/// Whether the CI formats (SARIF, GitHub annotations, GitLab Code Quality, JUnit) report a problem of
/// `severity`. Information (what a chart template's values decide, a setting that cannot apply to files)
/// is for people: the text and JSON formats show it, and a CI format makes no result, annotation, issue
/// or test case of it, which on a chart repository would be thousands that nobody can act on.
fn reported_in_ci(severity: Severity) -> bool {
    severity != Severity::Information
}

/// [`findings`] as the CI formats report them: violations (of every mode), and problems that are not
/// information.
fn ci_findings(part: &Part) -> Vec<Finding<'_>> {
    let mut found = findings(part);
    found.retain(|f| f.object.is_some() || reported_in_ci(f.severity));
    found
}

/// A violation's message at one of its locations (naming that field's container alone), with the object
/// and the policy it breaks, as SARIF and the CI formats give it.
fn violation_message(object: &ObjectReport, violation: &CheckViolation, location: &Location) -> String {
    let rendered = object
        .rendered
        .as_ref()
        .map(|how| format!(" rendered by {how}"))
        .unwrap_or_default();
    format!(
        "{} ({}{rendered}: {} {})",
        violation.message_for(location),
        object.display_name(),
        violation.mode.as_str(),
        violation.policy
    )
}

/// A finding's fingerprint for CI systems that track issues across commits: the file, and what SARIF's
/// `podsec/v1` fingerprint hashes (object, check and field; or the problem's code and message), so that an
/// unrelated edit that moves lines keeps it.
fn stable_fingerprint(path: &str, finding: &Finding<'_>) -> String {
    match finding.object {
        Some((object, violation, field)) => crate::report::fingerprint(&[
            path,
            &object.kind,
            object.name.as_deref().unwrap_or(""),
            object.namespace.as_deref().unwrap_or(""),
            violation.check.id,
            field,
        ]),
        None => crate::report::fingerprint(&[path, finding.code, &finding.message]),
    }
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

/// `--suggest-level`: per namespace and per workload, the strictest level and version it passes, as text
/// or JSON. The inputs are read one at a time; the exit status is 2 when one could not be read.
pub fn write_suggestions(out: &mut impl Write, run: &Run, json_output: bool) -> io::Result<Outcome> {
    let mut outcome = if run.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    };
    let mut namespaces: Vec<(String, Vec<Workload>)> = Vec::new();
    for (index, input) in run.inputs.iter().enumerate() {
        let Ok(text) = run.text(index) else {
            outcome = Outcome::Error;
            continue;
        };
        for (namespace, name, policy) in suggest_levels(&text, &Options::default()) {
            let namespace = namespace.unwrap_or_else(|| NO_NAMESPACE.to_string());
            let entry = match namespaces.iter_mut().position(|(n, _)| *n == namespace) {
                Some(position) => position,
                None => {
                    namespaces.push((namespace, Vec::new()));
                    namespaces.len() - 1
                }
            };
            if let Some((_, workloads)) = namespaces.get_mut(entry) {
                workloads.push((name, input.display(), policy));
            }
        }
    }
    if json_output {
        write_suggestions_json(out, &namespaces)?;
        return Ok(outcome);
    }
    for (namespace, workloads) in &namespaces {
        let strictest = workloads
            .iter()
            .map(|(_, _, p)| *p)
            .min_by_key(|p| strictness(*p));
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
        for (name, file, policy) in workloads {
            writeln!(out, "  {name} ({file}): {policy}")?;
        }
    }
    Ok(outcome)
}

/// The `--suggest-level` table as JSON: `{"version": 1, "namespaces": [{"namespace", "policy", "labels",
/// "workloads": [{"name", "file", "policy"}]}]}`; `namespace` is null for workloads without one.
fn write_suggestions_json(out: &mut impl Write, namespaces: &[(String, Vec<Workload>)]) -> io::Result<()> {
    use serde_json::json;
    let list: Vec<serde_json::Value> = namespaces
        .iter()
        .map(|(namespace, workloads)| {
            let strictest = workloads.iter().map(|(_, _, p)| *p).min_by_key(|p| strictness(*p));
            json!({
                "namespace": (namespace != NO_NAMESPACE).then_some(namespace),
                "policy": strictest.map(|p| p.to_string()),
                "labels": strictest.map(|p| json!({
                    "pod-security.kubernetes.io/enforce": p.level.as_str(),
                    "pod-security.kubernetes.io/enforce-version": p.version.to_string(),
                })),
                "workloads": workloads.iter().map(|(name, file, policy)| json!({ "name": name, "file": file, "policy": policy.to_string() })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({ "version": 1, "namespaces": list }))?;
    writeln!(out)
}

/// A workload of `--suggest-level`: its name, its file and the strictest policy it passes.
type Workload = (String, String, podsec_engine::Policy);

/// How the table names the workloads without a namespace.
const NO_NAMESPACE: &str = "(no namespace)";

/// Orders policies by strictness (level, then version) for taking the weakest of a namespace.
fn strictness(policy: podsec_engine::Policy) -> (podsec_engine::Level, u32) {
    (policy.level, policy.version.evaluated_minor())
}
