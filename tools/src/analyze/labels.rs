//! The blunder analyzer's judgement: excursions, labels (each with its
//! rule written down) and the hypothetical outcome of a vetoed intent.
//! Pure functions of a trip's facts and a price path, so each label is
//! tested on a hand-built trip.

use serde::Serialize;

/// Minutes after a stop exit in which reaching the target marks the stop
/// as a blunder.
pub const STOP_THEN_TARGET_MINUTES: u64 = 60;
/// Fees at least this share of |gross PnL| make a trip fee-dominated.
pub const FEE_SHARE: f64 = 0.5;
/// Share of the whole move that came before the fill for a late entry.
pub const LATE_SHARE: f64 = 2.0 / 3.0;
/// Shortest lookback before an entry for the late-entry rule, minutes.
pub const LATE_LOOKBACK_MINUTES: u64 = 15;

/// A label and its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Stopped out, then the target was reached soon after.
    StoppedThenTarget,
    /// The fees took much of the gross.
    FeeDominated,
    /// Against the higher-timeframe regime.
    AgainstTrend,
    /// Closed by the max-hold rule while in profit.
    MaxHoldInProfit,
    /// Most of the move happened before the fill.
    LateEntry,
}

impl Label {
    /// Every label.
    pub const ALL: [Label; 5] = [
        Label::StoppedThenTarget,
        Label::FeeDominated,
        Label::AgainstTrend,
        Label::MaxHoldInProfit,
        Label::LateEntry,
    ];

    /// Its name in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            Label::StoppedThenTarget => "stopped_then_target",
            Label::FeeDominated => "fee_dominated",
            Label::AgainstTrend => "against_trend",
            Label::MaxHoldInProfit => "max_hold_in_profit",
            Label::LateEntry => "late_entry",
        }
    }

    /// Its rule, in words.
    pub fn rule(self) -> String {
        match self {
            Label::StoppedThenTarget => format!(
                "closed by its stop (the core's or the exchange's), and the price reached the target within {STOP_THEN_TARGET_MINUTES} minutes after the exit"
            ),
            Label::FeeDominated => format!(
                "the fees were at least {:.0}% of the gross PnL (realized before fees)",
                FEE_SHARE * 100.0
            ),
            Label::AgainstTrend => {
                "entered long in a bear regime or short in a bull regime (the core's regime, from the higher timeframe when configured, at the entry)".into()
            }
            Label::MaxHoldInProfit => {
                "closed by the maximum hold time while its PnL was positive: the exit came from the clock, not the market".into()
            }
            Label::LateEntry => format!(
                "at least {:.0}% of the move came before the fill: the move in the trade's direction over the lookback (the time in the trade, at least {LATE_LOOKBACK_MINUTES} minutes) before the entry, against that move plus the best move after it",
                LATE_SHARE * 100.0
            ),
        }
    }
}

/// Long or short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl Dir {
    fn sign(self) -> f64 {
        match self {
            Dir::Long => 1.0,
            Dir::Short => -1.0,
        }
    }
}

/// How far the price went for and against a trip while it was open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Excursions {
    /// Most favourable move, basis points of the entry.
    pub mfe_bp: f64,
    /// Most adverse move, basis points of the entry (positive).
    pub mae_bp: f64,
    /// The same in multiples of the initial risk (entry to stop), when a
    /// stop was set.
    pub mfe_r: Option<f64>,
    /// See `mfe_r`.
    pub mae_r: Option<f64>,
}

/// The excursions of a trip entered at `entry` in `dir` over the prices
/// seen while it was open, with initial risk `risk` (price distance).
pub fn excursions(
    dir: Dir,
    entry: f64,
    prices: impl Iterator<Item = f64>,
    risk: Option<f64>,
) -> Excursions {
    let (mut best, mut worst) = (0.0f64, 0.0f64);
    for p in prices {
        let m = (p - entry) * dir.sign();
        best = best.max(m);
        worst = worst.min(m);
    }
    let bp = |m: f64| if entry > 0.0 { m / entry * 1e4 } else { 0.0 };
    let r = |m: f64| risk.filter(|r| *r > 0.0).map(|r| m / r);
    Excursions {
        mfe_bp: bp(best),
        mae_bp: bp(-worst),
        mfe_r: r(best),
        mae_r: r(-worst),
    }
}

