//! The table of our orders: fixed capacity, allocated once.
//!
//! Invariants: a client id appears at most once; each order moves only as
//! [`super::order_state::TABLE`] allows; a terminal order keeps its slot
//! (so a repeated report is recognized as a duplicate, not an unknown order)
//! until the slot is needed again, oldest terminal first; a table whose
//! slots all hold live orders refuses new ones (the caller vetoes with a
//! reason) instead of growing.

use super::order_state::{OrderEvent, OrderState, Step};
use crate::event::{OrderKind, OrderStatus, OrderUpdate, Origin};
use crate::types::{ClientOrderId, Price, Qty, Side, SymbolId, UnixNanos};

/// One of our orders.
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
    /// Where it is in its life.
    pub state: OrderState,
    /// Market or limit.
    pub kind: OrderKind,
    /// Limit price, or the market order's reference price.
    pub price: Price,
    /// Sent reduce-only.
    pub reduce_only: bool,
    /// Sent post-only.
    pub post_only: bool,
    /// Who wanted it.
    pub origin: Origin,
    /// Event time it was sent.
    pub sent_at: UnixNanos,
    /// A cancel was sent and not yet answered.
    pub cancel_sent: bool,
    /// Re-place it when the cancel is confirmed (cancel-replace).
    pub replace: bool,
    /// The strategy instance it serves, with its stop and target.
    pub plan: super::Plan,
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
    /// Impossible in the order's state (the transition table says so):
    /// counted, alerted, not applied.
    Illegal,
    /// No order has this id.
    Unknown,
}

/// The transition an exchange status stands for.
fn event_of(status: OrderStatus) -> OrderEvent {
    match status {
        OrderStatus::Accepted => OrderEvent::Ack,
        OrderStatus::PartiallyFilled => OrderEvent::PartialFill,
        OrderStatus::Filled => OrderEvent::Fill,
        OrderStatus::Cancelled => OrderEvent::Cancel,
        OrderStatus::Rejected => OrderEvent::Reject,
        OrderStatus::Expired => OrderEvent::Expire,
    }
}

/// Fixed-capacity table of orders.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct OrderTable {
    slots: Vec<Option<OpenOrder>>,
    /// When each slot's order became terminal (`retire_clock` then).
    retired_at: Vec<u64>,
    retire_clock: u64,
    open: usize,
}

impl OrderTable {
    /// A table holding up to `capacity` live orders (allocated here, once).
    pub fn with_capacity(capacity: usize) -> OrderTable {
        let capacity = capacity.max(1);
        OrderTable {
            slots: vec![None; capacity],
            retired_at: vec![0; capacity],
            retire_clock: 0,
            open: 0,
        }
    }

    /// Number of live (not terminal) orders.
    pub fn open_count(&self) -> usize {
        self.open
    }

