//! `podsec fix`: applies the checks' fixes to files (atomically) or to standard input.

use crate::Outcome;
use crate::check::{Input, Run, parse_args};
use podsec_engine::config::Severity;
use podsec_engine::fix::fix_all;
use podsec_engine::text::LineIndex;
use podsec_engine::{Options, analyze};
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let args = parse_args(args, true)?;
    let run = Run::prepare(&args)?;
    let mut outcome = Outcome::Clean;
    let mut stdout = crate::stdout::stdout();
    let mut stderr = std::io::stderr().lock();
    for report in run.reports.iter().filter(|r| r.error.is_some()) {
        let _ = writeln!(
            stderr,
            "{}: error: {}",
            report.input.display(),
            report.error.as_deref().unwrap_or("")
        );
        outcome = Outcome::Error;
    }
    for ((report, context), namespace) in run.reports.iter().zip(&run.context_of).zip(&run.namespace_of) {
        let (input, Some(text)) = (&report.input, &report.text) else {
            continue;
        };
        let name = input.display();
        let options = Options {
            context: run.contexts.get(*context),
            namespace_override: namespace.as_deref(),
            ..Options::default()
        };
        let fixed = fix_all(text, &options, args.unsafe_fixes);
        if args.diff {
            if fixed.text != *text {
                let diff = similar::TextDiff::from_lines(text.as_str(), &fixed.text);
                write!(
                    stdout,
                    "{}",
                    diff.unified_diff().context_radius(3).header(&name, &name)
                )
                .map_err(crate::stdout::write_error)?;
            }
        } else if matches!(input, Input::Stdin) {
            stdout
                .write_all(fixed.text.as_bytes())
                .map_err(crate::stdout::write_error)?;
        } else if fixed.text != *text {
            if let Input::File(path) = input {
                if let Err(e) = write_atomically(path, &fixed.text) {
                    let _ = writeln!(stderr, "{name}: error: cannot write the fixed file: {e}");
                    outcome = Outcome::Error;
                    continue;
                }
            }
        }
        // Each file's output before its report on standard error, in order.
        stdout.flush().map_err(crate::stdout::write_error)?;
        if !fixed.applied.is_empty() {
            let verb = if args.diff { "would apply" } else { "applied" };
            let count = fixed.applied.len();
            let fixes = if count == 1 { "fix" } else { "fixes" };
            let _ = writeln!(stderr, "{name}: {verb} {count} {fixes}:");
            for title in &fixed.applied {
                let _ = writeln!(stderr, "  - {title}");
            }
        }
        // What is left needs a human: report it as `check` would, with why it was not fixed.
        let remaining = analyze(
            &fixed.text,
            &Options {
                with_fixes: true,
                ..options
            },
        );
        let index = LineIndex::new(&fixed.text);
        for problem in &remaining.problems {
            let at = index.line_column(&fixed.text, problem.span.start);
            let _ = writeln!(
                stderr,
                "{name}:{}:{}: {}: {}",
                at.line, at.column, problem.code, problem.message
            );
        }
        let mut left_over: Vec<_> = remaining
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .flat_map(|v| v.locations.iter().map(move |l| (l.span.start, v, l)))
            .collect();
        left_over.sort_by_key(|(start, _, _)| *start);
        for (start, violation, location) in left_over {
            let at = index.line_column(&fixed.text, start);
            let why = match &location.fix {
                Some(fix) => format!("unsafe fix available with --unsafe: {}", fix.title),
                None => "no automatic fix: needs a human".to_string(),
            };
            let _ = writeln!(
                stderr,
                "{name}:{}:{}: {}: {} [{why}]",
                at.line,
                at.column,
                violation.check.id,
                violation.message()
            );
        }
        let left = remaining.problems.iter().any(|p| p.severity == Severity::Error)
            || remaining
                .objects
                .iter()
                .flat_map(|o| &o.violations)
                .any(|v| v.severity() == Severity::Error);
        if left && outcome == Outcome::Clean {
            outcome = Outcome::Findings;
        }
    }
    stdout.finish()?;
    Ok(outcome)
}

/// Writes through a temporary file in the same directory and a rename, keeping the permissions, so
/// that a crash never leaves a half-written manifest.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.podsec-{}.tmp", std::process::id()));
    let permissions = std::fs::metadata(path)?.permissions();
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::set_permissions(&temporary, permissions)?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
