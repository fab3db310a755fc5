//! autobot's engine: the event model, the deterministic business-logic core,
//! and the runtime that feeds it from a lock-free ring.
//!
//! Data flows one way: gateways publish [`event::InputEvent`]s into the input
//! ring; the journaller appends each one; the [`core::Core`] consumes only
//! journaled events and emits [`event::OutputEvent`]s into the output ring,
//! which execution gateways consume. The core never imports a gateway.
//!
//! `unsafe` is denied crate-wide; the few modules that need it opt in with a
//! reason and a `// SAFETY:` comment per block.

pub mod config;
pub mod core;
pub mod depth;
pub mod event;
pub mod features;
pub mod plausible;
pub mod regime;
pub mod replay;
pub mod runtime;
pub mod snapshot;
pub mod strategy;
pub mod types;
