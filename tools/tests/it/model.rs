//! The model shipped in `models/` (made by `make model`, docs/ml.md) was
//! trained on the feature list this build computes: its metadata names the
//! list's hash, version and names, and the ONNX file is the one it
//! describes. A change to the feature list fails here until the model is
//! trained again.

use sha2::Digest as _;

use autobot_engine::features::vector;

#[test]
fn the_shipped_model_matches_the_feature_list_and_its_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/btc_1m_logreg.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        meta["feature_hash"],
        format!("{:016x}", vector::hash()),
        "retrain: make model"
    );
    assert_eq!(meta["feature_version"], vector::FEATURE_VERSION);
    let names: Vec<&str> = vector::FEATURES.iter().map(|(n, _)| *n).collect();
    let shipped: Vec<&str> = meta["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(shipped, names);
    assert_eq!(meta["input"]["shape"][1], vector::N);
    let onnx = std::fs::read(format!("{dir}/{}", meta["file"].as_str().unwrap())).unwrap();
    let sum = sha2::Sha256::digest(&onnx);
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(meta["sha256"], hex);
    // Out-of-sample figures are recorded, whatever they are.
    assert_eq!(meta["validation"]["folds"].as_array().unwrap().len(), 5);
    assert!(meta["validation"]["mean_auc"].as_f64().is_some());
}
