//! `podsec`: Pod Security Standards for Kubernetes YAML, as the command line and as a language server.
//!
//! This crate is a thin shell over `podsec-engine`: argument parsing, files, output formats and the
//! LSP transport. Every verdict comes from `podsec_engine::analyze`. It is a library too, so that the
//! fuzz targets and benchmarks reach the server's position conversions and edit application.

mod baseline;
mod charts;
mod check;
mod chunks;
mod cli;
mod codes;
mod explain;
mod export;
mod fix;
mod inputs;
mod kustomize;
pub mod lsp;
mod output;
mod parallel;
mod pipeline;
mod process;
mod project;
mod psp;
mod read;
mod report;
mod run;
mod settings;
mod stdout;

pub use cli::command;
use std::process::ExitCode;

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
    use clap::Parser;
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to standard output (exit 0), errors to standard error (exit 2).
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        cli::Command::Check(args) => check::run(args),
        cli::Command::Fix(args) => fix::run(args),
        cli::Command::Explain(args) => explain::run(args),
        cli::Command::Psp(args) => psp::run(args),
        cli::Command::Export(cli::ExportCommand::Vap(args)) => export::vap(args),
        // The server's only transport is stdio: `--stdio` needs no handling.
        cli::Command::Lsp(_) => lsp::run(Vec::new()),
        cli::Command::Completions(args) => completions(args.shell),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(message) => {
            stderr_line!("podsec: {message}");
            Outcome::Error.into()
        }
    }
}

/// `podsec completions SHELL`: the shell's completion script, from the same declaration as the parser.
fn completions(shell: clap_complete::Shell) -> Result<Outcome, String> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "podsec", &mut script);
    print_and_finish(&String::from_utf8_lossy(&script))
}

/// Prints a whole text; a reader that closes the pipe early is not an error.
fn print_and_finish(text: &str) -> Result<Outcome, String> {
    use std::io::Write;
    let mut out = stdout::stdout();
    out.write_all(text.as_bytes()).map_err(stdout::write_error)?;
    out.finish()?;
    Ok(Outcome::Clean)
}
