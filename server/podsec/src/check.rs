//! `podsec check`: find the files, analyse them in parallel, print the verdicts.

use crate::Outcome;
use crate::output::{self, Format};
use crate::project::{ProjectFile, find_project_file, today};
use podsec_engine::advice::namespace_impact;
use podsec_engine::policy::{
    ConfigProblem, NamespaceLabels, PolicyContext, Severity, admission_config, namespace_labels,
};
use podsec_engine::{Analysis, Level, Limits, Options, Policy, Version, analyze};
use std::collections::{HashMap, HashSet};
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
    /// Problems found in this file as a policy source: invalid Namespace labels, the impact of an enforce
    /// label, project-file exemptions that expired or match nothing.
    pub extra: Vec<ConfigProblem>,
    /// A policy file reported on without being checked (the project file, its admission configuration).
    pub source_only: bool,
}

impl FileReport {
    /// Every policy-source problem of this file: from its analysis and from the whole run.
    pub fn config_problems(&self) -> impl Iterator<Item = &ConfigProblem> {
        self.analysis.config_problems.iter().chain(&self.extra)
    }
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
    })
}

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let args = parse_args(args, false)?;
    let run = Run::prepare(&args)?;
    let mut out = crate::stdout::stdout();
    if args.suggest_level {
        output::write_suggestions(&mut out, &run).map_err(crate::stdout::write_error)?;
        out.finish()?;
        return Ok(if run.reports.iter().any(|r| r.error.is_some()) {
            Outcome::Error
        } else {
            Outcome::Clean
        });
    }
    let colour = args.format == Format::Text && output::colour_enabled();
    output::write(&mut out, args.format, &run.reports, args.show_exempted, colour)
        .map_err(crate::stdout::write_error)?;
    out.finish()?;
    Ok(outcome(&run.reports))
}

/// One run over the inputs: the texts, the policy context of each, and the reports.
pub struct Run {
    pub reports: Vec<FileReport>,
    pub contexts: Vec<PolicyContext>,
    /// For each report that is an input, the index of its context.
    pub context_of: Vec<usize>,
    /// For each input, the namespace a kustomization gives its objects.
    pub namespace_of: Vec<Option<String>>,
}

