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

/// The exit code of a command that needs no runtime (the ledger's upkeep).
/// Logs as `--log-format` and `--log-level` say (`--quiet`: warnings only).
fn init_logs(output: &crate::cli::OutputArgs) {
    let level = output.log_level.unwrap_or(if output.quiet {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    });
    crate::logging::init(
        output.log_format == crate::cli::LogFormat::Json,
        level,
        output.color.enabled(),
    );
}

/// `handoff man [SUBCOMMAND] [--out-dir DIR]`.
fn man(sub: Option<&str>, out_dir: Option<&std::path::Path>) -> ExitCode {
    let result = match out_dir {
        Some(dir) => crate::cli::man::write_all(dir, sub).map(|names| {
            for n in names {
                eprintln!("wrote {}", dir.join(n).display());
            }
            Vec::new()
        }),
        None => crate::cli::man::page(sub),
    };
    match result {
        Ok(text) => print(&text),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(crate::exit::CONFIG)
        }
    }
}

/// A command line refused before it ran (a bad flag or setting value):
/// still a night that failed, so its metrics and summary are written
/// where the command line says, when it says.
pub fn refused(args: &[std::ffi::OsString], failure: &crate::error::Failure) {
    let Some(sinks) = crate::commands::Sinks::from_raw(args) else {
        return;
    };
    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        rt.block_on(crate::commands::on_failure(&sinks, failure));
    }
}

/// The exit of a command that needs no runtime (it only reads the ledger).
fn done(result: Result<u8, crate::error::Failure>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
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
        Command::Man {
            subcommand,
            out_dir,
        } => return man(subcommand.as_deref(), out_dir.as_deref()),
        Command::Config { config, flags } => {
            return match crate::cli::settings::describe(config.clone(), flags) {
                Ok(text) => print(text.as_bytes()),
                Err(failure) => failure.report(),
            };
        }
        Command::Runs(args) => return done(crate::commands::runs(args)),
        Command::Report(args) => return done(crate::commands::report(args)),
        Command::History(args) => return done(crate::commands::history(args)),
        Command::Prune(args) => return done(crate::commands::prune(args)),
        Command::Backup(args) => return done(crate::commands::backup(args)),
        Command::Ledger(args) => return done(crate::commands::ledger(args)),
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
            Command::Run(args) if args.dry_run => {
                init_logs(&args.sending.output);
                crate::commands::run(args).await
            }
            Command::Run(args) => {
                init_logs(&args.sending.output);
                let output = args.sending.output.clone();
                crate::commands::recorded(&output, crate::commands::run(args)).await
            }
            Command::Rerun(args) if args.dry_run => {
                init_logs(&args.sending.output);
                crate::commands::rerun(args).await
            }
            Command::Rerun(args) => {
                init_logs(&args.sending.output);
                let output = args.sending.output.clone();
                crate::commands::recorded(&output, crate::commands::rerun(args)).await
            }
            Command::Track(args) => {
                init_logs(&args.output);
                let output = args.output.clone();
                crate::commands::recorded(&output, crate::commands::track(args)).await
            }
            Command::Receive(args) => {
                let level = args.log_level.unwrap_or(if args.quiet {
                    tracing::Level::WARN
                } else {
                    tracing::Level::INFO
                });
                // NO_COLOR and a terminal decide, as `--color auto` does for `run`.
                let color = crate::cli::Color::Auto.enabled();
                crate::logging::init(args.log_format == "json", level, color);
                crate::commands::receive(args).await
            }
            Command::Simulate(args) => {
                handoff_sim::cli::run(args, crate::signal::shutdown_signal())
                    .await
                    .map(|()| crate::exit::OK)
                    .map_err(|e| crate::error::Failure::new(crate::exit::CONFIG, e))
            }
            Command::Completions { .. }
            | Command::Man { .. }
            | Command::Config { .. }
            | Command::Runs(_)
            | Command::Report(_)
            | Command::History(_)
            | Command::Prune(_)
            | Command::Backup(_)
            | Command::Ledger(_) => Ok(crate::exit::OK),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
}
