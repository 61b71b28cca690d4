//! Helm charts rendered by Helm, for `podsec check`: what a chart deploys depends on its values, so its
//! templates are judged on what `helm template` makes of them, and each finding is put back in the chart's
//! own files by the engine (`podsec_engine::render`).
//!
//! A chart is the nearest directory above a checked file that holds a `Chart.yaml` (a chart under another
//! chart's `charts/` is rendered as part of its parent). It is rendered once per value set the project
//! file names (`charts:` in `.podsec.yaml`), else once with its own `values.yaml`, by the user's Helm:
//! `--helm`, the project file's `helm:`, or `helm` on `PATH`. Renderings run in parallel, each under a time
//! limit, and are cached on disk by the chart's content, the command and the Helm binary. Without Helm,
//! or when Helm cannot render the chart, its templates keep their static reading and the chart gets one
//! note saying so.
//!
//! Both shells use it: `podsec check` renders the charts of its inputs ([`render`], [`place`]), the
//! language server one chart at a time in the background ([`render_chart`], [`place_chart`]), so a
//! chart's findings in the editor are those of the command line.

use podsec_engine::policy::{ConfigProblem, ProjectConfig, Severity};
use podsec_engine::render::{ChartFile, Rendering, place_helm};
use podsec_engine::{Analysis, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where a tool is on `PATH` (for the editor's `podsec.helm` given as a command).
pub use crate::process::on_path;

/// How `podsec check` renders charts (`--helm`, `--no-render`).
#[derive(Clone, Debug, Default)]
pub struct RenderSettings {
    /// `--helm PATH`: the Helm to run, over the project file's and `PATH`'s.
    pub helm: Option<PathBuf>,
    /// `--no-render`: read charts statically.
    pub disabled: bool,
    /// The most a rendering may print (`--max-file-size`; 0: 256 MB): a larger one is refused, as a larger
    /// input would be.
    pub max_output: u64,
}

impl RenderSettings {
    fn output_limit(&self) -> u64 {
        if self.max_output == 0 {
            256 * 1024 * 1024
        } else {
            self.max_output
        }
    }
}

/// The longest a rendering may take before it is abandoned (and the chart read statically).
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// The most bytes of a chart read to render it, to put findings back and to key the cache.
const MAX_CHART_BYTES: u64 = 64 * 1024 * 1024;

/// A chart with checked files in it.
#[derive(Debug)]
pub struct Chart {
    pub root: PathBuf,
    /// The inputs inside it: their indices among the run's inputs and their paths (none in the editor,
    /// which renders a chart for every one of its files).
    pub inputs: Vec<(usize, PathBuf)>,
}

/// The project file that governs a chart: where it is (its `helm:` and `charts:` paths are relative to
/// it) and what it says.
#[derive(Clone, Copy, Debug)]
pub struct ProjectRef<'a> {
    pub path: &'a Path,
    pub config: &'a ProjectConfig,
}

impl<'a> From<&'a crate::project::ProjectFile> for ProjectRef<'a> {
    fn from(project: &'a crate::project::ProjectFile) -> Self {
        Self {
            path: &project.path,
            config: &project.config,
        }
    }
}

/// One way a chart is rendered: the release, its namespace and the values files after `values.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ValueSet {
    release: String,
    namespace: Option<String>,
    /// Relative to the chart's directory, as the project file gives them.
    values: Vec<String>,
}

/// What became of one rendering.
#[derive(Debug)]
enum Outcome {
    Rendered(String),
    /// Helm's message.
    Failed(String),
}

/// A chart read and rendered with each of its value sets.
#[derive(Debug)]
pub struct RenderedChart {
    root: PathBuf,
    /// The chart's name (`Chart.yaml`'s `name`): the first part of Helm's `# Source:` paths.
    name: String,
    /// The templates, `values.yaml`, `Chart.yaml` and the value sets' files, by path from the root.
    files: Vec<ChartFile>,
    /// The index of `Chart.yaml` among `files`.
    chart_yaml: usize,
    /// The inputs inside the chart.
    inputs: Vec<(usize, PathBuf)>,
    /// Each value set, how it was rendered (the command as the output shows it) and the outcome; none when
    /// the chart is read statically.
    renderings: Vec<(ValueSet, String, Outcome)>,
    /// Why the chart is read statically, when it is.
    static_reason: Option<String>,
    /// The dependencies taken from beside the chart, by name and by alias (Helm's `# Source:` paths use
    /// the alias): what they render is checked with them, as charts of their own, not again in every chart
    /// that uses them.
    local_dependencies: Vec<String>,
}

