//! `podsec explain`: a check's documentation, or the list of checks.

use crate::Outcome;
use podsec_engine::{CHECKS, Check, check_by_id};
use std::ffi::OsString;

/// `runAsNonRoot (restricted; v1.0, changes at v1.35)`.
pub fn heading(check: &Check) -> String {
    let versions: Vec<String> = check.versions.iter().map(|v| format!("v1.{v}")).collect();
    let mut heading = format!(
        "{} ({}, since {}",
        check.id,
        check.level,
        versions.first().map_or("v1.0", String::as_str)
    );
    if versions.len() > 1 {
        heading.push_str(&format!(
            "; changes at {}",
            versions.get(1..).unwrap_or_default().join(", ")
        ));
    }
    if let Some(overridden) = check.overrides {
        heading.push_str(&format!("; replaces {overridden} at restricted"));
    }
    heading.push(')');
    heading
}

pub fn run(args: Vec<OsString>) -> Result<Outcome, String> {
    let mut args = args.into_iter();
    match (args.next(), args.next()) {
        (None, _) => {
            let mut checks: Vec<&Check> = CHECKS.to_vec();
            checks.sort_by_key(|c| (c.level, c.id));
            println!("{:<28} {:<11} {:<8} summary", "check", "level", "since");
            for check in checks {
                println!(
                    "{:<28} {:<11} {:<8} {}",
                    check.id,
                    check.level.as_str(),
                    format!("v1.{}", check.since()),
                    check.summary()
                );
            }
            Ok(Outcome::Clean)
        }
        (Some(id), None) => {
            let id = id.to_string_lossy();
            let check = check_by_id(&id).ok_or_else(|| {
                let known: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
                format!("unknown check {id:?}; the checks are: {}", known.join(", "))
            })?;
            println!("# {}\n\n{}", heading(check), check.doc.trim_end());
            Ok(Outcome::Clean)
        }
        _ => Err("usage: podsec explain [CHECK-ID]".to_string()),
    }
}
