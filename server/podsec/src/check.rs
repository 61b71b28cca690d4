//! `podsec check`: its options, and printing the verdicts as they are found.

use crate::Outcome;
use crate::cli::{CheckCommand, ColorChoice};
use crate::inputs::RunArgs;
use crate::output::{self, Format};
use crate::run::Run;

pub fn run(args: CheckCommand) -> Result<Outcome, String> {
    let format = args.output_format;
    let text_or_json = matches!(format, Format::Text | Format::Json);
    for (asked, flag) in [
        (args.statistics, "--statistics"),
        (args.suggest_level, "--suggest-level"),
    ] {
        if asked && !text_or_json {
            let error = crate::cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("{flag} prints text or json, not {}", format.name()),
            );
            let _ = error.print();
            return Ok(Outcome::Error);
        }
    }
    let mut run_args = RunArgs::new(&args.inputs, &args.policy, args.verbose);
    run_args.ignore = args.ignore.clone();
    run_args.render = (!args.show_settings).then(|| crate::charts::RenderSettings {
        helm: args.render.helm.clone(),
        disabled: args.render.no_render,
        max_output: args.inputs.max_file_size,
    });
    if args.show_files {
        return show_files(&run_args);
    }
    let run = Run::prepare(&run_args)?;
    let mut out = crate::stdout::stdout();
    let outcome = if args.show_settings {
        crate::settings::write(&mut out, &run, &run_args).map_err(crate::stdout::write_error)?
    } else if args.suggest_level {
        output::write_suggestions(&mut out, &run, format == Format::Json)
            .map_err(crate::stdout::write_error)?
    } else {
        let colour = format == Format::Text
            && match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                // A file named by --output-file is not the terminal.
                ColorChoice::Auto => args.output_file.is_none() && output::colour_enabled(),
            };
        let options = output::PrintOptions {
            show_exempted: args.show_exempted,
            colour,
            quiet: args.quiet,
            statistics: args.statistics,
        };
        let mut baseline = match (&args.baseline, &args.write_baseline) {
            (Some(path), _) => Some(crate::baseline::Baseline::read(path)?),
            (None, Some(_)) => Some(crate::baseline::Baseline::recording()),
            (None, None) => None,
        };
        let outcome = match &args.output_file {
            Some(path) => {
                let written = std::fs::File::create(path).and_then(|file| {
                    let mut file = std::io::BufWriter::new(file);
                    let tally = output::write(&mut file, &run, format, &options, baseline.as_mut())?;
                    std::io::Write::flush(&mut file)?;
                    Ok(tally)
                });
                let tally = written.map_err(|e| format!("{}: {e}", path.display()))?;
                if !args.quiet {
                    let colour = matches!(args.color, ColorChoice::Always)
                        || (args.color == ColorChoice::Auto && output::colour_enabled());
                    use std::io::Write;
                    writeln!(out, "{}", output::summary_line(&tally, colour))
                        .map_err(crate::stdout::write_error)?;
                }
                tally.outcome()
            }
            None => output::write(&mut out, &run, format, &options, baseline.as_mut())
                .map_err(crate::stdout::write_error)?
                .outcome(),
        };
        std::io::Write::flush(&mut out).map_err(crate::stdout::write_error)?;
        if let (Some(baseline), Some(path)) =
            (baseline, args.baseline.as_ref().or(args.write_baseline.as_ref()))
        {
            baseline.finish(path)?;
        }
        outcome
    };
    out.finish()?;
    Ok(match outcome {
        Outcome::Findings if args.exit_zero => Outcome::Clean,
        other => other,
    })
}

/// `--show-files`: the inputs a run would check, one per line, without reading them.
fn show_files(args: &RunArgs) -> Result<Outcome, String> {
    use std::io::Write;
    let selection = crate::run::select(args)?;
    let mut out = crate::stdout::stdout();
    for input in &selection.inputs {
        writeln!(out, "{}", input.display()).map_err(crate::stdout::write_error)?;
    }
    out.finish()?;
    for (input, error) in &selection.missing {
        crate::stderr_line!("podsec: {}: {error}", input.display());
    }
    Ok(if selection.missing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}
