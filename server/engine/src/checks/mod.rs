//! The Pod Security Admission checks, one file each, and the one list that registers them.
//!
//! A check is a [`Check`] value: its upstream ID (exactly), level, the versions where its upstream
//! implementation changes, the baseline check it overrides, its documentation (shown on hover and by
//! `podsec explain`), and its evaluation. Adding a check means adding its file and one line to
//! [`CHECKS`].

use crate::cel::Cel;
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::{Level, MAX_MINOR, Policy};

mod allow_privilege_escalation;
mod app_armor_profile;
mod capabilities_baseline;
pub(crate) use capabilities_baseline::DEFAULT_CAPABILITIES;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
pub(crate) use sysctls::ALLOWED as ALLOWED_SYSCTLS;
mod windows_host_process;

/// Every check, in no particular order: [`checks_for`] puts them in PSA's run order.
pub static CHECKS: &[&Check] = &[
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
    &allow_privilege_escalation::CHECK,
    &capabilities_restricted::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &seccomp_profile_restricted::CHECK,
];

/// One Pod Security Standards check.
#[derive(Debug)]
pub struct Check {
    /// The upstream check ID, exactly (`runAsNonRoot`, `hostProbesAndHostLifecycle`).
    pub id: &'static str,
    /// The level that introduces it.
    pub level: Level,
    /// The minor versions at which the upstream implementation starts or changes; the first is the
    /// version the check appears in.
    pub versions: &'static [u32],
    /// The baseline check this one replaces at the restricted level, from its first version.
    pub overrides: Option<&'static str>,
    /// The fields the check reads, relative to the pod, as normalised paths: every container list is
    /// `containers[*]`, every index `[*]`; a pattern ending inside a quoted key matches by prefix.
    pub fields: &'static [&'static str],
    /// PSA's fixed reason phrase (the AppArmor check pluralises it).
    pub reason: &'static str,
    /// Markdown documentation: a one-line summary, then the sections of [`DOC_SECTIONS`].
    pub doc: &'static str,
    /// The check itself, at an evaluated minor version.
    pub evaluate: fn(&Pod<'_>, u32) -> Option<Violation>,
    /// Its CEL at an evaluated minor version, for the admission-policy export (`crate::vap`): the test
    /// a passing pod meets and PSA's reason and detail for one that fails.
    pub cel: fn(u32) -> Cel,
    /// The repair for one of its findings, when one exists.
    pub fix: Option<fn(&FixContext<'_, '_>) -> Option<Fix>>,
    /// What its fixes promise. `tests/fixes.rs` fails when the fixes it emits on the fixtures contradict
    /// this, and the documentation's "Fix safety" section is checked against it.
    pub fix_availability: FixAvailability,
}

/// Which fixes a check offers for its findings (after ruff's `FixAvailability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// No automatic fix: a human decides.
    None,
    /// Every finding gets a fix of this applicability.
    Always(Applicability),
    /// Some findings get a fix, always of this applicability; the others need a human.
    Sometimes(Applicability),
    /// Some findings get a safe fix, others an unsafe one.
    Mixed,
}

impl FixAvailability {
    /// One sentence for users: `podsec explain` and hover show it in "Fix safety".
    pub fn describe(self) -> &'static str {
        match self {
            FixAvailability::None => "No automatic fix.",
            FixAvailability::Always(Applicability::Safe) => {
                "Automatic fix: safe, applied by `podsec fix` and the editor's fix-all."
            }
            FixAvailability::Always(Applicability::Unsafe) => {
                "Automatic fix: unsafe, applied only by `podsec fix --unsafe` or one quick fix at a time."
            }
            FixAvailability::Sometimes(Applicability::Safe) => {
                "Automatic fix for some findings: safe, applied by `podsec fix` and the editor's fix-all."
            }
            FixAvailability::Sometimes(Applicability::Unsafe) => {
                "Automatic fix for some findings: unsafe, applied only by `podsec fix --unsafe` or one quick fix at a time."
            }
            FixAvailability::Mixed => {
                "Automatic fix: safe for some findings (applied by `podsec fix`), unsafe for others (`podsec fix --unsafe`)."
            }
        }
    }
}

/// The sections every check's documentation has, in order.
pub const DOC_SECTIONS: &[&str] = &[
    "## What it forbids",
    "## Why",
    "## Since",
    "## How to comply",
    "## Fix safety",
];

