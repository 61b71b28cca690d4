//! Kustomize overlays among a run's inputs: finding the kustomizations, reading their trees, running
//! Kustomize, and handing the findings on each build's output back to the files that wrote them
//! (`podsec_engine::kustomize`).
//!
//! A kustomization is built when it is among the inputs, or when a file it names (a resource, a patch,
//! through its bases and components too) is; only the top ones are built (those no other built one
//! names as a base or component), each once. Kustomize is `PODSEC_KUSTOMIZE` (a kustomize, or a kubectl)
//! or `kustomize` on `PATH` (`kustomize build DIR`), else `kubectl` on `PATH` (`kubectl kustomize DIR`).

use crate::report::Input;
use podsec_engine::analysis::Problem;
use podsec_engine::kustomize::{
    Build, BuildFile, KUSTOMIZATION_NAMES, Kustomization, Role, Target, build_problem, patch_why,
    place_kustomize, read_kustomization,
};
use podsec_engine::{Analysis, ObjectReport};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A file's findings from the builds it is part of, in place of its own analysis.
#[derive(Debug)]
pub struct Placed {
    /// As the inputs give it when it is one, else from the kustomization that names it.
    pub path: PathBuf,
    /// Its text, which the spans are in.
    #[allow(
        dead_code,
        reason = "for run.rs's files beyond the inputs (a base outside the checked paths)"
    )]
    pub text: Arc<String>,
    /// Its findings from every build it is part of.
    pub analysis: Analysis,
}

/// What the overlays among a run's inputs give.
#[derive(Debug, Default)]
pub struct Overlays {
    /// Every file of every successful build (bases, kustomizations; patches where a finding goes), one
    /// entry per file.
    pub placed: Vec<Placed>,
    /// Every file a kustomization names as a patch, with why it is not judged alone (whether or not
    /// its overlay was built).
    pub patches: Vec<(PathBuf, String)>,
    /// Builds that failed or could not run, at their kustomization.
    pub problems: Vec<(PathBuf, Arc<String>, Problem)>,
}

/// How long one build may take (a remote base is fetched by Kustomize).
const BUILD_TIMEOUT: Duration = Duration::from_secs(120);

/// How deep bases may nest before the tree is cut (a cycle is cut at once).
const MAX_DEPTH: usize = 32;

/// A resource a kustomization names.
#[derive(Debug)]
enum Resource {
    File(PathBuf),
    Directory(PathBuf),
}

/// A kustomization and the files it names, its paths lexical (as output shows them) and absolute.
#[derive(Debug)]
struct Tree {
    /// The kustomization file.
    file: PathBuf,
    text: Arc<String>,
    /// A `kind: Component`: never built alone.
    component: bool,
    resources: Vec<Resource>,
    components: Vec<PathBuf>,
    patches: Vec<(PathBuf, Option<Target>)>,
}

/// `path` with `.` and `..` resolved lexically (a kustomization names `../../base`).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn is_remote(resource: &str) -> bool {
    resource.contains("://") || resource.starts_with("github.com/") || resource.starts_with("git@")
}

/// Reads kustomization trees, each directory once.
struct Loader {
    max_file_size: u64,
    cwd: PathBuf,
    trees: HashMap<PathBuf, Option<Arc<Tree>>>,
    texts: HashMap<PathBuf, Option<Arc<String>>>,
    /// Directory → its kustomization file: every input looks up every directory above it.
    found: HashMap<PathBuf, Option<PathBuf>>,
}

impl Loader {
    fn absolute(&self, path: &Path) -> PathBuf {
        lexical(&self.cwd.join(path))
    }

