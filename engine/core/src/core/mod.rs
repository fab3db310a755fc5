//! The business-logic core: a deterministic state machine over input events.
//!
//! # What it owns
//! Top of book, L2 books, features, regimes, mark price, funding and
//! volatility per symbol; the strategy instances (`strategies`); positions and the margin account (balance, equity, daily PnL,
//! drawdown); the order pool; the veto chain and its audit records; circuit
//! breakers, the liquidation watch, control modes and system states;
//! pending SemiAuto approvals; and the running digest of every output.
//!
//! Owned parts (each with its own state, rules and tests, returning what
//! happened for `Core` to record): `clock` (event time), `quote` (one
//! symbol's market: book, mark, funding, volatility, staleness), `signals`
//! (features, regimes, strategy instances, weights, trip records),
//! `control` (kill switch, mode, state, conditions, breakers), `risk`
//! (limits, correlations, veto levels 3, 4 and 6), `account` (money and
//! the wallet's reconciliation), `orders` (the pool and its transition
//! table) and `approvals` (orders parked for the operator).
//!
//! # Invariants
//! - Reads no clock, does no I/O, uses no randomness and iterates no hash map:
//!   the outputs are a function of the input sequence alone, which is why
//!   replaying the journal reproduces them (and the digest) bit for bit.
//!   Time is event time: the largest exchange time seen, or a timer's.
//! - Allocates only in [`Core::new`]; `on_event` never allocates
//!   (`tests/no_alloc.rs` proves it with a counting allocator).
//! - Every order intent produces exactly one audit record (approved, pending,
//!   or the vetoing rule with the values compared) before any order leaves;
//!   an order that adds risk is sent only where `allowed` says so, and one
//!   that only reduces |position| is never refused by levels 1–2.
//! - An execution report is applied at most once, and only as the order
//!   state machine's one transition table allows (`order_state`);
//!   duplicates, illegal transitions, impossible values and reports for
//!   unknown orders are counted and alerted, never applied.
//! - `balance = start + realized − fees + funding` (see `account`).

mod account;
mod advisor;
mod allowed;
mod approvals;
mod clock;

mod control;
mod correlation;
mod digest;
mod execution;
pub mod explain;
mod guard;
mod kelly;
mod market;
mod operator;
mod order_state;
mod orders;
mod portfolio;
mod position;
mod protect;
mod quote;
mod risk;
mod signals;
mod state;
mod strategies;
mod veto;
mod view;
mod volatility;
mod watch;

pub use crate::depth::{BookReject, TopOfBook};
pub use account::Account;
pub use advisor::{AdvisorStats, MAX_MODELS, fuse};
pub use allowed::{Effect, Gate, gate, render_markdown as allowed_table, takes_new_risk};
use approvals::Approvals;
pub use approvals::{MAX_PENDING_APPROVALS, Pending};
use clock::EventClock;
use control::Control;
pub use control::{Conditions, Hold, MODE_TABLE, ModeProfile, ModeRefusal, ModeRule, mode_rule};
pub use correlation::Correlations;
pub use digest::{DIGEST_SEED, OutputDigest};
pub use kelly::TripRecord;
pub use operator::{
    CommandResult, KILL_FLATTEN, RESET_OVERRIDE_DAY_LOSS, RESET_OVERRIDE_DRAWDOWN, Refusal,
};
pub use order_state::{OrderEvent, OrderState, Step, TABLE as ORDER_TRANSITIONS};
pub use orders::{OpenOrder, OrderTable, UpdateCheck};
pub use position::{Position, PositionOverflow};
use quote::Quote;
pub use risk::Limits;
use risk::Risk;
use signals::Signals;
pub use signals::TripTotals;
pub use veto::{Intent, Plan};
pub use view::{AccountView, BookView, CoreView, OrderView, StatsView, SymbolView};
pub use volatility::Volatility;

