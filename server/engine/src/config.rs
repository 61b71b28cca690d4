//! Where the policy comes from: Namespace labels, the cluster's admission configuration, the project file
//! `.podsec.yaml`, the editor's settings and the command line; and exemptions with a reason.
//!
//! Everything here reads text the shells hand over; nothing touches the file system. The shells find
//! the files (walking up for `.podsec.yaml`, scanning the workspace for Namespaces) and build one
//! [`PolicyContext`], which resolves the policy of every object.

use crate::checks::check_by_id;
use crate::policy::{Level, Policy, Version};
use crate::workload::pod_objects;
use crate::yaml::{Document, Entry, NodeRef, Span, documents};
use crate::{Limits, Options};
use std::collections::BTreeMap;

/// The three modes of Pod Security Admission, and the severity each gives a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Rejected by the cluster: an error.
    Enforce,
    /// Accepted with a warning: a warning.
    Warn,
    /// Recorded in the audit log: information.
    Audit,
}

impl Mode {
    /// All modes, strictest consequence first.
    pub const ALL: [Mode; 3] = [Mode::Enforce, Mode::Warn, Mode::Audit];

    /// `enforce`, `warn`, `audit`, as in the labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
        }
    }
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops the object (enforce, syntax errors, invalid configuration).
    Error,
    /// Should be looked at (warn, doubtful exemptions).
    Warning,
    /// For the record (audit, unused exemptions).
    Information,
}

impl Severity {
    /// The severity of a mode's findings.
    pub fn of(mode: Mode) -> Self {
        match mode {
            Mode::Enforce => Severity::Error,
            Mode::Warn => Severity::Warning,
            Mode::Audit => Severity::Information,
        }
    }

    /// `error`, `warning`, `information`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// The policy of one mode and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModePolicy {
    /// The level and version.
    pub policy: Policy,
    /// Where it came from, for hover and reports: `Namespace "payments", label pod-security.kubernetes.io/enforce`.
    pub source: String,
}

/// The policy an object is checked against, per mode. A mode that is absent, or privileged, checks nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPolicy {
    /// enforce, warn, audit, in that order; modes that check nothing are left out.
    pub modes: Vec<(Mode, ModePolicy)>,
    /// Set when the admission configuration exempts the object (namespace or runtime class), with why.
    pub exempt: Option<String>,
    /// The modes left out because their policy is privileged, with where that came from (for hover).
    pub privileged: Vec<(Mode, ModePolicy)>,
}

impl ResolvedPolicy {
    /// One enforced policy, from `source`.
    pub fn enforce(policy: Policy, source: impl Into<String>) -> Self {
        Self {
            modes: vec![(
                Mode::Enforce,
                ModePolicy {
                    policy,
                    source: source.into(),
                },
            )],
            exempt: None,
            privileged: Vec::new(),
        }
    }

    /// The enforce policy, or the first mode's, or privileged.
    pub fn primary(&self) -> Policy {
        self.modes
            .first()
            .map_or(Policy::new(Level::Privileged, Version::Latest), |(_, m)| m.policy)
    }
}

/// A problem in a policy source (a label, the project file, an exemption), located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// A stable code: `invalid-label`, `invalid-config`, `unknown-key`, `invalid-exemption`, `unused-exemption`,
    /// `expired-exemption`, `ignored-setting`, `namespace-impact`.
    pub code: &'static str,
    /// How serious.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where, in the text it was read from.
    pub span: Span,
}

/// A calendar date, for exemption expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Self { year, month, day })
    }

    /// The civil date `days` days after 1970-01-01 (Howard Hinnant's algorithm).
    pub fn from_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The labels of one mode, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ModeLabels {
    level: Option<(String, Span)>,
    version: Option<(String, Span)>,
}

/// A Namespace object's Pod Security labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceLabels {
    /// `metadata.name`.
    pub name: String,
    /// Per mode: the effective policy after PSA's rules, if the mode has a level label or inherits one.
    pub modes: Vec<(Mode, ModePolicy)>,
    /// Which modes were labelled at all (the others fall back to the defaults).
    pub labelled: Vec<Mode>,
    /// Whether it has any `pod-security.kubernetes.io/<mode>[-version]` label at all. Without one, and
    /// with no admission configuration known, podsec cannot know the cluster's defaults.
    pub any_label: bool,
    /// The `…/enforce` label's entry, where impact diagnostics go.
    pub enforce_span: Option<Span>,
    /// Invalid label values, with PSA's error text.
    pub problems: Vec<ConfigProblem>,
    /// The Namespace's `kind:` entry.
    pub header: Span,
}

const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

fn policy_source(name: &str, key: &str) -> String {
    format!("Namespace {name:?}, label {LABEL_PREFIX}{key}")
}

/// Reads the Pod Security labels of every Namespace in `text`, applying PSA's rules: an invalid enforce
/// level fails closed (restricted), an invalid warn or audit level fails open (privileged), an invalid
/// version is `latest`, and warn inherits a stricter valid enforce level (and its version when warn has
/// no version label).
pub fn namespace_labels(text: &str, limits: &Limits) -> Vec<NamespaceLabels> {
    read_namespaces(text, limits).labels
}

/// The Namespaces of a text, and whether some of its documents could not be read (and may hold more).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespacesRead {
    /// The Namespaces of the documents that could be read, in source order.
    pub labels: Vec<NamespaceLabels>,
    /// Whether a document had a syntax or limit error.
    pub unreadable: bool,
}

