//! Strategy scenarios through the whole core: each strategy fires in its
//! regime and not outside it, the core's stops, targets and hold times close
//! positions, and a losing streak shrinks the instance's weight.
//!
//! Markets are built by hand: one book ticker and one trade per step; 1 s
//! bars from trades; a fast regime detector (EMA 3/6, ATR 3, 3 bars to
//! confirm) so a few dozen bars decide it.

use autobot_engine::event::{
    InputBody, Origin, OutputBody, OutputEvent, SignalReason, Source, Stance, Trade, WeightChange,
};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{InstanceConfig, StrategyKind};
use autobot_engine::types::{Price, Qty};

mod common;
use common::scene::{
    Scene, bid_pressure, book_turns, one_order, r, scalper, signals, trend_instance,
};
use common::{SEC, new_orders};

/// Seconds rising by `step`; returns all outputs.
fn trend(s: &mut Scene, from: f64, step: f64, secs: usize) -> Vec<OutputEvent> {
    (0..secs)
        .flat_map(|i| s.second(from + step * i as f64))
        .collect()
}

#[test]
fn trend_goes_long_in_a_bull_market_and_its_stop_closes() {
    let mut s = Scene::new(trend_instance(&[Regime::Bull, Regime::Bear]));
    let outs = trend(&mut s, 60_000.0, 10.0, 20);
    let sig = signals(&outs);
    assert_eq!(sig.len(), 1, "{sig:#?}");
    let entry = sig[0];
    assert_eq!(
        (entry.stance, entry.reason),
        (Stance::Long, SignalReason::TrendUp)
    );
    assert!(
        entry.stop < entry.entry && entry.entry < entry.take,
        "{entry:?}"
    );
    assert_eq!(entry.qty, Qty::parse("0.010").unwrap());
    s.fill_all(&outs);
    assert_eq!(s.position(), Qty::parse("0.010").unwrap().raw());
    let regime = outs.iter().find_map(|o| match o.body {
        OutputBody::Regime(c) => Some(c),
        _ => None,
    });
    assert_eq!(
        regime.map(|c| (c.from, c.to)),
        Some((Regime::Range, Regime::Bull))
    );

    // The market falls through the stop: the core closes, reduce-only.
    let stop = entry.stop.to_f64();
    let outs = s.quote(stop - 1.0, "1", "1");
    assert_eq!(signals(&outs).len(), 1);
    let close = one_order(&outs);
    assert!(close.reduce_only);
    assert_eq!(
        s.h.core.order(close.client_id).unwrap().origin,
        Origin::StopLoss
    );
    s.closes(&outs, SignalReason::StopLoss);
}

#[test]
fn trend_goes_short_in_a_bear_market_and_its_target_closes() {
    let mut s = Scene::new(trend_instance(&[Regime::Bull, Regime::Bear]));
    let outs = trend(&mut s, 60_000.0, -10.0, 20);
    let entry = signals(&outs)[0];
    assert_eq!(
        (entry.stance, entry.reason),
        (Stance::Short, SignalReason::TrendDown)
    );
    s.fill_all(&outs);
    assert!(s.position() < 0);
    let outs = s.quote(entry.take.to_f64() - 1.0, "1", "1");
    s.closes(&outs, SignalReason::TakeProfit);
}

#[test]
fn trend_stays_out_of_regimes_it_does_not_trade() {
    // Allowed only in BEAR: the bull trend is not traded.
    let mut s = Scene::new(trend_instance(&[Regime::Bear]));
    let outs = trend(&mut s, 60_000.0, 10.0, 20);
    assert!(signals(&outs).is_empty());
    assert!(new_orders(&outs).is_empty());
    assert!(
        s.h.core.stats().signals_off_regime > 0,
        "proposed in BULL, refused by the regime filter"
    );
    // A range market: no trend proposals at all.
    let mut s = Scene::new(trend_instance(&[Regime::Bull, Regime::Bear]));
    let outs: Vec<_> = (0..40)
        .flat_map(|i| s.second(60_000.0 + f64::from(i % 2)))
        .collect();
    assert!(signals(&outs).is_empty());
}

/// Twenty quiet seconds around 60 000, then one second at `drop`.
fn range_then(s: &mut Scene, drop: f64) -> Vec<OutputEvent> {
    let mut outs: Vec<_> = (0..20)
        .flat_map(|i| s.second(60_000.0 + f64::from(i % 3)))
        .collect();
    outs.extend(s.second(drop));
    // The next trade closes the drop bar.
    outs.extend(s.second(drop));
    outs
}

