//! The business-logic core: a deterministic state machine over input events.
//!
//! # What it owns
//! Top of book per symbol, the EMA-cross strategy, positions and PnL, the open
//! order table, the kill switch, the system state, the veto checks, and the
//! running digest of every output.
//!
//! # Invariants
//! - Reads no clock, does no I/O, uses no randomness and iterates no hash map:
//!   the outputs are a function of the input sequence alone, which is why
//!   replaying the journal reproduces them (and the digest) bit for bit.
//! - Allocates only in [`Core::new`]; `on_event` never allocates
//!   (`tests/no_alloc.rs` proves it with a counting allocator).
//! - Every order intent produces exactly one audit record (approved or the
//!   vetoing rule with the values compared) before any order leaves.
//! - An execution report is applied at most once, and only as the order
//!   state machine's one transition table allows (`order_state`);
//!   duplicates, illegal transitions and reports for unknown orders are
//!   counted and alerted, never applied.

mod book;
mod digest;
mod ema;
mod order_state;
mod orders;
mod position;
mod risk;
mod view;

pub use book::{BookReject, TopOfBook};
pub use digest::{DIGEST_SEED, OutputDigest};
pub use ema::{Cross, Ema, EmaCross};
pub use order_state::{OrderEvent, OrderState, Step, TABLE as ORDER_TRANSITIONS};
pub use orders::{OpenOrder, OrderTable, UpdateCheck};
pub use position::{Position, PositionOverflow};
pub use view::{BookView, CoreView, OrderView, StatsView, SymbolView};

use crate::config::CoreConfig;
use crate::event::{
    Alert, AlertCode, Audit, BookTicker, FeedHealth, FeedStatus, INPUT_KINDS, InputBody,
    InputEvent, NewOrder, OperatorAction, OrderKind, OrderRejected, OrderUpdate, OutputBody,
    OutputEvent, Rule, StateChange, SystemState, Verdict,
};
use crate::types::{ClientOrderId, Instrument, Price, Qty, Seq, Side, SymbolId};

/// Where the core's outputs go (the output ring, a replay trace, a test).
pub trait OutputSink {
    /// Receives one output, already folded into the digest.
    fn emit(&mut self, out: &OutputEvent);
}

/// A sink that drops outputs (replay that only checks the digest).
#[derive(Debug, Default)]
pub struct DiscardSink;

impl OutputSink for DiscardSink {
    fn emit(&mut self, _out: &OutputEvent) {}
}

impl OutputSink for Vec<OutputEvent> {
    fn emit(&mut self, out: &OutputEvent) {
        self.push(*out);
    }
}

/// Counters kept by the core (part of its deterministic state).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct CoreStats {
    /// Input events processed.
    pub events: u64,
    /// Input events per kind (`InputBody::kind_index`).
    pub by_kind: [u64; INPUT_KINDS],
    /// Orders sent.
    pub orders: u64,
    /// Fills applied.
    pub fills: u64,
    /// Orders rejected (by the exchange or the execution gateway).
    pub rejects: u64,
    /// Order intents vetoed.
    pub vetoes: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Book tickers refused as crossed.
    pub crossed: u64,
    /// Book tickers refused as out of order.
    pub out_of_order: u64,
    /// Execution reports refused as duplicates or inconsistent.
    pub duplicate_updates: u64,
    /// Execution reports for orders not open.
    pub unknown_orders: u64,
    /// Execution reports the order's state does not allow (not applied).
    pub illegal_transitions: u64,
    /// Events naming a symbol that is not configured.
    pub unknown_symbols: u64,
}

/// Per-symbol state.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct SymbolState {
    instrument: Instrument,
    book: TopOfBook,
    signal: EmaCross,
    /// Signed position the strategy wants, set on each cross.
    target: i64,
    position: Position,
    feed: FeedHealth,
}

/// The deterministic business-logic core.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Core {
    symbols: Vec<SymbolState>,
    orders: OrderTable,
    order_qty: Qty,
    max_position: Qty,
    kill_switch: bool,
    state: SystemState,
    digest: OutputDigest,
    stats: CoreStats,
    last_seq: Option<Seq>,
}

impl Core {
    /// A core with all of its memory allocated (the warm-up).
    pub fn new(cfg: &CoreConfig) -> Core {
        let symbols = cfg
            .instruments
            .iter()
            .map(|ins| SymbolState {
                instrument: *ins,
                book: TopOfBook::default(),
                signal: EmaCross::new(cfg.strategy.fast_period, cfg.strategy.slow_period),
                target: 0,
                position: Position::default(),
                feed: FeedHealth::Healthy,
            })
            .collect();
        Core {
            symbols,
            orders: OrderTable::with_capacity(cfg.risk.max_open_orders),
            order_qty: cfg.strategy.order_qty,
            max_position: cfg.risk.max_position,
            kill_switch: false,
            state: SystemState::Running,
            digest: OutputDigest::default(),
            stats: CoreStats::default(),
            last_seq: None,
        }
    }

