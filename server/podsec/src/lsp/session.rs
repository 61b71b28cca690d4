//! The server's state, and the one snapshot every request works from.
//!
//! A request (publishing, hover, code actions, fix-all) never assembles its own options: it takes a
//! [`Snapshot`] of the document — text, version, encoding, the resolved policy context with its limits
//! and Kustomize namespace — and analyses through [`Snapshot::options`]. So the analysis behind a code
//! action or a hover is, by construction, the analysis behind the diagnostics it answers.

use super::convert::Encoding;
use super::diagnostics::DiagnosticStyle;
use super::render::RenderedFile;
use super::settings::Settings;
use super::workspace::Workspace;
use podsec_engine::analysis::Reuse;
use podsec_engine::policy::{
    AdmissionConfig, NamespaceLabels, NamespacesRead, PolicyContext, admission_config, read_namespaces,
};
use podsec_engine::{Limits, Options};
use ropey::Rope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::ls_types::Uri;

/// An open document.
pub(super) struct Document {
    pub uri: Uri,
    /// Its file, for `file:` URIs.
    pub path: Option<PathBuf>,
    pub rope: Rope,
    pub version: i32,
    /// Bumped on every change; an analysis publishes only for the generation it read.
    pub generation: u64,
    /// The Namespaces it contributes to every document's policy: those of its last analysed text,
    /// steadied while it is being typed (see [`steady_namespaces`]).
    pub namespaces: Vec<NamespaceLabels>,
    /// The admission configuration in its last analysed text, which wins over the file on disk.
    pub admission: Option<AdmissionConfig>,
    /// Saved since its last analysis: the next one reads its Namespaces afresh, not steadied.
    pub saved: bool,
    /// Analysed at least once: until then its file's scanned policy sources stand for it.
    pub analysed: bool,
    /// The namespaces of its pod-bearing objects as last analysed (for Namespaces' label impact).
    pub workloads: Vec<Option<String>>,
    /// What other open documents read of its last analysis (see `publish::verdicts`): a Namespace's
    /// label impact, a project file's unused exemptions. When it changes, they are analysed again.
    pub verdicts: Option<u64>,
    /// Its last analysis per YAML document: a keystroke re-analyses only the document it changed.
    pub reuse: Reuse,
    /// The diagnostics of its last analysed generation, which a pull request answers with.
    pub report: Option<Report>,
    /// The diagnostics last published for it.
    pub published: Option<std::sync::Arc<Vec<tower_lsp_server::ls_types::Diagnostic>>>,
    /// Where the client shows them now: `published` moved through the edits since (see `tracking`);
    /// `None` when that is not known. A publication the client already shows is not sent.
    pub shown: Option<std::sync::Arc<Vec<tower_lsp_server::ls_types::Diagnostic>>>,
    /// For a client that pulls: the result ID of the report it last got in full (`published`).
    pub pulled: Option<String>,
    /// That analysis and the snapshot it read (code lenses are computed from it).
    pub last: Option<std::sync::Arc<Analysed>>,
    /// The file-wide part of its code actions at one generation (see `code_actions::FileActions`).
    pub file_actions: Option<std::sync::Arc<super::code_actions::FileActions>>,
}

/// One analysis of an open document: the snapshot it read and what it found.
pub(super) struct Analysed {
    pub snapshot: Snapshot,
    pub analysis: podsec_engine::Analysis,
}

/// The diagnostics of one analysis, kept for pull requests (`textDocument/diagnostic`,
/// `workspace/diagnostic`).
#[derive(Clone, Debug)]
pub(super) struct Report {
    /// The generation of the document analysed (the policy epoch, for a workspace file).
    pub generation: u64,
    /// A hash of the items: equal items, equal ID, so a client's `previousResultId` gets "unchanged".
    pub result_id: String,
    pub items: std::sync::Arc<Vec<tower_lsp_server::ls_types::Diagnostic>>,
}

impl Report {
    /// The report of `items`, with its result ID when diagnostics are pulled (only pulls compare them).
    pub fn new(generation: u64, items: Vec<tower_lsp_server::ls_types::Diagnostic>, with_id: bool) -> Self {
        use std::hash::{Hash, Hasher};
        let mut result_id = String::new();
        if with_id {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            serde_json::to_vec(&items).unwrap_or_default().hash(&mut hasher);
            result_id = format!("{:016x}", hasher.finish());
        }
        Self {
            generation,
            result_id,
            items: std::sync::Arc::new(items),
        }
    }
}

