//! Property tests of the fixed-point types: rounding and overflow.

use autobot_engine::types::{Money, Price, Qty, Rounding};
use proptest::prelude::*;

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Floor),
        Just(Rounding::Ceil),
        Just(Rounding::TowardZero),
        Just(Rounding::HalfEven),
    ]
}

proptest! {
    #[test]
    fn rounding_lands_on_a_step_within_one_step(
        raw in -1_000_000_000_000_000i64..1_000_000_000_000_000,
        step in 1i64..10_000_000_000,
        mode in rounding(),
    ) {
        let p = Price::from_raw(raw);
        let step = Price::from_raw(step);
        let r = p.round_to(step, mode).unwrap();
        prop_assert!(r.is_multiple_of(step));
        prop_assert!((r.raw() - p.raw()).abs() < step.raw());
        match mode {
            Rounding::Floor => prop_assert!(r <= p),
            Rounding::Ceil => prop_assert!(r >= p),
            Rounding::TowardZero => prop_assert!(r.raw().abs() <= p.raw().abs()),
            Rounding::HalfEven => prop_assert!(2 * (r.raw() - p.raw()).abs() <= step.raw()),
        }
        // Rounding is idempotent.
        prop_assert_eq!(r.round_to(step, mode), Some(r));
    }

    #[test]
    fn qty_rounding_never_grows_an_order(raw in 0i64..i64::MAX / 2, step in 1i64..1_000_000_000) {
        let q = Qty::from_raw(raw).round_to(Qty::from_raw(step), Rounding::TowardZero).unwrap();
        prop_assert!(q.raw() <= raw);
    }

    #[test]
    fn checked_arithmetic_reports_overflow_instead_of_wrapping(a in any::<i64>(), b in any::<i64>()) {
        let (pa, pb) = (Qty::from_raw(a), Qty::from_raw(b));
        prop_assert_eq!(pa.checked_add(pb).map(Qty::raw), a.checked_add(b));
        prop_assert_eq!(pa.checked_sub(pb).map(Qty::raw), a.checked_sub(b));
        prop_assert_eq!(pa.checked_neg().map(Qty::raw), a.checked_neg());
    }

    #[test]
    fn rounding_near_the_limits_never_panics(raw in any::<i64>(), step in any::<i64>(), mode in rounding()) {
        let r = Price::from_raw(raw).round_to(Price::from_raw(step), mode);
        if step <= 0 {
            prop_assert_eq!(r, None);
        }
    }

    #[test]
    fn notional_is_exact_or_none(p in any::<i64>(), q in any::<i64>()) {
        let exact = i128::from(p) * i128::from(q);
        match Money::notional(Price::from_raw(p), Qty::from_raw(q), Rounding::Floor) {
            Some(m) => prop_assert_eq!(i128::from(m.raw()), exact.div_euclid(100_000_000)),
            None => prop_assert!(i64::try_from(exact.div_euclid(100_000_000)).is_err()),
        }
    }

    #[test]
    fn display_then_parse_round_trips(raw in any::<i64>()) {
        let p = Price::from_raw(raw);
        prop_assert_eq!(Price::parse(&p.to_string()), Ok(p));
    }
}
