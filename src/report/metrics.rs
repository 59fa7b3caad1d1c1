//! Metrics for the machines that watch the nightly run: a Prometheus
//! text-format file for node_exporter's textfile collector
//! (`--metrics-file`), and a push to a Pushgateway for Kubernetes
//! (`--pushgateway`).
//!
//! A run "succeeds" when it finished and wrote a complete report (exit 0 or
//! 10: rows that need a person are the report's business, not an outage).
//! The last-success timestamp survives failed runs: the file carries the
//! previous value over, and the push leaves it out (a Pushgateway POST
//! replaces only the metrics it names), so an alert on
//! `time() - handoff_last_success_timestamp_seconds > 26*3600` fires only
//! when nights really fail.

use std::io;
use std::path::Path;

use crate::report::{Outcome, Summary};

/// What one run reports.
#[derive(Debug, Clone)]
pub(crate) struct RunMetrics {
    pub finished_at: f64,
    pub duration_seconds: f64,
    pub exit_code: u8,
    pub summary: Summary,
    /// (endpoint, result, count)
    pub requests: Vec<(&'static str, String, u64)>,
}

impl RunMetrics {
    pub(crate) fn succeeded(&self) -> bool {
        matches!(self.exit_code, 0 | 10)
    }
}

/// The exposition text; `last_success` is this run's time on success, the
/// carried-over value otherwise, or left out when there is none.
pub(crate) fn render(m: &RunMetrics, last_success: Option<f64>) -> String {
    let last_success = last_success.map_or(String::new(), |t| {
        format!(
            "# HELP handoff_last_success_timestamp_seconds When a run last finished with a complete report (exit 0 or 10).\n\
             # TYPE handoff_last_success_timestamp_seconds gauge\n\
             handoff_last_success_timestamp_seconds {t}\n"
        )
    });
    let rows = Outcome::ALL
        .map(|o| (o.as_str(), m.summary.count(o)))
        .map(|(o, n)| format!("handoff_rows{{outcome=\"{o}\"}} {n}\n"))
        .concat();
    let requests: String = m
        .requests
        .iter()
        .map(|(endpoint, result, n)| {
            format!(
                "handoff_http_requests_total{{endpoint=\"{endpoint}\",result=\"{result}\"}} {n}\n"
            )
        })
        .collect();
    let label = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let cost = &m.summary.cost;
    let billable: String = (cost.billable.iter())
        .map(|(c, n)| {
            format!(
                "handoff_billable_messages{{category=\"{}\"}} {n}\n",
                label(c)
            )
        })
        .collect();
    let estimated: String = (cost.estimated_cost.iter())
        .map(|(c, v)| format!("handoff_estimated_cost{{currency=\"{}\"}} {v}\n", label(c)))
        .collect();
    let daily = m.summary.daily_recipients.map_or(String::new(), |d| {
        format!(
            "# HELP handoff_daily_recipients Distinct phones messaged in the last 24 hours, the last run included.\n\
             # TYPE handoff_daily_recipients gauge\n\
             handoff_daily_recipients {}\n\
             # HELP handoff_daily_recipients_limit The daily recipient budget (--daily-recipients).\n\
             # TYPE handoff_daily_recipients_limit gauge\n\
             handoff_daily_recipients_limit {}\n",
            d.used, d.limit
        )
    });
    format!(
        "# HELP handoff_last_run_timestamp_seconds When the last run finished (unix seconds).\n\
         # TYPE handoff_last_run_timestamp_seconds gauge\n\
         handoff_last_run_timestamp_seconds {finished}\n\
         {last_success}\
         # HELP handoff_duration_seconds How long the last run took.\n\
         # TYPE handoff_duration_seconds gauge\n\
         handoff_duration_seconds {duration:.3}\n\
         # HELP handoff_rows Rows of the last run by reconciliation outcome.\n\
         # TYPE handoff_rows gauge\n\
         {rows}\
         # HELP handoff_http_requests_total HTTP requests of the last run by 1MSG endpoint and result (status, or error when no answer came).\n\
         # TYPE handoff_http_requests_total counter\n\
         {requests}\
         # HELP handoff_billable_messages Delivered billable messages the last run sent, by the category Meta bills them as.\n\
         # TYPE handoff_billable_messages gauge\n\
         {billable}\
         # HELP handoff_estimated_cost What the last run's messages cost by the rate card (--rate-card), by currency.\n\
         # TYPE handoff_estimated_cost gauge\n\
         {estimated}\
         {daily}\
         # HELP handoff_exit_code The exit code of the last run (see the README).\n\
         # TYPE handoff_exit_code gauge\n\
         handoff_exit_code {exit}\n",
        finished = m.finished_at,
        duration = m.duration_seconds,
        exit = m.exit_code,
    )
}

/// The last-success value in an existing metrics file.
pub(crate) fn previous_success(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix("handoff_last_success_timestamp_seconds "))
        .and_then(|v| v.trim().parse().ok())
}

/// Writes the textfile atomically, carrying the last success over.
pub(crate) fn write_file(path: &Path, m: &RunMetrics) -> io::Result<()> {
    let last = if m.succeeded() {
        Some(m.finished_at)
    } else {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| previous_success(&t))
    };
    let text = render(m, last);
    crate::report::write_atomic(path, |w| io::Write::write_all(w, text.as_bytes()))
}

/// POSTs to `{url}/metrics/job/handoff`: the success timestamp only on
/// success, and no instance or run labels (the Pushgateway never forgets a
/// series).
pub(crate) async fn push(url: &str, m: &RunMetrics) -> Result<(), String> {
    let text = render(m, m.succeeded().then_some(m.finished_at));
    let target = format!("{}/metrics/job/handoff", url.trim_end_matches('/'));
    let answer = reqwest::Client::new()
        .post(&target)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(text)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("failed to push metrics to {target}: {}", e.without_url()))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the Pushgateway at {target} answered HTTP {}",
            answer.status().as_u16()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(code: u8) -> RunMetrics {
        let mut summary = Summary::default();
        summary.add(Outcome::Read);
        summary.add(Outcome::Failed);
        RunMetrics {
            finished_at: 1_800_000_000.0,
            duration_seconds: 12.5,
            exit_code: code,
            summary,
            requests: vec![("sendTemplate", "200".into(), 2)],
        }
    }

    #[test]
    fn a_failed_run_keeps_the_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handoff.prom");
        write_file(&path, &metrics(10)).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(previous_success(&first), Some(1_800_000_000.0));
        let mut failed = metrics(69);
        failed.finished_at = 1_800_086_400.0;
        write_file(&path, &failed).unwrap();
        let second = std::fs::read_to_string(&path).unwrap();
        assert_eq!(previous_success(&second), Some(1_800_000_000.0));
        assert!(second.contains("handoff_last_run_timestamp_seconds 1800086400"));
        assert!(second.contains("handoff_exit_code 69"));
        assert!(second.contains("handoff_rows{outcome=\"failed\"} 1"));
        assert!(
            second.contains(
                "handoff_http_requests_total{endpoint=\"sendTemplate\",result=\"200\"} 2"
            )
        );
    }
}