/// The charts among the inputs (the files among them, by path), rendered: run beside the first pass
/// (Helm's processes wait, not compute). `project_of`: each input's project file, whose `helm:` and
/// `charts:` apply.
pub fn render(
    inputs: &[Option<&Path>],
    project_of: &[Option<usize>],
    projects: &[crate::project::ProjectFile],
    settings: &RenderSettings,
) -> Vec<RenderedChart> {
    let charts = find_charts(inputs);
    let project = |chart: &Chart| {
        chart
            .inputs
            .first()
            .and_then(|(i, _)| project_of.get(*i).copied().flatten())
            .and_then(|p| projects.get(p))
            .map(ProjectRef::from)
    };
    let work: Vec<(Chart, Option<ProjectRef<'_>>)> = charts
        .into_iter()
        .map(|chart| {
            let project = project(&chart);
            (chart, project)
        })
        .collect();
    crate::parallel::parallel_map(&work, |(chart, project)| {
        render_chart(chart, *project, settings, &|| false)
    })
}

/// The directory of the chart `path` is in: the nearest above it with a `Chart.yaml`, or the chart that
/// one is a subchart of (`parent/charts/sub/`).
pub fn chart_root(path: &Path) -> Option<PathBuf> {
    let mut root = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Chart.yaml").is_file())?
        .to_path_buf();
    while let Some(parent) = root
        .parent()
        .filter(|charts| charts.file_name().is_some_and(|n| n == "charts"))
        .and_then(Path::parent)
        .filter(|parent| parent.join("Chart.yaml").is_file())
    {
        root = parent.to_path_buf();
    }
    Some(root)
}

fn find_charts(inputs: &[Option<&Path>]) -> Vec<Chart> {
    let mut charts: Vec<Chart> = Vec::new();
    let mut root_of_directory: HashMap<PathBuf, Option<usize>> = HashMap::new();
    for (index, path) in inputs.iter().enumerate() {
        let Some(path) = path else { continue };
        let directory = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let chart = *root_of_directory.entry(directory).or_insert_with(|| {
            let root = chart_root(path)?;
            Some(match charts.iter().position(|c| c.root == root) {
                Some(at) => at,
                None => {
                    charts.push(Chart {
                        root,
                        inputs: Vec::new(),
                    });
                    charts.len() - 1
                }
            })
        });
        if let Some(chart) = chart.and_then(|c| charts.get_mut(c)) {
            chart.inputs.push((index, path.to_path_buf()));
        }
    }
    charts
}

/// A top-level string of a `Chart.yaml` (`name`, `type`).
fn chart_field(chart_yaml: &str, key: &str) -> Option<String> {
    let limits = podsec_engine::Limits::default();
    let document = podsec_engine::yaml::documents(chart_yaml, &limits).next()?;
    document.root()?.get(key)?.as_str().map(str::to_string)
}

/// The chart's name, from its `Chart.yaml`.
fn chart_name(chart_yaml: &str) -> Option<String> {
    chart_field(chart_yaml, "name")
}

/// The value sets of the chart at `root`, from the project file's `charts:` (its `path` relative to the
/// project file); else the chart's own values under Helm's default release name.
fn value_sets(root: &Path, project: Option<ProjectRef<'_>>) -> Vec<ValueSet> {
    let configured = project.map(|p| {
        let base = p.path.parent().unwrap_or(Path::new(""));
        let config: &ProjectConfig = p.config;
        config
            .charts
            .iter()
            .filter(|c| same_directory(&base.join(&c.path), root))
            .flat_map(|c| {
                let release = c.release.clone().unwrap_or_else(|| DEFAULT_RELEASE.to_string());
                let sets = if c.value_sets.is_empty() {
                    vec![Vec::new()]
                } else {
                    c.value_sets.clone()
                };
                sets.into_iter().map(move |values| ValueSet {
                    release: release.clone(),
                    namespace: c.namespace.clone(),
                    values,
                })
            })
            .collect::<Vec<_>>()
    });
    match configured {
        Some(sets) if !sets.is_empty() => sets,
        _ => vec![ValueSet {
            release: DEFAULT_RELEASE.to_string(),
            namespace: None,
            values: Vec::new(),
        }],
    }
}

/// `helm template`'s release name when none is given.
const DEFAULT_RELEASE: &str = "release-name";

/// The Helm to run: `--helm`, the project file's `helm:` (relative to it when it is a path), or `helm` on
/// `PATH`.
fn helm_command(settings: &RenderSettings, project: Option<ProjectRef<'_>>) -> Option<PathBuf> {
    if let Some(helm) = &settings.helm {
        return Some(helm.clone());
    }
    let configured = project.and_then(|p| {
        let helm = p.config.helm.as_deref()?;
        Some(if helm.contains('/') {
            p.path.parent().unwrap_or(Path::new("")).join(helm)
        } else {
            crate::process::on_path(helm)?
        })
    });
    configured.or_else(|| crate::process::on_path("helm"))
}

/// Reads the chart and renders it with each value set. `cancelled` is asked while Helm runs: when it
/// says so, Helm is stopped and the rendering is abandoned (a newer one is wanted).
pub fn render_chart(
    chart: &Chart,
    project: Option<ProjectRef<'_>>,
    settings: &RenderSettings,
    cancelled: &dyn Fn() -> bool,
) -> RenderedChart {
    let root = &chart.root;
    let mut files = chart_files(root);
    let chart_yaml = files
        .iter()
        .position(|f| f.path == "Chart.yaml")
        .unwrap_or_else(|| {
            files.push(ChartFile {
                path: "Chart.yaml".to_string(),
                text: String::new(),
            });
            files.len() - 1
        });
    let name = files
        .get(chart_yaml)
        .and_then(|f| chart_name(&f.text))
        .unwrap_or_default();
    let sets = value_sets(root, project);
    // The value sets' files are read too, to put findings in them.
    for file in sets.iter().flat_map(|s| &s.values) {
        if !files.iter().any(|f| f.path == *file) {
            let text = crate::read::read_text(&root.join(file), MAX_CHART_BYTES).unwrap_or_default();
            files.push(ChartFile {
                path: file.clone(),
                text,
            });
        }
    }
    let mut rendered = RenderedChart {
        root: root.clone(),
        name,
        files,
        chart_yaml,
        inputs: chart.inputs.clone(),
        renderings: Vec::new(),
        static_reason: None,
        local_dependencies: Vec::new(),
    };
    // A library chart deploys nothing (Helm refuses to render it): its helpers are read where they are used.
    let library = rendered
        .files
        .get(chart_yaml)
        .and_then(|f| chart_field(&f.text, "type"))
        .is_some_and(|kind| kind == "library");
    if library {
        return rendered;
    }
    if settings.disabled {
        rendered.static_reason = Some("rendering is off (--no-render)".to_string());
        return rendered;
    }
    let Some(helm) = helm_command(settings, project) else {
        rendered.static_reason = Some(
            "podsec found no Helm to render it (`helm` on PATH, `--helm PATH`, or `helm:` in .podsec.yaml)"
                .to_string(),
        );
        return rendered;
    };
    // Dependencies not in `charts/` but beside the chart (a repository of charts) are put in a copy of it,
    // as `helm dependency build` would; Helm renders that copy, made only when the cache has no rendering.
    let chart_text = rendered.files.get(chart_yaml).map_or("", |f| f.text.as_str());
    let dependencies = local_dependencies(root, chart_text);
    rendered.local_dependencies = dependencies
        .iter()
        .flat_map(|d| [d.name.clone(), d.alias.clone()])
        .collect();
    let mut key_roots = vec![root.clone()];
    dependency_directories(&dependencies, 0, &mut key_roots);
    let key_base = chart_key(&key_roots, &helm);
    let borrowed = if dependencies.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = dependencies.iter().map(|d| d.name.as_str()).collect();
        format!(" (with {} from beside the chart)", names.join(", "))
    };
    let mut assembled: Option<Option<Assembled>> = None;
    for set in sets {
        let mut options: Vec<String> = Vec::new();
        if let Some(namespace) = &set.namespace {
            options.extend(["--namespace".to_string(), namespace.clone()]);
        }
        for file in &set.values {
            options.extend(["--values".to_string(), root.join(file).display().to_string()]);
        }
        let shown: Vec<String> = ["helm", "template", &set.release, &root.display().to_string()]
            .into_iter()
            .map(str::to_string)
            .chain(options.iter().cloned())
            .collect();
        let label = format!("{}{borrowed}", shown.join(" "));
        let mut render = || {
            let copy = assembled.get_or_insert_with(|| {
                (!dependencies.is_empty())
                    .then(|| assemble_dependencies(root, &dependencies))
                    .flatten()
            });
            let render_root = copy.as_ref().map_or(root.as_path(), |a| a.root.as_path());
            let mut arguments: Vec<String> = vec![
                "template".into(),
                set.release.clone(),
                render_root.display().to_string(),
            ];
            arguments.extend(options.iter().cloned());
            run_helm(&helm, &arguments, settings.output_limit(), cancelled)
        };
        let outcome = match key_base {
            Some(key) => {
                let key = fnv128(key, label.as_bytes());
                cached(key).unwrap_or_else(|| {
                    let outcome = render();
                    store(key, &outcome);
                    outcome.unwrap_or_else(Outcome::Failed)
                })
            }
            None => render().unwrap_or_else(Outcome::Failed),
        };
        rendered.renderings.push((set, label, outcome));
    }
    if let Some(Some(assembled)) = assembled {
        let _ = std::fs::remove_dir_all(&assembled.directory);
    }
    rendered
}

