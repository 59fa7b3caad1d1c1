//! `handoff man`: one man page per subcommand (`handoff-run(1)`, …) and
//! one for `handoff(1)`, from the same clap definitions as `--help`, with
//! what `--help` cannot say: the exit codes a scheduler acts on, the
//! environment each command reads, and the files it writes.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit;

/// The exit codes (design.md), each with what it means for the night.
const EXIT_CODES: [(u8, &str); 9] = [
    (
        exit::OK,
        "Every row reached delivered or read (a dry run: no invalid rows).",
    ),
    (
        exit::NEEDS_ATTENTION,
        "The run finished and the report is complete, but some rows need a person (failed, rejected, invalid, unknown, pending, skipped). A success for a scheduler.",
    ),
    (
        exit::DATA,
        "The input is unusable (no required columns, undecodable, fewer rows than --min-rows, more than --max-rows); nothing was sent.",
    ),
    (
        exit::NO_INPUT,
        "The input file or the ledger does not exist or cannot be read.",
    ),
    (
        exit::UNAVAILABLE,
        "The API is unavailable (the template list could not be read, or the circuit breaker opened); a later run continues.",
    ),
    (exit::INTERNAL, "An internal error (a bug)."),
    (
        exit::TEMPFAIL,
        "Interrupted (SIGTERM, Ctrl-C), outside the sending window, or another run holds the ledger; a later run continues where this one stopped.",
    ),
    (exit::NO_PERM, "The API refused the credentials."),
    (
        exit::CONFIG,
        "The configuration is wrong (a flag or setting, the channel, the template), or an output cannot be written; before the first send nothing was sent.",
    ),
];

/// Whether `sub` can end with `code`: `run` and `rerun` (and `handoff`
/// itself) with any; `track` with any but a bad input, as it reads none;
/// the others succeed, or fail on a bug or their configuration.
fn ends_with(sub: Option<&str>, code: u8) -> bool {
    match sub {
        None | Some("run" | "rerun") => true,
        Some("track") => code != exit::DATA,
        Some(_) => [exit::OK, exit::INTERNAL, exit::CONFIG].contains(&code),
    }
}

/// Environment variables that are not a flag's (a flag's are listed from
/// clap), read by the sending commands.
const ENVIRONMENT: [(&str, &str); 4] = [
    (
        "ONEMSG_TOKEN",
        "The API token, when there is no --token-file and no systemd credential (environment variables are inherited by children: prefer a file).",
    ),
    (
        "CREDENTIALS_DIRECTORY",
        "Set by systemd's LoadCredential=: the token is read from its onemsg_token.",
    ),
    (
        "NO_COLOR",
        "When set and not empty, text logs carry no colours (--color auto).",
    ),
    (
        "RUST_LOG",
        "A tracing filter that overrides --log-level (e.g. handoff=debug).",
    ),
];

/// The files a sending command reads and writes.
const FILES: [(&str, &str); 6] = [
    (
        "handoff.toml",
        "The settings file in the working directory (or --config): values between the environment and the defaults; relative paths in it are the file's directory's.",
    ),
    (
        "handoff.ledger.sqlite",
        "The ledger (SQLite, WAL) beside the report unless --ledger: every send across nights. Keep one: a new ledger knows no earlier run (handoff says so when it creates one). A rehearsal (--simulate) keeps handoff.rehearsal.ledger.sqlite instead: a ledger holds rehearsals or real runs, never both.",
    ),
    (
        "<ledger>.lock",
        "Held for the whole run, so two runs never share a ledger (exit 75).",
    ),
    (
        "reconciliation.csv",
        "The report (--out), one row per input row, replaced atomically.",
    ),
    (
        "--xlsx, --metrics-file, --summary-json",
        "The workbook, the Prometheus text file and the JSON summary; all checked writable before the first send, and the metrics and summary written on every exit.",
    ),
    (
        "stdout",
        "One JSON summary line (started_at, finished_at, exit_code, rows, outcomes, sent_this_run, reused, …) on every exit of run, rerun and track.",
    ),
];

/// roff text: backslashes and dashes escaped, no line read as a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn tagged(out: &mut Vec<u8>, tag: &str, text: &str) {
    let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(tag), roff(text));
}

