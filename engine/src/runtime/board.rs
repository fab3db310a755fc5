//! The status board: a copy of the core's headline state that other threads
//! can read while the core runs (operator `status`, metrics).
//!
//! # Why a board and not a query to the core
//! The core answers only journaled inputs and emits only outputs that are
//! part of its digest; a status question answered by the core would have to
//! be journaled and would move nothing. So the core thread, outside the
//! core, copies a fixed set of numbers into atomics after each batch: no
//! allocation, no lock, no effect on what the core decides.
//!
//! # Consistency
//! A sequence lock over plain atomics: the writer makes `version` odd,
//! stores every field, then makes it even again (release). A reader copies
//! the fields between two equal, even loads of `version` (acquire) and
//! retries otherwise, so a snapshot is never torn across a batch. There is
//! one writer (the core thread).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering, fence};

use crate::core::{AccountView, CommandResult, Core, MAX_PENDING_APPROVALS};
use crate::event::{ControlMode, SystemState};
use crate::types::{ClientOrderId, Money, Price, Qty, Rate, Seq, Side, SymbolId};

/// What the last operator command did, as counted by the core while it
/// processed that one input (exact: not mixed with the rest of its batch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CommandOutcome {
    /// Orders sent (an operator order, flatten's closing orders).
    pub orders: u64,
    /// Order intents the veto chain refused.
    pub vetoes: u64,
    /// Orders parked for approval.
    pub pending: u64,
    /// 1 if the core refused the command itself (unknown id, symbol,
    /// argument, a mode change the table refuses, a reset that left the
    /// system halted).
    pub refused: u64,
    /// Why, and the first veto of an order it caused.
    pub result: CommandResult,
}

impl CommandOutcome {
    fn counters(core: &Core) -> [u64; 3] {
        let s = core.stats();
        [s.orders, s.vetoes, s.approvals_requested]
    }

    /// Counts what `process` (one operator input) did to the core.
    pub fn of(core: &mut Core, process: impl FnOnce(&mut Core)) -> CommandOutcome {
        let before = Self::counters(core);
        process(core);
        let after = Self::counters(core);
        let d = |i: usize| after[i].saturating_sub(before[i]);
        let result = *core.last_command();
        CommandOutcome {
            orders: d(0),
            vetoes: d(1),
            pending: d(2),
            refused: u64::from(result.refusal.is_some() || result.mode_refusal.is_some()),
            result,
        }
    }
}

/// Words of [`result_words`].
const RESULT_WORDS: usize = 7;

/// A command's result as words: the refusal, the mode refusal, then the
/// veto (a flag word with its small fields, its id, quantity, value and
/// limit). Zero words mean "none".
fn result_words(r: &CommandResult) -> [u64; RESULT_WORDS] {
    let refusal = r.refusal.map_or(0, |x| x as u64);
    let mode = r
        .mode_refusal
        .map_or(0, |(to, why)| 1 + ((to as u64) << 8 | why as u64));
    let Some(a) = r.veto else {
        return [refusal, mode, 0, 0, 0, 0, 0];
    };
    let small = 1
        | u64::from(a.symbol.0) << 8
        | (a.rule as u64) << 24
        | u64::from(a.side == Side::Sell) << 32
        | (a.origin as u64) << 40
        | (a.verdict as u64) << 48;
    [
        refusal,
        mode,
        small,
        a.id.0,
        a.qty.raw() as u64,
        a.value as u64,
        a.limit as u64,
    ]
}

