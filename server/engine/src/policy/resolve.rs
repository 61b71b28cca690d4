//! [`PolicyContext`]: every policy source a shell found, and the one place precedence is decided.

use crate::policy::glob::{Date, glob_match};
use crate::policy::{
    AdmissionConfig, ConfigProblem, Exemption, Level, Mode, ModePolicy, NamespaceLabels, Policy,
    PolicyOrigin, ProjectConfig, ResolvedPolicy, Severity,
};
use crate::yaml::Span;

/// What an exemption is matched on: the object's namespace, kind and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExemptionTarget<'a> {
    /// Its namespace (after a Kustomize override).
    pub namespace: Option<&'a str>,
    /// Its kind.
    pub kind: &'a str,
    /// Its name.
    pub name: Option<&'a str>,
}

/// Everything known about policy, assembled by a shell from the files it found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyContext {
    /// `--level` (with `--policy-version`, else latest) on the command line: overrides every other source.
    pub override_policy: Option<Policy>,
    /// `--policy-version` without `--level`: the version of every level the other sources resolve.
    pub override_version: Option<crate::policy::Version>,
    /// Namespace objects found in the checked files or the workspace.
    pub namespaces: Vec<NamespaceLabels>,
    /// The project file.
    pub project: Option<ProjectConfig>,
    /// The cluster's admission configuration.
    pub admission: Option<AdmissionConfig>,
    /// The editor's `podsec.level`/`podsec.version`, the default where no project file exists.
    pub editor_default: Option<Policy>,
    /// Today, for exemption expiry.
    pub today: Option<Date>,
}

impl PolicyContext {
    /// Whether `other` resolves every object as this context does: equal but for where its Namespaces
    /// are written (their spans move with every edit above them, and resolution never reads them).
    pub fn resolves_like(&self, other: &Self) -> bool {
        self.override_policy == other.override_policy
            && self.override_version == other.override_version
            && self.project == other.project
            && self.admission == other.admission
            && self.editor_default == other.editor_default
            && self.today == other.today
            && self.namespaces.len() == other.namespaces.len()
            && self
                .namespaces
                .iter()
                .zip(&other.namespaces)
                .all(|(a, b)| a.same_policy(b))
    }

    /// The policy of an object in `namespace` whose pod uses `runtime_class`.
    ///
    /// Precedence: command line; then the namespace's labels (Namespace object, else the project file's
    /// `namespaces`), each unlabelled mode falling back to the admission configuration's default (else
    /// PSA's built-in privileged); for a namespace with no labels anywhere, the admission configuration's
    /// defaults, else the project file's `level`/`version`, else the editor's settings, else
    /// `restricted:latest`.
    pub fn resolve(&self, namespace: Option<&str>, runtime_class: Option<&str>) -> ResolvedPolicy {
        if let Some(policy) = self.override_policy {
            return ResolvedPolicy::enforce(policy, "the command line (--level)", PolicyOrigin::CommandLine);
        }
        let mut exempt = None;
        if let Some(admission) = &self.admission {
            if let Some(ns) = namespace.filter(|ns| admission.exempt_namespaces.iter().any(|e| e == ns)) {
                exempt = Some(format!("namespace {ns:?} is exempt in {}", admission.name));
            } else if let Some(rc) =
                runtime_class.filter(|rc| admission.exempt_runtime_classes.iter().any(|e| e == rc))
            {
                exempt = Some(format!("runtime class {rc:?} is exempt in {}", admission.name));
            }
        }
        let labels = namespace.and_then(|ns| {
            self.namespaces.iter().find(|n| n.name == ns).or_else(|| {
                self.project
                    .as_ref()
                    .and_then(|p| p.namespaces.iter().find(|n| n.name == ns))
            })
        });
        let mut resolved = match labels {
            // PSA's defaults for an unlabelled namespace are the cluster's: without an admission
            // configuration podsec cannot know them, and guessing `privileged` would silence every check
            // on the most common install manifest (an unlabelled Namespace, then its workloads).
            Some(labels) if !labels.any_label && self.admission.is_none() => {
                self.fallback(Some(&labels.name))
            }
            Some(labels) => {
                let mut modes = Vec::new();
                for mode in Mode::ALL {
                    if let Some((_, labelled)) = labels.modes.iter().find(|(m, _)| *m == mode) {
                        modes.push((mode, labelled.clone()));
                    } else if let Some((_, policy)) = self
                        .admission
                        .as_ref()
                        .and_then(|a| a.defaults.iter().find(|(m, _)| *m == mode))
                    {
                        let name = self.admission.as_ref().map_or("", |a| a.name.as_str());
                        modes.push((
                            mode,
                            ModePolicy {
                                policy: *policy,
                                source: format!("{name}, defaults.{}", mode.as_str()),
                                by_cluster: true,
                                origin: PolicyOrigin::AdmissionDefaults(mode),
                            },
                        ));
                    }
                }
                ResolvedPolicy {
                    modes,
                    exempt: None,
                    privileged: Vec::new(),
                }
            }
            None => self.defaults(),
        };
        if let Some(version) = self.override_version {
            // Only the version changes: each mode keeps the level its source gives.
            for (_, mode) in &mut resolved.modes {
                mode.policy.version = version;
                mode.source = format!("{}, at {version} (--policy-version)", mode.source);
            }
        }
        let (privileged, checking) = std::mem::take(&mut resolved.modes)
            .into_iter()
            .partition(|(_, m)| m.policy.level == Level::Privileged);
        resolved.modes = checking;
        resolved.privileged = privileged;
        resolved.exempt = exempt;
        resolved
    }

