//! Chart templates: the merge of the two sides of their `else`s, and findings on templated values set
//! aside as information: a value that is an action, or a field that is missing where an action that
//! writes YAML (`{{- toYaml .Values.podSecurityContext | nindent 8 }}`) could write it.

use super::locate::{PathStep, path_steps, written_at};
use super::{Analysis, Location, ObjectReport, Problem};
use crate::helm;
use crate::policy::Severity;
use crate::workload::PodObject;
use crate::yaml::{Document, NodeKind, NodeRef, Span};

/// A top-level `kind:` that is an action naming pod-bearing kinds (`kind: {{ ternary "StatefulSet"
/// "Deployment" .Values.sts }}`) reads as the first it names: their pods read alike, and the object is
/// checked instead of skipped as a kind unknown. Its placeholder is overwritten with that kind, in place.
pub(super) fn read_templated_kinds(template: &str, neutralised: &mut helm::Neutralised) {
    let mut written: Vec<(Span, &str)> = Vec::new();
    for (span, (_, action)) in neutralised.inline_spans.iter().zip(&neutralised.inline) {
        let line_start = template
            .get(..span.start)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let ends_line = template
            .get(span.end..)
            .and_then(|rest| rest.split('\n').next())
            .is_some_and(|rest| rest.trim().is_empty());
        if template.get(line_start..span.start) != Some("kind: ") || !ends_line {
            continue;
        }
        let named = action
            .split('"')
            .skip(1)
            .step_by(2)
            .find(|name| crate::workload::reads_kind(name) && !name.ends_with("List"));
        if let Some(kind) = named.filter(|kind| kind.len() <= span.end - span.start) {
            written.push((*span, kind));
        }
    }
    for (span, kind) in written {
        let padded = format!("{kind:<width$}", width = span.end - span.start);
        if neutralised.text.is_char_boundary(span.start) && neutralised.text.is_char_boundary(span.end) {
            neutralised.text.replace_range(span.start..span.end, &padded);
        }
    }
}

/// Where a structural action of a template writes YAML of a shape known only once rendered.
pub(super) struct Insertion<'d> {
    /// The node it writes into: a block mapping or sequence (among whose entries it stands), the null
    /// value of the key it follows (`securityContext:` then the action), or the placeholder it is.
    pub node: NodeRef<'d>,
    /// Where the action is.
    pub at: usize,
}

/// The insertions of `document`'s structural actions, read on its neutralised tree. An action inside a
/// scalar (a block scalar's script, a quoted string) writes text, not structure: it has none.
pub(super) fn insertions<'d>(
    template: &str,
    document: &'d Document<'d>,
    neutralised: &helm::Neutralised,
) -> Vec<Insertion<'d>> {
    let inside = |at: &&usize| document.span.start <= **at && **at < document.span.end;
    neutralised
        .structural
        .iter()
        .filter(inside)
        .filter_map(|at| {
            let inline = neutralised.inline_spans.iter().any(|span| span.start == *at);
            let node = if inline {
                // `securityContext: {{- toYaml .Values.x | nindent 8 }}`: the key's value is the placeholder.
                let found = document.node_at(*at)?;
                Some(document.node_ref(found.value)).filter(|node| {
                    !matches!(node.kind(), Some(NodeKind::Scalar { style, .. }) if *style != crate::yaml::ScalarKind::Plain)
                })?
            } else {
                written_into(document, *at, helm::insertion_column(template, *at))?
            };
            Some(Insertion { node, at: *at })
        })
        .collect()
}

/// The column of byte `offset` in its line.
fn column_of(text: &str, offset: usize) -> usize {
    offset.saturating_sub(
        text.get(..offset)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1),
    )
}

