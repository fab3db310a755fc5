//! autobot's deterministic core: the event model, exact decimal types, the
//! order book, features and indicators, regimes, strategies, the risk veto
//! chain, control modes, orders and positions ([`core::Core`]).
//!
//! # Invariants
//! - No I/O: this crate depends on no thread, clock, file, socket or
//!   pinning crate (`cargo tree -p autobot-core -e normal` shows it; the
//!   runtime that feeds the core from rings and journals lives in
//!   `autobot-engine`).
//! - Deterministic: the same inputs in the same order give the same
//!   outputs, bit for bit, on any CPU (floats only inside indicators, and
//!   every SIMD kernel matches its scalar path).
//! - No allocation after warm-up on the event path.
//!
//! `unsafe` is denied crate-wide; the SIMD kernels opt in with a reason and
//! a `// SAFETY:` comment per block.

pub mod config;
pub mod core;
pub mod depth;
pub mod event;
pub mod features;
pub mod plausible;
pub mod regime;
pub mod strategy;
pub mod types;
pub mod validate;
