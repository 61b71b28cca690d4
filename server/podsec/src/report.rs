//! The model of a `podsec check` run that the printers read: the inputs, what each file holds (as it
//! streams by, a piece at a time), and the counters the summary and the exit status need.

use crate::Outcome;
use podsec_engine::policy::{ConfigProblem, Mode, NamespaceLabels, Severity};
use podsec_engine::text::LineIndex;
use podsec_engine::{Analysis, ObjectReport};
use std::path::PathBuf;

/// One input: a file from the command line or a directory walk, or standard input.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// Standard input, with the name `--stdin-filename` gives it.
    Stdin(Option<PathBuf>),
}

/// A path as output shows it: as given or found, less any leading `./` (a walk of `.` finds `./a.yaml`,
/// which the user knows as `a.yaml`; linters such as ruff print it so, and CI tools match it to the
/// repository's paths). `.` itself stays `.`.
pub fn shown(path: &std::path::Path) -> &std::path::Path {
    let mut rest = path;
    while let Ok(stripped) = rest.strip_prefix(".") {
        if stripped.as_os_str().is_empty() {
            break;
        }
        rest = stripped;
    }
    rest
}

impl Input {
    /// The name shown in output: the path as given or found (without a leading `./`), or `<stdin>`.
    pub fn display(&self) -> String {
        match self {
            Input::File(path) | Input::Stdin(Some(path)) => shown(path).display().to_string(),
            Input::Stdin(None) => "<stdin>".to_string(),
        }
    }
}

/// A file's text and its line index, shared by the worker that analyses it and the printer.
#[derive(Debug)]
pub struct FileText {
    pub text: std::sync::Arc<String>,
    /// Built when a position is first printed: most bytes of a repository are in files with nothing to report.
    lines: std::sync::OnceLock<LineIndex>,
}

impl FileText {
    pub fn new(text: std::sync::Arc<String>) -> Self {
        Self {
            lines: std::sync::OnceLock::new(),
            text,
        }
    }

    /// The line index of the text, for turning offsets into lines and columns.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// No text: an input that could not be read.
    pub fn empty() -> Self {
        Self::new(std::sync::Arc::default())
    }
}

/// What the printers know of a file before its findings: everything but the objects.
#[derive(Debug)]
pub struct FileView<'a> {
    pub input: &'a Input,
    /// Empty when the file could not be read.
    pub text: &'a FileText,
    /// Why the input could not be read.
    pub error: Option<&'a str>,
    /// Every policy-source problem of the file, when known before its pieces (asked for by
    /// [`crate::output::Printer::config_problems_first`]): the analysis' own, then the run's.
    pub config_problems: Option<&'a [ConfigProblem]>,
    /// A policy file reported on without being checked (the project file, its admission configuration).
    pub source_only: bool,
}

/// A part of a file's findings, in source order: the analysis of a few documents, and the run's problems
/// located there (invalid Namespace labels, the impact of an enforce label, admission configuration and
/// project-file problems).
#[derive(Debug, Default)]
pub struct Part {
    pub analysis: Analysis,
    pub extra: Vec<ConfigProblem>,
}

impl Part {
    /// Every policy-source problem located in this part: from its analysis, then from the whole run.
    pub fn config_problems(&self) -> impl Iterator<Item = &ConfigProblem> {
        self.analysis.config_problems.iter().chain(&self.extra)
    }
}

/// Counters over everything written, for the summary lines and the exit status.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every file reported on: inputs, unreadable paths, policy files.
    pub files: usize,
    /// Inputs read and checked.
    pub checked: usize,
    pub unreadable: usize,
    pub objects: usize,
    /// Objects with a violation.
    pub failing: usize,
    /// Violation locations by severity, over every object.
    pub violations: SeverityCounts,
    /// Violation locations of objects that are checked (not exempt as a whole), plus every document
    /// and policy-source problem: what the text summary counts.
    pub findings: SeverityCounts,
    /// Exempted violations.
    pub exempted: usize,
    /// Exempted violations of objects that are checked.
    pub exempted_checked: usize,
    /// Of those, the violations of controller-owned objects that an owner in the input reports too.
    pub on_owners: usize,
    /// Unreadable documents (and chart documents podsec cannot read).
    pub problems: usize,
    /// Objects exempt as a whole (a namespace or runtime class of the admission configuration).
    pub exempt_objects: usize,
    /// The distinct policies objects were checked against, in order of appearance.
    pub policies: Vec<String>,
    /// Whether anything has the error severity.
    pub any_error: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SeverityCounts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl SeverityCounts {
    fn add(&mut self, severity: Severity, count: usize) {
        match severity {
            Severity::Error => self.errors += count,
            Severity::Warning => self.warnings += count,
            Severity::Information => self.notes += count,
        }
    }

    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.notes
    }
}