/// [`result_words`] back (a word that names no known value reads as none).
fn result_of(w: [u64; RESULT_WORDS]) -> CommandResult {
    use crate::core::{ModeRefusal, Refusal};
    use crate::event::{Origin, Rule, Verdict};
    let refusal = Refusal::ALL.into_iter().find(|r| *r as u64 == w[0]);
    let mode_refusal = w[1].checked_sub(1).and_then(|m| {
        let to = ControlMode::from_index(m >> 8)?;
        let why = ModeRefusal::ALL
            .into_iter()
            .find(|r| *r as u64 == m & 0xff)?;
        Some((to, why))
    });
    let small = w[2];
    let veto = (small & 1 == 1).then(|| {
        let byte = |shift: u32| ((small >> shift) & 0xff) as u8;
        crate::event::Audit {
            id: ClientOrderId(w[3]),
            symbol: SymbolId(((small >> 8) & 0xffff) as u16),
            verdict: Verdict::ALL
                .into_iter()
                .find(|v| *v as u8 == byte(48))
                .unwrap_or(Verdict::Vetoed),
            rule: Rule::ALL
                .into_iter()
                .find(|r| *r as u8 == byte(24))
                .unwrap_or_default(),
            side: if byte(32) == 1 { Side::Sell } else { Side::Buy },
            origin: Origin::ALL
                .into_iter()
                .find(|o| *o as u8 == byte(40))
                .unwrap_or_default(),
            qty: Qty::from_raw(w[4] as i64),
            value: w[5] as i64,
            limit: w[6] as i64,
        }
    });
    CommandResult {
        refusal,
        mode_refusal,
        veto,
    }
}

/// One symbol's row.
#[derive(Default)]
struct SymbolRow {
    position: AtomicI64,
    /// Average entry price (0: flat).
    entry: AtomicI64,
    /// Mark price, or the mid before any mark (0: no book yet).
    mark: AtomicI64,
    unrealized: AtomicI64,
    realized: AtomicI64,
    fills: AtomicU64,
    /// [`crate::event::Regime`] as its index.
    regime: AtomicU8,
    /// The holder's stop and target (0: none).
    stop: AtomicI64,
    take: AtomicI64,
    /// Holding instance ([`NO_HOLDER`]: none).
    holder: AtomicU8,
    /// The liquidation watch's last price (0: none).
    liquidation: AtomicI64,
    /// The exchange-side stop and take-profit triggers (0: none).
    exchange_stop: AtomicI64,
    exchange_take: AtomicI64,
    /// [`crate::event::FeedHealth`] as its number.
    feed_health: AtomicU8,
    feed_stale: AtomicBool,
    /// Exchange time of the last market data (ns).
    last_data: AtomicU64,
}

/// [`SymbolRow::holder`] when no instance holds the position.
const NO_HOLDER: u8 = u8::MAX;

/// [`SymbolRow::feed_health`] back to the enum (an unknown number, which
/// the one writer never stores, reads as healthy).
fn feed_health(n: u8) -> crate::event::FeedHealth {
    use crate::event::FeedHealth as F;
    [F::Healthy, F::Stale, F::Disconnected, F::Resyncing]
        .into_iter()
        .find(|h| *h as u8 == n)
        .unwrap_or_default()
}

/// One order waiting for approval.
#[derive(Default)]
struct PendingRow {
    id: AtomicU64,
    symbol: AtomicU64,
    /// 0 buy, 1 sell.
    side: AtomicU8,
    qty: AtomicI64,
    /// Declined after this event time (ns).
    expires: AtomicU64,
}

/// The shared headline state. Written by the core thread only.
pub struct StatusBoard {
    version: AtomicU64,
    /// Last sequence processed, plus one (0: none yet).
    seq: AtomicU64,
    events: AtomicU64,
    operator_inputs: AtomicU64,
    /// The core's event time (ns).
    now: AtomicU64,
    /// Strategy entries not taken, by reason ([`NotTaken`]'s order).
    not_taken: [AtomicU64; 8],
    /// Market-data feeds stale now.
    stale_feeds: AtomicU64,
    /// Running digest of the outputs, and how many.
    digest: AtomicU64,
    outputs: AtomicU64,
    state: AtomicU8,
    mode: AtomicU8,
    kill_switch: AtomicBool,
    /// [`AccountView`], as [`account_words`] packs it.
    account: [AtomicI64; ACCOUNT_WORDS],
    orders: AtomicU64,
    fills: AtomicU64,
    rejects: AtomicU64,
    vetoes: AtomicU64,
    alerts: AtomicU64,
    operator_refused: AtomicU64,
    open_orders: AtomicU64,
    pending_len: AtomicU64,
    pending: [PendingRow; MAX_PENDING_APPROVALS],
    /// [`CommandOutcome`] counters, in order.
    last_command: [AtomicU64; 4],
    /// [`CommandOutcome::result`] as [`result_words`].
    last_result: [AtomicU64; RESULT_WORDS],
    symbols: Box<[SymbolRow]>,
}

