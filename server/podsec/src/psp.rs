//! `podsec psp PATH...`: what each PodSecurityPolicy guarantees in Pod Security Standards terms.

use crate::Outcome;
use crate::check::{collect_inputs, read_input};
use podsec_engine::Limits;
use podsec_engine::psp::{PspAssessment, assess};
use serde_json::json;
use std::ffi::OsString;
use std::io::Write;

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut json_output = false;
    let mut paths = Vec::new();
    let mut max_file_size = crate::read::DEFAULT_MAX_FILE_SIZE;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("format") => match parser.value().map_err(|e| e.to_string())?.to_str() {
                Some("json") => json_output = true,
                Some("text") => json_output = false,
                other => return Err(format!("invalid format {other:?}: must be one of text, json")),
            },
            Long("max-file-size") => {
                let value = parser.value().map_err(|e| e.to_string())?;
                max_file_size = crate::read::parse_size(&value.to_string_lossy())?;
            }
            Value(path) => paths.push(path.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if paths.is_empty() {
        paths.push(".".to_string());
    }
    let (inputs, errors) = collect_inputs(&paths, None);
    let mut outcome = if errors.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    };
    for (input, error) in &errors {
        crate::stderr_line!("podsec: {}: {error}", input.display());
    }
    let mut found = Vec::new();
    for input in &inputs {
        match read_input(input, max_file_size) {
            Ok(text) => found.extend(
                assess(&text, &Limits::default())
                    .into_iter()
                    .map(|a| (input.display(), a)),
            ),
            Err(e) => {
                crate::stderr_line!("podsec: {}: {e}", input.display());
                outcome = Outcome::Error;
            }
        }
    }
    let mut out = crate::stdout::stdout();
    write_assessments(&mut out, &found, json_output).map_err(crate::stdout::write_error)?;
    out.finish()?;
    Ok(outcome)
}

/// Prints what each PodSecurityPolicy guarantees, as text or JSON.
fn write_assessments(
    out: &mut impl Write,
    found: &[(String, PspAssessment)],
    json_output: bool,
) -> std::io::Result<()> {
    if json_output {
        let list: Vec<_> = found
            .iter()
            .map(|(file, a)| {
                json!({
                    "file": file,
                    "name": a.name,
                    "level": a.level.as_str(),
                    "blocking": a.blockers.iter().map(|(field, why, level)| json!({ "field": field, "why": why, "blocks": level.as_str() })).collect::<Vec<_>>(),
                    "no_counterpart": a.no_counterpart,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &list)?;
        writeln!(out)?;
    } else {
        for (file, a) in found {
            writeln!(
                out,
                "{file}: PodSecurityPolicy {:?} guarantees {}",
                a.name, a.level
            )?;
            writeln!(
                out,
                "  labels for its namespaces: pod-security.kubernetes.io/enforce: {}",
                a.level
            )?;
            for (field, why, level) in &a.blockers {
                writeln!(out, "  {level} would need {field}: {why}")?;
            }
            if !a.no_counterpart.is_empty() {
                writeln!(
                    out,
                    "  no Pod Security Standards counterpart: {}",
                    a.no_counterpart.join(", ")
                )?;
            }
        }
        if found.is_empty() {
            writeln!(out, "no PodSecurityPolicy found")?;
        }
    }
    Ok(())
}
