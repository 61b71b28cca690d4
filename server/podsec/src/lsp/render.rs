//! Helm charts in the editor: a chart's templates and values files get the findings of what Helm
//! renders, as `podsec check` reports them (the same `crate::charts`), from a rendering in the
//! background.
//!
//! Opening or saving a file of a chart (`templates/**`, `values*.yaml`, `Chart.yaml`) asks for a
//! rendering of the chart, which starts [`RENDER_DEBOUNCE`] after the last such request, one at a time per
//! chart: a newer request stops Helm if it is running and the older rendering's result is dropped. It
//! runs on a blocking thread, with `$/progress` when the client shows it, so no keystroke ever waits
//! for it. Until a rendering exists, every file has its static reading.
//!
//! Helm renders the files on disk. A rendering's findings stand for an open file only while its text is
//! the text the rendering read ([`RenderedFile::text`]): from the first unsaved keystroke the file has
//! its static reading again, until the rendering that its save asks for.

use super::Backend;
use super::session::Snapshot;
use crate::charts::{Chart, ProjectRef, RenderSettings, chart_root, on_path, place_chart, render_chart};
use podsec_engine::Analysis;
use podsec_engine::policy::ConfigProblem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower_lsp_server::ls_types::{MessageType, ProgressToken};

/// How long after the last open or save of one of its files a chart is rendered: a burst of saves (a
/// formatter's, "save all") renders once.
const RENDER_DEBOUNCE: Duration = Duration::from_millis(300);

/// What a rendering found in one file of its chart.
#[derive(Debug)]
pub(super) struct RenderedFile {
    /// The file's text as the rendering read it: its findings are about this text only.
    pub text: Arc<String>,
    /// The findings put in it, in place of its static reading (every template of a rendered chart has
    /// one, empty when nothing was found); none when only notes were put in it.
    pub analysis: Option<Analysis>,
    /// Notes on the chart put in it: no Helm (at `Chart.yaml`), or Helm's message where it failed.
    pub notes: Vec<ConfigProblem>,
}

/// The renderings of one chart.
#[derive(Default)]
pub(super) struct ChartRenderings {
    /// Bumped by every request for a rendering: a rendering stops, and is dropped, once it is no longer
    /// the latest request's.
    wanted: Arc<AtomicU64>,
    /// Held by the rendering under way: one at a time per chart.
    running: Arc<tokio::sync::Mutex<()>>,
    /// The last rendering's files, by path.
    pub files: HashMap<PathBuf, Arc<RenderedFile>>,
}

/// The longest the server's shutdown waits for a rendering to stop (Helm is stopped within milliseconds).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The longest a rendering waits for the client to create its progress.
const PROGRESS_WAIT: Duration = Duration::from_secs(2);

/// Progress tokens: one per rendering.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Whether a change to `path` may change what its chart renders: a template, a values file, `Chart.yaml`.
fn is_chart_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    name == "Chart.yaml"
        || (yaml && name.starts_with("values"))
        || (yaml && path.components().any(|c| c.as_os_str() == "templates"))
}

impl Snapshot {
    /// The rendered findings that stand for this snapshot's text: a rendering's of this very text.
    pub(super) fn rendered(&self) -> Option<&RenderedFile> {
        self.rendering
            .as_deref()
            .filter(|rendered| rendered.text.as_str() == self.text)
    }
}

impl Backend {
    /// After a file was opened or saved: a rendering of its chart, if it is a chart's file. With
    /// `known_only` (a change on disk, such as a checkout), only of a chart rendered before: a checkout
    /// does not render every chart of the repository.
    pub(super) fn chart_file_touched(&self, path: PathBuf, known_only: bool) {
        if !is_chart_file(&path) {
            return;
        }
        let backend = self.clone();
        tokio::spawn(async move {
            let root = tokio::task::spawn_blocking(move || chart_root(&path)).await;
            if let Ok(Some(root)) = root
                && (!known_only || backend.state().charts.contains_key(&root))
            {
                backend.schedule_render(root);
            }
        });
    }

