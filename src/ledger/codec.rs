//! How values are stored: times as integer milliseconds since the Unix epoch and template
//! parameters as JSON, in one place so every query reads back what the others wrote.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use rusqlite::Row;
use rusqlite::types::Type;

use super::LedgerError;

/// Formats a time the way the ledger stores it: milliseconds since the epoch, UTC. An integer
/// takes 6 bytes where the RFC 3339 text took 24, and still sorts in time order (BENCHMARKS.md,
/// "Ledger size").
pub(super) fn ts(at: &DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A time as people read it (and as the ledger stored it before schema 11): RFC 3339 UTC with
/// milliseconds.
pub(super) fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a stored time column.
pub(super) fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let ms: i64 = row.get(idx)?;
    from_ms(ms, idx)
}

/// Reads a nullable stored time column.
pub(super) fn get_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let ms: Option<i64> = row.get(idx)?;
    ms.map(|ms| from_ms(ms, idx)).transpose()
}

fn from_ms(ms: i64, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or(rusqlite::Error::IntegralValueOutOfRange(idx, ms))
}

/// Reads a nullable JSON array of strings (template parameters, a run's kept headers).
pub(super) fn get_params(row: &Row<'_>, idx: usize) -> rusqlite::Result<Vec<String>> {
    let s: Option<String> = row.get(idx)?;
    match s {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str(&s)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))),
    }
}

pub(super) fn encode_params(params: &[String]) -> Result<String, LedgerError> {
    serde_json::to_string(params).map_err(LedgerError::Params)
}
