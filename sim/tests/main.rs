//! One integration-test binary: the simulator over real HTTP on loopback,
//! driven from outside as `handoff` and the vendor's SDK drive it.

mod api;
mod health;
mod memory;
mod sdk;
mod util;
mod variants;
