//! Latency stamps taken after an input is journaled — core start, decision
//! out, order sent — written to the journal as meta records, so a journal
//! alone gives every stage (`autobot report latency --journal`).
//!
//! The stamps an input collects before the journal (parse, publish, journal
//! written) ride in its header. These happen later, on the core and
//! execution threads, after the input's record is written, so each thread
//! batches them ([`STAMPS_PER_RECORD`] per record) and whoever owns the
//! journal appends the batches:
//! - **core stamps** ([`KIND_CORE_STAMPS`]): per input, core start and
//!   decision out. They travel with the checkpoints (the core → journaller
//!   meta ring, or straight into the journal in the inline layout).
//! - **order-sent stamps** ([`KIND_SENT_STAMPS`]): per order a market-data
//!   input caused, when the execution thread sent it. They travel over a
//!   ring of their own ([`OrderStampWriter`]) that never blocks the
//!   execution thread: a batch that finds the ring full is dropped and
//!   counted.
//!
//! # Record payload
//! `n ≥ 1` entries of 16 bytes, little-endian: the input's sequence (`u64`),
//! then two `u32`, nanoseconds after that input's `recv` like the header's
//! stamps (at least 1, saturating at 4.3 s): core start and decision out for
//! a core stamp; order sent and 0 for an order-sent stamp. The record's
//! `seq` is the highest entry's.
//!
//! # Invariants
//! - Stamps are transport metadata: never an input, never in the core's
//!   digest; replay and snapshot restore skip them.
//! - A batch is flushed when full, when its oldest stamp is
//!   [`FLUSH_AFTER_NS`] old (checked at clock reads its thread makes
//!   anyway) and when its thread ends: a crash loses at most that much of
//!   the stamps, never an input.
//! - Nothing here allocates: batches are fixed arrays, encoded on the stack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use disruptor::{
    EventPoller, Producer, SingleConsumerBarrier, SingleProducer, SingleProducerBarrier,
};

use super::clock::stamp_since;
use crate::types::{MonoNanos, Seq};

/// Meta-record kind of a batch of core stamps.
pub const KIND_CORE_STAMPS: u16 = 2;
/// Meta-record kind of a batch of order-sent stamps.
pub const KIND_SENT_STAMPS: u16 = 3;
/// Stamps per record (at most).
pub const STAMPS_PER_RECORD: usize = 32;
/// A batch older than this is flushed at its thread's next clock reading.
pub const FLUSH_AFTER_NS: u64 = 100_000_000;
/// Bytes per encoded stamp.
const ENTRY_LEN: usize = 16;
/// Largest payload of a stamp record.
pub const RECORD_BYTES: usize = STAMPS_PER_RECORD * ENTRY_LEN;

/// One entry of a stamp record.
pub trait StampEntry: Copy + Default + std::fmt::Debug {
    /// The meta-record kind of a batch of these.
    const KIND: u16;
    /// The input the stamp is about.
    fn seq(&self) -> Seq;
    /// The two `u32` words after the sequence.
    fn words(&self) -> [u32; 2];
    /// The stamp from its words, `None` if they are not valid for the kind.
    fn from_words(seq: Seq, words: [u32; 2]) -> Option<Self>;
}

/// The core's stamps of one input, nanoseconds after its `recv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStamp {
    /// The input.
    pub seq: Seq,
    /// The core started on it.
    pub start: u32,
    /// Its decision was out (outputs in the output ring).
    pub done: u32,
}

impl CoreStamp {
    /// The stamps of the input `seq` received at `recv`.
    #[inline]
    pub fn new(seq: Seq, recv: MonoNanos, start: MonoNanos, done: MonoNanos) -> Self {
        CoreStamp {
            seq,
            start: stamp_since(recv, start),
            done: stamp_since(recv, done),
        }
    }
}

impl StampEntry for CoreStamp {
    const KIND: u16 = KIND_CORE_STAMPS;

    fn seq(&self) -> Seq {
        self.seq
    }

    fn words(&self) -> [u32; 2] {
        [self.start, self.done]
    }

    fn from_words(seq: Seq, [start, done]: [u32; 2]) -> Option<Self> {
        (start != 0 && done != 0).then_some(CoreStamp { seq, start, done })
    }
}

