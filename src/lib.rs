//! `handoff` reads a TMS/OMS export of deliveries to partner pickup points,
//! sends each partner contact a WhatsApp template message through the 1MSG
//! API, tracks every message to a final status, and writes a reconciliation
//! CSV that matches each input row to its wamid and outcome.
//!
//! ```text
//! deliveries.csv ─► input ─► ledger ─► send ─► track ─► report ─► reconciliation.csv
//! ```
//!
//! `sim` is a faithful local 1MSG API that every test runs against.

pub mod cli;
pub mod crash;
pub mod duration;
pub mod exit;

pub mod delivery;
pub mod input;
pub mod ledger;

pub mod api;
pub mod logging;
pub mod pace;
pub mod progress;
pub mod recorder;
pub mod report;
pub mod send;
pub mod signal;
pub mod track;
pub mod window;

pub mod app;
pub mod commands;

pub mod error;
pub mod ingest;

pub mod settle;
pub mod sim;
