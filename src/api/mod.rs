//! The 1MSG API: its wire types (shared with the simulator) and our client.

mod classify;
pub(crate) mod client;
mod token;
pub(crate) mod wire;
