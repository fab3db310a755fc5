//! Exact decimal fixed-point numbers: [`Price`], [`Qty`] and [`Money`].
//!
//! # What this module owns
//! Every price, quantity and amount of money in autobot is an `i64` count of
//! 10^-8 units ([`SCALE`]). Decimal scaling means `0.1` is exactly `10_000_000`,
//! so tick and step sizes, exchange filters and PnL are exact; binary floats and
//! binary fixed-point (the `fixed` crate) cannot represent `0.1` and are therefore
//! never used for these values (see `docs/numbers.md`).
//!
//! # Invariants
//! - One scale for all three types, so adding a fee to a PnL or comparing a price
//!   with a tick needs no rescaling. Per-instrument precision (tick size, step
//!   size) is a property of the instrument, applied by [`Price::round_to`] /
//!   [`Qty::round_to`], not of the number.
//! - Arithmetic that can overflow is `checked_*` and returns `None`; products go
//!   through `i128` and are rounded back with an explicit [`Rounding`].
//! - Parsing is exact: more than 8 fractional digits is an error unless the
//!   extra digits are zeros; nothing is silently rounded.

use std::fmt;
use std::str::FromStr;

/// Decimal digits after the point carried by every fixed-point value.
pub const SCALE_DIGITS: u32 = 8;
/// `10^SCALE_DIGITS`: the raw value of `1`.
pub const SCALE: i64 = 100_000_000;

/// How a value that falls between two representable steps is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
    /// Toward zero (never increases the magnitude: the rule for order sizes).
    TowardZero,
    /// To the nearest step, ties to the even step (unbiased; the rule for money).
    HalfEven,
}

/// Why a decimal string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The string was empty or only a sign.
    #[error("empty number")]
    Empty,
    /// A character other than digits, one `.` and a leading sign.
    #[error("not a plain decimal number (digits, one '.', optional sign)")]
    InvalidChar,
    /// Non-zero digits beyond the 8th fractional digit.
    #[error("more than 8 decimal places")]
    TooPrecise,
    /// The value does not fit the 64-bit scaled representation.
    #[error("number too large")]
    Overflow,
}

/// Divides `num` by `den` (> 0) with the given rounding, exactly: the one
/// rounding routine every fixed-point product goes through.
pub fn div_round(num: i128, den: i128, mode: Rounding) -> i128 {
    debug_assert!(den > 0, "div_round needs a positive divisor");
    // Floor quotient and remainder (0 <= r < den) with one division: a
    // 64-bit one when both fit (most prices × quantities do), since a
    // 128-bit division is a slow library call.
    let (q, r) = match (i64::try_from(num), i64::try_from(den)) {
        (Ok(n), Ok(d)) => (i128::from(n.div_euclid(d)), i128::from(n.rem_euclid(d))),
        _ => {
            let q = num.div_euclid(den);
            (q, num - q * den)
        }
    };
    if r == 0 {
        return q;
    }
    match mode {
        Rounding::Floor => q,
        Rounding::Ceil => q + 1,
        Rounding::TowardZero => {
            if num < 0 {
                q + 1
            } else {
                q
            }
        }
        Rounding::HalfEven => match (2 * r).cmp(&den) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q & 1),
        },
    }
}

/// 10^(8 - k): the scale of a fraction of `k` digits.
const FRACTION_SCALE: [u64; 9] = [
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// One pass over the bytes in 64-bit arithmetic: every price of an import
/// and of the market feed comes through here. At most 19 integer digits
/// cannot overflow a `u64` (10^19 - 1 < 2^64), so only longer integer
/// parts take the checked loop.
fn parse_scaled(s: &[u8]) -> Result<i64, DecimalError> {
    let (neg, body) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    if body.is_empty() || body == b"." {
        return Err(DecimalError::Empty);
    }
    let digit = |b: u8| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            Err(DecimalError::InvalidChar)
        } else {
            Ok(u64::from(d))
        }
    };
    let point = body.iter().position(|&b| b == b'.').unwrap_or(body.len());
    let mut int: u64 = 0;
    if point <= 19 {
        for &b in &body[..point] {
            int = int * 10 + digit(b)?;
        }
    } else {
        for &b in &body[..point] {
            let d = digit(b)?;
            int = int
                .checked_mul(10)
                .and_then(|v| v.checked_add(d))
                .ok_or(DecimalError::Overflow)?;
        }
    }
    let mut frac: u64 = 0;
    let mut frac_digits = 0usize;
    for &b in body.get(point + 1..).unwrap_or_default() {
        let d = digit(b)?;
        if frac_digits < SCALE_DIGITS as usize {
            frac = frac * 10 + d;
            frac_digits += 1;
        } else if d != 0 {
            return Err(DecimalError::TooPrecise);
        }
    }
    let total = int
        .checked_mul(SCALE as u64)
        .and_then(|v| v.checked_add(frac * FRACTION_SCALE[frac_digits]))
        .ok_or(DecimalError::Overflow)?;
    if neg {
        0i64.checked_sub_unsigned(total)
    } else {
        i64::try_from(total).ok()
    }
    .ok_or(DecimalError::Overflow)
}

