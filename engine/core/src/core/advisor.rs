//! The advisor's bounded authority in the core: the feature vectors it
//! hands out, the predictions it holds, and the one rule by which a
//! prediction may touch a strategy's entry (docs/ml.md).
//!
//! # Invariants (the bounds)
//! - A prediction is only ever read when an instance with `advise` or
//!   `gate` proposes an **entry**; nothing else reads it. So a prediction
//!   never sends an order by itself and never touches an exit, a stop, a
//!   protective order or an operator's order.
//! - The size factor is within 0 ..= 1 and applies to the size the
//!   strategy's sizing asked for, before the veto chain: what the chain
//!   allows is a cap the advisor can only stay under.
//! - A prediction older than the instance's `max_age_secs` (event time
//!   since its bar closed) or `max_inputs` counts as none. Under `gate`,
//!   none means no entry, alerted once until advice is fresh again.
//! - Integers only (millionths): the same predictions give the same
//!   decisions on every machine.
//!
//! The rule ([`fuse`]): with `q` the model's probability of the signal's
//! side (the score for a long, one minus it for a short), the size factor
//! is `1 + weight × (2q − 1)` within 0 ..= 1 (a model leaning toward the
//! side never raises the size), the fused confidence is the strategy's
//! times the factor, and `gate` refuses the entry when `q < min_prob`.

use crate::config::CoreConfig;
use crate::event::{AdviceVerdict, PPM, Prediction, Stance};
use crate::features::vector::{FeatureVector, N};
use crate::strategy::{AdvisorMode, AdvisorUse};
use crate::types::{Rate, SCALE, Seq, SymbolId, UnixNanos};

/// The most models the registry may hold (predictions are kept per symbol
/// per model).
pub const MAX_MODELS: usize = 16;

/// The input (sequence and event time) whose bar a `Features` output was
/// taken at.
#[derive(Clone, Copy, Debug, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Mark {
    seq: Seq,
    time: UnixNanos,
}

/// The newest valid prediction of one model about one symbol.
#[derive(Clone, Copy, Debug, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Held {
    present: bool,
    score: u32,
    confidence: u32,
    features_seq: Seq,
    /// When the bar it was taken at closed (event time).
    bar_time: UnixNanos,
}

/// One instance's use of the advisor, resolved against the registry.
#[derive(Clone, Copy, Debug, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Use {
    mode: AdvisorMode,
    /// Registry index; `u8::MAX` when the name is not in the registry (a
    /// config the loader refuses; kept safe here: no advice ever).
    model: u8,
    weight: u32,
    min_prob: u32,
    max_age_ns: u64,
    max_inputs: u64,
}

/// Why a prediction was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unkept {
    /// A model index outside the registry, or a score outside 0 ..= 1.
    Invalid,
    /// About features the core has not handed out.
    UnknownFeatures,
    /// About features older than the newest two handed out, or not newer
    /// than the prediction held: late, kept out.
    Superseded,
}

/// What the advisor made of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Judged {
    pub verdict: AdviceVerdict,
    pub model: u8,
    /// The size factor, millionths.
    pub factor: u32,
    pub score: u32,
    pub confidence: u32,
    /// Inputs since the prediction's features (`u32::MAX`: none).
    pub age: u32,
}

/// Counters of the advisor (part of the core's state).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct AdvisorStats {
    /// Feature vectors handed out.
    pub features: u64,
    /// Predictions kept.
    pub predictions: u64,
    /// Predictions refused: invalid, or about features not handed out.
    pub refused: u64,
    /// Predictions that came late (about features two vectors old or
    /// more, or not newer than the one held): kept out.
    pub superseded: u64,
    /// Advised entries whose size was cut.
    pub cut: u64,
    /// Entries refused (gate, or a size cut to nothing).
    pub vetoed: u64,
    /// Advised entries with no fresh prediction.
    pub no_advice: u64,
}

/// The advisor's part of the core.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Advisor {
    models: u8,
    /// Per symbol (empty without models).
    vectors: Vec<FeatureVector>,
    /// Per symbol: the last two feature outputs, newest first.
    marks: Vec<[Mark; 2]>,
    /// `[symbol × models + model]`.
    held: Vec<Held>,
    /// Per instance.
    uses: Vec<Use>,
    /// Per instance: a gate without advice was alerted (re-armed by fresh
    /// advice).
    silent: Vec<bool>,
    /// Per instance × symbol: the stance and prediction of the last
    /// refusal, so a repeated proposal is not judged (and recorded) again
    /// until one of them changes.
    refused: Vec<(Stance, Seq)>,
    pub stats: AdvisorStats,
}

