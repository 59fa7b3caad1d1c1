//! The command line in two stages (ripgrep's flags → HiArgs): `args` is
//! clap only, what was typed; `settings` puts a settings file's values in
//! front of the flags so clap checks both alike; `config` turns the
//! connection flags into a ready target and client. The stages below the
//! commands get settings structs of their own, never clap's.

mod args;
pub(crate) mod config;
pub mod settings;
mod sim_args;
mod webhook_args;

pub use args::*;
pub use sim_args::*;
pub use webhook_args::*;
