//! The command line, declared once with clap: parsing, `--help`, the shell completions and the man pages
//! (`cargo xtask generate`) all come from these types, so the documentation cannot drift from the parser.

use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use podsec_engine::{CHECKS, Level, Version};
use std::path::PathBuf;

const EXIT_STATUS: &str = "\
Exit status: 0 nothing found (or only warnings), 1 errors found (enforced violations, unreadable YAML,
invalid labels; `fix --diff`: a fix would change a file), 2 usage or I/O error.";

/// podsec: Kubernetes Pod Security Standards, exactly as Pod Security Admission judges them.
#[derive(Parser, Debug)]
#[command(
    name = "podsec",
    version,
    about = "Kubernetes Pod Security Standards, exactly as Pod Security Admission judges them",
    after_help = EXIT_STATUS,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check files and directories (*.yaml, *.yml; - for standard input)
    #[command(after_help = EXIT_STATUS)]
    Check(CheckCommand),
    /// Apply the safe fixes (files are rewritten in place; standard input to standard output)
    #[command(after_help = EXIT_STATUS)]
    Fix(FixCommand),
    /// Document one check, or list them all
    Explain(ExplainCommand),
    /// The level each PodSecurityPolicy guarantees, and what blocks a stricter one
    Psp(PspCommand),
    /// Export podsec's policy for the cluster to enforce
    #[command(subcommand)]
    Export(ExportCommand),
    /// Run the language server on standard input and output
    Lsp(LspCommand),
    /// Print a shell completion script
    Completions(CompletionsCommand),
}

/// A Pod Security Standards level.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelArg {
    Privileged,
    Baseline,
    Restricted,
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Self {
        match level {
            LevelArg::Privileged => Level::Privileged,
            LevelArg::Baseline => Level::Baseline,
            LevelArg::Restricted => Level::Restricted,
        }
    }
}

/// When the text output is coloured.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set
    Auto,
    Always,
    Never,
}

/// The inputs: paths, standard input, how big an input may be, which files a walk skips.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// Files and directories to check (directories recursively; - reads standard input) [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The name standard input has in the output, and where its project file and kustomization are
    /// looked up; without - among the paths it reads standard input (as ruff's does), ignoring the paths
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Refuse larger inputs: megabytes (64, 64MB) or, with a unit, bytes (65536B), KB or GB
    #[arg(long, value_name = "SIZE", default_value = "256MB", value_parser = crate::read::parse_size)]
    pub max_file_size: u64,
    /// Walk directories without reading .gitignore, .ignore and git's excludes (hidden files stay
    /// skipped)
    #[arg(long)]
    pub no_ignore: bool,
    /// Walk hidden files and directories too (.deploy/); ignore files still apply
    #[arg(long)]
    pub hidden: bool,
}

/// Where the policy comes from when it is not the policy files'.
#[derive(Args, Debug)]
#[command(next_help_heading = "Policy")]
pub struct PolicyArgs {
    /// Enforce this level everywhere, overriding every policy source (at --policy-version, else latest)
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub level: Option<LevelArg>,
    /// Evaluate at this policy version, latest or v1.N (PSA's *-version labels); alone it changes only the version of the level each namespace, project file or default gives
    // `--version` was its name before; kept as a hidden alias, which cannot clash with `podsec --version`
    // because clap gives subcommands no version flag of their own.
    #[arg(long, alias = "version", value_name = "VERSION", value_parser = parse_version)]
    pub policy_version: Option<Version>,
    /// The project file to use instead of the nearest .podsec.yaml above each file
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

fn parse_version(text: &str) -> Result<Version, String> {
    Version::parse(text).map_err(|e| e.to_string())
}

/// The check IDs and the codes of the document problems, for `--ignore`: clap suggests the nearest one
/// for a typo.
fn ignorable_ids() -> PossibleValuesParser {
    PossibleValuesParser::new(CHECKS.iter().map(|c| c.id).chain(crate::codes::ignorable_codes()))
}

/// The check IDs and every problem code, for `explain`.
fn explained_ids() -> PossibleValuesParser {
    let codes = crate::codes::PROBLEM_CODES
        .iter()
        .map(|c| c.id)
        .filter(|id| *id != "other");
    PossibleValuesParser::new(CHECKS.iter().map(|c| c.id).chain(codes))
}

/// How charts are rendered before they are checked.
#[derive(Args, Debug)]
#[command(next_help_heading = "Charts")]
pub struct RenderArgs {
    /// The Helm that renders charts (helm template), over the project file's `helm:` and `helm` on PATH
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Read Helm charts without rendering them: only the literal fields of their templates are checked
    #[arg(long)]
    pub no_render: bool,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("report").multiple(false)))]
