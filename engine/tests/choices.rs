//! What the core does with a strategy's proposal besides the veto chain
//! (issue 28): no strategy trades before its stated warm-up, and the run
//! knows when each became warm; an entry whose expected move does not
//! cover `min_edge` round-trip costs is not taken; the operator disables
//! and enables an instance by a journaled command; HIGH_VOL entries go at
//! `high_vol_size`.

use autobot_engine::core::Refusal;
use autobot_engine::event::{OperatorAction, OperatorCommand, OutputEvent, Stance};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{InstanceConfig, SCALPER_WARMUP_TICKS, StrategyKind, Warmup};
use autobot_engine::types::{Qty, Rate, SymbolId};

mod common;
use common::scene::{Scene, bid_pressure, config, r, scalper, signals};

const BTC: SymbolId = SymbolId(0);

/// A scene with no warm-up of its own: the test feeds it.
fn cold(inst: InstanceConfig) -> Scene {
    Scene {
        h: common::Harness::new(&config(inst)),
    }
}

fn ready(s: &Scene) -> Option<(Option<autobot_engine::types::UnixNanos>, Warmup)> {
    s.h.core.strategy_readiness(0, BTC)
}

/// A bar strategy sees one trade a second from a cold start: it proposes
/// nothing before its warm-up's bars have closed, becomes warm at the
/// bar that completes it (a bar closes at the first trade of the next
/// second), and proposes once warm.
fn bars_warm_up(inst: InstanceConfig, needs: u32, price: impl Fn(u64) -> f64) {
    let mut s = cold(inst);
    assert_eq!(ready(&s).unwrap().1, Warmup::Bars(needs));
    let mut first_signal = None;
    // Within 30 s: the config's other symbol, never quoted, goes stale then.
    for sec in 0..=u64::from(needs) + 15 {
        let outs = s.second(price(sec));
        let closed = sec; // bars closed by this second's trade
        let warm = ready(&s).unwrap().0.is_some();
        assert_eq!(warm, closed >= u64::from(needs), "after {closed} bars");
        if !signals(&outs).is_empty() && first_signal.is_none() {
            first_signal = Some(closed);
        }
        s.fill_all(&outs);
    }
    let first = first_signal.expect("it trades once warm");
    assert!(
        first >= u64::from(needs),
        "signal after {first} of {needs} bars"
    );
}

#[test]
fn trend_waits_for_its_slow_ema_and_its_atr() {
    let mut inst = InstanceConfig::new(StrategyKind::Trend, &Regime::ALL);
    inst.fast = Some(3);
    inst.slow = Some(8);
    inst.atr = Some(3);
    // max(slow 8, ATR 3 + 1); a steady rise is its setup from the start.
    bars_warm_up(inst, 8, |sec| 60_000.0 + 10.0 * sec as f64);
}

#[test]
fn mean_reversion_waits_for_its_bands_and_its_atr() {
    let mut inst = InstanceConfig::new(StrategyKind::MeanReversion, &Regime::ALL);
    inst.period = Some(5);
    inst.atr = Some(9);
    inst.use_vwap = Some(false);
    // One close of five off the others is 2 sd from their mean: beyond a
    // band of 1.5.
    inst.band_sd = Some(r("1.5"));
    // max(period 5, ATR 9 + 1); a drop beyond the band on every sixth
    // second (one in each window of five) is its setup.
    bars_warm_up(inst, 10, |sec| {
        if sec % 6 == 5 {
            59_900.0
        } else {
            60_000.0 + (sec % 2) as f64
        }
    });
}

#[test]
fn the_scalper_waits_for_its_book_tickers() {
    let mut s = cold(scalper());
    let needs = SCALPER_WARMUP_TICKS;
    assert_eq!(ready(&s).unwrap().1, Warmup::Ticks(needs));
    // Its setup on every step from the first input: each step is one
    // trade and one book ticker.
    let mut tickers = 0;
    loop {
        let outs = bid_pressure(&mut s, 60_000.0);
        tickers += 1;
        let warm = ready(&s).unwrap().0.is_some();
        assert_eq!(warm, tickers >= needs, "after {tickers} book tickers");
        if !signals(&outs).is_empty() {
            assert_eq!(tickers, needs, "it proposes at the first warm ticker");
            break;
        }
        assert!(tickers < needs, "warm and still no signal");
        // Keep the other symbol of the config alive.
        s.h.now -= 90_000_000;
    }
}

#[test]
fn ema_cross_waits_for_its_slow_period_in_book_tickers() {
    let mut inst = InstanceConfig::new(StrategyKind::EmaCross, &Regime::ALL);
    inst.fast = Some(2);
    inst.slow = Some(30);
    let mut s = cold(inst);
    assert_eq!(ready(&s).unwrap().1, Warmup::Ticks(30));
    for i in 0..60u32 {
        // Down, then up: the fast EMA crosses the slow one.
        let mid = if i < 40 {
            60_000.0 - f64::from(i)
        } else {
            59_960.0 + 5.0 * f64::from(i - 40)
        };
        let outs = s.quote(mid, "1", "1");
        assert_eq!(
            ready(&s).unwrap().0.is_some(),
            i + 1 >= 30,
            "after {} tickers",
            i + 1
        );
        if !signals(&outs).is_empty() {
            assert!(
                i + 1 > 30,
                "a cross needs a warm slow EMA and one before it"
            );
            return;
        }
    }
    panic!("no cross");
}

