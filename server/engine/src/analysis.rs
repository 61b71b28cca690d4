//! The one entry point the CLI and the server share: text in, verdicts with locations out.

use crate::checks::{Check, checks_for};
use crate::fix::{Fix, FixContext};
use crate::helm;
use crate::patch::Layout;
use crate::pod::Loc;
use crate::policy::Policy;
use crate::policy::{
    ConfigProblem, ExemptionTarget, Mode, ModePolicy, PolicyContext, ResolvedPolicy, Severity,
};
use crate::sources::annotation_exemptions;
use crate::workload::{PodObject, pod_objects};
use crate::yaml::{Document, Limits, NodeKind, NodeRef, Span, YamlErrorKind, document_ranges, read_document};
use std::collections::HashMap;

/// What to analyse with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'c> {
    /// The policy every object is checked against, when there is no [`Options::context`].
    pub policy: Policy,
    /// Where policies and exemptions come from (namespace labels, project file, admission
    /// configuration); when set, [`Options::policy`] is not used.
    pub context: Option<&'c PolicyContext>,
    /// Parser limits.
    pub limits: Limits,
    /// Whether to compute each finding's fix (for code actions and `podsec fix`, not for diagnostics).
    pub with_fixes: bool,
    /// The namespace a Kustomize `namespace:` sets on every object of the text (it overrides theirs).
    pub namespace_override: Option<&'c str>,
}

/// Everything found in one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Every pod-bearing object, violating or not, in source order.
    pub objects: Vec<ObjectReport>,
    /// Documents that could not be read.
    pub problems: Vec<Problem>,
    /// Problems with exemption annotations in this text.
    pub config_problems: Vec<ConfigProblem>,
    /// The project-file exemptions that matched a finding here (by their span in the project file).
    pub used_exemptions: Vec<Span>,
}

/// A document that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `syntax-error` or `limit-exceeded`.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Which document of the stream, from 0.
    pub document: usize,
    /// Error for unreadable YAML; information for a Helm template document podsec skips.
    pub severity: Severity,
}

/// One pod-bearing object and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectReport {
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The `kind: …` entry.
    pub header: Span,
    /// The chart template it was rendered from (Helm's `# Source:` comment), if any.
    pub source: Option<String>,
    /// The whole object.
    pub span: Span,
    /// Which document of the stream, from 0.
    pub document: usize,
    /// The policy of its strictest mode (enforce when set).
    pub policy: Policy,
    /// The policy of every mode that checks something, with where it came from.
    pub modes: Vec<(Mode, ModePolicy)>,
    /// The modes whose policy is privileged (they check nothing), with where that came from.
    pub privileged_modes: Vec<(Mode, ModePolicy)>,
    /// Why the admission configuration exempts the whole object, if it does.
    pub exempt: Option<String>,
    /// Forbidden results: enforce mode first, in PSA's run order, then what only warn and audit add.
    /// One per check (at its strictest mode): what the per-field diagnostics show.
    pub violations: Vec<CheckViolation>,
    /// PSA's evaluation of each mode that checks something, in full: one line per distinct
    /// `level:version` (PSA evaluates each once and reuses the result for a mode with the same one).
    pub mode_lines: Vec<ModeLine>,
    /// Violations that an exemption covers, with its reason.
    pub exempted: Vec<(CheckViolation, String)>,
}

/// PSA's evaluation of an object at one `level:version`, for the modes that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeLine {
    /// The modes evaluated at this policy, in order (enforce, warn, audit).
    pub modes: Vec<Mode>,
    /// The level and version.
    pub policy: Policy,
    /// Every check that fails at this policy, in PSA's run order: its reason and detail.
    pub failures: Vec<ModeFailure>,
}

/// One failing check of a [`ModeLine`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeFailure {
    /// The check.
    pub check: &'static Check,
    /// PSA's reason.
    pub reason: String,
    /// PSA's detail.
    pub detail: String,
}

