//! GitHub Actions workflow commands: one `::error`, `::warning` or `::notice` line per finding, which
//! GitHub shows as an annotation on the pull request's diff. Nothing else is printed.

use super::{Finding, Printer, ci_findings, region};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::policy::Severity;
use std::io::{self, Write};

pub struct Github;

/// A command's message, escaped as the Actions toolkit's `escapeData` does.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value (`file=`, `title=`), escaped as `escapeProperty` does: the data escapes, and the
/// separators `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "notice",
    }
}

impl Printer for Github {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        let name = escape_property(&file.input.display());
        if let Some(error) = file.error {
            return writeln!(
                out,
                "::error file={name},title={}::{}",
                escape_property("podsec (unreadable)"),
                escape_data(error)
            );
        }
        for part in parts {
            for Finding {
                code,
                severity,
                message,
                span,
                ..
            } in ci_findings(&part)
            {
                let at = region(&file.text.text, file.text.lines(), span);
                writeln!(
                    out,
                    "::{} file={name},line={},col={},endLine={},endColumn={},title={}::{}",
                    command(severity),
                    at.start.line,
                    at.start.column,
                    at.end.line,
                    at.end.column,
                    escape_property(&format!("podsec ({code})")),
                    escape_data(&message)
                )?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write, _tally: &Tally) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_the_actions_toolkit_does() {
        assert_eq!(escape_data("50% of a\r\nb: c, d"), "50%25 of a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
