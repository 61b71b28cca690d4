//! Kustomize overlays: the files a kustomization names (resources, components, patches), and the
//! findings on what `kustomize build` produced put back in the base and patch files that write them.
//!
//! A patch is not an object: a strategic-merge patch that sets only `resources` would get every finding
//! of a pod that sets nothing, so a file a kustomization names as a patch is never judged alone
//! ([`patch_note`] says why). The overlay's result is judged instead, and each finding's field path is
//! followed in the files that make the object: the last patch that writes the whole path wrote the
//! value; else the base resource that writes it; else whichever file goes deepest along the path (the
//! base on a tie: a patch that adds `resources` to a container does not make its missing settings its
//! own); else the base object's `kind:` line, or the kustomization for an object no base file holds (a
//! generator's, a remote base's). List items are matched as Kustomize merges them: by the `name` (or
//! `containerPort`, `mountPath`, `ip`) of the built object's item at that index.
//!
//! Pure: the shell reads the kustomizations, runs Kustomize and reads the files; this only reads texts.

use crate::analysis::{
    Analysis, Location, ObjectReport, PathStep, Problem, Reached, first_line, follow_path,
    key_and_scalar_value, path_steps,
};
use crate::policy::Severity;
use crate::yaml::{Document, Limits, NodeRef, Span, documents};

/// The code of the note on a file that a kustomization names as a patch.
pub const PATCH_CODE: &str = "kustomize-patch";
/// The code of a build that failed, at the kustomization, with Kustomize's message.
pub const BUILD_CODE: &str = "kustomize-build";
/// The names Kustomize looks for in a directory, in its order.
pub const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A patch's `target:` selector, the part of it that names objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The kind it selects.
    pub kind: Option<String>,
    /// A name, which Kustomize reads as a regular expression.
    pub name: Option<String>,
}

/// A patch file a kustomization names, with its selector when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchRef {
    /// As written, relative to the kustomization's directory.
    pub path: String,
    /// Its `target:`, when it has one.
    pub target: Option<Target>,
}

/// What a kustomization names (paths as written, relative to its directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// The namespace it sets on every object.
    pub namespace: Option<String>,
    /// `resources:` and the older `bases:`: files, directories, or remote bases.
    pub resources: Vec<String>,
    /// `components:`, directories.
    pub components: Vec<String>,
    /// Patch files in the order Kustomize applies them: `patchesStrategicMerge`, `patches`, then
    /// `patchesJson6902` (its builtin transformers' order). Inline patches are not files and are left out.
    pub patches: Vec<PatchRef>,
    /// Whether it is a `kind: Component`, which is built only into a kustomization that names it.
    pub component: bool,
}

fn strings(node: Option<NodeRef<'_>>) -> Vec<String> {
    node.into_iter()
        .flat_map(NodeRef::items)
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}

fn target_of(entry: NodeRef<'_>) -> Option<Target> {
    let target = entry.get("target")?;
    let text = |key: &str| target.get(key).and_then(|v| v.as_str()).map(str::to_string);
    Some(Target {
        kind: text("kind"),
        name: text("name"),
    })
}

/// Reads a kustomization (or a component); `None` when it is not a mapping.
pub fn read_kustomization(text: &str) -> Option<Kustomization> {
    let document = documents(text, &Limits::default()).find(|d| d.error.is_none() && d.root.is_some())?;
    let root = document.root()?.as_mapping()?;
    let mut resources = strings(root.get("resources"));
    resources.extend(strings(root.get("bases")));
    let mut patches: Vec<PatchRef> = strings(root.get("patchesStrategicMerge"))
        .into_iter()
        // An inline patch is YAML, not a path.
        .filter(|p| !p.contains('\n') && !p.contains(": "))
        .map(|path| PatchRef { path, target: None })
        .collect();
    for field in ["patches", "patchesJson6902"] {
        for entry in root.get(field).into_iter().flat_map(NodeRef::items) {
            if let Some(path) = entry.get("path").and_then(|p| p.as_str()) {
                patches.push(PatchRef {
                    path: path.to_string(),
                    target: target_of(entry),
                });
            }
        }
    }
    Some(Kustomization {
        namespace: root.get("namespace").and_then(|n| n.as_str()).map(str::to_string),
        resources,
        components: strings(root.get("components")),
        patches,
        component: root.get("kind").and_then(|k| k.as_str()) == Some("Component"),
    })
}

