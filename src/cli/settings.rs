//! The settings file (`handoff.toml`): values between the environment and
//! the defaults, so the precedence is flags > environment > file > defaults.
//!
//! The file's keys are the long flag names (`pair_interval` or
//! `pair-interval`), optionally grouped in tables for readability
//! (`[send] rate = 20`). Before clap parses the command line, each value is
//! put in front of the user's own flags as if it had been typed — unless
//! its environment variable is set — so the user's later flags win and every
//! value goes through the same parser and validation as a flag. The token is
//! refused here: it belongs in a token file or a credential, never in a
//! settings file that gets copied around.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use toml::Value;

use crate::cli::Cli;
use crate::error::Failure;
use crate::exit;

mod describe;
pub use describe::describe;

/// The subcommands that read the settings file.
pub(crate) const READERS: [&str; 3] = ["run", "rerun", "track"];

/// The value of the last `FLAG VALUE` or `FLAG=VALUE` before a `--`, as
/// clap would take it (`args_override_self`), read without clap.
pub(crate) fn last_flag(args: &[OsString], flag: &str) -> Option<String> {
    let mut found = None;
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == flag {
            found = it.next().map(|v| v.into_owned());
        } else if let Some(v) = a.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            found = Some(v.to_string());
        }
    }
    found
}

/// The settings file named by `--config`, or `handoff.toml` here.
fn locate(args: &[OsString]) -> Option<(PathBuf, bool)> {
    if let Some(named) = last_flag(args, "--config") {
        return Some((PathBuf::from(named), true));
    }
    let here = PathBuf::from("handoff.toml");
    here.exists().then_some((here, false))
}

/// The settings whose values are paths: a relative one is read against
/// the settings file's directory, as a person reading the file would (the
/// nightly job's working directory is rarely the file's).
const PATHS: [&str; 8] = [
    "rate-card",
    "token-file",
    "partners",
    "ledger",
    "out",
    "xlsx",
    "metrics-file",
    "summary-json",
];

/// Flattens `[table] key = value` into the file's settings, each as its
/// flag name, its key as written (with its table, `send.rate`), and its
/// value.
fn flatten(table: &toml::Table, prefix: &str, out: &mut Vec<(String, String, Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            // `map` is a table of field → column; every other table is a
            // group of settings.
            Value::Table(t) if k != "map" => flatten(t, &key, out),
            _ => out.push((k.replace('_', "-"), key, v.clone())),
        }
    }
}

/// Where a value put in front of the flags came from, so that clap's
/// complaint about it can name the file and key instead of a flag the
/// user never typed.
#[derive(Debug, Clone)]
pub struct Origin {
    flag: String,
    value: String,
    file: PathBuf,
    key: String,
}

/// The known setting closest to `name`, if one is close enough to be what
/// was meant.
fn closest(name: &str) -> Option<String> {
    let root = Cli::command();
    READERS
        .iter()
        .filter_map(|sub| root.find_subcommand(sub))
        .flat_map(|c| c.get_arguments().filter_map(|a| a.get_long()))
        .map(|long| (strsim::levenshtein(name, long), long))
        .filter(|(d, long)| *d <= (long.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, long)| long.replace('-', "_"))
}