/// The scalper warm, with take and stop in bp and `min_edge`.
fn scalper_with(take: &str, stop: &str, min_edge: &str) -> Scene {
    let mut inst = scalper();
    inst.take_bps = Some(r(take));
    inst.stop_bps = Some(r(stop));
    inst.min_edge = Some(r(min_edge));
    Scene::new(inst)
}

#[test]
fn an_entry_must_cover_its_round_trip_costs() {
    // Costs at 60,000: 4 bp taker fee both ways (8 bp) and a 0.2 spread
    // (0.03 bp): 8.03 bp. An 8 bp target covers 0.996 of them.
    let mut s = scalper_with("8", "5", "1.5");
    let outs = bid_pressure(&mut s, 60_000.0);
    assert!(signals(&outs).is_empty(), "{outs:#?}");
    assert_eq!(s.h.core.stats().signals_below_cost, 1);

    let mut s = scalper_with("8", "5", "0.99");
    let outs = bid_pressure(&mut s, 60_000.0);
    assert_eq!(signals(&outs)[0].stance, Stance::Long);

    // 15 bp covers 1.5 round trips at 12.05.
    let mut s = scalper_with("15", "5", "1.5");
    assert_eq!(signals(&bid_pressure(&mut s, 60_000.0)).len(), 1);

    // Without a target the stop's distance is what is judged.
    let mut s = scalper_with("0", "5", "1.5");
    assert!(signals(&bid_pressure(&mut s, 60_000.0)).is_empty());
    let mut s = scalper_with("0", "13", "1.5");
    assert_eq!(signals(&bid_pressure(&mut s, 60_000.0)).len(), 1);

    // min_edge 0 turns the check off.
    let mut s = scalper_with("1", "1", "0");
    assert_eq!(signals(&bid_pressure(&mut s, 60_000.0)).len(), 1);
}

#[test]
fn slippage_counts_both_ways() {
    // A 15 bp target from 60,000.1 is 90.0. Costs: 48 fees + 0.2 spread
    // + 2 × ticks × 0.1 slippage, × 1.5: 55 ticks → 88.8 passes, 65 ticks
    // → 91.8 does not.
    for (ticks, takes) in [(0, true), (55, true), (65, false)] {
        let mut inst = scalper();
        inst.take_bps = Some(r("15"));
        let mut cfg = config(inst);
        cfg.strategy.instances[0].min_edge = Some(r("1.5"));
        cfg.costs.slippage_ticks = ticks;
        let mut s = Scene::with(&cfg);
        let taken = !signals(&bid_pressure(&mut s, 60_000.0)).is_empty();
        assert_eq!(taken, takes, "{ticks} ticks of slippage");
    }
}

fn command(s: &mut Scene, action: OperatorAction, k: u64) -> Vec<OutputEvent> {
    s.h.op(0, OperatorCommand::new(action, k))
}

#[test]
fn a_disabled_instance_opens_nothing_but_its_position_still_exits() {
    let mut s = scalper_with("15", "5", "0");
    command(&mut s, OperatorAction::DisableStrategy, 0);
    assert!(signals(&bid_pressure(&mut s, 60_000.0)).is_empty());
    assert_eq!(s.h.core.stats().signals_disabled, 1);
    assert_eq!(s.h.core.strategy_totals(0).map(|t| t.0), Some(false));

    command(&mut s, OperatorAction::EnableStrategy, 0);
    let outs = bid_pressure(&mut s, 60_000.0);
    assert_eq!(signals(&outs).len(), 1);
    s.fill_all(&outs);
    assert!(s.position() > 0);

    // Disabled while it holds: the stop still closes the position.
    command(&mut s, OperatorAction::DisableStrategy, 0);
    let outs = s.quote(59_900.0, "1", "1");
    s.closes(&outs, autobot_engine::event::SignalReason::StopLoss);

    // No such instance: refused with the reason, nothing changes.
    command(&mut s, OperatorAction::EnableStrategy, 7);
    assert_eq!(
        s.h.core.last_command().refusal,
        Some(Refusal::UnknownStrategy)
    );
    assert_eq!(s.h.core.strategy_totals(0).map(|t| t.0), Some(false));
}

/// A scalper trading only in HIGH_VOL, with a detector that calls every
/// market volatile.
fn high_vol_scene(size: &str) -> Scene {
    let mut inst = scalper();
    inst.regimes = vec![Regime::HighVol];
    inst.min_edge = Some(Rate::ZERO);
    let mut cfg = config(inst);
    cfg.strategy.regime.vol_enter_bps = r("0.01");
    cfg.strategy.regime.vol_exit_bps = r("0.005");
    cfg.strategy.high_vol_size = r(size);
    let mut s = Scene::with(&cfg);
    for sec in 0..12 {
        let price = if sec % 2 == 0 { 60_000.0 } else { 60_010.0 };
        s.second(price);
    }
    s
}

#[test]
fn high_volatility_entries_go_at_their_configured_share_or_not_at_all() {
    let mut full = high_vol_scene("1");
    let outs = bid_pressure(&mut full, 60_000.0);
    let whole = signals(&outs)[0].qty;
    assert!(whole.is_positive());

    let mut half = high_vol_scene("0.5");
    let outs = bid_pressure(&mut half, 60_000.0);
    let halved = signals(&outs)[0].qty;
    assert_eq!(halved, Qty::from_raw(whole.raw() / 2), "{whole} → {halved}");

    let mut none = high_vol_scene("0");
    assert!(signals(&bid_pressure(&mut none, 60_000.0)).is_empty());
    assert_eq!(none.h.core.stats().signals_high_vol, 1);
}
