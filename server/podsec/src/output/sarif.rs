//! SARIF 2.1.0 for code scanning, valid against the OASIS schema: one rule per check and per podsec
//! problem, one result per finding, written as the files come (one result per line). PSA's aggregated
//! sentence of an object is on the object's first result only.

use super::{Printer, region};
use crate::codes::PROBLEM_CODES;
use crate::report::{FileText, FileView, Input, Tally, fingerprint};
use crate::run::Parts;
use podsec_engine::policy::Severity;
use podsec_engine::{CHECKS, CheckViolation, Level, Location, ObjectReport, Span};
use serde_json::{Value, json};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The description of a problem code, for `--statistics`.
pub fn problem_description(code: &str) -> &'static str {
    match PROBLEM_CODES.iter().find(|r| r.id == code) {
        Some(rule) => rule.description,
        None if code == "unreadable" => "The file could not be read.",
        None => "Another podsec problem.",
    }
}

/// GitHub's `security-severity`: what breaking a baseline check opens (privileged containers, host
/// namespaces, host paths) is high; what only restricted adds (root users, capabilities, seccomp) medium.
fn security_severity(level: Level) -> &'static str {
    match level {
        Level::Restricted => "5.0",
        _ => "8.0",
    }
}

fn rules() -> Vec<Value> {
    let tags = ["security", "kubernetes", "pod-security"];
    let mut rules: Vec<Value> = CHECKS
        .iter()
        .map(|check| {
            json!({
                "id": check.id,
                "name": check.id,
                "shortDescription": { "text": check.summary() },
                "fullDescription": { "text": check.summary() },
                "help": { "text": check.doc, "markdown": check.doc },
                "helpUri": check.help_uri(),
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "level": check.level.as_str(),
                    "since": format!("v1.{}", check.since()),
                    "tags": tags,
                    "security-severity": security_severity(check.level),
                },
            })
        })
        .collect();
    rules.extend(PROBLEM_CODES.iter().map(|rule| {
        json!({
            "id": rule.id,
            "name": rule.id,
            "shortDescription": { "text": rule.description },
            "fullDescription": { "text": rule.description },
            "help": { "text": rule.help, "markdown": rule.help },
            "defaultConfiguration": { "level": rule.level },
            "properties": { "tags": ["kubernetes", "podsec"] },
        })
    }));
    rules
}

/// The rule of a check or problem code: `(id, index)`; an unknown code is `other`.
fn rule_of(code: &'static str) -> (&'static str, usize) {
    if let Some(index) = CHECKS.iter().position(|c| c.id == code) {
        return (code, index);
    }
    let index = PROBLEM_CODES
        .iter()
        .position(|r| r.id == code)
        .unwrap_or(PROBLEM_CODES.len() - 1);
    let id = PROBLEM_CODES.get(index).map_or("other", |r| r.id);
    (id, CHECKS.len() + index)
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "note",
    }
}

