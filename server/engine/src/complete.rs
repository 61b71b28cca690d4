//! Completion candidates at an offset, in byte spans: Pod Security Admission's Namespace label keys and
//! their values (levels; `latest` and every `v1.N` podsec knows), check IDs where an exemption names
//! one (the `podsec.dev/exempt.<check-id>` annotation, the `# podsec: exempt <check-id> -- <reason>`
//! comment, the project file's `exemptions[].check`), the project file's levels and versions, and the
//! values that satisfy a check (`seccompProfile.type`, `capabilities.drop: [ALL]`, …).

use crate::checks::CHECKS;
use crate::navigate::{LineContext, line_context};
use crate::policy::{LABEL_PREFIX, Level, MAX_MINOR, Mode};
use crate::sources::COMMENT_MARKER;
use crate::yaml::Span;

/// What a candidate completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A mapping key (a label or annotation key).
    Key,
    /// A value (a level, a version, a setting's value).
    Value,
    /// A check ID.
    Check,
}

/// One completion candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// What the list shows, and what is inserted.
    pub label: String,
    /// A short explanation.
    pub detail: String,
    /// What it completes.
    pub kind: CompletionKind,
    /// The text it replaces: the word typed so far.
    pub replace: Span,
}

/// The annotation prefix of an exemption.
const EXEMPTION_ANNOTATION: &str = "podsec.dev/exempt.";

fn candidate(
    context: &LineContext,
    offset: usize,
    kind: CompletionKind,
    label: String,
    detail: String,
) -> Completion {
    Completion {
        label,
        detail,
        kind,
        replace: Span::new(context.prefix_start, offset.max(context.prefix_start)),
    }
}

fn checks(context: &LineContext, offset: usize) -> Vec<Completion> {
    CHECKS
        .iter()
        .map(|check| {
            let summary = check
                .doc
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches('#')
                .trim();
            candidate(
                context,
                offset,
                CompletionKind::Check,
                check.id.to_string(),
                format!("{} check: {summary}", check.level),
            )
        })
        .collect()
}

fn levels(context: &LineContext, offset: usize) -> Vec<Completion> {
    [
        (
            Level::Restricted,
            "the restricted checks, and the baseline checks they keep",
        ),
        (
            Level::Baseline,
            "the baseline checks: known privilege escalations",
        ),
        (Level::Privileged, "no checks"),
    ]
    .into_iter()
    .map(|(level, detail)| {
        candidate(
            context,
            offset,
            CompletionKind::Value,
            level.to_string(),
            detail.to_string(),
        )
    })
    .collect()
}

fn versions(context: &LineContext, offset: usize) -> Vec<Completion> {
    let mut found = vec![candidate(
        context,
        offset,
        CompletionKind::Value,
        "latest".to_string(),
        format!("the newest checks (evaluated as v1.{MAX_MINOR})"),
    )];
    found.extend((0..=MAX_MINOR).rev().map(|minor| {
        candidate(
            context,
            offset,
            CompletionKind::Value,
            format!("v1.{minor}"),
            format!("the checks of Kubernetes 1.{minor}"),
        )
    }));
    found
}

/// The label keys (`enforce`, `enforce-version`, …), written after `prefix`.
fn mode_keys(context: &LineContext, offset: usize, prefix: &str) -> Vec<Completion> {
    Mode::ALL
        .into_iter()
        .flat_map(|mode| {
            let what = match mode {
                Mode::Enforce => "the level whose violations the API server rejects",
                Mode::Warn => "the level whose violations kubectl warns of",
                Mode::Audit => "the level whose violations the audit log records",
            };
            [
                candidate(
                    context,
                    offset,
                    CompletionKind::Key,
                    format!("{prefix}{}", mode.as_str()),
                    what.to_string(),
                ),
                candidate(
                    context,
                    offset,
                    CompletionKind::Key,
                    format!("{prefix}{}-version", mode.as_str()),
                    format!("the version of the {} level", mode.as_str()),
                ),
            ]
        })
        .collect()
}

