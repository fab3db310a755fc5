//! `GET /fapi/v1/exchangeInfo`: each symbol's trading rules (tick size,
//! lot sizes, minimum notional), so the instrument table can be checked
//! against the exchange before trading.
//!
//! Tolerant by design: unknown fields and unknown filter types (Binance adds
//! them, e.g. `POSITION_RISK_CONTROL` in 2025) are ignored, numbers may be
//! strings or JSON numbers. A symbol whose filters are missing or malformed
//! is listed under [`ExchangeInfo::refused`] with the reason; it does not
//! stop the others from being read.

use autobot_engine::types::{Money, Price, Qty};
use serde::Deserialize;

/// One symbol's trading rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolRules {
    /// Exchange symbol.
    pub symbol: String,
    /// `TRADING`, `SETTLING`, `PENDING_TRADING`, …
    pub status: String,
    /// `PERPETUAL`, `CURRENT_QUARTER`, …
    pub contract_type: String,
    /// `PRICE_FILTER.tickSize`.
    pub tick_size: Price,
    /// `LOT_SIZE.stepSize`.
    pub step_size: Qty,
    /// `LOT_SIZE.minQty`.
    pub min_qty: Qty,
    /// `LOT_SIZE.maxQty`.
    pub max_qty: Qty,
    /// `MARKET_LOT_SIZE.maxQty` (`LOT_SIZE.maxQty` when absent).
    pub max_market_qty: Qty,
    /// `MIN_NOTIONAL.notional` (zero when absent).
    pub min_notional: Money,
}

/// Why exchangeInfo or one of its symbols could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeInfoError {
    /// The body is not the exchangeInfo object.
    #[error("exchangeInfo is not readable JSON: {0}")]
    Json(String),
    /// A filter the instrument table needs is absent.
    #[error("{symbol}: no {filter} filter")]
    MissingFilter {
        /// Symbol.
        symbol: String,
        /// `PRICE_FILTER` or `LOT_SIZE`.
        filter: &'static str,
    },
    /// A number that is not a decimal we can hold.
    #[error("{symbol}: {field} = {value:?} is not a usable decimal")]
    BadNumber {
        /// Symbol.
        symbol: String,
        /// Filter field.
        field: &'static str,
        /// As sent.
        value: String,
    },
}

/// What exchangeInfo lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeInfo {
    /// Symbols read, in the exchange's order.
    pub symbols: Vec<SymbolRules>,
    /// Symbols whose rules could not be read.
    pub refused: Vec<ExchangeInfoError>,
}

impl ExchangeInfo {
    /// The rules of `symbol`, if listed and readable.
    pub fn get(&self, symbol: &str) -> Option<&SymbolRules> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }
}

/// A decimal that Binance sends as a string (or, rarely, a number).
#[derive(Deserialize)]
#[serde(untagged)]
enum Num<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
}

impl Num<'_> {
    fn text(&self) -> String {
        match self {
            Num::Str(s) => (*s).to_string(),
            Num::Int(i) => i.to_string(),
            Num::Float(f) => f.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFilter<'a> {
    #[serde(borrow)]
    filter_type: &'a str,
    #[serde(borrow, default)]
    tick_size: Option<Num<'a>>,
    #[serde(borrow, default)]
    step_size: Option<Num<'a>>,
    #[serde(borrow, default)]
    min_qty: Option<Num<'a>>,
    #[serde(borrow, default)]
    max_qty: Option<Num<'a>>,
    #[serde(borrow, default)]
    notional: Option<Num<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSymbol<'a> {
    symbol: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    contract_type: String,
    #[serde(borrow, default)]
    filters: Vec<RawFilter<'a>>,
}

#[derive(Deserialize)]
struct RawInfo<'a> {
    #[serde(borrow)]
    symbols: Vec<RawSymbol<'a>>,
}

fn decimal<T>(
    symbol: &str,
    field: &'static str,
    v: Option<&Num<'_>>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ExchangeInfoError> {
    let Some(v) = v else { return Ok(None) };
    let text = v.text();
    parse(&text)
        .map(Some)
        .ok_or_else(|| ExchangeInfoError::BadNumber {
            symbol: symbol.to_string(),
            field,
            value: text,
        })
}