/// Percent-encodes a path for a URI reference: unreserved characters and `/` stay, every other byte is
/// `%XX`.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut encoded = String::with_capacity(bytes.len());
    for byte in bytes {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                encoded.push(char::from(*byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// Where a path is, as a SARIF `artifactLocation`: relative paths under `%SRCROOT%` (the directory podsec
/// ran in), absolute ones under `ROOT` (`file:///`).
fn artifact_of_path(path: &Path) -> Value {
    let bytes = path.as_os_str().as_bytes();
    match bytes.strip_prefix(b"/") {
        Some(rest) => json!({ "uri": percent_encode(rest), "uriBaseId": "ROOT" }),
        None => json!({ "uri": percent_encode(bytes), "uriBaseId": "%SRCROOT%" }),
    }
}

fn artifact_of(input: &Input) -> Value {
    match input {
        Input::File(path) | Input::Stdin(Some(path)) => artifact_of_path(crate::report::shown(path)),
        // Unnamed standard input: a relative reference under no base.
        Input::Stdin(None) => json!({ "uri": "stdin" }),
    }
}

/// Where an exemption came from, as a SARIF suppression: the engine's reason ends with its source. The
/// annotation and the comments are in the file (`inSource`), the project file and `--ignore` outside it.
fn suppression(reason: &str) -> Value {
    use podsec_engine::sources::{
        EXEMPTED_BY_ANNOTATION, EXEMPTED_BY_LINE_COMMENT, EXEMPTED_BY_METADATA_COMMENT,
        EXEMPTED_BY_PROJECT_FILE,
    };
    let in_source = [
        EXEMPTED_BY_ANNOTATION,
        EXEMPTED_BY_LINE_COMMENT,
        EXEMPTED_BY_METADATA_COMMENT,
    ]
    .iter()
    .find_map(|suffix| reason.strip_suffix(suffix));
    let (kind, justification) = match in_source {
        Some(reason) => ("inSource", reason),
        None => (
            "external",
            reason.strip_suffix(EXEMPTED_BY_PROJECT_FILE).unwrap_or(reason),
        ),
    };
    json!({ "kind": kind, "status": "accepted", "justification": justification })
}

pub struct Sarif {
    show_exempted: bool,
    results: usize,
    /// Unreadable inputs, reported as tool notifications at the end.
    notifications: Vec<Value>,
}

impl Sarif {
    pub fn new(show_exempted: bool) -> Self {
        Self {
            show_exempted,
            results: 0,
            notifications: Vec::new(),
        }
    }

    fn result(&mut self, out: &mut dyn Write, result: &Value) -> io::Result<()> {
        out.write_all(if self.results == 0 {
            b"\n        "
        } else {
            b",\n        "
        })?;
        self.results += 1;
        serde_json::to_writer(&mut *out, result)?;
        Ok(())
    }

    /// The results of one object: a finding per location, the exempted ones suppressed.
    fn object(&mut self, out: &mut dyn Write, object: &ObjectReport, place: &Place<'_>) -> io::Result<()> {
        let exempted = self
            .show_exempted
            .then_some(&object.exempted)
            .into_iter()
            .flatten()
            .map(|(v, reason)| (v, Some(reason.as_str())));
        let findings = object.violations.iter().map(|v| (v, None)).chain(exempted);
        let mut first = true;
        let namespace = object.namespace.as_deref().unwrap_or("");
        let name = object.name.as_deref().unwrap_or("");
        for (violation, exemption) in findings {
            for location in &violation.locations {
                let mut at = json!({
                    // Committed `helm template` output: the file and line are this file's (the chart template it
                    // names may not be in the repository), the template is kept alongside.
                    "physicalLocation": place.physical(location.span),
                    "logicalLocations": [{
                        "fullyQualifiedName": format!("{}/{}", object.display_name(), location.path),
                        "kind": "member",
                    }],
                });
                if let Some(source) = &object.source {
                    set(&mut at, "properties", json!({ "chartTemplate": source }));
                }
                let mut result = self.violation_result(object, violation, location, at);
                set(
                    &mut result,
                    "partialFingerprints",
                    json!({
                        "podsec/v1": fingerprint(&[&object.kind, name, namespace, violation.check.id, &location.path]),
                    }),
                );
                if first && !object.violations.is_empty() {
                    // PSA's sentence for the whole object, once: on its first result.
                    let sentence = json!([{
                        "id": 1,
                        "message": { "text": object.warning() },
                        "physicalLocation": place.physical(object.header),
                    }]);
                    set(&mut result, "relatedLocations", sentence);
                }
                first = false;
                if let Some(reason) = exemption {
                    set(&mut result, "suppressions", json!([suppression(reason)]));
                }
                self.result(out, &result)?;
            }
        }
        Ok(())
    }

    fn violation_result(
        &self,
        object: &ObjectReport,
        violation: &CheckViolation,
        location: &Location,
        at: Value,
    ) -> Value {
        let (id, index) = rule_of(violation.check.id);
        json!({
            "ruleId": id,
            "ruleIndex": index,
            "level": sarif_level(violation.severity()),
            "message": { "text": super::violation_message(object, violation, location) },
            "locations": [at],
        })
    }

    fn problem(
        &mut self,
        out: &mut dyn Write,
        code: &'static str,
        severity: Severity,
        message: &str,
        span: Span,
        place: &Place<'_>,
    ) -> io::Result<()> {
        let (id, index) = rule_of(code);
        let result = json!({
            "ruleId": id,
            "ruleIndex": index,
            "level": sarif_level(severity),
            "message": { "text": message },
            "locations": [{ "physicalLocation": place.physical(span) }],
            "partialFingerprints": { "podsec/v1": fingerprint(&[code, message]) },
        });
        self.result(out, &result)
    }
}

/// A file's text and artifact, for regions.
struct Place<'a> {
    artifact: Value,
    text: &'a FileText,
}

impl Place<'_> {
    fn physical(&self, span: Span) -> Value {
        let r = region(&self.text.text, self.text.lines(), span);
        json!({
            "artifactLocation": self.artifact,
            "region": { "startLine": r.start.line, "startColumn": r.start.column, "endLine": r.end.line, "endColumn": r.end.column },
        })
    }
}

/// Sets a key of a JSON object.
fn set(object: &mut Value, key: &str, value: Value) {
    if let Some(fields) = object.as_object_mut() {
        fields.insert(key.to_string(), value);
    }
}

/// `value` pretty-printed, its lines after the first indented by `indent` spaces.
fn pretty(value: &Value, indent: usize) -> io::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(text.replace('\n', &format!("\n{}", " ".repeat(indent))))
}

