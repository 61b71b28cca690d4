//! Finding a run's inputs: what `check`, `fix`, `export` and `psp` share of the command line (`RunArgs`),
//! the directory walk on the ignore crate, and reading an input within `--max-file-size`.

use crate::cli::{InputArgs, PolicyArgs};
pub use crate::report::Input;
use podsec_engine::{Level, Policy, Version};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What a run needs to find its inputs and their policy: the part of the command line `check` and `fix`
/// share.
#[derive(Debug)]
pub struct RunArgs {
    /// `--level` (at `--policy-version`, else latest): overrides every other policy source.
    pub policy: Option<Policy>,
    /// `--policy-version` without `--level`: the version of every level the policy sources resolve.
    pub policy_version: Option<Version>,
    /// `--config PATH`: the project file to use instead of looking for one.
    pub config: Option<PathBuf>,
    pub paths: Vec<String>,
    /// `--max-file-size`, in bytes: a larger input is refused.
    pub max_file_size: u64,
    /// `--stdin-filename`: the name standard input has in the output, and where its policy is looked up.
    pub stdin_filename: Option<PathBuf>,
    pub walk: WalkOptions,
    /// `--ignore`: the checks exempted for this run.
    pub ignore: Vec<String>,
    /// How charts are rendered (`podsec check`); none: charts are read statically.
    pub render: Option<crate::charts::RenderSettings>,
}

/// How directories are walked.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// Skip what `.gitignore` (inside a git repository), `.ignore` and git's excludes name.
    pub respect_ignore_files: bool,
    /// Say on standard error what a walk skipped and why.
    pub verbose: bool,
    /// The largest file read (`--max-file-size`): a walk reads a `*.json` file to tell a manifest.
    pub max_file_size: u64,
    /// `--hidden`: walk hidden files and directories too (`.deploy/`), as ripgrep's `--hidden` does.
    pub hidden: bool,
}

impl RunArgs {
    pub fn new(inputs: &InputArgs, policy: &PolicyArgs, verbose: bool) -> Self {
        let paths = if inputs.stdin_filename.is_some() {
            stdin_path_arguments(&inputs.paths)
        } else {
            path_arguments(&inputs.paths)
        };
        // Each flag changes only what it names: `--level` the level everywhere, `--policy-version` alone the
        // version of whatever level each namespace resolves to.
        let override_policy = policy.level.map(|level| {
            Policy::new(
                Level::from(level),
                policy.policy_version.unwrap_or(Version::Latest),
            )
        });
        Self {
            policy: override_policy,
            policy_version: policy.policy_version.filter(|_| policy.level.is_none()),
            config: policy.config.clone(),
            paths,
            max_file_size: inputs.max_file_size,
            stdin_filename: inputs.stdin_filename.clone(),
            walk: WalkOptions {
                respect_ignore_files: !inputs.no_ignore,
                verbose,
                max_file_size: inputs.max_file_size,
                hidden: inputs.hidden,
            },
            ignore: Vec::new(),
            render: None,
        }
    }
}

/// The paths with `--stdin-filename`, which reads standard input as ruff's does: `-` alone when no path
/// is `-` (the other paths are ignored, with a warning), else the paths as given.
fn stdin_path_arguments(paths: &[PathBuf]) -> Vec<String> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return path_arguments(paths);
    }
    for path in paths {
        crate::stderr_line!(
            "podsec: warning: ignoring {} in favour of standard input (--stdin-filename reads it)",
            path.display()
        );
    }
    vec!["-".to_string()]
}

/// The paths of the command line as the walk takes them: `.` when none is given.
pub fn path_arguments(paths: &[PathBuf]) -> Vec<String> {
    if paths.is_empty() {
        return vec![".".to_string()];
    }
    paths.iter().map(|p| p.to_string_lossy().into_owned()).collect()
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Whether a walk takes the file: YAML, or JSON that holds a Kubernetes object (`kubectl apply -f DIR` applies
/// `*.json` too; a `package.json` or `tsconfig.json` beside the manifests is no manifest, and is passed over
/// without a word).
fn is_manifest(path: &Path, max_file_size: u64) -> bool {
    if is_yaml(path) {
        return true;
    }
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return false;
    }
    let Ok(text) = crate::read::read_text(path, max_file_size) else {
        return false;
    };
    // Most JSON files name neither: no need to read them further.
    if !(text.contains("\"kind\"") && text.contains("\"apiVersion\"")) {
        return false;
    }
    let limits = podsec_engine::Limits::default();
    podsec_engine::yaml::documents(&text, &limits).any(|document| {
        document
            .root()
            .is_some_and(|root| root.get("kind").is_some() && root.get("apiVersion").is_some())
    })
}

/// A run with nothing to check says so on standard error (exit status unchanged): a mistyped directory
/// must not pass silently.
pub fn warn_no_yaml(paths: &[String], why: &str) {
    crate::stderr_line!("podsec: warning: {why} {}", paths.join(", "));
}

/// Prints a note of `--verbose` on standard error.
pub fn note(options: &WalkOptions, message: std::fmt::Arguments<'_>) {
    if options.verbose {
        crate::stderr_line!("podsec: note: {message}");
    }
}

/// Expands the command-line paths: files as given (whatever an ignore file says), directories walked
/// recursively (see [`walk`]), each file once however often it is reached. Paths that do not exist are
/// returned with why. Standard input is named `stdin_name` if given.
pub fn collect_inputs(
    paths: &[String],
    stdin_name: Option<&Path>,
    options: &WalkOptions,
) -> (Vec<Input>, Vec<(Input, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_seen = false;
    // Whether a file may be reached twice: through a second path, or a link found by a walk.
    let mut may_repeat = paths.len() > 1;
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
            Ok(meta) if meta.is_dir() => may_repeat |= walk(&path, options, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path)),
            Err(e) => errors.push((Input::File(path), e.to_string())),
        }
    }
    // The same file named twice, or reached again through a directory or a link, is checked once.
    // (One directory walked without links reaches each file once: its paths need no `stat` each.)
    if may_repeat {
        let mut seen = HashSet::new();
        inputs.retain(|input| match input {
            Input::File(path) => seen.insert(FileIdentity::of(path)),
            Input::Stdin(_) => true,
        });
    }
    let mut seen_errors = HashSet::new();
    errors.retain(|(input, _)| seen_errors.insert(input.display()));
    (inputs, errors)
}

