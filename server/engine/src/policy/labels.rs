//! Namespace labels: `pod-security.kubernetes.io/<mode>[-version]`, read with PSA's rules.

use crate::policy::{ConfigProblem, Level, Mode, ModePolicy, Policy, PolicyOrigin, Severity, Version};
use crate::yaml::{Limits, NodeRef, Span};
use std::collections::BTreeMap;

/// The labels of one mode, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ModeLabels {
    level: Option<(String, Span)>,
    version: Option<(String, Span)>,
}

/// A Namespace object's Pod Security labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceLabels {
    /// `metadata.name`.
    pub name: String,
    /// Per mode: the effective policy after PSA's rules, if the mode has a level label or inherits one.
    pub modes: Vec<(Mode, ModePolicy)>,
    /// Which modes were labelled at all (the others fall back to the defaults).
    pub labelled: Vec<Mode>,
    /// Whether it has any `pod-security.kubernetes.io/<mode>[-version]` label at all. Without one, and
    /// with no admission configuration known, podsec cannot know the cluster's defaults.
    pub any_label: bool,
    /// The `…/enforce` label's entry, where impact diagnostics go.
    pub enforce_span: Option<Span>,
    /// Invalid label values, with PSA's error text.
    pub problems: Vec<ConfigProblem>,
    /// The Namespace's `kind:` entry.
    pub header: Span,
}

impl NamespaceLabels {
    /// Whether `other` gives the same policy: the same name, modes and labels, wherever they are written
    /// (spans move with every edit above the Namespace, and resolving a policy never reads them).
    pub fn same_policy(&self, other: &Self) -> bool {
        self.name == other.name
            && self.modes == other.modes
            && self.labelled == other.labelled
            && self.any_label == other.any_label
    }
}

/// The prefix of Pod Security Admission's Namespace labels.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

fn policy_source(name: &str, key: &str) -> String {
    format!("Namespace {name:?}, label {LABEL_PREFIX}{key}")
}

/// Reads the Pod Security labels of every Namespace in `text`, applying PSA's rules: an invalid enforce
/// level fails closed (restricted), an invalid warn or audit level fails open (privileged), an invalid
/// version is `latest`, and warn inherits a stricter valid enforce level (and its version when warn has
/// no version label).
pub fn namespace_labels(text: &str, limits: &Limits) -> Vec<NamespaceLabels> {
    read_namespaces(text, limits).labels
}

/// The Namespaces of a text, and whether some of its documents could not be read (and may hold more).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespacesRead {
    /// The Namespaces of the documents that could be read, in source order.
    pub labels: Vec<NamespaceLabels>,
    /// Whether a document had a syntax or limit error.
    pub unreadable: bool,
}

/// [`namespace_labels`], also telling whether a document of the text could not be read: an editor keeps
/// the Namespaces it knew while a document is being typed and does not parse.
pub fn read_namespaces(text: &str, limits: &Limits) -> NamespacesRead {
    let mut found = NamespacesRead::default();
    // Most texts hold no Namespace at all: skip the parse (this runs on every keystroke in the editor).
    if !text.contains("Namespace") {
        return found;
    }
    // Only the documents that mention a Namespace are parsed: this runs on every keystroke.
    let ranges = crate::yaml::document_ranges(text, limits);
    let candidates = ranges.into_iter().enumerate().filter(|(_, range)| {
        text.get(range.start..range.end)
            .is_some_and(|t| t.contains("Namespace"))
    });
    // A document whose kind is certain and neither is read no further than its kind (so a syntax error after
    // it does not count as unreadable: it cannot hold a Namespace).
    let reads_kind = |kind: &str| kind == "Namespace" || kind == "List";
    for document in candidates
        .filter_map(|(index, range)| crate::yaml::read_document_if(text, index, range, limits, &reads_kind))
    {
        if document.error.is_some() {
            found.unreadable = true;
            continue;
        }
        let Some(root) = document.root() else { continue };
        let mut pending = vec![root];
        while let Some(object) = pending.pop() {
            let kind = object.get("kind").and_then(|k| k.as_str());
            if kind == Some("List") {
                pending.extend(object.get("items").into_iter().flat_map(|i| i.items()));
                continue;
            }
            if kind != Some("Namespace") {
                continue;
            }
            if let Some(labels) = read_namespace(object) {
                found.labels.push(labels);
            }
        }
    }
    found
}

