//! The symbol filters of `exchangeInfo`, enforced on a new order the way
//! Binance USD-M refuses it: the code, and the message with the bound in
//! it where Binance puts one. Checked before the order reaches the model
//! (which checks what only it knows: margin, reduce-only, liquidity).
//!
//! In Binance's order: the price (precision -1111, PRICE_FILTER -4013 /
//! -4012 / -4014), the stop price (the same filter), the quantity
//! (precision -1111, LOT_SIZE or MARKET_LOT_SIZE -4004 / -4005 / -4023),
//! PERCENT_PRICE for limit orders against the mark (-4016 / -4024), then
//! MIN_NOTIONAL (-4164) unless the order only reduces.

use std::collections::BTreeMap;

use autobot_engine::types::{Instrument, Money, Price, Qty, Rounding};
use autobot_exchange::OrderType;

use super::public::{PERCENT_DOWN, PERCENT_UP};

/// A filter's refusal: Binance's code and message.
pub type FilterRefusal = (i32, String);

/// The highest price PRICE_FILTER lists (`maxPrice`).
pub const MAX_PRICE: &str = "10000000";

fn precision() -> FilterRefusal {
    (
        -1111,
        "Precision is over the maximum defined for this asset.".into(),
    )
}

/// Digits after the decimal point of a decimal as sent (trailing zeros
/// do not count).
fn decimals(text: &str) -> u8 {
    text.split_once('.').map_or(0, |(_, f)| {
        u8::try_from(f.trim_end_matches('0').len()).unwrap_or(u8::MAX)
    })
}

fn check_price(text: &str, p: Price, ins: &Instrument) -> Result<(), FilterRefusal> {
    if decimals(text) > ins.tick_size.decimals() {
        return Err(precision());
    }
    if p < ins.tick_size {
        return Err((-4013, "Price less than min price.".into()));
    }
    if p > Price::parse(MAX_PRICE).unwrap_or(Price::MAX) {
        return Err((-4012, "Price greater than max price.".into()));
    }
    if !ins.on_tick(p) {
        return Err((-4014, "Price not increased by tick size.".into()));
    }
    Ok(())
}

/// A price with the symbol's `pricePrecision` decimals, as Binance
/// writes the bounds in its messages (`63000.0`).
fn at_precision(p: Price, ins: &Instrument) -> String {
    let places = usize::from(ins.tick_size.decimals());
    let text = p.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if places == 0 {
        return int.to_string();
    }
    format!("{int}.{frac:0<places$}")
}

/// `mark` × `factor` (a PERCENT_PRICE multiplier) on the tick grid,
/// rounded inward (`Floor` for the cap, `Ceil` for the floor).
fn bound(mark: Price, factor: &str, ins: &Instrument, mode: Rounding) -> Price {
    let f = autobot_engine::types::Rate::parse(factor).unwrap_or(autobot_engine::types::Rate::ONE);
    let raw = i128::from(mark.raw()) * i128::from(f.raw()) / 100_000_000;
    let tick = i128::from(ins.tick_size.raw().max(1));
    let q = match mode {
        Rounding::Ceil => (raw + tick - 1).div_euclid(tick),
        _ => raw.div_euclid(tick),
    };
    Price::from_raw(i64::try_from(q * tick).unwrap_or(i64::MAX))
}