/// A consistent copy of the board.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BoardSnapshot {
    /// Last input processed (none before the first).
    pub last_seq: Option<Seq>,
    /// Inputs processed by this core (a restored core counts the earlier run's).
    pub events: u64,
    /// Operator commands processed (`InputBody::Operator`, any source).
    pub operator_inputs: u64,
    /// Running digest of every output so far (what replay compares), as
    /// 16 hex digits.
    #[serde(serialize_with = "hex_digest")]
    pub digest: u64,
    /// Outputs emitted so far.
    pub outputs: u64,
    /// The core's event time, Unix ns (what approvals expire against).
    pub now_ns: u64,
    /// Strategy entries not taken since the journal began, by reason.
    pub not_taken: NotTaken,
    /// Market-data feeds stale now (SAFE_MODE while any is).
    pub stale_feeds: u64,
    /// System state.
    pub state: SystemState,
    /// Control mode.
    pub mode: ControlMode,
    /// Kill switch engaged.
    pub kill_switch: bool,
    /// The margin account.
    pub account: AccountView,
    /// Orders sent.
    pub orders: u64,
    /// Fills applied.
    pub fills: u64,
    /// Orders the exchange refused.
    pub rejects: u64,
    /// Order intents vetoed.
    pub vetoes: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Operator commands refused.
    pub operator_refused: u64,
    /// Orders open.
    pub open_orders: u64,
    /// Orders waiting for the operator (SemiAuto).
    pub pending: Vec<PendingView>,
    /// What the last operator command did.
    pub last_command: CommandOutcome,
    /// Per configured symbol, in configuration order.
    pub symbols: Vec<SymbolStatus>,
}

/// Why strategy entries were not taken (`CoreStats::signals_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NotTaken {
    /// No new risk allowed (state, mode, kill switch).
    pub held: u64,
    /// Another instance owns the symbol.
    pub shadowed: u64,
    /// The regime is not the instance's.
    pub off_regime: u64,
    /// The expected move is below k × the round-trip cost.
    pub below_cost: u64,
    /// The same entry again after a veto.
    pub repeated: u64,
    /// Sized below one lot step.
    pub too_small: u64,
    /// The instance is disabled by the operator.
    pub disabled: u64,
    /// HIGH_VOL with entries off.
    pub high_vol: u64,
}

/// An order waiting for approval.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingView {
    /// The client id to approve or reject.
    pub id: ClientOrderId,
    /// Symbol index.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Quantity.
    pub qty: Qty,
    /// Declined if not approved by this event time, Unix ns.
    pub expires_ns: u64,
}

/// One symbol's headline.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SymbolStatus {
    /// Signed position.
    pub position: Qty,
    /// Average entry price (none when flat).
    pub entry: Option<Price>,
    /// Mark price (none before a book).
    pub mark: Option<Price>,
    /// Unrealized PnL at mark.
    pub unrealized: Money,
    /// Realized PnL before fees.
    pub realized: Money,
    /// Fills applied.
    pub fills: u64,
    /// Regime, stops and targets, holder, liquidation price (in the JSON,
    /// beside the fields above).
    #[serde(flatten)]
    pub holding: crate::core::Holding,
    /// The symbol's market-data feed.
    pub feed: crate::core::FeedView,
}

/// A digest as JSON: hex text, since a JSON number loses a u64's low bits
/// in most readers (JavaScript's among them).
fn hex_digest<S: serde::Serializer>(d: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{d:016x}"))
}

/// Words of [`account_words`].
const ACCOUNT_WORDS: usize = 12;

/// An account view as words (raw decimals, the loss count, the override
/// flags as bits).
fn account_words(a: &AccountView) -> [i64; ACCOUNT_WORDS] {
    [
        a.start.raw(),
        a.balance.raw(),
        a.equity.raw(),
        a.realized.raw(),
        a.fees.raw(),
        a.funding.raw(),
        a.unrealized.raw(),
        a.daily_pnl.raw(),
        a.high_water.raw(),
        a.drawdown.raw(),
        i64::from(a.consecutive_losses),
        i64::from(a.day_loss_override) | i64::from(a.drawdown_override) << 1,
    ]
}

