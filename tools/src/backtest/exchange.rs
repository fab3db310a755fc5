//! The backtest's clock driver over the exchange model
//! (`autobot_exchange`, whose docs give the fill model): requests reach
//! the model at their cause's exchange time plus the latency, and its
//! reports go back to the core as input events.
//!
//! The one thing of its own is the `capture` latency model: an order's
//! latency adds the feed delay of the input that caused it (receive minus
//! exchange time, less the smallest such gap seen, which takes out the
//! capturing host's clock skew).

use std::collections::VecDeque;

use autobot_engine::config::CoreConfig;
use autobot_engine::event::{InputEvent, OutputEvent};
use autobot_engine::types::{Money, Qty, SymbolId, UnixNanos};
use autobot_exchange::{AccountRules, Exchange, ExchangeStats, FillConfig, Reports, Request};

use super::settings::{BacktestConfig, LatencyModel};

/// The simulated exchange of a backtest.
#[derive(Debug)]
pub struct SimExchange {
    model: Exchange,
    latency: LatencyModel,
    /// Smallest receive-minus-exchange gap seen (capture latency model).
    min_gap: Option<i64>,
    /// The model's reports (reused).
    out: Reports,
}

impl SimExchange {
    /// An exchange for the core's instruments and account.
    pub fn new(core: &CoreConfig, fills: &FillConfig, cfg: &BacktestConfig) -> SimExchange {
        let rules = AccountRules {
            wallet: core.account.starting_balance,
            leverage: core.account.leverage,
            funding_rate: cfg.funding_rate,
            funding_interval_hours: cfg.funding_interval_hours,
            liquidation_fee: cfg.liquidation_fee,
            bar_book_qty: cfg.bar_book_qty,
        };
        SimExchange {
            model: Exchange::new(fills, &rules, &core.instruments, &core.brackets),
            latency: cfg.latency,
            min_gap: None,
            out: VecDeque::with_capacity(256),
        }
    }

    /// Funding of `sym` comes from the data (a funding-rate file).
    pub fn funding_from_data(&mut self, sym: SymbolId) {
        self.model.funding_from_data(sym);
    }

    /// Counters.
    pub fn stats(&self) -> ExchangeStats {
        self.model.stats()
    }

    /// The exchange's wallet balance (after fees, funding, realized PnL).
    pub fn wallet(&self) -> Money {
        self.model.wallet()
    }

    /// The exchange's position of `sym`.
    pub fn position(&self, sym: SymbolId) -> Qty {
        self.model.position(sym).0
    }

    /// Requests still on their way, and orders held.
    pub fn open(&self) -> (usize, usize) {
        self.model.open()
    }

    /// Handles the next thing due at or before `t` into `reports`;
    /// `false` when nothing is due by `t`.
    #[inline]
    pub fn advance(&mut self, t: UnixNanos, reports: &mut VecDeque<InputEvent>) -> bool {
        let any = self.model.advance(t, &mut self.out);
        self.pass(reports);
        any
    }

    /// Everything still on its way arrives (the data has ended).
    pub fn finish(&mut self, reports: &mut VecDeque<InputEvent>) {
        self.model.finish(&mut self.out);
        self.pass(reports);
    }

    /// Takes one output of the core, caused by an input at `cause_time`
    /// whose feed gap (receive minus exchange time) was `gap_ns`.
    pub fn on_output(&mut self, out: &OutputEvent, cause_time: UnixNanos, gap_ns: Option<i64>) {
        let Some(request) = Request::from_core(out) else {
            return;
        };
        let mut extra = 0;
        if self.latency == LatencyModel::Capture
            && let (Some(gap), Some(min)) = (gap_ns, self.min_gap)
        {
            extra = u64::try_from(gap - min).unwrap_or(0);
        }
        self.model.submit(request, cause_time, extra);
    }

    /// The feed gap of an input (receive minus exchange time), tracked for
    /// the capture latency model; `None` for inputs without a receive time.
    pub fn observe_gap(&mut self, ev: &InputEvent) -> Option<i64> {
        if ev.header.recv.0 == 0 || ev.header.exchange.0 == 0 {
            return None;
        }
        let gap = i64::try_from(ev.header.recv.0)
            .ok()?
            .checked_sub(i64::try_from(ev.header.exchange.0).ok()?)?;
        self.min_gap = Some(self.min_gap.map_or(gap, |m| m.min(gap)));
        Some(gap)
    }

    /// Sees one market input after the core has.
    #[inline]
    pub fn on_market(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        self.model.on_market(ev, &mut self.out);
        self.pass(reports);
    }

    /// A synthetic book ticker quoting a bar's close, for bar data without
    /// a book.
    pub fn bar_quote(&self, ev: &InputEvent) -> Option<InputEvent> {
        self.model.bar_quote(ev)
    }

    /// Sees the quote `bar_quote` made, after the core has.
    pub fn on_bar_quote(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        self.model.on_bar_quote(ev, &mut self.out);
        self.pass(reports);
    }

    /// Hands the model's reports on as input events. Most inputs fill
    /// nothing, so the per-input path only tests for reports inline and
    /// calls this when there are some.
    #[inline]
    fn pass(&mut self, reports: &mut VecDeque<InputEvent>) {
        if !self.out.is_empty() {
            self.drain_reports(reports);
        }
    }

    #[cold]
    #[inline(never)]
    fn drain_reports(&mut self, reports: &mut VecDeque<InputEvent>) {
        reports.extend(self.out.drain(..).map(|r| r.input()));
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
