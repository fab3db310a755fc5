//! The simulator's REST/WebSocket adapter over the exchange model
//! (`autobot_exchange`, whose docs give the fill model): Binance's string
//! client ids and JSON on one side, the model's orders and reports on the
//! other. One USDT-margined account in one-way mode.
//!
//! - Streamed messages go through the gateway's own parser into input
//!   events, and the model's book follows them; a message whose exchange
//!   time drifts from the feed's timeline by more than five minutes, or
//!   whose update id jumps by more than 10⁹ unconfirmed, is not adopted
//!   (it is still streamed as recorded).
//! - A capture's REST snapshot line is served for `/fapi/v1/depth` until
//!   the stream reaches it, as on Binance; then the model's book answers.
//! - Time is the market's exchange time: user-data events carry it.
//! - Orders arrive with no latency: the REST answer follows the match.
//!
//! The simulator is not the deterministic core: ordered maps are fine here.

use std::collections::{BTreeMap, BTreeSet};

use autobot_engine::event::{InputBody, InputEvent, OrderStatus};
use autobot_engine::plausible::{Candidate, FeedClock};
use autobot_engine::types::{
    Brackets, ClientOrderId, Instrument, Money, MonoNanos, Price, Qty, Side, SymbolId,
};
use autobot_exchange::{
    AccountRules, Exchange, Execution, FillConfig, Order, OrderType, ReportBody, Reports, Request,
    Tif, Trigger, WorkingType,
};
use serde_json::{Value, json};

use crate::binance::parse::{Parser, Symbols};
use crate::binance::sign::side_name;

/// A refusal: HTTP status, Binance code, message.
pub type Refusal = (u16, i32, &'static str);

fn refusal(r: autobot_exchange::Refusal) -> Refusal {
    (r.http, r.code, r.msg)
}

/// `-4120`: a conditional type sent to `/fapi/v1/order`.
const NOT_HERE: Refusal = (
    400,
    -4120,
    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
);

/// `-1102`: a mandatory parameter is missing.
const MISSING: Refusal = (
    400,
    -1102,
    "Mandatory parameter was not sent, was empty/null, or malformed.",
);

/// Largest drift of a message's exchange time from the feed's timeline.
const TIME_WINDOW_NS: u64 = 300_000_000_000;
/// Largest jump of an update id before it needs confirming.
const MAX_ID_JUMP: u64 = 1_000_000_000;

/// Fees and margin of the simulated account.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccountConfig {
    /// Fees, slippage and the fill switches (latency is ignored: orders
    /// arrive when their REST request does).
    pub fills: FillConfig,
    /// Wallet, leverage, funding, liquidation.
    pub rules: AccountRules,
    /// Maintenance brackets by instrument (none: no maintenance margin).
    pub brackets: Vec<Brackets>,
}

/// What `POST /fapi/v1/order` asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderParams {
    /// `symbol`.
    pub symbol: String,
    /// `newClientOrderId` (the exchange names it when absent).
    pub client: Option<String>,
    /// `type`, `timeInForce`, `stopPrice`, `workingType`, `closePosition`.
    pub kind: OrderType,
    /// `side`.
    pub side: Side,
    /// `quantity` (zero for `closePosition`).
    pub qty: Qty,
    /// `price` (zero for the market types).
    pub price: Price,
    /// `reduceOnly`.
    pub reduce_only: bool,
}

