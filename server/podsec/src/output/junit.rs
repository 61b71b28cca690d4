//! JUnit XML for CI test reports: one `<testsuite>` per file, one `<testcase>` per pod-bearing object
//! (passing, or failing with a `<failure>` per finding), and one per document or policy-source problem.
//! A suite's counts open its element, so a file's cases are held until the file ends: never more.

use super::{Printer, findings, region};
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

impl Printer for Junit {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"podsec\">\n")
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        let name = escape(&file.input.display());
        if let Some(error) = file.error {
            return writeln!(
                out,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"read\" classname=\"{name}\">\n      <error message=\"{}\"/>\n    </testcase>\n  </testsuite>",
                escape(error)
            );
        }
        let (mut cases, mut tests, mut failures) = (String::new(), 0, 0);
        let text = &file.text.text;
        for part in parts {
            let found = findings(&part);
            for finding in found.iter().filter(|f| f.object.is_none()) {
                let at = file.text.lines().line_column(text, finding.span.start);
                let case = escape(&format!("{} at {}:{}", finding.code, at.line, at.column));
                tests += 1;
                let _ = write!(cases, "    <testcase name=\"{case}\" classname=\"{name}\"");
                if finding.severity == Severity::Error {
                    failures += 1;
                    let _ = writeln!(
                        cases,
                        ">\n      <failure message=\"{}\" type=\"{}\"/>\n    </testcase>",
                        escape(&finding.message),
                        finding.code
                    );
                } else {
                    cases.push_str("/>\n");
                }
            }
            for object in &part.analysis.objects {
                tests += 1;
                let header = file.text.lines().line_column(text, object.header.start);
                let case = escape(&format!(
                    "{} at {}:{}",
                    object.display_name(),
                    header.line,
                    header.column
                ));
                let _ = write!(cases, "    <testcase name=\"{case}\" classname=\"{name}\"");
                if let Some(why) = &object.exempt {
                    let _ = writeln!(
                        cases,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(why)
                    );
                    continue;
                }
                // Only errors fail a case: warn and audit findings are PSA's warnings, not rejections.
                let own: Vec<_> = found
                    .iter()
                    .filter(|f| f.object.is_some_and(|(o, _, _)| std::ptr::eq(o, object)))
                    .filter(|f| f.severity == Severity::Error)
                    .collect();
                if own.is_empty() {
                    cases.push_str("/>\n");
                    continue;
                }
                failures += 1;
                cases.push_str(">\n");
                for finding in own {
                    let at = region(text, file.text.lines(), finding.span);
                    let _ = writeln!(
                        cases,
                        "      <failure message=\"{}\" type=\"{}\">{name}:{}:{}</failure>",
                        escape(&finding.message),
                        finding.code,
                        at.start.line,
                        at.start.column,
                    );
                }
                cases.push_str("    </testcase>\n");
            }
        }
        write!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n{cases}  </testsuite>\n"
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
