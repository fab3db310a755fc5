//! Binance's Algo Order API, where USD-M conditional orders live since
//! 2025-12-09 (`POST /fapi/v1/order` refuses them with -4120): the core's
//! protective stops (`OrderKind::StopMarket`) are placed, cancelled and
//! queried here, and `ALGO_UPDATE` reports their lives.
//!
//! - Placed as `POST /fapi/v1/algoOrder`, `algoType=CONDITIONAL`,
//!   `type=STOP_MARKET`, `closePosition=true` (no quantity: the exchange
//!   closes whatever is held when it triggers), `workingType=CONTRACT_PRICE`,
//!   with our client id as `clientAlgoId`. Cancelled and queried by that id
//!   (`DELETE` / `GET /fapi/v1/algoOrder`).
//! - When it triggers, the exchange places an order in the matching engine
//!   that carries our id as its client order id: its `ORDER_TRADE_UPDATE`
//!   reports the fill as for any order of ours, so the algo statuses of
//!   that stage (`TRIGGERING`, `TRIGGERED`, `FINISHED`) are ignored.
//! - The other statuses end or acknowledge the order ([`algo_status`]):
//!   `NEW` → accepted, `CANCELED` → cancelled, `EXPIRED` → expired, and
//!   `REJECTED` (refused at trigger, e.g. a margin check) → expired: the
//!   stop was accepted before, and is now gone without closing anything.
//! - A query (`GET /fapi/v1/algoOrder`) of a triggered order follows its
//!   `actualOrderId` to the order in the matching engine, whose fills
//!   `userTrades` then gives (see `reconcile`).

use autobot_engine::event::OrderStatus;

/// What an algo status means for the order it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgoStatus {
    /// The order's own status.
    Order(OrderStatus),
    /// Triggered: the order in the matching engine carries on (its own
    /// reports, or `actualOrderId` when queried).
    Triggered,
}

/// The meaning of Binance's algo status name (module docs).
pub fn algo_status(x: &str) -> Option<AlgoStatus> {
    Some(match x {
        "NEW" => AlgoStatus::Order(OrderStatus::Accepted),
        "CANCELED" => AlgoStatus::Order(OrderStatus::Cancelled),
        "EXPIRED" | "REJECTED" => AlgoStatus::Order(OrderStatus::Expired),
        "TRIGGERING" | "TRIGGERED" | "FINISHED" => AlgoStatus::Triggered,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_its_meaning() {
        for (name, want) in [
            ("NEW", Some(AlgoStatus::Order(OrderStatus::Accepted))),
            ("CANCELED", Some(AlgoStatus::Order(OrderStatus::Cancelled))),
            ("EXPIRED", Some(AlgoStatus::Order(OrderStatus::Expired))),
            ("REJECTED", Some(AlgoStatus::Order(OrderStatus::Expired))),
            ("TRIGGERING", Some(AlgoStatus::Triggered)),
            ("TRIGGERED", Some(AlgoStatus::Triggered)),
            ("FINISHED", Some(AlgoStatus::Triggered)),
            ("WORKING", None),
        ] {
            assert_eq!(algo_status(name), want, "{name}");
        }
    }
}
