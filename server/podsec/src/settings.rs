//! `podsec check --show-settings`: where the policy of the paths comes from, as the run resolves it —
//! per project file, its admission configuration, the Namespaces found and the policy each namespace
//! resolves to. Nothing is analysed beyond the first pass that finds the policy sources.

use crate::Outcome;
use crate::inputs::RunArgs;
use crate::report::Input;
use crate::run::Run;
use podsec_engine::policy::ResolvedPolicy;
use std::io::{self, Write};

pub fn write(out: &mut impl Write, run: &Run, args: &RunArgs) -> io::Result<Outcome> {
    if let Some(policy) = args.policy {
        writeln!(out, "command line: {policy} enforced everywhere (--level)")?;
    } else if let Some(version) = args.policy_version {
        writeln!(
            out,
            "command line: every level evaluated at {version} (--policy-version); the levels are the sources'"
        )?;
    }
    if !args.ignore.is_empty() {
        writeln!(out, "ignored on the command line: {}", args.ignore.join(", "))?;
    }
    for (index, context) in run.contexts.iter().enumerate() {
        let files = run
            .inputs
            .iter()
            .zip(&run.context_of)
            .filter(|(_, c)| **c == index)
            .count();
        if files == 0 {
            continue;
        }
        let project = index.checked_sub(1).and_then(|p| run.projects().get(p));
        let plural = if files == 1 { "file" } else { "files" };
        match project {
            Some(project) => writeln!(out, "project file {} ({files} {plural}):", project.path.display())?,
            None => writeln!(out, "no project file ({files} {plural}):")?,
        }
        let admission = match project.and_then(|p| p.admission.as_ref()) {
            Some((path, ..)) => format!("{} (named by the project file)", path.display()),
            None => match run.admission_input() {
                Some(input) => format!("{} (among the checked files)", input.display()),
                None => "none".to_string(),
            },
        };
        writeln!(out, "  admission configuration: {admission}")?;
        writeln!(
            out,
            "  objects without a namespace: {}",
            describe(&context.resolve(None, None))
        )?;
        // Every namespace a source names: Namespace objects, the project file's entries, kustomizations.
        let mut names: Vec<(String, String)> = run
            .namespaces()
            .iter()
            .map(|(file, labels)| {
                let place = run.inputs.get(*file).map(Input::display).unwrap_or_default();
                (labels.name.clone(), format!("Namespace in {place}"))
            })
            .collect();
        if let Some(project) = project {
            names.extend(project.config.namespaces.iter().map(|n| {
                (
                    n.name.clone(),
                    format!("namespaces: in {}", project.path.display()),
                )
            }));
        }
        for (input, given) in run.inputs.iter().zip(&run.namespace_of) {
            if let Some(name) = given {
                names.push((name.clone(), format!("kustomization of {}", input.display())));
            }
        }
        let mut seen = std::collections::HashSet::new();
        names.retain(|(name, _)| seen.insert(name.clone()));
        for (name, found) in names {
            writeln!(
                out,
                "  namespace {name:?} ({found}): {}",
                describe(&context.resolve(Some(&name), None))
            )?;
        }
    }
    for (input, error) in &run.missing {
        crate::stderr_line!("podsec: {}: {error}", input.display());
    }
    Ok(if run.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// A resolved policy in one line: each mode's policy and where it came from.
fn describe(resolved: &ResolvedPolicy) -> String {
    if let Some(why) = &resolved.exempt {
        return format!("not checked: {why}");
    }
    if resolved.modes.is_empty() {
        return "privileged (nothing is checked)".to_string();
    }
    resolved
        .modes
        .iter()
        .map(|(mode, p)| format!("{} {} from {}", mode.as_str(), p.policy, p.source))
        .collect::<Vec<_>>()
        .join("; ")
}
