//! Builders shared by the engine's integration tests.
#![allow(dead_code)]

use autobot_engine::config::{
    CoreConfig, CpuMap, DurabilityKind, EngineConfig, InstrumentConfig, JournalConfig, Layout,
    StrategyConfig, WaitKind, presets,
};
use autobot_engine::event::{BookTicker, InputBody, InputEvent, Source, Trade};
use autobot_engine::types::{Money, MonoNanos, Price, Qty, SymbolId, UnixNanos};

/// Small rings (producers wrap them many times), yielding waits, no pinning.
pub fn engine_config(layout: Layout) -> EngineConfig {
    EngineConfig {
        ring_size: 1024,
        output_ring_size: 256,
        wait: WaitKind::Yield,
        layout,
        cpus: CpuMap::default(),
    }
}

/// Small segments, so tests roll across several of them.
pub fn journal_config() -> JournalConfig {
    JournalConfig {
        segment_mib: 1,
        durability: DurabilityKind::None,
        sync_every: 1000,
        checkpoint_every: 5_000,
        snapshot_every: 0,
        snapshot_keep: 3,
    }
}

/// Two Binance instruments with small minimums, the preset rulebook, a
/// fast EMA cross.
pub fn core_config() -> CoreConfig {
    let small = |mut ins: InstrumentConfig| {
        ins.min_notional = Money::parse("5").unwrap();
        ins
    };
    let mut c = presets::core(
        &[small(presets::btcusdt()), small(presets::ethusdt())],
        StrategyConfig {
            fast_period: 5,
            slow_period: 20,
            order_qty: Qty::parse("0.01").unwrap(),
        },
    );
    c.risk.max_position = Qty::parse("0.05").unwrap();
    c.risk.max_open_orders = 16;
    c
}

/// A deterministic zig-zag market event `i` of producer `p`: book tickers
/// whose mid oscillates (so the EMA cross fires), with a trade every 4th.
pub fn market_event(p: u64, i: u64) -> InputEvent {
    let sym = SymbolId((p % 2) as u16);
    let phase = (i / 50) % 2;
    let step = (i % 50) as i64;
    let mid_ticks = 600_000 + if phase == 0 { step * 3 } else { 150 - step * 3 };
    let tick = 10_000_000; // 0.1
    let recv = MonoNanos(p << 40 | i);
    let exch = UnixNanos(1_700_000_000_000_000_000 + i * 1000);
    let body = if i % 4 == 3 {
        InputBody::AggTrade(Trade {
            trade_id: p << 32 | i,
            price: Price::from_raw(mid_ticks * tick),
            qty: Qty::parse("0.001").unwrap(),
            buyer_is_maker: i.is_multiple_of(2),
        })
    } else {
        InputBody::BookTicker(BookTicker {
            update_id: i,
            bid_price: Price::from_raw(mid_ticks * tick),
            bid_qty: Qty::ONE,
            ask_price: Price::from_raw((mid_ticks + 1) * tick),
            ask_qty: Qty::ONE,
        })
    };
    InputEvent::new(Source::MarketData, sym, recv, exch, body)
}
