//! The project file `.podsec.yaml`, and a kustomization's `namespace:`. Check IDs in exemptions are
//! validated above the checks ([`crate::sources::project_file`]): this layer does not know them.

use crate::policy::glob::Date;
use crate::policy::labels::{LABEL_PREFIX, NamespaceLabels, namespace_labels};
use crate::policy::mode::invalid;
use crate::policy::{ConfigProblem, Level, Severity, Version};
use crate::yaml::{Limits, NodeRef, Span, documents};

/// One exemption of the project file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exemption {
    /// The check ID.
    pub check: String,
    /// Only objects in this namespace.
    pub namespace: Option<String>,
    /// Only objects of this kind.
    pub kind: Option<String>,
    /// Only objects whose name matches this glob.
    pub name: Option<String>,
    /// Only findings in this container.
    pub container: Option<String>,
    /// Why; required.
    pub reason: String,
    /// After this day the exemption no longer applies.
    pub expires: Option<Date>,
    /// Where it is written in the project file.
    pub span: Span,
}

/// The project file, `.podsec.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    /// Default level.
    pub level: Option<Level>,
    /// Default version.
    pub version: Option<Version>,
    /// The admission configuration file, relative to the project file.
    pub admission_configuration: Option<String>,
    /// Policy per namespace whose Namespace object is not in the repository (label keys and values).
    pub namespaces: Vec<NamespaceLabels>,
    /// Globs of files not to check, relative to the project file.
    pub skip: Vec<String>,
    /// Exemptions.
    pub exemptions: Vec<Exemption>,
    /// `enforcedByAdmissionPolicy: true`: the cluster enforces podsec's policy with the exported
    /// ValidatingAdmissionPolicy (`podsec export vap`), which honours exemptions, in place of PSA's labels.
    pub enforced_by_admission_policy: bool,
    /// `helm:` the Helm that renders charts (a command on `PATH` or a path relative to the project file).
    pub helm: Option<String>,
    /// `charts:` how each chart is rendered (release, namespace, value sets).
    pub charts: Vec<ChartConfig>,
}

/// How one chart is rendered, from the project file's `charts:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartConfig {
    /// The chart's directory, relative to the project file.
    pub path: String,
    /// The release name (`helm template <release> …`).
    pub release: Option<String>,
    /// The release namespace (`--namespace`), which objects that name none are deployed to.
    pub namespace: Option<String>,
    /// The value sets, each rendered and checked: values files relative to the chart, merged in order
    /// after the chart's `values.yaml`. Empty: the chart's `values.yaml` alone.
    pub value_sets: Vec<Vec<String>>,
    /// Where it is written.
    pub span: Span,
}

/// The keys of a project file.
pub const PROJECT_KEYS: &[&str] = &[
    "level",
    "version",
    "admissionConfiguration",
    "namespaces",
    "skip",
    "exemptions",
    "enforcedByAdmissionPolicy",
    "helm",
    "charts",
];
const CHART_KEYS: &[&str] = &["path", "release", "namespace", "values"];
const EXEMPTION_KEYS: &[&str] = &[
    "check",
    "namespace",
    "kind",
    "name",
    "container",
    "reason",
    "expires",
];

