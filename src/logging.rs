//! Logs on stderr through tracing: readable lines for people, JSON lines
//! (`--log-format json`) for journald, Kubernetes and log shippers. stdout
//! carries only the one-line JSON summary.
//!
//! Phones appear in logs masked to their last four digits (the report keeps
//! them whole: it is the record finance needs). The token never reaches a
//! log: it is a secret type with no `Display`, and errors are logged
//! without their URL.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Whether log lines are JSON: then progress, the outcome table and the
/// problems block are events too, and stderr carries nothing else.
static JSON: AtomicBool = AtomicBool::new(false);

/// This process's run in the ledger (0 until it is recorded): one process
/// is one run, so every JSON line carries it at the same key.
static RUN_ID: AtomicI64 = AtomicI64::new(0);

/// Whether `--log-format json` is on.
pub(crate) fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Puts the run's id on every log line from now on.
pub(crate) fn set_run_id(id: i64) {
    RUN_ID.store(id, Ordering::Relaxed);
}

/// A value logged as JSON: an object in a JSON log line (`outcomes`), its
/// compact JSON text in a text one. `logging::Json(&x)` with `?`.
pub(crate) struct Json<T>(pub T);

/// Marks a field's text as JSON for the formatters (a control character no
/// log text starts with).
const JSON_MARK: char = '\u{1e}';

impl<T: serde::Serialize> fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(&self.0).map_err(|_| fmt::Error)?;
        write!(f, "{JSON_MARK}{text}")
    }
}

/// Installs the subscriber for a sending command: JSON lines or text, at
/// `level` unless `RUST_LOG` says otherwise; colours in text only when
/// `color` says so (a terminal, no `NO_COLOR`, or `--color always`).
pub(crate) fn init(json: bool, level: Level, color: bool) {
    let mut filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    // Our own events only: dependencies' debug output can carry URLs.
    for quiet in ["hyper=warn", "reqwest=warn", "rustls=warn"] {
        filter = filter.add_directive(quiet.parse().expect("a valid directive"));
    }
    JSON.store(json, Ordering::Relaxed);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LineWriter(Vec::new()))
        .with_target(false);
    let result = if json {
        builder.event_format(JsonLines).try_init()
    } else {
        builder
            .with_ansi(color)
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(text_field).delimited(" "))
            .compact()
            .try_init()
    };
    // A second init (tests calling twice) keeps the first subscriber.
    let _ = result;
}

/// One field of a text line: `name=value`, the message bare, a JSON value
/// as its text.
fn text_field(w: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    let text = format!("{value:?}");
    let text = text.strip_prefix(JSON_MARK).unwrap_or(&text);
    if field.name() == "message" {
        write!(w, "{text}")
    } else {
        write!(w, "{}={text}", field.name())
    }
}

/// JSON lines with typed fields: `timestamp`, `level`, `run_id` (null
/// before the run is recorded), `message`, then the event's own fields as
/// numbers, booleans, strings or (through [`Json`]) objects.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let run_id = match RUN_ID.load(Ordering::Relaxed) {
            0 => Value::Null,
            id => id.into(),
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let head: [(&str, Value); 4] = [
            ("timestamp", now.into()),
            ("level", event.metadata().level().as_str().into()),
            ("run_id", run_id),
            ("message", fields.message.take().unwrap_or_default().into()),
        ];
        let pairs: Vec<String> = head
            .iter()
            .chain(&fields.rest)
            .map(|(key, value)| format!("{}:{value}", Value::from(*key)))
            .collect();
        writeln!(w, "{{{}}}", pairs.join(","))
    }
}

/// An event's fields, typed.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: Vec<(&'static str, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
            }
            // The line's own `run_id` is the one place it is said.
            "run_id" => {}
            name => self.rest.push((name, value)),
        }
    }
}

/// `Visit` methods that keep a field's own JSON type.
macro_rules! record_typed {
    ($($record:ident: $t:ty),*) => {$(
        fn $record(&mut self, field: &Field, value: $t) {
            self.put(field, value.into());
        }
    )*};
}

impl Visit for Fields {
    record_typed!(record_i64: i64, record_u64: u64, record_f64: f64);
    record_typed!(record_bool: bool, record_str: &str);
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        let value = match text.strip_prefix(JSON_MARK) {
            Some(json) => serde_json::from_str(json).unwrap_or_else(|_| json.into()),
            None => text.into(),
        };
        self.put(field, value);
    }
}

/// Collects one event and hands it to [`crate::progress::write_stderr`]
/// whole, so a log line never tears through the progress bars.
struct LineWriter(Vec<u8>);

impl std::io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = crate::progress::write_stderr(&self.0);
        }
    }
}

/// `•••••••6701`: enough to tell partners apart in a log, not enough to
/// call them.
pub(crate) fn mask_phone(phone: &str) -> String {
    let hidden = phone.chars().count().saturating_sub(4);
    let masked = phone.chars().enumerate();
    masked
        .map(|(i, c)| if i < hidden { '•' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_field_is_an_object_and_numbers_stay_numbers() {
        use tracing_subscriber::layer::SubscriberExt;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = std::sync::Arc::clone(&lines);
        let layer = tracing_subscriber::fmt::layer()
            .event_format(JsonLines)
            .with_writer(move || Sink(std::sync::Arc::clone(&sink)));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let outcomes: std::collections::BTreeMap<&str, u64> = [("read", 2)].into();
            let status: Option<u16> = Some(200);
            tracing::info!(http_status = status, outcomes = ?Json(&outcomes), run_id = 5, "done");
        });
        let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["http_status"], 200);
        assert_eq!(v["outcomes"]["read"], 2);
        assert_eq!(v["message"], "done");
        assert!(v.get("run_id").is_some());
        let keys: Vec<&str> = text.split("\":").take(4).collect();
        assert!(keys[2].ends_with("\"run_id"), "{text}");
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn phones_keep_their_last_four_digits() {
        assert_eq!(mask_phone("4915123456701"), "•••••••••6701");
        assert_eq!(mask_phone("123"), "123");
        assert!(!mask_phone("4915123456701").contains("49151"));
    }
}
