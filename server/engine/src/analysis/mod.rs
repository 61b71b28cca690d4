//! The one entry point the CLI and the server share: text in, verdicts with locations out.
//!
//! `mod.rs` is the driver (documents one at a time, chart templates through their neutralised copies);
//! `report` the verdicts it returns; `evaluate` an object's modes and exemptions; `locate` the rule that
//! turns a check's symbolic location into a span; `reuse` the cache of the editor's keystroke path;
//! `template` what chart templates need beyond that.

mod evaluate;
mod exemptions;
mod locate;
mod owners;
mod report;
mod reuse;
mod template;

pub use evaluate::check_object;
use evaluate::evaluate;
pub(crate) use locate::{PathStep, Reached, first_line, follow_path, key_and_scalar_value, path_steps};
pub use owners::REPORTED_THROUGH_ITS_OWNER;
pub use report::{CheckViolation, Location, ModeFailure, ModeLine, ObjectReport};
use reuse::{CachedDocument, ReuseKey};
pub use reuse::{Reuse, analyze_reusing};
use template::{merge_branch, set_aside_template_values};

use crate::helm;
use crate::patch::Layout;
use crate::policy::Policy;
use crate::policy::{ConfigProblem, PolicyContext, Severity};
use crate::workload::pod_objects;
use crate::yaml::{Document, Limits, Span, YamlErrorKind, document_ranges, read_document, read_document_if};

/// The code of a problem the API server's validation finds in an object (`crate::validation`).
pub const INVALID_OBJECT: &str = "invalid-object";

/// The kind of the one document that is read for itself rather than for its pods.
const PSP_KIND: &str = "PodSecurityPolicy";

/// Whether the analysis reads a document of top-level kind `kind`; any other document whose kind is certain
/// is read no further than its `kind` (see [`read_document_if`]).
fn analysed_kind(kind: &str) -> bool {
    crate::workload::reads_kind(kind) || kind == PSP_KIND
}

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
    /// The namespace of objects that name none (a Helm release's `--namespace`).
    pub namespace_default: Option<&'c str>,
}

impl Options<'_> {
    /// Whether the project file says the cluster enforces podsec's exported admission policy, so that
    /// exemptions hold where PSA's labels would not honour them.
    pub fn enforced_by_admission_policy(&self) -> bool {
        self.context
            .and_then(|c| c.project.as_ref())
            .is_some_and(|p| p.enforced_by_admission_policy)
    }
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
    /// Whether the text is a chart template (it has `{{ … }}` actions), read statically: its literal
    /// fields are checked, and what depends on values is `helm-value` information. The shells say once
    /// per chart how to check what it renders.
    pub chart_template: bool,
    /// The documents of a chart template that are not YAML once their actions are set aside, so not
    /// analysed (code `helm-template`, information): data for the shells' note, not findings.
    pub unread_templates: Vec<Problem>,
}

/// A document that could not be read, or an object the API server refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `syntax-error`, `limit-exceeded`, `not-sent` (what kubectl never sends), `invalid-object`, `helm-value`
    /// (a verdict of a chart template that depends on values); `helm-template` in
    /// [`Analysis::unread_templates`].
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Which document of the stream, from 0.
    pub document: usize,
    /// Error for unreadable YAML; information for what a chart template's values decide.
    pub severity: Severity,
}

/// Analyses every document of `text`. Pure: the same text and options give the same result.
pub fn analyze(text: &str, options: &Options<'_>) -> Analysis {
    analyze_documents(text, options, None, &analysed_kind)
}

/// Both entry points; `reuse` is `None` for a one-off analysis (nothing is kept). `reads_kind` is
/// [`analysed_kind`], except in the tests that compare with a reading of every document.
fn analyze_documents(
    text: &str,
    options: &Options<'_>,
    reuse: Option<&mut Reuse>,
    reads_kind: &dyn Fn(&str) -> bool,
) -> Analysis {
    if helm::is_template(text) {
        // A chart template parses with its actions neutralised; every span still points into the
        // template. Each side of its `else`s is a variant of its own, and both are reported.
        let mut variants = helm::branch_variants(text);
        let mut analysis = if variants.len() == 1 {
            // One reading: its documents without an action can still come from the cache.
            let only = variants.pop().unwrap_or_default();
            analyze_neutralised(text, Some(&neutralise(text, &only)), options, reuse, reads_kind)
        } else {
            let mut variants = variants.into_iter().map(|variant| {
                analyze_neutralised(text, Some(&neutralise(text, &variant)), options, None, reads_kind)
            });
            let first = variants.next().unwrap_or_default();
            variants.fold(first, merge_branch)
        };
        analysis.chart_template = true;
        return analysis;
    }
    analyze_neutralised(text, None, options, reuse, reads_kind)
}

