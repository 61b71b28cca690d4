//! The shared vocabulary of policy: PSA's modes, the severity each gives a finding, a mode's policy and
//! where it came from, and a located problem in a policy source.

use crate::policy::{Level, Policy, Version};
use crate::yaml::{Entry, Span};

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
    /// Whether the cluster's Pod Security Admission applies it (a Namespace label, the project file's record of
    /// one, the admission configuration), rather than podsec alone (the command line, the project file's
    /// level, the editor's settings, the default). PSA knows no per-check exemption.
    pub by_cluster: bool,
    /// Where it is written, for a shell to find and show it.
    pub origin: PolicyOrigin,
}

/// Where a mode's policy is written, symbolically (a shell knows the files): what "why this policy?"
/// jumps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyOrigin {
    /// The label `pod-security.kubernetes.io/<label>` (`enforce`, `warn-version`, …) of the Namespace
    /// object named `namespace`.
    NamespaceLabel {
        /// The Namespace's name.
        namespace: String,
        /// The label's key after the prefix.
        label: String,
    },
    /// The project file's `namespaces.<namespace>.<label>`.
    ProjectNamespace {
        /// The namespace's name.
        namespace: String,
        /// The key (`enforce`, `warn-version`, …).
        label: String,
    },
    /// The admission configuration's `defaults.<mode>`.
    AdmissionDefaults(Mode),
    /// The project file's `level` (and `version`).
    ProjectLevel,
    /// The editor's settings (`podsec.level`, `podsec.version`).
    EditorSettings,
    /// The command line (`--level`).
    CommandLine,
    /// podsec's default (`restricted:latest`), or the policy a caller gave.
    Default,
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
    /// One enforced policy, from `source` (written at `origin`).
    pub fn enforce(policy: Policy, source: impl Into<String>, origin: PolicyOrigin) -> Self {
        Self {
            modes: vec![(
                Mode::Enforce,
                ModePolicy {
                    policy,
                    source: source.into(),
                    by_cluster: false,
                    origin,
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

/// A problem at a policy source's entry, with PSA's wording for a bad value.
pub(crate) fn invalid(entry: Entry<'_>, message: String) -> ConfigProblem {
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
