//! `podsec`: Pod Security Standards for Kubernetes YAML, as the command line and as a language server.
//!
//! This crate is a thin shell over `podsec-engine`: argument parsing, files, output formats and the
//! LSP transport. Every verdict comes from `podsec_engine::analyze`. It is a library too, so that the
//! fuzz targets and benchmarks reach the server's position conversions and edit application.

mod check;
mod chunks;
mod explain;
mod fix;
pub mod lsp;
mod output;
mod pipeline;
mod project;
mod psp;
mod read;
mod report;
mod run;
mod stdout;

use std::process::ExitCode;

const USAGE: &str = "\
podsec: Kubernetes Pod Security Standards, exactly as Pod Security Admission judges them

Usage:
  podsec check [OPTIONS] [PATH|-]...   check files and directories (*.yaml, *.yml; - for stdin)
  podsec fix [OPTIONS] [PATH|-]...     apply the safe fixes (files are rewritten; stdin to stdout)
  podsec explain [CHECK-ID]            document one check, or list them all
  podsec psp [--format json] [PATH]... the level each PodSecurityPolicy guarantees, and what blocks a stricter one
  podsec lsp [--stdio]                 run the language server on stdin/stdout
  podsec --version | --help

Options of check:
  --level privileged|baseline|restricted   level to enforce (default: restricted)
  --version latest|v1.N                    policy version (default: latest)
  --format text|json|sarif                 output format (default: text)
  --max-file-size SIZE                     refuse larger inputs, in MB (64, 64MB) or bytes (65536B)
                                           (default: 256MB; also for fix and psp)
  --stdin-filename PATH                    the name of standard input in the output (also for fix)

Options of fix: --level and --version as for check, and
  --unsafe                                 also apply fixes that may change what the workload can do
  --diff                                   print a unified diff instead of writing

Exit status: 0 no violation, 1 violations or unreadable YAML found, 2 usage or I/O error.
";

/// How a command ended, mapped to the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Clean,
    Findings,
    Error,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(match outcome {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        })
    }
}

/// Runs the command line: `podsec <command> …`.
pub fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(command) = args.next() else {
        stderr_line!("{}", USAGE.trim_end());
        return Outcome::Error.into();
    };
    let rest: Vec<std::ffi::OsString> = args.collect();
    let result = match command.to_str() {
        Some("check") => check::run(rest),
        Some("explain") => explain::run(rest),
        Some("lsp") => lsp::run(rest),
        Some("fix") => fix::run(rest),
        Some("psp") => psp::run(rest),
        Some("-h" | "--help" | "help") => print_and_finish(USAGE),
        Some("-V" | "--version") => print_and_finish(&format!("podsec {}\n", env!("CARGO_PKG_VERSION"))),
        _ => Err(format!(
            "unknown command {:?}\n\n{USAGE}",
            command.to_string_lossy()
        )),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(message) => {
            stderr_line!("podsec: {message}");
            Outcome::Error.into()
        }
    }
}

/// Prints a whole text; a reader that closes the pipe early is not an error.
fn print_and_finish(text: &str) -> Result<Outcome, String> {
    use std::io::Write;
    let mut out = stdout::stdout();
    out.write_all(text.as_bytes()).map_err(stdout::write_error)?;
    out.finish()?;
    Ok(Outcome::Clean)
}
