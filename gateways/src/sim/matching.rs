//! The simulator's account and matching: one USDT-margined account in
//! one-way mode, orders matched against the book the simulator streams,
//! and the user-data events Binance would send for each change.
//!
//! # Rules (documented to the user in docs/gateways.md)
//! - Market: walks the opposite side of the streamed book level by level;
//!   quantity beyond the visible levels fills at the last level's price.
//!   Taker fee.
//! - Limit GTC: the part that crosses takes like a market order up to the
//!   limit price; the rest rests. A resting order fills whole, at its
//!   price, as maker, once the market trades through it (a trade strictly
//!   beyond the price, or the opposite best crossing it) — no queue model.
//! - Post-only (GTX): refused with -5022 if it would take.
//! - Reduce-only: refused with -2022 unless it reduces the position; a
//!   quantity beyond the position is cut to it.
//! - Margin: the order's notional / leverage must fit the wallet
//!   balance, else -2019.
//! - Our trades do not consume the streamed book (no market impact): the
//!   market is a recording, and it goes on as recorded.
//!
//! The simulator is not the deterministic core: ordered maps are fine here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use autobot_engine::types::{Money, Price, Qty, Rate, Rounding, SCALE, Side};

use super::book::SimBook;
use crate::binance::sign::side_name;

/// A refusal: HTTP status, Binance code, message.
pub type Refusal = (u16, i32, &'static str);

/// `-1102`: a mandatory parameter is missing.
const MISSING: Refusal = (
    400,
    -1102,
    "Mandatory parameter was not sent, was empty/null, or malformed.",
);

/// Order type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimKind {
    /// MARKET.
    Market,
    /// LIMIT GTC.
    Limit,
    /// LIMIT GTX (post-only).
    PostOnly,
}

/// A parsed `POST /fapi/v1/order`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Type.
    pub kind: SimKind,
    /// Quantity.
    pub qty: Qty,
    /// Limit price (zero for market).
    pub price: Price,
    /// Reduce-only.
    pub reduce_only: bool,
    /// `newClientOrderId`.
    pub client_id: String,
}

impl OrderRequest {
    /// Reads the request's parameters.
    pub fn parse(params: &BTreeMap<&str, &str>) -> Result<OrderRequest, Refusal> {
        let get = |k: &str| params.get(k).copied().filter(|v| !v.is_empty());
        let side = match get("side").ok_or(MISSING)? {
            "BUY" => Side::Buy,
            "SELL" => Side::Sell,
            _ => return Err((400, -1117, "Invalid side.")),
        };
        let kind = match (get("type").ok_or(MISSING)?, get("timeInForce")) {
            ("MARKET", None) => SimKind::Market,
            ("LIMIT", Some("GTC")) => SimKind::Limit,
            ("LIMIT", Some("GTX")) => SimKind::PostOnly,
            ("LIMIT", None) => return Err(MISSING),
            ("LIMIT", Some(_)) => return Err((400, -1115, "Invalid timeInForce.")),
            _ => return Err((400, -1116, "Invalid orderType.")),
        };
        let qty = get("quantity")
            .and_then(|q| Qty::parse(q).ok())
            .filter(|q| q.is_positive())
            .ok_or((400, -1013, "Invalid quantity."))?;
        let price = match kind {
            SimKind::Market => Price::ZERO,
            _ => get("price")
                .and_then(|p| Price::parse(p).ok())
                .filter(|p| p.is_positive())
                .ok_or((400, -4014, "Price not increased by tick size."))?,
        };
        Ok(OrderRequest {
            symbol: get("symbol").ok_or(MISSING)?.to_string(),
            side,
            kind,
            qty,
            price,
            reduce_only: get("reduceOnly") == Some("true"),
            client_id: get("newClientOrderId").ok_or(MISSING)?.to_string(),
        })
    }
}

#[derive(Clone, Debug)]
struct Resting {
    req: OrderRequest,
    id: u64,
    /// Taken on arrival (a crossing limit that rests with the rest).
    filled: Qty,
}

/// An order that left the book, kept for queries.
#[derive(Clone, Debug)]
struct Done {
    req: OrderRequest,
    id: u64,
    status: &'static str,
    filled: Qty,
}

/// One fill of one of the account's orders (`GET /fapi/v1/userTrades`).
#[derive(Clone, Debug)]
struct TradeRow {
    id: u64,
    order_id: u64,
    symbol: String,
    side: Side,
    price: Price,
    qty: Qty,
    fee: Money,
    maker: bool,
    time_ms: u64,
}