/// When an order the market-data input `cause` caused was sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SentStamp {
    /// The input that caused the order.
    pub cause: Seq,
    /// Nanoseconds after the cause's `recv`.
    pub sent: u32,
}

impl StampEntry for SentStamp {
    const KIND: u16 = KIND_SENT_STAMPS;

    fn seq(&self) -> Seq {
        self.cause
    }

    fn words(&self) -> [u32; 2] {
        [self.sent, 0]
    }

    fn from_words(cause: Seq, [sent, pad]: [u32; 2]) -> Option<Self> {
        (sent != 0 && pad == 0).then_some(SentStamp { cause, sent })
    }
}

/// Up to [`STAMPS_PER_RECORD`] stamps of one kind, waiting to be journaled.
#[derive(Clone, Copy, Debug)]
pub struct StampBatch<T> {
    len: usize,
    /// When the first stamp went in (for the age flush).
    opened: MonoNanos,
    entries: [T; STAMPS_PER_RECORD],
}

impl<T: StampEntry> Default for StampBatch<T> {
    fn default() -> Self {
        StampBatch {
            len: 0,
            opened: MonoNanos(0),
            entries: [T::default(); STAMPS_PER_RECORD],
        }
    }
}

impl<T: StampEntry> StampBatch<T> {
    /// Adds a stamp taken at `now`; `true` when the batch is now full.
    #[inline]
    pub fn push(&mut self, stamp: T, now: MonoNanos) -> bool {
        debug_assert!(
            self.len < STAMPS_PER_RECORD,
            "a full batch is flushed first"
        );
        if self.len == 0 {
            self.opened = now;
        }
        self.entries[self.len] = stamp;
        self.len += 1;
        self.len == STAMPS_PER_RECORD
    }

    /// `true` when the batch holds a stamp older than [`FLUSH_AFTER_NS`].
    #[inline]
    pub fn due(&self, now: MonoNanos) -> bool {
        self.len > 0 && now.saturating_since(self.opened) >= FLUSH_AFTER_NS
    }

    /// The stamps.
    pub fn entries(&self) -> &[T] {
        &self.entries[..self.len]
    }

    /// `true` when there is nothing to journal.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the batch.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The record's sequence: the highest entry's.
    pub fn last_seq(&self) -> Seq {
        self.entries().iter().map(T::seq).max().unwrap_or_default()
    }

    /// The record payload, written into `buf`.
    pub fn encode<'b>(&self, buf: &'b mut [u8; RECORD_BYTES]) -> &'b [u8] {
        for (chunk, e) in buf.chunks_exact_mut(ENTRY_LEN).zip(self.entries()) {
            let [a, b] = e.words();
            chunk[0..8].copy_from_slice(&e.seq().0.to_le_bytes());
            chunk[8..12].copy_from_slice(&a.to_le_bytes());
            chunk[12..16].copy_from_slice(&b.to_le_bytes());
        }
        &buf[..self.len * ENTRY_LEN]
    }
}

/// The stamps a record's payload holds, or why it is not a valid one.
pub fn decode<T: StampEntry>(payload: &[u8]) -> Result<Vec<T>, String> {
    if payload.is_empty() || !payload.len().is_multiple_of(ENTRY_LEN) {
        return Err(format!(
            "a stamp record of {} bytes (want a non-zero multiple of {ENTRY_LEN})",
            payload.len()
        ));
    }
    payload
        .chunks_exact(ENTRY_LEN)
        .map(|c| {
            let word = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            let seq = Seq(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
            T::from_words(seq, [word(8), word(12)])
                .ok_or_else(|| format!("stamp of input {seq}: invalid words"))
        })
        .collect()
}

/// The stamps of a journal record of kind `T::KIND`, or why it is not a
/// valid one, saying where the record is.
pub fn decode_record<T: StampEntry>(rec: &autobot_journal::Record<'_>) -> Result<Vec<T>, String> {
    decode::<T>(rec.payload).map_err(|e| {
        format!(
            "stamp record at segment {}, offset {}: {e}",
            rec.segment, rec.offset
        )
    })
}

/// The ring the execution thread's batches travel on.
type SentRing = SingleProducer<StampBatch<SentStamp>, SingleConsumerBarrier>;

/// The execution thread's end of the order-sent stamp ring: batches the
/// stamps and hands a batch over when it is full or due, and at drop.
/// Never blocks: a batch the ring has no room for is dropped and counted.
pub struct OrderStampWriter {
    ring: SentRing,
    batch: StampBatch<SentStamp>,
    /// Counts the stamps dropped.
    gauges: Arc<super::PipelineGauges>,
}

impl std::fmt::Debug for OrderStampWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderStampWriter")
            .field("pending", &self.batch.len)
            .finish_non_exhaustive()
    }
}

