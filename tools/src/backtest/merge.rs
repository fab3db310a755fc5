//! Several data files merged into one stream in exchange-time order.
//!
//! A funding-rate row gets its price here: the symbol's last price before
//! it in the merged stream (a trade's price, a book ticker's mid, a bar's
//! close or a mark), zero when none came yet (nothing can be held then).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;

use autobot_engine::event::{InputBody, InputEvent};
use autobot_engine::types::{Price, SymbolId};

use std::io::BufRead as _;
use std::path::Path;

use super::capture::{CaptureSource, looks_like_capture};
use super::feather::{self, FeatherSource};
use super::nautilus::{self, NautilusSource};
use super::tardis::{self, TardisSource};
use super::{CsvSource, InputError, symbol_of};

/// One data file of any format.
pub enum DataFile {
    /// A CSV (`Format`).
    Csv(Box<CsvSource>),
    /// A capture.
    Capture(Box<CaptureSource>),
    /// A freqtrade feather file.
    Feather(Box<FeatherSource>),
    /// A Tardis.dev CSV.
    Tardis(Box<TardisSource>),
    /// A NautilusTrader catalog partition (or one of its Parquet files).
    Nautilus(Box<NautilusSource>),
}

impl DataFile {
    /// Opens `path` for `symbol` (of `names`), detecting a capture from its
    /// first bytes and a CSV's format from its header.
    pub fn open(path: &Path, names: &[String], symbol: SymbolId) -> Result<DataFile, InputError> {
        if path.is_dir() {
            return Ok(DataFile::Nautilus(Box::new(NautilusSource::open(
                path, symbol,
            )?)));
        }
        let mut input = super::source::open(path)?;
        let head = input.fill_buf().map_err(|e| InputError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if head.starts_with(nautilus::MAGIC) {
            drop(input);
            return Ok(DataFile::Nautilus(Box::new(NautilusSource::open(
                path, symbol,
            )?)));
        }
        if head.starts_with(feather::MAGIC) {
            drop(input);
            return Ok(DataFile::Feather(Box::new(FeatherSource::open(
                path, symbol,
            )?)));
        }
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        if let Some(kind) = std::str::from_utf8(first_line)
            .ok()
            .and_then(tardis::Kind::of_header)
        {
            drop(input);
            return Ok(DataFile::Tardis(Box::new(TardisSource::open(
                path, kind, symbol,
            )?)));
        }
        if looks_like_capture(head) {
            return Ok(DataFile::Capture(Box::new(CaptureSource::new(
                path, input, names, symbol,
            ))));
        }
        drop(input);
        Ok(DataFile::Csv(Box::new(CsvSource::open(path, symbol)?)))
    }

    /// The next event written into `out`, and its merge key (its exchange
    /// time, except that a capture's key never decreases); `None` at the
    /// end. A CSV row is parsed straight into `out` (see
    /// [`CsvSource::next_into`](super::CsvSource::next_into)).
    pub fn next_into(&mut self, out: &mut InputEvent) -> Result<Option<u64>, InputError> {
        let (key, ev) = match self {
            DataFile::Csv(c) => return Ok(c.next_into(out)?.then_some(out.header.exchange.0)),
            DataFile::Capture(c) => c.next_event()?,
            DataFile::Feather(f) => f.next_event()?.map(|e| (e.header.exchange.0, e)),
            DataFile::Tardis(t) => t.next_event()?.map(|e| (e.header.exchange.0, e)),
            DataFile::Nautilus(n) => n.next_event()?.map(|e| (e.header.exchange.0, e)),
        }
        .unzip();
        if let Some(ev) = ev {
            *out = ev;
        }
        Ok(key)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            DataFile::Csv(c) => c.path(),
            DataFile::Capture(c) => c.path(),
            DataFile::Feather(f) => f.path(),
            DataFile::Tardis(t) => t.path(),
            DataFile::Nautilus(n) => n.path(),
        }
    }

    /// The file holds funding-rate rows.
    pub fn is_funding(&self) -> bool {
        match self {
            DataFile::Csv(c) => c.format() == super::Format::FundingRate,
            DataFile::Feather(f) => f.kind() == feather::Kind::FundingRate,
            DataFile::Capture(_) | DataFile::Tardis(_) | DataFile::Nautilus(_) => false,
        }
    }

    /// Its format's name.
    pub fn format_name(&self) -> &'static str {
        match self {
            DataFile::Csv(c) => c.format().name(),
            DataFile::Capture(_) => "capture",
            DataFile::Feather(f) => f.kind().name(),
            DataFile::Tardis(t) => t.kind().name(),
            DataFile::Nautilus(n) => n.kind().name(),
        }
    }

    /// Data rows (lines of a capture) read so far.
    pub fn rows(&self) -> u64 {
        match self {
            DataFile::Csv(c) => c.rows(),
            DataFile::Capture(c) => c.rows(),
            DataFile::Feather(f) => f.rows(),
            DataFile::Tardis(t) => t.rows(),
            DataFile::Nautilus(n) => n.rows(),
        }
    }

    /// Rows stamped at the row before's time (`CsvSource::held`).
    pub fn held(&self) -> u64 {
        match self {
            DataFile::Csv(c) => c.held(),
            DataFile::Tardis(t) => t.held(),
            DataFile::Capture(_) | DataFile::Feather(_) | DataFile::Nautilus(_) => 0,
        }
    }

    /// The gaps of a bar or kline file read so far.
    pub fn gaps(&self) -> &[super::rows::Gap] {
        match self {
            DataFile::Csv(c) => c.gaps(),
            DataFile::Feather(f) => f.gaps(),
            DataFile::Nautilus(n) => n.gaps(),
            DataFile::Capture(_) | DataFile::Tardis(_) => &[],
        }
    }
}