/// Reads `POST /fapi/v1/order`'s parameters.
pub fn parse_order(params: &BTreeMap<&str, &str>) -> Result<OrderParams, Refusal> {
    let get = |k: &str| params.get(k).copied().filter(|v| !v.is_empty());
    let side = match get("side").ok_or(MISSING)? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err((400, -1117, "Invalid side.")),
    };
    let close_position = get("closePosition") == Some("true");
    let trigger = || -> Result<Trigger, Refusal> {
        let stop = get("stopPrice")
            .and_then(|p| Price::parse(p).ok())
            .filter(|p| p.is_positive())
            .ok_or(MISSING)?;
        let working = match get("workingType") {
            None | Some("CONTRACT_PRICE") => WorkingType::Contract,
            Some("MARK_PRICE") => WorkingType::Mark,
            Some(_) => return Err((400, -1116, "Invalid workingType.")),
        };
        Ok(Trigger {
            stop,
            working,
            close_position,
        })
    };
    let tif = |given: Option<&str>| match given {
        Some("GTC") => Ok(Tif::Gtc),
        Some("IOC") => Ok(Tif::Ioc),
        Some("FOK") => Ok(Tif::Fok),
        Some("GTX") => Ok(Tif::Gtx),
        _ => Err((400, -1115, "Invalid timeInForce.")),
    };
    let kind = match (get("type").ok_or(MISSING)?, get("timeInForce")) {
        ("MARKET", _) => OrderType::Market,
        ("LIMIT", None) => return Err(MISSING),
        ("LIMIT", t) => OrderType::Limit(tif(t)?),
        ("STOP_MARKET", _) => OrderType::StopMarket(trigger()?),
        ("TAKE_PROFIT_MARKET", _) => OrderType::TakeProfitMarket(trigger()?),
        // The stop-limit types default to GTC, as Binance's do.
        ("STOP", t) => OrderType::Stop(trigger()?, tif(t.or(Some("GTC")))?),
        ("TAKE_PROFIT", t) => OrderType::TakeProfit(trigger()?, tif(t.or(Some("GTC")))?),
        _ => return Err((400, -1116, "Invalid orderType.")),
    };
    let qty = match get("quantity") {
        None if close_position => Qty::ZERO,
        q => q
            .and_then(|q| Qty::parse(q).ok())
            .filter(|q| q.is_positive())
            .ok_or((400, -1013, "Invalid quantity."))?,
    };
    let price = if kind.has_limit_price() {
        get("price")
            .and_then(|p| Price::parse(p).ok())
            .filter(|p| p.is_positive())
            .ok_or((400, -4014, "Price not increased by tick size."))?
    } else {
        Price::ZERO
    };
    Ok(OrderParams {
        symbol: get("symbol").ok_or(MISSING)?.to_string(),
        client: get("newClientOrderId").map(str::to_string),
        kind,
        side,
        qty,
        price,
        reduce_only: get("reduceOnly") == Some("true"),
    })
}

/// An order the exchange no longer holds, kept for queries.
#[derive(Clone, Debug)]
struct Done {
    order: Order,
    id: u64,
    status: OrderStatus,
    filled: Qty,
}

/// One fill of one of the account's orders (`GET /fapi/v1/userTrades`).
#[derive(Clone, Debug)]
struct TradeRow {
    id: u64,
    order_id: u64,
    symbol: SymbolId,
    side: Side,
    price: Price,
    qty: Qty,
    fee: Money,
    realized: Money,
    maker: bool,
    time_ms: u64,
}

/// The simulated venue: the model and Binance's view of it.
#[derive(Debug)]
pub struct Venue {
    model: Exchange,
    symbols: Symbols,
    parser: Parser,
    /// Client id strings, indexed by the model's `ClientOrderId`.
    names: Vec<String>,
    by_name: BTreeMap<String, ClientOrderId>,
    /// Orders no longer held, by exchange id.
    done: BTreeMap<u64, Done>,
    trades: Vec<TradeRow>,
    /// Per symbol: the exchange time against the feed's timeline, the
    /// last adopted update id, and an id beyond the jump waiting for the
    /// next to confirm it.
    clocks: Vec<(FeedClock, Option<u64>, Candidate)>,
    /// A capture's REST snapshot line per symbol, served until the stream
    /// reaches it.
    pending: BTreeMap<SymbolId, String>,
    out: Reports,
    events: Vec<String>,
    parsed: Vec<InputEvent>,
    /// The message being parsed (simd-json parses in place); reused.
    scratch: Vec<u8>,
    /// Orders placed at the Algo Order API (conditional orders).
    algo: BTreeSet<ClientOrderId>,
    /// Those of them acknowledged (`ALGO_UPDATE` `NEW` sent).
    acked: BTreeSet<ClientOrderId>,
    /// Those of them that have triggered.
    triggered: BTreeSet<ClientOrderId>,
    /// Maintenance brackets by instrument (`/fapi/v1/leverageBracket`).
    brackets: Vec<Brackets>,
    /// Recent trades and candles of the streamed market.
    tape: super::tape::Tape,
    /// When each order was placed (exchange ms), by exchange id.
    placed_at: BTreeMap<u64, u64>,
    /// The events of the last streamed message the model took.
    last: Vec<InputEvent>,
    /// Fills made.
    pub fills: u64,
}

