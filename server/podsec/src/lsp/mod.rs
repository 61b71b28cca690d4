//! `podsec lsp`: the language server. Every LSP type lives in this module and its children; the
//! engine is called with plain text and gives back byte spans, which `convert` turns into positions.
//!
//! Order and staleness: tower-lsp-server runs handlers concurrently, so every handler mutates the
//! document store synchronously, before its first `.await`, and the store is a std `Mutex` that is
//! never held across one. Each change bumps the document's generation; the debounced analysis only
//! publishes if the generation is still the one it analysed, under a publish lock that `didClose`
//! also takes, so no stale or post-close diagnostics reach the client.

pub mod convert;
mod transport;
mod workspace;

use crate::Outcome;
use convert::Encoding;
use podsec_engine::analysis::{Reuse, analyze_reusing};
use podsec_engine::config::{NamespaceLabels, PolicyContext, Severity, namespace_impact, namespace_labels};
use podsec_engine::{Analysis, Level, Limits, Options, Policy, Version};
use ropey::Rope;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// How long a document must stay unchanged before it is analysed: a burst of keystrokes is analysed
/// once, for its last version.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Settings keys the editor clients send that the server itself does not use.
const CLIENT_SETTINGS: &[&str] = &["path", "trace", "fixAllOnSave"];

/// The longest debounce `podsec.debounceMs` may ask for.
const MAX_DEBOUNCE_MS: u64 = 2_000;

/// Serves the protocol on stdin/stdout until the client exits or closes stdin.
pub(crate) fn run(args: Vec<OsString>) -> std::result::Result<Outcome, String> {
    for arg in &args {
        if arg != "--stdio" {
            return Err(format!(
                "podsec lsp: unexpected argument {:?} (the server speaks over stdio)",
                arg
            ));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let (to_server, server_input) = tokio::io::duplex(1 << 16);
        let (server_output, from_server) = tokio::io::duplex(1 << 16);
        let (frames, queued) = tokio::sync::mpsc::unbounded_channel();
        let input = tokio::spawn(transport::pump_input(
            tokio::io::stdin(),
            to_server,
            frames.clone(),
        ));
        let output = tokio::spawn(transport::pump_output(from_server, frames));
        let writer = tokio::spawn(transport::write_frames(queued, tokio::io::stdout()));
        let (service, socket) = LspService::new(Backend::new);
        Server::new(server_input, server_output, socket)
            .serve(service)
            .await;
        // The server has stopped (exit, or the end of input): deliver what it wrote, then finish.
        input.abort();
        let _ = output.await;
        let _ = writer.await;
    });
    // Pending debounced analyses are dropped with the runtime; the client has gone.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(Outcome::Clean)
}

/// An open document.
struct Document {
    uri: Uri,
    rope: Rope,
    version: i32,
    /// Bumped on every change; an analysis publishes only for the generation it read.
    generation: u64,
    /// The Namespace objects of its last analysed text, for the other documents' policies.
    namespaces: Vec<NamespaceLabels>,
    /// Its last analysis per YAML document: a keystroke re-analyses only the document it changed.
    reuse: Reuse,
}

/// The editor's settings (`podsec.level`, `podsec.version`).
#[derive(Clone, Copy, Debug, Default)]
struct Settings {
    level: Option<Level>,
    version: Option<Version>,
    /// `podsec.debounceMs`: milliseconds between the last keystroke and the analysis.
    debounce_ms: Option<u64>,
    /// `podsec.maxDocumentSizeMB`: larger YAML documents are not analysed (default 10).
    max_document_mb: Option<u64>,
}

impl Settings {
    fn debounce(&self) -> Duration {
        self.debounce_ms.map_or(DEBOUNCE, Duration::from_millis)
    }

    fn policy(&self) -> Policy {
        let default = Policy::default();
        Policy::new(
            self.level.unwrap_or(default.level),
            self.version.unwrap_or(default.version),
        )
    }

    /// Parser limits, with the document size limit from the settings.
    fn limits(&self) -> Limits {
        let default = Limits::default();
        let max_document_bytes = self.max_document_mb.map_or(default.max_document_bytes, |mb| {
            (mb as usize).saturating_mul(1 << 20)
        });
        Limits {
            max_document_bytes,
            ..default
        }
    }

    /// The editor's default policy, when either setting is given.
    fn editor_default(&self) -> Option<Policy> {
        (self.level.is_some() || self.version.is_some()).then(|| self.policy())
    }

