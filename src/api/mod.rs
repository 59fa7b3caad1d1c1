//! The 1MSG API: its wire types (shared with the simulator) and our client.

mod classify;
pub mod client;
mod token;
pub mod wire;
