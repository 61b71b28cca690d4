//! Chart templates: the merge of the two sides of their `else`s, and findings on templated values set
//! aside as information.

use super::locate::written_at;
use super::{Analysis, Location, ObjectReport, Problem};
use crate::helm;
use crate::policy::Severity;
use crate::yaml::NodeRef;

/// What the other branch of a template's `else`s adds to the first: objects, findings and locations the
/// first did not see. Its fixes are dropped (they were computed on text where the first branch is set
/// aside); findings stay in PSA's run order.
pub(super) fn merge_branch(mut first: Analysis, other: Analysis) -> Analysis {
    let same_objects = first.objects.len() == other.objects.len()
        && first
            .objects
            .iter()
            .zip(&other.objects)
            .all(|(a, b)| a.document == b.document && a.header == b.header);
    if !same_objects {
        // A branch that holds whole objects or document markers: the first reading stands.
        return first;
    }
    for (object, branch) in first.objects.iter_mut().zip(other.objects) {
        for mut violation in branch.violations {
            for location in &mut violation.locations {
                location.fix = None;
            }
            match object
                .violations
                .iter_mut()
                .find(|v| v.check.id == violation.check.id && v.mode == violation.mode)
            {
                Some(known) => {
                    for location in violation.locations {
                        if !known.locations.iter().any(|l| l.span == location.span) {
                            known.locations.push(location);
                        }
                    }
                }
                None => object.violations.push(violation),
            }
        }
        object.violations.sort_by_key(|v| {
            let order = crate::checks::checks_for(v.policy);
            (v.mode, order.iter().position(|c| c.id == v.check.id))
        });
        for line in branch.mode_lines {
            let Some(known) = object.mode_lines.iter_mut().find(|l| l.policy == line.policy) else {
                continue;
            };
            for failure in line.failures {
                if !known.failures.iter().any(|f| f.check.id == failure.check.id) {
                    known.failures.push(failure);
                }
            }
            let order = crate::checks::checks_for(known.policy);
            known
                .failures
                .sort_by_key(|f| order.iter().position(|c| c.id == f.check.id));
        }
    }
    for problem in other.problems {
        if !first
            .problems
            .iter()
            .any(|p| p.code == problem.code && p.span == problem.span && p.message == problem.message)
        {
            first.problems.push(problem);
        }
    }
    // An exemption that one side uses is used: only what neither side needs is reported.
    first
        .config_problems
        .retain(|p| p.code != "unused-exemption" || other.config_problems.contains(p));
    for problem in other.config_problems {
        if problem.code != "unused-exemption" && !first.config_problems.contains(&problem) {
            first.config_problems.push(problem);
        }
    }
    for used in other.used_exemptions {
        if !first.used_exemptions.contains(&used) {
            first.used_exemptions.push(used);
        }
    }
    first
}

/// In a chart template, a finding on a field whose value is a template action (`add: [{{ .Values.cap }}]`,
/// `privileged: {{ .Values.privileged }}`) cannot be known before rendering: it is not reported as a
/// violation, but as information that the verdict depends on that action. A field that is really missing
/// is still a finding, whatever the actions around it.
pub(super) fn set_aside_template_values(
    report: &mut ObjectReport,
    object: NodeRef<'_>,
    neutralised: &helm::Neutralised,
    document: usize,
    analysis: &mut Analysis,
) {
    // The action a finding depends on: in its field's value, or in the value of a field it takes for
    // missing (a templated `allowPrivilegeEscalation:` is no `false` to the check).
    let action_of = |location: &Location| -> Option<String> {
        let span = if location.missing {
            written_at(object, &location.path)?.span()
        } else {
            location.span
        };
        neutralised.action_within(span).map(str::to_string)
    };
    for violation in &mut report.violations {
        let mut known = Vec::new();
        for location in std::mem::take(&mut violation.locations) {
            let Some(action) = action_of(&location) else {
                known.push(location);
                continue;
            };
            analysis.problems.push(Problem {
                code: "helm-value",
                message: format!(
                    "Helm template: {} depends on `{action}`, known only once the chart is rendered \
                     (check the rendered chart: helm template … | podsec check -)",
                    violation.check.id
                ),
                span: location.span,
                document,
                severity: Severity::Information,
            });
        }
        violation.locations = known;
    }
    report.violations.retain(|v| !v.locations.is_empty());
}
