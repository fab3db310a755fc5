//! A value of the wrong type said in the config's terms: what was given and
//! what the key allows.
//!
//! serde and toml word a type error for a programmer ("invalid value:
//! integer `-1`, expected u32", "wanted string or table"). The user needs
//! the value they wrote and what the key takes. What a key takes is known
//! to two places: its type (an integer type's bounds, an enum's names) and
//! its section's [`Validate`] (a narrower range). Both are asked rather
//! than copied into a table that would drift: the value is replaced in the
//! text by a probe of the right type (an enum: a name that is surely not
//! one, whose refusal lists the names; an integer: the type's bounds, whose
//! refusal by `Validate` gives the key's range), and the probe's refusal
//! supplies the allowed part.

use serde::de::DeserializeOwned;

use super::Validate;

/// The reason to show for the type error `reason` at `key`, whose value
/// sits at `span` of `text`; `None` when it is not a type error.
pub(super) fn type_error<T: DeserializeOwned + Validate>(
    text: &str,
    span: Option<std::ops::Range<usize>>,
    key: &str,
    reason: &str,
) -> Option<String> {
    let span = span.filter(|s| s.end <= text.len() && s.start < s.end)?;
    let given = text[span.clone()].trim();
    if reason.starts_with("wanted string or table") || reason.contains("expected a string") {
        // An enum (or a text key) given something else.
        let names = probe::<T>(text, &span, "\"?not-a-name?\"", key)?;
        return Some(format!("{given} is not allowed; allowed: {names}"));
    }
    let int = INTEGER_TYPES
        .iter()
        .find(|(name, ..)| reason.ends_with(&format!("expected {name}")))?;
    let (_, lo, hi) = *int;
    let allowed = [lo.to_string(), hi.min(i128::from(i64::MAX)).to_string()]
        .iter()
        .find_map(|bound| probe::<T>(text, &span, bound, key))
        .unwrap_or_else(|| format!("a whole number {lo} ..= {hi}"));
    let what = if reason.starts_with("invalid value") {
        "is out of range"
    } else {
        "is not a whole number"
    };
    Some(format!("{given} {what}; allowed: {allowed}"))
}

/// Integer types serde names, with their bounds.
const INTEGER_TYPES: [(&str, i128, i128); 10] = [
    ("u8", 0, u8::MAX as i128),
    ("u16", 0, u16::MAX as i128),
    ("u32", 0, u32::MAX as i128),
    ("u64", 0, u64::MAX as i128),
    ("usize", 0, u64::MAX as i128),
    ("i8", i8::MIN as i128, i8::MAX as i128),
    ("i16", i16::MIN as i128, i16::MAX as i128),
    ("i32", i32::MIN as i128, i32::MAX as i128),
    ("i64", i64::MIN as i128, i64::MAX as i128),
    ("isize", i64::MIN as i128, i64::MAX as i128),
];

/// `text` with `span` replaced by `value`, parsed and validated: what its
/// refusal says is allowed at `key` (an enum's names, a range), if it is
/// refused there.
fn probe<T: DeserializeOwned + Validate>(
    text: &str,
    span: &std::ops::Range<usize>,
    value: &str,
    key: &str,
) -> Option<String> {
    let probed = format!("{}{value}{}", &text[..span.start], &text[span.end..]);
    let de = toml::Deserializer::parse(&probed).ok()?;
    match serde_path_to_error::deserialize::<_, T>(de) {
        Err(e) => {
            if e.path().to_string() != key {
                return None;
            }
            // serde: "unknown variant `x`, expected `a`", "… `a` or `b`",
            // "… one of `a`, `b`, `c`": the names are the quoted words
            // after "expected".
            let reason = e.into_inner().message().to_string();
            let (_, expected) = reason.split_once("expected ")?;
            let names: Vec<String> = expected
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|n| format!("\"{n}\""))
                .collect();
            (!names.is_empty()).then(|| format!("one of {}", names.join(", ")))
        }
        Ok(v) => match v.validate("") {
            Err(r) if r.key == key => Some(r.allowed),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{RangeError, check_range};

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        DryRun,
        Paper,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Run {
        mode: Mode,
        leverage: u32,
        size: u8,
        name: String,
    }

    #[derive(Debug, serde::Deserialize)]
    struct File {
        run: Run,
    }

    impl Validate for File {
        fn validate(&self, _at: &str) -> Result<(), RangeError> {
            let _ = (&self.run.mode, &self.run.name, self.run.size);
            check_range("run", "leverage", self.run.leverage, 1, 125)
        }
    }

    fn explain(text: &str) -> String {
        let de = toml::Deserializer::parse(text).unwrap();
        let e = serde_path_to_error::deserialize::<_, File>(de).unwrap_err();
        let key = e.path().to_string();
        let inner = e.into_inner();
        type_error::<File>(text, inner.span(), &key, inner.message())
            .unwrap_or_else(|| format!("(not explained) {}", inner.message()))
    }

    const OK: &str = "[run]\nmode = \"paper\"\nleverage = 3\nsize = 1\nname = \"a\"\n";

    #[test]
    fn each_type_error_says_what_was_given_and_what_is_allowed() {
        let cases = [
            (
                "mode = \"paper\"",
                "mode = 5",
                "5 is not allowed; allowed: one of \"dry-run\", \"paper\"",
            ),
            (
                "leverage = 3",
                "leverage = -1",
                "-1 is out of range; allowed: 1 ..= 125",
            ),
            (
                "leverage = 3",
                "leverage = 99999999999",
                "99999999999 is out of range; allowed: 1 ..= 125",
            ),
            (
                "leverage = 3",
                "leverage = \"x\"",
                "\"x\" is not a whole number; allowed: 1 ..= 125",
            ),
            (
                "leverage = 3",
                "leverage = 1.5",
                "1.5 is not a whole number; allowed: 1 ..= 125",
            ),
            // No narrower range in `Validate`: the type's own.
            (
                "size = 1",
                "size = 300",
                "300 is out of range; allowed: a whole number 0 ..= 255",
            ),
        ];
        for (from, to, want) in cases {
            let text = OK.replacen(from, to, 1);
            assert_eq!(explain(&text), want, "{to}");
        }
    }
}
