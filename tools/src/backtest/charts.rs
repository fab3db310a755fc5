//! The report's charts (inline SVG, plotters) on one time axis that
//! compresses the gaps in the data: a gap between data segments (21 months
//! in the shared BTCUSDT bars) is drawn as a narrow shaded band with its
//! length written on it, not as most of the chart.
//!
//! # Invariants
//! - [`TimeAxis::x`] is monotone in time; inside the data it advances one
//!   unit per hour of data.
//! - Every chart that draws time uses the same axis, so a point in time is
//!   at the same x on each.

use plotters::prelude::*;

use super::record::Trip;

/// Chart width, px.
pub const WIDTH: u32 = 960;
/// Most points a line draws (a series is thinned evenly beyond).
const MAX_POINTS: usize = 2000;

/// A drawing error.
pub type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// One stretch of data on the axis.
#[derive(Clone, Copy, Debug)]
struct Segment {
    from_ms: u64,
    to_ms: u64,
    x: f64,
}

/// A gap between two stretches of data, where the axis puts it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    /// Last time before it, ms.
    pub from_ms: u64,
    /// First time after it, ms.
    pub to_ms: u64,
    /// Its band on the axis.
    pub x0: f64,
    /// See `x0`.
    pub x1: f64,
}

impl Gap {
    /// Its length in words: hours, days or months.
    pub fn label(&self) -> String {
        let h = (self.to_ms - self.from_ms) as f64 / 3.6e6;
        if h < 48.0 {
            format!("gap {h:.1} h")
        } else if h < 24.0 * 61.0 {
            format!("gap {:.1} days", h / 24.0)
        } else {
            format!("gap {:.1} months", h / (24.0 * 30.44))
        }
    }
}

/// Time to x: hours of data, each gap a narrow band.
#[derive(Clone, Debug)]
pub struct TimeAxis {
    segments: Vec<Segment>,
    gap_width: f64,
}

impl TimeAxis {
    /// The axis from `start` to `end` (ms) with `gaps` (sorted, inside it:
    /// last time before, first time after) compressed.
    pub fn new((start, end): (u64, u64), gaps: &[(u64, u64)]) -> TimeAxis {
        let mut spans: Vec<(u64, u64)> = Vec::with_capacity(gaps.len() + 1);
        let mut from = start;
        for &(a, b) in gaps {
            if a >= from && b > a && b <= end {
                spans.push((from, a));
                from = b;
            }
        }
        spans.push((from, end.max(from)));
        let active: f64 = spans.iter().map(|s| (s.1 - s.0) as f64 / 3.6e6).sum();
        // Wide enough to see and to label, narrow enough to not matter.
        let gap_width = (active * 0.03).max(1e-3);
        let mut x = 0.0;
        let mut segments = Vec::with_capacity(spans.len());
        for (i, (from, to)) in spans.into_iter().enumerate() {
            if i > 0 {
                x += gap_width;
            }
            segments.push(Segment {
                from_ms: from,
                to_ms: to,
                x,
            });
            x += (to - from) as f64 / 3.6e6;
        }
        TimeAxis {
            segments,
            gap_width,
        }
    }

    /// Where `ms` is.
    pub fn x(&self, ms: u64) -> f64 {
        let i = self.segments.partition_point(|s| s.from_ms <= ms);
        let Some(seg) = i.checked_sub(1).map(|k| self.segments[k]) else {
            return 0.0;
        };
        let end = seg.x + (seg.to_ms - seg.from_ms) as f64 / 3.6e6;
        if ms <= seg.to_ms {
            return seg.x + (ms - seg.from_ms) as f64 / 3.6e6;
        }
        match self.segments.get(i) {
            Some(next) => {
                let share = (ms - seg.to_ms) as f64 / (next.from_ms - seg.to_ms) as f64;
                end + self.gap_width * share
            }
            None => end,
        }
    }

    /// The right end.
    pub fn end(&self) -> f64 {
        self.segments
            .last()
            .map_or(1.0, |s| s.x + (s.to_ms - s.from_ms) as f64 / 3.6e6)
            .max(1e-9)
    }

    /// The gaps, in order.
    pub fn gaps(&self) -> Vec<Gap> {
        self.segments
            .windows(2)
            .map(|w| {
                let x0 = w[0].x + (w[0].to_ms - w[0].from_ms) as f64 / 3.6e6;
                Gap {
                    from_ms: w[0].to_ms,
                    to_ms: w[1].from_ms,
                    x0,
                    x1: w[1].x,
                }
            })
            .collect()
    }
}

/// Every k-th point and the last, at most [`MAX_POINTS`].
pub fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(MAX_POINTS).max(1);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(&last) = points.last()
        && out.last() != Some(&last)
    {
        out.push(last);
    }
    out
}

/// A padded value range.
pub fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6).max(1e-9);
    (lo - pad, hi + pad)
}

/// The x label of a chart on the axis.
pub const X_DESC: &str = "hours of data (gaps between data segments compressed and shaded)";