impl Printer for Sarif {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let tool = json!({ "driver": {
            "name": "podsec",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
            "rules": rules(),
        }});
        write!(
            out,
            "{{\n  \"$schema\": \"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {{\n      \"tool\": {},\n      \"originalUriBaseIds\": {},\n      \"columnKind\": \"unicodeCodePoints\",\n      \"results\": [",
            pretty(&tool, 6)?,
            pretty(&json!({ "ROOT": { "uri": "file:///" } }), 6)?,
        )
    }

    fn file(&mut self, out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        let artifact = artifact_of(file.input);
        if let Some(error) = file.error {
            self.notifications.push(json!({
                "level": "error",
                "message": { "text": format!("{}: {error}", file.input.display()) },
                "locations": [{ "physicalLocation": { "artifactLocation": artifact } }],
            }));
            return Ok(());
        }
        let place = Place {
            artifact,
            text: file.text,
        };
        for part in parts {
            // Information is no result (see `reported_in_ci`); its rule stays, for a result of another run.
            let problems = part
                .analysis
                .problems
                .iter()
                .filter(|p| super::reported_in_ci(p.severity));
            for problem in problems {
                self.problem(
                    out,
                    problem.code,
                    problem.severity,
                    &problem.message,
                    problem.span,
                    &place,
                )?;
            }
            for problem in part
                .config_problems()
                .filter(|p| super::reported_in_ci(p.severity))
            {
                self.problem(
                    out,
                    problem.code,
                    problem.severity,
                    &problem.message,
                    problem.span,
                    &place,
                )?;
            }
            for object in &part.analysis.objects {
                self.object(out, object, &place)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _tally: &Tally) -> io::Result<()> {
        let close = if self.results == 0 { "]" } else { "\n      ]" };
        let invocations = json!([{
            "executionSuccessful": self.notifications.is_empty(),
            "toolExecutionNotifications": self.notifications,
        }]);
        writeln!(
            out,
            "{close},\n      \"invocations\": {}\n    }}\n  ]\n}}",
            pretty(&invocations, 6)?
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_byte_by_byte() {
        assert_eq!(percent_encode(b"a/b-c_d.e~f.yaml"), "a/b-c_d.e~f.yaml");
        assert_eq!(
            percent_encode("sp ace/dé p#1%.yaml".as_bytes()),
            "sp%20ace/d%C3%A9%20p%231%25.yaml"
        );
        assert_eq!(percent_encode(b"a:b?c"), "a%3Ab%3Fc");
        assert_eq!(
            artifact_of_path(Path::new("/tmp/x y.yaml")),
            json!({ "uri": "tmp/x%20y.yaml", "uriBaseId": "ROOT" })
        );
        assert_eq!(artifact_of(&Input::Stdin(None)), json!({ "uri": "stdin" }));
    }

    #[test]
    fn fingerprints_are_fnv1a_of_the_parts() {
        // FNV-1a 64 of the empty string is its offset basis; of "a", the published test vector.
        assert_eq!(fingerprint(&[""]), "cbf29ce484222325");
        assert_eq!(fingerprint(&["a"]), "af63dc4c8601ec8c");
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }

    #[test]
    fn every_rule_index_points_at_its_rule() {
        let rules = rules();
        for code in CHECKS
            .iter()
            .map(|c| c.id)
            .chain(PROBLEM_CODES.iter().map(|r| r.id))
        {
            let (id, index) = rule_of(code);
            assert_eq!(rules.get(index).map(|r| r["id"].clone()), Some(json!(id)));
        }
        assert_eq!(rule_of("from-the-future").0, "other");
    }
}
