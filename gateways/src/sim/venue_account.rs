//! The venue's account endpoints beyond placing orders: balances,
//! positions with their marks, margins and liquidation prices, leverage,
//! commission rates, the position mode and margin type (one-way, cross:
//! the only ones the model keeps), cancel-all, order history and trade
//! history by symbol and time.

use std::collections::BTreeMap;

use autobot_engine::event::OrderStatus;
use autobot_engine::types::{Money, Price, Qty, Rounding, SymbolId};
use serde_json::{Value, json};

use super::{Refusal, Venue, open_status, side_name};

const BAD_SYMBOL: Refusal = (400, -1121, "Invalid symbol.");

/// `limit`, `startTime`, `endTime`, `fromId` / `orderId` of a history
/// request.
struct Range {
    limit: usize,
    from_ms: u64,
    to_ms: u64,
    from_id: u64,
}

fn range(params: &BTreeMap<&str, &str>, id_key: &str, max: usize) -> Range {
    let num = |k: &str| params.get(k).and_then(|v| v.parse::<u64>().ok());
    Range {
        limit: num("limit").map_or(500, |l| usize::try_from(l).unwrap_or(max).clamp(1, max)),
        from_ms: num("startTime").unwrap_or(0),
        to_ms: num("endTime").unwrap_or(u64::MAX),
        from_id: num(id_key).unwrap_or(0),
    }
}

/// The last `limit` of `rows` (oldest first), as Binance pages histories.
fn last(mut rows: Vec<Value>, limit: usize) -> String {
    let skip = rows.len().saturating_sub(limit);
    rows.drain(..skip);
    Value::Array(rows).to_string()
}

impl Venue {
    /// When order `id` was placed (exchange ms; now if unknown).
    pub(super) fn placed_ms(&self, id: u64) -> u64 {
        self.placed_at
            .get(&id)
            .copied()
            .unwrap_or_else(|| self.now_ms())
    }

    fn symbol_id(&self, name: &str) -> Result<SymbolId, Refusal> {
        self.symbol(name).ok_or(BAD_SYMBOL)
    }

    /// One `positionRisk` row of `sym`.
    pub(super) fn position_value(&self, sym: SymbolId) -> Value {
        let Some(v) = self.model.view(sym) else {
            return Value::Null;
        };
        let (qty, entry) = v.position;
        let signed = if qty.raw() < 0 {
            Money::from_raw(-v.notional.raw())
        } else {
            v.notional
        };
        let lev = self.model.leverage(sym);
        let im = Money::from_raw(v.notional.raw() / i64::from(lev.max(1)));
        json!({"symbol": self.name(sym), "positionSide": "BOTH",
               "positionAmt": qty.to_string(), "entryPrice": entry.to_string(),
               "breakEvenPrice": entry.to_string(),
               "markPrice": v.mark.unwrap_or(Price::ZERO).to_string(),
               "unRealizedProfit": v.unrealized.to_string(),
               "liquidationPrice": v.liquidation.unwrap_or(Price::ZERO).to_string(),
               "leverage": lev.to_string(), "marginType": "cross",
               "isolatedMargin": "0", "isolatedWallet": "0", "isAutoAddMargin": "false",
               "notional": signed.to_string(), "marginAsset": "USDT",
               "initialMargin": im.to_string(), "positionInitialMargin": im.to_string(),
               "openOrderInitialMargin": "0", "maintMargin": v.maintenance.to_string(),
               "maxNotionalValue": self.max_notional(sym).to_string(),
               "adl": 0, "bidNotional": "0", "askNotional": "0",
               "updateTime": self.now_ms()})
    }

    /// The notional cap of `sym`'s last bracket (none configured: no cap).
    fn max_notional(&self, sym: SymbolId) -> Money {
        self.brackets
            .get(usize::from(sym.0))
            .and_then(|b| b.as_slice().last())
            .map_or(Money::MAX, |b| b.cap)
    }

    pub(super) fn positions(&self) -> Vec<Value> {
        (0..self.model.instruments().len())
            .map(|i| self.position_value(SymbolId(u16::try_from(i).unwrap_or(u16::MAX))))
            .collect()
    }

    /// `GET /fapi/v3/positionRisk` (and v2): of `symbol`, or every symbol.
    pub fn positions_json(&self, symbol: Option<&str>) -> Result<String, Refusal> {
        match symbol {
            Some(s) => Ok(Value::Array(vec![self.position_value(self.symbol_id(s)?)]).to_string()),
            None => Ok(Value::Array(self.positions()).to_string()),
        }
    }

