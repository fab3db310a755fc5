//! The DOM-free fast path for the hot market messages: `bookTicker`,
//! `trade` and `aggTrade`, bare or in the combined-stream envelope.
//!
//! # Why by hand
//! These are flat objects of short keys and scalar values, arriving
//! millions of times a second. Building a DOM for each (simd-json's tape
//! and its allocation) costs more than reading the bytes once: this scanner
//! walks the message a single time, remembers where the values of the keys
//! it needs are, and parses the decimals in place. No allocation.
//!
//! # Exactly the DOM parser's answers, or none
//! The scanner accepts only what it fully understands: objects of scalar
//! values (strings without escapes or non-ASCII bytes, integers of up to
//! 18 digits, `true` / `false` / `null`), the envelope's one nested `data`
//! object, no key of interest twice, nothing after the root. Anything else
//! — another event type, a nested value, an escape, a duplicate, a number
//! that is not a plain unsigned integer where one is read — is
//! [`Fast::Fallback`], and the DOM parser decides. What it does accept it
//! checks in the DOM parser's order with the same rules, so it gives the
//! same events or the same [`ParseError`]. A property test holds the two
//! paths to that on mangled real messages (`tests/corpus.rs`).

use autobot_engine::event::{BookTicker, InputBody, InputEvent, Source, Trade};
use autobot_engine::types::{MonoNanos, Price, Qty, UnixNanos};

use super::wire::{ParseError, Parsed, Symbols};

/// The fast path's verdict.
pub(super) enum Fast {
    /// Parsed (or refused) exactly as the DOM parser would.
    Done(Result<Parsed, ParseError>),
    /// Not a message this path reads; use the DOM parser.
    Fallback,
}

/// A scalar value, as its bytes.
#[derive(Clone, Copy)]
enum Val<'a> {
    Str(&'a [u8]),
    Num(&'a [u8]),
    Bool(bool),
    Null,
}

// Slots of the keys read from a payload.
const K_E: usize = 0;
const K_TIME: usize = 1;
const K_S: usize = 2;
const K_U: usize = 3;
const K_B: usize = 4;
const K_BQ: usize = 5;
const K_A: usize = 6;
const K_AQ: usize = 7;
const K_P: usize = 8;
const K_Q: usize = 9;
const K_T: usize = 10;
const K_M: usize = 11;
/// `X` (trade execution type) and `o` (a liquidation's order) are watched
/// too: `X` changes the outcome, and `o` means another message kind.
const K_X: usize = 12;

type Slots<'a> = [Option<Val<'a>>; 13];

struct Fallback;

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Result<(), Fallback> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// A string's bytes (the cursor is on its opening quote): printable
    /// ASCII without escapes only.
    #[inline]
    fn string(&mut self) -> Result<&'a [u8], Fallback> {
        let start = self.i + 1;
        let rest = self.b.get(start..).ok_or(Fallback)?;
        // One pass to the first byte that is not plain printable ASCII;
        // it must be the closing quote.
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || !(0x20..0x7f).contains(&c))
            .ok_or(Fallback)?;
        if rest[len] != b'"' {
            return Err(Fallback);
        }
        self.i = start + len + 1;
        Ok(&rest[..len])
    }

    /// An integer of at most 18 digits: what Binance's hot messages carry.
    /// Fractions, exponents and longer integers are where JSON parsers
    /// differ (range errors, float fallbacks), so they are the DOM's call.
    fn number(&mut self) -> Result<&'a [u8], Fallback> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.i;
        while self.peek().is_some_and(|d| d.is_ascii_digit()) {
            self.i += 1;
        }
        let n = self.i - digits;
        let leading_zero = n > 1 && self.b[digits] == b'0';
        if n == 0 || n > 18 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(Fallback);
        }
        Ok(&self.b[start..self.i])
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Fallback> {
        if self
            .b
            .get(self.i..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.i += word.len();
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// A scalar value (the cursor is on its first byte).
    fn scalar(&mut self) -> Result<Val<'a>, Fallback> {
        match self.peek() {
            Some(b'"') => self.string().map(Val::Str),
            Some(b't') => self.literal(b"true").map(|()| Val::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Val::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Val::Null),
            _ => self.number().map(Val::Num),
        }
    }

    /// A flat object of scalars (the cursor is past its `{`), keys of
    /// interest into `slots`.
    fn flat(&mut self, slots: &mut Slots<'a>) -> Result<(), Fallback> {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Fallback);
            }
            let key = self.string()?;
            self.eat(b':')?;
            self.ws();
            let v = self.scalar()?;
            record(slots, key, v)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Fallback),
            }
        }
    }
}

