//! Each rule of the veto chain at, just under and just over its threshold,
//! driven through operator orders (which run the whole chain) on a core fed
//! real events. "Under" and "at" pass; "over" vetoes with the values compared.

use autobot_engine::config::CoreConfig;
use autobot_engine::event::{
    Audit, ControlMode, FeedHealth, FeedStatus, InputBody, OperatorAction, OperatorCommand,
    OrderKind, Rule, Source, Verdict,
};
use autobot_engine::types::{Money, Price, Qty, Rate, Side};

mod common;
use common::{Harness, SEC, audits, hold, new_orders, risk_config};

fn r(s: &str) -> Rate {
    Rate::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// A harness on `cfg` with BTCUSDT at 9999.9 / 10000.1 (mid 10000, size
/// `size`) and ETHUSDT at 2499.99 / 2500.01.
fn market(cfg: &CoreConfig, size: &str) -> Harness {
    let mut h = Harness::new(cfg);
    h.book(0, "9999.9", "10000.1", size);
    h.book(1, "2499.99", "2500.01", "100");
    h
}

/// The one audit record of an operator order.
fn verdict(outs: &[autobot_engine::event::OutputEvent]) -> Audit {
    let a = audits(outs);
    assert_eq!(a.len(), 1, "{outs:#?}");
    a[0]
}

fn buy(h: &mut Harness, qty: &str) -> Audit {
    verdict(&h.market_order(0, Side::Buy, qty))
}

fn approved(a: &Audit) {
    assert_eq!(a.verdict, Verdict::Approved, "{a:?}");
}

fn vetoed(a: &Audit, rule: Rule, value: i64, limit: i64) {
    assert_eq!(
        (a.verdict, a.rule, a.value, a.limit),
        (Verdict::Vetoed, rule, value, limit),
        "{a:?}"
    );
}

fn limit_order(h: &mut Harness, side: Side, qty: &str, price: &str, flags: u8) -> Audit {
    let cmd = OperatorCommand {
        action: OperatorAction::Order,
        side,
        kind: OrderKind::Limit,
        flags,
        qty: q(qty),
        price: Price::parse(price).unwrap(),
        ..OperatorCommand::default()
    };
    verdict(&h.op(0, cmd))
}

#[test]
fn level_1_kill_switch_refuses_everything_until_reset() {
    let mut h = market(&risk_config(), "10");
    h.op(0, OperatorCommand::new(OperatorAction::Kill, 0));
    vetoed(&buy(&mut h, "0.01"), Rule::KillSwitch, 1, 0);
    h.op(0, OperatorCommand::new(OperatorAction::Reset, 0));
    // The kill switch put the mode in Emergency: new risk stays refused
    // until the operator clears it back to Manual.
    vetoed(&buy(&mut h, "0.01"), Rule::ReduceOnlyMode, 0, 0);
    h.op(
        0,
        OperatorCommand::new(OperatorAction::SetMode, ControlMode::Manual as u64),
    );
    assert_eq!(h.core.mode(), ControlMode::Manual);
    approved(&buy(&mut h, "0.01"));
}

#[test]
fn level_2_stopped_dry_run_and_safe_mode() {
    let mut h = market(&risk_config(), "10");
    h.op(0, OperatorCommand::new(OperatorAction::Shutdown, 0));
    let a = buy(&mut h, "0.01");
    assert_eq!((a.verdict, a.rule), (Verdict::Vetoed, Rule::SystemState));

    let mut cfg = risk_config();
    cfg.dry_run = true;
    let mut h = market(&cfg, "10");
    vetoed(&buy(&mut h, "0.01"), Rule::DryRun, 1, 0);
    assert!(new_orders(&h.outs).is_empty());
}

#[test]
fn level_3_spread_at_under_and_over_ten_bps() {
    let cfg = risk_config(); // max_spread_bps = 10
    // 10 / 10000 = exactly 10 bps.
    let mut h = Harness::new(&cfg);
    h.book(0, "9995.0", "10005.0", "10");
    approved(&buy(&mut h, "0.01"));
    let mut h = Harness::new(&cfg);
    h.book(0, "9995.1", "10005.0", "10");
    approved(&buy(&mut h, "0.01"));
    let mut h = Harness::new(&cfg);
    h.book(0, "9994.9", "10005.0", "10");
    // 10.1 / 9999.95 = 10.10005050… bps
    vetoed(
        &buy(&mut h, "0.01"),
        Rule::Spread,
        1_010_005_050,
        1_000_000_000,
    );
}

#[test]
fn level_3_a_stale_feed_refuses_even_reducing_orders() {
    let mut h = market(&risk_config(), "10");
    hold(&mut h, "0.1");
    h.book(0, "9999.9", "10000.1", "10");
    h.book(1, "2499.99", "2500.01", "100"); // 1 ms later
    // Exactly 30 s since BTCUSDT's last data is not stale yet.
    h.wait(30 * SEC - 1_000_000);
    h.timer();
    assert_eq!(h.core.state(), autobot_engine::event::SystemState::Running);
    let outs = h.market_order(0, Side::Sell, "0.01");
    approved(&verdict(&outs));
    h.fill(&new_orders(&outs)[0], "9999.9", "0");
    h.wait(1);
    h.timer();
    assert_eq!(h.core.state(), autobot_engine::event::SystemState::SafeMode);
    // SAFE_MODE lets a reducing order through level 2; level 3 refuses a
    // price from a stale feed (value 1 = stale, feed reported healthy).
    let a = verdict(&h.market_order(0, Side::Sell, "0.01"));
    vetoed(&a, Rule::FeedUnhealthy, 1, 0);
}

#[test]
fn level_3_a_resyncing_book_refuses_new_risk() {
    let mut h = market(&risk_config(), "10");
    let status = InputBody::FeedStatus(FeedStatus {
        feed: autobot_engine::event::Feed::MarketData,
        health: FeedHealth::Resyncing,
    });
    h.feed(Source::MarketData, 0, 0, status);
    vetoed(
        &buy(&mut h, "0.01"),
        Rule::FeedUnhealthy,
        FeedHealth::Resyncing as i64,
        0,
    );
}

#[test]
fn level_3_funding_window_at_under_and_over() {
    let cfg = risk_config(); // funding_window_secs = 300
    let setup = |after_ns: u64| {
        let mut h = market(&cfg, "10");
        // The mark event itself moves time by 1 ms.
        let next = h.now + 1_000_000 + after_ns;
        h.mark(0, "10000", "0.0001", next);
        h
    };
    // Funding due in exactly 300 s, longs pay: no new long.
    let mut h = setup(300 * SEC);
    vetoed(
        &buy(&mut h, "0.01"),
        Rule::FundingImminent,
        300_000_000_000,
        300_000_000_000,
    );
    // Shorts receive: allowed.
    approved(&verdict(&h.market_order(0, Side::Sell, "0.01")));
    // 1 ns outside the window: allowed.
    let mut h = setup(300 * SEC + 1);
    approved(&buy(&mut h, "0.01"));
}

/// Warms the volatility of BTCUSDT with alternating ticks and returns it.
fn warm_volatility(h: &mut Harness) -> Rate {
    for i in 0..40 {
        if i % 2 == 0 {
            h.book(0, "9999.9", "10000.1", "10");
        } else {
            h.book(0, "10001.9", "10002.1", "10");
        }
    }
    h.core.view().symbols[0].volatility_bps
}

#[test]
fn level_3_volatility_at_and_over_the_limit() {
    let mut cfg = risk_config();
    cfg.risk.forbidden.volatility_span = 10;
    cfg.risk.portfolio.volatility_target_bps = r("1000");
    let vol = {
        let mut h = Harness::new(&cfg);
        warm_volatility(&mut h)
    };
    assert!(vol > r("1") && vol < r("3"), "{vol}");
    cfg.risk.forbidden.max_volatility_bps = vol;
    let mut h = Harness::new(&cfg);
    warm_volatility(&mut h);
    approved(&buy(&mut h, "0.01"));
    cfg.risk.forbidden.max_volatility_bps = Rate::from_raw(vol.raw() - 1);
    let mut h = Harness::new(&cfg);
    warm_volatility(&mut h);
    vetoed(
        &buy(&mut h, "0.01"),
        Rule::Volatility,
        vol.raw(),
        vol.raw() - 1,
    );
}

#[test]
fn level_4_max_position_scaled_by_the_mode() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("10000.1"); // 1 BTC at the ask
    approved(&buy(&mut market(&cfg, "10"), "0.999"));
    approved(&buy(&mut market(&cfg, "10"), "1"));
    vetoed(
        &buy(&mut market(&cfg, "10"), "1.001"),
        Rule::MaxPosition,
        m("10010.1001").raw(),
        m("10000.1").raw(),
    );
    // Manual: × 0.5.
    let mut h = market(&cfg, "10");
    h.op(
        0,
        OperatorCommand::new(OperatorAction::SetMode, ControlMode::Manual as u64),
    );
    approved(&buy(&mut h, "0.5"));
    let mut h = market(&cfg, "10");
    h.op(
        0,
        OperatorCommand::new(OperatorAction::SetMode, ControlMode::Manual as u64),
    );
    vetoed(
        &buy(&mut h, "0.501"),
        Rule::MaxPosition,
        m("5010.0501").raw(),
        m("5000.05").raw(),
    );
}

