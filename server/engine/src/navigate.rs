//! What an editor navigates by, in byte spans: where a Namespace object and its labels are, an entry
//! at a key path (the project file's `level`), an admission configuration's `defaults`, each object's
//! outline (its kind, name, namespace and containers), and the key path of the line at an offset, read
//! by indentation so that it works on half-typed text that does not parse.

use crate::policy::Mode;
use crate::yaml::{Limits, NodeRef, Span, documents};

/// The span of an entry, from its key to the end of its value.
fn entry_span(entry: &crate::yaml::Entry<'_>) -> Span {
    Span::new(
        entry.key.span().start,
        entry.written_value.span().end.max(entry.key.span().end),
    )
}

/// The objects of a text, `List` items included, in source order, with their document's index.
fn objects<'d>(root: Option<NodeRef<'d>>) -> Vec<NodeRef<'d>> {
    let mut found = Vec::new();
    let mut pending: Vec<NodeRef<'d>> = root.into_iter().collect();
    while let Some(object) = pending.pop() {
        let kind = object.get("kind").and_then(|k| k.as_str());
        if kind.is_some_and(|k| k == "List" || k.ends_with("List")) && object.get("items").is_some() {
            let mut items: Vec<NodeRef<'d>> =
                object.get("items").into_iter().flat_map(|i| i.items()).collect();
            items.reverse();
            pending.extend(items);
            continue;
        }
        if object.is_mapping() {
            found.push(object);
        }
    }
    found
}

/// A Namespace object found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceObject {
    /// The whole object.
    pub span: Span,
    /// Its `metadata.name` value.
    pub name: Span,
    /// The label asked for (`pod-security.kubernetes.io/<label>: …`), if it has it.
    pub label: Option<Span>,
}

/// The Namespace object named `name` in `text`, and where its label `pod-security.kubernetes.io/<label>`
/// is, if `label` is given and it has one.
pub fn namespace_object(
    text: &str,
    limits: &Limits,
    name: &str,
    label: Option<&str>,
) -> Option<NamespaceObject> {
    if !text.contains("Namespace") {
        return None;
    }
    for document in documents(text, limits) {
        for object in objects(document.root()) {
            if object.get("kind").and_then(|k| k.as_str()) != Some("Namespace") {
                continue;
            }
            let Some(metadata) = object.get("metadata") else {
                continue;
            };
            let Some(written) = metadata.get("name").filter(|n| n.as_str() == Some(name)) else {
                continue;
            };
            let label = label.and_then(|label| {
                let key = format!("{}{label}", crate::policy::LABEL_PREFIX);
                metadata.get("labels")?.entry(&key).map(|e| entry_span(&e))
            });
            return Some(NamespaceObject {
                span: object.span(),
                name: written.span(),
                label,
            });
        }
    }
    None
}

/// The namespace named at byte `offset`: the value of an object's `metadata.namespace` (a `List`'s
/// items too), or with `kustomization`, of the top-level `namespace`. Its name and the value's span.
pub fn namespace_at(
    text: &str,
    limits: &Limits,
    offset: usize,
    kustomization: bool,
) -> Option<(String, Span)> {
    let document = crate::yaml::document_at(text, limits, offset).filter(|d| d.span.contains(offset))?;
    let at = document.node_at(offset)?;
    let value = document.node_ref(at.value);
    let name = value.as_str()?;
    let path = document.path_of(at.value);
    let names_a_namespace = if kustomization {
        path == "namespace"
    } else {
        path == "metadata.namespace" || path.ends_with("].metadata.namespace")
    };
    names_a_namespace.then(|| (name.to_string(), value.span()))
}

/// The entry at `path` (keys from the root) of the first document that has it: a project file's
/// `level`, or `namespaces.<name>.<label>`. Its key to the end of its value.
pub fn entry_at(text: &str, limits: &Limits, path: &[&str]) -> Option<Span> {
    documents(text, limits).find_map(|document| {
        let (last, parents) = path.split_last()?;
        let mut node = document.root()?;
        for key in parents {
            node = node.get(key)?;
        }
        node.entry(last).map(|e| entry_span(&e))
    })
}

