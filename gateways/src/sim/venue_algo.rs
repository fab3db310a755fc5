//! The venue's Algo Order API (`/fapi/v1/algoOrder`,
//! `/fapi/v1/openAlgoOrders`): conditional orders as Binance takes them
//! since 2025-12, over the model's own stop orders.
//!
//! An algo order's life is told as Binance tells it: `ALGO_UPDATE` `NEW`
//! when it rests, `CANCELED` if cancelled before it triggers; when it
//! triggers, `ALGO_UPDATE` `TRIGGERED`, then the order it places in the
//! matching engine reports as any order does (`ORDER_TRADE_UPDATE`, our
//! `clientAlgoId` as its client id, `NEW` then its fills or its expiry),
//! then `ALGO_UPDATE` `FINISHED`. The algo id and the triggered order's id
//! are both the model's order id.

use std::collections::BTreeMap;

use autobot_engine::event::OrderStatus;
use autobot_engine::types::{Price, SymbolId};
use autobot_exchange::{Execution, Order};
use serde_json::{Value, json};

use super::{Refusal, Venue, parse_order, side_name};

const UNKNOWN: Refusal = (400, -2013, "Order does not exist.");

/// A parameter by either spelling Binance documents (`clientAlgoId` on
/// placement, `clientalgoid` on cancel).
fn param<'a>(params: &BTreeMap<&str, &'a str>, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
        .map(|(_, v)| *v)
}

impl Venue {
    /// `POST /fapi/v1/algoOrder`: places a conditional order; its algo
    /// order body.
    pub fn place_algo(&mut self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        if param(params, "algoType") != Some("CONDITIONAL") {
            return Err((400, -1116, "Invalid algoType."));
        }
        // The order parameters under their `/fapi/v1/order` names.
        let mut p: BTreeMap<&str, &str> = params.clone();
        if let Some(t) = param(params, "triggerPrice") {
            p.insert("stopPrice", t);
        }
        match param(params, "clientAlgoId") {
            Some(c) => p.insert("newClientOrderId", c),
            None => p.remove("newClientOrderId"),
        };
        let order = parse_order(&p)?;
        if order.kind.trigger().is_none() {
            return Err((400, -1116, "Invalid orderType."));
        }
        let (order, id) = self.submit(order, true)?;
        Ok(self.algo_value(&order, id, "NEW").to_string())
    }

    /// `DELETE /fapi/v1/algoOrder` by `clientAlgoId` (or `algoId`).
    pub fn cancel_algo(&mut self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        let (sym, name) = self
            .algo_named(params)
            .ok_or((400, -2011, "Unknown order sent."))?;
        let symbol = self.name(sym).to_string();
        self.cancel(&symbol, &name)?;
        let client = self.by_name[&name];
        let d = self
            .done
            .values()
            .find(|d| d.order.client == client)
            .ok_or((400, -2011, "Unknown order sent."))?;
        Ok(self.algo_value(&d.order, d.id, "CANCELED").to_string())
    }

    /// `GET /fapi/v1/algoOrder` by `clientAlgoId` (or `algoId`).
    pub fn query_algo(&self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        let (sym, name) = self.algo_named(params).ok_or(UNKNOWN)?;
        let client = self.by_name[&name];
        if let Some((o, id, _)) = self.model.held_order(sym, client) {
            return Ok(self.algo_value(&o, id.0, "NEW").to_string());
        }
        let d = self
            .done
            .values()
            .find(|d| d.order.client == client)
            .ok_or(UNKNOWN)?;
        let mut v = if self.triggered.contains(&client) {
            let mut v = self.algo_value(&d.order, d.id, "FINISHED");
            v["actualOrderId"] = json!(d.id.to_string());
            v["actualQty"] = json!(d.filled.to_string());
            v
        } else {
            let status = match d.status {
                OrderStatus::Cancelled => "CANCELED",
                _ => "EXPIRED",
            };
            self.algo_value(&d.order, d.id, status)
        };
        v["updateTime"] = json!(self.now_ms());
        Ok(v.to_string())
    }

    /// `GET /fapi/v1/openAlgoOrders`.
    pub fn open_algo_orders(&self) -> String {
        let list: Vec<Value> = self
            .model
            .held()
            .filter(|(o, _, _)| self.algo.contains(&o.client))
            .map(|(o, id, _)| self.algo_value(&o, id.0, "NEW"))
            .collect();
        Value::Array(list).to_string()
    }