    /// Reads `{"podsec": {...}}` or the inner object; returns the settings and a warning per bad entry.
    fn parse(value: &Value) -> (Self, Vec<String>) {
        let mut settings = Settings::default();
        let mut warnings = Vec::new();
        let object = value.get("podsec").unwrap_or(value);
        let Some(map) = object.as_object() else {
            // Lua clients encode an empty table as `[]`: that is "no settings", not an error.
            let empty_list = object.as_array().is_some_and(Vec::is_empty);
            if !object.is_null() && !empty_list {
                warnings.push(format!("podsec settings must be an object, not {object}"));
            }
            return (settings, warnings);
        };
        for (key, value) in map {
            match (key.as_str(), value.as_str()) {
                ("level", Some(text)) => match Level::parse(text) {
                    Ok(level) => settings.level = Some(level),
                    Err(e) => warnings.push(format!("podsec.level: {e}")),
                },
                ("version", Some(text)) => match Version::parse(text) {
                    Ok(version) => settings.version = Some(version),
                    Err(e) => warnings.push(format!("podsec.version: {e}")),
                },
                ("maxDocumentSizeMB", _) => match value.as_u64().filter(|mb| (1..=1024).contains(mb)) {
                    Some(mb) => settings.max_document_mb = Some(mb),
                    None => warnings.push(format!(
                        "podsec.maxDocumentSizeMB must be a number from 1 to 1024, not {value}"
                    )),
                },
                ("debounceMs", _) => match value.as_u64().filter(|ms| *ms <= MAX_DEBOUNCE_MS) {
                    Some(ms) => settings.debounce_ms = Some(ms),
                    None => warnings.push(format!(
                        "podsec.debounceMs must be a number from 0 to {MAX_DEBOUNCE_MS}, not {value}"
                    )),
                },
                ("level" | "version", None) if value.is_null() => {}
                ("level" | "version", None) => {
                    warnings.push(format!("podsec.{key} must be a string, not {value}"))
                }
                (key, _) if CLIENT_SETTINGS.contains(&key) => {}
                (key, _) => warnings.push(format!("unknown setting podsec.{key}")),
            }
        }
        (settings, warnings)
    }
}

#[derive(Default)]
struct State {
    encoding: Encoding,
    settings: Settings,
    documents: HashMap<String, Document>,
    pull_configuration: bool,
    /// Whether the client can register file watchers for us.
    dynamic_watchers: bool,
    workspace: workspace::Workspace,
}

impl State {
    /// The policy sources for the document `key` (without its own Namespaces, which come from its text).
    fn policy_context(&mut self, key: &str, path: Option<&std::path::Path>) -> PolicyContext {
        let project = path.and_then(|p| self.workspace.project_for(p));
        let mut namespaces: Vec<NamespaceLabels> = self
            .documents
            .iter()
            .filter(|(other, _)| other.as_str() != key)
            .flat_map(|(_, d)| d.namespaces.iter().cloned())
            .collect();
        namespaces.extend(self.workspace.namespaces(path).cloned());
        let admission = project
            .as_ref()
            .and_then(|p| p.admission.clone())
            .or_else(|| self.workspace.admission().cloned());
        PolicyContext {
            override_policy: None,
            namespaces,
            project: project.map(|p| p.config),
            admission,
            editor_default: self.settings.editor_default(),
            today: crate::project::today(),
        }
    }
}

fn to_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
    }
}

#[derive(Clone)]
struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Held while checking freshness and publishing, and by `didClose` while clearing.
    publish: Arc<tokio::sync::Mutex<()>>,
    /// One analysis runs at a time, so that of the runtime's two workers one always stays free for
    /// requests (hover, code actions) and I/O, even in a burst of changes to many documents.
    analyses: Arc<tokio::sync::Semaphore>,
}

fn is_yaml(language_id: &str, uri: &Uri) -> bool {
    let path = uri.as_str().split(['?', '#']).next().unwrap_or("");
    language_id == "yaml" || path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Runs `work`, turning a panic into an error message: a bug in one document must not stop the server.
fn guarded<T>(what: &str, work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        format!("podsec: internal error while {what}: {reason}")
    })
}