    /// As output shows a path: relative to the working directory when under it.
    fn shown(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.cwd)
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|_| path.to_path_buf())
    }

    fn text(&mut self, file: &Path) -> Option<Arc<String>> {
        let max = self.max_file_size;
        self.texts
            .entry(file.to_path_buf())
            .or_insert_with(|| {
                file.is_file()
                    .then(|| crate::read::read_text(file, max).ok())
                    .flatten()
                    .map(Arc::new)
            })
            .clone()
    }

    /// The kustomization file of `directory` (absolute), if it has one.
    fn kustomization_file(&mut self, directory: &Path) -> Option<PathBuf> {
        self.found
            .entry(directory.to_path_buf())
            .or_insert_with(|| {
                KUSTOMIZATION_NAMES
                    .iter()
                    .map(|name| directory.join(name))
                    .find(|file| file.is_file())
            })
            .clone()
    }

    /// The tree of the kustomization in `directory` (absolute).
    fn tree(&mut self, directory: &Path) -> Option<Arc<Tree>> {
        if let Some(known) = self.trees.get(directory) {
            return known.clone();
        }
        let tree = self.read_tree(directory).map(Arc::new);
        self.trees.insert(directory.to_path_buf(), tree.clone());
        tree
    }

    fn read_tree(&mut self, directory: &Path) -> Option<Tree> {
        let file = self.kustomization_file(directory)?;
        let text = self.text(&file)?;
        let Kustomization {
            resources,
            components,
            patches,
            component,
            ..
        } = read_kustomization(&text)?;
        let resources = resources
            .iter()
            .filter(|r| !is_remote(r))
            .filter_map(|r| {
                let path = lexical(&directory.join(r));
                if path.is_dir() {
                    Some(Resource::Directory(path))
                } else if path.is_file() {
                    Some(Resource::File(path))
                } else {
                    None
                }
            })
            .collect();
        let components = components
            .iter()
            .filter(|c| !is_remote(c))
            .map(|c| lexical(&directory.join(c)))
            .collect();
        let patches = patches
            .into_iter()
            .map(|p| (lexical(&directory.join(&p.path)), p.target))
            .collect();
        Some(Tree {
            file,
            text,
            component,
            resources,
            components,
            patches,
        })
    }

    /// The kustomization directories a tree builds on (its bases and components), at every depth.
    fn sub_directories(&mut self, directory: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![(directory.to_path_buf(), 0)];
        let mut seen = HashSet::new();
        while let Some((dir, depth)) = stack.pop() {
            if depth > MAX_DEPTH || !seen.insert(dir.clone()) {
                continue;
            }
            let Some(tree) = self.tree(&dir) else { continue };
            if depth > 0 {
                found.push(dir.clone());
            }
            let subs = tree
                .resources
                .iter()
                .filter_map(|r| match r {
                    Resource::Directory(d) => Some(d.clone()),
                    Resource::File(_) => None,
                })
                .chain(tree.components.iter().cloned());
            stack.extend(subs.map(|d| (d, depth + 1)));
        }
        found
    }

    /// Every file of the tree of `directory`, in the order Kustomize applies them: a base's kustomization,
    /// resources and patches (bases depth first), then its components, then its own patches.
    fn files(
        &mut self,
        directory: &Path,
        depth: usize,
        seen: &mut HashSet<PathBuf>,
        out: &mut Vec<(PathBuf, Role)>,
    ) {
        if depth > MAX_DEPTH || !seen.insert(directory.to_path_buf()) {
            return;
        }
        let Some(tree) = self.tree(directory) else { return };
        out.push((tree.file.clone(), Role::Kustomization));
        for resource in &tree.resources {
            match resource {
                Resource::File(file) => out.push((file.clone(), Role::Resource)),
                Resource::Directory(dir) => self.files(dir, depth + 1, seen, out),
            }
        }
        for component in &tree.components {
            self.files(component, depth + 1, seen, out);
        }
        for (patch, target) in &tree.patches {
            out.push((patch.clone(), Role::Patch(target.clone())));
        }
    }
}

/// The program that builds an overlay, and its arguments before the directory.
fn kustomize_command() -> Option<(PathBuf, Vec<&'static str>)> {
    let on_path = crate::process::on_path;
    if let Some(program) = std::env::var_os("PODSEC_KUSTOMIZE").filter(|p| !p.is_empty()) {
        let program = PathBuf::from(program);
        // A kubectl named there builds as `kubectl kustomize`.
        let kubectl = program
            .file_stem()
            .is_some_and(|name| name.to_string_lossy().starts_with("kubectl"));
        return Some((program, vec![if kubectl { "kustomize" } else { "build" }]));
    }
    if let Some(program) = on_path("kustomize") {
        return Some((program, vec!["build"]));
    }
    on_path("kubectl").map(|program| (program, vec!["kustomize"]))
}

