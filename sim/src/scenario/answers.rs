//! The shapes of the channel's read answers (history, hookInfo, templates)
//! and which routes take the token in a header. The defaults are the tidy
//! shapes the simulator always answered; each other value is one the real
//! API is documented or seen to answer (docs/real-api.md).

use std::time::Duration;

use serde::Deserialize;

use crate::duration::serde_text;

/// The routes under `/{instanceId}/`, by the names `auth.header_routes` takes.
pub const ROUTES: [&str; 9] = [
    "sendTemplate",
    "hookInfo",
    "templates",
    "status",
    "me",
    "webhook",
    "settings",
    "messages",
    "blockedUsers",
];

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusCase {
    Lower,
    Upper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownMessage {
    /// `200 {"hooks":[]}`.
    Empty,
    /// `404 {"error":…}`.
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListShape {
    /// `{"total":N,"templates":[…]}`.
    Object,
    /// `[…]`, which N8N's `templatesFromResponse` accepts.
    BareArray,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplatesList {
    /// `approved` (as the old spec and one production user see it) or
    /// `APPROVED` (as Meta writes it).
    pub status_case: StatusCase,
    /// Answer every page as if offset were 0, as the real list sometimes does.
    pub ignore_offset: bool,
    /// What `hookInfo` answers for a message id it never issued.
    pub unknown_message: UnknownMessage,
    pub shape: ListShape,
    /// `"total":"3"`, which N8N reads with `Number()`.
    pub total_as_string: bool,
    /// `{"templates":[],"error":{"code":…,"message":…}}` (NEW's
    /// `ListTemplates200Response`): the list is empty because Meta refused.
    pub error_object: bool,
    /// The first this many (authorized) requests answer `fail_status`.
    pub fail_first: u64,
    /// 429 (with `Retry-After` unless `limits.omit_retry_after`), 500, 503
    /// (JSON `{"error":…}`), or 502 / 504 (a proxy's HTML page).
    pub fail_status: u16,
}

impl Default for TemplatesList {
    fn default() -> Self {
        TemplatesList {
            status_case: StatusCase::Lower,
            ignore_offset: false,
            unknown_message: UnknownMessage::Empty,
            shape: ListShape::Object,
            total_as_string: false,
            error_object: false,
            fail_first: 0,
            fail_status: 503,
        }
    }
}

/// What `body` holds for our outgoing template in `GET messages`; no source
/// says (api-variants A1), so a client must not need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryBody {
    /// The filled-in text, order number and all.
    Rendered,
    /// The template's name.
    TemplateName,
    /// `""`.
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryWrapper {
    /// `{"messages":[…]}`.
    Messages,
    /// `{"data":[…]}`, which the vendor's CLI also reads.
    Data,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct History {
    /// When false, `GET messages` answers a `notice` and no messages.
    pub enabled: bool,
    pub body: HistoryBody,
    /// A message appears in history only this long after its acceptance
    /// (after `queued_delay` for a queued one).
    #[serde(with = "serde_text")]
    pub lag: Duration,
    /// At most this many messages per answer, even for `limit=0`; 0 = no
    /// cap. `lastMessageNumber` pages on, in ascending `messageNumber`.
    pub page_cap: u64,
    /// `min_time` and `max_time` are accepted and ignored.
    pub ignore_time_filter: bool,
    pub wrapper: HistoryWrapper,
    /// `fromMe` and `isForwarded` as 0/1, as the old spec and a production
    /// integration show them.
    pub numeric_flags: bool,
    /// `time` as a string of unix seconds.
    pub time_as_string: bool,
    /// This many other messages in each partner's chat, put there with the
    /// first message to it: an older template of ours for another order
    /// (whose number contains this one's), the partner's questions quoting
    /// the order number, a button reply.
    pub others_in_chat: u32,
}

impl Default for History {
    fn default() -> Self {
        History {
            enabled: true,
            body: HistoryBody::Rendered,
            lag: Duration::ZERO,
            page_cap: 0,
            ignore_time_filter: false,
            wrapper: HistoryWrapper::Messages,
            numeric_flags: false,
            time_as_string: false,
            others_in_chat: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookShape {
    /// Meta status objects, `errors[]` on a failure (the old spec's example).
    Meta,
    /// 1MSG's webhook ack items: `{id, status, chatId, phone, …, error: "text"}`.
    NormalizedAck,
    /// Each hook a raw Meta envelope `{"entry":[{"changes":[{"value":
    /// {"statuses":[…]}}]}]}`, with no `status` at its top.
    RawEnvelope,
    /// Meta objects with loose types: `recipient_id` and `timestamp` as
    /// numbers, `errors[].code` as a string, `error_data: {}`, and one
    /// extra hook without `status`.
    LooseTypes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadWord {
    Read,
    /// The old spec's `Ack.status` enum.
    Viewed,
    /// What a production integration maps to read (voice messages).
    Played,
}

impl ReadWord {
    pub fn word(self) -> &'static str {
        match self {
            ReadWord::Read => "read",
            ReadWord::Viewed => "viewed",
            ReadWord::Played => "played",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedWord {
    Failed,
    /// The seed's "failed/undelivered".
    Undelivered,
}

impl FailedWord {
    pub fn word(self) -> &'static str {
        match self {
            FailedWord::Failed => "failed",
            FailedWord::Undelivered => "undelivered",
        }
    }
}

/// `hookInfo`'s answers and the words of its statuses (the words reach the
/// webhook pushes too).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hooks {
    pub shape: HookShape,
    /// The word for read, in every message's life.
    pub read_as: ReadWord,
    /// The word for failed.
    pub failed_as: FailedWord,
    /// Every read message is then `deleted` (the partner deleted it).
    pub deleted_after_read: bool,
    /// 404 `{"error":"could not find that method"}` for every id, as if the
    /// route were retired (it is absent from the NEW spec).
    pub not_found_for_all: bool,
    /// The `pricing.type` of a status: `regular` (billable),
    /// `free_customer_service`, `free_entry_point`, or `none` for statuses
    /// without a `pricing` object.
    pub pricing: String,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            shape: HookShape::Meta,
            read_as: ReadWord::Read,
            failed_as: FailedWord::Failed,
            deleted_after_read: false,
            not_found_for_all: false,
            pricing: "regular".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    /// The routes (of [`ROUTES`]) that read the token from `Authorization`;
    /// on the others a token given only there is refused (401). Unset: every
    /// route. The body field and `?token=` work everywhere.
    pub header_routes: Option<Vec<String>>,
}

impl Auth {
    pub fn header_allowed(&self, route: &str) -> bool {
        self.header_routes
            .as_ref()
            .is_none_or(|routes| routes.iter().any(|r| r == route))
    }
}

/// How a wrong number of template variables is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountMismatch {
    /// HTTP 200 `sent:false` with Meta's 132000.
    Meta,
    /// HTTP 422 `{"message":…,"errors":{"params":[…]}}`, as the seed says.
    Http422,
}
