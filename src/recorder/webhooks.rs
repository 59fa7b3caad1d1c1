//! The webhook side's writes: pushed acks and the registrations a run makes on its channel.

use chrono::{DateTime, Utc};

use super::Recorder;
use crate::error::Failure;
use crate::ledger::{AckMerged, Registration, RunId, StatusUpdate};

impl Recorder {
    /// Merges one pushed ack (grouped with other hot writes), durable before this returns, so
    /// the receiver answers 2xx only for what is on disk.
    pub(crate) async fn record_ack(
        &self,
        wamid: String,
        updates: Vec<StatusUpdate>,
    ) -> Result<Option<AckMerged>, Failure> {
        self.write_grouped(move |l| l.record_ack(&wamid, &updates))
            .await
    }

    /// Records, before the change is made, that this run adds `our_url` to the channel.
    pub(crate) async fn record_webhook_registration(
        &self,
        run: Option<RunId>,
        channel: String,
        our_url: String,
        original_urls: Vec<String>,
        turned_acks_on: bool,
        at: DateTime<Utc>,
    ) -> Result<i64, Failure> {
        self.write(move |l| {
            l.record_webhook_registration(
                run,
                &channel,
                &our_url,
                &original_urls,
                turned_acks_on,
                at,
            )
        })
        .await
    }

    /// The registrations on `channel` not undone yet.
    pub(crate) async fn open_webhook_registrations(
        &self,
        channel: String,
    ) -> Result<Vec<Registration>, Failure> {
        self.read(move |l| l.open_webhook_registrations(&channel))
            .await
    }

    /// Marks a registration undone.
    pub(crate) async fn webhook_restored(&self, id: i64) -> Result<(), Failure> {
        self.write(move |l| l.webhook_restored(id, Utc::now()))
            .await
    }
}
