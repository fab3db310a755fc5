//! Binance USD-M user-data stream messages: `ORDER_TRADE_UPDATE`,
//! `ALGO_UPDATE` (parsed in `algo`), `ACCOUNT_UPDATE`, `MARGIN_CALL`,
//! `ACCOUNT_CONFIG_UPDATE` and the rest,
//! parsed into input events ([`parse_user`]). The stream thread that reads
//! them is `user`.
//!
//! # Parsing rules
//! - Field sets change over the years (`bep`, `ma`, `V`, `pm`, `gtd`, `er`
//!   arrived later; old messages lack them): only the fields the engine
//!   uses are required; unknown fields are ignored.
//! - `E` is a number, except in some `listenKeyExpired` messages where it
//!   is a string of digits: both are accepted everywhere.
//! - Whose order a report is about is decided first, before its status is
//!   read: an order whose client id the engine did not write (placed by
//!   hand, another bot) is [`UserMessage::Foreign`]: counted, never sent to
//!   the core, whatever its status.
//! - The exchange's own orders on our symbols (liquidation `autoclose-…`,
//!   auto-deleveraging `adl_autoclose`, delivery `settlement_autoclose-…`,
//!   the `NEW_INSURANCE` / `NEW_ADL` statuses, a `CALCULATED` execution)
//!   change our position and balance: each fill is an
//!   [`UserMessage::ExchangeClose`], an order update with
//!   `ClientOrderId::EXCHANGE_CLOSE` that the core applies as a forced
//!   close and alerts (`Liquidated`). Their fill-less announcements are
//!   ignored.
//! - `"n":null` / `"N":null` (acknowledgements carry no commission yet)
//!   read as zero commission.
//! - `MARGIN_CALL` becomes one [`AccountUpdate`] (reason `MarginCall`) per
//!   one-way position of ours it names: the core alerts and its
//!   liquidation watch acts. `TRADE_LITE` (the same fills as
//!   `ORDER_TRADE_UPDATE`, without commission or status) is ignored on
//!   purpose. A leverage change of ours (`ACCOUNT_CONFIG_UPDATE`) is checked
//!   against the configured leverage: a difference is warned about and
//!   counted (not journaled; the core's margin model keeps the config's).
//! - An `ACCOUNT_UPDATE` becomes one [`AccountUpdate`] per one-way (`BOTH`)
//!   position of a symbol the engine trades, carrying the margin asset's
//!   wallet balance. Hedge-mode entries (`LONG`/`SHORT`) are not the
//!   engine's positions (it runs one-way mode) and are skipped.
//! - As for market data, a message is checked whole before any event of
//!   it goes out.
//!

use autobot_engine::event::{
    AccountReason, AccountUpdate, InputBody, InputEvent, Liquidity, OrderStatus, OrderUpdate,
    Source,
};
use autobot_engine::types::{ClientOrderId, ExchangeOrderId, Money, Price, Qty, Side, UnixNanos};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

use super::parse::{ParseError, Symbols};
use super::sign::parse_client_id;

/// What a user-stream message was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserMessage {
    /// An execution report for one of our orders (one event).
    Order,
    /// An account update: this many positions reported.
    Account(usize),
    /// The exchange closed (part of) one of our positions itself:
    /// liquidation, auto-deleveraging, delivery settlement (one event, an
    /// order update with `ClientOrderId::EXCHANGE_CLOSE`).
    ExchangeClose,
    /// An order the engine did not place.
    Foreign,
    /// The listen key expired: create a new one and reconnect.
    ListenKeyExpired,
    /// The exchange's leverage of one of our symbols was set to this
    /// (`ACCOUNT_CONFIG_UPDATE`): the stream checks it against the
    /// configured leverage, which the margin model assumes.
    Leverage(u32),
    /// A well-formed event the core has no use for (`MARGIN_CALL`,
    /// `ACCOUNT_CONFIG_UPDATE`, `TRADE_LITE`…), or an account update with
    /// no one-way position of ours (a balance-only change).
    Ignored,
}

fn time_ms(v: &Value<'_>, key: &'static str) -> Result<UnixNanos, ParseError> {
    let x = v.get(key).ok_or(ParseError::Field(key))?;
    let ms = match x.as_u64() {
        Some(n) => n,
        None => x
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(ParseError::Field(key))?,
    };
    Ok(UnixNanos(ms.saturating_mul(1_000_000)))
}

