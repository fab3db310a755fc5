//! Output events: everything the core decides.
//!
//! Each output names the input sequence that caused it (`cause`), so a replay
//! trace can print every decision next to its input. The core folds every
//! output into its running digest (see `core::digest`) before it leaves.

use crate::types::{ClientOrderId, Price, Qty, Seq, Side, SymbolId};

/// Order type.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(u8)]
pub enum OrderKind {
    /// Market order; `price` carries the reference price seen at decision time.
    #[default]
    Market = 0,
    /// Limit order at `price`.
    Limit = 1,
}

/// A new order to send.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct NewOrder {
    /// Deterministic client order id.
    pub client_id: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Order type.
    pub kind: OrderKind,
    /// May only reduce a position.
    pub reduce_only: bool,
    /// Limit: rest only, never take.
    pub post_only: bool,
    /// Limit price, or the reference price of a market order.
    pub price: Price,
    /// Quantity (> 0, a multiple of the step size).
    pub qty: Qty,
}

/// Cancel an open order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct CancelOrder {
    /// Order to cancel.
    pub client_id: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
}

/// Conditions worth an operator's attention.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(u8)]
pub enum AlertCode {
    /// An execution report for an order we do not know.
    #[default]
    UnknownOrder = 0,
    /// A duplicate or out-of-order execution report (not applied).
    DuplicateUpdate = 1,
    /// An order was rejected (value = exchange code).
    OrderRejected = 2,
    /// A book ticker with bid >= ask (not applied).
    CrossedBook = 3,
    /// An event for a symbol that is not configured (not applied).
    UnknownSymbol = 4,
    /// An arithmetic result did not fit (the order was not sent).
    Overflow = 5,
    /// The order table is full (the order was not sent).
    OrderTableFull = 6,
    /// An execution report the order's state does not allow (not applied).
    IllegalTransition = 7,
}

/// An alert.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Alert {
    /// What happened.
    pub code: AlertCode,
    /// Instrument concerned.
    pub symbol: SymbolId,
    /// Code-specific value (an order id, an exchange code).
    pub value: i64,
}

/// Health of the engine (SPEC section 6) plus the final `Stopped`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(u8)]
pub enum SystemState {
    /// Trading.
    #[default]
    Running = 0,
    /// Trading with halved sizes.
    Degraded = 1,
    /// No new positions.
    SafeMode = 2,
    /// Nothing; open orders cancelled.
    Halted = 3,
    /// Shutting down: nothing new is sent; the runtime drains the rings.
    Stopped = 4,
}

/// A change of system state.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct StateChange {
    /// State before.
    pub from: SystemState,
    /// State after.
    pub to: SystemState,
}

/// The rule an audit record is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(u8)]
pub enum Rule {
    /// Every check passed (approval record).
    #[default]
    AllPassed = 0,
    /// The kill switch is engaged.
    KillSwitch = 1,
    /// The system state forbids new orders.
    SystemState = 2,
    /// The market-data feed is not healthy.
    FeedUnhealthy = 3,
    /// No two-sided book to price the order.
    NoMarket = 4,
    /// The order would take |position| above the maximum.
    MaxPosition = 5,
    /// The quantity rounds to zero at the instrument's step size.
    ZeroQuantity = 6,
    /// The notional is below the instrument's minimum.
    MinNotional = 7,
}

/// Verdict of the veto chain.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(u8)]
pub enum Verdict {
    /// Sent.
    #[default]
    Approved = 0,
    /// Refused by `rule`.
    Vetoed = 1,
}

/// Why an order intent was approved or vetoed, with the values compared.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub struct Audit {
    /// Instrument.
    pub symbol: SymbolId,
    /// Approved or vetoed.
    pub verdict: Verdict,
    /// The deciding rule (`AllPassed` for approvals).
    pub rule: Rule,
    /// Intended side.
    pub side: Side,
    /// Intended quantity.
    pub qty: Qty,
    /// The value the rule measured (raw fixed-point, e.g. the resulting position).
    pub value: i64,
    /// The limit it was compared with (raw fixed-point).
    pub limit: i64,
}

/// The payload of an output event.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
pub enum OutputBody {
    /// Send an order.
    NewOrder(NewOrder),
    /// Cancel an order.
    Cancel(CancelOrder),
    /// Raise an alert.
    Alert(Alert),
    /// The system state changed.
    StateChange(StateChange),
    /// A veto-chain decision.
    Audit(Audit),
}

impl Default for OutputBody {
    fn default() -> Self {
        OutputBody::Alert(Alert::default())
    }
}

/// One output: the decision and the input that caused it. One cache line.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[repr(C, align(64))]
pub struct OutputEvent {
    /// Sequence of the input event that caused this output.
    pub cause: Seq,
    /// Payload.
    pub body: OutputBody,
}