/// Checks a new order's parameters (`/fapi/v1/order` or `algoOrder`
/// names) against `ins`'s filters; `kind`, `qty` and `price` as parsed;
/// `mark` the symbol's mark (none before data: PERCENT_PRICE and a market
/// order's notional are not checked).
pub fn check(
    params: &BTreeMap<&str, &str>,
    kind: OrderType,
    (qty, price): (Qty, Price),
    ins: &Instrument,
    mark: Option<Price>,
) -> Result<(), FilterRefusal> {
    let get = |k: &str| params.get(k).copied().filter(|v| !v.is_empty());
    if let (Some(text), true) = (get("price"), kind.has_limit_price()) {
        check_price(text, price, ins)?;
    }
    if let (Some(text), Some(t)) = (get("stopPrice").or(get("triggerPrice")), kind.trigger()) {
        check_price(text, t.stop, ins)?;
    }
    let close_position = kind.trigger().is_some_and(|t| t.close_position);
    if !close_position {
        let text = get("quantity").unwrap_or("0");
        if decimals(text) > ins.step_size.decimals() {
            return Err(precision());
        }
        let max = if kind.has_limit_price() {
            ins.max_qty
        } else {
            ins.max_market_qty
        };
        if qty < ins.min_qty {
            return Err((-4004, "Quantity less than min quantity.".into()));
        }
        if qty > max {
            return Err((-4005, "Quantity greater than max quantity.".into()));
        }
        if !ins.on_step(qty) {
            return Err((-4023, "Quantity not increased by step size.".into()));
        }
    }
    if let (OrderType::Limit(_), Some(mark)) = (kind, mark) {
        let cap = bound(mark, PERCENT_UP, ins, Rounding::Floor);
        let floor = bound(mark, PERCENT_DOWN, ins, Rounding::Ceil);
        if price > cap {
            let cap = at_precision(cap, ins);
            return Err((-4016, format!("Limit price can't be higher than {cap}.")));
        }
        if price < floor {
            let floor = at_precision(floor, ins);
            return Err((-4024, format!("Limit price can't be lower than {floor}.")));
        }
    }
    let reduces = get("reduceOnly") == Some("true") || close_position;
    let at = if kind.has_limit_price() {
        Some(price)
    } else {
        mark
    };
    if let Some(at) = at.filter(|_| !reduces) {
        let notional = Money::notional(at, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        if notional < ins.min_notional {
            return Err((
                -4164,
                format!(
                    "Order's notional must be no smaller than {} (unless you choose reduce only).",
                    ins.min_notional
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_engine::types::SymbolId;
    use autobot_exchange::Tif;

    fn instrument(tick: &str, step: &str, min_notional: &str) -> Instrument {
        let q = |s: &str| Qty::parse(s).unwrap();
        Instrument::new(
            SymbolId(0),
            autobot_engine::types::SymbolName::new("BTCUSDT").unwrap(),
            (Price::parse(tick).unwrap(), q(step)),
            Money::parse(min_notional).unwrap(),
            (q(step), q("1000"), q("120")),
        )
    }

    fn btc() -> Instrument {
        instrument("0.1", "0.001", "100")
    }

    fn refusal(pairs: &[(&str, &str)], kind: OrderType) -> Option<FilterRefusal> {
        let params: BTreeMap<&str, &str> = pairs.iter().copied().collect();
        let qty = params
            .get("quantity")
            .and_then(|q| Qty::parse(q).ok())
            .unwrap_or(Qty::ZERO);
        let price = params
            .get("price")
            .and_then(|p| Price::parse(p).ok())
            .unwrap_or(Price::ZERO);
        let mark = Some(Price::parse("60000").unwrap());
        check(&params, kind, (qty, price), &btc(), mark).err()
    }

    const LIMIT: OrderType = OrderType::Limit(Tif::Gtc);

    /// Parameters, order type, and the code and message expected.
    type Case<'a> = (&'a [(&'a str, &'a str)], OrderType, i32, &'a str);

    #[test]
    fn each_filter_refuses_with_binances_code_and_message() {
        const PRECISION: &str = "Precision is over the maximum defined for this asset.";
        let cases: [Case<'_>; 8] = [
            (
                &[("quantity", "0.0015")],
                OrderType::Market,
                -1111,
                PRECISION,
            ),
            (
                &[("quantity", "0")],
                OrderType::Market,
                -4004,
                "Quantity less than min quantity.",
            ),
            (
                &[("quantity", "121")],
                OrderType::Market,
                -4005,
                "Quantity greater than max quantity.",
            ),
            (
                &[("quantity", "1001"), ("price", "60000")],
                LIMIT,
                -4005,
                "Quantity greater than max quantity.",
            ),
            (
                &[("quantity", "0.01"), ("price", "60000.05")],
                LIMIT,
                -1111,
                PRECISION,
            ),
            (
                &[("quantity", "0.0005"), ("price", "60000")],
                LIMIT,
                -1111,
                PRECISION,
            ),
            (
                &[("quantity", "0.01"), ("price", "63000.1")],
                LIMIT,
                -4016,
                "Limit price can't be higher than 63000.0.",
            ),
            (
                &[("quantity", "0.01"), ("price", "56999.9")],
                LIMIT,
                -4024,
                "Limit price can't be lower than 57000.0.",
            ),
        ];
        for (pairs, kind, code, msg) in cases {
            let got = refusal(pairs, kind);
            assert_eq!(got, Some((code, msg.to_string())), "{pairs:?}");
        }
        let notional = refusal(&[("quantity", "0.001")], OrderType::Market).unwrap();
        assert_eq!(
            notional,
            (
                -4164,
                "Order's notional must be no smaller than 100 (unless you choose reduce only)."
                    .into()
            )
        );
        assert_eq!(
            refusal(
                &[("quantity", "0.001"), ("reduceOnly", "true")],
                OrderType::Market
            ),
            None,
            "a reduce-only order may be small"
        );
        assert_eq!(
            refusal(&[("quantity", "0.002")], OrderType::Market),
            None,
            "120 USDT"
        );
        assert_eq!(
            refusal(&[("quantity", "0.0020"), ("price", "60000.10")], LIMIT),
            None
        );
        assert_eq!(
            refusal(&[("quantity", "0.01"), ("price", "63000")], LIMIT),
            None,
            "at the cap"
        );
    }

    #[test]
    fn tick_and_step_multiples_beyond_precision_have_their_own_codes() {
        let ins = instrument("0.5", "0.5", "5");
        let params: BTreeMap<&str, &str> = [("quantity", "1.5"), ("price", "100.3")].into();
        let (q, p) = (Qty::parse("1.5").unwrap(), Price::parse("100.3").unwrap());
        let mark = Some(Price::parse("100").unwrap());
        assert_eq!(
            check(&params, LIMIT, (q, p), &ins, mark).unwrap_err().0,
            -4014
        );
        let params: BTreeMap<&str, &str> = [("quantity", "1.2"), ("price", "100.5")].into();
        let (q, p) = (Qty::parse("1.2").unwrap(), Price::parse("100.5").unwrap());
        assert_eq!(
            check(&params, LIMIT, (q, p), &ins, mark).unwrap_err().0,
            -4023
        );
    }
}
