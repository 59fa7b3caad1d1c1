//! A doubt, decided: what becomes of an order whose send may or may not
//! have been accepted, once the message history (or `hookInfo`) has been
//! asked about it. The look-up is [`crate::settle`]'s; what it found is a
//! [`Finding`], and the decision is made here, where every other fate is:
//! found (track it), proved unsent (send it; only when the operator says the
//! history is complete, `--history-proves-absence`, and never for a send
//! the API accepted), or still in doubt (`unknown`, with a reason a person
//! can act on). A message is sent again only on proof that the earlier one
//! was not accepted, or when a person says so (`--resend-unknown`).

use chrono::{DateTime, Utc};

use super::Fate;
use crate::ledger::{Doubt, Taken, Verdict};

/// What the history (or `hookInfo`) says about one doubtful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// The message was sent: its wamid and time.
    Sent { wamid: String, at: DateTime<Utc> },
    /// The history answered completely and holds no such message. Not a
    /// proof that nothing was sent: the history may lag, or not show an
    /// outgoing template's text.
    NotFound,
    /// The history holds this many outgoing messages of our template since
    /// the send whose text does not show the order number (the template's
    /// name, nothing): any of them may be this send, so absence is not
    /// proved, whatever the operator trusts.
    Hidden(usize),
    /// The channel keeps no history: nothing can be proved.
    NoHistory,
    /// The look-up failed or could not read everything; the text says which.
    Failed(String),
}

/// What the operator allowed a look-up to conclude.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `--resend-unknown`: send a doubt the history does not settle (the
    /// user decided a second message is better than none).
    pub resend_unknown: bool,
    /// `--history-proves-absence`: a history that answers without our
    /// message proves it was not sent (never for a send the API accepted).
    pub history_proves_absence: bool,
}

/// What an order's doubtful answers said about whether the API took the
/// send: the strongest claim among them (the ledger keeps each as a type).
pub(crate) fn taken(doubts: &[Doubt]) -> Taken {
    doubts
        .iter()
        .map(|d| d.taken().0)
        .max()
        .unwrap_or(Taken::Unsaid)
}

/// Decides an order in doubt after a look-up: `finding` is what the
/// history said, `doubts` the order's doubtful sends (their strongest
/// claim counts), `lookups` how many look-ups this command has made of it,
/// for the reason. No doubts left (settled meanwhile): nothing stands in
/// the way of a send.
pub(crate) fn looked_up(finding: Finding, doubts: &[Doubt], policy: Policy, lookups: u32) -> Fate {
    let Some(latest) = doubts.last() else {
        return Fate::send();
    };
    let taken = taken(doubts);
    if let Finding::Sent { wamid, .. } = finding {
        return Fate::Reused {
            wamid,
            open: true,
            changed: Vec::new(),
        };
    }
    if policy.resend_unknown
        || (finding == Finding::NotFound && policy.history_proves_absence && taken == Taken::Unsaid)
    {
        return Fate::send();
    }
    let what = latest
        .attempt
        .error_detail
        .as_deref()
        .unwrap_or("the process stopped before the answer was recorded");
    let (reason, again) = doubt_reason(&finding, what, taken, lookups);
    Fate::Unknown { reason, again }
}

impl Fate {
    /// A plain send: nothing earlier to replace.
    pub(crate) fn send() -> Fate {
        Fate::Send {
            replaces: None,
            changes: Vec::new(),
        }
    }

    /// What the row that holds an order in doubt records once the order is
    /// decided: its verdict and its reason. `earlier`: the doubt is an
    /// earlier run's, and the row waited as `unknown`; otherwise it is this
    /// run's own send, whose row keeps `send` and reports its attempt,
    /// whatever the look-up found.
    pub(crate) fn of_doubt(&self, earlier: bool) -> (Verdict, Option<String>) {
        let verdict = match earlier {
            true => self.verdict(),
            false => Verdict::Send,
        };
        let reason = match self {
            Fate::Reused { .. } => Some(FOUND.to_string()),
            // No duplicate is in doubt: its line and key say nothing.
            _ => self.reason(0, ""),
        };
        (verdict, reason)
    }
}

