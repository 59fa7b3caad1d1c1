//! The `handoff` binary: parse the command line, run, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc, not glibc's malloc: see Cargo.toml.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // The settings file's values go in front of the user's flags, so clap
    // parses and validates them like flags (see `settings`).
    let args = match handoff::cli::settings::with_file(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(failure) => {
            return failure.report();
        }
    };
    match handoff::cli::Cli::try_parse_from(args) {
        Ok(cli) => handoff::app::main(cli),
        Err(e) => {
            // --help and --version are answers, not errors; a bad flag or
            // setting value is a configuration error (design.md: 78).
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(handoff::exit::CONFIG)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