/// The patch files a kustomization names, as written.
pub fn patch_files(kustomization_text: &str) -> Vec<String> {
    read_kustomization(kustomization_text)
        .map(|k| k.patches.into_iter().map(|p| p.path).collect())
        .unwrap_or_default()
}

/// Why a patch file is not judged alone (`kustomization` as output shows it).
pub fn patch_why(kustomization: &str) -> String {
    format!("not checked as a whole object: a patch of {kustomization}; its overlay's result is checked")
}

/// The note on a patch file, saying `why` ([`patch_why`]).
pub fn patch_note(why: &str) -> Problem {
    Problem {
        code: PATCH_CODE,
        message: why.to_string(),
        span: Span::point(0),
        document: 0,
        severity: Severity::Information,
    }
}

/// Kustomize's own words in what a failed build wrote on its standard error: its deprecation warnings
/// left out, and kubectl's log line (`E1204 … run.go:72] "command failed" err="…"`, or `err=<` and the
/// error on the lines up to a `>`) reduced to the error.
pub fn build_error(stderr: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == ">" || trimmed.starts_with("# Warning:") {
            continue;
        }
        match line.find("\"command failed\" err=") {
            Some(at) => {
                let error = line.get(at + "\"command failed\" err=".len()..).unwrap_or("");
                if let Some(quoted) = error.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                    lines.push(quoted.replace("\\\"", "\""));
                }
            }
            None => lines.push(trimmed.to_string()),
        }
    }
    lines.join("\n")
}

/// A build that failed, with Kustomize's message (`command` as run: `kubectl kustomize overlays/prod`).
pub fn build_problem(command: &str, message: &str) -> Problem {
    Problem {
        code: BUILD_CODE,
        message: format!("{command} failed: {}", message.trim()),
        span: Span::point(0),
        document: 0,
        severity: Severity::Error,
    }
}

/// What a file is to a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A resource: base objects.
    Resource,
    /// A patch (strategic-merge, or JSON 6902 when its text is a list of operations), with the
    /// `target:` its kustomization gives it.
    Patch(Option<Target>),
    /// A kustomization of the tree.
    Kustomization,
}

/// One file of a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildFile {
    /// As output shows it.
    pub path: String,
    /// Its text.
    pub text: String,
    /// What it is to the build.
    pub role: Role,
}

/// What a build was made of, to put its findings back.
#[derive(Clone, Copy, Debug)]
pub struct Build<'a> {
    /// Kustomize's output, which the analysis read.
    pub output: &'a str,
    /// Every file of the tree, in the order Kustomize applies them (a base's resources and patches before
    /// the overlay's patches).
    pub files: &'a [BuildFile],
    /// The built kustomization among `files`: where what no base file holds goes.
    pub kustomization: usize,
    /// How it was built, shown with every object (`kubectl kustomize overlays/prod`).
    pub label: &'a str,
}

/// Whether a target's name (a regular expression to Kustomize) may select `name`: equal, contained once
/// anchors are set aside, or an expression this does not evaluate (accepted rather than missed).
fn name_selects(pattern: &str, name: &str) -> bool {
    let plain = pattern.trim_start_matches('^').trim_end_matches('$');
    if plain.contains(['.', '*', '+', '?', '|', '(', '[', '{', '\\']) {
        return true;
    }
    name.contains(plain)
}

fn kind_of<'d>(root: NodeRef<'d>) -> Option<&'d str> {
    root.get("kind").and_then(|k| k.as_str())
}

