//! A row's fate, decided in one place. Every command that reads rows
//! (`run`, `rerun`, and both of their dry runs) gathers the same typed
//! facts about each row's order from the ledger ([`Known`]) and asks
//! [`decide`] what becomes of it, so a preview says what the run does and a
//! rerun decides as a run would. A rerun's file first says what the person
//! asks of each row ([`rerun::take`]), from the file's outcome, the
//! selection and the ledger; then the row is decided like any other.
//!
//! Nothing here reads text written for people: the facts are the ledger's
//! typed records, and the sentences the report shows are made from the
//! decision ([`Fate::reason`], [`Fate::note`]), never the other way round.

pub(crate) mod budget;
pub(crate) mod doubt;
pub(crate) mod fallback;
pub(crate) mod outcome;
pub(crate) mod rerun;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::delivery::Delivery;
use crate::input::echo;
use crate::ledger::{AttemptInfo, Doubt, MessageInfo, Status, Suppression, Verdict};

pub(crate) use budget::Budget;
pub(crate) use doubt::{Finding, Policy};
pub(crate) use outcome::Outcome;

/// What a command asks of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    /// `run`: send, unless its order was sent before.
    Send,
    /// `rerun`, a row the person asked for again: send, unless sent
    /// before, and send again when the earlier message failed.
    Again,
    /// `rerun`, a row not asked for (or held by the resend rule): never
    /// sent; what the ledger knows of its order, else the file's outcome.
    Hold(Outcome),
}

/// What the ledger holds for a row's order when the row is decided.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// The first row of this file with the same order key, when this row
    /// is not that first one.
    pub first_row: Option<u64>,
    /// The order's latest accepted message, on any real channel.
    pub message: Option<MessageInfo>,
    /// The order's latest attempt, answered or not (a rerun's file asks
    /// about it).
    pub last: Option<AttemptInfo>,
    /// Sends of the order that may or may not have been accepted, and that
    /// no accepted message came from or after (a send to the partner's next
    /// contact may follow a message that failed).
    pub doubts: Vec<Doubt>,
    /// The phones of the row's partner's contacts (`--partners`): a message
    /// the order sent to any of them went to the partner (a fallback), so
    /// the row's phone is no change against it.
    pub contacts: Vec<String>,
    /// An attempt of the order was once in doubt, settled since or not: what
    /// its message does later proves nothing a fallback may follow.
    pub was_in_doubt: bool,
}

impl Known {
    /// Whether the API said the order's message failed, for good.
    pub(crate) fn failed(&self) -> bool {
        self.message.as_ref().is_some_and(failed)
    }
}

/// Whether the API said a message failed, for good.
pub(crate) fn failed(m: &MessageInfo) -> bool {
    m.is_final && m.status.as_deref().map(Status::of) == Some(Status::Failed)
}

/// What becomes of a row before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The row failed validation: never sent.
    Invalid,
    /// An earlier row of the file has its order key: never sent twice.
    Duplicate { first_row: u64 },
    /// Its order's message stands (an earlier run's, or one a rerun holds):
    /// reported, and tracked while it is not final. `changed` lists what
    /// the row changed since, not sent.
    Reused {
        wamid: String,
        open: bool,
        changed: Vec<String>,
    },
    /// Sent in this run. `replaces`: the earlier message it follows, which
    /// failed (`changes` empty) or was accepted with other data and
    /// `--resend-changed` asked for the corrected message.
    Send {
        replaces: Option<String>,
        changes: Vec<String>,
    },
    /// An earlier send of the order may have been accepted: it is looked
    /// up in the message history before anything is sent ([`crate::settle`]),
    /// and then decided ([`doubt::looked_up`]).
    LookUp,
    /// Looked up, and still in doubt: never sent automatically; `reason`
    /// says why, for a person, and `again` whether a later look-up may
    /// still settle it.
    Unknown { reason: String, again: bool },
    /// A rerun row that was not asked for and whose order has no message:
    /// the file's outcome stands.
    NotSelected(Outcome),
    /// Would be sent, but its phone would be a new recipient beyond the
    /// daily budget (`--daily-recipients`, [`budget`]): `skipped`, for a
    /// later run.
    OverBudget { limit: usize },
    /// Would be sent, but its phone is suppressed: the partner refused our
    /// messages, or a person said so (`handoff suppressions`).
    Suppressed(Suppression),
    /// Sent in this run to the partner's next contact `to`: the order's
    /// message to the contact before cannot arrive (`after`), and no run
    /// has written to `to` about it (`--fallback backup`, [`fallback`]).
    Fallback {
        after: fallback::Proof,
        to: crate::delivery::Contact,
    },
}

