//! Exemption comments over one document: which findings each covers, the fixes that would move or
//! change one (set aside), and those that cover nothing.
//!
//! A comment `# podsec: exempt <check-id> -- <reason>` ends a line. On an object's or its pod template's
//! `metadata:` line it exempts the whole object from the check; on any other line, the check's findings
//! located on that line. The same rules as the annotation hold: a reason is required, a `TODO` reason
//! warns, an unknown check and an exemption that covers nothing are diagnosed.

use super::{CheckViolation, Location, ObjectReport};
use crate::comments::line_start;
use crate::patch::TextEdit;
use crate::policy::{ConfigProblem, Severity};
use crate::sources::{
    CommentExemption, EXEMPTED_BY_LINE_COMMENT, EXEMPTED_BY_METADATA_COMMENT, comment_exemptions,
};
use crate::workload::PodObject;
use crate::yaml::{Document, Span};

/// What became of one exemption of a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Usage {
    /// Nothing has looked at its line yet.
    Unclaimed,
    /// It covers at least one finding.
    Used,
    /// Its object has no finding for it to cover: why.
    NotNeeded(String),
    /// Its object is not checked at all (the admission configuration exempts it).
    NotChecked,
}

/// The exemption comments of one document, as the analysis of its objects uses them.
#[derive(Debug, Default)]
pub(super) struct CommentExemptions {
    exemptions: Vec<(CommentExemption, Usage)>,
    /// Every comment with a `podsec:` directive, and the start of its line.
    comments: Vec<(usize, Span)>,
}

impl CommentExemptions {
    /// Reads the document's exemption comments; what is wrong with them goes to `problems`.
    pub(super) fn of(text: &str, document: &Document<'_>, problems: &mut Vec<ConfigProblem>) -> Self {
        let found = comment_exemptions(text, document);
        problems.extend(found.problems);
        Self {
            exemptions: found
                .exemptions
                .into_iter()
                .map(|e| (e, Usage::Unclaimed))
                .collect(),
            comments: found
                .comments
                .into_iter()
                .map(|span| (line_start(document.text, span.start), span))
                .collect(),
        }
    }

    /// The lines of the object's `metadata:` key and of its pod template's.
    fn metadata_lines(document: &Document<'_>, object: &PodObject<'_>) -> Vec<usize> {
        [object.object, object.template]
            .iter()
            .filter_map(|mapping| mapping.entry("metadata"))
            .map(|entry| line_start(document.text, entry.key.span().start))
            .collect()
    }

    /// Whether the line starting at `line` is within the object.
    fn within(document: &Document<'_>, object: &PodObject<'_>, line: usize) -> bool {
        let span = object.object.span();
        line_start(document.text, span.start) <= line && line <= line_start(document.text, span.end)
    }

    /// The object is not checked: its comments are neither used nor unused.
    pub(super) fn not_checked(&mut self, document: &Document<'_>, object: &PodObject<'_>) {
        for (exemption, usage) in &mut self.exemptions {
            if *usage == Usage::Unclaimed && Self::within(document, object, exemption.line) {
                *usage = Usage::NotChecked;
            }
        }
    }

    /// Sets aside what the comments cover of `violation`: every finding when a comment on a `metadata:`
    /// line of the object names its check, else the locations on a line whose comment names it. Each
    /// covered part is returned with its exemption's reason; `violation` keeps the rest.
    pub(super) fn cover(
        &mut self,
        document: &Document<'_>,
        object: &PodObject<'_>,
        violation: &mut CheckViolation,
    ) -> Vec<(CheckViolation, String)> {
        if self.exemptions.is_empty() {
            return Vec::new();
        }
        let check = violation.check.id;
        let metadata = Self::metadata_lines(document, object);
        let on_metadata = self.exemptions.iter_mut().find(|(e, usage)| {
            e.check == check && metadata.contains(&e.line) && matches!(usage, Usage::Unclaimed | Usage::Used)
        });
        if let Some((exemption, usage)) = on_metadata {
            *usage = Usage::Used;
            let whole = CheckViolation {
                locations: std::mem::take(&mut violation.locations),
                ..violation.clone()
            };
            return vec![(
                whole,
                format!("{}{EXEMPTED_BY_METADATA_COMMENT}", exemption.reason),
            )];
        }
        let mut covered: Vec<(usize, Vec<Location>)> = Vec::new();
        let mut left = Vec::new();
        for location in std::mem::take(&mut violation.locations) {
            let line = line_start(document.text, location.span.start);
            let by = self.exemptions.iter().position(|(e, usage)| {
                e.check == check && e.line == line && matches!(usage, Usage::Unclaimed | Usage::Used)
            });
            match by {
                Some(index) => match covered.iter_mut().find(|(i, _)| *i == index) {
                    Some((_, locations)) => locations.push(location),
                    None => covered.push((index, vec![location])),
                },
                None => left.push(location),
            }
        }
        violation.locations = left;
        covered
            .into_iter()
            .filter_map(|(index, locations)| {
                let (exemption, usage) = self.exemptions.get_mut(index)?;
                *usage = Usage::Used;
                let part = CheckViolation {
                    locations,
                    ..violation.clone()
                };
                Some((part, format!("{}{EXEMPTED_BY_LINE_COMMENT}", exemption.reason)))
            })
            .collect()
    }

