//! What the exchange shows of a symbol and of the account, for an
//! adapter's REST answers (the simulator's tickers, premium index,
//! positions and balances): read-only views of the model's state.

use autobot_engine::types::{
    CrossMargin, Money, Price, Qty, Rate, Rounding, SymbolId, UnixNanos, liquidation_price,
};

use crate::Exchange;

/// One symbol's prices and the account's position in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolView {
    /// Best bid and its quantity (zero before the first quote).
    pub bid: (Price, Qty),
    /// Best ask and its quantity.
    pub ask: (Price, Qty),
    /// The contract (last) price: last trade, else mid.
    pub last: Option<Price>,
    /// The mark positions are valued at.
    pub mark: Option<Price>,
    /// The funding rate in force and the next funding time (0 unknown).
    pub funding: (Rate, UnixNanos),
    /// Signed position and its average entry (zero when flat).
    pub position: (Qty, Price),
    /// Unrealized PnL at the mark.
    pub unrealized: Money,
    /// |position| × mark.
    pub notional: Money,
    /// Maintenance margin of the position.
    pub maintenance: Money,
    /// Cross-margin liquidation price (none when flat or unreachable).
    pub liquidation: Option<Price>,
}

/// The account's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// Wallet balance.
    pub wallet: Money,
    /// Unrealized PnL of every position.
    pub unrealized: Money,
    /// Initial margin of the positions (notional / leverage).
    pub position_margin: Money,
    /// Maintenance margin of the positions.
    pub maintenance: Money,
    /// Wallet + unrealized − initial margin, never below zero.
    pub available: Money,
}

impl Exchange {
    /// The leverage of `sym` (initial margin = notional / leverage); the
    /// account's for an unknown symbol.
    pub fn leverage(&self, sym: SymbolId) -> u32 {
        self.markets
            .get(usize::from(sym.0))
            .map_or(self.rules.leverage, |m| m.leverage)
    }

    /// Sets the leverage of `sym`'s new positions (1 ..= 125; other values
    /// are the caller's to refuse), as Binance sets it: per symbol.
    pub fn set_leverage(&mut self, sym: SymbolId, leverage: u32) {
        if let Some(m) = self.markets.get_mut(usize::from(sym.0)) {
            m.leverage = leverage.clamp(1, 125);
        }
    }

    /// What the exchange shows of `sym`; `None` for an unknown symbol.
    pub fn view(&self, sym: SymbolId) -> Option<SymbolView> {
        let i = usize::from(sym.0);
        let m = self.markets.get(i)?;
        let mark = self.mark_of(i);
        let qty = m.position.qty();
        let (unrealized, notional, maintenance) = self.exposure(i).unwrap_or_default();
        let (rate, next) = if m.data_funding {
            (m.rate, m.next_funding)
        } else {
            (self.rules.funding_rate, self.next_funding)
        };
        let liquidation = match (mark, self.brackets.get(i)) {
            (Some(mark), Some(b)) if !qty.is_zero() => {
                let (other_mm, other_u) = (0..self.markets.len())
                    .filter(|&k| k != i)
                    .filter_map(|k| self.exposure(k))
                    .fold((Money::ZERO, Money::ZERO), |(mm, u), (eu, _, emm)| {
                        (
                            mm.checked_add(emm).unwrap_or(Money::MAX),
                            u.checked_add(eu).unwrap_or(Money::MAX),
                        )
                    });
                let margin = CrossMargin {
                    wallet: self.wallet,
                    other_maintenance: other_mm,
                    other_unrealized: other_u,
                };
                liquidation_price(b, qty, m.position.cost16(), mark, margin)
            }
            _ => None,
        };
        Some(SymbolView {
            bid: (m.top.bid_price, m.top.bid_qty),
            ask: (m.top.ask_price, m.top.ask_qty),
            last: self.contract_price(i),
            mark,
            funding: (rate, next),
            position: (qty, m.position.avg_entry().unwrap_or(Price::ZERO)),
            unrealized,
            notional,
            maintenance,
            liquidation,
        })
    }

    /// (unrealized, notional, maintenance) of symbol `i`'s position at
    /// its mark; `None` without a mark.
    fn exposure(&self, i: usize) -> Option<(Money, Money, Money)> {
        let m = &self.markets[i];
        let qty = m.position.qty();
        if qty.is_zero() {
            return Some((Money::ZERO, Money::ZERO, Money::ZERO));
        }
        let mark = self.mark_of(i)?;
        let notional = Money::notional(mark, Qty::from_raw(qty.raw().abs()), Rounding::HalfEven)?;
        let maintenance = match self.brackets.get(i) {
            Some(b) => b.maintenance(notional)?,
            None => Money::ZERO,
        };
        Some((m.position.unrealized(mark)?, notional, maintenance))
    }

    /// The account's totals at the marks.
    pub fn account_view(&self) -> AccountView {
        let mut v = AccountView {
            wallet: self.wallet,
            unrealized: Money::ZERO,
            position_margin: Money::ZERO,
            maintenance: Money::ZERO,
            available: Money::ZERO,
        };
        for i in 0..self.markets.len() {
            let Some((u, notional, mm)) = self.exposure(i) else {
                continue;
            };
            let lev = i64::from(self.markets[i].leverage.max(1));
            let im = Money::from_raw(notional.raw().div_euclid(lev));
            v.unrealized = v.unrealized.checked_add(u).unwrap_or(v.unrealized);
            v.position_margin = v.position_margin.checked_add(im).unwrap_or(Money::MAX);
            v.maintenance = v.maintenance.checked_add(mm).unwrap_or(Money::MAX);
        }
        let equity = v.wallet.checked_add(v.unrealized).unwrap_or(v.wallet);
        v.available = equity
            .checked_sub(v.position_margin)
            .filter(|a| a.is_positive())
            .unwrap_or(Money::ZERO);
        v
    }
}