/// A level or version for the key `key` (`enforce`, `warn-version`, …), if it is one of PSA's.
fn mode_value(context: &LineContext, offset: usize, key: &str) -> Vec<Completion> {
    let (mode, version) = key
        .strip_suffix("-version")
        .map_or((key, false), |mode| (mode, true));
    if !Mode::ALL.iter().any(|m| m.as_str() == mode) {
        return Vec::new();
    }
    if version {
        versions(context, offset)
    } else {
        levels(context, offset)
    }
}

fn ends_with(parents: &[String], tail: &[&str]) -> bool {
    parents.len() >= tail.len() && parents.iter().rev().zip(tail.iter().rev()).all(|(a, b)| a == b)
}

/// The values that satisfy a check, for the setting being written.
fn check_values(context: &LineContext, offset: usize) -> Vec<Completion> {
    let parents = &context.parents;
    let value = |label: &str, detail: &str| {
        candidate(
            context,
            offset,
            CompletionKind::Value,
            label.to_string(),
            detail.to_string(),
        )
    };
    let key = context.key.as_deref();
    match key {
        Some("type") if ends_with(parents, &["seccompProfile"]) => vec![
            value(
                "RuntimeDefault",
                "the container runtime's default profile (restricted: seccompProfile)",
            ),
            value(
                "Localhost",
                "a profile on the node, named by localhostProfile (restricted: seccompProfile)",
            ),
        ],
        Some("type") if ends_with(parents, &["appArmorProfile"]) => vec![
            value(
                "RuntimeDefault",
                "the container runtime's default profile (baseline: appArmorProfile)",
            ),
            value(
                "Localhost",
                "a profile loaded on the node (baseline: appArmorProfile)",
            ),
        ],
        Some("drop") if ends_with(parents, &["capabilities"]) => {
            let all = if context.in_flow_sequence { "ALL" } else { "[ALL]" };
            vec![value(
                all,
                "drop every capability (restricted: capabilities_restricted)",
            )]
        }
        Some("add") if ends_with(parents, &["capabilities"]) => {
            let add = if context.in_flow_sequence {
                "NET_BIND_SERVICE"
            } else {
                "[NET_BIND_SERVICE]"
            };
            vec![value(
                add,
                "the one capability restricted allows to add (capabilities_restricted)",
            )]
        }
        None if context.item && ends_with(parents, &["capabilities", "drop"]) => {
            vec![value(
                "ALL",
                "drop every capability (restricted: capabilities_restricted)",
            )]
        }
        Some("runAsNonRoot") if ends_with(parents, &["securityContext"]) => {
            vec![value(
                "true",
                "refuse to start as root (restricted: runAsNonRoot)",
            )]
        }
        Some("allowPrivilegeEscalation") if ends_with(parents, &["securityContext"]) => {
            vec![value(
                "false",
                "no process gains more privileges than its parent (restricted: allowPrivilegeEscalation)",
            )]
        }
        Some("privileged") if ends_with(parents, &["securityContext"]) => {
            vec![value(
                "false",
                "not a privileged container (baseline: privileged)",
            )]
        }
        _ => Vec::new(),
    }
}