impl Backend {
    fn new(client: Client) -> Self {
        Self {
            client,
            state: Arc::default(),
            publish: Arc::default(),
            analyses: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every mutation is one step), so a
        // poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Analyses `key` after the debounce delay, if it has not changed again by then.
    fn schedule(&self, key: String, generation: u64) {
        let backend = self.clone();
        let delay = self.state().settings.debounce();
        tokio::spawn(async move {
            if delay.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(delay).await;
            }
            backend.publish_if_current(&key, generation).await;
        });
    }

    async fn publish_if_current(&self, key: &str, generation: u64) {
        // Waiting here, not in the analysis: a change that is stale by its turn costs nothing.
        let Ok(running) = self.analyses.acquire().await else {
            return;
        };
        let snapshot = {
            let mut state = self.state();
            let current = state
                .documents
                .get_mut(key)
                .filter(|d| d.generation == generation)
                .map(|d| {
                    (
                        d.uri.clone(),
                        d.rope.clone(),
                        d.version,
                        std::mem::take(&mut d.reuse),
                    )
                });
            current.map(|(uri, rope, version, reuse)| {
                let path = to_path(&uri);
                let context = state.policy_context(key, path.as_deref());
                let namespace = path
                    .as_deref()
                    .and_then(|p| state.workspace.kustomize_namespace(p));
                let limits = state.settings.limits();
                (
                    uri,
                    rope,
                    version,
                    state.encoding,
                    context,
                    path,
                    limits,
                    namespace,
                    reuse,
                )
            })
        };
        let Some((uri, rope, version, encoding, mut context, path, limits, namespace, mut reuse)) = snapshot
        else {
            return;
        };
        let outcome = guarded("analysing a document", || {
            let text = rope.to_string();
            let is_project_file = path
                .as_ref()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == crate::project::PROJECT_FILE);
            if is_project_file {
                let (_, problems) = podsec_engine::config::project_config(&text, &Limits::default());
                let diagnostics = problems
                    .iter()
                    .map(|p| config_diagnostic(p, &rope, encoding))
                    .collect();
                return (diagnostics, Vec::new());
            }
            // The document's own Namespaces win over any other copy of them.
            let own = namespace_labels(&text, &Limits::default());
            let others = std::mem::take(&mut context.namespaces);
            context.namespaces = own.iter().cloned().chain(others).collect();
            let options = Options {
                context: Some(&context),
                limits,
                namespace_override: namespace.as_deref(),
                ..Options::default()
            };
            let analysis = analyze_reusing(&text, &options, &mut reuse);
            let mut diagnostics = diagnostics(&analysis, &rope, encoding, &uri);
            for labels in &own {
                let problems = labels
                    .problems
                    .iter()
                    .cloned()
                    .chain(namespace_impact(labels, &analysis.objects));
                diagnostics.extend(problems.map(|p| config_diagnostic(&p, &rope, encoding)));
            }
            (diagnostics, own)
        });
        drop(running);
        let diagnostics = match outcome {
            Ok((diagnostics, own)) => {
                let changed = {
                    let mut state = self.state();
                    match state.documents.get_mut(key) {
                        Some(doc) => {
                            // Keyed by document text, so still right for a newer version of the file.
                            doc.reuse = reuse;
                            let changed = doc.namespaces != own;
                            if changed {
                                doc.namespaces = own;
                            }
                            changed
                        }
                        None => false,
                    }
                };
                if changed {
                    // Other documents may live in these namespaces.
                    self.reschedule_others(key);
                }
                diagnostics
            }
            Err(message) => {
                self.client
                    .log_message(MessageType::ERROR, format!("{message} ({})", uri.as_str()))
                    .await;
                return;
            }
        };
        let _publishing = self.publish.lock().await;
        let current = self
            .state()
            .documents
            .get(key)
            .is_some_and(|d| d.generation == generation);
        if current {
            self.client
                .publish_diagnostics(uri, diagnostics, Some(version))
                .await;
        }
    }

    /// Analyses every open document again except `except` (after a change of policy sources).
    fn reschedule_others(&self, except: &str) {
        let pending: Vec<(String, u64)> = {
            let mut state = self.state();
            state
                .documents
                .iter_mut()
                .filter(|(key, _)| key.as_str() != except)
                .map(|(key, doc)| {
                    doc.generation += 1;
                    (key.clone(), doc.generation)
                })
                .collect()
        };
        for (key, generation) in pending {
            self.schedule(key, generation);
        }
    }

    /// Analyses every open document again (after a change of settings or of files on disk).
    fn reschedule_all(&self) {
        self.reschedule_others("");
    }

    async fn apply_settings(&self, value: &Value) {
        let (settings, warnings) = Settings::parse(value);
        self.state().settings = settings;
        for warning in warnings {
            self.client.show_message(MessageType::WARNING, warning).await;
        }
        self.reschedule_all();
    }

    async fn pull_settings(&self) {
        let items = vec![ConfigurationItem {
            scope_uri: None,
            section: Some("podsec".to_string()),
        }];
        if let Ok(values) = self.client.configuration(items).await {
            if let Some(value) = values.into_iter().next() {
                self.apply_settings(&value).await;
            }
        }
    }
}