/// [`namespace_labels`], also telling whether a document of the text could not be read: an editor keeps
/// the Namespaces it knew while a document is being typed and does not parse.
pub fn read_namespaces(text: &str, limits: &Limits) -> NamespacesRead {
    let mut found = NamespacesRead::default();
    // Most texts hold no Namespace at all: skip the parse (this runs on every keystroke in the editor).
    if !text.contains("Namespace") {
        return found;
    }
    for document in documents(text, limits) {
        if document.error.is_some() {
            found.unreadable = true;
            continue;
        }
        let Some(root) = document.root() else { continue };
        let mut pending = vec![root];
        while let Some(object) = pending.pop() {
            let kind = object.get("kind").and_then(|k| k.as_str());
            if kind == Some("List") {
                pending.extend(object.get("items").into_iter().flat_map(|i| i.items()));
                continue;
            }
            if kind != Some("Namespace") {
                continue;
            }
            if let Some(labels) = read_namespace(object) {
                found.labels.push(labels);
            }
        }
    }
    found
}

fn read_namespace(object: NodeRef<'_>) -> Option<NamespaceLabels> {
    let metadata = object.get("metadata")?;
    let name = metadata.get("name").and_then(|n| n.as_str())?.to_string();
    let header = object.entry("kind").map_or(object.span(), |e| {
        Span::new(e.key.span().start, e.value.span().end)
    });
    let mut raw: BTreeMap<Mode, ModeLabels> = BTreeMap::new();
    let mut enforce_span = None;
    for entry in metadata.get("labels").into_iter().flat_map(|l| l.entries()) {
        let Some(key) = entry.key.as_str() else { continue };
        let Some(rest) = key.strip_prefix(LABEL_PREFIX) else {
            continue;
        };
        let value = entry.value.as_str().unwrap_or("").to_string();
        let span = Span::new(
            entry.key.span().start,
            entry.written_value.span().end.max(entry.key.span().end),
        );
        let (mode, is_version) = match rest {
            "enforce" => (Mode::Enforce, false),
            "warn" => (Mode::Warn, false),
            "audit" => (Mode::Audit, false),
            "enforce-version" => (Mode::Enforce, true),
            "warn-version" => (Mode::Warn, true),
            "audit-version" => (Mode::Audit, true),
            _ => continue,
        };
        let slot = raw.entry(mode).or_default();
        if is_version {
            slot.version = Some((value, span));
        } else {
            if mode == Mode::Enforce {
                enforce_span = Some(span);
            }
            slot.level = Some((value, span));
        }
    }
    let mut problems = Vec::new();
    let mut parsed: BTreeMap<Mode, (Level, bool, Version, bool)> = BTreeMap::new();
    for (mode, labels) in &raw {
        let (level, level_valid) = match &labels.level {
            Some((text, span)) => match Level::parse(text) {
                Ok(level) => (level, true),
                Err(_) => {
                    problems.push(ConfigProblem {
                        code: "invalid-label",
                        severity: Severity::Error,
                        message: format!(
                            "{LABEL_PREFIX}{}: must be one of privileged, baseline, restricted (PSA uses {} for this namespace)",
                            mode.as_str(),
                            if *mode == Mode::Enforce { "restricted" } else { "privileged" }
                        ),
                        span: *span,
                    });
                    (
                        if *mode == Mode::Enforce {
                            Level::Restricted
                        } else {
                            Level::Privileged
                        },
                        false,
                    )
                }
            },
            None => (Level::Privileged, false),
        };
        let version = match &labels.version {
            Some((text, span)) => Version::parse(text).unwrap_or_else(|_| {
                problems.push(ConfigProblem {
                    code: "invalid-label",
                    severity: Severity::Error,
                    message: format!(
                        "{LABEL_PREFIX}{}-version: must be \"latest\" or \"v1.x\" (PSA uses latest for this namespace)",
                        mode.as_str()
                    ),
                    span: *span,
                });
                Version::Latest
            }),
            None => Version::Latest,
        };
        parsed.insert(*mode, (level, labels.level.is_some(), version, level_valid));
    }
    let labelled: Vec<Mode> = Mode::ALL
        .into_iter()
        .filter(|m| raw.get(m).is_some_and(|l| l.level.is_some()))
        .collect();
    let mut modes = Vec::new();
    for mode in Mode::ALL {
        let Some((level, has_level, version, _)) = parsed.get(&mode).copied() else {
            continue;
        };
        if !has_level {
            continue;
        }
        modes.push((
            mode,
            ModePolicy {
                policy: Policy::new(level, version),
                source: policy_source(&name, mode.as_str()),
            },
        ));
    }
    // Warn inherits a stricter, valid enforce level when it has no level label of its own.
    if let Some((enforce_level, true, enforce_version, true)) = parsed.get(&Mode::Enforce).copied() {
        let warn = parsed.get(&Mode::Warn).copied();
        if warn.is_none_or(|(_, has_level, _, _)| !has_level) {
            let warn_version_label = raw.get(&Mode::Warn).and_then(|l| l.version.as_ref()).is_some();
            let version = if warn_version_label {
                warn.map_or(enforce_version, |w| w.2)
            } else {
                enforce_version
            };
            if enforce_level > Level::Privileged {
                modes.push((
                    Mode::Warn,
                    ModePolicy {
                        policy: Policy::new(enforce_level, version),
                        source: format!("{} (warn inherits enforce)", policy_source(&name, "enforce")),
                    },
                ));
                modes.sort_by_key(|(m, _)| *m);
            }
        }
    }
    Some(NamespaceLabels {
        name,
        modes,
        labelled,
        any_label: !raw.is_empty(),
        enforce_span,
        problems,
        header,
    })
}