/// What the analyzer knows of a closed trip.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// Long or short (`None` never: a trip has a side).
    pub dir: Option<Dir>,
    /// Average entry price.
    pub entry: f64,
    /// The exit's cause (`StopLoss`, `Protect`, `MaxHold`, `Strategy`, …).
    pub exit_origin: String,
    /// The target the holder set, if any.
    pub target: Option<f64>,
    /// Realized PnL before fees.
    pub gross: f64,
    /// Fees paid.
    pub fees: f64,
    /// The regime at entry (`bull`, `bear`, `range`, `high_vol`).
    pub regime: String,
    /// Best favourable move after the fill, price units.
    pub best_move: f64,
    /// The move in the trade's direction over the lookback before the fill.
    pub move_before: f64,
    /// Prices from the exit for [`STOP_THEN_TARGET_MINUTES`] after it.
    pub after_exit: Vec<f64>,
}

/// The labels a trip earns.
pub fn labels(f: &Facts) -> Vec<Label> {
    let mut out = Vec::new();
    let Some(dir) = f.dir else { return out };
    let stopped = matches!(f.exit_origin.as_str(), "StopLoss" | "Protect");
    if stopped
        && let Some(t) = f.target
        && f.after_exit.iter().any(|p| (p - t) * dir.sign() >= 0.0)
    {
        out.push(Label::StoppedThenTarget);
    }
    if f.gross != 0.0 && f.fees >= FEE_SHARE * f.gross.abs() {
        out.push(Label::FeeDominated);
    }
    if matches!(
        (dir, f.regime.as_str()),
        (Dir::Long, "bear") | (Dir::Short, "bull")
    ) {
        out.push(Label::AgainstTrend);
    }
    if f.exit_origin == "MaxHold" && f.gross - f.fees > 0.0 {
        out.push(Label::MaxHoldInProfit);
    }
    let total = f.move_before.max(0.0) + f.best_move.max(0.0);
    if f.move_before > 0.0 && f.move_before >= LATE_SHARE * total {
        out.push(Label::LateEntry);
    }
    out
}

/// A vetoed intent's hypothetical trade.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Hypothetical {
    /// Exit price.
    pub exit: f64,
    /// Why it ended: `stop`, `target` or `horizon`.
    pub ended: &'static str,
    /// PnL after taker fees on both sides, USDT.
    pub pnl: f64,
    /// Minutes it would have lasted.
    pub minutes: f64,
}

/// What a vetoed intent in `dir` for `qty` at `entry` would have done:
/// it exits at the first price at or past its `stop` or `target` on the
/// `path` after the veto (ms, price), or at the last price within
/// `horizon_ms`; taker `fee` (a rate) on both sides. Hypothetical: the
/// real exchange model would have filled it at its own price.
pub fn counterfactual(
    (dir, qty, entry): (Dir, f64, f64),
    (stop, target): (Option<f64>, Option<f64>),
    path: &[(u64, f64)],
    horizon_ms: u64,
    fee: f64,
) -> Option<Hypothetical> {
    let &(t0, _) = path.first()?;
    let mut last = None;
    for &(t, p) in path {
        if t.saturating_sub(t0) > horizon_ms {
            break;
        }
        let m = (p - entry) * dir.sign();
        let ended = match (stop, target) {
            (Some(s), _) if (s - entry) * dir.sign() >= m => Some(("stop", s)),
            (_, Some(g)) if m >= (g - entry) * dir.sign() => Some(("target", g)),
            _ => None,
        };
        if let Some((why, at)) = ended {
            return Some(outcome(dir, qty, entry, (t - t0, at, why), fee));
        }
        last = Some((t, p));
    }
    let (t, p) = last?;
    Some(outcome(dir, qty, entry, (t - t0, p, "horizon"), fee))
}

