#!/usr/bin/env python3
"""Reference indicator values from TA-Lib itself, for engine/tests/indicators.rs.

Usage (from the repository root, with ../shared beside it):

    pip install --target /tmp/talib TA-Lib numpy
    PYTHONPATH=/tmp/talib python3 tools/reference/talib_reference.py \
        ../shared/data/klines/BTCUSDT_perp_1m.csv 1000 \
        > engine/tests/data/talib_btcusdt_1m.csv

The TA-Lib Python wheel bundles the TA-Lib C library; its version is
written in the first line. Values are printed with 17 significant digits
(round-trip exact for f64); "nan" marks TA-Lib's warm-up.
"""
import csv
import sys

import numpy as np
import talib


def main():
    path, rows = sys.argv[1], int(sys.argv[2])
    with open(path) as f:
        bars = [r for r in csv.reader(f)][1 : rows + 1]
    t = [r[0] for r in bars]
    h, l, c = (np.array([float(r[i]) for r in bars]) for i in (2, 3, 4))
    cols = {
        "sma20": talib.SMA(c, 20),
        "ema20": talib.EMA(c, 20),
        "rsi14": talib.RSI(c, 14),
    }
    cols["macd"], cols["macd_signal"], cols["macd_hist"] = talib.MACD(c, 12, 26, 9)
    cols["bb_upper"], cols["bb_middle"], cols["bb_lower"] = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    cols["atr14"] = talib.ATR(h, l, c, 14)
    print(f"# TA-Lib C library {talib.__ta_version__.decode()} (python TA-Lib {talib.__version__})")
    print(",".join(["open_time"] + list(cols)))
    for i in range(len(bars)):
        vals = ["nan" if np.isnan(v[i]) else f"{v[i]:.17g}" for v in cols.values()]
        print(",".join([t[i]] + vals))


main()