impl ModeLine {
    /// PSA's aggregated detail: every failure's `reason (detail)`, joined with `, `.
    pub fn detail(&self) -> String {
        self.failures
            .iter()
            .map(|f| {
                let reason = if f.reason.is_empty() {
                    "unknown forbidden reason"
                } else {
                    &f.reason
                };
                if f.detail.is_empty() {
                    reason.to_string()
                } else {
                    format!("{reason} ({})", f.detail)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// PSA's aggregated reason: the reasons joined with `, `.
    pub fn reason(&self) -> String {
        self.failures
            .iter()
            .map(|f| f.reason.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `would violate PodSecurity "restricted:latest": …`, as kubectl prints it after `Warning: `.
    pub fn message(&self) -> String {
        format!("would violate PodSecurity \"{}\": {}", self.policy, self.detail())
    }
}

/// One forbidden check result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckViolation {
    /// The check.
    pub check: &'static Check,
    /// PSA's reason.
    pub reason: String,
    /// PSA's detail.
    pub detail: String,
    /// One location per offending field.
    pub locations: Vec<Location>,
    /// The mode that reports it, which gives its severity.
    pub mode: Mode,
    /// The policy of that mode.
    pub policy: Policy,
}

/// Where a violation is, as a span and as a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The text to underline.
    pub span: Span,
    /// The field's path from the object (`spec.template.spec.containers[0].securityContext.privileged`).
    pub path: String,
    /// Whether the field is missing (the span then shows the container or pod spec that lacks it).
    pub missing: bool,
    /// The repair, when asked for ([`Options::with_fixes`]) and one exists.
    pub fix: Option<Fix>,
    /// The container the field belongs to, if any.
    pub container: Option<String>,
}

impl CheckViolation {
    /// `reason (detail)`, or just `reason` when the detail is empty: one part of PSA's message.
    pub fn message(&self) -> String {
        let reason = if self.reason.is_empty() {
            "unknown forbidden reason"
        } else {
            &self.reason
        };
        if self.detail.is_empty() {
            reason.to_string()
        } else {
            format!("{reason} ({})", self.detail)
        }
    }
}

impl CheckViolation {
    /// Its severity, from its mode.
    pub fn severity(&self) -> Severity {
        Severity::of(self.mode)
    }
}

impl ObjectReport {
    /// Takes out of the mode lines the checks no longer reported at all (exempted, or set aside in a
    /// chart template): a line says what podsec reports, in PSA's words.
    fn drop_unreported_failures(&mut self) {
        let violations = &self.violations;
        for line in &mut self.mode_lines {
            line.failures
                .retain(|f| violations.iter().any(|v| v.check.id == f.check.id));
        }
    }

    /// What a project-file exemption is matched on.
    pub fn exemption_target(&self) -> ExemptionTarget<'_> {
        ExemptionTarget {
            namespace: self.namespace.as_deref(),
            kind: &self.kind,
            name: self.name.as_deref(),
        }
    }

    /// The line of `mode`, if it checks something.
    fn line_of(&self, mode: Mode) -> Option<&ModeLine> {
        self.mode_lines.iter().find(|l| l.modes.contains(&mode))
    }

    /// PSA's aggregated detail for one mode: every failure's `reason (detail)` at its policy.
    pub fn aggregated_detail(&self, mode: Mode) -> String {
        self.line_of(mode).map(ModeLine::detail).unwrap_or_default()
    }

    /// PSA's aggregated reason for one mode: the reasons joined with `, `.
    pub fn aggregated_reason(&self, mode: Mode) -> String {
        self.line_of(mode).map(ModeLine::reason).unwrap_or_default()
    }

    /// PSA's message for each `level:version` that fails, by the first mode that uses it:
    /// `would violate PodSecurity "restricted:latest": …` (kubectl prints it after `Warning: `; an
    /// enforce denial says `violates` after the pod's name). Each is PSA's whole evaluation at that
    /// policy, whatever another mode already reports.
    pub fn messages(&self) -> Vec<(Mode, String)> {
        self.mode_lines
            .iter()
            .filter(|l| !l.failures.is_empty())
            .filter_map(|l| Some((*l.modes.first()?, l.message())))
            .collect()
    }

    /// Where the line of `mode` comes from, naming every mode that shares it: `enforce from Namespace
    /// "web", …; warn from …`. A bare Pod that enforce denies gets no warning from PSA: its warn line is
    /// podsec's own addition, and says so.
    pub fn line_source(&self, mode: Mode) -> Option<String> {
        let line = self.line_of(mode)?;
        let denied = self.kind == "Pod"
            && self
                .line_of(Mode::Enforce)
                .is_some_and(|l| !l.failures.is_empty());
        let parts: Vec<String> = line
            .modes
            .iter()
            .map(|m| {
                let source = self.source(*m).unwrap_or("the default");
                let added = if denied && *m == Mode::Warn {
                    " (PSA gives a Pod it denies no warning: shown by podsec)"
                } else {
                    ""
                };
                format!("{} from {source}{added}", m.as_str())
            })
            .collect();
        Some(parts.join("; "))
    }

    /// The message of the strictest mode with violations (see [`ObjectReport::messages`]).
    pub fn warning(&self) -> String {
        self.messages()
            .into_iter()
            .next()
            .map(|(_, m)| m)
            .unwrap_or_default()
    }

    /// Where the policy of `mode` came from.
    pub fn source(&self, mode: Mode) -> Option<&str> {
        self.modes
            .iter()
            .find(|(m, _)| *m == mode)
            .map(|(_, p)| p.source.as_str())
    }

    /// A short human name: `Deployment "web"` or `Deployment`.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {name:?}", self.kind),
            None => self.kind.clone(),
        }
    }
}

/// Analyses every document of `text`. Pure: the same text and options give the same result.
pub fn analyze(text: &str, options: &Options<'_>) -> Analysis {
    analyze_documents(text, options, None)
}

/// What the previous analysis of a text found per document, kept by a caller that analyses the same
/// text again after each small change (the language server, on every keystroke). Most of an analysis
/// is parsing, and an edit changes one document: the others are taken from here, moved to their new
/// offsets, instead of being parsed again.
#[derive(Debug, Default)]
pub struct Reuse {
    /// The options the entries were computed with; different options empty the cache.
    options: Option<ReuseKey>,
    /// Each analysed document's findings by its text (the text of its range, markers included), with
    /// spans relative to the document's start (except `used_exemptions`, which are in the project file).
    documents: HashMap<String, Analysis>,
    /// How many documents have been taken from the cache instead of parsed, over its life.
    hits: u64,
}

impl Reuse {
    /// How many documents have been taken from the cache instead of parsed, over its life.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

#[derive(Debug, PartialEq)]
struct ReuseKey {
    policy: Policy,
    context: Option<PolicyContext>,
    limits: Limits,
    namespace_override: Option<String>,
}

/// [`analyze`], taking unchanged documents from `reuse` and leaving this text's findings there for
/// the next call. The result is always equal to `analyze(text, options)` (the tests hold it to that).
/// Fixes and chart templates are not reused (their edits and placeholders depend on the whole text).
pub fn analyze_reusing(text: &str, options: &Options<'_>, reuse: &mut Reuse) -> Analysis {
    analyze_documents(text, options, Some(reuse))
}

/// Both entry points; `reuse` is `None` for a one-off analysis (nothing is kept).
fn analyze_documents(text: &str, options: &Options<'_>, reuse: Option<&mut Reuse>) -> Analysis {
    if helm::is_template(text) {
        // A chart template parses with its actions neutralised; every span still points into the
        // template. Each side of its `else`s is a variant of its own, and both are reported.
        let mut variants = helm::branch_variants(text)
            .into_iter()
            .map(|variant| analyze_neutralised(text, Some(&helm::neutralise(&variant)), options, None));
        let first = variants.next().unwrap_or_default();
        return variants.fold(first, merge_branch);
    }
    analyze_neutralised(text, None, options, reuse)
}

/// What the other branch of a template's `else`s adds to the first: objects, findings and locations the
/// first did not see. Its fixes are dropped (they were computed on text where the first branch is set
/// aside); findings stay in PSA's run order.
fn merge_branch(mut first: Analysis, other: Analysis) -> Analysis {
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
    for problem in other.config_problems {
        if !first.config_problems.contains(&problem) {
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

/// The analysis of `text`, or of a template through its `neutralised` copy.
fn analyze_neutralised(
    text: &str,
    neutralised: Option<&helm::Neutralised>,
    options: &Options<'_>,
    reuse: Option<&mut Reuse>,
) -> Analysis {
    let mut analysis = Analysis::default();
    let reusable = neutralised.is_none() && !options.with_fixes;
    let mut cache = reuse.and_then(|reuse| {
        let key = reusable.then(|| ReuseKey {
            policy: options.policy,
            context: options.context.cloned(),
            limits: options.limits,
            namespace_override: options.namespace_override.map(str::to_string),
        });
        if key.is_none() || reuse.options != key {
            reuse.documents.clear();
            reuse.options = key;
        }
        reusable.then_some(reuse)
    });
    let mut previous = cache
        .as_mut()
        .map(|reuse| std::mem::take(&mut reuse.documents))
        .unwrap_or_default();
    let parsed = neutralised.as_ref().map_or(text, |n| n.text.as_str());
    for (index, range) in document_ranges(parsed, &options.limits).into_iter().enumerate() {
        let document_text = parsed.get(range.start..range.end).unwrap_or("");
        // The index matters only to the document-count limit, which a cached entry never crossed.
        let countable = index < options.limits.max_documents;
        if let Some(found) = previous.remove(document_text).filter(|_| countable) {
            let mut moved = found.clone();
            moved.move_spans(|span| Span::new(span.start + range.start, span.end + range.start));
            moved.set_document(index);
            analysis.append(moved);
            if let Some(reuse) = cache.as_mut() {
                reuse.documents.insert(document_text.to_string(), found);
                reuse.hits += 1;
            }
            continue;
        }
        let mut findings = Analysis::default();
        // One document at a time: only one tree is ever in memory.
        if let Some(document) = read_document(parsed, index, range, &options.limits) {
            analyse_document(text, &document, neutralised, options, &mut findings);
        }
        if let Some(reuse) = cache.as_mut().filter(|_| countable) {
            let mut relative = findings.clone();
            relative.move_spans(|span| {
                Span::new(
                    span.start.saturating_sub(range.start),
                    span.end.saturating_sub(range.start),
                )
            });
            reuse.documents.insert(document_text.to_string(), relative);
        }
        analysis.append(findings);
    }
    analysis
}

impl Analysis {
    /// Adds `other`'s findings after these.
    fn append(&mut self, other: Analysis) {
        self.objects.extend(other.objects);
        self.problems.extend(other.problems);
        self.config_problems.extend(other.config_problems);
        self.used_exemptions.extend(other.used_exemptions);
    }

    /// Says every finding is in the document at `index` (findings of one document, reused elsewhere).
    fn set_document(&mut self, index: usize) {
        for object in &mut self.objects {
            object.document = index;
        }
        for problem in &mut self.problems {
            problem.document = index;
        }
    }

    /// Applies `move_span` to every span in the analysed text (not to `used_exemptions`, which are in the
    /// project file).
    fn move_spans(&mut self, move_span: impl Fn(Span) -> Span) {
        for object in &mut self.objects {
            object.header = move_span(object.header);
            object.span = move_span(object.span);
            let violations = object
                .violations
                .iter_mut()
                .chain(object.exempted.iter_mut().map(|(v, _)| v));
            for location in violations.flat_map(|v| &mut v.locations) {
                location.span = move_span(location.span);
                for edit in location.fix.iter_mut().flat_map(|f| &mut f.edits) {
                    edit.span = move_span(edit.span);
                }
            }
        }
        for problem in &mut self.problems {
            problem.span = move_span(problem.span);
        }
        for problem in &mut self.config_problems {
            problem.span = move_span(problem.span);
        }
    }
}

/// Adds what one document holds to `analysis`: its objects' verdicts, or why it was not analysed.
fn analyse_document(
    text: &str,
    document: &Document<'_>,
    neutralised: Option<&helm::Neutralised>,
    options: &Options<'_>,
    analysis: &mut Analysis,
) {
    if let Some(neutralised) = &neutralised {
        let inside = |at: &&usize| document.span.start <= **at && **at < document.span.end;
        if let Some(at) = neutralised.structural.iter().find(inside) {
            analysis.problems.push(Problem {
                code: "helm-template",
                message: "Helm template: this document builds YAML with template actions (toYaml, include, …), so \
                          podsec cannot know its pods; check the rendered chart: helm template … | podsec check -"
                    .to_string(),
                span: Span::point(*at),
                document: document.index,
                severity: Severity::Information,
            });
            return;
        }
    }
    if let Some(error) = &document.error {
        let (code, message, severity) = match (error.kind, neutralised.is_some()) {
            (YamlErrorKind::Syntax, true) => (
                "helm-template",
                format!(
                    "Helm template: not analysed, it is not YAML once its actions are set aside ({})",
                    error.message
                ),
                Severity::Information,
            ),
            (YamlErrorKind::Syntax, false) => ("syntax-error", error.message.clone(), Severity::Error),
            (YamlErrorKind::Limit, _) => ("limit-exceeded", error.message.clone(), Severity::Error),
        };
        analysis.problems.push(Problem {
            code,
            message,
            span: error.span,
            document: document.index,
            severity,
        });
        return;
    }
    let source = text
        .get(document.span.start..document.span.end)
        .and_then(helm::source_comment)
        .map(str::to_string);
    let kind = document
        .root()
        .and_then(|r| r.get("kind"))
        .and_then(|k| k.as_str());
    if let (Some("PodSecurityPolicy"), Some(root)) = (kind, document.root()) {
        analysis
            .config_problems
            .push(crate::psp::assess_one(root).problem());
    }
    let layout = options.with_fixes.then(|| Layout::of(document));
    for object in pod_objects(document) {
        let mut report = evaluate(document, &object, options, layout.as_ref(), analysis);
        report.source.clone_from(&source);
        if let Some(neutralised) = &neutralised {
            set_aside_template_values(&mut report, object.object, neutralised, document.index, analysis);
            report.drop_unreported_failures();
            // Messages and fix titles name the template's actions, not their placeholders.
            report.name = report.name.map(|n| neutralised.restore(&n));
            for violation in report
                .violations
                .iter_mut()
                .chain(report.exempted.iter_mut().map(|(v, _)| v))
            {
                violation.detail = neutralised.restore(&violation.detail);
                for fix in violation.locations.iter_mut().filter_map(|l| l.fix.as_mut()) {
                    fix.title = neutralised.restore(&fix.title);
                }
            }
            for failure in report.mode_lines.iter_mut().flat_map(|l| &mut l.failures) {
                failure.detail = neutralised.restore(&failure.detail);
            }
        }
        analysis.objects.push(report);
    }
}

/// In a chart template, a finding on a field whose value is a template action (`add: [{{ .Values.cap }}]`,
/// `privileged: {{ .Values.privileged }}`) cannot be known before rendering: it is not reported as a
/// violation, but as information that the verdict depends on that action. A field that is really missing
/// is still a finding, whatever the actions around it.
fn set_aside_template_values(
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

/// The node a location's field path names under `object` (`spec.containers[0].securityContext`,
/// `metadata.annotations["a.b/c"]`), if it is written.
fn written_at<'d>(object: NodeRef<'d>, path: &str) -> Option<NodeRef<'d>> {
    let mut node = object;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(inner) = rest.strip_prefix("[\"") {
            let end = inner.find("\"]")?;
            node = node.get(inner.get(..end)?)?;
            rest = inner.get(end + 2..)?;
        } else if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            let index: usize = inner.get(..end)?.parse().ok()?;
            node = node.items().nth(index)?;
            rest = inner.get(end + 1..)?;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            node = node.get(rest.get(..end)?)?;
            rest = rest.get(end..)?;
        }
    }
    Some(node)
}

/// Resolves an object's policy, runs every mode, and sets aside what exemptions cover.
fn evaluate(
    document: &Document<'_>,
    object: &PodObject<'_>,
    options: &Options<'_>,
    layout: Option<&Layout<'_>>,
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
            failures: checked
                .violations
                .iter()
                .map(|v| ModeFailure {
                    check: v.check,
                    reason: v.reason.clone(),
                    detail: v.detail.clone(),
                })
                .collect(),
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
                format!("{} (annotation on the object)", annotation.reason),
            ));
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
                report
                    .exempted
                    .push((exempted, format!("{} (.podsec.yaml)", exemption.reason)));
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
fn skeleton(
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
            failures: violations
                .iter()
                .map(|v| ModeFailure {
                    check: v.check,
                    reason: v.reason.clone(),
                    detail: v.detail.clone(),
                })
                .collect(),
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

/// Turns a check's symbolic location into a span and a path.
fn locate(document: &Document<'_>, object: &PodObject<'_>, loc: Loc) -> Location {
    let object_path = document.path_of(object.object.id());
    let relative = |path: String| {
        let rest = path.strip_prefix(object_path.as_str()).unwrap_or(&path);
        rest.strip_prefix('.').unwrap_or(rest).to_string()
    };
    match loc {
        Loc::Field { key, value } => {
            let key = document.node_ref(key);
            let value = document.node_ref(value);
            Location {
                span: key_and_scalar_value(key, value),
                path: relative(document.path_of(value.id())),
                missing: false,
                fix: None,
                container: None,
            }
        }
        Loc::Item { node } => {
            let item = document.node_ref(node);
            Location {
                span: first_line(document, item.span()),
                path: relative(document.path_of(node)),
                missing: false,
                fix: None,
                container: None,
            }
        }
        Loc::ContainerMissing { container, field } => {
            let item = document.node_ref(container);
            let span = match item.resolved().entry("name") {
                Some(name) => key_and_scalar_value(name.key, name.written_value),
                None => first_line(document, item.span()),
            };
            Location {
                span,
                path: format!("{}.{field}", relative(document.path_of(container))),
                missing: true,
                fix: None,
                container: None,
            }
        }
        Loc::PodMissing { field } => {
            let (span, path) = match object.pod.spec_key {
                Some(key) => (key.span(), relative(document.path_of(key.id()))),
                None => (object.pod.fallback, String::from("spec")),
            };
            Location {
                span,
                path: format!("{path}.{field}"),
                missing: true,
                fix: None,
                container: None,
            }
        }
    }
}

/// The key, and the value too when it is a scalar (or alias) on the same line: `privileged: true`.
fn key_and_scalar_value(key: NodeRef<'_>, value: NodeRef<'_>) -> Span {
    let key_span = key.span();
    let value_span = value.span();
    let scalar = matches!(
        value.kind(),
        Some(NodeKind::Scalar { .. } | NodeKind::Alias { .. })
    );
    let same_line = value_span.start >= key_span.end
        && value_span.end > value_span.start
        && key
            .document()
            .text
            .get(key_span.start..value_span.end)
            .is_some_and(|t| !t.contains('\n'));
    if scalar && same_line {
        Span::new(key_span.start, value_span.end)
    } else {
        key_span
    }
}

/// A span cut at the end of its first line, so a whole mapping item underlines only its first line.
fn first_line(document: &Document<'_>, span: Span) -> Span {
    let text = document.text.get(span.start..span.end).unwrap_or("");
    let line = text.split(['\r', '\n']).next().unwrap_or("");
    Span::new(span.start, span.start + line.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "tests fail by panicking")]
    use super::*;
    use crate::policy::{Level, Version};

    const STREAM: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: team}\nspec:\n  containers:\n  - name: ü\n    image: x\n    securityContext: {privileged: true}\n---\n# a ConfigMap is not a workload\napiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    template:\n      spec:\n        hostNetwork: true\n        containers: [{name: c, image: y}]\n---\nkind: Pod\nspec: [broken\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {privileged: true}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: team}\nspec:\n  containers:\n  - name: ü\n    image: x\n    securityContext: {privileged: true}\n";