/// Runs `program args… directory` within [`BUILD_TIMEOUT`] and `max_output` bytes: its output, or why
/// there is none.
fn run_build(program: &Path, args: &[&str], directory: &Path, max_output: u64) -> Result<String, String> {
    let mut arguments: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    arguments.push(directory.display().to_string());
    let bounds = crate::process::Bounds {
        timeout: BUILD_TIMEOUT,
        output: max_output,
        cancelled: &|| false,
    };
    let finished = crate::process::run(program, &arguments, &bounds)?;
    if finished.status.success() {
        String::from_utf8(finished.stdout).map_err(|_| "its output is not UTF-8".to_string())
    } else {
        let message = podsec_engine::kustomize::build_error(&String::from_utf8_lossy(&finished.stderr));
        Err(if message.is_empty() {
            format!("exited with {}", finished.status)
        } else {
            message
        })
    }
}

/// Builds the overlays the inputs belong to and places each build's findings (`analyse` reads a
/// build's output with the run's policy: the namespace Kustomize gives an object is in it).
pub fn build_overlays(
    inputs: &[Input],
    max_file_size: u64,
    analyse: &(dyn Fn(&str) -> Analysis + Sync),
) -> Overlays {
    let Ok(cwd) = std::env::current_dir() else {
        return Overlays::default();
    };
    let mut loader = Loader {
        max_file_size,
        cwd,
        trees: HashMap::new(),
        texts: HashMap::new(),
        found: HashMap::new(),
    };
    // Inputs by absolute path, to be named as given.
    let mut given: HashMap<PathBuf, PathBuf> = HashMap::new();
    for input in inputs {
        if let Input::File(path) = input {
            given.insert(loader.absolute(path), path.clone());
        }
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut looked: HashSet<PathBuf> = HashSet::new();
    let mut reaches: HashMap<PathBuf, HashSet<PathBuf>> = HashMap::new();
    let mut inputs_sorted: Vec<&PathBuf> = given.keys().collect();
    inputs_sorted.sort();
    for input in inputs_sorted {
        let mut directory = input.parent();
        while let Some(dir) = directory {
            directory = dir.parent();
            if loader.kustomization_file(dir).is_none() {
                continue;
            }
            let is_input = KUSTOMIZATION_NAMES.iter().any(|n| dir.join(n) == *input);
            let names_it = is_input || {
                if !reaches.contains_key(dir) {
                    let mut files = Vec::new();
                    loader.files(dir, 0, &mut HashSet::new(), &mut files);
                    reaches.insert(dir.to_path_buf(), files.into_iter().map(|(f, _)| f).collect());
                }
                reaches.get(dir).is_some_and(|files| files.contains(input))
            };
            if names_it && looked.insert(dir.to_path_buf()) {
                candidates.push(dir.to_path_buf());
            }
        }
    }
    // Only the top ones: a base or component of another is built through it.
    let mut below: HashSet<PathBuf> = HashSet::new();
    for candidate in &candidates {
        below.extend(loader.sub_directories(candidate));
    }
    let tops: Vec<PathBuf> = candidates
        .iter()
        .filter(|c| !below.contains(*c) && loader.tree(c).is_some_and(|t| !t.component))
        .cloned()
        .collect();
    let shown = |loader: &Loader, path: &Path| given.get(path).cloned().unwrap_or_else(|| loader.shown(path));
    // Every patch of every tree read, whether or not it is built.
    let mut overlays = Overlays::default();
    let mut patched: HashSet<PathBuf> = HashSet::new();
    let mut directories: Vec<PathBuf> = loader.trees.keys().cloned().collect();
    directories.sort();
    for directory in directories {
        let Some(Some(tree)) = loader.trees.get(&directory).cloned() else {
            continue;
        };
        for (patch, _) in &tree.patches {
            if patched.insert(patch.clone()) {
                let why = patch_why(
                    &crate::report::shown(&shown(&loader, &tree.file))
                        .display()
                        .to_string(),
                );
                overlays.patches.push((shown(&loader, patch), why));
            }
        }
    }
    // The files of each build, read here; the builds run in parallel.
    struct Job {
        directory: PathBuf,
        kustomization: (PathBuf, Arc<String>),
        files: Vec<(PathBuf, BuildFile)>,
    }
    let mut jobs = Vec::new();
    for top in &tops {
        let mut files = Vec::new();
        loader.files(top, 0, &mut HashSet::new(), &mut files);
        let mut seen = HashSet::new();
        let mut build_files = Vec::new();
        for (file, role) in files {
            if !seen.insert(file.clone()) {
                continue;
            }
            let Some(text) = loader.text(&file) else { continue };
            let path = shown(&loader, &file);
            build_files.push((
                file,
                BuildFile {
                    path: path.display().to_string(),
                    text: text.to_string(),
                    role,
                },
            ));
        }
        let Some(tree) = loader.tree(top) else { continue };
        jobs.push(Job {
            directory: top.clone(),
            kustomization: (shown(&loader, &tree.file), Arc::clone(&tree.text)),
            files: build_files,
        });
    }
    let Some((program, args)) = kustomize_command() else {
        for job in jobs {
            let (path, text) = job.kustomization;
            let problem = Problem {
                severity: podsec_engine::policy::Severity::Information,
                ..build_problem(
                    "kustomize build",
                    "neither kustomize nor kubectl is on PATH (or set PODSEC_KUSTOMIZE): the overlay is not built, its files are checked alone",
                )
            };
            overlays.problems.push((path, text, problem));
        }
        return overlays;
    };
    let tool = program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let results = crate::parallel::parallel_map(&jobs, |job| {
        let label = format!(
            "{tool} {} {}",
            args.join(" "),
            loader.shown(&job.directory).display()
        );
        let output = run_build(&program, &args, &job.directory, max_file_size);
        let placed = output.as_ref().ok().map(|output| {
            let files: Vec<BuildFile> = job.files.iter().map(|(_, f)| f.clone()).collect();
            let build = Build {
                output,
                files: &files,
                kustomization: 0,
                label: &label,
            };
            place_kustomize(analyse(output), &build)
        });
        (label, output.err(), placed)
    });
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    for (job, (label, error, placed)) in jobs.iter().zip(results) {
        if let Some(error) = error {
            let (path, text) = job.kustomization.clone();
            overlays
                .problems
                .push((path, text, build_problem(&label, &error)));
            continue;
        }
        let mut found: HashMap<usize, Analysis> = placed.into_iter().flatten().collect();
        for (index, (absolute, file)) in job.files.iter().enumerate() {
            let analysis = found.remove(&index).unwrap_or_default();
            // A patch is placed only where a finding goes; its note says the rest.
            if matches!(file.role, Role::Patch(_)) && analysis == Analysis::default() {
                continue;
            }
            let at = *by_path.entry(absolute.clone()).or_insert_with(|| {
                overlays.placed.push(Placed {
                    path: PathBuf::from(&file.path),
                    text: Arc::new(file.text.clone()),
                    analysis: Analysis::default(),
                });
                overlays.placed.len() - 1
            });
            if let Some(entry) = overlays.placed.get_mut(at) {
                let into = &mut entry.analysis;
                // An object that several overlays deploy alike (same name, namespace, verdict and places)
                // is reported once, as the first build gave it.
                for object in analysis.objects {
                    let alike = |known: &ObjectReport| {
                        let mut other = object.clone();
                        other.rendered.clone_from(&known.rendered);
                        other.document = known.document;
                        *known == other
                    };
                    if !into.objects.iter().any(alike) {
                        into.objects.push(object);
                    }
                }
                into.objects.sort_by_key(|o| o.span.start);
                into.problems.extend(analysis.problems);
                into.config_problems.extend(analysis.config_problems);
                into.used_exemptions.extend(analysis.used_exemptions);
            }
        }
    }
    overlays
}

impl Overlays {
    /// Why `input` is not judged alone, when a kustomization names it as a patch.
    pub fn patch_why(&self, input: &Input) -> Option<&str> {
        let Input::File(path) = input else { return None };
        self.patches
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, why)| why.as_str())
    }
}