/// Where an admission configuration sets the default of `mode` (`defaults.<mode>`, under a
/// `PodSecurityConfiguration` whether at the root or inside an `AdmissionConfiguration`'s plugin), else
/// its `defaults` entry.
pub fn admission_defaults(text: &str, limits: &Limits, mode: Mode) -> Option<Span> {
    for document in documents(text, limits) {
        // A walk without recursion: the tree may be deep.
        let mut pending: Vec<NodeRef<'_>> = document.root().into_iter().collect();
        while let Some(node) = pending.pop() {
            if let Some(defaults) = node.entry("defaults").filter(|e| e.value.is_mapping()) {
                let at = defaults.value.entry(mode.as_str());
                return Some(at.map_or(entry_span(&defaults), |e| entry_span(&e)));
            }
            pending.extend(node.entries().map(|e| e.value));
            pending.extend(node.items());
        }
    }
    None
}

/// One object of a text, for an outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineObject {
    /// `kind` (empty when it has none).
    pub kind: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The whole object.
    pub span: Span,
    /// What names it: its `kind` entry (else the object's start).
    pub selection: Span,
    /// Its pod's containers (init and ephemeral ones too), for pod-bearing kinds.
    pub containers: Vec<OutlineContainer>,
}

/// A container of an [`OutlineObject`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineContainer {
    /// Its name.
    pub name: String,
    /// Which list it is in: `containers`, `initContainers` or `ephemeralContainers`.
    pub list: String,
    /// The whole container.
    pub span: Span,
    /// Its `name` entry.
    pub selection: Span,
}

