//! Binance USD-M: message parsing, the market-data gateway (WebSocket
//! combined streams + REST depth snapshots), and the REST transport with
//! error-code actions.

pub mod execution;
pub mod market;
pub mod parse;
pub mod record;
pub mod rest;
pub mod sign;
pub mod user;
