//! The cluster's admission configuration: a `PodSecurityConfiguration`, standalone or in an apiserver
//! `AdmissionConfiguration`.

use crate::policy::mode::invalid;
use crate::policy::{ConfigProblem, Level, Mode, Policy, Severity, Version};
use crate::yaml::{Limits, documents};

/// The defaults and exemptions of a `PodSecurityConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionConfig {
    /// The default policy per mode, for namespaces without labels.
    pub defaults: Vec<(Mode, Policy)>,
    /// Exempt namespaces.
    pub exempt_namespaces: Vec<String>,
    /// Exempt runtime class names.
    pub exempt_runtime_classes: Vec<String>,
    /// What the configuration is called in sources (`admission configuration cluster/psa.yaml`).
    pub name: String,
}

/// Reads the `PodSecurityConfiguration` in `text` (standalone, or inside an `AdmissionConfiguration`'s
/// `PodSecurity` plugin). `None` when there is none.
pub fn admission_config(
    text: &str,
    name: &str,
    limits: &Limits,
) -> Option<(AdmissionConfig, Vec<ConfigProblem>)> {
    // Most files are not admission configurations: skip the parse.
    if !text.contains("PodSecurityConfiguration") {
        return None;
    }
    for document in documents(text, limits).filter(|d| d.error.is_none()) {
        let Some(root) = document.root() else { continue };
        let configuration = match root.get("kind").and_then(|k| k.as_str()) {
            Some("PodSecurityConfiguration") => Some(root),
            Some("AdmissionConfiguration") => root
                .get("plugins")
                .into_iter()
                .flat_map(|p| p.items())
                .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("PodSecurity"))
                .and_then(|p| p.get("configuration")),
            _ => None,
        };
        let Some(configuration) = configuration else {
            continue;
        };
        let mut config = AdmissionConfig {
            name: name.to_string(),
            ..AdmissionConfig::default()
        };
        let mut problems = Vec::new();
        if let Some(defaults) = configuration.get("defaults") {
            for mode in Mode::ALL {
                let level = defaults.entry(mode.as_str());
                let version = defaults.entry(&format!("{}-version", mode.as_str()));
                let level_value = match level {
                    Some(entry) => match Level::parse(entry.value.as_str().unwrap_or("")) {
                        Ok(level) => level,
                        Err(e) => {
                            problems.push(invalid(entry, format!("defaults.{}: {e}", mode.as_str())));
                            continue;
                        }
                    },
                    None => Level::Privileged,
                };
                let version_value = match version {
                    Some(entry) => match Version::parse(entry.value.as_str().unwrap_or("")) {
                        Ok(version) => version,
                        Err(e) => {
                            problems.push(invalid(entry, format!("defaults.{}-version: {e}", mode.as_str())));
                            Version::Latest
                        }
                    },
                    None => Version::Latest,
                };
                config
                    .defaults
                    .push((mode, Policy::new(level_value, version_value)));
            }
        }
        if let Some(exemptions) = configuration.get("exemptions") {
            let strings = |key: &str| -> Vec<String> {
                exemptions
                    .get(key)
                    .into_iter()
                    .flat_map(|l| l.items())
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            };
            config.exempt_namespaces = strings("namespaces");
            config.exempt_runtime_classes = strings("runtimeClasses");
            if let Some(entry) = exemptions
                .entry("usernames")
                .filter(|e| e.value.items().next().is_some())
            {
                problems.push(ConfigProblem {
                    code: "ignored-setting",
                    severity: Severity::Information,
                    message: "exemptions.usernames applies to the user making a request, which files do not have: ignored by podsec".to_string(),
                    span: entry.key.span(),
                });
            }
        }
        return Some((config, problems));
    }
    None
}