impl Document {
    /// Records that the client was sent `items` (published, or pulled in full): it shows them as sent.
    pub fn sent(&mut self, items: &Arc<Vec<tower_lsp_server::ls_types::Diagnostic>>) {
        self.published = Some(Arc::clone(items));
        self.shown = Some(Arc::clone(items));
    }

    pub fn new(uri: Uri, text: &str, version: i32, generation: u64) -> Self {
        Self {
            path: to_path(&uri),
            uri,
            rope: Rope::from_str(text),
            version,
            generation,
            namespaces: Vec::new(),
            admission: None,
            saved: false,
            analysed: false,
            workloads: Vec::new(),
            verdicts: None,
            reuse: Reuse::default(),
            report: None,
            published: None,
            shown: None,
            pulled: None,
            last: None,
            file_actions: None,
        }
    }
}

pub(super) fn to_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// Whether a document gives policy to others: Namespaces, an admission configuration, or a project
/// file or kustomization (which govern the files below them).
pub(super) fn gives_policy(doc: &Document) -> bool {
    !doc.namespaces.is_empty() || doc.admission.is_some() || governs_others(doc.path.as_deref())
}

/// Whether `path` is a project file or a kustomization.
pub(super) fn governs_others(path: Option<&Path>) -> bool {
    is_project_file(path) || is_kustomization(path)
}

/// Whether `path` is a kustomization.
pub(super) fn is_kustomization(path: Option<&Path>) -> bool {
    path.and_then(Path::file_name)
        .is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml" || n == "Kustomization")
}

/// Whether `path` is a project file (`.podsec.yaml`).
pub(super) fn is_project_file(path: Option<&Path>) -> bool {
    path.and_then(Path::file_name)
        .is_some_and(|n| n == crate::project::PROJECT_FILE)
}

#[derive(Default)]
pub(super) struct State {
    pub encoding: Encoding,
    pub settings: Settings,
    pub documents: HashMap<String, Document>,
    pub pull_configuration: bool,
    /// Whether the client can register file watchers for us.
    pub dynamic_watchers: bool,
    /// Whether the client shows `$/progress` for server-initiated work.
    pub work_done_progress: bool,
    /// Whether the client re-asks for code lenses on `workspace/codeLens/refresh` (after a policy change).
    pub lens_refresh: bool,
    /// Whether the client shows a document on `window/showDocument` (the `podsec.showLocation` command).
    pub show_document: bool,
    /// Whether diagnostics are pulled (`textDocument/diagnostic`, `workspace/diagnostic`) rather than
    /// published: the client pulls, and re-pulls on `workspace/diagnostic/refresh` after a policy change.
    pub pull_diagnostics: bool,
    /// The reports of workspace files that are not open, by file.
    pub workspace_reports: HashMap<PathBuf, FileReport>,
    /// Bumped on every change of a policy source: every workspace report is then analysed again.
    pub policy_epoch: u64,
    /// The diagnostic fields the client supports (`podsec.syntaxErrors` comes from the settings).
    pub diagnostic_style: DiagnosticStyle,
    /// Set until the first workspace scan ends: until then the policy of any object may still change,
    /// so nothing is published (the end of the scan publishes every open document).
    pub scanning: bool,
    pub workspace: Workspace,
    /// The Helm charts of opened files and their last renderings, by chart directory (see `render`).
    pub charts: HashMap<PathBuf, super::render::ChartRenderings>,
}

/// A workspace file's report, valid while the file and the policy epoch stay the same.
#[derive(Clone, Debug)]
pub(super) struct FileReport {
    pub stamp: FileStamp,
    /// The policy epoch it was analysed at.
    pub policy_epoch: u64,
    /// For a file that gives policy: the change count it was analysed at.
    pub changes: u64,
    pub report: Report,
}

/// What tells that a file on disk may have changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStamp {
    pub modified: Option<std::time::SystemTime>,
    pub len: u64,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: metadata.modified().ok(),
            len: metadata.len(),
        })
    }
}

