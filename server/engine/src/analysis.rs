//! The one entry point the CLI and the server share: text in, verdicts with locations out.

use crate::checks::{Check, checks_for};
use crate::fix::{Fix, FixContext};
use crate::patch::Layout;
use crate::pod::Loc;
use crate::policy::Policy;
use crate::workload::{PodObject, pod_objects};
use crate::yaml::{Document, Limits, NodeKind, NodeRef, Span, YamlErrorKind, documents};

/// What to analyse with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// The policy every object is checked against.
    pub policy: Policy,
    /// Parser limits.
    pub limits: Limits,
    /// Whether to compute each finding's fix (for code actions and `podsec fix`, not for diagnostics).
    pub with_fixes: bool,
}

/// Everything found in one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Every pod-bearing object, violating or not, in source order.
    pub objects: Vec<ObjectReport>,
    /// Documents that could not be read.
    pub problems: Vec<Problem>,
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
    /// The whole object.
    pub span: Span,
    /// Which document of the stream, from 0.
    pub document: usize,
    /// The policy it was checked against.
    pub policy: Policy,
    /// Forbidden results in PSA's run order.
    pub violations: Vec<CheckViolation>,
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

impl ObjectReport {
    /// PSA's aggregated detail: every violation's `reason (detail)`, joined with `, `.
    pub fn aggregated_detail(&self) -> String {
        self.violations
            .iter()
            .map(CheckViolation::message)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// PSA's aggregated reason: the reasons joined with `, `.
    pub fn aggregated_reason(&self) -> String {
        self.violations
            .iter()
            .map(|v| v.reason.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The warning kubectl prints: `would violate PodSecurity "restricted:latest": …`.
    pub fn warning(&self) -> String {
        format!(
            "would violate PodSecurity \"{}\": {}",
            self.policy,
            self.aggregated_detail()
        )
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
pub fn analyze(text: &str, options: &Options) -> Analysis {
    let mut analysis = Analysis::default();
    // One document at a time: only one tree is ever in memory.
    for document in documents(text, &options.limits) {
        let document = &document;
        if let Some(error) = &document.error {
            analysis.problems.push(Problem {
                code: match error.kind {
                    YamlErrorKind::Syntax => "syntax-error",
                    YamlErrorKind::Limit => "limit-exceeded",
                },
                message: error.message.clone(),
                span: error.span,
                document: document.index,
            });
            continue;
        }
        let layout = options.with_fixes.then(|| Layout::of(document));
        for object in pod_objects(document) {
            analysis
                .objects
                .push(check_object(document, &object, options.policy, layout.as_ref()));
        }
    }
    analysis
}

/// Runs every check of `policy` on one object.
pub fn check_object(
    document: &Document<'_>,
    object: &PodObject<'_>,
    policy: Policy,
    layout: Option<&Layout<'_>>,
) -> ObjectReport {
    let minor = policy.version.evaluated_minor();
    let violations = checks_for(policy)
        .into_iter()
        .filter_map(|check| {
            let violation = (check.evaluate)(&object.pod, minor)?;
            let locations = violation
                .locations
                .iter()
                .map(|loc| {
                    let mut location = locate(document, object, *loc);
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
            })
        })
        .collect();
    ObjectReport {
        kind: object.kind.to_string(),
        name: object.name.map(str::to_string),
        namespace: object.namespace.map(str::to_string),
        header: object.header,
        span: object.object.span(),
        document: document.index,
        policy,
        violations,
    }
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
            }
        }
        Loc::Item { node } => {
            let item = document.node_ref(node);
            Location {
                span: first_line(document, item.span()),
                path: relative(document.path_of(node)),
                missing: false,
                fix: None,
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