/// The defaults and exemptions of a `PodSecurityConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionConfig {
    /// The default policy per mode, for namespaces without labels.
    pub defaults: Vec<(Mode, Policy)>,
    /// Exempt namespaces.
    pub exempt_namespaces: Vec<String>,
    /// Exempt runtime class names.
    pub exempt_runtime_classes: Vec<String>,
    /// What the configuration is called in sources (`admission configuration cluster/psa.yaml`).
    pub name: String,
}

/// Reads the `PodSecurityConfiguration` in `text` (standalone, or inside an `AdmissionConfiguration`'s
/// `PodSecurity` plugin). `None` when there is none.
pub fn admission_config(
    text: &str,
    name: &str,
    limits: &Limits,
) -> Option<(AdmissionConfig, Vec<ConfigProblem>)> {
    // Most files are not admission configurations: skip the parse.
    if !text.contains("PodSecurityConfiguration") {
        return None;
    }
    for document in documents(text, limits).filter(|d| d.error.is_none()) {
        let Some(root) = document.root() else { continue };
        let configuration = match root.get("kind").and_then(|k| k.as_str()) {
            Some("PodSecurityConfiguration") => Some(root),
            Some("AdmissionConfiguration") => root
                .get("plugins")
                .into_iter()
                .flat_map(|p| p.items())
                .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("PodSecurity"))
                .and_then(|p| p.get("configuration")),
            _ => None,
        };
        let Some(configuration) = configuration else {
            continue;
        };
        let mut config = AdmissionConfig {
            name: name.to_string(),
            ..AdmissionConfig::default()
        };
        let mut problems = Vec::new();
        if let Some(defaults) = configuration.get("defaults") {
            for mode in Mode::ALL {
                let level = defaults.entry(mode.as_str());
                let version = defaults.entry(&format!("{}-version", mode.as_str()));
                let level_value = match level {
                    Some(entry) => match Level::parse(entry.value.as_str().unwrap_or("")) {
                        Ok(level) => level,
                        Err(e) => {
                            problems.push(invalid(entry, format!("defaults.{}: {e}", mode.as_str())));
                            continue;
                        }
                    },
                    None => Level::Privileged,
                };
                let version_value = match version {
                    Some(entry) => match Version::parse(entry.value.as_str().unwrap_or("")) {
                        Ok(version) => version,
                        Err(e) => {
                            problems.push(invalid(entry, format!("defaults.{}-version: {e}", mode.as_str())));
                            Version::Latest
                        }
                    },
                    None => Version::Latest,
                };
                config
                    .defaults
                    .push((mode, Policy::new(level_value, version_value)));
            }
        }
        if let Some(exemptions) = configuration.get("exemptions") {
            let strings = |key: &str| -> Vec<String> {
                exemptions
                    .get(key)
                    .into_iter()
                    .flat_map(|l| l.items())
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            };
            config.exempt_namespaces = strings("namespaces");
            config.exempt_runtime_classes = strings("runtimeClasses");
            if let Some(entry) = exemptions
                .entry("usernames")
                .filter(|e| e.value.items().next().is_some())
            {
                problems.push(ConfigProblem {
                    code: "ignored-setting",
                    severity: Severity::Information,
                    message: "exemptions.usernames applies to the user making a request, which files do not have: ignored by podsec".to_string(),
                    span: entry.key.span(),
                });
            }
        }
        return Some((config, problems));
    }
    None
}

fn invalid(entry: Entry<'_>, message: String) -> ConfigProblem {
    ConfigProblem {
        code: "invalid-config",
        severity: Severity::Error,
        message,
        span: Span::new(
            entry.key.span().start,
            entry.written_value.span().end.max(entry.key.span().end),
        ),
    }
}

/// One exemption of the project file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exemption {
    /// The check ID.
    pub check: String,
    /// Only objects in this namespace.
    pub namespace: Option<String>,
    /// Only objects of this kind.
    pub kind: Option<String>,
    /// Only objects whose name matches this glob.
    pub name: Option<String>,
    /// Only findings in this container.
    pub container: Option<String>,
    /// Why; required.
    pub reason: String,
    /// After this day the exemption no longer applies.
    pub expires: Option<Date>,
    /// Where it is written in the project file.
    pub span: Span,
}

/// The project file, `.podsec.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    /// Default level.
    pub level: Option<Level>,
    /// Default version.
    pub version: Option<Version>,
    /// The admission configuration file, relative to the project file.
    pub admission_configuration: Option<String>,
    /// Policy per namespace whose Namespace object is not in the repository (label keys and values).
    pub namespaces: Vec<NamespaceLabels>,
    /// Globs of files not to check, relative to the project file.
    pub skip: Vec<String>,
    /// Exemptions.
    pub exemptions: Vec<Exemption>,
}

const PROJECT_KEYS: &[&str] = &[
    "level",
    "version",
    "admissionConfiguration",
    "namespaces",
    "skip",
    "exemptions",
];
const EXEMPTION_KEYS: &[&str] = &[
    "check",
    "namespace",
    "kind",
    "name",
    "container",
    "reason",
    "expires",
];

