//! `podsec lsp`: the language server. Every LSP type lives in this module and its children; the
//! engine is called with plain text and gives back byte spans, which `convert` turns into positions.
//!
//! This file is the `LanguageServer` implementation, and it only delegates: `session` holds the state
//! and the snapshot every request works from, `settings` the editor's settings, `publish` the debounced
//! publishing, `diagnostics` the conversion of findings, one file per request (`hover`,
//! `code_actions`), `workspace` the policy sources on disk, `render` Helm charts rendered in the
//! background, `convert` every position conversion and `transport` the framing proxy.
//!
//! Order and staleness: tower-lsp-server runs handlers concurrently, so every handler mutates the
//! document store synchronously, before its first `.await`, and the store is a std `Mutex` that is
//! never held across one. Each change bumps the document's generation; the debounced analysis only
//! publishes if the generation is still the one it analysed, under a publish lock that `didClose`
//! also takes, so no stale or post-close diagnostics reach the client.

mod code_actions;
mod code_lens;
mod commands;
mod completion;
pub mod convert;
mod definition;
mod diagnostics;
mod hover;
mod publish;
mod pull;
mod render;
mod session;
mod settings;
mod snippets;
mod symbols;
mod tracking;
mod transport;
mod why;
mod workspace;

use crate::Outcome;
use convert::Encoding;
use diagnostics::DiagnosticStyle;
use ropey::Rope;
use serde_json::json;
use session::{Document, State, to_path};
use settings::Settings;
use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

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
        let publications = frames.clone();
        let output = tokio::spawn(transport::pump_output(from_server, frames));
        let writer = tokio::spawn(transport::write_frames(queued, tokio::io::stdout()));
        let (service, socket) = LspService::new(|client| Backend::new(client, publications));
        Server::new(server_input, server_output, socket)
            .serve(snippets::SnippetEdits::new(service))
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

