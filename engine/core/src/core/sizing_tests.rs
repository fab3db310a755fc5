//! Sizing in risk terms (issue 25, item 10: every `Intent` was built with
//! `edge: None`, so Kelly never ran, and a base `order_qty` made 0.010 BTC
//! ~600 USDT and 0.010 ETH ~30 USDT).

use super::*;
use crate::config::{StrategyConfig, presets};
use crate::event::{Audit, BookTicker, Origin, Rule, Source, Verdict};
use crate::strategy::Proposal;
use crate::types::{MonoNanos, Qty, Rate, Side};

const T0: u64 = 1_723_075_200_000_000_000;

fn r(s: &str) -> Rate {
    Rate::parse(s).unwrap()
}

/// BTCUSDT near 60 000 and ETHUSDT near 3 000, the preset sizing (0.5% of
/// equity at risk, quarter Kelly) and limits wide enough not to bind.
fn core() -> Core {
    let mut c = presets::core(
        &[presets::btcusdt(), presets::ethusdt()],
        StrategyConfig::ema_cross(99_999, 100_000),
    );
    c.risk.max_position_notional = Money::parse("1000000").unwrap();
    c.risk.max_order_notional = Money::parse("1000000").unwrap();
    c.risk.max_leverage = r("100");
    c.account.leverage = 100;
    c.risk.portfolio.liquidity_fraction = r("100");
    c.risk.portfolio.min_liquidation_distance = Rate::ZERO;
    let mut core = Core::new(&c);
    let books = [(0u16, "59999.9", "60000.0"), (1, "2999.99", "3000.00")];
    for (seq, (sym, bid, ask)) in books.into_iter().enumerate() {
        let body = InputBody::BookTicker(BookTicker {
            update_id: 1,
            bid_price: Price::parse(bid).unwrap(),
            bid_qty: Qty::parse("100").unwrap(),
            ask_price: Price::parse(ask).unwrap(),
            ask_qty: Qty::parse("100").unwrap(),
        });
        let mut ev = InputEvent::new(
            Source::MarketData,
            SymbolId(sym),
            MonoNanos(0),
            UnixNanos(T0),
            body,
        );
        ev.header.seq = Seq(seq as u64);
        core.on_event(&ev, &mut DiscardSink);
    }
    core
}

fn long(entry: &str, stop: &str) -> Proposal {
    Proposal {
        stop: Price::parse(stop).unwrap(),
        ..Proposal::enter(
            crate::event::Stance::Long,
            crate::event::SignalReason::TrendUp,
            Rate::ONE,
            Price::parse(entry).unwrap(),
        )
    }
}

/// What the chain approves of a strategy entry of `qty` with `stop`.
fn approved(core: &Core, sym: u16, qty: Qty, stop: &str) -> Audit {
    let intent = Intent {
        plan: Plan {
            strategy: 0,
            stop: Price::parse(stop).unwrap(),
            take: Price::ZERO,
        },
        ..Intent::market(SymbolId(sym), Side::Buy, qty, Origin::Strategy)
    };
    core.evaluate(&intent).unwrap()
}

#[test]
fn one_config_risks_the_same_on_every_symbol() {
    let core = core();
    let equity = core.account().equity();
    // 1% stops on both: 0.5% of 10 000 = 50 USDT at risk.
    for (sym, entry, stop) in [(0u16, "60000", "59400"), (1, "3000", "2970")] {
        let s = core.symbols[usize::from(sym)];
        let q = core.entry_size(&s, Rate::ONE, &long(entry, stop));
        let gap = Price::parse(entry).unwrap().raw() - Price::parse(stop).unwrap().raw();
        let risk = i128::from(q.raw()) * i128::from(gap) / i128::from(crate::types::SCALE);
        let wanted = i128::from(equity.raw()) * 5 / 1000;
        let step = i128::from(s.instrument.step_size.raw()) * i128::from(gap)
            / i128::from(crate::types::SCALE);
        assert!(
            risk <= wanted && wanted - risk <= step,
            "{}: {q} risks {risk} of {wanted} (step {step})",
            s.instrument.name
        );
    }
    // The same notional without a stop: 1000 USDT on each.
    let btc = core.entry_size(&core.symbols[0], Rate::ONE, &long("60000", "0"));
    let eth = core.entry_size(&core.symbols[1], Rate::ONE, &long("3000", "0"));
    assert_eq!(
        (btc, eth),
        (Qty::parse("0.016").unwrap(), Qty::parse("0.333").unwrap())
    );
}

#[test]
fn kelly_changes_the_size_as_the_edge_changes() {
    let mut core = core();
    // A 1% stop: the risk size is 50 / 600 = 0.083 BTC; the prior's
    // quarter Kelly (0.025 of equity at risk) does not bind.
    let want = Qty::parse("0.083").unwrap();
    let a = approved(&core, 0, want, "59400");
    assert_eq!((a.qty, a.rule), (want, Rule::AllPassed));
    // A thin edge: a full window of trips winning 1%, losing 1%, 52% won:
    // f* = 0.52 − 0.48 = 0.04; quarter Kelly 1% of equity at risk / 1% stop
    // = 10 000 USDT = 0.1666 BTC: still above the risk size.
    let mut t = TripRecord::new(25);
    for i in 0..25 {
        let pnl = if i < 13 { "10" } else { "-10" };
        t.record(Money::parse(pnl).unwrap(), Money::parse("1000").unwrap());
    }
    core.signals.set_trips(0, t.clone());
    assert_eq!(approved(&core, 0, want, "59400").qty, want);
    // Thinner: 50.5% won of a 200-trip window, f* = 0.01, quarter Kelly
    // 0.25% of equity at risk, half the 0.5% per trade: Kelly caps the
    // entry.
    let mut t = TripRecord::new(200);
    for i in 0..200 {
        let pnl = if i < 101 { "10" } else { "-10" };
        t.record(Money::parse(pnl).unwrap(), Money::parse("1000").unwrap());
    }
    assert_eq!(t.kelly(r("0.1")), r("0.01"));
    core.signals.set_trips(0, t);
    let a = approved(&core, 0, want, "59400");
    // 10 000 × 0.0025 / 0.01 = 2 500 USDT at 60 000 = 0.041666.
    assert_eq!(a.rule, Rule::Sizing);
    assert_eq!(a.qty, Qty::parse("0.041").unwrap(), "{a:?}");
    // No edge: the minimum order (100 USDT at 60 000 = 0.002 BTC) ...
    let mut t = TripRecord::new(5);
    for _ in 0..5 {
        t.record(Money::parse("-10").unwrap(), Money::parse("1000").unwrap());
    }
    core.signals.set_trips(0, t);
    assert_eq!(
        approved(&core, 0, want, "59400").qty,
        Qty::parse("0.002").unwrap()
    );
    // ... or nothing, when the config says skip.
    core.risk.limits.no_edge_skips = true;
    let intent = Intent {
        plan: Plan {
            strategy: 0,
            stop: Price::parse("59400").unwrap(),
            take: Price::ZERO,
        },
        ..Intent::market(SymbolId(0), Side::Buy, want, Origin::Strategy)
    };
    let veto = core.evaluate(&intent).unwrap_err();
    assert_eq!(
        (veto.verdict, veto.rule, veto.limit),
        (Verdict::Vetoed, Rule::Sizing, 0)
    );
    assert!(explain::rule_values(&veto).contains("no edge"));
}
