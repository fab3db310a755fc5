//! Reading the account over signed REST: open orders, one order, its
//! fills, positions and the wallet. These answer what the user-data stream
//! cannot: the state at start, and what happened while the stream was
//! down ([`super::ledger`] turns the answers into input events).
//!
//! Replies are parsed into small owned values (a few per call, off the hot
//! path); a reply without a field the engine needs is an error naming the
//! endpoint and the field, never a guess.

use autobot_engine::event::OrderStatus;
use autobot_engine::types::{ClientOrderId, Money, Price, Qty, Side, SymbolId};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::{ValueAsArray as _, ValueAsScalar as _, ValueObjectAccess as _};

use super::execution::ExecClient;
use super::rest::{Method, RestError};
use super::sign::{
    ALGO_ORDER, Stamp, algo_id_query, order_id_query, order_ref_query, parse_client_id,
    stamp_only_query, symbol_query,
};

/// An order as the exchange reports it (`GET /fapi/v1/order`,
/// `/fapi/v1/openOrders`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeOrder {
    /// Exchange symbol.
    pub symbol: String,
    /// The client id as sent.
    pub client: String,
    /// Our id, when the engine wrote it.
    pub client_id: Option<ClientOrderId>,
    /// The exchange's id.
    pub order_id: u64,
    /// Its status.
    pub status: OrderStatus,
    /// Its side.
    pub side: Side,
    /// Quantity ordered.
    pub qty: Qty,
    /// Quantity filled.
    pub executed: Qty,
    /// Last update (ms).
    pub time_ms: u64,
}

/// One fill (`GET /fapi/v1/userTrades`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeTrade {
    /// Trade id (increasing per symbol).
    pub id: u64,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Commission paid (negative: a rebate).
    pub fee: Money,
    /// Whether the order was the maker.
    pub maker: bool,
    /// Trade time (ms).
    pub time_ms: u64,
}

/// A conditional order resting at the Algo Order API
/// (`GET /fapi/v1/openAlgoOrders`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeStop {
    /// Exchange symbol.
    pub symbol: String,
    /// The client algo id as sent.
    pub client: String,
    /// Our id, when the engine wrote it.
    pub client_id: Option<ClientOrderId>,
    /// The exchange's algo id.
    pub algo_id: u64,
    /// Its side.
    pub side: Side,
    /// The price that triggers it.
    pub trigger: Price,
    /// Closes the whole position when it triggers.
    pub close_position: bool,
}

/// The account's one-way position on one symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangePosition {
    /// Exchange symbol.
    pub symbol: String,
    /// Signed amount (long > 0).
    pub qty: Qty,
    /// Average entry price (0 when flat).
    pub entry: Price,
    /// Unrealized PnL at the exchange's mark (0 when not reported).
    pub unrealized: Money,
}

fn bad(endpoint: &'static str, field: &str) -> RestError {
    RestError::Transport {
        endpoint,
        reason: format!("reply without a readable {field:?}"),
    }
}

/// A decimal field, sent as a string (Binance) or a number.
fn decimal<T: std::str::FromStr>(
    v: &Value<'_>,
    key: &str,
    endpoint: &'static str,
) -> Result<T, RestError> {
    let x = v.get(key).ok_or_else(|| bad(endpoint, key))?;
    let parsed = match (x.as_str(), x.as_i64()) {
        (Some(s), _) => s.parse().ok(),
        // A number (leverageBracket sends numbers; elsewhere a number where
        // Binance sends a string): an integer as is, else its shortest
        // decimal form.
        (None, Some(i)) => i.to_string().parse().ok(),
        (None, None) => x.as_f64().and_then(|f| f.to_string().parse().ok()),
    };
    parsed.ok_or_else(|| bad(endpoint, key))
}

fn text<'v>(v: &'v Value<'_>, key: &str, endpoint: &'static str) -> Result<&'v str, RestError> {
    v.get(key)
        .and_then(|x| x.as_str())
        .ok_or_else(|| bad(endpoint, key))
}