/// Decides a row: `valid` is its delivery when it passed validation (a
/// held row is not judged by its cells: it is never sent).
pub(crate) fn decide(
    ask: Ask,
    valid: Option<&Delivery>,
    known: &Known,
    resend_changed: bool,
) -> Fate {
    if let Some(first_row) = known.first_row {
        return Fate::Duplicate { first_row };
    }
    if let Ask::Hold(outcome) = ask {
        return match &known.message {
            Some(m) => reused(m, Vec::new()),
            None => Fate::NotSelected(outcome),
        };
    }
    let Some(d) = valid else {
        return Fate::Invalid;
    };
    match &known.message {
        _ if !known.doubts.is_empty() => Fate::LookUp,
        Some(m) if ask == Ask::Again && failed(m) => Fate::Send {
            replaces: Some(m.wamid.clone()),
            changes: Vec::new(),
        },
        Some(m) => {
            let changes = changes(m, d, &known.contacts);
            if changes.is_empty() || !resend_changed {
                reused(m, changes)
            } else {
                Fate::Send {
                    replaces: Some(m.wamid.clone()),
                    changes,
                }
            }
        }
        None => Fate::send(),
    }
}

fn reused(m: &MessageInfo, changed: Vec<String>) -> Fate {
    Fate::Reused {
        wamid: m.wamid.clone(),
        open: !m.is_final,
        changed,
    }
}

/// What changed between the message already accepted for an order and this
/// row, if anything.
fn changes(earlier: &MessageInfo, d: &Delivery, contacts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(phone) = earlier.phone.as_deref()
        && phone != d.phone
        && !contacts.iter().any(|c| c == phone)
    {
        // Both are normalised digits (the earlier one as the ledger kept it).
        out.push(format!("phone {phone} → {}", d.phone));
    }
    let names = [
        "partner_name",
        "order_number",
        "product_name",
        "delivery_note",
    ];
    for ((name, old), new) in names.iter().zip(&earlier.params).zip(d.params()) {
        if old != new {
            out.push(format!("{name} {} → {}", echo(old), echo(new)));
        }
    }
    out
}

/// The problem class a row not asked for by a rerun is recorded with, so
/// the report tells it from a row a stopped run skipped without reading
/// its reason.
pub(crate) const NOT_SELECTED: &str = "not_selected";

/// The problem class of a row the daily budget held back.
pub(crate) const OVER_BUDGET: &str = "daily_budget";

/// The problem class of a row whose phone is suppressed.
pub(crate) const SUPPRESSED: &str = "suppressed";

/// What holds back a row a command would send, whatever its order: the
/// phones suppressed, and the daily budget. Read from the ledger once per
/// command; clones share the budget.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    pub suppressed: Arc<HashMap<String, Suppression>>,
    pub budget: Option<Budget>,
}

/// Holds back a row the command would send (or fall back with, `valid`
/// then holding the next contact's phone) to a suppressed phone or to a
/// phone beyond the daily budget; every other fate stands. A doubt is
/// never held: its earlier send may have been accepted, and only the
/// look-up can say (a held doubt would report `skipped` for an order the
/// partner may have). It takes its place in the budget all the same.
pub(crate) fn within(fate: Fate, valid: Option<&Delivery>, limits: &Limits) -> Fate {
    let Some(d) = valid else { return fate };
    let suppressed = limits.suppressed.get(&d.phone);
    match (&fate, suppressed, &limits.budget) {
        (Fate::Send { .. } | Fate::Fallback { .. }, Some(s), _) => Fate::Suppressed(s.clone()),
        (Fate::Send { .. } | Fate::Fallback { .. }, _, Some(b)) if !b.admit(&d.phone) => {
            Fate::OverBudget {
                limit: b.counts().0,
            }
        }
        (Fate::LookUp, _, Some(b)) => {
            b.admit(&d.phone);
            fate
        }
        _ => fate,
    }
}

