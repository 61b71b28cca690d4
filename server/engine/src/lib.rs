//! The podsec engine: Kubernetes YAML in, Pod Security Admission verdicts with exact locations out.
//!
//! Pure and synchronous: no I/O, no async runtime, no LSP types. The pipeline is
//! [`yaml`] (tolerant positioned tree) → [`workload`] (the pods in the objects) → [`checks`] (the
//! PSA checks) → [`analysis`] (verdicts, messages, spans). The command line and the language server
//! both call [`analyze`] and can never disagree.

pub mod advice;
pub mod analysis;
pub mod cel;
pub mod checks;
pub mod comments;
pub mod complete;
pub mod explain;
pub mod fix;
pub mod fix_all;
pub mod helm;
pub mod kustomize;
pub mod navigate;
pub mod patch;
pub mod pod;
pub mod policy;
pub mod psp;
pub mod render;
pub mod sources;
pub mod text;
pub mod validation;
pub mod vap;
pub mod workload;
pub mod yaml;

pub use analysis::{Analysis, CheckViolation, Location, ObjectReport, Options, Problem, analyze};
pub use checks::{CHECKS, Check, check_by_id, checks_for};
pub use policy::{Level, Policy, PolicyError, Version};
pub use yaml::{Limits, Span};