/// Reads a project file. Unknown keys and bad values are problems located in it; what is valid is kept.
pub fn project_config(text: &str, limits: &Limits) -> (ProjectConfig, Vec<ConfigProblem>) {
    let mut config = ProjectConfig::default();
    let mut problems = Vec::new();
    let Some(document) = documents(text, limits).next() else {
        return (config, problems);
    };
    if let Some(error) = &document.error {
        problems.push(ConfigProblem {
            code: "invalid-config",
            severity: Severity::Error,
            message: error.message.clone(),
            span: error.span,
        });
        return (config, problems);
    }
    let Some(root) = document.root() else {
        return (config, problems);
    };
    if !root.is_mapping() {
        problems.push(ConfigProblem {
            code: "invalid-config",
            severity: Severity::Error,
            message: "the project file must be a mapping".to_string(),
            span: root.span(),
        });
        return (config, problems);
    }
    for entry in root.entries() {
        let key = entry.key.as_str().unwrap_or("");
        match key {
            "level" => match Level::parse(entry.value.as_str().unwrap_or("")) {
                Ok(level) => config.level = Some(level),
                Err(e) => problems.push(invalid(entry, format!("level: {e}"))),
            },
            "version" => match Version::parse(entry.value.as_str().unwrap_or("")) {
                Ok(version) => config.version = Some(version),
                Err(e) => problems.push(invalid(entry, format!("version: {e}"))),
            },
            "admissionConfiguration" => match entry.value.as_str() {
                Some(path) => config.admission_configuration = Some(path.to_string()),
                None => problems.push(invalid(
                    entry,
                    "admissionConfiguration: must be a path".to_string(),
                )),
            },
            "skip" => {
                for item in entry.value.items() {
                    match item.as_str() {
                        Some(glob) => config.skip.push(glob.to_string()),
                        None => problems.push(ConfigProblem {
                            code: "invalid-config",
                            severity: Severity::Error,
                            message: "skip: each entry must be a glob string".to_string(),
                            span: item.span(),
                        }),
                    }
                }
            }
            "namespaces" => {
                for namespace in entry.value.entries() {
                    let Some(name) = namespace.key.as_str() else {
                        continue;
                    };
                    let labels = namespace_from_project(name, namespace.value, &mut problems);
                    config.namespaces.push(labels);
                }
            }
            "exemptions" => {
                for item in entry.value.items() {
                    if let Some(exemption) = read_exemption(item, &mut problems) {
                        config.exemptions.push(exemption);
                    }
                }
            }
            _ => problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!("unknown key {key:?}; the keys are {}", PROJECT_KEYS.join(", ")),
                span: entry.key.span(),
            }),
        }
    }
    (config, problems)
}

/// A namespace's policy written in the project file with the label names as keys
/// (`enforce: baseline`, `warn-version: v1.30`), read with PSA's label rules.
fn namespace_from_project(
    name: &str,
    value: NodeRef<'_>,
    problems: &mut Vec<ConfigProblem>,
) -> NamespaceLabels {
    const KEYS: &[&str] = &[
        "enforce",
        "enforce-version",
        "warn",
        "warn-version",
        "audit",
        "audit-version",
    ];
    let mut yaml = String::from("kind: Namespace\nmetadata:\n  name: x\n  labels:\n");
    for entry in value.entries() {
        let key = entry.key.as_str().unwrap_or("");
        if KEYS.contains(&key) {
            yaml.push_str(&format!(
                "    {LABEL_PREFIX}{key}: {:?}\n",
                entry.value.as_str().unwrap_or("")
            ));
        } else {
            problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!(
                    "namespaces.{name}: unknown key {key:?}; the keys are {}",
                    KEYS.join(", ")
                ),
                span: entry.key.span(),
            });
        }
    }
    let mut labels = namespace_labels(&yaml, &Limits::default())
        .into_iter()
        .next()
        .unwrap_or(NamespaceLabels {
            name: name.to_string(),
            modes: Vec::new(),
            labelled: Vec::new(),
            any_label: false,
            enforce_span: None,
            problems: Vec::new(),
            header: value.span(),
        });
    labels.name = name.to_string();
    for (_, mode) in &mut labels.modes {
        mode.source = mode.source.replace(
            "Namespace \"x\", label pod-security.kubernetes.io/",
            &format!(".podsec.yaml, namespaces.{name}."),
        );
    }
    for problem in labels.problems.drain(..) {
        problems.push(ConfigProblem {
            span: value.span(),
            message: format!("namespaces.{name}: {}", problem.message),
            ..problem
        });
    }
    labels.header = value.span();
    labels.enforce_span = None;
    labels
}

