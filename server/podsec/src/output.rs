//! The three output formats of `podsec check`: text for people, JSON for scripts, SARIF for code scanning.

use crate::check::{FileReport, Input};
use podsec_engine::text::{LineColumn, LineIndex};
use podsec_engine::{CHECKS, ObjectReport, Options, Problem, Span};
use serde_json::{Value, json};
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

pub fn write(
    out: &mut impl Write,
    format: Format,
    reports: &[FileReport],
    options: &Options,
    colour: bool,
) -> io::Result<()> {
    match format {
        Format::Text => write_text(out, reports, options, colour),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_report(reports, options))?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif_report(reports))?;
            writeln!(out)
        }
    }
}

/// Start and end of a span as 1-based lines and character columns.
struct Region {
    start: LineColumn,
    end: LineColumn,
}

fn region(text: &str, index: &LineIndex, span: Span) -> Region {
    Region {
        start: index.line_column(text, span.start),
        end: index.line_column(text, span.end),
    }
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn write_text(
    out: &mut impl Write,
    reports: &[FileReport],
    options: &Options,
    colour: bool,
) -> io::Result<()> {
    let style = Style { on: colour };
    let (mut violations, mut objects, mut failing, mut problems, mut errors) = (0, 0, 0, 0, 0);
    for report in reports {
        let name = report.input.display();
        if let Some(error) = &report.error {
            errors += 1;
            writeln!(
                out,
                "{}: {} {error}",
                style.paint("1", &name),
                style.paint("31;1", "error:")
            )?;
            continue;
        }
        let text = report.text.as_deref().unwrap_or("");
        let index = LineIndex::new(text);
        let mut items: Vec<(usize, usize, Option<&Problem>, Option<&ObjectReport>)> = Vec::new();
        items.extend(
            report
                .analysis
                .problems
                .iter()
                .map(|p| (p.document, p.span.start, Some(p), None)),
        );
        items.extend(
            report
                .analysis
                .objects
                .iter()
                .map(|o| (o.document, o.span.start, None, Some(o))),
        );
        items.sort_by_key(|(document, start, _, _)| (*document, *start));
        for (_, _, problem, object) in items {
            if let Some(problem) = problem {
                problems += 1;
                let at = index.line_column(text, problem.span.start);
                writeln!(
                    out,
                    "{}: {}: {}",
                    style.paint("1", &format!("{name}:{}:{}", at.line, at.column)),
                    style.paint("31;1", problem.code),
                    problem.message
                )?;
            }
            let Some(object) = object else { continue };
            objects += 1;
            if object.violations.is_empty() {
                continue;
            }
            failing += 1;
            // Within an object, findings read top to bottom; the summary line keeps PSA's order.
            let mut findings: Vec<_> = object
                .violations
                .iter()
                .flat_map(|v| v.locations.iter().map(move |l| (l.span.start, v)))
                .collect();
            findings.sort_by_key(|(start, _)| *start);
            for (start, violation) in findings {
                violations += 1;
                let at = index.line_column(text, start);
                writeln!(
                    out,
                    "{}: {}: {}",
                    style.paint("1", &format!("{name}:{}:{}", at.line, at.column)),
                    style.paint("31", violation.check.id),
                    violation.message()
                )?;
            }
            let header = index.line_column(text, object.header.start);
            writeln!(
                out,
                "  {} {} ({name}:{}:{}): {}",
                style.paint("36", "="),
                object.display_name(),
                header.line,
                header.column,
                object.warning()
            )?;
        }
    }
    let files = reports.len();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if violations + problems + errors == 0 {
        writeln!(
            out,
            "{} {} pass {} ({} checked).",
            style.paint("32;1", "✓"),
            plural(objects, "pod-bearing object", "pod-bearing objects"),
            options.policy,
            plural(files, "file", "files")
        )?;
    } else {
        let mut parts = vec![format!(
            "{} in {}",
            plural(violations, "violation", "violations"),
            plural(failing, "object", "objects")
        )];
        if problems > 0 {
            parts.push(plural(problems, "unreadable document", "unreadable documents"));
        }
        if errors > 0 {
            parts.push(plural(
                errors,
                "file could not be read",
                "files could not be read",
            ));
        }
        writeln!(
            out,
            "Found {} ({} checked against {}).",
            parts.join(", "),
            plural(files, "file", "files"),
            options.policy
        )?;
    }
    Ok(())
}

fn position(at: LineColumn) -> Value {
    json!({ "line": at.line, "column": at.column })
}

fn object_json(object: &ObjectReport, text: &str, index: &LineIndex) -> Value {
    let header = index.line_column(text, object.header.start);
    json!({
        "kind": object.kind,
        "name": object.name,
        "namespace": object.namespace,
        "document": object.document,
        "line": header.line,
        "column": header.column,
        "policy": object.policy.to_string(),
        "allowed": object.violations.is_empty(),
        "message": if object.violations.is_empty() { Value::Null } else { Value::String(object.warning()) },
        "violations": object.violations.iter().map(|v| json!({
            "check": v.check.id,
            "level": v.check.level.as_str(),
            "reason": v.reason,
            "detail": v.detail,
            "locations": v.locations.iter().map(|l| {
                let r = region(text, index, l.span);
                json!({ "path": l.path, "missing": l.missing, "start": position(r.start), "end": position(r.end) })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn json_report(reports: &[FileReport], options: &Options) -> Value {
    let files: Vec<Value> = reports
        .iter()
        .map(|report| {
            let text = report.text.as_deref().unwrap_or("");
            let index = LineIndex::new(text);
            json!({
                "path": report.input.display(),
                "error": report.error,
                "problems": report.analysis.problems.iter().map(|p| {
                    let at = index.line_column(text, p.span.start);
                    json!({ "code": p.code, "message": p.message, "document": p.document, "line": at.line, "column": at.column })
                }).collect::<Vec<_>>(),
                "objects": report.analysis.objects.iter().map(|o| object_json(o, text, &index)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let objects = reports.iter().flat_map(|r| &r.analysis.objects);
    json!({
        "tool": "podsec",
        "version": env!("CARGO_PKG_VERSION"),
        "policy": options.policy.to_string(),
        "summary": {
            "files": reports.len(),
            "objects": objects.clone().count(),
            "failing_objects": objects.clone().filter(|o| !o.violations.is_empty()).count(),
            "violations": objects.flat_map(|o| &o.violations).map(|v| v.locations.len()).sum::<usize>(),
            "problems": reports.iter().map(|r| r.analysis.problems.len()).sum::<usize>(),
            "errors": reports.iter().filter(|r| r.error.is_some()).count(),
        },
        "files": files,
    })
}

/// Rules for the document problems, after the 19 checks.
const PROBLEM_RULES: &[(&str, &str)] = &[
    (
        "syntax-error",
        "The document is not valid YAML; it is not analysed.",
    ),
    (
        "limit-exceeded",
        "The document crosses a resource limit (nesting, aliases, documents); it is not analysed.",
    ),
];

fn sarif_report(reports: &[FileReport]) -> Value {
    let mut rules: Vec<Value> = CHECKS
        .iter()
        .map(|check| {
            json!({
                "id": check.id,
                "name": check.id,
                "shortDescription": { "text": check.summary() },
                "fullDescription": { "text": check.summary() },
                "help": { "text": check.doc, "markdown": check.doc },
                "helpUri": check.help_uri(),
                "defaultConfiguration": { "level": "error" },
                "properties": { "level": check.level.as_str(), "since": format!("v1.{}", check.since()), "tags": ["security", "kubernetes", "pod-security"] },
            })
        })
        .collect();
    rules.extend(PROBLEM_RULES.iter().map(|(id, text)| {
        json!({ "id": id, "name": id, "shortDescription": { "text": text }, "defaultConfiguration": { "level": "error" } })
    }));
    let rule_index = |id: &str| {
        CHECKS.iter().position(|c| c.id == id).or_else(|| {
            PROBLEM_RULES
                .iter()
                .position(|(p, _)| *p == id)
                .map(|i| i + CHECKS.len())
        })
    };
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        let uri = match &report.input {
            Input::File(path) => path.to_string_lossy().replace('\\', "/"),
            Input::Stdin => "stdin".to_string(),
        };
        if let Some(error) = &report.error {
            notifications.push(json!({
                "level": "error",
                "message": { "text": format!("{}: {error}", report.input.display()) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
            }));
            continue;
        }
        let text = report.text.as_deref().unwrap_or("");
        let index = LineIndex::new(text);
        let physical = |span: Span| {
            let r = region(text, &index, span);
            json!({
                "artifactLocation": { "uri": uri },
                "region": { "startLine": r.start.line, "startColumn": r.start.column, "endLine": r.end.line, "endColumn": r.end.column },
            })
        };
        for problem in &report.analysis.problems {
            results.push(json!({
                "ruleId": problem.code,
                "ruleIndex": rule_index(problem.code),
                "level": "error",
                "message": { "text": problem.message },
                "locations": [{ "physicalLocation": physical(problem.span) }],
            }));
        }
        for object in &report.analysis.objects {
            for violation in &object.violations {
                for location in &violation.locations {
                    let at = json!({
                        "physicalLocation": physical(location.span),
                        "logicalLocations": [{ "fullyQualifiedName": format!("{}/{}", object.display_name(), location.path), "kind": "member" }],
                    });
                    results.push(json!({
                        "ruleId": violation.check.id,
                        "ruleIndex": rule_index(violation.check.id),
                        "level": "error",
                        "message": { "text": format!("{} ({}: {})", violation.message(), object.display_name(), object.policy) },
                        "locations": [at],
                        "relatedLocations": [{ "id": 0, "message": { "text": object.warning() }, "physicalLocation": physical(object.header) }],
                    }));
                }
            }
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "podsec",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{ "executionSuccessful": notifications.is_empty(), "toolExecutionNotifications": notifications }],
            "results": results,
        }],
    })
}
