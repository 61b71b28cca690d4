//! Policy sources that name checks, read above the checks: the project file (its exemptions' check IDs
//! validated) and exemption annotations on objects.

use crate::checks::check_by_id;
use crate::policy::{ConfigProblem, ProjectConfig, Severity, project_config};
use crate::yaml::{Limits, Span};

/// Reads a project file (see [`project_config`]), with every exemption naming an unknown check
/// reported and left out. Unknown keys and bad values are problems located in it; what is valid is kept.
pub fn project_file(text: &str, limits: &Limits) -> (ProjectConfig, Vec<ConfigProblem>) {
    let (mut config, mut problems) = project_config(text, limits);
    config.exemptions.retain(|exemption| {
        let known = check_by_id(&exemption.check).is_some();
        if !known {
            problems.push(ConfigProblem {
                code: "invalid-exemption",
                severity: Severity::Error,
                message: format!(
                    "unknown check {:?}; `podsec explain` lists the checks",
                    exemption.check
                ),
                span: exemption.span,
            });
        }
        known
    });
    // In the order they are written.
    problems.sort_by_key(|p| p.span.start);
    (config, problems)
}

/// An exemption annotation on an object (`podsec.dev/exempt.<check-id>: "<reason>"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationExemption {
    /// The check ID.
    pub check: String,
    /// The reason.
    pub reason: String,
    /// The annotation entry.
    pub span: Span,
}

/// The exemption annotations on an object's metadata and its pod template's metadata, and the problems
/// with them (unknown check, missing reason, placeholder reason).
pub fn annotation_exemptions(
    object: &crate::workload::PodObject<'_>,
) -> (Vec<AnnotationExemption>, Vec<ConfigProblem>) {
    const PREFIX: &str = "podsec.dev/exempt.";
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let metadata = [object.object.get("metadata"), object.pod.metadata];
    let mut seen_nodes = Vec::new();
    for annotations in metadata
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("annotations"))
    {
        if seen_nodes.contains(&annotations.id()) {
            continue;
        }
        seen_nodes.push(annotations.id());
        for entry in annotations.entries() {
            let Some(check) = entry.key.as_str().and_then(|k| k.strip_prefix(PREFIX)) else {
                continue;
            };
            let span = Span::new(
                entry.key.span().start,
                entry.written_value.span().end.max(entry.key.span().end),
            );
            if check_by_id(check).is_none() {
                problems.push(ConfigProblem {
                    code: "invalid-exemption",
                    severity: Severity::Warning,
                    message: format!(
                        "unknown check {check:?} in {PREFIX}{check}; `podsec explain` lists the checks"
                    ),
                    span,
                });
                continue;
            }
            let reason = entry.value.as_str().unwrap_or("").trim().to_string();
            if reason.is_empty() {
                problems.push(ConfigProblem {
                    code: "invalid-exemption",
                    severity: Severity::Error,
                    message: format!("the exemption from {check} needs a reason as its value; it does not apply without one"),
                    span,
                });
                continue;
            }
            if reason.starts_with("TODO") {
                problems.push(ConfigProblem {
                    code: "invalid-exemption",
                    severity: Severity::Warning,
                    message: format!("the exemption from {check} still has a placeholder reason: say why the workload needs it"),
                    span,
                });
            }
            found.push(AnnotationExemption {
                check: check.to_string(),
                reason,
                span,
            });
        }
    }
    (found, problems)
}