fn read_exemption(item: NodeRef<'_>, problems: &mut Vec<ConfigProblem>) -> Option<Exemption> {
    let span = crate::yaml::Span::new(
        item.span().start,
        item.span().start + item.span().end.saturating_sub(item.span().start).min(1),
    );
    let text = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_string);
    for entry in item.entries() {
        let key = entry.key.as_str().unwrap_or("");
        if !EXEMPTION_KEYS.contains(&key) {
            problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!(
                    "exemptions: unknown key {key:?}; the keys are {}",
                    EXEMPTION_KEYS.join(", ")
                ),
                span: entry.key.span(),
            });
        }
    }
    let Some(check) = text("check") else {
        problems.push(ConfigProblem {
            code: "invalid-exemption",
            severity: Severity::Error,
            message: "an exemption needs `check`: the ID of the check it relaxes".to_string(),
            span: item.span(),
        });
        return None;
    };
    let check_span = item
        .entry("check")
        .map_or(span, |e| Span::new(e.key.span().start, e.value.span().end));
    if check_by_id(&check).is_none() {
        problems.push(ConfigProblem {
            code: "invalid-exemption",
            severity: Severity::Error,
            message: format!("unknown check {check:?}; `podsec explain` lists the checks"),
            span: check_span,
        });
        return None;
    }
    let reason = text("reason").unwrap_or_default();
    if reason.trim().is_empty() {
        problems.push(ConfigProblem {
            code: "invalid-exemption",
            severity: Severity::Error,
            message: format!("the exemption from {check} needs a `reason`: say why the workload needs it"),
            span: check_span,
        });
        return None;
    }
    let expires = match item.entry("expires") {
        Some(entry) => match entry.value.as_str().and_then(Date::parse) {
            Some(date) => Some(date),
            None => {
                problems.push(invalid(
                    entry,
                    "expires: must be a date written YYYY-MM-DD".to_string(),
                ));
                None
            }
        },
        None => None,
    };
    Some(Exemption {
        check,
        namespace: text("namespace"),
        kind: text("kind"),
        name: text("name"),
        container: text("container"),
        reason,
        expires,
        span: check_span,
    })
}

/// Matches `text` against a glob with `*` (anything but `/`), `**` (anything) and `?` (one character).
pub fn glob_match(glob: &str, text: &str) -> bool {
    fn go(glob: &[char], text: &[char]) -> bool {
        match glob.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) if rest.first() == Some(&'*') => {
                let rest = rest.get(1..).unwrap_or_default();
                let rest = rest.strip_prefix(&['/']).unwrap_or(rest);
                (0..=text.len()).any(|i| go(rest, text.get(i..).unwrap_or_default()))
            }
            Some(('*', rest)) => (0..=text.len())
                .take_while(|i| *i == 0 || text.get(i - 1) != Some(&'/'))
                .any(|i| go(rest, text.get(i..).unwrap_or_default())),
            Some(('?', rest)) => text
                .split_first()
                .is_some_and(|(c, tail)| *c != '/' && go(rest, tail)),
            Some((c, rest)) => text
                .split_first()
                .is_some_and(|(t, tail)| t == c && go(rest, tail)),
        }
    }
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    go(&glob, &text)
}

/// Everything known about policy, assembled by a shell from the files it found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyContext {
    /// `--level`/`--version` on the command line: overrides every other source.
    pub override_policy: Option<Policy>,
    /// Namespace objects found in the checked files or the workspace.
    pub namespaces: Vec<NamespaceLabels>,
    /// The project file.
    pub project: Option<ProjectConfig>,
    /// The cluster's admission configuration.
    pub admission: Option<AdmissionConfig>,
    /// The editor's `podsec.level`/`podsec.version`, the default where no project file exists.
    pub editor_default: Option<Policy>,
    /// Today, for exemption expiry.
    pub today: Option<Date>,
}

impl PolicyContext {
    /// The policy of an object in `namespace` whose pod uses `runtime_class`.
    ///
    /// Precedence: command line; then the namespace's labels (Namespace object, else the project file's
    /// `namespaces`), each unlabelled mode falling back to the admission configuration's default (else
    /// PSA's built-in privileged); for a namespace with no labels anywhere, the admission configuration's
    /// defaults, else the project file's `level`/`version`, else the editor's settings, else
    /// `restricted:latest`.
    pub fn resolve(&self, namespace: Option<&str>, runtime_class: Option<&str>) -> ResolvedPolicy {
        if let Some(policy) = self.override_policy {
            return ResolvedPolicy::enforce(policy, "the command line (--level/--version)");
        }
        let mut exempt = None;
        if let Some(admission) = &self.admission {
            if let Some(ns) = namespace.filter(|ns| admission.exempt_namespaces.iter().any(|e| e == ns)) {
                exempt = Some(format!("namespace {ns:?} is exempt in {}", admission.name));
            } else if let Some(rc) =
                runtime_class.filter(|rc| admission.exempt_runtime_classes.iter().any(|e| e == rc))
            {
                exempt = Some(format!("runtime class {rc:?} is exempt in {}", admission.name));
            }
        }
        let labels = namespace.and_then(|ns| {
            self.namespaces.iter().find(|n| n.name == ns).or_else(|| {
                self.project
                    .as_ref()
                    .and_then(|p| p.namespaces.iter().find(|n| n.name == ns))
            })
        });
        let mut resolved = match labels {
            // PSA's defaults for an unlabelled namespace are the cluster's: without an admission
            // configuration podsec cannot know them, and guessing `privileged` would silence every check
            // on the most common install manifest (an unlabelled Namespace, then its workloads).
            Some(labels) if !labels.any_label && self.admission.is_none() => {
                self.fallback(Some(&labels.name))
            }
            Some(labels) => {
                let mut modes = Vec::new();
                for mode in Mode::ALL {
                    if let Some((_, labelled)) = labels.modes.iter().find(|(m, _)| *m == mode) {
                        modes.push((mode, labelled.clone()));
                    } else if let Some((_, policy)) = self
                        .admission
                        .as_ref()
                        .and_then(|a| a.defaults.iter().find(|(m, _)| *m == mode))
                    {
                        let name = self.admission.as_ref().map_or("", |a| a.name.as_str());
                        modes.push((
                            mode,
                            ModePolicy {
                                policy: *policy,
                                source: format!("{name}, defaults.{}", mode.as_str()),
                            },
                        ));
                    }
                }
                ResolvedPolicy {
                    modes,
                    exempt: None,
                    privileged: Vec::new(),
                }
            }
            None => self.defaults(),
        };
        let (privileged, checking) = std::mem::take(&mut resolved.modes)
            .into_iter()
            .partition(|(_, m)| m.policy.level == Level::Privileged);
        resolved.modes = checking;
        resolved.privileged = privileged;
        resolved.exempt = exempt;
        resolved
    }

