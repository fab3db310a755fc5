//! The core's steady state allocates nothing: a counting global allocator
//! watches `Core::on_event` over a trading stream after warm-up.

use autobot_engine::core::{Core, OutputSink};
use autobot_engine::event::{
    InputBody, Liquidity, OrderStatus, OrderUpdate, OutputBody, OutputEvent, Source, Stamps,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use autobot_engine::runtime::LatencyHub;
use autobot_engine::runtime::latency::{Stage, StageHistograms};
use autobot_engine::types::{
    ExchangeOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, SymbolId, UnixNanos,
};

mod common;

#[global_allocator]
static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;

use autobot_test_support::allocations as allocs;

/// Fills every order immediately (as the paper exchange would), into a
/// fixed array so the sink itself does not allocate.
struct FillBack {
    pending: [Option<OutputEvent>; 8],
    orders: u64,
}

impl OutputSink for FillBack {
    fn emit(&mut self, out: &OutputEvent) {
        if let OutputBody::NewOrder(_) = out.body {
            self.orders += 1;
            if let Some(slot) = self.pending.iter_mut().find(|s| s.is_none()) {
                *slot = Some(*out);
            }
        }
    }
}

impl FillBack {
    /// Answers every order the last event sent with a complete fill, as
    /// the next inputs (built on the stack: no allocation).
    fn fill_back(&mut self, core: &mut Core, seq: &mut u64) {
        for k in 0..self.pending.len() {
            let Some(OutputEvent {
                body: OutputBody::NewOrder(o),
                ..
            }) = self.pending[k].take()
            else {
                continue;
            };
            let mut fill = autobot_engine::event::InputEvent::new(
                Source::Execution,
                o.symbol,
                MonoNanos(0),
                UnixNanos(0),
                InputBody::OrderUpdate(OrderUpdate {
                    client_id: o.client_id,
                    exchange_id: ExchangeOrderId(*seq),
                    status: OrderStatus::Filled,
                    side: o.side,
                    liquidity: Liquidity::Taker,
                    last_price: o.price,
                    last_qty: o.qty,
                    cum_qty: o.qty,
                    fee: Money::from_raw(1),
                }),
            );
            fill.header.seq = Seq(*seq);
            *seq += 1;
            core.on_event(&fill, self);
        }
    }
}

#[test]
fn on_event_allocates_nothing_after_warm_up() {
    let mut core = Core::new(&common::core_config());
    let mut sink = FillBack {
        pending: [None; 8],
        orders: 0,
    };
    let mut seq = 0u64;
    // The core thread's latency recording is part of the steady state,
    // hand-offs to a collector thread included (the allocation count is
    // per thread: the collector's work is off this thread's books).
    let hub = LatencyHub::new();
    let mut recorder = hub.recorder();
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let (hub, stop) = (Arc::clone(&hub), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut total = StageHistograms::new();
            while !stop.load(Ordering::Acquire) {
                hub.collect(&mut total);
                std::thread::yield_now();
            }
            total
        })
    };
    let mut t = 0u64;
    let mut run = |core: &mut Core, sink: &mut FillBack, n: u64| {
        for i in 0..n {
            let mut ev = common::market_event(0, i);
            ev.header.seq = Seq(seq);
            // 10 ms of clock per event: a hand-off every 100 events.
            t += 10_000_000;
            ev.header.recv = MonoNanos(t);
            ev.header.stamps = Stamps {
                parsed: 300 + (i % 7) as u32 * 50,
                published: 400 + (i % 11) as u32 * 90,
                journaled: 1_500 + (i % 13) as u32 * 700,
            };
            seq += 1;
            let start = MonoNanos(ev.header.recv.0 + 2_000 + i % 5_000);
            core.on_event(&ev, sink);
            let done = MonoNanos(start.0 + 400 + i % 900);
            recorder.stages().record_stamps(&ev);
            recorder.stages().record_core(&ev, start, done);
            recorder.tick(done);
            sink.fill_back(core, &mut seq);
        }
    };
    run(&mut core, &mut sink, 1_000); // warm-up
    let before = allocs();
    let orders_before = sink.orders;
    run(&mut core, &mut sink, 20_000);
    let allocs = allocs() - before;
    assert!(
        sink.orders > orders_before + 10,
        "the stream must make the core trade"
    );
    assert!(core.position(SymbolId(0)).unwrap().fills() > 10);
    assert_eq!(
        allocs, 0,
        "Core::on_event and the latency recording allocated {allocs} times in the steady state"
    );
    recorder.finish();
    stop.store(true, Ordering::Release);
    let mut stages = collector.join().unwrap();
    assert!(hub.collect(&mut stages), "every recorder finished");
    for stage in Stage::ALL {
        if matches!(stage, Stage::TickToOrder | Stage::Delivery) {
            continue; // an execution thread's and a load generator's stage
        }
        assert_eq!(
            stages.get(stage).len(),
            21_000,
            "{} recorded every event once",
            stage.name()
        );
    }
}