fn text<'v>(v: &'v Value<'_>, key: &'static str) -> Result<&'v str, ParseError> {
    v.get(key)
        .and_then(|x| x.as_str())
        .ok_or(ParseError::Field(key))
}

macro_rules! decimal_field {
    ($name:ident, $ty:ty, $nonneg:expr) => {
        fn $name(v: &Value<'_>, key: &'static str) -> Result<$ty, ParseError> {
            let d = <$ty>::parse(text(v, key)?).map_err(|_| ParseError::Decimal(key))?;
            if $nonneg && d.is_negative() {
                return Err(ParseError::Range(key));
            }
            Ok(d)
        }
    };
}
decimal_field!(price_nonneg, Price, true);
decimal_field!(qty_nonneg, Qty, true);
decimal_field!(qty_signed, Qty, false);
decimal_field!(money, Money, false);

/// The engine's status for Binance's order status name.
pub(crate) fn status(x: &str) -> Option<OrderStatus> {
    Some(match x {
        "NEW" => OrderStatus::Accepted,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        _ => return None,
    })
}

fn reason(m: &str) -> AccountReason {
    match m {
        "ORDER" => AccountReason::Order,
        "FUNDING_FEE" => AccountReason::Funding,
        "DEPOSIT"
        | "WITHDRAW"
        | "WITHDRAW_REJECT"
        | "ADJUSTMENT"
        | "INSURANCE_CLEAR"
        | "ADMIN_DEPOSIT"
        | "ADMIN_WITHDRAW"
        | "MARGIN_TRANSFER"
        | "MARGIN_TYPE_CHANGE"
        | "ASSET_TRANSFER"
        | "OPTIONS_PREMIUM_FEE"
        | "OPTIONS_SETTLE_PROFIT" => AccountReason::Transfer,
        _ => AccountReason::Other,
    }
}

/// Parses one user-stream message (a bare payload, or a combined-stream
/// envelope) into `out`. `margin_asset` names the wallet whose balance
/// account updates carry (`USDT`).
pub fn parse_user(
    bytes: &mut [u8],
    symbols: &Symbols,
    margin_asset: &str,
    recv: autobot_engine::types::MonoNanos,
    out: &mut Vec<InputEvent>,
) -> Result<UserMessage, ParseError> {
    let v = simd_json::to_borrowed_value(bytes).map_err(|_| ParseError::Json)?;
    if !v.is_object() {
        return Err(ParseError::Json);
    }
    let data = v.get("data").unwrap_or(&v);
    let start = out.len();
    let parsed = match text(data, "e")? {
        "ORDER_TRADE_UPDATE" => order_update(data, symbols, recv, out),
        "ALGO_UPDATE" => algo_update(data, symbols, recv, out),
        "ACCOUNT_UPDATE" => account_update(data, symbols, margin_asset, recv, out),
        "MARGIN_CALL" => margin_call(data, symbols, recv, out),
        // Deliberately not used (`trade_lite_is_ignored_on_purpose`): it
        // repeats ORDER_TRADE_UPDATE's fills without commission or status.
        "TRADE_LITE" => time_ms(data, "E").map(|_| UserMessage::Ignored),
        "ACCOUNT_CONFIG_UPDATE" => config_update(data, symbols),
        "listenKeyExpired" => time_ms(data, "E").map(|_| UserMessage::ListenKeyExpired),
        _ => time_ms(data, "E").map(|_| UserMessage::Ignored),
    };
    if parsed.is_err() {
        out.truncate(start);
    }
    parsed
}

/// Who placed the order an execution report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placer {
    /// The engine (its client id).
    Us(ClientOrderId),
    /// The exchange itself: liquidation, ADL, settlement, insurance fund.
    Exchange,
    /// Someone else: by hand, another bot.
    Other,
}

/// Client id prefixes of the orders Binance places itself.
const EXCHANGE_IDS: [&str; 3] = ["autoclose-", "adl_autoclose", "settlement_autoclose"];

fn placer(client: &str, exec: &str, status: &str) -> Placer {
    if let Some(id) = parse_client_id(client) {
        return Placer::Us(id);
    }
    let forced = EXCHANGE_IDS.iter().any(|p| client.starts_with(p))
        || exec == "CALCULATED"
        || matches!(status, "NEW_ADL" | "NEW_INSURANCE");
    if forced {
        Placer::Exchange
    } else {
        Placer::Other
    }
}

