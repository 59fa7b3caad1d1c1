//! `handoff rerun`: the rows of a reconciliation that may be sent again,
//! with the data of that file (after a person fixed it).

use tracing::Instrument;

use crate::cli::RerunArgs;
use crate::delivery::Rules;
use crate::error::Failure;
use crate::ingest::{Pass, ingest, judge};
use crate::input;
use crate::report::{Outcome, read_back};

use super::finish::deliver_and_finish;
use super::session::{connect, open_session, rules};

/// `handoff rerun`: the rows of a reconciliation that may be sent again,
/// with the data of that file.
pub(crate) async fn rerun(args: RerunArgs) -> Result<u8, Failure> {
    let file = &args.reconciliation;
    let outcomes = read_back::outcomes(file)?;
    let selected = read_back::selection(&args.only);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| read_back::default_out(file));
    let conn = connect(&args.sending.api, None).await?;
    let reader = input::open(file, &read_back::input_options())
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    let rules = Rules {
        default_country: args.sending.default_country.clone(),
        origin: Some(reader.origin()),
        ..rules(&conn.template)
    };
    let s = open_session(
        "rerun",
        file,
        &out,
        &args.sending.output,
        &args.sending.api,
        conn,
    )
    .await?;
    let span = tracing::info_span!("rerun", run_id = s.run_id);
    let mut outcomes = outcomes.into_iter();
    async {
        let judging = &rules;
        let rows = reader.map(move |item| {
            let mut raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
            crate::report::undo_neutralising(&mut raw.fields);
            let outcome = outcomes.next().flatten();
            if outcome.is_some_and(|o| o != Outcome::Invalid) {
                as_written_by_us(&mut raw.fields.partner_phone);
            }
            let pass = match outcome {
                Some(o) if selected.contains(&o) => Pass::Resend,
                Some(o) => Pass::Hold(o),
                None => Pass::Hold(Outcome::Unknown),
            };
            Ok(judge(raw, judging, pass))
        });
        let decided = ingest(&s.recorder, &s.progress, s.run_id, rows, false).await?;
        deliver_and_finish(s, decided, &rules, &args.sending, &out).await
    }
    .instrument(span)
    .await
}

/// A row that passed validation has its phone in the reconciliation as
/// the E.164 digits it was sent to, without the `+` (a `+` would start a
/// formula). Read back with `--default-country`, bare digits such as
/// `4915123456701` are also a national number (+49 4915…) and would be
/// refused as ambiguous; they are the number we resolved, so they are
/// read as international. A row that was `invalid` holds the input as it
/// was written, which must be read as the run read it.
fn as_written_by_us(phone: &mut String) {
    let digits = phone.trim();
    if (8..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        *phone = format!("+{digits}");
    }
}
