//! One object's verdict: its policy per mode, every mode evaluated, and what exemptions cover set
//! aside.

use super::exemptions::CommentExemptions;
use super::locate::locate;
use super::{Analysis, CheckViolation, Location, ModeFailure, ModeLine, ObjectReport, Options};
use crate::checks::{Check, checks_for};
use crate::fix::FixContext;
use crate::patch::Layout;
use crate::pod::Loc;
use crate::policy::Policy;
use crate::policy::{ConfigProblem, Mode, ModePolicy, ResolvedPolicy, Severity};
use crate::sources::{EXEMPTED_BY_ANNOTATION, EXEMPTED_BY_PROJECT_FILE, annotation_exemptions};
use crate::workload::PodObject;
use crate::yaml::Document;

/// Resolves an object's policy, runs every mode, and sets aside what exemptions cover (the annotation,
/// then the document's exemption `comments`, then the project file).
pub(super) fn evaluate(
    document: &Document<'_>,
    object: &PodObject<'_>,
    options: &Options<'_>,
    layout: Option<&Layout<'_>>,
    comments: &mut CommentExemptions,
    analysis: &mut Analysis,
) -> ObjectReport {
    let runtime_class = object
        .pod
        .spec
        .and_then(|s| s.get("runtimeClassName"))
        .and_then(|r| r.as_str());
    let namespace = options.namespace_override.or(object.namespace);
    let resolved = match options.context {
        Some(context) => context.resolve(namespace, runtime_class),
        None => ResolvedPolicy::enforce(options.policy, "the policy given"),
    };
    let mut report = skeleton(document, object, resolved.primary(), Vec::new());
    report.namespace = namespace.map(str::to_string);
    report.modes = resolved.modes.clone();
    report.privileged_modes = resolved.privileged.clone();
    report.mode_lines.clear();
    report.exempt = resolved.exempt.clone();
    if report.exempt.is_some() {
        comments.not_checked(document, object);
        return report;
    }
    for (mode, mode_policy) in &resolved.modes {
        // PSA evaluates each level:version once; a mode with the same one shares its result.
        if let Some(line) = report
            .mode_lines
            .iter_mut()
            .find(|l| l.policy == mode_policy.policy)
        {
            line.modes.push(*mode);
            continue;
        }
        let checked = check_object(document, object, mode_policy.policy, layout);
        report.mode_lines.push(ModeLine {
            modes: vec![*mode],
            policy: mode_policy.policy,
            failures: failures(&checked.violations),
        });
        for mut violation in checked.violations {
            if report.violations.iter().any(|v| v.check.id == violation.check.id) {
                continue; // a stricter mode already reports this check
            }
            violation.mode = *mode;
            report.violations.push(violation);
        }
    }
    let (annotations, problems) = annotation_exemptions(object);
    analysis.config_problems.extend(problems);
    let mut kept = Vec::new();
    for mut violation in std::mem::take(&mut report.violations) {
        if let Some(annotation) = annotations.iter().find(|a| a.check == violation.check.id) {
            report.exempted.push((
                violation,
                format!("{}{EXEMPTED_BY_ANNOTATION}", annotation.reason),
            ));
            continue;
        }
        report
            .exempted
            .extend(comments.cover(document, object, &mut violation));
        if violation.locations.is_empty() {
            continue;
        }
        if let Some(context) = options.context {
            let (covered, left): (Vec<Location>, Vec<Location>) =
                violation.locations.drain(..).partition(|l| {
                    context
                        .project_exemption(
                            violation.check.id,
                            &report.exemption_target(),
                            l.container.as_deref(),
                        )
                        .is_some()
                });
            if let Some(exemption) = covered.first().and_then(|l| {
                context.project_exemption(
                    violation.check.id,
                    &report.exemption_target(),
                    l.container.as_deref(),
                )
            }) {
                analysis.used_exemptions.push(exemption.span);
                let mut exempted = violation.clone();
                exempted.locations = covered;
                report.exempted.push((
                    exempted,
                    format!("{}{EXEMPTED_BY_PROJECT_FILE}", exemption.reason),
                ));
            }
            violation.locations = left;
            if violation.locations.is_empty() {
                continue;
            }
        }
        kept.push(violation);
    }
    report.violations = kept;
    report.drop_unreported_failures();
    comments.settle(document, object, &report);
    comments.protect(document, &mut report);
    for annotation in &annotations {
        if !report
            .exempted
            .iter()
            .any(|(v, _)| v.check.id == annotation.check)
        {
            analysis.config_problems.push(ConfigProblem {
                code: "unused-exemption",
                severity: Severity::Information,
                message: format!(
                    "{} does not fail {} at {}: this exemption is not needed",
                    report.display_name(),
                    annotation.check,
                    report.policy
                ),
                span: annotation.span,
            });
        }
    }
    report
}

