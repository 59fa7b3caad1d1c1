//! How fast the channel takes sends and how its sendTemplate answers go
//! wrong: limits, latencies, and the faults drawn per request.

use std::time::Duration;

use serde::Deserialize;

use crate::duration::{Span, serde_text};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RateMode {
    /// HTTP 429 `{"error":…}` with `Retry-After` (1MSG's gateway).
    Http429,
    /// HTTP 200 `sent:false` with Meta's 130429 (Meta's throughput limit).
    Meta130429,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Accepted sends per second for the channel (Meta's default is 80); 0
    /// turns enforcement off (the stats still count).
    pub rate: u32,
    pub rate_mode: RateMode,
    /// The `Retry-After` a 429 carries, in whole seconds on the wire.
    #[serde(with = "serde_text")]
    pub retry_after: Duration,
    /// Every 429 comes without `Retry-After`: the header is undocumented,
    /// so a client must have a fallback of its own (api-variants C).
    pub omit_retry_after: bool,
    /// Minimum spacing between two sends to one recipient (Meta's pair rate,
    /// about one per 6 s); 0 turns it off.
    #[serde(with = "serde_text")]
    pub pair_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate: 80,
            rate_mode: RateMode::Http429,
            retry_after: Duration::from_secs(1),
            omit_retry_after: false,
            pair_interval: Duration::from_secs(6),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Time to answer a sendTemplate request.
    pub response: Span,
    /// Acceptance → `sent`.
    pub sent: Span,
    /// `sent` → `delivered`.
    pub delivered: Span,
    /// `delivered` → `read`.
    pub read: Span,
    /// `sent` → `failed`, for recipients whose rule says failed.
    pub failed: Span,
    /// Share of delivered messages that are also read (0..=1).
    pub read_ratio: f64,
}

impl Default for Latency {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Latency {
            response: Span::ZERO,
            sent: Span {
                min: ms(20),
                max: ms(100),
            },
            delivered: Span {
                min: ms(100),
                max: ms(600),
            },
            read: Span {
                min: ms(200),
                max: ms(1500),
            },
            failed: Span {
                min: ms(100),
                max: ms(600),
            },
            read_ratio: 0.7,
        }
    }
}

