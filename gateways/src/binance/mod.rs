//! Binance USD-M: message parsing (more of the protocol arrives with the
//! live gateways).

pub mod parse;