/// What a snapshot is taken from, copied under the state lock; [`Pending::complete`] does the parsing
/// outside it.
pub(super) struct Pending {
    key: String,
    /// For a workspace file that is not open: read it from here (the rope is then empty).
    read_from: Option<PathBuf>,
    uri: Uri,
    path: Option<PathBuf>,
    rope: Rope,
    version: i32,
    /// The document's generation (0 for a workspace file that is not open).
    generation: u64,
    encoding: Encoding,
    limits: Limits,
    style: DiagnosticStyle,
    kustomize_namespace: Option<String>,
    /// Why it is not judged as a whole object, when a kustomization names it as a patch.
    patch_of: Option<String>,
    /// The document's own Namespaces as last analysed.
    previous_namespaces: Vec<NamespaceLabels>,
    /// Every other source: open documents and workspace files (not yet with this document's own).
    context: PolicyContext,
    /// Whether the project file gives the admission configuration (it then wins over any found one).
    admission_from_project: bool,
    /// The workspace's admission configurations by path (open documents' texts over their files).
    admissions: Vec<(PathBuf, AdmissionConfig)>,
    /// What the last rendering of its chart found in its file, if it is in a rendered chart.
    rendering: Option<Arc<RenderedFile>>,
}

/// Workspace files larger than this are not read for a label's impact (the scan's limit too).
const MAX_IMPACT_FILE: u64 = 10 * 1024 * 1024;

/// One document as every request of the server sees it.
pub(super) struct Snapshot {
    pub key: String,
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub rope: Rope,
    pub text: String,
    pub version: i32,
    /// The generation of the open document it was taken from: what is computed from it is valid while
    /// the document's generation stays the same (every edit and every policy change bumps it).
    pub generation: u64,
    pub encoding: Encoding,
    /// The Namespaces read from this text now: their label problems are this document's diagnostics.
    pub own: NamespacesRead,
    /// The Namespaces this document contributes to the policy (its own, steadied).
    pub namespaces: Vec<NamespaceLabels>,
    /// The admission configuration in this text, if any.
    pub admission: Option<AdmissionConfig>,
    /// Every policy source, this document's own Namespaces first.
    pub context: PolicyContext,
    pub limits: Limits,
    /// How its diagnostics are written: `podsec.syntaxErrors`, and what the client supports.
    pub style: DiagnosticStyle,
    pub kustomize_namespace: Option<String>,
    /// Why it is not judged as a whole object, when a kustomization names it as a patch: its analysis is
    /// then that note alone (see [`Snapshot::patch_analysis`]).
    pub patch_of: Option<String>,
    /// What the last rendering of its chart found in its file (see `render`): it stands for this
    /// snapshot only when it read this text, see [`Snapshot::rendered`].
    pub rendering: Option<Arc<RenderedFile>>,
}

impl Snapshot {
    /// The analysis of a kustomization's patch: the note that it is not judged alone, and nothing else
    /// (it is no object: what it sets is judged in its overlay's result).
    pub fn patch_analysis(&self) -> Option<podsec_engine::Analysis> {
        let why = self.patch_of.as_deref()?;
        Some(podsec_engine::Analysis {
            problems: vec![podsec_engine::kustomize::patch_note(why)],
            ..podsec_engine::Analysis::default()
        })
    }

    /// The options of every analysis of this snapshot: the same for diagnostics, hover and actions.
    pub fn options(&self) -> Options<'_> {
        Options {
            context: Some(&self.context),
            limits: self.limits,
            namespace_override: self.kustomize_namespace.as_deref(),
            ..Options::default()
        }
    }

    /// The options that a rendering of the chart this snapshot's file is in is analysed with: its policy,
    /// and the release's namespace for objects that name none.
    pub fn options_for_rendering<'a>(&'a self, namespace: Option<&'a str>) -> Options<'a> {
        Options {
            context: Some(&self.context),
            limits: self.limits,
            namespace_default: namespace,
            ..Options::default()
        }
    }

    /// [`Snapshot::options`], with each finding's fix (for code actions and fix-all).
    pub fn options_with_fixes(&self) -> Options<'_> {
        Options {
            with_fixes: true,
            ..self.options()
        }
    }

    pub fn is_project_file(&self) -> bool {
        is_project_file(self.path.as_deref())
    }
}

impl State {
    /// The files of the open documents analysed at least once: their open texts stand for them. A
    /// document just opened is not among them, so its Namespaces do not vanish until it is analysed.
    fn analysed_paths(&self) -> Vec<PathBuf> {
        self.documents
            .values()
            .filter(|d| d.analysed)
            .filter_map(|d| d.path.clone())
            .collect()
    }

