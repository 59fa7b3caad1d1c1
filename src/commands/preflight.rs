//! Before any send: the channel is connected, the credentials work on every
//! route the run uses (the token may be accepted by `sendTemplate` and
//! refused by `hookInfo`, docs/real-api.md, A4), and the
//! template exists in our language, is approved and takes exactly the four
//! body variables we fill. A misconfiguration stops the job here with one
//! clear message, instead of failing ten thousand rows.

pub(super) mod outputs;

use std::future::Future;
use std::time::Duration;

use tracing::{info, warn};

use crate::api::client::{ApiError, Client, TokenIn};
use crate::api::history::read_page;
use crate::api::templates::{TemplateInfo, shared_namespace};
use crate::api::wire::count_variables;
use crate::cli::ApiArgs;
use crate::error::Failure;
use crate::exit;

/// The waits before each retry of a `/templates` that answered 429, 5xx or
/// nothing: one bad second must not end the night, a real outage must.
const TEMPLATE_RETRIES: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// A message id no channel has issued, for probing `hookInfo`.
const PROBE_ID: &str = "handoff-preflight-probe-no-such-message";

/// What preflight learned about the template (`track` sends nothing and
/// checks none: the default).
#[derive(Default)]
pub(super) struct Template {
    pub namespace: Option<String>,
    pub body: String,
    pub button: Option<String>,
    /// Meta's category and quality rating, as the list gave them.
    pub category: Option<String>,
    pub quality: Option<String>,
}

/// Checks, before any send, the channel's status, the credentials on every
/// route, and that the template exists in our language, is approved and
/// takes exactly four variables.
pub(super) async fn preflight(
    client: &Client,
    api: &ApiArgs,
    channel: &str,
    languages: &[String],
) -> Result<Template, Failure> {
    check_status(client, channel).await?;
    probe_routes(client, channel).await?;
    let templates = retrying(&TEMPLATE_RETRIES, || client.templates())
        .await
        .map_err(|e| templates_failure(e, channel, client.token_in()))?;
    let template = check_template(
        &templates,
        &api.template,
        &api.language,
        api.namespace.as_deref(),
    )?;
    check_health(&template, &api.template, &api.allow_category)?;
    check_languages(&templates, api, languages)?;
    Ok(template)
}

/// The template in every other language the night's contacts are written
/// in (`--partners`): each translation passes the same checks as
/// `--language`'s, and every missing one is named at once, so one night's
/// fix covers them all.
fn check_languages(
    templates: &[TemplateInfo],
    api: &ApiArgs,
    languages: &[String],
) -> Result<(), Failure> {
    let name = &api.template;
    let has = |l: &str| {
        templates
            .iter()
            .any(|t| t.name == *name && t.language_code() == Some(l))
    };
    let missing: Vec<String> = languages
        .iter()
        .filter(|l| !has(l))
        .map(|l| format!("`{l}`"))
        .collect();
    if !missing.is_empty() {
        return Err(misconfigured(format!(
            "template `{name}` has no {} translation, which contacts in the partners file are \
             written in; add the translation, or change those contacts' language",
            missing.join(", ")
        )));
    }
    for language in languages {
        check_template(templates, name, language, api.namespace.as_deref())?;
    }
    Ok(())
}

/// Meta's judgement of the template, forwarded in the list: a template Meta
/// has moved out of UTILITY (as it may since April 2025) is billed as its
/// new category and capped per partner, so it stops the run unless
/// `--allow-category` says it is meant; a RED quality warns, as Meta pauses
/// such a template (132015) and may pace its sends. A list that names
/// neither says nothing, and the run goes on.
fn check_health(t: &Template, name: &str, allowed: &[String]) -> Result<(), Failure> {
    if let Some(category) = &t.category
        && category != "UTILITY"
        && !allowed.iter().any(|c| c.eq_ignore_ascii_case(category))
    {
        return Err(misconfigured(format!(
            "template `{name}` is listed in Meta's {category} category, not UTILITY: its messages \
             are billed as {category} and capped per partner (131049); if that is meant, add \
             --allow-category {}",
            category.to_ascii_lowercase()
        )));
    }
    match t.quality.as_deref() {
        Some("RED") => warn!(
            template = %name,
            "Meta rates the template's quality RED: it may pause it (sends refused with 132015, the rest of the night skipped) or hold sends for a quality check; review the template"
        ),
        Some("YELLOW") => info!(template = %name, "Meta rates the template's quality YELLOW"),
        _ => {}
    }
    Ok(())
}