/// A variant of chart template `text` with its actions neutralised, a templated pod-bearing `kind:` read.
fn neutralise(text: &str, variant: &str) -> helm::Neutralised {
    let mut neutralised = helm::neutralise(variant);
    template::read_templated_kinds(text, &mut neutralised);
    neutralised
}

/// The analysis of `text`, or of a template through its `neutralised` copy.
fn analyze_neutralised(
    text: &str,
    neutralised: Option<&helm::Neutralised>,
    options: &Options<'_>,
    reuse: Option<&mut Reuse>,
    reads_kind: &dyn Fn(&str) -> bool,
) -> Analysis {
    let mut analysis = Analysis::default();
    let reusable = !options.with_fixes;
    let mut cache = reuse.and_then(|reuse| {
        let key = reusable.then(|| ReuseKey {
            policy: options.policy,
            context: options.context.cloned(),
            limits: options.limits,
            namespace_override: options.namespace_override.map(str::to_string),
            namespace_default: options.namespace_default.map(str::to_string),
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
    // Why kubectl stops reading the text (its first error): it sends nothing after.
    let mut stop: Option<String> = None;
    for (index, range) in document_ranges(parsed, &options.limits).into_iter().enumerate() {
        if let Some(reason) = &stop {
            let mut findings = Analysis::default();
            if let Some(document) = read_document(parsed, index, range, &options.limits) {
                never_sent(&document, reason, &mut findings);
            }
            analysis.append(findings);
            continue;
        }
        let document_text = parsed.get(range.start..range.end).unwrap_or("");
        // In a chart template, a document with actions reads through placeholders numbered across the
        // whole text: its entry holds its template text too, and serves only the same template text
        // neutralised the same way (the analysis depends on nothing else).
        let template = neutralised
            .and_then(|_| text.get(range.start..range.end))
            .filter(|original| *original != document_text);
        // The index matters only to the document-count limit, which a cached entry never crossed; a document
        // whose reading depends on more than its text (in a JSON stream, or after a `---#c`) is never kept.
        let keepable = index < options.limits.max_documents && !crate::yaml::read_in_context(parsed, range);
        // (Hashing a document costs a pass over it: none when nothing is kept, as in the CLI.)
        let cached = (!previous.is_empty())
            .then(|| previous.remove(document_text))
            .flatten()
            .filter(|entry| keepable && entry.template.as_deref() == template);
        if let Some(entry) = cached {
            let mut moved = entry.found.clone();
            moved.move_spans(|span| Span::new(span.start + range.start, span.end + range.start));
            moved.set_document(index);
            stop = stop.or_else(|| kubectl_stop(&moved));
            analysis.append(moved);
            if let Some(reuse) = cache.as_mut() {
                reuse.documents.insert(document_text.to_string(), entry);
                reuse.hits += 1;
            }
            continue;
        }
        let mut findings = Analysis::default();
        // One document at a time: only one tree is ever in memory.
        if let Some(document) = read_document_if(parsed, index, range, &options.limits, reads_kind) {
            analyse_document(text, &document, neutralised, options, &mut findings);
        }
        if let Some(reuse) = cache.as_mut().filter(|_| keepable) {
            let mut relative = findings.clone();
            relative.move_spans(|span| {
                Span::new(
                    span.start.saturating_sub(range.start),
                    span.end.saturating_sub(range.start),
                )
            });
            let entry = CachedDocument {
                template: template.map(str::to_string),
                found: relative,
            };
            reuse.documents.insert(document_text.to_string(), entry);
        }
        stop = stop.or_else(|| kubectl_stop(&findings));
        analysis.append(findings);
    }
    owners::report_through_owners(&mut analysis.objects);
    analysis
}

/// Why kubectl stops reading a text, if one of a document's findings says it does: a syntax error (go-yaml's
/// or kubectl's own: a bad separator, a key or value JSON cannot hold) ends `kubectl apply -f` at that file.
fn kubectl_stop(findings: &Analysis) -> Option<String> {
    findings
        .problems
        .iter()
        .find(|p| p.code == "syntax-error")
        .map(|p| p.message.clone())
}

/// What a document after kubectl's stop holds: its own syntax error if it has one, else one warning naming
/// what kubectl never sends (not analysed: nothing in it reaches the cluster).
fn never_sent(document: &Document<'_>, reason: &str, analysis: &mut Analysis) {
    if let Some(error) = &document.error {
        analysis.problems.push(Problem {
            code: if error.kind == YamlErrorKind::Syntax {
                "syntax-error"
            } else {
                "limit-exceeded"
            },
            message: error.message.clone(),
            span: error.span,
            document: document.index,
            severity: Severity::Error,
        });
        return;
    }
    let Some(root) = document.root() else { return };
    let kind = root.get("kind").and_then(|k| k.as_str());
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str());
    let what = match (kind, name) {
        (Some(kind), Some(name)) => format!("this {kind} {name:?}"),
        (Some(kind), None) => format!("this {kind}"),
        _ => "this document".to_string(),
    };
    // (No line number: a part of a file is analysed alone, and its lines are not the file's.)
    analysis.problems.push(Problem {
        code: "not-sent",
        message: format!(
            "kubectl never sends {what}: it stops reading the file at its first error ({reason}); podsec does not \
             check it"
        ),
        span: Span::point(root.span().start),
        document: document.index,
        severity: Severity::Warning,
    });
}

/// The analyses a rendering's or a build's findings were put into, by file index, finished: the
/// exemptions it used go with the first (they are counted once), and each file's objects are in text order.
pub(crate) fn settle_placed(
    mut placed: std::collections::BTreeMap<usize, Analysis>,
    used_exemptions: Vec<Span>,
) -> Vec<(usize, Analysis)> {
    if let Some(mut first) = placed.first_entry() {
        first.get_mut().used_exemptions = used_exemptions;
    }
    for analysis in placed.values_mut() {
        analysis.objects.sort_by_key(|o| o.span.start);
    }
    placed.into_iter().collect()
}

impl Analysis {
    /// Adds `other`'s findings after these.
    pub fn append(&mut self, other: Analysis) {
        self.objects.extend(other.objects);
        self.problems.extend(other.problems);
        self.config_problems.extend(other.config_problems);
        self.used_exemptions.extend(other.used_exemptions);
        self.chart_template |= other.chart_template;
        self.unread_templates.extend(other.unread_templates);
    }

    /// Says every finding is in the document at `index` (findings of one document, reused elsewhere).
    fn set_document(&mut self, index: usize) {
        for object in &mut self.objects {
            object.document = index;
        }
        for problem in self.problems.iter_mut().chain(&mut self.unread_templates) {
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
        for problem in self.problems.iter_mut().chain(&mut self.unread_templates) {
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
    if let Some(error) = &document.error {
        // Only a document with actions of its own is a template: elsewhere in a chart file, broken YAML
        // is broken YAML (and reads the same whether the file has actions or not).
        let templated = neutralised.is_some()
            && text
                .get(document.span.start..document.span.end)
                .is_some_and(|t| t.contains("{{"));
        let (code, message) = match (error.kind, templated) {
            (YamlErrorKind::Syntax, true) => (
                "helm-template",
                format!(
                    "Helm template: not analysed, it is not YAML once its actions are set aside ({})",
                    error.message
                ),
            ),
            (YamlErrorKind::Syntax, false) => ("syntax-error", error.message.clone()),
            (YamlErrorKind::Limit, _) => ("limit-exceeded", error.message.clone()),
        };
        let problem = Problem {
            code,
            message,
            span: error.span,
            document: document.index,
            severity: Severity::Error,
        };
        if code == "helm-template" {
            // Data for the shell, which says once per chart how to render it; not a finding of its own.
            analysis.unread_templates.push(Problem {
                severity: Severity::Information,
                ..problem
            });
        } else {
            analysis.problems.push(problem);
        }
        return;
    }
    if let Some(unread) = document.unread {
        analysis.problems.push(Problem {
            code: "not-sent",
            message:
                "kubectl never sends this: go-yaml reads a document up to its `...` and no further (start \
                      another document with a `---` line)"
                    .to_string(),
            span: unread,
            document: document.index,
            severity: Severity::Warning,
        });
    }
    let source = text
        .get(document.span.start..document.span.end)
        .and_then(helm::source_comment)
        .or_else(|| helm::source_before(text, document.span.start))
        .map(str::to_string);
    let kind = document
        .root()
        .and_then(|r| r.get("kind"))
        .and_then(|k| k.as_str());
    if let (Some(PSP_KIND), Some(root)) = (kind, document.root()) {
        let mut problem = crate::psp::assess_one(root).problem();
        if let Some(neutralised) = neutralised {
            problem.message = neutralised.restore(&problem.message);
        }
        analysis.config_problems.push(problem);
    }
    // Where the structural actions write (`{{- toYaml .Values.podSecurityContext | nindent 8 }}`): what
    // is missing there depends on values.
    let insertions = neutralised.map_or_else(Vec::new, |n| template::insertions(text, document, n));
    let layout = options.with_fixes.then(|| Layout::of(document));
    let mut comments = exemptions::CommentExemptions::of(text, document, &mut analysis.config_problems);
    for object in pod_objects(document) {
        let mut report = evaluate(
            document,
            &object,
            options,
            layout.as_ref(),
            &mut comments,
            analysis,
        );
        report.source.clone_from(&source);
        for rejection in crate::validation::rejections(document, &object) {
            let span = locate::locate(document, &object, rejection.loc).span;
            // In a chart template, a refusal is known only where no action can change what it reads: the
            // container it is in, or the whole pod for a rule that reads beyond it.
            if let Some(neutralised) = neutralised {
                let container = object
                    .pod
                    .containers()
                    .iter()
                    .map(|c| c.node.span())
                    .find(|c| c.start <= span.start && span.end <= c.end);
                let region = match container {
                    Some(container) if !rejection.reads_the_pod => container,
                    _ => object.template.span(),
                };
                if neutralised.action_within(region).is_some()
                    || template::inserts_within(&insertions, region)
                {
                    continue;
                }
            }
            let name = object.name.map(|n| format!(" {n:?}")).unwrap_or_default();
            let kind = object.kind;
            let message = if rejection.on_pod_create && kind != "Pod" {
                format!(
                    "the API server accepts this {kind}{name} but refuses every pod it creates: {}",
                    rejection.message
                )
            } else {
                format!("the API server refuses this {kind}{name}: {}", rejection.message)
            };
            analysis.problems.push(Problem {
                code: INVALID_OBJECT,
                message: neutralised.map_or(message.clone(), |n| n.restore(&message)),
                span,
                document: document.index,
                severity: Severity::Error,
            });
        }
        if let Some(neutralised) = &neutralised {
            set_aside_template_values(
                &mut report,
                &object,
                text,
                neutralised,
                &insertions,
                document.index,
                analysis,
            );
            report.drop_unreported_failures();
            // Messages and fix titles name the template's actions, not their placeholders.
            report.name = report.name.map(|n| neutralised.restore(&n));
            for violation in report
                .violations
                .iter_mut()
                .chain(report.exempted.iter_mut().map(|(v, _)| v))
            {
                violation.detail = neutralised.restore(&violation.detail);
                for location in &mut violation.locations {
                    location.detail = location.detail.as_deref().map(|d| neutralised.restore(d));
                    if let Some(fix) = location.fix.as_mut() {
                        fix.title = neutralised.restore(&fix.title);
                    }
                }
            }
            for failure in report.mode_lines.iter_mut().flat_map(|l| &mut l.failures) {
                failure.detail = neutralised.restore(&failure.detail);
            }
        }
        analysis.objects.push(report);
    }
    analysis.config_problems.extend(comments.unused());
}

#[cfg(test)]
mod tests;
