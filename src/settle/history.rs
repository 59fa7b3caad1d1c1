//! Settling doubts: a send that may or may not have been accepted is looked
//! up in 1MSG's message history (`GET messages`) before anyone gives up on
//! it. An outgoing message to that recipient, of our template, carrying the
//! order number, sent since the doubtful attempt, is the message: its wamid
//! is recorded and tracked.
//!
//! Not finding it proves nothing by itself: the vendor says an empty or
//! incomplete history does not prove that no message existed, the time
//! filters are reported unreliable, and the list is paged
//! (docs/real-api.md, A1). So the whole chat is paged through
//! with `lastMessageNumber` (the one reliable cursor), the time window is
//! applied here as well, and a search that could not read everything says
//! so (`Failed`) instead of reporting `NotFound`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::api::client::Client;
use crate::api::history::{HistoryMessage, HistoryPage};
use crate::fate::Finding;

/// How far around the intent and now the history is searched (clock skew).
const BEFORE: i64 = 120;
/// Messages asked for per page (the API's documented default).
pub(super) const PAGE: usize = 100;
/// Pages read at most before the search is called incomplete.
const MAX_PAGES: usize = 50;

/// Whether `body` mentions `order` as a whole token (`#10482` matches,
/// `#104821` does not).
pub(crate) fn carries_order(body: &str, order: &str) -> bool {
    let order = order.trim();
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    !order.is_empty()
        && body.match_indices(order).any(|(start, _)| {
            let end = start + order.len();
            boundary(body[..start].chars().next_back()) && boundary(body[end..].chars().next())
        })
}

/// Whether a history entry is outgoing (`fromMe` says so, or, when `fromMe`
/// is absent, `self` does) and of our template when its metadata names one.
fn ours_of_template(m: &HistoryMessage, template: &str) -> bool {
    let outgoing = match m.from_me {
        Some(from_me) => from_me,
        None => m.is_self == Some(true),
    };
    let named = m.metadata.as_ref().and_then(|v| v.get("template"));
    let template_matches = match named {
        Some(Value::String(t)) => t == template,
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(|t| t == template),
        _ => true,
    };
    outgoing && template_matches
}

/// Whether a history entry is our message for `order`: outgoing, of our
/// template when its metadata names one, with the order number in its text.
pub(crate) fn is_our_message(m: &HistoryMessage, order: &str, template: &str) -> bool {
    ours_of_template(m, template) && m.body.as_deref().is_some_and(|b| carries_order(b, order))
}

/// Whether a history entry is an outgoing message of our template whose
/// text is not the filled-in one (none, empty, the template's name, or its
/// `{{n}}` placeholders): it could be any order's message, this one's too.
/// No source says what an outgoing template's `body` holds
/// (docs/real-api.md, A1), so such a message makes "not
/// found" unprovable.
fn hides_its_order(m: &HistoryMessage, template: &str) -> bool {
    let hidden = match m.body.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(b) => b.eq_ignore_ascii_case(template) || b.contains("{{"),
    };
    hidden && ours_of_template(m, template)
}

/// A search through the pages of one chat, oldest first.
#[derive(Default)]
struct Search<'a> {
    order: &'a str,
    template: &'a str,
    /// Unix seconds: a message outside is an earlier (or unrelated) one.
    window: (i64, i64),
    seen: HashSet<String>,
    /// The highest `messageNumber` seen: the next page starts after it.
    cursor: Option<u64>,
    pages: usize,
    /// Our message, but without a readable time.
    untimed: Option<String>,
    /// Unreadable items that mention the order.
    unreadable_mentions: usize,
    /// Ids the doubtful answer named (an `id` without `sent`, a `message`
    /// that looks like one): an outgoing message with one of them is ours,
    /// whatever its text.
    hints: Vec<String>,
    /// Outgoing messages of our template in the window whose text does not
    /// show any order ([`hides_its_order`]).
    hidden: usize,
}

/// What one page tells the search.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Read the page after this message number.
    More(u64),
    Done(Finding),
}

impl<'a> Search<'a> {
    fn new(order: &'a str, template: &'a str, window: (i64, i64), hints: Vec<String>) -> Self {
        Search {
            order,
            template,
            window,
            hints,
            ..Search::default()
        }
    }

