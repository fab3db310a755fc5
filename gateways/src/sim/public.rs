//! The simulator's public REST endpoints (no key): server time, exchange
//! information, the book, tickers, the premium index, candles and trades,
//! all answered from the first account's exchange model and the tape of
//! the market being streamed, at the exchange's time (the data's).
//!
//! Shapes follow Binance USD-M: decimals as strings, times in ms, arrays
//! when no `symbol` is given to the tickers.

use std::collections::BTreeMap;

use autobot_engine::types::{Instrument, Money, Price, Qty, Rate, SymbolId};
use autobot_exchange::SymbolView;
use serde_json::{Value, json};

use super::tape::{Candle, interval_minutes};
use super::venue::{Refusal, Venue};
use super::{Shared, lock};

const NO_SYMBOL: Refusal = (
    400,
    -1102,
    "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
);
const BAD_SYMBOL: Refusal = (400, -1121, "Invalid symbol.");

/// Binance's order types and times in force for USD-M perpetuals.
const ORDER_TYPES: [&str; 7] = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
];
const TIME_IN_FORCE: [&str; 4] = ["GTC", "IOC", "FOK", "GTX"];

/// PERCENT_PRICE of USD-M perpetuals: a limit price within 5% of the mark.
pub(super) const PERCENT_UP: &str = "1.0500";
pub(super) const PERCENT_DOWN: &str = "0.9500";

/// The request weight limit per minute, and the order count limits
/// (per 10 s and per minute), as Binance lists them.
pub(super) const WEIGHT_LIMIT: u32 = 2400;
pub(super) const ORDERS_PER_10S: u32 = 300;
pub(super) const ORDERS_PER_MINUTE: u32 = 1200;

/// MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS: open orders per symbol.
pub(super) const MAX_NUM_ORDERS: usize = 200;
pub(super) const MAX_NUM_ALGO_ORDERS: usize = 10;

