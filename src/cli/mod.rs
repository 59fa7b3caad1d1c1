//! The command line in two stages (ripgrep's flags → HiArgs): `args` is
//! clap only, what was typed; `settings` puts a settings file's values in
//! front of the flags so clap checks both alike; `config` turns the
//! connection flags into a ready target and client. The stages below the
//! commands get settings structs of their own, never clap's.

mod args;
mod command;
mod command_args;
pub(crate) mod config;
mod ledger_args;
mod lifecycle_args;
pub mod man;
pub mod settings;
mod webhook_args;

pub use args::*;
pub use command::*;
pub use command_args::*;
pub use ledger_args::*;
pub use lifecycle_args::*;
pub use webhook_args::*;

/// `--color`: whether text log lines carry ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set (no-color.org).
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour stderr now.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}
