//! The margin account: wallet balance, the ledger behind it, equity, the
//! UTC day's PnL and the drawdown from the high-water mark.
//!
//! # Invariants
//! - `balance = start + realized − fees + funding`, exactly: every change of
//!   the balance goes through [`Account::on_fill`] or [`Account::on_funding`],
//!   which book the same amount in the ledger (a property test checks it).
//! - Equity is `balance + Σ unrealized`, where the unrealized sum is kept
//!   incrementally from per-symbol changes, so reading it is O(1).
//! - The day is the UTC day of event time (`now / 86400 s`); day 0 means
//!   "no time seen yet".
//! - The accounting (the day's PnL from the day's starting equity, the
//!   drawdown from the high-water mark) is never rebased by an operator.
//!   The daily-loss and drawdown *limits* compare against their own bases,
//!   equal to the accounting's unless an operator overrode a halt: the
//!   override re-arms that limit from the equity at that moment (the day
//!   base until the next UTC day; the limit's high-water mark from then on)
//!   and is flagged for the status.

use crate::types::{Money, Rate, Rounding, SCALE, UnixNanos, div_round_i128 as div_round};

const DAY_NANOS: u64 = 86_400 * 1_000_000_000;

/// The account of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Account {
    start: Money,
    balance: Money,
    realized: Money,
    fees: Money,
    funding: Money,
    unrealized: Money,
    day: u64,
    day_start_equity: Money,
    high_water: Money,
    /// Equity the daily-loss limit counts from (the day's start, or an
    /// override later that day).
    limit_day_start: Money,
    /// High-water mark the drawdown limit counts from (the account's, or
    /// one restarted by an override).
    limit_high_water: Money,
    /// The day-loss limit was re-armed by an operator override today.
    day_loss_overridden: bool,
    /// The drawdown limit was re-armed by an operator override.
    drawdown_overridden: bool,
    /// Wallet reconciliation: 0 agrees, 1 differed once, 2 differs
    /// (alerted).
    wallet_drift: u8,
}

/// `part / whole` as a ratio, rounded toward zero; zero for a
/// non-positive `whole`.
fn ratio(part: Money, whole: Money) -> Rate {
    if !whole.is_positive() {
        return Rate::ZERO;
    }
    let r = div_round(
        i128::from(part.raw()) * i128::from(SCALE),
        i128::from(whole.raw()),
        Rounding::TowardZero,
    );
    Rate::from_raw(i64::try_from(r).unwrap_or(i64::MAX))
}

/// `ratio(part, whole) >= limit`, exactly, without the division (the
/// breakers ask on every revaluation): for part ≥ 0 and whole > 0 the
/// ratio is floor(part × S / whole), and floor(x) ≥ L ⇔ x ≥ L for a whole L.
fn ratio_reaches(part: Money, whole: Money, limit: Rate) -> bool {
    if !whole.is_positive() || part.is_negative() {
        return ratio(part, whole) >= limit;
    }
    i128::from(part.raw()) * i128::from(SCALE) >= i128::from(limit.raw()) * i128::from(whole.raw())
}

impl Account {
    /// `limit_daily_loss() >= limit`, without dividing.
    pub fn daily_loss_reaches(&self, limit: Rate) -> bool {
        match self.loss_from(self.limit_day_start) {
            Some(loss) => ratio_reaches(loss, self.limit_day_start, limit),
            None => Rate::ZERO >= limit,
        }
    }

    /// `limit_drawdown() >= limit`, without dividing.
    pub fn drawdown_reaches(&self, limit: Rate) -> bool {
        match self.loss_from(self.limit_high_water) {
            Some(below) => ratio_reaches(below, self.limit_high_water, limit),
            None => Rate::ZERO >= limit,
        }
    }

    /// How far equity is below `base`, if it is.
    fn loss_from(&self, base: Money) -> Option<Money> {
        base.checked_sub(self.equity()).filter(|m| m.is_positive())
    }

    /// The day's loss the daily-loss limit compares (as [`Account::daily_loss`],
    /// from an override's base after an override).
    pub fn limit_daily_loss(&self) -> Rate {
        self.loss_from(self.limit_day_start)
            .map_or(Rate::ZERO, |l| ratio(l, self.limit_day_start))
    }

    /// The drawdown the drawdown limit compares (as [`Account::drawdown`],
    /// from an override's high-water mark after an override).
    pub fn limit_drawdown(&self) -> Rate {
        self.loss_from(self.limit_high_water)
            .map_or(Rate::ZERO, |l| ratio(l, self.limit_high_water))
    }