    fn take(&mut self, page: HistoryPage, limit: usize) -> Step {
        self.pages += 1;
        if page.no_history {
            return Step::Done(if self.pages == 1 {
                Finding::NoHistory
            } else {
                self.incomplete("a later page said the channel keeps no history")
            });
        }
        let full = page.len() >= limit;
        let before = self.cursor;
        let mut added = 0;
        for item in &page.unreadable {
            if carries_order(&item.to_string(), self.order) {
                self.unreadable_mentions += 1;
            }
        }
        for m in page.messages {
            if let Some(n) = m.message_number {
                self.cursor = Some(self.cursor.map_or(n, |c| c.max(n)));
            }
            if !self.seen.insert(m.id.clone()) {
                continue;
            }
            added += 1;
            let hinted = self.hints.contains(&m.id) && ours_of_template(&m, self.template);
            let hidden = !hinted && hides_its_order(&m, self.template);
            if !hinted && !hidden && !is_our_message(&m, self.order, self.template) {
                continue;
            }
            let at = m.time.and_then(|t| DateTime::from_timestamp(t, 0));
            let in_window = at.map(|at| (self.window.0..=self.window.1).contains(&at.timestamp()));
            match (at, in_window) {
                (Some(at), Some(true)) if !hidden => {
                    return Step::Done(Finding::Sent { wamid: m.id, at });
                }
                // The API named this id for the send: its time is no doubt.
                (None, _) if hinted => {
                    return Step::Done(Finding::Sent {
                        wamid: m.id,
                        at: Utc::now(),
                    });
                }
                (_, Some(true) | None) if hidden => self.hidden += 1,
                (None, _) => self.untimed = self.untimed.take().or(Some(m.id)),
                _ => {}
            }
        }
        // A page that adds nothing, or gives nothing to page after, is the
        // end only if it was not full: after a full one the rest cannot be
        // reached.
        let advanced = self.cursor.filter(|c| before.is_none_or(|b| *c > b));
        let Some(next) = advanced.filter(|_| added > 0) else {
            return Step::Done(if !full {
                self.complete()
            } else if added == 0 {
                self.incomplete(
                    "the history answered the same messages again (it ignores lastMessageNumber)",
                )
            } else {
                self.incomplete("the history gives no messageNumber to page by")
            });
        };
        if self.pages >= MAX_PAGES {
            return Step::Done(self.incomplete(&format!(
                "stopped after {MAX_PAGES} pages without reaching the end"
            )));
        }
        // A short page may be the server's own page cap rather than the
        // end: only a page with nothing new ends the search.
        Step::More(next)
    }

    /// The search read everything: not found, unless something unreadable
    /// could have been the message.
    fn complete(&self) -> Finding {
        if let Some(id) = &self.untimed {
            Finding::Failed(format!(
                "the history holds a message for this order ({id}) without a readable time, so it cannot be told from an earlier send"
            ))
        } else if self.unreadable_mentions > 0 {
            Finding::Failed(format!(
                "{} history item(s) mentioning this order could not be read",
                self.unreadable_mentions
            ))
        } else if self.hidden > 0 {
            Finding::Hidden(self.hidden)
        } else {
            Finding::NotFound
        }
    }

    fn incomplete(&self, why: &str) -> Finding {
        Finding::Failed(format!(
            "the history search is incomplete after {} page(s): {why}",
            self.pages
        ))
    }
}

/// Looks for our message about `order` to `phone` sent since `since`, or
/// for an outgoing message with one of the ids the doubtful answers named
/// (`hints`), `limit` messages a page ([`PAGE`] but in tests).
pub(crate) async fn look_up(
    client: &Client,
    phone: &str,
    (order, template): (&str, &str),
    since: DateTime<Utc>,
    (limit, hints): (usize, Vec<String>),
) -> Finding {
    let window = (since.timestamp() - BEFORE, Utc::now().timestamp() + BEFORE);
    let mut search = Search::new(order, template, window, hints);
    let mut after = None;
    loop {
        match client.messages_page(phone, window, after, limit).await {
            Ok(page) => {
                if !page.unreadable.is_empty() {
                    tracing::info!(
                        unreadable = page.unreadable.len(),
                        "history items that are not a message with an id were skipped"
                    );
                }
                match search.take(page, limit) {
                    Step::More(next) => after = Some(next),
                    Step::Done(finding) => return finding,
                }
            }
            Err(e) if search.pages == 0 => return Finding::Failed(e.to_string()),
            Err(e) => {
                return Finding::Failed(format!(
                    "the history search is incomplete: page {} failed ({e})",
                    search.pages + 1
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
