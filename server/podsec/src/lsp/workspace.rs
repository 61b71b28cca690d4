//! What the server knows beyond the open documents: Namespace objects and admission configurations in
//! the workspace folders (scanned once, then kept current through file watching), and the project files
//! above each document. Only these policy sources are read from disk.

use podsec_engine::Limits;
use podsec_engine::config::{
    AdmissionConfig, NamespaceLabels, ProjectConfig, admission_config, namespace_labels, project_config,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Files larger than this are not scanned (the editor limit for a document is the same).
const MAX_SCANNED_FILE: u64 = 10 * 1024 * 1024;
/// At most this many files are scanned per workspace.
const MAX_SCANNED_FILES: usize = 20_000;

/// The policy sources found in one workspace file.
#[derive(Clone, Debug, Default)]
pub struct Scanned {
    pub namespaces: Vec<NamespaceLabels>,
    pub admission: Option<AdmissionConfig>,
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
    kustomizations: HashMap<PathBuf, Option<String>>,
}

/// Reads the policy sources of one file.
pub fn scan_file(path: &Path) -> Option<Scanned> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_SCANNED_FILE {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    // Cheap test first: most files are neither.
    if !text.contains("Namespace") && !text.contains("PodSecurityConfiguration") {
        return Some(Scanned::default());
    }
    let limits = Limits::default();
    let name = format!("admission configuration {}", path.display());
    Some(Scanned {
        namespaces: namespace_labels(&text, &limits),
        admission: admission_config(&text, &name, &limits).map(|(a, _)| a),
    })
}

/// Every `*.yaml`/`*.yml` below `roots`, hidden directories, `node_modules` and `target` left out.
pub fn scan_roots(roots: &[PathBuf]) -> HashMap<PathBuf, Scanned> {
    let mut found = HashMap::new();
    let mut pending: Vec<PathBuf> = roots.to_vec();
    let mut files = 0;
    while let Some(directory) = pending.pop() {
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
                files += 1;
                if files > MAX_SCANNED_FILES {
                    return found;
                }
                if let Some(scanned) = scan_file(&path) {
                    found.insert(path, scanned);
                }
            }
        }
    }
    found
}

impl Workspace {
    /// Forgets cached project files (after one changed on disk).
    pub fn forget_projects(&mut self) {
        self.project_of.clear();
        self.projects.clear();
        self.kustomizations.clear();
    }

    /// The namespace a kustomization above `file` gives it.
    pub fn kustomize_namespace(&mut self, file: &Path) -> Option<String> {
        let cache = &mut self.kustomizations;
        crate::project::kustomize_namespace(file, |path| {
            cache
                .entry(path.to_path_buf())
                .or_insert_with(|| std::fs::read_to_string(path).ok())
                .clone()
        })
    }

    /// The project governing `file`, read (and cached) on first use.
    pub fn project_for(&mut self, file: &Path) -> Option<Project> {
        let directory = file.parent()?.to_path_buf();
        let project_path = match self.project_of.get(&directory) {
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
        }?;
        if let Some(known) = self.projects.get(&project_path) {
            return known.clone();
        }
        let project = std::fs::read_to_string(&project_path).ok().map(|text| {
            let (config, _problems) = project_config(&text, &Limits::default());
            let admission = config.admission_configuration.as_ref().and_then(|relative| {
                let path = project_path.parent().unwrap_or(Path::new("/")).join(relative);
                let text = std::fs::read_to_string(&path).ok()?;
                admission_config(
                    &text,
                    &format!("admission configuration {}", path.display()),
                    &Limits::default(),
                )
                .map(|(a, _)| a)
            });
            Project { config, admission }
        });
        self.projects.insert(project_path, project.clone());
        project
    }

    /// Namespaces from the scan, leaving out `except` (whose open text is used instead).
    pub fn namespaces(&self, except: Option<&Path>) -> impl Iterator<Item = &NamespaceLabels> {
        self.scanned
            .iter()
            .filter(move |(p, _)| Some(p.as_path()) != except)
            .flat_map(|(_, s)| &s.namespaces)
    }

    /// The first admission configuration found in the workspace.
    pub fn admission(&self) -> Option<&AdmissionConfig> {
        let mut paths: Vec<&PathBuf> = self
            .scanned
            .iter()
            .filter(|(_, s)| s.admission.is_some())
            .map(|(p, _)| p)
            .collect();
        paths.sort();
        paths
            .first()
            .and_then(|p| self.scanned.get(*p))
            .and_then(|s| s.admission.as_ref())
    }
}
