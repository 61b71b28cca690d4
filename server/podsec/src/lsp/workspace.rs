//! What the server knows beyond the open documents: Namespace objects and admission configurations in
//! the workspace folders (scanned once, then kept current by file watching when the client offers it,
//! and on every save and close in any case), and the project files above each document. Only these
//! policy sources are read from disk; an open document's text always wins over its file.

use podsec_engine::Limits;
use podsec_engine::policy::{
    AdmissionConfig, NamespaceLabels, ProjectConfig, admission_config, namespace_labels,
};
use podsec_engine::workload::pod_namespaces;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files larger than this are not scanned (the editor limit for a document is the same).
const MAX_SCANNED_FILE: u64 = 10 * 1024 * 1024;
/// At most this many files are scanned per workspace.
const MAX_SCANNED_FILES: usize = 20_000;

/// The policy sources found in one workspace file, and where its workloads live.
#[derive(Clone, Debug, Default)]
pub struct Scanned {
    pub namespaces: Vec<NamespaceLabels>,
    pub admission: Option<AdmissionConfig>,
    /// The namespaces of its pod-bearing objects (`None`: no namespace given), for the impact of a
    /// Namespace's enforce label on the whole workspace.
    pub workloads: Vec<Option<String>>,
}

/// A project file as read for the editor.
#[derive(Clone, Debug)]
pub struct Project {
    pub config: ProjectConfig,
    pub admission: Option<AdmissionConfig>,
}

#[derive(Default)]
pub struct Workspace {
    pub roots: Vec<PathBuf>,
    pub scanned: HashMap<PathBuf, Scanned>,
    /// Directory → the project file that governs it (or none).
    project_of: HashMap<PathBuf, Option<PathBuf>>,
    /// Project file → its contents.
    projects: HashMap<PathBuf, Option<Project>>,
    /// Kustomization file → its text (or none), read on first use.
    kustomizations: HashMap<PathBuf, Option<Arc<crate::project::ResolvedKustomization>>>,
    /// File → the namespace a kustomization above it gives it (or none), found on first use: a label's
    /// impact asks it of every workload file, for every Namespace of a workspace pull.
    kustomized: HashMap<PathBuf, Option<String>>,
    /// File → why it is not judged alone (a kustomization's patch), or none, found on first use.
    patches_of: HashMap<PathBuf, Option<String>>,
    /// Project files open in the editor → their text, which wins over the file on disk.
    open_projects: HashMap<PathBuf, String>,
    /// Kustomizations open in the editor → their text, which wins over the file on disk (a `namespace:`
    /// edit applies before it is saved, as a label edit does).
    open_kustomizations: HashMap<PathBuf, String>,
}

/// How a workspace file is named in messages: relative to the workspace folder it is in.
pub(super) fn display_name(path: &Path, roots: &[PathBuf]) -> String {
    roots
        .iter()
        .find_map(|root| path.strip_prefix(root).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Reads the policy sources of one file (named as `roots` make it relative).
pub fn scan_file(path: &Path, roots: &[PathBuf]) -> Option<Scanned> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_SCANNED_FILE {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let limits = Limits::default();
    let workloads = pod_namespaces(&text, &limits);
    // Cheap test first: most files are neither.
    if !text.contains("Namespace") && !text.contains("PodSecurityConfiguration") {
        return Some(Scanned {
            workloads,
            ..Scanned::default()
        });
    }
    let name = format!("admission configuration {}", display_name(path, roots));
    Some(Scanned {
        namespaces: namespace_labels(&text, &limits),
        admission: admission_config(&text, &name, &limits).map(|(a, _)| a),
        workloads,
    })
}

/// Every `*.yaml`/`*.yml` below `roots`, hidden directories, `node_modules` and `target` left out,
/// read on every core.
pub fn scan_roots(roots: &[PathBuf]) -> HashMap<PathBuf, Scanned> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = roots.to_vec();
    'walk: while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !name.starts_with('.') && name != "node_modules" && name != "target" {
                    pending.push(path);
                }
            } else if kind.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
                if files.len() == MAX_SCANNED_FILES {
                    break 'walk;
                }
                files.push(path);
            }
        }
    }
    let scanned = crate::parallel::parallel_map(&files, |path| scan_file(path, roots));
    files
        .into_iter()
        .zip(scanned)
        .filter_map(|(path, scanned)| Some((path, scanned?)))
        .collect()
}

