//! What the gateways know of our orders' lives on the exchange, so that no
//! report is lost or applied twice when the user-data stream is down.
//!
//! The execution thread records each order before it sends it (so a
//! report can never arrive for an order the ledger has not seen), and each
//! accepted cancel; the user-stream thread records every report it
//! publishes. From that:
//! - **Duplicates are dropped** before the core sees them: a report is
//!   published only if it moves the order forward (more filled, or a later
//!   status at the same fill), so a report both queried and streamed goes
//!   in once.
//! - **Missed reports are recovered** (`super::reconcile`): after the stream
//!   (re)connects, and whenever an acknowledged order has waited too long
//!   for a report it is owed, every order not known to be finished (and
//!   not still being placed) is queried over
//!   REST; its fills beyond what was published are read from
//!   `userTrades` and published as the reports the stream would have sent,
//!   then its final status. An order the exchange does not know is
//!   refused to the core (it never reached the book).
//! - **Shutdown knows when it is done** ([`OrderLedger::unsettled`]): a
//!   market order is settled by a final report, a limit order by any
//!   report, a cancelled one by a final report.
//!
//! The ledger lives off the hot path (a mutex, touched once per order and
//! per report); the core never reads it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use autobot_engine::event::{OrderKind, OrderStatus, OrderUpdate};
use autobot_engine::types::{ClientOrderId, Qty, Side, SymbolId};

/// Finished orders kept to recognise late duplicates.
const KEEP_FINISHED: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct Tracked {
    symbol: SymbolId,
    side: Side,
    market: bool,
    /// A protective stop: placed, cancelled and queried at the Algo Order
    /// API (`super::algo`).
    conditional: bool,
    cum: Qty,
    /// Last status published; `None` before the first report.
    status: Option<OrderStatus>,
    cancel_sent: bool,
    /// When the exchange last acknowledged a request about it (its
    /// placement or its cancel); `None` while the placement is in flight,
    /// when only the execution thread can tell what became of it.
    acked: Option<Instant>,
}

impl Tracked {
    fn finished(&self) -> bool {
        self.status.is_some_and(is_final)
    }

    fn settled(&self) -> bool {
        match self.status {
            None => false,
            Some(s) => is_final(s) || !(self.market || self.cancel_sent),
        }
    }
}

fn is_final(s: OrderStatus) -> bool {
    matches!(
        s,
        OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected | OrderStatus::Expired
    )
}

/// Order of statuses at equal filled quantity.
fn rank(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::Accepted => 0,
        OrderStatus::PartiallyFilled => 1,
        _ => 2,
    }
}

#[derive(Debug, Default)]
struct Book {
    orders: BTreeMap<ClientOrderId, Tracked>,
    finished: VecDeque<ClientOrderId>,
}

/// Our orders' known states, shared by the execution and user-stream
/// threads.
#[derive(Debug, Default)]
pub struct OrderLedger {
    book: Mutex<Book>,
}

/// An order the ledger holds open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenEntry {
    /// Our id.
    pub id: ClientOrderId,
    /// Its symbol.
    pub symbol: SymbolId,
    /// Filled quantity published so far.
    pub cum: Qty,
    /// Last status published.
    pub status: Option<OrderStatus>,
    /// Its side.
    pub side: Side,
    /// A protective stop (queried at the Algo Order API).
    pub conditional: bool,
}

