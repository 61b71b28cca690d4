//! Pull diagnostics: `textDocument/diagnostic` answers from the report of the document's current
//! generation (analysing it now if the debounced analysis has not yet), and `workspace/diagnostic`
//! covers the workspace's YAML files that are not open, each report kept until its file or the policy
//! changes. Result IDs are hashes of the items, so an unchanged report is answered as such.
//!
//! A workspace pull that would change nothing is held until something does (a file on disk, a policy
//! source, a document opened or closed), a newer workspace pull comes, or [`HOLD`] passes: VS Code asks
//! again two seconds after each answer, and each answer would otherwise list every file.

use super::publish::analyse;
use super::session::{FileReport, FileStamp, Report};
use super::tracking;
use super::{Backend, guarded};
use podsec_engine::analysis::Reuse;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// The longest a workspace pull that would change nothing is held.
const HOLD: Duration = Duration::from_secs(60);

impl Backend {
    /// Marks that a file or an open document changed: a held workspace pull looks again.
    pub(super) fn workspace_changed(&self) {
        self.changes.send_modify(|epoch| *epoch += 1);
    }

    /// Marks that a policy source changed: every report may differ. A client that pulls is asked to
    /// pull again.
    pub(super) fn policy_changed(&self) {
        let pull = {
            let mut state = self.state();
            state.policy_epoch += 1;
            state.pull_diagnostics
        };
        self.workspace_changed();
        if pull {
            let client = self.client.clone();
            tokio::spawn(async move {
                let _ = client.workspace_diagnostic_refresh().await;
            });
        }
    }