/// Reads a project file. Unknown keys and bad values are problems located in it; what is valid is kept.
pub fn project_config(text: &str, limits: &Limits) -> (ProjectConfig, Vec<ConfigProblem>) {
    let mut config = ProjectConfig::default();
    let mut problems = Vec::new();
    let Some(document) = documents(text, limits).next() else {
        return (config, problems);
    };
    if let Some(error) = &document.error {
        problems.push(ConfigProblem {
            code: "invalid-config",
            severity: Severity::Error,
            message: error.message.clone(),
            span: error.span,
        });
        return (config, problems);
    }
    let Some(root) = document.root() else {
        return (config, problems);
    };
    if !root.is_mapping() {
        problems.push(ConfigProblem {
            code: "invalid-config",
            severity: Severity::Error,
            message: "the project file must be a mapping".to_string(),
            span: root.span(),
        });
        return (config, problems);
    }
    for entry in root.entries() {
        let key = entry.key.as_str().unwrap_or("");
        match key {
            "level" => match Level::parse(entry.value.as_str().unwrap_or("")) {
                Ok(level) => config.level = Some(level),
                Err(e) => problems.push(invalid(entry, format!("level: {e}"))),
            },
            "version" => match Version::parse(entry.value.as_str().unwrap_or("")) {
                Ok(version) => config.version = Some(version),
                Err(e) => problems.push(invalid(entry, format!("version: {e}"))),
            },
            "enforcedByAdmissionPolicy" => match entry.value.as_bool() {
                Some(value) => config.enforced_by_admission_policy = value,
                None => problems.push(invalid(
                    entry,
                    "enforcedByAdmissionPolicy: must be true or false".to_string(),
                )),
            },
            "admissionConfiguration" => match entry.value.as_str() {
                Some(path) => config.admission_configuration = Some(path.to_string()),
                None => problems.push(invalid(
                    entry,
                    "admissionConfiguration: must be a path".to_string(),
                )),
            },
            "skip" => {
                for item in entry.value.items() {
                    match item.as_str() {
                        Some(glob) => config.skip.push(glob.to_string()),
                        None => problems.push(ConfigProblem {
                            code: "invalid-config",
                            severity: Severity::Error,
                            message: "skip: each entry must be a glob string".to_string(),
                            span: item.span(),
                        }),
                    }
                }
            }
            "namespaces" => {
                for namespace in entry.value.entries() {
                    let Some(name) = namespace.key.as_str() else {
                        continue;
                    };
                    let labels = namespace_from_project(name, namespace.value, &mut problems);
                    config.namespaces.push(labels);
                }
            }
            "helm" => match entry.value.as_str() {
                Some(command) => config.helm = Some(command.to_string()),
                None => problems.push(invalid(entry, "helm: must be a command or a path".to_string())),
            },
            "charts" => {
                for item in entry.value.items() {
                    if let Some(chart) = read_chart(item, &mut problems) {
                        config.charts.push(chart);
                    }
                }
            }
            "exemptions" => {
                for item in entry.value.items() {
                    if let Some(exemption) = read_exemption(item, &mut problems) {
                        config.exemptions.push(exemption);
                    }
                }
            }
            _ => problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!("unknown key {key:?}; the keys are {}", PROJECT_KEYS.join(", ")),
                span: entry.key.span(),
            }),
        }
    }
    (config, problems)
}

/// A namespace's policy written in the project file with the label names as keys
/// (`enforce: baseline`, `warn-version: v1.30`), read with PSA's label rules.
fn namespace_from_project(
    name: &str,
    value: NodeRef<'_>,
    problems: &mut Vec<ConfigProblem>,
) -> NamespaceLabels {
    const KEYS: &[&str] = &[
        "enforce",
        "enforce-version",
        "warn",
        "warn-version",
        "audit",
        "audit-version",
    ];
    let mut yaml = String::from("kind: Namespace\nmetadata:\n  name: x\n  labels:\n");
    for entry in value.entries() {
        let key = entry.key.as_str().unwrap_or("");
        if KEYS.contains(&key) {
            yaml.push_str(&format!(
                "    {LABEL_PREFIX}{key}: {:?}\n",
                entry.value.as_str().unwrap_or("")
            ));
        } else {
            problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!(
                    "namespaces.{name}: unknown key {key:?}; the keys are {}",
                    KEYS.join(", ")
                ),
                span: entry.key.span(),
            });
        }
    }
    let mut labels = namespace_labels(&yaml, &Limits::default())
        .into_iter()
        .next()
        .unwrap_or(NamespaceLabels {
            name: name.to_string(),
            modes: Vec::new(),
            labelled: Vec::new(),
            any_label: false,
            enforce_span: None,
            problems: Vec::new(),
            header: value.span(),
        });
    labels.name = name.to_string();
    for (_, mode) in &mut labels.modes {
        mode.source = mode.source.replace(
            "Namespace \"x\", label pod-security.kubernetes.io/",
            &format!(".podsec.yaml, namespaces.{name}."),
        );
        if let crate::policy::PolicyOrigin::NamespaceLabel { label, .. } = &mode.origin {
            mode.origin = crate::policy::PolicyOrigin::ProjectNamespace {
                namespace: name.to_string(),
                label: label.clone(),
            };
        }
    }
    for problem in labels.problems.drain(..) {
        problems.push(ConfigProblem {
            span: value.span(),
            message: format!("namespaces.{name}: {}", problem.message),
            ..problem
        });
    }
    labels.header = value.span();
    labels.enforce_span = None;
    labels
}

