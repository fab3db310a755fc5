//! `advisor = { … }` on a strategy instance: how much say the advisor's
//! model has over that instance's entries (docs/ml.md, "Bounded
//! authority"). The rule that applies it is the core's (`core::advisor`);
//! this is the configuration and its ranges.

use serde::Deserialize;

use crate::types::Rate;
use crate::validate::{RangeError, Validate};

/// How much say the model has.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    serde::Serialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AdvisorMode {
    /// None: the entry is the strategy's alone (no record either).
    #[default]
    Off = 0,
    /// The model may lower the entry's size, never refuse it.
    Advise = 1,
    /// The model may also refuse the entry; without a fresh prediction
    /// the instance opens nothing (alerted).
    Gate = 2,
}

impl AdvisorMode {
    /// Name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            AdvisorMode::Off => "off",
            AdvisorMode::Advise => "advise",
            AdvisorMode::Gate => "gate",
        }
    }
}

/// `[[strategy.instances]] advisor = { mode = "gate", model = "btc_1m_logreg" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorUse {
    /// `off`, `advise` or `gate`.
    pub mode: AdvisorMode,
    /// The model, by its name in the `[advisor] models` registry.
    pub model: String,
    /// How strongly a model leaning against the side cuts the size:
    /// factor = 1 + weight × (2·P(side) − 1), within 0 ..= 1 (0 ..= 100,
    /// default 1).
    pub weight: Option<Rate>,
    /// Under `gate`: the lowest probability the model may give the
    /// signal's side before the entry is refused (0 ..= 1, default 0.5).
    pub min_prob: Option<Rate>,
    /// A prediction older than this, in event time since its bar closed,
    /// counts as none (1 ..= 86400 s; default one and a half base bars:
    /// the previous bar's prediction is fresh, the one before is not).
    pub max_age_secs: Option<u32>,
    /// A prediction more inputs behind than this counts as none (0, the
    /// default: no limit by inputs).
    pub max_inputs: Option<u64>,
}

impl AdvisorUse {
    /// The weight (default 1).
    pub fn weight(&self) -> Rate {
        self.weight.unwrap_or(Rate::ONE)
    }

    /// The gate's lowest probability (default 0.5).
    pub fn min_prob(&self) -> Rate {
        self.min_prob.unwrap_or(Rate::from_raw(Rate::ONE.raw() / 2))
    }

    /// The freshness limit for base bars of `bar_secs`.
    pub fn max_age_secs(&self, bar_secs: u32) -> u32 {
        self.max_age_secs
            .unwrap_or(bar_secs.saturating_add(bar_secs / 2))
    }
}

impl Validate for AdvisorUse {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let at = crate::validate::join_key(at, "advisor");
        if self.model.trim().is_empty() {
            return Err(RangeError::new(
                &at,
                "model",
                "\"\"",
                "a model named in [advisor] models",
            ));
        }
        let w = self.weight();
        if w.is_negative() || w > Rate::from_raw(Rate::ONE.raw() * 100) {
            return Err(RangeError::new(&at, "weight", w, "0 ..= 100"));
        }
        let p = self.min_prob();
        if p.is_negative() || p > Rate::ONE {
            return Err(RangeError::new(&at, "min_prob", p, "0 ..= 1"));
        }
        if let Some(s) = self.max_age_secs {
            crate::validate::check_range(&at, "max_age_secs", s, 1, 86_400)?;
        }
        Ok(())
    }
}