/// The directories of `dependencies` and of theirs, a few levels deep (what a rendering reads besides
/// the chart).
fn dependency_directories(dependencies: &[LocalDependency], depth: usize, into: &mut Vec<PathBuf>) {
    for dependency in dependencies {
        into.push(dependency.directory.clone());
        let text = std::fs::read_to_string(dependency.directory.join("Chart.yaml")).unwrap_or_default();
        if depth < 4 {
            let theirs = local_dependencies(&dependency.directory, &text);
            dependency_directories(&theirs, depth + 1, into);
        }
    }
}

/// A dependency of a chart found on disk.
struct LocalDependency {
    name: String,
    /// What Helm calls it in the chart (`alias:`, else its name).
    alias: String,
    directory: PathBuf,
}

/// A copy of a chart with the dependencies found beside it put in its `charts/`.
struct Assembled {
    /// The temporary directory holding the copy, removed after rendering.
    directory: PathBuf,
    /// The copy's root.
    root: PathBuf,
}

/// The dependencies of a chart (`Chart.yaml`'s `dependencies:`) that are neither in its `charts/` nor
/// fetched, but found as a chart directory: `file://` ones, else one named as the dependency beside the
/// chart (`bitnami/airflow` needs `bitnami/common`). Each with where it is.
fn local_dependencies(root: &Path, chart_yaml: &str) -> Vec<LocalDependency> {
    let limits = podsec_engine::Limits::default();
    let Some(document) = podsec_engine::yaml::documents(chart_yaml, &limits).next() else {
        return Vec::new();
    };
    let Some(dependencies) = document.root().and_then(|r| r.get("dependencies")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for dependency in dependencies.items() {
        let Some(name) = dependency.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        // A name is a directory name, never a path.
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            continue;
        }
        let vendored = root.join("charts").join(name).join("Chart.yaml").is_file()
            || std::fs::read_dir(root.join("charts")).is_ok_and(|entries| {
                entries.filter_map(Result::ok).any(|e| {
                    let file = e.file_name();
                    let file = file.to_string_lossy();
                    file.starts_with(&format!("{name}-")) && file.ends_with(".tgz")
                })
            });
        if vendored {
            continue;
        }
        let repository = dependency
            .get("repository")
            .and_then(|r| r.as_str())
            .unwrap_or("");
        let candidate = match repository.strip_prefix("file://") {
            Some(relative) => root.join(relative),
            None => match root.parent() {
                Some(parent) => parent.join(name),
                None => continue,
            },
        };
        let named = std::fs::read_to_string(candidate.join("Chart.yaml"))
            .ok()
            .and_then(|text| chart_name(&text));
        if named.as_deref() == Some(name) && !same_directory(&candidate, root) {
            let alias = dependency.get("alias").and_then(|a| a.as_str()).unwrap_or(name);
            found.push(LocalDependency {
                name: name.to_string(),
                alias: alias.to_string(),
                directory: candidate,
            });
        }
    }
    found
}