fn rules(s: &RawSymbol<'_>) -> Result<SymbolRules, ExchangeInfoError> {
    let sym = s.symbol.as_str();
    let filter = |name: &'static str| s.filters.iter().find(|f| f.filter_type == name);
    let missing = |filter| ExchangeInfoError::MissingFilter {
        symbol: sym.to_string(),
        filter,
    };
    let price = |t: &str| Price::parse(t).ok().filter(|p| !p.is_negative());
    let qty = |t: &str| Qty::parse(t).ok().filter(|q| !q.is_negative());
    let money = |t: &str| Money::parse(t).ok().filter(|m| !m.is_negative());
    let pf = filter("PRICE_FILTER").ok_or_else(|| missing("PRICE_FILTER"))?;
    let lot = filter("LOT_SIZE").ok_or_else(|| missing("LOT_SIZE"))?;
    let need = |field, v: Option<&Num<'_>>, filter_name| -> Result<Qty, ExchangeInfoError> {
        decimal(sym, field, v, qty)?.ok_or_else(|| missing(filter_name))
    };
    let tick_size = decimal(sym, "tickSize", pf.tick_size.as_ref(), price)?
        .ok_or_else(|| missing("PRICE_FILTER"))?;
    let step_size = need("stepSize", lot.step_size.as_ref(), "LOT_SIZE")?;
    let min_qty = need("minQty", lot.min_qty.as_ref(), "LOT_SIZE")?;
    let max_qty = need("maxQty", lot.max_qty.as_ref(), "LOT_SIZE")?;
    let max_market_qty = match filter("MARKET_LOT_SIZE") {
        Some(m) => decimal(sym, "MARKET_LOT_SIZE.maxQty", m.max_qty.as_ref(), qty)?,
        None => None,
    }
    .unwrap_or(max_qty);
    let min_notional = match filter("MIN_NOTIONAL") {
        Some(m) => decimal(sym, "notional", m.notional.as_ref(), money)?,
        None => None,
    }
    .unwrap_or(Money::ZERO);
    Ok(SymbolRules {
        symbol: s.symbol.clone(),
        status: s.status.clone(),
        contract_type: s.contract_type.clone(),
        tick_size,
        step_size,
        min_qty,
        max_qty,
        max_market_qty,
        min_notional,
    })
}

/// Reads an exchangeInfo body (simd-json parses in place, so it takes the
/// bytes mutably).
pub fn parse_exchange_info(body: &mut [u8]) -> Result<ExchangeInfo, ExchangeInfoError> {
    let raw: RawInfo<'_> =
        simd_json::serde::from_slice(body).map_err(|e| ExchangeInfoError::Json(e.to_string()))?;
    let mut info = ExchangeInfo::default();
    for s in &raw.symbols {
        match rules(s) {
            Ok(r) => info.symbols.push(r),
            Err(e) => info.refused.push(e),
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_filters_and_fields_are_tolerated_and_gaps_named() {
        let mut body = br#"{"futuresType":"U_MARGINED","symbols":[
            {"symbol":"AUSDT","status":"TRADING","contractType":"PERPETUAL","newField":[1,2],
             "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.0010","maxPrice":"1"},
                        {"filterType":"LOT_SIZE","stepSize":1,"minQty":"1","maxQty":"5000"},
                        {"filterType":"SOMETHING_NEW","x":{"y":true}}]},
            {"symbol":"BUSDT","status":"TRADING","filters":[{"filterType":"LOT_SIZE","stepSize":"1","minQty":"1","maxQty":"2"}]},
            {"symbol":"CUSDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"-1"},{"filterType":"LOT_SIZE","stepSize":"1","minQty":"1","maxQty":"2"}]}
        ]}"#
        .to_vec();
        let info = parse_exchange_info(&mut body).unwrap();
        let a = info.get("AUSDT").unwrap();
        assert_eq!(a.tick_size, Price::parse("0.001").unwrap());
        assert_eq!(a.step_size, Qty::ONE);
        assert_eq!(
            a.max_market_qty, a.max_qty,
            "no MARKET_LOT_SIZE: LOT_SIZE's"
        );
        assert_eq!(a.min_notional, Money::ZERO);
        assert_eq!(
            info.refused,
            vec![
                ExchangeInfoError::MissingFilter {
                    symbol: "BUSDT".into(),
                    filter: "PRICE_FILTER"
                },
                ExchangeInfoError::BadNumber {
                    symbol: "CUSDT".into(),
                    field: "tickSize",
                    value: "-1".into()
                }
            ]
        );
        let mut bad = b"[1,2]".to_vec();
        assert!(matches!(
            parse_exchange_info(&mut bad),
            Err(ExchangeInfoError::Json(_))
        ));
    }
}
