//! The backtest report: `report.json` (every figure; the same backtest
//! writes the same bytes), `trades.csv` (every fill), `round_trips.csv`,
//! and `report.html` (charts, see `html`).
//!
//! Amounts of money are exact decimal strings (USDT); ratios are floats.
//! Nothing in the report depends on the wall clock.

use crate::parquet_table::Kind;
use std::fmt::Write as _;

use autobot_engine::config::CoreConfig;
use autobot_engine::regime::Regime;
use autobot_engine::strategy::InstanceConfig;
use autobot_engine::types::{Money, SymbolId};
use serde::Serialize;

use super::metrics::{self, TripStats};
use super::record::Recorder;
use super::run::Backtest;
use autobot_exchange::ExchangeStats as SimStats;

/// What the backtest ran on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataInfo {
    /// Symbols, in `SymbolId` order.
    pub symbols: Vec<String>,
    /// Data inputs replayed.
    pub events: u64,
    /// First and last exchange time, ms since the epoch.
    pub first_ms: u64,
    /// Last exchange time, ms.
    pub last_ms: u64,
}

/// The account from start to end, USDT.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountInfo {
    /// Starting wallet balance.
    pub start: String,
    /// Equity at the end (wallet plus unrealized PnL at the core's marks).
    pub end_equity: String,
    /// Net PnL: end equity − start.
    pub pnl: String,
    /// The core's wallet balance at the end.
    pub balance: String,
    /// Realized PnL of fills.
    pub realized: String,
    /// Fees paid.
    pub fees: String,
    /// Funding received (negative: paid).
    pub funding: String,
    /// The exchange's wallet at the end (must equal the core's balance).
    pub exchange_wallet: String,
    /// Fees as a share of |realized PnL before fees| (how much of what the
    /// trading made or lost went to the exchange; none when that is zero).
    pub fees_share_of_gross: Option<f64>,
}

/// Round trips of one regime or one strategy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breakdown {
    /// The regime or strategy.
    pub name: String,
    /// Trip statistics.
    #[serde(flatten)]
    pub trips: TripStats,
    /// Net PnL of its trips, USDT.
    pub pnl: String,
    /// Fees of its trips, USDT.
    pub fees: String,
    /// Share of the symbols' market-data inputs (bars or ticks) seen in it
    /// (regimes only; by data, so a gap between data segments counts for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_share: Option<f64>,
    /// When the instance became warm on each symbol, and its warm-up
    /// (strategies only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warm: Vec<Warm>,
}

/// When a strategy instance became warm on a symbol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warm {
    /// The symbol.
    pub symbol: String,
    /// What the instance needs (`24 bars`, `500 book tickers`).
    pub warmup: String,
    /// Event time it became warm (UTC), if it did.
    pub at: Option<String>,
}

/// What the core did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreInfo {
    /// Orders sent.
    pub orders: u64,
    /// Fills applied.
    pub fills: u64,
    /// Orders refused by the exchange.
    pub rejects: u64,
    /// Intents vetoed by risk.
    pub vetoes: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Strategy signals.
    pub signals: u64,
    /// Regime changes.
    pub regime_changes: u64,
    /// Gaps in the bars after which the indicators warmed up again
    /// (`[strategy] gap_bars`).
    pub gap_restarts: u64,
    /// System state at the end.
    pub state: String,
    /// Control mode at the end.
    pub mode: String,
    /// Digest of every output (equal digests: equal decisions).
    pub digest: String,
    /// Vetoes by rule, most first.
    pub vetoes_by_rule: Vec<(String, u64)>,
    /// Share of event time in RUNNING, DEGRADED, SAFE_MODE, HALTED.
    pub time_in_state: [f64; 4],
    /// What the advisor did (a run whose core handed out feature vectors
    /// or read predictions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisor: Option<AdvisorInfo>,
}

/// The advisor's part of a backtest, as the core counted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdvisorInfo {
    /// Feature vectors the core handed out.
    pub vectors: u64,
    /// Predictions the core kept.
    pub predictions: u64,
    /// Predictions that came late (kept out).
    pub late: u64,
    /// Predictions refused (invalid, or about nothing handed out).
    pub refused: u64,
    /// Advised entries whose size was cut.
    pub cut: u64,
    /// Entries refused (gate, or cut below the minimum).
    pub vetoed: u64,
    /// Advised entries without a fresh prediction.
    pub no_advice: u64,
}