fn name_of<'d>(root: NodeRef<'d>) -> Option<&'d str> {
    root.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
}

/// The key of the item Kustomize merges a list item by, read in the built object: for each step of
/// `steps`, `(key, value)` at a list index whose item has one.
fn merge_keys<'d>(root: NodeRef<'d>, steps: &[PathStep<'_>]) -> Vec<Option<(&'static str, &'d str)>> {
    let mut node = Some(root);
    steps
        .iter()
        .map(|step| {
            let here = node?;
            match *step {
                PathStep::Key(key) => {
                    node = here.get(key);
                    None
                }
                PathStep::Index(index) => {
                    let item = here.items().nth(index);
                    node = item;
                    let item = item?;
                    ["name", "containerPort", "mountPath", "ip"]
                        .into_iter()
                        .find_map(|key| Some((key, item.get(key)?.as_str()?)))
                }
            }
        })
        .collect()
}

/// A file's document that writes (part of) a field: how far along the path it goes and where.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    file: usize,
    depth: usize,
    span: Span,
    /// The document's `kind:` entry (or its start) and whole span, for the object's report there.
    header: Span,
    document: Span,
    /// The document's index in its file.
    index: usize,
}

fn header_of(document: &Document<'_>) -> Span {
    document
        .root()
        .and_then(|root| root.entry("kind"))
        .map_or(Span::point(document.span.start), |entry| {
            key_and_scalar_value(entry.key, entry.written_value)
        })
}

fn reached_span(text: &str, reached: &Reached<'_>) -> Span {
    match reached.key {
        Some(key) => key_and_scalar_value(key, reached.node),
        None => first_line(text, reached.node.span()),
    }
}

/// The steps of a JSON pointer (`/spec/containers/0/securityContext`); `-` (append) is `None`.
fn pointer_steps(pointer: &str) -> Vec<Result<usize, String>> {
    pointer
        .split('/')
        .skip(1)
        .map(|part| {
            let part = part.replace("~1", "/").replace("~0", "~");
            match part.parse::<usize>() {
                Ok(index) => Ok(index),
                Err(_) => Err(part),
            }
        })
        .collect()
}

/// Which item of a list (its position) the `step`th step of a path, `[index]`, means: `(step, index, items)`.
type PickItem<'p> = dyn Fn(usize, usize, &[NodeRef<'_>]) -> Option<usize> + 'p;

