//! Reading ahead: the data files are read, parsed and merged on a thread
//! of their own while the caller (a backtest's core, an import's journal)
//! works through the events already made.
//!
//! Straight from CSV, parsing and merging cost about as much per event as
//! the core does (docs/performance.md): on one thread they add up, on two
//! the slower of the two sets the pace. Events travel in batches so the
//! hand-over costs a channel operation per [`BATCH`] events, and the
//! batches' buffers go back to the reader to be refilled (no allocation
//! once [`DEPTH`] + 2 are in circulation).
//!
//! Order and errors are exactly the single-threaded ones: the events come
//! out in the merged order, and a file's error comes after every event
//! before it. Dropping a [`ReadAhead`] early (a window's end) stops the
//! reader at its next hand-over.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use autobot_engine::event::InputEvent;

use super::{InputError, Merged};

/// Events per hand-over: 128 KiB of events, within a core's L2.
pub const BATCH: usize = 1024;
/// Batches made ahead of the consumer.
pub const DEPTH: usize = 4;

/// A batch, and how the reader stopped after it (the end, or an error).
type Batch = (Vec<InputEvent>, Option<Result<(), InputError>>);

/// The merged events, made on a reader thread.
pub struct ReadAhead {
    full: Receiver<Batch>,
    empty: SyncSender<Vec<InputEvent>>,
    reader: Option<JoinHandle<Merged>>,
    batch: Vec<InputEvent>,
    /// The next event's index in `batch`.
    at: usize,
    /// How the reader stopped, once it said so; returned after the
    /// events before it.
    stopped: Option<Result<(), InputError>>,
}

