//! Gateways turn the outside world into input events and output events into
//! requests. Each runs on its own thread and talks to the engine only through
//! the rings (`autobot_engine::runtime`).
//!
//! - [`binance`]: Binance USD-M market-data messages (simd-json) to events.
//! - [`control`]: the operator's endpoint on loopback (token-protected):
//!   commands become input events; status comes from the core's board.
//! - [`credentials`]: Binance API keys from the environment or an owner-only
//!   file, never shown.
//! - [`synthetic`]: a seeded market generator (book tickers and trades through
//!   trending, ranging and volatile regimes), identical for the same seed.
//! - [`sim`]: the local exchange simulator (WebSocket + REST on loopback).
//! - [`paper`]: paper execution: the exchange model (`autobot_exchange`)
//!   fills the core's orders against the book the engine has seen, and the
//!   reports go back into the input ring.
//! - [`trust`]: the roots the exchange clients trust over TLS (public web
//!   roots, or one CA file).
//! - [`resync`]: book resyncs the core asks for, from execution to the
//!   market gateway.
//!
//! Data flows one way: `sim` may use `binance` (it speaks the protocol);
//! `binance` and `paper` use neither `sim` nor each other
//! (`.ci/module-cycles` holds that).

pub mod advisor;
pub mod binance;
pub mod control;
pub mod credentials;
pub mod http;
pub mod notify;
pub mod os;
pub mod paper;
pub mod resync;
pub mod sim;
pub mod synthetic;
pub mod trust;