use crate::config::CoreConfig;
use crate::depth::DepthBook;
use crate::event::{
    Alert, AlertCode, ControlMode, FeedStatus, INPUT_KINDS, InputBody, InputEvent, OrderKind,
    OutputBody, OutputEvent, SystemState,
};
use crate::types::{Brackets, ClientOrderId, Instrument, Money, Price, Seq, SymbolId, UnixNanos};

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
    /// Vetoes by rule (see [`CoreStats::vetoes_by`]).
    pub vetoes_by_rule: RuleCounts,
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
    /// Strategy signals that changed a targeted position.
    pub signals: u64,
    /// Entry proposals in a regime the instance does not trade.
    pub signals_off_regime: u64,
    /// Entry proposals while another instance held the symbol.
    pub signals_shadowed: u64,
    /// Entry proposals held back while no new risk is taken (kill switch,
    /// SAFE_MODE / HALTED / STOPPED, a reduce-only control mode).
    pub signals_held: u64,
    /// Proposals repeating one whose order was vetoed (not acted on).
    pub signals_repeated: u64,
    /// Entry proposals whose risk size rounds to less than one step (the
    /// configured risk or notional buys nothing at the price: not acted on).
    pub signals_too_small: u64,
    /// Entry proposals whose expected move does not cover `min_edge`
    /// round-trip costs (fee-aware entries).
    pub signals_below_cost: u64,
    /// Entry proposals of an instance the operator disabled.
    pub signals_disabled: u64,
    /// Entry proposals while HIGH_VOL with `high_vol_size = 0`.
    pub signals_high_vol: u64,
    /// Regime changes.
    pub regime_changes: u64,
    /// Gaps in a symbol's bars after which its indicators warmed up again
    /// (`[strategy] gap_bars`).
    pub gap_restarts: u64,
    /// Events naming a symbol that is not configured.
    pub unknown_symbols: u64,
    /// L2 book resyncs (gaps, bad levels, crossed books, torn diffs).
    pub depth_resyncs: u64,
    /// Reports and market events with impossible values (not applied).
    pub invalid_inputs: u64,
    /// Inputs refused as implausible, by `plausible::Implausible` reason.
    pub implausible: crate::plausible::ImplausibleCounts,
    /// Operator commands refused (unknown id, not allowed now).
    pub operator_refused: u64,
    /// Control-mode changes refused.
    pub mode_refusals: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Cancels the exchange refused.
    pub cancel_rejects: u64,
    /// Funding payments applied.
    pub fundings: u64,
    /// Orders that waited for the operator (SemiAuto).
    pub approvals_requested: u64,
    /// Liquidation-watch actions (alerts, reductions, closes).
    pub watch_actions: u64,
    /// Event time spent in each system state (ns), indexed by
    /// `SystemState as usize`.
    pub state_ns: [u64; 5],
}

impl CoreStats {
    /// The share of event time spent in RUNNING, DEGRADED, SAFE_MODE and
    /// HALTED (STOPPED left out), as fractions summing to 1 (all zero
    /// before any time passed).
    pub fn state_shares(&self) -> [f64; 4] {
        let total: u64 = self.state_ns[..4].iter().sum();
        if total == 0 {
            return [0.0; 4];
        }
        std::array::from_fn(|i| self.state_ns[i] as f64 / total as f64)
    }
}

/// Slots of [`RuleCounts`]: one per `Rule` number (the largest is 66).
pub const RULE_SLOTS: usize = 67;

/// A count per veto-chain rule, indexed by `Rule as u8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct RuleCounts(pub [u64; RULE_SLOTS]);

impl Default for RuleCounts {
    fn default() -> Self {
        RuleCounts([0; RULE_SLOTS])
    }
}

impl RuleCounts {
    /// One more for `rule`.
    pub fn add(&mut self, rule: crate::event::Rule) {
        if let Some(c) = self.0.get_mut(usize::from(rule as u8)) {
            *c += 1;
        }
    }

    /// The count of `rule`.
    pub fn get(&self, rule: crate::event::Rule) -> u64 {
        self.0.get(usize::from(rule as u8)).copied().unwrap_or(0)
    }

