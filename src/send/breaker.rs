//! The breakers: when the answers say every row will fail the same way,
//! the run stops instead of going through the night row by row. One opens
//! on a run of answers from an API that seems down (exit 69); the other on
//! a run of identical refusals that are not about the recipient, such as
//! a 422 "namespace is required" or a 200 `sent:false` "Channel is not
//! connected" (exit 78): a configuration stop, nothing more sent.

use super::Stop;
use crate::api::client::{Fatal, RetryKind, SendAnswer, SendClass};

/// Consecutive requests that may have reached a dead API (5xx, timeouts,
/// refused connections) before the run stops with "unavailable".
const UNAVAILABLE_AFTER: u32 = 5;

/// Consecutive refusals with the same HTTP status and the same text, and
/// no Meta error code, before the run stops as misconfigured. Five: a
/// refusal about one row's data carries that row's data in its text, so
/// five identical ones in a row are the API refusing the request itself.
/// A refusal with a Meta code (131026 not on WhatsApp, 131050 opted out,
/// …) is about its recipient and never counts.
pub(super) const SAME_REFUSAL_AFTER: u32 = 5;

/// What the answers so far say about the whole run.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    /// Consecutive answers that suggest the API is down.
    unavailable: u32,
    /// The latest refusal not about the recipient, and how many in a row.
    refusal: Option<(Option<u16>, String, u32)>,
}

impl Breaker {
    /// Learns from one answer; the stop it calls for, if any.
    pub(super) fn note(&mut self, answer: &SendAnswer) -> Option<Stop> {
        match &answer.class {
            SendClass::Accepted { .. } => {
                self.unavailable = 0;
                self.refusal = None;
            }
            SendClass::Rejected => {
                self.unavailable = 0;
                return self.refused(answer);
            }
            // A 2xx the client could not take as an acceptance (`sent:true`
            // without an id, a queued job, an odd body) is an API that
            // answers: it says nothing about an outage.
            SendClass::Ambiguous { .. }
                if answer.http_status.is_some_and(|s| (200..300).contains(&s)) =>
            {
                self.unavailable = 0;
                self.refusal = None;
            }
            SendClass::Ambiguous { .. }
            | SendClass::Retry(RetryKind::Connect | RetryKind::Unavailable) => {
                self.unavailable += 1;
            }
            SendClass::Retry(_) | SendClass::Fatal(_) => {}
        }
        (self.unavailable >= UNAVAILABLE_AFTER).then(|| Stop::Fatal {
            kind: Fatal::Unavailable,
            detail: answer.detail.clone().unwrap_or_default(),
        })
    }

