//! The one door operator commands go through into the input ring, shared
//! by the control endpoint and the endpoint-free kill path (`signal`).
//!
//! # Why one door
//! "The core processed my command" is "the core's count of operator inputs
//! reached the number of commands published up to mine". That holds only
//! if counting and publishing happen together, in ring order: so both
//! happen under one lock, and every command gets its ordinal there.

use std::sync::{Arc, Mutex, PoisonError};

use autobot_engine::event::{InputBody, InputEvent, OperatorCommand, Source};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::{SymbolId, UnixNanos};

/// The pipeline stopped: the command was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline has stopped; the command was not accepted")]
pub struct Stopped;

struct Door {
    publisher: Option<InputPublisher>,
    /// Operator inputs the core will have processed once everything
    /// published here is processed.
    published: u64,
}

/// A shared handle on the operator's door (cheap to clone).
#[derive(Clone)]
pub struct OperatorInbox {
    door: Arc<Mutex<Door>>,
}

impl std::fmt::Debug for OperatorInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorInbox").finish_non_exhaustive()
    }
}

impl OperatorInbox {
    /// A door over `publisher`; `base` operator inputs will have been
    /// processed before its first command (the restored count plus the
    /// run's `Start`).
    pub fn new(publisher: InputPublisher, base: u64) -> OperatorInbox {
        OperatorInbox {
            door: Arc::new(Mutex::new(Door {
                publisher: Some(publisher),
                published: base,
            })),
        }
    }

    /// Journals `command` (from `source`, naming `symbol`) and returns its
    /// ordinal: it is processed once the core's count of operator inputs
    /// reaches it.
    pub fn send(
        &self,
        source: Source,
        symbol: SymbolId,
        command: OperatorCommand,
    ) -> Result<u64, Stopped> {
        let mut door = self.door.lock().unwrap_or_else(PoisonError::into_inner);
        let publisher = door.publisher.as_mut().ok_or(Stopped)?;
        let ev = InputEvent::new(
            source,
            symbol,
            mono_now(),
            UnixNanos(0), // no exchange time: a command from this host
            InputBody::Operator(command),
        );
        publisher.publish(ev).map_err(|_| Stopped)?;
        door.published += 1;
        Ok(door.published)
    }

    /// Lets go of the input ring (the run's shutdown needs every publisher
    /// gone); later commands are refused with [`Stopped`].
    pub fn close(&self) {
        let mut door = self.door.lock().unwrap_or_else(PoisonError::into_inner);
        door.publisher = None;
    }
}
