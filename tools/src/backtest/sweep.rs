//! `autobot backtest --sweep` and `--walk-forward`: many backtests of one
//! data set, each a whole deterministic run of its own configuration, on
//! parallel threads.
//!
//! # Invariants
//! - A grid point is the base configuration file with some keys replaced,
//!   validated like any configuration: a key the file does not have, a
//!   value of the wrong type or out of range is refused before anything
//!   runs, naming the point.
//! - Results are ordered by grid point and fold, never by which thread
//!   finished first, so a sweep writes the same bytes every time.
//! - Walk-forward picks each fold's point from its in-sample window only
//!   (highest Sharpe, then return, then the first point) and reports its
//!   out-of-sample run beside it.

use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::output;
use super::report::Report;
use super::run::{BacktestError, DataSource, Window, run_backtest};
use crate::config::AppConfig;

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A `--sweep` argument is not `key=v1,v2,...`.
    #[error("--sweep {0:?}: expected key=v1,v2,... (a configuration key, then its values)")]
    Syntax(String),
    /// The configuration has no such key.
    #[error("--sweep {key}: the configuration has no key `{key}`{hint}")]
    NoKey {
        /// The key.
        key: String,
        /// Where the path stopped.
        hint: String,
    },
    /// A value is not TOML of the key's type.
    #[error("--sweep {key}={value}: {reason}")]
    Value {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A grid point's configuration is invalid.
    #[error("grid point {point}: {reason}")]
    Point {
        /// The point's settings.
        point: String,
        /// The configuration's error.
        reason: String,
    },
    /// The data holds too little time to split.
    #[error("--walk-forward {folds}: {reason}")]
    Split {
        /// Folds asked for.
        folds: u32,
        /// Why.
        reason: String,
    },
    /// A backtest failed.
    #[error("{point}: {source}")]
    Run {
        /// The point (and window).
        point: String,
        /// The backtest's error.
        source: BacktestError,
    },
    /// A report could not be written.
    #[error("{0}")]
    Write(String),
}

/// One `--sweep key=v1,v2,...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// A dotted configuration key; array elements by index
    /// (`strategy.instances.0.fast`).
    pub key: String,
    /// Its values, as written.
    pub values: Vec<String>,
}

impl FromStr for Axis {
    type Err = SweepError;