impl OrderStampWriter {
    /// An order caused by input `cause` (received at `recv`) was sent at `sent`.
    #[inline]
    pub fn sent(&mut self, cause: Seq, recv: MonoNanos, sent: MonoNanos) {
        let stamp = SentStamp {
            cause,
            sent: stamp_since(recv, sent),
        };
        if self.batch.push(stamp, sent) {
            self.flush();
        }
    }

    /// Hands the batch over if it is due at `now`.
    #[inline]
    pub fn tick(&mut self, now: MonoNanos) {
        if self.batch.due(now) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = self.batch;
        if self.ring.try_publish(|slot| *slot = batch).is_err() {
            self.gauges.stamps_dropped(batch.len as u64);
        }
        self.batch.clear();
    }
}

impl Drop for OrderStampWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The journal owner's end of the order-sent stamp ring.
pub(crate) struct OrderStampReader {
    poller: EventPoller<StampBatch<SentStamp>, SingleProducerBarrier>,
    /// An execution thread took the writer: wait for it to finish at the
    /// end. A writer nobody took is never waited for.
    claimed: Arc<AtomicBool>,
}

/// Creates the order-sent stamp ring (`slots` batches).
pub(crate) fn order_stamp_ring(
    slots: usize,
    gauges: Arc<super::PipelineGauges>,
) -> (OrderStampReader, UnclaimedWriter) {
    let (poller, builder) = disruptor::build_single_producer(
        slots,
        StampBatch::<SentStamp>::default,
        disruptor::BusySpin,
    )
    .new_event_poller();
    let claimed = Arc::new(AtomicBool::new(false));
    let writer = OrderStampWriter {
        ring: builder.build(),
        batch: StampBatch::default(),
        gauges,
    };
    (
        OrderStampReader {
            poller,
            claimed: Arc::clone(&claimed),
        },
        UnclaimedWriter { writer, claimed },
    )
}

/// The writer before an execution thread takes it.
#[derive(Debug)]
pub(crate) struct UnclaimedWriter {
    writer: OrderStampWriter,
    claimed: Arc<AtomicBool>,
}

impl UnclaimedWriter {
    /// Takes the writer: from now on the journal owner waits, at the end,
    /// until it is dropped.
    pub(crate) fn claim(self) -> OrderStampWriter {
        self.claimed.store(true, Ordering::Release);
        self.writer
    }
}

impl OrderStampReader {
    /// Appends what arrived. `Ok(true)` once the writer is gone and
    /// everything it sent is appended.
    pub(crate) fn drain(
        &mut self,
        journal: &mut super::Journaller,
    ) -> Result<bool, autobot_journal::JournalError> {
        use super::ring::RingReader as _;
        loop {
            let batch = self.poller.with_batch(64, |batches| {
                for b in batches {
                    journal.stamps(b)?;
                }
                Ok(())
            });
            match batch {
                Ok(Some(r)) => r?,
                Ok(None) => return Ok(false),
                Err(super::ring::Closed) => return Ok(true),
            }
        }
    }

