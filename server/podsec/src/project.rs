//! Finding the policy sources on disk for the command line: the project file (walking up from each checked
//! file, or `--config`), the admission configuration it names, and today's date for exemption expiry.

use podsec_engine::Limits;
use podsec_engine::policy::{AdmissionConfig, ConfigProblem, Date, ProjectConfig, admission_config};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The project file's name.
pub const PROJECT_FILE: &str = ".podsec.yaml";

/// A project file as read.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub path: PathBuf,
    pub text: String,
    pub config: ProjectConfig,
    pub problems: Vec<ConfigProblem>,
    /// The admission configuration it names, with its path, text and problems.
    pub admission: Option<(PathBuf, String, AdmissionConfig, Vec<ConfigProblem>)>,
}

impl ProjectFile {
    /// Reads a project file and the admission configuration it names, each at most `max_size` bytes.
    pub fn load(path: &Path, max_size: u64) -> Result<Self, String> {
        let text = crate::read::read_text(path, max_size).map_err(|e| format!("{}: {e}", path.display()))?;
        let (config, problems) = podsec_engine::sources::project_file(&text, &Limits::default());
        let admission = match &config.admission_configuration {
            Some(relative) => {
                let admission_path = path.parent().unwrap_or(Path::new(".")).join(relative);
                let admission_text = crate::read::read_text(&admission_path, max_size).map_err(|e| {
                    format!(
                        "{}: admissionConfiguration {}: {e}",
                        path.display(),
                        admission_path.display()
                    )
                })?;
                let name = format!("admission configuration {}", admission_path.display());
                let (admission, problems) = admission_config(&admission_text, &name, &Limits::default())
                    .ok_or_else(|| {
                        format!(
                            "{}: {} holds no PodSecurityConfiguration",
                            path.display(),
                            admission_path.display()
                        )
                    })?;
                Some((admission_path, admission_text, admission, problems))
            }
            None => None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            text,
            config,
            problems,
            admission,
        })
    }

    /// Whether a checked file is skipped by the project's `skip` globs (relative to the project file).
    pub fn skips(&self, file: &Path) -> bool {
        skipped(&self.path, &self.config.skip, file, false)
    }
}

/// Whether `path` is skipped by the `skip` globs of the project file at `project`: a file when a glob
/// matches its path relative to the project file's directory; a directory (which a walk then does not
/// enter) when a glob matches that path with a `/` after it, as `deploy/` or `tests/**` do.
pub fn skipped(project: &Path, globs: &[String], path: &Path, directory: bool) -> bool {
    // A project file found in the working directory is `.podsec.yaml`, whose parent is empty.
    let base = project
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (base, path) = (absolute(base), absolute(path));
    let Ok(relative) = path.strip_prefix(&base) else {
        return false;
    };
    let mut relative = relative.to_string_lossy().replace('\\', "/");
    if directory {
        relative.push('/');
    }
    globs
        .iter()
        .any(|glob| podsec_engine::policy::glob_match(glob, &relative))
}

/// The `skip` globs of the project file at `path`; none when it cannot be read (the run that needs it
/// says why).
pub fn skip_globs(path: &Path, max_size: u64) -> Vec<String> {
    crate::read::read_text(path, max_size)
        .map(|text| {
            podsec_engine::sources::project_file(&text, &Limits::default())
                .0
                .skip
        })
        .unwrap_or_default()
}

/// Resolves paths as `std::fs::canonicalize` does, with each directory resolved once: resolving a path
/// costs a `readlink` per component, and a run looks up hundreds of files in the same few directories.
#[derive(Default)]
pub struct Resolver {
    directories: HashMap<PathBuf, Option<PathBuf>>,
}

impl Resolver {
    /// `path` resolved, or `None` when it does not exist.
    pub fn resolve(&mut self, path: &Path) -> Option<PathBuf> {
        self.resolve_kind(path).map(|(resolved, _)| resolved)
    }

