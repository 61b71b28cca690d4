//! `sysctls`: only namespaced, safe sysctls may be set.

use super::{Check, FixAvailability, Violation};
use crate::fix::{Applicability, Fix, FixContext};
use crate::pod::{Loc, Pod};
use crate::policy::Level;

/// The allowed sysctls and the minor version each became allowed in.
pub(crate) const ALLOWED: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

pub static CHECK: Check = Check {
    id: "sysctls",
    level: Level::Baseline,
    versions: &[0, 27, 29, 32, 37],
    overrides: None,
    fields: &[
        "spec.securityContext.sysctls",
    ],
    reason: "forbidden sysctls",
    doc: "Pods may set only the sysctls known to be safe and isolated per pod.

## What it forbids
Any `spec.securityContext.sysctls[*].name` outside the allow-list (exact match; slash-separated spellings are
not accepted):
- v1.0: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, `net.ipv4.tcp_syncookies`,
  `net.ipv4.ping_group_range`, `net.ipv4.ip_unprivileged_port_start`;
- v1.27: `net.ipv4.ip_local_reserved_ports`;
- v1.29: `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`, `net.ipv4.tcp_keepalive_intvl`,
  `net.ipv4.tcp_keepalive_probes`;
- v1.32: `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`;
- v1.37: `net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`.

## Why
Other sysctls are either not namespaced (they change the whole node) or can starve neighbours of kernel resources.

## Since
Baseline, every version (v1.0); the allow-list grows at v1.27, v1.29, v1.32 and v1.37.

## How to comply
Remove the sysctl, or ask the cluster administrator to allow it on dedicated nodes.

## Fix safety
Removing a sysctl changes the workload's kernel tuning: unsafe.
",
    evaluate,
    cel,
    fix: Some(fix),
    fix_availability: FixAvailability::Always(Applicability::Unsafe),
};

fn evaluate(pod: &Pod<'_>, minor: u32) -> Option<Violation> {
    let mut names = Vec::new();
    let mut locations = Vec::new();
    for sysctl in pod
        .security_context()
        .and_then(|sc| sc.get("sysctls"))
        .into_iter()
        .flat_map(|s| s.items())
    {
        let name_entry = sysctl.entry("name");
        let name = name_entry.and_then(|e| e.value.as_str()).unwrap_or("");
        if !ALLOWED
            .iter()
            .any(|(allowed, since)| *allowed == name && *since <= minor)
        {
            names.push(name);
            locations.push(name_entry.map_or(Loc::Item { node: sysctl.id() }, Loc::field));
        }
    }
    if names.is_empty() {
        return None;
    }
    // Upstream keeps spec order and duplicates, and does not quote the names.
    Violation::new(CHECK.reason, names.join(", "), locations)
}

fn fix(context: &FixContext<'_, '_>) -> Option<Fix> {
    let name = context.field().and_then(|(_, v)| v.as_str()).unwrap_or("");
    crate::fix::fix(
        format!("Remove sysctl {name}"),
        Applicability::Unsafe,
        context.remove_enclosing_item(),
    )
}

/// CEL: every pod sysctl is on the version's allow-list.
fn cel(minor: u32) -> crate::cel::Cel {
    use crate::cel::*;
    let allowed: Vec<&str> = ALLOWED
        .iter()
        .filter(|(_, since)| *since <= minor)
        .map(|(name, _)| *name)
        .collect();
    let name = "(has(s.name) ? s.name : '')";
    let bad = format!(
        "({} ? variables.spec.securityContext.sysctls : []).filter(s, !({name} in {}))",
        pod_has("sysctls"),
        literal_list(&allowed)
    );
    Cel::new(
        format!("size({bad}) == 0"),
        CHECK.reason,
        format!("{bad}.map(s, {name}).join(', ')"),
    )
}