    /// Processes one input event; outputs go to `out` (and the digest).
    pub fn on_event<S: OutputSink>(&mut self, ev: &InputEvent, out: &mut S) {
        let seq = ev.header.seq;
        debug_assert!(
            self.last_seq.is_none_or(|s| seq > s),
            "core fed out of sequence order"
        );
        self.last_seq = Some(seq);
        self.stats.events += 1;
        self.stats.by_kind[ev.body.kind_index()] += 1;
        let sym = ev.header.symbol;
        let needs_symbol = matches!(
            ev.body,
            InputBody::BookTicker(_) | InputBody::FeedStatus(_) | InputBody::MarkPrice(_)
        );
        if needs_symbol && usize::from(sym.0) >= self.symbols.len() {
            self.stats.unknown_symbols += 1;
            self.alert(seq, AlertCode::UnknownSymbol, sym, i64::from(sym.0), out);
            return;
        }
        match &ev.body {
            InputBody::BookTicker(t) => self.on_book_ticker(seq, sym, t, ev, out),
            InputBody::OrderUpdate(u) => self.on_order_update(seq, u, out),
            InputBody::OrderRejected(r) => self.on_order_rejected(seq, r, out),
            InputBody::Operator(c) => match c.action {
                OperatorAction::Kill => self.kill_switch = true,
                OperatorAction::Reset => self.kill_switch = false,
                OperatorAction::Shutdown => self.set_state(seq, SystemState::Stopped, out),
                OperatorAction::Start => {
                    if self.state == SystemState::Stopped {
                        self.set_state(seq, SystemState::Running, out);
                    }
                }
            },
            InputBody::FeedStatus(FeedStatus { health, .. }) => {
                self.symbols[usize::from(sym.0)].feed = *health;
            }
            // Counted above; the trading logic that reads them (L2 book,
            // funding, candles, reconciliation) arrives with later issues.
            InputBody::AggTrade(_)
            | InputBody::Depth(_)
            | InputBody::MarkPrice(_)
            | InputBody::Liquidation(_)
            | InputBody::Kline(_)
            | InputBody::AccountUpdate(_)
            | InputBody::Timer(_) => {}
        }
    }