/// An optional decimal: absent or `null` is zero (Binance sends `"n":null`
/// on acknowledgements, before any commission).
fn money_or_zero(o: &Value<'_>, key: &'static str) -> Result<Money, ParseError> {
    match o.get(key) {
        None => Ok(Money::ZERO),
        Some(x) if x.is_null() => Ok(Money::ZERO),
        Some(_) => money(o, key),
    }
}

/// The event time and the order object (`o`) of an order or algo update.
fn order_payload<'v>(data: &'v Value<'_>) -> Result<(UnixNanos, &'v Value<'v>), ParseError> {
    let exchange = time_ms(data, "E")?;
    let o = data.get("o").ok_or(ParseError::Field("o"))?;
    if !o.is_object() {
        return Err(ParseError::Field("o"));
    }
    Ok((exchange, o))
}

/// The order's side (`S`).
fn order_side(o: &Value<'_>) -> Result<Side, ParseError> {
    match text(o, "S")? {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(ParseError::Field("S")),
    }
}

fn order_update(
    data: &Value<'_>,
    symbols: &Symbols,
    recv: autobot_engine::types::MonoNanos,
    out: &mut Vec<InputEvent>,
) -> Result<UserMessage, ParseError> {
    let (exchange, o) = order_payload(data)?;
    let (exec, status_name) = (text(o, "x")?, text(o, "X")?);
    // Whose order first: another's report is not ours to judge, whatever
    // its status.
    // `ours`: our client id, or `None` for the exchange's own order.
    let (ours, sym) = match (
        placer(text(o, "c")?, exec, status_name),
        symbols.id(text(o, "s")?),
    ) {
        (Placer::Other, _) | (Placer::Exchange, None) => return Ok(UserMessage::Foreign),
        (Placer::Us(_), None) => return Err(ParseError::UnknownSymbol),
        (Placer::Us(id), Some(sym)) => (Some(id), sym),
        (Placer::Exchange, Some(sym)) => (None, sym),
    };
    let side = order_side(o)?;
    let exchange_id = o
        .get("i")
        .and_then(|x| x.as_u64())
        .ok_or(ParseError::Field("i"))?;
    let last_qty = qty_nonneg(o, "l")?;
    let last_price = price_nonneg(o, "L")?;
    let cum_qty = qty_nonneg(o, "z")?;
    // Commission is absent on reports without a fill in older field sets,
    // and `null` on acknowledgements.
    let fee = money_or_zero(o, "n")?;
    let maker = o.get("m").and_then(|x| x.as_bool()).unwrap_or(false);
    let (client_id, st, is_trade) = match ours {
        Some(id) => {
            let st = status(status_name).ok_or(ParseError::Field("X"))?;
            (id, st, exec == "TRADE")
        }
        // The forced order's announcement, or its end, carries no fill:
        // only a fill changes the position.
        None if !last_qty.is_positive() => return Ok(UserMessage::Ignored),
        None => (ClientOrderId::EXCHANGE_CLOSE, OrderStatus::Filled, true),
    };
    if is_trade && (!last_qty.is_positive() || !last_price.is_positive()) {
        return Err(ParseError::Range("l"));
    }
    let update = OrderUpdate {
        client_id,
        exchange_id: ExchangeOrderId(exchange_id),
        status: st,
        side,
        liquidity: match (is_trade, maker) {
            (false, _) => Liquidity::None,
            (true, true) => Liquidity::Maker,
            (true, false) => Liquidity::Taker,
        },
        last_price: if is_trade { last_price } else { Price::ZERO },
        last_qty: if is_trade { last_qty } else { Qty::ZERO },
        cum_qty,
        fee: if is_trade { fee } else { Money::ZERO },
    };
    out.push(InputEvent::new(
        Source::UserData,
        sym,
        recv,
        exchange,
        InputBody::OrderUpdate(update),
    ));
    Ok(if ours.is_some() {
        UserMessage::Order
    } else {
        UserMessage::ExchangeClose
    })
}