fn integer(v: &Value<'_>, key: &str, endpoint: &'static str) -> Result<u64, RestError> {
    v.get(key)
        .and_then(|x| x.as_u64())
        .ok_or_else(|| bad(endpoint, key))
}

fn side(v: &Value<'_>, endpoint: &'static str) -> Result<Side, RestError> {
    match text(v, "side", endpoint)? {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(bad(endpoint, "side")),
    }
}

fn order(v: &Value<'_>, endpoint: &'static str) -> Result<ExchangeOrder, RestError> {
    let client = text(v, "clientOrderId", endpoint)?.to_string();
    Ok(ExchangeOrder {
        symbol: text(v, "symbol", endpoint)?.to_string(),
        client_id: parse_client_id(&client),
        client,
        order_id: integer(v, "orderId", endpoint)?,
        status: super::user::status(text(v, "status", endpoint)?)
            .ok_or_else(|| bad(endpoint, "status"))?,
        side: side(v, endpoint)?,
        qty: decimal(v, "origQty", endpoint)?,
        executed: decimal(v, "executedQty", endpoint)?,
        time_ms: integer(v, "updateTime", endpoint).unwrap_or(0),
    })
}

fn list<'v>(v: &'v Value<'_>, endpoint: &'static str) -> Result<&'v [Value<'v>], RestError> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| bad(endpoint, "[list]"))
}

fn parsed<'a>(body: &'a mut [u8], endpoint: &'static str) -> Result<Value<'a>, RestError> {
    simd_json::to_borrowed_value(body).map_err(|_| RestError::Transport {
        endpoint,
        reason: "reply is not JSON".into(),
    })
}

impl ExecClient {
    /// Every open order of the account (`GET /fapi/v1/openOrders`, all
    /// symbols: weight 40).
    pub fn open_orders(&mut self) -> Result<Vec<ExchangeOrder>, RestError> {
        const AT: &str = "/fapi/v1/openOrders";
        let mut body = self.signed(Method::Get, AT, &stamp_only_query)?;
        let v = parsed(&mut body, AT)?;
        list(&v, AT)?.iter().map(|o| order(o, AT)).collect()
    }

    /// Every conditional order resting at the Algo Order API
    /// (`GET /fapi/v1/openAlgoOrders`).
    pub fn open_algo_orders(&mut self) -> Result<Vec<ExchangeStop>, RestError> {
        const AT: &str = "/fapi/v1/openAlgoOrders";
        let mut body = self.signed(Method::Get, AT, &stamp_only_query)?;
        let v = parsed(&mut body, AT)?;
        list(&v, AT)?
            .iter()
            .map(|o| {
                let client = text(o, "clientAlgoId", AT)?.to_string();
                Ok(ExchangeStop {
                    symbol: text(o, "symbol", AT)?.to_string(),
                    client_id: parse_client_id(&client),
                    client,
                    algo_id: integer(o, "algoId", AT)?,
                    side: side(o, AT)?,
                    trigger: decimal(o, "triggerPrice", AT)?,
                    close_position: o
                        .get("closePosition")
                        .and_then(|x| x.as_bool())
                        .unwrap_or(false),
                })
            })
            .collect()
    }

