//! A channel that outlives its process. A rehearsal (`--simulate`) is a
//! night and its morning: the run, a Ctrl-C, the same run again, a rerun,
//! `track`. The real channel remembers every message it accepted through
//! all of them, so a rehearsal's simulator must too, or the second command
//! polls messages its simulator never heard of and ends them `pending`.
//!
//! Each accepted message is appended, once, as one JSON line to the memory
//! file as it is accepted (its whole life is planned then), so a killed
//! process loses nothing it answered. A simulator started on the same file
//! reads them back: their statuses go on from where they were, by the wall
//! clock, and the history shows them. A torn last line (a crash mid-write)
//! is skipped.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Inner;
use super::message::{AnswerDelivery, HistoryItem, Message, PlannedHook};
use crate::scenario::Outcome;

/// Every status word a plan may hold (the scenario chooses among them).
const WORDS: [&str; 8] = [
    "sent",
    "delivered",
    "read",
    "viewed",
    "played",
    "failed",
    "undelivered",
    "deleted",
];

/// One message as the memory file keeps it.
#[derive(Serialize, Deserialize)]
struct Kept {
    wamid: String,
    phone: String,
    template: String,
    namespace: Option<String>,
    language: String,
    params: Vec<String>,
    body: String,
    /// Unix milliseconds of its acceptance.
    accepted_ms: u64,
    /// Each planned status: milliseconds after acceptance, word, error.
    plan: Vec<(u64, String, Option<i64>)>,
    job_id: Option<String>,
    answer: AnswerDelivery,
    outcome: Outcome,
    category: String,
}

/// The memory file, opened to append at its first message: a simulator
/// that accepts nothing (a dry run's) leaves no file behind.
pub(crate) struct Memory {
    path: PathBuf,
    /// The file ends in a torn line: the next one starts on a line of its own.
    torn: bool,
    file: Option<File>,
}

/// The messages a memory file holds, and the file to append to.
pub(super) fn open(path: &Path) -> io::Result<(Vec<Message>, Memory)> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let now = (SystemTime::now(), Instant::now());
    let mut messages = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if let Ok(kept) = serde_json::from_slice::<Kept>(line) {
            messages.push(kept.into_message(messages.len() as u64 + 1, now));
        }
    }
    let memory = Memory {
        path: path.to_path_buf(),
        torn: text.last().is_some_and(|&b| b != b'\n'),
        file: None,
    };
    Ok((messages, memory))
}

/// Appends `m` to the memory file. A failed write is said on stderr and
/// otherwise ignored: a rehearsal goes on, forgetting.
pub(super) fn keep(memory: &mut Memory, m: &Message) {
    let kept = Kept {
        wamid: m.wamid.clone(),
        phone: m.phone.clone(),
        template: m.template.clone(),
        namespace: m.namespace.clone(),
        language: m.language.clone(),
        params: m.params.clone(),
        body: m.body.clone(),
        accepted_ms: millis(m.accepted_at.duration_since(UNIX_EPOCH).unwrap_or_default()),
        plan: m
            .plan
            .iter()
            .map(|h| (millis(h.after), h.status.to_string(), h.error))
            .collect(),
        job_id: m.job_id.clone(),
        answer: m.answer,
        outcome: m.outcome,
        category: m.category.clone(),
    };
    let mut line = serde_json::to_string(&kept).unwrap_or_default();
    line.push('\n');
    if memory.torn {
        line.insert(0, '\n');
        memory.torn = false;
    }
    let written = match &mut memory.file {
        Some(file) => file.write_all(line.as_bytes()),
        None => OpenOptions::new()
            .create(true)
            .append(true)
            .open(&memory.path)
            .and_then(|mut file| {
                file.write_all(line.as_bytes())?;
                memory.file = Some(file);
                Ok(())
            }),
    };
    if let Err(e) = written {
        eprintln!(
            "simulator: could not remember a message in {}: {e}",
            memory.path.display()
        );
    }
}

impl Kept {
    /// The message again, numbered `number`, its acceptance placed on this
    /// process's clock (`now`: the wall clock and the monotonic one).
    fn into_message(self, number: u64, now: (SystemTime, Instant)) -> Message {
        let accepted_at = UNIX_EPOCH + Duration::from_millis(self.accepted_ms);
        let age = now.0.duration_since(accepted_at).unwrap_or_default();
        Message {
            number,
            wamid: self.wamid,
            phone: self.phone,
            template: self.template,
            namespace: self.namespace,
            language: self.language,
            params: self.params,
            body: self.body,
            accepted_at,
            accepted_instant: now.1.checked_sub(age).unwrap_or(now.1),
            plan: self
                .plan
                .into_iter()
                .map(|(after, word, error)| PlannedHook {
                    after: Duration::from_millis(after),
                    status: WORDS.into_iter().find(|w| *w == word).unwrap_or("sent"),
                    error,
                })
                .collect(),
            job_id: self.job_id,
            answer: self.answer,
            outcome: self.outcome,
            category: self.category,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Inner {
    /// Takes back the messages a memory file held: each in the lookup and,
    /// already visible, in the history.
    pub(super) fn recall(&mut self, messages: Vec<Message>) {
        let now = Instant::now();
        for m in messages {
            let index = self.messages.len();
            self.by_wamid.insert(m.wamid.clone(), index);
            self.messages.push(m);
            self.push_history(now, HistoryItem::Sent(index));
        }
    }
}
