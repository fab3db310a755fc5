//! The strategies in the core: what the core does with the bars, regime
//! changes and proposals its signal part (`signals`) returns: proposals
//! turned into targeted positions, and the exits the core manages
//! (stop-loss, take-profit, maximum hold, regime exit).
//!
//! # Rules (what `strategy` leaves to the core)
//! - An instance opens (or flips) a position only while the symbol's
//!   regime is in its `regimes`; proposals outside are counted, not acted on.
//! - One instance owns a symbol's position at a time: proposals of other
//!   instances are counted as shadowed until the position is flat again.
//!   A position belongs to the instance whose own order opened it (the
//!   order carries a `Plan`): a vetoed or unfilled proposal changes nothing,
//!   and an operator's fill belongs to no instance (no stop, no target).
//! - A vetoed entry is not proposed again until the instance's proposal
//!   changes stance; a tick without a proposal is not a change.
//! - Size in risk terms: the notional that loses `risk_per_trade` of equity
//!   at the proposal's stop (a configured notional without a stop), × the
//!   instance's weight, within the mode's position limit; the veto chain
//!   caps it by the instance's Kelly estimate, volatility, the soft
//!   drawdown. The weight adapts, and the instance's trip record grows, at
//!   the end of each round trip.
//! - Stops apply at once; the owner's own exits, its take-profit and the
//!   regime exit wait for `min_hold`; `max_hold` closes in any case.
//! - Each change of the targeted position is recorded as a `Signal`
//!   output before the order's audit record.

use super::{Core, OutputSink, SymbolState};
use crate::config::Costs;
use crate::event::{Kline, Origin, OutputBody, RegimeChange, Signal, SignalReason, Stance, Trade};
use crate::features::flow::book_quantities;
use crate::regime::{Change, Regime};
use crate::strategy::{Market, Proposal};
use crate::types::{Money, Price, Qty, Rate, Rounding, Seq, SymbolId, UnixNanos};

/// `owner` / `holder` of no instance.
pub(super) const NO_STRATEGY: u8 = u8::MAX;

/// Fee-aware entries: the proposal's expected move (its target's distance
/// from the entry, else its stop's) is at least `min_edge` round-trip
/// costs: the taker fee both ways, the spread (half of it paid on each
/// side) and the configured slippage ticks both ways, at the entry price;
/// a maker-first entry counts the maker fee and no spread or slippage for
/// its entry (the exit still takes).
/// A proposal with neither a target nor a stop has no expected move to
/// judge and passes, as does every proposal with `min_edge = 0`. Exact
/// integers: `move × 10⁸ ≥ min_edge × cost`.
fn covers_costs(
    s: &SymbolState,
    p: &Proposal,
    (min_edge, maker): (Rate, bool),
    costs: &Costs,
) -> bool {
    if min_edge.is_zero() {
        return true;
    }
    let entry = if p.entry.is_positive() {
        p.entry
    } else {
        match s.quote.book.mid() {
            Some(mid) => mid,
            None => return true,
        }
    };
    let distance = |level: Price| (i128::from(level.raw()) - i128::from(entry.raw())).abs();
    let expected = if p.take.is_positive() {
        distance(p.take)
    } else if p.stop.is_positive() {
        distance(p.stop)
    } else {
        return true;
    };
    let scale = i128::from(crate::types::SCALE);
    // Sides that take: both, or only the exit of a maker-first entry.
    let sides: i128 = if maker { 1 } else { 2 };
    let entry_fee = if maker {
        costs.maker_fee
    } else {
        costs.taker_fee
    };
    let fee_rates = i128::from(entry_fee.raw()) + i128::from(costs.taker_fee.raw());
    let fees = i128::from(entry.raw()) * fee_rates / scale;
    let spread = i128::from(s.quote.book.ask_price.raw() - s.quote.book.bid_price.raw()).max(0);
    let slippage =
        sides * i128::from(costs.slippage_ticks) * i128::from(s.instrument.tick_size.raw());
    let cost = fees + spread * sides / 2 + slippage;
    expected * scale >= i128::from(min_edge.raw()) * cost
}

/// The price a market order of the proposal's side would take: the one
/// the veto chain judges it at (a bar's close may lie under the ask, and
/// an entry sized at it would exceed the position limit there); the
/// proposal's own price without a book; zero without either.
fn entry_price(s: &SymbolState, p: &Proposal) -> Price {
    let side = if p.stance == Stance::Short {
        crate::types::Side::Sell
    } else {
        crate::types::Side::Buy
    };
    match s.quote.book.taking_price(side) {
        Some(taking) => taking,
        None if p.entry.is_positive() => p.entry,
        None => Price::ZERO,
    }
}

