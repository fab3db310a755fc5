//! Configuration: loading TOML with messages a user can act on, and the
//! sections the engine owns (runtime, instruments, strategy, risk).
//!
//! # Invariants
//! - Unknown keys are refused (`deny_unknown_fields` everywhere), with the
//!   file, the full key path and the line.
//! - Every numeric setting has a documented range; [`Validate`] checks it
//!   after parsing and names file, key, value and the allowed range.
//! - Decimals (prices, sizes) are written as strings so they stay exact.
//!
//! Other crates add their own sections and implement [`Validate`] for them;
//! the CLI composes the whole file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

mod explain;
pub mod presets;
mod risk;

pub use crate::strategy::StrategyConfig;
pub use crate::validate::{RangeError, Validate, check_range, join_key};

pub use risk::{
    AccountConfig, BreakerConfig, ControlConfig, DriftAction, ForbiddenConfig, GuardConfig,
    LiquidationHold, NoEdge, PortfolioConfig, RiskConfig, SanityConfig, SizingConfig, StartMode,
    WatchConfig,
};

use crate::types::{
    Bracket, Brackets, Instrument, MAX_BRACKETS, Money, Price, Qty, Rate, SymbolId, SymbolName,
};

/// Why a configuration was refused. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read config: {reason}")]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// OS error text.
        reason: String,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("{file}:{line}: {key}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// Full dotted key path.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A value outside its allowed range.
    #[error("{file}: {key} = {value} is out of range; allowed: {allowed}")]
    OutOfRange {
        /// The file.
        file: PathBuf,
        /// Full dotted key path.
        key: String,
        /// The value given.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
}

/// Parses and validates TOML text that came from `path`.
pub fn parse<T: DeserializeOwned + Validate>(path: &Path, text: &str) -> Result<T, ConfigError> {
    parse_then(path, text, |_| Ok(()))
}

/// Parses TOML text that came from `path`, lets `complete` fill in what the
/// file may leave out, then validates.
pub fn parse_then<T: DeserializeOwned + Validate>(
    path: &Path,
    text: &str,
    complete: impl FnOnce(&mut T) -> Result<(), ConfigError>,
) -> Result<T, ConfigError> {
    let invalid = |line, key: String, reason: String| ConfigError::Invalid {
        file: path.to_path_buf(),
        line,
        key,
        reason,
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        invalid(
            line_of(text, e.span()),
            "(syntax)".into(),
            one_line(e.message()),
        )
    })?;
    let mut value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let reason = one_line(inner.message());
        let reason = explain::type_error::<T>(text, inner.span(), &key, &reason).unwrap_or(reason);
        // Name the unknown field itself when the path stops at its parent
        // (serde_path_to_error includes it for tables but not at the root).
        let parent = if key == "." { "" } else { key.as_str() };
        if let Some(field) = missing_field_name(&reason) {
            let reason = if text
                .lines()
                .all(|l| l.trim().is_empty() || l.trim().starts_with('#'))
            {
                "the file is empty; this table is required (config/paper.toml has every key)"
            } else {
                "missing; this key is required"
            };
            return invalid(
                line_of(text, inner.span()),
                join_key(parent, field),
                reason.into(),
            );
        }
        let key = match unknown_field_name(&reason) {
            Some(field) if !key.ends_with(field) => join_key(parent, field),
            _ => key,
        };
        invalid(line_of(text, inner.span()), key, reason)
    })?;
    complete(&mut value)?;
    value.validate("").map_err(|r| ConfigError::OutOfRange {
        file: path.to_path_buf(),
        key: r.key,
        value: r.value,
        allowed: r.allowed,
    })?;
    Ok(value)
}

fn missing_field_name(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn unknown_field_name(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    match span {
        Some(r) => text[..r.start.min(text.len())].matches('\n').count() + 1,
        None => 0,
    }
}

/// How consumer threads wait when the ring is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitKind {
    /// Spin on the sequence: lowest latency, burns a whole core. Only for
    /// isolated cores.
    BusySpin,
    /// Spin briefly, then `yield` the CPU: works on shared machines, but
    /// an idle thread still takes a CPU whenever nothing else wants it.
    Yield,
    /// Spin briefly, yield for a short spell, then sleep until an event
    /// arrives (a futex the producers ring): an idle engine uses no CPU,
    /// and the first event after a quiet spell pays a wake-up.
    Park,
}

/// Where the journal is written relative to the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Journaller on its own thread; the core consumes only journaled
    /// events. For hosts with a core to spare.
    Dedicated,
    /// The core thread journals each batch before processing it. For small
    /// hosts (2 cores).
    Inline,
}