impl Run {
    /// Reads the inputs and the policy sources, and analyses everything.
    pub fn prepare(args: &CheckArgs) -> Result<Self, String> {
        let (inputs, errors) = collect_inputs(&args.paths);
        if inputs.is_empty() && errors.is_empty() {
            warn_no_yaml(&args.paths, "no YAML file (*.yaml, *.yml) found in");
        }
        let found_any = !inputs.is_empty();
        let (projects, project_of) = load_projects(args, &inputs)?;
        // Files the project skips are not checked.
        let (inputs, project_of): (Vec<Input>, Vec<Option<usize>>) = inputs
            .into_iter()
            .zip(project_of)
            .filter(|(input, project)| match (input, project) {
                (Input::File(path), Some(p)) => !projects.get(*p).is_some_and(|p| p.skips(path)),
                _ => true,
            })
            .unzip();
        if found_any && inputs.is_empty() {
            warn_no_yaml(&args.paths, "every YAML file is skipped by the project file in");
        }
        let texts = parallel_map(&inputs, |input| read_input(input, args.max_file_size));
        // Namespaces and admission configurations among the checked files.
        let limits = Limits::default();
        let mut namespaces: Vec<(usize, NamespaceLabels)> = Vec::new();
        let mut found_admission = None;
        for (index, text) in texts.iter().enumerate() {
            let Ok(text) = text else { continue };
            namespaces.extend(namespace_labels(text, &limits).into_iter().map(|n| (index, n)));
            if found_admission.is_none() {
                let name = format!(
                    "admission configuration {}",
                    inputs.get(index).map(Input::display).unwrap_or_default()
                );
                found_admission = admission_config(text, &name, &limits).map(|a| (index, a));
            }
        }
        let today = today();
        let mut contexts: Vec<PolicyContext> = Vec::new();
        let base = PolicyContext {
            override_policy: args.policy,
            namespaces: namespaces.iter().map(|(_, n)| n.clone()).collect(),
            admission: found_admission.as_ref().map(|(_, (a, _))| a.clone()),
            today,
            ..PolicyContext::default()
        };
        contexts.push(base.clone());
        for project in &projects {
            let mut context = base.clone();
            context.project = Some(project.config.clone());
            if let Some((_, _, admission, _)) = &project.admission {
                context.admission = Some(admission.clone());
            }
            contexts.push(context);
        }
        let context_of: Vec<usize> = project_of.iter().map(|p| p.map_or(0, |p| p + 1)).collect();
        // Kustomize: a kustomization's `namespace:` is the namespace of the resources it lists. Each
        // candidate file is read once, however many inputs sit below it.
        let mut kustomizations: HashMap<PathBuf, Option<String>> = HashMap::new();
        let namespaces_of: Vec<Option<String>> = inputs
            .iter()
            .map(|input| match input {
                Input::File(path) => crate::project::kustomize_namespace(path, |p| {
                    kustomizations
                        .entry(p.to_path_buf())
                        // Only a regular file: a FIFO of that name must not stop the run.
                        .or_insert_with(|| {
                            p.is_file()
                                .then(|| crate::read::read_text(p, args.max_file_size).ok())
                                .flatten()
                        })
                        .clone()
                }),
                Input::Stdin => None,
            })
            .collect();
        let jobs: Vec<(usize, &Result<String, String>)> = texts.iter().enumerate().collect();
        let analyses = parallel_map(&jobs, |(index, text)| {
            let text = text.as_ref().ok()?;
            let context = contexts.get(context_of.get(*index).copied().unwrap_or(0))?;
            Some(analyze(
                text,
                &Options {
                    context: Some(context),
                    namespace_override: namespaces_of.get(*index).and_then(|n| n.as_deref()),
                    ..Options::default()
                },
            ))
        });
        let mut reports: Vec<FileReport> = inputs
            .iter()
            .zip(texts)
            .zip(analyses)
            .map(|((input, text), analysis)| match text {
                Ok(text) => FileReport {
                    input: input.clone(),
                    analysis: analysis.unwrap_or_default(),
                    text: Some(text),
                    error: None,
                    extra: Vec::new(),
                    source_only: false,
                },
                Err(e) => error_report(input.clone(), e),
            })
            .collect();
        add_namespace_problems(&mut reports, &namespaces);
        if let Some((index, (_, problems))) = &found_admission {
            if let Some(report) = reports.get_mut(*index) {
                report.extra.extend(problems.iter().cloned());
            }
        }
        let used: Vec<podsec_engine::Span> = reports
            .iter()
            .flat_map(|r| r.analysis.used_exemptions.iter().copied())
            .collect();
        for (index, project) in projects.iter().enumerate() {
            let mut extra = contexts
                .get(index + 1)
                .map(|c| c.exemption_problems(&used))
                .unwrap_or_default();
            extra.extend(
                project
                    .problems
                    .iter()
                    .filter(|p| p.severity != Severity::Error)
                    .cloned(),
            );
            if !extra.is_empty() {
                reports.push(FileReport {
                    input: Input::File(project.path.clone()),
                    text: Some(project.text.clone()),
                    analysis: Analysis::default(),
                    error: None,
                    extra,
                    source_only: true,
                });
            }
            if let Some((path, text, _, problems)) = &project.admission {
                let same = |p: &Path| std::fs::canonicalize(p).ok() == std::fs::canonicalize(path).ok();
                let checked = inputs.iter().any(|i| matches!(i, Input::File(p) if same(p)));
                if !problems.is_empty() && !checked {
                    reports.push(FileReport {
                        input: Input::File(path.clone()),
                        text: Some(text.clone()),
                        analysis: Analysis::default(),
                        error: None,
                        extra: problems.clone(),
                        source_only: true,
                    });
                }
            }
        }
        reports.extend(errors);
        Ok(Self {
            reports,
            contexts,
            context_of,
            namespace_of: namespaces_of,
        })
    }
}

