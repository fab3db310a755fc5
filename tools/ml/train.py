"""Train the advisor's first model on `autobot features` output.

A logistic regression (standardized features) predicting whether the close
15 bars ahead is above the close now, validated by purged walk-forward:
fold k trains on every row before its test window, less the rows whose
label window reaches into it (the purge), and tests on the window. The
final model is fitted on every labelled row and written as ONNX (plain operators, see
`to_onnx`) with a metadata file naming the feature list's hash, the label, the training
window, the out-of-sample metrics and the library versions.

Usage: train.py FEATURES.csv MANIFEST.json OUT_DIR NAME
"""

import csv
import hashlib
import json
import platform
import sys

import numpy as np
import onnx
import onnxruntime
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HORIZON = 15
FOLDS = 5
LABEL = f"fwd_ret_{HORIZON}"


def load(path, features):
    xs, ys, times = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row[LABEL] == "":
                continue
            xs.append([float(row[name]) for name in features])
            ys.append(1 if float(row[LABEL]) > 0.0 else 0)
            times.append(int(row["close_ms"]))
    return np.array(xs, dtype=np.float64), np.array(ys), np.array(times, dtype=np.int64)


def model():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def to_onnx(fitted, n, name):
    """The fitted pipeline as plain ONNX operators (Sub, Div, MatMul, Add,
    Sigmoid), which every runtime has: the ai.onnx.ml LinearClassifier that
    skl2onnx writes is not in tract, the Rust runtime the advisor uses."""
    scaler, clf = fitted.steps[0][1], fitted.steps[1][1]
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    inits = [
        numpy_helper.from_array(f32(scaler.mean_).reshape(1, n), "mean"),
        numpy_helper.from_array(f32(scaler.scale_).reshape(1, n), "scale"),
        numpy_helper.from_array(f32(clf.coef_).reshape(n, 1), "weights"),
        numpy_helper.from_array(f32(clf.intercept_).reshape(1, 1), "bias"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "scale"], ["standard"]),
        helper.make_node("MatMul", ["standard", "weights"], ["logit0"]),
        helper.make_node("Add", ["logit0", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1])],
        inits,
    )
    m = helper.make_model(graph, producer_name="autobot tools/ml/train.py", opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def walk_forward(x, y, t, bar_ms):
    n = len(y)
    edges = [n * k // (FOLDS + 1) for k in range(FOLDS + 2)]
    folds = []
    for k in range(1, FOLDS + 1):
        lo, hi = edges[k], edges[k + 1]
        # Purge: a training row's label looks HORIZON bars ahead; none may
        # reach the test window.
        train = t[:lo] + HORIZON * bar_ms < t[lo]
        m = model().fit(x[:lo][train], y[:lo][train])
        p = m.predict_proba(x[lo:hi])[:, 1]
        folds.append({
            "fold": k,
            "train_rows": int(train.sum()),
            "purged_rows": int(lo - train.sum()),
            "test_rows": int(hi - lo),
            "test_from_ms": int(t[lo]),
            "test_to_ms": int(t[hi - 1]),
            "auc": float(roc_auc_score(y[lo:hi], p)),
            "accuracy": float(accuracy_score(y[lo:hi], p > 0.5)),
            "log_loss": float(log_loss(y[lo:hi], p, labels=[0, 1])),
            "base_rate": float(y[lo:hi].mean()),
        })
    return folds


def main():
    features_csv, manifest_path, out_dir, name = sys.argv[1:5]
    manifest = json.load(open(manifest_path))
    names = [c["name"] for c in manifest["columns"]]
    features = names[4 : names.index(f"fwd_ret_{manifest['horizons'][0]}")]
    bar_ms = manifest["bar_secs"] * 1000
    x, y, t = load(features_csv, features)
    folds = walk_forward(x, y, t, bar_ms)
    final = model().fit(x, y)
    onx = to_onnx(final, len(features), name)
    path = f"{out_dir}/{name}.onnx"
    data = onx.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    # The ONNX file answers as the fitted model does.
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    sample = x[:: max(1, len(x) // 1000)].astype(np.float32)
    got = session.run(["probability"], {"features": sample})[0][:, 0]
    want = final.predict_proba(sample.astype(np.float64))[:, 1]
    worst = float(np.abs(got - want).max())
    assert worst < 1e-4, f"ONNX and scikit-learn disagree by {worst}"
    mean = lambda key: float(np.mean([f[key] for f in folds]))
    meta = {
        "name": name,
        "file": f"{name}.onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "feature_version": manifest["feature_version"],
        "feature_hash": manifest["feature_hash"],
        "features": features,
        "input": {"name": "features", "shape": [None, len(features)], "type": "float32"},
        "outputs": {"probability": "float32 [N, 1]: P(up)"},
        "label": f"{LABEL} > 0: the close {HORIZON} bars ahead above the close now",
        "horizon_bars": HORIZON,
        "bar_secs": manifest["bar_secs"],
        "training": {
            "source": manifest["source"],
            "rows": int(len(y)),
            "from_ms": int(t[0]),
            "to_ms": int(t[-1]),
            "up_share": float(y.mean()),
        },
        "validation": {
            "method": f"purged walk-forward, {FOLDS} folds of equal rows after a first training window; rows whose label reaches the test window are purged",
            "folds": folds,
            "mean_auc": mean("auc"),
            "mean_accuracy": mean("accuracy"),
            "mean_log_loss": mean("log_loss"),
        },
        "onnx_vs_sklearn_max_abs_diff": worst,
        # What onnxruntime answers for an all-zero vector: another runtime
        # (tract, in Rust) must answer the same.
        "check": {
            "input": "zeros",
            "probability": float(session.run(["probability"], {"features": np.zeros((1, len(features)), np.float32)})[0][0, 0]),
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
    }
    with open(f"{out_dir}/{name}.json", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: {len(y)} rows, out-of-sample AUC {meta['validation']['mean_auc']:.4f} "
          f"(accuracy {meta['validation']['mean_accuracy']:.4f}, up share {y.mean():.4f}) -> {path}")


if __name__ == "__main__":
    main()
