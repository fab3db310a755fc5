//! Paper execution: the ring adapter over the exchange model
//! (`autobot_exchange`, whose docs give the fill model). It fills the
//! core's orders against the book the engine has seen and feeds the
//! reports back as input events.
//!
//! # Order of things (the same as a backtest's)
//! The view (the input ring's last stage) delivers each input after the
//! core has processed it, and by then the core has published that
//! input's outputs. So for each viewed input, in sequence order:
//! 1. requests due by its exchange time reach the model (they meet the
//!    book as it stood before it);
//! 2. the model sees the input (resting orders fill, stops trigger);
//! 3. the core's orders and cancels caused by it, or by any input before
//!    it, leave for the exchange at its exchange time; with zero latency
//!    they arrive at once.
//!
//! Requests reach the model `latency_ms` of market time after their
//! cause (exchange timestamps, so a replayed capture sees the same
//! latency at any speed).
//!
//! # Never blocking the pipeline
//! This thread consumes both rings and publishes into the input ring, so it
//! never waits on a full ring: reports queue locally (bounded by the core's
//! open-order table) and are published with `try_publish` between polls.

use std::collections::VecDeque;

use crate::resync::ResyncRequests;
use autobot_engine::config::CoreConfig;
use autobot_engine::core::{OpenOrder, OrderState};
use autobot_engine::event::{
    AlertCode, InputEvent, NewOrder, OrderKind, OutputBody, OutputEvent, SystemState,
};
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::runtime::{
    InputPublisher, InputView, LatencyRecorder, OutputReader, RingReader, Waiter,
};
use autobot_engine::types::{Price, Qty, Seq, UnixNanos};
use autobot_exchange::{
    AccountRules, Exchange, ExchangeStats, FillConfig, Order, Reports, Request,
};

/// Counters of paper execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperStats {
    /// The exchange model's counters.
    pub exchange: ExchangeStats,
    /// Most reports waiting for ring space at once.
    pub max_backlog: usize,
}

/// The paper exchange: the model, and the core's requests waiting for
/// the view to pass their cause (no threads; see [`run`] for the loop).
#[derive(Debug)]
pub struct PaperExchange {
    model: Exchange,
    /// Sequence the view will deliver next (the view sees every input in order).
    view_seq: Seq,
    /// Exchange time of the input the view passed last.
    clock: UnixNanos,
    /// Requests whose cause the view has not passed yet, in cause order.
    pending: VecDeque<(Seq, Request)>,
    out: Reports,
    max_backlog: usize,
}

impl PaperExchange {
    /// A paper exchange for the core's instruments and account, whose view
    /// starts at input `first_seq` (zero for a new journal, its next
    /// sequence on resume).
    pub fn new(fills: &FillConfig, core: &CoreConfig, first_seq: Seq) -> PaperExchange {
        let rules = AccountRules {
            wallet: core.account.starting_balance,
            leverage: core.account.leverage,
            ..AccountRules::default()
        };
        PaperExchange {
            model: Exchange::new(fills, &rules, &core.instruments, &core.brackets),
            view_seq: first_seq,
            clock: UnixNanos(0),
            pending: VecDeque::with_capacity(1024),
            out: VecDeque::with_capacity(256),
            max_backlog: 0,
        }
    }

    /// Takes over orders that were open when an earlier run stopped: limit
    /// orders and protective stops the exchange acknowledged rest again;
    /// the others are on their way and meet the first book this run sees.
    pub fn adopt(&mut self, open: &[OpenOrder]) {
        for o in open {
            let order = Order::from_core(&NewOrder {
                client_id: o.client_id,
                symbol: o.symbol,
                side: o.side,
                kind: o.kind,
                reduce_only: o.reduce_only,
                post_only: o.post_only,
                price: if o.kind == OrderKind::Market {
                    Price::ZERO
                } else {
                    o.price
                },
                qty: o.qty,
            });
            if o.kind != OrderKind::Market && o.state == OrderState::Accepted {
                self.model.adopt(order, o.filled);
            } else {
                let rest = Qty::from_raw(o.qty.raw() - o.filled.raw());
                let order = Order { qty: rest, ..order };
                self.pending
                    .push_back((self.view_seq, Request::Place(order)));
            }
        }
    }

    /// Counters.
    pub fn stats(&self) -> PaperStats {
        PaperStats {
            exchange: self.model.stats(),
            max_backlog: self.max_backlog,
        }
    }

    /// The exchange model (its account and held orders).
    pub fn model(&self) -> &Exchange {
        &self.model
    }