    /// The rules with a count, largest first (ties in rule order).
    pub fn ranked(&self) -> Vec<(crate::event::Rule, u64)> {
        let mut v: Vec<_> = crate::event::Rule::ALL
            .iter()
            .map(|&r| (r, self.get(r)))
            .filter(|&(_, n)| n > 0)
            .collect();
        v.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        v
    }
}

/// Per-symbol state.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct SymbolState {
    instrument: Instrument,
    brackets: Brackets,
    /// Correlation group + 1 (0: none).
    group: u8,
    /// What the market says of the symbol.
    quote: Quote,
    /// Signed position the strategies want.
    target: i64,
    /// Strategy instance whose target is pursued, or the holder while the
    /// position is the target (`NO_STRATEGY`: none).
    owner: u8,
    /// The plan (instance, stop, target) of the targeted position while an
    /// order toward it is wanted: it goes out with the order, and becomes
    /// the holder's only when that order fills.
    plan: Plan,
    /// Strategy instance whose own order opened the position
    /// (`NO_STRATEGY`: an operator's fill or none).
    holder: u8,
    /// Stop-loss level of the holder's position (zero: none).
    stop: Price,
    /// Take-profit level (zero: none).
    take: Price,
    /// Regime of the symbol.
    regime: crate::regime::Regime,
    /// The instance and stance whose order was last vetoed, not re-proposed
    /// until that instance proposes something else.
    refused: (u8, crate::event::Stance),
    position: Position,
    /// Unrealized PnL at the last mark, as booked in the account.
    unrealized: Money,
    /// Liquidation-watch stage acted on (0 none, 1 alerted, 2 reduced, 3 closing).
    watch: u8,
    /// The watch's last liquidation price and its inputs.
    liq: crate::types::LiquidationMemo,
    /// When the current position was opened.
    opened_at: UnixNanos,
    /// Realized PnL net of fees of the current round trip.
    trip: Money,
    /// Largest entry notional (|position| × average entry) of the round
    /// trip: what its return is measured on.
    trip_notional: Money,
    /// Reconciliation: 0 agrees, 1 differed once (not yet believed), 2
    /// drifting (alerted, counted in `Conditions::drifting`).
    drift: u8,
    /// Maker-first: cancel-replaces of the current entry so far.
    maker_tries: u8,
    /// The protective stop and target the exchange refused or expired for
    /// the current position, not placed again until the position or its
    /// level changes.
    refused_guards: [Option<protect::Guard>; 2],
}

impl SymbolState {
    /// Market data is flowing and the gateway says the feed is healthy.
    fn feed_ok(&self) -> bool {
        self.quote.feed_ok()
    }

    /// Mark price, or the mid before any mark-price event.
    fn mark_or_mid(&self) -> Option<Price> {
        self.quote.mark_or_mid()
    }
}

/// The deterministic business-logic core.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Core {
    symbols: Vec<SymbolState>,
    /// L2 book per symbol (apart from `SymbolState`, which is small and
    /// `Copy`; a book is about 100 KB).
    depth: Vec<DepthBook>,
    /// Features, regimes, strategy instances, weights and trip records.
    signals: Signals,
    /// Feature vectors for the advisor, its predictions and its rule.
    advisor: advisor::Advisor,
    orders: OrderTable,
    /// Orders parked for the operator (SemiAuto).
    approvals: Approvals,
    /// Limits, correlations and the rules that judge an order by them.
    risk: Risk,
    /// Kill switch, control mode, system state and its conditions.
    control: Control,
    account: Account,
    /// Event time (see `clock`).
    clock: EventClock,
    /// Client ids taken by the current input (`ClientOrderId::derive` index).
    ids_used: u8,
    /// When the stale-feed scan is next due (event time).
    next_stale_scan: UnixNanos,
    /// When the resting-limit scan (cancel-replace) is next due.
    next_replace_scan: UnixNanos,
    /// What the last operator command did (for the operator's answer).
    last_command: CommandResult,
    digest: OutputDigest,
    stats: CoreStats,
    last_seq: Option<Seq>,
}