    fn defaults(&self) -> ResolvedPolicy {
        if let Some(admission) = self.admission.as_ref().filter(|a| !a.defaults.is_empty()) {
            let modes = admission
                .defaults
                .iter()
                .map(|(mode, policy)| {
                    (
                        *mode,
                        ModePolicy {
                            policy: *policy,
                            source: format!("{}, defaults.{}", admission.name, mode.as_str()),
                            by_cluster: true,
                            origin: PolicyOrigin::AdmissionDefaults(*mode),
                        },
                    )
                })
                .collect();
            return ResolvedPolicy {
                modes,
                exempt: None,
                privileged: Vec::new(),
            };
        }
        self.fallback(None)
    }

    /// podsec's own default: the project file's level/version, else the editor's settings, else
    /// `restricted:latest`. For an `unlabelled` Namespace, the source says why it applies.
    fn fallback(&self, unlabelled: Option<&str>) -> ResolvedPolicy {
        let project = self
            .project
            .as_ref()
            .filter(|p| p.level.is_some() || p.version.is_some());
        let (policy, source, origin) = if let Some(project) = project {
            let default = Policy::default();
            let policy = Policy::new(
                project.level.unwrap_or(default.level),
                project.version.unwrap_or(default.version),
            );
            (policy, ".podsec.yaml, level/version", PolicyOrigin::ProjectLevel)
        } else if let Some(policy) = self.editor_default {
            (
                policy,
                "the editor settings (podsec.level/podsec.version)",
                PolicyOrigin::EditorSettings,
            )
        } else {
            (Policy::default(), "the default", PolicyOrigin::Default)
        };
        let source = match unlabelled {
            Some(name) => format!(
                "{source}: Namespace {name:?} has no pod-security labels and no admission configuration is known"
            ),
            None if project.is_none() && self.editor_default.is_none() => {
                "the default (no policy configured)".to_string()
            }
            None => source.to_string(),
        };
        ResolvedPolicy::enforce(policy, source, origin)
    }

    /// The project-file exemption that covers a finding of `check` on `target`, if any (expired ones
    /// do not).
    pub fn project_exemption(
        &self,
        check: &str,
        target: &ExemptionTarget<'_>,
        container: Option<&str>,
    ) -> Option<&Exemption> {
        let project = self.project.as_ref()?;
        project.exemptions.iter().find(|e| {
            e.check == check
                && e.namespace
                    .as_ref()
                    .is_none_or(|ns| target.namespace == Some(ns.as_str()))
                && e.kind.as_ref().is_none_or(|k| k == target.kind)
                && e.name
                    .as_ref()
                    .is_none_or(|glob| target.name.is_some_and(|n| glob_match(glob, n)))
                && e.container.as_ref().is_none_or(|c| container == Some(c.as_str()))
                && !self.expired(e)
        })
    }

    /// Whether an exemption's `expires` date has passed.
    pub fn expired(&self, exemption: &Exemption) -> bool {
        matches!((exemption.expires, self.today), (Some(expires), Some(today)) if today > expires)
    }

    /// Problems of the project file's exemptions that only a whole run can see: expired ones, and
    /// (given the exemptions that matched something) unused ones.
    pub fn exemption_problems(&self, used: &[Span]) -> Vec<ConfigProblem> {
        let Some(project) = &self.project else {
            return Vec::new();
        };
        project
            .exemptions
            .iter()
            .filter_map(|e| {
                if self.expired(e) {
                    let expires = e.expires.map(|d| d.to_string()).unwrap_or_default();
                    Some(ConfigProblem {
                        code: "expired-exemption",
                        severity: Severity::Warning,
                        message: format!(
                            "the exemption from {} expired on {expires}: it no longer applies",
                            e.check
                        ),
                        span: e.span,
                    })
                } else if !used.contains(&e.span) {
                    Some(ConfigProblem {
                        code: "unused-exemption",
                        severity: Severity::Warning,
                        message: format!(
                            "the exemption from {} matches no finding in the checked files",
                            e.check
                        ),
                        span: e.span,
                    })
                } else {
                    None
                }
            })
            .collect()
    }
}