/// The check reference: one section per check, what `podsec explain` prints (`cargo xtask generate`).
pub const CHECK_REFERENCE: &str = "https://github.com/podsec/podsec/blob/main/docs/checks.md";

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Check {}

impl Check {
    /// The first version the check runs at.
    pub fn since(&self) -> u32 {
        self.versions.first().copied().unwrap_or(0)
    }

    /// The first line of the documentation.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().next().unwrap_or("")
    }

    /// Where the check is documented for users: its own section of the check reference
    /// (`docs/checks.md`, generated from this documentation), which links to the Pod Security Standards.
    pub fn help_uri(&self) -> String {
        format!("{CHECK_REFERENCE}#{}", self.anchor())
    }

    /// The check's section in the check reference: its ID as GitHub turns a heading into an anchor.
    pub fn anchor(&self) -> String {
        self.id.to_lowercase()
    }

    /// The section of the Pod Security Standards page that lists the check's control.
    pub fn standard_uri(&self) -> &'static str {
        if self.level == Level::Restricted {
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"
        } else {
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"
        }
    }
}

/// A forbidden result: PSA's reason and detail, and where in the pod the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The reason phrase, as PSA prints it.
    pub reason: String,
    /// The detail, as PSA prints it (may be empty).
    pub detail: String,
    /// The offending fields, one per field.
    pub locations: Vec<Loc>,
}

impl Violation {
    fn new(reason: impl Into<String>, detail: impl Into<String>, locations: Vec<Loc>) -> Option<Self> {
        Some(Self {
            reason: reason.into(),
            detail: detail.into(),
            locations,
        })
    }
}

/// Looks a check up by its exact ID.
pub fn check_by_id(id: &str) -> Option<&'static Check> {
    CHECKS.iter().copied().find(|c| c.id == id)
}

/// The checks PSA runs for `policy`, in its run order: baseline IDs sorted by byte value, then
/// restricted IDs likewise; at restricted, baseline checks overridden by a running restricted check
/// are left out.
pub fn checks_for(policy: Policy) -> &'static [&'static Check] {
    // Computed once per level and evaluated minor: this runs for every object on every keystroke.
    static ORDERS: std::sync::OnceLock<Vec<Vec<&'static Check>>> = std::sync::OnceLock::new();
    let orders = ORDERS.get_or_init(|| {
        [Level::Baseline, Level::Restricted]
            .into_iter()
            .flat_map(|level| (0..=MAX_MINOR).map(move |minor| run_order(level, minor)))
            .collect()
    });
    let minor = policy.version.evaluated_minor();
    let index = match policy.level {
        Level::Privileged => return &[],
        Level::Baseline => minor as usize,
        Level::Restricted => (MAX_MINOR as usize + 1) + minor as usize,
    };
    orders.get(index).map_or(&[], Vec::as_slice)
}

/// PSA's run order for `level` at `minor` (see [`checks_for`]).
fn run_order(level: Level, minor: u32) -> Vec<&'static Check> {
    let running = |level: Level| {
        let mut checks: Vec<&'static Check> = CHECKS
            .iter()
            .copied()
            .filter(|c| c.level == level && c.since() <= minor)
            .collect();
        checks.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
        checks
    };
    let restricted = if level == Level::Restricted {
        running(Level::Restricted)
    } else {
        Vec::new()
    };
    let mut order: Vec<&'static Check> = running(Level::Baseline)
        .into_iter()
        .filter(|baseline| !restricted.iter().any(|r| r.overrides == Some(baseline.id)))
        .collect();
    order.extend(restricted);
    order
}

/// `"a", "b"`: each item in double quotes, joined with `, ` (upstream `joinQuote`).
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `singular` when `count` is 1, else `plural` (upstream `pluralize`).
pub(crate) fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 { singular } else { plural }
}

/// Sorted by byte value without duplicates, as upstream's string sets list themselves.
pub(crate) fn sorted_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut list: Vec<String> = items.into_iter().map(Into::into).collect();
    list.sort();
    list.dedup();
    list
}

/// `container "a"` or `containers "a", "b"`.
pub(crate) fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// The setters phrase: `pod`, then the containers, joined with ` and `.
pub(crate) fn setters(pod: bool, containers: &[&str]) -> String {
    let mut parts = Vec::new();
    if pod {
        parts.push("pod".to_string());
    }
    if !containers.is_empty() {
        parts.push(containers_phrase(containers));
    }
    parts.join(" and ")
}

