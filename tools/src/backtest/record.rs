//! What a backtest keeps for its report: every fill, every round trip
//! (with the strategy that opened it and the regime it opened in), the
//! equity sampled on a fixed grid of exchange time, the regime timeline
//! and the time spent holding a position.
//!
//! # Invariants
//! - Everything is a function of the inputs and the core's outputs; no
//!   clock is read, so the same backtest records the same thing.
//! - Every HALT is kept with when and why it began, what was open at that
//!   moment, and when and why it lifted (if it did).
//! - A round trip runs from a flat (or just flipped) position to the next
//!   flat or flip; its PnL is its realized PnL, less its fees, plus the
//!   funding paid or received while it was open (the core's rule for the
//!   losing streak).

use autobot_engine::core::Core;
use autobot_engine::event::{
    ChangeCause, InputBody, InputEvent, Liquidity, OrderUpdate, Origin, OutputBody, OutputEvent,
    StateChange, SystemState,
};
use autobot_engine::regime::Regime;
use autobot_engine::types::{ClientOrderId, Money, Price, Qty, Side, SymbolId};

/// One fill of one of our orders (or of the exchange's liquidation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillRecord {
    /// Exchange time, ms.
    pub time_ms: u64,
    /// Symbol.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Fill price.
    pub price: Price,
    /// Fill quantity.
    pub qty: Qty,
    /// Fee paid.
    pub fee: Money,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Who wanted the order.
    pub origin: Origin,
    /// The strategy instance behind it, for strategy orders.
    pub strategy: Option<u8>,
    /// Realized PnL this fill booked.
    pub realized: Money,
}

/// A position open when the system halted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenAtHalt {
    /// Symbol.
    pub symbol: SymbolId,
    /// Signed quantity.
    pub qty: Qty,
    /// Average entry price.
    pub entry: Option<Price>,
    /// Its unrealized PnL at the core's mark.
    pub unrealized: Money,
}

/// A stretch of HALTED.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Halt {
    /// Exchange time it began, ms.
    pub at_ms: u64,
    /// Why.
    pub cause: ChangeCause,
    /// The input that caused it.
    pub seq: u64,
    /// Equity then.
    pub equity: Money,
    /// Positions open at that moment.
    pub open: Vec<OpenAtHalt>,
    /// When it lifted, and why (`None`: still halted at the end).
    pub lifted: Option<(u64, ChangeCause)>,
}

/// One round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trip {
    /// Symbol.
    pub symbol: SymbolId,
    /// Long (`Buy`) or short (`Sell`).
    pub side: Side,
    /// Strategy instance that opened it (`None`: operator or protective).
    pub strategy: Option<u8>,
    /// Who opened it.
    pub origin: Origin,
    /// The symbol's regime when it opened.
    pub regime: Regime,
    /// Exchange times, ms.
    pub opened_ms: u64,
    /// Exchange time it closed, ms.
    pub closed_ms: u64,
    /// Net PnL: realized − fees + funding.
    pub pnl: Money,
    /// Fees paid over it.
    pub fees: Money,
    /// Average entry price after the opening fill.
    pub entry: Price,
    /// Price of the closing fill.
    pub exit: Price,
    /// The holder's stop and target right after the opening fill.
    pub stop: Option<Price>,
    /// See `stop`.
    pub take: Option<Price>,
}

#[derive(Clone, Copy, Debug, Default)]
struct OpenTrip {
    side: Side,
    strategy: Option<u8>,
    origin: Origin,
    regime: Regime,
    opened_ms: u64,
    pnl: Money,
    fees: Money,
    entry: Price,
    stop: Option<Price>,
    take: Option<Price>,
}

#[derive(Clone, Copy, Debug, Default)]
struct SymbolTrack {
    regime: Regime,
    trip: Option<OpenTrip>,
    /// Strategy of the last signal and the input that caused it.
    signal: Option<(u64, u8)>,
}

