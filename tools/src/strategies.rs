//! `autobot strategies` (`make strategies`): each shipped strategy
//! instance alone, judged out of sample by walk-forward over bar data, next
//! to holding the symbol over the same windows. Its parameters are chosen
//! in each fold's in-sample window only, from a small grid per kind
//! (`GRIDS`: the usual settings of each rule, not values fitted to any
//! file); every window starts flat with fresh indicators (they warm up
//! inside it), so nothing learned in one window reaches the next: the
//! windows are purged of each other's state.
//!
//! The table it writes is what `docs/strategies.md` shows between its
//! `<!-- strategies:begin -->` and `<!-- strategies:end -->` markers; each
//! instance's folds (`walk_forward.json`, with every in-sample grid point)
//! and out-of-sample reports are kept under `--out`.

use std::fmt::Write as _;
use std::path::Path;

use crate::backtest::metrics;
use crate::backtest::run::{DataSource, Window, data_times, prices};
use crate::backtest::sweep::{self, Axis, Outcome, SweepError};
use crate::config::AppConfig;

/// The in-sample grid of each kind: `key=v1,v2,...` of instance 0 (a kind
/// not listed runs as configured).
const GRIDS: [(&str, &[&str]); 3] = [
    (
        "trend",
        &[
            "strategy.instances.0.stop_atr=1.5,2,3",
            "strategy.instances.0.take_atr=3,4,6",
        ],
    ),
    (
        "mean_reversion",
        &[
            "strategy.instances.0.band_sd=1.5,2,2.5",
            "strategy.instances.0.period=10,20,40",
            "strategy.instances.0.fade=bands,vwap_bands",
        ],
    ),
    (
        "smc",
        &[
            "strategy.instances.0.swing=2,3,5",
            "strategy.instances.0.take_r=1.5,2,3",
        ],
    ),
];

/// One row of the table: a strategy's out-of-sample figures over every
/// fold, or holding the symbol.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// The instance's name, or `buy and hold`.
    pub name: String,
    /// Sum of the folds' returns (each fold starts from the same balance).
    pub total_return: f64,
    /// Mean of the folds' annualized Sharpe ratios.
    pub sharpe: Option<f64>,
    /// The worst fold's max drawdown.
    pub max_drawdown: f64,
    /// Round trips per day with data (none for holding).
    pub trades_per_day: Option<f64>,
    /// Fees over |realized PnL before fees| (none for holding).
    pub fee_share: Option<f64>,
}

/// The evaluation of every instance of `config` over `data`.
pub fn evaluate(
    config: &Path,
    data: &DataSource,
    folds: u32,
    jobs: usize,
    out: &Path,
) -> anyhow::Result<Vec<Row>> {
    let cfg = AppConfig::load(config)?;
    let names = cfg.strategy.names();
    let times = data_times(&cfg, data, 64)?;
    let windows = sweep::windows(&times, folds)?;
    let mut rows = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let alone = out.join(name);
        std::fs::create_dir_all(&alone)?;
        let path = alone.join("config.toml");
        crate::whole::write(&path, only_instance(config, k)?)?;
        let kind = cfg.strategy.instances[k].kind.name();
        let axes: Vec<Axis> = GRIDS
            .iter()
            .find(|(g, _)| *g == kind)
            .map_or(&[][..], |(_, a)| *a)
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()?;
        let points = sweep::grid(&path, &axes)?;
        let wf = sweep::walk_forward(&points, data, &times, folds, jobs, &alone)?;
        let json = crate::whole::pretty_json(&wf);
        crate::whole::write(&alone.join("walk_forward.json"), json)?;
        let oos: Vec<&Outcome> = wf.folds.iter().map(|f| &f.result).collect();
        rows.push(row(name, &oos));
    }
    rows.push(hold(
        &cfg,
        data,
        &windows.iter().map(|w| w.1).collect::<Vec<_>>(),
    )?);
    Ok(rows)
}

/// The configuration file `config` with only instance `k`.
fn only_instance(config: &Path, k: usize) -> Result<String, SweepError> {
    let bad = |reason: String| SweepError::Point {
        point: format!("instance {k}"),
        reason,
    };
    let text = std::fs::read_to_string(config).map_err(|e| bad(e.to_string()))?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let instances = table
        .get_mut("strategy")
        .and_then(|s| s.get_mut("instances"))
        .and_then(toml::Value::as_array_mut)
        .ok_or_else(|| bad("no [[strategy.instances]]".into()))?;
    let one = instances
        .get(k)
        .cloned()
        .ok_or_else(|| bad("no such instance".into()))?;
    *instances = vec![one];
    toml::to_string(&table).map_err(|e| bad(e.to_string()))
}

fn parse(x: &str) -> f64 {
    x.parse().unwrap_or(0.0)
}

