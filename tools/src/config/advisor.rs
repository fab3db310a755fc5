//! `[advisor]`: the model registry (docs/ml.md). Each model is loaded and
//! checked when a run starts (`gateways::advisor::Model::load`): one
//! trained on other features, or with another input, refuses the run with
//! the reason. Optional: no models when absent.

use serde::Deserialize;

use autobot_engine::config::{RangeError, Validate};

/// One registry entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Its name.
    pub name: String,
    /// Its ONNX file (relative to the working directory); the metadata is
    /// beside it with `.json`.
    pub file: String,
    /// The feature hash it must have been trained on (16 hex digits, as
    /// `autobot features` and `make model` print).
    pub feature_hash: String,
}

/// `[advisor]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorConfig {
    /// The registry.
    #[serde(default)]
    pub models: Vec<ModelConfig>,
}

impl Validate for AdvisorConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let most = autobot_engine::core::MAX_MODELS;
        if self.models.len() > most {
            return Err(RangeError::new(
                at,
                "models",
                format!("{} models", self.models.len()),
                format!("at most {most}"),
            ));
        }
        for (i, m) in self.models.iter().enumerate() {
            let key = |k: &str| format!("models[{i}].{k}");
            if m.name.trim().is_empty() {
                return Err(RangeError::new(at, &key("name"), "\"\"", "a name"));
            }
            if self.models[..i].iter().any(|o| o.name == m.name) {
                return Err(RangeError::new(
                    at,
                    &key("name"),
                    &m.name,
                    "a name no other model has",
                ));
            }
            if m.feature_hash.len() != 16 || !m.feature_hash.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(RangeError::new(
                    at,
                    &key("feature_hash"),
                    &m.feature_hash,
                    "16 hex digits, as `autobot features` prints",
                ));
            }
        }
        Ok(())
    }
}

impl AdvisorConfig {
    /// No model configured.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The models' names, in registry order (a prediction's `model`
    /// index).
    pub fn names(&self) -> Vec<String> {
        self.models.iter().map(|m| m.name.clone()).collect()
    }

    /// Every strategy instance's `advisor.model` is in the registry.
    pub fn check_uses(
        &self,
        strategy: &autobot_engine::strategy::StrategyConfig,
    ) -> Result<(), RangeError> {
        let names = self.names();
        for (i, inst) in strategy.instances.iter().enumerate() {
            let Some(a) = &inst.advisor else { continue };
            if a.mode != autobot_engine::strategy::AdvisorMode::Off && !names.contains(&a.model) {
                let listed = if names.is_empty() {
                    "a model of the [advisor] registry, which names none".to_string()
                } else {
                    format!("a model of the [advisor] registry ({})", names.join(", "))
                };
                return Err(RangeError::new(
                    &format!("strategy.instances[{i}].advisor"),
                    "model",
                    &a.model,
                    listed,
                ));
            }
        }
        Ok(())
    }

    /// Loads and checks every model of the registry.
    pub fn load(
        &self,
    ) -> Result<Vec<autobot_gateways::advisor::Model>, autobot_gateways::advisor::ModelError> {
        self.models
            .iter()
            .map(|m| {
                autobot_gateways::advisor::Model::load(&autobot_gateways::advisor::ModelEntry {
                    name: m.name.clone(),
                    file: m.file.clone().into(),
                    feature_hash: m.feature_hash.clone(),
                })
            })
            .collect()
    }
}
