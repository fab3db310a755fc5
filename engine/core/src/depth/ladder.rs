//! One side of an L2 book in a fixed-capacity sorted array.
//!
//! Levels are kept sorted by a key that grows toward the best price (the
//! price for bids, its negation for asks), so the best level is the last
//! element: reading it is one load, and updates near the top find their
//! slot in the first few comparisons from the tail.
//!
//! The levels sit in the middle of an array twice the capacity (a gap on
//! both ends), so an insert or a removal moves whichever part is shorter:
//! the levels above it (near the top) or below it (deep in the book). A
//! full-depth stream updates both ends far more than the middle, and this
//! keeps both cheap. When a gap runs out the levels are re-centred (rare:
//! at most once per `DEPTH_CAPACITY / 2` one-sided inserts).
//!
//! Invariants: `slots[lo..hi]` is strictly increasing by key and every
//! quantity is positive; `hi - lo <= DEPTH_CAPACITY`. When full, a new level
//! worse than all held is not stored, and a better one evicts the worst:
//! the top of the book stays exact, the far end is truncated (counted by
//! the caller through [`SetOutcome::Truncated`]).

use crate::types::{Price, Qty};

/// Levels held per side (Binance's REST snapshot gives at most 1000).
pub const DEPTH_CAPACITY: usize = 1024;

/// How many levels from the top are compared one by one before falling
/// back to a binary search.
const TAIL_SCAN: usize = 8;

/// A level as stored: sort key and quantity (raw fixed point).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
struct Slot {
    key: i64,
    qty: i64,
}

/// Which side a ladder holds (sets the sort key's sign).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub enum BookSide {
    /// Best = highest price.
    #[default]
    Bid,
    /// Best = lowest price.
    Ask,
}

/// What [`Ladder::set`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// A level was added, changed or removed.
    Changed,
    /// A removal of a level that was not held (normal for deep levels).
    Absent,
    /// The ladder is full and the level was beyond its far end (or it
    /// evicted the far-end level).
    Truncated,
}

/// Slots in the array: the capacity plus a gap of half of it on each end.
const SLOTS: usize = 2 * DEPTH_CAPACITY;

/// One side of the book.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Ladder {
    side: BookSide,
    lo: u16,
    hi: u16,
    slots: [Slot; SLOTS],
}

impl Ladder {
    /// An empty side.
    pub fn new(side: BookSide) -> Ladder {
        Ladder {
            side,
            lo: (SLOTS / 2) as u16,
            hi: (SLOTS / 2) as u16,
            slots: [Slot::default(); SLOTS],
        }
    }

    fn key(&self, price: Price) -> i64 {
        match self.side {
            BookSide::Bid => price.raw(),
            BookSide::Ask => -price.raw(),
        }
    }

    fn price(&self, key: i64) -> Price {
        match self.side {
            BookSide::Bid => Price::from_raw(key),
            BookSide::Ask => Price::from_raw(-key),
        }
    }

    /// Number of levels held.
    pub fn len(&self) -> usize {
        usize::from(self.hi - self.lo)
    }