impl AdvisorInfo {
    fn of(a: &autobot_engine::core::AdvisorStats) -> Option<AdvisorInfo> {
        (a.features > 0 || a.predictions > 0 || a.no_advice > 0).then_some(AdvisorInfo {
            vectors: a.features,
            predictions: a.predictions,
            late: a.superseded,
            refused: a.refused,
            cut: a.cut,
            vetoed: a.vetoed,
            no_advice: a.no_advice,
        })
    }
}

/// A position open when the system halted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenPosition {
    /// Symbol.
    pub symbol: String,
    /// Signed quantity.
    pub qty: String,
    /// Average entry price.
    pub entry: Option<String>,
    /// Unrealized PnL then, USDT.
    pub unrealized: String,
}

/// A stretch of HALTED: when, why, what was open, when it lifted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HaltInfo {
    /// When it began, UTC.
    pub at: String,
    /// When it began, ms since the epoch.
    pub at_ms: u64,
    /// Why (the state change's cause).
    pub cause: String,
    /// The input that caused it.
    pub input: u64,
    /// Equity then, USDT.
    pub equity: String,
    /// Positions open at that moment (reducing them stays possible while
    /// halted: stops, targets, flatten).
    pub open: Vec<OpenPosition>,
    /// When it lifted, UTC, and why; `None`: still halted at the end.
    pub lifted: Option<(String, String)>,
}

impl HaltInfo {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let open = if self.open.is_empty() {
            "nothing open".to_string()
        } else {
            let list: Vec<String> = self
                .open
                .iter()
                .map(|p| {
                    format!(
                        "{} {} @ {} (unrealized {})",
                        p.symbol,
                        p.qty,
                        p.entry.as_deref().unwrap_or("-"),
                        p.unrealized
                    )
                })
                .collect();
            format!("open: {}", list.join(", "))
        };
        let lifted = self.lifted.as_ref().map_or_else(
            || "still HALTED at the end".to_string(),
            |(at, why)| format!("lifted {at} ({why})"),
        );
        format!(
            "HALTED {} by {} at input {}, equity {}; {open}; {lifted}",
            self.at, self.cause, self.input, self.equity
        )
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The data.
    pub data: DataInfo,
    /// The account.
    pub account: AccountInfo,
    /// PnL over the starting balance.
    pub total_return: f64,
    /// Annualized Sharpe ratio of the period returns.
    pub sharpe: Option<f64>,
    /// Annualized Sortino ratio of the period returns.
    pub sortino: Option<f64>,
    /// Largest fall of the sampled equity from its peak, fraction.
    pub max_drawdown: f64,
    /// Round trips.
    pub round_trips: TripStats,
    /// UTC days with data (gaps between data segments not counted).
    pub data_days: u64,
    /// Round trips per day with data.
    pub round_trips_per_day: Option<f64>,
    /// Fills.
    pub fills: u64,
    /// Share of the time a position was held.
    pub exposure: f64,
    /// Length of a return period, seconds.
    pub returns_secs: u64,
    /// Periods per year used to annualize.
    pub periods_per_year: u64,
    /// Round trips by the regime they opened in.
    pub per_regime: Vec<Breakdown>,
    /// Round trips by the strategy instance that opened them.
    pub per_strategy: Vec<Breakdown>,
    /// The simulated exchange's counters.
    pub exchange: SimStats,
    /// The core's counters.
    pub core: CoreInfo,
    /// Every HALT (when, why, what was open).
    pub halts: Vec<HaltInfo>,
}

fn f(m: Money) -> f64 {
    m.to_f64()
}

/// Names of the strategy instances, as the report shows them.
pub fn strategy_name(i: u8, instances: &[InstanceConfig]) -> String {
    instances
        .get(usize::from(i))
        .map_or(format!("{i}"), |c| format!("{i} {}", c.kind.name()))
}