impl Core {
    /// A core with all of its memory allocated (the warm-up).
    pub fn new(cfg: &CoreConfig) -> Core {
        let group_of = |name: &str| {
            cfg.risk
                .portfolio
                .correlated
                .iter()
                .position(|g| g.iter().any(|n| n == name))
                .map_or(0, |g| (g + 1).min(255) as u8)
        };
        let symbols = cfg
            .instruments
            .iter()
            .enumerate()
            .map(|(i, ins)| SymbolState {
                instrument: *ins,
                brackets: cfg.brackets.get(i).copied().unwrap_or_default(),
                group: group_of(ins.name.as_str()),
                quote: Quote::new(cfg.risk.forbidden.volatility_span),
                target: 0,
                owner: strategies::NO_STRATEGY,
                plan: Plan::NONE,
                holder: strategies::NO_STRATEGY,
                stop: Price::ZERO,
                take: Price::ZERO,
                regime: crate::regime::Regime::Range,
                refused: (strategies::NO_STRATEGY, crate::event::Stance::Flat),
                position: Position::default(),
                unrealized: Money::ZERO,
                watch: 0,
                liq: crate::types::LiquidationMemo::default(),
                opened_at: UnixNanos(0),
                trip: Money::ZERO,
                trip_notional: Money::ZERO,
                drift: 0,
                maker_tries: 0,
                refused_guards: [None; 2],
            })
            .collect();
        Core {
            depth: (0..cfg.instruments.len())
                .map(|_| DepthBook::new())
                .collect(),
            signals: Signals::new(cfg),
            advisor: advisor::Advisor::new(cfg),
            symbols,
            orders: OrderTable::with_capacity(cfg.risk.max_open_orders),
            approvals: Approvals::new(),
            risk: Risk::new(cfg),
            control: Control::new(cfg.control.mode.into()),
            account: Account::new(cfg.account.starting_balance),
            clock: EventClock::default(),
            ids_used: 0,
            next_stale_scan: UnixNanos(0),
            next_replace_scan: UnixNanos(u64::MAX),
            last_command: CommandResult::default(),
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
            InputBody::BookTicker(_)
                | InputBody::AggTrade(_)
                | InputBody::Kline(_)
                | InputBody::FeedStatus(_)
                | InputBody::MarkPrice(_)
                | InputBody::Depth(_)
                | InputBody::Funding(_)
                | InputBody::Prediction(_)
                | InputBody::Liquidation(_)
        );
        if needs_symbol && usize::from(sym.0) >= self.symbols.len() {
            self.stats.unknown_symbols += 1;
            self.alert(seq, AlertCode::UnknownSymbol, sym, i64::from(sym.0), out);
            return;
        }
        let time = match &ev.body {
            InputBody::Timer(t) => t.now,
            _ => ev.header.exchange,
        };
        match self.admit(seq, ev, time, out) {
            guard::Admit::Apply { advance: true } => self.advance_time(seq, time, out),
            guard::Admit::Apply { advance: false } => self.ids_used = 0,
            guard::Admit::Refuse(why) => {
                self.ids_used = 0;
                self.refuse_input(seq, sym, why, out);
                return;
            }
        }
        match &ev.body {
            InputBody::BookTicker(t) => self.on_book_ticker(seq, sym, t, ev.header.exchange, out),
            InputBody::AggTrade(t) => self.on_trade(seq, sym, t, ev.header.exchange, out),
            InputBody::Kline(k) => {
                let bar = u64::from(k.interval_secs) * 1_000_000_000;
                if self.symbols[usize::from(sym.0)]
                    .quote
                    .on_bar(ev.header.exchange, bar)
                {
                    self.recount_stale(seq, out);
                }
                self.on_kline(seq, sym, k, out);
            }
            InputBody::MarkPrice(m) => self.on_mark_price(seq, sym, m, ev.header.exchange, out),
            InputBody::OrderUpdate(u) if u.client_id == ClientOrderId::EXCHANGE_CLOSE => {
                self.on_exchange_close(seq, sym, u, out);
            }
            InputBody::OrderUpdate(u) => self.on_order_update(seq, u, out),
            InputBody::OrderRejected(r) => self.on_order_rejected(seq, r, out),
            InputBody::Operator(c) => self.on_operator(seq, sym, c, out),
            InputBody::FeedStatus(FeedStatus { health, .. }) => {
                self.symbols[usize::from(sym.0)].quote.feed = *health;
                self.recount_stale(seq, out);
            }
            InputBody::Depth(d) => self.on_depth(seq, sym, d, ev.header.exchange, out),
            InputBody::AccountUpdate(a) => self.on_account_update(seq, sym, a, out),
            InputBody::Funding(f) => self.on_funding(seq, sym, f, out),
            InputBody::Prediction(p) => self.on_prediction(seq, sym, p, out),
            InputBody::Liquidation(l) => self.signals.on_liquidation(sym, ev.header.exchange, l),
            InputBody::Timer(_) => {}
        }
    }

