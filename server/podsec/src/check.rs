//! `podsec check`: its options, finding the files, and printing the verdicts as they are found.

use crate::Outcome;
use crate::output::{self, Format};
pub use crate::report::Input;
use crate::run::Run;
use podsec_engine::{Level, Policy, Version};
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `podsec check` was asked to do.
#[derive(Debug)]
pub struct CheckArgs {
    /// `--level`/`--version`, when either is given: overrides every other policy source.
    pub policy: Option<Policy>,
    /// `--config PATH`: the project file to use instead of looking for one.
    pub config: Option<PathBuf>,
    /// `--show-exempted`.
    pub show_exempted: bool,
    /// `--suggest-level`.
    pub suggest_level: bool,
    pub format: Format,
    pub paths: Vec<String>,
    /// `podsec fix --unsafe`.
    pub unsafe_fixes: bool,
    /// `podsec fix --diff`.
    pub diff: bool,
    /// `--max-file-size`, in bytes: a larger input is refused.
    pub max_file_size: u64,
    /// `--stdin-filename`: the name standard input has in the output.
    pub stdin_filename: Option<PathBuf>,
}

/// Parses the options of `check`, or of `fix` (which adds `--unsafe` and `--diff` and has no `--format`).
pub fn parse_args(args: Vec<OsString>, fixing: bool) -> Result<CheckArgs, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut level = None;
    let mut version = None;
    let mut config = None;
    let mut show_exempted = false;
    let mut suggest_level = false;
    let mut format = Format::Text;
    let mut paths = Vec::new();
    let mut unsafe_fixes = false;
    let mut diff = false;
    let mut max_file_size = crate::read::DEFAULT_MAX_FILE_SIZE;
    let mut stdin_filename = None;
    let value_of = |parser: &mut lexopt::Parser| -> Result<String, String> {
        parser
            .value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "option values must be UTF-8".to_string())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("level") => level = Some(Level::parse(&value_of(&mut parser)?).map_err(|e| e.to_string())?),
            Long("version") => {
                version = Some(Version::parse(&value_of(&mut parser)?).map_err(|e| e.to_string())?)
            }
            Long("config") => config = Some(PathBuf::from(value_of(&mut parser)?)),
            Long("max-file-size") => max_file_size = crate::read::parse_size(&value_of(&mut parser)?)?,
            Long("stdin-filename") => stdin_filename = Some(PathBuf::from(value_of(&mut parser)?)),
            Long("show-exempted") if !fixing => show_exempted = true,
            Long("suggest-level") if !fixing => suggest_level = true,
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
    let policy = (level.is_some() || version.is_some()).then(|| {
        Policy::new(
            level.unwrap_or(Level::Restricted),
            version.unwrap_or(Version::Latest),
        )
    });
    Ok(CheckArgs {
        policy,
        config,
        show_exempted,
        suggest_level,
        format,
        paths,
        unsafe_fixes,
        diff,
        max_file_size,
        stdin_filename,
    })
}

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let args = parse_args(args, false)?;
    let run = Run::prepare(&args)?;
    let mut out = crate::stdout::stdout();
    if args.suggest_level {
        let outcome = output::write_suggestions(&mut out, &run).map_err(crate::stdout::write_error)?;
        out.finish()?;
        return Ok(outcome);
    }
    let colour = args.format == Format::Text && output::colour_enabled();
    let tally = output::write(&mut out, &run, args.format, args.show_exempted, colour)
        .map_err(crate::stdout::write_error)?;
    out.finish()?;
    Ok(tally.outcome())
}

/// Runs `work` over `items` on all cores; results come back in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// A run with nothing to check says so on standard error (exit status unchanged): a mistyped directory
/// must not pass silently.
pub fn warn_no_yaml(paths: &[String], why: &str) {
    crate::stderr_line!("podsec: warning: {why} {}", paths.join(", "));
}

/// Expands the command-line paths: files as given, directories walked recursively (sorted, hidden
/// entries and symbolic links to directories skipped), each file once however often it is reached.
/// Paths that do not exist are returned with why. Standard input is named `stdin_name` if given.
pub fn collect_inputs(paths: &[String], stdin_name: Option<&Path>) -> (Vec<Input>, Vec<(Input, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_seen = false;
    for path in paths {
        if path == "-" {
            if !stdin_seen {
                inputs.push(Input::Stdin(stdin_name.map(Path::to_path_buf)));
                stdin_seen = true;
            }
            continue;
        }
        let path = PathBuf::from(path);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path)),
            Err(e) => errors.push((Input::File(path), e.to_string())),
        }
    }
    // The same file named twice, or reached again through a directory or a link, is checked once.
    let mut seen = HashSet::new();
    inputs.retain(|input| match input {
        Input::File(path) => seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
        Input::Stdin(_) => true,
    });
    let mut seen_errors = HashSet::new();
    errors.retain(|(input, _)| seen_errors.insert(input.display()));
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<(Input, String)>) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push((Input::File(dir.clone()), e.to_string()));
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
                // Regular files only (or links to one): reading a FIFO or a device found by a walk would
                // block or never end.
                Ok(kind) if kind.is_file() && is_yaml(&path) => files.push(path),
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

/// Reads one input as text, at most `max` bytes: a file of any kind named on the command line, or stdin.
pub fn read_input(input: &Input, max: u64) -> Result<String, String> {
    let bytes = match input {
        Input::File(path) => crate::read::read_file(path, max)?,
        Input::Stdin(_) => crate::read::read_stdin(max)?,
    };
    crate::read::utf8(bytes)
}