/// Files and the symbols they may belong to.
#[derive(Clone, Debug)]
pub struct SymbolFiles {
    /// The data files, in the order ties are broken.
    pub files: Vec<PathBuf>,
    /// Configured symbols in `SymbolId` order.
    pub symbols: Vec<String>,
}

impl SymbolFiles {
    /// `files` with the configured symbols that they hold data for, in
    /// configuration order (each file's symbol is checked here).
    /// A NautilusTrader catalog root stands for its partitions.
    pub fn of_data(files: &[PathBuf], configured: &[String]) -> Result<SymbolFiles, InputError> {
        let files = nautilus::expand(files)?;
        let mut used = vec![false; configured.len()];
        for f in &files {
            used[symbol_of(f, configured)?] = true;
        }
        Ok(SymbolFiles {
            files,
            symbols: configured
                .iter()
                .zip(used)
                .filter(|(_, u)| *u)
                .map(|(s, _)| s.clone())
                .collect(),
        })
    }
}

/// The merged stream.
pub struct Merged {
    sources: Vec<DataFile>,
    /// The next event of each source not yet ended, keyed by (time, file).
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    /// (A source that ended is no longer in `heads`; its slot is stale.)
    next: Vec<InputEvent>,
    /// Each symbol's last price, for funding rows.
    last_price: Vec<Price>,
}

/// The price an event shows for its symbol, if any.
fn price_of(body: &InputBody) -> Option<Price> {
    match body {
        InputBody::AggTrade(t) => Some(t.price),
        InputBody::BookTicker(b) => {
            let sum = b.bid_price.raw().checked_add(b.ask_price.raw())?;
            Some(Price::from_raw(sum / 2))
        }
        InputBody::Kline(k) => Some(k.close),
        InputBody::MarkPrice(m) => Some(m.mark_price),
        _ => None,
    }
    .filter(|p| p.is_positive())
}

impl Merged {
    /// Opens every file (detecting its format and symbol) and reads the
    /// first row of each.
    pub fn open(input: &SymbolFiles) -> Result<Merged, InputError> {
        let mut sources = Vec::with_capacity(input.files.len());
        for path in &input.files {
            let sym = symbol_of(path, &input.symbols)?;
            let id = SymbolId(u16::try_from(sym).unwrap_or(u16::MAX));
            sources.push(DataFile::open(path, &input.symbols, id)?);
        }
        for f in sources.iter().filter(|f| f.is_funding()) {
            let sym = symbol_of(f.path(), &input.symbols)?;
            let capture = sources.iter().find(|c| {
                matches!(c, DataFile::Capture(_))
                    && symbol_of(c.path(), &input.symbols).is_ok_and(|s| s == sym)
            });
            if let Some(c) = capture {
                return Err(InputError::Conflict(format!(
                    "{} and {}: a capture's mark prices already carry {}'s funding; give one of them",
                    f.path().display(),
                    c.path().display(),
                    input.symbols[sym]
                )));
            }
        }
        let mut m = Merged {
            heads: BinaryHeap::with_capacity(sources.len()),
            next: vec![InputEvent::default(); sources.len()],
            last_price: vec![Price::ZERO; input.symbols.len()],
            sources,
        };
        for i in 0..m.sources.len() {
            m.refill(i)?;
        }
        Ok(m)
    }

    fn refill(&mut self, i: usize) -> Result<(), InputError> {
        if let Some(key) = self.sources[i].next_into(&mut self.next[i])? {
            self.heads.push(Reverse((key, i)));
        }
        Ok(())
    }

    /// The next event in time order, `None` when every file has ended.
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        let mut ev = InputEvent::default();
        Ok(self.next_into(&mut ev)?.then_some(ev))
    }

    /// The next event in time order written into `out`; `false` when every
    /// file has ended. On an error `out` holds nothing to use.
    pub fn next_into(&mut self, out: &mut InputEvent) -> Result<bool, InputError> {
        let Some(&Reverse((_, i))) = self.heads.peek() else {
            return Ok(false);
        };
        *out = self.next[i];
        // The file's next row replaces its head in place (one sift, not a
        // pop and a push: this runs for every row).
        match self.sources[i].next_into(&mut self.next[i])? {
            Some(key) => {
                if let Some(mut head) = self.heads.peek_mut() {
                    *head = Reverse((key, i));
                }
            }
            None => {
                self.heads.pop();
            }
        }
        if let Some(last) = self.last_price.get_mut(usize::from(out.header.symbol.0)) {
            match &mut out.body {
                InputBody::Funding(f) => f.mark = *last,
                body => *last = price_of(body).unwrap_or(*last),
            }
        }
        Ok(true)
    }

    /// The sources, for their formats and row counts.
    pub fn sources(&self) -> &[DataFile] {
        &self.sources
    }

    /// Data rows read so far, over every file.
    pub fn rows(&self) -> u64 {
        self.sources.iter().map(DataFile::rows).sum()
    }
}
