//! What a check means, for `podsec explain` and for hover: Markdown built from the checks' own
//! documentation, plus the verdict at a position.

use crate::analysis::{Analysis, Options, analyze};
use crate::checks::{CHECKS, Check, checks_for};
use crate::fix::Applicability;
use crate::policy::{Level, Policy, Version};
use crate::workload::pod_objects;
use crate::yaml::Span;

/// `runAsNonRoot (restricted, since v1.0; changes at v1.35)`.
pub fn heading(check: &Check) -> String {
    let versions: Vec<String> = check.versions.iter().map(|v| format!("v1.{v}")).collect();
    let mut heading = format!(
        "{} ({}, since {}",
        check.id,
        check.level,
        versions.first().map_or("v1.0", String::as_str)
    );
    if versions.len() > 1 {
        heading.push_str(&format!(
            "; changes at {}",
            versions.get(1..).unwrap_or_default().join(", ")
        ));
    }
    if let Some(overridden) = check.overrides {
        heading.push_str(&format!("; replaces {overridden} at restricted"));
    }
    heading.push(')');
    heading
}

/// The full documentation of a check, as `podsec explain` prints it.
pub fn check_markdown(check: &Check) -> String {
    // The declared fix availability opens the "Fix safety" section, so the docs cannot drift from it.
    let doc = check.doc.trim_end().replacen(
        "## Fix safety\n",
        &format!("## Fix safety\n{}\n", check.fix_availability.describe()),
        1,
    );
    format!("# {}\n\n{doc}\n", heading(check))
}