#[test]
fn mean_reversion_buys_below_the_band_in_range_and_takes_profit_at_the_mean() {
    let mut s = Scene::new(InstanceConfig::new(
        StrategyKind::MeanReversion,
        &[Regime::Range],
    ));
    let outs = range_then(&mut s, 59_990.0);
    let sig = signals(&outs);
    assert_eq!(sig.len(), 1, "{sig:#?}");
    let entry = sig[0];
    assert_eq!(
        (entry.stance, entry.reason),
        (Stance::Long, SignalReason::BelowBand)
    );
    assert!(
        entry.stop < entry.entry && entry.entry < entry.take,
        "{entry:?}"
    );
    s.fill_all(&outs);
    assert!(s.position() > 0);
    // Back at the mean: the target is touched.
    let outs = s.quote(entry.take.to_f64() + 0.5, "1", "1");
    s.closes(&outs, SignalReason::TakeProfit);
}

#[test]
fn mean_reversion_does_not_trade_outside_range() {
    let mut s = Scene::new(InstanceConfig::new(
        StrategyKind::MeanReversion,
        &[Regime::Bull],
    ));
    let outs = range_then(&mut s, 59_990.0);
    assert!(signals(&outs).is_empty());
    assert!(new_orders(&outs).is_empty());
    assert_eq!(s.h.core.stats().signals_off_regime, 1);
}

#[test]
fn scalper_enters_on_imbalance_and_holds_at_least_five_seconds() {
    let mut s = Scene::new(scalper());
    let outs = bid_pressure(&mut s, 60_000.0);
    let entry = signals(&outs)[0];
    assert_eq!(
        (entry.stance, entry.reason),
        (Stance::Long, SignalReason::BidImbalance)
    );
    // 5 bp stop and 8 bp target from the ask, on the tick grid.
    assert_eq!(entry.entry, Price::parse("60000.1").unwrap());
    assert_eq!(entry.stop, Price::parse("59970.1").unwrap());
    assert_eq!(entry.take, Price::parse("60048.1").unwrap());
    s.fill_all(&outs);
    // The book turns within the minimum hold: no exit yet.
    let outs = s.quote(60_000.0, "1", "5");
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    s.h.now += 5 * SEC;
    // After it, a book leaning the other way is not enough while buyers
    // still lead the tape; the opposite setup closes (and does not turn
    // the position around).
    let outs = s.quote(60_000.0, "1", "5");
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    let outs = book_turns(&mut s, 60_000.0);
    s.closes(&outs, SignalReason::ImbalanceFaded);
}

#[test]
fn scalper_stop_applies_at_once_and_max_hold_closes() {
    let mut s = Scene::new(scalper());
    let outs = bid_pressure(&mut s, 60_000.0);
    s.fill_all(&outs);
    let outs = s.quote(59_960.0, "5", "1");
    let exit = signals(&outs);
    assert_eq!(
        exit[0].reason,
        SignalReason::StopLoss,
        "stops do not wait for the hold"
    );
    s.fill_all(&outs);
    assert_eq!(s.position(), 0);

    // Held while the setup lasts, closed at five minutes.
    let outs = bid_pressure(&mut s, 60_000.0);
    s.fill_all(&outs);
    let mut closed = None;
    for _ in 0..31 {
        s.h.now += 10 * SEC;
        let outs = s.quote(60_000.0, "5", "1");
        if let Some(x) = signals(&outs).first() {
            closed = Some((x.reason, s.h.now));
            assert_eq!(
                s.h.core.order(one_order(&outs).client_id).unwrap().origin,
                Origin::MaxHold
            );
            break;
        }
    }
    let (reason, _) = closed.expect("closed by max hold");
    assert_eq!(reason, SignalReason::MaxHold);
}

#[test]
fn scalper_does_not_trade_outside_its_regimes() {
    let mut s = Scene::new(InstanceConfig::new(StrategyKind::Scalper, &[Regime::Bull]));
    let outs = bid_pressure(&mut s, 60_000.0);
    assert!(signals(&outs).is_empty());
    assert!(s.h.core.stats().signals_off_regime > 0);
}

