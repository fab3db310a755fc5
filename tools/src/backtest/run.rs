//! `autobot backtest`: the data through the same core that trades live,
//! against the simulated exchange, on one thread (data files are read,
//! parsed and merged ahead on a second: `ahead`).
//!
//! # Order of things at each input (see `exchange` for the fill model)
//! 1. Requests and funding times due by the input's exchange time reach
//!    the exchange; its reports go to the core at once, and the core's
//!    answers are sent on.
//! 2. Bar data without a book: the bar's close is quoted first.
//! 3. The core processes the input; its orders leave for the exchange.
//! 4. The exchange sees the input (book, trades, bars, marks): resting
//!    orders the market reached fill, funding settles, a margin call
//!    liquidates; those reports go to the core.
//!
//! Inputs get sequence numbers in the order the core sees them, reports
//! included, exactly as a journal would number them, so a backtest is a
//! replay of the journal it would have written.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use autobot_engine::config::CoreConfig;
use autobot_engine::core::Core;
use autobot_engine::event::{InputEvent, OutputEvent};
use autobot_engine::types::{Seq, SymbolId, UnixNanos};
use autobot_exchange::FillConfig;
use autobot_journal::Journal;

use super::exchange::SimExchange;
use super::import::Manifest;
use super::record::Recorder;
use super::settings::BacktestConfig;
use super::{InputError, Merged, SymbolFiles};

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// A data file was refused.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The imported journal is unreadable.
    #[error("journal {}: {reason}", dir.display())]
    Journal {
        /// The import directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
    /// The data's symbols and the configuration disagree.
    #[error("{0}")]
    Symbols(String),
    /// A trace or a journal to keep could not be set up.
    #[error("{0}")]
    Keep(String),
    /// A model of the `[advisor]` registry did not load.
    #[error(transparent)]
    Advisor(#[from] autobot_gateways::advisor::ModelError),
}

/// Where the inputs come from.
pub enum Inputs {
    /// Data files, read and merged as the backtest runs.
    Raw(Box<Merged>),
    /// An imported journal (`autobot import`).
    Journal {
        /// The journal.
        journal: Box<Journal>,
        /// Its directory, for messages.
        dir: PathBuf,
    },
}

impl Inputs {
    /// The import directory `dir` (holding `journal/` and `import.toml`)
    /// and its manifest.
    pub fn imported(dir: &Path) -> Result<(Inputs, Manifest), BacktestError> {
        let failed = |reason: String| BacktestError::Journal {
            dir: dir.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(dir.join("import.toml")).map_err(|e| {
            failed(format!(
                "import.toml: {e} (is this an `autobot import` directory?)"
            ))
        })?;
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| failed(format!("import.toml: {e}")))?;
        let journal = Journal::open(&dir.join("journal")).map_err(|e| failed(e.to_string()))?;
        Ok((
            Inputs::Journal {
                journal: Box::new(journal),
                dir: dir.to_path_buf(),
            },
            manifest,
        ))
    }

    /// Feeds every input, in order, to `each`, until it breaks. By
    /// reference: an event is large enough that moving it through the
    /// layers of a step costs as much as the decoding.
    pub fn for_each(
        self,
        mut each: impl FnMut(&mut InputEvent) -> ControlFlow<()>,
    ) -> Result<(), BacktestError> {
        match self {
            Inputs::Raw(merged) => {
                let mut ahead = super::ahead::ReadAhead::start(*merged)?;
                while let Some(ev) = ahead.next_mut()? {
                    if each(ev).is_break() {
                        break;
                    }
                }
            }
            Inputs::Journal { journal, dir } => {
                let mut ev = InputEvent::default();
                for rec in journal.records() {
                    if rec.meta.is_meta() {
                        continue;
                    }
                    autobot_engine::event::input_into(rec.payload, &mut ev).map_err(|e| {
                        BacktestError::Journal {
                            dir: dir.clone(),
                            reason: format!("input {}: {}", rec.meta.seq, e.0),
                        }
                    })?;
                    if each(&mut ev).is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Sees every input the backtest's core processes (data, quotes and the
/// exchange's reports, numbered), the core after it and the outputs it
/// emitted: a trace, a journal of the whole run.
pub trait Observe: Send {
    /// One input, processed.
    fn input(&mut self, ev: &InputEvent, core: &Core, outputs: &[OutputEvent]);
    /// The backtest has finished.
    fn finish(&mut self, core: &Core);
}

/// A boxed [`Observe`].
pub type Observer = Box<dyn Observe>;

/// The core, the simulated exchange and the recorder, stepping together.
pub struct Backtest {
    /// The core.
    pub core: Core,
    /// The simulated exchange.
    pub exchange: SimExchange,
    /// What the report is made of.
    pub recorder: Recorder,
    seq: u64,
    /// Data inputs fed (reports and quotes not counted).
    pub data_events: u64,
    /// UTC days with data (a gap between data segments is not counted).
    pub data_days: u64,
    /// Where the next UTC day begins (ns).
    next_day: u64,
    outs: Vec<OutputEvent>,
    reports: VecDeque<InputEvent>,
    observer: Option<Observer>,
    /// The registry's models, run inline (`advise`).
    advisor: Option<autobot_gateways::advisor::Advisor>,
    /// Predictions made for the input just processed, fed next.
    advice: Vec<InputEvent>,
    /// The data's own sequence of recent data inputs and the number each
    /// got here (`SEQ_MAP` slots by the data's sequence): a prediction
    /// carried in the data names its features by the data's numbering.
    seq_map: Vec<(u64, u64)>,
    /// Predictions the data carried, dropped because models run inline.
    pub data_predictions_dropped: u64,
}

/// Recent data inputs whose numbering a carried prediction can name.
const SEQ_MAP: usize = 4096;

impl Backtest {
    /// A backtest of `core` against an exchange with `paper`'s fees and
    /// latency and `cfg`'s rules.
    pub fn new(core: &CoreConfig, paper: &FillConfig, cfg: &BacktestConfig) -> Backtest {
        Backtest {
            core: Core::new(core),
            exchange: SimExchange::new(core, paper, cfg),
            recorder: Recorder::new(core.instruments.len(), cfg.returns_secs),
            seq: 0,
            data_events: 0,
            data_days: 0,
            next_day: 0,
            outs: Vec::with_capacity(64),
            reports: VecDeque::with_capacity(256),
            observer: None,
            advisor: None,
            advice: Vec::with_capacity(8),
            seq_map: vec![(u64::MAX, 0); SEQ_MAP],
            data_predictions_dropped: 0,
        }
    }

    /// Runs `advisor`'s models inline: after each input, a prediction
    /// about each feature vector the core handed out is fed to the core
    /// before the next input, in event order, so the run is deterministic
    /// (the live stage answers microseconds later; either way the
    /// prediction is about that bar and first read at the next entry).
    pub fn advise(&mut self, advisor: autobot_gateways::advisor::Advisor) {
        self.advisor = Some(advisor);
    }

    /// The inline advisor's totals.
    pub fn advisor_stats(&self) -> Option<autobot_gateways::advisor::StageStats> {
        self.advisor
            .as_ref()
            .map(autobot_gateways::advisor::Advisor::stats)
    }

    /// Shows every input from here on to `observer`.
    pub fn observe(&mut self, observer: Observer) {
        self.observer = Some(observer);
    }

    /// One data input (steps 1–4 of the module docs); it gets its
    /// sequence number here.
    pub fn step(&mut self, ev: &mut InputEvent) {
        self.data_events += 1;
        let t = ev.header.exchange;
        if t.0 >= self.next_day {
            const DAY: u64 = 86_400 * 1_000_000_000;
            self.data_days += 1;
            self.next_day = (t.0 / DAY + 1) * DAY;
        }
        while self.exchange.advance(t, &mut self.reports) {
            self.drain();
        }
        if let Some(mut quote) = self.exchange.bar_quote(ev) {
            self.input(&mut quote, None);
            self.exchange.on_bar_quote(&quote, &mut self.reports);
            self.drain();
        }
        self.market(ev);
    }

    /// The data has ended: requests on their way arrive; the books close.
    pub fn finish(&mut self) {
        self.exchange.finish(&mut self.reports);
        self.drain();
        self.recorder.finish(&self.core);
        if let Some(see) = self.observer.as_mut() {
            see.finish(&self.core);
        }
    }

    fn market(&mut self, ev: &mut InputEvent) {
        if let autobot_engine::event::InputBody::Prediction(p) = &mut ev.body {
            if self.advisor.is_some() {
                self.data_predictions_dropped += 1;
                return;
            }
            // The data's numbering to this run's (unknown: left as is, and
            // the core refuses it as about features it never handed out).
            let (from, to) = self.seq_map[(p.features_seq.0 as usize) % SEQ_MAP];
            if from == p.features_seq.0 {
                p.features_seq = Seq(to);
            }
        } else {
            self.seq_map[(ev.header.seq.0 as usize) % SEQ_MAP] = (ev.header.seq.0, self.seq);
        }
        let gap = self.exchange.observe_gap(ev);
        self.input(ev, gap);
        self.exchange.on_market(ev, &mut self.reports);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(mut r) = self.reports.pop_front() {
            self.input(&mut r, None);
        }
    }

    /// Numbers an input, feeds it to the core, sends its orders on.
    fn input(&mut self, ev: &mut InputEvent, gap: Option<i64>) {
        ev.header.seq = Seq(self.seq);
        self.seq += 1;
        let before = Recorder::before(ev, &self.core);
        self.outs.clear();
        self.core.on_event(ev, &mut self.outs);
        if let Some(see) = self.observer.as_mut() {
            see.input(ev, &self.core, &self.outs);
        }
        for o in &self.outs {
            self.exchange.on_output(o, ev.header.exchange, gap);
        }
        self.recorder.after(ev, before, &self.outs, &self.core);
        if let Some(advisor) = self.advisor.as_mut() {
            let (now, advice) = (self.core.now(), &mut self.advice);
            for o in &self.outs {
                advisor.on_output(o, |sym, p| {
                    advice.push(autobot_gateways::advisor::stage::prediction_event(
                        sym,
                        p,
                        now,
                        autobot_engine::types::MonoNanos(0),
                    ));
                });
            }
            let mut made = std::mem::take(&mut self.advice);
            for p in &mut made {
                self.input(p, None);
            }
            made.clear();
            self.advice = made;
        }
    }
}

/// The data of a backtest.
#[derive(Clone, Debug)]
pub enum DataSource {
    /// Data files (any format `autobot import` reads).
    Files(Vec<PathBuf>),
    /// An `autobot import` directory.
    Imported(PathBuf),
}

/// A finished backtest with the core configuration it ran.
pub struct Finished {
    /// The backtest, after `finish`.
    pub backtest: Backtest,
    /// The core's configuration (the configured instruments that have data).
    pub core: CoreConfig,
    /// Wall time of the replay only (opening the data excluded).
    pub elapsed: std::time::Duration,
}

/// `cfg` as the backtest's core ran it: only the instruments of `symbols`
/// (the data's), and the correlated groups among them. It loads again as
/// it is (`config.toml` beside a report or a kept journal).
pub fn effective_config(
    cfg: &crate::config::AppConfig,
    symbols: &[String],
) -> crate::config::AppConfig {
    let mut c = cfg.clone();
    let keep: Vec<bool> = c
        .instruments
        .iter()
        .map(|i| symbols.contains(&i.symbol))
        .collect();
    c.instruments.retain(|i| symbols.contains(&i.symbol));
    // The synthetic market's start prices go with their instruments (a
    // listed symbol has none: it takes the first's, unused by a replay).
    let prices = &mut c.market.start_prices;
    if prices.len() == keep.len() {
        let mut k = keep.iter();
        prices.retain(|_| k.next().copied().unwrap_or(false));
    }
    if let Some(&first) = prices.first().or(cfg.market.start_prices.first()) {
        prices.resize(c.instruments.len(), first);
    }
    let groups = &mut c.risk.portfolio.correlated;
    for g in groups.iter_mut() {
        g.retain(|s| symbols.contains(s));
    }
    groups.retain(|g| g.len() > 1);
    c
}

/// The configuration restricted to `symbols` (the data's, in `SymbolId`
/// order), which must be configured and in the configuration's order: a
/// configured symbol without data would go stale and hold the core in
/// SAFE_MODE.
pub fn core_for(
    cfg: &crate::config::AppConfig,
    symbols: &[String],
) -> Result<CoreConfig, BacktestError> {
    let mut c = cfg.clone();
    c.instruments.retain(|i| symbols.contains(&i.symbol));
    let have: Vec<&String> = c.instruments.iter().map(|i| &i.symbol).collect();
    if have.len() != symbols.len() || have.iter().zip(symbols).any(|(a, b)| *a != b) {
        return Err(BacktestError::Symbols(format!(
            "the data's symbols {symbols:?} must be configured instruments, in the configuration's order (configured: {:?})",
            cfg.instruments
                .iter()
                .map(|i| &i.symbol)
                .collect::<Vec<_>>()
        )));
    }
    Ok(c.core())
}

/// The data of a backtest, opened.
struct Opened {
    inputs: Inputs,
    /// The data's symbols, in `SymbolId` order.
    symbols: Vec<String>,
    /// Events in an import (for the progress bar).
    total: Option<u64>,
    /// Files of funding-rate rows, whose symbols' funding the exchange
    /// must not announce itself.
    funding_files: Vec<PathBuf>,
}

/// The inputs of `data` in time order and its symbols (in `SymbolId`
/// order): what a backtest reads, for other readers of the same data
/// (`autobot features`).
pub fn data_inputs(
    cfg: &crate::config::AppConfig,
    data: &DataSource,
) -> Result<(Inputs, Vec<String>), BacktestError> {
    let o = open_data(cfg, data)?;
    Ok((o.inputs, o.symbols))
}

fn open_data(cfg: &crate::config::AppConfig, data: &DataSource) -> Result<Opened, BacktestError> {
    let configured: Vec<String> = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    Ok(match data {
        DataSource::Files(files) => {
            let input = SymbolFiles::of_data(files, &configured)?;
            let merged = Merged::open(&input)?;
            let funding_files = merged
                .sources()
                .iter()
                .filter(|s| s.is_funding())
                .map(|s| s.path().to_path_buf())
                .collect();
            Opened {
                inputs: Inputs::Raw(Box::new(merged)),
                symbols: input.symbols,
                total: None,
                funding_files,
            }
        }
        DataSource::Imported(dir) => {
            let (inputs, manifest) = Inputs::imported(dir)?;
            let funding_files = manifest
                .files
                .iter()
                .filter(|f| super::import::holds_funding(&f.format))
                .map(|f| PathBuf::from(&f.path))
                .collect();
            Opened {
                inputs,
                symbols: manifest.symbols,
                total: Some(manifest.events),
                funding_files,
            }
        }
    })
}

/// A span of exchange time, `from_ms` inclusive to `to_ms` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// First millisecond.
    pub from_ms: u64,
    /// The millisecond after the last.
    pub to_ms: u64,
}

impl Window {
    fn holds(&self, t: UnixNanos) -> bool {
        let ms = t.0 / 1_000_000;
        self.from_ms <= ms && ms < self.to_ms
    }
}

/// The exchange time (ms) of every `stride`-th input of `data`, and of
/// its last, in ascending order: where the data's inputs lie in time
/// (walk-forward windows hold equal shares of them). One pass.
pub fn data_times(
    cfg: &crate::config::AppConfig,
    data: &DataSource,
    stride: u64,
) -> Result<Vec<u64>, BacktestError> {
    let (mut times, mut n, mut last) = (Vec::new(), 0u64, None);
    open_data(cfg, data)?.inputs.for_each(|ev| {
        let t = ev.header.exchange.0 / 1_000_000;
        if n.is_multiple_of(stride.max(1)) {
            times.push(t);
        }
        n += 1;
        last = Some(t);
        ControlFlow::Continue(())
    })?;
    times.extend(last);
    times.sort_unstable();
    Ok(times)
}

/// The first symbol's price at each of its inputs (a bar's close, a
/// ticker's mid, a trade's price) with its exchange time (ms), in input
/// order: what holding the symbol did (`strategies`' buy-and-hold).
pub fn prices(
    cfg: &crate::config::AppConfig,
    data: &DataSource,
) -> Result<Vec<(u64, f64)>, BacktestError> {
    use autobot_engine::event::InputBody;
    let mut out = Vec::new();
    open_data(cfg, data)?.inputs.for_each(|ev| {
        let price = match ev.body {
            InputBody::Kline(k) => Some(k.close),
            InputBody::BookTicker(t) => {
                Some(autobot_engine::types::Price::mid(t.bid_price, t.ask_price))
            }
            InputBody::AggTrade(t) => Some(t.price),
            _ => None,
        };
        if let Some(p) = price.filter(|_| ev.header.symbol.0 == 0) {
            out.push((ev.header.exchange.0 / 1_000_000, p.to_f64()));
        }
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Runs a backtest of `cfg` over `data` (only its inputs inside `window`,
/// when given: the run starts fresh at the window's start); a progress bar
/// on stderr when `progress` (indicatif draws nothing when stderr is not
/// a terminal).
pub fn run_backtest(
    cfg: &crate::config::AppConfig,
    data: &DataSource,
    window: Option<Window>,
    progress: bool,
) -> Result<Finished, BacktestError> {
    run_observed(cfg, data, (window, progress), |_| Ok(None))
}

/// [`run_backtest`] with an observer, made by `observe` from the data's
/// symbols (in `SymbolId` order) once the data is open.
pub fn run_observed(
    cfg: &crate::config::AppConfig,
    data: &DataSource,
    (window, progress): (Option<Window>, bool),
    observe: impl FnOnce(&[String]) -> Result<Option<Observer>, BacktestError>,
) -> Result<Finished, BacktestError> {
    let Opened {
        inputs,
        symbols,
        total,
        funding_files,
    } = open_data(cfg, data)?;
    let core = core_for(cfg, &symbols)?;
    let mut bt = Backtest::new(&core, &cfg.paper, &cfg.backtest);
    if let Some(o) = observe(&symbols)? {
        bt.observe(o);
    }
    let models = cfg.advisor.load()?;
    if !models.is_empty() {
        bt.advise(autobot_gateways::advisor::Advisor::new(
            models,
            symbols.len(),
        ));
    }
    for f in &funding_files {
        let sym = super::symbol_of(f, &symbols)?;
        bt.exchange
            .funding_from_data(SymbolId(u16::try_from(sym).unwrap_or(u16::MAX)));
    }
    let total = total.filter(|_| window.is_none());
    let bar = if progress {
        let bar = total.map_or_else(
            indicatif::ProgressBar::new_spinner,
            indicatif::ProgressBar::new,
        );
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {human_pos}/{human_len} events ({per_sec})",
        );
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        Some(bar)
    } else {
        None
    };
    let began = std::time::Instant::now();
    inputs.for_each(|ev| {
        if let Some(w) = window
            && !w.holds(ev.header.exchange)
        {
            // Inputs are in time order (a capture's within its clock skew).
            return if ev.header.exchange.0 / 1_000_000 >= w.to_ms.saturating_add(60_000) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            };
        }
        bt.step(ev);
        if bt.data_events.is_multiple_of(1 << 16)
            && let Some(b) = &bar
        {
            b.set_position(bt.data_events);
        }
        ControlFlow::Continue(())
    })?;
    bt.finish();
    let elapsed = began.elapsed();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(Finished {
        backtest: bt,
        core,
        elapsed,
    })
}
