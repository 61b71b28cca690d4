//! Fix-all and the exemption fixes: fixes applied to a whole text, above the analysis that finds them.

use crate::analysis::{Options, analyze};
use crate::fix::{Applicability, Fix};
use crate::patch::{self, Layout, TextEdit};
use crate::sources::{PLACEHOLDER_REASON, exemption_comment};
use crate::yaml::Span;

/// The result of fixing a whole text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixAll {
    /// The fixed text (equal to the input when nothing applied).
    pub text: String,
    /// The titles of the fixes applied, in the order they were applied.
    pub applied: Vec<String>,
}

/// Applies every fix of the wanted applicability until none is left: one call reaches the fixed
/// point. Fixes whose edits would touch the same place as an earlier one in a round wait for the next
/// round, which sees the text the first produced (two fixes that both create a container's
/// `securityContext` then write one, not two).
pub fn fix_all(text: &str, options: &Options, include_unsafe: bool) -> FixAll {
    fix_all_of(text, options, include_unsafe, None)
}

/// [`fix_all`] for the findings of one check only (`only`), or of every check.
pub fn fix_all_of(text: &str, options: &Options, include_unsafe: bool, only: Option<&str>) -> FixAll {
    fix_all_where(text, options, include_unsafe, None, |id, _| {
        only.is_none_or(|only| only == id)
    })
}

/// [`fix_all_of`], starting from `analysis`, the analysis of `text` with `options` and fixes, which the
/// caller already has (the editor keeps one per version): the text is not read again for the first round.
pub fn fix_all_from(
    text: &str,
    options: &Options,
    analysis: &crate::analysis::Analysis,
    include_unsafe: bool,
    only: Option<&str>,
) -> FixAll {
    fix_all_where(text, options, include_unsafe, Some(analysis), |id, _| {
        only.is_none_or(|only| only == id)
    })
}

/// [`fix_all`] for the findings of every check but those `ignored` (`podsec fix --ignore`).
pub fn fix_all_except(text: &str, options: &Options, include_unsafe: bool, ignored: &[String]) -> FixAll {
    fix_all_where(text, options, include_unsafe, None, |id, _| {
        !ignored.iter().any(|i| i == id)
    })
}

/// One finding, named so that it is found again after other fixes moved the text: its document, its
/// check and its field's path (neither changes when a fix edits the text around it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingKey {
    /// The document of the stream, from 0.
    pub document: usize,
    /// The check's ID.
    pub check: &'static str,
    /// The field's path from the object.
    pub path: String,
}

/// The safe fixes of `findings` applied together, as [`fix_all`] applies fixes (in rounds, so two
/// fixes that both create a container's `securityContext` write one): what the editor's one preferred
/// action does where several findings share a line.
///
/// Findings of one document that reads the same alone (not in a chart template, a JSON stream or after a
/// `---#c` line) are fixed in that document alone, as the CLI analyses a file in pieces of whole documents:
/// each round then re-reads one document, not a file of thousands of lines.
pub fn fix_findings(text: &str, options: &Options, findings: &[FindingKey]) -> FixAll {
    if let Some(fixed) = fix_findings_in_their_document(text, options, findings) {
        return fixed;
    }
    fix_findings_in_text(text, options, findings)
}

fn fix_findings_in_text(text: &str, options: &Options, findings: &[FindingKey]) -> FixAll {
    fix_all_where(text, options, false, None, |id, (document, path)| {
        findings
            .iter()
            .any(|f| f.check == id && f.document == document && f.path == path)
    })
}

