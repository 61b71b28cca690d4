//! Levels, versions and the policy an object is checked against, with PSA's parsing rules.

use std::fmt;

/// The newest policy version any check knows (the highest minimum version in the registry).
/// `latest` and every `v1.N` above it are evaluated as this minor.
pub const MAX_MINOR: u32 = 37;

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No checks.
    Privileged,
    /// The baseline checks.
    Baseline,
    /// The restricted checks plus every baseline check they do not override.
    Restricted,
}

impl Level {
    /// The level's name as written in labels and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// Parses a level name; case-sensitive, as PSA.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        match text {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(PolicyError::Level(text.to_string())),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy version as requested: `latest` or `v1.N` (printed as requested, evaluated clamped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `latest`.
    Latest,
    /// `v1.<minor>`.
    Minor(u64),
}

impl Version {
    /// Parses `latest` or `v1.<minor>`; the minor is `0` or has no leading zero (`v1.05` is invalid).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        if text == "latest" {
            return Ok(Version::Latest);
        }
        let invalid = || PolicyError::Version(text.to_string());
        let minor = text.strip_prefix("v1.").ok_or_else(invalid)?;
        let well_formed = !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !well_formed {
            return Err(invalid());
        }
        // PSA reads the minor as a 64-bit integer: a larger one is no version at all.
        minor.parse::<u64>().map(Version::Minor).map_err(|_| invalid())
    }

    /// The minor version the checks are evaluated at.
    pub fn evaluated_minor(self) -> u32 {
        match self {
            Version::Latest => MAX_MINOR,
            // At most MAX_MINOR, so the conversion cannot fail.
            Version::Minor(minor) => u32::try_from(minor.min(u64::from(MAX_MINOR))).unwrap_or(MAX_MINOR),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(minor) => write!(f, "v1.{minor}"),
        }
    }
}

/// A level at a version: what PSA prints as `restricted:latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// The level.
    pub level: Level,
    /// The version.
    pub version: Version,
}

impl Policy {
    /// `level` at `version`.
    pub fn new(level: Level, version: Version) -> Self {
        Self { level, version }
    }
}

impl Default for Policy {
    /// `restricted:latest`, the strictest policy: what a checker should assume when told nothing.
    fn default() -> Self {
        Self {
            level: Level::Restricted,
            version: Version::Latest,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// An invalid level or version string, with PSA's own error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// Not one of the three levels.
    Level(String),
    /// Not `latest` or `v1.N`.
    Version(String),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Level(text) => {
                write!(
                    f,
                    "invalid level {text:?}: must be one of privileged, baseline, restricted"
                )
            }
            PolicyError::Version(text) => {
                write!(f, "invalid version {text:?}: must be \"latest\" or \"v1.x\"")
            }
        }
    }
}

impl std::error::Error for PolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_psa_does() {
        assert_eq!(Version::parse("latest"), Ok(Version::Latest));
        assert_eq!(Version::parse("v1.0"), Ok(Version::Minor(0)));
        assert_eq!(
            Version::parse("v1.99").map(Version::evaluated_minor),
            Ok(MAX_MINOR)
        );
        assert_eq!(Version::parse("v1.4294967296"), Ok(Version::Minor(4_294_967_296)));
        assert_eq!(
            Version::parse("v1.18446744073709551615"),
            Ok(Version::Minor(u64::MAX))
        );
        for bad in [
            "v1.05",
            "1.25",
            "v1.25.0",
            "v2.0",
            "v1.",
            "Latest",
            "",
            "v1.18446744073709551616",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn levels_are_case_sensitive() {
        assert!(Level::parse("Restricted").is_err());
        assert_eq!(Level::parse("baseline"), Ok(Level::Baseline));
    }
}