/// Probabilities per sendTemplate request (their sum at most 1), each of one
/// [`Fault`]. The answer-shape faults (`sent_no_id` … `html_504`) all
/// accept the message except `html_502`: they are the bodies docs/simulator.md's variants table
/// A3, B5 and C say the real API may answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability that a sendTemplate answers 500 without processing.
    pub error_5xx: f64,
    /// Probability that the connection is closed before the request is
    /// processed: nothing is accepted.
    pub drop_before: f64,
    /// Probability that the request is processed (the message *is* accepted)
    /// and then the connection is closed: the client never hears.
    pub drop_after: f64,
    /// Probability that an accepted send answers only after `slow_delay`.
    pub slow: f64,
    #[serde(with = "serde_text")]
    pub slow_delay: Duration,
    /// Probability of `{"sent":false,"jobId":…}`; the message is sent after
    /// `queued_delay` without the client learning its wamid.
    pub queued: f64,
    #[serde(with = "serde_text")]
    pub queued_delay: Duration,
    /// After this many accepted sends, the token stops working (401), as
    /// when someone rotates it mid-run.
    pub revoke_token_after: Option<u64>,
    /// After this many accepted sends, the channel disconnects: `/status`
    /// says `disconnected` and sendTemplate answers plain-text `sent:false`.
    pub disconnect_after: Option<u64>,
    /// After this many accepted sends Meta pauses the templates for low
    /// quality: sends are refused with 132015, the list says `PAUSED`.
    pub pause_template_after: Option<u64>,
    /// After this many accepted sends Meta re-categorises the templates as
    /// `MARKETING` (as it may since April 2025): the list says so and the
    /// later messages are priced as marketing.
    pub recategorize_after: Option<u64>,
    /// Accepted, answered `{"sent":true,"message":"Sent to …"}`: no id.
    pub sent_no_id: f64,
    /// Accepted, answered `{"sent":true,"message":"wamid.…"}`: the id sits
    /// in `message`.
    pub id_in_message: f64,
    /// Accepted, answered `{"id":…,"message":…}` without `sent`.
    pub no_sent_field: f64,
    /// Accepted, answered with `"sent":"true"` (a string).
    pub sent_as_string: f64,
    /// Accepted under a numeric id: `"id": 1234…` (a JSON number); hookInfo
    /// and the history know the message by its decimal string.
    pub numeric_id: f64,
    /// Like `queued`, with `"jobId"` a JSON number.
    pub queued_numeric_job: f64,
    /// A proxy's HTML 502 page; nothing is accepted.
    pub html_502: f64,
    /// A proxy's HTML 504 page after the message *was* accepted.
    pub html_504: f64,
    /// Accepted, answered in the Cloud API's own shape, as 1MSG may forward
    /// Meta's answer: `{"messaging_product":"whatsapp","contacts":[…],
    /// "messages":[{"id":…,"message_status":"accepted"}]}`, no `sent`.
    pub cloud_shape: f64,
    /// Accepted and held by Meta's template pacing: the Cloud API shape
    /// with `"message_status":"held_for_quality_assessment"`; its first
    /// status comes only after `held_delay`.
    pub held_for_quality: f64,
    #[serde(with = "serde_text")]
    pub held_delay: Duration,
    /// A 200 `{"sent":false,"message":"Too many requests. Please try again
    /// later."}`: 1MSG's plain-text overload refusal; nothing accepted.
    pub overload_200: f64,
    /// An HTTP 503 page (maintenance, a proxy's `limit_req`, no upstream):
    /// the request was not processed; nothing accepted.
    pub error_503: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_5xx: 0.0,
            drop_before: 0.0,
            drop_after: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(60),
            queued: 0.0,
            queued_delay: Duration::from_secs(2),
            revoke_token_after: None,
            disconnect_after: None,
            pause_template_after: None,
            recategorize_after: None,
            sent_no_id: 0.0,
            id_in_message: 0.0,
            no_sent_field: 0.0,
            sent_as_string: 0.0,
            numeric_id: 0.0,
            queued_numeric_job: 0.0,
            html_502: 0.0,
            html_504: 0.0,
            cloud_shape: 0.0,
            held_for_quality: 0.0,
            held_delay: Duration::from_secs(5),
            overload_200: 0.0,
            error_503: 0.0,
        }
    }
}

impl Faults {
    /// Each probability with its fault, in the order of the draw. The first
    /// five keep their places, so a scenario written before the others
    /// existed draws the same faults from the same seed.
    pub fn table(&self) -> [(f64, Fault); 17] {
        [
            (self.drop_before, Fault::DropBefore),
            (self.error_5xx, Fault::Error5xx),
            (self.drop_after, Fault::DropAfter),
            (self.slow, Fault::Slow),
            (self.queued, Fault::Queued),
            (self.sent_no_id, Fault::SentNoId),
            (self.id_in_message, Fault::IdInMessage),
            (self.no_sent_field, Fault::NoSentField),
            (self.sent_as_string, Fault::SentAsString),
            (self.numeric_id, Fault::NumericId),
            (self.queued_numeric_job, Fault::QueuedNumericJob),
            (self.html_502, Fault::Html502),
            (self.html_504, Fault::Html504),
            (self.cloud_shape, Fault::CloudShape),
            (self.held_for_quality, Fault::HeldForQuality),
            (self.overload_200, Fault::Overload200),
            (self.error_503, Fault::Error503),
        ]
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[serde(rename = "5xx")]
    Error5xx,
    DropBefore,
    DropAfter,
    Slow,
    Queued,
    /// HTTP 429 regardless of the rate.
    TooManyRequests,
    SentNoId,
    IdInMessage,
    NoSentField,
    SentAsString,
    NumericId,
    QueuedNumericJob,
    #[serde(rename = "html_502")]
    Html502,
    #[serde(rename = "html_504")]
    Html504,
    CloudShape,
    HeldForQuality,
    #[serde(rename = "overload_200")]
    Overload200,
    #[serde(rename = "503")]
    Error503,
}

impl Fault {
    /// Whether the request is answered before it is processed: nothing is
    /// accepted.
    pub fn before_processing(self) -> bool {
        matches!(
            self,
            Fault::DropBefore
                | Fault::Error5xx
                | Fault::TooManyRequests
                | Fault::Html502
                | Fault::Overload200
                | Fault::Error503
        )
    }
}
