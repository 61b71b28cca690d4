//! Publishing diagnostics: debounced per document, one analysis at a time, only for the generation
//! analysed, and never under a policy the workspace scan may still change.

use super::diagnostics::{config_diagnostic, diagnostics};
use super::session::{Analysed, Report, Snapshot};
use super::settings::Settings;
use super::tracking;
use super::{Backend, guarded};
use podsec_engine::Analysis;
use podsec_engine::advice::namespace_impact;
use podsec_engine::analysis::{Reuse, analyze_reusing};
use podsec_engine::{Limits, ObjectReport};
use serde_json::Value;
use std::sync::Arc;
use tower_lsp_server::ls_types::*;

/// How long a document stays quiet before diagnostics that only moved are sent again (see
/// [`Backend::catch_up`]): longer than the pause between keystrokes of someone typing.
const CATCH_UP: std::time::Duration = std::time::Duration::from_millis(1000);

/// When a new analysis's diagnostics go to a client that is sent them.
enum Delivery {
    Now,
    /// Once the document is quiet: the client shows them already, where its marks moved them.
    WhenQuiet,
    /// The client has them, as they are.
    Nothing,
}

/// What [`Backend::diagnose`] gives: the diagnostics of one generation of an open document.
pub(super) struct Diagnosed {
    pub uri: Uri,
    pub version: i32,
    pub report: Report,
    /// The analysis behind `report`. Not `Document::last`, which a newer generation may have made
    /// stale (or not yet replaced) by the time the caller reads it.
    pub analysed: Arc<Analysed>,
    /// Whether the analysis changed the policy sources this document gives the others.
    pub policy_changed: bool,
}

impl Backend {
    /// Analyses `key` after the debounce delay, if it has not changed again by then.
    pub(super) fn schedule(&self, key: String, generation: u64) {
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
        let Some(diagnosed) = self.diagnose(key, Some(generation)).await else {
            return;
        };
        let (pull, lens_refresh) = {
            let state = self.state();
            (state.pull_diagnostics, state.lens_refresh)
        };
        // Pulled: kept for the client's next pull, which follows its own change (a policy change has
        // asked it to pull every document again, see `reschedule_others`).
        if !pull {
            let _publishing = self.publish.lock().await;
            let items = &diagnosed.report.items;
            let delivery = {
                let mut state = self.state();
                let Some(doc) = state
                    .documents
                    .get_mut(key)
                    .filter(|d| d.generation == generation)
                else {
                    return;
                };
                let same = |list: &Option<Arc<Vec<Diagnostic>>>| {
                    list.as_ref()
                        .is_some_and(|list| Arc::ptr_eq(list, items) || list == items)
                };
                if same(&doc.shown) && same(&doc.published) {
                    Delivery::Nothing
                } else if doc
                    .shown
                    .as_ref()
                    .is_some_and(|shown| tracking::same_findings(shown, items))
                {
                    // The client shows these findings already, moved by its marks (and perhaps worded as
                    // before): sent as they now are once the typing stops (see `catch_up`), never while
                    // the user types.
                    Delivery::WhenQuiet
                } else {
                    doc.sent(items);
                    Delivery::Now
                }
            };
            match delivery {
                Delivery::Now => self.publish_diagnostics(&diagnosed.uri, items, Some(diagnosed.version)),
                Delivery::WhenQuiet => self.catch_up(key.to_string(), generation),
                Delivery::Nothing => {}
            }
        }
        // Code lenses show the policy: the client asks again when it may have changed.
        if diagnosed.policy_changed && lens_refresh {
            let _ = self.client.code_lens_refresh().await;
        }
    }

