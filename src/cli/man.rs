//! `handoff man`: one man page per subcommand (`handoff-run(1)`, …) and
//! one for `handoff(1)`, from the same clap definitions as `--help`, with
//! what `--help` cannot say: the exit codes a scheduler acts on, the
//! environment each command reads, and the files it writes. That is prose,
//! so it is kept as text in `man.toml` beside this file; a test checks
//! that every exit code of [`crate::exit`] is described there.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit;

/// The sections clap cannot write, as `man.toml` says them.
#[derive(serde::Deserialize)]
struct Sections {
    exit: Vec<Said<u8>>,
    environment: Vec<Said<String>>,
    files: Vec<Said<String>>,
}

/// An exit code (`code` in `man.toml`) and what it means for the night,
/// or an environment variable or a file and what it is to the command.
#[derive(serde::Deserialize)]
struct Said<T> {
    #[serde(alias = "code")]
    name: T,
    meaning: String,
}

fn sections() -> Result<Sections, String> {
    toml::from_str(include_str!("man.toml")).map_err(|e| format!("man.toml: {e}"))
}

/// Whether `sub` can end with `code`: `run` and `rerun` (and `handoff`
/// itself) with any; `track` with any but a bad input, as it reads none;
/// the others succeed, or fail on a bug or their configuration.
fn ends_with(sub: Option<&str>, code: u8) -> bool {
    match sub {
        None | Some("run" | "rerun") => true,
        Some("track") => code != exit::DATA,
        Some(_) => [exit::OK, exit::USAGE, exit::INTERNAL, exit::CONFIG].contains(&code),
    }
}

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

/// EXAMPLES: the command's `--help` examples, line for line.
fn examples(out: &mut Vec<u8>, cmd: &clap::Command) {
    let Some(text) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) else {
        return;
    };
    let text = text.to_string();
    // The examples only: not the heading, nor the pointer to this page.
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim_end() == "Examples:")
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let _ = writeln!(out, ".SH EXAMPLES\n.nf\n{}\n.fi", roff(&body.join("\n")));
}

/// The sections clap_mangen does not write.
fn extra_sections(out: &mut Vec<u8>, cmd: &clap::Command, sub: Option<&str>) -> Result<(), String> {
    let said = sections()?;
    let _ = writeln!(out, ".SH \"EXIT STATUS\"");
    for c in said.exit.iter().filter(|c| ends_with(sub, c.name)) {
        tagged(out, &c.name.to_string(), &c.meaning);
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
        vars.extend(said.environment.into_iter().map(|v| (v.name, v.meaning)));
    }
    if !vars.is_empty() {
        let _ = writeln!(out, ".SH ENVIRONMENT");
        for (var, what) in vars {
            tagged(out, &var, &what);
        }
    }
    if sending {
        let _ = writeln!(out, ".SH FILES");
        for file in &said.files {
            tagged(out, &file.name, &file.meaning);
        }
    }
    let _ = writeln!(out, ".SH \"SEE ALSO\"");
    let others: Vec<String> = pages()
        .into_iter()
        .filter(|p| p.as_deref() != sub)
        .map(|p| format!("{}(1)", roff(&page_name(p.as_deref()))))
        .collect();
    let _ = writeln!(out, "{}", others.join(", "));
    Ok(())
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
            // The page says its version; the subcommand takes no -V, so
            // its OPTIONS must not list one.
            .version(env!("CARGO_PKG_VERSION"))
            .disable_version_flag(true),
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
    examples(&mut out, &cmd);
    extra_sections(&mut out, &cmd, sub)?;
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
        assert!(!text.contains("\\-\\-version"), "run takes no -V");
        assert!(text.contains(".SH EXAMPLES"));
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
    fn every_exit_code_has_its_meaning() {
        let codes: Vec<u8> = sections().unwrap().exit.iter().map(|c| c.name).collect();
        use exit::*;
        let all = [
            OK,
            NEEDS_ATTENTION,
            USAGE,
            DATA,
            NO_INPUT,
            UNAVAILABLE,
            INTERNAL,
            TEMPFAIL,
            NO_PERM,
            CONFIG,
        ];
        assert_eq!(codes, all);
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