fn as_arg(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// The settings of `path` as command-line arguments for `sub`, with where
/// each value came from.
pub(super) fn file_args(path: &Path, sub: &str) -> Result<(Vec<OsString>, Vec<Origin>), Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let context = format!("failed to read the settings file `{}`", path.display());
        Failure::because(exit::CONFIG, context, e)
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let context = format!("failed to parse the settings file `{}`", path.display());
        Failure::because(exit::CONFIG, context, e)
    })?;
    let mut entries = Vec::new();
    flatten(&table, "", &mut entries);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let root = Cli::command();
    let known = |name: &str, sub: &str| {
        root.find_subcommand(sub).and_then(|c| {
            c.get_arguments()
                .find(|a| a.get_long() == Some(name))
                .cloned()
        })
    };
    let mut out = Vec::new();
    let mut origins = Vec::new();
    for (name, key, value) in entries {
        if name == "token" {
            let why = format!(
                "`{}` holds a token: keep it in a token file (--token-file, mode 600) or a systemd credential instead",
                path.display()
            );
            return Err(Failure::new(exit::CONFIG, why));
        }
        if name == "config" {
            continue;
        }
        let Some(arg) = known(&name, sub) else {
            if READERS.iter().any(|s| known(&name, s).is_some()) {
                continue; // a setting of another subcommand
            }
            let hint = closest(&name)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            let why = format!(
                "the settings file `{}`: unknown key `{key}` ({hint}see `handoff {sub} --help` for the names; `_` and `-` are alike)",
                path.display()
            );
            return Err(Failure::new(exit::CONFIG, why));
        };
        // The environment wins over the file.
        if let Some(var) = arg.get_env()
            && std::env::var_os(var).is_some_and(|v| !v.is_empty())
        {
            continue;
        }
        let flag = format!("--{name}");
        // A flag of its own for `true`, one `--flag value` for each value
        // (of a list, or of `map`'s field = column).
        let values: Option<Vec<String>> = match &value {
            Value::Boolean(true) => {
                out.push(flag.clone().into());
                Some(Vec::new())
            }
            Value::Boolean(false) => Some(Vec::new()),
            Value::Array(items) => items.iter().map(as_arg).collect(),
            Value::Table(fields) => fields
                .iter()
                .map(|(field, column)| Some(format!("{field}={}", as_arg(column)?)))
                .collect(),
            other => as_arg(other).map(|v| vec![v]),
        };
        let not_a_value = || {
            let why = format!(
                "the settings file `{}`: the value of `{key}` is not a string, number or true/false",
                path.display()
            );
            Failure::new(exit::CONFIG, why)
        };
        for mut v in values.ok_or_else(not_a_value)? {
            if let Some(dir) = dir
                && PATHS.contains(&name.as_str())
                && Path::new(&v).is_relative()
            {
                v = dir.join(&v).display().to_string();
            }
            origins.push(Origin {
                flag: flag.clone(),
                value: v.clone(),
                file: path.to_path_buf(),
                key: key.clone(),
            });
            out.push(flag.clone().into());
            out.push(v.into());
        }
    }
    Ok((out, origins))
}

/// Says clap's complaint about a value that came from the settings file
/// as the file and key it came from; `None` for a value the user typed.
pub fn explain(e: &clap::Error, origins: &[Origin]) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue};
    let string = |kind| match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        _ => None,
    };
    let arg = string(ContextKind::InvalidArg)?;
    let value = string(ContextKind::InvalidValue)?;
    let flag = arg.split_whitespace().next()?.to_string();
    let origin = origins
        .iter()
        .find(|o| o.flag == flag && o.value == value)?;
    let why = std::error::Error::source(e)
        .map(ToString::to_string)
        .or_else(|| {
            e.get(ContextKind::ValidValue)
                .map(|v| format!("possible values: {v}"))
        })
        .unwrap_or_else(|| "not a value it takes".into());
    let said = format!(
        "the settings file `{}`: `{} = {:?}`: {why}",
        origin.file.display(),
        origin.key,
        origin.value
    );
    Some(Failure::new(exit::CONFIG, said))
}

/// The command line with the settings file's values put in front of the
/// user's flags (for `run`, `rerun` and `track`), with where each value
/// from the file came from (for [`explain`]).
pub fn with_file(args: Vec<OsString>) -> Result<(Vec<OsString>, Vec<Origin>), Failure> {
    let sub = args.get(1).map(|s| s.to_string_lossy().into_owned());
    let reads = sub.filter(|s| READERS.contains(&s.as_str()));
    let Some((sub, (path, named))) = reads.and_then(|sub| Some((sub, locate(&args[2..])?))) else {
        return Ok((args, Vec::new()));
    };
    if named && !path.exists() {
        return Err(Failure::new(
            exit::CONFIG,
            format!("the settings file `{}` does not exist", path.display()),
        ));
    }
    let (from_file, origins) = file_args(&path, &sub)?;
    let out = [&args[..2], &from_file, &args[2..]].concat();
    Ok((out, origins))
}
