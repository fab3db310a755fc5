"""The strategy set with and without the advisor, out of sample.

For each fold of train.py's purged walk-forward, a model is fitted on the
rows before the fold's test window (less the purged ones) and written as
ONNX beside its metadata; then the window's bars, and only those, are
backtested three times with the same configuration: without the advisor,
with every strategy under `advise`, and under `gate`, with that fold's
model. No model ever sees the window it is judged on. Each window starts
flat and warms up the same way in all three runs (the advisor cannot
advise during the feature vector's first 61 bars: under gate, nothing
opens then).

Writes target/ml/walkforward/table.md (the table docs/ml.md quotes) and
table.json; prints the table.

Usage: walkforward.py FEATURES.csv MANIFEST.json KLINES.csv CONFIG.toml AUTOBOT OUT_DIR
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train  # noqa: E402

VARIANTS = [("none", None), ("advise", "advise"), ("gate", "gate")]


def fold_models(x, y, t, bar_ms, features, manifest, out):
    """Each fold's model (as train.py's walk_forward fits it), as ONNX."""
    n = len(y)
    edges = [n * k // (train.FOLDS + 1) for k in range(train.FOLDS + 2)]
    folds = []
    for k in range(1, train.FOLDS + 1):
        lo, hi = edges[k], edges[k + 1]
        keep = t[:lo] + train.HORIZON * bar_ms < t[lo]
        fitted = train.model().fit(x[:lo][keep], y[:lo][keep])
        name = f"fold{k}"
        onx = train.to_onnx(fitted, len(features), name)
        (out / f"{name}.onnx").write_bytes(onx.SerializeToString())
        meta = {
            "name": name,
            "feature_version": manifest["feature_version"],
            "feature_hash": manifest["feature_hash"],
            "features": features,
            "horizon_bars": train.HORIZON,
            "bar_secs": manifest["bar_secs"],
            "training": {"rows": int(keep.sum()), "to_ms": int(t[:lo][keep][-1])},
        }
        (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
        folds.append({"fold": k, "from_ms": int(t[lo]), "to_ms": int(t[hi - 1]),
                      "train_rows": int(keep.sum())})
    return folds


def window_bars(klines, fold, bar_ms, path):
    """The klines whose bar closes inside the fold's test window."""
    rows = 0
    with open(klines, newline="") as src, open(path, "w", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            close = int(row[0]) + bar_ms - 1
            if fold["from_ms"] <= close <= fold["to_ms"]:
                writer.writerow(row)
                rows += 1
    return rows


def config_for(base, mode, model, out):
    text = Path(base).read_text()
    if mode is not None:
        for kind in ("trend", "mean_reversion"):
            line = f'kind = "{kind}"'
            assert line in text, f"{base}: no {line}"
            text = text.replace(line, f'{line}\nadvisor = {{ mode = "{mode}", model = "{model.stem}" }}', 1)
        meta = json.loads(model.with_suffix(".json").read_text())
        text += (f'\n[advisor]\nmodels = [{{ name = "{model.stem}", file = "{model}", '
                 f'feature_hash = "{meta["feature_hash"]}" }}]\n')
    out.write_text(text)
    return out


def backtest(autobot, cfg, data, out):
    subprocess.run([autobot, "backtest", "-c", str(cfg), "--out", str(out), str(data)],
                   check=True, stdout=subprocess.DEVNULL)
    r = json.loads((out / "report.json").read_text())
    adv = r["core"].get("advisor") or {}
    return {
        "return": r["total_return"],
        "pnl": float(r["account"]["pnl"]),
        "fees": float(r["account"]["fees"]),
        "trips": r["round_trips"]["trades"],
        "win_rate": r["round_trips"]["win_rate"],
        "profit_factor": r["round_trips"]["profit_factor"],
        "max_drawdown": r["max_drawdown"],
        "refused": adv.get("vetoed", 0),
        "cut": adv.get("cut", 0),
    }


def fmt(v, pct=False, digits=2):
    if v is None:
        return "–"
    return f"{v * 100:.{digits}f}%" if pct else f"{v:.{digits}f}"


def main():
    features_csv, manifest_path, klines, base_cfg, autobot, out_dir = sys.argv[1:7]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = json.load(open(manifest_path))
    names = [c["name"] for c in manifest["columns"]]
    features = names[4: names.index(f"fwd_ret_{manifest['horizons'][0]}")]
    bar_ms = manifest["bar_secs"] * 1000
    x, y, t = train.load(features_csv, features)
    folds = fold_models(x, y, t, bar_ms, features, manifest, out)
    results = []
    for f in folds:
        k = f["fold"]
        data = out / f"BTCUSDT_perp_1m-window{k}.csv"
        f["bars"] = window_bars(klines, f, bar_ms, data)
        model = (out / f"fold{k}.onnx").resolve()
        for variant, mode in VARIANTS:
            cfg = config_for(base_cfg, mode, model, out / f"fold{k}-{variant}.toml")
            r = backtest(autobot, cfg, data, out / f"fold{k}-{variant}")
            results.append({**f, "variant": variant, **r})
    day = lambda ms: np.datetime_as_string(np.datetime64(ms, "ms"), unit="D")
    lines = [
        "| fold | window (UTC) | bars | advisor | return | PnL USDT | fees USDT | round trips | win rate | profit factor | max drawdown | entries refused | entries cut |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['fold']} | {day(r['from_ms'])} → {day(r['to_ms'])} | {r['bars']} | {r['variant']} | "
            f"{fmt(r['return'], pct=True)} | {r['pnl']:.2f} | {r['fees']:.2f} | {r['trips']} | "
            f"{fmt(r['win_rate'], pct=True, digits=1)} | {fmt(r['profit_factor'])} | "
            f"{fmt(r['max_drawdown'], pct=True)} | {r['refused']} | {r['cut']} |"
        )
    totals = ["", "| advisor | PnL USDT, all folds | fees USDT | round trips | folds better than none |", "|---|---|---|---|---|"]
    for variant, _ in VARIANTS:
        rs = [r for r in results if r["variant"] == variant]
        none = {r["fold"]: r["pnl"] for r in results if r["variant"] == "none"}
        better = sum(1 for r in rs if r["pnl"] > none[r["fold"]])
        totals.append(f"| {variant} | {sum(r['pnl'] for r in rs):.2f} | {sum(r['fees'] for r in rs):.2f} | "
                      f"{sum(r['trips'] for r in rs)} | {'–' if variant == 'none' else f'{better} of {len(rs)}'} |")
    table = "\n".join(lines + totals) + "\n"
    (out / "table.md").write_text(table)
    (out / "table.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table)


if __name__ == "__main__":
    main()
