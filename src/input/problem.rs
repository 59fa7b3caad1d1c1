//! Why a row is not sent, in words a dispatcher can act on. The reader
//! finds the shape problems (a ragged row) and validation the value
//! problems; both speak this one vocabulary, so it lives with the first
//! stage that needs it and the summary can count them together.

use std::fmt;

use super::Field;

/// What makes a row unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowProblem {
    /// `None` when the problem is the row's shape, not one field.
    pub field: Option<Field>,
    pub kind: ProblemKind,
    /// A full sentence naming the field and what to do; it goes verbatim
    /// into the report's reason column.
    pub message: String,
}

/// The class of a [`RowProblem`], stable for machines (report column,
/// summary counts) while the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    Missing,
    BadPhone,
    BodyTooLong,
    EmptyAfterCleaning,
    RaggedRow,
    /// A phone starting with 0 and no `--default-country` to read it with.
    NationalPhone,
    /// A phone Excel wrote in scientific notation (digits lost).
    ExcelScientific,
    /// A quote that opens a value and is never closed.
    UnclosedQuote,
    /// A NUL, ESC or other control character in a value.
    ControlCharacter,
    /// A phone that reads as two different numbers (international digits
    /// and a national number of the row's country).
    AmbiguousPhone,
    /// A country cell that names no region or calling code.
    BadCountry,
    /// A partner id the partners file does not know.
    UnknownPartner,
    /// A partner the partners file knows with no usable phone, and none in
    /// the export.
    NoContact,
    /// A partners file's role that is neither primary nor backup.
    BadRole,
    /// A partners file's language that is no template language code.
    BadLanguage,
    /// A partners file's opt-out cell that says neither yes nor no.
    BadOptOut,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::BadPhone => "bad_phone",
            ProblemKind::BodyTooLong => "body_too_long",
            ProblemKind::EmptyAfterCleaning => "empty_after_cleaning",
            ProblemKind::RaggedRow => "ragged_row",
            ProblemKind::NationalPhone => "national_phone",
            ProblemKind::ExcelScientific => "excel_scientific",
            ProblemKind::UnclosedQuote => "unclosed_quote",
            ProblemKind::ControlCharacter => "control_character",
            ProblemKind::AmbiguousPhone => "ambiguous_phone",
            ProblemKind::BadCountry => "bad_country",
            ProblemKind::UnknownPartner => "unknown_partner",
            ProblemKind::NoContact => "no_contact",
            ProblemKind::BadRole => "bad_role",
            ProblemKind::BadLanguage => "bad_language",
            ProblemKind::BadOptOut => "bad_opt_out",
        }
    }
}

/// Problems counted by kind over a whole file, for the summary printed at
/// the end of `handoff run` and `--dry-run`: a dispatcher fixing the export
/// wants "412 phones in scientific notation" before the first of 412 rows.
#[derive(Debug, Clone, Default)]
pub struct ProblemSummary {
    file: String,
    /// Kind name → (count, the first occurrence's line and message).
    kinds: std::collections::BTreeMap<&'static str, (u64, u64, String)>,
}

impl ProblemSummary {
    /// `file` is how the user knows the input (its file name).
    pub fn new(file: impl Into<String>) -> Self {
        ProblemSummary {
            file: file.into(),
            kinds: Default::default(),
        }
    }

    /// Counts a problem of the row starting at `line`.
    pub fn add(&mut self, line: u64, p: &RowProblem) {
        self.add_kind(p.kind.name(), line, &p.message);
    }

    /// Counts a row that is a duplicate of an earlier one.
    pub fn add_duplicate(&mut self, line: u64, message: &str) {
        self.add_kind("duplicate", line, message);
    }

    fn add_kind(&mut self, kind: &'static str, line: u64, message: &str) {
        self.kinds
            .entry(kind)
            .and_modify(|e| e.0 += 1)
            .or_insert_with(|| (1, line, message.to_string()));
    }

    /// Rows with a problem.
    pub fn total(&self) -> u64 {
        self.kinds.values().map(|e| e.0).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

impl fmt::Display for ProblemSummary {
    /// Nothing when there were no problems; else one line per kind, most
    /// frequent first, each with the first row it happened in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kinds.is_empty() {
            return Ok(());
        }
        let total = self.total();
        writeln!(
            f,
            "Problems in {}: {total} row{} will not be sent",
            self.file,
            if total == 1 { "" } else { "s" }
        )?;
        let mut kinds: Vec<_> = self.kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        for (kind, (count, line, message)) in kinds {
            writeln!(
                f,
                "  {kind:<20} {count:>8}  first at line {line}: {message}"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_summary_counts_by_kind() {
        let mut s = ProblemSummary::new("orders.csv");
        assert!(s.is_empty());
        assert_eq!(s.to_string(), "");
        let p = |kind| RowProblem {
            field: None,
            kind,
            message: format!("{} here", kind.name()),
        };
        s.add(3, &p(ProblemKind::BadPhone));
        s.add(5, &p(ProblemKind::RaggedRow));
        s.add(9, &p(ProblemKind::BadPhone));
        s.add_duplicate(12, "row 10 repeats order A of row 1");
        assert_eq!(s.total(), 4);
        // Rows with problems of each kind (`bad_phone`, `duplicate`…).
        assert_eq!(s.kinds["bad_phone"].0, 2);
        assert_eq!(s.kinds["duplicate"].0, 1);
        let text = s.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Problems in orders.csv: 4 rows will not be sent");
        assert!(lines[1].starts_with("  bad_phone"), "{text}");
        assert!(
            lines[1].ends_with("2  first at line 3: bad_phone here"),
            "{text}"
        );
        assert_eq!(lines.len(), 4, "{text}");
    }

    #[test]
    fn ragged_row_kind_has_a_name() {
        assert_eq!(ProblemKind::RaggedRow.name(), "ragged_row");
        assert_eq!(ProblemKind::BodyTooLong.name(), "body_too_long");
    }
}