#[inline]
fn record<'a>(slots: &mut Slots<'a>, key: &[u8], v: Val<'a>) -> Result<(), Fallback> {
    let slot = match key {
        b"e" => K_E,
        b"E" => K_TIME,
        b"s" => K_S,
        b"u" => K_U,
        b"b" => K_B,
        b"B" => K_BQ,
        b"a" => K_A,
        b"A" => K_AQ,
        b"p" => K_P,
        b"q" => K_Q,
        b"t" => K_T,
        b"m" => K_M,
        b"X" => K_X,
        // A liquidation: the DOM parser reads its nested order.
        b"o" | b"lastUpdateId" => return Err(Fallback),
        _ => return Ok(()),
    };
    if slots[slot].is_some() {
        // Which duplicate a DOM keeps is its business.
        return Err(Fallback);
    }
    slots[slot] = Some(v);
    Ok(())
}

/// Where a known layout differs from the message (the slots are then to be
/// discarded and the general scan runs).
struct Differs;

impl<'a> Cursor<'a> {
    /// These bytes exactly. `l` is a constant at every call, so after
    /// inlining the comparison is a few instructions, not a memcmp call.
    #[inline(always)]
    fn lit(&mut self, l: &[u8]) -> Result<(), Differs> {
        let same = self
            .b
            .get(self.i..self.i + l.len())
            .is_some_and(|r| r.iter().zip(l).fold(true, |same, (a, b)| same & (a == b)));
        self.i += l.len();
        if same { Ok(()) } else { Err(Differs) }
    }

    /// A plain string's content, the cursor just past its opening quote
    /// (which ended the literal before); leaves the closing quote for the
    /// literal after.
    #[inline(always)]
    fn str_part(&mut self) -> Result<&'a [u8], Differs> {
        self.i -= 1;
        let s = self.string().map_err(|Fallback| Differs)?;
        self.i -= 1;
        Ok(s)
    }

    #[inline(always)]
    fn int_part(&mut self) -> Result<&'a [u8], Differs> {
        self.number().map_err(|Fallback| Differs)
    }

    #[inline(always)]
    fn bool_part(&mut self) -> Result<bool, Differs> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(Fallback),
        }
        .map_err(|Fallback| Differs)
    }
}

/// Straight-line code for one layout, key for key: literals, then values
/// into slots (`_` reads a value for validity only).
macro_rules! layout {
    ($c:ident, $slots:ident; $($part:ident ( $arg:tt )),* $(,)?) => {
        (|| -> Result<(), Differs> {
            $( layout!(@ $c, $slots, $part, $arg); )*
            Ok(())
        })()
    };
    (@ $c:ident, $slots:ident, lit, $l:tt) => { $c.lit($l)?; };
    (@ $c:ident, $slots:ident, str, _) => { $c.str_part()?; };
    (@ $c:ident, $slots:ident, str, $k:tt) => { $slots[$k] = Some(Val::Str($c.str_part()?)); };
    (@ $c:ident, $slots:ident, int, _) => { $c.int_part()?; };
    (@ $c:ident, $slots:ident, int, $k:tt) => { $slots[$k] = Some(Val::Num($c.int_part()?)); };
    (@ $c:ident, $slots:ident, bool, $k:tt) => { $slots[$k] = Some(Val::Bool($c.bool_part()?)); };
}