/// One entry of `charts:`: `path`, and optionally `release`, `namespace` and `values` (a list whose
/// items are a file or a list of files: each item is one value set).
fn read_chart(item: NodeRef<'_>, problems: &mut Vec<ConfigProblem>) -> Option<ChartConfig> {
    let text = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_string);
    for entry in item.entries() {
        let key = entry.key.as_str().unwrap_or("");
        if !CHART_KEYS.contains(&key) {
            problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!(
                    "charts: unknown key {key:?}; the keys are {}",
                    CHART_KEYS.join(", ")
                ),
                span: entry.key.span(),
            });
        }
    }
    let Some(path) = text("path") else {
        problems.push(ConfigProblem {
            code: "invalid-config",
            severity: Severity::Error,
            message: "charts: each chart needs `path`: its directory, relative to this file".to_string(),
            span: item.span(),
        });
        return None;
    };
    let mut value_sets = Vec::new();
    for set in item.get("values").into_iter().flat_map(|v| v.items()) {
        let files: Vec<String> = match set.as_str() {
            Some(file) => vec![file.to_string()],
            None => set
                .items()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect(),
        };
        if files.is_empty() {
            problems.push(ConfigProblem {
                code: "invalid-config",
                severity: Severity::Error,
                message: "charts: each value set is a values file or a list of values files".to_string(),
                span: set.span(),
            });
            continue;
        }
        value_sets.push(files);
    }
    Some(ChartConfig {
        path,
        release: text("release"),
        namespace: text("namespace"),
        value_sets,
        span: item.span(),
    })
}

fn read_exemption(item: NodeRef<'_>, problems: &mut Vec<ConfigProblem>) -> Option<Exemption> {
    let span = crate::yaml::Span::new(
        item.span().start,
        item.span().start + item.span().end.saturating_sub(item.span().start).min(1),
    );
    let text = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::to_string);
    for entry in item.entries() {
        let key = entry.key.as_str().unwrap_or("");
        if !EXEMPTION_KEYS.contains(&key) {
            problems.push(ConfigProblem {
                code: "unknown-key",
                severity: Severity::Error,
                message: format!(
                    "exemptions: unknown key {key:?}; the keys are {}",
                    EXEMPTION_KEYS.join(", ")
                ),
                span: entry.key.span(),
            });
        }
    }
    let Some(check) = text("check") else {
        problems.push(ConfigProblem {
            code: "invalid-exemption",
            severity: Severity::Error,
            message: "an exemption needs `check`: the ID of the check it relaxes".to_string(),
            span: item.span(),
        });
        return None;
    };
    let check_span = item
        .entry("check")
        .map_or(span, |e| Span::new(e.key.span().start, e.value.span().end));
    let reason = text("reason").unwrap_or_default();
    if reason.trim().is_empty() {
        problems.push(ConfigProblem {
            code: "invalid-exemption",
            severity: Severity::Error,
            message: format!("the exemption from {check} needs a `reason`: say why the workload needs it"),
            span: check_span,
        });
        return None;
    }
    let expires = match item.entry("expires") {
        Some(entry) => match entry.value.as_str().and_then(Date::parse) {
            Some(date) => Some(date),
            None => {
                problems.push(invalid(
                    entry,
                    "expires: must be a date written YYYY-MM-DD".to_string(),
                ));
                None
            }
        },
        None => None,
    };
    Some(Exemption {
        check,
        namespace: text("namespace"),
        kind: text("kind"),
        name: text("name"),
        container: text("container"),
        reason,
        expires,
        span: check_span,
    })
}

/// A kustomization's `namespace:` and the `resources:` it applies to (paths relative to it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// The namespace Kustomize sets on every resource.
    pub namespace: Option<String>,
    /// The resource paths, as written.
    pub resources: Vec<String>,
}

/// Reads a `kustomization.yaml`.
pub fn kustomization(text: &str, limits: &Limits) -> Option<Kustomization> {
    let document = documents(text, limits).find(|d| d.error.is_none() && d.root.is_some())?;
    let root = document.root()?;
    Some(Kustomization {
        namespace: root.get("namespace").and_then(|n| n.as_str()).map(str::to_string),
        resources: root
            .get("resources")
            .into_iter()
            .flat_map(|r| r.items())
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect(),
    })
}