    /// No level held.
    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }

    fn levels(&self) -> &[Slot] {
        &self.slots[usize::from(self.lo)..usize::from(self.hi)]
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.lo = (SLOTS / 2) as u16;
        self.hi = self.lo;
    }

    /// The best level.
    pub fn best(&self) -> Option<(Price, Qty)> {
        self.level(0)
    }

    /// The `i`-th level from the best (0 = best).
    pub fn level(&self, i: usize) -> Option<(Price, Qty)> {
        let levels = self.levels();
        let s = levels.get(levels.len().checked_sub(i + 1)?)?;
        Some((self.price(s.key), Qty::from_raw(s.qty)))
    }

    /// Total quantity of the best `depth` levels.
    pub fn qty_within(&self, depth: usize) -> Qty {
        let levels = self.levels();
        let from = levels.len().saturating_sub(depth);
        Qty::from_raw(levels[from..].iter().map(|s| s.qty).sum())
    }

    /// Index (in `slots`) of the first level whose key is >= `key`.
    fn position(&self, key: i64) -> usize {
        let (lo, hi) = (usize::from(self.lo), usize::from(self.hi));
        // Most updates are near the top: look there first.
        let stop = hi.saturating_sub(TAIL_SCAN).max(lo);
        let mut i = hi;
        while i > stop {
            if self.slots[i - 1].key < key {
                return i;
            }
            i -= 1;
        }
        lo + self.slots[lo..stop].partition_point(|s| s.key < key)
    }

    /// Moves the levels to the middle of the array (both gaps equal).
    fn recentre(&mut self) {
        let (lo, len) = (usize::from(self.lo), self.len());
        let to = (SLOTS - len) / 2;
        self.slots.copy_within(lo..lo + len, to);
        self.lo = to as u16;
        self.hi = (to + len) as u16;
    }

    /// Inserts `slot` before index `at` (`lo ..= hi`), moving the shorter
    /// part; the caller has checked there is room (`len < capacity`).
    fn insert(&mut self, at: usize, slot: Slot) {
        let (lo, hi) = (usize::from(self.lo), usize::from(self.hi));
        let below = at - lo <= hi - at;
        if (below && lo > 0) || hi == SLOTS {
            self.slots.copy_within(lo..at, lo - 1);
            self.slots[at - 1] = slot;
            self.lo -= 1;
        } else {
            self.slots.copy_within(at..hi, at + 1);
            self.slots[at] = slot;
            self.hi += 1;
        }
        if self.lo == 0 || usize::from(self.hi) == SLOTS {
            self.recentre();
        }
    }

    /// Removes the level at index `at`, moving the shorter part.
    fn remove(&mut self, at: usize) {
        let (lo, hi) = (usize::from(self.lo), usize::from(self.hi));
        if at - lo < hi - 1 - at {
            self.slots.copy_within(lo..at, lo + 1);
            self.lo += 1;
        } else {
            self.slots.copy_within(at + 1..hi, at);
            self.hi -= 1;
        }
    }

    /// Sets the quantity at `price` (`qty` zero removes it). The caller has
    /// checked `price > 0` and `qty >= 0`.
    pub fn set(&mut self, price: Price, qty: Qty) -> SetOutcome {
        debug_assert!(price.is_positive() && !qty.is_negative());
        let key = self.key(price);
        let at = self.position(key);
        let found = at < usize::from(self.hi) && self.slots[at].key == key;
        match (found, qty.is_zero()) {
            (true, false) => {
                self.slots[at].qty = qty.raw();
                SetOutcome::Changed
            }
            (true, true) => {
                self.remove(at);
                SetOutcome::Changed
            }
            (false, true) => SetOutcome::Absent,
            (false, false) => {
                let slot = Slot {
                    key,
                    qty: qty.raw(),
                };
                if self.len() < DEPTH_CAPACITY {
                    self.insert(at, slot);
                    SetOutcome::Changed
                } else if at == usize::from(self.lo) {
                    SetOutcome::Truncated
                } else {
                    // Full: the far-end level makes room for a better one.
                    self.lo += 1;
                    self.insert(at, slot);
                    SetOutcome::Truncated
                }
            }
        }
    }

    /// Appends a level without ordering (a snapshot loads best first, which
    /// is the worst order for [`Ladder::set`]); [`Ladder::seal`] sorts after.
    /// Returns `false` when full.
    pub fn push_unsorted(&mut self, price: Price, qty: Qty) -> bool {
        if self.len() == DEPTH_CAPACITY {
            return false;
        }
        if usize::from(self.hi) == SLOTS {
            self.recentre();
        }
        let key = self.key(price);
        self.slots[usize::from(self.hi)] = Slot {
            key,
            qty: qty.raw(),
        };
        self.hi += 1;
        true
    }

    /// Sorts what [`Ladder::push_unsorted`] loaded and drops zero
    /// quantities; `false` if a price appeared twice (the data is bad).
    pub fn seal(&mut self) -> bool {
        let (lo, hi) = (usize::from(self.lo), usize::from(self.hi));
        let levels = &mut self.slots[lo..hi];
        // Keys are distinct in good data, so the unstable sort is
        // deterministic; a duplicate is refused just below.
        levels.sort_unstable_by_key(|s| s.key);
        if levels.windows(2).any(|w| w[0].key == w[1].key) {
            return false;
        }
        let mut kept = lo;
        for i in lo..hi {
            if self.slots[i].qty > 0 {
                self.slots[kept] = self.slots[i];
                kept += 1;
            }
        }
        self.hi = kept as u16;
        self.recentre();
        true
    }

    /// Checks the invariant (tests and debug builds).
    pub fn is_consistent(&self) -> bool {
        let levels = self.levels();
        levels.windows(2).all(|w| w[0].key < w[1].key) && levels.iter().all(|s| s.qty > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: i64) -> Price {
        Price::from_raw(v)
    }
    fn q(v: i64) -> Qty {
        Qty::from_raw(v)
    }

    #[test]
    fn bids_keep_the_highest_on_top_and_asks_the_lowest() {
        let mut bids = Ladder::new(BookSide::Bid);
        let mut asks = Ladder::new(BookSide::Ask);
        for (price, qty) in [(100, 1), (102, 2), (101, 3)] {
            assert_eq!(bids.set(p(price), q(qty)), SetOutcome::Changed);
            assert_eq!(asks.set(p(price + 10), q(qty)), SetOutcome::Changed);
        }
        assert_eq!(bids.best(), Some((p(102), q(2))));
        assert_eq!(asks.best(), Some((p(110), q(1))));
        assert_eq!(bids.level(2), Some((p(100), q(1))));
        assert_eq!(asks.level(1), Some((p(111), q(3))));
        assert_eq!(bids.set(p(102), Qty::ZERO), SetOutcome::Changed);
        assert_eq!(bids.best(), Some((p(101), q(3))));
        assert_eq!(bids.set(p(99), Qty::ZERO), SetOutcome::Absent);
        assert_eq!(bids.qty_within(2), q(4));
        assert!(bids.is_consistent() && asks.is_consistent());
    }

    #[test]
    fn a_full_side_keeps_the_best_levels() {
        let mut bids = Ladder::new(BookSide::Bid);
        for i in 0..DEPTH_CAPACITY as i64 {
            bids.set(p(1_000 + i), q(1));
        }
        assert_eq!(bids.set(p(999), q(1)), SetOutcome::Truncated);
        assert_eq!(bids.len(), DEPTH_CAPACITY);
        assert_eq!(bids.set(p(5_000), q(7)), SetOutcome::Truncated);
        assert_eq!(bids.best(), Some((p(5_000), q(7))));
        assert_eq!(bids.level(DEPTH_CAPACITY - 1), Some((p(1_001), q(1))));
        assert!(bids.is_consistent());
    }

    #[test]
    fn a_snapshot_loads_unsorted_and_seals() {
        let mut asks = Ladder::new(BookSide::Ask);
        for (price, qty) in [(10, 1), (11, 0), (12, 2)] {
            assert!(asks.push_unsorted(p(price), q(qty)));
        }
        assert!(asks.seal());
        assert_eq!(asks.len(), 2);
        assert_eq!(asks.best(), Some((p(10), q(1))));
        assert!(asks.push_unsorted(p(10), q(5)));
        assert!(!asks.seal(), "a price twice is refused");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Full ladders keep exactly the best `DEPTH_CAPACITY` levels of a
        /// model that drops its worst level when over capacity; both ends
        /// and re-centring are exercised.
        #[test]
        fn a_full_ladder_matches_a_capped_model(
            ops in proptest::collection::vec((1i64..2_500, 0i64..3, proptest::bool::ANY), 3_000..6_000)
        ) {
            let mut ladder = Ladder::new(BookSide::Bid);
            let mut model = std::collections::BTreeMap::new();
            for (price, qty, deep) in ops {
                // Half the updates near one end, to run the gaps out.
                let price = if deep { price % 300 + 1 } else { price };
                ladder.set(p(price), q(qty));
                if qty == 0 { model.remove(&price); } else { model.insert(price, qty); }
                if model.len() > DEPTH_CAPACITY {
                    let worst = *model.keys().next().unwrap();
                    model.remove(&worst);
                }
            }
            proptest::prop_assert!(ladder.is_consistent());
            proptest::prop_assert_eq!(ladder.len(), model.len());
            let got: Vec<(i64, i64)> = (0..ladder.len())
                .map(|i| ladder.level(i).map(|(a, b)| (a.raw(), b.raw())).unwrap_or_default())
                .collect();
            let want: Vec<(i64, i64)> = model.into_iter().rev().collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// The ladder matches a BTreeMap model after any sequence of sets.
        #[test]
        fn matches_a_sorted_map(ops in proptest::collection::vec((1i64..300, 0i64..4), 1..600)) {
            let mut ladder = Ladder::new(BookSide::Ask);
            let mut model = std::collections::BTreeMap::new();
            for (price, qty) in ops {
                ladder.set(p(price), q(qty));
                if qty == 0 { model.remove(&price); } else { model.insert(price, qty); }
            }
            proptest::prop_assert!(ladder.is_consistent());
            let got: Vec<(i64, i64)> = (0..ladder.len())
                .map(|i| ladder.level(i).map(|(a, b)| (a.raw(), b.raw())).unwrap_or_default())
                .collect();
            let want: Vec<(i64, i64)> = model.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
