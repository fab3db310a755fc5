//! The advisor stage: a thread outside the core, like a gateway. It takes
//! the feature vectors the core hands out (`Features` outputs, forwarded
//! by the notice tap with their event time), runs every registry model on
//! each, and publishes each answer as a `Prediction` input. The journaller
//! writes it before the core reads it, so a replay reads the predictions
//! from the journal and never needs a model.
//!
//! # Invariants
//! - A prediction names the input whose bar its features were taken at
//!   (`features_seq`) and the model by registry index; the core keeps only
//!   predictions about features it handed out.
//! - A model that fails, or answers outside 0 ..= 1, publishes nothing for
//!   that vector: counted, said on stderr (the first time per model), and
//!   under `gate` the core then opens nothing (no fresh advice), alerted.
//! - The stage never waits on the core: its queue is fed by the tap with
//!   `try_send`, and it publishes into the input ring like any gateway.
//!
//! [`Advisor::on_output`] is the same code a backtest runs inline, in
//! event order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_engine::event::{
    FeatureParts, InputBody, InputEvent, OutputEvent, PPM, Prediction, Source,
};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::notices::Stamped;
use autobot_engine::types::{SymbolId, UnixNanos};

use super::Model;

/// One model's counters and last scores, for the metrics endpoint.
#[derive(Debug)]
pub struct ModelGauge {
    /// The model's name.
    pub name: String,
    /// Predictions made.
    pub predictions: AtomicU64,
    /// Vectors it failed on (an error, or a score outside 0 ..= 1).
    pub failures: AtomicU64,
    /// Per symbol: the last score (P(up), millionths); `u32::MAX`: none.
    pub scores: Vec<AtomicU32>,
}

/// What the stage did, readable while it runs.
#[derive(Debug)]
pub struct AdvisorGauges {
    /// Feature vectors received whole.
    pub vectors: AtomicU64,
    /// Per registry model.
    pub models: Vec<ModelGauge>,
}

/// The stage's totals when it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageStats {
    /// Feature vectors received whole.
    pub vectors: u64,
    /// Predictions published.
    pub predictions: u64,
    /// Model failures.
    pub failures: u64,
}

/// The registry's models and the vector being joined.
pub struct Advisor {
    models: Vec<Model>,
    parts: FeatureParts,
    gauges: Arc<AdvisorGauges>,
    said: Vec<bool>,
}

impl std::fmt::Debug for Advisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advisor")
            .field("models", &self.models.len())
            .finish_non_exhaustive()
    }
}

impl Advisor {
    /// An advisor over `models` (in registry order: a prediction's model
    /// index is its position) for `symbols` symbols.
    pub fn new(models: Vec<Model>, symbols: usize) -> Advisor {
        let gauges = AdvisorGauges {
            vectors: AtomicU64::new(0),
            models: models
                .iter()
                .map(|m| ModelGauge {
                    name: m.name().to_string(),
                    predictions: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    scores: (0..symbols).map(|_| AtomicU32::new(u32::MAX)).collect(),
                })
                .collect(),
        };
        Advisor {
            said: vec![false; models.len()],
            models,
            parts: FeatureParts::default(),
            gauges: Arc::new(gauges),
        }
    }

    /// Its counters (shared with whoever reads them).
    pub fn gauges(&self) -> Arc<AdvisorGauges> {
        Arc::clone(&self.gauges)
    }

    /// One output of the core: when it completes a feature vector, every
    /// model's prediction about it goes to `emit`, in registry order.
    pub fn on_output(&mut self, out: &OutputEvent, mut emit: impl FnMut(SymbolId, Prediction)) {
        let Some((sym, cause, values)) = self.parts.push(out) else {
            return;
        };
        self.gauges.vectors.fetch_add(1, Ordering::Relaxed);
        for (i, m) in self.models.iter().enumerate() {
            let g = &self.gauges.models[i];
            let answer = m.predict_f32(&values).and_then(|p| {
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(super::ModelError::Inference {
                        name: m.name().to_string(),
                        reason: format!("a score of {p}, not a probability in 0 ..= 1"),
                    })
                }
            });
            match answer {
                Ok(p) => {
                    let pred = Prediction::from_probability(i as u8, m.horizon(), p, cause);
                    g.predictions.fetch_add(1, Ordering::Relaxed);
                    if let Some(s) = g.scores.get(usize::from(sym.0)) {
                        s.store(pred.score.min(PPM), Ordering::Relaxed);
                    }
                    emit(sym, pred);
                }
                Err(e) => {
                    g.failures.fetch_add(1, Ordering::Relaxed);
                    if !self.said[i] {
                        self.said[i] = true;
                        eprintln!(
                            "autobot: advisor: {e} (no prediction for this vector; further failures are counted in autobot_advisor_failures_total)"
                        );
                    }
                }
            }
        }
    }

    /// Its totals so far.
    pub fn stats(&self) -> StageStats {
        let sum = |f: fn(&ModelGauge) -> u64| self.gauges.models.iter().map(f).sum();
        StageStats {
            vectors: self.gauges.vectors.load(Ordering::Relaxed),
            predictions: sum(|g| g.predictions.load(Ordering::Relaxed)),
            failures: sum(|g| g.failures.load(Ordering::Relaxed)),
        }
    }
}

/// The input event of a prediction about `sym`, stamped at `bar` (the
/// event time of the input whose bar it is about) and received `recv`.
pub fn prediction_event(
    sym: SymbolId,
    p: Prediction,
    bar: UnixNanos,
    recv: autobot_engine::types::MonoNanos,
) -> InputEvent {
    InputEvent::new(Source::Advisor, sym, recv, bar, InputBody::Prediction(p))
}

/// How often an idle stage looks at `stop`.
const IDLE: Duration = Duration::from_millis(20);

/// Starts the stage over the tap's feature queue: it publishes through
/// `publisher` until `stop` is set or the queue closes, then lets go of
/// the ring (the runtime stops it before the input ring shuts down).
pub fn spawn(
    mut advisor: Advisor,
    rx: Receiver<Stamped>,
    mut publisher: InputPublisher,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<StageStats>> {
    std::thread::Builder::new()
        .name("autobot-advisor".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let stamped = match rx.recv_timeout(IDLE) {
                    Ok(s) => s,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                };
                let recv = autobot_engine::runtime::clock::mono_now();
                let mut halted = false;
                advisor.on_output(&stamped.out, |sym, p| {
                    let ev = prediction_event(sym, p, stamped.at, recv);
                    halted |= publisher.publish(ev).is_err();
                });
                if halted {
                    break;
                }
            }
            advisor.stats()
        })
}