impl OrderLedger {
    /// An empty ledger.
    pub fn new() -> OrderLedger {
        OrderLedger::default()
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        // A panicking holder leaves a consistent map (each change is one
        // insert or field write), so the data is still good.
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Order `id` of `kind` is about to be sent.
    pub fn sending(&self, id: ClientOrderId, symbol: SymbolId, side: Side, kind: OrderKind) {
        let t = Tracked {
            symbol,
            side,
            market: kind == OrderKind::Market,
            conditional: kind.is_conditional(),
            cum: Qty::ZERO,
            status: None,
            cancel_sent: false,
            acked: None,
        };
        self.lock().orders.entry(id).or_insert(t);
    }

    /// The exchange accepted order `id`.
    pub fn placed(&self, id: ClientOrderId) {
        if let Some(t) = self.lock().orders.get_mut(&id) {
            t.acked = Some(Instant::now());
        }
    }

    /// An order the core already holds open (a resumed run), with what it
    /// has applied: `status` `None` while the core has seen no report.
    pub fn adopt(
        &self,
        id: ClientOrderId,
        symbol: SymbolId,
        side: Side,
        kind: OrderKind,
        cum: Qty,
        status: Option<OrderStatus>,
    ) {
        let t = Tracked {
            symbol,
            side,
            market: false,
            conditional: kind.is_conditional(),
            cum,
            status,
            cancel_sent: false,
            acked: Some(Instant::now()),
        };
        self.lock().orders.insert(id, t);
    }

    /// The exchange refused order `id` (the refusal goes to the core).
    pub fn refused(&self, id: ClientOrderId) {
        self.lock().orders.remove(&id);
    }

    /// The exchange accepted a cancel of `id`.
    pub fn cancelling(&self, id: ClientOrderId) {
        if let Some(t) = self.lock().orders.get_mut(&id) {
            t.cancel_sent = true;
            t.acked = Some(Instant::now());
        }
    }

    /// Whether report `u` moves its order forward; if so it is recorded and
    /// must be published. Reports of orders the ledger does not hold pass
    /// (the core decides what they are).
    pub fn admit(&self, u: &OrderUpdate) -> bool {
        let mut book = self.lock();
        let Some(t) = book.orders.get_mut(&u.client_id) else {
            return true;
        };
        let forward = match t.status {
            None => u.cum_qty >= t.cum,
            Some(s) => u.cum_qty > t.cum || u.cum_qty == t.cum && rank(u.status) > rank(s),
        };
        if !forward {
            return false;
        }
        let was_finished = t.finished();
        t.cum = u.cum_qty;
        t.status = Some(u.status);
        if t.finished() && !was_finished {
            book.finished.push_back(u.client_id);
            if book.finished.len() > KEEP_FINISHED
                && let Some(old) = book.finished.pop_front()
            {
                book.orders.remove(&old);
            }
        }
        true
    }

    /// Orders whose expected reports have not all been published.
    pub fn unsettled(&self) -> usize {
        self.lock().orders.values().filter(|t| !t.settled()).count()
    }

    /// Whether an acknowledged order has waited longer than `age` for a
    /// report it is owed (a report lost without the connection dropping).
    pub fn overdue(&self, age: Duration) -> bool {
        self.lock()
            .orders
            .values()
            .any(|t| !t.settled() && t.acked.is_some_and(|a| a.elapsed() > age))
    }

    /// Orders not known to be finished, in id order; orders whose
    /// placement is still in flight are left out (asking the exchange
    /// about them could race the placement itself).
    pub fn open(&self) -> Vec<OpenEntry> {
        self.lock()
            .orders
            .iter()
            .filter(|(_, t)| !t.finished() && t.acked.is_some())
            .map(|(&id, t)| OpenEntry {
                id,
                symbol: t.symbol,
                cum: t.cum,
                status: t.status,
                side: t.side,
                conditional: t.conditional,
            })
            .collect()
    }

    /// `true` if order `id` is a protective stop (cancelled at the Algo
    /// Order API).
    pub fn is_conditional(&self, id: ClientOrderId) -> bool {
        self.lock().orders.get(&id).is_some_and(|t| t.conditional)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: u64, status: OrderStatus, cum: &str) -> OrderUpdate {
        OrderUpdate {
            client_id: ClientOrderId(id),
            status,
            cum_qty: Qty::parse(cum).unwrap(),
            ..OrderUpdate::default()
        }
    }

    #[test]
    fn reports_are_admitted_once_and_only_forward() {
        let l = OrderLedger::new();
        let id = ClientOrderId(7);
        l.sending(id, SymbolId(0), Side::Buy, OrderKind::Market);
        assert_eq!(l.unsettled(), 1);
        assert!(l.admit(&update(7, OrderStatus::Accepted, "0")));
        // A market order is settled only by its last report.
        assert_eq!(l.unsettled(), 1);
        assert!(!l.admit(&update(7, OrderStatus::Accepted, "0")));
        assert!(l.admit(&update(7, OrderStatus::PartiallyFilled, "0.4")));
        assert!(!l.admit(&update(7, OrderStatus::PartiallyFilled, "0.4")));
        assert!(l.admit(&update(7, OrderStatus::Filled, "1")));
        assert_eq!(l.unsettled(), 0);
        assert!(l.open().is_empty());
        // Late copies of anything earlier are dropped.
        assert!(!l.admit(&update(7, OrderStatus::Accepted, "0")));
        assert!(!l.admit(&update(7, OrderStatus::Filled, "1")));
        // Orders the ledger never saw pass.
        assert!(l.admit(&update(8, OrderStatus::Filled, "1")));
    }

    #[test]
    fn a_limit_is_settled_by_its_first_report_and_a_cancel_by_its_last() {
        let l = OrderLedger::new();
        let id = ClientOrderId(9);
        l.sending(id, SymbolId(0), Side::Sell, OrderKind::Limit);
        // In flight: not to be asked about yet.
        assert!(l.open().is_empty());
        l.placed(id);
        assert!(l.admit(&update(9, OrderStatus::Accepted, "0")));
        assert_eq!(l.unsettled(), 0);
        assert_eq!(l.open().len(), 1);
        l.cancelling(id);
        assert_eq!(l.unsettled(), 1);
        assert!(l.overdue(Duration::ZERO), "a cancel owes its report");
        assert!(!l.overdue(Duration::from_secs(60)));
        assert!(l.admit(&update(9, OrderStatus::Cancelled, "0")));
        assert_eq!(l.unsettled(), 0);
        assert!(!l.overdue(Duration::ZERO));
        l.sending(ClientOrderId(10), SymbolId(0), Side::Sell, OrderKind::Limit);
        l.refused(ClientOrderId(10));
        assert_eq!(l.unsettled(), 0);
    }
}
