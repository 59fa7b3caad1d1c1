//! `handoff suppressions`: the phones never messaged, and a person's word
//! on one of them. A partner who stopped business messages from us (131050)
//! is suppressed by the refusal itself; `remove` lifts a phone once the
//! partner accepts our messages again, `add` suppresses one by hand.

use chrono::Utc;
use serde_json::json;

use super::ledger::internal;
use super::record::rfc3339;
use super::report::open_ledger;
use super::runs::when;
use crate::cli::{SuppressionChange, SuppressionsArgs};
use crate::codes::REFUSALS;
use crate::error::Failure;
use crate::exit;

pub(crate) fn suppressions(args: &SuppressionsArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.ledger)?;
    let now = Utc::now();
    let phone = |typed: &str| {
        crate::delivery::normalize_phone_in(typed, None).map_err(|why| {
            Failure::new(
                exit::USAGE,
                format!("`{typed}` is not a phone to suppress: {why}"),
            )
        })
    };
    match &args.change {
        Some(SuppressionChange::Add { phone: typed }) => {
            let p = phone(typed)?;
            l.suppress(&p, now).map_err(internal)?;
            println!(
                "+{p} is suppressed: no order to it is sent until `handoff suppressions remove +{p}`"
            );
        }
        Some(SuppressionChange::Remove { phone: typed }) => {
            let p = phone(typed)?;
            let held = l.suppressions(&REFUSALS).map_err(internal)?;
            if !held.contains_key(&p) {
                eprintln!("+{p} is not suppressed; nothing to lift");
                return Ok(exit::OK);
            }
            l.lift(&p, now).map_err(internal)?;
            println!("+{p} is lifted: its next orders are sent");
        }
        None => {
            let mut held: Vec<_> = l
                .suppressions(&REFUSALS)
                .map_err(internal)?
                .into_values()
                .collect();
            held.sort_by(|a, b| (a.since, &a.phone).cmp(&(b.since, &b.phone)));
            if args.json {
                let list: Vec<_> = held
                    .iter()
                    .map(|s| {
                        json!({
                            "phone": format!("+{}", s.phone),
                            "since": rfc3339(&s.since),
                            "by": if s.refused.is_some() { "partner" } else { "hand" },
                            "code": s.refused.as_ref().map(|r| r.0),
                            "wamid": s.refused.as_ref().map(|r| r.1.clone()),
                        })
                    })
                    .collect();
                println!("{}", json!({ "suppressions": list }));
            } else if held.is_empty() {
                println!("no phone is suppressed");
            } else {
                println!("{:<18} {:<21} why", "phone", "since");
                for s in &held {
                    let why = match &s.refused {
                        Some((code, wamid)) => format!("the partner refused ({code}, {wamid})"),
                        None => "by hand".to_string(),
                    };
                    println!(
                        "{:<18} {:<21} {why}",
                        format!("+{}", s.phone),
                        when(&s.since)
                    );
                }
            }
        }
    }
    Ok(exit::OK)
}