impl Workspace {
    /// Forgets cached project files (after one changed on disk).
    pub fn forget_projects(&mut self) {
        self.project_of.clear();
        self.projects.clear();
        self.kustomizations.clear();
        self.kustomized.clear();
        self.patches_of.clear();
    }

    /// Why `file` is not judged as a whole object, when a kustomization in its directory or one of the
    /// four above names it as a patch (`patches:`, `patchesStrategicMerge:`, `patchesJson6902:`); found
    /// once per file until the project files are forgotten.
    pub fn patch_of(&mut self, file: &Path) -> Option<String> {
        if let Some(known) = self.patches_of.get(file) {
            return known.clone();
        }
        let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        let found = file.ancestors().skip(1).take(5).find_map(|directory| {
            ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                .iter()
                .map(|name| directory.join(name))
                .find_map(|kustomization| {
                    let text = match self.open_kustomizations.get(&kustomization) {
                        Some(text) => text.clone(),
                        None => std::fs::read_to_string(&kustomization).ok()?,
                    };
                    let named = podsec_engine::kustomize::patch_files(&text)
                        .iter()
                        .any(|patch| same(&directory.join(patch), file));
                    let shown = display_name(&kustomization, &self.roots);
                    named.then(|| podsec_engine::kustomize::patch_why(&shown))
                })
        });
        self.patches_of.insert(file.to_path_buf(), found.clone());
        found
    }

    /// The namespace a kustomization above `file` gives it, found once per file (every snapshot of an
    /// open document asks) until the project files are forgotten.
    pub fn kustomize_namespace(&mut self, file: &Path) -> Option<String> {
        if let Some(known) = self.kustomized.get(file) {
            return known.clone();
        }
        let cache = &mut self.kustomizations;
        let open = &self.open_kustomizations;
        let found =
            crate::project::kustomize_namespace(file, &mut crate::project::Resolver::default(), |path| {
                cache
                    .entry(path.to_path_buf())
                    .or_insert_with(|| {
                        let text = match open.get(path) {
                            Some(text) => text.clone(),
                            None => std::fs::read_to_string(path).ok()?,
                        };
                        crate::project::ResolvedKustomization::read(path.parent()?, &text).map(Arc::new)
                    })
                    .clone()
            });
        self.kustomized.insert(file.to_path_buf(), found.clone());
        found
    }

    /// The project governing `file`, read (and cached) on first use.
    pub fn project_for(&mut self, file: &Path) -> Option<Project> {
        let project_path = self.project_path_for(file)?;
        if let Some(known) = self.projects.get(&project_path) {
            return known.clone();
        }
        self.read_project(project_path)
    }

    /// The project file governing `file`: the nearest `.podsec.yaml` above it (found once per directory).
    pub fn project_path_for(&mut self, file: &Path) -> Option<PathBuf> {
        let directory = file.parent()?.to_path_buf();
        match self.project_of.get(&directory) {
            Some(known) => known.clone(),
            None => {
                let mut current = Some(directory.as_path());
                let mut found = None;
                while let Some(dir) = current {
                    let candidate = dir.join(crate::project::PROJECT_FILE);
                    if candidate.is_file() {
                        found = Some(candidate);
                        break;
                    }
                    current = dir.parent();
                }
                self.project_of.insert(directory, found.clone());
                found
            }
        }
    }

    /// Reads (and caches) the project file at `project_path`, its open text over its file.
    fn read_project(&mut self, project_path: PathBuf) -> Option<Project> {
        let text = match self.open_projects.get(&project_path) {
            Some(open) => Some(open.clone()),
            None => std::fs::read_to_string(&project_path).ok(),
        };
        let project = text.map(|text| {
            let (config, _problems) = podsec_engine::sources::project_file(&text, &Limits::default());
            let admission = config.admission_configuration.as_ref().and_then(|relative| {
                let path = project_path.parent().unwrap_or(Path::new("/")).join(relative);
                let text = std::fs::read_to_string(&path).ok()?;
                admission_config(
                    &text,
                    &format!("admission configuration {}", display_name(&path, &self.roots)),
                    &Limits::default(),
                )
                .map(|(a, _)| a)
            });
            Project { config, admission }
        });
        self.projects.insert(project_path, project.clone());
        project
    }