/// The longest a request waits for the first workspace scan (4,000 files take well under a second).
const SCAN_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Backend {
    client: Client,
    /// Frames written straight to the client: publications, serialised once from the diagnostics
    /// (through `client` each becomes a tree of JSON values first, 40% of a keystroke on a large file).
    publications: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    state: Arc<Mutex<State>>,
    /// Held while checking freshness and publishing, and by `didClose` while clearing.
    publish: Arc<tokio::sync::Mutex<()>>,
    /// One analysis runs at a time, so that of the runtime's two workers one always stays free for
    /// requests (hover, code actions) and I/O, even in a burst of changes to many documents.
    analyses: Arc<tokio::sync::Semaphore>,
    /// Whether the first workspace scan has ended (true at once without workspace folders): requests
    /// wait for it, so that none acts on a policy the scan may still change.
    scanned: Arc<tokio::sync::watch::Sender<bool>>,
    /// Bumped whenever what a workspace file's report depends on may have changed (see `pull`).
    changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// Bumped by each workspace pull: a newer one releases the one held (see `pull`).
    workspace_pulls: Arc<tokio::sync::watch::Sender<u64>>,
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
    fn new(client: Client, publications: tokio::sync::mpsc::UnboundedSender<Vec<u8>>) -> Self {
        Self {
            client,
            publications,
            state: Arc::default(),
            publish: Arc::default(),
            analyses: Arc::new(tokio::sync::Semaphore::new(1)),
            scanned: Arc::new(tokio::sync::watch::Sender::new(false)),
            changes: Arc::new(tokio::sync::watch::Sender::new(0)),
            workspace_pulls: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every mutation is one step), so a
        // poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for the first workspace scan, so that no request acts on a policy the scan may still change.
    async fn wait_for_scan(&self) {
        let mut scanned = self.scanned.subscribe();
        // The sender lives as long as the backend: an error here cannot happen while it serves. A client
        // that never sends `initialized` (so no scan starts) still gets answers, after a bounded wait.
        let _ = tokio::time::timeout(SCAN_WAIT, scanned.wait_for(|done| *done)).await;
    }

    /// The snapshot of an open document for a request, or the request's error.
    async fn snapshot(&self, uri: &Uri) -> Result<session::Snapshot> {
        self.wait_for_scan().await;
        let pending = self
            .state()
            .pending(uri.as_str(), None)
            .ok_or_else(|| not_open(uri))?;
        guarded("reading a document", || pending.complete()).map_err(internal_error)
    }

    /// The file-wide work behind code actions and hover at the snapshot's generation: kept, or done now
    /// and kept for the next request of that generation.
    fn file_actions(&self, snapshot: &session::Snapshot) -> Result<Arc<code_actions::FileActions>> {
        let kept = self
            .state()
            .documents
            .get(&snapshot.key)
            .and_then(|d| d.file_actions.clone())
            .filter(|f| f.generation == snapshot.generation);
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let file = guarded("analysing a document with fixes", || {
            Arc::new(code_actions::FileActions::of(snapshot))
        })
        .map_err(internal_error)?;
        if let Some(doc) = self
            .state()
            .documents
            .get_mut(&snapshot.key)
            .filter(|d| d.generation == file.generation)
        {
            doc.file_actions = Some(file.clone());
        }
        Ok(file)
    }

    /// After a save or a close: the file on disk is the truth again for the policy of every document.
    /// `gave_policy` says whether the document's open text gave policy to others.
    fn reread_from_disk(&self, uri: &Uri, gave_policy: bool) {
        let Some(path) = to_path(uri) else {
            if gave_policy {
                self.reschedule_all();
            }
            return;
        };
        let everything = {
            let mut state = self.state();
            let gave = gave_policy || state.workspace.gives_policy(&path);
            state.workspace.rescan(&path);
            let gives = state.workspace.gives_policy(&path) || session::governs_others(Some(&path));
            if gave || gives {
                state.workspace.forget_projects();
            }
            gave || gives
        };
        if everything {
            self.reschedule_all();
        } else {
            self.workspace_changed();
            self.reschedule_one(uri.as_str());
        }
    }

    /// Gives what a closed document held back to the system: its text, tree, analysis and diagnostics
    /// are freed, but glibc keeps freed pages in its arenas, below live allocations, and a large file
    /// would leave the server tens of MB larger for good (issue 29). Once any analysis that was still
    /// reading it has ended, off the async workers: trimming walks every arena (milliseconds).
    fn release_freed_memory(&self) {
        let analyses = Arc::clone(&self.analyses);
        tokio::spawn(async move {
            drop(analyses.acquire().await);
            let _ = tokio::task::spawn_blocking(podsec_memory::release_free_memory).await;
        });
    }

    /// Analyses one open document again, if it is open.
    pub(super) fn reschedule_one(&self, key: &str) {
        let generation = self.state().documents.get_mut(key).map(|doc| {
            doc.generation += 1;
            doc.generation
        });
        if let Some(generation) = generation {
            self.schedule(key.to_string(), generation);
        }
    }

    /// Scans the workspace folders for policy sources, with progress, then publishes every document.
    async fn scan_workspace(&self, roots: Vec<PathBuf>) {
        let progress = if self.state().work_done_progress {
            let token = ProgressToken::String("podsec-workspace-scan".to_string());
            match self.client.create_work_done_progress(token.clone()).await {
                Ok(()) => Some(
                    self.client
                        .progress(token, "podsec")
                        .with_message("Reading the workspace's Namespaces and admission configurations")
                        .begin()
                        .await,
                ),
                Err(_) => None,
            }
        } else {
            None
        };
        let started = std::time::Instant::now();
        let scanned = tokio::task::spawn_blocking(move || workspace::scan_roots(&roots))
            .await
            .unwrap_or_default();
        let found: usize = scanned.values().map(|s| s.namespaces.len()).sum();
        let files = scanned.len();
        {
            let mut state = self.state();
            state.workspace.scanned = scanned;
            state.scanning = false;
        }
        // Every open document is analysed again with what was found, its generation bumped before any request
        // waiting for the scan goes on: one that did after it would report from a generation already gone
        // (a pull's report ID then never answers "unchanged").
        self.reschedule_all();
        self.scanned.send_replace(true);
        let summary = format!(
            "podsec: {found} Namespace objects in {files} workspace files ({} ms)",
            started.elapsed().as_millis()
        );
        if let Some(progress) = progress {
            progress.finish_with_message(summary.clone()).await;
        }
        self.client.log_message(MessageType::INFO, summary).await;
    }
}

fn not_open(uri: &Uri) -> Error {
    Error::invalid_params(format!("document not open: {}", uri.as_str()))
}

fn outside(position: Position) -> Error {
    Error::invalid_params(format!(
        "position {}:{} is outside the document",
        position.line, position.character
    ))
}

/// Whether the client, told that the server answers `workspace/diagnostic`, answers a
/// `workspace/diagnostic/refresh` with a workspace pull alone and leaves its open documents as they were:
/// Neovim before 0.13 (neovim/neovim#40623, not in 0.12.4). Such a client would keep an open Deployment's
/// verdicts after its Namespace's label changed; without workspace reports it re-pulls every open document.
fn refresh_skips_open_documents(client: Option<&ClientInfo>) -> bool {
    let Some(client) = client.filter(|c| c.name == "Neovim") else {
        return false;
    };
    // `tostring(vim.version())`: "0.12.4", "0.11.4+v0.11.4", "0.13.0-dev+…".
    let mut numbers = client
        .version
        .as_deref()
        .unwrap_or("")
        .split(['.', '-', '+'])
        .map(|part| part.parse::<u64>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) < (0, 13),
        // An unreadable version: the safe side (every open document is re-pulled).
        _ => true,
    }
}

