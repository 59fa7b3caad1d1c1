//! Before any send: the credentials work, and the template exists in our
//! language, is approved and takes exactly the four body variables we fill.
//! A misconfiguration stops the job here with one clear message, instead of
//! failing ten thousand rows.

use crate::api::client::{ApiError, Client};
use crate::api::wire::{TemplateInfo, count_variables};
use crate::cli::ApiArgs;
use crate::error::Failure;
use crate::exit;

/// What preflight learned about the template.
pub(super) struct Template {
    pub namespace: Option<String>,
    pub body: String,
    pub button: Option<String>,
}

/// Checks, before any send, that the credentials work and the template
/// exists in our language, is approved and takes exactly four variables.
pub(super) async fn preflight(
    client: &Client,
    api: &ApiArgs,
    channel: &str,
) -> Result<Template, Failure> {
    let templates = client.templates().await.map_err(|e| match e {
        ApiError::Credentials { status } => Failure::new(
            exit::NO_PERM,
            format!(
                "the API refused our credentials for channel {channel} (HTTP {status}): check the token and the channel id; nothing was sent"
            ),
        ),
        ApiError::Status { status, .. } if status < 500 && status != 429 => Failure::new(
            exit::CONFIG,
            format!("failed to list the channel's templates: {e}; check --api-url and --channel; nothing was sent"),
        ),
        e => Failure::new(
            exit::UNAVAILABLE,
            format!("failed to list the channel's templates: {e}; nothing was sent, run again later"),
        ),
    })?;
    check_template(
        &templates,
        &api.template,
        &api.language,
        api.namespace.as_deref(),
    )
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
        let mut names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` does not exist on this channel (it has: {}); set --template; nothing was sent",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    let Some(t) = named.iter().find(|t| t.language_code() == Some(language)) else {
        let langs: Vec<&str> = named.iter().filter_map(|t| t.language_code()).collect();
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` has no `{language}` translation (it has: {}); set --language; nothing was sent",
                langs.join(", ")
            ),
        ));
    };
    let status = t.status.clone().unwrap_or_default();
    if !status.eq_ignore_ascii_case("approved") {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` ({language}) is {}, not approved; nothing was sent",
                if status.is_empty() {
                    "of unknown status".into()
                } else {
                    status.to_ascii_uppercase()
                }
            ),
        ));
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
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` ({language}) takes {variables} body variable(s){}; handoff fills exactly four (partner, order, product, note) in the body; nothing was sent",
                if other_variables > 0 {
                    format!(" and {other_variables} outside the body")
                } else {
                    String::new()
                }
            ),
        ));
    }
    let button = t.component_list().iter().find_map(|c| {
        c.get("buttons")?
            .as_array()?
            .first()?
            .get("text")?
            .as_str()
            .map(str::to_string)
    });
    Ok(Template {
        namespace: namespace
            .map(str::to_string)
            .or_else(|| t.namespace().map(str::to_string)),
        body,
        button,
    })
}
