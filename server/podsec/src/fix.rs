//! `podsec fix`: applies the checks' fixes to files (atomically where that is safe) or to standard input.

use crate::Outcome;
use crate::cli::{FixCommand, FixFormat};
use crate::inputs::{Input, RunArgs};
use crate::run::Run;
use podsec_engine::fix_all::fix_all_except;
use podsec_engine::policy::Severity;
use podsec_engine::text::LineIndex;
use podsec_engine::{Options, analyze};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, ErrorKind, Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What `fix` did to one file and what is left, for its report (text on standard error, or JSON).
struct FileReport {
    name: String,
    /// The titles of the fixes applied (or, with `--diff`, that would be).
    applied: Vec<String>,
    /// What is left: `(line, column, code, message, why it was not fixed)`; documents that do not parse
    /// and invalid objects have no why.
    left: Vec<(usize, usize, &'static str, String, Option<String>)>,
    /// Whether something left is an error (what `check` would fail on).
    errors_left: bool,
}

pub fn run(args: FixCommand) -> Result<Outcome, String> {
    let json_output = args.output_format == FixFormat::Json;
    if json_output && args.diff {
        return Err(
            "--output-format json reports what was written: it cannot be combined with --diff".to_string(),
        );
    }
    let run = Run::prepare(&RunArgs::new(&args.inputs, &args.policy, args.verbose))?;
    if json_output && run.inputs.iter().any(|i| matches!(i, Input::Stdin(_))) {
        return Err(
            "podsec fix - prints the fixed text on standard output: --output-format json needs files"
                .to_string(),
        );
    }
    let mut outcome = Outcome::Clean;
    let mut errors = 0;
    let mut stdout = crate::stdout::stdout();
    let mut stderr = std::io::stderr().lock();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut unreadable_files: Vec<(String, String)> = Vec::new();
    // What cannot be read is said first, then each file is fixed in turn.
    let unreadable = run
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| run.read_error(index).map(|e| (input, e.to_string())))
        .chain(run.missing.iter().map(|(input, error)| (input, error.clone())));
    for (input, error) in unreadable {
        unreadable_files.push((input.display(), error));
    }
    for (index, input) in run.inputs.iter().enumerate() {
        if run.read_error(index).is_some() {
            continue;
        }
        let text = match run.text(index) {
            Ok(text) => text,
            Err(e) => {
                unreadable_files.push((input.display(), e.to_string()));
                continue;
            }
        };
        let text: &String = &text;
        let name = input.display();
        // A patch is not an object: its fixes would be written for a pod it is not.
        if let Some(why) = run.overlays.patch_why(input) {
            if !json_output && !args.quiet {
                let _ = writeln!(stderr, "{name}: {why}");
            }
            continue;
        }
        let options = run.options(index);
        let fixed = fix_all_except(text, &options, args.unsafe_fixes, &args.ignore);
        if args.diff {
            if fixed.text != *text {
                let diff = similar::TextDiff::from_lines(text.as_str(), &fixed.text);
                // git's prefixes, so that `git apply` (and `patch -p1`) take the diff as it is.
                let path = diff_path(&name);
                let (old, new) = (format!("a/{path}"), format!("b/{path}"));
                write!(
                    stdout,
                    "{}",
                    diff.unified_diff().context_radius(3).header(&old, &new)
                )
                .map_err(crate::stdout::write_error)?;
                // A CI gate: a diff to apply is a failure (and only a diff: what no fix changes is `check`'s).
                if outcome == Outcome::Clean {
                    outcome = Outcome::Findings;
                }
            }
        } else if matches!(input, Input::Stdin(_)) {
            stdout
                .write_all(fixed.text.as_bytes())
                .map_err(crate::stdout::write_error)?;
        } else if fixed.text != *text {
            if let Input::File(path) = input {
                if let Err(e) = write_fixed(path, &fixed.text) {
                    unreadable_files.push((name, format!("cannot write the fixed file: {e}")));
                    continue;
                }
            }
        }
        // Each file's output before its report on standard error, in order.
        stdout.flush().map_err(crate::stdout::write_error)?;
        // With `--diff` the file keeps its text: what is left is reported at the lines the user sees.
        let original = args.diff.then_some(text.as_str());
        let report = file_report(name, &fixed, original, &options, &args.ignore);
        if report.errors_left && !args.diff && outcome == Outcome::Clean {
            outcome = Outcome::Findings;
        }
        if !json_output && !args.quiet {
            print_report(&mut stderr, &report, args.diff);
        }
        reports.push(report);
    }
    for (name, error) in &unreadable_files {
        errors += 1;
        if !json_output {
            let _ = writeln!(stderr, "{name}: error: {error}");
        }
    }
    if errors > 0 {
        outcome = Outcome::Error;
    }
    if json_output {
        let document = json_report(&reports, &unreadable_files, args.unsafe_fixes);
        serde_json::to_writer_pretty(&mut stdout, &document).map_err(|e| e.to_string())?;
        writeln!(stdout).map_err(crate::stdout::write_error)?;
    } else if !args.quiet && !reports.is_empty() {
        let _ = writeln!(stderr, "{}", summary(&reports, errors, args.diff));
    }
    stdout.finish()?;
    if args.exit_zero && outcome == Outcome::Findings {
        outcome = Outcome::Clean;
    }
    Ok(outcome)
}

