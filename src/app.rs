//! Wiring: builds the runtime and hands each subcommand to its stage.
//! Errors end here, printed with their whole cause chain.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Writes generated text to stdout; a reader that closed the pipe early
/// (`| head`) is not an error.
fn print(text: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: failed to write to stdout: {e}");
            ExitCode::from(crate::exit::INTERNAL)
        }
    }
}

/// Logs as `--log-format` and `--log-level` say (`--quiet`: warnings only).
fn init_logs(output: &crate::cli::OutputArgs) {
    let level = output.log_level.unwrap_or(if output.quiet {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    });
    crate::logging::init(output.log_format == crate::cli::LogFormat::Json, level);
}

/// Runs the parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "handoff", &mut text);
            return print(&text);
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut text) {
                eprintln!("error: failed to render the man page: {e}");
                return ExitCode::from(crate::exit::INTERNAL);
            }
            return print(&text);
        }
        Command::Config { config, flags } => {
            return match crate::cli::settings::describe(config.clone(), flags) {
                Ok(text) => print(text.as_bytes()),
                Err(failure) => failure.report(),
            };
        }
        _ => {}
    }
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => {
                init_logs(&args.sending.output);
                crate::commands::run(args).await
            }
            Command::Rerun(args) => {
                init_logs(&args.sending.output);
                crate::commands::rerun(args).await
            }
            Command::Track(args) => {
                init_logs(&args.output);
                crate::commands::track(args).await
            }
            Command::Receive(args) => {
                let level = args.log_level.unwrap_or(if args.quiet {
                    tracing::Level::WARN
                } else {
                    tracing::Level::INFO
                });
                crate::logging::init(args.log_format == "json", level);
                crate::commands::receive(args).await
            }
            Command::Simulate(args) => crate::commands::simulate::run(args)
                .await
                .map(|()| crate::exit::OK)
                .map_err(|e| crate::error::Failure::new(crate::exit::CONFIG, format!("{e:#}"))),
            Command::Completions { .. } | Command::Man | Command::Config { .. } => {
                Ok(crate::exit::OK)
            }
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
}