/// A refused token on any route stops the run: exit 77, with the way out;
/// every other error is handed back for the caller to weigh.
fn refused(e: ApiError, channel: &str, token_in: TokenIn) -> Result<ApiError, Failure> {
    let ApiError::Credentials {
        route,
        status,
        said,
    } = e
    else {
        return Ok(e);
    };
    let hint = match token_in {
        TokenIn::Header => {
            "; if they are right, this route may want the token in the query: try --token-in query"
        }
        TokenIn::Query => "",
    };
    let why = format!(
        "the API refused our credentials on {route} for channel {channel} (HTTP {status}){said}: check the token and the channel id{hint}; nothing was sent"
    );
    Err(Failure::new(exit::NO_PERM, why))
}

/// A misconfiguration found before the first send: exit 78, and `why`.
fn misconfigured(why: String) -> Failure {
    Failure::new(exit::CONFIG, format!("{why}; nothing was sent"))
}

/// What a `/status` word means for sending: `Ok(())` to go on, `Err` with
/// the explanation to stop. The words and their meaning are the OLD spec's
/// (`connected`/`connecting`: everything is ok).
fn status_verdict(word: &str) -> Result<(), &'static str> {
    match word.trim().to_ascii_lowercase().as_str() {
        "connected" | "connecting" | "authorized" | "authenticated" => Ok(()),
        "disconnected" => Err("the channel is not connected to the WhatsApp servers"),
        "uninitialized" => {
            Err("the channel is upgrading or initializing; try again in a few minutes")
        }
        "unregistered" => Err("the channel must be registered, or was blocked; contact 1MSG"),
        _ => Err("handoff sends only on a connected channel"),
    }
}

/// `GET status`: a channel that is not connected stops the run (exit 78).
/// A status that cannot be read is only a warning: the route is not known
/// to exist on every deployment.
async fn check_status(client: &Client, channel: &str) -> Result<(), Failure> {
    match client.status().await {
        Ok(Some(word)) => match status_verdict(&word) {
            Ok(()) => {
                if word.eq_ignore_ascii_case("connecting") {
                    warn!(
                        channel,
                        "the channel's status is `connecting`; sending anyway"
                    );
                }
                Ok(())
            }
            Err(why) => Err(misconfigured(format!(
                "channel {channel} reports status `{word}`, not connected: {why}"
            ))),
        },
        Ok(None) => {
            warn!(channel, "GET status named no channel status; going on");
            Ok(())
        }
        Err(e) => {
            let e = refused(e, channel, client.token_in())?;
            warn!(channel, error = %e, "the channel's status could not be read; going on");
            Ok(())
        }
    }
}

/// Probes `hookInfo` and `messages` with the configured auth: a refused
/// token stops the run (tracking and look-ups would silently fail); any
/// other failure is a warning.
async fn probe_routes(client: &Client, channel: &str) -> Result<(), Failure> {
    // Each route, the query it is asked with, and what its failure means
    // for the run.
    let probes = [
        (
            "hookInfo",
            ("messageId", PROBE_ID),
            "statuses may not be tracked (some deployments answer 404 for an unknown id; tracking says so if every message gets it)",
        ),
        (
            "messages",
            ("limit", "1"),
            "doubtful sends may not be looked up in the history",
        ),
    ];
    for (route, (key, value), consequence) in probes {
        match client.get_value(route, &[(key, value.to_string())]).await {
            Ok(v) => {
                if route == "messages" && read_page(&v).is_ok_and(|p| p.no_history) {
                    info!(
                        channel,
                        "this channel keeps no message history: a doubtful send cannot be looked up and stays unknown"
                    );
                }
            }
            Err(e) => {
                let e = refused(e, channel, client.token_in())?;
                warn!(channel, route, error = %e, "preflight probe failed: {consequence}");
            }
        }
    }
    Ok(())
}

/// Whether a failure may pass by itself: a 429, a 5xx, no answer.
fn is_transient(e: &ApiError) -> bool {
    match e {
        ApiError::Status { status, .. } => *status == 429 || *status >= 500,
        ApiError::Transport(_) => true,
        _ => false,
    }
}

