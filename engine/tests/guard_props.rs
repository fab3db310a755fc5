//! No single input from outside, whatever its field values, can move core
//! time by more than the plausibility window, roll the UTC day, lift a halt
//! or a cool-down, or stop later valid tickers from applying (issue 25,
//! items 7 and 8: `"E":9999999999999999999` rolled the day and lifted a
//! daily-loss halt; `"u":9999999999999999999` froze the top of book).
//!
//! The core is warmed to noon UTC with a daily-loss halt and an hour-long
//! losing-streak cool-down in force, then given one arbitrary market,
//! exchange or timer input (operator commands are the operator's intent,
//! not outside input), then a valid ticker stream.

use autobot_engine::event::{
    AccountReason, AccountUpdate, BookTicker, DepthDiff, Feed, FeedHealth, FeedStatus,
    FundingSettled, InputBody, Kline, Level, Liquidation, MarkPrice, OrderRejected, OrderStatus,
    OrderUpdate, RejectReason, Request, Source, SystemState, Timer, Trade,
};
use autobot_engine::types::{
    ClientOrderId, ExchangeOrderId, Money, Price, Qty, Rate, Side, SymbolId, UnixNanos,
};
use proptest::prelude::*;

mod common;
use common::{Harness, SEC, T0, new_orders, risk_config};

const WINDOW: u64 = 300 * SEC;

fn price(raw: i64) -> Price {
    Price::from_raw(raw)
}

/// A raw fixed-point value: anything at all, or something near a real
/// BTC price or size (so the checks past the first are exercised too).
fn raw() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (90_000i64..110_000).prop_map(|p| p * 10_000_000),
        (0i64..1_000_000).prop_map(|x| x * 100_000),
    ]
}

/// An exchange time: anything, or near the core's clock (either side of
/// the window's edges).
fn time(now: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0..4 * WINDOW).prop_map(move |d| now - 2 * WINDOW + d),
        Just(9_999_999_999_999_999_999u64 / 1_000_000 * 1_000_000),
    ]
}

fn body() -> impl Strategy<Value = InputBody> {
    let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
    prop_oneof![
        (any::<u64>(), raw(), raw(), raw(), raw()).prop_map(|(u, b, bq, a, aq)| {
            InputBody::BookTicker(BookTicker {
                update_id: u,
                bid_price: price(b),
                bid_qty: Qty::from_raw(bq),
                ask_price: price(a),
                ask_qty: Qty::from_raw(aq),
            })
        }),
        (any::<u64>(), raw(), raw(), any::<bool>()).prop_map(|(id, p, q, m)| {
            InputBody::AggTrade(Trade {
                trade_id: id,
                price: price(p),
                qty: Qty::from_raw(q),
                buyer_is_maker: m,
            })
        }),
        (raw(), raw(), any::<i64>(), any::<u64>()).prop_map(|(m, i, r, n)| {
            InputBody::MarkPrice(MarkPrice {
                mark_price: price(m),
                index_price: price(i),
                funding_rate: Rate::from_raw(r),
                next_funding: UnixNanos(n),
            })
        }),
        (any::<u64>(), any::<u32>(), raw(), raw(), raw(), raw()).prop_map(|(t, s, o, h, l, c)| {
            InputBody::Kline(Kline {
                open_time: UnixNanos(t),
                interval_secs: s,
                trades: 1,
                open: price(o),
                high: price(h),
                low: price(l),
                close: price(c),
                volume: Qty::ONE,
            })
        }),
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u8>(),
            raw(),
            raw()
        )
            .prop_map(|(a, b, c, flags, p, q)| {
                let mut levels = [Level::default(); autobot_engine::event::DEPTH_LEVELS_PER_EVENT];
                levels[0] = Level {
                    price: price(p),
                    qty: Qty::from_raw(q),
                };
                InputBody::Depth(DepthDiff {
                    first_update_id: a,
                    final_update_id: b,
                    prev_final_update_id: c,
                    bid_count: 1,
                    ask_count: 0,
                    flags,
                    levels,
                })
            }),
        (0u8..4).prop_map(|h| {
            InputBody::FeedStatus(FeedStatus {
                feed: Feed::default(),
                health: [
                    FeedHealth::Healthy,
                    FeedHealth::Stale,
                    FeedHealth::Disconnected,
                    FeedHealth::Resyncing,
                ][usize::from(h)],
            })
        }),
        (raw(), any::<i64>()).prop_map(|(m, r)| InputBody::Funding(FundingSettled {
            mark: price(m),
            rate: Rate::from_raw(r),
        })),
        (side.clone(), raw(), raw(), raw()).prop_map(|(s, p, a, q)| {
            InputBody::Liquidation(Liquidation {
                side: s,
                price: price(p),
                avg_price: price(a),
                filled_qty: Qty::from_raw(q),
            })
        }),
        (any::<u64>(), side, raw(), raw(), raw(), raw()).prop_map(|(id, s, p, q, c, f)| {
            InputBody::OrderUpdate(OrderUpdate {
                client_id: ClientOrderId(id),
                exchange_id: ExchangeOrderId(id),
                status: OrderStatus::Filled,
                side: s,
                liquidity: autobot_engine::event::Liquidity::Taker,
                last_price: price(p),
                last_qty: Qty::from_raw(q),
                cum_qty: Qty::from_raw(c),
                fee: Money::from_raw(f),
            })
        }),
        (any::<u64>(), any::<i32>()).prop_map(|(id, code)| {
            InputBody::OrderRejected(OrderRejected {
                client_id: ClientOrderId(id),
                request: Request::New,
                code,
                reason: RejectReason::Other,
            })
        }),
        (raw(), raw(), raw(), raw()).prop_map(|(w, q, e, u)| {
            InputBody::AccountUpdate(AccountUpdate {
                reason: AccountReason::Order,
                wallet_balance: Money::from_raw(w),
                position_qty: Qty::from_raw(q),
                entry_price: price(e),
                unrealized_pnl: Money::from_raw(u),
            })
        }),
        any::<u64>().prop_map(|t| InputBody::Timer(Timer { now: UnixNanos(t) })),
    ]
}