/// What the row of an order found in the history after its answer was
/// lost says.
const FOUND: &str = "an earlier send's answer was lost; found in 1MSG's message history";

/// The reason a doubt stays one, in words a person can act on, and whether
/// a later look-up may still settle it (the history answered without it,
/// or could not be read; not when the channel keeps no history).
fn doubt_reason(finding: &Finding, what: &str, taken: Taken, lookups: u32) -> (String, bool) {
    let head = match taken {
        Taken::WithoutId => format!("the API accepted it without telling its id ({what})"),
        Taken::NamedId => {
            format!("the API named a message id for it without saying it was sent ({what})")
        }
        Taken::Unsaid => format!("may or may not have been accepted ({what})"),
    };
    let accepted = taken != Taken::Unsaid;
    let times = match lookups {
        1 => "once".to_string(),
        n => format!("{n} times"),
    };
    let (found, again) = match finding {
        Finding::NotFound if accepted => (
            format!("looked up {times} in 1MSG's message history and not found there yet"),
            true,
        ),
        Finding::NotFound => (
            format!(
                "looked up {times} in 1MSG's message history and not found, which does not prove it was not sent (a history may be disabled, incomplete, paged or late)"
            ),
            true,
        ),
        Finding::Hidden(n) => (
            format!(
                "looked up {times} in 1MSG's message history, which holds {n} message(s) of our template to this partner since the send whose text does not show the order number, so it cannot tell whether one is this send"
            ),
            true,
        ),
        Finding::NoHistory => (
            "this channel keeps no message history to check".into(),
            false,
        ),
        Finding::Failed(e) => (
            format!("the message history could not be checked ({e}; looked up {times})"),
            true,
        ),
        // Not a doubt (decided as found); said truthfully anyway.
        Finding::Sent { wamid, .. } => {
            (format!("found in 1MSG's message history as {wamid}"), false)
        }
    };
    (
        format!(
            "{head}; {found}; never resent automatically: check the 1MSG cabinet, then `--resend-unknown` sends it"
        ),
        again,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{AttemptInfo, SendClass};

    /// An order's doubtful send whose answer was classified as `result`
    /// (`None`: never answered).
    fn doubtful(result: Option<SendClass>) -> Doubt {
        Doubt {
            attempt: AttemptInfo {
                language: None,
                attempt_id: 1,
                run_id: 1,
                order_key: "7".into(),
                attempt_no: 1,
                phone: "49".into(),
                params: Vec::new(),
                intent_at: chrono::Utc::now(),
                answered_at: None,
                result,
                http_status: None,
                error_code: None,
                error_detail: Some("whatever it said, in words".into()),
                wamid: None,
            },
        }
    }

    /// Of an order's doubts, the strongest claim that the API took the send
    /// counts; the ids they named are the hints. (What an answer claims is
    /// classified by the client, `api/classify/tests.rs`; what older
    /// ledgers' texts claimed, once, by the migration, `ledger/schema.rs`.)
    #[test]
    fn the_strongest_claim_of_an_orders_doubts_counts() {
        let said = |taken, id: Option<&str>| {
            doubtful(Some(SendClass::Ambiguous {
                taken,
                named_id: id.map(str::to_string),
            }))
        };
        let named = said(Taken::NamedId, Some("w"));
        assert_eq!(
            taken(&[said(Taken::Unsaid, None), named.clone()]),
            Taken::NamedId
        );
        assert_eq!(named.taken(), (Taken::NamedId, Some("w")));
        assert_eq!(
            taken(&[named, said(Taken::WithoutId, None)]),
            Taken::WithoutId
        );
        assert_eq!(taken(&[said(Taken::Unsaid, None)]), Taken::Unsaid);
        // An intent never answered said nothing.
        assert_eq!(doubtful(None).taken(), (Taken::Unsaid, None));
        assert_eq!(taken(&[]), Taken::Unsaid);
    }

    #[test]
    fn not_found_is_a_doubt_that_says_what_to_do() {
        let (reason, again) = doubt_reason(
            &Finding::NotFound,
            "Internal server error",
            Taken::Unsaid,
            3,
        );
        assert!(again);
        assert_eq!(
            reason,
            "may or may not have been accepted (Internal server error); looked up 3 times in 1MSG's message history and not found, which does not prove it was not sent (a history may be disabled, incomplete, paged or late); never resent automatically: check the 1MSG cabinet, then `--resend-unknown` sends it"
        );
        let (reason, again) = doubt_reason(&Finding::NotFound, "queued", Taken::WithoutId, 1);
        assert!(again);
        assert!(
            reason.starts_with(
                "the API accepted it without telling its id (queued); looked up once in 1MSG's message history and not found there yet;"
            ),
            "{reason}"
        );
        let (reason, again) = doubt_reason(&Finding::NoHistory, "x", Taken::Unsaid, 1);
        assert!(!again, "no history: nothing to look up again");
        assert!(reason.contains("keeps no message history"), "{reason}");
        let (_, again) = doubt_reason(&Finding::Failed("HTTP 502".into()), "x", Taken::Unsaid, 2);
        assert!(again, "a failed look-up may work next time");
    }

    /// Every finding against every policy and claim: a message is sent
    /// again only when the operator trusts an answered history that shows
    /// nothing and the API said nothing, or a person said so.
    #[test]
    fn a_doubt_is_sent_only_on_proof_or_a_persons_word() {
        let doubt = |taken| {
            doubtful(Some(SendClass::Ambiguous {
                taken,
                named_id: None,
            }))
        };
        let sent = Finding::Sent {
            wamid: "wamid.F".into(),
            at: chrono::Utc::now(),
        };
        let trusting = Policy {
            history_proves_absence: true,
            ..Policy::default()
        };
        let person = Policy {
            resend_unknown: true,
            ..Policy::default()
        };
        let send = Fate::send();
        // (finding, claim, policy, sent?)
        let table = [
            (Finding::NotFound, Taken::Unsaid, Policy::default(), false),
            (Finding::NotFound, Taken::Unsaid, trusting, true),
            (Finding::NotFound, Taken::NamedId, trusting, false),
            (Finding::NotFound, Taken::WithoutId, trusting, false),
            (Finding::NotFound, Taken::WithoutId, person, true),
            (Finding::Hidden(2), Taken::Unsaid, trusting, false),
            (Finding::NoHistory, Taken::Unsaid, trusting, false),
            (Finding::NoHistory, Taken::Unsaid, person, true),
            (
                Finding::Failed("502".into()),
                Taken::Unsaid,
                trusting,
                false,
            ),
        ];
        for (finding, taken, policy, sends) in table {
            let fate = looked_up(finding.clone(), &[doubt(taken)], policy, 1);
            assert_eq!(fate == send, sends, "{finding:?} {taken:?} {policy:?}");
            if !sends {
                assert!(matches!(fate, Fate::Unknown { .. }), "{fate:?}");
                assert_eq!(fate.of_doubt(true).0, Verdict::Unknown);
            }
            // This run's own send keeps its verdict whatever was decided.
            assert_eq!(fate.of_doubt(false).0, Verdict::Send);
        }
        // Found wins over every policy: tracked, never sent again.
        for policy in [Policy::default(), trusting, person] {
            let fate = looked_up(sent.clone(), &[doubt(Taken::Unsaid)], policy, 1);
            assert_eq!(
                fate,
                Fate::Reused {
                    wamid: "wamid.F".into(),
                    open: true,
                    changed: Vec::new()
                }
            );
            assert_eq!(fate.of_doubt(true), (Verdict::Reused, Some(FOUND.into())));
        }
        // Settled meanwhile: no doubt left stands in the way.
        assert_eq!(
            looked_up(Finding::NotFound, &[], Policy::default(), 1),
            send
        );
    }
}
