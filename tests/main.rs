//! One integration-test binary: the real `handoff` binary and the
//! simulator, over real HTTP on loopback.

mod binary;
mod input;
mod ops;
mod resume;
mod run;
mod sdk;
mod sim;
mod util;