fn row(name: &str, oos: &[&Outcome]) -> Row {
    let sharpes: Option<Vec<f64>> = oos.iter().map(|o| o.sharpe).collect();
    let days: u64 = oos.iter().map(|o| o.data_days).sum();
    let trades: u64 = oos.iter().map(|o| o.trades).sum();
    let fees: f64 = oos.iter().map(|o| parse(&o.fees)).sum();
    let gross: f64 = oos.iter().map(|o| parse(&o.realized)).sum();
    Row {
        name: name.to_string(),
        total_return: oos.iter().map(|o| o.total_return).sum(),
        sharpe: sharpes
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().sum::<f64>() / v.len() as f64),
        max_drawdown: oos.iter().map(|o| o.max_drawdown).fold(0.0, f64::max),
        trades_per_day: (days > 0).then(|| trades as f64 / days as f64),
        fee_share: (gross != 0.0).then(|| fees / gross.abs()),
    }
}

/// Holding the first symbol through each window: its return, Sharpe (of
/// its `returns_secs` returns) and drawdown, summed, averaged and worst as
/// for the strategies. Not held across a hole in the data longer than
/// `GAP_MS` (the file's segments): no strategy could trade there either.
fn hold(cfg: &AppConfig, data: &DataSource, windows: &[Window]) -> anyhow::Result<Row> {
    const GAP_MS: u64 = 3_600_000;
    let all = prices(cfg, data)?;
    let period_ms = cfg.backtest.returns_secs.max(1) * 1000;
    let ppy = cfg.backtest.periods_per_year as f64;
    let (mut total, mut sharpes, mut worst) = (0.0, Vec::new(), 0.0f64);
    for w in windows {
        let inside: Vec<(u64, f64)> = all
            .iter()
            .copied()
            .filter(|&(t, p)| t >= w.from_ms && t < w.to_ms && p > 0.0)
            .collect();
        let mut rets = Vec::new();
        for segment in inside.chunk_by(|a, b| b.0 - a.0 <= GAP_MS) {
            let (Some(first), Some(last)) = (segment.first(), segment.last()) else {
                continue;
            };
            total += last.1 / first.1 - 1.0;
            let closes: Vec<f64> = segment.iter().map(|x| x.1).collect();
            worst = worst.max(metrics::max_drawdown(&closes).0);
            // The last price of each period, and the returns between them.
            let mut marks: Vec<(u64, f64)> = Vec::new();
            for &(t, p) in segment {
                match marks.last_mut() {
                    Some(m) if m.0 == t / period_ms => m.1 = p,
                    _ => marks.push((t / period_ms, p)),
                }
            }
            rets.extend(marks.windows(2).map(|m| m[1].1 / m[0].1 - 1.0));
        }
        sharpes.extend(metrics::sharpe(&rets, ppy));
    }
    Ok(Row {
        name: "buy and hold".into(),
        total_return: total,
        sharpe: (sharpes.len() == windows.len() && !sharpes.is_empty())
            .then(|| sharpes.iter().sum::<f64>() / sharpes.len() as f64),
        max_drawdown: worst,
        trades_per_day: None,
        fee_share: None,
    })
}

/// The table as Markdown, with how it was made.
pub fn markdown(rows: &[Row], folds: u32, command: &str) -> String {
    let mut s = String::new();
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("-".into(), f);
    let _ = writeln!(
        s,
        "Out of sample over {folds} walk-forward folds (parameters chosen in each \
         fold's in-sample window), generated by `{command}`:\n"
    );
    let _ = writeln!(
        s,
        "| strategy | return | Sharpe | max drawdown | round trips / day | fees / \\|gross PnL\\| |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.name,
            pct(r.total_return),
            opt(r.sharpe, &|x| format!("{x:.2}")),
            pct(r.max_drawdown),
            opt(r.trades_per_day, &|x| format!("{x:.1}")),
            opt(r.fee_share, &|x| format!("{x:.1}×")),
        );
    }
    s
}

/// Replaces what lies between the markers of `doc` with `table`.
pub fn splice(doc: &str, table: &str) -> Option<String> {
    const BEGIN: &str = "<!-- strategies:begin -->";
    const END: &str = "<!-- strategies:end -->";
    let a = doc.find(BEGIN)? + BEGIN.len();
    let b = doc[a..].find(END)? + a;
    Some(format!("{}\n{}{}", &doc[..a], table, &doc[b..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_replaces_what_lies_between_the_markers() {
        let doc = "a\n<!-- strategies:begin -->\nold\n<!-- strategies:end -->\nb\n";
        let new = splice(doc, "new\n").unwrap();
        assert_eq!(
            new,
            "a\n<!-- strategies:begin -->\nnew\n<!-- strategies:end -->\nb\n"
        );
        assert_eq!(splice("no markers", "x"), None);
    }

    #[test]
    fn every_grid_parses() {
        for (_, axes) in GRIDS {
            for a in axes {
                a.parse::<Axis>().unwrap();
            }
        }
    }
}
