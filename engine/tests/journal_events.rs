//! Every input event kind goes through the journal and comes back equal.

use autobot_engine::event::*;
use autobot_engine::runtime::{Journaller, read_journal};
use autobot_engine::types::*;
use autobot_test_support::Scratch;

mod common;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

/// One event of every kind, with non-default values in every field.
fn every_kind() -> Vec<InputBody> {
    vec![
        InputBody::BookTicker(BookTicker {
            update_id: 7,
            bid_price: p("60000.1"),
            bid_qty: q("1.5"),
            ask_price: p("60000.2"),
            ask_qty: q("0.25"),
        }),
        InputBody::AggTrade(Trade {
            trade_id: 99,
            price: p("60000.15"),
            qty: q("0.003"),
            buyer_is_maker: true,
        }),
        InputBody::Depth(DepthDiff {
            first_update_id: 10,
            final_update_id: 12,
            prev_final_update_id: 9,
            bid_count: 2,
            ask_count: 1,
            flags: DepthDiff::LAST_PART,
            levels: [
                Level {
                    price: p("1"),
                    qty: q("2"),
                },
                Level {
                    price: p("0.9"),
                    qty: Qty::ZERO,
                },
                Level {
                    price: p("1.1"),
                    qty: q("3"),
                },
            ],
        }),
        InputBody::MarkPrice(MarkPrice {
            mark_price: p("60001"),
            index_price: p("60000.5"),
            funding_rate: Rate::parse("-0.0001").unwrap(),
            next_funding: UnixNanos(1_700_000_000_000_000_000),
        }),
        InputBody::Liquidation(Liquidation {
            side: Side::Sell,
            price: p("59000"),
            avg_price: p("59010"),
            filled_qty: q("0.5"),
        }),
        InputBody::Kline(Kline {
            open_time: UnixNanos(5),
            interval_secs: 60,
            trades: 1234,
            open: p("1"),
            high: p("2"),
            low: p("0.5"),
            close: p("1.5"),
            volume: q("100"),
        }),
        InputBody::OrderUpdate(OrderUpdate {
            client_id: ClientOrderId(16),
            exchange_id: ExchangeOrderId(77),
            status: OrderStatus::PartiallyFilled,
            side: Side::Buy,
            liquidity: Liquidity::Maker,
            last_price: p("10"),
            last_qty: q("1"),
            cum_qty: q("1"),
            fee: Money::parse("-0.001").unwrap(),
        }),
        InputBody::AccountUpdate(AccountUpdate {
            reason: AccountReason::Funding,
            wallet_balance: Money::parse("1000.5").unwrap(),
            position_qty: q("-0.2"),
            entry_price: p("61000"),
            unrealized_pnl: Money::parse("-12.3").unwrap(),
        }),
        InputBody::OrderRejected(OrderRejected {
            client_id: ClientOrderId(32),
            request: Request::Cancel,
            code: -2019,
            reason: RejectReason::InsufficientMargin,
        }),
        InputBody::Operator(OperatorCommand {
            action: OperatorAction::Order,
            arg: 3,
            side: Side::Sell,
            kind: OrderKind::Limit,
            flags: OperatorCommand::REDUCE_ONLY,
            qty: q("0.25"),
            price: p("61000.5"),
        }),
        InputBody::Timer(Timer { now: UnixNanos(42) }),
        InputBody::FeedStatus(FeedStatus {
            feed: Feed::UserData,
            health: FeedHealth::Stale,
        }),
        InputBody::Funding(FundingSettled {
            mark: p("60002"),
            rate: Rate::parse("0.0002").unwrap(),
        }),
        InputBody::Prediction(autobot_engine::event::Prediction::from_probability(
            2,
            15,
            0.61,
            autobot_engine::types::Seq(77),
        )),
    ]
}

#[test]
fn every_event_kind_round_trips_through_the_journal() {
    let scratch = Scratch::new("kinds");
    let dir = scratch.path().to_path_buf();
    let bodies = every_kind();
    assert_eq!(bodies.len(), INPUT_KINDS, "one of each kind");
    let (mut j, _) = Journaller::open(autobot_engine::runtime::appender_config(
        &common::journal_config(),
        &dir,
    ))
    .unwrap();
    let mut written = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let mut ev = InputEvent::new(
            Source::UserData,
            SymbolId(1),
            MonoNanos(1000 + i as u64),
            UnixNanos(2000 + i as u64),
            *body,
        );
        ev.header.stamps = Stamps {
            parsed: 5,
            published: 9,
            journaled: 0,
        };
        j.append(&mut ev).unwrap();
        written.push(ev);
    }
    j.end_batch().unwrap();
    drop(j);
    let back = read_journal(&dir).unwrap().events;
    assert_eq!(back, written);
    let kinds: Vec<usize> = back.iter().map(|e| e.body.kind_index()).collect();
    assert_eq!(kinds, (0..INPUT_KINDS).collect::<Vec<_>>());
}
