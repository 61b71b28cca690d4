//! JUnit XML for CI test reports, as Jenkins' JUnit plugin and GitLab read it: one `<testsuite>` per file,
//! one `<testcase>` per pod-bearing object (passing, or failing with exactly one `<failure>` that lists
//! every finding), and one per document or policy-source problem. Suites (as junit-10.xsd, the schema of
//! Jenkins' xUnit plugin, has it) and cases (as GitLab reads it) carry a `file` attribute; cases are
//! named without lines, so a case keeps its name when lines move. A suite's counts open its element, so a
//! file's cases are held until the file ends: never more.

use super::{Finding, Printer, findings, region};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::policy::Severity;
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct Junit;

/// Text for an XML attribute or element: the five entities escaped, and the characters XML 1.0 cannot
/// hold at all (control characters but tab and line breaks) dropped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A file's test cases, held until the file ends (its suite's counts open the suite's element).
#[derive(Default)]
struct Cases<'a> {
    /// The file's name, escaped.
    file: &'a str,
    xml: String,
    tests: usize,
    failures: usize,
    skipped: usize,
}

impl Cases<'_> {
    /// A case, failing with `(message, type, text)` or passing. Each case has at most one `<failure>`
    /// (Jenkins and GitLab read only one): its text lists every finding as `file:line:column: …`.
    fn case(&mut self, name: &str, failing: Option<(String, String, String)>) {
        self.tests += 1;
        let file = self.file;
        let _ = write!(
            self.xml,
            "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\"",
            escape(name)
        );
        match failing {
            Some((message, kind, text)) => {
                self.failures += 1;
                let _ = writeln!(
                    self.xml,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(&message),
                    escape(&kind),
                    escape(&text)
                );
            }
            None => self.xml.push_str("/>\n"),
        }
    }

    /// A case not checked (an object exempt as a whole), with the reason.
    fn skipped(&mut self, name: &str, why: &str) {
        self.tests += 1;
        self.skipped += 1;
        let file = self.file;
        let _ = writeln!(
            self.xml,
            "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\">\n      <skipped message=\"{}\"/>\n    </testcase>",
            escape(name),
            escape(why)
        );
    }
}

impl Printer for Junit {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"podsec\">\n")
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        // The failure's text is escaped whole: its lines name the file as written.
        let display = file.input.display();
        let name = escape(&display);
        if let Some(error) = file.error {
            return writeln!(
                out,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" file=\"{name}\">\n    <testcase name=\"read\" classname=\"{name}\" file=\"{name}\">\n      <error message=\"{}\" type=\"unreadable\"/>\n    </testcase>\n  </testsuite>",
                escape(error)
            );
        }
        let mut cases = Cases {
            file: &name,
            ..Cases::default()
        };
        let text = &file.text.text;
        let at = |span: podsec_engine::Span| region(text, file.text.lines(), span).start;
        for part in parts {
            let found = findings(&part);
            // A problem's case is named by its code and document (or message): never by its line.
            let problems = part
                .analysis
                .problems
                .iter()
                .map(|p| {
                    (
                        format!("{} in document {}", p.code, p.document + 1),
                        p.code,
                        p.severity,
                        &p.message,
                        p.span,
                    )
                })
                .chain(part.config_problems().map(|p| {
                    (
                        format!("{}: {}", p.code, p.message),
                        p.code,
                        p.severity,
                        &p.message,
                        p.span,
                    )
                }));
            let problems = problems.filter(|(_, _, severity, _, _)| super::reported_in_ci(*severity));
            for (case_name, code, severity, message, span) in problems {
                let failing = (severity == Severity::Error).then(|| {
                    let start = at(span);
                    let body = format!("{display}:{}:{}: {message}", start.line, start.column);
                    (message.clone(), code.to_string(), body)
                });
                cases.case(&case_name, failing);
            }
            for object in &part.analysis.objects {
                if let Some(why) = &object.exempt {
                    cases.skipped(&crate::report::object_identity(object), why);
                    continue;
                }
                // Only errors fail a case: warn and audit findings are PSA's warnings, not rejections.
                let own: Vec<&Finding<'_>> = found
                    .iter()
                    .filter(|f| f.object.is_some_and(|(o, _, _)| std::ptr::eq(o, object)))
                    .filter(|f| f.severity == Severity::Error)
                    .collect();
                let failing = (!own.is_empty()).then(|| {
                    let mut checks: Vec<&str> = Vec::new();
                    let mut body = String::new();
                    for finding in &own {
                        if !checks.contains(&finding.code) {
                            checks.push(finding.code);
                        }
                        let start = at(finding.span);
                        let _ = writeln!(
                            body,
                            "{display}:{}:{}: {}: {}",
                            start.line, start.column, finding.code, finding.message
                        );
                    }
                    // PSA's sentence for the object (the enforce mode's, as kubectl prints it).
                    (object.warning(), checks.join(", "), body)
                });
                cases.case(&crate::report::object_identity(object), failing);
            }
        }
        write!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" file=\"{name}\">\n{}  </testsuite>\n",
            cases.tests, cases.failures, cases.skipped, cases.xml
        )
    }

    fn finish(&mut self, out: &mut dyn Write, _tally: &Tally) -> io::Result<()> {
        out.write_all(b"</testsuites>\n")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            super::escape("a<b>&\"c\"'\u{1}\t"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;\t"
        );
    }
}