    /// Counts a refusal toward the configuration stop, if it is one that
    /// every row would get.
    fn refused(&mut self, answer: &SendAnswer) -> Option<Stop> {
        let about_the_request = answer.error_code.is_none()
            && matches!(answer.http_status, Some(200 | 400 | 404 | 422));
        if !about_the_request {
            self.refusal = None;
            return None;
        }
        let detail = answer.detail.clone().unwrap_or_default();
        let count = match &self.refusal {
            Some((status, text, n)) if *status == answer.http_status && *text == detail => n + 1,
            _ => 1,
        };
        self.refusal = Some((answer.http_status, detail.clone(), count));
        (count >= SAME_REFUSAL_AFTER).then_some(Stop::Refused {
            http_status: answer.http_status,
            detail,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(class: SendClass, http: u16, code: Option<i64>, detail: &str) -> SendAnswer {
        SendAnswer {
            class,
            http_status: Some(http),
            error_code: code,
            detail: Some(detail.into()),
            retry_after: None,
            held: false,
        }
    }

    fn refused(http: u16, detail: &str) -> SendAnswer {
        answer(SendClass::Rejected, http, None, detail)
    }

    fn accepted() -> SendAnswer {
        answer(
            SendClass::Accepted {
                wamid: "wamid.1".into(),
            },
            200,
            None,
            "",
        )
    }

    /// How many answers of `answers` the breaker takes before it stops, if it does.
    fn stops_after(answers: &[SendAnswer]) -> Option<(usize, Stop)> {
        let mut b = Breaker::default();
        answers
            .iter()
            .enumerate()
            .find_map(|(i, a)| b.note(a).map(|s| (i + 1, s)))
    }

    #[test]
    fn the_same_refusal_for_every_row_stops_the_run_as_misconfigured() {
        let namespace = vec![refused(422, "namespace is required"); 8];
        let (n, stop) = stops_after(&namespace).unwrap();
        assert_eq!(n, SAME_REFUSAL_AFTER as usize);
        assert_eq!(
            stop,
            Stop::Refused {
                http_status: Some(422),
                detail: "namespace is required".into(),
                count: 5
            }
        );
        assert_eq!(stop.exit_kind(), crate::exit::Stopped::Configuration);
        let disconnected = vec![refused(200, "Channel is not connected"); 5];
        assert_eq!(stops_after(&disconnected).unwrap().0, 5);
        for http in [400, 404] {
            assert!(stops_after(&vec![refused(http, "template is not defined"); 5]).is_some());
        }
    }

    #[test]
    fn answers_that_accepted_without_an_id_are_an_api_that_works() {
        let no_id = answer(
            SendClass::Ambiguous {
                taken: crate::ledger::Taken::WithoutId,
                named_id: None,
            },
            200,
            None,
            "sent:true: accepted without a message id",
        );
        assert!(stops_after(&vec![no_id; 20]).is_none());
        let lost = SendAnswer {
            class: SendClass::UNSAID,
            http_status: None,
            error_code: None,
            detail: Some("timed out".into()),
            retry_after: None,
            held: false,
        };
        assert_eq!(
            stops_after(&vec![lost; 5]).unwrap().0,
            UNAVAILABLE_AFTER as usize
        );
        let bad_gateway = answer(SendClass::UNSAID, 502, None, "an HTML page: 502");
        assert!(stops_after(&vec![bad_gateway; 5]).is_some());
    }

    #[test]
    fn refusals_about_their_recipient_never_count() {
        let per_recipient: Vec<SendAnswer> = (0..20)
            .map(|i| {
                let code = if i % 2 == 0 { 131_026 } else { 131_050 };
                answer(
                    SendClass::Rejected,
                    200,
                    Some(code),
                    "Message undeliverable",
                )
            })
            .collect();
        assert_eq!(stops_after(&per_recipient), None);
        // Different texts are each row's own problem.
        let own: Vec<SendAnswer> = (0..20)
            .map(|i| refused(400, &format!("phone `{i}` is invalid")))
            .collect();
        assert_eq!(stops_after(&own), None);
        // The same text under another status is another refusal.
        let mixed: Vec<SendAnswer> = (0..20)
            .map(|i| refused(if i % 2 == 0 { 400 } else { 422 }, "x"))
            .collect();
        assert_eq!(stops_after(&mixed), None);
    }

    #[test]
    fn an_acceptance_or_a_recipient_refusal_breaks_the_streak() {
        let mut answers = vec![refused(422, "namespace is required"); 4];
        answers.push(accepted());
        answers.extend(vec![refused(422, "namespace is required"); 4]);
        answers.push(answer(
            SendClass::Rejected,
            200,
            Some(131_026),
            "undeliverable",
        ));
        answers.extend(vec![refused(422, "namespace is required"); 4]);
        assert_eq!(stops_after(&answers), None);
        // Retries and doubts in between neither count nor break it.
        let mut answers = vec![refused(422, "namespace is required"); 3];
        answers.push(answer(
            SendClass::Retry(RetryKind::TooManyRequests),
            429,
            None,
            "Too many requests",
        ));
        answers.push(answer(
            SendClass::UNSAID,
            500,
            None,
            "Internal server error",
        ));
        answers.extend(vec![refused(422, "namespace is required"); 2]);
        assert_eq!(stops_after(&answers).unwrap().0, 7);
    }

    #[test]
    fn a_run_of_doubts_or_refused_connections_is_an_unavailable_api() {
        let down = vec![answer(SendClass::UNSAID, 500, None, "Internal server error"); 6];
        let (n, stop) = stops_after(&down).unwrap();
        assert_eq!(n, 5);
        assert!(matches!(
            stop,
            Stop::Fatal {
                kind: Fatal::Unavailable,
                ..
            }
        ));
        let mut flaky = vec![answer(SendClass::UNSAID, 500, None, "x"); 4];
        flaky.push(refused(400, "bad row"));
        flaky.extend(vec![answer(SendClass::UNSAID, 500, None, "x"); 4]);
        assert_eq!(stops_after(&flaky), None, "a refusal shows the API is up");
    }
}