/// How far a JSON 6902 operation writes along `steps`: its path a prefix of them, and then its value.
fn operation_reach(
    text: &str,
    operation: NodeRef<'_>,
    steps: &[PathStep<'_>],
    pick: &PickItem<'_>,
) -> Option<(usize, Span)> {
    let op = operation.get("op").and_then(|o| o.as_str())?;
    if !matches!(op, "add" | "replace" | "copy" | "move") {
        return None;
    }
    let path_entry = operation.entry("path")?;
    let pointer = pointer_steps(path_entry.value.as_str()?);
    if pointer.is_empty() || pointer.len() > steps.len() {
        return None;
    }
    let matches = pointer.iter().zip(steps).all(|(part, step)| match (part, step) {
        (Ok(index), PathStep::Index(wanted)) => index == wanted,
        (Err(dash), PathStep::Index(_)) => dash == "-",
        (Err(key), PathStep::Key(wanted)) => key == wanted,
        (Ok(index), PathStep::Key(wanted)) => index.to_string() == *wanted,
    });
    if !matches {
        return None;
    }
    let at_path = key_and_scalar_value(path_entry.key, path_entry.written_value);
    let Some(value) = operation.get("value").filter(|_| matches!(op, "add" | "replace")) else {
        return Some((pointer.len(), at_path));
    };
    let offset = pointer.len();
    let rest = steps.get(offset..).unwrap_or(&[]);
    let reached = follow_path(value.resolved(), rest, |position, index, items| {
        pick(offset + position, index, items).and_then(|i| items.get(i).copied())
    });
    let span = if reached.taken == 0 {
        at_path
    } else {
        reached_span(text, &reached)
    };
    Some((offset + reached.taken, span))
}

/// Puts the findings of a build (`analysis` of Kustomize's output) back in the tree's files: one analysis
/// per file that receives something, each object named as built and labelled with `build.label`. Fixes
/// are dropped: they were written for the output, not for the bases and patches.
pub fn place_kustomize(analysis: Analysis, build: &Build<'_>) -> Vec<(usize, Analysis)> {
    let limits = Limits::default();
    let mut placed: std::collections::BTreeMap<usize, Analysis> = std::collections::BTreeMap::new();
    let readable = |text| -> Vec<Document<'_>> {
        documents(text, &limits)
            .filter(|d| d.error.is_none() && d.root.is_some())
            .collect()
    };
    let file_documents: Vec<Vec<Document<'_>>> = build.files.iter().map(|f| readable(&f.text)).collect();
    let output_documents = readable(build.output);
    let kustomization_text = build
        .files
        .get(build.kustomization)
        .map_or("", |f| f.text.as_str());
    let fallback_header = first_line(kustomization_text, Span::new(0, kustomization_text.len()));
    let Analysis {
        objects,
        problems,
        config_problems,
        used_exemptions,
        // Kustomize's output is plain YAML, never a template read statically.
        chart_template: _,
        unread_templates: _,
    } = analysis;
    // Each object's span in the output, and its base: file, `kind:` line, document index.
    let mut object_places: Vec<(Span, usize, Span, usize)> = Vec::new();
    for mut object in objects {
        let built = output_documents
            .iter()
            .find(|d| d.index == object.document)
            .and_then(Document::root);
        let rendered_name = object.name.clone().unwrap_or_default();
        // The base object: same kind, and the longest base name within the built name (prefixes and
        // suffixes are added around it), an equal name first.
        let mut base: Option<(usize, &Document<'_>, usize)> = None;
        for (file, docs) in file_documents.iter().enumerate() {
            if build.files.get(file).map(|f| &f.role) != Some(&Role::Resource) {
                continue;
            }
            for document in docs {
                let Some(root) = document.root() else { continue };
                if kind_of(root) != Some(object.kind.as_str()) {
                    continue;
                }
                let name = name_of(root).unwrap_or("");
                let score = if name == rendered_name {
                    usize::MAX
                } else if !name.is_empty() && rendered_name.contains(name) {
                    name.len()
                } else {
                    continue;
                };
                if base.is_none_or(|(_, _, best)| score > best) {
                    base = Some((file, document, score));
                }
            }
        }
        let base_name = base
            .and_then(|(_, d, _)| d.root().and_then(name_of))
            .unwrap_or("");
        // The patch documents that apply to it, in order.
        let mut patches: Vec<(usize, &Document<'_>)> = Vec::new();
        for (file, docs) in file_documents.iter().enumerate() {
            let Some(Role::Patch(target)) = build.files.get(file).map(|f| &f.role) else {
                continue;
            };
            for document in docs {
                let Some(root) = document.root() else { continue };
                let selected = match target {
                    Some(target) => {
                        target.kind.as_deref().is_none_or(|k| k == object.kind)
                            && target
                                .name
                                .as_deref()
                                .is_none_or(|n| name_selects(n, &rendered_name))
                    }
                    // A JSON patch has no target of its own.
                    None if root.is_sequence() => false,
                    None => {
                        let name = name_of(root).unwrap_or("");
                        kind_of(root).is_none_or(|k| k == object.kind)
                            && !name.is_empty()
                            && rendered_name.contains(name)
                            && name.contains(base_name)
                    }
                };
                if selected {
                    patches.push((file, document));
                }
            }
        }
        let base_header =
            base.map(|(file, document, _)| (file, header_of(document), document.span, document.index));
        let (home, home_header, home_span, home_index) =
            base_header.unwrap_or((build.kustomization, fallback_header, Span::point(0), 0));
        object_places.push((object.span, home, home_header, home_index));
        let place = |location: &Location| -> Candidate {
            let fallback = Candidate {
                file: home,
                depth: 0,
                span: home_header,
                header: home_header,
                document: home_span,
                index: home_index,
            };
            let Some(steps) = path_steps(&location.path).collect::<Option<Vec<_>>>() else {
                return fallback;
            };
            let keys = built.map(|root| merge_keys(root, &steps)).unwrap_or_default();
            let pick = |position: usize, index: usize, items: &[NodeRef<'_>]| -> Option<usize> {
                match keys.get(position).copied().flatten() {
                    Some((key, value)) => items
                        .iter()
                        .position(|item| item.get(key).and_then(|v| v.as_str()) == Some(value)),
                    None => (index < items.len()).then_some(index),
                }
            };
            let follow_in = |file: usize, document: &Document<'_>| -> Option<Candidate> {
                let root = document.root()?;
                let text = build.files.get(file).map_or("", |f| f.text.as_str());
                let (depth, span) = if root.is_sequence() {
                    root.items()
                        .filter_map(|op| operation_reach(text, op, &steps, &pick))
                        .max_by_key(|(depth, _)| *depth)?
                } else {
                    let reached = follow_path(root, &steps, |position, index, items| {
                        pick(position, index, items).and_then(|i| items.get(i).copied())
                    });
                    (reached.taken, reached_span(text, &reached))
                };
                (depth > 0).then_some(Candidate {
                    file,
                    depth,
                    span,
                    header: header_of(document),
                    document: document.span,
                    index: document.index,
                })
            };
            let in_base = base.and_then(|(file, document, _)| follow_in(file, document));
            let in_patches: Vec<Candidate> = patches
                .iter()
                .filter_map(|(file, document)| follow_in(*file, document))
                .collect();
            let whole = steps.len();
            if let Some(last) = in_patches.iter().rev().find(|c| c.depth == whole) {
                return *last;
            }
            let deepest_patch = in_patches.iter().rev().max_by_key(|c| c.depth).copied();
            match (in_base, deepest_patch) {
                (Some(base), Some(patch)) if patch.depth > base.depth => patch,
                (Some(base), _) => base,
                // With no base to compare with, a patch that goes part of the way did not write it.
                (None, _) => fallback,
            }
        };
        let violations = std::mem::take(&mut object.violations);
        let exempted = std::mem::take(&mut object.exempted);
        let mut by_file: Vec<(usize, ObjectReport)> = Vec::new();
        let report_in = |file: usize,
                         (header, span, index): (Span, Span, usize),
                         by_file: &mut Vec<(usize, ObjectReport)>| match by_file
            .iter()
            .position(|(f, _)| *f == file)
        {
            Some(at) => at,
            None => {
                let mut copy = object.clone();
                copy.source = None;
                copy.rendered = Some(build.label.to_string());
                copy.header = header;
                copy.span = span;
                copy.document = index;
                // A patch's copy holds the findings it sets; the verdict stays with the base.
                copy.verdict_elsewhere = file != home;
                by_file.push((file, copy));
                by_file.len() - 1
            }
        };
        // The object is always reported where its base is, with its verdict.
        report_in(home, (home_header, home_span, home_index), &mut by_file);
        for violation in violations {
            for location in &violation.locations {
                let to = place(location);
                let mut moved = location.clone();
                moved.span = to.span;
                moved.fix = None;
                let at = report_in(to.file, (to.header, to.document, to.index), &mut by_file);
                if let Some((_, report)) = by_file.get_mut(at) {
                    report.add_location(&violation, moved);
                }
            }
        }
        for (violation, reason) in exempted {
            let mut copy = violation.clone();
            for location in &mut copy.locations {
                let to = place(location);
                location.span = if to.file == home { to.span } else { home_header };
                location.fix = None;
            }
            if let Some((_, report)) = by_file.first_mut() {
                report.exempted.push((copy, reason));
            }
        }
        for (file, report) in by_file {
            placed.entry(file).or_default().objects.push(report);
        }
    }
    // A problem of the output goes to the base of the object it is in, or to the kustomization.
    let problem_place = |span: Span| -> (usize, Span, usize) {
        object_places
            .iter()
            .find(|(object, _, _, _)| object.start <= span.start && span.start <= object.end)
            .map_or(
                (build.kustomization, fallback_header, 0),
                |(_, file, header, index)| (*file, *header, *index),
            )
    };
    for mut problem in problems {
        let (file, span, index) = problem_place(problem.span);
        problem.message = format!("{} (built by {})", problem.message, build.label);
        problem.span = span;
        problem.document = index;
        placed.entry(file).or_default().problems.push(problem);
    }
    for mut problem in config_problems {
        let (file, span, _) = problem_place(problem.span);
        problem.span = span;
        placed.entry(file).or_default().config_problems.push(problem);
    }
    crate::analysis::settle_placed(placed, used_exemptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kustomization_names_its_patches_in_the_order_kustomize_applies_them() {
        let text = "kind: Component\nresources: [a.yaml, ../base]\nbases: [../old]\ncomponents: [../c]\n\
                    patchesJson6902:\n  - path: ops.yaml\n    target: {kind: Deployment, name: web}\n\
                    patches:\n  - path: p.yaml\n  - patch: |-\n      kind: Pod\n\
                    patchesStrategicMerge:\n  - smp.yaml\n  - |-\n    kind: Deployment\n    metadata: {name: x}\n";
        let read = read_kustomization(text).unwrap_or_default();
        assert_eq!(read.resources, ["a.yaml", "../base", "../old"]);
        assert_eq!(read.components, ["../c"]);
        assert!(read.component);
        assert_eq!(patch_files(text), ["smp.yaml", "p.yaml", "ops.yaml"]);
        assert_eq!(
            read.patches.last().and_then(|p| p.target.clone()),
            Some(Target {
                kind: Some("Deployment".into()),
                name: Some("web".into())
            })
        );
    }

    #[test]
    fn a_failed_build_says_what_kustomize_says() {
        // As kubectl 1.32 writes them on standard error.
        let one_line = "# Warning: 'patchesStrategicMerge' is deprecated. Please use 'patches' instead.\n\
                        E1204 10:18:26.726308    1774 run.go:72] \"command failed\" err=\"no matches for Id \
                        Deployment.v1.apps/metrics-server.kube-system\"\n";
        assert_eq!(
            build_error(one_line),
            "no matches for Id Deployment.v1.apps/metrics-server.kube-system"
        );
        let block = "# Warning: 'vars' is deprecated.\nE1204 10:21:55.751794   13878 run.go:72] \"command failed\" \
                     err=<\n\taccumulating resources: '../../dev' must resolve to a file\n >\n";
        assert_eq!(
            build_error(block),
            "accumulating resources: '../../dev' must resolve to a file"
        );
    }

    /// The files of `tests/kustomize/overlays/prod` and what `kubectl kustomize` (Kustomize v5.5) built
    /// from them: it lists the patched container first.
    fn prod_build() -> (Vec<BuildFile>, &'static str) {
        let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      \
                    hostNetwork: true\n      containers:\n        - name: sidecar\n          image: busybox\n        \
                    - name: app\n          image: nginx\n          securityContext:\n            runAsNonRoot: true\n";
        let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      \
                     containers:\n        - name: app\n          securityContext:\n            privileged: true\n";
        let output = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prod-web\n  namespace: prod-apps\n\
                      spec:\n  template:\n    spec:\n      containers:\n      - image: nginx\n        name: app\n        \
                      securityContext:\n          privileged: true\n          runAsNonRoot: true\n      - image: busybox\n        \
                      name: sidecar\n      hostNetwork: true\n";
        let files = vec![
            BuildFile {
                path: "overlays/prod/kustomization.yaml".into(),
                text: "namespace: prod-apps\nnamePrefix: prod-\nresources: [../../base]\npatches:\n  - path: p.yaml\n"
                    .into(),
                role: Role::Kustomization,
            },
            BuildFile {
                path: "base/deployment.yaml".into(),
                text: base.into(),
                role: Role::Resource,
            },
            BuildFile {
                path: "overlays/prod/p.yaml".into(),
                text: patch.into(),
                role: Role::Patch(None),
            },
        ];
        (files, output)
    }

    fn located(placed: &[(usize, Analysis)], files: &[BuildFile], check: &str) -> Vec<(usize, String)> {
        placed
            .iter()
            .flat_map(|(file, analysis)| analysis.objects.iter().map(move |o| (*file, o)))
            .flat_map(|(file, o)| o.violations.iter().map(move |v| (file, v)))
            .filter(|(_, v)| v.check.id == check)
            .flat_map(|(file, v)| v.locations.iter().map(move |l| (file, l)))
            .map(|(file, l)| {
                let text = files.get(file).map_or("", |f| f.text.as_str());
                (file, text.get(l.span.start..l.span.end).unwrap_or("").to_string())
            })
            .collect()
    }

    #[test]
    fn findings_go_to_the_patch_that_sets_the_field_or_the_base_by_container_name() {
        let (files, output) = prod_build();
        let build = Build {
            output,
            files: &files,
            kustomization: 0,
            label: "kubectl kustomize overlays/prod",
        };
        let options = crate::Options {
            policy: crate::Policy::new(crate::Level::Restricted, crate::Version::Latest),
            ..Default::default()
        };
        let placed = place_kustomize(crate::analyze(output, &options), &build);
        assert_eq!(
            located(&placed, &files, "privileged"),
            [(2, "privileged: true".to_string())]
        );
        assert_eq!(
            located(&placed, &files, "hostNamespaces"),
            [(1, "hostNetwork: true".to_string())]
        );
        // Missing settings: the base's container of that name (the output lists it at another index),
        // not the patch, which goes no deeper than the base's `securityContext`.
        let missing = located(&placed, &files, "capabilities_restricted");
        assert!(missing.contains(&(1, "name: sidecar".to_string())), "{missing:?}");
        assert!(
            missing.contains(&(1, "securityContext".to_string())),
            "{missing:?}"
        );
        let base_objects: Vec<&ObjectReport> = placed
            .iter()
            .filter(|(f, _)| *f == 1)
            .flat_map(|(_, a)| &a.objects)
            .collect();
        assert_eq!(base_objects.len(), 1);
        assert_eq!(base_objects[0].name.as_deref(), Some("prod-web"));
        assert_eq!(
            base_objects[0].rendered.as_deref(),
            Some("kubectl kustomize overlays/prod")
        );
        assert!(
            base_objects[0]
                .violations
                .iter()
                .all(|v| v.locations.iter().all(|l| l.fix.is_none()))
        );
    }

    #[test]
    fn an_object_no_base_holds_goes_to_the_kustomization() {
        let (mut files, output) = prod_build();
        files.retain(|f| f.role != Role::Resource);
        let build = Build {
            output,
            files: &files,
            kustomization: 0,
            label: "kustomize build overlays/prod",
        };
        let options = crate::Options {
            policy: crate::Policy::new(crate::Level::Baseline, crate::Version::Latest),
            ..Default::default()
        };
        let placed = place_kustomize(crate::analyze(output, &options), &build);
        assert_eq!(
            located(&placed, &files, "hostNamespaces"),
            [(0, "namespace: prod-apps".to_string())]
        );
        assert_eq!(
            located(&placed, &files, "privileged"),
            [(1, "privileged: true".to_string())]
        );
    }
}