fn internal_error(message: String) -> Error {
    let mut error = Error::internal_error();
    error.message = message.into();
    error
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
        let lens_refresh = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false);
        // Pulled only when the client also re-pulls on request: a policy change in one document changes
        // the diagnostics of others, which a pull-only client (Neovim 0.11) would not ask for again.
        let pull_diagnostics = params
            .capabilities
            .text_document
            .as_ref()
            .is_some_and(|t| t.diagnostic.is_some())
            && params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.diagnostics.as_ref())
                .and_then(|d| d.refresh_support)
                .unwrap_or(false);
        // Workspace reports only for a client whose refresh also re-pulls its open documents.
        let workspace_diagnostics = !refresh_skips_open_documents(params.client_info.as_ref());
        let work_done_progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        let show_document = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.show_document.as_ref())
            .is_some_and(|s| s.support);
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
            state.work_done_progress = work_done_progress;
            state.lens_refresh = lens_refresh;
            state.show_document = show_document;
            state.pull_diagnostics = pull_diagnostics;
            state.diagnostic_style = DiagnosticStyle::of_client(&params.capabilities, pull_diagnostics);
            // Set here, before the client can open a document: nothing is published until the scan
            // that `initialized` starts has ended.
            state.scanning = !roots.is_empty();
            if roots.is_empty() {
                self.scanned.send_replace(true);
            }
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
                    // A save makes the file on disk the policy source again.
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                })),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(completion::trigger_characters()),
                    ..CompletionOptions::default()
                }),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, code_actions::fix_all_kind()]),
                    resolve_provider: Some(false),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: commands::all(),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                diagnostic_provider: pull_diagnostics.then(|| {
                    DiagnosticServerCapabilities::Options(DiagnosticOptions {
                        identifier: Some("podsec".to_string()),
                        // A Namespace, admission configuration or project file changes other files' verdicts.
                        inter_file_dependencies: true,
                        workspace_diagnostics,
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                    })
                }),
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
        let (pull, watch, roots, pull_diagnostics) = {
            let state = self.state();
            (
                state.pull_configuration,
                state.dynamic_watchers,
                state.workspace.roots.clone(),
                state.pull_diagnostics,
            )
        };
        let how = if pull_diagnostics {
            "pulled by the client (textDocument/diagnostic, workspace/diagnostic)"
        } else {
            "published (textDocument/publishDiagnostics)"
        };
        self.client
            .log_message(MessageType::INFO, format!("podsec: diagnostics are {how}"))
            .await;
        if watch {
            // Our own watchers, not the client's defaults: every YAML file may hold a Namespace or an
            // admission configuration, and project files start with a dot that some globs skip.
            // The last one, deletions of anything, also makes Neovim's portable watcher (Linux without
            // inotifywait) watch every folder: it watches only the folders some pattern matches, so a
            // Namespace file changed in a subfolder would otherwise go unseen. (A folder removed by a
            // checkout is worth hearing of too.)
            let options = json!({ "watchers": [
                { "globPattern": "**/*.{yaml,yml}" },
                { "globPattern": "**/.podsec.yaml" },
                { "globPattern": "**/*", "kind": 4 },
            ] });
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
            self.scan_workspace(roots).await;
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let roots = self.state().workspace.roots.clone();
        let changes: Vec<(PathBuf, bool)> = params
            .changes
            .iter()
            .filter_map(|c| Some((to_path(&c.uri)?, c.typ == FileChangeType::DELETED)))
            .collect();
        // A chart rendered before renders again when its files change on disk.
        for (path, _) in &changes {
            self.chart_file_touched(path.clone(), true);
        }
        let rescanned = tokio::task::spawn_blocking(move || {
            changes
                .into_iter()
                .map(|(path, deleted)| {
                    let scanned = if deleted {
                        None
                    } else {
                        workspace::scan_file(&path, &roots)
                    };
                    (path, scanned)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let policy = {
            let mut state = self.state();
            let mut policy = false;
            for (path, scanned) in rescanned {
                // A policy source changed if the file gave policy before or gives it now, or governs
                // the files below it (a project file, a kustomization).
                policy |= state.workspace.gives_policy(&path) || session::governs_others(Some(&path));
                match scanned {
                    Some(scanned) => {
                        state.workspace.scanned.insert(path.clone(), scanned);
                    }
                    None => {
                        state.workspace.scanned.remove(&path);
                    }
                }
                policy |= state.workspace.gives_policy(&path);
            }
            if policy {
                state.workspace.forget_projects();
            }
            policy
        };
        if policy {
            self.reschedule_all();
        } else {
            // Workloads changed: a Namespace's label impact counts them.
            self.workspace_changed();
            self.reanalyse_open("");
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.stop_renderings().await;
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        if !is_yaml(&doc.language_id, &doc.uri) {
            return;
        }
        let key = doc.uri.as_str().to_string();
        let uri = doc.uri.clone();
        let generation = {
            let mut state = self.state();
            let generation = state.documents.get(&key).map_or(0, |d| d.generation) + 1;
            let document = Document::new(doc.uri, &doc.text, doc.version, generation);
            // Its file's scanned policy sources stand for it until its first analysis, which then
            // republishes the others if they change.
            state.documents.insert(key.clone(), document);
            generation
        };
        // Its file leaves the workspace reports: the open document reports for it now.
        self.workspace_changed();
        self.schedule(key, generation);
        if let Some(path) = to_path(&uri) {
            self.chart_file_touched(path, false);
        }
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
                            // Where the client's marks now hold the diagnostics it was sent.
                            let followed = doc.shown.as_mut().is_none_or(|shown| {
                                tracking::follow(
                                    Arc::make_mut(shown).as_mut_slice(),
                                    &change,
                                    encoding,
                                    &doc.uri,
                                )
                            });
                            if !followed {
                                doc.shown = None;
                            }
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

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        let gave_policy = self.state().documents.get_mut(uri.as_str()).is_some_and(|doc| {
            let gave = session::gives_policy(doc);
            // Saved: the text is read afresh, as the command line reads the file (no steadied labels).
            doc.saved = true;
            gave
        });
        self.reread_from_disk(&uri, gave_policy);
        if let Some(path) = to_path(&uri) {
            // A project file's `charts:` and `helm:` say how charts are rendered.
            if session::is_project_file(Some(&path)) {
                self.render_charts_again();
            }
            self.chart_file_touched(path, false);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let removed = self.state().documents.remove(uri.as_str());
        let Some(removed) = removed else { return };
        if let (true, Some(path)) = (session::is_project_file(removed.path.as_deref()), &removed.path) {
            self.state().workspace.set_open_project(path, None);
        }
        if let (true, Some(path)) = (session::is_kustomization(removed.path.as_deref()), &removed.path) {
            self.state().workspace.set_open_kustomization(path, None);
        }
        if !self.state().pull_diagnostics {
            let _publishing = self.publish.lock().await;
            self.publish_diagnostics(&uri, &[], None);
        }
        // Its file is a workspace file again (a pulling client clears a closed document's diagnostics).
        self.workspace_changed();
        // What it held on disk, not its last unsaved text, is the policy source from now on.
        self.reread_from_disk(&uri, session::gives_policy(&removed));
        // And its pods on disk are those the Namespaces of their namespaces count now.
        let dependents: Vec<String> = self
            .state()
            .documents
            .iter()
            .filter(|(_, d)| {
                d.namespaces
                    .iter()
                    .any(|n| removed.workloads.iter().flatten().any(|w| *w == n.name))
            })
            .map(|(key, _)| key.clone())
            .collect();
        for dependent in dependents {
            self.reschedule_one(&dependent);
        }
        drop(removed);
        self.release_freed_memory();
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

    async fn code_action(&self, mut params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let snapshot = self.snapshot(&params.text_document.uri).await?;
        if let Some(doc) = self.state().documents.get(params.text_document.uri.as_str()) {
            if let (Some(published), Some(shown)) = (&doc.published, &doc.shown) {
                tracking::to_current(&mut params.context.diagnostics, published, shown);
            }
        }
        let file = self.file_actions(&snapshot)?;
        let reveal = self.state().show_document;
        let actions = guarded("computing code actions", || {
            code_actions::code_actions(&snapshot, &params, &file, reveal)
        })
        .map_err(internal_error)?;
        Ok(Some(actions))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = &params.text_document.uri;
        self.wait_for_scan().await;
        // From the analysis behind the document's diagnostics (made now if its last change has not been
        // analysed yet): the lenses show the very policy of the diagnostics, and cost no analysis.
        let last = self
            .diagnose(uri.as_str(), None)
            .await
            .ok_or_else(|| not_open(uri))?
            .analysed;
        if last.snapshot.is_project_file() {
            return Ok(None);
        }
        let backend = self.clone();
        let candidates = why::Candidates::of(&self.state(), &last.snapshot);
        let lenses = guarded("computing code lenses", move || {
            let elsewhere = backend.workloads_elsewhere(&last.snapshot, false);
            // A lens jumps to where its object's policy is written.
            let jump = |object: &podsec_engine::ObjectReport| {
                why::lens_target(&candidates, last.snapshot.encoding, object)
            };
            code_lens::code_lenses(&last.snapshot, &last.analysis, &elsewhere, &jump)
        })
        .map_err(internal_error)?;
        Ok(Some(lenses))
    }

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        self.pull_document(params).await
    }

    async fn workspace_diagnostic(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        self.pull_workspace(params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let show = commands::show_document_params(&params).map_err(Error::invalid_params)?;
        // Whether the client showed it (a client that answers otherwise did not).
        let shown = self.client.show_document(show).await.unwrap_or(false);
        Ok(Some(serde_json::Value::Bool(shown)))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let uri = params.text_document_position_params.text_document.uri;
        let position = params.text_document_position_params.position;
        let snapshot = self.snapshot(&uri).await?;
        let offset = convert::byte_offset(&snapshot.rope, position, snapshot.encoding, true)
            .map_err(|_| outside(position))?;
        if !definition::may_name_a_namespace(&snapshot, offset) {
            return Ok(None);
        }
        let candidates = why::Candidates::of(&self.state(), &snapshot);
        guarded("finding a definition", || {
            definition::definition(&snapshot, offset, &candidates)
        })
        .map_err(internal_error)
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        let snapshot = self.snapshot(&params.text_document.uri).await?;
        guarded("listing symbols", || {
            Some(DocumentSymbolResponse::Nested(symbols::document_symbols(
                &snapshot,
            )))
        })
        .map_err(internal_error)
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let uri = params.text_document_position.text_document.uri;
        let position = params.text_document_position.position;
        let snapshot = self.snapshot(&uri).await?;
        let offset = convert::byte_offset(&snapshot.rope, position, snapshot.encoding, true)
            .map_err(|_| outside(position))?;
        guarded("completing", || completion::completion(&snapshot, offset)).map_err(internal_error)
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = params.text_document_position_params.text_document.uri;
        let position = params.text_document_position_params.position;
        let snapshot = self.snapshot(&uri).await?;
        let offset =
            convert::byte_offset(&snapshot.rope, position, snapshot.encoding, true).map_err(|_| {
                Error::invalid_params(format!(
                    "position {}:{} is outside the document",
                    position.line, position.character
                ))
            })?;
        let file = self.file_actions(&snapshot)?;
        // On an object's `kind:` line (its lens's line): why this policy, and where it is written.
        if let Some(object) = why::object_on_line(&snapshot, file.analysis(), offset) {
            let candidates = why::Candidates::of(&self.state(), &snapshot);
            return guarded("explaining a policy", || {
                Some(why::hover(&snapshot, object, &candidates))
            })
            .map_err(internal_error);
        }
        if why::namespace_on_line(&snapshot, offset).is_some() {
            let candidates = why::Candidates::of(&self.state(), &snapshot);
            if let Some(hover) = guarded("explaining a Namespace's policy", || {
                why::namespace_hover(&snapshot, offset, &candidates)
            })
            .map_err(internal_error)?
            {
                return Ok(Some(hover));
            }
        }
        guarded("computing a hover", || hover::hover(&snapshot, offset, &file)).map_err(internal_error)
    }
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