/// The recorder (see the module docs).
#[derive(Debug)]
pub struct Recorder {
    period_ns: u64,
    next_sample: u64,
    /// (exchange time ms, equity) on the sampling grid, then at the end.
    pub equity: Vec<(u64, Money)>,
    /// Every fill, in order.
    pub fills: Vec<FillRecord>,
    /// Every closed round trip, in order.
    pub trips: Vec<Trip>,
    /// (time ms, symbol, regime) at the start and at each change.
    pub regimes: Vec<(u64, SymbolId, Regime)>,
    /// Market-data inputs seen in each regime (of their symbol), by
    /// `Regime as usize`: regime shares by bars or ticks, which a gap in
    /// the data does not inflate.
    pub regime_inputs: [u64; 4],
    /// Each symbol's price (mark, or mid) on the equity's sampling grid:
    /// (time ms, price).
    pub prices: Vec<Vec<(u64, f64)>>,
    /// Pauses in the market data longer than an hour (or three bars): (last
    /// time before, first time after), ms. The charts compress them.
    pub data_gaps: Vec<(u64, u64)>,
    last_data_ms: u64,
    bar_ms: u64,
    /// Funding paid (negative) or received over the run.
    pub funding: Money,
    /// Nanoseconds of exchange time with some position held.
    pub exposed_ns: u64,
    /// First and last exchange time seen.
    pub span: Option<(u64, u64)>,
    /// Every HALT, in order.
    pub halts: Vec<Halt>,
    /// (time ms, state) at each system-state change.
    pub states: Vec<(u64, SystemState)>,
    held_since: Option<u64>,
    symbols: Vec<SymbolTrack>,
    /// Strategy of each recent strategy order.
    order_strategy: Vec<(ClientOrderId, u8)>,
}

/// The part of a fill report the recorder needs from before the core
/// applied it.
#[derive(Clone, Copy, Debug)]
pub struct Before {
    origin: Origin,
    realized: Money,
    qty: Qty,
}

impl Recorder {
    /// A recorder for `symbols` sampling equity every `period_secs`.
    pub fn new(symbols: usize, period_secs: u64) -> Recorder {
        Recorder {
            period_ns: period_secs.saturating_mul(1_000_000_000).max(1),
            next_sample: 0,
            equity: Vec::with_capacity(4096),
            fills: Vec::with_capacity(4096),
            trips: Vec::with_capacity(1024),
            regimes: Vec::with_capacity(256),
            regime_inputs: [0; 4],
            prices: vec![Vec::with_capacity(4096); symbols],
            data_gaps: Vec::new(),
            last_data_ms: 0,
            bar_ms: 0,
            funding: Money::ZERO,
            exposed_ns: 0,
            span: None,
            halts: Vec::new(),
            states: Vec::new(),
            held_since: None,
            symbols: vec![SymbolTrack::default(); symbols],
            order_strategy: Vec::with_capacity(256),
        }
    }

    /// Reads what a fill report changes, before the core applies it.
    pub fn before(ev: &InputEvent, core: &Core) -> Option<Before> {
        let InputBody::OrderUpdate(u) = &ev.body else {
            return None;
        };
        if !u.last_qty.is_positive() {
            return None;
        }
        let origin = if u.client_id == ClientOrderId::EXCHANGE_CLOSE {
            Origin::Liquidation
        } else {
            core.order(u.client_id).map(|o| o.origin)?
        };
        let pos = core.position(ev.header.symbol)?;
        Some(Before {
            origin,
            realized: pos.realized(),
            qty: pos.qty(),
        })
    }

    /// Records one input after the core processed it, with its outputs.
    pub fn after(
        &mut self,
        ev: &InputEvent,
        before: Option<Before>,
        outs: &[OutputEvent],
        core: &Core,
    ) {
        let t = ev.header.exchange.0;
        let ms = t / 1_000_000;
        if t != 0 {
            self.advance(t, core);
        }
        if matches!(
            ev.body,
            InputBody::BookTicker(_)
                | InputBody::AggTrade(_)
                | InputBody::Kline(_)
                | InputBody::Depth(_)
                | InputBody::MarkPrice(_)
        ) {
            if let InputBody::Kline(k) = ev.body {
                self.bar_ms = self.bar_ms.max(u64::from(k.interval_secs) * 1000);
            }
            let gap = self.bar_ms.saturating_mul(3).max(3_600_000);
            if self.last_data_ms != 0 && ms > self.last_data_ms.saturating_add(gap) {
                self.data_gaps.push((self.last_data_ms, ms));
            }
            self.last_data_ms = self.last_data_ms.max(ms);
            if let Some(track) = self.symbols.get(usize::from(ev.header.symbol.0)) {
                self.regime_inputs[track.regime as usize] += 1;
            }
        }
        for o in outs {
            self.on_output(o, ms);
            if let OutputBody::StateChange(c) = o.body {
                self.on_state(c, o.cause.0, ms, core);
            }
        }
        if let (InputBody::OrderUpdate(u), Some(b)) = (&ev.body, before) {
            self.on_fill(ev.header.symbol, u, b, ms, core);
        }
        // Only execution and account reports move positions.
        if !matches!(
            ev.body,
            InputBody::OrderUpdate(_) | InputBody::AccountUpdate(_)
        ) {
            return;
        }
        let held = core
            .instruments()
            .any(|i| core.position(i.id).is_some_and(|p| !p.qty().is_zero()));
        match (held, self.held_since) {
            (true, None) => self.held_since = Some(self.span.map_or(t, |s| s.1)),
            (false, Some(since)) => {
                let end = self.span.map_or(since, |s| s.1);
                self.exposed_ns += end.saturating_sub(since);
                self.held_since = None;
            }
            _ => {}
        }
    }

