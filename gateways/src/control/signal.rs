//! The kill path that needs no endpoint: `kill -USR1 <pid>` engages the
//! kill switch as a journaled operator input, for when the operator
//! endpoint is unreachable (overloaded, misconfigured, switched off).
//!
//! A thread waits on the signal (signal-hook's self-pipe: the handler only
//! writes a byte; the thread does the publishing), and sends one `Kill`
//! through the same [`OperatorInbox`] as the endpoint, so the journal shows
//! it like any other operator command (source `Operator`, arg 0).

use std::thread::JoinHandle;

use autobot_engine::event::{OperatorAction, OperatorCommand, Source};
use autobot_engine::types::SymbolId;
use signal_hook::consts::SIGUSR1;
use signal_hook::iterator::{Handle, Signals};

use super::inbox::OperatorInbox;

/// A running SIGUSR1 watcher; stopped on drop.
pub struct KillSignal {
    handle: Handle,
    thread: Option<JoinHandle<u64>>,
}

impl std::fmt::Debug for KillSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KillSignal").finish_non_exhaustive()
    }
}

impl KillSignal {
    /// Watches for SIGUSR1; each one publishes a `Kill` into `inbox`.
    pub fn watch(inbox: OperatorInbox) -> std::io::Result<KillSignal> {
        let mut signals = Signals::new([SIGUSR1])?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("autobot-sigusr1".into())
            .spawn(move || {
                let mut kills = 0;
                for _ in signals.forever() {
                    let kill = OperatorCommand::new(OperatorAction::Kill, 0);
                    match inbox.send(Source::Operator, SymbolId(0), kill) {
                        Ok(_) => {
                            kills += 1;
                            eprintln!("autobot: SIGUSR1: kill switch engaged (journaled)");
                        }
                        Err(e) => eprintln!("autobot: SIGUSR1: {e}"),
                    }
                }
                kills
            })?;
        Ok(KillSignal {
            handle,
            thread: Some(thread),
        })
    }

    /// Stops watching (the signal's default action is not restored: a
    /// late SIGUSR1 is ignored) and returns how many kills it published.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.handle.close();
        self.thread.take().map_or(0, |t| t.join().unwrap_or(0))
    }
}

impl Drop for KillSignal {
    fn drop(&mut self) {
        self.halt();
    }
}
