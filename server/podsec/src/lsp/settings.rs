//! The editor's settings: `podsec.level`, `podsec.version`, `podsec.debounceMs`, `podsec.maxDocumentSizeMB`,
//! `podsec.syntaxErrors`, `podsec.helm`.

use podsec_engine::{Level, Limits, Policy, Version};
use serde_json::Value;
use std::time::Duration;

/// How long a document must stay unchanged before it is analysed: a burst of keystrokes is analysed
/// once, for its last version.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Settings keys the editor clients send that the server itself does not use.
const CLIENT_SETTINGS: &[&str] = &["path", "serverStrategy", "trace", "fixAllOnSave"];

/// The longest debounce `podsec.debounceMs` may ask for.
const MAX_DEBOUNCE_MS: u64 = 2_000;

/// The editor's settings (`podsec.level`, `podsec.version`, …).
#[derive(Clone, Debug, Default)]
pub(super) struct Settings {
    level: Option<Level>,
    version: Option<Version>,
    /// `podsec.debounceMs`: milliseconds between the last keystroke and the analysis.
    debounce_ms: Option<u64>,
    /// `podsec.maxDocumentSizeMB`: larger YAML documents are not analysed (default 10).
    max_document_mb: Option<u64>,
    /// `podsec.syntaxErrors`: how YAML syntax errors are shown.
    pub syntax_errors: SyntaxErrors,
    /// `podsec.helm`: the Helm that renders charts (a path, or a command on `PATH`), over the project
    /// file's `helm:` and `helm` on `PATH`.
    pub helm: Option<String>,
}

/// `podsec.syntaxErrors`: next to yaml-language-server, which reports syntax errors itself, `hint` or
/// `off` avoids showing each one twice. In every mode, a document that does not parse says that podsec
/// did not check it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum SyntaxErrors {
    /// An error, with the parser's message (the default).
    #[default]
    Report,
    /// A hint, with the parser's message.
    Hint,
    /// Only an information that the document was not checked.
    Off,
}

impl Settings {
    pub(super) fn debounce(&self) -> Duration {
        self.debounce_ms.map_or(DEBOUNCE, Duration::from_millis)
    }

    fn policy(&self) -> Policy {
        let default = Policy::default();
        Policy::new(
            self.level.unwrap_or(default.level),
            self.version.unwrap_or(default.version),
        )
    }

    /// Parser limits, with the document size limit from the settings.
    pub(super) fn limits(&self) -> Limits {
        let default = Limits::default();
        let max_document_bytes = self.max_document_mb.map_or(default.max_document_bytes, |mb| {
            (mb as usize).saturating_mul(1 << 20)
        });
        Limits {
            max_document_bytes,
            ..default
        }
    }

    /// The editor's default policy, when either setting is given.
    pub(super) fn editor_default(&self) -> Option<Policy> {
        (self.level.is_some() || self.version.is_some()).then(|| self.policy())
    }

    /// Reads `{"podsec": {...}}` or the inner object; returns the settings and a warning per bad entry.
    pub(super) fn parse(value: &Value) -> (Self, Vec<String>) {
        let mut settings = Settings::default();
        let mut warnings = Vec::new();
        let object = value.get("podsec").unwrap_or(value);
        let Some(map) = object.as_object() else {
            // Lua clients encode an empty table as `[]`: that is "no settings", not an error.
            let empty_list = object.as_array().is_some_and(Vec::is_empty);
            if !object.is_null() && !empty_list {
                warnings.push(format!("podsec settings must be an object, not {object}"));
            }
            return (settings, warnings);
        };
        for (key, value) in map {
            match (key.as_str(), value.as_str()) {
                ("level", Some(text)) => match Level::parse(text) {
                    Ok(level) => settings.level = Some(level),
                    Err(e) => warnings.push(format!("podsec.level: {e}")),
                },
                ("version", Some(text)) => match Version::parse(text) {
                    Ok(version) => settings.version = Some(version),
                    Err(e) => warnings.push(format!("podsec.version: {e}")),
                },
                ("maxDocumentSizeMB", _) => match value.as_u64().filter(|mb| (1..=1024).contains(mb)) {
                    Some(mb) => settings.max_document_mb = Some(mb),
                    None => warnings.push(format!(
                        "podsec.maxDocumentSizeMB must be a number from 1 to 1024, not {value}"
                    )),
                },
                ("debounceMs", _) => match value.as_u64().filter(|ms| *ms <= MAX_DEBOUNCE_MS) {
                    Some(ms) => settings.debounce_ms = Some(ms),
                    None => warnings.push(format!(
                        "podsec.debounceMs must be a number from 0 to {MAX_DEBOUNCE_MS}, not {value}"
                    )),
                },
                ("syntaxErrors", Some(mode)) => match mode {
                    "report" => settings.syntax_errors = SyntaxErrors::Report,
                    "hint" => settings.syntax_errors = SyntaxErrors::Hint,
                    "off" => settings.syntax_errors = SyntaxErrors::Off,
                    other => warnings.push(format!(
                        "podsec.syntaxErrors must be \"report\", \"hint\" or \"off\", not {other:?}"
                    )),
                },
                ("helm", Some(helm)) if !helm.trim().is_empty() => {
                    settings.helm = Some(helm.trim().to_string())
                }
                ("helm", _) if value.is_null() || value.as_str().is_some() => {}
                ("helm", _) => warnings.push(format!("podsec.helm must be a path or a command, not {value}")),
                ("syntaxErrors", None) => warnings.push(format!(
                    "podsec.syntaxErrors must be \"report\", \"hint\" or \"off\", not {value}"
                )),
                ("level" | "version", None) if value.is_null() => {}
                ("level" | "version", None) => {
                    warnings.push(format!("podsec.{key} must be a string, not {value}"))
                }
                (key, _) if CLIENT_SETTINGS.contains(&key) => {}
                (key, _) => warnings.push(format!("unknown setting podsec.{key}")),
            }
        }
        (settings, warnings)
    }
}