/// Go's `%q` for a string: double quotes, with `"`, `\` and control characters escaped.
pub(crate) fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\u{b}' => quoted.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_policy_version_is_the_newest_version_of_any_check() {
        // A check added or changed at a new version without raising MAX_MINOR would never run.
        let newest = CHECKS
            .iter()
            .flat_map(|c| c.versions.iter().copied())
            .max()
            .unwrap_or(0);
        assert_eq!(MAX_MINOR, newest);
    }
    use crate::policy::Version;

    #[test]
    fn ids_are_unique_and_docs_have_every_section() {
        for (i, check) in CHECKS.iter().enumerate() {
            assert!(
                CHECKS.iter().skip(i + 1).all(|other| other.id != check.id),
                "{}",
                check.id
            );
            assert!(
                !check.summary().is_empty() && !check.summary().starts_with('#'),
                "{}",
                check.id
            );
            let mut last = 0;
            for section in DOC_SECTIONS {
                let at = check
                    .doc
                    .find(section)
                    .unwrap_or_else(|| panic!("{} lacks {section}", check.id));
                assert!(at > last, "{}: {section} out of order", check.id);
                last = at;
            }
            if let Some(overridden) = check.overrides {
                assert!(check_by_id(overridden).is_some_and(|o| o.level == Level::Baseline));
            }
        }
    }

    #[test]
    fn fix_safety_docs_agree_with_the_declared_fixes() {
        for check in CHECKS {
            let section = check
                .doc
                .split("## Fix safety")
                .nth(1)
                .unwrap_or("")
                .to_lowercase();
            let section = section.split_whitespace().collect::<Vec<_>>().join(" ");
            let declared = check.fix_availability;
            assert_eq!(
                check.fix.is_none(),
                declared == FixAvailability::None,
                "{}: a fix function exactly when a fix is declared",
                check.id
            );
            let says_none = section.contains("no automatic fix");
            let says_unsafe = section.contains("unsafe");
            let says_applied =
                section.contains("`podsec fix` applies") || section.contains("applied by `podsec fix`");
            let agrees = match declared {
                FixAvailability::None => says_none,
                FixAvailability::Always(Applicability::Safe)
                | FixAvailability::Sometimes(Applicability::Safe) => {
                    !says_none && !says_unsafe && says_applied
                }
                FixAvailability::Always(Applicability::Unsafe)
                | FixAvailability::Sometimes(Applicability::Unsafe) => {
                    !says_none && says_unsafe && !says_applied
                }
                FixAvailability::Mixed => !says_none && says_unsafe && says_applied,
            };
            assert!(
                agrees,
                "{}: its Fix safety section contradicts {declared:?}:{section}",
                check.id
            );
        }
    }

    #[test]
    fn run_order_matches_psa() {
        // Upstream's rule, computed here from the checks' own declarations: at each level and version,
        // the running baseline checks sorted by ID (bytes), less those a running restricted check
        // overrides, then (at restricted) the running restricted checks sorted by ID.
        for minor in 0..=MAX_MINOR {
            let running = |level| {
                let mut ids: Vec<&str> = CHECKS
                    .iter()
                    .filter(|c| c.level == level && c.since() <= minor)
                    .map(|c| c.id)
                    .collect();
                ids.sort_unstable();
                ids
            };
            let restricted = running(Level::Restricted);
            let overridden: Vec<&str> = CHECKS
                .iter()
                .filter(|c| restricted.contains(&c.id))
                .filter_map(|c| c.overrides)
                .collect();
            let baseline = running(Level::Baseline);
            let mut expected: Vec<&str> = baseline
                .iter()
                .copied()
                .filter(|id| !overridden.contains(id))
                .collect();
            expected.extend(&restricted);
            let ids = |level| {
                checks_for(Policy::new(level, Version::Minor(u64::from(minor))))
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(Level::Restricted), expected, "restricted v1.{minor}");
            assert_eq!(ids(Level::Baseline), baseline, "baseline v1.{minor}");
        }
        assert!(checks_for(Policy::new(Level::Privileged, Version::Latest)).is_empty());
        // Two fixed points of upstream's table, as a sanity check of the rule itself.
        let latest = checks_for(Policy::new(Level::Restricted, Version::Latest));
        assert_eq!(latest.first().map(|c| c.id), Some("appArmorProfile"));
        assert_eq!(latest.last().map(|c| c.id), Some("seccompProfile_restricted"));
    }

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(go_quote("un\"conf\\ined\n"), "\"un\\\"conf\\\\ined\\n\"");
        assert_eq!(go_quote("ü"), "\"ü\"");
    }
}