fn breakdown<'a>(
    name: String,
    trips: impl Iterator<Item = &'a super::record::Trip>,
    data_share: Option<f64>,
) -> Breakdown {
    let (mut pnls, mut pnl, mut fees) = (Vec::new(), Money::ZERO, Money::ZERO);
    for t in trips {
        pnls.push(f(t.pnl));
        pnl = pnl.checked_add(t.pnl).unwrap_or(pnl);
        fees = fees.checked_add(t.fees).unwrap_or(fees);
    }
    Breakdown {
        name,
        trips: metrics::trip_stats(&pnls),
        pnl: pnl.to_string(),
        fees: fees.to_string(),
        data_share,
        warm: Vec::new(),
    }
}

/// When instance `k` became warm on each symbol of `core`.
fn warm_of(bt: &Backtest, core: &CoreConfig, k: usize) -> Vec<Warm> {
    core.instruments
        .iter()
        .filter_map(|ins| {
            let (at, warmup) = bt.core.strategy_readiness(k, ins.id)?;
            Some(Warm {
                symbol: ins.name.to_string(),
                warmup: warmup.to_string(),
                at: at.map(|t| crate::position::format_utc(t.0)),
            })
        })
        .collect()
}

/// Each regime's share of the market-data inputs (bars, or ticks), over
/// every symbol: by data, so a gap between data segments counts for none
/// (by time, a 21-month gap counted for the regime it began in).
fn regime_shares(r: &Recorder) -> [f64; 4] {
    let spent = r.regime_inputs;
    let total: u64 = spent.iter().sum();
    spent.map(|s| {
        if total == 0 {
            0.0
        } else {
            s as f64 / total as f64
        }
    })
}

pub use crate::whole::pretty_json;

impl Report {
    /// The report of a finished backtest.
    pub fn new(bt: &Backtest, core: &CoreConfig, cfg: &super::settings::BacktestConfig) -> Report {
        let r = &bt.recorder;
        let acct = bt.core.account();
        let equity: Vec<f64> = r.equity.iter().map(|(_, e)| f(*e)).collect();
        let rets = metrics::returns(&equity);
        let ppy = cfg.periods_per_year as f64;
        let pnls: Vec<f64> = r.trips.iter().map(|t| f(t.pnl)).collect();
        let (first, last) = r.span.unwrap_or((0, 0));
        let span = last.saturating_sub(first);
        let start = acct.start();
        let end = acct.equity();
        let pnl = end.checked_sub(start).unwrap_or(Money::ZERO);
        let shares = regime_shares(r);
        let per_regime = Regime::ALL
            .iter()
            .map(|&g| {
                let trips = r.trips.iter().filter(|t| t.regime == g);
                breakdown(g.name().to_string(), trips, Some(shares[g as usize]))
            })
            .collect();
        let instances = &core.strategy.instances;
        let mut per_strategy: Vec<Breakdown> = (0..instances.len())
            .map(|k| {
                let i = u8::try_from(k).unwrap_or(u8::MAX);
                let trips = r.trips.iter().filter(|t| t.strategy == Some(i));
                Breakdown {
                    warm: warm_of(bt, core, k),
                    ..breakdown(strategy_name(i, instances), trips, None)
                }
            })
            .collect();
        if r.trips.iter().any(|t| t.strategy.is_none()) {
            let trips = r.trips.iter().filter(|t| t.strategy.is_none());
            per_strategy.push(breakdown(
                "none (operator, liquidation)".into(),
                trips,
                None,
            ));
        }
        let st = bt.core.stats();
        Report {
            data: DataInfo {
                symbols: core
                    .instruments
                    .iter()
                    .map(|i| i.name.as_str().to_string())
                    .collect(),
                events: bt.data_events,
                first_ms: first / 1_000_000,
                last_ms: last / 1_000_000,
            },
            account: AccountInfo {
                start: start.to_string(),
                end_equity: end.to_string(),
                pnl: pnl.to_string(),
                balance: acct.balance().to_string(),
                realized: acct.realized().to_string(),
                fees: acct.fees().to_string(),
                funding: acct.funding().to_string(),
                exchange_wallet: bt.exchange.wallet().to_string(),
                fees_share_of_gross: (!acct.realized().is_zero())
                    .then(|| f(acct.fees()) / f(acct.realized()).abs()),
            },
            total_return: if start.is_positive() {
                f(pnl) / f(start)
            } else {
                0.0
            },
            sharpe: metrics::sharpe(&rets, ppy),
            sortino: metrics::sortino(&rets, ppy),
            max_drawdown: metrics::max_drawdown(&equity).0,
            round_trips: metrics::trip_stats(&pnls),
            data_days: bt.data_days,
            round_trips_per_day: (bt.data_days > 0)
                .then(|| pnls.len() as f64 / bt.data_days as f64),
            fills: r.fills.len() as u64,
            exposure: if span == 0 {
                0.0
            } else {
                r.exposed_ns as f64 / span as f64
            },
            returns_secs: cfg.returns_secs,
            periods_per_year: cfg.periods_per_year,
            per_regime,
            per_strategy,
            exchange: bt.exchange.stats(),
            core: CoreInfo {
                orders: st.orders,
                fills: st.fills,
                rejects: st.rejects,
                vetoes: st.vetoes,
                alerts: st.alerts,
                signals: st.signals,
                regime_changes: st.regime_changes,
                gap_restarts: st.gap_restarts,
                state: format!("{:?}", bt.core.state()),
                mode: format!("{:?}", bt.core.mode()),
                digest: format!("{:016x}", bt.core.digest()),
                vetoes_by_rule: crate::summary::ranked_vetoes(st),
                time_in_state: st.state_shares(),
                advisor: AdvisorInfo::of(bt.core.advisor_stats()),
            },
            halts: r.halts.iter().map(|h| halt_info(h, core)).collect(),
        }
    }