    /// A state change: a HALT begins (with what was open) or lifts.
    fn on_state(&mut self, c: StateChange, seq: u64, ms: u64, core: &Core) {
        let ms = ms.max(self.span.map_or(0, |s| s.1 / 1_000_000));
        self.states.push((ms, c.to));
        if c.to == SystemState::Halted {
            let open = core
                .instruments()
                .filter_map(|i| {
                    let p = core.position(i.id)?;
                    (!p.qty().is_zero()).then(|| OpenAtHalt {
                        symbol: i.id,
                        qty: p.qty(),
                        entry: p.avg_entry(),
                        unrealized: core.unrealized(i.id),
                    })
                })
                .collect();
            self.halts.push(Halt {
                at_ms: ms,
                cause: c.cause,
                seq,
                equity: core.account().equity(),
                open,
                lifted: None,
            });
        } else if c.from == SystemState::Halted
            && let Some(h) = self.halts.last_mut()
        {
            h.lifted = Some((ms, c.cause));
        }
    }

    /// Moves exchange time to `t`: samples the equity on the grid.
    fn advance(&mut self, t: u64, core: &Core) {
        match &mut self.span {
            None => {
                self.span = Some((t, t));
                let at = t / 1_000_000;
                for i in 0..self.symbols.len() {
                    let sym = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
                    self.regimes.push((at, sym, Regime::default()));
                }
                self.equity.push((at, core.account().equity()));
                self.sample_prices(at, core);
                self.next_sample = (t / self.period_ns + 1) * self.period_ns;
            }
            Some(span) if t > span.1 => span.1 = t,
            Some(_) => {}
        }
        if t >= self.next_sample && self.next_sample != 0 {
            self.equity.push((t / 1_000_000, core.account().equity()));
            self.sample_prices(t / 1_000_000, core);
            self.next_sample = (t / self.period_ns + 1) * self.period_ns;
        }
    }

    fn sample_prices(&mut self, ms: u64, core: &Core) {
        for (i, series) in self.prices.iter_mut().enumerate() {
            let sym = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
            if let Some(p) = core.mark(sym) {
                series.push((ms, p.to_f64()));
            }
        }
    }

    fn on_output(&mut self, o: &OutputEvent, ms: u64) {
        match o.body {
            OutputBody::Regime(r) => {
                if let Some(s) = self.symbols.get_mut(usize::from(r.symbol.0)) {
                    s.regime = r.to;
                }
                self.regimes.push((ms, r.symbol, r.to));
            }
            OutputBody::Signal(s) => {
                if let Some(track) = self.symbols.get_mut(usize::from(s.symbol.0)) {
                    track.signal = Some((o.cause.0, s.strategy));
                }
            }
            OutputBody::NewOrder(n) => {
                let signal = self
                    .symbols
                    .get(usize::from(n.symbol.0))
                    .and_then(|s| s.signal)
                    .filter(|(cause, _)| *cause == o.cause.0);
                if let Some((_, strategy)) = signal {
                    if self.order_strategy.len() >= 4096 {
                        // Old orders are long finished; keep the recent half.
                        self.order_strategy.drain(..2048);
                    }
                    self.order_strategy.push((n.client_id, strategy));
                }
            }
            OutputBody::Funding(f) => {
                self.funding = self.funding.checked_add(f.amount).unwrap_or(self.funding);
                if let Some(trip) = self
                    .symbols
                    .get_mut(usize::from(f.symbol.0))
                    .and_then(|s| s.trip.as_mut())
                {
                    trip.pnl = trip.pnl.checked_add(f.amount).unwrap_or(trip.pnl);
                }
            }
            _ => {}
        }
    }