/// [`account_words`] back.
fn account_of(w: [i64; ACCOUNT_WORDS]) -> AccountView {
    let m = Money::from_raw;
    AccountView {
        start: m(w[0]),
        balance: m(w[1]),
        equity: m(w[2]),
        realized: m(w[3]),
        fees: m(w[4]),
        funding: m(w[5]),
        unrealized: m(w[6]),
        daily_pnl: m(w[7]),
        high_water: m(w[8]),
        drawdown: Rate::from_raw(w[9]),
        consecutive_losses: u32::try_from(w[10]).unwrap_or(u32::MAX),
        day_loss_override: w[11] & 1 != 0,
        drawdown_override: w[11] & 2 != 0,
    }
}

impl StatusBoard {
    /// A board for `symbols` configured symbols, before any input.
    pub fn new(symbols: usize) -> StatusBoard {
        StatusBoard {
            version: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            events: AtomicU64::new(0),
            operator_inputs: AtomicU64::new(0),
            now: AtomicU64::new(0),
            not_taken: Default::default(),
            stale_feeds: AtomicU64::new(0),
            digest: AtomicU64::new(0),
            outputs: AtomicU64::new(0),
            state: AtomicU8::new(0),
            mode: AtomicU8::new(0),
            kill_switch: AtomicBool::new(false),
            account: Default::default(),
            orders: AtomicU64::new(0),
            fills: AtomicU64::new(0),
            rejects: AtomicU64::new(0),
            vetoes: AtomicU64::new(0),
            alerts: AtomicU64::new(0),
            operator_refused: AtomicU64::new(0),
            open_orders: AtomicU64::new(0),
            pending_len: AtomicU64::new(0),
            pending: Default::default(),
            last_command: Default::default(),
            last_result: Default::default(),
            symbols: (0..symbols)
                .map(|_| SymbolRow {
                    holder: AtomicU8::new(NO_HOLDER),
                    ..SymbolRow::default()
                })
                .collect(),
        }
    }

    /// Copies the core's headline state and what the last operator command
    /// did (core thread only). Allocates nothing; a few dozen relaxed stores.
    pub fn publish(&self, core: &Core, last_command: &CommandOutcome) {
        let r = Ordering::Relaxed;
        let v = self.version.load(r);
        debug_assert!(
            v.is_multiple_of(2),
            "one writer: the version is even between publishes"
        );
        self.version.store(v.wrapping_add(1), r);
        // The odd version must be visible before any field changes.
        fence(Ordering::Release);
        self.seq.store(core.last_seq().map_or(0, |s| s.0 + 1), r);
        let stats = core.stats();
        self.events.store(stats.events, r);
        self.operator_inputs
            .store(stats.by_kind[crate::event::InputBody::OPERATOR_KIND], r);
        self.now.store(core.now().0, r);
        for (cell, n) in self.not_taken.iter().zip([
            stats.signals_held,
            stats.signals_shadowed,
            stats.signals_off_regime,
            stats.signals_below_cost,
            stats.signals_repeated,
            stats.signals_too_small,
            stats.signals_disabled,
            stats.signals_high_vol,
        ]) {
            cell.store(n, r);
        }
        self.stale_feeds
            .store(u64::from(core.conditions().stale_feeds), r);
        self.digest.store(core.digest(), r);
        self.outputs.store(core.outputs(), r);
        self.state.store(core.state() as u8, r);
        self.mode.store(core.mode() as u8, r);
        self.kill_switch.store(core.kill_switch(), r);
        for (cell, w) in self.account.iter().zip(account_words(&core.account_view())) {
            cell.store(w, r);
        }
        for (cell, n) in [
            (&self.orders, stats.orders),
            (&self.fills, stats.fills),
            (&self.rejects, stats.rejects),
            (&self.vetoes, stats.vetoes),
            (&self.alerts, stats.alerts),
            (&self.operator_refused, stats.operator_refused),
            (&self.open_orders, core.open_orders() as u64),
        ] {
            cell.store(n, r);
        }
        let mut n = 0;
        for (row, p) in self.pending.iter().zip(core.pending_approvals()) {
            row.id.store(p.id.0, r);
            row.symbol.store(u64::from(p.intent.symbol.0), r);
            row.side.store(u8::from(p.intent.side == Side::Sell), r);
            row.qty.store(p.intent.qty.raw(), r);
            row.expires.store(p.expires.0, r);
            n += 1;
        }
        self.pending_len.store(n, r);
        let c = last_command;
        for (cell, v) in self
            .last_command
            .iter()
            .zip([c.orders, c.vetoes, c.pending, c.refused])
        {
            cell.store(v, r);
        }
        for (cell, v) in self.last_result.iter().zip(result_words(&c.result)) {
            cell.store(v, r);
        }
        for (i, row) in self.symbols.iter().enumerate() {
            let sym = SymbolId(i as u16);
            let Some(pos) = core.position(sym) else {
                continue;
            };
            row.position.store(pos.qty().raw(), r);
            row.entry.store(pos.avg_entry().map_or(0, Price::raw), r);
            row.mark.store(core.mark(sym).map_or(0, Price::raw), r);
            row.unrealized.store(core.unrealized(sym).raw(), r);
            row.realized.store(pos.realized().raw(), r);
            row.fills.store(pos.fills(), r);
            let h = core.holding(sym).unwrap_or_default();
            row.regime.store(h.regime as u8, r);
            row.stop.store(h.stop.map_or(0, Price::raw), r);
            row.take.store(h.take.map_or(0, Price::raw), r);
            row.holder.store(h.holder.unwrap_or(NO_HOLDER), r);
            row.liquidation
                .store(h.liquidation.map_or(0, Price::raw), r);
            row.exchange_stop
                .store(h.exchange_stop.map_or(0, Price::raw), r);
            row.exchange_take
                .store(h.exchange_take.map_or(0, Price::raw), r);
            let f = core.feed(sym).unwrap_or_default();
            row.feed_health.store(f.health as u8, r);
            row.feed_stale.store(f.stale, r);
            row.last_data.store(f.last_data_ns, r);
        }
        self.version.store(v.wrapping_add(2), Ordering::Release);
    }