/// [`fix_findings`] on the one document that holds every finding, when it reads the same alone.
fn fix_findings_in_their_document(text: &str, options: &Options, findings: &[FindingKey]) -> Option<FixAll> {
    let document = findings.first()?.document;
    if findings.iter().any(|f| f.document != document) {
        return None;
    }
    let range = *crate::yaml::document_ranges(text, &options.limits).get(document)?;
    if crate::yaml::read_in_context(text, range) {
        return None;
    }
    let piece = text.get(range.start..range.end)?;
    // The piece must be one document by itself, and hold no template action (a chart template's
    // actions are read through placeholders numbered across the whole text; a document without one
    // reads the same alone, whatever the others hold).
    if crate::yaml::document_ranges(piece, &options.limits).len() != 1 || crate::helm::is_template(piece) {
        return None;
    }
    let local: Vec<FindingKey> = findings
        .iter()
        .map(|f| FindingKey {
            document: 0,
            ..f.clone()
        })
        .collect();
    let fixed = fix_findings_in_text(piece, options, &local);
    Some(FixAll {
        text: format!(
            "{}{}{}",
            text.get(..range.start)?,
            fixed.text,
            text.get(range.end..)?
        ),
        applied: fixed.applied,
    })
}

/// [`fix_all`] for the findings `wanted` accepts (by check ID, and document and field path).
fn fix_all_where(
    text: &str,
    options: &Options,
    include_unsafe: bool,
    first: Option<&crate::analysis::Analysis>,
    wanted: impl Fn(&str, (usize, &str)) -> bool,
) -> FixAll {
    let options = Options {
        with_fixes: true,
        ..*options
    };
    let mut current = text.to_string();
    let mut applied = Vec::new();
    for round in 0..16 {
        let fresh;
        let analysis = match first.filter(|_| round == 0) {
            Some(analysis) => analysis,
            None => {
                fresh = analyze(&current, &options);
                &fresh
            }
        };
        let mut chosen: Vec<TextEdit> = Vec::new();
        for object in &analysis.objects {
            for violation in &object.violations {
                for location in &violation.locations {
                    if !wanted(violation.check.id, (object.document, &location.path)) {
                        continue;
                    }
                    let Some(fix) = &location.fix else { continue };
                    if fix.applicability == Applicability::Unsafe && !include_unsafe {
                        continue;
                    }
                    if fix.edits.iter().all(|e| chosen.contains(e)) {
                        continue; // the same repair, offered for another finding
                    }
                    // Edits that overlap or merely touch clash: an insertion right after a removed
                    // entry would be placed by a layout that no longer exists (`{, a: 1}`).
                    let clashes = fix.edits.iter().any(|e| {
                        chosen
                            .iter()
                            .any(|c| c.span.start <= e.span.end && e.span.start <= c.span.end)
                    });
                    if !clashes {
                        chosen.extend(fix.edits.iter().cloned());
                        applied.push(fix.title.clone());
                    }
                }
            }
        }
        if chosen.is_empty() {
            break;
        }
        current = patch::apply(&current, &chosen);
    }
    FixAll {
        text: current,
        applied,
    }
}

/// The annotation that exempts one object from one check: `podsec.dev/exempt.<check-id>`.
pub fn exemption_key(check_id: &str) -> String {
    format!("podsec.dev/exempt.{check_id}")
}

/// A fix that exempts the object at byte `offset` from `check_id`, by adding the exemption annotation
/// to its metadata with a placeholder reason for the author to replace.
pub fn exemption_fix(text: &str, options: &Options, offset: usize, check_id: &str) -> Option<Fix> {
    RequestReading::new(text, text, options.limits).exemption_fix(offset, check_id)
}

/// A fix that exempts the finding located at byte `offset` from `check_id` with a comment at the end of
/// its line (`# podsec: exempt <check-id> -- TODO: reason`), which stays out of the deployed object.
/// `None` where no comment can end that line (it ends inside a scalar continued on the next line) or the
/// document cannot be read. A chart template is read through its neutralised copy, of the same length.
pub fn comment_exemption_fix(text: &str, options: &Options, offset: usize, check_id: &str) -> Option<Fix> {
    let neutralised = crate::helm::is_template(text).then(|| crate::helm::neutralise(text));
    let parsed = neutralised.as_ref().map_or(text, |n| n.text.as_str());
    RequestReading::new(text, parsed, options.limits).comment_exemption_fix(offset, check_id)
}