#[test]
fn level_4_max_order_notional() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.max_order_notional = m("10000.1"); // 1 BTC at the ask
    approved(&buy(&mut market(&cfg, "10"), "1"));
    cfg.risk.max_order_notional = m("10000.09999999");
    vetoed(
        &buy(&mut market(&cfg, "10"), "1"),
        Rule::MaxOrderNotional,
        m("10000.1").raw(),
        m("10000.09999999").raw(),
    );
}

#[test]
fn level_4_leverage_at_under_and_over_three() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.portfolio.min_liquidation_distance = Rate::ZERO;
    let mut h = Harness::new(&cfg);
    h.book(0, "9999.9", "10000.0", "10");
    // 3 × 10000 / 10000 equity = exactly 3x.
    approved(&buy(&mut h, "3"));
    let mut h = Harness::new(&cfg);
    h.book(0, "9999.9", "10000.0", "10");
    approved(&buy(&mut h, "2.999"));
    let mut h = Harness::new(&cfg);
    h.book(0, "9999.9", "10000.0", "10");
    vetoed(
        &buy(&mut h, "3.001"),
        Rule::MaxLeverage,
        r("3.001").raw(),
        r("3").raw(),
    );
}

#[test]
fn level_4_max_open_positions() {
    let mut cfg = risk_config();
    cfg.risk.max_open_positions = 1;
    let mut h = market(&cfg, "10");
    hold(&mut h, "0.1");
    let a = verdict(&h.market_order(1, Side::Buy, "0.1"));
    vetoed(&a, Rule::MaxOpenPositions, 2, 1);
    // Adding to the open position is fine.
    approved(&buy(&mut h, "0.1"));
}

