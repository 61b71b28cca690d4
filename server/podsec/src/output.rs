//! The output formats of `podsec check`: text for people, JSON for scripts, SARIF for code scanning, and
//! the `--suggest-level` table.

use crate::check::{FileReport, Input, Run};
use podsec_engine::advice::suggest_levels;
use podsec_engine::policy::{ConfigProblem, Mode, Severity};
use podsec_engine::text::{LineColumn, LineIndex};
use podsec_engine::{CHECKS, CheckViolation, ObjectReport, Options, Span};
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
    show_exempted: bool,
    colour: bool,
) -> io::Result<()> {
    match format {
        Format::Text => write_text(out, reports, show_exempted, colour),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_report(reports))?;
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

    fn severity(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Error => "31",
            Severity::Warning => "33",
            Severity::Information => "36",
        }
    }
}

/// `warning: ` or `info: ` before a message that is not an error; nothing for errors.
fn severity_prefix(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "",
        Severity::Warning => "warning: ",
        Severity::Information => "info: ",
    }
}

/// What a file's text output is made of, in source order.
enum Item<'r> {
    /// An unreadable document or a policy-source problem: one line with a code and a severity.
    Note {
        code: &'r str,
        severity: Severity,
        message: &'r str,
    },
    Object(&'r ObjectReport),
}

#[derive(Default)]
struct Counts {
    errors: usize,
    warnings: usize,
    notes: usize,
    objects: usize,
    failing: usize,
    exempted: usize,
    unreadable: usize,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Information => self.notes += 1,
        }
    }
}

fn write_text(
    out: &mut impl Write,
    reports: &[FileReport],
    show_exempted: bool,
    colour: bool,
) -> io::Result<()> {
    let style = Style { on: colour };
    let mut counts = Counts::default();
    let mut policies: Vec<String> = Vec::new();
    for report in reports {
        let name = report.input.display();
        if let Some(error) = &report.error {
            counts.unreadable += 1;
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
        let at = |offset: usize| {
            let at = index.line_column(text, offset);
            style.paint("1", &format!("{name}:{}:{}", at.line, at.column))
        };
        let mut items: Vec<(usize, Item<'_>)> = Vec::new();
        items.extend(report.analysis.problems.iter().map(|p| {
            (
                p.span.start,
                Item::Note {
                    code: p.code,
                    severity: p.severity,
                    message: &p.message,
                },
            )
        }));
        items.extend(report.config_problems().map(|p| {
            (
                p.span.start,
                Item::Note {
                    code: p.code,
                    severity: p.severity,
                    message: &p.message,
                },
            )
        }));
        items.extend(
            report
                .analysis
                .objects
                .iter()
                .map(|o| (o.span.start, Item::Object(o))),
        );
        items.sort_by_key(|(start, _)| *start);
        for (start, item) in items {
            match item {
                Item::Note {
                    code,
                    severity,
                    message,
                } => {
                    counts.add(severity);
                    writeln!(
                        out,
                        "{}: {}: {}{}",
                        at(start),
                        style.paint(style.severity(severity), code),
                        severity_prefix(severity),
                        message.replace('\n', "\n    ")
                    )?;
                }
                Item::Object(object) => {
                    counts.objects += 1;
                    let policy = object.policy.to_string();
                    if !policies.contains(&policy) {
                        policies.push(policy);
                    }
                    if let Some(why) = &object.exempt {
                        writeln!(
                            out,
                            "{}: {}: info: {} is not checked: {why}",
                            at(object.header.start),
                            style.paint("36", "exempt"),
                            object.display_name()
                        )?;
                        continue;
                    }
                    counts.exempted += object.exempted.len();
                    if object.violations.is_empty() && (!show_exempted || object.exempted.is_empty()) {
                        continue;
                    }
                    if !object.violations.is_empty() {
                        counts.failing += 1;
                    }
                    // Within an object, findings read top to bottom; the summary lines keep PSA's order.
                    let mut findings: Vec<(usize, &CheckViolation, Option<&str>)> = object
                        .violations
                        .iter()
                        .flat_map(|v| v.locations.iter().map(move |l| (l.span.start, v, None)))
                        .collect();
                    if show_exempted {
                        findings.extend(object.exempted.iter().flat_map(|(v, reason)| {
                            v.locations
                                .iter()
                                .map(move |l| (l.span.start, v, Some(reason.as_str())))
                        }));
                    }
                    findings.sort_by_key(|(start, _, _)| *start);
                    // Rendered Helm output: name the chart template first, then where it is in the rendering.
                    let place = |start: usize| match &object.source {
                        Some(source) => format!("{} (rendered {})", style.paint("1", source), at(start)),
                        None => at(start),
                    };
                    for (start, violation, exempted) in findings {
                        let severity = violation.severity();
                        let prefix = match exempted {
                            Some(reason) => format!("exempted ({reason}): "),
                            None => {
                                counts.add(severity);
                                severity_prefix(severity).to_string()
                            }
                        };
                        writeln!(
                            out,
                            "{}: {}: {prefix}{}",
                            place(start),
                            style.paint(style.severity(severity), violation.check.id),
                            violation.message()
                        )?;
                    }
                    let header = index.line_column(text, object.header.start);
                    for (mode, message) in object.messages() {
                        let source = object
                            .line_source(mode)
                            .map(|s| format!(" [{s}]"))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "  {} {} ({name}:{}:{}): {message}{source}",
                            style.paint("36", "="),
                            object.display_name(),
                            header.line,
                            header.column,
                        )?;
                    }
                }
            }
        }
    }
    writeln!(out, "{}", summary(&counts, reports, &policies, &style))
}

/// The last line of the text output: what was found, in how many objects and files, against which policy.
fn summary(counts: &Counts, reports: &[FileReport], policies: &[String], style: &Style) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    // Files read and checked: unreadable ones are counted on their own.
    let files = reports
        .iter()
        .filter(|r| !r.source_only && r.error.is_none())
        .count();
    let findings = counts.errors + counts.warnings + counts.notes;
    if files == 0 && findings + counts.unreadable == 0 {
        return "No YAML file checked.".to_string();
    }
    let policy = match policies {
        [one] => one.clone(),
        _ => "their policies".to_string(),
    };
    let checked = plural(files, "file checked", "files checked");
    let exempted = if counts.exempted > 0 {
        format!(", {} exempted", plural(counts.exempted, "finding", "findings"))
    } else {
        String::new()
    };
    let mut line = if findings > 0 {
        let mut parts = vec![plural(counts.errors, "error", "errors")];
        if counts.warnings > 0 {
            parts.push(plural(counts.warnings, "warning", "warnings"));
        }
        if counts.notes > 0 {
            parts.push(plural(counts.notes, "note", "notes"));
        }
        // Document and policy-file problems belong to no object.
        let in_objects = if counts.failing > 0 {
            format!(" in {}", plural(counts.failing, "object", "objects"))
        } else {
            String::new()
        };
        let against = if policies.is_empty() {
            String::new()
        } else {
            format!(" against {policy}")
        };
        format!(
            "Found {}{in_objects} ({checked}{against}{exempted})",
            parts.join(", ")
        )
    } else if counts.objects > 0 {
        let objects = plural(
            counts.objects,
            "pod-bearing object passes",
            "pod-bearing objects pass",
        );
        format!("{objects} {policy} ({checked}{exempted})")
    } else {
        format!("No pod-bearing objects found ({checked})")
    };
    if counts.unreadable > 0 {
        line.push_str(&format!(
            "; {}",
            plural(
                counts.unreadable,
                "file could not be read",
                "files could not be read"
            )
        ));
    } else if findings == 0 {
        line.insert_str(0, &format!("{} ", style.paint("32;1", "✓")));
    }
    line.push('.');
    line
}