fn read_namespace(object: NodeRef<'_>) -> Option<NamespaceLabels> {
    let metadata = object.get("metadata")?;
    let name = metadata.get("name").and_then(|n| n.as_str())?.to_string();
    let header = object.entry("kind").map_or(object.span(), |e| {
        Span::new(e.key.span().start, e.value.span().end)
    });
    let mut raw: BTreeMap<Mode, ModeLabels> = BTreeMap::new();
    let mut enforce_span = None;
    for entry in metadata.get("labels").into_iter().flat_map(|l| l.entries()) {
        let Some(key) = entry.key.as_str() else { continue };
        let Some(rest) = key.strip_prefix(LABEL_PREFIX) else {
            continue;
        };
        let value = entry.value.as_str().unwrap_or("").to_string();
        let span = Span::new(
            entry.key.span().start,
            entry.written_value.span().end.max(entry.key.span().end),
        );
        let (mode, is_version) = match rest {
            "enforce" => (Mode::Enforce, false),
            "warn" => (Mode::Warn, false),
            "audit" => (Mode::Audit, false),
            "enforce-version" => (Mode::Enforce, true),
            "warn-version" => (Mode::Warn, true),
            "audit-version" => (Mode::Audit, true),
            _ => continue,
        };
        let slot = raw.entry(mode).or_default();
        if is_version {
            slot.version = Some((value, span));
        } else {
            if mode == Mode::Enforce {
                enforce_span = Some(span);
            }
            slot.level = Some((value, span));
        }
    }
    let mut problems = Vec::new();
    let mut parsed: BTreeMap<Mode, (Level, bool, Version, bool)> = BTreeMap::new();
    for (mode, labels) in &raw {
        let (level, level_valid) = match &labels.level {
            Some((text, span)) => match Level::parse(text) {
                Ok(level) => (level, true),
                Err(_) => {
                    problems.push(ConfigProblem {
                        code: "invalid-label",
                        severity: Severity::Error,
                        message: format!(
                            "{LABEL_PREFIX}{}: must be one of privileged, baseline, restricted (PSA uses {} for this namespace)",
                            mode.as_str(),
                            if *mode == Mode::Enforce { "restricted" } else { "privileged" }
                        ),
                        span: *span,
                    });
                    (
                        if *mode == Mode::Enforce {
                            Level::Restricted
                        } else {
                            Level::Privileged
                        },
                        false,
                    )
                }
            },
            None => (Level::Privileged, false),
        };
        let version = match &labels.version {
            Some((text, span)) => Version::parse(text).unwrap_or_else(|_| {
                problems.push(ConfigProblem {
                    code: "invalid-label",
                    severity: Severity::Error,
                    message: format!(
                        "{LABEL_PREFIX}{}-version: must be \"latest\" or \"v1.x\" (PSA uses latest for this namespace)",
                        mode.as_str()
                    ),
                    span: *span,
                });
                Version::Latest
            }),
            None => Version::Latest,
        };
        parsed.insert(*mode, (level, labels.level.is_some(), version, level_valid));
    }
    let labelled: Vec<Mode> = Mode::ALL
        .into_iter()
        .filter(|m| raw.get(m).is_some_and(|l| l.level.is_some()))
        .collect();
    let mut modes = Vec::new();
    for mode in Mode::ALL {
        let Some((level, has_level, version, _)) = parsed.get(&mode).copied() else {
            continue;
        };
        if !has_level {
            continue;
        }
        modes.push((
            mode,
            ModePolicy {
                policy: Policy::new(level, version),
                source: policy_source(&name, mode.as_str()),
                by_cluster: true,
                origin: PolicyOrigin::NamespaceLabel {
                    namespace: name.clone(),
                    label: mode.as_str().to_string(),
                },
            },
        ));
    }
    // Warn inherits a stricter, valid enforce level when it has no level label of its own.
    if let Some((enforce_level, true, enforce_version, true)) = parsed.get(&Mode::Enforce).copied() {
        let warn = parsed.get(&Mode::Warn).copied();
        if warn.is_none_or(|(_, has_level, _, _)| !has_level) {
            let warn_version_label = raw.get(&Mode::Warn).and_then(|l| l.version.as_ref()).is_some();
            let version = if warn_version_label {
                warn.map_or(enforce_version, |w| w.2)
            } else {
                enforce_version
            };
            if enforce_level > Level::Privileged {
                modes.push((
                    Mode::Warn,
                    ModePolicy {
                        policy: Policy::new(enforce_level, version),
                        source: format!("{} (warn inherits enforce)", policy_source(&name, "enforce")),
                        by_cluster: true,
                        origin: PolicyOrigin::NamespaceLabel {
                            namespace: name.clone(),
                            label: "enforce".to_string(),
                        },
                    },
                ));
                modes.sort_by_key(|(m, _)| *m);
            }
        }
    }
    Some(NamespaceLabels {
        name,
        modes,
        labelled,
        any_label: !raw.is_empty(),
        enforce_span,
        problems,
        header,
    })
}