    /// Stops every rendering under way and waits (a little) for them to end: the server is shutting
    /// down, and no Helm it started outlives it.
    pub(super) async fn stop_renderings(&self) {
        let running: Vec<Arc<tokio::sync::Mutex<()>>> = self
            .state()
            .charts
            .values()
            .map(|chart| {
                chart.wanted.fetch_add(1, Ordering::SeqCst);
                Arc::clone(&chart.running)
            })
            .collect();
        for rendering in running {
            let _ = tokio::time::timeout(STOP_WAIT, rendering.lock()).await;
        }
    }

    /// Renders every chart rendered so far again (the Helm setting or a project file changed).
    pub(super) fn render_charts_again(&self) {
        let roots: Vec<PathBuf> = self.state().charts.keys().cloned().collect();
        for root in roots {
            self.schedule_render(root);
        }
    }

    /// Renders the chart at `root` after the debounce delay, unless a newer request came by then.
    fn schedule_render(&self, root: PathBuf) {
        let (wanted, running, request) = {
            let mut state = self.state();
            let chart = state.charts.entry(root.clone()).or_default();
            let request = chart.wanted.fetch_add(1, Ordering::SeqCst) + 1;
            (Arc::clone(&chart.wanted), Arc::clone(&chart.running), request)
        };
        let backend = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RENDER_DEBOUNCE).await;
            if wanted.load(Ordering::SeqCst) != request {
                return;
            }
            // The rendering before, if under way, sees the newer request and stops.
            let _running = running.lock().await;
            if wanted.load(Ordering::SeqCst) != request {
                return;
            }
            backend.render(root, wanted, request).await;
        });
    }

    /// Renders the chart at `root` for request `request` and, if no newer one came meanwhile, keeps
    /// what it found and analyses the chart's open documents again.
    async fn render(&self, root: PathBuf, wanted: Arc<AtomicU64>, request: u64) {
        // Rendered objects take the workspace's policy, which is known once the scan has ended.
        self.wait_for_scan().await;
        let chart_yaml = root.join("Chart.yaml");
        let (pending, settings, project, shown_root, progress) = {
            let mut state = self.state();
            let Some(pending) = state.pending_file(&chart_yaml) else {
                return;
            };
            let project_path = state.workspace.project_path_for(&chart_yaml);
            let project = project_path.zip(state.workspace.project_for(&chart_yaml));
            let settings = RenderSettings {
                helm: state
                    .settings
                    .helm
                    .as_deref()
                    .map(|helm| helm_path(helm, &state.workspace.roots)),
                disabled: false,
                // The server's file-size limit (256 MB) bounds what Helm may print.
                max_output: 0,
            };
            let shown_root = super::workspace::display_name(&root, &state.workspace.roots);
            (pending, settings, project, shown_root, state.work_done_progress)
        };
        let progress = if progress {
            let token = ProgressToken::String(format!(
                "podsec-render-{}",
                NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
            ));
            // A client slow to answer does not hold up the rendering: it goes on without progress.
            let created = self.client.create_work_done_progress(token.clone());
            match tokio::time::timeout(PROGRESS_WAIT, created).await {
                Ok(Ok(())) => Some(
                    self.client
                        .progress(token, "podsec")
                        .with_message(format!("Rendering Helm chart {shown_root}"))
                        .begin()
                        .await,
                ),
                _ => None,
            }
        } else {
            None
        };
        let current = {
            let wanted = Arc::clone(&wanted);
            move || wanted.load(Ordering::SeqCst) == request
        };
        let still_current = current.clone();
        let chart_directory = root.clone();
        let work = tokio::task::spawn_blocking(move || {
            super::guarded("rendering a Helm chart", || {
                let snapshot = pending.complete();
                let chart = Chart {
                    root: chart_directory,
                    inputs: Vec::new(),
                };
                let project = project.as_ref().map(|(path, project)| ProjectRef {
                    path,
                    config: &project.config,
                });
                let rendered = render_chart(&chart, project, &settings, &|| !current());
                if !current() {
                    return None;
                }
                // Every template of this chart (not those of another chart in a folder below it) takes
                // the rendered findings.
                let own = |path: &Path| chart_root(path).as_deref() == Some(chart.root.as_path());
                let found = place_chart(&rendered, &shown_root, &own, &|text, namespace| {
                    podsec_engine::analyze(text, &snapshot.options_for_rendering(namespace))
                });
                let mut files: HashMap<PathBuf, RenderedFile> = HashMap::new();
                for placed in found.placed {
                    files.insert(
                        placed.path,
                        RenderedFile {
                            text: placed.text,
                            analysis: Some(placed.analysis),
                            notes: Vec::new(),
                        },
                    );
                }
                for (path, text, note) in found.notes {
                    let file = files.entry(path).or_insert_with(|| RenderedFile {
                        text,
                        analysis: None,
                        notes: Vec::new(),
                    });
                    file.notes.push(note);
                }
                Some(files)
            })
        })
        .await;
        let failure = match &work {
            Ok(Ok(_)) => None,
            Ok(Err(message)) => Some(message.clone()),
            Err(e) => Some(format!("podsec: rendering {} stopped: {e}", root.display())),
        };
        if let Some(message) = &failure {
            self.client.log_message(MessageType::ERROR, message).await;
        }
        let outcome = work.ok().and_then(Result::ok).flatten();
        let summary = match &outcome {
            _ if failure.is_some() => "Failed: podsec's log says why".to_string(),
            Some(files) => {
                let findings: usize = files
                    .values()
                    .filter_map(|f| f.analysis.as_ref())
                    .flat_map(|a| &a.objects)
                    .map(|o| o.violations.iter().map(|v| v.locations.len()).sum::<usize>())
                    .sum();
                let notes: usize = files.values().map(|f| f.notes.len()).sum();
                format!("Rendered: {findings} findings, {notes} notes")
            }
            None => "Stopped: a newer rendering is wanted".to_string(),
        };
        if let Some(progress) = progress {
            progress.finish_with_message(summary).await;
        }
        let Some(files) = outcome.filter(|_| still_current()) else {
            return;
        };
        let (open, lens_refresh) = {
            let mut state = self.state();
            let Some(chart) = state.charts.get_mut(&root) else {
                return;
            };
            chart.files = files
                .into_iter()
                .map(|(path, file)| (path, Arc::new(file)))
                .collect();
            let open: Vec<String> = state
                .documents
                .iter()
                .filter(|(_, d)| d.path.as_deref().is_some_and(|p| p.starts_with(&root)))
                .map(|(key, _)| key.clone())
                .collect();
            (open, state.lens_refresh)
        };
        // Workspace reports of the chart's files change too; a client that pulls is asked to pull again.
        self.policy_changed();
        for key in open {
            self.reschedule_one(&key);
        }
        // The lenses show the rendered objects' policies.
        if lens_refresh {
            let _ = self.client.code_lens_refresh().await;
        }
    }
}

