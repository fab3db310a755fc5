//! Outputs that record the trading logic's decisions: strategy signals
//! (entries and every exit, with the reason), regime changes, and the
//! strategies' adapted weights. They are audit records: journaled replay
//! reproduces them bit for bit, and nothing outside the core acts on them.

use crate::types::{Price, Qty, Rate, SymbolId};

/// A market regime.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[rkyv(derive(Debug, PartialEq))]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Regime {
    /// No trend strong enough (and the regime before the detector is warm).
    #[default]
    Range = 0,
    /// Trending up.
    Bull = 1,
    /// Trending down.
    Bear = 2,
    /// Volatility above the configured level, whatever the trend.
    HighVol = 3,
}

impl Regime {
    /// Every regime, by index.
    pub const ALL: [Regime; 4] = [Regime::Range, Regime::Bull, Regime::Bear, Regime::HighVol];

    /// Name as written in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Range => "range",
            Regime::Bull => "bull",
            Regime::Bear => "bear",
            Regime::HighVol => "high_vol",
        }
    }

    /// Bit of this regime in a `regime::RegimeSet`.
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }
}

wire! {
/// The position a signal asks for.
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Stance {
    /// No position.
    #[default]
    Flat = 0,
    /// Long.
    Long = 1,
    /// Short.
    Short = 2,
}
}

impl Stance {
    /// The stance of a signed position.
    pub const fn of(position: i64) -> Stance {
        match position.signum() {
            1 => Stance::Long,
            -1 => Stance::Short,
            _ => Stance::Flat,
        }
    }

    /// Sign of the position this stance asks for.
    pub const fn sign(self) -> i64 {
        match self {
            Stance::Flat => 0,
            Stance::Long => 1,
            Stance::Short => -1,
        }
    }
}

wire! {
/// Why a signal was given.
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SignalReason {
    /// The fast EMA crossed above the slow one.
    #[default]
    EmaCrossUp = 0,
    /// The fast EMA crossed below the slow one.
    EmaCrossDown = 1,
    /// Bull regime and the fast EMA above the slow one.
    TrendUp = 2,
    /// Bear regime and the fast EMA below the slow one.
    TrendDown = 3,
    /// The EMAs no longer agree with the position.
    TrendFaded = 4,
    /// Close below the lower Bollinger band (and below VWAP).
    BelowBand = 5,
    /// Close above the upper Bollinger band (and above VWAP).
    AboveBand = 6,
    /// Close back at the middle band.
    BackToMean = 7,
    /// Bids outweigh asks, buyers lead the tape, spread tight.
    BidImbalance = 8,
    /// Asks outweigh bids, sellers lead the tape, spread tight.
    AskImbalance = 9,
    /// The imbalance that opened the position is gone.
    ImbalanceFaded = 10,
    /// The stop-loss was touched (managed by the core).
    StopLoss = 11,
    /// The take-profit was touched (managed by the core).
    TakeProfit = 12,
    /// The strategy's maximum hold time elapsed (managed by the core).
    MaxHold = 13,
    /// The regime left the ones the strategy trades in.
    RegimeExit = 14,
    /// A swing high broken upward with a bullish order block behind it.
    StructureUp = 15,
    /// A swing low broken downward with a bearish order block behind it.
    StructureDown = 16,
    /// The structure broke against the position.
    StructureTurned = 17,
}
}

wire! {
/// A strategy's signal as the core accepted it (entries) or decided it
/// (exits). One is recorded each time the targeted position changes.
pub struct Signal {
    /// Instrument.
    pub symbol: SymbolId,
    /// Index of the strategy instance in the config.
    pub strategy: u8,
    /// The position wanted.
    pub stance: Stance,
    /// Why.
    pub reason: SignalReason,
    /// Strength of the signal, 0 ..= 1 (a score, not a calibrated
    /// probability, so it does not feed Kelly sizing).
    pub confidence: Rate,
    /// Reference entry price (the price the signal saw).
    pub entry: Price,
    /// Stop-loss price (zero: none).
    pub stop: Price,
    /// Take-profit price (zero: none).
    pub take: Price,
    /// Position size targeted (the strategy's weight applied; zero for an exit).
    pub qty: Qty,
}
}

wire! {
/// The regime of a symbol changed.
pub struct RegimeChange {
    /// Instrument.
    pub symbol: SymbolId,
    /// The regime before.
    pub from: Regime,
    /// The regime now.
    pub to: Regime,
    /// EMA gap in ATRs at the change.
    pub strength: Rate,
    /// ATR in basis points of the close at the change.
    pub vol_bps: Rate,
}
}

wire! {
/// A strategy's weight changed after a round trip (bounded adaptation).
pub struct WeightChange {
    /// Index of the strategy instance.
    pub strategy: u8,
    /// Losing round trips in a row.
    pub losses: u32,
    /// The new weight (within the configured bounds).
    pub weight: Rate,
}
}