/// The diagnostics of one analysis.
fn diagnostics(analysis: &Analysis, rope: &Rope, encoding: Encoding, uri: &Uri) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for problem in &analysis.problems {
        // An error at a point underlines the character there, so editors show it.
        let mut span = problem.span;
        if span.start == span.end && span.end < rope.len_bytes() {
            let next = rope.byte_to_char(span.end) + 1;
            span.end = rope.char_to_byte(next.min(rope.len_chars()));
        }
        diagnostics.push(Diagnostic {
            range: convert::range(rope, span, encoding),
            severity: Some(severity(problem.severity)),
            code: Some(NumberOrString::String(problem.code.to_string())),
            source: Some("podsec".to_string()),
            message: problem.message.clone(),
            ..Diagnostic::default()
        });
    }
    diagnostics.extend(
        analysis
            .config_problems
            .iter()
            .map(|p| config_diagnostic(p, rope, encoding)),
    );
    for object in &analysis.objects {
        let header = convert::range(rope, object.header, encoding);
        for violation in &object.violations {
            let href = violation.check.help_uri().parse::<Uri>().ok();
            for location in &violation.locations {
                diagnostics.push(Diagnostic {
                    range: convert::range(rope, location.span, encoding),
                    severity: Some(severity(violation.severity())),
                    code: Some(NumberOrString::String(violation.check.id.to_string())),
                    code_description: href.clone().map(|href| CodeDescription { href }),
                    source: Some("podsec".to_string()),
                    message: violation.message(),
                    related_information: Some(vec![DiagnosticRelatedInformation {
                        location: Location {
                            uri: uri.clone(),
                            range: header,
                        },
                        // The object and its policy only: the list of all its violations (PSA's whole
                        // warning) on every one of its diagnostics grew as violations squared.
                        message: format!(
                            "{}: would violate PodSecurity \"{}\" ({} from {})",
                            object.display_name(),
                            violation.policy,
                            violation.mode.as_str(),
                            object.source(violation.mode).unwrap_or("the default")
                        ),
                    }]),
                    data: Some(json!({
                        "check": violation.check.id,
                        "path": location.path,
                        "missing": location.missing,
                        "policy": violation.policy.to_string(),
                        "mode": violation.mode.as_str(),
                    })),
                    ..Diagnostic::default()
                });
            }
        }
    }
    diagnostics
}

/// A problem of a policy source (label, exemption, project file) as a diagnostic.
fn config_diagnostic(
    problem: &podsec_engine::config::ConfigProblem,
    rope: &Rope,
    encoding: Encoding,
) -> Diagnostic {
    Diagnostic {
        range: convert::range(rope, problem.span, encoding),
        severity: Some(severity(problem.severity)),
        code: Some(NumberOrString::String(problem.code.to_string())),
        source: Some("podsec".to_string()),
        message: problem.message.clone(),
        ..Diagnostic::default()
    }
}

