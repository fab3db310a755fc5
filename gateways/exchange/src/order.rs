//! What a client asks of the exchange: orders of every USD-M type the
//! model matches, cancels, and the refusals it answers with (Binance's
//! HTTP status, code and message, so a REST adapter can send them as is).

use autobot_engine::event::{NewOrder, OrderKind, OutputBody, OutputEvent, RejectReason};
use autobot_engine::types::{ClientOrderId, Price, Qty, Side, SymbolId};

/// How long a limit order lives (`timeInForce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tif {
    /// Good till cancelled: what does not take rests.
    Gtc,
    /// Immediate or cancel: what does not take expires.
    Ioc,
    /// Fill or kill: all of it takes at once, or none of it and it expires.
    Fok,
    /// Good till crossing (post-only): refused (-5022) if any of it would take.
    Gtx,
}

/// The price a conditional order watches (`workingType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkingType {
    /// `MARK_PRICE`: the mark (the data's, else the mid).
    Mark,
    /// `CONTRACT_PRICE`: the last trade (else the mid, else the last bar's close).
    Contract,
}

/// The trigger of a `STOP_MARKET` or `TAKE_PROFIT_MARKET` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// `stopPrice`.
    pub stop: Price,
    /// `workingType`.
    pub working: WorkingType,
    /// `closePosition`: when it triggers, close the whole position
    /// (the order's quantity is ignored).
    pub close_position: bool,
}

/// Order type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    /// `MARKET`: walks the opposite side.
    Market,
    /// `LIMIT` with its time in force.
    Limit(Tif),
    /// `STOP_MARKET`: a market order once the watched price reaches the
    /// stop against the order (a buy at or above it, a sell at or below).
    StopMarket(Trigger),
    /// `TAKE_PROFIT_MARKET`: a market order once the watched price reaches
    /// the stop in the order's favour (a buy at or below, a sell at or above).
    TakeProfitMarket(Trigger),
    /// `STOP`: a limit order at the order's price, with its time in force,
    /// once the watched price reaches the stop as a `STOP_MARKET`'s does.
    Stop(Trigger, Tif),
    /// `TAKE_PROFIT`: a limit order at the order's price once the watched
    /// price reaches the stop as a `TAKE_PROFIT_MARKET`'s does.
    TakeProfit(Trigger, Tif),
}

impl OrderType {
    /// The trigger of a conditional order.
    pub fn trigger(&self) -> Option<Trigger> {
        match *self {
            OrderType::StopMarket(t)
            | OrderType::TakeProfitMarket(t)
            | OrderType::Stop(t, _)
            | OrderType::TakeProfit(t, _) => Some(t),
            _ => None,
        }
    }

    /// Whether the type trades at the order's price (a limit, or a
    /// stop-limit once triggered).
    pub fn has_limit_price(&self) -> bool {
        matches!(
            self,
            OrderType::Limit(_) | OrderType::Stop(..) | OrderType::TakeProfit(..)
        )
    }

    /// The time in force of a type that trades at the order's price.
    pub fn tif(&self) -> Option<Tif> {
        match *self {
            OrderType::Limit(t) | OrderType::Stop(_, t) | OrderType::TakeProfit(_, t) => Some(t),
            _ => None,
        }
    }

    /// What a triggered conditional order becomes: a market order, or a
    /// limit with its time in force (`None` for a type without a trigger).
    pub fn triggered(&self) -> Option<OrderType> {
        match *self {
            OrderType::StopMarket(_) | OrderType::TakeProfitMarket(_) => Some(OrderType::Market),
            OrderType::Stop(_, tif) | OrderType::TakeProfit(_, tif) => Some(OrderType::Limit(tif)),
            _ => None,
        }
    }

    /// Binance's name of the type (`o` / `ot` of an order update).
    pub fn name(&self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit(_) => "LIMIT",
            OrderType::StopMarket(_) => "STOP_MARKET",
            OrderType::TakeProfitMarket(_) => "TAKE_PROFIT_MARKET",
            OrderType::Stop(..) => "STOP",
            OrderType::TakeProfit(..) => "TAKE_PROFIT",
        }
    }

    /// Binance's name of the time in force (`GTC` for the types without one).
    pub fn tif_name(&self) -> &'static str {
        match self {
            OrderType::Limit(tif) | OrderType::Stop(_, tif) | OrderType::TakeProfit(_, tif) => {
                match tif {
                    Tif::Gtc => "GTC",
                    Tif::Ioc => "IOC",
                    Tif::Fok => "FOK",
                    Tif::Gtx => "GTX",
                }
            }
            _ => "GTC",
        }
    }
}

/// The trigger of the core's protective stop at `stop`: the last price
/// (`CONTRACT_PRICE`, Binance's default, nearest the book the core's own
/// stop watches), closing the whole position.
pub fn protective(stop: Price) -> Trigger {
    Trigger {
        stop,
        working: WorkingType::Contract,
        close_position: true,
    }
}