    /// Copies what a snapshot of the open document `key` needs; `None` when it is not open (or, with
    /// `generation`, when it has changed since).
    pub fn pending(&mut self, key: &str, generation: Option<u64>) -> Option<Pending> {
        let doc = self.documents.get(key)?;
        if generation.is_some_and(|g| g != doc.generation) {
            return None;
        }
        let previous = if doc.saved {
            Vec::new()
        } else {
            doc.namespaces.clone()
        };
        let (uri, path, rope, version) = (doc.uri.clone(), doc.path.clone(), doc.rope.clone(), doc.version);
        let generation = doc.generation;
        let mut pending = self.pending_of(key, uri, path, rope, version, previous);
        pending.generation = generation;
        Some(pending)
    }

    /// The snapshots that a Namespace's enforce label needs for its impact on the whole workspace: every
    /// other open document and workspace file with pod-bearing objects in one of `namespaces`.
    pub fn impact_sources(&mut self, except: &str, namespaces: &[String]) -> Vec<Pending> {
        let open = self.analysed_paths();
        let mut found: Vec<Pending> = Vec::new();
        let open_keys: Vec<String> = self
            .documents
            .iter()
            .filter(|(key, d)| {
                key.as_str() != except && d.workloads.iter().flatten().any(|n| namespaces.contains(n))
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in open_keys {
            found.extend(self.pending(&key, None));
        }
        for path in self.workspace.workload_files(namespaces, &open) {
            let Some(uri) = Uri::from_file_path(&path) else {
                continue;
            };
            let mut pending = self.pending_of(except, uri, Some(path.clone()), Rope::new(), 0, Vec::new());
            pending.read_from = Some(path);
            found.push(pending);
        }
        found
    }

    /// The workspace files of the scan that are not open, sorted.
    pub fn closed_workspace_files(&self) -> Vec<PathBuf> {
        let open: Vec<&Path> = self
            .documents
            .values()
            .filter_map(|d| d.path.as_deref())
            .collect();
        let mut files: Vec<PathBuf> = self
            .workspace
            .scanned
            .keys()
            .filter(|path| !open.contains(&path.as_path()))
            .cloned()
            .collect();
        files.sort();
        files
    }

    /// The snapshot of a workspace file that is not open, to be completed (read) outside the lock.
    pub fn pending_file(&mut self, path: &Path) -> Option<Pending> {
        let uri = Uri::from_file_path(path)?;
        let key = uri.as_str().to_string();
        let mut pending = self.pending_of(&key, uri, Some(path.to_path_buf()), Rope::new(), 0, Vec::new());
        pending.read_from = Some(path.to_path_buf());
        Some(pending)
    }

    /// A snapshot of `uri` to be completed, with every policy source but the document `key`'s own.
    fn pending_of(
        &mut self,
        key: &str,
        uri: Uri,
        path: Option<PathBuf>,
        rope: Rope,
        version: i32,
        previous_namespaces: Vec<NamespaceLabels>,
    ) -> Pending {
        let project = path.as_deref().and_then(|p| self.workspace.project_for(p));
        let kustomize_namespace = path
            .as_deref()
            .and_then(|p| self.workspace.kustomize_namespace(p));
        let patch_of = path.as_deref().and_then(|p| self.workspace.patch_of(p));
        let open = self.analysed_paths();
        let others = self.documents.iter().filter(|(other, _)| other.as_str() != key);
        let mut namespaces: Vec<NamespaceLabels> = others
            .clone()
            .flat_map(|(_, d)| d.namespaces.iter().cloned())
            .collect();
        namespaces.extend(self.workspace.namespaces(&open).cloned());
        let mut admissions: Vec<(PathBuf, AdmissionConfig)> = others
            .filter_map(|(_, d)| Some((d.path.clone()?, d.admission.clone()?)))
            .collect();
        admissions.extend(
            self.workspace
                .admissions(&open)
                .map(|(p, a)| (p.clone(), a.clone())),
        );
        let admission_from_project = project.as_ref().is_some_and(|p| p.admission.is_some());
        // The nearest chart above the file is the one it belongs to.
        let rendering = path.as_deref().and_then(|path| {
            self.charts
                .iter()
                .filter(|(root, _)| path.starts_with(root))
                .max_by_key(|(root, _)| root.as_os_str().len())
                .and_then(|(_, chart)| chart.files.get(path).cloned())
        });
        let context = PolicyContext {
            override_policy: None,
            override_version: None,
            namespaces,
            admission: project.as_ref().and_then(|p| p.admission.clone()),
            project: project.map(|p| p.config),
            editor_default: self.settings.editor_default(),
            today: crate::project::today(),
        };
        Pending {
            key: key.to_string(),
            read_from: None,
            uri,
            path,
            rope,
            version,
            generation: 0,
            encoding: self.encoding,
            limits: self.settings.limits(),
            style: DiagnosticStyle {
                syntax_errors: self.settings.syntax_errors,
                ..self.diagnostic_style
            },
            kustomize_namespace,
            patch_of,
            previous_namespaces,
            context,
            admission_from_project,
            admissions,
            rendering,
        }
    }
}

impl Pending {
    pub fn uri(&self) -> Uri {
        self.uri.clone()
    }

    /// Reads the document's own policy sources and completes the context.
    pub fn complete(self) -> Snapshot {
        self.complete_with(&[])
    }

    /// [`Pending::complete`], with `first` ahead of every other Namespace (the open text of the
    /// Namespace document whose label impact this snapshot is for).
    pub fn complete_with(mut self, first: &[NamespaceLabels]) -> Snapshot {
        if let Some(path) = &self.read_from {
            let text = crate::read::read_text(path, MAX_IMPACT_FILE).unwrap_or_default();
            self.rope = Rope::from_str(&text);
        }
        let text = self.rope.to_string();
        let limits = Limits::default();
        let project_file = is_project_file(self.path.as_deref());
        let own = if project_file {
            NamespacesRead::default()
        } else {
            read_namespaces(&text, &limits)
        };
        let namespaces = steady_namespaces(&self.previous_namespaces, &own);
        let admission = (!project_file && text.contains("PodSecurityConfiguration"))
            .then(|| {
                let name = format!("admission configuration {}", self.uri.as_str());
                admission_config(&text, &name, &limits).map(|(a, _)| a)
            })
            .flatten();
        let mut context = self.context;
        // The document's own Namespaces win over any other copy of them.
        let others = std::mem::take(&mut context.namespaces);
        context.namespaces = first.iter().chain(&namespaces).cloned().chain(others).collect();
        if !self.admission_from_project {
            // As on the command line: the first admission configuration by path.
            let mut admissions = self.admissions;
            if let Some(own) = &admission {
                admissions.push((self.path.clone().unwrap_or_default(), own.clone()));
            }
            context.admission = admissions
                .into_iter()
                .min_by(|(a, _), (b, _)| a.cmp(b))
                .map(|(_, admission)| admission);
        }
        Snapshot {
            key: self.key,
            uri: self.uri,
            path: self.path,
            rope: self.rope,
            text,
            version: self.version,
            generation: self.generation,
            encoding: self.encoding,
            own,
            namespaces,
            admission,
            context,
            limits: self.limits,
            style: self.style,
            kustomize_namespace: self.kustomize_namespace,
            patch_of: self.patch_of,
            rendering: self.rendering,
        }
    }
}

/// The Namespaces a document contributes to the policy while it is being typed: what its text says,
/// except that a Namespace whose labels are invalid at the moment keeps its last policy, and the
/// Namespaces of a document that does not parse at the moment stay as they were. Without this, every
/// workload's severities flip while a label is typed. A save reads the text afresh (see `didSave`).
/// Applying it twice gives the same result as once.
pub(super) fn steady_namespaces(previous: &[NamespaceLabels], read: &NamespacesRead) -> Vec<NamespaceLabels> {
    let mut steady: Vec<NamespaceLabels> = read
        .labels
        .iter()
        .map(|labels| {
            let known = previous.iter().find(|p| p.name == labels.name);
            match known {
                Some(known) if !labels.problems.is_empty() => NamespaceLabels {
                    problems: labels.problems.clone(),
                    enforce_span: labels.enforce_span,
                    header: labels.header,
                    ..known.clone()
                },
                _ => labels.clone(),
            }
        })
        .collect();
    if read.unreadable {
        for known in previous {
            if !steady.iter().any(|s| s.name == known.name) {
                steady.push(known.clone());
            }
        }
    }
    steady
}