/// The risk paths allocate nothing either: mark prices with funding
/// payments, feed gaps (SAFE_MODE and back), the kill switch and its
/// cancels, reset, mode changes, flatten and operator orders, approvals.
#[test]
fn risk_paths_allocate_nothing_after_warm_up() {
    use autobot_engine::event::{MarkPrice, OperatorAction, OperatorCommand, OrderKind, Timer};
    use autobot_engine::types::{Price, Qty, Rate, Side};
    let mut core = Core::new(&common::core_config());
    let mut sink = FillBack {
        pending: [None; 8],
        orders: 0,
    };
    // Every input is built before counting starts.
    let mut script = Vec::new();
    let mut t = 1_700_000_000_000_000_000u64;
    let ops = [
        OperatorCommand::new(OperatorAction::Kill, 0),
        OperatorCommand::new(OperatorAction::Reset, 0),
        OperatorCommand::new(OperatorAction::SetMode, 0),
        OperatorCommand::new(OperatorAction::SetMode, 1),
        OperatorCommand::new(OperatorAction::SetMode, 2),
        OperatorCommand::new(OperatorAction::Flatten, 1),
        OperatorCommand {
            action: OperatorAction::Order,
            side: Side::Buy,
            kind: OrderKind::Market,
            qty: Qty::parse("0.01").unwrap(),
            ..OperatorCommand::default()
        },
        OperatorCommand::new(OperatorAction::Approve, 7),
        OperatorCommand::new(OperatorAction::SetMode, 3),
        OperatorCommand::new(OperatorAction::SetMode, 0),
        OperatorCommand::new(OperatorAction::SetMode, 1),
        OperatorCommand::new(OperatorAction::SetMode, 2),
    ];
    for round in 0..40u64 {
        for i in 0..500 {
            let mut ev = common::market_event(round % 2, round * 500 + i);
            t += 1_000_000;
            ev.header.exchange = UnixNanos(t);
            script.push(ev);
        }
        let mark = InputBody::MarkPrice(MarkPrice {
            mark_price: Price::parse("60000").unwrap(),
            index_price: Price::parse("60000").unwrap(),
            funding_rate: Rate::parse("0.0001").unwrap(),
            next_funding: UnixNanos(t + round * 1_000_000_000),
        });
        script.push(autobot_engine::event::InputEvent::new(
            Source::MarketData,
            SymbolId(0),
            MonoNanos(0),
            UnixNanos(t),
            mark,
        ));
        // A forced order into the liquidation window.
        script.push(autobot_engine::event::InputEvent::new(
            Source::MarketData,
            SymbolId(round as u16 % 2),
            MonoNanos(0),
            UnixNanos(t),
            InputBody::Liquidation(autobot_engine::event::Liquidation {
                side: if round % 3 == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                },
                price: Price::parse("60000").unwrap(),
                avg_price: Price::parse("60000").unwrap(),
                filled_qty: Qty::parse("0.5").unwrap(),
            }),
        ));
        let op = ops[(round as usize) % ops.len()];
        script.push(autobot_engine::event::InputEvent::new(
            Source::Operator,
            SymbolId(0),
            MonoNanos(0),
            UnixNanos(0),
            InputBody::Operator(op),
        ));
        if round % 5 == 4 {
            // A 31 s gap: SAFE_MODE until the next data.
            t += 31_000_000_000;
            script.push(autobot_engine::event::InputEvent::new(
                Source::Timer,
                SymbolId(0),
                MonoNanos(0),
                UnixNanos(0),
                InputBody::Timer(Timer { now: UnixNanos(t) }),
            ));
        }
    }
    let mut seq = 0u64;
    let mut run =
        |core: &mut Core, sink: &mut FillBack, events: &[autobot_engine::event::InputEvent]| {
            for ev in events {
                let mut ev = *ev;
                ev.header.seq = Seq(seq);
                seq += 1;
                core.on_event(&ev, sink);
                sink.fill_back(core, &mut seq);
            }
        };
    let (warm, steady) = script.split_at(script.len() / 4);
    run(&mut core, &mut sink, warm);
    let before = allocs();
    run(&mut core, &mut sink, steady);
    let allocs = allocs() - before;
    let st = *core.stats();
    assert!(st.fundings > 0 && st.cancels + st.orders > 10, "{st:?}");
    assert_eq!(allocs, 0, "the risk paths allocated {allocs} times");
}

