//! The codes of podsec's findings that are not checks (a document kubectl refuses, a chart template's
//! value, a policy file's mistake): what each means, why podsec says it and what to do. SARIF's rules,
//! `podsec explain CODE` and `--ignore` read them here.

/// A podsec finding that is not a check.
pub struct ProblemCode {
    /// The code problems carry.
    pub id: &'static str,
    /// Its SARIF level: `error`, `warning` or `note`.
    pub level: &'static str,
    /// What it means, in a sentence.
    pub description: &'static str,
    /// Why podsec says so.
    pub why: &'static str,
    /// What to do.
    pub help: &'static str,
    /// Whether `--ignore` may set it aside: what podsec says of a document, not of a policy source
    /// (a label, an exemption or a policy file podsec is configured by is fixed where it is written).
    pub ignorable: bool,
}

/// The document and policy-source problems: SARIF's rules after the checks', `podsec explain CODE`, and
/// the codes `--ignore` takes besides the check IDs. Every `code` the engine gives a problem is here
/// (`tests/tidy.rs` holds it to that); `other`, last, catches a code added later.
pub const PROBLEM_CODES: &[ProblemCode] = &[
    ProblemCode {
        id: "syntax-error",
        level: "error",
        description: "kubectl refuses the document (not valid YAML, or not what JSON can hold); it is not analysed.",
        why: "kubectl stops reading a file at its first error: nothing after it reaches the cluster, and a half-read pod would give false verdicts.",
        help: "Fix the YAML at the location given: kubectl refuses it (go-yaml's syntax and limits, a bad `---` line, keys and values JSON cannot hold, a tag that does not fit its value), and stops reading the file there.",
        ignorable: true,
    },
    ProblemCode {
        id: "limit-exceeded",
        level: "error",
        description: "The document crosses a resource limit (merges, documents); it is not analysed.",
        why: "podsec bounds what one document may cost, as the API server bounds what it accepts.",
        help: "Merge keys that copy more than 100,000 entries into a document, documents over 10 MB and streams of more than 100,000 documents are refused. (Nesting deeper than 10,000 levels and excessive aliasing are kubectl's own errors: syntax-error.)",
        ignorable: true,
    },
    ProblemCode {
        id: "not-sent",
        level: "warning",
        description: "What kubectl never sends to the cluster: it is not checked.",
        why: "A verdict on what never reaches the cluster would be noise; podsec says it is not checked instead of staying silent.",
        help: "kubectl stops reading a file at its first error (the message names its line), and go-yaml reads a document only up to `...`: fix that error, or start a new document with a `---` line.",
        ignorable: true,
    },
    ProblemCode {
        id: "invalid-object",
        level: "error",
        description: "The API server refuses the object (or every pod a workload creates) as written.",
        why: "The API server refuses the object before Pod Security Admission sees it, so PSA's verdict is not the whole story.",
        help: "Upstream's validation of the fields podsec reads (pkg/apis/core/validation): the message is the API server's, with the field's path. Fix the field; podsec never offers a fix whose result the API server would refuse.",
        ignorable: true,
    },
    ProblemCode {
        id: "helm-template",
        level: "note",
        description: "A part of a chart template podsec could not read without rendering it: it is not analysed.",
        why: "A chart template is not YAML until Helm renders it; podsec reads it statically, with its actions set aside, and this part could not be read so.",
        help: "Check the chart as Helm renders it (podsec renders a chart with Helm when Helm is found; by hand: `helm template … | podsec check -`).",
        ignorable: true,
    },
    ProblemCode {
        id: "helm-value",
        level: "note",
        description: "A verdict of a chart template that depends on the chart\'s values: information, not a finding.",
        why: "The field's value, or a structure an action writes where the field would be (`toYaml .Values.securityContext`), comes from the chart's values: no reading of the template alone can judge it.",
        help: "Check the chart as Helm renders it, with the values it is deployed with (podsec renders a chart with Helm when Helm is found; by hand: `helm template … | podsec check -`); or set the field literally in the template.",
        ignorable: true,
    },
    ProblemCode {
        id: "helm-render",
        level: "warning",
        description: "Helm could not render the chart: its objects are not checked as rendered.",
        why: "podsec checks what a chart deploys by rendering it with Helm; when rendering fails, the chart's objects are not checked as rendered.",
        help: "Helm's own message says what failed (a missing value, a template error, a dependency not built): fix it, or give the values files the chart needs in .podsec.yaml.",
        ignorable: true,
    },
    ProblemCode {
        id: "kustomize-build",
        level: "error",
        description: "Kustomize could not build the overlay: its objects are not checked as built.",
        why: "podsec checks what an overlay deploys by building it with Kustomize; when the build fails, the overlay's objects are not checked as built.",
        help: "Kustomize's own message says what failed (a missing resource, a patch that matches nothing): fix the kustomization.",
        ignorable: true,
    },
    ProblemCode {
        id: "kustomize-patch",
        level: "note",
        description: "A file a kustomization uses as a patch: it is not judged as a whole object.",
        why: "A patch is not an object: judged alone, a patch that only sets `resources` would get every restricted finding.",
        help: "Its fields are checked in the overlay's built output, where they are merged into the base; check the overlay's directory.",
        ignorable: true,
    },
    ProblemCode {
        id: "psp-removed",
        level: "warning",
        description: "A PodSecurityPolicy: the API was removed in Kubernetes v1.25.",
        why: "PodSecurityPolicy no longer exists in current clusters: the namespaces it protected need Pod Security labels instead.",
        help: "The message names the strictest Pod Security level the policy already guarantees and the fields that block a stricter one; label the namespaces that used it accordingly.",
        ignorable: true,
    },
    ProblemCode {
        id: "invalid-label",
        level: "error",
        description: "A Pod Security label of a Namespace has an invalid value; PSA falls back as described.",
        why: "Pod Security Admission does not refuse a bad label: it falls back, to restricted for enforce and to privileged for warn and audit.",
        help: "An invalid enforce level fails closed (restricted), an invalid warn or audit level fails open (privileged), an invalid version is latest.",
        ignorable: false,
    },
    ProblemCode {
        id: "namespace-impact",
        level: "warning",
        description: "Workloads of the namespace do not pass its enforce level.",
        why: "Labelling a namespace does not evict its pods, but every new pod that fails is refused: the label would break these workloads' next rollout.",
        help: "PSA's dry-run warning for the label: the workloads listed would have their pods rejected.",
        ignorable: false,
    },
    ProblemCode {
        id: "invalid-exemption",
        level: "error",
        description: "An exemption without a reason, or for an unknown check.",
        why: "An exemption must say which check it covers and why, so that it can be reviewed.",
        help: "An exemption names a check of `podsec explain` and gives its reason: `podsec.dev/exempt.<check-id>: \"<reason>\"`, the comment `# podsec: exempt <check-id> -- <reason>`, or `check` and `reason` in the project file.",
        ignorable: false,
    },
    ProblemCode {
        id: "exemption-not-enforced",
        level: "warning",
        description: "An exemption the cluster will not honour: the finding fails a level a Namespace label or the admission configuration enforces.",
        why: "The cluster, not podsec, decides what is admitted.",
        help: "Pod Security Admission enforces whole levels and knows no per-check exemption, so the finding stays an error. Relax the namespace's enforce level, or enforce podsec's policy in the cluster with `podsec export vap` and declare `enforcedByAdmissionPolicy: true` in .podsec.yaml.",
        ignorable: false,
    },
    ProblemCode {
        id: "unused-exemption",
        level: "warning",
        description: "An exemption that covers no finding.",
        why: "An exemption that covers nothing hides the next finding it happens to match.",
        help: "Remove the exemption: nothing it covers fails.",
        ignorable: false,
    },
    ProblemCode {
        id: "expired-exemption",
        level: "warning",
        description: "An exemption past its expiry date; it no longer applies.",
        why: "Exemptions are meant to be temporary; an expired one is a decision to revisit.",
        help: "Fix the findings it covered, or renew the exemption with a new `expires` date.",
        ignorable: false,
    },
    ProblemCode {
        id: "ignored-setting",
        level: "note",
        description: "A setting of the admission configuration that cannot apply to files.",
        why: "podsec reads files, which have no requesting user.",
        help: "exemptions.usernames applies to the user making a request, which files do not have.",
        ignorable: false,
    },
    ProblemCode {
        id: "invalid-config",
        level: "error",
        description: "An invalid value in a policy file.",
        why: "A policy file podsec cannot read would silently change what is checked.",
        help: "The message names the valid values; `editors/podsec.schema.json` describes the project file.",
        ignorable: false,
    },
    ProblemCode {
        id: "unknown-key",
        level: "error",
        description: "An unknown key in a policy file.",
        why: "A misspelt key would silently do nothing.",
        help: "The message lists the known keys; `editors/podsec.schema.json` describes the project file.",
        ignorable: false,
    },
    ProblemCode {
        id: "other",
        level: "warning",
        description: "Another podsec problem.",
        why: "",
        help: "The message says what is wrong.",
        ignorable: false,
    },
];