    /// Our order `id` on `symbol`, or `None` if the exchange does not know
    /// it (-2013).
    pub fn order(
        &mut self,
        symbol: SymbolId,
        id: ClientOrderId,
    ) -> Result<Option<ExchangeOrder>, RestError> {
        const AT: &str = "/fapi/v1/order";
        let name = self.name(symbol).ok_or_else(|| bad(AT, "symbol"))?;
        match self.signed(Method::Get, AT, &|q, st| order_ref_query(q, &name, id, st)) {
            Ok(mut body) => order(&parsed(&mut body, AT)?, AT).map(Some),
            Err(e) if e.code() == Some(-2013) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Our order `id` on `symbol`, asked where it lives: a protective stop
    /// (`conditional`) at the Algo Order API, see [`ExecClient::algo_order`].
    pub fn order_of(
        &mut self,
        symbol: SymbolId,
        id: ClientOrderId,
        conditional: bool,
    ) -> Result<Option<ExchangeOrder>, RestError> {
        if conditional {
            self.algo_order(symbol, id)
        } else {
            self.order(symbol, id)
        }
    }

    /// Our protective stop `id` (`GET /fapi/v1/algoOrder`), as the order
    /// that reports its life: the stop itself while it waits (id: the
    /// algo id) or once it ended untriggered; after its trigger, the order
    /// it placed in the matching engine (by `actualOrderId`), whose fills
    /// `userTrades` has. `None` if the exchange does not know it.
    pub fn algo_order(
        &mut self,
        symbol: SymbolId,
        id: ClientOrderId,
    ) -> Result<Option<ExchangeOrder>, RestError> {
        use super::algo::{AlgoStatus, algo_status};
        use super::sign::{ALGO_ORDER as AT, algo_ref_query};
        let mut body = match self.signed(Method::Get, AT, &|q, st| algo_ref_query(q, id, st)) {
            Ok(body) => body,
            Err(e) if e.code() == Some(-2013) => return Ok(None),
            Err(e) => return Err(e),
        };
        let v = parsed(&mut body, AT)?;
        let status =
            algo_status(text(&v, "algoStatus", AT)?).ok_or_else(|| bad(AT, "algoStatus"))?;
        let actual = v.get("actualOrderId").and_then(|x| {
            x.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| x.as_u64())
        });
        let status = match (status, actual) {
            (AlgoStatus::Order(s), _) => s,
            (AlgoStatus::Triggered, Some(order_id)) => {
                let name = self.name(symbol).ok_or_else(|| bad(AT, "symbol"))?;
                const BY_ID: &str = "/fapi/v1/order";
                let write = |q: &mut String, st: Stamp| order_id_query(q, &name, order_id, st);
                let mut body = self.signed(Method::Get, BY_ID, &write)?;
                return order(&parsed(&mut body, BY_ID)?, BY_ID).map(Some);
            }
            // Forwarded to the matching engine, not yet placed there.
            (AlgoStatus::Triggered, None) => OrderStatus::Accepted,
        };
        let client = text(&v, "clientAlgoId", AT)?.to_string();
        Ok(Some(ExchangeOrder {
            symbol: text(&v, "symbol", AT)?.to_string(),
            client_id: parse_client_id(&client),
            client,
            order_id: integer(&v, "algoId", AT)?,
            status,
            side: side(&v, AT)?,
            qty: decimal(&v, "quantity", AT).unwrap_or(Qty::ZERO),
            executed: Qty::ZERO,
            time_ms: integer(&v, "updateTime", AT).unwrap_or(0),
        }))
    }

    /// The fills of the exchange's order `order_id` on `symbol`, oldest
    /// first (`GET /fapi/v1/userTrades`).
    pub fn order_trades(
        &mut self,
        symbol: SymbolId,
        order_id: u64,
    ) -> Result<Vec<ExchangeTrade>, RestError> {
        const AT: &str = "/fapi/v1/userTrades";
        let name = self.name(symbol).ok_or_else(|| bad(AT, "symbol"))?;
        let write = |q: &mut String, st: Stamp| order_id_query(q, &name, order_id, st);
        let mut body = self.signed(Method::Get, AT, &write)?;
        let v = parsed(&mut body, AT)?;
        let mut trades = list(&v, AT)?
            .iter()
            .map(|t| {
                Ok(ExchangeTrade {
                    id: integer(t, "id", AT)?,
                    price: decimal(t, "price", AT)?,
                    qty: decimal(t, "qty", AT)?,
                    fee: decimal(t, "commission", AT)?,
                    maker: t
                        .get("maker")
                        .and_then(|m| m.as_bool())
                        .ok_or_else(|| bad(AT, "maker"))?,
                    time_ms: integer(t, "time", AT)?,
                })
            })
            .collect::<Result<Vec<_>, RestError>>()?;
        trades.sort_by_key(|t| t.id);
        Ok(trades)
    }

    /// Cancels the exchange's order `order_id` on `symbol` (an order the
    /// engine did not place, found at start).
    pub fn cancel_by_exchange_id(&mut self, symbol: &str, order_id: u64) -> Result<(), RestError> {
        let write = |q: &mut String, st: Stamp| order_id_query(q, symbol, order_id, st);
        self.signed(Method::Delete, "/fapi/v1/order", &write)
            .map(|_| ())
    }

    /// Cancels the conditional order `algo_id` (one the engine did not
    /// place, found at start) at the Algo Order API.
    pub fn cancel_algo_by_id(&mut self, algo_id: u64) -> Result<(), RestError> {
        let write = |q: &mut String, st: Stamp| algo_id_query(q, algo_id, st);
        self.signed(Method::Delete, ALGO_ORDER, &write).map(|_| ())
    }

    /// The one-way position of every symbol the exchange reports
    /// (`GET /fapi/v3/positionRisk`).
    pub fn position_list(&mut self) -> Result<Vec<ExchangePosition>, RestError> {
        const AT: &str = "/fapi/v3/positionRisk";
        let mut body = self.positions()?;
        let v = parsed(&mut body, AT)?;
        let mut out = Vec::new();
        for p in list(&v, AT)? {
            if p.get("positionSide")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s != "BOTH")
            {
                continue; // hedge-mode legs are not the engine's positions
            }
            out.push(ExchangePosition {
                symbol: text(p, "symbol", AT)?.to_string(),
                qty: decimal(p, "positionAmt", AT)?,
                entry: decimal(p, "entryPrice", AT)?,
                unrealized: decimal(p, "unRealizedProfit", AT).unwrap_or(Money::ZERO),
            });
        }
        Ok(out)
    }

