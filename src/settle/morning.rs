//! The morning after: `handoff track` looks the night's doubts up once
//! more. The history may show late a send whose answer was lost; found, it
//! is recorded and tracked like any message. One still missing keeps its
//! `unknown`, and its reason says how long it has been in doubt. Nothing
//! is sent: `track` never sends, whatever the history says (a person
//! decides with `rerun --resend-unknown`).

use chrono::Utc;

use crate::api::client::Client;
use crate::error::Failure;
use crate::ledger::{RunId, Verdict};
use crate::recorder::Recorder;

use super::passes::{Round, Settling, delivery_from_attempt};
use crate::fate::{Fate, Policy};

/// Looks up every doubt of `run`'s rows once and records what it found: a
/// message found is recorded (and so tracked with the others not final).
pub(crate) async fn look_again(
    client: &Client,
    recorder: &Recorder,
    run: RunId,
    template: &str,
) -> Result<(), Failure> {
    let rows = recorder.read(move |l| l.doubtful_rows(run)).await?;
    // Only what the history finds counts: a policy that would send is no
    // business of track's.
    let settling = Settling::new(client, recorder, run, template, Policy::default());
    let mut round = Round::default();
    for (row, key, verdict) in rows {
        let doubts = recorder.read(move |l| l.doubts(&key)).await?;
        let (Some(first), Some(latest)) = (doubts.first(), doubts.last()) else {
            continue;
        };
        let Some(delivery) = delivery_from_attempt(&latest.attempt) else {
            continue;
        };
        let since = first.attempt.intent_at;
        let settled = settling.settle(&delivery, &doubts, 1).await?;
        round.count(&settled);
        let earlier = verdict == Verdict::Unknown;
        let fate = match settled {
            // This run's own send, found: its row reports the message.
            Fate::Reused { .. } if !earlier => continue,
            found @ Fate::Reused { .. } => found,
            // Never sent from here: a doubt stays one until a person decides.
            other => {
                let age = age((Utc::now() - since).num_seconds());
                let why = match other {
                    Fate::Unknown { reason, .. } => reason,
                    _ => "not found in 1MSG's message history".into(),
                };
                Fate::Unknown {
                    reason: format!(
                        "in doubt for {age} (looked up again by `handoff track`): {why}"
                    ),
                    again: true,
                }
            }
        };
        let (verdict, reason) = fate.of_doubt(earlier);
        recorder
            .set_verdict(run, row, verdict, reason, fate.problem())
            .await?;
    }
    round.log("the night's uncertain sends looked up again");
    Ok(())
}

/// How long, in the words a person reads: `40 s`, `12 min`, `9 h 5 min`.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_age_reads_in_the_largest_units() {
        assert_eq!(super::age(-3), "0 s");
        assert_eq!(super::age(59), "59 s");
        assert_eq!(super::age(61), "1 min");
        assert_eq!(super::age(9 * 3600 + 5 * 60 + 7), "9 h 5 min");
    }
}