/// Answers a public GET; `None` when `path` is not a public endpoint.
pub(super) fn route(
    path: &str,
    params: &BTreeMap<String, String>,
    shared: &Shared,
) -> Option<Result<String, Refusal>> {
    let venue = lock(&shared.venues[0]);
    let now = super::now_ms(shared);
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let symbol = || -> Result<SymbolId, Refusal> {
        venue
            .symbol(get("symbol").ok_or(NO_SYMBOL)?)
            .ok_or(BAD_SYMBOL)
    };
    let limit = |default: usize, max: usize| {
        get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .map_or(default, |l| l.clamp(1, max))
    };
    let each = |f: &dyn Fn(SymbolId) -> Value| -> Result<String, Refusal> {
        if get("symbol").is_some() {
            return Ok(f(symbol()?).to_string());
        }
        let all: Vec<Value> = (0..shared.instruments.len())
            .map(|i| f(SymbolId(u16::try_from(i).unwrap_or(u16::MAX))))
            .collect();
        Ok(Value::Array(all).to_string())
    };
    Some(match path {
        "/fapi/v1/ping" => Ok("{}".into()),
        "/fapi/v1/time" => Ok(json!({"serverTime": now}).to_string()),
        "/fapi/v1/exchangeInfo" => Ok(exchange_info(&shared.instruments, now)),
        // ccxt lists the spot wallet's margin pairs when it loads markets
        // with a key: a futures-only exchange has none.
        "/sapi/v1/margin/allPairs" => Ok("[]".into()),
        "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price" => each(&|s| {
            let v = view(&venue, s);
            json!({"symbol": name(shared, s), "price": dec(v.last.unwrap_or(Price::ZERO)),
                   "time": now})
        }),
        "/fapi/v1/ticker/bookTicker" => each(&|s| {
            let v = view(&venue, s);
            json!({"symbol": name(shared, s), "bidPrice": dec(v.bid.0), "bidQty": dec(v.bid.1),
                   "askPrice": dec(v.ask.0), "askQty": dec(v.ask.1), "time": now,
                   "lastUpdateId": now})
        }),
        "/fapi/v1/premiumIndex" => each(&|s| premium_index(&venue, shared, s, now)),
        "/fapi/v1/ticker/24hr" => each(&|s| ticker_24hr(&venue, shared, s)),
        "/fapi/v1/klines" | "/fapi/v1/markPriceKlines" | "/fapi/v1/indexPriceKlines" => {
            let sym = match symbol().or_else(|e| {
                // The index and mark klines name a `pair`.
                get("pair").and_then(|p| venue.symbol(p)).ok_or(e)
            }) {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            klines(&venue, sym, params, limit(500, 1500))
        }
        "/fapi/v1/aggTrades" => symbol().map(|s| {
            let rows: Vec<Value> = venue
                .tape()
                .trades(usize::from(s.0), limit(500, 1000))
                .map(|t| {
                    json!({"a": t.id, "p": dec(t.price), "q": dec(t.qty), "f": t.id,
                           "l": t.id, "T": t.time_ms, "m": t.buyer_is_maker})
                })
                .collect();
            Value::Array(rows).to_string()
        }),
        "/fapi/v1/trades" => symbol().map(|s| {
            let rows: Vec<Value> = venue
                .tape()
                .trades(usize::from(s.0), limit(500, 1000))
                .map(|t| {
                    let quote =
                        Money::notional(t.price, t.qty, autobot_engine::types::Rounding::HalfEven)
                            .unwrap_or(Money::ZERO);
                    json!({"id": t.id, "price": dec(t.price), "qty": dec(t.qty),
                           "quoteQty": dec(quote), "time": t.time_ms,
                           "isBuyerMaker": t.buyer_is_maker})
                })
                .collect();
            Value::Array(rows).to_string()
        }),
        "/fapi/v1/fundingRate" => symbol().map(|s| {
            let v = view(&venue, s);
            let rows: Vec<Value> = (v.funding.1.0 != 0)
                .then(|| {
                    json!({"symbol": name(shared, s), "fundingRate": dec(v.funding.0),
                           "fundingTime": (v.funding.1.0 / 1_000_000).saturating_sub(funding_interval_ms(shared)),
                           "markPrice": dec(v.mark.unwrap_or(Price::ZERO))})
                })
                .into_iter()
                .collect();
            Value::Array(rows).to_string()
        }),
        "/fapi/v1/depth" => {
            let sym = match get("symbol") {
                Some(s) => s,
                None => return Some(Err(NO_SYMBOL)),
            };
            let limit = get("limit").map_or(Some(500), |l| l.parse::<usize>().ok());
            match limit.filter(|l| (5..=1000).contains(l)) {
                None => Err((400, -1100, "Illegal characters found in parameter 'limit'.")),
                Some(l) => match venue.depth_json(sym, l) {
                    Err(r) => Err(r),
                    Ok(Some(s)) => Ok(s),
                    Ok(None) => Err((
                        503,
                        -1007,
                        "Timeout waiting for response from backend server.",
                    )),
                },
            }
        }
        _ => return None,
    })
}

fn name(shared: &Shared, s: SymbolId) -> &str {
    shared
        .instruments
        .get(usize::from(s.0))
        .map_or("", |i| i.name.as_str())
}

fn dec(v: impl std::fmt::Display) -> String {
    v.to_string()
}

fn view(venue: &Venue, s: SymbolId) -> SymbolView {
    venue.model().view(s).unwrap_or(SymbolView {
        bid: (Price::ZERO, Qty::ZERO),
        ask: (Price::ZERO, Qty::ZERO),
        last: None,
        mark: None,
        funding: (Rate::ZERO, autobot_engine::types::UnixNanos(0)),
        position: (Qty::ZERO, Price::ZERO),
        unrealized: Money::ZERO,
        notional: Money::ZERO,
        maintenance: Money::ZERO,
        liquidation: None,
    })
}

fn funding_interval_ms(shared: &Shared) -> u64 {
    u64::from(shared.funding_interval_hours.max(1)) * 3_600_000
}

/// The next funding time: the model's, else the next multiple of the
/// funding interval after `now` (Binance's 00:00, 08:00, 16:00 UTC).
pub(super) fn next_funding_ms(v: &SymbolView, shared: &Shared, now: u64) -> u64 {
    if v.funding.1.0 != 0 {
        return v.funding.1.0 / 1_000_000;
    }
    let every = funding_interval_ms(shared);
    (now / every + 1) * every
}

fn premium_index(venue: &Venue, shared: &Shared, s: SymbolId, now: u64) -> Value {
    let v = view(venue, s);
    let mark = dec(v.mark.unwrap_or(Price::ZERO));
    json!({"symbol": name(shared, s), "markPrice": mark, "indexPrice": mark,
           "estimatedSettlePrice": mark, "lastFundingRate": dec(v.funding.0),
           "interestRate": "0.00010000", "nextFundingTime": next_funding_ms(&v, shared, now),
           "time": now})
}

fn ticker_24hr(venue: &Venue, shared: &Shared, s: SymbolId) -> Value {
    const DAY_MS: u64 = 86_400_000;
    let v = view(venue, s);
    let last = v.last.unwrap_or(Price::ZERO);
    // The window ends at the market's time (the data's), which the tape
    // is stamped in; `now` is the host's (issue 35: one clock is open).
    let market_now = venue.model().now().0 / 1_000_000;
    let from = market_now.saturating_sub(DAY_MS);
    let c = venue
        .tape()
        .window(usize::from(s.0), from - from % 60_000, market_now);
    let last_qty = venue
        .tape()
        .trades(usize::from(s.0), 1)
        .next()
        .map_or(Qty::ZERO, |t| t.qty);
    let (open, high, low) = c.map_or((last, last, last), |c| (c.ohlc[0], c.ohlc[1], c.ohlc[2]));
    let change = Price::from_raw(last.raw() - open.raw());
    let percent = if open.is_positive() {
        format!("{:.3}", change.to_f64() / open.to_f64() * 100.0)
    } else {
        "0.000".into()
    };
    let (volume, quote, count, ids) = c.map_or((Qty::ZERO, Money::ZERO, 0, (0, 0)), |c| {
        (c.volume, c.quote, c.count, c.ids)
    });
    let vwap = if volume.is_positive() {
        quote.to_f64() / volume.to_f64()
    } else {
        last.to_f64()
    };
    json!({"symbol": name(shared, s), "priceChange": dec(change), "priceChangePercent": percent,
           "weightedAvgPrice": Price::from_f64(vwap).map_or_else(|| "0".into(), dec),
           "lastPrice": dec(last), "lastQty": dec(last_qty), "openPrice": dec(open),
           "highPrice": dec(high), "lowPrice": dec(low), "volume": dec(volume),
           "quoteVolume": dec(quote), "openTime": from, "closeTime": market_now,
           "firstId": ids.0, "lastId": ids.1, "count": count})
}

fn klines(
    venue: &Venue,
    s: SymbolId,
    params: &BTreeMap<String, String>,
    limit: usize,
) -> Result<String, Refusal> {
    let interval = params.get("interval").ok_or((
        400,
        -1102,
        "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
    ))?;
    let minutes = interval_minutes(interval).ok_or((400, -1120, "Invalid interval."))?;
    let time = |k: &str| params.get(k).and_then(|v| v.parse::<u64>().ok());
    let range = (
        time("startTime").unwrap_or(0),
        time("endTime").unwrap_or(u64::MAX),
    );
    let width = minutes * 60_000;
    let rows: Vec<Value> = venue
        .tape()
        .candles(usize::from(s.0), minutes, range, limit)
        .iter()
        .map(|c: &Candle| {
            json!([
                c.open_ms,
                dec(c.ohlc[0]),
                dec(c.ohlc[1]),
                dec(c.ohlc[2]),
                dec(c.ohlc[3]),
                dec(c.volume),
                c.open_ms + width - 1,
                dec(c.quote),
                c.count,
                dec(c.taker_buy.0),
                dec(c.taker_buy.1),
                "0"
            ])
        })
        .collect();
    Ok(Value::Array(rows).to_string())
}

/// The quote asset of a USD-M symbol (its suffix) and the base before it.
fn assets(symbol: &str) -> (&str, &str) {
    for quote in ["USDT", "USDC", "BUSD"] {
        if let Some(base) = symbol.strip_suffix(quote).filter(|b| !b.is_empty()) {
            return (base, quote);
        }
    }
    (symbol, "USDT")
}

/// `GET /fapi/v1/exchangeInfo`: every field Binance lists for a USD-M
/// perpetual, from the instruments the engine trades (their filters).
pub(super) fn exchange_info(instruments: &[Instrument], now: u64) -> String {
    let symbols: Vec<Value> = instruments
        .iter()
        .map(|i| {
            let (base, quote) = assets(i.name.as_str());
            json!({
                "symbol": i.name.as_str(), "pair": i.name.as_str(),
                "contractType": "PERPETUAL", "deliveryDate": 4_133_404_800_000u64,
                "onboardDate": 1_569_398_400_000u64, "status": "TRADING",
                "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
                "baseAsset": base, "quoteAsset": quote, "marginAsset": quote,
                "pricePrecision": i.tick_size.decimals(),
                "quantityPrecision": i.step_size.decimals(),
                "baseAssetPrecision": 8, "quotePrecision": 8,
                "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0,
                "triggerProtect": "0.0500", "liquidationFee": "0.012500",
                "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": dec(i.tick_size),
                     "minPrice": dec(i.tick_size), "maxPrice": "10000000"},
                    {"filterType": "LOT_SIZE", "stepSize": dec(i.step_size),
                     "minQty": dec(i.min_qty), "maxQty": dec(i.max_qty)},
                    {"filterType": "MARKET_LOT_SIZE", "stepSize": dec(i.step_size),
                     "minQty": dec(i.min_qty), "maxQty": dec(i.max_market_qty)},
                    {"filterType": "MAX_NUM_ORDERS", "limit": MAX_NUM_ORDERS},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": MAX_NUM_ALGO_ORDERS},
                    {"filterType": "MIN_NOTIONAL", "notional": dec(i.min_notional)},
                    {"filterType": "PERCENT_PRICE", "multiplierUp": PERCENT_UP,
                     "multiplierDown": PERCENT_DOWN, "multiplierDecimal": "4"},
                ],
                "orderTypes": ORDER_TYPES,
                "timeInForce": TIME_IN_FORCE,
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": now,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": WEIGHT_LIMIT},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1,
             "limit": ORDERS_PER_MINUTE},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": ORDERS_PER_10S},
        ],
        "exchangeFilters": [],
        "assets": [
            {"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "-10000"},
        ],
        "symbols": symbols,
    })
    .to_string()
}
