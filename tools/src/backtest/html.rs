//! `report.html`: one self-contained page (inline SVG charts drawn with
//! plotters, inline CSS, no script, nothing fetched), so it opens offline
//! and can be mailed as one file: the figures beside buy-and-hold, the
//! halts, the equity curve (with buy-and-hold), the drawdown, the regime
//! timeline, each symbol's price with its trips' entries, exits, stops and
//! targets (paged for long runs), the trade list, the vetoes by rule, the
//! breakdowns and the effective configuration. Every time axis compresses
//! the gaps in the data (`charts::TimeAxis`).

use std::fmt::Write as _;

use autobot_engine::config::CoreConfig;
use autobot_engine::regime::Regime;
use plotters::prelude::*;

use super::charts::{DrawResult, TimeAxis, WIDTH, X_DESC, draw_gaps, line_chart, price_chart};
use super::metrics;
use super::record::Recorder;
use super::report::Report;
use crate::position::format_utc;
use crate::text::esc;

fn regime_color(r: Regime) -> RGBColor {
    match r {
        Regime::Range => RGBColor(160, 160, 160),
        Regime::Bull => RGBColor(46, 160, 67),
        Regime::Bear => RGBColor(207, 34, 46),
        Regime::HighVol => RGBColor(191, 135, 0),
    }
}

fn state_color(s: autobot_engine::event::SystemState) -> RGBColor {
    use autobot_engine::event::SystemState as S;
    match s {
        S::Running => RGBColor(220, 235, 220),
        S::Degraded => RGBColor(240, 200, 120),
        S::SafeMode => RGBColor(191, 135, 0),
        S::Halted => RGBColor(207, 34, 46),
        S::Stopped => RGBColor(90, 90, 90),
    }
}

/// One row per symbol, coloured by regime over time, and a top row for
/// the system state (a HALT in red).
fn regime_chart(r: &Recorder, core: &CoreConfig, axis: &TimeAxis) -> DrawResult<String> {
    let symbols = core.instruments.len();
    let rows = symbols + 1;
    let mut svg = String::new();
    {
        let height = 90 + 40 * u32::try_from(rows).unwrap_or(1);
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let x_end = axis.end();
        let mut chart = ChartBuilder::on(&root)
            .caption("Regime and system-state timeline", ("sans-serif", 16))
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
                names.get(k).cloned().unwrap_or_else(|| "system".into())
            })
            .x_desc(X_DESC)
            .draw()?;
        let mut bars = Vec::with_capacity(r.regimes.len());
        for (sym, regime, at, until) in r.regime_spans() {
            let y = f64::from(sym.0);
            bars.push(Rectangle::new(
                [(axis.x(at), y + 0.15), (axis.x(until), y + 0.85)],
                regime_color(regime).filled(),
            ));
        }
        chart.draw_series(bars)?;
        let end_ms = r.span.map_or(0, |s| s.1 / 1_000_000);
        let start_ms = r.equity.first().map_or(0, |e| e.0);
        let mut states = vec![(start_ms, autobot_engine::event::SystemState::Running)];
        states.extend(r.states.iter().copied());
        let y = symbols as f64;
        chart.draw_series(states.iter().enumerate().map(|(k, &(at, st))| {
            let until = states.get(k + 1).map_or(end_ms, |n| n.0);
            Rectangle::new(
                [(axis.x(at), y + 0.15), (axis.x(until), y + 0.85)],
                state_color(st).filled(),
            )
        }))?;
        // Over a gap there was no regime: the band covers it.
        draw_gaps(&mut chart, &axis.gaps(), (0.0, x_end), (0.0, rows as f64))?;
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

/// Round trips drawn per price chart; more make pages.
const TRIPS_PER_PAGE: usize = 60;
/// Pages drawn per symbol (the rest are in `round_trips.csv`).
const MAX_PAGES: usize = 24;
/// Rows of the trade list (the rest are in `round_trips.csv`).
const MAX_TRIP_ROWS: usize = 500;

/// The axis of the run, its data gaps compressed.
fn axis_of(r: &Recorder) -> TimeAxis {
    let start = r.equity.first().map_or(0, |e| e.0);
    let end = r.span.map_or(start, |s| s.1 / 1_000_000);
    TimeAxis::new((start, end), &r.data_gaps)
}

/// Buy-and-hold of the first symbol from the start equity: the series on
/// the axis, and its return.
fn buy_and_hold(r: &Recorder, axis: &TimeAxis) -> Option<(Vec<(f64, f64)>, f64)> {
    let prices = r.prices.first()?;
    let &(_, p0) = prices.first()?;
    let start = r.equity.first()?.1.to_f64();
    if p0 <= 0.0 {
        return None;
    }
    let series = prices
        .iter()
        .map(|(t, p)| (axis.x(*t), start * p / p0))
        .collect();
    let last = prices.last()?.1;
    Some((series, last / p0 - 1.0))
}