    /// Brings what the client holds of `key`'s diagnostics besides its marks up to date once the document
    /// has been quiet for [`CATCH_UP`] at `generation`, if its findings were left as it shows them (moved
    /// by its marks, perhaps worded as before; Neovim 0.11's jumps and floats read what it was sent):
    /// publishes them as they are now, or asks a client that pulls to pull again (its next pull gets them
    /// in full). At a moment nobody is typing.
    pub(super) fn catch_up(&self, key: String, generation: u64) {
        let backend = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CATCH_UP).await;
            let publishing = backend.publish.lock().await;
            let (due, pull) = {
                let mut state = backend.state();
                let pull = state.pull_diagnostics;
                let Some(doc) = state
                    .documents
                    .get_mut(&key)
                    .filter(|d| d.generation == generation)
                else {
                    return;
                };
                let now = doc
                    .report
                    .as_ref()
                    .filter(|r| r.generation == generation)
                    .map(|r| Arc::clone(&r.items));
                let due = match now {
                    Some(now) if doc.published.as_ref() != Some(&now) => {
                        if pull {
                            // Its report ID no longer answers "unchanged": the next pull is in full.
                            doc.pulled = None;
                        } else {
                            doc.sent(&now);
                        }
                        Some((doc.uri.clone(), now, doc.version))
                    }
                    _ => None,
                };
                (due, pull)
            };
            match due {
                Some(_) if pull => {
                    drop(publishing);
                    let _ = backend.client.workspace_diagnostic_refresh().await;
                }
                Some((uri, items, version)) => backend.publish_diagnostics(&uri, &items, Some(version)),
                None => {}
            }
        });
    }

    /// The diagnostics of the open document `key` at `generation` (its current one when `None`): the
    /// kept report when that generation has been analysed already, else a new analysis, whose report and
    /// policy sources are kept (and whose policy change reschedules the other documents). `None` when
    /// the document is not open or has changed since `generation`, and for a scheduled analysis while
    /// the first workspace scan runs (its end analyses every open document).
    pub(super) async fn diagnose(&self, key: &str, generation: Option<u64>) -> Option<Diagnosed> {
        // Waiting here, not in the analysis: a change that is stale by its turn costs nothing.
        let running = self.analyses.acquire().await.ok()?;
        let (pending, mut reuse, analysed) = {
            let mut state = self.state();
            if state.scanning && generation.is_some() {
                return None;
            }
            let doc = state.documents.get(key)?;
            let analysed = doc.generation;
            if generation.is_some_and(|g| g != analysed) {
                return None;
            }
            let kept = doc.report.as_ref().filter(|r| r.generation == analysed);
            if let (Some(report), Some(last)) = (kept, &doc.last) {
                return Some(Diagnosed {
                    uri: doc.uri.clone(),
                    version: doc.version,
                    report: report.clone(),
                    analysed: Arc::clone(last),
                    policy_changed: false,
                });
            }
            let pending = state.pending(key, Some(analysed))?;
            let reuse = state
                .documents
                .get_mut(key)
                .map(|d| std::mem::take(&mut d.reuse))
                .unwrap_or_default();
            (pending, reuse, analysed)
        };
        let uri = pending.uri();
        let backend = self.clone();
        let outcome = guarded("analysing a document", move || {
            let snapshot = pending.complete();
            // An open project file's text is the policy of the files below it from now on: their
            // analyses for its unused exemptions read it.
            let project_changed = match (snapshot.is_project_file(), &snapshot.path) {
                (true, Some(path)) => backend
                    .state()
                    .workspace
                    .set_open_project(path, Some(&snapshot.text)),
                _ => false,
            };
            let elsewhere = backend.elsewhere(&snapshot);
            let (diagnostics, workloads, analysis) = analyse(&snapshot, &mut reuse, &elsewhere);
            (snapshot, diagnostics, workloads, analysis, reuse, project_changed)
        });
        drop(running);
        let (snapshot, diagnostics, workloads, analysis, reuse, project_changed) = match outcome {
            Ok(done) => done,
            Err(message) => {
                self.client
                    .log_message(MessageType::ERROR, format!("{message} ({})", uri.as_str()))
                    .await;
                return None;
            }
        };
        // (Only while some other open document reads them: a keystroke pays for the fingerprint then.)
        let read_elsewhere = {
            let state = self.state();
            state.documents.iter().any(|(other, d)| {
                other.as_str() != key
                    && (!d.namespaces.is_empty() || super::session::is_project_file(d.path.as_deref()))
            })
        };
        let verdicts = read_elsewhere.then(|| verdicts(&analysis));
        let policy_changed = self.store(&snapshot, reuse, workloads) || project_changed;
        let dependents = self.verdicts_changed(key, &snapshot, verdicts);
        let pull = self.state().pull_diagnostics;
        let report = Report::new(analysed, diagnostics, pull);
        let (uri, version) = (snapshot.uri.clone(), snapshot.version);
        let made = Arc::new(Analysed { snapshot, analysis });
        if let Some(doc) = self
            .state()
            .documents
            .get_mut(key)
            .filter(|d| d.generation == analysed)
        {
            doc.report = Some(report.clone());
            doc.last = Some(Arc::clone(&made));
        }
        if policy_changed {
            // Other documents may live in these namespaces, or under this project file.
            self.reschedule_others(key);
        } else if !dependents.is_empty() {
            self.workspace_changed();
            for dependent in dependents {
                self.reschedule_one(&dependent);
            }
        }
        Some(Diagnosed {
            uri,
            version,
            report,
            analysed: made,
            policy_changed,
        })
    }

    /// Sends `textDocument/publishDiagnostics`. Every publication goes this one way, in the order of
    /// the `publish` lock, so none overtakes another.
    pub(super) fn publish_diagnostics(&self, uri: &Uri, diagnostics: &[Diagnostic], version: Option<i32>) {
        let mut body =
            br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#.to_vec();
        let written = serde_json::to_writer(&mut body, uri)
            .and_then(|()| {
                body.extend_from_slice(br#","diagnostics":"#);
                serde_json::to_writer(&mut body, diagnostics)
            })
            .and_then(|()| match version {
                Some(version) => {
                    body.extend_from_slice(br#","version":"#);
                    serde_json::to_writer(&mut body, &version)
                }
                None => Ok(()),
            });
        if written.is_ok() {
            body.extend_from_slice(b"}}");
            // Fails only when the writer has stopped: the client has gone.
            let _ = self.publications.send(super::transport::frame(&body));
        }
    }

    /// Records the verdicts of the open document `key`'s analysis; when they changed since its last one,
    /// the other open documents that read them: Namespaces of its objects' namespaces (their label impact
    /// counts its pods, saved or not) and the project file above it (its unused exemptions).
    fn verdicts_changed(&self, key: &str, snapshot: &Snapshot, verdicts: Option<u64>) -> Vec<String> {
        let mut state = self.state();
        let Some(doc) = state.documents.get_mut(key) else {
            return Vec::new();
        };
        // (The first fingerprint counts as a change: the open text replaces the file, and no document
        // that reads it was open before.)
        let before = std::mem::replace(&mut doc.verdicts, verdicts);
        if verdicts.is_none() || before == verdicts {
            return Vec::new();
        }
        let namespaces: Vec<String> = doc.workloads.iter().flatten().cloned().collect();
        let directory = snapshot.path.as_deref().and_then(std::path::Path::parent);
        state
            .documents
            .iter()
            .filter(|(other, _)| other.as_str() != key)
            .filter(|(_, d)| {
                let defines = d.namespaces.iter().any(|n| namespaces.contains(&n.name));
                let governs = super::session::is_project_file(d.path.as_deref())
                    && d.path
                        .as_deref()
                        .and_then(std::path::Path::parent)
                        .zip(directory)
                        .is_some_and(|(project, dir)| dir.starts_with(project));
                defines || governs
            })
            .map(|(other, _)| other.clone())
            .collect()
    }

    /// Keeps what an analysis learnt about the document; true when the policy sources it gives the
    /// other documents changed.
    fn store(&self, snapshot: &Snapshot, reuse: Reuse, workloads: Vec<Option<String>>) -> bool {
        let mut state = self.state();
        let mut changed = false;
        if let (true, Some(path)) = (snapshot.is_project_file(), &snapshot.path) {
            changed |= state.workspace.set_open_project(path, Some(&snapshot.text));
        }
        if let (true, Some(path)) = (
            super::session::is_kustomization(snapshot.path.as_deref()),
            &snapshot.path,
        ) {
            changed |= state.workspace.set_open_kustomization(path, Some(&snapshot.text));
        }
        let scanned_gives_policy = snapshot
            .path
            .as_deref()
            .is_some_and(|p| state.workspace.gives_policy(p));
        if let Some(doc) = state.documents.get_mut(&snapshot.key) {
            // Keyed by document text, so still right for a newer version of the file.
            doc.reuse = reuse;
            doc.saved = false;
            // From its first analysis on, its open text replaces its file's scanned policy sources.
            changed |= !doc.analysed && scanned_gives_policy;
            doc.analysed = true;
            doc.workloads = workloads;
            // A Namespace that only moved (text typed above it) changes no other document's policy: its
            // new place is kept without analysing the other documents again.
            let same_policy = doc.namespaces.len() == snapshot.namespaces.len()
                && doc
                    .namespaces
                    .iter()
                    .zip(&snapshot.namespaces)
                    .all(|(a, b)| a.same_policy(b));
            changed |= !same_policy;
            if doc.namespaces != snapshot.namespaces {
                doc.namespaces = snapshot.namespaces.clone();
            }
            if doc.admission != snapshot.admission {
                doc.admission = snapshot.admission.clone();
                changed = true;
            }
        }
        changed
    }

    /// What the diagnostics of `snapshot` read of other documents: the objects in the namespaces whose
    /// enforce label it sets, and for a project file, the exemptions the files it governs use.
    pub(super) fn elsewhere(&self, snapshot: &Snapshot) -> Elsewhere {
        Elsewhere {
            objects: self.workloads_elsewhere(snapshot, true),
            used_exemptions: snapshot
                .is_project_file()
                .then(|| self.exemptions_used_below(snapshot)),
        }
    }

    /// The exemptions of the project file `snapshot` that match a finding in a file it governs: the open
    /// documents (their texts, saved or not) and the workspace's other files below it, as `podsec check`
    /// of its folder finds them.
    fn exemptions_used_below(&self, snapshot: &Snapshot) -> Vec<podsec_engine::Span> {
        let Some(project) = snapshot.path.clone() else {
            return Vec::new();
        };
        let sources = {
            let mut state = self.state();
            let governed = |state: &mut super::session::State, path: &std::path::Path| {
                path != project && state.workspace.project_path_for(path).as_ref() == Some(&project)
            };
            let open: Vec<(String, std::path::PathBuf)> = state
                .documents
                .iter()
                .filter_map(|(key, d)| Some((key.clone(), d.path.clone()?)))
                .collect();
            let mut sources = Vec::new();
            for (key, path) in open {
                if governed(&mut state, &path) {
                    sources.extend(state.pending(&key, None));
                }
            }
            for path in state.closed_workspace_files() {
                if governed(&mut state, &path) {
                    sources.extend(state.pending_file(&path));
                }
            }
            sources
        };
        let mut used = Vec::new();
        for source in sources {
            let other = source.complete();
            if other.is_project_file() {
                continue;
            }
            used.extend(podsec_engine::analyze(&other.text, &other.options()).used_exemptions);
        }
        used
    }

    /// The objects of other open documents and workspace files in the namespaces this snapshot defines
    /// (only those with an enforce label when `enforced_only`: what a label's impact needs on every
    /// keystroke; all of them for the code lenses' counts), analysed with its labels: PSA's dry run of
    /// a label sees every pod of the namespace, not only those of the same file.
    pub(super) fn workloads_elsewhere(&self, snapshot: &Snapshot, enforced_only: bool) -> Vec<ObjectReport> {
        let names: Vec<String> = snapshot
            .own
            .labels
            .iter()
            .filter(|labels| !enforced_only || labels.enforce_span.is_some())
            .map(|labels| labels.name.clone())
            .collect();
        if names.is_empty() {
            return Vec::new();
        }
        let sources = self.state().impact_sources(&snapshot.key, &names);
        let mut objects = Vec::new();
        for source in sources {
            let other = source.complete_with(&snapshot.namespaces);
            let analysis = podsec_engine::analyze(&other.text, &other.options());
            objects.extend(
                analysis
                    .objects
                    .into_iter()
                    .filter(|o| o.namespace.as_ref().is_some_and(|n| names.contains(n))),
            );
        }
        objects
    }

    /// Analyses every open document again except `except`, after a change of policy sources (a client
    /// that pulls is asked to pull again, workspace files included).
    pub(super) fn reschedule_others(&self, except: &str) {
        self.policy_changed();
        self.reanalyse_open(except);
    }

    /// Analyses every open document again except `except`.
    pub(super) fn reanalyse_open(&self, except: &str) {
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

    /// Analyses every open document again (after a change of settings or of policy files on disk).
    pub(super) fn reschedule_all(&self) {
        self.reschedule_others("");
    }

    pub(super) async fn apply_settings(&self, value: &Value) {
        let (settings, warnings) = Settings::parse(value);
        let helm_changed = {
            let mut state = self.state();
            let changed = state.settings.helm != settings.helm;
            state.settings = settings;
            changed
        };
        for warning in warnings {
            self.client.show_message(MessageType::WARNING, warning).await;
        }
        self.reschedule_all();
        if helm_changed {
            self.render_charts_again();
        }
    }

    pub(super) async fn pull_settings(&self) {
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

/// A fingerprint of what other documents read of an analysis: each object's namespace, name and enforce
/// verdict (a Namespace's label impact), and the project-file exemptions it used.
fn verdicts(analysis: &Analysis) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for object in &analysis.objects {
        object.namespace.hash(&mut hasher);
        object.display_name().hash(&mut hasher);
        object
            .aggregated_reason(podsec_engine::policy::Mode::Enforce)
            .hash(&mut hasher);
    }
    analysis.used_exemptions.hash(&mut hasher);
    hasher.finish()
}

/// What a document's diagnostics read of the others (see [`Backend::elsewhere`]).
#[derive(Default)]
pub(super) struct Elsewhere {
    pub objects: Vec<ObjectReport>,
    /// For a project file: the exemptions that match a finding in a file it governs.
    pub used_exemptions: Option<Vec<podsec_engine::Span>>,
}

/// The diagnostics of a snapshot — its findings, and the problems of the policy sources it holds (with
/// the impact of its enforce labels on its own objects and those `elsewhere`) — the namespaces of its
/// pod-bearing objects, and the analysis itself.
pub(super) fn analyse(
    snapshot: &Snapshot,
    reuse: &mut Reuse,
    elsewhere: &Elsewhere,
) -> (Vec<Diagnostic>, Vec<Option<String>>, Analysis) {
    let (rope, encoding) = (&snapshot.rope, snapshot.encoding);
    if snapshot.is_project_file() {
        let (config, mut problems) = podsec_engine::sources::project_file(&snapshot.text, &Limits::default());
        // As `podsec check` reports them: expired exemptions, and those no governed file uses.
        if let Some(used) = &elsewhere.used_exemptions {
            let context = podsec_engine::policy::PolicyContext {
                project: Some(config),
                today: snapshot.context.today,
                ..podsec_engine::policy::PolicyContext::default()
            };
            problems.extend(context.exemption_problems(used));
        }
        let found = problems
            .iter()
            .map(|p| config_diagnostic(p, rope, encoding, snapshot.style))
            .collect();
        return (found, Vec::new(), Analysis::default());
    }
    // A chart's file read by its last rendering has that rendering's findings, in place of the static
    // reading (see `render`).
    let rendered = snapshot.rendered();
    let analysis = match rendered
        .and_then(|r| r.analysis.clone())
        .or_else(|| snapshot.patch_analysis())
    {
        Some(analysis) => analysis,
        None => analyze_reusing(&snapshot.text, &snapshot.options(), reuse),
    };
    let mut found = diagnostics(&analysis, rope, encoding, &snapshot.uri, snapshot.style);
    let notes = rendered.into_iter().flat_map(|r| &r.notes);
    found.extend(notes.map(|p| config_diagnostic(p, rope, encoding, snapshot.style)));
    for labels in &snapshot.own.labels {
        let problems = labels.problems.iter().cloned().chain(namespace_impact(
            labels,
            analysis.objects.iter().chain(&elsewhere.objects),
        ));
        found.extend(problems.map(|p| config_diagnostic(&p, rope, encoding, snapshot.style)));
    }
    let mut workloads: Vec<Option<String>> = Vec::new();
    for object in &analysis.objects {
        if !workloads.contains(&object.namespace) {
            workloads.push(object.namespace.clone());
        }
    }
    (super::diagnostics::bounded(found), workloads, analysis)
}
