//! Whether a rerun sends a `failed` row again. A failed message is proof
//! the partner did not get it, so sending again never messages anyone
//! twice; but sending the same data to an opted-out partner or a number
//! not on WhatsApp fails the same way every night, and each failure costs
//! the channel's quality rating. So a failed row goes again only when its
//! phone or text changed since the failed message, or its error code says
//! a second try may pass ([`crate::codes`]); `--force` overrides.

use chrono::{DateTime, Duration, Utc};

use crate::codes::{self, Retry};
use crate::delivery::Delivery;
use crate::ledger::MessageInfo;

/// What the rerun does with a failed row whose data is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resend {
    /// Send it; the note says why, when there is more to say than that
    /// the earlier message failed.
    Send(Option<String>),
    /// Do not send it; the note says why and what would.
    Hold(String),
}

/// What the rerun was asked, besides which outcomes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asked {
    /// `--force`: send an unchanged failed row whatever its code says.
    pub(super) force: bool,
    /// When the rerun runs (a code that may pass only a day later).
    pub(super) now: DateTime<Utc>,
}

/// The code's sentence, or one that names an unknown code.
fn why(code: i64) -> String {
    codes::lookup(code).map_or_else(|| codes::unknown_reason(code), |c| c.reason.to_string())
}

/// Decides about `d`, the row as the file has it now, against `failed`,
/// the message that failed. The comparison is with what the ledger says
/// was sent (normalised digits, cleaned texts), never with the report's
/// text, so a phone written another way is not a change.
pub(super) fn decide(d: &Delivery, failed: &MessageInfo, asked: Asked) -> Resend {
    let sent_params = failed.params.iter().map(String::as_str);
    let changed = failed.phone.as_deref() != Some(d.phone.as_str()) || !sent_params.eq(d.params());
    if changed {
        return Resend::Send(None);
    }
    let Some(code) = failed.error_code else {
        // No code to go by: the failure says nothing about a second try,
        // and the row was asked for.
        return Resend::Send(None);
    };
    let retry = codes::lookup(code).map_or(Retry::May, |c| c.retry);
    let held = |text: String| {
        if asked.force {
            Resend::Send(Some(format!(
                "sent again with --force, the data unchanged: {}",
                why(code)
            )))
        } else {
            Resend::Hold(text)
        }
    };
    match retry {
        Retry::May => Resend::Send(None),
        Retry::Never => held(format!(
            "not sent again: {} The phone and text are unchanged since {} failed (code {code}), \
             so it would fail the same way; correct the row, or rerun with --force to send it \
             anyway.",
            why(code),
            failed.wamid
        )),
        Retry::NotBefore(wait) => {
            let failed_at = failed.status_at.unwrap_or(failed.accepted_at);
            let from = Duration::from_std(wait)
                .ok()
                .and_then(|w| failed_at.checked_add_signed(w))
                .unwrap_or(failed_at);
            if asked.now >= from {
                return Resend::Send(None);
            }
            held(format!(
                "not sent again yet: {} A second try may pass from {} UTC on ({} failed with \
                 code {code}); rerun then, or with --force.",
                why(code),
                from.format("%Y-%m-%d %H:%M"),
                failed.wamid
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(phone: &str, product: &str) -> Delivery {
        Delivery {
            order_key: "R-1".into(),
            partner_name: "Ada".into(),
            phone: phone.into(),
            order_number: "R-1".into(),
            product_name: product.into(),
            delivery_note: "Thanks".into(),
            notes: Vec::new(),
        }
    }

    fn failed(code: Option<i64>, at: DateTime<Utc>) -> MessageInfo {
        MessageInfo {
            wamid: "wamid.F".into(),
            order_key: "R-1".into(),
            run_id: 1,
            attempt_id: None,
            phone: Some("15550200001".into()),
            params: ["Ada", "R-1", "Lamp", "Thanks"].map(String::from).to_vec(),
            accepted_at: at,
            status: Some("failed".into()),
            status_at: Some(at),
            error_code: code,
            error_title: None,
            is_final: true,
            polls: 0,
        }
    }

    fn asked(force: bool, now: DateTime<Utc>) -> Asked {
        Asked { force, now }
    }

    #[test]
    fn a_permanent_failure_with_the_same_data_is_held_unless_forced() {
        let now = Utc::now();
        for code in [131_050, 131_026] {
            let m = failed(Some(code), now);
            let same = delivery("15550200001", "Lamp");
            let Resend::Hold(note) = decide(&same, &m, asked(false, now)) else {
                panic!("{code} sent again unchanged");
            };
            assert!(
                note.contains("--force") && note.contains(&code.to_string()),
                "{note}"
            );
            assert!(note.contains(codes::lookup(code).unwrap().reason), "{note}");
            let Resend::Send(Some(forced)) = decide(&same, &m, asked(true, now)) else {
                panic!("--force did not send {code}");
            };
            assert!(forced.contains("--force"));
            // A corrected phone or text goes, without --force.
            assert_eq!(
                decide(&delivery("491510000002", "Lamp"), &m, asked(false, now)),
                Resend::Send(None)
            );
            assert_eq!(
                decide(&delivery("15550200001", "Desk"), &m, asked(false, now)),
                Resend::Send(None)
            );
        }
    }

    #[test]
    fn a_passing_failure_goes_and_a_waiting_one_goes_when_its_time_came() {
        let now = Utc::now();
        let same = delivery("15550200001", "Lamp");
        // 131047 (re-engagement) may pass; an unknown code and no code too.
        for code in [Some(131_047), Some(4242), None] {
            assert_eq!(
                decide(&same, &failed(code, now), asked(false, now)),
                Resend::Send(None),
                "{code:?}"
            );
        }
        // 131049 and 130472: not before a day after the failure.
        for code in [131_049, 130_472] {
            let recent = failed(Some(code), now - Duration::hours(2));
            let Resend::Hold(note) = decide(&same, &recent, asked(false, now)) else {
                panic!("{code} sent again within the day");
            };
            let from = (now + Duration::hours(22))
                .format("%Y-%m-%d %H:%M")
                .to_string();
            assert!(note.contains(&from), "{note}");
            let old = failed(Some(code), now - Duration::hours(25));
            assert_eq!(decide(&same, &old, asked(false, now)), Resend::Send(None));
        }
    }
}