/// `ALGO_UPDATE`: an acknowledgement or end of one of our conditional
/// orders becomes one order update; the rest is ignored (`super::algo`).
fn algo_update(
    data: &Value<'_>,
    symbols: &Symbols,
    recv: autobot_engine::types::MonoNanos,
    out: &mut Vec<InputEvent>,
) -> Result<UserMessage, ParseError> {
    let (exchange, o) = order_payload(data)?;
    let Some(id) = parse_client_id(text(o, "caid")?) else {
        return Ok(UserMessage::Foreign);
    };
    let sym = symbols.id(text(o, "s")?).ok_or(ParseError::UnknownSymbol)?;
    let side = order_side(o)?;
    let algo_id = o
        .get("aid")
        .and_then(|x| x.as_u64())
        .ok_or(ParseError::Field("aid"))?;
    let status = match super::algo::algo_status(text(o, "X")?).ok_or(ParseError::Field("X"))? {
        super::algo::AlgoStatus::Order(s) => s,
        super::algo::AlgoStatus::Triggered => return Ok(UserMessage::Ignored),
    };
    let update = OrderUpdate {
        client_id: id,
        exchange_id: ExchangeOrderId(algo_id),
        status,
        side,
        cum_qty: Qty::ZERO,
        ..OrderUpdate::default()
    };
    out.push(InputEvent::new(
        Source::UserData,
        sym,
        recv,
        exchange,
        InputBody::OrderUpdate(update),
    ));
    Ok(UserMessage::Order)
}

fn account_update(
    data: &Value<'_>,
    symbols: &Symbols,
    margin_asset: &str,
    recv: autobot_engine::types::MonoNanos,
    out: &mut Vec<InputEvent>,
) -> Result<UserMessage, ParseError> {
    let exchange = time_ms(data, "E")?;
    let a = data.get("a").ok_or(ParseError::Field("a"))?;
    let why = reason(text(a, "m")?);
    let balances = a
        .get("B")
        .and_then(|b| b.as_array())
        .ok_or(ParseError::Field("B"))?;
    let mut wallet = None;
    for b in balances {
        if text(b, "a")? == margin_asset {
            wallet = Some(money(b, "wb")?);
        }
    }
    let positions = match a.get("P") {
        Some(p) => p.as_array().ok_or(ParseError::Field("P"))?.as_slice(),
        None => &[],
    };
    let wallet = wallet.unwrap_or(Money::ZERO);
    one_way_positions(positions, symbols, recv, exchange, out, |p, qty, upnl| {
        Ok(AccountUpdate {
            reason: why,
            wallet_balance: wallet,
            position_qty: qty,
            entry_price: price_nonneg(p, "ep")?,
            unrealized_pnl: upnl,
        })
    })
}