    /// Adds an order that the core is sending now (it enters `Submitted`);
    /// `false` if every slot holds a live order.
    pub fn insert(&mut self, mut order: OpenOrder) -> bool {
        debug_assert!(self.find(order.client_id).is_none(), "client id reused");
        let Step::To(state) = OrderState::New.on(OrderEvent::Submit) else {
            unreachable!("the table lets a new order be submitted")
        };
        order.state = state;
        let free = self.slots.iter().position(Option::is_none).or_else(|| {
            // The order that became terminal longest ago gives up its slot.
            (0..self.slots.len())
                .filter(|&i| self.slots[i].is_some_and(|o| o.state.is_terminal()))
                .min_by_key(|&i| self.retired_at[i])
        });
        match free {
            Some(i) => {
                self.slots[i] = Some(order);
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

    fn live(&self) -> impl Iterator<Item = &OpenOrder> {
        self.slots
            .iter()
            .flatten()
            .filter(|o| !o.state.is_terminal())
    }

    /// The order with this id (live or kept after it ended).
    pub fn get(&self, id: ClientOrderId) -> Option<&OpenOrder> {
        self.find(id).and_then(|i| self.slots[i].as_ref())
    }

    /// Signed quantity still to fill on `symbol` across live orders that
    /// move the position now (a protective stop waits for its trigger).
    pub fn pending(&self, symbol: SymbolId) -> i64 {
        self.live()
            .filter(|o| o.symbol == symbol && !o.kind.is_conditional())
            .map(OpenOrder::signed_remaining)
            .sum()
    }

    /// `true` if an order on `symbol` is in flight: live and not a
    /// protective stop, which rests as long as the position it guards and
    /// must not hold back the core's exits.
    pub fn has_open(&self, symbol: SymbolId) -> bool {
        // Most calls find none: skip the scan of the slots.
        self.open != 0
            && self
                .live()
                .any(|o| o.symbol == symbol && !o.kind.is_conditional())
    }

    /// Checks an execution report against the order and the transition
    /// table and, when it is new and consistent, records it.
    pub fn apply(&mut self, u: &OrderUpdate) -> (UpdateCheck, Option<OpenOrder>) {
        let (i, order, next) = match self.step(u.client_id, event_of(u.status)) {
            Ok(s) => s,
            Err(refused) => return refused,
        };
        let expected = order.filled.checked_add(u.last_qty);
        // A protective stop closes whatever is held when it triggers, which
        // may differ from the position it was placed for.
        let closes = order.kind.is_conditional();
        let consistent = u.last_qty.raw() >= 0
            && expected == Some(u.cum_qty)
            && (u.cum_qty <= order.qty || closes)
            && u.side == order.side;
        let status_fits = match u.status {
            OrderStatus::Filled => u.cum_qty == order.qty || closes && u.cum_qty.is_positive(),
            OrderStatus::PartiallyFilled => {
                u.last_qty.is_positive() && (u.cum_qty < order.qty || closes)
            }
            _ => true,
        };
        if !consistent || !status_fits {
            return (UpdateCheck::Duplicate, Some(order));
        }
        let updated = OpenOrder {
            filled: u.cum_qty,
            qty: if closes && u.status == OrderStatus::Filled {
                u.cum_qty
            } else {
                order.qty.max(u.cum_qty)
            },
            state: next,
            ..order
        };
        self.set(i, updated);
        (
            UpdateCheck::Apply {
                fill: u.last_qty,
                terminal: next.is_terminal(),
            },
            Some(updated),
        )
    }

    /// Applies a refusal of the request itself (before any report).
    pub fn reject(&mut self, id: ClientOrderId) -> (UpdateCheck, Option<OpenOrder>) {
        let (i, order, state) = match self.step(id, OrderEvent::Reject) {
            Ok(s) => s,
            Err(refused) => return refused,
        };
        let updated = OpenOrder { state, ..order };
        self.set(i, updated);
        let check = UpdateCheck::Apply {
            fill: Qty::ZERO,
            terminal: state.is_terminal(),
        };
        (check, Some(updated))
    }

    /// The order's slot, the order, and the state `event` moves it to; or
    /// why the event is refused (unknown order, duplicate, illegal).
    #[allow(
        clippy::type_complexity,
        reason = "a private helper; the error is the caller's return value as is"
    )]
    fn step(
        &self,
        id: ClientOrderId,
        event: OrderEvent,
    ) -> Result<(usize, OpenOrder, OrderState), (UpdateCheck, Option<OpenOrder>)> {
        let Some((i, order)) = self.find(id).and_then(|i| Some((i, self.slots[i]?))) else {
            return Err((UpdateCheck::Unknown, None));
        };
        match order.state.on(event) {
            Step::To(next) => Ok((i, order, next)),
            Step::Duplicate => Err((UpdateCheck::Duplicate, Some(order))),
            Step::Illegal => Err((UpdateCheck::Illegal, Some(order))),
        }
    }

    fn set(&mut self, i: usize, order: OpenOrder) {
        let was_live = self.slots[i].is_some_and(|o| !o.state.is_terminal());
        if was_live && order.state.is_terminal() {
            self.open -= 1;
            self.retire_clock += 1;
            self.retired_at[i] = self.retire_clock;
        }
        self.slots[i] = Some(order);
    }

    /// Live orders in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &OpenOrder> {
        self.live()
    }

    /// Number of slots (live and retained orders).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The live order in slot `i`, if any (for scans that also update).
    pub fn live_at(&self, i: usize) -> Option<OpenOrder> {
        self.slots
            .get(i)
            .copied()
            .flatten()
            .filter(|o| !o.state.is_terminal())
    }

    /// Sets the cancel flags of the live order in slot `i`.
    pub fn flag_cancel(&mut self, i: usize, cancel_sent: bool, replace: bool) {
        if let Some(Some(o)) = self.slots.get_mut(i) {
            o.cancel_sent = cancel_sent;
            o.replace = replace;
        }
    }

