//! `podsec check`: find the files, analyse them in parallel, print the verdicts.

use crate::Outcome;
use crate::output::{self, Format};
use podsec_engine::{Analysis, Level, Options, Policy, Version, analyze};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `podsec check` was asked to do.
#[derive(Debug)]
pub struct CheckArgs {
    pub policy: Policy,
    pub format: Format,
    pub paths: Vec<String>,
    /// `podsec fix --unsafe`.
    pub unsafe_fixes: bool,
    /// `podsec fix --diff`.
    pub diff: bool,
}

/// One input: a file from the command line or a directory walk, or standard input.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The name shown in output: the path as given or found, or `<stdin>`.
    pub fn display(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// The result for one input.
#[derive(Debug)]
pub struct FileReport {
    pub input: Input,
    /// The text, when it could be read.
    pub text: Option<String>,
    pub analysis: Analysis,
    /// Why the input could not be read.
    pub error: Option<String>,
}

/// Parses the options of `check`, or of `fix` (which adds `--unsafe` and `--diff` and has no `--format`).
pub fn parse_args(args: Vec<OsString>, fixing: bool) -> Result<CheckArgs, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut level = Level::Restricted;
    let mut version = Version::Latest;
    let mut format = Format::Text;
    let mut paths = Vec::new();
    let mut unsafe_fixes = false;
    let mut diff = false;
    let value_of = |parser: &mut lexopt::Parser| -> Result<String, String> {
        parser
            .value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "option values must be UTF-8".to_string())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("level") => level = Level::parse(&value_of(&mut parser)?).map_err(|e| e.to_string())?,
            Long("version") => {
                version = Version::parse(&value_of(&mut parser)?).map_err(|e| e.to_string())?
            }
            Long("unsafe") if fixing => unsafe_fixes = true,
            Long("diff") if fixing => diff = true,
            Long("format") if !fixing => {
                format = match value_of(&mut parser)?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    other => {
                        return Err(format!(
                            "invalid format {other:?}: must be one of text, json, sarif"
                        ));
                    }
                }
            }
            Value(path) => paths.push(path.to_string_lossy().into_owned()),
            Short('h') | Long("help") => return Err(crate::USAGE.to_string()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if paths.is_empty() {
        paths.push(".".to_string());
    }
    Ok(CheckArgs {
        policy: Policy::new(level, version),
        format,
        paths,
        unsafe_fixes,
        diff,
    })
}

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let args = parse_args(args, false)?;
    let (inputs, mut errors) = collect_inputs(&args.paths);
    let options = Options {
        policy: args.policy,
        ..Options::default()
    };
    let mut reports = analyze_all(&inputs, &options);
    reports.append(&mut errors);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let colour = args.format == Format::Text && output::colour_enabled();
    // A closed pipe (`podsec check | head`) is not an error worth reporting.
    let _ = output::write(&mut out, args.format, &reports, &options, colour);
    let _ = std::io::Write::flush(&mut out);
    Ok(outcome(&reports))
}

/// 2 when an input could not be read, 1 when anything was found, 0 otherwise.
pub fn outcome(reports: &[FileReport]) -> Outcome {
    if reports.iter().any(|r| r.error.is_some()) {
        Outcome::Error
    } else if reports.iter().any(|r| {
        !r.analysis.problems.is_empty() || r.analysis.objects.iter().any(|o| !o.violations.is_empty())
    }) {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Expands the command-line paths: files as given, directories walked recursively (sorted, hidden
/// entries and symbolic links to directories skipped). Paths that do not exist become error reports.
pub fn collect_inputs(paths: &[String]) -> (Vec<Input>, Vec<FileReport>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_seen = false;
    for path in paths {
        if path == "-" {
            if !stdin_seen {
                inputs.push(Input::Stdin);
                stdin_seen = true;
            }
            continue;
        }
        let path = PathBuf::from(path);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path)),
            Err(e) => errors.push(error_report(Input::File(path), e.to_string())),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<FileReport>) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(error_report(Input::File(dir.clone()), e.to_string()));
                continue;
            }
        };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => dirs.push(path),
                Ok(kind) if !kind.is_symlink() && is_yaml(&path) => files.push(path),
                Ok(kind) if kind.is_symlink() && path.is_file() && is_yaml(&path) => files.push(path),
                _ => {}
            }
        }
        files.sort();
        dirs.sort();
        inputs.extend(files.into_iter().map(Input::File));
        pending.extend(dirs.into_iter().rev());
    }
}

fn error_report(input: Input, error: String) -> FileReport {
    FileReport {
        input,
        text: None,
        analysis: Analysis::default(),
        error: Some(error),
    }
}

pub fn read_input(input: &Input) -> Result<String, String> {
    let bytes = match input {
        Input::File(path) => std::fs::read(path).map_err(|e| e.to_string())?,
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            bytes
        }
    };
    String::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
}

/// Reads and analyses every input on all cores; results come back in input order.
pub fn analyze_all(inputs: &[Input], options: &Options) -> Vec<FileReport> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<FileReport>> = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { break };
                        let report = match read_input(input) {
                            Ok(text) => FileReport {
                                input: input.clone(),
                                analysis: analyze(&text, options),
                                text: Some(text),
                                error: None,
                            },
                            Err(e) => error_report(input.clone(), e),
                        };
                        done.push((i, report));
                    }
                    done
                })
            })
            .collect();
        slots.resize_with(inputs.len(), || None);
        for handle in handles {
            // A worker that panicked loses only its own results; they are reported as errors below.
            for (i, report) in handle.join().unwrap_or_default() {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(report);
                }
            }
        }
    });
    slots
        .into_iter()
        .zip(inputs)
        .map(|(slot, input)| {
            slot.unwrap_or_else(|| error_report(input.clone(), "internal error".to_string()))
        })
        .collect()
}