fn position(at: LineColumn) -> Value {
    json!({ "line": at.line, "column": at.column })
}

fn violation_json(v: &CheckViolation, text: &str, index: &LineIndex) -> Value {
    json!({
        "check": v.check.id,
        "level": v.check.level.as_str(),
        "mode": v.mode.as_str(),
        "severity": v.severity().as_str(),
        "policy": v.policy.to_string(),
        "reason": v.reason,
        "detail": v.detail,
        "locations": v.locations.iter().map(|l| {
            let r = region(text, index, l.span);
            json!({ "path": l.path, "missing": l.missing, "container": l.container, "start": position(r.start), "end": position(r.end) })
        }).collect::<Vec<_>>(),
    })
}

fn object_json(object: &ObjectReport, text: &str, index: &LineIndex) -> Value {
    let header = index.line_column(text, object.header.start);
    json!({
        "kind": object.kind,
        "name": object.name,
        "source": object.source,
        "namespace": object.namespace,
        "document": object.document,
        "line": header.line,
        "column": header.column,
        "policy": object.policy.to_string(),
        "modes": object.modes.iter().map(|(mode, p)| json!({ "mode": mode.as_str(), "policy": p.policy.to_string(), "source": p.source })).collect::<Vec<_>>(),
        "exempt": object.exempt,
        "allowed": object.violations.iter().all(|v| v.mode != Mode::Enforce),
        "message": if object.violations.is_empty() { Value::Null } else { Value::String(object.warning()) },
        "violations": object.violations.iter().map(|v| violation_json(v, text, index)).collect::<Vec<_>>(),
        "exempted": object.exempted.iter().map(|(v, reason)| {
            let mut value = violation_json(v, text, index);
            if let Some(fields) = value.as_object_mut() {
                fields.insert("reason_exempted".to_string(), Value::String(reason.clone()));
            }
            value
        }).collect::<Vec<_>>(),
    })
}

fn config_json(problem: &ConfigProblem, text: &str, index: &LineIndex) -> Value {
    let at = index.line_column(text, problem.span.start);
    json!({ "code": problem.code, "severity": problem.severity.as_str(), "message": problem.message, "line": at.line, "column": at.column })
}