    /// Slot of the order with this id.
    pub fn slot_of(&self, id: ClientOrderId) -> Option<usize> {
        self.find(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Liquidity;
    use crate::types::Money;

    fn order(id: u64) -> OpenOrder {
        OpenOrder {
            client_id: ClientOrderId(id),
            symbol: SymbolId(0),
            side: Side::Buy,
            qty: Qty::parse("0.003").unwrap(),
            filled: Qty::ZERO,
            state: OrderState::New,
            kind: OrderKind::Market,
            price: Price::ZERO,
            reduce_only: false,
            post_only: false,
            origin: Origin::Strategy,
            sent_at: UnixNanos(0),
            cancel_sent: false,
            replace: false,
            plan: super::super::Plan::NONE,
        }
    }

    fn report(id: u64, status: OrderStatus, last: &str, cum: &str) -> OrderUpdate {
        OrderUpdate {
            client_id: ClientOrderId(id),
            status,
            side: Side::Buy,
            liquidity: Liquidity::Taker,
            last_price: Price::parse("100").unwrap(),
            last_qty: Qty::parse(last).unwrap(),
            cum_qty: Qty::parse(cum).unwrap(),
            fee: Money::ZERO,
            ..OrderUpdate::default()
        }
    }

    #[test]
    fn an_order_lives_by_the_table() {
        let mut t = OrderTable::with_capacity(2);
        assert!(t.insert(order(1)));
        assert_eq!(
            t.get(ClientOrderId(1)).unwrap().state,
            OrderState::Submitted
        );
        let ack = report(1, OrderStatus::Accepted, "0", "0");
        assert!(matches!(t.apply(&ack).0, UpdateCheck::Apply { .. }));
        assert_eq!(t.apply(&ack).0, UpdateCheck::Duplicate);
        let part = report(1, OrderStatus::PartiallyFilled, "0.001", "0.001");
        assert!(matches!(
            t.apply(&part).0,
            UpdateCheck::Apply {
                terminal: false,
                ..
            }
        ));
        // The same partial fill again: the quantities give it away.
        assert_eq!(t.apply(&part).0, UpdateCheck::Duplicate);
        // A rejection after acceptance cannot happen.
        assert_eq!(t.reject(ClientOrderId(1)).0, UpdateCheck::Illegal);
        let rest = report(1, OrderStatus::Filled, "0.002", "0.003");
        assert!(matches!(
            t.apply(&rest).0,
            UpdateCheck::Apply { terminal: true, .. }
        ));
        assert_eq!(t.open_count(), 0);
        assert!(!t.has_open(SymbolId(0)));
        // Kept after it ended: a repeat is a duplicate, a cancel is illegal.
        assert_eq!(t.apply(&rest).0, UpdateCheck::Duplicate);
        let cancel = report(1, OrderStatus::Cancelled, "0", "0.003");
        assert_eq!(t.apply(&cancel).0, UpdateCheck::Illegal);
        assert_eq!(
            t.get(ClientOrderId(1)).unwrap().filled,
            Qty::parse("0.003").unwrap()
        );
        assert_eq!(
            t.apply(&report(9, OrderStatus::Filled, "0", "0")).0,
            UpdateCheck::Unknown
        );
    }

    #[test]
    fn ended_orders_give_up_their_slots_oldest_first_and_live_ones_never() {
        let mut t = OrderTable::with_capacity(2);
        assert!(t.insert(order(1)));
        assert!(t.insert(order(2)));
        assert!(!t.insert(order(3)), "both slots hold live orders");
        assert!(matches!(
            t.reject(ClientOrderId(2)).0,
            UpdateCheck::Apply { terminal: true, .. }
        ));
        assert!(matches!(
            t.reject(ClientOrderId(1)).0,
            UpdateCheck::Apply { terminal: true, .. }
        ));
        // Order 2 ended first: its slot goes first.
        assert!(t.insert(order(3)));
        assert!(t.get(ClientOrderId(2)).is_none());
        assert_eq!(t.get(ClientOrderId(1)).unwrap().state, OrderState::Rejected);
        assert!(t.insert(order(4)));
        assert!(t.get(ClientOrderId(1)).is_none());
        assert!(!t.insert(order(5)));
        assert_eq!(t.open_count(), 2);
    }
}
