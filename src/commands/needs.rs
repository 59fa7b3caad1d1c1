//! The end of a sending command for the people who act on it: who must do
//! what, with the rows and the exact command for each group; what a rerun
//! sent and how each ended; and every file written. Printed on stderr,
//! after the outcome table, in plain words.

use std::fmt::Write;
use std::path::Path;

use crate::codes::Actor;
use crate::report::{Listed, Needs};

/// The commands that come next, with the flags this one needed to find
/// its ledger again (a `--ledger` given, a rehearsal).
pub(super) struct Next {
    /// The report written, which the next rerun reads.
    pub out: String,
    /// ` --ledger X`, ` --simulate`, as needed.
    pub flags: String,
    /// The ledger, for `handoff suppressions` (whose default is here).
    pub ledger: String,
}

impl Next {
    pub(super) fn new(out: &Path, ledger: &Path, ledger_given: bool, simulated: bool) -> Next {
        let mut flags = String::new();
        if ledger_given {
            let _ = write!(flags, " --ledger {}", quoted(ledger));
        }
        if simulated {
            flags.push_str(" --simulate");
        }
        Next {
            out: quoted(out),
            flags,
            ledger: quoted(ledger),
        }
    }

    fn rerun(&self) -> String {
        format!("handoff rerun {}{}", self.out, self.flags)
    }
}

/// A path as a shell reads it back: quoted when it has to be.
fn quoted(path: &Path) -> String {
    let p = path.display().to_string();
    if p.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:=@".contains(c))
    {
        p
    } else {
        format!("'{}'", p.replace('\'', r"'\''"))
    }
}

fn rows(n: u64) -> String {
    match n {
        1 => "1 row".into(),
        n => format!("{n} rows"),
    }
}

/// The block: empty when nobody needs to act and nothing was sent to list.
pub(super) fn tell(needs: &Needs, next: &Next, list_sent: bool) -> String {
    let mut out = String::new();
    let total = needs.rows();
    if total > 0 {
        let _ = writeln!(out, "Needs a person: {}", rows(total));
        for (actor, group) in Needs::ACTORS.iter().zip(&needs.by_actor) {
            if group.rows == 0 {
                continue;
            }
            let _ = writeln!(out, "  {} ({}):", actor.person(), rows(group.rows));
            list(&mut out, group, &next.out);
            for step in steps(*actor, group, needs, next) {
                let _ = writeln!(out, "    Next: {step}");
            }
        }
    }
    if needs.pending > 0 {
        let _ = writeln!(
            out,
            "Still pending: {}; WhatsApp has not said yet. Later: handoff track --out {}{}",
            rows(needs.pending),
            next.out,
            next.flags
        );
    }
    if list_sent && needs.sent.rows > 0 {
        let _ = writeln!(out, "Sent by this rerun: {}", rows(needs.sent.rows));
        list(&mut out, &needs.sent, &next.out);
    }
    out
}

/// The first rows of a group, and where the rest are.
fn list(out: &mut String, group: &Listed, report: &str) {
    for line in &group.first {
        let _ = writeln!(out, "    {line}");
    }
    let more = group.rows - group.first.len() as u64;
    if more > 0 {
        let _ = writeln!(out, "    … and {more} more in {report}");
    }
}

/// What the group does next, as commands to run.
fn steps(actor: Actor, group: &Listed, needs: &Needs, next: &Next) -> Vec<String> {
    match actor {
        Actor::Partner => {
            let mut steps = Vec::new();
            if group.rows > needs.suppressed_rows {
                steps.push(format!(
                    "confirm the partner's WhatsApp number, correct it in {}, then: {}",
                    next.out,
                    next.rerun()
                ));
            }
            for phone in &needs.suppressed {
                steps.push(format!(
                    "once the partner accepts our messages again: handoff suppressions remove {phone} --ledger {}",
                    next.ledger
                ));
            }
            steps
        }
        Actor::Data => vec![format!(
            "correct these rows in {} (and in the export), then: {}",
            next.out,
            next.rerun()
        )],
        Actor::Operations | Actor::Nobody => {
            let mut steps = Vec::new();
            if needs.unknown > 0 {
                steps.push(format!(
                    "look each `unknown` row up in the 1MSG cabinet; for those not there: {} --resend-unknown",
                    next.rerun()
                ));
            }
            if group.rows > needs.unknown {
                steps.push(format!("when the cause is fixed: {}", next.rerun()));
            }
            steps
        }
    }
}
