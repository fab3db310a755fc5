//! Input events: everything that can change the core's state.
//!
//! # Invariants
//! - [`InputEvent`] is `Copy`, 128 bytes, aligned to 64 (two cache lines, no
//!   slot of the ring shares a line with its neighbour); `tests/layout.rs`
//!   pins the size.
//! - No pointers, no heap: an event is plain data, archived by rkyv into the
//!   journal byte for byte the same on every run.
//! - Prices and quantities are exact decimals ([`Price`], [`Qty`]); no float.
//!
//! The execution reports (order and account updates, refusals) are in
//! `report`.

use super::{AccountUpdate, OrderRejected, OrderUpdate};
use crate::types::{MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId, UnixNanos};

wire! {
/// Which gateway produced an event.
#[repr(u8)]
pub enum Source {
    /// Market data stream (exchange, simulator or synthetic generator).
    #[default]
    MarketData = 0,
    /// User data stream (order and account updates pushed by the exchange).
    UserData = 1,
    /// Execution gateway replies (REST results, paper fills).
    Execution = 2,
    /// Operator control endpoint.
    Operator = 3,
    /// Timer thread.
    Timer = 4,
    /// The runtime itself (e.g. the shutdown command).
    Runtime = 5,
    /// The machine-learning advisor stage (its predictions).
    Advisor = 6,
}
}

wire! {
/// Latency stamps taken before the event is journaled, as nanosecond offsets
/// from [`EventHeader::recv`] (saturating at `u32::MAX`, about 4.3 s).
#[repr(C)]
pub struct Stamps {
    /// Parse finished.
    pub parsed: u32,
    /// Claimed a ring slot and about to publish.
    pub published: u32,
    /// The journal record is being written (stamped into the record).
    pub journaled: u32,
}
}

wire! {
/// The header every input event carries.
#[repr(C)]
pub struct EventHeader {
    /// Ring = journal sequence. Written by the stage that journals the event
    /// (producers cannot know it before publishing).
    pub seq: Seq,
    /// Gateway receive time (monotonic, this host).
    pub recv: MonoNanos,
    /// Exchange event time; zero when the source has none.
    pub exchange: UnixNanos,
    /// Latency stamps relative to `recv`.
    pub stamps: Stamps,
    /// Instrument the event is about; `SymbolId(0)` for events about none.
    pub symbol: SymbolId,
    /// Producing gateway.
    pub source: Source,
}
}

wire! {
/// Best bid and ask (`<symbol>@bookTicker`).
pub struct BookTicker {
    /// Order book update id (`u`).
    pub update_id: u64,
    /// Best bid price.
    pub bid_price: Price,
    /// Best bid quantity.
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask_price: Price,
    /// Best ask quantity.
    pub ask_qty: Qty,
}
}

wire! {
/// An aggregate trade (`<symbol>@aggTrade`) or a single trade.
pub struct Trade {
    /// Aggregate trade id (`a`) or trade id (`t`).
    pub trade_id: u64,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// The aggressor sold (the buyer was the maker, `m`).
    pub buyer_is_maker: bool,
}
}

wire! {
/// One price level of a depth diff; a zero quantity removes the level.
pub struct Level {
    /// Price of the level.
    pub price: Price,
    /// New total quantity at the level.
    pub qty: Qty,
}
}

/// Levels carried by one [`DepthDiff`] event; larger diffs are split.
pub const DEPTH_LEVELS_PER_EVENT: usize = 3;

wire! {
/// A part of an L2 diff-depth update (`<symbol>@depth`) or of a REST depth
/// snapshot. A diff with more levels than fit is split into consecutive
/// events with the same ids ([`DepthDiff::split`]); [`DepthDiff::FIRST_PART`]
/// and [`DepthDiff::LAST_PART`] mark its ends. A snapshot's parts carry
/// [`DepthDiff::SNAPSHOT`] and its `lastUpdateId` as `final_update_id`.
pub struct DepthDiff {
    /// First update id in the event (`U`).
    pub first_update_id: u64,
    /// Final update id in the event (`u`).
    pub final_update_id: u64,
    /// Final update id of the previous event (`pu`).
    pub prev_final_update_id: u64,
    /// How many of `levels` are bids (they come first).
    pub bid_count: u8,
    /// How many of `levels` after the bids are asks.
    pub ask_count: u8,
    /// Flag bits, see the associated constants.
    pub flags: u8,
    /// Bids first, then asks.
    pub levels: [Level; DEPTH_LEVELS_PER_EVENT],
}
}

