//! Policy sources that name checks, read above the checks: the project file (its exemptions' check IDs
//! validated), exemption annotations on objects and exemption comments in their text.

use crate::checks::check_by_id;
use crate::policy::{ConfigProblem, ProjectConfig, Severity, project_config};
use crate::yaml::{Document, Limits, Span};

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

/// How the reason of an exempted finding ends: where its exemption is written (what `--show-exempted`
/// prints, and SARIF's suppression kind: in the source, or external).
pub const EXEMPTED_BY_ANNOTATION: &str = " (annotation on the object)";
/// See [`EXEMPTED_BY_ANNOTATION`]: a comment at the end of the finding's line.
pub const EXEMPTED_BY_LINE_COMMENT: &str = " (comment on its line)";
/// See [`EXEMPTED_BY_ANNOTATION`]: a comment at the end of the object's `metadata:` line.
pub const EXEMPTED_BY_METADATA_COMMENT: &str = " (comment on the object's metadata line)";
/// See [`EXEMPTED_BY_ANNOTATION`]: the project file.
pub const EXEMPTED_BY_PROJECT_FILE: &str = " (.podsec.yaml)";

/// What every exemption comment holds, so a text without it has none (a test cheaper than a parse).
pub const COMMENT_MARKER: &str = "podsec:";

/// The reason an editor's exemption action writes for the author to replace; a reason that starts with
/// `TODO` is a placeholder, and gets a warning.
pub const PLACEHOLDER_REASON: &str = "TODO: reason";

/// The comment that exempts the findings of its line, or on a `metadata:` line the whole object, from
/// `check`.
pub fn exemption_comment(check: &str, reason: &str) -> String {
    format!("# {COMMENT_MARKER} exempt {check} -- {reason}")
}

/// An exemption written as a comment, `# podsec: exempt <check-id>[, <check-id>…] -- <reason>`: it
/// exempts the findings of its line, or, at the end of an object's (or its pod template's) `metadata:`
/// line, the whole object. It stays in the file: `kubectl apply` never sends comments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentExemption {
    /// The check ID.
    pub check: &'static str,
    /// The reason.
    pub reason: String,
    /// The check ID in the comment.
    pub span: Span,
    /// The start of the line the comment ends.
    pub line: usize,
    /// Whether the comment is alone on its line, with nothing before it to exempt.
    pub alone: bool,
}

/// The exemption comments of a document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExemptionComments {
    /// One per check a valid comment names, in order.
    pub exemptions: Vec<CommentExemption>,
    /// What is wrong with them: an unknown instruction or check, a missing or placeholder reason.
    pub problems: Vec<ConfigProblem>,
    /// Every comment with a `podsec:` directive, valid or not, whole: what fixes must leave in place.
    pub comments: Vec<Span>,
}

/// The exemption comments of a document. `text` is what the user wrote, `document` its reading: for a
/// chart template they differ only where actions were neutralised (same length), and a comment counts
/// only where the template itself has a `#`, not where an action was turned into one.
pub fn comment_exemptions(text: &str, document: &Document<'_>) -> ExemptionComments {
    let mut found = ExemptionComments::default();
    let within = text.get(document.span.start..document.span.end).unwrap_or("");
    if !within.contains(COMMENT_MARKER) {
        return found;
    }
    for comment in crate::comments::comments(document) {
        let Some(written) = text
            .get(comment.start..comment.end)
            .filter(|c| c.starts_with('#'))
        else {
            continue;
        };
        let directives = directives(written);
        if directives.is_empty() {
            continue;
        }
        found.comments.push(comment);
        let line = crate::comments::line_start(document.text, comment.start);
        let alone = document
            .text
            .get(line..comment.start)
            .is_some_and(|before| before.trim_matches([' ', '\t']).is_empty());
        for (start, end) in directives {
            let directive = Directive {
                text: written.get(start..end).unwrap_or(""),
                at: comment.start + start,
                line,
                alone,
            };
            directive.read(&mut found.exemptions, &mut found.problems);
        }
    }
    found
}

