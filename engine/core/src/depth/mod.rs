//! The market's books: the top of book from book tickers, and L2 order
//! books from Binance diff-depth streams.
//!
//! - [`top`]: best bid and ask per symbol; crossed and out-of-order
//!   tickers are refused.
//! - [`ladder`]: one side of a book in a fixed-capacity sorted array, best
//!   level last (O(1) top-of-book read, near-top updates touch few slots).
//! - [`sync`]: the Binance USD-M sync procedure (buffer diffs, load the REST
//!   snapshot, drop what it covers, bridge it, follow the `pu` chain) and
//!   the book it keeps; every problem clears the book and asks for a resync.
//!
//! Both are part of the deterministic core's state: fixed-size, no
//! allocation after construction, no clock.

pub mod ladder;
pub mod sync;
pub mod top;

pub use ladder::{BookSide, DEPTH_CAPACITY, Ladder, SetOutcome};
pub use sync::{BUFFER_PARTS, DepthBook, DepthStats, Outcome, ResyncReason};
pub use top::{BookReject, TopOfBook};

#[cfg(test)]
mod tests;