/// What was fixed in a file and what is left, analysed again after the fixes as `check` would; at the
/// positions of `original` when given (`--diff`, which writes nothing), else of the fixed text.
fn file_report(
    name: String,
    fixed: &podsec_engine::fix_all::FixAll,
    original: Option<&str>,
    options: &Options<'_>,
    ignore: &[String],
) -> FileReport {
    let remaining = analyze(
        &fixed.text,
        &Options {
            with_fixes: true,
            ..*options
        },
    );
    let mapping = original.map(|original| (original, PositionMap::new(original, &fixed.text)));
    let (shown, index) = match &mapping {
        Some((original, _)) => (*original, LineIndex::new(original)),
        None => (fixed.text.as_str(), LineIndex::new(&fixed.text)),
    };
    let line_column = |offset: usize| {
        let offset = mapping
            .as_ref()
            .map_or(offset, |(_, map)| map.original_offset(offset));
        let at = index.line_column(shown, offset);
        (at.line, at.column)
    };
    let mut left = Vec::new();
    for problem in &remaining.problems {
        let (line, column) = line_column(problem.span.start);
        left.push((line, column, problem.code, problem.message.clone(), None));
    }
    let ignored = |v: &&podsec_engine::CheckViolation| ignore.iter().any(|id| id == v.check.id);
    let mut left_over: Vec<_> = remaining
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .filter(|v| !ignored(v))
        .flat_map(|v| v.locations.iter().map(move |l| (l.span.start, v, l)))
        .collect();
    left_over.sort_by_key(|(start, _, _)| *start);
    for (start, violation, location) in left_over {
        let (line, column) = line_column(start);
        let why = match &location.fix {
            Some(fix) => format!("unsafe fix available with --unsafe: {}", fix.title),
            None => "no automatic fix: needs a human".to_string(),
        };
        left.push((
            line,
            column,
            violation.check.id,
            violation.message_for(location),
            Some(why),
        ));
    }
    let errors_left = remaining.problems.iter().any(|p| p.severity == Severity::Error)
        || remaining
            .objects
            .iter()
            .flat_map(|o| &o.violations)
            .filter(|v| !ignored(v))
            .any(|v| v.severity() == Severity::Error);
    FileReport {
        name,
        applied: fixed.applied.clone(),
        left,
        errors_left,
    }
}

/// Byte offsets of a fixed text taken back to the original it was fixed from: lines the fixes left alone
/// move by what was inserted or removed above them; within the lines a fix changed, bytes it kept map to
/// themselves and bytes it wrote to where it wrote them.
struct PositionMap {
    /// Runs of the fixed text, in order: `(fixed range, original range, equal)` in bytes. A run of
    /// changed lines is cut into runs of bytes, compared.
    runs: Vec<(Range<usize>, Range<usize>, bool)>,
}

