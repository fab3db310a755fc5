//! Small named integer types: sequences, times, and identifiers.
//!
//! Each wraps one integer so that a sequence cannot be passed where a time is
//! expected. All are `Copy`, ordered, and rkyv-archivable so they can ride in
//! journaled events.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
            rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, serde::Serialize,
        )]
        #[serde(transparent)]
        #[rkyv(derive(Debug, PartialEq))]
        #[repr(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// Position of an input event in the input stream: the ring sequence,
    /// which is also the journal sequence. Starts at 0, has no gaps.
    Seq(u64)
);
id_type!(
    /// Wall-clock time, nanoseconds since the Unix epoch (exchange time).
    UnixNanos(u64)
);
id_type!(
    /// Monotonic time, nanoseconds since an arbitrary per-host origin
    /// (`CLOCK_MONOTONIC`); used for latency stamps, never for trading logic.
    MonoNanos(u64)
);
id_type!(
    /// Index of an instrument in the configured instrument table.
    SymbolId(u16)
);
id_type!(
    /// Client order id sent to the exchange. Deterministic: derived from the
    /// sequence of the input event that caused the order (see
    /// [`ClientOrderId::derive`]), so a replay produces the same ids.
    ClientOrderId(u64)
);
id_type!(
    /// Order id assigned by the exchange (or the paper exchange).
    ExchangeOrderId(u64)
);

impl Seq {
    /// The following sequence.
    #[inline]
    pub const fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl UnixNanos {
    /// From milliseconds since the epoch (Binance's `E` and `T` fields).
    pub const fn from_millis(ms: u64) -> UnixNanos {
        UnixNanos(ms.saturating_mul(1_000_000))
    }

    /// Nanoseconds elapsed since `earlier`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: UnixNanos) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl MonoNanos {
    /// Nanoseconds elapsed since `earlier`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: MonoNanos) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl ClientOrderId {
    /// Orders one input event may cause (index bits of the id).
    pub const PER_EVENT: u64 = 16;

    /// The id execution reports carry for an order the exchange placed
    /// itself to close a position (a liquidation). No derived id reaches
    /// it: that would take input sequence 2^60.
    pub const EXCHANGE_CLOSE: ClientOrderId = ClientOrderId(u64::MAX);

    /// The id of the `index`-th order caused by the input at `seq`.
    /// `index` must be below [`Self::PER_EVENT`].
    pub const fn derive(seq: Seq, index: u8) -> ClientOrderId {
        debug_assert!((index as u64) < Self::PER_EVENT);
        ClientOrderId(seq.0 * Self::PER_EVENT + index as u64)
    }
}

/// Order side.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[serde(rename_all = "UPPERCASE")]
#[repr(u8)]
pub enum Side {
    /// Buy (bid side).
    #[default]
    Buy = 0,
    /// Sell (ask side).
    Sell = 1,
}

impl Side {
    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `+1` for buy, `-1` for sell: the sign a fill adds to a position.
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        })
    }
}
