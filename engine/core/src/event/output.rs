//! Output events: everything the core decides.
//!
//! Each output names the input sequence that caused it (`cause`), so a replay
//! trace can print every decision next to its input. The core folds every
//! output into its running digest (see `core::digest`) before it leaves.

use super::{RegimeChange, Signal, WeightChange};
use crate::types::{ClientOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId};

wire! {
/// Order type.
#[repr(u8)]
pub enum OrderKind {
    /// Market order; `price` carries the reference price seen at decision time.
    #[default]
    Market = 0,
    /// Limit order at `price`.
    Limit = 1,
    /// The core's protective stop resting at the exchange: a stop-market
    /// that closes the whole position once the last price reaches `price`
    /// (Binance's `STOP_MARKET` with `closePosition`, an algo order). `qty`
    /// is the position it was placed for; the exchange closes whatever is
    /// held when it triggers.
    StopMarket = 2,
    /// The core's protective target resting at the exchange: a
    /// take-profit-market that closes the whole position once the last
    /// price reaches `price` in its favour (`TAKE_PROFIT_MARKET` with
    /// `closePosition`; `protect_target = true`).
    TakeProfitMarket = 3,
}
}

impl OrderKind {
    /// Waits off the book for a trigger (a protective order): it moves no
    /// position until it triggers, so it is neither pending exposure nor an
    /// order in flight.
    pub const fn is_conditional(self) -> bool {
        matches!(self, OrderKind::StopMarket | OrderKind::TakeProfitMarket)
    }
}

wire! {
/// A new order to send.
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
}

wire! {
/// Cancel an open order.
pub struct CancelOrder {
    /// Order to cancel.
    pub client_id: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
}
}

wire! {
/// Conditions worth an operator's attention.
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
    /// An execution report or account event with an impossible value (a
    /// fill at a non-positive price, a negative fee base): not applied.
    InvalidReport = 8,
    /// An operator command naming an unknown approval id or symbol, or an
    /// action the current state refuses (value = the id or the action).
    OperatorRefused = 9,
    /// A control-mode change was refused (value = the requested mode).
    ModeRefused = 10,
    /// A position is within the watch's alert distance of its liquidation
    /// price (value = distance, raw `Rate`).
    LiquidationNear = 11,
    /// The exchange refused to cancel an order that is still live.
    CancelRefused = 12,
    /// The L2 book lost sync and was cleared; the market gateway answers
    /// with a new depth snapshot (value = `depth::ResyncReason`).
    BookResync = 13,
    /// The exchange's position differed from the core's and was adopted
    /// (value = the exchange's signed quantity, raw).
    PositionReconciled = 14,
    /// The exchange's wallet balance differs from the core's, which has
    /// its own history and keeps it (value = the exchange's balance, raw):
    /// at a resumed run's start, or seen twice in a row by the periodic
    /// reconciliation.
    BalanceMismatch = 15,
    /// The exchange closed a position itself because the margin ran out
    /// (value = the signed quantity it closed, raw).
    Liquidated = 16,
    /// An input was refused as implausible, not applied (value = the
    /// `plausible::Implausible` reason).
    ImplausibleInput = 17,
    /// Exchange time jumped further than the window, confirmed by a second
    /// input (value = the jump in milliseconds).
    TimeJump = 18,
    /// The exchange's margin call on a position (value: the position,
    /// signed raw); the liquidation watch moves on a stage.
    MarginCall = 19,
    /// The exchange's position differs from the core's (value: exchange's
    /// minus the core's, raw), twice in a row with no order in flight.
    PositionDrift = 20,
    /// A strategy position lost its protective stop at the exchange: the
    /// exchange refused or expired it (value: the stop price, raw). The
    /// core's own stop guards the position; the stop is placed again when
    /// the position changes.
    Unprotected = 21,
    /// A strategy under `advisor = { mode = "gate" }` proposed an entry
    /// with no fresh prediction: it opens nothing until one comes (value:
    /// the strategy instance). Once until advice is fresh again.
    AdvisorSilent = 22,
    /// A prediction was refused: an unknown model, a score outside 0..=1,
    /// or features the core did not hand out (value: the model index).
    BadPrediction = 23,
    /// A gap in the symbol's bars longer than `[strategy] gap_bars`: its
    /// indicators warm up again (value: the bars missing).
    DataGap = 24,
}
}