impl PositionMap {
    fn new(original: &str, fixed: &str) -> Self {
        let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (
            original.split_inclusive('\n').collect(),
            fixed.split_inclusive('\n').collect(),
        );
        let starts = |lines: &[&str]| -> Vec<usize> {
            let mut starts = Vec::with_capacity(lines.len() + 1);
            let mut at = 0;
            starts.push(at);
            for line in lines {
                at += line.len();
                starts.push(at);
            }
            starts
        };
        let (old_starts, new_starts) = (starts(&old_lines), starts(&new_lines));
        let bytes = |starts: &[usize], lines: Range<usize>| {
            starts.get(lines.start).copied().unwrap_or(0)..starts.get(lines.end).copied().unwrap_or(0)
        };
        let mut runs = Vec::new();
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines) {
            let (tag, old, new) = op.as_tag_tuple();
            let (old, new) = (bytes(&old_starts, old), bytes(&new_starts, new));
            if tag == similar::DiffTag::Equal {
                runs.push((new, old, true));
                continue;
            }
            let (Some(old_bytes), Some(new_bytes)) = (
                original.as_bytes().get(old.clone()),
                fixed.as_bytes().get(new.clone()),
            ) else {
                continue;
            };
            for op in similar::capture_diff_slices(similar::Algorithm::Myers, old_bytes, new_bytes) {
                let (tag, o, n) = op.as_tag_tuple();
                let shift = |r: Range<usize>, by: usize| r.start + by..r.end + by;
                runs.push((
                    shift(n, new.start),
                    shift(o, old.start),
                    tag == similar::DiffTag::Equal,
                ));
            }
        }
        Self { runs }
    }

    fn original_offset(&self, fixed_offset: usize) -> usize {
        match self.runs.iter().find(|(new, _, _)| new.contains(&fixed_offset)) {
            Some((new, old, true)) => old.start + (fixed_offset - new.start),
            // Written by a fix: where it was written.
            Some((_, old, false)) => old.start,
            None => self.runs.last().map_or(fixed_offset, |(_, old, _)| old.end),
        }
    }
}

/// A file's report on standard error: the fixes, then what is left with why it was not fixed.
fn print_report(stderr: &mut impl Write, report: &FileReport, diff: bool) {
    let name = &report.name;
    if !report.applied.is_empty() {
        let verb = if diff { "would apply" } else { "applied" };
        let count = report.applied.len();
        let fixes = if count == 1 { "fix" } else { "fixes" };
        let _ = writeln!(stderr, "{name}: {verb} {count} {fixes}:");
        for title in &report.applied {
            let _ = writeln!(stderr, "  - {title}");
        }
    }
    for (line, column, code, message, why) in &report.left {
        let why = why.as_ref().map(|w| format!(" [{w}]")).unwrap_or_default();
        let _ = writeln!(stderr, "{name}:{line}:{column}: {code}: {message}{why}");
    }
}

/// The last line: `Applied 5 fixes in 2 files; 3 findings left in 1 file.`
fn summary(reports: &[FileReport], errors: usize, diff: bool) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let fixes: usize = reports.iter().map(|r| r.applied.len()).sum();
    let changed = reports.iter().filter(|r| !r.applied.is_empty()).count();
    let left: usize = reports.iter().map(|r| r.left.len()).sum();
    let files_left = reports.iter().filter(|r| !r.left.is_empty()).count();
    let verb = if diff { "Would apply" } else { "Applied" };
    let mut line = if fixes == 0 {
        format!("No fix to apply ({})", plural(reports.len(), "file", "files"))
    } else {
        format!(
            "{verb} {} in {}",
            plural(fixes, "fix", "fixes"),
            plural(changed, "file", "files")
        )
    };
    if left > 0 {
        line.push_str(&format!(
            "; {} left in {}",
            plural(left, "finding", "findings"),
            plural(files_left, "file", "files")
        ));
    }
    if errors > 0 {
        line.push_str(&format!(
            "; {}",
            plural(
                errors,
                "file could not be read or written",
                "files could not be read or written"
            )
        ));
    }
    line.push('.');
    line
}

/// `--output-format json`: `{"version": 1, "files": [{"path", "applied", "left": [{"line", "column",
/// "code", "message", "why"}], "error"}], "summary": {…}}`.
fn json_report(
    reports: &[FileReport],
    unreadable: &[(String, String)],
    unsafe_fixes: bool,
) -> serde_json::Value {
    use serde_json::json;
    let mut files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            json!({
                "path": r.name,
                "applied": r.applied,
                "left": r.left.iter().map(|(line, column, code, message, why)| json!({
                    "line": line, "column": column, "code": code, "message": message, "why": why,
                })).collect::<Vec<_>>(),
                "error": null,
            })
        })
        .collect();
    files.extend(
        unreadable
            .iter()
            .map(|(path, error)| json!({ "path": path, "applied": [], "left": [], "error": error })),
    );
    json!({
        "version": 1,
        "unsafe": unsafe_fixes,
        "files": files,
        "summary": {
            "files": files.len(),
            "files_changed": reports.iter().filter(|r| !r.applied.is_empty()).count(),
            "applied": reports.iter().map(|r| r.applied.len()).sum::<usize>(),
            "left": reports.iter().map(|r| r.left.len()).sum::<usize>(),
            "errors_left": reports.iter().filter(|r| r.errors_left).count(),
            "unreadable": unreadable.len(),
        },
    })
}