/// The Helm the `podsec.helm` setting names: a path (relative to the first workspace folder), or a
/// command on `PATH` (kept as written when it is on none, so that its failure names it).
fn helm_path(helm: &str, roots: &[PathBuf]) -> PathBuf {
    if helm.contains('/') {
        match roots.first() {
            Some(root) => root.join(helm),
            None => PathBuf::from(helm),
        }
    } else {
        on_path(helm).unwrap_or_else(|| PathBuf::from(helm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_values_files_and_chart_yaml_ask_for_a_rendering() {
        for path in [
            "/c/Chart.yaml",
            "/c/values.yaml",
            "/c/values-debug.yaml",
            "/c/templates/deployment.yaml",
            "/c/templates/sub/job.yml",
        ] {
            assert!(is_chart_file(Path::new(path)), "{path}");
        }
        for path in [
            "/c/README.md",
            "/c/templates/NOTES.txt",
            "/c/ci/test.yaml",
            "/c/chart.yaml",
        ] {
            assert!(!is_chart_file(Path::new(path)), "{path}");
        }
        assert_eq!(helm_path("/opt/helm", &[]), PathBuf::from("/opt/helm"));
        assert_eq!(
            helm_path("bin/helm", &[PathBuf::from("/w")]),
            PathBuf::from("/w/bin/helm")
        );
    }
}