wire! {
/// An alert.
pub struct Alert {
    /// What happened.
    pub code: AlertCode,
    /// Instrument concerned.
    pub symbol: SymbolId,
    /// Code-specific value (an order id, an exchange code).
    pub value: i64,
}
}

wire! {
/// Operator intent: how much the engine may do on its own (SPEC section 6).
#[repr(u8)]
pub enum ControlMode {
    /// Operator orders only; limits × 0.5, leverage 1x.
    Manual = 0,
    /// Each automated order needs the operator's approval; limits × 0.75,
    /// leverage 2x.
    SemiAuto = 1,
    /// Automated; limits × 1, leverage 3x.
    #[default]
    FullAuto = 2,
    /// Close and reduce only.
    Emergency = 3,
}
}

impl ControlMode {
    /// Every mode, in `repr` order.
    pub const ALL: [ControlMode; 4] = [
        ControlMode::Manual,
        ControlMode::SemiAuto,
        ControlMode::FullAuto,
        ControlMode::Emergency,
    ];

    /// The mode with this `repr` value (operator commands carry it as a number).
    pub fn from_index(i: u64) -> Option<ControlMode> {
        usize::try_from(i)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

wire! {
/// Why a system state or control mode changed.
#[repr(u8)]
pub enum ChangeCause {
    /// An operator command.
    #[default]
    Operator = 0,
    /// The shutdown command.
    Shutdown = 1,
    /// The kill switch was engaged.
    KillSwitch = 2,
    /// The day's loss reached the limit.
    DailyLoss = 3,
    /// Drawdown from the high-water mark reached the limit.
    Drawdown = 4,
    /// Too many losing trades in a row.
    ConsecutiveLosses = 5,
    /// A market-data feed is stale or disconnected.
    StaleFeed = 6,
    /// The exchange refused our credentials.
    AuthFailure = 7,
    /// Too many orders refused in the recent window.
    ErrorRate = 8,
    /// Every condition that held the state cleared.
    Recovered = 9,
    /// A new UTC day began (the daily-loss halt lifts).
    NewDay = 10,
    /// A restored state did not validate at start.
    RestoreInvalid = 11,
    /// The exchange liquidated a position, or refused an order because the
    /// account is being liquidated (-2023).
    Liquidation = 12,
    /// The exchange's position of a symbol differs from the core's, twice
    /// in a row with no order in flight (periodic reconciliation).
    PositionDrift = 13,
}
}

wire! {
/// Health of the engine (SPEC section 6) plus the final `Stopped`.
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
}

impl SystemState {
    /// Every state, in `repr` order.
    pub const ALL: [SystemState; 5] = [
        SystemState::Running,
        SystemState::Degraded,
        SystemState::SafeMode,
        SystemState::Halted,
        SystemState::Stopped,
    ];

    /// The state with this `repr` value; anything beyond reads as
    /// `Stopped` (the most restrictive).
    pub fn from_index(i: u64) -> SystemState {
        usize::try_from(i)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(SystemState::Stopped)
    }
}

wire! {
/// A change of system state.
pub struct StateChange {
    /// State before.
    pub from: SystemState,
    /// State after.
    pub to: SystemState,
    /// What caused it.
    pub cause: ChangeCause,
}
}

wire! {
/// A change of control mode.
pub struct ModeChange {
    /// Mode before.
    pub from: ControlMode,
    /// Mode after.
    pub to: ControlMode,
    /// What caused it.
    pub cause: ChangeCause,
}
}

wire! {
/// A funding payment applied to a position at a funding time.
pub struct FundingPaid {
    /// Instrument.
    pub symbol: SymbolId,
    /// Funding rate applied.
    pub rate: Rate,
    /// Mark price used.
    pub mark: Price,
    /// Amount credited to the balance (negative = paid).
    pub amount: Money,
}
}

wire! {
/// The rule an audit record is about, grouped by veto-chain level
/// ([`Rule::level`]).
#[repr(u8)]
pub enum Rule {
    /// Every check passed (approval record).
    #[default]
    AllPassed = 0,
    // Level 1: kill switch.
    /// The kill switch is engaged.
    KillSwitch = 10,
    // Level 2: system state and control mode.
    /// The system state forbids new orders (HALTED, stopped).
    SystemState = 20,
    /// The control mode forbids this origin (automation in Manual).
    ControlMode = 21,
    /// SAFE_MODE or Emergency: only orders that reduce a position.
    ReduceOnlyMode = 22,
    /// DRY_RUN deployment: signals only.
    DryRun = 23,
    // Level 3: forbidden conditions.
    /// The market-data feed is stale, disconnected or resyncing.
    FeedUnhealthy = 30,
    /// No two-sided book to price the order.
    NoMarket = 31,
    /// Spread (bps) above the maximum.
    Spread = 32,
    /// A funding payment against the position is imminent.
    FundingImminent = 33,
    /// Realized volatility above the limit.
    Volatility = 34,
    // Level 4: the rulebook.
    /// |position| after the order above the mode-scaled maximum.
    MaxPosition = 40,
    /// Account leverage after the order above the cap.
    MaxLeverage = 41,
    /// The day's loss is at the limit: no new risk.
    DailyLoss = 42,
    /// Drawdown is at the limit: no new risk.
    Drawdown = 43,
    /// Losing streak at the limit: no new risk.
    ConsecutiveLosses = 44,
    /// Opening another position would exceed the maximum count.
    MaxOpenPositions = 45,
    /// Order notional above the mode-scaled maximum.
    MaxOrderNotional = 46,
    /// Closing a position younger than the minimum hold time.
    MinHold = 47,
    // Level 5: portfolio.
    /// Kelly / volatility sizing leaves no room for the order (or no edge).
    Sizing = 50,
    /// Same-direction exposure to correlated symbols above the cap.
    Correlation = 51,
    /// Order larger than the allowed share of the opposite top of book.
    Liquidity = 52,
    /// Initial margin after the order above equity.
    Margin = 53,
    /// Liquidation price after the order too close to the mark.
    LiquidationDistance = 54,
    // Level 6: sanity.
    /// Order price outside the band around the mark price.
    PriceBand = 60,
    /// The quantity rounds to zero at the instrument's step size.
    ZeroQuantity = 61,
    /// The notional is below the instrument's minimum.
    MinNotional = 62,
    /// Quantity outside the instrument's lot-size limits.
    LotSize = 63,
    /// A post-only order would take liquidity.
    PostOnlyCross = 64,
    /// A reduce-only order would not reduce the position.
    ReduceOnly = 65,
    /// The order pool is exhausted (every slot holds a live order).
    OrderPool = 66,
}
}

impl Rule {
    /// Every rule, in number order.
    pub const ALL: [Rule; 31] = [
        Rule::AllPassed,
        Rule::KillSwitch,
        Rule::SystemState,
        Rule::ControlMode,
        Rule::ReduceOnlyMode,
        Rule::DryRun,
        Rule::FeedUnhealthy,
        Rule::NoMarket,
        Rule::Spread,
        Rule::FundingImminent,
        Rule::Volatility,
        Rule::MaxPosition,
        Rule::MaxLeverage,
        Rule::DailyLoss,
        Rule::Drawdown,
        Rule::ConsecutiveLosses,
        Rule::MaxOpenPositions,
        Rule::MaxOrderNotional,
        Rule::MinHold,
        Rule::Sizing,
        Rule::Correlation,
        Rule::Liquidity,
        Rule::Margin,
        Rule::LiquidationDistance,
        Rule::PriceBand,
        Rule::ZeroQuantity,
        Rule::MinNotional,
        Rule::LotSize,
        Rule::PostOnlyCross,
        Rule::ReduceOnly,
        Rule::OrderPool,
    ];

    /// The veto-chain level (1 ..= 6) the rule belongs to (the tens digit
    /// of its number); 0 for approvals.
    pub const fn level(self) -> u8 {
        self as u8 / 10
    }
}

wire! {
/// Verdict of the veto chain.
#[repr(u8)]
pub enum Verdict {
    /// Sent (`rule` names a rule that cut the size, if one did).
    #[default]
    Approved = 0,
    /// Refused by `rule`.
    Vetoed = 1,
    /// Passed the chain; waiting for the operator (SemiAuto).
    Pending = 2,
    /// The operator declined a pending order.
    Declined = 3,
    /// A pending order was not approved in time.
    Expired = 4,
}
}

impl Verdict {
    /// Every verdict, in `repr` order.
    pub const ALL: [Verdict; 5] = [
        Verdict::Approved,
        Verdict::Vetoed,
        Verdict::Pending,
        Verdict::Declined,
        Verdict::Expired,
    ];
}

wire! {
/// Who wanted an order.
#[repr(u8)]
pub enum Origin {
    /// A strategy signal.
    #[default]
    Strategy = 0,
    /// An operator order.
    Operator = 1,
    /// The operator's flatten command.
    Flatten = 2,
    /// The liquidation watch (reduce half / close).
    LiquidationWatch = 3,
    /// The maximum hold time elapsed.
    MaxHold = 4,
    /// Cancel-replace of a limit order that rested too long.
    Replace = 5,
    /// A strategy's stop-loss (managed by the core).
    StopLoss = 6,
    /// A strategy's take-profit (managed by the core).
    TakeProfit = 7,
    /// The exchange's liquidation of a position whose margin ran out.
    Liquidation = 8,
    /// A strategy's stop resting at the exchange (`protect = "exchange"`
    /// or `"both"`), placed and moved by the core, filled by the exchange.
    Protect = 9,
}
}

impl Origin {
    /// Every origin, in number order.
    pub const ALL: [Origin; 10] = [
        Origin::Strategy,
        Origin::Operator,
        Origin::Flatten,
        Origin::LiquidationWatch,
        Origin::MaxHold,
        Origin::Replace,
        Origin::StopLoss,
        Origin::TakeProfit,
        Origin::Liquidation,
        Origin::Protect,
    ];

    /// Orders that only ever reduce risk (they skip sizing and forbidden
    /// conditions that guard against new risk).
    pub const fn is_protective(self) -> bool {
        matches!(
            self,
            Origin::Flatten
                | Origin::Liquidation
                | Origin::LiquidationWatch
                | Origin::MaxHold
                | Origin::StopLoss
                | Origin::TakeProfit
                | Origin::Protect
        )
    }
}

wire! {
/// Why an order intent was approved or vetoed, with the values compared.
pub struct Audit {
    /// The client id the order has (approved) or would have had.
    pub id: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Approved or vetoed.
    pub verdict: Verdict,
    /// The deciding rule (`AllPassed` for approvals).
    pub rule: Rule,
    /// Intended side.
    pub side: Side,
    /// Who wanted the order.
    pub origin: Origin,
    /// Intended quantity.
    pub qty: Qty,
    /// The value the rule measured (raw fixed-point, e.g. the resulting position).
    pub value: i64,
    /// The limit it was compared with (raw fixed-point).
    pub limit: i64,
}
}

wire! { no_default:
/// The payload of an output event.
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
    /// The control mode changed.
    ModeChange(ModeChange),
    /// A funding payment was applied.
    Funding(FundingPaid),
    /// A strategy signal changed the targeted position.
    Signal(Signal),
    /// A symbol's regime changed.
    Regime(RegimeChange),
    /// A strategy's weight adapted.
    Weight(WeightChange),
    /// Part of a symbol's feature vector at a closed base bar, for the
    /// advisor (emitted only while the `[advisor]` registry names a
    /// model). The vector comes in `super::FEATURE_PARTS` consecutive
    /// outputs with the same cause, in part order: whole, it would not
    /// leave the output its cache line (`super::FeatureParts` joins them).
    Features {
        /// Instrument.
        symbol: SymbolId,
        /// Which part (0 ..).
        part: u8,
        /// Features `part × FEATURES_PER_PART ..` (`features::vector::FEATURES`
        /// order) as `f32` bits; zeros past the last.
        bits: [u32; super::FEATURES_PER_PART],
    },
    /// What the advisor did to an advised strategy's entry.
    Advice(super::Advice),
}
}

impl Default for OutputBody {
    fn default() -> Self {
        OutputBody::Alert(Alert::default())
    }
}

wire! {
/// One output: the decision and the input that caused it. One cache line.
#[repr(C, align(64))]
pub struct OutputEvent {
    /// Sequence of the input event that caused this output.
    pub cause: Seq,
    /// Payload.
    pub body: OutputBody,
    /// Transport stamp, not a decision: the `recv` of the market-data
    /// input that caused this output, set by the runtime's output ring
    /// (for the `tick_to_order` latency stage). The core always emits 0,
    /// so digests and replays never depend on a clock.
    pub recv: MonoNanos,
}
}
