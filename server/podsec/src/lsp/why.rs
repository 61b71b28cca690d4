//! "Why this policy?": where each mode's policy of an object is written (a Namespace label, the
//! admission configuration's `defaults`, the project file's line), for the hover on an object's `kind:`
//! line and for the lens there, which jumps to it (`podsec.showLocation`).
//!
//! The engine says where a policy comes from symbolically (`PolicyOrigin`); this file finds the file:
//! the document itself, the other open documents (their texts win), the workspace scan, and the project
//! file above the document. The candidates are collected under the state lock, the files read after.

use super::convert;
use super::session::{Snapshot, State};
use podsec_engine::policy::{Mode, ModePolicy, PolicyOrigin};
use podsec_engine::{Analysis, Limits, ObjectReport};
use ropey::Rope;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::*;

/// A file that may hold a policy source: its open text (a rope: a clone copies nothing), or its path
/// to read.
#[derive(Clone)]
struct Source {
    uri: Uri,
    path: Option<PathBuf>,
    open_text: Option<Rope>,
}

impl Source {
    fn text(&self) -> Option<String> {
        match &self.open_text {
            Some(text) => Some(text.to_string()),
            None => crate::read::read_text(self.path.as_deref()?, 10 * 1024 * 1024).ok(),
        }
    }
}

/// Where the policy sources of one document may be written.
pub(super) struct Candidates {
    /// Namespace name → the files that hold a Namespace of that name, the document itself first.
    namespaces: Vec<(String, Source)>,
    /// Files that hold the admission configuration in force.
    admission: Option<Source>,
    /// The project file that governs the document.
    project: Option<Source>,
    /// The workspace folders, to name files relative to them.
    roots: Vec<PathBuf>,
    /// What each origin asked for was found to be: the lenses of a file of many objects ask for the
    /// same few, and each would read and parse a file.
    located: std::sync::Mutex<Vec<(PolicyOrigin, Option<Shown>)>>,
}

/// A location, and how a hover names it (`cluster/ns.yaml:6`).
type Shown = (Location, String);

fn source_of_path(state: &State, path: &Path) -> Option<Source> {
    let uri = Uri::from_file_path(path)?;
    let open_text = state.documents.get(uri.as_str()).map(|d| d.rope.clone());
    Some(Source {
        uri,
        path: Some(path.to_path_buf()),
        open_text,
    })
}

/// The project file above `path`: the nearest `.podsec.yaml`, as the workspace finds it.
fn project_path(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .map(|dir| dir.join(crate::project::PROJECT_FILE))
        .find(|candidate| candidate.is_file())
}

impl Candidates {
    /// Collects, under the state lock, where the sources of `snapshot`'s policy may be written.
    pub fn of(state: &State, snapshot: &Snapshot) -> Self {
        let mut namespaces: Vec<(String, Source)> = Vec::new();
        let own = Source {
            uri: snapshot.uri.clone(),
            path: snapshot.path.clone(),
            open_text: Some(snapshot.rope.clone()),
        };
        for labels in &snapshot.own.labels {
            namespaces.push((labels.name.clone(), own.clone()));
        }
        let mut open_paths = Vec::new();
        for (key, document) in &state.documents {
            // Until its first analysis, an open document's file stands for it (as for the policy).
            if document.analysed {
                open_paths.extend(document.path.clone());
            }
            if *key == snapshot.key || document.namespaces.is_empty() {
                continue;
            }
            let source = Source {
                uri: document.uri.clone(),
                path: document.path.clone(),
                open_text: Some(document.rope.clone()),
            };
            for labels in &document.namespaces {
                namespaces.push((labels.name.clone(), source.clone()));
            }
        }
        let mut scanned: Vec<(&PathBuf, _)> = state.workspace.scanned.iter().collect();
        scanned.sort_by(|a, b| a.0.cmp(b.0));
        for (path, found) in &scanned {
            if open_paths.contains(path) {
                continue;
            }
            for labels in &found.namespaces {
                if let Some(source) = source_of_path(state, path) {
                    namespaces.push((labels.name.clone(), source));
                }
            }
        }
        let project_file = snapshot.path.as_deref().and_then(project_path);
        let project = project_file.as_deref().and_then(|p| source_of_path(state, p));
        let in_force = snapshot.context.admission.as_ref();
        let from_project = snapshot
            .context
            .project
            .as_ref()
            .and_then(|p| p.admission_configuration.as_ref())
            .zip(project_file.as_deref().and_then(Path::parent))
            .and_then(|(relative, dir)| source_of_path(state, &dir.join(relative)));
        let admission = from_project.or_else(|| {
            let in_force = in_force?;
            if snapshot.admission.as_ref() == Some(in_force) {
                return Some(own.clone());
            }
            let open = state
                .documents
                .values()
                .find(|d| d.admission.as_ref() == Some(in_force))
                .map(|d| Source {
                    uri: d.uri.clone(),
                    path: d.path.clone(),
                    open_text: Some(d.rope.clone()),
                });
            open.or_else(|| {
                scanned
                    .iter()
                    .find(|(_, s)| s.admission.as_ref() == Some(in_force))
                    .and_then(|(path, _)| source_of_path(state, path))
            })
        });
        Self {
            namespaces,
            admission,
            project,
            roots: state.workspace.roots.clone(),
            located: std::sync::Mutex::default(),
        }
    }