/// Shades and labels the gaps inside `x` (a chart's x range) between `lo`
/// and `hi`.
pub fn draw_gaps<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    gaps: &[Gap],
    (x_lo, x_hi): (f64, f64),
    (lo, hi): (f64, f64),
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let inside: Vec<&Gap> = gaps
        .iter()
        .filter(|g| g.x1 >= x_lo && g.x0 <= x_hi)
        .collect();
    chart.draw_series(inside.iter().map(|g| {
        Rectangle::new(
            [(g.x0, lo), (g.x1, hi)],
            RGBColor(200, 200, 200).mix(0.6).filled(),
        )
    }))?;
    chart.draw_series(inside.iter().map(|g| {
        Text::new(
            g.label(),
            (g.x0, hi),
            ("sans-serif", 11).into_font().color(&RGBColor(90, 90, 90)),
        )
    }))?;
    Ok(())
}

/// A line chart over the axis (with `fill`, an area down to zero), with
/// an optional second, grey line (a benchmark).
pub fn line_chart(
    (title, y_desc): (&str, &str),
    axis: &TimeAxis,
    points: &[(f64, f64)],
    benchmark: Option<(&str, &[(f64, f64)])>,
    fill: bool,
) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        root.fill(&WHITE)?;
        let x_end = axis.end();
        let (lo, hi) = bounds(
            points
                .iter()
                .chain(benchmark.map_or(&[][..], |b| b.1))
                .map(|p| p.1)
                .chain(fill.then_some(0.0)),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..x_end, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc(X_DESC)
            .y_desc(y_desc)
            .draw()?;
        draw_gaps(&mut chart, &axis.gaps(), (0.0, x_end), (lo, hi))?;
        let thinned = thin(points);
        if fill {
            let color = RGBColor(207, 34, 46);
            chart.draw_series(AreaSeries::new(thinned, 0.0, color.mix(0.3)).border_style(color))?;
        } else {
            let blue = RGBColor(9, 105, 218);
            chart
                .draw_series(LineSeries::new(thinned, &blue))?
                .label(title)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], blue));
        }
        if let Some((name, b)) = benchmark {
            let grey = RGBColor(140, 140, 140);
            chart
                .draw_series(LineSeries::new(thin(b), &grey))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], grey));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// One symbol's price over `[x_lo, x_hi]` of the axis with its round
/// trips: entries (a triangle, green long, red short), exits (a cross,
/// green if the trip made money), and the stop (red) and target (green)
/// levels over each trip's life.
pub fn price_chart(
    title: &str,
    axis: &TimeAxis,
    prices: &[(u64, f64)],
    trips: &[&Trip],
    (x_lo, x_hi): (f64, f64),
) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 340)).into_drawing_area();
        root.fill(&WHITE)?;
        let points: Vec<(f64, f64)> = prices
            .iter()
            .map(|(t, p)| (axis.x(*t), *p))
            .filter(|(x, _)| *x >= x_lo && *x <= x_hi)
            .collect();
        let levels = trips.iter().flat_map(|t| {
            [Some(t.entry), Some(t.exit), t.stop, t.take]
                .into_iter()
                .flatten()
                .map(|p| p.to_f64())
        });
        let (lo, hi) = bounds(points.iter().map(|p| p.1).chain(levels));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi.max(x_lo + 1e-9), lo..hi)?;
        chart
            .configure_mesh()
            .x_desc(X_DESC)
            .y_desc("price")
            .draw()?;
        draw_gaps(&mut chart, &axis.gaps(), (x_lo, x_hi), (lo, hi))?;
        chart.draw_series(LineSeries::new(thin(&points), &RGBColor(60, 60, 60)))?;
        let (green, red) = (RGBColor(26, 127, 55), RGBColor(207, 34, 46));
        for t in trips {
            let (x0, x1) = (axis.x(t.opened_ms), axis.x(t.closed_ms));
            for (level, color) in [(t.stop, red), (t.take, green)] {
                if let Some(p) = level {
                    let y = p.to_f64();
                    chart.draw_series(std::iter::once(PathElement::new(
                        [(x0, y), (x1, y)],
                        color.mix(0.6).stroke_width(1),
                    )))?;
                }
            }
            let long = t.side == autobot_engine::types::Side::Buy;
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (x0, t.entry.to_f64()),
                6,
                if long { green } else { red }.filled(),
            )))?;
            chart.draw_series(std::iter::once(Cross::new(
                (x1, t.exit.to_f64()),
                5,
                if t.pnl.is_positive() { green } else { red }.stroke_width(2),
            )))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;

    #[test]
    fn a_gap_is_a_narrow_band_and_time_stays_monotone() {
        // 10 h of data, 21 months of nothing, 5 h of data.
        let later = 10 * H + 15_000 * H;
        let axis = TimeAxis::new((0, later + 5 * H), &[(10 * H, later)]);
        let gaps = axis.gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].from_ms, gaps[0].to_ms), (10 * H, later));
        assert!(
            gaps[0].label().starts_with("gap 20.5 months"),
            "{}",
            gaps[0].label()
        );
        // 15 h of data and a band of 3% of it.
        assert!((axis.end() - 15.45).abs() < 1e-9, "{}", axis.end());
        assert!((axis.x(later + 5 * H) - 15.45).abs() < 1e-9);
        assert!((axis.x(10 * H) - 10.0).abs() < 1e-9);
        let mut last = -1.0;
        for t in (0..later + 6 * H).step_by(H as usize * 7) {
            let x = axis.x(t);
            assert!(x >= last, "not monotone at {t}");
            last = x;
        }
        // No gap: the plain hours.
        let plain = TimeAxis::new((0, 2 * H), &[]);
        assert!(plain.gaps().is_empty());
        assert!((plain.x(2 * H) - 2.0).abs() < 1e-9);
    }
}
