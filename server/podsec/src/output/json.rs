//! JSON for scripts: one document for the whole run, written file by file and object by object. Keys are
//! in serde_json's sorted order (so the summary comes last); the document is pretty-printed, except that
//! each object is compact on its own line.

use super::{Printer, region};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::policy::{ConfigProblem, Mode};
use podsec_engine::text::{LineColumn, LineIndex};
use podsec_engine::{CheckViolation, ObjectReport};
use serde_json::{Value, json};
use std::io::{self, Write};

/// The version of this document's shape (`editors/podsec-output.schema.json`): raised when a field is
/// removed or changes meaning, not when one is added.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Default)]
pub struct Json {
    files: usize,
}

/// `value` pretty-printed as serde_json does, its lines after the first indented by `indent` spaces, to
/// sit at that depth of the document. Strings escape their line breaks, so every line break is layout.
fn pretty(value: &Value, indent: usize) -> io::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(text.replace('\n', &format!("\n{}", " ".repeat(indent))))
}

impl Printer for Json {
    fn config_problems_first(&self) -> bool {
        true
    }

    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "{{\n  \"files\": ")
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        out.write_all(if self.files == 0 { b"[\n" } else { b",\n" })?;
        self.files += 1;
        let text = file.text.text.as_str();
        let config_problems: Vec<Value> = file
            .config_problems
            .unwrap_or_default()
            .iter()
            .map(|p| config_json(p, text, file.text.lines()))
            .collect();
        write!(
            out,
            "    {{\n      \"config_problems\": {},\n      \"error\": {},\n      \"objects\": ",
            pretty(&Value::Array(config_problems), 6)?,
            pretty(&json!(file.error), 6)?
        )?;
        let mut objects = 0;
        let mut problems = Vec::new();
        for part in parts {
            for object in &part.analysis.objects {
                out.write_all(if objects == 0 {
                    b"[\n        "
                } else {
                    b",\n        "
                })?;
                objects += 1;
                // One object per line, compact: a finding costs a few hundred bytes, not a screenful.
                serde_json::to_writer(&mut *out, &object_json(object, text, file.text.lines()))?;
            }
            problems.extend(part.analysis.problems.iter().map(|p| {
                let at = file.text.lines().line_column(text, p.span.start);
                json!({ "code": p.code, "severity": p.severity.as_str(), "message": p.message, "document": p.document, "line": at.line, "column": at.column })
            }));
        }
        out.write_all(if objects == 0 { b"[]" } else { b"\n      ]" })?;
        write!(
            out,
            ",\n      \"path\": {},\n      \"problems\": {}\n    }}",
            pretty(&json!(file.input.display()), 6)?,
            pretty(&Value::Array(problems), 6)?
        )
    }

    fn finish(&mut self, out: &mut dyn Write, tally: &Tally) -> io::Result<()> {
        out.write_all(if self.files == 0 { b"[]" } else { b"\n  ]" })?;
        let summary = json!({
            "files": tally.files,
            "objects": tally.objects,
            "failing_objects": tally.failing,
            "violations": tally.violations.total(),
            "errors": tally.violations.errors,
            "warnings": tally.violations.warnings,
            "notes": tally.violations.notes,
            "exempted": tally.exempted,
            "problems": tally.problems,
            "unreadable": tally.unreadable,
        });
        writeln!(
            out,
            ",\n  \"summary\": {},\n  \"tool\": \"podsec\",\n  \"tool_version\": {},\n  \"version\": {FORMAT_VERSION}\n}}",
            pretty(&summary, 2)?,
            json!(env!("CARGO_PKG_VERSION"))
        )
    }
}

fn position(at: LineColumn) -> Value {
    json!({ "line": at.line, "column": at.column })
}

fn violation_json(v: &CheckViolation, text: &str, index: &LineIndex) -> Value {
    json!({
        "check": v.check.id,
        "level": v.check.level.as_str(),
        "mode": v.mode.as_str(),
        "severity": v.severity().as_str(),
        "policy": v.policy.to_string(),
        "reason": v.reason,
        "detail": v.detail,
        "locations": v.locations.iter().map(|l| {
            let r = region(text, index, l.span);
            json!({ "path": l.path, "missing": l.missing, "container": l.container, "start": position(r.start), "end": position(r.end) })
        }).collect::<Vec<_>>(),
    })
}

fn object_json(object: &ObjectReport, text: &str, index: &LineIndex) -> Value {
    let header = index.line_column(text, object.header.start);
    json!({
        "kind": object.kind,
        "name": object.name,
        "source": object.source,
        "namespace": object.namespace,
        "document": object.document,
        "line": header.line,
        "column": header.column,
        "policy": object.policy.to_string(),
        "modes": object.modes.iter().map(|(mode, p)| json!({ "mode": mode.as_str(), "policy": p.policy.to_string(), "source": p.source })).collect::<Vec<_>>(),
        "exempt": object.exempt,
        "allowed": object.violations.iter().all(|v| v.mode != Mode::Enforce),
        "message": if object.violations.is_empty() { Value::Null } else { Value::String(object.warning()) },
        // PSA's line of every level:version that fails, with the modes evaluated at it.
        "messages": object.mode_lines.iter().filter(|l| !l.failures.is_empty()).map(|l| json!({ "modes": l.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(), "policy": l.policy.to_string(), "message": l.message() })).collect::<Vec<_>>(),
        "violations": object.violations.iter().map(|v| violation_json(v, text, index)).collect::<Vec<_>>(),
        "exempted": object.exempted.iter().map(|(v, reason)| {
            let mut value = violation_json(v, text, index);
            if let Some(fields) = value.as_object_mut() {
                fields.insert("reason_exempted".to_string(), Value::String(reason.clone()));
            }
            value
        }).collect::<Vec<_>>(),
    })
}

fn config_json(problem: &ConfigProblem, text: &str, index: &LineIndex) -> Value {
    let at = index.line_column(text, problem.span.start);
    json!({ "code": problem.code, "severity": problem.severity.as_str(), "message": problem.message, "line": at.line, "column": at.column })
}
