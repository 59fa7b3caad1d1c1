//! How values are stored: times as sortable RFC 3339 strings and template parameters as JSON,
//! in one place so every query reads back what the others wrote.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Row;
use rusqlite::types::Type;

use super::LedgerError;

/// Formats a time the way the ledger stores it.
pub(super) fn ts(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a stored time column.
pub(super) fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = row.get(idx)?;
    parse_ts(&s, idx)
}

/// Reads a nullable stored time column.
pub(super) fn get_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| parse_ts(&s, idx)).transpose()
}

fn parse_ts(s: &str, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// Reads a nullable JSON array of strings (template parameters).
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