fn not_open(uri: &Uri) -> Error {
    Error::invalid_params(format!("document not open: {}", uri.as_str()))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = Encoding::negotiate(
            params
                .capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        let dynamic_watchers = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|folder| to_path(&folder.uri))
            .collect();
        #[allow(deprecated, reason = "clients without workspace folders still send rootUri")]
        if roots.is_empty() {
            roots.extend(params.root_uri.as_ref().and_then(to_path));
        }
        let pull = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.configuration)
            .unwrap_or(false);
        let (settings, warnings) = params
            .initialization_options
            .as_ref()
            .map(Settings::parse)
            .unwrap_or_default();
        {
            let mut state = self.state();
            state.encoding = encoding;
            state.settings = settings;
            state.pull_configuration = pull;
            state.dynamic_watchers = dynamic_watchers;
            state.workspace.roots = roots;
        }
        for warning in warnings {
            self.client.show_message(MessageType::WARNING, warning).await;
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..TextDocumentSyncOptions::default()
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, fix_all_kind()]),
                    resolve_provider: Some(false),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "podsec".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (pull, watch, roots) = {
            let state = self.state();
            (
                state.pull_configuration,
                state.dynamic_watchers,
                state.workspace.roots.clone(),
            )
        };
        if watch {
            let options = json!({ "watchers": [{ "globPattern": "**/*.{yaml,yml}" }] });
            let registration = Registration {
                id: "podsec-policy-files".to_string(),
                method: "workspace/didChangeWatchedFiles".to_string(),
                register_options: Some(options),
            };
            if let Err(e) = self.client.register_capability(vec![registration]).await {
                self.client
                    .log_message(MessageType::WARNING, format!("cannot watch files: {e}"))
                    .await;
            }
        }
        if pull {
            self.pull_settings().await;
        }
        if !roots.is_empty() {
            // Namespaces and admission configurations anywhere in the workspace set the policy.
            let scanned = tokio::task::spawn_blocking(move || workspace::scan_roots(&roots))
                .await
                .unwrap_or_default();
            let found: usize = scanned.values().map(|s| s.namespaces.len()).sum();
            self.state().workspace.scanned = scanned;
            self.client
                .log_message(
                    MessageType::INFO,
                    format!("podsec: {found} Namespace objects in the workspace"),
                )
                .await;
            self.reschedule_all();
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let changes: Vec<(PathBuf, bool)> = params
            .changes
            .iter()
            .filter_map(|c| Some((to_path(&c.uri)?, c.typ == FileChangeType::DELETED)))
            .collect();
        let rescanned = tokio::task::spawn_blocking(move || {
            changes
                .into_iter()
                .map(|(path, deleted)| {
                    let scanned = if deleted {
                        None
                    } else {
                        workspace::scan_file(&path)
                    };
                    (path, scanned)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        {
            let mut state = self.state();
            for (path, scanned) in rescanned {
                if path
                    .file_name()
                    .is_some_and(|n| n == crate::project::PROJECT_FILE)
                {
                    state.workspace.forget_projects();
                }
                match scanned {
                    Some(scanned) => {
                        state.workspace.scanned.insert(path, scanned);
                    }
                    None => {
                        state.workspace.scanned.remove(&path);
                    }
                }
            }
            // An admission configuration may have changed too.
            state.workspace.forget_projects();
        }
        self.reschedule_all();
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        if !is_yaml(&doc.language_id, &doc.uri) {
            return;
        }
        let key = doc.uri.as_str().to_string();
        let generation = {
            let mut state = self.state();
            let generation = state.documents.get(&key).map_or(0, |d| d.generation) + 1;
            let document = Document {
                rope: Rope::from_str(&doc.text),
                version: doc.version,
                generation,
                uri: doc.uri,
                namespaces: Vec::new(),
                reuse: Reuse::default(),
            };
            state.documents.insert(key.clone(), document);
            generation
        };
        self.schedule(key, generation);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let key = params.text_document.uri.as_str().to_string();
        let outcome = {
            let mut state = self.state();
            let encoding = state.encoding;
            match state.documents.get_mut(&key) {
                None => Err(()),
                Some(doc) => {
                    let applied = guarded("applying an edit", || {
                        for change in params.content_changes {
                            apply_change(&mut doc.rope, change, encoding);
                        }
                    });
                    doc.version = params.text_document.version;
                    doc.generation += 1;
                    Ok((doc.generation, applied.err()))
                }
            }
        };
        match outcome {
            Ok((generation, error)) => {
                if let Some(message) = error {
                    self.client.log_message(MessageType::ERROR, message).await;
                }
                self.schedule(key, generation);
            }
            Err(()) => {
                let message = format!("didChange for a document that is not open: {key}");
                self.client.log_message(MessageType::WARNING, message).await;
            }
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let removed = self
            .state()
            .documents
            .remove(params.text_document.uri.as_str())
            .is_some();
        if removed {
            let _publishing = self.publish.lock().await;
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let pull = self.state().pull_configuration;
        let empty = params.settings.is_null() || params.settings.as_object().is_some_and(|o| o.is_empty());
        if empty && pull {
            self.pull_settings().await;
        } else {
            self.apply_settings(&params.settings).await;
        }
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let snapshot = {
            let state = self.state();
            let doc = state
                .documents
                .get(params.text_document.uri.as_str())
                .ok_or_else(|| not_open(&params.text_document.uri))?;
            Snapshot {
                uri: doc.uri.clone(),
                rope: doc.rope.clone(),
                version: doc.version,
                encoding: state.encoding,
                policy: state.settings.policy(),
            }
        };
        let actions =
            guarded("computing code actions", || code_actions(&snapshot, &params)).map_err(|message| {
                let mut error = Error::internal_error();
                error.message = message.into();
                error
            })?;
        Ok(Some(actions))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = params.text_document_position_params.text_document.uri;
        let position = params.text_document_position_params.position;
        let (rope, encoding, mut context) = {
            let mut state = self.state();
            let rope = state
                .documents
                .get(uri.as_str())
                .ok_or_else(|| not_open(&uri))?
                .rope
                .clone();
            let context = state.policy_context(uri.as_str(), to_path(&uri).as_deref());
            (rope, state.encoding, context)
        };
        let offset = convert::byte_offset(&rope, position, encoding, true).map_err(|_| {
            Error::invalid_params(format!(
                "position {}:{} is outside the document",
                position.line, position.character
            ))
        })?;
        let info = guarded("computing a hover", || {
            let text = rope.to_string();
            let own = namespace_labels(&text, &Limits::default());
            let others = std::mem::take(&mut context.namespaces);
            context.namespaces = own.into_iter().chain(others).collect();
            let options = Options {
                context: Some(&context),
                ..Options::default()
            };
            podsec_engine::explain::hover(&text, &options, offset)
        })
        .map_err(|message| {
            let mut error = Error::internal_error();
            error.message = message.into();
            error
        })?;
        Ok(info.map(|info| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: info.markdown,
            }),
            range: Some(convert::range(&rope, info.span, encoding)),
        }))
    }
}

/// `source.fixAll.podsec`: the kind editors run on save for "fix all".
fn fix_all_kind() -> CodeActionKind {
    CodeActionKind::new("source.fixAll.podsec")
}

/// Whether an action of `kind` is wanted by a request's `only` filter (a prefix match, as the spec says).
fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|only| {
        only.iter()
            .any(|o| kind.as_str() == o.as_str() || kind.as_str().starts_with(&format!("{}.", o.as_str())))
    })
}