#[test]
fn level_5_liquidity_share_of_the_opposite_top_of_book() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.portfolio.liquidity_fraction = r("0.5");
    approved(&buy(&mut market(&cfg, "2"), "1"));
    approved(&buy(&mut market(&cfg, "2"), "0.999"));
    vetoed(
        &buy(&mut market(&cfg, "2"), "1.001"),
        Rule::Liquidity,
        q("1.001").raw(),
        q("1").raw(),
    );
}

#[test]
fn level_5_margin_after_the_trade() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.account.leverage = 2; // initial margin = notional / 2
    cfg.risk.portfolio.min_liquidation_distance = Rate::ZERO;
    let book = |h: &mut Harness| {
        h.book(0, "9999.9", "10000.0", "10");
    };
    let mut h = Harness::new(&cfg);
    book(&mut h);
    approved(&buy(&mut h, "2")); // 20000 / 2 = 10000 = equity
    let mut h = Harness::new(&cfg);
    book(&mut h);
    vetoed(
        &buy(&mut h, "2.001"),
        Rule::Margin,
        m("10005").raw(),
        m("10000").raw(),
    );
}

#[test]
fn level_5_liquidation_distance_after_the_trade() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.portfolio.min_liquidation_distance = Rate::ZERO;
    // What the distance is once 2 BTC are bought at 10000.1 (fee-free).
    let d = {
        let mut h = market(&cfg, "10");
        hold(&mut h, "2");
        h.core.view().symbols[0].liquidation_distance.unwrap()
    };
    // By hand: LP = (10000 − 20000.2) / (2 × 0.004 − 2) = 5020.18072289…,
    // distance = (10000 − 5020.18072289) / 10000.
    assert_eq!(d, r("0.49798192"));
    cfg.risk.portfolio.min_liquidation_distance = d;
    approved(&buy(&mut market(&cfg, "10"), "2"));
    cfg.risk.portfolio.min_liquidation_distance = Rate::from_raw(d.raw() + 1);
    vetoed(
        &buy(&mut market(&cfg, "10"), "2"),
        Rule::LiquidationDistance,
        d.raw(),
        d.raw() + 1,
    );
}