    /// Sees one input event the core has processed (steps 1–3 of the
    /// module docs); reports go to `reports`.
    pub fn on_market(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        let t = ev.header.exchange.max(self.clock);
        while self.model.advance(t, &mut self.out) {}
        self.clock = t;
        self.model.on_market(ev, &mut self.out);
        self.view_seq = self.view_seq.next();
        self.release();
        self.pass(reports);
    }

    /// Takes one output of the core; reports go to `reports`.
    pub fn on_output(&mut self, out: &OutputEvent, reports: &mut VecDeque<InputEvent>) {
        let Some(request) = Request::from_core(out) else {
            return;
        };
        self.pending.push_back((out.cause, request));
        self.release();
        self.pass(reports);
    }

    /// Sends the requests whose cause the view has passed, at the view's
    /// time, and lets those due by then arrive.
    fn release(&mut self) {
        while let Some(&(cause, request)) = self.pending.front() {
            if cause >= self.view_seq {
                break;
            }
            self.pending.pop_front();
            self.model.submit(request, self.clock, 0);
        }
        while self.model.advance(self.clock, &mut self.out) {}
    }

    fn pass(&mut self, reports: &mut VecDeque<InputEvent>) {
        reports.extend(self.out.drain(..).map(|r| {
            let mut ev = r.input();
            ev.header.recv = mono_now();
            ev
        }));
    }

    /// Requests on their way (not yet at the exchange). Resting orders are
    /// not counted: they stay at the exchange when the run stops.
    pub fn waiting(&self) -> usize {
        self.pending.len() + self.model.open().0
    }

    /// Orders the paper exchange holds (resting limits, conditional orders).
    pub fn resting(&self) -> usize {
        self.model.open().1
    }
}

/// Runs the paper exchange on the calling thread until both rings close.
/// Drops `publisher` after the core reports `Stopped` and every report is
/// out, which lets the input ring shut down (see the runtime's shutdown docs).
/// The core's `BookResync` alerts are passed on to `resync` (the market
/// gateway fetches the snapshot). An order taken from the output ring is
/// "sent" (handed to the paper exchange) for the `tick_to_order` stage in
/// `latency`.
pub fn run(
    mut exchange: PaperExchange,
    mut outputs: OutputReader,
    mut view: InputView,
    publisher: InputPublisher,
    mut waiter: Waiter,
    resync: &ResyncRequests,
    mut latency: LatencyRecorder,
) -> PaperStats {
    let halt = publisher.halt_flag();
    let mut publisher = Some(publisher);
    let mut reports: VecDeque<InputEvent> = VecDeque::with_capacity(1024);
    let mut seen: Vec<InputEvent> = Vec::with_capacity(1024);
    let mut stopped = false;
    let (mut view_open, mut outputs_open) = (true, true);
    while view_open || outputs_open {
        if halt.is_halted() {
            // A stage failed: the rings will not drain; stop consuming them.
            break;
        }
        let mut progress = false;
        // The view batch first: every output its inputs caused is in the
        // output ring by then, so the poll below has it.
        seen.clear();
        if view_open {
            match view.with_batch(u64::MAX, |evs| seen.extend(evs.copied())) {
                Ok(Some(())) => progress = true,
                Ok(None) => {}
                Err(_) => view_open = false,
            }
        }
        if outputs_open {
            let polled = outputs.with_batch(u64::MAX, |outs| {
                let taken = mono_now();
                for o in outs {
                    if let OutputBody::NewOrder(_) = o.body {
                        latency.order_sent(o.cause, o.recv, taken);
                    }
                    if let OutputBody::StateChange(s) = o.body
                        && s.to == SystemState::Stopped
                    {
                        stopped = true;
                    }
                    if let OutputBody::Alert(a) = o.body
                        && a.code == AlertCode::BookResync
                    {
                        resync.request(a.symbol);
                    }
                    exchange.on_output(o, &mut reports);
                }
                latency.tick(taken);
            });
            match polled {
                Ok(Some(())) => progress = true,
                Ok(None) => {}
                Err(_) => outputs_open = false,
            }
        }
        for ev in &seen {
            exchange.on_market(ev, &mut reports);
        }
        exchange.max_backlog = exchange.max_backlog.max(reports.len());
        if let Some(p) = publisher.as_mut() {
            progress |= p.publish_queued(&mut reports);
            // After Stopped the core sends no order; once every order before
            // it is answered, release the input ring.
            if stopped && reports.is_empty() && exchange.waiting() == 0 {
                publisher = None;
            }
        }
        if progress {
            waiter.reset();
        } else {
            latency.tick(mono_now());
            waiter.idle();
        }
    }
    latency.finish();
    exchange.stats()
}
