//! Wiring: builds the runtime and hands each subcommand to its stage.
//! Errors end here, printed with their whole cause chain.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(crate::exit::INTERNAL);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Run(args) => match crate::run::run(args).await {
                Ok(code) => ExitCode::from(code),
                Err(failure) => {
                    eprintln!("error: {}", failure.message);
                    ExitCode::from(failure.code)
                }
            },
            Command::Rerun(args) => match crate::run::rerun(args).await {
                Ok(code) => ExitCode::from(code),
                Err(failure) => {
                    eprintln!("error: {}", failure.message);
                    ExitCode::from(failure.code)
                }
            },
            Command::Track(args) => match crate::run::track(args).await {
                Ok(code) => ExitCode::from(code),
                Err(failure) => {
                    eprintln!("error: {}", failure.message);
                    ExitCode::from(failure.code)
                }
            },
            Command::Simulate(args) => match crate::simulate::run(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(crate::exit::CONFIG)
                }
            },
        }
    })
}