/// The problem code `id`, if podsec has one.
pub fn problem_code(id: &str) -> Option<&'static ProblemCode> {
    PROBLEM_CODES
        .iter()
        .find(|code| code.id == id && code.id != "other")
}

/// The codes `--ignore` takes besides the check IDs.
pub fn ignorable_codes() -> impl Iterator<Item = &'static str> {
    PROBLEM_CODES
        .iter()
        .filter(|code| code.ignorable)
        .map(|code| code.id)
}

/// `podsec explain CODE`: the code's Markdown, as a check's reads.
pub fn code_markdown(code: &ProblemCode) -> String {
    let ignore = if code.ignorable {
        format!("`podsec check --ignore {}` sets these aside for a run.", code.id)
    } else {
        "It is fixed where it is written: `--ignore` does not take it.".to_string()
    };
    format!(
        "# {}\n\n{}\n\n## Why\n{}\n\n## What to do\n{}\n\n{ignore}\n",
        code.id, code.description, code.why, code.help
    )
}

/// Sets aside the problems of `analysis` and `extra` whose code `--ignore` names, as an exemption sets a
/// check's findings aside: nothing counts or prints them.
pub fn set_aside_problems(
    analysis: &mut podsec_engine::Analysis,
    extra: &mut Vec<podsec_engine::policy::ConfigProblem>,
    ignored: &[String],
) {
    let kept = |code: &str| !ignored.iter().any(|id| id == code);
    analysis.problems.retain(|p| kept(p.code));
    analysis.config_problems.retain(|p| kept(p.code));
    extra.retain(|p| kept(p.code));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_no_check_shares_one() {
        for (index, code) in PROBLEM_CODES.iter().enumerate() {
            assert!(
                PROBLEM_CODES
                    .iter()
                    .skip(index + 1)
                    .all(|other| other.id != code.id),
                "{} twice",
                code.id
            );
            assert!(podsec_engine::check_by_id(code.id).is_none(), "{}", code.id);
            assert!(code.id == "other" || !code.why.is_empty(), "{}", code.id);
        }
        assert_eq!(PROBLEM_CODES.last().map(|c| c.id), Some("other"));
        assert!(problem_code("other").is_none());
    }
}
