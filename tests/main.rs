//! One integration-test binary: the real `handoff` binary against the
//! simulator (the `handoff-sim` crate, which tests itself in `sim/tests`),
//! over real HTTP on loopback; and `layout`, the source's own import rules.

mod bad_input;
mod bad_input_corpus;
mod binary;
mod cells;
mod channels;
mod cost;
mod deploy;
mod edges;
mod fate;
mod finance;
mod health;
mod help;
mod input;
mod layout;
mod ledger_commands;
mod lifecycle;
mod ops;
mod partners;
mod people;
mod phones;
mod reading;
mod rerun_rules;
mod resume;
mod run;
mod simulate;
mod spreadsheets;
mod unattended;
mod util;
mod variants;
mod variants_send;
mod variants_track;
mod webhook;
