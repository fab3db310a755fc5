//! Orders parked for the operator in SemiAuto: a fixed number of slots,
//! allocated at start. The part knows what waits and until when; `Core`
//! decides what an approval, a decline or an expiry does (it runs the veto
//! chain again, sends, or records the outcome).
//!
//! # Invariants
//! - At most [`MAX_PENDING_APPROVALS`] orders wait; parking never
//!   allocates.
//! - Every order is taken out exactly once (approved, declined or
//!   expired), in slot order when several go at once: a replay takes them
//!   in the same order.

use super::Intent;
use crate::types::{ClientOrderId, SymbolId, UnixNanos};

/// Orders that may wait for approval at once.
pub const MAX_PENDING_APPROVALS: usize = 16;

/// An order waiting for the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Pending {
    /// The client id it will be sent with.
    pub id: ClientOrderId,
    /// What the strategy wanted.
    pub intent: Intent,
    /// Declined after this event time.
    pub expires: UnixNanos,
}

/// The parked orders.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Approvals {
    slots: Vec<Option<Pending>>,
    /// Slots taken: the scans on every advance of event time return at
    /// once while nothing waits (the usual case).
    waiting: u8,
}

impl Approvals {
    pub(super) fn new() -> Approvals {
        Approvals {
            slots: vec![None; MAX_PENDING_APPROVALS],
            waiting: 0,
        }
    }

    /// Parks `p`; `false` when every slot is taken.
    pub(super) fn park(&mut self, p: Pending) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(p);
                self.waiting += 1;
                true
            }
            None => false,
        }
    }

    /// How many orders wait.
    #[inline]
    pub(super) fn len(&self) -> usize {
        usize::from(self.waiting)
    }

    /// Whether an order of `sym` waits.
    #[inline]
    pub(super) fn has(&self, sym: SymbolId) -> bool {
        self.iter().any(|p| p.intent.symbol == sym)
    }

    /// Takes out the order announced as `id`.
    pub(super) fn take(&mut self, id: ClientOrderId) -> Option<Pending> {
        self.take_first(|p| p.id == id)
    }

    /// Takes out the first order whose time ran out by `now`.
    #[inline]
    pub(super) fn take_expired(&mut self, now: UnixNanos) -> Option<Pending> {
        self.take_first(|p| now > p.expires)
    }

    /// Takes out the first order still waiting.
    #[inline]
    pub(super) fn take_any(&mut self) -> Option<Pending> {
        self.take_first(|_| true)
    }

    /// What waits, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.slots.iter().flatten()
    }

    #[inline]
    fn take_first(&mut self, which: impl Fn(&Pending) -> bool) -> Option<Pending> {
        if self.waiting == 0 {
            return None;
        }
        let taken = self
            .slots
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(&which))
            .and_then(Option::take);
        if taken.is_some() {
            self.waiting -= 1;
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::types::{Qty, Side};

    fn pending(id: u64, sym: u16, expires: u64) -> Pending {
        Pending {
            id: ClientOrderId(id),
            intent: Intent::market(SymbolId(sym), Side::Buy, Qty::ONE, Origin::Strategy),
            expires: UnixNanos(expires),
        }
    }

    #[test]
    fn parks_up_to_the_slots_and_takes_each_order_out_once() {
        let mut a = Approvals::new();
        for i in 0..MAX_PENDING_APPROVALS as u64 {
            assert!(a.park(pending(i, 0, 100)));
        }
        assert!(!a.park(pending(99, 1, 100)), "every slot is taken");
        assert_eq!(a.len(), MAX_PENDING_APPROVALS);
        assert!(a.has(SymbolId(0)) && !a.has(SymbolId(1)));
        assert_eq!(
            a.take(ClientOrderId(3)).map(|p| p.id),
            Some(ClientOrderId(3))
        );
        assert_eq!(a.take(ClientOrderId(3)), None);
        assert!(a.park(pending(99, 1, 100)), "the freed slot takes the next");
        assert!(a.has(SymbolId(1)));
    }

    #[test]
    fn expiry_and_draining_go_in_slot_order() {
        let mut a = Approvals::new();
        a.park(pending(1, 0, 50));
        a.park(pending(2, 0, 10));
        a.park(pending(3, 0, 90));
        assert_eq!(a.take_expired(UnixNanos(10)), None, "expires after, not at");
        let expired: Vec<_> = std::iter::from_fn(|| a.take_expired(UnixNanos(60)))
            .map(|p| p.id.0)
            .collect();
        assert_eq!(expired, [1, 2]);
        assert_eq!(a.take_any().map(|p| p.id.0), Some(3));
        assert_eq!(a.iter().count(), 0);
        assert_eq!(a.len(), 0);
    }
}