/// The L2 path allocates nothing: a snapshot, buffered and bridging diffs,
/// a long diff chain with inserts, changes and removals, and a gap with
/// its resync and a new snapshot.
#[test]
fn depth_sync_allocates_nothing_after_warm_up() {
    use autobot_engine::event::{DepthDiff, Level};
    use autobot_engine::types::{Price, Qty};
    let mut core = Core::new(&common::core_config());
    let mut outs = FillBack {
        pending: [None; 8],
        orders: 0,
    };
    let mut seq = 0u64;
    let mut parts: Vec<DepthDiff> = Vec::with_capacity(4096);
    let levels: Vec<Level> = (0..600)
        .map(|i| Level {
            price: Price::from_raw(6_000_000_000_000 - i * 10_000_000),
            qty: Qty::from_raw(100_000 + i),
        })
        .collect();
    let asks: Vec<Level> = (0..600)
        .map(|i| Level {
            price: Price::from_raw(6_000_010_000_000 + i * 10_000_000),
            qty: Qty::from_raw(100_000 + i),
        })
        .collect();
    let mut feed = |core: &mut Core, outs: &mut FillBack, parts: &[DepthDiff]| {
        for d in parts {
            let mut ev = autobot_engine::event::InputEvent::new(
                Source::MarketData,
                SymbolId(0),
                MonoNanos(0),
                UnixNanos(common::T0 + seq),
                InputBody::Depth(*d),
            );
            ev.header.seq = Seq(seq);
            seq += 1;
            core.on_event(&ev, outs);
        }
    };
    let mut round = |core: &mut Core, outs: &mut FillBack, base: u64| {
        parts.clear();
        // A diff before the snapshot (buffered), the snapshot, then a chain.
        DepthDiff::split((base, base + 2, base - 1), &levels[..4], &[], false, |d| {
            parts.push(d)
        });
        DepthDiff::split((0, base + 1, 0), &levels, &asks, true, |d| parts.push(d));
        let mut last = base + 2;
        for k in 0..200u64 {
            let i = (k * 7 % 600) as usize;
            let mut changed = [levels[i], asks[i]];
            changed[0].qty = Qty::from_raw((k % 3) as i64 * 1000);
            DepthDiff::split(
                (last + 1, last + 3, last),
                &changed[..1],
                &changed[1..],
                false,
                |d| parts.push(d),
            );
            last += 3;
        }
        // A gap: resync.
        DepthDiff::split(
            (last + 5, last + 6, last + 4),
            &levels[..1],
            &[],
            false,
            |d| parts.push(d),
        );
        feed(core, outs, &parts);
    };
    round(&mut core, &mut outs, 10); // warm-up
    let before = allocs();
    for r in 1..20 {
        round(&mut core, &mut outs, 10 + r * 10_000);
    }
    let allocs = allocs() - before;
    let book = core.depth(SymbolId(0)).unwrap();
    assert_eq!(book.stats().snapshots, 20);
    assert_eq!(core.stats().depth_resyncs, 20);
    assert!(book.stats().diffs >= 20 * 200);
    assert_eq!(allocs, 0, "the depth path allocated {allocs} times");
}

