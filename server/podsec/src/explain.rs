//! `podsec explain`: a check's documentation, or the list of checks.

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
            let check = check_by_id(&id).ok_or_else(|| format!("unknown check {id:?}"))?;
            out.write_all(check_markdown(check).as_bytes())
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
    Ok(())
}