/// A one-way position; `cost` is Σ price.raw × qty.raw of what is held,
/// so the average entry has no accumulated rounding.
#[derive(Clone, Copy, Debug, Default)]
struct Position {
    qty: Qty,
    cost: i128,
}

impl Position {
    fn entry(&self) -> Price {
        let q = i128::from(self.qty.raw()).abs();
        if q == 0 {
            return Price::ZERO;
        }
        Price::from_raw(i64::try_from((self.cost + q / 2) / q).unwrap_or(i64::MAX))
    }
}

/// Fees and margin of the simulated account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountConfig {
    /// Starting USDT wallet balance.
    pub wallet: Money,
    /// Maker fee (fraction of notional).
    pub maker_fee: Rate,
    /// Taker fee.
    pub taker_fee: Rate,
    /// Leverage used for the margin check.
    pub leverage: i64,
}

impl Default for AccountConfig {
    fn default() -> AccountConfig {
        AccountConfig {
            wallet: Money::from_units(100_000).unwrap_or(Money::ZERO),
            maker_fee: Rate::from_raw(SCALE / 5_000), // 0.02 %
            taker_fee: Rate::from_raw(SCALE / 2_500), // 0.04 %
            leverage: 20,
        }
    }
}

/// The account: wallet, positions, resting orders, and the user-data
/// events waiting to be sent.
#[derive(Debug)]
pub struct SimAccount {
    cfg: AccountConfig,
    wallet: Money,
    positions: BTreeMap<String, Position>,
    resting: Vec<Resting>,
    /// Orders that left the book, by client id, for queries.
    done: BTreeMap<String, Done>,
    /// Every fill, in trade-id order.
    trades: Vec<TradeRow>,
    next_id: u64,
    next_trade: u64,
    events: Vec<String>,
    /// Fills made.
    pub fills: u64,
}

struct Fill {
    price: Price,
    qty: Qty,
    maker: bool,
}

impl SimAccount {
    /// A fresh account.
    pub fn new(cfg: AccountConfig) -> SimAccount {
        SimAccount {
            cfg,
            wallet: cfg.wallet,
            positions: BTreeMap::new(),
            resting: Vec::new(),
            done: BTreeMap::new(),
            trades: Vec::new(),
            next_id: 1_000_000,
            next_trade: 1,
            events: Vec::new(),
            fills: 0,
        }
    }

    /// User-data events produced since the last call, in order.
    pub fn take_events(&mut self) -> Vec<String> {
        std::mem::take(&mut self.events)
    }

    fn position(&self, symbol: &str) -> Position {
        self.positions.get(symbol).copied().unwrap_or_default()
    }