#[test]
fn level_5_correlated_exposure_cap() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.portfolio.correlated = vec![vec!["BTCUSDT".into(), "ETHUSDT".into()]];
    // 1 BTC at mark 10000 plus 2 ETH at 2500.01 = 15000.02.
    let run = |cap: &str| {
        let mut cfg = cfg.clone();
        cfg.risk.portfolio.max_correlated_notional = m(cap);
        let mut h = market(&cfg, "10");
        hold(&mut h, "1");
        verdict(&h.market_order(1, Side::Buy, "2"))
    };
    approved(&run("15000.02"));
    let a = run("15000.01999999");
    vetoed(
        &a,
        Rule::Correlation,
        m("15000.02").raw(),
        m("15000.01999999").raw(),
    );
    // A short on the other symbol is not the same direction.
    let mut cfg2 = cfg.clone();
    cfg2.risk.portfolio.max_correlated_notional = m("10000.1");
    let mut h = market(&cfg2, "10");
    hold(&mut h, "1");
    approved(&verdict(&h.market_order(1, Side::Sell, "2")));
}

#[test]
fn level_5_volatility_shrinks_the_size() {
    let mut cfg = risk_config();
    cfg.risk.forbidden.volatility_span = 10;
    cfg.risk.forbidden.max_volatility_bps = r("1000");
    let mut h = Harness::new(&cfg);
    let vol = warm_volatility(&mut h);
    let target = Rate::from_raw(vol.raw() / 2);
    cfg.risk.portfolio.volatility_target_bps = target;
    let mut h = Harness::new(&cfg);
    warm_volatility(&mut h);
    // Size = 0.9 × target / vol, rounded down to the step by sanity.
    let sized = i128::from(q("0.9").raw()) * i128::from(target.raw()) / i128::from(vol.raw());
    let a = buy(&mut h, "0.9");
    assert_eq!(
        (a.verdict, a.rule, a.value, a.limit),
        (
            Verdict::Approved,
            Rule::Sizing,
            q("0.9").raw(),
            sized as i64
        )
    );
    let step = i128::from(q("0.001").raw());
    assert_eq!(i128::from(a.qty.raw()), sized / step * step);
    assert!(a.qty < q("0.9") && a.qty > q("0.4"), "{a:?}");
}

