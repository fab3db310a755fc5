//! Thin, typed handles over the `disruptor` rings.
//!
//! - [`InputPublisher`]: one per gateway thread (the input ring is
//!   multi-producer). Publishing into a full ring waits with the thread's
//!   [`Waiter`] instead of the crate's hot spin, and gives up if the pipeline
//!   halted (so a gateway never hangs on a dead pipeline).
//! - [`RingReader`]: batch access for the event pollers that autobot's own
//!   threads drive. The batch is released (and later stages may see it) only
//!   when the closure returns: the journaller flushes inside it, so the core
//!   never sees an event that is not in the journal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use disruptor::{
    EventPoller, MultiConsumerBarrier, MultiProducer, MultiProducerBarrier, Polling, Producer,
    SingleConsumerBarrier, SingleProducer, SingleProducerBarrier,
};

use super::clock::mono_now;
use super::wait::{Doorbell, Waiter};
use crate::config::WaitKind;
use crate::event::{InputEvent, OutputEvent};

/// The pipeline stopped because a stage failed; nothing more is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline halted after a stage failed")]
pub struct Halted;

/// The ring is shut down (every producer is gone and everything was read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

/// Flag shared by every stage: set when a stage fails so the others stop
/// waiting for it.
#[derive(Debug, Default)]
pub struct HaltFlag(AtomicBool);