impl ReadAhead {
    /// Starts reading `merged` ahead.
    pub fn start(mut merged: Merged) -> Result<ReadAhead, InputError> {
        let (full_tx, full) = sync_channel::<Batch>(DEPTH);
        let (empty, empty_rx) = sync_channel::<Vec<InputEvent>>(DEPTH + 2);
        let reader = std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || {
                loop {
                    // Spent batches come back at full length (the events
                    // are overwritten in place, never dropped one by one).
                    let mut batch = empty_rx.try_recv().unwrap_or_default();
                    batch.resize(BATCH, InputEvent::default());
                    let mut n = 0;
                    let mut stop = None;
                    while stop.is_none() && n < BATCH {
                        match merged.next_into(&mut batch[n]) {
                            Ok(true) => n += 1,
                            Ok(false) => stop = Some(Ok(())),
                            Err(e) => stop = Some(Err(e)),
                        }
                    }
                    batch.truncate(n);
                    let last = stop.is_some();
                    // A send fails when the consumer stopped early: so do we.
                    if full_tx.send((batch, stop)).is_err() || last {
                        return merged;
                    }
                }
            })
            .map_err(|e| InputError::Thread(e.to_string()))?;
        Ok(ReadAhead {
            full,
            empty,
            reader: Some(reader),
            batch: Vec::new(),
            at: 0,
            stopped: None,
        })
    }

    /// The next event in time order, `None` after the last.
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        Ok(self.next_mut()?.map(|ev| *ev))
    }

    /// The next event where it lies in its batch (no copy), `None` after
    /// the last.
    #[inline]
    pub fn next_mut(&mut self) -> Result<Option<&mut InputEvent>, InputError> {
        if self.at >= self.batch.len() && !self.next_batch()? {
            return Ok(None);
        }
        let at = self.at;
        self.at += 1;
        Ok(self.batch.get_mut(at))
    }

    /// Takes the next batch with events: `false` at the end.
    #[cold]
    fn next_batch(&mut self) -> Result<bool, InputError> {
        loop {
            if let Some(stopped) = self.stopped.take() {
                // Once stopped, stays stopped: later calls see the end.
                self.stopped = Some(Ok(()));
                return stopped.map(|()| false);
            }
            let Ok((batch, stop)) = self.full.recv() else {
                // The reader is gone without saying why: it panicked.
                return Err(InputError::Thread("the reading thread stopped".into()));
            };
            self.stopped = stop;
            let spent = std::mem::replace(&mut self.batch, batch);
            // The spent buffer goes back for refilling; a full return
            // queue (the reader is done) just drops it.
            let _ = self.empty.try_send(spent);
            self.at = 0;
            if !self.batch.is_empty() {
                return Ok(true);
            }
        }
    }

    /// Waits for the reader after the last event and hands back the
    /// merge (its files' row counts and notes).
    pub fn finish(mut self) -> Result<Merged, InputError> {
        drop(std::mem::replace(&mut self.full, sync_channel(0).1));
        self.reader
            .take()
            .and_then(|h| h.join().ok())
            .ok_or_else(|| InputError::Thread("the reading thread stopped".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::SymbolFiles;

    /// A bookTicker file of `rows` good rows, then `tail`.
    fn tickers(dir: &std::path::Path, rows: usize, tail: &str) -> SymbolFiles {
        let mut text = String::from(
            "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n",
        );
        for i in 0..rows {
            let ms = 1_704_067_200_000u64 + i as u64;
            text.push_str(&format!("{},60000.1,1.5,60000.2,2,{ms},{ms}\n", i + 1));
        }
        text.push_str(tail);
        let path = dir.join("BTCUSDT-bookTicker-2024-01-01.csv");
        std::fs::write(&path, text).unwrap();
        SymbolFiles {
            files: vec![path],
            symbols: vec!["BTCUSDT".into()],
        }
    }

    fn all(input: &SymbolFiles) -> (Vec<InputEvent>, Result<(), InputError>) {
        let mut ahead = ReadAhead::start(Merged::open(input).unwrap()).unwrap();
        let mut got = Vec::new();
        loop {
            match ahead.next_event() {
                Ok(Some(ev)) => got.push(ev),
                Ok(None) => return (got, Ok(())),
                Err(e) => return (got, Err(e)),
            }
        }
    }

    #[test]
    fn the_same_events_in_the_same_order_across_batches() {
        let dir = autobot_test_support::Scratch::new("read-ahead");
        let input = tickers(dir.path(), 3 * BATCH + 7, "");
        let mut direct = Merged::open(&input).unwrap();
        let mut want = Vec::new();
        while let Some(ev) = direct.next_event().unwrap() {
            want.push(ev);
        }
        let (got, end) = all(&input);
        assert!(end.is_ok());
        assert_eq!(got.len(), 3 * BATCH + 7);
        assert_eq!(got, want);
    }

    #[test]
    fn an_error_comes_where_it_would_without_the_thread() {
        let dir = autobot_test_support::Scratch::new("read-ahead");
        let bad = "9,60000.1,1.5,oops,2,1704067300000,1704067300000\n";
        let input = tickers(dir.path(), BATCH + 2, bad);
        let mut direct = Merged::open(&input).unwrap();
        let mut want = Vec::new();
        let want_err = loop {
            match direct.next_event() {
                Ok(Some(ev)) => want.push(ev),
                Ok(None) => panic!("the bad row was read"),
                Err(e) => break e.to_string(),
            }
        };
        let (got, end) = all(&input);
        assert_eq!(got, want);
        assert!(got.len() > BATCH, "{}", got.len());
        let e = end.unwrap_err().to_string();
        assert_eq!(e, want_err);
        assert!(e.contains(&format!(":{}:", BATCH + 4)), "{e}");
        assert!(e.contains("best_ask_price"), "{e}");
    }

    #[test]
    fn stopping_early_ends_the_reader_and_finish_hands_back_the_counts() {
        let dir = autobot_test_support::Scratch::new("read-ahead");
        let input = tickers(dir.path(), 20 * BATCH, "");
        let mut ahead = ReadAhead::start(Merged::open(&input).unwrap()).unwrap();
        assert!(ahead.next_event().unwrap().is_some());
        // The reader is blocked on a full queue; finish lets it go.
        let merged = ahead.finish().unwrap();
        assert!(merged.rows() < 20 * BATCH as u64, "{}", merged.rows());

        let ahead = ReadAhead::start(Merged::open(&input).unwrap()).unwrap();
        drop(ahead);

        let mut ahead = ReadAhead::start(Merged::open(&input).unwrap()).unwrap();
        while ahead.next_event().unwrap().is_some() {}
        assert_eq!(ahead.next_event().unwrap(), None, "the end stays the end");
        assert_eq!(ahead.finish().unwrap().rows(), 20 * BATCH as u64);
    }
}