    /// `report.json`.
    pub fn to_json(&self) -> String {
        pretty_json(self)
    }

    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "backtest of {} events ({}), {} → {}",
            self.data.events,
            self.data.symbols.join(", "),
            self.data.first_ms,
            self.data.last_ms
        );
        let a = &self.account;
        let _ = writeln!(
            s,
            "  return {}  PnL {} USDT (realized {}, fees {}, funding {})",
            pct(self.total_return),
            a.pnl,
            a.realized,
            a.fees,
            a.funding
        );
        let t = &self.round_trips;
        let _ = writeln!(
            s,
            "  Sharpe {}  Sortino {}  max drawdown {}  exposure {}",
            opt(self.sharpe),
            opt(self.sortino),
            pct(self.max_drawdown),
            pct(self.exposure)
        );
        let _ = writeln!(
            s,
            "  {} round trips ({} a day over {} days with data), win rate {}, profit factor {}; {} fills; {} liquidations",
            t.trades,
            opt(self.round_trips_per_day),
            self.data_days,
            t.win_rate.map_or("-".into(), pct),
            opt(t.profit_factor),
            self.fills,
            self.exchange.liquidations
        );
        let _ = writeln!(
            s,
            "  fees {} USDT: {} |realized PnL before fees| ({} USDT)",
            a.fees,
            self.account
                .fees_share_of_gross
                .map_or("-".into(), |x| format!("{x:.2} ×")),
            a.realized
        );
        let _ = writeln!(
            s,
            "  vetoes by rule {}",
            crate::summary::vetoes_by_rule(&self.core.vetoes_by_rule, 5)
        );
        if let Some(a) = &self.core.advisor {
            let _ = writeln!(
                s,
                "  advisor: {} feature vectors, {} predictions kept ({} late, {} refused); entries cut {}, refused {}, without fresh advice {}",
                a.vectors, a.predictions, a.late, a.refused, a.cut, a.vetoed, a.no_advice
            );
        }
        let _ = writeln!(
            s,
            "  {}",
            crate::summary::time_in_state(self.core.time_in_state)
        );
        for h in &self.halts {
            let _ = writeln!(s, "  {}", h.line());
        }
        for b in &self.per_strategy {
            let warm: Vec<String> = b
                .warm
                .iter()
                .map(|w| match &w.at {
                    Some(at) => format!("{} warm at {at} ({})", w.symbol, w.warmup),
                    None => format!("{} never warm ({} needed)", w.symbol, w.warmup),
                })
                .collect();
            let _ = writeln!(
                s,
                "  strategy {:<28} {:>6} trips  PnL {}{}{}",
                b.name,
                b.trips.trades,
                b.pnl,
                if warm.is_empty() { "" } else { "; " },
                warm.join(", ")
            );
        }
        for b in self.per_regime.iter().filter(|b| b.trips.trades > 0) {
            let _ = writeln!(
                s,
                "  regime   {:<28} {:>6} trips  PnL {}",
                b.name, b.trips.trades, b.pnl
            );
        }
        s
    }
}