/// CPU to pin each thread to; an absent entry leaves the thread unpinned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CpuMap {
    /// Market-data gateway thread.
    pub market: Option<usize>,
    /// Journaller thread (dedicated layout only).
    pub journal: Option<usize>,
    /// Business-logic core thread.
    pub core: Option<usize>,
    /// Execution gateway thread.
    pub execution: Option<usize>,
    /// SCHED_FIFO priority (1 ..= 99) for the threads pinned above; 0
    /// leaves them under the normal scheduler. Unpinned threads never get
    /// it: a spinning FIFO thread without a CPU of its own can starve the
    /// host. Not permitted (no CAP_SYS_NICE / RLIMIT_RTPRIO): a warning,
    /// and the thread runs on normally.
    #[serde(default)]
    pub realtime_priority: u8,
}

impl CpuMap {
    /// Each pinned stage's key and CPU, in config order.
    pub fn threads(&self) -> [(&'static str, Option<usize>); 4] {
        [
            ("market", self.market),
            ("journal", self.journal),
            ("core", self.core),
            ("execution", self.execution),
        ]
    }
}

/// `[engine]`: the rings and threads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Input ring slots (power of two, 64 ..= 2^24).
    pub ring_size: usize,
    /// Output ring slots (power of two, 64 ..= 2^22).
    pub output_ring_size: usize,
    /// Consumer wait strategy.
    pub wait: WaitKind,
    /// Journal on its own thread or inline on the core thread.
    pub layout: Layout,
    /// Thread pinning.
    #[serde(default)]
    pub cpus: CpuMap,
    /// Lock the process's memory (`mlockall(MCL_CURRENT | MCL_FUTURE)`) so
    /// no page of the rings, pools or journal is ever swapped out or
    /// faulted in late. Not permitted (RLIMIT_MEMLOCK too low): a warning.
    #[serde(default)]
    pub mlockall: bool,
}

fn check_pow2(at: &str, key: &str, v: usize, min: usize, max: usize) -> Result<(), RangeError> {
    if !v.is_power_of_two() || v < min || v > max {
        return Err(RangeError::new(
            at,
            key,
            v,
            format!("a power of two in {min} ..= {max}"),
        ));
    }
    Ok(())
}

impl Validate for EngineConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_pow2(at, "ring_size", self.ring_size, 64, 1 << 24)?;
        check_pow2(at, "output_ring_size", self.output_ring_size, 64, 1 << 22)?;
        let cpus = join_key(at, "cpus");
        for (key, cpu) in self.cpus.threads() {
            if let Some(c) = cpu {
                // Whether the host has that CPU is the runtime's check
                // (`runtime::check_host_cpus`): the core reads no host.
                check_range(&cpus, key, c, 0, 1023)?;
            }
        }
        check_range(
            &cpus,
            "realtime_priority",
            self.cpus.realtime_priority,
            0,
            99,
        )?;
        Ok(())
    }
}

/// When journal records are made durable (the runtime maps it onto the
/// journal's `Durability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurabilityKind {
    /// Page cache only: survives a process crash, not a host crash.
    None,
    /// `msync` at every end of a ring batch.
    EveryBatch,
    /// `msync` after every `sync_every` records.
    EveryN,
}

/// `[journal]`: the journal of input events.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// Segment file size in MiB (1 ..= 65536).
    pub segment_mib: u64,
    /// Durability policy.
    pub durability: DurabilityKind,
    /// Records between syncs under `every-n` (1 ..= 1000000).
    pub sync_every: u32,
    /// Input events between periodic output-digest checkpoints (1000 ..=
    /// 100000000); every input that emits an output gets one too.
    pub checkpoint_every: u64,
    /// Inputs between periodic snapshots, written by a shadow core that
    /// follows the journal off the hot path (0: only at a clean stop;
    /// otherwise 1000 ..= 1000000000).
    pub snapshot_every: u64,
    /// Snapshots kept in a run's `snapshots/` (older ones are deleted;
    /// 2 ..= 1000, so a damaged newest one has a fallback).
    pub snapshot_keep: u32,
}

impl Validate for JournalConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "segment_mib", self.segment_mib, 1, 65_536)?;
        check_range(at, "sync_every", self.sync_every, 1, 1_000_000)?;
        check_range(
            at,
            "checkpoint_every",
            self.checkpoint_every,
            1_000,
            100_000_000,
        )?;
        if self.snapshot_every != 0 {
            check_range(
                at,
                "snapshot_every",
                self.snapshot_every,
                1_000,
                1_000_000_000,
            )?;
        }
        check_range(at, "snapshot_keep", self.snapshot_keep, 2, 1_000)
    }
}