    fn usdt_balance(&self) -> Value {
        let a = self.model.account_view();
        let w = a.wallet.to_string();
        json!({"accountAlias": "SimU", "asset": "USDT", "balance": w, "walletBalance": w,
               "crossWalletBalance": w, "crossUnPnl": a.unrealized.to_string(),
               "unrealizedProfit": a.unrealized.to_string(),
               "marginBalance": a.wallet.checked_add(a.unrealized).unwrap_or(a.wallet).to_string(),
               "availableBalance": a.available.to_string(),
               "maxWithdrawAmount": a.available.to_string(), "marginAvailable": true,
               "initialMargin": a.position_margin.to_string(),
               "maintMargin": a.maintenance.to_string(),
               "positionInitialMargin": a.position_margin.to_string(),
               "openOrderInitialMargin": "0", "updateTime": self.now_ms()})
    }

    /// `GET /fapi/v3/balance` (and v2).
    pub fn balance_json(&self) -> String {
        Value::Array(vec![self.usdt_balance()]).to_string()
    }

    /// `GET /fapi/v3/account` (and v2): totals, the USDT asset, positions.
    pub fn account_json(&self) -> String {
        let a = self.model.account_view();
        let w = a.wallet.to_string();
        let margin = a.wallet.checked_add(a.unrealized).unwrap_or(a.wallet);
        json!({"feeTier": 0, "canTrade": true, "canDeposit": true, "canWithdraw": true,
               "multiAssetsMargin": false, "updateTime": 0,
               "totalInitialMargin": a.position_margin.to_string(),
               "totalMaintMargin": a.maintenance.to_string(),
               "totalWalletBalance": w, "totalUnrealizedProfit": a.unrealized.to_string(),
               "totalMarginBalance": margin.to_string(),
               "totalPositionInitialMargin": a.position_margin.to_string(),
               "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": w,
               "totalCrossUnPnl": a.unrealized.to_string(),
               "availableBalance": a.available.to_string(),
               "maxWithdrawAmount": a.available.to_string(),
               "assets": [self.usdt_balance()],
               "positions": self.positions()})
        .to_string()
    }

    /// `GET /fapi/v1/leverageBracket` (of `symbol`, or all): the account's
    /// maintenance brackets as Binance gives them (numbers, not strings);
    /// a symbol with none configured lists none.
    pub fn leverage_brackets(&self, symbol: Option<&str>) -> Result<String, Refusal> {
        let only = match symbol {
            Some(s) => Some(self.symbol(s).ok_or((400, -1121, "Invalid symbol."))?),
            None => None,
        };
        let list: Vec<Value> = (0..self.model.instruments().len())
            .map(|i| SymbolId(u16::try_from(i).unwrap_or(u16::MAX)))
            .filter(|sym| only.is_none_or(|o| o == *sym))
            .map(|sym| {
                let mut floor = Money::ZERO;
                let tiers: Vec<Value> = self
                    .brackets
                    .get(usize::from(sym.0))
                    .map_or(&[][..], |b| b.as_slice())
                    .iter()
                    .enumerate()
                    .map(|(k, b)| {
                        let number = |text: String| {
                            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
                        };
                        let v = json!({"bracket": k + 1, "initialLeverage": 125 / (k + 1),
                            "notionalCap": number(b.cap.to_string()),
                            "notionalFloor": number(floor.to_string()),
                            "maintMarginRatio": number(b.mmr.to_string()),
                            "cum": number(b.cum.to_string())});
                        floor = b.cap;
                        v
                    })
                    .collect();
                json!({"symbol": self.name(sym), "notionalCoef": 1.0, "brackets": tiers})
            })
            .collect();
        Ok(Value::Array(list).to_string())
    }

