//! What autobot's test crates share.
//!
//! [`Counting`]: a global allocator that forwards to the system allocator
//! and counts, per thread, every allocation and reallocation, so a test
//! can prove a hot path allocates nothing after warm-up. A test crate
//! installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;
//! ```
//!
//! and reads [`allocations`] before and after the code under test. The
//! count is per thread, so tests running in parallel do not count each
//! other's allocations.
//!
//! [`Scratch`]: a temp directory for a test's runs and journals, removed
//! when the test passes.
//!
//! [`configs`]: the small engine, journal and core configurations the
//! pipeline tests of several crates share.
//!
//! [`receiver`]: a local HTTP receiver on loopback that records requests
//! and answers them from a script of statuses (the notification tests).
//!
//! [`tls`]: a TLS client that trusts one certificate (the HTTPS tests).

pub mod configs;
pub mod receiver;
mod scratch;
pub mod tls;

pub use scratch::Scratch;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator (see the crate docs).
#[derive(Debug)]
pub struct Counting;

thread_local! {
    // Const-initialised, so reading it never allocates.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations and reallocations this thread has made so far.
pub fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

fn count() {
    // `try_with`: the slot may be gone while a thread exits.
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards every call unchanged to the system allocator; it only
// counts allocations on the side, in a thread-local that never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}