#[test]
fn a_losing_streak_shrinks_the_weight_within_bounds() {
    let mut s = Scene::new(scalper());
    let mut weights: Vec<WeightChange> = Vec::new();
    for _ in 0..3 {
        let outs = bid_pressure(&mut s, 60_000.0);
        assert_eq!(signals(&outs)[0].qty, Qty::parse("0.010").unwrap());
        s.fill_all(&outs);
        let outs = s.quote(59_960.0, "1", "1");
        s.fill_all(&outs);
        weights.extend(s.h.outs.iter().filter_map(|o| match o.body {
            OutputBody::Weight(w) => Some(w),
            _ => None,
        }));
        s.h.outs.clear();
    }
    let last = weights.last().unwrap();
    assert_eq!(last.weight, r("0.5"), "{weights:#?}");
    // The next entry is half the size.
    let outs = bid_pressure(&mut s, 60_000.0);
    assert_eq!(signals(&outs)[0].qty, Qty::parse("0.005").unwrap());
}

#[test]
fn impossible_trades_and_klines_are_refused_before_any_state_changes() {
    use autobot_engine::event::Kline;
    use autobot_engine::types::UnixNanos;
    let mut s = Scene::new(scalper());
    let before = s.h.core.view();
    let bad_trade = InputBody::AggTrade(Trade {
        trade_id: 1,
        price: Price::from_raw(-1),
        qty: Qty::ONE,
        buyer_is_maker: false,
    });
    let p = |x: &str| Price::parse(x).unwrap();
    let bad_kline = InputBody::Kline(Kline {
        open_time: UnixNanos(s.h.now),
        interval_secs: 1,
        trades: 3,
        open: p("100"),
        high: p("99"),
        low: p("101"),
        close: p("100"),
        volume: Qty::ONE,
    });
    let now = s.h.now;
    let mut outs = s.h.feed(Source::MarketData, 0, now, bad_trade);
    outs.extend(s.h.feed(Source::MarketData, 0, now, bad_kline));
    assert_eq!(s.h.core.stats().invalid_inputs, 2);
    let alerts = outs
        .iter()
        .filter(|o| matches!(o.body, OutputBody::Alert(_)))
        .count();
    assert_eq!(alerts, 2);
    let after = s.h.core.view();
    assert_eq!(after.symbols, before.symbols, "no feature or book changed");
}

/// One bar of the scene per second: trades at open, high, low and close,
/// then a deep book ticker at the close.
fn ohlc(s: &mut Scene, o: f64, h: f64, l: f64, c: f64) -> Vec<OutputEvent> {
    s.h.now = s.h.now - s.h.now % SEC + SEC;
    let mut outs = Vec::new();
    for p in [o, h, l, c] {
        outs.extend(s.trade(p, p >= o));
    }
    outs.extend(s.quote(c, "100", "100"));
    outs
}

#[test]
fn smc_buys_a_break_with_its_stop_under_the_order_block() {
    let mut inst = InstanceConfig::new(StrategyKind::Smc, &Regime::ALL);
    inst.swing = Some(1);
    let mut s = Scene::new(inst);
    // features::smc's hand-worked bars: bar 5 closes above the swing high
    // of bar 1 with the down bar 3 (98–102) behind it.
    let bars = [
        (100.0, 101.0, 99.0, 100.0),
        (100.0, 104.0, 100.0, 103.0),
        (103.0, 103.0, 100.0, 101.0),
        (101.0, 102.0, 98.0, 99.0),
        (99.0, 103.0, 99.0, 102.0),
        (102.0, 106.0, 102.0, 105.0),
        (105.0, 109.0, 105.5, 108.0),
    ];
    let mut outs = Vec::new();
    for (o, h, l, c) in bars {
        outs.extend(ohlc(&mut s, o, h, l, c));
    }
    // A bar closes at the next bar's first trade: bar 5's at bar 6's.
    let sig = signals(&outs);
    assert_eq!(sig.len(), 1, "{sig:#?}");
    assert_eq!(
        (sig[0].stance, sig[0].reason),
        (Stance::Long, SignalReason::StructureUp)
    );
    assert_eq!(sig[0].stop, Price::parse("97.9").unwrap());
    assert_eq!(sig[0].take, Price::parse("119.2").unwrap());
    s.fill_all(&outs);
    assert!(s.position() > 0, "{outs:#?}");
    // The market falls through the block: the position is closed.
    let mut outs = ohlc(&mut s, 108.0, 108.0, 104.0, 104.5);
    outs.extend(ohlc(&mut s, 104.5, 105.0, 97.0, 97.5));
    let exits = signals(&outs);
    assert!(exits.iter().any(|x| x.stance == Stance::Flat), "{exits:#?}");
    s.fill_all(&outs);
    assert_eq!(s.position(), 0);
}
