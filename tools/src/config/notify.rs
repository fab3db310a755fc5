//! `[notify]`: notifications to people (`autobot_gateways::notify`). The
//! secrets (a webhook URL, a bot token) are never in this file: they come
//! from the environment or an owner-only file named here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use autobot_engine::config::{RangeError, Validate, check_range};
use autobot_gateways::credentials::Hidden;
use autobot_gateways::notify::{ChannelConfig, PayloadShape, Policy, Sink};
use serde::Deserialize;

/// The webhook URL's environment variable.
pub const ENV_WEBHOOK: &str = "AUTOBOT_NOTIFY_WEBHOOK";
/// The Telegram bot token's environment variable.
pub const ENV_TELEGRAM: &str = "AUTOBOT_TELEGRAM_TOKEN";

/// `[notify]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// One line per message on stderr.
    pub stderr: bool,
    /// Messages per channel per rolling minute (1 ..= 10000); the excess
    /// is coalesced into one "N more alerts" message.
    pub per_minute: u32,
    /// Attempts after a failed delivery (0 ..= 20).
    pub retries: u32,
    /// The first retry's delay in ms (1 ..= 60000); each next one doubles,
    /// ± 25% jitter.
    pub retry_ms: u64,
    /// Each request's time limit in seconds (1 ..= 120).
    pub timeout_secs: u64,
    /// The webhook's payload: `""` off, `"json"`, `"slack"` or `"discord"`.
    pub webhook: String,
    /// An owner-only file holding the webhook URL (else `AUTOBOT_NOTIFY_WEBHOOK`).
    pub webhook_url_file: String,
    /// The Telegram chat to write to (`""`: off).
    pub telegram_chat_id: String,
    /// An owner-only file holding the bot token (else `AUTOBOT_TELEGRAM_TOKEN`).
    pub telegram_token_file: String,
    /// The Bot API's base URL.
    pub telegram_base_url: String,
    /// Announce fills of at least this notional (USDT); 0: none.
    pub fill_notional: autobot_engine::types::Money,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            stderr: true,
            per_minute: 20,
            retries: 5,
            retry_ms: 500,
            timeout_secs: 10,
            webhook: String::new(),
            webhook_url_file: String::new(),
            telegram_chat_id: String::new(),
            telegram_token_file: String::new(),
            telegram_base_url: "https://api.telegram.org".into(),
            fill_notional: autobot_engine::types::Money::ZERO,
        }
    }
}

impl Validate for NotifyConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "per_minute", self.per_minute, 1, 10_000)?;
        check_range(at, "retries", self.retries, 0, 20)?;
        check_range(at, "retry_ms", self.retry_ms, 1, 60_000)?;
        check_range(at, "timeout_secs", self.timeout_secs, 1, 120)?;
        if self.fill_notional.is_negative() {
            return Err(RangeError::new(
                at,
                "fill_notional",
                self.fill_notional,
                "0 (off) or a positive USDT notional",
            ));
        }
        if self.shape().is_err() {
            return Err(RangeError::new(
                at,
                "webhook",
                format!("{:?}", self.webhook),
                "\"\" (off), \"json\", \"slack\" or \"discord\"",
            ));
        }
        let base = &self.telegram_base_url;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(RangeError::new(
                at,
                "telegram_base_url",
                format!("{base:?}"),
                "an http:// or https:// URL",
            ));
        }
        Ok(())
    }
}

/// Why a channel could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifySetupError {
    /// A configured channel has no secret to use.
    #[error(
        "[notify] {channel} is on, but {what} is not set: set {env}, or {key} to a file only you can read"
    )]
    MissingSecret {
        /// The channel.
        channel: &'static str,
        /// What it needs.
        what: &'static str,
        /// The variable.
        env: &'static str,
        /// The config key naming a file.
        key: &'static str,
    },
    /// The secret's file is readable by others, or not readable.
    #[error("[notify] {key} = {}: {reason}", path.display())]
    BadFile {
        /// The key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why (never its content).
        reason: String,
    },
}