/// Loads the project file of every input (`--config`, or the nearest `.podsec.yaml` above it). A project
/// file with errors stops the run with every error located, as a usage error.
fn load_projects(
    args: &CheckArgs,
    inputs: &[Input],
) -> Result<(Vec<ProjectFile>, Vec<Option<usize>>), String> {
    let mut projects: Vec<ProjectFile> = Vec::new();
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    let mut cache = HashMap::new();
    let mut project_of = Vec::new();
    for input in inputs {
        let path = match (&args.config, input) {
            (Some(config), _) => Some(config.clone()),
            (None, Input::File(file)) => find_project_file(file, &mut cache),
            (None, Input::Stdin) => find_project_file(Path::new("."), &mut cache),
        };
        let Some(path) = path else {
            project_of.push(None);
            continue;
        };
        let index = match by_path.get(&path) {
            Some(index) => *index,
            None => {
                let project = ProjectFile::load(&path, args.max_file_size)?;
                let errors: Vec<String> = project
                    .problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .map(|p| {
                        let index = podsec_engine::text::LineIndex::new(&project.text);
                        let at = index.line_column(&project.text, p.span.start);
                        format!(
                            "{}:{}:{}: {}: {}",
                            path.display(),
                            at.line,
                            at.column,
                            p.code,
                            p.message
                        )
                    })
                    .collect();
                if !errors.is_empty() {
                    return Err(format!("the project file has errors:\n{}", errors.join("\n")));
                }
                projects.push(project);
                by_path.insert(path, projects.len() - 1);
                projects.len() - 1
            }
        };
        project_of.push(Some(index));
    }
    Ok((projects, project_of))
}

/// Invalid labels, and the impact of each enforce label on the workloads of its namespace (PSA's
/// dry-run warning when a namespace's enforce level changes).
fn add_namespace_problems(reports: &mut [FileReport], namespaces: &[(usize, NamespaceLabels)]) {
    for (index, labels) in namespaces {
        let mut extra: Vec<ConfigProblem> = labels.problems.clone();
        extra.extend(namespace_impact(
            labels,
            reports.iter().flat_map(|r| &r.analysis.objects),
        ));
        if let Some(report) = reports.get_mut(*index) {
            report.extra.extend(extra);
        }
    }
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

/// 2 when an input could not be read, 1 when anything was found, 0 otherwise.
pub fn outcome(reports: &[FileReport]) -> Outcome {
    if reports.iter().any(|r| r.error.is_some()) {
        Outcome::Error
    } else if reports.iter().any(|r| {
        r.analysis.problems.iter().any(|p| p.severity == Severity::Error)
            || r.analysis
                .objects
                .iter()
                .flat_map(|o| &o.violations)
                .any(|v| v.severity() == Severity::Error)
            || r.config_problems().any(|p| p.severity == Severity::Error)
    }) {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// A run with nothing to check says so on standard error (exit status unchanged): a mistyped directory
/// must not pass silently.
fn warn_no_yaml(paths: &[String], why: &str) {
    crate::stderr_line!("podsec: warning: {why} {}", paths.join(", "));
}

/// Expands the command-line paths: files as given, directories walked recursively (sorted, hidden
/// entries and symbolic links to directories skipped), each file once however often it is reached.
/// Paths that do not exist become error reports.
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
    // The same file named twice, or reached again through a directory or a link, is checked once.
    let mut seen = HashSet::new();
    inputs.retain(|input| match input {
        Input::File(path) => seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
        Input::Stdin => true,
    });
    let mut seen_errors = HashSet::new();
    errors.retain(|error| seen_errors.insert(error.input.display()));
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

fn error_report(input: Input, error: String) -> FileReport {
    FileReport {
        input,
        text: None,
        analysis: Analysis::default(),
        error: Some(error),
        extra: Vec::new(),
        source_only: false,
    }
}

/// Reads one input as text, at most `max` bytes: a file of any kind named on the command line, or stdin.
pub fn read_input(input: &Input, max: u64) -> Result<String, String> {
    let bytes = match input {
        Input::File(path) => crate::read::read_file(path, max)?,
        Input::Stdin => crate::read::read_stdin(max)?,
    };
    crate::read::utf8(bytes)
}
