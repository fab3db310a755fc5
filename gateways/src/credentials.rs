//! Binance API credentials: loaded only from the environment or from a file
//! that its owner alone can read (SPEC 12), and never shown.
//!
//! Sources, in order:
//! 1. `AUTOBOT_API_KEY` and `AUTOBOT_API_SECRET` (both, or neither);
//! 2. `AUTOBOT_KEY_FILE`: a file of two lines, `api_key = "…"` and
//!    `api_secret = "…"`, with no group or other permission bits (0600 or
//!    0400), so only its owner can read it.
//!
//! Invariants: no error message, `Debug` or `Display` output contains a key
//! or a secret, and a file's content is never echoed (not even the line a
//! parse error is on: it may hold the secret), only its line number.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable holding the API key.
pub const ENV_KEY: &str = "AUTOBOT_API_KEY";
/// Environment variable holding the API secret.
pub const ENV_SECRET: &str = "AUTOBOT_API_SECRET";
/// Environment variable naming an owner-only key file.
pub const ENV_FILE: &str = "AUTOBOT_KEY_FILE";

/// A value that must never be printed: `Debug` and `Display` show only its
/// length.
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden(String);

impl Hidden {
    /// Wraps a value so it is never printed.
    pub fn new(value: String) -> Hidden {
        Hidden(value)
    }

    /// The value itself, for signing and the API key header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<hidden, {} chars>", self.0.len())
    }
}

impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Where a set of credentials came from (safe to print).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `AUTOBOT_API_KEY` / `AUTOBOT_API_SECRET`.
    Environment,
    /// An owner-only file.
    File(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment => write!(f, "environment ({ENV_KEY}, {ENV_SECRET})"),
            KeySource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

/// An API key and its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The API key (sent as `X-MBX-APIKEY`).
    pub api_key: Hidden,
    /// The HMAC-SHA256 signing secret.
    pub api_secret: Hidden,
    /// Where they came from.
    pub source: KeySource,
}

/// Why no credentials could be loaded.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Nothing configured.
    #[error(
        "no API keys: set {ENV_KEY} and {ENV_SECRET}, or {ENV_FILE} to a file only you can read"
    )]
    Missing,
    /// One of the two variables is set, not the other.
    #[error("{set} is set but {unset} is not: both are needed")]
    Partial {
        /// The variable that is set.
        set: &'static str,
        /// The one that is missing.
        unset: &'static str,
    },
    /// The key file cannot be read.
    #[error("key file {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error's kind.
        reason: String,
    },
    /// The key file can be read by someone other than its owner.
    #[error(
        "key file {path} has mode {mode:04o}: others can read it; run 'chmod 600 {path}'",
        path = path.display()
    )]
    Shared {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line of the key file is not `name = "value"` with a known name.
    #[error("key file {path} line {line}: {problem}", path = path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong (never the line's text).
        problem: &'static str,
    },
    /// A value is empty or missing from the file.
    #[error("{what} is missing or empty in {from}")]
    Empty {
        /// `api_key` or `api_secret`.
        what: &'static str,
        /// Where it was looked for.
        from: KeySource,
    },
}

impl Credentials {
    /// Loads credentials from the process environment.
    pub fn from_env() -> Result<Credentials, CredentialError> {
        Credentials::from_vars(|name| std::env::var(name).ok())
    }