/// The report of an object with the given violations, before modes and exemptions are applied.
pub(super) fn skeleton(
    document: &Document<'_>,
    object: &PodObject<'_>,
    policy: Policy,
    violations: Vec<CheckViolation>,
) -> ObjectReport {
    ObjectReport {
        kind: object.kind.to_string(),
        name: object.name.map(str::to_string),
        namespace: object.namespace.map(str::to_string),
        header: object.header,
        source: None,
        span: object.object.span(),
        document: document.index,
        policy,
        modes: vec![(
            Mode::Enforce,
            ModePolicy {
                policy,
                source: String::from("the policy given"),
            },
        )],
        privileged_modes: Vec::new(),
        exempt: None,
        mode_lines: vec![ModeLine {
            modes: vec![Mode::Enforce],
            policy,
            failures: failures(&violations),
        }],
        violations,
        exempted: Vec::new(),
    }
}

/// Runs every check of `policy` on one object (enforce mode, no exemptions).
pub fn check_object(
    document: &Document<'_>,
    object: &PodObject<'_>,
    policy: Policy,
    layout: Option<&Layout<'_>>,
) -> ObjectReport {
    let minor = policy.version.evaluated_minor();
    let violations = checks_for(policy)
        .iter()
        .copied()
        .filter_map(|check| {
            let violation = (check.evaluate)(&object.pod, minor)?;
            let locations = violation
                .locations
                .iter()
                .map(|loc| {
                    let mut location = locate(document, object, *loc);
                    location.container = object.pod.container_name_at(document, *loc).map(str::to_string);
                    if violation.locations.len() > 1 {
                        location.detail = detail_at(check, &object.pod, document, *loc, minor, &location)
                            .filter(|detail| *detail != violation.detail);
                    }
                    if let (Some(layout), Some(fix)) = (layout, check.fix) {
                        let context = FixContext {
                            document,
                            layout,
                            pod: &object.pod,
                            loc: *loc,
                        };
                        location.fix = fix(&context);
                    }
                    location
                })
                .collect();
            Some(CheckViolation {
                check,
                reason: violation.reason,
                detail: violation.detail,
                locations,
                mode: Mode::Enforce,
                policy,
            })
        })
        .collect();
    skeleton(document, object, policy, violations)
}

/// PSA's detail for one location of a violation with several: the check evaluated on the pod with only
/// the location's container (so it names that container alone), then only the parts of a detail with
/// several (`…must set X; …must not include "NET_ADMIN"…`) that concern the field: for a field that is
/// present, the parts that name its value or forbid a setting; for one that is missing, the parts that
/// require one.
fn detail_at(
    check: &Check,
    pod: &crate::pod::Pod<'_>,
    document: &Document<'_>,
    loc: Loc,
    minor: u32,
    location: &Location,
) -> Option<String> {
    let detail = match pod.container_index_at(document, loc) {
        Some(index) => {
            let mut alone = pod.clone();
            alone.containers = pod.containers.get(index).copied().into_iter().collect();
            (check.evaluate)(&alone, minor)?.detail
        }
        None => (check.evaluate)(pod, minor)?.detail,
    };
    let parts: Vec<&str> = detail.split("; ").collect();
    if parts.len() < 2 {
        return Some(detail);
    }
    let value = match loc {
        Loc::Field { value, .. } => document.node_ref(value).as_str(),
        Loc::Item { node } => document.node_ref(node).as_str(),
        _ => None,
    };
    let concerned: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|part| match (location.missing, value) {
            (true, _) => part.contains("must set"),
            (false, Some(value)) if part.contains(&format!("\"{value}\"")) => true,
            (false, _) => part.contains("must not"),
        })
        .collect();
    Some(if concerned.is_empty() {
        detail.clone()
    } else {
        concerned.join("; ")
    })
}

/// The failures of a mode line: each violation's check, reason and detail.
fn failures(violations: &[CheckViolation]) -> Vec<ModeFailure> {
    violations
        .iter()
        .map(|v| ModeFailure {
            check: v.check,
            reason: v.reason.clone(),
            detail: v.detail.clone(),
        })
        .collect()
}
