//! The `autobot` binary's integration tests, one module per area, in one
//! test binary: each of them linked the whole tools crate on its own, and
//! linking sixty copies was most of CI's build time. (The crash test, run
//! alone by `make crash-test`, stays its own binary: `tests/crash.rs`.)

#[path = "../common/mod.rs"]
mod common;

mod account;
mod advisor;
mod analyze;
mod backtest;
mod cli;
mod clients;
mod config;
mod control;
mod dashboard;
mod default_run;
mod doctor;
mod download;
mod feather;
mod features;
mod gate;
mod import;
mod indicators;
mod instruments;
mod latency;
mod loadtest;
mod market_fit;
mod metrics;
mod model;
mod nautilus;
mod operator;
mod operator_tls;
mod parity;
mod parquet_exports;
mod protect;
mod run;
mod salvage;
mod simexchange_tls;
mod sockets;
mod store;
mod store_pg;
mod sweep_shards;
mod tail;
mod tardis;
mod trace;
mod whole_outputs;