/// The sections clap_mangen does not write.
fn extra_sections(out: &mut Vec<u8>, cmd: &clap::Command, sub: Option<&str>) {
    let _ = writeln!(out, ".SH \"EXIT STATUS\"");
    for (code, what) in EXIT_CODES.iter().filter(|(c, _)| ends_with(sub, *c)) {
        tagged(out, &code.to_string(), what);
    }
    let sending = sub.is_none_or(|s| super::settings::READERS.contains(&s));
    let mut vars: Vec<(String, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let var = a.get_env()?.to_string_lossy().into_owned();
            let flag = a.get_long()?;
            Some((var, format!("The value of --{flag}; the flag wins.")))
        })
        .collect();
    if sending {
        vars.extend(
            ENVIRONMENT
                .iter()
                .map(|(v, w)| (v.to_string(), w.to_string())),
        );
    }
    if !vars.is_empty() {
        let _ = writeln!(out, ".SH ENVIRONMENT");
        for (var, what) in vars {
            tagged(out, &var, &what);
        }
    }
    if sending {
        let _ = writeln!(out, ".SH FILES");
        for (file, what) in FILES {
            tagged(out, file, what);
        }
    }
    let _ = writeln!(out, ".SH \"SEE ALSO\"");
    let others: Vec<String> = pages()
        .into_iter()
        .filter(|p| p.as_deref() != sub)
        .map(|p| format!("{}(1)", roff(&page_name(p.as_deref()))))
        .collect();
    let _ = writeln!(out, "{}", others.join(", "));
}

/// A page's name: `handoff`, or `handoff-run` for a subcommand.
fn page_name(sub: Option<&str>) -> String {
    sub.map_or_else(|| "handoff".into(), |s| format!("handoff-{s}"))
}

/// Every page: `handoff`'s (`None`), then each subcommand's.
fn pages() -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(
            Cli::command()
                .get_subcommands()
                .map(|c| Some(c.get_name().to_string())),
        )
        .collect()
}

/// The page of `sub` (`None`: the `handoff` page), or why there is none.
pub fn page(sub: Option<&str>) -> Result<Vec<u8>, String> {
    let root = Cli::command();
    let cmd = match sub {
        None => root.clone(),
        Some(name) => root
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                format!(
                    "no subcommand `{name}`; the pages are: {}",
                    names.join(", ")
                )
            })?
            // clap keeps 'static names; the page lives as long as the process.
            .name(&*String::leak(page_name(sub)))
            .bin_name(format!("handoff {name}"))
            .version(env!("CARGO_PKG_VERSION")),
    };
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let fail = |e: std::io::Error| format!("failed to render the man page: {e}");
    man.render_title(&mut out).map_err(fail)?;
    man.render_name_section(&mut out).map_err(fail)?;
    man.render_synopsis_section(&mut out).map_err(fail)?;
    man.render_description_section(&mut out).map_err(fail)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out).map_err(fail)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out).map_err(fail)?;
    }
    extra_sections(&mut out, &cmd, sub);
    man.render_version_section(&mut out).map_err(fail)?;
    Ok(out)
}

/// Writes `handoff.1` and `handoff-<sub>.1` for every subcommand (or only
/// `sub`'s) into `dir`; the names written.
pub fn write_all(dir: &Path, sub: Option<&str>) -> Result<Vec<String>, String> {
    let subs = match sub {
        Some(s) => vec![Some(s.to_string())],
        None => pages(),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("failed to create `{}`: {e}", dir.display()))?;
    let mut written = Vec::new();
    for s in subs {
        let text = page(s.as_deref())?;
        let name = format!("{}.1", page_name(s.as_deref()));
        let path = dir.join(&name);
        std::fs::write(&path, text)
            .map_err(|e| format!("failed to write `{}`: {e}", path.display()))?;
        written.push(name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_page_has_its_options_exit_codes_environment_and_files() {
        let text = String::from_utf8(page(Some("run")).unwrap()).unwrap();
        assert!(text.contains(".TH handoff-run 1"), "{}", &text[..200]);
        for want in [
            "\\-\\-min\\-rows",
            ".SH \"EXIT STATUS\"",
            "\\fB78\\fR",
            ".SH ENVIRONMENT",
            "ONEMSG_CHANNEL_ID",
            "NO_COLOR",
            ".SH FILES",
            "handoff.ledger.sqlite",
        ] {
            assert!(text.contains(want), "{want}");
        }
        let simulate = String::from_utf8(page(Some("simulate")).unwrap()).unwrap();
        assert!(!simulate.contains(".SH FILES"));
        assert!(page(Some("nope")).unwrap_err().contains("run, rerun"));
    }

    #[test]
    fn every_subcommand_gets_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(dir.path(), None).unwrap();
        assert!(written.contains(&"handoff.1".to_string()));
        assert!(written.contains(&"handoff-track.1".to_string()));
        let subs = Cli::command().get_subcommands().count();
        assert_eq!(written.len(), subs + 1);
    }
}
