//! `podsec psp PATH...`: what each PodSecurityPolicy guarantees in Pod Security Standards terms.

use crate::Outcome;
use crate::cli::{PspCommand, PspFormat};
use crate::inputs::{WalkOptions, collect_inputs, path_arguments, read_input};
use podsec_engine::Limits;
use podsec_engine::psp::{PspAssessment, assess};
use serde_json::json;
use std::io::Write;

pub fn run(args: PspCommand) -> Result<Outcome, String> {
    let paths = path_arguments(&args.paths);
    let json_output = args.output_format == PspFormat::Json;
    let max_file_size = args.max_file_size;
    let walk = WalkOptions {
        respect_ignore_files: !args.no_ignore,
        verbose: false,
        max_file_size,
        hidden: args.hidden,
    };
    let (inputs, errors) = collect_inputs(&paths, None, &walk);
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
