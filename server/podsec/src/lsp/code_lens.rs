//! `textDocument/codeLens`: the policy in sight. On the `kind:` line of every pod-bearing object, the
//! policy it is checked against, where that comes from and what it gives (`restricted:latest (Namespace
//! "web", enforce label) · 3 errors`, or `privileged: not checked (…)`); on a Namespace, each of its modes
//! and how many workloads of the workspace pass it. Computed from the analysis already made.

use super::convert;
use super::session::Snapshot;
use podsec_engine::policy::{Mode, NamespaceLabels, Severity};
use podsec_engine::{Analysis, ObjectReport};
use tower_lsp_server::ls_types::*;

/// `Namespace "web", label pod-security.kubernetes.io/enforce` → `Namespace "web", enforce label`.
fn short_source(source: &str) -> String {
    match source.split_once(", label pod-security.kubernetes.io/") {
        Some((namespace, rest)) => {
            let (label, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!(" {tail}")
            };
            format!("{namespace}, {label} label{tail}")
        }
        None => source.to_string(),
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The lens title of one object.
fn object_title(object: &ObjectReport) -> String {
    if let Some(why) = &object.exempt {
        return format!("not checked: {why}");
    }
    let Some((mode, first)) = object.modes.first() else {
        let source = object
            .privileged_modes
            .first()
            .map(|(_, p)| format!(" ({})", short_source(&p.source)))
            .unwrap_or_default();
        return format!("privileged: not checked{source}");
    };
    let count = |severity| {
        object
            .violations
            .iter()
            .filter(|v| v.severity() == severity)
            .map(|v| v.locations.len())
            .sum::<usize>()
    };
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Information),
    );
    let mut title = format!("{} ({}", first.policy, short_source(&first.source));
    if *mode != Mode::Enforce {
        title = format!("{} {title}", mode.as_str());
    }
    for (other, policy) in object.modes.iter().skip(1) {
        if policy.policy != first.policy {
            title.push_str(&format!("; {} {}", other.as_str(), policy.policy));
        }
    }
    title.push(')');
    let mut found = Vec::new();
    if errors > 0 {
        found.push(plural(errors, "error", "errors"));
    }
    if warnings > 0 {
        found.push(plural(warnings, "warning", "warnings"));
    }
    if notes > 0 {
        found.push(plural(notes, "note", "notes"));
    }
    if found.is_empty() {
        title.push_str(" · passes");
    } else {
        title.push_str(&format!(" · {}", found.join(", ")));
    }
    // Exemptions that hold, then those the cluster will not honour (their findings are counted above).
    let exempted: usize = object
        .exempted
        .iter()
        .map(|(v, _)| v.locations.len().max(1))
        .sum();
    if exempted > 0 {
        title.push_str(&format!(
            " · {} (hover for why it holds)",
            plural(exempted, "exempted", "exempted")
        ));
    }
    let refused = object.refused_exemptions.len();
    if refused > 0 {
        let verb = if refused == 1 { "does" } else { "do" };
        title.push_str(&format!(
            " · {} {verb} not hold (hover on the finding)",
            plural(refused, "exemption", "exemptions")
        ));
    }
    title
}

/// The lens title of a Namespace: each mode's policy and how many of the workloads in it pass; `kept`
/// when those are its last valid labels, kept while one of its labels is invalid.
fn namespace_title(labels: &NamespaceLabels, workloads: &[&ObjectReport], kept: bool) -> String {
    if labels.modes.is_empty() {
        return format!(
            "Namespace {:?}: no pod-security level label ({})",
            labels.name,
            plural(workloads.len(), "workload", "workloads")
        );
    }
    let parts: Vec<String> = labels
        .modes
        .iter()
        .map(|(mode, policy)| {
            let passing = workloads
                .iter()
                .filter(|o| {
                    o.mode_lines
                        .iter()
                        .find(|l| l.modes.contains(mode))
                        .is_none_or(|l| l.failures.is_empty())
                })
                .count();
            format!(
                "{} {} · {passing}/{} workloads pass",
                mode.as_str(),
                policy.policy,
                workloads.len()
            )
        })
        .collect();
    let mut title = parts.join(" | ");
    if kept {
        title.push_str(" (its last valid labels, while a label is invalid)");
    }
    title
}

/// A lens titled `title`; a click shows `target` (`podsec.showLocation`), or does nothing without one.
fn lens(range: Range, title: String, target: Option<Location>) -> CodeLens {
    let command = match target {
        Some(target) => super::commands::show_location(title, &target.uri, target.range),
        None => Command {
            title,
            command: String::new(),
            arguments: None,
        },
    };
    CodeLens {
        range,
        command: Some(command),
        data: None,
    }
}

/// The lenses of a snapshot's analysis; `elsewhere` holds the workspace's workloads in its Namespaces,
/// and `jump` says where an object's lens leads (the source of its policy).
pub(super) fn code_lenses(
    snapshot: &Snapshot,
    analysis: &Analysis,
    elsewhere: &[ObjectReport],
    jump: &dyn Fn(&ObjectReport) -> Option<Location>,
) -> Vec<CodeLens> {
    let (rope, encoding) = (&snapshot.rope, snapshot.encoding);
    let mut lenses: Vec<CodeLens> = analysis
        .objects
        .iter()
        .map(|object| {
            lens(
                convert::range(rope, object.header, encoding),
                object_title(object),
                jump(object),
            )
        })
        .collect();
    for read in &snapshot.own.labels {
        // The policy its workloads were judged under: while a label is invalid (being typed), the last
        // valid one, which the analysis also used (see `steady_namespaces`).
        let labels = snapshot
            .namespaces
            .iter()
            .find(|steady| steady.name == read.name)
            .unwrap_or(read);
        let kept = labels.modes != read.modes;
        let workloads: Vec<&ObjectReport> = analysis
            .objects
            .iter()
            .chain(elsewhere)
            .filter(|o| o.namespace.as_deref() == Some(labels.name.as_str()))
            .collect();
        lenses.push(lens(
            convert::range(rope, labels.header, encoding),
            namespace_title(labels, &workloads, kept),
            None,
        ));
    }
    lenses.sort_by_key(|l| (l.range.start.line, l.range.start.character));
    lenses
}

#[cfg(test)]
mod tests {
    use super::short_source;

    #[test]
    fn sources_are_shortened_for_a_lens() {
        assert_eq!(
            short_source("Namespace \"web\", label pod-security.kubernetes.io/enforce"),
            "Namespace \"web\", enforce label"
        );
        assert_eq!(
            short_source(
                "Namespace \"web\", label pod-security.kubernetes.io/enforce (warn inherits enforce)"
            ),
            "Namespace \"web\", enforce label (warn inherits enforce)"
        );
        assert_eq!(
            short_source("the default (no policy configured)"),
            "the default (no policy configured)"
        );
    }
}