    /// The day-loss limit counts from the equity now until the next UTC
    /// day (an operator's explicit override of a daily-loss halt).
    pub fn override_day_loss(&mut self) {
        self.limit_day_start = self.equity();
        self.day_loss_overridden = true;
    }

    /// The drawdown limit counts from a high-water mark at the equity now
    /// (an operator's explicit override of a drawdown halt).
    pub fn override_drawdown(&mut self) {
        self.limit_high_water = self.equity();
        self.drawdown_overridden = true;
    }

    /// Whether today's day-loss limit was re-armed by an override.
    pub fn day_loss_overridden(&self) -> bool {
        self.day_loss_overridden
    }

    /// Whether the drawdown limit was re-armed by an override.
    pub fn drawdown_overridden(&self) -> bool {
        self.drawdown_overridden
    }

    /// A fresh account holding `start`.
    pub fn new(start: Money) -> Account {
        Account {
            start,
            balance: start,
            realized: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
            unrealized: Money::ZERO,
            day: 0,
            day_start_equity: start,
            high_water: start,
            limit_day_start: start,
            limit_high_water: start,
            day_loss_overridden: false,
            drawdown_overridden: false,
            wallet_drift: 0,
        }
    }

    /// Periodic reconciliation of the wallet: the exchange holds `theirs`;
    /// `busy` when an order is in flight. As for positions, a difference is
    /// believed when seen twice in a row with no order in flight (a fill or
    /// funding the REST read saw first is not drift). `true` once when the
    /// difference is believed, so it is alerted once until they agree
    /// again. It changes nothing else: fees and funding the core does not
    /// model are the operator's to judge.
    pub fn reconcile_wallet(&mut self, theirs: Money, busy: bool) -> bool {
        let was = self.wallet_drift;
        let now = if theirs == self.balance {
            0
        } else if busy {
            was.min(1)
        } else {
            (was + 1).min(2)
        };
        self.wallet_drift = now;
        now == 2 && was < 2
    }

    /// Wallet balance.
    pub fn balance(&self) -> Money {
        self.balance
    }

    /// Balance when the account started.
    pub fn start(&self) -> Money {
        self.start
    }

    /// Realized PnL booked (before fees).
    pub fn realized(&self) -> Money {
        self.realized
    }

    /// Fees paid.
    pub fn fees(&self) -> Money {
        self.fees
    }

    /// Funding received (negative = paid).
    pub fn funding(&self) -> Money {
        self.funding
    }

    /// Unrealized PnL of every position at mark.
    pub fn unrealized(&self) -> Money {
        self.unrealized
    }

    /// Balance plus unrealized PnL.
    pub fn equity(&self) -> Money {
        self.balance
            .checked_add(self.unrealized)
            .unwrap_or(self.balance)
    }

    /// Equity change since the UTC day began.
    pub fn daily_pnl(&self) -> Money {
        self.equity()
            .checked_sub(self.day_start_equity)
            .unwrap_or(Money::ZERO)
    }

    /// The day's loss as a fraction of the day's starting equity (0 when up).
    pub fn daily_loss(&self) -> Rate {
        let pnl = self.daily_pnl();
        if pnl.is_negative() {
            ratio(
                pnl.checked_neg().unwrap_or(Money::MAX),
                self.day_start_equity,
            )
        } else {
            Rate::ZERO
        }
    }

    /// Highest equity seen.
    pub fn high_water(&self) -> Money {
        self.high_water
    }

    /// Drawdown from the high-water mark as a fraction of it.
    pub fn drawdown(&self) -> Rate {
        let below = self
            .high_water
            .checked_sub(self.equity())
            .unwrap_or(Money::ZERO);
        if below.is_positive() {
            ratio(below, self.high_water)
        } else {
            Rate::ZERO
        }
    }

    /// Books a fill's realized PnL and fee. `None` (nothing changed) on overflow.
    pub fn on_fill(&mut self, realized: Money, fee: Money) -> Option<()> {
        let next = Account {
            balance: self.balance.checked_add(realized)?.checked_sub(fee)?,
            realized: self.realized.checked_add(realized)?,
            fees: self.fees.checked_add(fee)?,
            ..*self
        };
        *self = next;
        self.mark_high_water();
        Some(())
    }

    /// Books a funding payment (positive = received).
    pub fn on_funding(&mut self, amount: Money) -> Option<()> {
        let next = Account {
            balance: self.balance.checked_add(amount)?,
            funding: self.funding.checked_add(amount)?,
            ..*self
        };
        *self = next;
        self.mark_high_water();
        Some(())
    }

