//! How an order meets the book: walking the levels for a taking fill, the
//! queue ahead of a resting one, and the exchange's own books (position,
//! wallet) after each fill.

use super::*;

impl SimExchange {
    /// The exchange's own books: position and wallet.
    pub(super) fn book_fill(&mut self, i: usize, side: Side, price: Price, qty: Qty, fee: Money) {
        self.margin_band.fill(NO_BAND);
        let m = &mut self.markets[i];
        let before = m.position.realized();
        if m.position.apply_fill(side, price, qty, fee).is_ok() {
            let realized = m.position.realized().checked_sub(before);
            if let Some(w) = realized
                .and_then(|r| self.wallet.checked_add(r))
                .and_then(|w| w.checked_sub(fee))
            {
                self.wallet = w;
            }
        }
    }

    /// The levels an order on `side` takes, best first, into `self.takes`.
    pub(super) fn walk(&mut self, i: usize, side: Side, qty: Qty, limit: Option<Price>) -> Qty {
        self.takes.clear();
        let m = &self.markets[i];
        let ladder = match side {
            Side::Buy => m.depth.asks(),
            Side::Sell => m.depth.bids(),
        };
        let mut left = qty.raw();
        let push = |takes: &mut Vec<(Price, Qty)>, left: &mut i64, price: Price, avail: i64| {
            let q = (*left).min(avail);
            if q > 0 {
                takes.push((price, Qty::from_raw(q)));
                *left -= q;
            }
        };
        let ok = |p: Price| limit.is_none_or(|l| within(side, p, l));
        if m.depth.is_synced() && !ladder.is_empty() {
            let mut level = 0;
            while left > 0 {
                let Some((p, q)) = ladder.level(level) else {
                    break;
                };
                if !ok(p) {
                    break;
                }
                push(&mut self.takes, &mut left, p, q.raw());
                level += 1;
            }
        } else if let Some(p) = m.top.taking_price(side)
            && ok(p)
        {
            push(&mut self.takes, &mut left, p, m.top.taking_qty(side).raw());
        }
        // A market order takes what the visible book lacks at its last
        // visible price.
        if left > 0
            && limit.is_none()
            && let Some(&(p, _)) = self.takes.last()
        {
            let all = left;
            push(&mut self.takes, &mut left, p, all);
        }
        // Merge repeated prices into one fill.
        self.takes.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 = Qty::from_raw(a.1.raw() + b.1.raw());
                true
            } else {
                false
            }
        });
        Qty::from_raw(qty.raw() - left)
    }

    /// The visible quantity at `price` on `side`'s own book side (the
    /// queue a new order joins); `None` when the data does not show it.
    pub(super) fn queue_at(&self, i: usize, side: Side, price: Price) -> Option<Qty> {
        let m = &self.markets[i];
        let ladder = match side {
            Side::Buy => m.depth.bids(),
            Side::Sell => m.depth.asks(),
        };
        let (best, best_qty) = match side {
            Side::Buy => (m.top.bid_price, m.top.bid_qty),
            Side::Sell => (m.top.ask_price, m.top.ask_qty),
        };
        if m.depth.is_synced() && !ladder.is_empty() {
            let mut level = 0;
            while let Some((p, q)) = ladder.level(level) {
                if p == price {
                    return Some(q);
                }
                if within(side, p, price) {
                    // Past our price without meeting it: an empty level.
                    return Some(Qty::ZERO);
                }
                level += 1;
            }
            return Some(Qty::ZERO);
        }
        let improves = match side {
            Side::Buy => price > best,
            Side::Sell => price < best,
        };
        if !m.top.is_valid() || improves {
            // Better than the best (or no book): first in line.
            return Some(Qty::ZERO);
        }
        (price == best).then_some(best_qty)
    }
}