    /// A consistent copy (retries while the core thread is writing).
    pub fn snapshot(&self) -> BoardSnapshot {
        loop {
            let before = self.version.load(Ordering::Acquire);
            if !before.is_multiple_of(2) {
                std::hint::spin_loop();
                continue;
            }
            let snap = self.read();
            // The field loads must complete before the version is re-read.
            fence(Ordering::Acquire);
            if self.version.load(Ordering::Relaxed) == before {
                return snap;
            }
        }
    }

    /// Operator commands processed so far (cheap: one load).
    pub fn operator_inputs(&self) -> u64 {
        self.operator_inputs.load(Ordering::Acquire)
    }

    fn read(&self) -> BoardSnapshot {
        let r = Ordering::Relaxed;
        let money = |c: &AtomicI64| Money::from_raw(c.load(r));
        let price = |c: &AtomicI64| Some(Price::from_raw(c.load(r))).filter(|p| p.is_positive());
        let pending_len = (self.pending_len.load(r) as usize).min(MAX_PENDING_APPROVALS);
        BoardSnapshot {
            last_seq: self.seq.load(r).checked_sub(1).map(Seq),
            events: self.events.load(r),
            operator_inputs: self.operator_inputs.load(r),
            digest: self.digest.load(r),
            outputs: self.outputs.load(r),
            now_ns: self.now.load(r),
            not_taken: {
                let n = |i: usize| self.not_taken[i].load(r);
                NotTaken {
                    held: n(0),
                    shadowed: n(1),
                    off_regime: n(2),
                    below_cost: n(3),
                    repeated: n(4),
                    too_small: n(5),
                    disabled: n(6),
                    high_vol: n(7),
                }
            },
            stale_feeds: self.stale_feeds.load(r),
            state: SystemState::from_index(u64::from(self.state.load(r))),
            mode: ControlMode::from_index(u64::from(self.mode.load(r))).unwrap_or_default(),
            kill_switch: self.kill_switch.load(r),
            account: account_of(std::array::from_fn(|i| self.account[i].load(r))),
            orders: self.orders.load(r),
            fills: self.fills.load(r),
            rejects: self.rejects.load(r),
            vetoes: self.vetoes.load(r),
            alerts: self.alerts.load(r),
            operator_refused: self.operator_refused.load(r),
            open_orders: self.open_orders.load(r),
            pending: self.pending[..pending_len]
                .iter()
                .map(|p| PendingView {
                    id: ClientOrderId(p.id.load(r)),
                    symbol: SymbolId(p.symbol.load(r) as u16),
                    side: if p.side.load(r) == 0 {
                        Side::Buy
                    } else {
                        Side::Sell
                    },
                    qty: Qty::from_raw(p.qty.load(r)),
                    expires_ns: p.expires.load(r),
                })
                .collect(),
            last_command: {
                let c = |i: usize| self.last_command[i].load(r);
                CommandOutcome {
                    orders: c(0),
                    vetoes: c(1),
                    pending: c(2),
                    refused: c(3),
                    result: result_of(std::array::from_fn(|i| self.last_result[i].load(r))),
                }
            },
            symbols: self
                .symbols
                .iter()
                .map(|s| SymbolStatus {
                    position: Qty::from_raw(s.position.load(r)),
                    entry: price(&s.entry),
                    mark: price(&s.mark),
                    unrealized: money(&s.unrealized),
                    realized: money(&s.realized),
                    fills: s.fills.load(r),
                    holding: crate::core::Holding {
                        regime: crate::event::Regime::ALL
                            .get(usize::from(s.regime.load(r)))
                            .copied()
                            .unwrap_or_default(),
                        stop: price(&s.stop),
                        take: price(&s.take),
                        holder: Some(s.holder.load(r)).filter(|&h| h != NO_HOLDER),
                        liquidation: price(&s.liquidation),
                        exchange_stop: price(&s.exchange_stop),
                        exchange_take: price(&s.exchange_take),
                    },
                    feed: crate::core::FeedView {
                        health: feed_health(s.feed_health.load(r)),
                        stale: s.feed_stale.load(r),
                        last_data_ns: s.last_data.load(r),
                    },
                })
                .collect(),
        }
    }
}