impl DepthDiff {
    /// This event completes the exchange's diff.
    pub const LAST_PART: u8 = 1;
    /// This event begins the exchange's diff.
    pub const FIRST_PART: u8 = 2;
    /// A part of a REST depth snapshot, not of a diff.
    pub const SNAPSHOT: u8 = 4;

    /// The bids of this part.
    pub fn bids(&self) -> &[Level] {
        let n = usize::from(self.bid_count).min(DEPTH_LEVELS_PER_EVENT);
        &self.levels[..n]
    }

    /// The asks of this part.
    pub fn asks(&self) -> &[Level] {
        let from = usize::from(self.bid_count).min(DEPTH_LEVELS_PER_EVENT);
        let to = (from + usize::from(self.ask_count)).min(DEPTH_LEVELS_PER_EVENT);
        &self.levels[from..to]
    }

    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Splits one exchange diff (or snapshot, with `snapshot`) into parts
    /// of at most [`DEPTH_LEVELS_PER_EVENT`] levels, bids first, and hands
    /// each to `emit` in order. A diff without levels is still one part:
    /// its ids continue the `pu` chain.
    pub fn split(
        ids: (u64, u64, u64),
        bids: &[Level],
        asks: &[Level],
        snapshot: bool,
        mut emit: impl FnMut(DepthDiff),
    ) {
        let total = bids.len() + asks.len();
        let parts = total.div_ceil(DEPTH_LEVELS_PER_EVENT).max(1);
        let all = bids.iter().chain(asks.iter());
        let mut levels = all.enumerate();
        for part in 0..parts {
            let mut d = DepthDiff {
                first_update_id: ids.0,
                final_update_id: ids.1,
                prev_final_update_id: ids.2,
                ..DepthDiff::default()
            };
            for slot in 0..DEPTH_LEVELS_PER_EVENT {
                let Some((i, level)) = levels.next() else {
                    break;
                };
                d.levels[slot] = *level;
                if i < bids.len() {
                    d.bid_count += 1;
                } else {
                    d.ask_count += 1;
                }
            }
            if part == 0 {
                d.flags |= DepthDiff::FIRST_PART;
            }
            if part + 1 == parts {
                d.flags |= DepthDiff::LAST_PART;
            }
            if snapshot {
                d.flags |= DepthDiff::SNAPSHOT;
            }
            emit(d);
        }
    }
}

wire! {
/// Mark price and funding (`<symbol>@markPrice`).
pub struct MarkPrice {
    /// Mark price (`p`).
    pub mark_price: Price,
    /// Index price (`i`).
    pub index_price: Price,
    /// Funding rate (`r`).
    pub funding_rate: Rate,
    /// Next funding time (`T`).
    pub next_funding: UnixNanos,
}
}

wire! {
/// A funding time settled at a known rate: the position pays its notional
/// at `mark` times `rate` (longs pay a positive rate). Funding-rate data
/// and the backtest's exchange send this; a live feed announces funding
/// through [`MarkPrice`] instead, and the core settles those itself. The
/// core's mark is left alone, so positions stay valued at the market.
pub struct FundingSettled {
    /// The price the position's notional is taken at (zero when no price
    /// was known yet: nothing can be held then).
    pub mark: Price,
    /// The funding rate charged.
    pub rate: Rate,
}
}

