//! `podsec explain`: a check's documentation, or the list of checks.

use crate::Outcome;
use podsec_engine::explain::check_markdown;
use podsec_engine::{CHECKS, Check, check_by_id};
use std::ffi::OsString;
use std::io::Write;

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let mut args = args.into_iter();
    match (args.next(), args.next()) {
        (None, _) => {
            let mut checks: Vec<&Check> = CHECKS.to_vec();
            checks.sort_by_key(|c| (c.level, c.id));
            let mut out = crate::stdout::stdout();
            write_list(&mut out, &checks).map_err(crate::stdout::write_error)?;
            out.finish()?;
            Ok(Outcome::Clean)
        }
        (Some(id), None) => {
            let id = id.to_string_lossy();
            let check = check_by_id(&id).ok_or_else(|| {
                let known: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
                format!("unknown check {id:?}; the checks are: {}", known.join(", "))
            })?;
            let mut out = crate::stdout::stdout();
            out.write_all(check_markdown(check).as_bytes())
                .map_err(crate::stdout::write_error)?;
            out.finish()?;
            Ok(Outcome::Clean)
        }
        _ => Err("usage: podsec explain [CHECK-ID]".to_string()),
    }
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
