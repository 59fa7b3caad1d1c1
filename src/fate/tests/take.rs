//! What a rerun's file asks of each row ([`take`]): asked for again, or
//! held with what it shows, as a table.

use super::rerun::{Asked, Held, take};
use super::*;
use crate::ledger::SendClass;

fn asked<'a>(selected: &'a [Outcome], resend_unknown: bool, force: bool) -> Asked<'a> {
    Asked {
        selected,
        resend_unknown,
        force,
        now: Utc::now(),
    }
}

const RESENDABLE: [Outcome; 5] = crate::report::read_back::RESENDABLE;

/// A rerun row: its file outcome, its delivery when valid, its order's
/// facts, what was asked, and how the rerun takes it.
type Case<'a> = (
    Option<Outcome>,
    Option<&'a Delivery>,
    Known,
    Asked<'a>,
    Took,
);

/// How the rerun takes a row, as the table says it: `Ok` asked for again
/// (with its note), `Err` held with its outcome, why, and what it shows
/// ([`MESSAGE`], [`ATTEMPT`] or [`FILE`]).
type Took = Result<Option<String>, (Outcome, Option<String>, &'static str)>;

const MESSAGE: &str = "the order's message";
const ATTEMPT: &str = "the send in doubt";
const FILE: &str = "the file";

/// What [`take`] decided, as the table says it.
fn took(r: Result<Option<String>, Held<'_>>) -> Took {
    r.map_err(|h| {
        let shows = match h.sent.map(|s| s.what) {
            Some(w) if w.starts_with("the message") => MESSAGE,
            Some(_) => ATTEMPT,
            None => FILE,
        };
        (h.outcome, h.why, shows)
    })
}

#[test]
fn what_a_rerun_file_asks_of_each_row() {
    let same = delivery("491510000001", "Lamp");
    let fixed = delivery("491510000009", "Lamp");
    let mut opted_out = known("failed");
    if let Some(m) = opted_out.message.as_mut() {
        m.error_code = Some(131_050);
    }
    let with_last = |mut k: Known, a: AttemptInfo| {
        k.last = Some(a);
        k
    };
    let held = |o| Err((o, None, MESSAGE));
    use Outcome::*;
    #[rustfmt::skip]
    let table: Vec<Case<'_>> = vec![
        // A failed message goes again when selected and its data changed,
        // or its code may pass; an opted-out one with the same data only
        // with --force.
        (Some(Failed),    Some(&same),  known("failed"), asked(&RESENDABLE, false, false), Ok(None)),
        (Some(Failed),    Some(&fixed), opted_out.clone(), asked(&RESENDABLE, false, false), Ok(None)),
        (Some(Failed),    None,         opted_out.clone(), asked(&RESENDABLE, false, false), Ok(None)),
        (Some(Failed),    Some(&same),  known("failed"), asked(&[Rejected], false, false), held(Failed)),
        // A message that did not fail is held, whatever the file says.
        (Some(Skipped),   Some(&fixed), known("read"),   asked(&RESENDABLE, false, true),  held(Skipped)),
        (Some(Delivered), None,         known("delivered"), asked(&RESENDABLE, false, false), held(Delivered)),
        // No message: the file's outcome decides; an unreadable one holds.
        (None,            Some(&same),  known("nothing"), asked(&RESENDABLE, false, false), Err((Unknown, None, FILE))),
        (Some(Invalid),   None,         known("nothing"), asked(&[Invalid], false, false),  Ok(None)),
        (Some(Rejected),  None,         known("nothing"), asked(&[Invalid], false, false),  Err((Rejected, None, FILE))),
        // `unknown`: held with its attempt's data, unless --resend-unknown
        // asks for it; then it is decided as a doubt (looked up first).
        (Some(Unknown),   None,         with_last(known("in doubt"), attempt(true, None)), asked(&RESENDABLE, false, false),
            Err((Unknown, None, ATTEMPT))),
        (Some(Unknown),   None,         known("nothing"), asked(&RESENDABLE, false, false), Err((Unknown, None, FILE))),
        (Some(Unknown),   None,         with_last(known("in doubt"), attempt(true, None)), asked(&RESENDABLE, true, false),
            Ok(None)),
        (Some(Unknown),   None,         known("delivered"), asked(&RESENDABLE, true, false), held(Unknown)),
        // The failed message's own attempt (before it was accepted) is no
        // doubt about a later send.
        (Some(Failed),    Some(&same),  with_last(known("failed"), attempt(false, None)), asked(&RESENDABLE, false, false),
            Ok(None)),
    ];
    for (i, (outcome, valid, facts, asked, want)) in table.into_iter().enumerate() {
        assert_eq!(
            took(take(outcome, valid, &facts, asked)),
            want,
            "case {i}: {outcome:?}"
        );
    }
}

#[test]
fn an_opted_out_row_is_held_unless_forced_and_says_why() {
    let same = delivery("491510000001", "Lamp");
    let mut k = known("failed");
    if let Some(m) = k.message.as_mut() {
        m.error_code = Some(131_050);
    }
    let Err((Outcome::Failed, Some(why), MESSAGE)) = took(take(
        Some(Outcome::Failed),
        Some(&same),
        &k,
        asked(&RESENDABLE, false, false),
    )) else {
        panic!("held");
    };
    assert!(
        why.starts_with("not sent again:") && why.contains("131050"),
        "{why}"
    );
    let Ok(Some(note)) = take(
        Some(Outcome::Failed),
        Some(&same),
        &k,
        asked(&RESENDABLE, false, true),
    ) else {
        panic!("--force sends");
    };
    assert!(note.contains("--force"), "{note}");
}

#[test]
fn a_failed_message_whose_resend_is_in_doubt_is_held_even_with_force() {
    let same = delivery("491510000001", "Lamp");
    for result in [None, Some(SendClass::UNSAID)] {
        let mut k = known("failed");
        k.last = Some(attempt(true, result.clone()));
        let Err((Outcome::Unknown, Some(why), ATTEMPT)) = took(take(
            Some(Outcome::Failed),
            Some(&same),
            &k,
            asked(&RESENDABLE, true, true),
        )) else {
            panic!("held as unknown: {result:?}");
        };
        assert!(why.contains("run 2, attempt 1"), "{why}");
    }
}