impl Fate {
    /// The verdict the ledger records for the row.
    pub(crate) fn verdict(&self) -> Verdict {
        match self {
            Fate::Invalid => Verdict::Invalid,
            Fate::Duplicate { .. } => Verdict::Duplicate,
            Fate::Reused { .. } => Verdict::Reused,
            Fate::Send { .. } | Fate::Fallback { .. } => Verdict::Send,
            Fate::LookUp | Fate::Unknown { .. } => Verdict::Unknown,
            Fate::NotSelected(Outcome::Duplicate) => Verdict::Duplicate,
            Fate::NotSelected(Outcome::Unknown) => Verdict::Unknown,
            Fate::NotSelected(_) | Fate::OverBudget { .. } | Fate::Suppressed(_) => {
                Verdict::Skipped
            }
        }
    }

    /// The problem class the row is recorded with, so the report tells a
    /// held row from one a stopped run skipped without reading its reason.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        match self {
            Fate::NotSelected(_) => Some(NOT_SELECTED),
            Fate::OverBudget { .. } => Some(OVER_BUDGET),
            Fate::Suppressed(_) => Some(SUPPRESSED),
            _ => None,
        }
    }

    /// Why the row is not sent as it is, for people (the report's detail,
    /// the dry run's list); `line` and `key` place it.
    pub(crate) fn reason(&self, line: u64, key: &str) -> Option<String> {
        match self {
            Fate::Duplicate { first_row } => Some(format!(
                "line {line}: {}",
                duplicate_reason(key, *first_row)
            )),
            Fate::Reused { wamid, changed, .. } if !changed.is_empty() => Some(format!(
                "changed since {wamid} was accepted: {}; not resent (--resend-changed sends the corrected message)",
                changed.join(", ")
            )),
            Fate::NotSelected(outcome) => Some(format!(
                "not selected for this rerun (outcome `{}` in the file)",
                outcome.as_str()
            )),
            Fate::Unknown { reason, .. } => Some(reason.clone()),
            Fate::Suppressed(s) => Some(match &s.refused {
                Some((code, wamid)) => format!(
                    "not sent: the partner refused our messages (code {code}, message {wamid}) on \
                     {} UTC; `handoff suppressions remove +{}` once they accept them again",
                    s.since.format("%Y-%m-%d %H:%M"),
                    s.phone
                ),
                None => format!(
                    "not sent: the phone was suppressed by hand on {} UTC \
                     (`handoff suppressions remove +{}` lifts it)",
                    s.since.format("%Y-%m-%d %H:%M"),
                    s.phone
                ),
            }),
            Fate::OverBudget { limit } => Some(format!(
                "not sent: {limit} partners were messaged in the last 24 hours, the daily budget \
                 (--daily-recipients {limit}); a later run sends it"
            )),
            _ => None,
        }
    }

    /// What the row's notes say about a send that follows another message.
    pub(crate) fn note(&self) -> Option<String> {
        if let Fate::Fallback { after, to } = self {
            return Some(format!(
                "{}; written to the {} instead",
                after.said(),
                to.label
            ));
        }
        let Fate::Send {
            replaces: Some(wamid),
            changes,
        } = self
        else {
            return None;
        };
        Some(match changes.is_empty() {
            true => format!("sent again: the earlier message {wamid} failed"),
            false => format!(
                "resent with changed data ({}); replaces {wamid}",
                changes.join(", ")
            ),
        })
    }
}

/// Why a row whose order number an earlier row of the file has is not
/// sent; one wording for the report, the dry run and the problems block.
pub(crate) fn duplicate_reason(key: &str, first_row: u64) -> String {
    format!("order number `{key}` already appears in row {first_row}; not sent twice")
}
