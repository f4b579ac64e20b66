//! Stages, their base URLs, the token, and reading both from the environment the way the Python
//! SDK's session does.

use std::{fmt, str::FromStr};

use crate::{Error, Result};

/// A Peak stage: which deployment of the service to talk to.
///
/// ```
/// use peak_press_apps::Stage;
///
/// let stage: Stage = "dev".parse().unwrap();
/// assert_eq!(stage.base_url(), "https://press.dev.peak.ai");
/// assert!("Prod".parse::<Stage>().is_err()); // stage names are exact and lowercase
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stage {
    /// Production, the default.
    #[default]
    Prod,
    /// The development stage.
    Dev,
    /// The latest build; served by the development stage.
    Latest,
    /// The test stage.
    Test,
    /// The beta stage.
    Beta,
    /// The parvati stage.
    Parvati,
}

impl Stage {
    /// Every stage, in the order the Python SDK lists them.
    pub const ALL: [Stage; 6] = [Self::Prod, Self::Dev, Self::Latest, Self::Test, Self::Beta, Self::Parvati];

    /// The stage's name as the environment spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prod => "prod",
            Self::Dev => "dev",
            Self::Latest => "latest",
            Self::Test => "test",
            Self::Beta => "beta",
            Self::Parvati => "parvati",
        }
    }

    /// The base URL of the Press API on this stage.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Prod => "https://press.peak.ai",
            Self::Dev | Self::Latest => "https://press.dev.peak.ai",
            Self::Test => "https://press.test.peak.ai",
            Self::Beta => "https://press.beta.peak.ai",
            Self::Parvati => "https://press.parvati.peak.ai",
        }
    }
}

impl FromStr for Stage {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|stage| stage.as_str() == name).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
            Error::config(format!("unknown stage {name:?}: expected one of {}", known.join(", ")))
        })
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token that never shows itself: its `Debug` output is a fixed mask.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The variable that holds the token; `API_KEY` is read when it is unset or empty.
pub const TOKEN_VARIABLE: &str = "PEAK_AUTH_TOKEN";
/// The fallback variable for the token.
pub const API_KEY_VARIABLE: &str = "API_KEY";
/// The variable that names the stage; `STAGE` is read when it is unset or empty.
pub const STAGE_VARIABLE: &str = "PEAK__STAGE";
/// The fallback variable for the stage.
pub const FALLBACK_STAGE_VARIABLE: &str = "STAGE";
/// The variable that holds an explicit base URL, such as the emulator's: it wins over the stage,
/// and a base URL set on the builder (or the CLI's `--base-url`) wins over it. The anchor is the
/// AWS SDKs' `AWS_ENDPOINT_URL`.
pub const BASE_URL_VARIABLE: &str = "PRESS_APPS_BASE_URL";

/// What the environment configures.
pub(crate) struct FromVariables {
    pub(crate) token: Secret,
    pub(crate) stage: Stage,
    pub(crate) base_url: Option<String>,
}

/// The token, the stage and the base URL, read through `lookup` (a variable's value, or `None`
/// when unset). Empty values count as unset.
pub(crate) fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Result<FromVariables> {
    let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
    let token = read(TOKEN_VARIABLE).or_else(|| read(API_KEY_VARIABLE)).ok_or_else(|| {
        Error::config(format!(
            "no token: set {TOKEN_VARIABLE} (or {API_KEY_VARIABLE}), or pass one to the builder"
        ))
    })?;
    let stage = match read(STAGE_VARIABLE)
        .map(|v| (STAGE_VARIABLE, v))
        .or_else(|| read(FALLBACK_STAGE_VARIABLE).map(|v| (FALLBACK_STAGE_VARIABLE, v)))
    {
        Some((variable, name)) => name.parse().map_err(|e: Error| match e {
            Error::Config { message } => Error::config(format!("{variable}: {message}")),
            other => other,
        })?,
        None => Stage::Prod,
    };
    Ok(FromVariables { token: Secret(token), stage, base_url: read(BASE_URL_VARIABLE) })
}

/// A base URL checked and without its trailing slash, or the reason it cannot be used, naming
/// `origin` (the variable or setter it came from).
pub(crate) fn checked_base_url(url: &str, origin: &str) -> Result<String> {
    let refuse = |why: &str| Err(Error::config(format!("{origin}: the base URL {url:?} {why}")));
    if !url.contains("://") {
        let example = format!("http://{}", url.trim_start_matches('/'));
        return refuse(&format!("has no scheme: write it in full, as in {example:?}"));
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return refuse("is not a valid URL");
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return refuse("is not an http or https URL");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return refuse("has no host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return refuse("must not have a query or fragment");
    }
    // Paths are appended as they are, so a trailing slash would double up.
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}