impl Venue {
    /// A venue listing `instruments`.
    pub fn new(cfg: &AccountConfig, instruments: &[Instrument]) -> Venue {
        let names: Vec<String> = instruments.iter().map(|i| i.name.to_string()).collect();
        Venue {
            model: Exchange::new(&cfg.fills, &cfg.rules, instruments, &cfg.brackets),
            symbols: Symbols::new(&names),
            parser: Parser::new(Symbols::new(&names)),
            names: Vec::new(),
            by_name: BTreeMap::new(),
            done: BTreeMap::new(),
            trades: Vec::new(),
            clocks: vec![(FeedClock::new(TIME_WINDOW_NS), None, Candidate::default()); names.len()],
            pending: BTreeMap::new(),
            out: Reports::new(),
            events: Vec::new(),
            parsed: Vec::new(),
            scratch: Vec::with_capacity(1 << 16),
            algo: BTreeSet::new(),
            acked: BTreeSet::new(),
            triggered: BTreeSet::new(),
            brackets: cfg.brackets.clone(),
            tape: super::tape::Tape::new(names.len()),
            placed_at: BTreeMap::new(),
            last: Vec::new(),
            fills: 0,
        }
    }

    /// The symbol named `name`.
    pub fn symbol(&self, name: &str) -> Option<SymbolId> {
        self.symbols.id(name)
    }

    /// The events of the last streamed message the model took (none when
    /// it was refused or did not parse).
    pub fn last_events(&self) -> &[InputEvent] {
        &self.last
    }

    /// The exchange model.
    pub fn model(&self) -> &Exchange {
        &self.model
    }

    /// The streamed market's recent trades and candles.
    pub fn tape(&self) -> &super::tape::Tape {
        &self.tape
    }

    fn name(&self, sym: SymbolId) -> &str {
        self.model
            .instruments()
            .get(usize::from(sym.0))
            .map_or("", |i| i.name.as_str())
    }

    fn now_ms(&self) -> u64 {
        self.model.now().0 / 1_000_000
    }

    /// User-data events produced since the last call, in order.
    pub fn take_events(&mut self) -> Vec<String> {
        std::mem::take(&mut self.events)
    }

    /// Serves `text` (a capture's snapshot line for `sym`) for depth
    /// requests until the stream reaches it.
    pub fn hold_snapshot(&mut self, sym: &str, text: String) {
        if let Some(id) = self.symbol(sym) {
            self.pending.entry(id).or_insert(text);
        }
    }

    /// A capture's snapshot line met in stream order: the book restarts from it.
    pub fn on_snapshot(&mut self, sym: &str, text: &str) {
        let Some(id) = self.symbol(sym) else { return };
        self.pending.remove(&id);
        self.scratch.clear();
        self.scratch.extend_from_slice(text.as_bytes());
        self.parsed.clear();
        let parsed = &mut self.parsed;
        if self
            .parser
            .parse(&mut self.scratch, MonoNanos(0), Some(id), |e| {
                parsed.push(e)
            })
            .is_err()
        {
            return;
        }
        self.feed();
    }

    /// A streamed message due at `due_ns` of the feed's timeline; `false`
    /// when it was implausible and not adopted.
    pub fn on_stream(&mut self, text: &str, due_ns: u64) -> bool {
        self.last.clear();
        self.scratch.clear();
        self.scratch.extend_from_slice(text.as_bytes());
        self.parsed.clear();
        let parsed = &mut self.parsed;
        if self
            .parser
            .parse(&mut self.scratch, MonoNanos(due_ns), None, |e| {
                parsed.push(e)
            })
            .is_err()
        {
            return true;
        }
        for k in 0..self.parsed.len() {
            if !self.admit(k, due_ns) {
                self.parsed.clear();
                return false;
            }
        }
        self.feed();
        true
    }

