//! The liquidation watch and the maximum hold time, run for a symbol each
//! time its mark (or mid) moves.
//!
//! Distance to liquidation = |mark − liquidation price| / mark (Binance's
//! cross-margin formula, `types::margin`). Below `alert` the watch alerts,
//! below `reduce` it halves the position, below `close` it closes it, each
//! once per descent: the stage acted on is remembered and re-armed when the
//! distance climbs back above `alert` (or the position is re-opened). An
//! action waits while an order of the symbol is in flight. The exchange's
//! margin call moves the watch on a stage (`on_margin_call`).

use super::{Core, Intent, OutputSink};
use crate::event::{AlertCode, Origin};
use crate::types::{Qty, Rate, Seq, Side, SymbolId, closer_than, liquidation_distance};

impl Core {
    pub(super) fn watch<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        let i = usize::from(sym.0);
        // The few fields needed, not a copy of the whole (large) symbol
        // state: this runs on every mark move while a position is open.
        let s = &self.symbols[i];
        let held = s.position.qty();
        if held.is_zero() {
            return;
        }
        let (opened_at, cost16, watched) = (s.opened_at, s.position.cost16(), s.watch);
        let mark = s.mark_or_mid();
        let busy = self.orders.has_open(sym);
        let l = &self.risk.limits;
        let (close_at, reduce_at, alert_at) = (l.watch_close, l.watch_reduce, l.watch_alert);
        if l.max_hold > 0 && !busy && self.clock.now().0.saturating_sub(opened_at.0) >= l.max_hold {
            self.close_part(seq, sym, held, Origin::MaxHold, out);
            return;
        }
        let Some(mark) = mark else { return };
        let margin = self.cross_margin(sym);
        let st = &mut self.symbols[i];
        let lp = st.liq.price(&st.brackets, held, cost16, mark, margin);
        // The stages compare without dividing: this runs on every mark move.
        let near = |min: Rate| lp.is_some_and(|lp| closer_than(mark, lp, min));
        let stage = if near(close_at) {
            3
        } else if near(reduce_at) {
            2
        } else if near(alert_at) {
            1
        } else {
            0
        };
        if stage == 0 {
            self.symbols[i].watch = 0;
            return;
        }
        if stage <= watched || (stage > 1 && busy) {
            return;
        }
        let distance = lp
            .and_then(|lp| liquidation_distance(mark, lp))
            .unwrap_or(Rate::MAX);
        self.alert(seq, AlertCode::LiquidationNear, sym, distance.raw(), out);
        self.watch_act(seq, sym, stage, out);
    }

    /// The exchange's margin call on `sym`: alerted, and the watch moves on
    /// a stage from where it stands (none or alerted → halve, halved →
    /// close), since the exchange says the position is nearer liquidation
    /// than the watch's own estimate may. Waits, like the watch, while an
    /// order of the symbol is in flight.
    pub(super) fn on_margin_call<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        let i = usize::from(sym.0);
        let held = self.symbols[i].position.qty();
        self.alert(seq, AlertCode::MarginCall, sym, held.raw(), out);
        if held.is_zero() || self.orders.has_open(sym) {
            return;
        }
        let stage = self.symbols[i].watch.max(1).saturating_add(1).min(3);
        self.watch_act(seq, sym, stage, out);
    }

    /// Acts on watch `stage` for `sym` and remembers it: 2 halves the
    /// position, 3 closes it (1 only alerts, which the caller did).
    fn watch_act<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, stage: u8, out: &mut S) {
        let i = usize::from(sym.0);
        let held = self.symbols[i].position.qty();
        self.stats.watch_actions += 1;
        self.symbols[i].watch = stage;
        match stage {
            3 => self.close_part(seq, sym, held, Origin::LiquidationWatch, out),
            2 => {
                let abs = held.checked_abs().unwrap_or(Qty::MAX);
                let half = self.symbols[i]
                    .instrument
                    .round_qty(Qty::from_raw(abs.raw() / 2))
                    .filter(|q| q.is_positive())
                    .unwrap_or(abs);
                self.close_part(
                    seq,
                    sym,
                    Qty::from_raw(half.raw() * held.raw().signum()),
                    Origin::LiquidationWatch,
                    out,
                );
            }
            _ => {}
        }
    }

    /// Sends a reduce-only market order taking `qty` (signed like the
    /// position) off the position.
    pub(super) fn close_part<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        qty: Qty,
        origin: Origin,
        out: &mut S,
    ) {
        let side = if qty.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        };
        let abs = qty.checked_abs().unwrap_or(Qty::MAX);
        // The strategy must not buy back what the watch sells.
        let s = &mut self.symbols[usize::from(sym.0)];
        s.target = s.position.qty().raw().saturating_sub(qty.raw());
        self.submit(seq, Intent::market(sym, side, abs, origin), out);
    }
}