    pub(super) async fn pull_document(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        self.wait_for_scan().await;
        let uri = &params.text_document.uri;
        // A document that is not open (VS Code pulls one last time after closing it) reports its file,
        // as the workspace pull does.
        let open = self.diagnose(uri.as_str(), None).await;
        // (A client that is sent publications keeps them: its pulls leave what it was sent alone.)
        let analysed = open.is_some() && self.state().pull_diagnostics;
        let report = match open {
            Some(diagnosed) => diagnosed.report,
            None => match super::session::to_path(uri) {
                Some(path) => self.file_report(&path).await.map(|(_, report)| report),
                None => None,
            }
            .unwrap_or_else(|| Report::new(0, Vec::new(), true)),
        };
        let previous = params.previous_result_id;
        let unchanged = if previous.as_deref() == Some(report.result_id.as_str()) {
            Some(report.result_id.clone())
        } else if analysed {
            // What the client holds, moved by its marks, may hold this report's findings already.
            previous.filter(|previous| self.holds_these_findings(uri.as_str(), previous, &report))
        } else {
            None
        };
        let report = match unchanged {
            Some(result_id) => {
                DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                    related_documents: None,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id },
                })
            }
            None => {
                if analysed {
                    self.pulled_in_full(uri.as_str(), &report);
                }
                DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                    related_documents: None,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(report.result_id),
                        items: report.items.as_ref().clone(),
                    },
                })
            }
        };
        Ok(DocumentDiagnosticReportResult::Report(report))
    }

    /// Records that the client got `report` of the open document `key` in full.
    fn pulled_in_full(&self, key: &str, report: &Report) {
        let mut state = self.state();
        if let Some(doc) = state
            .documents
            .get_mut(key)
            .filter(|d| d.generation == report.generation)
        {
            doc.sent(&report.items);
            doc.pulled = Some(report.result_id.clone());
        }
    }

    /// Whether the client, holding the open document `key`'s report `previous`, shows `report`'s findings
    /// already: its marks moved that report's diagnostics through the edits to where `report` has them,
    /// perhaps worded as before (see `tracking::same_findings`). Then it is told "unchanged", and asked to
    /// pull again once the document is quiet (see [`Backend::catch_up`]).
    fn holds_these_findings(&self, key: &str, previous: &str, report: &Report) -> bool {
        let held = {
            let state = self.state();
            state.documents.get(key).is_some_and(|doc| {
                doc.generation == report.generation
                    && doc.pulled.as_deref() == Some(previous)
                    && doc
                        .shown
                        .as_ref()
                        .is_some_and(|shown| tracking::same_findings(shown, &report.items))
            })
        };
        if held {
            self.catch_up(key.to_string(), report.generation);
        }
        held
    }

    pub(super) async fn pull_workspace(
        &self,
        params: WorkspaceDiagnosticParams,
    ) -> Result<WorkspaceDiagnosticReportResult> {
        self.wait_for_scan().await;
        let previous: HashMap<String, String> = params
            .previous_result_ids
            .into_iter()
            .map(|p| (p.uri.as_str().to_string(), p.value))
            .collect();
        let mut changes = self.changes.subscribe();
        // A client that asks again before this one is answered (Neovim at each refresh) releases it:
        // held pulls would otherwise take every request slot, and its document pulls would wait behind.
        let mut mine = 0;
        self.workspace_pulls.send_modify(|count| {
            *count += 1;
            mine = *count;
        });
        let mut newer = self.workspace_pulls.subscribe();
        let deadline = tokio::time::Instant::now() + HOLD;
        loop {
            let epoch = *changes.borrow_and_update();
            let reports = self.workspace_reports().await;
            let open: Vec<String> = self.state().documents.keys().cloned().collect();
            let mut items = Vec::new();
            let mut changed = false;
            for (uri, report) in &reports {
                let unchanged = previous.get(uri.as_str()) == Some(&report.result_id);
                changed |= !unchanged;
                items.push(workspace_item(uri, report, unchanged));
            }
            // A file reported before that is gone (deleted, or no longer scanned) and not open: cleared.
            for uri in previous.keys() {
                let known = reports.iter().any(|(u, _)| u.as_str() == uri) || open.contains(uri);
                if let (false, Ok(uri)) = (known, uri.parse::<Uri>()) {
                    changed = true;
                    items.push(workspace_item(&uri, &Report::new(epoch, Vec::new(), true), false));
                }
            }
            let waited_enough = tokio::time::Instant::now() >= deadline;
            let superseded = *newer.borrow_and_update() != mine;
            if changed || previous.is_empty() || waited_enough || superseded {
                return Ok(WorkspaceDiagnosticReportResult::Report(
                    WorkspaceDiagnosticReport { items },
                ));
            }
            // Nothing new: answer when something changes, when a newer pull comes, or at the deadline,
            // with the same reports.
            let _ = tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = newer.changed() => {}
                }
            })
            .await;
        }
    }

    /// The report of every workspace file that is not open, at policy `epoch`: kept ones whose file has
    /// not changed since, new ones analysed one file at a time (an open document's analysis never waits
    /// long behind them), with progress the first time.
    async fn workspace_reports(&self) -> Vec<(Uri, Report)> {
        let (files, first_pass, work_done_progress, epoch) = {
            let state = self.state();
            let files = state.closed_workspace_files();
            let first_pass = state.workspace_reports.is_empty() && !files.is_empty();
            (files, first_pass, state.work_done_progress, state.policy_epoch)
        };
        let progress = match (first_pass, work_done_progress) {
            (true, true) => {
                let token = ProgressToken::String(format!("podsec-workspace-diagnostics-{epoch}"));
                match self.client.create_work_done_progress(token.clone()).await {
                    Ok(()) => Some(
                        self.client
                            .progress(token, "podsec")
                            .with_message(format!("Checking {} workspace files", files.len()))
                            .with_percentage(0)
                            .begin()
                            .await,
                    ),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        let mut reports = Vec::with_capacity(files.len());
        for (done, path) in files.iter().enumerate() {
            if let Some(report) = self.file_report(path).await {
                reports.push(report);
            }
            if let Some(progress) = &progress {
                if done % 100 == 99 {
                    let percentage = (done * 100 / files.len()) as u32;
                    progress
                        .report_with_message(format!("{done}/{} files", files.len()), percentage)
                        .await;
                }
            }
        }
        if let Some(progress) = progress {
            progress
                .finish_with_message(format!("Checked {} workspace files", files.len()))
                .await;
        }
        let kept: std::collections::HashSet<PathBuf> = files.into_iter().collect();
        self.state()
            .workspace_reports
            .retain(|path, _| kept.contains(path));
        reports
    }

    /// One workspace file's report: the kept one while the file and the policy stay the same (and, for a
    /// file with Namespaces, whose label impact counts the workloads of other files, while no file changes).
    async fn file_report(&self, path: &PathBuf) -> Option<(Uri, Report)> {
        let uri = Uri::from_file_path(path)?;
        let stamp = FileStamp::of(path)?;
        let changes = *self.changes.borrow();
        let (kept, policy_epoch, gives_policy) = {
            let state = self.state();
            let gives_policy = state.workspace.gives_policy(path);
            let kept = state
                .workspace_reports
                .get(path)
                .filter(|kept| {
                    kept.stamp == stamp
                        && kept.policy_epoch == state.policy_epoch
                        && (!gives_policy || kept.changes == changes)
                })
                .map(|kept| kept.report.clone());
            (kept, state.policy_epoch, gives_policy)
        };
        if let Some(report) = kept {
            return Some((uri, report));
        }
        let running = self.analyses.acquire().await.ok()?;
        let pending = self.state().pending_file(path)?;
        let backend = self.clone();
        let items = guarded("analysing a workspace file", move || {
            let snapshot = pending.complete();
            let elsewhere = backend.elsewhere(&snapshot);
            analyse(&snapshot, &mut Reuse::default(), &elsewhere).0
        });
        drop(running);
        let report = Report::new(policy_epoch, items.unwrap_or_default(), true);
        let kept = FileReport {
            stamp,
            policy_epoch,
            changes: if gives_policy { changes } else { 0 },
            report: report.clone(),
        };
        self.state().workspace_reports.insert(path.clone(), kept);
        Some((uri, report))
    }
}

fn workspace_item(uri: &Uri, report: &Report, unchanged: bool) -> WorkspaceDocumentDiagnosticReport {
    if unchanged {
        WorkspaceDocumentDiagnosticReport::Unchanged(WorkspaceUnchangedDocumentDiagnosticReport {
            uri: uri.clone(),
            version: None,
            unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                result_id: report.result_id.clone(),
            },
        })
    } else {
        WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
            uri: uri.clone(),
            version: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(report.result_id.clone()),
                items: report.items.as_ref().clone(),
            },
        })
    }
}
