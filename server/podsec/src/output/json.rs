//! JSON for scripts: one document for the whole run, written file by file and object by object. Keys are
//! in serde_json's sorted order (so the summary comes last); the document is pretty-printed, except that
//! each object is compact on its own line.

use super::{Printer, region};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::policy::ConfigProblem;
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
                write_object(&mut *out, object, text, file.text.lines())?;
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
            // As the text summary counts them, syntax errors and policy-source problems included: the
            // counts agree with the exit status.
            "errors": tally.findings.errors,
            "warnings": tally.findings.warnings,
            "notes": tally.findings.notes,
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

/// A compact JSON object written a field at a time, keys in the order given (serde_json's sorted order,
/// as a `Value` would print them), so that a list of thousands of items is written an item at a time and
/// never held whole: a pod with thousands of containers costs memory for one finding, not all of them.
struct Fields<'o> {
    out: &'o mut dyn Write,
    written: usize,
}

impl<'o> Fields<'o> {
    fn open(out: &'o mut dyn Write) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(Self { out, written: 0 })
    }

    /// Writes `"key":` and hands over the output for its value.
    fn key(&mut self, key: &str) -> io::Result<&mut dyn Write> {
        if self.written > 0 {
            self.out.write_all(b",")?;
        }
        self.written += 1;
        serde_json::to_writer(&mut *self.out, key)?;
        self.out.write_all(b":")?;
        Ok(&mut *self.out)
    }

    fn value(&mut self, key: &str, value: &Value) -> io::Result<()> {
        let out = self.key(key)?;
        serde_json::to_writer(out, value)?;
        Ok(())
    }

    /// A list, each item written by `each`.
    fn list<T>(
        &mut self,
        key: &str,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut dyn Write, T) -> io::Result<()>,
    ) -> io::Result<()> {
        let out = self.key(key)?;
        out.write_all(b"[")?;
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                out.write_all(b",")?;
            }
            each(&mut *out, item)?;
        }
        out.write_all(b"]")
    }

    fn close(self) -> io::Result<()> {
        self.out.write_all(b"}")
    }
}

/// A violation, its locations written one at a time; `exempted` adds the exemption's reason.
fn write_violation(
    out: &mut dyn Write,
    v: &CheckViolation,
    exempted: Option<&str>,
    text: &str,
    index: &LineIndex,
) -> io::Result<()> {
    let mut fields = Fields::open(out)?;
    fields.value("check", &json!(v.check.id))?;
    fields.value("detail", &json!(v.detail))?;
    fields.value("level", &json!(v.check.level.as_str()))?;
    fields.list("locations", &v.locations, |out, l| {
        let r = region(text, index, l.span);
        let location = json!({ "path": l.path, "missing": l.missing, "container": l.container, "start": position(r.start), "end": position(r.end) });
        serde_json::to_writer(out, &location).map_err(io::Error::from)
    })?;
    fields.value("mode", &json!(v.mode.as_str()))?;
    fields.value("policy", &json!(v.policy.to_string()))?;
    fields.value("reason", &json!(v.reason))?;
    if let Some(reason) = exempted {
        fields.value("reason_exempted", &json!(reason))?;
    }
    fields.value("severity", &json!(v.severity().as_str()))?;
    fields.close()
}

/// An object on one line, its violations and exempted findings written one location at a time.
fn write_object(out: &mut dyn Write, object: &ObjectReport, text: &str, index: &LineIndex) -> io::Result<()> {
    let header = index.line_column(text, object.header.start);
    let mut fields = Fields::open(out)?;
    fields.value("allowed", &json!(!object.enforce_denies()))?;
    fields.value("column", &json!(header.column))?;
    fields.value("document", &json!(object.document))?;
    fields.value("exempt", &json!(object.exempt))?;
    fields.list("exempted", &object.exempted, |out, (v, reason)| {
        write_violation(out, v, Some(reason), text, index)
    })?;
    fields.value("kind", &json!(object.kind))?;
    fields.value("line", &json!(header.line))?;
    let message = if !object.fails() {
        Value::Null
    } else {
        Value::String(object.warning())
    };
    fields.value("message", &message)?;
    // PSA's line of every level:version that fails, with the modes evaluated at it.
    let messages: Vec<Value> = object.mode_lines.iter().filter(|l| !l.failures.is_empty()).map(|l| json!({ "modes": l.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(), "policy": l.policy.to_string(), "message": l.message() })).collect();
    fields.value("messages", &Value::Array(messages))?;
    let modes: Vec<Value> = object
        .modes
        .iter()
        .map(|(mode, p)| json!({ "mode": mode.as_str(), "policy": p.policy.to_string(), "source": p.source }))
        .collect();
    fields.value("modes", &Value::Array(modes))?;
    fields.value("name", &json!(object.name))?;
    fields.value("namespace", &json!(object.namespace))?;
    fields.value("policy", &json!(object.policy.to_string()))?;
    fields.value("rendered", &json!(object.rendered))?;
    fields.value("source", &json!(object.source))?;
    fields.value("verdictElsewhere", &json!(object.verdict_elsewhere))?;
    fields.list("violations", &object.violations, |out, v| {
        write_violation(out, v, None, text, index)
    })?;
    fields.close()
}

fn config_json(problem: &ConfigProblem, text: &str, index: &LineIndex) -> Value {
    let at = index.line_column(text, problem.span.start);
    json!({ "code": problem.code, "severity": problem.severity.as_str(), "message": problem.message, "line": at.line, "column": at.column })
}