fn fmt_scaled(raw: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let neg = raw < 0;
    let abs = raw.unsigned_abs();
    let int = abs / SCALE as u64;
    let frac = abs % SCALE as u64;
    let sign = if neg { "-" } else { "" };
    if let Some(places) = f.precision() {
        // Fixed number of places: used for instrument precision in reports.
        let places = places.min(SCALE_DIGITS as usize);
        let shown = frac / 10u64.pow(SCALE_DIGITS - places as u32);
        if places == 0 {
            return write!(f, "{sign}{int}");
        }
        return write!(f, "{sign}{int}.{shown:0places$}");
    }
    if frac == 0 {
        return write!(f, "{sign}{int}");
    }
    // Strip trailing zeros arithmetically: order serialisation formats
    // prices on the execution path, which must not allocate.
    let (mut shown, mut places) = (frac, SCALE_DIGITS as usize);
    while shown % 10 == 0 {
        shown /= 10;
        places -= 1;
    }
    write!(f, "{sign}{int}.{shown:0places$}")
}

macro_rules! scaled_decimal {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
            rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
        )]
        #[rkyv(derive(Debug, PartialEq))]
        #[repr(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// The largest representable value.
            pub const MAX: Self = Self(i64::MAX);
            /// One whole unit.
            pub const ONE: Self = Self(SCALE);

            /// Builds from a raw count of 10^-8 units.
            #[inline]
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw count of 10^-8 units.
            #[inline]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// A whole number of units; `None` on overflow.
            pub const fn from_units(units: i64) -> Option<Self> {
                match units.checked_mul(SCALE) {
                    Some(raw) => Some(Self(raw)),
                    None => None,
                }
            }

            /// Parses an exact decimal such as `"60000.10"`.
            pub fn parse(s: &str) -> Result<Self, DecimalError> {
                parse_scaled(s.trim().as_bytes()).map(Self)
            }

            /// [`Self::parse`] of bytes, as a data file holds them: the
            /// common case (ASCII, no surrounding space but ASCII's) without
            /// the UTF-8 check; anything else as text, to the same answer.
            #[inline]
            pub fn parse_bytes(b: &[u8]) -> Result<Self, DecimalError> {
                match parse_scaled(b.trim_ascii()) {
                    Ok(raw) => Ok(Self(raw)),
                    Err(e) => match std::str::from_utf8(b) {
                        Ok(text) => Self::parse(text),
                        Err(_) => Err(e),
                    },
                }
            }

            /// `self + rhs`, `None` on overflow.
            #[inline]
            pub const fn checked_add(self, rhs: Self) -> Option<Self> {
                match self.0.checked_add(rhs.0) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// `self - rhs`, `None` on overflow.
            #[inline]
            pub const fn checked_sub(self, rhs: Self) -> Option<Self> {
                match self.0.checked_sub(rhs.0) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// `-self`, `None` for the one value that has no negation.
            #[inline]
            pub const fn checked_neg(self) -> Option<Self> {
                match self.0.checked_neg() {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// `|self|`, `None` for `i64::MIN`.
            #[inline]
            pub const fn checked_abs(self) -> Option<Self> {
                match self.0.checked_abs() {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// `true` when below zero.
            #[inline]
            pub const fn is_negative(self) -> bool {
                self.0 < 0
            }

            /// `true` when zero.
            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// `true` when above zero.
            #[inline]
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            /// Rounds to a multiple of `step` (> 0) with `mode`.
            /// `None` when `step` is not positive or the result overflows.
            pub fn round_to(self, step: Self, mode: Rounding) -> Option<Self> {
                if step.0 <= 0 {
                    return None;
                }
                let steps = div_round(i128::from(self.0), i128::from(step.0), mode);
                i64::try_from(steps * i128::from(step.0)).ok().map(Self)
            }

            /// `true` when `self` is an exact multiple of `step` (> 0).
            pub const fn is_multiple_of(self, step: Self) -> bool {
                step.0 > 0 && self.0 % step.0 == 0
            }

            /// `x` rounded to the nearest 10^-8 (halves away from zero), or
            /// `None` if it is not finite or out of range. For values
            /// derived from indicators (trigger levels, audit figures),
            /// never an order price or quantity.
            #[inline]
            pub fn from_f64(x: f64) -> Option<Self> {
                let raw = (x * SCALE as f64).round();
                (raw.is_finite() && raw.abs() < 9.2e18).then(|| Self(raw as i64))
            }

            /// The value as `f64`, for indicators and reports only; never
            /// feed it back into an order.
            #[inline]
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / SCALE as f64
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_scaled(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            /// Accepts a string (`"0.10"`) or an integer; refuses floats, which
            /// cannot carry an exact decimal.
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a decimal as a string, e.g. \"0.10\"")
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        $name::parse(s).map_err(|e| E::custom(format!("\"{s}\": {e}")))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        $name::from_units(v).ok_or_else(|| E::custom("number too large"))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        i64::try_from(v)
                            .ok()
                            .and_then($name::from_units)
                            .ok_or_else(|| E::custom("number too large"))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{v} is a float; write decimals as strings, e.g. \"{v}\", so they stay exact"
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

scaled_decimal!(
    /// A price in quote currency (USDT), exact to 10^-8.
    Price
);
scaled_decimal!(
    /// A quantity in base units (contracts), exact to 10^-8; signed so a
    /// position can be short.
    Qty
);
scaled_decimal!(
    /// An amount of quote currency (PnL, fees, notional), exact to 10^-8.
    Money
);
scaled_decimal!(
    /// A dimensionless ratio such as a funding rate (`0.0001` = 1 bp), exact to 10^-8.
    Rate
);

impl Money {
    /// `price × qty`, rounded to 10^-8 with `mode`; `None` on overflow.
    pub fn notional(price: Price, qty: Qty, mode: Rounding) -> Option<Self> {
        let product = i128::from(price.raw()) * i128::from(qty.raw());
        i64::try_from(div_round(product, i128::from(SCALE), mode))
            .ok()
            .map(Self)
    }

    /// `self × num / den` (den > 0) rounded with `mode`: fees in basis points,
    /// shares of a position. `None` on overflow or a non-positive `den`.
    pub fn mul_ratio(self, num: i64, den: i64, mode: Rounding) -> Option<Self> {
        if den <= 0 {
            return None;
        }
        let product = i128::from(self.raw()) * i128::from(num);
        i64::try_from(div_round(product, i128::from(den), mode))
            .ok()
            .map(Self)
    }
}

impl Price {
    /// The mid point of two prices, rounded half-even to 10^-8.
    #[inline]
    pub fn mid(a: Price, b: Price) -> Price {
        let sum = i128::from(a.raw()) + i128::from(b.raw());
        // `div_round(sum, 2, HalfEven)` without a division (every book
        // ticker takes a few mids): the floor is a shift; a remainder of
        // one is exactly half, which goes to the even neighbour.
        let floor = sum >> 1;
        let odd = sum & 1;
        // The mean of two i64 always fits an i64.
        Price((floor + (odd & floor & 1)) as i64)
    }

    /// Number of decimal places needed to show multiples of this tick.
    pub fn decimals(self) -> u8 {
        decimals_of(self.0)
    }
}

impl Qty {
    /// Number of decimal places needed to show multiples of this step.
    pub fn decimals(self) -> u8 {
        decimals_of(self.0)
    }
}

fn decimals_of(raw: i64) -> u8 {
    if raw == 0 {
        return 0;
    }
    let mut places = SCALE_DIGITS as u8;
    let mut r = raw;
    while places > 0 && r % 10 == 0 {
        r /= 10;
        places -= 1;
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Price::parse("0.1").unwrap().raw(), 10_000_000);
        assert_eq!(Price::parse("60000.10").unwrap().raw(), 6_000_010_000_000);
        assert_eq!(Qty::parse("-0.001").unwrap().raw(), -100_000);
        assert_eq!(Qty::parse("1.000000000000").unwrap(), Qty::ONE);
        assert_eq!(Price::parse("5").unwrap(), Price::from_units(5).unwrap());
    }

    #[test]
    fn refuses_what_is_not_exact() {
        assert_eq!(Price::parse("0.000000001"), Err(DecimalError::TooPrecise));
        assert_eq!(Price::parse("1e5"), Err(DecimalError::InvalidChar));
        assert_eq!(Price::parse(""), Err(DecimalError::Empty));
        assert_eq!(Price::parse("-"), Err(DecimalError::Empty));
        assert_eq!(Price::parse("1.2.3"), Err(DecimalError::InvalidChar));
        assert_eq!(Price::parse("99999999999999"), Err(DecimalError::Overflow));
    }

    #[test]
    fn displays_shortest_and_fixed() {
        assert_eq!(Price::parse("60000.10").unwrap().to_string(), "60000.1");
        assert_eq!(
            format!("{:.2}", Price::parse("60000.1").unwrap()),
            "60000.10"
        );
        assert_eq!(Qty::parse("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(Price::parse("0.10").unwrap().decimals(), 1);
        assert_eq!(Qty::parse("0.001").unwrap().decimals(), 3);
    }

    #[test]
    fn rounds_to_tick() {
        let tick = Price::parse("0.1").unwrap();
        let p = Price::parse("100.15").unwrap();
        assert_eq!(
            p.round_to(tick, Rounding::Floor).unwrap().to_string(),
            "100.1"
        );
        assert_eq!(
            p.round_to(tick, Rounding::Ceil).unwrap().to_string(),
            "100.2"
        );
        assert_eq!(
            p.round_to(tick, Rounding::HalfEven).unwrap().to_string(),
            "100.2"
        );
        let q = Qty::parse("-0.0015").unwrap();
        let step = Qty::parse("0.001").unwrap();
        assert_eq!(
            q.round_to(step, Rounding::TowardZero).unwrap().to_string(),
            "-0.001"
        );
        assert_eq!(q.round_to(Qty::ZERO, Rounding::Floor), None);
    }

    #[test]
    fn notional_and_fees_are_exact() {
        let px = Price::parse("60000.1").unwrap();
        let q = Qty::parse("0.001").unwrap();
        let n = Money::notional(px, q, Rounding::HalfEven).unwrap();
        assert_eq!(n.to_string(), "60.0001");
        // 4 bps taker fee
        let fee = n.mul_ratio(4, 10_000, Rounding::HalfEven).unwrap();
        assert_eq!(fee.to_string(), "0.02400004");
    }

    /// The parse as first written: i128 arithmetic, checked per digit.
    fn reference(s: &str) -> Result<i64, DecimalError> {
        let (neg, body) = match s.as_bytes() {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            all => (false, all),
        };
        if body.is_empty() || body == b"." {
            return Err(DecimalError::Empty);
        }
        let point = body.iter().position(|&b| b == b'.').unwrap_or(body.len());
        let mut int: u64 = 0;
        for &b in &body[..point] {
            if !b.is_ascii_digit() {
                return Err(DecimalError::InvalidChar);
            }
            int = int
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or(DecimalError::Overflow)?;
        }
        let (mut frac, mut n) = (0u64, 0u32);
        for &b in body.get(point + 1..).unwrap_or_default() {
            if !b.is_ascii_digit() {
                return Err(DecimalError::InvalidChar);
            }
            if n < SCALE_DIGITS {
                frac = frac * 10 + u64::from(b - b'0');
                n += 1;
            } else if b != b'0' {
                return Err(DecimalError::TooPrecise);
            }
        }
        frac *= 10u64.pow(SCALE_DIGITS - n);
        let total = i128::from(int) * i128::from(SCALE) + i128::from(frac);
        i64::try_from(if neg { -total } else { total }).map_err(|_| DecimalError::Overflow)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn the_mid_is_the_half_even_mean(a in proptest::num::i64::ANY, b in proptest::num::i64::ANY) {
            let sum = i128::from(a) + i128::from(b);
            let expected = div_round(sum, 2, Rounding::HalfEven) as i64;
            proptest::prop_assert_eq!(Price::mid(Price(a), Price(b)).raw(), expected);
            // Near zero and at the halves, where the rounding turns.
            let (x, y) = (a % 7, b % 7);
            let near = div_round(i128::from(x) + i128::from(y), 2, Rounding::HalfEven) as i64;
            proptest::prop_assert_eq!(Price::mid(Price(x), Price(y)).raw(), near);
        }

        #[test]
        fn parse_agrees_with_the_reference(s in "[-+]?[0-9]{0,22}(\\.[0-9]{0,12})?[x ]?") {
            proptest::prop_assert_eq!(Price::parse(&s).map(Price::raw), reference(s.trim()));
            proptest::prop_assert_eq!(Price::parse_bytes(s.as_bytes()).map(Price::raw), reference(s.trim()));
        }
    }

    #[test]
    fn parse_bytes_takes_what_parse_takes() {
        for s in [
            "60000.10",
            " 1.5 ",
            "\u{a0}2\u{a0}",
            "-0",
            "9223372036.85477580",
            "-92233720368.54775808",
        ] {
            assert_eq!(Price::parse_bytes(s.as_bytes()), Price::parse(s), "{s:?}");
        }
        assert_eq!(
            Price::parse("-92233720368.54775808").map(Price::raw),
            Ok(i64::MIN)
        );
        assert_eq!(Price::parse_bytes(b"1\xff"), Err(DecimalError::InvalidChar));
    }
}
