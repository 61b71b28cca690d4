//! `podsec export vap`: the ValidatingAdmissionPolicy that enforces podsec's policy in the cluster, and
//! its bindings. With `--level`/`--policy-version`, one policy bound to every namespace (less those the
//! admission configuration exempts); without, the policy `podsec check` resolves for each namespace the
//! paths name (Namespace labels, the project file's `namespaces`, kustomizations), one binding per
//! namespace and policy, and for the other namespaces the default the project file or the admission
//! configuration declares, when one does.
//! `--namespace` binds only the namespaces it names. What was resolved is printed first, as comments of
//! the YAML stream.

use crate::Outcome;
use crate::cli::{ExportVapCommand, InputArgs};
use crate::inputs::RunArgs;
use crate::run::Run;
use podsec_engine::policy::{Exemption, Mode, PolicyContext};
use podsec_engine::vap::{self, Namespaces};
use podsec_engine::{Level, Policy};

/// One binding to write: its name, the policy, the modes it stands for and where it applies.
struct Bound {
    name: String,
    policy: Policy,
    modes: Vec<Mode>,
    namespaces: Namespaces,
}

/// `podsec export vap`: the notes, then the policies, then their bindings, as one YAML stream.
pub fn vap(args: ExportVapCommand) -> Result<Outcome, String> {
    let inputs = InputArgs {
        paths: args.paths,
        stdin_filename: None,
        max_file_size: crate::read::parse_size("256MB")?,
        no_ignore: args.no_ignore,
        hidden: false,
    };
    let run_args = RunArgs::new(&inputs, &args.policy, false);
    let run = Run::prepare(&run_args)?;
    let mut notes = Vec::new();
    let exemptions = project_exemptions(&run, &mut notes);
    let mut bound = Vec::new();
    match run_args.policy {
        Some(policy) if policy.level == Level::Privileged => {
            return Err("privileged checks nothing: there is no policy to export".to_string());
        }
        Some(policy) if !args.namespace.is_empty() => {
            for namespace in &args.namespace {
                let name = format!("{}-{namespace}", vap::policy_name(policy));
                notes.push(format!(
                    "--level/--policy-version: {policy} enforced in namespace {namespace:?} → binding {name}"
                ));
                bound.push(Bound {
                    name,
                    policy,
                    modes: vec![Mode::Enforce],
                    namespaces: Namespaces::One(namespace.clone()),
                });
            }
        }
        Some(policy) => {
            let excluded = exempt_namespaces(&run.contexts);
            notes.push(format!(
                "--level/--policy-version: {policy} enforced in every namespace{}",
                except_exempt(&excluded)
            ));
            bound.push(Bound {
                name: vap::policy_name(policy),
                policy,
                modes: vec![Mode::Enforce],
                namespaces: Namespaces::AllBut(excluded),
            });
        }
        None => {
            workspace_bindings(&run, &mut bound, &mut notes);
            if !args.namespace.is_empty() {
                bound.retain(|b| matches!(&b.namespaces, Namespaces::One(n) if args.namespace.contains(n)));
                notes.push(format!("--namespace: only {} bound", args.namespace.join(", ")));
            }
        }
    }
    let mut policies: Vec<Policy> = Vec::new();
    for b in &bound {
        if !policies.contains(&b.policy) {
            policies.push(b.policy);
        }
    }
    let runtime_classes = exempt_runtime_classes(&run.contexts);
    if !runtime_classes.is_empty() {
        notes.push(format!(
            "pods of runtime classes {} are not checked (exempt in the admission configuration)",
            runtime_classes.join(", ")
        ));
    }
    if bound.is_empty() {
        notes.push("nothing to bind: no namespace checks anything".to_string());
    }
    let mut out = String::new();
    for note in &notes {
        out.push_str(&format!("# podsec export vap: {note}\n"));
    }
    let mut documents: Vec<String> = policies
        .iter()
        .map(|policy| vap::validating_admission_policy(*policy, &exemptions, &runtime_classes))
        .collect();
    documents.extend(
        bound
            .iter()
            .map(|b| vap::binding(&b.name, b.policy, &b.modes, &b.namespaces)),
    );
    out.push_str(&documents.join("---\n"));
    for (input, error) in &run.missing {
        crate::stderr_line!("podsec: {}: {error}", input.display());
    }
    crate::print_and_finish(&out)?;
    Ok(if run.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// The project files' exemptions that a policy can hold: not expired (the export says until when), and
/// not limited to one container (a check judges the whole pod; those stay with `podsec check`).
fn project_exemptions(run: &Run, notes: &mut Vec<String>) -> Vec<Exemption> {
    let today = run.contexts.first().and_then(|c| c.today);
    let mut kept = Vec::new();
    for project in run.projects() {
        for exemption in &project.config.exemptions {
            let place = format!("{} exempts {}", project.path.display(), describe(exemption));
            if exemption
                .expires
                .zip(today)
                .is_some_and(|(expires, today)| expires < today)
            {
                notes.push(format!("{place}: expired, not compiled in"));
            } else if exemption.container.is_some() {
                notes.push(format!(
                    "{place}: names a container, not compiled in (the policy judges whole pods)"
                ));
            } else {
                let until = exemption
                    .expires
                    .map(|d| format!(" until {d}: export again then"))
                    .unwrap_or_default();
                notes.push(format!("{place}: compiled in{until}"));
                kept.push(exemption.clone());
            }
        }
    }
    kept
}

/// `runAsNonRoot for Deployment "web-*" in namespace "shop"`.
fn describe(exemption: &Exemption) -> String {
    let mut text = exemption.check.clone();
    text.push_str(&format!(
        " for {}",
        exemption.kind.as_deref().unwrap_or("objects")
    ));
    if let Some(name) = &exemption.name {
        text.push_str(&format!(" {name:?}"));
    }
    if let Some(namespace) = &exemption.namespace {
        text.push_str(&format!(" in namespace {namespace:?}"));
    }
    text
}

/// The namespaces the admission configurations exempt: PSA never checks them, nor does the policy.
fn exempt_namespaces(contexts: &[PolicyContext]) -> Vec<String> {
    let mut names: Vec<String> = contexts
        .iter()
        .filter_map(|c| c.admission.as_ref())
        .flat_map(|a| a.exempt_namespaces.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The runtime classes the admission configurations exempt.
fn exempt_runtime_classes(contexts: &[PolicyContext]) -> Vec<String> {
    let mut names: Vec<String> = contexts
        .iter()
        .filter_map(|c| c.admission.as_ref())
        .flat_map(|a| a.exempt_runtime_classes.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// ` but a, b (exempt in the admission configuration)`, or nothing.
fn except_exempt(excluded: &[String]) -> String {
    if excluded.is_empty() {
        String::new()
    } else {
        format!(
            " but {} (exempt in the admission configuration)",
            excluded.join(", ")
        )
    }
}

/// The bindings of each namespace the paths name, at the policy `podsec check` resolves for it.
fn workspace_bindings(run: &Run, bound: &mut Vec<Bound>, notes: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    for (index, context) in run.contexts.iter().enumerate() {
        if !run.context_of.contains(&index) {
            continue;
        }
        let project = index.checked_sub(1).and_then(|p| run.projects().get(p));
        let mut names: Vec<(String, String)> = run
            .namespaces()
            .iter()
            .map(|(file, labels)| {
                let place = run.inputs.get(*file).map(|i| i.display()).unwrap_or_default();
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
        for (name, found) in names {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let resolved = context.resolve(Some(&name), None);
            let what = format!("namespace {name:?} ({found})");
            if let Some(why) = resolved.exempt {
                notes.push(format!("{what}: not bound, {why}"));
                continue;
            }
            if resolved.modes.is_empty() {
                notes.push(format!("{what}: privileged, nothing to bind"));
                continue;
            }
            for (policy, modes) in by_policy(&resolved.modes) {
                let name_of = format!("{}-{name}", vap::policy_name(policy));
                notes.push(format!(
                    "{what}: {} {policy} → binding {name_of}",
                    modes_text(&modes)
                ));
                bound.push(Bound {
                    name: name_of,
                    policy,
                    modes,
                    namespaces: Namespaces::One(name.clone()),
                });
            }
        }
        // The other namespaces: only where the project file declares a default (podsec's own default,
        // restricted, would otherwise reach kube-system and every namespace the repository does not know).
        let declared = project.is_some_and(|p| p.config.level.is_some() || p.config.version.is_some())
            || context.admission.as_ref().is_some_and(|a| !a.defaults.is_empty());
        if !declared {
            notes.push(
                "other namespaces: not bound (neither the project file nor an admission configuration declares a default)"
                    .to_string(),
            );
            continue;
        }
        let resolved = context.resolve(None, None);
        let mut excluded = seen.clone();
        excluded.extend(exempt_namespaces(std::slice::from_ref(context)));
        excluded.sort();
        excluded.dedup();
        for (policy, modes) in by_policy(&resolved.modes) {
            let name_of = format!("{}-other-namespaces", vap::policy_name(policy));
            notes.push(format!(
                "other namespaces: {} {policy} from {} → binding {name_of}",
                modes_text(&modes),
                source_of(&resolved.modes, policy)
            ));
            bound.push(Bound {
                name: name_of,
                policy,
                modes,
                namespaces: Namespaces::AllBut(excluded.clone()),
            });
        }
    }
}

/// Where the first mode of `policy` came from.
fn source_of(modes: &[(Mode, podsec_engine::policy::ModePolicy)], policy: Policy) -> &str {
    modes
        .iter()
        .find(|(_, m)| m.policy == policy)
        .map_or("", |(_, m)| m.source.as_str())
}

/// The modes grouped by the policy they enforce, checking ones only.
fn by_policy(modes: &[(Mode, podsec_engine::policy::ModePolicy)]) -> Vec<(Policy, Vec<Mode>)> {
    let mut groups: Vec<(Policy, Vec<Mode>)> = Vec::new();
    for (mode, mode_policy) in modes {
        if !vap::checks_anything(mode_policy.policy) {
            continue;
        }
        match groups.iter_mut().find(|(p, _)| *p == mode_policy.policy) {
            Some((_, group)) => group.push(*mode),
            None => groups.push((mode_policy.policy, vec![*mode])),
        }
    }
    groups
}

/// `enforce+warn` and the validation actions that stand for them.
fn modes_text(modes: &[Mode]) -> String {
    let names: Vec<&str> = modes.iter().map(|m| m.as_str()).collect();
    format!("{} ({})", names.join("+"), vap::actions(modes).join(", "))
}