    /// Where `origin` is written: its file and range, and how to name it (`cluster/ns.yaml:6`).
    pub fn locate(&self, origin: &PolicyOrigin, encoding: convert::Encoding) -> Option<Shown> {
        let mut located = self
            .located
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, known)) = located.iter().find(|(o, _)| o == origin) {
            return known.clone();
        }
        let found = self.find(origin, encoding);
        located.push((origin.clone(), found.clone()));
        found
    }

    fn find(&self, origin: &PolicyOrigin, encoding: convert::Encoding) -> Option<Shown> {
        let limits = Limits::default();
        let (source, text, span) = match origin {
            PolicyOrigin::NamespaceLabel { namespace, label } => self
                .namespaces
                .iter()
                .filter(|(name, _)| name == namespace)
                .find_map(|(_, source)| {
                    let text = source.text()?;
                    let found =
                        podsec_engine::navigate::namespace_object(&text, &limits, namespace, Some(label))?;
                    Some((source, text, found.label.unwrap_or(found.name)))
                })?,
            PolicyOrigin::ProjectNamespace { namespace, label } => {
                let source = self.project.as_ref()?;
                let text = source.text()?;
                let span =
                    podsec_engine::navigate::entry_at(&text, &limits, &["namespaces", namespace, label])
                        .or_else(|| {
                            podsec_engine::navigate::entry_at(&text, &limits, &["namespaces", namespace])
                        })?;
                (source, text, span)
            }
            PolicyOrigin::AdmissionDefaults(mode) => {
                let source = self.admission.as_ref()?;
                let text = source.text()?;
                let span = podsec_engine::navigate::admission_defaults(&text, &limits, *mode)?;
                (source, text, span)
            }
            PolicyOrigin::ProjectLevel => {
                let source = self.project.as_ref()?;
                let text = source.text()?;
                let span = podsec_engine::navigate::entry_at(&text, &limits, &["level"])
                    .or_else(|| podsec_engine::navigate::entry_at(&text, &limits, &["version"]))?;
                (source, text, span)
            }
            PolicyOrigin::EditorSettings | PolicyOrigin::CommandLine | PolicyOrigin::Default => return None,
        };
        let rope = Rope::from_str(&text);
        let range = convert::range(&rope, span, encoding);
        let name = source
            .path
            .as_deref()
            .map(|path| {
                self.roots
                    .iter()
                    .find_map(|root| path.strip_prefix(root).ok())
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .unwrap_or_else(|| source.uri.as_str().to_string());
        let shown = format!("{name}:{}", range.start.line + 1);
        Some((
            Location {
                uri: source.uri.clone(),
                range,
            },
            shown,
        ))
    }
}

impl Candidates {
    /// Every Namespace object named `name` (the document's own first): where go-to-definition leads.
    pub fn namespace_objects(&self, name: &str, encoding: convert::Encoding) -> Vec<Location> {
        let limits = Limits::default();
        let mut found: Vec<Location> = Vec::new();
        for (_, source) in self.namespaces.iter().filter(|(n, _)| n == name) {
            let Some(text) = source.text() else { continue };
            let Some(object) = podsec_engine::navigate::namespace_object(&text, &limits, name, None) else {
                continue;
            };
            let location = Location {
                uri: source.uri.clone(),
                range: convert::range(&Rope::from_str(&text), object.name, encoding),
            };
            if !found.contains(&location) {
                found.push(location);
            }
        }
        found
    }
}

/// A link to a location, for Markdown: `[cluster/ns.yaml:6](file:///…#L6)`.
fn link(location: &Location, shown: &str) -> String {
    format!(
        "[{shown}]({}#L{},{})",
        location.uri.as_str(),
        location.range.start.line + 1,
        location.range.start.character + 1
    )
}

/// What a mode's line says about the object: passes, or which checks fail; and the checks whose
/// findings at this line an exemption covers (the field's hover says whether it holds).
fn verdict(object: &ObjectReport, mode: Mode) -> String {
    let Some(line) = object.mode_lines.iter().find(|l| l.modes.contains(&mode)) else {
        return "not checked".to_string();
    };
    let mut verdict = if line.failures.is_empty() {
        "passes".to_string()
    } else {
        let ids: Vec<&str> = line.failures.iter().map(|f| f.check.id).collect();
        format!("fails {}", ids.join(", "))
    };
    let mut exempted: Vec<&str> = Vec::new();
    for (violation, _) in &object.exempted {
        if line.modes.contains(&violation.mode) && !exempted.contains(&violation.check.id) {
            exempted.push(violation.check.id);
        }
    }
    if !exempted.is_empty() {
        verdict.push_str(&format!(" (exempted: {})", exempted.join(", ")));
    }
    verdict
}

/// One mode's line of the hover.
fn mode_line(
    candidates: &Candidates,
    encoding: convert::Encoding,
    mode: Mode,
    policy: &ModePolicy,
    what: &str,
) -> String {
    let at = candidates
        .locate(&policy.origin, encoding)
        .map(|(location, shown)| format!(" at {}", link(&location, &shown)))
        .unwrap_or_default();
    let cluster = if policy.by_cluster {
        " (applied by the cluster)"
    } else {
        " (podsec's own: the cluster does not apply it)"
    };
    format!(
        "- **{}** `{}` · {what} — from {}{at}{cluster}\n",
        mode.as_str(),
        policy.policy,
        policy.source
    )
}

/// Each mode's line: its policy and source where it checks something, what it comes from where it
/// checks nothing.
fn mode_lines(
    candidates: &Candidates,
    encoding: convert::Encoding,
    modes: &[(Mode, ModePolicy)],
    privileged: &[(Mode, ModePolicy)],
    verdict: impl Fn(Mode) -> String,
) -> String {
    let mut markdown = String::new();
    for mode in Mode::ALL {
        if let Some((_, policy)) = modes.iter().find(|(m, _)| *m == mode) {
            markdown.push_str(&mode_line(candidates, encoding, mode, policy, &verdict(mode)));
        } else if let Some((_, policy)) = privileged.iter().find(|(m, _)| *m == mode) {
            markdown.push_str(&mode_line(candidates, encoding, mode, policy, "checks nothing"));
        } else {
            markdown.push_str(&format!(
                "- **{}**: not set (no label, and no default of an admission configuration): PSA checks nothing\n",
                mode.as_str()
            ));
        }
    }
    markdown
}

/// The "why this policy?" Markdown of an object.
pub(super) fn explain(candidates: &Candidates, encoding: convert::Encoding, object: &ObjectReport) -> String {
    let mut markdown = format!("**{}**: why this policy?\n\n", object.display_name());
    if let Some(why) = &object.exempt {
        markdown.push_str(&format!("Not checked: {why}.\n\n"));
    }
    markdown.push_str(&mode_lines(
        candidates,
        encoding,
        &object.modes,
        &object.privileged_modes,
        |mode| verdict(object, mode),
    ));
    let exempted = object.exempted.len();
    if exempted > 0 {
        markdown.push_str(&format!(
            "\n{exempted} exempted finding{} (hover on each for its exemption).\n",
            if exempted == 1 { "" } else { "s" }
        ));
    }
    if !object.refused_exemptions.is_empty() {
        let mut checks: Vec<String> = Vec::new();
        for (check, _) in &object.refused_exemptions {
            let check = format!("`{check}`");
            if !checks.contains(&check) {
                checks.push(check);
            }
        }
        markdown.push_str(&format!(
            "\nExemption{} that do{} not hold: {} (the cluster enforces the level, and PSA knows no per-check \
             exemption: `exemption-not-enforced`; hover on each finding).\n",
            if checks.len() == 1 { "" } else { "s" },
            if checks.len() == 1 { "es" } else { "" },
            checks.join(", ")
        ));
    }
    markdown
}

/// The hover on a Namespace's `kind:` line (where its lens is): the policy its workloads get, per mode,
/// and where each is written, as the workloads' own hovers say it.
/// The Namespace of the snapshot's text whose `kind:` line holds `offset`.
pub(super) fn namespace_on_line(
    snapshot: &Snapshot,
    offset: usize,
) -> Option<&podsec_engine::policy::NamespaceLabels> {
    let line = snapshot.rope.try_byte_to_line(offset).ok()?;
    snapshot
        .own
        .labels
        .iter()
        .find(|l| snapshot.rope.try_byte_to_line(l.header.start).ok() == Some(line))
}

pub(super) fn namespace_hover(snapshot: &Snapshot, offset: usize, candidates: &Candidates) -> Option<Hover> {
    let labels = namespace_on_line(snapshot, offset)?;
    let resolved = snapshot.context.resolve(Some(&labels.name), None);
    let mut markdown = format!(
        "**Namespace {:?}**: the policy of the workloads in it\n\n",
        labels.name
    );
    if let Some(why) = &resolved.exempt {
        markdown.push_str(&format!("Not checked: {why}.\n\n"));
    }
    markdown.push_str(&mode_lines(
        candidates,
        snapshot.encoding,
        &resolved.modes,
        &resolved.privileged,
        |_| "checked".to_string(),
    ));
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(convert::range(&snapshot.rope, labels.header, snapshot.encoding)),
    })
}