/// One [`AccountUpdate`], made by `update` from the row, its `pa` and
/// `up`, per one-way (`BOTH`) position of ours in `positions`; hedge-mode
/// rows and other symbols are skipped, every row is checked.
fn one_way_positions(
    positions: &[Value<'_>],
    symbols: &Symbols,
    recv: autobot_engine::types::MonoNanos,
    exchange: UnixNanos,
    out: &mut Vec<InputEvent>,
    update: impl Fn(&Value<'_>, Qty, Money) -> Result<AccountUpdate, ParseError>,
) -> Result<UserMessage, ParseError> {
    let mut n = 0;
    for p in positions {
        let (symbol, side) = (text(p, "s")?, p.get("ps").and_then(|x| x.as_str()));
        let qty = qty_signed(p, "pa")?;
        let upnl = money(p, "up")?;
        let made = update(p, qty, upnl)?;
        if side.is_some_and(|s| s != "BOTH") {
            continue;
        }
        let Some(sym) = symbols.id(symbol) else {
            continue;
        };
        out.push(InputEvent::new(
            Source::UserData,
            sym,
            recv,
            exchange,
            InputBody::AccountUpdate(made),
        ));
        n += 1;
    }
    Ok(if n == 0 {
        UserMessage::Ignored
    } else {
        UserMessage::Account(n)
    })
}

/// `ACCOUNT_CONFIG_UPDATE`: a leverage change of one of our symbols
/// (`ac`) is [`UserMessage::Leverage`]; another symbol's, or the
/// multi-assets mode (`ai`), is ignored.
fn config_update(data: &Value<'_>, symbols: &Symbols) -> Result<UserMessage, ParseError> {
    time_ms(data, "E")?;
    let Some(ac) = data.get("ac") else {
        return Ok(UserMessage::Ignored);
    };
    if symbols.id(text(ac, "s")?).is_none() {
        return Ok(UserMessage::Ignored);
    }
    let l = ac
        .get("l")
        .and_then(|x| x.as_u64())
        .and_then(|l| u32::try_from(l).ok())
        .ok_or(ParseError::Field("l"))?;
    Ok(UserMessage::Leverage(l))
}

/// `MARGIN_CALL`: one account update (reason `MarginCall`) per one-way
/// position of ours it names, with the cross wallet balance.
fn margin_call(
    data: &Value<'_>,
    symbols: &Symbols,
    recv: autobot_engine::types::MonoNanos,
    out: &mut Vec<InputEvent>,
) -> Result<UserMessage, ParseError> {
    let exchange = time_ms(data, "E")?;
    let wallet = money(data, "cw")?;
    let positions = data
        .get("p")
        .and_then(|p| p.as_array())
        .ok_or(ParseError::Field("p"))?;
    one_way_positions(positions, symbols, recv, exchange, out, |_, qty, upnl| {
        Ok(AccountUpdate {
            reason: AccountReason::MarginCall,
            wallet_balance: wallet,
            position_qty: qty,
            entry_price: Price::ZERO,
            unrealized_pnl: upnl,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_engine::types::{MonoNanos, SymbolId};

    fn parse(text: &str) -> (Result<UserMessage, ParseError>, Vec<InputEvent>) {
        let mut out = Vec::new();
        let mut b = text.as_bytes().to_vec();
        let syms = Symbols::new(&["BTCUSDT", "ETHUSDT"]);
        (
            parse_user(&mut b, &syms, "USDT", MonoNanos(1), &mut out),
            out,
        )
    }

    #[test]
    fn a_fill_of_our_order_becomes_an_order_update() {
        let (r, evs) = parse(
            r#"{"e":"ORDER_TRADE_UPDATE","E":1610638208312,"T":1610638208309,"o":{"s":"ETHUSDT","c":"ab77","S":"SELL","o":"LIMIT","f":"GTX","q":"0.5","p":"2000","ap":"2000","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":99,"l":"0.2","z":"0.2","L":"2000","n":"0.08","N":"USDT","T":1,"t":5,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0","future":"x"}}"#,
        );
        assert_eq!(r, Ok(UserMessage::Order));
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].header.symbol, SymbolId(1));
        assert_eq!(evs[0].header.exchange, UnixNanos(1_610_638_208_312_000_000));
        let InputBody::OrderUpdate(u) = evs[0].body else {
            panic!("{:?}", evs[0].body)
        };
        assert_eq!(u.client_id, ClientOrderId(77));
        assert_eq!(u.status, OrderStatus::PartiallyFilled);
        assert_eq!(u.liquidity, Liquidity::Maker);
        assert_eq!(u.last_qty, Qty::parse("0.2").unwrap());
        assert_eq!(u.fee, Money::parse("0.08").unwrap());
    }

    #[test]
    fn the_string_e_of_an_expired_key_is_accepted() {
        let (r, evs) =
            parse(r#"{"e": "listenKeyExpired","E": "1693427319838","listenKey": "KEY"}"#);
        assert_eq!(r, Ok(UserMessage::ListenKeyExpired));
        assert!(evs.is_empty());
    }

    #[test]
    fn account_updates_keep_one_way_positions_of_our_symbols() {
        let (r, evs) = parse(
            r#"{"e":"ACCOUNT_UPDATE","E":5,"T":5,"a":{"m":"ORDER","B":[{"a":"BNB","wb":"1","cw":"1"},{"a":"USDT","wb":"1000.5","cw":"1000.5","bc":"0"}],"P":[{"s":"BTCUSDT","pa":"-0.002","ep":"60000","cr":"0","up":"-1.5","mt":"cross","iw":"0","ps":"BOTH"},{"s":"BTCUSDT","pa":"1","ep":"1","cr":"0","up":"0","mt":"cross","iw":"0","ps":"LONG"},{"s":"XRPUSDT","pa":"5","ep":"1","cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH"}]}}"#,
        );
        assert_eq!(r, Ok(UserMessage::Account(1)));
        let InputBody::AccountUpdate(a) = evs[0].body else {
            panic!()
        };
        assert_eq!(a.position_qty, Qty::parse("-0.002").unwrap());
        assert_eq!(a.wallet_balance, Money::parse("1000.5").unwrap());
        assert_eq!(a.unrealized_pnl, Money::parse("-1.5").unwrap());
    }

    #[test]
    fn foreign_orders_and_bad_reports_reach_nothing() {
        let foreign = r#"{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"web_123","S":"BUY","o":"MARKET","f":"GTC","q":"1","p":"0","x":"NEW","X":"NEW","i":1,"l":"0","z":"0","L":"0","m":false}}"#;
        assert_eq!(parse(foreign).0, Ok(UserMessage::Foreign));
        for (bad, why) in [
            (
                foreign
                    .replace("web_123", "ab1")
                    .replace("\"S\":\"BUY\"", "\"S\":\"UP\""),
                ParseError::Field("S"),
            ),
            (
                foreign
                    .replace("web_123", "ab1")
                    .replace("\"X\":\"NEW\"", "\"X\":\"LOST\""),
                ParseError::Field("X"),
            ),
            (
                foreign
                    .replace("web_123", "ab1")
                    .replace("\"z\":\"0\"", "\"z\":\"-1\""),
                ParseError::Range("z"),
            ),
            (
                foreign
                    .replace("web_123", "ab1")
                    .replace("\"x\":\"NEW\"", "\"x\":\"TRADE\""),
                ParseError::Range("l"),
            ),
            (
                foreign
                    .replace("BTCUSDT", "DOGEUSDT")
                    .replace("web_123", "ab1"),
                ParseError::UnknownSymbol,
            ),
            ("[1,2]".to_string(), ParseError::Json),
            (
                "{\"e\":\"ORDER_TRADE_UPDATE\"".to_string(),
                ParseError::Json,
            ),
        ] {
            let (r, evs) = parse(&bad);
            assert_eq!(r, Err(why), "{bad}");
            assert!(evs.is_empty());
        }
    }

    /// Binance's acknowledgement of a new order carries `"n":null` and
    /// `"N":null` (no commission yet): our own acks must not be lost.
    #[test]
    fn an_ack_with_null_commission_is_our_order_accepted() {
        let ack = r#"{"e":"ORDER_TRADE_UPDATE","E":1700000000001,"T":1700000000000,"o":{"s":"BTCUSDT","c":"ab42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"60000.00","ap":"0","sp":"0","x":"NEW","X":"NEW","i":7,"l":"0","z":"0","L":"0","n":null,"N":null,"T":1700000000000,"t":0,"b":"600","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}"#;
        let (r, evs) = parse(ack);
        assert_eq!(r, Ok(UserMessage::Order));
        let InputBody::OrderUpdate(u) = evs[0].body else {
            panic!("{evs:?}")
        };
        assert_eq!(
            (u.client_id, u.status),
            (ClientOrderId(42), OrderStatus::Accepted)
        );
        assert!(u.fee.is_zero());
    }

    /// A foreign order in any documented status, the ADL and insurance ones
    /// included, is foreign: its status is not ours to judge.
    #[test]
    fn foreign_orders_in_adl_or_insurance_status_are_foreign() {
        for x in ["NEW_ADL", "NEW_INSURANCE"] {
            let m = format!(
                r#"{{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{{"s":"XRPUSDT","c":"web_9","S":"SELL","o":"LIMIT","f":"IOC","q":"1","p":"1","x":"CALCULATED","X":"{x}","i":3,"l":"1","z":"1","L":"1","n":"0","N":"USDT","m":false}}}}"#
            );
            assert_eq!(parse(&m).0, Ok(UserMessage::Foreign), "{m}");
        }
    }

    /// The exchange closes our positions itself (liquidation `autoclose-…`,
    /// auto-deleveraging `adl_autoclose`, delivery `settlement_autoclose-…`,
    /// an insurance-fund or ADL status, a `CALCULATED` execution): such a
    /// fill changes our position and balance, so it reaches the core as an
    /// exchange close. The announcement without a fill does not.
    #[test]
    fn exchange_initiated_closes_of_our_symbols_reach_the_core() {
        let report = |c: &str, x: &str, st: &str, l: &str| {
            format!(
                r#"{{"e":"ORDER_TRADE_UPDATE","E":1700000000100,"T":1700000000099,"o":{{"s":"BTCUSDT","c":"{c}","S":"SELL","o":"LIMIT","f":"IOC","q":"0.010","p":"59000","ap":"59010","sp":"0","x":"{x}","X":"{st}","i":77,"l":"{l}","z":"{l}","L":"59010","n":"0.59","N":"USDT","T":1700000000099,"t":5,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"-10","pP":false,"si":0,"ss":0}}}}"#
            )
        };
        for (c, x, st) in [
            ("autoclose-1700000000099", "CALCULATED", "FILLED"),
            ("adl_autoclose", "CALCULATED", "NEW_ADL"),
            ("settlement_autoclose-BTCUSDT", "TRADE", "FILLED"),
            ("insurance-77", "CALCULATED", "NEW_INSURANCE"),
        ] {
            let m = report(c, x, st, "0.010");
            let (r, evs) = parse(&m);
            assert_eq!(r, Ok(UserMessage::ExchangeClose), "{m}");
            let InputBody::OrderUpdate(u) = evs[0].body else {
                panic!("{evs:?}")
            };
            assert_eq!(evs[0].header.symbol, SymbolId(0));
            assert_eq!(u.client_id, ClientOrderId::EXCHANGE_CLOSE, "{c}");
            assert_eq!((u.side, u.status), (Side::Sell, OrderStatus::Filled));
            assert_eq!(u.last_qty, Qty::parse("0.010").unwrap());
            assert_eq!(u.last_price, Price::parse("59010").unwrap());
            assert_eq!(u.fee, Money::parse("0.59").unwrap());
        }
        // The forced order announced, nothing filled yet: nothing to apply.
        let (r, evs) = parse(&report("autoclose-1", "NEW", "NEW", "0"));
        assert_eq!(r, Ok(UserMessage::Ignored));
        assert!(evs.is_empty());
        // Another symbol's forced close is not ours.
        let other =
            report("autoclose-1", "CALCULATED", "FILLED", "0.010").replace("BTCUSDT", "XRPUSDT");
        assert_eq!(parse(&other).0, Ok(UserMessage::Foreign));
    }

    /// A margin call names the positions near liquidation: each one-way
    /// position of ours becomes an account update the core alerts and acts
    /// on (its liquidation watch); the others are skipped.
    #[test]
    fn a_margin_call_reaches_the_core_for_our_positions() {
        let call = r#"{"e":"MARGIN_CALL","E":1587727187525,"cw":"3.16812045","p":[{"s":"ETHUSDT","ps":"BOTH","pa":"1.327","mt":"CROSSED","iw":"0","mp":"187.17127","up":"-1.166074","mm":"1.614445"},{"s":"ETHUSDT","ps":"LONG","pa":"1","mt":"CROSSED","iw":"0","mp":"187","up":"0","mm":"1"},{"s":"XRPUSDT","ps":"BOTH","pa":"5","mt":"CROSSED","iw":"0","mp":"1","up":"0","mm":"1"}]}"#;
        let (r, evs) = parse(call);
        assert_eq!(r, Ok(UserMessage::Account(1)));
        let InputBody::AccountUpdate(a) = evs[0].body else {
            panic!("{evs:?}")
        };
        assert_eq!(evs[0].header.symbol, SymbolId(1));
        assert_eq!(a.reason, AccountReason::MarginCall);
        assert_eq!(a.position_qty, Qty::parse("1.327").unwrap());
        assert_eq!(a.unrealized_pnl, Money::parse("-1.166074").unwrap());
        assert_eq!(a.wallet_balance, Money::parse("3.16812045").unwrap());
    }

    /// `TRADE_LITE` repeats, faster and without commission or status, the
    /// fill `ORDER_TRADE_UPDATE` reports whole: applying both would count
    /// each fill twice, so it is ignored on purpose. A leverage change of
    /// ours is reported for the stream to check against the config; one
    /// of another symbol, or the multi-assets mode, is ignored.
    #[test]
    fn trade_lite_is_ignored_on_purpose_and_a_leverage_change_is_read() {
        let lite = r#"{"e":"TRADE_LITE","E":1721895408092,"T":1721895408214,"s":"BTCUSDT","q":"0.001","p":"0","m":false,"c":"ab5","S":"BUY","L":"64089.20","l":"0.040","t":109100866,"i":8886774}"#;
        assert_eq!(parse(lite), (Ok(UserMessage::Ignored), Vec::new()));
        let lev = r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}"#;
        assert_eq!(parse(lev), (Ok(UserMessage::Leverage(25)), Vec::new()));
        let other = lev.replace("BTCUSDT", "XRPUSDT");
        assert_eq!(parse(&other).0, Ok(UserMessage::Ignored));
        let multi = r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1,"ai":{"j":true}}"#;
        assert_eq!(parse(multi).0, Ok(UserMessage::Ignored));
    }
}
