//! The 1MSG API: what we send (shared with the simulator), our client, and
//! the lenient reading of every answer.

pub(crate) mod classify;
pub(crate) mod client;
mod detail;
pub(crate) mod history;
pub(crate) mod hooks;
pub(crate) mod loose;
pub(crate) mod reads;
pub(crate) mod templates;
mod token;
pub(crate) mod webhook;
pub(crate) mod wire;