fn json_report(reports: &[FileReport]) -> Value {
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
                    json!({ "code": p.code, "severity": p.severity.as_str(), "message": p.message, "document": p.document, "line": at.line, "column": at.column })
                }).collect::<Vec<_>>(),
                "config_problems": report.config_problems().map(|p| config_json(p, text, &index)).collect::<Vec<_>>(),
                "objects": report.analysis.objects.iter().map(|o| object_json(o, text, &index)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let objects = reports.iter().flat_map(|r| &r.analysis.objects);
    let violations = objects.clone().flat_map(|o| &o.violations);
    let findings = |severity: Severity| {
        violations
            .clone()
            .filter(|v| v.severity() == severity)
            .map(|v| v.locations.len())
            .sum::<usize>()
    };
    json!({
        "tool": "podsec",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": {
            "files": reports.len(),
            "objects": objects.clone().count(),
            "failing_objects": objects.clone().filter(|o| !o.violations.is_empty()).count(),
            "violations": violations.clone().map(|v| v.locations.len()).sum::<usize>(),
            "errors": findings(Severity::Error),
            "warnings": findings(Severity::Warning),
            "notes": findings(Severity::Information),
            "exempted": objects.clone().map(|o| o.exempted.len()).sum::<usize>(),
            "problems": reports.iter().map(|r| r.analysis.problems.len()).sum::<usize>(),
            "unreadable": reports.iter().filter(|r| r.error.is_some()).count(),
        },
        "files": files,
    })
}

/// Rules for the document and configuration problems, after the checks.
const PROBLEM_RULES: &[(&str, &str)] = &[
    (
        "syntax-error",
        "The document is not valid YAML; it is not analysed.",
    ),
    (
        "limit-exceeded",
        "The document crosses a resource limit (nesting, aliases, documents); it is not analysed.",
    ),
    (
        "invalid-label",
        "A Pod Security label of a Namespace has an invalid value; PSA falls back as described.",
    ),
    (
        "namespace-impact",
        "Workloads of the namespace do not pass its enforce level.",
    ),
    (
        "invalid-exemption",
        "An exemption without a reason, or for an unknown check.",
    ),
    ("unused-exemption", "An exemption that covers no finding."),
    (
        "expired-exemption",
        "An exemption past its expiry date; it no longer applies.",
    ),
    (
        "ignored-setting",
        "A setting of the admission configuration that cannot apply to files.",
    ),
    ("invalid-config", "An invalid value in a policy file."),
    ("unknown-key", "An unknown key in a policy file."),
];

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "note",
    }
}

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
                "level": sarif_level(problem.severity),
                "message": { "text": problem.message },
                "locations": [{ "physicalLocation": physical(problem.span) }],
            }));
        }
        for problem in report.config_problems() {
            results.push(json!({
                "ruleId": problem.code,
                "ruleIndex": rule_index(problem.code),
                "level": sarif_level(problem.severity),
                "message": { "text": problem.message },
                "locations": [{ "physicalLocation": physical(problem.span) }],
            }));
        }
        for object in &report.analysis.objects {
            for violation in &object.violations {
                for location in &violation.locations {
                    // Rendered Helm output: the template file is the artifact, the rendering is kept alongside.
                    let physical_location = match &object.source {
                        Some(source) => json!({ "artifactLocation": { "uri": source } }),
                        None => physical(location.span),
                    };
                    let at = json!({
                        "physicalLocation": physical_location,
                        "properties": { "renderedLocation": physical(location.span) },
                        "logicalLocations": [{ "fullyQualifiedName": format!("{}/{}", object.display_name(), location.path), "kind": "member" }],
                    });
                    results.push(json!({
                        "ruleId": violation.check.id,
                        "ruleIndex": rule_index(violation.check.id),
                        "level": sarif_level(violation.severity()),
                        "message": { "text": format!("{} ({}: {} {})", violation.message(), object.display_name(), violation.mode.as_str(), violation.policy) },
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

/// `--suggest-level`: per namespace and per workload, the strictest level and version it passes.
pub fn write_suggestions(out: &mut impl Write, run: &Run) -> io::Result<()> {
    let mut namespaces: Vec<(String, Vec<(String, podsec_engine::Policy)>)> = Vec::new();
    for report in &run.reports {
        let (Some(text), Input::File(_) | Input::Stdin) = (&report.text, &report.input) else {
            continue;
        };
        for (namespace, name, policy) in suggest_levels(text, &Options::default()) {
            let namespace = namespace.unwrap_or_else(|| "(no namespace)".to_string());
            let entry = match namespaces.iter_mut().find(|(n, _)| *n == namespace) {
                Some(entry) => entry,
                None => {
                    namespaces.push((namespace, Vec::new()));
                    match namespaces.last_mut() {
                        Some(entry) => entry,
                        None => continue,
                    }
                }
            };
            entry
                .1
                .push((format!("{name} ({})", report.input.display()), policy));
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
    Ok(())
}

/// Orders policies by strictness (level, then version) for taking the weakest of a namespace.
fn strictness(policy: podsec_engine::Policy) -> (podsec_engine::Level, u32) {
    (policy.level, policy.version.evaluated_minor())
}
