//! Text for people: `file:line:column: check-id: message`, grouped per object and closed by PSA's own
//! aggregated line, then one summary line.

use super::Printer;
use crate::report::{FileView, Part, Tally};
use crate::run::Parts;
use podsec_engine::policy::Severity;
use podsec_engine::{CheckViolation, Location, ObjectReport};
use std::io::{self, Write};

pub struct Text {
    style: Style,
    show_exempted: bool,
    /// `--quiet`: no summary line.
    quiet: bool,
}

impl Text {
    pub fn new(show_exempted: bool, colour: bool, quiet: bool) -> Self {
        Self {
            style: Style { on: colour },
            show_exempted,
            quiet,
        }
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

impl Printer for Text {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        let style = &self.style;
        let name = file.input.display();
        if let Some(error) = file.error {
            return writeln!(
                out,
                "{}: {} {error}",
                style.paint("1", &name),
                style.paint("31;1", "error:")
            );
        }
        for part in parts {
            self.part(out, file, &name, &part)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, tally: &Tally) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        writeln!(out, "{}", summary(tally, &self.style))
    }
}

impl Text {
    /// A part's lines: its notes and objects, in source order.
    fn part(&self, out: &mut dyn Write, file: &FileView<'_>, name: &str, part: &Part) -> io::Result<()> {
        let style = &self.style;
        let text = file.text.text.as_str();
        // The line index is built only for a file with something to print.
        let at = |offset: usize| {
            let at = file.text.lines().line_column(text, offset);
            style.paint("1", &format!("{name}:{}:{}", at.line, at.column))
        };
        let mut items: Vec<(usize, Item<'_>)> = Vec::new();
        items.extend(part.analysis.problems.iter().map(|p| {
            (
                p.span.start,
                Item::Note {
                    code: p.code,
                    severity: p.severity,
                    message: &p.message,
                },
            )
        }));
        items.extend(part.config_problems().map(|p| {
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
            part.analysis
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
                    if !object.fails() && (!self.show_exempted || object.exempted.is_empty()) {
                        continue;
                    }
                    // Within an object, findings read top to bottom; the summary lines keep PSA's order.
                    let mut findings: Vec<(&Location, &CheckViolation, Option<&str>)> = object
                        .violations
                        .iter()
                        .flat_map(|v| v.locations.iter().map(move |l| (l, v, None)))
                        .collect();
                    if self.show_exempted {
                        findings.extend(object.exempted.iter().flat_map(|(v, reason)| {
                            v.locations.iter().map(move |l| (l, v, Some(reason.as_str())))
                        }));
                    }
                    findings.sort_by_key(|(location, _, _)| location.span.start);
                    // Committed `helm template` output: where it is in this file, then the chart template it
                    // came from (which may not be in this repository).
                    let place = |start: usize| match &object.source {
                        Some(source) => format!("{} (from {})", at(start), style.paint("1", source)),
                        None => at(start),
                    };
                    // A finding a chart's values write: name the object it is in and how it was rendered.
                    let rendered_in = match (&object.rendered, object.verdict_elsewhere) {
                        (Some(how), true) => format!(" [{} rendered by {how}]", object.display_name()),
                        _ => String::new(),
                    };
                    for (location, violation, exempted) in findings {
                        let severity = violation.severity();
                        let prefix = match exempted {
                            Some(reason) => format!("exempted ({reason}): "),
                            None => severity_prefix(severity).to_string(),
                        };
                        writeln!(
                            out,
                            "{}: {}: {prefix}{}{rendered_in}",
                            place(location.span.start),
                            style.paint(style.severity(severity), violation.check.id),
                            violation.message_for(location)
                        )?;
                    }
                    if object.verdict_elsewhere {
                        continue;
                    }
                    let rendered = object
                        .rendered
                        .as_ref()
                        .map(|how| format!(", rendered by {how}"))
                        .unwrap_or_default();
                    let header = file.text.lines().line_column(text, object.header.start);
                    for (mode, message) in object.messages() {
                        let source = object
                            .line_source(mode)
                            .map(|s| format!(" [{s}]"))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "  {} {} ({name}:{}:{}{rendered}): {message}{source}",
                            style.paint("36", "="),
                            object.display_name(),
                            header.line,
                            header.column,
                        )?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The text summary line alone, for the terminal while `--output-file` takes the output.
pub fn summary_line(tally: &Tally, colour: bool) -> String {
    summary(tally, &Style { on: colour })
}

/// The last line of the text output: what was found, in how many objects and files, against which policy.
fn summary(tally: &Tally, style: &Style) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let counts = &tally.findings;
    let findings = counts.total();
    if tally.checked == 0 && findings + tally.unreadable == 0 {
        return "No YAML file checked.".to_string();
    }
    let policy = match tally.policies.as_slice() {
        [one] => one.clone(),
        _ => "their policies".to_string(),
    };
    let checked = plural(tally.checked, "file checked", "files checked");
    // A controller-owned Pod's findings that its Deployment reports too are no exemption: said apart.
    let mut exempted = String::new();
    let exempted_only = tally.exempted_checked - tally.on_owners.min(tally.exempted_checked);
    if exempted_only > 0 {
        exempted.push_str(&format!(
            ", {} exempted",
            plural(exempted_only, "finding", "findings")
        ));
    }
    if tally.on_owners > 0 {
        exempted.push_str(&format!(
            ", {} of owned objects reported on their owners",
            plural(tally.on_owners, "finding", "findings")
        ));
    }
    let mut line = if findings > 0 {
        let mut parts = vec![plural(counts.errors, "error", "errors")];
        if counts.warnings > 0 {
            parts.push(plural(counts.warnings, "warning", "warnings"));
        }
        if counts.notes > 0 {
            parts.push(plural(counts.notes, "note", "notes"));
        }
        // Document and policy-file problems belong to no object.
        let failing = tally.failing;
        let in_objects = if failing > 0 {
            format!(" in {}", plural(failing, "object", "objects"))
        } else {
            String::new()
        };
        let against = if tally.policies.is_empty() {
            String::new()
        } else {
            format!(" against {policy}")
        };
        format!(
            "Found {}{in_objects} ({checked}{against}{exempted})",
            parts.join(", ")
        )
    } else if tally.objects > 0 {
        let objects = plural(
            tally.objects,
            "pod-bearing object passes",
            "pod-bearing objects pass",
        );
        format!("{objects} {policy} ({checked}{exempted})")
    } else {
        format!("No pod-bearing objects found ({checked})")
    };
    if tally.unreadable > 0 {
        line.push_str(&format!(
            "; {}",
            plural(
                tally.unreadable,
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
