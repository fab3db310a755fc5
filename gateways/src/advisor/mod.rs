//! The machine-learning advisor's edge: ONNX models run with tract (pure
//! Rust, nothing downloaded at build time), outside the core. A model is
//! admitted only if the metadata beside it names the feature list this
//! build computes (`features::vector::hash`) and the hash the registry
//! entry expects, and its input is `[N, features]`; anything else is
//! refused at load with a message saying which.
//!
//! The stage that feeds the models the core's feature vectors and
//! publishes their predictions as journaled inputs is `stage`.

use std::path::{Path, PathBuf};

pub mod stage;

pub use stage::{Advisor, AdvisorGauges, StageStats};

use autobot_engine::features::vector;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid as _;
use tract_onnx::tract_hir::internal::DimLike as _;

/// A registry entry: a model by name, its file, and the feature-list hash
/// it must have been trained on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelEntry {
    /// The model's name.
    pub name: String,
    /// Its ONNX file; the metadata is beside it with `.json`.
    pub file: PathBuf,
    /// The feature hash expected (16 hex digits).
    pub feature_hash: String,
}

/// Why a model was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read.
    #[error("model {name}: cannot read {path}: {reason}", path = path.display())]
    Unreadable {
        /// The model.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The metadata beside the model is not what `make model` writes.
    #[error("model {name}: {path} is not a model's metadata: {reason}", path = path.display())]
    Metadata {
        /// The model.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Trained on another feature list than the running one, or not the
    /// one the registry names.
    #[error(
        "model {name} was trained on features {trained}, but {which} is {expected}: train it again (make model) or fix the registry"
    )]
    FeatureHash {
        /// The model.
        name: String,
        /// The hash its metadata names.
        trained: String,
        /// `this build's feature list` or `the registry's entry`.
        which: &'static str,
        /// The hash expected.
        expected: String,
    },
    /// Not an ONNX model tract can run.
    #[error("model {name}: {path} is not an ONNX model this runtime can run: {reason}", path = path.display())]
    NotOnnx {
        /// The model.
        name: String,
        /// The file.
        path: PathBuf,
        /// What tract said.
        reason: String,
    },
    /// Its input is not `[N, features]` of this build.
    #[error("model {name}: its input is {found}, but the feature vector has {expected} values")]
    Shape {
        /// The model.
        name: String,
        /// What the model takes.
        found: String,
        /// The vector's length.
        expected: usize,
    },
    /// Inference failed.
    #[error("model {name}: inference failed: {reason}")]
    Inference {
        /// The model.
        name: String,
        /// What tract said.
        reason: String,
    },
}

/// A loaded, checked model.
pub struct Model {
    name: String,
    /// Bars ahead its label looks (the metadata's `horizon_bars`).
    horizon: u16,
    plan: TypedRunnableModel<TypedModel>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads `entry`'s model, refusing one trained on other features or
    /// with another input shape.
    pub fn load(entry: &ModelEntry) -> Result<Model, ModelError> {
        let name = entry.name.clone();
        let meta_path = entry.file.with_extension("json");
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| ModelError::Unreadable {
                name: name.clone(),
                path: path.to_path_buf(),
                reason: e.kind().to_string(),
            })
        };
        let meta: serde_json::Value =
            serde_json::from_slice(&read(&meta_path)?).map_err(|e| ModelError::Metadata {
                name: name.clone(),
                path: meta_path.clone(),
                reason: e.to_string(),
            })?;
        let trained = meta["feature_hash"]
            .as_str()
            .ok_or_else(|| ModelError::Metadata {
                name: name.clone(),
                path: meta_path.clone(),
                reason: "no feature_hash".into(),
            })?
            .to_string();
        let running = format!("{:016x}", vector::hash());
        for (which, expected) in [
            ("this build's feature list", &running),
            ("the registry's entry", &entry.feature_hash),
        ] {
            if &trained != expected {
                return Err(ModelError::FeatureHash {
                    name,
                    trained,
                    which,
                    expected: expected.clone(),
                });
            }
        }
        let horizon = meta["horizon_bars"]
            .as_u64()
            .and_then(|h| u16::try_from(h).ok())
            .filter(|h| *h > 0)
            .ok_or_else(|| ModelError::Metadata {
                name: name.clone(),
                path: meta_path.clone(),
                reason: "no horizon_bars (the label's bars ahead, 1 ..= 65535)".into(),
            })?;
        let bytes = read(&entry.file)?;
        let not_onnx = |e: TractError| ModelError::NotOnnx {
            name: name.clone(),
            path: entry.file.clone(),
            reason: format!("{e:#}"),
        };
        let model = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .map_err(not_onnx)?;
        // Its own input fact: [N, features] with N free or 1.
        let fact = model.input_fact(0).map_err(not_onnx)?;
        let dims = fact.shape.dims().map(|d| d.to_string()).collect::<Vec<_>>();
        let width = fact
            .shape
            .dims()
            .nth(1)
            .and_then(|d| d.concretize())
            .and_then(|d| d.to_usize().ok());
        if dims.len() != 2 || width != Some(vector::N) {
            return Err(ModelError::Shape {
                name,
                found: format!("[{}]", dims.join(", ")),
                expected: vector::N,
            });
        }
        let plan = model
            .with_input_fact(0, f32::fact([1, vector::N]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(not_onnx)?;
        Ok(Model {
            name,
            horizon,
            plan,
        })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bars ahead the model's label looks.
    pub fn horizon(&self) -> u16 {
        self.horizon
    }

    /// The model's score for one feature vector as the core computed it
    /// (`f64`, narrowed to the `f32` the model takes).
    pub fn predict(&self, features: &[f64; vector::N]) -> Result<f32, ModelError> {
        self.predict_f32(&features.map(|f| f as f32))
    }

    /// The model's score for one feature vector: its first output's first
    /// value (for `make model`'s models, P(up)).
    pub fn predict_f32(&self, features: &[f32; vector::N]) -> Result<f32, ModelError> {
        let fail = |e: TractError| ModelError::Inference {
            name: self.name.clone(),
            reason: format!("{e:#}"),
        };
        let input = Tensor::from_shape(&[1, vector::N], features).map_err(fail)?;
        let out = self.plan.run(tvec!(input.into())).map_err(fail)?;
        let first = out.first().ok_or_else(|| ModelError::Inference {
            name: self.name.clone(),
            reason: "no output".into(),
        })?;
        let view = first.to_array_view::<f32>().map_err(fail)?;
        view.iter()
            .next()
            .copied()
            .ok_or_else(|| ModelError::Inference {
                name: self.name.clone(),
                reason: "an empty output".into(),
            })
    }
}
