//! `--write-baseline FILE` and `--baseline FILE`: today's findings recorded by a fingerprint that survives
//! line moves and unrelated edits, so that a run reports (and fails on) new findings only.
//!
//! A finding's fingerprint is SARIF's and GitLab's: the file's path, the object's kind, name and namespace,
//! the check and the field's path for a violation; the path, code and message for a document or
//! policy-source problem. Never a line. The file is JSON: `{"version": 1, "tool": "podsec", "findings":
//! [{"fingerprint", "path", "code", "object", "field"}]}`, one entry per finding (a fingerprint may repeat:
//! each entry matches one finding).

use crate::report::{fingerprint, object_identity};
use podsec_engine::{Analysis, ObjectReport};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The version of the baseline file's shape.
const BASELINE_VERSION: u64 = 1;

/// One recorded finding: its fingerprint, and what a person reads of it.
#[derive(Clone, Debug)]
struct Entry {
    fingerprint: String,
    path: String,
    code: String,
    object: Option<String>,
    field: Option<String>,
}

impl Entry {
    fn json(&self) -> Value {
        json!({ "fingerprint": self.fingerprint, "path": self.path, "code": self.code, "object": self.object, "field": self.field })
    }

    fn describe(&self) -> String {
        match (&self.object, &self.field) {
            (Some(object), Some(field)) => format!("{}: {}: {object} {field}", self.path, self.code),
            _ => format!("{}: {}", self.path, self.code),
        }
    }
}

/// What a run does with a baseline: record every finding, or set aside the known ones.
#[derive(Debug, Default)]
pub struct Baseline {
    /// `--write-baseline`: every finding, in order.
    recorded: Option<Vec<Entry>>,
    /// `--baseline`: the known entries by fingerprint, each with how many findings may still match it.
    known: HashMap<String, Vec<Entry>>,
    /// The known findings set aside so far.
    matched: usize,
    /// Whether a baseline was read.
    reading: bool,
}

impl Baseline {
    /// For `--write-baseline`.
    pub fn recording() -> Self {
        Self {
            recorded: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// For `--baseline FILE`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a podsec baseline: {e}", path.display()))?;
        if value.get("version").and_then(Value::as_u64) != Some(BASELINE_VERSION) {
            return Err(format!(
                "{}: not a podsec baseline of version {BASELINE_VERSION}",
                path.display()
            ));
        }
        let mut known: HashMap<String, Vec<Entry>> = HashMap::new();
        let findings = value
            .get("findings")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for finding in findings {
            let text = |key: &str| finding.get(key).and_then(Value::as_str).map(str::to_string);
            let Some(fingerprint) = text("fingerprint") else {
                return Err(format!("{}: an entry without a fingerprint", path.display()));
            };
            let entry = Entry {
                fingerprint: fingerprint.clone(),
                path: text("path").unwrap_or_default(),
                code: text("code").unwrap_or_default(),
                object: text("object"),
                field: text("field"),
            };
            known.entry(fingerprint).or_default().push(entry);
        }
        Ok(Self {
            known,
            reading: true,
            ..Self::default()
        })
    }

    /// Records or sets aside the findings of one part of the file `path` (as output shows it), before
    /// anything counts or prints them.
    pub fn apply(
        &mut self,
        path: &str,
        analysis: &mut Analysis,
        extra: &mut Vec<podsec_engine::policy::ConfigProblem>,
    ) {
        analysis.problems.retain(|p| {
            let entry = problem_entry(path, p.code, &p.message);
            self.keep(entry)
        });
        analysis
            .config_problems
            .retain(|p| self.keep(problem_entry(path, p.code, &p.message)));
        extra.retain(|p| self.keep(problem_entry(path, p.code, &p.message)));
        for object in analysis.objects.iter_mut().filter(|o| o.exempt.is_none()) {
            let identity = ObjectIdentity::of(object);
            for violation in &mut object.violations {
                let check = violation.check.id;
                violation
                    .locations
                    .retain(|l| self.keep(identity.entry(path, check, &l.path)));
            }
            object.violations.retain(|v| !v.locations.is_empty());
            let violations = &object.violations;
            for line in &mut object.mode_lines {
                line.failures
                    .retain(|f| violations.iter().any(|v| v.check.id == f.check.id));
            }
        }
    }

    /// Whether a finding is kept: always when recording (it is recorded); when reading, unless an unmatched
    /// entry of the baseline has its fingerprint.
    fn keep(&mut self, entry: Entry) -> bool {
        if let Some(recorded) = &mut self.recorded {
            recorded.push(entry);
            return true;
        }
        if let Some(entries) = self.known.get_mut(&entry.fingerprint) {
            if entries.pop().is_some() {
                self.matched += 1;
                return false;
            }
        }
        true
    }

    /// After the run: writes the recorded baseline to `path`, or says on standard error how many known
    /// findings were set aside and which entries no longer match.
    pub fn finish(self, path: &Path) -> Result<(), String> {
        if let Some(recorded) = self.recorded {
            let document = json!({
                "version": BASELINE_VERSION,
                "tool": "podsec",
                "findings": recorded.iter().map(Entry::json).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
            std::fs::write(path, format!("{text}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
            crate::stderr_line!(
                "podsec: wrote {} ({} findings)",
                crate::report::shown(path).display(),
                recorded.len()
            );
            return Ok(());
        }
        if !self.reading {
            return Ok(());
        }
        let mut stale: Vec<Entry> = self.known.into_values().flatten().collect();
        stale.sort_by(|a, b| {
            (&a.path, &a.code, &a.object, &a.field).cmp(&(&b.path, &b.code, &b.object, &b.field))
        });
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        crate::stderr_line!(
            "podsec: baseline {}: {} known, not reported; {} no longer {}",
            crate::report::shown(path).display(),
            plural(self.matched, "finding", "findings"),
            plural(stale.len(), "entry", "entries"),
            if stale.len() == 1 { "matches" } else { "match" },
        );
        for entry in stale {
            crate::stderr_line!("  fixed or moved: {}", entry.describe());
        }
        Ok(())
    }
}

fn problem_entry(path: &str, code: &str, message: &str) -> Entry {
    Entry {
        fingerprint: fingerprint(&[path, code, message]),
        path: path.to_string(),
        code: code.to_string(),
        object: None,
        field: None,
    }
}

/// What a violation's fingerprint says of its object (kept apart, so that its violations can be changed).
struct ObjectIdentity {
    kind: String,
    name: String,
    namespace: String,
    shown: String,
}

impl ObjectIdentity {
    fn of(object: &ObjectReport) -> Self {
        Self {
            kind: object.kind.clone(),
            name: object.name.clone().unwrap_or_default(),
            namespace: object.namespace.clone().unwrap_or_default(),
            shown: object_identity(object),
        }
    }

    /// The entry of a violation of `check` at `field`: SARIF's `podsec/v1` fingerprint with the path.
    fn entry(&self, path: &str, check: &str, field: &str) -> Entry {
        Entry {
            fingerprint: fingerprint(&[path, &self.kind, &self.name, &self.namespace, check, field]),
            path: path.to_string(),
            code: check.to_string(),
            object: Some(self.shown.clone()),
            field: Some(field.to_string()),
        }
    }
}
