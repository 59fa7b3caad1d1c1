//! The file-level failures: whatever stops the whole file before anything
//! is sent, with the exit code each one maps to, kept apart from the row
//! problems that only skip a row.

use std::io;
use std::path::{Path, PathBuf};

use super::Field;
use super::echo::echo;
use super::sniff::Container;

/// A file-level failure: nothing in the file should be sent.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("failed to open {}: the file does not exist", .path.display())]
    NotFound { path: PathBuf },

    #[error("failed to read {}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "failed to decode {} at line {line}: {detail}; the file is not UTF-8 \
         and nothing was sent; {suggestion}",
        .path.display()
    )]
    Undecodable {
        path: PathBuf,
        line: u64,
        detail: String,
        /// What to pass, from a look at the bytes (chardetng): a hint, never
        /// acted on by itself.
        suggestion: String,
    },

    #[error(
        "failed to find {} in {}; the header has {}; rename the columns or \
         map them with --map FIELD=\"HEADER\" (e.g. --map {}=\"Your Header\")",
        describe_missing(.missing),
        .path.display(),
        describe_found(.found),
        .missing.first().map_or("partner_phone", |f| f.name())
    )]
    MissingColumns {
        path: PathBuf,
        missing: Vec<Field>,
        found: Vec<String>,
    },

    #[error("failed to read {}: the file is empty (no header line)", .path.display())]
    Empty { path: PathBuf },

    #[error(
        "failed to read {}: the file is {}; {}; nothing was sent",
        .path.display(),
        .container.describe(),
        .container.advice()
    )]
    NotText { path: PathBuf, container: Container },

    #[error(
        "failed to read {}: the quote at line {line}, character {column} of \
         the header is never closed, so the whole file would be read as the \
         header; close the quote and run again; nothing was sent",
        .path.display()
    )]
    UnclosedHeaderQuote {
        path: PathBuf,
        line: u64,
        column: u64,
    },

    #[error(
        "failed to read {}: in the header (line {line}), {}; nothing was sent",
        .path.display(),
        describe_competing(*.field, .columns, *.same_name)
    )]
    CompetingColumns {
        path: PathBuf,
        line: u64,
        field: Field,
        /// Index and header of each column.
        columns: [(usize, String); 2],
        /// Same name: only a column number (`--map FIELD=#N`) chooses.
        same_name: bool,
    },

    #[error(
        "failed to use encoding `{label}`: not a known encoding label; try \
         windows-1252, windows-1251, iso-8859-15 or utf-16le"
    )]
    UnknownEncoding { label: String },

    #[error("failed to read {} as a workbook: {detail}", .path.display())]
    Workbook { path: PathBuf, detail: String },

    #[error("failed to parse {} at line {line}: {source}", .path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
}

impl InputError {
    /// The process exit code (docs/exit-codes.md): 66 when the file cannot be read
    /// at all, 78 for a bad `--encoding` value (a configuration error), and
    /// 65 when the content is unusable.
    pub fn exit_code(&self) -> u8 {
        match self {
            InputError::NotFound { .. } | InputError::Unreadable { .. } => 66,
            InputError::UnknownEncoding { .. } => 78,
            _ => 65,
        }
    }
}

fn describe_missing(missing: &[Field]) -> String {
    let names: Vec<&str> = missing.iter().map(|f| f.name()).collect();
    match names.len() {
        1 => format!("the {} column", names[0]),
        _ => format!("the columns {}", names.join(", ")),
    }
}

/// At most this many header names are listed: a file whose "header" is a
/// 50 MB line of commas is not helped by the whole list.
const LISTED_COLUMNS: usize = 20;

fn describe_found(found: &[String]) -> String {
    if found.is_empty() {
        return "no columns".to_string();
    }
    let quoted: Vec<String> = found
        .iter()
        .take(LISTED_COLUMNS)
        .map(|h| {
            // A short header is quoted as before ("Tel"); a long one cut.
            if h.chars().nth(60).is_none() {
                format!("{h:?}")
            } else {
                echo(h)
            }
        })
        .collect();
    let more = match found.len().saturating_sub(LISTED_COLUMNS) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let n = found.len();
    let s = if n == 1 { "" } else { "s" };
    format!("{n} column{s} {}{more}", quoted.join(", "))
}

fn describe_competing(field: Field, columns: &[(usize, String); 2], same_name: bool) -> String {
    let [(a, ha), (b, hb)] = columns;
    let (a, b) = (a + 1, b + 1);
    if same_name {
        format!(
            "columns {a} and {b} are both named {ha:?}, and {field} could be \
             either; say which with --map {field}=#{a} or --map {field}=#{b} \
             (the column's number), or rename one of them"
        )
    } else {
        format!(
            "columns {ha:?} (column {a}) and {hb:?} (column {b}) could both be \
             {field}; say which one with --map {field}=\"{ha}\" or --map \
             {field}=\"{hb}\""
        )
    }
}

pub(super) fn unreadable(path: &Path, source: io::Error) -> InputError {
    InputError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
}

/// A file that cannot be opened: one that is not there is said so.
pub(super) fn unopened(path: &Path, e: io::Error) -> InputError {
    match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        _ => unreadable(path, e),
    }
}

pub(super) fn csv_error(path: &Path, line: u64, e: csv::Error) -> InputError {
    if let csv::ErrorKind::Io(io) = e.kind() {
        // Keep the io kind for callers; the csv error displays the io one.
        return unreadable(path, io::Error::new(io.kind(), e));
    }
    InputError::Csv {
        path: path.to_path_buf(),
        line,
        source: e,
    }
}