/// What a code action request needs from the store.
struct Snapshot {
    uri: Uri,
    rope: Rope,
    version: i32,
    encoding: Encoding,
    policy: Policy,
}

impl Snapshot {
    fn workspace_edit(&self, edits: &[podsec_engine::patch::TextEdit]) -> WorkspaceEdit {
        let edits = edits
            .iter()
            .map(|e| {
                OneOf::Left(TextEdit {
                    range: convert::range(&self.rope, e.span, self.encoding),
                    new_text: e.replacement.clone(),
                })
            })
            .collect();
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri: self.uri.clone(),
                    version: Some(self.version),
                },
                edits,
            }])),
            ..WorkspaceEdit::default()
        }
    }
}

/// Line-level edits that turn `old` into `new`: one per changed hunk, so the editor keeps its cursor and
/// folds everywhere else.
fn diff_edits(old: &str, new: &str) -> Vec<podsec_engine::patch::TextEdit> {
    let diff = similar::TextDiff::from_lines(old, new);
    let old_lines: Vec<&str> = diff.iter_old_slices().collect();
    let new_lines: Vec<&str> = diff.iter_new_slices().collect();
    let mut offsets = Vec::with_capacity(old_lines.len() + 1);
    let mut offset = 0;
    for line in &old_lines {
        offsets.push(offset);
        offset += line.len();
    }
    offsets.push(offset);
    diff.ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| {
            let old_range = op.old_range();
            let start = offsets.get(old_range.start).copied().unwrap_or(offset);
            let end = offsets.get(old_range.end).copied().unwrap_or(offset);
            let replacement = new_lines.get(op.new_range()).unwrap_or_default().concat();
            podsec_engine::patch::TextEdit {
                span: podsec_engine::Span::new(start, end),
                replacement,
            }
        })
        .collect()
}