fn outcome(
    dir: Dir,
    qty: f64,
    entry: f64,
    (ms, exit, ended): (u64, f64, &'static str),
    fee: f64,
) -> Hypothetical {
    let gross = (exit - entry) * dir.sign() * qty;
    let fees = fee * qty * (entry + exit);
    Hypothetical {
        exit,
        ended,
        pnl: gross - fees,
        minutes: ms as f64 / 60_000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long() -> Facts {
        Facts {
            dir: Some(Dir::Long),
            entry: 100.0,
            exit_origin: "Strategy".into(),
            target: Some(104.0),
            gross: 10.0,
            fees: 1.0,
            regime: "bull".into(),
            best_move: 3.0,
            move_before: 0.5,
            after_exit: Vec::new(),
        }
    }

    #[test]
    fn excursions_in_bp_and_r() {
        let e = excursions(
            Dir::Long,
            100.0,
            [100.0, 101.0, 99.5, 102.0, 100.5].into_iter(),
            Some(2.0),
        );
        assert!(
            (e.mfe_bp - 200.0).abs() < 1e-9 && (e.mae_bp - 50.0).abs() < 1e-9,
            "{e:?}"
        );
        assert_eq!((e.mfe_r, e.mae_r), (Some(1.0), Some(0.25)));
        let s = excursions(Dir::Short, 100.0, [101.0, 97.0].into_iter(), None);
        assert!((s.mfe_bp - 300.0).abs() < 1e-9 && (s.mae_bp - 100.0).abs() < 1e-9);
        assert_eq!(s.mfe_r, None);
    }

    #[test]
    fn a_clean_trip_earns_no_label() {
        assert!(labels(&long()).is_empty());
    }

    #[test]
    fn each_label_by_its_rule() {
        let stopped = Facts {
            exit_origin: "StopLoss".into(),
            after_exit: vec![99.0, 102.0, 104.5],
            ..long()
        };
        assert_eq!(labels(&stopped), [Label::StoppedThenTarget]);
        let not_reached = Facts {
            after_exit: vec![99.0, 103.9],
            ..stopped.clone()
        };
        assert!(labels(&not_reached).is_empty());
        let fees = Facts {
            gross: -4.0,
            fees: 2.0,
            ..long()
        };
        assert_eq!(labels(&fees), [Label::FeeDominated]);
        let against = Facts {
            regime: "bear".into(),
            ..long()
        };
        assert_eq!(labels(&against), [Label::AgainstTrend]);
        let short_in_bull = Facts {
            dir: Some(Dir::Short),
            ..long()
        };
        assert_eq!(labels(&short_in_bull), [Label::AgainstTrend]);
        let held = Facts {
            exit_origin: "MaxHold".into(),
            ..long()
        };
        assert_eq!(labels(&held), [Label::MaxHoldInProfit]);
        let held_at_a_loss = Facts {
            gross: 0.5,
            ..held.clone()
        };
        assert!(!labels(&held_at_a_loss).contains(&Label::MaxHoldInProfit));
        // 6 before, 3 after: two thirds came before.
        let late = Facts {
            move_before: 6.0,
            best_move: 3.0,
            ..long()
        };
        assert_eq!(labels(&late), [Label::LateEntry]);
        let early = Facts {
            move_before: 5.9,
            best_move: 3.0,
            ..long()
        };
        assert!(labels(&early).is_empty());
        for l in Label::ALL {
            assert!(!l.rule().is_empty() && !l.name().is_empty());
        }
    }

    #[test]
    fn a_vetoed_intent_ends_at_its_stop_target_or_horizon() {
        let path = [
            (0, 100.0),
            (60_000, 101.0),
            (120_000, 98.5),
            (180_000, 106.0),
        ];
        // Stop at 99 is hit at minute 2, before the target.
        let h = counterfactual(
            (Dir::Long, 2.0, 100.0),
            (Some(99.0), Some(105.0)),
            &path,
            3_600_000,
            0.0004,
        )
        .unwrap();
        assert_eq!((h.ended, h.exit), ("stop", 99.0));
        assert!(
            (h.pnl - (-2.0 - 0.0004 * 2.0 * 199.0)).abs() < 1e-9,
            "{h:?}"
        );
        assert!((h.minutes - 2.0).abs() < 1e-9);
        // Short: the same path takes its target at 98.5.
        let s = counterfactual(
            (Dir::Short, 1.0, 100.0),
            (Some(102.0), Some(98.5)),
            &path,
            3_600_000,
            0.0,
        )
        .unwrap();
        assert_eq!((s.ended, s.exit, s.pnl), ("target", 98.5, 1.5));
        // Neither within the horizon: the last price inside it.
        let o = counterfactual(
            (Dir::Long, 1.0, 100.0),
            (Some(90.0), Some(110.0)),
            &path,
            90_000,
            0.0,
        )
        .unwrap();
        assert_eq!((o.ended, o.exit), ("horizon", 101.0));
        assert!(counterfactual((Dir::Long, 1.0, 100.0), (None, None), &[], 1, 0.0).is_none());
    }
}
