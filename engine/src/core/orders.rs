//! The table of our open orders: fixed capacity, allocated once.
//!
//! Invariants: a client id appears at most once; a slot is freed when its
//! order reaches a terminal state; a full table refuses new orders (the caller
//! vetoes with a reason) instead of growing.

use crate::event::{OrderStatus, OrderUpdate};
use crate::types::{ClientOrderId, Qty, Side, SymbolId};

/// One of our orders that has not reached a terminal state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct OpenOrder {
    /// Our id.
    pub client_id: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Ordered quantity.
    pub qty: Qty,
    /// Filled so far.
    pub filled: Qty,
}

impl OpenOrder {
    /// Signed quantity still to fill (buy > 0).
    pub fn signed_remaining(&self) -> i64 {
        (self.qty.raw() - self.filled.raw()) * self.side.sign()
    }
}

/// How an execution report relates to the order it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateCheck {
    /// Apply it: `fill` is the new fill quantity (may be zero), `terminal`
    /// says whether the order is finished.
    Apply {
        /// Quantity filled by this report.
        fill: Qty,
        /// The order reached a terminal state.
        terminal: bool,
    },
    /// Already applied, or inconsistent with what was applied (`cum_qty` not
    /// `filled + last_qty`, or overfilled): counted, alerted, not applied.
    Duplicate,
    /// No open order has this id.
    Unknown,
}

/// Fixed-capacity table of open orders.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct OrderTable {
    slots: Vec<Option<OpenOrder>>,
    open: usize,
}

impl OrderTable {
    /// A table holding up to `capacity` open orders (allocated here, once).
    pub fn with_capacity(capacity: usize) -> OrderTable {
        OrderTable {
            slots: vec![None; capacity.max(1)],
            open: 0,
        }
    }

    /// Number of open orders.
    pub fn open_count(&self) -> usize {
        self.open
    }

    /// Adds an order; `false` if the table is full.
    pub fn insert(&mut self, order: OpenOrder) -> bool {
        debug_assert!(self.find(order.client_id).is_none(), "client id reused");
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(order);
                self.open += 1;
                true
            }
            None => false,
        }
    }

    fn find(&self, id: ClientOrderId) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s, Some(o) if o.client_id == id))
    }

    /// The open order with this id.
    pub fn get(&self, id: ClientOrderId) -> Option<&OpenOrder> {
        self.find(id).and_then(|i| self.slots[i].as_ref())
    }

    /// Signed quantity still to fill on `symbol` across open orders.
    pub fn pending(&self, symbol: SymbolId) -> i64 {
        self.slots
            .iter()
            .flatten()
            .filter(|o| o.symbol == symbol)
            .map(OpenOrder::signed_remaining)
            .sum()
    }

    /// `true` if any order on `symbol` is open.
    pub fn has_open(&self, symbol: SymbolId) -> bool {
        self.slots.iter().flatten().any(|o| o.symbol == symbol)
    }

    /// Checks an execution report against the order and, when it is new and
    /// consistent, records it (and frees the slot on a terminal status).
    pub fn apply(&mut self, u: &OrderUpdate) -> (UpdateCheck, Option<OpenOrder>) {
        let Some(i) = self.find(u.client_id) else {
            return (UpdateCheck::Unknown, None);
        };
        let Some(order) = self.slots[i].as_mut() else {
            return (UpdateCheck::Unknown, None);
        };
        let expected = order.filled.checked_add(u.last_qty);
        let consistent = u.last_qty.raw() >= 0
            && expected == Some(u.cum_qty)
            && u.cum_qty <= order.qty
            && u.side == order.side;
        let status_fits = match u.status {
            OrderStatus::Filled => u.cum_qty == order.qty,
            OrderStatus::PartiallyFilled => u.last_qty.is_positive() && u.cum_qty < order.qty,
            _ => true,
        };
        if !consistent || !status_fits {
            return (UpdateCheck::Duplicate, Some(*order));
        }
        order.filled = u.cum_qty;
        let snapshot = *order;
        let terminal = matches!(
            u.status,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        );
        if terminal {
            self.slots[i] = None;
            self.open -= 1;
        }
        (
            UpdateCheck::Apply {
                fill: u.last_qty,
                terminal,
            },
            Some(snapshot),
        )
    }

    /// Open orders in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &OpenOrder> {
        self.slots.iter().flatten()
    }

    /// Removes an order refused before reaching the book.
    pub fn remove(&mut self, id: ClientOrderId) -> Option<OpenOrder> {
        let i = self.find(id)?;
        self.open -= 1;
        self.slots[i].take()
    }
}