    /// The time and update-id guards of parsed event `k`.
    fn admit(&mut self, k: usize, due_ns: u64) -> bool {
        let ev = self.parsed[k];
        let Some((clock, last, jump)) = self.clocks.get_mut(usize::from(ev.header.symbol.0)) else {
            return false;
        };
        if !clock.check(ev.header.exchange.0, due_ns) {
            return false;
        }
        let id = match &ev.body {
            InputBody::BookTicker(t) => Some(t.update_id),
            InputBody::Depth(d) => Some(d.final_update_id),
            _ => None,
        };
        if let Some(u) = id {
            if last.is_some() && !jump.admits_id(*last, u, MAX_ID_JUMP) {
                return false;
            }
            *last = Some(last.map_or(u, |l| l.max(u)));
        }
        true
    }

    fn feed(&mut self) {
        self.last.clear();
        self.last.extend_from_slice(&self.parsed);
        for k in 0..self.parsed.len() {
            let ev = self.parsed[k];
            // What falls due by this input's time first (funding the
            // exchange charges), as in a backtest.
            while self.model.advance(ev.header.exchange, &mut self.out) {}
            self.model.on_market(&ev, &mut self.out);
            if let InputBody::AggTrade(t) = &ev.body {
                let ms = ev.header.exchange.0 / 1_000_000;
                self.tape.on_trade(usize::from(ev.header.symbol.0), ms, t);
            }
        }
        self.parsed.clear();
        self.render();
    }

    /// A trade print of `qty` at `price` on `sym` now, for the model only
    /// (nothing is streamed): the market moves behind the clients' backs,
    /// as it does while an engine is down. `false` for an unknown symbol.
    pub fn print_trade(&mut self, sym: &str, price: Price, qty: Qty) -> bool {
        let Some(id) = self.symbol(sym) else {
            return false;
        };
        let trade = autobot_engine::event::Trade {
            trade_id: 0,
            price,
            qty,
            buyer_is_maker: true,
        };
        let ev = InputEvent::new(
            autobot_engine::event::Source::MarketData,
            id,
            MonoNanos(0),
            self.model.now(),
            InputBody::AggTrade(trade),
        );
        self.model.on_market(&ev, &mut self.out);
        self.render();
        true
    }

    /// `GET /fapi/v1/depth`: the held snapshot line, or the model's book.
    pub fn depth_json(&self, sym: &str, limit: usize) -> Result<Option<String>, Refusal> {
        let id = self.symbol(sym).ok_or((400, -1121, "Invalid symbol."))?;
        if let Some(text) = self.pending.get(&id) {
            return Ok(Some(text.clone()));
        }
        let Some(book) = self.model.depth_snapshot(id, limit) else {
            return Ok(None);
        };
        let side = |l: &[(Price, Qty)]| {
            l.iter()
                .map(|(p, q)| json!([p.to_string(), q.to_string()]))
                .collect::<Vec<_>>()
        };
        let t = self.now_ms();
        Ok(Some(
            json!({"lastUpdateId": book.update_id, "E": t, "T": t,
                   "bids": side(&book.bids), "asks": side(&book.asks)})
            .to_string(),
        ))
    }

    fn intern(&mut self, name: String) -> ClientOrderId {
        let id = ClientOrderId(self.names.len() as u64);
        self.by_name.insert(name.clone(), id);
        self.names.push(name);
        id
    }

    /// `POST /fapi/v1/order`: places an order; the `ACK` body. Conditional
    /// types are refused (-4120) as on Binance since 2025-12: they go to
    /// the Algo Order API ([`Venue::place_algo`]).
    pub fn place(&mut self, params: &BTreeMap<&str, &str>) -> Result<String, Refusal> {
        let p = parse_order(params)?;
        if p.kind.trigger().is_some() {
            return Err(NOT_HERE);
        }
        let (order, id) = self.submit(p, false)?;
        Ok(self.placed_json(&order, id, params.get("newOrderRespType").copied()))
    }