fn same_directory(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Copies the chart and puts its local dependencies in the copy's `charts/` (theirs in theirs, a few
/// levels deep); `None` when it needs none, or the copy fails (Helm then says what is missing).
fn assemble_dependencies(root: &Path, dependencies: &[LocalDependency]) -> Option<Assembled> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let directory = std::env::temp_dir().join(format!(
        "podsec-chart-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let name = root.file_name().map_or("chart".into(), |n| n.to_os_string());
    let copy = directory.join(name);
    let built = copy_tree(root, &copy).is_ok() && put_dependencies(&copy, dependencies, 0);
    if !built {
        let _ = std::fs::remove_dir_all(&directory);
        return None;
    }
    Some(Assembled {
        directory,
        root: copy,
    })
}

/// Copies each dependency into `chart/charts/<name>`, and theirs into theirs.
fn put_dependencies(chart: &Path, dependencies: &[LocalDependency], depth: usize) -> bool {
    for dependency in dependencies {
        let source = &dependency.directory;
        let target = chart.join("charts").join(&dependency.name);
        if copy_tree(source, &target).is_err() {
            return false;
        }
        let text = std::fs::read_to_string(target.join("Chart.yaml")).unwrap_or_default();
        // Deeper than a few levels is a cycle, or nothing Helm charts do.
        let theirs = local_dependencies(source, &text);
        if depth < 4 && !put_dependencies(&target, &theirs, depth + 1) {
            return false;
        }
    }
    true
}

/// Copies the regular files and directories under `from` to `to` (not hidden directories, not links).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The files of the chart podsec reads: every template (its subcharts' too), the values files and
/// `Chart.yaml`, by `/`-separated path from the root.
fn chart_files(root: &Path) -> Vec<ChartFile> {
    let mut files = Vec::new();
    let mut budget = MAX_CHART_BYTES;
    visit(root, &mut |relative, path| {
        let in_templates = relative.split('/').any(|part| part == "templates");
        let yaml = [".yaml", ".yml", ".json"].iter().any(|e| relative.ends_with(e));
        // A vendored subchart's `values.yaml` (`charts/a/values.yaml`) holds the defaults its templates read.
        let subchart_values = relative.strip_suffix("/values.yaml").is_some_and(|directory| {
            let parts: Vec<&str> = directory.split('/').collect();
            parts.len() % 2 == 0 && parts.chunks(2).all(|pair| pair.first() == Some(&"charts"))
        });
        let wanted = relative == "Chart.yaml"
            || relative == "values.yaml"
            || subchart_values
            || (in_templates && yaml);
        if !wanted {
            return;
        }
        if let Ok(text) = crate::read::read_text(path, budget) {
            budget = budget.saturating_sub(text.len() as u64);
            files.push(ChartFile {
                path: relative.to_string(),
                text,
            });
        }
    });
    files
}

/// Calls `each` with every regular file under `root` (its `/`-separated path from the root and its
/// path), skipping hidden directories, in a stable order.
fn visit(root: &Path, each: &mut dyn FnMut(&str, &Path)) {
    fn walk(directory: &Path, relative: &str, depth: usize, each: &mut dyn FnMut(&str, &Path)) {
        let Ok(entries) = std::fs::read_dir(directory) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            let joined = if relative.is_empty() {
                name.to_string()
            } else {
                format!("{relative}/{name}")
            };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && !name.starts_with('.') && depth < 16 {
                walk(&path, &joined, depth + 1, each);
            } else if kind.is_file() {
                each(&joined, &path);
            }
        }
    }
    walk(root, "", 0, each);
}

/// What every rendering of the chart is keyed by: every file in it (Helm reads them all: templates,
/// helpers, subcharts, files it `.Files.Get`s) and the Helm binary (its path, size and time).
fn chart_key(roots: &[PathBuf], helm: &Path) -> Option<u128> {
    let mut key = fnv128(FNV_OFFSET, helm.display().to_string().as_bytes());
    let binary = std::fs::metadata(helm).ok()?;
    key = fnv128(key, &binary.len().to_le_bytes());
    if let Ok(modified) = binary.modified()
        && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
    {
        key = fnv128(key, &since.as_nanos().to_le_bytes());
    }
    let mut budget = MAX_CHART_BYTES;
    let mut complete = true;
    for root in roots {
        visit(root, &mut |relative, path| {
            let bytes = crate::read::read_file(path, budget).unwrap_or_else(|_| {
                complete = false;
                Vec::new()
            });
            budget = budget.saturating_sub(bytes.len() as u64);
            key = fnv128(key, relative.as_bytes());
            key = fnv128(key, &(bytes.len() as u64).to_le_bytes());
            key = fnv128(key, &bytes);
        });
    }
    // A chart too large to read whole is not cached (a change past the budget would go unseen).
    complete.then_some(key)
}

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;

/// 128-bit FNV-1a, continued from `hash` over `bytes`.
fn fnv128(mut hash: u128, bytes: &[u8]) -> u128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    for byte in bytes {
        hash ^= u128::from(*byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// Where renderings are cached: `$PODSEC_CACHE_DIR`, else `$XDG_CACHE_HOME/podsec`, else
/// `~/.cache/podsec`.
fn cache_directory() -> Option<PathBuf> {
    if let Some(directory) = std::env::var_os("PODSEC_CACHE_DIR") {
        return Some(PathBuf::from(directory));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("podsec"))
}

fn cache_path(key: u128) -> Option<PathBuf> {
    Some(cache_directory()?.join("helm").join(format!("{key:032x}")))
}

/// A rendering cached under `key`: its first line says whether Helm rendered or failed.
fn cached(key: u128) -> Option<Outcome> {
    let text = std::fs::read_to_string(cache_path(key)?).ok()?;
    let (status, rest) = text.split_once('\n')?;
    match status {
        "rendered" => Some(Outcome::Rendered(rest.to_string())),
        "failed" => Some(Outcome::Failed(rest.to_string())),
        _ => None,
    }
}

/// Caches what Helm answered; not what stopped it from answering (a time-out, a missing binary), which
/// may go another way next time.
fn store(key: u128, outcome: &Result<Outcome, String>) {
    let Some(path) = cache_path(key) else { return };
    let text = match outcome {
        Ok(Outcome::Rendered(output)) => format!("rendered\n{output}"),
        Ok(Outcome::Failed(message)) => format!("failed\n{message}"),
        Err(_) => return,
    };
    let Some(directory) = path.parent() else { return };
    if std::fs::create_dir_all(directory).is_err() {
        return;
    }
    // Written aside and renamed, so that a concurrent run never reads half an entry.
    let temporary = directory.join(format!(".{key:032x}.{}", std::process::id()));
    if std::fs::write(&temporary, text).is_ok() && std::fs::rename(&temporary, &path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

/// Runs Helm: what it rendered, or its message (`Ok(Failed)`: Helm answered that it cannot; `Err`: it did
/// not answer, in time, within `limit` bytes, or before `cancelled` said to stop).
fn run_helm(
    helm: &Path,
    arguments: &[String],
    limit: u64,
    cancelled: &dyn Fn() -> bool,
) -> Result<Outcome, String> {
    let bounds = crate::process::Bounds {
        timeout: RENDER_TIMEOUT,
        output: limit,
        cancelled,
    };
    let finished = crate::process::run(helm, arguments, &bounds)?;
    if finished.status.success() {
        return Ok(Outcome::Rendered(
            String::from_utf8_lossy(&finished.stdout).into_owned(),
        ));
    }
    let errors = String::from_utf8_lossy(&finished.stderr);
    let message = errors.trim();
    Ok(Outcome::Failed(if message.is_empty() {
        format!("{} exited with {}", helm.display(), finished.status)
    } else {
        message.to_string()
    }))
}

/// A file of a chart with what the renderings found in it, in place of its static reading.
#[derive(Debug)]
pub struct PlacedFile {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub analysis: Analysis,
}

/// What the renderings of the charts give the run.
#[derive(Debug, Default)]
pub struct ChartFindings {
    /// Files whose reading is replaced: every template of a rendered chart (with no finding, an empty
    /// analysis), and the values files and `Chart.yaml` that findings were put in.
    pub placed: Vec<PlacedFile>,
    /// Notes on files: one per chart read statically, and each rendering Helm refused, where it says.
    pub notes: Vec<(PathBuf, Arc<String>, ConfigProblem)>,
}

/// Analyses each rendering with `analyse` (the rendered text and the release's namespace; its options are
/// those of the chart's first input) and puts the findings back in the chart's files. `show`: a chart's
/// directory as messages name it.
pub fn place(
    charts: &[RenderedChart],
    show: impl Fn(&Path) -> String + Sync,
    analyse: impl Fn(usize, &str, Option<&str>) -> Analysis + Sync,
) -> ChartFindings {
    let per_chart = crate::parallel::parallel_map(charts, |chart| {
        let Some(first_input) = chart.inputs.first().map(|(i, _)| *i) else {
            return ChartFindings::default();
        };
        let inputs: Vec<&Path> = chart.inputs.iter().map(|(_, p)| p.as_path()).collect();
        place_chart(
            chart,
            &show(&chart.root),
            &|path| inputs.contains(&path),
            &|text, namespace| analyse(first_input, text, namespace),
        )
    });
    let mut all = ChartFindings::default();
    for found in per_chart {
        all.placed.extend(found.placed);
        all.notes.extend(found.notes);
    }
    all
}

/// One chart's renderings analysed with `analyse` (the rendered text and the release's namespace) and
/// put back in its files; `shown_root` names the chart in notes. A template of the chart takes the
/// rendered findings in place of its static reading when `replaced` says so of its path (even with none).
pub fn place_chart(
    chart: &RenderedChart,
    shown_root: &str,
    replaced: &dyn Fn(&Path) -> bool,
    analyse: &dyn Fn(&str, Option<&str>) -> Analysis,
) -> ChartFindings {
    let mut found = ChartFindings::default();
    let path_of = |file: usize| -> Option<PathBuf> {
        let relative = &chart.files.get(file)?.path;
        Some(
            relative
                .split('/')
                .fold(chart.root.clone(), |p, part| p.join(part)),
        )
    };
    let text_of = |file: usize| Arc::new(chart.files.get(file).map(|f| f.text.clone()).unwrap_or_default());
    let note = |file: usize, span: Span, severity: Severity, code: &'static str, message: String| {
        (
            path_of(file).unwrap_or_else(|| chart.root.join("Chart.yaml")),
            text_of(file),
            ConfigProblem {
                code,
                severity,
                message,
                span,
            },
        )
    };
    if let Some(reason) = &chart.static_reason {
        found.notes.push(note(
            chart.chart_yaml,
            first_line_span(chart.files.get(chart.chart_yaml).map_or("", |f| &f.text)),
            Severity::Information,
            "helm-template",
            format!(
                "Helm chart {shown_root} read without rendering: {reason}. Literal fields in its templates are \
                 checked; what its values write is not (helm template … | podsec check -)"
            ),
        ));
        return found;
    }
    let values_yaml = chart.files.iter().position(|f| f.path == "values.yaml");
    let mut by_file: std::collections::BTreeMap<usize, Analysis> = std::collections::BTreeMap::new();
    let mut any_rendered = false;
    for (set, label, outcome) in &chart.renderings {
        match outcome {
            Outcome::Rendered(output) => {
                any_rendered = true;
                let mut analysis = analyse(output, set.namespace.as_deref());
                let borrowed: Vec<String> = chart
                    .local_dependencies
                    .iter()
                    .map(|d| format!("{}/charts/{d}/", chart.name))
                    .collect();
                analysis.objects.retain(|o| {
                    !o.source
                        .as_deref()
                        .is_some_and(|s| borrowed.iter().any(|b| s.starts_with(b.as_str())))
                });
                let values: Vec<usize> = values_yaml
                    .into_iter()
                    .chain(
                        set.values
                            .iter()
                            .filter_map(|v| chart.files.iter().position(|f| f.path == *v)),
                    )
                    .collect();
                let rendering = Rendering {
                    chart_name: &chart.name,
                    files: &chart.files,
                    values: &values,
                    fallback: chart.chart_yaml,
                    label,
                };
                for (file, analysis) in place_helm(analysis, &rendering) {
                    by_file.entry(file).or_default().append(analysis);
                }
            }
            Outcome::Failed(message) => {
                let (file, span) = failure_place(chart, message);
                found.notes.push(note(
                    file,
                    span,
                    Severity::Warning,
                    "helm-render",
                    format!(
                        "Helm could not render chart {shown_root} ({label}): {}; its templates are read without \
                         rendering",
                        one_line(message)
                    ),
                ));
            }
        }
    }
    if !any_rendered {
        return found;
    }
    // Every template asked for takes the rendered findings (none is an empty analysis): its static
    // reading would judge what Helm replaces.
    for (file, _) in chart
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| is_template(&f.path) && replaced(&path_of_file(&chart.root, &f.path)))
    {
        by_file.entry(file).or_default();
    }
    for (file, mut analysis) in by_file {
        analysis.objects.sort_by_key(|o| o.span.start);
        let Some(path) = path_of(file) else { continue };
        found.placed.push(PlacedFile {
            path,
            text: text_of(file),
            analysis,
        });
    }
    found
}

fn path_of_file(root: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part))
}

/// Whether a chart file is a template Helm renders (its static reading is then replaced).
fn is_template(relative: &str) -> bool {
    relative.split('/').any(|part| part == "templates")
}

/// Where Helm's message says it failed: `<chart>/templates/x.yaml:12:3` names a template and its line;
/// else the chart's `Chart.yaml`.
fn failure_place(chart: &RenderedChart, message: &str) -> (usize, Span) {
    let prefix = format!("{}/", chart.name);
    let named = message.match_indices(&prefix).find_map(|(at, _)| {
        let rest = message.get(at + prefix.len()..)?;
        let end = rest
            .find(|c: char| c == ':' || c == '"' || c.is_whitespace())
            .unwrap_or(rest.len());
        let relative = rest.get(..end)?;
        let file = chart.files.iter().position(|f| f.path == relative)?;
        let line: Option<usize> = rest
            .get(end..)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok());
        Some((file, line))
    });
    match named {
        Some((file, line)) => {
            let text = chart.files.get(file).map_or("", |f| f.text.as_str());
            (file, line_span(text, line.unwrap_or(1)))
        }
        None => (
            chart.chart_yaml,
            first_line_span(chart.files.get(chart.chart_yaml).map_or("", |f| &f.text)),
        ),
    }
}