impl std::fmt::Debug for StatusBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusBoard")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StrategyConfig, presets};
    use crate::event::{InputBody, InputEvent, OperatorAction, OperatorCommand, Source};
    use crate::types::{MonoNanos, UnixNanos};

    #[test]
    fn a_snapshot_shows_what_the_core_holds() {
        let cfg = presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(2, 4));
        let mut core = Core::new(&cfg);
        let board = StatusBoard::new(cfg.instruments.len());
        assert_eq!(board.snapshot().last_seq, None);
        let mut ev = InputEvent::new(
            Source::Operator,
            SymbolId(0),
            MonoNanos(1),
            UnixNanos(1),
            InputBody::Operator(OperatorCommand::new(OperatorAction::Kill, 0)),
        );
        ev.header.seq = Seq(7);
        let outcome = CommandOutcome::of(&mut core, |c| {
            c.on_event(&ev, &mut crate::core::DiscardSink)
        });
        board.publish(&core, &outcome);
        let s = board.snapshot();
        assert_eq!(s.last_seq, Some(Seq(7)));
        assert_eq!(s.operator_inputs, 1);
        assert!(s.kill_switch);
        assert_eq!(s.mode, ControlMode::Emergency);
        assert_eq!(s.state, core.state());
        assert_eq!(s.account, core.account_view());
        assert_eq!(s.symbols.len(), cfg.instruments.len());
        assert_eq!(
            s.last_command,
            CommandOutcome::default(),
            "a kill sends no order"
        );
    }

    #[test]
    fn readers_never_see_a_torn_snapshot() {
        // The writer stores the same number into `events` and `orders`;
        // a torn read would show them differing.
        let board = std::sync::Arc::new(StatusBoard::new(0));
        let w = std::sync::Arc::clone(&board);
        let writer = std::thread::spawn(move || {
            for i in 0..200_000u64 {
                let v = w.version.load(Ordering::Relaxed);
                w.version.store(v + 1, Ordering::Relaxed);
                fence(Ordering::Release);
                w.events.store(i, Ordering::Relaxed);
                w.orders.store(i, Ordering::Relaxed);
                w.version.store(v + 2, Ordering::Release);
            }
        });
        let mut seen = 0;
        while !writer.is_finished() || seen == 0 {
            let s = board.snapshot();
            assert_eq!(s.events, s.orders, "a torn snapshot");
            seen += 1;
        }
        writer.join().unwrap();
    }
}