    /// Places an order; returns the `ACK` body.
    pub fn place(
        &mut self,
        mut req: OrderRequest,
        book: &SimBook,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        if self.done.contains_key(&req.client_id)
            || self
                .resting
                .iter()
                .any(|r| r.req.client_id == req.client_id)
        {
            return Err((400, -4116, "ClientOrderId is duplicated."));
        }
        let pos = self.position(&req.symbol);
        if req.reduce_only {
            let reduces = match req.side {
                Side::Buy => pos.qty.is_negative(),
                Side::Sell => pos.qty.is_positive(),
            };
            if !reduces {
                return Err((400, -2022, "ReduceOnly Order is rejected."));
            }
            let held = pos.qty.checked_abs().unwrap_or(Qty::ZERO);
            req.qty = req.qty.min(held);
        }
        let levels = book.opposite(req.side);
        let crosses = |p: Price| match req.side {
            Side::Buy => p <= req.price,
            Side::Sell => p >= req.price,
        };
        let takes = match req.kind {
            SimKind::Market => true,
            SimKind::Limit | SimKind::PostOnly => levels.first().is_some_and(|(p, _)| crosses(*p)),
        };
        if takes && req.kind == SimKind::PostOnly {
            return Err((
                400,
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            ));
        }
        if req.kind == SimKind::Market && levels.is_empty() {
            return Err((400, -2020, "Unable to fill."));
        }
        let reference = match req.kind {
            SimKind::Market => levels.first().map_or(Price::ZERO, |l| l.0),
            _ => req.price,
        };
        let notional = Money::notional(reference, req.qty, Rounding::Ceil).unwrap_or(Money::MAX);
        let margin = notional
            .mul_ratio(1, self.cfg.leverage.max(1), Rounding::Ceil)
            .unwrap_or(Money::MAX);
        if !req.reduce_only && margin > self.wallet {
            return Err((400, -2019, "Margin is insufficient."));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.order_event(&req, id, "NEW", "NEW", None, Qty::ZERO, now_ms);
        // Take what crosses, level by level.
        let mut left = req.qty;
        let mut last = None;
        if takes {
            for &(p, q) in &levels {
                if !left.is_positive() || (req.kind != SimKind::Market && !crosses(p)) {
                    break;
                }
                let take = left.min(q);
                left = left.checked_sub(take).unwrap_or(Qty::ZERO);
                last = Some(p);
                self.fill(
                    &req,
                    id,
                    Fill {
                        price: p,
                        qty: take,
                        maker: false,
                    },
                    left,
                    now_ms,
                );
            }
            if req.kind == SimKind::Market && left.is_positive() {
                // Beyond the visible book: the last level's price.
                let p = last.or(levels.last().map(|l| l.0)).unwrap_or(reference);
                let q = left;
                left = Qty::ZERO;
                self.fill(
                    &req,
                    id,
                    Fill {
                        price: p,
                        qty: q,
                        maker: false,
                    },
                    left,
                    now_ms,
                );
            }
        }
        let filled = req.qty.checked_sub(left).unwrap_or(Qty::ZERO);
        if left.is_positive() {
            self.resting.push(Resting {
                req: req.clone(),
                id,
                filled,
            });
        } else {
            self.finish(&req, id, "FILLED", filled);
        }
        Ok(order_json(&req, id, "NEW", Qty::ZERO, now_ms))
    }

    /// Cancels a resting order.
    pub fn cancel(
        &mut self,
        symbol: &str,
        client_id: &str,
        now_ms: u64,
    ) -> Result<String, Refusal> {
        let Some(at) = self
            .resting
            .iter()
            .position(|r| r.req.client_id == client_id && r.req.symbol == symbol)
        else {
            return Err((400, -2011, "Unknown order sent."));
        };
        let r = self.resting.remove(at);
        self.order_event(
            &r.req,
            r.id,
            "CANCELED",
            "CANCELED",
            None,
            Qty::ZERO,
            now_ms,
        );
        self.finish(&r.req, r.id, "CANCELED", r.filled);
        Ok(order_json(&r.req, r.id, "CANCELED", r.filled, now_ms))
    }

    fn finish(&mut self, req: &OrderRequest, id: u64, status: &'static str, filled: Qty) {
        let done = Done {
            req: req.clone(),
            id,
            status,
            filled,
        };
        self.done.insert(req.client_id.clone(), done);
    }

    /// The client id of the exchange's order `order_id` on `symbol`.
    pub fn client_of(&self, symbol: &str, order_id: u64) -> Option<String> {
        let resting = self.resting.iter().map(|r| (&r.req, r.id));
        let done = self.done.values().map(|d| (&d.req, d.id));
        resting
            .chain(done)
            .find(|(req, id)| *id == order_id && req.symbol == symbol)
            .map(|(req, _)| req.client_id.clone())
    }

    /// An order's state (`GET /fapi/v1/order`).
    pub fn query(&self, symbol: &str, client_id: &str, now_ms: u64) -> Result<String, Refusal> {
        if let Some(r) = self
            .resting
            .iter()
            .find(|r| r.req.client_id == client_id && r.req.symbol == symbol)
        {
            return Ok(order_json(&r.req, r.id, r.status(), r.filled, now_ms));
        }
        match self.done.get(client_id).filter(|d| d.req.symbol == symbol) {
            Some(d) => Ok(order_json(&d.req, d.id, d.status, d.filled, now_ms)),
            None => Err((400, -2013, "Order does not exist.")),
        }
    }

    /// The resting orders, of `symbol` or all (`GET /fapi/v1/openOrders`).
    pub fn open_orders(&self, symbol: Option<&str>, now_ms: u64) -> String {
        let mut s = String::from("[");
        let mine = self
            .resting
            .iter()
            .filter(|r| symbol.is_none_or(|x| x == r.req.symbol));
        for (k, r) in mine.enumerate() {
            if k > 0 {
                s.push(',');
            }
            s.push_str(&order_json(&r.req, r.id, r.status(), r.filled, now_ms));
        }
        s.push(']');
        s
    }

    /// The fills of order `order_id` on `symbol`, oldest first
    /// (`GET /fapi/v1/userTrades?orderId=`).
    pub fn user_trades(&self, symbol: &str, order_id: u64) -> String {
        let mut s = String::from("[");
        let of = self
            .trades
            .iter()
            .filter(|t| t.symbol == symbol && t.order_id == order_id);
        for (k, t) in of.enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"{{"buyer":{},"commission":"{}","commissionAsset":"USDT","id":{},"maker":{},"orderId":{},"price":"{}","qty":"{}","quoteQty":"{}","realizedPnl":"0","side":"{}","positionSide":"BOTH","symbol":"{}","time":{}}}"#,
                t.side == Side::Buy,
                t.fee,
                t.id,
                t.maker,
                t.order_id,
                t.price,
                t.qty,
                Money::notional(t.price, t.qty, Rounding::HalfEven).unwrap_or(Money::ZERO),
                side_name(t.side),
                t.symbol,
                t.time_ms,
            );
        }
        s.push(']');
        s
    }

    /// The market moved: fill the resting orders it trades through.
    /// `trade` is a printed trade's price; `top` the best bid and ask.
    pub fn on_market(
        &mut self,
        symbol: &str,
        trade: Option<Price>,
        top: Option<(Price, Price)>,
        now_ms: u64,
    ) {
        let mut i = 0;
        while i < self.resting.len() {
            let r = &self.resting[i];
            if r.req.symbol != symbol {
                i += 1;
                continue;
            }
            if !crate::paper::traded_through(r.req.side, r.req.price, trade, top) {
                i += 1;
                continue;
            }
            let r = self.resting.remove(i);
            let fill = Fill {
                price: r.req.price,
                qty: r.req.qty.checked_sub(r.filled).unwrap_or(Qty::ZERO),
                maker: true,
            };
            self.fill(&r.req, r.id, fill, Qty::ZERO, now_ms);
            self.finish(&r.req, r.id, "FILLED", r.req.qty);
        }
    }

    /// `GET /fapi/v3/positionRisk`.
    pub fn positions_json(&self) -> String {
        let mut s = String::from("[");
        for (k, (sym, p)) in self.positions.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"{{"symbol":"{sym}","positionSide":"BOTH","positionAmt":"{}","entryPrice":"{}"}}"#,
                p.qty,
                p.entry()
            );
        }
        s.push(']');
        s
    }

    /// `GET /fapi/v3/account` (the fields the engine reads).
    pub fn account_json(&self) -> String {
        format!(
            r#"{{"totalWalletBalance":"{w}","availableBalance":"{w}","assets":[{{"asset":"USDT","walletBalance":"{w}"}}],"positions":{}}}"#,
            self.positions_json(),
            w = self.wallet
        )
    }

    fn fill(&mut self, req: &OrderRequest, id: u64, f: Fill, left: Qty, now_ms: u64) {
        self.fills += 1;
        let rate = if f.maker {
            self.cfg.maker_fee
        } else {
            self.cfg.taker_fee
        };
        let notional = Money::notional(f.price, f.qty, Rounding::HalfEven).unwrap_or(Money::ZERO);
        let fee = notional
            .mul_ratio(rate.raw(), SCALE, Rounding::HalfEven)
            .unwrap_or(Money::ZERO);
        let realized = self.book_fill(&req.symbol, req.side, f.price, f.qty);
        self.wallet = self
            .wallet
            .checked_add(realized)
            .and_then(|w| w.checked_sub(fee))
            .unwrap_or(self.wallet);
        let cum = req.qty.checked_sub(left).unwrap_or(req.qty);
        let status = if left.is_positive() {
            "PARTIALLY_FILLED"
        } else {
            "FILLED"
        };
        self.order_event(req, id, "TRADE", status, Some((&f, fee)), cum, now_ms);
        let pos = self.position(&req.symbol);
        self.events.push(format!(
            r#"{{"e":"ACCOUNT_UPDATE","E":{now_ms},"T":{now_ms},"a":{{"m":"ORDER","B":[{{"a":"USDT","wb":"{w}","cw":"{w}","bc":"0"}}],"P":[{{"s":"{s}","pa":"{pa}","ep":"{ep}","bep":"{ep}","cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH","ma":"USDT"}}]}}}}"#,
            w = self.wallet,
            s = req.symbol,
            pa = pos.qty,
            ep = pos.entry(),
        ));
    }

    /// Books a fill in the one-way position; returns the realized PnL.
    fn book_fill(&mut self, symbol: &str, side: Side, price: Price, qty: Qty) -> Money {
        let pos = self.positions.entry(symbol.to_string()).or_default();
        let signed = match side {
            Side::Buy => i128::from(qty.raw()),
            Side::Sell => -i128::from(qty.raw()),
        };
        let old = i128::from(pos.qty.raw());
        let new = old + signed;
        let s = i128::from(SCALE);
        let px = i128::from(price.raw());
        let mut realized = 0i128;
        if old != 0 && old.signum() != signed.signum() {
            // Closing (part of) the position at `price`, against the
            // average entry of what is closed.
            let closed = signed.abs().min(old.abs());
            let closed_cost = pos.cost * closed / old.abs();
            realized = (px * closed - closed_cost) * old.signum() / s;
            pos.cost -= closed_cost;
        }
        if new == 0 {
            pos.cost = 0;
        } else if old == 0 || old.signum() != new.signum() {
            // Opened, or flipped: what is held was all bought at `price`.
            pos.cost = px * new.abs();
        } else if new.abs() > old.abs() {
            pos.cost += px * signed.abs();
        }
        pos.qty = Qty::from_raw(i64::try_from(new).unwrap_or(0));
        Money::from_raw(i64::try_from(realized).unwrap_or(0))
    }

    #[allow(clippy::too_many_arguments)]
    fn order_event(
        &mut self,
        req: &OrderRequest,
        id: u64,
        exec: &str,
        status: &str,
        fill: Option<(&Fill, Money)>,
        cum: Qty,
        now_ms: u64,
    ) {
        let (l, lp, fee, maker, trade) = match fill {
            Some((f, fee)) => {
                let t = self.next_trade;
                self.next_trade += 1;
                self.trades.push(TradeRow {
                    id: t,
                    order_id: id,
                    symbol: req.symbol.clone(),
                    side: req.side,
                    price: f.price,
                    qty: f.qty,
                    fee,
                    maker: f.maker,
                    time_ms: now_ms,
                });
                (f.qty, f.price, fee, f.maker, t)
            }
            None => (Qty::ZERO, Price::ZERO, Money::ZERO, false, 0),
        };
        self.events.push(format!(
            r#"{{"e":"ORDER_TRADE_UPDATE","E":{now_ms},"T":{now_ms},"o":{{"s":"{s}","c":"{c}","S":"{side}","o":"{o}","f":"{f}","q":"{q}","p":"{p}","ap":"{lp}","sp":"0","x":"{exec}","X":"{status}","i":{id},"l":"{l}","z":"{cum}","L":"{lp}","n":"{fee}","N":"USDT","T":{now_ms},"t":{trade},"b":"0","a":"0","m":{maker},"R":{r},"wt":"CONTRACT_PRICE","ot":"{o}","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"EXPIRE_TAKER","pm":"NONE","gtd":0}}}}"#,
            s = req.symbol,
            c = req.client_id,
            side = side_name(req.side),
            o = if req.kind == SimKind::Market { "MARKET" } else { "LIMIT" },
            f = tif(req.kind),
            q = req.qty,
            p = req.price,
            r = req.reduce_only,
        ));
    }
}

impl Resting {
    fn status(&self) -> &'static str {
        if self.filled.is_positive() {
            "PARTIALLY_FILLED"
        } else {
            "NEW"
        }
    }
}

fn tif(kind: SimKind) -> &'static str {
    match kind {
        SimKind::PostOnly => "GTX",
        _ => "GTC",
    }
}

fn order_json(req: &OrderRequest, id: u64, status: &str, filled: Qty, now_ms: u64) -> String {
    format!(
        r#"{{"orderId":{id},"symbol":"{}","status":"{status}","clientOrderId":"{}","price":"{}","origQty":"{}","executedQty":"{filled}","side":"{}","type":"{}","timeInForce":"{}","reduceOnly":{},"positionSide":"BOTH","updateTime":{now_ms}}}"#,
        req.symbol,
        req.client_id,
        req.price,
        req.qty,
        side_name(req.side),
        if req.kind == SimKind::Market {
            "MARKET"
        } else {
            "LIMIT"
        },
        tif(req.kind),
        req.reduce_only,
    )
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