impl Tally {
    /// Counts a file before its parts.
    pub fn add_file(&mut self, file: &FileView<'_>) {
        self.files += 1;
        if file.error.is_some() {
            self.unreadable += 1;
        } else if !file.source_only {
            self.checked += 1;
        }
    }

    /// Counts a part of a file.
    pub fn add_part(&mut self, part: &Part) {
        let mut note = |severity: Severity, findings: &mut SeverityCounts| {
            findings.add(severity, 1);
            self.any_error |= severity == Severity::Error;
        };
        for problem in &part.analysis.problems {
            note(problem.severity, &mut self.findings);
            self.problems += 1;
        }
        for problem in part.config_problems() {
            note(problem.severity, &mut self.findings);
        }
        for object in &part.analysis.objects {
            for violation in &object.violations {
                let severity = violation.severity();
                let count = violation.locations.len();
                self.violations.add(severity, count);
                if object.exempt.is_none() {
                    self.findings.add(severity, count);
                }
                self.any_error |= severity == Severity::Error;
            }
            if object.verdict_elsewhere {
                // Its findings count here; the object counts with its template.
                continue;
            }
            self.objects += 1;
            let policy = object.policy.to_string();
            if !self.policies.contains(&policy) {
                self.policies.push(policy);
            }
            self.failing += usize::from(object.fails());
            self.exempted += object.exempted.len();
            if object.exempt.is_some() {
                self.exempt_objects += 1;
            } else {
                self.exempted_checked += object.exempted.len();
                self.on_owners += object
                    .exempted
                    .iter()
                    .filter(|(_, reason)| {
                        reason.starts_with(podsec_engine::analysis::REPORTED_THROUGH_ITS_OWNER)
                    })
                    .count();
            }
        }
    }

    /// 2 when an input could not be read, 1 when anything has the error severity, 0 otherwise.
    pub fn outcome(&self) -> Outcome {
        if self.unreadable > 0 {
            Outcome::Error
        } else if self.any_error {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}

/// What the impact warning of one Namespace's enforce label needs from the workloads: per distinct
/// aggregated reason, the first object with it (stripped of its locations) and how many share it.
#[derive(Debug, Default)]
pub struct ImpactGroups {
    groups: Vec<(String, ObjectReport, usize)>,
}

impl ImpactGroups {
    /// Counts `object` if the label's enforce policy checked it (the same test as `namespace_impact`).
    pub fn add(&mut self, labels: &NamespaceLabels, object: &ObjectReport) {
        let Some((_, enforce)) = labels.modes.iter().find(|(m, _)| *m == Mode::Enforce) else {
            return;
        };
        let checked_here = object
            .modes
            .iter()
            .any(|(m, p)| *m == Mode::Enforce && p.policy == enforce.policy && p.source == enforce.source);
        if object.namespace.as_deref() != Some(labels.name.as_str()) || !checked_here {
            return;
        }
        let reason = object.aggregated_reason(Mode::Enforce);
        if reason.is_empty() {
            return;
        }
        match self.groups.iter_mut().find(|(r, _, _)| *r == reason) {
            Some((_, _, count)) => *count += 1,
            None => {
                let mut first = object.clone();
                first.exempted.clear();
                first.violations.retain(|v| v.mode == Mode::Enforce);
                for violation in &mut first.violations {
                    violation.locations.clear();
                }
                self.groups.push((reason, first, 1));
            }
        }
    }

    /// Adds the groups of objects found later in the run.
    pub fn extend(&mut self, later: ImpactGroups) {
        for (reason, first, count) in later.groups {
            match self.groups.iter_mut().find(|(r, _, _)| *r == reason) {
                Some((_, _, total)) => *total += count,
                None => self.groups.push((reason, first, count)),
            }
        }
    }

    /// PSA's dry-run warning for the label, if its workloads do not pass it.
    pub fn warning(&self, labels: &NamespaceLabels) -> Option<ConfigProblem> {
        // Each group's first object, as often as objects share its reason: namespace_impact names the
        // first and counts the others.
        let objects = self
            .groups
            .iter()
            .flat_map(|(_, first, count)| std::iter::repeat_n(first, *count));
        podsec_engine::advice::namespace_impact(labels, objects)
    }
}

/// An object as a JUnit case and a baseline entry name it: kind, name and namespace, never its line.
pub fn object_identity(object: &ObjectReport) -> String {
    match &object.namespace {
        Some(namespace) => format!("{} in namespace {namespace:?}", object.display_name()),
        None => object.display_name(),
    }
}

/// FNV-1a (64 bits) of the parts, separated by NUL, in hex: a fingerprint that stays when lines move.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (index, part) in parts.iter().enumerate() {
        let separator: &[u8] = if index == 0 { b"" } else { b"\0" };
        for byte in separator.iter().chain(part.as_bytes()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
