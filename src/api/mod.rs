//! The 1MSG API: its wire types (shared with the simulator) and our client.

pub mod client;
pub mod wire;
