//! Several data files merged into one stream in exchange-time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;

use autobot_engine::event::InputEvent;
use autobot_engine::types::SymbolId;

use super::{CsvSource, InputError, symbol_of};

/// Files and the symbols they may belong to.
#[derive(Clone, Debug)]
pub struct SymbolFiles {
    /// The data files, in the order ties are broken.
    pub files: Vec<PathBuf>,
    /// Configured symbols in `SymbolId` order.
    pub symbols: Vec<String>,
}

/// The merged stream.
pub struct Merged {
    sources: Vec<CsvSource>,
    /// The next event of each source not yet ended, keyed by (time, file).
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    next: Vec<Option<InputEvent>>,
}

impl Merged {
    /// Opens every file (detecting its format and symbol) and reads the
    /// first row of each.
    pub fn open(input: &SymbolFiles) -> Result<Merged, InputError> {
        let mut sources = Vec::with_capacity(input.files.len());
        for path in &input.files {
            let sym = symbol_of(path, &input.symbols)?;
            let id = SymbolId(u16::try_from(sym).unwrap_or(u16::MAX));
            sources.push(CsvSource::open(path, id)?);
        }
        let mut m = Merged {
            heads: BinaryHeap::with_capacity(sources.len()),
            next: vec![None; sources.len()],
            sources,
        };
        for i in 0..m.sources.len() {
            m.refill(i)?;
        }
        Ok(m)
    }

    fn refill(&mut self, i: usize) -> Result<(), InputError> {
        let ev = self.sources[i].next_event()?;
        if let Some(e) = &ev {
            self.heads.push(Reverse((e.header.exchange.0, i)));
        }
        self.next[i] = ev;
        Ok(())
    }

    /// The next event in time order, `None` when every file has ended.
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        let Some(Reverse((_, i))) = self.heads.pop() else {
            return Ok(None);
        };
        let ev = self.next[i].take();
        self.refill(i)?;
        Ok(ev)
    }

    /// The sources, for their formats and row counts.
    pub fn sources(&self) -> &[CsvSource] {
        &self.sources
    }

    /// Data rows read so far, over every file.
    pub fn rows(&self) -> u64 {
        self.sources.iter().map(CsvSource::rows).sum()
    }
}