#[test]
fn level_6_price_band_around_mark() {
    let cfg = risk_config(); // band 5% around mark (mid 10000)
    approved(&limit_order(
        &mut market(&cfg, "10"),
        Side::Buy,
        "0.01",
        "10500.0",
        0,
    ));
    approved(&limit_order(
        &mut market(&cfg, "10"),
        Side::Sell,
        "0.01",
        "9500.0",
        0,
    ));
    let a = limit_order(&mut market(&cfg, "10"), Side::Buy, "0.01", "10500.1", 0);
    vetoed(&a, Rule::PriceBand, r("0.05001").raw(), r("0.05").raw());
}

#[test]
fn level_6_post_only_must_not_take() {
    let cfg = risk_config();
    let post = OperatorCommand::POST_ONLY;
    approved(&limit_order(
        &mut market(&cfg, "10"),
        Side::Buy,
        "0.01",
        "10000.0",
        post,
    ));
    let a = limit_order(&mut market(&cfg, "10"), Side::Buy, "0.01", "10000.1", post);
    vetoed(
        &a,
        Rule::PostOnlyCross,
        Price::parse("10000.1").unwrap().raw(),
        Price::parse("10000.1").unwrap().raw(),
    );
}

#[test]
fn level_6_step_lot_size_and_min_notional() {
    let mut cfg = risk_config();
    vetoed(
        &buy(&mut market(&cfg, "10"), "0.0009"),
        Rule::ZeroQuantity,
        q("0.0009").raw(),
        q("0.001").raw(),
    );
    cfg.instruments[0].min_qty = q("0.002");
    cfg.instruments[0].max_market_qty = q("0.5");
    vetoed(
        &buy(&mut market(&cfg, "10"), "0.001"),
        Rule::LotSize,
        q("0.001").raw(),
        q("0.002").raw(),
    );
    approved(&buy(&mut market(&cfg, "10"), "0.5"));
    vetoed(
        &buy(&mut market(&cfg, "10"), "0.501"),
        Rule::LotSize,
        q("0.501").raw(),
        q("0.5").raw(),
    );
    let mut cfg = risk_config();
    cfg.instruments[0].min_notional = m("20.0002"); // 0.002 × 10000.1
    approved(&buy(&mut market(&cfg, "10"), "0.002"));
    cfg.instruments[0].min_notional = m("20.00020001");
    vetoed(
        &buy(&mut market(&cfg, "10"), "0.002"),
        Rule::MinNotional,
        m("20.0002").raw(),
        m("20.00020001").raw(),
    );
}

#[test]
fn level_6_reduce_only_is_capped_at_the_position() {
    let mut h = market(&risk_config(), "10");
    let cmd = |qty: &str| OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Sell,
        kind: OrderKind::Market,
        flags: OperatorCommand::REDUCE_ONLY,
        qty: q(qty),
        ..OperatorCommand::default()
    };
    vetoed(&verdict(&h.op(0, cmd("0.1"))), Rule::ReduceOnly, 0, 0);
    hold(&mut h, "0.5");
    let outs = h.op(0, cmd("0.7"));
    let o = new_orders(&outs)[0];
    assert_eq!((o.qty, o.reduce_only), (q("0.5"), true));
}

#[test]
fn an_exhausted_order_pool_refuses_with_a_reason() {
    let mut cfg = risk_config();
    cfg.risk.max_open_orders = 1;
    let mut h = market(&cfg, "10");
    approved(&buy(&mut h, "0.01"));
    vetoed(&buy(&mut h, "0.01"), Rule::OrderPool, 1, 1);
    assert_eq!(h.core.stats().vetoes, 1);
}