    /// Places `p` in the model (`conditional`: as an algo order); the order
    /// and the exchange's id, or the refusal its first report was.
    fn submit(&mut self, p: OrderParams, conditional: bool) -> Result<(Order, u64), Refusal> {
        let sym = self
            .symbol(&p.symbol)
            .ok_or((400, -1121, "Invalid symbol."))?;
        let name = p
            .client
            .unwrap_or_else(|| format!("sim-{}", self.names.len()));
        if self.by_name.contains_key(&name) {
            return Err((400, -4116, "ClientOrderId is duplicated."));
        }
        let client = self.intern(name);
        if conditional {
            self.algo.insert(client);
        }
        let order = Order {
            client,
            symbol: sym,
            side: p.side,
            kind: p.kind,
            price: p.price,
            qty: p.qty,
            reduce_only: p.reduce_only,
        };
        let now = self.model.now();
        self.model.submit(Request::Place(order), now, 0);
        while self.model.advance(now, &mut self.out) {}
        // This order's first report: a refusal is the REST answer.
        let first = self.out.iter().position(|r| match r.body {
            ReportBody::Refused { client: c, .. } => c == client,
            ReportBody::Execution(e) => e.order.client == client,
            ReportBody::Funding { .. } => false,
        });
        if let Some(k) = first
            && let ReportBody::Refused { refusal: r, .. } = self.out[k].body
        {
            self.out.remove(k);
            self.render();
            return Err(refusal(r));
        }
        // Binance acknowledges every order before it trades.
        let id = match first.map(|k| self.out[k].body) {
            Some(ReportBody::Execution(e)) => {
                if e.status != OrderStatus::Accepted {
                    self.order_event(&ack_of(&e));
                }
                e.id.0
            }
            _ => 0,
        };
        self.placed_at.insert(id, self.now_ms());
        self.render();
        Ok((order, id))
    }

    /// `DELETE /fapi/v1/order`.
    pub fn cancel(&mut self, symbol: &str, client: &str) -> Result<String, Refusal> {
        let sym = self.symbol(symbol).ok_or((400, -1121, "Invalid symbol."))?;
        let Some(&id) = self.by_name.get(client) else {
            return Err((400, -2011, "Unknown order sent."));
        };
        let now = self.model.now();
        self.model.submit(
            Request::Cancel {
                symbol: sym,
                client: id,
            },
            now,
            0,
        );
        while self.model.advance(now, &mut self.out) {}
        let first = self.out.front().map(|r| r.body);
        self.render();
        match first {
            Some(ReportBody::Execution(e)) => {
                Ok(self.order_json(&e.order, e.id.0, e.status, e.cum_qty))
            }
            Some(ReportBody::Refused { refusal: r, .. }) => Err(refusal(r)),
            _ => Err((400, -2011, "Unknown order sent.")),
        }
    }

    /// The client id of the exchange's order `order_id` on `symbol`.
    pub fn client_of(&self, symbol: &str, order_id: u64) -> Option<String> {
        let sym = self.symbol(symbol)?;
        let held = self
            .model
            .held()
            .find(|(o, id, _)| id.0 == order_id && o.symbol == sym)
            .map(|(o, _, _)| o.client);
        let done = self.done.get(&order_id).filter(|d| d.order.symbol == sym);
        let client = held.or(done.map(|d| d.order.client))?;
        self.names.get(usize::try_from(client.0).ok()?).cloned()
    }

    /// `GET /fapi/v1/order`.
    pub fn query(&self, symbol: &str, client: &str) -> Result<String, Refusal> {
        const MISSING_ORDER: Refusal = (400, -2013, "Order does not exist.");
        let sym = self.symbol(symbol).ok_or(MISSING_ORDER)?;
        let id = *self.by_name.get(client).ok_or(MISSING_ORDER)?;
        if let Some((o, ex, filled)) = self.model.held_order(sym, id) {
            return Ok(self.order_json(&o, ex.0, open_status(filled), filled));
        }
        self.done
            .values()
            .find(|d| d.order.client == id && d.order.symbol == sym)
            .map(|d| self.order_json(&d.order, d.id, d.status, d.filled))
            .ok_or(MISSING_ORDER)
    }

