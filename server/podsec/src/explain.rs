//! `podsec explain`: a check's or a problem code's documentation, or the list of both.

use crate::Outcome;
use crate::cli::ExplainCommand;
use podsec_engine::explain::check_markdown;
use podsec_engine::{CHECKS, Check, check_by_id};
use std::io::Write;

pub fn run(args: ExplainCommand) -> Result<Outcome, String> {
    let mut out = crate::stdout::stdout();
    match args.check {
        None => {
            let mut checks: Vec<&Check> = CHECKS.to_vec();
            checks.sort_by_key(|c| (c.level, c.id));
            write_list(&mut out, &checks).map_err(crate::stdout::write_error)?;
        }
        Some(id) => {
            // clap only lets known IDs through; the lookup cannot fail, but is not trusted to.
            let markdown = match (check_by_id(&id), crate::codes::problem_code(&id)) {
                (Some(check), _) => check_markdown(check),
                (None, Some(code)) => crate::codes::code_markdown(code),
                (None, None) => return Err(format!("unknown check {id:?}")),
            };
            out.write_all(markdown.as_bytes())
                .map_err(crate::stdout::write_error)?;
        }
    }
    out.finish()?;
    Ok(Outcome::Clean)
}

/// One line per check: ID, level, first version and summary.
fn write_list(out: &mut impl Write, checks: &[&Check]) -> std::io::Result<()> {
    writeln!(out, "{:<28} {:<11} {:<8} summary", "check", "level", "since")?;
    for check in checks {
        writeln!(
            out,
            "{:<28} {:<11} {:<8} {}",
            check.id,
            check.level.as_str(),
            format!("v1.{}", check.since()),
            check.summary()
        )?;
    }
    // Then podsec's own problem codes.
    writeln!(out)?;
    writeln!(out, "{:<28} {:<11} {:<8} summary", "code", "level", "ignore")?;
    for code in crate::codes::PROBLEM_CODES.iter().filter(|c| c.id != "other") {
        let ignore = if code.ignorable { "yes" } else { "no" };
        writeln!(
            out,
            "{:<28} {:<11} {:<8} {}",
            code.id, code.level, ignore, code.description
        )?;
    }
    Ok(())
}