#[test]
fn manual_mode_computes_signals_but_sends_no_strategy_order() {
    let mut cfg = common::core_config();
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    let mut core = autobot_engine::core::Core::new(&cfg);
    let mut outs = Vec::new();
    for i in 0..2000 {
        let mut ev = common::market_event(0, i);
        ev.header.seq = autobot_engine::types::Seq(i);
        core.on_event(&ev, &mut outs);
    }
    assert!(new_orders(&outs).is_empty());
    let vetoes = audits(&outs);
    assert!(!vetoes.is_empty());
    assert!(
        vetoes
            .iter()
            .all(|a| a.rule == Rule::ControlMode && a.verdict == Verdict::Vetoed)
    );
}

#[test]
fn level_5_a_soft_drawdown_halves_the_size() {
    let mut cfg = risk_config(); // soft drawdown 5%, hard 10%
    cfg.risk.max_daily_loss = r("0.5");
    let mut h = market(&cfg, "10");
    hold(&mut h, "1");
    // 4.9% down: full size.
    h.book(0, "9509.9", "9510.1", "10");
    let a = buy(&mut h, "0.2");
    assert_eq!((a.verdict, a.qty), (Verdict::Approved, q("0.2")), "{a:?}");
    // 7% down from the high-water mark: half.
    let mut h = market(&cfg, "10");
    hold(&mut h, "1");
    h.book(0, "9299.9", "9300.1", "10");
    assert!(h.core.account().drawdown() > r("0.05"));
    let a = buy(&mut h, "0.2");
    assert_eq!(
        (a.verdict, a.rule, a.value, a.limit, a.qty),
        (
            Verdict::Approved,
            Rule::Sizing,
            q("0.2").raw(),
            q("0.1").raw(),
            q("0.1")
        ),
        "{a:?}"
    );
}

/// Twenty minutes of one-minute moves: BTCUSDT always steps by `btc`
/// ticks; ETHUSDT by `eth(i)` ticks in minute `i`.
fn minutes(h: &mut Harness, btc: i64, eth: impl Fn(i64) -> i64) {
    let (mut b, mut e) = (100_000i64, 250_000i64);
    for i in 0..20 {
        h.wait(60 * SEC);
        let step = if i % 2 == 0 { 1 } else { -1 };
        b += btc * step;
        e += eth(i) * step;
        let px = |t: i64, places: usize| {
            let s = 10i64.pow(places as u32);
            format!("{}.{:0places$}", t / s, t % s)
        };
        h.book(0, &px(b, 1), &px(b + 1, 1), "10");
        h.book(1, &px(e, 2), &px(e + 1, 2), "100");
    }
}

#[test]
fn level_5_measured_correlation_caps_same_direction_exposure() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = m("100000");
    cfg.risk.portfolio.correlated = Vec::new();
    cfg.risk.portfolio.correlation_span = 10;
    cfg.risk.portfolio.max_correlated_notional = m("12000");
    // Moving together, minute after minute: correlated without any config
    // group, so 1 BTC plus 1 ETH long is over the 12 000 cap...
    let mut h = Harness::new(&cfg);
    minutes(&mut h, 50, |_| 10);
    hold(&mut h, "1");
    let a = verdict(&h.market_order(1, Side::Buy, "1"));
    assert_eq!(
        (a.verdict, a.rule),
        (Verdict::Vetoed, Rule::Correlation),
        "{a:?}"
    );
    // ... while moving independently they are not.
    let mut h = Harness::new(&cfg);
    minutes(&mut h, 50, |i| if i % 4 < 2 { 10 } else { -10 });
    hold(&mut h, "1");
    approved(&verdict(&h.market_order(1, Side::Buy, "1")));
    // Moving against each other: a short on the other symbol is the same
    // exposure.
    let mut h = Harness::new(&cfg);
    minutes(&mut h, 50, |_| -10);
    hold(&mut h, "1");
    let a = verdict(&h.market_order(1, Side::Sell, "1"));
    assert_eq!(
        (a.verdict, a.rule),
        (Verdict::Vetoed, Rule::Correlation),
        "{a:?}"
    );
}
