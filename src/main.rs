//! The `ews` binary: parse arguments, set up logging, run a command, map errors to exit codes.

// No panics on user input: unwrap and expect are for tests only (errors are typed instead).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use ews::cli::run::RunStatus;
use ews::cli::{evaluate, generate, import, score, train, validate};
use ews::cli::{Cli, Command, ImportFormat};
use ews::config::Config;
use ews::io::error::{EXIT_INTERNAL, EXIT_WARNINGS};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let progress = match cli.quiet {
        true => ews::io::progress::When::Never,
        false => cli.progress,
    };
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    logger.format_target(false);
    if ews::io::progress::start(progress) {
        // Log lines go between the progress line's redraws.
        logger.target(env_logger::Target::Pipe(Box::new(
            ews::io::progress::LogWriter,
        )));
    }
    logger.init();

    // A panic is a bug: it must end with the documented internal-error status, not 101.
    let result = std::panic::catch_unwind(|| run(&cli)).unwrap_or_else(|_| {
        Err(anyhow::anyhow!(
            "internal error (a bug in ews); please report it"
        ))
    });
    ews::io::progress::finish();
    match result {
        Ok(RunStatus::Clean) => ExitCode::SUCCESS,
        Ok(RunStatus::Warnings) => ExitCode::from(EXIT_WARNINGS),
        Err(error) => {
            let code = match error.downcast_ref::<ews::EwsError>() {
                Some(e) => e.exit_code(),
                None => EXIT_INTERNAL,
            };
            // A closed stderr must not turn a failed run into a panic.
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<RunStatus> {
    let config = || Config::load_or_default(&cli.config);
    Ok(match &cli.command {
        Command::Generate(args) => generate::run(args, &config()?)?,
        Command::Score(args) => score::run(args, &config()?, &cli.config)?,
        Command::Validate(args) => validate::run(args, &config()?)?,
        Command::Train(args) => train::run(args, &config()?)?,
        Command::Evaluate(args) => evaluate::run(args, &config()?)?,
        Command::Import(args) => match &args.format {
            ImportFormat::Edfi(edfi) => import::run(edfi, &config()?, &cli.config)?,
        },
    })
}
