//! The Binance USD-M order-book sync procedure, as a state machine over
//! journaled depth events (diff parts and snapshot parts).
//!
//! 1. Until a snapshot has loaded, diff parts are buffered (a fixed ring;
//!    the oldest fall out first, and those are the ones a snapshot makes
//!    obsolete).
//! 2. Snapshot parts (flag `SNAPSHOT`, `final_update_id = lastUpdateId`)
//!    load the book; the last one seals it and the buffer is replayed.
//! 3. Diffs with `u < lastUpdateId` are dropped; the first applied diff
//!    must straddle it (`U <= lastUpdateId <= u`).
//! 4. After that each diff's `pu` must equal the previous diff's `u`.
//!
//! Anything else — a gap, a torn multi-part diff, a level with a price
//! <= 0 or a negative quantity, a crossed book after a complete diff —
//! clears the book and waits for a new snapshot ([`Outcome::Resync`]); a
//! diff older than the last applied one is dropped and counted
//! ([`Outcome::Stale`]). The caller turns a resync into an alert that the
//! market gateway answers with a new snapshot.
//!
//! Deterministic and allocation-free: all state is fixed-size.

use super::ladder::{BookSide, Ladder, SetOutcome};
use crate::event::{DepthDiff, Level};
use crate::types::{Price, Qty};

/// Diff parts held while waiting for a snapshot (each up to three levels).
pub const BUFFER_PARTS: usize = 1024;

/// Why the book was cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
#[repr(u8)]
pub enum ResyncReason {
    /// A diff's `pu` is not the previous `u`.
    Gap = 1,
    /// The first diff after the snapshot does not straddle it.
    NoBridge = 2,
    /// A multi-part diff or snapshot was interrupted.
    Torn = 3,
    /// A price <= 0 or a negative quantity.
    BadLevel = 4,
    /// Best bid >= best ask after a complete diff.
    Crossed = 5,
    /// A snapshot listed a price twice or did not fit.
    BadSnapshot = 6,
}

impl ResyncReason {
    /// Every reason, in `repr` order.
    pub const ALL: [ResyncReason; 6] = [
        ResyncReason::Gap,
        ResyncReason::NoBridge,
        ResyncReason::Torn,
        ResyncReason::BadLevel,
        ResyncReason::Crossed,
        ResyncReason::BadSnapshot,
    ];
}

/// What one depth event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Held until a snapshot arrives.
    Buffered,
    /// A snapshot part was loaded.
    Loading,
    /// The snapshot is complete and the buffer replayed: the book is in
    /// sync (`true`) or still waiting for the bridging diff (`false`).
    Loaded(bool),
    /// A diff part was applied; `true` when it completed a diff.
    Applied(bool),
    /// A diff older than the snapshot or the last applied diff: dropped.
    Stale,
    /// The book was cleared; a new snapshot is needed.
    Resync(ResyncReason),
}

/// Counters of the sync.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct DepthStats {
    /// Complete diffs applied.
    pub diffs: u64,
    /// Level updates applied.
    pub levels: u64,
    /// Diff parts dropped as older than the book.
    pub stale: u64,
    /// Resyncs, by any reason.
    pub resyncs: u64,
    /// Of which gaps in the `pu` chain (and missing bridges).
    pub gaps: u64,
    /// Of which crossed books.
    pub crossed: u64,
    /// Of which bad levels.
    pub bad_levels: u64,
    /// Of which torn diffs or snapshots.
    pub torn: u64,
    /// Buffered parts that fell out of the full buffer (whole diffs).
    pub overflow: u64,
    /// Levels beyond the book's capacity.
    pub truncated: u64,
    /// Snapshots loaded.
    pub snapshots: u64,
}

/// Where the sync stands.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
enum Phase {
    /// No snapshot: buffer diffs.
    #[default]
    Waiting,
    /// Loading snapshot `id`.
    Loading(u64),
    /// Snapshot `id` loaded; the next diff must straddle it.
    Bridging(u64),
    /// In sync; `u` of the last complete diff.
    Synced(u64),
}