    #[test]
    fn every_mode_line_is_psa_evaluation_at_its_own_policy() {
        // Randomised label sets (valid, invalid and missing levels and versions, warn inheriting
        // enforce) on a Namespace, and pods that fail at different levels and versions: each mode's line
        // must be exactly what a single-mode run at that policy says, whatever the other modes report.
        const PODS: &[&str] = &[
            "spec:\n  hostPID: true\n  containers:\n  - name: app\n    image: x\n",
            "spec:\n  containers:\n  - name: app\n    image: x\n    securityContext: {privileged: true, runAsUser: 0}\n",
            "spec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, sysctls: [{name: kernel.msgmax, value: \"1\"}]}\n  containers:\n  - name: app\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n",
            "spec:\n  securityContext: {windowsOptions: {hostProcess: true}}\n  hostNetwork: true\n  containers:\n  - name: app\n    image: x\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n",
        ];
        const LEVELS: &[Option<&str>] = &[
            None,
            Some("privileged"),
            Some("baseline"),
            Some("restricted"),
            Some("bogus"),
        ];
        const VERSIONS: &[Option<&str>] = &[
            None,
            Some("latest"),
            Some("v1.0"),
            Some("v1.22"),
            Some("v1.25"),
            Some("v1.99"),
            Some("1.25"),
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..400 {
            let mut labels = String::new();
            for mode in ["enforce", "warn", "audit"] {
                if let Some(level) = LEVELS[next(LEVELS.len())] {
                    labels.push_str(&format!("    pod-security.kubernetes.io/{mode}: {level}\n"));
                }
                if let Some(version) = VERSIONS[next(VERSIONS.len())] {
                    labels.push_str(&format!(
                        "    pod-security.kubernetes.io/{mode}-version: \"{version}\"\n"
                    ));
                }
            }
            if labels.is_empty() {
                labels.push_str("    other: label\n");
            }
            let pod = PODS[next(PODS.len())];
            let kind = if round % 2 == 0 { "Pod" } else { "Deployment" };
            let object = if kind == "Pod" {
                format!("kind: Pod\nmetadata: {{name: p, namespace: ns}}\n{pod}")
            } else {
                let indented: String = pod.lines().map(|l| format!("    {l}\n")).collect();
                format!(
                    "kind: Deployment\nmetadata: {{name: p, namespace: ns}}\nspec:\n  template:\n{indented}"
                )
            };
            let text = format!("kind: Namespace\nmetadata:\n  name: ns\n  labels:\n{labels}---\n{object}");
            let context = PolicyContext {
                namespaces: crate::policy::namespace_labels(&text, &Limits::default()),
                ..PolicyContext::default()
            };
            let analysis = analyze(
                &text,
                &Options {
                    context: Some(&context),
                    ..Options::default()
                },
            );
            let report = &analysis.objects[0];
            // Every mode that checks something has exactly one line, at its own policy.
            for (mode, mode_policy) in &report.modes {
                let lines: Vec<&ModeLine> = report
                    .mode_lines
                    .iter()
                    .filter(|l| l.modes.contains(mode))
                    .collect();
                assert_eq!(lines.len(), 1, "{text}");
                assert_eq!(lines[0].policy, mode_policy.policy, "{text}");
            }
            assert_eq!(
                report.mode_lines.iter().map(|l| l.modes.len()).sum::<usize>(),
                report.modes.len(),
                "{text}"
            );
            for line in &report.mode_lines {
                let alone = analyze(
                    &object,
                    &Options {
                        policy: line.policy,
                        ..Options::default()
                    },
                );
                let expected = alone.objects[0].warning();
                let got = if line.failures.is_empty() {
                    String::new()
                } else {
                    line.message()
                };
                assert_eq!(
                    got,
                    expected,
                    "{} at {}:\n{text}",
                    line.modes[0].as_str(),
                    line.policy
                );
            }
        }
    }

    #[test]
    fn both_branches_of_a_template_else_are_seen() {
        let template = "kind: Pod\nmetadata: {name: web}\nspec:\n  {{- if .Values.root }}\n  securityContext:\n    runAsUser: 0\n  {{- else }}\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n  {{- end }}\n  containers:\n  - name: app\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
        let analysis = analyze(template, &Options::default());
        let found: Vec<(&str, usize)> = analysis.objects[0]
            .violations
            .iter()
            .flat_map(|v| v.locations.iter().map(move |l| (v.check.id, l.span.start)))
            .collect();
        let at = |needle: &str| template.find(needle).unwrap();
        // The `if` branch sets the root user and no non-root or seccomp setting: reported, though the clean
        // `else` branch comes last (a duplicate `securityContext:` key, of which YAML keeps the last).
        assert!(found.contains(&("runAsUser", at("runAsUser: 0"))), "{found:?}");
        assert_eq!(
            analysis.objects[0]
                .violations
                .iter()
                .map(|v| v.check.id)
                .collect::<Vec<_>>(),
            ["runAsNonRoot", "runAsUser", "seccompProfile_restricted"],
            "PSA's run order"
        );
        // Swapped, the `else` branch's findings are seen too (its fixes are not offered: they were
        // computed with the other branch set aside).
        let swapped = template
            .replace("if .Values.root", "if .Values.safe")
            .replacen("  securityContext:\n    runAsUser: 0\n", "  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n", 1)
            .replacen("  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n  {{- end }}", "  securityContext:\n    runAsUser: 0\n  {{- end }}", 1);
        let analysis = analyze(
            &swapped,
            &Options {
                with_fixes: true,
                ..Options::default()
            },
        );
        let run_as_user = analysis.objects[0]
            .violations
            .iter()
            .find(|v| v.check.id == "runAsUser");
        assert!(
            run_as_user.is_some_and(
                |v| v.locations[0].span.start == swapped.find("runAsUser: 0").unwrap()
                    && v.locations[0].fix.is_none()
            ),
            "{swapped}"
        );
    }

    #[test]
    fn chart_templates_name_each_action_and_claim_no_verdict_on_a_templated_value() {
        let template = "kind: Pod\nmetadata: {name: web}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: {{ .Values.aaaaa }}\n    securityContext: {privileged: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n  - name: {{ .Values.bbbbb }}\n    securityContext:\n      privileged: true\n      capabilities: {drop: [ALL], add: [{{ .Values.capAB }}]}\n  - name: {{ .Chart.Name }}\n    securityContext: {privileged: {{ .Values.privileged }}, allowPrivilegeEscalation: {{ .Values.ape }}, capabilities: {drop: [ALL]}}\n";
        let options = Options {
            with_fixes: true,
            ..Options::default()
        };
        let analysis = analyze(template, &options);
        let object = &analysis.objects[0];
        let details: Vec<(&str, &str)> = object
            .violations
            .iter()
            .map(|v| (v.check.id, v.detail.as_str()))
            .collect();
        // Two actions of the same length keep their own names; the templated capability and
        // allowPrivilegeEscalation are not claimed as violations (a templated `privileged` is no
        // `true`, so it never was).
        assert_eq!(
            details,
            [
                (
                    "privileged",
                    "containers \"{{ .Values.aaaaa }}\", \"{{ .Values.bbbbb }}\" must not set securityContext.privileged=true"
                ),
                (
                    "allowPrivilegeEscalation",
                    "containers \"{{ .Values.bbbbb }}\", \"{{ .Chart.Name }}\" must set securityContext.allowPrivilegeEscalation=false"
                ),
            ]
        );
        let unknown: Vec<&str> = analysis
            .problems
            .iter()
            .filter(|p| p.code == "helm-value")
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(
            unknown,
            [
                "Helm template: allowPrivilegeEscalation depends on `{{ .Values.ape }}`, known only once the chart is rendered (check the rendered chart: helm template … | podsec check -)",
                "Helm template: capabilities_restricted depends on `{{ .Values.capAB }}`, known only once the chart is rendered (check the rendered chart: helm template … | podsec check -)",
            ]
        );
        // Fix titles name the action, not its placeholder.
        let titles: Vec<&str> = object
            .violations
            .iter()
            .flat_map(|v| &v.locations)
            .filter_map(|l| l.fix.as_ref())
            .map(|f| f.title.as_str())
            .collect();
        assert!(
            titles.contains(&"Set allowPrivilegeEscalation: false on container \"{{ .Values.bbbbb }}\""),
            "{titles:?}"
        );
    }

    #[test]
    fn reusing_documents_gives_what_a_fresh_analysis_gives_through_any_edits() {
        let context = PolicyContext {
            editor_default: Some(Policy::new(Level::Restricted, Version::Latest)),
            ..PolicyContext::default()
        };
        let baseline = Options {
            policy: Policy::new(Level::Baseline, Version::Latest),
            ..Options::default()
        };
        let with_context = Options {
            context: Some(&context),
            ..Options::default()
        };
        let mut reuse = Reuse::default();
        let mut text = STREAM.to_string();
        // A fixed pseudo-random walk of inserts and deletions, some of them document markers.
        let pieces = [
            "x",
            " ",
            "\n",
            ": ",
            "- ",
            "\n---\n",
            "ü",
            "[",
            "}",
            "privileged: true\n",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut reused = 0;
        for step in 0..400 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let choice = (seed >> 33) as usize;
            let mut at = choice % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if choice % 3 == 0 && at < text.len() {
                let end = text[at..]
                    .char_indices()
                    .nth(1 + choice % 7)
                    .map_or(text.len(), |(i, _)| at + i);
                text.replace_range(at..end, "");
            } else {
                text.insert_str(at, pieces[choice % pieces.len()]);
            }
            // Options change now and then: the cache must notice.
            let options = if step % 50 < 25 { &baseline } else { &with_context };
            let fresh = analyze(&text, options);
            let hits = reuse.hits();
            let incremental = analyze_reusing(&text, options, &mut reuse);
            assert_eq!(incremental, fresh, "step {step}:\n{text}");
            // Counted only when a document really came from the cache.
            reused += usize::from(reuse.hits() > hits);
        }
        assert!(reused > 300, "documents were reused in {reused} of 400 steps");
    }

    #[test]
    fn reused_documents_move_with_the_text_before_them() {
        let options = Options::default();
        let mut reuse = Reuse::default();
        let first = analyze_reusing(STREAM, &options, &mut reuse);
        let shifted = format!("# one more line\n{STREAM}");
        let second = analyze_reusing(&shifted, &options, &mut reuse);
        assert_eq!(second, analyze(&shifted, &options));
        assert_eq!(second.objects[0].span.start, first.objects[0].span.start + 16);
    }
}