/// Helm's message on one line, without its `Error: ` (Helm spreads a template's failure over several
/// lines), and at most a few hundred characters.
fn one_line(message: &str) -> String {
    let joined = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined.strip_prefix("Error: ").unwrap_or(&joined);
    match joined.char_indices().nth(400) {
        Some((at, _)) => format!("{}…", joined.get(..at).unwrap_or(joined)),
        None => joined.to_string(),
    }
}

fn first_line_span(text: &str) -> Span {
    line_span(text, 1)
}

/// The span of line `line` (from 1) of `text`, without its end of line; the end of the text past it.
fn line_span(text: &str, line: usize) -> Span {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text.get(start..).and_then(|rest| rest.find('\n')) {
            Some(end) => start += end + 1,
            None => return Span::point(text.len()),
        }
    }
    let end = text
        .get(start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |e| start + e);
    // A CRLF file's line ends before its `\r`.
    let end = if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    };
    Span::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_messages_name_the_template_and_line_they_fail_at() {
        let chart = RenderedChart {
            root: PathBuf::from("deploy/web"),
            name: "web".into(),
            files: vec![
                ChartFile {
                    path: "Chart.yaml".into(),
                    text: "apiVersion: v2\nname: web\n".into(),
                },
                ChartFile {
                    path: "templates/deployment.yaml".into(),
                    text: "a: 1\r\nb: {{ .Values.x.y }}\nc: 3\n".into(),
                },
            ],
            chart_yaml: 0,
            inputs: Vec::new(),
            renderings: Vec::new(),
            static_reason: None,
            local_dependencies: Vec::new(),
        };
        let message = "Error: template: web/templates/deployment.yaml:2:8: executing \
                       \"web/templates/deployment.yaml\" at <.Values.x.y>: nil pointer evaluating interface {}.y";
        assert_eq!(failure_place(&chart, message), (1, Span::new(6, 26)));
        assert_eq!(
            failure_place(&chart, "Error: Chart.yaml file is missing"),
            (0, Span::new(0, 14))
        );
        assert_eq!(
            one_line("Error: web/templates/d.yaml:4:11\n  executing \"x\":\n    error"),
            "web/templates/d.yaml:4:11 executing \"x\": error"
        );
    }

    #[test]
    fn a_subchart_renders_with_its_parent() {
        let dir = std::env::temp_dir().join(format!("podsec-chart-root-{}", std::process::id()));
        let sub = dir.join("parent/charts/sub/templates");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.join("parent/Chart.yaml"), "name: parent\n").unwrap();
        std::fs::write(dir.join("parent/charts/sub/Chart.yaml"), "name: sub\n").unwrap();
        assert_eq!(chart_root(&sub.join("d.yaml")), Some(dir.join("parent")));
        assert_eq!(
            chart_root(&dir.join("parent/templates/d.yaml")),
            Some(dir.join("parent"))
        );
        assert_eq!(chart_root(&dir.join("elsewhere.yaml")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