/// `r` (a `Rate` in 0 ..= `max`) in millionths.
fn ppm(r: Rate) -> u32 {
    let v = i128::from(r.raw()) * i128::from(PPM) / i128::from(SCALE);
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// The rule (module docs): `(factor, refused)` for a signal of `stance`
/// given the model's `score` (P(up), millionths). Exact integers; the
/// factor is within 0 ..= `PPM` whatever the inputs.
pub fn fuse(score: u32, stance: Stance, weight: u32, min_prob: u32, gate: bool) -> (u32, bool) {
    let up = i64::from(score.min(PPM));
    let q = if stance == Stance::Short {
        i64::from(PPM) - up
    } else {
        up
    };
    let lean = 2 * q - i64::from(PPM);
    let factor = (i64::from(PPM) + i64::from(weight) * lean / i64::from(PPM))
        .clamp(0, i64::from(PPM)) as u32;
    (factor, gate && q < i64::from(min_prob))
}

impl Advisor {
    pub(super) fn new(cfg: &CoreConfig) -> Advisor {
        let models = cfg.models.len().min(MAX_MODELS);
        let symbols = cfg.instruments.len();
        let base = cfg.strategy.bar_secs.first().copied().unwrap_or(60);
        let resolve = |a: &AdvisorUse| Use {
            mode: a.mode,
            model: cfg.models[..models]
                .iter()
                .position(|m| *m == a.model)
                .map_or(u8::MAX, |i| i as u8),
            weight: ppm(a.weight()),
            min_prob: ppm(a.min_prob()),
            max_age_ns: u64::from(a.max_age_secs(base)) * 1_000_000_000,
            max_inputs: a.max_inputs.unwrap_or(0),
        };
        let uses: Vec<Use> = cfg
            .strategy
            .instances
            .iter()
            .map(|i| i.advisor.as_ref().map(resolve).unwrap_or_default())
            .collect();
        let with = if models > 0 { symbols } else { 0 };
        Advisor {
            models: models as u8,
            vectors: (0..with).map(|_| FeatureVector::new()).collect(),
            marks: vec![[Mark::default(); 2]; symbols],
            held: vec![Held::default(); symbols * models],
            silent: vec![false; uses.len()],
            refused: vec![(Stance::Flat, Seq(u64::MAX)); uses.len() * symbols],
            uses,
            stats: AdvisorStats::default(),
        }
    }

    /// A base bar of `sym` closed at input `seq`, event time `now`: its
    /// feature vector (as `f32` bits) once warm, when a model listens.
    pub(super) fn on_bar(
        &mut self,
        sym: SymbolId,
        bar: &crate::event::Kline,
        seq: Seq,
        now: UnixNanos,
    ) -> Option<[u32; N]> {
        let v = self.vectors.get_mut(usize::from(sym.0))?.on_bar(bar)?;
        let marks = &mut self.marks[usize::from(sym.0)];
        marks[1] = marks[0];
        marks[0] = Mark { seq, time: now };
        self.stats.features += 1;
        Some(v.map(|x| (x as f32).to_bits()))
    }

    /// Keeps `p` about `sym` as its model's newest, if it is about the
    /// newest features handed out for `sym` (or the ones before: it may
    /// cross a bar in flight).
    pub(super) fn on_prediction(&mut self, sym: SymbolId, p: &Prediction) -> Result<(), Unkept> {
        let i = usize::from(sym.0);
        if usize::from(p.model) >= usize::from(self.models)
            || !p.is_valid()
            || i >= self.marks.len()
        {
            self.stats.refused += 1;
            return Err(Unkept::Invalid);
        }
        let marks = self.marks[i];
        let Some(mark) = marks
            .iter()
            .find(|m| m.seq == p.features_seq && m.time.0 > 0)
        else {
            // Older than the two newest vectors: late, not wrong (an
            // advisor a few bars behind); newer: nothing was handed out.
            if marks[0].time.0 > 0 && p.features_seq < marks[0].seq {
                self.stats.superseded += 1;
                return Err(Unkept::Superseded);
            }
            self.stats.refused += 1;
            return Err(Unkept::UnknownFeatures);
        };
        let slot = &mut self.held[i * usize::from(self.models) + usize::from(p.model)];
        if slot.present && slot.features_seq >= p.features_seq {
            self.stats.superseded += 1;
            return Err(Unkept::Superseded);
        }
        *slot = Held {
            present: true,
            score: p.score,
            confidence: p.confidence,
            features_seq: p.features_seq,
            bar_time: mark.time,
        };
        self.stats.predictions += 1;
        Ok(())
    }

    /// Instance `k`'s mode (`Off` for an unknown instance).
    pub(super) fn mode(&self, k: usize) -> AdvisorMode {
        self.uses.get(k).map_or(AdvisorMode::Off, |u| u.mode)
    }

    /// Judges an entry of instance `k` on `sym` toward `stance` at input
    /// `seq`, event time `now`. `None`: the instance is not advised, or
    /// this very proposal was refused already with the same prediction.
    pub(super) fn judge(
        &mut self,
        k: usize,
        sym: SymbolId,
        stance: Stance,
        (seq, now): (Seq, UnixNanos),
    ) -> Option<Judged> {
        let u = *self.uses.get(k)?;
        if u.mode == AdvisorMode::Off {
            return None;
        }
        let gate = u.mode == AdvisorMode::Gate;
        let held = self
            .held
            .get(usize::from(sym.0) * usize::from(self.models) + usize::from(u.model))
            .copied()
            .filter(|h| {
                h.present
                    && now.0.saturating_sub(h.bar_time.0) <= u.max_age_ns
                    && (u.max_inputs == 0 || seq.0.saturating_sub(h.features_seq.0) <= u.max_inputs)
            });
        let about = held.map_or(Seq(u64::MAX - 1), |h| h.features_seq);
        let memo = k * self.marks.len() + usize::from(sym.0);
        if self.refused.get(memo) == Some(&(stance, about)) {
            return None;
        }
        let judged = match held {
            None => {
                self.stats.no_advice += 1;
                Judged {
                    verdict: if gate {
                        AdviceVerdict::NoAdviceVetoed
                    } else {
                        AdviceVerdict::NoAdvice
                    },
                    model: u.model,
                    factor: PPM,
                    score: 0,
                    confidence: 0,
                    age: u32::MAX,
                }
            }
            Some(h) => {
                self.silent[k] = false;
                let (factor, refused) = fuse(h.score, stance, u.weight, u.min_prob, gate);
                let verdict = if refused {
                    AdviceVerdict::Vetoed
                } else if factor < PPM {
                    AdviceVerdict::Cut
                } else {
                    AdviceVerdict::Kept
                };
                Judged {
                    verdict,
                    model: u.model,
                    factor,
                    score: h.score,
                    confidence: h.confidence,
                    age: u32::try_from(seq.0.saturating_sub(h.features_seq.0)).unwrap_or(u32::MAX),
                }
            }
        };
        if judged.verdict.refuses() {
            self.refused[memo] = (stance, about);
        }
        Some(judged)
    }

    /// The refused entry was later cut to nothing by its size: remembered
    /// like a refusal.
    pub(super) fn remember_refusal(&mut self, k: usize, sym: SymbolId, stance: Stance, j: &Judged) {
        let memo = k * self.marks.len() + usize::from(sym.0);
        let about = if j.age == u32::MAX {
            Seq(u64::MAX - 1)
        } else {
            self.held
                .get(usize::from(sym.0) * usize::from(self.models) + usize::from(j.model))
                .map_or(Seq(u64::MAX - 1), |h| h.features_seq)
        };
        if let Some(m) = self.refused.get_mut(memo) {
            *m = (stance, about);
        }
    }

    /// Instance `k` is gated without advice: `true` the first time (to be
    /// alerted), until advice is fresh again.
    pub(super) fn goes_silent(&mut self, k: usize) -> bool {
        match self.silent.get_mut(k) {
            Some(s) if !*s => {
                *s = true;
                true
            }
            _ => false,
        }
    }

    /// The newest prediction of `model` about `sym`: score, confidence,
    /// the features' sequence and bar time.
    pub(super) fn prediction(
        &self,
        sym: SymbolId,
        model: u8,
    ) -> Option<(u32, u32, Seq, UnixNanos)> {
        if model >= self.models {
            return None;
        }
        self.held
            .get(usize::from(sym.0) * usize::from(self.models) + usize::from(model))
            .filter(|h| h.present)
            .map(|h| (h.score, h.confidence, h.features_seq, h.bar_time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_leaning_toward_the_side_never_raises_the_size() {
        // P(up) 0.8 for a long, weight 1: factor stays 1.
        assert_eq!(
            fuse(800_000, Stance::Long, PPM, 500_000, true),
            (PPM, false)
        );
        // The same score against a short: 1 + 1 × (2 × 0.2 − 1) = 0.4,
        // and the gate refuses it (0.2 < 0.5).
        assert_eq!(
            fuse(800_000, Stance::Short, PPM, 500_000, true),
            (400_000, true)
        );
        // Under advise, the same cut and no refusal.
        assert_eq!(
            fuse(800_000, Stance::Short, PPM, 500_000, false),
            (400_000, false)
        );
        // No opinion: size unchanged, the gate lets it through at 0.5.
        assert_eq!(
            fuse(500_000, Stance::Long, PPM, 500_000, true),
            (PPM, false)
        );
        // Weight 2, P(side) 0.3: 1 + 2 × (−0.4) = 0.2.
        assert_eq!(
            fuse(300_000, Stance::Long, 2 * PPM, 0, true),
            (200_000, false)
        );
        // A heavy weight against: clamped at zero, never negative.
        assert_eq!(fuse(0, Stance::Long, 100 * PPM, 0, false), (0, false));
    }

    #[test]
    fn probabilities_become_exact_millionths() {
        let p = Prediction::from_probability(0, 15, 0.532_1, Seq(9));
        assert_eq!((p.score, p.confidence), (532_100, 64_200));
        let nan = Prediction::from_probability(0, 15, f32::NAN, Seq(9));
        assert_eq!((nan.score, nan.confidence), (500_000, 0));
        assert!(Prediction::from_probability(0, 1, 7.0, Seq(1)).is_valid());
    }
}
