//! Logs on stderr through tracing: readable lines for people, JSON lines
//! (`--log-format json`) for journald, Kubernetes and log shippers. stdout
//! carries only the one-line JSON summary.
//!
//! Phones appear in logs masked to their last four digits (the report keeps
//! them whole: it is the record finance needs). The token never reaches a
//! log: it is a secret type with no `Display`, and errors are logged
//! without their URL.

use std::io::IsTerminal;

use tracing::Level;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber for a sending command: JSON lines or text, at
/// `level` unless `RUST_LOG` says otherwise.
pub(crate) fn init(json: bool, level: Level) {
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy()
        // Our own events only: dependencies' debug output can carry URLs.
        .add_directive("hyper=warn".parse().expect("a valid directive"))
        .add_directive("reqwest=warn".parse().expect("a valid directive"))
        .add_directive("rustls=warn".parse().expect("a valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LineWriter(Vec::new()))
        .with_target(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .try_init()
    };
    // A second init (tests calling twice) keeps the first subscriber.
    let _ = result;
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
    let digits: Vec<char> = phone.chars().collect();
    let keep = digits.len().min(4);
    let hidden = digits.len() - keep;
    let mut out = "•".repeat(hidden);
    out.extend(&digits[hidden..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_their_last_four_digits() {
        assert_eq!(mask_phone("4915123456701"), "•••••••••6701");
        assert_eq!(mask_phone("123"), "123");
        assert!(!mask_phone("4915123456701").contains("49151"));
    }
}
