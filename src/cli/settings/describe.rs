//! `handoff config`: every setting of `run`, its value and where it came
//! from (flag, environment, settings file, default), the token redacted.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::CommandFactory;
use clap::parser::ValueSource;

use super::{explain, file_args, locate};
use crate::cli::Cli;
use crate::error::Failure;
use crate::exit;

/// `handoff config`: every setting of `run`, its value and its source.
pub fn describe(config: Option<PathBuf>, flags: &[String]) -> Result<String, Failure> {
    let path = config.or_else(|| locate(&[]).map(|(here, _)| here));
    let (from_file, origins) = match &path {
        Some(p) => file_args(p, "run")?,
        None => (Vec::new(), Vec::new()),
    };
    let mut argv: Vec<OsString> = vec!["handoff".into(), "run".into()];
    argv.extend(from_file);
    argv.extend(flags.iter().map(OsString::from));
    argv.push("INPUT.csv".into());
    let matches = Cli::command().try_get_matches_from(&argv).map_err(|e| {
        explain(&e, &origins).unwrap_or_else(|| Failure::new(exit::CONFIG, e.to_string()))
    })?;
    let run = matches
        .subcommand_matches("run")
        .ok_or_else(|| Failure::new(exit::INTERNAL, "no run settings"))?;
    let root = Cli::command();
    let cmd = root
        .find_subcommand("run")
        .ok_or_else(|| Failure::new(exit::INTERNAL, "no run command"))?;
    let mut out = format!(
        "settings file: {}\n\n{:<18} {:<40} source\n",
        path.as_ref()
            .map_or_else(|| "none".to_string(), |p| p.display().to_string()),
        "setting",
        "value"
    );
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long() else { continue };
        if ["help", "config"].contains(&long) || arg.is_positional() {
            continue;
        }
        let values: Vec<_> = run.get_raw(id).into_iter().flatten().collect();
        let value = match values.as_slice() {
            [] => "-".to_string(),
            v => v.join(", ".as_ref()).to_string_lossy().into_owned(),
        };
        let flag = format!("--{long}");
        let typed = |u: &String| *u == flag || u.starts_with(&format!("{flag}="));
        let env = arg.get_env().unwrap_or_default().display();
        let source = match run.value_source(id) {
            Some(ValueSource::CommandLine) if flags.iter().any(typed) => "flag".to_string(),
            Some(ValueSource::CommandLine) => "settings file".to_string(),
            Some(ValueSource::EnvVariable) => format!("environment {env}"),
            Some(ValueSource::DefaultValue) => "default".to_string(),
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
    } else if let Some(path) = crate::cli::config::credential() {
        format!("[REDACTED] from the systemd credential {}", path.display())
    } else if std::env::var_os("ONEMSG_TOKEN").is_some_and(|v| !v.is_empty()) {
        "[REDACTED] from the environment ONEMSG_TOKEN".to_string()
    } else {
        "none (give --token-file, a systemd credential or ONEMSG_TOKEN)".to_string()
    };
    out.push_str(&format!("{:<18} {token}\n", "token"));
    Ok(out)
}