/// An order as it reaches the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// The client's id (adapters map Binance's string ids onto these).
    pub client: ClientOrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Type.
    pub kind: OrderType,
    /// Limit price (zero for the market types).
    pub price: Price,
    /// Quantity (> 0; ignored by a `closePosition` order).
    pub qty: Qty,
    /// May only reduce the position, never open or flip it.
    pub reduce_only: bool,
}

impl Order {
    /// The exchange's view of an order the core sent: market, limit GTC
    /// (GTX when post-only), or the protective stop-market that closes the
    /// position when the last price reaches it (what the Binance gateway
    /// places as an algo order).
    pub fn from_core(o: &NewOrder) -> Order {
        let (kind, price) = match o.kind {
            OrderKind::Market => (OrderType::Market, Price::ZERO),
            OrderKind::Limit if o.post_only => (OrderType::Limit(Tif::Gtx), o.price),
            OrderKind::Limit => (OrderType::Limit(Tif::Gtc), o.price),
            OrderKind::StopMarket => (OrderType::StopMarket(protective(o.price)), Price::ZERO),
            OrderKind::TakeProfitMarket => (
                OrderType::TakeProfitMarket(protective(o.price)),
                Price::ZERO,
            ),
        };
        Order {
            client: o.client_id,
            symbol: o.symbol,
            side: o.side,
            kind,
            price,
            qty: o.qty,
            reduce_only: o.reduce_only,
        }
    }

    /// The limit an order takes up to (`None`: a market order, or a
    /// triggered stop-market or take-profit-market, takes at any price).
    pub fn limit(&self) -> Option<Price> {
        self.kind.has_limit_price().then_some(self.price)
    }

    /// Reduce-only, or `closePosition`.
    pub fn reduces_only(&self) -> bool {
        self.reduce_only || self.kind.trigger().is_some_and(|t| t.close_position)
    }
}

/// What reaches the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A new order.
    Place(Order),
    /// Cancel the client's order `client` on `symbol`.
    Cancel {
        /// Instrument.
        symbol: SymbolId,
        /// The order's client id.
        client: ClientOrderId,
    },
}

impl Request {
    /// The request a core output makes of the exchange: its orders and
    /// cancels (`None` for every other output).
    pub fn from_core(out: &OutputEvent) -> Option<Request> {
        match out.body {
            OutputBody::NewOrder(o) => Some(Request::Place(Order::from_core(&o))),
            OutputBody::Cancel(c) => Some(Request::Cancel {
                symbol: c.symbol,
                client: c.client_id,
            }),
            _ => None,
        }
    }
}

/// A refusal: what Binance answers (HTTP status, code, message) and how
/// the core classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status of the REST answer.
    pub http: u16,
    /// Binance error code.
    pub code: i32,
    /// Binance's message.
    pub msg: &'static str,
    /// The core's classification.
    pub reason: RejectReason,
}

impl Refusal {
    const fn new(code: i32, msg: &'static str, reason: RejectReason) -> Refusal {
        Refusal {
            http: 400,
            code,
            msg,
            reason,
        }
    }

    /// -2011: a cancel of an order the exchange does not hold (any more).
    pub const UNKNOWN_ORDER: Refusal =
        Refusal::new(-2011, "Unknown order sent.", RejectReason::Other);
    /// -5022: a post-only order that would take.
    pub const POST_ONLY: Refusal = Refusal::new(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
        RejectReason::Other,
    );
    /// -2022: a reduce-only order that would not reduce.
    pub const REDUCE_ONLY: Refusal =
        Refusal::new(-2022, "ReduceOnly Order is rejected.", RejectReason::Other);
    /// -2019: the order's initial margin does not fit the balance.
    pub const MARGIN: Refusal = Refusal::new(
        -2019,
        "Margin is insufficient.",
        RejectReason::InsufficientMargin,
    );
    /// -2020: nothing to match against (no book yet).
    pub const NO_LIQUIDITY: Refusal =
        Refusal::new(-2020, "Unable to fill.", RejectReason::NoLiquidity);
    /// -2021: a conditional order whose trigger is already reached.
    pub const WOULD_TRIGGER: Refusal = Refusal::new(
        -2021,
        "Order would immediately trigger.",
        RejectReason::Filter,
    );
    /// -1121: a symbol the exchange does not list.
    pub const BAD_SYMBOL: Refusal = Refusal::new(-1121, "Invalid symbol.", RejectReason::Other);
    /// -4003: a quantity that is not positive.
    pub const BAD_QTY: Refusal = Refusal::new(
        -4003,
        "Quantity less than or equal to zero.",
        RejectReason::Filter,
    );
    /// -4006: a stop price that is not positive.
    pub const BAD_STOP: Refusal = Refusal::new(
        -4006,
        "Stop price less than or equal to zero.",
        RejectReason::Filter,
    );
    /// -1111: a fill whose price or value leaves the fixed-point range
    /// (slippage below zero, a notional beyond i64).
    pub const OUT_OF_RANGE: Refusal = Refusal::new(
        -1111,
        "Precision is over the maximum defined for this asset.",
        RejectReason::Filter,
    );
}
