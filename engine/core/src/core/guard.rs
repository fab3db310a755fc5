//! What the core admits: every input is checked before it changes any
//! state, event time included. Core time advances only from admitted
//! inputs, and never by more than the window per input (`plausible`).
//!
//! # Rules
//! - **Market data and timers** (book tickers, trades, depth, marks,
//!   liquidations, klines, feed status, timer ticks) whose exchange time is
//!   further than the window from event time are refused, unless the next
//!   such input confirms a forward jump (a reconnect after an outage, a gap
//!   in backtest data): then time jumps, with a `TimeJump` alert. An input
//!   older than the window is refused.
//! - **The exchange's own reports** (order updates, rejections, account
//!   updates, funding) are applied whatever their time, since losing one
//!   would lose a fill; but only a time within the window moves event time.
//! - **Book tickers**: crossed or non-positive (counted as crossed), older
//!   update id (out of order; but three in a row, each newer than the last,
//!   re-anchor the book's id: its id came from a message that lied), an
//!   update id jumping further than `max_update_jump`, prices off the tick
//!   grid or sizes off the step grid, a mid further than `max_price_jump`
//!   from the last.
//! - **Trades**: non-positive (invalid), off the grid, larger than the
//!   instrument's maximum quantity, or further than `max_price_jump` from
//!   the mid (or the last trade when there is no book).
//! - **Marks**: non-positive (invalid), or further than `max_price_jump`
//!   from the mid (or the last mark).
//! - **Klines**: inconsistent (invalid).
//!
//! A refusal is counted by its reason and alerted; it never reaches the
//! book, the features, the strategies or the account.

use super::clock::TimeVerdict;
use super::{Core, OutputSink, SymbolState};
use crate::event::{AlertCode, BookTicker, InputBody, InputEvent, Kline, MarkPrice, Trade};
use crate::features::candles;
use crate::plausible::{Implausible, jumps, near};
use crate::types::{Price, Seq, SymbolId, UnixNanos};

/// Why an input is not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// A book ticker with bid ≥ ask or a non-positive price (alert value:
    /// the bid).
    Crossed(i64),
    /// A book ticker older than the one applied.
    OutOfOrder,
    /// A value no exchange sends (alert value: the raw field).
    Invalid(i64),
    /// Implausible for its reason.
    Implausible(Implausible),
}

/// The decision on one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Admit {
    /// Apply it; `advance`: its time moves event time.
    Apply { advance: bool },
    /// Refuse it.
    Refuse(Refused),
}

impl Core {
    /// Checks `ev`, stamped `time`, before anything changes.
    pub(super) fn admit<S: OutputSink>(
        &mut self,
        seq: Seq,
        ev: &InputEvent,
        time: UnixNanos,
        out: &mut S,
    ) -> Admit {
        let market = !matches!(
            ev.body,
            InputBody::OrderUpdate(_)
                | InputBody::OrderRejected(_)
                | InputBody::AccountUpdate(_)
                | InputBody::Funding(_)
                | InputBody::Operator(_)
                | InputBody::Prediction(_)
        );
        let advance = match self.admit_time(seq, time, market, out) {
            Ok(advance) => advance,
            Err(r) => return Admit::Refuse(r),
        };
        let sym = ev.header.symbol;
        let checked = match &ev.body {
            InputBody::BookTicker(t) => self.admit_ticker(sym, t),
            InputBody::AggTrade(t) => self.admit_trade(sym, t),
            InputBody::MarkPrice(m) => self.admit_mark(sym, m),
            InputBody::Kline(k) => admit_kline(k),
            // A forced order with no fill or no price is none the exchange sends.
            InputBody::Liquidation(l) if !l.filled_qty.is_positive() => {
                Err(Refused::Invalid(l.filled_qty.raw()))
            }
            InputBody::Liquidation(l) if !l.avg_price.is_positive() => {
                Err(Refused::Invalid(l.avg_price.raw()))
            }
            _ => Ok(()),
        };
        match checked {
            Ok(()) => Admit::Apply { advance },
            Err(r) => Admit::Refuse(r),
        }
    }

    /// `Ok(true)`: the time moves event time; `Ok(false)`: applied without
    /// moving it (a report stamped outside the window).
    fn admit_time<S: OutputSink>(
        &mut self,
        seq: Seq,
        time: UnixNanos,
        market: bool,
        out: &mut S,
    ) -> Result<bool, Refused> {
        match self.clock.judge(time, market, self.risk.limits.time_window) {
            TimeVerdict::Moves => Ok(true),
            TimeVerdict::Stays => Ok(false),
            TimeVerdict::Jumps(ms) => {
                let jump_ms = i64::try_from(ms).unwrap_or(i64::MAX);
                self.alert(seq, AlertCode::TimeJump, SymbolId(0), jump_ms, out);
                Ok(true)
            }
            TimeVerdict::Refused => Err(Refused::Implausible(Implausible::Time)),
        }
    }