wire! {
/// A liquidation order seen on the market (`<symbol>@forceOrder`).
pub struct Liquidation {
    /// Side of the liquidation order.
    pub side: Side,
    /// Order price.
    pub price: Price,
    /// Average fill price.
    pub avg_price: Price,
    /// Filled quantity.
    pub filled_qty: Qty,
}
}

wire! {
/// A closed candle (`<symbol>@kline_<interval>` with `x = true`).
pub struct Kline {
    /// Candle open time.
    pub open_time: UnixNanos,
    /// Interval length in seconds.
    pub interval_secs: u32,
    /// Number of trades.
    pub trades: u32,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// Base volume.
    pub volume: Qty,
}
}

wire! {
/// What an operator asked for.
#[repr(u8)]
pub enum OperatorAction {
    /// Engage the kill switch: no new orders, open orders cancelled, mode
    /// Emergency.
    #[default]
    Kill = 0,
    /// Release the kill switch and clear the breakers that wait for an
    /// operator (daily loss, drawdown, auth failure).
    Reset = 1,
    /// Stop trading for shutdown: no new orders from here on; the runtime
    /// drains the rings after the core acknowledges.
    Shutdown = 2,
    /// A run begins: a core stopped by an earlier run's shutdown (restored
    /// from its journal) trades again. Journaled first by every run, so run
    /// boundaries are visible in the journal.
    Start = 3,
    /// Change the control mode to `ControlMode::from_index(arg)`.
    SetMode = 4,
    /// Approve the pending order whose client id is `arg` (SemiAuto).
    Approve = 5,
    /// Decline the pending order whose client id is `arg` (SemiAuto).
    Reject = 6,
    /// Close the position of the header's symbol (`arg` = 1: every symbol)
    /// with reduce-only market orders, and stop the strategy re-entering.
    Flatten = 7,
    /// An operator order on the header's symbol: `side`, `kind`, `qty`,
    /// `price` (limit price; ignored for market), `flags`.
    Order = 8,
    /// Strategy instance `arg` opens nothing more (what it holds still
    /// exits by its stop, target and hold limits).
    DisableStrategy = 9,
    /// Strategy instance `arg` may open positions again.
    EnableStrategy = 10,
}
}

impl OperatorAction {
    /// Every action, in `repr` order.
    pub const ALL: [OperatorAction; 11] = [
        OperatorAction::Kill,
        OperatorAction::Reset,
        OperatorAction::Shutdown,
        OperatorAction::Start,
        OperatorAction::SetMode,
        OperatorAction::Approve,
        OperatorAction::Reject,
        OperatorAction::Flatten,
        OperatorAction::Order,
        OperatorAction::DisableStrategy,
        OperatorAction::EnableStrategy,
    ];
}

wire! {
/// An operator command (journaled like everything else).
pub struct OperatorCommand {
    /// The action.
    pub action: OperatorAction,
    /// Action argument (an order id to approve, a mode); zero when unused.
    pub arg: u64,
    /// Operator order: side.
    pub side: Side,
    /// Operator order: market or limit.
    pub kind: crate::event::OrderKind,
    /// Operator order: [`OperatorCommand::REDUCE_ONLY`] | [`OperatorCommand::POST_ONLY`].
    pub flags: u8,
    /// Operator order: quantity.
    pub qty: Qty,
    /// Operator order: limit price.
    pub price: Price,
}
}

impl OperatorCommand {
    /// Operator order flag: may only reduce the position.
    pub const REDUCE_ONLY: u8 = 1;
    /// Operator order flag: rest only, never take.
    pub const POST_ONLY: u8 = 2;

    /// A command without order fields.
    pub fn new(action: OperatorAction, arg: u64) -> OperatorCommand {
        OperatorCommand {
            action,
            arg,
            ..OperatorCommand::default()
        }
    }
}

wire! {
/// A timer tick: the only way wall-clock time reaches the core without data.
pub struct Timer {
    /// Wall-clock time of the tick.
    pub now: UnixNanos,
}
}

wire! {
/// Which feed a status event is about.
#[repr(u8)]
pub enum Feed {
    /// Market data.
    #[default]
    MarketData = 0,
    /// User data.
    UserData = 1,
}
}

