//! The `ews` binary: parse arguments, set up logging, run a command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use ews::cli::{Cli, Command};
use ews::config::Config;
use ews::error::EXIT_INTERNAL;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_target(false)
        .init();

    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = match error.downcast_ref::<ews::EwsError>() {
                Some(e) => e.exit_code(),
                None => EXIT_INTERNAL,
            };
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Generate(args) => ews::commands::generate(args)?,
        Command::Score(args) => ews::commands::score(args, &Config::load_or_default(&cli.config)?)?,
        Command::Train(args) => ews::commands::train(args, &Config::load_or_default(&cli.config)?)?,
    }
    Ok(())
}