/// A file's name in a diff's headers, after git's `a/` and `b/`: relative to the working directory (an
/// absolute path below it is made relative, one elsewhere loses its leading `/`), without `./`.
fn diff_path(name: &str) -> String {
    let relative = crate::project::relative_to_cwd(Path::new(name));
    let text = relative.to_string_lossy();
    let text = text.trim_start_matches('/');
    text.strip_prefix("./").unwrap_or(text).to_string()
}

/// Writes a fixed file without changing what the file is. The default is atomic replacement (a temporary
/// file beside it, then a rename), so that a crash never leaves half a manifest; where a rename would alter
/// the file, it is rewritten in place instead:
/// - a symbolic link is followed: the target is rewritten and the link stays a link;
/// - a file with several hard links is rewritten in place, so that every name sees the fix;
/// - a replacement gets the file's mode and owner; when the owner cannot be given to it (the user is not
///   root), the file is rewritten in place.
///
/// It refuses, leaving the file unchanged, a file the user may not write (a rename would bypass the
/// file's own permissions) and a file whose directory is not writable (no temporary file can be made).
fn write_fixed(path: &Path, text: &str) -> Result<(), String> {
    let unchanged = |why: String| format!("{why}; the file is unchanged");
    let target = std::fs::canonicalize(path).map_err(|e| unchanged(e.to_string()))?;
    let metadata = std::fs::metadata(&target).map_err(|e| unchanged(e.to_string()))?;
    if !metadata.is_file() {
        return Err(unchanged(
            "not a regular file (fix it through standard input: podsec fix - < FILE)".to_string(),
        ));
    }
    // Opening for writing (without truncating) asks the file's own permissions.
    let mut file = OpenOptions::new()
        .write(true)
        .open(&target)
        .map_err(|e| unchanged(format!("the file is not writable: {e}")))?;
    if metadata.nlink() > 1 {
        return write_in_place(&mut file, text).map_err(|e| e.to_string());
    }
    let directory = target.parent().unwrap_or(Path::new("."));
    match replace(&target, directory, &metadata, text) {
        Ok(Replacement::Done) => Ok(()),
        Ok(Replacement::OwnerNotKept) => write_in_place(&mut file, text).map_err(|e| e.to_string()),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Err(unchanged(format!(
            "the directory {} is not writable (atomic replacement needs a temporary file beside it)",
            directory.display()
        ))),
        Err(e) => Err(unchanged(e.to_string())),
    }
}

/// How an atomic replacement ended.
enum Replacement {
    Done,
    /// The temporary file could not be given the file's owner: it was removed and nothing was replaced.
    OwnerNotKept,
}

/// Replaces `target` by a temporary file in `directory` holding `text`, with the original's owner and mode.
fn replace(target: &Path, directory: &Path, original: &Metadata, text: &str) -> io::Result<Replacement> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temporary, mut file) = create_temporary(directory, &name)?;
    let result = (|| {
        let ours = file.metadata()?;
        if (ours.uid(), ours.gid()) != (original.uid(), original.gid()) {
            match std::os::unix::fs::fchown(&file, Some(original.uid()), Some(original.gid())) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::PermissionDenied => return Ok(Replacement::OwnerNotKept),
                Err(e) => return Err(e),
            }
        }
        // After the owner: changing the owner clears set-user-ID and set-group-ID bits.
        file.set_permissions(original.permissions())?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, target)?;
        Ok(Replacement::Done)
    })();
    if !matches!(result, Ok(Replacement::Done)) {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// A new temporary file beside the target, readable by the user only until it gets the target's mode.
fn create_temporary(directory: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let path = directory.join(format!(".{name}.podsec-{}-{attempt}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            // Left over by a crashed run with the same process ID.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Overwrites the file from its start and cuts it to the new length: not atomic, but the same inode.
fn write_in_place(file: &mut File, text: &str) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.set_len(text.len() as u64)?;
    file.sync_all()
}
