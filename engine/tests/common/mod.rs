//! Builders shared by the engine's integration tests.
#![allow(dead_code)]

pub mod scene;

use autobot_engine::config::{
    CoreConfig, EngineConfig, JournalConfig, Layout, StrategyConfig, presets,
};
use autobot_engine::event::{BookTicker, InputBody, InputEvent, Source, Trade};
use autobot_engine::types::{Money, MonoNanos, Price, Qty, SymbolId, UnixNanos};

/// Small rings, yielding waits, no pinning (`test-support`'s).
pub fn engine_config(layout: Layout) -> EngineConfig {
    autobot_test_support::configs::engine(layout)
}

/// Small segments, so tests roll across several of them.
pub fn journal_config() -> JournalConfig {
    autobot_test_support::configs::journal()
}

/// Two Binance instruments with small minimums, the preset rulebook, a
/// fast EMA cross.
pub fn core_config() -> CoreConfig {
    autobot_test_support::configs::core()
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

/// Drives a core event by event with explicit event time, and answers its
/// orders like an exchange when asked. Every output is kept.
pub struct Harness {
    pub core: autobot_engine::core::Core,
    pub seq: u64,
    /// Event time in ns; each market event carries it.
    pub now: u64,
    pub outs: Vec<autobot_engine::event::OutputEvent>,
    /// The last event fed.
    pub last: InputEvent,
}

/// 2024-08-08 00:00:00 UTC.
pub const T0: u64 = 1_723_075_200_000_000_000;
pub const SEC: u64 = 1_000_000_000;

impl Harness {
    pub fn new(cfg: &CoreConfig) -> Harness {
        Harness {
            core: autobot_engine::core::Core::new(cfg),
            seq: 0,
            now: T0,
            outs: Vec::new(),
            last: InputEvent::default(),
        }
    }

    /// Feeds one event; returns the outputs it caused.
    pub fn feed(
        &mut self,
        source: Source,
        sym: u16,
        exchange: u64,
        body: InputBody,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        let mut ev = InputEvent::new(
            source,
            SymbolId(sym),
            MonoNanos(0),
            UnixNanos(exchange),
            body,
        );
        ev.header.seq = autobot_engine::types::Seq(self.seq);
        self.seq += 1;
        let mut outs = Vec::new();
        self.core.on_event(&ev, &mut outs);
        self.outs.extend_from_slice(&outs);
        self.last = ev;
        outs
    }

    /// Moves event time forward by `ns`.
    pub fn wait(&mut self, ns: u64) {
        self.now += ns;
    }

    /// Jumps event time to `t` with two timer ticks: a jump beyond the
    /// plausibility window is refused once and confirmed by the second.
    pub fn jump_to(&mut self, t: u64) -> Vec<autobot_engine::event::OutputEvent> {
        self.now = t;
        let mut outs = self.timer();
        outs.extend(self.timer());
        outs
    }

    /// A book ticker at the current time (1 ms later than the last event).
    pub fn book(
        &mut self,
        sym: u16,
        bid: &str,
        ask: &str,
        size: &str,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        self.now += 1_000_000;
        let body = InputBody::BookTicker(BookTicker {
            update_id: self.seq,
            bid_price: Price::parse(bid).unwrap(),
            bid_qty: Qty::parse(size).unwrap(),
            ask_price: Price::parse(ask).unwrap(),
            ask_qty: Qty::parse(size).unwrap(),
        });
        self.feed(Source::MarketData, sym, self.now, body)
    }

    /// A mark-price event.
    pub fn mark(
        &mut self,
        sym: u16,
        mark: &str,
        rate: &str,
        next_funding: u64,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        self.now += 1_000_000;
        let body = InputBody::MarkPrice(autobot_engine::event::MarkPrice {
            mark_price: Price::parse(mark).unwrap(),
            index_price: Price::parse(mark).unwrap(),
            funding_rate: autobot_engine::types::Rate::parse(rate).unwrap(),
            next_funding: UnixNanos(next_funding),
        });
        self.feed(Source::MarketData, sym, self.now, body)
    }

    /// A timer tick at the current time.
    pub fn timer(&mut self) -> Vec<autobot_engine::event::OutputEvent> {
        let body = InputBody::Timer(autobot_engine::event::Timer {
            now: UnixNanos(self.now),
        });
        self.feed(Source::Timer, 0, 0, body)
    }

    /// An operator command.
    pub fn op(
        &mut self,
        sym: u16,
        cmd: autobot_engine::event::OperatorCommand,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        self.feed(Source::Operator, sym, 0, InputBody::Operator(cmd))
    }

    /// An operator market order.
    pub fn market_order(
        &mut self,
        sym: u16,
        side: autobot_engine::types::Side,
        qty: &str,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        use autobot_engine::event::{OperatorAction, OperatorCommand, OrderKind};
        self.op(
            sym,
            OperatorCommand {
                action: OperatorAction::Order,
                side,
                kind: OrderKind::Market,
                qty: Qty::parse(qty).unwrap(),
                ..OperatorCommand::default()
            },
        )
    }

    /// Fills `o` completely at `price` with `fee`.
    pub fn fill(
        &mut self,
        o: &autobot_engine::event::NewOrder,
        price: &str,
        fee: &str,
    ) -> Vec<autobot_engine::event::OutputEvent> {
        use autobot_engine::event::{Liquidity, OrderStatus, OrderUpdate};
        let body = InputBody::OrderUpdate(OrderUpdate {
            client_id: o.client_id,
            exchange_id: autobot_engine::types::ExchangeOrderId(self.seq),
            status: OrderStatus::Filled,
            side: o.side,
            liquidity: Liquidity::Taker,
            last_price: Price::parse(price).unwrap(),
            last_qty: o.qty,
            cum_qty: o.qty,
            fee: Money::parse(fee).unwrap(),
        });
        self.feed(Source::Execution, o.symbol.0, self.now, body)
    }
}

/// A quantity from its decimal text.
pub fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

/// BTCUSDT at `bid` / `ask` (size 10), then ETHUSDT at 2499.99 / 2500.01.
pub fn books(h: &mut Harness, bid: &str, ask: &str) {
    h.book(0, bid, ask, "10");
    h.book(1, "2499.99", "2500.01", "100");
}

/// Buys `qty` BTC at market and fills it at 10000.1, fee-free.
pub fn hold(h: &mut Harness, qty: &str) {
    let o = new_orders(&h.market_order(0, autobot_engine::types::Side::Buy, qty))[0];
    h.fill(&o, "10000.1", "0");
}

/// The orders among `outs`.
pub fn new_orders(
    outs: &[autobot_engine::event::OutputEvent],
) -> Vec<autobot_engine::event::NewOrder> {
    outs.iter()
        .filter_map(|o| match o.body {
            autobot_engine::event::OutputBody::NewOrder(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// The audit records among `outs`.
pub fn audits(outs: &[autobot_engine::event::OutputEvent]) -> Vec<autobot_engine::event::Audit> {
    outs.iter()
        .filter_map(|o| match o.body {
            autobot_engine::event::OutputBody::Audit(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// A one-symbol (BTCUSDT) core for risk tests: operator-driven (the EMA
/// cross cannot fire within the slow period), SPEC example limits, 10 000
/// USDT, small minimums.
pub fn risk_config() -> CoreConfig {
    let mut ins = presets::btcusdt();
    ins.min_notional = Money::parse("5").unwrap();
    let mut c = presets::core(
        &[ins, presets::ethusdt()],
        StrategyConfig::ema_cross(99_999, 100_000),
    );
    // 2 BTC at 10 000.
    c.risk.max_position_notional = Money::parse("20000").unwrap();
    c
}

/// Reads the output ring on a thread of its own until it closes, as an
/// execution gateway would, idling with `waiter`; the outputs read.
pub fn drain_outputs(
    mut outputs: autobot_engine::runtime::OutputReader,
    mut waiter: autobot_engine::runtime::Waiter,
) -> std::thread::JoinHandle<u64> {
    use autobot_engine::runtime::RingReader;
    std::thread::spawn(move || {
        let mut n = 0u64;
        loop {
            match outputs.with_batch(u64::MAX, |evs| evs.count()) {
                Ok(Some(k)) => {
                    n += k as u64;
                    waiter.reset();
                }
                Ok(None) => waiter.idle(),
                Err(_) => return n,
            }
        }
    })
}

/// A pipeline of `engine` over a fresh journal in `dir/journal`, with
/// [`journal_config`] and [`core_config`], no snapshots and no view.
pub fn start_fresh(
    engine: &EngineConfig,
    dir: &std::path::Path,
) -> autobot_engine::runtime::Started {
    autobot_engine::runtime::start(
        engine,
        &journal_config(),
        &core_config(),
        &dir.join("journal"),
        None,
        false,
    )
    .unwrap()
}
