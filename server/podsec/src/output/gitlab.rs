//! GitLab's Code Quality report: a JSON array of issues (`description`, `check_name`, `fingerprint`,
//! `severity`, `location.path` and `location.lines.begin`), written an issue at a time.

use super::{Printer, ci_findings, stable_fingerprint};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::Level;
use podsec_engine::policy::Severity;
use serde_json::json;
use std::io::{self, Write};

#[derive(Default)]
pub struct Gitlab {
    issues: usize,
}

/// Code Quality's severity: an enforced baseline check (privileged containers, host namespaces) is
/// critical, an enforced restricted one major, as SARIF's security-severity ranks them; warnings are
/// minor, audit findings info.
fn severity(severity: Severity, level: Option<Level>) -> &'static str {
    match (severity, level) {
        (Severity::Error, Some(Level::Restricted) | None) => "major",
        (Severity::Error, Some(_)) => "critical",
        (Severity::Warning, _) => "minor",
        (Severity::Information, _) => "info",
    }
}

impl Gitlab {
    fn issue(&mut self, out: &mut dyn Write, issue: &serde_json::Value) -> io::Result<()> {
        out.write_all(if self.issues == 0 { b"\n  " } else { b",\n  " })?;
        self.issues += 1;
        serde_json::to_writer(&mut *out, issue)?;
        Ok(())
    }
}

impl Printer for Gitlab {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"[")
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        let path = file.input.display();
        if let Some(error) = file.error {
            let issue = json!({
                "description": format!("cannot read the file: {error}"),
                "check_name": "unreadable",
                "fingerprint": crate::report::fingerprint(&[&path, "unreadable"]),
                "severity": "blocker",
                "location": { "path": path, "lines": { "begin": 1 } },
            });
            return self.issue(out, &issue);
        }
        for part in parts {
            for finding in ci_findings(&part) {
                let line = file
                    .text
                    .lines()
                    .line_column(&file.text.text, finding.span.start)
                    .line;
                let level = finding.object.map(|(_, violation, _)| violation.check.level);
                let issue = json!({
                    "description": format!("{}: {}", finding.code, finding.message),
                    "check_name": finding.code,
                    "fingerprint": stable_fingerprint(&path, &finding),
                    "severity": severity(finding.severity, level),
                    "location": { "path": path, "lines": { "begin": line } },
                });
                self.issue(out, &issue)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _tally: &Tally) -> io::Result<()> {
        out.write_all(if self.issues == 0 { b"]\n" } else { b"\n]\n" })
    }
}