    /// After the object's exemptions: its comments that covered nothing say why (it does not fail the
    /// check, or something else already exempts the finding).
    pub(super) fn settle(&mut self, document: &Document<'_>, object: &PodObject<'_>, report: &ObjectReport) {
        if self.exemptions.is_empty() {
            return;
        }
        let metadata = Self::metadata_lines(document, object);
        for (exemption, usage) in &mut self.exemptions {
            if *usage != Usage::Unclaimed || !Self::within(document, object, exemption.line) {
                continue;
            }
            let on_metadata = metadata.contains(&exemption.line);
            let exempted_otherwise = report.exempted.iter().find(|(v, _)| {
                v.check.id == exemption.check
                    && (on_metadata
                        || v.locations
                            .iter()
                            .any(|l| line_start(document.text, l.span.start) == exemption.line))
            });
            let what = if on_metadata {
                format!("{}'s {} finding", report.display_name(), exemption.check)
            } else {
                format!("the {} finding on this line", exemption.check)
            };
            if let Some((_, reason)) = exempted_otherwise {
                *usage = Usage::NotNeeded(format!(
                    "{what} is already exempted ({reason}): this exemption is not needed"
                ));
            } else if on_metadata {
                *usage = Usage::NotNeeded(format!(
                    "{} does not fail {} at {}: this exemption is not needed",
                    report.display_name(),
                    exemption.check,
                    report.policy
                ));
            }
        }
    }

    /// Drops the fixes that would change an exemption comment or move it to another line (an edit that
    /// adds or removes a line break before it on its line): a fix never touches one.
    pub(super) fn protect(&self, document: &Document<'_>, report: &mut ObjectReport) {
        if self.comments.is_empty() {
            return;
        }
        let disturbs = |edit: &TextEdit| {
            self.comments.iter().any(|(line, comment)| {
                let overlaps = edit.span.start < comment.end && comment.start < edit.span.end;
                let before_on_its_line = |at: usize| *line < at && at <= comment.start;
                let breaks = edit.replacement.contains(['\n', '\r'])
                    || document
                        .text
                        .get(edit.span.start..edit.span.end)
                        .is_some_and(|removed| removed.contains(['\n', '\r']));
                overlaps
                    || (breaks && (before_on_its_line(edit.span.start) || before_on_its_line(edit.span.end)))
            })
        };
        for location in report.violations.iter_mut().flat_map(|v| &mut v.locations) {
            if location
                .fix
                .as_ref()
                .is_some_and(|fix| fix.edits.iter().any(disturbs))
            {
                location.fix = None;
            }
        }
    }

