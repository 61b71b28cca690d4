//! What an analysis reports of one object: its policy per mode, its violations and their locations,
//! and PSA's line per mode.

use crate::checks::Check;
use crate::fix::Fix;
use crate::policy::Policy;
use crate::policy::{ExemptionTarget, Mode, ModePolicy, Severity};
use crate::yaml::Span;

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
    /// How the object was rendered when its spans point into a chart's or overlay's own files rather than
    /// into the rendering (`helm template web deploy/web -f values-prod.yaml`): see `crate::render`.
    pub rendered: Option<String>,
    /// A rendered object's findings put in a file other than its template (a values file): the object and
    /// its verdict are reported with its template, so this copy is not counted or summed up again.
    pub verdict_elsewhere: bool,
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
    /// Violations that an exemption covers, with its reason (or that an owner in the input reports).
    pub exempted: Vec<(CheckViolation, String)>,
    /// Exemptions the cluster will not honour (`exemption-not-enforced`): the check and the exemption's
    /// reason. Their findings stay among the violations.
    pub refused_exemptions: Vec<(&'static str, String)>,
    /// Its controllers, `(kind, name)`, from `metadata.ownerReferences` (see `owners.rs`).
    pub controllers: Vec<(String, String)>,
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
    /// PSA's detail for this field alone, when it differs from the violation's (which names every
    /// container and every part): what the editor shows on the field.
    pub detail: Option<String>,
}

impl CheckViolation {
    /// What is wrong at one of its locations, in PSA's words for that field alone
    /// (`container "app" must set securityContext.allowPrivilegeEscalation=false`); the reason when
    /// PSA gives no detail.
    pub fn message_at<'a>(&'a self, location: &'a Location) -> &'a str {
        let detail = location.detail.as_deref().unwrap_or(&self.detail);
        if detail.is_empty() { &self.reason } else { detail }
    }

    /// `reason (detail)`, or just `reason` when the detail is empty: one part of PSA's message.
    pub fn message(&self) -> String {
        reason_and_detail(&self.reason, &self.detail)
    }

    /// `reason (detail)` for one of its locations, the detail in PSA's words for that field alone: what
    /// a finding on that field says. The violation's detail names every container and part, so repeating
    /// it on each of thousands of fields would make the output quadratic in the pod's size.
    pub fn message_for(&self, location: &Location) -> String {
        reason_and_detail(&self.reason, location.detail.as_deref().unwrap_or(&self.detail))
    }
}

/// `reason (detail)`, or just `reason` when the detail is empty.
fn reason_and_detail(reason: &str, detail: &str) -> String {
    let reason = if reason.is_empty() {
        "unknown forbidden reason"
    } else {
        reason
    };
    if detail.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({detail})")
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
    pub(super) fn drop_unreported_failures(&mut self) {
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

    /// Whether the object breaks its policy: it has findings, or (rendered) its findings were put in
    /// other files while its verdict stays here.
    pub fn fails(&self) -> bool {
        !self.violations.is_empty()
            || (self.rendered.is_some()
                && !self.verdict_elsewhere
                && self.mode_lines.iter().any(|l| !l.failures.is_empty()))
    }

    /// Adds `location` to this object's finding of `violation`'s check and mode, or a copy of
    /// `violation` with that location alone (a rendered object's findings, put back file by file).
    pub fn add_location(&mut self, violation: &CheckViolation, location: Location) {
        match self
            .violations
            .iter_mut()
            .find(|v| v.check.id == violation.check.id && v.mode == violation.mode)
        {
            Some(known) => known.locations.push(location),
            None => {
                let mut copy = violation.clone();
                copy.locations = vec![location];
                self.violations.push(copy);
            }
        }
    }

    /// Whether enforce would reject the object. A rendered object's findings may have been put in other
    /// files: its verdict is then PSA's line, which stays with it.
    pub fn enforce_denies(&self) -> bool {
        if self.rendered.is_some() && !self.verdict_elsewhere {
            return self
                .mode_lines
                .iter()
                .any(|l| l.modes.contains(&Mode::Enforce) && !l.failures.is_empty());
        }
        self.violations.iter().any(|v| v.mode == Mode::Enforce)
    }

    /// The modes at which `check` fails, in order (enforce, warn, audit).
    pub fn failing_modes(&self, check: &str) -> Vec<Mode> {
        Mode::ALL
            .into_iter()
            .filter(|mode| {
                self.line_of(*mode)
                    .is_some_and(|line| line.failures.iter().any(|f| f.check.id == check))
            })
            .collect()
    }

    /// `fails in warn mode only` for a finding that enforce admits (its severity is then a warning or
    /// information): the words the diagnostic and the hover give it. `None` when enforce fails it.
    pub fn mode_note(&self, violation: &CheckViolation) -> Option<String> {
        if violation.mode == Mode::Enforce {
            return None;
        }
        let mut modes: Vec<&str> = self
            .failing_modes(violation.check.id)
            .into_iter()
            .filter(|m| *m != Mode::Enforce)
            .map(Mode::as_str)
            .collect();
        if modes.is_empty() {
            modes.push(violation.mode.as_str());
        }
        let plural = if modes.len() == 1 { "mode" } else { "modes" };
        Some(format!("fails in {} {plural} only", modes.join(" and ")))
    }

    /// A short human name: `Deployment "web"` or `Deployment`.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {name:?}", self.kind),
            None => self.kind.clone(),
        }
    }
}