/// The candidates at byte `offset` of `text`; `project_file` when the text is a `.podsec.yaml`.
pub fn completions(text: &str, offset: usize, project_file: bool) -> Vec<Completion> {
    let context = line_context(text, offset);
    let offset = context.prefix_start + context.prefix.len();
    if let Some(comment) = &context.comment {
        // `# podsec: exempt <check-id>[, <check-id>…] -- <reason>`: check IDs before the `--`.
        let after = comment
            .trim_start()
            .strip_prefix(COMMENT_MARKER)
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix("exempt "));
        return match after {
            Some(ids) if !ids.contains("--") => checks(&context, offset),
            _ => Vec::new(),
        };
    }
    let parents = &context.parents;
    if project_file {
        return match (context.key.as_deref(), parents.as_slice()) {
            (Some("check"), [exemptions]) if exemptions == "exemptions" => checks(&context, offset),
            (Some("level"), []) => levels(&context, offset),
            (Some("version"), []) => versions(&context, offset),
            (None, [namespaces, _]) if namespaces == "namespaces" => mode_keys(&context, offset, ""),
            (Some(key), [namespaces, _]) if namespaces == "namespaces" => mode_value(&context, offset, key),
            _ => Vec::new(),
        };
    }
    if ends_with(parents, &["metadata", "labels"]) && context.kind.as_deref().is_none_or(|k| k == "Namespace")
    {
        return match context.key.as_deref() {
            None => mode_keys(&context, offset, LABEL_PREFIX),
            Some(key) => key
                .strip_prefix(LABEL_PREFIX)
                .map(|key| mode_value(&context, offset, key))
                .unwrap_or_default(),
        };
    }
    if ends_with(parents, &["metadata", "annotations"]) && context.key.is_none() {
        return CHECKS
            .iter()
            .map(|check| {
                candidate(
                    &context,
                    offset,
                    CompletionKind::Key,
                    format!("{EXEMPTION_ANNOTATION}{}", check.id),
                    format!("exempt this object from {} (the value is the reason)", check.id),
                )
            })
            .collect();
    }
    check_values(&context, offset)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a test fails by panicking"
    )]
    use super::*;

    fn labels_at(text: &str) -> Vec<String> {
        let offset = text.find('|').unwrap();
        completions(&text.replacen('|', "", 1), offset, false)
            .into_iter()
            .map(|c| c.label)
            .collect()
    }

    #[test]
    fn no_offset_of_any_text_panics() {
        let texts = [
            "kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/enforce: ü\n",
            "- - - : : #\n  \"ü: x\" # podsec: exempt 😀, \n---\n\tkind:\r\n  - [a: {b: '#'}]  #",
            "exemptions:\n- check: 名前\n  reason: ✓\nnamespaces:\n  ü: {enforce: x}\n",
            "",
            "-",
            ":",
        ];
        for text in texts {
            for offset in 0..=text.len() + 1 {
                for project in [false, true] {
                    for found in completions(text, offset, project) {
                        assert!(found.replace.start <= found.replace.end && found.replace.end <= text.len());
                        assert!(
                            text.is_char_boundary(found.replace.start)
                                && text.is_char_boundary(found.replace.end)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn candidates_follow_the_context() {
        let keys = labels_at("kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/w|\n");
        assert!(
            keys.contains(&"pod-security.kubernetes.io/warn-version".to_string()),
            "{keys:?}"
        );
        assert_eq!(keys.len(), 6);
        let levels =
            labels_at("kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/enforce: b|\n");
        assert_eq!(levels, ["restricted", "baseline", "privileged"]);
        let versions = labels_at(
            "kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/audit-version: |\n",
        );
        assert_eq!(versions.first().map(String::as_str), Some("latest"));
        assert!(versions.contains(&"v1.0".to_string()) && versions.contains(&format!("v1.{MAX_MINOR}")));
        assert!(
            labels_at("kind: Deployment\nmetadata:\n  labels:\n    a|\n").is_empty(),
            "no PSA labels on a workload"
        );
        let drop = labels_at(
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      capabilities:\n        drop: |\n",
        );
        assert_eq!(drop, ["[ALL]"]);
        let comment = labels_at("kind: Pod\nspec:\n  hostNetwork: true  # podsec: exempt host|\n");
        assert_eq!(comment.len(), CHECKS.len());
        assert!(
            labels_at("kind: Pod\nspec:\n  hostNetwork: true  # podsec: exempt hostNamespaces -- b|\n")
                .is_empty()
        );
    }
}
