//! `handoff` reads a TMS/OMS export of deliveries to partner pickup points,
//! sends each partner contact a WhatsApp template message through the 1MSG
//! API, tracks every message to a final status, and writes a reconciliation
//! CSV that matches each input row to its wamid and outcome.
//!
//! The modules below are listed in the order the data flows through them:
//!
//! ```text
//! deliveries.csv
//!   │ input       decode, sniff the delimiter, map headers → raw rows
//!   │ delivery    validate, normalise phones, clean text → deliveries or row problems
//!   │ ingest      each row's facts from the ledger (an earlier row, a message,
//!   │             doubts) → fate decides: invalid, duplicate, reused, send,
//!   │             look up, held → recorded rows (the dry run records nothing)
//!   ▼
//! ledger ◄─── recorder   SQLite (WAL), the one source of truth; the recorder is
//!   │                    its single writer, on a thread of its own
//!   │ settle      earlier runs' doubts, looked up in 1MSG's message history;
//!   │             fate decides what each finding makes of them
//!   ▼
//! send ──wamid──► track  side by side: send paces (pace) and retries; track
//!   │               │    polls hookInfo from the first wamid on
//!   │ settle        │    this run's doubts: proved unsent → sent once more
//!   ▼               ▼
//! report          one row per input row, in input order, its outcome fate's
//!                 → reconciliation.csv, the workbook and the metrics; exit
//!                 picks the code
//! ```
//!
//! Around the stages: `cli` (flags, the settings file, the target), `app`
//! and `commands` (one file per command, wiring the stages), `api` (the
//! 1MSG wire types and client), `signal` (Ctrl-C, SIGTERM, the sending
//! window), `error` and `exit` (how a command ends).
//!
//! Beside the product, not in it: the `handoff-sim` crate (`sim/` in this
//! workspace), a faithful local 1MSG API that every test runs against and
//! that `handoff simulate` and `run --simulate` start. It depends on
//! nothing of this crate.
//!
//! Only what the binary, the tests, the benchmarks and the fuzz targets
//! use is `pub`; the rest is the crate's own.

// The edge: flags, dispatch, the commands.
pub mod cli;

pub mod app;

mod commands;

// The stages, in the order the data flows.
pub mod input;

pub mod delivery;

mod ingest;

mod fate;

pub mod ledger;

mod recorder;

mod settle;

mod pace;

mod send;

mod track;

mod webhook;

mod report;

// Around the stages.
mod api;
mod codes;
mod crash;
mod duration;
pub mod error;
pub mod exit;
mod logging;
mod progress;
mod signal;
mod window;