/// Each symbol's price with its trips, paged by [`TRIPS_PER_PAGE`].
fn price_pages(s: &mut String, r: &Recorder, core: &CoreConfig, axis: &TimeAxis) {
    let chart = |c: DrawResult<String>| {
        c.unwrap_or_else(|e| format!("<p>chart not drawn: {}</p>", esc(&e.to_string())))
    };
    for (i, inst) in core.instruments.iter().enumerate() {
        let Some(prices) = r.prices.get(i).filter(|p| !p.is_empty()) else {
            continue;
        };
        let trips: Vec<&super::record::Trip> = r
            .trips
            .iter()
            .filter(|t| usize::from(t.symbol.0) == i)
            .collect();
        let name = inst.name.as_str();
        let _ = writeln!(
            s,
            "<h2>{} price and trips</h2>\n<p>▲ entry (green long, red short) · ✕ exit (green: the trip made money) · red line: stop · green line: target</p>",
            esc(name)
        );
        if trips.len() <= TRIPS_PER_PAGE {
            s.push_str(&chart(price_chart(
                name,
                axis,
                prices,
                &trips,
                (0.0, axis.end()),
            )));
            continue;
        }
        let pages = trips.chunks(TRIPS_PER_PAGE).collect::<Vec<_>>();
        for (k, page) in pages.iter().take(MAX_PAGES).enumerate() {
            let (a, b) = (
                axis.x(page[0].opened_ms),
                axis.x(page[page.len() - 1].closed_ms),
            );
            let pad = ((b - a) * 0.03).max(1e-3);
            let _ = writeln!(
                s,
                "<details{}><summary>{} trips {}–{} ({} → {})</summary>",
                if k == 0 { " open" } else { "" },
                esc(name),
                k * TRIPS_PER_PAGE + 1,
                k * TRIPS_PER_PAGE + page.len(),
                format_utc(page[0].opened_ms * 1_000_000),
                format_utc(page[page.len() - 1].closed_ms * 1_000_000)
            );
            s.push_str(&chart(price_chart(
                &format!("{name}, page {}", k + 1),
                axis,
                prices,
                page,
                (a - pad, b + pad),
            )));
            s.push_str("</details>\n");
        }
        if pages.len() > MAX_PAGES {
            let _ = writeln!(
                s,
                "<p>{} more pages not drawn: every trip is in round_trips.csv.</p>",
                pages.len() - MAX_PAGES
            );
        }
    }
}

/// The round trips as a table.
fn trade_list(s: &mut String, r: &Recorder, core: &CoreConfig) {
    let _ = writeln!(
        s,
        "<h2>Trades ({} round trips)</h2>\n<table><tr><th>opened</th><th>closed</th><th>symbol</th><th>side</th><th>strategy</th><th>regime</th><th>entry</th><th>exit</th><th>stop</th><th>target</th><th>PnL</th><th>fees</th></tr>",
        r.trips.len()
    );
    for t in r.trips.iter().take(MAX_TRIP_ROWS) {
        let level =
            |p: Option<autobot_engine::types::Price>| p.map_or("–".into(), |p| p.to_string());
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            format_utc(t.opened_ms * 1_000_000),
            format_utc(t.closed_ms * 1_000_000),
            esc(super::report::symbol_name(core, t.symbol)),
            if t.side == autobot_engine::types::Side::Buy {
                "long"
            } else {
                "short"
            },
            esc(&t.strategy.map_or_else(
                || format!("{:?}", t.origin).to_lowercase(),
                |i| super::report::strategy_name(i, &core.strategy.instances)
            )),
            t.regime.name(),
            t.entry,
            t.exit,
            level(t.stop),
            level(t.take),
            t.pnl,
            t.fees
        );
    }
    s.push_str("</table>\n");
    if r.trips.len() > MAX_TRIP_ROWS {
        let _ = writeln!(
            s,
            "<p>The first {MAX_TRIP_ROWS} shown; all {} are in round_trips.csv.</p>",
            r.trips.len()
        );
    }
}

/// Every rule that vetoed, with its level and count.
fn veto_table(s: &mut String, report: &Report) {
    let ranked = &report.core.vetoes_by_rule;
    let total: u64 = ranked.iter().map(|(_, n)| n).sum();
    let _ = writeln!(s, "<h2>Vetoes by rule ({total})</h2>");
    if ranked.is_empty() {
        s.push_str("<p>No order intent was vetoed.</p>\n");
        return;
    }
    s.push_str("<table><tr><th>rule</th><th>level</th><th>vetoes</th><th>share</th></tr>\n");
    for (rule, n) in ranked {
        let level = autobot_engine::event::Rule::ALL
            .iter()
            .find(|r| format!("{r:?}") == *rule)
            .map_or("–".to_string(), |r| r.level().to_string());
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{level}</td><td>{n}</td><td>{:.1}%</td></tr>",
            esc(rule),
            *n as f64 * 100.0 / total.max(1) as f64
        );
    }
    s.push_str("</table>\n");
}