/// `[[instruments]]`: one tradable symbol. Only `symbol` is required in a
/// file: a rule left out reads as zero (brackets: none) and the loader
/// fills it from the exchange's listing before validation (`autobot`'s
/// `AppConfig::load`; see `docs/live.md`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Exchange symbol, e.g. `"BTCUSDT"`.
    pub symbol: String,
    /// Price increment, e.g. `"0.10"`.
    #[serde(default)]
    pub tick_size: Price,
    /// Quantity increment, e.g. `"0.001"`.
    #[serde(default)]
    pub step_size: Qty,
    /// Minimum order notional in USDT, e.g. `"100"`.
    #[serde(default)]
    pub min_notional: Money,
    /// `LOT_SIZE.minQty`, e.g. `"0.001"`.
    #[serde(default)]
    pub min_qty: Qty,
    /// `LOT_SIZE.maxQty`, e.g. `"1000"`.
    #[serde(default)]
    pub max_qty: Qty,
    /// `MARKET_LOT_SIZE.maxQty`, e.g. `"120"`.
    #[serde(default)]
    pub max_market_qty: Qty,
    /// Maintenance-margin brackets, lowest first, each `[notional cap,
    /// maintenance margin rate, maintenance amount]` as Binance's
    /// `GET /fapi/v1/leverageBracket` gives them (`notionalCap`,
    /// `maintMarginRatio`, `cum`).
    #[serde(default)]
    pub brackets: Vec<BracketConfig>,
}

/// One maintenance-margin bracket: `["50000", "0.004", "0"]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct BracketConfig(pub Money, pub Rate, pub Money);

impl InstrumentConfig {
    /// The bracket table (checked by validation).
    pub fn bracket_table(&self) -> Result<Brackets, crate::types::BracketError> {
        let list: Vec<Bracket> = self
            .brackets
            .iter()
            .map(|&BracketConfig(cap, mmr, cum)| Bracket { cap, mmr, cum })
            .collect();
        Brackets::new(&list)
    }
}

/// Why `symbol` is not a Binance USD-M perpetual, naming the contract
/// type it is (`None`: it reads as one). autobot trades USD-M perpetuals
/// only: COIN-M contracts are margined and settled in the base coin, and
/// quarterly ones expire, which neither the margin model nor the runtime
/// knows.
pub fn contract_refusal(symbol: &str) -> Option<&'static str> {
    if let Some((base, suffix)) = symbol.split_once('_') {
        let quarterly = suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_digit());
        return Some(match (base.ends_with("USD"), suffix, quarterly) {
            (true, "PERP", _) => {
                "a USD-M perpetual, not a COIN-M perpetual (…USD_PERP, margined in the base coin)"
            }
            (true, _, true) => "a USD-M perpetual, not a COIN-M quarterly (delivery) contract",
            (false, _, true) => "a USD-M perpetual, not a USD-M quarterly (delivery) contract",
            _ => "a USD-M perpetual symbol (no `_` suffix)",
        });
    }
    if symbol.ends_with("USDT") || symbol.ends_with("USDC") {
        return None;
    }
    Some(if symbol.ends_with("USD") {
        "a USD-M perpetual (…USDT or …USDC); …USD names a COIN-M contract"
    } else {
        "a USD-M perpetual: USD-M perpetuals end in USDT or USDC"
    })
}

/// Most instruments one engine trades.
pub const MAX_INSTRUMENTS: usize = 256;

impl Validate for [InstrumentConfig] {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "length", self.len(), 1, MAX_INSTRUMENTS)?;
        for (i, ins) in self.iter().enumerate() {
            let here = format!("{at}[{i}]");
            if let Some(what) = contract_refusal(&ins.symbol) {
                return Err(RangeError::new(&here, "symbol", &ins.symbol, what));
            }
            if SymbolName::new(&ins.symbol).is_none() {
                return Err(RangeError::new(
                    &here,
                    "symbol",
                    &ins.symbol,
                    "1 to 16 uppercase letters or digits",
                ));
            }
            if self[..i].iter().any(|o| o.symbol == ins.symbol) {
                return Err(RangeError::new(
                    &here,
                    "symbol",
                    &ins.symbol,
                    "each symbol once",
                ));
            }
            if !ins.tick_size.is_positive() {
                return Err(RangeError::new(&here, "tick_size", ins.tick_size, "> 0"));
            }
            if !ins.step_size.is_positive() {
                return Err(RangeError::new(&here, "step_size", ins.step_size, "> 0"));
            }
            if ins.min_notional.is_negative() {
                return Err(RangeError::new(
                    &here,
                    "min_notional",
                    ins.min_notional,
                    ">= 0",
                ));
            }
            if !ins.min_qty.is_positive() || !ins.min_qty.is_multiple_of(ins.step_size) {
                return Err(RangeError::new(
                    &here,
                    "min_qty",
                    ins.min_qty,
                    "> 0 and a multiple of step_size",
                ));
            }
            for (key, v) in [
                ("max_qty", ins.max_qty),
                ("max_market_qty", ins.max_market_qty),
            ] {
                if v < ins.min_qty {
                    return Err(RangeError::new(&here, key, v, ">= min_qty"));
                }
            }
            if let Err(e) = ins.bracket_table() {
                let n = ins.brackets.len();
                return Err(RangeError::new(
                    &here,
                    "brackets",
                    format!("{n} brackets"),
                    format!("a valid Binance bracket table (1 ..= {MAX_BRACKETS}): {e}"),
                ));
            }
        }
        Ok(())
    }
}