    /// The account's maintenance brackets of `symbol`, lowest first
    /// (`GET /fapi/v1/leverageBracket`): `(notionalCap, maintMarginRatio,
    /// cum)`; empty if the exchange lists none.
    pub fn leverage_brackets(
        &mut self,
        symbol: &str,
    ) -> Result<Vec<(Money, autobot_engine::types::Rate, Money)>, RestError> {
        const AT: &str = "/fapi/v1/leverageBracket";
        let write = |q: &mut String, st: Stamp| symbol_query(q, symbol, st);
        let mut body = self.signed(Method::Get, AT, &write)?;
        let v = parsed(&mut body, AT)?;
        // One object for one symbol; a list when asked for all (some
        // gateways answer a list either way).
        let entries: Vec<&Value<'_>> = match v.as_array() {
            Some(list) => list.iter().collect(),
            None => vec![&v],
        };
        let Some(entry) = entries
            .into_iter()
            .find(|e| e.get("symbol").and_then(|s| s.as_str()) == Some(symbol))
        else {
            return Ok(Vec::new());
        };
        let tiers = entry.get("brackets").ok_or_else(|| bad(AT, "brackets"))?;
        let mut out = Vec::new();
        for t in list(tiers, AT)? {
            out.push((
                decimal(t, "notionalCap", AT)?,
                decimal(t, "maintMarginRatio", AT)?,
                decimal(t, "cum", AT)?,
            ));
        }
        Ok(out)
    }

    /// The wallet balance of `asset` (`GET /fapi/v3/account`).
    pub fn wallet(&mut self, asset: &str) -> Result<Money, RestError> {
        const AT: &str = "/fapi/v3/account";
        let mut body = self.account()?;
        let v = parsed(&mut body, AT)?;
        let assets = v.get("assets").ok_or_else(|| bad(AT, "assets"))?;
        for a in list(assets, AT)? {
            if text(a, "asset", AT)? == asset {
                return decimal(a, "walletBalance", AT);
            }
        }
        Err(bad(AT, asset))
    }
}
