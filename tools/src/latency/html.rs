//! `latency.html`: one self-contained page (an inline SVG chart drawn with
//! plotters, inline CSS, no script, nothing fetched) that opens offline.
//!
//! The chart is HdrHistogram's percentile-distribution plot: latency on a
//! log axis against the percentile on a log "nines" axis (x = log10 of
//! 1/(1-q), so 90 %, 99 %, 99.9 % … are evenly spaced), one line per
//! stage, the second run dashed in the same colour.
//!
//! Unlike the backtest page, a chart that cannot be drawn fails the whole
//! page: the caller writes nothing rather than half a page.

use std::fmt::Write as _;

use autobot_engine::runtime::latency::Stage;
use plotters::prelude::*;

use super::{Distribution, QUANTILES, ns};
use crate::text::esc;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 560;
/// The "nines" the x axis reaches at most (99.9999 %).
const MAX_NINES: f64 = 6.0;

/// A run as the page shows it: its label and per-stage distributions.
pub type Run = (String, Vec<(Stage, Distribution)>);

/// Why the page could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("the latency chart could not be drawn: {0}")]
pub struct DrawError(String);

fn color(stage: Stage) -> RGBColor {
    match stage {
        Stage::Parse => RGBColor(9, 105, 218),
        Stage::Publish => RGBColor(130, 80, 223),
        Stage::Journal => RGBColor(191, 135, 0),
        Stage::Dispatch => RGBColor(140, 140, 140),
        Stage::Decide => RGBColor(46, 160, 67),
        Stage::PublishToDecision => RGBColor(0, 150, 150),
        Stage::TickToDecision => RGBColor(207, 34, 46),
        Stage::TickToOrder => RGBColor(0, 0, 0),
        Stage::Delivery => RGBColor(230, 120, 180),
    }
}

/// x of quantile `q`: its number of nines, capped at [`MAX_NINES`].
fn nines(q: f64) -> f64 {
    if q >= 1.0 {
        return MAX_NINES;
    }
    (1.0 / (1.0 - q)).log10().min(MAX_NINES)
}

/// "99.9%" for x = 3.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The points of one line: `(nines, µs)`, ending at the maximum.
fn line(d: &Distribution) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = d
        .points
        .iter()
        .map(|&(v, q)| (nines(q), (v / 1e3).max(1e-3)))
        .collect();
    pts.push((MAX_NINES, (d.max_ns / 1e3).max(1e-3)));
    pts
}

fn chart(runs: &[Run]) -> Result<String, Box<dyn std::error::Error>> {
    let values = runs
        .iter()
        .flat_map(|(_, ds)| ds.iter())
        .flat_map(|(_, d)| d.points.iter().map(|p| p.0).chain([d.max_ns]));
    let (lo, hi) = values.fold((f64::MAX, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    let lo_us = (lo / 1e3).max(1e-3) / 1.5;
    let hi_us = (hi / 1e3).max(lo_us * 10.0) * 1.5;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Latency by percentile", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..MAX_NINES, (lo_us..hi_us).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(MAX_NINES as usize + 1)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| ns(*y * 1e3))
            .x_desc("percentile")
            .y_desc("latency")
            .draw()?;
        for (k, (label, dists)) in runs.iter().enumerate() {
            for (stage, d) in dists {
                let c = color(*stage);
                let style = c.stroke_width(2);
                let name = if runs.len() > 1 {
                    format!("{} ({label})", stage.name())
                } else {
                    stage.name().to_string()
                };
                let series = if k == 0 {
                    chart.draw_series(LineSeries::new(line(d), style))?
                } else {
                    chart.draw_series(DashedLineSeries::new(line(d), 8, 5, style))?
                };
                series.label(name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// The whole page for `runs` (the first is the run reported on, a second
/// is drawn dashed for comparison); `source` says where they were read.
pub fn page(title: &str, source: &str, runs: &[Run]) -> Result<String, DrawError> {
    let svg = chart(runs).map_err(|e| DrawError(e.to_string()))?;
    let mut s = String::with_capacity(svg.len() + 16 * 1024);
    let _ = write!(
        s,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>autobot latency: {t}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em;max-width:{WIDTH}px}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
         th{{background:#f4f4f4}}td.l{{text-align:left}}</style>\n\
         </head><body>\n<h1>Latency</h1>\n<p>{t}</p>\n<p>{src}</p>\n",
        t = esc(title),
        src = esc(source),
    );
    s.push_str("<table>\n<tr><th>stage</th><th>from → to</th>");
    if runs.len() > 1 {
        s.push_str("<th>run</th>");
    }
    for (_, name) in QUANTILES {
        let _ = write!(s, "<th>{name}</th>");
    }
    s.push_str("<th>max</th><th>count</th></tr>\n");
    for stage in Stage::ALL {
        for (label, dists) in runs {
            let Some((_, d)) = dists.iter().find(|(s, _)| *s == stage) else {
                continue;
            };
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td>",
                stage.name(),
                stage.describe()
            );
            if runs.len() > 1 {
                let _ = write!(s, "<td class=\"l\">{}</td>", esc(label));
            }
            for (q, _) in QUANTILES {
                let _ = write!(s, "<td>{}</td>", ns(d.value_at(q)));
            }
            let _ = writeln!(s, "<td>{}</td><td>{}</td></tr>", ns(d.max_ns), d.count);
        }
    }
    s.push_str("</table>\n");
    s.push_str(&svg);
    s.push_str("\n</body></html>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentile_axis_reads_in_nines() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert!((nines(1.0) - MAX_NINES).abs() < 1e-12);
    }
}
