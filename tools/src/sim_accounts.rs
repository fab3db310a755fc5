//! The accounts `autobot simexchange` keeps: each an API key pair a client
//! signs with, and the account's wallet and leverage.
//!
//! Sources, in order (SPEC 12: secrets only from the environment or an
//! owner-only file):
//! 1. `--keys FILE`: a TOML file only its owner can read (0600 or 0400),
//!    one `[[accounts]]` table per account:
//!
//!    ```toml
//!    [[accounts]]
//!    api_key = "alice-key"
//!    api_secret = "alice-secret"   # HMAC secret, or an Ed25519 private key (PEM)
//!    balance = "25000"             # USDT wallet (default: [account] starting_balance)
//!    leverage = 10                 # 1 ..= 125 (default: [account] leverage)
//!    ```
//! 2. otherwise the engine's own variables (`AUTOBOT_API_KEY` and
//!    `AUTOBOT_API_SECRET`, or `AUTOBOT_KEY_FILE`): one account, so an
//!    engine and the simulator started from the same shell agree.
//!
//! Invariant: no error or printed line contains a key or a secret; a
//! file's content is never echoed, only a line number and what is wrong.

use std::path::{Path, PathBuf};

use autobot_engine::types::Money;
use autobot_gateways::credentials::{CredentialError, Credentials, Hidden};
use autobot_gateways::sim::SimAccount;
use autobot_gateways::sim::venue::AccountConfig;

/// Why the accounts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// The keys file cannot be read.
    #[error("keys file {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error's kind.
        reason: String,
    },
    /// Others can read the keys file.
    #[error("keys file {} has mode {mode:04o}: others can read it; run 'chmod 600 {}'", path.display(), path.display())]
    Shared {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not the expected TOML.
    #[error("keys file {} line {line}: {problem}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong (never a value from the file).
        problem: String,
    },
    /// An account's value is out of range.
    #[error("keys file {}: account {index}: {problem}", path.display())]
    Value {
        /// The file.
        path: PathBuf,
        /// The account (from 1).
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// The environment's key pair is incomplete or unreadable.
    #[error(transparent)]
    Environment(#[from] CredentialError),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    accounts: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    api_key: String,
    api_secret: String,
    balance: Option<String>,
    leverage: Option<u32>,
}

/// The accounts of `--keys FILE`, each starting from `template` (the
/// config's fees, margin rules, wallet and leverage).
pub fn from_file(path: &Path, template: &AccountConfig) -> Result<Vec<SimAccount>, AccountsError> {
    use autobot_gateways::os::{OwnerOnly, read_owner_only};
    let text = read_owner_only(path).map_err(|e| match e {
        OwnerOnly::Unreadable(reason) => AccountsError::Unreadable {
            path: path.to_path_buf(),
            reason,
        },
        OwnerOnly::Shared(mode) => AccountsError::Shared {
            path: path.to_path_buf(),
            mode,
        },
    })?;
    let file: KeysFile = toml::from_str(&text).map_err(|e| format_error(path, &text, &e))?;
    if file.accounts.is_empty() {
        return Err(AccountsError::Format {
            path: path.to_path_buf(),
            line: 1,
            problem: "no [[accounts]]".into(),
        });
    }
    file.accounts
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let value = |problem: String| AccountsError::Value {
                path: path.to_path_buf(),
                index: i + 1,
                problem,
            };
            if e.api_key.trim().is_empty() || e.api_secret.trim().is_empty() {
                return Err(value("api_key and api_secret must not be empty".into()));
            }
            let mut account = template.clone();
            if let Some(b) = &e.balance {
                account.rules.wallet = Money::parse(b)
                    .ok()
                    .filter(|m| m.is_positive())
                    .ok_or_else(|| value(format!("balance {b:?} is not a positive USDT amount")))?;
            }
            if let Some(l) = e.leverage {
                if !(1..=125).contains(&l) {
                    return Err(value(format!(
                        "leverage {l} is out of range; allowed: 1 ..= 125"
                    )));
                }
                account.rules.leverage = l;
            }
            Ok(SimAccount {
                api_key: Hidden::new(e.api_key),
                secret: Hidden::new(e.api_secret),
                account,
            })
        })
        .collect()
}

