//! Pieces of the `autobot` command line (the binary's own modules, kept
//! out of `main.rs` so each subcommand's handling reads on its own).

pub(crate) mod actions;
pub(crate) mod commands;
pub mod ctl;
pub mod data;
pub mod grid;
pub mod instruments;
pub mod simexchange;

/// Failure that has already been reported in the command's output.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}

impl std::error::Error for Reported {}

/// An error and its causes as one line, each cause said once: a cause
/// whose text an outer message already carries (an error that prints its
/// source and also returns it from `source()`) is left out, so the user
/// never reads "X: X".
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[derive(Debug, thiserror::Error)]
    #[error("no API keys: {0}")]
    struct Keys(#[source] std::io::Error);

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = std::io::Error::other("set AUTOBOT_API_KEY");
        let e = anyhow::Error::new(Keys(io)).context("live trading needs API keys");
        assert_eq!(
            one_line(&e),
            "live trading needs API keys: no API keys: set AUTOBOT_API_KEY"
        );
        let plain = anyhow::anyhow!("disk full").context("writing f.csv");
        assert_eq!(one_line(&plain), "writing f.csv: disk full");
    }
}
