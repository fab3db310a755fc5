//! autobot's engine runtime: the rings, threads, pinning, journaller stage,
//! latency recorders, replay and snapshots around the deterministic core
//! (the `autobot-core` crate, re-exported here so gateways and tools name
//! one crate).
//!
//! Data flows one way: gateways publish [`event::InputEvent`]s into the input
//! ring; the journaller appends each one; the [`core::Core`] consumes only
//! journaled events and emits [`event::OutputEvent`]s into the output ring,
//! which execution gateways consume. The core never imports a gateway, and
//! nothing of the runtime is reachable from the core crate.
//!
//! `unsafe` is denied crate-wide; the few modules that need it opt in with a
//! reason and a `// SAFETY:` comment per block.

pub use autobot_core::{config, core, depth, event, features, plausible, regime, strategy, types};

pub mod replay;
pub mod runtime;
pub mod snapshot;
pub mod trace;
