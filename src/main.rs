//! The `handoff` binary: parse the command line, run, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc, not glibc's malloc: see Cargo.toml.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    quiet_on_a_closed_pipe();
    // The settings file's values go in front of the user's flags, so clap
    // parses and validates them like flags (see `settings`).
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let (args, origins) = match handoff::cli::settings::with_file(raw.clone()) {
        Ok(loaded) => loaded,
        Err(failure) => return handoff::app::refusal(&raw, &failure, None),
    };
    match handoff::cli::Cli::try_parse_from(&args) {
        Ok(cli) => handoff::app::main(cli),
        // --help and --version are answers, not errors.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        // A bad value from the settings file is said as its file and key,
        // not as a flag the user never typed.
        Err(e) => match handoff::cli::settings::explain(&e, &origins) {
            Some(failure) => handoff::app::refusal(&args, &failure, None),
            // A command line clap refuses is a usage error (64); a bad
            // value in the settings file is configuration (78, above).
            None => {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default().to_string();
                let failure = handoff::error::Failure::new(handoff::exit::USAGE, first);
                handoff::app::refusal(&args, &failure, Some(&e))
            }
        },
    }
}

/// `handoff … | head` closes stdout early: a print that finds the pipe
/// closed ends the process quietly with 141 (128 + SIGPIPE, what a shell
/// shows for a writer the pipe stopped) instead of a panic and 101. The
/// run's own summary is written with the error ignored instead, after
/// every file (`progress::print_summary`); this is for the other printers.
fn quiet_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