impl HaltFlag {
    /// Marks the pipeline as halted.
    pub fn halt(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// `true` once any stage failed.
    pub fn is_halted(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Batch access to a ring for a thread that runs its own loop.
pub trait RingReader<E>: Send {
    /// Runs `f` over up to `limit` available events and releases them when it
    /// returns. `Ok(None)`: nothing available. `Err(Closed)`: shut down.
    fn with_batch<R, F>(&mut self, limit: u64, f: F) -> Result<Option<R>, Closed>
    where
        F: for<'g> FnOnce(&mut dyn Iterator<Item = &'g E>) -> R;
}

macro_rules! impl_ring_reader {
    ($barrier:ty) => {
        impl<E: Send + Sync> RingReader<E> for EventPoller<E, $barrier> {
            #[inline]
            fn with_batch<R, F>(&mut self, limit: u64, f: F) -> Result<Option<R>, Closed>
            where
                F: for<'g> FnOnce(&mut dyn Iterator<Item = &'g E>) -> R,
            {
                match self.take(limit) {
                    Ok(mut guard) => {
                        let mut events = &mut guard;
                        Ok(Some(f(&mut events)))
                    }
                    Err(Polling::NoEvents) => Ok(None),
                    Err(Polling::Shutdown) => Err(Closed),
                }
            }
        }
    };
}

impl_ring_reader!(MultiProducerBarrier);
impl_ring_reader!(SingleConsumerBarrier);
impl_ring_reader!(SingleProducerBarrier);

/// The input ring's view for the last stage (events the core has processed).
pub type InputView = EventPoller<InputEvent, SingleConsumerBarrier>;
/// An output ring reader: the execution gateway's, and the notice tap's
/// beside it (both read every output; the core waits for the slower).
pub type OutputReader = EventPoller<OutputEvent, SingleProducerBarrier>;
/// The core's producer into the output ring, gated by its two readers.
pub(crate) type OutputProducer = SingleProducer<OutputEvent, MultiConsumerBarrier>;

pub(crate) type InputProducer = MultiProducer<InputEvent, SingleConsumerBarrier>;

/// A gateway's handle for publishing input events. Clone one per thread;
/// the ring shuts down when the last one is dropped.
#[derive(Clone)]
pub struct InputPublisher {
    producer: InputProducer,
    waiter: Waiter,
    halt: Arc<HaltFlag>,
    gauges: Arc<super::PipelineGauges>,
    /// Where fills go once published (the dashboard's trade history).
    fills: Option<FillMirror>,
    /// Rung after each publish when consumers park (`wait = "park"`).
    bell: Option<Arc<Doorbell>>,
}

/// A copy of every fill a gateway publishes, for the dashboard and the
/// notifier: bounded queues the publisher never waits on (a full one
/// drops and counts).
#[derive(Clone)]
pub(crate) struct FillMirror {
    pub(crate) queues: Vec<(
        std::sync::mpsc::SyncSender<InputEvent>,
        Arc<std::sync::atomic::AtomicU64>,
    )>,
}

impl FillMirror {
    #[inline]
    fn offer(&self, ev: &InputEvent) {
        if let crate::event::InputBody::OrderUpdate(u) = &ev.body
            && u.last_qty.is_positive()
        {
            for (tx, dropped) in &self.queues {
                if tx.try_send(*ev).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

impl std::fmt::Debug for InputPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputPublisher").finish_non_exhaustive()
    }
}

fn stamp_published(ev: &mut InputEvent) {
    ev.header.stamps.published = super::clock::stamp_since(ev.header.recv, mono_now());
}

impl InputPublisher {
    pub(crate) fn new(
        producer: InputProducer,
        wait: WaitKind,
        halt: Arc<HaltFlag>,
        gauges: Arc<super::PipelineGauges>,
        fills: Option<FillMirror>,
    ) -> Self {
        InputPublisher {
            producer,
            waiter: Waiter::new(wait),
            halt,
            gauges,
            fills,
            bell: None,
        }
    }

    /// Rings `bell` after every publish (its consumers park).
    pub(crate) fn with_doorbell(mut self, bell: Option<Arc<Doorbell>>) -> Self {
        self.bell = bell;
        self
    }

    /// The idle strategy for a thread that consumes what this pipeline
    /// publishes (an execution gateway reading the output ring): it parks
    /// on the pipeline's doorbell when the configured wait parks.
    pub fn consumer_waiter(&self) -> Waiter {
        Waiter::parking(self.waiter.kind(), self.bell.clone())
    }

    /// Consumer threads asleep (or about to sleep) on the pipeline's
    /// doorbell; always 0 unless the configured wait parks.
    pub fn sleepers(&self) -> u32 {
        self.bell.as_deref().map_or(0, Doorbell::sleepers)
    }

    #[inline]
    fn ring(&self) {
        Doorbell::ring_if(self.bell.as_deref());
    }

    /// Publishes one event, waiting while the ring is full.
    #[inline]
    pub fn publish(&mut self, mut ev: InputEvent) -> Result<(), Halted> {
        stamp_published(&mut ev);
        loop {
            if self.producer.try_publish(|slot| *slot = ev).is_ok() {
                self.ring();
                self.gauges.published(1);
                self.waiter.reset();
                if let Some(m) = &self.fills {
                    m.offer(&ev);
                }
                return Ok(());
            }
            if self.halt.is_halted() {
                return Err(Halted);
            }
            self.waiter.idle();
        }
    }

    /// Publishes one event if there is room now; `false` if the ring is full.
    /// For threads that also consume the ring and so must never block on it.
    #[inline]
    pub fn try_publish(&mut self, ev: &InputEvent) -> bool {
        let mut ev = *ev;
        stamp_published(&mut ev);
        let ok = self.producer.try_publish(|slot| *slot = ev).is_ok();
        if ok {
            self.ring();
            self.gauges.published(1);
            if let Some(m) = &self.fills {
                m.offer(&ev);
            }
        }
        ok
    }

    /// Publishes queued events from the front until the ring is full;
    /// `true` if any went out. For execution threads, which consume the
    /// output ring and so must never block on the input ring (the core may
    /// be waiting on them).
    pub fn publish_queued(&mut self, queue: &mut std::collections::VecDeque<InputEvent>) -> bool {
        let mut any = false;
        while let Some(ev) = queue.front() {
            if !self.try_publish(ev) {
                break;
            }
            queue.pop_front();
            any = true;
        }
        any
    }

    /// Publishes a batch with one claim, waiting while the ring lacks room.
    pub fn publish_batch(&mut self, events: &[InputEvent]) -> Result<(), Halted> {
        if events.is_empty() {
            return Ok(());
        }
        loop {
            let published = self.producer.try_batch_publish(events.len(), |slots| {
                for (slot, ev) in slots.zip(events) {
                    *slot = *ev;
                    stamp_published(slot);
                }
            });
            if published.is_ok() {
                self.ring();
                self.gauges.published(events.len() as u64);
                self.waiter.reset();
                return Ok(());
            }
            if self.halt.is_halted() {
                return Err(Halted);
            }
            self.waiter.idle();
        }
    }

    /// `true` once a pipeline stage failed.
    pub fn is_halted(&self) -> bool {
        self.halt.is_halted()
    }

    /// The pipeline's halt flag, to watch after this publisher is dropped.
    pub fn halt_flag(&self) -> Arc<HaltFlag> {
        Arc::clone(&self.halt)
    }
}

/// The core thread's handle on a ring it alone produces into (outputs, and
/// checkpoints and latency stamps for the dedicated journaller). A full ring is waited on with
/// the thread's [`Waiter`]; once the pipeline halted the event is dropped and
/// counted instead, so the core never hangs on a stage that died.
pub(crate) struct CorePublisher<E, P = SingleProducer<E, SingleConsumerBarrier>> {
    producer: P,
    waiter: Waiter,
    halt: Arc<HaltFlag>,
    /// Rung after each publish when consumers park (`wait = "park"`).
    bell: Option<Arc<Doorbell>>,
    /// Events dropped because the pipeline halted while the ring was full.
    pub(crate) dropped: u64,
    _event: std::marker::PhantomData<E>,
}

impl<E: Copy + Send + Sync, P: Producer<E>> CorePublisher<E, P> {
    pub(crate) fn new(
        producer: P,
        wait: WaitKind,
        halt: Arc<HaltFlag>,
        bell: Option<Arc<Doorbell>>,
    ) -> Self {
        CorePublisher {
            producer,
            waiter: Waiter::new(wait),
            halt,
            bell,
            dropped: 0,
            _event: std::marker::PhantomData,
        }
    }

    /// Publishes `ev`, waiting while the ring is full.
    #[inline]
    pub(crate) fn push(&mut self, ev: &E) {
        let ev = *ev;
        loop {
            if self.producer.try_publish(|slot| *slot = ev).is_ok() {
                Doorbell::ring_if(self.bell.as_deref());
                self.waiter.reset();
                return;
            }
            if self.halt.is_halted() {
                self.dropped += 1;
                return;
            }
            self.waiter.idle();
        }
    }
}

/// The core's handle on the output ring: stamps each output with the
/// `recv` of the market-data input that caused it (transport metadata for
/// the `tick_to_order` stage; the core itself leaves it zero, so its
/// digest never sees a clock).
pub(crate) struct OutputPublisher {
    ring: CorePublisher<OutputEvent, OutputProducer>,
    /// `recv` of the input being processed if it is market data, else 0.
    pub(crate) cause_recv: crate::types::MonoNanos,
    /// Where the notice tap finds the event time of an output's cause.
    times: Arc<super::event_times::EventTimes>,
}

impl OutputPublisher {
    pub(crate) fn new(
        ring: CorePublisher<OutputEvent, OutputProducer>,
        times: Arc<super::event_times::EventTimes>,
    ) -> Self {
        OutputPublisher {
            ring,
            cause_recv: crate::types::MonoNanos(0),
            times,
        }
    }

    /// Input `seq` produced outputs and left the core at event time `at`.
    pub(crate) fn caused(&self, seq: crate::types::Seq, at: crate::types::UnixNanos) {
        self.times.record(seq, at);
    }

    /// Outputs dropped because the pipeline halted while the ring was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.ring.dropped
    }
}

impl crate::core::OutputSink for OutputPublisher {
    #[inline]
    fn emit(&mut self, out: &OutputEvent) {
        let mut out = *out;
        out.recv = self.cause_recv;
        self.ring.push(&out);
    }
}
