//! The small configurations the integration tests of several crates run
//! the pipeline with: rings that producers wrap many times, yielding waits
//! and no pinning (tests pass on 2 cores with no isolated CPU), segments
//! small enough to roll, and a two-symbol core with a fast EMA cross.

use autobot_core::config::{
    CoreConfig, CpuMap, DurabilityKind, EngineConfig, InstrumentConfig, JournalConfig, Layout,
    StrategyConfig, WaitKind, presets,
};
use autobot_core::types::Money;

/// Small rings, yielding waits, no pinning, in `layout`.
pub fn engine(layout: Layout) -> EngineConfig {
    EngineConfig {
        ring_size: 1024,
        output_ring_size: 256,
        wait: WaitKind::Yield,
        layout,
        cpus: CpuMap::default(),
        mlockall: false,
    }
}

/// 1 MiB segments (tests roll across several), no syncing, a checkpoint
/// every 5 000 inputs, no periodic snapshot.
pub fn journal() -> JournalConfig {
    JournalConfig {
        segment_mib: 1,
        durability: DurabilityKind::None,
        sync_every: 1000,
        checkpoint_every: 5_000,
        snapshot_every: 0,
        snapshot_keep: 3,
    }
}

/// BTCUSDT and ETHUSDT with a 5 USDT minimum notional, the preset
/// rulebook, a fast EMA cross (5 / 20), 3 000 USDT positions and 600 USDT
/// entries near 60 000, 16 open orders.
pub fn core() -> CoreConfig {
    let small = |mut ins: InstrumentConfig| {
        ins.min_notional = Money::parse("5").unwrap_or(ins.min_notional);
        ins
    };
    let mut c = presets::core(
        &[small(presets::btcusdt()), small(presets::ethusdt())],
        StrategyConfig::ema_cross(5, 20),
    );
    c.risk.max_position_notional = Money::parse("3000").unwrap_or(Money::ZERO);
    c.risk.sizing.notional = Money::parse("600").unwrap_or(Money::ZERO);
    c.risk.max_open_orders = 16;
    c
}
