//! Range checks of configuration values: what every configurable part of
//! the core implements, and the error naming the key, the value given and
//! what is allowed (the config loader adds the file and line).

use std::fmt::Display;

/// A value outside its allowed range, before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError {
    /// Full dotted key path.
    pub key: String,
    /// The value given.
    pub value: String,
    /// The allowed range, in words.
    pub allowed: String,
}

impl RangeError {
    /// A range error for `key` under the section path `at`.
    pub fn new(at: &str, key: &str, value: impl Display, allowed: impl Into<String>) -> Self {
        RangeError {
            key: join_key(at, key),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// `at.key`, or `key` at the top level.
pub fn join_key(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// Checks `min <= value <= max` for the key `at.key`.
pub fn check_range<T: PartialOrd + Display>(
    at: &str,
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), RangeError> {
    if value < min || value > max {
        return Err(RangeError::new(at, key, value, format!("{min} ..= {max}")));
    }
    Ok(())
}

/// Range checks of a config section. `at` is the section's dotted path.
pub trait Validate {
    /// Returns the first out-of-range value.
    fn validate(&self, at: &str) -> Result<(), RangeError>;
}