    /// Sets (or, with `None`, drops) the open text of a project file; true when that changes anything.
    pub fn set_open_project(&mut self, path: &Path, text: Option<&str>) -> bool {
        let changed = self.open_projects.get(path).map(String::as_str) != text;
        if changed {
            match text {
                Some(text) => self.open_projects.insert(path.to_path_buf(), text.to_string()),
                None => self.open_projects.remove(path),
            };
            self.forget_projects();
        }
        changed
    }

    /// Sets (or, with `None`, drops) the open text of a kustomization; true when that changes anything.
    pub fn set_open_kustomization(&mut self, path: &Path, text: Option<&str>) -> bool {
        let changed = self.open_kustomizations.get(path).map(String::as_str) != text;
        if changed {
            match text {
                Some(text) => self
                    .open_kustomizations
                    .insert(path.to_path_buf(), text.to_string()),
                None => self.open_kustomizations.remove(path),
            };
            self.forget_projects();
        }
        changed
    }

    /// Reads `path` again from disk (after a save, a close or a change on disk), if it is a workspace
    /// file; a file that is gone or unreadable is forgotten.
    pub fn rescan(&mut self, path: &Path) {
        let in_workspace = self.roots.iter().any(|root| path.starts_with(root));
        if !in_workspace && !self.scanned.contains_key(path) {
            return;
        }
        match scan_file(path, &self.roots) {
            Some(scanned) => {
                self.scanned.insert(path.to_path_buf(), scanned);
            }
            None => {
                self.scanned.remove(path);
            }
        }
    }

    /// Whether the scanned copy of `path` holds a Namespace or an admission configuration.
    pub fn gives_policy(&self, path: &Path) -> bool {
        self.scanned
            .get(path)
            .is_some_and(|s| !s.namespaces.is_empty() || s.admission.is_some())
    }

    /// The files of the scan, not in `open`, with pod-bearing objects in one of `namespaces` (through
    /// their own `metadata.namespace` or a kustomization's).
    pub fn workload_files(&mut self, namespaces: &[String], open: &[PathBuf]) -> Vec<PathBuf> {
        // Cheap tests first, and only what is kept is sorted: a workspace pull asks this for every
        // Namespace file of thousands of files.
        let candidates: Vec<(PathBuf, bool)> = self
            .scanned
            .iter()
            .filter(|(path, s)| !s.workloads.is_empty() && !open.contains(path))
            .map(|(path, s)| {
                let named = s.workloads.iter().flatten().any(|n| namespaces.contains(n));
                (path.clone(), named)
            })
            .collect();
        let mut kept: Vec<PathBuf> = candidates
            .into_iter()
            .filter_map(|(path, named)| {
                let keep = named
                    || self
                        .kustomize_namespace(&path)
                        .is_some_and(|n| namespaces.contains(&n));
                keep.then_some(path)
            })
            .collect();
        kept.sort();
        kept
    }

    /// Namespaces from the scan, leaving out the files in `open` (whose open texts are used instead).
    pub fn namespaces<'a>(&'a self, open: &'a [PathBuf]) -> impl Iterator<Item = &'a NamespaceLabels> + 'a {
        self.scanned
            .iter()
            .filter(move |(p, s)| !s.namespaces.is_empty() && !open.contains(p))
            .flat_map(|(_, s)| &s.namespaces)
    }

    /// The admission configurations of the scan by path, leaving out the files in `open`.
    pub fn admissions<'a>(
        &'a self,
        open: &'a [PathBuf],
    ) -> impl Iterator<Item = (&'a PathBuf, &'a AdmissionConfig)> + 'a {
        self.scanned
            .iter()
            .filter(move |(p, s)| s.admission.is_some() && !open.contains(p))
            .filter_map(|(p, s)| Some((p, s.admission.as_ref()?)))
    }
}