impl SymbolState {
    fn held(&self) -> Stance {
        Stance::of(self.position.qty().raw())
    }
}

impl Core {
    /// What the strategies see of `sym` now.
    pub(super) fn market_view(&self, sym: SymbolId) -> Market {
        let i = usize::from(sym.0);
        let s = &self.symbols[i];
        Market {
            now: self.clock.now(),
            top: s.quote.book,
            tick: s.instrument.tick_size,
            regime: s.regime,
            trades: self.signals.features(sym).trades.sums(),
            depth: book_quantities(&self.depth[i], self.signals.book_levels()),
            held: s.held(),
            higher: self.signals.higher(sym),
            value_area: None,
            liquidations: self.signals.features(sym).liquidations.sums(),
        }
    }

    /// A trade print (admitted by `guard`) into the features (and bars).
    pub(super) fn on_trade<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        t: &Trade,
        exchange: UnixNanos,
        out: &mut S,
    ) {
        if self.on_market_data(sym, exchange) {
            self.recount_stale(seq, out);
        }
        let closed = self.signals.on_trade(sym, exchange, t);
        if let Some(base) = &closed[0] {
            self.on_gap(seq, sym, base, out);
        }
        for (tf, bar) in closed.iter().enumerate() {
            if let Some(bar) = bar {
                self.on_bar(seq, sym, tf, bar, out);
            }
        }
    }

    /// A closed kline (admitted by `guard`): a base bar when bars come from
    /// klines and it is of the base interval. The higher-timeframe candles
    /// it completes close first, so the regime and the strategies on the
    /// base bar see them.
    pub(super) fn on_kline<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        k: &Kline,
        out: &mut S,
    ) {
        if !self.signals.is_base_kline(k) {
            return;
        }
        self.on_gap(seq, sym, k, out);
        let higher = self.signals.fold_kline(sym, k);
        for (tf, closed) in higher.iter().enumerate() {
            for bar in closed.iter().flatten() {
                self.on_bar(seq, sym, tf, bar, out);
            }
        }
        self.on_bar(seq, sym, 0, k, out);
    }

    /// Before a base bar is read: after a gap in the bars the symbol's
    /// indicators warm up again (`Signals::gap`), the operator hears of it
    /// and the regime reads RANGE until they are warm.
    fn on_gap<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, bar: &Kline, out: &mut S) {
        let Some(g) = self.signals.gap(sym, bar) else {
            return;
        };
        self.stats.gap_restarts += 1;
        self.alert(
            seq,
            crate::event::AlertCode::DataGap,
            sym,
            i64::try_from(g.missing).unwrap_or(i64::MAX),
            out,
        );
        if let Some(ch) = g.change {
            self.set_regime(seq, sym, ch, out);
        }
    }

    /// The symbol's regime changed (`ch`): recorded and told.
    fn set_regime<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, ch: Change, out: &mut S) {
        self.symbols[usize::from(sym.0)].regime = ch.to;
        self.stats.regime_changes += 1;
        let change = RegimeChange {
            symbol: sym,
            from: ch.from,
            to: ch.to,
            strength: ch.strength,
            vol_bps: ch.vol_bps,
        };
        self.emit(seq, OutputBody::Regime(change), out);
    }

    /// A bar closed on timeframe `tf`: the regime first, then the bar
    /// strategies, which see the new regime.
    fn on_bar<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        tf: usize,
        bar: &Kline,
        out: &mut S,
    ) {
        if let Some(ch) = self.signals.on_bar(sym, tf, bar) {
            self.set_regime(seq, sym, ch, out);
        }
        if tf != 0 {
            return;
        }
        let now = self.clock.now();
        if let Some(bits) = self.advisor.on_bar(sym, bar, seq, now) {
            for part in crate::event::feature_parts(sym, &bits) {
                self.emit(seq, part, out);
            }
        }
        self.run_strategies(seq, sym, Some(bar), out);
        self.pursue_target(seq, sym, out);
    }

    /// Every instance sees the bar that closed (`Some`) or the book ticker
    /// just applied (`None`). The view is built once: nothing an instance's
    /// proposal changes (the target) is part of it.
    pub(super) fn run_strategies<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        bar: Option<&Kline>,
        out: &mut S,
    ) {
        let mut m = self.market_view(sym);
        if bar.is_some() {
            // Once per bar, never per ticker.
            m.value_area = self.signals.value_area(sym);
        }
        for k in 0..self.signals.instances() {
            let p = self.signals.propose(k, sym, bar, &m);
            self.consider(seq, sym, k, p.as_ref(), out);
        }
    }

    /// How long the position of `s` has been open.
    fn held_for(&self, s: &SymbolState) -> u64 {
        self.clock.now().0.saturating_sub(s.opened_at.0)
    }

    /// A proposal (or none) of instance `k` for `sym`: maybe a new target.
    fn consider<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        k: usize,
        p: Option<&Proposal>,
        out: &mut S,
    ) {
        let i = usize::from(sym.0);
        let inst = k as u8;
        let (by, stance) = self.symbols[i].refused;
        if by == inst {
            match p {
                // The same stance as the one vetoed: the proposal has not
                // changed, and a tick without a proposal does not change it
                // either. It must become something else first.
                Some(p) if p.stance == stance => {
                    self.stats.signals_repeated += 1;
                    return;
                }
                Some(_) => self.symbols[i].refused = (NO_STRATEGY, Stance::Flat),
                None => return,
            }
        }
        let Some(p) = p else { return };
        let s = self.symbols[i];
        let w = *self.signals.weight(k);
        let held = s.held();
        let owned_elsewhere = s.owner != NO_STRATEGY && s.owner != inst;
        let busy = s.target != 0 || held != Stance::Flat;
        if p.stance == Stance::Flat {
            let mine = s.holder == inst || s.owner == inst;
            if mine && s.target != 0 && self.held_for(&s) >= w.min_hold {
                self.set_target(seq, sym, inst, p, 0, out);
            }
            return;
        }
        if !w.enabled {
            self.stats.signals_disabled += 1;
            return;
        }
        if !w.regimes.contains(s.regime) {
            self.stats.signals_off_regime += 1;
            return;
        }
        let mut weight = w.weight;
        if s.regime == Regime::HighVol {
            let size = self.signals.high_vol_size();
            if size.is_zero() {
                self.stats.signals_high_vol += 1;
                return;
            }
            let scaled =
                i128::from(weight.raw()) * i128::from(size.raw()) / i128::from(crate::types::SCALE);
            weight = Rate::from_raw(i64::try_from(scaled).unwrap_or(0));
        }
        if !self.control.takes_new_risk() {
            // The state record already says why; an entry would only be
            // vetoed, tick after tick.
            self.stats.signals_held += 1;
            return;
        }
        if owned_elsewhere && busy {
            self.stats.signals_shadowed += 1;
            return;
        }
        // Turning the own position around is an exit first: it waits for
        // the minimum hold like one.
        if held != Stance::Flat && held != p.stance && self.held_for(&s) < w.min_hold {
            return;
        }
        // Already targeting this stance: the size was set at entry and is
        // not chased as equity moves.
        if Stance::of(s.target) == p.stance && s.owner == inst {
            return;
        }
        if !covers_costs(&s, p, (w.min_edge, w.maker), &self.risk.limits.costs) {
            self.stats.signals_below_cost += 1;
            return;
        }
        let size = self.entry_size(&s, weight, p);
        if size.is_zero() {
            self.stats.signals_too_small += 1;
            return;
        }
        let Some(size) = self.advise(seq, (sym, k), p, &s, size, out) else {
            // Refused: a turn of the instance's own position still closes
            // it (the advisor never blocks an exit).
            let mine = s.holder == inst || s.owner == inst;
            if held != Stance::Flat && held != p.stance && mine && s.target != 0 {
                self.set_target(seq, sym, inst, &Proposal::exit(p.reason, p.entry), 0, out);
            }
            return;
        };
        self.set_target(seq, sym, inst, p, p.stance.sign() * size.raw(), out);
    }

    /// The advisor's say over instance `k`'s entry of `size` (module
    /// `advisor`): the size it leaves, recorded as an `Advice` output, or
    /// `None` when it refuses the entry. Unadvised instances keep `size`.
    fn advise<S: OutputSink>(
        &mut self,
        seq: Seq,
        (sym, k): (SymbolId, usize),
        p: &Proposal,
        s: &SymbolState,
        size: Qty,
        out: &mut S,
    ) -> Option<Qty> {
        use crate::event::{Advice, AdviceVerdict, PPM};
        let now = self.clock.now();
        let Some(mut j) = self.advisor.judge(k, sym, p.stance, (seq, now)) else {
            if self.advisor.mode(k) == crate::strategy::AdvisorMode::Off {
                return Some(size);
            }
            // Refused before on the same prediction: not judged again.
            self.stats.signals_repeated += 1;
            return None;
        };
        let mut after = Qty::ZERO;
        if !j.verdict.refuses() {
            let cut = i128::from(size.raw()) * i128::from(j.factor) / i128::from(PPM);
            after = Qty::from_raw(i64::try_from(cut).unwrap_or(0))
                .round_to(s.instrument.step_size, Rounding::TowardZero)
                .unwrap_or(Qty::ZERO);
            let price = entry_price(s, p);
            if after.is_zero() || after < super::portfolio::min_size(s, price) {
                after = Qty::ZERO;
                j.verdict = AdviceVerdict::CutToNothing;
                self.advisor.remember_refusal(k, sym, p.stance, &j);
            }
        }
        let strategy_confidence = u32::try_from(
            i128::from(p.confidence.raw().max(0)) * i128::from(PPM)
                / i128::from(crate::types::SCALE),
        )
        .unwrap_or(PPM)
        .min(PPM);
        let fused = u64::from(strategy_confidence) * u64::from(j.factor) / u64::from(PPM);
        let advice = Advice {
            qty: size,
            score: j.score,
            confidence: j.confidence,
            strategy_confidence,
            fused: fused as u32,
            factor: j.factor,
            age: j.age,
            symbol: sym,
            strategy: k as u8,
            model: j.model,
            verdict: j.verdict,
            stance: p.stance,
        };
        self.emit(seq, OutputBody::Advice(advice), out);
        match j.verdict {
            AdviceVerdict::Cut => self.advisor.stats.cut += 1,
            v if v.refuses() => self.advisor.stats.vetoed += 1,
            _ => {}
        }
        if j.verdict == AdviceVerdict::NoAdviceVetoed && self.advisor.goes_silent(k) {
            self.alert(
                seq,
                crate::event::AlertCode::AdvisorSilent,
                sym,
                k as i64,
                out,
            );
        }
        (!after.is_zero()).then_some(after)
    }

    /// An entry's size in risk terms: the notional that loses
    /// `risk_per_trade` of equity if the proposal's stop is hit (the
    /// configured notional when it has none), × the instance's weight,
    /// within the mode's position limit, down to the step; below the
    /// exchange's minimum, the minimum (`no_edge = "min-size"`) or nothing
    /// (`"skip"`). The veto chain then caps it by the instance's Kelly
    /// estimate (level 5).
    pub(super) fn entry_size(
        &self,
        s: &SymbolState,
        weight: crate::types::Rate,
        p: &Proposal,
    ) -> Qty {
        let l = &self.risk.limits;
        let scale = i128::from(crate::types::SCALE);
        let price = entry_price(s, p);
        if !price.is_positive() {
            return Qty::ZERO;
        }
        let notional = match super::portfolio::stop_distance(price, p.stop) {
            Some(d) => {
                i128::from(self.account.equity().raw().max(0)) * i128::from(l.risk_per_trade.raw())
                    / i128::from(d.raw())
            }
            None => i128::from(l.entry_notional.raw()),
        };
        // The weight applies after the limit, so adaptation shows even
        // where the limit binds.
        let notional = notional.min(i128::from(l.scaled_position(self.control.mode()).raw()))
            * i128::from(weight.raw())
            / scale;
        let q =
            Qty::from_raw(i64::try_from(notional * scale / i128::from(price.raw())).unwrap_or(0));
        let q = q
            .round_to(s.instrument.step_size, Rounding::TowardZero)
            .unwrap_or(Qty::ZERO);
        // Shrunk (a small notional, a shrunk weight) below what the exchange
        // takes: the minimum, unless the config skips such entries.
        if l.no_edge_skips || notional <= 0 {
            return q;
        }
        q.max(super::portfolio::min_size(s, price))
    }

    /// Records the signal and moves the target.
    fn set_target<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        inst: u8,
        p: &Proposal,
        target: i64,
        out: &mut S,
    ) {
        let s = &mut self.symbols[usize::from(sym.0)];
        s.target = target;
        s.maker_tries = 0;
        s.owner = inst;
        // The stop and target belong to the order toward this target; they
        // become the position's only when that order fills (`strategy_fill`).
        s.plan = if target != 0 {
            super::Plan {
                strategy: inst,
                stop: p.stop,
                take: p.take,
            }
        } else {
            super::Plan::NONE
        };
        self.stats.signals += 1;
        let signal = Signal {
            symbol: sym,
            strategy: inst,
            stance: p.stance,
            reason: p.reason,
            confidence: p.confidence,
            entry: p.entry,
            stop: p.stop,
            take: p.take,
            qty: Qty::from_raw(target.saturating_abs()),
        };
        self.emit(seq, OutputBody::Signal(signal), out);
    }

    /// Stop-loss, take-profit, maximum hold and regime exit of the
    /// strategy holding `sym`'s position.
    pub(super) fn manage_exits<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        // By reference: the symbol's state is large, and this runs on
        // every book ticker.
        let s = &self.symbols[usize::from(sym.0)];
        let held = s.held();
        if held == Stance::Flat || s.holder == NO_STRATEGY || self.orders.has_open(sym) {
            return;
        }
        let (holder, qty) = (s.holder, s.position.qty());
        let w = self.signals.weight(usize::from(holder));
        let age = self.held_for(s);
        let (bid, ask) = (s.quote.book.bid_price, s.quote.book.ask_price);
        let long = held == Stance::Long;
        // With `protect = "exchange"` the exchange's stop (and target)
        // close, and the core's own only stand in while none is working.
        let defers =
            |kind| w.protect == crate::strategy::Protect::Exchange && self.guard_working(sym, kind);
        let stopped = !defers(crate::event::OrderKind::StopMarket)
            && s.stop.is_positive()
            && if long { bid <= s.stop } else { ask >= s.stop };
        let took = !defers(crate::event::OrderKind::TakeProfitMarket)
            && s.take.is_positive()
            && if long { bid >= s.take } else { ask <= s.take };
        let (reason, origin, at) = if stopped {
            (SignalReason::StopLoss, Origin::StopLoss, s.stop)
        } else if w.max_hold > 0 && age >= w.max_hold {
            (
                SignalReason::MaxHold,
                Origin::MaxHold,
                if long { bid } else { ask },
            )
        } else if age < w.min_hold {
            return;
        } else if took {
            (SignalReason::TakeProfit, Origin::TakeProfit, s.take)
        } else if !w.regimes.contains(s.regime) && s.target != 0 {
            let p = Proposal::exit(
                SignalReason::RegimeExit,
                s.quote.book.mid().unwrap_or_default(),
            );
            self.set_target(seq, sym, holder, &p, 0, out);
            return;
        } else {
            return;
        };
        let p = Proposal::exit(reason, at);
        self.set_target(seq, sym, holder, &p, 0, out);
        self.close_part(seq, sym, qty, origin, out);
    }

    /// A round trip of `sym` ended with `pnl`: the holder's trip record
    /// grows (Kelly sizing) and its weight adapts.
    pub(super) fn strategy_trip<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        pnl: Money,
        out: &mut S,
    ) {
        let st = &mut self.symbols[usize::from(sym.0)];
        let (holder, notional) = (st.holder, std::mem::take(&mut st.trip_notional));
        if let Some(change) = self.signals.on_trip(holder, pnl, notional) {
            self.emit(seq, OutputBody::Weight(change), out);
        }
    }

    /// After a fill of an order with `plan` moved the position from `was`
    /// to `now` (raw quantities). A position that (re)opens belongs to the
    /// instance whose own order filled, with that order's stop and target;
    /// an operator's or protective fill leaves it to no instance.
    pub(super) fn strategy_fill(&mut self, sym: SymbolId, was: i64, now: i64, plan: &super::Plan) {
        let s = &mut self.symbols[usize::from(sym.0)];
        if now != 0 && (was == 0 || now.signum() != was.signum()) {
            s.holder = plan.strategy;
            s.stop = plan.stop;
            s.take = plan.take;
            if s.target == now || !plan.is_strategy() {
                s.owner = plan.strategy;
                s.plan = super::Plan::NONE;
            }
        }
        if now == 0 {
            s.holder = NO_STRATEGY;
            s.stop = Price::ZERO;
            s.take = Price::ZERO;
            if s.target == 0 {
                s.owner = NO_STRATEGY;
                s.plan = super::Plan::NONE;
            }
        }
    }

    /// Gives up the pursued target (vetoed, rejected, declined): the target
    /// is the position again, and the position's holder keeps it.
    pub(super) fn drop_target(&mut self, sym: SymbolId) {
        let s = &mut self.symbols[usize::from(sym.0)];
        s.target = s.position.qty().raw();
        s.owner = s.holder;
        s.plan = super::Plan::NONE;
    }
}