/// What one code-action request reads of a text: where its documents are, once, and each document a
/// finding of the request is in, once, however many findings and fixes ask (the exemption annotation,
/// the exemption comment, the PodSecurityPolicy labels).
pub struct RequestReading<'t> {
    text: &'t str,
    /// A chart template's neutralised copy (of the same length), which comments are placed in; else
    /// `text`.
    parsed: &'t str,
    limits: crate::yaml::Limits,
    ranges: Option<Vec<Span>>,
    parsed_ranges: Option<Vec<Span>>,
    /// The documents read, by index: of `text`, and of `parsed` when it differs.
    read: Vec<(usize, Option<crate::yaml::Document<'t>>)>,
    parsed_read: Vec<(usize, Option<crate::yaml::Document<'t>>)>,
}

impl<'t> RequestReading<'t> {
    /// Nothing is read until a fix asks.
    pub fn new(text: &'t str, parsed: &'t str, limits: crate::yaml::Limits) -> Self {
        Self {
            text,
            parsed,
            limits,
            ranges: None,
            parsed_ranges: None,
            read: Vec::new(),
            parsed_read: Vec::new(),
        }
    }

    /// The readable document of `text` (or of its neutralised copy) that holds byte `offset`.
    pub fn document_at(&mut self, offset: usize, neutralised: bool) -> Option<&crate::yaml::Document<'t>> {
        let same = std::ptr::eq(self.parsed, self.text);
        let (text, ranges, read) = if neutralised && !same {
            (self.parsed, &mut self.parsed_ranges, &mut self.parsed_read)
        } else {
            (self.text, &mut self.ranges, &mut self.read)
        };
        let limits = self.limits;
        let ranges = ranges.get_or_insert_with(|| crate::yaml::document_ranges(text, &limits));
        let (index, range) = ranges
            .iter()
            .copied()
            .enumerate()
            .find(|(_, r)| r.start <= offset && offset < r.end.max(r.start + 1))?;
        let at = match read.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                read.push((index, crate::yaml::read_document(text, index, range, &limits)));
                read.len() - 1
            }
        };
        read.get(at)
            .and_then(|(_, d)| d.as_ref())
            .filter(|d| d.span.contains(offset) && d.error.is_none())
    }

    /// [`exemption_fix`] from this reading.
    pub fn exemption_fix(&mut self, offset: usize, check_id: &str) -> Option<Fix> {
        let document = self.document_at(offset, false)?;
        let objects = crate::workload::pod_objects(document);
        let object = objects
            .iter()
            .filter(|o| o.object.span().contains(offset))
            .min_by_key(|o| o.object.span().end - o.object.span().start)?;
        let layout = Layout::of(document);
        let key = exemption_key(check_id);
        let edit = patch::ensure(
            &layout,
            object.object,
            &["metadata", "annotations", &key],
            &format!("\"{PLACEHOLDER_REASON}\""),
        )?;
        let name = object.name.map(|n| format!(" {n:?}")).unwrap_or_default();
        Some(Fix {
            title: format!(
                "Exempt {}{name} from {check_id} (add {key} with a reason)",
                object.kind
            ),
            applicability: Applicability::Unsafe,
            edits: vec![edit],
        })
    }

    /// [`comment_exemption_fix`] from this reading.
    pub fn comment_exemption_fix(&mut self, offset: usize, check_id: &str) -> Option<Fix> {
        let parsed = self.parsed;
        let document = self.document_at(offset, true)?;
        let at = crate::comments::comment_position(document, offset)?;
        let blank_line = at == crate::comments::line_start(parsed, at);
        let separator = if blank_line { "" } else { "  " };
        Some(Fix {
            title: format!("Exempt this finding from {check_id} with a comment (not deployed)"),
            applicability: Applicability::Unsafe,
            edits: vec![TextEdit {
                span: Span::point(at),
                replacement: format!("{separator}{}", exemption_comment(check_id, PLACEHOLDER_REASON)),
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "a test fails by panicking"
    )]
    use super::*;

    #[test]
    fn a_request_reads_each_document_once_for_every_fix_it_asks() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: ü}\nspec:\n  hostPID: true\n  containers:\n  - name: a\n    image: x\n    securityContext: {privileged: true}\n---\napiVersion: v1\nkind: ConfigMap\n";
        let mut reading = RequestReading::new(text, text, crate::yaml::Limits::default());
        let host_pid = text.find("hostPID").unwrap();
        let privileged = text.find("privileged").unwrap();
        assert!(reading.exemption_fix(host_pid, "hostNamespaces").is_some());
        assert!(
            reading
                .comment_exemption_fix(host_pid, "hostNamespaces")
                .is_some()
        );
        assert!(reading.exemption_fix(privileged, "privileged").is_some());
        assert!(reading.comment_exemption_fix(privileged, "privileged").is_some());
        // Four fixes, one document read, and the ranges found once.
        assert_eq!(reading.read.len(), 1);
        assert!(reading.parsed_read.is_empty());
        let title = reading
            .exemption_fix(privileged, "privileged")
            .map(|f| f.title)
            .unwrap_or_default();
        assert_eq!(
            title,
            "Exempt Pod \"ü\" from privileged (add podsec.dev/exempt.privileged with a reason)"
        );
        assert_eq!(reading.read.len(), 1);
    }

    #[test]
    fn findings_fixed_in_their_document_alone_are_fixed_as_in_the_whole_text() {
        use super::{FindingKey, fix_findings_in_text, fix_findings_in_their_document};
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"{{ .Values.a }}\"}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ü}\n---\n# ünï\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: wéb, namespace: ü}\nspec:\n  template:\n    spec:\n      securityContext: {runAsUser: 1000}\n      containers:\n      - name: äpp\n        image: x\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x}\n";
        let options = crate::analysis::Options {
            with_fixes: true,
            ..crate::analysis::Options::default()
        };
        let analysis = crate::analysis::analyze(text, &options);
        for document in [2, 3] {
            let findings: Vec<FindingKey> = analysis
                .objects
                .iter()
                .filter(|o| o.document == document)
                .flat_map(|o| {
                    o.violations
                        .iter()
                        .flat_map(move |v| v.locations.iter().map(move |l| (o, v, l)))
                })
                .filter(|(_, _, l)| l.fix.is_some())
                .map(|(o, v, l)| FindingKey {
                    document: o.document,
                    check: v.check.id,
                    path: l.path.clone(),
                })
                .collect();
            assert!(findings.len() >= 2, "{findings:?}");
            let alone = fix_findings_in_their_document(text, &options, &findings).unwrap();
            let whole = fix_findings_in_text(text, &options, &findings);
            assert_eq!(alone, whole);
            assert_ne!(alone.text, text);
        }
    }

    #[test]
    fn no_comment_is_added_inside_a_scalar() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: \"two\n      lines\"\n    image: x\n";
        let options = Options::default();
        let analysis = analyze(text, &options);
        let location = &analysis.objects[0]
            .violations
            .iter()
            .find(|v| v.check.id == "allowPrivilegeEscalation")
            .unwrap()
            .locations[0];
        assert_eq!(
            comment_exemption_fix(text, &options, location.span.start, "allowPrivilegeEscalation"),
            None
        );
        // Elsewhere the comment ends the line, after what is written there (a comment included).
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true # on purpose   \n  containers: []\n";
        let analysis = analyze(text, &options);
        let location = &analysis.objects[0].violations[0].locations[0];
        let fix = comment_exemption_fix(text, &options, location.span.start, "hostNamespaces").unwrap();
        assert_eq!(
            patch::apply(text, &fix.edits),
            text.replace(
                "# on purpose   \n",
                "# on purpose  # podsec: exempt hostNamespaces -- TODO: reason   \n"
            )
        );
    }
}
