//! Forced orders are a feature, not dropped (issue 34): the strategies'
//! market view carries the notional liquidated on each side over
//! `[strategy] liquidation_window_secs` of event time; one with no fill or
//! no price is refused and counted; an unknown symbol is refused.

use super::*;
use crate::config::{StrategyConfig, presets};
use crate::event::{BookTicker, Liquidation, Source};
use crate::features::liquidations::LiquidationSums;
use crate::types::{Money, MonoNanos, Price, Qty, Side, UnixNanos};

const SECOND: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000 * SECOND;

struct Feed {
    core: Core,
    seq: u64,
    outs: Vec<OutputEvent>,
}

impl Feed {
    fn new() -> Feed {
        let mut sc = StrategyConfig::features();
        sc.liquidation_window_secs = 10;
        Feed {
            core: Core::new(&presets::core(&[presets::btcusdt()], sc)),
            seq: 0,
            outs: Vec::new(),
        }
    }

    fn send(&mut self, sym: u16, secs: u64, body: InputBody) {
        let mut ev = InputEvent::new(
            Source::MarketData,
            SymbolId(sym),
            MonoNanos(0),
            UnixNanos(T0 + secs * SECOND),
            body,
        );
        ev.header.seq = Seq(self.seq);
        self.seq += 1;
        self.core.on_event(&ev, &mut self.outs);
    }

    fn ticker(&mut self, secs: u64) {
        let p = |x: &str| Price::parse(x).unwrap();
        self.send(
            0,
            secs,
            InputBody::BookTicker(BookTicker {
                update_id: 1 + self.seq,
                bid_price: p("60000"),
                bid_qty: Qty::ONE,
                ask_price: p("60000.1"),
                ask_qty: Qty::ONE,
            }),
        );
    }

    fn liquidation(&mut self, sym: u16, secs: u64, side: Side, qty: &str) {
        let p = Price::parse("60000").unwrap();
        self.send(
            sym,
            secs,
            InputBody::Liquidation(Liquidation {
                side,
                price: p,
                avg_price: p,
                filled_qty: Qty::parse(qty).unwrap(),
            }),
        );
    }

    fn seen(&self) -> LiquidationSums {
        self.core.market_view(SymbolId(0)).liquidations
    }
}

fn usdt(s: &str) -> Money {
    Money::parse(s).unwrap()
}

#[test]
fn the_market_view_sums_liquidations_by_side_over_the_window() {
    let mut f = Feed::new();
    f.ticker(0);
    f.liquidation(0, 1, Side::Sell, "0.5");
    f.liquidation(0, 2, Side::Buy, "0.1");
    f.liquidation(0, 5, Side::Sell, "0.25");
    assert_eq!(
        f.seen(),
        LiquidationSums {
            longs: usdt("45000"),
            shorts: usdt("6000")
        }
    );
    // At 11 s the window is 2 ..= 11: the first sell has left it.
    f.ticker(11);
    assert_eq!(f.seen().longs, usdt("15000"));
    assert_eq!(f.seen().shorts, usdt("6000"));
    f.ticker(16);
    assert_eq!(f.seen(), LiquidationSums::default());
    assert_eq!(f.core.stats().invalid_inputs, 0);
}

#[test]
fn a_forced_order_with_no_fill_or_an_unknown_symbol_is_refused() {
    let mut f = Feed::new();
    f.ticker(0);
    f.liquidation(0, 1, Side::Sell, "0");
    assert_eq!(f.core.stats().invalid_inputs, 1);
    f.liquidation(7, 1, Side::Sell, "1");
    assert_eq!(f.core.stats().unknown_symbols, 1);
    assert_eq!(f.seen(), LiquidationSums::default());
}

/// The regime detector reads the window at each bar: with
/// `[strategy.regime] liquidation_high_vol` set, a cascade makes the
/// symbol HIGH_VOL though its bars are calm.
#[test]
fn the_regime_reads_a_liquidation_cascade_as_high_vol() {
    use crate::event::Kline;
    use crate::regime::{Regime, RegimeConfig};
    use crate::strategy::BarSource;
    let mut sc = StrategyConfig::features();
    sc.bars = BarSource::Klines;
    sc.liquidation_window_secs = 120;
    sc.regime = RegimeConfig {
        fast: 2,
        slow: 4,
        atr: 2,
        confirm_bars: 1,
        min_dwell_bars: 1,
        liquidation_high_vol: usdt("50000"),
        ..RegimeConfig::default()
    };
    let mut f = Feed {
        core: Core::new(&presets::core(&[presets::btcusdt()], sc)),
        seq: 0,
        outs: Vec::new(),
    };
    let bar = |f: &mut Feed, minute: u64| {
        let p = |x: &str| Price::parse(x).unwrap();
        let k = Kline {
            open_time: UnixNanos(T0 + minute * 60 * SECOND),
            interval_secs: 60,
            trades: 10,
            open: p("60000"),
            high: p("60001"),
            low: p("59999"),
            close: p("60000"),
            volume: Qty::ONE,
        };
        f.send(0, minute * 60 + 59, InputBody::Kline(k));
        f.core.market_view(SymbolId(0)).regime
    };
    for m in 0..8 {
        assert_eq!(bar(&mut f, m), Regime::Range, "minute {m}");
    }
    // 0.5 + 0.5 BTC liquidated at 60 000 within the window: 60 000 USDT.
    f.liquidation(0, 8 * 60 + 10, Side::Sell, "0.5");
    f.liquidation(0, 8 * 60 + 20, Side::Buy, "0.5");
    assert_eq!(bar(&mut f, 8), Regime::HighVol);
    // Two minutes later the window has emptied: calm again.
    bar(&mut f, 9);
    bar(&mut f, 10);
    assert_eq!(bar(&mut f, 11), Regime::Range);
}