    fn admit_ticker(&mut self, sym: SymbolId, t: &BookTicker) -> Result<(), Refused> {
        let (jump, band) = (
            self.risk.limits.max_update_jump,
            self.risk.limits.max_price_jump,
        );
        let s = self.symbol_mut(sym)?;
        if !t.bid_price.is_positive() || t.bid_price >= t.ask_price {
            return Err(Refused::Crossed(t.bid_price.raw()));
        }
        let ins = s.instrument;
        // Zero quantities are on every grid: `Grid::holds(0)` is true.
        let on_grid = ins.on_tick(t.bid_price)
            && ins.on_tick(t.ask_price)
            && ins.on_step(t.bid_qty)
            && ins.on_step(t.ask_qty);
        if !on_grid {
            return Err(Refused::Implausible(Implausible::OffGrid));
        }
        if !s.quote.book.is_valid() {
            return Ok(());
        }
        let last = s.quote.book.update_id;
        let mut reanchor = false;
        if t.update_id < last {
            // A run of tickers, each newer than the one before yet all
            // older than the book, means the book's id is the odd one out
            // (it came from a message that lied): after a few, the stream
            // wins, so no single message can freeze the book.
            let (prev, run) = s.quote.guards.behind;
            let run = if run > 0 && t.update_id > prev {
                run + 1
            } else {
                1
            };
            s.quote.guards.behind = (t.update_id, run);
            if run < REANCHOR_RUN {
                return Err(Refused::OutOfOrder);
            }
            reanchor = true;
        } else {
            s.quote.guards.behind = (0, 0);
            if !s
                .quote
                .guards
                .update_id
                .admits_id(Some(last), t.update_id, jump)
            {
                return Err(Refused::Implausible(Implausible::UpdateId));
            }
        }
        let mid = Price::mid(t.bid_price, t.ask_price);
        let was = s.quote.book.mid().unwrap_or(mid);
        confirm_price(&mut s.quote.guards.mid, mid, was, band)?;
        if reanchor {
            s.quote.guards.behind = (0, 0);
            // The book applies the ticker as if it were the first.
            s.quote.book.update_id = 0;
        }
        Ok(())
    }

    fn admit_trade(&mut self, sym: SymbolId, t: &Trade) -> Result<(), Refused> {
        let band = self.risk.limits.max_price_jump;
        let s = self.symbol_mut(sym)?;
        if !t.price.is_positive() || !t.qty.is_positive() {
            return Err(Refused::Invalid(t.price.raw()));
        }
        let ins = s.instrument;
        if !ins.on_tick(t.price) || !ins.on_step(t.qty) {
            return Err(Refused::Implausible(Implausible::OffGrid));
        }
        if t.qty > ins.max_qty {
            return Err(Refused::Implausible(Implausible::Quantity));
        }
        let reference = s.quote.book.mid().unwrap_or(s.quote.guards.last_trade);
        if reference.is_positive() {
            confirm_price(&mut s.quote.guards.trade, t.price, reference, band)?;
        }
        s.quote.guards.last_trade = t.price;
        Ok(())
    }

    fn admit_mark(&mut self, sym: SymbolId, m: &MarkPrice) -> Result<(), Refused> {
        let band = self.risk.limits.max_price_jump;
        let s = self.symbol_mut(sym)?;
        if !m.mark_price.is_positive() {
            return Err(Refused::Invalid(m.mark_price.raw()));
        }
        let reference = s.quote.book.mid().unwrap_or(s.quote.mark);
        if reference.is_positive() {
            confirm_price(&mut s.quote.guards.mark, m.mark_price, reference, band)?;
        }
        Ok(())
    }

    fn symbol_mut(&mut self, sym: SymbolId) -> Result<&mut SymbolState, Refused> {
        // Unknown symbols were refused before admission.
        self.symbols
            .get_mut(usize::from(sym.0))
            .ok_or(Refused::Invalid(i64::from(sym.0)))
    }

    /// Counts and alerts a refused input.
    pub(super) fn refuse_input<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        why: Refused,
        out: &mut S,
    ) {
        match why {
            Refused::Crossed(bid) => {
                self.stats.crossed += 1;
                self.alert(seq, AlertCode::CrossedBook, sym, bid, out);
            }
            // Normal on a combined stream: counted, not alerted.
            Refused::OutOfOrder => self.stats.out_of_order += 1,
            Refused::Invalid(raw) => {
                self.stats.invalid_inputs += 1;
                self.alert(seq, AlertCode::InvalidReport, sym, raw, out);
            }
            Refused::Implausible(r) => {
                self.stats.implausible[r as usize] += 1;
                self.alert(seq, AlertCode::ImplausibleInput, sym, r as i64, out);
            }
        }
    }
}

fn admit_kline(k: &Kline) -> Result<(), Refused> {
    candles::check(k).map_err(|_| Refused::Invalid(k.high.raw()))
}

/// A price `p` against `reference`: within the band clears the remembered
/// jump; beyond it, accepted only when it confirms the one remembered.
fn confirm_price(
    c: &mut crate::plausible::Candidate,
    p: Price,
    reference: Price,
    band: crate::types::Rate,
) -> Result<(), Refused> {
    if !jumps(p, reference, band) {
        c.clear();
        return Ok(());
    }
    if c.confirms(p.raw() as u64, |a, b| near(a, b, band)) {
        Ok(())
    } else {
        Err(Refused::Implausible(Implausible::PriceJump))
    }
}

/// Consistent out-of-order tickers in a row after which the stream's ids
/// replace the book's.
pub(super) const REANCHOR_RUN: u32 = 3;

/// The per-symbol memory of the checks.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub(super) struct SymbolGuards {
    /// A book ticker update id waiting for confirmation.
    pub update_id: crate::plausible::Candidate,
    /// A book mid waiting for confirmation.
    pub mid: crate::plausible::Candidate,
    /// A trade price waiting for confirmation.
    pub trade: crate::plausible::Candidate,
    /// A mark price waiting for confirmation.
    pub mark: crate::plausible::Candidate,
    /// The last trade admitted (the reference when there is no book).
    pub last_trade: Price,
    /// The newest of a run of tickers older than the book, and the run's
    /// length.
    pub behind: (u64, u32),
}
