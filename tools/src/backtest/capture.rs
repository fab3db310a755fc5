//! Captures (`<receive ns> <json>` lines, the format of `autobot record`
//! and of `../shared/data/ticks/`) read as input events through the live
//! market parser, so a backtest sees exactly what the gateway would have
//! published: book tickers, trades, depth diffs and the REST depth
//! snapshot (which the core's depth sync bridges as it does live).
//!
//! Events keep the capture's order (the order they were received); their
//! merge key is the largest exchange time so far, because streams of one
//! connection interleave a millisecond or two out of exchange order. The
//! receive time is kept in the event header, where the capture latency
//! model reads it.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use autobot_engine::event::InputEvent;
use autobot_engine::types::{MonoNanos, SymbolId};
use autobot_gateways::binance::parse::{Parser, Symbols, capture_line};

use super::InputError;

/// Whether `head` (the start of a decompressed file) is a capture line.
pub fn looks_like_capture(head: &[u8]) -> bool {
    let digits = head.iter().take_while(|b| b.is_ascii_digit()).count();
    digits >= 16 && head.get(digits) == Some(&b' ') && head.get(digits + 1) == Some(&b'{')
}

/// One capture file.
pub struct CaptureSource {
    path: PathBuf,
    symbol: SymbolId,
    input: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    parser: Parser,
    pending: VecDeque<InputEvent>,
    line_no: u64,
    rows: u64,
    key: u64,
}

impl CaptureSource {
    /// Reads `path` (already opened as `input`); its messages are parsed
    /// for `names` (the symbols in `SymbolId` order); a depth snapshot line
    /// belongs to `symbol`, the file's.
    pub fn new(
        path: &Path,
        input: Box<dyn BufRead + Send>,
        names: &[String],
        symbol: SymbolId,
    ) -> CaptureSource {
        CaptureSource {
            path: path.to_path_buf(),
            symbol,
            input,
            line: Vec::with_capacity(1 << 16),
            parser: Parser::new(Symbols::new(names)),
            pending: VecDeque::with_capacity(64),
            line_no: 0,
            rows: 0,
            key: 0,
        }
    }

    /// Lines read.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next event and its merge key (exchange time, never decreasing).
    pub fn next_event(&mut self) -> Result<Option<(u64, InputEvent)>, InputError> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                self.key = self.key.max(ev.header.exchange.0);
                return Ok(Some((self.key, ev)));
            }
            self.line.clear();
            self.line_no += 1;
            let n = self
                .input
                .read_until(b'\n', &mut self.line)
                .map_err(|e| self.row_error(super::read_problem(Some(&e), &e)))?;
            if n == 0 {
                return Ok(None);
            }
            while self.line.last().is_some_and(|b| b.is_ascii_whitespace()) {
                self.line.pop();
            }
            if self.line.is_empty() {
                continue;
            }
            self.rows += 1;
            let Some((ns, json)) = capture_line(&mut self.line) else {
                return Err(self.row_error("not a capture line (`<receive ns> <json>`)".into()));
            };
            let pending = &mut self.pending;
            let parsed = self
                .parser
                .parse(json, MonoNanos(ns), Some(self.symbol), |e| {
                    pending.push_back(e)
                });
            if let Err(e) = parsed {
                return Err(self.row_error(format!("message refused: {e}")));
            }
        }
    }

    fn row_error(&self, problem: String) -> InputError {
        InputError::Row {
            path: self.path.clone(),
            line: self.line_no,
            problem,
        }
    }
}
