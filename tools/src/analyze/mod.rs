//! `autobot analyze DIR`: the blunder analyzer. It replays a journal (a
//! run's, or a backtest's kept with `--keep-journal`) through a fresh core
//! and judges every round trip: its excursions (MFE and MAE in basis points
//! and in multiples of the initial risk), time in trade, exit reason,
//! regime and strategy at entry, fees as a share of gross, and the labels
//! of [`labels`], each with its rule written down. Each vetoed strategy
//! intent gets a hypothetical outcome, marked as such. Writes
//! `analysis.json`, `trips.csv`, `vetoed.csv` and `analysis.html` into
//! `DIR/analysis` (or `--out`).
//!
//! It reads only what the journal holds and the core decides again, so the
//! same journal gives the same analysis.

mod files;
pub mod labels;
mod page;

pub use files::write;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use anyhow::Context as _;
use autobot_engine::config::CoreConfig;
use autobot_engine::core::Core;
use autobot_engine::event::{InputBody, InputEvent, Origin, OutputBody, OutputEvent, Verdict};
use autobot_engine::replay::{Collect, feed};
use autobot_engine::types::{ClientOrderId, Money, Seq, Side, SymbolId};
use serde::Serialize;

use labels::{Dir, Excursions, Facts, Hypothetical, Label};

/// How long a vetoed intent's hypothetical trade may last.
pub const HORIZON_MS: u64 = 4 * 3_600_000;
/// Vetoed intents simulated (the rest are counted).
pub const MAX_VETOED: usize = 2000;
/// Price history kept before each entry, for the late-entry rule.
const LOOKBACK_MS: u64 = 24 * 3_600_000;

/// One judged round trip.
#[derive(Clone, Debug, Serialize)]
pub struct TripRow {
    /// Symbol.
    pub symbol: String,
    /// Long or short.
    pub side: Dir,
    /// Strategy instance (or the origin of a non-strategy entry).
    pub strategy: String,
    /// Regime at entry.
    pub regime: String,
    /// What the advisor said at entry (empty: the strategy is not
    /// advised, or the entry was not a strategy's), e.g. `cut ×0.620,
    /// P(up) 0.3100`.
    pub advice: String,
    /// Opened and closed, UTC.
    pub opened: String,
    /// See `opened`.
    pub closed: String,
    /// Minutes in the trade.
    pub minutes: f64,
    /// Average entry price.
    pub entry: f64,
    /// The closing fill's price.
    pub exit: f64,
    /// Why it closed: the closing order's origin (`StopLoss`, `Protect`,
    /// `TakeProfit`, `MaxHold`, `Strategy`: its signal's reason).
    pub exit_reason: String,
    /// Realized PnL before fees.
    pub gross: f64,
    /// Fees.
    pub fees: f64,
    /// Net: gross − fees.
    pub pnl: f64,
    /// Fees over |gross|.
    pub fee_share: Option<f64>,
    /// Excursions while open.
    #[serde(flatten)]
    pub excursions: Excursions,
    /// Labels earned.
    pub labels: Vec<Label>,
}

/// A vetoed strategy intent and what it would have done.
#[derive(Clone, Debug, Serialize)]
pub struct VetoRow {
    /// When, UTC.
    pub at: String,
    /// Symbol.
    pub symbol: String,
    /// The strategy instance.
    pub strategy: String,
    /// Side of the intent.
    pub side: Dir,
    /// Quantity.
    pub qty: f64,
    /// The rule that vetoed it.
    pub rule: String,
    /// The price it would have entered at (the mark then).
    pub entry: f64,
    /// HYPOTHETICAL: its outcome (none: no price after it).
    pub hypothetical: Option<Hypothetical>,
}

/// One line of a summary table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Group {
    /// What it groups by.
    pub name: String,
    /// Trips.
    pub trips: u64,
    /// Net PnL.
    pub pnl: f64,
    /// Trips with at least one label.
    pub labelled: u64,
}