fn halt_info(h: &super::record::Halt, core: &CoreConfig) -> HaltInfo {
    HaltInfo {
        at: crate::position::format_utc(h.at_ms.saturating_mul(1_000_000)),
        at_ms: h.at_ms,
        cause: format!("{:?}", h.cause),
        input: h.seq,
        equity: format!("{:.2}", h.equity),
        open: h
            .open
            .iter()
            .map(|p| OpenPosition {
                symbol: symbol_name(core, p.symbol).to_string(),
                qty: p.qty.to_string(),
                entry: p.entry.map(|e| e.to_string()),
                unrealized: format!("{:.2}", p.unrealized),
            })
            .collect(),
        lifted: h.lifted.map(|(ms, why)| {
            (
                crate::position::format_utc(ms.saturating_mul(1_000_000)),
                format!("{why:?}"),
            )
        }),
    }
}

/// `trades.csv`: every fill.
pub fn trades_csv(r: &Recorder, core: &CoreConfig) -> String {
    let header = [
        "time_ms",
        "symbol",
        "side",
        "price",
        "qty",
        "fee",
        "liquidity",
        "origin",
        "strategy",
        "realized_pnl",
    ];
    let rows = r.fills.iter().map(|x| {
        [
            x.time_ms.to_string(),
            symbol_name(core, x.symbol).to_string(),
            format!("{:?}", x.side),
            x.price.to_string(),
            x.qty.to_string(),
            x.fee.to_string(),
            format!("{:?}", x.liquidity),
            format!("{:?}", x.origin),
            x.strategy.map_or(String::new(), |i| {
                strategy_name(i, &core.strategy.instances)
            }),
            x.realized.to_string(),
        ]
    });
    crate::text::csv_text(&header, rows)
}

/// The Parquet types of `trades.csv`'s columns.
pub const TRADES_KINDS: [Kind; 10] = [
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Decimal,
];

/// The Parquet types of `round_trips.csv`'s columns.
pub const TRIPS_KINDS: [Kind; 13] = [
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
];

/// The Parquet types of `equity.csv`'s columns.
pub const EQUITY_KINDS: [Kind; 2] = [Kind::Int, Kind::Decimal];

/// `equity.csv`: the equity on the report's sampling grid, then at the
/// end (exchange time ms, USDT).
pub fn equity_csv(r: &Recorder) -> String {
    let rows = r.equity.iter().map(|(t, e)| [t.to_string(), e.to_string()]);
    crate::text::csv_text(&["time_ms", "equity"], rows)
}

/// `round_trips.csv`: every closed round trip.
pub fn trips_csv(r: &Recorder, core: &CoreConfig) -> String {
    let header = [
        "opened_ms",
        "closed_ms",
        "symbol",
        "side",
        "strategy",
        "origin",
        "regime",
        "pnl",
        "fees",
        "entry",
        "exit",
        "stop",
        "target",
    ];
    let rows = r.trips.iter().map(|t| {
        let side = if t.side == autobot_engine::types::Side::Buy {
            "long"
        } else {
            "short"
        };
        [
            t.opened_ms.to_string(),
            t.closed_ms.to_string(),
            symbol_name(core, t.symbol).to_string(),
            side.to_string(),
            t.strategy.map_or(String::new(), |i| {
                strategy_name(i, &core.strategy.instances)
            }),
            format!("{:?}", t.origin),
            t.regime.name().to_string(),
            t.pnl.to_string(),
            t.fees.to_string(),
            t.entry.to_string(),
            t.exit.to_string(),
            t.stop.map_or(String::new(), |p| p.to_string()),
            t.take.map_or(String::new(), |p| p.to_string()),
        ]
    });
    crate::text::csv_text(&header, rows)
}

pub(crate) fn symbol_name(core: &CoreConfig, sym: SymbolId) -> &str {
    core.instruments
        .get(usize::from(sym.0))
        .map_or("?", |i| i.name.as_str())
}