    fn defaults(&self) -> ResolvedPolicy {
        if let Some(admission) = self.admission.as_ref().filter(|a| !a.defaults.is_empty()) {
            let modes = admission
                .defaults
                .iter()
                .map(|(mode, policy)| {
                    (
                        *mode,
                        ModePolicy {
                            policy: *policy,
                            source: format!("{}, defaults.{}", admission.name, mode.as_str()),
                        },
                    )
                })
                .collect();
            return ResolvedPolicy {
                modes,
                exempt: None,
                privileged: Vec::new(),
            };
        }
        self.fallback(None)
    }

    /// podsec's own default: the project file's level/version, else the editor's settings, else
    /// `restricted:latest`. For an `unlabelled` Namespace, the source says why it applies.
    fn fallback(&self, unlabelled: Option<&str>) -> ResolvedPolicy {
        let project = self
            .project
            .as_ref()
            .filter(|p| p.level.is_some() || p.version.is_some());
        let (policy, source) = if let Some(project) = project {
            let default = Policy::default();
            let policy = Policy::new(
                project.level.unwrap_or(default.level),
                project.version.unwrap_or(default.version),
            );
            (policy, ".podsec.yaml, level/version")
        } else if let Some(policy) = self.editor_default {
            (policy, "the editor settings (podsec.level/podsec.version)")
        } else {
            (Policy::default(), "the default")
        };
        let source = match unlabelled {
            Some(name) => format!(
                "{source}: Namespace {name:?} has no pod-security labels and no admission configuration is known"
            ),
            None if project.is_none() && self.editor_default.is_none() => {
                "the default (no policy configured)".to_string()
            }
            None => source.to_string(),
        };
        ResolvedPolicy::enforce(policy, source)
    }

    /// The project-file exemption that covers a finding, if any (expired ones do not).
    pub fn project_exemption(
        &self,
        check: &str,
        object: &crate::analysis::ObjectReport,
        container: Option<&str>,
    ) -> Option<&Exemption> {
        let project = self.project.as_ref()?;
        project.exemptions.iter().find(|e| {
            e.check == check
                && e.namespace
                    .as_ref()
                    .is_none_or(|ns| object.namespace.as_deref() == Some(ns.as_str()))
                && e.kind.as_ref().is_none_or(|k| *k == object.kind)
                && e.name
                    .as_ref()
                    .is_none_or(|glob| object.name.as_deref().is_some_and(|n| glob_match(glob, n)))
                && e.container.as_ref().is_none_or(|c| container == Some(c.as_str()))
                && !self.expired(e)
        })
    }

    /// Whether an exemption's `expires` date has passed.
    pub fn expired(&self, exemption: &Exemption) -> bool {
        matches!((exemption.expires, self.today), (Some(expires), Some(today)) if today > expires)
    }

