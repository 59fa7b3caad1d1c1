//! Why a phone was refused, shared by the two ways a phone is read
//! (international digits in `phone`, a national number in `national`).

use crate::input::ProblemKind;

/// Why a phone was refused; the kind goes into the problem summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PhoneError {
    pub(super) kind: ProblemKind,
    pub(super) message: String,
}

pub(super) fn bad(message: String) -> PhoneError {
    PhoneError {
        kind: ProblemKind::BadPhone,
        message,
    }
}