    /// Loads credentials through `var` (the environment, or a test's map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Credentials, CredentialError> {
        match (var(ENV_KEY), var(ENV_SECRET)) {
            (Some(key), Some(secret)) => Credentials::checked(key, secret, KeySource::Environment),
            (Some(_), None) => Err(CredentialError::Partial {
                set: ENV_KEY,
                unset: ENV_SECRET,
            }),
            (None, Some(_)) => Err(CredentialError::Partial {
                set: ENV_SECRET,
                unset: ENV_KEY,
            }),
            (None, None) => match var(ENV_FILE) {
                Some(path) if !path.trim().is_empty() => Credentials::from_file(Path::new(&path)),
                _ => Err(CredentialError::Missing),
            },
        }
    }

    /// Loads credentials from an owner-only key file.
    pub fn from_file(path: &Path) -> Result<Credentials, CredentialError> {
        let text = crate::os::read_owner_only(path).map_err(|e| match e {
            crate::os::OwnerOnly::Unreadable(reason) => CredentialError::Unreadable {
                path: path.to_path_buf(),
                reason,
            },
            crate::os::OwnerOnly::Shared(mode) => CredentialError::Shared {
                path: path.to_path_buf(),
                mode,
            },
        })?;
        let (mut key, mut secret) = (None, None);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let format = |problem| CredentialError::Format {
                path: path.to_path_buf(),
                line: i + 1,
                problem,
            };
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| format("expected name = \"value\""))?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| format("the value must be in double quotes"))?;
            let slot = match name.trim() {
                "api_key" => &mut key,
                "api_secret" => &mut secret,
                _ => return Err(format("unknown name; expected api_key or api_secret")),
            };
            if slot.is_some() {
                return Err(format("given twice"));
            }
            *slot = Some(value.to_string());
        }
        let source = KeySource::File(path.to_path_buf());
        let empty = |what| CredentialError::Empty {
            what,
            from: source.clone(),
        };
        let key = key.ok_or_else(|| empty("api_key"))?;
        let secret = secret.ok_or_else(|| empty("api_secret"))?;
        Credentials::checked(key, secret, source)
    }

    fn checked(
        key: String,
        secret: String,
        source: KeySource,
    ) -> Result<Credentials, CredentialError> {
        for (what, v) in [("api_key", &key), ("api_secret", &secret)] {
            if v.trim().is_empty() {
                return Err(CredentialError::Empty { what, from: source });
            }
        }
        Ok(Credentials {
            api_key: Hidden(key),
            api_secret: Hidden(secret),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_test_support::Scratch;
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt as _;

    const SECRET: &str = "s3cr3t-NEVER-SHOWN";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn key_file(dir: &Scratch, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn environment_pairs_are_both_or_neither() {
        let c = Credentials::from_vars(vars(&[(ENV_KEY, "k"), (ENV_SECRET, SECRET)])).unwrap();
        assert_eq!(c.api_secret.expose(), SECRET);
        assert_eq!(c.source, KeySource::Environment);
        assert_eq!(
            Credentials::from_vars(vars(&[(ENV_KEY, "k")])),
            Err(CredentialError::Partial {
                set: ENV_KEY,
                unset: ENV_SECRET
            })
        );
        assert_eq!(
            Credentials::from_vars(vars(&[])),
            Err(CredentialError::Missing)
        );
        assert!(matches!(
            Credentials::from_vars(vars(&[(ENV_KEY, " "), (ENV_SECRET, SECRET)])),
            Err(CredentialError::Empty {
                what: "api_key",
                ..
            })
        ));
    }

    #[test]
    fn an_owner_only_file_loads_and_a_shared_one_is_refused() {
        let dir = Scratch::new("keys");
        let text = format!("# test keys\napi_key = \"abc\"\napi_secret = \"{SECRET}\"\n");
        let path = key_file(&dir, "ok", &text, 0o600);
        let name = path.to_str().unwrap().to_string();
        let c = Credentials::from_vars(vars(&[(ENV_FILE, &name)])).unwrap();
        assert_eq!(c.api_key.expose(), "abc");
        assert_eq!(c.api_secret.expose(), SECRET);
        let shared = key_file(&dir, "shared", &text, 0o644);
        let err = Credentials::from_file(&shared).unwrap_err();
        assert!(matches!(err, CredentialError::Shared { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn format_errors_name_the_line_never_its_text() {
        let dir = Scratch::new("keys");
        for (text, line) in [
            (format!("api_key = \"a\"\napi_secret = {SECRET}\n"), 2),
            (format!("api_key = \"a\"\nsecret = \"{SECRET}\"\n"), 2),
            (format!("{SECRET}\n"), 1),
            (
                format!("api_secret = \"{SECRET}\"\napi_secret = \"x\"\n"),
                2,
            ),
        ] {
            let path = key_file(&dir, "bad", &text, 0o600);
            let err = Credentials::from_file(&path).unwrap_err();
            assert!(
                matches!(err, CredentialError::Format { line: l, .. } if l == line),
                "{err:?}"
            );
            assert!(!err.to_string().contains(SECRET), "{err}");
        }
        let path = key_file(&dir, "half", "api_key = \"a\"\n", 0o600);
        assert!(matches!(
            Credentials::from_file(&path),
            Err(CredentialError::Empty {
                what: "api_secret",
                ..
            })
        ));
    }

    #[test]
    fn nothing_prints_a_secret() {
        let c = Credentials::from_vars(vars(&[(ENV_KEY, SECRET), (ENV_SECRET, SECRET)])).unwrap();
        let shown = format!("{c:?} {} {}", c.api_key, c.source);
        assert!(!shown.contains(SECRET), "{shown}");
    }
}