    /// At the end of the run: appends what arrives until the execution
    /// thread that took the writer drops it (it ends after the core), or
    /// the pipeline halted. A writer nobody took is not waited for.
    pub(crate) fn drain_to_end(
        &mut self,
        journal: &mut super::Journaller,
        halt: &super::HaltFlag,
        waiter: &mut super::Waiter,
    ) -> Result<(), autobot_journal::JournalError> {
        while !self.drain(journal)? {
            if !self.claimed.load(Ordering::Acquire) || halt.is_halted() {
                break;
            }
            waiter.idle();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_round_trips_through_its_record_payload() {
        let mut b = StampBatch::<CoreStamp>::default();
        let recv = MonoNanos(1_000);
        for i in 0..5u64 {
            let s = CoreStamp::new(
                Seq(10 + i),
                recv,
                MonoNanos(1_500 + i),
                MonoNanos(2_000 + i),
            );
            assert!(!b.push(s, MonoNanos(5)));
        }
        let mut buf = [0u8; RECORD_BYTES];
        let back: Vec<CoreStamp> = decode(b.encode(&mut buf)).unwrap();
        assert_eq!(back, b.entries());
        assert_eq!(back[4].start, 504);
        assert_eq!(back[4].done, 1_004);
        assert_eq!(b.last_seq(), Seq(14));
    }

    #[test]
    fn a_batch_is_full_at_the_record_size_and_due_when_old() {
        let mut b = StampBatch::<SentStamp>::default();
        let s = SentStamp {
            cause: Seq(1),
            sent: 7,
        };
        assert!(!b.due(MonoNanos(u64::MAX)), "an empty batch is never due");
        for i in 0..STAMPS_PER_RECORD {
            assert_eq!(b.push(s, MonoNanos(100)), i + 1 == STAMPS_PER_RECORD);
        }
        assert!(!b.due(MonoNanos(100 + FLUSH_AFTER_NS - 1)));
        assert!(b.due(MonoNanos(100 + FLUSH_AFTER_NS)));
    }

    #[test]
    fn malformed_payloads_are_refused_with_the_reason() {
        assert!(decode::<CoreStamp>(&[]).is_err());
        assert!(
            decode::<CoreStamp>(&[0u8; 15])
                .unwrap_err()
                .contains("15 bytes")
        );
        // A zero stamp means "not stamped": never written.
        let mut e = [0u8; 16];
        e[0] = 3;
        assert!(decode::<CoreStamp>(&e).unwrap_err().contains("input 3"));
        e[8] = 9;
        e[12] = 1;
        assert!(
            decode::<SentStamp>(&e).is_err(),
            "an order stamp's pad is 0"
        );
        assert_eq!(decode::<CoreStamp>(&e).unwrap()[0].done, 1);
    }

    /// The execution thread's path into a real journal: a full ring drops
    /// and counts a batch instead of blocking; dropping the writer hands
    /// over its partial batch and closes the ring.
    #[test]
    fn order_stamps_reach_the_journal_and_a_full_ring_drops_and_counts() {
        let scratch = autobot_test_support::Scratch::new("stamps");
        let dir = scratch.path().to_path_buf();
        let (mut journal, _) = super::super::Journaller::open(autobot_journal::AppenderConfig {
            dir: dir.clone(),
            segment_size: 1 << 20,
            durability: autobot_journal::Durability::None,
        })
        .unwrap();
        let mut input = crate::event::InputEvent::default();
        journal.append(&mut input).unwrap();
        let gauges = Arc::new(super::super::PipelineGauges::new(1));
        let (mut reader, unclaimed) = order_stamp_ring(1, Arc::clone(&gauges));
        let mut writer = unclaimed.claim();
        let recv = MonoNanos(1_000);
        // Two full batches into a one-slot ring nobody drains yet, then 3 more.
        for i in 0..(2 * STAMPS_PER_RECORD + 3) as u64 {
            writer.sent(Seq(0), recv, MonoNanos(2_000 + i));
        }
        assert_eq!(gauges.read().stamps_dropped, STAMPS_PER_RECORD as u64);
        assert!(
            !reader.drain(&mut journal).unwrap(),
            "the writer is still there"
        );
        drop(writer);
        assert!(reader.drain(&mut journal).unwrap(), "closed once drained");
        journal.end_batch().unwrap();
        drop(journal);

        let j = autobot_journal::Journal::open(&dir).unwrap();
        let sent: Vec<SentStamp> = j
            .records()
            .filter(|r| r.meta.is_meta() && r.meta.kind == KIND_SENT_STAMPS)
            .flat_map(|r| decode::<SentStamp>(r.payload).unwrap())
            .collect();
        assert_eq!(sent.len(), STAMPS_PER_RECORD + 3);
        assert_eq!(sent[0].sent, 1_000, "the first batch, in order");
        assert_eq!(
            sent[STAMPS_PER_RECORD].sent,
            1_000 + 2 * STAMPS_PER_RECORD as u32
        );
    }
}