    /// `GET /fapi/v1/openOrders`, of `symbol` or all (algo orders are
    /// listed apart: [`Venue::open_algo_orders`]).
    pub fn open_orders(&self, symbol: Option<&str>) -> String {
        let sym = symbol.map(|s| self.symbol(s));
        let list: Vec<Value> = self
            .model
            .held()
            .filter(|(o, _, _)| sym.is_none_or(|s| s == Some(o.symbol)))
            .filter(|(o, _, _)| !self.algo.contains(&o.client))
            .map(|(o, id, filled)| self.order_value(&o, id.0, open_status(filled), filled))
            .collect();
        Value::Array(list).to_string()
    }

    /// Turns the model's reports into user-data events and records.
    fn render(&mut self) {
        while let Some(r) = self.out.pop_front() {
            match r.body {
                ReportBody::Execution(e) => {
                    if e.is_fill() {
                        self.fills += 1;
                        self.trades.push(TradeRow {
                            id: self.trades.len() as u64 + 1,
                            order_id: e.id.0,
                            symbol: e.order.symbol,
                            side: e.order.side,
                            price: e.last_price,
                            qty: e.last_qty,
                            fee: e.fee,
                            realized: e.realized,
                            maker: e.liquidity == autobot_engine::event::Liquidity::Maker,
                            time_ms: r.time.0 / 1_000_000,
                        });
                    }
                    if !matches!(
                        e.status,
                        OrderStatus::Accepted | OrderStatus::PartiallyFilled
                    ) {
                        let done = Done {
                            order: e.order,
                            id: e.id.0,
                            status: e.status,
                            filled: e.cum_qty,
                        };
                        self.done.insert(e.id.0, done);
                    }
                    self.order_event(&e);
                    if e.is_fill() {
                        self.account_event("ORDER", e.order.symbol, e.wallet);
                    }
                }
                ReportBody::Funding { wallet, .. } => {
                    self.account_event("FUNDING_FEE", r.symbol, wallet);
                }
                ReportBody::Refused { .. } => {}
            }
        }
    }

    fn client_name(&self, e: &Execution) -> String {
        if e.by_exchange {
            return format!("autoclose-{}", e.id.0);
        }
        let k = usize::try_from(e.order.client.0).unwrap_or(usize::MAX);
        self.names.get(k).cloned().unwrap_or_default()
    }

    fn order_event(&mut self, e: &Execution) {
        let algo = self.algo.contains(&e.order.client);
        if algo && !self.algo_event(e) {
            return;
        }
        self.trade_event(e);
        if algo
            && !matches!(
                e.status,
                OrderStatus::Accepted | OrderStatus::PartiallyFilled
            )
        {
            self.algo_finished(e);
        }
    }

    /// `ORDER_TRADE_UPDATE` of an execution.
    fn trade_event(&mut self, e: &Execution) {
        let t = self.now_ms();
        let o = &e.order;
        let (exec, trade) = match e.status {
            // Binance reports its own liquidation fills as `CALCULATED`.
            _ if e.is_fill() && e.by_exchange => ("CALCULATED", self.trades.len() as u64),
            _ if e.is_fill() => ("TRADE", self.trades.len() as u64),
            OrderStatus::Accepted => ("NEW", 0),
            OrderStatus::Cancelled => ("CANCELED", 0),
            OrderStatus::Expired => ("EXPIRED", 0),
            _ => ("REJECTED", 0),
        };
        let trigger = o.kind.trigger();
        let body = json!({"e": "ORDER_TRADE_UPDATE", "E": t, "T": t, "o": {
            "s": self.name(o.symbol), "c": self.client_name(e), "S": side_name(o.side),
            // A triggered conditional trades as what it became.
            "o": o.kind.triggered().filter(|_| e.is_fill()).map_or(o.kind.name(), |k| k.name()),
            "f": o.kind.tif_name(), "q": o.qty.to_string(), "p": o.price.to_string(),
            "ap": e.last_price.to_string(),
            "sp": trigger.map_or(Price::ZERO, |t| t.stop).to_string(),
            "x": exec, "X": status_name(e.status), "i": e.id.0,
            "l": e.last_qty.to_string(), "z": e.cum_qty.to_string(),
            "L": e.last_price.to_string(), "n": e.fee.to_string(), "N": "USDT", "T": t,
            "t": trade, "b": "0", "a": "0",
            "m": e.liquidity == autobot_engine::event::Liquidity::Maker,
            "R": o.reduce_only,
            "wt": match trigger.map(|t| t.working) {
                Some(WorkingType::Mark) => "MARK_PRICE",
                _ => "CONTRACT_PRICE",
            },
            "ot": o.kind.name(), "ps": "BOTH",
            "cp": trigger.is_some_and(|t| t.close_position),
            "rp": e.realized.to_string(), "pP": false, "si": 0, "ss": 0,
            "V": "EXPIRE_TAKER", "pm": "NONE", "gtd": 0}});
        self.events.push(body.to_string());
    }