/// The L2 book of one symbol and its sync.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct DepthBook {
    bids: Ladder,
    asks: Ladder,
    phase: Phase,
    /// Ids `(U, u, pu)` of the diff whose parts are arriving.
    open: Option<(u64, u64, u64)>,
    /// Skip the remaining parts of a dropped diff with this `u`.
    skip: Option<u64>,
    buffer: Ring,
    stats: DepthStats,
}

/// Fixed ring of buffered diff parts.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Ring {
    head: u16,
    len: u16,
    parts: [DepthDiff; BUFFER_PARTS],
}

impl Ring {
    /// Appends; returns how many of the oldest parts were dropped to make
    /// room. Dropping stops at a diff's first part, so the buffer always
    /// begins with a whole diff.
    fn push(&mut self, part: DepthDiff) -> u64 {
        let mut dropped = 0;
        if usize::from(self.len) == BUFFER_PARTS {
            self.pop();
            dropped += 1;
            while self.len > 0 && !self.parts[usize::from(self.head)].has(DepthDiff::FIRST_PART) {
                self.pop();
                dropped += 1;
            }
        }
        let at = (usize::from(self.head) + usize::from(self.len)) % BUFFER_PARTS;
        self.parts[at] = part;
        self.len += 1;
        dropped
    }

    fn pop(&mut self) -> Option<DepthDiff> {
        (self.len > 0).then(|| {
            let part = self.parts[usize::from(self.head)];
            self.head = ((usize::from(self.head) + 1) % BUFFER_PARTS) as u16;
            self.len -= 1;
            part
        })
    }
}

impl Default for DepthBook {
    fn default() -> Self {
        DepthBook::new()
    }
}

impl DepthBook {
    /// An empty book waiting for its first snapshot.
    pub fn new() -> DepthBook {
        DepthBook {
            bids: Ladder::new(BookSide::Bid),
            asks: Ladder::new(BookSide::Ask),
            phase: Phase::Waiting,
            open: None,
            skip: None,
            buffer: Ring {
                head: 0,
                len: 0,
                parts: [DepthDiff::default(); BUFFER_PARTS],
            },
            stats: DepthStats::default(),
        }
    }

    /// The bids.
    pub fn bids(&self) -> &Ladder {
        &self.bids
    }

    /// The asks.
    pub fn asks(&self) -> &Ladder {
        &self.asks
    }

    /// Best bid and best ask, when the book is in sync and both exist.
    pub fn top(&self) -> Option<((Price, Qty), (Price, Qty))> {
        if !self.is_synced() || self.open.is_some() {
            return None;
        }
        Some((self.bids.best()?, self.asks.best()?))
    }

    /// The book is in sync with the exchange.
    pub fn is_synced(&self) -> bool {
        matches!(self.phase, Phase::Synced(_))
    }

    /// `u` of the last applied diff (or the snapshot's id before one).
    pub fn last_update_id(&self) -> Option<u64> {
        match self.phase {
            Phase::Synced(u) | Phase::Bridging(u) => Some(u),
            _ => None,
        }
    }

    /// Counters.
    pub fn stats(&self) -> &DepthStats {
        &self.stats
    }

    /// Handles one depth event.
    pub fn on_part(&mut self, part: &DepthDiff) -> Outcome {
        if part.has(DepthDiff::SNAPSHOT) {
            return self.on_snapshot_part(part);
        }
        match self.phase {
            Phase::Waiting | Phase::Loading(_) => {
                self.stats.overflow += self.buffer.push(*part);
                Outcome::Buffered
            }
            Phase::Bridging(_) | Phase::Synced(_) => self.on_diff_part(part),
        }
    }