pub struct CheckCommand {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    /// Exempt these checks for this run (listed by --show-exempted as ignored on the command line); a
    /// problem code (helm-value, syntax-error, …: `podsec explain` lists them) sets those problems aside
    #[arg(long, value_name = "CHECK", value_delimiter = ',', value_parser = ignorable_ids(),
          hide_possible_values = true, help_heading = "Policy")]
    pub ignore: Vec<String>,
    /// Output format
    #[arg(long, visible_alias = "format", value_enum, value_name = "FORMAT", default_value_t = Format::Text,
          help_heading = "Output")]
    pub output_format: Format,
    /// Write the output (in --output-format) to this file; the terminal keeps the text summary line
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output_file: Option<PathBuf>,
    /// Record today's findings in FILE (by a fingerprint without lines), for --baseline
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "baseline",
        help_heading = "Output"
    )]
    pub write_baseline: Option<PathBuf>,
    /// Report and fail on findings not in FILE only (written by --write-baseline); say how many known ones
    /// remain and which entries no longer match
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub baseline: Option<PathBuf>,
    /// Also list the findings an exemption covers, with its reason
    #[arg(long, help_heading = "Output")]
    pub show_exempted: bool,
    /// Print the strictest policy each namespace and workload passes (text or json)
    #[arg(long, group = "report", help_heading = "Output")]
    pub suggest_level: bool,
    /// Print the number of findings per check, most frequent first (text or json)
    #[arg(long, group = "report", help_heading = "Output")]
    pub statistics: bool,
    /// Print the policy sources of the paths: project files, admission configuration, Namespaces and the
    /// policy each namespace resolves to
    #[arg(long, group = "report", help_heading = "Output")]
    pub show_settings: bool,
    /// Print the files that would be checked, one per line
    #[arg(long, group = "report", help_heading = "Output")]
    pub show_files: bool,
    /// Exit 0 even when errors are found (usage and I/O errors still exit 2)
    #[arg(long, help_heading = "Output")]
    pub exit_zero: bool,
    /// Print only the findings: no summary line
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Output")]
    pub quiet: bool,
    /// Print notes on standard error: files a walk skipped and why
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// Colour the text output
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}

#[derive(Args, Debug)]
pub struct FixCommand {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Also apply the fixes that may change what a workload can do
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
    /// Leave the findings of these checks alone: no fix, and not reported as left to fix
    #[arg(long, value_name = "CHECK", value_delimiter = ',', value_parser = ignorable_ids(),
          hide_possible_values = true)]
    pub ignore: Vec<String>,
    /// Print a unified diff (for git apply) instead of writing; exit 1 exactly when it shows a diff
    #[arg(long)]
    pub diff: bool,
    /// Report format: text on standard error, or one JSON document on standard output (what was changed,
    /// what is left and why)
    #[arg(long, visible_alias = "format", value_enum, value_name = "FORMAT", default_value_t = FixFormat::Text)]
    pub output_format: FixFormat,
    /// Exit 0 even when findings are left (unreadable or unwritable files still exit 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Print no report: neither the fixes, what is left, nor the summary line (errors still are)
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print notes on standard error: files a walk skipped and why
    #[arg(short, long)]
    pub verbose: bool,
}

/// The report formats of `podsec fix`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixFormat {
    /// What was fixed and what is left, per file on standard error, then a summary line
    Text,
    /// One document on standard output: {"version": 1, "files": [{"path", "applied", "left", "error"}], "summary"}
    Json,
}

#[derive(Args, Debug)]
pub struct ExplainCommand {
    /// The check or problem code to document (an ID of `podsec explain`); none lists them all
    #[arg(value_name = "CHECK-ID", value_parser = explained_ids(), hide_possible_values = true)]
    pub check: Option<String>,
}

/// The output formats of `podsec psp`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PspFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct PspCommand {
    /// Files and directories holding PodSecurityPolicies [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, visible_alias = "format", value_enum, value_name = "FORMAT", default_value_t = PspFormat::Text)]
    pub output_format: PspFormat,
    /// Refuse larger inputs: megabytes (64, 64MB) or, with a unit, bytes (65536B), KB or GB
    #[arg(long, value_name = "SIZE", default_value = "256MB", value_parser = crate::read::parse_size)]
    pub max_file_size: u64,
    /// Walk directories without reading .gitignore, .ignore and git's excludes
    #[arg(long)]
    pub no_ignore: bool,
    /// Walk hidden files and directories too (.deploy/); ignore files still apply
    #[arg(long)]
    pub hidden: bool,
}

/// What `podsec export` writes.
#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// A ValidatingAdmissionPolicy and its bindings that enforce the Pod Security Standards in CEL as PSA
    /// does, on Pods and every pod-bearing workload, with podsec's exemptions (Kubernetes 1.30+). Without
    /// --level/--policy-version: the policy of the paths' namespaces, from the project file and Namespace
    /// labels, which the output's first lines describe
    Vap(ExportVapCommand),
}

#[derive(Args, Debug)]
pub struct ExportVapCommand {
    /// Files and directories whose Namespaces, project file and kustomizations give the policy [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Bind only these namespaces (repeatable, or comma-separated); with --level/--policy-version, one
    /// binding each instead of one for every namespace
    #[arg(
        long,
        value_name = "NAMESPACE",
        value_delimiter = ',',
        help_heading = "Bindings"
    )]
    pub namespace: Vec<String>,
    /// Walk directories without reading .gitignore, .ignore and git's excludes
    #[arg(long, help_heading = "Inputs")]
    pub no_ignore: bool,
}

#[derive(Args, Debug)]
pub struct LspCommand {
    /// Speak over standard input and output (the only transport; accepted for clients that pass it)
    #[arg(long)]
    pub stdio: bool,
}

#[derive(Args, Debug)]
pub struct CompletionsCommand {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The whole command line as a `clap::Command`: for the man pages and the completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        // clap's own checks: no two arguments with one name, every group and conflict resolvable.
        super::command().debug_assert();
    }
}

/// Output format of `podsec check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// file:line:column: check: message, per object, then a summary line
    Text,
    /// One document, versioned ("version": 1; editors/podsec-output.schema.json)
    Json,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request
    Github,
    /// GitLab Code Quality report
    Gitlab,
    /// JUnit XML: a test suite per file, a test case per object
    Junit,
}

impl Format {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
            Format::Junit => "junit",
        }
    }
}