/// A hole in a symbol's market data: bars missing (a bar opening more
/// than one interval after the last), or for tick data more than an hour
/// without a market input (the HTML report's rule).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GapRow {
    /// Symbol.
    pub symbol: String,
    /// The last market input before it, UTC.
    pub from: String,
    /// The first after it, UTC.
    pub to: String,
    /// Its length, minutes.
    pub minutes: f64,
}

/// Tick data quieter than this is a gap.
const TICK_GAP_MS: u64 = 3_600_000;

/// The analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// The journal analysed.
    pub journal: String,
    /// Holes in the market data (trips across one are worth a second look:
    /// indicators saw no prices there).
    pub gaps: Vec<GapRow>,
    /// Every label's rule.
    pub rules: BTreeMap<&'static str, String>,
    /// By label, by strategy, by regime.
    pub by_label: Vec<Group>,
    /// See `by_label`.
    pub by_strategy: Vec<Group>,
    /// See `by_label`.
    pub by_regime: Vec<Group>,
    /// By the advisor's verdict at entry (`not advised` when none).
    pub by_advice: Vec<Group>,
    /// Vetoed intents: how many, how many simulated, and their
    /// hypothetical PnL (HYPOTHETICAL: not traded).
    pub vetoed: u64,
    /// See `vetoed`.
    pub vetoed_simulated: u64,
    /// See `vetoed`.
    pub vetoed_hypothetical_pnl: f64,
    /// Every round trip.
    pub trips: Vec<TripRow>,
    /// Every simulated vetoed intent.
    pub vetoes: Vec<VetoRow>,
}

#[derive(Clone, Debug)]
struct Open {
    dir: Dir,
    opened_ms: u64,
    entry: f64,
    strategy: String,
    regime: String,
    advice: String,
    stop: Option<f64>,
    take: Option<f64>,
    realized0: Money,
    fees: f64,
    prices: Vec<f64>,
    before: Vec<(u64, f64)>,
}

/// A stopped-out trip whose prices after the exit are collected.
struct Watch {
    trip: usize,
    symbol: usize,
    until_ms: u64,
}

struct Pending {
    row: usize,
    symbol: SymbolId,
    dir: Dir,
    stop: Option<f64>,
    take: Option<f64>,
    path: Vec<(u64, f64)>,
}

/// A symbol's last strategy signal.
#[derive(Clone, Debug)]
struct LastSignal {
    /// The input that caused it.
    cause: u64,
    strategy: u8,
    stop: Option<f64>,
    take: Option<f64>,
    reason: String,
    /// The advisor's record of the same input, in words.
    advice: String,
}

/// Who an approved order is for: the exit reason it gives if it closes,
/// the strategy if it opens.
#[derive(Clone, Debug, Default)]
struct OrderBy {
    reason: String,
    strategy: String,
    advice: String,
}

/// What the replay gathers.
#[derive(Default)]
pub(crate) struct Gather {
    names: Vec<String>,
    strategies: Vec<String>,
    fee: f64,
    history: Vec<VecDeque<(u64, f64)>>,
    open: Vec<Option<Open>>,
    qty: Vec<i64>,
    orders: BTreeMap<u64, OrderBy>,
    signal: Vec<Option<LastSignal>>,
    /// Per symbol: the last advice record (its cause and strategy, in
    /// words).
    advice: Vec<(u64, u8, String)>,
    trips: Vec<TripRow>,
    /// Per trip: its target when it was stopped out, and the prices after.
    targets: Vec<Option<f64>>,
    after: Vec<Vec<f64>>,
    watches: Vec<Watch>,
    vetoes: Vec<VetoRow>,
    pending: Vec<Pending>,
    vetoed: u64,
    /// Per symbol: the last market input's time (ms) and, for a bar, the
    /// time its successor is due.
    last_market: Vec<Option<(u64, Option<u64>)>>,
    gaps: Vec<GapRow>,
}

fn utc(ms: u64) -> String {
    crate::position::format_utc(ms * 1_000_000)
}