    fn account_event(&mut self, why: &str, sym: SymbolId, wallet: Money) {
        let t = self.now_ms();
        let (qty, entry) = self.model.position(sym);
        let w = wallet.to_string();
        let body = json!({"e": "ACCOUNT_UPDATE", "E": t, "T": t, "a": {"m": why,
            "B": [{"a": "USDT", "wb": w, "cw": w, "bc": "0"}],
            "P": [{"s": self.name(sym), "pa": qty.to_string(), "ep": entry.to_string(),
                   "bep": entry.to_string(), "cr": "0", "up": "0", "mt": "cross",
                   "iw": "0", "ps": "BOTH", "ma": "USDT"}]}});
        self.events.push(body.to_string());
    }

    fn order_value(&self, o: &Order, id: u64, status: OrderStatus, filled: Qty) -> Value {
        let k = usize::try_from(o.client.0).unwrap_or(usize::MAX);
        let trigger = o.kind.trigger();
        let (avg, quote) = self.fills_of(id);
        json!({"orderId": id, "symbol": self.name(o.symbol), "status": status_name(status),
               "avgPrice": avg.to_string(), "cumQuote": quote.to_string(),
               "time": self.placed_ms(id), "priceProtect": false, "priceMatch": "NONE",
               "selfTradePreventionMode": "EXPIRE_TAKER", "goodTillDate": 0,
               "workingType": match trigger.map(|t| t.working) {
                   Some(WorkingType::Mark) => "MARK_PRICE",
                   _ => "CONTRACT_PRICE",
               },
               "clientOrderId": self.names.get(k).cloned().unwrap_or_default(),
               "price": o.price.to_string(), "origQty": o.qty.to_string(),
               "executedQty": filled.to_string(), "side": side_name(o.side),
               "type": o.kind.name(), "origType": o.kind.name(),
               "timeInForce": o.kind.tif_name(), "reduceOnly": o.reduce_only,
               "closePosition": trigger.is_some_and(|t| t.close_position),
               "stopPrice": trigger.map_or(Price::ZERO, |t| t.stop).to_string(),
               "positionSide": "BOTH", "updateTime": self.now_ms()})
    }

    fn order_json(&self, o: &Order, id: u64, status: OrderStatus, filled: Qty) -> String {
        self.order_value(o, id, status, filled).to_string()
    }
}

/// The acknowledgement Binance sends before an order's first trade.
fn ack_of(e: &Execution) -> Execution {
    Execution {
        status: OrderStatus::Accepted,
        last_price: Price::ZERO,
        last_qty: Qty::ZERO,
        cum_qty: Qty::ZERO,
        fee: Money::ZERO,
        realized: Money::ZERO,
        ..*e
    }
}

fn open_status(filled: Qty) -> OrderStatus {
    if filled.is_positive() {
        OrderStatus::PartiallyFilled
    } else {
        OrderStatus::Accepted
    }
}

fn status_name(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Accepted => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

#[path = "venue_algo.rs"]
mod algo;

#[path = "venue_account.rs"]
mod account;

#[cfg(test)]
#[path = "venue_tests.rs"]
mod tests;
