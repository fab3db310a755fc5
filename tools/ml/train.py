"""Train the advisor's first model on `autobot features` output.

A logistic regression (standardized features) predicting whether the close
15 bars ahead is above the close now, validated by purged walk-forward:
fold k trains on every row before its test window, less the rows whose
label window reaches into it (the purge), and tests on the window. The
final model is fitted on every labelled row and written as ONNX with a
metadata file naming the feature list's hash, the label, the training
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
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
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
    onx = convert_sklearn(
        final,
        initial_types=[("features", FloatTensorType([None, len(features)]))],
        options={id(final.steps[-1][1]): {"zipmap": False}},
        target_opset=17,
    )
    onx.producer_version = skl2onnx.__version__
    # skl2onnx names the graph with a random uuid: the same data must give
    # the same bytes.
    onx.graph.name = name
    path = f"{out_dir}/{name}.onnx"
    data = onx.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    # The ONNX file answers as the fitted model does.
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    sample = x[:: max(1, len(x) // 1000)].astype(np.float32)
    got = session.run(["probabilities"], {"features": sample})[0][:, 1]
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
        "outputs": {"label": "predicted class (1: up)", "probabilities": "[P(down), P(up)]"},
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
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
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