wire! {
/// Health of a feed.
#[repr(u8)]
pub enum FeedHealth {
    /// Connected and current.
    #[default]
    Healthy = 0,
    /// No data for longer than the stale threshold.
    Stale = 1,
    /// Connection lost.
    Disconnected = 2,
    /// Book resynchronising after a gap.
    Resyncing = 3,
}
}

wire! {
/// A change in the health of a feed for one symbol.
pub struct FeedStatus {
    /// The feed.
    pub feed: Feed,
    /// Its new health.
    pub health: FeedHealth,
}
}

wire! { no_default:
/// The payload of an input event, one variant per kind of SPEC section 3.
pub enum InputBody {
    /// Best bid/ask.
    BookTicker(BookTicker),
    /// Aggregate trade.
    AggTrade(Trade),
    /// Part of an L2 diff.
    Depth(DepthDiff),
    /// Mark price and funding.
    MarkPrice(MarkPrice),
    /// Liquidation order on the market.
    Liquidation(Liquidation),
    /// Closed candle.
    Kline(Kline),
    /// Execution report for one of our orders.
    OrderUpdate(OrderUpdate),
    /// Account balance / position update.
    AccountUpdate(AccountUpdate),
    /// Order refused before reaching the book.
    OrderRejected(OrderRejected),
    /// Operator command.
    Operator(OperatorCommand),
    /// Timer tick.
    Timer(Timer),
    /// Feed health change.
    FeedStatus(FeedStatus),
    /// A funding time settled at a known rate.
    Funding(FundingSettled),
    /// A model's prediction (the advisor stage).
    Prediction(super::Prediction),
}
}

impl Default for InputBody {
    fn default() -> Self {
        InputBody::Timer(Timer::default())
    }
}

/// Number of input event kinds (for per-kind counters).
pub const INPUT_KINDS: usize = 14;

impl InputBody {
    /// Stable small index of the kind (counters, journal record kind).
    pub const fn kind_index(&self) -> usize {
        match self {
            InputBody::BookTicker(_) => 0,
            InputBody::AggTrade(_) => 1,
            InputBody::Depth(_) => 2,
            InputBody::MarkPrice(_) => 3,
            InputBody::Liquidation(_) => 4,
            InputBody::Kline(_) => 5,
            InputBody::OrderUpdate(_) => 6,
            InputBody::AccountUpdate(_) => 7,
            InputBody::OrderRejected(_) => 8,
            InputBody::Operator(_) => Self::OPERATOR_KIND,
            InputBody::Timer(_) => 10,
            InputBody::FeedStatus(_) => 11,
            InputBody::Funding(_) => 12,
            InputBody::Prediction(_) => 13,
        }
    }

    /// [`Self::kind_index`] of operator commands.
    pub const OPERATOR_KIND: usize = 9;

    /// Human name of each kind, indexed by [`Self::kind_index`].
    pub const KIND_NAMES: [&'static str; INPUT_KINDS] = [
        "book_ticker",
        "agg_trade",
        "depth",
        "mark_price",
        "liquidation",
        "kline",
        "order_update",
        "account_update",
        "order_rejected",
        "operator",
        "timer",
        "feed_status",
        "funding",
        "prediction",
    ];
}

wire! {
/// One input event: header and payload, two cache lines.
#[repr(C, align(64))]
pub struct InputEvent {
    /// Common header.
    pub header: EventHeader,
    /// Kind-specific payload.
    pub body: InputBody,
}
}

impl InputEvent {
    /// An event from `source` about `symbol` with the given receive and exchange times.
    pub fn new(
        source: Source,
        symbol: SymbolId,
        recv: MonoNanos,
        exchange: UnixNanos,
        body: InputBody,
    ) -> InputEvent {
        InputEvent {
            header: EventHeader {
                seq: Seq(0),
                recv,
                exchange,
                stamps: Stamps::default(),
                symbol,
                source,
            },
            body,
        }
    }
}
