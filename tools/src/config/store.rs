//! `[store]`: the trade store (`crate::store`) a run keeps current.

use autobot_engine::config::{RangeError, Validate};
use serde::Deserialize;

/// `[store]` (optional: the SQLite store in the run directory, kept live).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Keep the store current during `autobot run` (a shadow core follows
    /// the journal on its own thread; the trading core never waits for
    /// it). Off: `autobot store rebuild` makes it afterwards.
    pub live: bool,
    /// `""`: `store.sqlite` in the run directory. Else a PostgreSQL
    /// database shared by a team, `postgres://USER@HOST:PORT/DATABASE`,
    /// its password from `AUTOBOT_STORE_PASSWORD` (never in the URL).
    pub url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            live: true,
            url: String::new(),
        }
    }
}

impl StoreConfig {
    /// The default: nothing to write into a config file.
    pub fn is_default(&self) -> bool {
        *self == StoreConfig::default()
    }
}

impl Validate for StoreConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        if self.url.is_empty() {
            return Ok(());
        }
        check_url(&self.url).map_err(|why| {
            // The value is not repeated: it may hold a password.
            RangeError::new(
                at,
                "url",
                format!("a URL that was refused ({why})"),
                "\"\" (SQLite in the run directory) or postgres://USER@HOST:PORT/DATABASE",
            )
        })
    }
}

/// The environment variable a PostgreSQL store's password is read from.
pub const PASSWORD_ENV: &str = "AUTOBOT_STORE_PASSWORD";

/// Why a store URL is refused before anything connects: not a
/// PostgreSQL URL, or one carrying a password (it would sit in config
/// files, shell history and process lists). The message never repeats
/// the URL.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err("not a PostgreSQL URL; want postgres://USER@HOST:PORT/DATABASE".into());
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && userinfo.contains(':')
    {
        return Err(format!(
            "it carries a password: remove it from the URL and set {PASSWORD_ENV} instead"
        ));
    }
    if url.contains("password=") {
        return Err(format!(
            "it carries a password parameter: remove it and set {PASSWORD_ENV} instead"
        ));
    }
    Ok(())
}