    /// `POST /fapi/v1/leverage`: the symbol's, as on Binance (the keys
    /// file's or the config's leverage is every symbol's to start with).
    pub fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: Option<&str>,
    ) -> Result<String, Refusal> {
        let sym = self.symbol_id(symbol)?;
        let lev = leverage
            .and_then(|l| l.parse::<u32>().ok())
            .filter(|l| (1..=125).contains(l))
            .ok_or((400, -4028, "Leverage is not valid."))?;
        self.model.set_leverage(sym, lev);
        Ok(
            json!({"leverage": lev, "maxNotionalValue": self.max_notional(sym).to_string(),
                  "symbol": self.name(sym)})
            .to_string(),
        )
    }

    /// The symbol filters a new order (`/fapi/v1/order` or `algoOrder`
    /// parameters) must pass (`filters`); an order that does not parse
    /// passes here and is refused by the placement with its own code.
    pub fn check_filters(
        &self,
        params: &BTreeMap<&str, &str>,
    ) -> Result<(), super::super::filters::FilterRefusal> {
        let mut p = params.clone();
        if let Some(t) = params.get("triggerPrice").copied() {
            p.entry("stopPrice").or_insert(t);
        }
        let Ok(order) = super::parse_order(&p) else {
            return Ok(());
        };
        let Some(sym) = self.symbol(&order.symbol) else {
            return Ok(());
        };
        let Some(ins) = self.model.instruments().get(usize::from(sym.0)) else {
            return Ok(());
        };
        let mark = self.model.view(sym).and_then(|v| v.mark);
        super::super::filters::check(&p, order.kind, (order.qty, order.price), ins, mark)?;
        // MAX_NUM_ALGO_ORDERS counts conditional orders not yet triggered,
        // MAX_NUM_ORDERS the orders on the book.
        let waiting = |c: &autobot_engine::types::ClientOrderId| {
            self.algo.contains(c) && !self.triggered.contains(c)
        };
        let conditional = order.kind.trigger().is_some();
        let open = self
            .model
            .held()
            .filter(|(o, _, _)| o.symbol == sym && waiting(&o.client) == conditional)
            .count();
        use super::super::public::{MAX_NUM_ALGO_ORDERS, MAX_NUM_ORDERS};
        match conditional {
            true if open >= MAX_NUM_ALGO_ORDERS => {
                Err((-4045, "Reach max stop order limit.".into()))
            }
            false if open >= MAX_NUM_ORDERS => Err((-2025, "Reach max open order limit.".into())),
            _ => Ok(()),
        }
    }

    /// `GET /fapi/v1/symbolConfig`: margin type and leverage of `symbol`,
    /// or of every symbol.
    pub fn symbol_config(&self, symbol: Option<&str>) -> Result<String, Refusal> {
        let only = symbol.map(|s| self.symbol_id(s)).transpose()?;
        let rows: Vec<Value> = (0..self.model.instruments().len())
            .map(|i| SymbolId(u16::try_from(i).unwrap_or(u16::MAX)))
            .filter(|s| only.is_none_or(|o| o == *s))
            .map(|s| {
                json!({"symbol": self.name(s), "marginType": "CROSSED", "isAutoAddMargin": "false",
                       "leverage": self.model.leverage(s),
                       "maxNotionalValue": self.max_notional(s).to_string()})
            })
            .collect();
        Ok(Value::Array(rows).to_string())
    }

    /// `POST /fapi/v1/marginType`: cross is the only margin type kept.
    pub fn set_margin_type(&self, symbol: &str, kind: Option<&str>) -> Result<String, Refusal> {
        self.symbol_id(symbol)?;
        match kind {
            Some("CROSSED") => Err((400, -4046, "No need to change margin type.")),
            // -1000 (unknown): no Binance code means "not kept here".
            Some("ISOLATED") => Err((400, -1000, "The simulator keeps cross margin only.")),
            _ => Err((400, -1116, "Invalid marginType.")),
        }
    }

    /// `GET /fapi/v1/commissionRate`: the configured fees.
    pub fn commission_rate(&self, symbol: &str) -> Result<String, Refusal> {
        let sym = self.symbol_id(symbol)?;
        let f = self.model.fill_config();
        Ok(
            json!({"symbol": self.name(sym), "makerCommissionRate": f.maker_fee.to_string(),
                  "takerCommissionRate": f.taker_fee.to_string(), "rpiCommissionRate": "0"})
            .to_string(),
        )
    }

    /// `DELETE /fapi/v1/allOpenOrders`: cancels `symbol`'s open orders
    /// (each reported on the user stream as a cancel is).
    pub fn cancel_all(&mut self, symbol: &str) -> Result<String, Refusal> {
        let sym = self.symbol_id(symbol)?;
        let names: Vec<String> = self
            .model
            .held()
            .filter(|(o, _, _)| o.symbol == sym && !self.algo.contains(&o.client))
            .filter_map(|(o, _, _)| self.names.get(usize::try_from(o.client.0).ok()?).cloned())
            .collect();
        for n in names {
            // An order that filled meanwhile is simply not open any more.
            let _ = self.cancel(symbol, &n);
        }
        Ok(
            json!({"code": 200, "msg": "The operation of cancel all open order is done."})
                .to_string(),
        )
    }

    /// The average fill price and quote filled of order `id`.
    pub(super) fn fills_of(&self, id: u64) -> (Price, Money) {
        let (mut qty, mut quote) = (0i128, Money::ZERO);
        for t in self.trades.iter().filter(|t| t.order_id == id) {
            qty += i128::from(t.qty.raw());
            let n = Money::notional(t.price, t.qty, Rounding::HalfEven).unwrap_or(Money::ZERO);
            quote = quote.checked_add(n).unwrap_or(quote);
        }
        if qty == 0 {
            return (Price::ZERO, Money::ZERO);
        }
        // quote / qty, both at scale 10^8: the price at scale 10^8,
        // rounded half up (both are positive).
        let num = i128::from(quote.raw()) * 100_000_000;
        let avg = (2 * num + qty) / (2 * qty);
        (Price::from_raw(i64::try_from(avg).unwrap_or(0)), quote)
    }

    /// `GET /fapi/v1/allOrders`: `symbol`'s orders, open and done, from
    /// `orderId` on, within the time range, the last `limit` (≤ 1000).
    pub fn all_orders(&self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        let sym = self.symbol_id(params.get("symbol").copied().unwrap_or_default())?;
        let r = range(params, "orderId", 1000);
        let mut rows: Vec<(u64, Value)> = self
            .done
            .values()
            .filter(|d| d.order.symbol == sym && !self.algo.contains(&d.order.client))
            .map(|d| (d.id, self.order_value(&d.order, d.id, d.status, d.filled)))
            .chain(
                self.model
                    .held()
                    .filter(|(o, _, _)| o.symbol == sym && !self.algo.contains(&o.client))
                    .map(|(o, id, f)| (id.0, self.order_value(&o, id.0, open_status(f), f))),
            )
            .filter(|(id, v)| {
                let t = v["time"].as_u64().unwrap_or(0);
                *id >= r.from_id && (r.from_ms..=r.to_ms).contains(&t)
            })
            .collect();
        rows.sort_by_key(|(id, _)| *id);
        Ok(last(rows.into_iter().map(|(_, v)| v).collect(), r.limit))
    }

    /// `GET /fapi/v1/userTrades`: `symbol`'s fills (of one `orderId`
    /// when given), from `fromId` on, within the time range, the last
    /// `limit` (≤ 1000), oldest first.
    pub fn user_trades(&self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        let sym = self.symbol_id(params.get("symbol").copied().unwrap_or_default())?;
        let r = range(params, "fromId", 1000);
        let order = params.get("orderId").and_then(|o| o.parse::<u64>().ok());
        let rows: Vec<Value> = self
            .trades
            .iter()
            .filter(|t| t.symbol == sym && order.is_none_or(|o| o == t.order_id))
            .filter(|t| t.id >= r.from_id && (r.from_ms..=r.to_ms).contains(&t.time_ms))
            .map(|t| {
                let quote =
                    Money::notional(t.price, t.qty, Rounding::HalfEven).unwrap_or(Money::ZERO);
                json!({"buyer": t.side == autobot_engine::types::Side::Buy,
                       "commission": t.fee.to_string(), "commissionAsset": "USDT", "id": t.id,
                       "maker": t.maker, "orderId": t.order_id, "price": t.price.to_string(),
                       "qty": t.qty.to_string(), "quoteQty": quote.to_string(),
                       "realizedPnl": t.realized.to_string(), "side": side_name(t.side),
                       "positionSide": "BOTH", "symbol": self.name(t.symbol), "time": t.time_ms})
            })
            .collect();
        Ok(last(rows, r.limit))
    }

    /// An order's answer as `newOrderRespType` asks: `ACK` (the default)
    /// the order as accepted; `RESULT` its state once the match is done
    /// (a market order: `FILLED` with its `executedQty` and `avgPrice`).
    pub(super) fn placed_json(
        &self,
        order: &autobot_exchange::Order,
        id: u64,
        resp: Option<&str>,
    ) -> String {
        if resp != Some("RESULT") {
            return self.order_json(order, id, OrderStatus::Accepted, Qty::ZERO);
        }
        if let Some(d) = self.done.get(&id) {
            return self.order_json(&d.order, id, d.status, d.filled);
        }
        let filled = self
            .model
            .held_order(order.symbol, order.client)
            .map_or(Qty::ZERO, |(_, _, f)| f);
        self.order_json(order, id, open_status(filled), filled)
    }
}