/// A secret from the environment, else from an owner-only file.
fn secret(
    env: &'static str,
    key: &'static str,
    file: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Hidden>, NotifySetupError> {
    if let Some(v) = var(env).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Hidden::new(v.trim().to_string())));
    }
    if file.is_empty() {
        return Ok(None);
    }
    let path = Path::new(file);
    let bad = |reason: String| NotifySetupError::BadFile {
        key,
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.kind().to_string()))?;
    let mode = autobot_gateways::os::permission_bits(&meta);
    if autobot_gateways::os::shared(mode) {
        return Err(bad(format!(
            "others may read it (mode {mode:o}); chmod 600 it"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.kind().to_string()))?;
    Ok(Some(Hidden::new(text.trim().to_string())).filter(|h| !h.expose().is_empty()))
}

impl NotifyConfig {
    fn shape(&self) -> Result<Option<PayloadShape>, ()> {
        match self.webhook.as_str() {
            "" => Ok(None),
            "json" => Ok(Some(PayloadShape::Json)),
            "slack" => Ok(Some(PayloadShape::Slack)),
            "discord" => Ok(Some(PayloadShape::Discord)),
            _ => Err(()),
        }
    }

    /// How every channel delivers.
    pub fn policy(&self) -> Policy {
        Policy {
            per_minute: self.per_minute,
            retries: self.retries,
            backoff: Duration::from_millis(self.retry_ms),
            timeout: Duration::from_secs(self.timeout_secs),
        }
    }

    /// The channels, their secrets read from `var` (the environment) or
    /// the files named.
    pub fn channels(
        &self,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<ChannelConfig>, NotifySetupError> {
        let policy = self.policy();
        let mut out = Vec::new();
        if self.stderr {
            out.push(ChannelConfig {
                sink: Sink::Stderr,
                policy: policy.clone(),
            });
        }
        if let Ok(Some(shape)) = self.shape() {
            let url = secret(ENV_WEBHOOK, "webhook_url_file", &self.webhook_url_file, var)?.ok_or(
                NotifySetupError::MissingSecret {
                    channel: "webhook",
                    what: "the webhook URL",
                    env: ENV_WEBHOOK,
                    key: "webhook_url_file",
                },
            )?;
            out.push(ChannelConfig {
                sink: Sink::Webhook { url, shape },
                policy: policy.clone(),
            });
        }
        if !self.telegram_chat_id.is_empty() {
            let token = secret(
                ENV_TELEGRAM,
                "telegram_token_file",
                &self.telegram_token_file,
                var,
            )?
            .ok_or(NotifySetupError::MissingSecret {
                channel: "telegram",
                what: "the bot token",
                env: ENV_TELEGRAM,
                key: "telegram_token_file",
            })?;
            out.push(ChannelConfig {
                sink: Sink::Telegram {
                    base_url: self.telegram_base_url.clone(),
                    token,
                    chat_id: self.telegram_chat_id.clone(),
                },
                policy,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn stderr_alone_by_default_and_bad_values_are_refused_by_name() {
        let c = NotifyConfig::default();
        assert!(c.validate("notify").is_ok());
        let ch = c.channels(&none).unwrap();
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].sink.name(), "stderr");
        let bad = NotifyConfig {
            webhook: "teams".into(),
            ..NotifyConfig::default()
        };
        let e = bad.validate("notify").unwrap_err();
        assert_eq!(e.key, "notify.webhook");
        assert!(e.allowed.contains("slack"), "{e:?}");
        let bad = NotifyConfig {
            per_minute: 0,
            ..NotifyConfig::default()
        };
        assert_eq!(bad.validate("notify").unwrap_err().key, "notify.per_minute");
    }

    #[test]
    fn a_channel_without_its_secret_is_refused_and_a_shared_file_too() {
        let slack = NotifyConfig {
            webhook: "slack".into(),
            ..NotifyConfig::default()
        };
        let e = slack.channels(&none).unwrap_err().to_string();
        assert!(
            e.contains("AUTOBOT_NOTIFY_WEBHOOK") && e.contains("webhook_url_file"),
            "{e}"
        );
        let env = |k: &str| (k == ENV_WEBHOOK).then(|| "https://hooks.example/T/B/secret".into());
        let ch = slack.channels(&env).unwrap();
        assert_eq!(ch.len(), 2);

        let dir = autobot_test_support::Scratch::new("notify-config");
        let file = dir.join("token");
        std::fs::write(&file, "123:secret-token\n").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let tg = NotifyConfig {
            telegram_chat_id: "42".into(),
            telegram_token_file: file.display().to_string(),
            ..NotifyConfig::default()
        };
        let e = tg.channels(&none).unwrap_err().to_string();
        assert!(
            e.contains("chmod 600") && !e.contains("secret-token"),
            "{e}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ch = tg.channels(&none).unwrap();
        assert!(
            matches!(&ch[1].sink, Sink::Telegram { token, .. } if token.expose() == "123:secret-token")
        );
    }
}
