//! Where the messages go: the API, the channel and the token, from flags,
//! the environment, a token file or `--simulate`. The token never comes
//! from a flag value (it would show in `ps` and shell history).

use std::path::{Path, PathBuf};

use crate::api::client::{Client, Timeouts, Token};
use crate::cli::ApiArgs;
use crate::error::Failure;
use crate::exit;

/// Where the messages go, resolved from flags, environment or `--simulate`.
pub(crate) struct Target {
    pub api_url: String,
    pub channel: String,
    pub token: Token,
    _sim: Option<handoff_sim::SimHandle>,
}

/// A rehearsal's simulator: its profile, and the file its channel
/// remembers its messages in.
pub(crate) struct Rehearsal<'a> {
    pub profile: &'a str,
    pub memory: PathBuf,
}

/// `simulate` starts the built-in simulator with its profile, remembering
/// the channel's messages in its memory file, and uses it.
pub(crate) async fn target(
    api: &ApiArgs,
    simulate: Option<Rehearsal<'_>>,
) -> Result<Target, Failure> {
    let rehearse = " (or use --simulate to rehearse)";
    if let Some(Rehearsal { profile, memory }) = simulate {
        let scenario =
            handoff_sim::Scenario::profile(profile).map_err(|e| Failure::new(exit::CONFIG, e))?;
        let handle = handoff_sim::spawn_remembering(scenario, &memory)
            .await
            .map_err(|e| {
                let why = format!(
                    "failed to start the simulator with its memory `{}`",
                    memory.display()
                );
                Failure::because(exit::INTERNAL, why, e)
            })?;
        return Ok(Target {
            api_url: handle.base_url(),
            channel: handle.instance_id.clone(),
            token: Token::new(handle.token.clone()),
            _sim: Some(handle),
        });
    }
    let channel = api
        .channel
        .clone()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                format!("no channel: set --channel or ONEMSG_CHANNEL_ID{rehearse}"),
            )
        })?;
    let token = read_token(api.token_file.as_deref(), rehearse)?;
    Ok(Target {
        api_url: api.api_url.clone(),
        channel,
        token,
        _sim: None,
    })
}

/// The token, from the first of: `--token-file`, systemd's credential
/// (`$CREDENTIALS_DIRECTORY/onemsg_token`, from `LoadCredential=`), and
/// `ONEMSG_TOKEN` as the last resort (environment variables are inherited by
/// children and often sit in world-readable unit files). A trailing newline
/// is stripped; a token file others can read is refused.
fn read_token(file: Option<&Path>, rehearse: &str) -> Result<Token, Failure> {
    if let Some(path) = file {
        return read_token_file(path);
    }
    if let Some(path) = credential() {
        return read_token_file(&path);
    }
    match std::env::var("ONEMSG_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(Token::new(t.trim_end_matches(['\n', '\r']))),
        _ => Err(Failure::new(
            exit::CONFIG,
            format!(
                "no API token: give --token-file FILE, a systemd credential `onemsg_token`, or ONEMSG_TOKEN{rehearse}"
            ),
        )),
    }
}

/// systemd's credential `$CREDENTIALS_DIRECTORY/onemsg_token`, when there
/// is one.
pub(super) fn credential() -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    Some(Path::new(&dir).join("onemsg_token")).filter(|p| p.exists())
}

fn read_token_file(path: &Path) -> Result<Token, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            let path = path.display();
            let why = format!(
                "the token file `{path}` is readable by group or others; run `chmod 600 {path}`"
            );
            return Err(Failure::new(exit::CONFIG, why));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        let context = format!("failed to read the token file `{}`", path.display());
        Failure::because(exit::CONFIG, context, e)
    })?;
    let token = text.trim_end_matches(['\n', '\r']);
    if token.trim().is_empty() {
        return Err(Failure::new(
            exit::CONFIG,
            format!("the token file `{}` is empty", path.display()),
        ));
    }
    Ok(Token::new(token))
}

impl Target {
    /// Whether this is the built-in simulator `--simulate` started: a
    /// rehearsal, whose acceptances reach no partner.
    pub(crate) fn simulated(&self) -> bool {
        self._sim.is_some()
    }

    /// A client for this target.
    pub(crate) fn client(&self, api: &ApiArgs) -> Result<Client, Failure> {
        Client::new(
            &self.api_url,
            &self.channel,
            &self.token,
            Timeouts {
                request: api.request_timeout,
                ..Timeouts::default()
            },
            api.token_in,
        )
        .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
    }
}
