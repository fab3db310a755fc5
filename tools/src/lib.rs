//! The pieces of the `autobot` command line that tests also drive: the whole
//! configuration file, the deployment gate, the paper run, and its summary.

pub mod analyze;
pub mod backtest;
pub mod calibrate;
pub mod config;
pub mod control;
pub mod control_tls;
pub mod doctor;
pub mod download;
pub mod drift;
pub mod exchange;
pub mod features_cmd;
pub mod finished;
pub mod gate;
pub mod indicators;
pub mod journal_cmd;
pub mod latency;
pub mod listed;
pub mod loadtest;
pub mod market;
pub mod metrics;
pub mod notify;
mod os;
pub mod parquet_table;
pub mod position;
pub mod replay;
pub mod run;
pub mod sim_accounts;
pub mod stage;
pub mod store;
pub mod strategies;
pub mod summary;
pub mod text;
pub mod whole;