    fn from_str(s: &str) -> Result<Axis, SweepError> {
        let (key, values) = s
            .split_once('=')
            .ok_or_else(|| SweepError::Syntax(s.to_string()))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if key.trim().is_empty() || values.iter().any(String::is_empty) {
            return Err(SweepError::Syntax(s.to_string()));
        }
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// Sets `key` of `table` to `value`. The key must exist; a value of a
/// string key is taken as written (decimals are strings in our files),
/// any other is read as a TOML value of the same type.
pub fn set_key(table: &mut toml::Table, key: &str, value: &str) -> Result<(), SweepError> {
    let no_key = |hint: String| SweepError::NoKey {
        key: key.to_string(),
        hint,
    };
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or_default();
    let mut at = table.get_mut(first).ok_or_else(|| no_key(String::new()))?;
    let mut walked = first.to_string();
    for part in parts {
        let next = match at {
            toml::Value::Table(t) => t.get_mut(part),
            toml::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        at = next.ok_or_else(|| no_key(format!(" (`{walked}` has no `{part}`)")))?;
        walked = format!("{walked}.{part}");
    }
    let bad = |reason: String| SweepError::Value {
        key: key.to_string(),
        value: value.to_string(),
        reason,
    };
    let new = match &*at {
        toml::Value::String(_) => toml::Value::String(value.to_string()),
        toml::Value::Table(_) => return Err(bad("the key is a table, not a value".into())),
        old => {
            let parsed: toml::Table = toml::from_str(&format!("v = {value}"))
                .map_err(|_| bad(format!("not a TOML value (the key holds {old})")))?;
            let v = parsed
                .get("v")
                .cloned()
                .unwrap_or(toml::Value::Boolean(false));
            if v.type_str() != old.type_str() {
                return Err(bad(format!(
                    "a {} where the key holds a {} ({old})",
                    v.type_str(),
                    old.type_str()
                )));
            }
            v
        }
    };
    *at = new;
    Ok(())
}

/// One configuration of the grid.
#[derive(Clone, Debug)]
pub struct Point {
    /// `key=value` of each axis, in the order given.
    pub settings: Vec<(String, String)>,
    /// The configuration.
    pub config: AppConfig,
}

impl Point {
    /// `key=value,key=value` (`base` for a grid without axes).
    pub fn label(&self) -> String {
        label(&self.settings)
    }
}

fn label(settings: &[(String, String)]) -> String {
    if settings.is_empty() {
        return "base".into();
    }
    let parts: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(",")
}

/// Every combination of `axes` over the configuration file `path` (the
/// first axis varies slowest), each validated.
pub fn grid(path: &Path, axes: &[Axis]) -> Result<Vec<Point>, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|e| SweepError::Point {
        point: "base".into(),
        reason: format!("{}: {e}", path.display()),
    })?;
    let base: toml::Table = toml::from_str(&text).map_err(|e| SweepError::Point {
        point: "base".into(),
        reason: format!("{}: {e}", path.display()),
    })?;
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                axis.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((axis.key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .map(|settings| {
            let mut table = base.clone();
            for (k, v) in &settings {
                set_key(&mut table, k, v)?;
            }
            let text = toml::to_string(&table).unwrap_or_default();
            let config: AppConfig =
                autobot_engine::config::parse(path, &text).map_err(|e| SweepError::Point {
                    point: label(&settings),
                    reason: e.to_string(),
                })?;
            Ok(Point { settings, config })
        })
        .collect()
}

/// The figures of one run that a grid compares.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    /// The point's settings.
    pub settings: Vec<(String, String)>,
    /// Its window, when only part of the data ran.
    pub window: Option<Window>,
    /// Data inputs replayed.
    pub events: u64,
    /// PnL over the starting balance.
    pub total_return: f64,
    /// Net PnL, USDT.
    pub pnl: String,
    /// Fees, USDT.
    pub fees: String,
    /// Annualized Sharpe.
    pub sharpe: Option<f64>,
    /// Annualized Sortino.
    pub sortino: Option<f64>,
    /// Max drawdown, fraction.
    pub max_drawdown: f64,
    /// Round trips.
    pub trades: u64,
    /// Won / trades.
    pub win_rate: Option<f64>,
    /// Gross profit over gross loss.
    pub profit_factor: Option<f64>,
    /// Fills.
    pub fills: u64,
    /// Realized PnL before fees, USDT.
    pub realized: String,
    /// UTC days with data.
    pub data_days: u64,
    /// The core's output digest.
    pub digest: String,
}

impl Outcome {
    fn of(settings: &[(String, String)], window: Option<Window>, r: &Report) -> Outcome {
        Outcome {
            settings: settings.to_vec(),
            window,
            events: r.data.events,
            total_return: r.total_return,
            pnl: r.account.pnl.clone(),
            fees: r.account.fees.clone(),
            sharpe: r.sharpe,
            sortino: r.sortino,
            max_drawdown: r.max_drawdown,
            trades: r.round_trips.trades,
            win_rate: r.round_trips.win_rate,
            profit_factor: r.round_trips.profit_factor,
            fills: r.fills,
            realized: r.account.realized.clone(),
            data_days: r.data_days,
            digest: r.core.digest.clone(),
        }
    }

    /// Ranking key: Sharpe (a run without one ranks below any), then
    /// return.
    fn rank(&self) -> (f64, f64) {
        (self.sharpe.unwrap_or(f64::NEG_INFINITY), self.total_return)
    }
}

/// Runs `jobs` on up to `threads` threads; results in job order.
fn parallel<J: Sync, R: Send>(
    jobs: &[J],
    threads: usize,
    run: impl Fn(usize, &J) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, jobs.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = run(i, job);
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `point` over `data` in `window` and, when `out` is given, writes
/// its full report there.
fn run_point(
    point: &Point,
    data: &DataSource,
    window: Option<Window>,
    out: Option<&Path>,
) -> Result<Outcome, SweepError> {
    let failed = |source| SweepError::Run {
        point: match window {
            Some(w) => format!("{} in {} .. {} ms", point.label(), w.from_ms, w.to_ms),
            None => point.label(),
        },
        source,
    };
    let done = run_backtest(&point.config, data, window, false).map_err(failed)?;
    let rep = Report::new(&done.backtest, &done.core, &point.config.backtest);
    if let Some(dir) = out {
        output::write(dir, &rep, (&done.backtest, &done.core), &point.config)
            .map_err(|e| SweepError::Write(format!("{}: {e}", dir.display())))?;
    }
    Ok(Outcome::of(&point.settings, window, &rep))
}

/// Runs every point over the whole data on `threads` threads, writing
/// each point's report into `out/pNNN/`.
pub fn sweep(
    points: &[Point],
    data: &DataSource,
    threads: usize,
    out: &Path,
) -> Result<Vec<Outcome>, SweepError> {
    let all: Vec<usize> = (0..points.len()).collect();
    sweep_points(points, &all, data, threads, out)
}

/// Runs the points of `indices` (a shard's slice) as [`sweep`] does; the
/// outcomes in the order of `indices`, each report under its index in the
/// whole grid.
pub fn sweep_points(
    points: &[Point],
    indices: &[usize],
    data: &DataSource,
    threads: usize,
    out: &Path,
) -> Result<Vec<Outcome>, SweepError> {
    parallel(indices, threads, |_, &i| {
        run_point(&points[i], data, None, Some(&out.join(format!("p{i:03}"))))
    })
    .into_iter()
    .collect()
}

/// One walk-forward fold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fold {
    /// 1-based.
    pub fold: u32,
    /// The window the point was chosen in.
    pub in_sample: Window,
    /// The window it was then run on.
    pub out_of_sample: Window,
    /// The chosen point's index in the grid.
    pub chosen: usize,
    /// Every point's in-sample outcome.
    pub grid: Vec<Outcome>,
    /// The chosen point's out-of-sample outcome.
    pub result: Outcome,
}

/// `walk_forward.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    /// The data's span, ms.
    pub span: Window,
    /// The folds.
    pub folds: Vec<Fold>,
    /// Sum of the out-of-sample PnLs, USDT (each fold starts fresh).
    pub out_of_sample_pnl: f64,
    /// Out-of-sample folds with a positive PnL.
    pub out_of_sample_wins: u32,
    /// Mean in-sample Sharpe of the chosen points.
    pub mean_in_sample_sharpe: Option<f64>,
    /// Mean out-of-sample Sharpe.
    pub mean_out_of_sample_sharpe: Option<f64>,
}

/// `folds` rolling folds over the data whose input times (ms, ascending,
/// a sample as `run::data_times` takes) are `times`: the data is cut into
/// `folds + 1` consecutive windows holding equal shares of the inputs (a
/// hole in the data lies inside a window, never makes one empty); fold k
/// chooses in window k−1 and runs in window k.
pub fn windows(times: &[u64], folds: u32) -> Result<Vec<(Window, Window)>, SweepError> {
    let parts = usize::try_from(folds)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return Err(SweepError::Split {
            folds,
            reason: "the data holds no inputs".into(),
        });
    };
    let at = |k: usize| {
        if k == parts {
            last + 1
        } else {
            times[k * times.len() / parts]
        }
    };
    if folds == 0 || (1..=parts).any(|k| at(k) <= at(k - 1)) {
        return Err(SweepError::Split {
            folds,
            reason: format!(
                "{} sampled input times from {first} to {last} ms do not make {parts} windows",
                times.len()
            ),
        });
    }
    Ok((1..parts)
        .map(|k| {
            (
                Window {
                    from_ms: at(k - 1),
                    to_ms: at(k),
                },
                Window {
                    from_ms: at(k),
                    to_ms: at(k + 1),
                },
            )
        })
        .collect())
}

