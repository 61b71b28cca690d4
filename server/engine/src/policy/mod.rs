//! Policy: the levels and versions of the Pod Security Standards, PSA's modes and severities, and where
//! a policy comes from — Namespace labels, the cluster's admission configuration, the project file
//! `.podsec.yaml`, the editor's settings and the command line — resolved in one place,
//! [`PolicyContext::resolve`].
//!
//! Everything here reads text the shells hand over; nothing touches the file system. The shells find
//! the files (walking up for `.podsec.yaml`, scanning the workspace for Namespaces) and build one
//! [`PolicyContext`], which resolves the policy of every object. This layer sits below the checks: it
//! knows no check (check IDs in exemptions are validated by [`crate::sources`]).

mod admission;
mod glob;
mod labels;
mod mode;
mod project;
mod resolve;
mod standards;

pub use admission::{AdmissionConfig, admission_config};
pub use glob::{Date, glob_match};
pub use labels::{LABEL_PREFIX, NamespaceLabels, NamespacesRead, namespace_labels, read_namespaces};
pub use mode::{ConfigProblem, Mode, ModePolicy, PolicyOrigin, ResolvedPolicy, Severity};
pub use project::{Exemption, Kustomization, PROJECT_KEYS, ProjectConfig, kustomization, project_config};
pub use resolve::{ExemptionTarget, PolicyContext};
pub use standards::{Level, MAX_MINOR, Policy, PolicyError, Version};

#[cfg(test)]
mod tests;