/// A check's documentation as a hover shows it below the summary: its title and sections one level
/// smaller than the summary's text (`####`, `#####`), so a section never looks bigger than its title.
fn folded(check: &Check) -> String {
    let mut out = String::new();
    for line in check_markdown(check).lines() {
        if let Some(title) = line.strip_prefix("# ") {
            out.push_str(&format!("#### {title}\n"));
        } else if let Some(section) = line.strip_prefix("## ") {
            out.push_str(&format!("##### {section}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

/// What hovering a position shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverInfo {
    /// The text the hover belongs to.
    pub span: Span,
    /// Markdown.
    pub markdown: String,
}

/// Normalises a pod-relative path the way check field patterns are written.
fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        match after.find(']') {
            Some(close)
                if after
                    .get(1..close)
                    .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit())) =>
            {
                out.push_str("[*]");
                rest = after.get(close + 1..).unwrap_or("");
            }
            _ => {
                // A quoted key: copy it through its closing `"]`.
                let end = after.find("\"]").map_or(after.len(), |e| e + 2);
                out.push_str(after.get(..end).unwrap_or(after));
                rest = after.get(end..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out.replace("initContainers[*]", "containers[*]")
        .replace("ephemeralContainers[*]", "containers[*]")
}

/// How a check relates to a field path.
fn relation(check: &Check, path: &str) -> Option<bool> {
    let mut related = None;
    for field in check.fields {
        if path.starts_with(field) {
            return Some(true);
        }
        if field.starts_with(path) && field.get(path.len()..).is_some_and(|r| r.starts_with(['.', '['])) {
            related = Some(false);
        }
    }
    related
}

/// What hovering byte `offset` of `text` shows: the checks violated there, or the checks that read the
/// field under the cursor, with the policy in force for the object. `None` outside pod-bearing objects.
pub fn hover(text: &str, options: &Options, offset: usize) -> Option<HoverInfo> {
    // With fixes: the summary line says what the fix of a finding would do.
    let options = &Options {
        with_fixes: true,
        ..*options
    };
    hover_in(text, options, offset, &analyze(text, options))
}

/// [`hover`], from `analysis`: the analysis of `text` with `options` and fixes, made already (the
/// editor keeps one per document version for its code actions).
pub fn hover_in(text: &str, options: &Options, offset: usize, analysis: &Analysis) -> Option<HoverInfo> {
    // Only the document under the cursor is read again.
    let document = crate::yaml::document_at(text, &options.limits, offset)
        .filter(|d| d.span.contains(offset) && d.error.is_none())?;
    let document = &document;
    if let Some(info) = label_hover(document, offset) {
        return Some(info);
    }
    if let Some(info) = psp_hover(document) {
        return Some(info);
    }
    // The innermost object under the cursor (a List holds several).
    let object = pod_objects(document)
        .into_iter()
        .filter(|o| o.object.span().contains(offset))
        .min_by_key(|o| o.object.span().end - o.object.span().start)?;
    let report = analysis
        .objects
        .iter()
        .find(|r| r.document == document.index && r.header == object.header)?;
    let policy: Policy = report.policy;
    let in_force = checks_for(policy);
    // A summary line per check first, then the policy in force, then the rules' documentation.
    let mut markdown = String::new();
    let mut docs = String::new();
    let mut span = None;

    // 1. Violations reported here.
    for violation in &report.violations {
        if let Some(location) = violation.locations.iter().find(|l| l.span.contains(offset)) {
            span.get_or_insert(location.span);
            let fix = match &location.fix {
                Some(fix) if fix.applicability == Applicability::Safe => {
                    format!(" · fix: {} (safe)", fix.title)
                }
                Some(fix) => format!(" · fix: {} (unsafe)", fix.title),
                None => " · no automatic fix".to_string(),
            };
            // A finding enforce admits says which modes report it, as its diagnostic does.
            let modes = report
                .mode_note(violation)
                .map(|note| format!("{note} · "))
                .unwrap_or_default();
            markdown.push_str(&format!(
                "**✗ {}** — {} · {modes}{}{fix}\n\n",
                violation.check.id,
                violation.check.level,
                violation.message_at(location),
            ));
            if let Some((_, reason)) = report
                .refused_exemptions
                .iter()
                .find(|(check, _)| *check == violation.check.id)
            {
                markdown.push_str(&format!(
                    "Exempted: {reason} · does not hold: {}, and PSA knows no per-check exemption \
                     (`exemption-not-enforced`)\n\n",
                    enforced_by_cluster(report)
                ));
            }
            docs.push_str(&folded(violation.check));
        }
    }

    // Exempted findings here: by what, and why the exemption holds.
    for (violation, reason) in &report.exempted {
        if let Some(location) = violation.locations.iter().find(|l| l.span.contains(offset)) {
            span.get_or_insert(location.span);
            markdown.push_str(&format!(
                "**⊘ {}** — {} · exempted: {reason} · {}\n\n",
                violation.check.id,
                violation.check.level,
                exemption_holds_because(options, report, violation.mode),
            ));
            docs.push_str(&folded(violation.check));
        }
    }

    // 2. Otherwise, the checks that read the field under the cursor.
    if markdown.is_empty() {
        let at = document.node_at(offset)?;
        let full = document.path_of(at.value);
        let template = document.path_of(object.template.id());
        let relative = if template.is_empty() {
            full.clone()
        } else {
            full.strip_prefix(&template)?.trim_start_matches('.').to_string()
        };
        let path = normalise(&relative);
        let mut exact: Vec<&Check> = Vec::new();
        let mut below: Vec<&Check> = Vec::new();
        for check in CHECKS.iter().copied() {
            match relation(check, &path) {
                Some(true) => exact.push(check),
                Some(false) => below.push(check),
                None => {}
            }
        }
        if exact.is_empty() && below.is_empty() {
            return None;
        }
        span = Some(at.span);
        for check in &exact {
            let exempted = report.exempted.iter().find(|(v, _)| v.check.id == check.id);
            let modes = checking_modes(report, check);
            let (mark, state) = if let Some((violation, reason)) = exempted {
                let holds = exemption_holds_because(options, report, violation.mode);
                ("⊘", format!("exempted: {reason} · {holds}"))
            } else if let Some(why) = not_checked_because(report, check) {
                ("○", why)
            } else if in_force.contains(check) {
                ("✓", "checked, and passes here".to_string())
            } else {
                let modes = modes.join(" and ");
                ("✓", format!("checked in {modes} mode only, and passes here"))
            };
            markdown.push_str(&format!(
                "**{mark} {}** — {} · {state}\n\n",
                check.id, check.level
            ));
            docs.push_str(&folded(check));
        }
        if !below.is_empty() {
            markdown.push_str("Fields under here are read by:\n\n");
            for check in below {
                let modes = checking_modes(report, check);
                let state = if let Some(why) = not_checked_because(report, check) {
                    format!(" ({why})")
                } else if in_force.contains(&check) {
                    String::new()
                } else {
                    format!(" (checked in {} mode only)", modes.join(" and "))
                };
                markdown.push_str(&format!(
                    "- `{}` ({}){state}: {}\n",
                    check.id,
                    check.level,
                    check.summary()
                ));
            }
            markdown.push('\n');
        }
    }
    markdown.push_str(&format!("Policy in force for {}:", report.display_name()));
    if let Some(why) = &report.exempt {
        markdown.push_str(&format!(" none, {why}"));
    } else if report.modes.is_empty() {
        markdown.push_str(" none, nothing is checked");
    }
    let privileged = report
        .privileged_modes
        .iter()
        .map(|m| (m, " (allows everything)"));
    for ((mode, mode_policy), note) in privileged.chain(report.modes.iter().map(|m| (m, ""))) {
        markdown.push_str(&format!(
            "\n- {}: `{}` from {}{note}",
            mode.as_str(),
            mode_policy.policy,
            mode_policy.source
        ));
    }
    if !docs.is_empty() {
        markdown.push_str("\n\n---\n\n");
        markdown.push_str(docs.trim_end());
    }
    Some(HoverInfo {
        span: span.unwrap_or(object.header),
        markdown,
    })
}

/// The modes of `report` whose policy runs `check`.
fn checking_modes(report: &crate::analysis::ObjectReport, check: &Check) -> Vec<&'static str> {
    report
        .modes
        .iter()
        .filter(|(_, m)| checks_for(m.policy).contains(&check))
        .map(|(mode, _)| mode.as_str())
        .collect()
}

/// Why no mode of `report` runs `check`, or `None` when one does: the object is not checked at all, its
/// modes are privileged, or each policy leaves the check out (above its level, newer than its version,
/// replaced by a restricted check).
fn not_checked_because(report: &crate::analysis::ObjectReport, check: &Check) -> Option<String> {
    if let Some(why) = &report.exempt {
        return Some(format!("not checked: {why}"));
    }
    if report.modes.is_empty() {
        let policy = report.privileged_modes.first().map(|(_, p)| p.policy);
        return Some(match policy {
            Some(policy) => format!("not checked: `{policy}` checks nothing"),
            None => "not checked: no mode checks anything".to_string(),
        });
    }
    if !checking_modes(report, check).is_empty() {
        return None;
    }
    let mut reasons: Vec<String> = Vec::new();
    for (_, mode) in &report.modes {
        let policy = mode.policy;
        let replaced_by = CHECKS
            .iter()
            .find(|other| other.overrides == Some(check.id) && checks_for(policy).contains(other));
        let reason = if check.level > policy.level {
            format!("a {} check, above `{policy}`", check.level)
        } else if check.since() > policy.version.evaluated_minor() {
            format!("added at v1.{}, after `{policy}`", check.since())
        } else if let Some(other) = replaced_by {
            format!("`{}` replaces it at `{policy}`", other.id)
        } else {
            continue;
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    if reasons.is_empty() {
        return Some("not checked at this policy".to_string());
    }
    Some(format!("not checked: {}", reasons.join("; ")))
}

/// What enforces the object's level in the cluster, for an exemption it refuses.
fn enforced_by_cluster(report: &crate::analysis::ObjectReport) -> String {
    let enforce = report
        .modes
        .iter()
        .find(|(m, _)| *m == crate::policy::Mode::Enforce)
        .map(|(_, p)| p);
    match enforce {
        Some(policy) => format!(
            "the cluster enforces `{}` (from {})",
            policy.policy, policy.source
        ),
        None => "the cluster enforces this level".to_string(),
    }
}

/// Why an exemption holds where podsec honours it: only podsec imposes the level, only warn or audit report
/// it, or the project file says the cluster enforces podsec's exported admission policy.
fn exemption_holds_because(
    options: &Options,
    report: &crate::analysis::ObjectReport,
    mode: crate::policy::Mode,
) -> String {
    let exported = options.enforced_by_admission_policy();
    let enforce = report
        .modes
        .iter()
        .find(|(m, _)| *m == crate::policy::Mode::Enforce)
        .map(|(_, p)| p);
    if mode != crate::policy::Mode::Enforce {
        format!(
            "holds: only {} reports it, and the cluster admits the pods",
            mode.as_str()
        )
    } else if exported {
        "holds: the cluster enforces podsec's exported admission policy (`enforcedByAdmissionPolicy: true`)"
            .to_string()
    } else {
        match enforce {
            Some(policy) => format!(
                "holds: only podsec imposes {} (from {}); no cluster label or admission configuration enforces it",
                policy.policy, policy.source
            ),
            None => "holds".to_string(),
        }
    }
}

/// Hover on a `pod-security.kubernetes.io/…` label of a Namespace: what it sets and what PSA makes of it.
fn label_hover(document: &crate::yaml::Document<'_>, offset: usize) -> Option<HoverInfo> {
    let root = document.root()?;
    if root.get("kind").and_then(|k| k.as_str()) != Some("Namespace") {
        return None;
    }
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("");
    let entry = root.get("metadata")?.get("labels")?.entries().find(|e| {
        Span::new(
            e.key.span().start,
            e.written_value.span().end.max(e.key.span().end),
        )
        .contains(offset)
    })?;
    let key = entry.key.as_str()?;
    let rest = key.strip_prefix("pod-security.kubernetes.io/")?;
    let value = entry.value.as_str().unwrap_or("");
    let (mode, is_version) = match rest.strip_suffix("-version") {
        Some(mode) => (mode, true),
        None => (rest, false),
    };
    let consequence = match mode {
        "enforce" => {
            "Pods that violate it are rejected; podsec reports its findings as errors. Workload objects are \
                      accepted, but their pods are then rejected: podsec reports them too."
        }
        "warn" => {
            "Requests that violate it get a warning (`kubectl` prints it); podsec reports its findings as warnings."
        }
        "audit" => "Violations are recorded in the audit log; podsec reports its findings as information.",
        _ => return None,
    };
    let validity = if is_version {
        match Version::parse(value) {
            Ok(_) => format!("`{value}` is a valid version."),
            Err(_) => {
                format!("`{value}` is invalid: must be \"latest\" or \"v1.x\". PSA uses `latest` instead.")
            }
        }
    } else {
        match Level::parse(value) {
            Ok(_) => format!("`{value}` is a valid level."),
            Err(_) if mode == "enforce" => {
                format!(
                    "`{value}` is invalid: must be one of privileged, baseline, restricted. PSA fails closed and enforces `restricted`."
                )
            }
            Err(_) => format!(
                "`{value}` is invalid: must be one of privileged, baseline, restricted. PSA falls back to `privileged`."
            ),
        }
    };
    let what = if is_version {
        "the policy version"
    } else {
        "the Pod Security level"
    };
    let has_warn = root
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get("pod-security.kubernetes.io/warn"))
        .is_some();
    let inheritance = if has_warn {
        "This namespace has its own `warn` label, so warn does not take the `enforce` level."
    } else {
        "Without a `warn` label (as here), warn takes a stricter valid `enforce` level (and its version when \
         `warn-version` is absent)."
    };
    let markdown = format!(
        "**{key}** sets {what} of the `{mode}` mode for namespace `{name}`.\n\n{consequence}\n\n{validity}\n\n\
         {inheritance} Modes without a label use the admission configuration's defaults (`privileged` when there is \
         none; podsec's default when the Namespace has no pod-security label at all and no admission configuration \
         is known)."
    );
    Some(HoverInfo {
        span: entry.key.span(),
        markdown,
    })
}

/// Hover anywhere on a PodSecurityPolicy: the level it guarantees and what blocks a stricter one.
fn psp_hover(document: &crate::yaml::Document<'_>) -> Option<HoverInfo> {
    let root = document.root()?;
    if root.get("kind").and_then(|k| k.as_str()) != Some("PodSecurityPolicy") {
        return None;
    }
    let assessment = crate::psp::assess_one(root);
    let mut markdown = format!(
        "**PodSecurityPolicy `{}`** guarantees the **{}** level.\n\nPodSecurityPolicy was removed in Kubernetes v1.25. \
         Label the namespaces that used it:\n\n```yaml\npod-security.kubernetes.io/enforce: {}\n```\n",
        assessment.name, assessment.level, assessment.level
    );
    if !assessment.blockers.is_empty() {
        markdown.push_str("\nWhat keeps it from a stricter level:\n\n");
        for (field, why, level) in &assessment.blockers {
            markdown.push_str(&format!("- `{field}`: {why} (needed for {level})\n"));
        }
    }
    if !assessment.no_counterpart.is_empty() {
        markdown.push_str(&format!(
            "\nNo Pod Security Standards counterpart: {}.\n",
            assessment
                .no_counterpart
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(HoverInfo {
        span: assessment.header,
        markdown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true}\n      initContainers:\n      - name: init\n        securityContext:\n          privileged: true\n          procMount: Default\n";

    fn hover_at(needle: &str) -> HoverInfo {
        let offset = DEPLOYMENT.find(needle).unwrap() + 1;
        hover(DEPLOYMENT, &Options::default(), offset).unwrap()
    }

    #[test]
    fn hover_on_a_violation_shows_the_psa_message_and_the_rule() {
        let info = hover_at("privileged: true");
        assert_eq!(&DEPLOYMENT[info.span.start..info.span.end], "privileged: true");
        // One summary line (check, level, what is wrong here, the fix), the policy, then the rule folded.
        assert!(
            info.markdown.starts_with(
                "**✗ privileged** — baseline · container \"init\" must not set securityContext.privileged=true · fix: Remove privileged: true on container \"init\" (unsafe)\n\nPolicy in force for Deployment \"web\":\n- enforce: `restricted:latest` from the policy given\n\n---\n\n#### privileged"
            ),
            "{}",
            info.markdown
        );
        assert!(info.markdown.contains("\n##### Why\n"));
        assert!(
            !info.markdown.contains("\n## "),
            "no section bigger than the title"
        );
    }

    #[test]
    fn hover_on_a_passing_field_names_the_checks_that_read_it() {
        let info = hover_at("procMount");
        assert!(
            info.markdown
                .starts_with("**○ procMount** — baseline · not checked: `procMount_restricted` replaces it at `restricted:latest`"),
            "{}",
            info.markdown
        );
        assert!(
            info.markdown
                .contains("**✓ procMount_restricted** — restricted · checked, and passes here")
        );
        let info = hover_at("runAsNonRoot");
        assert!(
            info.markdown
                .starts_with("**✓ runAsNonRoot** — restricted · checked, and passes here"),
            "{}",
            info.markdown
        );
    }

    /// The hover at `needle` in `text`, under the Namespace labels `text` itself holds.
    fn hover_under_its_labels(text: &str, needle: &str) -> HoverInfo {
        let context = crate::policy::PolicyContext {
            namespaces: crate::policy::namespace_labels(text, &crate::yaml::Limits::default()),
            ..crate::policy::PolicyContext::default()
        };
        let options = Options {
            context: Some(&context),
            ..Options::default()
        };
        hover(text, &options, text.find(needle).unwrap() + 1).unwrap()
    }

    #[test]
    fn hover_says_which_modes_check_what_enforce_does_not() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/warn: restricted\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: app\n    image: x\n";
        let at = |needle: &str| hover_under_its_labels(text, needle);
        let info = at("runAsNonRoot");
        assert!(
            info.markdown
                .starts_with("**✓ runAsNonRoot** — restricted · checked in warn mode only, and passes here"),
            "{}",
            info.markdown
        );
        let info = at("securityContext:\n    runAsNonRoot");
        assert!(
            info.markdown
                .contains("- `runAsNonRoot` (restricted) (checked in warn mode only): "),
            "{}",
            info.markdown
        );
    }

    #[test]
    fn a_finding_enforce_admits_says_which_modes_fail_it() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  securityContext:\n    runAsNonRoot: false\n  containers:\n  - name: app\n    image: x\n";
        let info = hover_under_its_labels(text, "runAsNonRoot");
        assert!(
            info.markdown.starts_with(
                "**✗ runAsNonRoot** — restricted · fails in warn and audit modes only · pod must not set securityContext.runAsNonRoot=false"
            ),
            "{}",
            info.markdown
        );
    }

    #[test]
    fn hover_on_a_parent_lists_the_checks_below() {
        let info = hover_at("securityContext:\n          privileged");
        assert!(
            info.markdown.contains("Fields under here are read by:"),
            "{}",
            info.markdown
        );
        assert!(
            info.markdown
                .contains("- `allowPrivilegeEscalation` (restricted)")
        );
    }

    #[test]
    fn nothing_to_say_outside_pods_or_on_unread_fields() {
        assert!(hover("kind: ConfigMap\ndata: {a: b}\n", &Options::default(), 3).is_none());
        assert!(
            hover(
                DEPLOYMENT,
                &Options::default(),
                DEPLOYMENT.find("name: web").unwrap()
            )
            .is_none()
        );
    }

    #[test]
    fn hover_on_a_namespace_label_explains_it() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels:\n    pod-security.kubernetes.io/enforce: strict\n";
        let info = hover(text, &Options::default(), text.find("enforce").unwrap()).unwrap();
        assert!(info.markdown.starts_with("**pod-security.kubernetes.io/enforce** sets the Pod Security level of the `enforce` mode for namespace `team`."), "{}", info.markdown);
        assert!(info.markdown.contains("`strict` is invalid: must be one of privileged, baseline, restricted. PSA fails closed and enforces `restricted`."));
    }

    #[test]
    fn hover_on_a_psp_shows_its_level() {
        let text = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: open}\nspec:\n  privileged: true\n  readOnlyRootFilesystem: true\n";
        let info = hover(text, &Options::default(), text.find("privileged").unwrap()).unwrap();
        assert!(
            info.markdown
                .starts_with("**PodSecurityPolicy `open`** guarantees the **privileged** level."),
            "{}",
            info.markdown
        );
        assert!(
            info.markdown
                .contains("- `spec.privileged`: allows privileged containers (needed for baseline)")
        );
        assert!(
            info.markdown
                .contains("No Pod Security Standards counterpart: `spec.readOnlyRootFilesystem`.")
        );
    }

    #[test]
    fn paths_normalise_like_field_patterns() {
        assert_eq!(
            normalise("spec.initContainers[3].ports[0].hostPort"),
            "spec.containers[*].ports[*].hostPort"
        );
        assert_eq!(
            normalise("metadata.annotations[\"a/b[0]\"]"),
            "metadata.annotations[\"a/b[0]\"]"
        );
    }
}