/// The objects of `text`, one per document (each item of a `List`), with their containers.
pub fn outline(text: &str, limits: &Limits) -> Vec<OutlineObject> {
    let mut found = Vec::new();
    for document in documents(text, limits) {
        let pods = crate::workload::pod_objects(&document);
        for object in objects(document.root()) {
            let metadata = object.get("metadata");
            let field = |key: &str| {
                metadata
                    .and_then(|m| m.get(key))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let kind_entry = object.entry("kind");
            let span = object.span();
            let containers = pods
                .iter()
                .find(|p| p.object.span() == span)
                .map(|p| {
                    p.pod
                        .containers()
                        .iter()
                        .map(|c| {
                            // The key of the list it is in, in the pod spec that holds the list.
                            let sequence = c.node.parent();
                            let list = sequence
                                .and_then(|list| list.parent())
                                .and_then(|spec| {
                                    spec.entries()
                                        .find(|e| Some(e.written_value.id()) == sequence.map(|l| l.id()))
                                        .and_then(|e| e.key.as_str())
                                })
                                .unwrap_or("containers")
                                .to_string();
                            OutlineContainer {
                                name: c.name.to_string(),
                                list,
                                span: c.node.span(),
                                selection: c.node.entry("name").map_or(c.node.span(), |e| entry_span(&e)),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            found.push(OutlineObject {
                kind: kind_entry
                    .as_ref()
                    .and_then(|e| e.value.as_str())
                    .unwrap_or("")
                    .to_string(),
                name: field("name"),
                namespace: field("namespace"),
                span,
                selection: kind_entry.map_or(Span::new(span.start, span.start), |e| entry_span(&e)),
                containers,
            });
        }
    }
    found
}

/// Where the cursor is in YAML text, read from the lines above it by indentation (so that it works on
/// a half-typed line, where the text does not parse).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineContext {
    /// The keys of the block mappings that hold the cursor's line, outermost first (a list item adds
    /// no key: `spec.containers[0].securityContext` is `spec`, `containers`, `securityContext`).
    pub parents: Vec<String>,
    /// The key of the cursor's line when the cursor is in its value (after `key:`).
    pub key: Option<String>,
    /// Whether the cursor's line is a list item (`- …`) and the cursor after its dash.
    pub item: bool,
    /// Whether the cursor is in a flow sequence opened on its line (`drop: [AL`).
    pub in_flow_sequence: bool,
    /// The comment the cursor is in: its text after `#`, up to the cursor.
    pub comment: Option<String>,
    /// The word being typed, from `prefix_start` to the cursor.
    pub prefix: String,
    /// Where that word starts (a byte offset).
    pub prefix_start: usize,
    /// The top-level `kind` of the cursor's document, if written at column 0 above or below it.
    pub kind: Option<String>,
}

/// A line's key column and key: its indentation, with each `- ` of list items counted as indentation.
fn line_key(line: &str) -> (usize, Option<&str>, bool) {
    let mut column = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[column..];
    let mut item = false;
    while let Some(after) = rest.strip_prefix("- ").or_else(|| (rest == "-").then_some("")) {
        item = true;
        let spaces = after.len() - after.trim_start_matches(' ').len();
        column += rest.len() - after.len() + spaces;
        rest = &after[spaces..];
    }
    let key = key_of(rest);
    (column, key, item)
}

/// The key a line's content starts with (`key:` followed by a space or the end), quotes removed.
fn key_of(content: &str) -> Option<&str> {
    if content.starts_with('#') || content.starts_with('{') || content.starts_with('[') {
        return None;
    }
    let colon = content
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| content[i + 1..].is_empty() || content[i + 1..].starts_with([' ', '\t']))?;
    let key = content[..colon].trim_end();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(key);
    Some(key)
}

/// Whether a line is a document separator (`---` with nothing but a comment or blanks after it).
fn separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.trim_start().is_empty() || rest.trim_start().starts_with('#'))
}

/// The [`LineContext`] at byte `offset` of `text`.
pub fn line_context(text: &str, offset: usize) -> LineContext {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..offset].trim_end_matches('\r');
    let mut context = LineContext::default();

    // The word being typed: back to a space or a YAML indicator.
    let word = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '[' | '{' | ',' | '"' | '\'' | ':' | '#'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    // `key:` itself is a colon inside the word when nothing follows it yet.
    context.prefix_start = line_start + word;
    context.prefix = before[word..].to_string();

    // A comment: a `#` at the line's start or after a blank, outside quotes (roughly: not after an
    // unclosed quote).
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in before.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => {
                context.comment = Some(before[i + 1..].to_string());
                break;
            }
            None => {}
        }
        previous = c;
    }
    let code = match &context.comment {
        Some(comment) => &before[..before.len() - comment.len() - 1],
        None => before,
    };

    let (column, key, item) = line_key(code);
    context.item = item;
    if let Some(key) = key {
        context.key = Some(key.to_string());
        let value = code.split_once(':').map_or("", |(_, v)| v);
        context.in_flow_sequence = value.matches('[').count() > value.matches(']').count();
    } else if code.trim_start().trim_start_matches("- ").starts_with('[') {
        context.in_flow_sequence = true;
    }

    // The parents: each line above with a key at a smaller column, up to the document's start.
    let mut threshold = column;
    let mut lines = text[..line_start].lines().rev();
    for line in lines.by_ref() {
        if separator(line) {
            break;
        }
        let trimmed = line.trim_start_matches([' ', '-']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (line_column, line_key, _) = line_key(line.trim_end_matches('\r'));
        if line_column >= threshold {
            continue;
        }
        if let Some(found) = line_key {
            context.parents.push(found.to_string());
        }
        threshold = line_column;
        if threshold == 0 {
            break;
        }
    }
    context.parents.reverse();

    // The document's kind: a `kind:` at column 0 between the separators around the cursor.
    let mut document_start = 0;
    let mut at = 0;
    for line in text[..line_start].split_inclusive('\n') {
        at += line.len();
        if separator(line.trim_end()) {
            document_start = at;
        }
    }
    context.kind = text[document_start..]
        .lines()
        .enumerate()
        .take_while(|(n, line)| *n == 0 || !separator(line))
        .filter_map(|(_, line)| line.strip_prefix("kind:"))
        .map(|kind| {
            let kind = kind.split(" #").next().unwrap_or("").trim();
            kind.trim_matches(['"', '\'']).to_string()
        })
        .next();
    context
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a test fails by panicking"
    )]
    use super::*;

    fn at(text: &str, marker: &str) -> LineContext {
        let offset = text.find(marker).unwrap();
        line_context(&text.replacen(marker, "", 1), offset)
    }

    #[test]
    fn the_key_path_of_a_line_is_read_by_indentation() {
        let text = "kind: Pod\nmetadata:\n  labels:\n    pod-security.kubernetes.io/en|\nspec:\n  containers:\n  - name: ü\n    securityContext:\n      seccompProfile:\n        type: Run|\n";
        let labels = at(text, "|");
        assert_eq!(labels.parents, ["metadata", "labels"]);
        assert_eq!(labels.key, None);
        assert_eq!(labels.prefix, "pod-security.kubernetes.io/en");
        assert_eq!(labels.kind.as_deref(), Some("Pod"));
        let text = text.replacen('|', "", 1);
        let seccomp = at(&text, "|");
        assert_eq!(
            seccomp.parents,
            ["spec", "containers", "securityContext", "seccompProfile"]
        );
        assert_eq!(seccomp.key.as_deref(), Some("type"));
        assert_eq!(seccomp.prefix, "Run");
    }

    #[test]
    fn items_flow_sequences_comments_and_documents() {
        let text = "a: 1\n---\nkind: Deployment # x\nspec:\n  template:\n    spec:\n      containers:\n        - name: x  # podsec: exempt priv|\n          securityContext:\n            capabilities:\n              drop: [AL|\n";
        let comment = at(text, "|");
        assert_eq!(comment.comment.as_deref(), Some(" podsec: exempt priv"));
        assert_eq!(comment.prefix, "priv");
        assert_eq!(comment.kind.as_deref(), Some("Deployment"));
        let text = text.replacen('|', "", 1);
        let drop = at(&text, "|");
        assert_eq!(
            drop.parents,
            [
                "spec",
                "template",
                "spec",
                "containers",
                "securityContext",
                "capabilities"
            ]
        );
        assert_eq!(drop.key.as_deref(), Some("drop"));
        assert!(drop.in_flow_sequence);
        assert_eq!(drop.prefix, "AL");
        let item = at("drop:\n  - A|\n", "|");
        assert!(item.item);
        assert_eq!(item.parents, ["drop"]);
    }

    #[test]
    fn namespaces_labels_defaults_and_entries_are_found() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- kind: Namespace\n  metadata:\n    name: wéb\n    labels: {pod-security.kubernetes.io/enforce: baseline}\n";
        let found = namespace_object(text, &Limits::default(), "wéb", Some("enforce")).unwrap();
        assert_eq!(&text[found.name.start..found.name.end], "wéb");
        assert_eq!(
            &text[found.label.unwrap().start..found.label.unwrap().end],
            "pod-security.kubernetes.io/enforce: baseline"
        );
        assert!(namespace_object(text, &Limits::default(), "other", None).is_none());
        let admission = "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    defaults:\n      enforce: baseline\n      warn: restricted\n";
        let warn = admission_defaults(admission, &Limits::default(), Mode::Warn).unwrap();
        assert_eq!(&admission[warn.start..warn.end], "warn: restricted");
        let audit = admission_defaults(admission, &Limits::default(), Mode::Audit).unwrap();
        assert!(admission[audit.start..audit.end].starts_with("defaults:"));
        let project = "level: baseline\nnamespaces:\n  ü: {enforce: restricted}\n";
        let level = entry_at(project, &Limits::default(), &["level"]).unwrap();
        assert_eq!(&project[level.start..level.end], "level: baseline");
        let label = entry_at(project, &Limits::default(), &["namespaces", "ü", "enforce"]).unwrap();
        assert_eq!(&project[label.start..label.end], "enforce: restricted");
    }

    #[test]
    fn a_namespace_is_named_at_metadata_namespace_or_a_kustomization_namespace() {
        let text = "kind: List\nitems:\n- kind: Pod\n  metadata: {name: a, namespace: wéb}\n";
        let offset = text.find("wéb").unwrap() + 1;
        let (name, span) = namespace_at(text, &Limits::default(), offset, false).unwrap();
        assert_eq!((name.as_str(), &text[span.start..span.end]), ("wéb", "wéb"));
        assert!(namespace_at(text, &Limits::default(), text.find("name: a").unwrap(), false).is_none());
        let kustomization = "namespace: ü\nresources: [a.yaml]\n";
        assert_eq!(
            namespace_at(kustomization, &Limits::default(), 11, true)
                .unwrap()
                .0,
            "ü"
        );
        assert!(namespace_at(kustomization, &Limits::default(), 11, false).is_none());
    }

    #[test]
    fn an_outline_has_every_object_and_its_containers() {
        let text = "kind: Namespace\nmetadata: {name: ü}\n---\nkind: Deployment\nmetadata: {name: web, namespace: ü}\nspec:\n  template:\n    spec:\n      initContainers: [{name: init, image: x}]\n      containers:\n      - name: app\n        image: x\n";
        let outline = outline(text, &Limits::default());
        assert_eq!(outline.len(), 2);
        assert_eq!(outline[0].kind, "Namespace");
        assert!(outline[0].containers.is_empty());
        assert_eq!(outline[1].namespace.as_deref(), Some("ü"));
        let names: Vec<(&str, &str)> = outline[1]
            .containers
            .iter()
            .map(|c| (c.name.as_str(), c.list.as_str()))
            .collect();
        assert_eq!(names, [("init", "initContainers"), ("app", "containers")]);
        let app = &outline[1].containers[1];
        assert_eq!(&text[app.selection.start..app.selection.end], "name: app");
    }
}