    /// The problems of the exemptions that covered nothing.
    pub(super) fn unused(self) -> Vec<ConfigProblem> {
        self.exemptions
            .into_iter()
            .filter_map(|(exemption, usage)| {
                let message = match usage {
                    Usage::Used | Usage::NotChecked => return None,
                    Usage::NotNeeded(message) => message,
                    Usage::Unclaimed if exemption.alone => {
                        "an exemption comment applies to the line it ends, not to the next one: put it at the end \
                         of the offending field's line, or of the object's `metadata:` line"
                            .to_string()
                    }
                    Usage::Unclaimed => format!(
                        "no {} finding on this line: this exemption is not needed",
                        exemption.check
                    ),
                };
                Some(ConfigProblem {
                    code: "unused-exemption",
                    severity: Severity::Information,
                    message,
                    span: exemption.span,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        reason = "a test fails by panicking"
    )]
    use crate::analysis::{Analysis, Options, analyze};
    use crate::policy::{Level, Policy, Severity, Version};

    /// Two containers that both break `privileged`, with `{metadata}` after the object's `metadata:` and
    /// `{first}` after the first container's `privileged: true`.
    fn deployment(metadata: &str, first: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:{metadata}\n  name: web\nspec:\n  template:\n    spec:\n      \
             securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n      containers:\n      \
             - name: a\n        image: x\n        securityContext:\n          privileged: true{first}\n          \
             allowPrivilegeEscalation: false\n          capabilities: {{drop: [ALL]}}\n      - name: b\n        image: x\n        \
             securityContext: {{privileged: true, allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n"
        )
    }

    /// The problems of an analysis: code, severity, message and the text they point at.
    fn problems<'t>(text: &'t str, analysis: &Analysis) -> Vec<(&'static str, Severity, String, &'t str)> {
        analysis
            .config_problems
            .iter()
            .map(|p| {
                (
                    p.code,
                    p.severity,
                    p.message.clone(),
                    &text[p.span.start..p.span.end],
                )
            })
            .collect()
    }

    /// The check and container of each remaining finding.
    type Found = Vec<(String, String)>;
    /// The check, container and reason of each exempted finding.
    type Exempted = Vec<(String, String, String)>;

    /// The first object's remaining and exempted findings.
    fn verdicts(analysis: &Analysis) -> (Found, Exempted) {
        let object = &analysis.objects[0];
        let found = object
            .violations
            .iter()
            .flat_map(|v| {
                v.locations
                    .iter()
                    .map(|l| (v.check.id.to_string(), l.container.clone().unwrap_or_default()))
            })
            .collect();
        let exempted = object
            .exempted
            .iter()
            .flat_map(|(v, reason)| {
                v.locations.iter().map(|l| {
                    (
                        v.check.id.to_string(),
                        l.container.clone().unwrap_or_default(),
                        reason.clone(),
                    )
                })
            })
            .collect();
        (found, exempted)
    }

    #[test]
    fn a_comment_on_a_field_line_exempts_the_findings_of_that_line() {
        let text = deployment("", "  # podsec: exempt privileged -- the CNI agent needs it");
        let analysis = analyze(&text, &Options::default());
        let (found, exempted) = verdicts(&analysis);
        assert_eq!(found, [("privileged".to_string(), "b".to_string())]);
        assert_eq!(
            exempted,
            [(
                "privileged".to_string(),
                "a".to_string(),
                "the CNI agent needs it (comment on its line)".to_string()
            )]
        );
        // The other container still fails: PSA's line keeps the check.
        assert!(
            analysis.objects[0].warning().contains("privileged"),
            "{analysis:?}"
        );
        assert_eq!(problems(&text, &analysis), []);
    }

    #[test]
    fn a_comment_on_the_metadata_line_exempts_the_whole_object() {
        let text = deployment(
            " # podsec: exempt privileged -- a node agent: every container is privileged",
            "",
        );
        let analysis = analyze(&text, &Options::default());
        let (found, exempted) = verdicts(&analysis);
        assert_eq!(found, []);
        let reason = "a node agent: every container is privileged (comment on the object's metadata line)";
        assert_eq!(
            exempted,
            [
                ("privileged".to_string(), "a".to_string(), reason.to_string()),
                ("privileged".to_string(), "b".to_string(), reason.to_string())
            ]
        );
        assert_eq!(
            analysis.objects[0].warning(),
            "",
            "PSA's line leaves the check out"
        );
        assert_eq!(problems(&text, &analysis), []);
        // The pod template's `metadata:` line, as for the annotation.
        let text = text.replace(
            " # podsec: exempt privileged -- a node agent: every container is privileged\n",
            "\n",
        );
        let text = text.replace(
            "  template:\n    spec:",
            "  template:\n    metadata: # podsec: exempt privileged -- on the template\n      labels: {app: web}\n    spec:",
        );
        let (found, exempted) = verdicts(&analyze(&text, &Options::default()));
        assert_eq!((found.len(), exempted.len()), (0, 2), "{text}");
    }

    #[test]
    fn a_missing_reason_does_not_apply_and_a_placeholder_warns() {
        for (comment, message, spanned) in [
            (
                "# podsec: exempt privileged",
                "the exemption needs a reason, after ` -- `: `# podsec: exempt <check-id> -- <reason>`; it does not apply without one",
                "# podsec: exempt privileged",
            ),
            (
                "# podsec: exempt privileged --   ",
                "the exemption from privileged needs a reason after `--`; it does not apply without one",
                "# podsec: exempt privileged --",
            ),
            (
                "#podsec:exempt privileged",
                "the exemption needs a reason, after ` -- `: `# podsec: exempt <check-id> -- <reason>`; it does not apply without one",
                "#podsec:exempt privileged",
            ),
            (
                "# podsec: exempt -- why",
                "the exemption names no check: `# podsec: exempt <check-id> -- <reason>`",
                "# podsec: exempt -- why",
            ),
        ] {
            let text = deployment("", &format!("  {comment}"));
            let analysis = analyze(&text, &Options::default());
            assert_eq!(
                problems(&text, &analysis),
                [("invalid-exemption", Severity::Error, message.to_string(), spanned)],
                "{comment}"
            );
            assert_eq!(verdicts(&analysis).1, [], "{comment}: nothing is exempted");
        }
        let text = deployment("", "  # podsec: exempt privileged -- TODO: reason");
        let analysis = analyze(&text, &Options::default());
        assert_eq!(
            problems(&text, &analysis),
            [(
                "invalid-exemption",
                Severity::Warning,
                "the exemption from privileged still has a placeholder reason: say why the workload needs it"
                    .to_string(),
                "TODO: reason"
            )]
        );
        assert_eq!(
            verdicts(&analysis).1.len(),
            1,
            "a placeholder reason still applies"
        );
    }

    #[test]
    fn unknown_checks_and_instructions_are_diagnosed_at_their_word() {
        let text = deployment("", "  # podsec: exempt privilegd, privileged -- the CNI");
        let analysis = analyze(&text, &Options::default());
        assert_eq!(
            problems(&text, &analysis),
            [(
                "invalid-exemption",
                Severity::Warning,
                "unknown check \"privilegd\" in a podsec comment; `podsec explain` lists the checks"
                    .to_string(),
                "privilegd"
            )]
        );
        assert_eq!(verdicts(&analysis).1.len(), 1, "the known check is exempted");
        let text = deployment("", "  # podsec: ignore privileged");
        let analysis = analyze(&text, &Options::default());
        assert_eq!(
            problems(&text, &analysis),
            [(
                "invalid-exemption",
                Severity::Warning,
                "unknown podsec comment \"ignore\": podsec reads `# podsec: exempt <check-id> -- <reason>` only"
                    .to_string(),
                "# podsec: ignore privileged"
            )]
        );
    }

    #[test]
    fn an_exemption_that_covers_nothing_says_why() {
        let unused = |text: &str| -> Vec<(String, String)> {
            let analysis = analyze(text, &Options::default());
            problems(text, &analysis)
                .into_iter()
                .map(|(code, severity, message, spanned)| {
                    assert_eq!((code, severity), ("unused-exemption", Severity::Information));
                    (message, spanned.to_string())
                })
                .collect()
        };
        // A line without a finding of the check.
        let text = deployment("", "  # podsec: exempt hostPorts -- no such port");
        assert_eq!(
            unused(&text),
            [(
                "no hostPorts finding on this line: this exemption is not needed".to_string(),
                "hostPorts".to_string()
            )]
        );
        // On its own line: it does not reach the next one.
        let text = deployment("", "").replace(
            "          privileged: true\n",
            "          # podsec: exempt privileged -- above\n          privileged: true\n",
        );
        assert_eq!(
            unused(&text),
            [(
                "an exemption comment applies to the line it ends, not to the next one: put it at the end of the \
                 offending field's line, or of the object's `metadata:` line"
                    .to_string(),
                "privileged".to_string()
            )]
        );
        // On the metadata line of an object that does not fail the check.
        let text = deployment(" # podsec: exempt hostPorts -- none", "");
        assert_eq!(
            unused(&text),
            [(
                "Deployment \"web\" does not fail hostPorts at restricted:latest: this exemption is not needed"
                    .to_string(),
                "hostPorts".to_string()
            )]
        );
        // Already exempted by the annotation, or by the comment on the metadata line.
        let text = deployment(
            " # podsec: exempt privileged -- whole object",
            "  # podsec: exempt privileged -- this one",
        );
        assert_eq!(
            unused(&text),
            [(
                "the privileged finding on this line is already exempted (whole object (comment on the object's \
                 metadata line)): this exemption is not needed"
                    .to_string(),
                "privileged".to_string()
            )]
        );
        let text = deployment(
            "\n  annotations: {podsec.dev/exempt.privileged: \"by annotation\"} # podsec: exempt hostPorts -- x",
            "",
        )
        .replace("metadata:\n", "metadata: # podsec: exempt privileged -- twice\n");
        assert_eq!(
            unused(&text),
            [
                (
                    "Deployment \"web\"'s privileged finding is already exempted (by annotation (annotation on the \
                     object)): this exemption is not needed"
                        .to_string(),
                    "privileged".to_string()
                ),
                (
                    "no hostPorts finding on this line: this exemption is not needed".to_string(),
                    "hostPorts".to_string()
                ),
            ]
        );
        // A document of a kind podsec never reads is read no further than its kind: its comments are not
        // looked at, and a `#` in one of its quoted values is not mistaken for one.
        let text =
            "apiVersion: v1\nkind: ConfigMap\ndata: {a: \"x # podsec: exempt privileged -- quoted\"}\n";
        assert_eq!(unused(text), []);
        let text = "apiVersion: v1\nkind: Service\nspec: {} # podsec: exempt privileged -- not a workload\n";
        assert_eq!(unused(text), []);
    }

    #[test]
    fn several_exemptions_on_one_line() {
        let text = deployment(
            "",
            "  # an earlier note # podsec: exempt privileged, allowPrivilegeEscalation -- one reason #podsec: exempt \
             runAsUser -- another # not a third",
        );
        let analysis = analyze(&text, &Options::default());
        let (_, exempted) = verdicts(&analysis);
        assert_eq!(
            exempted,
            [(
                "privileged".to_string(),
                "a".to_string(),
                "one reason (comment on its line)".to_string()
            )]
        );
        let unused: Vec<(&str, &str)> = problems(&text, &analysis)
            .iter()
            .map(|(code, _, _, spanned)| (*code, *spanned))
            .collect();
        assert_eq!(
            unused,
            [
                ("unused-exemption", "allowPrivilegeEscalation"),
                ("unused-exemption", "runAsUser")
            ]
        );
        // The reason of the second runs to the end of the line, `#` and all.
        let sources = crate::sources::comment_exemptions(
            &text,
            &crate::yaml::parse_stream(&text, &Default::default()).documents[0],
        );
        assert_eq!(sources.exemptions[2].reason, "another # not a third");
    }

    #[test]
    fn comments_in_flow_mappings_crlf_tabs_and_quoted_text() {
        let text = "apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: é}\r\nspec:\r\n  securityContext: {runAsNonRoot: true, \
                    seccompProfile: {type: RuntimeDefault}}\r\n  containers:\r\n  - name: \"ü # podsec: exempt privileged -- quoted\"\r\n    \
                    image: x\r\n    securityContext: {\r\n      privileged: true,\t# podsec: exempt privileged -- dans le flux ✓\r\n      \
                    allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\r\n";
        let analysis = analyze(text, &Options::default());
        let (found, exempted) = verdicts(&analysis);
        assert_eq!(found, []);
        assert_eq!(
            exempted,
            [(
                "privileged".to_string(),
                "ü # podsec: exempt privileged -- quoted".to_string(),
                "dans le flux ✓ (comment on its line)".to_string()
            )]
        );
        assert_eq!(problems(text, &analysis), [], "the quoted text is no comment");
    }

    #[test]
    fn an_exemption_for_a_check_at_another_level() {
        // runAsNonRoot is restricted's: checked at baseline, there is nothing to exempt.
        let text = deployment("", "").replace(
            "      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n",
            "      securityContext: {seccompProfile: {type: RuntimeDefault}}\n",
        );
        let text = text.replace(
            "metadata:\n",
            "metadata: # podsec: exempt runAsNonRoot -- the image runs as root\n",
        );
        let baseline = Options {
            policy: Policy::new(Level::Baseline, Version::Latest),
            ..Options::default()
        };
        let analysis = analyze(&text, &baseline);
        assert_eq!(
            problems(&text, &analysis),
            [(
                "unused-exemption",
                Severity::Information,
                "Deployment \"web\" does not fail runAsNonRoot at baseline:latest: this exemption is not needed"
                    .to_string(),
                "runAsNonRoot"
            )]
        );
        // At restricted the same comment is used.
        let analysis = analyze(&text, &Options::default());
        assert_eq!(problems(&text, &analysis), []);
        assert!(
            verdicts(&analysis)
                .1
                .iter()
                .any(|(check, _, _)| check == "runAsNonRoot")
        );
    }

    #[test]
    fn list_items_have_their_own_metadata_lines() {
        let item = deployment("", "")
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>();
        let item = item.replacen("  apiVersion", "- apiVersion", 1);
        let text = format!(
            "apiVersion: v1\nkind: List\nmetadata: # podsec: exempt privileged -- the List's own\n  name: all\nitems:\n{}{}",
            item.replacen(
                "metadata:",
                "metadata: # podsec: exempt privileged -- first item",
                1
            ),
            item
        );
        let analysis = analyze(&text, &Options::default());
        assert_eq!(analysis.objects.len(), 2);
        assert_eq!(analysis.objects[0].exempted.len(), 1);
        assert_eq!(analysis.objects[1].exempted.len(), 0);
        assert_eq!(
            problems(&text, &analysis)
                .iter()
                .map(|p| (p.0, p.3))
                .collect::<Vec<_>>(),
            [("unused-exemption", "privileged")],
            "the List's metadata is not its items'"
        );
    }

    #[test]
    fn chart_templates_read_the_comments_they_were_written_with() {
        // A comment in a branch of an `else` is used by the side that has the finding; an action alone on
        // its line is neutralised into a comment, which is not the author's.
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  securityContext: \
                    {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    \
                    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities: {drop: \
                    [ALL]}\n{{- if .Values.debug }}\n      privileged: true # podsec: exempt privileged -- {{ .Values.why }}\n\
                    {{- else }}\n      runAsUser: 1000\n{{- end }}\n{{/* podsec: exempt runAsUser -- not a comment */}}\n";
        let analysis = analyze(text, &Options::default());
        assert_eq!(problems(text, &analysis), [], "{analysis:#?}");
        let (found, exempted) = verdicts(&analysis);
        assert_eq!(found, []);
        assert_eq!(
            exempted,
            [(
                "privileged".to_string(),
                "app".to_string(),
                "{{ .Values.why }} (comment on its line)".to_string()
            )]
        );
    }

    #[test]
    fn fixes_never_move_or_change_an_exemption_comment() {
        let pod = |container: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: app\n    image: x\n{container}"
            )
        };
        for (container, comment, fixed_away) in [
            // Removing the only item would remove its line, and the comment with it: not done.
            (
                "    securityContext:\n      capabilities:\n        add:\n        - NET_ADMIN # podsec: exempt capabilities_baseline -- the VPN\n",
                "        - NET_ADMIN # podsec: exempt capabilities_baseline -- the VPN\n",
                false,
            ),
            // In a flow list the item goes, the comment stays (and now covers nothing).
            (
                "    securityContext:\n      capabilities:\n        add: [NET_ADMIN] # podsec: exempt capabilities_baseline -- the VPN\n",
                "        add: [] # podsec: exempt capabilities_baseline -- the VPN\n",
                true,
            ),
            // Filling an empty `securityContext:` would push the comment down to the new key's line.
            (
                "    securityContext: # podsec: exempt runAsUser -- why\n",
                "    securityContext: # podsec: exempt runAsUser -- why\n",
                false,
            ),
        ] {
            let text = pod(container);
            let fixed = crate::fix_all::fix_all(&text, &Options::default(), true).text;
            assert!(fixed.contains(comment), "{text}\n->\n{fixed}");
            let left: Vec<&str> = analyze(&fixed, &Options::default()).objects[0]
                .violations
                .iter()
                .map(|v| v.check.id)
                .collect();
            let kept = if container.contains("NET_ADMIN") {
                "capabilities_restricted"
            } else {
                "allowPrivilegeEscalation"
            };
            assert_eq!(!left.contains(&kept), fixed_away, "{fixed}: {left:?}");
        }
    }
}
