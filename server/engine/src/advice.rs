//! Advice after the analysis: the strictest policy each workload passes (`--suggest-level`), and the
//! impact of a Namespace's enforce label on its workloads (PSA's dry-run warning).

use crate::analysis::{ObjectReport, Options, check_object};
use crate::policy::{ConfigProblem, Level, Mode, NamespaceLabels, Policy, Severity, Version};
use crate::workload::{PodObject, pod_objects};
use crate::yaml::{Document, documents};

/// The strictest level and version the pods of `text` at object index `object` pass: restricted at the
/// newest version it passes, else baseline likewise, else privileged.
pub fn strictest_passing(document: &Document<'_>, object: &PodObject<'_>) -> Policy {
    for level in [Level::Restricted, Level::Baseline] {
        for minor in (0..=crate::policy::MAX_MINOR).rev() {
            let version = if minor == crate::policy::MAX_MINOR {
                Version::Latest
            } else {
                Version::Minor(u64::from(minor))
            };
            let policy = Policy::new(level, version);
            if check_object(document, object, policy, None).violations.is_empty() {
                return policy;
            }
        }
    }
    Policy::new(Level::Privileged, Version::Latest)
}

/// The suggestion for every pod-bearing object of `text`: `(namespace, object name, strictest policy)`.
pub fn suggest_levels(text: &str, options: &Options) -> Vec<(Option<String>, String, Policy)> {
    let mut out = Vec::new();
    for document in documents(text, &options.limits).filter(|d| d.error.is_none()) {
        for object in pod_objects(&document) {
            let name = match object.name {
                Some(name) => format!("{} {name:?}", object.kind),
                None => object.kind.to_string(),
            };
            out.push((
                object.namespace.map(str::to_string),
                name,
                strictest_passing(&document, &object),
            ));
        }
    }
    out
}

/// PSA's dry-run warning for a Namespace's enforce label: when workloads of the namespace do not pass its
/// enforce level, a warning on the label that names them, one line per distinct reason, as PSA words it
/// when the label is applied (`existing pods in namespace "x" violate the new PodSecurity enforce level …`).
pub fn namespace_impact<'r>(
    labels: &NamespaceLabels,
    objects: impl IntoIterator<Item = &'r ObjectReport>,
) -> Option<ConfigProblem> {
    let span = labels.enforce_span?;
    let (_, enforce) = labels.modes.iter().find(|(m, _)| *m == Mode::Enforce)?;
    // PSA's dry run never warns for privileged: it allows every pod.
    if enforce.policy.level == Level::Privileged {
        return None;
    }
    let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
    for object in objects {
        // Only objects checked against this very label (not a command-line override or another copy).
        let checked_here = object
            .modes
            .iter()
            .any(|(m, p)| *m == Mode::Enforce && p.policy == enforce.policy && p.source == enforce.source);
        if object.namespace.as_deref() != Some(labels.name.as_str()) || !checked_here {
            continue;
        }
        let reason = object.aggregated_reason(Mode::Enforce);
        if reason.is_empty() {
            continue;
        }
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, names)) => names.push(object.display_name()),
            None => reasons.push((reason, vec![object.display_name()])),
        }
    }
    if reasons.is_empty() {
        return None;
    }
    let mut message = format!(
        "existing pods in namespace {:?} violate the new PodSecurity enforce level {:?}",
        labels.name,
        enforce.policy.to_string()
    );
    for (reason, names) in &reasons {
        let first = names.first().cloned().unwrap_or_default();
        let others = match names.len() {
            1 => String::new(),
            2 => " (and 1 other pod)".to_string(),
            n => format!(" (and {} other pods)", n - 1),
        };
        message.push_str(&format!("\n{first}{others}: {reason}"));
    }
    Some(ConfigProblem {
        code: "namespace-impact",
        severity: Severity::Warning,
        message,
        span,
    })
}
