//! The machine-learning advisor's events: the feature vector the core
//! hands out at each closed base bar ([`OutputBody::Features`]), the
//! prediction an advisor stage answers with (an input, [`Prediction`],
//! journaled before the core reads it, so a replay needs no model), and
//! the audit record of what a prediction did to a strategy's entry
//! ([`Advice`]).
//!
//! Scores are exact integers (millionths), not floats: the core compares
//! and multiplies them, and its arithmetic stays exact decimal. The
//! features themselves are the indicator floats, carried as `f32` bits
//! (the models take `f32`).
//!
//! [`OutputBody::Features`]: super::OutputBody::Features

use super::{OutputBody, OutputEvent};
use crate::types::{Qty, Seq, SymbolId};

/// One in millionths: a probability or factor of 1.
pub const PPM: u32 = 1_000_000;

/// Values in a feature vector (`features::vector::FEATURES`, which checks
/// it at compile time; here so the events need not know the features).
pub const N: usize = 11;

/// Features carried by one `Features` output.
pub const FEATURES_PER_PART: usize = 6;

/// `Features` outputs per vector.
pub const FEATURE_PARTS: usize = N.div_ceil(FEATURES_PER_PART);

/// The `Features` outputs of one vector, in part order.
pub fn feature_parts(symbol: SymbolId, values: &[u32; N]) -> [OutputBody; FEATURE_PARTS] {
    std::array::from_fn(|part| {
        let mut bits = [0u32; FEATURES_PER_PART];
        for (i, b) in bits.iter_mut().enumerate() {
            if let Some(v) = values.get(part * FEATURES_PER_PART + i) {
                *b = *v;
            }
        }
        OutputBody::Features {
            symbol,
            part: part as u8,
            bits,
        }
    })
}

/// Joins the `Features` parts of an output stream back into vectors (the
/// advisor stage and the backtest's inline advisor). Fixed state: one
/// vector being joined at a time, which is all the core emits (a vector's
/// parts are consecutive).
#[derive(Clone, Copy, Debug, Default)]
pub struct FeatureParts {
    values: [f32; N],
    next: usize,
    cause: Seq,
    symbol: SymbolId,
}

impl FeatureParts {
    /// Folds one output in: a whole vector (symbol, the cause's sequence,
    /// the values) when this was its last part. Parts out of order (an
    /// output lost to a lagging reader) drop the vector.
    pub fn push(&mut self, out: &OutputEvent) -> Option<(SymbolId, Seq, [f32; N])> {
        let OutputBody::Features { symbol, part, bits } = out.body else {
            return None;
        };
        let part = usize::from(part);
        if part == 0 {
            self.next = 0;
            self.cause = out.cause;
            self.symbol = symbol;
        }
        if part != self.next || out.cause != self.cause || symbol != self.symbol {
            self.next = 0;
            return None;
        }
        for (i, b) in bits.iter().enumerate() {
            if let Some(v) = self.values.get_mut(part * FEATURES_PER_PART + i) {
                *v = f32::from_bits(*b);
            }
        }
        self.next += 1;
        if self.next < FEATURE_PARTS {
            return None;
        }
        self.next = 0;
        Some((self.symbol, self.cause, self.values))
    }
}

wire! {
/// A model's answer about one symbol (the header's), journaled like any
/// input. `model` is the model's index in the `[advisor] models` registry.
pub struct Prediction {
    /// The model, by registry index.
    pub model: u8,
    /// Bars of the base timeframe the prediction looks ahead.
    pub horizon: u16,
    /// The model's probability that the close `horizon` bars ahead is
    /// above the close now, in millionths (0 ..= 1,000,000).
    pub score: u32,
    /// How far the model leans either way, `|2·score − 1|`, in millionths.
    pub confidence: u32,
    /// The sequence of the input whose bar the features were taken at (the
    /// `cause` of the `Features` output answered).
    pub features_seq: Seq,
}
}

impl Prediction {
    /// A classifier's answer from its probability of "up": score and
    /// confidence in millionths, rounded to the nearest (a NaN or a value
    /// outside 0..=1 is clamped; the advisor stage refuses those first).
    pub fn from_probability(model: u8, horizon: u16, p_up: f32, features_seq: Seq) -> Prediction {
        let p = if p_up.is_nan() {
            0.5
        } else {
            p_up.clamp(0.0, 1.0)
        };
        // Exact: f64 holds every f32 and the product is below 2^53.
        let score = (f64::from(p) * f64::from(PPM)).round() as u32;
        Prediction {
            model,
            horizon,
            score,
            confidence: (2 * i64::from(score) - i64::from(PPM)).unsigned_abs() as u32,
            features_seq,
        }
    }

    /// Values a model can give: both scores within 0 ..= 1.
    pub fn is_valid(&self) -> bool {
        self.score <= PPM && self.confidence <= PPM
    }
}

wire! {
/// What the advisor did to an entry.
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AdviceVerdict {
    /// Fresh advice that left the size as it was (the model agrees).
    #[default]
    Kept = 0,
    /// Fresh advice that lowered the size.
    Cut = 1,
    /// Under `gate`: the entry refused (the model leans against the side).
    Vetoed = 2,
    /// No fresh prediction: under `advise` the entry goes unchanged.
    NoAdvice = 3,
    /// Under `gate` without a fresh prediction: the entry refused.
    NoAdviceVetoed = 4,
    /// The size cut below what the exchange takes: no entry.
    CutToNothing = 5,
}
}

impl AdviceVerdict {
    /// How the trace and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            AdviceVerdict::Kept => "kept",
            AdviceVerdict::Cut => "cut",
            AdviceVerdict::Vetoed => "vetoed",
            AdviceVerdict::NoAdvice => "no fresh advice",
            AdviceVerdict::NoAdviceVetoed => "vetoed: no fresh advice",
            AdviceVerdict::CutToNothing => "cut below the exchange's minimum: no entry",
        }
    }

    /// The entry was refused.
    pub fn refuses(self) -> bool {
        matches!(
            self,
            AdviceVerdict::Vetoed | AdviceVerdict::NoAdviceVetoed | AdviceVerdict::CutToNothing
        )
    }
}

wire! {
/// The advisor's audit record of one entry of an advised strategy: both
/// inputs of the fusion (the strategy's confidence and the model's score)
/// and what came of them. Emitted before the entry's `Signal` (or instead
/// of it, when the entry is refused). Fields in archive order, widest
/// first, so the record fits the output's cache line.
pub struct Advice {
    /// The size the strategy and its sizing asked for, before the advisor.
    pub qty: Qty,
    /// The model's probability of "up", millionths (0 without advice).
    pub score: u32,
    /// The model's confidence, millionths.
    pub confidence: u32,
    /// The strategy's confidence in its signal, millionths.
    pub strategy_confidence: u32,
    /// The fused confidence: the strategy's times the factor, millionths.
    pub fused: u32,
    /// The factor applied to the size, millionths (0 ..= 1,000,000).
    pub factor: u32,
    /// Inputs between the prediction's features and this decision
    /// (`u32::MAX`: no prediction).
    pub age: u32,
    /// Instrument.
    pub symbol: crate::types::SymbolId,
    /// The strategy instance.
    pub strategy: u8,
    /// The model, by registry index.
    pub model: u8,
    /// What the advisor did.
    pub verdict: AdviceVerdict,
    /// The stance the strategy proposed.
    pub stance: super::Stance,
}
}
