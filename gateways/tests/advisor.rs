//! The advisor's models on real files: the shipped model loads in tract
//! and answers what onnxruntime answered when it was trained (a second
//! runtime, the metadata's check); a model is refused, saying why, when it
//! was trained on other features than this build's, when the registry
//! expects another hash, when a file is missing or not ONNX, and when its
//! input is not the feature vector's width.

use std::path::PathBuf;

use autobot_engine::features::vector;
use autobot_gateways::advisor::{Model, ModelEntry, ModelError};
use autobot_test_support::Scratch;

fn shipped() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/btc_1m_logreg.onnx"
    ))
}

fn entry(file: PathBuf) -> ModelEntry {
    ModelEntry {
        name: "m".into(),
        file,
        feature_hash: format!("{:016x}", vector::hash()),
    }
}

#[test]
fn the_shipped_model_answers_as_onnxruntime_did() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped().with_extension("json")).unwrap())
            .unwrap();
    let model = Model::load(&entry(shipped())).unwrap();
    let p = model.predict(&[0.0; vector::N]).unwrap();
    let want = meta["check"]["probability"].as_f64().unwrap();
    assert!(
        (f64::from(p) - want).abs() < 1e-6,
        "tract {p}, onnxruntime {want}"
    );
    // A probability for any vector.
    let q = model
        .predict(&[
            0.01, -0.02, 0.03, 0.1, 70.0, 0.001, 0.9, 0.002, 1.5, 0.003, 0.001,
        ])
        .unwrap();
    assert!((0.0..=1.0).contains(&q), "{q}");
}

#[test]
fn a_model_is_refused_with_the_reason() {
    let scratch = Scratch::new("advisor");
    let dir = scratch.path();
    let copy = |name: &str, meta: serde_json::Value| {
        let file = dir.join(format!("{name}.onnx"));
        std::fs::copy(shipped(), &file).unwrap();
        std::fs::write(file.with_extension("json"), meta.to_string()).unwrap();
        file
    };
    // Trained on another feature list.
    let other = copy(
        "other",
        serde_json::json!({"feature_hash": "0123456789abcdef"}),
    );
    let e = Model::load(&entry(other)).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::FeatureHash {
                which: "this build's feature list",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("make model"), "{e}");
    // The registry expects another.
    let e = Model::load(&ModelEntry {
        feature_hash: "ffffffffffffffff".into(),
        ..entry(shipped())
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::FeatureHash {
                which: "the registry's entry",
                ..
            }
        ),
        "{e}"
    );
    // Missing.
    let e = Model::load(&entry(dir.join("none.onnx"))).unwrap_err();
    assert!(matches!(e, ModelError::Unreadable { .. }), "{e}");
    // No horizon: a prediction could not say what it is about.
    let vague = copy(
        "vague",
        serde_json::json!({"feature_hash": format!("{:016x}", vector::hash())}),
    );
    let e = Model::load(&entry(vague)).unwrap_err();
    assert!(
        matches!(e, ModelError::Metadata { .. }) && e.to_string().contains("horizon_bars"),
        "{e}"
    );
    // Not ONNX.
    let junk = copy(
        "junk",
        serde_json::json!({"feature_hash": format!("{:016x}", vector::hash()), "horizon_bars": 15}),
    );
    std::fs::write(&junk, b"not a model").unwrap();
    let e = Model::load(&entry(junk)).unwrap_err();
    assert!(matches!(e, ModelError::NotOnnx { .. }), "{e}");
    // Metadata that is not JSON.
    let bad = copy("bad", serde_json::json!({}));
    std::fs::write(bad.with_extension("json"), "{").unwrap();
    let e = Model::load(&entry(bad)).unwrap_err();
    assert!(matches!(e, ModelError::Metadata { .. }), "{e}");
    // Input [N, 3], not the vector's width.
    let wrong = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wrong_shape.onnx"
    ));
    let e = Model::load(&entry(wrong)).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::Shape {
                expected: vector::N,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("3"), "{e}");
}