    /// `path` resolved, and whether it is a directory (known from the one `lstat` when it is no link).
    pub fn resolve_kind(&mut self, path: &Path) -> Option<(PathBuf, bool)> {
        let metadata = std::fs::symlink_metadata(path).ok()?;
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            let resolved = std::fs::canonicalize(path).ok()?;
            let is_dir = resolved.is_dir();
            return Some((resolved, is_dir));
        };
        // A directory (which is cached itself) resolves on its own, and so does a link; a file below its
        // directory.
        if metadata.is_dir() {
            return self.directory(path).map(|resolved| (resolved, true));
        }
        if metadata.file_type().is_symlink() {
            let resolved = self.directory(path)?;
            let is_dir = resolved.is_dir();
            return Some((resolved, is_dir));
        }
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        Some((self.directory(parent)?.join(name), false))
    }

    fn directory(&mut self, directory: &Path) -> Option<PathBuf> {
        if let Some(known) = self.directories.get(directory) {
            return known.clone();
        }
        let resolved = std::fs::canonicalize(directory).ok();
        self.directories.insert(directory.to_path_buf(), resolved.clone());
        resolved
    }
}

/// Finds the nearest project file at or above `start` (a file or directory), caching per directory.
pub fn find_project_file(
    start: &Path,
    cache: &mut HashMap<PathBuf, Option<PathBuf>>,
    resolver: &mut Resolver,
) -> Option<PathBuf> {
    let (start, is_dir) = resolver.resolve_kind(start)?;
    let mut directory = if is_dir {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    let mut visited = Vec::new();
    let found = loop {
        if let Some(known) = cache.get(&directory) {
            break known.clone();
        }
        visited.push(directory.clone());
        let candidate = directory.join(PROJECT_FILE);
        if candidate.is_file() {
            break Some(candidate);
        }
        match directory.parent() {
            Some(parent) => directory = parent.to_path_buf(),
            None => break None,
        }
    };
    let found = found.map(|path| relative_to_cwd(&path));
    for directory in visited {
        cache.insert(directory, found.clone());
    }
    found
}

/// `path` relative to the working directory when it is below it, so reports name files as users typed them.
pub fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// Today, for exemption expiry: `PODSEC_TODAY` (YYYY-MM-DD) when set, as tests do, else the system clock.
pub fn today() -> Option<Date> {
    if let Some(date) = std::env::var("PODSEC_TODAY").ok().and_then(|d| Date::parse(&d)) {
        return Some(date);
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Date::from_unix_days(i64::try_from(seconds / 86_400).ok()?))
}

/// A kustomization file as the namespace lookup needs it: its `namespace:`, and where its `resources:`
/// lead (each resolved once, however many files below it are looked up).
#[derive(Debug)]
pub struct ResolvedKustomization {
    namespace: Option<String>,
    /// Each resource's resolved path, or its joined path when it does not resolve.
    resources: Vec<(PathBuf, bool)>,
}

impl ResolvedKustomization {
    /// Reads the kustomization file of directory `dir` from its `text`.
    pub fn read(dir: &Path, text: &str) -> Option<Self> {
        let kustomization = podsec_engine::policy::kustomization(text, &Limits::default())?;
        let resources = kustomization
            .resources
            .iter()
            .map(|resource| {
                let path = dir.join(resource);
                match std::fs::canonicalize(&path) {
                    Ok(resolved) => (resolved, true),
                    Err(_) => (path, false),
                }
            })
            .collect();
        Some(Self {
            namespace: kustomization.namespace,
            resources,
        })
    }

    /// Whether it lists `file` (resolved), itself or through a directory above it.
    fn lists(&self, file: &Path) -> bool {
        self.resources
            .iter()
            .any(|(path, resolved)| path == file || (*resolved && file.starts_with(path)))
    }
}

/// The namespace Kustomize gives `file`: the `namespace:` of the nearest `kustomization.yaml` above it
/// whose `resources:` lists it. `read` returns the kustomization at a path (from disk, or a cache).
pub fn kustomize_namespace(
    file: &Path,
    resolver: &mut Resolver,
    mut read: impl FnMut(&Path) -> Option<Arc<ResolvedKustomization>>,
) -> Option<String> {
    let file = resolver.resolve(file).unwrap_or_else(|| file.to_path_buf());
    let mut directory = file.parent();
    while let Some(dir) = directory {
        for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
            let Some(kustomization) = read(&dir.join(name)) else {
                continue;
            };
            if kustomization.lists(&file) {
                return kustomization.namespace.clone();
            }
        }
        directory = dir.parent();
    }
    None
}