    /// Moves the unrealized sum by one symbol's change.
    pub fn shift_unrealized(&mut self, delta: Money) {
        if let Some(u) = self.unrealized.checked_add(delta) {
            self.unrealized = u;
            self.mark_high_water();
        }
    }

    fn mark_high_water(&mut self) {
        let e = self.equity();
        self.high_water = self.high_water.max(e);
        self.limit_high_water = self.limit_high_water.max(e);
    }

    /// Enters the UTC day of `now`; `true` if a new day began (not on the
    /// first time seen).
    pub fn roll_day(&mut self, now: UnixNanos) -> bool {
        let day = now.0 / DAY_NANOS + 1;
        if day <= self.day {
            return false;
        }
        let first = self.day == 0;
        self.day = day;
        self.day_start_equity = self.equity();
        self.limit_day_start = self.day_start_equity;
        self.day_loss_overridden = false;
        !first
    }

    /// Whether nothing has been booked yet (no fill, fee or funding).
    pub fn is_fresh(&self) -> bool {
        self.balance == self.start
            && self.realized.is_zero()
            && self.fees.is_zero()
            && self.funding.is_zero()
    }

    /// A fresh account that starts from `wallet` instead (the exchange's
    /// balance at start), keeping the unrealized sum and the day.
    pub fn started_from(&self, wallet: Money) -> Account {
        let mut a = Account {
            unrealized: self.unrealized,
            day: self.day,
            ..Account::new(wallet)
        };
        a.rebase();
        a
    }

    /// The account as found at start (reconciliation with the exchange):
    /// the day's loss and the drawdown count from here. Never an operator's
    /// reset, which keeps the accounting.
    pub fn rebase(&mut self) {
        let e = self.equity();
        self.day_start_equity = e;
        self.high_water = e;
        self.limit_day_start = e;
        self.limit_high_water = e;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wallet_difference_is_believed_when_seen_twice_while_idle_and_told_once() {
        let start = Money::parse("1000").unwrap();
        let mut a = Account::new(start);
        let off = Money::parse("999.5").unwrap();
        assert!(!a.reconcile_wallet(off, false), "once is not believed");
        assert!(a.reconcile_wallet(off, false), "twice in a row is");
        assert!(!a.reconcile_wallet(off, false), "told once");
        assert!(!a.reconcile_wallet(start, false));
        let busy = true;
        assert!(
            !a.reconcile_wallet(off, busy),
            "an order in flight explains it"
        );
        assert!(!a.reconcile_wallet(off, busy));
        assert!(!a.reconcile_wallet(off, false), "first sighting while idle");
        assert!(a.reconcile_wallet(off, false));
    }

    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn the_ledger_explains_the_balance() {
        let mut a = Account::new(m("10000"));
        a.on_fill(m("-120.5"), m("2.4")).unwrap();
        a.on_funding(m("-0.6")).unwrap();
        a.on_fill(m("30"), m("1")).unwrap();
        let ledger = a.realized().raw() - a.fees().raw() + a.funding().raw();
        assert_eq!(a.balance().raw() - a.start().raw(), ledger);
        assert_eq!(a.balance(), m("9905.5"));
    }

    #[test]
    fn daily_loss_and_drawdown_by_hand() {
        let mut a = Account::new(m("10000"));
        assert!(!a.roll_day(UnixNanos(5)));
        a.shift_unrealized(m("500")); // high water 10500
        a.shift_unrealized(m("-800")); // equity 9700
        assert_eq!(a.daily_loss(), Rate::parse("0.03").unwrap());
        // (10500 − 9700) / 10500 = 0.0761904761…, toward zero.
        assert_eq!(a.drawdown(), Rate::parse("0.07619047").unwrap());
        assert!(a.roll_day(UnixNanos(DAY_NANOS + 1)));
        assert_eq!(a.daily_loss(), Rate::ZERO);
        assert_eq!(a.drawdown(), Rate::parse("0.07619047").unwrap());
        a.rebase();
        assert_eq!(a.drawdown(), Rate::ZERO);
    }

    proptest::proptest! {
        /// The division-free breaker tests are exactly the ratios compared.
        #[test]
        fn ratio_reaches_is_the_ratio_compared(
            part in -1_000_000_000_000i64..1_000_000_000_000,
            whole in -1_000_000_000_000i64..1_000_000_000_000,
            limit in 0i64..200_000_000,
        ) {
            let (p, w, l) = (Money::from_raw(part), Money::from_raw(whole), Rate::from_raw(limit));
            proptest::prop_assert_eq!(ratio_reaches(p, w, l), ratio(p, w) >= l);
        }
    }
}