    fn on_fill(&mut self, sym: SymbolId, u: &OrderUpdate, b: Before, ms: u64, core: &Core) {
        let Some(pos) = core.position(sym) else {
            return;
        };
        let realized = pos
            .realized()
            .checked_sub(b.realized)
            .unwrap_or(Money::ZERO);
        let strategy = if b.origin == Origin::Strategy {
            self.order_strategy
                .iter()
                .rev()
                .find(|(id, _)| *id == u.client_id)
                .map(|(_, s)| *s)
        } else {
            None
        };
        self.fills.push(FillRecord {
            time_ms: ms,
            symbol: sym,
            side: u.side,
            price: u.last_price,
            qty: u.last_qty,
            fee: u.fee,
            liquidity: u.liquidity,
            origin: b.origin,
            strategy,
            realized,
        });
        let Some(track) = self.symbols.get_mut(usize::from(sym.0)) else {
            return;
        };
        let (was, now) = (b.qty.raw(), pos.qty().raw());
        if let Some(trip) = track.trip.as_mut() {
            trip.pnl = trip
                .pnl
                .checked_add(realized)
                .and_then(|p| p.checked_sub(u.fee))
                .unwrap_or(trip.pnl);
            trip.fees = trip.fees.checked_add(u.fee).unwrap_or(trip.fees);
        }
        let closed = was != 0 && (now == 0 || now.signum() != was.signum());
        if closed && let Some(t) = track.trip.take() {
            self.trips.push(Trip {
                symbol: sym,
                side: t.side,
                strategy: t.strategy,
                origin: t.origin,
                regime: t.regime,
                opened_ms: t.opened_ms,
                closed_ms: ms,
                pnl: t.pnl,
                fees: t.fees,
                entry: t.entry,
                exit: u.last_price,
                stop: t.stop,
                take: t.take,
            });
        }
        if now != 0 && (was == 0 || now.signum() != was.signum()) {
            // An opening fill's fee belongs to the new trip, unless the
            // fill also closed one (a flip), which took it already.
            let fee = if closed { Money::ZERO } else { u.fee };
            let holding = core.holding(sym).unwrap_or_default();
            track.trip = Some(OpenTrip {
                entry: pos.avg_entry().unwrap_or(u.last_price),
                stop: holding.stop,
                take: holding.take,
                side: if now > 0 { Side::Buy } else { Side::Sell },
                strategy,
                origin: b.origin,
                regime: track.regime,
                opened_ms: ms,
                pnl: Money::ZERO.checked_sub(fee).unwrap_or(Money::ZERO),
                fees: fee,
            });
        }
    }

    /// Each symbol's regimes as (symbol, regime, from ms, until ms), in
    /// timeline order, the last of each running to the end of the data.
    pub fn regime_spans(&self) -> Vec<(SymbolId, Regime, u64, u64)> {
        let end = self.span.map_or(0, |s| s.1 / 1_000_000);
        let mut next_start = vec![end; self.symbols.len()];
        let mut spans = Vec::with_capacity(self.regimes.len());
        for &(at, sym, regime) in self.regimes.iter().rev() {
            let Some(next) = next_start.get_mut(usize::from(sym.0)) else {
                continue;
            };
            spans.push((sym, regime, at, *next));
            *next = at;
        }
        spans.reverse();
        spans
    }

    /// Closes the books at the end of the data: the last equity point and
    /// the exposure still running. Open trips stay open (not counted).
    pub fn finish(&mut self, core: &Core) {
        if let Some((_, last)) = self.span {
            let ms = last / 1_000_000;
            if self.equity.last().is_none_or(|e| e.0 != ms) {
                self.equity.push((ms, core.account().equity()));
            } else if let Some(e) = self.equity.last_mut() {
                e.1 = core.account().equity();
            }
            if let Some(since) = self.held_since.take() {
                self.exposed_ns += last.saturating_sub(since);
            }
        }
    }
}
