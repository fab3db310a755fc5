//! Execution reports: what the exchange (or paper execution) says about
//! our orders and our account — order updates with their fills and fees,
//! account updates, refusals of a request. They enter the core as input
//! events like market data, and the core applies each at most once.

use crate::types::{ClientOrderId, ExchangeOrderId, Money, Price, Qty, Side};

wire! {
/// Exchange-side status of an order after an update.
#[repr(u8)]
pub enum OrderStatus {
    /// Accepted and resting (`NEW`).
    #[default]
    Accepted = 0,
    /// Partly filled (`PARTIALLY_FILLED`).
    PartiallyFilled = 1,
    /// Completely filled (`FILLED`).
    Filled = 2,
    /// Cancelled (`CANCELED`).
    Cancelled = 3,
    /// Rejected by the matching engine (`REJECTED`).
    Rejected = 4,
    /// Expired (`EXPIRED`, e.g. IOC remainder).
    Expired = 5,
}
}

wire! {
/// Whether a fill added or took liquidity.
#[repr(u8)]
pub enum Liquidity {
    /// Not a fill.
    #[default]
    None = 0,
    /// Resting order was hit.
    Maker = 1,
    /// Order took liquidity.
    Taker = 2,
}
}

wire! {
/// An execution report (`ORDER_TRADE_UPDATE`, or a paper fill).
pub struct OrderUpdate {
    /// Our id for the order.
    pub client_id: ClientOrderId,
    /// The exchange's id for the order.
    pub exchange_id: ExchangeOrderId,
    /// Status after this update.
    pub status: OrderStatus,
    /// Order side.
    pub side: Side,
    /// Maker or taker for a fill.
    pub liquidity: Liquidity,
    /// Price of this fill (zero if none).
    pub last_price: Price,
    /// Quantity of this fill (zero if none).
    pub last_qty: Qty,
    /// Total filled so far, including this fill.
    pub cum_qty: Qty,
    /// Fee charged for this fill (positive = paid).
    pub fee: Money,
}
}

wire! {
/// Why an account update was sent (`ACCOUNT_UPDATE.a.m`).
#[repr(u8)]
pub enum AccountReason {
    /// An order fill.
    #[default]
    Order = 0,
    /// A funding payment.
    Funding = 1,
    /// Deposit, withdrawal or transfer.
    Transfer = 2,
    /// Anything else the exchange names.
    Other = 3,
    /// The account as the exchange reported it when asked (at start, so
    /// the core begins from the account's real positions): the core
    /// adopts it.
    Snapshot = 4,
    /// The exchange's margin call: the position is near liquidation
    /// (`MARGIN_CALL`; the wallet is the cross wallet balance).
    MarginCall = 5,
    /// The exchange's position, read over REST during the run to check the
    /// core's against it (periodic reconciliation): compared, never adopted.
    Reconcile = 6,
}
}

wire! {
/// Balance and position of one symbol after an account change.
pub struct AccountUpdate {
    /// Reason for the update.
    pub reason: AccountReason,
    /// Wallet balance of the margin asset.
    pub wallet_balance: Money,
    /// Signed position amount.
    pub position_qty: Qty,
    /// Average entry price of the position.
    pub entry_price: Price,
    /// Unrealized PnL reported by the exchange.
    pub unrealized_pnl: Money,
}
}

wire! {
/// Classification of a refused order, chosen from the exchange's error code.
#[repr(u8)]
pub enum RejectReason {
    /// Unclassified code.
    #[default]
    Other = 0,
    /// An exchange filter (tick, lot size, min notional, price band).
    Filter = 1,
    /// Margin is insufficient (-2019).
    InsufficientMargin = 2,
    /// Request rate limit (-1003, 429, 418).
    RateLimited = 3,
    /// Timestamp outside recvWindow (-1021).
    ClockSkew = 4,
    /// Authentication failed.
    Auth = 5,
    /// Nothing to match against (paper: no book for the symbol yet).
    NoLiquidity = 6,
    /// An account limit: leverage, position or open-order limit (-2025,
    /// -2027, -2028).
    AccountLimit = 7,
    /// The account is being liquidated (-2023): the exchange takes no order.
    Liquidating = 8,
}
}

wire! {
/// A request about one order.
#[repr(u8)]
pub enum Request {
    /// Place the order.
    #[default]
    New = 0,
    /// Cancel the order.
    Cancel = 1,
}
}

wire! {
/// An order refused before reaching the book (REST error, paper refusal).
pub struct OrderRejected {
    /// Our id for the refused order.
    pub client_id: ClientOrderId,
    /// Which request was refused: the order itself or its cancel.
    pub request: Request,
    /// Exchange error code (e.g. -2019); zero when not from an exchange.
    pub code: i32,
    /// Classification of `code`.
    pub reason: RejectReason,
}
}