    fn on_snapshot_part(&mut self, part: &DepthDiff) -> Outcome {
        let id = part.final_update_id;
        if part.has(DepthDiff::FIRST_PART) {
            self.bids.clear();
            self.asks.clear();
            self.open = None;
            self.skip = None;
            self.phase = Phase::Loading(id);
        } else if self.phase != Phase::Loading(id) {
            // A part of a snapshot we did not see begin.
            return self.resync(ResyncReason::Torn);
        }
        if !part.bids().iter().chain(part.asks()).all(valid) {
            return self.resync(ResyncReason::BadLevel);
        }
        for (ladder, levels) in [(&mut self.bids, part.bids()), (&mut self.asks, part.asks())] {
            for l in levels {
                if !l.qty.is_zero() && !ladder.push_unsorted(l.price, l.qty) {
                    self.stats.truncated += 1;
                }
            }
        }
        if !part.has(DepthDiff::LAST_PART) {
            return Outcome::Loading;
        }
        if !self.bids.seal() || !self.asks.seal() {
            return self.resync(ResyncReason::BadSnapshot);
        }
        self.stats.snapshots += 1;
        self.phase = Phase::Bridging(id);
        // Replay what arrived before the snapshot, in arrival order.
        while let Some(buffered) = self.buffer.pop() {
            if let Outcome::Resync(r) = self.on_diff_part(&buffered) {
                // The buffer is cleared with the book.
                return Outcome::Resync(r);
            }
        }
        Outcome::Loaded(self.is_synced())
    }

    fn on_diff_part(&mut self, part: &DepthDiff) -> Outcome {
        let ids = (
            part.first_update_id,
            part.final_update_id,
            part.prev_final_update_id,
        );
        let first = part.has(DepthDiff::FIRST_PART);
        if let Some(open) = self.open {
            if first || open != ids {
                return self.resync(ResyncReason::Torn);
            }
        } else if self.skip == Some(ids.1) && !first {
            if part.has(DepthDiff::LAST_PART) {
                self.skip = None;
            }
            self.stats.stale += 1;
            return Outcome::Stale;
        } else {
            self.skip = None;
            if !first {
                return self.resync(ResyncReason::Torn);
            }
            match self.phase {
                Phase::Bridging(id) if ids.1 < id => return self.drop_diff(part),
                Phase::Bridging(id) if ids.0 > id => return self.resync(ResyncReason::NoBridge),
                Phase::Synced(last) if ids.1 <= last => return self.drop_diff(part),
                Phase::Synced(last) if ids.2 != last => return self.resync(ResyncReason::Gap),
                _ => {}
            }
            self.open = Some(ids);
        }
        // Every level is checked before any is applied.
        if !part.bids().iter().chain(part.asks()).all(valid) {
            return self.resync(ResyncReason::BadLevel);
        }
        for (ladder, levels) in [(&mut self.bids, part.bids()), (&mut self.asks, part.asks())] {
            for l in levels {
                if ladder.set(l.price, l.qty) == SetOutcome::Truncated {
                    self.stats.truncated += 1;
                }
            }
        }
        self.stats.levels += (part.bids().len() + part.asks().len()) as u64;
        if !part.has(DepthDiff::LAST_PART) {
            return Outcome::Applied(false);
        }
        self.open = None;
        self.phase = Phase::Synced(ids.1);
        self.stats.diffs += 1;
        if let (Some((bid, _)), Some((ask, _))) = (self.bids.best(), self.asks.best())
            && bid >= ask
        {
            return self.resync(ResyncReason::Crossed);
        }
        Outcome::Applied(true)
    }

    /// Drops a whole diff (this part and the rest of its parts).
    fn drop_diff(&mut self, part: &DepthDiff) -> Outcome {
        if !part.has(DepthDiff::LAST_PART) {
            self.skip = Some(part.final_update_id);
        }
        self.stats.stale += 1;
        Outcome::Stale
    }

    fn resync(&mut self, reason: ResyncReason) -> Outcome {
        self.bids.clear();
        self.asks.clear();
        self.phase = Phase::Waiting;
        self.open = None;
        self.skip = None;
        self.buffer.len = 0;
        self.stats.resyncs += 1;
        match reason {
            ResyncReason::Gap | ResyncReason::NoBridge => self.stats.gaps += 1,
            ResyncReason::Crossed => self.stats.crossed += 1,
            ResyncReason::BadLevel => self.stats.bad_levels += 1,
            ResyncReason::Torn => self.stats.torn += 1,
            ResyncReason::BadSnapshot => {}
        }
        Outcome::Resync(reason)
    }
}

/// A level from outside: a positive price and a non-negative quantity.
fn valid(l: &Level) -> bool {
    l.price.is_positive() && !l.qty.is_negative()
}