/// The collection whose entries (or items) stand at `column` where the action at `at` is, going down
/// from the root as YAML's indentation does; or the null value of the key the action follows.
fn written_into<'d>(document: &'d Document<'d>, at: usize, column: usize) -> Option<NodeRef<'d>> {
    let text = document.text;
    let mut node = document.root()?;
    // Bounded by the nesting of the tree; each step goes one level down.
    for _ in 0..document.nodes.len() {
        let (first_column, last_before) = match node.kind()? {
            NodeKind::Mapping { flow: false, .. } => {
                let first = node.written_entries().next()?;
                let last = node
                    .written_entries()
                    .filter(|e| e.key.span().start < at)
                    .last()
                    .map(|e| e.written_value);
                (column_of(text, first.key.span().start), last)
            }
            NodeKind::Sequence { items, flow: false } => {
                let first = document.node_ref(*document.items_of(*items).first()?);
                let start = first.span().start;
                let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
                let dash = line_start + text.get(line_start..start)?.rfind('-')?;
                let last = document
                    .items_of(*items)
                    .iter()
                    .rev()
                    .map(|id| document.node_ref(*id))
                    .find(|item| item.span().start < at);
                (column_of(text, dash), last)
            }
            _ => return None,
        };
        if column == first_column {
            return Some(node);
        }
        if column < first_column {
            return None;
        }
        let value = last_before?;
        match value.kind()? {
            NodeKind::Mapping { .. } | NodeKind::Sequence { .. } => node = value,
            NodeKind::Scalar { .. } if value.is_null() => return Some(value),
            // A scalar's text, or an alias (its target is written elsewhere).
            _ => return None,
        }
    }
    None
}

/// The deepest node written on `path` from `from`, null values included.
fn deepest_written<'d>(from: NodeRef<'d>, path: &str) -> NodeRef<'d> {
    let mut node = from;
    for step in path_steps(path) {
        let next = match step {
            Some(PathStep::Key(key)) => node
                .entries()
                .filter(|e| e.key.as_str() == Some(key))
                .last()
                .map(|e| e.value),
            Some(PathStep::Index(index)) => node.items().nth(index),
            None => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    node
}

/// Whether an insertion lies in `region`: its action, or the node it writes into.
pub(super) fn inserts_within(insertions: &[Insertion<'_>], region: Span) -> bool {
    let within = |offset: usize| region.start <= offset && offset <= region.end;
    insertions
        .iter()
        .any(|i| within(i.at) || within(i.node.span().start))
}

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
    for unread in other.unread_templates {
        if !first.unread_templates.contains(&unread) {
            first.unread_templates.push(unread);
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
/// violation, but as information that the verdict depends on that action. So is a finding on a missing
/// field that a structural action could write: where the field would be (`securityContext:` then
/// `{{- toYaml .Values.securityContext | nindent 12 }}`), or where a field of the check that would
/// settle it would be (an `include` among the pod spec's keys may write `securityContext.runAsNonRoot`).
/// A literal value is a finding whatever the actions around it, and so is a field that is missing where
/// no action writes.
pub(super) fn set_aside_template_values(
    report: &mut ObjectReport,
    object: &PodObject<'_>,
    template: &str,
    neutralised: &helm::Neutralised,
    insertions: &[Insertion<'_>],
    document: usize,
    analysis: &mut Analysis,
) {
    // The action a finding depends on: in its field's value, or in the value of a field it takes for
    // missing (a templated `allowPrivilegeEscalation:` is no `false` to the check), or one that writes
    // where the missing field, or a pod-level field of the check, would be.
    let action_of = |fields: &[&str], location: &Location| -> Option<String> {
        if !location.missing {
            return neutralised.action_within(location.span).map(str::to_string);
        }
        if let Some(action) =
            written_at(object.object, &location.path).and_then(|node| neutralised.action_within(node.span()))
        {
            return Some(action.to_string());
        }
        let pod_level = fields
            .iter()
            .filter(|field| !field.contains('['))
            .map(|field| (object.template, *field));
        std::iter::once((object.object, location.path.as_str()))
            .chain(pod_level)
            .find_map(|(from, path)| {
                let reached = deepest_written(from, path).id();
                insertions.iter().find(|i| i.node.id() == reached)
            })
            .map(|insertion| helm::action_at(template, insertion.at).to_string())
    };
    for violation in &mut report.violations {
        let mut known = Vec::new();
        for location in std::mem::take(&mut violation.locations) {
            let Some(action) = action_of(violation.check.fields, &location) else {
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