/// Walk-forward over `folds` folds of `span`: each fold runs the whole
/// grid in-sample, chooses, and runs the choice out-of-sample (its report
/// in `out/foldK/`).
pub fn walk_forward(
    points: &[Point],
    data: &DataSource,
    times: &[u64],
    folds: u32,
    threads: usize,
    out: &Path,
) -> Result<WalkForward, SweepError> {
    let splits = windows(times, folds)?;
    let span = (
        times.first().copied().unwrap_or(0),
        times.last().copied().unwrap_or(0),
    );
    let jobs: Vec<(usize, usize)> = (0..splits.len())
        .flat_map(|f| (0..points.len()).map(move |p| (f, p)))
        .collect();
    let in_sample: Vec<Outcome> = parallel(&jobs, threads, |_, &(f, p)| {
        run_point(&points[p], data, Some(splits[f].0), None)
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let chosen: Vec<usize> = in_sample
        .chunks(points.len())
        .map(|g| {
            (0..g.len())
                .reduce(|best, i| {
                    if g[i].rank() > g[best].rank() {
                        i
                    } else {
                        best
                    }
                })
                .unwrap_or(0)
        })
        .collect();
    let oos: Vec<Outcome> = parallel(&splits, threads, |f, (_, w)| {
        let dir = out.join(format!("fold{}", f + 1));
        run_point(&points[chosen[f]], data, Some(*w), Some(&dir))
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let mut result = WalkForward {
        span: Window {
            from_ms: span.0,
            to_ms: span.1 + 1,
        },
        folds: Vec::with_capacity(splits.len()),
        out_of_sample_pnl: oos
            .iter()
            .map(|o| o.pnl.parse::<f64>().unwrap_or(0.0))
            .sum(),
        out_of_sample_wins: oos
            .iter()
            .filter(|o| o.pnl.parse::<f64>().is_ok_and(|p| p > 0.0))
            .count() as u32,
        mean_in_sample_sharpe: mean(
            chosen
                .iter()
                .enumerate()
                .map(|(f, &c)| in_sample[f * points.len() + c].sharpe),
        ),
        mean_out_of_sample_sharpe: mean(oos.iter().map(|o| o.sharpe)),
    };
    for (f, ((is, os), res)) in splits.iter().zip(oos).enumerate() {
        result.folds.push(Fold {
            fold: f as u32 + 1,
            in_sample: *is,
            out_of_sample: *os,
            chosen: chosen[f],
            grid: in_sample[f * points.len()..(f + 1) * points.len()].to_vec(),
            result: res,
        });
    }
    Ok(result)
}

/// The mean of the values present; `None` when any is missing (a mean
/// over part of the folds would flatter).
fn mean(xs: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Option<Vec<f64>> = xs.collect();
    let v = v?;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The grid's outcomes as CSV, one row per point.
pub fn outcomes_csv(outcomes: &[Outcome]) -> String {
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    let header = [
        "point",
        "settings",
        "events",
        "total_return",
        "pnl",
        "fees",
        "sharpe",
        "sortino",
        "max_drawdown",
        "trades",
        "win_rate",
        "profit_factor",
        "fills",
        "digest",
    ];
    let rows = outcomes.iter().enumerate().map(|(i, o)| {
        let settings: Vec<String> = o.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        [
            i.to_string(),
            settings.join(";"),
            o.events.to_string(),
            o.total_return.to_string(),
            o.pnl.clone(),
            o.fees.clone(),
            opt(o.sharpe),
            opt(o.sortino),
            o.max_drawdown.to_string(),
            o.trades.to_string(),
            opt(o.win_rate),
            opt(o.profit_factor),
            o.fills.to_string(),
            o.digest.clone(),
        ]
    });
    crate::text::csv_text(&header, rows)
}

fn opt2(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.2}"))
}

fn row(label: &str, o: &Outcome) -> String {
    format!(
        "{label:<44} {:>8.2}% {:>8} {:>8.2}% {:>7} {:>7}\n",
        o.total_return * 100.0,
        opt2(o.sharpe),
        o.max_drawdown * 100.0,
        o.trades,
        o.win_rate
            .map_or("-".to_string(), |w| format!("{:.1}%", w * 100.0)),
    )
}

const HEAD: &str = "return   Sharpe    max DD  trades     win\n";

/// The sweep for the terminal: one line per point, best Sharpe marked.
pub fn sweep_table(outcomes: &[Outcome]) -> String {
    let all: Vec<usize> = (0..outcomes.len()).collect();
    points_table(&all, outcomes)
}

/// The table of some points (a shard's): `indices[j]` is the grid index
/// of `outcomes[j]`; the best of these marked.
pub fn points_table(indices: &[usize], outcomes: &[Outcome]) -> String {
    let best = (0..outcomes.len()).reduce(|b, i| {
        if outcomes[i].rank() > outcomes[b].rank() {
            i
        } else {
            b
        }
    });
    let mut s = format!("{:<44} {:>9} {HEAD}", "point", "");
    for (j, (i, o)) in indices.iter().zip(outcomes).enumerate() {
        let mark = if Some(j) == best { '*' } else { ' ' };
        s.push_str(&row(&format!("{mark}p{i:03} {}", label(&o.settings)), o));
    }
    s.push_str("* best Sharpe (then return)\n");
    s
}

/// The walk-forward for the terminal: per fold, the chosen point in and
/// out of sample.
pub fn walk_forward_table(points: &[Point], wf: &WalkForward) -> String {
    let mut s = format!("{:<44} {:>9} {HEAD}", "fold  window  point", "");
    for f in &wf.folds {
        let name = points[f.chosen].label();
        s.push_str(&row(
            &format!("{:>2} in   p{:03} {name}", f.fold, f.chosen),
            &f.grid[f.chosen],
        ));
        s.push_str(&row(
            &format!("{:>2} out  p{:03} {name}", f.fold, f.chosen),
            &f.result,
        ));
    }
    s.push_str(&format!(
        "out of sample: PnL {:.2} USDT over {} folds, {} positive; mean Sharpe in {} / out {}\n",
        wf.out_of_sample_pnl,
        wf.folds.len(),
        wf.out_of_sample_wins,
        opt2(wf.mean_in_sample_sharpe),
        opt2(wf.mean_out_of_sample_sharpe),
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_csv_quotes_what_needs_quoting() {
        // A sweep over a list value puts quotes and commas in `settings`.
        let o = Outcome {
            settings: vec![
                (
                    "strategy.instances.0.regimes".into(),
                    r#"["range", "bull"]"#.into(),
                ),
                ("strategy.instances.0.fast".into(), "20".into()),
            ],
            window: None,
            events: 7,
            total_return: 0.5,
            pnl: "1.5".into(),
            fees: "0.1".into(),
            sharpe: None,
            sortino: Some(1.25),
            max_drawdown: 0.1,
            trades: 3,
            win_rate: None,
            profit_factor: None,
            fills: 6,
            realized: "1.6".into(),
            data_days: 1,
            digest: "abc".into(),
        };
        let text = outcomes_csv(&[o]);
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            &rows[0][1],
            r#"strategy.instances.0.regimes=["range", "bull"];strategy.instances.0.fast=20"#
        );
        assert_eq!((&rows[0][2], &rows[0][13]), ("7", "abc"));
    }

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_key_is_set_by_its_path_and_keeps_its_type() {
        let mut t = table(
            "[risk]\nmax_position = \"0.05\"\nmin_hold_secs = 0\n[[strategy.instances]]\nfast = 20\n",
        );
        set_key(&mut t, "risk.max_position", "0.1").unwrap();
        set_key(&mut t, "risk.min_hold_secs", "30").unwrap();
        set_key(&mut t, "strategy.instances.0.fast", "10").unwrap();
        assert_eq!(
            t.to_string(),
            table("[risk]\nmax_position = \"0.1\"\nmin_hold_secs = 30\n[[strategy.instances]]\nfast = 10\n")
                .to_string()
        );
        let e = set_key(&mut t, "risk.min_hold", "1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no key `risk.min_hold` (`risk` has no `min_hold`)"),
            "{e}"
        );
        let e = set_key(&mut t, "strategy.instances.1.fast", "1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`strategy.instances` has no `1`"), "{e}");
        let e = set_key(&mut t, "risk.min_hold_secs", "ten")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a TOML value"), "{e}");
        let e = set_key(&mut t, "risk.min_hold_secs", "1.5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a float where the key holds a integer"), "{e}");
        let e = set_key(&mut t, "risk", "1").unwrap_err().to_string();
        assert!(e.contains("a table"), "{e}");
    }

    #[test]
    fn axes_parse_and_refuse_what_is_not_key_equals_values() {
        let a: Axis = "strategy.instances.0.fast=10, 20,40".parse().unwrap();
        assert_eq!(a.key, "strategy.instances.0.fast");
        assert_eq!(a.values, ["10", "20", "40"]);
        for bad in ["fast", "=1,2", "fast=", "fast=1,,2"] {
            assert!(bad.parse::<Axis>().is_err(), "{bad}");
        }
    }

    #[test]
    fn folds_cut_the_span_into_equal_rolling_windows() {
        // Nine inputs, a hole between 1002 and 5000: three windows of
        // three inputs each; the last ends after the last input.
        let times = [1000, 1001, 1002, 5000, 5001, 5002, 5003, 9000, 9001];
        let w = windows(&times, 2).unwrap();
        let pairs: Vec<(u64, u64, u64, u64)> = w
            .iter()
            .map(|(a, b)| (a.from_ms, a.to_ms, b.from_ms, b.to_ms))
            .collect();
        assert_eq!(pairs, [(1000, 5000, 5000, 5003), (5000, 5003, 5003, 9002)]);
        assert!(windows(&[5, 5, 5, 5], 1).is_err(), "one instant");
        assert!(windows(&times, 0).is_err());
        assert!(windows(&[], 1).is_err());
    }

    #[test]
    fn results_keep_job_order_whatever_thread_finishes_first() {
        // Four jobs on four threads, finishing in reverse: job i waits for
        // the 3 − i jobs after it.
        let finished = AtomicUsize::new(0);
        let order = Mutex::new(Vec::new());
        let jobs: Vec<usize> = (0..4).collect();
        let out = parallel(&jobs, 4, |i, j| {
            while finished.load(Ordering::Acquire) < 3 - i {
                std::thread::yield_now();
            }
            order.lock().unwrap().push(i);
            finished.fetch_add(1, Ordering::Release);
            j * 10
        });
        assert_eq!(*order.lock().unwrap(), [3, 2, 1, 0]);
        assert_eq!(out, [0, 10, 20, 30]);
    }
}
