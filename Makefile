# autobot — the two commands: `make run` and `make test`.
# Both check the toolchain and fetch the pinned crates (Cargo.lock) first.

CARGO    ?= cargo
CONFIG   ?= config/paper.toml
ARGS     ?=

.PHONY: run test bench lint fmt deps build clean help crash-test strategies model walkforward

help:
	@echo "make run    paper-trade on the synthetic market via the loopback exchange simulator (CONFIG=$(CONFIG), ARGS='--duration 60 --seed 7')"
	@echo "make test   every test of the workspace"
	@echo "make bench  ring handoff (disruptor vs crossbeam), journal (append, replay, recovery), veto-chain, L2-book, feature, SIMD-kernel, message-parsing (simd-json vs serde_json), order-signing, backtest-throughput (config/bench-emaflip.toml), load-generator (10k/100k/1M msgs/s, latency clock) and gateway-allocation (ws:// and wss://) benchmarks"
	@echo "make lint   rustfmt check + clippy -D warnings + no module cycles + no I/O crate under autobot-core"
	@echo "make strategies  each shipped strategy alone, walk-forward out of sample on ../shared/data's BTCUSDT 1m bars, against buy-and-hold; the table into docs/strategies.md"
	@echo "make crash-test  SIGKILL autobot run CRASH_ITERATIONS times (default 200), recover, verify"
	@echo "make model  the advisor's model: features of ../shared/data's BTCUSDT 1m bars, purged walk-forward, models/btc_1m_logreg.onnx + .json (docs/ml.md)"
	@echo "make walkforward  the strategy set with and without the advisor, out of sample: a model per walk-forward fold (docs/ml.md)"

deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
	@$(CARGO) fetch --locked -q

build: deps
	$(CARGO) build --release --locked -p autobot

run: build
	./target/release/autobot run --config $(CONFIG) $(ARGS)

test: deps
	$(CARGO) test --workspace --locked

BARS ?= ../shared/data/klines/BTCUSDT_perp_1m.csv
strategies: build
	./target/release/autobot strategies -c config/backtest-1m.toml --folds 4 --doc docs/strategies.md $(BARS)

# Its own virtual environment with every package pinned (tools/ml/requirements.txt).
ML_VENV ?= target/ml/venv
model: build
	@test -x $(ML_VENV)/bin/python || python3 -m venv $(ML_VENV)
	$(ML_VENV)/bin/pip install -q -r tools/ml/requirements.txt
	mkdir -p models target/ml
	./target/release/autobot features $(BARS) --out target/ml/features.csv
	$(ML_VENV)/bin/python tools/ml/train.py target/ml/features.csv target/ml/features.csv.manifest.json models btc_1m_logreg

# The strategy set with and without the advisor, out of sample: one model
# per walk-forward fold, each window backtested three ways (docs/ml.md).
walkforward: model
	$(ML_VENV)/bin/python tools/ml/walkforward.py target/ml/features.csv target/ml/features.csv.manifest.json $(BARS) config/backtest-1m.toml ./target/release/autobot target/ml/walkforward

CRASH_ITERATIONS ?= 200
crash-test: deps
	CRASH_ITERATIONS=$(CRASH_ITERATIONS) $(CARGO) test --release --locked -p autobot --test crash -- --nocapture

bench: deps
	$(CARGO) bench --locked -p autobot-benches

lint: deps
	@rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	python3 .ci/module-cycles
	sh .ci/core-purity

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf runs
