//! The order state machine, as one transition table.
//!
//! ```text
//!  New ─submit─> Submitted ─ack─> Accepted ─fill─> PartiallyFilled ─fill─> Filled
//!                    │               │                   │
//!                    ├─reject─> Rejected                 ├─cancel─> Cancelled
//!                    └─(fill, cancel, expire directly)   └─expire─> Expired
//! ```
//!
//! Every (state, event) pair has exactly one entry in [`TABLE`]: the next
//! state, [`Step::Duplicate`] (a report that repeats what was already
//! applied: counted, alerted, not applied again), or [`Step::Illegal`]
//! (cannot happen with a well-behaved exchange: counted, alerted, not
//! applied). A market order may be reported filled without an
//! acknowledgement first, so a submitted order accepts fills, cancels and
//! expiries directly. A rejection after acceptance is illegal: Binance
//! rejects only before an order reaches the book.

crate::event::wire! {
/// Where an order is in its life.
#[repr(u8)]
pub enum OrderState {
    /// Decided by the core, not yet sent.
    #[default]
    New = 0,
    /// Sent to the exchange, no report yet.
    Submitted = 1,
    /// Acknowledged, resting, nothing filled.
    Accepted = 2,
    /// Partly filled, still working.
    PartiallyFilled = 3,
    /// Completely filled (terminal).
    Filled = 4,
    /// Cancelled (terminal).
    Cancelled = 5,
    /// Refused by the exchange (terminal).
    Rejected = 6,
    /// Expired, e.g. an IOC remainder (terminal).
    Expired = 7,
}
}

/// What happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderEvent {
    /// The core sent it.
    Submit = 0,
    /// The exchange acknowledged it (`NEW`).
    Ack = 1,
    /// A fill that leaves some quantity open (`PARTIALLY_FILLED`).
    PartialFill = 2,
    /// The fill that completes it (`FILLED`).
    Fill = 3,
    /// Cancelled (`CANCELED`).
    Cancel = 4,
    /// Refused (`REJECTED`, or an error answer to the request).
    Reject = 5,
    /// Expired (`EXPIRED`).
    Expire = 6,
}

/// The table's answer for one (state, event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Apply the event; the order moves to this state.
    To(OrderState),
    /// Already applied: do not apply again.
    Duplicate,
    /// Impossible in this state: do not apply.
    Illegal,
}

impl OrderState {
    /// Number of states (rows of the table).
    pub const COUNT: usize = 8;
    /// Every state, in table order.
    pub const ALL: [OrderState; Self::COUNT] = [
        OrderState::New,
        OrderState::Submitted,
        OrderState::Accepted,
        OrderState::PartiallyFilled,
        OrderState::Filled,
        OrderState::Cancelled,
        OrderState::Rejected,
        OrderState::Expired,
    ];

    /// `true` once the order can change no more.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected | OrderState::Expired
        )
    }

    /// The table's answer for `event` in this state.
    pub const fn on(self, event: OrderEvent) -> Step {
        TABLE[self as usize][event as usize]
    }
}

impl OrderEvent {
    /// Number of events (columns of the table).
    pub const COUNT: usize = 7;
    /// Every event, in table order.
    pub const ALL: [OrderEvent; Self::COUNT] = [
        OrderEvent::Submit,
        OrderEvent::Ack,
        OrderEvent::PartialFill,
        OrderEvent::Fill,
        OrderEvent::Cancel,
        OrderEvent::Reject,
        OrderEvent::Expire,
    ];
}

use OrderState as S;
use Step::{Duplicate as Dup, Illegal as Ill, To};

/// Rows: states in [`OrderState::ALL`] order; columns: events in
/// [`OrderEvent::ALL`] order (Submit, Ack, PartialFill, Fill, Cancel,
/// Reject, Expire).
pub const TABLE: [[Step; OrderEvent::COUNT]; OrderState::COUNT] = [
    // New
    [To(S::Submitted), Ill, Ill, Ill, Ill, Ill, Ill],
    // Submitted
    [
        Dup,
        To(S::Accepted),
        To(S::PartiallyFilled),
        To(S::Filled),
        To(S::Cancelled),
        To(S::Rejected),
        To(S::Expired),
    ],
    // Accepted
    [
        Ill,
        Dup,
        To(S::PartiallyFilled),
        To(S::Filled),
        To(S::Cancelled),
        Ill,
        To(S::Expired),
    ],
    // PartiallyFilled: each partial fill is new (quantities tell repeats apart)
    [
        Ill,
        Dup,
        To(S::PartiallyFilled),
        To(S::Filled),
        To(S::Cancelled),
        Ill,
        To(S::Expired),
    ],
    // Filled
    [Ill, Ill, Ill, Dup, Ill, Ill, Ill],
    // Cancelled
    [Ill, Ill, Ill, Ill, Dup, Ill, Ill],
    // Rejected
    [Ill, Ill, Ill, Ill, Ill, Dup, Ill],
    // Expired
    [Ill, Ill, Ill, Ill, Ill, Ill, Dup],
];

#[cfg(test)]
mod tests {
    use super::*;

    /// What each (state, event) must do, written out independently of the
    /// table, for every state and every event.
    fn expected(s: OrderState, e: OrderEvent) -> Step {
        use OrderEvent as E;
        match (s, e) {
            (S::New, E::Submit) => To(S::Submitted),
            (S::New, _) => Ill,
            (S::Submitted, E::Submit) => Dup,
            (S::Submitted, E::Ack) => To(S::Accepted),
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::PartialFill) => {
                To(S::PartiallyFilled)
            }
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::Fill) => To(S::Filled),
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::Cancel) => To(S::Cancelled),
            (S::Submitted | S::Accepted | S::PartiallyFilled, E::Expire) => To(S::Expired),
            (S::Submitted, E::Reject) => To(S::Rejected),
            (S::Accepted | S::PartiallyFilled, E::Ack) => Dup,
            (S::Accepted | S::PartiallyFilled, E::Submit | E::Reject) => Ill,
            (S::Filled, E::Fill)
            | (S::Cancelled, E::Cancel)
            | (S::Rejected, E::Reject)
            | (S::Expired, E::Expire) => Dup,
            (S::Filled | S::Cancelled | S::Rejected | S::Expired, _) => Ill,
        }
    }

    #[test]
    fn every_state_and_event_follows_the_written_rules() {
        for s in OrderState::ALL {
            for e in OrderEvent::ALL {
                assert_eq!(s.on(e), expected(s, e), "{s:?} + {e:?}");
            }
        }
    }

    #[test]
    fn terminal_states_never_move_and_only_they_are_terminal() {
        for s in OrderState::ALL {
            let moves = OrderEvent::ALL.iter().any(|&e| matches!(s.on(e), To(_)));
            assert_eq!(s.is_terminal(), !moves, "{s:?}");
        }
    }

    #[test]
    fn table_order_matches_the_discriminants() {
        for (i, s) in OrderState::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        for (i, e) in OrderEvent::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i);
        }
    }
}
