//! The `handoff` binary: parse the command line, run, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = handoff::cli::Cli::parse();
    handoff::app::main(cli)
}