/// Builds the instrument table (ids are positions in the list). Call only on
/// a validated list.
pub fn instruments(list: &[InstrumentConfig]) -> Vec<Instrument> {
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            Instrument::new(
                SymbolId(i as u16),
                SymbolName::new(&c.symbol).unwrap_or_default(),
                (c.tick_size, c.step_size),
                c.min_notional,
                (c.min_qty, c.max_qty, c.max_market_qty),
            )
        })
        .collect()
}

/// Checks that every symbol named in `[risk.portfolio] correlated` is a
/// configured instrument, at most once across groups.
pub fn check_correlated(
    instruments: &[InstrumentConfig],
    portfolio: &PortfolioConfig,
) -> Result<(), RangeError> {
    let mut seen: Vec<&str> = Vec::new();
    for (g, group) in portfolio.correlated.iter().enumerate() {
        for (i, name) in group.iter().enumerate() {
            let key = format!("correlated[{g}][{i}]");
            if !instruments.iter().any(|c| &c.symbol == name) {
                return Err(RangeError::new(
                    "risk.portfolio",
                    &key,
                    name,
                    "a symbol of [[instruments]]",
                ));
            }
            if seen.contains(&name.as_str()) {
                return Err(RangeError::new(
                    "risk.portfolio",
                    &key,
                    name,
                    "each symbol in one group, once",
                ));
            }
            seen.push(name);
        }
    }
    Ok(())
}

/// Everything the core needs, assembled from validated sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreConfig {
    /// Instrument table, indexed by `SymbolId`.
    pub instruments: Vec<Instrument>,
    /// Maintenance-margin brackets, indexed like `instruments`.
    pub brackets: Vec<Brackets>,
    /// Strategy parameters.
    pub strategy: StrategyConfig,
    /// The rulebook and the other risk settings.
    pub risk: RiskConfig,
    /// Control modes.
    pub control: ControlConfig,
    /// The margin account.
    pub account: AccountConfig,
    /// DRY_RUN deployment: every order intent is audited and vetoed
    /// (signals only).
    pub dry_run: bool,
    /// What a round trip costs: the fees and slippage entries are judged
    /// against (`min_edge`).
    pub costs: Costs,
    /// The `[advisor]` registry's model names, in order: a prediction
    /// names its model by index here. While it is empty the core emits
    /// no feature vectors.
    pub models: Vec<String>,
}

/// Trading costs as the core counts them for fee-aware entries: the fill
/// model's (`[paper]`) in paper runs and backtests; at the exchange they
/// should be the account's commission rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Costs {
    /// Fee of a taking fill, as a fraction of notional.
    pub taker_fee: Rate,
    /// Fee of a resting fill.
    pub maker_fee: Rate,
    /// Adverse ticks of each taking fill.
    pub slippage_ticks: u32,
}

impl Default for Costs {
    /// Binance USD-M's base tier: 4 bp taker, 2 bp maker.
    fn default() -> Self {
        Costs {
            taker_fee: Rate::from_raw(40_000),
            maker_fee: Rate::from_raw(20_000),
            slippage_ticks: 0,
        }
    }
}

impl CoreConfig {
    /// Assembles the core's configuration from validated sections.
    pub fn new(
        instruments: &[InstrumentConfig],
        strategy: StrategyConfig,
        risk: RiskConfig,
        control: ControlConfig,
        account: AccountConfig,
        dry_run: bool,
    ) -> CoreConfig {
        CoreConfig {
            instruments: self::instruments(instruments),
            brackets: instruments
                .iter()
                .map(|c| c.bracket_table().unwrap_or_default())
                .collect(),
            strategy,
            risk,
            control,
            account,
            dry_run,
            costs: Costs::default(),
            models: Vec::new(),
        }
    }
}