/// The layouts Binance sends today, key for key, bare or in the envelope,
/// with nothing after. A message that matches one exactly is read without
/// the general scan; any other shape (another key order, whitespace, an
/// extra key) takes the general scan, which gives the same slots, so a
/// layout only ever saves time.
fn known_layout<'a>(bytes: &'a [u8], slots: &mut Slots<'a>) -> bool {
    let mut c = Cursor { b: bytes, i: 0 };
    let enveloped = bytes.starts_with(br#"{"stream""#);
    if enveloped && layout!(c, slots; lit(br#"{"stream":""#), str(_), lit(br#"","data":"#)).is_err()
    {
        return false;
    }
    // The event type's first letters, after `{"e":"`.
    let (read, kind): (Result<(), Differs>, &'static [u8]) = match bytes.get(c.i + 6..c.i + 9) {
        Some(b"boo") => (
            layout!(c, slots;
                lit(br#"{"e":"bookTicker","u":"#), int(K_U),
                lit(br#","s":""#), str(K_S),
                lit(br#"","b":""#), str(K_B),
                lit(br#"","B":""#), str(K_BQ),
                lit(br#"","a":""#), str(K_A),
                lit(br#"","A":""#), str(K_AQ),
                lit(br#"","T":"#), int(_),
                lit(br#","E":"#), int(K_TIME),
                lit(b"}"),
            ),
            b"bookTicker",
        ),
        Some(b"tra") => (
            layout!(c, slots;
                lit(br#"{"e":"trade","E":"#), int(K_TIME),
                lit(br#","T":"#), int(_),
                lit(br#","s":""#), str(K_S),
                lit(br#"","t":"#), int(K_T),
                lit(br#","p":""#), str(K_P),
                lit(br#"","q":""#), str(K_Q),
                lit(br#"","X":""#), str(K_X),
                lit(br#"","m":"#), bool(K_M),
                lit(b"}"),
            ),
            b"trade",
        ),
        Some(b"agg") => (
            layout!(c, slots;
                lit(br#"{"e":"aggTrade","E":"#), int(K_TIME),
                lit(br#","a":"#), int(K_A),
                lit(br#","s":""#), str(K_S),
                lit(br#"","p":""#), str(K_P),
                lit(br#"","q":""#), str(K_Q),
                lit(br#"","f":"#), int(_),
                lit(br#","l":"#), int(_),
                lit(br#","T":"#), int(_),
                lit(br#","m":"#), bool(K_M),
                lit(b"}"),
            ),
            b"aggTrade",
        ),
        _ => return false,
    };
    if read.is_err() {
        return false;
    }
    slots[K_E] = Some(Val::Str(kind));
    let end: &[u8] = if enveloped { b"}" } else { b"" };
    c.b.get(c.i..) == Some(end)
}

/// Scans a whole message into the payload's slots: the `data` object's in
/// the envelope (the DOM reads nothing else there), else the root's.
fn scan<'a>(bytes: &'a [u8], slots: &mut Slots<'a>) -> Result<(), Fallback> {
    let mut c = Cursor { b: bytes, i: 0 };
    c.eat(b'{')?;
    let mut data = false;
    c.ws();
    if c.peek() == Some(b'}') {
        return Err(Fallback);
    }
    loop {
        c.ws();
        if c.peek() != Some(b'"') {
            return Err(Fallback);
        }
        let key = c.string()?;
        c.eat(b':')?;
        c.ws();
        if key == b"data" {
            if data {
                return Err(Fallback);
            }
            c.eat(b'{')?;
            // What the root held before is not the payload.
            *slots = [None; 13];
            c.flat(slots)?;
            data = true;
        } else {
            let v = c.scalar()?;
            if key == b"lastUpdateId" {
                // A depth snapshot, whatever else it holds.
                return Err(Fallback);
            }
            if !data {
                record(slots, key, v)?;
            }
        }
        c.ws();
        match c.peek() {
            Some(b',') => c.i += 1,
            Some(b'}') => {
                c.i += 1;
                break;
            }
            _ => return Err(Fallback),
        }
    }
    c.ws();
    if c.i != bytes.len() {
        return Err(Fallback);
    }
    Ok(())
}

/// A string value's bytes (printable ASCII: see `Cursor::string`).
fn bytes_of<'a>(v: Option<Val<'a>>) -> Option<&'a [u8]> {
    match v {
        Some(Val::Str(s)) => Some(s),
        _ => None,
    }
}

fn text<'a>(v: Option<Val<'a>>) -> Option<&'a str> {
    match v {
        // Printable ASCII only (`Cursor::string`), so always UTF-8.
        Some(Val::Str(s)) => std::str::from_utf8(s).ok(),
        _ => None,
    }
}

/// A plain unsigned integer; a number of another shape is the DOM's call.
fn unsigned(v: Option<Val<'_>>, key: &'static str) -> Result<Result<u64, ParseError>, Fallback> {
    match v {
        // `Cursor::number` let through at most 18 digits and an optional
        // minus: no overflow is possible.
        Some(Val::Num(n)) if n.first() != Some(&b'-') => Ok(Ok(n
            .iter()
            .fold(0u64, |x, &d| x * 10 + u64::from(d - b'0')))),
        Some(Val::Num(_)) => Err(Fallback),
        _ => Ok(Err(ParseError::Field(key))),
    }
}

/// The raw fixed-point value of a plain decimal (`digits[.digits]`, at
/// most 10 integer and 8 fraction digits: every price and size Binance
/// sends), computed in one pass; `None` for any other shape, which the
/// engine's general `parse` then reads. Same value either way: both are
/// exact.
#[inline]
fn plain_decimal(s: &[u8]) -> Option<i64> {
    const SCALE_DIGITS: usize = 8;
    const _: () = assert!(autobot_engine::types::SCALE == 100_000_000);
    let (int, frac) = match s.iter().position(|&c| c == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &s[s.len()..]),
    };
    if int.is_empty() || int.len() > 10 || frac.len() > SCALE_DIGITS {
        return None;
    }
    if s.len() > int.len() && frac.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    for _ in frac.len()..SCALE_DIGITS {
        v *= 10;
    }
    Some(v)
}

fn price(v: Option<Val<'_>>, key: &'static str) -> Result<Price, ParseError> {
    if let Some(Val::Str(s)) = v
        && let Some(raw) = plain_decimal(s)
    {
        let p = Price::from_raw(raw);
        return if p.is_positive() {
            Ok(p)
        } else {
            Err(ParseError::Range(key))
        };
    }
    let s = text(v).ok_or(ParseError::Field(key))?;
    let p = Price::parse(s).map_err(|_| ParseError::Decimal(key))?;
    if p.is_positive() {
        Ok(p)
    } else {
        Err(ParseError::Range(key))
    }
}

fn qty(v: Option<Val<'_>>, key: &'static str) -> Result<Qty, ParseError> {
    if let Some(Val::Str(s)) = v
        && let Some(raw) = plain_decimal(s)
    {
        // Never negative: the plain shape has no sign.
        return Ok(Qty::from_raw(raw));
    }
    let s = text(v).ok_or(ParseError::Field(key))?;
    let q = Qty::parse(s).map_err(|_| ParseError::Decimal(key))?;
    if q.is_negative() {
        Err(ParseError::Range(key))
    } else {
        Ok(q)
    }
}

/// Reads a book ticker or trade the way `Parser::parse` does, or
/// [`Fast::Fallback`].
pub(super) fn parse(
    bytes: &[u8],
    symbols: &Symbols,
    recv: MonoNanos,
    emit: &mut impl FnMut(InputEvent),
) -> Fast {
    let mut d: Slots<'_> = [None; 13];
    if !known_layout(bytes, &mut d) {
        d = [None; 13];
        if scan(bytes, &mut d).is_err() {
            return Fast::Fallback;
        }
    }
    let Some(kind) = bytes_of(d[K_E]) else {
        // Missing or not a string: the DOM says Field("e") — unless `e`
        // was there as something we did not keep; let it decide.
        return Fast::Fallback;
    };
    let hot = matches!(kind, b"bookTicker" | b"trade" | b"aggTrade");
    if !hot {
        return Fast::Fallback;
    }
    let result = (|| -> Result<Result<Parsed, ParseError>, Fallback> {
        let Some(s) = d[K_S] else {
            // The DOM would look for a nested order's symbol.
            return Err(Fallback);
        };
        let Some(sym) = bytes_of(Some(s)) else {
            return Ok(Err(ParseError::Field("s")));
        };
        let Some(sym) = symbols.id_bytes(sym) else {
            return Ok(Err(ParseError::UnknownSymbol));
        };
        let time = match unsigned(d[K_TIME], "E")? {
            Ok(t) => UnixNanos(t.saturating_mul(1_000_000)),
            Err(e) => return Ok(Err(e)),
        };
        let event = |body| InputEvent::new(Source::MarketData, sym, recv, time, body);
        if kind == b"bookTicker" {
            let update_id = match unsigned(d[K_U], "u")? {
                Ok(u) => u,
                Err(e) => return Ok(Err(e)),
            };
            let t = (|| {
                Ok(BookTicker {
                    update_id,
                    bid_price: price(d[K_B], "b")?,
                    bid_qty: qty(d[K_BQ], "B")?,
                    ask_price: price(d[K_A], "a")?,
                    ask_qty: qty(d[K_AQ], "A")?,
                })
            })();
            return Ok(t.map(|t| {
                emit(event(InputBody::BookTicker(t)));
                Parsed::BookTicker
            }));
        }
        if let Some(x) = bytes_of(d[K_X])
            && x != b"MARKET"
        {
            return Ok(Ok(Parsed::Ignored));
        }
        let (id_slot, id_key) = if kind == b"trade" {
            (K_T, "t")
        } else {
            (K_A, "a")
        };
        let trade_id = match unsigned(d[id_slot], id_key)? {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let t = (|| {
            let price = price(d[K_P], "p")?;
            let qty = qty(d[K_Q], "q")?;
            let buyer_is_maker = match d[K_M] {
                Some(Val::Bool(m)) => m,
                _ => return Err(ParseError::Field("m")),
            };
            if !qty.is_positive() {
                return Err(ParseError::Range("q"));
            }
            Ok(Trade {
                trade_id,
                price,
                qty,
                buyer_is_maker,
            })
        })();
        Ok(t.map(|t| {
            emit(event(InputBody::AggTrade(t)));
            Parsed::Trade
        }))
    })();
    match result {
        Ok(r) => Fast::Done(r),
        Err(Fallback) => Fast::Fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_hot_messages_take_this_path() {
        let syms = Symbols::new(&["BTCUSDT"]);
        for m in [
            r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}"#,
            r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}"#,
            r#"{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true}"#,
        ] {
            let mut n = 0;
            let r = parse(m.as_bytes(), &syms, MonoNanos(1), &mut |_| n += 1);
            assert!(matches!(r, Fast::Done(Ok(_))), "{m}");
            assert_eq!(n, 1);
        }
    }

    #[test]
    fn plain_decimals_match_the_general_parser() {
        for s in [
            "0",
            "0.1",
            "0.10",
            "61800.20",
            "00.5",
            "9999999999.99999999",
            "1.",
            ".5",
            "1.123456789",
            "12345678901",
            "1e5",
            "-1",
            "+1",
            "",
            "1.2.3",
            "0.00000001",
        ] {
            let fast = plain_decimal(s.as_bytes());
            let general = Price::parse(s).ok().map(Price::raw);
            if let Some(v) = fast {
                assert_eq!(Some(v), general, "{s:?}");
            }
        }
        assert_eq!(plain_decimal(b"61800.20"), Some(6_180_020_000_000));
        assert_eq!(plain_decimal(b".5"), None, "left to the general parser");
    }
}
