//! `autobot calibrate`: the statistics the synthetic market is fitted by
//! (`autobot_gateways::synthetic::stats`), measured on a capture and on
//! the configured `[market]`, side by side, with the `[market]` lines the
//! capture's figures give. The shipped config's values came from this
//! command over `../shared/data/ticks/btcusdt_20240808.gz`.

use std::fmt::Write as _;
use std::path::Path;

use autobot_engine::types::Instrument;
use autobot_gateways::synthetic::stats::{MarketStats, StatsBuilder};
use autobot_gateways::synthetic::{SyntheticConfig, SyntheticMarket};

use crate::backtest::InputError;
use crate::backtest::capture::CaptureSource;

/// One symbol of a capture file (`<receive ns> <json>` lines, .gz ok),
/// measured. `names` are the symbols in id order; `ins` is the measured one.
pub fn measure_capture(
    path: &Path,
    names: &[String],
    ins: &Instrument,
) -> Result<MarketStats, InputError> {
    let input = crate::backtest::source::open(path)?;
    let mut source = CaptureSource::new(path, input, names, ins.id);
    let mut stats = StatsBuilder::new(ins.tick_size);
    while let Some((key, ev)) = source.next_event()? {
        if ev.header.symbol == ins.id {
            // The merge key: exchange time, never decreasing.
            stats.add(autobot_engine::types::UnixNanos(key), &ev.body);
        }
    }
    Ok(stats.finish())
}

/// The generated market of `cfg` over `instruments`, measured for `ins`
/// over `seconds` of exchange time.
pub fn measure_generated(
    cfg: &SyntheticConfig,
    instruments: &[Instrument],
    ins: &Instrument,
    seconds: u64,
) -> MarketStats {
    let mut market = SyntheticMarket::new(cfg, instruments);
    let mut stats = StatsBuilder::new(ins.tick_size);
    let first = market.next_event();
    let end = first.exchange_time.0 + seconds * 1_000_000_000;
    let mut e = first;
    while e.exchange_time.0 < end {
        if e.symbol == ins.id {
            stats.add(e.exchange_time, &e.body);
        }
        e = market.next_event();
    }
    stats.finish()
}

/// The two side by side, and the `[market]` lines the capture gives.
pub fn render(symbol: &str, capture: &MarketStats, generated: &MarketStats) -> String {
    let mut out = String::new();
    let rows: [(&str, f64, f64); 6] = [
        (
            "book tickers / s",
            capture.quotes_per_sec,
            generated.quotes_per_sec,
        ),
        (
            "trades / s",
            capture.trades_per_sec,
            generated.trades_per_sec,
        ),
        (
            "1 s volatility (bp)",
            capture.volatility_bps,
            generated.volatility_bps,
        ),
        (
            "median spread (ticks)",
            capture.median_spread_ticks,
            generated.median_spread_ticks,
        ),
        (
            "wider than a tick",
            capture.wide_spread_share,
            generated.wide_spread_share,
        ),
        (
            "median trade (USDT)",
            capture.median_trade_notional,
            generated.median_trade_notional,
        ),
    ];
    let _ = writeln!(
        out,
        "{symbol}: capture {:.0} s, generated {:.0} s of exchange time",
        capture.seconds, generated.seconds
    );
    let _ = writeln!(
        out,
        "  {:<24}{:>12}{:>12}{:>8}",
        "", "capture", "[market]", "ratio"
    );
    for (name, c, g) in rows {
        let ratio = if c > 0.0 { g / c } else { f64::NAN };
        let _ = writeln!(out, "  {name:<24}{c:>12.3}{g:>12.3}{ratio:>8.2}");
    }
    let _ = writeln!(out, "\n[market] fitted to the capture:");
    let _ = writeln!(out, "volatility_bps = {:.2}", capture.volatility_bps);
    let _ = writeln!(out, "quotes_per_sec = {:.1}", capture.quotes_per_sec);
    let _ = writeln!(out, "trades_per_sec = {:.1}", capture.trades_per_sec);
    let _ = writeln!(out, "wide_spread_share = {:.3}", capture.wide_spread_share);
    out
}