impl Gather {
    /// Ready for the first input of a journal run with `cfg`.
    pub(crate) fn new(cfg: &crate::config::AppConfig, core_cfg: &CoreConfig) -> Gather {
        let n = core_cfg.instruments.len();
        Gather {
            names: core_cfg
                .instruments
                .iter()
                .map(|i| i.name.to_string())
                .collect(),
            strategies: cfg.strategy.names(),
            fee: cfg.paper.taker_fee.to_f64(),
            history: vec![VecDeque::new(); n],
            open: vec![None; n],
            qty: vec![0; n],
            signal: vec![None; n],
            advice: vec![(u64::MAX, 0, String::new()); n],
            last_market: vec![None; n],
            ..Gather::default()
        }
    }

    /// One replayed input, after `core` processed it into `outs`. A trip
    /// that closes is pushed to `trips` whole (only its labels that need
    /// prices after the exit wait for [`Gather::finish`]).
    pub(crate) fn input(&mut self, ev: &InputEvent, core: &Core, outs: &[OutputEvent]) {
        let n = self.names.len();
        let ms = core.now().0 / 1_000_000;
        self.outputs(ms, core, outs);
        let sym = ev.header.symbol;
        match ev.body {
            InputBody::OrderUpdate(u) if u.last_qty.is_positive() && usize::from(sym.0) < n => {
                self.fill(sym, &u, ms, core);
            }
            InputBody::BookTicker(_)
            | InputBody::AggTrade(_)
            | InputBody::Kline(_)
            | InputBody::MarkPrice(_)
                if usize::from(sym.0) < n =>
            {
                // A bar is known at its last millisecond; the next is
                // due one interval on.
                let next_bar = match ev.body {
                    InputBody::Kline(k) => Some(ms + u64::from(k.interval_secs) * 1000),
                    _ => None,
                };
                self.market(sym, ms, next_bar);
                if let Some(p) = core.mark(sym) {
                    self.price(sym, ms, p.to_f64());
                }
            }
            _ => {}
        }
    }

    /// The round trips closed so far.
    pub(crate) fn trips(&self) -> &[TripRow] {
        &self.trips
    }

    /// A market input of `sym` at `ms`; `next_bar` is when the bar after
    /// it is due (for a bar), in ms.
    fn market(&mut self, sym: SymbolId, ms: u64, next_bar: Option<u64>) {
        let i = usize::from(sym.0);
        let Some(slot) = self.last_market.get_mut(i) else {
            return;
        };
        if let Some((last, due)) = *slot {
            let gap = match due {
                Some(due) => ms > due,
                None => ms > last + TICK_GAP_MS,
            };
            if gap {
                self.gaps.push(GapRow {
                    symbol: self.names[i].clone(),
                    from: utc(last),
                    to: utc(ms),
                    minutes: (ms - last) as f64 / 60_000.0,
                });
            }
        }
        *slot = Some((ms, next_bar));
    }

    fn price(&mut self, sym: SymbolId, ms: u64, p: f64) {
        let i = usize::from(sym.0);
        if let Some(h) = self.history.get_mut(i) {
            if h.back().is_none_or(|b| ms / 1000 > b.0 / 1000) {
                h.push_back((ms, p));
            }
            while h.front().is_some_and(|f| f.0 + LOOKBACK_MS < ms) {
                h.pop_front();
            }
        }
        if let Some(Some(o)) = self.open.get_mut(i) {
            o.prices.push(p);
        }
        for w in &self.watches {
            if ms <= w.until_ms && w.symbol == i {
                self.after[w.trip].push(p);
            }
        }
        self.watches.retain(|w| ms <= w.until_ms);
        for v in self.pending.iter_mut().filter(|v| v.symbol == sym) {
            v.path.push((ms, p));
        }
        // Past their horizon: settled (the rows are by index, so the
        // pending list's order does not matter).
        let mut k = 0;
        while k < self.pending.len() {
            if self.pending[k]
                .path
                .first()
                .is_some_and(|f| ms > f.0 + HORIZON_MS)
            {
                let v = self.pending.swap_remove(k);
                self.settle(v);
            } else {
                k += 1;
            }
        }
    }