    /// The symbol and client id string of the algo order a request names.
    fn algo_named(&self, params: &BTreeMap<&str, &str>) -> Option<(SymbolId, String)> {
        let client = match param(params, "clientAlgoId") {
            Some(c) => *self.by_name.get(c)?,
            None => {
                let id: u64 = param(params, "algoId")?.parse().ok()?;
                let held = self
                    .model
                    .held()
                    .find(|(_, x, _)| x.0 == id)
                    .map(|(o, _, _)| o.client);
                held.or_else(|| self.done.get(&id).map(|d| d.order.client))?
            }
        };
        if !self.algo.contains(&client) {
            return None;
        }
        let name = self.names.get(usize::try_from(client.0).ok()?)?.clone();
        let held = self
            .model
            .held()
            .find(|(o, _, _)| o.client == client)
            .map(|(o, _, _)| o.symbol);
        let sym = held.or_else(|| {
            self.done
                .values()
                .find(|d| d.order.client == client)
                .map(|d| d.order.symbol)
        })?;
        Some((sym, name))
    }

    /// What an execution of an algo order tells before its trade report:
    /// `false` when the `ALGO_UPDATE` is all (resting, cancelled untriggered).
    pub(super) fn algo_event(&mut self, e: &Execution) -> bool {
        let c = e.order.client;
        if !self.triggered.contains(&c) {
            match e.status {
                OrderStatus::Accepted if self.acked.insert(c) => {
                    self.algo_update(e, "NEW");
                    return false;
                }
                OrderStatus::Cancelled => {
                    self.algo_update(e, "CANCELED");
                    return false;
                }
                _ => {}
            }
            // It triggered: the order in the matching engine opens.
            self.triggered.insert(c);
            self.algo_update(e, "TRIGGERED");
            self.trade_event(&super::ack_of(e));
            // A stop-limit resting untouched: that acknowledgement is all.
            if e.status == OrderStatus::Accepted {
                return false;
            }
        }
        true
    }

    /// The triggered order ended: so did the algo order.
    pub(super) fn algo_finished(&mut self, e: &Execution) {
        if self.triggered.contains(&e.order.client) {
            self.algo_update(e, "FINISHED");
        }
    }

    fn algo_update(&mut self, e: &Execution, status: &str) {
        let t = self.now_ms();
        let o = &e.order;
        let trigger = o.kind.trigger();
        let triggered = self.triggered.contains(&o.client);
        let body = json!({"e": "ALGO_UPDATE", "T": t, "E": t, "o": {
            "caid": self.client_name(e), "aid": e.id.0, "at": "CONDITIONAL",
            "o": o.kind.name(), "s": self.name(o.symbol), "S": side_name(o.side),
            "ps": "BOTH", "f": "GTC", "q": o.qty.to_string(), "X": status,
            "ai": if triggered { e.id.0.to_string() } else { String::new() },
            "ap": e.last_price.to_string(), "aq": e.cum_qty.to_string(),
            "act": if triggered { "MARKET" } else { "0" },
            "tp": trigger.map_or(Price::ZERO, |t| t.stop).to_string(), "p": "0",
            "V": "EXPIRE_MAKER", "wt": "CONTRACT_PRICE", "pm": "NONE",
            "cp": trigger.is_some_and(|t| t.close_position), "pP": false,
            "R": o.reduce_only, "tt": if triggered { t } else { 0 }, "gtd": 0}});
        self.events.push(body.to_string());
    }

    /// An algo order as `/fapi/v1/algoOrder` answers it.
    fn algo_value(&self, o: &Order, id: u64, status: &str) -> Value {
        let k = usize::try_from(o.client.0).unwrap_or(usize::MAX);
        let trigger = o.kind.trigger();
        json!({"algoId": id, "clientAlgoId": self.names.get(k).cloned().unwrap_or_default(),
               "algoType": "CONDITIONAL", "orderType": o.kind.name(),
               "symbol": self.name(o.symbol), "side": side_name(o.side),
               "positionSide": "BOTH", "timeInForce": "GTC", "quantity": o.qty.to_string(),
               "algoStatus": status,
               "triggerPrice": trigger.map_or(Price::ZERO, |t| t.stop).to_string(),
               "price": "0", "workingType": "CONTRACT_PRICE", "priceMatch": "NONE",
               "closePosition": trigger.is_some_and(|t| t.close_position),
               "priceProtect": false, "reduceOnly": o.reduce_only,
               "createTime": self.now_ms(), "updateTime": self.now_ms(), "triggerTime": 0,
               "goodTillDate": 0})
    }
}