/// A TOML error as a line and a problem that cannot show a key or a
/// secret (serde's messages quote the value of a mistyped field).
fn format_error(path: &Path, text: &str, e: &toml::de::Error) -> AccountsError {
    let at = e.span().map_or(0, |s| s.start);
    let line = text[..at.min(text.len())].matches('\n').count() + 1;
    let this_line = text.lines().nth(line - 1).unwrap_or_default();
    let message = e.message();
    let problem = if this_line.contains("api_key") || this_line.contains("api_secret") {
        "api_key and api_secret must be strings in double quotes".to_string()
    } else if message.contains('\n') {
        message.lines().next().unwrap_or_default().to_string()
    } else {
        message.to_string()
    };
    AccountsError::Format {
        path: path.to_path_buf(),
        line,
        problem,
    }
}

/// The accounts: `--keys FILE` when given, else one account from the
/// engine's key variables, else none (signed requests are refused).
pub fn load(
    keys: Option<&Path>,
    template: &AccountConfig,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Vec<SimAccount>, AccountsError> {
    if let Some(path) = keys {
        return from_file(path, template);
    }
    match Credentials::from_vars(var) {
        Ok(c) => Ok(vec![SimAccount {
            api_key: c.api_key,
            secret: c.api_secret,
            account: template.clone(),
        }]),
        Err(CredentialError::Missing) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_test_support::Scratch;
    use std::os::unix::fs::PermissionsExt as _;

    const SECRET: &str = "s3cr3t-NEVER-SHOWN";

    fn file(dir: &Scratch, text: &str, mode: u32) -> PathBuf {
        let path = dir.join("keys.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn template() -> AccountConfig {
        let mut t = AccountConfig::default();
        t.rules.wallet = Money::parse("10000").unwrap();
        t.rules.leverage = 3;
        t
    }

    #[test]
    fn several_accounts_with_their_own_wallets_and_leverage() {
        let dir = Scratch::new("sim-keys");
        let path = file(
            &dir,
            &format!(
                "[[accounts]]\napi_key = \"alice\"\napi_secret = \"{SECRET}\"\nbalance = \"25000\"\nleverage = 10\n\n\
                 [[accounts]]\napi_key = \"bob\"\napi_secret = \"other\"\n"
            ),
            0o600,
        );
        let a = from_file(&path, &template()).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].api_key.expose(), "alice");
        assert_eq!(a[0].account.rules.wallet, Money::parse("25000").unwrap());
        assert_eq!(a[0].account.rules.leverage, 10);
        assert_eq!(
            a[1].account.rules.wallet,
            Money::parse("10000").unwrap(),
            "the config's"
        );
        assert_eq!(a[1].account.rules.leverage, 3);
    }

    #[test]
    fn bad_files_are_named_without_their_secrets() {
        let dir = Scratch::new("sim-keys-bad");
        let shared = file(&dir, "[[accounts]]\n", 0o644);
        let e = from_file(&shared, &template()).unwrap_err().to_string();
        assert!(e.contains("mode 0644") && e.contains("chmod 600"), "{e}");
        for (text, says) in [
            (
                format!("[[accounts]]\napi_key = \"a\"\napi_secret = {SECRET:?}\nleverage = 500\n"),
                "account 1: leverage 500 is out of range",
            ),
            (
                format!(
                    "[[accounts]]\napi_key = \"a\"\napi_secret = {SECRET:?}\nbalance = \"-5\"\n"
                ),
                "account 1: balance \"-5\" is not a positive",
            ),
            (
                format!("[[accounts]]\napi_key = \"a\"\napi_secret = {SECRET:?}\nwallet = \"5\"\n"),
                "line 4: unknown field `wallet`",
            ),
            (
                format!(
                    "[[accounts]]\napi_key = \"a\"\napi_secret = 123{}\n",
                    SECRET.len()
                ),
                "line 3: api_key and api_secret must be strings",
            ),
            ("accounts = []\n".to_string(), "no [[accounts]]"),
        ] {
            let path = file(&dir, &text, 0o600);
            let e = from_file(&path, &template()).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains(SECRET) && !e.contains("12318"), "{e}");
        }
    }

    #[test]
    fn without_a_file_the_engines_variables_give_one_account() {
        let vars = |k: &str| match k {
            "AUTOBOT_API_KEY" => Some("k".to_string()),
            "AUTOBOT_API_SECRET" => Some(SECRET.to_string()),
            _ => None,
        };
        let a = load(None, &template(), vars).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].secret.expose(), SECRET);
        assert!(load(None, &template(), |_| None).unwrap().is_empty());
        let half = |k: &str| (k == "AUTOBOT_API_KEY").then(|| "k".to_string());
        let e = load(None, &template(), half).unwrap_err().to_string();
        assert!(e.contains("AUTOBOT_API_SECRET"), "{e}");
    }
}