/// The code actions for a request: quick fixes for the podsec diagnostics in it (safe ones preferred),
/// an exemption per check, and "fix all" for the document.
fn code_actions(snapshot: &Snapshot, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    let text = snapshot.rope.to_string();
    let options = Options {
        policy: snapshot.policy,
        with_fixes: true,
        ..Options::default()
    };
    let analysis = podsec_engine::analyze(&text, &options);
    let only = params.context.only.as_deref();
    let mut quick_fixes = Vec::new();
    let mut exemptions = Vec::new();
    let mut exempted: Vec<(String, u32)> = Vec::new();
    if wanted(only, &CodeActionKind::QUICKFIX) {
        for diagnostic in &params.context.diagnostics {
            if diagnostic.source.as_deref() != Some("podsec") {
                continue;
            }
            if diagnostic.code == Some(NumberOrString::String("psp-removed".to_string())) {
                let offset =
                    convert::byte_offset(&snapshot.rope, diagnostic.range.start, snapshot.encoding, false)
                        .unwrap_or(0);
                if let Some(fix) = podsec_engine::psp::labels_fix(&text, offset, &options.limits) {
                    quick_fixes.push((
                        false,
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: fix.title.clone(),
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![diagnostic.clone()]),
                            edit: Some(snapshot.workspace_edit(&fix.edits)),
                            is_preferred: Some(true),
                            ..CodeAction::default()
                        }),
                    ));
                }
                continue;
            }
            let Some(data) = &diagnostic.data else { continue };
            let (Some(check), Some(path)) = (data["check"].as_str(), data["path"].as_str()) else {
                continue;
            };
            let location = analysis
                .objects
                .iter()
                .flat_map(|o| &o.violations)
                .filter(|v| v.check.id == check)
                .flat_map(|v| &v.locations)
                .find(|l| l.path == path);
            if let Some(fix) = location.and_then(|l| l.fix.as_ref()) {
                let safe = fix.applicability == podsec_engine::fix::Applicability::Safe;
                quick_fixes.push((
                    !safe,
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: if safe {
                            fix.title.clone()
                        } else {
                            format!("{} (unsafe)", fix.title)
                        },
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diagnostic.clone()]),
                        edit: Some(snapshot.workspace_edit(&fix.edits)),
                        is_preferred: Some(safe),
                        ..CodeAction::default()
                    }),
                ));
            }
            let offset =
                convert::byte_offset(&snapshot.rope, diagnostic.range.start, snapshot.encoding, false)
                    .unwrap_or(0);
            let object_line = diagnostic
                .related_information
                .as_ref()
                .and_then(|r| r.first())
                .map_or(0, |r| r.location.range.start.line);
            if exempted.contains(&(check.to_string(), object_line)) {
                continue;
            }
            if let Some(fix) = podsec_engine::fix::exemption_fix(&text, &options, offset, check) {
                exempted.push((check.to_string(), object_line));
                exemptions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(snapshot.workspace_edit(&fix.edits)),
                    is_preferred: Some(false),
                    ..CodeAction::default()
                }));
            }
        }
    }
    // Safe fixes first, then unsafe ones, then exemptions.
    quick_fixes.sort_by_key(|(unsafe_fix, _)| *unsafe_fix);
    let mut actions: Vec<CodeActionOrCommand> = quick_fixes.into_iter().map(|(_, action)| action).collect();
    actions.extend(exemptions);
    let kind = fix_all_kind();
    if only.is_some_and(|_| wanted(only, &kind)) || (only.is_none() && !actions.is_empty()) {
        let fixed = podsec_engine::fix::fix_all(&text, &options, false);
        if fixed.text != text {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "Fix all podsec problems in this file ({} safe fixes)",
                    fixed.applied.len()
                ),
                kind: Some(kind),
                edit: Some(snapshot.workspace_edit(&diff_edits(&text, &fixed.text))),
                ..CodeAction::default()
            }));
        }
    }
    actions
}

/// Applies one content change: a range edit, or the whole text when no range is given.
pub fn apply_change(rope: &mut Rope, change: TextDocumentContentChangeEvent, encoding: Encoding) {
    let Some(range) = change.range else {
        *rope = Rope::from_str(&change.text);
        return;
    };
    let start = convert::char_index(rope, range.start, encoding, false).unwrap_or(rope.len_chars());
    let end = convert::char_index(rope, range.end, encoding, false).unwrap_or(rope.len_chars());
    let (start, end) = if start <= end { (start, end) } else { (end, start) };
    rope.remove(start..end);
    rope.insert(start, &change.text);
}
