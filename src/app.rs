//! Wiring: builds the runtime and hands each subcommand to its stage.
//! Errors end here, printed with their whole cause chain.

use std::future::Future;
use std::process::ExitCode;

use crate::cli::{Cli, Color, Command, LogFormat, OutputArgs};
use crate::error::Failure;

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
fn init_logs(quiet: bool, format: LogFormat, level: Option<tracing::Level>, color: Color) {
    let level = level.unwrap_or(if quiet {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    });
    crate::logging::init(format == LogFormat::Json, level, color.enabled());
}

/// A sending command: its logs as its output flags say, then the command
/// on the runtime; `record` writes the metrics and summary of a failure
/// too (not for a dry run, which writes nothing).
fn sending(
    output: &OutputArgs,
    record: bool,
    command: impl Future<Output = Result<u8, Failure>>,
) -> ExitCode {
    init_logs(
        output.quiet,
        output.log_format,
        output.log_level,
        output.color,
    );
    in_runtime(crate::commands::recorded(record.then_some(output), command))
}

/// Runs a command that needs the async runtime.
fn in_runtime(command: impl Future<Output = Result<u8, Failure>>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => done(runtime.block_on(command)),
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            ExitCode::from(crate::exit::INTERNAL)
        }
    }
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
        Err(e) => Failure::new(crate::exit::CONFIG, e).report(),
    }
}

/// A command line refused before it ran (a bad flag or setting value):
/// still a night that failed, so its metrics and summary are written
/// where the command line says, when it says.
/// A command line refused before any command ran: clap's refusal
/// (`usage`, printed as clap writes it) or a settings file's bad value. Its
/// sinks get the failed night's metrics and summary, stdout the JSON
/// summary, as after any failure; with `--log-format json` the error is a
/// JSON event like every other line on stderr, so a log shipper can parse
/// it.
pub fn refusal(
    args: &[std::ffi::OsString],
    failure: &Failure,
    usage: Option<&clap::Error>,
) -> ExitCode {
    let json = crate::cli::settings::last_flag(args.get(1..).unwrap_or_default(), "--log-format")
        .is_some_and(|f| f == "json");
    if json {
        init_logs(false, LogFormat::Json, None, Color::Never);
    }
    refused(args, failure);
    match usage {
        Some(e) if !json => {
            let _ = e.print();
            ExitCode::from(failure.code())
        }
        _ => failure.report(),
    }
}

fn refused(args: &[std::ffi::OsString], failure: &Failure) {
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

/// The exit of a command: its code, or its failure printed.
fn done(result: Result<u8, Failure>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
}

/// Runs the parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "handoff", &mut text);
            print(&text)
        }
        Command::Man {
            subcommand,
            out_dir,
        } => man(subcommand.as_deref(), out_dir.as_deref()),
        Command::Config { config, flags } => match crate::cli::settings::describe(config, &flags) {
            Ok(text) => print(text.as_bytes()),
            Err(failure) => failure.report(),
        },
        Command::Runs(args) => done(crate::commands::runs(&args)),
        Command::Suppressions(args) => done(crate::commands::suppressions(&args)),
        Command::Report(args) => done(crate::commands::report(&args)),
        Command::History(args) => done(crate::commands::history(&args)),
        Command::Prune(args) => done(crate::commands::prune(&args)),
        Command::Backup(args) => done(crate::commands::backup(&args)),
        Command::Ledger(args) => done(crate::commands::ledger(&args)),
        Command::Run(args) => {
            let (output, record) = (args.sending.output.clone(), !args.dry_run);
            sending(&output, record, crate::commands::run(args))
        }
        Command::Rerun(args) => {
            let (output, record) = (args.sending.output.clone(), !args.dry_run);
            sending(&output, record, crate::commands::rerun(args))
        }
        Command::Track(args) => {
            let output = args.output.clone();
            sending(&output, true, crate::commands::track(args))
        }
        Command::Receive(args) => {
            // NO_COLOR and a terminal decide, as `--color auto` does for `run`.
            init_logs(args.quiet, args.log_format, args.log_level, Color::Auto);
            in_runtime(crate::commands::receive(args))
        }
        Command::Simulate(args) => in_runtime(async {
            handoff_sim::cli::run(args, crate::signal::shutdown_signal())
                .await
                .map(|()| crate::exit::OK)
                .map_err(|e| Failure::new(crate::exit::CONFIG, e))
        }),
    }
}