/// The page, with the effective configuration `config` (TOML). A chart
/// that cannot be drawn is replaced by its error, so the figures still
/// reach the reader.
pub fn page(report: &Report, r: &Recorder, core: &CoreConfig, config: &str) -> String {
    let start_ms = r.equity.first().map_or(0, |e| e.0);
    let end_ms = r.span.map_or(start_ms, |s| s.1 / 1_000_000);
    let axis = axis_of(r);
    let equity: Vec<(f64, f64)> = r
        .equity
        .iter()
        .map(|(t, e)| (axis.x(*t), e.to_f64()))
        .collect();
    let values: Vec<f64> = equity.iter().map(|p| p.1).collect();
    let dd: Vec<(f64, f64)> = metrics::drawdowns(&values)
        .into_iter()
        .zip(&equity)
        .map(|(d, p)| (p.0, -d * 100.0))
        .collect();
    let hold = buy_and_hold(r, &axis);
    let chart = |c: DrawResult<String>| {
        c.unwrap_or_else(|e| format!("<p>chart not drawn: {}</p>", esc(&e.to_string())))
    };
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>autobot backtest</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;max-width:{WIDTH}px}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
         th{{background:#f4f4f4}}td:first-child{{text-align:left}}.k{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em}}\
         pre{{background:#f6f8fa;padding:1em;overflow:auto}}</style>\n\
         </head><body>\n<h1>Backtest</h1>\n<p>{} · {} → {} · {} events</p>\n",
        esc(&report.data.symbols.join(", ")),
        format_utc(start_ms * 1_000_000),
        format_utc(end_ms * 1_000_000),
        report.data.events
    );
    let gaps = axis.gaps();
    if !gaps.is_empty() {
        let list: Vec<String> = gaps
            .iter()
            .map(|g| {
                format!(
                    "{} → {} ({})",
                    format_utc(g.from_ms * 1_000_000),
                    format_utc(g.to_ms * 1_000_000),
                    g.label()
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "<p>The data has {} gap(s), compressed and shaded on every chart: {}</p>",
            gaps.len(),
            esc(&list.join("; "))
        );
    }
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let opt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.2}"));
    let a = &report.account;
    let rows = [
        ("Total return", pct(report.total_return)),
        (
            "Buy and hold (first symbol)",
            hold.as_ref().map_or("–".into(), |h| pct(h.1)),
        ),
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
    s.push_str(&chart(line_chart(
        ("Equity (USDT)", "USDT"),
        &axis,
        &equity,
        hold.as_ref()
            .map(|h| ("buy and hold, first symbol", h.0.as_slice())),
        false,
    )));
    s.push_str(&chart(line_chart(
        ("Drawdown (%)", "% below the peak"),
        &axis,
        &dd,
        None,
        true,
    )));
    s.push_str(&chart(regime_chart(r, core, &axis)));
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
    for st in autobot_engine::event::SystemState::ALL {
        let c = state_color(st);
        let _ = write!(
            s,
            "<span class=\"k\" style=\"background:rgb({},{},{})\"></span>{}",
            c.0,
            c.1,
            c.2,
            autobot_engine::core::explain::state_name(st)
        );
    }
    s.push_str("</p>\n");
    price_pages(&mut s, r, core, &axis);
    trade_list(&mut s, r, core);
    veto_table(&mut s, report);
    for (title, list) in [
        ("By strategy", &report.per_strategy),
        ("By regime at entry", &report.per_regime),
    ] {
        let _ = writeln!(
            s,
            "<h2>{title}</h2>\n<table><tr><th>name</th><th>trips</th><th>win rate</th><th>profit factor</th><th>PnL</th><th>fees</th><th>share of the data</th></tr>"
        );
        for b in list.iter() {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&b.name),
                b.trips.trades,
                b.trips.win_rate.map_or("–".into(), pct),
                opt(b.trips.profit_factor),
                b.pnl,
                b.fees,
                b.data_share.map_or("–".into(), pct)
            );
        }
        s.push_str("</table>\n");
    }
    let _ = writeln!(
        s,
        "<h2>Configuration</h2>\n<details><summary>the effective configuration (also config.toml)</summary><pre>{}</pre></details>",
        esc(config)
    );
    s.push_str("</body></html>\n");
    s
}
