//! What the exchange answers: execution reports with the account after
//! each fill (so a REST/WebSocket adapter can send Binance's
//! `ORDER_TRADE_UPDATE` and `ACCOUNT_UPDATE`), refusals, and funding it
//! announces. [`Report::input`] turns one into the core's input event.

use autobot_engine::event::{
    FundingSettled, InputBody, InputEvent, Liquidity, OrderRejected, OrderStatus, OrderUpdate,
    Request as Asked, Source,
};
use autobot_engine::types::{
    ClientOrderId, ExchangeOrderId, Money, MonoNanos, Price, Qty, Rate, SymbolId, UnixNanos,
};

use crate::order::{Order, Refusal};

/// One change of one order, with the account after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The order as it reached the exchange (a reduce-only quantity cut
    /// to the position shows the cut quantity).
    pub order: Order,
    /// The exchange's id of the order.
    pub id: ExchangeOrderId,
    /// Status after this change.
    pub status: OrderStatus,
    /// Maker or taker for a fill; `None` otherwise.
    pub liquidity: Liquidity,
    /// This fill's price (zero when no fill).
    pub last_price: Price,
    /// This fill's quantity (zero when no fill).
    pub last_qty: Qty,
    /// Filled so far, this fill included.
    pub cum_qty: Qty,
    /// Fee of this fill (positive: paid).
    pub fee: Money,
    /// PnL this fill realized.
    pub realized: Money,
    /// The symbol's position after it.
    pub position: Qty,
    /// Average entry of that position (zero when flat).
    pub entry: Price,
    /// The wallet balance after it.
    pub wallet: Money,
    /// The order is the exchange's own (a liquidation).
    pub by_exchange: bool,
}

impl Execution {
    /// A fill (`TRADE`), as opposed to a status change.
    pub fn is_fill(&self) -> bool {
        self.last_qty.is_positive()
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportBody {
    /// An order was accepted, filled (in part), cancelled or expired.
    Execution(Execution),
    /// A request was refused.
    Refused {
        /// The order's client id.
        client: ClientOrderId,
        /// The order itself or its cancel.
        request: Asked,
        /// Why.
        refusal: Refusal,
    },
    /// The exchange settled funding on a symbol whose data carries none,
    /// at this mark and rate.
    Funding {
        /// Mark the payment was valued at.
        mark: Price,
        /// Rate charged.
        rate: Rate,
        /// What the account paid (negative) or received.
        amount: Money,
        /// The wallet balance after it.
        wallet: Money,
    },
}

/// One report, at the exchange's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Instrument.
    pub symbol: SymbolId,
    /// Exchange time.
    pub time: UnixNanos,
    /// What happened.
    pub body: ReportBody,
}

impl Report {
    /// The input event the core gets for this report (execution reports
    /// as `Source::Execution`, announced funding as market data), with a
    /// zero receive time that a live adapter overwrites.
    pub fn input(&self) -> InputEvent {
        let (source, body) = match self.body {
            ReportBody::Execution(e) => (
                Source::Execution,
                InputBody::OrderUpdate(OrderUpdate {
                    client_id: if e.by_exchange {
                        ClientOrderId::EXCHANGE_CLOSE
                    } else {
                        e.order.client
                    },
                    exchange_id: e.id,
                    status: e.status,
                    side: e.order.side,
                    liquidity: e.liquidity,
                    last_price: e.last_price,
                    last_qty: e.last_qty,
                    cum_qty: e.cum_qty,
                    fee: e.fee,
                }),
            ),
            ReportBody::Refused {
                client,
                request,
                refusal,
            } => (
                Source::Execution,
                InputBody::OrderRejected(OrderRejected {
                    client_id: client,
                    request,
                    code: refusal.code,
                    reason: refusal.reason,
                }),
            ),
            ReportBody::Funding { mark, rate, .. } => (
                Source::MarketData,
                InputBody::Funding(FundingSettled { mark, rate }),
            ),
        };
        InputEvent::new(source, self.symbol, MonoNanos(0), self.time, body)
    }
}
