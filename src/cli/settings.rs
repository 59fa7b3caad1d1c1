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

/// The subcommands that read the settings file.
const READERS: [&str; 3] = ["run", "rerun", "track"];

/// The settings file named by `--config`, or `handoff.toml` here.
fn locate(args: &[OsString]) -> Option<(PathBuf, bool)> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some((PathBuf::from(p), true));
        }
    }
    let here = PathBuf::from("handoff.toml");
    here.exists().then_some((here, false))
}

/// Flattens `[table] key = value` into (flag name, value) pairs.
fn flatten(table: &toml::Table, out: &mut Vec<(String, Value)>) {
    for (k, v) in table {
        match v {
            // `map` is a table of field → column; every other table is a
            // group of settings.
            Value::Table(t) if k != "map" => flatten(t, out),
            _ => out.push((k.replace('_', "-"), v.clone())),
        }
    }
}

fn as_arg(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// The settings of `path` as command-line arguments for `sub`.
pub fn file_args(path: &Path, sub: &str) -> Result<Vec<OsString>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::because(
            exit::CONFIG,
            format!("failed to read the settings file `{}`", path.display()),
            e,
        )
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        Failure::because(
            exit::CONFIG,
            format!("failed to parse the settings file `{}`", path.display()),
            e,
        )
    })?;
    let mut pairs = Vec::new();
    flatten(&table, &mut pairs);
    let root = Cli::command();
    let known = |name: &str, sub: &str| {
        root.find_subcommand(sub).and_then(|c| {
            c.get_arguments()
                .find(|a| a.get_long() == Some(name))
                .cloned()
        })
    };
    let mut out = Vec::new();
    for (name, value) in pairs {
        if name == "token" {
            return Err(Failure::new(
                exit::CONFIG,
                format!(
                    "`{}` holds a token: keep it in a token file (--token-file, mode 600) or a systemd credential instead",
                    path.display()
                ),
            ));
        }
        if name == "config" {
            continue;
        }
        let Some(arg) = known(&name, sub) else {
            if READERS.iter().any(|s| known(&name, s).is_some()) {
                continue; // a setting of another subcommand
            }
            return Err(Failure::new(
                exit::CONFIG,
                format!(
                    "`{}`: unknown setting `{name}` (see `handoff {sub} --help` for the names)",
                    path.display()
                ),
            ));
        };
        // The environment wins over the file.
        if let Some(var) = arg.get_env()
            && std::env::var_os(var).is_some_and(|v| !v.is_empty())
        {
            continue;
        }
        let flag = format!("--{name}");
        match &value {
            Value::Boolean(true) => out.push(flag.into()),
            Value::Boolean(false) => {}
            Value::Array(items) => {
                for item in items {
                    let v = as_arg(item).ok_or_else(|| bad(path, &name))?;
                    out.push(flag.clone().into());
                    out.push(v.into());
                }
            }
            Value::Table(fields) => {
                for (field, column) in fields {
                    let column = as_arg(column).ok_or_else(|| bad(path, &name))?;
                    out.push(flag.clone().into());
                    out.push(format!("{field}={column}").into());
                }
            }
            other => {
                out.push(flag.into());
                out.push(as_arg(other).ok_or_else(|| bad(path, &name))?.into());
            }
        }
    }
    Ok(out)
}

fn bad(path: &Path, name: &str) -> Failure {
    Failure::new(
        exit::CONFIG,
        format!(
            "`{}`: the value of `{name}` is not a string, number or true/false",
            path.display()
        ),
    )
}

/// The command line with the settings file's values put in front of the
/// user's flags (for `run`, `rerun` and `track`).
pub fn with_file(args: Vec<OsString>) -> Result<Vec<OsString>, Failure> {
    let Some(sub) = args.get(1).map(|s| s.to_string_lossy().into_owned()) else {
        return Ok(args);
    };
    if !READERS.contains(&sub.as_str()) {
        return Ok(args);
    }
    let Some((path, named)) = locate(&args[2..]) else {
        return Ok(args);
    };
    if named && !path.exists() {
        return Err(Failure::new(
            exit::CONFIG,
            format!("the settings file `{}` does not exist", path.display()),
        ));
    }
    let mut out = args[..2].to_vec();
    out.extend(file_args(&path, &sub)?);
    out.extend(args[2..].iter().cloned());
    Ok(out)
}

/// `handoff config`: every setting of `run`, its value and its source.
pub fn describe(config: Option<PathBuf>, flags: &[String]) -> Result<String, Failure> {
    let path = config.or_else(|| {
        let here = PathBuf::from("handoff.toml");
        here.exists().then_some(here)
    });
    let from_file = match &path {
        Some(p) => file_args(p, "run")?,
        None => Vec::new(),
    };
    let mut argv: Vec<OsString> = vec!["handoff".into(), "run".into()];
    argv.extend(from_file.iter().cloned());
    let user_start = argv.len();
    argv.extend(flags.iter().map(OsString::from));
    argv.push("INPUT.csv".into());
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    let run = matches
        .subcommand_matches("run")
        .ok_or_else(|| Failure::new(exit::INTERNAL, "no run settings"))?;
    let user: Vec<String> = argv[user_start..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let root = Cli::command();
    let Some(cmd) = root.find_subcommand("run") else {
        return Err(Failure::new(exit::INTERNAL, "no run command"));
    };
    let mut out = String::new();
    out.push_str(&format!(
        "settings file: {}\n\n{:<18} {:<40} source\n",
        path.as_ref()
            .map_or_else(|| "none".to_string(), |p| p.display().to_string()),
        "setting",
        "value"
    ));
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long() else { continue };
        if ["help", "config"].contains(&long) || arg.is_positional() {
            continue;
        }
        let values: Vec<String> = run
            .get_raw(id)
            .map(|v| v.map(|x| x.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let value = if values.is_empty() {
            "-".to_string()
        } else {
            values.join(", ")
        };
        let flag = format!("--{long}");
        let source = match run.value_source(id) {
            Some(clap::parser::ValueSource::CommandLine) => {
                if user
                    .iter()
                    .any(|u| *u == flag || u.starts_with(&format!("{flag}=")))
                {
                    "flag".to_string()
                } else {
                    "settings file".to_string()
                }
            }
            Some(clap::parser::ValueSource::EnvVariable) => format!(
                "environment {}",
                arg.get_env()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            Some(clap::parser::ValueSource::DefaultValue) => "default".to_string(),
            _ => "unset".to_string(),
        };
        out.push_str(&format!("{long:<18} {value:<40} {source}\n"));
    }
    let token_file = run
        .get_raw("token_file")
        .and_then(|mut v| v.next())
        .map(|v| v.to_string_lossy().into_owned());
    let token = if let Some(f) = token_file {
        format!("[REDACTED] from the token file {f}")
    } else if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(PathBuf::from)
        .filter(|d| d.join("onemsg_token").exists())
    {
        format!(
            "[REDACTED] from the systemd credential {}",
            dir.join("onemsg_token").display()
        )
    } else if std::env::var_os("ONEMSG_TOKEN").is_some_and(|v| !v.is_empty()) {
        "[REDACTED] from the environment ONEMSG_TOKEN".to_string()
    } else {
        "none (give --token-file, a systemd credential or ONEMSG_TOKEN)".to_string()
    };
    out.push_str(&format!("{:<18} {token}\n", "token"));
    Ok(out)
}