    /// Counts and alerts an execution report that is not applied.
    fn refuse_update<S: OutputSink>(
        &mut self,
        seq: Seq,
        id: crate::types::ClientOrderId,
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
        let ev = OutputEvent {
            cause,
            body,
            recv: crate::types::MonoNanos(0),
        };
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

    /// The advisor's counters.
    pub fn advisor_stats(&self) -> &AdvisorStats {
        &self.advisor.stats
    }

    /// The newest prediction of registry model `model` about `sym`:
    /// (score, confidence, the features' input, the bar's event time).
    pub fn prediction(&self, sym: SymbolId, model: u8) -> Option<(u32, u32, Seq, UnixNanos)> {
        self.advisor.prediction(sym, model)
    }

    /// What the last operator command did: refused and why, the first veto
    /// of an order it caused.
    pub fn last_command(&self) -> &CommandResult {
        &self.last_command
    }

    /// Current system state.
    pub fn state(&self) -> SystemState {
        self.control.state()
    }

    /// Current control mode.
    pub fn mode(&self) -> ControlMode {
        self.control.mode()
    }

    /// The margin account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Event time (largest exchange or timer time seen).
    pub fn now(&self) -> UnixNanos {
        self.clock.now()
    }

    /// The conditions holding the system state.
    pub fn conditions(&self) -> &Conditions {
        self.control.conditions()
    }

    /// The L2 book of `sym`.
    pub fn depth(&self, sym: SymbolId) -> Option<&DepthBook> {
        self.depth.get(usize::from(sym.0))
    }

    /// The limits in force (the rulebook as configured).
    pub fn limits(&self) -> &Limits {
        &self.risk.limits
    }

    /// Strategy instances configured.
    pub fn strategy_count(&self) -> usize {
        self.signals.instances()
    }

    /// Instance `k`: whether the operator lets it open positions, and its
    /// closed round trips.
    pub fn strategy_totals(&self, k: usize) -> Option<(bool, TripTotals)> {
        let enabled = k < self.signals.instances() && self.signals.weight(k).enabled;
        self.signals.totals(k).map(|t| (enabled, t))
    }

    /// Instance `k` on `sym`: when its indicators became warm (event time;
    /// `None`: not yet) and what its warm-up is.
    pub fn strategy_readiness(
        &self,
        k: usize,
        sym: SymbolId,
    ) -> Option<(Option<UnixNanos>, crate::strategy::Warmup)> {
        (k < self.signals.instances() && usize::from(sym.0) < self.symbols.len())
            .then(|| self.signals.readiness(k, sym))
    }

    /// Pending SemiAuto approvals.
    pub fn pending_approvals(&self) -> impl Iterator<Item = &Pending> {
        self.approvals.iter()
    }

    /// `true` while the kill switch is engaged.
    pub fn kill_switch(&self) -> bool {
        self.control.kill_switch()
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

    /// The signed position the strategies want for a symbol (raw `Qty`):
    /// what the core's orders pursue; the position itself while no
    /// strategy wants a change.
    pub fn target(&self, sym: SymbolId) -> Option<i64> {
        self.symbols.get(usize::from(sym.0)).map(|s| s.target)
    }

    /// Top of book of a symbol.
    pub fn book(&self, sym: SymbolId) -> Option<&TopOfBook> {
        self.symbols.get(usize::from(sym.0)).map(|s| &s.quote.book)
    }

    /// Number of open orders.
    pub fn open_orders(&self) -> usize {
        self.orders.open_count()
    }

    /// The open orders themselves (allocates; not for the hot path).
    pub fn open_order_list(&self) -> Vec<OpenOrder> {
        self.orders.iter().copied().collect()
    }

    /// The order with this client id, live or recently ended.
    pub fn order(&self, id: crate::types::ClientOrderId) -> Option<&OpenOrder> {
        self.orders.get(id)
    }

    /// Mark price of a symbol (the mid before any mark-price event).
    pub fn mark(&self, sym: SymbolId) -> Option<Price> {
        self.symbols.get(usize::from(sym.0))?.mark_or_mid()
    }

    /// Unrealized PnL of a symbol's position at the last mark, as booked
    /// in the account (zero for an unknown symbol).
    pub fn unrealized(&self, sym: SymbolId) -> Money {
        self.symbols
            .get(usize::from(sym.0))
            .map_or(Money::ZERO, |s| s.unrealized)
    }

    /// A symbol's market-data feed: the gateway's report, the core's own
    /// staleness verdict and when data last came. Copies.
    pub fn feed(&self, sym: SymbolId) -> Option<FeedView> {
        let q = &self.symbols.get(usize::from(sym.0))?.quote;
        Some(FeedView {
            health: q.feed,
            stale: q.stale,
            last_data_ns: q.last_data.0,
        })
    }

    /// What the operator's screen shows of a symbol beside its position:
    /// regime, the holder's stop and target, the holding instance and the
    /// liquidation watch's last price. Copies; allocates nothing.
    pub fn holding(&self, sym: SymbolId) -> Option<Holding> {
        let s = self.symbols.get(usize::from(sym.0))?;
        let nonzero = |p: Price| p.is_positive().then_some(p);
        // The exchange-side guards: only while a position is open (the
        // table is walked only then).
        let guard = |kind: OrderKind| {
            if s.position.qty().is_zero() {
                return None;
            }
            self.orders
                .iter()
                .find(|o| {
                    o.symbol == sym
                        && o.kind == kind
                        && o.state == OrderState::Accepted
                        && !o.cancel_sent
                })
                .map(|o| o.price)
        };
        Some(Holding {
            exchange_stop: guard(OrderKind::StopMarket),
            exchange_take: guard(OrderKind::TakeProfitMarket),
            regime: s.regime,
            stop: nonzero(s.stop),
            take: nonzero(s.take),
            holder: (s.holder != strategies::NO_STRATEGY).then_some(s.holder),
            liquidation: if s.position.qty().is_zero() {
                None
            } else {
                s.liq.last()
            },
        })
    }
}

/// See [`Core::feed`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedView {
    /// Health the market gateway last reported.
    pub health: crate::event::FeedHealth,
    /// No data for longer than the stale limit, in event time.
    pub stale: bool,
    /// Exchange time of the last market data, Unix ns (0: none yet).
    pub last_data_ns: u64,
}

/// See [`Core::holding`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Holding {
    /// The symbol's regime.
    pub regime: crate::regime::Regime,
    /// The holder's stop-loss level.
    pub stop: Option<Price>,
    /// The holder's take-profit level.
    pub take: Option<Price>,
    /// The strategy instance holding the position (none: an operator's
    /// fill, or flat).
    pub holder: Option<u8>,
    /// Liquidation price, as the liquidation watch last computed it.
    pub liquidation: Option<Price>,
    /// The stop resting at the exchange (acknowledged), its trigger.
    pub exchange_stop: Option<Price>,
    /// The take-profit resting at the exchange, its trigger.
    pub exchange_take: Option<Price>,
}

#[cfg(test)]
mod gap_tests;
#[cfg(test)]
mod liquidation_tests;
#[cfg(test)]
mod sizing_tests;
#[cfg(test)]
mod tests;
