//! The market parsers' vocabulary, shared by the DOM parser (`parse`) and
//! the DOM-free fast path (`flat`): what a message was, why one was
//! refused, and the symbols the engine trades.

use autobot_engine::types::SymbolId;

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not an object.
    #[error("not a JSON object")]
    Json,
    /// A required field is absent or of the wrong type.
    #[error("field {0} missing or of the wrong type")]
    Field(&'static str),
    /// A decimal field that does not parse exactly.
    #[error("field {0} is not an exact decimal")]
    Decimal(&'static str),
    /// A price <= 0 or a negative (for trades, non-positive) quantity.
    #[error("field {0} is out of range")]
    Range(&'static str),
    /// A symbol the engine does not trade.
    #[error("unknown symbol")]
    UnknownSymbol,
    /// An event type this parser does not handle.
    #[error("unhandled event type")]
    UnknownEvent,
    /// More levels than `parse::MAX_LEVELS`.
    #[error("too many depth levels")]
    TooManyLevels,
}

/// The instruments the engine trades, by exchange name.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    names: Vec<String>,
}

impl Symbols {
    /// Symbols in `SymbolId` order.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Symbols {
        Symbols {
            names: names
                .iter()
                .map(|n| n.as_ref().to_ascii_uppercase())
                .collect(),
        }
    }

    /// The id of `name` (any case).
    pub fn id(&self, name: &str) -> Option<SymbolId> {
        self.id_bytes(name.as_bytes())
    }

    /// The id of `name`'s bytes (any ASCII case).
    pub fn id_bytes(&self, name: &[u8]) -> Option<SymbolId> {
        // A slice iterator, named: with simd-json's prelude in scope,
        // `Vec::iter` resolves to value-trait's `Array::iter`, which boxes.
        self.names
            .as_slice()
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
            .and_then(|i| u16::try_from(i).ok())
            .map(SymbolId)
    }
}

/// What a message was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A diff in this many parts.
    Depth(usize),
    /// A snapshot in this many parts.
    Snapshot(usize),
    /// A book ticker.
    BookTicker,
    /// A trade or aggregate trade.
    Trade,
    /// A closed candle.
    Kline,
    /// A mark price and funding update.
    MarkPrice,
    /// An all-market mark-price array (`!markPrice@arr`): this many of our
    /// symbols' marks.
    MarkPrices(usize),
    /// A liquidation order.
    Liquidation,
    /// A well-formed message with nothing for the core: a `trade` whose
    /// `X` is not `MARKET` (insurance-fund and ADL fills, and Binance's
    /// zero-price placeholders with an empty `X`).
    Ignored,
}

/// The `stream` of a combined-stream envelope (`{"stream":"…","data":…}`).
pub fn stream_name(json: &str) -> Option<&str> {
    let rest = json.strip_prefix(r#"{"stream":""#)?;
    rest.split_once('"').map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_come_from_the_envelope() {
        assert_eq!(
            stream_name(r#"{"stream":"btcusdt@depth@0ms","data":{}}"#),
            Some("btcusdt@depth@0ms")
        );
        assert_eq!(stream_name(r#"{"lastUpdateId":1}"#), None);
    }
}