/// Where the `podsec:` directives of a comment are (byte ranges in it): each starts at a `#` that begins
/// the comment or follows a blank, with only blanks before `podsec:`, and ends where the next one starts.
fn directives(comment: &str) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = comment
        .char_indices()
        .filter(|(i, c)| {
            *c == '#'
                && (*i == 0 || comment.get(..*i).is_some_and(|b| b.ends_with([' ', '\t'])))
                && comment
                    .get(i + 1..)
                    .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(COMMENT_MARKER))
        })
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, start)| (*start, starts.get(k + 1).copied().unwrap_or(comment.len())))
        .collect()
}

/// One `# podsec: …` directive of a comment.
struct Directive<'a> {
    /// Its text, from its `#`.
    text: &'a str,
    /// Where it starts in the analysed text.
    at: usize,
    /// The start of its line.
    line: usize,
    /// Whether its comment is alone on its line.
    alone: bool,
}

impl Directive<'_> {
    /// The span of `part`, a slice of this directive's text (every part read is one).
    fn span_of(&self, part: &str) -> Span {
        let offset = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        Span::new(self.at + offset, self.at + offset + part.len())
    }

    fn problem(&self, severity: Severity, message: String, part: &str) -> ConfigProblem {
        ConfigProblem {
            code: "invalid-exemption",
            severity,
            message,
            span: self.span_of(part),
        }
    }

    /// Adds its exemptions to `found`, and what is wrong with it to `problems`.
    fn read(&self, found: &mut Vec<CommentExemption>, problems: &mut Vec<ConfigProblem>) {
        const SYNTAX: &str = "`# podsec: exempt <check-id> -- <reason>`";
        let whole = self.text.trim_end_matches([' ', '\t']);
        let body = whole
            .trim_start_matches('#')
            .trim_start_matches([' ', '\t'])
            .get(COMMENT_MARKER.len()..)
            .unwrap_or("")
            .trim_start_matches([' ', '\t']);
        let verb_end = body.find([' ', '\t']).unwrap_or(body.len());
        let (verb, rest) = body.split_at(verb_end);
        if verb != "exempt" {
            problems.push(self.problem(
                Severity::Warning,
                format!("unknown podsec comment {verb:?}: podsec reads {SYNTAX} only"),
                whole,
            ));
            return;
        }
        let Some((checks, reason)) = rest.split_once("--") else {
            problems.push(self.problem(
                Severity::Error,
                format!(
                    "the exemption needs a reason, after ` -- `: {SYNTAX}; it does not apply without one"
                ),
                whole,
            ));
            return;
        };
        let ids: Vec<&str> = checks
            .split([',', ' ', '\t'])
            .filter(|id| !id.is_empty())
            .collect();
        let reason = reason.trim_matches([' ', '\t']);
        if ids.is_empty() {
            problems.push(self.problem(
                Severity::Error,
                format!("the exemption names no check: {SYNTAX}"),
                whole,
            ));
            return;
        }
        let names = ids.join(", ");
        if reason.is_empty() {
            problems.push(self.problem(
                Severity::Error,
                format!(
                    "the exemption from {names} needs a reason after `--`; it does not apply without one"
                ),
                whole,
            ));
            return;
        }
        if reason.starts_with("TODO") {
            problems.push(self.problem(
                Severity::Warning,
                format!(
                    "the exemption from {names} still has a placeholder reason: say why the workload needs it"
                ),
                reason,
            ));
        }
        for id in ids {
            let Some(check) = check_by_id(id) else {
                problems.push(self.problem(
                    Severity::Warning,
                    format!("unknown check {id:?} in a podsec comment; `podsec explain` lists the checks"),
                    id,
                ));
                continue;
            };
            found.push(CommentExemption {
                check: check.id,
                reason: reason.to_string(),
                span: self.span_of(id),
                line: self.line,
                alone: self.alone,
            });
        }
    }
}
