//! Recovering the reports the user-data stream missed: every order the
//! ledger holds open is queried over REST and what the exchange knows is
//! published as the reports the stream would have sent (see the ledger's
//! module docs for when and why).

use autobot_engine::event::{
    InputBody, InputEvent, Liquidity, OrderRejected, OrderStatus, OrderUpdate, RejectReason,
    Request, Source,
};
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::{ExchangeOrderId, Qty, SymbolId, UnixNanos};

use super::execution::ExecClient;
use super::ledger::OrderLedger;
use super::rest::RestError;

/// What one reconciliation found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Orders queried.
    pub queried: u64,
    /// Reports recovered (fills and status changes the stream missed).
    pub recovered: u64,
    /// Orders the exchange does not know: refused to the core if they had
    /// no report yet, else ended as expired.
    pub unknown: u64,
}

fn ms(t: u64) -> UnixNanos {
    UnixNanos(t.saturating_mul(1_000_000))
}

/// Queries every open order of `ledger` and appends, to `out`, the reports
/// the user-data stream did not deliver (each admitted to the ledger, so
/// a later streamed copy is dropped). On an error, what was found so far
/// is in `out` and the rest is left for the next call.
pub fn reconcile(
    client: &mut ExecClient,
    ledger: &OrderLedger,
    out: &mut Vec<InputEvent>,
) -> Result<Reconciled, RestError> {
    // Publishes `u` if it moves its order forward.
    let publish = |out: &mut Vec<InputEvent>, u: OrderUpdate, symbol: SymbolId, time: UnixNanos| {
        let admitted = ledger.admit(&u);
        if admitted {
            let body = InputBody::OrderUpdate(u);
            out.push(InputEvent::new(
                Source::Execution,
                symbol,
                mono_now(),
                time,
                body,
            ));
        }
        admitted
    };
    let mut r = Reconciled::default();
    for e in ledger.open() {
        r.queried += 1;
        let gone = OrderUpdate {
            client_id: e.id,
            side: e.side,
            cum_qty: e.cum,
            ..OrderUpdate::default()
        };
        let Some(o) = client.order_of(e.symbol, e.id, e.conditional)? else {
            r.unknown += 1;
            if e.status.is_some() {
                // It was on the book and is gone (the exchange forgets
                // cancelled orders after a while; a new simulator never
                // knew it): over, with what was filled.
                let expired = OrderUpdate {
                    status: OrderStatus::Expired,
                    ..gone
                };
                publish(out, expired, e.symbol, UnixNanos(0));
                continue;
            }
            // It never reached the book: refused, so the core frees it.
            ledger.refused(e.id);
            let refusal = InputBody::OrderRejected(OrderRejected {
                client_id: e.id,
                request: Request::New,
                code: -2013,
                reason: RejectReason::Other,
            });
            out.push(InputEvent::new(
                Source::Execution,
                e.symbol,
                mono_now(),
                UnixNanos(0),
                refusal,
            ));
            continue;
        };
        let known = OrderUpdate {
            exchange_id: ExchangeOrderId(o.order_id),
            ..gone
        };
        let mut cum = e.cum;
        if o.executed > cum {
            // Fills come in trade-id order; those up to what was published
            // are skipped whole (a report carries whole trades).
            let mut seen = Qty::ZERO;
            for t in client.order_trades(e.symbol, o.order_id)? {
                seen = seen.checked_add(t.qty).unwrap_or(seen);
                if seen <= cum {
                    continue;
                }
                let fill = OrderUpdate {
                    status: if seen == o.qty {
                        OrderStatus::Filled
                    } else {
                        OrderStatus::PartiallyFilled
                    },
                    liquidity: if t.maker {
                        Liquidity::Maker
                    } else {
                        Liquidity::Taker
                    },
                    last_price: t.price,
                    last_qty: t.qty,
                    cum_qty: seen,
                    fee: t.fee,
                    ..known
                };
                r.recovered += u64::from(publish(out, fill, e.symbol, ms(t.time_ms)));
                cum = seen;
            }
        }
        // The status the fills did not carry (NEW, or CANCELED after part
        // of it filled), once every fill is in.
        if cum == o.executed {
            let status = OrderUpdate {
                status: o.status,
                cum_qty: cum,
                ..known
            };
            r.recovered += u64::from(publish(out, status, e.symbol, ms(o.time_ms)));
        }
    }
    Ok(r)
}