/// `op`, tried again after each of `delays` while it fails transiently.
async fn retrying<T, F, Fut>(delays: &[Duration], mut op: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut waits = delays.iter();
    loop {
        match op().await {
            Err(e) if is_transient(&e) => match waits.next() {
                Some(wait) => {
                    warn!(error = %e, retry_in_seconds = wait.as_secs_f64(), "listing the templates failed; trying again");
                    tokio::time::sleep(*wait).await;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

/// Why the template list could not be read, as the run's failure.
fn templates_failure(e: ApiError, channel: &str, token_in: TokenIn) -> Failure {
    let e = match refused(e, channel, token_in) {
        Ok(e) => e,
        Err(refusal) => return refusal,
    };
    match e {
        ApiError::Status { status, .. } if status < 500 && status != 429 => misconfigured(format!(
            "failed to list the channel's templates: {e}; check --api-url and --channel"
        )),
        ApiError::Answered(_) => Failure::new(
            exit::UNAVAILABLE,
            format!(
                "failed to list the channel's templates: {e}; nothing was sent, run again later"
            ),
        ),
        e => Failure::new(
            exit::UNAVAILABLE,
            format!(
                "failed to list the channel's templates ({} tries): {e}; nothing was sent, run again later",
                TEMPLATE_RETRIES.len() + 1
            ),
        ),
    }
}

/// The template checks, apart from the HTTP call, so they can be tested.
pub(super) fn check_template(
    templates: &[TemplateInfo],
    name: &str,
    language: &str,
    namespace: Option<&str>,
) -> Result<Template, Failure> {
    let named: Vec<&TemplateInfo> = templates.iter().filter(|t| t.name == name).collect();
    if named.is_empty() {
        let names: std::collections::BTreeSet<&str> =
            templates.iter().map(|t| t.name.as_str()).collect();
        return Err(misconfigured(format!(
            "template `{name}` does not exist on this channel (it has: {}); set --template",
            if names.is_empty() {
                "none".to_string()
            } else {
                Vec::from_iter(names).join(", ")
            }
        )));
    }
    let Some(t) = named.iter().find(|t| t.language_code() == Some(language)) else {
        let langs: Vec<&str> = named.iter().filter_map(|t| t.language_code()).collect();
        return Err(misconfigured(format!(
            "template `{name}` has no `{language}` translation (it has: {}); set --language",
            langs.join(", ")
        )));
    };
    let status = t.status.clone().unwrap_or_default();
    if !status.eq_ignore_ascii_case("approved") {
        return Err(misconfigured(format!(
            "template `{name}` ({language}) is {}, not approved",
            if status.is_empty() {
                "of unknown status".into()
            } else {
                status.to_ascii_uppercase()
            }
        )));
    }
    let body = t.body_text().unwrap_or_default();
    let variables = count_variables(&body);
    let other_variables: usize = t
        .component_list()
        .iter()
        .filter(|c| {
            !c.get("type")
                .and_then(|k| k.as_str())
                .is_some_and(|k| k.eq_ignore_ascii_case("body"))
        })
        .map(|c| count_variables(&c.to_string()))
        .sum();
    if variables != 4 || other_variables != 0 {
        return Err(misconfigured(format!(
            "template `{name}` ({language}) takes {variables} body variable(s){}; handoff fills exactly four (partner, order, product, note) in the body",
            if other_variables > 0 {
                format!(" and {other_variables} outside the body")
            } else {
                String::new()
            }
        )));
    }
    let button = t.component_list().iter().find_map(|c| {
        c.get("buttons")?
            .as_array()?
            .first()?
            .get("text")?
            .as_str()
            .map(str::to_string)
    });
    let namespace = namespace.map(str::to_string).or_else(|| {
        t.namespace.clone().or_else(|| {
            let shared = shared_namespace(templates).map(str::to_string);
            if let Some(ns) = &shared {
                info!(namespace = %ns, "the template names no namespace; using the one its sibling templates share");
            }
            shared
        })
    });
    Ok(Template {
        namespace,
        body,
        button,
        category: t.category.clone(),
        quality: t.quality.clone(),
    })
}

#[cfg(test)]
mod tests;