    /// Problems of the project file's exemptions that only a whole run can see: expired ones, and
    /// (given the exemptions that matched something) unused ones.
    pub fn exemption_problems(&self, used: &[Span]) -> Vec<ConfigProblem> {
        let Some(project) = &self.project else {
            return Vec::new();
        };
        project
            .exemptions
            .iter()
            .filter_map(|e| {
                if self.expired(e) {
                    let expires = e.expires.map(|d| d.to_string()).unwrap_or_default();
                    Some(ConfigProblem {
                        code: "expired-exemption",
                        severity: Severity::Warning,
                        message: format!(
                            "the exemption from {} expired on {expires}: it no longer applies",
                            e.check
                        ),
                        span: e.span,
                    })
                } else if !used.contains(&e.span) {
                    Some(ConfigProblem {
                        code: "unused-exemption",
                        severity: Severity::Warning,
                        message: format!(
                            "the exemption from {} matches no finding in the checked files",
                            e.check
                        ),
                        span: e.span,
                    })
                } else {
                    None
                }
            })
            .collect()
    }
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

/// The strictest level and version the pods of `text` at object index `object` pass: restricted at the
/// newest version it passes, else baseline likewise, else privileged.
pub fn strictest_passing(document: &Document<'_>, object: &crate::workload::PodObject<'_>) -> Policy {
    for level in [Level::Restricted, Level::Baseline] {
        for minor in (0..=crate::policy::MAX_MINOR).rev() {
            let version = if minor == crate::policy::MAX_MINOR {
                Version::Latest
            } else {
                Version::Minor(u64::from(minor))
            };
            let policy = Policy::new(level, version);
            if crate::analysis::check_object(document, object, policy, None)
                .violations
                .is_empty()
            {
                return policy;
            }
        }
    }
    Policy::new(Level::Privileged, Version::Latest)
}

/// The suggestion for every pod-bearing object of `text`: `(namespace, object name, strictest policy)`.
pub fn suggest_levels(text: &str, options: &Options) -> Vec<(Option<String>, String, Policy)> {
    let mut out = Vec::new();
    for document in documents(text, &options.limits).filter(|d| d.error.is_none()) {
        for object in pod_objects(&document) {
            let name = match object.name {
                Some(name) => format!("{} {name:?}", object.kind),
                None => object.kind.to_string(),
            };
            out.push((
                object.namespace.map(str::to_string),
                name,
                strictest_passing(&document, &object),
            ));
        }
    }
    out
}

/// PSA's dry-run warning for a Namespace's enforce label: when workloads of the namespace do not pass its
/// enforce level, a warning on the label that names them, one line per distinct reason, as PSA words it
/// when the label is applied (`existing pods in namespace "x" violate the new PodSecurity enforce level …`).
pub fn namespace_impact<'r>(
    labels: &NamespaceLabels,
    objects: impl IntoIterator<Item = &'r crate::analysis::ObjectReport>,
) -> Option<ConfigProblem> {
    let span = labels.enforce_span?;
    let (_, enforce) = labels.modes.iter().find(|(m, _)| *m == Mode::Enforce)?;
    // PSA's dry run never warns for privileged: it allows every pod.
    if enforce.policy.level == Level::Privileged {
        return None;
    }
    let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
    for object in objects {
        // Only objects checked against this very label (not a command-line override or another copy).
        let checked_here = object
            .modes
            .iter()
            .any(|(m, p)| *m == Mode::Enforce && p.policy == enforce.policy && p.source == enforce.source);
        if object.namespace.as_deref() != Some(labels.name.as_str()) || !checked_here {
            continue;
        }
        let reason = object.aggregated_reason(Mode::Enforce);
        if reason.is_empty() {
            continue;
        }
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, names)) => names.push(object.display_name()),
            None => reasons.push((reason, vec![object.display_name()])),
        }
    }
    if reasons.is_empty() {
        return None;
    }
    let mut message = format!(
        "existing pods in namespace {:?} violate the new PodSecurity enforce level {:?}",
        labels.name,
        enforce.policy.to_string()
    );
    for (reason, names) in &reasons {
        let first = names.first().cloned().unwrap_or_default();
        let others = match names.len() {
            1 => String::new(),
            2 => " (and 1 other pod)".to_string(),
            n => format!(" (and {} other pods)", n - 1),
        };
        message.push_str(&format!("\n{first}{others}: {reason}"));
    }
    Some(ConfigProblem {
        code: "namespace-impact",
        severity: Severity::Warning,
        message,
        span,
    })
}

/// A kustomization's `namespace:` and the `resources:` it applies to (paths relative to it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// The namespace Kustomize sets on every resource.
    pub namespace: Option<String>,
    /// The resource paths, as written.
    pub resources: Vec<String>,
}

