//! The synthetic market: identical for a seed, different across seeds,
//! visits every regime, and only emits exchange-valid prices and sizes.

use autobot_engine::config::{instruments, presets};
use autobot_engine::event::{ArchiveBuf, InputBody, InputEvent, Source};
use autobot_engine::types::{Instrument, MonoNanos, Price};
use autobot_gateways::synthetic::{SyntheticConfig, SyntheticMarket};

fn setup(seed: u64) -> (SyntheticConfig, Vec<Instrument>) {
    let ins = instruments(&[presets::btcusdt(), presets::ethusdt()]);
    let cfg = SyntheticConfig {
        seed,
        events_per_sec: 50_000,
        start_prices: vec![
            Price::parse("60000").unwrap(),
            Price::parse("3000").unwrap(),
        ],
        volatility_bps: 1.2,
        volatility_scale: vec![1.0, 1.3],
        quotes_per_sec: 190.0,
        trades_per_sec: 62.0,
        wide_spread_share: 0.06,
        // Short regimes, so 100,000 events (about 200 s) visit them all.
        mean_regime_secs: 20,
        trend_bps_per_min: 4.0,
        burst_volatility: 3.0,
    };
    (cfg, ins)
}

/// `n` events archived and concatenated, exactly as they would be journaled
/// (with a fixed receive time, which the generator does not choose).
fn generate(seed: u64, n: usize) -> Vec<u8> {
    let (cfg, ins) = setup(seed);
    let mut market = SyntheticMarket::new(&cfg, &ins);
    let mut buf = ArchiveBuf::default();
    let mut bytes = Vec::new();
    for _ in 0..n {
        let e = market.next_event();
        let ev = InputEvent::new(
            Source::MarketData,
            e.symbol,
            MonoNanos(0),
            e.exchange_time,
            e.body,
        );
        bytes.extend_from_slice(buf.archive(&ev));
    }
    bytes
}

#[test]
fn same_seed_same_market_byte_for_byte() {
    let a = generate(42, 50_000);
    let b = generate(42, 50_000);
    assert!(a.len() > 50_000 * 64);
    assert!(a == b, "two generations with seed 42 differ");
}

#[test]
fn another_seed_another_market() {
    assert_ne!(generate(42, 1_000), generate(43, 1_000));
}

#[test]
fn visits_every_regime_with_valid_prices() {
    let (cfg, ins) = setup(7);
    let mut market = SyntheticMarket::new(&cfg, &ins);
    let mut last_time = 0;
    let (mut tickers, mut trades) = (0, 0);
    for _ in 0..100_000 {
        let e = market.next_event();
        assert!(e.exchange_time.0 >= last_time, "time goes forward");
        last_time = e.exchange_time.0;
        let i = &ins[usize::from(e.symbol.0)];
        match e.body {
            InputBody::BookTicker(t) => {
                tickers += 1;
                assert!(t.bid_price.is_positive() && t.bid_price < t.ask_price);
                assert!(t.bid_price.is_multiple_of(i.tick_size));
                assert!(t.ask_price.is_multiple_of(i.tick_size));
                assert!(t.bid_qty.is_multiple_of(i.step_size) && t.bid_qty.is_positive());
            }
            InputBody::AggTrade(t) => {
                trades += 1;
                assert!(t.price.is_multiple_of(i.tick_size));
                assert!(t.qty.is_multiple_of(i.step_size) && t.qty.is_positive());
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    // 62 trades per 190 tickers, twice that in bursts.
    assert!(
        trades > tickers / 4 && trades < tickers / 2,
        "{trades} trades / {tickers}"
    );
    let per_regime = market.regime_events();
    assert!(
        per_regime.iter().all(|n| *n > 0),
        "every regime visited: {per_regime:?}"
    );
}