/// Trades, bars, regimes, the four strategies, their exits and adaptation
/// allocate nothing either.
#[test]
fn strategies_allocate_nothing_after_warm_up() {
    use autobot_engine::regime::{Regime, RegimeConfig};
    use autobot_engine::strategy::{InstanceConfig, StrategyConfig, StrategyKind};
    let mut cfg = common::core_config();
    let mut trend = InstanceConfig::new(StrategyKind::Trend, &[Regime::Bull, Regime::Bear]);
    (trend.fast, trend.slow, trend.atr) = (Some(3), Some(8), Some(3));
    let mut reversion = InstanceConfig::new(StrategyKind::MeanReversion, &[Regime::Range]);
    (reversion.period, reversion.atr) = (Some(8), Some(3));
    let mut ema = InstanceConfig::new(StrategyKind::EmaCross, &Regime::ALL);
    (ema.fast, ema.slow) = (Some(5), Some(20));
    // Confirmed by MACD and RSI, and the structure trader in the cloud: so
    // a gap's warm-up restart resets every kind of indicator.
    trend.confirm = Some(true);
    let mut smc = InstanceConfig::new(StrategyKind::Smc, &Regime::ALL);
    smc.confirm = Some(true);
    cfg.strategy = StrategyConfig {
        bar_secs: vec![1, 5],
        regime_bar_secs: 1,
        regime: RegimeConfig {
            fast: 3,
            slow: 8,
            atr: 3,
            confirm_bars: 2,
            min_dwell_bars: 2,
            ..RegimeConfig::default()
        },
        instances: vec![
            InstanceConfig::new(StrategyKind::Scalper, &[Regime::Range, Regime::Bull]),
            trend,
            reversion,
            ema,
            smc,
        ],
        ..StrategyConfig::features()
    };
    // One symbol, so no other feed goes stale.
    cfg.instruments.truncate(1);
    cfg.brackets.truncate(1);
    cfg.risk.max_consecutive_losses = 1_000_000;
    cfg.risk.forbidden.max_spread_bps = Rate::parse("1000").unwrap();
    cfg.risk.forbidden.max_volatility_bps = Rate::parse("1000").unwrap();
    let mut core = Core::new(&cfg);
    let mut sink = FillBack {
        pending: [None; 8],
        orders: 0,
    };
    let mut seq = 0u64;
    // 20 ms per event; the mid walks in legs of 30 s up, down or sideways,
    // the book leans one way for a few seconds at a time.
    let mut run = |core: &mut Core, sink: &mut FillBack, from: u64, n: u64| {
        for i in from..from + n {
            let leg = (i / 1500) % 3;
            let k = (i % 1500) as i64;
            let drift = match leg {
                0 => k * 2,
                1 => 3000 - k * 2,
                _ => (k % 7) * 3,
            };
            let mid = 600_000 + drift + (i as i64 * 7919 % 13);
            let lean = (i / 200) % 3;
            let (bq, aq) = match lean {
                0 => ("3", "1"),
                1 => ("1", "3"),
                _ => ("1", "1"),
            };
            let tick = 10_000_000;
            let body = if i % 3 == 2 {
                InputBody::AggTrade(autobot_engine::event::Trade {
                    trade_id: i,
                    price: Price::from_raw(mid * tick),
                    qty: Qty::parse("0.01").unwrap(),
                    buyer_is_maker: lean == 1,
                })
            } else {
                InputBody::BookTicker(autobot_engine::event::BookTicker {
                    update_id: i,
                    bid_price: Price::from_raw(mid * tick),
                    bid_qty: Qty::parse(bq).unwrap(),
                    ask_price: Price::from_raw((mid + 1) * tick),
                    ask_qty: Qty::parse(aq).unwrap(),
                })
            };
            // Two minutes without data at event 30000: a gap in the bars,
            // after which every indicator warms up again.
            let gap = if i >= 30_000 { 120_000_000_000 } else { 0 };
            let exch = UnixNanos(1_700_000_000_000_000_000 + i * 20_000_000 + gap);
            let mut ev = autobot_engine::event::InputEvent::new(
                Source::MarketData,
                SymbolId(0),
                MonoNanos(0),
                exch,
                body,
            );
            ev.header.seq = Seq(seq);
            seq += 1;
            core.on_event(&ev, sink);
            sink.fill_back(core, &mut seq);
        }
    };
    run(&mut core, &mut sink, 0, 10_000); // warm-up: every indicator warm
    let before = allocs();
    let stats_before = *core.stats();
    run(&mut core, &mut sink, 10_000, 40_000);
    let allocs = allocs() - before;
    let st = core.stats();
    assert!(st.signals > stats_before.signals + 20, "{st:#?}");
    assert!(st.regime_changes > stats_before.regime_changes, "{st:#?}");
    assert!(st.gap_restarts > stats_before.gap_restarts, "{st:#?}");
    assert_eq!(
        allocs, 0,
        "the strategy paths (and a gap's warm-up restart) allocated {allocs} times"
    );
}