    fn settle(&mut self, v: Pending) {
        let row = &mut self.vetoes[v.row];
        row.hypothetical = labels::counterfactual(
            (v.dir, row.qty, row.entry),
            (v.stop, v.take),
            &v.path,
            HORIZON_MS,
            self.fee,
        );
    }

    fn outputs(&mut self, ms: u64, core: &Core, outs: &[OutputEvent]) {
        for o in outs {
            match o.body {
                OutputBody::Advice(a) => {
                    if let Some(slot) = self.advice.get_mut(usize::from(a.symbol.0)) {
                        *slot = (o.cause.0, a.strategy, advice_words(&a));
                    }
                }
                OutputBody::Signal(s) => {
                    let f = |p: autobot_engine::types::Price| p.is_positive().then(|| p.to_f64());
                    let advice = self
                        .advice
                        .get(usize::from(s.symbol.0))
                        .filter(|(cause, by, _)| *cause == o.cause.0 && *by == s.strategy)
                        .map(|(_, _, words)| words.clone())
                        .unwrap_or_default();
                    if let Some(slot) = self.signal.get_mut(usize::from(s.symbol.0)) {
                        *slot = Some(LastSignal {
                            cause: o.cause.0,
                            strategy: s.strategy,
                            stop: f(s.stop),
                            take: f(s.take),
                            reason: format!("{:?}", s.reason),
                            advice,
                        });
                    }
                }
                OutputBody::Audit(a) => {
                    let signal = self
                        .signal
                        .get(usize::from(a.symbol.0))
                        .cloned()
                        .flatten()
                        .filter(|s| s.cause == o.cause.0);
                    let strategy = match (a.origin, &signal) {
                        (Origin::Strategy, Some(s)) => self
                            .strategies
                            .get(usize::from(s.strategy))
                            .cloned()
                            .unwrap_or_default(),
                        (origin, _) => format!("{origin:?}"),
                    };
                    if a.verdict == Verdict::Vetoed && a.origin == Origin::Strategy {
                        self.vetoed += 1;
                        if self.vetoes.len() < MAX_VETOED
                            && let Some(mark) = core.mark(a.symbol)
                        {
                            let dir = if a.side == Side::Buy {
                                Dir::Long
                            } else {
                                Dir::Short
                            };
                            self.pending.push(Pending {
                                row: self.vetoes.len(),
                                symbol: a.symbol,
                                dir,
                                stop: signal.as_ref().and_then(|s| s.stop),
                                take: signal.as_ref().and_then(|s| s.take),
                                path: Vec::new(),
                            });
                            self.vetoes.push(VetoRow {
                                at: utc(ms),
                                symbol: self
                                    .names
                                    .get(usize::from(a.symbol.0))
                                    .cloned()
                                    .unwrap_or_default(),
                                strategy: strategy.clone(),
                                side: dir,
                                qty: a.qty.to_f64(),
                                rule: format!("{:?}", a.rule),
                                entry: mark.to_f64(),
                                hypothetical: None,
                            });
                        }
                    } else if matches!(a.verdict, Verdict::Approved) {
                        // A strategy exit names its signal's reason.
                        let reason = match (a.origin, &signal) {
                            (Origin::Strategy, Some(s)) => format!("Strategy ({})", s.reason),
                            (origin, _) => format!("{origin:?}"),
                        };
                        let advice = match (a.origin, &signal) {
                            (Origin::Strategy, Some(s)) => s.advice.clone(),
                            _ => String::new(),
                        };
                        self.orders.insert(
                            a.id.0,
                            OrderBy {
                                reason,
                                strategy,
                                advice,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn fill(
        &mut self,
        sym: SymbolId,
        u: &autobot_engine::event::OrderUpdate,
        ms: u64,
        core: &Core,
    ) {
        let i = usize::from(sym.0);
        let Some(pos) = core.position(sym) else {
            return;
        };
        let (was, now) = (self.qty[i], pos.qty().raw());
        self.qty[i] = now;
        let by = if u.client_id == ClientOrderId::EXCHANGE_CLOSE {
            OrderBy {
                reason: "Liquidation".into(),
                strategy: String::new(),
                advice: String::new(),
            }
        } else {
            self.orders.get(&u.client_id.0).cloned().unwrap_or_default()
        };
        let (origin_name, strategy, advice) = (by.reason, by.strategy, by.advice);
        if let Some(Some(o)) = self.open.get_mut(i) {
            o.fees += u.fee.to_f64();
        }
        let closed = was != 0 && (now == 0 || now.signum() != was.signum());
        if closed && let Some(o) = self.open[i].take() {
            self.close(i, o, (u, &origin_name), ms, pos.realized());
        }
        if now != 0 && (was == 0 || now.signum() != was.signum()) {
            let holding = core.holding(sym).unwrap_or_default();
            let f = |p: Option<autobot_engine::types::Price>| p.map(|p| p.to_f64());
            self.open[i] = Some(Open {
                dir: if now > 0 { Dir::Long } else { Dir::Short },
                opened_ms: ms,
                entry: pos
                    .avg_entry()
                    .map_or(u.last_price.to_f64(), |p| p.to_f64()),
                strategy: if strategy.is_empty() {
                    origin_name.clone()
                } else {
                    strategy
                },
                regime: holding.regime.name().to_string(),
                advice,
                stop: f(holding.stop),
                take: f(holding.take),
                realized0: pos.realized(),
                fees: if closed { 0.0 } else { u.fee.to_f64() },
                prices: Vec::new(),
                before: self.history[i].iter().copied().collect(),
            });
        }
    }

    fn close(
        &mut self,
        i: usize,
        o: Open,
        (u, why): (&autobot_engine::event::OrderUpdate, &str),
        ms: u64,
        realized: Money,
    ) {
        let gross = realized
            .checked_sub(o.realized0)
            .map_or(0.0, |m| m.to_f64());
        let exit = u.last_price.to_f64();
        let risk = o.stop.map(|s| (o.entry - s).abs());
        let ex = labels::excursions(o.dir, o.entry, o.prices.iter().copied().chain([exit]), risk);
        let sign = if o.dir == Dir::Long { 1.0 } else { -1.0 };
        let lookback = ms
            .saturating_sub(o.opened_ms)
            .max(labels::LATE_LOOKBACK_MINUTES * 60_000);
        let from = o.opened_ms.saturating_sub(lookback);
        let move_before = o
            .before
            .iter()
            .find(|(t, _)| *t >= from)
            .map_or(0.0, |(_, p)| (o.entry - p) * sign);
        let exit_origin = why.split_once(' ').map_or(why, |(a, _)| a).to_string();
        let facts = Facts {
            dir: Some(o.dir),
            entry: o.entry,
            exit_origin,
            target: o.take,
            gross,
            fees: o.fees,
            regime: o.regime.clone(),
            best_move: ex.mfe_bp / 1e4 * o.entry,
            move_before,
            after_exit: Vec::new(),
        };
        let trip = TripRow {
            symbol: self.names.get(i).cloned().unwrap_or_default(),
            side: o.dir,
            strategy: o.strategy,
            regime: o.regime,
            advice: o.advice,
            opened: utc(o.opened_ms),
            closed: utc(ms),
            minutes: ms.saturating_sub(o.opened_ms) as f64 / 60_000.0,
            entry: o.entry,
            exit,
            exit_reason: why.to_string(),
            gross,
            fees: o.fees,
            pnl: gross - o.fees,
            fee_share: (gross != 0.0).then(|| o.fees / gross.abs()),
            excursions: ex,
            labels: labels::labels(&facts),
        };
        let k = self.trips.len();
        self.trips.push(trip);
        self.after.push(Vec::new());
        // Stopped out with a target: watch whether the target came.
        let stopped = matches!(facts.exit_origin.as_str(), "StopLoss" | "Protect");
        self.targets.push(o.take.filter(|_| stopped));
        if stopped && o.take.is_some() {
            self.watches.push(Watch {
                trip: k,
                symbol: i,
                until_ms: ms + labels::STOP_THEN_TARGET_MINUTES * 60_000,
            });
        }
    }

    /// The labels that need prices after the exit.
    fn finish(&mut self) {
        for v in std::mem::take(&mut self.pending) {
            self.settle(v);
        }
        for (k, trip) in self.trips.iter_mut().enumerate() {
            let Some(target) = self.targets.get(k).copied().flatten() else {
                continue;
            };
            // The rule itself, on the prices after the exit.
            let facts = Facts {
                dir: Some(trip.side),
                exit_origin: "StopLoss".into(),
                target: Some(target),
                after_exit: std::mem::take(&mut self.after[k]),
                ..Facts::default()
            };
            if labels::labels(&facts).contains(&Label::StoppedThenTarget) {
                trip.labels.push(Label::StoppedThenTarget);
                trip.labels.sort();
            }
        }
    }
}

/// Groups `trips` by `key`.
fn groups(trips: &[TripRow], key: impl Fn(&TripRow) -> Vec<String>) -> Vec<Group> {
    let mut by: BTreeMap<String, Group> = BTreeMap::new();
    for t in trips {
        for k in key(t) {
            let g = by.entry(k.clone()).or_insert_with(|| Group {
                name: k,
                ..Group::default()
            });
            g.trips += 1;
            g.pnl += t.pnl;
            g.labelled += u64::from(!t.labels.is_empty());
        }
    }
    by.into_values().collect()
}

/// Analyses the journal of `dir` (a run or a backtest kept with
/// `--keep-journal`; `config` overrides its config.toml).
pub fn analyze(dir: &Path, config: Option<&Path>) -> anyhow::Result<Analysis> {
    if !dir.join("journal").is_dir() && dir.join("report.json").is_file() {
        anyhow::bail!(
            "{} is a backtest report without its inputs: run the backtest again with --keep-journal",
            dir.display()
        );
    }
    let (journal_dir, cfg, _) = crate::replay::locate(dir, config)?;
    let journal = crate::position::open_until(&journal_dir, None, &mut std::io::stderr())?;
    let core_cfg = cfg.core();
    let mut core = Core::new(&core_cfg);
    let mut g = Gather::new(&cfg, &core_cfg);
    let mut sink = Collect::default();
    feed(
        &journal,
        &mut core,
        Seq(0),
        None,
        &mut sink,
        |ev, core, sink| {
            g.input(ev, core, &sink.0);
            sink.0.clear();
        },
    )
    .with_context(|| format!("replaying {}", journal_dir.display()))?;
    g.finish();
    let trips = g.trips;
    let simulated: Vec<&VetoRow> = g
        .vetoes
        .iter()
        .filter(|v| v.hypothetical.is_some())
        .collect();
    Ok(Analysis {
        journal: journal_dir.display().to_string(),
        gaps: g.gaps,
        rules: Label::ALL.iter().map(|l| (l.name(), l.rule())).collect(),
        by_label: groups(&trips, |t| {
            t.labels.iter().map(|l| l.name().to_string()).collect()
        }),
        by_strategy: groups(&trips, |t| vec![t.strategy.clone()]),
        by_regime: groups(&trips, |t| vec![t.regime.clone()]),
        by_advice: groups(&trips, |t| {
            vec![
                t.advice
                    .split(" (")
                    .next()
                    .filter(|v| !v.is_empty())
                    .unwrap_or("not advised")
                    .to_string(),
            ]
        }),
        vetoed: g.vetoed,
        vetoed_simulated: simulated.len() as u64,
        vetoed_hypothetical_pnl: simulated
            .iter()
            .filter_map(|v| v.hypothetical)
            .map(|h| h.pnl)
            .sum::<f64>()
            + 0.0,
        trips,
        vetoes: g.vetoes,
    })
}

/// The advisor's record in a few words: the verdict, then the factor and
/// the model's P(up) when it had a fresh prediction.
fn advice_words(a: &autobot_engine::event::Advice) -> String {
    if a.age == u32::MAX {
        return a.verdict.name().to_string();
    }
    format!(
        "{} (×{:.3}, P(up) {:.4})",
        a.verdict.name(),
        f64::from(a.factor) / 1e6,
        f64::from(a.score) / 1e6
    )
}