/// A core at noon UTC, HALTED by the day's loss, in an hour's losing-streak
/// cool-down, holding 1 BTC near 9700.
fn warm() -> Harness {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = Money::parse("20000").unwrap();
    cfg.risk.max_consecutive_losses = 2;
    cfg.risk.breakers.loss_cooldown_secs = 3600;
    let mut h = Harness::new(&cfg);
    h.jump_to(T0 + 12 * 3600 * SEC);
    let books = |h: &mut Harness, bid: &str, ask: &str| {
        h.book(0, bid, ask, "10");
        h.book(1, "2499.99", "2500.01", "100");
    };
    books(&mut h, "9999.9", "10000.1");
    let o = new_orders(&h.market_order(0, Side::Buy, "1"))[0];
    h.fill(&o, "10000.1", "0");
    // Two losing round trips on ETHUSDT: the cool-down.
    for _ in 0..2 {
        let o = new_orders(&h.market_order(1, Side::Buy, "1"))[0];
        h.fill(&o, "2500.01", "0");
        let o = new_orders(&h.market_order(1, Side::Sell, "1"))[0];
        h.fill(&o, "2499.99", "0");
    }
    books(&mut h, "9700.0", "9700.2");
    assert_eq!(h.core.state(), SystemState::Halted);
    assert!(h.core.conditions().daily_loss);
    assert!(h.core.conditions().cooldown_until.0 > h.now + WINDOW);
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_single_input_moves_time_rolls_the_day_lifts_a_halt_or_freezes_the_book(
        b in body(),
        t in time(T0 + 12 * 3600 * SEC + 10_000_000),
        sym in 0u16..2,
    ) {
        let mut h = warm();
        let before = h.core.now().0;
        let cooldown = h.core.conditions().cooldown_until;
        let source = match b {
            InputBody::OrderUpdate(_) | InputBody::OrderRejected(_) | InputBody::Funding(_) => {
                Source::Execution
            }
            InputBody::AccountUpdate(_) => Source::UserData,
            InputBody::Timer(_) => Source::Timer,
            _ => Source::MarketData,
        };
        h.feed(source, sym, t, b);
        let after = h.core.now().0;
        prop_assert!(after.abs_diff(before) <= WINDOW, "time {before} -> {after}");
        // A new UTC day would have lifted the daily-loss halt.
        prop_assert!(h.core.conditions().daily_loss, "the day rolled or the halt lifted");
        prop_assert_eq!(h.core.state(), SystemState::Halted);
        prop_assert_eq!(h.core.conditions().cooldown_until, cooldown, "the cool-down changed");
        // Later valid tickers apply: the last few of a valid stream are the book.
        h.now = h.now.max(after);
        for i in 0..5u64 {
            h.now += 1_000_000;
            let ticker = InputBody::BookTicker(BookTicker {
                update_id: 1_000 + h.seq + i,
                bid_price: Price::parse("9700.0").unwrap(),
                bid_qty: Qty::from_raw(100_000_000 + i as i64 * 100_000),
                ask_price: Price::parse("9700.2").unwrap(),
                ask_qty: Qty::ONE,
            });
            h.feed(Source::MarketData, 0, h.now, ticker);
        }
        let book = h.core.book(SymbolId(0)).unwrap();
        prop_assert_eq!(book.bid_qty, Qty::from_raw(100_400_000), "the last valid ticker applied");
    }
}