/// The object whose `kind:` line holds `offset`.
pub(super) fn object_on_line<'a>(
    snapshot: &Snapshot,
    analysis: &'a Analysis,
    offset: usize,
) -> Option<&'a ObjectReport> {
    let line = snapshot.rope.try_byte_to_line(offset).ok()?;
    analysis
        .objects
        .iter()
        .find(|o| snapshot.rope.try_byte_to_line(o.header.start).ok() == Some(line))
}

/// The hover on an object's `kind:` line (where its lens is): its policy per mode and where it is written.
pub(super) fn hover(snapshot: &Snapshot, object: &ObjectReport, candidates: &Candidates) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: explain(candidates, snapshot.encoding, object),
        }),
        range: Some(convert::range(&snapshot.rope, object.header, snapshot.encoding)),
    }
}

/// Where a lens on `object` jumps: the source of its first mode's policy (enforce when set), else of
/// the first mode that checks nothing.
pub(super) fn lens_target(
    candidates: &Candidates,
    encoding: convert::Encoding,
    object: &ObjectReport,
) -> Option<Location> {
    object
        .modes
        .iter()
        .chain(&object.privileged_modes)
        .find_map(|(_, policy)| candidates.locate(&policy.origin, encoding))
        .map(|(location, _)| location)
}
