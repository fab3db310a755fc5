//! The core's steady state allocates nothing: a counting global allocator
//! watches `Core::on_event` over a trading stream after warm-up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use autobot_engine::core::{Core, OutputSink};
use autobot_engine::event::{
    InputBody, Liquidity, OrderStatus, OrderUpdate, OutputBody, OutputEvent, Source,
};
use autobot_engine::types::{ExchangeOrderId, Money, MonoNanos, Seq, SymbolId, UnixNanos};

mod common;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; it only
// counts allocations on the side.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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

#[test]
fn on_event_allocates_nothing_after_warm_up() {
    let mut core = Core::new(&common::core_config());
    let mut sink = FillBack {
        pending: [None; 8],
        orders: 0,
    };
    let mut seq = 0u64;
    let mut run = |core: &mut Core, sink: &mut FillBack, n: u64| {
        for i in 0..n {
            let mut ev = common::market_event(0, i);
            ev.header.seq = Seq(seq);
            seq += 1;
            core.on_event(&ev, sink);
            for k in 0..sink.pending.len() {
                if let Some(OutputEvent {
                    body: OutputBody::NewOrder(o),
                    ..
                }) = sink.pending[k].take()
                {
                    let mut fill = autobot_engine::event::InputEvent::new(
                        Source::Execution,
                        o.symbol,
                        MonoNanos(0),
                        UnixNanos(0),
                        InputBody::OrderUpdate(OrderUpdate {
                            client_id: o.client_id,
                            exchange_id: ExchangeOrderId(seq),
                            status: OrderStatus::Filled,
                            side: o.side,
                            liquidity: Liquidity::Taker,
                            last_price: o.price,
                            last_qty: o.qty,
                            cum_qty: o.qty,
                            fee: Money::from_raw(1),
                        }),
                    );
                    fill.header.seq = Seq(seq);
                    seq += 1;
                    core.on_event(&fill, sink);
                }
            }
        }
    };
    run(&mut core, &mut sink, 1_000); // warm-up
    let before = ALLOCS.load(Ordering::Relaxed);
    let orders_before = sink.orders;
    run(&mut core, &mut sink, 20_000);
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert!(
        sink.orders > orders_before + 10,
        "the stream must make the core trade"
    );
    assert!(core.position(SymbolId(0)).unwrap().fills() > 10);
    assert_eq!(
        allocs, 0,
        "Core::on_event allocated {allocs} times in the steady state"
    );
}
