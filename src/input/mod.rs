//! Reading the nightly export: bytes on disk become a stream of [`RawRow`]s.
//!
//! This module owns everything about the file as a file: its encoding, its
//! delimiter, its header names and its physical line numbers. It does not
//! judge the values (that is [`crate::delivery::validate`]), so a bad value
//! in one row never stops the file, while a file we cannot read correctly
//! (missing columns, an encoding we would have to guess) stops before
//! anything is sent.
//!
//! The exports come from TMS/OMS systems and from Excel, and Excel is where
//! most surprises come from: a `;` delimiter in European locales, a `sep=;`
//! first line, a UTF-8 BOM, UTF-16 "Unicode text", or the machine's ANSI code
//! page. We never guess an encoding: a single-byte decoder never fails, so a
//! wrong guess would send mojibake to partners. A file that is not UTF-8 and
//! has no BOM needs `--encoding`.
//!
//! The reader streams: it keeps one record and a bounded peek of the start
//! of the file, so a large export costs no more memory than a small one.

mod competing;
mod controls;
mod delimiter;
mod echo;
mod encoding;
mod error;
mod export;
mod headers;
mod lines;
mod open;
mod problem;
#[cfg(test)]
mod props;
mod quotes;
mod reader;
mod row;
mod scan;
mod shape;
mod sniff;
#[cfg(test)]
mod test_support;
mod xlsx;

pub use echo::{echo, shorten_quoted};
pub(crate) use encoding::guess_encoding;
pub use error::InputError;
pub use export::Export;
pub use open::{InputOptions, from_reader, open};
pub use problem::{ProblemKind, ProblemSummary, RowProblem};
pub use reader::InputReader;
pub use row::{Field, Layout, Origin, RawFields, RawRow, UnknownField};
pub use sniff::{Container, sniff_container};