    fn on_book_ticker<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        t: &BookTicker,
        ev: &InputEvent,
        out: &mut S,
    ) {
        let s = &mut self.symbols[usize::from(sym.0)];
        match s.book.apply(t, ev.header.exchange) {
            Ok(()) => {}
            Err(BookReject::Crossed) => {
                self.stats.crossed += 1;
                let raw = t.bid_price.raw();
                self.alert(seq, AlertCode::CrossedBook, sym, raw, out);
                return;
            }
            Err(BookReject::OutOfOrder) => {
                self.stats.out_of_order += 1;
                return;
            }
        }
        let Some(mid) = s.book.mid() else { return };
        match s.signal.update(mid.to_f64()) {
            Some(Cross::Up) => s.target = self.order_qty.raw(),
            Some(Cross::Down) => s.target = -self.order_qty.raw(),
            None => {}
        }
        self.pursue_target(seq, sym, out);
    }

    /// Sends the order that moves the position to the strategy's target, if
    /// none is in flight. A vetoed intent drops the target to the current
    /// position, so the veto is recorded once per cross, not on every tick.
    fn pursue_target<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        if self.orders.has_open(sym) {
            return;
        }
        let s = &self.symbols[usize::from(sym.0)];
        let held = s.position.qty().raw();
        let delta = i128::from(s.target) - i128::from(held);
        if delta == 0 {
            return;
        }
        let side = if delta > 0 { Side::Buy } else { Side::Sell };
        let qty = Qty::from_raw(i64::try_from(delta.unsigned_abs()).unwrap_or(i64::MAX));
        match self.check_intent(sym, side, qty) {
            Ok((qty, price)) => self.send_order(seq, sym, side, qty, price, out),
            Err(veto) => {
                self.stats.vetoes += 1;
                let s = &mut self.symbols[usize::from(sym.0)];
                s.target = s.position.qty().raw();
                self.emit(seq, OutputBody::Audit(veto), out);
            }
        }
    }

    fn send_order<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        side: Side,
        qty: Qty,
        price: Price,
        out: &mut S,
    ) {
        let client_id = ClientOrderId::derive(seq, 0);
        let inserted = self.orders.insert(OpenOrder {
            client_id,
            symbol: sym,
            side,
            qty,
            filled: Qty::ZERO,
            state: OrderState::New,
        });
        if !inserted {
            self.stats.vetoes += 1;
            let open = self.orders.open_count() as i64;
            self.alert(seq, AlertCode::OrderTableFull, sym, open, out);
            return;
        }
        self.stats.orders += 1;
        let approval = Audit {
            symbol: sym,
            verdict: Verdict::Approved,
            rule: Rule::AllPassed,
            side,
            qty,
            value: 0,
            limit: 0,
        };
        self.emit(seq, OutputBody::Audit(approval), out);
        let order = NewOrder {
            client_id,
            symbol: sym,
            side,
            kind: OrderKind::Market,
            reduce_only: false,
            post_only: false,
            price,
            qty,
        };
        self.emit(seq, OutputBody::NewOrder(order), out);
    }

    fn on_order_update<S: OutputSink>(&mut self, seq: Seq, u: &OrderUpdate, out: &mut S) {
        let (check, order) = self.orders.apply(u);
        match (check, order) {
            (UpdateCheck::Apply { fill, .. }, Some(order)) => {
                if fill.is_positive() {
                    let pos = &mut self.symbols[usize::from(order.symbol.0)].position;
                    if pos
                        .apply_fill(order.side, u.last_price, fill, u.fee)
                        .is_err()
                    {
                        self.alert(seq, AlertCode::Overflow, order.symbol, 0, out);
                        return;
                    }
                    self.stats.fills += 1;
                }
            }
            (check, order) => self.refuse_update(seq, u.client_id, check, order, out),
        }
    }

    /// Counts and alerts an execution report that is not applied.
    fn refuse_update<S: OutputSink>(
        &mut self,
        seq: Seq,
        id: ClientOrderId,
        check: UpdateCheck,
        order: Option<OpenOrder>,
        out: &mut S,
    ) {
        let sym = order.map_or(SymbolId(0), |o| o.symbol);
        let code = match check {
            UpdateCheck::Duplicate => {
                self.stats.duplicate_updates += 1;
                AlertCode::DuplicateUpdate
            }
            UpdateCheck::Illegal => {
                self.stats.illegal_transitions += 1;
                AlertCode::IllegalTransition
            }
            UpdateCheck::Unknown | UpdateCheck::Apply { .. } => {
                self.stats.unknown_orders += 1;
                AlertCode::UnknownOrder
            }
        };
        self.alert(seq, code, sym, id.0 as i64, out);
    }

    fn on_order_rejected<S: OutputSink>(&mut self, seq: Seq, r: &OrderRejected, out: &mut S) {
        match self.orders.reject(r.client_id) {
            (UpdateCheck::Apply { .. }, Some(order)) => {
                self.stats.rejects += 1;
                // Do not chase the target again until the next cross.
                let s = &mut self.symbols[usize::from(order.symbol.0)];
                s.target = s.position.qty().raw();
                self.alert(
                    seq,
                    AlertCode::OrderRejected,
                    order.symbol,
                    i64::from(r.code),
                    out,
                );
            }
            (check, order) => self.refuse_update(seq, r.client_id, check, order, out),
        }
    }

    fn set_state<S: OutputSink>(&mut self, seq: Seq, to: SystemState, out: &mut S) {
        if self.state == to {
            return;
        }
        let from = std::mem::replace(&mut self.state, to);
        self.emit(seq, OutputBody::StateChange(StateChange { from, to }), out);
    }

    fn alert<S: OutputSink>(
        &mut self,
        seq: Seq,
        code: AlertCode,
        symbol: SymbolId,
        value: i64,
        out: &mut S,
    ) {
        self.stats.alerts += 1;
        self.emit(
            seq,
            OutputBody::Alert(Alert {
                code,
                symbol,
                value,
            }),
            out,
        );
    }

    #[inline]
    fn emit<S: OutputSink>(&mut self, cause: Seq, body: OutputBody, out: &mut S) {
        let ev = OutputEvent { cause, body };
        self.digest.update(&ev);
        out.emit(&ev);
    }

    /// Running digest of every output so far.
    pub fn digest(&self) -> u64 {
        self.digest.value()
    }

    /// Outputs emitted so far.
    pub fn outputs(&self) -> u64 {
        self.digest.count()
    }

    /// Counters.
    pub fn stats(&self) -> &CoreStats {
        &self.stats
    }

    /// Current system state.
    pub fn state(&self) -> SystemState {
        self.state
    }

    /// `true` while the kill switch is engaged.
    pub fn kill_switch(&self) -> bool {
        self.kill_switch
    }

    /// Sequence of the last event processed.
    pub fn last_seq(&self) -> Option<Seq> {
        self.last_seq
    }

    /// Configured instruments, indexed by `SymbolId`.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.symbols.iter().map(|s| &s.instrument)
    }

    /// Position of a symbol.
    pub fn position(&self, sym: SymbolId) -> Option<&Position> {
        self.symbols.get(usize::from(sym.0)).map(|s| &s.position)
    }

    /// Top of book of a symbol.
    pub fn book(&self, sym: SymbolId) -> Option<&TopOfBook> {
        self.symbols.get(usize::from(sym.0)).map(|s| &s.book)
    }

    /// Number of open orders.
    pub fn open_orders(&self) -> usize {
        self.orders.open_count()
    }

    /// The open orders themselves (allocates; not for the hot path).
    pub fn open_order_list(&self) -> Vec<OpenOrder> {
        self.orders.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests;
