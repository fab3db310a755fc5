//! Binance USD-M: message parsing, the market-data gateway (WebSocket
//! combined streams + REST depth snapshots), and the REST transport with
//! error-code actions, exchangeInfo (the trading rules), signing, execution
//! and the user-data stream.

pub mod account;
pub mod algo;
pub mod errors;
pub mod exchange_info;
pub mod execution;
mod flat;
pub mod ledger;
pub mod market;
pub mod parse;
pub mod reconcile;
pub mod record;
pub mod rest;
pub mod sign;
pub mod user;
mod user_events;
mod wire;
