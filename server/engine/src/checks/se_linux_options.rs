//! `seLinuxOptions`: SELinux may only use the container types, without a custom user or role.

use super::{Check, FixAvailability, Violation, join_quote, pluralize, setters, sorted_set};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;
use crate::yaml::NodeRef;

pub static CHECK: Check = Check {
    id: "seLinuxOptions",
    level: Level::Baseline,
    versions: &[0, 31],
    overrides: None,
    fields: &[
        "spec.securityContext.seLinuxOptions",
        "spec.containers[*].securityContext.seLinuxOptions",
    ],
    reason: "seLinuxOptions",
    doc: "SELinux options must not set a custom user or role, or a type outside the container types.

## What it forbids
In `securityContext.seLinuxOptions` of the pod or any container:
- `type` other than empty, `container_t`, `container_init_t`, `container_kvm_t` (and, from v1.31,
  `container_engine_t`);
- any `user` or `role`.
`level` is not checked.

## Why
The SELinux type decides what the container's processes may touch on the node; a custom type such as `spc_t` or
`unconfined_t` escapes the container policy.

## Since
Baseline, every version (v1.0); `container_engine_t` allowed from v1.31.

## How to comply
Remove `seLinuxOptions`, or keep only `level` (and an allowed `type`):
```yaml
securityContext:
  seLinuxOptions:
    level: \"s0:c123,c456\"
```

## Fix safety
Removing a custom SELinux type, user or role can break workloads that need host access: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn allowed_type(value: &str, minor: u32) -> bool {
    matches!(value, "" | "container_t" | "container_init_t" | "container_kvm_t")
        || (minor >= 31 && value == "container_engine_t")
}

#[derive(Default)]
struct Findings {
    types: Vec<String>,
    user: bool,
    role: bool,
    locations: Vec<Loc>,
}

impl Findings {
    /// Records what is wrong with one `seLinuxOptions` mapping; returns whether it is valid.
    fn inspect(&mut self, options: NodeRef<'_>, minor: u32) -> bool {
        let mut valid = true;
        let type_entry = options.entry("type");
        let value = type_entry.and_then(|e| e.value.as_str()).unwrap_or("");
        if !allowed_type(value, minor) {
            valid = false;
            self.types.push(value.to_string());
            self.locations.extend(type_entry.map(Loc::field));
        }
        for (key, flag) in [("user", &mut self.user), ("role", &mut self.role)] {
            if let Some(entry) = options
                .entry(key)
                .filter(|e| !e.value.as_str().unwrap_or("").is_empty())
            {
                valid = false;
                *flag = true;
                self.locations.push(Loc::field(entry));
            }
        }
        valid
    }
}

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    let mut findings = Findings::default();
    let bad_pod = pod
        .security_context()
        .and_then(|sc| sc.get("seLinuxOptions"))
        .is_some_and(|options| !findings.inspect(options, minor));
    let mut containers = Vec::new();
    for container in pod.containers() {
        if let Some(options) = container.security_setting("seLinuxOptions") {
            if !findings.inspect(options.value, minor) {
                containers.push(container.name);
            }
        }
    }
    if !bad_pod && containers.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let types = sorted_set(findings.types);
    if !types.is_empty() {
        parts.push(format!(
            "{} {}",
            pluralize("type", "types", types.len()),
            join_quote(&types)
        ));
    }
    if findings.user {
        parts.push("user may not be set".to_string());
    }
    if findings.role {
        parts.push("role may not be set".to_string());
    }
    Violation::new(
        CHECK.reason,
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters(bad_pod, &containers),
            parts.join("; ")
        ),
        findings.locations,
    )
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let key = context.field_key()?;
    crate::fix::fix(
        format!("Remove seLinuxOptions.{key}{}", context.on_container()),
        Applicability::Unsafe,
        context.remove_field(),
    )
}

/// CEL: every `seLinuxOptions` present has an allowed type and no user or role.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let mut allowed = vec!["", "container_t", "container_init_t", "container_kvm_t"];
    if minor >= 31 {
        allowed.push("container_engine_t");
    }
    let allowed = literal_list(&allowed);
    // About options `o`.
    let bad_type = format!("(has(o.type) && !(o.type in {allowed}))");
    let bad_user = "(has(o.user) && o.user != '')";
    let bad_role = "(has(o.role) && o.role != '')";
    let bad = format!("({bad_type} || {bad_user} || {bad_role})");
    let pod_options = format!(
        "({} ? [variables.spec.securityContext.seLinuxOptions] : [])",
        pod_has("seLinuxOptions")
    );
    let container_options = format!(
        "variables.containers.filter(c, {}).map(c, c.securityContext.seLinuxOptions)",
        container_has("seLinuxOptions")
    );
    let all = format!("({pod_options} + {container_options})");
    let bad_pod = format!("{pod_options}.exists(o, {bad})");
    let bad_containers = names_where(&format!(
        "{} && [c.securityContext.seLinuxOptions].exists(o, {bad})",
        container_has("seLinuxOptions")
    ));
    let types = sorted_distinct(&format!("{all}.filter(o, {bad_type}).map(o, o.type)"));
    let parts = format!(
        "(size({types}) > 0 ? [{} + ' ' + {}] : []) + ({all}.exists(o, {bad_user}) ? ['user may not be set'] : []) + \
         ({all}.exists(o, {bad_role}) ? ['role may not be set'] : [])",
        plural(&types, "type", "types"),
        quote_joined(&types)
    );
    Cel::new(
        format!("!{all}.exists(o, {bad})"),
        CHECK.reason,
        format!(
            "{} + ' set forbidden securityContext.seLinuxOptions: ' + ({parts}).join('; ')",
            setters_of(&bad_pod, &bad_containers)
        ),
    )
}