/// What makes two paths the same file to check: its device and inode (one `stat`, where resolving the
/// path's every link costs a `readlink` per component), or its resolved path when it has several hard
/// links (each name may sit under another kustomization) or where there are no inodes.
#[derive(Hash, PartialEq, Eq)]
enum FileIdentity {
    Inode(u64, u64),
    Path(PathBuf),
}

impl FileIdentity {
    fn of(path: &Path) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(metadata) = std::fs::metadata(path) {
                if metadata.nlink() <= 1 {
                    return Self::Inode(metadata.dev(), metadata.ino());
                }
            }
        }
        Self::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// Walks a directory with ripgrep's walker: hidden entries skipped; unless `--no-ignore`, what
/// `.gitignore` (inside a git repository only, as git and ruff read it), `.ignore` and git's excludes
/// name; symbolic links to directories not followed (so no loop). Files come sorted, each directory's
/// files before its subdirectories, whatever order the walk finds them in.
fn walk(
    dir: &Path,
    options: &WalkOptions,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<(Input, String)>,
) -> bool {
    let mut through_a_link = false;
    let respect = options.respect_ignore_files;
    let skipped_directories = SkippedDirectories::default();
    let verbose = *options;
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(!options.hidden)
        .parents(respect)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .require_git(true)
        .follow_links(false)
        // A directory the project file above it skips is not entered (its own project file is not read).
        .filter_entry(move |entry| {
            let skipped = entry.depth() > 0
                && entry.file_type().is_some_and(|kind| kind.is_dir())
                && skipped_directories.skips(entry.path(), verbose.max_file_size);
            if let Some(project) = skipped
                .then(|| skipped_directories.project_of(entry.path()))
                .flatten()
            {
                note(
                    &verbose,
                    format_args!(
                        "{}/: skipped by `skip` in {}",
                        crate::report::shown(entry.path()).display(),
                        crate::report::shown(&project).display()
                    ),
                );
            }
            !skipped
        })
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                match io_error(&error) {
                    // A directory that cannot be read is an error of the run, as a missing path is.
                    (Some(path), Some(why)) => errors.push((Input::File(path.to_path_buf()), why)),
                    _ => note(options, format_args!("{error}")),
                }
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let path = entry.path();
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() || !is_manifest(path, options.max_file_size) {
            if kind.is_symlink() && path.is_dir() {
                note(
                    options,
                    format_args!("{}: a symbolic link to a directory: not followed", path.display()),
                );
            }
            continue;
        }
        // Regular files only (or links to one): reading a FIFO or a device found by a walk would block or
        // never end.
        if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            through_a_link |= kind.is_symlink();
            files.push(path.to_path_buf());
        } else {
            note(
                options,
                format_args!(
                    "{}: not a regular file (a FIFO, socket or device): skipped",
                    path.display()
                ),
            );
        }
    }
    files.sort_by(|a, b| (a.parent(), a.file_name()).cmp(&(b.parent(), b.file_name())));
    inputs.extend(files.into_iter().map(Input::File));
    through_a_link
}

/// The directories a walk passes over because the project file above each skips it, each project file
/// found and read once. (`--config` names the project file of the files, not of the directories a walk
/// passes through: the nearest one is asked, as `.gitignore`'s `dir/` is.)
#[derive(Default)]
struct SkippedDirectories {
    found: std::sync::Mutex<Found>,
}

#[derive(Default)]
struct Found {
    project_of: std::collections::HashMap<PathBuf, Option<PathBuf>>,
    resolver: crate::project::Resolver,
    globs: std::collections::HashMap<PathBuf, Vec<String>>,
}

impl SkippedDirectories {
    /// The project file above `directory` (in its parent or higher).
    fn project_of(&self, directory: &Path) -> Option<PathBuf> {
        let parent = directory.parent()?;
        let mut found = self.found.lock().ok()?;
        let Found {
            project_of, resolver, ..
        } = &mut *found;
        crate::project::find_project_file(parent, project_of, resolver)
    }

    fn skips(&self, directory: &Path, max_file_size: u64) -> bool {
        let Some(project) = self.project_of(directory) else {
            return false;
        };
        let Ok(mut found) = self.found.lock() else {
            return false;
        };
        let globs = found
            .globs
            .entry(project.clone())
            .or_insert_with(|| crate::project::skip_globs(&project, max_file_size));
        crate::project::skipped(&project, globs, directory, true)
    }
}

/// The path and the reason of a walk's I/O error (an unreadable directory); `None` for the soft errors
/// of an ignore file (an invalid glob), which only `--verbose` mentions.
fn io_error(error: &ignore::Error) -> (Option<&Path>, Option<String>) {
    match error {
        ignore::Error::WithPath { path, err } => (Some(path), io_error(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => io_error(err),
        ignore::Error::Io(e) => (None, Some(e.to_string())),
        _ => (None, None),
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
