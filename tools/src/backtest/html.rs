//! `report.html`: one self-contained page (inline SVG charts drawn with
//! plotters, inline CSS, no script, nothing fetched), so it opens offline
//! and can be mailed as one file. Charts: the equity curve, the drawdown,
//! and the regime timeline of each symbol.

use std::fmt::Write as _;

use autobot_engine::config::CoreConfig;
use autobot_engine::regime::Regime;
use plotters::prelude::*;

use super::metrics;
use super::record::Recorder;
use super::report::Report;
use crate::position::format_utc;
use crate::text::esc;

const WIDTH: u32 = 960;
/// Most points a line chart draws (the series is thinned evenly beyond).
const MAX_POINTS: usize = 2000;

fn regime_color(r: Regime) -> RGBColor {
    match r {
        Regime::Range => RGBColor(160, 160, 160),
        Regime::Bull => RGBColor(46, 160, 67),
        Regime::Bear => RGBColor(207, 34, 46),
        Regime::HighVol => RGBColor(191, 135, 0),
    }
}

/// Every k-th point and the last, at most [`MAX_POINTS`].
fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(MAX_POINTS).max(1);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(&last) = points.last()
        && out.last() != Some(&last)
    {
        out.push(last);
    }
    out
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6).max(1e-9);
    (lo - pad, hi + pad)
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A line (or, with `fill`, an area down to zero) chart as SVG.
fn line_chart(title: &str, y_desc: &str, points: &[(f64, f64)], fill: bool) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 280)).into_drawing_area();
        root.fill(&WHITE)?;
        let x_end = points.last().map_or(1.0, |p| p.0).max(1e-9);
        let (lo, hi) = bounds(points.iter().map(|p| p.1).chain(fill.then_some(0.0)));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_end, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("hours from the start")
            .y_desc(y_desc)
            .draw()?;
        let thinned = thin(points);
        if fill {
            let color = RGBColor(207, 34, 46);
            chart.draw_series(AreaSeries::new(thinned, 0.0, color.mix(0.3)).border_style(color))?;
        } else {
            chart.draw_series(LineSeries::new(thinned, &RGBColor(9, 105, 218)))?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// One row per symbol, coloured by regime over time.
fn regime_chart(r: &Recorder, core: &CoreConfig, start_ms: u64, end_ms: u64) -> DrawResult<String> {
    let rows = core.instruments.len().max(1);
    let mut svg = String::new();
    {
        let height = 90 + 40 * u32::try_from(rows).unwrap_or(1);
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let hours = |ms: u64| ms.saturating_sub(start_ms) as f64 / 3.6e6;
        let x_end = hours(end_ms).max(1e-9);
        let mut chart = ChartBuilder::on(&root)
            .caption("Regime timeline", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_end, 0.0..rows as f64)?;
        let names: Vec<String> = core
            .instruments
            .iter()
            .map(|i| i.name.as_str().to_string())
            .collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_formatter(&|y| {
                let k = y.floor() as usize;
                names.get(k).cloned().unwrap_or_default()
            })
            .x_desc("hours from the start")
            .draw()?;
        let mut bars = Vec::with_capacity(r.regimes.len());
        for (sym, regime, at, until) in r.regime_spans() {
            let y = f64::from(sym.0);
            bars.push(Rectangle::new(
                [(hours(at), y + 0.15), (hours(until), y + 0.85)],
                regime_color(regime).filled(),
            ));
        }
        chart.draw_series(bars)?;
        root.present()?;
    }
    Ok(svg)
}

/// The halts (when, why, what was open, when lifted), the time in each
/// state and the vetoes by rule: right under the headline figures, since a
/// run that ended HALTED is not the run its return suggests.
fn halts(s: &mut String, report: &Report) {
    let c = &report.core;
    let _ = writeln!(
        s,
        "<p>{} · vetoes by rule: {}</p>",
        esc(&crate::summary::time_in_state(c.time_in_state)),
        esc(&crate::summary::vetoes_by_rule(&c.vetoes_by_rule, 5))
    );
    if report.halts.is_empty() {
        s.push_str("<p>No halt.</p>\n");
        return;
    }
    let _ = writeln!(
        s,
        "<h2 style=\"color:#cf222e\">Halts ({})</h2>\n<table><tr><th>from</th><th>cause</th><th>equity</th><th>open then</th><th>until</th></tr>",
        report.halts.len()
    );
    for h in &report.halts {
        let open = if h.open.is_empty() {
            "nothing".to_string()
        } else {
            h.open
                .iter()
                .map(|p| {
                    esc(&format!(
                        "{} {} @ {} (unrealized {})",
                        p.symbol,
                        p.qty,
                        p.entry.as_deref().unwrap_or("–"),
                        p.unrealized
                    ))
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let until = h.lifted.as_ref().map_or_else(
            || "still HALTED at the end".to_string(),
            |(at, why)| format!("{at} ({why})"),
        );
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&h.at),
            esc(&h.cause),
            esc(&h.equity),
            open,
            esc(&until)
        );
    }
    s.push_str("</table>\n");
}

/// The page. A chart that cannot be drawn is replaced by its error, so
/// the figures still reach the reader.
pub fn page(report: &Report, r: &Recorder, core: &CoreConfig) -> String {
    let start_ms = r.equity.first().map_or(0, |e| e.0);
    let end_ms = r.span.map_or(start_ms, |s| s.1 / 1_000_000);
    let hours = |ms: u64| ms.saturating_sub(start_ms) as f64 / 3.6e6;
    let equity: Vec<(f64, f64)> = r
        .equity
        .iter()
        .map(|(t, e)| (hours(*t), e.to_f64()))
        .collect();
    let values: Vec<f64> = equity.iter().map(|p| p.1).collect();
    let dd: Vec<(f64, f64)> = metrics::drawdowns(&values)
        .into_iter()
        .zip(&equity)
        .map(|(d, p)| (p.0, -d * 100.0))
        .collect();
    let chart = |c: DrawResult<String>| {
        c.unwrap_or_else(|e| format!("<p>chart not drawn: {}</p>", esc(&e.to_string())))
    };
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>autobot backtest</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;max-width:{WIDTH}px}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
         th{{background:#f4f4f4}}td:first-child{{text-align:left}}.k{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em}}</style>\n\
         </head><body>\n<h1>Backtest</h1>\n<p>{} · {} → {} · {} events</p>\n",
        esc(&report.data.symbols.join(", ")),
        format_utc(start_ms * 1_000_000),
        format_utc(end_ms * 1_000_000),
        report.data.events
    );
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let opt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.2}"));
    let a = &report.account;
    let rows = [
        ("Total return", pct(report.total_return)),
        ("PnL (USDT)", a.pnl.clone()),
        ("Realized", a.realized.clone()),
        ("Fees", a.fees.clone()),
        ("Funding", a.funding.clone()),
        ("Sharpe (annualized)", opt(report.sharpe)),
        ("Sortino (annualized)", opt(report.sortino)),
        ("Max drawdown", pct(report.max_drawdown)),
        ("Round trips", report.round_trips.trades.to_string()),
        (
            "Win rate",
            report.round_trips.win_rate.map_or("–".into(), pct),
        ),
        ("Profit factor", opt(report.round_trips.profit_factor)),
        ("Exposure", pct(report.exposure)),
        ("Liquidations", report.exchange.liquidations.to_string()),
    ];
    s.push_str("<table>\n");
    for (k, v) in rows {
        let _ = writeln!(s, "<tr><td>{k}</td><td>{}</td></tr>", esc(&v));
    }
    s.push_str("</table>\n");
    halts(&mut s, report);
    s.push_str(&chart(line_chart("Equity (USDT)", "USDT", &equity, false)));
    s.push_str(&chart(line_chart(
        "Drawdown (%)",
        "% below the peak",
        &dd,
        true,
    )));
    s.push_str(&chart(regime_chart(r, core, start_ms, end_ms)));
    s.push_str("<p>");
    for g in Regime::ALL {
        let c = regime_color(g);
        let _ = write!(
            s,
            "<span class=\"k\" style=\"background:rgb({},{},{})\"></span>{}",
            c.0,
            c.1,
            c.2,
            g.name()
        );
    }
    s.push_str("</p>\n");
    for (title, list) in [
        ("By strategy", &report.per_strategy),
        ("By regime at entry", &report.per_regime),
    ] {
        let _ = writeln!(
            s,
            "<h2>{title}</h2>\n<table><tr><th>name</th><th>trips</th><th>win rate</th><th>profit factor</th><th>PnL</th><th>fees</th></tr>"
        );
        for b in list.iter() {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&b.name),
                b.trips.trades,
                b.trips.win_rate.map_or("–".into(), pct),
                opt(b.trips.profit_factor),
                b.pnl,
                b.fees
            );
        }
        s.push_str("</table>\n");
    }
    s.push_str("</body></html>\n");
    s
}
