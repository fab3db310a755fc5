//! Book resyncs the core asks for (its `BookResync` alerts), passed from
//! whichever thread reads the core's outputs (paper or signed execution)
//! to the market gateway, which fetches the snapshot.

use std::sync::atomic::{AtomicBool, Ordering};

use autobot_engine::types::SymbolId;

/// Book resyncs the core asked for, one flag per symbol (set by whoever
/// reads the core's outputs, taken by the gateway).
#[derive(Debug)]
pub struct ResyncRequests(Vec<AtomicBool>);

impl ResyncRequests {
    /// Flags for `n` symbols.
    pub fn new(n: usize) -> ResyncRequests {
        ResyncRequests((0..n).map(|_| AtomicBool::new(false)).collect())
    }

    /// Asks for a new snapshot of `sym`.
    pub fn request(&self, sym: SymbolId) {
        if let Some(f) = self.0.get(usize::from(sym.0)) {
            f.store(true, Ordering::Release);
        }
    }

    pub(crate) fn take(&self, i: usize) -> bool {
        self.0
            .get(i)
            .is_some_and(|f| f.swap(false, Ordering::AcqRel))
    }
}