/// Reads a `kustomization.yaml`.
pub fn kustomization(text: &str, limits: &Limits) -> Option<Kustomization> {
    let document = documents(text, limits).find(|d| d.error.is_none() && d.root.is_some())?;
    let root = document.root()?;
    Some(Kustomization {
        namespace: root.get("namespace").and_then(|n| n.as_str()).map(str::to_string),
        resources: root
            .get("resources")
            .into_iter()
            .flat_map(|r| r.items())
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> NamespaceLabels {
        let mut yaml =
            String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n");
        for (key, value) in pairs {
            yaml.push_str(&format!("    pod-security.kubernetes.io/{key}: {value:?}\n"));
        }
        namespace_labels(&yaml, &Limits::default()).remove(0)
    }

    fn policies(labels: &NamespaceLabels) -> Vec<String> {
        labels
            .modes
            .iter()
            .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
            .collect()
    }

    #[test]
    fn labels_follow_psa_rules() {
        let l = labels(&[("enforce", "baseline"), ("warn", "restricted")]);
        assert_eq!(
            policies(&l),
            ["enforce=baseline:latest", "warn=restricted:latest"]
        );
        // Warn inherits enforce, with its version when warn has no version label.
        let l = labels(&[("enforce", "baseline"), ("enforce-version", "v1.25")]);
        assert_eq!(policies(&l), ["enforce=baseline:v1.25", "warn=baseline:v1.25"]);
        let l = labels(&[
            ("enforce", "restricted"),
            ("enforce-version", "v1.25"),
            ("warn-version", "v1.30"),
        ]);
        assert_eq!(
            policies(&l),
            ["enforce=restricted:v1.25", "warn=restricted:v1.30"]
        );
        // Invalid values fall back as PSA does, and say so.
        let l = labels(&[
            ("enforce", "strict"),
            ("warn", "loud"),
            ("audit-version", "1.25"),
            ("audit", "baseline"),
        ]);
        assert_eq!(
            policies(&l),
            [
                "enforce=restricted:latest",
                "warn=privileged:latest",
                "audit=baseline:latest"
            ]
        );
        let messages: Vec<&str> = l.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 3);
        assert!(messages[0].starts_with(
            "pod-security.kubernetes.io/enforce: must be one of privileged, baseline, restricted"
        ));
        assert!(messages.iter().any(|m| {
            m.starts_with("pod-security.kubernetes.io/audit-version: must be \"latest\" or \"v1.x\"")
        }));
        // An invalid enforce level is not inherited by warn.
        assert!(
            !policies(&labels(&[("enforce", "nope")]))
                .iter()
                .any(|p| p.starts_with("warn"))
        );
    }

    #[test]
    fn resolution_precedence() {
        let admission = admission_config(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1\n    kind: PodSecurityConfiguration\n    defaults: {enforce: baseline, warn: restricted}\n    exemptions: {namespaces: [kube-system], runtimeClasses: [kata], usernames: [admin]}\n",
            "cluster/psa.yaml",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(admission.1.len(), 1, "usernames reported as ignored");
        let mut context = PolicyContext {
            admission: Some(admission.0),
            ..PolicyContext::default()
        };
        context
            .namespaces
            .push(labels(&[("enforce", "restricted"), ("enforce-version", "v1.33")]));
        let payments = context.resolve(Some("payments"), None);
        assert_eq!(
            payments.modes[0].1.source,
            "Namespace \"payments\", label pod-security.kubernetes.io/enforce"
        );
        assert_eq!(payments.primary().to_string(), "restricted:v1.33");
        let other = context.resolve(Some("web"), None);
        assert_eq!(
            other
                .modes
                .iter()
                .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
                .collect::<Vec<_>>(),
            ["enforce=baseline:latest", "warn=restricted:latest"]
        );
        assert_eq!(other.modes[0].1.source, "cluster/psa.yaml, defaults.enforce");
        assert!(context.resolve(Some("kube-system"), None).exempt.is_some());
        assert!(context.resolve(Some("web"), Some("kata")).exempt.is_some());
        context.override_policy = Some(Policy::new(Level::Baseline, Version::Minor(20)));
        assert_eq!(
            context.resolve(Some("payments"), None).primary().to_string(),
            "baseline:v1.20"
        );
        let bare = PolicyContext {
            editor_default: Some(Policy::new(Level::Baseline, Version::Latest)),
            ..PolicyContext::default()
        };
        assert_eq!(bare.resolve(None, None).primary().to_string(), "baseline:latest");
    }

    #[test]
    fn an_unlabelled_namespace_gets_the_default_only_when_no_admission_configuration_is_known() {
        let unlabelled = namespace_labels(
            "kind: Namespace\nmetadata:\n  name: ingress-nginx\n",
            &Limits::default(),
        );
        let only_warn = labels(&[("warn", "baseline")]);
        let mut context = PolicyContext {
            namespaces: unlabelled.into_iter().chain([only_warn]).collect(),
            ..PolicyContext::default()
        };
        let resolved = context.resolve(Some("ingress-nginx"), None);
        assert_eq!(resolved.primary().to_string(), "restricted:latest");
        assert_eq!(
            resolved.modes[0].1.source,
            "the default: Namespace \"ingress-nginx\" has no pod-security labels and no admission configuration is known"
        );
        // Any pod-security label: read exactly as PSA reads it (enforce falls back to privileged).
        let payments = context.resolve(Some("payments"), None);
        assert_eq!(
            payments
                .modes
                .iter()
                .map(|(m, p)| format!("{}={}", m.as_str(), p.policy))
                .collect::<Vec<_>>(),
            ["warn=baseline:latest"]
        );
        // The editor's setting is the default when there is no project file.
        context.editor_default = Some(Policy::new(Level::Baseline, Version::Minor(30)));
        let resolved = context.resolve(Some("ingress-nginx"), None);
        assert_eq!(resolved.primary().to_string(), "baseline:v1.30");
        assert!(resolved.modes[0].1.source.starts_with("the editor settings"));
        // A known admission configuration gives the cluster's defaults: here privileged, so nothing.
        context.admission = admission_config(
            "kind: PodSecurityConfiguration\ndefaults: {enforce: privileged}\n",
            "psa.yaml",
            &Limits::default(),
        )
        .map(|(a, _)| a);
        assert!(context.admission.is_some());
        assert!(context.resolve(Some("ingress-nginx"), None).modes.is_empty());
    }
    #[test]
    fn project_file_problems_are_located() {
        let text = "level: strict\nnamespaces:\n  ingress: {enforce: baseline, colour: red}\nexemptions:\n- check: hostPorts\n  name: \"ingress-*\"\n  reason: needs host ports\n  expires: 2026-01-31\n- check: noSuchCheck\n  reason: x\n- check: privileged\nbogus: 1\n";
        let (config, problems) = project_config(text, &Limits::default());
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.code, &text[p.span.start..p.span.end]))
            .collect();
        assert_eq!(
            found,
            [
                ("invalid-config", "level: strict"),
                ("unknown-key", "colour"),
                ("invalid-exemption", "check: noSuchCheck"),
                ("invalid-exemption", "check: privileged"),
                ("unknown-key", "bogus"),
            ]
        );
        assert_eq!(config.exemptions.len(), 1);
        assert_eq!(
            config.namespaces[0].modes[0].1.policy.to_string(),
            "baseline:latest"
        );
        let context = PolicyContext {
            project: Some(config),
            today: Date::parse("2026-11-24"),
            ..PolicyContext::default()
        };
        let expired = context.exemption_problems(&[]);
        assert_eq!(expired[0].code, "expired-exemption");
        assert_eq!(
            expired[0].message,
            "the exemption from hostPorts expired on 2026-01-31: it no longer applies"
        );
    }

    #[test]
    fn globs_and_dates() {
        assert!(glob_match("ingress-*", "ingress-nginx"));
        assert!(!glob_match("charts/*", "charts/a/b.yaml"));
        assert!(glob_match("charts/**", "charts/a/b.yaml"));
        assert!(glob_match("**/*.yaml", "a/b/c.yaml"));
        assert!(glob_match("?.yml", "a.yml"));
        assert_eq!(Date::from_unix_days(20_781).to_string(), "2026-11-24");
        assert!(Date::parse("2026-13-01").is_none());
    }
}
