//! One object's verdict: its policy per mode, every mode evaluated, and what exemptions cover set
//! aside.

use super::exemptions::CommentExemptions;
use super::locate::locate;
use super::{Analysis, CheckViolation, Location, ModeFailure, ModeLine, ObjectReport, Options};
use crate::checks::{Check, checks_for};
use crate::fix::FixContext;
use crate::patch::Layout;
use crate::pod::{ContainerIndex, Loc};
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
    let namespace = options
        .namespace_override
        .or(object.namespace)
        .or(options.namespace_default);
    let resolved = match options.context {
        Some(context) => context.resolve(namespace, runtime_class),
        None => ResolvedPolicy::enforce(
            options.policy,
            "the policy given",
            crate::policy::PolicyOrigin::Default,
        ),
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
    // PSA's order of the findings, to put back in place what an exemption cannot hide.
    let run_order: Vec<&str> = report.violations.iter().map(|v| v.check.id).collect();
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
    let refused = refuse_cluster_enforced_exemptions(&mut report, &resolved, options, &annotations, analysis);
    report
        .violations
        .sort_by_key(|v| run_order.iter().position(|id| *id == v.check.id));
    report.drop_unreported_failures();
    keep_exempted_fields(&mut report);
    comments.settle(document, object, &report);
    comments.protect(document, &mut report);
    for annotation in &annotations {
        let covers = |id: &str| id == annotation.check;
        if !report.exempted.iter().any(|(v, _)| covers(v.check.id)) && !refused.iter().any(|id| covers(id)) {
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

/// A fix never undoes what an exemption keeps: one that edits the field of an exempted finding (setting
/// `allowPrivilegeEscalation: false` needs `privileged: false`, where `privileged: true` is exempted) is not
/// offered.
fn keep_exempted_fields(report: &mut ObjectReport) {
    let exempted: Vec<crate::yaml::Span> = report
        .exempted
        .iter()
        .flat_map(|(violation, _)| violation.locations.iter().map(|l| l.span))
        .filter(|span| span.start < span.end)
        .collect();
    if exempted.is_empty() {
        return;
    }
    let touches = |edit: &crate::patch::TextEdit| {
        exempted
            .iter()
            .any(|span| edit.span.start < span.end && span.start < edit.span.end)
    };
    for location in report.violations.iter_mut().flat_map(|v| &mut v.locations) {
        if location
            .fix
            .as_ref()
            .is_some_and(|fix| fix.edits.iter().any(touches))
        {
            location.fix = None;
        }
    }
}

/// Exemptions are podsec's, not PSA's: PSA enforces a whole level and knows no per-check exemption. So an
/// exempted finding that fails the enforce mode, where the cluster enforces it (a Namespace label, the
/// admission configuration), goes back among the violations, and its exemption gets a diagnostic saying the
/// cluster will refuse the pods anyway, unless the project file says the cluster enforces podsec's exported
/// admission policy instead. Returns the checks whose exemptions were refused.
fn refuse_cluster_enforced_exemptions(
    report: &mut ObjectReport,
    resolved: &ResolvedPolicy,
    options: &Options<'_>,
    annotations: &[crate::sources::AnnotationExemption],
    analysis: &mut Analysis,
) -> Vec<&'static str> {
    let exported = options.enforced_by_admission_policy();
    let enforce = resolved
        .modes
        .iter()
        .find(|(mode, policy)| *mode == Mode::Enforce && policy.by_cluster);
    let Some((_, enforce)) = enforce.filter(|_| !exported) else {
        return Vec::new();
    };
    let (refused, honoured): (Vec<_>, Vec<_>) = std::mem::take(&mut report.exempted)
        .into_iter()
        .partition(|(violation, _)| violation.mode == Mode::Enforce);
    report.exempted = honoured;
    let mut checks = Vec::new();
    let pods = if report.kind == "Pod" {
        "this pod"
    } else {
        "its pods"
    };
    let namespace = report
        .namespace
        .as_deref()
        .map(|ns| format!("namespace {ns:?}"))
        .unwrap_or_else(|| "the cluster".to_string());
    for (violation, reason) in refused {
        let at = annotations
            .iter()
            .find(|a| a.check == violation.check.id)
            .map(|a| a.span)
            .or_else(|| violation.locations.first().map(|l| l.span))
            .unwrap_or(report.header);
        analysis.config_problems.push(ConfigProblem {
            code: "exemption-not-enforced",
            severity: Severity::Warning,
            message: format!(
                "PSA has no per-check exemption: {namespace} enforces {} ({}), so the cluster will reject {pods} \
                 for {} whatever this exemption says; relax the namespace's level, or enforce podsec's policy in \
                 the cluster (`podsec export vap`, then `enforcedByAdmissionPolicy: true` in .podsec.yaml)",
                enforce.policy, enforce.source, violation.check.id
            ),
            span: at,
        });
        checks.push(violation.check.id);
        report.refused_exemptions.push((violation.check.id, reason));
        match report
            .violations
            .iter_mut()
            .find(|v| v.check.id == violation.check.id)
        {
            Some(kept) => {
                kept.locations.extend(violation.locations);
                kept.locations.sort_by_key(|l| l.span.start);
            }
            None => report.violations.push(violation),
        }
    }
    checks
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
        rendered: None,
        verdict_elsewhere: false,
        span: object.object.span(),
        document: document.index,
        policy,
        modes: vec![(
            Mode::Enforce,
            ModePolicy {
                policy,
                source: String::from("the policy given"),
                by_cluster: false,
                origin: crate::policy::PolicyOrigin::Default,
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
        refused_exemptions: Vec::new(),
        controllers: super::owners::controllers(object.object),
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
    let mut gate = layout.map(|_| FixGate::new(document, object));
    let containers = ContainerIndex::new(&object.pod);
    let violations = checks_for(policy)
        .iter()
        .copied()
        .filter_map(|check| {
            let violation = (check.evaluate)(&object.pod, minor)?;
            // Aliases of one container (`- *app` thousands of times) give the same location once per
            // alias: one field of the text, one finding.
            let mut seen = std::collections::HashSet::new();
            let distinct: Vec<Loc> = violation
                .locations
                .iter()
                .copied()
                .filter(|loc| seen.insert(*loc))
                .collect();
            let locations = distinct
                .iter()
                .map(|loc| {
                    let mut location = locate(document, object, *loc);
                    let container = containers.at(document, *loc);
                    location.container = container
                        .and_then(|index| object.pod.containers.get(index))
                        .map(|c| c.name.to_string());
                    if distinct.len() > 1 {
                        location.detail =
                            detail_at(check, &object.pod, container, document, *loc, minor, &location)
                                .filter(|detail| *detail != violation.detail);
                    }
                    if let (Some(layout), Some(fix)) = (layout, check.fix) {
                        let context = FixContext {
                            document,
                            layout,
                            pod: &object.pod,
                            loc: *loc,
                        };
                        location.fix = fix(&context)
                            .filter(|fix| gate.as_mut().is_some_and(|gate| gate.keeps_object_valid(fix)));
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

/// What a fix must not do to its object: produce YAML that no longer reads, or a refusal of the API server
/// that the object did not already have (`crate::validation`). Each fix is applied to its document's text
/// and the document read again; so that an object with thousands of fixes stays linear in cost, the
/// reading is bounded per object, and past the budget fixes are not offered (never offered unchecked).
struct FixGate<'a, 'd> {
    document: &'a Document<'d>,
    /// Which pod-bearing object of the document, in source order.
    ordinal: Option<usize>,
    before: Vec<crate::validation::Rejection>,
    /// Bytes that may still be read again for this object.
    budget: usize,
}

/// How many bytes the fixes of one object may read again in all (64 readings of a 1 MB document).
const FIX_GATE_BUDGET: usize = 64 << 20;

impl<'a, 'd> FixGate<'a, 'd> {
    fn new(document: &'a Document<'d>, object: &PodObject<'_>) -> Self {
        let ordinal = crate::workload::pod_objects(document)
            .iter()
            .position(|o| o.object.id() == object.object.id());
        Self {
            document,
            ordinal,
            before: crate::validation::rejections(document, object),
            budget: FIX_GATE_BUDGET,
        }
    }

    fn keeps_object_valid(&mut self, fix: &crate::fix::Fix) -> bool {
        let span = self.document.span;
        let Some(original) = self.document.text.get(span.start..span.end) else {
            return false;
        };
        if original.len() > self.budget {
            return false;
        }
        self.budget -= original.len();
        let mut edits = Vec::with_capacity(fix.edits.len());
        for edit in &fix.edits {
            if edit.span.start < span.start || edit.span.end > span.end {
                return false;
            }
            let mut moved = edit.clone();
            moved.span = crate::yaml::Span::new(edit.span.start - span.start, edit.span.end - span.start);
            edits.push(moved);
        }
        let fixed = crate::patch::apply(original, &edits);
        let whole = crate::yaml::Span::new(0, fixed.len());
        let Some(document) = crate::yaml::read_document(
            &fixed,
            self.document.index,
            whole,
            &crate::yaml::Limits::default(),
        ) else {
            return false;
        };
        if document.error.is_some() {
            return false;
        }
        let objects = crate::workload::pod_objects(&document);
        let Some(object) = self.ordinal.and_then(|i| objects.get(i)) else {
            return false;
        };
        let after = crate::validation::rejections(&document, object);
        !crate::validation::adds_rejection(&self.before, &after)
    }
}

/// PSA's detail for one location of a violation with several: the check evaluated on the pod with only
/// the location's container (so it names that container alone), then only the parts of a detail with
/// several (`…must set X; …must not include "NET_ADMIN"…`) that concern the field: for a field that is
/// present, the parts that name its value or forbid a setting; for one that is missing, the parts that
/// require one.
fn detail_at(
    check: &Check,
    pod: &crate::pod::Pod<'_>,
    container: Option<usize>,
    document: &Document<'_>,
    loc: Loc,
    minor: u32,
    location: &Location,
) -> Option<String> {
    let detail = match container {
        Some(index) => (check.evaluate)(&pod.with_only_container(index), minor)?.detail,
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
